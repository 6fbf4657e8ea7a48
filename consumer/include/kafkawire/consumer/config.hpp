// Client configuration as string key/values, with the names Java and librdkafka users already know.
//
// Every key is checked when the Config is built: an unknown key is an error that names the closest known
// key ("fetch.max.wait" -> did you mean "fetch.max.wait.ms"?), and a bad value names the key and what
// it accepts ("auto.offset.reset: 'earlest' is not one of earliest, latest, none").
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace kafkawire {

enum class OffsetReset { earliest, latest, none };
enum class IsolationLevel : int8_t { read_uncommitted = 0, read_committed = 1 };

// The documentation of one key: its default and what it means (printed by `kafkawire --help-config`;
// docs/configuration.md is generated from it, and a unit test fails when they differ).
struct ConfigKey {
  std::string_view name;
  std::string_view default_value;  // empty: no default (required or optional)
  std::string_view meaning;
  std::string_view section{};  // connection, consumer, group, producer
};
const std::vector<ConfigKey>& config_keys();

// The closest known key to `name` by edit distance, or empty when nothing is close.
std::string_view closest_config_key(std::string_view name);

class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string key, const std::string& what) : std::runtime_error(what), key_(std::move(key)) {}
  const std::string& key() const { return key_; }

 private:
  std::string key_;
};

struct Config {
  // The raw key/values, after validation.
  std::map<std::string, std::string> values;

  std::string bootstrap_servers;
  std::string client_id = "kafkawire";
  std::string group_id;
  std::optional<std::string> group_instance_id;
  bool enable_auto_commit = true;
  std::chrono::milliseconds auto_commit_interval{5000};
  OffsetReset auto_offset_reset = OffsetReset::latest;
  IsolationLevel isolation_level = IsolationLevel::read_uncommitted;
  int32_t fetch_min_bytes = 1;
  int32_t fetch_max_bytes = 52428800;
  int32_t max_partition_fetch_bytes = 1048576;
  std::chrono::milliseconds fetch_max_wait{500};
  int32_t max_poll_records = 500;
  // Prefetch bound: fetched record bytes not yet polled, over all partitions, in KiB.
  int32_t queued_max_kbytes = 65536;
  bool check_crcs = true;
  std::chrono::milliseconds session_timeout{45000};
  std::chrono::milliseconds heartbeat_interval{3000};
  std::chrono::milliseconds max_poll_interval{300000};
  std::vector<std::string> partition_assignment_strategy{"range", "cooperative-sticky"};
  int64_t receive_message_max_bytes = 100 * 1024 * 1024;
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds socket_connection_setup_timeout{10000};
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1000};
  std::chrono::milliseconds metadata_max_age{300000};
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds default_api_timeout{60000};
  bool allow_auto_create_topics = false;
  // Producer
  std::string acks = "all";  // 0, 1, all (-1)
  std::chrono::milliseconds linger{5};
  int32_t batch_size = 16384;
  std::string compression_type = "none";
  int32_t retries = 2147483647;
  std::chrono::milliseconds delivery_timeout{120000};

  Config() = default;
  // Validates every key and value; throws ConfigError naming the key.
  Config(std::initializer_list<std::pair<const std::string, std::string>> kv);
  explicit Config(const std::map<std::string, std::string>& kv);

  // The same, without exceptions: the error names the key and the problem.
  static std::error_code parse(const std::map<std::string, std::string>& kv, Config& out,
                               std::string& problem, std::string* failed_key = nullptr);

  // Sets one key (validated); the error message is in `problem`.
  std::error_code set(const std::string& key, const std::string& value, std::string& problem);

  // Equal when every setting is (the raw `values` included).
  friend bool operator==(const Config&, const Config&) = default;

  int16_t acks_value() const { return acks == "all" ? int16_t{-1} : static_cast<int16_t>(std::stoi(acks)); }
};

}  // namespace kafkawire
