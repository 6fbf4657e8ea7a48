// A refused commit says why, naming the partitions: the text the offset client and the group driver
// give for a commit's per-partition outcomes.
#include <catch2/catch.hpp>

#include "kafkawire/consumer/offset_client.hpp"

using namespace kafkawire;

TEST_CASE("a refused commit names the partitions and the reason", "[offsets][commit]") {
  const std::vector<group::CommitOutcome> outcomes = {
      {{"orders", 0}, 10, {}},  // committed: not mentioned
      {{"orders", 1}, 11, make_error_code(client_errc::not_assigned)},
      {{"orders", 4}, 14, make_error_code(client_errc::not_assigned)},
      {{"audit", 2}, 7, make_error_code(kafka_errc::illegal_generation)},
  };
  const std::string text = commit_failure_text("billing", 5, outcomes);
  // Grouped by reason, in the order of the reasons' text.
  CHECK(text ==
        "commit to group billing refused: orders-1, orders-4: no longer assigned to this member (the group "
        "gave "
        "them to another member in a rebalance); audit-2: the group's generation changed (ILLEGAL_GENERATION "
        "for generation 5): the member rejoins; commit again after the next poll");
  CHECK(text.find("orders-0") == std::string::npos);
  CHECK(text.find("invalid argument") == std::string::npos);

  // Anything else: the error's own words.
  const std::string other = commit_failure_text(
      "billing", -1, {{{"orders", 2}, 1, make_error_code(kafka_errc::offset_metadata_too_large)}});
  CHECK(other ==
        "commit to group billing refused: orders-2: OFFSET_METADATA_TOO_LARGE: " +
            std::string(
                find_kafka_error(static_cast<int16_t>(kafka_errc::offset_metadata_too_large))->message));
}

TEST_CASE("partition lists read as Kafka's tools write them", "[offsets]") {
  CHECK(partition_list({}) == "");
  CHECK(partition_list({{"orders", 0}, {"orders", 3}}) == "orders-0, orders-3");
}
