// Admin (consumer/admin.hpp) against the real broker, the calls that change a topic or broker: adding
// partitions (CreatePartitions), describing and altering configs (DescribeConfigs,
// IncrementalAlterConfigs) and deleting records (DeleteRecords), each with a dry run that changes nothing,
// the broker's typed refusals named per topic, resource or partition, and bad input refused before
// anything is sent. The last test case needs the 3-node cluster of the [cluster] tests: run the others with
// "[admin]~[cluster]".
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "admin_helpers.hpp"
#include "kafkawire/protocol/describe_configs.hpp"
#include "kafkawire/protocol/list_offsets.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using kafkawire::testing::admin_config;
using kafkawire::testing::create_topic;
using kafkawire::testing::described_with_leaders;
using kafkawire::testing::run;
using kafkawire::testing::run_until;
using kafkawire::testing::unique;
namespace proto = kafkawire::protocol;

namespace {

using KeyState = std::pair<std::optional<std::string>, int8_t>;

// A config's value as DescribeConfigs gives it now, and where it comes from.
KeyState config_of(asio::io_context& io, Admin& admin, ConfigResource resource, const std::string& key) {
  auto [ec, r] = run(io, admin.describe_configs({resource}));
  INFO(r.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(r.topics.size() == 1);
  const ConfigEntry* e = r.topics.front().get(key);
  REQUIRE(e != nullptr);
  return {e->value, e->source};
}

// The config once `done` holds for it (an alteration reaches the broker that describes it a moment after
// the controller took it), else what it reads after 10 s.
template <class Done>
KeyState config_when(asio::io_context& io, Admin& admin, ConfigResource resource, const std::string& key,
                     Done done) {
  auto got = config_of(io, admin, resource, key);
  for (int attempt = 0; attempt < 100 && !done(got); ++attempt) {
    std::this_thread::sleep_for(100ms);
    got = config_of(io, admin, resource, key);
  }
  return got;
}
KeyState config_reaching(asio::io_context& io, Admin& admin, ConfigResource resource, const std::string& key,
                         const KeyState& expected) {
  return config_when(io, admin, resource, key, [&](const KeyState& v) { return v == expected; });
}
bool not_on_topic(const KeyState& v) { return v.second != proto::ConfigSource::kTopicConfig; }

// A partition's log start offset, asked with a ListOffsets of our own (not the Admin's dry run).
int64_t log_start_offset(asio::io_context& io, Admin& admin, const std::string& topic, int32_t partition) {
  proto::ListOffsetsRequest req;
  req.replica_id = -1;
  req.topics.push_back({topic, {{partition, -1, proto::ListOffsetsRequest::kEarliestTimestamp}}});
  const auto leader = admin.pool().metadata().leader(topic, partition);
  REQUIRE(leader);
  auto f = asio::co_spawn(io, admin.pool().send(*leader, net::Purpose::general, req), asio::use_future);
  auto [ec, reply] = run_until(io, f);
  REQUIRE_FALSE(ec);
  REQUIRE(reply->topics.size() == 1);
  REQUIRE(reply->topics[0].partitions.size() == 1);
  REQUIRE(reply->topics[0].partitions[0].error_code == 0);
  return reply->topics[0].partitions[0].offset;
}

int32_t some_broker(asio::io_context& io, Admin& admin) {
  auto refreshed =
      asio::co_spawn(io, admin.pool().refresh_metadata(std::vector<std::string>{}), asio::use_future);
  auto [ec, none] = run_until(io, refreshed);
  REQUIRE_FALSE(ec);
  REQUIRE_FALSE(admin.pool().metadata().brokers().empty());
  return admin.pool().metadata().brokers().begin()->first;
}

}  // namespace

TEST_CASE("Admin adds partitions: validate_only adds none, fewer is INVALID_PARTITIONS", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string topic = unique("admin-parts"), missing = unique("admin-parts-none");
  create_topic(io, topic, 2);

  // A dry run, through the completion-token interface: checked by the controller, nothing added.
  auto dry = admin.async_create_partitions({NewPartitions{.topic = topic, .total_count = 4}},
                                           CreatePartitionsOptions{.validate_only = true}, asio::use_future);
  auto [dec, dr] = run_until(io, dry);
  INFO(dr.error_text);
  REQUIRE_FALSE(dec);
  REQUIRE(dr.topics.size() == 1);
  CHECK(dr.topics.front().name == topic);
  CHECK_FALSE(dr.topics.front().ec);
  std::this_thread::sleep_for(500ms);  // what a real change would have needed to show
  CHECK(described_with_leaders(io, admin, topic, 2).partitions.size() == 2);

  auto [ec, r] = run(io, admin.create_partitions({NewPartitions{.topic = topic, .total_count = 4}}));
  INFO(r.error_text);
  REQUIRE_FALSE(ec);
  CHECK_FALSE(r.topics.front().ec);
  CHECK(described_with_leaders(io, admin, topic, 4).partitions.size() == 4);

  // Fewer than there are: INVALID_PARTITIONS with the controller's message; an unknown topic; and bad
  // input (a count of 0, no name) refused before sending, each named, the others unaffected.
  auto [fec, f] =
      run(io, admin.create_partitions({NewPartitions{.topic = topic, .total_count = 3},
                                       NewPartitions{.topic = missing, .total_count = 2},
                                       NewPartitions{.topic = "", .total_count = 2},
                                       NewPartitions{.topic = topic + "-zero", .total_count = 0}}));
  INFO(f.error_text);
  CHECK(fec == kafka_errc::invalid_partitions);
  REQUIRE(f.topics.size() == 4);
  CHECK(f.topics[0].ec == kafka_errc::invalid_partitions);
  CHECK(f.topics[0].error_message.find("4") != std::string::npos);  // the count it has
  CHECK(f.error_text.find(topic + ": INVALID_PARTITIONS: " + f.topics[0].error_message) != std::string::npos);
  CHECK(f.topics[1].ec == kafka_errc::unknown_topic_or_partition);
  CHECK(f.topics[2].ec == client_errc::invalid_argument);
  CHECK(f.topics[3].ec == client_errc::invalid_argument);
  CHECK(f.topics[3].error_message.find("0") != std::string::npos);
  CHECK(described_with_leaders(io, admin, topic, 4).partitions.size() == 4);

  auto [xec, x] = run(io, admin.delete_topics({topic}));
  CHECK_FALSE(xec);
}

TEST_CASE("Admin describes and alters a topic's configs; validate_only changes nothing", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string topic = unique("admin-cfg"), missing = unique("admin-cfg-none");
  create_topic(io, topic, 1, {{"retention.ms", "123456789"}});
  const ConfigResource res{ConfigResourceType::topic, topic};

  // Described: the key set on the topic, the ones it takes from the broker's defaults, with synonyms.
  auto [ec, d] = run(io, admin.describe_configs({res}, DescribeConfigsOptions{.include_synonyms = true}));
  INFO(d.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(d.topics.size() == 1);
  const DescribedConfigs& c = d.topics.front();
  CHECK(c.type == ConfigResourceType::topic);
  CHECK(c.name == topic);
  const ConfigEntry* retention = c.get("retention.ms");
  REQUIRE(retention != nullptr);
  CHECK(retention->value == "123456789");
  CHECK(retention->source == proto::ConfigSource::kTopicConfig);
  CHECK(config_source_name(retention->source) == "DYNAMIC_TOPIC_CONFIG");
  CHECK_FALSE(retention->sensitive);
  REQUIRE_FALSE(retention->synonyms.empty());  // the topic's own first
  CHECK(retention->synonyms.front().name == "retention.ms");
  CHECK(retention->synonyms.front().value == "123456789");
  CHECK(retention->synonyms.front().source == proto::ConfigSource::kTopicConfig);
  const ConfigEntry* segment = c.get("segment.bytes");
  REQUIRE(segment != nullptr);
  CHECK(segment->source != proto::ConfigSource::kTopicConfig);
  REQUIRE_FALSE(segment->synonyms.empty());  // the broker's key it falls back to
  CHECK(segment->synonyms.back().name == "log.segment.bytes");
  CHECK(segment->synonyms.back().value == segment->value);
  CHECK(c.configs.size() > 20);

  // validate_only: checked, nothing changed.
  auto [vec, v] = run(
      io, admin.incremental_alter_configs(
              {ConfigChange{
                  res, {{"retention.ms", ConfigOp::set, "1000"}, {"segment.ms", ConfigOp::set, "60000"}}}},
              AlterConfigsOptions{.validate_only = true}));
  INFO(v.error_text);
  CHECK_FALSE(vec);
  CHECK(config_of(io, admin, res, "retention.ms").first == "123456789");
  CHECK(config_of(io, admin, res, "segment.ms").second != proto::ConfigSource::kTopicConfig);

  // Set, append to a list, then subtract from it and delete a key: the rest stays as it was.
  auto [sec, s] = run(
      io,
      admin.incremental_alter_configs({ConfigChange{
          res, {{"segment.ms", ConfigOp::set, "60000"}, {"cleanup.policy", ConfigOp::append, "compact"}}}}));
  INFO(s.error_text);
  REQUIRE_FALSE(sec);
  CHECK(config_reaching(io, admin, res, "segment.ms", {"60000", proto::ConfigSource::kTopicConfig}).first ==
        "60000");
  CHECK(
      config_reaching(io, admin, res, "cleanup.policy", {"delete,compact", proto::ConfigSource::kTopicConfig})
          .first == "delete,compact");
  CHECK(config_of(io, admin, res, "retention.ms").first == "123456789");
  auto [uec, u] = run(io, admin.incremental_alter_configs(
                              {ConfigChange{res,
                                            {{"cleanup.policy", ConfigOp::subtract, "compact"},
                                             {"retention.ms", ConfigOp::remove, std::nullopt}}}}));
  INFO(u.error_text);
  REQUIRE_FALSE(uec);
  CHECK(config_reaching(io, admin, res, "cleanup.policy", {"delete", proto::ConfigSource::kTopicConfig})
            .first == "delete");
  CHECK(not_on_topic(config_when(io, admin, res, "retention.ms", not_on_topic)));

  // A key the broker does not know: INVALID_CONFIG with its message, and the resource's other change not
  // made (a resource's keys change together or not at all). A topic that does not exist, named.
  auto [bec, b] = run(
      io, admin.incremental_alter_configs(
              {ConfigChange{res,
                            {{"segment.ms", ConfigOp::set, "120000"}, {"retention.msx", ConfigOp::set, "5"}}},
               ConfigChange{{ConfigResourceType::topic, missing}, {{"retention.ms", ConfigOp::set, "5"}}}}));
  CHECK(bec == kafka_errc::invalid_config);
  REQUIRE(b.topics.size() == 2);
  CHECK(b.topics[0].ec == kafka_errc::invalid_config);
  CHECK(b.topics[0].error_message.find("retention.msx") != std::string::npos);
  CHECK(b.error_text.find("topic " + topic + ": INVALID_CONFIG: ") != std::string::npos);
  CHECK(b.topics[1].ec == kafka_errc::unknown_topic_or_partition);
  CHECK(b.error_text.find("topic " + missing + ": UNKNOWN_TOPIC_OR_PARTITION") != std::string::npos);
  CHECK(config_of(io, admin, res, "segment.ms").first == "60000");

  // Describing a topic that does not exist: its error, the other resource described.
  auto [mec, m] = run(io, admin.describe_configs({{ConfigResourceType::topic, missing}, res}));
  CHECK(mec == kafka_errc::unknown_topic_or_partition);
  REQUIRE(m.topics.size() == 2);
  CHECK(m.topics[0].ec == kafka_errc::unknown_topic_or_partition);
  CHECK_FALSE(m.topics[1].ec);
  CHECK_FALSE(m.topics[1].configs.empty());

  // Bad input, refused before anything is sent: a set without a value, no change at all.
  auto [iec, i] = run(
      io, admin.incremental_alter_configs({ConfigChange{res, {{"retention.ms", ConfigOp::set, std::nullopt}}},
                                           ConfigChange{{ConfigResourceType::topic, missing}, {}}}));
  CHECK(iec == client_errc::invalid_argument);
  REQUIRE(i.topics.size() == 2);
  CHECK(i.topics[0].error_message.find("retention.ms") != std::string::npos);
  CHECK(i.topics[1].ec == client_errc::invalid_argument);

  auto [xec, x] = run(io, admin.delete_topics({topic}));
  CHECK_FALSE(xec);
}

TEST_CASE("Admin describes and alters a broker's configs, sent to that broker", "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const int32_t id = some_broker(io, admin);
  const ConfigResource broker{ConfigResourceType::broker, std::to_string(id)};

  auto [ec, d] = run(io, admin.describe_configs({broker, ConfigResource{ConfigResourceType::broker, ""}}));
  INFO(d.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(d.topics.size() == 2);
  const DescribedConfigs& c = d.topics.front();
  CHECK(c.type == ConfigResourceType::broker);
  CHECK(c.name == std::to_string(id));
  const ConfigEntry* node = c.get("node.id");
  REQUIRE(node != nullptr);
  CHECK(node->value == std::to_string(id));
  CHECK(node->read_only);
  // A sensitive key is never sent with its value.
  for (const auto& e : c.configs)
    if (e.sensitive) CHECK_FALSE(e.value.has_value());
  CHECK(d.topics[1].error_text().empty());

  // A per-broker dynamic key: a dry run changes nothing; set, then deleted again.
  const std::string key = "log.cleaner.backoff.ms";
  const auto before = config_of(io, admin, broker, key);
  CHECK(before.second != proto::ConfigSource::kDynamicBrokerConfig);
  auto [vec, v] =
      run(io, admin.incremental_alter_configs({ConfigChange{broker, {{key, ConfigOp::set, "16001"}}}},
                                              AlterConfigsOptions{.validate_only = true}));
  INFO(v.error_text);
  CHECK_FALSE(vec);
  CHECK(config_of(io, admin, broker, key) == before);
  auto [sec, s] =
      run(io, admin.incremental_alter_configs({ConfigChange{broker, {{key, ConfigOp::set, "16001"}}}}));
  INFO(s.error_text);
  REQUIRE_FALSE(sec);
  const KeyState set{"16001", proto::ConfigSource::kDynamicBrokerConfig};
  CHECK(config_reaching(io, admin, broker, key, set).first == "16001");
  auto [rec, r] =
      run(io, admin.incremental_alter_configs({ConfigChange{broker, {{key, ConfigOp::remove, {}}}}}));
  INFO(r.error_text);
  CHECK_FALSE(rec);
  CHECK(config_reaching(io, admin, broker, key, before).second == before.second);

  // A value the broker refuses, and a broker that is not in the cluster (refused before sending).
  auto [bec, b] =
      run(io, admin.incremental_alter_configs(
                  {ConfigChange{broker, {{key, ConfigOp::set, "soon"}}},
                   ConfigChange{{ConfigResourceType::broker, "9999"}, {{key, ConfigOp::set, "1"}}}}));
  REQUIRE(b.topics.size() == 2);
  // (Kafka answers a bad broker value INVALID_REQUEST, a bad topic value INVALID_CONFIG.)
  CHECK(b.topics[0].ec == kafka_errc::invalid_request);
  CHECK(b.topics[0].error_message.find("soon") != std::string::npos);
  CHECK(b.topics[0].error_text().find("broker " + std::to_string(id) + ": INVALID_REQUEST: ") == 0);
  CHECK(b.topics[1].ec == client_errc::invalid_argument);
  CHECK(b.topics[1].error_message.find("9999 is not in the cluster") != std::string::npos);
  CHECK(config_of(io, admin, broker, key) == before);
}

TEST_CASE("Admin deletes records: a dry run deletes none, the leader's refusals per partition",
          "[broker][admin]") {
  asio::io_context io;
  Admin admin(io.get_executor(), admin_config());
  const std::string topic = unique("admin-records"), compacted = unique("admin-records-compact");
  create_topic(io, topic, 2);
  kafkawire::testing::produce(io, topic, 2, 20);  // 10 records in each partition

  // The dry run: where each partition is, and what the deletion would do; nothing deleted.
  auto dry = admin.async_delete_records(
      {RecordsToDelete{topic, 0, 4}, RecordsToDelete{topic, 1, RecordsToDelete::kHighWatermark}},
      DeleteRecordsOptions{.dry_run = true}, asio::use_future);
  auto [dec, dr] = run_until(io, dry);
  INFO(dr.error_text);
  REQUIRE_FALSE(dec);
  REQUIRE(dr.topics.size() == 2);
  CHECK(dr.topics[0].partition == 0);
  CHECK(dr.topics[0].log_start_offset == 0);
  CHECK(dr.topics[0].high_watermark == 10);
  CHECK(dr.topics[0].low_watermark == 4);
  CHECK(dr.topics[1].low_watermark == 10);
  CHECK(log_start_offset(io, admin, topic, 0) == 0);
  CHECK(log_start_offset(io, admin, topic, 1) == 0);

  auto [ec, r] = run(io, admin.delete_records({RecordsToDelete{topic, 0, 4}, RecordsToDelete{topic, 1, -1}}));
  INFO(r.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(r.topics.size() == 2);
  CHECK(r.topics[0].name == topic);
  CHECK(r.topics[0].low_watermark == 4);
  CHECK(r.topics[1].low_watermark == 10);
  CHECK(log_start_offset(io, admin, topic, 0) == 4);
  CHECK(log_start_offset(io, admin, topic, 1) == 10);

  // Past the high watermark: OFFSET_OUT_OF_RANGE, the same in a dry run; a partition the topic does not
  // have, a topic that does not exist; bad input refused before sending.
  for (bool dry_run : {true, false}) {
    INFO("dry run " << dry_run);
    auto [fec, f] =
        run(io, admin.delete_records({RecordsToDelete{topic, 0, 100}, RecordsToDelete{topic, 7, 1},
                                      RecordsToDelete{topic + "-none", 0, 1}, RecordsToDelete{topic, 1, -5},
                                      RecordsToDelete{topic, 0, 5}},
                                     DeleteRecordsOptions{.dry_run = dry_run}));
    INFO(f.error_text);
    CHECK(fec == kafka_errc::offset_out_of_range);
    REQUIRE(f.topics.size() == 5);
    CHECK(f.topics[0].ec == kafka_errc::offset_out_of_range);
    CHECK(f.error_text.find(topic + " partition 0: OFFSET_OUT_OF_RANGE") != std::string::npos);
    CHECK(f.topics[1].ec == kafka_errc::unknown_topic_or_partition);
    CHECK(f.topics[1].error_message.find("2 partition(s)") != std::string::npos);
    CHECK(f.topics[2].ec == kafka_errc::unknown_topic_or_partition);
    CHECK(f.topics[3].ec == client_errc::invalid_argument);
    CHECK(f.topics[4].ec == client_errc::invalid_argument);  // partition 0 given twice
    CHECK(log_start_offset(io, admin, topic, 0) == 4);
  }

  // A compacted topic keeps its records: POLICY_VIOLATION from the leader, and from the dry run.
  create_topic(io, compacted, 1, {{"cleanup.policy", "compact"}});
  kafkawire::testing::produce(io, compacted, 1, 5);
  for (bool dry_run : {true, false}) {
    auto [pec, p] = run(io, admin.delete_records({RecordsToDelete{compacted, 0, 2}},
                                                 DeleteRecordsOptions{.dry_run = dry_run}));
    CHECK(pec == kafka_errc::policy_violation);
    CHECK(p.error_text.find(compacted + " partition 0: POLICY_VIOLATION") == 0);
  }
  CHECK(log_start_offset(io, admin, compacted, 0) == 0);

  auto [xec, x] = run(io, admin.delete_topics({topic, compacted}));
  CHECK_FALSE(xec);
}

// On the 3-node cluster of the [cluster] tests (tests/broker/cluster_fixture.sh, KAFKAWIRE_CLUSTER_PORT,
// default 29192): the Admin's metadata names the wrong leader, so DeleteRecords first goes to a follower,
// which answers NOT_LEADER_OR_FOLLOWER; the Admin refreshes the metadata and sends it to the leader.
TEST_CASE("Admin delete_records: NOT_LEADER_OR_FOLLOWER refreshes the metadata and goes to the leader",
          "[cluster][admin]") {
  const char* env = std::getenv("KAFKAWIRE_CLUSTER_PORT");
  const int port = env && *env ? std::stoi(env) : 29192;
  std::string bootstrap;
  for (int i = 0; i < 3; ++i) bootstrap += (i ? ",127.0.0.1:" : "127.0.0.1:") + std::to_string(port + 2 * i);
  INFO("tests/broker/cluster_fixture.sh start, KAFKAWIRE_CLUSTER_PORT; the cluster at " << bootstrap);
  asio::io_context io;
  const std::string topic = unique("admin-not-leader");
  create_topic(io, topic, 1, {}, bootstrap, 3);
  Admin admin(io.get_executor(),
              Config{{"bootstrap.servers", bootstrap}, {"default.api.timeout.ms", "30000"}});
  {
    Producer producer(io.get_executor(), Config{{"bootstrap.servers", bootstrap}, {"linger.ms", "5"}});
    for (int i = 0; i < 10; ++i) {
      auto f = producer.async_send(ProducerRecord{.topic = topic, .partition = 0, .value = std::to_string(i)},
                                   asio::use_future);
      auto [ec, md] = run_until(io, f);
      REQUIRE_FALSE(ec);
    }
  }
  const TopicDescription d = described_with_leaders(io, admin, topic, 1);
  const int32_t leader = d.partitions[0].leader;
  int32_t follower = -1;
  for (int32_t r : d.partitions[0].replicas)
    if (r != leader) follower = r;
  REQUIRE(follower >= 0);
  // A leader hint with a newer epoch is taken as it is: the pool now believes the follower leads.
  admin.pool().metadata().apply_leader_hint(topic, 0, follower, d.partitions[0].leader_epoch + 1);
  REQUIRE(admin.pool().metadata().leader(topic, 0) == follower);
  REQUIRE_FALSE(admin.pool().needs_metadata(topic));

  auto [ec, r] = run(io, admin.delete_records({RecordsToDelete{topic, 0, 3}}));
  INFO(r.error_text);
  REQUIRE_FALSE(ec);
  REQUIRE(r.topics.size() == 1);
  CHECK(r.topics[0].low_watermark == 3);
  CHECK(admin.pool().metadata().leader(topic, 0) == leader);  // refreshed

  auto [xec, x] = run(io, admin.delete_topics({topic}));
  CHECK_FALSE(xec);
}
