// Produce (key 0): append record batches to partition leaders. v0-2 were removed in Kafka 4.0 (KIP-896):
// v3 is the baseline and its records must be record-batch format v2 (magic 2). Brokers still list v0 in
// ApiVersions because of a librdkafka bug (KAFKA-18659), but reject v0-2 requests.
//
// Request  v3:   TransactionalId, Acks, TimeoutMs, TopicData[Name, PartitionData[Index, Records]]
//          v4-6: same as v3 (v4+: the response may carry 56 KAFKA_STORAGE_ERROR)
//          v7+:  batches may be zstd-compressed (KIP-110)
//          v8:   same as v7 (the response gains RecordErrors and ErrorMessage, KIP-467)
//          v9:   flexible
//          v10:  same as v9 (the response gains CurrentLeader and NodeEndpoints, KIP-951)
//          v11+: may get 120 TRANSACTION_ABORTABLE (KIP-890)
//          v12+: with transactions v2 (KIP-890 part 2) producing to a partition also adds it to the
//                transaction, without AddPartitionsToTxn; a transactional producer without v2 must stay
//                at v11 or below.
//          v13+: TopicData[TopicId] replaces TopicData[Name] (KIP-516); may get 100 UNKNOWN_TOPIC_ID.
// Response v3:   Responses[Name, PartitionResponses[Index, ErrorCode, BaseOffset, LogAppendTimeMs]],
//                ThrottleTimeMs
//          v5+:  PartitionResponses[LogStartOffset]
//          v8+:  PartitionResponses[RecordErrors[BatchIndex, BatchIndexErrorMessage], ErrorMessage]
//          v9:   flexible
//          v10+: PartitionResponses tagged 0 CurrentLeader[LeaderId, LeaderEpoch], tagged 0
//                NodeEndpoints[NodeId, Host, Port, Rack] (KIP-951): where the new leader is after
//                6 NOT_LEADER_OR_FOLLOWER, without waiting for a Metadata round trip.
//          v11, v12: same as v10.
//          v13+: Responses[TopicId] replaces Responses[Name].
// With Acks 0 the broker sends no response at all: do not wait for one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/leader_hint.hpp"
#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ProduceResponse;

struct ProduceRequest {
  static constexpr std::string_view name = "ProduceRequest";
  static constexpr int16_t api_key = 0;
  static constexpr int16_t min_version = 3, max_version = 13, first_flexible = 9;
  using response_type = ProduceResponse;

  struct PartitionProduceData {
    int32_t index = 0;
    Records records;
    friend bool operator==(const PartitionProduceData&, const PartitionProduceData&) = default;
  };
  struct TopicProduceData {
    std::string name;  // v3-12
    Uuid topic_id;     // v13+
    std::vector<PartitionProduceData> partition_data;
    friend bool operator==(const TopicProduceData&, const TopicProduceData&) = default;
  };

  std::optional<std::string> transactional_id;
  int16_t acks = 0;  // 0: no response, 1: the leader, -1: all in-sync replicas
  int32_t timeout_ms = 0;
  std::vector<TopicProduceData> topic_data;

  friend bool operator==(const ProduceRequest&, const ProduceRequest&) = default;
};

template <class V>
void visit(V& v, ProduceRequest::PartitionProduceData& m) {
  v.field("Index", m.index);
  v.field("Records", m.records);
  v.tags();
}

template <class V>
void visit(V& v, ProduceRequest::TopicProduceData& m) {
  if (v.version() <= 12) v.field("Name", m.name);
  if (v.version() >= 13) v.field("TopicId", m.topic_id);
  v.field("PartitionData", m.partition_data);
  v.tags();
}

template <class V>
void visit(V& v, ProduceRequest& m) {
  v.field("TransactionalId", m.transactional_id);
  v.field("Acks", m.acks);
  v.field("TimeoutMs", m.timeout_ms);
  v.field("TopicData", m.topic_data);
  v.tags();
}

struct ProduceResponse {
  static constexpr std::string_view name = "ProduceResponse";
  static constexpr int16_t api_key = 0;
  static constexpr int16_t min_version = 3, max_version = 13, first_flexible = 9;

  struct BatchIndexAndErrorMessage {
    int32_t batch_index = 0;
    std::optional<std::string> batch_index_error_message;
    friend bool operator==(const BatchIndexAndErrorMessage&, const BatchIndexAndErrorMessage&) = default;
  };
  using LeaderIdAndEpoch = protocol::LeaderIdAndEpoch;  // leader_hint.hpp (KIP-951)
  struct PartitionProduceResponse {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = 0;
    int64_t log_append_time_ms = -1;                       // -1 unless the topic uses LogAppendTime
    int64_t log_start_offset = -1;                         // v5+
    std::vector<BatchIndexAndErrorMessage> record_errors;  // v8+
    std::optional<std::string> error_message;              // v8+
    LeaderIdAndEpoch current_leader;                       // v10+, tag 0
    friend bool operator==(const PartitionProduceResponse&, const PartitionProduceResponse&) = default;
  };
  struct TopicProduceResponse {
    std::string name;  // v3-12
    Uuid topic_id;     // v13+
    std::vector<PartitionProduceResponse> partition_responses;
    friend bool operator==(const TopicProduceResponse&, const TopicProduceResponse&) = default;
  };
  using NodeEndpoint = protocol::NodeEndpoint;  // leader_hint.hpp (KIP-951)

  std::vector<TopicProduceResponse> responses;
  int32_t throttle_time_ms = 0;
  std::vector<NodeEndpoint> node_endpoints;  // v10+, tag 0

  friend bool operator==(const ProduceResponse&, const ProduceResponse&) = default;
};

template <class V>
void visit(V& v, ProduceResponse::BatchIndexAndErrorMessage& m) {
  v.field("BatchIndex", m.batch_index);
  v.field("BatchIndexErrorMessage", m.batch_index_error_message);
  v.tags();
}

template <class V>
void visit(V& v, ProduceResponse::PartitionProduceResponse& m) {
  v.field("Index", m.index);
  v.field("ErrorCode", m.error_code);
  v.field("BaseOffset", m.base_offset);
  v.field("LogAppendTimeMs", m.log_append_time_ms);
  if (v.version() >= 5) v.field("LogStartOffset", m.log_start_offset);
  if (v.version() >= 8) {
    v.field("RecordErrors", m.record_errors);
    v.field("ErrorMessage", m.error_message);
  }
  v.tags([&](auto& t) {
    if (v.version() >= 10) t.field(0, "CurrentLeader", m.current_leader);
  });
}

template <class V>
void visit(V& v, ProduceResponse::TopicProduceResponse& m) {
  if (v.version() <= 12) v.field("Name", m.name);
  if (v.version() >= 13) v.field("TopicId", m.topic_id);
  v.field("PartitionResponses", m.partition_responses);
  v.tags();
}

template <class V>
void visit(V& v, ProduceResponse& m) {
  v.field("Responses", m.responses);
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.tags([&](auto& t) {
    if (v.version() >= 10) t.field(0, "NodeEndpoints", m.node_endpoints);
  });
}

}  // namespace kafkawire::protocol
