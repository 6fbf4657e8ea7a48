// bench_produce: writes the data sets of the consume benchmark (tools/bench/consume-bench) with the
// kafkawire Producer.
//
// Creates the topic (--partitions; fails if it exists; --no-create: it exists already, made by the caller),
// then produces --count records round-robin over the partitions: key "key-<n>", a value of --size bytes of
// JSON-like text that zstd compresses about 4x (like bench_decode's). Waits for every delivery result; any
// failure is an error. Also the kafkawire client of the produce benchmark (tools/bench/produce-bench),
// which writes the same keys and values from rdkafka_produce.c and franz_produce/main.go.
//
// Records go through Producer::send() (views, one delivery callback for all, a tag per record) unless
// --api async_send (a ProducerRecord and a completion handler per record), for comparing the two.
//
// Records awaiting a delivery result are bounded by the producer's own buffer.memory accounting, as each
// peer's are by its library's (Java's send() blocks, librdkafka's produce() says QUEUE_FULL, franz-go's
// Produce blocks): a record is handed over only when Producer::would_wait() says it would not wait for
// room, else the executor runs. So the benchmark holds no queue of its own, and no record waits, copied,
// inside the producer for room.
//
//   bench_produce --bootstrap host:port --topic T --count N --size BYTES [--partitions P] [--no-create]
//                 [--compression none|zstd|...] [--api send|async_send] [-X key=value ...]
//   bench_produce --values-only --count N --size BYTES   # the first N values, one a line, on stdout
//                                                        # (Java's ProducerPerformance --payload-file)
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../support/create_topic.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(
      stderr,
      "bench_produce: %s\nusage: bench_produce --bootstrap host:port --topic T --count N --size BYTES "
      "[--partitions P] [--no-create] [--compression CODEC] [--api send|async_send] [-X key=value ...]\n",
      problem.c_str());
  std::exit(2);
}

int64_t number(const std::string& flag, const std::string& v) {
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (*end || x < 0) usage(flag + ": not a non-negative number: " + v);
  return x;
}

asio::awaitable<int> create_topic(std::shared_ptr<net::Pool> pool, std::string name, int32_t partitions) {
  const std::string problem = co_await tools::create_topic(std::move(pool), std::move(name), partitions);
  if (problem.empty()) co_return 0;
  std::fprintf(stderr, "bench_produce: %s\n", problem.c_str());
  co_return 1;
}

size_t put_u64(char* out, uint64_t v) {
  return static_cast<size_t>(std::to_chars(out, out + 20, v).ptr - out);
}

// The values, JSON-like, about 4x compressible by zstd, different per record:
// {"id":n,"ts":1700000000000+n,"tags":[ followed by tail n % kTails of a pool of tails ("word123",...)
// made once from std::mt19937_64 seeded 42, cut to `size` bytes. rdkafka_produce.c and franz_produce
// make the same pool and values (--values-only prints them). Made per record instead, ~100 draws and
// number formats for a 1 KiB value were 40% of kafkawire's CPU: the pool leaves a copy per record, so the
// benchmark measures the clients (Java's ProducerPerformance picks from a payload file for the same
// reason).
class Values {
 public:
  static constexpr size_t kTails = 1024;  // more than a batch holds: no repeats inside one
  explicit Values(size_t size) : size_(size), value_(size + 64, '\0') {
    static const std::string_view words[] = {"alpha", "bravo",    "charlie", "delta",  "echo", "foxtrot",
                                             "golf",  "hotel",    "india",   "juliet", "kilo", "lima",
                                             "mike",  "november", "oscar",   "papa"};
    std::mt19937_64 rng(42);
    tails_.resize(kTails);
    for (auto& tail : tails_) {
      while (tail.size() < size) {
        const uint64_t r = rng();
        char digits[20];
        tail += '"';
        tail += words[r % 16];
        tail.append(digits, put_u64(digits, (r >> 8) % 1000));
        tail += "\",";
      }
    }
  }
  // Record n's value: valid until the next call.
  std::string_view make(int64_t n) {
    char* p = value_.data();
    size_t len = 0;
    auto put = [&](std::string_view s) {
      std::memcpy(p + len, s.data(), s.size());
      len += s.size();
    };
    put("{\"id\":");
    len += put_u64(p + len, static_cast<uint64_t>(n));
    put(",\"ts\":");
    len += put_u64(p + len, static_cast<uint64_t>(1700000000000 + n));
    put(",\"tags\":[");
    if (len < size_) {
      const std::string& tail = tails_[static_cast<size_t>(n) % kTails];
      std::memcpy(p + len, tail.data(), std::min(tail.size(), size_ - len));
    }
    return {p, size_};
  }

