// The spy's one-line summaries of the transaction, administration and group APIs, and its scan for error
// codes (which must see AddPartitionsToTxn's PartitionErrorCode as well as the fields named ErrorCode).
#include <catch2/catch.hpp>

#include "../../tools/kafkawire/spy_summary.hpp"

namespace proto = kafkawire::protocol;
using kafkawire::cli::spy::describe;
using kafkawire::cli::spy::ErrorScan;

TEST_CASE("spy summary: what a transactional producer asks for", "[spy]") {
  proto::AddPartitionsToTxnRequest add;  // v0-3, the client's form
  add.v3_and_below_transactional_id = "ledger";
  add.v3_and_below_producer_id = 7;
  add.v3_and_below_producer_epoch = 2;
  add.v3_and_below_topics = {{"orders", {0, 2}}, {"audit", {1}}};
  CHECK(describe(add) == "ledger (producer 7, epoch 2): orders-0, orders-2, audit-1");
  add.v3_and_below_topics = {{"orders", {0, 1, 2, 3, 4, 5, 6, 7}}};
  CHECK(describe(add) ==
        "ledger (producer 7, epoch 2): orders-0, orders-1, orders-2, orders-3, orders-4, orders-5, ... "
        "(8 partitions)");

  proto::AddPartitionsToTxnRequest batched;  // v4+, a partition leader's form
  batched.transactions = {{"a", 1, 0, true, {{"t", {3}}}}, {"b", 2, 5, false, {}}};
  CHECK(describe(batched) ==
        "verify a (producer 1, epoch 0): t-3; add b (producer 2, epoch 5): no partitions");

  CHECK(describe(proto::AddOffsetsToTxnRequest{"ledger", 7, 2, "billing"}) ==
        "ledger (producer 7, epoch 2), group billing");
  CHECK(describe(proto::EndTxnRequest{"ledger", 7, 2, true}) == "commit ledger (producer 7, epoch 2)");
  CHECK(describe(proto::EndTxnRequest{"ledger", 7, 2, false}) == "abort ledger (producer 7, epoch 2)");

  proto::EndTxnResponse end;  // below v5 (and on an error) there is no next epoch to show
  CHECK(describe(end).empty());
  end.producer_id = 7;
  end.producer_epoch = 3;
  CHECK(describe(end) == "next: producer 7, epoch 3");

  proto::TxnOffsetCommitRequest commit;
  commit.transactional_id = "ledger";
  commit.group_id = "billing";
  commit.producer_id = 7;
  commit.producer_epoch = 2;
  commit.topics.push_back({"orders", {}, {{0, 10, -1, std::nullopt}, {1, 20, -1, std::nullopt}}});
  CHECK(describe(commit) == "ledger (producer 7, epoch 2), group billing, 2 partitions");
}

TEST_CASE("spy summary: the error scan finds PartitionErrorCode too", "[spy]") {
  proto::AddPartitionsToTxnResponse r;  // v3: one topic, a partition refused and one not attempted
  r.results_by_topic_v3_and_below = {{"orders", {{0, 3}, {1, 55}, {2, 55}}}};
  ErrorScan scan(3, true);
  visit(scan, r);
  CHECK(scan.text() == "errors: UNKNOWN_TOPIC_OR_PARTITION OPERATION_NOT_ATTEMPTED x2");

  proto::EndTxnResponse end;
  end.error_code = 90;
  ErrorScan end_scan(5, true);
  visit(end_scan, end);
  CHECK(end_scan.text() == "errors: PRODUCER_FENCED");
}

TEST_CASE("spy summary: topic and cluster administration", "[spy]") {
  CHECK(describe(proto::DeleteGroupsRequest{{"a", "b"}}) == "delete a, b");
  CHECK(describe(proto::DeleteGroupsRequest{{"a", "b", "c", "d", "e"}}) ==
        "delete a, b, c, d, ... (5 groups)");
  CHECK(describe(proto::DeleteGroupsRequest{}) == "no groups");

  proto::CreatePartitionsRequest cp;
  cp.topics.push_back({"orders", 6, std::nullopt});
  cp.topics.push_back(
      {"audit", 1, std::vector<proto::CreatePartitionsRequest::CreatePartitionsAssignment>{}});
  cp.validate_only = true;
  CHECK(describe(cp) == "orders to 6 partitions, audit to 1 partition (assigned), validate only");

  proto::DeleteRecordsRequest dr;
  dr.topics.push_back({"orders", {{0, 42}, {2, proto::DeleteRecordsRequest::kHighWatermark}}});
  CHECK(describe(dr) == "delete orders-0 below 42, orders-2 below the high watermark");
  proto::DeleteRecordsResponse drr;
  drr.topics.push_back({"orders", {{0, 42, 0}, {2, -1, 1}}});
  CHECK(describe(drr) == "orders-0 starts at 42");

  proto::DescribeClusterResponse dc;
  dc.cluster_id = "abc";
  dc.controller_id = 1;
  dc.brokers.push_back({1, "h", 9092, std::nullopt, false});
  CHECK(describe(dc) == "cluster abc, controller 1, 1 broker");

  proto::DescribeConfigsRequest cfg;
  cfg.resources.push_back(
      {proto::ConfigResourceType::kTopic, "orders", std::vector<std::string>{"retention.ms"}});
  cfg.resources.push_back({proto::ConfigResourceType::kBroker, "", std::nullopt});
  CHECK(describe(cfg) == "topic orders (1 key), cluster defaults (all keys)");
  proto::DescribeConfigsResponse cfgr;
  cfgr.results.push_back({0, std::nullopt, proto::ConfigResourceType::kBroker, "1", {{}, {}}});
  CHECK(describe(cfgr) == "broker 1: 2 configs");

  // Only key names: a value may be a password.
  using Alter = proto::IncrementalAlterConfigsRequest;
  Alter alter;
  alter.resources.push_back(
      {proto::ConfigResourceType::kTopic,
       "orders",
       {{"retention.ms", Alter::kSet, "1000"}, {"cleanup.policy", Alter::kDelete, std::nullopt}}});
  alter.resources.push_back({proto::ConfigResourceType::kBroker,
                             "1",
                             {{"listener.name.x.sasl.jaas.config", Alter::kSet, "secret"}}});
  CHECK(describe(alter) ==
        "topic orders: set retention.ms, delete cleanup.policy, broker 1: set "
        "listener.name.x.sasl.jaas.config");
  CHECK(describe(alter).find("secret") == std::string::npos);
}

TEST_CASE("spy summary: ConsumerGroupDescribe", "[spy]") {
  CHECK(describe(proto::ConsumerGroupDescribeRequest{{"orders", "audit"}, false}) == "group orders, audit");
  CHECK(describe(proto::ConsumerGroupDescribeRequest{}) == "no groups");

  proto::ConsumerGroupDescribeResponse r;
  auto& g = r.groups.emplace_back();
  g.group_id = "orders";
  g.group_state = "Stable";
  g.group_epoch = 3;
  g.members.resize(2);
  auto& missing = r.groups.emplace_back();  // an error: nothing to summarize, the error scan reports it
  missing.group_id = "audit";
  missing.error_code = 69;
  CHECK(describe(r) == "orders: Stable, epoch 3, 2 members");
}
