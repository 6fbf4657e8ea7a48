// The exactly-once example (examples/exactly_once.cpp, built as exactly_once_processor) as a process the
// broker tests start and SIGKILL, and the check of what it wrote.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace kafkawire::testing {

// Starts it on input -> output in `group`, its output appended to `log`; idle_exit_s > 0: it exits after
// that many seconds without input. Returns its pid.
inline pid_t start_exactly_once(const std::string& bootstrap, const std::string& input,
                                const std::string& output, const std::string& group, int idle_exit_s,
                                const std::string& log) {
  // Small transactions: many of them, so a kill 1.5-4 s after the start lands inside one even on an idle
  // machine (with 500 records a poll the processor once finished 40,000 before the first kill).
  std::vector<std::string> args{"exactly_once_processor", bootstrap, input, output, group, "-X",
                                "max.poll.records=50"};
  if (idle_exit_s > 0) args.insert(args.end(), {"--idle-exit", std::to_string(idle_exit_s)});
  std::vector<char*> argv;  // built before fork(): the child of a threaded process must not allocate
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    execv(KAFKAWIRE_EXACTLY_ONCE, argv.data());
    _exit(127);
  }
  return pid;
}

// SIGKILL, and whether it was still running (it did not die on its own before).
inline bool kill_exactly_once(pid_t pid) {
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

inline std::string file_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// How the output holds the results of inputs "value-0" .. "value-<records - 1>".
struct OnceCount {
  size_t missing = 0;  // no result
  size_t twice = 0;    // more than one
};
inline OnceCount count_once(const std::vector<std::string>& values, int records) {
  std::map<std::string, int> seen;
  for (const auto& v : values) ++seen[v];
  OnceCount n;
  for (int i = 0; i < records; ++i) {
    const auto it = seen.find("processed value-" + std::to_string(i));
    if (it == seen.end())
      ++n.missing;
    else if (it->second > 1)
      ++n.twice;
  }
  return n;
}

}  // namespace kafkawire::testing
