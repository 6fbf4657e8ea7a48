// The example job in the blocking style: Java-like calls, no io_context in sight.
//
//   example-blocking <bootstrap> <topic> <group> [records] [-X key=value]...
//
// Produces `records` records ("amount=<i>") to the topic, then reads them back as a member of the
// consumer group: adds up the amounts, commits after each poll, and stops once it has read everything it
// produced. Run it twice with the same topic and group: the second run resumes at the offsets the first
// one committed, so it reads exactly the records the second run produced. -X adds configuration keys
// (example_args.hpp): `-X group.protocol=consumer` runs the same job with the KIP-848 group protocol.
#include <cstdio>
#include <map>
#include <string>

#include "example_args.hpp"
#include "kafkawire/consumer/blocking.hpp"

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  const auto args = examples::parse_args(argc, argv, "<bootstrap> <topic> <group> [records]", 3);
  if (!args) return 2;
  const std::string bootstrap = args->positional[0], topic = args->positional[1], group = args->positional[2];
  const int count = args->positional.size() > 3 ? std::stoi(args->positional[3]) : 100;
  try {
    // 1. Produce. send() would wait for each record; queue them all and flush once instead.
    std::map<int32_t, int64_t> end;  // partition -> the offset after the last record produced
    std::error_code failed;          // the first delivery error
    {
      kafkawire::BlockingProducer producer{
          args->config({{"bootstrap.servers", bootstrap}, {"allow.auto.create.topics", "true"}})};
      for (int i = 0; i < count; ++i) {
        kafkawire::ProducerRecord record{.topic = topic,
                                         .key = "customer-" + std::to_string(i % 7),
                                         .value = "amount=" + std::to_string(i)};
        producer.async().async_send(std::move(record), [&](std::error_code ec, kafkawire::RecordMetadata md) {
          if (ec && !failed) failed = ec;
          if (!ec) end[md.partition] = std::max(end[md.partition], md.offset + 1);
        });
      }
      producer.flush();  // waits until every record has its delivery result
    }
    if (failed) throw std::system_error(failed, "producing to " + topic);
    std::printf("produced %d records to %s\n", count, topic.c_str());

    // 2. Consume as a member of the group; commit after processing each poll (at-least-once).
    kafkawire::BlockingConsumer consumer{args->config({{"bootstrap.servers", bootstrap},
                                                       {"group.id", group},
                                                       {"enable.auto.commit", "false"},
                                                       {"auto.offset.reset", "earliest"}})};
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
      for (const kafkawire::Record& r : consumer.poll(500ms)) {  // views, valid until the next poll
        start.try_emplace(r.partition(), r.offset());
        next[r.partition()] = r.offset() + 1;
        sum += std::stoll(std::string(r.value()->str().substr(7)));  // "amount=<i>"
        ++consumed;
      }
      consumer.commit();  // the positions after this poll: the next record to read
    }
    for (auto [p, o] : start)
      std::printf("started at %s-%d@%lld\n", topic.c_str(), p, static_cast<long long>(o));
    std::printf("consumed %d records, sum of amounts %lld\n", consumed, sum);
    std::vector<kafkawire::TopicPartition> parts;
    for (auto [p, o] : end) parts.push_back({topic, p});
    for (const auto& [tp, offset] : consumer.committed(parts))
      std::printf("committed %s@%lld\n", to_string(tp).c_str(), static_cast<long long>(offset.value_or(-1)));
    consumer.close();  // leaves the group, so the next member gets the partitions at once
    std::printf("rebalance timeline:\n%s", consumer.rebalance_timeline().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "example-blocking: %s\n", e.what());
    return 1;
  }
}
