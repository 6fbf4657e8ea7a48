#include "kafkawire/consumer/consumer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kafkawire/protocol/list_offsets.hpp"
#include "kafkawire/protocol/offset_commit.hpp"
#include "kafkawire/protocol/offset_fetch.hpp"
#include "partition_state.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

std::string kafka_error_name(int16_t code) {
  const auto* e = find_kafka_error(code);
  return e ? std::string(e->name) : "error " + std::to_string(code);
}

// Partition errors after which the leader must be looked up again; the position is kept.
bool leader_moved(int16_t code) { return net::error_action(code) == net::ErrorAction::refresh_metadata; }

}  // namespace

Consumer::Consumer(executor_type ex, Config config)
    : executor_(ex),
      config_(std::move(config)),
      pool_(net::Pool::create(ex, pool_options(config_))),
      data_ready_(ex),
      last_auto_commit_(clock::now()) {
  ledger_.check_crcs = config_.check_crcs;
  ledger_.read_committed = config_.isolation_level == IsolationLevel::read_committed;
  ledger_.max_bytes = static_cast<size_t>(config_.queued_max_kbytes) * 1024;
}

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
      next[tp] = std::make_unique<PartitionState>(tp, ledger_);
      metadata_stale_ = true;
    }
  }
  for (auto& [tp, p] : parts_) {
    if (!p) continue;
    p->buffer.discard();  // partitions let go of: their buffered bytes no longer count
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

void Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (auto* p = state(tp)) {
    p->buffer.seek(offset);
    p->pending_reset = 0;
  }
}

void Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) {
      p->buffer.seek(std::nullopt);
      p->pending_reset = proto::ListOffsetsRequest::kEarliestTimestamp;
    }
}

void Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) {
      p->buffer.seek(std::nullopt);
      p->pending_reset = proto::ListOffsetsRequest::kLatestTimestamp;
    }
}

void Consumer::pause(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) p->buffer.set_paused(true);
}

void Consumer::resume(const std::vector<TopicPartition>& partitions) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) p->buffer.set_paused(false);
  wake();
}

std::vector<TopicPartition> Consumer::paused() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_)
    if (p->buffer.paused()) out.push_back(tp);
  return out;
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? std::nullopt : it->second->buffer.position();
}

std::map<TopicPartition, int64_t> Consumer::current_positions() const {
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, p] : parts_)
    if (const auto position = p->buffer.position()) out[tp] = *position;
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
    if (t->error_code != 0 && !leader_moved(t->error_code)) {
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
    if (!p->buffer.position() && p->pending_reset == 0 && !p->awaiting_group_offsets) unknown.push_back(tp);
  // First the group's committed offsets.
  if (!unknown.empty() && !config_.group_id.empty()) {
    auto [ec, committed_offsets] = co_await committed(unknown);
    if (ec) co_return ec;
    for (const auto& [tp, off] : committed_offsets)
      if (auto* p = state(tp)) {
        if (off) {
          p->buffer.seek(*off);
          p->committed = *off;
        }
      }
  }
  // Then auto.offset.reset for what has none.
  std::vector<TopicPartition> earliest, latest, none;
  for (const auto& [tp, p] : parts_) {
    if (p->buffer.position() || p->awaiting_group_offsets) continue;
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
      if (auto* p = state(tp); p && !p->buffer.position()) {
        p->buffer.seek(off);
        p->pending_reset = 0;
      }
  }
  co_return std::error_code{};
}

net::Pool::Result<std::map<TopicPartition, int64_t>> Consumer::list_offsets(
    std::vector<TopicPartition> partitions, int64_t which) {
  std::map<TopicPartition, int64_t> in;
  for (const auto& tp : partitions) in[tp] = which;
  auto [ec, found] = co_await offsets_for_times(std::move(in));
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, o] : found)
    if (o) out[tp] = o->offset;
  co_return std::tuple{ec, out};
}

