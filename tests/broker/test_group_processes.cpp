// A group of 1..5 kafkawire members, each a process of its own (group_member.cpp), on a 12-partition topic
// that keeps receiving records while members join, leave cleanly (SIGTERM: commit + LeaveGroup) and crash
// (SIGKILL). After each rebalance every partition has exactly one owner; at the end every record was
// consumed, none skipped, and a record was processed twice only if it lay after the last offset committed
// for its partition at the time (the uncommitted tail of a member that crashed or was fenced).
#include <atomic>
#include <filesystem>

#include "helpers.hpp"
#include "member_process.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::base_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::MemberProcess;
using kafkawire::testing::MemberView;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

constexpr int kPartitions = 12;

// Produces to every partition in turn from a thread of its own until stopped.
class BackgroundProducer {
 public:
  explicit BackgroundProducer(std::string topic) : topic_(std::move(topic)) {
    thread_ = std::thread([this] { run(); });
  }
  ~BackgroundProducer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long produced() const { return produced_; }
  const std::string& error() const { return error_; }

 private:
  void run() {
    try {
      asio::io_context io;
      Producer producer(io.get_executor(), base_config({{"linger.ms", "2"}}));
      long i = 0;
      while (!stop_) {
        std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> acks;
        for (int n = 0; n < 4 * kPartitions; ++n, ++i) {
          ProducerRecord r;
          r.topic = topic_;
          r.partition = static_cast<int32_t>(i % kPartitions);
          r.value = "value-" + std::to_string(i);
          acks.push_back(producer.async_send(std::move(r), asio::use_future));
        }
        for (auto& f : acks) {
          auto [ec, md] = run_until(io, f);
          if (ec) throw std::runtime_error("produce: " + ec.message() + ": " + producer.error_text());
          ++produced_;
        }
        std::this_thread::sleep_for(20ms);
      }
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  std::string topic_;
  std::atomic<bool> stop_{false};
  std::atomic<long> produced_{0};
  std::string error_;
  std::thread thread_;
};

struct Group {
  std::string topic, group, dir;
  std::vector<std::string> settings;
  std::vector<std::unique_ptr<MemberProcess>> members;  // every member ever started, by id - 1
  int last_generation = -1;
  // group.protocol=consumer: each member has an epoch of its own, so settling is not one generation but
  // an assignment that covers the topic as evenly as the assignor makes it.
  bool consumer_protocol = false;

  MemberProcess& start() {
    const int id = static_cast<int>(members.size()) + 1;
    members.push_back(std::make_unique<MemberProcess>(id, KAFKAWIRE_GROUP_MEMBER,
                                                      kafkawire::testing::bootstrap(), topic, group,
                                                      dir + "/member" + std::to_string(id), settings));
    REQUIRE(members.back()->started());
    return *members.back();
  }
  std::vector<MemberProcess*> live() {
    std::vector<MemberProcess*> out;
    for (auto& m : members)
      if (m->running()) out.push_back(m.get());
    return out;
  }
  std::string views() {
    std::string s;
    for (auto& m : members) {
      m->read_new();
      s += "member " + std::to_string(m->id()) + (m->running() ? "" : " (gone)") + ": " +
           describe(m->view()) + "\n";
      for (const auto& e : m->errors()) s += "  " + e + "\n";
    }
    return s;
  }
  // Waits until the live members agree on one generation, newer than the last settled one, all stable,
  // and their partitions cover the topic with no partition owned twice. Returns the seconds it took.
  double settle(const std::string& step, std::chrono::seconds bound = 60s) {
    const auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - start < bound) {
      bool ok = true;
      std::set<int> generations;
      std::map<int, int> owners;
      auto members_now = live();
      for (auto* m : members_now) {
        m->read_new();
        CHECK_FALSE(m->fatal());
        if (m->poll_exit()) ok = false;  // died on its own: no
        const auto& v = m->view();
        ok = ok && v.seen && v.state == "stable" && !v.partitions.empty();
        generations.insert(v.generation);
        for (int p : v.partitions) ++owners[p];
      }
      ok = ok && !members_now.empty() && owners.size() == kPartitions;
      if (consumer_protocol) {
        // Reconciling members converge one by one: wait for the balanced assignment rather than check it.
        for (auto* m : members_now)
          ok = ok && m->view().partitions.size() >= kPartitions / members_now.size() &&
               m->view().partitions.size() <= (kPartitions + members_now.size() - 1) / members_now.size();
      } else {
        ok = ok && generations.size() == 1 && *generations.begin() > last_generation;
      }
      for (auto& [p, n] : owners) ok = ok && n == 1;
      if (ok) {
        last_generation = *generations.rbegin();
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        // Sizes as even as the assignor makes them: 12 partitions over n members.
        const size_t n = members_now.size();
        for (auto* m : members_now) {
          CHECK(m->view().partitions.size() >= kPartitions / n);
          CHECK(m->view().partitions.size() <= (kPartitions + n - 1) / n);
        }
        return secs;
      }
      std::this_thread::sleep_for(100ms);
    }
    FAIL("no settled assignment after " << step << " within " << bound.count() << " s:\n" << views());
    return 0;
  }
  // Lets the members consume (and commit) for a while.
  void run_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }
};

