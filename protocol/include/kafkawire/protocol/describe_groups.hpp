// DescribeGroups (key 15). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DescribeGroupsResponse;

struct DescribeGroupsRequest {
  static constexpr std::string_view name = "DescribeGroupsRequest";
  static constexpr int16_t api_key = 15;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 5;
  using response_type = DescribeGroupsResponse;
  friend bool operator==(const DescribeGroupsRequest&, const DescribeGroupsRequest&) = default;
};

template <class V>
void visit(V& v, DescribeGroupsRequest&) {
  v.tags();
}

struct DescribeGroupsResponse {
  static constexpr std::string_view name = "DescribeGroupsResponse";
  static constexpr int16_t api_key = 15;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 5;
  friend bool operator==(const DescribeGroupsResponse&, const DescribeGroupsResponse&) = default;
};

template <class V>
void visit(V& v, DescribeGroupsResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
