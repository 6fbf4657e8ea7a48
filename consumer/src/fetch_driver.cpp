// The Consumer's fetch I/O. The decisions are made by the sans-IO parts (kafkawire/consumer/fetch_session.hpp
// explains them): a FetchSession per broker plans each Fetch and reads its answer, a PartitionBuffer per
// partition keeps position and records. This file only carries them out: one Fetch in flight per leader
// broker on its fetch connection, the answer handed back, metadata refreshed, errors kept for the next poll.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kafkawire/consumer/consumer.hpp"
#include "partition_state.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

fetch::SessionConfig session_config(const Config& c) {
  fetch::SessionConfig s;
  s.max_wait_ms = static_cast<int32_t>(c.fetch_max_wait.count());
  s.min_bytes = c.fetch_min_bytes;
  s.max_bytes = c.fetch_max_bytes;
  s.partition_max_bytes = c.max_partition_fetch_bytes;
  s.isolation_level = static_cast<int8_t>(c.isolation_level);
  s.auto_offset_reset = c.auto_offset_reset;
  return s;
}

std::string error_name(std::error_code ec) {
  if (ec.category() == kafka_category())
    if (const KafkaErrorInfo* e = find_kafka_error(static_cast<int16_t>(ec.value())))
      return std::string(e->name);
  return ec.message();
}

}  // namespace

int32_t Consumer::leader_epoch(const TopicPartition& tp) const {
  if (const net::TopicInfo* info = pool_->metadata().topic(tp.topic))
    if (static_cast<size_t>(tp.partition) < info->partitions.size())
      return info->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
  return -1;
}

void Consumer::start_fetches() {
  if (closed_) return;
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& [tp, p] : parts_) {
    if (!p->buffer.wants_fetch()) continue;
    const auto leader = pool_->metadata().leader(tp.topic, tp.partition);
    if (!leader) {
      metadata_stale_ = true;
      continue;
    }
    // Refused for a stale leader: it waits for new metadata (fetch_session.hpp).
    if (auto s = sessions_.find(*leader); s != sessions_.end() && s->second.holds(tp, leader_epoch(tp)))
      continue;
    by_leader[*leader].push_back(tp);
  }
  for (auto& [node, list] : by_leader) {
    if (fetching_nodes_.count(node)) continue;  // one Fetch in flight per broker
    fetching_nodes_.insert(node);
    for (const auto& tp : list) state(tp)->buffer.fetch_started();
    asio::co_spawn(executor_, fetch_from(node, std::move(list)), asio::detached);
  }
}

asio::awaitable<void> Consumer::fetch_from(int32_t node, std::vector<TopicPartition> partitions) {
  auto alive = alive_;
  // refetch: after an answer, the next Fetch goes out at once, while the application may still be
  // processing its batch (after an error, the next poll decides).
  auto finish = [&](bool refetch = false) {
    if (!*alive) return;
    fetching_nodes_.erase(node);
    for (const auto& tp : partitions)
      if (auto* p = state(tp)) p->buffer.fetch_finished();
    if (refetch) start_fetches();
    wake();
  };
  auto [cec, conn] = co_await pool_->connection(node, net::Purpose::fetch);
  if (!*alive) co_return;
  if (cec) {
    metadata_stale_ = true;
    asio::steady_timer t(executor_, config_.retry_backoff);
    co_await t.async_wait(use_nothrow);
    finish();
    co_return;
  }
  // The assignment may have changed while the connection was set up (a rebalance revoked partitions,
  // assign() replaced them, seek_to_* cleared a position): fetch only what is still ours at a known
  // position. Found by bench_group: a revocation during the connect dereferenced a removed partition.
  std::vector<fetch::WantedPartition> wanted;
  wanted.reserve(partitions.size());
  for (const auto& tp : partitions) {
    PartitionState* p = state(tp);
    const auto offset = p ? p->buffer.next_fetch_offset() : std::nullopt;
    if (!offset) continue;
    fetch::WantedPartition w{tp, {}, *offset, leader_epoch(tp), p->buffer.generation()};
    if (const net::TopicInfo* info = pool_->metadata().topic(tp.topic)) w.topic_id = info->id;
    wanted.push_back(std::move(w));
  }
  if (wanted.empty()) {
    finish();
    co_return;
  }
  const auto version = conn->negotiated_version<proto::FetchRequest>();
  if (!version) {
    fetch_error_ = client_errc::unsupported_version;
    set_error(conn->unsupported_text(proto::FetchRequest::api_key, proto::FetchRequest::min_version,
                                     proto::FetchRequest::max_version));
    finish();
    co_return;
  }

  // sessions_ is never erased from, so the reference outlives the wait (checked by `alive` first).
  fetch::FetchSession& session = sessions_.try_emplace(node, session_config(config_)).first->second;
  const fetch::PlannedFetch planned = session.plan(std::move(wanted), *version);
  if (planned.nothing_to_fetch) {  // all of them wait for metadata: the next poll refreshes it
    finish();
    co_return;
  }
  auto [ec, reply] =
      co_await conn->async_send_at(planned.request, planned.version, use_nothrow, config_.fetch_max_wait);
  if (!*alive) co_return;
  if (ec) {
    session.on_failure();  // a new connection means a new session
    metadata_stale_ = true;
    if (ec != client_errc::disconnected && ec != client_errc::timeout &&
        ec != client_errc::operation_aborted) {
      fetch_error_ = ec;
      set_error("Fetch from broker " + std::to_string(node) + ": " + ec.message());
    }
    finish();
    co_return;
  }
  const fetch::FetchResult result = session.on_response(reply.message);
  handle_fetch_result(node, result, reply.frame);
  if (result.back_off) {
    // A partition was refused for a stale leader: no Fetch to this broker for retry.backoff.ms (Java's
    // fetcher does the same), while the poll refreshes the metadata.
    wake();
    asio::steady_timer t(executor_, config_.retry_backoff);
    co_await t.async_wait(use_nothrow);
    if (!*alive) co_return;
  }
  finish(result.action != fetch::SessionAction::fail);
}

