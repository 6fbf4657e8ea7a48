// Topic administration with kafkawire::Admin, in the coroutine style: create a topic (a dry run first),
// describe it, add partitions, read and change its configs, delete the oldest records of a partition, try
// to create it again, delete it.
//
//   example-admin <bootstrap> <topic> [partitions]
//
// Each call completes with the call's error_code and a result per topic: the broker's error code
// (`t.ec == kafkawire::kafka_errc::topic_already_exists`) and the broker's own message. error_text
// names every failed topic with both.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <system_error>

#include "kafkawire/consumer/admin.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace asio = boost::asio;
using kafkawire::ConfigResourceType;

// The controller takes a change, and the broker that answers learns of it a moment later: the steps below
// look again after one.
asio::awaitable<void> a_moment() {
  asio::steady_timer wait(co_await asio::this_coro::executor, std::chrono::milliseconds(100));
  co_await wait.async_wait(asio::use_awaitable);
}

// The topic's partitions once it has `count` of them, each with a leader.
asio::awaitable<std::vector<kafkawire::PartitionDescription>> partitions_with_leaders(kafkawire::Admin& admin,
                                                                                      std::string topic,
                                                                                      int32_t count) {
  const std::vector<std::string> names{topic};
  for (int attempt = 0;; ++attempt) {
    auto [ec, described] = co_await admin.async_describe_topics(names, asio::use_awaitable);
    const kafkawire::TopicDescription& d = described.topics.front();
    bool ready = !ec && static_cast<int32_t>(d.partitions.size()) == count;
    for (const auto& p : d.partitions) ready = ready && p.leader >= 0;
    if (ready) co_return d.partitions;
    if (attempt == 100) throw std::runtime_error("no leaders for " + topic + ": " + described.error_text);
    co_await a_moment();
  }
}

// A topic config's value and where it comes from (DescribeConfigs), once it is `expected`.
asio::awaitable<void> print_config(kafkawire::Admin& admin, std::string topic, std::string key,
                                   std::string expected) {
  const std::vector<kafkawire::ConfigResource> resources{{ConfigResourceType::topic, topic}};
  for (int attempt = 0;; ++attempt) {
    auto [ec, described] = co_await admin.async_describe_configs(resources, asio::use_awaitable);
    if (ec) throw std::system_error(ec, described.error_text);
    const kafkawire::ConfigEntry* e = described.topics.front().get(key);
    if (!e) throw std::runtime_error(topic + " has no config " + key);
    if (e->value == expected || attempt == 100) {
      std::printf("%s %s=%s (%s)\n", topic.c_str(), key.c_str(), e->value.value_or("(sensitive)").c_str(),
                  std::string(kafkawire::config_source_name(e->source)).c_str());
      co_return;
    }
    co_await a_moment();
  }
}

// What to create: a name, partitions, a replication factor, and topic configs (-1 for the partitions or
// the replication factor: the broker's default).
kafkawire::NewTopic topic_spec(const std::string& topic, int32_t partitions) {
  return {.name = topic,
          .partitions = partitions,
          .replication_factor = 1,
          .configs = {{"retention.ms", "86400000"}}};
}

