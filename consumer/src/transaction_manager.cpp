#include "kafkawire/consumer/transaction_manager.hpp"

#include <algorithm>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire {

namespace {

std::error_code invalid_state() { return make_error_code(client_errc::invalid_state); }

// The worst error of a response with an error per partition: one that is neither retried nor finds the
// coordinator again wins over those that are, and those over none.
int16_t worst(ApiFamily family, int16_t a, int16_t b) {
  auto rank = [family](int16_t code) {
    const ErrorAction act = error_action(family, code);
    if (act == ErrorAction::none) return 0;
    if (is_retry(act)) return act == ErrorAction::find_coordinator ? 2 : 1;
    return 3;
  };
  return rank(b) > rank(a) ? b : a;
}

}  // namespace

TransactionManager::TransactionManager(TransactionManagerOptions options) : options_(std::move(options)) {}

std::string_view TransactionManager::to_string(State s) {
  switch (s) {
    case State::uninitialized:
      return "uninitialized";
    case State::initializing:
      return "initializing";
    case State::ready:
      return "ready";
    case State::in_transaction:
      return "in_transaction";
    case State::committing:
      return "committing";
    case State::aborting:
      return "aborting";
    case State::bumping_epoch:
      return "bumping_epoch";
    case State::abortable_error:
      return "abortable_error";
    case State::fatal_error:
      return "fatal_error";
  }
  return "?";
}

void TransactionManager::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void TransactionManager::to_state(State s, std::string_view why) {
  log(std::string(to_string(state_)) + " -> " + std::string(to_string(s)) + " (" + std::string(why) + ")");
  state_ = s;
}

void TransactionManager::set_protocol(Protocol p) {
  if (operation_ != Operation::none || state_ == State::in_transaction || state_ == State::committing ||
      state_ == State::aborting || state_ == State::abortable_error)
    return;
  protocol_ = p;
}

std::error_code TransactionManager::init() {
  if (result_waiting(Operation::init)) return {};
  if (state_ == State::fatal_error) return error_;
  // Called again after the application stopped waiting (max.block.ms): the same InitProducerId goes on.
  if (state_ == State::initializing) {
    operation_ = Operation::init;
    return {};
  }
  if (state_ != State::uninitialized) return invalid_state();
  to_state(State::initializing, "init_transactions");
  operation_ = Operation::init;
  return {};
}

std::error_code TransactionManager::begin() {
  if (state_ == State::fatal_error) return error_;
  if (state_ != State::ready || operation_ != Operation::none) return invalid_state();
  result_.reset();  // an earlier operation's result nobody took is over now
  finished_ = Operation::none;
  added_.clear();
  pending_.clear();
  asking_.clear();
  groups_added_.clear();
  bump_epoch_ = false;
  to_state(State::in_transaction, "begin_transaction");
  return {};
}

std::error_code TransactionManager::send_offsets(TransactionOffsets offsets) {
  if (state_ == State::fatal_error || state_ == State::abortable_error) return error_;
  if (state_ != State::in_transaction || operation_ != Operation::none) return invalid_state();
  if (offsets.group.group_id.empty()) return make_error_code(client_errc::invalid_argument);
  offsets_ = std::move(offsets);
  // v1: the group's offsets partition joins the transaction once (AddOffsetsToTxn); v2: TxnOffsetCommit
  // adds it.
  offsets_added_ = protocol_ == Protocol::v2 || groups_added_.count(offsets_.group.group_id) > 0;
  operation_ = Operation::send_offsets;
  return {};
}

std::error_code TransactionManager::commit() {
  if (result_waiting(Operation::commit)) return {};
  if (state_ == State::fatal_error || state_ == State::abortable_error) return error_;
  if (state_ == State::committing && operation_ == Operation::none) {
    operation_ = Operation::commit;  // called again after the application stopped waiting
    return {};
  }
  if (state_ != State::in_transaction || operation_ != Operation::none) return invalid_state();
  to_state(State::committing, "commit_transaction");
  operation_ = Operation::commit;
  return {};
}

