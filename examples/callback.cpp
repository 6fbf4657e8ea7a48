// The example job in the callback style: completion handlers, each one starting the next step.
//
//   example-callback <bootstrap> <topic> <group> [records] [-X key=value]...
//
// Same job as blocking.cpp: produce `records` records ("amount=<i>"), read them back as a member of the
// group, add up the amounts, commit after each poll, stop once everything produced has been read.
// Handlers run inside io.run(), on the thread that calls it; kafkawire starts no threads. -X adds
// configuration keys (example_args.hpp), such as group.protocol=consumer.
#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "example_args.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

class Job {
 public:
  Job(asio::io_context& io, const examples::Args& args, const std::string& bootstrap, std::string topic,
      const std::string& group, int count)
      : topic_(std::move(topic)),
        count_(count),
        producer_(io.get_executor(),
                  args.config({{"bootstrap.servers", bootstrap}, {"allow.auto.create.topics", "true"}})),
        consumer_(io.get_executor(), args.config({{"bootstrap.servers", bootstrap},
                                                  {"group.id", group},
                                                  {"enable.auto.commit", "false"},
                                                  {"auto.offset.reset", "earliest"}})) {}

  // 1. Produce: queue every record (each gets its delivery result), then close: it flushes first.
  void start() {
    for (int i = 0; i < count_; ++i) {
      kafkawire::ProducerRecord record{.topic = topic_,
                                       .key = "customer-" + std::to_string(i % 7),
                                       .value = "amount=" + std::to_string(i)};
      producer_.async_send(std::move(record), [this](std::error_code ec, kafkawire::RecordMetadata md) {
        if (ec && !failed_) failed_ = ec;
        if (!ec) end_[md.partition] = std::max(end_[md.partition], md.offset + 1);
      });
    }
    producer_.async_close([this](std::error_code ec) {
      if (!ec) ec = failed_;
      if (ec) return fail(ec, "producing to " + topic_ + ": " + producer_.error_text());
      std::printf("produced %d records to %s\n", count_, topic_.c_str());
      consume();
    });
  }

  int status() const { return status_; }

 private:
  // 2. Consume as a member of the group; commit after processing each poll (at-least-once).
  void consume() {
    consumer_.set_rebalance_listener({.on_assigned = [](const std::vector<kafkawire::TopicPartition>& tps) {
      for (const auto& tp : tps) std::printf("assigned %s\n", to_string(tp).c_str());
    }});
    consumer_.subscribe({topic_});
    poll();
  }

  void poll() {
    consumer_.async_poll(500ms, [this](std::error_code ec, std::span<const kafkawire::Record> records) {
      if (ec) return fail(ec, consumer_.error_text());
      for (const kafkawire::Record& r : records) {  // views, valid until the next poll
        start_.try_emplace(r.partition(), r.offset());
        next_[r.partition()] = r.offset() + 1;
        sum_ += std::stoll(std::string(r.value()->str().substr(7)));  // "amount=<i>"
        ++consumed_;
      }
      // The positions after this poll: the next record to read.
      consumer_.async_commit([this](std::error_code ec) {
        if (ec) return fail(ec, consumer_.error_text());
        if (caught_up())
          report();
        else
          poll();
      });
    });
  }

  bool caught_up() {
    for (auto [p, o] : end_)
      if (next_[p] < o) return false;
    return true;
  }

  void report() {
    for (auto [p, o] : start_)
      std::printf("started at %s-%d@%lld\n", topic_.c_str(), p, static_cast<long long>(o));
    std::printf("consumed %d records, sum of amounts %lld\n", consumed_, sum_);
    std::vector<kafkawire::TopicPartition> parts;
    for (auto [p, o] : end_) parts.push_back({topic_, p});
    consumer_.async_committed(
        parts,
        [this](std::error_code ec, std::map<kafkawire::TopicPartition, std::optional<int64_t>> committed) {
          if (ec) return fail(ec, consumer_.error_text());
          for (const auto& [tp, offset] : committed)
            std::printf("committed %s@%lld\n", to_string(tp).c_str(),
                        static_cast<long long>(offset.value_or(-1)));
          consumer_.async_close([this](std::error_code ec) {  // leaves the group
            if (ec) fail(ec, consumer_.error_text());
          });
        });
  }

  void fail(std::error_code ec, const std::string& what) {
    std::fprintf(stderr, "example-callback: %s (%s)\n", what.c_str(), ec.message().c_str());
    status_ = 1;
  }

  std::string topic_;
  int count_;
  kafkawire::Producer producer_;
  kafkawire::Consumer consumer_;
  std::error_code failed_;                   // the first delivery error
  std::map<int32_t, int64_t> end_;           // partition -> the offset after the last record produced
  std::map<int32_t, int64_t> start_, next_;  // partition -> first offset read, next offset to read
  long long sum_ = 0;
  int consumed_ = 0;
  int status_ = 0;
};

int main(int argc, char** argv) {
  const auto args = examples::parse_args(argc, argv, "<bootstrap> <topic> <group> [records]", 3);
  if (!args) return 2;
  const auto& a = args->positional;
  try {
    asio::io_context io;
    Job job(io, *args, a[0], a[1], a[2], a.size() > 3 ? std::stoi(a[3]) : 100);
    job.start();
    io.run();  // returns when no handler is left: the job is done (or failed)
    return job.status();
  } catch (const std::exception& e) {  // a bad configuration key or value
    std::fprintf(stderr, "example-callback: %s\n", e.what());
    return 1;
  }
}
