// cli_create_topic <bootstrap> <topic> <partitions>: creates a topic and waits until every partition has
// a leader. The command-line tests need topics of several partitions, and `kafkawire` (like kcat) has no
// topic administration.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

#include "kafkawire/net/pool.hpp"
#include "kafkawire/protocol/create_topics.hpp"

namespace asio = boost::asio;
using namespace kafkawire;

namespace {

asio::awaitable<int> create(std::shared_ptr<net::Pool> pool, std::string name, int32_t partitions) {
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = -1;
  req.topics.push_back(t);
  req.timeout_ms = 30000;
  auto [ec, reply] = co_await pool->send_any(req);
  if (ec) {
    std::fprintf(stderr, "CreateTopics %s: %s\n", name.c_str(), ec.message().c_str());
    co_return 1;
  }
  if (reply->topics.size() != 1 || reply->topics[0].error_code != 0) {
    std::fprintf(stderr, "CreateTopics %s: error %d\n", name.c_str(),
                 reply->topics.empty() ? -1 : reply->topics[0].error_code);
    co_return 1;
  }
  for (int attempt = 0; attempt < 300; ++attempt) {
    std::vector<std::string> topics(1, name);
    auto [mec, none] = co_await pool->refresh_metadata(std::move(topics));
    const net::TopicInfo* info = pool->metadata().topic(name);
    bool ready =
        !mec && info && info->error_code == 0 && info->partitions.size() == static_cast<size_t>(partitions);
    if (ready)
      for (const auto& p : info->partitions) ready = ready && p.leader >= 0;
    if (ready) co_return 0;
    asio::steady_timer timer(pool->get_executor(), std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  std::fprintf(stderr, "topic %s has no leaders\n", name.c_str());
  co_return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: cli_create_topic <bootstrap> <topic> <partitions>\n");
    return 2;
  }
  net::PoolOptions options;
  std::string problem;
  if (net::parse_bootstrap(argv[1], options.bootstrap, &problem)) {
    std::fprintf(stderr, "%s\n", problem.c_str());
    return 2;
  }
  asio::io_context io;
  auto pool = net::Pool::create(io.get_executor(), options);
  int rc = 1;
  asio::co_spawn(io, create(pool, argv[2], std::stoi(argv[3])), [&](std::exception_ptr e, int r) {
    rc = e ? 1 : r;
    pool->close();
    io.stop();
  });
  io.run();
  return rc;
}
