// Transactions against the real broker: read_committed against the Java producer's transactions, and
// kafkawire's own transactional producer (both transaction protocols, fencing, and exactly-once
// consume-process-produce through SIGKILLs).
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/detached.hpp>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "../../consumer/src/producer_core.hpp"  // ProducerInternals
#include "exactly_once.hpp"
#include "helpers.hpp"
#include "java_peers.hpp"

namespace kafkawire {
// Tests speak one transaction protocol whatever the cluster finalized (Kafka 4.x serves both).
struct ProducerInternals {
  static void force_protocol(Producer& p, TransactionManager::Protocol v) { p.core_->forced_protocol_ = v; }
};
}  // namespace kafkawire

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

namespace {

using Protocol = TransactionManager::Protocol;

std::error_code finish(asio::io_context& io, std::future<std::error_code>& f) {
  return run_until(io, f, 60000ms);
}

// Every value of the topic's partitions from the beginning, as a consumer with this isolation level
// reads them, once nothing more comes.
std::vector<std::string> read_topic(asio::io_context& io, const std::string& topic, int32_t partitions,
                                    const std::string& isolation, size_t expect) {
  Consumer c(io.get_executor(),
             base_config({{"auto.offset.reset", "earliest"}, {"isolation.level", isolation}}));
  std::vector<TopicPartition> tps;
  for (int32_t p = 0; p < partitions; ++p) tps.push_back({topic, p});
  c.assign(tps);
  return read_all(io, c, expect);
}

}  // namespace

TEST_CASE(
    "kafkawire transactions: read_committed sees what was committed, with its offsets; never the aborted",
    "[broker][transactions]") {
  for (Protocol protocol : {Protocol::v1, Protocol::v2}) {
    DYNAMIC_SECTION("protocol v" << static_cast<int>(protocol)) {
      asio::io_context io;
      const std::string out = unique("kw-txn-out");
      const std::string group = unique("kw-txn-group");
      create_topic(io, out, 2);
      Producer producer(io.get_executor(), base_config({{"transactional.id", unique("kw-txn-id")}}));
      ProducerInternals::force_protocol(producer, protocol);
      auto send = [&](const std::string& value) {
        return producer.async_send({.topic = out, .key = value, .value = value}, asio::use_future);
      };
      // Out of order: nothing before init, no record outside a transaction.
      CHECK(producer.begin_transaction() == client_errc::invalid_state);
      auto init = producer.async_init_transactions(asio::use_future);
      INFO(producer.error_text());
      REQUIRE_FALSE(finish(io, init));
      REQUIRE(producer.transactions()->protocol() == protocol);
      auto outside = send("outside");
      CHECK(std::get<0>(run_until(io, outside)) == client_errc::invalid_state);

      std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> delivered;
      REQUIRE_FALSE(producer.begin_transaction());
      for (int i = 0; i < 5; ++i) delivered.push_back(send("c1-" + std::to_string(i)));
      auto commit = producer.async_commit_transaction(asio::use_future);
      REQUIRE_FALSE(finish(io, commit));
      for (auto& f : delivered) CHECK_FALSE(std::get<0>(run_until(io, f)));  // all written before the commit
      delivered.clear();

      REQUIRE_FALSE(producer.begin_transaction());
      for (int i = 0; i < 5; ++i) delivered.push_back(send("a-" + std::to_string(i)));
      auto flushed = producer.async_flush(asio::use_future);
      REQUIRE_FALSE(finish(io, flushed));  // in the log, then aborted
      auto abort = producer.async_abort_transaction(asio::use_future);
      REQUIRE_FALSE(finish(io, abort));
      delivered.clear();

      // The consume-process-produce step: records and the consumed offsets in one commit.
      REQUIRE_FALSE(producer.begin_transaction());
      for (int i = 0; i < 5; ++i) delivered.push_back(send("c2-" + std::to_string(i)));
      TransactionOffsets offsets{{group, -1, "", std::nullopt}, {{{out, 0}, 42}, {{out, 1}, 7}}};
      auto commit2 = producer.async_commit_transaction(offsets, asio::use_future);
      REQUIRE_FALSE(finish(io, commit2));
      auto again = producer.async_commit_transaction(asio::use_future);
      CHECK(finish(io, again) == client_errc::invalid_state);

      auto committed = read_topic(io, out, 2, "read_committed", 10);
      std::sort(committed.begin(), committed.end());
      std::vector<std::string> expected;
      for (const char* prefix : {"c1", "c2"})
        for (int i = 0; i < 5; ++i) expected.push_back(std::string(prefix) + "-" + std::to_string(i));
      CHECK(committed == expected);
      // The aborted records are in the log: a read_uncommitted reader shows the test could fail.
      CHECK(read_topic(io, out, 2, "read_uncommitted", 15).size() == 15);

      Consumer reader(io.get_executor(), base_config({{"group.id", group}}));
      auto q = reader.async_committed({{out, 0}, {out, 1}}, asio::use_future);
      auto [qec, offs] = run_until(io, q);
      REQUIRE_FALSE(qec);
      CHECK(offs[TopicPartition{out, 0}] == 42);
      CHECK(offs[TopicPartition{out, 1}] == 7);
      auto close = producer.async_close(asio::use_future);
      run_until(io, close);
    }
  }
}

