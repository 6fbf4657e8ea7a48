// The producer's transaction state machine (consumer/transaction_manager.hpp), stepped with scripted
// answers as the Producer steps it: no sockets, no clocks. Also the transactional side of the
// ProducerSession (no self-bump: the batch fails and the epoch moves on after the abort).
#include <catch2/catch.hpp>

#include "kafkawire/consumer/producer_session.hpp"
#include "kafkawire/consumer/transaction_manager.hpp"
#include "kafkawire/protocol/error.hpp"

using namespace kafkawire;
using State = TransactionManager::State;
using Step = TransactionManager::Step;
using Protocol = TransactionManager::Protocol;

namespace {

constexpr int16_t wire(kafka_errc e) { return static_cast<int16_t>(e); }

const TopicPartition out0{"out", 0};
const TopicPartition out1{"out", 1};

protocol::InitProducerIdResponse producer(int64_t id, int16_t epoch, int16_t error = 0) {
  protocol::InitProducerIdResponse r;
  r.producer_id = id;
  r.producer_epoch = epoch;
  r.error_code = error;
  return r;
}

protocol::AddPartitionsToTxnResponse added(const protocol::AddPartitionsToTxnRequest& req,
                                           int16_t error = 0) {
  protocol::AddPartitionsToTxnResponse r;
  for (const auto& t : req.v3_and_below_topics) {
    auto& rt = r.results_by_topic_v3_and_below.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partitions) rt.results_by_partition.push_back({p, error});
  }
  return r;
}

protocol::TxnOffsetCommitResponse offsets_answer(const protocol::TxnOffsetCommitRequest& req,
                                                 int16_t error = 0) {
  protocol::TxnOffsetCommitResponse r;
  for (const auto& t : req.topics) {
    auto& rt = r.topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) rt.partitions.push_back({p.partition_index, error});
  }
  return r;
}

protocol::EndTxnResponse ended(int16_t error = 0, int64_t id = -1, int16_t epoch = -1) {
  protocol::EndTxnResponse r;
  r.error_code = error;
  r.producer_id = id;
  r.producer_epoch = epoch;
  return r;
}

TransactionOffsets consumed() {
  return {{"enrichers", 12, "member-1", std::nullopt}, {{{"in", 0}, 42}, {{"in", 1}, 7}}};
}

// A manager with producer 7 at `epoch`, between transactions.
TransactionManager ready(Protocol p, int16_t epoch = 3) {
  TransactionManager t({.transactional_id = "enricher-1", .transaction_timeout = std::chrono::seconds(30)});
  t.set_protocol(p);
  REQUIRE_FALSE(t.init());
  REQUIRE(t.next_step(true) == Step::init_producer_id);
  REQUIRE(t.on_init_producer_id({}, producer(7, epoch)) == ErrorAction::none);
  REQUIRE(t.take_result() == std::error_code{});
  REQUIRE(t.take_producer() == std::pair<int64_t, int16_t>{7, epoch});
  REQUIRE(t.state() == State::ready);
  return t;
}

}  // namespace

