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
// - Not idempotent: a retry after a lost response may write a batch twice (like the Java producer with
//   enable.idempotence=false).
//
// Threading: runs on its executor, starts no threads; call it from there.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "kafkawire/consumer/config.hpp"
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
  // with client_errc::operation_aborted (they are not retried), and so do flushes waiting for them.
  template <class Token>
  auto async_close(Token&& token) {
    return net::async_run(executor_, close(), std::forward<Token>(token));
  }
  net::Pool::Result<std::monostate> close();

  size_t in_flight() const { return queued_ + sending_; }
  const std::string& error_text() const { return error_text_; }
  net::Pool& pool() { return *pool_; }

 private:
  using Handler = asio::any_completion_handler<void(std::error_code, RecordMetadata)>;
  struct Pending {
    ProducerRecord record;
    int64_t timestamp;
    Handler handler;
    // When the record gives up waiting for its topic to appear (auto-created topics): delivery.timeout.ms.
    std::chrono::steady_clock::time_point deadline{};
    uint64_t seq = 0;  // the order it was sent in, from 1 (0: never queued, no flush waits for it)
  };
  // A waiting flush: `remaining` counts its records (seq < target) without a delivery result yet.
  struct FlushWaiter {
    uint64_t target;
    size_t remaining;
    asio::any_completion_handler<void(std::error_code)> handler;
  };
  // One Produce request being put together: a batch per partition, up to max.request.size bytes.
  struct PlannedRequest {
    std::vector<std::pair<TopicPartition, std::vector<Pending>>> batches;
    size_t bytes = 0;
  };
  struct PartitionQueue {
    std::deque<Pending> records;
    size_t bytes = 0;
    std::chrono::steady_clock::time_point oldest;
  };

  void enqueue(ProducerRecord record, Handler handler);
  // Puts a record in its partition's queue and returns that partition, or (nullptr) leaves it in
  // unrouted_ until the metadata can place it, or fails it for good (unknown topic, bad partition).
  const TopicPartition* route(Pending& p);
  // When a partition's queue should be sent: min() at once, max() never (empty).
  std::chrono::steady_clock::time_point due(const PartitionQueue& q) const;
  asio::awaitable<void> sender();
  asio::awaitable<void> send_batches(int32_t leader,
                                     std::vector<std::pair<TopicPartition, std::vector<Pending>>> batches,
                                     std::chrono::steady_clock::time_point deadline);
  void complete(Pending& p, std::error_code ec, RecordMetadata md);
  void finish_flush(FlushWaiter& w, std::error_code ec);
  void abandon_queued();
  std::error_code build_request(const std::vector<std::pair<TopicPartition, std::vector<Pending>>>& batches,
                                protocol::ProduceRequest& req, std::vector<std::vector<uint8_t>>& buffers);
  std::optional<int32_t> choose_partition(const ProducerRecord& r);

  executor_type executor_;
  Config config_;
  std::shared_ptr<net::Pool> pool_;
  std::map<TopicPartition, PartitionQueue> queues_;
  std::map<std::string, int32_t> sticky_;  // topic -> partition for records without a key
  std::deque<Pending> unrouted_;           // waiting for metadata to pick a partition
  asio::steady_timer wakeup_;
  // Completed from complete() when their last record is. A list: its elements are never moved, and
  // Boost 1.81's any_completion_handler cannot be move-assigned (that recurses without end).
  std::list<FlushWaiter> flush_waiters_;
  uint64_t next_seq_ = 1;
  size_t queued_ = 0;
  size_t sending_ = 0;
  TopicPartition drained_last_;  // where the last round of batches ended; the next starts after it
  std::map<int32_t, int> requests_in_flight_;  // Produce requests per leader broker (send_batches running)
  bool sender_running_ = false;
  bool flush_requested_ = false;
  bool closed_ = false;
  std::string error_text_;
  std::minstd_rand rng_{std::random_device{}()};
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace kafkawire
