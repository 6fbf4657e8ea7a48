#include "kafkawire/consumer/consumer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/list_offsets.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

net::PoolOptions pool_options(const Config& c) {
  net::PoolOptions o;
  std::string problem;
  if (net::parse_bootstrap(c.bootstrap_servers, o.bootstrap, &problem))
    throw ConfigError("bootstrap.servers", problem);
  o.connection.client_id = c.client_id;
  o.connection.receive_message_max_bytes = static_cast<size_t>(c.receive_message_max_bytes);
  o.connection.request_timeout = c.request_timeout;
  o.connection.connect_timeout = c.socket_connection_setup_timeout;
  o.reconnect_backoff = c.reconnect_backoff;
  o.reconnect_backoff_max = c.reconnect_backoff_max;
  o.metadata_max_age = c.metadata_max_age;
  return o;
}

OffsetClientOptions offset_client_options(const Config& c) {
  OffsetClientOptions o;
  o.group_id = c.group_id;
  o.group_instance_id = c.group_instance_id;
  o.timeout = c.default_api_timeout;
  o.retry_backoff = c.retry_backoff;
  o.retry_backoff_max = std::max(c.retry_backoff, c.reconnect_backoff_max);
  o.isolation_level = static_cast<int8_t>(c.isolation_level);
  o.request_timeout = c.request_timeout;
  return o;
}

std::string kafka_error_name(int16_t code) {
  const auto* e = find_kafka_error(code);
  return e ? std::string(e->name) : "error " + std::to_string(code);
}

// Partition errors after which the leader must be looked up again; the position is kept.
bool leader_moved(int16_t code) {
  return error_action(ApiFamily::fetch, code) == ErrorAction::refresh_metadata;
}

// One past the last complete v2 batch of a Fetch's records (what the reader's next_offset() will be once
// it has read them all), from the batch headers alone; -1 when there is no complete v2 batch.
int64_t end_offset_of(proto::Bytes records) {
  constexpr size_t kLastOffsetDeltaOffset = 23;
  int64_t end = -1;
  size_t pos = 0;
  while (records.len - pos >= kLastOffsetDeltaOffset + 4) {
    const uint8_t* b = records.ptr + pos;
    auto be32 = [](const uint8_t* q) {
      return uint32_t{q[0]} << 24 | uint32_t{q[1]} << 16 | uint32_t{q[2]} << 8 | uint32_t{q[3]};
    };
    const int64_t base = static_cast<int64_t>(uint64_t{be32(b)} << 32 | be32(b + 4));
    const int32_t length = static_cast<int32_t>(be32(b + 8));
    if (b[proto::kBatchMagicOffset] != 2 || length < 0) return -1;
    const size_t whole = proto::kBatchLogOverhead + static_cast<size_t>(length);
    if (whole > records.len - pos) break;  // the broker's cut at max bytes
    end = base + static_cast<int32_t>(be32(b + kLastOffsetDeltaOffset)) + 1;
    pos += whole;
  }
  return end;
}

}  // namespace

std::string_view Record::topic() const { return part_->tp.topic; }
int32_t Record::partition() const { return part_->tp.partition; }

Consumer::Consumer(executor_type ex, Config config)
    : executor_(ex),
      config_(std::move(config)),
      pool_(net::Pool::create(ex, pool_options(config_))),
      offsets_(pool_, offset_client_options(config_)),
      data_ready_(ex),
      last_auto_commit_(clock::now()) {}

Consumer::~Consumer() {
  *alive_ = false;
  pool_->close();
}

PartitionState* Consumer::state(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  return it == parts_.end() ? nullptr : it->second.get();
}

void Consumer::assign(const std::vector<TopicPartition>& partitions) {
  std::map<TopicPartition, std::unique_ptr<PartitionState>> next;
  for (const auto& tp : partitions) {
    auto it = parts_.find(tp);
    if (it != parts_.end()) {
      next[tp] = std::move(it->second);
    } else {
      auto p = std::make_unique<PartitionState>();
      p->tp = tp;
      p->generation = ++generations_;
      next[tp] = std::move(p);
      metadata_stale_ = true;
    }
  }
  for (auto& [tp, p] : parts_) {
    if (!p) continue;
    discard(*p);  // partitions let go of: their buffered bytes no longer count
    // The last poll's records point at their partition's state (topic name, decompressed batches) and are
    // valid until the next poll: the state is kept until then.
    retired_parts_.push_back(std::move(p));
  }
  parts_ = std::move(next);
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_) out.push_back(tp);
  return out;
}

