// The idempotent Producer against a scripted broker on loopback that keeps a producer's state per partition
// as Kafka does (epoch, last sequence, the last 5 batches) and drops or refuses batches by its rules, and
// that can lose a Produce answer (it writes the batches, then never answers: the client's request times
// out and it sends them again) or lose the producer's state for a partition (as retention does).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <memory>
#include <set>

#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/init_producer_id.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "kafkawire/protocol/produce.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
namespace proto = kafkawire::protocol;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr int16_t wire(kafka_errc e) { return static_cast<int16_t>(e); }

struct IdempotentFake {
  IdempotentFake(asio::io_context& io, int32_t partitions) : io(io), partitions(partitions) {}

  // What one partition keeps about the one producer of these tests.
  struct ProducerState {
    int64_t producer_id = -1;
    int16_t epoch = -1;
    int32_t last_sequence = -1;
    std::deque<std::pair<int32_t, int32_t>> recent;  // first and last sequence of the last 5 batches
  };
  struct BatchSeen {
    int32_t partition;
    int64_t producer_id;
    int16_t epoch;
    int32_t base_sequence;
    int32_t records;
    int16_t error_code;
  };

  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  int32_t partitions;
  std::map<int32_t, std::vector<std::string>> logs;  // partition -> values, in log order
  std::map<int32_t, ProducerState> state;
  std::vector<BatchSeen> batches;  // every batch of every Produce, in arrival order
  int produce_requests = 0;
  int init_requests = 0;
  int init_before_first_produce = 0;
  std::set<int> lose_answer_of;     // Produce requests (numbered from 1) written but never answered
  std::set<int> lose_state_before;  // before these Produce requests, every partition forgets the producer
  int16_t init_error = 0;           // what every InitProducerId is answered with (0: a producer id)
  bool leaderless = false;          // Metadata names no leader for any partition
  int leaderless_answers = 0;       // the first this many Metadata answers name no leader either
  int metadata_requests = 0;
  // Produce answers are held while more requests are already on their way (the next one arrives within
  // 100 ms), then written together: max_unanswered is how many the client had out at once at most.
  bool hold_answers = false;
  size_t max_unanswered = 0;
  std::vector<std::shared_ptr<tcp::socket>> sockets;

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()); }
  void start() { asio::co_spawn(io, accept(), asio::detached); }
  void stop() {
    acceptor.close();
    for (auto& s : sockets) s->close();
  }
  size_t written() const {
    size_t n = 0;
    for (const auto& [p, log] : logs) n += log.size();
    return n;
  }

  int16_t append(int32_t partition, const proto::BatchHeader& h, std::vector<std::string> values) {
    ProducerState& s = state[partition];
    const int32_t last = h.base_sequence + h.records_count - 1;
    if (h.producer_id >= 0) {
      if (h.producer_id == s.producer_id && h.producer_epoch < s.epoch)
        return wire(kafka_errc::invalid_producer_epoch);
      if (h.producer_id != s.producer_id || h.producer_epoch > s.epoch) {
        if (h.base_sequence != 0) return wire(kafka_errc::out_of_order_sequence_number);
        s = {h.producer_id, h.producer_epoch, -1, {}};
      } else {
        for (const auto& [f, l] : s.recent)
          if (f == h.base_sequence && l == last) return wire(kafka_errc::duplicate_sequence_number);
        if (h.base_sequence != s.last_sequence + 1) return wire(kafka_errc::out_of_order_sequence_number);
      }
      s.last_sequence = last;
      s.recent.emplace_back(h.base_sequence, last);
      if (s.recent.size() > 5) s.recent.pop_front();
    }
    auto& log = logs[partition];
    log.insert(log.end(), values.begin(), values.end());
    return 0;
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
      case proto::MetadataRequest::api_key:
        return version >= proto::MetadataRequest::first_flexible;
      case proto::ProduceRequest::api_key:
        return version >= proto::ProduceRequest::first_flexible;
      case proto::InitProducerIdRequest::api_key:
        return version >= proto::InitProducerIdRequest::first_flexible;
      default:
        return version >= 3;  // ApiVersions
    }
  }

  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock) {
    std::vector<std::vector<uint8_t>> held;  // Produce answers not yet written (hold_answers)
    for (;;) {
      uint8_t size_bytes[4];
      auto [e1, r1] = co_await asio::async_read(*sock, asio::buffer(size_bytes), nothrow);
      if (e1) co_return;
      std::vector<uint8_t> req(uint32_t{size_bytes[0]} << 24 | uint32_t{size_bytes[1]} << 16 |
                               uint32_t{size_bytes[2]} << 8 | size_bytes[3]);
      auto [e2, r2] = co_await asio::async_read(*sock, asio::buffer(req), nothrow);
      if (e2 || req.size() < 4) co_return;
      proto::Reader r{proto::Bytes(req)};
      proto::RequestHeader h;
      const int16_t key = static_cast<int16_t>(req[0] << 8 | req[1]);
      const int16_t version = static_cast<int16_t>(req[2] << 8 | req[3]);
      REQUIRE_FALSE(proto::decode(r, h, flexible(key, version) ? 2 : 1));
      proto::Writer w;
      w.i32(0);
      w.i32(h.correlation_id);
      if (key != proto::kApiVersionsKey && flexible(key, version)) w.uvarlong(0);
      if (key == proto::kApiVersionsKey) {
        proto::ApiVersionsResponse resp;
        resp.api_keys = {{0, 3, 9}, {3, 1, 12}, {18, 0, 3}, {22, 0, 4}};
        proto::encode(w, resp, std::min<int16_t>(version, 3));
      } else if (key == proto::MetadataRequest::api_key) {
        proto::MetadataRequest m;
        REQUIRE_FALSE(proto::decode(r, m, version));
        const bool no_leader = leaderless || ++metadata_requests <= leaderless_answers;
        proto::MetadataResponse resp;
        resp.brokers.push_back({0, "127.0.0.1", acceptor.local_endpoint().port(), std::nullopt});
        resp.cluster_id = "fake";
        resp.controller_id = 0;
        for (const auto& t : *m.topics) {
          auto& rt = resp.topics.emplace_back();
          rt.name = t.name;
          for (int32_t p = 0; p < partitions; ++p) {
            proto::MetadataResponse::MetadataResponsePartition mp;
            mp.partition_index = p;
            mp.leader_id = no_leader ? -1 : 0;
            if (no_leader) mp.error_code = wire(kafka_errc::leader_not_available);
            mp.leader_epoch = 0;
            mp.replica_nodes = {0};
            mp.isr_nodes = {0};
            rt.partitions.push_back(mp);
          }
        }
        proto::encode(w, resp, version);
      } else if (key == proto::InitProducerIdRequest::api_key) {
        proto::InitProducerIdRequest init;
        REQUIRE_FALSE(proto::decode(r, init, version));
        ++init_requests;
        if (produce_requests == 0) ++init_before_first_produce;
        CHECK_FALSE(init.transactional_id);
        proto::InitProducerIdResponse resp;
        resp.producer_id = init_error ? -1 : 1000 + init_requests - 1;
        resp.producer_epoch = init_error ? -1 : 0;
        resp.error_code = init_error;
        proto::encode(w, resp, version);
      } else if (key == proto::ProduceRequest::api_key) {
        proto::ProduceRequest p;
        REQUIRE_FALSE(proto::decode(r, p, version));
        const int number = ++produce_requests;
        if (lose_state_before.count(number)) state.clear();
        proto::ProduceResponse resp;
        for (const auto& t : p.topic_data) {
          auto& rt = resp.responses.emplace_back();
          rt.name = t.name;
          for (const auto& pd : t.partition_data) {
            auto& pr = rt.partition_responses.emplace_back();
            pr.index = pd.index;
            proto::RecordBatchReader reader(pd.records.bytes.value_or(proto::Bytes{}));
            while (reader.next_batch()) {
              const proto::BatchHeader hdr = reader.batch();
              std::vector<std::string> values;
              proto::RecordView rec;
              while (reader.next_record(rec))
                values.emplace_back(reinterpret_cast<const char*>(rec.value->data()), rec.value->size());
              pr.error_code = append(pd.index, hdr, std::move(values));
              batches.push_back({pd.index, hdr.producer_id, hdr.producer_epoch, hdr.base_sequence,
                                 hdr.records_count, pr.error_code});
            }
          }
        }
        if (p.acks == 0) continue;
        if (lose_answer_of.count(number)) {
          // Written, never answered: this connection hangs until the client gives up on it.
          for (;;) {
            auto [e3, n3] = co_await asio::async_read(*sock, asio::buffer(size_bytes), nothrow);
            if (e3) co_return;
          }
        }
        proto::encode(w, resp, version);
        if (hold_answers) {
          w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
          held.push_back(w.buffer());
          max_unanswered = std::max(max_unanswered, held.size());
          asio::steady_timer pause(io);
          for (int waited = 0; waited < 100 && sock->available() < 4; ++waited) {
            pause.expires_after(1ms);
            co_await pause.async_wait(nothrow);
          }
          if (sock->available() >= 4) continue;  // another request is here: read it before answering
          for (const auto& answer : held) {
            auto [e4, n4] = co_await asio::async_write(*sock, asio::buffer(answer), nothrow);
            if (e4) co_return;
          }
          held.clear();
          continue;
        }
      } else {
        FAIL("unexpected API key " << key);
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      auto [e3, n3] = co_await asio::async_write(*sock, asio::buffer(w.buffer()), nothrow);
      if (e3) co_return;
    }
  }
};

