// How the Consumer recovers from what franz-go's kfake showed under chaos, against scripted brokers on
// loopback (a real broker cannot be made to answer FENCED_LEADER_EPOCH on demand, or to move its group
// coordinator between two requests):
//   - a permanent OffsetFetch error (GROUP_ID_NOT_FOUND) ends poll with an error naming the group, where
//     it was retried forever; a retriable one is retried within the poll's time;
//   - a partition answered FENCED_LEADER_EPOCH waits for new metadata and its broker is not asked again
//     in a tight loop; metadata with the new epoch lets it fetch again;
//   - close commits through a coordinator that moved, and ends by its deadline when none answers.
//
// The fake cluster: one topic "t" with one partition (5 records at offsets 0-4, leader broker 0), brokers
// on their own ports, non-flexible versions only so the fake stays small.
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
#include <functional>
#include <memory>

#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/fetch.hpp"
#include "kafkawire/protocol/find_coordinator.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/heartbeat.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/leave_group.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "kafkawire/protocol/offset_commit.hpp"
#include "kafkawire/protocol/offset_fetch.hpp"
#include "kafkawire/protocol/record_batch.hpp"
#include "kafkawire/protocol/sync_group.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
using kafkawire::testing::run_until;
namespace proto = kafkawire::protocol;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

struct FakeCluster;

struct FakeBroker {
  FakeBroker(FakeCluster& cluster, int32_t node);
  FakeCluster& cluster;
  int32_t node;
  tcp::acceptor acceptor;
  std::vector<std::shared_ptr<tcp::socket>> sockets;
  std::map<int32_t, std::pair<int64_t, int32_t>> session;  // partition -> (fetch offset, leader epoch)

  uint16_t port() const { return acceptor.local_endpoint().port(); }
  asio::awaitable<void> accept();
  asio::awaitable<void> serve(std::shared_ptr<tcp::socket> sock);
  void answer(int16_t key, int16_t version, proto::Reader& r, proto::Writer& w, bool& hold);
};

struct FakeCluster {
  explicit FakeCluster(asio::io_context& io, int brokers = 1) : io(io) {
    proto::BatchOptions o;
    proto::RecordBatchBuilder b(o);
    for (int64_t off = 0; off < 5; ++off)
      b.add(1700000000000 + off, std::nullopt, proto::Bytes(std::string_view("v")));
    batch = b.build();
    for (int32_t n = 0; n < brokers; ++n) this->brokers.push_back(std::make_unique<FakeBroker>(*this, n));
    for (auto& br : this->brokers) asio::co_spawn(io, br->accept(), asio::detached);
  }
  ~FakeCluster() {
    for (auto& b : brokers) {
      b->acceptor.close();
      for (auto& s : b->sockets) s->close();
    }
  }
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(brokers[0]->port()); }

  asio::io_context& io;
  std::vector<uint8_t> batch;  // offsets 0-4
  std::vector<std::unique_ptr<FakeBroker>> brokers;
  int32_t leader_epoch = 0;         // what Metadata says of t-0
  int32_t fenced_below = -1;        // a Fetch of t-0 at a lower epoch: FENCED_LEADER_EPOCH, at once
  int32_t coordinator = 0;          // what FindCoordinator names
  bool coordinator_silent = false;  // FindCoordinator and OffsetCommit never answered
  kafka_errc offset_fetch_error = kafka_errc::none;
  std::map<int32_t, std::deque<kafka_errc>> commit_errors;  // per broker, one per OffsetCommit
  std::function<void(int32_t node)> on_commit_error;        // after a broker answered a commit error
  std::map<int32_t, std::vector<int64_t>> committed;        // per broker: offsets it accepted for t-0
  int64_t committed_start = 0;                              // what OffsetFetch answers for t-0
  int leave_groups = 0;
  int fetches = 0, fenced_fetches = 0, metadata_requests = 0, offset_fetches = 0, find_coordinators = 0;
};

