// The Consumer: reads partitions, tracks positions, commits offsets.
//
//   kafkawire::Config cfg{{"bootstrap.servers", "127.0.0.1:9092"}, {"group.id", "billing"},
//                         {"enable.auto.commit", "false"}, {"auto.offset.reset", "earliest"}};
//   kafkawire::Consumer consumer(io.get_executor(), cfg);
//   consumer.assign({{"orders", 0}, {"orders", 1}});
//   for (;;) {
//     auto [ec, records] = co_await consumer.async_poll(100ms, asio::as_tuple(asio::use_awaitable));
//     for (const kafkawire::Record& r : records) handle(r.topic(), r.partition(), r.offset(), r.value());
//     co_await consumer.async_commit(asio::use_awaitable);  // the positions after this batch
//   }
//
// Offsets, stated once: the committed offset of a partition is the offset of the next record to read.
// After a restart the consumer resumes at the committed offset; with none, auto.offset.reset decides
// (earliest, latest, or the typed error client_errc::no_offset naming the partition). Commit after
// processing and nothing is lost (at-least-once).
//
// Records are views into the fetched buffers, valid until the next poll (or close); copy what you keep.
//
// Fetching: one Fetch in flight per leader broker, on a connection of its own (never behind group
// traffic), for all of its assigned partitions. Prefetch: a partition whose buffered records are still
// being polled is fetched again from the offset after them (one answer ahead per partition), as long as
// the consumer buffers less than queued.max.messages.kbytes (64 MiB by default); the next Fetch goes out
// as soon as the previous answer lands, while the application processes its batch. seek, a reset and
// losing a partition drop its buffered, prefetched and in-flight data. Fetch sessions (KIP-227):
// after the first full fetch only changed partitions are sent; FETCH_SESSION_ID_NOT_FOUND or
// INVALID_FETCH_SESSION_EPOCH fall back to a full fetch. Leader changes go through the metadata cache
// (NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, KIP-951 CurrentLeader hints) without losing a position.
// The parts that decide all this, without I/O, are explained in kafkawire/consumer/fetch_session.hpp.
//
// Threading: a Consumer runs on the executor it was made with and starts no threads; call it from there.
// One async_poll at a time; commit, seek, pause and the rest may be called between polls.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/consumer/fetch_session.hpp"
#include "kafkawire/consumer/offset_client.hpp"
#include "kafkawire/consumer/partition_buffer.hpp"
#include "kafkawire/consumer/record.hpp"
#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/net/pool.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/fetch.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire {

namespace asio = boost::asio;
using protocol::Bytes;

// Where an assigned partition stands (its fetch::PartitionBuffer and the rest):
// consumer/src/partition_state.hpp.
struct PartitionState;

// Called from inside poll() (and close()) when the group changes this member's partitions. on_revoked
// runs before partitions are taken away: the default (no listener) commits their processed positions
// there, so the next owner starts where this one stopped. on_lost: the partitions already belong to
// someone else (the member was fenced or timed out); nothing may be committed for them.
// Set only the callbacks you need: RebalanceListener{.on_assigned = ...}.
struct RebalanceListener {
  std::function<void(const std::vector<TopicPartition>&)> on_assigned{};
  std::function<void(const std::vector<TopicPartition>&)> on_revoked{};
  std::function<void(const std::vector<TopicPartition>&)> on_lost{};
};

class Consumer {
 public:
  using executor_type = asio::any_io_executor;
  Consumer(executor_type ex, Config config);
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  executor_type get_executor() const { return executor_; }
  const Config& config() const { return config_; }
  net::Pool& pool() { return *pool_; }

  // Group membership (needs group.id): the group coordinator shares the topics' partitions among the
  // members; poll() drives the rebalances and calls the listener. subscribe() again to change topics.
  void subscribe(std::vector<std::string> topics);
  // Every topic whose name matches, re-evaluated at each metadata refresh (metadata.max.age.ms).
  void subscribe(const std::regex& pattern);
  void unsubscribe();
  void set_rebalance_listener(RebalanceListener listener) { listener_ = std::move(listener); }
  // The group's view of this member: nullptr when not subscribed.
  const group::GroupMember* membership() const { return group_.get(); }
  // One line per rebalance: reason, generation, phase durations, partitions revoked/kept/added, commits.
  std::string rebalance_timeline() const { return group_ ? group_->timeline_text() : std::string(); }

