#include "kafkawire/net/metadata_cache.hpp"

#include <algorithm>

namespace kafkawire::net {

void MetadataCache::update(const protocol::MetadataResponse& m, clock::time_point now) {
  brokers_.clear();
  for (const auto& b : m.brokers)
    brokers_[b.node_id] = BrokerInfo{b.node_id, b.host, static_cast<uint16_t>(b.port), b.rack};
  cluster_id_ = m.cluster_id;
  controller_id_ = m.controller_id;
  for (const auto& t : m.topics) {
    if (!t.name) continue;  // v12+ may leave names out when asked by id; we always ask by name
    TopicInfo info;
    info.name = *t.name;
    info.id = t.topic_id;
    info.error_code = t.error_code;
    info.internal = t.is_internal;
    info.updated = now;
    // Indexed by partition number. A broker lists every partition of a topic, so an index past the count
    // listed is hostile (INT32_MAX would overflow and ask for a 2^31-entry vector): it is ignored.
    size_t count = 0;
    for (const auto& p : t.partitions)
      if (p.partition_index >= 0 && static_cast<size_t>(p.partition_index) < t.partitions.size())
        count = std::max(count, static_cast<size_t>(p.partition_index) + 1);
    info.partitions.resize(count);
    for (const auto& p : t.partitions) {
      if (p.partition_index < 0 || static_cast<size_t>(p.partition_index) >= count) continue;
      auto& pi = info.partitions[static_cast<size_t>(p.partition_index)];
      pi = PartitionInfo{p.partition_index, p.leader_id,     p.leader_epoch,
                         p.error_code,      p.replica_nodes, p.isr_nodes};
    }
    topics_[info.name] = std::move(info);
  }
}

void MetadataCache::apply_leader_hint(std::string_view topic, int32_t partition, int32_t leader,
                                      int32_t leader_epoch) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size())
    return;
  auto& p = it->second.partitions[static_cast<size_t>(partition)];
  if (leader >= 0 && leader_epoch > p.leader_epoch) {
    p.leader = leader;
    p.leader_epoch = leader_epoch;
  }
}

const BrokerInfo* MetadataCache::broker(int32_t node_id) const {
  auto it = brokers_.find(node_id);
  return it == brokers_.end() ? nullptr : &it->second;
}

const TopicInfo* MetadataCache::topic(std::string_view name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

const TopicInfo* MetadataCache::topic_by_id(const protocol::Uuid& id) const {
  for (const auto& [name, t] : topics_)
    if (t.id == id) return &t;
  return nullptr;
}

std::optional<int32_t> MetadataCache::leader(std::string_view topic, int32_t partition) const {
  const TopicInfo* t = this->topic(topic);
  if (!t || partition < 0 || static_cast<size_t>(partition) >= t->partitions.size()) return std::nullopt;
  const int32_t l = t->partitions[static_cast<size_t>(partition)].leader;
  if (l < 0) return std::nullopt;
  return l;
}

void MetadataCache::mark_stale(std::string_view topic) {
  auto it = topics_.find(topic);
  if (it != topics_.end()) it->second.stale = true;
}

bool MetadataCache::needs_refresh(std::string_view topic, std::chrono::milliseconds max_age,
                                  clock::time_point now) const {
  const TopicInfo* t = this->topic(topic);
  return !t || t->stale || now - t->updated >= max_age;
}

}  // namespace kafkawire::net
