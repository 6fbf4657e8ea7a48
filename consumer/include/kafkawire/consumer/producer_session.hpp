// The producer's idempotence bookkeeping, as a sans-IO state machine: which producer id and epoch a
// batch carries, which sequence number, when a batch may go out (again), and what a Produce answer means.
//
// No sockets, no clocks, no threads. The Producer asks and reports; unit tests do the same with scripted
// answers (tests/unit/test_producer_session.cpp):
//
//     ProducerSession s({.idempotent = true, .max_in_flight = 5});
//     if (auto req = s.init_request()) send it to any broker, then s.on_init_response(ec, answer);
//     if (auto b = s.start(tp, records)) remember b->id;
//     with the connection at hand: if (auto stamp = s.send(tp, id, conn.serial())) write the batch with
//     *stamp and send it at once; else try again after retry.backoff.ms;
//     switch (s.on_result(tp, b->id, stamp_sent, outcome)) { done / retry / fail }
//
// The contract for the caller:
//  - No batch starts before the producer id is known (state ready). init_request() hands out the
//    InitProducerId to send when one is due, at most one at a time; every one is answered by exactly one
//    on_init_response (ec: not answered; ask again after retry.backoff.ms).
//  - start(tp, n) when a batch of n records of tp is drained. Every started batch gets results until one
//    is done or fail.
//  - Every attempt, the first and each retry, goes on the wire only when send() allows it, with the stamp
//    (producer id, epoch, base sequence) send() returns for it (a bump may have renumbered it): asked with
//    the connection at hand, and sent at once on it. send() allows a batch when every earlier batch of its
//    partition without a result is out on that same connection: Kafka handles a connection's requests
//    one at a time, in order, and requests of two connections in no order. Until then, wait
//    (retry.backoff.ms) and ask again.
//  - on_result with the stamp the answered attempt carried. retry: ask send() again.
//
// What it does, as Java's TransactionManager and Sender do for an idempotent, non-transactional producer:
//  - A sequence number per partition, assigned when a batch is drained; a retried batch keeps its stamp.
//  - At most max_in_flight batches of a partition without a result (5: the broker remembers the last 5
//    batches of a producer per partition, which is what makes a resent one a duplicate it can recognise).
//  - Until a batch of a partition is written under its epoch, one batch at a time: a broker with no state
//    for the producer on a partition takes any sequence, so a later batch could be written before an
//    earlier one it refused for a moment. Once one is written, the broker refuses gaps.
//  - A partition with a batch waiting to be resent takes no new batch, and a batch goes out only on the
//    connection its partition's earlier batches are out on: later batches never overtake an earlier one.
//    (Both found in CI, where a later batch was written first: on a new connection while the earlier one
//    was still out on one that had just failed; and right behind the partition's first batch, which the
//    broker refused with NOT_LEADER_OR_FOLLOWER just before it became the leader. The earlier one then
//    came back out of order, and the epoch bump that followed wrote the later one a second time.)
//  - DUPLICATE_SEQUENCE_NUMBER: the broker has the batch already; success.
//  - OUT_OF_ORDER_SEQUENCE_NUMBER for a batch that is not the next sequence (not the first of its partition
//    without a result, or a later batch was acknowledged): retried as it is, until the caller's budget ends
//    (then it fails with that error; a new epoch could write it twice). For the next one, a real gap: the
//    epoch is bumped
//    (KIP-360: an idempotent producer bumps its own epoch) and the partition's batches are renumbered from
//    0 under the new epoch, then retried. UNKNOWN_PRODUCER_ID (the broker lost the producer's state, e.g.
//    to retention): the same bump.
//  - INVALID_PRODUCER_EPOCH for a batch with the current epoch: the producer id is no longer ours to use; a
//    new one is asked for (InitProducerId) and the partition's batches are renumbered under it.
//  - Other retriable errors, and no answer: retried with the same stamp, until the caller's budget
//    (delivery.timeout.ms, retries) says no. A batch that then fails, whose outcome is unknown, leaves a
//    possible gap: the epoch is bumped for its partition. A batch the broker refused for good (a
//    non-retriable error) was not written: the later batches of its partition are renumbered to close the
//    gap (Java's adjustSequencesDueToFailedBatch). Either way the caller fails the batch's records with the
//    error; the later batches come after it, none is silently put before it.
//  - Fatal: CLUSTER_AUTHORIZATION_FAILED (no IDEMPOTENT_WRITE), PRODUCER_FENCED, TRANSACTIONAL_ID_*
//    errors, a non-retriable InitProducerId error. Every batch fails from then on: fatal_error().
//  - When an epoch changes, the other partitions finish their batches under the old one; their next batch
//    waits for that, then starts at sequence 0 under the new epoch (Java's per-partition producer epoch).
//
// Transactional (transactional.id set): the TransactionManager (transaction_manager.hpp) gets the producer
// id from the transaction coordinator and hands it, and every later epoch, over with adopt(); the session
// never asks for one and never bumps its own epoch. Where it would (a gap in a partition's sequence,
// UNKNOWN_PRODUCER_ID, INVALID_PRODUCER_EPOCH with the current epoch, a batch that failed without a known
// outcome), the batch fails instead, which makes the transaction abortable, and lost_track() says the
// epoch must move on after the abort (KIP-360).
//
// With idempotent = false it only counts: stamps are {-1, -1, -1}, no limits, no init; the verdict of a
// result is success / retry when the caller says retriable / fail.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/protocol/init_producer_id.hpp"

