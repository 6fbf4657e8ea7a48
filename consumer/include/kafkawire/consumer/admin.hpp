// Topic administration: list, describe, create and delete topics, add partitions, describe and alter
// configs, delete records, the way Java's Admin does them.
//
// - list_topics, describe_topics: one Metadata request (every topic, or the named ones; never creating
//   one) to any broker. A description has each partition's leader, leader epoch, replicas, in-sync
//   replicas and offline replicas, the topic id and whether the topic is internal (__consumer_offsets).
// - create_topics (CreateTopics) and delete_topics (DeleteTopics, by name): to the controller, as Java's
//   Admin sends them: the broker Metadata names as ControllerId (on KRaft a broker the cluster picks,
//   which forwards the request to the active controller). create_topics with validate_only is a dry run:
//   the controller checks everything (name, partitions, replication factor, configs, policies) and creates
//   nothing.
// - create_partitions (CreatePartitions): to the controller, each topic with its new total partition
//   count (a count can only grow: one not above the current is INVALID_PARTITIONS) and, optionally, the
//   replicas of each new partition. validate_only: the controller checks it and adds nothing.
// - describe_configs (DescribeConfigs, every key of each resource, optionally with synonyms and
//   documentation) and incremental_alter_configs (IncrementalAlterConfigs: SET, DELETE, APPEND, SUBTRACT
//   of single keys; the others stay as they are; a resource's keys change together or not at all;
//   validate_only: checked, nothing changed). Where each resource goes, as Java's Admin sends it: a
//   broker's configs (or its loggers') to that broker, which alone answers for itself; a topic's, and the
//   cluster-wide broker default (name ""), to any broker (on KRaft the broker forwards an alteration to
//   the controller). One request goes to each destination for each resource type. Sensitive
//   values (passwords) never come back: value is null and sensitive is set.
// - delete_records (DeleteRecords): to each partition's leader, from the pool's metadata (fetched first
//   when a topic's is missing, stale or older than metadata.max.age.ms); each partition's new low
//   watermark, or its error: OFFSET_OUT_OF_RANGE past the high watermark, POLICY_VIOLATION for a topic
//   whose cleanup.policy has no "delete". A topic the freshly fetched metadata does not have, or a
//   partition number past its count, is UNKNOWN_TOPIC_OR_PARTITION at once (Java's Admin retries it
//   until its timeout). The leaders are asked one after another. The dry run sends no DeleteRecords:
//   ListOffsets (earliest, latest) to each leader and the topics' cleanup.policy (DescribeConfigs) say
//   what would be deleted and what the leader would refuse.
//
// Bad input (a topic without a name, a partition count below 1, a set without a value, a broker id that
// is not in the cluster, an offset below -1, a partition given twice) is refused before anything is
// sent: that topic's, resource's or partition's ec is client_errc::invalid_argument, with what is wrong
// in error_message; the rest of the call goes on.
//
// Errors: every call completes with void(std::error_code, AdminResult<T>). The error_code is the call's:
// a failure of the call itself (the cluster could not be reached, no answer before the deadline:
// client_errc::timeout, a broker too old: unsupported_version), else the first failed topic's error,
// else none. Each topic's (resource's, partition's) result carries its own outcome: the broker's error
// code as an error_code (`r.ec == kafka_errc::topic_already_exists`) and the broker's error message, word
// for word ("Topic 'orders' already exists."; DeleteRecords has no message field: the text Kafka gives
// the code); AdminResult::error_text names every failed one with both ("topic orders: INVALID_CONFIG:
// ...", "broker 1: ...", "orders partition 2: OFFSET_OUT_OF_RANGE: ..."). Nothing is kept in a string
// another call may overwrite.
//
// Retries follow the error policy (protocol/error_policy.hpp): Metadata as ApiFamily::metadata (a lost
// connection, a top-level error the policy retries); CreateTopics, DeleteTopics, CreatePartitions,
// DescribeConfigs and IncrementalAlterConfigs as ApiFamily::topic_admin: a topic's or resource's error is
// its answer, except NOT_CONTROLLER (the metadata is refreshed and the topic sent again to the controller
// it names) and THROTTLING_QUOTA_EXCEEDED; a lost connection refreshes the metadata too. DeleteRecords
// (and the dry run's ListOffsets) as ApiFamily::delete_records (list_offsets): NOT_LEADER_OR_FOLLOWER and
// the other stale-metadata errors refresh the metadata and send the partition again to its leader;
// retriable errors (REQUEST_TIMED_OUT) send it again. Each call ends within default.api.timeout.ms; each
// request waits at most request.timeout.ms, which is also the timeout CreateTopics, DeleteTopics,
// CreatePartitions and DeleteRecords give the broker (cut at the call's deadline, as Java does);
// DescribeConfigs and IncrementalAlterConfigs carry no timeout field. Retries wait retry.backoff.ms,
// doubling up to reconnect.backoff.max.ms.
//
// Adding an operation: a result type (deriving from TopicOutcome when it has per-topic results), a
// coroutine in admin.cpp built on its two steps, `send_to` (where a request goes: the controller, any
// broker or one broker, at the version both sides speak) and a retry loop: `per_topic` for per-topic
// results, `per_resource` (per_topic for each destination) for config resources, `per_partition` for
// requests to partition leaders; and an async_ wrapper here.
//
// Threading: an Admin runs on its executor and starts no threads; call it from there. Any number of calls
// may be outstanding at once. Destroying an Admin closes its connections: calls in flight complete with
// client_errc::operation_aborted.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/net/pool.hpp"

