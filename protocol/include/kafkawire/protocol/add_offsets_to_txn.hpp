// AddOffsetsToTxn (key 25): a transactional producer of the first transaction protocol tells its
// transaction coordinator that the transaction will commit offsets for a consumer group: the coordinator
// adds the group's partition of __consumer_offsets to the transaction, so that EndTxn has the group
// coordinator write a marker there too. Then TxnOffsetCommit (v0-4) goes to the group coordinator.
// Under transactions v2 (transaction.version 2, KIP-890 part 2) TxnOffsetCommit v5+ does this itself and
// a client sends no AddOffsetsToTxn (the broker still accepts one). The whole flow is described in
// add_partitions_to_txn.hpp.
//
// Request  v0:   TransactionalId, ProducerId, ProducerEpoch, GroupId
//          v1:   same as v0 (on quota violation the broker answers first, then throttles).
//          v2:   same as v1; the broker may answer PRODUCER_FENCED (90) where it answered
//                INVALID_PRODUCER_EPOCH (47) before.
//          v3:   flexible.
//          v4:   same as v3; may answer TRANSACTION_ABORTABLE (120) (KIP-890).
// Response v0:   ThrottleTimeMs, ErrorCode
//          v1-2: same as v0.
//          v3:   flexible.
//          v4:   same as v3.
// Kafka 3.9 and 4.x serve v0-4.
#pragma once

#include <cstdint>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct AddOffsetsToTxnResponse;

struct AddOffsetsToTxnRequest {
  static constexpr std::string_view name = "AddOffsetsToTxnRequest";
  static constexpr int16_t api_key = 25;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 3;
  using response_type = AddOffsetsToTxnResponse;

  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  std::string group_id;

  friend bool operator==(const AddOffsetsToTxnRequest&, const AddOffsetsToTxnRequest&) = default;
};

template <class V>
void visit(V& v, AddOffsetsToTxnRequest& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("ProducerId", m.producer_id);
  v.field("ProducerEpoch", m.producer_epoch);
  v.field("GroupId", m.group_id);
  v.tags();
}

struct AddOffsetsToTxnResponse {
  static constexpr std::string_view name = "AddOffsetsToTxnResponse";
  static constexpr int16_t api_key = 25;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 3;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;

  friend bool operator==(const AddOffsetsToTxnResponse&, const AddOffsetsToTxnResponse&) = default;
};

template <class V>
void visit(V& v, AddOffsetsToTxnResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

}  // namespace kafkawire::protocol
