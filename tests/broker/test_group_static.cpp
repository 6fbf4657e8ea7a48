// Static membership (group.instance.id, KIP-345) and max.poll.interval.ms against the real broker.
#include <array>

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

Config member(const std::string& group, std::optional<std::string> instance,
              const std::string& max_poll = "300000") {
  std::map<std::string, std::string> kv{{"bootstrap.servers", kafkawire::testing::bootstrap()},
                                        {"group.id", group},
                                        {"auto.offset.reset", "earliest"},
                                        {"enable.auto.commit", "false"},
                                        {"session.timeout.ms", "10000"},
                                        {"heartbeat.interval.ms", "300"},
                                        {"max.poll.interval.ms", max_poll},
                                        {"max.poll.records", "50"},
                                        {"partition.assignment.strategy", "range"}};
  if (instance) kv["group.instance.id"] = *instance;
  return Config(kv);
}

// Polls a consumer once; records (partition, offset) into `seen`. Returns the poll's error.
std::error_code poll_into(asio::io_context& io, Consumer& c,
                          std::map<std::pair<int32_t, int64_t>, int>* seen) {
  auto f = c.async_poll(100ms, asio::use_future);
  auto [ec, records] = run_until(io, f);
  if (seen)
    for (const auto& r : records) ++(*seen)[{r.partition(), r.offset()}];
  return ec;
}

bool stable_with(const Consumer& c, size_t partitions) {
  return c.membership() && c.membership()->state() == group::State::stable &&
         c.assignment().size() == partitions;
}

std::set<TopicPartition> as_set(const std::vector<TopicPartition>& v) { return {v.begin(), v.end()}; }

std::string describe(const Consumer& c) {
  const auto* m = c.membership();
  return std::string(to_string(m->state())) + " generation " + std::to_string(m->generation()) + ", " +
         std::to_string(c.assignment().size()) + " partitions; error: " + c.error_text() + "\n" +
         c.rebalance_timeline();
}

}  // namespace

