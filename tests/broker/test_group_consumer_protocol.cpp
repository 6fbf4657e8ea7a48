// Consumer groups with group.protocol=consumer (KIP-848) through subscribe(): the broker assigns, members
// reconcile (give up what moved before the new owner gets it), commit with their member epoch, and a
// member that joins later resumes at the group's commits.
#include <array>

#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
namespace cg = kafkawire::group::consumer_group;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

Config member_config(const std::string& group,
                     std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", kafkawire::testing::bootstrap()},
                                        {"group.id", group},
                                        {"group.protocol", "consumer"},
                                        {"auto.offset.reset", "earliest"},
                                        {"enable.auto.commit", "false"}};
  for (const auto& [k, v] : extra) kv[k] = v;
  return Config(kv);
}

using Seen = std::map<std::pair<int32_t, int64_t>, int>;

// One poll of one member; what it returned counted per (partition, offset).
void poll_once(asio::io_context& io, Consumer& c, Seen& seen) {
  auto f = c.async_poll(100ms, asio::use_future);
  auto [ec, records] = run_until(io, f);
  INFO(c.error_text());
  REQUIRE_FALSE(ec);
  for (const auto& r : records) ++seen[{r.partition(), r.offset()}];
}

std::set<TopicPartition> as_set(const std::vector<TopicPartition>& v) { return {v.begin(), v.end()}; }

bool stable(const Consumer& c) {
  const auto* m = c.consumer_group_membership();
  return m && m->state() == cg::State::stable;
}

std::string describe(const Consumer& c) {
  const auto* m = c.consumer_group_membership();
  if (!m) return "no member";
  std::string out =
      std::string(cg::to_string(m->state())) + " epoch " + std::to_string(m->member_epoch()) + " owns";
  for (const auto& tp : c.assignment()) out += " " + to_string(tp);
  return out;
}

bool classic_stable(const Consumer& c) {
  return c.membership() && c.membership()->state() == group::State::stable;
}

std::string show_assignment(const Consumer& c) {
  std::string out;
  for (const auto& tp : c.assignment()) out += " " + to_string(tp);
  return out.empty() ? " -" : out;
}

}  // namespace

