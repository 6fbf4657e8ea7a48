// bench_consume: a minimal kafkawire consumer for the consume benchmark (tools/bench/consume-bench).
//
// Assigns every partition of a topic from the beginning, polls until it has seen --count records, and
// reads every key and value byte (a checksum over them is printed, so nothing can be skipped). Then it
// checks that the positions add up to exactly --count (the topic was produced with that many records
// from offset 0), so a run that skipped or repeated records fails. Prints one line:
//
//   records=N bytes=B checksum=X wall_s=S
//
// Its CPU time and peak RSS are measured from outside (the driver runs it under /usr/bin/time).
//
//   bench_consume --bootstrap host:port --topic T --count N [-X key=value ...]
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kafkawire/consumer/consumer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr,
               "bench_consume: %s\nusage: bench_consume --bootstrap host:port --topic T --count N "
               "[-X key=value ...]\n",
               problem);
  std::exit(2);
}

// Reads every byte: sums them 8 at a time (the same function as rdkafka_consume's, so the checksums of
// both programs agree and the reading costs both the same).
inline uint64_t touch(const uint8_t* p, size_t n) {
  uint64_t s = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    s += w;
  }
  for (; i < n; ++i) s += p[i];
  return s;
}

template <class T>
T wait(asio::io_context& io, std::future<T>& f) {
  while (f.wait_for(0s) != std::future_status::ready) {
    io.restart();
    io.run_one_for(100ms);
  }
  return f.get();
}

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap, topic;
  int64_t count = -1;
  std::map<std::string, std::string> kv{
      {"enable.auto.commit", "false"}, {"check.crcs", "true"}, {"isolation.level", "read_uncommitted"}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage(("missing value after " + a).c_str());
    const std::string v = argv[++i];
    if (a == "--bootstrap") {
      bootstrap = v;
    } else if (a == "--topic") {
      topic = v;
    } else if (a == "--count") {
      char* end = nullptr;
      count = std::strtoll(v.c_str(), &end, 10);
      if (*end || count < 0) usage(("--count: not a record count: " + v).c_str());
    } else if (a == "-X") {
      const auto eq = v.find('=');
      if (eq == std::string::npos) usage(("-X wants key=value, got " + v).c_str());
      kv[v.substr(0, eq)] = v.substr(eq + 1);
    } else {
      usage(("unknown argument " + a).c_str());
    }
  }
  if (bootstrap.empty() || topic.empty() || count < 0) usage("--bootstrap, --topic and --count are required");
  kv["bootstrap.servers"] = bootstrap;

  try {
    asio::io_context io;
    kafkawire::Consumer consumer(io.get_executor(), kafkawire::Config(kv));
    const auto t0 = std::chrono::steady_clock::now();

    // Every partition of the topic, from the beginning.
    std::vector<std::string> topics{topic};
    auto mf = asio::co_spawn(io, consumer.pool().refresh_metadata(topics), asio::use_future);
    if (auto [ec, none] = wait(io, mf); ec) {
      std::fprintf(stderr, "bench_consume: metadata from %s: %s\n", bootstrap.c_str(), ec.message().c_str());
      return 1;
    }
    const kafkawire::net::TopicInfo* info = consumer.pool().metadata().topic(topic);
    if (!info || info->error_code != 0 || info->partitions.empty()) {
      std::fprintf(stderr, "bench_consume: topic %s: not found\n", topic.c_str());
      return 1;
    }
    std::vector<kafkawire::TopicPartition> parts;
    for (size_t p = 0; p < info->partitions.size(); ++p) parts.push_back({topic, static_cast<int32_t>(p)});
    consumer.assign(parts);
    consumer.seek_to_beginning(parts);

    int64_t records = 0;
    uint64_t bytes = 0, checksum = 0;
    auto idle_since = std::chrono::steady_clock::now();
    while (records < count) {
      auto f = consumer.async_poll(1000ms, asio::use_future);
      const auto [ec, batch] = wait(io, f);
      if (ec) {
        std::fprintf(stderr, "bench_consume: poll: %s (%s)\n", ec.message().c_str(),
                     consumer.error_text().c_str());
        return 1;
      }
      if (batch.empty()) {
        if (std::chrono::steady_clock::now() - idle_since > 30s) {
          std::fprintf(stderr, "bench_consume: no records for 30 s after %" PRId64 " of %" PRId64 "\n",
                       records, count);
          return 1;
        }
        continue;
      }
      idle_since = std::chrono::steady_clock::now();
      for (const kafkawire::Record& r : batch) {
        uint64_t h = 0;
        if (const auto& k = r.key()) {
          h += touch(k->ptr, k->len);
          bytes += k->len;
        }
        if (const auto& v = r.value()) {
          h += touch(v->ptr, v->len);
          bytes += v->len;
        }
        checksum += h ^ static_cast<uint64_t>(r.offset());
      }
      records += static_cast<int64_t>(batch.size());
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    // Exactly `count`: the positions (next offsets) of partitions that start at 0 add up to it.
    int64_t positions = 0;
    for (const auto& [tp, off] : consumer.current_positions()) positions += off;
    std::printf("records=%" PRId64 " bytes=%" PRIu64 " checksum=%016" PRIx64 " wall_s=%.3f\n", records, bytes,
                checksum, wall);
    if (records != count || positions != count) {
      std::fprintf(stderr,
                   "bench_consume: consumed %" PRId64 " records, positions add up to %" PRId64
                   ", expected exactly %" PRId64 "\n",
                   records, positions, count);
      return 1;
    }
    return 0;
  } catch (const kafkawire::ConfigError& e) {
    std::fprintf(stderr, "bench_consume: %s\n", e.what());
    return 2;
  }
}
