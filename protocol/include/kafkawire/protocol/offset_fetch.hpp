// OffsetFetch (key 9). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetFetchResponse;

struct OffsetFetchRequest {
  static constexpr std::string_view name = "OffsetFetchRequest";
  static constexpr int16_t api_key = 9;
  static constexpr int16_t min_version = 1, max_version = 10, first_flexible = 6;
  using response_type = OffsetFetchResponse;
  friend bool operator==(const OffsetFetchRequest&, const OffsetFetchRequest&) = default;
};

template <class V>
void visit(V& v, OffsetFetchRequest&) {
  v.tags();
}

struct OffsetFetchResponse {
  static constexpr std::string_view name = "OffsetFetchResponse";
  static constexpr int16_t api_key = 9;
  static constexpr int16_t min_version = 1, max_version = 10, first_flexible = 6;
  friend bool operator==(const OffsetFetchResponse&, const OffsetFetchResponse&) = default;
};

template <class V>
void visit(V& v, OffsetFetchResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