std::map<int32_t, int64_t> end_offsets(const std::string& topic) {
  asio::io_context io;
  Consumer c(io.get_executor(), base_config());
  std::vector<TopicPartition> tps;
  for (int p = 0; p < kPartitions; ++p) tps.push_back({topic, p});
  auto f = c.async_list_offsets(tps, -1, asio::use_future);
  auto [ec, offsets] = run_until(io, f);
  REQUIRE_FALSE(ec);
  std::map<int32_t, int64_t> out;
  for (auto& [tp, off] : offsets) out[tp.partition] = off;
  return out;
}

// Every record read, none skipped; a record read again only at or after the last offset committed for
// its partition before that read (by any member). Returns the number of records read more than once.
size_t check_records(Group& g, const std::map<int32_t, int64_t>& ends) {
  std::vector<testing::MemberEvent> all;
  for (auto& m : g.members) {
    m->read_new();
    all.insert(all.end(), m->events().begin(), m->events().end());
  }
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  size_t duplicates = 0;
  std::map<int, std::vector<int>> reads;  // partition -> times each offset was read
  std::map<int, int64_t> committed;       // partition -> highest acknowledged commit so far
  std::map<int, std::pair<int, int64_t>> last_read;
  int early = 0;
  std::string first_early;
  for (const auto& e : all) {
    if (e.kind == 'C') {
      committed[e.partition] = std::max(committed[e.partition], e.offset);
      continue;
    }
    auto& r = reads[e.partition];
    if (e.offset >= static_cast<int64_t>(r.size())) r.resize(static_cast<size_t>(e.offset) + 1);
    if (r[static_cast<size_t>(e.offset)]++ > 0) ++duplicates;
    if (e.offset < committed[e.partition]) {
      if (early++ == 0)
        first_early = "member " + std::to_string(e.member) + " read " + std::to_string(e.partition) + "@" +
                      std::to_string(e.offset) + " after offset " + std::to_string(committed[e.partition]) +
                      " was committed (last read of the partition: member " +
                      std::to_string(last_read[e.partition].first) + " at " +
                      std::to_string(last_read[e.partition].second) + ")";
    }
    last_read[e.partition] = {e.member, e.offset};
  }
  INFO(first_early);
  CHECK(early == 0);  // nothing re-read from before a commit
  for (int p = 0; p < kPartitions; ++p) {
    INFO("partition " << p);
    const int64_t end = ends.at(p);
    REQUIRE(end > 0);
    auto& r = reads[p];
    CHECK(static_cast<int64_t>(r.size()) == end);  // read to the end, nothing past it
    int64_t missing = 0, first_missing = -1;
    for (int64_t o = 0; o < end; ++o)
      if (o >= static_cast<int64_t>(r.size()) || r[static_cast<size_t>(o)] == 0) {
        if (missing++ == 0) first_missing = o;
      }
    INFO("first missing offset " << first_missing);
    CHECK(missing == 0);  // nothing skipped
  }
  return duplicates;
}

