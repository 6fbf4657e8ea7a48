// The producer's transactions, as a sans-IO state machine: where a transactional producer is (no
// producer id yet, between transactions, in one, ending one, failed), which request to the transaction
// coordinator (or the group's) is due, and what its answer means.
//
// No sockets, no clocks, no threads. The Producer (producer_txn.cpp) carries out its steps; unit tests
// do the same with scripted answers (tests/unit/test_transaction_manager.cpp):
//
//     TransactionManager t({.transactional_id = "orders-enricher"});
//     t.init();                          // the application's init_transactions()
//     while (auto step = t.next_step(idle)) {
//       send the step's request (t.init_producer_id_request(), ...) to the step's coordinator;
//       switch (t.on_...(ec, answer)) { none: go on; retry: after retry.backoff.ms;
//                                        find_coordinator: forget it, find it again, retry }
//     }
//     if (auto r = t.take_result()) complete the application's operation with *r;
//
// The contract for the caller:
//  - At most one step's request is out at a time, and each is answered by exactly one on_...() call (ec:
//    no answer). next_step() says what is due now; nullopt: nothing until the application or a batch
//    does something. Steps go to the transaction coordinator (FindCoordinator key type 1, the
//    transactional id), except txn_offset_commit, which goes to the group's coordinator.
//  - protocol(): which transaction protocol to speak, set with set_protocol() from the coordinator's
//    finalized feature transaction.version before init() and before each begin(): v2 (KIP-890) when it
//    is 2 or more. The caller caps the request versions to match (v1: Produce <= 11, TxnOffsetCommit <= 4,
//    EndTxn <= 4, AddPartitionsToTxn <= 3; v2: Produce >= 12, TxnOffsetCommit >= 5, EndTxn >= 5), because
//    the broker reads the protocol from the versions.
//  - A record may be sent only while may_send() is no error; a batch of a partition may go out only when
//    partition_added(tp) says so (protocol v1: AddPartitionsToTxn has added it; v2: at once, the Produce
//    adds it). A batch of the transaction that fails for good is reported with on_batch_failed().
//  - The producer id and epoch to stamp batches with change after init, after an EndTxn under v2 (every
//    end raises the epoch) and after an epoch bump: take_producer() hands each change over once.
//  - EndTxn is due only when the caller says `idle`: every record of the transaction has its result
//    (commit flushes first; abort first fails the records not yet in a batch, then waits for the rest).
//
// What it does, as Java's TransactionManager does:
//  - init(): InitProducerId with the transactional id and transaction.timeout.ms, which fences any earlier
//    producer with the same id and aborts its open transaction. Then ready.
//  - begin() -> in_transaction; send_offsets(): under v1 AddOffsetsToTxn first, then TxnOffsetCommit with
//    the consumer's group metadata (generation, member id, instance id: a zombie's is refused), under v2
//    TxnOffsetCommit alone; commit() / abort(): EndTxn, then ready.
//  - Errors: CONCURRENT_TRANSACTIONS and COORDINATOR_LOAD_IN_PROGRESS are retried; NOT_COORDINATOR and
//    COORDINATOR_NOT_AVAILABLE find the coordinator again (error_policy, ApiFamily::transaction and
//    txn_offset_commit). Fencing and authorization (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH from a
//    coordinator, TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED, INVALID_TXN_STATE,
//    INVALID_PRODUCER_ID_MAPPING, an unsupported version) are fatal: every later operation fails with that
//    error and the producer can only be closed. Any other failure (a batch that failed, a topic or group
//    not authorized, a stale generation in TxnOffsetCommit, TRANSACTION_ABORTABLE) makes the transaction
//    abortable: commit() fails with it, abort() works, and records sent meanwhile fail with it.
//  - Epoch bump (KIP-360, protocol v1): after a batch failed with an unknown outcome or a sequence the
//    broker did not expect (request_epoch_bump()), the abort is followed by InitProducerId with the current
//    producer id and epoch, which raises the epoch, so the partitions start again at sequence 0. Under v2
//    the abort's EndTxn raises it anyway.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "kafkawire/consumer/transaction_offsets.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/protocol/add_offsets_to_txn.hpp"
#include "kafkawire/protocol/add_partitions_to_txn.hpp"
#include "kafkawire/protocol/end_txn.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/init_producer_id.hpp"
#include "kafkawire/protocol/txn_offset_commit.hpp"

namespace kafkawire {

struct TransactionManagerOptions {
  std::string transactional_id;
  std::chrono::milliseconds transaction_timeout{60000};
  // Gets one line per transition and per answer that changes something. Default: none.
  std::function<void(std::string_view)> log{};
};

class TransactionManager {
 public:
  enum class State {
    uninitialized,    // no producer id: init()
    initializing,     // InitProducerId (and FindCoordinator) under way
    ready,            // between transactions: begin()
    in_transaction,   // records and offsets may be sent
    committing,       // EndTxn(commit) due or out
    aborting,         // EndTxn(abort) due or out
    bumping_epoch,    // after an abort (v1): InitProducerId with the current id and epoch raises it
    abortable_error,  // the transaction cannot commit: abort() it
    fatal_error,      // fenced or not authorized: close the producer
  };
  enum class Protocol : uint8_t { v1 = 1, v2 = 2 };
  enum class Step { init_producer_id, add_partitions, add_offsets, txn_offset_commit, end_txn };

