// What the commands built on the library's Admin share (topics.cpp, configs.cpp, delete_records.cpp): the
// connection options every one of them takes (-b, -X, -F, -m, -J), one error per failed topic, partition
// or resource on stderr with the broker's error and message, and running a command's coroutine with an
// Admin once the cluster answered.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/consumer/admin.hpp"
#include "util.hpp"

namespace kafkawire::cli {

// The options of the Admin commands, under their own.
inline constexpr std::string_view kAdminOptionsHelp =
    R"(  -b <brokers>                 bootstrap.servers (default: $KAFKAWIRE_BOOTSTRAP)
  -X <key=value>               a configuration key (-X dump: print the configuration, secrets
                               redacted, and exit)
  -F <file>                    configuration file, a Java client's .properties file as it is
  -m <seconds>                 how long to keep trying to reach the cluster at start (default 5)
  -J, --json                   JSON output
  -h, --help                   this text
)";

struct AdminOptions {
  ConfigInput config;
  std::chrono::milliseconds metadata_timeout{5000};
  bool json = false;
  bool dump_config = false;
};

// The value of the option args[i] into `out`, moving i on; false with `problem` set when there is none.
bool option_value(const std::vector<std::string_view>& args, size_t& i, std::string_view& out,
                  std::string& problem);

// Takes args[i] (and its value, moving i on) when it is one of the common options or -h / --help (which
// calls print_help(stdout)). nullopt: not one of them; kTaken: taken, go on; else the exit status to return
// at once (kExitOk after the help or -X list, kExitUsage after printing what is wrong).
inline constexpr int kTaken = -1;
std::optional<int> admin_option(std::string_view command, void (*print_help)(std::FILE*),
                                const std::vector<std::string_view>& args, size_t& i, AdminOptions& o);

// "TOPIC_ALREADY_EXISTS" for a broker error, the message for a client one.
std::string error_name(std::error_code ec);
// null, or {"code":36,"name":"TOPIC_ALREADY_EXISTS","message":"Topic 'x' already exists."} (code -1: a
// client error).
std::string json_error(std::error_code ec, const std::string& message);
template <class T>
std::string json_error(const T& outcome) {
  return json_error(outcome.ec, outcome.error_message);
}

// Writes s to stdout, flushed.
void write(const std::string& s);
// The results of a change: with --json {"dry_run":<dry_run>,"<key>":[<json_rows>]}, else the table; then,
// for a dry run, "% <dry_run_note>" on stderr (none when the note is empty).
void write_results(bool json, bool dry_run, std::string_view key, const std::string& json_rows,
                   const Table& table, std::string_view dry_run_note);

// Every failed result on stderr, "kafkawire: <prefix><its error_text()>"; kExitFailure when one failed.
template <class T>
int report_failures(const std::vector<T>& results, const std::string& prefix) {
  int rc = kExitOk;
  for (const auto& r : results)
    if (r.ec) rc = failure(prefix + r.error_text());
  return rc;
}

// Makes the Config, reaches the cluster (bounded by -m) and runs `command` with an Admin; the exit status.
int run_admin_command(const AdminOptions& o, std::function<asio::awaitable<int>(Admin&)> command);

}  // namespace kafkawire::cli
