// TxnOffsetCommit (key 28): a transactional producer commits a consumer group's offsets inside its
// transaction (consume-transform-produce). Sent to the group's coordinator, not the transaction
// coordinator. The offsets are written to __consumer_offsets as transactional records: OffsetFetch shows
// them only after the transaction commits, and never when it aborts. Under the first transaction protocol
// an AddOffsetsToTxn for the group comes first; v5+ (transactions v2, KIP-890 part 2) adds the group's
// offsets partition to the transaction itself. The whole flow is described in add_partitions_to_txn.hpp.
//
// Request  v0:   TransactionalId, GroupId, ProducerId, ProducerEpoch,
//                Topics[Name, Partitions[PartitionIndex, CommittedOffset, CommittedMetadata]]
//          v1:   same as v0 (on quota violation the broker answers first, then throttles).
//          v2:   CommittedLeaderEpoch.
//          v3:   GenerationIdOrMemberEpoch, MemberId, GroupInstanceId (KIP-447: the group coordinator
//                fences a producer whose consumer is no longer in the group's generation); flexible.
//                (Kafka 3.9's schema calls the first GenerationId; a KIP-848 consumer group's member
//                sends its member epoch there.) -1 and "" commit without membership checks.
//          v4:   same as v3; may answer TRANSACTION_ABORTABLE (120) (KIP-890).
//          v5:   same as v4; says the client follows transactions v2: the group coordinator adds the
//                offsets partition to the transaction instead of only checking that it is there.
//                Without transaction.version 2 a client must stay at v4.
//          v6:   Topics[TopicId] replaces Topics[Name] (topic ids, as OffsetCommit v10); may answer
//                UNKNOWN_TOPIC_ID (100). Kafka 4.4.
// Response v0:   ThrottleTimeMs, Topics[Name, Partitions[PartitionIndex, ErrorCode]]
//          v1-2: same as v0.
//          v3:   flexible; may answer ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID.
//          v4-5: same as v3.
//          v6:   Topics[TopicId] replaces Topics[Name].
// Kafka 3.9 serves v0-4, Kafka 4.0 v0-5, Kafka 4.4 v0-6. There is no top-level error code: a
// transaction-level failure (e.g. the partition not in the transaction: INVALID_TXN_STATE or
// TRANSACTION_ABORTABLE) is repeated in every partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct TxnOffsetCommitResponse;

struct TxnOffsetCommitRequest {
  static constexpr std::string_view name = "TxnOffsetCommitRequest";
  static constexpr int16_t api_key = 28;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;
  using response_type = TxnOffsetCommitResponse;

  struct TxnOffsetCommitRequestPartition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;  // v2+
    std::optional<std::string> committed_metadata;
    friend bool operator==(const TxnOffsetCommitRequestPartition&,
                           const TxnOffsetCommitRequestPartition&) = default;
  };
  struct TxnOffsetCommitRequestTopic {
    std::string name;  // v0-5
    Uuid topic_id;     // v6+
    std::vector<TxnOffsetCommitRequestPartition> partitions;
    friend bool operator==(const TxnOffsetCommitRequestTopic&, const TxnOffsetCommitRequestTopic&) = default;
  };

  std::string transactional_id;
  std::string group_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t generation_id_or_member_epoch = -1;    // v3+
  std::string member_id;                         // v3+
  std::optional<std::string> group_instance_id;  // v3+
  std::vector<TxnOffsetCommitRequestTopic> topics;

  friend bool operator==(const TxnOffsetCommitRequest&, const TxnOffsetCommitRequest&) = default;
};

template <class V>
void visit(V& v, TxnOffsetCommitRequest::TxnOffsetCommitRequestPartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("CommittedOffset", m.committed_offset);
  if (v.version() >= 2) v.field("CommittedLeaderEpoch", m.committed_leader_epoch);
  v.field("CommittedMetadata", m.committed_metadata);
  v.tags();
}

template <class V>
void visit(V& v, TxnOffsetCommitRequest::TxnOffsetCommitRequestTopic& m) {
  if (v.version() <= 5) v.field("Name", m.name);
  if (v.version() >= 6) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, TxnOffsetCommitRequest& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("GroupId", m.group_id);
  v.field("ProducerId", m.producer_id);
  v.field("ProducerEpoch", m.producer_epoch);
  if (v.version() >= 3) {
    v.field("GenerationIdOrMemberEpoch", m.generation_id_or_member_epoch);
    v.field("MemberId", m.member_id);
    v.field("GroupInstanceId", m.group_instance_id);
  }
  v.field("Topics", m.topics);
  v.tags();
}

struct TxnOffsetCommitResponse {
  static constexpr std::string_view name = "TxnOffsetCommitResponse";
  static constexpr int16_t api_key = 28;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;

  struct TxnOffsetCommitResponsePartition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    friend bool operator==(const TxnOffsetCommitResponsePartition&,
                           const TxnOffsetCommitResponsePartition&) = default;
  };
  struct TxnOffsetCommitResponseTopic {
    std::string name;  // v0-5
    Uuid topic_id;     // v6+
    std::vector<TxnOffsetCommitResponsePartition> partitions;
    friend bool operator==(const TxnOffsetCommitResponseTopic&,
                           const TxnOffsetCommitResponseTopic&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<TxnOffsetCommitResponseTopic> topics;

  friend bool operator==(const TxnOffsetCommitResponse&, const TxnOffsetCommitResponse&) = default;
};

template <class V>
void visit(V& v, TxnOffsetCommitResponse::TxnOffsetCommitResponsePartition& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, TxnOffsetCommitResponse::TxnOffsetCommitResponseTopic& m) {
  if (v.version() <= 5) v.field("Name", m.name);
  if (v.version() >= 6) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, TxnOffsetCommitResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Topics", m.topics);
  v.tags();
}

}  // namespace kafkawire::protocol
