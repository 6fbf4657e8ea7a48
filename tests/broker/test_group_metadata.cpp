// The group leader looks at its topics' partition counts every metadata.max.age.ms: when a topic grows
// (CreatePartitions, here by Kafka's own Admin client), it rebalances so the new partitions get owners.
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <fstream>

#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

Config member(const std::string& group) {
  return kafkawire::testing::base_config({{"group.id", group},
                                          {"auto.offset.reset", "earliest"},
                                          {"enable.auto.commit", "false"},
                                          {"session.timeout.ms", "10000"},
                                          {"heartbeat.interval.ms", "300"},
                                          {"metadata.max.age.ms", "1000"},
                                          {"partition.assignment.strategy", "range"}});
}

// `sh -c command` in a child process with its output in a file, so the caller can keep polling.
class Child {
 public:
  explicit Child(const std::string& command) {
    char path[] = "/tmp/kw-child-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    log_ = path;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
      execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fd);
  }
  ~Child() {
    if (!finished_) waitpid(pid_, &status_, 0);
    std::remove(log_.c_str());
  }
  bool done() {
    if (!finished_ && waitpid(pid_, &status_, WNOHANG) == pid_) finished_ = true;
    return finished_;
  }
  bool ok() const { return finished_ && WIFEXITED(status_) && WEXITSTATUS(status_) == 0; }
  std::string output() const {
    std::ifstream in(log_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  std::string log_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool finished_ = false;
};

bool stable_with(const Consumer& c, size_t partitions) {
  return c.membership() && c.membership()->state() == group::State::stable &&
         c.assignment().size() == partitions;
}

}  // namespace

TEST_CASE("the leader notices a topic grew (CreatePartitions) and rebalances", "[broker][group][metadata]") {
  asio::io_context io;
  const std::string topic = unique("kw-grow");
  const std::string group = unique("kw-grow-group");
  create_topic(io, topic, 2);
  produce(io, topic, 2, 200);

  std::map<std::pair<int32_t, int64_t>, int> seen;
  std::array<std::unique_ptr<Consumer>, 2> m;
  for (auto& c : m) {
    c = std::make_unique<Consumer>(io.get_executor(), member(group));
    c->subscribe({topic});
  }
  auto poll_both = [&] {
    for (auto& c : m) {
      auto f = c->async_poll(100ms, asio::use_future);
      auto [ec, records] = run_until(io, f);
      INFO(c->error_text());
      REQUIRE_FALSE(ec);
      for (const auto& r : records) ++seen[{r.partition(), r.offset()}];
    }
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!(stable_with(*m[0], 1) && stable_with(*m[1], 1)) && std::chrono::steady_clock::now() < deadline)
    poll_both();
  REQUIRE(stable_with(*m[0], 1));
  REQUIRE(stable_with(*m[1], 1));
  const int32_t generation = m[0]->membership()->generation();
  Consumer& leader = m[0]->membership()->is_leader() ? *m[0] : *m[1];
  REQUIRE(leader.membership()->is_leader());

  // Grow the topic to 6 partitions with the Java Admin client, polling meanwhile.
  {
    Child grow("java -Xmx256m -cp \"$(" KAFKAWIRE_SOURCE_DIR
               "/tools/broker/kafka-local classpath 2>/dev/null)\" " +
               std::string(KAFKAWIRE_SOURCE_DIR) + "/tests/broker/tools/AddPartitions.java " +
               kafkawire::testing::bootstrap() + " " + topic + " 6");
    deadline = std::chrono::steady_clock::now() + 90s;
    while (!grow.done() && std::chrono::steady_clock::now() < deadline) poll_both();
    INFO("AddPartitions.java (needs a JDK: the java source launcher compiles it) said:\n" << grow.output());
    REQUIRE(grow.done());
    REQUIRE(grow.ok());
  }
  produce(io, topic, 6, 600);  // 100 records in each of the 6 partitions

  // Within about metadata.max.age.ms (1 s) the leader sees 6 partitions and the group splits them 3/3.
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!(stable_with(*m[0], 3) && stable_with(*m[1], 3) && seen.size() == 800) &&
         std::chrono::steady_clock::now() < deadline)
    poll_both();
  INFO("leader:\n" << leader.rebalance_timeline());
  CHECK(stable_with(*m[0], 3));
  CHECK(stable_with(*m[1], 3));
  CHECK(m[0]->membership()->generation() > generation);
  CHECK(leader.rebalance_timeline().find("metadata changed: " + topic + " has 6 partitions") !=
        std::string::npos);
  CHECK(seen.size() == 800);  // the new partitions were read from their beginning
  for (auto& c : m) {
    auto f = c->async_close(asio::use_future);
    CHECK_FALSE(run_until(io, f));
  }
}
