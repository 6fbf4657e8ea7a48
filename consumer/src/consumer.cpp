#include "kafkawire/consumer/consumer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "consumer_core.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/list_offsets.hpp"

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

Consumer::Core::Core(executor_type ex, Config config)
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

// ------------------------------------------------------------------------------------- the facade

Consumer::Consumer(executor_type ex, Config config)
    : executor_(ex), core_(std::make_shared<Core>(ex, std::move(config))) {}

Consumer::~Consumer() { core_->destroy(); }

const Config& Consumer::config() const { return core_->config_; }
net::Pool& Consumer::pool() { return *core_->pool_; }
void Consumer::subscribe(std::vector<std::string> topics) { core_->subscribe(std::move(topics)); }
void Consumer::subscribe_pattern(std::string regex) { core_->subscribe_pattern(std::move(regex)); }
void Consumer::subscribe(const std::regex& pattern) { core_->subscribe(pattern); }
void Consumer::unsubscribe() { core_->unsubscribe(); }
void Consumer::set_rebalance_listener(RebalanceListener listener) { core_->listener_ = std::move(listener); }
std::exception_ptr Consumer::take_listener_exception() {
  return std::exchange(core_->listener_reported_, {});
}
const group::GroupMember* Consumer::membership() const { return core_->group_.get(); }
const group::ConsumerGroupMember* Consumer::consumer_group_membership() const {
  return core_->consumer_group_.get();
}
std::string Consumer::rebalance_timeline() const {
  if (core_->group_) return core_->group_->timeline_text();
  if (core_->consumer_group_) return core_->consumer_group_->timeline_text();
  return {};
}
void Consumer::assign(const std::vector<TopicPartition>& partitions) { core_->assign(partitions); }
std::vector<TopicPartition> Consumer::assignment() const { return core_->assignment(); }
void Consumer::seek(const TopicPartition& tp, int64_t offset) { core_->seek(tp, offset); }
void Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  core_->seek_to(partitions, proto::ListOffsetsRequest::kEarliestTimestamp);
}
void Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  core_->seek_to(partitions, proto::ListOffsetsRequest::kLatestTimestamp);
}
void Consumer::pause(const std::vector<TopicPartition>& partitions) { core_->set_paused(partitions, true); }
void Consumer::resume(const std::vector<TopicPartition>& partitions) { core_->set_paused(partitions, false); }
std::vector<TopicPartition> Consumer::paused() const { return core_->paused(); }
std::optional<int64_t> Consumer::position(const TopicPartition& tp) const { return core_->position(tp); }
std::map<TopicPartition, int64_t> Consumer::current_positions() const { return core_->current_positions(); }
ConsumerGroupMetadata Consumer::group_metadata() const {
  const Config& c = config();
  ConsumerGroupMetadata m{c.group_id, -1, {}, c.group_instance_id};
  if (core_->in_group()) {
    m.generation_id = core_->group_generation();
    m.member_id = core_->group_member_id();
  }
  return m;
}
TransactionOffsets Consumer::transaction_offsets() const { return {group_metadata(), current_positions()}; }
const std::string& Consumer::error_text() const { return core_->error_text_; }
const OffsetClient& Consumer::offset_client() const { return core_->offsets_; }

net::Pool::Result<std::span<const Record>> Consumer::poll(std::chrono::milliseconds timeout) {
  return Core::run(core_, core_->poll(timeout));
}
net::Pool::Result<std::monostate> Consumer::commit(std::map<TopicPartition, int64_t> offsets) {
  return Core::run(core_, core_->commit(std::move(offsets)));
}
net::Pool::Result<std::map<TopicPartition, std::optional<int64_t>>> Consumer::committed(
    std::vector<TopicPartition> partitions) {
  return Core::run(core_, core_->committed(std::move(partitions)));
}
net::Pool::Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> Consumer::offsets_for_times(
    std::map<TopicPartition, int64_t> timestamps) {
  return Core::run(core_, core_->offsets_for_times(std::move(timestamps)));
}
net::Pool::Result<std::map<TopicPartition, int64_t>> Consumer::list_offsets(
    std::vector<TopicPartition> partitions, int64_t which) {
  return Core::run(core_, core_->list_offsets(std::move(partitions), which));
}
net::Pool::Result<std::monostate> Consumer::close(std::chrono::milliseconds timeout) {
  return Core::run(core_, core_->close(timeout));
}

// ---------------------------------------------------------------------------------- lifetime

void Consumer::Core::stop(std::exception_ptr e) {
  // The consumer's state is unknown after an exception: nothing more is fetched or sent, and every
  // operation fails with internal_error, the exception's text attached.
  const std::string what = describe_exception(e);
  if (stage_ != Stage::open) return;
  stage_ = Stage::closed;
  failure_ = {client_errc::internal_error,
              "the consumer stopped: an exception escaped its background work: " + what};
  shut_down();
}