FakeBroker::FakeBroker(FakeCluster& cluster, int32_t node)
    : cluster(cluster),
      node(node),
      acceptor(cluster.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {}

asio::awaitable<void> FakeBroker::accept() {
  for (;;) {
    auto [ec, sock] = co_await acceptor.async_accept(nothrow);
    if (ec) co_return;
    auto s = std::make_shared<tcp::socket>(std::move(sock));
    sockets.push_back(s);
    asio::co_spawn(cluster.io, serve(s), asio::detached);
  }
}

asio::awaitable<void> FakeBroker::serve(std::shared_ptr<tcp::socket> sock) {
  for (;;) {
    uint8_t size_bytes[4];
    auto [e1, n1] = co_await asio::async_read(*sock, asio::buffer(size_bytes), nothrow);
    if (e1) co_return;
    std::vector<uint8_t> req(uint32_t{size_bytes[0]} << 24 | uint32_t{size_bytes[1]} << 16 |
                             uint32_t{size_bytes[2]} << 8 | size_bytes[3]);
    auto [e2, n2] = co_await asio::async_read(*sock, asio::buffer(req), nothrow);
    if (e2 || req.size() < 4) co_return;
    const int16_t key = static_cast<int16_t>(req[0] << 8 | req[1]);
    const int16_t version = static_cast<int16_t>(req[2] << 8 | req[3]);
    proto::Reader r{proto::Bytes(req)};
    proto::RequestHeader h;
    REQUIRE_FALSE(proto::decode(r, h, key == proto::kApiVersionsKey && version >= 3 ? 2 : 1));
    proto::Writer w;
    w.i32(0);
    w.i32(h.correlation_id);
    bool hold = false;  // a Fetch with nothing to answer: held for max_wait_ms, then answered empty
    int32_t max_wait = 0;
    if (key == proto::FetchRequest::api_key) {
      proto::Reader peek{proto::Bytes(req)};
      proto::RequestHeader ph;
      REQUIRE_FALSE(proto::decode(peek, ph, 1));
      proto::FetchRequest f;
      REQUIRE_FALSE(proto::decode(peek, f, version));
      max_wait = f.max_wait_ms;
    }
    if (cluster.coordinator_silent &&
        (key == proto::FindCoordinatorRequest::api_key || key == proto::OffsetCommitRequest::api_key))
      continue;  // never answered
    answer(key, version, r, w, hold);
    if (hold) {
      asio::steady_timer t(cluster.io, std::chrono::milliseconds(max_wait));
      co_await t.async_wait(nothrow);
    }
    w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
    auto [e3, n3] = co_await asio::async_write(*sock, asio::buffer(w.buffer()), nothrow);
    if (e3) co_return;
  }
}

void FakeBroker::answer(int16_t key, int16_t version, proto::Reader& r, proto::Writer& w, bool& hold) {
  if (key == proto::kApiVersionsKey) {
    proto::ApiVersionsResponse resp;
    resp.api_keys = {
        {proto::FetchRequest::api_key, 4, 11},          {proto::MetadataRequest::api_key, 1, 8},
        {proto::OffsetCommitRequest::api_key, 2, 7},    {proto::OffsetFetchRequest::api_key, 1, 5},
        {proto::FindCoordinatorRequest::api_key, 0, 2}, {proto::kApiVersionsKey, 0, 3},
        {proto::JoinGroupRequest::api_key, 0, 5},       {proto::SyncGroupRequest::api_key, 0, 3},
        {proto::HeartbeatRequest::api_key, 0, 3},       {proto::LeaveGroupRequest::api_key, 0, 3}};
    proto::encode(w, resp, std::min<int16_t>(version, 3));
  } else if (key == proto::MetadataRequest::api_key) {
    ++cluster.metadata_requests;
    proto::MetadataRequest m;
    REQUIRE_FALSE(proto::decode(r, m, version));
    proto::MetadataResponse resp;
    for (const auto& b : cluster.brokers)
      resp.brokers.push_back({b->node, "127.0.0.1", b->port(), std::nullopt});
    resp.cluster_id = "fake";
    resp.controller_id = 0;
    for (const auto& t : *m.topics) {
      auto& rt = resp.topics.emplace_back();
      rt.name = t.name;
      if (t.name != "t") {
        rt.error_code = static_cast<int16_t>(kafka_errc::unknown_topic_or_partition);
        continue;
      }
      proto::MetadataResponse::MetadataResponsePartition mp;
      mp.partition_index = 0;
      mp.leader_id = 0;
      mp.leader_epoch = cluster.leader_epoch;
      mp.replica_nodes = {0};
      mp.isr_nodes = {0};
      rt.partitions.push_back(mp);
    }
    proto::encode(w, resp, version);
  } else if (key == proto::FetchRequest::api_key) {
    ++cluster.fetches;
    proto::FetchRequest f;
    REQUIRE_FALSE(proto::decode(r, f, version));
    // KIP-227 on the broker's side: a full fetch replaces the session, an incremental one updates it.
    if (f.session_epoch <= 0) session.clear();
    for (const auto& t : f.forgotten_topics_data)
      for (int32_t p : t.partitions) session.erase(p);
    for (const auto& t : f.topics)
      for (const auto& p : t.partitions) session[p.partition] = {p.fetch_offset, p.current_leader_epoch};
    proto::FetchResponse resp;
    resp.session_id = 7;
    bool fenced = false;
    for (const auto& [p, at] : session) {
      proto::FetchResponse::PartitionData pd;
      pd.partition_index = p;
      pd.high_watermark = pd.last_stable_offset = 5;
      pd.log_start_offset = 0;
      if (at.second < cluster.fenced_below) {
        pd.error_code = static_cast<int16_t>(kafka_errc::fenced_leader_epoch);
        fenced = true;
      } else if (at.first < 5) {
        pd.records.bytes = proto::Bytes(cluster.batch.data(), cluster.batch.size());
      } else {
        continue;
      }
      if (resp.responses.empty()) resp.responses.emplace_back().topic = "t";
      resp.responses.front().partitions.push_back(pd);
    }
    if (fenced) ++cluster.fenced_fetches;
    hold = resp.responses.empty();
    proto::encode(w, resp, version);
  } else if (key == proto::FindCoordinatorRequest::api_key) {
    ++cluster.find_coordinators;
    proto::FindCoordinatorResponse resp;
    const auto& c = *cluster.brokers[static_cast<size_t>(cluster.coordinator)];
    resp.node_id = c.node;
    resp.host = "127.0.0.1";
    resp.port = c.port();
    proto::encode(w, resp, version);
  } else if (key == proto::OffsetFetchRequest::api_key) {
    ++cluster.offset_fetches;
    proto::OffsetFetchRequest q;
    REQUIRE_FALSE(proto::decode(r, q, version));
    proto::OffsetFetchResponse resp;
    resp.error_code = static_cast<int16_t>(cluster.offset_fetch_error);
    if (cluster.offset_fetch_error == kafka_errc::none)
      for (const auto& t : *q.topics) {
        auto& rt = resp.topics.emplace_back();
        rt.name = t.name;
        for (int32_t p : t.partition_indexes)
          rt.partitions.push_back({p, cluster.committed_start, -1, std::string(), 0});
      }
    proto::encode(w, resp, version);
  } else if (key == proto::OffsetCommitRequest::api_key) {
    proto::OffsetCommitRequest c;
    REQUIRE_FALSE(proto::decode(r, c, version));
    kafka_errc error = kafka_errc::none;
    if (auto& errors = cluster.commit_errors[node]; !errors.empty()) {
      error = errors.front();
      errors.pop_front();
    }
    proto::OffsetCommitResponse resp;
    for (const auto& t : c.topics) {
      auto& rt = resp.topics.emplace_back();
      rt.name = t.name;
      for (const auto& p : t.partitions) {
        rt.partitions.push_back({p.partition_index, static_cast<int16_t>(error)});
        if (error == kafka_errc::none) cluster.committed[node].push_back(p.committed_offset);
      }
    }
    proto::encode(w, resp, version);
    if (error != kafka_errc::none && cluster.on_commit_error) cluster.on_commit_error(node);
  } else if (key == proto::JoinGroupRequest::api_key) {
    // This member follows; the leader is another member, and the assignment comes with SyncGroup.
    proto::JoinGroupRequest j;
    REQUIRE_FALSE(proto::decode(r, j, version));
    REQUIRE_FALSE(j.protocols.empty());
    proto::JoinGroupResponse resp;
    resp.generation_id = 1;
    resp.protocol_name = j.protocols.front().name;
    resp.leader = "leader-elsewhere";
    resp.member_id = j.member_id.empty() ? "m1" : j.member_id;
    proto::encode(w, resp, version);
  } else if (key == proto::SyncGroupRequest::api_key) {
    proto::ConsumerProtocolAssignment a;
    a.assigned_partitions.push_back({"t", {0}});
    const std::vector<uint8_t> bytes = proto::encode_versioned(a, 1);
    proto::SyncGroupResponse resp;
    resp.assignment = proto::Bytes(bytes.data(), bytes.size());
    proto::encode(w, resp, version);
  } else if (key == proto::HeartbeatRequest::api_key) {
    proto::encode(w, proto::HeartbeatResponse{}, version);
  } else if (key == proto::LeaveGroupRequest::api_key) {
    ++cluster.leave_groups;
    proto::encode(w, proto::LeaveGroupResponse{}, version);
  } else {
    FAIL("unexpected API key " << key);
  }
}

Config consumer_config(const FakeCluster& k, std::map<std::string, std::string> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", k.bootstrap()},
                                        {"enable.auto.commit", "false"},
                                        {"fetch.max.wait.ms", "100"},
                                        {"retry.backoff.ms", "100"},
                                        {"default.api.timeout.ms", "60000"}};
  for (auto& [key, v] : extra) kv[key] = v;
  return Config(kv);
}

}  // namespace