namespace kafkawire {

namespace asio = boost::asio;

// One topic's outcome: the broker's error code (none on success) and its error message, or a client
// error (client_errc::timeout, ...) with what went wrong on this side in `error_message`.
struct TopicOutcome {
  std::string name{};
  std::error_code ec{};
  std::string error_message{};  // the broker's ErrorMessage, as sent (often empty for Metadata errors)
  // "orders: TOPIC_ALREADY_EXISTS: Topic 'orders' already exists." (empty when ec is none)
  std::string error_text() const;
};

// list_topics: a topic of the cluster.
struct TopicListing {
  std::string name;
  protocol::Uuid topic_id;
  bool internal = false;
  int32_t partitions = 0;
  int32_t replication_factor = 0;  // replicas of partition 0
};

struct PartitionDescription {
  int32_t partition = 0;
  int32_t leader = -1;  // -1: none (offline, or being elected)
  int32_t leader_epoch = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
  std::error_code ec;  // the partition's error (LEADER_NOT_AVAILABLE, ...), none when it is fine
};

// describe_topics: one topic, or its error (UNKNOWN_TOPIC_OR_PARTITION, TOPIC_AUTHORIZATION_FAILED).
struct TopicDescription : TopicOutcome {
  protocol::Uuid topic_id{};
  bool internal = false;
  std::vector<PartitionDescription> partitions{};  // by partition number
};

// create_topics: what to create. Partitions and replication factor -1 are the broker's defaults
// (num.partitions, default.replication.factor; KIP-464, CreateTopics v4+). With a replica assignment
// (partition -> broker ids) both must be -1.
struct NewTopic {
  std::string name{};
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::map<int32_t, std::vector<int32_t>> replica_assignment{};
  std::vector<std::pair<std::string, std::string>> configs{};  // cleanup.policy=compact, ...
};

struct CreateTopicsOptions {
  bool validate_only = false;  // a dry run: everything is checked, nothing is created
};

// A config synonym (DescribeConfigs v1+ with include_synonyms): a value the key's value overrides or would
// fall back to, most specific first (the topic's retention.ms, then the broker's log.retention.ms, ...).
struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;  // null for a sensitive value
  int8_t source = -1;                // as ConfigEntry::source
};

