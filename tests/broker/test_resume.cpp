// The seed's story: a consumer is killed with SIGKILL mid-stream, a new process resumes exactly where the
// group's committed offsets say, nothing is skipped, and only what came after the last commit is seen twice.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <set>
#include <sstream>

#include "helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using kafkawire::testing::create_topic;
using kafkawire::testing::produce;
using kafkawire::testing::unique;

namespace {

struct Event {
  char kind;  // 'R' record processed, 'C' offset committed
  int partition;
  int64_t offset;
};

// Runs consume_commit; stops it with SIGKILL once `kill_after_commits` commits were printed (0: let it
// finish). Returns what it printed.
std::vector<Event> run_consumer(const std::string& topic, int partitions, const std::string& group,
                                const std::string& mode, int kill_after_commits, int kill_after_records = 0) {
  int fds[2], back[2];
  REQUIRE(pipe(fds) == 0);
  REQUIRE(pipe(back) == 0);
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(back[0], 0);
    close(fds[0]);
    close(fds[1]);
    close(back[0]);
    close(back[1]);
    const std::string parts = std::to_string(partitions);
    const std::string bs = kafkawire::testing::bootstrap();
    execl(KAFKAWIRE_CONSUME_COMMIT, "consume_commit", bs.c_str(), topic.c_str(), parts.c_str(), group.c_str(),
          mode.c_str(), "3000", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(fds[1]);
  close(back[0]);
  FILE* in = fdopen(fds[0], "r");
  FILE* out = fdopen(back[1], "w");
  std::vector<Event> events;
  char line[128];
  int commits = 0, records = 0;
  bool killed = false;
  while (fgets(line, sizeof line, in)) {
    if (line[0] == 'P' || line[0] == 'Q') {
      // The child waits for us here, having printed all it did.
      // Manual mode dies between processing and committing ('Q'), so some records are processed twice.
      if (!killed && ((kill_after_commits > 0 && commits >= kill_after_commits && line[0] == 'Q') ||
                      (kill_after_records > 0 && records >= kill_after_records))) {
        kill(pid, SIGKILL);  // no close, no final commit: a crash
        killed = true;
        continue;
      }
      if (mode == "auto")
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let auto-commits happen
      std::fputs("go\n", out);
      std::fflush(out);
      continue;
    }
    Event e{};
    long long off = 0;
    if (std::sscanf(line, "%c %d %lld", &e.kind, &e.partition, &off) != 3) continue;
    e.offset = off;
    events.push_back(e);
    commits += e.kind == 'C';
    records += e.kind == 'R';
  }
  fclose(in);
  fclose(out);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!killed) REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  return events;
}

}  // namespace

TEST_CASE("manual commits: killed mid-stream, the next process resumes exactly at the last commit",
          "[broker][resume]") {
  asio::io_context io;
  const std::string topic = unique("kw-resume");
  const std::string group = unique("kw-resume-group");
  constexpr int kPartitions = 3, kRecords = 3000;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  auto first = run_consumer(topic, kPartitions, group, "manual", 6);
  auto second = run_consumer(topic, kPartitions, group, "manual", 0);

  std::map<int, int64_t> last_commit;  // partition -> committed offset (next to read), first run
  std::map<int, std::vector<int64_t>> seen1, seen2;
  for (const auto& e : first) {
    if (e.kind == 'C') last_commit[e.partition] = e.offset;
    if (e.kind == 'R') seen1[e.partition].push_back(e.offset);
  }
  for (const auto& e : second)
    if (e.kind == 'R') seen2[e.partition].push_back(e.offset);
  REQUIRE(!last_commit.empty());
  size_t duplicates = 0;
  for (int p = 0; p < kPartitions; ++p) {
    INFO("partition " << p);
    const int64_t committed = last_commit.count(p) ? last_commit[p] : 0;
    REQUIRE(!seen2[p].empty());
    CHECK(seen2[p].front() == committed);  // resumes exactly at the committed offset
    // Nothing skipped: the second run reads everything from there on, in order, to the end.
    for (size_t i = 0; i < seen2[p].size(); ++i) CHECK(seen2[p][i] == committed + static_cast<int64_t>(i));
    CHECK(seen2[p].back() == kRecords / kPartitions - 1);
    // Seen twice: exactly the first run's records at or after the last commit.
    std::vector<int64_t> after_commit;
    for (int64_t o : seen1[p])
      if (o >= committed) after_commit.push_back(o);
    std::vector<int64_t> twice;
    for (int64_t o : seen2[p])
      if (std::find(seen1[p].begin(), seen1[p].end(), o) != seen1[p].end()) twice.push_back(o);
    CHECK(twice == after_commit);
    duplicates += twice.size();
  }
  CHECK(duplicates > 0);  // the crash came between processing and committing a batch
  WARN("manual commits: " << duplicates << " records processed twice (those after the last commit)");
}

TEST_CASE("auto-commit: killed mid-stream, nothing is skipped", "[broker][resume]") {
  asio::io_context io;
  const std::string topic = unique("kw-resume-auto");
  const std::string group = unique("kw-resume-auto-group");
  constexpr int kPartitions = 2, kRecords = 4000;
  create_topic(io, topic, kPartitions);
  produce(io, topic, kPartitions, kRecords);

  auto first = run_consumer(topic, kPartitions, group, "auto", 0, kRecords / 2);
  auto second = run_consumer(topic, kPartitions, group, "auto", 0);
  std::map<int, std::set<int64_t>> all;
  std::map<int, int64_t> max1;
  size_t count1 = 0, duplicates = 0;
  for (const auto& e : first)
    if (e.kind == 'R') {
      all[e.partition].insert(e.offset);
      max1[e.partition] = std::max(max1[e.partition], e.offset);
      ++count1;
    }
  for (const auto& e : second)
    if (e.kind == 'R' && !all[e.partition].insert(e.offset).second) ++duplicates;
  for (int p = 0; p < kPartitions; ++p) CHECK(all[p].size() == static_cast<size_t>(kRecords / kPartitions));
  // Something was committed before the crash (auto.commit.interval.ms is 200), so the second run did not
  // start from the beginning; it re-read at most what the first run had read.
  CHECK(duplicates < count1);
  WARN("auto-commit: " << duplicates << " of " << count1 << " records processed twice");
}
