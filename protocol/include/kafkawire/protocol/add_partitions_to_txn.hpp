// AddPartitionsToTxn (key 24): a transactional producer of the first transaction protocol tells its
// transaction coordinator which partitions it is about to write to, before its first Produce to each of
// them in a transaction. The coordinator records them (the transaction becomes Ongoing), so that EndTxn
// knows where to have the COMMIT or ABORT markers written. Kafka 4.x partition leaders use v4+ themselves.
//
// Request  v0:   V3AndBelowTransactionalId, V3AndBelowProducerId, V3AndBelowProducerEpoch,
//                V3AndBelowTopics[Name, Partitions[int32]]
//          v1:   same as v0 (on quota violation the broker answers first, then throttles).
//          v2:   same as v1; the broker may answer PRODUCER_FENCED (90) where it answered
//                INVALID_PRODUCER_EPOCH (47) before.
//          v3:   flexible. The last version a client sends.
//          v4+:  the broker-to-broker form (KIP-890 part 1): Transactions[TransactionalId, ProducerId,
//                ProducerEpoch, VerifyOnly, Topics[Name, Partitions]] replaces the V3AndBelow fields. A
//                partition leader asks the coordinator, for several transactions at once, whether a
//                transactional Produce's partition is in its transaction (VerifyOnly true, Produce v11 and
//                below) or to add it (VerifyOnly false, Produce v12+ under transactions v2). The broker
//                checks CLUSTER_ACTION on the cluster: with an authorizer a client is refused with
//                CLUSTER_AUTHORIZATION_FAILED (31); without one the request works like v3 for each entry.
//          v5:   same as v4; may answer TRANSACTION_ABORTABLE (120) (KIP-890).
// Response v0:   ThrottleTimeMs, ResultsByTopicV3AndBelow[Name, ResultsByPartition[PartitionIndex,
//                PartitionErrorCode]]
//          v1-2: same as v0.
//          v3:   flexible.
//          v4+:  ErrorCode (top level), ResultsByTransaction[TransactionalId, TopicResults[Name,
//                ResultsByPartition[...]]] replaces ResultsByTopicV3AndBelow.
//          v5:   same as v4.
// Kafka 3.9 and 4.x serve v0-5. A partition that fails a check fails the whole request: the others are
// answered OPERATION_NOT_ATTEMPTED (55). CONCURRENT_TRANSACTIONS (51) means the previous transaction's
// markers are still being written: retry shortly.
//
// ---- Transactions, as a client drives them (what the producer's transaction manager is built on) ------
//
// What follows was read from the schemas, KIP-890 and Kafka's broker code, and then checked against Kafka
// 4.4.0 (and 3.9.1 for protocol v1) by the "transactions" stage of tools/conformance/suite.cpp.
//
// Once per producer:
//   FindCoordinator KeyType 1 (TRANSACTION, v1+), Key the transactional id: the transaction coordinator,
//       the leader of the id's partition of __transaction_state. AddPartitionsToTxn, AddOffsetsToTxn,
//       EndTxn and InitProducerId go there; Produce to the partition leaders, TxnOffsetCommit to the group's
//       coordinator. A fresh cluster answers COORDINATOR_NOT_AVAILABLE (15) until the first such
//       FindCoordinator has created __transaction_state, COORDINATOR_LOAD_IN_PROGRESS (14) while it loads.
//   InitProducerId TransactionalId, TransactionTimeoutMs: the producer id and epoch. Asked again for the
//       same transactional id it keeps the id and raises the epoch, which fences the producer that had it:
//       its EndTxn gets PRODUCER_FENCED (90), or INVALID_PRODUCER_EPOCH (47) below v2. An open transaction
//       of the fenced producer is aborted.
//
// Per transaction there are two protocols. Which one a broker speaks is its finalized feature
// transaction.version (ApiVersions v3+ FinalizedFeatures): 2 is protocol v2 (KIP-890 part 2), what a new
// Kafka 4.x cluster gets; Kafka 3.9 has protocol v1 only. The request versions tell the broker which
// protocol a client follows, so a v1 client stays at Produce v11, TxnOffsetCommit v4 and EndTxn v4 (Java
// caps them there, LAST_STABLE_VERSION_BEFORE_TRANSACTION_V2, unless transaction.version >= 2).
//
// Protocol v1 (transaction.version 0-1):
//   AddPartitionsToTxn v0-3 before the first Produce to each partition new to the transaction.
//   Produce: RecordBatches with the transactional attribute bit (4), the ProducerId and ProducerEpoch,
//       BaseSequence counted per partition from 0 for each producer id and epoch (it goes on across
//       transactions), and the request's TransactionalId. The leader asks the coordinator whether the
//       partition is in the transaction (KIP-890 part 1) and refuses the batch otherwise:
//       TRANSACTION_ABORTABLE (120) at Produce v11 (INVALID_TXN_STATE (48) for older versions).
//   AddOffsetsToTxn GroupId: puts the group's __consumer_offsets partition into the transaction.
//   TxnOffsetCommit v0-4 (to the group coordinator): the consumed offsets. GenerationIdOrMemberEpoch -1 and
//       MemberId "" commit outside any group generation. Until the transaction ends they are pending:
//       OffsetFetch with RequireStable (v7+) answers UNSTABLE_OFFSET_COMMIT (88) for those partitions.
//   EndTxn v0-4 Committed true or false: the coordinator has a COMMIT or ABORT control batch (bits 4 and
//       5, the transaction's producer id and epoch) written to every partition of the transaction and to
//       the group's offsets partition. The epoch stays the same.
// Protocol v2 (transaction.version 2):
//   No AddPartitionsToTxn: a transactional Produce v12+ adds its partition to the transaction (the leader
//       sends AddPartitionsToTxn v5, VerifyOnly false, to the coordinator itself).
//   No AddOffsetsToTxn: TxnOffsetCommit v5+ adds the group's offsets partition itself.
//   EndTxn v5: the coordinator raises the epoch at every end, writes the markers with the new epoch and
//       answers ProducerId and ProducerEpoch (a new id at epoch 0 once the epoch is exhausted). The next
//       transaction uses them with sequences from 0 again. A batch with the old epoch is then refused with
//       INVALID_PRODUCER_EPOCH (47); the same EndTxn sent again with the old epoch (a retry whose answer was
//       lost) is answered like the first time, with the new epoch, and ends nothing twice.
//   A transaction with nothing in it cannot be committed (INVALID_TXN_STATE (48)) but can be aborted, which
//       raises the epoch too: what a producer that aborts before its first send does.
//   Kafka 4.4 also accepts the v1 requests inside a v2 transaction: AddPartitionsToTxn v3 and
//       AddOffsetsToTxn work, and EndTxn v4 ends a transaction that Produce v12 started (without raising the
//       epoch).
// EndTxn answers once the outcome is decided, before every marker is written: until they are, the
// producer's next AddPartitionsToTxn, AddOffsetsToTxn, InitProducerId or EndTxn may get
// CONCURRENT_TRANSACTIONS (51) (ask again shortly), and a read_committed Fetch (IsolationLevel 1) still
// stops at the LastStableOffset, the first offset of a transaction that is not complete. It lists the
// aborted transactions (ProducerId, FirstOffset) whose batches a reader drops up to their ABORT marker
// (record_batch.hpp's RecordBatchReader with read_committed does).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct AddPartitionsToTxnResponse;

