// The Consumer's failures, by construction, against a scripted cluster on loopback (one broker that is
// also the group coordinator): destroying a Consumer while each of its operations is in flight, an
// exception escaping its background work, rebalance listeners that throw, and whose error text an
// application reads after a failed commit. A real broker cannot be made to hold one request forever, or
// to answer a Fetch with an error at a chosen moment; this one can.
//
// The fake speaks only versions before the flexible ones, so it stays small. It serves topic "t" with
// one empty partition. As group coordinator it makes every joining member the leader of generation 1 and
// hands it back the assignment it computed. API keys in `hold` are read and never answered, and nothing
// after them on that connection either (responses go out in order), so an operation stays in flight.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include "../../consumer/src/consumer_core.hpp"  // ConsumerInternals, for the exception test
#include "kafkawire/consumer/blocking.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/fetch.hpp"
#include "kafkawire/protocol/find_coordinator.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/heartbeat.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/leave_group.hpp"
#include "kafkawire/protocol/list_offsets.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "kafkawire/protocol/offset_commit.hpp"
#include "kafkawire/protocol/offset_fetch.hpp"
#include "kafkawire/protocol/sync_group.hpp"

namespace kafkawire {
// Reaches the Core the way its own background work does: what a coroutine given to spawn() throws.
struct ConsumerInternals {
  static void spawn_throwing(Consumer& c, std::string what) {
    c.core_->spawn([what]() -> asio::awaitable<void> {
      throw std::runtime_error(what);
      co_return;
    });
  }
};
}  // namespace kafkawire

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
namespace proto = kafkawire::protocol;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct FakeCluster {
  explicit FakeCluster(asio::io_context& io) : io(io) {}

  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::set<int16_t> hold;          // API keys never answered (nor anything after them on that connection)
  std::map<int16_t, int> arrived;  // requests read, by API key
  kafka_errc commit_error = kafka_errc::none;  // every partition of every OffsetCommit
  kafka_errc fetch_error = kafka_errc::none;   // every partition of every Fetch, after fetch_delay
  std::chrono::milliseconds fetch_delay{50};
  std::vector<uint8_t> assignment;  // what the leader's SyncGroup gave itself
  std::vector<std::shared_ptr<tcp::socket>> sockets;

  uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port()); }
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
    bool stalled = false;
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
      ++arrived[key];
      if (hold.count(key)) stalled = true;
      if (stalled) continue;
      proto::Reader r{proto::Bytes(req)};
      proto::RequestHeader h;
      REQUIRE_FALSE(proto::decode(r, h, key == proto::kApiVersionsKey && version >= 3 ? 2 : 1));
      proto::Writer w;
      w.i32(0);
      w.i32(h.correlation_id);
      answer(key, version, r, w);
      if (key == proto::FetchRequest::api_key) {
        asio::steady_timer t(io, fetch_delay);
        co_await t.async_wait(nothrow);
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      auto [e3, n3] = co_await asio::async_write(*sock, asio::buffer(w.buffer()), nothrow);
      if (e3) co_return;
    }
  }

  void answer(int16_t key, int16_t version, proto::Reader& r, proto::Writer& w) {
    switch (key) {
      case proto::kApiVersionsKey: {
        proto::ApiVersionsResponse resp;
        resp.api_keys = {{proto::FetchRequest::api_key, 4, 11},
                         {proto::ListOffsetsRequest::api_key, 1, 5},
                         {proto::MetadataRequest::api_key, 1, 8},
                         {proto::OffsetCommitRequest::api_key, 2, 7},
                         {proto::OffsetFetchRequest::api_key, 1, 5},
                         {proto::FindCoordinatorRequest::api_key, 0, 2},
                         {proto::JoinGroupRequest::api_key, 0, 5},
                         {proto::HeartbeatRequest::api_key, 0, 3},
                         {proto::LeaveGroupRequest::api_key, 0, 3},
                         {proto::SyncGroupRequest::api_key, 0, 3},
                         {proto::kApiVersionsKey, 0, 3}};
        proto::encode(w, resp, std::min<int16_t>(version, 3));
        return;
      }
      case proto::MetadataRequest::api_key: {
        proto::MetadataRequest m;
        REQUIRE_FALSE(proto::decode(r, m, version));
        proto::MetadataResponse resp;
        resp.brokers.push_back({0, "127.0.0.1", port(), std::nullopt});
        resp.cluster_id = "fake";
        resp.controller_id = 0;
        for (const auto& t : *m.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          if (t.name != "t") {
            rt.error_code = static_cast<int16_t>(kafka_errc::unknown_topic_or_partition);
            continue;
          }
          proto::MetadataResponse::MetadataResponsePartition mp;
          mp.partition_index = 0;
          mp.leader_id = 0;
          mp.leader_epoch = 0;
          mp.replica_nodes = {0};
          mp.isr_nodes = {0};
          rt.partitions.push_back(mp);
        }
        proto::encode(w, resp, version);
        return;
      }
      case proto::FindCoordinatorRequest::api_key: {
        proto::FindCoordinatorResponse resp;
        resp.node_id = 0;
        resp.host = "127.0.0.1";
        resp.port = port();
        proto::encode(w, resp, version);
        return;
      }
      case proto::JoinGroupRequest::api_key: {
        proto::JoinGroupRequest j;
        REQUIRE_FALSE(proto::decode(r, j, version));
        REQUIRE_FALSE(j.protocols.empty());
        proto::JoinGroupResponse resp;
        resp.generation_id = 1;
        resp.protocol_name = j.protocols.front().name;
        resp.member_id = resp.leader = "member-1";
        resp.members.push_back({"member-1", std::nullopt, j.protocols.front().metadata});
        proto::encode(w, resp, version);
        return;
      }
      case proto::SyncGroupRequest::api_key: {
        proto::SyncGroupRequest s;
        REQUIRE_FALSE(proto::decode(r, s, version));
        for (const auto& a : s.assignments)
          if (a.member_id == s.member_id) assignment.assign(a.assignment.begin(), a.assignment.end());
        proto::SyncGroupResponse resp;
        resp.assignment = proto::Bytes(assignment.data(), assignment.size());
        proto::encode(w, resp, version);
        return;
      }
      case proto::HeartbeatRequest::api_key:
        proto::encode(w, proto::HeartbeatResponse{}, version);
        return;
      case proto::LeaveGroupRequest::api_key:
        proto::encode(w, proto::LeaveGroupResponse{}, version);
        return;
      case proto::OffsetFetchRequest::api_key: {
        proto::OffsetFetchRequest f;
        REQUIRE_FALSE(proto::decode(r, f, version));
        proto::OffsetFetchResponse resp;
        for (const auto& t : *f.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          for (int32_t p : t.partition_indexes) rt.partitions.push_back({p, -1, -1, "", 0});
        }
        proto::encode(w, resp, version);
        return;
      }
      case proto::OffsetCommitRequest::api_key: {
        proto::OffsetCommitRequest c;
        REQUIRE_FALSE(proto::decode(r, c, version));
        proto::OffsetCommitResponse resp;
        for (const auto& t : c.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          for (const auto& p : t.partitions)
            rt.partitions.push_back({p.partition_index, static_cast<int16_t>(commit_error)});
        }
        proto::encode(w, resp, version);
        return;
      }
      case proto::ListOffsetsRequest::api_key: {
        proto::ListOffsetsRequest l;
        REQUIRE_FALSE(proto::decode(r, l, version));
        proto::ListOffsetsResponse resp;
        for (const auto& t : l.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          for (const auto& p : t.partitions) rt.partitions.push_back({p.partition_index, 0, -1, 0, 0});
        }
        proto::encode(w, resp, version);
        return;
      }
      case proto::FetchRequest::api_key: {
        proto::FetchRequest f;
        REQUIRE_FALSE(proto::decode(r, f, version));
        proto::FetchResponse resp;  // no session: every Fetch is a full one
        for (const auto& t : f.topics) {
          auto& rt = resp.responses.emplace_back();
          rt.topic = t.topic;
          for (const auto& p : t.partitions) {
            proto::FetchResponse::PartitionData pd;
            pd.partition_index = p.partition;
            pd.error_code = static_cast<int16_t>(fetch_error);
            pd.high_watermark = pd.last_stable_offset = 0;
            pd.log_start_offset = 0;
            rt.partitions.push_back(pd);
          }
        }
        proto::encode(w, resp, version);
        return;
      }
      default:
        FAIL("unexpected API key " << key);
    }
  }
};

