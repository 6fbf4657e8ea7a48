// A consumer process for the crash-and-resume tests (test_resume.cpp kills it with SIGKILL).
//   consume_commit <bootstrap> <topic> <partitions> <group> manual|auto <idle-exit-ms>
// Prints "R <partition> <offset>" for every record it processes, and, in manual mode, "C <partition>
// <offset>" for every offset the broker acknowledged as committed (the next record to read). Commits
// after every poll ("Q" and a wait for stdin between processing and committing), then prints "P" and waits
// for a line on stdin before polling again: the test holds it there, so when it sends SIGKILL it knows
// exactly what was processed and committed. Exits when nothing arrived for <idle-exit-ms>, or when stdin
// closes.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <iostream>

#include "kafkawire/consumer/consumer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc != 7) {
    std::cerr
        << "usage: consume_commit <bootstrap> <topic> <partitions> <group> manual|auto <idle-exit-ms>\n";
    return 2;
  }
  const std::string topic = argv[2];
  const int partitions = std::stoi(argv[3]);
  const bool manual = std::string(argv[5]) == "manual";
  const auto idle_exit = std::chrono::milliseconds(std::stoi(argv[6]));
  asio::io_context io;
  kafkawire::Config cfg{{"bootstrap.servers", argv[1]},
                        {"group.id", argv[4]},
                        {"enable.auto.commit", manual ? "false" : "true"},
                        {"auto.commit.interval.ms", "200"},
                        {"auto.offset.reset", "earliest"},
                        {"max.poll.records", "50"}};
  kafkawire::Consumer consumer(io.get_executor(), cfg);
  std::vector<kafkawire::TopicPartition> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back({topic, p});
  consumer.assign(tps);
  int rc = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto idle_since = std::chrono::steady_clock::now();
        for (;;) {
          auto [ec, records] = co_await consumer.async_poll(100ms, asio::as_tuple(asio::use_awaitable));
          if (ec) {
            std::cerr << "poll: " << ec.message() << ": " << consumer.error_text() << "\n";
            rc = 1;
            co_return;
          }
          for (const auto& r : records)
            std::printf("R %d %lld\n", r.partition(), static_cast<long long>(r.offset()));
          std::fflush(stdout);
          if (records.empty()) {
            if (std::chrono::steady_clock::now() - idle_since > idle_exit) break;
            continue;
          }
          idle_since = std::chrono::steady_clock::now();
          if (manual) {
            // Processed but not committed yet: the test may crash us right here.
            std::printf("Q\n");
            std::fflush(stdout);
            char go[16];
            if (!std::fgets(go, sizeof go, stdin)) co_return;
            auto positions = consumer.current_positions();
            auto [cec] = co_await consumer.async_commit(positions, asio::as_tuple(asio::use_awaitable));
            if (cec) {
              std::cerr << "commit: " << consumer.error_text() << "\n";
              rc = 1;
              co_return;
            }
            for (const auto& [tp, off] : positions)
              std::printf("C %d %lld\n", tp.partition, static_cast<long long>(off));
          }
          std::printf("P\n");
          std::fflush(stdout);
          char go[16];
          if (!std::fgets(go, sizeof go, stdin)) co_return;
        }
        auto [cec] = co_await consumer.async_close(asio::as_tuple(asio::use_awaitable));
        if (cec) rc = 1;
      },
      asio::detached);
  io.run();
  return rc;
}
