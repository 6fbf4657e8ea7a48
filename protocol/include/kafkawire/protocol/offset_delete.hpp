// OffsetDelete (key 47): delete a group's committed offsets for some partitions (KIP-496), e.g. for topics
// the group no longer consumes. Sent to the group coordinator.
//
// Request  v0:   GroupId, Topics[Name, Partitions[PartitionIndex]]
// Response v0:   ErrorCode, ThrottleTimeMs, Topics[Name, Partitions[PartitionIndex, ErrorCode]]
// Never flexible. Partitions of topics the group still subscribes to fail with 86 GROUP_SUBSCRIBED_TO_TOPIC
// (per partition); whole-request problems (NOT_COORDINATOR, GROUP_ID_NOT_FOUND, 68 NON_EMPTY_GROUP for a
// non-consumer group that still has members) come as the top-level ErrorCode.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetDeleteResponse;

struct OffsetDeleteRequest {
  static constexpr std::string_view name = "OffsetDeleteRequest";
  static constexpr int16_t api_key = 47;
  static constexpr int16_t min_version = 0, max_version = 0, first_flexible = kNeverFlexible;
  using response_type = OffsetDeleteResponse;

  struct OffsetDeleteRequestPartition {
    int32_t partition_index = 0;
    friend bool operator==(const OffsetDeleteRequestPartition&,
                           const OffsetDeleteRequestPartition&) = default;
  };
  struct OffsetDeleteRequestTopic {
    std::string name;
    std::vector<OffsetDeleteRequestPartition> partitions;
    friend bool operator==(const OffsetDeleteRequestTopic&, const OffsetDeleteRequestTopic&) = default;
  };

  std::string group_id;
  std::vector<OffsetDeleteRequestTopic> topics;

  friend bool operator==(const OffsetDeleteRequest&, const OffsetDeleteRequest&) = default;
};

template <class V>
void visit(V& v, OffsetDeleteRequest::OffsetDeleteRequestPartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.tags();
}

template <class V>
void visit(V& v, OffsetDeleteRequest::OffsetDeleteRequestTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetDeleteRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("Topics", m.topics);
  v.tags();
}

struct OffsetDeleteResponse {
  static constexpr std::string_view name = "OffsetDeleteResponse";
  static constexpr int16_t api_key = 47;
  static constexpr int16_t min_version = 0, max_version = 0, first_flexible = kNeverFlexible;

  struct OffsetDeleteResponsePartition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    friend bool operator==(const OffsetDeleteResponsePartition&,
                           const OffsetDeleteResponsePartition&) = default;
  };
  struct OffsetDeleteResponseTopic {
    std::string name;
    std::vector<OffsetDeleteResponsePartition> partitions;
    friend bool operator==(const OffsetDeleteResponseTopic&, const OffsetDeleteResponseTopic&) = default;
  };

  int16_t error_code = 0;
  int32_t throttle_time_ms = 0;
  std::vector<OffsetDeleteResponseTopic> topics;

  friend bool operator==(const OffsetDeleteResponse&, const OffsetDeleteResponse&) = default;
};

template <class V>
void visit(V& v, OffsetDeleteResponse::OffsetDeleteResponsePartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, OffsetDeleteResponse::OffsetDeleteResponseTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, OffsetDeleteResponse& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
