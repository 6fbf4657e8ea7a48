// The metadata cache's table of partitions, built from a Metadata response: indexed by partition number,
// so a hostile index must neither overflow nor size the table.
#include <catch2/catch.hpp>
#include <limits>

#include "kafkawire/net/metadata_cache.hpp"

using namespace kafkawire;

TEST_CASE("metadata cache: a hostile partition index neither overflows nor allocates", "[metadata]") {
  protocol::MetadataResponse m;
  auto& t = m.topics.emplace_back();
  t.name = "orders";
  for (int32_t index : {0, std::numeric_limits<int32_t>::max(), 1, -1}) {
    auto& p = t.partitions.emplace_back();
    p.partition_index = index;
    p.leader_id = index == 1 ? 7 : 3;
  }
  net::MetadataCache cache;
  cache.update(m);
  const net::TopicInfo* info = cache.topic("orders");
  REQUIRE(info);
  // Partitions 0 and 1 are kept at their index; INT32_MAX (past the four listed) and -1 are ignored.
  REQUIRE(info->partitions.size() == 2);
  CHECK(info->partitions[0].leader == 3);
  CHECK(info->partitions[1].leader == 7);
}

TEST_CASE("metadata cache: partitions listed out of order land at their index", "[metadata]") {
  protocol::MetadataResponse m;
  auto& t = m.topics.emplace_back();
  t.name = "orders";
  for (int32_t index : {2, 0, 1}) {
    auto& p = t.partitions.emplace_back();
    p.partition_index = index;
    p.leader_id = 10 + index;
  }
  net::MetadataCache cache;
  cache.update(m);
  const net::TopicInfo* info = cache.topic("orders");
  REQUIRE(info);
  REQUIRE(info->partitions.size() == 3);
  for (int32_t i = 0; i < 3; ++i) CHECK(info->partitions[static_cast<size_t>(i)].leader == 10 + i);
}
