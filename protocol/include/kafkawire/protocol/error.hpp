// Errors, as std::error_code, in two categories.
//
// kafka_category(): the int16 error codes a broker puts in responses (Kafka's Errors enum). Each has its
// protocol name (OFFSET_OUT_OF_RANGE), the broker's message and whether Kafka calls it retriable. What
// to do about one, per API, is error_policy.hpp's.
//
// client_category(): what goes wrong on this side of the wire: a response that ends early, a length that
// points past the frame, a CRC that does not match, a version neither side can speak.
//
// Both convert to std::error_code, so every layer above hands errors along the same way.
#pragma once

#include <cstdint>
#include <exception>
#include <span>
#include <string>
#include <string_view>
#include <system_error>

namespace kafkawire {

const std::error_category& kafka_category() noexcept;
const std::error_category& client_category() noexcept;

// A broker error code as an error_code. Code 0 (NONE) is "no error", as for any error_code.
inline std::error_code make_kafka_error(int16_t code) noexcept { return {code, kafka_category()}; }

// The broker's error codes by name, so that no code elsewhere compares against a bare number:
// `ec == kafka_errc::not_coordinator`, `make_error_code(kafka_errc::rebalance_in_progress)`. Generated from
// the same table as kafka_errors() (kafka-clients 4.4.0's Errors enum); a unit test checks they agree.
enum class kafka_errc : int16_t {
  unknown_server_error = -1,
  none = 0,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  broker_not_available = 8,
  replica_not_available = 9,
  message_too_large = 10,
  stale_controller_epoch = 11,
  offset_metadata_too_large = 12,
  network_exception = 13,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic_exception = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  not_enough_replicas_after_append = 20,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_commit_offset_size = 28,
  topic_authorization_failed = 29,
  group_authorization_failed = 30,
  cluster_authorization_failed = 31,
  invalid_timestamp = 32,
  unsupported_sasl_mechanism = 33,
  illegal_sasl_state = 34,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_replica_assignment = 39,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  unsupported_for_message_format = 43,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  invalid_txn_state = 48,
  invalid_producer_id_mapping = 49,
  invalid_transaction_timeout = 50,
  concurrent_transactions = 51,
  transaction_coordinator_fenced = 52,
  transactional_id_authorization_failed = 53,
  security_disabled = 54,
  operation_not_attempted = 55,
  kafka_storage_error = 56,
  log_dir_not_found = 57,
  sasl_authentication_failed = 58,
  unknown_producer_id = 59,
  reassignment_in_progress = 60,
  delegation_token_auth_disabled = 61,
  delegation_token_not_found = 62,
  delegation_token_owner_mismatch = 63,
  delegation_token_request_not_allowed = 64,
  delegation_token_authorization_failed = 65,
  delegation_token_expired = 66,
  invalid_principal_type = 67,
  non_empty_group = 68,
  group_id_not_found = 69,
  fetch_session_id_not_found = 70,
  invalid_fetch_session_epoch = 71,
  listener_not_found = 72,
  topic_deletion_disabled = 73,
  fenced_leader_epoch = 74,
  unknown_leader_epoch = 75,
  unsupported_compression_type = 76,
  stale_broker_epoch = 77,
  offset_not_available = 78,
  member_id_required = 79,
  preferred_leader_not_available = 80,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  eligible_leaders_not_available = 83,
  election_not_needed = 84,
  no_reassignment_in_progress = 85,
  group_subscribed_to_topic = 86,
  invalid_record = 87,
  unstable_offset_commit = 88,
  throttling_quota_exceeded = 89,
  producer_fenced = 90,
  resource_not_found = 91,
  duplicate_resource = 92,
  unacceptable_credential = 93,
  inconsistent_voter_set = 94,
  invalid_update_version = 95,
  feature_update_failed = 96,
  principal_deserialization_failure = 97,
  snapshot_not_found = 98,
  position_out_of_range = 99,
  unknown_topic_id = 100,
  duplicate_broker_registration = 101,
  broker_id_not_registered = 102,
  inconsistent_topic_id = 103,
  inconsistent_cluster_id = 104,
  transactional_id_not_found = 105,
  fetch_session_topic_id_error = 106,
  ineligible_replica = 107,
  new_leader_elected = 108,
  offset_moved_to_tiered_storage = 109,
  fenced_member_epoch = 110,
  unreleased_instance_id = 111,
  unsupported_assignor = 112,
  stale_member_epoch = 113,
  mismatched_endpoint_type = 114,
  unsupported_endpoint_type = 115,
  unknown_controller_id = 116,
  unknown_subscription_id = 117,
  telemetry_too_large = 118,
  invalid_registration = 119,
  transaction_abortable = 120,
  invalid_record_state = 121,
  share_session_not_found = 122,
  invalid_share_session_epoch = 123,
  fenced_state_epoch = 124,
  invalid_voter_key = 125,
  duplicate_voter = 126,
  voter_not_found = 127,
  invalid_regular_expression = 128,
  rebootstrap_required = 129,
  streams_invalid_topology = 130,
  streams_invalid_topology_epoch = 131,
  streams_topology_fenced = 132,
  share_session_limit_reached = 133,
  group_deletion_failed = 134,
  streams_topology_description_update_failed = 135,
  controller_id_not_registered = 136,
};

inline std::error_code make_error_code(kafka_errc e) noexcept {
  return make_kafka_error(static_cast<int16_t>(e));
}
// The code a response field holds, as the enum: `kafka_errc{p.error_code} == kafka_errc::...` reads worse
// than `as_errc(p.error_code)`.
constexpr kafka_errc as_errc(int16_t code) noexcept { return static_cast<kafka_errc>(code); }

struct KafkaErrorInfo {
  int16_t code;
  std::string_view name;     // "NOT_LEADER_OR_FOLLOWER"
  bool retriable;            // Kafka's RetriableException: the same request may succeed later
  bool invalid_metadata;     // Kafka's InvalidMetadataException: the client's metadata is out of date
  std::string_view message;  // the broker's description
};

// Every error code Kafka 4.x defines, in code order (-1 UNKNOWN_SERVER_ERROR first).
std::span<const KafkaErrorInfo> kafka_errors() noexcept;
// Looks a code up; codes this table does not know get name "UNKNOWN_CODE_<n>" semantics via nullptr.
const KafkaErrorInfo* find_kafka_error(int16_t code) noexcept;
bool is_retriable(std::error_code ec) noexcept;

enum class client_errc {
  ok = 0,
  truncated,                // the bytes ended before the structure did
  malformed,                // a length, count or value that cannot be right
  trailing_bytes,           // a message decoded completely but bytes were left over
  tag_order,                // tagged fields not in strictly increasing tag order
  not_nullable,             // null given for a field that is not nullable at this version
  unsupported_version,      // no version both sides speak; or a field not representable at a version
  unsupported_magic,        // a record batch with magic other than 2
  crc_mismatch,             // a record batch whose CRC-32C does not match its bytes
  unsupported_compression,  // a codec this build was made without (see the KAFKAWIRE_WITH_* options)
  compression_error,        // a compressed block that does not decompress
  disconnected,             // the connection closed with requests in flight
  timeout,                  // a deadline passed
  message_too_large,        // a response frame over receive.message.max.bytes
  unknown_correlation_id,   // a response to a request we never sent (framing out of sync)
  invalid_config,           // a bad configuration key or value
  unknown_topic,            // a topic the cluster does not have
  no_offset,                // auto.offset.reset=none and no committed offset
  operation_aborted,        // the operation was cancelled (close, destruction)
  fenced_instance,          // another member with our group.instance.id took our place
  poll_interval_exceeded,   // the application did not poll within max.poll.interval.ms
  invalid_argument,         // the caller asked for something that makes no sense (bad partition, ...)
  internal_error,           // an exception escaped kafkawire's own work (bad_alloc, a bug); it stopped
  not_assigned,             // a commit for a partition the group no longer assigns to this member
  listener_failed,          // a rebalance listener threw; the rebalance went on (take_listener_exception)
  tls_failed,               // the TLS handshake failed: certificate not trusted, host name mismatch, ...
  authentication_failed,    // SASL: the client refused the broker (e.g. a SCRAM server signature)
  invalid_state,            // a call out of order (commit_transaction() before begin_transaction(), ...)
  transaction_aborted,      // a record of a transaction that was aborted before it was sent
};

inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

// What an exception that stopped kafkawire's own work was, in words for internal_error's text: what()
// of a std::exception, else a sentence saying it was something else.
std::string describe_exception(std::exception_ptr e);

}  // namespace kafkawire

template <>
struct std::is_error_code_enum<kafkawire::client_errc> : std::true_type {};
template <>
struct std::is_error_code_enum<kafkawire::kafka_errc> : std::true_type {};
