#include "kafkawire/consumer/producer.hpp"

#include <algorithm>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <cstring>
#include <limits>

#include "producer_core.hpp"

namespace kafkawire {

namespace {

proto::Compression compression_of(const std::string& name) {
  if (name == "gzip") return proto::Compression::gzip;
  if (name == "snappy") return proto::Compression::snappy;
  if (name == "lz4") return proto::Compression::lz4;
  if (name == "zstd") return proto::Compression::zstd;
  return proto::Compression::none;
}

size_t record_size(const RecordRef& r) {
  size_t n = 16 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const auto& h : r.headers) n += 4 + h.key.size() + (h.value ? h.value->size() : 0);
  return n;
}

std::optional<Bytes> bytes_of(const std::optional<std::string_view>& s) {
  return s ? std::optional<Bytes>(Bytes(*s)) : std::nullopt;
}

// Lengths as unsigned varints (7 bits a byte), a field's as length + 1 with 0 for null.
size_t uleb_size(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}
void put_uleb(uint8_t*& out, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *out++ = static_cast<uint8_t>(v | 0x80);
  *out++ = static_cast<uint8_t>(v);
}
uint64_t get_uleb(const uint8_t*& in) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    const uint8_t b = *in++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return v;
  }
}
size_t stored_size(std::string_view s) { return uleb_size(s.size() + 1) + s.size(); }
size_t stored_size(const std::optional<std::string_view>& s) { return s ? stored_size(*s) : 1; }
void put_field(uint8_t*& out, std::string_view s) {
  put_uleb(out, s.size() + 1);
  if (!s.empty()) std::memcpy(out, s.data(), s.size());
  out += s.size();
}
void put_field(uint8_t*& out, const std::optional<std::string_view>& s) {
  if (s)
    put_field(out, *s);
  else
    put_uleb(out, 0);
}
std::optional<Bytes> get_field(const uint8_t*& in) {
  const uint64_t n = get_uleb(in);
  if (n == 0) return std::nullopt;
  Bytes b(in, n - 1);
  in += n - 1;
  return b;
}

}  // namespace

// A stored record: the tag (8 bytes, native order), key, value (length + 1 or 0 for null, then the
// bytes), the header count, and per header its key and value the same way. The bytes never leave the
// process.
RecordArena::Ref RecordArena::store(const RecordRef& r, uint64_t tag) {
  size_t size = sizeof tag + stored_size(r.key) + stored_size(r.value) + uleb_size(r.headers.size());
  for (const auto& h : r.headers) size += stored_size(h.key) + stored_size(h.value);
  if (chunks_.empty() || chunks_.back().capacity - chunks_.back().used < size) {
    Chunk c;
    if (size <= kChunkSize && !spare_.empty()) {
      c = std::move(spare_.back());
      spare_.pop_back();
    } else {
      c.capacity = std::max(size, kChunkSize);
      c.data.reset(new uint8_t[c.capacity]);
    }
    chunks_.push_back(std::move(c));
  }
  Chunk& c = chunks_.back();
  Ref ref{c.data.get() + c.used, static_cast<uint32_t>(first_id_ + chunks_.size() - 1)};
  c.used += size;
  ++c.live;
  uint8_t* out = ref.data;
  std::memcpy(out, &tag, sizeof tag);
  out += sizeof tag;
  put_field(out, r.key);
  put_field(out, r.value);
  put_uleb(out, r.headers.size());
  for (const auto& h : r.headers) {
    put_field(out, h.key);
    put_field(out, h.value);
  }
  return ref;
}

uint64_t RecordArena::tag(const Ref& ref) {
  uint64_t tag = 0;
  if (ref.data) std::memcpy(&tag, ref.data, sizeof tag);
  return tag;
}

void RecordArena::load(const Ref& ref, RecordView& v, std::vector<proto::Header>& headers) {
  const uint8_t* in = ref.data;
  v.tag = tag(ref);
  in += sizeof v.tag;
  v.key = get_field(in);
  v.value = get_field(in);
  const uint64_t n = get_uleb(in);
  headers.clear();
  for (uint64_t i = 0; i < n; ++i) {
    const auto k = get_field(in);
    const auto value = get_field(in);
    headers.push_back({std::string_view(reinterpret_cast<const char*>(k->ptr), k->len), value});
  }
  v.headers = headers;
}

void RecordArena::release(Ref& ref) {
  if (!ref.data) return;
  --chunks_[static_cast<uint32_t>(ref.chunk - static_cast<uint32_t>(first_id_))].live;
  ref.data = nullptr;
  // Chunks empty at the front go (the last one, which takes new records, is only rewound).
  while (!chunks_.empty() && chunks_.front().live == 0) {
    if (chunks_.size() == 1) {
      chunks_.front().used = 0;
      break;
    }
    Chunk c = std::move(chunks_.front());
    chunks_.pop_front();
    ++first_id_;
    if (c.capacity == kChunkSize && spare_.size() < 2) {
      c.used = 0;
      spare_.push_back(std::move(c));
    }
  }
}

