// The Consumer's fetch pipeline, and the Producer's metadata requests and flushes, against a scripted broker
// on loopback: it records every request, so the tests can see what the client asks and when (a real broker
// cannot show which Fetch was in flight while records were still buffered), and it can hold Produce
// responses back until a test releases them (a real broker cannot be made to keep a delivery pending).
//
// The fake broker serves one topic "t" whose partitions each hold a log of batches of 10 records; a
// Fetch is answered with the one batch holding the fetch offset (like a broker cut at max bytes), or,
// at the log end, with nothing after fetch.max.wait.ms. It keeps a KIP-227 fetch session, so what it
// records is the offset each partition is effectively fetched from.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <limits>
#include <memory>
#include <optional>

#include "../../consumer/src/producer_core.hpp"  // ProducerInternals, for the exception test
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/fetch.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "kafkawire/protocol/produce.hpp"
#include "kafkawire/protocol/record_batch.hpp"
#include "support/frame_faults.hpp"
#include "support/run.hpp"

namespace kafkawire {
// Nothing in the producer throws today but bad_alloc or a bug: the test throws from its background work.
struct ProducerInternals {
  static void spawn_throwing(Producer& p, std::string what) {
    p.core_->spawn([](std::string what) -> boost::asio::awaitable<void> {
      throw std::runtime_error(what);
      co_return;
    }(std::move(what)));
  }
};
}  // namespace kafkawire

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
using kafkawire::testing::run_until;
namespace proto = kafkawire::protocol;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct FakeKafka {
  FakeKafka(asio::io_context& io, int32_t partitions, int64_t records_per_partition, size_t value_size = 20)
      : io(io), partitions(partitions) {
    for (int32_t p = 0; p < partitions; ++p) {
      auto& log = logs.emplace_back();
      for (int64_t base = 0; base < records_per_partition; base += 10) {
        proto::BatchOptions o;
        o.base_offset = base;
        proto::RecordBatchBuilder b(o);
        for (int64_t off = base; off < std::min(base + 10, records_per_partition); ++off) {
          std::string v = "p" + std::to_string(p) + "-" + std::to_string(off);
          v.resize(std::max(v.size(), value_size), '.');
          b.add(1700000000000 + off, std::nullopt,
                proto::Bytes(reinterpret_cast<const uint8_t*>(v.data()), v.size()));
        }
        log.push_back({base, std::min(base + 10, records_per_partition), b.build()});
      }
    }
    log_end = records_per_partition;
  }

  struct Batch {
    int64_t base, end;
    std::vector<uint8_t> bytes;
  };
  struct FetchSeen {
    std::map<int32_t, int64_t> offsets;  // partition -> offset it is fetched from (session applied)
  };

  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  int32_t partitions;
  int64_t log_end = 0;
  std::vector<std::vector<Batch>> logs;
  std::vector<FetchSeen> fetches;                         // every Fetch, in arrival order
  std::vector<std::vector<std::string>> metadata_topics;  // every Metadata request's topic list
  int produce_requests = 0;                               // counted as they arrive, answered or not
  std::map<int32_t, int64_t> produced_records;            // partition -> records written, over all Produces
  // Produce requests (acks != 0) after the first `produce_answered` wait for release_produce(); each is
  // answered with offset 0 for every partition it names.
  int produce_answered = std::numeric_limits<int>::max();
  asio::steady_timer produce_gate{io, asio::steady_timer::time_point::max()};
  std::chrono::milliseconds produce_delay{0};  // how long the fake takes to write each Produce
  std::map<int32_t, int64_t> session;          // the fetch session (id 7): partition -> fetch offset
  std::vector<std::shared_ptr<tcp::socket>> sockets;

