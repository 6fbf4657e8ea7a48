// SaslAuthenticate (key 36): one message of a SASL exchange each way (KIP-152), after SaslHandshake v1.
// The client sends its mechanism's next message in AuthBytes and the broker answers with its own; what
// they hold is the mechanism's business (net/sasl.hpp). A failed authentication is an ErrorCode
// (SASL_AUTHENTICATION_FAILED, ILLEGAL_SASL_STATE, ...) with an ErrorMessage, after which the broker closes
// the connection.
//
// AuthBytes may hold a password or a token, so it is SecretBytes: JSON, explain and the spy print its
// length only, never the bytes, in requests and responses alike.
//
// Request  v0:   AuthBytes
//          v1:   same as v0 (the broker answers with SessionLifetimeMs).
//          v2:   flexible.
// Response v0:   ErrorCode, ErrorMessage (nullable), AuthBytes
//          v1:   SessionLifetimeMs: when the broker will close the connection unless the client
//                re-authenticates (KIP-368); 0 means never.
//          v2:   flexible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct SaslAuthenticateResponse;

struct SaslAuthenticateRequest {
  static constexpr std::string_view name = "SaslAuthenticateRequest";
  static constexpr int16_t api_key = 36;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 2;
  using response_type = SaslAuthenticateResponse;

  SecretBytes auth_bytes;  // the client's mechanism message; a view the caller keeps alive

  friend bool operator==(const SaslAuthenticateRequest&, const SaslAuthenticateRequest&) = default;
};

template <class V>
void visit(V& v, SaslAuthenticateRequest& m) {
  v.field("AuthBytes", m.auth_bytes);
  v.tags();
}

struct SaslAuthenticateResponse {
  static constexpr std::string_view name = "SaslAuthenticateResponse";
  static constexpr int16_t api_key = 36;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 2;

  int16_t error_code = 0;
  std::optional<std::string> error_message;
  SecretBytes auth_bytes;           // the broker's mechanism message
  int64_t session_lifetime_ms = 0;  // v1+

  friend bool operator==(const SaslAuthenticateResponse&, const SaslAuthenticateResponse&) = default;
};

template <class V>
void visit(V& v, SaslAuthenticateResponse& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.field("AuthBytes", m.auth_bytes);
  if (v.version() >= 1) v.field("SessionLifetimeMs", m.session_lifetime_ms);
  v.tags();
}

}  // namespace kafkawire::protocol
