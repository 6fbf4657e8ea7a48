// One builder and one reader for OffsetFetch and OffsetCommit (protocol/offset_requests.hpp), at every
// version: the request has the shape of its version (v1-7 one group, v8+ Groups, topic ids at v10) and
// encodes; the reader finds the same offsets in Kafka's own bytes (tests/golden/messages.txt) whatever
// the shape.
#include <catch2/catch.hpp>

#include "kafkawire/net/retry.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/offset_requests.hpp"
#include "support/filler.hpp"
#include "support/golden.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::kafka_errc;

namespace {

const Uuid kOrdersId = [] {
  Uuid u;
  for (size_t i = 0; i < u.bytes.size(); ++i) u.bytes[i] = static_cast<uint8_t>(i + 1);
  return u;
}();

OffsetFetchQuery orders_query() {
  OffsetFetchQuery q;
  q.group_id = "billing";
  q.topics->push_back({"orders", kOrdersId, {0, 3}});
  q.require_stable = true;
  return q;
}

template <class M>
M round_trip(const M& m, int16_t version) {
  std::error_code ec;
  const auto bytes = encode(m, version, &ec);
  REQUIRE_FALSE(ec);
  M back;
  REQUIRE_FALSE(decode(Bytes(bytes), back, version));
  return back;
}

template <class M>
M golden(int16_t version) {
  const auto& table = kafkawire::testing::golden_messages();
  auto it = table.find(std::string(M::name) + " " + std::to_string(version));
  REQUIRE(it != table.end());
  M m;
  REQUIRE_FALSE(decode(Bytes(it->second), m, version));
  return m;
}

}  // namespace

TEST_CASE("OffsetFetch request: the shape of each version", "[offsets]") {
  for (int16_t v = OffsetFetchRequest::min_version; v <= OffsetFetchRequest::max_version; ++v) {
    INFO("version " << v);
    const OffsetFetchRequest r = round_trip(make_offset_fetch_request(orders_query(), v), v);
    if (v < 8) {
      CHECK(r.group_id == "billing");
      REQUIRE(r.topics);
      REQUIRE(r.topics->size() == 1);
      CHECK(r.topics->at(0).name == "orders");
      CHECK(r.topics->at(0).partition_indexes == std::vector<int32_t>{0, 3});
      CHECK(r.groups.empty());
    } else {
      CHECK(r.group_id.empty());
      REQUIRE(r.groups.size() == 1);
      CHECK(r.groups[0].group_id == "billing");
      REQUIRE(r.groups[0].topics);
      REQUIRE(r.groups[0].topics->size() == 1);
      const auto& t = r.groups[0].topics->at(0);
      // Named by name to v9, by id from v10: each version carries exactly one of them.
      CHECK(t.name == (v >= 10 ? "" : "orders"));
      CHECK(t.topic_id == (v >= 10 ? kOrdersId : Uuid{}));
      CHECK(t.partition_indexes == std::vector<int32_t>{0, 3});
    }
    CHECK(r.require_stable == (v >= 7));
  }
}

TEST_CASE("OffsetFetch request: a consumer-protocol member's id and epoch from v9", "[offsets]") {
  OffsetFetchQuery q = orders_query();
  q.member_id = "client-made-uuid";
  q.member_epoch = 7;
  for (int16_t v = 8; v <= OffsetFetchRequest::max_version; ++v) {
    INFO("version " << v);
    const OffsetFetchRequest r = round_trip(make_offset_fetch_request(q, v), v);
    REQUIRE(r.groups.size() == 1);
    CHECK(r.groups[0].member_id == (v >= 9 ? std::optional<std::string>("client-made-uuid") : std::nullopt));
    CHECK(r.groups[0].member_epoch == (v >= 9 ? 7 : -1));
  }
}

TEST_CASE("OffsetFetch request: every topic of the group needs v2", "[offsets]") {
  OffsetFetchQuery q;
  q.group_id = "billing";
  q.topics.reset();
  std::error_code ec;
  encode(make_offset_fetch_request(q, 1), 1, &ec);
  CHECK(ec == std::error_code(client_errc::not_nullable));
  for (int16_t v = 2; v <= OffsetFetchRequest::max_version; ++v) {
    INFO("version " << v);
    const OffsetFetchRequest r = round_trip(make_offset_fetch_request(q, v), v);
    if (v < 8)
      CHECK_FALSE(r.topics);
    else
      CHECK_FALSE(r.groups.at(0).topics);
  }
}

