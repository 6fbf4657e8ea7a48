// The Producer: enough for the tools, the tests and real use.
//
// - Records queue per partition and go out as one RecordBatch per partition and one Produce request per
//   leader broker, when a partition's batch reaches batch.size or its oldest record has waited linger.ms.
// - compression.type none/gzip/snappy/lz4/zstd; acks 0 (no response: offsets are unknown), 1 or all.
// - Keyed records land on murmur2(key) % partitions, exactly as the Java client's default partitioner
//   puts them, so kafkawire and Java producers agree on where a key lives. Records without a key stick to
//   one partition until its batch is sent (Java's sticky partitioning), then move on.
// - A Produce request holds at most max.request.size bytes, and at most
//   max.in.flight.requests.per.connection of them wait at one broker; meanwhile that broker's records
//   gather into larger batches.
// - Retriable errors (a leader move, a timeout, a lost connection) are retried after retry.backoff.ms
//   with fresh metadata, until delivery.timeout.ms; every record gets its own delivery result.
// - Records without a result take at most buffer.memory bytes (32 MiB). One sent while that is full waits,
//   in order, for deliveries to make room (Java's send() blocks instead) and fails with
//   client_errc::timeout after max.block.ms (0: at once, like librdkafka's queue-full error).
// - Idempotent by default (enable.idempotence=true, as in Java): before its first Produce the producer gets
//   a producer id (InitProducerId, from any broker) and numbers each partition's batches, so a batch sent
//   again after a lost answer is one the broker recognises and drops; at most 5 batches of a partition
//   wait for their answer, and a retried batch is never overtaken by a later one of its partition. The
//   bookkeeping is the sans-IO ProducerSession (producer_session.hpp). Needs acks=all; with acks=0/1,
//   retries=0 or max.in.flight.requests.per.connection > 5 set and enable.idempotence left unset,
//   idempotence is off (Java's rule) and a retry after a lost answer may write a batch twice.
//
// Transactions (transactional.id set; exactly-once consume-process-produce): init_transactions() once,
// then per transaction begin_transaction(), records, send_offsets_to_transaction() with the consumer's
// positions and group metadata, and commit_transaction() (or abort_transaction()). The records and the
// offsets become visible to read_committed consumers together, or not at all. The transaction protocol is
// the cluster's: KIP-890's v2 when its transaction.version is 2 (Kafka 4.x), else v1. What each error means:
//  - client_errc::invalid_state: a call out of order (commit without begin, begin twice, ...).
//  - An abortable error (a record of the transaction failed, TxnOffsetCommit refused, e.g. a stale
//    generation after a rebalance): commit fails with it, and so does every record sent until
//    abort_transaction(); after the abort the producer goes on. The consumer should go back to its
//    committed offsets (Consumer::async_committed + seek) before it processes again.
//  - A fatal error (PRODUCER_FENCED: another producer took the transactional.id; an authorization error):
//    every later call fails with it; close the producer.
//  - client_errc::timeout: the operation did not end within max.block.ms; it goes on, and calling it
//    again waits for it.
// The bookkeeping is the sans-IO TransactionManager (transaction_manager.hpp).
//
// Destroying a Producer completes every record and flush still waiting with
// client_errc::operation_aborted. An exception escaping the producer's background work (bad_alloc) stops
// it: what has no result fails with client_errc::internal_error, and error_text() says what was thrown.
//
// Threading: runs on its executor, starts no threads; call it from there.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/consumer/transaction_manager.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/net/pool.hpp"
#include "kafkawire/protocol/produce.hpp"

namespace kafkawire {

namespace asio = boost::asio;
using protocol::Bytes;

// Every member has a default, so designated initializers may name only what they set (and -Wextra
// stays quiet): ProducerRecord{.topic = "orders", .key = "k", .value = "v"}.
struct ProducerRecord {
  std::string topic{};
  std::optional<int32_t> partition{};  // chosen by the partitioner when empty
  std::optional<std::string> key{};
  std::optional<std::string> value{};
  std::vector<std::pair<std::string, std::optional<std::string>>> headers{};
  std::optional<int64_t> timestamp{};  // now when empty
};

struct RecordMetadata {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;     // -1 with acks=0
  int64_t timestamp = -1;  // the record's timestamp (or the broker's, for LogAppendTime topics)
};

// A record as views of the application's bytes, for Producer::send(). They need to live only for the
// call, which copies them once: into the partition's open batch, or (while the record waits for metadata
// or for room in buffer.memory) into the producer's own storage.
struct RecordHeaderRef {
  std::string_view key{};
  std::optional<std::string_view> value{};
};
struct RecordRef {
  std::string_view topic{};
  std::optional<int32_t> partition{};  // chosen by the partitioner when empty
  std::optional<std::string_view> key{};
  std::optional<std::string_view> value{};
  std::span<const RecordHeaderRef> headers{};
  std::optional<int64_t> timestamp{};  // now when empty
};

// The result of a record sent with Producer::send(), as its delivery callback gets it.
struct DeliveryReport {
  std::error_code error;   // error_text() says more
  std::string_view topic;  // valid during the call
  int32_t partition = -1;  // -1: the record never got one (refused, unknown topic)
  int64_t offset = -1;     // -1 on error, and with acks=0
  int64_t timestamp = -1;  // the record's timestamp (or the broker's, for LogAppendTime topics)
  uint64_t tag = 0;        // what send() was given for the record
};

// Kafka's murmur2 (the Java client's Utils.murmur2), and the partition a key goes to.
int32_t murmur2(const void* data, size_t size);
int32_t partition_for_key(std::string_view key, int32_t partitions);

class Producer {
 public:
  using executor_type = asio::any_io_executor;
  Producer(executor_type ex, Config config);
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Queues a record. Completes with void(std::error_code, RecordMetadata) once the broker has it (or it
  // failed for good). The error names the topic and partition: error_text().
  template <class Token>
  auto async_send(ProducerRecord record, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, RecordMetadata)>(
        [this](auto handler, ProducerRecord record) { enqueue(std::move(record), std::move(handler)); },
        token, std::move(record));
  }
  // The cheap way to send many records (librdkafka's delivery report callback): send() takes a record as
  // views, which it copies once, and gives its result to one callback shared by every record, instead of
  // a completion handler per record (type-erased and allocated, then called long after, from cold
  // memory) and a RecordMetadata with its own copy of the topic name.
  //
  // The callback gets each record's result, once, on the executor, in send order within a partition,
  // as async_send's handlers would (both may be used on one Producer; a flush completes after the results
  // of its records). Set it before the first send(): without one the results are dropped (failures
  // still reach error_text()). It is not called once the Producer is destroyed; flush or close first.
  void on_delivery(std::function<void(const DeliveryReport&)> callback);
  // Queues a record; its result goes to the on_delivery callback with `tag` (any number: an index, a
  // pointer). Everything async_send does, it does: the same batches, limits, retries and transactions.
  void send(const RecordRef& record, uint64_t tag = 0);
  // Whether a record sent now would wait for room in buffer.memory (where Java's send() blocks):
  // buffer.memory is full for it, or records already wait for room. An application that bounds its
  // memory by the producer's runs the executor until this is false, then sends; one that sends anyway
  // has the record wait, copied, and fail after max.block.ms. False for a record larger than
  // buffer.memory itself, which send refuses at once.
  bool would_wait(const RecordRef& record) const;

