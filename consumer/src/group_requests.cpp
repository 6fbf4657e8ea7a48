// Builds the group requests at the negotiated version: see group_requests.hpp.
#include "kafkawire/consumer/group_requests.hpp"

#include <algorithm>
#include <climits>
#include <map>

namespace kafkawire::group_requests {

namespace act = group::action;
namespace ev = group::event;

namespace {

int32_t to_ms32(std::chrono::milliseconds d) {
  return static_cast<int32_t>(std::clamp<int64_t>(d.count(), 0, INT32_MAX));
}

std::string name_of_topic(const std::string& name, const protocol::Uuid& id, const TopicNameOf& name_of) {
  if (!name.empty() || id == protocol::Uuid{} || !name_of) return name;
  return name_of(id);
}

}  // namespace

protocol::JoinGroupRequest join_group_request(const act::SendJoinGroup& a, int16_t version) {
  protocol::JoinGroupRequest r;
  r.group_id = a.group_id;
  r.session_timeout_ms = to_ms32(a.session_timeout);
  if (version >= 1) r.rebalance_timeout_ms = to_ms32(a.rebalance_timeout);
  r.member_id = a.member_id;
  if (version >= 5) r.group_instance_id = a.group_instance_id;
  r.protocol_type = a.protocol_type;
  for (const auto& p : a.protocols) r.protocols.push_back({p.name, protocol::Bytes(p.metadata)});
  if (version >= 8 && !a.reason.empty()) r.reason = a.reason;
  return r;
}

protocol::SyncGroupRequest sync_group_request(const act::SendSyncGroup& a, int16_t version) {
  protocol::SyncGroupRequest r;
  r.group_id = a.group_id;
  r.generation_id = a.generation;
  r.member_id = a.member_id;
  if (version >= 3) r.group_instance_id = a.group_instance_id;
  if (version >= 5) {
    r.protocol_type = a.protocol_type;
    r.protocol_name = a.protocol_name;
  }
  for (const auto& m : a.assignments) r.assignments.push_back({m.member_id, protocol::Bytes(m.assignment)});
  return r;
}

protocol::HeartbeatRequest heartbeat_request(const act::SendHeartbeat& a, int16_t version) {
  protocol::HeartbeatRequest r;
  r.group_id = a.group_id;
  r.generation_id = a.generation;
  r.member_id = a.member_id;
  if (version >= 3) r.group_instance_id = a.group_instance_id;
  return r;
}

// v0-2 name the one member leaving; v3+ a batch of members (KIP-345), each with a reason from v5.
protocol::LeaveGroupRequest leave_group_request(const act::SendLeaveGroup& a, int16_t version) {
  protocol::LeaveGroupRequest r;
  r.group_id = a.group_id;
  if (version <= 2) {
    r.member_id = a.member_id;
  } else {
    protocol::LeaveGroupRequest::MemberIdentity m;
    m.member_id = a.member_id;
    if (version >= 5) m.reason = a.reason;
    r.members.push_back(std::move(m));
  }
  return r;
}

protocol::OffsetCommitQuery offset_commit_query(const act::SendOffsetCommit& a, const TopicIdOf& id_of) {
  protocol::OffsetCommitQuery q;
  q.group_id = a.group_id;
  q.generation_id_or_member_epoch = a.generation;
  q.member_id = a.member_id;
  q.group_instance_id = a.group_instance_id;
  for (const auto& o : a.offsets)
    q.offsets.push_back({o.tp.topic, id_of ? id_of(o.tp.topic) : protocol::Uuid{}, o.tp.partition, o.offset,
                         o.leader_epoch, o.metadata});
  return q;
}

protocol::OffsetFetchQuery offset_fetch_query(const act::SendOffsetFetch& a, const TopicIdOf& id_of) {
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : a.partitions) by_topic[tp.topic].push_back(tp.partition);
  protocol::OffsetFetchQuery q;
  q.group_id = a.group_id;
  q.require_stable = a.require_stable;
  for (auto& [topic, parts] : by_topic)
    q.topics->push_back({topic, id_of ? id_of(topic) : protocol::Uuid{}, std::move(parts)});
  return q;
}

protocol::OffsetFetchQuery offset_fetch_query(const group::consumer_group::action::SendOffsetFetch& a,
                                              const TopicIdOf& id_of) {
  auto q = offset_fetch_query(act::SendOffsetFetch{a.tag, a.node, a.group_id, a.partitions, a.require_stable},
                              id_of);
  if (!a.member_id.empty()) {
    q.member_id = a.member_id;
    q.member_epoch = a.member_epoch;
  }
  return q;
}

int16_t max_version(const protocol::OffsetCommitQuery& q) {
  return protocol::offset_api_max_version(std::all_of(
      q.offsets.begin(), q.offsets.end(), [](const auto& o) { return o.topic_id != protocol::Uuid{}; }));
}

int16_t max_version(const protocol::OffsetFetchQuery& q) {
  return protocol::offset_api_max_version(
      !q.topics || std::all_of(q.topics->begin(), q.topics->end(),
                               [](const auto& t) { return t.topic_id != protocol::Uuid{}; }));
}

ev::OffsetCommitResult offset_commit_result(group::Tag tag, uint64_t id,
                                            const std::vector<protocol::CommitAnswer>& answers,
                                            const TopicNameOf& name_of) {
  ev::OffsetCommitResult r{tag, id, {}};
  r.partitions.reserve(answers.size());
  for (const auto& p : answers)
    r.partitions.push_back({{name_of_topic(p.topic, p.topic_id, name_of), p.partition}, p.error_code});
  return r;
}

ev::OffsetFetchResult offset_fetch_result(group::Tag tag, const protocol::OffsetFetchAnswer& answer,
                                          const TopicNameOf& name_of) {
  ev::OffsetFetchResult r{tag, answer.error_code, {}};
  r.partitions.reserve(answer.partitions.size());
  for (const auto& p : answer.partitions)
    r.partitions.push_back({{name_of_topic(p.topic, p.topic_id, name_of), p.partition},
                            p.offset,
                            p.leader_epoch,
                            p.metadata,
                            p.error_code});
  return r;
}

}  // namespace kafkawire::group_requests
