// DescribeCluster (key 60): the cluster id, the controller and the brokers (KIP-700), what Metadata also
// answers but without topics. Sent to any broker. Flexible from v0.
//
// Request  v0:   IncludeClusterAuthorizedOperations
//          v1+:  EndpointType (1 brokers, 2 controllers: KIP-919, asked of a controller directly)
//          v2+:  IncludeFencedBrokers (KIP-1073)
// Response v0:   ThrottleTimeMs, ErrorCode, ErrorMessage, ClusterId, ControllerId, Brokers[BrokerId, Host,
//                Port, Rack], ClusterAuthorizedOperations (INT32_MIN unless asked for)
//          v1+:  EndpointType, after ErrorMessage; a broker asked for EndpointType 2 answers
//                MISMATCHED_ENDPOINT_TYPE (114), a controller asked for 1 likewise
//          v2+:  Brokers[IsFenced]
// Kafka 3.9 serves v0-1, Kafka 4.x v0-2.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct DescribeClusterResponse;

struct DescribeClusterRequest {
  static constexpr std::string_view name = "DescribeClusterRequest";
  static constexpr int16_t api_key = 60;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 0;
  using response_type = DescribeClusterResponse;
  static constexpr int8_t kBrokers = 1, kControllers = 2;  // EndpointType

  bool include_cluster_authorized_operations = false;
  int8_t endpoint_type = kBrokers;      // v1+
  bool include_fenced_brokers = false;  // v2+

  friend bool operator==(const DescribeClusterRequest&, const DescribeClusterRequest&) = default;
};

template <class V>
void visit(V& v, DescribeClusterRequest& m) {
  v.field("IncludeClusterAuthorizedOperations", m.include_cluster_authorized_operations);
  if (v.version() >= 1) v.field("EndpointType", m.endpoint_type);
  if (v.version() >= 2) v.field("IncludeFencedBrokers", m.include_fenced_brokers);
  v.tags();
}

struct DescribeClusterResponse {
  static constexpr std::string_view name = "DescribeClusterResponse";
  static constexpr int16_t api_key = 60;
  static constexpr int16_t min_version = 0, max_version = 2, first_flexible = 0;
  static constexpr int32_t kAuthorizedOperationsOmitted = -2147483647 - 1;

  struct DescribeClusterBroker {
    int32_t broker_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    bool is_fenced = false;  // v2+
    friend bool operator==(const DescribeClusterBroker&, const DescribeClusterBroker&) = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  int8_t endpoint_type = DescribeClusterRequest::kBrokers;  // v1+
  std::string cluster_id;
  int32_t controller_id = -1;
  std::vector<DescribeClusterBroker> brokers;
  int32_t cluster_authorized_operations = kAuthorizedOperationsOmitted;

  friend bool operator==(const DescribeClusterResponse&, const DescribeClusterResponse&) = default;
};

template <class V>
void visit(V& v, DescribeClusterResponse::DescribeClusterBroker& m) {
  v.field("BrokerId", m.broker_id);
  v.field("Host", m.host);
  v.field("Port", m.port);
  v.field("Rack", m.rack);
  if (v.version() >= 2) v.field("IsFenced", m.is_fenced);
  v.tags();
}

template <class V>
void visit(V& v, DescribeClusterResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  if (v.version() >= 1) v.field("EndpointType", m.endpoint_type);
  v.field("ClusterId", m.cluster_id);
  v.field("ControllerId", m.controller_id);
  v.field("Brokers", m.brokers);
  v.field("ClusterAuthorizedOperations", m.cluster_authorized_operations);
  v.tags();
}

}  // namespace kafkawire::protocol
