// What the client knows about the cluster: brokers, topics, partitions, leaders, leader epochs, topic ids.
// Plain data, no I/O: the Pool fills it from Metadata responses and KIP-951 leader hints; tests fill it
// by hand.
//
// When to refresh (the error policy, protocol/error_policy.hpp, says it per API and error code): a leader
// moved (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, LEADER_NOT_AVAILABLE), a topic or topic id we do
// not know (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID), and every metadata.max.age.ms in any case.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/metadata.hpp"

namespace kafkawire::net {

struct BrokerInfo {
  int32_t node_id = -1;
  std::string host;
  uint16_t port = 0;
  std::optional<std::string> rack;
  friend bool operator==(const BrokerInfo&, const BrokerInfo&) = default;
};

struct PartitionInfo {
  int32_t partition = 0;
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  int16_t error_code = 0;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
};

struct TopicInfo {
  std::string name;
  protocol::Uuid id;
  int16_t error_code = 0;
  bool internal = false;
  std::vector<PartitionInfo> partitions;  // indexed by partition number
  std::chrono::steady_clock::time_point updated;
  bool stale = false;
};

class MetadataCache {
 public:
  using clock = std::chrono::steady_clock;

  // Takes in a Metadata response. Topics it names replace what was known of them; brokers are replaced
  // as a whole (a broker that left the cluster is gone).
  void update(const protocol::MetadataResponse& m, clock::time_point now = clock::now());
  // A leader hint from a Fetch or Produce response (KIP-951): taken when its epoch is newer.
  void apply_leader_hint(std::string_view topic, int32_t partition, int32_t leader, int32_t leader_epoch);
  void add_broker(BrokerInfo b) { brokers_[b.node_id] = std::move(b); }

  const BrokerInfo* broker(int32_t node_id) const;
  const std::map<int32_t, BrokerInfo>& brokers() const { return brokers_; }
  const TopicInfo* topic(std::string_view name) const;
  const TopicInfo* topic_by_id(const protocol::Uuid& id) const;
  const std::map<std::string, TopicInfo, std::less<>>& topics() const { return topics_; }
  // The leader of a partition, if known and the partition has one.
  std::optional<int32_t> leader(std::string_view topic, int32_t partition) const;
  const std::optional<std::string>& cluster_id() const { return cluster_id_; }
  int32_t controller_id() const { return controller_id_; }

  void mark_stale(std::string_view topic);
  // True when the topic is unknown, marked stale, or older than max_age.
  bool needs_refresh(std::string_view topic, std::chrono::milliseconds max_age,
                     clock::time_point now = clock::now()) const;

 private:
  std::map<int32_t, BrokerInfo> brokers_;
  std::map<std::string, TopicInfo, std::less<>> topics_;
  std::optional<std::string> cluster_id_;
  int32_t controller_id_ = -1;
};

}  // namespace kafkawire::net