std::error_code TransactionManager::abort() {
  if (result_waiting(Operation::abort)) return {};
  if (state_ == State::fatal_error) return error_;
  if ((state_ == State::aborting || state_ == State::bumping_epoch) && operation_ == Operation::none) {
    operation_ = Operation::abort;
    return {};
  }
  // A send_offsets() under way is given up: its offsets are part of what is aborted.
  if (operation_ == Operation::send_offsets) finish(make_error_code(client_errc::transaction_aborted));
  if ((state_ != State::in_transaction && state_ != State::abortable_error) || operation_ != Operation::none)
    return invalid_state();
  pending_.clear();  // their batches are failed, never sent
  to_state(State::aborting, "abort_transaction");
  operation_ = Operation::abort;
  return {};
}

std::optional<std::error_code> TransactionManager::take_result() {
  auto r = result_;
  result_.reset();
  return r;
}

void TransactionManager::finish(std::error_code result) {
  if (operation_ == Operation::none) return;
  finished_ = operation_;
  operation_ = Operation::none;
  result_ = result;
}

std::error_code TransactionManager::may_send() const {
  switch (state_) {
    case State::in_transaction:
      return {};
    case State::abortable_error:
    case State::fatal_error:
      return error_;
    default:
      return invalid_state();
  }
}

bool TransactionManager::partition_added(const TopicPartition& tp) {
  if (state_ != State::in_transaction && state_ != State::committing) return false;
  if (added_.count(tp)) return true;
  if (protocol_ == Protocol::v2) {
    added_.insert(tp);  // the Produce adds it
    return true;
  }
  if (!asking_.count(tp)) pending_.insert(tp);
  return false;
}

bool TransactionManager::is_fatal(std::error_code ec) const {
  if (ec.category() != kafka_category()) return ec == client_errc::unsupported_version;
  switch (static_cast<kafka_errc>(ec.value())) {
    case kafka_errc::producer_fenced:
    case kafka_errc::invalid_producer_epoch:  // from a coordinator: another producer has our id now
    case kafka_errc::transactional_id_authorization_failed:
    case kafka_errc::cluster_authorization_failed:
    case kafka_errc::invalid_txn_state:
    case kafka_errc::invalid_producer_id_mapping:
    case kafka_errc::invalid_transaction_timeout:
    case kafka_errc::transactional_id_not_found:
    case kafka_errc::unsupported_version:
    case kafka_errc::unsupported_for_message_format:
      return true;
    default:
      return false;
  }
}

void TransactionManager::fail(std::error_code ec, std::string text) {
  error_ = ec;
  error_text_ = std::move(text);
  // What goes wrong while there is no transaction to abort (getting a producer id, ending a transaction)
  // leaves nothing to recover with.
  const bool no_transaction = state_ == State::initializing || state_ == State::aborting ||
                              state_ == State::bumping_epoch || state_ == State::ready ||
                              state_ == State::uninitialized;
  to_state(is_fatal(ec) || no_transaction ? State::fatal_error : State::abortable_error, error_text_);
  pending_.clear();
  asking_.clear();
  finish(ec);
}

void TransactionManager::on_batch_failed(std::error_code ec, std::string_view text) {
  if (state_ != State::in_transaction && state_ != State::committing) return;
  // From a partition leader, an epoch older than the broker's is abortable (KIP-588); fencing and
  // authorization are not.
  const bool fatal = ec == kafka_errc::producer_fenced ||
                     ec == kafka_errc::transactional_id_authorization_failed ||
                     ec == kafka_errc::cluster_authorization_failed || ec == client_errc::unsupported_version;
  error_ = ec;
  error_text_ = "a record of the transaction failed: " + std::string(text);
  to_state(fatal ? State::fatal_error : State::abortable_error, error_text_);
  pending_.clear();
  finish(ec);
}

void TransactionManager::request_epoch_bump() {
  if (state_ == State::in_transaction || state_ == State::committing || state_ == State::abortable_error)
    bump_epoch_ = true;
}

std::optional<std::pair<int64_t, int16_t>> TransactionManager::take_producer() {
  if (!producer_changed_) return std::nullopt;
  producer_changed_ = false;
  return std::pair{producer_id_, epoch_};
}

