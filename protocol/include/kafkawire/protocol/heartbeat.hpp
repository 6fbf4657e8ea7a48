// Heartbeat (key 12): a classic-group member tells the coordinator it is alive; the answer's error says
// when to rejoin (REBALANCE_IN_PROGRESS) or that it was dropped (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION,
// FENCED_INSTANCE_ID). Consumer-protocol groups (KIP-848) use ConsumerGroupHeartbeat instead.
//
// Request  v0:  GroupId, GenerationId, MemberId
//          v1-2: same as v0.
//          v3:  GroupInstanceId (static membership, KIP-345)
//          v4:  flexible.
// Response v0:  ErrorCode
//          v1+: ThrottleTimeMs (before ErrorCode)
//          v2:  same as v1 (on quota violation the broker answers first, then throttles).
//          v3:  same as v2.
//          v4:  flexible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct HeartbeatResponse;

struct HeartbeatRequest {
  static constexpr std::string_view name = "HeartbeatRequest";
  static constexpr int16_t api_key = 12;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;
  using response_type = HeartbeatResponse;

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+

  friend bool operator==(const HeartbeatRequest&, const HeartbeatRequest&) = default;
};

template <class V>
void visit(V& v, HeartbeatRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("GenerationId", m.generation_id);
  v.field("MemberId", m.member_id);
  if (v.version() >= 3) v.field("GroupInstanceId", m.group_instance_id);
  v.tags();
}

struct HeartbeatResponse {
  static constexpr std::string_view name = "HeartbeatResponse";
  static constexpr int16_t api_key = 12;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;

  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;

  friend bool operator==(const HeartbeatResponse&, const HeartbeatResponse&) = default;
};

template <class V>
void visit(V& v, HeartbeatResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

}  // namespace kafkawire::protocol