TEST_CASE("consumer recovery: a permanent OffsetFetch error ends poll, named; a retriable one is retried",
          "[consumer_recovery]") {
  asio::io_context io;
  FakeCluster kafka(io);
  // kfake answers OffsetFetch for a group it does not know with GROUP_ID_NOT_FOUND. Java's consumer
  // (ConsumerCoordinator's OffsetFetch handler) raises any error other than COORDINATOR_LOAD_IN_PROGRESS,
  // NOT_COORDINATOR and GROUP_AUTHORIZATION_FAILED as a KafkaException from poll: so does this one.
  kafka.offset_fetch_error = kafka_errc::group_id_not_found;
  Consumer c(io.get_executor(),
             consumer_config(kafka, {{"group.id", "g1"}, {"auto.offset.reset", "earliest"}}));
  c.assign({{"t", 0}});
  const auto start = clock_type::now();
  auto f = c.async_poll(5000ms, asio::use_future);
  auto [ec, records] = run_until(io, f, 10s);
  CHECK(ec == kafka_errc::group_id_not_found);
  CHECK(clock_type::now() - start < 2s);  // at once, not at the poll's end
  CHECK(c.error_text().find("g1") != std::string::npos);
  CHECK(c.error_text().find("GROUP_ID_NOT_FOUND") != std::string::npos);

  // A coordinator still loading: retried within the poll's time, no error; the next poll gets through.
  kafka.offset_fetch_error = kafka_errc::coordinator_load_in_progress;
  const int asked = kafka.offset_fetches;
  const auto again = clock_type::now();
  auto f2 = c.async_poll(400ms, asio::use_future);
  auto [ec2, records2] = run_until(io, f2, 10s);
  CHECK_FALSE(ec2);
  CHECK(records2.empty());
  CHECK(clock_type::now() - again < 2s);  // the poll's 400 ms, not default.api.timeout.ms
  CHECK(kafka.offset_fetches > asked + 1);
  kafka.offset_fetch_error = kafka_errc::none;
  size_t got = 0;
  for (int i = 0; i < 20 && got < 5; ++i) {
    auto f3 = c.async_poll(500ms, asio::use_future);
    auto [ec3, records3] = run_until(io, f3, 10s);
    REQUIRE_FALSE(ec3);
    got += records3.size();
  }
  CHECK(got == 5);
}

