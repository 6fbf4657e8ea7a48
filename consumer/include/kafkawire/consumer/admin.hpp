// Topic administration: list, describe, create and delete topics, the way Java's Admin does them.
//
// - list_topics, describe_topics: one Metadata request (every topic, or the named ones; never creating
//   one) to any broker. A description has each partition's leader, leader epoch, replicas, in-sync
//   replicas and offline replicas, the topic id and whether the topic is internal (__consumer_offsets).
// - create_topics (CreateTopics) and delete_topics (DeleteTopics, by name): to the controller, as Java's
//   Admin sends them: the broker Metadata names as ControllerId (on KRaft a broker the cluster picks,
//   which forwards the request to the active controller). create_topics with validate_only is a dry run:
//   the controller checks everything (name, partitions, replication factor, configs, policies) and creates
//   nothing.
//
// Errors: every call completes with void(std::error_code, AdminResult<T>). The error_code is the call's:
// a failure of the call itself (the cluster could not be reached, no answer before the deadline:
// client_errc::timeout, a broker too old: unsupported_version), else the first failed topic's error,
// else none. Each topic's result carries its own outcome: the broker's error code as an error_code
// (`r.ec == kafka_errc::topic_already_exists`) and the broker's error message, word for word
// ("Topic 'orders' already exists."); AdminResult::error_text names every failed topic with both.
// Nothing is kept in a string another call may overwrite.
//
// Retries follow the error policy (protocol/error_policy.hpp): Metadata as ApiFamily::metadata (a lost
// connection, a top-level error the policy retries); CreateTopics and DeleteTopics as
// ApiFamily::topic_admin: a topic's error is its answer, except NOT_CONTROLLER (the metadata is refreshed
// and the topic sent again to the controller it names) and THROTTLING_QUOTA_EXCEEDED; a lost connection
// refreshes the metadata too. Each call ends within default.api.timeout.ms; each request waits at most
// request.timeout.ms, which is also the timeout CreateTopics and DeleteTopics give the controller (cut at
// the call's deadline, as Java does); retries wait retry.backoff.ms, doubling up to
// reconnect.backoff.max.ms.
//
// Adding an operation: a result type (deriving from TopicOutcome when it has per-topic results), a
// coroutine in admin.cpp built on its two steps, `send_to` (where a request goes: the controller or any
// broker, at the version both sides speak) and `per_topic` (the retry loop of requests with per-topic
// results), and an async_ wrapper here.
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

// A config of a created topic as the controller reports it (CreateTopics v5+).
struct TopicConfigEntry {
  std::string name;
  std::optional<std::string> value;  // null for a sensitive value
  bool read_only = false;
  int8_t source = -1;  // DescribeConfigs' ConfigSource: 1 topic, 4 static broker, 5 default, ...
  bool sensitive = false;
};

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

template <class T>
struct AdminResult {
  std::vector<T> topics;   // in the order asked (list_topics: by name)
  std::string error_text;  // what failed, in words (every failed topic, with the broker's message)
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

  // The same as coroutines, for callers already in one.
  Result<TopicListing> list_topics();
  Result<TopicDescription> describe_topics(std::vector<std::string> topics);
  Result<CreatedTopic> create_topics(std::vector<NewTopic> topics, CreateTopicsOptions options = {});
  Result<DeletedTopic> delete_topics(std::vector<std::string> topics);

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
