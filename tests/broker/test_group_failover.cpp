// Coordinator failover on the 3-node cluster (tests/broker/cluster_fixture.sh, base port
// KAFKAWIRE_CLUSTER_PORT, default 29192): the node that coordinates the group is stopped while two
// members consume and commit; the group finds the new coordinator and carries on from its committed
// offsets. The node is started again at the end. And exactly-once consume-process-produce (the example,
// SIGKILLed) while the transaction coordinator's node is stopped.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "exactly_once.hpp"
#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

int cluster_port() {
  const char* env = std::getenv("KAFKAWIRE_CLUSTER_PORT");
  return env && *env ? std::stoi(env) : 29192;
}

std::string cluster_bootstrap() {
  const int p = cluster_port();
  return "127.0.0.1:" + std::to_string(p) + ",127.0.0.1:" + std::to_string(p + 2) +
         ",127.0.0.1:" + std::to_string(p + 4);
}

Config cluster_config(std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", cluster_bootstrap()}};
  for (const auto& [k, v] : extra) kv[k] = v;
  return Config(kv);
}

// `kafka-local <command> <node> --port <cluster port>`, in a child process, so the caller keeps its
// members polling (and heartbeating) while a node takes seconds to stop or start.
class KafkaLocal {
 public:
  KafkaLocal(const std::string& command, int node) {
    char path[] = "/tmp/kw-kafka-local-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    log_ = path;
    const std::string program = std::string(KAFKAWIRE_SOURCE_DIR) + "/tools/broker/kafka-local";
    const std::string n = std::to_string(node), port = std::to_string(cluster_port());
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
      execl(program.c_str(), "kafka-local", command.c_str(), n.c_str(), "--port", port.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fd);
  }
  // Non-blocking: has it finished? (then ok() tells how)
  bool done() {
    if (!finished_ && waitpid(pid_, &status_, WNOHANG) == pid_) finished_ = true;
    return finished_;
  }
  void wait() {
    if (!finished_) waitpid(pid_, &status_, 0);
    finished_ = true;
  }
  bool ok() const { return finished_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
  std::string output() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  ~KafkaLocal() {
    wait();
    std::remove(log_.c_str());
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool finished_ = false;
};

// Starts the stopped node again however the test ends.
struct RestartNode {
  int node = 0;
  ~RestartNode() {
    if (node == 0) return;
    KafkaLocal start("start-node", node);
    start.wait();
    if (!start.ok()) std::fprintf(stderr, "restarting node %d failed:\n%s\n", node, start.output().c_str());
  }
};

Config member_settings(const std::string& group, GroupProtocol protocol) {
  if (protocol == GroupProtocol::consumer)  // the broker sets the session timeout and heartbeat interval
    return cluster_config({{"group.id", group},
                           {"group.protocol", "consumer"},
                           {"auto.offset.reset", "earliest"},
                           {"enable.auto.commit", "false"},
                           {"max.poll.records", "100"}});
  return cluster_config({{"group.id", group},
                         {"auto.offset.reset", "earliest"},
                         {"enable.auto.commit", "false"},
                         {"session.timeout.ms", "10000"},
                         {"heartbeat.interval.ms", "500"},
                         {"max.poll.records", "100"},
                         {"partition.assignment.strategy", "range"}});
}

// What the test asks of a member, whichever protocol it speaks.
bool stable(const Consumer& c) {
  if (const auto* m = c.membership()) return m->state() == group::State::stable;
  if (const auto* m = c.consumer_group_membership())
    return m->state() == group::consumer_group::State::stable;
  return false;
}
std::optional<int32_t> coordinator_of(const Consumer& c) {
  if (const auto* m = c.membership()) return m->coordinator();
  if (const auto* m = c.consumer_group_membership()) return m->coordinator();
  return std::nullopt;
}
std::string membership_text(const Consumer& c) {
  if (const auto* m = c.membership())
    return std::string(to_string(m->state())) + " generation " + std::to_string(m->generation());
  if (const auto* m = c.consumer_group_membership())
    return std::string(to_string(m->state())) + " epoch " + std::to_string(m->member_epoch());
  return "not in a group";
}

void produce_to(asio::io_context& io, Producer& producer, const std::string& topic, int32_t partitions,
                int from, int count) {
  std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> acks;
  for (int i = from; i < from + count; ++i) {
    ProducerRecord r;
    r.topic = topic;
    r.partition = i % partitions;
    r.value = "value-" + std::to_string(i);
    acks.push_back(producer.async_send(std::move(r), asio::use_future));
  }
  for (auto& f : acks) {
    auto [ec, md] = run_until(io, f, 60s);
    INFO(producer.error_text());
    REQUIRE_FALSE(ec);
  }
}

// Two members of a group that commit after every poll, with a record of what they read and committed.
struct Members {
  asio::io_context& io;
  std::vector<std::unique_ptr<Consumer>> consumers;
  std::map<std::pair<int32_t, int64_t>, int> seen;  // (partition, offset) -> times read
  std::map<int32_t, int64_t> committed;             // partition -> highest acknowledged commit
  std::vector<std::string> early;                   // reads below an acknowledged commit
  std::vector<std::string> commit_errors;
  size_t commits_ok = 0;

  void poll_all() {
    for (size_t i = 0; i < consumers.size(); ++i) {
      auto& c = *consumers[i];
      auto f = c.async_poll(100ms, asio::use_future);
      auto [ec, records] = run_until(io, f);
      if (ec) {
        commit_errors.push_back("member " + std::to_string(i) + " poll: " + ec.message() + ": " +
                                c.error_text());
        continue;
      }
      for (const auto& r : records) {
        if (r.offset() < committed[r.partition()] && early.size() < 5)
          early.push_back("member " + std::to_string(i) + " read " + std::to_string(r.partition()) + "@" +
                          std::to_string(r.offset()) + " below the commit " +
                          std::to_string(committed[r.partition()]));
        ++seen[{r.partition(), r.offset()}];
      }
      if (records.empty()) continue;
      auto positions = c.current_positions();
      auto fc = c.async_commit(positions, asio::use_future);
      if (auto cec = run_until(io, fc, 90s)) {
        commit_errors.push_back("member " + std::to_string(i) + " commit: " + cec.message() + ": " +
                                c.error_text());
      } else {
        ++commits_ok;
        for (auto& [tp, off] : positions) committed[tp.partition] = std::max(committed[tp.partition], off);
      }
    }
  }
  bool all_stable() const {
    size_t owned = 0;
    for (const auto& c : consumers) {
      if (!stable(*c)) return false;
      owned += c->assignment().size();
    }
    return owned > 0;
  }
  std::string describe() const {
    std::string s;
    for (size_t i = 0; i < consumers.size(); ++i) {
      s += "member " + std::to_string(i) + ": " + membership_text(*consumers[i]) + " coordinator " +
           std::to_string(coordinator_of(*consumers[i]).value_or(-1)) + ", " +
           std::to_string(consumers[i]->assignment().size()) + " partitions\n" +
           consumers[i]->rebalance_timeline() + "\n";
    }
    for (const auto& e : commit_errors) s += e + "\n";
    return s;
  }
};

}  // namespace

TEST_CASE("coordinator failover: the group finds the new coordinator and carries on from its commits",
          "[cluster][group]") {
  // Both protocols: with KIP-848's the new coordinator must also take over the members' epochs and
  // assignments from __consumer_offsets, where the classic one only needs the commits and a rejoin.
  const GroupProtocol protocol = GENERATE(GroupProtocol::classic, GroupProtocol::consumer);
  INFO("group.protocol=" << (protocol == GroupProtocol::classic ? "classic" : "consumer"));
  asio::io_context io;
  const std::string topic = unique("kw-failover");
  const std::string group = unique("kw-failover-group");
  constexpr int kPartitions = 6, kBefore = 3000, kDuring = 1200, kAfter = 1800;
  INFO("tests/broker/cluster_fixture.sh start, KAFKAWIRE_CLUSTER_PORT");
  kafkawire::testing::create_topic(io, topic, kPartitions, {}, cluster_bootstrap(), 3);
  Producer producer(io.get_executor(), cluster_config({{"linger.ms", "5"}, {"acks", "all"}}));
  produce_to(io, producer, topic, kPartitions, 0, kBefore);

  Members g{io, {}, {}, {}, {}, {}, 0};
  for (int i = 0; i < 2; ++i) {
    g.consumers.push_back(std::make_unique<Consumer>(io.get_executor(), member_settings(group, protocol)));
    g.consumers.back()->subscribe({topic});
  }
  // Both members in, about half of the first records read and committed.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((!g.all_stable() || g.consumers[0]->assignment().size() != 3 || g.seen.size() < kBefore / 2) &&
         std::chrono::steady_clock::now() < deadline)
    g.poll_all();
  INFO(g.describe());
  REQUIRE(g.all_stable());
  REQUIRE(g.seen.size() >= kBefore / 2);
  const auto before = coordinator_of(*g.consumers[0]);
  REQUIRE(before);
  REQUIRE(coordinator_of(*g.consumers[1]) == before);
  const int old_coordinator = *before;
  REQUIRE(old_coordinator >= 1);
  REQUIRE(old_coordinator <= 3);

