// DeleteTopics (key 20). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DeleteTopicsResponse;

struct DeleteTopicsRequest {
  static constexpr std::string_view name = "DeleteTopicsRequest";
  static constexpr int16_t api_key = 20;
  static constexpr int16_t min_version = 1, max_version = 6, first_flexible = 4;
  using response_type = DeleteTopicsResponse;
  friend bool operator==(const DeleteTopicsRequest&, const DeleteTopicsRequest&) = default;
};

template <class V>
void visit(V& v, DeleteTopicsRequest&) {
  v.tags();
}

struct DeleteTopicsResponse {
  static constexpr std::string_view name = "DeleteTopicsResponse";
  static constexpr int16_t api_key = 20;
  static constexpr int16_t min_version = 1, max_version = 6, first_flexible = 4;
  friend bool operator==(const DeleteTopicsResponse&, const DeleteTopicsResponse&) = default;
};

template <class V>
void visit(V& v, DeleteTopicsResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
