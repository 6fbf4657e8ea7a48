// The offset client: see offset_client.hpp. Requests to the group coordinator go through
// net::send_to_coordinator; ListOffsets goes to each partition's leader with one retry loop here.
#include "kafkawire/consumer/offset_client.hpp"

#include <algorithm>
#include <set>

#include "kafkawire/net/coordinator_request.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/list_offsets.hpp"
#include "kafkawire/protocol/offset_requests.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using clock = std::chrono::steady_clock;

namespace {

net::RetryBudget budget_of(const OffsetClientOptions& o) {
  return net::RetryBudget(clock::now() + o.timeout, o.retry_backoff, o.retry_backoff_max);
}

// A topic named by id only (v10 answers): its name from the metadata ("" when unknown).
std::string topic_name(const net::Pool& pool, const std::string& name, const proto::Uuid& id) {
  if (!name.empty()) return name;
  if (const auto* t = pool.metadata().topic_by_id(id)) return t->name;
  return {};
}

// Topic ids from the metadata for the v10 requests, and whether every one is known.
bool fill_topic_ids(const net::Pool& pool, std::vector<proto::TopicPartitions>& topics) {
  bool all = true;
  for (auto& t : topics) {
    if (const auto* info = pool.metadata().topic(t.topic); info && info->id != proto::Uuid{})
      t.topic_id = info->id;
    else
      all = false;
  }
  return all;
}

std::string error_name(std::error_code ec) {
  if (ec.category() == kafka_category())
    if (const auto* e = find_kafka_error(static_cast<int16_t>(ec.value()))) return std::string(e->name);
  return ec.message();
}

}  // namespace

std::string partition_list(const std::vector<TopicPartition>& partitions) {
  std::string s;
  for (const auto& tp : partitions) s += (s.empty() ? "" : ", ") + to_string(tp);
  return s;
}

std::string commit_failure_text(std::string_view group, int32_t generation,
                                const std::vector<group::CommitOutcome>& outcomes) {
  std::map<std::string, std::vector<TopicPartition>> by_reason;
  for (const auto& r : outcomes) {
    if (!r.ec) continue;
    std::string reason;
    if (r.ec == client_errc::not_assigned) {
      reason = "no longer assigned to this member (the group gave them to another member in a rebalance)";
    } else if (r.ec == kafka_errc::illegal_generation || r.ec == kafka_errc::unknown_member_id ||
               r.ec == kafka_errc::rebalance_in_progress) {
      reason = "the group's generation changed (" + error_name(r.ec) + " for generation " +
               std::to_string(generation) + "): the member rejoins; commit again after the next poll";
    } else {
      reason = r.ec.message();
    }
    by_reason[reason].push_back(r.tp);
  }
  std::string text = "commit to group " + std::string(group) + " refused: ";
  bool first = true;
  for (const auto& [reason, tps] : by_reason) {
    text += (first ? "" : "; ") + partition_list(tps) + ": " + reason;
    first = false;
  }
  return text;
}

// ------------------------------------------------------------------------------------------ OffsetCommit

OffsetClient::Result<OffsetClient::CommitOutcomes> OffsetClient::commit_impl(
    std::shared_ptr<net::Pool> pool, OffsetClientOptions options, std::vector<group::OffsetToCommit> offsets,
    int32_t generation, std::string member_id) {
  OffsetResult<CommitOutcomes> out;
  if (options.group_id.empty()) {
    out.ec = client_errc::invalid_config;
    out.error_text = "commit needs group.id";
    co_return out;
  }
  if (offsets.empty()) co_return out;
  proto::OffsetCommitQuery query;
  query.group_id = options.group_id;
  query.generation_id_or_member_epoch = generation;
  query.member_id = std::move(member_id);
  query.group_instance_id = options.group_instance_id;
  bool ids_known = true;
  for (const auto& o : offsets) {
    proto::Uuid id;
    if (const auto* info = pool->metadata().topic(o.tp.topic); info && info->id != proto::Uuid{})
      id = info->id;
    else
      ids_known = false;
    query.offsets.push_back({o.tp.topic, id, o.tp.partition, o.offset, o.leader_epoch, o.metadata});
  }
  auto [ec, reply] = co_await net::send_to_coordinator<proto::OffsetCommitRequest>(
      *pool, options.group_id, ApiFamily::offset_commit, budget_of(options),
      [&](int16_t version) { return proto::make_offset_commit_request(query, version); },
      [](const net::ReplyTo<proto::OffsetCommitRequest>& r) {
        // No group error code: a group-level failure is repeated in every partition.
        for (const auto& t : r->topics)
          for (const auto& p : t.partitions)
            if (p.error_code) return make_kafka_error(p.error_code);
        return std::error_code{};
      },
      proto::offset_api_max_version(ids_known));
  std::vector<TopicPartition> all;
  for (const auto& o : offsets) all.push_back(o.tp);
  if (ec) {
    for (const auto& o : offsets) out.value.push_back({o.tp, o.offset, ec});
    out.ec = ec;
    out.error_text =
        "commit " + partition_list(all) + " to group " + options.group_id + ": " + pool->describe(ec);
    co_return out;
  }
  const auto answers = proto::read_offset_commit_response(reply.message, reply.version);
  for (const auto& o : offsets) {
    std::error_code pec = client_errc::malformed;  // the answer left it out
    for (const auto& a : answers)
      if (a.partition == o.tp.partition && topic_name(*pool, a.topic, a.topic_id) == o.tp.topic)
        pec = a.error_code ? make_kafka_error(a.error_code) : std::error_code{};
    out.value.push_back({o.tp, o.offset, pec});
    if (pec && !out.ec) out.ec = pec;
  }
  if (out.ec) out.error_text = commit_failure_text(options.group_id, generation, out.value);
  co_return out;
}

