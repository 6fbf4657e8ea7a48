#include "kafkawire/consumer/fetch_session.hpp"

#include <algorithm>
#include <limits>

#include "kafkawire/protocol/list_offsets.hpp"

namespace kafkawire::fetch {

namespace proto = kafkawire::protocol;

std::string_view to_string(PartitionAction a) {
  switch (a) {
    case PartitionAction::buffer:
      return "buffer";
    case PartitionAction::refresh_metadata:
      return "refresh_metadata";
    case PartitionAction::reset_offset:
      return "reset_offset";
    case PartitionAction::fail:
      return "fail";
  }
  return "?";
}

std::string_view to_string(SessionAction a) {
  switch (a) {
    case SessionAction::proceed:
      return "proceed";
    case SessionAction::restart:
      return "restart";
    case SessionAction::fail:
      return "fail";
  }
  return "?";
}

PartitionAction fetch_partition_action(kafka_errc error, OffsetReset reset) {
  switch (error) {
    case kafka_errc::none:
      return PartitionAction::buffer;
    case kafka_errc::offset_out_of_range:
      return reset == OffsetReset::none ? PartitionAction::fail : PartitionAction::reset_offset;
    case kafka_errc::not_leader_or_follower:
    case kafka_errc::fenced_leader_epoch:   // our metadata is older than the leader's
    case kafka_errc::unknown_leader_epoch:  // the broker's is older than ours: ask again, it catches up
    case kafka_errc::leader_not_available:
    case kafka_errc::replica_not_available:
    case kafka_errc::unknown_topic_or_partition:
    case kafka_errc::unknown_topic_id:
    case kafka_errc::inconsistent_topic_id:  // the topic was deleted and made again under a new id
    case kafka_errc::kafka_storage_error:
    case kafka_errc::offset_not_available:
      return PartitionAction::refresh_metadata;
    default: {
      const KafkaErrorInfo* e = find_kafka_error(static_cast<int16_t>(error));
      return e && e->retriable ? PartitionAction::refresh_metadata : PartitionAction::fail;
    }
  }
}

int32_t next_session_epoch(int32_t epoch) {
  return epoch >= std::numeric_limits<int32_t>::max() || epoch < 1 ? 1 : epoch + 1;
}

void FetchSession::forget() {
  id_ = 0;
  epoch_ = 0;
  uses_topic_ids_ = false;
  sent_.clear();
}

void FetchSession::on_failure() {
  forget();
  version_ = -1;
}

void FetchSession::add_partition(proto::FetchRequest& req, const WantedPartition& w) const {
  // `wanted` is sorted: a topic's partitions are next to each other.
  if (req.topics.empty() || req.topics.back().topic != w.tp.topic) {
    auto& t = req.topics.emplace_back();
    t.topic = w.tp.topic;     // up to v12
    t.topic_id = w.topic_id;  // v13+
  }
  proto::FetchRequest::FetchPartition p;
  p.partition = w.tp.partition;
  p.current_leader_epoch = w.current_leader_epoch;
  p.fetch_offset = w.fetch_offset;
  p.partition_max_bytes = config_.partition_max_bytes;
  req.topics.back().partitions.push_back(p);
}

namespace {

void add_forgotten(proto::FetchRequest& req, const TopicPartition& tp, const proto::Uuid& topic_id) {
  if (req.forgotten_topics_data.empty() || req.forgotten_topics_data.back().topic != tp.topic ||
      req.forgotten_topics_data.back().topic_id != topic_id) {
    auto& f = req.forgotten_topics_data.emplace_back();
    f.topic = tp.topic;
    f.topic_id = topic_id;
  }
  req.forgotten_topics_data.back().partitions.push_back(tp.partition);
}

bool by_partition(const WantedPartition& a, const WantedPartition& b) { return a.tp < b.tp; }

}  // namespace

PlannedFetch FetchSession::plan(std::vector<WantedPartition> wanted, int16_t version,
                                std::optional<int32_t> max_bytes) {
  // Held partitions wait for metadata; one wanted at another leader epoch has it (a KIP-951 hint).
  std::erase_if(wanted, [&](const WantedPartition& w) {
    const auto it = held_.find(w.tp);
    if (it == held_.end()) return false;
    if (it->second == w.current_leader_epoch) return true;
    held_.erase(it);
    return false;
  });
  PlannedFetch out;
  if (wanted.empty()) {
    out.nothing_to_fetch = true;
    return out;
  }
  std::sort(wanted.begin(), wanted.end(), by_partition);
  const bool all_ids = std::none_of(wanted.begin(), wanted.end(),
                                    [](const WantedPartition& w) { return w.topic_id.is_zero(); });
  out.version = all_ids ? version : std::min<int16_t>(version, 12);
  const bool sessions = out.version >= 7;
  const bool ids = out.version >= 13;
  // A session holds topic names or topic ids, not both; below v7 there are none.
  if (id_ != 0 && (!sessions || ids != uses_topic_ids_)) forget();
  out.incremental = id_ != 0;

  proto::FetchRequest& req = out.request;
  req.replica_id = -1;
  req.max_wait_ms = config_.max_wait_ms;
  req.min_bytes = config_.min_bytes;
  req.max_bytes = max_bytes ? std::min(*max_bytes, config_.max_bytes) : config_.max_bytes;
  req.isolation_level = config_.isolation_level;
  req.session_id = out.incremental ? id_ : 0;
  req.session_epoch = sessions ? (out.incremental ? epoch_ : 0) : -1;
  if (out.incremental) {
    // Only what changed; what the session holds and is not wanted now is forgotten.
    for (const auto& w : wanted) {
      const auto it = sent_.find(w.tp);
      if (it != sent_.end() && it->second.fetch_offset == w.fetch_offset &&
          it->second.leader_epoch == w.current_leader_epoch && it->second.topic_id == w.topic_id)
        continue;
      // A topic made again under a new id: the broker's session holds the old one.
      if (it != sent_.end() && ids && it->second.topic_id != w.topic_id)
        add_forgotten(req, it->first, it->second.topic_id);
      add_partition(req, w);
    }
    for (const auto& [tp, sent] : sent_) {
      const WantedPartition probe{tp, {}, 0, -1, 0};
      if (!std::binary_search(wanted.begin(), wanted.end(), probe, by_partition))
        add_forgotten(req, tp, sent.topic_id);
    }
  } else {
    for (const auto& w : wanted) add_partition(req, w);
  }

  asked_ = std::move(wanted);
  asked_topics_.clear();
  for (size_t i = 0; i < asked_.size(); ++i) {
    if (i == 0 || asked_[i].tp.topic != asked_[i - 1].tp.topic) asked_topics_.push_back({i, i});
    asked_topics_.back().end = i + 1;
  }
  version_ = out.version;
  incremental_ = out.incremental;
  return out;
}

const FetchSession::AskedTopic* FetchSession::find_topic(
    const proto::FetchResponse::FetchableTopicResponse& t, int16_t version) const {
  for (const auto& at : asked_topics_) {
    const WantedPartition& first = asked_[at.begin];
    if (version >= 13 ? first.topic_id == t.topic_id : first.tp.topic == t.topic) return &at;
  }
  return nullptr;
}

const WantedPartition* FetchSession::find_partition(const AskedTopic& topic, int32_t partition) const {
  const auto begin = asked_.begin() + static_cast<std::ptrdiff_t>(topic.begin);
  const auto end = asked_.begin() + static_cast<std::ptrdiff_t>(topic.end);
  const auto it = std::lower_bound(begin, end, partition,
                                   [](const WantedPartition& w, int32_t p) { return w.tp.partition < p; });
  return it != end && it->tp.partition == partition ? &*it : nullptr;
}

FetchResult FetchSession::on_response(const proto::FetchResponse& response) {
  FetchResult r;
  outcomes_.clear();
  const int16_t version = version_;
  if (version < 0) return r;  // nothing in flight: an answer to nothing
  version_ = -1;

  if (version >= 7 && response.error_code != 0) {
    const kafka_errc e = as_errc(response.error_code);
    r.ec = make_error_code(e);
    forget();
    switch (e) {
      case kafka_errc::fetch_session_id_not_found:   // evicted, or the broker restarted
      case kafka_errc::invalid_fetch_session_epoch:  // a Fetch of ours was lost or answered twice
        r.action = SessionAction::restart;
        break;
      case kafka_errc::fetch_session_topic_id_error:
      case kafka_errc::unknown_topic_id:
      case kafka_errc::inconsistent_topic_id:
        r.action = SessionAction::restart;
        r.refresh_metadata = true;
        break;
      default:
        r.action = SessionAction::fail;
        break;
    }
    return r;
  }

  if (version >= 7) {
    if (incremental_) {
      epoch_ = next_session_epoch(epoch_);
    } else {
      sent_.clear();
      id_ = response.session_id;  // 0: the broker opened none; the next Fetch is a full one again
      epoch_ = 1;
      uses_topic_ids_ = version >= 13;
    }
    if (id_ != 0) {
      // The broker's session now holds exactly what this Fetch asked for (both sorted: one merge).
      auto s = sent_.begin();
      for (const auto& w : asked_) {
        while (s != sent_.end() && s->first < w.tp) s = sent_.erase(s);
        const Sent now{w.fetch_offset, w.current_leader_epoch, w.topic_id};
        if (s != sent_.end() && s->first == w.tp) {
          (s++)->second = now;
        } else {
          sent_.emplace_hint(s, w.tp, now);
        }
      }
      sent_.erase(s, sent_.end());
    }
  }

  for (const auto& t : response.responses) {
    const AskedTopic* topic = find_topic(t, version);
    if (!topic) {
      // A topic id we did not ask for: our metadata is behind (the topic was made again).
      if (version >= 13) r.refresh_metadata = true;
      continue;
    }
    for (const auto& pd : t.partitions) {
      const WantedPartition* asked = find_partition(*topic, pd.partition_index);
      if (!asked) continue;
      PartitionOutcome& o = outcomes_.emplace_back();
      o.asked = asked;
      o.error = as_errc(pd.error_code);
      o.action = fetch_partition_action(o.error, config_.auto_offset_reset);
      if (pd.current_leader.leader_id >= 0 && pd.current_leader.leader_epoch >= 0)
        o.leader_hint = LeaderHint{pd.current_leader.leader_id, pd.current_leader.leader_epoch};
      switch (o.action) {
        case PartitionAction::buffer:
          o.high_watermark = pd.high_watermark;
          o.last_stable_offset = pd.last_stable_offset;
          o.log_start_offset = pd.log_start_offset;
          if (pd.records.bytes) o.records = *pd.records.bytes;
          if (config_.isolation_level == proto::FetchRequest::kReadCommitted && pd.aborted_transactions)
            o.aborted = &*pd.aborted_transactions;
          break;
        case PartitionAction::reset_offset:
          o.reset_timestamp = config_.auto_offset_reset == OffsetReset::earliest
                                  ? proto::ListOffsetsRequest::kEarliestTimestamp
                                  : proto::ListOffsetsRequest::kLatestTimestamp;
          break;
        case PartitionAction::fail:
          o.ec = o.error == kafka_errc::offset_out_of_range ? std::error_code(client_errc::no_offset)
                                                            : make_error_code(o.error);
          break;
        case PartitionAction::refresh_metadata:
          held_[asked->tp] = asked->current_leader_epoch;
          r.back_off = true;
          break;
      }
    }
  }
  r.partitions = outcomes_;
  r.node_endpoints = response.node_endpoints;
  return r;
}

std::optional<PlannedFetch> FetchSession::close(int16_t version) {
  if (id_ == 0 || version < 7) {
    forget();
    return std::nullopt;
  }
  PlannedFetch out;
  out.version = uses_topic_ids_ ? version : std::min<int16_t>(version, 12);
  out.request.replica_id = -1;
  out.request.max_wait_ms = 0;
  out.request.min_bytes = 0;
  out.request.max_bytes = config_.max_bytes;
  out.request.isolation_level = config_.isolation_level;
  out.request.session_id = id_;
  out.request.session_epoch = -1;
  forget();
  return out;
}

}  // namespace kafkawire::fetch