net::Pool::Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> Consumer::offsets_for_times(
    std::map<TopicPartition, int64_t> timestamps) {
  std::map<TopicPartition, std::optional<OffsetAndTimestamp>> out;
  const auto deadline = clock::now() + config_.default_api_timeout;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer t(executor_, config_.retry_backoff);
      co_await t.async_wait(use_nothrow);
    }
    std::vector<std::string> topics;
    for (const auto& [tp, ts] : timestamps)
      if (!out.count(tp)) topics.push_back(tp.topic);
    if (topics.empty()) break;
    if (auto [ec, none] = co_await pool_->refresh_metadata(topics); ec) {
      if (clock::now() > deadline) co_return std::tuple{ec, out};
      continue;
    }
    // One ListOffsets per leader.
    std::map<int32_t, proto::ListOffsetsRequest> by_leader;
    bool missing_leader = false;
    for (const auto& [tp, ts] : timestamps) {
      if (out.count(tp)) continue;
      const auto leader = pool_->metadata().leader(tp.topic, tp.partition);
      if (!leader) {
        if (!pool_->metadata().topic(tp.topic) || pool_->metadata().topic(tp.topic)->error_code == 3) {
          set_error(tp.topic + ": the cluster has no such topic");
          co_return std::tuple{std::error_code(client_errc::unknown_topic), out};
        }
        missing_leader = true;
        continue;
      }
      auto& req = by_leader[*leader];
      req.replica_id = -1;
      req.isolation_level = static_cast<int8_t>(config_.isolation_level);
      req.timeout_ms = static_cast<int32_t>(config_.request_timeout.count());
      auto t = std::find_if(req.topics.begin(), req.topics.end(),
                            [&](const auto& x) { return x.name == tp.topic; });
      if (t == req.topics.end()) t = req.topics.insert(req.topics.end(), {tp.topic, {}});
      t->partitions.push_back({tp.partition, -1, ts});
    }
    bool retry = missing_leader;
    for (auto& [leader, req] : by_leader) {
      auto [ec, reply] = co_await pool_->send(leader, net::Purpose::general, req);
      if (ec) {
        retry = true;
        continue;
      }
      for (const auto& t : reply->topics)
        for (const auto& p : t.partitions) {
          TopicPartition tp{t.name, p.partition_index};
          if (p.error_code == 0) {
            out[tp] = p.offset < 0
                          ? std::nullopt
                          : std::optional<OffsetAndTimestamp>({p.offset, p.timestamp, p.leader_epoch});
          } else if (net::error_action(p.error_code) == net::ErrorAction::refresh_metadata ||
                     net::error_action(p.error_code) == net::ErrorAction::retry) {
            pool_->metadata().mark_stale(t.name);
            retry = true;
          } else {
            set_error(to_string(tp) + ": ListOffsets: " + kafka_error_name(p.error_code));
            co_return std::tuple{make_kafka_error(p.error_code), out};
          }
        }
    }
    if (!retry) break;
    if (clock::now() > deadline) {
      set_error("ListOffsets: no answer for every partition within default.api.timeout.ms");
      co_return std::tuple{std::error_code(client_errc::timeout), out};
    }
  }
  co_return std::tuple{std::error_code{}, out};
}

