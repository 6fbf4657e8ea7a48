// CreateTopics (key 19). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct CreateTopicsResponse;

struct CreateTopicsRequest {
  static constexpr std::string_view name = "CreateTopicsRequest";
  static constexpr int16_t api_key = 19;
  static constexpr int16_t min_version = 2, max_version = 7, first_flexible = 5;
  using response_type = CreateTopicsResponse;
  friend bool operator==(const CreateTopicsRequest&, const CreateTopicsRequest&) = default;
};

template <class V>
void visit(V& v, CreateTopicsRequest&) {
  v.tags();
}

struct CreateTopicsResponse {
  static constexpr std::string_view name = "CreateTopicsResponse";
  static constexpr int16_t api_key = 19;
  static constexpr int16_t min_version = 2, max_version = 7, first_flexible = 5;
  friend bool operator==(const CreateTopicsResponse&, const CreateTopicsResponse&) = default;
};

template <class V>
void visit(V& v, CreateTopicsResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
