// Admin's CreateTopics and DeleteTopics against a scripted two-broker cluster on loopback: each
// CreateTopics is answered with the next per-topic errors of a script, which a real cluster cannot be made
// to do on demand (NOT_CONTROLLER after the controller moved, an endless NOT_CONTROLLER, an answer that
// must not be retried). Metadata names broker 1 as the controller until broker 1 has answered
// NOT_CONTROLLER, then broker 2.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <memory>

#include "kafkawire/consumer/admin.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/create_topics.hpp"
#include "kafkawire/protocol/delete_topics.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
using kafkawire::testing::run_until;
namespace proto = kafkawire::protocol;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

// Two brokers (node ids 1 and 2, one listening socket each) speaking ApiVersions, Metadata v8,
// CreateTopics v4 and DeleteTopics v3: versions before the flexible ones, so the fake stays small.
struct FakeCluster {
  explicit FakeCluster(asio::io_context& io) : io(io) {}

  asio::io_context& io;
  tcp::acceptor acceptors[2] = {tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
                                tcp::acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0))};
  int32_t controller = 1;
  // Per CreateTopics/DeleteTopics request: topic -> error (a topic not named: success). None left: success.
  std::deque<std::map<std::string, kafka_errc>> script;
  int metadata_requests = 0;
  std::vector<std::pair<int32_t, std::vector<std::string>>> requests;  // (node, topics) per Create/Delete
  std::vector<std::shared_ptr<tcp::socket>> sockets;

  uint16_t port(int32_t node) const { return acceptors[node - 1].local_endpoint().port(); }
  void start() {
    for (int32_t node : {1, 2}) asio::co_spawn(io, accept(node), asio::detached);
  }
  void stop() {
    for (auto& a : acceptors) a.close();
    for (auto& s : sockets) s->close();
  }

  asio::awaitable<void> accept(int32_t node) {
    for (;;) {
      auto [ec, sock] = co_await acceptors[node - 1].async_accept(nothrow);
      if (ec) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      sockets.push_back(s);
      asio::co_spawn(io, serve(s, node), asio::detached);
    }
  }

  // The errors of the next Create/Delete for `topic`; NOT_CONTROLLER moves the controller to broker 2.
  int16_t next_error(const std::map<std::string, kafka_errc>& errors, const std::string& topic) {
    auto it = errors.find(topic);
    if (it == errors.end()) return 0;
    if (it->second == kafka_errc::not_controller) controller = 2;
    return static_cast<int16_t>(it->second);
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock, int32_t node) {
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
        resp.api_keys = {{proto::MetadataRequest::api_key, 1, 8},
                         {proto::CreateTopicsRequest::api_key, 2, 4},
                         {proto::DeleteTopicsRequest::api_key, 1, 3},
                         {proto::kApiVersionsKey, 0, 3}};
        proto::encode(w, resp, std::min<int16_t>(version, 3));
      } else if (key == proto::MetadataRequest::api_key) {
        ++metadata_requests;
        proto::MetadataResponse resp;
        for (int32_t id : {1, 2}) resp.brokers.push_back({id, "127.0.0.1", port(id), std::nullopt});
        resp.controller_id = controller;
        proto::encode(w, resp, version);
      } else if (key == proto::CreateTopicsRequest::api_key) {
        proto::CreateTopicsRequest c;
        REQUIRE_FALSE(proto::decode(r, c, version));
        auto errors = script.empty() ? std::map<std::string, kafka_errc>{} : script.front();
        if (!script.empty()) script.pop_front();
        auto& seen = requests.emplace_back(node, std::vector<std::string>{}).second;
        proto::CreateTopicsResponse resp;
        for (const auto& t : c.topics) {
          seen.push_back(t.name);
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          rt.error_code = next_error(errors, t.name);
          rt.error_message = rt.error_code ? "scripted " + std::to_string(rt.error_code) + " for " + t.name
                                           : std::optional<std::string>();
        }
        proto::encode(w, resp, version);
      } else if (key == proto::DeleteTopicsRequest::api_key) {
        proto::DeleteTopicsRequest d;
        REQUIRE_FALSE(proto::decode(r, d, version));
        auto errors = script.empty() ? std::map<std::string, kafka_errc>{} : script.front();
        if (!script.empty()) script.pop_front();
        auto& seen = requests.emplace_back(node, std::vector<std::string>{}).second;
        proto::DeleteTopicsResponse resp;
        for (const auto& name : d.topic_names) {
          seen.push_back(name);
          auto& rt = resp.responses.emplace_back();
          rt.name = name;
          rt.error_code = next_error(errors, name);
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

Config config_of(const FakeCluster& fake, const std::string& timeout_ms) {
  return Config{{"bootstrap.servers", "127.0.0.1:" + std::to_string(fake.port(1))},
                {"default.api.timeout.ms", timeout_ms},
                {"retry.backoff.ms", "10"},
                {"reconnect.backoff.max.ms", "40"}};
}

template <class T>
std::tuple<std::error_code, AdminResult<T>> run(asio::io_context& io, net::Pool::Result<AdminResult<T>> op) {
  auto f = asio::co_spawn(io, std::move(op), asio::use_future);
  return run_until(io, f, 10s);
}

std::vector<NewTopic> two_topics() {
  return {NewTopic{.name = "orders", .partitions = 3, .replication_factor = 1},
          NewTopic{.name = "payments", .partitions = 1, .replication_factor = 1}};
}

}  // namespace

TEST_CASE("Admin: NOT_CONTROLLER refreshes the metadata and sends that topic to the new controller",
          "[admin]") {
  asio::io_context io;
  FakeCluster fake(io);
  fake.script = {{{"orders", kafka_errc::not_controller}, {"payments", kafka_errc::topic_already_exists}}};
  fake.start();
  Admin admin(io.get_executor(), config_of(fake, "5000"));
  auto [ec, r] = run(io, admin.create_topics(two_topics()));
  INFO(r.error_text);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].name == "orders");
  CHECK_FALSE(r.topics[0].ec);
  // An answer that is not retried stays the topic's answer, with the broker's message.
  CHECK(r.topics[1].ec == kafka_errc::topic_already_exists);
  CHECK(r.topics[1].error_message == "scripted 36 for payments");
  CHECK(ec == kafka_errc::topic_already_exists);
  CHECK(r.error_text == "payments: TOPIC_ALREADY_EXISTS: scripted 36 for payments");
  // First to broker 1 with both topics; then only the one that met NOT_CONTROLLER, to broker 2.
  REQUIRE(fake.requests.size() == 2);
  CHECK(fake.requests[0] == std::pair<int32_t, std::vector<std::string>>{1, {"orders", "payments"}});
  CHECK(fake.requests[1] == std::pair<int32_t, std::vector<std::string>>{2, {"orders"}});
  // Once at the start, once after NOT_CONTROLLER.
  CHECK(fake.metadata_requests == 2);
  fake.stop();
}

