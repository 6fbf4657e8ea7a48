// ListGroups (key 16). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ListGroupsResponse;

struct ListGroupsRequest {
  static constexpr std::string_view name = "ListGroupsRequest";
  static constexpr int16_t api_key = 16;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  using response_type = ListGroupsResponse;
  friend bool operator==(const ListGroupsRequest&, const ListGroupsRequest&) = default;
};

template <class V>
void visit(V& v, ListGroupsRequest&) {
  v.tags();
}

struct ListGroupsResponse {
  static constexpr std::string_view name = "ListGroupsResponse";
  static constexpr int16_t api_key = 16;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  friend bool operator==(const ListGroupsResponse&, const ListGroupsResponse&) = default;
};

template <class V>
void visit(V& v, ListGroupsResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