TEST_CASE("group.protocol=consumer: members share a topic, one leaves, the others go on from the commits",
          "[broker][group][kip848]") {
  asio::io_context io;
  const std::string topic = unique("kw-kip848");
  const std::string group = unique("kw-kip848-group");
  constexpr int kPartitions = 6, kRecords = 600;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  auto a = std::make_unique<Consumer>(io.get_executor(), member_config(group));
  Consumer b(io.get_executor(), member_config(group));
  CHECK(a->membership() == nullptr);  // the classic machine is not used
  a->subscribe({topic});
  REQUIRE(a->consumer_group_membership());
  CHECK(a->membership() == nullptr);
  // The client names the member (KIP-1082): a UUID in Kafka's text form, 22 characters.
  CHECK(a->consumer_group_membership()->member_id().size() == 22);

  Seen seen;
  auto start = std::chrono::steady_clock::now();
  while ((a->assignment().size() < kPartitions || !stable(*a)) &&
         std::chrono::steady_clock::now() - start < 30s)
    poll_once(io, *a, seen);
  INFO("A: " << describe(*a));
  REQUIRE(a->assignment().size() == kPartitions);
  const int32_t first_epoch = a->consumer_group_membership()->member_epoch();
  CHECK(first_epoch > 0);
  WARN("first assignment after " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                        std::chrono::steady_clock::now() - start)
                                        .count()
                                 << " ms");
  // What the member commits with: its epoch and id (Java's groupMetadata() for this protocol).
  CHECK(a->group_metadata().generation_id == first_epoch);
  CHECK(a->group_metadata().member_id == a->consumer_group_membership()->member_id());

  // B joins. The broker moves partitions to it only after A acknowledged giving them up: at no point do
  // both own one. A keeps polling all along (no stop-the-world).
  b.subscribe({topic});
  start = std::chrono::steady_clock::now();
  bool split = false;
  while (std::chrono::steady_clock::now() - start < 40s) {
    poll_once(io, *a, seen);
    poll_once(io, b, seen);
    auto sa = as_set(a->assignment()), sb = as_set(b.assignment());
    std::vector<TopicPartition> both;
    std::set_intersection(sa.begin(), sa.end(), sb.begin(), sb.end(), std::back_inserter(both));
    CHECK(both.empty());
    if (sa.size() + sb.size() == kPartitions && !sa.empty() && !sb.empty() && stable(*a) && stable(b)) {
      split = true;
      break;
    }
  }
  INFO("A: " << describe(*a) << "; B: " << describe(b));
  REQUIRE(split);
  CHECK(a->assignment().size() == 3);  // the broker's uniform assignor balances
  CHECK(b.assignment().size() == 3);
  CHECK(a->consumer_group_membership()->member_epoch() > first_epoch);

  // A commits (with its member epoch) what it has read, and leaves; B gets its partitions and starts at
  // A's commits.
  for (int i = 0; i < 5; ++i) poll_once(io, *a, seen);
  const auto a_positions = a->current_positions();
  auto fc = a->async_commit(asio::use_future);
  {
    INFO(a->error_text());
    REQUIRE_FALSE(run_until(io, fc));
  }
  auto fclose = a->async_close(asio::use_future);
  REQUIRE_FALSE(run_until(io, fclose));
  a.reset();
  start = std::chrono::steady_clock::now();
  bool took_over = false;
  while (std::chrono::steady_clock::now() - start < 40s) {
    poll_once(io, b, seen);
    if (b.assignment().size() == kPartitions && stable(b)) {
      took_over = true;
      break;
    }
  }
  INFO("B: " << describe(b));
  REQUIRE(took_over);
  for (const auto& [tp, at] : a_positions) {
    // B's first position in each partition A handed over is at A's commit or, after B read on, past it.
    INFO(to_string(tp));
    CHECK(b.position(tp).value_or(-1) >= at);
  }
  start = std::chrono::steady_clock::now();
  while (seen.size() < kRecords && std::chrono::steady_clock::now() - start < 30s) poll_once(io, b, seen);
  CHECK(seen.size() == kRecords);  // every record consumed, nothing skipped
  int twice = 0;
  for (auto& [rec, n] : seen) twice += n > 1;
  WARN(twice << " records consumed twice (positions B had not committed when partitions moved to A)");

  // B commits everything and leaves; C, a new member, starts at the commits: nothing left to read.
  auto fb = b.async_commit(asio::use_future);
  REQUIRE_FALSE(run_until(io, fb));
  auto fbc = b.async_close(asio::use_future);
  REQUIRE_FALSE(run_until(io, fbc));
  Consumer c(io.get_executor(), member_config(group));
  c.subscribe({topic});
  Seen after;
  start = std::chrono::steady_clock::now();
  while ((c.assignment().size() < kPartitions || !stable(c)) &&
         std::chrono::steady_clock::now() - start < 30s)
    poll_once(io, c, after);
  REQUIRE(c.assignment().size() == kPartitions);
  for (int i = 0; i < 5; ++i) poll_once(io, c, after);
  CHECK(after.empty());
  for (const auto& tp : c.assignment()) {
    INFO(to_string(tp));
    CHECK(c.position(tp) == std::optional<int64_t>(kRecords / kPartitions));
  }
  auto fcc = c.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fcc));
}

TEST_CASE("group.protocol=consumer: the rebalance listener hears what moves, once",
          "[broker][group][kip848]") {
  asio::io_context io;
  const std::string topic = unique("kw-kip848-listener");
  const std::string group = unique("kw-kip848-listener-group");
  constexpr int kPartitions = 4, kRecords = 400;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  Consumer a(io.get_executor(), member_config(group));
  std::vector<TopicPartition> a_assigned, a_revoked;
  Seen seen;
  RebalanceListener la;
  la.on_assigned = [&](const std::vector<TopicPartition>& p) {
    a_assigned.insert(a_assigned.end(), p.begin(), p.end());
  };
  la.on_revoked = [&](const std::vector<TopicPartition>& p) {
    a_revoked.insert(a_revoked.end(), p.begin(), p.end());
  };
  a.set_rebalance_listener(la);
  a.subscribe({topic});
  auto start = std::chrono::steady_clock::now();
  while ((a.assignment().size() < kPartitions || !stable(a)) &&
         std::chrono::steady_clock::now() - start < 30s)
    poll_once(io, a, seen);
  REQUIRE(a.assignment().size() == kPartitions);
  CHECK(as_set(a_assigned).size() == kPartitions);
  CHECK(a_revoked.empty());

  Consumer b(io.get_executor(), member_config(group));
  std::vector<TopicPartition> b_assigned;
  RebalanceListener lb;
  lb.on_assigned = [&](const std::vector<TopicPartition>& p) {
    b_assigned.insert(b_assigned.end(), p.begin(), p.end());
  };
  b.set_rebalance_listener(lb);
  b.subscribe({topic});
  start = std::chrono::steady_clock::now();
  while ((b.assignment().size() < kPartitions / 2 || !stable(a) || !stable(b)) &&
         std::chrono::steady_clock::now() - start < 40s) {
    poll_once(io, a, seen);
    poll_once(io, b, seen);
  }
  INFO("A: " << describe(a) << "; B: " << describe(b));
  REQUIRE(b.assignment().size() == kPartitions / 2);
  // What A gave up is exactly what B was given: revoked once, assigned once.
  CHECK(as_set(a_revoked) == as_set(b_assigned));
  CHECK(a_revoked.size() == kPartitions / 2);
  CHECK(as_set(a.assignment()).size() == kPartitions / 2);
  // The rebalance timeline tells the same story: A's join, then the reconciliation that made room for B.
  const std::string a_timeline = a.rebalance_timeline(), b_timeline = b.rebalance_timeline();
  INFO("A's timeline:\n" << a_timeline << "B's timeline:\n" << b_timeline);
  CHECK(a_timeline.find("rebalance #1 at +") == 0);
  CHECK(a_timeline.find("(subscribed to " + topic + "): stable at epoch") != std::string::npos);
  CHECK(a_timeline.find("(new target assignment at epoch") != std::string::npos);
  CHECK(a_timeline.find("; revoked 2 " + topic) != std::string::npos);
  CHECK(b_timeline.find("; added 2 " + topic) != std::string::npos);
  CHECK(b_timeline.find("in progress") == std::string::npos);
  auto fa = a.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fa));
  auto fb = b.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fb));
}

