// bench_topics: the produce benchmark's (tools/bench/produce-bench) bookkeeping around each client run,
// none of it timed: make a fresh topic, count what a client left in it, delete it.
//
//   bench_topics --bootstrap host:port create TOPIC PARTITIONS   # fails if it exists; done when every
//                                                                # partition's leader answers ListOffsets
//   bench_topics --bootstrap host:port count TOPIC               # prints records=N partitions=P
//   bench_topics --bootstrap host:port delete TOPIC
//
// count is what the log holds: for every partition the latest offset (ListOffsets -1) minus the earliest
// (-2), summed. With no transactions and no deletions that is the number of records appended, whoever
// wrote them: a duplicate batch counts twice, a lost one not at all.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "../support/create_topic.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/protocol/delete_topics.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;

namespace {

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "bench_topics: %s\nusage: bench_topics --bootstrap host:port create TOPIC PARTITIONS | count "
               "TOPIC | delete TOPIC\n",
               problem.c_str());
  std::exit(2);
}

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// Prints the count (print), or only checks that every partition's leader answers (quiet: no messages).
asio::awaitable<int> count(Consumer& c, std::string topic, bool print = true) {
  std::vector<std::string> topics(1, topic);  // (not a braced list: GCC 12 cannot keep one in a coroutine)
  auto [mec, none] = co_await c.pool().refresh_metadata(std::move(topics));
  const net::TopicInfo* info = c.pool().metadata().topic(topic);
  if (mec || !info || info->error_code != 0) {
    if (print)
      std::fprintf(stderr, "bench_topics: no metadata for %s (%s, topic error %d)\n", topic.c_str(),
                   mec ? mec.message().c_str() : "ok", info ? info->error_code : -1);
    co_return 1;
  }
  std::vector<TopicPartition> tps;
  for (const auto& p : info->partitions) tps.push_back(TopicPartition{topic, p.partition});
  std::error_code lec, eec;
  std::map<TopicPartition, int64_t> latest, earliest;
  std::tie(lec, latest) = co_await c.async_list_offsets(tps, -1, use_nothrow);
  std::tie(eec, earliest) = co_await c.async_list_offsets(tps, -2, use_nothrow);
  if (lec || eec) {
    if (print)
      std::fprintf(stderr, "bench_topics: ListOffsets %s: %s (%s)\n", topic.c_str(),
                   (lec ? lec : eec).message().c_str(), c.error_text().c_str());
    co_return 1;
  }
  int64_t records = 0;
  for (const auto& tp : tps) {
    const auto l = latest.find(tp), e = earliest.find(tp);
    if (l == latest.end() || e == earliest.end() || l->second < 0 || e->second < 0) {
      if (print) std::fprintf(stderr, "bench_topics: %s-%d: no offsets\n", topic.c_str(), tp.partition);
      co_return 1;
    }
    records += l->second - e->second;
  }
  if (print) std::printf("records=%" PRId64 " partitions=%zu\n", records, tps.size());
  co_return 0;
}

asio::awaitable<int> delete_topic(net::Pool& pool, std::string topic) {
  protocol::DeleteTopicsRequest req;
  protocol::DeleteTopicsRequest::DeleteTopicState t;
  t.name = topic;
  req.topics.push_back(t);           // v6+
  req.topic_names.push_back(topic);  // v1-5
  req.timeout_ms = 30000;
  auto [ec, reply] = co_await pool.send_any(req);
  if (ec || reply->responses.size() != 1 || reply->responses[0].error_code != 0) {
    std::fprintf(
        stderr, "bench_topics: DeleteTopics %s: %s\n", topic.c_str(),
        ec ? ec.message().c_str()
           : ("error " + std::to_string(reply->responses.empty() ? -1 : reply->responses[0].error_code))
                 .c_str());
    co_return 1;
  }
  co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 4 || args[0] != "--bootstrap") usage("--bootstrap and a command are required");
  const std::string bootstrap = args[1], command = args[2], topic = args[3];
  try {
    asio::io_context io;
    Consumer consumer(io.get_executor(), Config({{"bootstrap.servers", bootstrap}}));
    auto pool = consumer.pool().shared_from_this();
    std::future<int> f;
    if (command == "create" && args.size() == 5) {
      const long partitions = std::strtol(args[4].c_str(), nullptr, 10);
      if (partitions < 1 || partitions > 100000) usage("create: PARTITIONS must be 1..100000");
      f = asio::co_spawn(
          io,
          [](std::shared_ptr<net::Pool> pool, std::string topic, int32_t partitions) -> asio::awaitable<int> {
            const std::string problem = co_await tools::create_topic(pool, topic, partitions);
            if (problem.empty()) co_return 0;
            std::fprintf(stderr, "bench_topics: %s\n", problem.c_str());
            co_return 1;
          }(pool, topic, static_cast<int32_t>(partitions)),
          asio::use_future);
      while (f.wait_for(0s) != std::future_status::ready) io.run_one_for(100ms);
      if (f.get() != 0) return 1;
      // The metadata names a leader for each partition a little before that broker takes writes for it
      // (a Produce then gets NOT_LEADER_OR_FOLLOWER, which Java's ProducerPerformance, retrying, did not
      // get past within delivery.timeout.ms on 2 of 1,000 fresh partitions). Ready: every leader answers
      // ListOffsets for its partitions.
      f = asio::co_spawn(
          io,
          [](Consumer& c, std::string topic) -> asio::awaitable<int> {
            for (int attempt = 0; attempt < 300; ++attempt) {
              if (co_await count(c, topic, false) == 0) co_return 0;
              asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
              co_await timer.async_wait(use_nothrow);
            }
            std::fprintf(stderr, "bench_topics: %s: not every partition answers ListOffsets after 30 s\n",
                         topic.c_str());
            co_return 1;
          }(consumer, topic),
          asio::use_future);
    } else if (command == "count" && args.size() == 4) {
      f = asio::co_spawn(io, count(consumer, topic), asio::use_future);
    } else if (command == "delete" && args.size() == 4) {
      f = asio::co_spawn(io, delete_topic(*pool, topic), asio::use_future);
    } else {
      usage("unknown command or wrong arguments");
    }
    while (f.wait_for(0s) != std::future_status::ready) io.run_one_for(100ms);
    return f.get();
  } catch (const ConfigError& e) {
    std::fprintf(stderr, "bench_topics: %s\n", e.what());
    return 2;
  }
}
