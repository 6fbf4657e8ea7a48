// cli_create_topic <bootstrap> <topic> <partitions>: creates a topic and waits until every partition has
// a leader. The command-line tests need topics of several partitions; this helper is older than
// `kafkawire topics create` (tests/cli/test_topics_cli.sh), which does not wait for the leaders.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

#include "../../tools/support/create_topic.hpp"
#include "kafkawire/net/pool.hpp"

namespace asio = boost::asio;
using namespace kafkawire;

namespace {

asio::awaitable<int> create(std::shared_ptr<net::Pool> pool, std::string name, int32_t partitions) {
  const std::string problem = co_await tools::create_topic(std::move(pool), std::move(name), partitions);
  if (problem.empty()) co_return 0;
  std::fprintf(stderr, "%s\n", problem.c_str());
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