  uint16_t port() const { return acceptor.local_endpoint().port(); }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port()); }
  void start() { asio::co_spawn(io, accept(), asio::detached); }
  void stop() {
    acceptor.close();
    for (auto& s : sockets) s->close();
    release_produce();
  }
  // Answers the held Produce requests up to the n-th (all of them by default).
  void release_produce(int n = std::numeric_limits<int>::max()) {
    produce_answered = n;
    produce_gate.cancel();
  }
  int64_t records_written() const {
    int64_t n = 0;
    for (const auto& [p, count] : produced_records) n += count;
    return n;
  }
  bool fetched_from(int32_t partition, int64_t offset) const {
    for (const auto& f : fetches)
      if (auto it = f.offsets.find(partition); it != f.offsets.end() && it->second == offset) return true;
    return false;
  }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(nothrow);
      if (ec) co_return;
      auto s = std::make_shared<tcp::socket>(std::move(sock));
      sockets.push_back(s);
      asio::co_spawn(io, serve(s), asio::detached);
    }
  }

  static bool flexible(int16_t key, int16_t version) {
    switch (key) {
      case proto::FetchRequest::api_key:
        return version >= proto::FetchRequest::first_flexible;
      case proto::MetadataRequest::api_key:
        return version >= proto::MetadataRequest::first_flexible;
      case proto::ProduceRequest::api_key:
        return version >= proto::ProduceRequest::first_flexible;
      default:
        return version >= 3;  // ApiVersions
    }
  }

  // The requests of one connection the fake has read and not answered yet. They are read as they arrive,
  // so a test sees a request the client pipelined behind one the fake holds, and answered in order, one
  // at a time, as a broker does.
  struct Inbox {
    explicit Inbox(asio::io_context& io) : arrived(io, asio::steady_timer::time_point::max()) {}
    std::deque<std::pair<int, std::vector<uint8_t>>> requests;  // (number of a Produce, else 0; bytes)
    bool closed = false;
    asio::steady_timer arrived;  // cancelled when a request arrives or the connection closes
  };

  asio::awaitable<void> read_requests(std::shared_ptr<tcp::socket> sock, std::shared_ptr<Inbox> in) {
    for (;;) {
      uint8_t size_bytes[4];
      auto [e1, r1] = co_await asio::async_read(*sock, asio::buffer(size_bytes), nothrow);
      std::vector<uint8_t> req;
      if (!e1) {
        req.resize(uint32_t{size_bytes[0]} << 24 | uint32_t{size_bytes[1]} << 16 |
                   uint32_t{size_bytes[2]} << 8 | size_bytes[3]);
        auto [e2, r2] = co_await asio::async_read(*sock, asio::buffer(req), nothrow);
        e1 = e2;
      }
      if (e1 || req.size() < 2) {
        in->closed = true;
        in->arrived.cancel();
        co_return;
      }
      const int16_t key = static_cast<int16_t>(req[0] << 8 | req[1]);
      in->requests.emplace_back(key == proto::ProduceRequest::api_key ? ++produce_requests : 0,
                                std::move(req));
      in->arrived.cancel();
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock) {
    auto in = std::make_shared<Inbox>(io);
    asio::co_spawn(io, read_requests(sock, in), asio::detached);
    for (;;) {
      while (in->requests.empty() && !in->closed) co_await in->arrived.async_wait(nothrow);
      if (in->requests.empty()) co_return;
      const int produce_number = in->requests.front().first;
      const std::vector<uint8_t> req = std::move(in->requests.front().second);
      in->requests.pop_front();
      proto::Reader r{proto::Bytes(req)};
      proto::RequestHeader h;
      const int16_t key = static_cast<int16_t>(req[0] << 8 | req[1]);
      const int16_t version = static_cast<int16_t>(req[2] << 8 | req[3]);
      REQUIRE_FALSE(proto::decode(r, h, flexible(key, version) ? 2 : 1));
      proto::Writer w;
      w.i32(0);
      w.i32(h.correlation_id);
      if (key != proto::kApiVersionsKey && flexible(key, version)) w.uvarlong(0);  // response header tags
      if (key == proto::kApiVersionsKey) {
        proto::ApiVersionsResponse resp;
        resp.api_keys = {{0, 3, 9}, {1, 4, 12}, {3, 1, 12}, {18, 0, 3}};
        proto::encode(w, resp, std::min<int16_t>(version, 3));
      } else if (key == proto::MetadataRequest::api_key) {
        proto::MetadataRequest m;
        REQUIRE_FALSE(proto::decode(r, m, version));
        proto::MetadataResponse resp;
        resp.brokers.push_back({0, "127.0.0.1", port(), std::nullopt});
        resp.cluster_id = "fake";
        resp.controller_id = 0;
        auto& names = metadata_topics.emplace_back();
        for (const auto& t : *m.topics) {
          names.push_back(t.name.value_or(""));
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          if (t.name != "t") {
            rt.error_code = 3;
            continue;
          }
          for (int32_t p = 0; p < partitions; ++p) {
            proto::MetadataResponse::MetadataResponsePartition mp;
            mp.partition_index = p;
            mp.leader_id = 0;
            mp.leader_epoch = 0;
            mp.replica_nodes = {0};
            mp.isr_nodes = {0};
            rt.partitions.push_back(mp);
          }
        }
        proto::encode(w, resp, version);
      } else if (key == proto::ProduceRequest::api_key) {
        proto::ProduceRequest p;
        REQUIRE_FALSE(proto::decode(r, p, version));
        for (const auto& t : p.topic_data)
          for (const auto& pd : t.partition_data) {
            proto::RecordBatchReader batches(pd.records.bytes.value_or(proto::Bytes{}));
            proto::RecordView rec;
            while (batches.next(rec)) ++produced_records[pd.index];
          }
        if (p.acks == 0) continue;  // no answer
        while (produce_number > produce_answered) co_await produce_gate.async_wait(nothrow);
        if (produce_delay.count() > 0) {
          asio::steady_timer t(io, produce_delay);
          co_await t.async_wait(nothrow);
        }
        proto::ProduceResponse resp;
        for (const auto& t : p.topic_data) {
          auto& rt = resp.responses.emplace_back();
          rt.name = t.name;
          rt.topic_id = t.topic_id;
          for (const auto& pd : t.partition_data) rt.partition_responses.emplace_back().index = pd.index;
        }
        proto::encode(w, resp, version);
      } else if (key == proto::FetchRequest::api_key) {
        proto::FetchRequest f;
        REQUIRE_FALSE(proto::decode(r, f, version));
        // KIP-227 on the broker's side: a full fetch (epoch 0) replaces the session, an incremental one
        // updates the listed partitions and drops the forgotten ones.
        if (f.session_epoch <= 0) session.clear();
        for (const auto& t : f.forgotten_topics_data)
          for (int32_t p : t.partitions) session.erase(p);
        for (const auto& t : f.topics)
          for (const auto& p : t.partitions) session[p.partition] = p.fetch_offset;
        fetches.push_back({session});
        proto::FetchResponse resp;
        resp.session_id = 7;
        auto answer = [&] {
          resp.responses.clear();
          for (const auto& [p, off] : session) {
            const Batch* found = nullptr;
            for (const auto& b : logs[static_cast<size_t>(p)])
              if (off >= b.base && off < b.end) found = &b;
            if (!found && f.session_epoch > 0) continue;  // incremental: only partitions with news
            if (resp.responses.empty()) resp.responses.emplace_back().topic = "t";
            proto::FetchResponse::PartitionData pd;
            pd.partition_index = p;
            pd.high_watermark = pd.last_stable_offset = log_end;
            pd.log_start_offset = 0;
            if (found) pd.records.bytes = proto::Bytes(found->bytes.data(), found->bytes.size());
            resp.responses.front().partitions.push_back(pd);
          }
        };
        answer();
        if (resp.responses.empty()) {  // nothing new: the broker holds the Fetch for max_wait_ms
          asio::steady_timer t(io, std::chrono::milliseconds(f.max_wait_ms));
          co_await t.async_wait(nothrow);
          answer();
        }
        proto::encode(w, resp, version);
      } else {
        FAIL("unexpected API key " << key);
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      auto [e3, n3] = co_await asio::async_write(*sock, asio::buffer(w.buffer()), nothrow);
      if (e3) co_return;
    }
  }
};

Config consumer_config(const FakeKafka& k, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", k.bootstrap()},
                                        {"enable.auto.commit", "false"},
                                        {"fetch.max.wait.ms", "100"},
                                        {"max.poll.records", "3"}};
  for (auto& [key, v] : extra) kv[key] = v;
  return Config(kv);
}