 private:
  size_t size_;
  std::string value_;  // the prefix's longest numbers past `size` fit in the 64 spare bytes
  std::vector<std::string> tails_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string bootstrap, topic, compression = "none", api = "send";
  int64_t count = -1, size = -1, partitions = 1;
  bool create = true, values_only = false;
  std::map<std::string, std::string> kv{{"acks", "1"}, {"linger.ms", "20"}, {"batch.size", "1048576"}};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--no-create") {
      create = false;
      continue;
    }
    if (a == "--values-only") {
      values_only = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--bootstrap")
      bootstrap = v;
    else if (a == "--topic")
      topic = v;
    else if (a == "--count")
      count = number(a, v);
    else if (a == "--size")
      size = number(a, v);
    else if (a == "--partitions")
      partitions = number(a, v);
    else if (a == "--compression")
      compression = v;
    else if (a == "--api") {
      if (v != "send" && v != "async_send") usage("--api: send or async_send, not " + v);
      api = v;
    } else if (a == "-X") {
      const auto eq = v.find('=');
      if (eq == std::string::npos) usage("-X wants key=value, got " + v);
      kv[v.substr(0, eq)] = v.substr(eq + 1);
    } else
      usage("unknown argument " + a);
  }
  if (values_only && count >= 0 && size >= 0) {
    Values values(static_cast<size_t>(size));
    for (int64_t n = 0; n < count; ++n) {
      const std::string_view value = values.make(n);
      std::fwrite(value.data(), 1, value.size(), stdout);
      std::fputc('\n', stdout);
    }
    return std::fflush(stdout) == 0 ? 0 : 1;
  }
  if (bootstrap.empty() || topic.empty() || count < 0 || size < 0)
    usage("--bootstrap, --topic, --count and --size are required");
  if (partitions < 1 || partitions > 10000) usage("--partitions: 1..10000");
  kv["bootstrap.servers"] = bootstrap;
  kv["compression.type"] = compression;

  try {
    asio::io_context io;
    Producer producer(io.get_executor(), Config(kv));
    if (create) {
      net::PoolOptions opts;
      std::string problem;
      if (net::parse_bootstrap(bootstrap, opts.bootstrap, &problem)) usage("--bootstrap: " + problem);
      auto pool = net::Pool::create(io.get_executor(), opts);
      auto f =
          asio::co_spawn(io, create_topic(pool, topic, static_cast<int32_t>(partitions)), asio::use_future);
      while (f.wait_for(0s) != std::future_status::ready) io.run_one_for(100ms);
      if (f.get() != 0) return 1;
      pool->close();
    }

    const auto t0 = std::chrono::steady_clock::now();
    Values values(static_cast<size_t>(size));
    int64_t sent = 0, done = 0, failed = 0;
    std::string first_error;
    std::string_view value;
    auto delivered = [&](std::error_code ec) {
      ++done;
      if (ec && failed++ == 0) first_error = ec.message() + " (" + producer.error_text() + ")";
    };
    producer.on_delivery([&](const DeliveryReport& d) { delivered(d.error); });
    const bool use_send = api == "send";
    char key[32] = "key-";
    size_t key_size = 0;
    bool made = false;  // key and value hold record `sent`, made and not yet sent
    while (done < count) {
      while (sent < count) {
        // One thread makes the records and runs the producer's I/O: what is ready runs every 256 records,
        // as a producer's I/O thread would beside the application. Without it nothing went out until the
        // first buffer.memory of records was made (the connection, the metadata, the first request: 0.1-0.25
        // s at 32 MiB), and every one of those records waited in the producer for the metadata.
        if (!made) {
          if (sent > 0 && sent % 256 == 0) io.poll();
          key_size = 4 + put_u64(key + 4, static_cast<uint64_t>(sent));
          value = values.make(sent);
          made = true;
        }
        const RecordRef r{.topic = topic,
                          .partition = static_cast<int32_t>(sent % partitions),
                          .key = std::string_view(key, key_size),
                          .value = value};
        if (producer.would_wait(r)) break;
        if (use_send) {
          producer.send(r);
        } else {
          producer.async_send(ProducerRecord{.topic = topic,
                                             .partition = r.partition,
                                             .key = std::string(*r.key),
                                             .value = std::string(value)},
                              [&delivered](std::error_code ec, RecordMetadata) { delivered(ec); });
        }
        made = false;
        ++sent;
      }
      io.run_one_for(100ms);
    }
    auto ff = producer.async_flush(asio::use_future);
    while (ff.wait_for(0s) != std::future_status::ready) io.run_one_for(100ms);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (failed) {
      std::fprintf(stderr, "bench_produce: %" PRId64 " of %" PRId64 " records failed: %s\n", failed, count,
                   first_error.c_str());
      return 1;
    }
    std::printf("produced=%" PRId64 " topic=%s size=%" PRId64 " compression=%s wall_s=%.1f resent=%" PRIu64
                "\n",
                count, topic.c_str(), size, compression.c_str(), wall, producer.batches_resent());
    return 0;
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "bench_produce: %s\n", e.what());
    return 2;
  }
}
