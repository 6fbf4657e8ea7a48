// The Producer's transactions: the application's operations, and the work that carries out the
// TransactionManager's steps (see transaction_manager.hpp for what they mean).
#include <algorithm>
#include <boost/asio/bind_executor.hpp>

#include "kafkawire/protocol/find_coordinator.hpp"
#include "producer_core.hpp"

namespace kafkawire {

namespace {

using Step = TransactionManager::Step;
using Protocol = TransactionManager::Protocol;

// The version to send a request at: what the connection negotiated, within [lo, hi] (the transaction
// protocol's range); nullopt when the broker serves none of it.
template <class Req>
std::optional<int16_t> version_within(const net::Connection& conn, int16_t lo, int16_t hi) {
  auto v = conn.negotiated_version<Req>();
  if (!v) return std::nullopt;
  v = std::min(*v, hi);
  if (*v < lo) return std::nullopt;
  return v;
}

}  // namespace

net::Pool::Result<std::monostate> Producer::transaction_operation(Operation op, TransactionOffsets offsets) {
  return Core::transaction_operation(core_, op, std::move(offsets));
}

std::error_code Producer::begin_transaction() {
  if (!core_->txn_) {
    core_->error_text_ = "begin_transaction: the producer has no transactional.id";
    return client_errc::invalid_state;
  }
  core_->update_transaction_protocol();
  auto ec = core_->txn_->begin();
  if (ec == core_->txn_->last_error() && !core_->txn_->last_error_text().empty())
    core_->error_text_ = "begin_transaction: " + core_->txn_->last_error_text();
  else if (ec)
    core_->error_text_ = "begin_transaction: " + ec.message() + " (transaction " +
                         std::string(TransactionManager::to_string(core_->txn_->state())) + ")";
  return ec;
}

const TransactionManager* Producer::transactions() const { return core_->txn_ ? &*core_->txn_ : nullptr; }

void Producer::Core::update_transaction_protocol() {
  if (!txn_) return;
  const auto level = pool_->finalized_feature("transaction.version");
  txn_->set_protocol(forced_protocol_       ? *forced_protocol_
                     : level && *level >= 2 ? TransactionManager::Protocol::v2
                                            : TransactionManager::Protocol::v1);
}

net::Pool::Result<std::monostate> Producer::Core::transaction_operation(std::shared_ptr<Core> self,
                                                                        Operation op,
                                                                        TransactionOffsets offsets) {
  using R = std::tuple<std::error_code, std::monostate>;
  if (!self->txn_) {
    self->error_text_ = "transactions need transactional.id";
    co_return R{client_errc::invalid_state, {}};
  }
  if (self->stage_ != Stage::open)
    co_return R{self->failure_ ? self->failure_ : std::error_code(client_errc::operation_aborted), {}};
  TransactionManager& txn = *self->txn_;
  std::error_code ec;
  switch (op) {
    case Operation::init: {
      // The protocol comes from the cluster's features, which a connection's ApiVersions brings.
      if (!self->pool_->finalized_feature("transaction.version")) co_await self->pool_->any_connection();
      if (self->stage_ != Stage::open) co_return R{client_errc::operation_aborted, {}};
      self->update_transaction_protocol();
      ec = txn.init();
      break;
    }
    case Operation::send_offsets:
    case Operation::send_offsets_and_commit:
      ec = txn.send_offsets(std::move(offsets));
      break;
    case Operation::commit:
      ec = txn.commit();
      // Everything queued goes now; the EndTxn waits for the last result.
      if (!ec) {
        self->flush_requested_ = true;
        self->wakeup_.cancel();
      }
      break;
    case Operation::abort:
      ec = txn.abort();
      // Records not in a batch yet are never sent; those out get their results, then the EndTxn.
      if (!ec)
        self->abandon_queued(client_errc::transaction_aborted,
                             "the transaction was aborted before these records were sent");
      break;
  }
  if (ec) {
    self->error_text_ = (txn.last_error() == ec && !txn.last_error_text().empty())
                            ? txn.last_error_text()
                            : "transaction: " + ec.message() + " (transaction " +
                                  std::string(TransactionManager::to_string(txn.state())) + ")";
    co_return R{ec, {}};
  }
  auto [result, none] = co_await await_transaction(self);
  if (op == Operation::send_offsets_and_commit && !result) {
    if (self->stage_ != Stage::open) co_return R{client_errc::operation_aborted, {}};
    if (auto cec = txn.commit()) {
      self->error_text_ = "commit_transaction: " + cec.message();
      co_return R{cec, {}};
    }
    self->flush_requested_ = true;
    self->wakeup_.cancel();
    std::tie(result, none) = co_await await_transaction(self);
  }
  if (result && result != client_errc::timeout && !txn.last_error_text().empty())
    self->error_text_ = txn.last_error_text();
  co_return R{result, {}};
}

net::Pool::Result<std::monostate> Producer::Core::await_transaction(std::shared_ptr<Core> self) {
  auto [ec] = co_await asio::async_initiate<decltype(use_nothrow), void(std::error_code)>(
      [&self](auto handler) {
        self->txn_waiters_.push_back({clock::now() + self->config_.max_block, std::move(handler)});
        // Only now: co_spawn dispatches, so a worker started here runs at once, and an operation it can
        // end without a request (the commit or abort of an empty transaction) must find its waiter.
        self->poke_transactions();
      },
      use_nothrow);
  co_return std::tuple{ec, std::monostate{}};
}

void Producer::Core::finish_transaction_waiters(std::error_code ec) {
  for (auto& w : txn_waiters_) {
    auto ex = asio::get_associated_executor(w.handler, executor_);
    asio::post(executor_,
               asio::bind_executor(ex, [h = std::move(w.handler), ec]() mutable { std::move(h)(ec); }));
  }
  txn_waiters_.clear();
}

void Producer::Core::poke_transactions() {
  if (!txn_ || stage_ == Stage::destroyed) return;
  if (!txn_worker_running_) {
    txn_worker_running_ = true;
    spawn(transaction_worker());
  } else {
    txn_wakeup_.cancel();
  }
}

void Producer::Core::transaction_batch_failed(std::error_code ec) {
  if (!txn_) return;
  if (session_.lost_track()) txn_->request_epoch_bump();
  txn_->on_batch_failed(ec, error_text_);
  poke_transactions();
}

asio::awaitable<void> Producer::Core::transaction_worker() {
  TransactionManager& txn = *txn_;
  while (stage_ != Stage::destroyed) {
    // A new producer id or epoch (init, a bump, an EndTxn under v2): the next batches carry it.
    if (auto p = txn.take_producer()) {
      session_.adopt(p->first, p->second);
      wakeup_.cancel();
    }
    // A result nobody waits for (the application stopped at max.block.ms) stays with the manager: the
    // same call again gives it.
    if (!txn_waiters_.empty())
      if (auto r = txn.take_result()) finish_transaction_waiters(*r);
    const auto now = clock::now();
    // An application that stopped waiting (max.block.ms) is told so; the operation goes on.
    for (auto it = txn_waiters_.begin(); it != txn_waiters_.end();) {
      if (it->deadline <= now) {
        error_text_ = "the transaction operation did not end within max.block.ms (" +
                      std::to_string(config_.max_block.count()) + " ms); it goes on: call it again to wait";
        auto ex = asio::get_associated_executor(it->handler, executor_);
        asio::post(executor_, asio::bind_executor(ex, [h = std::move(it->handler)]() mutable {
                     std::move(h)(client_errc::timeout);
                   }));
        it = txn_waiters_.erase(it);
      } else {
        ++it;
      }
    }
    const bool idle = queued_ == 0 && sending_ == 0;
    const auto step = txn.next_step(idle);
    if (!step) {
      if (!txn_waiters_.empty())
        if (auto r = txn.take_result()) {  // next_step ended an empty transaction
          finish_transaction_waiters(*r);
          continue;
        }
      if (!txn.operation_running() && txn_waiters_.empty()) break;
      // Woken by a result that makes the producer idle, by the sender, or by a waiter's deadline.
      auto until = now + std::chrono::seconds(1);
      for (const auto& w : txn_waiters_) until = std::min(until, w.deadline);
      txn_wakeup_.expires_at(until);
      co_await txn_wakeup_.async_wait(use_nothrow);
      continue;
    }
    const ErrorAction action = co_await carry_out(*step);
    if (stage_ == Stage::destroyed) break;
    wakeup_.cancel();  // partitions added, or the transaction ended: the sender may go on
    if (action == ErrorAction::retry || action == ErrorAction::find_coordinator) {
      asio::steady_timer backoff(executor_, config_.retry_backoff);
      co_await backoff.async_wait(use_nothrow);
    }
  }
  txn_worker_running_ = false;
}

asio::awaitable<ErrorAction> Producer::Core::carry_out(Step step) {
  TransactionManager& txn = *txn_;
  const bool to_group = step == Step::txn_offset_commit;
  const std::string key = to_group ? txn.group_id() : txn.transactional_id();
  const int8_t key_type =
      to_group ? proto::FindCoordinatorRequest::kGroup : proto::FindCoordinatorRequest::kTransaction;
  const bool v2 = txn.protocol() == Protocol::v2;

  // Every failure before an answer (no coordinator, no connection, no version both serve) is fed to the
  // step as its answer: the manager decides what it means.
  std::error_code ec;
  std::shared_ptr<net::Connection> conn;
  auto [fec, coordinator] = co_await pool_->find_coordinator(key, key_type);
  if (stage_ == Stage::destroyed) co_return ErrorAction::none;
  ec = fec;
  if (!ec) {
    auto [cec, c] = co_await pool_->connection(coordinator.node_id, net::Purpose::group);
    if (stage_ == Stage::destroyed) co_return ErrorAction::none;
    ec = cec;
    conn = c;
  }
  ErrorAction action = ErrorAction::none;
  switch (step) {
    case Step::init_producer_id: {
      auto req = txn.init_producer_id_request();
      std::optional<int16_t> version;
      // Raising the epoch of a producer id needs v3 (KIP-360).
      if (conn)
        version = version_within<proto::InitProducerIdRequest>(*conn, req.producer_id >= 0 ? 3 : 0, 5);
      net::Reply<proto::InitProducerIdResponse> reply;
      if (!ec && !version) ec = client_errc::unsupported_version;
      if (!ec) std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
      if (stage_ == Stage::destroyed) co_return ErrorAction::none;
      action = txn.on_init_producer_id(ec, ec ? proto::InitProducerIdResponse{} : reply.message);
      break;
    }
    case Step::add_partitions: {
      auto req = txn.add_partitions_request();
      std::optional<int16_t> version;
      if (conn) version = version_within<proto::AddPartitionsToTxnRequest>(*conn, 0, 3);  // v4+: brokers'
      net::Reply<proto::AddPartitionsToTxnResponse> reply;
      if (!ec && !version) ec = client_errc::unsupported_version;
      if (!ec) std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
      if (stage_ == Stage::destroyed) co_return ErrorAction::none;
      action = txn.on_add_partitions(ec, ec ? proto::AddPartitionsToTxnResponse{} : reply.message);
      break;
    }
    case Step::add_offsets: {
      auto req = txn.add_offsets_request();
      std::optional<int16_t> version;
      if (conn) version = version_within<proto::AddOffsetsToTxnRequest>(*conn, 0, 4);
      net::Reply<proto::AddOffsetsToTxnResponse> reply;
      if (!ec && !version) ec = client_errc::unsupported_version;
      if (!ec) std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
      if (stage_ == Stage::destroyed) co_return ErrorAction::none;
      action = txn.on_add_offsets(ec, ec ? proto::AddOffsetsToTxnResponse{} : reply.message);
      break;
    }
    case Step::txn_offset_commit: {
      auto req = txn.txn_offset_commit_request();
      // v6 names topics by id: only when the metadata has every topic's.
      bool ids = true;
      for (auto& t : req.topics) {
        const auto* info = pool_->metadata().topic(t.name);
        if (info && !info->id.is_zero())
          t.topic_id = info->id;
        else
          ids = false;
      }
      std::optional<int16_t> version;
      if (conn)
        version = version_within<proto::TxnOffsetCommitRequest>(*conn, v2 ? 5 : 0, v2 ? (ids ? 6 : 5) : 4);
      net::Reply<proto::TxnOffsetCommitResponse> reply;
      if (!ec && !version) ec = client_errc::unsupported_version;
      if (!ec) std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
      if (stage_ == Stage::destroyed) co_return ErrorAction::none;
      action = txn.on_txn_offset_commit(ec, ec ? proto::TxnOffsetCommitResponse{} : reply.message);
      break;
    }
    case Step::end_txn: {
      auto req = txn.end_txn_request();
      std::optional<int16_t> version;
      if (conn) version = version_within<proto::EndTxnRequest>(*conn, v2 ? 5 : 0, v2 ? 5 : 4);
      net::Reply<proto::EndTxnResponse> reply;
      if (!ec && !version) ec = client_errc::unsupported_version;
      if (!ec) std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
      if (stage_ == Stage::destroyed) co_return ErrorAction::none;
      action = txn.on_end_txn(ec, ec ? proto::EndTxnResponse{} : reply.message);
      break;
    }
  }
  if (action == ErrorAction::find_coordinator) pool_->forget_coordinator(key, key_type);
  co_return action;
}

}  // namespace kafkawire