net::Pool::Result<std::span<const Record>> Consumer::poll(std::chrono::milliseconds timeout) {
  auto alive = alive_;
  if (closed_)
    co_return std::tuple{std::error_code(client_errc::operation_aborted), std::span<const Record>()};
  const auto deadline = clock::now() + timeout;
  // The previous poll's records are no longer referenced: their buffers can be reused, except the one
  // holding a batch still being read.
  batch_.clear();
  ledger_.retired.clear();
  retired_parts_.clear();
  for (auto& [tp, p] : parts_) p->buffer.poll_started();
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

net::Pool::Result<std::monostate> Consumer::commit(std::map<TopicPartition, int64_t> offsets) {
  auto alive = alive_;
  // A group member commits through the group machine: it adds generation and member id, and refuses
  // offsets for partitions this member no longer owns.
  if (group_) co_return co_await commit_through_group(std::move(offsets));
  if (config_.group_id.empty()) {
    set_error("commit needs group.id");
    co_return std::tuple{std::error_code(client_errc::invalid_config), std::monostate{}};
  }
  // Never commit for a partition this consumer no longer has.
  for (auto it = offsets.begin(); it != offsets.end();)
    it = state(it->first) ? std::next(it) : offsets.erase(it);
  if (offsets.empty()) co_return std::tuple{std::error_code{}, std::monostate{}};

  const auto deadline = clock::now() + config_.default_api_timeout;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer t(executor_, config_.retry_backoff);
      co_await t.async_wait(use_nothrow);
      if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    }
    auto retry_or = [&](std::error_code ec) {
      return clock::now() < deadline && (is_retriable(ec) || ec == client_errc::disconnected);
    };
    auto [fec, coordinator] = co_await pool_->find_coordinator(config_.group_id);
    if (fec) {
      if (retry_or(fec)) continue;
      set_error("commit: coordinator of group " + config_.group_id + ": " + fec.message());
      co_return std::tuple{fec, std::monostate{}};
    }
    proto::OffsetCommitRequest req;
    req.group_id = config_.group_id;
    req.generation_id_or_member_epoch = generation_;
    req.member_id = member_id_;
    req.group_instance_id = config_.group_instance_id;
    for (const auto& [tp, off] : offsets) {
      auto t = std::find_if(req.topics.begin(), req.topics.end(),
                            [&](const auto& x) { return x.name == tp.topic; });
      if (t == req.topics.end()) {
        t = req.topics.emplace(req.topics.end());
        t->name = tp.topic;
        if (const auto* info = pool_->metadata().topic(tp.topic)) t->topic_id = info->id;
      }
      proto::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = tp.partition;
      p.committed_offset = off;
      p.committed_leader_epoch = state(tp) ? state(tp)->buffer.position_epoch() : -1;
      p.committed_metadata = "";
      t->partitions.push_back(p);
    }
    auto [ec, reply] = co_await pool_->send(coordinator.node_id, net::Purpose::group, req);
    if (ec) {
      if (retry_or(ec)) continue;
      set_error("commit to coordinator " + std::to_string(coordinator.node_id) + ": " + ec.message());
      co_return std::tuple{ec, std::monostate{}};
    }
    int16_t error = 0;
    TopicPartition failed;
    for (const auto& t : reply->topics)
      for (const auto& p : t.partitions)
        if (p.error_code && !error) {
          error = p.error_code;
          failed = {t.name, p.partition_index};
        }
    if (error == 0) {
      for (const auto& [tp, off] : offsets)
        if (auto* p = state(tp)) p->committed = off;
      co_return std::tuple{std::error_code{}, std::monostate{}};
    }
    const auto action = net::error_action(error);
    if (action == net::ErrorAction::find_coordinator) pool_->forget_coordinator(config_.group_id);
    if ((action == net::ErrorAction::find_coordinator || action == net::ErrorAction::retry) &&
        clock::now() < deadline)
      continue;
    set_error("commit " + to_string(failed) + ": " + kafka_error_name(error));
    co_return std::tuple{make_kafka_error(error), std::monostate{}};
  }
}

