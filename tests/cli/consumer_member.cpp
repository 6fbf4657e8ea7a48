// cli_consumer_member <bootstrap> <group> <topic> <offset> <seconds>: one member of a consumer group of
// KIP-848 (group.protocol=consumer), made by hand with ConsumerGroupHeartbeat as the conformance suite
// does, for the command-line tests of `kafkawire groups` until the Consumer speaks the protocol itself.
// It joins, subscribed to <topic>, heartbeats until the broker assigns it partitions, acknowledges them,
// commits <offset> for each (OffsetCommit v9, with its member epoch; -1: commits nothing), prints
// "assigned P,P,..." and "member ID EPOCH", then goes on heartbeating. On SIGTERM or SIGINT, or after
// <seconds>, it leaves the group (epoch -1) and exits 0; any error: a message on stderr and exit 1.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <random>
#include <string>

#include "kafkawire/net/coordinator_request.hpp"
#include "kafkawire/net/pool.hpp"
#include "kafkawire/protocol/consumer_group_heartbeat.hpp"
#include "kafkawire/protocol/offset_commit.hpp"

namespace asio = boost::asio;
namespace proto = kafkawire::protocol;
using namespace kafkawire;
using namespace std::chrono_literals;

namespace {

struct Args {
  std::string group, topic;
  int64_t offset = -1;
  std::chrono::seconds lifetime{60};
};

bool stopping = false;

// A plain function: GCC 12 frees a temporary string twice when a co_await's operand builds it.
int fail(const std::string& what) {
  std::fprintf(stderr, "cli_consumer_member: %s\n", what.c_str());
  return 1;
}

asio::awaitable<int> run(std::shared_ptr<net::Pool> pool, Args a) {
  using Req = proto::ConsumerGroupHeartbeatRequest;
  // Each request goes to the group's coordinator, found again while it moves or loads (a fresh broker
  // has none until __consumer_offsets exists), for up to 30 s.
  auto budget = [] { return net::RetryBudget(std::chrono::steady_clock::now() + 30s, 200ms, 1s); };
  auto no_error = [](const auto&) { return std::error_code{}; };
  // v1 (KIP-1082): the member makes up its own id; v0: the broker hands one out.
  std::string member;
  int32_t epoch = 0;
  // A coroutine, so that its argument lives in its frame while the request is made.
  auto heartbeat = [&](std::optional<std::vector<Req::TopicPartitions>> owned)
      -> net::Pool::Result<net::Reply<proto::ConsumerGroupHeartbeatResponse>> {
    auto error_of = [](const net::Reply<proto::ConsumerGroupHeartbeatResponse>& r) {
      return make_kafka_error(r->error_code);
    };
    co_return co_await net::send_to_coordinator<Req>(
        *pool, a.group, ApiFamily::group_membership, budget(),
        [&](int16_t v) {
          Req r;
          r.group_id = a.group;
          if (epoch == 0 && member.empty() && v >= 1) {
            std::mt19937_64 rng(std::random_device{}());
            member = "cli-member-" + std::to_string(rng());
          }
          r.member_id = member;
          r.member_epoch = epoch;
          if (epoch == 0) {
            r.rebalance_timeout_ms = 30000;
            r.subscribed_topic_names = std::vector<std::string>{a.topic};
            owned.emplace();
          }
          r.topic_partitions = std::move(owned);
          return r;
        },
        error_of);
  };
  const auto deadline = std::chrono::steady_clock::now() + a.lifetime;
  std::optional<std::vector<Req::TopicPartitions>> owned, to_ack;
  bool reported = false;
  auto interval = 500ms;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!stopping && std::chrono::steady_clock::now() < deadline) {
    auto [ec, reply] = co_await heartbeat(std::exchange(to_ack, std::nullopt));
    if (ec) co_return fail("ConsumerGroupHeartbeat: " + ec.message());
    if (reply->error_code)
      co_return fail("ConsumerGroupHeartbeat: " + make_kafka_error(reply->error_code).message() +
                     (reply->error_message ? " (" + *reply->error_message + ")" : ""));
    if (reply->member_id) member = *reply->member_id;
    epoch = reply->member_epoch;
    interval =
        std::min<std::chrono::milliseconds>(500ms, std::chrono::milliseconds(reply->heartbeat_interval_ms));
    if (reply->assignment) {
      owned.emplace();
      for (const auto& tp : reply->assignment->topic_partitions)
        owned->push_back({tp.topic_id, tp.partitions});
      to_ack = owned;  // acknowledged with the next heartbeat
      reported = false;
    } else if (owned && !owned->empty() && !reported) {
      // The acknowledgement went through: commit, then say what the member owns.
      std::vector<int32_t> partitions;
      for (const auto& tp : *owned)
        partitions.insert(partitions.end(), tp.partitions.begin(), tp.partitions.end());
      std::sort(partitions.begin(), partitions.end());
      if (a.offset >= 0) {
        auto [cec, committed] = co_await net::send_to_coordinator<proto::OffsetCommitRequest>(
            *pool, a.group, ApiFamily::offset_commit, budget(),
            [&](int16_t) {
              proto::OffsetCommitRequest r;
              r.group_id = a.group;
              r.member_id = member;
              r.generation_id_or_member_epoch = epoch;
              auto& t = r.topics.emplace_back();
              t.name = a.topic;
              for (int32_t p : partitions) {
                auto& c = t.partitions.emplace_back();
                c.partition_index = p;
                c.committed_offset = a.offset;
              }
              return r;
            },
            no_error, int16_t{9});
        if (cec) co_return fail("OffsetCommit: " + cec.message());
        for (const auto& t : committed->topics)
          for (const auto& p : t.partitions)
            if (p.error_code) co_return fail("OffsetCommit: " + make_kafka_error(p.error_code).message());
      }
      std::string list;
      for (int32_t p : partitions) list += (list.empty() ? "" : ",") + std::to_string(p);
      std::printf("assigned %s\nmember %s %d\n", list.c_str(), member.c_str(), epoch);
      std::fflush(stdout);
      reported = true;
    }
    timer.expires_after(interval);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  epoch = -1;
  if (auto [ec, reply] = co_await heartbeat(std::nullopt); ec || reply->error_code)
    co_return fail("leaving: " + (ec ? ec.message() : make_kafka_error(reply->error_code).message()));
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: cli_consumer_member <bootstrap> <group> <topic> <offset> <seconds>\n");
    return 2;
  }
  net::PoolOptions options;
  std::string problem;
  if (net::parse_bootstrap(argv[1], options.bootstrap, &problem)) {
    std::fprintf(stderr, "%s\n", problem.c_str());
    return 2;
  }
  Args a{argv[2], argv[3], std::stoll(argv[4]), std::chrono::seconds(std::stoi(argv[5]))};
  asio::io_context io;
  auto pool = net::Pool::create(io.get_executor(), options);
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([](const boost::system::error_code& ec, int) {
    if (!ec) stopping = true;  // the loop leaves the group at its next turn
  });
  int rc = 1;
  asio::co_spawn(io, run(pool, a), [&](std::exception_ptr e, int r) {
    rc = e ? 1 : r;
    signals.cancel();
    pool->close();
    io.stop();
  });
  io.run();
  return rc;
}
