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
//
// Destruction: destroying a Consumer while operations are in flight (poll, commit, committed,
// offsets_for_times, list_offsets, close) completes each of them with client_errc::operation_aborted,
// on the executor, after the destructor returned; no listener is called after it. An exception escaping
// the consumer's own background work (a bug, bad_alloc) closes the consumer: the waiting or next poll
// completes with client_errc::internal_error, error_text() carrying the exception's what().
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <exception>
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
#include "kafkawire/consumer/transaction_offsets.hpp"
#include "kafkawire/group/consumer_group_member.hpp"
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

// Called on the consumer's executor, while poll() or close() drives the group, when the group changes this
// member's partitions. on_revoked runs before partitions are taken away: the default (no listener), with
// enable.auto.commit, commits their processed positions there, so the next owner starts where this one
// stopped; with enable.auto.commit=false nothing is committed but what the application commits. on_lost: the
// partitions already belong to someone else (the member was fenced or timed out); nothing may be
// committed for them.
// Set only the callbacks you need: RebalanceListener{.on_assigned = ...}.
// A callback that throws does not hold up the rebalance (the partitions are still revoked, assigned or
// dropped, and the group moves on); as Java's KafkaConsumer rethrows it from poll(), the next poll
// completes with client_errc::listener_failed, error_text() naming the callback and what(),
// and take_listener_exception() hands over the exception (BlockingConsumer::poll rethrows it).
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
  const Config& config() const;
  net::Pool& pool();

  // Group membership (needs group.id): the group coordinator shares the topics' partitions among the
  // members; poll() drives the rebalances and calls the listener. subscribe() again to change topics.
  void subscribe(std::vector<std::string> topics);
  // Every topic whose name matches, re-evaluated at each metadata refresh (metadata.max.age.ms).
  void subscribe(const std::regex& pattern);
  // Every topic whose name matches a regular expression the broker evaluates (KIP-848's
  // SubscribedTopicRegex, Kafka 4.0+; RE2/J syntax, as Java's subscribe(SubscriptionPattern)), topics
  // created later included: group.protocol=consumer only (else ConfigError naming group.protocol).
  void subscribe_pattern(std::string regex);
  void unsubscribe();
  void set_rebalance_listener(RebalanceListener listener);
  // What a rebalance listener threw, once a poll (or close) completed with
  // client_errc::listener_failed for it; null after it was taken. BlockingConsumer rethrows it.
  std::exception_ptr take_listener_exception();
  // The group's view of this member: nullptr when not subscribed. membership() with
  // group.protocol=classic, consumer_group_membership() with group.protocol=consumer (KIP-848).
  const group::GroupMember* membership() const;
  const group::ConsumerGroupMember* consumer_group_membership() const;
  // For a transaction (Producer::async_send_offsets_to_transaction): the group and this member's
  // generation, member id and instance id (Java's groupMetadata()), so that the coordinator refuses the
  // offsets of a member the group has moved on from. Generation -1 and no member id outside a group.
  ConsumerGroupMetadata group_metadata() const;
  // (With group.protocol=consumer the generation is the member epoch, as in Java.)
  // group_metadata() and the position of every assigned partition: what a consume-process-produce loop
  // commits with its transaction once it has processed what poll() returned.
  TransactionOffsets transaction_offsets() const;
  // One line per rebalance (with group.protocol=consumer: per join and per reconciliation): reason,
  // generation or epoch, time per phase, partitions revoked/kept/added/lost, commits.
  std::string rebalance_timeline() const;

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
  // Set when an operation completes with an error, just before its handler runs: a failure of the
  // background work (a Fetch) is kept for the poll that reports it, and never replaces this text.
  const std::string& error_text() const;
  // Commit, committed offsets and offset lookups without the Consumer's positions: each result carries
  // its own error text (offset_client.hpp).
  const OffsetClient& offset_client() const;

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
  // Everything the consumer's work uses lives in the Core, which that work holds (consumer/src/
  // consumer_core.hpp): destroying the Consumer stops it and completes what is in flight with
  // operation_aborted, instead of every coroutine asking after every wait whether `this` survived.
  struct Core;
  friend struct ConsumerInternals;  // tests reach the Core through it

  executor_type executor_;
  std::shared_ptr<Core> core_;
};

}  // namespace kafkawire
