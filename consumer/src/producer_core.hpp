// The Producer's insides, shared by producer.cpp (queues, the sender, flush and close) and
// producer_send.cpp (one Produce request and its retries, InitProducerId). Not installed.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <deque>
#include <list>
#include <map>
#include <random>
#include <span>

#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/consumer/producer_session.hpp"
#include "kafkawire/protocol/produce.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using clock = std::chrono::steady_clock;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// A record as the router and the batch builder read it: views into the application's RecordRef or the
// RecordArena.
struct RecordView {
  std::string_view topic;
  std::optional<int32_t> partition;
  std::optional<proto::Bytes> key;
  std::optional<proto::Bytes> value;
  std::span<const proto::Header> headers;
  uint64_t tag = 0;  // send()'s tag, for the delivery callback
};

// The key, value and headers of records not yet in a batch, back to back in large chunks: one
// allocation per chunk instead of a string per field per record. Records leave about in the order they
// came; a chunk is reused once every record in it has left.
class RecordArena {
 public:
  // Packed with the 32-bit chunk id beside it, so a Pending holding one stays at 64 bytes.
  struct __attribute__((packed, aligned(4))) Ref {
    uint8_t* data = nullptr;  // nullptr: released (or never stored)
    uint32_t chunk = 0;       // the chunk's id, modulo 2^32
  };
  Ref store(const RecordRef& r, uint64_t tag);
  // Fills v.key, v.value, v.tag and (through `headers`, which it owns) v.headers from a stored record.
  static void load(const Ref& ref, RecordView& v, std::vector<proto::Header>& headers);
  // The tag a record was stored with (0 for a released Ref).
  static uint64_t tag(const Ref& ref);
  void release(Ref& ref);
  size_t chunks() const { return chunks_.size(); }

 private:
  static constexpr size_t kChunkSize = 256 * 1024;
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t capacity = 0;
    size_t used = 0;
    size_t live = 0;  // records stored in it and not yet released
  };
  std::deque<Chunk> chunks_;  // chunks_[i] has id first_id_ + i; the last one takes new records
  uint64_t first_id_ = 0;
  std::vector<Chunk> spare_;  // emptied chunks kept for reuse (a chunk this size is an mmap each time)
};