TEST_CASE("transactions: init asks the transaction coordinator, retrying what Java retries",
          "[transactions][unit]") {
  TransactionManager t({.transactional_id = "enricher-1", .transaction_timeout = std::chrono::seconds(30)});
  CHECK(t.begin() == client_errc::invalid_state);  // before init
  CHECK(t.may_send() == client_errc::invalid_state);
  REQUIRE_FALSE(t.init());
  CHECK(t.state() == State::initializing);
  CHECK(t.init() == std::error_code{});  // again, after a timeout: the same init goes on
  REQUIRE(t.next_step(false) == Step::init_producer_id);
  const auto req = t.init_producer_id_request();
  CHECK(req.transactional_id == "enricher-1");
  CHECK(req.transaction_timeout_ms == 30000);
  CHECK(req.producer_id == -1);  // a new producer: fences any earlier one with the id
  CHECK(t.on_init_producer_id({}, producer(-1, -1, wire(kafka_errc::concurrent_transactions))) ==
        ErrorAction::retry);
  CHECK(t.on_init_producer_id({}, producer(-1, -1, wire(kafka_errc::coordinator_load_in_progress))) ==
        ErrorAction::retry);
  CHECK(t.on_init_producer_id({}, producer(-1, -1, wire(kafka_errc::not_coordinator))) ==
        ErrorAction::find_coordinator);
  CHECK(t.on_init_producer_id(make_error_code(client_errc::disconnected), {}) ==
        ErrorAction::find_coordinator);
  CHECK_FALSE(t.take_result());
  CHECK(t.state() == State::initializing);
  CHECK(t.on_init_producer_id({}, producer(7, 3)) == ErrorAction::none);
  CHECK(t.state() == State::ready);
  CHECK(t.take_result() == std::error_code{});
  CHECK(t.take_producer() == std::pair<int64_t, int16_t>{7, 3});
  CHECK_FALSE(t.take_producer());  // handed over once
  CHECK(t.init() == client_errc::invalid_state);
}

TEST_CASE("transactions: not authorized for the transactional id is fatal", "[transactions][unit]") {
  TransactionManager t({.transactional_id = "enricher-1"});
  REQUIRE_FALSE(t.init());
  CHECK(
      t.on_init_producer_id({}, producer(-1, -1, wire(kafka_errc::transactional_id_authorization_failed))) ==
      ErrorAction::none);
  CHECK(t.state() == State::fatal_error);
  CHECK(t.take_result() == kafka_errc::transactional_id_authorization_failed);
  CHECK(t.begin() == kafka_errc::transactional_id_authorization_failed);
  CHECK_FALSE(t.next_step(true));
}

