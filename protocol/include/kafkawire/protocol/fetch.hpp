// Fetch (key 1). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct FetchResponse;

struct FetchRequest {
  static constexpr std::string_view name = "FetchRequest";
  static constexpr int16_t api_key = 1;
  static constexpr int16_t min_version = 4, max_version = 18, first_flexible = 12;
  using response_type = FetchResponse;
  friend bool operator==(const FetchRequest&, const FetchRequest&) = default;
};

template <class V>
void visit(V& v, FetchRequest&) {
  v.tags();
}

struct FetchResponse {
  static constexpr std::string_view name = "FetchResponse";
  static constexpr int16_t api_key = 1;
  static constexpr int16_t min_version = 4, max_version = 18, first_flexible = 12;
  friend bool operator==(const FetchResponse&, const FetchResponse&) = default;
};

template <class V>
void visit(V& v, FetchResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
