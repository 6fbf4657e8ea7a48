// One Produce request of the Producer and its retries, and InitProducerId (see producer_core.hpp).
#include <algorithm>

#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/init_producer_id.hpp"
#include "kafkawire/protocol/record_batch.hpp"
#include "producer_core.hpp"

namespace kafkawire {

std::error_code Producer::Core::build_request(Batches& batches, proto::ProduceRequest& req) {
  req.acks = config_.acks_value();
  req.timeout_ms = static_cast<int32_t>(config_.request_timeout.count());
  if (txn_) req.transactional_id = txn_->transactional_id();
  for (auto& b : batches) {
    const TopicPartition& tp = b.tp;
    // The stamp of this attempt (a bump renumbers); the records were encoded when they were routed.
    b.records.set_producer(b.stamp.producer_id, b.stamp.producer_epoch, b.stamp.base_sequence);
    Bytes frame;
    if (auto ec = b.records.finish(frame)) return ec;
    auto t = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                          [&](const auto& x) { return x.name == tp.topic; });
    if (t == req.topic_data.end()) {
      t = req.topic_data.emplace(req.topic_data.end());
      t->name = tp.topic;
      if (const auto* info = pool_->metadata().topic(tp.topic)) t->topic_id = info->id;
    }
    proto::ProduceRequest::PartitionProduceData pd;
    pd.index = tp.partition;
    pd.records.bytes = frame;
    t->partition_data.push_back(pd);
  }
  return {};
}

void Producer::Core::fail_batch(Batch& b, std::error_code ec) {
  // Not answered (aborted, not built): whether it was written is unknown, which the session treats as such.
  session_.on_result(b.tp, b.id, b.stamp, {.answered = false, .retriable = false, .may_retry = false});
  const size_t n = b.deliveries.size();
  complete_batch(b, ec, {});
  sending_ -= n;
  transaction_batch_failed(ec);
}

asio::awaitable<void> Producer::Core::init_producer_id() {
  auto req = session_.init_request();
  if (!req) co_return;
  auto [ec, reply] = co_await pool_->send_any(std::move(*req));
  if (stage_ == Stage::destroyed) co_return;
  proto::InitProducerIdResponse answer;
  if (ec == client_errc::unsupported_version) {
    // A broker without InitProducerId (before Kafka 0.11) cannot give idempotence: that is for good.
    answer.error_code = static_cast<int16_t>(kafka_errc::unsupported_version);
    ec = {};
  } else if (!ec) {
    answer = reply.message;
  }
  session_.on_init_response(ec, answer);
  if (ec || answer.error_code)
    error_text_ = "InitProducerId: " + (ec ? ec : make_kafka_error(answer.error_code)).message();
}