void Consumer::Core::destroy() {
  stage_ = Stage::destroyed;
  failure_ = {client_errc::operation_aborted, "the consumer was destroyed"};
  shut_down();
}

void Consumer::Core::shut_down() {
  // Nothing may stay armed: a callback-style caller's io_context.run() returns when the work is done
  // only if the member's timers (poll interval, session) are gone too.
  for (size_t k = 0; k < group_timers_.size(); ++k) {
    ++group_timer_seq_[k];  // the cancelled wait is not a firing
    group_timers_[k]->cancel();
  }
  for (auto& [id, waiter] : commit_waiters_) waiter.done->cancel();  // they look at the stage
  for (auto& [tp, p] : parts_) p->buffer.discard();
  pool_->close();
  wake();
}

void Consumer::Core::fail_next_poll(std::error_code ec, std::string text) {
  fetch_failure_ = {ec, std::move(text)};
  wake();
}

PartitionState* Consumer::Core::state(const TopicPartition& tp) {
  auto it = parts_.find(tp);
  return it == parts_.end() ? nullptr : it->second.get();
}

void Consumer::Core::assign(const std::vector<TopicPartition>& partitions) {
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

std::vector<TopicPartition> Consumer::Core::assignment() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_) out.push_back(tp);
  return out;
}

void Consumer::Core::seek(const TopicPartition& tp, int64_t offset) {
  if (auto* p = state(tp)) {
    p->buffer.seek(offset);
    p->pending_reset = 0;
  }
}

void Consumer::Core::seek_to(const std::vector<TopicPartition>& partitions, int64_t which) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) {
      p->buffer.seek(std::nullopt);
      p->pending_reset = which;
    }
}

void Consumer::Core::set_paused(const std::vector<TopicPartition>& partitions, bool paused) {
  for (const auto& tp : partitions)
    if (auto* p = state(tp)) p->buffer.set_paused(paused);
  if (!paused) wake();
}

std::vector<TopicPartition> Consumer::Core::paused() const {
  std::vector<TopicPartition> out;
  for (const auto& [tp, p] : parts_)
    if (p->buffer.paused()) out.push_back(tp);
  return out;
}

std::optional<int64_t> Consumer::Core::position(const TopicPartition& tp) const {
  auto it = parts_.find(tp);
  return it == parts_.end() ? std::nullopt : it->second->buffer.position();
}

std::map<TopicPartition, int64_t> Consumer::Core::current_positions() const {
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, p] : parts_)
    if (const auto position = p->buffer.position()) out[tp] = *position;
  return out;
}

// ------------------------------------------------------------------------------------------- metadata

