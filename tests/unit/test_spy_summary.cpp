// The spy's one-line summaries of the transaction APIs, and its scan for error codes (which must see
// AddPartitionsToTxn's PartitionErrorCode as well as the fields named ErrorCode).
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