TEST_CASE("transactions v1: partitions and the group join the transaction before their data",
          "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v1);
  CHECK(t.commit() == client_errc::invalid_state);  // no transaction
  REQUIRE_FALSE(t.begin());
  CHECK(t.begin() == client_errc::invalid_state);
  CHECK_FALSE(t.may_send());
  CHECK_FALSE(t.next_step(true));  // nothing to do before the first batch

  // The first batch of a partition waits for AddPartitionsToTxn.
  CHECK_FALSE(t.partition_added(out0));
  REQUIRE(t.next_step(false) == Step::add_partitions);
  auto req = t.add_partitions_request();
  CHECK(req.v3_and_below_transactional_id == "enricher-1");
  CHECK(req.v3_and_below_producer_id == 7);
  CHECK(req.v3_and_below_producer_epoch == 3);
  REQUIRE(req.v3_and_below_topics.size() == 1);
  CHECK(req.v3_and_below_topics[0].partitions == std::vector<int32_t>{0});
  // While it is out: another partition waits for the next one; nothing else goes.
  CHECK_FALSE(t.partition_added(out1));
  CHECK_FALSE(t.partition_added(out0));
  CHECK_FALSE(t.next_step(false));
  CHECK(t.on_add_partitions({}, added(req)) == ErrorAction::none);
  CHECK(t.partition_added(out0));
  REQUIRE(t.next_step(false) == Step::add_partitions);
  req = t.add_partitions_request();
  REQUIRE(req.v3_and_below_topics.size() == 1);
  CHECK(req.v3_and_below_topics[0].partitions == std::vector<int32_t>{1});
  // The previous transaction's markers are still being written: the same partitions again.
  CHECK(t.on_add_partitions({}, added(req, wire(kafka_errc::concurrent_transactions))) == ErrorAction::retry);
  CHECK_FALSE(t.partition_added(out1));
  REQUIRE(t.next_step(false) == Step::add_partitions);
  req = t.add_partitions_request();
  CHECK(t.on_add_partitions({}, added(req)) == ErrorAction::none);
  CHECK(t.partition_added(out1));

  // The consumed offsets: AddOffsetsToTxn for the group, then TxnOffsetCommit to its coordinator.
  REQUIRE_FALSE(t.send_offsets(consumed()));
  CHECK(t.send_offsets(consumed()) == client_errc::invalid_state);  // one at a time
  REQUIRE(t.next_step(false) == Step::add_offsets);
  CHECK(t.add_offsets_request().group_id == "enrichers");
  CHECK(t.on_add_offsets({}, {}) == ErrorAction::none);
  REQUIRE(t.next_step(false) == Step::txn_offset_commit);
  const auto commit = t.txn_offset_commit_request();
  CHECK(commit.group_id == "enrichers");
  CHECK(commit.transactional_id == "enricher-1");
  CHECK(commit.producer_id == 7);
  CHECK(commit.producer_epoch == 3);
  CHECK(commit.generation_id_or_member_epoch == 12);  // a zombie's generation is refused
  CHECK(commit.member_id == "member-1");
  REQUIRE(commit.topics.size() == 1);
  REQUIRE(commit.topics[0].partitions.size() == 2);
  CHECK(commit.topics[0].partitions[0].committed_offset == 42);
  CHECK(commit.topics[0].partitions[1].committed_offset == 7);
  CHECK(t.on_txn_offset_commit({}, offsets_answer(commit, wire(kafka_errc::not_coordinator))) ==
        ErrorAction::find_coordinator);
  CHECK(t.on_txn_offset_commit({}, offsets_answer(commit)) == ErrorAction::none);
  CHECK(t.take_result() == std::error_code{});

  // A second send_offsets for the same group in this transaction needs no AddOffsetsToTxn.
  REQUIRE_FALSE(t.send_offsets(consumed()));
  CHECK(t.next_step(false) == Step::txn_offset_commit);
  CHECK(t.on_txn_offset_commit({}, offsets_answer(commit)) == ErrorAction::none);
  CHECK(t.take_result() == std::error_code{});

  // Commit: the EndTxn waits until every record has its result.
  REQUIRE_FALSE(t.commit());
  CHECK(t.may_send() == client_errc::invalid_state);
  CHECK_FALSE(t.next_step(false));
  REQUIRE(t.next_step(true) == Step::end_txn);
  const auto end = t.end_txn_request();
  CHECK(end.committed);
  CHECK(end.producer_epoch == 3);
  CHECK(t.on_end_txn({}, ended(wire(kafka_errc::concurrent_transactions))) == ErrorAction::retry);
  CHECK(t.on_end_txn({}, ended()) == ErrorAction::none);
  CHECK(t.state() == State::ready);
  CHECK(t.take_result() == std::error_code{});
  CHECK_FALSE(t.take_producer());  // v1: the epoch stays

  // The next transaction adds its partitions again.
  REQUIRE_FALSE(t.begin());
  CHECK_FALSE(t.partition_added(out0));
}

TEST_CASE("transactions v2: the Produce and TxnOffsetCommit add themselves; every end raises the epoch",
          "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v2, 0);
  REQUIRE_FALSE(t.begin());
  CHECK(t.partition_added(out0));  // no AddPartitionsToTxn
  REQUIRE_FALSE(t.send_offsets(consumed()));
  CHECK(t.next_step(false) == Step::txn_offset_commit);  // no AddOffsetsToTxn
  CHECK(t.on_txn_offset_commit({}, offsets_answer(t.txn_offset_commit_request())) == ErrorAction::none);
  CHECK(t.take_result() == std::error_code{});
  REQUIRE_FALSE(t.commit());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK(t.on_end_txn({}, ended(0, 7, 1)) == ErrorAction::none);
  CHECK(t.take_result() == std::error_code{});
  CHECK(t.take_producer() == std::pair<int64_t, int16_t>{7, 1});
  CHECK(t.end_txn_request().producer_epoch == 1);
  // Epoch exhausted: a new producer id at epoch 0.
  REQUIRE_FALSE(t.begin());
  CHECK(t.partition_added(out1));
  REQUIRE_FALSE(t.abort());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK_FALSE(t.end_txn_request().committed);
  CHECK(t.on_end_txn({}, ended(0, 8, 0)) == ErrorAction::none);
  CHECK(t.take_producer() == std::pair<int64_t, int16_t>{8, 0});
  CHECK(t.state() == State::ready);
}

