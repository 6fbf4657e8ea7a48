// ListGroups (key 16): the groups a broker coordinates (ask every broker to list a whole cluster).
//
// Request  v0-2: no fields.
//          v3:   flexible
//          v4+:  StatesFilter (KIP-518)
//          v5+:  TypesFilter (KIP-848: "classic", "consumer", "share", ...)
//                An empty filter matches every group.
// Response v0:   ErrorCode, Groups[GroupId, ProtocolType]
//          v1+:  ThrottleTimeMs (v2+: sent before throttling)
//          v3:   flexible
//          v4+:  Groups[GroupState]
//          v5+:  Groups[GroupType]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ListGroupsResponse;

struct ListGroupsRequest {
  static constexpr std::string_view name = "ListGroupsRequest";
  static constexpr int16_t api_key = 16;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  using response_type = ListGroupsResponse;

  std::vector<std::string> states_filter;  // v4+
  std::vector<std::string> types_filter;   // v5+

  friend bool operator==(const ListGroupsRequest&, const ListGroupsRequest&) = default;
};

template <class V>
void visit(V& v, ListGroupsRequest& m) {
  if (v.version() >= 4) v.field("StatesFilter", m.states_filter);
  if (v.version() >= 5) v.field("TypesFilter", m.types_filter);
  v.tags();
}

struct ListGroupsResponse {
  static constexpr std::string_view name = "ListGroupsResponse";
  static constexpr int16_t api_key = 16;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;

  struct ListedGroup {
    std::string group_id;
    std::string protocol_type;
    std::string group_state;  // v4+
    std::string group_type;   // v5+
    friend bool operator==(const ListedGroup&, const ListedGroup&) = default;
  };

  int32_t throttle_time_ms = 0;  // v1+
  int16_t error_code = 0;
  std::vector<ListedGroup> groups;

  friend bool operator==(const ListGroupsResponse&, const ListGroupsResponse&) = default;
};

template <class V>
void visit(V& v, ListGroupsResponse::ListedGroup& m) {
  v.field("GroupId", m.group_id);
  v.field("ProtocolType", m.protocol_type);
  if (v.version() >= 4) v.field("GroupState", m.group_state);
  if (v.version() >= 5) v.field("GroupType", m.group_type);
  v.tags();
}

template <class V>
void visit(V& v, ListGroupsResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.field("Groups", m.groups);
  v.tags();
}

}  // namespace kafkawire::protocol
