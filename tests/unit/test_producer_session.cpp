// The producer's idempotence state machine (consumer/producer_session.hpp), driven by scripted answers:
// no sockets, no clocks. A small model of the broker's per-partition producer state (the rules of Kafka's
// ProducerStateManager that matter here) plays the broker, so the tests check what ends up in the log.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <map>
#include <random>

#include "kafkawire/consumer/producer_session.hpp"
#include "kafkawire/protocol/error.hpp"

using namespace kafkawire;
using Verdict = ProducerSession::Verdict;
using Outcome = ProducerSession::Outcome;

namespace {

constexpr int16_t wire(kafka_errc e) { return static_cast<int16_t>(e); }

const TopicPartition tp0{"orders", 0};
const TopicPartition tp1{"orders", 1};

ProducerSession ready_session(int64_t id = 7, int16_t epoch = 0) {
  ProducerSession s({.idempotent = true, .max_in_flight = 5});
  REQUIRE(s.init_request());
  protocol::InitProducerIdResponse r;
  r.producer_id = id;
  r.producer_epoch = epoch;
  s.on_init_response({}, r);
  REQUIRE(s.state() == ProducerSession::State::ready);
  return s;
}

// One partition's log and its producer state, as the broker keeps them: the epoch, the last sequence
// written, and the last 5 batches (what makes a resent batch recognisable as a duplicate).
struct BrokerPartition {
  int64_t producer_id = -1;
  int16_t epoch = -1;
  int32_t last_sequence = -1;
  std::deque<std::pair<int32_t, int32_t>> recent;  // first and last sequence of the last 5 batches
  std::vector<int> log;                            // record numbers, in log order

  int16_t append(const BatchStamp& s, const std::vector<int>& records) {
    const int32_t last = s.base_sequence + static_cast<int32_t>(records.size()) - 1;
    if (s.producer_id == producer_id && s.producer_epoch < epoch)
      return wire(kafka_errc::invalid_producer_epoch);
    if (s.producer_id != producer_id || s.producer_epoch > epoch) {
      // A new producer id or a new epoch starts at sequence 0.
      if (s.base_sequence != 0) return wire(kafka_errc::out_of_order_sequence_number);
      producer_id = s.producer_id;
      epoch = s.producer_epoch;
      recent.clear();
    } else {
      for (const auto& [f, l] : recent)
        if (f == s.base_sequence && l == last) return wire(kafka_errc::duplicate_sequence_number);
      if (s.base_sequence != last_sequence + 1) return wire(kafka_errc::out_of_order_sequence_number);
    }
    last_sequence = last;
    recent.emplace_back(s.base_sequence, last);
    if (recent.size() > 5) recent.pop_front();
    log.insert(log.end(), records.begin(), records.end());
    return 0;
  }
};

std::vector<int> numbers(int from, int count) {
  std::vector<int> v;
  for (int i = 0; i < count; ++i) v.push_back(from + i);
  return v;
}

}  // namespace

TEST_CASE("producer session: no batch before the producer id; sequences count records per partition",
          "[producer_session]") {
  ProducerSession s({.idempotent = true, .max_in_flight = 5});
  CHECK(s.state() == ProducerSession::State::uninitialized);
  CHECK_FALSE(s.may_start(tp0));
  CHECK_FALSE(s.start(tp0, 3));
  auto req = s.init_request();
  REQUIRE(req);
  CHECK_FALSE(req->transactional_id);
  CHECK(req->producer_id == -1);
  CHECK_FALSE(s.init_request());  // one at a time
  // No answer: asked again.
  s.on_init_response(client_errc::timeout, {});
  REQUIRE(s.init_request());
  // A retriable error: asked again; then the id.
  protocol::InitProducerIdResponse r;
  r.error_code = wire(kafka_errc::coordinator_load_in_progress);
  s.on_init_response({}, r);
  CHECK(s.state() == ProducerSession::State::uninitialized);
  REQUIRE(s.init_request());
  r = {};
  r.producer_id = 4000;
  r.producer_epoch = 2;
  s.on_init_response({}, r);
  REQUIRE(s.state() == ProducerSession::State::ready);

  auto a = s.start(tp0, 3);
  auto b = s.start(tp0, 10);
  auto c = s.start(tp1, 4);
  REQUIRE((a && b && c));
  CHECK(a->stamp == BatchStamp{4000, 2, 0});
  CHECK(b->stamp == BatchStamp{4000, 2, 3});
  CHECK(c->stamp == BatchStamp{4000, 2, 0});
  CHECK(s.on_result(tp0, a->id, a->stamp, {}) == Verdict::done);
  auto d = s.start(tp0, 1);
  REQUIRE(d);
  CHECK(d->stamp.base_sequence == 13);
}