Config config_of(const FakeCluster& k, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> kv{
      {"bootstrap.servers", k.bootstrap()}, {"group.id", "billing"},      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"},    {"fetch.max.wait.ms", "100"}, {"retry.backoff.ms", "20"},
      {"heartbeat.interval.ms", "100"}};
  for (auto& [key, v] : extra) kv[key] = v;
  return Config(kv);
}

// Runs the io_context one handler at a time until `done` (checked after each), or a bound passes.
template <class F>
bool run_while_not(asio::io_context& io, F done, std::chrono::milliseconds bound = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(5ms);
  }
  return done();
}

void run_for(asio::io_context& io, std::chrono::milliseconds d) {
  run_while_not(
      io, [] { return false; }, d);
}

const TopicPartition tp0{"t", 0};

// Polls until the group assigned t-0 to this member (its only member).
void join(asio::io_context& io, Consumer& c) {
  c.subscribe(std::vector<std::string>{"t"});
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (c.assignment().empty() && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(100ms, asio::use_future);
    while (f.wait_for(0s) != std::future_status::ready) {
      io.restart();
      io.run_one_for(5ms);
    }
    auto [ec, records] = f.get();
    REQUIRE_FALSE(ec);
  }
  REQUIRE(c.assignment() == std::vector<TopicPartition>{tp0});
}

// Starts `start` (an async operation of the consumer that completes with an error first), waits until
// the fake holds the request of API key `held`, destroys the consumer, and checks the operation completed
// with operation_aborted, and that what runs after (the fake closing its sockets) touches no freed memory.
template <class Start>
void destroy_while_in_flight(asio::io_context& io, FakeCluster& k, std::unique_ptr<Consumer>& c, int16_t held,
                             Start start) {
  k.hold.insert(held);
  const int before = k.arrived[held];
  std::optional<std::error_code> result;
  start(*c, result);
  REQUIRE(run_while_not(io, [&] { return k.arrived[held] > before; }));
  run_for(io, 20ms);
  REQUIRE_FALSE(result);  // still in flight
  c.reset();
  REQUIRE(run_while_not(io, [&] { return result.has_value(); }));
  CHECK(*result == client_errc::operation_aborted);
  k.stop();
  run_for(io, 200ms);
}

}  // namespace

TEST_CASE("destroying a Consumer while poll waits for a Fetch completes it with operation_aborted",
          "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  c->assign({tp0});
  c->seek(tp0, 0);
  destroy_while_in_flight(io, k, c, proto::FetchRequest::api_key, [](Consumer& c, auto& result) {
    c.async_poll(10s, [&result](std::error_code ec, std::span<const Record>) { result = ec; });
  });
}

TEST_CASE("destroying a Consumer while poll waits for metadata completes it with operation_aborted",
          "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  c->assign({tp0});
  destroy_while_in_flight(io, k, c, proto::MetadataRequest::api_key, [](Consumer& c, auto& result) {
    c.async_poll(10s, [&result](std::error_code ec, std::span<const Record>) { result = ec; });
  });
}

TEST_CASE(
    "destroying a Consumer while commit waits (assigned partitions) completes it with operation_aborted",
    "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  c->assign({tp0});
  destroy_while_in_flight(io, k, c, proto::OffsetCommitRequest::api_key, [](Consumer& c, auto& result) {
    c.async_commit({{tp0, 5}}, [&result](std::error_code ec) { result = ec; });
  });
}

TEST_CASE("destroying a group member while commit waits completes it with operation_aborted",
          "[consumer][destroy][group]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  join(io, *c);
  destroy_while_in_flight(io, k, c, proto::OffsetCommitRequest::api_key, [](Consumer& c, auto& result) {
    c.async_commit({{tp0, 5}}, [&result](std::error_code ec) { result = ec; });
  });
}

TEST_CASE("destroying a Consumer while committed waits completes it with operation_aborted",
          "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  destroy_while_in_flight(io, k, c, proto::OffsetFetchRequest::api_key, [](Consumer& c, auto& result) {
    c.async_committed({tp0}, [&result](std::error_code ec, auto) { result = ec; });
  });
}

TEST_CASE("destroying a Consumer while offsets_for_times waits completes it with operation_aborted",
          "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  destroy_while_in_flight(io, k, c, proto::ListOffsetsRequest::api_key, [](Consumer& c, auto& result) {
    c.async_offsets_for_times({{tp0, 1700000000000}}, [&result](std::error_code ec, auto) { result = ec; });
  });
}

