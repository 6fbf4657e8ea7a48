// Shared steps of the Admin broker tests (test_admin.cpp, test_admin_changes.cpp): running one call to
// completion, and waiting for a topic's leaders to appear or for the topic to go.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "broker_env.hpp"
#include "helpers.hpp"
#include "kafkawire/consumer/admin.hpp"
#include "support/run.hpp"

namespace kafkawire::testing {

template <class T>
std::tuple<std::error_code, AdminResult<T>> run(boost::asio::io_context& io,
                                                net::Pool::Result<AdminResult<T>> op) {
  auto f = boost::asio::co_spawn(io, std::move(op), boost::asio::use_future);
  return run_until(io, f, std::chrono::seconds(60));
}

inline Config admin_config() { return base_config({{"default.api.timeout.ms", "30000"}}); }

// The topic's description once every partition has a leader (a new topic gets them a moment after
// CreateTopics answers; a broker may not know the topic at all for that moment).
inline TopicDescription described_with_leaders(boost::asio::io_context& io, Admin& admin,
                                               const std::string& topic, size_t partitions) {
  TopicDescription d;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto [ec, r] = run(io, admin.describe_topics({topic}));
    REQUIRE(r.topics.size() == 1);
    d = r.topics.front();
    bool ready = !ec && d.partitions.size() == partitions;
    for (const auto& p : d.partitions) ready = ready && p.leader >= 0;
    if (ready) return d;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL("topic " << topic << " has no leaders: " << d.error_text());
  return d;
}

// Whether the broker still knows the topic (deletion completes a moment after DeleteTopics answers).
inline bool gone(boost::asio::io_context& io, Admin& admin, const std::string& topic) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto [ec, r] = run(io, admin.describe_topics({topic}));
    REQUIRE(r.topics.size() == 1);
    if (r.topics.front().ec == kafka_errc::unknown_topic_or_partition) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace kafkawire::testing
