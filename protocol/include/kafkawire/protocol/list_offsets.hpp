// ListOffsets (key 2). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ListOffsetsResponse;

struct ListOffsetsRequest {
  static constexpr std::string_view name = "ListOffsetsRequest";
  static constexpr int16_t api_key = 2;
  static constexpr int16_t min_version = 1, max_version = 11, first_flexible = 6;
  using response_type = ListOffsetsResponse;
  friend bool operator==(const ListOffsetsRequest&, const ListOffsetsRequest&) = default;
};

template <class V>
void visit(V& v, ListOffsetsRequest&) {
  v.tags();
}

struct ListOffsetsResponse {
  static constexpr std::string_view name = "ListOffsetsResponse";
  static constexpr int16_t api_key = 2;
  static constexpr int16_t min_version = 1, max_version = 11, first_flexible = 6;
  friend bool operator==(const ListOffsetsResponse&, const ListOffsetsResponse&) = default;
};

template <class V>
void visit(V& v, ListOffsetsResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
