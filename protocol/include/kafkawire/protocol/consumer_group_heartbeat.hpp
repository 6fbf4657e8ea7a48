// ConsumerGroupHeartbeat (key 68): the whole consumer group protocol of KIP-848 in one request. The
// member heartbeats its state (subscription, owned partitions) and the broker-side assignor answers with
// the member's target assignment; no JoinGroup/SyncGroup, no client-side assignor. Most request fields are
// null when unchanged since the previous heartbeat, so a steady-state heartbeat is a few bytes.
//
// Request  v0:   GroupId, MemberId, MemberEpoch (0 joins, -1 leaves, -2 static member leaves to rejoin),
//                InstanceId, RackId, RebalanceTimeoutMs, SubscribedTopicNames, ServerAssignor,
//                TopicPartitions[TopicId, Partitions]; flexible
//          v1+:  SubscribedTopicRegex (KIP-848); the member must generate its own MemberId (KIP-1082)
// Response v0+:  ThrottleTimeMs, ErrorCode, ErrorMessage, MemberId, MemberEpoch, HeartbeatIntervalMs,
//                Assignment{TopicPartitions[TopicId, Partitions]}
// Assignment is a nullable struct, rare in Kafka's schemas: an int8 marker (-1 null, 1 present) and then
// the struct. Null means "no change", not "no partitions".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ConsumerGroupHeartbeatResponse;

struct ConsumerGroupHeartbeatRequest {
  static constexpr std::string_view name = "ConsumerGroupHeartbeatRequest";
  static constexpr int16_t api_key = 68;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;
  using response_type = ConsumerGroupHeartbeatResponse;

  struct TopicPartitions {
    Uuid topic_id;
    std::vector<int32_t> partitions;
    friend bool operator==(const TopicPartitions&, const TopicPartitions&) = default;
  };

  std::string group_id;
  std::string member_id;
  int32_t member_epoch = 0;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t rebalance_timeout_ms = -1;
  std::optional<std::vector<std::string>> subscribed_topic_names;
  std::optional<std::string> subscribed_topic_regex;  // v1+
  std::optional<std::string> server_assignor;
  std::optional<std::vector<TopicPartitions>> topic_partitions;

  friend bool operator==(const ConsumerGroupHeartbeatRequest&,
                         const ConsumerGroupHeartbeatRequest&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupHeartbeatRequest::TopicPartitions& m) {
  v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupHeartbeatRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("MemberId", m.member_id);
  v.field("MemberEpoch", m.member_epoch);
  v.field("InstanceId", m.instance_id);
  v.field("RackId", m.rack_id);
  v.field("RebalanceTimeoutMs", m.rebalance_timeout_ms);
  v.field("SubscribedTopicNames", m.subscribed_topic_names);
  if (v.version() >= 1) v.field("SubscribedTopicRegex", m.subscribed_topic_regex);
  v.field("ServerAssignor", m.server_assignor);
  v.field("TopicPartitions", m.topic_partitions);
  v.tags();
}

struct ConsumerGroupHeartbeatResponse {
  static constexpr std::string_view name = "ConsumerGroupHeartbeatResponse";
  static constexpr int16_t api_key = 68;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;

  // A commonStruct in the schema.
  struct TopicPartitions {
    Uuid topic_id;
    std::vector<int32_t> partitions;
    friend bool operator==(const TopicPartitions&, const TopicPartitions&) = default;
  };
  struct Assignment {
    std::vector<TopicPartitions> topic_partitions;
    friend bool operator==(const Assignment&, const Assignment&) = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  std::optional<std::string> member_id;
  int32_t member_epoch = 0;
  int32_t heartbeat_interval_ms = 0;
  std::optional<Assignment> assignment;

  friend bool operator==(const ConsumerGroupHeartbeatResponse&,
                         const ConsumerGroupHeartbeatResponse&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupHeartbeatResponse::TopicPartitions& m) {
  v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupHeartbeatResponse::Assignment& m) {
  v.field("TopicPartitions", m.topic_partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupHeartbeatResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.field("MemberId", m.member_id);
  v.field("MemberEpoch", m.member_epoch);
  v.field("HeartbeatIntervalMs", m.heartbeat_interval_ms);
  v.field("Assignment", m.assignment);
  v.tags();
}

}  // namespace kafkawire::protocol
