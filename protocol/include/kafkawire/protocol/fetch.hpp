// Fetch (key 1): read records from partition leaders (or, with KIP-392, a nearby follower). The consumer's
// main loop, and how followers and KRaft voters replicate. v0-3 were removed in Kafka 4.0 (KIP-896):
// v4 is the baseline, and every v4+ fetcher must read record-batch format v2 (magic 2).
//
// Request  v4:   ReplicaId, MaxWaitMs, MinBytes, MaxBytes, IsolationLevel,
//                Topics[Topic, Partitions[Partition, FetchOffset, PartitionMaxBytes]]
//                MaxBytes (KIP-74) is a soft limit: the first batch of the first non-empty partition is
//                returned whole even when it is larger, so a fetcher always makes progress.
//                IsolationLevel 1 (READ_COMMITTED) stops at the LastStableOffset and asks for
//                AbortedTransactions; 0 (READ_UNCOMMITTED) reads up to the HighWatermark.
//          v5+:  Partitions[LogStartOffset] (followers only; consumers send -1)
//          v7+:  SessionId, SessionEpoch, ForgottenTopicsData[Topic, Partitions] (incremental fetch
//                sessions, KIP-227). SessionId 0 + SessionEpoch -1 (the defaults): a full fetch, no
//                session. SessionId 0 + epoch 0: a full fetch that opens a session; then send the
//                returned SessionId with epoch 1, 2, ...; each such request lists only the partitions
//                that changed and ForgottenTopicsData those to drop, and the response only the partitions
//                with news. SessionId + epoch -1 closes the session. Errors 70 FETCH_SESSION_ID_NOT_FOUND
//                and 71 INVALID_FETCH_SESSION_EPOCH (top-level) mean: start over with a full fetch.
//          v9+:  Partitions[CurrentLeaderEpoch] (KIP-320): the leader answers 74 FENCED_LEADER_EPOCH
//                (our metadata is stale) or 75 UNKNOWN_LEADER_EPOCH (the broker's is) instead of data.
//          v10+: the broker may send zstd batches (KIP-110); below v10 it answers 76
//                UNSUPPORTED_COMPRESSION_TYPE for a zstd topic.
//          v11+: RackId (KIP-392): lets the leader name a PreferredReadReplica in the response.
//          v12:  flexible; Partitions[LastFetchedEpoch]: the epoch of the last batch already fetched
//                (-1: none), checked against the leader's log to detect truncation (DivergingEpoch).
//                Tagged 0 ClusterId.
//          v13+: Topics[TopicId] and ForgottenTopicsData[TopicId] replace the topic names (KIP-516). Use
//                v13+ only when every topic's id is known (Metadata v10+); Kafka's client caps Fetch at
//                v12 otherwise. New errors: 100 UNKNOWN_TOPIC_ID, 103 INCONSISTENT_TOPIC_ID, 106
//                FETCH_SESSION_TOPIC_ID_ERROR.
//          v14:  same as v13; the broker may answer 109 OFFSET_MOVED_TO_TIERED_STORAGE (KIP-405).
//          v15+: ReplicaId removed; tagged 1 ReplicaState[ReplicaId, ReplicaEpoch] replaces it (KIP-903).
//                Consumers send neither (absent tag = ReplicaId -1).
//          v16:  same as v15 (the response gains NodeEndpoints, KIP-951).
//          v17+: Partitions tagged 0 ReplicaDirectoryId (KIP-853, followers only).
//          v18+: Partitions tagged 1 HighWatermark (KIP-1166, followers only; INT64_MAX = not sent).
// Response v4:   ThrottleTimeMs, Responses[Topic, Partitions[PartitionIndex, ErrorCode, HighWatermark,
//                LastStableOffset, AbortedTransactions[ProducerId, FirstOffset], Records]]
//          v5+:  Partitions[LogStartOffset]
//          v6+:  may carry 56 KAFKA_STORAGE_ERROR.
//          v7+:  top-level ErrorCode and SessionId (0: no session was opened).
//          v8+:  sent before throttling (KIP-219): wait ThrottleTimeMs before the next request to this
//          broker. v11+: Partitions[PreferredReadReplica] (-1: none); when set, fetch from that replica next
//          (the
//                leader sends no records with it).
//          v12:  flexible; Partitions tagged 0 DivergingEpoch[Epoch, EndOffset], 1 CurrentLeader[LeaderId,
//                LeaderEpoch], 2 SnapshotId[EndOffset, Epoch] (KIP-595/KIP-630: SnapshotId only from
//                KRaft controllers, meaning "fetch a snapshot first").
//          v13+: Responses[TopicId] replaces Responses[Topic].
//          v14, v15: same as v13.
//          v16+: tagged 0 NodeEndpoints[NodeId, Host, Port, Rack] (KIP-951): with CurrentLeader, where the
//                new leader is after 6 NOT_LEADER_OR_FOLLOWER or 74 FENCED_LEADER_EPOCH, without waiting
//                for a Metadata round trip.
//          v17, v18: same as v16.
// Records is a view into the buffer the response was decoded from: it is valid only as long as that buffer.
// It may start with a batch whose base offset is below FetchOffset (skip the records before it) and end with
// a truncated batch cut at the size limit (ignore it; the next fetch returns it whole).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/leader_hint.hpp"
#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct FetchResponse;

