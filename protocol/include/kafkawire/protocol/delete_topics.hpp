// DeleteTopics (key 20): deletes topics by name, or from v6 by name or topic id. Sent to any broker,
// which forwards it to the controller.
//
// Request  v1:   TopicNames, TimeoutMs (v0 was removed in Kafka 4.0; v1-3 are the same)
//          v4:   flexible
//          v5+:  may answer THROTTLING_QUOTA_EXCEEDED (KIP-599)
//          v6+:  Topics[Name, TopicId] replaces TopicNames; Name may be null when TopicId is set
// Response v1:   ThrottleTimeMs, Responses[Name, ErrorCode] (v2+: sent before throttling; v3+ may
//                answer TOPIC_DELETION_DISABLED)
//          v4:   flexible
//          v5+:  Responses[ErrorMessage]
//          v6+:  Responses[TopicId], Name nullable (UNKNOWN_TOPIC_ID for an id the broker does not know)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DeleteTopicsResponse;

struct DeleteTopicsRequest {
  static constexpr std::string_view name = "DeleteTopicsRequest";
  static constexpr int16_t api_key = 20;
  static constexpr int16_t min_version = 1, max_version = 6, first_flexible = 4;
  using response_type = DeleteTopicsResponse;

  struct DeleteTopicState {
    std::optional<std::string> name;
    Uuid topic_id;
    friend bool operator==(const DeleteTopicState&, const DeleteTopicState&) = default;
  };

  std::vector<DeleteTopicState> topics;  // v6+
  std::vector<std::string> topic_names;  // v1-5
  int32_t timeout_ms = 0;

  friend bool operator==(const DeleteTopicsRequest&, const DeleteTopicsRequest&) = default;
};

template <class V>
void visit(V& v, DeleteTopicsRequest::DeleteTopicState& m) {
  v.field("Name", m.name);
  v.field("TopicId", m.topic_id);
  v.tags();
}

template <class V>
void visit(V& v, DeleteTopicsRequest& m) {
  if (v.version() >= 6) v.field("Topics", m.topics);
  if (v.version() <= 5) v.field("TopicNames", m.topic_names);
  v.field("TimeoutMs", m.timeout_ms);
  v.tags();
}

struct DeleteTopicsResponse {
  static constexpr std::string_view name = "DeleteTopicsResponse";
  static constexpr int16_t api_key = 20;
  static constexpr int16_t min_version = 1, max_version = 6, first_flexible = 4;

  struct DeletableTopicResult {
    std::optional<std::string> name = "";  // nullable v6+
    Uuid topic_id;                         // v6+
    int16_t error_code = 0;
    std::optional<std::string> error_message;  // v5+
    friend bool operator==(const DeletableTopicResult&, const DeletableTopicResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DeletableTopicResult> responses;

  friend bool operator==(const DeleteTopicsResponse&, const DeleteTopicsResponse&) = default;
};

template <class V>
void visit(V& v, DeleteTopicsResponse::DeletableTopicResult& m) {
  v.field("Name", m.name, v.version() >= 6);
  if (v.version() >= 6) v.field("TopicId", m.topic_id);
  v.field("ErrorCode", m.error_code);
  if (v.version() >= 5) v.field("ErrorMessage", m.error_message);
  v.tags();
}

template <class V>
void visit(V& v, DeleteTopicsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Responses", m.responses);
  v.tags();
}

}  // namespace kafkawire::protocol
