// Shared steps of the broker tests: unique names, creating topics, producing records.
#pragma once

#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <random>
#include <thread>

#include "broker_env.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/protocol/create_topics.hpp"
#include "support/run.hpp"

namespace kafkawire::testing {

// A name no earlier run used, so tests can run again against a long-lived broker.
inline std::string unique(const std::string& prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  return prefix + "-" + std::to_string(rng() % 1000000000);
}

// Creates a topic and waits until every partition has a leader (and, with a replication factor, all its
// replicas). `where`: the cluster (default: the test broker).
inline void create_topic(boost::asio::io_context& io, const std::string& name, int32_t partitions,
                         std::vector<std::pair<std::string, std::string>> configs = {},
                         const std::string& where = bootstrap(), int16_t replication_factor = -1) {
  INFO("the cluster at " << where);
  net::PoolOptions opts;
  REQUIRE_FALSE(net::parse_bootstrap(where, opts.bootstrap));
  auto pool = net::Pool::create(io.get_executor(), opts);
  protocol::CreateTopicsRequest req;
  protocol::CreateTopicsRequest::CreatableTopic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = replication_factor;  // -1: the broker's default
  for (auto& [k, v] : configs) t.configs.push_back({k, v});
  req.topics.push_back(t);
  req.timeout_ms = 30000;
  // To the controller the Metadata response names, as Java's admin client does: Apache Kafka forwards
  // CreateTopics from any broker, but the protocol does not promise it (kfake answers NOT_CONTROLLER).
  auto known = pool->async_refresh_metadata(std::vector<std::string>{}, boost::asio::use_future);
  REQUIRE_FALSE(run_until(io, known));
  const int32_t controller = pool->metadata().controller_id();
  auto f = controller >= 0 ? boost::asio::co_spawn(io, pool->send(controller, net::Purpose::general, req),
                                                   boost::asio::use_future)
                           : boost::asio::co_spawn(io, pool->send_any(req), boost::asio::use_future);
  auto [ec, reply] = run_until(io, f);
  REQUIRE_FALSE(ec);
  REQUIRE(reply->topics.size() == 1);
  INFO("CreateTopics " << name << ": error " << reply->topics[0].error_code);
  REQUIRE(reply->topics[0].error_code == 0);
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto m = pool->async_refresh_metadata(std::vector<std::string>{name}, boost::asio::use_future);
    auto mec = run_until(io, m);
    const net::TopicInfo* info = pool->metadata().topic(name);
    bool ready =
        !mec && info && info->error_code == 0 && info->partitions.size() == static_cast<size_t>(partitions);
    if (ready)
      for (const auto& p : info->partitions)
        ready = ready && p.leader >= 0 &&
                (replication_factor < 0 || p.replicas.size() == static_cast<size_t>(replication_factor));
    if (ready) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("topic " << name << " has no leaders");
}

inline Config base_config(std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
  std::map<std::string, std::string> kv{{"bootstrap.servers", bootstrap()}};
  for (const auto& [k, v] : extra) kv[k] = v;
  return Config(kv);
}

// Produces `count` records "key-<i>" / "value-<i>" to a partition (round robin over `partitions`).
inline void produce(boost::asio::io_context& io, const std::string& topic, int32_t partitions, int count,
                    const std::string& compression = "none") {
  Producer producer(io.get_executor(), base_config({{"compression.type", compression}, {"linger.ms", "5"}}));
  std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> results;
  for (int i = 0; i < count; ++i) {
    ProducerRecord r;
    r.topic = topic;
    r.partition = i % partitions;
    r.key = "key-" + std::to_string(i);
    r.value = "value-" + std::to_string(i);
    results.push_back(producer.async_send(std::move(r), boost::asio::use_future));
  }
  for (auto& f : results) {
    auto [ec, md] = run_until(io, f);
    INFO(producer.error_text());
    REQUIRE_FALSE(ec);
  }
}

}  // namespace kafkawire::testing