TEST_CASE("static members restarted within session.timeout.ms: same assignment, no rebalance",
          "[broker][group][static]") {
  asio::io_context io;
  const std::string topic = unique("kw-static");
  const std::string group = unique("kw-static-group");
  constexpr int kPartitions = 6, kRecords = 1200;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  std::map<std::pair<int32_t, int64_t>, int> seen;
  const std::array<std::string, 2> instances{"instance-a", "instance-b"};
  std::array<std::unique_ptr<Consumer>, 2> m;
  for (int i = 0; i < 2; ++i) {
    m[i] = std::make_unique<Consumer>(io.get_executor(), member(group, instances[i]));
    m[i]->subscribe({topic});
  }
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while (!(stable_with(*m[0], 3) && stable_with(*m[1], 3)) && std::chrono::steady_clock::now() < deadline)
    for (auto& c : m) REQUIRE_FALSE(poll_into(io, *c, &seen));
  INFO("a: " << describe(*m[0]) << "\nb: " << describe(*m[1]));
  REQUIRE(stable_with(*m[0], 3));
  REQUIRE(stable_with(*m[1], 3));
  const int32_t generation = m[0]->membership()->generation();
  REQUIRE(m[1]->membership()->generation() == generation);

  // Restart each in turn (one of them is the group's leader, the other a follower).
  for (int i = 0; i < 2; ++i) {
    Consumer& other = *m[1 - i];
    const auto partitions = as_set(m[i]->assignment());
    const auto other_partitions = as_set(other.assignment());
    const size_t other_rebalances = other.membership()->timeline().size();
    const bool was_leader = m[i]->membership()->is_leader();
    // It reads a little, commits, and goes away: a static member sends no LeaveGroup on close.
    for (int n = 0; n < 3; ++n) REQUIRE_FALSE(poll_into(io, *m[i], &seen));
    auto committed = m[i]->current_positions();
    auto fc = m[i]->async_commit(committed, asio::use_future);
    REQUIRE_FALSE(run_until(io, fc));
    auto fclose = m[i]->async_close(asio::use_future);
    REQUIRE_FALSE(run_until(io, fclose));
    m[i].reset();
    for (int n = 0; n < 5; ++n) REQUIRE_FALSE(poll_into(io, other, &seen));  // the other carries on meanwhile
    CHECK(stable_with(other, 3));

    // The same instance comes back well within session.timeout.ms (10 s).
    m[i] = std::make_unique<Consumer>(io.get_executor(), member(group, instances[i]));
    Consumer& again = *m[i];
    again.subscribe({topic});
    std::map<TopicPartition, int64_t> first_read;
    deadline = std::chrono::steady_clock::now() + 30s;
    while (!stable_with(again, 3) && std::chrono::steady_clock::now() < deadline) {
      auto f = again.async_poll(100ms, asio::use_future);
      auto [ec, records] = run_until(io, f);
      REQUIRE_FALSE(ec);
      for (const auto& r : records) {
        first_read.try_emplace({topic, r.partition()}, r.offset());
        ++seen[{r.partition(), r.offset()}];
      }
      REQUIRE_FALSE(poll_into(io, other, &seen));
    }
    INFO("restarted " << instances[i] << (was_leader ? " (was the leader): " : ": ") << describe(again)
                      << "\nother: " << describe(other));
    REQUIRE(stable_with(again, 3));
    CHECK(as_set(again.assignment()) == partitions);        // same assignment
    CHECK(again.membership()->generation() == generation);  // no new generation
    CHECK(other.membership()->generation() == generation);  // the other member saw no rebalance
    CHECK(other.membership()->timeline().size() == other_rebalances);
    CHECK(as_set(other.assignment()) == other_partitions);
    // It resumes where its previous incarnation committed.
    for (const auto& [tp, off] : first_read) {
      INFO(to_string(tp));
      CHECK(off == committed.at(tp));
    }
  }

  // Both read to the end: nothing skipped.
  deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < kRecords && std::chrono::steady_clock::now() < deadline)
    for (auto& c : m) REQUIRE_FALSE(poll_into(io, *c, &seen));
  CHECK(seen.size() == kRecords);
  for (auto& c : m) CHECK(c->membership()->generation() == generation);
}

TEST_CASE("two live members with one group.instance.id: the older one is fenced, a typed fatal error",
          "[broker][group][static]") {
  asio::io_context io;
  const std::string topic = unique("kw-fenced");
  const std::string group = unique("kw-fenced-group");
  create_topic(io, topic, 4);
  produce(io, topic, 4, 100);

  Consumer first(io.get_executor(), member(group, "same-instance"));
  first.subscribe({topic});
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!stable_with(first, 4) && std::chrono::steady_clock::now() < deadline)
    REQUIRE_FALSE(poll_into(io, first, nullptr));
  REQUIRE(stable_with(first, 4));

  // A second process with the same instance id joins: the broker gives it the instance's place.
  Consumer second(io.get_executor(), member(group, "same-instance"));
  second.subscribe({topic});
  std::error_code fenced;
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!(fenced && stable_with(second, 4)) && std::chrono::steady_clock::now() < deadline) {
    if (!fenced)
      if (auto ec = poll_into(io, first, nullptr)) fenced = ec;
    REQUIRE_FALSE(poll_into(io, second, nullptr));
  }
  INFO("first: " << describe(first) << "\nsecond: " << describe(second));
  CHECK(fenced == client_errc::fenced_instance);  // typed, not a log line
  CHECK(first.membership()->state() == group::State::fatal);
  CHECK(first.assignment().empty());
  CHECK(first.error_text().find("FENCED_INSTANCE_ID") != std::string::npos);
  CHECK(stable_with(second, 4));
  // Fatal stays fatal: the fenced member does not rejoin and take the instance back.
  for (int i = 0; i < 5; ++i) {
    poll_into(io, first, nullptr);
    REQUIRE_FALSE(poll_into(io, second, nullptr));
  }
  CHECK(first.membership()->state() == group::State::fatal);
  CHECK(stable_with(second, 4));
}

