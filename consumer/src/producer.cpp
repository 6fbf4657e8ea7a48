#include "kafkawire/consumer/producer.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/produce.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

int32_t murmur2(const void* data, size_t size) {
  // The Java client's murmur2: seed 0x9747b28c, m 0x5bd1e995, r 24, little-endian 4-byte blocks.
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t m = 0x5bd1e995;
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(size);
  const size_t blocks = size / 4;
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t k = uint32_t{p[4 * i]} | uint32_t{p[4 * i + 1]} << 8 | uint32_t{p[4 * i + 2]} << 16 |
                 uint32_t{p[4 * i + 3]} << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = p + blocks * 4;
  switch (size % 4) {
    case 3:
      h ^= uint32_t{tail[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{tail[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= tail[0];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::string_view key, int32_t partitions) {
  // Java: Utils.toPositive(murmur2(key)) % numPartitions, toPositive being `& 0x7fffffff`.
  return static_cast<int32_t>((static_cast<uint32_t>(murmur2(key.data(), key.size())) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

namespace {

proto::Compression compression_of(const std::string& name) {
  if (name == "gzip") return proto::Compression::gzip;
  if (name == "snappy") return proto::Compression::snappy;
  if (name == "lz4") return proto::Compression::lz4;
  if (name == "zstd") return proto::Compression::zstd;
  return proto::Compression::none;
}

net::PoolOptions producer_pool_options(const Config& c) {
  net::PoolOptions o;
  std::string problem;
  if (net::parse_bootstrap(c.bootstrap_servers, o.bootstrap, &problem))
    throw ConfigError("bootstrap.servers", problem);
  o.connection.client_id = c.client_id;
  o.connection.request_timeout = c.request_timeout;
  o.connection.connect_timeout = c.socket_connection_setup_timeout;
  o.reconnect_backoff = c.reconnect_backoff;
  o.reconnect_backoff_max = c.reconnect_backoff_max;
  return o;
}

size_t record_size(const ProducerRecord& r) {
  size_t n = 16 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const auto& [k, v] : r.headers) n += 4 + k.size() + (v ? v->size() : 0);
  return n;
}

}  // namespace

Producer::Producer(executor_type ex, Config config)
    : executor_(ex),
      config_(std::move(config)),
      pool_(net::Pool::create(ex, producer_pool_options(config_))),
      wakeup_(ex) {}

Producer::~Producer() {
  *alive_ = false;
  for (auto& w : flush_waiters_) finish_flush(w, client_errc::operation_aborted);
  pool_->close();
}

void Producer::complete(Pending& p, std::error_code ec, RecordMetadata md) {
  auto h = std::move(p.handler);
  asio::post(executor_,
             [h = std::move(h), ec, md = std::move(md)]() mutable { std::move(h)(ec, std::move(md)); });
  if (p.seq == 0) return;
  // A flush waiting for this record and no other completes now; it is posted after the record's own
  // handler, so when a flush completes the delivery handlers of its records have run.
  for (auto it = flush_waiters_.begin(); it != flush_waiters_.end();) {
    if (p.seq < it->target && --it->remaining == 0) {
      finish_flush(*it, {});
      it = flush_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  p.seq = 0;
}

void Producer::finish_flush(FlushWaiter& w, std::error_code ec) {
  auto ex = asio::get_associated_executor(w.handler, executor_);
  asio::post(executor_,
             asio::bind_executor(ex, [h = std::move(w.handler), ec]() mutable { std::move(h)(ec); }));
}

void Producer::enqueue(ProducerRecord record, Handler handler) {
  if (closed_) {
    Pending p{std::move(record), 0, std::move(handler)};
    complete(p, client_errc::operation_aborted, {});
    return;
  }
  const int64_t ts = record.timestamp.value_or(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                   std::chrono::system_clock::now().time_since_epoch())
                                                   .count());
  unrouted_.push_back(Pending{std::move(record), ts, std::move(handler),
                              clock::now() + config_.delivery_timeout, next_seq_++});
  ++queued_;
  if (!sender_running_) {
    sender_running_ = true;
    asio::co_spawn(executor_, sender(), asio::detached);
  } else {
    wakeup_.cancel();
  }
}

std::optional<int32_t> Producer::choose_partition(const ProducerRecord& r) {
  const net::TopicInfo* t = pool_->metadata().topic(r.topic);
  if (!t || t->partitions.empty()) return std::nullopt;
  const auto n = static_cast<int32_t>(t->partitions.size());
  if (r.partition) return *r.partition;
  if (r.key) return partition_for_key(*r.key, n);
  auto it = sticky_.find(r.topic);
  if (it == sticky_.end())
    it = sticky_.emplace(r.topic, static_cast<int32_t>(rng_() % static_cast<uint32_t>(n))).first;
  return it->second;
}

asio::awaitable<void> Producer::sender() {
  auto alive = alive_;
  while (*alive && (queued_ > 0 || sending_ > 0)) {
    if (closed_) abandon_queued();
    // Route records to partitions (metadata first for topics we have not seen).
    if (!unrouted_.empty()) {
      // Each topic once per Metadata request, however many of its records wait.
      std::vector<std::string> unknown;
      for (const auto& p : unrouted_)
        if (std::find(unknown.begin(), unknown.end(), p.record.topic) == unknown.end() &&
            pool_->metadata().needs_refresh(p.record.topic, config_.metadata_max_age))
          unknown.push_back(p.record.topic);
      if (!unknown.empty()) {
        auto [ec, none] = co_await pool_->refresh_metadata(unknown, config_.allow_auto_create_topics);
        if (!*alive) co_return;
        if (ec) error_text_ = "metadata: " + ec.message();
      }
      std::deque<Pending> still;
      for (auto& p : unrouted_) {
        const net::TopicInfo* t = pool_->metadata().topic(p.record.topic);
        const auto part = choose_partition(p.record);
        if (!part || (t && (*part < 0 || *part >= static_cast<int32_t>(t->partitions.size())))) {
          // With allow.auto.create.topics the broker answers UNKNOWN_TOPIC_OR_PARTITION (or
          // LEADER_NOT_AVAILABLE) while it creates the topic: ask again after retry.backoff.ms, until the
          // record's delivery.timeout.ms. Without it, an unknown topic fails at once.
          const bool creating = config_.allow_auto_create_topics && clock::now() < p.deadline;
          if (t && as_errc(t->error_code) == kafka_errc::unknown_topic_or_partition && !creating) {
            error_text_ = p.record.topic + ": the cluster has no such topic";
            --queued_;
            complete(p, client_errc::unknown_topic, {});
            continue;
          }
          if (t && part) {
            error_text_ = p.record.topic + "-" + std::to_string(*part) + ": no such partition";
            --queued_;
            complete(p, client_errc::invalid_argument, {});
            continue;
          }
          if (clock::now() >= p.deadline) {
            error_text_ = p.record.topic + ": no metadata for it within delivery.timeout.ms";
            --queued_;
            complete(p, client_errc::timeout, {});
            continue;
          }
          if (t) pool_->metadata().mark_stale(p.record.topic);  // refreshed on the next round
          still.push_back(std::move(p));
          continue;
        }
        auto& q = queues_[{p.record.topic, *part}];
        if (q.records.empty()) q.oldest = clock::now();
        q.bytes += record_size(p.record);
        q.records.push_back(std::move(p));
      }
      unrouted_ = std::move(still);
    }
    // Which partitions are ready: full, lingered long enough, or a flush asked for everything.
    const auto now = clock::now();
    auto next_due = clock::time_point::max();
    std::map<int32_t, std::vector<std::pair<TopicPartition, std::vector<Pending>>>> by_leader;
    for (auto& [tp, q] : queues_) {
      if (q.records.empty()) continue;
      const bool ready = flush_requested_ || closed_ || q.bytes >= static_cast<size_t>(config_.batch_size) ||
                         now - q.oldest >= config_.linger;
      if (!ready) {
        next_due = std::min(next_due, q.oldest + config_.linger);
        continue;
      }
      const auto leader = pool_->metadata().leader(tp.topic, tp.partition);
      if (!leader) {
        pool_->metadata().mark_stale(tp.topic);
        next_due = std::min(next_due, now + config_.retry_backoff);
        continue;
      }
      std::vector<Pending> batch;
      size_t bytes = 0;
      while (!q.records.empty() && (batch.empty() || bytes < static_cast<size_t>(config_.batch_size))) {
        bytes += record_size(q.records.front().record);
        batch.push_back(std::move(q.records.front()));
        q.records.pop_front();
      }
      q.bytes -= std::min(q.bytes, bytes);
      if (!q.records.empty()) q.oldest = now;
      if (!tp.topic.empty() && !batch.front().record.key && !batch.front().record.partition)
        sticky_.erase(tp.topic);  // the next keyless record picks a new partition
      queued_ -= batch.size();
      sending_ += batch.size();
      by_leader[*leader].emplace_back(tp, std::move(batch));
    }
    for (auto& [leader, batches] : by_leader)
      asio::co_spawn(executor_, send_batches(leader, std::move(batches), now + config_.delivery_timeout),
                     asio::detached);
    if (!unrouted_.empty()) next_due = std::min(next_due, now + config_.retry_backoff);
    if (queued_ == 0 && sending_ == 0) break;
    wakeup_.expires_at(next_due == clock::time_point::max() ? now + std::chrono::seconds(1) : next_due);
    co_await wakeup_.async_wait(use_nothrow);
  }
  if (!*alive) co_return;
  sender_running_ = false;
  flush_requested_ = false;
}

void Producer::abandon_queued() {
  // close() flushed everything sent before it; records sent while it did are not sent once it is done.
  auto fail = [this](Pending& p) {
    --queued_;
    complete(p, client_errc::operation_aborted, {});
  };
  if (queued_ > 0) error_text_ = "the producer is closed: records sent during close() are not delivered";
  for (auto& p : unrouted_) fail(p);
  unrouted_.clear();
  for (auto& [tp, q] : queues_) {
    for (auto& p : q.records) fail(p);
    q.records.clear();
    q.bytes = 0;
  }
}

std::error_code Producer::build_request(
    const std::vector<std::pair<TopicPartition, std::vector<Pending>>>& batches, proto::ProduceRequest& req,
    std::vector<std::vector<uint8_t>>& buffers) {
  req.acks = config_.acks_value();
  req.timeout_ms = static_cast<int32_t>(config_.request_timeout.count());
  buffers.clear();
  buffers.reserve(batches.size());  // the request's records views point into these
  proto::BatchOptions options;
  options.compression = compression_of(config_.compression_type);
  std::vector<proto::Header> headers;
  for (const auto& [tp, records] : batches) {
    proto::RecordBatchBuilder builder(options);
    for (const auto& p : records) {
      headers.clear();
      for (const auto& [k, v] : p.record.headers)
        headers.push_back({k, v ? std::optional<Bytes>(Bytes(*v)) : std::nullopt});
      builder.add(p.timestamp, p.record.key ? std::optional<Bytes>(Bytes(*p.record.key)) : std::nullopt,
                  p.record.value ? std::optional<Bytes>(Bytes(*p.record.value)) : std::nullopt, headers);
    }
    buffers.emplace_back();
    if (auto ec = builder.build_into(buffers.back())) return ec;
    auto t = std::find_if(req.topic_data.begin(), req.topic_data.end(),
                          [&](const auto& x) { return x.name == tp.topic; });
    if (t == req.topic_data.end()) {
      t = req.topic_data.emplace(req.topic_data.end());
      t->name = tp.topic;
      if (const auto* info = pool_->metadata().topic(tp.topic)) t->topic_id = info->id;
    }
    proto::ProduceRequest::PartitionProduceData pd;
    pd.index = tp.partition;
    pd.records.bytes = Bytes(buffers.back());
    t->partition_data.push_back(pd);
  }
  return {};
}

asio::awaitable<void> Producer::send_batches(
    int32_t leader, std::vector<std::pair<TopicPartition, std::vector<Pending>>> batches,
    clock::time_point deadline) {
  auto alive = alive_;
  for (int attempt = 0; *alive && !batches.empty(); ++attempt) {
    if (attempt > 0) {
      asio::steady_timer t(executor_, config_.retry_backoff);
      co_await t.async_wait(use_nothrow);
      if (!*alive) co_return;
      // (No braced list inside the co_await: GCC 12 miscompiles initializer_list in coroutine frames.)
      std::vector<std::string> topics;
      for (const auto& b : batches)
        if (std::find(topics.begin(), topics.end(), b.first.topic) == topics.end())
          topics.push_back(b.first.topic);
      if (auto [ec, none] = co_await pool_->refresh_metadata(std::move(topics)); !ec) {
        // A leader that went away leaves its partitions to several others: this coroutine keeps those of
        // the first partition's new leader and hands the rest to one coroutine per leader.
        if (auto l = pool_->metadata().leader(batches.front().first.topic, batches.front().first.partition))
          leader = *l;
        std::map<int32_t, std::vector<std::pair<TopicPartition, std::vector<Pending>>>> elsewhere;
        std::vector<std::pair<TopicPartition, std::vector<Pending>>> mine;
        for (auto& b : batches) {
          const auto l = pool_->metadata().leader(b.first.topic, b.first.partition);
          if (l && *l != leader)
            elsewhere[*l].push_back(std::move(b));
          else
            mine.push_back(std::move(b));
        }
        batches = std::move(mine);
        for (auto& [node, moved] : elsewhere)
          asio::co_spawn(executor_, send_batches(node, std::move(moved), deadline), asio::detached);
      }
      if (!*alive) co_return;
      if (batches.empty()) break;
    }
    // One batch per partition, built fresh each attempt (a retry may go to a new leader).
    proto::ProduceRequest req;
    std::vector<std::vector<uint8_t>> buffers;
    if (auto build_error = build_request(batches, req, buffers)) {
      error_text_ = "compression.type=" + config_.compression_type + ": " + build_error.message();
      for (auto& b : batches) {
        for (auto& p : b.second) complete(p, build_error, {});
        sending_ -= b.second.size();
      }
      batches.clear();
      break;
    }
    auto [cec, conn] = co_await pool_->connection(leader, net::Purpose::general);
    if (!*alive) co_return;
    std::error_code ec = cec;
    const bool unreachable = static_cast<bool>(cec);  // refused, reset, timed out: the leader may have moved
    net::Reply<proto::ProduceResponse> reply;
    if (!ec) {
      // Topic ids (v13) only when the metadata has one for every topic in the request.
      auto version = conn->negotiated_version<proto::ProduceRequest>();
      for (const auto& t : req.topic_data)
        if (t.topic_id.is_zero() && version) version = std::min<int16_t>(*version, 12);
      if (!version) {
        ec = client_errc::unsupported_version;
      } else {
        std::tie(ec, reply) = co_await conn->async_send_at(req, *version, use_nothrow);
        if (!*alive) co_return;
      }
    }
    std::vector<std::pair<TopicPartition, std::vector<Pending>>> retry;
    for (auto& [tp, records] : batches) {
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
      if (transient && !closed_ && clock::now() < deadline && attempt < config_.retries) {
        if (code || unreachable) pool_->metadata().mark_stale(tp.topic);
        retry.emplace_back(tp, std::move(records));
        continue;
      }
      std::error_code result = ec ? ec : code ? make_kafka_error(code) : std::error_code{};
      if (result) error_text_ = to_string(tp) + ": " + result.message();
      for (size_t i = 0; i < records.size(); ++i) {
        RecordMetadata r = md;
        if (r.offset >= 0) r.offset += static_cast<int64_t>(i);
        if (r.timestamp < 0) r.timestamp = records[i].timestamp;
        complete(records[i], result, r);
      }
      sending_ -= records.size();
    }
    batches = std::move(retry);
  }
  wakeup_.cancel();
}

net::Pool::Result<std::monostate> Producer::flush() {
  if (in_flight() == 0) co_return std::tuple{std::error_code{}, std::monostate{}};
  // After close() the connections are closed: what is still undelivered will not be.
  if (closed_) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
  flush_requested_ = true;
  wakeup_.cancel();
  // Woken by complete() when the last record sent before now has its result (no polling), or aborted by
  // close() or the destructor. Only the result is read after the wait: `this` may be gone by then.
  auto [ec] = co_await asio::async_initiate<decltype(use_nothrow), void(std::error_code)>(
      [this](auto handler) {
        // Every record without a result yet was sent before now (queued_ and sending_ are settled
        // whenever a coroutine can run, so in_flight() counts exactly those).
        flush_waiters_.push_back({next_seq_, in_flight(), std::move(handler)});
      },
      use_nothrow);
  co_return std::tuple{ec, std::monostate{}};
}

net::Pool::Result<std::monostate> Producer::close() {
  auto alive = alive_;
  auto [ec, none] = co_await flush();
  if (!*alive) co_return std::tuple{ec, std::monostate{}};  // destroyed while flushing
  closed_ = true;
  pool_->close();
  // Flushes still waiting are for records sent after this close() began; they will not be delivered now.
  for (auto& w : flush_waiters_) finish_flush(w, client_errc::operation_aborted);
  flush_waiters_.clear();
  co_return std::tuple{ec, std::monostate{}};
}

}  // namespace kafkawire
