// Interoperability with Kafka's own Java consumer: one consumer group mixing kafkawire members and Java
// KafkaConsumer members (tests/broker/java GroupPeer.java), on the classic protocol with `range` and with
// `cooperative-sticky`, and on the consumer protocol (KIP-848, where the broker assigns and nobody leads).
// The partitions are split without overlap and with full coverage whichever side leads the group, and the
// offsets one side commits are where the other side resumes.
//
// One story per strategy, on a 6-partition topic with 40 records per partition:
//   A. Java member J1 joins first (so a Java leader computes the plan), then kafkawire K1, K2 and Java
//      J2 join: every partition has exactly one owner, each member reports its own assignment.
//   B. Every member consumes its partitions up to L1(p) and commits: the group's committed offsets are
//      exactly L1 on every partition.
//   C. J1 and J2 leave; K1 and K2 take over and the first record they get from every partition is L1(p)
//      (what Java committed on Java's partitions). They consume to L2(p) and commit.
//   D. Java J3 joins the group now led by kafkawire (so the kafkawire leader plans for a Java member),
//      then K1 and K2 leave: J3's first record of every partition is L2(p), what kafkawire committed.
//
// The same story runs over SASL_SSL (SCRAM-SHA-512, the broker's CA as a PEM trust store), with one
// client.properties file in Java's syntax that both sides read: Java with Properties.load, kafkawire with
// parse_java_properties (as `kafkawire -F` does).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "helpers.hpp"
#include "java_peers.hpp"
#include "secured_env.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::create_topic;
using kafkawire::testing::JavaPeer;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

using Clock = std::chrono::steady_clock;
using Settings = std::map<std::string, std::string>;

// How the members reach the broker: kafkawire's settings (bootstrap.servers and, secured, the rest), and
// for the Java members the same bootstrap and the properties file they load (none: plaintext).
struct Transport {
  Settings kafkawire;
  std::string properties_file;
  const std::string& bootstrap() const { return kafkawire.at("bootstrap.servers"); }
};
constexpr int kPartitions = 6;
// The "strategy" that stands for group.protocol=consumer (KIP-848) on both sides.
const std::string kConsumerProtocol = "consumer";
constexpr int kPerPartition = 40;

// Partition p is consumed up to (excluding) base + step * p.
struct Limits {
  int64_t base = 0, step = 0;
  int64_t at(int32_t p) const { return base + step * p; }
};
constexpr Limits kL1{5, 2};   // 5, 7, ..., 15
constexpr Limits kL2{20, 1};  // 20, ..., 25
constexpr Limits kEnd{kPerPartition, 0};

std::string show(const std::map<int32_t, int64_t>& m) {
  std::string out;
  for (auto [p, o] : m) out += (out.empty() ? "" : ",") + std::to_string(p) + "=" + std::to_string(o);
  return "{" + out + "}";
}

std::string show(const std::set<int32_t>& s) {
  std::string out;
  for (int32_t p : s) out += (out.empty() ? "" : ",") + std::to_string(p);
  return out.empty() ? "-" : out;
}

// A Java member, as it reports itself.
struct JavaMember {
  std::string name;
  std::unique_ptr<JavaPeer> proc;
  std::set<int32_t> assignment;
  bool reported = false;  // at least one "assignment" line
  std::map<int32_t, int64_t> first, reached, committed;
  bool committed_reported = false;
  std::vector<std::string> errors;

  JavaMember(std::string n, const Transport& t, const std::string& group, const std::string& topic,
             const std::string& strategy, Limits l)
      : name(std::move(n)) {
    std::vector<std::string> args{t.bootstrap(),          group, topic, strategy, std::to_string(l.base),
                                  std::to_string(l.step), "60"};
    if (!t.properties_file.empty()) args.push_back(t.properties_file);
    proc = std::make_unique<JavaPeer>("GroupPeer", args);
  }

