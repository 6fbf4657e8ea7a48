// Offsets, asked of the cluster: commit and read a group's committed offsets (through the group
// coordinator), and look up partitions' offsets by time, earliest or latest (ListOffsets, through each
// partition's leader). What the Consumer's commit(), committed(), offsets_for_times() and list_offsets()
// do, and what `kafkawire groups` uses.
//
// Each call has its own deadline (timeout, default.api.timeout.ms for the Consumer) and retries what the
// error policy (protocol/error_policy.hpp) retries, with retry.backoff.ms doubling up to
// retry.backoff.max.ms. Each call's result carries its own error text, naming the partitions and the
// reason: nothing is left in a string another operation may overwrite.
//
// An OffsetClient is a small value (a pool and its options): its calls copy it, so the object may be
// destroyed while they are in flight (they end with operation_aborted when the pool closes).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/net/pool.hpp"

namespace kafkawire {

struct OffsetAndTimestamp {
  int64_t offset = -1;
  int64_t timestamp = -1;
  int32_t leader_epoch = -1;
};

// A result and, when it failed, what failed in words ("commit orders-3 to group billing: ...").
template <class T>
struct OffsetResult {
  std::error_code ec;
  std::string error_text;
  T value{};
};

struct OffsetClientOptions {
  std::string group_id;                          // for commit and committed
  std::optional<std::string> group_instance_id;  // sent with commits (static membership)
  std::chrono::milliseconds timeout{60000};      // each call's deadline
  std::chrono::milliseconds retry_backoff{100};  // the first wait before a retry
  std::chrono::milliseconds retry_backoff_max{1000};
  int8_t isolation_level = 0;                        // ListOffsets: 1 = read_committed
  std::chrono::milliseconds request_timeout{30000};  // ListOffsets' timeout_ms
};

class OffsetClient {
 public:
  template <class T>
  using Result = boost::asio::awaitable<OffsetResult<T>>;
  // Per-partition outcomes of a commit; the call's error is the first partition's error.
  using CommitOutcomes = std::vector<group::CommitOutcome>;
  using Committed = std::map<TopicPartition, std::optional<int64_t>>;

  OffsetClient(std::shared_ptr<net::Pool> pool, OffsetClientOptions options)
      : pool_(std::move(pool)), options_(std::move(options)) {}
  const OffsetClientOptions& options() const { return options_; }

  // Commits offsets for the group. generation -1 and an empty member id: outside any group generation
  // (an assign() consumer, a tool resetting an inactive group's offsets).
  Result<CommitOutcomes> commit(std::vector<group::OffsetToCommit> offsets, int32_t generation = -1,
                                std::string member_id = {}) const {
    return commit_impl(pool_, options_, std::move(offsets), generation, std::move(member_id));
  }
  // The group's committed offsets of these partitions (nullopt: none committed).
  Result<Committed> committed(std::vector<TopicPartition> partitions) const {
    return committed_impl(pool_, options_, std::move(partitions));
  }
  // Every committed offset of the group (OffsetFetch with null topics).
  Result<std::map<TopicPartition, int64_t>> committed_all() const {
    return committed_all_impl(pool_, options_);
  }
  // For each partition, the first offset whose timestamp is >= the given one; -2 earliest, -1 latest
  // (nullopt: no such offset).
  Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> offsets_for_times(
      std::map<TopicPartition, int64_t> timestamps) const {
    return offsets_for_times_impl(pool_, options_, std::move(timestamps));
  }

 private:
  // Coroutines take their state by value: they outlive nothing they point to.
  static Result<CommitOutcomes> commit_impl(std::shared_ptr<net::Pool> pool, OffsetClientOptions options,
                                            std::vector<group::OffsetToCommit> offsets, int32_t generation,
                                            std::string member_id);
  static Result<Committed> committed_impl(std::shared_ptr<net::Pool> pool, OffsetClientOptions options,
                                          std::vector<TopicPartition> partitions);
  static Result<std::map<TopicPartition, int64_t>> committed_all_impl(std::shared_ptr<net::Pool> pool,
                                                                      OffsetClientOptions options);
  static Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> offsets_for_times_impl(
      std::shared_ptr<net::Pool> pool, OffsetClientOptions options,
      std::map<TopicPartition, int64_t> timestamps);

  std::shared_ptr<net::Pool> pool_;
  OffsetClientOptions options_;
};

// Names of partitions for error texts: "orders-0, orders-3".
std::string partition_list(const std::vector<TopicPartition>& partitions);

// Why a commit failed, by partition: "commit to group billing refused: orders-1, orders-4: no longer
// assigned to this member (...); orders-2: ...". generation: the group generation the commit was made
// in (-1: outside any), named when the group's generation changed under it. Outcomes without an error
// are left out.
std::string commit_failure_text(std::string_view group, int32_t generation,
                                const std::vector<group::CommitOutcome>& outcomes);

}  // namespace kafkawire