// Polls once; the delivered (partition, offset) pairs.
std::vector<std::pair<int32_t, int64_t>> poll_once(asio::io_context& io, Consumer& c) {
  auto f = c.async_poll(2000ms, asio::use_future);
  std::vector<std::pair<int32_t, int64_t>> out;
  auto [ec, records] = run_until(io, f);
  REQUIRE_FALSE(ec);
  for (const Record& r : records) out.emplace_back(r.partition(), r.offset());
  return out;
}

// Runs the io_context one handler at a time until `done` (checked after each, so the test sees the state
// the moment it holds, with nothing run after it), or a bound passes.
template <class F>
bool run_while_not(asio::io_context& io, F done, std::chrono::milliseconds bound = 3000ms) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(5ms);
  }
  return done();
}

// Runs only the handlers that are ready (io.poll() never waits for a timer or the network) until `done`.
// True when `done` became true without anything else having to happen first.
template <class F>
bool ready_now(asio::io_context& io, F done) {
  for (int i = 0; i < 100 && !done(); ++i) {
    io.restart();
    io.poll();
  }
  return done();
}

Config producer_config(const FakeKafka& k) {
  // linger.ms far away: records leave only when a flush (or close) asks for them.
  return Config({{"bootstrap.servers", k.bootstrap()}, {"acks", "1"}, {"linger.ms", "600000"}});
}

// A record of topic "t" whose delivery handler counts into `delivered` (and keeps its error).
void send_counted(Producer& prod, const std::string& key, int& delivered, std::error_code* result = nullptr) {
  prod.async_send(ProducerRecord{.topic = "t", .key = key, .value = "v"},
                  [&delivered, result](std::error_code ec, RecordMetadata) {
                    ++delivered;
                    if (result) *result = ec;
                  });
}

// Sends n records of topic "t" over its partitions one at a time, each given `gap` to leave alone (with
// linger.ms=0, one request each unless something holds them back); counts deliveries and the first error.
void send_spaced(asio::io_context& io, Producer& prod, int n, std::chrono::milliseconds gap, int& delivered,
                 std::error_code& first_error) {
  for (int i = 0; i < n; ++i) {
    prod.async_send(ProducerRecord{.topic = "t", .partition = i % 4, .value = "v" + std::to_string(i)},
                    [&](std::error_code ec, RecordMetadata) {
                      ++delivered;
                      if (ec && !first_error) first_error = ec;
                    });
    run_while_not(
        io, [] { return false; }, gap);
  }
}

}  // namespace

