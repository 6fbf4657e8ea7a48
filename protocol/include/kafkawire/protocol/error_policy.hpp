// What to do about an error, per API family: one pure table for every layer (librdkafka's
// rd_kafka_err_action, without its macros; Java's per-response handlers, written once).
//
//   switch (error_action(ApiFamily::offset_commit, ec)) {
//     case ErrorAction::find_coordinator: pool.forget_coordinator(group); [[fallthrough]];
//     case ErrorAction::retry: ...  // after retry.backoff.ms, until the operation's deadline
//   }
//
// The table follows kafka-clients: a code whose exception is a RetriableException is retried (possibly
// after refreshing metadata or finding the coordinator again); an InvalidMetadataException on a request
// sent to a partition's leader refreshes the metadata first; a code that is not retriable is never
// retried. The one documented exception: in the group families the membership errors
// (REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, MEMBER_ID_REQUIRED, FENCED_MEMBER_EPOCH,
// STALE_MEMBER_EPOCH) answer `rejoin`: the request is not repeated as it was, the member joins again and
// the application decides what to send after that. tests/unit/test_error_policy.cpp checks every code
// against the Java hierarchy recorded in kafka_errors.inc (tests/golden/regen.sh errors).
//
// In the topic_admin family (per-topic or per-resource results: CreateTopics, DeleteTopics and
// CreatePartitions to the controller; DescribeConfigs and IncrementalAlterConfigs to any broker, or to the
// broker whose configs they are) a topic's or resource's error is its answer, retriable or not, as in
// Java's Admin, which completes that topic's future with it: retrying a CreateTopics that answered
// REQUEST_TIMED_OUT would turn a creation still in progress into TOPIC_ALREADY_EXISTS, a DeleteTopics'
// UNKNOWN_TOPIC_OR_PARTITION is the answer, not stale metadata, and so are CreatePartitions'
// INVALID_PARTITIONS and the configs' INVALID_CONFIG. Two codes are retried: NOT_CONTROLLER (the controller
// moved: refresh the metadata, which names the new one, and send again) and THROTTLING_QUOTA_EXCEEDED
// (KIP-599; Java retries it by default; CreateTopics, DeleteTopics and CreatePartitions can answer it).
// A lost connection refreshes the metadata too: the controller, or the broker, may be the one that went
// away.
//
// The delete_records family (DeleteRecords, to each partition's leader) is a leader family like
// list_offsets: NOT_LEADER_OR_FOLLOWER and the other InvalidMetadataExceptions refresh the metadata and
// send the partition again to its new leader; REQUEST_TIMED_OUT (the followers did not catch up in time)
// and the other retriable codes send it again, which is safe, as a log start offset only moves forward;
// OFFSET_OUT_OF_RANGE and POLICY_VIOLATION are the answer.
//
// In the transaction families OPERATION_NOT_ATTEMPTED (another partition of the request failed) is
// retried, as Java's TransactionManager does though its exception is not a RetriableException. What is
// `fatal` here is not retried; whether it ends the transaction (abortable) or the producer (fenced) is
// the transaction manager's call (consumer/transaction_manager.hpp).
//
// Errors from this side of the wire: a connection lost or a deadline passed (client_errc::disconnected,
// timeout, or an operating-system error such as ECONNREFUSED) is retried; towards a coordinator it also
// means finding the coordinator again (it may be the broker that went away). Every other client error
// (malformed, unsupported_version, operation_aborted, ...) is fatal: sending the same bytes again cannot
// help.
#pragma once

#include <cstdint>
#include <string_view>
#include <system_error>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire {

enum class ErrorAction : uint8_t {
  none,              // no error
  retry,             // the same request again, after a backoff, to the same broker
  refresh_metadata,  // the leader (or topic) moved or is unknown: refresh metadata, then retry
  find_coordinator,  // the group coordinator moved or is unreachable: find it again, then retry
  rejoin,            // the group membership is gone or changing: join again, do not repeat the request
  fatal,             // retrying cannot help: report it
};

// Families of APIs that answer the same error the same way.
enum class ApiFamily : uint8_t {
  metadata,           // Metadata (topic and partition errors)
  produce,            // Produce: to a partition's leader
  fetch,              // Fetch: to a partition's leader (or a follower, KIP-392)
  list_offsets,       // ListOffsets: to a partition's leader
  find_coordinator,   // FindCoordinator: to any broker
  group_membership,   // JoinGroup, SyncGroup, Heartbeat, LeaveGroup (ConsumerGroupHeartbeat): to the
                      // coordinator
  offset_commit,      // OffsetCommit: to the coordinator, with the member's generation
  offset_fetch,       // OffsetFetch: to the coordinator
  group_admin,        // DescribeGroups, ConsumerGroupDescribe, OffsetDelete, DeleteGroups: to the
                      // coordinator, no membership
  transaction,        // InitProducerId (with a transactional id), AddPartitionsToTxn, AddOffsetsToTxn,
                      // EndTxn: to the transaction coordinator
  txn_offset_commit,  // TxnOffsetCommit: to the group's coordinator, inside a transaction
  topic_admin,        // CreateTopics, DeleteTopics, CreatePartitions (per-topic results): to the controller
                      // (Metadata's ControllerId; on KRaft any broker, which forwards); DescribeConfigs,
                      // IncrementalAlterConfigs (per-resource results): to any broker, or the broker named
  delete_records,     // DeleteRecords: to a partition's leader
};

ErrorAction error_action(ApiFamily family, std::error_code ec) noexcept;
inline ErrorAction error_action(ApiFamily family, kafka_errc code) noexcept {
  return error_action(family, make_error_code(code));
}
// For an int16 error code field of a response: `error_action(ApiFamily::fetch, p.error_code)`.
inline ErrorAction error_action(ApiFamily family, int16_t code) noexcept {
  return error_action(family, make_kafka_error(code));
}

// True for the actions that send the request again (after a refresh or finding the coordinator).
constexpr bool is_retry(ErrorAction a) noexcept {
  return a == ErrorAction::retry || a == ErrorAction::refresh_metadata || a == ErrorAction::find_coordinator;
}

std::string_view to_string(ErrorAction a) noexcept;
std::string_view to_string(ApiFamily f) noexcept;

}  // namespace kafkawire