Producer::Producer(executor_type ex, Config config)
    : executor_(ex), core_(std::make_shared<Core>(ex, std::move(config))) {}

Producer::~Producer() { core_->destroy(); }

void Producer::enqueue(ProducerRecord record, Handler handler) {
  std::vector<RecordHeaderRef> headers;
  headers.reserve(record.headers.size());
  for (const auto& [k, v] : record.headers)
    headers.push_back({k, v ? std::optional<std::string_view>(*v) : std::nullopt});
  const RecordRef ref{record.topic,
                      record.partition,
                      record.key ? std::optional<std::string_view>(*record.key) : std::nullopt,
                      record.value ? std::optional<std::string_view>(*record.value) : std::nullopt,
                      headers,
                      record.timestamp};
  core_->enqueue(ref, std::move(handler), 0);
}
void Producer::send(const RecordRef& record, uint64_t tag) { core_->enqueue(record, Handler{}, tag); }
bool Producer::would_wait(const RecordRef& record) const {
  const auto memory = static_cast<uint64_t>(core_->config_.buffer_memory);
  const size_t bytes = record_size(record);
  return bytes <= memory && core_->stage_ == Core::Stage::open && core_->waits_for_memory(bytes);
}
void Producer::on_delivery(std::function<void(const DeliveryReport&)> callback) {
  core_->on_delivery_ = std::move(callback);
}
net::Pool::Result<std::monostate> Producer::flush() { return Core::flush(core_); }
net::Pool::Result<std::monostate> Producer::close() { return Core::close(core_); }
size_t Producer::in_flight() const { return core_->queued_ + core_->sending_; }
uint64_t Producer::batches_resent() const { return core_->batches_resent_; }
const std::string& Producer::error_text() const { return core_->error_text_; }
net::Pool& Producer::pool() { return *core_->pool_; }

void Producer::Core::spawn(asio::awaitable<void> work) {
  asio::co_spawn(executor_, std::move(work), [self = shared_from_this()](std::exception_ptr e) {
    if (e) self->stop(e);
  });
}

void Producer::Core::stop(std::exception_ptr e) {
  // The state of the queues is unknown after an exception: nothing more is sent, and what has no result
  // fails with internal_error. Records in requests still running get their results from those.
  const std::string what = describe_exception(e);
  if (stage_ == Stage::open) stage_ = Stage::closed;
  failure_ = client_errc::internal_error;
  abandon_queued(failure_, "the producer stopped: an exception escaped its background work: " + what);
  abort_waiters(failure_);
  finish_transaction_waiters(failure_);
  sender_running_ = false;
  pool_->close();
}

void Producer::Core::destroy() {
  stage_ = Stage::destroyed;
  failure_ = client_errc::operation_aborted;
  abandon_queued(failure_, "the producer was destroyed");
  abort_waiters(failure_);
  finish_transaction_waiters(failure_);
  // The callback may use what the application destroys with the Producer: the results just posted, and
  // any later, find it gone (a handler of async_send is always completed: Asio's rule for handlers). It
  // is destroyed on the executor, after whatever runs now: that may be the callback itself, destroying
  // the Producer from inside a report.
  asio::post(executor_, [callback = std::move(on_delivery_)] {});
  on_delivery_ = nullptr;
  wakeup_.cancel();
  txn_wakeup_.cancel();
  pool_->close();
}

void Producer::Core::abort_waiters(std::error_code ec) {
  for (auto& w : flush_waiters_) finish_flush(w, ec);
  flush_waiters_.clear();
}

void Producer::Core::complete(Pending& p, std::error_code ec, RecordMetadata md) {
  if (md.topic.empty()) md.topic = topic_names_[p.topic];
  if (md.partition < 0 && p.has_partition) md.partition = p.partition;
  deliver(std::move(p.handler), RecordArena::tag(p.data), ec, std::move(md));
  settle(p);
  arena_.release(p.data);
}

void Producer::Core::refuse(const RecordRef& r, Handler&& handler, uint64_t tag, std::error_code ec) {
  deliver(std::move(handler), tag, ec, {std::string(r.topic), -1, -1, -1});
}