namespace kafkawire {

// What the RecordBatch header of one attempt says about its producer.
struct BatchStamp {
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  friend bool operator==(const BatchStamp&, const BatchStamp&) = default;
};

struct ProducerSessionOptions {
  bool idempotent = true;
  int max_in_flight = 5;  // batches of one partition without a result
  bool transactional = false;
  // Gets one line per producer id / epoch change and per renumbering. Default: none.
  std::function<void(std::string_view)> log{};
};

class ProducerSession {
 public:
  enum class State {
    uninitialized,  // no producer id: init_request() has one to send
    initializing,   // InitProducerId sent, not answered yet
    ready,          // batches may start
    fatal,          // every batch fails with fatal_error()
  };
  enum class Verdict {
    done,   // written (or already there): complete the records with success
    retry,  // send again when send() allows
    fail,   // fail the records with the batch's error (or fatal_error() in State::fatal)
  };
  using BatchId = uint64_t;
  struct Started {
    BatchId id;
    BatchStamp stamp;
  };
  // One answer for one batch: the partition's error code in the Produce response (0: written), or
  // `answered` false when the attempt got no answer (I/O error, request timeout).
  struct Outcome {
    int16_t error_code = 0;
    bool answered = true;
    bool retriable = false;  // what the general error policy says of error_code (or of the I/O error)
    bool may_retry = true;   // false: the caller's budget is spent (delivery.timeout.ms, retries, closing)
  };

  explicit ProducerSession(ProducerSessionOptions options);

  State state() const { return state_; }
  bool idempotent() const { return options_.idempotent; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return epoch_; }
  std::error_code fatal_error() const { return fatal_; }
  const std::string& fatal_text() const { return fatal_text_; }

  // The InitProducerId to send now (to any broker), or nullopt when none is due (state initializing).
  std::optional<protocol::InitProducerIdRequest> init_request();
  // Its answer; ec: it was not answered. A retriable error code leaves the session uninitialized (ask
  // again after the backoff), any other error makes it fatal.
  void on_init_response(std::error_code ec, const protocol::InitProducerIdResponse& r);
  // Transactional: the producer id and epoch from the transaction manager (after init, after an epoch
  // bump, after each EndTxn under transactions v2). Partitions start again at sequence 0 under a new one,
  // each once its batches under the old one are over.
  void adopt(int64_t producer_id, int16_t epoch);
  // Transactional: a partition lost track of its sequence since the last adopt(); the epoch must move on.
  bool lost_track() const { return lost_track_; }

  // Whether a new batch of tp may be drained now.
  bool may_start(const TopicPartition& tp) const;
  // Starts a batch of `records` records of tp: its id and its stamp as numbered now. nullopt: not now
  // (!may_start).
  std::optional<Started> start(const TopicPartition& tp, int32_t records);
  // The stamp to put an attempt of the batch on the wire with, now, on the connection numbered `channel`
  // (net::Connection::serial()); nullopt: not yet (an earlier batch of the partition is not out on that
  // connection, or a producer id is being fetched).
  std::optional<BatchStamp> send(const TopicPartition& tp, BatchId id, uint64_t channel);
  // The result of the attempt that carried `sent`. After done or fail the batch is forgotten.
  Verdict on_result(const TopicPartition& tp, BatchId id, const BatchStamp& sent, const Outcome& outcome);

  // Batches of tp started and without a final verdict.
  size_t in_flight(const TopicPartition& tp) const;

 private:
  struct Batch {
    BatchId id;
    int32_t records;
    uint64_t ordinal;              // its place among the partition's batches, from 1
    BatchStamp stamp;              // what the next attempt carries
    uint64_t channel = 0;          // the connection its attempt is out on; 0: none is out
    bool awaiting_resend = false;  // an attempt failed: it goes again before any new batch starts
  };
  struct Partition {
    int64_t producer_id = -1;  // the producer id and epoch its sequences count under
    int16_t epoch = -1;
    int32_t next_sequence = 0;
    int32_t last_acked = -1;        // the last sequence written under that epoch
    uint64_t acked_ordinal = 0;     // the ordinal of the batch that set last_acked (answers come late)
    uint64_t started = 0;           // batches started
    bool renumber_pending = false;  // renumber when the new producer id arrives
    std::deque<Batch> batches;      // started, in sequence order
  };

  bool current(const Partition& p) const { return p.producer_id == producer_id_ && p.epoch == epoch_; }
  // Moves the partition to the current producer id and epoch: its sequences start again at 0.
  void restart(Partition& p) const;
  // Numbers the partition's batches from the one after last_acked, under the current id and epoch.
  void renumber(Partition& p, const TopicPartition& tp, std::string_view why);
  // KIP-360: a new epoch, and tp's batches renumbered from 0 under it.
  void bump_epoch(const TopicPartition& tp, std::string_view why);
  // A new producer id is needed; tp's batches are renumbered when it arrives.
  void reset_producer_id(const TopicPartition& tp, std::string_view why);
  // Transactional: instead of a bump, the batch fails and lost_track() is set.
  void lose_track(const TopicPartition& tp, std::string_view why);
  Verdict fail_batch(Partition& p, BatchId id);  // forgets the batch: Verdict::fail
  void make_fatal(int16_t code, std::string text);
  void log(const std::string& line) const;

  ProducerSessionOptions options_;
  State state_;
  int64_t producer_id_ = -1;
  int16_t epoch_ = -1;
  BatchId next_id_ = 1;
  std::map<TopicPartition, Partition> partitions_;
  bool lost_track_ = false;
  std::error_code fatal_;
  std::string fatal_text_;
};

}  // namespace kafkawire
