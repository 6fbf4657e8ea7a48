// ConsumerGroupHeartbeat (key 68). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ConsumerGroupHeartbeatResponse;

struct ConsumerGroupHeartbeatRequest {
  static constexpr std::string_view name = "ConsumerGroupHeartbeatRequest";
  static constexpr int16_t api_key = 68;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;
  using response_type = ConsumerGroupHeartbeatResponse;
  friend bool operator==(const ConsumerGroupHeartbeatRequest&, const ConsumerGroupHeartbeatRequest&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupHeartbeatRequest&) {
  v.tags();
}

struct ConsumerGroupHeartbeatResponse {
  static constexpr std::string_view name = "ConsumerGroupHeartbeatResponse";
  static constexpr int16_t api_key = 68;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;
  friend bool operator==(const ConsumerGroupHeartbeatResponse&, const ConsumerGroupHeartbeatResponse&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupHeartbeatResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