TEST_CASE("OffsetFetch response: the reader finds Kafka's offsets at every version", "[offsets][golden]") {
  for (int16_t v = OffsetFetchResponse::min_version; v <= OffsetFetchResponse::max_version; ++v) {
    INFO("version " << v);
    const auto m = golden<OffsetFetchResponse>(v);
    // The golden values are the filler's: every field set, arrays of two (so two groups from v8).
    const auto filled =
        kafkawire::testing::Filler::make<OffsetFetchResponse>(v, v >= OffsetFetchResponse::first_flexible);
    REQUIRE(m == filled);
    const std::string group = v >= 8 ? m.groups.at(1).group_id : "ignored before v8";
    const OffsetFetchAnswer a = read_offset_fetch_response(m, group, v);
    if (v < 8) {
      CHECK(a.error_code == m.error_code);
      REQUIRE(a.partitions.size() == 4);
      const auto& p = m.topics.at(1).partitions.at(1);
      CHECK(a.partitions[3].topic == m.topics.at(1).name);
      CHECK(a.partitions[3].partition == p.partition_index);
      CHECK(a.partitions[3].offset == p.committed_offset);
      CHECK(a.partitions[3].leader_epoch == p.committed_leader_epoch);
      CHECK(a.partitions[3].metadata == p.metadata);
      CHECK(a.partitions[3].error_code == p.error_code);
    } else {
      // The second group's entry, not the first's.
      const auto& g = m.groups.at(1);
      CHECK(a.error_code == g.error_code);
      REQUIRE(a.partitions.size() == 4);
      const auto& t = g.topics.at(1);
      const auto& p = t.partitions.at(1);
      CHECK(a.partitions[3].topic == (v >= 10 ? "" : t.name));
      CHECK(a.partitions[3].topic_id == t.topic_id);
      CHECK(a.partitions[3].partition == p.partition_index);
      CHECK(a.partitions[3].offset == p.committed_offset);
      CHECK(a.partitions[3].error_code == p.error_code);
      // A group the answer leaves out is an error, not "nothing committed".
      CHECK(read_offset_fetch_response(m, "not asked", v).error_code ==
            static_cast<int16_t>(kafka_errc::unknown_server_error));
    }
  }
}

TEST_CASE("OffsetFetch response: -1 is nothing committed", "[offsets]") {
  OffsetFetchResponse r;
  r.groups.push_back({"billing", {{"orders", {}, {{0, -1, -1, std::nullopt, 0}, {1, 42, 3, "m", 0}}}}, 0});
  const auto a = read_offset_fetch_response(r, "billing", 9);
  REQUIRE(a.partitions.size() == 2);
  CHECK_FALSE(a.partitions[0].offset);
  CHECK(a.partitions[1].offset == 42);
}

TEST_CASE("OffsetCommit request and response at every version", "[offsets][golden]") {
  OffsetCommitQuery q;
  q.group_id = "billing";
  q.generation_id_or_member_epoch = 7;
  q.member_id = "m-1";
  q.group_instance_id = "billing-1";
  q.offsets = {{"orders", kOrdersId, 0, 100, 4, ""},
               {"audit", {}, 2, 7, -1, std::nullopt},
               {"orders", kOrdersId, 3, 200, 4, "x"}};
  for (int16_t v = OffsetCommitRequest::min_version; v <= OffsetCommitRequest::max_version; ++v) {
    INFO("version " << v);
    const OffsetCommitRequest r = round_trip(make_offset_commit_request(q, v), v);
    CHECK(r.group_id == "billing");
    CHECK(r.generation_id_or_member_epoch == 7);
    CHECK(r.member_id == "m-1");
    CHECK(r.group_instance_id == (v >= 7 ? std::optional<std::string>("billing-1") : std::nullopt));
    // One entry per topic, partitions in the order given.
    REQUIRE(r.topics.size() == 2);
    CHECK(r.topics[0].name == (v >= 10 ? "" : "orders"));
    CHECK(r.topics[0].topic_id == (v >= 10 ? kOrdersId : Uuid{}));
    REQUIRE(r.topics[0].partitions.size() == 2);
    CHECK(r.topics[0].partitions[1].partition_index == 3);
    CHECK(r.topics[0].partitions[1].committed_offset == 200);
    CHECK(r.topics[0].partitions[1].committed_leader_epoch == (v >= 6 ? 4 : -1));
    CHECK(r.topics[0].partitions[1].committed_metadata == "x");
    CHECK(r.topics[1].partitions.at(0).committed_metadata == std::nullopt);

    const auto m = golden<OffsetCommitResponse>(v);
    const auto answers = read_offset_commit_response(m, v);
    REQUIRE(answers.size() == 4);
    const auto& t = m.topics.at(1);
    CHECK(answers[2].topic == (v >= 10 ? "" : t.name));
    CHECK(answers[2].topic_id == t.topic_id);
    CHECK(answers[2].partition == t.partitions.at(0).partition_index);
    CHECK(answers[2].error_code == t.partitions.at(0).error_code);
  }
  CHECK(offset_api_max_version(true) == OffsetCommitRequest::max_version);
  CHECK(offset_api_max_version(false) == 9);
}

TEST_CASE("retry budget: backoff doubles to its maximum and never passes the deadline", "[offsets][retry]") {
  using namespace std::chrono_literals;
  using kafkawire::net::RetryBudget;
  const auto t0 = RetryBudget::clock::time_point{} + 1h;
  RetryBudget b(t0 + 1s, 100ms, 300ms);
  CHECK(b.next(t0) == std::optional<RetryBudget::clock::duration>(100ms));
  CHECK(b.next(t0) == std::optional<RetryBudget::clock::duration>(200ms));
  CHECK(b.next(t0) == std::optional<RetryBudget::clock::duration>(300ms));
  CHECK(b.next(t0) == std::optional<RetryBudget::clock::duration>(300ms));
  CHECK(b.retries() == 4);
  // Cut at the deadline, then no more.
  CHECK(b.next(t0 + 900ms) == std::optional<RetryBudget::clock::duration>(100ms));
  CHECK_FALSE(b.next(t0 + 1s));
  CHECK(b.expired(t0 + 1s));
  CHECK_FALSE(b.expired(t0 + 999ms));
  // A maximum below the first backoff is the first backoff.
  RetryBudget flat(t0 + 1s, 100ms, 10ms);
  CHECK(flat.next(t0) == std::optional<RetryBudget::clock::duration>(100ms));
  CHECK(flat.next(t0) == std::optional<RetryBudget::clock::duration>(100ms));
}