TEST_CASE("group.protocol=consumer with a remote assignor the broker does not have fails, naming it",
          "[broker][group][kip848]") {
  asio::io_context io;
  const std::string topic = unique("kw-kip848-assignor");
  create_topic(io, topic, 1);
  Consumer c(io.get_executor(), member_config(unique("kw-kip848-assignor-group"),
                                              {{"group.remote.assignor", "no-such-assignor"}}));
  c.subscribe({topic});
  std::error_code ec;
  const auto start = std::chrono::steady_clock::now();
  while (!ec && std::chrono::steady_clock::now() - start < 20s) {
    auto f = c.async_poll(100ms, asio::use_future);
    ec = std::get<0>(run_until(io, f));
  }
  INFO(c.error_text());
  CHECK(ec == kafka_errc::unsupported_assignor);
  CHECK(c.error_text().find("no-such-assignor") != std::string::npos);
}

TEST_CASE("group.protocol=consumer: subscribe_pattern() is matched by the broker, new topics included",
          "[broker][group][kip848]") {
  asio::io_context io;
  const std::string prefix = unique("kw-kip848-re");
  const std::string first = prefix + "-a", later = prefix + "-b";
  create_topic(io, first, 2);
  produce(io, first, 2, 20);
  Consumer c(io.get_executor(), member_config(unique("kw-kip848-re-group")));
  c.subscribe_pattern(prefix + "-.*");
  Seen seen;
  auto start = std::chrono::steady_clock::now();
  while (seen.size() < 20 && std::chrono::steady_clock::now() - start < 30s) poll_once(io, c, seen);
  INFO(describe(c));
  CHECK(seen.size() == 20);
  // A topic created after subscribing: the broker adds it to the member's assignment.
  create_topic(io, later, 3);
  produce(io, later, 3, 30);
  start = std::chrono::steady_clock::now();
  while (c.assignment().size() < 5 && std::chrono::steady_clock::now() - start < 60s) poll_once(io, c, seen);
  CHECK(c.assignment().size() == 5);
  std::set<std::string> topics;
  for (const auto& tp : c.assignment()) topics.insert(tp.topic);
  CHECK(topics == std::set<std::string>{first, later});
  auto fc = c.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fc));

  // With the classic protocol the broker matches nothing: refused, naming the key.
  Consumer classic(io.get_executor(), base_config({{"group.id", unique("kw-kip848-re-classic")}}));
  CHECK_THROWS_WITH(classic.subscribe_pattern(prefix + "-.*"), Catch::Contains("group.protocol=consumer"));
}