template <class F>
bool run_while_not(asio::io_context& io, F done, std::chrono::milliseconds bound) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(5ms);
  }
  return done();
}

// Sends n records "0".."n-1" to partition i % partitions, one every `gap`; counts results and errors.
struct Sent {
  int delivered = 0;
  std::error_code first_error;
};
void send_spaced(asio::io_context& io, Producer& prod, int n, int32_t partitions,
                 std::chrono::milliseconds gap, Sent& sent) {
  for (int i = 0; i < n; ++i) {
    prod.async_send(ProducerRecord{.topic = "t", .partition = i % partitions, .value = std::to_string(i)},
                    [&sent](std::error_code ec, RecordMetadata) {
                      ++sent.delivered;
                      if (ec && !sent.first_error) sent.first_error = ec;
                    });
    run_while_not(
        io, [] { return false; }, gap);
  }
}

// The values partition p should hold: every record sent to it once, in send order.
std::vector<std::string> expected(int n, int32_t partitions, int32_t p) {
  std::vector<std::string> v;
  for (int i = p; i < n; i += partitions) v.push_back(std::to_string(i));
  return v;
}

}  // namespace

TEST_CASE("idempotent producer: InitProducerId first, then batches numbered per partition",
          "[producer][idempotence]") {
  asio::io_context io;
  IdempotentFake k(io, 2);
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()}, {"linger.ms", "0"}}));
  constexpr int n = 20;
  Sent sent;
  send_spaced(io, prod, n, 2, 5ms, sent);
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == n; }, 10000ms));
  CHECK_FALSE(sent.first_error);
  CHECK(k.init_requests == 1);
  CHECK(k.init_before_first_produce == 1);
  std::map<int32_t, int32_t> next;
  for (const auto& b : k.batches) {
    CHECK(b.producer_id == 1000);
    CHECK(b.epoch == 0);
    CHECK(b.base_sequence == next[b.partition]);
    next[b.partition] += b.records;
  }
  for (int32_t p = 0; p < 2; ++p) CHECK(k.logs[p] == expected(n, 2, p));
  k.stop();
}

