// Runs the Java peers of tests/broker/java (Kafka's own clients) from a broker test.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace kafkawire::testing {

// Output and exit status of a shell command.
inline std::pair<int, std::string> shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return {-1, out};
  std::array<char, 4096> buf;
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = pclose(p);
  return {status, out};
}

// The classpath of the Java peers, building them the first time (Maven; kafka-clients 4.4.0).
inline std::string java_peers_classpath() {
  static const std::string cp = [] {
    auto [status, out] = shell(KAFKAWIRE_SOURCE_DIR "/tests/broker/java/build.sh");
    if (status != 0) return std::string();
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }();
  return cp;
}

// Runs kafkawire.peer.<cls> with arguments; returns (exit status, stdout+stderr).
inline std::pair<int, std::string> run_java_peer(const std::string& cls, const std::string& args) {
  const std::string cp = java_peers_classpath();
  if (cp.empty()) return {-1, "the Java peers did not build (tests/broker/java/build.sh)"};
  return shell("java -Xmx256m -cp '" + cp + "' kafkawire.peer." + cls + " " + args + " 2>&1");
}

// A Java peer running next to the test: commands go to its stdin, its output (stdout and stderr) is
// read line by line without blocking, so the test keeps its own consumers polling meanwhile. The
// destructor closes stdin (the peers treat that as "close") and kills the process if it has not
// ended within a few seconds, so a failing test never leaves a JVM behind.
class JavaPeer {
 public:
  JavaPeer(const std::string& cls, const std::vector<std::string>& args) {
    signal(SIGPIPE, SIG_IGN);  // a write to a peer that already exited must not kill the test
    const std::string cp = java_peers_classpath();
    if (cp.empty()) {
      output_ = "the Java peers did not build (tests/broker/java/build.sh)";
      return;
    }
    // Short-lived JVMs: C1 only and the serial collector start faster.
    std::vector<std::string> argv{"java", "-Xmx256m", "-XX:+UseSerialGC",     "-XX:TieredStopAtLevel=1",
                                  "-cp",  cp,         "kafkawire.peer." + cls};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, out[1], 2);
    posix_spawn_file_actions_addclose(&fa, in[1]);
    posix_spawn_file_actions_addclose(&fa, out[0]);
    if (posix_spawnp(&pid_, "java", &fa, nullptr, cargv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    close(in[0]);
    close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
    fcntl(stdout_, F_SETFL, fcntl(stdout_, F_GETFL) | O_NONBLOCK);
    fcntl(stdin_, F_SETFD, FD_CLOEXEC);
    fcntl(stdout_, F_SETFD, FD_CLOEXEC);
    if (pid_ < 0) output_ = "could not start java";
  }
  JavaPeer(const JavaPeer&) = delete;
  JavaPeer& operator=(const JavaPeer&) = delete;
  ~JavaPeer() {
    close_stdin();
    if (pid_ > 0 && wait(std::chrono::seconds(15)) == -1) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (stdout_ >= 0) close(stdout_);
  }

  bool started() const { return pid_ > 0; }

  // Sends one command line.
  void send(const std::string& line) {
    if (stdin_ < 0) return;
    const std::string l = line + "\n";
    (void)!write(stdin_, l.data(), l.size());
  }
  void close_stdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }

  // Reads what the peer printed so far; returns the complete lines not returned before.
  std::vector<std::string> pump() {
    std::array<char, 4096> buf;
    while (stdout_ >= 0) {
      const ssize_t n = read(stdout_, buf.data(), buf.size());
      if (n > 0) {
        output_.append(buf.data(), static_cast<size_t>(n));
        continue;
      }
      break;  // 0: end of output; -1: nothing more for now
    }
    std::vector<std::string> lines;
    size_t nl;
    while ((nl = output_.find('\n', consumed_)) != std::string::npos) {
      lines.push_back(output_.substr(consumed_, nl - consumed_));
      consumed_ = nl + 1;
    }
    return lines;
  }

  // Everything it printed (for INFO on failure).
  const std::string& output() const { return output_; }

  // Waits for the process to end, reading its output; returns its exit status, or -1 if it is still
  // running after `timeout` (then the destructor kills it).
  int wait(std::chrono::milliseconds timeout) {
    if (status_ != -2) return status_;
    if (pid_ <= 0) return -1;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int st = 0;
      const pid_t r = waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        pump();
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        pid_ = 0;
        return status_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      pollfd p{stdout_, POLLIN, 0};
      ::poll(&p, 1, 20);
      pump();
    }
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1, stdout_ = -1;
  std::string output_;
  size_t consumed_ = 0;
  int status_ = -2;
};

}  // namespace kafkawire::testing