TEST_CASE("prefetch: the next Fetch of a partition goes out while its records are still being polled",
          "[fetch][prefetch]") {
  asio::io_context io;
  FakeKafka k(io, 1, 30);
  k.start();
  Consumer c(io.get_executor(), consumer_config(k));
  const TopicPartition tp{"t", 0};
  c.assign({tp});
  c.seek(tp, 0);

  auto first = poll_once(io, c);
  REQUIRE(first == std::vector<std::pair<int32_t, int64_t>>{{0, 0}, {0, 1}, {0, 2}});
  REQUIRE(c.position(tp) == 3);
  // Seven records of the first batch are still buffered, and the Fetch from offset 10 is out anyway.
  CHECK(run_while_not(io, [&] { return k.fetched_from(0, 10); }));
  CHECK(c.position(tp) == 3);
  // One answer ahead only: nothing from offset 20 while the first batch is not drained.
  run_while_not(
      io, [] { return false; }, 300ms);
  CHECK_FALSE(k.fetched_from(0, 20));

  // Everything, in order, once.
  std::vector<int64_t> offsets{0, 1, 2};
  while (offsets.size() < 30) {
    auto got = poll_once(io, c);
    REQUIRE_FALSE(got.empty());
    for (auto& [p, off] : got) offsets.push_back(off);
  }
  std::vector<int64_t> want(30);
  for (int64_t i = 0; i < 30; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(offsets == want);
  CHECK(k.fetched_from(0, 20));
  k.stop();
}

TEST_CASE("prefetch: seek drops buffered and prefetched records", "[fetch][prefetch]") {
  for (const int64_t target : {int64_t{5}, int64_t{15}, int64_t{25}, int64_t{1}}) {
    DYNAMIC_SECTION("seek to " << target) {
      asio::io_context io;
      FakeKafka k(io, 1, 30);
      k.start();
      Consumer c(io.get_executor(), consumer_config(k));
      const TopicPartition tp{"t", 0};
      c.assign({tp});
      c.seek(tp, 0);
      REQUIRE(poll_once(io, c).size() == 3);
      REQUIRE(run_while_not(io, [&] { return k.fetched_from(0, 10); }));
      run_while_not(
          io, [] { return false; }, 200ms);  // let the prefetched answer land
      c.seek(tp, target);
      std::vector<int64_t> offsets;
      while (offsets.empty() || offsets.back() < 29) {
        auto got = poll_once(io, c);
        REQUIRE_FALSE(got.empty());
        for (auto& [p, off] : got) offsets.push_back(off);
      }
      std::vector<int64_t> want;
      for (int64_t i = target; i < 30; ++i) want.push_back(i);
      CHECK(offsets == want);
      k.stop();
    }
  }
}

TEST_CASE("prefetch: pause and resume with prefetched data neither skip nor repeat", "[fetch][prefetch]") {
  asio::io_context io;
  FakeKafka k(io, 2, 30);
  k.start();
  Consumer c(io.get_executor(), consumer_config(k));
  const TopicPartition p0{"t", 0}, p1{"t", 1};
  c.assign({p0, p1});
  c.seek(p0, 0);
  c.seek(p1, 0);
  std::map<int32_t, std::vector<int64_t>> seen;
  for (auto& [p, off] : poll_once(io, c)) seen[p].push_back(off);
  REQUIRE(run_while_not(io, [&] { return k.fetched_from(0, 10) && k.fetched_from(1, 10); }));
  c.pause({p0});
  // While p0 is paused only p1 is delivered.
  while (seen[1].size() < 30) {
    for (auto& [p, off] : poll_once(io, c)) {
      REQUIRE(p == 1);
      seen[p].push_back(off);
    }
  }
  c.resume({p0});
  while (seen[0].size() < 30) {
    auto got = poll_once(io, c);
    REQUIRE_FALSE(got.empty());
    for (auto& [p, off] : got) seen[p].push_back(off);
  }
  std::vector<int64_t> want(30);
  for (int64_t i = 0; i < 30; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(seen[0] == want);
  CHECK(seen[1] == want);
  k.stop();
}

TEST_CASE("prefetch: queued.max.messages.kbytes bounds what is fetched ahead", "[fetch][prefetch]") {
  asio::io_context io;
  FakeKafka k(io, 1, 30, 200);  // batches of about 2 KiB
  k.start();
  Consumer c(io.get_executor(), consumer_config(k, {{"queued.max.messages.kbytes", "1"}}));
  const TopicPartition tp{"t", 0};
  c.assign({tp});
  c.seek(tp, 0);
  REQUIRE(poll_once(io, c).size() == 3);
  // The buffered batch alone is over the bound: no Fetch from 10 until it is drained.
  run_while_not(
      io, [] { return false; }, 300ms);
  CHECK_FALSE(k.fetched_from(0, 10));
  std::vector<int64_t> offsets;
  while (offsets.size() < 27) {
    auto got = poll_once(io, c);
    REQUIRE_FALSE(got.empty());
    for (auto& [p, off] : got) offsets.push_back(off);
  }
  CHECK(offsets.front() == 3);
  CHECK(offsets.back() == 29);
  CHECK(k.fetched_from(0, 10));
  k.stop();
}

TEST_CASE("producer: one Metadata request names each topic once, however many records wait", "[producer]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()}, {"acks", "0"}}));
  std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> results;
  for (int i = 0; i < 50; ++i) {
    ProducerRecord r;
    r.topic = "t";
    r.value = "v" + std::to_string(i);
    results.push_back(prod.async_send(std::move(r), asio::use_future));
  }
  for (auto& f : results) {
    auto [ec, md] = run_until(io, f);
    REQUIRE_FALSE(ec);
  }
  // acks=0: a record's result comes once its request is written, maybe before the fake has read it.
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 5000ms));
  REQUIRE_FALSE(k.metadata_topics.empty());
  bool asked_for_t = false;
  for (const auto& topics : k.metadata_topics) {
    CHECK(std::count(topics.begin(), topics.end(), "t") <= 1);
    asked_for_t = asked_for_t || std::count(topics.begin(), topics.end(), "t") == 1;
  }
  CHECK(asked_for_t);
  CHECK(k.produce_requests >= 1);
  k.stop();
}