asio::awaitable<void> job(std::string bootstrap, std::string topic, int32_t partitions) {
  auto ex = co_await asio::this_coro::executor;
  kafkawire::Admin admin(ex, {{"bootstrap.servers", bootstrap}});
  // The lists are variables: GCC 12 rejects a braced list ({topic}) inside a co_await expression
  // ("array used as initializer"); other compilers take either.
  const std::vector<kafkawire::NewTopic> specs{topic_spec(topic, partitions)};
  const std::vector<std::string> names{topic};

  // A dry run: the controller checks name, partitions, replication factor and configs; nothing is created.
  auto [dry_ec, dry] = co_await admin.async_create_topics(
      specs, kafkawire::CreateTopicsOptions{.validate_only = true}, asio::use_awaitable);
  if (dry_ec) throw std::system_error(dry_ec, dry.error_text);
  std::printf("validated %s: %d partitions\n", topic.c_str(), dry.topics.front().partitions);

  auto [ec, created] = co_await admin.async_create_topics(specs, asio::use_awaitable);
  if (ec) throw std::system_error(ec, created.error_text);
  std::printf("created %s\n", topic.c_str());

  // A new topic's partitions get their leaders a moment after CreateTopics answers.
  for (const auto& p : co_await partitions_with_leaders(admin, topic, partitions))
    std::printf("partition %d: leader %d, %zu replica(s), %zu in sync\n", p.partition, p.leader,
                p.replicas.size(), p.isr.size());

  // Two partitions more: the count is the new total, and it can only grow.
  const std::vector<kafkawire::NewPartitions> grow{{.topic = topic, .total_count = partitions + 2}};
  auto [grow_ec, grown] = co_await admin.async_create_partitions(grow, asio::use_awaitable);
  if (grow_ec) throw std::system_error(grow_ec, grown.error_text);
  const auto now = co_await partitions_with_leaders(admin, topic, partitions + 2);
  std::printf("partitions of %s: %d -> %zu\n", topic.c_str(), partitions, now.size());

  // Configs: set one key (IncrementalAlterConfigs leaves the keys it does not name as they are), read it
  // back.
  co_await print_config(admin, topic, "retention.ms", "86400000");
  const std::vector<kafkawire::ConfigChange> change{
      {.resource = {ConfigResourceType::topic, topic},
       .alterations = {{.key = "retention.ms", .value = "3600000"}}}};
  auto [alter_ec, altered] = co_await admin.async_incremental_alter_configs(change, asio::use_awaitable);
  if (alter_ec) throw std::system_error(alter_ec, altered.error_text);
  co_await print_config(admin, topic, "retention.ms", "3600000");

  // Delete the oldest records of partition 0: its log start offset moves to the offset given.
  kafkawire::Producer producer(admin.get_executor(), {{"bootstrap.servers", bootstrap}});
  std::error_code failed;  // the first delivery error
  for (int i = 0; i < 10; ++i)
    producer.async_send({.topic = topic, .partition = 0, .value = "record " + std::to_string(i)},
                        [&failed](std::error_code ec, const kafkawire::RecordMetadata&) {
                          if (ec && !failed) failed = ec;
                        });
  if (auto ec = co_await producer.async_close(asio::use_awaitable); ec || failed)  // flushes first
    throw std::system_error(ec ? ec : failed, "producing to " + topic + ": " + producer.error_text());
  const std::vector<kafkawire::RecordsToDelete> below{{.topic = topic, .partition = 0, .before_offset = 4}};
  auto [del_rec_ec, trimmed] = co_await admin.async_delete_records(below, asio::use_awaitable);
  if (del_rec_ec) throw std::system_error(del_rec_ec, trimmed.error_text);
  std::printf("deleted the records of %s-0 below 4: log start offset %lld\n", topic.c_str(),
              static_cast<long long>(trimmed.topics.front().low_watermark));
  // A dry run asks each leader (ListOffsets) what the partition holds now, and deletes nothing.
  const std::vector<kafkawire::RecordsToDelete> all{{.topic = topic, .partition = 0}};
  auto [dry_rec_ec, held] = co_await admin.async_delete_records(
      all, kafkawire::DeleteRecordsOptions{.dry_run = true}, asio::use_awaitable);
  if (dry_rec_ec) throw std::system_error(dry_rec_ec, held.error_text);
  std::printf("%s-0 holds offsets %lld to %lld\n", topic.c_str(),
              static_cast<long long>(held.topics.front().log_start_offset),
              static_cast<long long>(held.topics.front().high_watermark) - 1);

  // The broker's refusal, per topic, with its own message.
  auto [again_ec, again] = co_await admin.async_create_topics(specs, asio::use_awaitable);
  if (again_ec == kafkawire::kafka_errc::topic_already_exists)
    std::printf("refused: %s\n", again.error_text.c_str());

  auto [del_ec, deleted] = co_await admin.async_delete_topics(names, asio::use_awaitable);
  if (del_ec) throw std::system_error(del_ec, deleted.error_text);
  std::printf("deleted %s\n", topic.c_str());
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <bootstrap> <topic> [partitions]\n", argv[0]);
    return 2;
  }
  asio::io_context io;
  int rc = 0;
  asio::co_spawn(io, job(argv[1], argv[2], argc > 3 ? std::stoi(argv[3]) : 3), [&](std::exception_ptr e) {
    if (!e) return;
    rc = 1;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "example-admin: %s\n", x.what());
    }
  });
  io.run();
  return rc;
}
