// The group driver's requests (consumer/group_requests.hpp): GroupMember's actions, built at each version
// the driver may negotiate. Each request is encoded and decoded again at that version, so what is checked is
// what goes on the wire.
#include <catch2/catch.hpp>
#include <deque>

#include "kafkawire/consumer/group_requests.hpp"

using namespace std::chrono_literals;
namespace proto = kafkawire::protocol;
namespace act = kafkawire::group::action;
namespace gr = kafkawire::group_requests;
using kafkawire::group::TopicPartition;

namespace {

// The request as the broker reads it at `version`. A decoded message's Bytes point into the frame it was
// read from, so the frames stay alive until the program ends (a few hundred bytes).
template <class Req>
Req on_the_wire(const Req& request, int16_t version) {
  static std::deque<std::vector<uint8_t>> frames;
  std::error_code ec;
  frames.push_back(proto::encode(request, version, &ec));
  REQUIRE_FALSE(ec);
  Req decoded;
  REQUIRE_FALSE(proto::decode(proto::Bytes(frames.back()), decoded, version));
  return decoded;
}

act::SendJoinGroup join_action() {
  act::SendJoinGroup a;
  a.group_id = "billing";
  a.member_id = "m1";
  a.group_instance_id = "billing-1";
  a.session_timeout = 10s;
  a.rebalance_timeout = 60s;
  a.protocol_type = "consumer";
  a.protocols = {{"cooperative-sticky", {1, 2, 3}}, {"range", {4, 5}}};
  a.reason = "Heartbeat: REBALANCE_IN_PROGRESS";
  return a;
}

std::vector<uint8_t> bytes_of(proto::Bytes b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("JoinGroup is built with the fields of the negotiated version", "[group_requests]") {
  const act::SendJoinGroup a = join_action();

  SECTION("v0: no rebalance timeout, no instance id, no reason") {
    const auto r = on_the_wire(gr::join_group_request(a, 0), 0);
    CHECK(r.group_id == "billing");
    CHECK(r.member_id == "m1");
    CHECK(r.session_timeout_ms == 10000);
    CHECK(r.rebalance_timeout_ms == -1);
    CHECK_FALSE(r.group_instance_id);
    CHECK_FALSE(r.reason);
    CHECK(r.protocol_type == "consumer");
    REQUIRE(r.protocols.size() == 2);
    CHECK(r.protocols[0].name == "cooperative-sticky");
    CHECK(bytes_of(r.protocols[0].metadata) == std::vector<uint8_t>{1, 2, 3});
    CHECK(r.protocols[1].name == "range");
    CHECK(bytes_of(r.protocols[1].metadata) == std::vector<uint8_t>{4, 5});
  }
  SECTION("v5: rebalance timeout and static membership, no reason yet") {
    const auto r = on_the_wire(gr::join_group_request(a, 5), 5);
    CHECK(r.rebalance_timeout_ms == 60000);
    CHECK(r.group_instance_id == std::optional<std::string>("billing-1"));
    CHECK_FALSE(r.reason);
  }
  SECTION("v9: everything, flexible") {
    const auto built = gr::join_group_request(a, 9);
    const auto r = on_the_wire(built, 9);
    CHECK(r == built);
    CHECK(r.rebalance_timeout_ms == 60000);
    CHECK(r.group_instance_id == std::optional<std::string>("billing-1"));
    CHECK(r.reason == std::optional<std::string>("Heartbeat: REBALANCE_IN_PROGRESS"));
  }
  SECTION("the metadata points into the action, not into a copy that dies") {
    const auto r = gr::join_group_request(a, 9);
    CHECK(r.protocols[0].metadata.data() == a.protocols[0].metadata.data());
  }
  SECTION("a dynamic member's first join: no member id, no instance id") {
    act::SendJoinGroup first = join_action();
    first.member_id.clear();
    first.group_instance_id.reset();
    first.reason.clear();
    const auto r = on_the_wire(gr::join_group_request(first, 9), 9);
    CHECK(r.member_id.empty());
    CHECK_FALSE(r.group_instance_id);
    CHECK_FALSE(r.reason);
  }
}

TEST_CASE("SyncGroup is built in each of its shapes", "[group_requests]") {
  act::SendSyncGroup a;
  a.group_id = "billing";
  a.generation = 4;
  a.member_id = "m1";
  a.group_instance_id = "billing-1";
  a.protocol_type = "consumer";
  a.protocol_name = "range";
  a.assignments = {{"m1", {9, 8}}, {"m2", {7}}};

  auto check_common = [](const proto::SyncGroupRequest& r) {
    CHECK(r.group_id == "billing");
    CHECK(r.generation_id == 4);
    CHECK(r.member_id == "m1");
    REQUIRE(r.assignments.size() == 2);
    CHECK(r.assignments[0].member_id == "m1");
    CHECK(bytes_of(r.assignments[0].assignment) == std::vector<uint8_t>{9, 8});
    CHECK(r.assignments[1].member_id == "m2");
    CHECK(bytes_of(r.assignments[1].assignment) == std::vector<uint8_t>{7});
  };
  SECTION("v0-2: no instance id, no protocol") {
    for (int16_t v : {0, 1, 2}) {
      const auto r = on_the_wire(gr::sync_group_request(a, v), v);
      check_common(r);
      CHECK_FALSE(r.group_instance_id);
      CHECK_FALSE(r.protocol_type);
      CHECK_FALSE(r.protocol_name);
    }
  }
  SECTION("v3-4: static membership") {
    for (int16_t v : {3, 4}) {
      const auto r = on_the_wire(gr::sync_group_request(a, v), v);
      check_common(r);
      CHECK(r.group_instance_id == std::optional<std::string>("billing-1"));
      CHECK_FALSE(r.protocol_name);
    }
  }
  SECTION("v5: the protocol type and name, checked by the broker (KIP-559)") {
    const auto r = on_the_wire(gr::sync_group_request(a, 5), 5);
    check_common(r);
    CHECK(r.group_instance_id == std::optional<std::string>("billing-1"));
    CHECK(r.protocol_type == std::optional<std::string>("consumer"));
    CHECK(r.protocol_name == std::optional<std::string>("range"));
  }
  SECTION("a follower sends no assignments") {
    act::SendSyncGroup follower = a;
    follower.assignments.clear();
    CHECK(on_the_wire(gr::sync_group_request(follower, 5), 5).assignments.empty());
  }
}

TEST_CASE("Heartbeat and LeaveGroup are built in each of their shapes", "[group_requests]") {
  const act::SendHeartbeat hb{0, 1, "billing", 3, "m1", "billing-1"};
  const auto h2 = on_the_wire(gr::heartbeat_request(hb, 2), 2);
  CHECK(h2.generation_id == 3);
  CHECK(h2.member_id == "m1");
  CHECK_FALSE(h2.group_instance_id);
  CHECK(on_the_wire(gr::heartbeat_request(hb, 4), 4).group_instance_id ==
        std::optional<std::string>("billing-1"));

  const act::SendLeaveGroup leave{0, 1, "billing", "m1", "close"};
  const auto l2 = on_the_wire(gr::leave_group_request(leave, 2), 2);
  CHECK(l2.group_id == "billing");
  CHECK(l2.member_id == "m1");
  CHECK(l2.members.empty());
  const auto l3 = on_the_wire(gr::leave_group_request(leave, 3), 3);
  CHECK(l3.member_id.empty());
  REQUIRE(l3.members.size() == 1);
  CHECK(l3.members[0].member_id == "m1");
  CHECK_FALSE(l3.members[0].group_instance_id);
  CHECK_FALSE(l3.members[0].reason);
  const auto l5 = on_the_wire(gr::leave_group_request(leave, 5), 5);
  REQUIRE(l5.members.size() == 1);
  CHECK(l5.members[0].reason == std::optional<std::string>("close"));
}

TEST_CASE("OffsetCommit and OffsetFetch: topic ids from the driver's metadata, v10 only when all are known",
          "[group_requests]") {
  const proto::Uuid orders_id{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
  gr::TopicIdOf ids = [&](const std::string& name) { return name == "orders" ? orders_id : proto::Uuid{}; };

  act::SendOffsetCommit commit{7, 3, 1, "billing", 2, "m1", std::nullopt, {}};
  commit.offsets = {{{"orders", 0}, 42, 5, "meta"}, {{"orders", 1}, 43, -1, std::nullopt}};
  auto q = gr::offset_commit_query(commit, ids);
  CHECK(q.group_id == "billing");
  CHECK(q.generation_id_or_member_epoch == 2);
  CHECK(q.member_id == "m1");
  REQUIRE(q.offsets.size() == 2);
  CHECK(q.offsets[0].topic == "orders");
  CHECK(q.offsets[0].topic_id == orders_id);
  CHECK(q.offsets[0].offset == 42);
  CHECK(q.offsets[0].leader_epoch == 5);
  CHECK(q.offsets[1].partition == 1);
  CHECK(gr::max_version(q) == 10);
  commit.offsets.push_back({{"payments", 0}, 1, -1, std::nullopt});
  CHECK(gr::max_version(gr::offset_commit_query(commit, ids)) == 9);

  act::SendOffsetFetch fetch{7, 1, "billing", {{"orders", 1}, {"orders", 0}}, true};
  auto f = gr::offset_fetch_query(fetch, ids);
  CHECK(f.group_id == "billing");
  CHECK(f.require_stable);
  REQUIRE(f.topics);
  REQUIRE(f.topics->size() == 1);
  CHECK(f.topics->at(0).topic == "orders");
  CHECK(f.topics->at(0).topic_id == orders_id);
  CHECK(f.topics->at(0).partitions == std::vector<int32_t>{1, 0});
  CHECK(gr::max_version(f) == 10);
  fetch.partitions.push_back({"payments", 0});
  CHECK(gr::max_version(gr::offset_fetch_query(fetch, ids)) == 9);
}

TEST_CASE("a KIP-848 member's OffsetFetch names the member and its epoch (v9+)", "[group_requests]") {
  namespace cg = kafkawire::group::consumer_group;
  cg::action::SendOffsetFetch in_group{3, 1, "billing", "m-1", 7, {{"orders", 0}}, true};
  auto q = gr::offset_fetch_query(in_group, {});
  CHECK(q.member_id == std::optional<std::string>("m-1"));
  CHECK(q.member_epoch == 7);
  CHECK(q.require_stable);
  REQUIRE(q.topics);
  CHECK(q.topics->at(0).partitions == std::vector<int32_t>{0});
  // The fields exist from v9 on: an older version drops them.
  CHECK(proto::make_offset_fetch_request(q, 9).groups.at(0).member_id == std::optional<std::string>("m-1"));
  CHECK(proto::make_offset_fetch_request(q, 9).groups.at(0).member_epoch == 7);
  // Not in the group (no member id): neither is sent, as an admin's fetch.
  cg::action::SendOffsetFetch outside{3, 1, "billing", "", -1, {{"orders", 0}}, true};
  const auto o = gr::offset_fetch_query(outside, {});
  CHECK_FALSE(o.member_id);
  CHECK(o.member_epoch == -1);
}

TEST_CASE("commit and fetch answers reach the member with their topics named", "[group_requests]") {
  const proto::Uuid orders_id{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
  const proto::Uuid unknown_id{{9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9}};
  gr::TopicNameOf names = [&](const proto::Uuid& id) { return id == orders_id ? "orders" : std::string(); };

  // v10 names by id; v9 by name (no id).
  const auto c = gr::offset_commit_result(
      5, 8, {{"", orders_id, 0, 0}, {"payments", {}, 1, 27}, {"", unknown_id, 2, 0}}, names);
  CHECK(c.tag == 5);
  CHECK(c.id == 8);
  REQUIRE(c.partitions.size() == 3);
  CHECK(c.partitions[0].tp == TopicPartition{"orders", 0});
  CHECK(c.partitions[1].tp == TopicPartition{"payments", 1});
  CHECK(c.partitions[1].error_code == 27);
  CHECK(c.partitions[2].tp.topic.empty());  // an id the metadata does not know: unanswered

  proto::OffsetFetchAnswer answer;
  answer.error_code = 0;
  answer.partitions = {{"", orders_id, 3, 42, 5, "meta", 0}, {"payments", {}, 0, std::nullopt, -1, {}, 0}};
  const auto f = gr::offset_fetch_result(6, answer, names);
  CHECK(f.tag == 6);
  REQUIRE(f.partitions.size() == 2);
  CHECK(f.partitions[0].tp == TopicPartition{"orders", 3});
  CHECK(f.partitions[0].offset == 42);
  CHECK(f.partitions[0].leader_epoch == 5);
  CHECK(f.partitions[0].metadata == std::optional<std::string>("meta"));
  CHECK(f.partitions[1].tp == TopicPartition{"payments", 0});
  CHECK_FALSE(f.partitions[1].offset);
}
