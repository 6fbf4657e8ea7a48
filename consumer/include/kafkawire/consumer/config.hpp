// Client configuration as string key/values, with the names Java and librdkafka users already know.
//
// Every key is checked when the Config is built: an unknown key is an error that names the closest known
// key ("fetch.max.wait" -> did you mean "fetch.max.wait.ms"?), and a bad value names the key and what
// it accepts ("auto.offset.reset: 'earlest' is not one of earliest, latest, none"). Each key is one
// entry of config_keys(): adding a key is a field here and an entry there, nothing else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "kafkawire/group/group_protocol.hpp"

namespace kafkawire {

namespace net {
struct PoolOptions;
}

enum class OffsetReset { earliest, latest, none };
enum class IsolationLevel : int8_t { read_uncommitted = 0, read_committed = 1 };
// group.protocol: the classic group protocol (JoinGroup, SyncGroup, a client-side assignor) or KIP-848's
// (ConsumerGroupHeartbeat; the broker assigns).
using group::GroupProtocol;

struct Config;

// What a key accepts. The parser checks values against it; the reference doc and `--help-config` print it.
enum class ConfigKind : uint8_t {
  text,          // any string of at least `min` characters
  whole_number,  // a decimal integer in [min, max]
  duration_ms,   // whole milliseconds in [min, max]
  flag,          // true or false
  one_of,        // one of `choices` (comma-separated)
  list_of,       // a comma-separated list of `choices`, at least one, in order of preference
};
struct ConfigRule {
  ConfigKind kind = ConfigKind::text;
  int64_t min = 0, max = 0;
  std::string_view choices{};
  bool any_case = false;  // one_of: "ssl" is SSL, as Java reads security.protocol; stored as the choice
  // one_of: an empty value is this choice (Java's empty ssl.endpoint.identification.algorithm is none);
  // empty: an empty value is refused like any other that is not a choice.
  std::string_view empty_is{};
};

// A value that passed its key's rule, on its way into its field of Config.
struct ConfigValue {
  std::string_view text;           // as given
  int64_t number = 0;              // whole_number, duration_ms; flag: 0 or 1; one_of: index in the choices
  std::vector<std::string> items;  // list_of: the names, trimmed
};

// Whether a key's value is a secret, and which part of it: never printed by a configuration dump
// (`kafkawire -X dump`) nor by an error message; config_value_shown() writes it redacted.
enum class ConfigSecret : uint8_t {
  none,
  value,          // the whole value (a password, a token, a private key's PEM text)
  jaas_password,  // sasl.jaas.config: the values of its options but username
};

// One key, written once: its name, default, meaning, rule and the field it sets. Config's defaults, the
// parser, docs/configuration.md (a unit test fails when it differs) and `kafkawire --help-config` all
// come from the table of these in consumer/src/config.cpp.
struct ConfigKey {
  std::string_view name;
  std::string_view default_value;  // empty: no default (required or optional)
  std::string_view meaning;
  std::string_view section;  // connection, consumer, group, producer
  ConfigRule rule;
  void (*store)(Config&, const ConfigValue&) = nullptr;
  ConfigSecret secret = ConfigSecret::none;
};
const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(std::string_view name);

// A key of Java's clients that kafkawire has no setting for, but that the properties files Java users
// already have often hold. A value among `accepted` (comma-separated) is what kafkawire does anyway: it
// is taken, kept in Config::values and changes nothing. Any other value (any value at all when
// `accepted` is empty) is refused with `why`, which names the key and never the value (some of these are
// passwords). Other unknown keys stay errors naming the closest known key.
struct JavaClientKey {
  std::string_view name;
  std::string_view accepted;
  std::string_view why;
};
const std::vector<JavaClientKey>& java_client_keys();

// "[redacted, 12 chars]": what dumps and error messages show instead of a secret.
std::string redacted(std::string_view secret);
// `value` of `key` as it may be shown: as it is, or with its secret part redacted (ConfigKey::secret).
std::string config_value_shown(std::string_view key, std::string_view value);

// Java's .properties syntax (java.util.Properties.load), for the client files Java users already have:
// `key=value`, `key: value` or `key value`; `#` and `!` comment lines; a line ending in an odd number of
// backslashes continues on the next (whose leading blanks are dropped); escapes \t \n \r \f \uXXXX,
// and a backslash before any other character is that character (`\=`, `\:`, `\ ` in keys). Values are
// trimmed, as Kafka's ConfigDef trims them. A later line for a key replaces an earlier one. Bytes other
// than escapes are kept as they are (UTF-8 stays UTF-8; Java would read them as ISO-8859-1). False with
// `problem` ("line N: ...", never a value) on a malformed \uXXXX escape.
bool parse_java_properties(std::string_view text, std::map<std::string, std::string>& out,
                           std::string& problem);

// What a key accepts, in words: "1 to 2147483647 ms", "true, false", "earliest, latest, none".
std::string config_accepts(const ConfigRule& rule);

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