  // Stop the coordinator's node; the members keep polling and committing meanwhile.
  RestartNode restart;
  {
    KafkaLocal stop("stop-node", old_coordinator);
    restart.node = old_coordinator;
    while (!stop.done()) g.poll_all();
    INFO(stop.output());
    REQUIRE(stop.ok());
  }
  const size_t commits_before_failover = g.commits_ok;
  produce_to(io, producer, topic, kPartitions, kBefore, kDuring);

  // The group moves to a new coordinator and reads on from its commits, to the end.
  const size_t total = kBefore + kDuring;
  deadline = std::chrono::steady_clock::now() + 90s;
  auto moved = [&] {
    for (const auto& c : g.consumers)
      if (coordinator_of(*c).value_or(old_coordinator) == old_coordinator) return false;
    return true;
  };
  auto all_committed = [&](int64_t per_partition) {
    for (int p = 0; p < kPartitions; ++p)
      if (g.committed[p] != per_partition) return false;
    return true;
  };
  while (!(moved() && g.all_stable() && g.seen.size() == total && all_committed(total / kPartitions)) &&
         std::chrono::steady_clock::now() < deadline)
    g.poll_all();
  INFO(g.describe());
  CHECK(moved());
  CHECK(g.all_stable());
  CHECK(g.commits_ok > commits_before_failover);
  CHECK(g.seen.size() == total);  // nothing skipped
  CHECK(all_committed(total / kPartitions));
  CHECK(g.early.empty());  // nothing re-read from below an acknowledged commit
  // Commits that met the coordinator's move were sent again (commitSync-like), none failed; polls neither.
  CHECK(g.commit_errors.empty());
  for (const auto& e : g.early) UNSCOPED_INFO(e);