TEST_CASE("records of the last poll stay valid when assign() lets their partition go", "[fetch][assign]") {
  asio::io_context io;
  FakeKafka k(io, 2, 10, 64);
  k.start();
  Consumer c(io.get_executor(), consumer_config(k, {{"max.poll.records", "20"}}));
  c.assign({{"t", 0}, {"t", 1}});
  c.seek({"t", 0}, 0);
  c.seek({"t", 1}, 0);
  std::span<const Record> records;
  for (int attempt = 0; attempt < 20 && records.empty(); ++attempt) {
    auto f = c.async_poll(2000ms, asio::use_future);
    auto [ec, got] = run_until(io, f);
    REQUIRE_FALSE(ec);
    records = got;
  }
  REQUIRE_FALSE(records.empty());
  const int32_t first = records.front().partition();
  // Let the first record's partition go (and the other's too: a new assignment of a third partition).
  c.assign({{"t", first == 0 ? 1 : 0}});
  c.assign({});
  // Valid until the next poll: the topic name and the bytes are still there (ASan checks the reads).
  for (const Record& r : records) {
    CHECK(r.topic() == "t");
    REQUIRE(r.value());
    const std::string v(r.value()->str());
    CHECK(v.rfind("p" + std::to_string(r.partition()) + "-" + std::to_string(r.offset()), 0) == 0);
    CHECK(v.size() == 64);
  }
  k.stop();
}

TEST_CASE(
    "fetch: an exception in the fetch connection's read loop is reported once, then fetching goes on "
    "over a new connection",
    "[fetch][exception]") {
  asio::io_context io;
  FakeKafka k(io, 1, 60);
  k.start();
  Consumer c(io.get_executor(), consumer_config(k));
  const TopicPartition tp{"t", 0};
  c.assign({tp});
  c.seek(tp, 0);
  std::vector<int64_t> offsets;
  for (auto& [p, off] : poll_once(io, c)) offsets.push_back(off);
  REQUIRE_FALSE(offsets.empty());
  const size_t connections = k.sockets.size();

  std::vector<std::error_code> errors;
  kafkawire::testing::FailNextFrameAllocation fail(proto::FetchRequest::api_key);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (offsets.size() < 60 && std::chrono::steady_clock::now() < deadline) {
    auto f = c.async_poll(500ms, asio::use_future);
    auto [ec, records] = run_until(io, f);
    if (ec) errors.push_back(ec);
    for (const Record& r : records) offsets.push_back(r.offset());
  }
  CHECK(fail.thrown());
  // The application hears of it once, from poll, and loses and repeats nothing.
  CHECK(errors == std::vector<std::error_code>{client_errc::internal_error});
  std::vector<int64_t> want(60);
  for (int64_t i = 0; i < 60; ++i) want[static_cast<size_t>(i)] = i;
  CHECK(offsets == want);
  CHECK(k.sockets.size() == connections + 1);  // the fetch connection, replaced
  k.stop();
}

TEST_CASE("producer: flush on an idle producer completes at once", "[producer][flush]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.start();
  Producer prod(io.get_executor(), producer_config(k));
  std::optional<std::error_code> flushed;
  prod.async_flush([&](std::error_code ec) { flushed = ec; });
  REQUIRE(ready_now(io, [&] { return flushed.has_value(); }));
  CHECK_FALSE(*flushed);
  CHECK(k.produce_requests == 0);
  k.stop();
}