// One config key of a topic or broker: as CreateTopics (v5+) reports a created topic's, or as
// DescribeConfigs describes it.
struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // null for a sensitive value (the broker never sends those)
  bool read_only = false;
  int8_t source = -1;  // protocol::ConfigSource: 1 topic, 2 dynamic broker, 4 static broker, 5 default, ...
                       // (DescribeConfigs v0 knows only "default" (5) or not (0))
  bool sensitive = false;
  std::vector<ConfigSynonym> synonyms{};       // with include_synonyms
  std::optional<std::string> documentation{};  // with include_documentation (DescribeConfigs v3+)
};
using TopicConfigEntry = ConfigEntry;

// Java's name of a ConfigSource: "DYNAMIC_TOPIC_CONFIG", "STATIC_BROKER_CONFIG", "DEFAULT_CONFIG", ...
std::string_view config_source_name(int8_t source) noexcept;

// create_topics: one topic's outcome; on success (also with validate_only) what it is or would be.
struct CreatedTopic : TopicOutcome {
  protocol::Uuid topic_id{};                // v7+; zero with validate_only
  int32_t partitions = -1;                  // v5+ (-1 from older brokers)
  int16_t replication_factor = -1;          // v5+
  std::vector<TopicConfigEntry> configs{};  // v5+: every config of the topic
};

// delete_topics: one topic's outcome.
struct DeletedTopic : TopicOutcome {
  protocol::Uuid topic_id{};  // v6+
};

// create_partitions: a topic's new total partition count (it can only grow), and optionally the replicas
// of each new partition (one broker list per new partition; empty: the controller places them).
struct NewPartitions {
  std::string topic{};
  int32_t total_count = 0;
  std::vector<std::vector<int32_t>> assignments{};
};

struct CreatePartitionsOptions {
  bool validate_only = false;  // a dry run: the controller checks the counts and assignments, adds nothing
};

// create_partitions: one topic's outcome (INVALID_PARTITIONS: "Topic currently has 3 partitions, which is
// higher than the requested 2.").
struct CreatedPartitions : TopicOutcome {};

// A resource with configs. Broker: the broker id in decimal, or "" for the cluster-wide dynamic default.
enum class ConfigResourceType : int8_t { topic = 2, broker = 4, broker_logger = 8 };
struct ConfigResource {
  ConfigResourceType type = ConfigResourceType::topic;
  std::string name{};
  friend bool operator==(const ConfigResource&, const ConfigResource&) = default;
};
std::string_view to_string(ConfigResourceType t) noexcept;  // "topic", "broker", "broker-logger"

// One resource's outcome, named with its type: "topic orders: INVALID_CONFIG: ..." / "broker 1: ...".
struct ConfigResourceOutcome : TopicOutcome {
  ConfigResourceType type = ConfigResourceType::topic;
  std::string error_text() const;
};

struct DescribeConfigsOptions {
  bool include_synonyms = false;       // each key's synonyms (v1+)
  bool include_documentation = false;  // each key's documentation (v3+; older brokers leave it out)
};

// describe_configs: one resource's configs, every key the broker has for it, by name.
struct DescribedConfigs : ConfigResourceOutcome {
  std::vector<ConfigEntry> configs{};
  const ConfigEntry* get(std::string_view key) const {
    for (const auto& c : configs)
      if (c.name == key) return &c;
    return nullptr;
  }
};

// IncrementalAlterConfigs' ConfigOperation. remove is DELETE: the key goes back to the value it falls back
// to. append and subtract add or remove items of a list-valued key (cleanup.policy, ...).
enum class ConfigOp : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };
struct ConfigAlteration {
  std::string key{};
  ConfigOp op = ConfigOp::set;
  std::optional<std::string> value{};  // needed by set, append and subtract; none for remove
};
// alter_configs: what to change of one resource. Its keys change together or not at all.
struct ConfigChange {
  ConfigResource resource{};
  std::vector<ConfigAlteration> alterations{};
};