TEST_CASE("kafkawire transactions: a second producer with the transactional.id fences the first",
          "[broker][transactions]") {
  for (Protocol protocol : {Protocol::v1, Protocol::v2}) {
    DYNAMIC_SECTION("protocol v" << static_cast<int>(protocol)) {
      asio::io_context io;
      const std::string out = unique("kw-txn-fence");
      const std::string id = unique("kw-txn-fence-id");
      create_topic(io, out, 1);
      Producer zombie(io.get_executor(), base_config({{"transactional.id", id}}));
      ProducerInternals::force_protocol(zombie, protocol);
      auto init = zombie.async_init_transactions(asio::use_future);
      REQUIRE_FALSE(finish(io, init));
      REQUIRE_FALSE(zombie.begin_transaction());
      for (int i = 0; i < 3; ++i)
        zombie.async_send({.topic = out, .value = "zombie-" + std::to_string(i)}, asio::detached);
      auto flushed = zombie.async_flush(asio::use_future);
      REQUIRE_FALSE(finish(io, flushed));

      // The new instance: its init aborts the zombie's open transaction and fences it.
      Producer fresh(io.get_executor(), base_config({{"transactional.id", id}}));
      ProducerInternals::force_protocol(fresh, protocol);
      auto init2 = fresh.async_init_transactions(asio::use_future);
      REQUIRE_FALSE(finish(io, init2));

      auto commit = zombie.async_commit_transaction(asio::use_future);
      const auto ec = finish(io, commit);
      INFO(zombie.error_text());
      CHECK((ec == kafka_errc::producer_fenced || ec == kafka_errc::invalid_producer_epoch));
      CHECK(zombie.transactions()->state() == TransactionManager::State::fatal_error);
      CHECK(zombie.error_text().find("EndTxn") != std::string::npos);
      CHECK(zombie.begin_transaction() == ec);  // for good
      CHECK(zombie.error_text().find("PRODUCER_FENCED") != std::string::npos);

      REQUIRE_FALSE(fresh.begin_transaction());
      fresh.async_send({.topic = out, .value = "fresh"}, asio::detached);
      auto commit2 = fresh.async_commit_transaction(asio::use_future);
      REQUIRE_FALSE(finish(io, commit2));
      CHECK(read_topic(io, out, 1, "read_committed", 1) == std::vector<std::string>{"fresh"});
    }
  }
}