TEST_CASE("transactions: a failed record makes the transaction abortable; abort recovers",
          "[transactions][unit]") {
  for (Protocol p : {Protocol::v1, Protocol::v2}) {
    TransactionManager t = ready(p);
    REQUIRE_FALSE(t.begin());
    t.partition_added(out0);
    if (p == Protocol::v1) {
      auto req = t.add_partitions_request();
      REQUIRE(t.on_add_partitions({}, added(req)) == ErrorAction::none);
    }
    t.on_batch_failed(make_kafka_error(wire(kafka_errc::message_too_large)), "out-0: too large");
    CHECK(t.state() == State::abortable_error);
    CHECK(t.may_send() == kafka_errc::message_too_large);
    CHECK(t.commit() == kafka_errc::message_too_large);
    CHECK(t.send_offsets(consumed()) == kafka_errc::message_too_large);
    CHECK(t.last_error_text().find("too large") != std::string::npos);
    REQUIRE_FALSE(t.abort());
    CHECK_FALSE(t.next_step(false));  // the records out get their results first
    REQUIRE(t.next_step(true) == Step::end_txn);
    CHECK_FALSE(t.end_txn_request().committed);
    CHECK(t.on_end_txn({}, ended()) == ErrorAction::none);
    CHECK(t.take_result() == std::error_code{});
    CHECK(t.state() == State::ready);
    CHECK_FALSE(t.begin());
  }
}

TEST_CASE("transactions: a commit whose record fails while it flushes fails; the abort goes on",
          "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v2);
  REQUIRE_FALSE(t.begin());
  t.partition_added(out0);
  REQUIRE_FALSE(t.commit());
  CHECK_FALSE(t.next_step(false));
  t.on_batch_failed(make_kafka_error(wire(kafka_errc::not_enough_replicas)), "out-0: timed out");
  CHECK(t.take_result() == kafka_errc::not_enough_replicas);
  CHECK(t.state() == State::abortable_error);
  CHECK_FALSE(t.next_step(true));  // no EndTxn(commit)
  REQUIRE_FALSE(t.abort());
  CHECK(t.next_step(true) == Step::end_txn);
}

TEST_CASE("transactions: a stale generation in TxnOffsetCommit is abortable, fencing is fatal",
          "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v1);
  REQUIRE_FALSE(t.begin());
  REQUIRE_FALSE(t.send_offsets(consumed()));
  REQUIRE(t.next_step(false) == Step::add_offsets);
  REQUIRE(t.on_add_offsets({}, {}) == ErrorAction::none);
  const auto req = t.txn_offset_commit_request();
  CHECK(t.on_txn_offset_commit({}, offsets_answer(req, wire(kafka_errc::illegal_generation))) ==
        ErrorAction::none);
  CHECK(t.take_result() == kafka_errc::illegal_generation);
  CHECK(t.state() == State::abortable_error);
  REQUIRE_FALSE(t.abort());
  REQUIRE(t.next_step(true) == Step::end_txn);  // the group's offsets partition is in the transaction
  // Another producer took the transactional id meanwhile.
  CHECK(t.on_end_txn({}, ended(wire(kafka_errc::producer_fenced))) == ErrorAction::none);
  CHECK(t.state() == State::fatal_error);
  CHECK(t.take_result() == kafka_errc::producer_fenced);
  CHECK(t.begin() == kafka_errc::producer_fenced);
  CHECK(t.abort() == kafka_errc::producer_fenced);
  CHECK(t.may_send() == kafka_errc::producer_fenced);
}