asio::awaitable<Failure> Consumer::Core::ensure_metadata() {
  std::set<std::string> topics;
  bool refresh = metadata_stale_;
  for (const auto& [tp, p] : parts_) {
    topics.insert(tp.topic);
    if (pool_->needs_metadata(tp.topic)) refresh = true;
  }
  if (!refresh || topics.empty()) co_return Failure{};
  auto [ec, none] = co_await pool_->refresh_metadata(std::vector<std::string>(topics.begin(), topics.end()),
                                                     config_.allow_auto_create_topics);
  if (ec)
    co_return Failure{
        ec, "metadata from bootstrap.servers=" + config_.bootstrap_servers + ": " + pool_->describe(ec)};
  metadata_stale_ = false;
  for (auto& [node, session] : sessions_) session.on_metadata_updated();  // held partitions may go again
  for (const auto& [tp, p] : parts_) {
    const net::TopicInfo* t = pool_->metadata().topic(tp.topic);
    if (!t || as_errc(t->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(t->error_code) == kafka_errc::unknown_topic_id)
      co_return Failure{client_errc::unknown_topic, tp.topic + ": the cluster has no such topic"};
    if (t->error_code != 0 &&
        error_action(ApiFamily::metadata, t->error_code) != ErrorAction::refresh_metadata)
      co_return Failure{make_kafka_error(t->error_code), tp.topic + ": " + kafka_error_name(t->error_code)};
    if (t->error_code == 0 && static_cast<size_t>(tp.partition) >= t->partitions.size())
      co_return Failure{client_errc::unknown_topic, to_string(tp) + ": topic " + tp.topic + " has " +
                                                        std::to_string(t->partitions.size()) + " partitions"};
  }
  co_return Failure{};
}

// ------------------------------------------------------------------------------------------ positions

asio::awaitable<Failure> Consumer::Core::resolve_positions(clock::time_point deadline, ApiFamily& failed_in) {
  std::vector<TopicPartition> unknown;
  for (const auto& [tp, p] : parts_)
    if (!p->buffer.position() && p->pending_reset == 0 && !p->awaiting_group_offsets) unknown.push_back(tp);
  // First the group's committed offsets, retried within the poll's time (as Java's poll does); the next
  // poll asks again.
  failed_in = ApiFamily::offset_fetch;
  if (!unknown.empty() && !config_.group_id.empty()) {
    // Retried within the poll's time (as Java's poll does); the next poll asks again.
    OffsetClientOptions within_poll = offsets_.options();
    within_poll.timeout =
        std::clamp(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()),
                   std::chrono::milliseconds(0), within_poll.timeout);
    auto r = co_await OffsetClient(pool_, within_poll).committed(unknown);
    if (r.ec) co_return Failure{r.ec, std::move(r.error_text)};
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
  if (!none.empty())
    co_return Failure{client_errc::no_offset,
                      partition_list(none) + ": no committed offset and auto.offset.reset=none"};
  failed_in = ApiFamily::list_offsets;
  for (auto* list : {&earliest, &latest}) {
    if (list->empty()) continue;
    const int64_t which = list == &earliest ? proto::ListOffsetsRequest::kEarliestTimestamp
                                            : proto::ListOffsetsRequest::kLatestTimestamp;
    auto r = co_await list_offsets(*list, which);
    if (r.ec) co_return Failure{r.ec, std::move(r.error_text)};
    for (const auto& [tp, off] : r.value)
      if (auto* p = state(tp); p && !p->buffer.position()) {
        p->buffer.seek(off);
        p->pending_reset = 0;
      }
  }
  co_return Failure{};
}

asio::awaitable<Outcome<std::span<const Record>>> Consumer::Core::poll(std::chrono::milliseconds timeout) {
  using Result = Outcome<std::span<const Record>>;
  auto failed = [](Failure f) { return Result{f.ec, std::move(f.text), {}}; };
  if (stage_ != Stage::open) co_return failed(failure_);
  const auto deadline = clock::now() + timeout;
  // The previous poll's records are no longer referenced: their buffers can be reused, except the one
  // holding a batch still being read.
  batch_.clear();
  ledger_.retired.clear();
  retired_parts_.clear();
  for (auto& [tp, p] : parts_) p->buffer.poll_started();
  (void)co_await maybe_auto_commit();  // a failed auto-commit is tried again at the next interval
  if (stage_ != Stage::open) co_return failed(failure_);
  if (pattern_ && clock::now() - pattern_refreshed_ >=
                      (in_group() ? config_.metadata_max_age : std::chrono::milliseconds(0))) {
    // A pattern subscription looks at every topic of the cluster.
    pattern_refreshed_ = clock::now();
    auto [mec, none] = co_await pool_->refresh_metadata(std::nullopt);
    if (stage_ != Stage::open) co_return failed(failure_);
    if (!mec) refresh_pattern_subscription();
  }
  dispatch(group::event::PollCalled{});  // the group's max.poll.interval.ms clock
  maybe_refresh_group_metadata();        // the leader watches for partition-count changes

  Failure last;
  for (;;) {
    if (stage_ != Stage::open) co_return failed(failure_);
    if (listener_thrown_) {
      // Reported once; the application takes the exception itself with take_listener_exception().
      listener_reported_ = std::exchange(listener_thrown_, {});
      co_return failed({client_errc::listener_failed, std::exchange(listener_text_, {})});
    }
    if (fetch_failure_) co_return failed(std::exchange(fetch_failure_, {}));
    ApiFamily failed_in = ApiFamily::metadata;
    Failure f = co_await ensure_metadata();
    if (!f) f = co_await resolve_positions(deadline, failed_in);
    if (f && poll_gives_up(failed_in, f.ec)) co_return failed(std::move(f));
    if (!f) {
      start_fetches();
      Failure read;
      if (drain(batch_, static_cast<size_t>(config_.max_poll_records), read) || read) {
        start_fetches();  // partitions drained (or below the prefetch bound) by this poll fetch meanwhile
        co_return Result{read.ec, std::move(read.text), std::span<const Record>(batch_)};
      }
    }
    const bool retry = static_cast<bool>(f);
    last = std::move(f);
    if (clock::now() >= deadline) break;
    // Wait for a fetch to land (wake() cancels the timer), a retry backoff, or the deadline.
    data_ready_.expires_at(retry ? std::min(deadline, clock::now() + config_.retry_backoff) : deadline);
    co_await data_ready_.async_wait(use_nothrow);
  }
  // Nothing arrived in time. Transient trouble reaching the cluster is reported, with what it was.
  if (last && pool_->metadata().brokers().empty()) co_return failed(std::move(last));
  co_return Result{};
}

// ------------------------------------------------------------------------------------------ committing

asio::awaitable<Failure> Consumer::Core::maybe_auto_commit() {
  if (!config_.enable_auto_commit || config_.group_id.empty()) co_return Failure{};
  if (clock::now() - last_auto_commit_ < config_.auto_commit_interval) co_return Failure{};
  last_auto_commit_ = clock::now();
  auto positions = current_positions();
  if (positions.empty()) co_return Failure{};
  auto r = co_await commit(std::move(positions));
  co_return Failure{r.ec, std::move(r.error_text)};
}

asio::awaitable<Outcome<std::monostate>> Consumer::Core::close(std::chrono::milliseconds timeout) {
  using Result = Outcome<std::monostate>;
  if (stage_ == Stage::closed) co_return Result{};
  // The whole close (its commit, the revocation, LeaveGroup) ends by this deadline, as Java's
  // close(Duration) does; what is not done by then is left (the group times the member out).
  const auto deadline = clock::now() + timeout;
  closing_deadline_ = deadline;
  Result out;
  if (config_.enable_auto_commit && !config_.group_id.empty() && (!in_group() || group_generation() >= 0)) {
    auto positions = current_positions();
    if (!positions.empty()) out = co_await commit_on_close(std::move(positions), deadline);
  }
  if (in_group() && stage_ == Stage::open) {
    // Revoke (the listener runs; the default commit, through the same helper, finds nothing left to
    // commit after a successful closing commit), then LeaveGroup.
    dispatch(group::event::Close{});
    while (stage_ == Stage::open && !group_finished() && clock::now() < deadline) {
      asio::steady_timer t(executor_,
                           std::min<clock::duration>(std::chrono::milliseconds(20),
                                                     std::max<clock::duration>(deadline - clock::now(), {})));
      co_await t.async_wait(use_nothrow);
    }
  }
  if (stage_ != Stage::open) co_return Result{failure_.ec, failure_.text, {}};
  if (!out.ec && listener_thrown_) {
    listener_reported_ = std::exchange(listener_thrown_, {});
    out = Result{client_errc::listener_failed, std::exchange(listener_text_, {}), {}};
  }
  stage_ = Stage::closed;
  failure_ = {client_errc::operation_aborted, "the consumer is closed"};
  shut_down();
  co_return out;
}

// The closing commit goes through the coordinator-request helper (net/coordinator_request.hpp): on
// NOT_COORDINATOR it finds the coordinator again, within the close's deadline. A group member's commit
// carries its generation and member id (mid-rebalance the broker refuses it at once, as Java's close
// gives up its commit then).
asio::awaitable<Outcome<std::monostate>> Consumer::Core::commit_on_close(
    std::map<TopicPartition, int64_t> positions, clock::time_point deadline) {
  using Result = Outcome<std::monostate>;
  std::vector<group::OffsetToCommit> to_commit;
  for (const auto& [tp, off] : positions)
    if (const auto* p = state(tp)) to_commit.push_back({tp, off, p->buffer.position_epoch(), std::string()});
  OffsetClientOptions within_close = offsets_.options();
  within_close.timeout =
      std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()),
               std::chrono::milliseconds(0));
  // The helper's budget is looked at between attempts; a coordinator that never answers is cut off here,
  // at the deadline (the commit ends with operation_aborted when close shuts the pool).
  struct Pending {
    explicit Pending(executor_type ex, clock::time_point at) : done(ex, at) {}
    asio::steady_timer done;
    std::optional<OffsetResult<OffsetClient::CommitOutcomes>> result;
  };
  auto pending = std::make_shared<Pending>(executor_, deadline);
  spawn([pending, client = OffsetClient(pool_, within_close), to_commit = std::move(to_commit),
         generation = in_group() ? group_generation() : generation_,
         member_id = in_group() ? group_member_id() : member_id_]() mutable -> asio::awaitable<void> {
    pending->result = co_await client.commit(std::move(to_commit), generation, std::move(member_id));
    pending->done.cancel();
  });
  if (!pending->result) co_await pending->done.async_wait(use_nothrow);
  if (!pending->result)
    co_return Result{
        client_errc::timeout,
        "commit to group " + config_.group_id + " on close: no answer within the close's timeout",
        {}};
  const auto& r = *pending->result;
  for (const auto& o : r.value)
    if (!o.ec)
      if (auto* p = state(o.tp)) p->committed = o.offset;
  co_return Result{r.ec, r.error_text, {}};
}

}  // namespace kafkawire