std::optional<TransactionManager::Step> TransactionManager::next_step(bool idle) {
  switch (state_) {
    case State::initializing:
    case State::bumping_epoch:
      return Step::init_producer_id;
    case State::in_transaction:
    case State::committing:
      if (!pending_.empty() && asking_.empty()) return Step::add_partitions;
      if (!asking_.empty()) return std::nullopt;  // its answer first
      if (operation_ == Operation::send_offsets)
        return offsets_added_ ? Step::txn_offset_commit : Step::add_offsets;
      if (state_ != State::committing || !idle) return std::nullopt;
      if (added_.empty() && groups_added_.empty()) {
        // Nothing reached the coordinator: nothing to end (an EndTxn would be INVALID_TXN_STATE).
        to_state(State::ready, "commit of an empty transaction");
        finish({});
        return std::nullopt;
      }
      return Step::end_txn;
    case State::aborting:
      if (!idle) return std::nullopt;
      if (added_.empty() && groups_added_.empty()) {
        if (bump_epoch_ && protocol_ == Protocol::v1) {
          to_state(State::bumping_epoch, "abort of an empty transaction, and the epoch must move on");
          return Step::init_producer_id;
        }
        // Under v2 an empty abort still raises the epoch, which is how it is bumped.
        if (!bump_epoch_) {
          to_state(State::ready, "abort of an empty transaction");
          finish({});
          return std::nullopt;
        }
      }
      return Step::end_txn;
    default:
      return std::nullopt;
  }
}

protocol::InitProducerIdRequest TransactionManager::init_producer_id_request() const {
  protocol::InitProducerIdRequest req;
  req.transactional_id = options_.transactional_id;
  req.transaction_timeout_ms = static_cast<int32_t>(options_.transaction_timeout.count());
  // KIP-360: with the current id and epoch the coordinator raises the epoch of this producer, not of a
  // new one (after init, -1: a new producer, which fences any before it).
  req.producer_id = state_ == State::bumping_epoch ? producer_id_ : -1;
  req.producer_epoch = state_ == State::bumping_epoch ? epoch_ : int16_t{-1};
  return req;
}

protocol::AddPartitionsToTxnRequest TransactionManager::add_partitions_request() {
  protocol::AddPartitionsToTxnRequest req;
  req.v3_and_below_transactional_id = options_.transactional_id;
  req.v3_and_below_producer_id = producer_id_;
  req.v3_and_below_producer_epoch = epoch_;
  for (const TopicPartition& tp : pending_) {
    if (req.v3_and_below_topics.empty() || req.v3_and_below_topics.back().name != tp.topic)
      req.v3_and_below_topics.push_back({tp.topic, {}});
    req.v3_and_below_topics.back().partitions.push_back(tp.partition);
  }
  asking_ = std::move(pending_);
  pending_.clear();
  return req;
}

protocol::AddOffsetsToTxnRequest TransactionManager::add_offsets_request() const {
  protocol::AddOffsetsToTxnRequest req;
  req.transactional_id = options_.transactional_id;
  req.producer_id = producer_id_;
  req.producer_epoch = epoch_;
  req.group_id = offsets_.group.group_id;
  return req;
}

protocol::TxnOffsetCommitRequest TransactionManager::txn_offset_commit_request() const {
  protocol::TxnOffsetCommitRequest req;
  req.transactional_id = options_.transactional_id;
  req.group_id = offsets_.group.group_id;
  req.producer_id = producer_id_;
  req.producer_epoch = epoch_;
  req.generation_id_or_member_epoch = offsets_.group.generation_id;
  req.member_id = offsets_.group.member_id;
  req.group_instance_id = offsets_.group.group_instance_id;
  for (const auto& [tp, offset] : offsets_.offsets) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic, {}, {}});
    req.topics.back().partitions.push_back({tp.partition, offset, -1, std::nullopt});
  }
  return req;
}

protocol::EndTxnRequest TransactionManager::end_txn_request() const {
  protocol::EndTxnRequest req;
  req.transactional_id = options_.transactional_id;
  req.producer_id = producer_id_;
  req.producer_epoch = epoch_;
  req.committed = state_ == State::committing;
  return req;
}

ErrorAction TransactionManager::apply_error(ApiFamily family, std::error_code ec, std::string_view what) {
  const ErrorAction action = error_action(family, ec);
  if (action == ErrorAction::none) return action;
  if (is_retry(action)) {
    log(std::string(what) + ": " + ec.message() + " (" + std::string(kafkawire::to_string(action)) + ")");
    return action == ErrorAction::refresh_metadata ? ErrorAction::retry : action;
  }
  fail(ec, std::string(what) + ": " + ec.message());
  return ErrorAction::none;
}