// Buffered data a partition no longer reads. Records handed out by the last poll may still point into
// its frame, and they are valid until the next poll: the frame is kept until then.
void Consumer::drop_buffer(PartitionState& p) {
  p.buffered = false;
  p.in_batch = false;
  p.buffered_end = -1;
  buffered_bytes_ -= p.buffered_bytes;
  p.buffered_bytes = 0;
  if (p.frame) retired_frames_.push_back(std::move(p.frame));
}

// The position moved elsewhere (seek, reset, an error, the partition let go of): nothing fetched or being
// fetched for the old position may be delivered.
void Consumer::discard(PartitionState& p) {
  drop_buffer(p);
  if (p.next.valid) {
    buffered_bytes_ -= p.next.records.len;
    p.next.valid = false;
    p.next.frame.reset();  // never read from: no record of the last poll points into it
  }
  p.generation = ++generations_;
}

// The buffered data is read to the end and the position stands where the prefetched data starts: that
// data becomes the buffered data. False (and the prefetched data dropped) otherwise.
bool Consumer::promote_prefetched(PartitionState& p) {
  if (!p.next.valid) return false;
  PartitionState::Prefetched& n = p.next;
  n.valid = false;
  const size_t bytes = n.records.len;
  if (!p.position || n.from != *p.position) {
    buffered_bytes_ -= bytes;
    n.frame.reset();
    return false;
  }
  drop_buffer(p);
  proto::ReadOptions opts;
  opts.check_crcs = config_.check_crcs;
  opts.start_offset = *p.position;
  opts.read_committed = config_.isolation_level == IsolationLevel::read_committed;
  p.frame = std::move(n.frame);
  p.reader.reset(n.records, opts);
  if (opts.read_committed && n.has_aborted) p.reader.set_aborted_transactions(n.aborted);
  p.buffered = true;
  p.in_batch = false;
  p.buffered_end = n.end;
  p.buffered_bytes = bytes;  // still counted in buffered_bytes_
  return true;
}

std::optional<int64_t> Consumer::next_fetch_offset(const PartitionState& p) const {
  if (!p.position) return std::nullopt;
  if (p.next.valid) return p.next.end < 0 ? std::nullopt : std::optional<int64_t>(p.next.end);
  if (p.buffered) return p.buffered_end < 0 ? std::nullopt : std::optional<int64_t>(p.buffered_end);
  return p.position;
}

// Fetch a partition with nothing buffered; prefetch one with buffered data (one answer ahead) while the
// consumer's buffered bytes stay under queued.max.messages.kbytes.
bool Consumer::wants_fetch(const PartitionState& p) const {
  if (!p.position || p.paused || p.fetch_in_flight || p.next.valid) return false;
  if (!p.buffered) return true;
  return p.buffered_end >= 0 && buffered_bytes_ < static_cast<size_t>(config_.queued_max_kbytes) * 1024;
}

void Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (auto* p = state(tp)) {
    p->position = offset;
    p->pending_reset = 0;
    discard(*p);
  }
}

void Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) {
      p->position.reset();
      p->pending_reset = proto::ListOffsetsRequest::kEarliestTimestamp;
      discard(*p);
    }
}

void Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) {
      p->position.reset();
      p->pending_reset = proto::ListOffsetsRequest::kLatestTimestamp;
      discard(*p);
    }
}

void Consumer::pause(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) p->paused = true;
}

void Consumer::resume(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) p->paused = false;
  wake();
}

std::vector<TopicPartition> Consumer::paused() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_)
    if (p->paused) out.push_back(tp);
  return out;
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? std::nullopt : it->second->position;
}

std::map<TopicPartition, int64_t> Consumer::current_positions() const {
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, p] : parts_)
    if (p->position) out[tp] = *p->position;
  return out;
}

// ------------------------------------------------------------------------------------------- metadata