// The online upgrade (KIP-848's migration, on by default in Kafka 4.x: group.consumer.migration.policy
// bidirectional): a classic group to which a consumer-protocol member joins, the classic member leaves,
// and a classic member joins the group the broker now runs as a consumer group.
TEST_CASE("a classic group takes a group.protocol=consumer member, and the other way round",
          "[broker][group][kip848]") {
  asio::io_context io;
  const std::string topic = unique("kw-kip848-upgrade");
  const std::string group = unique("kw-kip848-upgrade-group");
  constexpr int kPartitions = 4, kRecords = 400;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);
  auto classic_config = [&] {
    return base_config({{"group.id", group},
                        {"auto.offset.reset", "earliest"},
                        {"enable.auto.commit", "false"},
                        {"session.timeout.ms", "6000"},
                        {"heartbeat.interval.ms", "500"}});
  };
  // Polls both until they split the partitions with both stable; never two owners of one partition.
  auto split = [&](Consumer& x, bool (*x_stable)(const Consumer&), Consumer& y,
                   bool (*y_stable)(const Consumer&), Seen& seen) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < 60s) {
      poll_once(io, x, seen);
      poll_once(io, y, seen);
      auto sx = as_set(x.assignment()), sy = as_set(y.assignment());
      std::vector<TopicPartition> both;
      std::set_intersection(sx.begin(), sx.end(), sy.begin(), sy.end(), std::back_inserter(both));
      CHECK(both.empty());
      if (sx.size() + sy.size() == kPartitions && !sx.empty() && !sy.empty() && x_stable(x) && y_stable(y))
        return true;
    }
    return false;
  };
  auto a = std::make_unique<Consumer>(io.get_executor(), classic_config());
  a->subscribe({topic});
  Seen seen;
  auto start = std::chrono::steady_clock::now();
  while ((a->assignment().size() < kPartitions || !classic_stable(*a)) &&
         std::chrono::steady_clock::now() - start < 30s)
    poll_once(io, *a, seen);
  REQUIRE(a->assignment().size() == kPartitions);

  Consumer b(io.get_executor(), member_config(group));
  b.subscribe({topic});
  {
    const bool shared = split(*a, classic_stable, b, stable, seen);
    INFO("classic A: " << show_assignment(*a) << "; consumer B: " << describe(b));
    REQUIRE(shared);
  }

  // A commits and leaves: B, on the consumer protocol, resumes A's partitions at A's commits.
  for (int i = 0; i < 3; ++i) poll_once(io, *a, seen);
  const auto a_positions = a->current_positions();
  auto fc = a->async_commit(asio::use_future);
  REQUIRE_FALSE(run_until(io, fc));
  auto fclose = a->async_close(asio::use_future);
  REQUIRE_FALSE(run_until(io, fclose));
  a.reset();
  start = std::chrono::steady_clock::now();
  while ((b.assignment().size() < kPartitions || !stable(b)) &&
         std::chrono::steady_clock::now() - start < 40s)
    poll_once(io, b, seen);
  INFO("B: " << describe(b));
  REQUIRE(b.assignment().size() == kPartitions);
  for (const auto& [tp, at] : a_positions) {
    INFO(to_string(tp));
    CHECK(b.position(tp).value_or(-1) >= at);
  }

  // A classic member joins what is now a consumer group: the broker speaks JoinGroup/SyncGroup to it.
  Consumer c(io.get_executor(), classic_config());
  c.subscribe({topic});
  {
    const bool shared = split(b, stable, c, classic_stable, seen);
    INFO("consumer B: " << describe(b) << "; classic C: " << show_assignment(c));
    REQUIRE(shared);
  }
  start = std::chrono::steady_clock::now();
  while (seen.size() < kRecords && std::chrono::steady_clock::now() - start < 30s) {
    poll_once(io, b, seen);
    poll_once(io, c, seen);
  }
  CHECK(seen.size() == kRecords);  // nothing skipped across both hand-overs
  auto fb = b.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fb));
  auto fcc = c.async_close(asio::use_future);
  CHECK_FALSE(run_until(io, fcc));
}