TEST_CASE("producer session: a non-retriable InitProducerId error is fatal, and so is PRODUCER_FENCED",
          "[producer_session]") {
  ProducerSession s({.idempotent = true, .max_in_flight = 5});
  REQUIRE(s.init_request());
  protocol::InitProducerIdResponse r;
  r.error_code = wire(kafka_errc::cluster_authorization_failed);
  s.on_init_response({}, r);
  CHECK(s.state() == ProducerSession::State::fatal);
  CHECK(s.fatal_error() == kafka_errc::cluster_authorization_failed);
  CHECK_FALSE(s.init_request());
  CHECK_FALSE(s.start(tp0, 1));

  auto t = ready_session();
  auto a = t.start(tp0, 1);
  auto b = t.start(tp0, 1);
  REQUIRE((a && b));
  CHECK(t.on_result(tp0, a->id, a->stamp, {.error_code = wire(kafka_errc::producer_fenced)}) ==
        Verdict::fail);
  CHECK(t.state() == ProducerSession::State::fatal);
  CHECK(t.fatal_error() == kafka_errc::producer_fenced);
  // The other batch fails too, even on a retriable error.
  CHECK(t.on_result(tp0, b->id, b->stamp,
                    {.error_code = wire(kafka_errc::not_leader_or_follower), .retriable = true}) ==
        Verdict::fail);
  CHECK_FALSE(t.resend(tp0, b->id));
}

TEST_CASE("producer session: at most max_in_flight batches of a partition without a result",
          "[producer_session]") {
  auto s = ready_session();
  std::vector<ProducerSession::Started> started;
  for (int i = 0; i < 5; ++i) {
    auto b = s.start(tp0, 1);
    REQUIRE(b);
    started.push_back(*b);
  }
  CHECK_FALSE(s.may_start(tp0));
  CHECK_FALSE(s.start(tp0, 1));
  CHECK(s.may_start(tp1));  // per partition
  CHECK(s.in_flight(tp0) == 5);
  CHECK(s.on_result(tp0, started[0].id, started[0].stamp, {}) == Verdict::done);
  CHECK(s.may_start(tp0));
}

TEST_CASE("producer session: an answer lost after the write: the retry keeps its stamp and is a duplicate",
          "[producer_session]") {
  auto s = ready_session();
  BrokerPartition broker;
  auto a = s.start(tp0, 3);
  REQUIRE(a);
  CHECK(broker.append(a->stamp, numbers(0, 3)) == 0);  // written, the answer lost
  CHECK(s.on_result(tp0, a->id, a->stamp, {.answered = false, .retriable = true}) == Verdict::retry);
  auto again = s.resend(tp0, a->id);
  REQUIRE(again);
  CHECK(*again == a->stamp);
  const int16_t code = broker.append(*again, numbers(0, 3));
  CHECK(code == wire(kafka_errc::duplicate_sequence_number));
  CHECK(s.on_result(tp0, a->id, *again, {.error_code = code}) == Verdict::done);
  CHECK(broker.log == numbers(0, 3));
  // The next batch follows on.
  auto b = s.start(tp0, 2);
  REQUIRE(b);
  CHECK(broker.append(b->stamp, numbers(3, 2)) == 0);
  CHECK(broker.log == numbers(0, 5));
}

TEST_CASE("producer session: OUT_OF_ORDER_SEQUENCE_NUMBER after a later batch was acknowledged: no new epoch",
          "[producer_session]") {
  // a's answer is lost; b..e are acknowledged; a's resend is out of order. a may be in the log (written
  // first, then forgotten among the broker's last 5) or not (a broker without state for the producer takes
  // any first sequence, so b may have been written without it): the session cannot tell. A new epoch
  // would write a twice in the first case, so a is retried as it is and, once the budget is spent, fails
  // with the error (Java does the same).
  auto s = ready_session();
  auto a = s.start(tp0, 1);
  REQUIRE(a);
  std::vector<ProducerSession::Started> later;
  for (int i = 1; i <= 4; ++i) later.push_back(*s.start(tp0, 1));
  CHECK(s.on_result(tp0, a->id, a->stamp, {.answered = false, .retriable = true}) == Verdict::retry);
  for (const auto& b : later) CHECK(s.on_result(tp0, b.id, b.stamp, {}) == Verdict::done);
  const Outcome out_of_order{.error_code = wire(kafka_errc::out_of_order_sequence_number)};
  auto ra = s.resend(tp0, a->id);
  REQUIRE(ra);
  CHECK(*ra == a->stamp);
  CHECK(s.on_result(tp0, a->id, *ra, out_of_order) == Verdict::retry);
  CHECK(s.producer_epoch() == 0);
  ra = s.resend(tp0, a->id);
  REQUIRE(ra);
  CHECK(*ra == a->stamp);
  Outcome last = out_of_order;
  last.may_retry = false;
  CHECK(s.on_result(tp0, a->id, *ra, last) == Verdict::fail);
  CHECK(s.in_flight(tp0) == 0);
}

