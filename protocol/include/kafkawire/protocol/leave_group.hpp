// LeaveGroup (key 13): members leave a classic group, so it rebalances now rather than after their
// session timeout.
//
// Request  v0-2: GroupId, MemberId
//          v3+:  MemberId replaced by Members[MemberId, GroupInstanceId]: a batch, so that an admin can
//                remove static members by instance id (KIP-345)
//          v4:   flexible
//          v5+:  Members[Reason] (KIP-800)
// Response v0:   ErrorCode
//          v1+:  ThrottleTimeMs
//          v3+:  Members[MemberId, GroupInstanceId, ErrorCode]: one error per member left
//          v4:   flexible
//          v5:   same as v4
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct LeaveGroupResponse;

struct LeaveGroupRequest {
  static constexpr std::string_view name = "LeaveGroupRequest";
  static constexpr int16_t api_key = 13;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  using response_type = LeaveGroupResponse;

  struct MemberIdentity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::optional<std::string> reason;  // v5+
    friend bool operator==(const MemberIdentity&, const MemberIdentity&) = default;
  };

  std::string group_id;
  std::string member_id;                // v0-2
  std::vector<MemberIdentity> members;  // v3+

  friend bool operator==(const LeaveGroupRequest&, const LeaveGroupRequest&) = default;
};

template <class V>
void visit(V& v, LeaveGroupRequest::MemberIdentity& m) {
  v.field("MemberId", m.member_id);
  v.field("GroupInstanceId", m.group_instance_id);
  if (v.version() >= 5) v.field("Reason", m.reason);
  v.tags();
}

template <class V>
void visit(V& v, LeaveGroupRequest& m) {
  v.field("GroupId", m.group_id);
  if (v.version() <= 2) v.field("MemberId", m.member_id);
  if (v.version() >= 3) v.field("Members", m.members);
  v.tags();
}

struct LeaveGroupResponse {
  static constexpr std::string_view name = "LeaveGroupResponse";
  static constexpr int16_t api_key = 13;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;

  struct MemberResponse {
    std::string member_id;
    std::optional<std::string> group_instance_id = "";  // no schema default: "", not null
    int16_t error_code = 0;
    friend bool operator==(const MemberResponse&, const MemberResponse&) = default;
  };

  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::vector<MemberResponse> members;  // v3+

  friend bool operator==(const LeaveGroupResponse&, const LeaveGroupResponse&) = default;
};

template <class V>
void visit(V& v, LeaveGroupResponse::MemberResponse& m) {
  v.field("MemberId", m.member_id);
  v.field("GroupInstanceId", m.group_instance_id);
  v.field("ErrorCode", m.error_code);
  v.tags();
}

template <class V>
void visit(V& v, LeaveGroupResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 3) v.field("Members", m.members);
  v.tags();
}

}  // namespace kafkawire::protocol
