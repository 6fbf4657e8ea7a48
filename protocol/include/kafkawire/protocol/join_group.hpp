// JoinGroup (key 11). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct JoinGroupResponse;

struct JoinGroupRequest {
  static constexpr std::string_view name = "JoinGroupRequest";
  static constexpr int16_t api_key = 11;
  static constexpr int16_t min_version = 0, max_version = 9, first_flexible = 6;
  using response_type = JoinGroupResponse;
  friend bool operator==(const JoinGroupRequest&, const JoinGroupRequest&) = default;
};

template <class V>
void visit(V& v, JoinGroupRequest&) {
  v.tags();
}

struct JoinGroupResponse {
  static constexpr std::string_view name = "JoinGroupResponse";
  static constexpr int16_t api_key = 11;
  static constexpr int16_t min_version = 0, max_version = 9, first_flexible = 6;
  friend bool operator==(const JoinGroupResponse&, const JoinGroupResponse&) = default;
};

template <class V>
void visit(V& v, JoinGroupResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