  void update() {
    for (const auto& line : proc->pump()) {
      std::istringstream in(line);
      std::string word;
      in >> word;
      if (word == "assignment") {
        std::string list;
        in >> list;
        assignment.clear();
        reported = true;
        if (list != "-") {
          std::istringstream parts(list);
          for (std::string p; std::getline(parts, p, ',');) assignment.insert(std::stoi(p));
        }
        for (auto it = first.begin(); it != first.end();)
          it = assignment.count(it->first) ? std::next(it) : first.erase(it);
        for (auto it = reached.begin(); it != reached.end();)
          it = assignment.count(it->first) ? std::next(it) : reached.erase(it);
      } else if (word == "first") {
        int32_t p;
        int64_t o;
        in >> p >> o;
        first[p] = o;
      } else if (word == "reached") {
        int32_t p;
        int64_t o;
        in >> p >> o;
        reached[p] = o;
      } else if (word == "committed") {
        std::string list;
        in >> list;
        committed_reported = true;
        if (list != "-") {
          std::istringstream parts(list);
          for (std::string e; std::getline(parts, e, ',');)
            committed[std::stoi(e.substr(0, e.find('=')))] = std::stoll(e.substr(e.find('=') + 1));
        }
      } else if (word == "error" || word == "timeout") {
        errors.push_back(line);
      }
    }
  }
  void set_limits(Limits l) {
    reached.clear();
    proc->send("limit " + std::to_string(l.base) + " " + std::to_string(l.step));
  }
  bool all_reached(Limits l) const {
    if (assignment.empty()) return false;
    for (int32_t p : assignment)
      if (auto it = reached.find(p); it == reached.end() || it->second != l.at(p)) return false;
    return true;
  }
};

// A kafkawire member: the same rules as the Java peer (consume to the limit, then pause there).
struct KwMember {
  std::string name;
  std::unique_ptr<Consumer> consumer;
  Limits limits;
  // The first record any kafkawire member received per partition since the test last cleared it.
  std::map<int32_t, int64_t>* first = nullptr;
  std::set<int32_t> reached;

  KwMember(std::string n, asio::io_context& io, const Transport& t, const std::string& group,
           const std::string& strategy, Limits l)
      : name(std::move(n)), limits(l) {
    Settings kv = t.kafkawire;
    for (const auto& [k, v] : Settings{{"group.id", group},
                                       {"auto.offset.reset", "earliest"},
                                       {"enable.auto.commit", "false"},
                                       {"client.id", "kafkawire-" + name}})
      kv[k] = v;
    if (strategy == kConsumerProtocol) {
      kv["group.protocol"] = "consumer";  // the broker assigns, and sets the session timeout
    } else {
      kv["session.timeout.ms"] = "6000";
      kv["heartbeat.interval.ms"] = "500";
      kv["partition.assignment.strategy"] = strategy;
    }
    consumer = std::make_unique<Consumer>(io.get_executor(), Config(kv));
    RebalanceListener l2;
    l2.on_assigned = [this](const std::vector<TopicPartition>& tps) {
      for (const auto& tp : tps) reached.erase(tp.partition);
    };
    // on_revoked stays the default (with enable.auto.commit=false: no commit; the test commits).
    consumer->set_rebalance_listener(std::move(l2));
  }

  std::set<int32_t> assignment() const {
    std::set<int32_t> s;
    if (consumer)
      for (const auto& tp : consumer->assignment()) s.insert(tp.partition);
    return s;
  }
  bool stable() const {
    if (!consumer) return false;
    if (const auto* m = consumer->consumer_group_membership())
      return m->state() == group::consumer_group::State::stable;
    return consumer->membership()->state() == group::State::stable;
  }
  bool leader() const { return consumer && consumer->membership() && consumer->membership()->is_leader(); }

  void poll(asio::io_context& io) {
    if (!consumer) return;
    auto f = consumer->async_poll(20ms, asio::use_future);
    auto [ec, records] = run_until(io, f);
    INFO(name << ": " << consumer->error_text());
    REQUIRE_FALSE(ec);
    for (const auto& r : records) first->try_emplace(r.partition(), r.offset());
    for (const auto& tp : consumer->assignment()) {
      if (reached.count(tp.partition)) continue;
      auto pos = consumer->position(tp);
      if (pos && *pos >= limits.at(tp.partition)) {
        if (*pos > limits.at(tp.partition)) consumer->seek(tp, limits.at(tp.partition));
        consumer->pause({tp});
        reached.insert(tp.partition);
      }
    }
  }
  void set_limits(Limits l) {
    limits = l;
    reached.clear();
    if (consumer) consumer->resume(consumer->assignment());
  }
  bool all_reached() const {
    auto a = assignment();
    if (a.empty()) return false;
    for (int32_t p : a)
      if (!reached.count(p) || consumer->position({consumer_topic, p}) != limits.at(p)) return false;
    return true;
  }
  std::string consumer_topic;
};