struct FetchRequest {
  static constexpr std::string_view name = "FetchRequest";
  static constexpr int16_t api_key = 1;
  static constexpr int16_t min_version = 4, max_version = 18, first_flexible = 12;
  using response_type = FetchResponse;

  static constexpr int8_t kReadUncommitted = 0;
  static constexpr int8_t kReadCommitted = 1;

  struct ReplicaState {
    int32_t replica_id = -1;
    int64_t replica_epoch = -1;
    friend bool operator==(const ReplicaState&, const ReplicaState&) = default;
  };
  struct FetchPartition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v9+
    int64_t fetch_offset = 0;
    int32_t last_fetched_epoch = -1;  // v12+
    int64_t log_start_offset = -1;    // v5+
    int32_t partition_max_bytes = 0;
    Uuid replica_directory_id;                                     // v17+, tag 0
    int64_t high_watermark = std::numeric_limits<int64_t>::max();  // v18+, tag 1
    friend bool operator==(const FetchPartition&, const FetchPartition&) = default;
  };
  struct FetchTopic {
    std::string topic;  // v4-12
    Uuid topic_id;      // v13+
    std::vector<FetchPartition> partitions;
    friend bool operator==(const FetchTopic&, const FetchTopic&) = default;
  };
  struct ForgottenTopic {
    std::string topic;  // v7-12
    Uuid topic_id;      // v13+
    std::vector<int32_t> partitions;
    friend bool operator==(const ForgottenTopic&, const ForgottenTopic&) = default;
  };

  std::optional<std::string> cluster_id;  // v12+, tag 0
  int32_t replica_id = -1;                // v4-14
  ReplicaState replica_state;             // v15+, tag 1
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;
  int8_t isolation_level = kReadUncommitted;
  int32_t session_id = 0;      // v7+
  int32_t session_epoch = -1;  // v7+
  std::vector<FetchTopic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;  // v7+
  std::string rack_id;                                // v11+

  friend bool operator==(const FetchRequest&, const FetchRequest&) = default;
};

template <class V>
void visit(V& v, FetchRequest::ReplicaState& m) {
  v.field("ReplicaId", m.replica_id);
  v.field("ReplicaEpoch", m.replica_epoch);
  v.tags();
}

template <class V>
void visit(V& v, FetchRequest::FetchPartition& m) {
  v.field("Partition", m.partition);
  if (v.version() >= 9) v.field("CurrentLeaderEpoch", m.current_leader_epoch);
  v.field("FetchOffset", m.fetch_offset);
  if (v.version() >= 12) v.field("LastFetchedEpoch", m.last_fetched_epoch);
  if (v.version() >= 5) v.field("LogStartOffset", m.log_start_offset);
  v.field("PartitionMaxBytes", m.partition_max_bytes);
  v.tags([&](auto& t) {
    if (v.version() >= 17) t.field(0, "ReplicaDirectoryId", m.replica_directory_id);
    if (v.version() >= 18) t.field(1, "HighWatermark", m.high_watermark, std::numeric_limits<int64_t>::max());
  });
}

template <class V>
void visit(V& v, FetchRequest::FetchTopic& m) {
  if (v.version() <= 12) v.field("Topic", m.topic);
  if (v.version() >= 13) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, FetchRequest::ForgottenTopic& m) {
  if (v.version() <= 12) v.field("Topic", m.topic);
  if (v.version() >= 13) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, FetchRequest& m) {
  if (v.version() <= 14) v.field("ReplicaId", m.replica_id);
  v.field("MaxWaitMs", m.max_wait_ms);
  v.field("MinBytes", m.min_bytes);
  v.field("MaxBytes", m.max_bytes);
  v.field("IsolationLevel", m.isolation_level);
  if (v.version() >= 7) {
    v.field("SessionId", m.session_id);
    v.field("SessionEpoch", m.session_epoch);
  }
  v.field("Topics", m.topics);
  if (v.version() >= 7) v.field("ForgottenTopicsData", m.forgotten_topics_data);
  if (v.version() >= 11) v.field("RackId", m.rack_id);
  v.tags([&](auto& t) {
    t.field(0, "ClusterId", m.cluster_id);
    if (v.version() >= 15) t.field(1, "ReplicaState", m.replica_state);
  });
}

