// FindCoordinator (key 10): which broker coordinates a consumer group, a transactional id or a share
// group. Asked before JoinGroup/OffsetCommit/OffsetFetch, and again on NOT_COORDINATOR or
// COORDINATOR_NOT_AVAILABLE.
//
// Request  v0:   Key (a group id)
//          v1+:  KeyType (0 group, 1 transaction, 2 share from v6)
//          v3:   flexible
//          v4+:  CoordinatorKeys replaces Key: several keys of one type in a request (KIP-699)
//          v5:   may answer TRANSACTION_ABORTABLE (KIP-890)
//          v6:   share groups (KIP-932): key "groupId:topicId:partition"
// Response v0:   ErrorCode, NodeId, Host, Port
//          v1+:  ThrottleTimeMs, ErrorMessage (v2+: sent before throttling)
//          v3:   flexible
//          v4+:  Coordinators[Key, NodeId, Host, Port, ErrorCode, ErrorMessage] replaces the single
//                answer; each key carries its own error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct FindCoordinatorResponse;

struct FindCoordinatorRequest {
  static constexpr std::string_view name = "FindCoordinatorRequest";
  static constexpr int16_t api_key = 10;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;
  using response_type = FindCoordinatorResponse;

  static constexpr int8_t kGroup = 0, kTransaction = 1, kShare = 2;

  std::string key;                            // v0-3
  int8_t key_type = kGroup;                   // v1+
  std::vector<std::string> coordinator_keys;  // v4+

  friend bool operator==(const FindCoordinatorRequest&, const FindCoordinatorRequest&) = default;
};

template <class V>
void visit(V& v, FindCoordinatorRequest& m) {
  if (v.version() <= 3) v.field("Key", m.key);
  if (v.version() >= 1) v.field("KeyType", m.key_type);
  if (v.version() >= 4) v.field("CoordinatorKeys", m.coordinator_keys);
  v.tags();
}

struct FindCoordinatorResponse {
  static constexpr std::string_view name = "FindCoordinatorResponse";
  static constexpr int16_t api_key = 10;
  static constexpr int16_t min_version = 0, max_version = 6, first_flexible = 3;

  struct Coordinator {
    std::string key;
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    friend bool operator==(const Coordinator&, const Coordinator&) = default;
  };

  int32_t throttle_time_ms = 0;                   // v1+
  int16_t error_code = 0;                         // v0-3
  std::optional<std::string> error_message = "";  // v1-3
  int32_t node_id = 0;                            // v0-3
  std::string host;                               // v0-3
  int32_t port = 0;                               // v0-3
  std::vector<Coordinator> coordinators;          // v4+

  friend bool operator==(const FindCoordinatorResponse&, const FindCoordinatorResponse&) = default;
};

template <class V>
void visit(V& v, FindCoordinatorResponse::Coordinator& m) {
  v.field("Key", m.key);
  v.field("NodeId", m.node_id);
  v.field("Host", m.host);
  v.field("Port", m.port);
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.tags();
}

template <class V>
void visit(V& v, FindCoordinatorResponse& m) {
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  if (v.version() <= 3) {
    v.field("ErrorCode", m.error_code);
    if (v.version() >= 1) v.field("ErrorMessage", m.error_message);
    v.field("NodeId", m.node_id);
    v.field("Host", m.host);
    v.field("Port", m.port);
  }
  if (v.version() >= 4) v.field("Coordinators", m.coordinators);
  v.tags();
}

}  // namespace kafkawire::protocol
