// LeaveGroup (key 13). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct LeaveGroupResponse;

struct LeaveGroupRequest {
  static constexpr std::string_view name = "LeaveGroupRequest";
  static constexpr int16_t api_key = 13;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  using response_type = LeaveGroupResponse;
  friend bool operator==(const LeaveGroupRequest&, const LeaveGroupRequest&) = default;
};

template <class V>
void visit(V& v, LeaveGroupRequest&) {
  v.tags();
}

struct LeaveGroupResponse {
  static constexpr std::string_view name = "LeaveGroupResponse";
  static constexpr int16_t api_key = 13;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  friend bool operator==(const LeaveGroupResponse&, const LeaveGroupResponse&) = default;
};

template <class V>
void visit(V& v, LeaveGroupResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