TEST_CASE("consumer recovery: FENCED_LEADER_EPOCH waits for new metadata, no tight Fetch loop",
          "[consumer_recovery]") {
  asio::io_context io;
  FakeCluster kafka(io);
  kafka.fenced_below = 1;  // the leader is at epoch 1; the metadata still says 0
  Consumer c(io.get_executor(), consumer_config(kafka));
  c.assign({{"t", 0}});
  c.seek({"t", 0}, 0);
  const auto window_end = clock_type::now() + 1s;
  while (clock_type::now() < window_end) {
    auto f = c.async_poll(200ms, asio::use_future);
    auto [ec, records] = run_until(io, f, 5s);
    REQUIRE_FALSE(ec);
    CHECK(records.empty());
  }
  // One Fetch per retry.backoff.ms (100 ms) and metadata refresh at most: about 10 in the second, where
  // the old code sent thousands.
  INFO("fetches " << kafka.fetches << ", fenced " << kafka.fenced_fetches << ", metadata "
                  << kafka.metadata_requests);
  CHECK(kafka.fenced_fetches >= 2);
  CHECK(kafka.fetches <= 20);
  CHECK(kafka.metadata_requests <= 25);

  kafka.leader_epoch = 1;  // the next metadata names the new epoch: fetching resumes
  size_t got = 0;
  for (int i = 0; i < 20 && got < 5; ++i) {
    auto f = c.async_poll(500ms, asio::use_future);
    auto [ec, records] = run_until(io, f, 5s);
    REQUIRE_FALSE(ec);
    got += records.size();
  }
  CHECK(got == 5);
}