struct AlterConfigsOptions {
  bool validate_only = false;  // a dry run: the broker checks keys and values, changes nothing
};

// alter_configs: one resource's outcome.
struct AlteredConfigs : ConfigResourceOutcome {};

// delete_records: the records of a partition below `before_offset` are deleted (the partition's log start
// offset moves there). kHighWatermark: every record below the high watermark.
struct RecordsToDelete {
  static constexpr int64_t kHighWatermark = -1;
  std::string topic{};
  int32_t partition = 0;
  int64_t before_offset = kHighWatermark;
};

struct DeleteRecordsOptions {
  // A dry run: nothing is deleted; ListOffsets (earliest, latest) to each leader says what would be, with
  // the errors the broker would answer (OFFSET_OUT_OF_RANGE past the high watermark).
  bool dry_run = false;
};

// delete_records: one partition's outcome. `name` is the topic.
struct DeletedRecords : TopicOutcome {
  int32_t partition = 0;
  int64_t low_watermark = -1;  // the partition's log start offset after the deletion (dry run: would be)
  // Dry run only (-1 otherwise): the log start offset and high watermark as they are now, from ListOffsets.
  int64_t log_start_offset = -1;
  int64_t high_watermark = -1;
  // "orders partition 2: OFFSET_OUT_OF_RANGE: ..." (empty when ec is none)
  std::string error_text() const;
};

template <class T>
struct AdminResult {
  // One per topic, config resource or partition (delete_records), in the order asked (list_topics: by
  // name).
  std::vector<T> topics;
  std::string error_text;  // what failed, in words (every failed one, with the broker's message)
  const T* find(std::string_view name) const {
    for (const auto& t : topics)
      if (t.name == name) return &t;
    return nullptr;
  }
};

class Admin {
 public:
  using executor_type = asio::any_io_executor;
  template <class T>
  using Result = net::Pool::Result<AdminResult<T>>;

