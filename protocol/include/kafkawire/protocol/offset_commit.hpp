// OffsetCommit (key 8). PLACEHOLDER: fields not written yet; golden tests fail until they are.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct OffsetCommitResponse;

struct OffsetCommitRequest {
  static constexpr std::string_view name = "OffsetCommitRequest";
  static constexpr int16_t api_key = 8;
  static constexpr int16_t min_version = 2, max_version = 10, first_flexible = 8;
  using response_type = OffsetCommitResponse;
  friend bool operator==(const OffsetCommitRequest&, const OffsetCommitRequest&) = default;
};

template <class V>
void visit(V& v, OffsetCommitRequest&) {
  v.tags();
}

struct OffsetCommitResponse {
  static constexpr std::string_view name = "OffsetCommitResponse";
  static constexpr int16_t api_key = 8;
  static constexpr int16_t min_version = 2, max_version = 10, first_flexible = 8;
  friend bool operator==(const OffsetCommitResponse&, const OffsetCommitResponse&) = default;
};

template <class V>
void visit(V& v, OffsetCommitResponse&) {
  v.tags();
}

}  // namespace kafkawire::protocol