TEST_CASE("idempotent producer: a lost Produce answer is retried and the broker keeps each record once",
          "[producer][idempotence]") {
  // The broker writes request 3 (and whatever the client pipelined behind it) and never answers: after
  // request.timeout.ms the client closes the connection and sends them again. Idempotent, the resent
  // batches carry their old sequence numbers and the broker drops them as duplicates; not idempotent,
  // they are written twice (which shows the test can fail).
  const bool idempotent = GENERATE(true, false);
  INFO("enable.idempotence=" << idempotent);
  asio::io_context io;
  IdempotentFake k(io, 2);
  k.lose_answer_of = {3};
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"linger.ms", "0"},
                                           {"request.timeout.ms", "300"},
                                           {"retry.backoff.ms", "20"},
                                           {"enable.idempotence", idempotent ? "true" : "false"}}));
  constexpr int n = 30;
  Sent sent;
  send_spaced(io, prod, n, 2, 5ms, sent);
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == n; }, 20000ms));
  CHECK_FALSE(sent.first_error);
  if (idempotent) {
    CHECK(k.written() == n);
    for (int32_t p = 0; p < 2; ++p) CHECK(k.logs[p] == expected(n, 2, p));
    const bool dropped_a_duplicate = std::any_of(k.batches.begin(), k.batches.end(), [](const auto& b) {
      return b.error_code == wire(kafka_errc::duplicate_sequence_number);
    });
    CHECK(dropped_a_duplicate);
  } else {
    CHECK(k.written() > n);
  }
  k.stop();
}

