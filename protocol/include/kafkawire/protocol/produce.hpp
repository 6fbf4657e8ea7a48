// Produce (key 0). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ProduceResponse;

struct ProduceRequest {
  static constexpr std::string_view name = "ProduceRequest";
  static constexpr int16_t api_key = 0;
  static constexpr int16_t min_version = 3, max_version = 13, first_flexible = 9;
  using response_type = ProduceResponse;
  friend bool operator==(const ProduceRequest&, const ProduceRequest&) = default;
};

template <class V>
void visit(V& v, ProduceRequest&) {
  v.tags();
}

struct ProduceResponse {
  static constexpr std::string_view name = "ProduceResponse";
  static constexpr int16_t api_key = 0;
  static constexpr int16_t min_version = 3, max_version = 13, first_flexible = 9;
  friend bool operator==(const ProduceResponse&, const ProduceResponse&) = default;
};

template <class V>
void visit(V& v, ProduceResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