struct FetchResponse {
  static constexpr std::string_view name = "FetchResponse";
  static constexpr int16_t api_key = 1;
  static constexpr int16_t min_version = 4, max_version = 18, first_flexible = 12;

  struct EpochEndOffset {
    int32_t epoch = -1;
    int64_t end_offset = -1;
    friend bool operator==(const EpochEndOffset&, const EpochEndOffset&) = default;
  };
  using LeaderIdAndEpoch = protocol::LeaderIdAndEpoch;  // leader_hint.hpp (KIP-951)
  struct SnapshotId {
    int64_t end_offset = -1;
    int32_t epoch = -1;
    friend bool operator==(const SnapshotId&, const SnapshotId&) = default;
  };
  struct AbortedTransaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
    friend bool operator==(const AbortedTransaction&, const AbortedTransaction&) = default;
  };
  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;    // v5+
    EpochEndOffset diverging_epoch;   // v12+, tag 0
    LeaderIdAndEpoch current_leader;  // v12+, tag 1
    SnapshotId snapshot_id;           // v12+, tag 2
    // Null on the wire unless the request was READ_COMMITTED; the schema default is empty.
    std::optional<std::vector<AbortedTransaction>> aborted_transactions = std::vector<AbortedTransaction>{};
    int32_t preferred_read_replica = -1;  // v11+
    Records records;
    friend bool operator==(const PartitionData&, const PartitionData&) = default;
  };
  struct FetchableTopicResponse {
    std::string topic;  // v4-12
    Uuid topic_id;      // v13+
    std::vector<PartitionData> partitions;
    friend bool operator==(const FetchableTopicResponse&, const FetchableTopicResponse&) = default;
  };
  using NodeEndpoint = protocol::NodeEndpoint;  // leader_hint.hpp (KIP-951)

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;  // v7+
  int32_t session_id = 0;  // v7+
  std::vector<FetchableTopicResponse> responses;
  std::vector<NodeEndpoint> node_endpoints;  // v16+, tag 0

  friend bool operator==(const FetchResponse&, const FetchResponse&) = default;
};

template <class V>
void visit(V& v, FetchResponse::EpochEndOffset& m) {
  v.field("Epoch", m.epoch);
  v.field("EndOffset", m.end_offset);
  v.tags();
}

template <class V>
void visit(V& v, FetchResponse::SnapshotId& m) {
  v.field("EndOffset", m.end_offset);
  v.field("Epoch", m.epoch);
  v.tags();
}

template <class V>
void visit(V& v, FetchResponse::AbortedTransaction& m) {
  v.field("ProducerId", m.producer_id);
  v.field("FirstOffset", m.first_offset);
  v.tags();
}

template <class V>
void visit(V& v, FetchResponse::PartitionData& m) {
  v.field("PartitionIndex", m.partition_index);
  v.field("ErrorCode", m.error_code);
  v.field("HighWatermark", m.high_watermark);
  v.field("LastStableOffset", m.last_stable_offset);
  if (v.version() >= 5) v.field("LogStartOffset", m.log_start_offset);
  v.field("AbortedTransactions", m.aborted_transactions);
  if (v.version() >= 11) v.field("PreferredReadReplica", m.preferred_read_replica);
  v.field("Records", m.records);
  v.tags([&](auto& t) {
    t.field(0, "DivergingEpoch", m.diverging_epoch);
    t.field(1, "CurrentLeader", m.current_leader);
    t.field(2, "SnapshotId", m.snapshot_id);
  });
}

template <class V>
void visit(V& v, FetchResponse::FetchableTopicResponse& m) {
  if (v.version() <= 12) v.field("Topic", m.topic);
  if (v.version() >= 13) v.field("TopicId", m.topic_id);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, FetchResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  if (v.version() >= 7) {
    v.field("ErrorCode", m.error_code);
    v.field("SessionId", m.session_id);
  }
  v.field("Responses", m.responses);
  v.tags([&](auto& t) {
    if (v.version() >= 16) t.field(0, "NodeEndpoints", m.node_endpoints);
  });
}

}  // namespace kafkawire::protocol
