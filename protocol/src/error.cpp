#include "kafkawire/protocol/error.hpp"

#include <algorithm>
#include <array>
#include <string>

namespace kafkawire {
namespace {

// Generated from the reference implementation's Errors enum (kafka-clients 4.4.0) by
// `tests/golden/regen.sh errors`: code, name, retriable, invalid metadata, message. Regenerate rather than
// edit by hand when Kafka adds codes.
constexpr KafkaErrorInfo kErrors[] = {
#include "kafka_errors.inc"
};

class KafkaCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafka"; }
  std::string message(int code) const override {
    if (const auto* e = find_kafka_error(static_cast<int16_t>(code)))
      return std::string(e->name) + ": " + std::string(e->message);
    return "UNKNOWN_CODE_" + std::to_string(code) + ": an error code this client does not know";
  }
};

class ClientCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "kafkawire"; }
  std::string message(int code) const override {
    switch (static_cast<client_errc>(code)) {
      case client_errc::ok:
        return "no error";
      case client_errc::truncated:
        return "truncated: the bytes ended before the structure did";
      case client_errc::malformed:
        return "malformed: a length, count or value that cannot be right";
      case client_errc::trailing_bytes:
        return "trailing bytes after a complete message";
      case client_errc::tag_order:
        return "tagged fields out of order";
      case client_errc::not_nullable:
        return "null value for a field that is not nullable at this version";
      case client_errc::unsupported_version:
        return "unsupported version";
      case client_errc::unsupported_magic:
        return "record batch magic is not 2 (only RecordBatch v2 is supported)";
      case client_errc::crc_mismatch:
        return "record batch CRC-32C mismatch";
      case client_errc::unsupported_compression:
        return "compression codec not built into this kafkawire";
      case client_errc::compression_error:
        return "compressed data could not be decompressed";
      case client_errc::disconnected:
        return "disconnected";
      case client_errc::timeout:
        return "timed out";
      case client_errc::message_too_large:
        return "message larger than receive.message.max.bytes";
      case client_errc::unknown_correlation_id:
        return "response with an unknown correlation id";
      case client_errc::invalid_config:
        return "invalid configuration";
      case client_errc::unknown_topic:
        return "unknown topic";
      case client_errc::no_offset:
        return "no committed offset and auto.offset.reset=none";
      case client_errc::operation_aborted:
        return "operation aborted";
      case client_errc::fenced_instance:
        return "fenced: another member uses this group.instance.id";
      case client_errc::poll_interval_exceeded:
        return "max.poll.interval.ms exceeded between polls";
      case client_errc::invalid_argument:
        return "invalid argument";
      case client_errc::internal_error:
        return "internal error: an exception stopped kafkawire's background work";
      case client_errc::not_assigned:
        return "not assigned to this member: the group gave the partition to another member in a rebalance";
      case client_errc::listener_failed:
        return "a rebalance listener threw (the rebalance went on)";
      case client_errc::tls_failed:
        return "TLS handshake failed";
      case client_errc::invalid_state:
        return "not allowed in the current state";
      case client_errc::transaction_aborted:
        return "its transaction was aborted";
      case client_errc::authentication_failed:
        return "SASL authentication failed: the broker did not prove it knows the credentials";
    }
    return "kafkawire error " + std::to_string(code);
  }
};

}  // namespace

const std::error_category& kafka_category() noexcept {
  static const KafkaCategory c;
  return c;
}

const std::error_category& client_category() noexcept {
  static const ClientCategory c;
  return c;
}

std::span<const KafkaErrorInfo> kafka_errors() noexcept { return kErrors; }

const KafkaErrorInfo* find_kafka_error(int16_t code) noexcept {
  // Codes run -1, 0, 1, ... without gaps so far; search anyway so a gap never returns the wrong entry.
  auto it = std::lower_bound(std::begin(kErrors), std::end(kErrors), code,
                             [](const KafkaErrorInfo& e, int16_t c) { return e.code < c; });
  return it != std::end(kErrors) && it->code == code ? &*it : nullptr;
}

bool is_retriable(std::error_code ec) noexcept {
  if (ec.category() == kafka_category()) {
    const auto* e = find_kafka_error(static_cast<int16_t>(ec.value()));
    return e && e->retriable;
  }
  if (ec.category() == client_category()) {
    auto c = static_cast<client_errc>(ec.value());
    return c == client_errc::disconnected || c == client_errc::timeout;
  }
  return false;
}

std::string describe_exception(std::exception_ptr e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
  }
  return "an exception that is not a std::exception";
}

}  // namespace kafkawire