TEST_CASE("producer: concurrent flushes complete with the last delivery, after every delivery handler",
          "[producer][flush]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;  // every Produce waits for release_produce()
  k.start();
  Producer prod(io.get_executor(), producer_config(k));
  constexpr int n = 20;
  int delivered = 0;
  for (int i = 0; i < n; ++i) send_counted(prod, "k" + std::to_string(i), delivered);
  // Each flush notes how many delivery handlers had run when it completed.
  std::optional<std::error_code> flushed[3];
  int seen[3] = {-1, -1, -1};
  for (int f = 0; f < 2; ++f)
    prod.async_flush([&, f](std::error_code ec) {
      flushed[f] = ec;
      seen[f] = delivered;
    });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));
  CHECK(delivered == 0);
  CHECK_FALSE(flushed[0]);
  CHECK_FALSE(flushed[1]);

  k.release_produce();
  REQUIRE(run_while_not(
      io, [&] { return delivered == n; }, 10000ms));
  // From the last delivery on, the flushes need no timer and no I/O: only handlers already queued.
  REQUIRE(ready_now(io, [&] { return flushed[0] && flushed[1]; }));
  CHECK_FALSE(*flushed[0]);
  CHECK_FALSE(*flushed[1]);
  CHECK(seen[0] == n);
  CHECK(seen[1] == n);
  CHECK(prod.in_flight() == 0);

  // Everything delivered: the next flush has nothing to wait for.
  prod.async_flush([&](std::error_code ec) { flushed[2] = ec; });
  REQUIRE(ready_now(io, [&] { return flushed[2].has_value(); }));
  CHECK_FALSE(*flushed[2]);
  k.stop();
}

TEST_CASE("producer: a flush waits only for the records sent before it", "[producer][flush]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;
  k.start();
  Producer prod(io.get_executor(), producer_config(k));
  int first = 0, second = 0;
  send_counted(prod, "a", first);
  std::optional<std::error_code> flushed_first, flushed_both;
  prod.async_flush([&](std::error_code ec) { flushed_first = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));
  // A record sent while that flush waits goes out at once (a flush is under way), in a second request.
  send_counted(prod, "b", second);
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 2; }, 10000ms));
  CHECK_FALSE(flushed_first);

  k.release_produce(1);  // the first record's request only
  REQUIRE(run_while_not(
      io, [&] { return flushed_first.has_value(); }, 10000ms));
  CHECK_FALSE(*flushed_first);
  CHECK(first == 1);
  CHECK(second == 0);

  prod.async_flush([&](std::error_code ec) { flushed_both = ec; });
  k.release_produce();
  REQUIRE(run_while_not(
      io, [&] { return flushed_both.has_value(); }, 10000ms));
  CHECK_FALSE(*flushed_both);
  CHECK(second == 1);
  k.stop();
}

TEST_CASE("producer: close() while flushes wait completes every one of them", "[producer][flush]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;
  k.start();
  Producer prod(io.get_executor(), producer_config(k));
  int first = 0, second = 0;
  std::error_code second_result;
  send_counted(prod, "a", first);
  std::optional<std::error_code> flushed_before, flushed_after, closed;
  prod.async_flush([&](std::error_code ec) { flushed_before = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));

  prod.async_close([&](std::error_code ec) { closed = ec; });
  io.restart();
  io.poll();  // close() starts: it waits for the first record like the flush before it
  // Sent while close() flushes: accepted, and a flush waits for it, but close() does not.
  send_counted(prod, "b", second, &second_result);
  prod.async_flush([&](std::error_code ec) { flushed_after = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 2; }, 10000ms));

  k.release_produce(1);  // the second record's Produce stays unanswered
  REQUIRE(run_while_not(
      io, [&] { return closed && flushed_before && flushed_after; }, 10000ms));
  CHECK_FALSE(*closed);
  CHECK_FALSE(*flushed_before);  // its record was delivered
  CHECK(first == 1);
  CHECK(*flushed_after == client_errc::operation_aborted);

  // The second record's request was on a connection close() closed: it fails, it is not left hanging.
  REQUIRE(run_while_not(
      io, [&] { return second == 1; }, 10000ms));
  CHECK(second_result);
  // And a flush after close() has nothing it could wait for.
  std::optional<std::error_code> flushed_closed;
  prod.async_flush([&](std::error_code ec) { flushed_closed = ec; });
  REQUIRE(ready_now(io, [&] { return flushed_closed.has_value(); }));
  CHECK_FALSE(*flushed_closed);
  k.stop();
}

TEST_CASE("producer: destroying the producer while flushes wait aborts them", "[producer][flush]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;
  k.start();
  auto prod = std::make_unique<Producer>(io.get_executor(), producer_config(k));
  int delivered = 0;
  send_counted(*prod, "a", delivered);
  std::optional<std::error_code> flushed[2];
  for (auto& f : flushed) prod->async_flush([&f](std::error_code ec) { f = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));

  prod.reset();
  REQUIRE(ready_now(io, [&] { return flushed[0] && flushed[1]; }));
  CHECK(*flushed[0] == client_errc::operation_aborted);
  CHECK(*flushed[1] == client_errc::operation_aborted);
  // What the producer left behind winds down without touching it.
  k.release_produce();
  run_while_not(
      io, [] { return false; }, 200ms);
  k.stop();
}

