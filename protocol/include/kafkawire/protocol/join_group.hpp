// JoinGroup (key 11): the first step of the classic group protocol. Each member sends the protocols it
// supports (for consumers: "range", "cooperative-sticky", ... each with a ConsumerProtocolSubscription in
// Metadata, see consumer_protocol.hpp); the coordinator picks one and hands the leader every member's
// metadata so the leader can compute the assignment it then sends in SyncGroup.
//
// Request  v0:   GroupId, SessionTimeoutMs, MemberId, ProtocolType, Protocols[Name, Metadata]
//          v1+:  RebalanceTimeoutMs (without it the broker uses SessionTimeoutMs)
//          v4+:  a member joining with an empty MemberId gets MEMBER_ID_REQUIRED (79) and the id to
//                use in the response's MemberId; it must join again with it (KIP-394).
//          v5+:  GroupInstanceId (static membership, KIP-345)
//          v6:   flexible
//          v8+:  Reason (KIP-800)
// Response v0:   ErrorCode, GenerationId, ProtocolName, Leader, MemberId,
//                Members[MemberId, Metadata] (non-empty only for the leader)
//          v2+:  ThrottleTimeMs
//          v5+:  Members[GroupInstanceId]
//          v6:   flexible
//          v7+:  ProtocolType; ProtocolName nullable (KIP-559)
//          v9+:  SkipAssignment (the leader must not run the assignor: the broker already did)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct JoinGroupResponse;

struct JoinGroupRequest {
  static constexpr std::string_view name = "JoinGroupRequest";
  static constexpr int16_t api_key = 11;
  static constexpr int16_t min_version = 0, max_version = 9, first_flexible = 6;
  using response_type = JoinGroupResponse;

  struct JoinGroupRequestProtocol {
    std::string name;
    Bytes metadata;
    friend bool operator==(const JoinGroupRequestProtocol&, const JoinGroupRequestProtocol&) = default;
  };

  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;  // v1+
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v5+
  std::string protocol_type;
  std::vector<JoinGroupRequestProtocol> protocols;
  std::optional<std::string> reason;  // v8+

  friend bool operator==(const JoinGroupRequest&, const JoinGroupRequest&) = default;
};

template <class V>
void visit(V& v, JoinGroupRequest::JoinGroupRequestProtocol& m) {
  v.field("Name", m.name);
  v.field("Metadata", m.metadata);
  v.tags();
}

template <class V>
void visit(V& v, JoinGroupRequest& m) {
  v.field("GroupId", m.group_id);
  v.field("SessionTimeoutMs", m.session_timeout_ms);
  if (v.version() >= 1) v.field("RebalanceTimeoutMs", m.rebalance_timeout_ms);
  v.field("MemberId", m.member_id);
  if (v.version() >= 5) v.field("GroupInstanceId", m.group_instance_id);
  v.field("ProtocolType", m.protocol_type);
  v.field("Protocols", m.protocols);
  if (v.version() >= 8) v.field("Reason", m.reason);
  v.tags();
}

struct JoinGroupResponse {
  static constexpr std::string_view name = "JoinGroupResponse";
  static constexpr int16_t api_key = 11;
  static constexpr int16_t min_version = 0, max_version = 9, first_flexible = 6;

  struct JoinGroupResponseMember {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v5+
    Bytes metadata;
    friend bool operator==(const JoinGroupResponseMember&, const JoinGroupResponseMember&) = default;
  };

  int32_t throttle_time_ms = 0;  // v2+
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::optional<std::string> protocol_type;       // v7+
  std::optional<std::string> protocol_name = "";  // nullable v7+; no schema default: "", not null
  std::string leader;
  bool skip_assignment = false;  // v9+
  std::string member_id;
  std::vector<JoinGroupResponseMember> members;

  friend bool operator==(const JoinGroupResponse&, const JoinGroupResponse&) = default;
};

template <class V>
void visit(V& v, JoinGroupResponse::JoinGroupResponseMember& m) {
  v.field("MemberId", m.member_id);
  if (v.version() >= 5) v.field("GroupInstanceId", m.group_instance_id);
  v.field("Metadata", m.metadata);
  v.tags();
}

template <class V>
void visit(V& v, JoinGroupResponse& m) {
  if (v.version() >= 2) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.field("GenerationId", m.generation_id);
  if (v.version() >= 7) v.field("ProtocolType", m.protocol_type);
  v.field("ProtocolName", m.protocol_name, v.version() >= 7);
  v.field("Leader", m.leader);
  if (v.version() >= 9) v.field("SkipAssignment", m.skip_assignment);
  v.field("MemberId", m.member_id);
  v.field("Members", m.members);
  v.tags();
}

}  // namespace kafkawire::protocol
