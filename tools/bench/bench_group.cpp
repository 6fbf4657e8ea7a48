// bench_group: consumer-group latencies of kafkawire against a real broker.
//
//   bench_group --bootstrap 127.0.0.1:9092 [--topic T] [--partitions 12] [--rounds 5] [--commits 10000]
//               [--strategy range] [--heartbeat-ms 100] [--group-protocol classic|consumer]
//               [--recovery-rounds 3]
//
// Per round, in a new group on a topic of `partitions` partitions:
//   first assignment: member A created and subscribed -> A's on_assigned with every partition
//   rebalance:        member B created and subscribed -> both hold their final share (disjoint, all covered)
// Then, in the last round's two-member group, A makes `commits` synchronous commits of its partitions
// (offset i on commit i) and the latency of each is recorded: p50, p99, mean.
// Then `recovery-rounds` rounds, each in a new group: a member runs in a child process (this program again,
// with --child GROUP; it reports its partitions on stdout), owns everything, then shares with a survivor
// created here; the child is SIGKILLed, one record is produced to every partition, and recovery is the
// time from the kill until the survivor has consumed that record from each of the dead member's partitions
// (the broker notices the death after the session timeout: 6 s, set by the client for classic and by the
// broker for consumer, tools/broker/kafka-local). The survivor reads from earliest and matches the record's
// value, so records of earlier rounds on the same partitions do not count.
//
// --group-protocol consumer (KIP-848): session.timeout.ms, heartbeat.interval.ms and the assignment strategy
// belong to the broker (--strategy and --heartbeat-ms are then ignored; the broker's default assignor).
//
// The same method as tools/bench/java GroupBench (tests/broker/java) and bench_group_rdkafka.c, so
// tools/bench/group-bench can print the three side by side. The members poll in turn with 1 ms
// timeouts; times come from the rebalance listener, so polling granularity does not round them.
// Last line: "result client=kafkawire ..." (key=value, parsed by group-bench). Exit status 1 when an
// assignment is wrong or a commit fails: figures are printed only for a run that did what it claims.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/protocol/create_topics.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string bootstrap;
  std::string topic;
  int partitions = 12;
  int rounds = 5;
  int commits = 10000;
  std::string strategy = "range";
  int heartbeat_ms = 100;
  std::string group_protocol = "classic";
  int recovery_rounds = 3;
  std::string child_group;        // --child GROUP: run one member until killed (the recovery rounds)
  std::vector<std::string> argv;  // as given, to start a child with the same options
  bool consumer_protocol() const { return group_protocol == "consumer"; }
};

[[noreturn]] void usage(const char* problem) {
  std::fprintf(
      stderr,
      "bench_group: %s\n"
      "usage: bench_group --bootstrap HOST:PORT [--topic T] [--partitions N] [--rounds N] [--commits N]\n"
      "                   [--strategy range|roundrobin|cooperative-sticky] [--heartbeat-ms N]\n"
      "                   [--group-protocol classic|consumer] [--recovery-rounds N]\n",
      problem);
  std::exit(2);
}

int to_int(const char* flag, const char* v, int min) {
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (!*v || *end || n < min || n > 100000000) {
    std::fprintf(stderr, "bench_group: %s wants a whole number >= %d, got '%s'\n", flag, min, v);
    std::exit(2);
  }
  return static_cast<int>(n);
}