TEST_CASE("producer session: a batch waiting to be resent is not overtaken by later ones",
          "[producer_session]") {
  auto s = ready_session();
  BrokerPartition broker;
  auto a = s.start(tp0, 2);
  auto b = s.start(tp0, 2);
  REQUIRE((a && b));
  // A leader change refuses a; b, right behind it, is out of order at the broker (a is missing).
  CHECK(s.on_result(tp0, a->id, a->stamp,
                    {.error_code = wire(kafka_errc::not_leader_or_follower), .retriable = true}) ==
        Verdict::retry);
  const int16_t code = broker.append(b->stamp, numbers(2, 2));
  CHECK(code == wire(kafka_errc::out_of_order_sequence_number));
  // Not the first batch without a result: an earlier one is missing; retried as it is, no new epoch.
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = code}) == Verdict::retry);
  CHECK(s.producer_epoch() == 0);
  // No new batch, and b not before a.
  CHECK_FALSE(s.may_start(tp0));
  CHECK_FALSE(s.resend(tp0, b->id));
  auto ra = s.resend(tp0, a->id);
  REQUIRE(ra);
  CHECK(*ra == a->stamp);
  auto rb = s.resend(tp0, b->id);
  REQUIRE(rb);
  CHECK(*rb == b->stamp);
  CHECK(s.on_result(tp0, a->id, *ra, {.error_code = broker.append(*ra, numbers(0, 2))}) == Verdict::done);
  CHECK(s.on_result(tp0, b->id, *rb, {.error_code = broker.append(*rb, numbers(2, 2))}) == Verdict::done);
  CHECK(broker.log == numbers(0, 4));
  CHECK(s.may_start(tp0));
}

TEST_CASE("producer session: OUT_OF_ORDER_SEQUENCE_NUMBER on the first batch bumps the epoch and renumbers",
          "[producer_session]") {
  auto s = ready_session(7, 3);
  BrokerPartition broker;
  auto a = s.start(tp0, 2);
  auto b = s.start(tp0, 3);
  auto c = s.start(tp1, 1);
  REQUIRE((a && b && c));
  // The broker expects another sequence than the first batch without a result has: a real gap (here: the
  // broker's state says sequence 9 was the last).
  broker.producer_id = 7;
  broker.epoch = 3;
  broker.last_sequence = 9;
  const int16_t code = broker.append(a->stamp, numbers(0, 2));
  REQUIRE(code == wire(kafka_errc::out_of_order_sequence_number));
  CHECK(s.on_result(tp0, a->id, a->stamp, {.error_code = code}) == Verdict::retry);
  CHECK(s.producer_epoch() == 4);
  CHECK(s.producer_id() == 7);
  // b's attempt with the old numbers comes back out of order too: a renumbered batch, retried.
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = wire(kafka_errc::out_of_order_sequence_number)}) ==
        Verdict::retry);
  CHECK(s.producer_epoch() == 4);  // one bump, not two
  auto ra = s.resend(tp0, a->id);
  auto rb = s.resend(tp0, b->id);
  REQUIRE((ra && rb));
  CHECK(*ra == BatchStamp{7, 4, 0});
  CHECK(*rb == BatchStamp{7, 4, 2});
  CHECK(s.on_result(tp0, a->id, *ra, {.error_code = broker.append(*ra, numbers(0, 2))}) == Verdict::done);
  CHECK(s.on_result(tp0, b->id, *rb, {.error_code = broker.append(*rb, numbers(2, 3))}) == Verdict::done);
  CHECK(broker.log == numbers(0, 5));

  // tp1 finishes under epoch 3; its next batch starts at 0 under epoch 4, not before.
  CHECK_FALSE(s.may_start(tp1));
  CHECK(s.on_result(tp1, c->id, c->stamp, {}) == Verdict::done);
  auto d = s.start(tp1, 1);
  REQUIRE(d);
  CHECK(d->stamp == BatchStamp{7, 4, 0});
}

