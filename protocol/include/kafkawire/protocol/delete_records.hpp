// DeleteRecords (key 21): moves the log start offset of partitions forward, so that the records before it
// can no longer be read (KIP-107). Sent to each partition's leader: another broker answers
// NOT_LEADER_OR_FOLLOWER (6) for it.
//
// Request  v0:   Topics[Name, Partitions[PartitionIndex, Offset (records before it are deleted; -1: the
//                high watermark)]], TimeoutMs
//          v1:   same as v0 (on quota violation the broker answers first, then throttles)
//          v2:   flexible
// Response v0:   ThrottleTimeMs, Topics[Name, Partitions[PartitionIndex, LowWatermark (the new log start
//                offset), ErrorCode]]
//          v1-2: same as v0 (v2: flexible). An Offset past the high watermark is OFFSET_OUT_OF_RANGE (1).
// Kafka 3.9 and 4.x serve v0-2.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DeleteRecordsResponse;

struct DeleteRecordsRequest {
  static constexpr std::string_view name = "DeleteRecordsRequest";
  static constexpr int16_t api_key = 21;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 2;
  using response_type = DeleteRecordsResponse;
  static constexpr int64_t kHighWatermark = -1;  // Offset: delete everything below the high watermark

  struct DeleteRecordsPartition {
    int32_t partition_index = 0;
    int64_t offset = 0;
    friend bool operator==(const DeleteRecordsPartition&, const DeleteRecordsPartition&) = default;
  };
  struct DeleteRecordsTopic {
    std::string name;
    std::vector<DeleteRecordsPartition> partitions;
    friend bool operator==(const DeleteRecordsTopic&, const DeleteRecordsTopic&) = default;
  };

  std::vector<DeleteRecordsTopic> topics;
  int32_t timeout_ms = 60000;

  friend bool operator==(const DeleteRecordsRequest&, const DeleteRecordsRequest&) = default;
};

template <class V>
void visit(V& v, DeleteRecordsRequest::DeleteRecordsPartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("Offset", m.offset);
  v.tags();
}

template <class V>
void visit(V& v, DeleteRecordsRequest::DeleteRecordsTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, DeleteRecordsRequest& m) {
  v.field("Topics", m.topics);
  v.field("TimeoutMs", m.timeout_ms);
  v.tags();
}

struct DeleteRecordsResponse {
  static constexpr std::string_view name = "DeleteRecordsResponse";
  static constexpr int16_t api_key = 21;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 2;

  struct DeleteRecordsPartitionResult {
    int32_t partition_index = 0;
    int64_t low_watermark = 0;
    int16_t error_code = 0;
    friend bool operator==(const DeleteRecordsPartitionResult&,
                           const DeleteRecordsPartitionResult&) = default;
  };
  struct DeleteRecordsTopicResult {
    std::string name;
    std::vector<DeleteRecordsPartitionResult> partitions;
    friend bool operator==(const DeleteRecordsTopicResult&, const DeleteRecordsTopicResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DeleteRecordsTopicResult> topics;

  friend bool operator==(const DeleteRecordsResponse&, const DeleteRecordsResponse&) = default;
};

template <class V>
void visit(V& v, DeleteRecordsResponse::DeleteRecordsPartitionResult& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("LowWatermark", m.low_watermark);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, DeleteRecordsResponse::DeleteRecordsTopicResult& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, DeleteRecordsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
