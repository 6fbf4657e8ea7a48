// Metadata (key 3). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct MetadataResponse;

struct MetadataRequest {
  static constexpr std::string_view name = "MetadataRequest";
  static constexpr int16_t api_key = 3;
  static constexpr int16_t min_version = 0, max_version = 13, first_flexible = 9;
  using response_type = MetadataResponse;
  friend bool operator==(const MetadataRequest&, const MetadataRequest&) = default;
};

template <class V>
void visit(V& v, MetadataRequest&) {
  v.tags();
}

struct MetadataResponse {
  static constexpr std::string_view name = "MetadataResponse";
  static constexpr int16_t api_key = 3;
  static constexpr int16_t min_version = 0, max_version = 13, first_flexible = 9;
  friend bool operator==(const MetadataResponse&, const MetadataResponse&) = default;
};

template <class V>
void visit(V& v, MetadataResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
