// Exactly-once consume-process-produce: each input record's result is in the output topic once, and the
// input offsets are committed in the same transaction, however often the program crashes and restarts.
//
//   example-exactly-once <bootstrap> <input> <output> <group> [--idle-exit SECONDS] [--id INSTANCE]
//                        [-X key=value]...
//
// Reads <input> as a member of <group>, writes "processed <value>" with the same key to <output>, and
// commits what it read together with what it wrote. A restart with the same --id (default 0) takes the
// place of the instance before it at once: in the group (static membership, group.instance.id) and as
// the transactional producer (its open transaction is aborted now, not at transaction.timeout.ms).
// Consumers of <output> with isolation.level=read_committed see each result once; a crash between the
// produce and the commit leaves only aborted records, which they skip. --idle-exit: stop after that many
// seconds without input (default: run until killed). -X adds configuration keys (example_args.hpp).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <string>

#include "example_args.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using kafkawire::TransactionManager;

asio::awaitable<void> job(examples::Args args, std::string bootstrap, std::string input, std::string output,
                          std::string group, std::string instance, int idle_exit_s) {
  auto ex = co_await asio::this_coro::executor;
  kafkawire::Consumer consumer(
      ex, args.config({{"bootstrap.servers", bootstrap},
                       {"group.id", group},
                       {"enable.auto.commit", "false"},        // the transactions commit
                       {"isolation.level", "read_committed"},  // input may be transactional
                       {"group.instance.id", group + "-" + instance},
                       {"auto.offset.reset", "earliest"}}));
  consumer.subscribe({input});
  kafkawire::Producer producer(ex, args.config({{"bootstrap.servers", bootstrap},
                                                {"transactional.id", group + "-" + input + "-" + instance}}));
  if (auto ec = co_await producer.async_init_transactions(asio::use_awaitable))
    throw std::system_error(ec, "init_transactions: " + producer.error_text());

  auto idle_since = std::chrono::steady_clock::now();
  long long processed = 0, transactions = 0;
  for (;;) {
    auto [ec, records] = co_await consumer.async_poll(500ms, asio::use_awaitable);
    if (ec) throw std::system_error(ec, "poll: " + consumer.error_text());
    if (records.empty()) {
      if (idle_exit_s > 0 &&
          std::chrono::steady_clock::now() - idle_since > std::chrono::seconds(idle_exit_s))
        break;
      continue;
    }
    idle_since = std::chrono::steady_clock::now();

    // The three lines: begin, produce each result, commit it with the consumed offsets.
    if (auto bec = producer.begin_transaction()) throw std::system_error(bec, producer.error_text());
    for (const kafkawire::Record& r : records)
      producer.async_send({.topic = output,
                           .key = r.key() ? std::optional<std::string>(r.key()->str()) : std::nullopt,
                           .value = "processed " + std::string(r.value() ? r.value()->str() : "")},
                          asio::detached);  // a failed record fails the commit below
    auto cec =
        co_await producer.async_commit_transaction(consumer.transaction_offsets(), asio::use_awaitable);
    if (!cec) {
      processed += static_cast<long long>(records.size());
      ++transactions;
      continue;
    }
    // Fenced (another instance with our id, or not authorized): nothing more can be done here.
    if (producer.transactions()->state() == TransactionManager::State::fatal_error)
      throw std::system_error(cec, "commit_transaction: " + producer.error_text());
    // Abortable (a record failed; the group moved on and refused our offsets): abort, and go back to the
    // committed offsets so that the aborted input is processed again.
    std::fprintf(stderr, "aborting: %s\n", producer.error_text().c_str());
    if (auto aec = co_await producer.async_abort_transaction(asio::use_awaitable))
      throw std::system_error(aec, "abort_transaction: " + producer.error_text());
    auto [qec, committed] = co_await consumer.async_committed(consumer.assignment(), asio::use_awaitable);
    if (qec) throw std::system_error(qec, "committed: " + consumer.error_text());
    for (const auto& [tp, offset] : committed) {
      if (offset)
        consumer.seek(tp, *offset);
      else
        consumer.seek_to_beginning({tp});
    }
  }
  std::printf("processed %lld records in %lld transactions\n", processed, transactions);
  co_await producer.async_close(asio::use_awaitable);
  co_await consumer.async_close(asio::use_awaitable);
}

int main(int argc, char** argv) {
  const auto args = examples::parse_args(
      argc, argv, "<bootstrap> <input> <output> <group> [--idle-exit SECONDS] [--id INSTANCE]", 4);
  if (!args) return 2;
  const auto& a = args->positional;
  int idle_exit = 0;
  std::string instance = "0";
  for (size_t i = 4; i < a.size(); i += 2) {
    if (i + 1 == a.size()) {
      std::fprintf(stderr, "%s needs a value\n", a[i].c_str());
      return 2;
    }
    if (a[i] == "--idle-exit") {
      idle_exit = std::stoi(a[i + 1]);
    } else if (a[i] == "--id") {
      instance = a[i + 1];
    } else {
      std::fprintf(stderr, "unknown option %s\n", a[i].c_str());
      return 2;
    }
  }
  asio::io_context io;
  int status = 0;
  asio::co_spawn(io, job(*args, a[0], a[1], a[2], a[3], instance, idle_exit), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& x) {
      std::fprintf(stderr, "example-exactly-once: %s\n", x.what());
    }
    status = 1;
  });
  io.run();
  return status;
}