// strategy: a classic assignor, or "consumer" for group.protocol=consumer (KIP-848; the broker assigns,
// and notices a killed member after its group.consumer.session.timeout.ms, 45 s by default).
void run_scenario(const std::string& strategy) {
  asio::io_context io;
  Group g;
  g.topic = unique("kw-procs-" + strategy);
  g.group = unique("kw-procs-group");
  g.dir = (std::filesystem::temp_directory_path() / unique("kw-procs")).string();
  std::filesystem::create_directories(g.dir);
  // Commits after every 4th poll: a killed member leaves an uncommitted tail behind.
  g.settings = {"max.poll.interval.ms=20000", "member.commit.every=4"};
  g.consumer_protocol = strategy == "consumer";
  if (g.consumer_protocol) {
    g.settings.push_back("group.protocol=consumer");
  } else {
    for (std::string s : {"partition.assignment.strategy=" + strategy, std::string("session.timeout.ms=4000"),
                          std::string("heartbeat.interval.ms=400")})
      g.settings.push_back(s);
  }
  create_topic(io, g.topic, kPartitions);
  BackgroundProducer producer(g.topic);
  std::string timings;
  auto step = [&](const std::string& what) {
    const double s = g.settle(what, g.consumer_protocol ? 90s : 60s);
    timings += what + ": " + std::to_string(s).substr(0, 4) + " s (generation " +
               std::to_string(g.last_generation) + "); ";
    g.run_for(700ms);
  };

  // Grow 1 -> 5.
  g.start();
  step("member 1 alone");
  for (int n = 2; n <= 5; ++n) {
    g.start();
    step("member " + std::to_string(n) + " joins");
  }
  // Shrink and churn: a crash, a clean leave, another crash, a newcomer, another clean leave.
  REQUIRE(g.members[1]->hold_commits_until_record());
  g.members[1]->kill_now();
  step("member 2 killed");
  CHECK(g.members[3]->stop());
  step("member 4 closed");
  REQUIRE(g.members[0]->hold_commits_until_record());
  g.members[0]->kill_now();
  step("member 1 killed");
  g.start();
  step("member 6 joins");
  CHECK(g.members[2]->stop());
  step("member 3 closed");

  // Stop producing; the members left (5 and 6) read everything up to the end.
  producer.stop();
  REQUIRE(producer.error().empty());
  const auto ends = end_offsets(g.topic);
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    std::map<int, int64_t> committed;
    for (auto& m : g.members) {
      m->read_new();
      for (const auto& e : m->events())
        if (e.kind == 'C') committed[e.partition] = std::max(committed[e.partition], e.offset);
    }
    bool done = true;
    for (auto& [p, end] : ends) done = done && committed[p] == end;
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline)
      FAIL("the last members did not commit up to the end:\n" << g.views());
    std::this_thread::sleep_for(100ms);
  }
  for (auto* m : g.live()) CHECK(m->stop());
  for (auto& m : g.members) {
    m->read_new();
    INFO("member " << m->id());
    CHECK_FALSE(m->fatal());
  }
  CHECK(g.members[2]->closed());
  CHECK(g.members[3]->closed());
  CHECK_FALSE(g.members[0]->closed());
  const size_t duplicates = check_records(g, ends);
  // Two members died with records processed and not committed, which their successors read again.
  CHECK(duplicates > 0);
  long total = 0;
  for (auto& [p, end] : ends) total += end;
  WARN(strategy << ": " << total << " records, " << duplicates << " read twice; settle times: " << timings);
  std::filesystem::remove_all(g.dir);
}

}  // namespace

TEST_CASE("1..5 member processes under load: join, leave, crash; one owner per partition, nothing skipped",
          "[broker][group_processes]") {
  SECTION("range") { run_scenario("range"); }
  SECTION("cooperative-sticky") { run_scenario("cooperative-sticky"); }
  SECTION("group.protocol=consumer") { run_scenario("consumer"); }
}
