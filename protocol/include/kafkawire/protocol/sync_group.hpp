// SyncGroup (key 14): the second step of the classic group protocol. The leader sends the assignment of
// every member (for consumers: a ConsumerProtocolAssignment, see consumer_protocol.hpp); the others send
// none, and each gets its own assignment back.
//
// Request  v0:   GroupId, GenerationId, MemberId, Assignments[MemberId, Assignment]
//          v3+:  GroupInstanceId (static membership, KIP-345)
//          v4:   flexible
//          v5+:  ProtocolType, ProtocolName (checked against the group's, KIP-559)
// Response v0:   ErrorCode, Assignment
//          v1+:  ThrottleTimeMs
//          v4:   flexible
//          v5+:  ProtocolType, ProtocolName
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct SyncGroupResponse;

struct SyncGroupRequest {
  static constexpr std::string_view name = "SyncGroupRequest";
  static constexpr int16_t api_key = 14;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  using response_type = SyncGroupResponse;

  struct SyncGroupRequestAssignment {
    std::string member_id;
    Bytes assignment;
    friend bool operator==(const SyncGroupRequestAssignment&, const SyncGroupRequestAssignment&) = default;
  };

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v3+
  std::optional<std::string> protocol_type;      // v5+
  std::optional<std::string> protocol_name;      // v5+
  std::vector<SyncGroupRequestAssignment> assignments;

  friend bool operator==(const SyncGroupRequest&, const SyncGroupRequest&) = default;
};

template <class V>
void visit(V& v, SyncGroupRequest::SyncGroupRequestAssignment& m) {
  v.field("MemberId", m.member_id);
  v.field("Assignment", m.assignment);
  v.tags();
}

template <class V>
void visit(V& v, SyncGroupRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("GenerationId", m.generation_id);
  v.field("MemberId", m.member_id);
  if (v.version() >= 3) v.field("GroupInstanceId", m.group_instance_id);
  if (v.version() >= 5) {
    v.field("ProtocolType", m.protocol_type);
    v.field("ProtocolName", m.protocol_name);
  }
  v.field("Assignments", m.assignments);
  v.tags();
}

struct SyncGroupResponse {
  static constexpr std::string_view name = "SyncGroupResponse";
  static constexpr int16_t api_key = 14;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;

  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::optional<std::string> protocol_type;  // v5+
  std::optional<std::string> protocol_name;  // v5+
  Bytes assignment;

  friend bool operator==(const SyncGroupResponse&, const SyncGroupResponse&) = default;
};

template <class V>
void visit(V& v, SyncGroupResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 5) {
    v.field("ProtocolType", m.protocol_type);
    v.field("ProtocolName", m.protocol_name);
  }
  v.field("Assignment", m.assignment);
  v.tags();
}

}  // namespace kafkawire::protocol