asio::awaitable<std::error_code> Consumer::ensure_metadata() {
  std::set<std::string> topics;
  bool refresh = metadata_stale_;
  for (const auto& [tp, p] : parts_) {
    topics.insert(tp.topic);
    if (pool_->metadata().needs_refresh(tp.topic, config_.metadata_max_age)) refresh = true;
  }
  if (!refresh || topics.empty()) co_return std::error_code{};
  auto [ec, none] = co_await pool_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end()),
                                                     config_.allow_auto_create_topics);
  if (ec) {
    set_error("metadata from bootstrap.servers=" + config_.bootstrap_servers + ": " + ec.message());
    co_return ec;
  }
  metadata_stale_ = false;
  for (const auto& [tp, p] : parts_) {
    const net::TopicInfo* t = pool_->metadata().topic(tp.topic);
    if (!t || as_errc(t->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(t->error_code) == kafka_errc::unknown_topic_id) {
      set_error(tp.topic + ": the cluster has no such topic");
      co_return client_errc::unknown_topic;
    }
    if (t->error_code != 0 &&
        error_action(ApiFamily::metadata, t->error_code) != ErrorAction::refresh_metadata) {
      set_error(tp.topic + ": " + kafka_error_name(t->error_code));
      co_return make_kafka_error(t->error_code);
    }
    if (t->error_code == 0 && static_cast<size_t>(tp.partition) >= t->partitions.size()) {
      set_error(to_string(tp) + ": topic " + tp.topic + " has " + std::to_string(t->partitions.size()) +
                " partitions");
      co_return client_errc::unknown_topic;
    }
  }
  co_return std::error_code{};
}

// ------------------------------------------------------------------------------------------ positions

asio::awaitable<std::error_code> Consumer::resolve_positions() {
  std::vector<TopicPartition> unknown;
  for (const auto& [tp, p] : parts_)
    if (!p->position && p->pending_reset == 0 && !p->awaiting_group_offsets) unknown.push_back(tp);
  // First the group's committed offsets.
  if (!unknown.empty() && !config_.group_id.empty()) {
    auto [ec, committed_offsets] = co_await committed(unknown);
    if (ec) co_return ec;
    for (const auto& [tp, off] : committed_offsets)
      if (auto* p = state(tp)) {
        if (off) {
          p->position = *off;
          p->committed = *off;
        }
      }
  }
  // Then auto.offset.reset for what has none.
  std::vector<TopicPartition> earliest, latest, none;
  for (const auto& [tp, p] : parts_) {
    if (p->position || p->awaiting_group_offsets) continue;
    const int64_t which =
        p->pending_reset != 0                                ? p->pending_reset
        : config_.auto_offset_reset == OffsetReset::earliest ? proto::ListOffsetsRequest::kEarliestTimestamp
        : config_.auto_offset_reset == OffsetReset::latest   ? proto::ListOffsetsRequest::kLatestTimestamp
                                                             : 0;
    (which == proto::ListOffsetsRequest::kEarliestTimestamp ? earliest
     : which == 0                                           ? none
                                                            : latest)
        .push_back(tp);
  }
  if (!none.empty()) {
    std::string names;
    for (const auto& tp : none) names += (names.empty() ? "" : ", ") + to_string(tp);
    set_error(names + ": no committed offset and auto.offset.reset=none");
    co_return client_errc::no_offset;
  }
  for (auto* list : {&earliest, &latest}) {
    if (list->empty()) continue;
    const int64_t which = list == &earliest ? proto::ListOffsetsRequest::kEarliestTimestamp
                                            : proto::ListOffsetsRequest::kLatestTimestamp;
    auto [ec, offsets] = co_await list_offsets(*list, which);
    if (ec) co_return ec;
    for (const auto& [tp, off] : offsets)
      if (auto* p = state(tp); p && !p->position) {
        p->position = off;
        p->pending_reset = 0;
      }
  }
  co_return std::error_code{};
}

// ------------------------------------------------------------------------------------------- fetching

void Consumer::start_fetches() {
  if (closed_) return;
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& [tp, p] : parts_) {
    if (!wants_fetch(*p)) continue;
    const auto leader = pool_->metadata().leader(tp.topic, tp.partition);
    if (!leader) {
      metadata_stale_ = true;
      continue;
    }
    by_leader[*leader].push_back(tp);
  }
  for (auto& [node, list] : by_leader) {
    if (fetching_nodes_.count(node)) continue;  // one Fetch in flight per broker
    fetching_nodes_.insert(node);
    for (const auto& tp : list) state(tp)->fetch_in_flight = true;
    asio::co_spawn(executor_, fetch_from(node, std::move(list)), asio::detached);
  }
}

std::string Consumer::topic_name(const proto::FetchResponse::FetchableTopicResponse& t,
                                 int16_t version) const {
  if (version < 13) return t.topic;
  const net::TopicInfo* info = pool_->metadata().topic_by_id(t.topic_id);
  return info ? info->name : std::string();
}