TEST_CASE(
    "idempotent producer: OUT_OF_ORDER_SEQUENCE_NUMBER after the broker lost the producer's state "
    "bumps the epoch; each record once, in order",
    "[producer][idempotence]") {
  asio::io_context io;
  IdempotentFake k(io, 2);
  k.lose_state_before = {5};  // as if retention had removed everything the producer wrote so far
  k.start();
  Producer prod(
      io.get_executor(),
      Config({{"bootstrap.servers", k.bootstrap()}, {"linger.ms", "0"}, {"retry.backoff.ms", "20"}}));
  constexpr int n = 24;
  Sent sent;
  send_spaced(io, prod, n, 2, 5ms, sent);
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == n; }, 10000ms));
  CHECK_FALSE(sent.first_error);
  const bool refused = std::any_of(k.batches.begin(), k.batches.end(), [](const auto& b) {
    return b.error_code == wire(kafka_errc::out_of_order_sequence_number);
  });
  CHECK(refused);
  // Later batches came under a new epoch, numbered from 0 again; nothing was lost or written twice.
  CHECK(k.batches.back().epoch >= 1);
  CHECK(k.init_requests == 1);  // an idempotent producer bumps its own epoch
  CHECK(k.written() == n);
  for (int32_t p = 0; p < 2; ++p) CHECK(k.logs[p] == expected(n, 2, p));
  k.stop();
}

TEST_CASE("idempotent producer: acks=1 left to Java's rule turns idempotence off; asked for, it is refused",
          "[producer][idempotence]") {
  asio::io_context io;
  IdempotentFake k(io, 1);
  k.start();
  Producer prod(io.get_executor(),
                Config({{"bootstrap.servers", k.bootstrap()}, {"linger.ms", "0"}, {"acks", "1"}}));
  Sent sent;
  send_spaced(io, prod, 3, 1, 5ms, sent);
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == 3; }, 10000ms));
  CHECK(k.init_requests == 0);
  for (const auto& b : k.batches) CHECK(b.producer_id == -1);
  CHECK_THROWS_AS(
      Config({{"bootstrap.servers", k.bootstrap()}, {"acks", "1"}, {"enable.idempotence", "true"}}),
      ConfigError);
  k.stop();
}