TEST_CASE("transactions: fenced while adding a partition, or by a partition leader", "[transactions][unit]") {
  {
    TransactionManager t = ready(Protocol::v1);
    REQUIRE_FALSE(t.begin());
    t.partition_added(out0);
    auto req = t.add_partitions_request();
    CHECK(t.on_add_partitions({}, added(req, wire(kafka_errc::invalid_producer_epoch))) == ErrorAction::none);
    CHECK(t.state() == State::fatal_error);  // from the coordinator: another producer has the id
  }
  {
    TransactionManager t = ready(Protocol::v2);
    REQUIRE_FALSE(t.begin());
    t.partition_added(out0);
    t.on_batch_failed(make_kafka_error(wire(kafka_errc::producer_fenced)), "out-0");
    CHECK(t.state() == State::fatal_error);
  }
  {
    // From a partition leader an old epoch is abortable (KIP-588): the abort tells whether it was fencing.
    TransactionManager t = ready(Protocol::v2);
    REQUIRE_FALSE(t.begin());
    t.partition_added(out0);
    t.on_batch_failed(make_kafka_error(wire(kafka_errc::invalid_producer_epoch)), "out-0");
    CHECK(t.state() == State::abortable_error);
  }
}

TEST_CASE("transactions: a transaction that reached no coordinator ends without EndTxn",
          "[transactions][unit]") {
  for (Protocol p : {Protocol::v1, Protocol::v2}) {
    TransactionManager t = ready(p);
    REQUIRE_FALSE(t.begin());
    REQUIRE_FALSE(t.commit());
    CHECK_FALSE(t.next_step(true));
    CHECK(t.take_result() == std::error_code{});
    CHECK(t.state() == State::ready);
    REQUIRE_FALSE(t.begin());
    REQUIRE_FALSE(t.abort());
    CHECK_FALSE(t.next_step(true));
    CHECK(t.take_result() == std::error_code{});
    CHECK(t.state() == State::ready);
  }
}

TEST_CASE("transactions v1: a partition that lost its sequence moves the epoch on after the abort (KIP-360)",
          "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v1, 3);
  REQUIRE_FALSE(t.begin());
  t.partition_added(out0);
  auto req = t.add_partitions_request();
  REQUIRE(t.on_add_partitions({}, added(req)) == ErrorAction::none);
  t.request_epoch_bump();
  t.on_batch_failed(make_kafka_error(wire(kafka_errc::out_of_order_sequence_number)), "out-0");
  REQUIRE_FALSE(t.abort());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK(t.on_end_txn({}, ended()) == ErrorAction::none);
  CHECK(t.state() == State::bumping_epoch);
  CHECK_FALSE(t.take_result());  // the abort ends with the bump
  REQUIRE(t.next_step(true) == Step::init_producer_id);
  const auto bump = t.init_producer_id_request();
  CHECK(bump.producer_id == 7);  // this producer's epoch, not a new producer
  CHECK(bump.producer_epoch == 3);
  CHECK(t.on_init_producer_id({}, producer(7, 4)) == ErrorAction::none);
  CHECK(t.take_result() == std::error_code{});
  CHECK(t.take_producer() == std::pair<int64_t, int16_t>{7, 4});
  CHECK(t.state() == State::ready);
  CHECK(t.init_producer_id_request().producer_id == -1);
}

TEST_CASE("transactions: the protocol is fixed while a transaction runs", "[transactions][unit]") {
  TransactionManager t = ready(Protocol::v1);
  REQUIRE_FALSE(t.begin());
  t.set_protocol(Protocol::v2);
  CHECK(t.protocol() == Protocol::v1);
  CHECK_FALSE(t.partition_added(out0));  // still v1: AddPartitionsToTxn
}

