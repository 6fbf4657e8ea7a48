// A blocking facade for people who want poll() like the Java consumer:
//
//   kafkawire::BlockingConsumer consumer({{"bootstrap.servers", "127.0.0.1:9092"}, {"group.id", "billing"}});
//   consumer.assign({{"orders", 0}});
//   for (;;) {
//     for (const kafkawire::Record& r : consumer.poll(100ms)) handle(r);
//     consumer.commit();
//   }
//
// It owns an io_context and runs it on the calling thread only while a call is in progress, so it starts
// no threads either. Errors are thrown as std::system_error whose what() carries error_text(); what a
// rebalance listener threw is rethrown as it was, from poll() (or close()). One object
// per thread; the records of a poll are valid until the next call.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <future>
#include <system_error>

#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace kafkawire {

namespace detail {
// Runs io until the future is ready.
template <class T>
T wait(asio::io_context& io, std::future<T>& f) {
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(100));
  }
  return f.get();
}
inline void check(std::error_code ec, const std::string& text) {
  if (ec) throw std::system_error(ec, text);
}
}  // namespace detail

class BlockingConsumer {
 public:
  explicit BlockingConsumer(Config config) : consumer_(io_.get_executor(), std::move(config)) {}
  BlockingConsumer(std::initializer_list<std::pair<const std::string, std::string>> kv)
      : BlockingConsumer(Config(kv)) {}
  ~BlockingConsumer() {
    try {
      close();
    } catch (...) {
      // Closing is best effort in a destructor; call close() to see its errors.
    }
  }

  Consumer& async() { return consumer_; }
  void assign(const std::vector<TopicPartition>& tps) { consumer_.assign(tps); }
  void subscribe(std::vector<std::string> topics) { consumer_.subscribe(std::move(topics)); }
  void subscribe(const std::regex& pattern) { consumer_.subscribe(pattern); }
  void unsubscribe() { consumer_.unsubscribe(); }
  // Called from inside poll() and close(), on this thread.
  void set_rebalance_listener(RebalanceListener listener) {
    consumer_.set_rebalance_listener(std::move(listener));
  }
  std::string rebalance_timeline() const { return consumer_.rebalance_timeline(); }
  std::vector<TopicPartition> assignment() const { return consumer_.assignment(); }
  void seek(const TopicPartition& tp, int64_t offset) { consumer_.seek(tp, offset); }
  void seek_to_beginning(const std::vector<TopicPartition>& tps) { consumer_.seek_to_beginning(tps); }
  void seek_to_end(const std::vector<TopicPartition>& tps) { consumer_.seek_to_end(tps); }
  void pause(const std::vector<TopicPartition>& tps) { consumer_.pause(tps); }
  void resume(const std::vector<TopicPartition>& tps) { consumer_.resume(tps); }
  std::optional<int64_t> position(const TopicPartition& tp) const { return consumer_.position(tp); }

  std::span<const Record> poll(std::chrono::milliseconds timeout) {
    auto f = consumer_.async_poll(timeout, asio::use_future);
    auto [ec, records] = detail::wait(io_, f);
    rethrow_listener_exception(ec);
    detail::check(ec, consumer_.error_text());
    return records;
  }
  void commit() {
    auto f = consumer_.async_commit(asio::use_future);
    detail::check(detail::wait(io_, f), consumer_.error_text());
  }
  void commit(std::map<TopicPartition, int64_t> offsets) {
    auto f = consumer_.async_commit(std::move(offsets), asio::use_future);
    detail::check(detail::wait(io_, f), consumer_.error_text());
  }
  std::map<TopicPartition, std::optional<int64_t>> committed(std::vector<TopicPartition> tps) {
    auto f = consumer_.async_committed(std::move(tps), asio::use_future);
    auto [ec, out] = detail::wait(io_, f);
    detail::check(ec, consumer_.error_text());
    return out;
  }
  std::map<TopicPartition, std::optional<OffsetAndTimestamp>> offsets_for_times(
      std::map<TopicPartition, int64_t> ts) {
    auto f = consumer_.async_offsets_for_times(std::move(ts), asio::use_future);
    auto [ec, out] = detail::wait(io_, f);
    detail::check(ec, consumer_.error_text());
    return out;
  }
  void close() {
    if (closed_) return;
    closed_ = true;
    auto f = consumer_.async_close(asio::use_future);
    const std::error_code ec = detail::wait(io_, f);
    rethrow_listener_exception(ec);
    detail::check(ec, consumer_.error_text());
  }

 private:
  // A rebalance listener that threw: its own exception, as Java's KafkaConsumer rethrows it from poll().
  void rethrow_listener_exception(std::error_code ec) {
    if (ec == client_errc::listener_failed)
      if (auto e = consumer_.take_listener_exception()) std::rethrow_exception(e);
  }

  asio::io_context io_;
  Consumer consumer_;
  bool closed_ = false;
};

class BlockingProducer {
 public:
  explicit BlockingProducer(Config config) : producer_(io_.get_executor(), std::move(config)) {}
  BlockingProducer(std::initializer_list<std::pair<const std::string, std::string>> kv)
      : BlockingProducer(Config(kv)) {}
  // Delivers what is still queued (close()), so records sent with async().async_send are not dropped.
  ~BlockingProducer() {
    try {
      close();
    } catch (...) {
      // Best effort in a destructor; call close() to see its errors.
    }
  }

  Producer& async() { return producer_; }
  // Waits for the delivery result of one record. For throughput, queue many with async().async_send and
  // flush() once.
  RecordMetadata send(ProducerRecord record) {
    auto f = producer_.async_send(std::move(record), asio::use_future);
    auto [ec, md] = detail::wait(io_, f);
    detail::check(ec, producer_.error_text());
    return md;
  }
  // Waits until every record sent so far has its delivery result (delivery errors go to each record's
  // handler, or are thrown by send()).
  void flush() {
    auto f = producer_.async_flush(asio::use_future);
    detail::check(detail::wait(io_, f), producer_.error_text());
  }
  // Flushes, then closes the connections. Called by the destructor.
  void close() {
    if (closed_) return;
    closed_ = true;
    auto f = producer_.async_close(asio::use_future);
    detail::check(detail::wait(io_, f), producer_.error_text());
  }

 private:
  asio::io_context io_;
  Producer producer_;
  bool closed_ = false;
};

}  // namespace kafkawire
