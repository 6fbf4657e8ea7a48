// read_committed against transactions written by the Java producer.
#include "helpers.hpp"
#include "java_peers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {
std::vector<std::string> read_all(asio::io_context& io, Consumer& c, size_t expect) {
  std::vector<std::string> values;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(300ms, asio::use_future);
    auto [ec, records] = run_until(io, f);
    INFO(c.error_text());
    REQUIRE_FALSE(ec);
    for (const auto& r : records) values.emplace_back(r.value()->str());
    if (values.size() >= expect && records.empty()) break;
  }
  return values;
}
}  // namespace

TEST_CASE("read_committed skips the Java producer's aborted transaction; read_uncommitted does not",
          "[broker][consumer][transactions]") {
  asio::io_context io;
  const std::string topic = unique("kw-txn");
  create_topic(io, topic, 1);
  auto [status, out] =
      kafkawire::testing::run_java_peer("TxnProducer", kafkawire::testing::bootstrap() + " " + topic);
  INFO(out);
  REQUIRE(status == 0);

  Consumer committed(io.get_executor(),
                     base_config({{"auto.offset.reset", "earliest"}, {"isolation.level", "read_committed"}}));
  committed.assign({{topic, 0}});
  auto values = read_all(io, committed, 10);
  std::vector<std::string> expected;
  for (const char* prefix : {"c1", "c2"})
    for (int i = 0; i < 5; ++i) expected.push_back(std::string(prefix) + "-" + std::to_string(i));
  CHECK(values == expected);
  // Past the markers: 15 records + 3 control batches = offsets 0..17, so the position is 18.
  CHECK(committed.position({topic, 0}) == 18);

  Consumer all(io.get_executor(), base_config({{"auto.offset.reset", "earliest"}}));
  all.assign({{topic, 0}});
  auto everything = read_all(io, all, 15);
  CHECK(everything.size() == 15);
  CHECK(std::count_if(everything.begin(), everything.end(),
                      [](const std::string& v) { return v[0] == 'a'; }) == 5);
}