void Producer::Core::deliver(Handler&& handler, uint64_t tag, std::error_code ec, RecordMetadata md) {
  if (handler) {
    asio::post(executor_, [h = std::move(handler), ec, md = std::move(md)]() mutable {
      std::move(h)(ec, std::move(md));
    });
    return;
  }
  asio::post(executor_, [self = shared_from_this(), tag, ec, md = std::move(md)] {
    if (self->on_delivery_)
      self->on_delivery_(DeliveryReport{ec, md.topic, md.partition, md.offset, md.timestamp, tag});
  });
}

int64_t Producer::Core::wall_ms(clock::time_point now) {
  if (now - wall_checked_ >= std::chrono::milliseconds(100) || now < wall_checked_) {
    wall_offset_ = std::chrono::system_clock::now().time_since_epoch() - now.time_since_epoch();
    wall_checked_ = now;
  }
  return std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch() + wall_offset_).count();
}

uint32_t Producer::Core::topic_index(std::string_view topic) {
  if (!topic_names_.empty() && topic_names_.back() == topic)
    return static_cast<uint32_t>(topic_names_.size() - 1);
  auto it = topic_indexes_.find(topic);
  if (it == topic_indexes_.end()) {
    it = topic_indexes_.emplace(std::string(topic), static_cast<uint32_t>(topic_names_.size())).first;
    topic_names_.emplace_back(topic);
  }
  return it->second;
}

Producer::Core::Pending Producer::Core::stash(const RecordRef& r, Handler&& handler, uint64_t tag,
                                              int64_t timestamp, uint64_t seq, size_t bytes) {
  Pending p{std::move(handler), arena_.store(r, tag), static_cast<uint32_t>(bytes), timestamp, {}, seq};
  p.partition = r.partition.value_or(0);
  p.has_partition = r.partition.has_value();
  p.topic = topic_index(r.topic);
  return p;
}

RecordView Producer::Core::view(const Pending& p) {
  RecordView v{topic_names_[p.topic], p.chosen_partition(), {}, {}, {}};
  RecordArena::load(p.data, v, header_views_);
  return v;
}

void Producer::Core::complete_batch(Batch& b, std::error_code ec, const RecordMetadata& md) {
  // Flushes waiting for these records: counted now, completed after the records' handlers were posted.
  std::vector<std::list<FlushWaiter>::iterator> flushed;
  for (auto it = flush_waiters_.begin(); it != flush_waiters_.end(); ++it) {
    size_t mine = 0;
    for (const auto& d : b.deliveries) mine += d.seq != 0 && d.seq < it->target;
    if (mine > 0 && (it->remaining -= std::min(mine, it->remaining)) == 0) flushed.push_back(it);
  }
  // One posted function gives every record of the batch its result, in order: a post per record (an
  // allocation and a trip through the scheduler each) was a tenth of the producer's CPU.
  RecordMetadata batch_md = md;
  if (batch_md.topic.empty()) batch_md = {b.tp.topic, b.tp.partition, -1, -1};  // failed: where it was going
  asio::post(executor_, [self = shared_from_this(), deliveries = std::move(b.deliveries),
                         handlers = std::move(b.handlers), ec, md = std::move(batch_md)]() mutable {
    DeliveryReport report{ec, md.topic, md.partition, -1, -1, 0};
    for (size_t i = 0; i < deliveries.size(); ++i) {
      Delivery& d = deliveries[i];
      const int64_t offset = !ec && md.offset >= 0 ? md.offset + static_cast<int64_t>(i) : md.offset;
      const int64_t timestamp = !ec && md.timestamp < 0 ? d.timestamp : md.timestamp;
      if (d.has_handler) {
        std::move(handlers[d.tag])(ec, RecordMetadata{md.topic, md.partition, offset, timestamp});
      } else if (self->on_delivery_) {
        report.offset = offset;
        report.timestamp = timestamp;
        report.tag = d.tag;
        self->on_delivery_(report);
      }
    }
  });
  b.deliveries.clear();
  b.handlers.clear();
  release_memory(std::exchange(b.bytes, 0));
  for (auto it : flushed) {
    finish_flush(*it, {});
    flush_waiters_.erase(it);
  }
}

void Producer::Core::release_memory(size_t bytes) {
  buffered_bytes_ -= bytes;
  if (bytes > 0 && !waiting_for_memory_.empty()) wakeup_.cancel();  // the sender takes waiting records in
}

void Producer::Core::take_in(Pending& p, clock::time_point now) {
  p.holds_memory = true;
  buffered_bytes_ += p.bytes;
  p.deadline = now + config_.delivery_timeout;
}