  // Manual assignment: replaces the current one. Partitions kept keep their positions.
  void assign(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> assignment() const;
  void unassign() { assign({}); }

  void seek(const TopicPartition& tp, int64_t offset);
  void seek_to_beginning(const std::vector<TopicPartition>& partitions);
  void seek_to_end(const std::vector<TopicPartition>& partitions);
  void pause(const std::vector<TopicPartition>& partitions);
  void resume(const std::vector<TopicPartition>& partitions);
  std::vector<TopicPartition> paused() const;
  // The next offset poll will deliver, if known (after a poll, a seek or a committed offset lookup).
  std::optional<int64_t> position(const TopicPartition& tp) const;

  // Waits up to `timeout` for records; completes with void(std::error_code, std::span<const Record>).
  // An error names what went wrong (error_text()): a partition with no offset and auto.offset.reset=none,
  // a CRC mismatch (topic, partition, offset), an unknown topic.
  template <class Token>
  auto async_poll(std::chrono::milliseconds timeout, Token&& token) {
    return net::async_run<std::span<const Record>>(executor_, poll(timeout), std::forward<Token>(token));
  }
  // Commits the positions after the last poll for every assigned partition (sync: completes when the
  // broker answered). Completes with void(std::error_code).
  template <class Token>
  auto async_commit(Token&& token) {
    return net::async_run(executor_, commit(current_positions()), std::forward<Token>(token));
  }
  template <class Token>
  auto async_commit(std::map<TopicPartition, int64_t> offsets, Token&& token) {
    return net::async_run(executor_, commit(std::move(offsets)), std::forward<Token>(token));
  }
  // The committed offsets of the group (nullopt where none).
  template <class Token>
  auto async_committed(std::vector<TopicPartition> partitions, Token&& token) {
    return net::async_run<std::map<TopicPartition, std::optional<int64_t>>>(
        executor_, committed(std::move(partitions)), std::forward<Token>(token));
  }
  // For each partition, the first offset whose timestamp is >= the given one (nullopt: none that late).
  template <class Token>
  auto async_offsets_for_times(std::map<TopicPartition, int64_t> timestamps, Token&& token) {
    return net::async_run<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>(
        executor_, offsets_for_times(std::move(timestamps)), std::forward<Token>(token));
  }
  // Earliest (-2) or latest (-1) offsets.
  template <class Token>
  auto async_list_offsets(std::vector<TopicPartition> partitions, int64_t which, Token&& token) {
    return net::async_run<std::map<TopicPartition, int64_t>>(
        executor_, list_offsets(std::move(partitions), which), std::forward<Token>(token));
  }
  // Commits (with enable.auto.commit), leaves the group and closes, all within `timeout` (30 s by default,
  // as Java's close()): after it, close completes with what it has (the commit's error, if any).
  static constexpr std::chrono::milliseconds kDefaultCloseTimeout{30000};
  template <class Token>
  auto async_close(Token&& token) {
    return net::async_run(executor_, close(), std::forward<Token>(token));
  }
  template <class Token>
  auto async_close(std::chrono::milliseconds timeout, Token&& token) {
    return net::async_run(executor_, close(timeout), std::forward<Token>(token));
  }

  // What the last error was about, in words: "orders-3: no committed offset and auto.offset.reset=none".
  const std::string& error_text() const { return error_text_; }
  // Commit, committed offsets and offset lookups without the Consumer's positions: each result carries
  // its own error text (offset_client.hpp).
  const OffsetClient& offset_client() const { return offsets_; }

  // The coroutines behind the async_ functions, for callers already in an asio::awaitable.
  net::Pool::Result<std::span<const Record>> poll(std::chrono::milliseconds timeout);
  net::Pool::Result<std::monostate> commit(std::map<TopicPartition, int64_t> offsets);
  net::Pool::Result<std::map<TopicPartition, std::optional<int64_t>>> committed(
      std::vector<TopicPartition> partitions);
  net::Pool::Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> offsets_for_times(
      std::map<TopicPartition, int64_t> timestamps);
  net::Pool::Result<std::map<TopicPartition, int64_t>> list_offsets(std::vector<TopicPartition> partitions,
                                                                    int64_t which);
  net::Pool::Result<std::monostate> close(std::chrono::milliseconds timeout = kDefaultCloseTimeout);

  std::map<TopicPartition, int64_t> current_positions() const;

 private:
  asio::awaitable<std::error_code> ensure_metadata();
  // Positions from the committed offsets, else auto.offset.reset; failed_in: the API an error came from.
  asio::awaitable<std::error_code> resolve_positions(std::chrono::steady_clock::time_point deadline,
                                                     ApiFamily& failed_in);
  // Fetching (fetch_driver.cpp): the sessions and buffers decide, these carry it out.
  void start_fetches();
  asio::awaitable<void> fetch_from(int32_t node, std::vector<TopicPartition> partitions);
  void handle_fetch_result(int32_t node, const fetch::FetchResult& result, const fetch::Frame& frame);
  int32_t leader_epoch(const TopicPartition& tp) const;  // from the metadata (-1: none known)
  bool drain(std::vector<Record>& out, size_t max, std::error_code& ec);
  PartitionState* state(const TopicPartition& tp);
  void set_error(std::string text) { error_text_ = std::move(text); }
  void wake() { data_ready_.cancel(); }
  asio::awaitable<std::error_code> maybe_auto_commit();
  asio::awaitable<std::error_code> commit_on_close(std::map<TopicPartition, int64_t> positions,
                                                   std::chrono::steady_clock::time_point deadline);

  // Group membership: the state machine decides, these carry out its actions (group_driver.cpp).
  void dispatch(group::Event event);
  void execute(group::Action& action);
  template <class Req, class Make, class Done>
  void send_group_request(int32_t node, Make make, std::shared_ptr<const void> keep_alive,
                          std::chrono::milliseconds extra_wait, int16_t max_version, Done done);
  void apply_assignment_change(const std::vector<TopicPartition>& add,
                               const std::vector<TopicPartition>& remove);
  net::Pool::Result<std::monostate> commit_through_group(std::map<TopicPartition, int64_t> offsets);
  void refresh_pattern_subscription();
  void maybe_refresh_group_metadata();
  asio::awaitable<void> revoke_then_done(std::vector<TopicPartition> partitions);

  std::unique_ptr<group::GroupMember> group_;
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
  std::string error_text_;
  std::error_code fetch_error_;  // an error from the fetch path, reported by the next poll
  std::chrono::steady_clock::time_point last_auto_commit_;
  bool closed_ = false;
  // Set by close(): the revocation's default commit goes through commit_on_close within it.
  std::optional<std::chrono::steady_clock::time_point> closing_deadline_;
  bool metadata_stale_ = true;
  // Set by group membership (subscribe); a plain assign() consumer commits with generation -1, no member.
  int32_t generation_ = -1;
  std::string member_id_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kafkawire
