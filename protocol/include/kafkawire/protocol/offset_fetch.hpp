// OffsetFetch (key 9): a consumer reads the positions its group committed (OffsetCommit).
//
// Request  v1:  GroupId, Topics[Name, PartitionIndexes] (v0 was removed in Kafka 4.0; v1 is the baseline)
//          v2:  Topics may be null: all topics the group committed offsets for.
//          v3-5: same as v2.
//          v6:  flexible.
//          v7:  RequireStable (KIP-447: wait out pending transactional commits instead of returning them).
//          v8:  several groups at once (KIP-709): Groups[GroupId, Topics[Name, PartitionIndexes]] replaces
//               GroupId and Topics.
//          v9:  Groups[].MemberId, Groups[].MemberEpoch (KIP-848; validated for consumer-protocol groups).
//          v10: topic ids: Groups[].Topics[].TopicId replaces Name (KIP-848).
// Response v1:  Topics[Name, Partitions[PartitionIndex, CommittedOffset, Metadata, ErrorCode]]
//          v2:  ErrorCode (group or coordinator errors)
//          v3:  ThrottleTimeMs
//          v5:  Partitions[].CommittedLeaderEpoch
//          v6:  flexible.
//          v7:  may return UNSTABLE_OFFSET_COMMIT per partition.
//          v8:  Groups[GroupId, Topics[Name, Partitions[...]], ErrorCode] replaces Topics and ErrorCode.
//          v9:  may return STALE_MEMBER_EPOCH and UNKNOWN_MEMBER_ID.
//          v10: Groups[].Topics[].TopicId replaces Name; may return UNKNOWN_TOPIC_ID.
// The single-group fields (v1-7) and the Groups list (v8+) are separate members: fill the ones of the
// version you speak. The other set is not written (Kafka's own classes refuse to write a non-default one).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetFetchResponse;

struct OffsetFetchRequest {
  static constexpr std::string_view name = "OffsetFetchRequest";
  static constexpr int16_t api_key = 9;
  static constexpr int16_t min_version = 1, max_version = 10, first_flexible = 6;
  using response_type = OffsetFetchResponse;

  struct OffsetFetchRequestTopic {
    std::string name;
    std::vector<int32_t> partition_indexes;
    friend bool operator==(const OffsetFetchRequestTopic&, const OffsetFetchRequestTopic&) = default;
  };
  struct OffsetFetchRequestTopics {
    std::string name;  // v8-9
    Uuid topic_id;     // v10+
    std::vector<int32_t> partition_indexes;
    friend bool operator==(const OffsetFetchRequestTopics&, const OffsetFetchRequestTopics&) = default;
  };
  struct OffsetFetchRequestGroup {
    std::string group_id;
    std::optional<std::string> member_id;  // v9+
    int32_t member_epoch = -1;             // v9+
    // Null: every topic the group has offsets for.
    std::optional<std::vector<OffsetFetchRequestTopics>> topics = std::vector<OffsetFetchRequestTopics>{};
    friend bool operator==(const OffsetFetchRequestGroup&, const OffsetFetchRequestGroup&) = default;
  };

  std::string group_id;  // v1-7
  // v1-7; null (v2+): every topic the group has offsets for. Not nullable in v1, hence empty by default.
  std::optional<std::vector<OffsetFetchRequestTopic>> topics = std::vector<OffsetFetchRequestTopic>{};
  std::vector<OffsetFetchRequestGroup> groups;  // v8+
  bool require_stable = false;                  // v7+

  friend bool operator==(const OffsetFetchRequest&, const OffsetFetchRequest&) = default;
};

