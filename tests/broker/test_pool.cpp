// The Pool against the real broker: bootstrap, metadata, coordinator lookup, separate connections.
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "broker_env.hpp"
#include "kafkawire/net/pool.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using kafkawire::testing::run_until;

namespace {
std::shared_ptr<net::Pool> make_pool(asio::io_context& io) {
  net::PoolOptions opts;
  REQUIRE_FALSE(net::parse_bootstrap(kafkawire::testing::bootstrap(), opts.bootstrap));
  return net::Pool::create(io.get_executor(), opts);
}
}  // namespace

TEST_CASE("bootstrap.servers parsing names the bad entry", "[net]") {
  std::vector<std::pair<std::string, uint16_t>> out;
  CHECK_FALSE(net::parse_bootstrap("a:1, b:65535,[::1]:9092", out));
  REQUIRE(out.size() == 3);
  CHECK(out[2].first == "::1");
  std::string problem;
  CHECK(net::parse_bootstrap("a:1,nohost", out, &problem) == client_errc::invalid_config);
  CHECK(problem.find("'nohost'") != std::string::npos);
  CHECK(net::parse_bootstrap("a:70000", out, &problem) == client_errc::invalid_config);
  CHECK(net::parse_bootstrap("", out, &problem) == client_errc::invalid_config);
}

TEST_CASE("metadata from the bootstrap broker fills the cache", "[broker][net]") {
  asio::io_context io;
  auto pool = make_pool(io);
  auto f = pool->async_refresh_metadata(std::nullopt, asio::use_future);
  auto ec = run_until(io, f);
  REQUIRE_FALSE(ec);
  REQUIRE_FALSE(pool->metadata().brokers().empty());
  CHECK(pool->metadata().cluster_id().has_value());
  const auto& [id, broker] = *pool->metadata().brokers().begin();
  CHECK(broker.host == "127.0.0.1");

  // A connection by real node id, and a separate one for fetch traffic.
  auto g = pool->async_connection(id, net::Purpose::general, asio::use_future);
  auto h = pool->async_connection(id, net::Purpose::fetch, asio::use_future);
  auto [e1, c1] = run_until(io, g);
  auto [e2, c2] = run_until(io, h);
  REQUIRE_FALSE(e1);
  REQUIRE_FALSE(e2);
  CHECK(c1 != c2);
  CHECK(c1->is_ready());
}

TEST_CASE("find the coordinator of a group, from the cache the second time", "[broker][net]") {
  asio::io_context io;
  auto pool = make_pool(io);
  net::BrokerInfo first;
  // The offsets topic may still be loading on a fresh broker: COORDINATOR_NOT_AVAILABLE is retriable.
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto f = pool->async_find_coordinator("kafkawire-test-group", asio::use_future);
    auto [ec, b] = run_until(io, f);
    if (!ec) {
      first = b;
      break;
    }
    INFO(ec.message());
    REQUIRE(is_retriable(ec));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  REQUIRE(first.node_id >= 0);
  auto f = pool->async_find_coordinator("kafkawire-test-group", asio::use_future);
  auto [ec, again] = run_until(io, f);
  CHECK_FALSE(ec);
  CHECK(again == first);
}

TEST_CASE("an unreachable bootstrap fails within a bound with a clear error", "[net]") {
  asio::io_context io;
  net::PoolOptions opts;
  opts.bootstrap = {{"127.0.0.1", 1}};
  opts.connection.connect_timeout = std::chrono::milliseconds(2000);
  auto pool = net::Pool::create(io.get_executor(), opts);
  const auto start = std::chrono::steady_clock::now();
  auto f = pool->async_refresh_metadata(std::nullopt, asio::use_future);
  auto ec = run_until(io, f);
  CHECK(ec);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  // The backoff grows and is jittered within +-20%.
  auto b1 = pool->backoff(1), b4 = pool->backoff(4), b20 = pool->backoff(20);
  CHECK(b1.count() >= 40);
  CHECK(b1.count() <= 60);
  CHECK(b4.count() >= 320);
  CHECK(b20.count() <= 1200);
}

TEST_CASE("a pool dropped without close() leaves no work behind", "[broker][net]") {
  asio::io_context io;
  {
    auto pool = make_pool(io);
    auto f = pool->async_refresh_metadata(std::nullopt, asio::use_future);
    REQUIRE_FALSE(run_until(io, f));
  }
  // With the connection's read loop still waiting on an open socket, run() would not return until the
  // broker dropped the idle connection (connections.max.idle.ms, 10 minutes by default).
  io.restart();
  io.run_for(std::chrono::seconds(10));
  CHECK(io.stopped());
}
