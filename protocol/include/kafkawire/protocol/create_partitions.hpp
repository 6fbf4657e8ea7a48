// CreatePartitions (key 37): raises the partition count of existing topics (it cannot lower it), with the
// replicas of the new partitions chosen by the broker or given explicitly. Sent to any broker, which
// forwards it to the controller (KIP-195).
//
// Request  v0:   Topics[Name, Count (the new total), Assignments (nullable: null lets the broker place the
//                new partitions; else one BrokerIds list per new partition)], TimeoutMs, ValidateOnly
//          v1:   same as v0 (on quota violation the broker answers first, then throttles)
//          v2:   flexible
//          v3:   same as v2; may answer THROTTLING_QUOTA_EXCEEDED (89) (KIP-599)
// Response v0:   ThrottleTimeMs, Results[Name, ErrorCode, ErrorMessage (nullable)]
//          v1-3: same as v0 (v2: flexible). A Count not above the current one is INVALID_PARTITIONS (37).
// Kafka 3.9 and 4.x serve v0-3.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct CreatePartitionsResponse;

struct CreatePartitionsRequest {
  static constexpr std::string_view name = "CreatePartitionsRequest";
  static constexpr int16_t api_key = 37;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = 2;
  using response_type = CreatePartitionsResponse;

  struct CreatePartitionsAssignment {
    std::vector<int32_t> broker_ids;
    friend bool operator==(const CreatePartitionsAssignment&, const CreatePartitionsAssignment&) = default;
  };
  struct CreatePartitionsTopic {
    std::string name;
    int32_t count = 0;  // the new partition count of the topic
    std::optional<std::vector<CreatePartitionsAssignment>> assignments;  // null: the broker places them
    friend bool operator==(const CreatePartitionsTopic&, const CreatePartitionsTopic&) = default;
  };

  std::vector<CreatePartitionsTopic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;

  friend bool operator==(const CreatePartitionsRequest&, const CreatePartitionsRequest&) = default;
};

template <class V>
void visit(V& v, CreatePartitionsRequest::CreatePartitionsAssignment& m) {
  v.field("BrokerIds", m.broker_ids);
  v.tags();
}

template <class V>
void visit(V& v, CreatePartitionsRequest::CreatePartitionsTopic& m) {
  v.field("Name", m.name);
  v.field("Count", m.count);
  v.field("Assignments", m.assignments);
  v.tags();
}

template <class V>
void visit(V& v, CreatePartitionsRequest& m) {
  v.field("Topics", m.topics);
  v.field("TimeoutMs", m.timeout_ms);
  v.field("ValidateOnly", m.validate_only);
  v.tags();
}

struct CreatePartitionsResponse {
  static constexpr std::string_view name = "CreatePartitionsResponse";
  static constexpr int16_t api_key = 37;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = 2;

  struct CreatePartitionsTopicResult {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    friend bool operator==(const CreatePartitionsTopicResult&, const CreatePartitionsTopicResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<CreatePartitionsTopicResult> results;

  friend bool operator==(const CreatePartitionsResponse&, const CreatePartitionsResponse&) = default;
};

template <class V>
void visit(V& v, CreatePartitionsResponse::CreatePartitionsTopicResult& m) {
  v.field("Name", m.name);
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.tags();
}

template <class V>
void visit(V& v, CreatePartitionsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Results", m.results);
  v.tags();
}

}  // namespace kafkawire::protocol