TEST_CASE("kafkawire transactions: a record that fails before it is sent fails the commit, not just itself",
          "[broker][transactions]") {
  // Found with example-exactly-once pointed at an output topic that did not exist: the records failed
  // at routing (no such topic), the commit succeeded, and the input offsets committed with it were
  // consumed for nothing. Java fails the transaction on any record's failure; so does kafkawire now.
  asio::io_context io;
  const std::string out = unique("kw-txn-missing-ok");
  const std::string missing = unique("kw-txn-missing-none");
  create_topic(io, out, 1);
  Producer p(io.get_executor(), base_config({{"transactional.id", unique("kw-txn-missing-id")},
                                             {"allow.auto.create.topics", "false"}}));
  auto init = p.async_init_transactions(asio::use_future);
  REQUIRE_FALSE(finish(io, init));
  // Empty transactions end without a request; their waiters were once missed (a worker started inline).
  REQUIRE_FALSE(p.begin_transaction());
  auto empty_commit = p.async_commit_transaction(asio::use_future);
  REQUIRE_FALSE(finish(io, empty_commit));
  REQUIRE_FALSE(p.begin_transaction());
  auto empty_abort = p.async_abort_transaction(asio::use_future);
  REQUIRE_FALSE(finish(io, empty_abort));

  SECTION("a topic the cluster does not have") {
    REQUIRE_FALSE(p.begin_transaction());
    auto good = p.async_send({.topic = out, .value = "written-then-aborted"}, asio::use_future);
    auto bad = p.async_send({.topic = missing, .value = "nowhere"}, asio::use_future);
    CHECK(std::get<0>(run_until(io, bad, 60s)) == client_errc::unknown_topic);
    auto commit = p.async_commit_transaction(asio::use_future);
    const auto ec = finish(io, commit);
    INFO(p.error_text());
    CHECK(ec == client_errc::unknown_topic);
    CHECK(p.transactions()->state() == TransactionManager::State::abortable_error);
    run_until(io, good, 60s);
  }
  SECTION("a record too large for buffer.memory") {
    REQUIRE_FALSE(p.begin_transaction());
    auto good = p.async_send({.topic = out, .value = "written-then-aborted"}, asio::use_future);
    auto bad = p.async_send({.topic = out, .value = std::string(33 * 1024 * 1024, 'x')}, asio::use_future);
    CHECK(std::get<0>(run_until(io, bad, 60s)) == client_errc::invalid_argument);
    auto commit = p.async_commit_transaction(asio::use_future);
    const auto ec = finish(io, commit);
    INFO(p.error_text());
    CHECK(ec == client_errc::invalid_argument);
    run_until(io, good, 60s);
  }
  // The transaction is aborted, the producer goes on, and a reader sees only what was committed.
  auto abort = p.async_abort_transaction(asio::use_future);
  REQUIRE_FALSE(finish(io, abort));
  REQUIRE_FALSE(p.begin_transaction());
  p.async_send({.topic = out, .value = "committed"}, asio::detached);
  auto commit = p.async_commit_transaction(asio::use_future);
  REQUIRE_FALSE(finish(io, commit));
  CHECK(read_topic(io, out, 1, "read_committed", 1) == std::vector<std::string>{"committed"});
}

using kafkawire::testing::count_once;
using kafkawire::testing::file_text;
using kafkawire::testing::kill_exactly_once;
using kafkawire::testing::start_exactly_once;

TEST_CASE("exactly once: a consume-process-produce program SIGKILLed again and again writes each result once",
          "[broker][transactions][eos]") {
  asio::io_context io;
  const std::string input = unique("kw-eos-in");
  const std::string output = unique("kw-eos-out");
  const std::string group = unique("kw-eos-group");
  const std::string log = "/tmp/" + group + ".log";
  constexpr int kRecords = 40000;
  create_topic(io, input, 3);
  create_topic(io, output, 3);
  kafkawire::testing::produce(io, input, 3, kRecords);

  // Killed at random moments while it works: between a produce and its commit, inside a commit, while
  // it joins the group. Each restart fences the one before.
  std::mt19937 rng(std::random_device{}());
  int kills = 0;
  for (; kills < 10; ++kills) {
    const pid_t pid = start_exactly_once(kafkawire::testing::bootstrap(), input, output, group, 0, log);
    REQUIRE(pid > 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500 + rng() % 2500));
    INFO(file_text(log));
    REQUIRE(kill_exactly_once(pid));
  }
  // The last run finishes the input and exits once it is idle.
  const pid_t pid = start_exactly_once(kafkawire::testing::bootstrap(), input, output, group, 6, log);
  int status = 0;
  waitpid(pid, &status, 0);
  INFO(file_text(log));
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  auto committed = read_topic(io, output, 3, "read_committed", kRecords);
  const auto once = count_once(committed, kRecords);
  CHECK(committed.size() == static_cast<size_t>(kRecords));
  CHECK(once.missing == 0);
  CHECK(once.twice == 0);
  // Without read_committed the aborted transactions' records show: the kills did cut transactions, so
  // the check above could have failed.
  const auto everything = read_topic(io, output, 3, "read_uncommitted", kRecords);
  INFO(kills << " kills; " << everything.size() << " records in the log, " << committed.size()
             << " committed");
  CHECK(everything.size() > committed.size());
  std::remove(log.c_str());
}

namespace {

// The values a Java read_committed consumer reads from the topic (TxnPeer read).
std::vector<std::string> java_read_committed(const std::string& topic) {
  auto [status, out] =
      kafkawire::testing::run_java_peer("TxnPeer", "read " + kafkawire::testing::bootstrap() + " " + topic);
  INFO(out);
  REQUIRE(status == 0);
  std::vector<std::string> values;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("value ")) values.push_back(line.substr(6));
  std::sort(values.begin(), values.end());
  return values;
}

}  // namespace