  // Throws ConfigError when bootstrap.servers is not a list of host:port (Config itself checked the keys).
  Admin(executor_type ex, Config config);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Every topic of the cluster, internal ones flagged; topics the broker answers with an error (one being
  // deleted) are left out.
  template <class Token>
  auto async_list_topics(Token&& token) {
    return net::async_run<AdminResult<TopicListing>>(executor_, list_topics(), std::forward<Token>(token));
  }
  // The named topics; one that does not exist has ec UNKNOWN_TOPIC_OR_PARTITION.
  template <class Token>
  auto async_describe_topics(std::vector<std::string> topics, Token&& token) {
    return net::async_run<AdminResult<TopicDescription>>(executor_, describe_topics(std::move(topics)),
                                                         std::forward<Token>(token));
  }
  template <class Token>
  auto async_create_topics(std::vector<NewTopic> topics, CreateTopicsOptions options, Token&& token) {
    return net::async_run<AdminResult<CreatedTopic>>(executor_, create_topics(std::move(topics), options),
                                                     std::forward<Token>(token));
  }
  template <class Token>
  auto async_create_topics(std::vector<NewTopic> topics, Token&& token) {
    return async_create_topics(std::move(topics), CreateTopicsOptions{}, std::forward<Token>(token));
  }
  // Deletes topics by name; one that does not exist has ec UNKNOWN_TOPIC_OR_PARTITION.
  template <class Token>
  auto async_delete_topics(std::vector<std::string> topics, Token&& token) {
    return net::async_run<AdminResult<DeletedTopic>>(executor_, delete_topics(std::move(topics)),
                                                     std::forward<Token>(token));
  }

  // Raises the partition count of topics to the given totals.
  template <class Token>
  auto async_create_partitions(std::vector<NewPartitions> topics, CreatePartitionsOptions options,
                               Token&& token) {
    return net::async_run<AdminResult<CreatedPartitions>>(
        executor_, create_partitions(std::move(topics), options), std::forward<Token>(token));
  }
  template <class Token>
  auto async_create_partitions(std::vector<NewPartitions> topics, Token&& token) {
    return async_create_partitions(std::move(topics), CreatePartitionsOptions{}, std::forward<Token>(token));
  }
  // Every config key of each resource; a topic that does not exist has ec UNKNOWN_TOPIC_OR_PARTITION.
  template <class Token>
  auto async_describe_configs(std::vector<ConfigResource> resources, DescribeConfigsOptions options,
                              Token&& token) {
    return net::async_run<AdminResult<DescribedConfigs>>(
        executor_, describe_configs(std::move(resources), options), std::forward<Token>(token));
  }
  template <class Token>
  auto async_describe_configs(std::vector<ConfigResource> resources, Token&& token) {
    return async_describe_configs(std::move(resources), DescribeConfigsOptions{}, std::forward<Token>(token));
  }
  // Sets, deletes, appends to or subtracts from config keys (IncrementalAlterConfigs), the other keys
  // left as they are.
  template <class Token>
  auto async_incremental_alter_configs(std::vector<ConfigChange> changes, AlterConfigsOptions options,
                                       Token&& token) {
    return net::async_run<AdminResult<AlteredConfigs>>(
        executor_, incremental_alter_configs(std::move(changes), options), std::forward<Token>(token));
  }
  template <class Token>
  auto async_incremental_alter_configs(std::vector<ConfigChange> changes, Token&& token) {
    return async_incremental_alter_configs(std::move(changes), AlterConfigsOptions{},
                                           std::forward<Token>(token));
  }
  // Deletes the records of partitions below the given offsets; the result has one entry per partition,
  // in the order asked.
  template <class Token>
  auto async_delete_records(std::vector<RecordsToDelete> records, DeleteRecordsOptions options,
                            Token&& token) {
    return net::async_run<AdminResult<DeletedRecords>>(executor_, delete_records(std::move(records), options),
                                                       std::forward<Token>(token));
  }
  template <class Token>
  auto async_delete_records(std::vector<RecordsToDelete> records, Token&& token) {
    return async_delete_records(std::move(records), DeleteRecordsOptions{}, std::forward<Token>(token));
  }

  // The same as coroutines, for callers already in one.
  Result<TopicListing> list_topics();
  Result<TopicDescription> describe_topics(std::vector<std::string> topics);
  Result<CreatedTopic> create_topics(std::vector<NewTopic> topics, CreateTopicsOptions options = {});
  Result<DeletedTopic> delete_topics(std::vector<std::string> topics);
  Result<CreatedPartitions> create_partitions(std::vector<NewPartitions> topics,
                                              CreatePartitionsOptions options = {});
  Result<DescribedConfigs> describe_configs(std::vector<ConfigResource> resources,
                                            DescribeConfigsOptions options = {});
  Result<AlteredConfigs> incremental_alter_configs(std::vector<ConfigChange> changes,
                                                   AlterConfigsOptions options = {});
  Result<DeletedRecords> delete_records(std::vector<RecordsToDelete> records,
                                        DeleteRecordsOptions options = {});

  executor_type get_executor() const { return executor_; }
  const Config& config() const { return config_; }
  net::Pool& pool() { return *pool_; }

  // Each call's deadline, request timeout and backoff, from the Config.
  struct Timing {
    std::chrono::milliseconds timeout{60000};          // default.api.timeout.ms
    std::chrono::milliseconds request_timeout{30000};  // request.timeout.ms
    std::chrono::milliseconds retry_backoff{100};      // retry.backoff.ms
    std::chrono::milliseconds retry_backoff_max{1000};
  };

 private:
  executor_type executor_;
  Config config_;
  Timing timing_;
  std::shared_ptr<net::Pool> pool_;
};

}  // namespace kafkawire
