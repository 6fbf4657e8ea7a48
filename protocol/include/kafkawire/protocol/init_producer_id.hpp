// InitProducerId (key 22): a producer id and epoch for an idempotent (TransactionalId null, sent to any
// broker) or a transactional producer (sent to its transaction coordinator). Records written with the id,
// the epoch and a sequence number per partition are written once: the broker drops a batch it already has
// (DUPLICATE_SEQUENCE_NUMBER) and refuses one that skips ahead (OUT_OF_ORDER_SEQUENCE_NUMBER).
//
// Request  v0:   TransactionalId (nullable), TransactionTimeoutMs
//          v1:   same as v0.
//          v2:   flexible.
//          v3+:  ProducerId, ProducerEpoch (-1 for a new id): an idempotent producer told its id is unknown
//                or its epoch stale asks for the next epoch of the id it has (KIP-360).
//          v4:   the broker may answer PRODUCER_FENCED (KIP-588).
//          v5:   the broker may answer TRANSACTION_ABORTABLE (KIP-890).
//          v6:   Enable2Pc, KeepPreparedTxn (two-phase commit, KIP-939; unstable in Kafka 4.x).
// Response v0:   ThrottleTimeMs, ErrorCode, ProducerId, ProducerEpoch
//          v1:   same as v0 (on quota violation the broker answers first, then throttles).
//          v2:   flexible.
//          v3-5: same as v2.
//          v6:   OngoingTxnProducerId, OngoingTxnProducerEpoch (KIP-939).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct InitProducerIdResponse;

struct InitProducerIdRequest {
  static constexpr std::string_view name = "InitProducerIdRequest";
  static constexpr int16_t api_key = 22;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 2;
  using response_type = InitProducerIdResponse;

  std::optional<std::string> transactional_id;  // null: an idempotent producer
  int32_t transaction_timeout_ms = 0;
  int64_t producer_id = -1;        // v3+
  int16_t producer_epoch = -1;     // v3+
  bool enable_2pc = false;         // v6+
  bool keep_prepared_txn = false;  // v6+

  friend bool operator==(const InitProducerIdRequest&, const InitProducerIdRequest&) = default;
};

template <class V>
void visit(V& v, InitProducerIdRequest& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("TransactionTimeoutMs", m.transaction_timeout_ms);
  if (v.version() >= 3) {
    v.field("ProducerId", m.producer_id);
    v.field("ProducerEpoch", m.producer_epoch);
  }
  if (v.version() >= 6) {
    v.field("Enable2Pc", m.enable_2pc);
    v.field("KeepPreparedTxn", m.keep_prepared_txn);
  }
  v.tags();
}

struct InitProducerIdResponse {
  static constexpr std::string_view name = "InitProducerIdResponse";
  static constexpr int16_t api_key = 22;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 2;

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;
  int64_t ongoing_txn_producer_id = -1;     // v6+
  int16_t ongoing_txn_producer_epoch = -1;  // v6+

  friend bool operator==(const InitProducerIdResponse&, const InitProducerIdResponse&) = default;
};

template <class V>
void visit(V& v, InitProducerIdResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.field("ProducerId", m.producer_id);
  v.field("ProducerEpoch", m.producer_epoch);
  if (v.version() >= 6) {
    v.field("OngoingTxnProducerId", m.ongoing_txn_producer_id);
    v.field("OngoingTxnProducerEpoch", m.ongoing_txn_producer_epoch);
  }
  v.tags();
}

}  // namespace kafkawire::protocol