TEST_CASE("producer: records that wait for a producer id or a leader fail at delivery.timeout.ms, saying why",
          "[producer][idempotence]") {
  // Before, they waited for good: a retriable InitProducerId error, or a partition without a leader,
  // left async_send without a result and flush() hanging.
  for (const bool leaderless : {false, true}) {
    DYNAMIC_SECTION((leaderless ? "no leader" : "no producer id")) {
      asio::io_context io;
      IdempotentFake k(io, 1);
      if (leaderless)
        k.leaderless = true;
      else
        k.init_error = wire(kafka_errc::coordinator_load_in_progress);  // retriable: asked again and again
      k.start();
      Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                               {"delivery.timeout.ms", "400"},
                                               {"retry.backoff.ms", "20"}}));
      Sent sent;
      const auto start = std::chrono::steady_clock::now();
      send_spaced(io, prod, 3, 1, 1ms, sent);
      REQUIRE(run_while_not(
          io, [&] { return sent.delivered == 3; }, 5000ms));
      const auto took = std::chrono::steady_clock::now() - start;
      CHECK(sent.first_error == client_errc::timeout);
      CHECK(took >= 400ms);
      CHECK(took < 3000ms);
      INFO(prod.error_text());
      CHECK(prod.error_text().find(leaderless ? "no leader for t-0" : "no producer id") != std::string::npos);
      CHECK(prod.error_text().find("delivery.timeout.ms") != std::string::npos);
      CHECK(k.produce_requests == 0);
      if (!leaderless) CHECK(k.init_requests > 1);
      k.stop();
    }
  }
}

TEST_CASE("producer: records routed to a partition without a leader go once the metadata names one",
          "[producer][idempotence]") {
  // A partition whose leader is being elected (LEADER_NOT_AVAILABLE, leader -1) takes records into its
  // queue; the sender must ask the metadata again (every retry.backoff.ms) rather than wait for something
  // else to refresh it, or those records would sit until delivery.timeout.ms and fail.
  asio::io_context io;
  IdempotentFake k(io, 2);
  k.leaderless_answers = 2;
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"delivery.timeout.ms", "20000"},
                                           {"retry.backoff.ms", "20"}}));
  Sent sent;
  const auto start = std::chrono::steady_clock::now();
  send_spaced(io, prod, 10, 2, 1ms, sent);
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == 10; }, 10000ms));
  INFO(prod.error_text());
  CHECK_FALSE(sent.first_error);
  CHECK(std::chrono::steady_clock::now() - start < 5000ms);
  CHECK(k.metadata_requests > 2);
  CHECK(k.written() == 10);
  k.stop();
}

TEST_CASE("producer: a backlog of full batches keeps max.in.flight.requests.per.connection requests out",
          "[producer][idempotence]") {
  // A request takes one batch of a partition. Every record here is sent before the producer has any
  // metadata, so ~20 full batches wait for one partition when the first request can go. The broker must
  // then get the next request while it handles one: before, the sender sent one request per wake-up and
  // was woken by its answer, so a producer whose backlog formed before its first request kept exactly one
  // request out for good (and its broker idle between an answer and the next request).
  const bool idempotent = GENERATE(true, false);
  INFO("enable.idempotence=" << idempotent);
  asio::io_context io;
  IdempotentFake k(io, 1);
  k.hold_answers = true;
  k.start();
  Producer prod(io.get_executor(), Config({{"bootstrap.servers", k.bootstrap()},
                                           {"batch.size", "256"},
                                           {"enable.idempotence", idempotent ? "true" : "false"}}));
  constexpr int n = 400;
  Sent sent;
  for (int i = 0; i < n; ++i)
    prod.async_send(ProducerRecord{.topic = "t", .partition = 0, .value = std::to_string(i)},
                    [&sent](std::error_code ec, RecordMetadata) {
                      ++sent.delivered;
                      if (ec && !sent.first_error) sent.first_error = ec;
                    });
  REQUIRE(run_while_not(
      io, [&] { return sent.delivered == n; }, 20000ms));
  CHECK_FALSE(sent.first_error);
  CHECK(k.produce_requests >= 15);
  CHECK(k.max_unanswered == 5);  // the default max.in.flight.requests.per.connection, and never more
  CHECK(k.logs[0] == expected(n, 1, 0));
  k.stop();
}
