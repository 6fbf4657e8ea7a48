// ListOffsets (key 2): the offset for a timestamp, or for one of the special timestamps below. How a
// consumer without a committed offset finds where to start (auto.offset.reset), and how lag is measured.
// v0 was removed in Kafka 4.0 (KIP-896): v1 is the baseline, with one offset per partition.
//
// Request  v1:   ReplicaId, Topics[Name, Partitions[PartitionIndex, Timestamp]]
//          v2+:  IsolationLevel (READ_COMMITTED: "latest" is the last stable offset, not the high watermark)
//          v4+:  Partitions[CurrentLeaderEpoch] (KIP-320 fencing: 74 FENCED_LEADER_EPOCH,
//                75 UNKNOWN_LEADER_EPOCH)
//          v6:   flexible
//          v7+:  Timestamp -3 MAX_TIMESTAMP (KIP-734)
//          v8+:  Timestamp -4 EARLIEST_LOCAL (KIP-405)
//          v9+:  Timestamp -5 LATEST_TIERED (KIP-1005)
//          v10+: TimeoutMs, for lookups in remote (tiered) storage (KIP-1075)
//          v11+: Timestamp -6 EARLIEST_PENDING_UPLOAD (KIP-1023)
// Response v1:   Topics[Name, Partitions[PartitionIndex, ErrorCode, Timestamp, Offset]]
//          v2+:  ThrottleTimeMs (v3+: sent before throttling)
//          v4+:  Partitions[LeaderEpoch]
//          v5+:  may carry 78 OFFSET_NOT_AVAILABLE (the leader is not caught up yet: retry)
//          v6:   flexible
//          v7-11: same as v6 (the new timestamps are request-side)
// The timestamp -1 (LATEST) and -2 (EARLIEST) work at every version; a timestamp >= 0 finds the first
// offset whose record timestamp is >= it (Offset -1 when there is none). The other special timestamps need
// the version listed above: Kafka's client raises its minimum version to the highest one its timestamps need.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ListOffsetsResponse;

struct ListOffsetsRequest {
  static constexpr std::string_view name = "ListOffsetsRequest";
  static constexpr int16_t api_key = 2;
  static constexpr int16_t min_version = 1, max_version = 11, first_flexible = 6;
  using response_type = ListOffsetsResponse;

  static constexpr int64_t kLatestTimestamp = -1;
  static constexpr int64_t kEarliestTimestamp = -2;
  static constexpr int64_t kMaxTimestamp = -3;                    // v7+
  static constexpr int64_t kEarliestLocalTimestamp = -4;          // v8+
  static constexpr int64_t kLatestTieredTimestamp = -5;           // v9+
  static constexpr int64_t kEarliestPendingUploadTimestamp = -6;  // v11+

  struct ListOffsetsPartition {
    int32_t partition_index = 0;
    int32_t current_leader_epoch = -1;  // v4+
    int64_t timestamp = 0;
    friend bool operator==(const ListOffsetsPartition&, const ListOffsetsPartition&) = default;
  };
  struct ListOffsetsTopic {
    std::string name;
    std::vector<ListOffsetsPartition> partitions;
    friend bool operator==(const ListOffsetsTopic&, const ListOffsetsTopic&) = default;
  };

  int32_t replica_id = 0;      // the schema has no default; consumers send -1
  int8_t isolation_level = 0;  // v2+
  std::vector<ListOffsetsTopic> topics;
  int32_t timeout_ms = 0;  // v10+

  friend bool operator==(const ListOffsetsRequest&, const ListOffsetsRequest&) = default;
};

template <class V>
void visit(V& v, ListOffsetsRequest::ListOffsetsPartition& m) {
  v.field("PartitionIndex", m.partition_index);
  if (v.version() >= 4) v.field("CurrentLeaderEpoch", m.current_leader_epoch);
  v.field("Timestamp", m.timestamp);
  v.tags();
}

template <class V>
void visit(V& v, ListOffsetsRequest::ListOffsetsTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ListOffsetsRequest& m) {
  v.field("ReplicaId", m.replica_id);
  if (v.version() >= 2) v.field("IsolationLevel", m.isolation_level);
  v.field("Topics", m.topics);
  if (v.version() >= 10) v.field("TimeoutMs", m.timeout_ms);
  v.tags();
}

struct ListOffsetsResponse {
  static constexpr std::string_view name = "ListOffsetsResponse";
  static constexpr int16_t api_key = 2;
  static constexpr int16_t min_version = 1, max_version = 11, first_flexible = 6;

  struct ListOffsetsPartitionResponse {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t timestamp = -1;
    int64_t offset = -1;
    int32_t leader_epoch = -1;  // v4+
    friend bool operator==(const ListOffsetsPartitionResponse&,
                           const ListOffsetsPartitionResponse&) = default;
  };
  struct ListOffsetsTopicResponse {
    std::string name;
    std::vector<ListOffsetsPartitionResponse> partitions;
    friend bool operator==(const ListOffsetsTopicResponse&, const ListOffsetsTopicResponse&) = default;
  };

  int32_t throttle_time_ms = 0;  // v2+
  std::vector<ListOffsetsTopicResponse> topics;

  friend bool operator==(const ListOffsetsResponse&, const ListOffsetsResponse&) = default;
};

template <class V>
void visit(V& v, ListOffsetsResponse::ListOffsetsPartitionResponse& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("ErrorCode", m.error_code);
  v.field("Timestamp", m.timestamp);
  v.field("Offset", m.offset);
  if (v.version() >= 4) v.field("LeaderEpoch", m.leader_epoch);
  v.tags();
}

template <class V>
void visit(V& v, ListOffsetsResponse::ListOffsetsTopicResponse& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ListOffsetsResponse& m) {
  if (v.version() >= 2) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