TEST_CASE("Java interop: Java's read_committed consumer reads kafkawire's transactions",
          "[broker][transactions][java]") {
  asio::io_context io;
  const std::string out = unique("kw-txn-java-read");
  create_topic(io, out, 2);
  Producer producer(io.get_executor(), base_config({{"transactional.id", unique("kw-txn-java")}}));
  auto init = producer.async_init_transactions(asio::use_future);
  REQUIRE_FALSE(finish(io, init));
  for (const std::string prefix : {"c1", "a", "c2"}) {
    REQUIRE_FALSE(producer.begin_transaction());
    for (int i = 0; i < 5; ++i)
      producer.async_send(
          {.topic = out, .key = prefix + std::to_string(i), .value = prefix + "-" + std::to_string(i)},
          asio::detached);
    auto flushed = producer.async_flush(asio::use_future);
    REQUIRE_FALSE(finish(io, flushed));
    auto end = prefix == "a" ? producer.async_abort_transaction(asio::use_future)
                             : producer.async_commit_transaction(asio::use_future);
    INFO(producer.error_text());
    REQUIRE_FALSE(finish(io, end));
  }
  std::vector<std::string> expected;
  for (const char* prefix : {"c1", "c2"})
    for (int i = 0; i < 5; ++i) expected.push_back(std::string(prefix) + "-" + std::to_string(i));
  CHECK(java_read_committed(out) == expected);
}

TEST_CASE(
    "Java interop: a Java producer with the transactional.id fences kafkawire's, and the other way round",
    "[broker][transactions][java]") {
  asio::io_context io;
  const std::string out = unique("kw-txn-java-fence");
  const std::string id = unique("kw-txn-java-fence-id");
  create_topic(io, out, 1);

  SECTION("Java fences kafkawire") {
    Producer zombie(io.get_executor(), base_config({{"transactional.id", id}}));
    auto init = zombie.async_init_transactions(asio::use_future);
    REQUIRE_FALSE(finish(io, init));
    REQUIRE_FALSE(zombie.begin_transaction());
    zombie.async_send({.topic = out, .value = "kafkawire-zombie"}, asio::detached);
    auto flushed = zombie.async_flush(asio::use_future);
    REQUIRE_FALSE(finish(io, flushed));
    auto [status, text] = kafkawire::testing::run_java_peer(
        "TxnPeer", "fence " + kafkawire::testing::bootstrap() + " " + out + " " + id);
    INFO(text);
    REQUIRE(status == 0);
    auto commit = zombie.async_commit_transaction(asio::use_future);
    const auto ec = finish(io, commit);
    INFO(zombie.error_text());
    CHECK((ec == kafka_errc::producer_fenced || ec == kafka_errc::invalid_producer_epoch));
    CHECK(zombie.transactions()->state() == TransactionManager::State::fatal_error);
    CHECK(java_read_committed(out) == std::vector<std::string>{"java-fresh"});
  }
  SECTION("kafkawire fences Java") {
    kafkawire::testing::JavaPeer java("TxnPeer", {"zombie", kafkawire::testing::bootstrap(), out, id});
    std::vector<std::string> lines;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::find(lines.begin(), lines.end(), "ready") == lines.end() &&
           std::chrono::steady_clock::now() < deadline) {
      for (auto& l : java.pump()) lines.push_back(l);
      std::this_thread::sleep_for(50ms);
    }
    INFO(java.output());
    REQUIRE(std::find(lines.begin(), lines.end(), "ready") != lines.end());
    Producer fresh(io.get_executor(), base_config({{"transactional.id", id}}));
    auto init = fresh.async_init_transactions(asio::use_future);
    REQUIRE_FALSE(finish(io, init));
    java.send("commit");
    CHECK(java.wait(60s) == 0);
    CHECK(java.output().find("fenced ") != std::string::npos);
    REQUIRE_FALSE(fresh.begin_transaction());
    fresh.async_send({.topic = out, .value = "kafkawire-fresh"}, asio::detached);
    auto commit = fresh.async_commit_transaction(asio::use_future);
    REQUIRE_FALSE(finish(io, commit));
    CHECK(java_read_committed(out) == std::vector<std::string>{"kafkawire-fresh"});
  }
}