struct AddPartitionsToTxnRequest {
  static constexpr std::string_view name = "AddPartitionsToTxnRequest";
  static constexpr int16_t api_key = 24;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  using response_type = AddPartitionsToTxnResponse;

  struct AddPartitionsToTxnTopic {
    std::string name;
    std::vector<int32_t> partitions;
    friend bool operator==(const AddPartitionsToTxnTopic&, const AddPartitionsToTxnTopic&) = default;
  };
  struct AddPartitionsToTxnTransaction {
    std::string transactional_id;
    int64_t producer_id = -1;
    int16_t producer_epoch = -1;
    bool verify_only = false;  // true: only check that the partitions are in the transaction
    std::vector<AddPartitionsToTxnTopic> topics;
    friend bool operator==(const AddPartitionsToTxnTransaction&,
                           const AddPartitionsToTxnTransaction&) = default;
  };

  std::vector<AddPartitionsToTxnTransaction> transactions;   // v4+
  std::string v3_and_below_transactional_id;                 // v0-3
  int64_t v3_and_below_producer_id = -1;                     // v0-3
  int16_t v3_and_below_producer_epoch = -1;                  // v0-3
  std::vector<AddPartitionsToTxnTopic> v3_and_below_topics;  // v0-3

  friend bool operator==(const AddPartitionsToTxnRequest&, const AddPartitionsToTxnRequest&) = default;
};