TEST_CASE("producer: an exception escaping its background work stops it; what has no result fails with it",
          "[producer][exception]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;  // Produce requests wait at the broker
  k.start();
  SECTION("a queued record and every later one fail with internal_error, and error_text() says why") {
    Producer prod(io.get_executor(), producer_config(k));
    std::optional<std::error_code> queued, after;
    // linger.ms is ten minutes: the record waits in its queue.
    prod.async_send(ProducerRecord{.topic = "t", .key = "b", .value = "v"},
                    [&](std::error_code ec, RecordMetadata) { queued = ec; });
    ProducerInternals::spawn_throwing(prod, "boom: a bug in the sender");
    REQUIRE(run_while_not(
        io, [&] { return queued.has_value(); }, 2000ms));
    CHECK(*queued == client_errc::internal_error);
    CHECK_THAT(prod.error_text(), Catch::Contains("boom: a bug in the sender"));
    CHECK(k.produce_requests == 0);
    prod.async_send(ProducerRecord{.topic = "t", .value = "v"},
                    [&](std::error_code ec, RecordMetadata) { after = ec; });
    REQUIRE(ready_now(io, [&] { return after.has_value(); }));
    CHECK(*after == client_errc::internal_error);
  }
  SECTION("a waiting flush fails with internal_error; the record of a request that was out gets an error") {
    Producer prod(io.get_executor(), producer_config(k));
    std::optional<std::error_code> first, flushed;
    prod.async_send(ProducerRecord{.topic = "t", .key = "a", .value = "v"},
                    [&](std::error_code ec, RecordMetadata) { first = ec; });
    prod.async_flush([&](std::error_code ec) { flushed = ec; });
    REQUIRE(run_while_not(
        io, [&] { return k.produce_requests >= 1; }, 10000ms));
    ProducerInternals::spawn_throwing(prod, "boom: a bug in the sender");
    REQUIRE(run_while_not(
        io, [&] { return flushed.has_value() && first.has_value(); }, 5000ms));
    CHECK(*flushed == client_errc::internal_error);
    CHECK(*first);  // its connection was closed: an error, not silence
  }
  k.stop();
}

TEST_CASE("producer: a record still waiting for its topic when close() ends fails then, not at its timeout",
          "[producer][close]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;
  k.start();
  // The fake answers UNKNOWN_TOPIC_OR_PARTITION for "nope"; with auto-creation on, a record for it waits
  // (and asks again) until delivery.timeout.ms, two minutes by default.
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"acks", "1"},
                                           {"linger.ms", "600000"},
                                           {"allow.auto.create.topics", "true"}}));
  int first = 0;
  send_counted(prod, "a", first);
  std::optional<std::error_code> closed, waiting;
  prod.async_close([&](std::error_code ec) { closed = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));
  // Sent while close() flushes "a": close() does not wait for it.
  prod.async_send(ProducerRecord{.topic = "nope", .value = "v"},
                  [&](std::error_code ec, RecordMetadata) { waiting = ec; });
  auto asked_for_nope = [&] {
    for (const auto& topics : k.metadata_topics)
      if (std::count(topics.begin(), topics.end(), "nope")) return true;
    return false;
  };
  REQUIRE(run_while_not(io, asked_for_nope, 10000ms));
  CHECK_FALSE(waiting.has_value());

  k.release_produce(1);
  REQUIRE(run_while_not(
      io, [&] { return closed.has_value(); }, 10000ms));
  CHECK_FALSE(*closed);
  CHECK(first == 1);
  REQUIRE(run_while_not(
      io, [&] { return waiting.has_value(); }, 5000ms));
  CHECK(*waiting == client_errc::operation_aborted);
  CHECK(prod.error_text().find("close()") != std::string::npos);
  k.stop();
}

TEST_CASE("producer: at most max.in.flight.requests.per.connection Produce requests wait at a broker",
          "[producer][inflight]") {
  // The bound that ends the duplicates of the next test: with every answer held, no more than the bound
  // goes out; what waits meanwhile leaves together once answers come.
  asio::io_context io;
  FakeKafka k(io, 4, 0);
  k.produce_answered = 0;  // every Produce waits for release_produce()
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"acks", "1"},
                                           {"linger.ms", "0"},
                                           {"max.in.flight.requests.per.connection", "3"}}));
  constexpr int n = 40;
  int delivered = 0;
  std::error_code first_error;
  send_spaced(io, prod, n, 10ms, delivered, first_error);
  CHECK(k.produce_requests == 3);
  CHECK(delivered == 0);

  k.release_produce();
  REQUIRE(run_while_not(
      io, [&] { return delivered == n; }, 10000ms));
  CHECK_FALSE(first_error);
  CHECK(k.produce_requests > 3);
  CHECK(k.produce_requests < n);    // what waited went out in larger batches
  CHECK(k.records_written() == n);  // every record once
  k.stop();
}

TEST_CASE("producer: a broker slower than the application gets every record once", "[producer][inflight]") {
  // The duplicates seen with no fault injected, in small: each Produce takes the fake 60 ms to write, and
  // the application sends faster than that. A producer that pipelined a request per batch had the later
  // ones wait past request.timeout.ms; the timeout closed the connection, and every request on it was sent
  // again, though the broker had written it.
  asio::io_context io;
  FakeKafka k(io, 4, 0);
  k.produce_delay = 60ms;
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"acks", "1"},
                                           {"linger.ms", "0"},
                                           {"request.timeout.ms", "1500"}}));
  constexpr int n = 60;
  int delivered = 0;
  std::error_code first_error;
  send_spaced(io, prod, n, 2ms, delivered, first_error);
  REQUIRE(run_while_not(
      io, [&] { return delivered == n; }, 20000ms));
  CHECK_FALSE(first_error);
  CHECK(k.records_written() == n);
  k.stop();
}