TEST_CASE("destroying a Consumer while list_offsets waits completes it with operation_aborted",
          "[consumer][destroy]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  destroy_while_in_flight(io, k, c, proto::ListOffsetsRequest::api_key, [](Consumer& c, auto& result) {
    c.async_list_offsets({tp0}, proto::ListOffsetsRequest::kLatestTimestamp,
                         [&result](std::error_code ec, auto) { result = ec; });
  });
}

TEST_CASE("destroying a group member while close waits for LeaveGroup completes it with operation_aborted",
          "[consumer][destroy][group]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  auto c = std::make_unique<Consumer>(io.get_executor(), config_of(k));
  bool revoked = false;
  c->set_rebalance_listener({.on_revoked = [&](const auto&) { revoked = true; }});
  join(io, *c);
  destroy_while_in_flight(io, k, c, proto::LeaveGroupRequest::api_key, [](Consumer& c, auto& result) {
    c.async_close([&result](std::error_code ec) { result = ec; });
  });
  CHECK(revoked);  // close revoked before it left
}

TEST_CASE("an exception escaping the consumer's background work closes it and reaches poll",
          "[consumer][exception]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  Consumer c(io.get_executor(), config_of(k));
  c.assign({tp0});
  c.seek(tp0, 0);
  std::optional<std::error_code> polled;
  c.async_poll(10s, [&](std::error_code ec, std::span<const Record>) { polled = ec; });
  REQUIRE(run_while_not(io, [&] { return k.arrived[proto::FetchRequest::api_key] > 0; }));

  ConsumerInternals::spawn_throwing(c, "boom: a bug in the fetch path");
  REQUIRE(run_while_not(
      io, [&] { return polled.has_value(); }, 2000ms));  // the waiting poll, not at 10 s
  CHECK(*polled == client_errc::internal_error);
  CHECK_THAT(c.error_text(), Catch::Contains("boom: a bug in the fetch path"));

  // Closed: the next operations fail the same way at once.
  auto f = c.async_poll(10s, asio::use_future);
  REQUIRE(run_while_not(
      io, [&] { return f.wait_for(0s) == std::future_status::ready; }, 500ms));
  CHECK(std::get<0>(f.get()) == client_errc::internal_error);
  std::optional<std::error_code> committed;
  c.async_commit({{tp0, 1}}, [&](std::error_code ec) { committed = ec; });
  REQUIRE(run_while_not(
      io, [&] { return committed.has_value(); }, 500ms));
  CHECK(*committed == client_errc::internal_error);
  k.stop();
}

TEST_CASE("a throwing on_assigned: the assignment stands, the member is stable, the exception reaches poll",
          "[consumer][listener][group]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  Consumer c(io.get_executor(), config_of(k));
  int calls = 0;
  c.set_rebalance_listener({.on_assigned = [&](const std::vector<TopicPartition>& tps) {
    ++calls;
    if (!tps.empty()) throw std::runtime_error("cannot open the store for t-0");
  }});
  c.subscribe(std::vector<std::string>{"t"});
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ec && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(100ms, asio::use_future);
    REQUIRE(run_while_not(io, [&] { return f.wait_for(0s) == std::future_status::ready; }));
    ec = std::get<0>(f.get());
  }
  CHECK(ec == client_errc::listener_failed);
  CHECK_THAT(c.error_text(), Catch::Contains("on_assigned(t-0)") && Catch::Contains("cannot open the store"));
  auto thrown = c.take_listener_exception();
  REQUIRE(thrown);
  CHECK_THROWS_WITH(std::rethrow_exception(thrown), "cannot open the store for t-0");
  CHECK_FALSE(c.take_listener_exception());  // handed over once
  CHECK(calls == 1);
  CHECK(c.assignment() == std::vector<TopicPartition>{tp0});
  REQUIRE(run_while_not(io, [&] { return c.membership()->state() == group::State::stable; }));

  // Reported once: the next poll goes on normally.
  auto f = c.async_poll(200ms, asio::use_future);
  REQUIRE(run_while_not(io, [&] { return f.wait_for(0s) == std::future_status::ready; }));
  CHECK_FALSE(std::get<0>(f.get()));
  k.stop();
  run_for(io, 100ms);
}

