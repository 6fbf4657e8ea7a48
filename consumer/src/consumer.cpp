#include "kafkawire/consumer/consumer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/list_offsets.hpp"
#include "partition_state.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using namespace std::chrono_literals;
using clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

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

// Whether poll() reports an error at once instead of trying again until its deadline: the consumer's own
// verdicts, and a broker's error that the error policy says retrying cannot help (GROUP_ID_NOT_FOUND or
// GROUP_AUTHORIZATION_FAILED from OffsetFetch, TOPIC_AUTHORIZATION_FAILED, ...). Lost connections and
// timeouts are tried again.
bool poll_gives_up(ApiFamily family, std::error_code ec) {
  if (ec == client_errc::unknown_topic || ec == client_errc::no_offset || ec == client_errc::invalid_config)
    return true;
  return ec.category() == kafka_category() && !is_retry(error_action(family, ec));
}

std::string kafka_error_name(int16_t code) {
  const auto* e = find_kafka_error(code);
  return e ? std::string(e->name) : "error " + std::to_string(code);
}

}  // namespace

Consumer::Consumer(executor_type ex, Config config)
    : executor_(ex),
      config_(std::move(config)),
      pool_(net::Pool::create(ex, pool_options(config_))),
      offsets_(pool_, offset_client_options(config_)),
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
    if (pool_->needs_metadata(tp.topic)) refresh = true;
  }
  if (!refresh || topics.empty()) co_return std::error_code{};
  auto [ec, none] = co_await pool_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end()),
                                                     config_.allow_auto_create_topics);
  if (ec) {
    set_error("metadata from bootstrap.servers=" + config_.bootstrap_servers + ": " + ec.message());
    co_return ec;
  }
  metadata_stale_ = false;
  for (auto& [node, session] : sessions_) session.on_metadata_updated();  // held partitions may go again
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

asio::awaitable<std::error_code> Consumer::resolve_positions(clock::time_point deadline,
                                                             ApiFamily& failed_in) {
  std::vector<TopicPartition> unknown;
  for (const auto& [tp, p] : parts_)
    if (!p->buffer.position() && p->pending_reset == 0 && !p->awaiting_group_offsets) unknown.push_back(tp);
  // First the group's committed offsets, retried within the poll's time (as Java's poll does); the next
  // poll asks again.
  failed_in = ApiFamily::offset_fetch;
  if (!unknown.empty() && !config_.group_id.empty()) {
    auto alive = alive_;
    OffsetClientOptions within_poll = offsets_.options();
    within_poll.timeout =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()),
                   std::chrono::milliseconds(0), within_poll.timeout);
    auto r = co_await OffsetClient(pool_, within_poll).committed(unknown);
    if (!*alive) co_return client_errc::operation_aborted;
    if (r.ec) {
      set_error(r.error_text);
      co_return r.ec;
    }
    for (const auto& [tp, off] : r.value)
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
  failed_in = ApiFamily::list_offsets;
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
    ApiFamily failed_in = ApiFamily::metadata;
    std::error_code ec = co_await ensure_metadata();
    if (!ec) ec = co_await resolve_positions(deadline, failed_in);
    if (ec && poll_gives_up(failed_in, ec)) co_return std::tuple{ec, std::span<const Record>()};
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

net::Pool::Result<std::monostate> Consumer::close(std::chrono::milliseconds timeout) {
  if (closed_) co_return std::tuple{std::error_code{}, std::monostate{}};
  auto alive = alive_;
  // The whole close (its commit, the revocation, LeaveGroup) ends by this deadline, as Java's
  // close(Duration) does; what is not done by then is left (the group times the member out).
  const auto deadline = clock::now() + timeout;
  std::error_code ec;
  closing_deadline_ = deadline;
  if (config_.enable_auto_commit && !config_.group_id.empty() && (!group_ || group_->generation() >= 0)) {
    auto positions = current_positions();
    if (!positions.empty()) {
      ec = co_await commit_on_close(std::move(positions), deadline);
      if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    }
  }
  if (group_) {
    // Revoke (the listener runs; the default commit, through the same helper, finds nothing left to
    // commit after a successful closing commit), then LeaveGroup.
    dispatch(group::event::Close{});
    while (*alive && group_->state() != group::State::left && group_->state() != group::State::fatal &&
           clock::now() < deadline) {
      asio::steady_timer t(executor_,
                           std::min<clock::duration>(std::chrono::milliseconds(20),
                                                     std::max<clock::duration>(deadline - clock::now(), {})));
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
  // A commit through the group machine still waiting (a listener's, on revocation) ends now, not at its
  // own deadline.
  for (auto& [id, waiter] : commit_waiters_) waiter.done->cancel();
  for (auto& [tp, p] : parts_) p->buffer.discard();
  pool_->close();
  wake();
  co_return std::tuple{ec, std::monostate{}};
}

// The closing commit goes through the coordinator-request helper (net/coordinator_request.hpp): on
// NOT_COORDINATOR it finds the coordinator again, within the close's deadline. A group member's commit
// carries its generation and member id (mid-rebalance the broker refuses it at once, as Java's close
// gives up its commit then).
asio::awaitable<std::error_code> Consumer::commit_on_close(std::map<TopicPartition, int64_t> positions,
                                                           clock::time_point deadline) {
  auto alive = alive_;
  std::vector<group::OffsetToCommit> to_commit;
  for (const auto& [tp, off] : positions)
    if (const auto* p = state(tp)) to_commit.push_back({tp, off, p->buffer.position_epoch(), std::string()});
  OffsetClientOptions within_close = offsets_.options();
  within_close.timeout =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()),
               std::chrono::milliseconds(0));
  // The helper's budget is looked at between attempts; a coordinator that never answers is cut off here,
  // at the deadline (the commit ends with operation_aborted when the pool closes).
  struct Outcome {
    explicit Outcome(executor_type ex, clock::time_point at) : done(ex, at) {}
    asio::steady_timer done;
    std::optional<OffsetResult<OffsetClient::CommitOutcomes>> result;
  };
  auto outcome = std::make_shared<Outcome>(executor_, deadline);
  asio::co_spawn(
      executor_,
      [outcome, client = OffsetClient(pool_, within_close), to_commit = std::move(to_commit),
       generation = group_ ? group_->generation() : generation_,
       member_id = group_ ? group_->member_id() : member_id_]() mutable -> asio::awaitable<void> {
        outcome->result = co_await client.commit(std::move(to_commit), generation, std::move(member_id));
        outcome->done.cancel();
      },
      asio::detached);
  if (!outcome->result) co_await outcome->done.async_wait(use_nothrow);
  if (!*alive) co_return client_errc::operation_aborted;
  if (!outcome->result) {
    set_error("commit to group " + config_.group_id + " on close: no answer within the close's timeout");
    co_return client_errc::timeout;
  }
  const auto& r = *outcome->result;
  for (const auto& o : r.value)
    if (!o.ec)
      if (auto* p = state(o.tp)) p->committed = o.offset;
  if (r.ec) set_error(r.error_text);
  co_return r.ec;
}

}  // namespace kafkawire