struct Group {
  asio::io_context& io;
  std::vector<KwMember*> kw;
  std::vector<JavaMember*> java;
  std::string failures;

  // One round: every kafkawire member polls once, every Java member's reports are read. Checks on the
  // way that no partition ever has two owners (a Java member prints its revocations before it rejoins,
  // so what it reported is never behind what the others were given since).
  void step() {
    for (auto* k : kw) k->poll(io);
    for (auto* j : java) j->update();
    std::map<int32_t, std::vector<std::string>> owners;
    for (auto* k : kw)
      for (int32_t p : k->assignment()) owners[p].push_back(k->name);
    for (auto* j : java)
      for (int32_t p : j->assignment) owners[p].push_back(j->name);
    for (auto& [p, who] : owners)
      if (who.size() > 1) {
        std::string line = "partition " + std::to_string(p) + " owned by";
        for (auto& w : who) line += " " + w;
        failures += line + "\n";
      }
  }
  std::string describe() const {
    std::string s;
    for (auto* k : kw)
      s += k->name + (k->consumer ? "" : " (closed)") + ": " + show(k->assignment()) +
           (k->leader() ? " leader" : "") + "\n";
    for (auto* j : java) {
      s += j->name + ": " + show(j->assignment) + "\n";
      for (auto& e : j->errors) s += "  " + e + "\n";
    }
    return s;
  }
  // Every partition owned, each member with some, every kafkawire member stable.
  bool split() const {
    std::set<int32_t> all;
    size_t total = 0;
    for (auto* k : kw) {
      auto a = k->assignment();
      if (a.empty() || !k->stable()) return false;
      all.insert(a.begin(), a.end());
      total += a.size();
    }
    for (auto* j : java) {
      if (j->assignment.empty()) return false;
      all.insert(j->assignment.begin(), j->assignment.end());
      total += j->assignment.size();
    }
    return all.size() == kPartitions && total == kPartitions;
  }
  template <class Pred>
  bool until(Pred done, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      step();
      if (done()) return true;
    }
    return false;
  }
};

std::map<int32_t, int64_t> committed_offsets(asio::io_context& io, Consumer& c, const std::string& topic) {
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < kPartitions; ++p) tps.push_back({topic, p});
  auto f = c.async_committed(tps, asio::use_future);
  auto [ec, offsets] = run_until(io, f);
  INFO(c.error_text());
  REQUIRE_FALSE(ec);
  std::map<int32_t, int64_t> out;
  for (auto& [tp, o] : offsets)
    if (o) out[tp.partition] = *o;
  return out;
}

std::map<int32_t, int64_t> expected(Limits l) {
  std::map<int32_t, int64_t> m;
  for (int32_t p = 0; p < kPartitions; ++p) m[p] = l.at(p);
  return m;
}

void close_member(asio::io_context& io, KwMember& k) {
  auto f = k.consumer->async_close(asio::use_future);
  INFO(k.name << ": " << k.consumer->error_text());
  CHECK_FALSE(run_until(io, f));
  k.consumer.reset();
}

