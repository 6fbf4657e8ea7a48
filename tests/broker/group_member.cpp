// One member of a consumer group, as a process of its own, for the multi-process group tests
// (test_group_processes.cpp starts several, stops them cleanly with SIGTERM or kills them with SIGKILL).
//
//   group_member <bootstrap> <topic> <group> <out-file> [key=value ...]
//
// The key=value arguments are passed to the Consumer's Config (session.timeout.ms, group.instance.id, ...),
// except member.commit.every=N: commit after every N-th poll that returned records (default 1), so that a
// crash leaves an uncommitted tail. It subscribes to <topic>, polls, and commits the positions.
// Everything it does goes to <out-file>, one line each, with the time (CLOCK_MONOTONIC nanoseconds, the
// same clock in every process of the machine):
//   A <t> <generation> <state> <member-id> <p,p,...|->   assignment/generation/state after a poll changed
//   R <t> <partition> <offset>                          a record processed
//   C <t> <partition> <offset>                          an offset the broker acknowledged as committed
//   E <t> <error name> <text>                           a poll or commit failed (the member carries on)
//   F <t> <error name> <text>                           a fatal error: the member exits with status 3
//   X <t> closed                                        SIGTERM: closed cleanly (commit, LeaveGroup)
//   H <t> holding                                       SIGUSR1: from now on it processes records but
//                                                       commits nothing (so that a SIGKILL after its next
//                                                       R line surely leaves an uncommitted tail)
// The records of a poll are written and flushed before their commit is sent, so a SIGKILL can lose only
// commits, never a processed record.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "kafkawire/consumer/consumer.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

long long now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<long long>(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

// The member as either protocol's machine sees it: the classic generation, or the KIP-848 member epoch.
struct Membership {
  int generation = -1;
  std::string state = "none";
  std::string member_id;
  bool fatal = false;
};

Membership membership(const kafkawire::Consumer& c) {
  Membership out;
  if (const auto* m = c.membership()) {
    out = {m->generation(), std::string(to_string(m->state())), m->member_id(),
           m->state() == kafkawire::group::State::fatal};
  } else if (const auto* cm = c.consumer_group_membership()) {
    out = {cm->member_epoch(), std::string(to_string(cm->state())), cm->member_id(),
           cm->state() == kafkawire::group::consumer_group::State::fatal};
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::cerr << "usage: group_member <bootstrap> <topic> <group> <out-file> [key=value ...]\n";
    return 2;
  }
  const std::string topic = argv[2];
  FILE* out = std::fopen(argv[4], "a");
  if (!out) {
    std::perror(argv[4]);
    return 2;
  }
  std::map<std::string, std::string> kv{{"bootstrap.servers", argv[1]},
                                        {"group.id", argv[3]},
                                        {"enable.auto.commit", "false"},
                                        {"auto.offset.reset", "earliest"},
                                        {"max.poll.records", "200"}};
  int commit_every = 1;
  for (int i = 5; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto eq = arg.find('=');
    if (eq == std::string::npos) {
      std::cerr << "group_member: expected key=value, got '" << arg << "'\n";
      return 2;
    }
    if (arg.substr(0, eq) == "member.commit.every") {
      commit_every = std::max(1, std::atoi(arg.c_str() + eq + 1));
      continue;
    }
    kv[arg.substr(0, eq)] = arg.substr(eq + 1);
  }
  asio::io_context io;
  std::unique_ptr<kafkawire::Consumer> consumer;
  try {
    consumer = std::make_unique<kafkawire::Consumer>(io.get_executor(), kafkawire::Config(kv));
  } catch (const std::exception& e) {
    std::cerr << "group_member: " << e.what() << "\n";
    return 2;
  }
  bool stop = false, hold = false;
  asio::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int) {
    if (!ec) stop = true;
  });
  asio::signal_set hold_signal(io, SIGUSR1);
  hold_signal.async_wait([&](boost::system::error_code ec, int) {
    if (ec) return;
    hold = true;
    std::fprintf(out, "H %lld holding\n", now_ns());
    std::fflush(out);
  });
  consumer->subscribe({topic});
  int rc = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        std::string last_state;
        long polls_with_records = 0;
        bool dirty = false;  // records processed since the last commit
        for (;;) {
          if (stop) break;
          auto [ec, records] = co_await consumer->async_poll(100ms, asio::as_tuple(asio::use_awaitable));
          const Membership m = membership(*consumer);
          const bool fatal = m.fatal;
          if (ec) {
            std::fprintf(out, "%c %lld %s %s\n", fatal ? 'F' : 'E', now_ns(), one_line(ec.message()).c_str(),
                         one_line(consumer->error_text()).c_str());
            std::fflush(out);
            if (fatal) {
              rc = 3;
              io.stop();
              co_return;
            }
          }
          for (const auto& r : records)
            std::fprintf(out, "R %lld %d %lld\n", now_ns(), r.partition(),
                         static_cast<long long>(r.offset()));
          // What the group gave us, whenever it changed.
          std::string parts;
          auto assigned = consumer->assignment();
          std::sort(assigned.begin(), assigned.end());
          for (const auto& tp : assigned) parts += (parts.empty() ? "" : ",") + std::to_string(tp.partition);
          std::string state = std::to_string(m.generation) + " " + m.state + " " +
                              (m.member_id.empty() ? "-" : m.member_id) + " " + (parts.empty() ? "-" : parts);
          if (state != last_state) {
            std::fprintf(out, "A %lld %s\n", now_ns(), state.c_str());
            last_state = state;
          }
          std::fflush(out);  // processed records are on disk before their commit goes out
          // Commit every N-th poll with records, and once nothing new comes in.
          if (!records.empty()) dirty = true;
          if (hold || !dirty || (!records.empty() && ++polls_with_records % commit_every != 0)) continue;
          dirty = false;
          auto positions = consumer->current_positions();
          auto [cec] = co_await consumer->async_commit(positions, asio::as_tuple(asio::use_awaitable));
          if (cec) {
            // Some partitions may have been committed, but we do not know which: report none.
            std::fprintf(out, "E %lld %s commit: %s\n", now_ns(), one_line(cec.message()).c_str(),
                         one_line(consumer->error_text()).c_str());
          } else {
            for (const auto& [tp, off] : positions)
              std::fprintf(out, "C %lld %d %lld\n", now_ns(), tp.partition, static_cast<long long>(off));
          }
          std::fflush(out);
        }
        auto [cec] = co_await consumer->async_close(asio::as_tuple(asio::use_awaitable));
        std::fprintf(out, "X %lld closed %s\n", now_ns(), cec ? one_line(cec.message()).c_str() : "ok");
        std::fflush(out);
        if (cec) rc = 1;
        io.stop();  // the group's timers may still be armed: nothing else is left to do
      },
      asio::detached);
  io.run();
  std::fclose(out);
  return rc;
}
