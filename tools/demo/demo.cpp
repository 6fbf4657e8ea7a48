// The main job, end to end: produce a topic, consume it in a consumer group that commits as it goes,
// stop half way (as a crash or a deploy would), and show a new member of the group resuming exactly at
// the committed offsets.
//   kafkawire-demo <bootstrap> [topic]
#include <cstdio>
#include <map>
#include <random>

#include "kafkawire/consumer/blocking.hpp"

using namespace kafkawire;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: kafkawire-demo <bootstrap> [topic]\n");
    return 2;
  }
  const std::string bootstrap = argv[1];
  const std::string topic =
      argc > 2 ? argv[2] : "demo-orders-" + std::to_string(std::random_device{}() % 100000);
  const std::string group = topic + "-billing";
  constexpr int kRecords = 3000;
  try {
    std::printf("1. producing %d records to %s (auto-created, keys spread by murmur2 like Java)\n", kRecords,
                topic.c_str());
    {
      BlockingProducer producer{{"bootstrap.servers", bootstrap},
                                {"allow.auto.create.topics", "true"},
                                {"compression.type", "zstd"},
                                {"linger.ms", "10"}};
      for (int i = 0; i < kRecords; ++i)
        producer.async().async_send({topic,
                                     std::nullopt,
                                     "order-" + std::to_string(i % 97),
                                     "amount=" + std::to_string(i),
                                     {},
                                     std::nullopt},
                                    [](std::error_code ec, RecordMetadata) {
                                      if (ec)
                                        std::fprintf(stderr, "   delivery failed: %s\n",
                                                     ec.message().c_str());
                                    });
      producer.flush();
    }
    std::printf("2. member A of group %s consumes with manual commits, and stops after ~half\n",
                group.c_str());
    std::map<int32_t, int64_t> committed;
    int consumed = 0;
    {
      BlockingConsumer a{{"bootstrap.servers", bootstrap},
                         {"group.id", group},
                         {"enable.auto.commit", "false"},
                         {"auto.offset.reset", "earliest"},
                         {"max.poll.records", "100"}};
      a.subscribe({topic});
      while (consumed < kRecords / 2) {
        auto records = a.poll(500ms);
        consumed += static_cast<int>(records.size());
        a.commit();  // the positions after this batch: the next record to read
      }
      for (const auto& tp : a.assignment()) committed[tp.partition] = a.position(tp).value_or(-1);
      std::printf("   A processed %d records; committed (next offset to read): ", consumed);
      for (auto [p, o] : committed) std::printf("p%d=%lld ", p, static_cast<long long>(o));
      std::printf("\n   A stops (close leaves the group)\n");
    }
    std::printf("3. member B joins the same group and resumes where A committed\n");
    BlockingConsumer b{{"bootstrap.servers", bootstrap},
                       {"group.id", group},
                       {"enable.auto.commit", "false"},
                       {"auto.offset.reset", "earliest"}};
    b.subscribe({topic});
    std::map<int32_t, int64_t> first;
    int rest = 0;
    for (int idle = 0; idle < 10 && consumed + rest < kRecords;) {
      auto records = b.poll(500ms);
      idle = records.empty() ? idle + 1 : 0;
      for (const Record& r : records)
        if (!first.count(r.partition())) first[r.partition()] = r.offset();
      rest += static_cast<int>(records.size());
      b.commit();
    }
    std::printf("   B's first offsets: ");
    bool exact = true;
    for (auto [p, o] : first) {
      std::printf("p%d=%lld ", p, static_cast<long long>(o));
      exact = exact && committed.count(p) && committed[p] == o;
    }
    std::printf("\n   B consumed the remaining %d records: %d + %d = %d of %d, %s\n", rest, consumed, rest,
                consumed + rest, kRecords,
                exact && consumed + rest == kRecords ? "nothing skipped, nothing twice" : "MISMATCH");
    return exact && consumed + rest == kRecords ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "demo failed: %s\n", e.what());
    return 1;
  }
}