// ------------------------------------------------------------------------------------------- OffsetFetch

namespace {

// The group error, else the first partition's (UNSTABLE_OFFSET_COMMIT is per partition).
std::error_code fetch_error(const proto::OffsetFetchAnswer& a) {
  if (a.error_code) return make_kafka_error(a.error_code);
  for (const auto& p : a.partitions)
    if (p.error_code) return make_kafka_error(p.error_code);
  return {};
}

struct FetchOutcome {
  std::error_code ec;
  std::string error_text;
  proto::OffsetFetchAnswer answer;
};

// One OffsetFetch through the coordinator, with names filled in for v10 answers.
boost::asio::awaitable<FetchOutcome> fetch_offsets(std::shared_ptr<net::Pool> pool,
                                                   const OffsetClientOptions& options,
                                                   proto::OffsetFetchQuery query, int16_t max_version) {
  FetchOutcome out;
  const std::string group = options.group_id;
  auto [ec, reply] = co_await net::send_to_coordinator<proto::OffsetFetchRequest>(
      *pool, group, ApiFamily::offset_fetch, budget_of(options),
      [&](int16_t version) { return proto::make_offset_fetch_request(query, version); },
      [&](const net::ReplyTo<proto::OffsetFetchRequest>& r) {
        return fetch_error(proto::read_offset_fetch_response(r.message, group, r.version));
      },
      max_version);
  if (ec) {
    out.ec = ec;
    out.error_text = "committed offsets of group " + group + ": " + pool->describe(ec);
    co_return out;
  }
  out.answer = proto::read_offset_fetch_response(reply.message, group, reply.version);
  for (auto& p : out.answer.partitions) p.topic = topic_name(*pool, p.topic, p.topic_id);
  if (auto fec = fetch_error(out.answer)) {
    out.ec = fec;
    std::vector<TopicPartition> failed;
    for (const auto& p : out.answer.partitions)
      if (p.error_code) failed.push_back({p.topic, p.partition});
    out.error_text = "committed offsets of group " + group + ": " +
                     (failed.empty() || out.answer.error_code ? "" : partition_list(failed) + ": ") +
                     error_name(fec);
  }
  co_return out;
}

}  // namespace

OffsetClient::Result<OffsetClient::Committed> OffsetClient::committed_impl(
    std::shared_ptr<net::Pool> pool, OffsetClientOptions options, std::vector<TopicPartition> partitions) {
  OffsetResult<Committed> out;
  if (options.group_id.empty()) {
    out.ec = client_errc::invalid_config;
    out.error_text = "committed offsets need group.id";
    co_return out;
  }
  proto::OffsetFetchQuery query;
  query.group_id = options.group_id;
  query.require_stable = true;  // wait out pending transactional commits (KIP-447)
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& tp : partitions) by_topic[tp.topic].push_back(tp.partition);
  for (auto& [name, parts] : by_topic) query.topics->push_back({name, {}, std::move(parts)});
  const bool ids_known = fill_topic_ids(*pool, *query.topics);
  auto r = co_await fetch_offsets(pool, options, std::move(query), proto::offset_api_max_version(ids_known));
  out.ec = r.ec;
  out.error_text = std::move(r.error_text);
  if (!out.ec)
    for (const auto& p : r.answer.partitions) out.value[{p.topic, p.partition}] = p.offset;
  co_return out;
}

OffsetClient::Result<std::map<TopicPartition, int64_t>> OffsetClient::committed_all_impl(
    std::shared_ptr<net::Pool> pool, OffsetClientOptions options) {
  OffsetResult<std::map<TopicPartition, int64_t>> out;
  proto::OffsetFetchQuery query;
  query.group_id = options.group_id;
  query.topics.reset();
  // Capped at v9: a v10 answer names topics by id, which the metadata may not know yet.
  auto r = co_await fetch_offsets(pool, options, std::move(query), 9);
  out.ec = r.ec;
  out.error_text = std::move(r.error_text);
  if (!out.ec)
    for (const auto& p : r.answer.partitions)
      if (p.offset) out.value[{p.topic, p.partition}] = *p.offset;
  co_return out;
}

