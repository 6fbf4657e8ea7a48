// When to try an operation again: after retry.backoff.ms, doubling up to retry.backoff.max.ms (as Java's
// clients since KIP-580, without the jitter), and never past the operation's own deadline
// (default.api.timeout.ms for commit, committed and offsets_for_times). Plain data: unit-tested without
// a clock; wait_to_retry() is the one place that sleeps.
#pragma once

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <optional>

namespace kafkawire::net {

class RetryBudget {
 public:
  using clock = std::chrono::steady_clock;

  RetryBudget(clock::time_point deadline, std::chrono::milliseconds backoff,
              std::chrono::milliseconds backoff_max)
      : deadline_(deadline),
        backoff_(std::max(backoff, std::chrono::milliseconds(0))),
        backoff_max_(std::max(backoff_max, backoff_)) {}

  // The wait before the next attempt (cut at the deadline), or nullopt when the deadline has passed:
  // the operation ends with the last error it saw.
  std::optional<clock::duration> next(clock::time_point now) {
    if (now >= deadline_) return std::nullopt;
    clock::duration d = backoff_;
    for (int i = 0; i < attempts_ && d < backoff_max_; ++i) d *= 2;
    ++attempts_;
    return std::min<clock::duration>({d, backoff_max_, deadline_ - now});
  }
  clock::time_point deadline() const { return deadline_; }
  bool expired(clock::time_point now = clock::now()) const { return now >= deadline_; }
  int retries() const { return attempts_; }

 private:
  clock::time_point deadline_;
  std::chrono::milliseconds backoff_;
  std::chrono::milliseconds backoff_max_;
  int attempts_ = 0;
};

// Sleeps until the next attempt; false when the deadline has passed (nothing was waited for).
inline boost::asio::awaitable<bool> wait_to_retry(boost::asio::any_io_executor ex, RetryBudget& budget) {
  const auto wait = budget.next(RetryBudget::clock::now());
  if (!wait) co_return false;
  boost::asio::steady_timer t(ex, *wait);
  co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return true;
}

}  // namespace kafkawire::net
