// Request and response headers (RequestHeader.json, ResponseHeader.json).
//
// A frame on the wire is: int32 size (of what follows), header, body.
//
// RequestHeader  v1: RequestApiKey int16, RequestApiVersion int16, CorrelationId int32,
//                    ClientId NULLABLE_STRING (int16 length, -1 = null)
//                v2: v1 + a tagged-field section. ClientId keeps its int16 length even here: the field is
//                    marked "flexibleVersions": "none" so that a broker can read the client id before it
//                    knows whether the API version is flexible.
// (v0, without ClientId, is no longer accepted by Kafka 4.x brokers and is not spoken here.)
//
// ResponseHeader v0: CorrelationId int32
//                v1: v0 + a tagged-field section.
//
// Which header version goes with a message follows from the API's first flexible version: flexible
// requests use header v2 and flexible responses header v1. One exception (KIP-511): ApiVersions responses
// always use header v0, so that a client that sent a version the broker does not know can still read the
// broker's answer.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

inline constexpr int16_t kApiVersionsKey = 18;

struct RequestHeader {
  static constexpr std::string_view name = "RequestHeader";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 1, max_version = 2, first_flexible = 2;

  int16_t request_api_key = 0;
  int16_t request_api_version = 0;
  int32_t correlation_id = 0;
  std::optional<std::string> client_id;

  friend bool operator==(const RequestHeader&, const RequestHeader&) = default;
};

template <class V>
void visit(V& v, RequestHeader& m) {
  v.field("RequestApiKey", m.request_api_key);
  v.field("RequestApiVersion", m.request_api_version);
  v.field("CorrelationId", m.correlation_id);
  v.classic_nullable_string("ClientId", m.client_id);
  v.tags();
}

struct ResponseHeader {
  static constexpr std::string_view name = "ResponseHeader";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 1;

  int32_t correlation_id = 0;

  friend bool operator==(const ResponseHeader&, const ResponseHeader&) = default;
};

template <class V>
void visit(V& v, ResponseHeader& m) {
  v.field("CorrelationId", m.correlation_id);
  v.tags();
}

// The header versions that go with version `version` of request/response type M.
template <class M>
constexpr int16_t request_header_version(int16_t version) {
  return version >= M::first_flexible ? 2 : 1;
}
template <class M>
constexpr int16_t response_header_version(int16_t version) {
  if (M::api_key == kApiVersionsKey) return 0;
  return version >= M::first_flexible ? 1 : 0;
}

}  // namespace kafkawire::protocol
