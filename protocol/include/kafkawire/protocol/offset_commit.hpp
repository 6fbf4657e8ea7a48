// OffsetCommit (key 8): a consumer stores its position in each partition with the group coordinator.
//
// Request  v2:  GroupId, GenerationIdOrMemberEpoch, MemberId, RetentionTimeMs,
//               Topics[Name, Partitions[PartitionIndex, CommittedOffset, CommittedMetadata]]
//               (v0-1 were removed in Kafka 4.0; v2 is the baseline)
//          v3-4: same as v2.
//          v5:  RetentionTimeMs removed (retention is only the broker's offsets.retention.minutes).
//          v6:  CommittedLeaderEpoch (fencing).
//          v7:  GroupInstanceId (static membership, KIP-345).
//          v8:  flexible.
//          v9:  same as v8; the first version usable with the consumer group protocol (KIP-848), where
//               GenerationIdOrMemberEpoch carries the member epoch.
//          v10: topic ids: TopicId replaces Name (KIP-848).
// Response v2:  Topics[Name, Partitions[PartitionIndex, ErrorCode]]
//          v3+: ThrottleTimeMs
//          v8:  flexible.
//          v9:  may return STALE_MEMBER_EPOCH and GROUP_ID_NOT_FOUND.
//          v10: TopicId replaces Name; may return UNKNOWN_TOPIC_ID.
// There is no top-level error code: a group-level failure is repeated in every partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetCommitResponse;

struct OffsetCommitRequest {
  static constexpr std::string_view name = "OffsetCommitRequest";
  static constexpr int16_t api_key = 8;
  static constexpr int16_t min_version = 2, max_version = 10, first_flexible = 8;
  using response_type = OffsetCommitResponse;

  struct OffsetCommitRequestPartition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v6+
    std::optional<std::string> committed_metadata;
    friend bool operator==(const OffsetCommitRequestPartition&,
                           const OffsetCommitRequestPartition&) = default;
  };
  struct OffsetCommitRequestTopic {
    std::string name;  // v2-9
    Uuid topic_id;     // v10+
    std::vector<OffsetCommitRequestPartition> partitions;
    friend bool operator==(const OffsetCommitRequestTopic&, const OffsetCommitRequestTopic&) = default;
  };

  std::string group_id;
  // -1 (with an empty MemberId) commits as a simple consumer, outside any group generation.
  int32_t generation_id_or_member_epoch = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v7+
  int64_t retention_time_ms = -1;                // v2-4; -1 = the broker's default retention
  std::vector<OffsetCommitRequestTopic> topics;

  friend bool operator==(const OffsetCommitRequest&, const OffsetCommitRequest&) = default;
};

template <class V>
void visit(V& v, OffsetCommitRequest::OffsetCommitRequestPartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("CommittedOffset", m.committed_offset);
  if (v.version() >= 6) v.field("CommittedLeaderEpoch", m.committed_leader_epoch);
  v.field("CommittedMetadata", m.committed_metadata);
  v.tags();
}

template <class V>
void visit(V& v, OffsetCommitRequest::OffsetCommitRequestTopic& m) {
  if (v.version() <= 9) v.field("Name", m.name);
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetCommitRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("GenerationIdOrMemberEpoch", m.generation_id_or_member_epoch);
  v.field("MemberId", m.member_id);
  if (v.version() >= 7) v.field("GroupInstanceId", m.group_instance_id);
  if (v.version() <= 4) v.field("RetentionTimeMs", m.retention_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

struct OffsetCommitResponse {
  static constexpr std::string_view name = "OffsetCommitResponse";
  static constexpr int16_t api_key = 8;
  static constexpr int16_t min_version = 2, max_version = 10, first_flexible = 8;

  struct OffsetCommitResponsePartition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    friend bool operator==(const OffsetCommitResponsePartition&,
                           const OffsetCommitResponsePartition&) = default;
  };
  struct OffsetCommitResponseTopic {
    std::string name;  // v2-9
    Uuid topic_id;     // v10+
    std::vector<OffsetCommitResponsePartition> partitions;
    friend bool operator==(const OffsetCommitResponseTopic&, const OffsetCommitResponseTopic&) = default;
  };

  int32_t throttle_time_ms = 0;  // v3+
  std::vector<OffsetCommitResponseTopic> topics;

  friend bool operator==(const OffsetCommitResponse&, const OffsetCommitResponse&) = default;
};

template <class V>
void visit(V& v, OffsetCommitResponse::OffsetCommitResponsePartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, OffsetCommitResponse::OffsetCommitResponseTopic& m) {
  if (v.version() <= 9) v.field("Name", m.name);
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetCommitResponse& m) {
  if (v.version() >= 3) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