TEST_CASE("group.protocol=consumer, static members: restarted within the session timeout, same partitions",
          "[broker][group][kip848][static]") {
  // A static member leaves with epoch -2: the broker keeps its partitions for it until the session timeout
  // (group.consumer.session.timeout.ms, 6 s on the test broker), so an instance restarted in time gets
  // them back and the other member is not touched. A second live instance with the same id is refused.
  asio::io_context io;
  const std::string topic = unique("kw-kip848-static");
  const std::string group = unique("kw-kip848-static-group");
  constexpr int kPartitions = 6, kRecords = 1200;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  Seen seen;
  const std::array<std::string, 2> instances{"instance-a", "instance-b"};
  std::array<std::unique_ptr<Consumer>, 2> m;
  auto make = [&](int i) {
    m[i] = std::make_unique<Consumer>(
        io.get_executor(),
        member_config(group, {{"group.instance.id", instances[i]}, {"max.poll.records", "50"}}));
    m[i]->subscribe({topic});
  };
  auto split = [&] {
    return stable(*m[0]) && stable(*m[1]) && m[0]->assignment().size() == 3 && m[1]->assignment().size() == 3;
  };
  make(0);
  make(1);
  auto deadline = std::chrono::steady_clock::now() + 40s;
  while (!split() && std::chrono::steady_clock::now() < deadline)
    for (auto& c : m) poll_once(io, *c, seen);
  INFO("a: " << describe(*m[0]) << "\nb: " << describe(*m[1]));
  REQUIRE(split());

  for (int i = 0; i < 2; ++i) {
    Consumer& other = *m[1 - i];
    const auto partitions = as_set(m[i]->assignment());
    const auto other_partitions = as_set(other.assignment());
    const size_t other_rebalances = other.consumer_group_membership()->timeline().size();
    for (int n = 0; n < 3; ++n) poll_once(io, *m[i], seen);
    auto committed = m[i]->current_positions();
    auto fc = m[i]->async_commit(committed, asio::use_future);
    REQUIRE_FALSE(run_until(io, fc));
    auto fclose = m[i]->async_close(asio::use_future);  // the leave heartbeat, epoch -2
    REQUIRE_FALSE(run_until(io, fclose));
    m[i].reset();
    for (int n = 0; n < 5; ++n) poll_once(io, other, seen);  // the other carries on meanwhile
    CHECK(as_set(other.assignment()) == other_partitions);   // the leaver's share is kept for it

    make(i);
    Consumer& again = *m[i];
    std::map<TopicPartition, int64_t> first_read;
    deadline = std::chrono::steady_clock::now() + 30s;
    while (!(stable(again) && again.assignment().size() == 3) &&
           std::chrono::steady_clock::now() < deadline) {
      auto f = again.async_poll(100ms, asio::use_future);
      auto [ec, records] = run_until(io, f);
      INFO(again.error_text());
      REQUIRE_FALSE(ec);
      for (const auto& r : records) {
        first_read.try_emplace({topic, r.partition()}, r.offset());
        ++seen[{r.partition(), r.offset()}];
      }
      poll_once(io, other, seen);
    }
    INFO("restarted " << instances[i] << ": " << describe(again) << "\n"
                      << again.rebalance_timeline() << "other: " << describe(other) << "\n"
                      << other.rebalance_timeline());
    REQUIRE(stable(again));
    CHECK(as_set(again.assignment()) == partitions);  // the same partitions
    CHECK(as_set(other.assignment()) == other_partitions);
    CHECK(other.consumer_group_membership()->timeline().size() == other_rebalances);  // untouched
    for (const auto& [tp, off] : first_read) {  // it resumes where its previous incarnation committed
      INFO(to_string(tp));
      CHECK(off == committed.at(tp));
    }
  }

  // A second live instance-a: the broker refuses it (UNRELEASED_INSTANCE_ID), a typed fatal error for the
  // newcomer; the member that holds the instance keeps its partitions.
  const auto a_partitions = as_set(m[0]->assignment());
  Consumer intruder(io.get_executor(), member_config(group, {{"group.instance.id", instances[0]}}));
  intruder.subscribe({topic});
  std::error_code refused;
  deadline = std::chrono::steady_clock::now() + 20s;
  while (!refused && std::chrono::steady_clock::now() < deadline) {
    auto f = intruder.async_poll(100ms, asio::use_future);
    refused = std::get<0>(run_until(io, f));
    for (auto& c : m) poll_once(io, *c, seen);
  }
  INFO("intruder: " << describe(intruder) << ": " << intruder.error_text());
  CHECK(refused == kafka_errc::unreleased_instance_id);
  CHECK(intruder.error_text().find("UNRELEASED_INSTANCE_ID") != std::string::npos);
  CHECK(intruder.consumer_group_membership()->state() == cg::State::fatal);
  CHECK(intruder.assignment().empty());
  for (int n = 0; n < 5; ++n)
    for (auto& c : m) poll_once(io, *c, seen);
  CHECK(as_set(m[0]->assignment()) == a_partitions);

  // Both read to the end: nothing skipped.
  deadline = std::chrono::steady_clock::now() + 30s;
  while (seen.size() < kRecords && std::chrono::steady_clock::now() < deadline)
    for (auto& c : m) poll_once(io, *c, seen);
  CHECK(seen.size() == kRecords);
  for (auto& c : m) {
    auto f = c->async_close(asio::use_future);
    CHECK_FALSE(run_until(io, f));
  }
}