TEST_CASE("a throwing on_revoked: the member does not stay revoking, the exception reaches poll",
          "[consumer][listener][group]") {
  asio::io_context io;
  FakeCluster k(io);
  k.start();
  Consumer c(io.get_executor(), config_of(k));
  std::vector<TopicPartition> revoked;
  c.set_rebalance_listener({.on_revoked = [&](const std::vector<TopicPartition>& tps) {
    revoked = tps;
    throw std::runtime_error("flush failed");
  }});
  join(io, c);

  c.unsubscribe();  // the member revokes t-0
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ec && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(100ms, asio::use_future);
    REQUIRE(run_while_not(io, [&] { return f.wait_for(0s) == std::future_status::ready; }));
    ec = std::get<0>(f.get());
  }
  CHECK(revoked == std::vector<TopicPartition>{tp0});
  CHECK(ec == client_errc::listener_failed);
  CHECK_THAT(c.error_text(), Catch::Contains("on_revoked(t-0)") && Catch::Contains("flush failed"));
  CHECK_THROWS_WITH(std::rethrow_exception(c.take_listener_exception()), "flush failed");
  // The rebalance went on: the partition is gone and the member moved past revoking.
  CHECK(c.assignment().empty());
  CHECK(run_while_not(io, [&] { return c.membership()->state() != group::State::revoking; }));
  CHECK(c.membership()->state() != group::State::revoking);
  k.stop();
  run_for(io, 100ms);
}

TEST_CASE("BlockingConsumer::poll rethrows what a rebalance listener threw", "[consumer][listener][group]") {
  // The blocking facade runs its own io_context on the caller's thread; the fake gets a thread of its own.
  asio::io_context fake_io;
  FakeCluster k(fake_io);
  k.start();
  auto guard = asio::make_work_guard(fake_io);
  std::thread fake_thread([&] { fake_io.run(); });
  {
    BlockingConsumer c(config_of(k));
    c.set_rebalance_listener({.on_assigned = [](const std::vector<TopicPartition>& tps) {
      if (!tps.empty()) throw std::logic_error("the application's own exception");
    }});
    c.subscribe(std::vector<std::string>{"t"});
    bool thrown = false;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!thrown && std::chrono::steady_clock::now() < deadline) {
      try {
        (void)c.poll(100ms);
      } catch (const std::logic_error& e) {
        thrown = true;
        CHECK(std::string(e.what()) == "the application's own exception");
      }
    }
    CHECK(thrown);
    CHECK(c.assignment() == std::vector<TopicPartition>{tp0});
  }
  asio::post(fake_io, [&] { k.stop(); });
  guard.reset();
  fake_io.stop();
  fake_thread.join();
}

TEST_CASE("a failed commit's error text is not replaced by a background Fetch error",
          "[consumer][error_text]") {
  asio::io_context io;
  FakeCluster k(io);
  k.commit_error = kafka_errc::group_authorization_failed;
  k.fetch_error = kafka_errc::topic_authorization_failed;
  k.fetch_delay = 300ms;  // the Fetch fails after the commit did
  k.start();
  Consumer c(io.get_executor(), config_of(k));
  c.assign({tp0});
  c.seek(tp0, 0);
  auto f = c.async_poll(50ms, asio::use_future);  // sends the Fetch and returns before its answer
  REQUIRE(run_while_not(io, [&] { return f.wait_for(0s) == std::future_status::ready; }));
  REQUIRE_FALSE(std::get<0>(f.get()));
  REQUIRE(k.arrived[proto::FetchRequest::api_key] == 1);

  std::optional<std::error_code> committed;
  c.async_commit({{tp0, 0}}, [&](std::error_code ec) { committed = ec; });
  REQUIRE(run_while_not(io, [&] { return committed.has_value(); }));
  CHECK(*committed == kafka_errc::group_authorization_failed);
  const std::string commit_text = c.error_text();
  CHECK_THAT(commit_text, Catch::Contains("commit") && Catch::Contains("t-0"));
  // The Fetch fails in the background meanwhile; the application reads the text of its commit later.
  run_for(io, 500ms);
  CHECK(c.error_text() == commit_text);

  // The Fetch error is the next poll's, with its own text.
  auto g = c.async_poll(1000ms, asio::use_future);
  REQUIRE(run_while_not(io, [&] { return g.wait_for(0s) == std::future_status::ready; }));
  CHECK(std::get<0>(g.get()) == kafka_errc::topic_authorization_failed);
  CHECK_THAT(c.error_text(), Catch::Contains("Fetch"));
  k.stop();
  run_for(io, 100ms);
}