TEST_CASE("producer session, transactional: no self-bump; the batch fails and the epoch moves on after",
          "[transactions][unit][producer]") {
  ProducerSession s({.idempotent = true, .max_in_flight = 5, .transactional = true});
  CHECK_FALSE(s.init_request());  // the transaction manager gets the producer id
  CHECK(s.state() == ProducerSession::State::uninitialized);
  s.adopt(7, 3);
  REQUIRE(s.state() == ProducerSession::State::ready);
  auto a = s.start(out0, 10);
  REQUIRE(a);
  CHECK(a->stamp == BatchStamp{7, 3, 0});
  REQUIRE(s.send(out0, a->id, 1));
  CHECK(s.on_result(out0, a->id, a->stamp, {}) == ProducerSession::Verdict::done);
  auto b = s.start(out0, 5);
  REQUIRE(b);
  CHECK(b->stamp == BatchStamp{7, 3, 10});
  REQUIRE(s.send(out0, b->id, 1));
  // A gap: an idempotent producer would bump its own epoch and retry; a transactional one fails the
  // batch (the transaction aborts) and says the epoch must move on.
  CHECK(s.on_result(out0, b->id, b->stamp,
                    {.error_code = wire(kafka_errc::out_of_order_sequence_number), .retriable = true}) ==
        ProducerSession::Verdict::fail);
  CHECK(s.lost_track());
  CHECK(s.producer_epoch() == 3);
  // After the abort the manager hands over the bumped epoch: sequences start again at 0.
  s.adopt(7, 4);
  CHECK_FALSE(s.lost_track());
  auto c = s.start(out0, 2);
  REQUIRE(c);
  CHECK(c->stamp == BatchStamp{7, 4, 0});
  // Another producer took the id: fatal, as for an idempotent producer.
  REQUIRE(s.send(out0, c->id, 1));
  CHECK(s.on_result(out0, c->id, c->stamp, {.error_code = wire(kafka_errc::producer_fenced)}) ==
        ProducerSession::Verdict::fail);
  CHECK(s.state() == ProducerSession::State::fatal);
}

TEST_CASE("transactions: an operation the application stopped waiting for gives its result when called again",
          "[transactions][unit]") {
  // Java: a commitTransaction() that timed out may be called again and returns the result of the one
  // that went on. The result stays until it is taken or the next transaction begins.
  TransactionManager t = ready(Protocol::v2, 0);
  REQUIRE_FALSE(t.begin());
  CHECK(t.partition_added(out0));  // a record went out: the commit needs EndTxn
  REQUIRE_FALSE(t.commit());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK(t.on_end_txn({}, ended(0, 7, 1)) == ErrorAction::none);
  CHECK(t.state() == State::ready);
  // Nobody took the result (the application's wait ended at max.block.ms). Called again: nothing new
  // starts, and the result is there.
  CHECK_FALSE(t.commit());
  CHECK_FALSE(t.operation_running());
  CHECK_FALSE(t.next_step(true));
  CHECK(t.take_result() == std::error_code{});
  // Taken: a third call is out of order, as any commit outside a transaction.
  CHECK(t.commit() == client_errc::invalid_state);

  // An abort's result the same way; and begin() ends an untaken result.
  REQUIRE_FALSE(t.begin());
  CHECK(t.partition_added(out1));
  REQUIRE_FALSE(t.abort());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK(t.on_end_txn({}, ended(0, 7, 2)) == ErrorAction::none);
  CHECK(t.commit() == client_errc::invalid_state);  // not the operation that ended
  CHECK_FALSE(t.abort());
  CHECK(t.take_result() == std::error_code{});
  REQUIRE_FALSE(t.begin());
  CHECK(t.partition_added(out0));  // a record went out: the commit needs EndTxn
  REQUIRE_FALSE(t.commit());
  REQUIRE(t.next_step(true) == Step::end_txn);
  CHECK(t.on_end_txn({}, ended(0, 7, 3)) == ErrorAction::none);
  REQUIRE_FALSE(t.begin());  // the commit's result was never taken
  CHECK_FALSE(t.take_result());
  CHECK(t.commit() == std::error_code{});  // a commit of the new transaction, not the old result
  CHECK(t.operation_running());
}