TEST_CASE("producer: records past buffer.memory wait for room, in order, and fail at max.block.ms",
          "[producer][memory]") {
  asio::io_context io;
  FakeKafka k(io, 1, 0);
  k.produce_answered = 0;  // every Produce waits for release_produce()
  k.start();
  // Each record takes 100 bytes in the producer's count (16 + an 84-byte value): ten fit.
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"acks", "1"},
                                           {"linger.ms", "0"},
                                           {"buffer.memory", "1000"},
                                           {"max.block.ms", "400"}}));
  const std::string value(84, 'v');
  std::vector<int> order;  // which record each handler that ran was for
  std::vector<std::error_code> results;
  int next = 0;
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i, ++next)
      prod.async_send(ProducerRecord{.topic = "t", .partition = 0, .value = value},
                      [&, index = next](std::error_code ec, RecordMetadata) {
                        results.push_back(ec);
                        order.push_back(index);
                      });
  };

  // Twenty sent while the broker answers nothing: ten go out, ten wait for room.
  send(20);
  REQUIRE(run_while_not(
      io, [&] { return k.records_written() == 10; }, 5000ms));
  run_while_not(
      io, [] { return false; }, 100ms);
  CHECK(k.records_written() == 10);
  CHECK(results.empty());
  // Answers make room before max.block.ms: the other ten follow, and every result comes in send order.
  k.release_produce();
  REQUIRE(run_while_not(
      io, [&] { return results.size() == 20; }, 5000ms));
  CHECK(k.records_written() == 20);
  for (const auto& ec : results) CHECK_FALSE(ec);
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.back() == 19);

  // The broker stops answering again: past max.block.ms, the records that never got room fail with
  // timeout and a text naming buffer.memory; the ten taken in are still delivered when answers come.
  results.clear();
  k.produce_answered = k.produce_requests;
  send(15);
  REQUIRE(run_while_not(
      io, [&] { return results.size() == 5; }, 5000ms));
  for (const auto& ec : results) CHECK(ec == client_errc::timeout);
  CHECK(prod.error_text().find("buffer.memory (1000 bytes) stayed full for max.block.ms") !=
        std::string::npos);
  CHECK(prod.in_flight() == 10);
  k.release_produce();
  REQUIRE(run_while_not(
      io, [&] { return results.size() == 15; }, 5000ms));
  for (size_t i = 5; i < results.size(); ++i) CHECK_FALSE(results[i]);
  CHECK(k.records_written() == 30);

  // One record bigger than all of buffer.memory can never be taken in: it fails at once.
  std::error_code too_big;
  prod.async_send(ProducerRecord{.topic = "t", .value = std::string(2000, 'x')},
                  [&](std::error_code ec, RecordMetadata) { too_big = ec; });
  REQUIRE(run_while_not(
      io, [&] { return bool(too_big); }, 1000ms));
  CHECK(too_big == client_errc::invalid_argument);
  CHECK(prod.error_text().find("can never fit in buffer.memory") != std::string::npos);
  k.stop();
}

TEST_CASE("producer: destroying the producer completes every record without a result with operation_aborted",
          "[producer][destroy]") {
  asio::io_context io;
  FakeKafka k(io, 3, 0);
  k.produce_answered = 0;  // the first request stays unanswered
  k.start();
  auto prod = std::make_unique<Producer>(io.get_executor(), producer_config(k));
  std::vector<std::optional<std::error_code>> results(6);
  auto send = [&](size_t i, const std::string& topic) {
    prod->async_send(ProducerRecord{.topic = topic, .key = "k" + std::to_string(i), .value = "v"},
                     [&results, i](std::error_code ec, RecordMetadata) { results[i] = ec; });
  };
  send(0, "t");
  send(1, "t");
  std::optional<std::error_code> flushed;
  prod->async_flush([&](std::error_code ec) { flushed = ec; });
  REQUIRE(run_while_not(
      io, [&] { return k.produce_requests >= 1; }, 10000ms));
  send(2, "t");  // queued behind linger.ms (10 minutes)
  send(3, "t");
  send(4, "unknown");  // waiting for metadata
  send(5, "t");

  prod.reset();  // one request in flight, records queued, one waiting for its topic, a flush waiting
  REQUIRE(run_while_not(io, [&] {
    return flushed &&
           std::all_of(results.begin(), results.end(), [](const auto& r) { return r.has_value(); });
  }));
  CHECK(*flushed == client_errc::operation_aborted);
  for (size_t i = 0; i < results.size(); ++i) {
    INFO("record " << i);
    CHECK(*results[i] == client_errc::operation_aborted);
  }
  // The fake answering the held request later reaches no freed producer (ASan runs this test too).
  k.release_produce();
  run_while_not(
      io, [] { return false; }, 200ms);
  k.stop();
}