asio::awaitable<void> Producer::Core::send_batches(int32_t leader, Batches batches,
                                                   clock::time_point deadline, int first_attempt) {
  // The in-flight slot taken for `leader` when this was spawned; given back at the end, even if the
  // retries went to another broker.
  const int32_t slot = leader;
  for (int attempt = first_attempt; stage_ != Stage::destroyed && !batches.empty(); ++attempt) {
    Batches waiting;  // retried batches the session holds back this round
    if (attempt > 0) {
      asio::steady_timer t(executor_, config_.retry_backoff);
      co_await t.async_wait(use_nothrow);
      if (stage_ == Stage::destroyed) break;
      // (No braced list inside the co_await: GCC 12 miscompiles initializer_list in coroutine frames.)
      std::vector<std::string> topics;
      for (const auto& b : batches)
        if (std::find(topics.begin(), topics.end(), b.tp.topic) == topics.end()) topics.push_back(b.tp.topic);
      if (auto [ec, none] = co_await pool_->refresh_metadata(std::move(topics)); !ec) {
        // A leader that went away leaves its partitions to several others: this coroutine keeps those of
        // the first partition's new leader and hands the rest to one coroutine per leader.
        if (auto l = pool_->metadata().leader(batches.front().tp.topic, batches.front().tp.partition))
          leader = *l;
        std::map<int32_t, Batches> elsewhere;
        Batches mine;
        for (auto& b : batches) {
          const auto l = pool_->metadata().leader(b.tp.topic, b.tp.partition);
          if (l && *l != leader)
            elsewhere[*l].push_back(std::move(b));
          else
            mine.push_back(std::move(b));
        }
        batches = std::move(mine);
        for (auto& [node, moved] : elsewhere) {
          ++requests_in_flight_[node];
          spawn(send_batches(node, std::move(moved), deadline, attempt));
        }
      }
      if (stage_ == Stage::destroyed || batches.empty()) break;
    }
    auto [cec, conn] = co_await pool_->connection(leader, net::Purpose::general);
    if (stage_ == Stage::destroyed) break;
    // Each batch goes (again) only when the earlier batches of its partition are out on this same
    // connection (so none overtakes another), with the stamp the session has for it now (a bump
    // renumbers). Asked with the connection at hand, and sent without a pause after: the order the
    // session hands out is the order on the wire.
    if (!cec) {
      Batches now;
      for (auto& b : batches) {
        if (auto stamp = session_.send(b.tp, b.id, conn->serial())) {
          b.stamp = *stamp;
          if (attempt > 0) ++batches_resent_;
          now.push_back(std::move(b));
        } else if (session_.state() == ProducerSession::State::fatal) {
          error_text_ = session_.fatal_text();
          fail_batch(b, session_.fatal_error());
        } else {
          waiting.push_back(std::move(b));
        }
      }
      batches = std::move(now);
      if (batches.empty()) {
        // Nothing may go yet: after retry.backoff.ms (the top of the loop, from the first retry on), again.
        batches = std::move(waiting);
        if (attempt > 0) --attempt;  // nothing sent: not an attempt
        continue;
      }
    }
    // One batch per partition, built fresh each attempt (a retry may go to a new leader).
    proto::ProduceRequest req;
    if (auto build_error = build_request(batches, req)) {
      error_text_ = "compression.type=" + config_.compression_type + ": " + build_error.message();
      for (auto& b : batches) fail_batch(b, build_error);
      batches = std::move(waiting);
      continue;
    }
    std::error_code ec = cec;
    const bool unreachable = static_cast<bool>(cec);  // refused, reset, timed out: the leader may have moved
    net::Reply<proto::ProduceResponse> reply;
    if (!ec) {
      // Topic ids (v13) only when the metadata has one for every topic in the request.
      auto version = conn->negotiated_version<proto::ProduceRequest>();
      for (const auto& t : req.topic_data)
        if (t.topic_id.is_zero() && version) version = std::min<int16_t>(*version, 12);
      // The broker reads the transaction protocol from the version: v12+ adds the partition to the
      // transaction itself (KIP-890, v2); v11 and below expect AddPartitionsToTxn first (v1).
      if (txn_ && version) {
        if (txn_->protocol() == TransactionManager::Protocol::v1)
          version = std::min<int16_t>(*version, 11);
        else if (*version < 12)
          version.reset();
      }
      if (!version) {
        ec = client_errc::unsupported_version;
      } else {
        // Once sent, the answer decides, even if the Producer is destroyed meanwhile: what the broker
        // wrote is reported as written.
        std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
        if (ec && stage_ == Stage::destroyed) ec = client_errc::operation_aborted;
      }
    }
    Batches retry = std::move(waiting);
    for (auto& b : batches) {
      const TopicPartition& tp = b.tp;
      int16_t code = 0;
      RecordMetadata md{tp.topic, tp.partition, -1, -1};
      if (!ec && req.acks != 0) {
        bool found = false;
        for (const auto& t : reply->responses) {
          std::string name = t.name;
          if (reply.version >= 13)
            if (const auto* info = pool_->metadata().topic_by_id(t.topic_id)) name = info->name;
          if (name != tp.topic) continue;
          for (const auto& p : t.partition_responses)
            if (p.index == tp.partition) {
              found = true;
              code = p.error_code;
              md.offset = p.base_offset;
              md.timestamp = p.log_append_time_ms;
              if (p.current_leader.leader_id >= 0)
                pool_->metadata().apply_leader_hint(tp.topic, tp.partition, p.current_leader.leader_id,
                                                    p.current_leader.leader_epoch);
            }
        }
        if (!found) code = static_cast<int16_t>(kafka_errc::unknown_server_error);
      }
      const bool transient =
          ec ? (unreachable || ec == client_errc::disconnected || ec == client_errc::timeout)
             : is_retry(error_action(ApiFamily::produce, code));
      // After close() nothing is retried: the connections are gone, and the caller was told it is over.
      const bool may_retry = stage_ == Stage::open && clock::now() < deadline && attempt < config_.retries;
      // The session has the last word: DUPLICATE_SEQUENCE_NUMBER is a success, OUT_OF_ORDER_SEQUENCE_NUMBER
      // and friends are retried (after a new epoch when they mean a gap).
      const auto verdict = session_.on_result(
          tp, b.id, b.stamp,
          {.error_code = code, .answered = !ec, .retriable = transient, .may_retry = may_retry});
      if (verdict == ProducerSession::Verdict::retry) {
        if (code || unreachable) pool_->metadata().mark_stale(tp.topic);
        retry.push_back(std::move(b));
        continue;
      }
      std::error_code result;
      if (verdict == ProducerSession::Verdict::fail)
        result = session_.state() == ProducerSession::State::fatal ? session_.fatal_error()
                 : ec                                              ? ec
                 : code                                            ? make_kafka_error(code)
                        : make_error_code(kafka_errc::unknown_server_error);
      if (result) error_text_ = to_string(tp) + ": " + result.message();
      const size_t n = b.deliveries.size();
      complete_batch(b, result, md);
      sending_ -= n;
      if (result) transaction_batch_failed(result);
    }
    batches = std::move(retry);
    // A result may let a partition start its next batch, or ask for a producer id, or end a transaction.
    wakeup_.cancel();
    if (txn_ && txn_->operation_running()) poke_transactions();
  }
  // The Producer was destroyed before these were sent (again): they end with it.
  for (auto& b : batches) fail_batch(b, client_errc::operation_aborted);
  --requests_in_flight_[slot];
  wakeup_.cancel();
}

}  // namespace kafkawire