void Consumer::handle_fetch_result(int32_t node, const fetch::FetchResult& result,
                                   const fetch::Frame& frame) {
  if (result.refresh_metadata) metadata_stale_ = true;
  if (result.action == fetch::SessionAction::fail) {
    fetch_error_ = result.ec;
    set_error("Fetch from broker " + std::to_string(node) + ": " + error_name(result.ec));
    return;
  }
  // KIP-951: where the new leaders are, without waiting for a Metadata round trip.
  for (const auto& e : result.node_endpoints)
    pool_->metadata().add_broker({e.node_id, e.host, static_cast<uint16_t>(e.port), e.rack});
  for (const fetch::PartitionOutcome& o : result.partitions) {
    const TopicPartition& tp = o.asked->tp;
    if (o.leader_hint)
      pool_->metadata().apply_leader_hint(tp.topic, tp.partition, o.leader_hint->leader_id,
                                          o.leader_hint->leader_epoch);
    if (o.action == fetch::PartitionAction::refresh_metadata) {
      // The session holds it until new metadata arrives, whatever the buffer makes of the answer.
      metadata_stale_ = true;
      pool_->metadata().mark_stale(tp.topic);
    }
    PartitionState* p = state(tp);
    if (!p) continue;  // let go of while the Fetch was out
    switch (p->buffer.take(o, frame)) {
      case fetch::Taken::dropped:
      case fetch::Taken::taken:
        break;
      case fetch::Taken::refresh_metadata:
        metadata_stale_ = true;
        pool_->metadata().mark_stale(tp.topic);
        break;
      case fetch::Taken::reset_offset:
        p->pending_reset = o.reset_timestamp;  // resolve_positions looks it up
        break;
      case fetch::Taken::fail:
        fetch_error_ = o.ec;
        if (o.error == kafka_errc::offset_out_of_range)
          set_error(to_string(tp) + ": offset " + std::to_string(o.asked->fetch_offset) +
                    " is out of range and auto.offset.reset=none");
        else
          set_error(to_string(tp) + ": Fetch: " + error_name(o.ec));
        break;
    }
  }
}

bool Consumer::drain(std::vector<Record>& out, size_t max, std::error_code& ec) {
  if (parts_.empty()) return false;
  // Start with another partition each poll, so none starves.
  const size_t n = parts_.size();
  auto it = std::next(parts_.begin(), static_cast<std::ptrdiff_t>(round_robin_++ % n));
  for (size_t i = 0; i < n && out.size() < max; ++i, ++it) {
    if (it == parts_.end()) it = parts_.begin();
    PartitionState& p = *it->second;
    int64_t where = -1;
    if (const std::error_code read_ec = p.buffer.drain(out, max, &where)) {
      ec = read_ec;
      set_error(to_string(p.tp()) + " at offset " + std::to_string(where) + ": " + read_ec.message());
      return true;
    }
  }
  return !out.empty();
}

}  // namespace kafkawire