asio::awaitable<void> Consumer::fetch_from(int32_t node, std::vector<TopicPartition> partitions) {
  auto alive = alive_;
  // refetch: after an answer, the next Fetch goes out at once, while the application may still be
  // processing its batch (after an error, the next poll decides).
  auto finish = [&](bool refetch = false) {
    if (!*alive) return;
    fetching_nodes_.erase(node);
    for (const auto& tp : partitions)
      if (auto* p = state(tp)) p->fetch_in_flight = false;
    if (refetch) start_fetches();
    wake();
  };
  auto [cec, conn] = co_await pool_->connection(node, net::Purpose::fetch);
  if (!*alive) co_return;
  if (cec) {
    metadata_stale_ = true;
    asio::steady_timer t(executor_, config_.retry_backoff);
    co_await t.async_wait(use_nothrow);
    finish();
    co_return;
  }
  // The assignment may have changed while the connection was set up (a rebalance revoked partitions,
  // assign() replaced them, seek_to_* cleared a position): fetch only what is still ours at a known
  // position. Found by bench_group: a revocation during the connect dereferenced a removed partition.
  partitions.erase(std::remove_if(partitions.begin(), partitions.end(),
                                  [&](const TopicPartition& tp) {
                                    PartitionState* p = state(tp);
                                    if (p && p->position) return false;
                                    if (p) p->fetch_in_flight = false;
                                    return true;
                                  }),
                   partitions.end());
  if (partitions.empty()) {
    finish();
    co_return;
  }
  auto version = conn->negotiated_version<proto::FetchRequest>();
  if (!version) {
    fetch_error_ = client_errc::unsupported_version;
    set_error(conn->unsupported_text(proto::FetchRequest::api_key, proto::FetchRequest::min_version,
                                     proto::FetchRequest::max_version));
    finish();
    co_return;
  }
  // Topic ids from v13 on, when the metadata has them for every topic.
  for (const auto& tp : partitions) {
    const net::TopicInfo* t = pool_->metadata().topic(tp.topic);
    if (!t || t->id.is_zero()) *version = std::min<int16_t>(*version, 12);
  }

  FetchSession& session = sessions_[node];
  // Where each partition's fetch starts: its position, or after its buffered data (prefetch). The
  // generation tells the answer apart from data made stale by a seek meanwhile.
  std::map<TopicPartition, Asked> asked;
  std::map<TopicPartition, int64_t> desired;
  for (const auto& tp : partitions) {
    const PartitionState* p = state(tp);
    const auto off = p ? next_fetch_offset(*p) : std::nullopt;
    if (!off) continue;
    asked[tp] = Asked{*off, p->generation};
    desired[tp] = *off;
  }
  if (desired.empty()) {
    finish();
    co_return;
  }

  proto::FetchRequest req;
  req.replica_id = -1;
  req.max_wait_ms = static_cast<int32_t>(config_.fetch_max_wait.count());
  req.min_bytes = config_.fetch_min_bytes;
  req.max_bytes = config_.fetch_max_bytes;
  req.isolation_level = static_cast<int8_t>(config_.isolation_level);
  const bool incremental = session.id != 0 && *version >= 7;
  req.session_id = incremental ? session.id : 0;
  req.session_epoch = *version >= 7 ? (incremental ? session.epoch : 0) : -1;
  auto add = [&](const TopicPartition& tp, int64_t offset) {
    const net::TopicInfo* info = pool_->metadata().topic(tp.topic);
    auto t = std::find_if(req.topics.begin(), req.topics.end(),
                          [&](const auto& x) { return x.topic == tp.topic; });
    if (t == req.topics.end()) {
      t = req.topics.insert(req.topics.end(), proto::FetchRequest::FetchTopic{});
      t->topic = tp.topic;
      if (info) t->topic_id = info->id;
    }
    proto::FetchRequest::FetchPartition fp;
    fp.partition = tp.partition;
    fp.fetch_offset = offset;
    fp.partition_max_bytes = config_.max_partition_fetch_bytes;
    if (info && static_cast<size_t>(tp.partition) < info->partitions.size())
      fp.current_leader_epoch = info->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
    t->partitions.push_back(fp);
  };
  if (incremental) {
    // Only what changed: new partitions and moved offsets; partitions not wanted now are forgotten.
    for (const auto& [tp, off] : desired) {
      auto it = session.sent.find(tp);
      if (it == session.sent.end() || it->second != off) add(tp, off);
    }
    for (const auto& [tp, off] : session.sent) {
      if (desired.count(tp)) continue;
      const net::TopicInfo* info = pool_->metadata().topic(tp.topic);
      auto f = std::find_if(req.forgotten_topics_data.begin(), req.forgotten_topics_data.end(),
                            [&](const auto& x) { return x.topic == tp.topic; });
      if (f == req.forgotten_topics_data.end()) {
        f = req.forgotten_topics_data.emplace(req.forgotten_topics_data.end());
        f->topic = tp.topic;
        if (info) f->topic_id = info->id;
      }
      f->partitions.push_back(tp.partition);
    }
  } else {
    for (const auto& [tp, off] : desired) add(tp, off);
  }

  auto [ec, reply] = co_await conn->async_send_at(req, *version, use_nothrow, config_.fetch_max_wait);
  if (!*alive) co_return;
  if (ec) {
    session = FetchSession{};  // a new connection means a new session
    metadata_stale_ = true;
    if (ec != client_errc::disconnected && ec != client_errc::timeout &&
        ec != client_errc::operation_aborted) {
      fetch_error_ = ec;
      set_error("Fetch from broker " + std::to_string(node) + ": " + ec.message());
    }
    finish();
    co_return;
  }
  if (reply->error_code == 70 || reply->error_code == 71) {
    // FETCH_SESSION_ID_NOT_FOUND / INVALID_FETCH_SESSION_EPOCH: start over with a full fetch.
    session = FetchSession{};
    finish();
    co_return;
  }
  if (reply->error_code != 0) {
    fetch_error_ = make_kafka_error(reply->error_code);
    set_error("Fetch from broker " + std::to_string(node) + ": " + kafka_error_name(reply->error_code));
    session = FetchSession{};
    finish();
    co_return;
  }
  if (*version >= 7) {
    if (incremental) {
      session.epoch = session.epoch == INT32_MAX ? 1 : session.epoch + 1;
    } else {
      session.sent.clear();
      session.id = reply->session_id;
      session.epoch = 1;
    }
    if (session.id != 0) {
      for (const auto& [tp, off] : desired) session.sent[tp] = off;
      for (auto it = session.sent.begin(); it != session.sent.end();)
        it = desired.count(it->first) ? std::next(it) : session.sent.erase(it);
    }
  }
  handle_fetch_response(node, reply, asked);
  finish(true);
}

