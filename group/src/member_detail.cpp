// Small helpers GroupMember's files share: sets of partitions by topic, and texts for logs and records.
#include "member_detail.hpp"

#include <algorithm>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire::group::detail {

bool is_fatal_group_error(errc c) {
  switch (c) {
    case errc::inconsistent_group_protocol:
    case errc::invalid_group_id:
    case errc::invalid_session_timeout:
    case errc::group_authorization_failed:
    case errc::group_max_size_reached:
    case errc::fenced_instance_id:
      return true;
    default:
      return false;
  }
}

std::string error_name(errc c) {
  if (const KafkaErrorInfo* info = find_kafka_error(static_cast<int16_t>(c))) return std::string(info->name);
  return "error " + std::to_string(static_cast<int16_t>(c));
}

std::string ms_text(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

std::vector<std::string> normalized(std::vector<std::string> topics) {
  std::erase_if(topics, [](const std::string& t) { return t.empty(); });
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  return topics;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// ---------------------------------------------------------------------- sets of partitions, by topic

std::vector<TopicPartition> to_vector(const PartitionSet& s) {
  std::vector<TopicPartition> v;
  for (const auto& [topic, parts] : s)
    for (int32_t p : parts) v.push_back({topic, p});
  return v;
}

size_t size_of(const PartitionSet& s) {
  size_t n = 0;
  for (const auto& [topic, parts] : s) n += parts.size();
  return n;
}

bool contains(const PartitionSet& s, const TopicPartition& tp) {
  auto it = s.find(tp.topic);
  return it != s.end() && it->second.count(tp.partition) != 0;
}

void merge(PartitionSet& into, const PartitionSet& more) {
  for (const auto& [topic, parts] : more) into[topic].insert(parts.begin(), parts.end());
}

PartitionSet difference(const PartitionSet& a, const PartitionSet& b) {
  PartitionSet out;
  for (const auto& [topic, parts] : a)
    for (int32_t p : parts)
      if (!contains(b, {topic, p})) out[topic].insert(p);
  return out;
}

PartitionSet intersect(const PartitionSet& a, const PartitionSet& b) {
  PartitionSet out;
  for (const auto& [topic, parts] : a)
    for (int32_t p : parts)
      if (contains(b, {topic, p})) out[topic].insert(p);
  return out;
}

void erase_all(PartitionSet& from, const PartitionSet& gone) {
  for (const auto& [topic, parts] : gone) {
    auto it = from.find(topic);
    if (it == from.end()) continue;
    for (int32_t p : parts) it->second.erase(p);
    if (it->second.empty()) from.erase(it);
  }
}

void erase_one(PartitionSet& from, const TopicPartition& tp) {
  erase_all(from, PartitionSet{{tp.topic, {tp.partition}}});
}

std::string describe(const PartitionSet& s) {
  if (s.empty()) return "none";
  std::string out;
  for (const auto& [topic, parts] : s) {
    if (!out.empty()) out += ' ';
    out += topic + '[';
    bool first = true;
    for (int32_t p : parts) {
      out += (first ? "" : ",") + std::to_string(p);
      first = false;
    }
    out += ']';
  }
  return out;
}

std::string describe(const std::vector<TopicPartition>& v) {
  PartitionSet s;
  for (const auto& tp : v) s[tp.topic].insert(tp.partition);
  return std::to_string(v.size()) + (v.empty() ? "" : " " + describe(s));
}

const PartitionAnswer* answer_for(const std::vector<PartitionAnswer>& answers, size_t i,
                                  const TopicPartition& tp) {
  if (i < answers.size() && answers[i].tp == tp) return &answers[i];
  for (const auto& a : answers)
    if (a.tp.partition == tp.partition && a.tp == tp) return &a;
  return nullptr;
}

}  // namespace kafkawire::group::detail