TEST_CASE("consumer recovery: close commits through a coordinator that moved", "[consumer_recovery]") {
  asio::io_context io;
  FakeCluster kafka(io, 2);
  kafka.commit_errors[0] = {kafka_errc::not_coordinator, kafka_errc::not_coordinator,
                            kafka_errc::not_coordinator};
  kafka.on_commit_error = [&](int32_t) { kafka.coordinator = 1; };  // the group moved to broker 1
  Consumer c(io.get_executor(), consumer_config(kafka, {{"group.id", "g1"}, {"enable.auto.commit", "true"}}));
  c.assign({{"t", 0}});
  c.seek({"t", 0}, 0);
  size_t got = 0;
  for (int i = 0; i < 20 && got < 5; ++i) {
    auto f = c.async_poll(500ms, asio::use_future);
    auto [ec, records] = run_until(io, f, 5s);
    REQUIRE_FALSE(ec);
    got += records.size();
  }
  REQUIRE(got == 5);
  const auto start = clock_type::now();
  auto f = c.async_close(asio::use_future);
  const std::error_code ec = run_until(io, f, 40s);
  INFO(c.error_text());
  CHECK_FALSE(ec);
  CHECK(clock_type::now() - start < 3s);
  CHECK(kafka.committed[1] == std::vector<int64_t>{5});
  CHECK(kafka.find_coordinators >= 2);
}

