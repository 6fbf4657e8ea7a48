// Group members as separate processes (tests/broker/group_member.cpp), and what they report, for the
// multi-process group tests: start, stop cleanly (SIGTERM: commit, LeaveGroup), kill (SIGKILL), and read
// their report files as they grow.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace kafkawire::testing {

struct MemberEvent {
  char kind = 0;  // R record, C commit (see group_member.cpp)
  long long t = 0;
  int member = 0;
  int partition = -1;
  int64_t offset = -1;
};

// The last "A" line of a member: its generation, state and partitions.
struct MemberView {
  bool seen = false;
  int generation = -1;
  std::string state;
  std::string member_id;
  std::set<int> partitions;
};

class MemberProcess {
 public:
  MemberProcess(int id, const std::string& program, const std::string& bootstrap, const std::string& topic,
                const std::string& group, const std::string& out_file, std::vector<std::string> settings)
      : id_(id), file_(out_file) {
    std::remove(out_file.c_str());
    std::vector<std::string> args{program, bootstrap, topic, group, out_file};
    for (auto& s : settings) args.push_back(std::move(s));
    // Built before fork(): the child of a threaded process must not allocate.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~MemberProcess() {
    if (running()) kill_now();
  }
  MemberProcess(const MemberProcess&) = delete;
  MemberProcess& operator=(const MemberProcess&) = delete;

  int id() const { return id_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0 && !exited_; }
  bool started() const { return pid_ > 0; }
  int exit_status() const { return status_; }

  // Makes the member stop committing (SIGUSR1) and waits, up to `bound`, until it has processed a record
  // since: a SIGKILL then surely leaves records processed and not committed, which its successor must read
  // again. (Without this a member that had just committed everything it read could die with no such
  // tail, as happened once the consumer got faster.) False if no record came in time.
  bool hold_commits_until_record(std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    if (!running()) return false;
    ::kill(pid_, SIGUSR1);
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (std::chrono::steady_clock::now() < deadline) {
      read_new();
      if (holding_since_ >= 0)
        for (auto it = events_.rbegin(); it != events_.rend() && it->t > holding_since_; ++it)
          if (it->kind == 'R') return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGKILL: no commit, no LeaveGroup; the group notices after session.timeout.ms.
  void kill_now() {
    if (!running()) return;
    ::kill(pid_, SIGKILL);
    reap(std::chrono::seconds(10));
  }
  // SIGTERM: the member commits, leaves the group and exits. True if it exited with status 0 in time.
  bool stop(std::chrono::milliseconds bound = std::chrono::seconds(30)) {
    if (!running()) return false;
    ::kill(pid_, SIGTERM);
    if (!reap(bound)) {
      kill_now();
      return false;
    }
    return WIFEXITED(status_) && WEXITSTATUS(status_) == 0;
  }
  // Waits for the process to end (by itself) up to `bound`.
  bool reap(std::chrono::milliseconds bound) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (running()) {
      if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }
  // Has it exited on its own? (non-blocking)
  bool poll_exit() {
    if (running() && waitpid(pid_, &status_, WNOHANG) == pid_) exited_ = true;
    return !running();
  }

  // Reads what the member wrote since the last call (complete lines only).
  void read_new() {
    std::ifstream in(file_, std::ios::binary);
    if (!in) return;
    in.seekg(static_cast<std::streamoff>(consumed_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto end = chunk.rfind('\n');
    if (end == std::string::npos) return;
    consumed_ += end + 1;
    std::istringstream lines(chunk.substr(0, end + 1));
    std::string line;
    while (std::getline(lines, line)) parse(line);
  }

  const std::vector<MemberEvent>& events() const { return events_; }
  const MemberView& view() const { return view_; }
  const std::vector<std::string>& errors() const { return errors_; }  // "E" and "F" lines
  bool fatal() const { return fatal_; }
  bool closed() const { return closed_; }
  // Every distinct assignment line ("A ..."), for failure messages and generation checks.
  const std::vector<MemberView>& history() const { return history_; }

 private:
  void parse(const std::string& line) {
    std::istringstream s(line);
    char kind = 0;
    long long t = 0;
    s >> kind >> t;
    if (kind == 'R' || kind == 'C') {
      MemberEvent e;
      e.kind = kind;
      e.t = t;
      e.member = id_;
      long long off = 0;
      s >> e.partition >> off;
      e.offset = off;
      events_.push_back(e);
    } else if (kind == 'A') {
      MemberView v;
      v.seen = true;
      std::string parts;
      s >> v.generation >> v.state >> v.member_id >> parts;
      if (parts != "-") {
        std::istringstream ps(parts);
        std::string p;
        while (std::getline(ps, p, ',')) v.partitions.insert(std::stoi(p));
      }
      view_ = v;
      history_.push_back(v);
    } else if (kind == 'E' || kind == 'F') {
      errors_.push_back(line);
      fatal_ = fatal_ || kind == 'F';
    } else if (kind == 'X') {
      closed_ = true;
    } else if (kind == 'H') {
      holding_since_ = t;
    }
  }

  int id_;
  std::string file_;
  pid_t pid_ = -1;
  int status_ = 0;
  bool exited_ = false;
  size_t consumed_ = 0;
  std::vector<MemberEvent> events_;
  MemberView view_;
  std::vector<MemberView> history_;
  std::vector<std::string> errors_;
  bool fatal_ = false, closed_ = false;
  long long holding_since_ = -1;  // the H line's time: commits stopped (SIGUSR1)
};

inline std::string describe(const MemberView& v) {
  std::string parts;
  for (int p : v.partitions) parts += (parts.empty() ? "" : ",") + std::to_string(p);
  return "generation " + std::to_string(v.generation) + " " + v.state + " [" + parts + "]";
}

}  // namespace kafkawire::testing
