// The example job in the C++20 coroutine style: asio::co_spawn and co_await on one io_context.
//
//   example-coroutine <bootstrap> <topic> <group> [records] [-X key=value]...
//
// Same job as blocking.cpp: produce `records` records ("amount=<i>"), read them back as a member of the
// group, add up the amounts, commit after each poll, stop once everything produced has been read. -X
// adds configuration keys (example_args.hpp), such as group.protocol=consumer.
//
// kafkawire completes with a std::error_code (not boost::system::error_code), so `co_await ...(
// asio::use_awaitable)` never throws for a Kafka error: it returns the error code, first in a tuple
// when the operation also has a result.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <map>
#include <string>

#include "example_args.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> job(examples::Args args, std::string bootstrap, std::string topic, std::string group,
                          int count) {
  auto ex = co_await asio::this_coro::executor;

  // 1. Produce: queue every record (each gets its delivery result), then wait for all of them.
  std::map<int32_t, int64_t> end;  // partition -> the offset after the last record produced
  std::error_code failed;          // the first delivery error
  kafkawire::Producer producer(
      ex, args.config({{"bootstrap.servers", bootstrap}, {"allow.auto.create.topics", "true"}}));
  for (int i = 0; i < count; ++i) {
    kafkawire::ProducerRecord record{
        .topic = topic, .key = "customer-" + std::to_string(i % 7), .value = "amount=" + std::to_string(i)};
    producer.async_send(std::move(record), [&](std::error_code ec, kafkawire::RecordMetadata md) {
      if (ec && !failed) failed = ec;
      if (!ec) end[md.partition] = std::max(end[md.partition], md.offset + 1);
    });
  }
  co_await producer.async_close(asio::use_awaitable);  // flushes, then closes its connections
  if (failed) throw std::system_error(failed, "producing to " + topic + ": " + producer.error_text());
  std::printf("produced %d records to %s\n", count, topic.c_str());

  // 2. Consume as a member of the group; commit after processing each poll (at-least-once).
  kafkawire::Consumer consumer(ex, args.config({{"bootstrap.servers", bootstrap},
                                                {"group.id", group},
                                                {"enable.auto.commit", "false"},
                                                {"auto.offset.reset", "earliest"}}));
  consumer.set_rebalance_listener({.on_assigned = [](const std::vector<kafkawire::TopicPartition>& tps) {
    for (const auto& tp : tps) std::printf("assigned %s\n", to_string(tp).c_str());
  }});
  consumer.subscribe({topic});
  std::map<int32_t, int64_t> start, next;  // partition -> first offset read, next offset to read
  long long sum = 0;
  int consumed = 0;
  auto caught_up = [&] {
    for (auto [p, o] : end)
      if (next[p] < o) return false;
    return true;
  };
  while (!caught_up()) {
    auto [ec, records] = co_await consumer.async_poll(500ms, asio::use_awaitable);
    if (ec) throw std::system_error(ec, consumer.error_text());
    for (const kafkawire::Record& r : records) {  // views, valid until the next poll
      start.try_emplace(r.partition(), r.offset());
      next[r.partition()] = r.offset() + 1;
      sum += std::stoll(std::string(r.value()->str().substr(7)));  // "amount=<i>"
      ++consumed;
    }
    // The positions after this poll: the next record to read.
    if (auto commit_ec = co_await consumer.async_commit(asio::use_awaitable))
      throw std::system_error(commit_ec, consumer.error_text());
  }
  for (auto [p, o] : start)
    std::printf("started at %s-%d@%lld\n", topic.c_str(), p, static_cast<long long>(o));
  std::printf("consumed %d records, sum of amounts %lld\n", consumed, sum);
  std::vector<kafkawire::TopicPartition> parts;
  for (auto [p, o] : end) parts.push_back({topic, p});
  auto [ec, committed] = co_await consumer.async_committed(parts, asio::use_awaitable);
  if (ec) throw std::system_error(ec, consumer.error_text());
  for (const auto& [tp, offset] : committed)
    std::printf("committed %s@%lld\n", to_string(tp).c_str(), static_cast<long long>(offset.value_or(-1)));
  co_await consumer.async_close(asio::use_awaitable);  // leaves the group
}

int main(int argc, char** argv) {
  const auto args = examples::parse_args(argc, argv, "<bootstrap> <topic> <group> [records]", 3);
  if (!args) return 2;
  const auto& a = args->positional;
  asio::io_context io;  // kafkawire starts no threads: everything runs in io.run() below
  int status = 0;
  asio::co_spawn(io, job(*args, a[0], a[1], a[2], a.size() > 3 ? std::stoi(a[3]) : 100),
                 [&](std::exception_ptr e) {
                   if (!e) return;
                   try {
                     std::rethrow_exception(e);
                   } catch (const std::exception& x) {
                     std::fprintf(stderr, "example-coroutine: %s\n", x.what());
                   }
                   status = 1;
                 });
  io.run();
  return status;
}