// The producer's state and background work (see Producer in producer.hpp). The sender and each request's
// coroutine are spawned with a completion that holds the Core, so the Core outlives them.
struct Producer::Core : std::enable_shared_from_this<Producer::Core> {
  // A record not yet in a batch: waiting for room in buffer.memory or for the metadata that places it.
  // Kept small: its key, value and headers are in the RecordArena and its topic is an index into
  // topic_names_, so a record waiting costs 64 bytes and its bytes, and no allocation of its own beside
  // async_send's handler (send()'s tag is in the arena).
  struct Pending {
    Handler handler;        // empty: the record came through send(), and its result goes to on_delivery_
    RecordArena::Ref data;  // key, value, headers
    uint32_t bytes = 0;     // about what it takes in a batch, counted once (batch.size, max.request.size)
    int64_t timestamp = 0;
    // async_send + delivery.timeout.ms: the record fails with timeout if it is still waiting for its
    // topic, a leader or a producer id then (retries count from when its batch is drained).
    clock::time_point deadline{};
    uint64_t seq = 0;                // the order it was sent in, from 1 (0: never queued, no flush waits)
    int32_t partition = 0;           // the application's choice, when has_partition
    uint32_t topic : 30 = 0;         // index into topic_names_
    uint32_t has_partition : 1 = 0;  // the application chose the partition
    uint32_t holds_memory : 1 = 0;   // taken in: its bytes count against buffer.memory until its result
    std::optional<int32_t> chosen_partition() const {
      return has_partition ? std::optional<int32_t>(partition) : std::nullopt;
    }
  };
  static_assert(sizeof(Pending) <= 64, "a waiting record's fixed cost: eight to a std::deque node");
  // What a record's result needs once it is in a batch (the record itself is in the batch's bytes).
  // 24 bytes: send()'s records, the many, carry no handler; async_send's are in Batch::handlers.
  struct Delivery {
    uint64_t tag;  // send()'s tag for on_delivery_; with has_handler, the index of its handler
    int64_t timestamp;
    uint64_t seq : 63;         // as Pending::seq
    uint64_t has_handler : 1;  // async_send: the result goes to Batch::handlers[tag]
  };
  static_assert(sizeof(Delivery) == 24);
  // One partition's records as one RecordBatch, encoded when they were routed to it (Java's accumulator):
  // the application's records are not kept, and the request is built around these bytes without
  // copying them. Records are added while it is the last of its partition's queue; once drained it is
  // closed, and the producer id, epoch and sequence its next attempt carries come from the session.
  struct Batch {
    TopicPartition tp;
    proto::RecordBatchBuilder records;
    std::vector<Delivery> deliveries;
    std::vector<Handler> handlers;  // of the records sent with async_send
    size_t bytes = 0;              // its records' Pending::bytes, held against buffer.memory until the result
    clock::time_point created{};   // linger.ms counts from its first record
    clock::time_point deadline{};  // its first record's delivery.timeout.ms (Java expires whole batches)
    bool sticky = false;           // its first record went where the sticky partitioner put it
    ProducerSession::BatchId id = 0;
    BatchStamp stamp{};
  };
  using Batches = std::vector<Batch>;
  // A waiting flush: `remaining` counts its records (seq < target) without a delivery result yet.
  struct FlushWaiter {
    uint64_t target;
    size_t remaining;
    asio::any_completion_handler<void(std::error_code)> handler;
  };
  // One Produce request being put together: a batch per partition, up to max.request.size bytes.
  struct PlannedRequest {
    Batches batches;
    size_t bytes = 0;
  };
  // A partition's batches not yet sent, oldest first; the last one takes new records.
  struct PartitionQueue {
    std::deque<Batch> batches;
  };
  // open: sending. closed: close() finished, or an exception stopped the background work (failure_ says
  // which); records sent now fail at once. destroyed: the Producer is gone; the work still running ends
  // at its next step and fails its records with operation_aborted.
  enum class Stage { open, closed, destroyed };

  // An application's transaction operation waiting for its result (or for max.block.ms).
  struct TransactionWaiter {
    clock::time_point deadline;
    asio::any_completion_handler<void(std::error_code)> handler;
  };

  Core(executor_type ex, Config config)
      : executor_(ex),
        config_(std::move(config)),
        pool_(net::Pool::create(ex, pool_options(config_))),
        session_({.idempotent = config_.idempotent(),
                  .max_in_flight = config_.max_in_flight_requests,
                  .transactional = !config_.transactional_id.empty()}),
        wakeup_(ex),
        txn_wakeup_(ex) {
    if (!config_.transactional_id.empty())
      txn_.emplace(TransactionManagerOptions{config_.transactional_id, config_.transaction_timeout});
  }