  // Sends everything queued now and completes with void(std::error_code) as soon as every record sent
  // before the call has its delivery result (success or error: those go to each record's handler).
  // Completes at once when nothing is in flight. Any number of flushes may wait at the same time. A flush
  // still waiting when close() has closed the connections, or when the Producer is destroyed, completes
  // with client_errc::operation_aborted.
  template <class Token>
  auto async_flush(Token&& token) {
    return net::async_run(executor_, flush(), std::forward<Token>(token));
  }
  net::Pool::Result<std::monostate> flush();
  // Flushes, then closes the connections. Records sent since the close began and not yet delivered fail
  // with client_errc::operation_aborted (they are not retried), and so do flushes waiting for them. An
  // open transaction is aborted first.
  template <class Token>
  auto async_close(Token&& token) {
    return net::async_run(executor_, close(), std::forward<Token>(token));
  }
  net::Pool::Result<std::monostate> close();

  // Transactions (transactional.id). Each completes with void(std::error_code).
  // Gets the producer id from the transaction coordinator, fencing any earlier producer with this
  // transactional.id and aborting its open transaction. Once, before the first transaction.
  template <class Token>
  auto async_init_transactions(Token&& token) {
    return net::async_run(executor_, transaction_operation(Operation::init), std::forward<Token>(token));
  }
  // Starts a transaction (no request: the first record or offsets tell the coordinator).
  std::error_code begin_transaction();
  // Adds the consumed positions to the transaction: committed to the group with it, or not at all.
  template <class Token>
  auto async_send_offsets_to_transaction(TransactionOffsets offsets, Token&& token) {
    return net::async_run(executor_, transaction_operation(Operation::send_offsets, std::move(offsets)),
                          std::forward<Token>(token));
  }
  // Sends what is queued, waits for every record of the transaction, then commits it. A record that
  // failed makes it fail (abortable): then abort.
  template <class Token>
  auto async_commit_transaction(Token&& token) {
    return net::async_run(executor_, transaction_operation(Operation::commit), std::forward<Token>(token));
  }
  // The consume-process-produce step in one: send_offsets_to_transaction(offsets), then commit.
  //     producer.begin_transaction();
  //     for (const auto& r : records) producer.async_send(process(r), on_delivery);
  //     producer.async_commit_transaction(consumer.transaction_offsets(), token);
  template <class Token>
  auto async_commit_transaction(TransactionOffsets offsets, Token&& token) {
    return net::async_run(executor_,
                          transaction_operation(Operation::send_offsets_and_commit, std::move(offsets)),
                          std::forward<Token>(token));
  }
  // Fails the records not sent yet (client_errc::transaction_aborted), waits for those out, and aborts:
  // read_committed consumers never see the transaction's records, and its offsets are not committed.
  template <class Token>
  auto async_abort_transaction(Token&& token) {
    return net::async_run(executor_, transaction_operation(Operation::abort), std::forward<Token>(token));
  }
  // Where the transactions stand (nullptr without transactional.id), for tools and tests.
  const TransactionManager* transactions() const;

  // Records without a delivery result yet.
  size_t in_flight() const;
  // Batches sent again after a failed or unanswered attempt (a measure of retries, for tests and tools).
  uint64_t batches_resent() const;
  // What the last failure was about, in words.
  const std::string& error_text() const;
  net::Pool& pool();

 private:
  using Handler = asio::any_completion_handler<void(std::error_code, RecordMetadata)>;
  // Everything the producer's background work uses lives in the Core, which that work holds: destroying
  // the Producer stops it and fails what has no result yet, and the work finishes on a Core that is
  // still there, instead of asking after every wait whether `this` survived.
  struct Core;
  friend struct ProducerInternals;  // tests reach the Core through it
  void enqueue(ProducerRecord record, Handler handler);
  enum class Operation { init, send_offsets, commit, send_offsets_and_commit, abort };
  net::Pool::Result<std::monostate> transaction_operation(Operation op, TransactionOffsets offsets = {});

  executor_type executor_;
  std::shared_ptr<Core> core_;
};

}  // namespace kafkawire