Options parse(int argc, char** argv) {
  Options o;
  o.argv.assign(argv, argv + argc);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") usage("consumer-group latencies (see the top of bench_group.cpp)");
    if (i + 1 >= argc) usage((a + " needs a value").c_str());
    const char* v = argv[++i];
    if (a == "--bootstrap")
      o.bootstrap = v;
    else if (a == "--topic")
      o.topic = v;
    else if (a == "--partitions")
      o.partitions = to_int("--partitions", v, 2);
    else if (a == "--rounds")
      o.rounds = to_int("--rounds", v, 1);
    else if (a == "--commits")
      o.commits = to_int("--commits", v, 1);
    else if (a == "--strategy")
      o.strategy = v;
    else if (a == "--heartbeat-ms")
      o.heartbeat_ms = to_int("--heartbeat-ms", v, 1);
    else if (a == "--group-protocol")
      o.group_protocol = v;
    else if (a == "--recovery-rounds")
      o.recovery_rounds = to_int("--recovery-rounds", v, 0);
    else if (a == "--child")
      o.child_group = v;
    else
      usage(("unknown option " + a).c_str());
  }
  if (o.bootstrap.empty()) usage("--bootstrap is required");
  if (o.group_protocol != "classic" && o.group_protocol != "consumer")
    usage(("--group-protocol: classic or consumer, not " + o.group_protocol).c_str());
  if (!o.child_group.empty() && o.topic.empty()) usage("--child needs --topic");
  if (o.topic.empty()) o.topic = "kw-bench-group-" + std::to_string(std::random_device{}() % 1000000000);
  return o;
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}
double median(std::vector<double> v) { return percentile(std::move(v), 0.5); }

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A member and when its partitions last changed.
struct Member {
  std::unique_ptr<Consumer> consumer;
  Clock::time_point changed_at{};  // the last on_assigned / on_revoked / on_lost
  std::set<int32_t> owned;

  Member(asio::io_context& io, const Options& o, const std::string& group, const char* reset = "latest") {
    std::map<std::string, std::string> kv{
        {"bootstrap.servers", o.bootstrap}, {"group.id", group},
        {"client.id", "bench-group"},       {"enable.auto.commit", "false"},
        {"auto.offset.reset", reset},       {"group.protocol", o.group_protocol}};
    if (!o.consumer_protocol()) {  // with consumer, the broker owns these (Config refuses them)
      kv["session.timeout.ms"] = "6000";
      kv["heartbeat.interval.ms"] = std::to_string(o.heartbeat_ms);
      kv["partition.assignment.strategy"] = o.strategy;
    }
    consumer = std::make_unique<Consumer>(io.get_executor(), Config(kv));
    RebalanceListener l;
    l.on_assigned = [this](const std::vector<TopicPartition>& tps) {
      for (const auto& tp : tps) owned.insert(tp.partition);
      changed_at = Clock::now();
    };
    l.on_revoked = [this](const std::vector<TopicPartition>& tps) {
      for (const auto& tp : tps) owned.erase(tp.partition);
      changed_at = Clock::now();
    };
    l.on_lost = l.on_revoked;
    consumer->set_rebalance_listener(std::move(l));
  }
  bool stable() const {
    if (const auto* m = consumer->consumer_group_membership())
      return m->state() == group::consumer_group::State::stable;
    return consumer->membership() && consumer->membership()->state() == group::State::stable;
  }
};

asio::awaitable<void> poll_once(Member& m) {
  auto [ec, records] = co_await m.consumer->poll(1ms);
  if (ec) throw Failure("poll: " + m.consumer->error_text() + " (" + ec.message() + ")");
}

asio::awaitable<void> create_topic(const Options& o) {
  net::PoolOptions po;
  if (net::parse_bootstrap(o.bootstrap, po.bootstrap)) throw Failure("bad --bootstrap " + o.bootstrap);
  auto pool = net::Pool::create(co_await asio::this_coro::executor, po);
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = o.topic;
  t.num_partitions = o.partitions;
  t.replication_factor = -1;
  req.topics.push_back(t);
  req.timeout_ms = 30000;
  auto [ec, reply] = co_await pool->send_any(req);
  if (ec) throw Failure("CreateTopics: " + ec.message());
  const int16_t err = reply->topics.empty() ? -1 : reply->topics[0].error_code;
  if (err != 0 && err != 36 /* TOPIC_ALREADY_EXISTS */)
    throw Failure("CreateTopics " + o.topic + ": error code " + std::to_string(err));
  std::vector<std::string> topics;  // not a braced list inside co_await (GCC 12)
  topics.push_back(o.topic);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto [mec, none] = co_await pool->refresh_metadata(topics);
    const net::TopicInfo* info = pool->metadata().topic(o.topic);
    if (!mec && info && info->partitions.size() != static_cast<size_t>(o.partitions) && err == 36 &&
        !info->partitions.empty())
      throw Failure("topic " + o.topic + " exists with " + std::to_string(info->partitions.size()) +
                    " partitions, not " + std::to_string(o.partitions));
    bool ready =
        !mec && info && info->error_code == 0 && info->partitions.size() == static_cast<size_t>(o.partitions);
    if (ready)
      for (const auto& p : info->partitions) ready = ready && p.leader >= 0;
    if (ready) {
      pool->close();
      co_return;
    }
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, 100ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  throw Failure("topic " + o.topic + " has no leaders");
}

