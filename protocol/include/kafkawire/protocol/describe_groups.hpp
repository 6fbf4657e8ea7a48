// DescribeGroups (key 15): the state, protocol and members of classic groups (consumer-protocol groups,
// KIP-848, have ConsumerGroupDescribe).
//
// Request  v0:  Groups (group ids)
//          v1-2: same as v0.
//          v3:  IncludeAuthorizedOperations
//          v4:  same as v3 (the response carries GroupInstanceId).
//          v5:  flexible.
//          v6:  same as v5 (an unknown group gives GROUP_ID_NOT_FOUND instead of state "Dead", KIP-1043).
// Response v0:  Groups[ErrorCode, GroupId, GroupState, ProtocolType, ProtocolData,
//                      Members[MemberId, ClientId, ClientHost, MemberMetadata, MemberAssignment]]
//          v1+: ThrottleTimeMs
//          v3+: Groups[].AuthorizedOperations
//          v4+: Groups[].Members[].GroupInstanceId
//          v5:  flexible.
//          v6:  Groups[].ErrorMessage
// MemberMetadata and MemberAssignment are the ConsumerProtocol structs (consumer_protocol.hpp) when
// ProtocolType is "consumer"; they and ProtocolData are filled only in state "Stable".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DescribeGroupsResponse;

struct DescribeGroupsRequest {
  static constexpr std::string_view name = "DescribeGroupsRequest";
  static constexpr int16_t api_key = 15;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 5;
  using response_type = DescribeGroupsResponse;

  std::vector<std::string> groups;
  bool include_authorized_operations = false;  // v3+

  friend bool operator==(const DescribeGroupsRequest&, const DescribeGroupsRequest&) = default;
};

template <class V>
void visit(V& v, DescribeGroupsRequest& m) {
  v.field("Groups", m.groups);
  if (v.version() >= 3) v.field("IncludeAuthorizedOperations", m.include_authorized_operations);
  v.tags();
}

struct DescribeGroupsResponse {
  static constexpr std::string_view name = "DescribeGroupsResponse";
  static constexpr int16_t api_key = 15;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 5;

  struct DescribedGroupMember {
    std::string member_id;
    std::optional<std::string> group_instance_id;  // v4+
    std::string client_id;
    std::string client_host;
    Bytes member_metadata;
    Bytes member_assignment;
    friend bool operator==(const DescribedGroupMember&, const DescribedGroupMember&) = default;
  };
  struct DescribedGroup {
    int16_t error_code = 0;
    std::optional<std::string> error_message;  // v6+
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;  // the assignor's name, e.g. "range"
    std::vector<DescribedGroupMember> members;
    // A bitfield of AclOperation codes; INT32_MIN: not requested (IncludeAuthorizedOperations false).
    int32_t authorized_operations = INT32_MIN;  // v3+
    friend bool operator==(const DescribedGroup&, const DescribedGroup&) = default;
  };

  int32_t throttle_time_ms = 0;  // v1+
  std::vector<DescribedGroup> groups;

  friend bool operator==(const DescribeGroupsResponse&, const DescribeGroupsResponse&) = default;
};

template <class V>
void visit(V& v, DescribeGroupsResponse::DescribedGroupMember& m) {
  v.field("MemberId", m.member_id);
  if (v.version() >= 4) v.field("GroupInstanceId", m.group_instance_id);
  v.field("ClientId", m.client_id);
  v.field("ClientHost", m.client_host);
  v.field("MemberMetadata", m.member_metadata);
  v.field("MemberAssignment", m.member_assignment);
  v.tags();
}

template <class V>
void visit(V& v, DescribeGroupsResponse::DescribedGroup& m) {
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 6) v.field("ErrorMessage", m.error_message);
  v.field("GroupId", m.group_id);
  v.field("GroupState", m.group_state);
  v.field("ProtocolType", m.protocol_type);
  v.field("ProtocolData", m.protocol_data);
  v.field("Members", m.members);
  if (v.version() >= 3) v.field("AuthorizedOperations", m.authorized_operations);
  v.tags();
}

template <class V>
void visit(V& v, DescribeGroupsResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Groups", m.groups);
  v.tags();
}

}  // namespace kafkawire::protocol
