#include "kafkawire/protocol/offset_requests.hpp"

#include <algorithm>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire::protocol {

OffsetFetchRequest make_offset_fetch_request(const OffsetFetchQuery& query, int16_t version) {
  OffsetFetchRequest r;
  r.require_stable = query.require_stable;
  if (version >= 8) {
    OffsetFetchRequest::OffsetFetchRequestGroup g;
    g.group_id = query.group_id;
    if (version >= 9) {
      g.member_id = query.member_id;
      g.member_epoch = query.member_epoch;
    }
    if (query.topics) {
      g.topics.emplace();
      for (const auto& t : *query.topics) g.topics->push_back({t.topic, t.topic_id, t.partitions});
    } else {
      g.topics.reset();
    }
    r.groups.push_back(std::move(g));
  } else {
    r.group_id = query.group_id;
    if (query.topics) {
      r.topics.emplace();
      for (const auto& t : *query.topics) r.topics->push_back({t.topic, t.partitions});
    } else {
      r.topics.reset();  // v1 cannot say "all topics": encoding refuses it (not_nullable)
    }
  }
  return r;
}

OffsetFetchAnswer read_offset_fetch_response(const OffsetFetchResponse& response, std::string_view group_id,
                                             int16_t version) {
  OffsetFetchAnswer out;
  auto take = [&](const std::string& name, const Uuid& id, const auto& p) {
    out.partitions.push_back(
        {name, id, p.partition_index,
         p.committed_offset >= 0 ? std::optional<int64_t>(p.committed_offset) : std::nullopt,
         p.committed_leader_epoch, p.metadata, p.error_code});
  };
  if (version < 8) {
    out.error_code = response.error_code;
    for (const auto& t : response.topics)
      for (const auto& p : t.partitions) take(t.name, Uuid{}, p);
    return out;
  }
  auto g = std::find_if(response.groups.begin(), response.groups.end(),
                        [&](const auto& x) { return x.group_id == group_id; });
  if (g == response.groups.end()) {
    out.error_code = static_cast<int16_t>(kafka_errc::unknown_server_error);
    return out;
  }
  out.error_code = g->error_code;
  for (const auto& t : g->topics)
    for (const auto& p : t.partitions) take(version >= 10 ? std::string() : t.name, t.topic_id, p);
  return out;
}

OffsetCommitRequest make_offset_commit_request(const OffsetCommitQuery& query, int16_t version) {
  (void)version;  // every field is set; each version writes its own (Name to v9, TopicId from v10)
  OffsetCommitRequest r;
  r.group_id = query.group_id;
  r.generation_id_or_member_epoch = query.generation_id_or_member_epoch;
  r.member_id = query.member_id;
  r.group_instance_id = query.group_instance_id;
  for (const auto& o : query.offsets) {
    auto t = std::find_if(r.topics.begin(), r.topics.end(), [&](const auto& x) { return x.name == o.topic; });
    if (t == r.topics.end()) t = r.topics.insert(r.topics.end(), {o.topic, o.topic_id, {}});
    t->partitions.push_back({o.partition, o.offset, o.leader_epoch, o.metadata});
  }
  return r;
}

std::vector<CommitAnswer> read_offset_commit_response(const OffsetCommitResponse& response, int16_t version) {
  std::vector<CommitAnswer> out;
  for (const auto& t : response.topics)
    for (const auto& p : t.partitions)
      out.push_back({version >= 10 ? std::string() : t.name, t.topic_id, p.partition_index, p.error_code});
  return out;
}

}  // namespace kafkawire::protocol
