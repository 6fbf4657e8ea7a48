// The fetch path when the assignment changes under a Fetch that is still connecting.
#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

TEST_CASE("partitions taken away while their Fetch connects are not fetched", "[broker][consumer]") {
  asio::io_context io;
  const std::string topic = unique("kw-fetch-race");
  create_topic(io, topic, 2);
  produce(io, topic, 2, 20);
  Consumer c(io.get_executor(), base_config({{"auto.offset.reset", "earliest"}}));
  // A poll that ends as soon as it has started the Fetch of partition 0: the Fetch is still waiting for
  // its new connection when partition 0 is replaced by partition 1 (a group rebalance revoking partitions
  // does the same). When the connection is ready, the Fetch must not touch partition 0's state.
  c.assign({{topic, 0}});
  auto f = c.async_poll(0ms, asio::use_future);
  // One handler at a time, stopping as soon as the poll is done (run_until would run on for a few
  // milliseconds, long enough for a local connection to be ready).
  while (f.wait_for(0s) != std::future_status::ready) io.run_one_for(5s);
  auto [ec, records] = f.get();
  REQUIRE_FALSE(ec);
  c.assign({{topic, 1}});
  c.seek({topic, 1}, 0);
  // Partition 1 is still fetched: all of its 10 records arrive.
  size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (n < 10 && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(200ms, asio::use_future);
    auto [ec, records] = run_until(io, f);
    INFO(c.error_text());
    REQUIRE_FALSE(ec);
    for (const auto& r : records) {
      CHECK(r.partition() == 1);
      ++n;
    }
  }
  CHECK(n == 10);
}
