// Heartbeat (key 12). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct HeartbeatResponse;

struct HeartbeatRequest {
  static constexpr std::string_view name = "HeartbeatRequest";
  static constexpr int16_t api_key = 12;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;
  using response_type = HeartbeatResponse;
  friend bool operator==(const HeartbeatRequest&, const HeartbeatRequest&) = default;
};

template <class V>
void visit(V& v, HeartbeatRequest&) {
  v.tags();
}

struct HeartbeatResponse {
  static constexpr std::string_view name = "HeartbeatResponse";
  static constexpr int16_t api_key = 12;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;
  friend bool operator==(const HeartbeatResponse&, const HeartbeatResponse&) = default;
};

template <class V>
void visit(V& v, HeartbeatResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
