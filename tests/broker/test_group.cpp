// Consumer groups through subscribe(): members share partitions, rebalance, and commit so that the
// group never loses its place.
#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

Config member_config(const std::string& group, const std::string& strategy) {
  return base_config({{"group.id", group},
                      {"auto.offset.reset", "earliest"},
                      {"enable.auto.commit", "false"},
                      {"session.timeout.ms", "6000"},
                      {"heartbeat.interval.ms", "500"},
                      {"partition.assignment.strategy", strategy}});
}

// One poll of one member; records copied as (partition, offset).
std::vector<std::pair<int32_t, int64_t>> poll_once(asio::io_context& io, Consumer& c) {
  auto f = c.async_poll(100ms, asio::use_future);
  auto [ec, records] = run_until(io, f);
  INFO(c.error_text());
  REQUIRE_FALSE(ec);
  std::vector<std::pair<int32_t, int64_t>> out;
  for (const auto& r : records) out.emplace_back(r.partition(), r.offset());
  return out;
}

std::set<TopicPartition> as_set(const std::vector<TopicPartition>& v) { return {v.begin(), v.end()}; }

}  // namespace

TEST_CASE("two members split a topic, one leaves, the other takes over from the commits", "[broker][group]") {
  for (std::string strategy : {"range", "cooperative-sticky"}) {
    SECTION(strategy) {
      asio::io_context io;
      const std::string topic = unique("kw-group-" + strategy);
      const std::string group = unique("kw-group");
      constexpr int kPartitions = 6, kRecords = 600;
      create_topic(io, topic, kPartitions);
      produce(io, topic, kPartitions, kRecords);

      auto a = std::make_unique<Consumer>(io.get_executor(), member_config(group, strategy));
      Consumer b(io.get_executor(), member_config(group, strategy));
      a->subscribe({topic});
      // A alone first: it owns everything (and may already get records in the poll that assigns them).
      std::map<std::pair<int32_t, int64_t>, int> seen;
      const auto start = std::chrono::steady_clock::now();
      while (a->assignment().size() < kPartitions && std::chrono::steady_clock::now() - start < 20s)
        for (auto& rec : poll_once(io, *a)) ++seen[rec];
      REQUIRE(a->assignment().size() == kPartitions);
      WARN(strategy << ": first assignment after "
                    << std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count()
                    << " ms");

      // B joins; both keep polling until the partitions are split with no overlap.
      b.subscribe({topic});
      const auto deadline = std::chrono::steady_clock::now() + 40s;
      bool split = false;
      while (std::chrono::steady_clock::now() < deadline) {
        for (auto& rec : poll_once(io, *a)) ++seen[rec];
        for (auto& rec : poll_once(io, b)) ++seen[rec];
        auto sa = as_set(a->assignment()), sb = as_set(b.assignment());
        std::vector<TopicPartition> both;
        std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(both));
        CHECK(both.empty());  // never two owners at once
        if (sa.size() + sb.size() == kPartitions && !sa.empty() && !sb.empty() &&
            a->membership()->state() == group::State::stable &&
            b.membership()->state() == group::State::stable) {
          split = true;
          break;
        }
      }
      REQUIRE(split);
      CHECK(a->assignment().size() == 3);
      CHECK(b.assignment().size() == 3);

      // A processes a little more, commits, and leaves cleanly; B takes over its partitions.
      for (int i = 0; i < 5; ++i)
        for (auto& rec : poll_once(io, *a)) ++seen[rec];
      auto fc = a->async_commit(asio::use_future);
      REQUIRE_FALSE(run_until(io, fc));
      auto fclose = a->async_close(asio::use_future);
      REQUIRE_FALSE(run_until(io, fclose));
      a.reset();
      const auto until = std::chrono::steady_clock::now() + 40s;
      while ((seen.size() < kRecords || b.assignment().size() < kPartitions ||
              b.membership()->state() != group::State::stable) &&
             std::chrono::steady_clock::now() < until)
        for (auto& rec : poll_once(io, b)) ++seen[rec];
      CHECK(b.assignment().size() == kPartitions);
      std::map<int32_t, int> per_partition;
      for (auto& [rec, n] : seen) ++per_partition[rec.first];
      std::string where;
      for (const auto& tp : b.assignment())
        where += to_string(tp) + " at " + std::to_string(b.position(tp).value_or(-1)) + ", seen " +
                 std::to_string(per_partition[tp.partition]) + "; ";
      INFO(where << "\n" << b.rebalance_timeline());
      CHECK(seen.size() == kRecords);  // every record consumed, nothing skipped
      int twice = 0;
      for (auto& [rec, n] : seen) twice += n > 1;
      WARN(strategy << ": " << twice << " records consumed twice (uncommitted positions at hand-over)");
      CHECK_FALSE(b.rebalance_timeline().empty());
      auto fb = b.async_close(asio::use_future);
      CHECK_FALSE(run_until(io, fb));
    }
  }
}