void Consumer::handle_fetch_response(int32_t node, const net::Reply<proto::FetchResponse>& reply,
                                     const std::map<TopicPartition, Asked>& asked) {
  (void)node;
  for (const auto& t : reply->responses) {
    const std::string topic = topic_name(t, reply.version);
    if (topic.empty()) {
      metadata_stale_ = true;
      continue;
    }
    for (const auto& pd : t.partitions) {
      TopicPartition tp{topic, pd.partition_index};
      PartitionState* p = state(tp);
      const auto a = asked.find(tp);
      if (!p || !p->position || a == asked.end()) continue;
      // Data for a position left meanwhile (seek, reset, the partition let go of and taken back) is stale.
      if (p->generation != a->second.generation || next_fetch_offset(*p) != a->second.offset) continue;
      const bool prefetch = p->buffered;  // asked from after the data still being polled
      if (pd.error_code == 0) {
        p->high_watermark = pd.high_watermark;
        p->last_stable_offset = pd.last_stable_offset;
        p->log_start_offset = pd.log_start_offset;
        if (!pd.records.bytes || pd.records.bytes->empty()) continue;
        const proto::Bytes records = *pd.records.bytes;
        const bool read_committed = config_.isolation_level == IsolationLevel::read_committed;
        buffered_bytes_ += records.len;
        if (prefetch) {
          PartitionState::Prefetched& n = p->next;
          n.valid = true;
          n.frame = reply.frame;
          n.records = records;
          n.from = a->second.offset;
          n.end = end_offset_of(records);
          n.has_aborted = read_committed && pd.aborted_transactions;
          n.aborted.clear();
          if (n.has_aborted)
            n.aborted.assign(pd.aborted_transactions->begin(), pd.aborted_transactions->end());
          continue;
        }
        proto::ReadOptions opts;
        opts.check_crcs = config_.check_crcs;
        opts.start_offset = *p->position;
        opts.read_committed = read_committed;
        if (p->frame) retired_frames_.push_back(std::move(p->frame));
        p->frame = reply.frame;
        p->reader.reset(records, opts);
        if (opts.read_committed && pd.aborted_transactions)
          p->reader.set_aborted_transactions(*pd.aborted_transactions);
        p->buffered = true;
        p->in_batch = false;
        p->buffered_end = end_offset_of(records);
        p->buffered_bytes = records.len;
        continue;
      }
      if (pd.current_leader.leader_id >= 0)
        pool_->metadata().apply_leader_hint(topic, pd.partition_index, pd.current_leader.leader_id,
                                            pd.current_leader.leader_epoch);
      if (pd.error_code == 1) {  // OFFSET_OUT_OF_RANGE
        // For a prefetch, the records still buffered come first; the Fetch from the position after them
        // meets this error again and handles it.
        if (prefetch) continue;
        if (config_.auto_offset_reset == OffsetReset::none) {
          fetch_error_ = client_errc::no_offset;
          set_error(to_string(tp) + ": offset " + std::to_string(*p->position) +
                    " is out of range and auto.offset.reset=none");
        } else {
          p->position.reset();
          discard(*p);
          p->pending_reset = config_.auto_offset_reset == OffsetReset::earliest
                                 ? proto::ListOffsetsRequest::kEarliestTimestamp
                                 : proto::ListOffsetsRequest::kLatestTimestamp;
        }
      } else if (leader_moved(pd.error_code) || net::error_action(pd.error_code) == net::ErrorAction::retry) {
        metadata_stale_ = true;
        pool_->metadata().mark_stale(topic);
      } else {
        fetch_error_ = make_kafka_error(pd.error_code);
        set_error(to_string(tp) + ": Fetch: " + kafka_error_name(pd.error_code));
      }
    }
  }
}

