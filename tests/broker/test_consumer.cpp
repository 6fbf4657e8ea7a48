// The Consumer and Producer against the real broker.
#include <boost/asio/co_spawn.hpp>

#include "helpers.hpp"
#include "kafkawire/protocol/list_offsets.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

struct Seen {
  int32_t partition;
  int64_t offset;
  std::optional<std::string> key, value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
};

// Polls until `count` records arrived or the bound passed; copies them (views die with the next poll).
std::vector<Seen> consume(asio::io_context& io, Consumer& c, size_t count,
                          std::chrono::milliseconds bound = 30000ms) {
  std::vector<Seen> out;
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(200ms, asio::use_future);
    auto [ec, records] = run_until(io, f);
    INFO(c.error_text());
    REQUIRE_FALSE(ec);
    for (const auto& r : records) {
      Seen s{r.partition(), r.offset(), {}, {}, {}};
      if (r.key()) s.key = std::string(r.key()->str());
      if (r.value()) s.value = std::string(r.value()->str());
      for (auto [k, v] : r.headers())
        s.headers.emplace_back(std::string(k),
                               v ? std::optional<std::string>(std::string(v->str())) : std::nullopt);
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace

TEST_CASE("murmur2 partitions keys exactly like the Java client", "[producer]") {
  // Values from the Java client's Utils.murmur2 / its default partitioner.
  CHECK(murmur2("21", 2) == -973932308);
  CHECK(murmur2("foobar", 6) == -790332482);
  CHECK(murmur2("a-little-bit-long-string", 24) == -985981536);
  CHECK(murmur2("a-little-bit-longer-string", 26) == -1486304829);
  CHECK(murmur2("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", 48) == -58897971);
  CHECK(murmur2("abc", 3) == 479470107);
  CHECK(partition_for_key("foobar", 12) == ((-790332482 & 0x7fffffff) % 12));
}

TEST_CASE("every codec: produced records come back complete and in order per partition",
          "[broker][consumer]") {
  for (std::string codec : {"none", "gzip", "snappy", "lz4", "zstd"}) {
    SECTION(codec) {
      asio::io_context io;
      const std::string topic = unique("kw-codec-" + codec);
      create_topic(io, topic, 3);
      produce(io, topic, 3, 600, codec);
      Consumer c(io.get_executor(),
                 base_config({{"auto.offset.reset", "earliest"}, {"max.poll.records", "97"}}));
      c.assign({{topic, 0}, {topic, 1}, {topic, 2}});
      auto seen = consume(io, c, 600);
      REQUIRE(seen.size() == 600);
      std::map<int32_t, int64_t> next;
      for (const auto& s : seen) {
        CHECK(s.offset == next[s.partition]);  // in order, nothing skipped
        next[s.partition] = s.offset + 1;
        const int i = static_cast<int>(s.offset) * 3 + s.partition;  // produce() went round robin
        CHECK(s.key == "key-" + std::to_string(i));
        CHECK(s.value == "value-" + std::to_string(i));
      }
      CHECK(next[0] == 200);
      CHECK(next[2] == 200);
    }
  }
}

TEST_CASE("headers, null keys and null values survive the round trip", "[broker][consumer]") {
  asio::io_context io;
  const std::string topic = unique("kw-nulls");
  create_topic(io, topic, 1);
  Producer p(io.get_executor(), base_config());
  ProducerRecord a{topic, 0, std::nullopt, std::string("v"), {{"h1", std::string("x")}, {"h2", std::nullopt}},
                   1234};
  ProducerRecord b{topic, 0, std::string("k"), std::nullopt, {}, std::nullopt};
  ProducerRecord e{topic, 0, std::string(""), std::string(""), {}, std::nullopt};
  auto fa = p.async_send(a, asio::use_future);
  auto fb = p.async_send(b, asio::use_future);
  auto fe = p.async_send(e, asio::use_future);
  auto [ea, ma] = run_until(io, fa);
  REQUIRE_FALSE(ea);
  CHECK(ma.offset == 0);
  CHECK(ma.timestamp == 1234);
  REQUIRE_FALSE(std::get<0>(run_until(io, fb)));
  REQUIRE_FALSE(std::get<0>(run_until(io, fe)));
  Consumer c(io.get_executor(), base_config({{"auto.offset.reset", "earliest"}}));
  c.assign({{topic, 0}});
  auto seen = consume(io, c, 3);
  REQUIRE(seen.size() == 3);
  CHECK_FALSE(seen[0].key);
  CHECK(seen[0].value == "v");
  REQUIRE(seen[0].headers.size() == 2);
  CHECK(seen[0].headers[0] == std::pair<std::string, std::optional<std::string>>{"h1", "x"});
  CHECK_FALSE(seen[0].headers[1].second);
  CHECK(seen[1].key == "k");
  CHECK_FALSE(seen[1].value);
  CHECK(seen[2].key == "");
  CHECK(seen[2].value == "");
}

TEST_CASE("commit, then a new consumer of the group resumes at the committed offset", "[broker][consumer]") {
  asio::io_context io;
  const std::string topic = unique("kw-commit");
  const std::string group = unique("kw-group");
  create_topic(io, topic, 2);
  produce(io, topic, 2, 100);
  {
    Consumer c(io.get_executor(), base_config({{"group.id", group},
                                               {"enable.auto.commit", "false"},
                                               {"auto.offset.reset", "earliest"},
                                               {"max.poll.records", "10"}}));
    c.assign({{topic, 0}, {topic, 1}});
    auto seen = consume(io, c, 30);
    REQUIRE(seen.size() >= 30);
    auto f = c.async_commit(std::map<TopicPartition, int64_t>{{{topic, 0}, 17}, {{topic, 1}, 9}},
                            asio::use_future);
    REQUIRE_FALSE(run_until(io, f));
    auto g = c.async_committed({{topic, 0}, {topic, 1}}, asio::use_future);
    auto [ec, committed] = run_until(io, g);
    REQUIRE_FALSE(ec);
    CHECK(committed[{topic, 0}] == 17);
    CHECK(committed[{topic, 1}] == 9);
  }
  Consumer c(
      io.get_executor(),
      base_config({{"group.id", group}, {"enable.auto.commit", "false"}, {"auto.offset.reset", "latest"}}));
  c.assign({{topic, 0}, {topic, 1}});
  auto seen = consume(io, c, (50 - 17) + (50 - 9));
  REQUIRE(seen.size() == (50 - 17) + (50 - 9));
  std::map<int32_t, int64_t> first;
  for (const auto& s : seen)
    if (!first.count(s.partition)) first[s.partition] = s.offset;
  CHECK(first[0] == 17);
  CHECK(first[1] == 9);
}

TEST_CASE("seek, seek_to_end, offsets_for_times, pause and resume", "[broker][consumer]") {
  asio::io_context io;
  const std::string topic = unique("kw-seek");
  create_topic(io, topic, 2);
  // Records with known timestamps: 1000 + offset.
  Producer p(io.get_executor(), base_config());
  std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> fs;
  for (int i = 0; i < 40; ++i)
    fs.push_back(
        p.async_send({topic, i % 2, std::nullopt, std::to_string(i), {}, 1000 + i / 2}, asio::use_future));
  for (auto& f : fs) REQUIRE_FALSE(std::get<0>(run_until(io, f)));

  Consumer c(io.get_executor(), base_config({{"auto.offset.reset", "earliest"}}));
  c.assign({{topic, 0}, {topic, 1}});
  auto t = c.async_offsets_for_times({{{topic, 0}, 1005}, {{topic, 1}, 99999}}, asio::use_future);
  auto [tec, times] = run_until(io, t);
  REQUIRE_FALSE(tec);
  REQUIRE(times[{topic, 0}]);
  CHECK(times[{topic, 0}]->offset == 5);
  CHECK(times[{topic, 0}]->timestamp == 1005);
  CHECK_FALSE(times[{topic, 1}]);  // nothing that late

  c.seek({topic, 0}, 15);
  c.seek_to_end({{topic, 1}});
  auto seen = consume(io, c, 5, 5000ms);
  REQUIRE(seen.size() == 5);
  for (const auto& s : seen) CHECK(s.partition == 0);
  CHECK(seen.front().offset == 15);
  CHECK(c.position({topic, 1}) == 20);

  c.seek_to_beginning({{topic, 0}, {topic, 1}});
  c.pause({{topic, 1}});
  CHECK(c.paused() == std::vector<TopicPartition>{{topic, 1}});
  seen = consume(io, c, 20, 3000ms);
  for (const auto& s : seen) CHECK(s.partition == 0);
  c.resume({{topic, 1}});
  seen = consume(io, c, 20, 10000ms);
  REQUIRE(seen.size() == 20);
  CHECK(seen.front().partition == 1);
  CHECK(seen.front().offset == 0);
}

TEST_CASE("bad input: unknown key, unknown topic, unreachable brokers, auto.offset.reset=none",
          "[broker][consumer]") {
  asio::io_context io;
  CHECK_THROWS_AS(base_config({{"fetch.max.wait", "10"}}), ConfigError);

  Consumer c(io.get_executor(), base_config());
  c.assign({{unique("kw-no-such-topic"), 0}});
  auto f = c.async_poll(5000ms, asio::use_future);
  auto [ec, records] = run_until(io, f);
  CHECK(ec == client_errc::unknown_topic);
  CHECK(c.error_text().find("no such topic") != std::string::npos);

  Consumer dead(io.get_executor(),
                Config{{"bootstrap.servers", "127.0.0.1:1"}, {"socket.connection.setup.timeout.ms", "1000"}});
  dead.assign({{"t", 0}});
  const auto start = std::chrono::steady_clock::now();
  auto g = dead.async_poll(3000ms, asio::use_future);
  auto [dec, drec] = run_until(io, g);
  CHECK(dec);
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(dead.error_text().find("127.0.0.1:1") != std::string::npos);

  const std::string topic = unique("kw-none");
  create_topic(io, topic, 1);
  Consumer n(io.get_executor(), base_config({{"group.id", unique("kw-g")}, {"auto.offset.reset", "none"}}));
  n.assign({{topic, 0}});
  auto h = n.async_poll(5000ms, asio::use_future);
  auto [nec, nrec] = run_until(io, h);
  CHECK(nec == client_errc::no_offset);
  CHECK(n.error_text() == topic + "-0: no committed offset and auto.offset.reset=none");
}
