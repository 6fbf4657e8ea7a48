// The consumer protocol ("consumer" ProtocolType of the classic group protocol): what a consumer puts in
// JoinGroup's Protocols[].Metadata (a Subscription) and what the leader puts in SyncGroup's
// Assignments[].Assignment (an Assignment). The broker never looks inside; only consumers read them. On
// the wire each is an int16 version followed by the struct at that version, never flexible: use
// encode_versioned() / decode_versioned(), not encode() / decode().
//
// Subscription v0:   Topics, UserData
//              v1+:  OwnedPartitions[Topic, Partitions] (cooperative rebalancing, KIP-429)
//              v2+:  GenerationId (of the OwnedPartitions, so stale ones can be told apart; KIP-792)
//              v3+:  RackId (rack-aware assignment, KIP-881)
// Assignment   v0:   AssignedPartitions[Topic, Partitions], UserData
//              v1-3: same as v0 (bumped along with the Subscription)
// Versions are only ever extended at the end, so a version newer than 3 is read with the v3 layout and
// its extra bytes ignored: that is how Kafka's ConsumerProtocol lets members of different releases share
// a group.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ConsumerProtocolSubscription {
  static constexpr std::string_view name = "ConsumerProtocolSubscription";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = kNeverFlexible;

  struct TopicPartition {
    std::string topic;
    std::vector<int32_t> partitions;
    friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  };

  std::vector<std::string> topics;
  std::optional<Bytes> user_data;
  std::vector<TopicPartition> owned_partitions;  // v1+
  int32_t generation_id = -1;                    // v2+
  std::optional<std::string> rack_id;            // v3+

  friend bool operator==(const ConsumerProtocolSubscription&, const ConsumerProtocolSubscription&) = default;
};

template <class V>
void visit(V& v, ConsumerProtocolSubscription::TopicPartition& m) {
  v.field("Topic", m.topic);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerProtocolSubscription& m) {
  v.field("Topics", m.topics);
  v.field("UserData", m.user_data);
  if (v.version() >= 1) v.field("OwnedPartitions", m.owned_partitions);
  if (v.version() >= 2) v.field("GenerationId", m.generation_id);
  if (v.version() >= 3) v.field("RackId", m.rack_id);
  v.tags();
}

struct ConsumerProtocolAssignment {
  static constexpr std::string_view name = "ConsumerProtocolAssignment";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = kNeverFlexible;

  struct TopicPartition {
    std::string topic;
    std::vector<int32_t> partitions;
    friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  };

  std::vector<TopicPartition> assigned_partitions;
  std::optional<Bytes> user_data;

  friend bool operator==(const ConsumerProtocolAssignment&, const ConsumerProtocolAssignment&) = default;
};

template <class V>
void visit(V& v, ConsumerProtocolAssignment::TopicPartition& m) {
  v.field("Topic", m.topic);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerProtocolAssignment& m) {
  v.field("AssignedPartitions", m.assigned_partitions);
  v.field("UserData", m.user_data);
  v.tags();
}

// The int16 version, then m at that version (0-3). An empty vector and *ec set when it cannot be
// encoded (a version outside 0-3).
std::vector<uint8_t> encode_versioned(const ConsumerProtocolSubscription& m, int16_t version,
                                      std::error_code* ec = nullptr);
std::vector<uint8_t> encode_versioned(const ConsumerProtocolAssignment& m, int16_t version,
                                      std::error_code* ec = nullptr);

// Reads the int16 version and the struct. A version above 3 is read with the v3 layout and what follows
// is ignored; for versions 0-3 bytes left over are an error (trailing_bytes), as in decode(). A negative
// version is unsupported_version. *version_out gets the version on the wire (possibly above 3) as soon as
// it is read. m is assigned only on success; its Bytes point into b.
std::error_code decode_versioned(Bytes b, ConsumerProtocolSubscription& m, int16_t* version_out = nullptr);
std::error_code decode_versioned(Bytes b, ConsumerProtocolAssignment& m, int16_t* version_out = nullptr);

}  // namespace kafkawire::protocol