bool Consumer::drain(std::vector<Record>& out, size_t max, std::error_code& ec) {
  if (parts_.empty()) return false;
  std::vector<PartitionState*> order;
  for (auto& [tp, p] : parts_) order.push_back(p.get());
  const size_t n = order.size();
  const size_t start = round_robin_++ % n;
  for (size_t i = 0; i < n && out.size() < max; ++i) {
    PartitionState& p = *order[(start + i) % n];
    if (!p.buffered || p.paused) continue;
    proto::RecordView rec;
    while (out.size() < max) {
      if (!p.in_batch) {
        // Each compressed batch delivered in this poll decompresses into a buffer of its own.
        if (p.scratch_used == p.scratch.size()) p.scratch.push_back(std::make_unique<std::vector<uint8_t>>());
        p.reader.set_scratch(p.scratch[p.scratch_used++].get());
        if (!p.reader.next_batch()) {
          if (auto rec_ec = p.reader.error()) {
            ec = rec_ec;
            set_error(to_string(p.tp) + " at offset " + std::to_string(p.reader.error_offset()) + ": " +
                      rec_ec.message());
            discard(p);
            return true;
          }
          if (p.reader.next_offset() > *p.position) p.position = p.reader.next_offset();
          if (promote_prefetched(p)) continue;  // the prefetched data follows on
          drop_buffer(p);
          break;
        }
        p.in_batch = true;
      }
      if (p.reader.next_record(rec)) {
        out.emplace_back(&p, rec);
        p.position = rec.offset + 1;
        p.position_epoch = p.reader.batch().partition_leader_epoch;
      } else {
        p.in_batch = false;
      }
    }
  }
  return !out.empty();
}

