// The Consumer's fetch I/O. The decisions are made by the sans-IO parts (kafkawire/consumer/fetch_session.hpp
// explains them): a FetchSession per broker plans each Fetch and reads its answer, a PartitionBuffer per
// partition keeps position and records. This file only carries them out: one Fetch in flight per leader
// broker on its fetch connection, the answer handed back, metadata refreshed, errors kept for the next poll.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "consumer_core.hpp"

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

int32_t Consumer::Core::leader_epoch(const TopicPartition& tp) const {
  if (const net::TopicInfo* info = pool_->metadata().topic(tp.topic))
    if (static_cast<size_t>(tp.partition) < info->partitions.size())
      return info->partitions[static_cast<size_t>(tp.partition)].leader_epoch;
  return -1;
}

void Consumer::Core::start_fetches() {
  if (stage_ != Stage::open) return;
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
    spawn(fetch_from(node, std::move(list)));
  }
}

asio::awaitable<void> Consumer::Core::fetch_from(int32_t node, std::vector<TopicPartition> partitions) {
  // refetch: after an answer, the next Fetch goes out at once, while the application may still be
  // processing its batch (after an error, the next poll decides). The Core is held by spawn(), so this
  // runs on it even when the Consumer is gone (start_fetches then starts nothing).
  auto finish = [&](bool refetch = false) {
    fetching_nodes_.erase(node);
    for (const auto& tp : partitions)
      if (auto* p = state(tp)) p->buffer.fetch_finished();
    if (refetch) start_fetches();
    wake();
  };
  auto [cec, conn] = co_await pool_->connection(node, net::Purpose::fetch);
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
    fail_next_poll(client_errc::unsupported_version,
                   conn->unsupported_text(proto::FetchRequest::api_key, proto::FetchRequest::min_version,
                                          proto::FetchRequest::max_version));
    finish();
    co_return;
  }

  // sessions_ is never erased from, and the Core outlives this coroutine: the reference outlives the wait.
  fetch::FetchSession& session = sessions_.try_emplace(node, session_config(config_)).first->second;
  // The bound on buffered memory (partition_buffer.hpp): the answer may bring no more than the room left.
  const int32_t asked =
      ledger_.fetch_started(config_.fetch_max_bytes, config_.max_partition_fetch_bytes, wanted.size());
  const fetch::PlannedFetch planned = session.plan(std::move(wanted), *version, asked);
  if (planned.nothing_to_fetch) {  // all of them wait for metadata: the next poll refreshes it
    ledger_.fetch_finished(asked);
    finish();
    co_return;
  }
  auto [ec, reply] =
      co_await conn->async_send_at(planned.request, planned.version, use_nothrow, config_.fetch_max_wait);
  ledger_.fetch_finished(asked);
  if (ec) {
    session.on_failure();  // a new connection means a new session
    metadata_stale_ = true;
    if (ec != client_errc::disconnected && ec != client_errc::timeout && ec != client_errc::operation_aborted)
      fail_next_poll(ec, "Fetch from broker " + std::to_string(node) + ": " + pool_->describe(ec));
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
  }
  finish(result.action != fetch::SessionAction::fail);
}

void Consumer::Core::handle_fetch_result(int32_t node, const fetch::FetchResult& result,
                                         const fetch::Frame& frame) {
  if (result.refresh_metadata) metadata_stale_ = true;
  if (result.action == fetch::SessionAction::fail) {
    fail_next_poll(result.ec, "Fetch from broker " + std::to_string(node) + ": " + error_name(result.ec));
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
        if (o.error == kafka_errc::offset_out_of_range)
          fail_next_poll(o.ec, to_string(tp) + ": offset " + std::to_string(o.asked->fetch_offset) +
                                   " is out of range and auto.offset.reset=none");
        else
          fail_next_poll(o.ec, to_string(tp) + ": Fetch: " + error_name(o.ec));
        break;
    }
  }
}

bool Consumer::Core::drain(std::vector<Record>& out, size_t max, Failure& failure) {
  // The oldest answer first, as Java's fetch buffer does: no partition waits behind newer data, and a
  // Fetch answer's frame (shared by all the partitions it answers) is let go of soon after it came, not
  // once every partition has been read a little at a time. The partitions of one answer take turns: each
  // poll starts looking at another partition, so they run dry together and are fetched again together.
  if (parts_.empty()) return false;
  const size_t n = parts_.size();
  const auto start = std::next(parts_.begin(), static_cast<std::ptrdiff_t>(round_robin_++ % n));
  while (out.size() < max && ledger_.ready > 0) {
    PartitionState* oldest = nullptr;
    auto it = start;
    for (size_t i = 0; i < n; ++i, ++it) {
      if (it == parts_.end()) it = parts_.begin();
      const fetch::PartitionBuffer& b = it->second->buffer;
      if (b.ready() && (!oldest || b.arrival() < oldest->buffer.arrival())) oldest = it->second.get();
    }
    if (!oldest) break;
    int64_t where = -1;
    if (const std::error_code read_ec = oldest->buffer.drain(out, max, &where)) {
      failure = {read_ec,
                 to_string(oldest->tp()) + " at offset " + std::to_string(where) + ": " + read_ec.message()};
      return true;
    }
    if (oldest->buffer.ready() && out.size() < max) break;  // drain() reads to the end or to max: never spin
  }
  return !out.empty();
}

}  // namespace kafkawire