  explicit TransactionManager(TransactionManagerOptions options);

  State state() const { return state_; }
  Protocol protocol() const { return protocol_; }
  const std::string& transactional_id() const { return options_.transactional_id; }
  int64_t producer_id() const { return producer_id_; }
  int16_t producer_epoch() const { return epoch_; }
  // Why the transaction cannot commit (abortable_error) or the producer cannot go on (fatal_error).
  std::error_code last_error() const { return error_; }
  const std::string& last_error_text() const { return error_text_; }

  // Only between operations: a transaction keeps the protocol it started with.
  void set_protocol(Protocol p);

  // The application's operations. Each starts at once or returns why not (client_errc::invalid_state
  // for a call out of order, the fatal error after fencing, the abortable error for a commit). One that
  // started ends when take_result() gives its result; begin() ends at once. Called again while it runs,
  // or after it ended with its result not taken (the application stopped waiting at max.block.ms), an
  // init, commit or abort starts nothing and take_result() gives that result, as Java's does.
  std::error_code init();
  std::error_code begin();
  std::error_code send_offsets(TransactionOffsets offsets);
  std::error_code commit();
  std::error_code abort();
  // The result of the operation that just ended, once; nullopt while it runs (or none ran).
  std::optional<std::error_code> take_result();
  bool operation_running() const { return operation_ != Operation::none; }

  // A record may be sent now (in a transaction that can still commit), or why not.
  std::error_code may_send() const;
  // Whether a batch of tp may go out now; under v1 a partition new to the transaction is added first.
  bool partition_added(const TopicPartition& tp);
  // A batch of the transaction failed for good with ec (the Produce error, or a client error).
  void on_batch_failed(std::error_code ec, std::string_view text);
  // The producer's batches lost track of a partition's sequence: the epoch must move on after the abort.
  void request_epoch_bump();

  // The producer id and epoch batches are stamped with, when they changed since the last call.
  std::optional<std::pair<int64_t, int16_t>> take_producer();

  // The request that is due now, or nullopt. idle: no record of the transaction is without a result.
  // Ends a transaction that reached no coordinator (nothing sent, no offsets) at once, without EndTxn.
  std::optional<Step> next_step(bool idle);
  // The requests of the steps, as due now (add_partitions_request() marks the partitions as asked).
  protocol::InitProducerIdRequest init_producer_id_request() const;
  protocol::AddPartitionsToTxnRequest add_partitions_request();
  protocol::AddOffsetsToTxnRequest add_offsets_request() const;
  protocol::TxnOffsetCommitRequest txn_offset_commit_request() const;
  protocol::EndTxnRequest end_txn_request() const;
  const std::string& group_id() const { return offsets_.group.group_id; }

  // Their answers (ec: not answered). What the caller does next: none (go on), retry (after the
  // backoff), find_coordinator (the step's coordinator is unknown now; find it, then retry). Fatal and
  // abortable outcomes are in state() and take_result(): the action is then none.
  ErrorAction on_init_producer_id(std::error_code ec, const protocol::InitProducerIdResponse& r);
  ErrorAction on_add_partitions(std::error_code ec, const protocol::AddPartitionsToTxnResponse& r);
  ErrorAction on_add_offsets(std::error_code ec, const protocol::AddOffsetsToTxnResponse& r);
  ErrorAction on_txn_offset_commit(std::error_code ec, const protocol::TxnOffsetCommitResponse& r);
  ErrorAction on_end_txn(std::error_code ec, const protocol::EndTxnResponse& r);

  static std::string_view to_string(State s);

 private:
  enum class Operation { none, init, send_offsets, commit, abort };

  // The answer's error as the step's family sees it: retry / find_coordinator, or none after the error
  // was applied (fatal or abortable).
  ErrorAction apply_error(ApiFamily family, std::error_code ec, std::string_view what);
  bool is_fatal(std::error_code ec) const;
  void to_state(State s, std::string_view why);
  void fail(std::error_code ec, std::string text);  // fatal or abortable, by the code
  void finish(std::error_code result);
  // `op` ended and its result was not taken yet: calling it again gives that result.
  bool result_waiting(Operation op) const {
    return operation_ == Operation::none && result_ && finished_ == op;
  }
  void log(const std::string& line) const;

  TransactionManagerOptions options_;
  State state_ = State::uninitialized;
  Protocol protocol_ = Protocol::v1;
  Operation operation_ = Operation::none;
  std::optional<std::error_code> result_;
  Operation finished_ = Operation::none;  // the operation result_ is of
  int64_t producer_id_ = -1;
  int16_t epoch_ = -1;
  bool producer_changed_ = false;
  bool bump_epoch_ = false;           // after the abort: InitProducerId with the current id and epoch
  std::set<TopicPartition> added_;    // in the transaction (v1: the coordinator said so)
  std::set<TopicPartition> pending_;  // waiting for AddPartitionsToTxn
  std::set<TopicPartition> asking_;   // in the AddPartitionsToTxn out now
  TransactionOffsets offsets_;        // of send_offsets() under way
  bool offsets_added_ = false;        // v1: AddOffsetsToTxn answered for this group
  std::set<std::string> groups_added_;
  std::error_code error_;
  std::string error_text_;
};

}  // namespace kafkawire