// The story of the header, with one assignor, the members connecting as `t` says.
void mixed_group_story(const std::string& strategy, const Transport& t) {
  asio::io_context io;
  const std::string topic = unique("kw-interop-" + strategy);
  const std::string group_id = unique("kw-interop");
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kPartitions * kPerPartition);

  KwMember k1("K1", io, t, group_id, strategy, kL1), k2("K2", io, t, group_id, strategy, kL1);
  k1.consumer_topic = k2.consumer_topic = topic;
  std::map<int32_t, int64_t> kw_first;
  k1.first = k2.first = &kw_first;
  Group g{io, {}, {}, {}};

  // A. A Java member first: it leads, and plans for everyone who joins.
  JavaMember j1("J1", t, group_id, topic, strategy, kL1);
  REQUIRE(j1.proc->started());
  g.java = {&j1};
  bool alone = g.until([&] { return j1.assignment.size() == kPartitions; }, 30s);
  INFO(g.describe() << j1.proc->output());
  REQUIRE(alone);
  JavaMember j2("J2", t, group_id, topic, strategy, kL1);
  k1.consumer->subscribe({topic});
  k2.consumer->subscribe({topic});
  g.kw = {&k1, &k2};
  g.java = {&j1, &j2};
  bool split = g.until([&] { return g.split(); }, 40s);
  INFO(g.describe() << "J1 said:\n" << j1.proc->output() << "J2 said:\n" << j2.proc->output());
  REQUIRE(split);
  CHECK(g.failures.empty());
  for (auto* k : g.kw) CHECK_FALSE(k->leader());  // J1 leads (with the consumer protocol, nobody does)
  for (size_t n :
       {k1.assignment().size(), k2.assignment().size(), j1.assignment.size(), j2.assignment.size()})
    CHECK((n == 1 || n == 2));  // 6 partitions over 4 members: 2, 2, 1, 1 with either assignor

  // B. Everyone consumes to L1 and commits.
  bool at_l1 = g.until(
      [&] { return k1.all_reached() && k2.all_reached() && j1.all_reached(kL1) && j2.all_reached(kL1); },
      30s);
  INFO(g.describe());
  REQUIRE(at_l1);
  for (auto* k : g.kw) {
    auto f = k->consumer->async_commit(asio::use_future);
    INFO(k->name << ": " << k->consumer->error_text());
    REQUIRE_FALSE(run_until(io, f));
  }
  for (auto* j : g.java) j->proc->send("commit");
  REQUIRE(g.until([&] { return j1.committed_reported && j2.committed_reported; }, 20s));
  for (auto* j : g.java)
    for (int32_t p : j->assignment) CHECK(j->committed[p] == kL1.at(p));
  CHECK(show(committed_offsets(io, *k1.consumer, topic)) == show(expected(kL1)));
  CHECK(g.failures.empty());

  // C. The Java members leave; kafkawire resumes their partitions where Java committed.
  const std::set<int32_t> java_owned = [&] {
    std::set<int32_t> s = j1.assignment;
    s.insert(j2.assignment.begin(), j2.assignment.end());
    return s;
  }();
  kw_first.clear();
  k1.set_limits(kL2);
  k2.set_limits(kL2);
  j1.proc->send("close");
  j2.proc->send("close");
  int j1_status = -1, j2_status = -1;
  bool left = g.until(
      [&] {
        if (j1_status < 0) j1_status = j1.proc->wait(0ms);
        if (j2_status < 0) j2_status = j2.proc->wait(0ms);
        return j1_status >= 0 && j2_status >= 0;
      },
      20s);
  INFO(g.describe() << "J1 said:\n" << j1.proc->output() << "J2 said:\n" << j2.proc->output());
  REQUIRE(left);
  CHECK(j1_status == 0);
  CHECK(j2_status == 0);
  j1.assignment.clear();
  j2.assignment.clear();
  g.java.clear();
  bool taken_over = g.until([&] { return g.split() && k1.all_reached() && k2.all_reached(); }, 40s);
  INFO(g.describe() << k1.consumer->rebalance_timeline() << k2.consumer->rebalance_timeline());
  REQUIRE(taken_over);
  CHECK(show(kw_first) ==
        show(expected(kL1)));  // Java's commits on Java's partitions, kafkawire's on its own
  for (int32_t p : java_owned) {
    INFO("partition " << p << " was Java's");
    CHECK(kw_first[p] == kL1.at(p));
  }
  for (auto* k : g.kw) {
    auto f = k->consumer->async_commit(asio::use_future);
    INFO(k->name << ": " << k->consumer->error_text());
    REQUIRE_FALSE(run_until(io, f));
  }
  CHECK(show(committed_offsets(io, *k1.consumer, topic)) == show(expected(kL2)));

  // D. A Java member joins the group kafkawire now leads, then kafkawire leaves: Java resumes at L2.
  if (strategy != kConsumerProtocol) CHECK((k1.leader() || k2.leader()));
  JavaMember j3("J3", t, group_id, topic, strategy, kEnd);
  REQUIRE(j3.proc->started());
  g.java = {&j3};
  bool mixed = g.until([&] { return g.split(); }, 40s);
  INFO(g.describe() << "J3 said:\n" << j3.proc->output());
  REQUIRE(mixed);
  const std::set<int32_t> kw_owned = [&] {
    std::set<int32_t> s = k1.assignment();
    for (int32_t p : k2.assignment()) s.insert(p);
    return s;
  }();
  CHECK(kw_owned.size() + j3.assignment.size() == kPartitions);
  close_member(io, k1);
  close_member(io, k2);
  g.kw.clear();
  bool all_java = g.until([&] { return j3.assignment.size() == kPartitions && j3.all_reached(kEnd); }, 40s);
  INFO(g.describe() << "J3 said:\n" << j3.proc->output());
  REQUIRE(all_java);
  CHECK(show(j3.first) == show(expected(kL2)));  // where kafkawire committed, on every partition
  for (int32_t p : kw_owned) {
    INFO("partition " << p << " was kafkawire's until it left");
    CHECK(j3.first[p] == kL2.at(p));
  }
  CHECK(j3.errors.empty());
  j3.proc->send("close");
  CHECK(j3.proc->wait(20s) == 0);
  CHECK(g.failures.empty());
}

}  // namespace