  // One field per key of config_keys(); a default-constructed Config holds the defaults of that table.
  std::string bootstrap_servers;
  std::string client_id;
  std::string group_id;
  std::optional<std::string> group_instance_id;
  bool enable_auto_commit{};
  std::chrono::milliseconds auto_commit_interval{};
  OffsetReset auto_offset_reset{};
  IsolationLevel isolation_level{};
  int32_t fetch_min_bytes{};
  int32_t fetch_max_bytes{};
  int32_t max_partition_fetch_bytes{};
  std::chrono::milliseconds fetch_max_wait{};
  int32_t max_poll_records{};
  // Prefetch bound: fetched record bytes not yet polled, over all partitions, in KiB.
  int32_t queued_max_kbytes{};
  bool check_crcs{};
  std::chrono::milliseconds session_timeout{};
  std::chrono::milliseconds heartbeat_interval{};
  std::chrono::milliseconds max_poll_interval{};
  std::vector<std::string> partition_assignment_strategy;
  GroupProtocol group_protocol{};
  std::optional<std::string> group_remote_assignor;  // nullopt: the broker's default
  int64_t receive_message_max_bytes{};
  std::chrono::milliseconds request_timeout{};
  std::chrono::milliseconds socket_connection_setup_timeout{};
  std::chrono::milliseconds reconnect_backoff{};
  std::chrono::milliseconds reconnect_backoff_max{};
  std::chrono::milliseconds metadata_max_age{};
  std::chrono::milliseconds retry_backoff{};
  std::chrono::milliseconds default_api_timeout{};
  bool allow_auto_create_topics{};
  // Producer
  std::string acks;  // 0, 1, all (-1)
  std::chrono::milliseconds linger{};
  int32_t batch_size{};
  std::string compression_type;
  int32_t retries{};
  std::chrono::milliseconds delivery_timeout{};
  int64_t buffer_memory{};
  std::chrono::milliseconds max_block{};
  int32_t max_request_size{};
  int32_t max_in_flight_requests{};
  bool enable_idempotence{};     // as set; idempotent() says whether the producer is
  std::string transactional_id;  // empty: no transactions
  std::chrono::milliseconds transaction_timeout{};
  // Security (TLS and SASL)
  std::string security_protocol;  // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL
  std::string sasl_mechanism;     // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
  std::string sasl_username;
  std::string sasl_password;
  std::string sasl_jaas_config;
  std::string sasl_oauthbearer_token;
  std::string sasl_oauthbearer_token_file;
  // OAUTHBEARER from the program: called at each (re-)authentication for a token (a JWT). Set in code,
  // not by a key; takes precedence over sasl.oauthbearer.token(.file).
  struct TokenProvider {
    std::function<std::error_code(std::string& token, std::string& problem)> get;
    explicit operator bool() const { return static_cast<bool>(get); }
    // Functions cannot be compared: two Configs are equal here when both have one or neither has.
    friend bool operator==(const TokenProvider& a, const TokenProvider& b) { return !a == !b; }
  } sasl_oauthbearer_token_provider;
  std::string ssl_ca_location;
  std::string ssl_ca_pem;
  std::string ssl_certificate_location;
  std::string ssl_certificate_pem;
  std::string ssl_key_location;
  std::string ssl_key_pem;
  std::string ssl_key_password;
  std::string ssl_endpoint_identification_algorithm;  // https or none
  std::string ssl_truststore_location;                // Java's names, PEM only
  std::string ssl_truststore_type;
  std::string ssl_keystore_location;
  std::string ssl_keystore_type;

  // Every key at its default.
  Config();
  // Validates every key and value; throws ConfigError naming the key.
  Config(std::initializer_list<std::pair<const std::string, std::string>> kv);
  explicit Config(const std::map<std::string, std::string>& kv);

  // The same, without exceptions: the error names the key and the problem.
  static std::error_code parse(const std::map<std::string, std::string>& kv, Config& out,
                               std::string& problem, std::string* failed_key = nullptr);

  // Sets one key (validated); the error message is in `problem`.
  std::error_code set(const std::string& key, const std::string& value, std::string& problem);

  // The configuration as `kafkawire -X dump` prints it: every key that was set or has a default, in the
  // order of config_keys(), then the keys of Java's clients taken (java_client_keys()); each value as it
  // takes effect (a choice as the table spells it: "sasl_ssl" is SASL_SSL, an empty
  // ssl.endpoint.identification.algorithm is none) and with its secret part redacted
  // (config_value_shown()).
  std::vector<std::pair<std::string, std::string>> dump() const;

  // Equal when every setting is (the raw `values` included).
  friend bool operator==(const Config&, const Config&) = default;

  // Whether the producer is idempotent: enable.idempotence, unless it was left at its default and acks,
  // retries or max.in.flight.requests.per.connection were set to what idempotence cannot keep (then it is
  // off, as in Java; set explicitly with such a value, parse() refuses the configuration).
  bool idempotent() const;

  int16_t acks_value() const { return acks == "all" ? int16_t{-1} : static_cast<int16_t>(std::stoi(acks)); }

 private:
  struct Blank {};
  explicit Config(Blank) {}
  static const Config& defaults();  // built once from the table
  static std::error_code check_group_protocol(const Config& c, std::string& problem, std::string* failed_key);
  static std::error_code check_idempotence(const Config& c, std::string& problem, std::string* failed_key);
  // security.protocol against sasl.* and ssl.*, and against what this build has; fills sasl.username and
  // sasl.password from sasl.jaas.config.
  static std::error_code check_security(Config& c, std::string& problem, std::string* failed_key);
};

// The connection settings of a Config as the Pool takes them (Consumer and Producer alike). Throws
// ConfigError when bootstrap.servers is not a list of host:port.
net::PoolOptions pool_options(const Config& config);

}  // namespace kafkawire