  // The old coordinator comes back: the group stays in business (its coordinator may move again).
  {
    KafkaLocal start("start-node", old_coordinator);
    while (!start.done()) g.poll_all();
    INFO(start.output());
    REQUIRE(start.ok());
    restart.node = 0;
  }
  // A third member joins: the partitions it takes start from the offsets the new coordinator serves
  // (__consumer_offsets is replicated), so again nothing is skipped and nothing below a commit re-read.
  g.consumers.push_back(std::make_unique<Consumer>(io.get_executor(), member_settings(group, protocol)));
  g.consumers.back()->subscribe({topic});
  produce_to(io, producer, topic, kPartitions, static_cast<int>(total), kAfter);
  deadline = std::chrono::steady_clock::now() + 60s;
  auto split_three = [&] {
    for (const auto& c : g.consumers)
      if (c->assignment().size() != 2) return false;
    return true;
  };
  while (!(g.all_stable() && split_three() && g.seen.size() == total + kAfter &&
           all_committed((total + kAfter) / kPartitions)) &&
         std::chrono::steady_clock::now() < deadline)
    g.poll_all();
  INFO(g.describe());
  CHECK(split_three());
  CHECK(g.seen.size() == total + kAfter);
  CHECK(all_committed((total + kAfter) / kPartitions));
  CHECK(g.early.empty());
  CHECK(g.commit_errors.empty());
  size_t twice = 0;
  for (auto& [rec, n] : g.seen) twice += n > 1;
  WARN("failover from node " << old_coordinator << ": " << twice << " records read twice, "
                             << g.commit_errors.size() << " failed polls/commits during the failover:\n"
                             << g.describe());
  for (auto& c : g.consumers) {
    auto f = c->async_close(asio::use_future);
    CHECK_FALSE(run_until(io, f, 90s));
  }
}