TEST_CASE("max.poll.interval.ms: a member that stops polling leaves, the other takes over, then it rejoins",
          "[broker][group][max_poll]") {
  asio::io_context io;
  const std::string topic = unique("kw-maxpoll");
  const std::string group = unique("kw-maxpoll-group");
  constexpr int kPartitions = 6, kRecords = 1200;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  std::map<std::pair<int32_t, int64_t>, int> seen;
  Consumer slow(io.get_executor(), member(group, std::nullopt, "3000"));
  Consumer busy(io.get_executor(), member(group, std::nullopt));
  std::vector<TopicPartition> lost;
  slow.set_rebalance_listener({nullptr, nullptr, [&](const std::vector<TopicPartition>& p) {
                                 lost.insert(lost.end(), p.begin(), p.end());
                               }});
  slow.subscribe({topic});
  busy.subscribe({topic});
  auto deadline = std::chrono::steady_clock::now() + 40s;
  // max.poll.interval.ms counts from the last poll, so the lower bound below is measured from just before
  // it (measuring from after the commit that follows made the check fail by the commit's round trip).
  auto slow_last_poll = std::chrono::steady_clock::now();
  while (!(stable_with(slow, 3) && stable_with(busy, 3)) && std::chrono::steady_clock::now() < deadline) {
    slow_last_poll = std::chrono::steady_clock::now();
    REQUIRE_FALSE(poll_into(io, slow, &seen));
    REQUIRE_FALSE(poll_into(io, busy, &seen));
  }
  INFO("slow: " << describe(slow) << "\nbusy: " << describe(busy));
  REQUIRE(stable_with(slow, 3));
  REQUIRE(stable_with(busy, 3));
  auto fc = slow.async_commit(asio::use_future);
  REQUIRE_FALSE(run_until(io, fc));

  // `slow` stops polling (the io_context keeps running, so its heartbeats go on); 3 s after its last poll
  // it leaves the group by itself and `busy` gets every partition.
  const auto stopped = slow_last_poll;
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!stable_with(busy, kPartitions) && std::chrono::steady_clock::now() < deadline)
    REQUIRE_FALSE(poll_into(io, busy, &seen));
  const auto took = std::chrono::steady_clock::now() - stopped;
  INFO("slow: " << describe(slow) << "\nbusy: " << describe(busy));
  REQUIRE(stable_with(busy, kPartitions));
  CHECK(took >= 3s);  // not before max.poll.interval.ms
  CHECK(slow.membership()->state() == group::State::unjoined);
  CHECK(slow.assignment().empty());
  CHECK(lost.size() == 3);  // on_lost, not on_revoked: someone else may own them already

  // Its next poll says what happened, as a typed error; then it rejoins and the two split the topic again.
  CHECK(poll_into(io, slow, &seen) == client_errc::poll_interval_exceeded);
  CHECK(slow.error_text().find("max.poll.interval.ms") != std::string::npos);
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!(stable_with(slow, 3) && stable_with(busy, 3)) && std::chrono::steady_clock::now() < deadline) {
    REQUIRE_FALSE(poll_into(io, slow, &seen));
    REQUIRE_FALSE(poll_into(io, busy, &seen));
  }
  CHECK(stable_with(slow, 3));
  CHECK(stable_with(busy, 3));
  deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < kRecords && std::chrono::steady_clock::now() < deadline) {
    REQUIRE_FALSE(poll_into(io, slow, &seen));
    REQUIRE_FALSE(poll_into(io, busy, &seen));
  }
  CHECK(seen.size() == kRecords);  // nothing skipped across the hand-overs
  auto f1 = slow.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, f1));
  auto f2 = busy.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, f2));
}
