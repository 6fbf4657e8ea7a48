// The Consumer's state and background work (see Consumer in consumer.hpp). Private to consumer/src.
//
// Everything the consumer's coroutines use lives in the Core, and every coroutine holds it: the
// application's operations through Core::run, the background work (fetches, group requests, the revoke
// step) through Core::spawn, whose completion also turns an escaping exception into stop(). Destroying
// the Consumer marks the Core destroyed and closes its connections; what is still running finishes on a
// Core that is still there, and every operation in flight completes with operation_aborted.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <exception>
#include <string>
#include <type_traits>

#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/protocol/offset_requests.hpp"
#include "partition_state.hpp"

namespace kafkawire {

// What an operation of the Consumer returns inside: the result and, when it failed, what failed in words.
// The text reaches error_text() only when the application's operation completes with it (Core::run), so
// a background error never replaces the text of the operation the application just saw fail.
template <class T>
using Outcome = OffsetResult<T>;

// An error and its text, for the steps of an operation that have no result of their own.
struct Failure {
  std::error_code ec;
  std::string text;
  explicit operator bool() const { return static_cast<bool>(ec); }
};

struct Consumer::Core : std::enable_shared_from_this<Consumer::Core> {
  // open: working. closed: close() finished, or an exception stopped the background work; every
  // operation fails at once with failure_ (operation_aborted, or internal_error naming the exception).
  // destroyed: the Consumer is gone; the work still running ends at its next step, no listener is called,
  // and every operation in flight completes with operation_aborted.
  enum class Stage { open, closed, destroyed };

  Core(executor_type ex, Config config);

  // Runs one of the application's operations: holds the Core while it runs, turns an exception that
  // escapes it into stop(), and hands its error text to error_text() as it completes.
  template <class T>
  static net::Pool::Result<T> run(std::shared_ptr<Core> self, asio::awaitable<Outcome<T>> op);
  // co_spawn for background work, with a completion that holds the Core and turns an escaping exception
  // into stop(): the consumer closes and the next poll reports it.
  template <class Work>
  void spawn(Work work) {
    asio::co_spawn(executor_, std::move(work), [self = shared_from_this()](std::exception_ptr e) {
      if (e) self->stop(e);
    });
  }
  void stop(std::exception_ptr e);
  void destroy();
  // What closing, stopping and destroying share: no timer stays armed, no commit waits, no connection
  // stays open, and a waiting poll wakes up to see the stage.
  void shut_down();

  // The operations behind Consumer's async_ functions.
  asio::awaitable<Outcome<std::span<const Record>>> poll(std::chrono::milliseconds timeout);
  asio::awaitable<Outcome<std::monostate>> commit(std::map<TopicPartition, int64_t> offsets);
  asio::awaitable<Outcome<OffsetClient::Committed>> committed(std::vector<TopicPartition> partitions);
  asio::awaitable<Outcome<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>> offsets_for_times(
      std::map<TopicPartition, int64_t> timestamps);
  asio::awaitable<Outcome<std::map<TopicPartition, int64_t>>> list_offsets(
      std::vector<TopicPartition> partitions, int64_t which);
  asio::awaitable<Outcome<std::monostate>> close(std::chrono::milliseconds timeout);
  // The closing commit, through the coordinator-request helper, ended by the close's deadline.
  asio::awaitable<Outcome<std::monostate>> commit_on_close(std::map<TopicPartition, int64_t> positions,
                                                           std::chrono::steady_clock::time_point deadline);

  // The application-facing calls without I/O (consumer.cpp).
  void assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;
  void seek(const TopicPartition& tp, int64_t offset);
  void seek_to(const std::vector<TopicPartition>& partitions, int64_t which);
  void set_paused(const std::vector<TopicPartition>& partitions, bool paused);
  std::vector<TopicPartition> paused() const;
  std::optional<int64_t> position(const TopicPartition& tp) const;
  std::map<TopicPartition, int64_t> current_positions() const;
  void subscribe(std::vector<std::string> topics);
  void subscribe(const std::regex& pattern);
  void subscribe_pattern(std::string regex);
  void unsubscribe();

  asio::awaitable<Failure> ensure_metadata();
  // Positions from the committed offsets, else auto.offset.reset; failed_in: the API an error came from.
  asio::awaitable<Failure> resolve_positions(std::chrono::steady_clock::time_point deadline,
                                             ApiFamily& failed_in);
  asio::awaitable<Failure> maybe_auto_commit();
  // Fetching (fetch_driver.cpp): the sessions and buffers decide, these carry it out.
  void start_fetches();
  int32_t leader_epoch(const TopicPartition& tp) const;  // from the metadata (-1: none known)
  asio::awaitable<void> fetch_from(int32_t node, std::vector<TopicPartition> partitions);
  void handle_fetch_result(int32_t node, const fetch::FetchResult& result, const fetch::Frame& frame);
  bool drain(std::vector<Record>& out, size_t max, Failure& failure);
  PartitionState* state(const TopicPartition& tp);
  // A failure of the background work, for the next poll to report (with its text).
  void fail_next_poll(std::error_code ec, std::string text);
  void wake() { data_ready_.cancel(); }

