// SaslHandshake (key 17): the first request on a SASL listener, after ApiVersions: the client names the
// mechanism it wants ("PLAIN", "SCRAM-SHA-256", "OAUTHBEARER", ...) and the broker answers with the ones
// it has enabled (UNSUPPORTED_SASL_MECHANISM when the client's is not among them). The exchange itself
// then runs in SaslAuthenticate requests (key 36) carrying the mechanism's messages.
//
// Request  v0:   Mechanism. After v0 the mechanism's messages follow as raw frames (a 4-byte size and the
//                bytes, no Kafka header): kafkawire does not speak that form.
//          v1:   same layout; the mechanism's messages follow in SaslAuthenticate requests (KIP-152).
// Response v0:   ErrorCode, Mechanisms
//          v1:   same as v0. Never flexible: the version cannot be bumped without breaking clients <= 2.4
//                (KAFKA-9577).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct SaslHandshakeResponse;

struct SaslHandshakeRequest {
  static constexpr std::string_view name = "SaslHandshakeRequest";
  static constexpr int16_t api_key = 17;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = kNeverFlexible;
  using response_type = SaslHandshakeResponse;

  std::string mechanism;

  friend bool operator==(const SaslHandshakeRequest&, const SaslHandshakeRequest&) = default;
};

template <class V>
void visit(V& v, SaslHandshakeRequest& m) {
  v.field("Mechanism", m.mechanism);
  v.tags();
}

struct SaslHandshakeResponse {
  static constexpr std::string_view name = "SaslHandshakeResponse";
  static constexpr int16_t api_key = 17;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = kNeverFlexible;

  int16_t error_code = 0;
  std::vector<std::string> mechanisms;  // enabled on the broker's listener

  friend bool operator==(const SaslHandshakeResponse&, const SaslHandshakeResponse&) = default;
};

template <class V>
void visit(V& v, SaslHandshakeResponse& m) {
  v.field("ErrorCode", m.error_code);
  v.field("Mechanisms", m.mechanisms);
  v.tags();
}

}  // namespace kafkawire::protocol
