// EndTxn (key 26): a transactional producer commits (Committed true) or aborts its transaction. The
// transaction coordinator writes PrepareCommit/PrepareAbort to __transaction_state, answers, and then has
// a COMMIT or ABORT control batch written to every partition of the transaction (the group coordinator
// writes it to __consumer_offsets for TxnOffsetCommit): an answer means the outcome is decided, not that
// every marker is written yet. Until they are, the next transaction's first request may be answered
// CONCURRENT_TRANSACTIONS (51): retry shortly. The whole flow is described in add_partitions_to_txn.hpp.
//
// Request  v0:   TransactionalId, ProducerId, ProducerEpoch, Committed
//          v1:   same as v0 (on quota violation the broker answers first, then throttles).
//          v2:   same as v1; the broker may answer PRODUCER_FENCED (90) where it answered
//                INVALID_PRODUCER_EPOCH (47) before.
//          v3:   flexible.
//          v4:   same as v3; may answer TRANSACTION_ABORTABLE (120) (KIP-890).
//          v5:   same as v4; says the client follows transactions v2 (KIP-890 part 2, the broker's
//                transaction.version 2): the coordinator bumps the producer epoch at the end of every
//                transaction, and the response carries it.
// Response v0:   ThrottleTimeMs, ErrorCode
//          v1-2: same as v0.
//          v3:   flexible.
//          v4:   same as v3.
//          v5:   ProducerId, ProducerEpoch (-1 when unknown, e.g. with an error): what the producer uses
//                from now on. ProducerId changes only when the epoch is exhausted.
// Kafka 3.9 serves v0-4, Kafka 4.x v0-5.
#pragma once

#include <cstdint>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct EndTxnResponse;

struct EndTxnRequest {
  static constexpr std::string_view name = "EndTxnRequest";
  static constexpr int16_t api_key = 26;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  using response_type = EndTxnResponse;

  std::string transactional_id;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  bool committed = false;  // true: commit; false: abort

  friend bool operator==(const EndTxnRequest&, const EndTxnRequest&) = default;
};

template <class V>
void visit(V& v, EndTxnRequest& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("ProducerId", m.producer_id);
  v.field("ProducerEpoch", m.producer_epoch);
  v.field("Committed", m.committed);
  v.tags();
}

struct EndTxnResponse {
  static constexpr std::string_view name = "EndTxnResponse";
  static constexpr int16_t api_key = 26;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id = -1;     // v5+
  int16_t producer_epoch = -1;  // v5+

  friend bool operator==(const EndTxnResponse&, const EndTxnResponse&) = default;
};

template <class V>
void visit(V& v, EndTxnResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 5) {
    v.field("ProducerId", m.producer_id);
    v.field("ProducerEpoch", m.producer_epoch);
  }
  v.tags();
}

}  // namespace kafkawire::protocol