TEST_CASE("producer session: UNKNOWN_PRODUCER_ID bumps the epoch; the batch is written once under it",
          "[producer_session]") {
  auto s = ready_session(7, 0);
  BrokerPartition broker;
  auto a = s.start(tp0, 2);
  REQUIRE(a);
  CHECK(s.on_result(tp0, a->id, a->stamp, {}) == Verdict::done);
  broker.append(a->stamp, numbers(0, 2));
  auto b = s.start(tp0, 2);
  REQUIRE(b);
  CHECK(b->stamp.base_sequence == 2);
  // Retention deleted the producer's records and its state with them.
  broker = {};
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = wire(kafka_errc::unknown_producer_id)}) ==
        Verdict::retry);
  CHECK(s.producer_epoch() == 1);
  auto rb = s.resend(tp0, b->id);
  REQUIRE(rb);
  CHECK(*rb == BatchStamp{7, 1, 0});
  CHECK(s.on_result(tp0, b->id, *rb, {.error_code = broker.append(*rb, numbers(2, 2))}) == Verdict::done);
  CHECK(broker.log == numbers(2, 2));
}

TEST_CASE("producer session: INVALID_PRODUCER_EPOCH asks for a new producer id, then renumbers",
          "[producer_session]") {
  auto s = ready_session(7, 5);
  auto a = s.start(tp0, 2);
  auto b = s.start(tp0, 1);
  REQUIRE((a && b));
  CHECK(s.on_result(tp0, a->id, a->stamp, {.error_code = wire(kafka_errc::invalid_producer_epoch)}) ==
        Verdict::retry);
  CHECK(s.state() == ProducerSession::State::uninitialized);
  CHECK_FALSE(s.resend(tp0, a->id));  // not before the new id
  CHECK_FALSE(s.may_start(tp1));
  auto req = s.init_request();
  REQUIRE(req);
  CHECK(req->producer_id == -1);
  protocol::InitProducerIdResponse r;
  r.producer_id = 8;
  r.producer_epoch = 0;
  s.on_init_response({}, r);
  REQUIRE(s.state() == ProducerSession::State::ready);
  // b's attempt under the old id: renumbered meanwhile, so retried without another reset.
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = wire(kafka_errc::invalid_producer_epoch)}) ==
        Verdict::retry);
  CHECK(s.state() == ProducerSession::State::ready);
  auto ra = s.resend(tp0, a->id);
  auto rb = s.resend(tp0, b->id);
  REQUIRE((ra && rb));
  CHECK(*ra == BatchStamp{8, 0, 0});
  CHECK(*rb == BatchStamp{8, 0, 2});
}

TEST_CASE("producer session: a refused batch fails; the later ones close its gap and are written after it",
          "[producer_session]") {
  auto s = ready_session();
  BrokerPartition broker;
  auto a = s.start(tp0, 1);
  auto b = s.start(tp0, 2);
  auto c = s.start(tp0, 3);
  REQUIRE((a && b && c));
  CHECK(s.on_result(tp0, a->id, a->stamp, {.error_code = broker.append(a->stamp, {0})}) == Verdict::done);
  // b is refused for good (not written); c, right behind it, is out of order.
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = wire(kafka_errc::invalid_record)}) == Verdict::fail);
  const int16_t code = broker.append(c->stamp, numbers(3, 3));
  REQUIRE(code == wire(kafka_errc::out_of_order_sequence_number));
  CHECK(s.on_result(tp0, c->id, c->stamp, {.error_code = code}) == Verdict::retry);
  auto rc = s.resend(tp0, c->id);
  REQUIRE(rc);
  CHECK(*rc == BatchStamp{7, 0, 1});  // b's numbers
  CHECK(s.on_result(tp0, c->id, *rc, {.error_code = broker.append(*rc, numbers(3, 3))}) == Verdict::done);
  CHECK(broker.log == std::vector<int>{0, 3, 4, 5});
}

TEST_CASE("producer session: a batch that times out for good bumps the epoch of its partition",
          "[producer_session]") {
  auto s = ready_session(7, 0);
  BrokerPartition broker;
  auto a = s.start(tp0, 2);
  auto b = s.start(tp0, 2);
  REQUIRE((a && b));
  // a may or may not be written: out of time, it fails; b must not depend on a's sequence.
  CHECK(s.on_result(tp0, a->id, a->stamp, {.answered = false, .retriable = true, .may_retry = false}) ==
        Verdict::fail);
  CHECK(s.producer_epoch() == 1);
  CHECK(s.on_result(tp0, b->id, b->stamp, {.error_code = broker.append(b->stamp, numbers(2, 2))}) ==
        Verdict::retry);
  auto rb = s.resend(tp0, b->id);
  REQUIRE(rb);
  CHECK(*rb == BatchStamp{7, 1, 0});
  CHECK(s.on_result(tp0, b->id, *rb, {.error_code = broker.append(*rb, numbers(2, 2))}) == Verdict::done);
  CHECK(broker.log == numbers(2, 2));
}

