// Requests to a group coordinator (net/coordinator_request.hpp, through the offset client) against a
// scripted coordinator on loopback: it answers each OffsetCommit with the next error of a script, which a
// real broker cannot be made to do (NOT_COORDINATOR, then COORDINATOR_LOAD_IN_PROGRESS, then success).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <memory>

#include "kafkawire/consumer/offset_client.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/find_coordinator.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/offset_commit.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
using kafkawire::testing::run_until;
namespace proto = kafkawire::protocol;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Speaks ApiVersions, FindCoordinator v2 (itself as node 1) and OffsetCommit v7: versions before the
// flexible ones, so the fake stays small. Every request is answered in order.
struct FakeCoordinator {
  explicit FakeCoordinator(asio::io_context& io) : io(io) {}

  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::deque<kafka_errc> commit_errors;  // one per OffsetCommit; none left: success
  int find_coordinator_requests = 0;
  int offset_commit_requests = 0;
  std::vector<std::shared_ptr<tcp::socket>> sockets;

  uint16_t port() const { return acceptor.local_endpoint().port(); }
  void start() { asio::co_spawn(io, accept(), asio::detached); }
  void stop() {
    acceptor.close();
    for (auto& s : sockets) s->close();
  }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(nothrow);
      if (ec) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      sockets.push_back(s);
      asio::co_spawn(io, serve(s), asio::detached);
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock) {
    for (;;) {
      uint8_t size_bytes[4];
      auto [e1, n1] = co_await asio::async_read(*sock, asio::buffer(size_bytes), nothrow);
      if (e1) co_return;
      std::vector<uint8_t> req(uint32_t{size_bytes[0]} << 24 | uint32_t{size_bytes[1]} << 16 |
                               uint32_t{size_bytes[2]} << 8 | size_bytes[3]);
      auto [e2, n2] = co_await asio::async_read(*sock, asio::buffer(req), nothrow);
      if (e2 || req.size() < 4) co_return;
      const int16_t key = static_cast<int16_t>(req[0] << 8 | req[1]);
      const int16_t version = static_cast<int16_t>(req[2] << 8 | req[3]);
      proto::Reader r{proto::Bytes(req)};
      proto::RequestHeader h;
      REQUIRE_FALSE(proto::decode(r, h, key == proto::kApiVersionsKey && version >= 3 ? 2 : 1));
      proto::Writer w;
      w.i32(0);
      w.i32(h.correlation_id);
      if (key == proto::kApiVersionsKey) {
        proto::ApiVersionsResponse resp;
        resp.api_keys = {{proto::OffsetCommitRequest::api_key, 2, 7},
                         {proto::FindCoordinatorRequest::api_key, 0, 2},
                         {proto::kApiVersionsKey, 0, 3}};
        proto::encode(w, resp, std::min<int16_t>(version, 3));
      } else if (key == proto::FindCoordinatorRequest::api_key) {
        ++find_coordinator_requests;
        proto::FindCoordinatorResponse resp;
        resp.node_id = 1;
        resp.host = "127.0.0.1";
        resp.port = port();
        proto::encode(w, resp, version);
      } else if (key == proto::OffsetCommitRequest::api_key) {
        ++offset_commit_requests;
        proto::OffsetCommitRequest c;
        REQUIRE_FALSE(proto::decode(r, c, version));
        kafka_errc error = kafka_errc::none;
        if (!commit_errors.empty()) {
          error = commit_errors.front();
          commit_errors.pop_front();
        }
        proto::OffsetCommitResponse resp;
        for (const auto& t : c.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          for (const auto& p : t.partitions)
            rt.partitions.push_back({p.partition_index, static_cast<int16_t>(error)});
        }
        proto::encode(w, resp, version);
      } else {
        FAIL("unexpected API key " << key);
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      auto [e3, n3] = co_await asio::async_write(*sock, asio::buffer(w.buffer()), nothrow);
      if (e3) co_return;
    }
  }
};

OffsetClient client_of(asio::io_context& io, const FakeCoordinator& fake, std::chrono::milliseconds timeout) {
  net::PoolOptions po;
  po.bootstrap = {{"127.0.0.1", fake.port()}};
  OffsetClientOptions o;
  o.group_id = "billing";
  o.timeout = timeout;
  o.retry_backoff = 10ms;
  o.retry_backoff_max = 40ms;
  return OffsetClient(net::Pool::create(io.get_executor(), po), o);
}

OffsetResult<OffsetClient::CommitOutcomes> commit(asio::io_context& io, const OffsetClient& client) {
  std::vector<group::OffsetToCommit> offsets = {{{"orders", 0}, 42, -1, ""}, {{"orders", 1}, 7, -1, ""}};
  auto f = asio::co_spawn(io, client.commit(std::move(offsets)), asio::use_future);
  return run_until(io, f, 10s);
}

}  // namespace

TEST_CASE("coordinator requests: a moved coordinator is found again, a loading one waited out",
          "[coordinator_request]") {
  asio::io_context io;
  FakeCoordinator fake(io);
  fake.commit_errors = {kafka_errc::not_coordinator, kafka_errc::coordinator_load_in_progress};
  fake.start();
  const auto r = commit(io, client_of(io, fake, 5s));
  INFO(r.error_text);
  CHECK_FALSE(r.ec);
  CHECK(r.error_text.empty());
  REQUIRE(r.value.size() == 2);
  CHECK_FALSE(r.value[0].ec);
  CHECK_FALSE(r.value[1].ec);
  CHECK(fake.offset_commit_requests == 3);
  // Asked once at the start and once after NOT_COORDINATOR; not after COORDINATOR_LOAD_IN_PROGRESS.
  CHECK(fake.find_coordinator_requests == 2);
  fake.stop();
}

TEST_CASE("coordinator requests: an error the policy does not retry ends the call at once, named",
          "[coordinator_request]") {
  asio::io_context io;
  FakeCoordinator fake(io);
  fake.commit_errors = {kafka_errc::offset_metadata_too_large};
  fake.start();
  const auto r = commit(io, client_of(io, fake, 5s));
  CHECK(r.ec == kafka_errc::offset_metadata_too_large);
  CHECK(fake.offset_commit_requests == 1);
  CHECK(r.error_text.find("orders-0, orders-1: OFFSET_METADATA_TOO_LARGE") != std::string::npos);
  fake.stop();
}

TEST_CASE("coordinator requests: retries stop at the call's deadline with the last answer",
          "[coordinator_request]") {
  asio::io_context io;
  FakeCoordinator fake(io);
  fake.commit_errors.assign(1000, kafka_errc::coordinator_load_in_progress);
  fake.start();
  const auto start = std::chrono::steady_clock::now();
  const auto r = commit(io, client_of(io, fake, 300ms));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.ec == kafka_errc::coordinator_load_in_progress);
  CHECK(r.error_text.find("COORDINATOR_LOAD_IN_PROGRESS") != std::string::npos);
  CHECK(fake.offset_commit_requests > 3);  // 10, 20, 40, 40, ... ms apart
  CHECK(took >= 300ms);
  CHECK(took < 2s);
  fake.stop();
}
