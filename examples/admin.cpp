// Topic administration with kafkawire::Admin, in the coroutine style: create a topic (a dry run first),
// describe it, try to create it again, delete it.
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

namespace asio = boost::asio;

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
  for (int attempt = 0;; ++attempt) {
    auto [dec, described] = co_await admin.async_describe_topics(names, asio::use_awaitable);
    const kafkawire::TopicDescription& d = described.topics.front();
    bool ready = !dec && static_cast<int32_t>(d.partitions.size()) == partitions;
    for (const auto& p : d.partitions) ready = ready && p.leader >= 0;
    if (ready) {
      for (const auto& p : d.partitions)
        std::printf("partition %d: leader %d, %zu replica(s), %zu in sync\n", p.partition, p.leader,
                    p.replicas.size(), p.isr.size());
      break;
    }
    if (attempt == 100) throw std::runtime_error("no leaders for " + topic + ": " + described.error_text);
    asio::steady_timer wait(admin.get_executor(), std::chrono::milliseconds(100));
    co_await wait.async_wait(asio::use_awaitable);
  }

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
