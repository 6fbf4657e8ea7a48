// Helpers shared by the `kafkawire` commands (kcat.cpp, groups.cpp; explain.cpp and spy.cpp may use them
// too): configuration from -b/-X/-F, running one coroutine to completion, JSON strings, escapes, tables,
// a progress line for terminals, and a bounded first contact with the cluster.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/net/pool.hpp"

namespace kafkawire::cli {

namespace asio = boost::asio;

// Exit statuses of every command.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Prints "kafkawire: <what>" and a hint to stderr; returns kExitUsage.
int usage_error(std::string_view command, const std::string& what);
// Prints "kafkawire: <what>" to stderr; returns kExitFailure.
int failure(const std::string& what);

// Configuration as the user gave it: -b, -X key=value, -F file. Validated once, by make_config().
struct ConfigInput {
  std::map<std::string, std::string> values;

  // "key=value" (-X). False with `problem` set when there is no '=' (naming the key, not what follows).
  bool add_pair(std::string_view pair, std::string& problem);
  // A Java client's properties file (-F), in java.util.Properties' syntax (parse_java_properties):
  // key=value, key: value or key value; # and ! comments; a trailing backslash continues the line. False
  // with `problem` ("path: line N: ...", never a value) when it cannot be read or has a bad escape.
  bool add_file(const std::string& path, std::string& problem);
  // Sets a key unless the user already did (the command's own defaults).
  void set_default(const std::string& key, const std::string& value) { values.emplace(key, value); }
  bool has(const std::string& key) const { return values.count(key) != 0; }
};

// Validates the input into a Config; bootstrap.servers comes from -b / -X, else $KAFKAWIRE_BOOTSTRAP. On
// failure prints the problem as Config words it (it names the key and, for an unknown one, the closest
// known key) and returns nullopt: the caller exits with kExitUsage.
std::optional<Config> make_config(ConfigInput input);

// -X dump: prints the configuration `input` makes (validated as make_config does, so an error is the
// one the command would stop with), every key that is set or has a default, key=value a line, secrets
// redacted (config_value_shown: "sasl.password=[redacted, 12 chars]"); newlines in a value as \n.
// Returns the exit status.
int dump_config(ConfigInput input, std::FILE* out);

// Prints every configuration key with its default and meaning (-X list, --help-config), the meanings
// wrapped at word boundaries to $COLUMNS, else the terminal's width, else 100 columns.
void print_config_keys(std::FILE* out);

// Runs `op` on `io` to completion and returns its result. The io_context is stopped afterwards, so
// detached work of the library (fetches, the producer's sender) does not keep it alive.
int run_main(asio::io_context& io, asio::awaitable<int> op);

// First contact: Metadata for `topics` (every topic when nullopt), retried while the cluster cannot be
// reached, for at most `bound` in all (kcat's -m): a request still in flight then is cut short by closing
// the pool, which is of no use after a failure. On failure prints what went wrong, naming
// bootstrap.servers (and the bound, when that is what ran out: the error is then client_errc::timeout).
asio::awaitable<std::error_code> bounded_metadata(net::Pool& pool, const Config& config,
                                                  std::optional<std::vector<std::string>> topics,
                                                  std::chrono::milliseconds bound,
                                                  bool allow_auto_create = false);

// "NOT_COORDINATOR" for a broker error code.
std::string kafka_error_name(int16_t code);

// Whole numbers, strictly (no trailing garbage).
std::optional<int64_t> parse_i64(std::string_view s);
std::optional<int32_t> parse_i32(std::string_view s);

// "2026-01-01T00:00:00[.SSS][Z|+hh:mm|-hh:mm]" -> milliseconds since the epoch; no zone means local time
// (as Kafka's kafka-consumer-groups.sh). Also accepts a plain number of milliseconds.
std::optional<int64_t> parse_datetime(std::string_view s);

// Backslash escapes of -D, -K and -f: \n \r \t \\ \0 and \xHH; anything else is kept as written.
std::string unescape(std::string_view s);

// Appends s as a JSON string (quotes included). Bytes that are not valid UTF-8 are written as \u00XX
// (their Latin-1 reading), so the output is always valid JSON.
void append_json_string(std::string& out, std::string_view s);
std::string json_string(std::string_view s);

// Left-aligned columns separated by two spaces; the first row is usually the header.
class Table {
 public:
  void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.empty(); }
  std::string str() const;
  void print(std::FILE* out) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// A one-line progress display on stderr, redrawn at most every 250 ms, only when stderr is a terminal
// (and `enabled`). done() erases it.
class Progress {
 public:
  explicit Progress(bool enabled);
  ~Progress() { done(); }
  bool active() const { return active_; }
  // Redraws with this text if enough time passed since the last redraw.
  void update(const std::string& text);
  void done();

 private:
  bool active_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

bool stderr_is_terminal();
bool stdout_is_terminal();

}  // namespace kafkawire::cli