template <class V>
void visit(V& v, OffsetFetchRequest::OffsetFetchRequestTopic& m) {
  v.field("Name", m.name);
  v.field("PartitionIndexes", m.partition_indexes);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchRequest::OffsetFetchRequestTopics& m) {
  if (v.version() <= 9) v.field("Name", m.name);
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  v.field("PartitionIndexes", m.partition_indexes);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchRequest::OffsetFetchRequestGroup& m) {
  v.field("GroupId", m.group_id);
  if (v.version() >= 9) {
    v.field("MemberId", m.member_id);
    v.field("MemberEpoch", m.member_epoch);
  }
  v.field("Topics", m.topics);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchRequest& m) {
  if (v.version() <= 7) {
    v.field("GroupId", m.group_id);
    v.field("Topics", m.topics, /*nullable now*/ v.version() >= 2);
  }
  if (v.version() >= 8) v.field("Groups", m.groups);
  if (v.version() >= 7) v.field("RequireStable", m.require_stable);
  v.tags();
}

struct OffsetFetchResponse {
  static constexpr std::string_view name = "OffsetFetchResponse";
  static constexpr int16_t api_key = 9;
  static constexpr int16_t min_version = 1, max_version = 10, first_flexible = 6;

  // v1-7
  struct OffsetFetchResponsePartition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;         // -1: nothing committed
    int32_t committed_leader_epoch = -1;  // v5+
    std::optional<std::string> metadata;
    int16_t error_code = 0;
    friend bool operator==(const OffsetFetchResponsePartition&,
                           const OffsetFetchResponsePartition&) = default;
  };
  struct OffsetFetchResponseTopic {
    std::string name;
    std::vector<OffsetFetchResponsePartition> partitions;
    friend bool operator==(const OffsetFetchResponseTopic&, const OffsetFetchResponseTopic&) = default;
  };
  // v8+
  struct OffsetFetchResponsePartitions {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;  // -1: nothing committed
    int32_t committed_leader_epoch = -1;
    std::optional<std::string> metadata;
    int16_t error_code = 0;
    friend bool operator==(const OffsetFetchResponsePartitions&,
                           const OffsetFetchResponsePartitions&) = default;
  };
  struct OffsetFetchResponseTopics {
    std::string name;  // v8-9
    Uuid topic_id;     // v10+
    std::vector<OffsetFetchResponsePartitions> partitions;
    friend bool operator==(const OffsetFetchResponseTopics&, const OffsetFetchResponseTopics&) = default;
  };
  struct OffsetFetchResponseGroup {
    std::string group_id;
    std::vector<OffsetFetchResponseTopics> topics;
    int16_t error_code = 0;
    friend bool operator==(const OffsetFetchResponseGroup&, const OffsetFetchResponseGroup&) = default;
  };

  int32_t throttle_time_ms = 0;                  // v3+
  std::vector<OffsetFetchResponseTopic> topics;  // v1-7
  int16_t error_code = 0;                        // v2-7
  std::vector<OffsetFetchResponseGroup> groups;  // v8+

  friend bool operator==(const OffsetFetchResponse&, const OffsetFetchResponse&) = default;
};

template <class V>
void visit(V& v, OffsetFetchResponse::OffsetFetchResponsePartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("CommittedOffset", m.committed_offset);
  if (v.version() >= 5) v.field("CommittedLeaderEpoch", m.committed_leader_epoch);
  v.field("Metadata", m.metadata);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchResponse::OffsetFetchResponseTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchResponse::OffsetFetchResponsePartitions& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("CommittedOffset", m.committed_offset);
  v.field("CommittedLeaderEpoch", m.committed_leader_epoch);
  v.field("Metadata", m.metadata);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchResponse::OffsetFetchResponseTopics& m) {
  if (v.version() <= 9) v.field("Name", m.name);
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchResponse::OffsetFetchResponseGroup& m) {
  v.field("GroupId", m.group_id);
  v.field("Topics", m.topics);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, OffsetFetchResponse& m) {
  if (v.version() >= 3) v.field("ThrottleTimeMs", m.throttle_time_ms);
  if (v.version() <= 7) {
    v.field("Topics", m.topics);
    if (v.version() >= 2) v.field("ErrorCode", m.error_code);
  }
  if (v.version() >= 8) v.field("Groups", m.groups);
  v.tags();
}

}  // namespace kafkawire::protocol