void Producer::Core::admit_waiting(clock::time_point now) {
  while (!waiting_for_memory_.empty()) {
    Pending& p = waiting_for_memory_.front();
    if (buffered_bytes_ + p.bytes <= static_cast<uint64_t>(config_.buffer_memory)) {
      take_in(p, now);
      // Routed now when nothing waits for metadata before it, else by the sender, behind those.
      if (unrouted_.empty() && !pool_->needs_metadata(topic_names_[p.topic], now))
        route(p, now);
      else
        unrouted_.push_back(std::move(p));
    } else if (p.deadline <= now) {
      error_text_ = topic_names_[p.topic] + ": buffer.memory (" + std::to_string(config_.buffer_memory) +
                    " bytes) stayed full for max.block.ms (" + std::to_string(config_.max_block.count()) +
                    " ms): the brokers take records more slowly than they are sent";
      --queued_;
      complete(p, client_errc::timeout, {});
      transaction_batch_failed(client_errc::timeout);
    } else {
      break;
    }
    waiting_for_memory_.pop_front();
  }
}

void Producer::Core::settle(Pending& p) {
  if (p.holds_memory) {
    p.holds_memory = false;
    release_memory(p.bytes);
  }
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

void Producer::Core::finish_flush(FlushWaiter& w, std::error_code ec) {
  auto ex = asio::get_associated_executor(w.handler, executor_);
  asio::post(executor_,
             asio::bind_executor(ex, [h = std::move(w.handler), ec]() mutable { std::move(h)(ec); }));
}

void Producer::Core::enqueue(const RecordRef& record, Handler handler, uint64_t tag) {
  if (stage_ != Stage::open) {
    refuse(record, std::move(handler), tag,
           failure_ ? failure_ : std::error_code(client_errc::operation_aborted));
    return;
  }
  // A transactional producer takes records only inside a transaction that can still commit.
  if (txn_)
    if (auto ec = txn_->may_send()) {
      error_text_ = std::string(record.topic) + ": " +
                    (ec == client_errc::invalid_state
                         ? std::string("no transaction: call begin_transaction() before sending")
                         : "the transaction cannot commit (" + txn_->last_error_text() + "): abort it");
      refuse(record, std::move(handler), tag, ec);
      return;
    }
  const auto now = clock::now();
  const int64_t ts = record.timestamp ? *record.timestamp : wall_ms(now);
  const size_t bytes = record_size(record);
  if (bytes > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    error_text_ = std::string(record.topic) + ": a record of " + std::to_string(bytes) +
                  " bytes is more than a Kafka record can hold (its length is an int32)";
    refuse(record, std::move(handler), tag, client_errc::invalid_argument);
    transaction_batch_failed(client_errc::invalid_argument);  // as for a record past buffer.memory
    return;
  }
  if (bytes > static_cast<uint64_t>(config_.buffer_memory)) {
    error_text_ = std::string(record.topic) + ": a record of " + std::to_string(bytes) +
                  " bytes can never fit in buffer.memory (" + std::to_string(config_.buffer_memory) + ")";
    refuse(record, std::move(handler), tag, client_errc::invalid_argument);
    transaction_batch_failed(client_errc::invalid_argument);  // Java: send() fails and the transaction too
    return;
  }
  const uint64_t seq = next_seq_++;
  ++queued_;
  auto start_sender = [this](bool wake) {
    if (!sender_running_) {
      sender_running_ = true;
      spawn(sender());
    } else if (wake) {
      wakeup_.cancel();
    }
  };
  // buffer.memory full (or records already waiting for room, which this one must not overtake): it
  // waits for deliveries to make room, as Java's send() blocks, and fails at max.block.ms. Without this
  // bound an application faster than its brokers grew the producer's memory without end.
  if (waits_for_memory(bytes)) {
    Pending p = stash(record, std::move(handler), tag, ts, seq, bytes);
    p.deadline = now + config_.max_block;
    waiting_for_memory_.push_back(std::move(p));
    start_sender(false);
    return;
  }
  // A record goes straight into its partition's open batch, from the application's strings (no copy
  // kept), when the metadata places it, or when the application chose the partition: the sender checks
  // that partition against the topic's metadata when that comes (at start-up every record would
  // otherwise wait, copied, for the first metadata). Not while records wait for metadata: none may
  // overtake them. The sender is woken only when that queue has something to send sooner than the sender
  // planned. Waking it for every record made it scan every partition's queue per record: with 1,000
  // partitions most of the producer's CPU.
  const net::TopicInfo* t = unrouted_.empty() ? pool_->metadata().topic(record.topic) : nullptr;
  const bool known = t && !needs_metadata(t, now);
  const bool chosen = !known && unrouted_.empty() && record.partition && *record.partition >= 0;
  if (known || chosen) {
    header_views_.clear();
    for (const auto& h : record.headers) header_views_.push_back({h.key, bytes_of(h.value)});
    const RecordView v{record.topic,           record.partition, bytes_of(record.key),
                       bytes_of(record.value), header_views_,    tag};
    if (QueueEntry* e = known ? place(v, t) : &queue_for(record.topic, *record.partition)) {
      buffered_bytes_ += bytes;
      append(*e, v, std::move(handler), ts, seq, bytes, now + config_.delivery_timeout, now);
      if (chosen) {
        const size_t wanted = metadata_wanted_.size();
        want_metadata(e->first.topic);
        start_sender(metadata_wanted_.size() > wanted);
        return;
      }
      bool wake = false;
      if (due(e->second) < wakeup_.expiry()) {
        // A broker at max.in.flight.requests.per.connection: the answer that frees a slot wakes the sender.
        const auto leader = pool_->metadata().leader(e->first.topic, e->first.partition);
        wake = !(leader && requests_in_flight_[*leader] >= config_.max_in_flight_requests);
      }
      start_sender(wake);
      return;
    }
  }
  Pending p = stash(record, std::move(handler), tag, ts, seq, bytes);
  take_in(p, now);
  if (known)
    route(p, now);  // fails it (no such partition), or leaves it in unrouted_ for the sender
  else
    unrouted_.push_back(std::move(p));
  start_sender(true);
}

clock::time_point Producer::Core::due(const PartitionQueue& q) const {
  if (q.batches.empty()) return clock::time_point::max();
  const Batch& first = q.batches.front();
  if (flush_requested_ || stage_ != Stage::open || q.batches.size() > 1 ||
      first.records.uncompressed_size() >= static_cast<size_t>(config_.batch_size))
    return clock::time_point::min();
  return first.created + config_.linger;
}

void Producer::Core::append(QueueEntry& e, const RecordView& v, Handler&& handler, int64_t timestamp,
                            uint64_t seq, size_t bytes, clock::time_point deadline, clock::time_point now) {
  // A record that would take the open batch past batch.size starts the next one (Java's rule), so a
  // batch's buffer, sized once, is never copied to grow; a record larger than batch.size is a batch alone.
  auto& q = e.second;
  const size_t batch_size = static_cast<size_t>(config_.batch_size);
  if (q.batches.empty() || (q.batches.back().records.count() > 0 &&
                            q.batches.back().records.uncompressed_size() + bytes > batch_size)) {
    proto::BatchOptions options;
    options.compression = compression_of(config_.compression_type);
    options.transactional = txn_.has_value();
    Batch& b = q.batches.emplace_back();
    b.tp = e.first;
    b.records.reset(options);
    b.records.reserve(std::max(batch_size, proto::kBatchHeaderSize + bytes + 32));
    b.deliveries.reserve(std::min<size_t>(batch_size / std::max<size_t>(bytes, 1) + 1, 1024));
    b.created = now;
    b.deadline = deadline;
    b.sticky = !v.key && !v.partition;
  }
  Batch& b = q.batches.back();
  b.records.add(timestamp, v.key, v.value, v.headers);
  if (handler) {
    b.deliveries.push_back({b.handlers.size(), timestamp, seq, 1});
    b.handlers.push_back(std::move(handler));
  } else {
    b.deliveries.push_back({v.tag, timestamp, seq, 0});
  }
  b.bytes += bytes;
}

Producer::Core::QueueEntry* Producer::Core::place(const RecordView& v, const net::TopicInfo* t) {
  const auto part = choose_partition(v, t);
  if (!part || *part < 0 || *part >= static_cast<int32_t>(t->partitions.size())) return nullptr;
  return &queue_for(v.topic, *part);
}

Producer::Core::QueueEntry& Producer::Core::queue_for(std::string_view topic, int32_t partition) {
  auto index = queue_index_.find(topic);
  if (index == queue_index_.end()) index = queue_index_.emplace(std::string(topic), 0).first;
  auto& queues = index->second;
  if (queues.size() <= static_cast<size_t>(partition))
    queues.resize(static_cast<size_t>(partition) + 1, nullptr);
  QueueEntry*& e = queues[static_cast<size_t>(partition)];
  if (!e) e = &*queues_.try_emplace({std::string(topic), partition}).first;
  return *e;
}

const TopicPartition* Producer::Core::route(Pending& p, clock::time_point now) {
  const std::string& topic = topic_names_[p.topic];
  const net::TopicInfo* t = pool_->metadata().topic(topic);
  const RecordView v = view(p);
  if (QueueEntry* e = place(v, t)) {
    append(*e, v, std::move(p.handler), p.timestamp, p.seq, p.bytes, p.deadline, now);
    // The batch holds the record's memory from now on (and answers for its flush).
    p.holds_memory = false;
    p.seq = 0;
    arena_.release(p.data);
    return &e->first;
  }
  std::error_code failed = unplaceable(topic, choose_partition(v, t), t, now < p.deadline);
  if (!failed && now >= p.deadline) {
    error_text_ = topic + ": no metadata for it within delivery.timeout.ms";
    failed = client_errc::timeout;
  }
  if (failed) {
    --queued_;
    complete(p, failed, {});
    transaction_batch_failed(failed);
    return nullptr;
  }
  if (t) pool_->metadata().mark_stale(topic);  // refreshed on the next round
  unrouted_.push_back(std::move(p));
  return nullptr;
}

std::error_code Producer::Core::unplaceable(const std::string& topic, std::optional<int32_t> partition,
                                            const net::TopicInfo* t, bool in_time) {
  if (!t) return {};
  // With allow.auto.create.topics the broker answers UNKNOWN_TOPIC_OR_PARTITION (or
  // LEADER_NOT_AVAILABLE) while it creates the topic: ask again after retry.backoff.ms, until the
  // record's delivery.timeout.ms. Without it, an unknown topic fails at once.
  if (as_errc(t->error_code) == kafka_errc::unknown_topic_or_partition) {
    if (config_.allow_auto_create_topics && in_time) return {};
    error_text_ = topic + ": the cluster has no such topic";
    return client_errc::unknown_topic;
  }
  if (partition && (*partition < 0 ||
                    (!t->partitions.empty() && *partition >= static_cast<int32_t>(t->partitions.size())))) {
    error_text_ = topic + "-" + std::to_string(*partition) + ": no such partition";
    return client_errc::invalid_argument;
  }
  return {};
}

bool Producer::Core::fail_unplaceable(const TopicPartition& tp, PartitionQueue& q, clock::time_point now) {
  const net::TopicInfo* t = pool_->metadata().topic(tp.topic);
  if (q.batches.empty() || !t || needs_metadata(t, now)) return false;
  const auto ec = unplaceable(tp.topic, tp.partition, t, now < q.batches.front().deadline);
  if (!ec) return false;
  for (auto& b : q.batches) {
    fail_queued(b, ec);
    transaction_batch_failed(ec);
  }
  q.batches.clear();
  return true;
}

void Producer::Core::want_metadata(const std::string& topic) {
  if (std::find(metadata_wanted_.begin(), metadata_wanted_.end(), topic) == metadata_wanted_.end())
    metadata_wanted_.push_back(topic);
}

std::optional<int32_t> Producer::Core::choose_partition(const RecordView& v, const net::TopicInfo* t) {
  if (!t || t->partitions.empty()) return std::nullopt;
  const auto n = static_cast<int32_t>(t->partitions.size());
  if (v.partition) return *v.partition;
  if (v.key)
    return partition_for_key(std::string_view(reinterpret_cast<const char*>(v.key->ptr), v.key->len), n);
  auto it = sticky_.find(v.topic);
  if (it == sticky_.end())
    it = sticky_.emplace(std::string(v.topic), static_cast<int32_t>(rng_() % static_cast<uint32_t>(n))).first;
  return it->second;
}

asio::awaitable<void> Producer::Core::sender() {
  while (stage_ != Stage::destroyed && (queued_ > 0 || sending_ > 0)) {
    if (stage_ == Stage::closed)
      abandon_queued(client_errc::operation_aborted,
                     "the producer is closed: records sent during close() are not delivered");
    // An idempotent producer sends nothing before it has a producer id; without one for good, nothing.
    if (session_.state() == ProducerSession::State::uninitialized) {
      co_await init_producer_id();
      if (stage_ == Stage::destroyed) break;
    }
    if (session_.state() == ProducerSession::State::fatal)
      abandon_queued(session_.fatal_error(), session_.fatal_text());
    // A transaction that can no longer commit sends nothing more (Java fails its undrained batches too).
    if (txn_ && (txn_->state() == TransactionManager::State::abortable_error ||
                 txn_->state() == TransactionManager::State::fatal_error))
      abandon_queued(txn_->last_error(), txn_->last_error_text());
    admit_waiting(clock::now());
    // Route records to partitions (metadata first for topics we have not seen, and for those of queues
    // that wait for a leader or for their topic's metadata).
    if (!unrouted_.empty() || !metadata_wanted_.empty()) {
      // Each topic once per Metadata request, however many of its records wait.
      std::vector<uint32_t> seen;
      std::vector<std::string> unknown;
      for (const auto& p : unrouted_)
        if (std::find(seen.begin(), seen.end(), p.topic) == seen.end()) {
          seen.push_back(p.topic);
          if (pool_->needs_metadata(topic_names_[p.topic])) unknown.push_back(topic_names_[p.topic]);
        }
      for (auto& topic : metadata_wanted_)
        if (pool_->needs_metadata(topic) && std::find(unknown.begin(), unknown.end(), topic) == unknown.end())
          unknown.push_back(std::move(topic));
      metadata_wanted_.clear();
      if (!unknown.empty()) {
        auto [ec, none] = co_await pool_->refresh_metadata(unknown, config_.allow_auto_create_topics);
        if (stage_ == Stage::destroyed) break;
        if (ec && stage_ == Stage::open) error_text_ = "metadata: " + pool_->describe(ec);
      }
      // Each record leaves `waiting` as it is routed, so the queue's memory goes while the batches fill
      // (at start-up this is every record sent before the first metadata arrived).
      std::deque<Pending> waiting = std::move(unrouted_);
      unrouted_.clear();
      const auto routed_at = clock::now();
      for (; !waiting.empty(); waiting.pop_front())
        route(waiting.front(), routed_at);  // what still cannot be placed goes back to unrouted_
    }
    // Which partitions are ready: full, lingered long enough, or a flush asked for everything. Each round
    // starts after the partition the last one ended with, so that with requests bounded in size and number
    // no partition waits behind the others for good.
    const auto now = clock::now();
    auto next_due = clock::time_point::max();
    std::map<int32_t, std::vector<PlannedRequest>> by_leader;
    bool transaction_waits = false;  // a partition waits to be added to the transaction
    bool drained = false;            // this round took a batch for a request
    auto it = queues_.upper_bound(drained_last_);
    for (size_t visited = 0; visited < queues_.size(); ++visited, ++it) {
      if (it == queues_.end()) it = queues_.begin();
      auto& [tp, q] = *it;
      if (q.batches.empty()) continue;
      // Records placed before their topic's metadata came (a partition the application chose) fail now
      // if the topic or the partition does not exist.
      if (fail_unplaceable(tp, q, now)) continue;
      // Records that wait on something that is not coming (a leader, a producer id) fail at their
      // delivery.timeout.ms: none is in a batch yet, so no sequence number is lost. Records merely queued
      // behind a slow broker wait on: without a bound on the producer's memory (Java's buffer.memory
      // blocks send()), expiring them would fail what the application was never told to hold back.
      const bool stuck = (session_.idempotent() && session_.state() != ProducerSession::State::ready) ||
                         !pool_->metadata().leader(tp.topic, tp.partition);
      if (stuck) {
        if (q.batches.front().deadline <= now) expire(tp, q, now);
        if (q.batches.empty()) continue;
        next_due = std::min(next_due, q.batches.front().deadline);
      }
      if (const auto when = due(q); when > now) {
        next_due = std::min(next_due, when);
        continue;
      }
      const auto leader = pool_->metadata().leader(tp.topic, tp.partition);
      if (!leader) {
        pool_->metadata().mark_stale(tp.topic);
        want_metadata(tp.topic);
        next_due = std::min(next_due, now + config_.retry_backoff);
        continue;
      }
      // Idempotence: at most max.in.flight batches of a partition out, none past one waiting to be resent,
      // none before the producer id. The answer that changes this wakes the sender.
      if (!session_.may_start(tp)) continue;
      // Transactions (v1): a partition joins the transaction (AddPartitionsToTxn) before its first batch.
      if (txn_ && !txn_->partition_added(tp)) {
        transaction_waits = true;
        continue;
      }
      // A request holds at most max.request.size bytes of batches, and at most
      // max.in.flight.requests.per.connection requests wait at a broker. Without these bounds, a broker
      // slower than the application got an ever longer pipeline of ever larger requests (a batch for each
      // of 1,000 partitions), the last of which waited past request.timeout.ms; the timeout closed the
      // connection and every request on it was sent again, though the broker had written most of them:
      // whole requests duplicated in the log. The records wait here instead, in larger batches; the answer
      // that frees a slot wakes the sender.
      auto& requests = by_leader[*leader];
      const size_t estimate = q.batches.front().records.uncompressed_size();
      if (requests.empty() ||
          requests.back().bytes + estimate > static_cast<size_t>(config_.max_request_size)) {
        if (requests_in_flight_[*leader] + static_cast<int>(requests.size()) >=
            config_.max_in_flight_requests)
          continue;
        requests.emplace_back();
      }
      Batch batch = std::move(q.batches.front());
      q.batches.pop_front();
      if (batch.sticky) sticky_.erase(tp.topic);  // the next keyless record picks a new partition
      const size_t n = batch.deliveries.size();
      queued_ -= n;
      sending_ += n;
      requests.back().bytes += estimate;
      const auto started = session_.start(tp, static_cast<int32_t>(n));  // may_start said yes
      batch.id = started->id;
      batch.stamp = started->stamp;
      requests.back().batches.push_back(std::move(batch));
      drained_last_ = tp;
      drained = true;
      // A request takes one batch of a partition. When the next one is due too, another round goes at
      // once (below): the broker then has the next request waiting while it handles this one, up to
      // max.in.flight. Waiting for an answer first left one request in flight and the broker idle between.
      if (!q.batches.empty()) next_due = std::min(next_due, due(q));
    }
    for (auto& [leader, requests] : by_leader)
      for (auto& request : requests) {
        ++requests_in_flight_[leader];
        spawn(send_batches(leader, std::move(request.batches), now + config_.delivery_timeout));
      }
    if (transaction_waits) poke_transactions();
    if (!unrouted_.empty() || session_.state() == ProducerSession::State::uninitialized)
      next_due = std::min(next_due, now + config_.retry_backoff);
    if (!waiting_for_memory_.empty()) next_due = std::min(next_due, waiting_for_memory_.front().deadline);
    if (queued_ == 0 && sending_ == 0) break;
    if (drained && next_due <= now) continue;  // more is due: the next round now
    wakeup_.expires_at(next_due == clock::time_point::max() ? now + std::chrono::seconds(1) : next_due);
    co_await wakeup_.async_wait(use_nothrow);
  }
  sender_running_ = false;
  flush_requested_ = false;
}

void Producer::Core::expire(const TopicPartition& tp, PartitionQueue& q, clock::time_point now) {
  const std::string why =
      session_.idempotent() && session_.state() != ProducerSession::State::ready
          ? "no producer id" + (error_text_.empty() ? std::string() : " (" + error_text_ + ")")
          : "no leader for " + to_string(tp);
  error_text_ = to_string(tp) + ": " + why + " within delivery.timeout.ms (" +
                std::to_string(config_.delivery_timeout.count()) + " ms)";
  while (!q.batches.empty() && q.batches.front().deadline <= now) {
    fail_queued(q.batches.front(), client_errc::timeout);
    q.batches.pop_front();
    transaction_batch_failed(client_errc::timeout);
  }
}

void Producer::Core::fail_queued(Batch& b, std::error_code ec) {
  queued_ -= b.deliveries.size();
  complete_batch(b, ec, {});
}

void Producer::Core::abandon_queued(std::error_code ec, const std::string& why) {
  auto fail = [&](Pending& p) {
    --queued_;
    complete(p, ec, {});
  };
  if (queued_ > 0) error_text_ = why;
  for (auto& p : unrouted_) fail(p);
  unrouted_.clear();
  for (auto& p : waiting_for_memory_) fail(p);
  waiting_for_memory_.clear();
  for (auto& [tp, q] : queues_) {
    for (auto& b : q.batches) fail_queued(b, ec);
    q.batches.clear();
  }
}

net::Pool::Result<std::monostate> Producer::Core::flush(std::shared_ptr<Core> self) {
  if (self->queued_ + self->sending_ == 0) co_return std::tuple{std::error_code{}, std::monostate{}};
  // After close() the connections are closed: what is still undelivered will not be.
  if (self->stage_ != Stage::open)
    co_return std::tuple{self->failure_ ? self->failure_ : std::error_code(client_errc::operation_aborted),
                         std::monostate{}};
  self->flush_requested_ = true;
  self->wakeup_.cancel();
  // Woken by complete() when the last record sent before now has its result (no polling), or aborted by
  // close(), the destructor or a stop.
  auto [ec] = co_await asio::async_initiate<decltype(use_nothrow), void(std::error_code)>(
      [&self](auto handler) {
        // Every record without a result yet was sent before now (queued_ and sending_ are settled
        // whenever a coroutine can run, so they count exactly those).
        self->flush_waiters_.push_back({self->next_seq_, self->queued_ + self->sending_, std::move(handler)});
      },
      use_nothrow);
  co_return std::tuple{ec, std::monostate{}};
}

net::Pool::Result<std::monostate> Producer::Core::close(std::shared_ptr<Core> self) {
  // An open transaction is aborted, as Java's close() does: left open, it would hold back every
  // read_committed consumer of its partitions until transaction.timeout.ms.
  if (self->txn_ && (self->txn_->state() == TransactionManager::State::in_transaction ||
                     self->txn_->state() == TransactionManager::State::abortable_error))
    (void)co_await transaction_operation(self, Operation::abort, {});
  auto [ec, none] = co_await flush(self);
  if (self->stage_ == Stage::open) self->stage_ = Stage::closed;
  self->pool_->close();
  // Flushes still waiting are for records sent after this close() began; they will not be delivered now.
  self->abort_waiters(client_errc::operation_aborted);
  co_return std::tuple{ec, std::monostate{}};
}

}  // namespace kafkawire