  // async_send (a handler) and send() (an empty handler and a tag) alike.
  void enqueue(const RecordRef& record, Handler handler, uint64_t tag);
  // Whether a record of `bytes` sent now waits for room in buffer.memory (or behind records that do).
  bool waits_for_memory(size_t bytes) const {
    return !waiting_for_memory_.empty() ||
           buffered_bytes_ + bytes > static_cast<uint64_t>(config_.buffer_memory);
  }
  // Takes a record in: its bytes count against buffer.memory, and its delivery.timeout.ms starts.
  void take_in(Pending& p, clock::time_point now);
  // Takes in the records waiting for room in buffer.memory, in order, and fails those whose max.block.ms
  // has passed.
  void admit_waiting(clock::time_point now);
  using QueueEntry = std::map<TopicPartition, PartitionQueue>::value_type;
  // Puts a record in its partition's queue and returns that partition, or (nullptr) leaves it in
  // unrouted_ until the metadata can place it, or fails it for good (unknown topic, bad partition).
  const TopicPartition* route(Pending& p, clock::time_point now);
  // The queue of the partition the metadata (t) and the partitioner give the record, or nullptr when
  // that cannot be said now (no metadata, no such partition).
  QueueEntry* place(const RecordView& v, const net::TopicInfo* t);
  // The queue of a partition, made on first use (the metadata need not know it yet).
  QueueEntry& queue_for(std::string_view topic, int32_t partition);
  // Why the metadata `t` says a record for `topic` (and `partition`, when known) can never be placed: no
  // such topic (unless allow.auto.create.topics and `in_time`), or no such partition. Sets error_text_.
  std::error_code unplaceable(const std::string& topic, std::optional<int32_t> partition,
                              const net::TopicInfo* t, bool in_time);
  // Fails a queue's batches when its topic's fresh metadata says they can never be placed; true if so.
  bool fail_unplaceable(const TopicPartition& tp, PartitionQueue& q, clock::time_point now);
  // Asks the sender for the topic's metadata on its next round.
  void want_metadata(const std::string& topic);
  // Puts a placed record into the last batch of its partition (a new one when that is full). The batch
  // takes over its handler and, from now, answers for its bytes of buffer.memory and its flush.
  void append(QueueEntry& e, const RecordView& v, Handler&& handler, int64_t timestamp, uint64_t seq,
              size_t bytes, clock::time_point deadline, clock::time_point now);
  // When a partition's queue should be sent: min() at once, max() never (empty).
  clock::time_point due(const PartitionQueue& q) const;
  std::optional<int32_t> choose_partition(const RecordView& v, const net::TopicInfo* t);
  // pool_->needs_metadata() for a topic already looked up, at a time already read.
  bool needs_metadata(const net::TopicInfo* t, clock::time_point now) const {
    return !t || t->stale || now - t->updated >= pool_->options().metadata_max_age;
  }
  // A record's timestamp (ms since the epoch) from a steady_clock reading: the system clock's offset
  // from it is read again every 100 ms, so a record costs one clock read, not two.
  int64_t wall_ms(clock::time_point now);
  uint32_t topic_index(std::string_view topic);
  // The record kept as a Pending (its bytes in the arena), not yet holding memory.
  Pending stash(const RecordRef& r, Handler&& handler, uint64_t tag, int64_t timestamp, uint64_t seq,
                size_t bytes);
  RecordView view(const Pending& p);
  // Gives a record refused before it was queued its error (posted, as every result is).
  void refuse(const RecordRef& r, Handler&& handler, uint64_t tag, std::error_code ec);
  // Posts a record's result to its handler, or to on_delivery_ (with the tag) when it has none.
  void deliver(Handler&& handler, uint64_t tag, std::error_code ec, RecordMetadata md);
  asio::awaitable<void> sender();
  // InitProducerId to any broker, when the session needs a producer id.
  asio::awaitable<void> init_producer_id();
  // Sends the batches (first_attempt 1: they were sent before, and wait for the backoff and for the
  // session's leave to go again).
  asio::awaitable<void> send_batches(int32_t leader, Batches batches, clock::time_point deadline,
                                     int first_attempt = 0);
  // Completes a batch's records with an error and tells the session it is over.
  void fail_batch(Batch& b, std::error_code ec);
  // Completes a batch not yet handed to a request with an error (it leaves the queued count).
  void fail_queued(Batch& b, std::error_code ec);
  // The request's records are views into the batches, which must stay put until it is sent.
  std::error_code build_request(Batches& batches, proto::ProduceRequest& req);
  void complete(Pending& p, std::error_code ec, RecordMetadata md);
  // A batch's results: record i of a written batch gets md's offset + i (and its own timestamp unless the
  // broker gave one).
  void complete_batch(Batch& b, std::error_code ec, const RecordMetadata& md);
  // The record has its result: its memory is given back, and flushes waiting for it may complete.
  void settle(Pending& p);
  void release_memory(size_t bytes);
  void finish_flush(FlushWaiter& w, std::error_code ec);
  // Fails every record not yet handed to a request, and (with `waiters`) every waiting flush.
  void abandon_queued(std::error_code ec, const std::string& why);
  // Fails the records at the front of tp's queue whose delivery.timeout.ms has passed, saying why they
  // waited.
  void expire(const TopicPartition& tp, PartitionQueue& q, clock::time_point now);
  void abort_waiters(std::error_code ec);
  // co_spawn with a completion that keeps the Core and turns an escaping exception into stop().
  void spawn(asio::awaitable<void> work);
  void stop(std::exception_ptr e);
  void destroy();
  // Transactions (producer_txn.cpp).
  static net::Pool::Result<std::monostate> transaction_operation(std::shared_ptr<Core> self, Operation op,
                                                                 TransactionOffsets offsets);
  // Waits for the operation the transaction manager runs to end, or for max.block.ms.
  static net::Pool::Result<std::monostate> await_transaction(std::shared_ptr<Core> self);
  // Runs (or wakes) the work that carries out the transaction manager's steps.
  void poke_transactions();
  asio::awaitable<void> transaction_worker();
  // Sends one step's request to its coordinator and feeds the answer back: what to do next.
  asio::awaitable<ErrorAction> carry_out(TransactionManager::Step step);
  // The transaction protocol, from the cluster's finalized transaction.version.
  void update_transaction_protocol();
  // A record or batch of the transaction failed for good, sent or not (no partition, no metadata, no
  // leader, no room within the deadlines, too large): the transaction becomes abortable (or fatal), so
  // commit_transaction() cannot report success for records that were never written.
  void transaction_batch_failed(std::error_code ec);
  void finish_transaction_waiters(std::error_code ec);
  static net::Pool::Result<std::monostate> flush(std::shared_ptr<Core> self);
  static net::Pool::Result<std::monostate> close(std::shared_ptr<Core> self);

