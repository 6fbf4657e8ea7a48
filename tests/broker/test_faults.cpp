// Faults on the single local broker: it is stopped while requests are in flight, then started again.
// Runs as its own ctest entry after the others (it stops the shared broker), and only when the tests
// started the broker themselves (not with KAFKAWIRE_BOOTSTRAP).
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <thread>

#include "broker_env.hpp"
#include "kafkawire/net/pool.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::run_until;

TEST_CASE("broker stopped with requests in flight: each fails clearly; restarted: the pool reconnects",
          "[faults]") {
  if (std::getenv("KAFKAWIRE_BOOTSTRAP")) {
    WARN("skipped: KAFKAWIRE_BOOTSTRAP names a broker these tests did not start");
    return;
  }
  const std::string script = KAFKAWIRE_SOURCE_DIR "/tools/broker/kafka-local";
  asio::io_context io;
  net::PoolOptions opts;
  REQUIRE_FALSE(net::parse_bootstrap(kafkawire::testing::bootstrap(), opts.bootstrap));
  opts.connection.request_timeout = 10s;
  auto pool = net::Pool::create(io.get_executor(), opts);
  auto f = pool->async_refresh_metadata(std::nullopt, asio::use_future);
  REQUIRE_FALSE(run_until(io, f));

  // Many requests in flight, then the broker goes away under them.
  std::vector<std::error_code> results;
  auto [e, conn] = [&] {
    auto g = pool->async_connection(-1, net::Purpose::general, asio::use_future);
    return run_until(io, g);
  }();
  REQUIRE_FALSE(e);
  constexpr int kRequests = 200;
  for (int i = 0; i < kRequests; ++i)
    conn->async_send(
        kafkawire::testing::api_versions_request(),
        [&](std::error_code ec, net::Reply<protocol::ApiVersionsResponse>) { results.push_back(ec); });
  std::thread stopper([&] { REQUIRE(std::system((script + " stop >/dev/null 2>&1").c_str()) == 0); });
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (results.size() < kRequests && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  stopper.join();
  REQUIRE(results.size() == kRequests);  // nothing hangs
  int failed = 0;
  for (auto& ec : results)
    if (ec) {
      ++failed;
      CHECK((ec == client_errc::disconnected || ec == client_errc::timeout));
    }
  INFO(failed << " of " << kRequests << " failed when the broker stopped");
  // Some may have been answered before the broker went; after it stopped a new request must fail.
  auto dead = pool->async_send(-1, net::Purpose::general, protocol::ApiVersionsRequest{}, asio::use_future);
  auto [dead_ec, dead_reply] = run_until(io, dead, 30s);
  CHECK(dead_ec);

  // Back again: the pool reconnects (with backoff) and requests succeed.
  REQUIRE(std::system((script + " start >/dev/null").c_str()) == 0);
  std::error_code last;
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto again = pool->async_send(-1, net::Purpose::general, kafkawire::testing::api_versions_request(),
                                  asio::use_future);
    auto [ec, reply] = run_until(io, again, 30s);
    last = ec;
    if (!ec) {
      CHECK(reply->error_code == 0);
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  CHECK_FALSE(last);
}
