// Errors, as std::error_code, in two categories.
//
// kafka_category(): the int16 error codes a broker puts in responses (Kafka's Errors enum). Each has its
// protocol name (OFFSET_OUT_OF_RANGE), the broker's message and whether Kafka calls it retriable.
//
// client_category(): what goes wrong on this side of the wire: a response that ends early, a length that
// points past the frame, a CRC that does not match, a version neither side can speak.
//
// Both convert to std::error_code, so every layer above hands errors along the same way.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <system_error>

namespace kafkawire {

const std::error_category& kafka_category() noexcept;
const std::error_category& client_category() noexcept;

// A broker error code as an error_code. Code 0 (NONE) is "no error", as for any error_code.
inline std::error_code make_kafka_error(int16_t code) noexcept { return {code, kafka_category()}; }

struct KafkaErrorInfo {
  int16_t code;
  std::string_view name;     // "NOT_LEADER_OR_FOLLOWER"
  bool retriable;            // Kafka's RetriableException: the same request may succeed later
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
};

inline std::error_code make_error_code(client_errc e) noexcept {
  return {static_cast<int>(e), client_category()};
}

}  // namespace kafkawire

template <>
struct std::is_error_code_enum<kafkawire::client_errc> : std::true_type {};