  executor_type executor_;
  Config config_;
  std::shared_ptr<net::Pool> pool_;
  ProducerSession session_;  // producer id, epoch and sequence numbers (enable.idempotence)
  std::map<TopicPartition, PartitionQueue> queues_;
  // Each topic's partition queues by partition number (entries of queues_, which are never erased), so a
  // routed record finds its queue without building a TopicPartition (a copy of the topic name).
  std::map<std::string, std::vector<QueueEntry*>, std::less<>> queue_index_;
  std::map<std::string, int32_t, std::less<>> sticky_;  // topic -> partition for records without a key
  std::vector<proto::Header> header_views_;             // a record's headers as the batch builder takes them
  std::function<void(const DeliveryReport&)> on_delivery_;  // send()'s results; dropped by destroy()
  RecordArena arena_;                                       // the bytes of the Pending records
  std::vector<std::string> topic_names_;                    // Pending::topic indexes this
  std::map<std::string, uint32_t, std::less<>> topic_indexes_;
  std::deque<Pending> unrouted_;              // waiting for metadata to pick a partition
  std::vector<std::string> metadata_wanted_;  // topics of queues that wait for metadata or a leader
  std::deque<Pending> waiting_for_memory_;    // sent while buffer.memory was full, in order
  clock::time_point wall_checked_{};          // wall_ms(): when the offset was read
  std::chrono::nanoseconds wall_offset_{};    // system_clock minus steady_clock
  size_t buffered_bytes_ = 0;                 // of the records taken in and without a result
  asio::steady_timer wakeup_;
  std::optional<TransactionManager> txn_;                        // transactional.id set
  std::optional<TransactionManager::Protocol> forced_protocol_;  // tests: this one, whatever the cluster says
  asio::steady_timer txn_wakeup_;
  bool txn_worker_running_ = false;
  std::list<TransactionWaiter> txn_waiters_;  // a list, as flush_waiters_
  // Completed from complete() when their last record is. A list: its elements are never moved, and
  // Boost 1.81's any_completion_handler cannot be move-assigned (that recurses without end).
  std::list<FlushWaiter> flush_waiters_;
  uint64_t next_seq_ = 1;
  size_t queued_ = 0;
  size_t sending_ = 0;
  uint64_t batches_resent_ = 0;
  TopicPartition drained_last_;  // where the last round of batches ended; the next starts after it
  std::map<int32_t, int> requests_in_flight_;  // Produce requests per leader broker (send_batches running)
  bool sender_running_ = false;
  bool flush_requested_ = false;
  Stage stage_ = Stage::open;
  std::error_code failure_;  // why the stage is no longer open, for records sent after that
  std::string error_text_;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace kafkawire