// ------------------------------------------------------------------------------------------- ListOffsets

OffsetClient::Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>
OffsetClient::offsets_for_times_impl(std::shared_ptr<net::Pool> pool, OffsetClientOptions options,
                                     std::map<TopicPartition, int64_t> timestamps) {
  OffsetResult<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> out;
  auto& found = out.value;
  auto fail = [&](std::error_code ec, std::string text) {
    out.ec = ec;
    out.error_text = std::move(text);
  };
  net::RetryBudget budget = budget_of(options);
  std::string last_problem;  // why the last attempt left partitions without an answer
  for (;;) {
    std::vector<std::string> topics;
    for (const auto& [tp, ts] : timestamps)
      if (!found.count(tp)) topics.push_back(tp.topic);
    if (topics.empty()) co_return out;
    std::sort(topics.begin(), topics.end());
    topics.erase(std::unique(topics.begin(), topics.end()), topics.end());

    bool retry = false;
    if (auto [ec, none] = co_await pool->refresh_metadata(topics); ec) {
      if (!is_retry(error_action(ApiFamily::metadata, ec))) {
        fail(ec, "ListOffsets: metadata: " + pool->describe(ec));
        co_return out;
      }
      last_problem = "metadata: " + pool->describe(ec);
      retry = true;
    } else {
      // One ListOffsets per leader.
      std::map<int32_t, proto::ListOffsetsRequest> by_leader;
      for (const auto& [tp, ts] : timestamps) {
        if (found.count(tp)) continue;
        const auto leader = pool->metadata().leader(tp.topic, tp.partition);
        if (!leader) {
          const auto* t = pool->metadata().topic(tp.topic);
          if (!t || as_errc(t->error_code) == kafka_errc::unknown_topic_or_partition) {
            fail(client_errc::unknown_topic, tp.topic + ": the cluster has no such topic");
            co_return out;
          }
          last_problem = to_string(tp) + ": no leader";
          retry = true;
          continue;
        }
        auto& req = by_leader[*leader];
        req.replica_id = -1;
        req.isolation_level = options.isolation_level;
        req.timeout_ms = static_cast<int32_t>(options.request_timeout.count());
        auto t = std::find_if(req.topics.begin(), req.topics.end(),
                              [&](const auto& x) { return x.name == tp.topic; });
        if (t == req.topics.end()) t = req.topics.insert(req.topics.end(), {tp.topic, {}});
        t->partitions.push_back({tp.partition, -1, ts});
      }
      for (auto& [leader, req] : by_leader) {
        auto [ec, reply] = co_await pool->send(leader, net::Purpose::general, req);
        if (ec) {
          if (!is_retry(error_action(ApiFamily::list_offsets, ec))) {
            fail(ec, "ListOffsets to broker " + std::to_string(leader) + ": " + pool->describe(ec));
            co_return out;
          }
          last_problem = "broker " + std::to_string(leader) + ": " + pool->describe(ec);
          retry = true;
          continue;
        }
        for (const auto& t : reply->topics)
          for (const auto& p : t.partitions) {
            const TopicPartition tp{t.name, p.partition_index};
            switch (error_action(ApiFamily::list_offsets, p.error_code)) {
              case ErrorAction::none:
                found[tp] = p.offset < 0
                                ? std::nullopt
                                : std::optional<OffsetAndTimestamp>({p.offset, p.timestamp, p.leader_epoch});
                break;
              case ErrorAction::refresh_metadata:
                pool->metadata().mark_stale(t.name);
                [[fallthrough]];
              case ErrorAction::retry:
              case ErrorAction::find_coordinator:
                last_problem = to_string(tp) + ": " + error_name(make_kafka_error(p.error_code));
                retry = true;
                break;
              case ErrorAction::rejoin:
              case ErrorAction::fatal:
                fail(make_kafka_error(p.error_code),
                     to_string(tp) + ": ListOffsets: " + error_name(make_kafka_error(p.error_code)));
                co_return out;
            }
          }
      }
    }
    if (!retry) co_return out;
    if (!co_await net::wait_to_retry(pool->get_executor(), budget)) {
      std::vector<TopicPartition> missing;
      for (const auto& [tp, ts] : timestamps)
        if (!found.count(tp)) missing.push_back(tp);
      fail(client_errc::timeout, "ListOffsets: no answer for " + partition_list(missing) + " within " +
                                     std::to_string(options.timeout.count()) + " ms (last: " + last_problem +
                                     ")");
      co_return out;
    }
  }
}

}  // namespace kafkawire