TEST_CASE("a group mixing kafkawire and Java consumers splits partitions and resumes each other's commits",
          "[broker][group][interop]") {
  const Transport plaintext{{{"bootstrap.servers", kafkawire::testing::bootstrap()}}, ""};
  for (std::string strategy : {"range", "cooperative-sticky"}) {
    SECTION(strategy) { mixed_group_story(strategy, plaintext); }
  }
}

TEST_CASE("with group.protocol=consumer (KIP-848) too: kafkawire and Java members share and hand over",
          "[broker][group][interop][kip848]") {
  const Transport plaintext{{{"bootstrap.servers", kafkawire::testing::bootstrap()}}, ""};
  mixed_group_story(kConsumerProtocol, plaintext);
}

TEST_CASE(
    "over SASL_SSL too: kafkawire and Java members of one group, reading the same client.properties, "
    "resume each other's commits",
    "[broker][group][interop][security]") {
  using kafkawire::testing::env;
  if (!kafkawire::testing::have_secured_broker()) return;
  // The file as Java users write it: the JAAS entry continued over lines.
  const auto path = std::filesystem::temp_directory_path() / (unique("kw-interop-sasl") + ".properties");
  {
    std::ofstream f(path);
    f << "# a Java client's configuration for the SASL_SSL listener\n"
      << "bootstrap.servers=" << env("KAFKAWIRE_SASL_SSL_BOOTSTRAP") << "\n"
      << "security.protocol=SASL_SSL\n"
      << "sasl.mechanism=SCRAM-SHA-512\n"
      << "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
      << "    username=\"" << env("KAFKAWIRE_SASL_USER") << "\" \\\n"
      << "    password=\"" << env("KAFKAWIRE_SASL_PASSWORD") << "\";\n"
      << "ssl.truststore.type=PEM\n"
      << "ssl.truststore.location=" << env("KAFKAWIRE_TLS_CA") << "\n";
    REQUIRE(f.good());
  }
  struct Remove {
    std::filesystem::path p;
    ~Remove() { std::filesystem::remove(p); }
  } remove{path};
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Transport sasl_ssl;
  std::string problem;
  if (!parse_java_properties(text, sasl_ssl.kafkawire, problem)) FAIL(problem);
  sasl_ssl.properties_file = path.string();
  // One assignor: the secured run checks the transport; the plaintext run covers both assignors.
  mixed_group_story("cooperative-sticky", sasl_ssl);
}
