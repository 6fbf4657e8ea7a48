// Runs the Java peers of tests/broker/java (Kafka's own clients) from a broker test.
#pragma once

#include <array>
#include <cstdio>
#include <memory>
#include <string>

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

}  // namespace kafkawire::testing
