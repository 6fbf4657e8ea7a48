// CreateTopics (key 19): creates topics, with a partition count and replication factor or an explicit
// replica assignment, and per-topic configs. Sent to any broker, which forwards it to the controller.
//
// Request  v2:   Topics[Name, NumPartitions, ReplicationFactor, Assignments[PartitionIndex, BrokerIds],
//                Configs[Name, Value]], timeoutMs, validateOnly (v0-1 were removed in Kafka 4.0)
//          v4+:  NumPartitions / ReplicationFactor may be -1 for the broker default (KIP-464)
//          v5:   flexible
//          v6+:  may answer THROTTLING_QUOTA_EXCEEDED (KIP-599); v7: same as v6
// Response v2:   ThrottleTimeMs, Topics[Name, ErrorCode, ErrorMessage] (v3+: sent before throttling)
//          v5+:  flexible; Topics[NumPartitions, ReplicationFactor, Configs[Name, Value, ReadOnly,
//                ConfigSource, IsSensitive]] (KIP-525); Topics tagged 0 TopicConfigErrorCode
//          v7+:  Topics[TopicId]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct CreateTopicsResponse;

struct CreateTopicsRequest {
  static constexpr std::string_view name = "CreateTopicsRequest";
  static constexpr int16_t api_key = 19;
  static constexpr int16_t min_version = 2, max_version = 7, first_flexible = 5;
  using response_type = CreateTopicsResponse;

  struct CreatableReplicaAssignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
    friend bool operator==(const CreatableReplicaAssignment&, const CreatableReplicaAssignment&) = default;
  };
  struct CreatableTopicConfig {
    std::string name;
    std::optional<std::string> value = "";
    friend bool operator==(const CreatableTopicConfig&, const CreatableTopicConfig&) = default;
  };
  struct CreatableTopic {
    std::string name;
    int32_t num_partitions = 0;      // -1 with Assignments, or for the broker default
    int16_t replication_factor = 0;  // -1 with Assignments, or for the broker default
    std::vector<CreatableReplicaAssignment> assignments;
    std::vector<CreatableTopicConfig> configs;
    friend bool operator==(const CreatableTopic&, const CreatableTopic&) = default;
  };

  std::vector<CreatableTopic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;

  friend bool operator==(const CreateTopicsRequest&, const CreateTopicsRequest&) = default;
};

template <class V>
void visit(V& v, CreateTopicsRequest::CreatableReplicaAssignment& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("BrokerIds", m.broker_ids);
  v.tags();
}

template <class V>
void visit(V& v, CreateTopicsRequest::CreatableTopicConfig& m) {
  v.field("Name", m.name);
  v.field("Value", m.value);
  v.tags();
}

template <class V>
void visit(V& v, CreateTopicsRequest::CreatableTopic& m) {
  v.field("Name", m.name);
  v.field("NumPartitions", m.num_partitions);
  v.field("ReplicationFactor", m.replication_factor);
  v.field("Assignments", m.assignments);
  v.field("Configs", m.configs);
  v.tags();
}

template <class V>
void visit(V& v, CreateTopicsRequest& m) {
  v.field("Topics", m.topics);
  v.field("timeoutMs", m.timeout_ms);  // the schema spells these two in camelCase
  v.field("validateOnly", m.validate_only);
  v.tags();
}

struct CreateTopicsResponse {
  static constexpr std::string_view name = "CreateTopicsResponse";
  static constexpr int16_t api_key = 19;
  static constexpr int16_t min_version = 2, max_version = 7, first_flexible = 5;

  struct CreatableTopicConfigs {
    std::string name;
    std::optional<std::string> value = "";
    bool read_only = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    friend bool operator==(const CreatableTopicConfigs&, const CreatableTopicConfigs&) = default;
  };
  struct CreatableTopicResult {
    std::string name;
    Uuid topic_id;  // v7+
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    int16_t topic_config_error_code = 0;  // v5+, tag 0
    int32_t num_partitions = -1;          // v5+
    int16_t replication_factor = -1;      // v5+
    std::optional<std::vector<CreatableTopicConfigs>> configs = std::vector<CreatableTopicConfigs>{};  // v5+
    friend bool operator==(const CreatableTopicResult&, const CreatableTopicResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<CreatableTopicResult> topics;

  friend bool operator==(const CreateTopicsResponse&, const CreateTopicsResponse&) = default;
};

template <class V>
void visit(V& v, CreateTopicsResponse::CreatableTopicConfigs& m) {
  v.field("Name", m.name);
  v.field("Value", m.value);
  v.field("ReadOnly", m.read_only);
  v.field("ConfigSource", m.config_source);
  v.field("IsSensitive", m.is_sensitive);
  v.tags();
}

template <class V>
void visit(V& v, CreateTopicsResponse::CreatableTopicResult& m) {
  v.field("Name", m.name);
  if (v.version() >= 7) v.field("TopicId", m.topic_id);
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  if (v.version() >= 5) {
    v.field("NumPartitions", m.num_partitions);
    v.field("ReplicationFactor", m.replication_factor);
    v.field("Configs", m.configs);
  }
  v.tags([&](auto& t) { t.field(0, "TopicConfigErrorCode", m.topic_config_error_code); });
}

template <class V>
void visit(V& v, CreateTopicsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
