// Metadata (key 3): brokers, controller, topics and their partition leaders. What the client asks
// before anything else, and again whenever a leader moves (NOT_LEADER_OR_FOLLOWER, a stale epoch).
//
// Request  v0:   Topics[Name]; an empty array means "all topics".
//          v1+:  Topics nullable: null means "all topics", empty means "none".
//          v4+:  AllowAutoTopicCreation.
//          v8-10: IncludeClusterAuthorizedOperations (v11 moved it to DescribeCluster, KIP-700).
//          v8+:  IncludeTopicAuthorizedOperations.
//          v9:   flexible.
//          v10+: Topics[TopicId], Name nullable; brokers only act on a topic id (with a null name)
//                from v12: v10-11 requests must send names.
// Response v0:   Brokers[NodeId, Host, Port], Topics[ErrorCode, Name, Partitions[ErrorCode,
//                PartitionIndex, LeaderId, ReplicaNodes, IsrNodes]]
//          v1+:  Brokers[Rack], ControllerId, Topics[IsInternal]
//          v2+:  ClusterId
//          v3+:  ThrottleTimeMs (v6+: sent before throttling)
//          v5+:  Partitions[OfflineReplicas]
//          v7+:  Partitions[LeaderEpoch]
//          v8+:  Topics[TopicAuthorizedOperations]; v8-10: ClusterAuthorizedOperations
//          v9:   flexible
//          v10+: Topics[TopicId]; v12+: Topics[Name] nullable (unknown topics asked for by id)
//          v13+: top-level ErrorCode
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct MetadataResponse;

struct MetadataRequest {
  static constexpr std::string_view name = "MetadataRequest";
  static constexpr int16_t api_key = 3;
  static constexpr int16_t min_version = 0, max_version = 13, first_flexible = 9;
  using response_type = MetadataResponse;

  struct MetadataRequestTopic {
    Uuid topic_id;                         // v10+
    std::optional<std::string> name = "";  // nullable v10+
    friend bool operator==(const MetadataRequestTopic&, const MetadataRequestTopic&) = default;
  };

  // Null (v1+) asks for every topic; the schema default is the empty array, which from v1 asks for none.
  std::optional<std::vector<MetadataRequestTopic>> topics = std::vector<MetadataRequestTopic>{};
  bool allow_auto_topic_creation = true;               // v4+
  bool include_cluster_authorized_operations = false;  // v8-10
  bool include_topic_authorized_operations = false;    // v8+

  friend bool operator==(const MetadataRequest&, const MetadataRequest&) = default;
};

template <class V>
void visit(V& v, MetadataRequest::MetadataRequestTopic& m) {
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  v.field("Name", m.name, v.version() >= 10);
  v.tags();
}

template <class V>
void visit(V& v, MetadataRequest& m) {
  v.field("Topics", m.topics, v.version() >= 1);
  if (v.version() >= 4) v.field("AllowAutoTopicCreation", m.allow_auto_topic_creation);
  if (v.version() >= 8 && v.version() <= 10)
    v.field("IncludeClusterAuthorizedOperations", m.include_cluster_authorized_operations);
  if (v.version() >= 8) v.field("IncludeTopicAuthorizedOperations", m.include_topic_authorized_operations);
  v.tags();
}

struct MetadataResponse {
  static constexpr std::string_view name = "MetadataResponse";
  static constexpr int16_t api_key = 3;
  static constexpr int16_t min_version = 0, max_version = 13, first_flexible = 9;

  // "Not requested": the authorized-operations default, INT32_MIN.
  static constexpr int32_t kAuthorizedOperationsOmitted = -2147483647 - 1;

  struct MetadataResponseBroker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;  // v1+
    friend bool operator==(const MetadataResponseBroker&, const MetadataResponseBroker&) = default;
  };
  struct MetadataResponsePartition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = -1;  // v7+
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;  // v5+
    friend bool operator==(const MetadataResponsePartition&, const MetadataResponsePartition&) = default;
  };
  struct MetadataResponseTopic {
    int16_t error_code = 0;
    std::optional<std::string> name = "";  // nullable v12+
    Uuid topic_id;                         // v10+
    bool is_internal = false;              // v1+
    std::vector<MetadataResponsePartition> partitions;
    int32_t topic_authorized_operations = kAuthorizedOperationsOmitted;  // v8+
    friend bool operator==(const MetadataResponseTopic&, const MetadataResponseTopic&) = default;
  };

  int32_t throttle_time_ms = 0;  // v3+
  std::vector<MetadataResponseBroker> brokers;
  std::optional<std::string> cluster_id;  // v2+
  int32_t controller_id = -1;             // v1+
  std::vector<MetadataResponseTopic> topics;
  int32_t cluster_authorized_operations = kAuthorizedOperationsOmitted;  // v8-10
  int16_t error_code = 0;                                                // v13+

  friend bool operator==(const MetadataResponse&, const MetadataResponse&) = default;
};

template <class V>
void visit(V& v, MetadataResponse::MetadataResponseBroker& m) {
  v.field("NodeId", m.node_id);
  v.field("Host", m.host);
  v.field("Port", m.port);
  if (v.version() >= 1) v.field("Rack", m.rack);
  v.tags();
}

template <class V>
void visit(V& v, MetadataResponse::MetadataResponsePartition& m) {
  v.field("ErrorCode", m.error_code);
  v.field("PartitionIndex", m.partition_index);
  v.field("LeaderId", m.leader_id);
  if (v.version() >= 7) v.field("LeaderEpoch", m.leader_epoch);
  v.field("ReplicaNodes", m.replica_nodes);
  v.field("IsrNodes", m.isr_nodes);
  if (v.version() >= 5) v.field("OfflineReplicas", m.offline_replicas);
  v.tags();
}

template <class V>
void visit(V& v, MetadataResponse::MetadataResponseTopic& m) {
  v.field("ErrorCode", m.error_code);
  v.field("Name", m.name, v.version() >= 12);
  if (v.version() >= 10) v.field("TopicId", m.topic_id);
  if (v.version() >= 1) v.field("IsInternal", m.is_internal);
  v.field("Partitions", m.partitions);
  if (v.version() >= 8) v.field("TopicAuthorizedOperations", m.topic_authorized_operations);
  v.tags();
}

template <class V>
void visit(V& v, MetadataResponse& m) {
  if (v.version() >= 3) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Brokers", m.brokers);
  if (v.version() >= 2) v.field("ClusterId", m.cluster_id);
  if (v.version() >= 1) v.field("ControllerId", m.controller_id);
  v.field("Topics", m.topics);
  if (v.version() >= 8 && v.version() <= 10)
    v.field("ClusterAuthorizedOperations", m.cluster_authorized_operations);
  if (v.version() >= 13) v.field("ErrorCode", m.error_code);
  v.tags();
}

}  // namespace kafkawire::protocol