template <class V>
void visit(V& v, AddPartitionsToTxnRequest::AddPartitionsToTxnTopic& m) {
  v.field("Name", m.name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, AddPartitionsToTxnRequest::AddPartitionsToTxnTransaction& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("ProducerId", m.producer_id);
  v.field("ProducerEpoch", m.producer_epoch);
  v.field("VerifyOnly", m.verify_only);
  v.field("Topics", m.topics);
  v.tags();
}

template <class V>
void visit(V& v, AddPartitionsToTxnRequest& m) {
  if (v.version() >= 4) {
    v.field("Transactions", m.transactions);
  } else {
    v.field("V3AndBelowTransactionalId", m.v3_and_below_transactional_id);
    v.field("V3AndBelowProducerId", m.v3_and_below_producer_id);
    v.field("V3AndBelowProducerEpoch", m.v3_and_below_producer_epoch);
    v.field("V3AndBelowTopics", m.v3_and_below_topics);
  }
  v.tags();
}

struct AddPartitionsToTxnResponse {
  static constexpr std::string_view name = "AddPartitionsToTxnResponse";
  static constexpr int16_t api_key = 24;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;

  struct AddPartitionsToTxnPartitionResult {
    int32_t partition_index = 0;
    int16_t partition_error_code = 0;
    friend bool operator==(const AddPartitionsToTxnPartitionResult&,
                           const AddPartitionsToTxnPartitionResult&) = default;
  };
  struct AddPartitionsToTxnTopicResult {
    std::string name;
    std::vector<AddPartitionsToTxnPartitionResult> results_by_partition;
    friend bool operator==(const AddPartitionsToTxnTopicResult&,
                           const AddPartitionsToTxnTopicResult&) = default;
  };
  struct AddPartitionsToTxnResult {
    std::string transactional_id;
    std::vector<AddPartitionsToTxnTopicResult> topic_results;
    friend bool operator==(const AddPartitionsToTxnResult&, const AddPartitionsToTxnResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;                                                    // v4+
  std::vector<AddPartitionsToTxnResult> results_by_transaction;              // v4+
  std::vector<AddPartitionsToTxnTopicResult> results_by_topic_v3_and_below;  // v0-3

  friend bool operator==(const AddPartitionsToTxnResponse&, const AddPartitionsToTxnResponse&) = default;
};

template <class V>
void visit(V& v, AddPartitionsToTxnResponse::AddPartitionsToTxnPartitionResult& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("PartitionErrorCode", m.partition_error_code);
  v.tags();
}

template <class V>
void visit(V& v, AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult& m) {
  v.field("Name", m.name);
  v.field("ResultsByPartition", m.results_by_partition);
  v.tags();
}

template <class V>
void visit(V& v, AddPartitionsToTxnResponse::AddPartitionsToTxnResult& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("TopicResults", m.topic_results);
  v.tags();
}

template <class V>
void visit(V& v, AddPartitionsToTxnResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  if (v.version() >= 4) {
    v.field("ErrorCode", m.error_code);
    v.field("ResultsByTransaction", m.results_by_transaction);
  } else {
    v.field("ResultsByTopicV3AndBelow", m.results_by_topic_v3_and_below);
  }
  v.tags();
}

}  // namespace kafkawire::protocol