TEST_CASE("consumer recovery: a group member's close commits through a coordinator that moved, then leaves",
          "[consumer_recovery]") {
  // Seen against kfake with RehashCoordinators: the closing OffsetCommit answered NOT_COORDINATOR twice,
  // then nothing, and async_close() ran past 30 s.
  asio::io_context io;
  FakeCluster kafka(io, 2);
  kafka.commit_errors[0] = {kafka_errc::not_coordinator, kafka_errc::not_coordinator,
                            kafka_errc::not_coordinator};
  kafka.on_commit_error = [&](int32_t) { kafka.coordinator = 1; };
  Consumer c(io.get_executor(), consumer_config(kafka, {{"group.id", "g1"}, {"enable.auto.commit", "true"}}));
  c.subscribe(std::vector<std::string>{"t"});
  size_t got = 0;
  for (int i = 0; i < 40 && got < 5; ++i) {
    auto f = c.async_poll(250ms, asio::use_future);
    auto [ec, records] = run_until(io, f, 5s);
    REQUIRE_FALSE(ec);
    got += records.size();
  }
  REQUIRE(got == 5);
  REQUIRE(c.membership()->state() == group::State::stable);
  const auto start = clock_type::now();
  auto f = c.async_close(asio::use_future);
  const std::error_code ec = run_until(io, f, 40s);
  INFO(c.error_text());
  CHECK_FALSE(ec);
  CHECK(clock_type::now() - start < 3s);
  CHECK(kafka.committed[1] == std::vector<int64_t>{5});
  CHECK(kafka.leave_groups == 1);
}

TEST_CASE("consumer recovery: without auto-commit and without a listener, a revocation commits nothing",
          "[consumer_recovery]") {
  // As Java's: with enable.auto.commit=false only the application commits. A commit on revocation behind
  // its back would commit offsets that belong in a transaction, or past records it has not processed.
  asio::io_context io;
  FakeCluster kafka(io, 2);
  kafka.commit_errors[0].assign(3, kafka_errc::not_coordinator);  // consumed only if a commit is sent
  Consumer c(io.get_executor(), consumer_config(kafka, {{"group.id", "g1"}}));
  c.subscribe(std::vector<std::string>{"t"});
  size_t got = 0;
  for (int i = 0; i < 40 && got < 5; ++i) {
    auto f = c.async_poll(250ms, asio::use_future);
    auto [ec, records] = run_until(io, f, 5s);
    REQUIRE_FALSE(ec);
    got += records.size();
  }
  REQUIRE(got == 5);
  auto f = c.async_close(asio::use_future);
  const std::error_code ec = run_until(io, f, 40s);
  INFO(c.error_text());
  CHECK_FALSE(ec);
  CHECK(kafka.commit_errors[0].size() == 3);  // no OffsetCommit reached the coordinator
  CHECK(kafka.committed[0].empty());
  CHECK(kafka.committed[1].empty());
  CHECK(kafka.leave_groups == 1);  // the revocation and the leave still happened
}

TEST_CASE("consumer recovery: close ends by its deadline when no coordinator answers",
          "[consumer_recovery]") {
  asio::io_context io;
  FakeCluster kafka(io);
  Consumer c(io.get_executor(), consumer_config(kafka, {{"group.id", "g1"}, {"enable.auto.commit", "true"}}));
  c.assign({{"t", 0}});
  c.seek({"t", 0}, 0);
  auto fp = c.async_poll(1000ms, asio::use_future);
  auto [pec, records] = run_until(io, fp, 5s);
  REQUIRE_FALSE(pec);
  REQUIRE_FALSE(records.empty());
  kafka.coordinator_silent = true;
  const auto start = clock_type::now();
  auto f = c.async_close(500ms, asio::use_future);
  const std::error_code ec = run_until(io, f, 40s);
  const auto took = clock_type::now() - start;
  CHECK(ec == client_errc::timeout);
  CHECK(took >= 450ms);
  CHECK(took < 2s);  // not default.api.timeout.ms (60 s), not request.timeout.ms (30 s)
  CHECK(c.error_text().find("g1") != std::string::npos);
}