using kafkawire::testing::count_once;
using kafkawire::testing::file_text;
using kafkawire::testing::kill_exactly_once;
using kafkawire::testing::start_exactly_once;

TEST_CASE("exactly once on 3 nodes: SIGKILLs, and the transaction coordinator's node stopped once",
          "[cluster][transactions][eos]") {
  asio::io_context io;
  const std::string input = unique("kw-eos3-in"), output = unique("kw-eos3-out"),
                    group = unique("kw-eos3-group");
  const std::string log = "/tmp/" + group + ".log";
  constexpr int kRecords = 20000;
  kafkawire::testing::create_topic(io, input, 3, {}, cluster_bootstrap(), 3);
  kafkawire::testing::create_topic(io, output, 3, {}, cluster_bootstrap(), 3);
  {
    Producer producer(io.get_executor(), cluster_config());
    produce_to(io, producer, input, 3, 0, kRecords);
  }
  std::mt19937 rng(std::random_device{}());
  for (int i = 0; i < 3; ++i) {
    const pid_t pid = start_exactly_once(cluster_bootstrap(), input, output, group, 0, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(2000 + rng() % 2000));
    INFO(file_text(log));
    REQUIRE(kill_exactly_once(pid));
  }
  // The coordinator of the example's transactional id (examples/exactly_once.cpp: group-input-instance).
  auto pool = net::Pool::create(io.get_executor(), pool_options(cluster_config()));
  auto f = pool->async_find_coordinator(group + "-" + input + "-0", int8_t{1}, asio::use_future);
  auto [fec, coordinator] = run_until(io, f);
  REQUIRE_FALSE(fec);
  pool->close();
  const int node = coordinator.node_id;
  REQUIRE(node >= 1);
  REQUIRE(node <= 3);
  {
    // Stopped while the processor works; it goes on through the new coordinator, then is killed too.
    const pid_t pid = start_exactly_once(cluster_bootstrap(), input, output, group, 0, log);
    std::this_thread::sleep_for(1500ms);
    RestartNode restart;
    {
      KafkaLocal stop("stop-node", node);
      stop.wait();
      INFO(stop.output());
      REQUIRE(stop.ok());
      restart.node = node;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(4000 + rng() % 2000));
    INFO(file_text(log));
    REQUIRE(kill_exactly_once(pid));
    // One more life and death with the node down.
    const pid_t again = start_exactly_once(cluster_bootstrap(), input, output, group, 0, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(3000 + rng() % 2000));
    REQUIRE(kill_exactly_once(again));
  }  // the node starts again here
  const pid_t last = start_exactly_once(cluster_bootstrap(), input, output, group, 8, log);
  int status = 0;
  waitpid(last, &status, 0);
  INFO(file_text(log));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto read = [&](const std::string& isolation) {
    Consumer c(io.get_executor(),
               cluster_config({{"auto.offset.reset", "earliest"}, {"isolation.level", isolation}}));
    c.assign({{output, 0}, {output, 1}, {output, 2}});
    std::vector<std::string> values;
    auto idle_since = std::chrono::steady_clock::now();
    const auto deadline = idle_since + 60s;
    while (std::chrono::steady_clock::now() < deadline &&
           std::chrono::steady_clock::now() - idle_since < 5s) {
      auto p = c.async_poll(300ms, asio::use_future);
      auto [ec, records] = run_until(io, p);
      REQUIRE_FALSE(ec);
      if (!records.empty()) idle_since = std::chrono::steady_clock::now();
      for (const auto& r : records) values.emplace_back(r.value()->str());
    }
    return values;
  };
  const auto committed = read("read_committed");
  const auto once = count_once(committed, kRecords);
  INFO("transaction coordinator was node " << node);
  CHECK(once.missing == 0);
  CHECK(once.twice == 0);
  CHECK(committed.size() == static_cast<size_t>(kRecords));
  CHECK(read("read_uncommitted").size() > committed.size());  // the kills cut transactions
  std::remove(log.c_str());
}