TEST_CASE("Admin: a topic's answer that is retriable elsewhere is final for CreateTopics and DeleteTopics",
          "[admin]") {
  asio::io_context io;
  FakeCluster fake(io);
  // REQUEST_TIMED_OUT (the controller may still create it) and UNKNOWN_TOPIC_OR_PARTITION (the answer to a
  // delete, not stale metadata) are retriable in Kafka's hierarchy; sending them again would be wrong.
  fake.script = {{{"orders", kafka_errc::request_timed_out}},
                 {{"orders", kafka_errc::unknown_topic_or_partition}}};
  fake.start();
  Admin admin(io.get_executor(), config_of(fake, "5000"));
  auto [ec, r] = run(io, admin.create_topics({two_topics()[0]}));
  CHECK(ec == kafka_errc::request_timed_out);
  auto [dec, d] = run(io, admin.delete_topics({"orders"}));
  CHECK(dec == kafka_errc::unknown_topic_or_partition);
  REQUIRE(d.topics.size() == 1);
  CHECK(d.error_text.find("orders: UNKNOWN_TOPIC_OR_PARTITION") == 0);
  CHECK(fake.requests.size() == 2);  // one each
  fake.stop();
}

TEST_CASE("Admin: NOT_CONTROLLER until the deadline ends with that answer, in time", "[admin]") {
  asio::io_context io;
  FakeCluster fake(io);
  for (int i = 0; i < 1000; ++i) fake.script.push_back({{"orders", kafka_errc::not_controller}});
  fake.start();
  Admin admin(io.get_executor(), config_of(fake, "300"));
  const auto start = std::chrono::steady_clock::now();
  auto [ec, r] = run(io, admin.create_topics({two_topics()[0]}));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(ec == kafka_errc::not_controller);
  CHECK(r.error_text.find("orders: NOT_CONTROLLER") == 0);
  CHECK(fake.requests.size() > 3);  // 10, 20, 40, 40, ... ms apart
  CHECK(took >= 300ms);
  CHECK(took < 3s);
  fake.stop();
}