struct Results {
  std::vector<double> first, rebalance, commit_us, recovery;
};

std::string partition_list(const std::set<int32_t>& owned) {
  std::string s;
  for (int32_t p : owned) s += (s.empty() ? "" : ",") + std::to_string(p);
  return s.empty() ? "-" : s;
}

// A member in a child process (this program with --child GROUP), for the recovery rounds: it writes
// "owned 0,1,2" (or "owned -") to its stdout, a pipe to us, whenever its partitions change. Started with
// posix_spawn (exec at once: the child does not inherit this process's io_context).
struct Child {
  pid_t pid = -1;
  int out = -1;
  std::string buf;
  std::set<int32_t> owned;

  Child(const Options& o, const std::string& group) {
    std::vector<std::string> args = o.argv;
    for (const char* a : {"--child", group.c_str(), "--topic", o.topic.c_str()}) args.emplace_back(a);
    std::vector<char*> cargv;
    for (auto& a : args) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int fds[2];
    if (pipe(fds) != 0) throw Failure("pipe: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    posix_spawn_file_actions_addclose(&fa, fds[0]);
    const int err = posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    out = fds[0];
    if (err != 0) {
      close(out);
      throw Failure("cannot start the child member: " + std::string(std::strerror(err)));
    }
    fcntl(out, F_SETFL, fcntl(out, F_GETFL) | O_NONBLOCK);
    fcntl(out, F_SETFD, FD_CLOEXEC);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    kill_now();
    close(out);
  }

  // Takes in what the child wrote; throws when it died on its own.
  void drain() {
    char chunk[4096];
    for (ssize_t n; (n = read(out, chunk, sizeof chunk)) > 0;) buf.append(chunk, static_cast<size_t>(n));
    for (size_t nl; (nl = buf.find('\n')) != std::string::npos; buf.erase(0, nl + 1)) {
      const std::string line = buf.substr(0, nl);
      if (line.rfind("owned ", 0) != 0) continue;
      owned.clear();
      for (const char* p = line.c_str() + 6; *p && *p != '-';) {
        char* end = nullptr;
        owned.insert(static_cast<int32_t>(std::strtol(p, &end, 10)));
        p = *end ? end + 1 : end;
      }
    }
    int status = 0;
    if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      throw Failure("the child member exited on its own (status " + std::to_string(status) + ")");
    }
  }
  void kill_now() {
    if (pid <= 0) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

asio::awaitable<void> sleep_ms(int n) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::milliseconds(n));
  co_await timer.async_wait(asio::use_awaitable);
}

