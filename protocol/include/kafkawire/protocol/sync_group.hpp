// SyncGroup (key 14). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct SyncGroupResponse;

struct SyncGroupRequest {
  static constexpr std::string_view name = "SyncGroupRequest";
  static constexpr int16_t api_key = 14;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  using response_type = SyncGroupResponse;
  friend bool operator==(const SyncGroupRequest&, const SyncGroupRequest&) = default;
};

template <class V>
void visit(V& v, SyncGroupRequest&) {
  v.tags();
}

struct SyncGroupResponse {
  static constexpr std::string_view name = "SyncGroupResponse";
  static constexpr int16_t api_key = 14;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 4;
  friend bool operator==(const SyncGroupResponse&, const SyncGroupResponse&) = default;
};

template <class V>
void visit(V& v, SyncGroupResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
