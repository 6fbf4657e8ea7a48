// DeleteGroups (key 42): deletes consumer groups, with their committed offsets. Sent to each group's
// coordinator (FindCoordinator, key type 0). Only a group with no members can go: one with members is
// answered NON_EMPTY_GROUP (68), one the coordinator does not know GROUP_ID_NOT_FOUND (69), and one it
// does not coordinate NOT_COORDINATOR (16).
//
// Request  v0:   GroupsNames
//          v1:   same as v0 (on quota violation the broker answers first, then throttles)
//          v2:   flexible
//          v3:   same as v2 (kafka-clients 4.4; the response gains ErrorMessage)
// Response v0:   ThrottleTimeMs, Results[GroupId, ErrorCode]
//          v1:   same as v0
//          v2:   flexible
//          v3+:  Results[ErrorMessage] (nullable; null with error 0)
// Kafka 3.9 serves v0-2; Kafka 4.x serves v0-2 up to the version that added v3 (ApiVersions says).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DeleteGroupsResponse;

struct DeleteGroupsRequest {
  static constexpr std::string_view name = "DeleteGroupsRequest";
  static constexpr int16_t api_key = 42;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = 2;
  using response_type = DeleteGroupsResponse;

  std::vector<std::string> groups_names;

  friend bool operator==(const DeleteGroupsRequest&, const DeleteGroupsRequest&) = default;
};

template <class V>
void visit(V& v, DeleteGroupsRequest& m) {
  v.field("GroupsNames", m.groups_names);
  v.tags();
}

struct DeleteGroupsResponse {
  static constexpr std::string_view name = "DeleteGroupsResponse";
  static constexpr int16_t api_key = 42;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = 2;

  struct DeletableGroupResult {
    std::string group_id;
    int16_t error_code = 0;
    std::optional<std::string> error_message;  // v3+
    friend bool operator==(const DeletableGroupResult&, const DeletableGroupResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DeletableGroupResult> results;

  friend bool operator==(const DeleteGroupsResponse&, const DeleteGroupsResponse&) = default;
};

template <class V>
void visit(V& v, DeleteGroupsResponse::DeletableGroupResult& m) {
  v.field("GroupId", m.group_id);
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 3) v.field("ErrorMessage", m.error_message);
  v.tags();
}

template <class V>
void visit(V& v, DeleteGroupsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Results", m.results);
  v.tags();
}

}  // namespace kafkawire::protocol
