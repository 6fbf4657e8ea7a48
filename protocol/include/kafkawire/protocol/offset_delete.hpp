// OffsetDelete (key 47). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetDeleteResponse;

struct OffsetDeleteRequest {
  static constexpr std::string_view name = "OffsetDeleteRequest";
  static constexpr int16_t api_key = 47;
  static constexpr int16_t min_version = 0, max_version = 0, first_flexible = kNeverFlexible;
  using response_type = OffsetDeleteResponse;
  friend bool operator==(const OffsetDeleteRequest&, const OffsetDeleteRequest&) = default;
};

template <class V>
void visit(V& v, OffsetDeleteRequest&) {
  v.tags();
}

struct OffsetDeleteResponse {
  static constexpr std::string_view name = "OffsetDeleteResponse";
  static constexpr int16_t api_key = 47;
  static constexpr int16_t min_version = 0, max_version = 0, first_flexible = kNeverFlexible;
  friend bool operator==(const OffsetDeleteResponse&, const OffsetDeleteResponse&) = default;
};

template <class V>
void visit(V& v, OffsetDeleteResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