TEST_CASE("producer session: not idempotent: no producer id, no limits, retry as the caller says",
          "[producer_session]") {
  ProducerSession s({.idempotent = false, .max_in_flight = 5});
  CHECK(s.state() == ProducerSession::State::ready);
  CHECK_FALSE(s.init_request());
  for (int i = 0; i < 10; ++i) CHECK(s.start(tp0, 1));
  auto a = s.start(tp0, 1);
  REQUIRE(a);
  CHECK(a->stamp == BatchStamp{});
  CHECK(s.on_result(tp0, a->id, a->stamp, {.answered = false, .retriable = true}) == Verdict::retry);
  CHECK(s.on_result(tp0, a->id, a->stamp, {.error_code = wire(kafka_errc::duplicate_sequence_number)}) ==
        Verdict::fail);
}

TEST_CASE("producer session: lost requests and answers at random: every record once, in order",
          "[producer_session]") {
  // One broker connection per partition (FIFO, as Kafka handles a connection's requests one at a time);
  // each request is dropped before the broker, or written with its answer lost (either way the connection
  // fails, and the requests behind it with it), or answered; and sometimes refused with a retriable error.
  // The producer retries until every record is written.
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    auto s = ready_session();
    std::map<int32_t, BrokerPartition> brokers;
    struct Attempt {
      ProducerSession::BatchId id;
      BatchStamp stamp;
    };
    std::map<int32_t, std::deque<Attempt>> wire_queue;  // per partition
    std::map<ProducerSession::BatchId, std::vector<int>> records;
    std::map<int32_t, std::vector<ProducerSession::BatchId>> waiting;  // to resend
    std::map<int32_t, int> next_record;
    const int per_partition = 60;
    int done = 0;
    for (int step = 0; step < 20000 && done < 2 * per_partition; ++step) {
      const int32_t part = static_cast<int32_t>(rng() % 2);
      const TopicPartition tp{"t", part};
      switch (rng() % 3) {
        case 0:  // drain a new batch
          if (next_record[part] < per_partition && s.may_start(tp)) {
            const int n = std::min(1 + static_cast<int>(rng() % 3), per_partition - next_record[part]);
            auto b = s.start(tp, n);
            REQUIRE(b);
            records[b->id] = numbers(part * 1000 + next_record[part], n);
            next_record[part] += n;
            wire_queue[part].push_back({b->id, b->stamp});
          }
          break;
        case 1:  // resend the first waiting batch of the partition, if allowed
          if (!waiting[part].empty()) {
            auto& w = waiting[part];
            for (auto it = w.begin(); it != w.end(); ++it)
              if (auto stamp = s.resend(tp, *it)) {
                wire_queue[part].push_back({*it, *stamp});
                w.erase(it);
                break;
              }
          }
          break;
        case 2:  // the broker handles the next request of the partition
          if (!wire_queue[part].empty()) {
            Attempt a = wire_queue[part].front();
            wire_queue[part].pop_front();
            Outcome o;
            const unsigned fate = rng() % 10;
            if (fate == 0) {
              o = {.answered = false, .retriable = true};  // lost on the way there
            } else if (fate == 1) {
              o = {.error_code = wire(kafka_errc::not_leader_or_follower), .retriable = true};
            } else {
              o.error_code = brokers[part].append(a.stamp, records[a.id]);
              if (fate == 2) o = {.answered = false, .retriable = true};  // written, answer lost
            }
            auto handle = [&](const Attempt& at, const Outcome& out) {
              const auto v = s.on_result(tp, at.id, at.stamp, out);
              REQUIRE(v != Verdict::fail);
              if (v == Verdict::done)
                done += static_cast<int>(records[at.id].size());
              else
                waiting[part].push_back(at.id);
            };
            handle(a, o);
            // No answer means the connection failed: what was queued behind it on the wire never arrives
            // (TCP keeps order: nothing after a lost request reaches the broker).
            if (!o.answered) {
              while (!wire_queue[part].empty()) {
                handle(wire_queue[part].front(), {.answered = false, .retriable = true});
                wire_queue[part].pop_front();
              }
            }
          }
          break;
      }
    }
    INFO("seed " << seed);
    REQUIRE(done == 2 * per_partition);
    for (int32_t part = 0; part < 2; ++part) CHECK(brokers[part].log == numbers(part * 1000, per_partition));
  }
}