  // Group membership: the state machine decides, these carry out its actions (group_driver.cpp). One
  // machine per consumer, as group.protocol says: GroupMember (classic) or ConsumerGroupMember (KIP-848).
  // dispatch() feeds an event to it; an event both machines take (TimerFired, RevokeDone, ...) goes to
  // whichever there is. Closed, stopped or destroyed: answers still arriving change nothing.
  template <class E>
  void dispatch(E event) {
    if (stage_ != Stage::open) return;
    if constexpr (std::is_constructible_v<group::Event, E>) {
      if (group_) {
        for (auto& a : group_->on_event(group::Event(std::move(event)), std::chrono::steady_clock::now()))
          execute(a);
        return;
      }
    }
    if constexpr (std::is_constructible_v<group::consumer_group::Event, E>) {
      if (consumer_group_)
        for (auto& a : consumer_group_->on_event(group::consumer_group::Event(std::move(event)),
                                                 std::chrono::steady_clock::now()))
          execute(a);
    }
  }
  void execute(group::Action& action);
  void execute(group::consumer_group::Action& action);
  void start_group_machine();
  void send_offset_fetch(int32_t node, group::Tag tag, protocol::OffsetFetchQuery query);
  bool in_group() const { return group_ || consumer_group_; }
  // What commits carry: the generation (classic) or member epoch (consumer) and member id; -1 and "" when
  // not in a group.
  int32_t group_generation() const;
  std::string group_member_id() const;
  bool group_failed() const;    // the machine is in its terminal error state
  bool group_finished() const;  // left or failed: close waits for this
  template <class Req, class Make, class Done>
  void send_group_request(int32_t node, Make make, std::chrono::milliseconds extra_wait, int16_t max_version,
                          Done done, int16_t min_version = Req::min_version);
  void apply_assignment_change(const std::vector<TopicPartition>& add,
                               const std::vector<TopicPartition>& remove);
  asio::awaitable<Outcome<std::monostate>> commit_through_group(std::map<TopicPartition, int64_t> offsets);
  void refresh_pattern_subscription();
  void maybe_refresh_group_metadata();
  asio::awaitable<void> revoke_then_done(std::vector<TopicPartition> partitions);
  // Calls a rebalance listener. What it throws is kept for poll to report, as Java's KafkaConsumer
  // rethrows it from poll(); the rebalance goes on.
  void call_listener(const std::function<void(const std::vector<TopicPartition>&)>& callback,
                     std::string_view name, const std::vector<TopicPartition>& partitions);

  std::unique_ptr<group::GroupMember> group_;                   // group.protocol=classic
  std::unique_ptr<group::ConsumerGroupMember> consumer_group_;  // group.protocol=consumer
  std::vector<std::unique_ptr<asio::steady_timer>> group_timers_;
  std::vector<uint64_t> group_timer_seq_;
  struct CommitWaiter {
    std::shared_ptr<asio::steady_timer> done;
    std::error_code result;
    std::vector<group::CommitOutcome> results;
    bool finished = false;
  };
  std::map<uint64_t, CommitWaiter> commit_waiters_;
  uint64_t next_commit_id_ = 1;
  RebalanceListener listener_;
  // What a listener threw and poll has not reported yet; then what the application may take
  // (Consumer::take_listener_exception).
  std::exception_ptr listener_thrown_;
  std::string listener_text_;
  std::exception_ptr listener_reported_;
  std::optional<std::regex> pattern_;
  std::chrono::steady_clock::time_point pattern_refreshed_{};
  // The group leader's periodic look at its topics' partition counts (metadata.max.age.ms).
  std::chrono::steady_clock::time_point group_metadata_refreshed_{};
  bool group_metadata_in_flight_ = false;
  std::vector<std::string> subscription_;

  executor_type executor_;
  Config config_;
  std::shared_ptr<net::Pool> pool_;
  // Shared by every partition's buffer: the queued.max.messages.kbytes count, generations, and the frames
  // the last poll's records may still point into.
  fetch::BufferLedger ledger_;
  OffsetClient offsets_;  // commit, committed, ListOffsets (offset_client.hpp)
  std::map<TopicPartition, std::unique_ptr<PartitionState>> parts_;
  std::map<int32_t, fetch::FetchSession> sessions_;  // per broker (KIP-227)
  std::set<int32_t> fetching_nodes_;
  asio::steady_timer data_ready_;
  std::vector<Record> batch_;  // the last poll's records; reused so polls do not allocate per record
  // Partitions assign() let go of while the last poll's records may still point at their state.
  std::vector<std::unique_ptr<PartitionState>> retired_parts_;
  size_t round_robin_ = 0;  // which partition drain starts with, so none starves
  // The text of the last operation that failed, set as it completes (Core::run).
  std::string error_text_;
  Failure fetch_failure_;  // from the fetch path or the group, reported by the next poll
  std::chrono::steady_clock::time_point last_auto_commit_;
  Stage stage_ = Stage::open;
  Failure failure_;  // why the stage is no longer open: what every operation completes with
  // Set by close(): the revocation's default commit goes through commit_on_close within it.
  std::optional<std::chrono::steady_clock::time_point> closing_deadline_;
  bool metadata_stale_ = true;
  // Set by group membership (subscribe); a plain assign() consumer commits with generation -1, no member.
  int32_t generation_ = -1;
  std::string member_id_;
};

template <class T>
net::Pool::Result<T> Consumer::Core::run(std::shared_ptr<Core> self, asio::awaitable<Outcome<T>> op) {
  Outcome<T> r;
  try {
    r = co_await std::move(op);
  } catch (...) {
    self->stop(std::current_exception());
    r = Outcome<T>{self->failure_.ec, self->failure_.text, T{}};
  }
  if (self->stage_ == Stage::destroyed)
    co_return std::tuple{std::error_code(client_errc::operation_aborted), T{}};
  if (r.ec) self->error_text_ = std::move(r.error_text);
  co_return std::tuple{r.ec, std::move(r.value)};
}

}  // namespace kafkawire