net::Pool::Result<std::map<TopicPartition, std::optional<int64_t>>> Consumer::committed(
    std::vector<TopicPartition> partitions) {
  using Out = std::map<TopicPartition, std::optional<int64_t>>;
  auto alive = alive_;
  if (config_.group_id.empty()) {
    set_error("committed offsets need group.id");
    co_return std::tuple{std::error_code(client_errc::invalid_config), Out{}};
  }
  const auto deadline = clock::now() + config_.default_api_timeout;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer t(executor_, config_.retry_backoff);
      co_await t.async_wait(use_nothrow);
      if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), Out{}};
    }
    auto [fec, coordinator] = co_await pool_->find_coordinator(config_.group_id);
    if (fec) {
      if (clock::now() < deadline && (is_retriable(fec) || fec == client_errc::disconnected)) continue;
      set_error("committed: coordinator of group " + config_.group_id + ": " + fec.message());
      co_return std::tuple{fec, Out{}};
    }
    auto [cec, conn] = co_await pool_->connection(coordinator.node_id, net::Purpose::group);
    if (cec) {
      if (clock::now() < deadline) continue;
      co_return std::tuple{cec, Out{}};
    }
    const auto version = conn->negotiated_version<proto::OffsetFetchRequest>().value_or(
        proto::OffsetFetchRequest::max_version);
    proto::OffsetFetchRequest req;
    req.require_stable = true;
    std::map<std::string, std::vector<int32_t>> by_topic;
    for (const auto& tp : partitions) by_topic[tp.topic].push_back(tp.partition);
    if (version >= 8) {
      proto::OffsetFetchRequest::OffsetFetchRequestGroup g;
      g.group_id = config_.group_id;
      g.topics.emplace();
      for (auto& [name, parts] : by_topic) {
        proto::OffsetFetchRequest::OffsetFetchRequestTopics t;
        t.name = name;
        if (const auto* info = pool_->metadata().topic(name)) t.topic_id = info->id;
        t.partition_indexes = parts;
        g.topics->push_back(std::move(t));
      }
      req.groups.push_back(std::move(g));
    } else {
      req.group_id = config_.group_id;
      req.topics.emplace();
      for (auto& [name, parts] : by_topic) req.topics->push_back({name, parts});
    }
    auto [ec, reply] = co_await conn->async_send_at(req, version, use_nothrow);
    if (ec) {
      if (clock::now() < deadline && (ec == client_errc::disconnected || ec == client_errc::timeout))
        continue;
      co_return std::tuple{ec, Out{}};
    }
    Out out;
    int16_t error = 0;
    auto take = [&](const std::string& name, int32_t partition, int64_t offset, int16_t code) {
      if (code && !error) error = code;
      out[{name, partition}] = offset >= 0 ? std::optional<int64_t>(offset) : std::nullopt;
    };
    if (reply.version >= 8) {
      for (const auto& g : reply->groups) {
        if (g.error_code && !error) error = g.error_code;
        for (const auto& t : g.topics) {
          std::string name = t.name;
          if (reply.version >= 10)
            if (const auto* info = pool_->metadata().topic_by_id(t.topic_id)) name = info->name;
          for (const auto& p : t.partitions) take(name, p.partition_index, p.committed_offset, p.error_code);
        }
      }
    } else {
      error = reply->error_code;
      for (const auto& t : reply->topics)
        for (const auto& p : t.partitions) take(t.name, p.partition_index, p.committed_offset, p.error_code);
    }
    if (error == 0) co_return std::tuple{std::error_code{}, out};
    const auto action = net::error_action(error);
    if (action == net::ErrorAction::find_coordinator) pool_->forget_coordinator(config_.group_id);
    // UNSTABLE_OFFSET_COMMIT (88): a transaction's commit is pending; ask again shortly.
    if ((action == net::ErrorAction::find_coordinator || action == net::ErrorAction::retry || error == 88) &&
        clock::now() < deadline)
      continue;
    set_error("committed offsets of group " + config_.group_id + ": " + kafka_error_name(error));
    co_return std::tuple{make_kafka_error(error), Out{}};
  }
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
  for (auto& [tp, p] : parts_) p->buffer.discard();
  pool_->close();
  wake();
  co_return std::tuple{ec, std::monostate{}};
}

}  // namespace kafkawire