// One recovery round (see the top of the file); returns milliseconds from the SIGKILL until the survivor
// consumed the record produced after it on each of the dead member's partitions.
asio::awaitable<double> recovery_round(asio::io_context& io, const Options& o, const std::string& group,
                                       const std::string& marker) {
  Producer producer(io.get_executor(), Config({{"bootstrap.servers", o.bootstrap}, {"linger.ms", "0"}}));
  {  // connected and with metadata before the clock starts
    ProducerRecord warm{.topic = o.topic, .partition = 0, .value = "warm-up"};
    auto [ec, md] = co_await producer.async_send(std::move(warm), asio::as_tuple(asio::use_awaitable));
    if (ec) throw Failure("produce: " + producer.error_text());
  }
  Child child(o, group);
  const auto t0 = Clock::now();
  while (child.owned.size() < static_cast<size_t>(o.partitions)) {
    child.drain();
    if (Clock::now() - t0 > 60s) throw Failure("the child member has no assignment after 60 s");
    co_await sleep_ms(1);
  }
  Member survivor(io, o, group, "earliest");
  survivor.consumer->subscribe({o.topic});
  for (;;) {
    co_await poll_once(survivor);
    child.drain();
    std::set<int32_t> all = survivor.owned;
    all.insert(child.owned.begin(), child.owned.end());
    if (!survivor.owned.empty() && !child.owned.empty() &&
        all.size() == survivor.owned.size() + child.owned.size() &&
        all.size() == static_cast<size_t>(o.partitions) && survivor.stable())
      break;
    if (Clock::now() - t0 > 60s)
      throw Failure("the survivor and the child did not share the partitions in 60 s");
  }
  const std::set<int32_t> dead = child.owned;

  child.kill_now();
  const auto t_kill = Clock::now();
  int failed = 0;
  for (int32_t p = 0; p < o.partitions; ++p)
    producer.async_send(ProducerRecord{.topic = o.topic, .partition = p, .value = marker},
                        [&failed](std::error_code ec, RecordMetadata) { failed += ec ? 1 : 0; });
  std::set<int32_t> seen;
  while (seen.size() < dead.size()) {
    auto [ec, records] = co_await survivor.consumer->poll(1ms);
    if (ec) throw Failure("poll: " + survivor.consumer->error_text() + " (" + ec.message() + ")");
    for (const Record& r : records)
      if (dead.count(r.partition()) && r.value() && r.value()->str() == marker) seen.insert(r.partition());
    if (failed) throw Failure("produce: " + producer.error_text());
    if (Clock::now() - t_kill > 60s)
      throw Failure("60 s after the kill the survivor has consumed from " + std::to_string(seen.size()) +
                    " of " + std::to_string(dead.size()) + " of the dead member's partitions");
  }
  const double recovery = ms(Clock::now() - t_kill);
  std::printf("recovery: the child's %zu partitions consumed again %.1f ms after its SIGKILL\n", dead.size(),
              recovery);
  std::fflush(stdout);
  co_await survivor.consumer->close();
  co_await producer.async_close(asio::use_awaitable);
  co_return recovery;
}

// --child GROUP: one member that owns what it is given until it is killed, reporting its partitions.
asio::awaitable<void> child_member(asio::io_context& io, const Options& o) {
  const pid_t parent = getppid();
  Member m(io, o, o.child_group, "earliest");
  m.consumer->subscribe({o.topic});
  std::string reported;
  const auto t0 = Clock::now();
  while (getppid() == parent && Clock::now() - t0 < 300s) {  // the parent's end is ours too
    auto [ec, records] = co_await m.consumer->poll(5ms);
    if (ec) throw Failure("child poll: " + m.consumer->error_text() + " (" + ec.message() + ")");
    const std::string now = partition_list(m.owned);
    if (now != reported) {
      std::printf("owned %s\n", now.c_str());
      std::fflush(stdout);
      reported = now;
    }
  }
}