net::Pool::Result<std::span<const Record>> Consumer::poll(std::chrono::milliseconds timeout) {
  auto alive = alive_;
  if (closed_)
    co_return std::tuple{std::error_code(client_errc::operation_aborted), std::span<const Record>()};
  const auto deadline = clock::now() + timeout;
  // The previous poll's records are no longer referenced: their buffers can be reused, except the one
  // holding a batch still being read.
  batch_.clear();
  retired_frames_.clear();
  retired_parts_.clear();
  for (auto& [tp, p] : parts_) {
    if (p->in_batch && p->scratch_used > 0) {
      std::swap(p->scratch[0], p->scratch[p->scratch_used - 1]);
      p->scratch_used = 1;
    } else {
      p->scratch_used = 0;
    }
  }
  if (auto ec = co_await maybe_auto_commit(); ec && !*alive)
    co_return std::tuple{ec, std::span<const Record>()};
  if (!*alive)
    co_return std::tuple{std::error_code(client_errc::operation_aborted), std::span<const Record>()};
  if (pattern_ && clock::now() - pattern_refreshed_ >=
                      (group_ ? config_.metadata_max_age : std::chrono::milliseconds(0))) {
    // A pattern subscription looks at every topic of the cluster.
    pattern_refreshed_ = clock::now();
    auto [mec, none] = co_await pool_->refresh_metadata(std::nullopt);
    if (!*alive)
      co_return std::tuple{std::error_code(client_errc::operation_aborted), std::span<const Record>()};
    if (!mec) refresh_pattern_subscription();
  }
  dispatch(group::event::PollCalled{});  // the group's max.poll.interval.ms clock
  maybe_refresh_group_metadata();        // the leader watches for partition-count changes

  std::error_code last;
  for (;;) {
    if (!*alive)
      co_return std::tuple{std::error_code(client_errc::operation_aborted), std::span<const Record>()};
    if (fetch_error_) {
      auto ec = std::exchange(fetch_error_, {});
      co_return std::tuple{ec, std::span<const Record>()};
    }
    std::error_code ec = co_await ensure_metadata();
    if (!ec) ec = co_await resolve_positions();
    if (ec == client_errc::unknown_topic || ec == client_errc::no_offset || ec == client_errc::invalid_config)
      co_return std::tuple{ec, std::span<const Record>()};
    last = ec;
    if (!ec) {
      start_fetches();
      std::error_code read_error;
      if (drain(batch_, static_cast<size_t>(config_.max_poll_records), read_error) || read_error) {
        start_fetches();  // partitions drained (or below the prefetch bound) by this poll fetch meanwhile
        co_return std::tuple{read_error, std::span<const Record>(batch_)};
      }
    }
    if (clock::now() >= deadline) break;
    // Wait for a fetch to land (wake() cancels the timer), a retry backoff, or the deadline.
    data_ready_.expires_at(ec ? std::min(deadline, clock::now() + config_.retry_backoff) : deadline);
    co_await data_ready_.async_wait(use_nothrow);
  }
  // Nothing arrived in time. Transient trouble reaching the cluster is reported, with what it was.
  if (last && pool_->metadata().brokers().empty()) co_return std::tuple{last, std::span<const Record>()};
  co_return std::tuple{std::error_code{}, std::span<const Record>()};
}

// ------------------------------------------------------------------------------------------ committing

asio::awaitable<std::error_code> Consumer::maybe_auto_commit() {
  if (!config_.enable_auto_commit || config_.group_id.empty()) co_return std::error_code{};
  if (clock::now() - last_auto_commit_ < config_.auto_commit_interval) co_return std::error_code{};
  last_auto_commit_ = clock::now();
  auto positions = current_positions();
  if (positions.empty()) co_return std::error_code{};
  auto [ec, none] = co_await commit(std::move(positions));
  co_return ec;
}

net::Pool::Result<std::monostate> Consumer::close() {
  if (closed_) co_return std::tuple{std::error_code{}, std::monostate{}};
  std::error_code ec;
  if (config_.enable_auto_commit && !config_.group_id.empty()) {
    auto positions = current_positions();
    if (!positions.empty()) {
      auto [cec, none] = co_await commit(std::move(positions));
      ec = cec;
    }
  }
  if (group_) {
    // Revoke (the listener or the default commit runs), then LeaveGroup; bounded by default.api.timeout.ms.
    auto alive = alive_;
    dispatch(group::event::Close{});
    const auto deadline = clock::now() + config_.default_api_timeout;
    while (*alive && group_->state() != group::State::left && group_->state() != group::State::fatal &&
           clock::now() < deadline) {
      asio::steady_timer t(executor_, std::chrono::milliseconds(20));
      co_await t.async_wait(use_nothrow);
    }
    if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
  }
  closed_ = true;
  // Nothing may stay armed once closed: a callback-style caller's io_context.run() returns when the
  // work is done only if the member's timers (poll interval, session) are gone too.
  for (size_t k = 0; k < group_timers_.size(); ++k) {
    ++group_timer_seq_[k];  // the cancelled wait is not a firing
    group_timers_[k]->cancel();
  }
  for (auto& [tp, p] : parts_) discard(*p);
  pool_->close();
  wake();
  co_return std::tuple{ec, std::monostate{}};
}

}  // namespace kafkawire