TEST_CASE("subscribe to a pattern", "[broker][group]") {
  asio::io_context io;
  const std::string prefix = unique("kw-pattern");
  create_topic(io, prefix + "-a", 1);
  create_topic(io, prefix + "-b", 2);
  produce(io, prefix + "-a", 1, 10);
  produce(io, prefix + "-b", 2, 10);
  Consumer c(io.get_executor(), member_config(unique("kw-pattern-group"), "range"));
  c.subscribe(std::regex(prefix + "-.*"));
  size_t n = 0;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (n < 20 && std::chrono::steady_clock::now() < deadline) n += poll_once(io, c).size();
  CHECK(n == 20);
  CHECK(c.assignment().size() == 3);
}

TEST_CASE("a commit for a partition the group did not assign says so, naming it", "[broker][group][commit]") {
  asio::io_context io;
  const std::string topic = unique("kw-group-refused");
  const std::string group = unique("kw-group-refused");
  create_topic(io, topic, 2);
  Consumer c(io.get_executor(), member_config(group, "range"));
  c.subscribe({topic});
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (c.assignment().size() < 2 && std::chrono::steady_clock::now() < deadline) poll_once(io, c);
  REQUIRE(c.assignment().size() == 2);

  // Partition 5 does not exist, so no member has it: the member refuses it and commits the rest.
  std::map<TopicPartition, int64_t> offsets{{{topic, 0}, 0}, {{topic, 5}, 3}};
  auto f = c.async_commit(offsets, asio::use_future);
  auto ec = run_until(io, f);
  CHECK(ec == client_errc::not_assigned);
  INFO(c.error_text());
  CHECK(c.error_text().find(topic + "-5: no longer assigned to this member") != std::string::npos);
  CHECK(c.error_text().find(topic + "-0") == std::string::npos);

  // What was committed is there: partition 0 at 0.
  auto g = c.async_committed({{topic, 0}}, asio::use_future);
  auto [cec, committed] = run_until(io, g);
  REQUIRE_FALSE(cec);
  CHECK(committed[{topic, 0}] == std::optional<int64_t>(0));
}

TEST_CASE("a revocation without a listener commits only with enable.auto.commit", "[broker][group][commit]") {
  // As Java's consumer: with auto-commit the positions are committed before the partitions move, so the
  // next owner starts there; without it, only what the application committed counts (its offsets may
  // belong in a transaction), and the next owner starts from the last commit.
  for (const bool auto_commit : {false, true}) {
    SECTION(auto_commit ? "enable.auto.commit=true" : "enable.auto.commit=false") {
      asio::io_context io;
      const std::string topic = unique("kw-revoke-commit");
      const std::string group = unique("kw-revoke-commit");
      constexpr int kPartitions = 2, kRecords = 40;
      create_topic(io, topic, kPartitions);
      produce(io, topic, kPartitions, kRecords);
      auto config = [&] {
        return base_config({{"group.id", group},
                            {"auto.offset.reset", "earliest"},
                            {"enable.auto.commit", auto_commit ? "true" : "false"},
                            {"auto.commit.interval.ms", "600000"},  // no periodic commit in the test's time
                            {"session.timeout.ms", "6000"},
                            {"heartbeat.interval.ms", "500"},
                            {"partition.assignment.strategy", "range"}});
      };
      Consumer a(io.get_executor(), config());
      a.subscribe({topic});
      size_t n = 0;
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (n < kRecords && std::chrono::steady_clock::now() < deadline) n += poll_once(io, a).size();
      REQUIRE(n == kRecords);  // A holds both partitions and has consumed everything, committed nothing

      // B joins: an eager rebalance revokes both of A's partitions.
      Consumer b(io.get_executor(), config());
      b.subscribe({topic});
      const auto until = std::chrono::steady_clock::now() + 40s;
      while ((a.assignment().size() != 1 || b.assignment().size() != 1) &&
             std::chrono::steady_clock::now() < until) {
        poll_once(io, a);
        poll_once(io, b);
      }
      REQUIRE(a.assignment().size() == 1);
      REQUIRE(b.assignment().size() == 1);

      auto f = b.async_committed({{topic, 0}, {topic, 1}}, asio::use_future);
      auto [ec, committed] = run_until(io, f);
      REQUIRE_FALSE(ec);
      const int64_t per_partition = kRecords / kPartitions;
      for (int32_t p = 0; p < kPartitions; ++p) {
        INFO("partition " << p);
        if (auto_commit)
          CHECK(committed[{topic, p}] == std::optional<int64_t>(per_partition));
        else
          CHECK(committed[{topic, p}] == std::nullopt);
      }
      auto fa = a.async_close(asio::use_future);
      CHECK_FALSE(run_until(io, fa));
      auto fb = b.async_close(asio::use_future);
      CHECK_FALSE(run_until(io, fb));
    }
  }
}