asio::awaitable<void> run(asio::io_context& io, const Options& o, Results& res) {
  co_await create_topic(o);
  const auto salt = std::to_string(std::random_device{}() % 1000000000);
  for (int round = 1; round <= o.rounds; ++round) {
    const std::string group = "kw-bench-group-" + salt + "-" + std::to_string(round);
    const auto t0 = Clock::now();  // from creating the client, as for the peers
    Member a(io, o, group);
    a.consumer->subscribe({o.topic});
    while (a.owned.size() < static_cast<size_t>(o.partitions)) {
      co_await poll_once(a);
      if (Clock::now() - t0 > 30s)
        throw Failure("member A has no assignment after 30 s: " + a.consumer->error_text());
    }
    const double first = ms(a.changed_at - t0);

    const auto t1 = Clock::now();
    Member b(io, o, group);
    b.consumer->subscribe({o.topic});
    for (;;) {
      co_await poll_once(a);
      co_await poll_once(b);
      std::set<int32_t> all = a.owned;
      all.insert(b.owned.begin(), b.owned.end());
      if (!a.owned.empty() && !b.owned.empty() && all.size() == a.owned.size() + b.owned.size() &&
          all.size() == static_cast<size_t>(o.partitions) && a.stable() && b.stable())
        break;
      if (Clock::now() - t1 > 30s)
        throw Failure("the second member's rebalance did not complete in 30 s: " + a.consumer->error_text() +
                      " / " + b.consumer->error_text());
    }
    const double rebalance = ms(std::max(a.changed_at, b.changed_at) - t1);
    res.first.push_back(first);
    res.rebalance.push_back(rebalance);
    std::printf(
        "round %d: first assignment %.1f ms, second member -> both assigned %.1f ms (A %zu, B %zu "
        "partitions)\n",
        round, first, rebalance, a.owned.size(), b.owned.size());
    std::fflush(stdout);

    if (round == o.rounds) {
      // Commit latency: A commits its partitions, offset i on commit i, each waiting for the broker.
      std::map<TopicPartition, int64_t> offsets;
      res.commit_us.reserve(static_cast<size_t>(o.commits));
      for (int i = 1; i <= o.commits; ++i) {
        offsets.clear();
        for (int32_t p : a.owned) offsets[TopicPartition{o.topic, p}] = i;
        const auto c0 = Clock::now();
        auto [ec, none] = co_await a.consumer->commit(offsets);
        const auto c1 = Clock::now();
        if (ec) throw Failure("commit " + std::to_string(i) + ": " + a.consumer->error_text());
        res.commit_us.push_back(std::chrono::duration<double, std::micro>(c1 - c0).count());
      }
      // What the group holds now is the last commit.
      std::vector<TopicPartition> tps;
      for (int32_t p : a.owned) tps.push_back({o.topic, p});
      auto [ec, committed] = co_await a.consumer->committed(tps);
      if (ec) throw Failure("committed: " + a.consumer->error_text());
      for (auto& [tp, off] : committed)
        if (off != o.commits)
          throw Failure("partition " + to_string(tp) + " committed offset is not the last commit");
    }
    co_await b.consumer->close();
    co_await a.consumer->close();
  }
  for (int round = 1; round <= o.recovery_rounds; ++round)
    res.recovery.push_back(
        co_await recovery_round(io, o, "kw-bench-group-" + salt + "-kill-" + std::to_string(round),
                                "killed-" + salt + "-" + std::to_string(round)));
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (!o.child_group.empty()) {
    asio::io_context io;
    int status = 0;
    asio::co_spawn(io, child_member(io, o), [&](std::exception_ptr e) {
      if (!e) return;
      status = 1;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        std::fprintf(stderr, "bench_group --child: %s\n", x.what());
      }
    });
    io.run();
    return status;
  }
  std::printf(
      "bench_group: kafkawire, topic %s (%d partitions), group.protocol %s, %s, %d rounds, %d commits, "
      "%d recovery rounds\n",
      o.topic.c_str(), o.partitions, o.group_protocol.c_str(),
      o.consumer_protocol()
          ? "the broker's assignor and heartbeat interval"
          : ("strategy " + o.strategy + ", heartbeat.interval.ms " + std::to_string(o.heartbeat_ms)).c_str(),
      o.rounds, o.commits, o.recovery_rounds);
  asio::io_context io;
  Results res;
  std::exception_ptr failure;
  asio::co_spawn(io, run(io, o, res), [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench_group: %s\n", e.what());
    }
    return 1;
  }
  double mean = 0;
  for (double v : res.commit_us) mean += v;
  mean /= static_cast<double>(res.commit_us.size());
  // recovery_ms=- when no recovery round ran.
  char recovery[64] = "recovery_ms=- recovery_min_ms=-";
  if (!res.recovery.empty())
    std::snprintf(recovery, sizeof recovery, "recovery_ms=%.1f recovery_min_ms=%.1f", median(res.recovery),
                  *std::min_element(res.recovery.begin(), res.recovery.end()));
  std::printf(
      "result client=kafkawire protocol=%s partitions=%d rounds=%d first_assignment_ms=%.1f "
      "first_assignment_min_ms=%.1f rebalance_ms=%.1f rebalance_min_ms=%.1f commits=%zu commit_p50_us=%.0f "
      "commit_p99_us=%.0f commit_mean_us=%.0f %s\n",
      o.group_protocol.c_str(), o.partitions, o.rounds, median(res.first),
      *std::min_element(res.first.begin(), res.first.end()), median(res.rebalance),
      *std::min_element(res.rebalance.begin(), res.rebalance.end()), res.commit_us.size(),
      percentile(res.commit_us, 0.5), percentile(res.commit_us, 0.99), mean, recovery);
  return 0;
}
