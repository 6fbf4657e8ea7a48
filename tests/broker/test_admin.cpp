// Admin (consumer/admin.hpp) against the real broker: create, describe, list and delete topics, and the
// broker's refusals named per topic with its own error code and message.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <thread>

#include "admin_helpers.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::admin_config;
using kafkawire::testing::described_with_leaders;
using kafkawire::testing::gone;
using kafkawire::testing::run;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;

namespace {

bool listed(asio::io_context& io, Admin& admin, const std::string& topic) {
  auto [ec, r] = run(io, admin.list_topics());
  REQUIRE_FALSE(ec);
  return r.find(topic) != nullptr;
}

}  // namespace

TEST_CASE("Admin creates a topic, describes it, lists it and deletes it", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string topic = unique("admin-create");

  auto [ec, created] = run(io, admin.create_topics({NewTopic{.name = topic,
                                                             .partitions = 3,
                                                             .replication_factor = 1,
                                                             .configs = {{"retention.ms", "123456789"}}}}));
  INFO(created.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(created.topics.size() == 1);
  const CreatedTopic& c = created.topics.front();
  CHECK(c.name == topic);
  CHECK_FALSE(c.ec);
  CHECK(c.partitions == 3);
  CHECK(c.replication_factor == 1);
  CHECK_FALSE(c.topic_id.is_zero());
  bool retention_set = false;
  for (const auto& cfg : c.configs)
    if (cfg.name == "retention.ms") retention_set = cfg.value == "123456789";
  CHECK(retention_set);

  // Describe: leaders, replicas, ISR, the id CreateTopics gave.
  const TopicDescription d = described_with_leaders(io, admin, topic, 3);
  CHECK(d.topic_id == c.topic_id);
  CHECK_FALSE(d.internal);
  for (size_t i = 0; i < d.partitions.size(); ++i) {
    const auto& p = d.partitions[i];
    CHECK(p.partition == static_cast<int32_t>(i));
    CHECK(p.leader >= 0);
    CHECK(p.leader_epoch >= 0);
    REQUIRE(p.replicas.size() == 1);
    CHECK(p.replicas.front() == p.leader);
    CHECK(std::find(p.isr.begin(), p.isr.end(), p.leader) != p.isr.end());
    CHECK_FALSE(p.ec);
  }
  // What any client's Metadata sees: the three partitions.
  auto refreshed =
      asio::co_spawn(io, admin.pool().refresh_metadata(std::vector<std::string>{topic}), asio::use_future);
  auto [mec, none] = run_until(io, refreshed);
  REQUIRE_FALSE(mec);
  REQUIRE(admin.pool().metadata().topic(topic) != nullptr);
  CHECK(admin.pool().metadata().topic(topic)->partitions.size() == 3);

  // Listed, not internal; internal topics are flagged.
  auto [lec, list] = run(io, admin.list_topics());
  REQUIRE_FALSE(lec);
  const TopicListing* l = list.find(topic);
  REQUIRE(l != nullptr);
  CHECK(l->partitions == 3);
  CHECK(l->replication_factor == 1);
  CHECK_FALSE(l->internal);
  CHECK(l->topic_id == c.topic_id);
  for (const auto& t : list.topics)
    if (t.name == "__consumer_offsets" || t.name == "__transaction_state") CHECK(t.internal);

  // Again: TOPIC_ALREADY_EXISTS, the topic named, the broker's message as it sent it.
  auto [aec, again] = run(io, admin.create_topics({NewTopic{.name = topic, .partitions = 1}}));
  CHECK(aec == kafka_errc::topic_already_exists);
  REQUIRE(again.topics.size() == 1);
  CHECK(again.topics.front().ec == kafka_errc::topic_already_exists);
  CHECK(again.topics.front().error_message.find(topic) != std::string::npos);
  CHECK(again.error_text.find(topic + ": TOPIC_ALREADY_EXISTS") != std::string::npos);

  // Delete: gone from describe and list.
  auto [dec, deleted] = run(io, admin.delete_topics({topic}));
  INFO(deleted.error_text);
  REQUIRE_FALSE(dec);
  REQUIRE(deleted.topics.size() == 1);
  CHECK_FALSE(deleted.topics.front().ec);
  CHECK(deleted.topics.front().topic_id == c.topic_id);
  CHECK(gone(io, admin, topic));
  CHECK_FALSE(listed(io, admin, topic));
}

TEST_CASE("Admin names the broker's refusals per topic", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string good = unique("admin-good"), bad_rf = unique("admin-rf"),
                    bad_config = unique("admin-cfg");

  // One request, three topics: one created, two refused, each with its own error and message.
  auto [ec, r] =
      run(io, admin.create_topics({NewTopic{.name = good, .partitions = 1, .replication_factor = 1},
                                   NewTopic{.name = bad_rf, .partitions = 1, .replication_factor = 3},
                                   NewTopic{.name = bad_config,
                                            .partitions = 1,
                                            .replication_factor = 1,
                                            .configs = {{"cleanup.policy", "sometimes"}}}}));
  INFO(r.error_text);
  REQUIRE(r.topics.size() == 3);
  CHECK(r.topics[0].name == good);
  CHECK_FALSE(r.topics[0].ec);
  CHECK(r.topics[1].name == bad_rf);
  CHECK(r.topics[1].ec == kafka_errc::invalid_replication_factor);
  CHECK_FALSE(r.topics[1].error_message.empty());
  CHECK(r.topics[2].name == bad_config);
  CHECK(r.topics[2].ec == kafka_errc::invalid_config);
  CHECK(r.topics[2].error_message.find("sometimes") != std::string::npos);
  CHECK(ec == kafka_errc::invalid_replication_factor);  // the first failed topic's
  CHECK(r.error_text.find(bad_rf + ": INVALID_REPLICATION_FACTOR") != std::string::npos);
  CHECK(r.error_text.find(bad_config + ": INVALID_CONFIG") != std::string::npos);
  CHECK(r.error_text.find(good) == std::string::npos);
  described_with_leaders(io, admin, good, 1);
  CHECK_FALSE(listed(io, admin, bad_rf));

  // Deleting a topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION, named, at once (not retried).
  const auto start = std::chrono::steady_clock::now();
  auto [dec, d] = run(io, admin.delete_topics({bad_rf}));
  CHECK(std::chrono::steady_clock::now() - start < 10s);
  CHECK(dec == kafka_errc::unknown_topic_or_partition);
  REQUIRE(d.topics.size() == 1);
  CHECK(d.topics.front().ec == kafka_errc::unknown_topic_or_partition);
  CHECK(d.error_text.find(bad_rf + ": UNKNOWN_TOPIC_OR_PARTITION") != std::string::npos);

  // Describing one: the same error, for that topic only.
  auto [xec, x] = run(io, admin.describe_topics({good, bad_rf}));
  CHECK(xec == kafka_errc::unknown_topic_or_partition);
  REQUIRE(x.topics.size() == 2);
  CHECK_FALSE(x.topics[0].ec);
  CHECK(x.topics[1].ec == kafka_errc::unknown_topic_or_partition);

  auto [cec, cleanup] = run(io, admin.delete_topics({good}));
  CHECK_FALSE(cec);
}

TEST_CASE("Admin: validate_only checks a topic and creates nothing", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string topic = unique("admin-dry");

  // Through the completion-token interface: a plain callback.
  std::optional<std::tuple<std::error_code, AdminResult<CreatedTopic>>> got;
  admin.async_create_topics(
      {NewTopic{.name = topic, .partitions = 2, .replication_factor = 1}},
      CreateTopicsOptions{.validate_only = true},
      [&](std::error_code ec, AdminResult<CreatedTopic> r) { got.emplace(ec, std::move(r)); });
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!got && std::chrono::steady_clock::now() < deadline) io.run_one_for(100ms);
  REQUIRE(got);
  auto& [ec, r] = *got;
  INFO(r.error_text);
  CHECK_FALSE(ec);
  REQUIRE(r.topics.size() == 1);
  CHECK(r.topics.front().partitions == 2);
  CHECK(r.topics.front().replication_factor == 1);

  auto [dec, d] = run(io, admin.describe_topics({topic}));
  CHECK(dec == kafka_errc::unknown_topic_or_partition);
  CHECK_FALSE(listed(io, admin, topic));

  // A dry run is refused as the real thing would be.
  auto [bec, bad] =
      run(io, admin.create_topics({NewTopic{.name = topic, .partitions = 1, .replication_factor = 9}},
                                  CreateTopicsOptions{.validate_only = true}));
  CHECK(bec == kafka_errc::invalid_replication_factor);
  CHECK_FALSE(listed(io, admin, topic));
}

TEST_CASE("Admin: an unreachable cluster ends the call at default.api.timeout.ms, named", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), Config{{"bootstrap.servers", "127.0.0.1:1"},
                                        {"default.api.timeout.ms", "600"},
                                        {"reconnect.backoff.max.ms", "100"}});
  const auto start = std::chrono::steady_clock::now();
  auto [ec, r] = run(io, admin.create_topics({NewTopic{.name = "never", .partitions = 1}}));
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(ec);
  REQUIRE(r.topics.size() == 1);
  CHECK(r.topics.front().ec == ec);
  CHECK(r.error_text.find("never: ") == 0);
  CHECK(took < 10s);
}
