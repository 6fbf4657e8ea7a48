// FindCoordinator (key 10). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct FindCoordinatorResponse;

struct FindCoordinatorRequest {
  static constexpr std::string_view name = "FindCoordinatorRequest";
  static constexpr int16_t api_key = 10;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;
  using response_type = FindCoordinatorResponse;
  friend bool operator==(const FindCoordinatorRequest&, const FindCoordinatorRequest&) = default;
};

template <class V>
void visit(V& v, FindCoordinatorRequest&) {
  v.tags();
}

struct FindCoordinatorResponse {
  static constexpr std::string_view name = "FindCoordinatorResponse";
  static constexpr int16_t api_key = 10;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;
  friend bool operator==(const FindCoordinatorResponse&, const FindCoordinatorResponse&) = default;
};

template <class V>
void visit(V& v, FindCoordinatorResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
