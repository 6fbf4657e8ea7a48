// Creating a topic and waiting until every partition has a leader, for the tools that need fresh topics
// (tests/cli's cli_create_topic, tools/bench's bench_produce). Not part of the library's API.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "kafkawire/net/pool.hpp"
#include "kafkawire/protocol/create_topics.hpp"

namespace kafkawire::tools {

// Empty when the topic exists with a leader for each of its `partitions`; otherwise what went wrong.
inline boost::asio::awaitable<std::string> create_topic(std::shared_ptr<net::Pool> pool, std::string name,
                                                        int32_t partitions) {
  namespace asio = boost::asio;
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = -1;  // the broker's default
  req.topics.push_back(t);
  req.timeout_ms = 30000;
  auto [ec, reply] = co_await pool->send_any(req);
  if (ec) co_return "CreateTopics " + name + ": " + ec.message();
  if (reply->topics.size() != 1 || reply->topics[0].error_code != 0)
    co_return "CreateTopics " + name + ": error " +
        std::to_string(reply->topics.empty() ? -1 : reply->topics[0].error_code);
  // The topic exists once the controller says so; its partitions get leaders a little later.
  for (int attempt = 0; attempt < 300; ++attempt) {
    std::vector<std::string> topics(1, name);
    auto [mec, none] = co_await pool->refresh_metadata(std::move(topics));
    const net::TopicInfo* info = pool->metadata().topic(name);
    bool ready =
        !mec && info && info->error_code == 0 && info->partitions.size() == static_cast<size_t>(partitions);
    if (ready)
      for (const auto& p : info->partitions) ready = ready && p.leader >= 0;
    if (ready) co_return std::string();
    asio::steady_timer timer(pool->get_executor(), std::chrono::milliseconds(100));
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  co_return "topic " + name + " has no leaders after 30 s";
}

}  // namespace kafkawire::tools