ErrorAction TransactionManager::on_init_producer_id(std::error_code ec,
                                                    const protocol::InitProducerIdResponse& r) {
  if (state_ != State::initializing && state_ != State::bumping_epoch) return ErrorAction::none;
  if (!ec && r.error_code) ec = make_kafka_error(r.error_code);
  if (ec) return apply_error(ApiFamily::transaction, ec, "InitProducerId");
  producer_id_ = r.producer_id;
  epoch_ = r.producer_epoch;
  producer_changed_ = true;
  bump_epoch_ = false;
  to_state(State::ready, "producer " + std::to_string(producer_id_) + " epoch " + std::to_string(epoch_));
  finish({});
  return ErrorAction::none;
}

ErrorAction TransactionManager::on_add_partitions(std::error_code ec,
                                                  const protocol::AddPartitionsToTxnResponse& r) {
  if (asking_.empty()) return ErrorAction::none;
  int16_t code = 0;
  if (!ec)
    for (const auto& t : r.results_by_topic_v3_and_below)
      for (const auto& p : t.results_by_partition)
        code = worst(ApiFamily::transaction, code, p.partition_error_code);
  if (!ec && code) ec = make_kafka_error(code);
  if (!ec) {
    added_.insert(asking_.begin(), asking_.end());
    asking_.clear();
    return ErrorAction::none;
  }
  // The request is all or nothing: ask for them all again.
  pending_.insert(asking_.begin(), asking_.end());
  asking_.clear();
  std::string what = "AddPartitionsToTxn";
  if (state_ != State::in_transaction && state_ != State::committing) return ErrorAction::none;
  return apply_error(ApiFamily::transaction, ec, what);
}

ErrorAction TransactionManager::on_add_offsets(std::error_code ec,
                                               const protocol::AddOffsetsToTxnResponse& r) {
  if (operation_ != Operation::send_offsets) return ErrorAction::none;
  if (!ec && r.error_code) ec = make_kafka_error(r.error_code);
  if (ec) return apply_error(ApiFamily::transaction, ec, "AddOffsetsToTxn " + offsets_.group.group_id);
  groups_added_.insert(offsets_.group.group_id);
  offsets_added_ = true;
  return ErrorAction::none;
}

ErrorAction TransactionManager::on_txn_offset_commit(std::error_code ec,
                                                     const protocol::TxnOffsetCommitResponse& r) {
  if (operation_ != Operation::send_offsets) return ErrorAction::none;
  int16_t code = 0;
  if (!ec)
    for (const auto& t : r.topics)
      for (const auto& p : t.partitions) code = worst(ApiFamily::txn_offset_commit, code, p.error_code);
  if (!ec && code) ec = make_kafka_error(code);
  if (ec) return apply_error(ApiFamily::txn_offset_commit, ec, "TxnOffsetCommit " + offsets_.group.group_id);
  groups_added_.insert(offsets_.group.group_id);
  finish({});
  return ErrorAction::none;
}

ErrorAction TransactionManager::on_end_txn(std::error_code ec, const protocol::EndTxnResponse& r) {
  if (state_ != State::committing && state_ != State::aborting) return ErrorAction::none;
  const char* what = state_ == State::committing ? "EndTxn (commit)" : "EndTxn (abort)";
  if (!ec && r.error_code) ec = make_kafka_error(r.error_code);
  if (ec) return apply_error(ApiFamily::transaction, ec, what);
  // v5 (protocol v2): every end raises the epoch, and hands out the id and epoch to go on with.
  if (r.producer_id >= 0 && (r.producer_id != producer_id_ || r.producer_epoch != epoch_)) {
    producer_id_ = r.producer_id;
    epoch_ = r.producer_epoch;
    producer_changed_ = true;
    bump_epoch_ = false;
  }
  if (state_ == State::aborting && bump_epoch_ && protocol_ == Protocol::v1) {
    to_state(State::bumping_epoch, "EndTxn (abort) answered; a partition lost track of its sequence");
    return ErrorAction::none;
  }
  to_state(State::ready, std::string(what) + " answered, producer " + std::to_string(producer_id_) +
                             " epoch " + std::to_string(epoch_));
  finish({});
  return ErrorAction::none;
}

}  // namespace kafkawire
