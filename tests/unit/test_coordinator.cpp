// The group member state machine (group/coordinator.hpp), driven by scripted events: no sockets, no
// clocks. Each test plays the broker's part by answering the actions the machine returns.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/error.hpp"

using namespace kafkawire::group;
using namespace std::chrono_literals;
namespace proto = kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::kafka_errc;
using Parts = std::map<std::string, std::vector<int32_t>>;

namespace {

// An error code as a response field carries it.
constexpr int16_t wire(kafka_errc e) { return static_cast<int16_t>(e); }

MemberConfig config(std::vector<std::string> assignors = {"range"}) {
  MemberConfig c;
  c.group_id = "billing";
  c.session_timeout = 10s;
  c.max_poll_interval = 60s;
  c.heartbeat_interval = 3s;
  c.assignors = std::move(assignors);
  c.retry_backoff = 100ms;
  c.retry_backoff_max = 1s;
  return c;
}

template <class T>
std::vector<T> all(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions)
    if (const T* p = std::get_if<T>(&a)) out.push_back(*p);
  return out;
}

template <class T>
std::optional<T> first(const Actions& actions) {
  auto v = all<T>(actions);
  if (v.empty()) return std::nullopt;
  return v.front();
}

// Position of the first action of type T, to check order; -1 if absent.
template <class T>
int index_of(const Actions& actions) {
  for (size_t i = 0; i < actions.size(); ++i)
    if (std::holds_alternative<T>(actions[i])) return static_cast<int>(i);
  return -1;
}

std::vector<TopicPartition> tps(const Parts& parts) {
  std::vector<TopicPartition> v;
  for (const auto& [t, ps] : parts)
    for (int32_t p : ps) v.push_back({t, p});
  return v;
}

std::vector<uint8_t> assignment_bytes(const Parts& parts, int16_t version = 3) {
  proto::ConsumerProtocolAssignment a;
  for (const auto& [t, ps] : parts) a.assigned_partitions.push_back({t, ps});
  return proto::encode_versioned(a, version);
}

std::vector<uint8_t> subscription_bytes(std::vector<std::string> topics, int16_t version = 3,
                                        Parts owned = {}, int32_t generation = -1) {
  proto::ConsumerProtocolSubscription s;
  s.topics = std::move(topics);
  for (const auto& [t, ps] : owned) s.owned_partitions.push_back({t, ps});
  s.generation_id = generation;
  return proto::encode_versioned(s, version);
}

proto::ConsumerProtocolSubscription decode_subscription(const action::SendJoinGroup& j) {
  proto::ConsumerProtocolSubscription s;
  REQUIRE_FALSE(j.protocols.empty());
  REQUIRE_FALSE(proto::decode_versioned(proto::Bytes(j.protocols.front().metadata), s));
  return s;
}

Parts owned_parts(const proto::ConsumerProtocolSubscription& s) {
  Parts p;
  for (const auto& tp : s.owned_partitions) p[tp.topic] = tp.partitions;
  return p;
}

proto::JoinGroupResponse join_ok(int32_t generation, std::string member, std::string leader,
                                 std::string protocol = "range") {
  proto::JoinGroupResponse r;
  r.generation_id = generation;
  r.member_id = std::move(member);
  r.leader = std::move(leader);
  r.protocol_name = std::move(protocol);
  return r;
}

proto::JoinGroupResponse join_error(int16_t code, std::string member = "") {
  proto::JoinGroupResponse r;
  r.error_code = code;
  r.member_id = std::move(member);
  return r;
}

proto::SyncGroupResponse sync_ok(const std::vector<uint8_t>& bytes) {
  proto::SyncGroupResponse r;
  r.assignment = proto::Bytes(bytes);
  return r;
}

proto::SyncGroupResponse sync_error(int16_t code) {
  proto::SyncGroupResponse r;
  r.error_code = code;
  return r;
}

std::vector<PartitionAnswer> commit_answer(const Parts& parts, int16_t code) {
  std::vector<PartitionAnswer> r;
  for (const auto& tp : tps(parts)) r.push_back({tp, code});
  return r;
}

std::vector<OffsetToCommit> offsets(const Parts& parts, int64_t offset) {
  std::vector<OffsetToCommit> v;
  for (const auto& tp : tps(parts)) v.push_back({tp, offset, -1, std::nullopt});
  return v;
}

// One member and the clock it is driven with; every transition it logs is kept.
struct Script {
  std::vector<std::string> log;
  std::string protocol;  // what the scripted broker picks: the member's first assignor
  GroupMember m;
  TimePoint now{};

  explicit Script(MemberConfig cfg = config())
      : protocol(cfg.assignors.front()), m(with_log(std::move(cfg), log)) {}
  static MemberConfig with_log(MemberConfig cfg, std::vector<std::string>& log) {
    cfg.log = [&log](std::string_view line) { log.emplace_back(line); };
    return cfg;
  }

  Actions on(const Event& e) { return m.on_event(e, now); }
  Actions after(std::chrono::milliseconds d, const Event& e) {
    now += d;
    return on(e);
  }
  bool logged(std::string_view text) const {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(text) != l.npos; });
  }

  // Start, FindCoordinator -> node 1, JoinGroup as a follower, SyncGroup with `parts`. Returns the
  // actions of the SyncGroup answer.
  Actions to_stable(const Parts& parts, int32_t generation = 1, std::string member = "m1",
                    std::vector<std::string> topics = {"orders"}) {
    Actions a = on(event::Start{std::move(topics)});
    REQUIRE(first<action::FindCoordinator>(a));
    a = after(5ms, event::CoordinatorFound{1});
    auto join = first<action::SendJoinGroup>(a);
    REQUIRE(join);
    a = after(20ms, event::JoinGroupResult{join->tag, join_ok(generation, member, "leader-0", protocol)});
    auto sync = first<action::SendSyncGroup>(a);
    REQUIRE(sync);
    const auto bytes = assignment_bytes(parts);
    a = after(10ms, event::SyncGroupResult{sync->tag, sync_ok(bytes)});
    REQUIRE(m.state() == State::stable);
    return a;
  }

  // A rebalance started by the caller is answered: JoinGroup ok as follower, SyncGroup with `parts`.
  Actions rejoin(const Actions& with_join, int32_t generation, const Parts& parts,
                 std::string member = "m1") {
    auto join = first<action::SendJoinGroup>(with_join);
    REQUIRE(join);
    Actions a =
        after(20ms, event::JoinGroupResult{join->tag, join_ok(generation, member, "leader-0", protocol)});
    auto sync = first<action::SendSyncGroup>(a);
    REQUIRE(sync);
    const auto bytes = assignment_bytes(parts);
    return after(10ms, event::SyncGroupResult{sync->tag, sync_ok(bytes)});
  }
};

}  // namespace

TEST_CASE("JoinGroup MEMBER_ID_REQUIRED: join again with the member id the broker made up", "[coordinator]") {
  Script s;
  Actions a = s.on(event::Start{{"orders"}});
  CHECK(s.m.state() == State::finding_coordinator);
  REQUIRE(first<action::FindCoordinator>(a)->group_id == "billing");

  a = s.after(5ms, event::CoordinatorFound{1});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(s.m.state() == State::joining);
  CHECK(join->node == 1);
  CHECK(join->group_id == "billing");
  CHECK(join->member_id.empty());
  CHECK(join->session_timeout == 10s);
  CHECK(join->rebalance_timeout == 60s);  // max.poll.interval.ms, as Java sends
  CHECK(join->protocol_type == "consumer");
  CHECK_FALSE(join->group_instance_id);
  REQUIRE(join->protocols.size() == 1);
  CHECK(join->protocols[0].name == "range");
  auto sub = decode_subscription(*join);
  CHECK(sub.topics == std::vector<std::string>{"orders"});
  CHECK(sub.owned_partitions.empty());
  CHECK(sub.generation_id == -1);

  a = s.after(5ms, event::JoinGroupResult{join->tag,
                                          join_error(wire(kafka_errc::member_id_required), "m-generated")});
  auto again = first<action::SendJoinGroup>(a);
  REQUIRE(again);
  CHECK(again->member_id == "m-generated");
  CHECK(again->tag != join->tag);
  CHECK(again->node == 1);
  CHECK(s.m.state() == State::joining);
  CHECK(s.logged("joining -> joining (JoinGroup: MEMBER_ID_REQUIRED: rejoin as m-generated)"));

  // A late duplicate of the first answer is about a request that is gone.
  a = s.on(event::JoinGroupResult{join->tag, join_ok(1, "m-other", "m-other")});
  CHECK(a.empty());
  CHECK(s.m.member_id() == "m-generated");

  a = s.after(5ms, event::JoinGroupResult{again->tag, join_ok(1, "m-generated", "leader-0")});
  REQUIRE(first<action::SendSyncGroup>(a));
  CHECK(s.m.member_id() == "m-generated");
  CHECK(s.m.generation() == 1);
}

TEST_CASE("leader: decodes every subscription, runs the chosen assignor, sends the plan", "[coordinator]") {
  Script s(config({"range", "roundrobin"}));
  Actions a = s.on(event::Start{{"orders"}});
  a = s.on(event::CoordinatorFound{1});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  REQUIRE(join->protocols.size() == 2);
  CHECK(join->protocols[0].name == "range");
  CHECK(join->protocols[1].name == "roundrobin");

  // The broker picked roundrobin (say another member does not do range); m2 is an older client (v1).
  const auto meta1 = subscription_bytes({"orders"});
  const auto meta2 = subscription_bytes({"orders", "payments"}, 1);
  auto resp = join_ok(4, "m1", "m1", "roundrobin");
  resp.members = {{"m1", std::nullopt, proto::Bytes(meta1)}, {"m2", std::nullopt, proto::Bytes(meta2)}};
  a = s.after(20ms, event::JoinGroupResult{join->tag, resp});
  CHECK(s.m.is_leader());
  CHECK(s.m.state() == State::assigning);
  auto md = first<action::RequestMetadata>(a);
  REQUIRE(md);
  CHECK(md->topics == std::vector<std::string>{"orders", "payments"});
  CHECK_FALSE(first<action::SendSyncGroup>(a));

  a = s.after(5ms, event::MetadataUpdated{{{"orders", 3}, {"payments", 2}}});
  auto sync = first<action::SendSyncGroup>(a);
  REQUIRE(sync);
  CHECK(s.m.state() == State::syncing);
  CHECK(sync->generation == 4);
  CHECK(sync->member_id == "m1");
  CHECK(sync->protocol_name == "roundrobin");

  // The plan is what the assignor computes for the same members; each member's assignment is encoded
  // at the version of its subscription.
  std::vector<MemberSubscription> members{{"m1", std::nullopt, {"orders"}, {}, -1, std::nullopt},
                                          {"m2", std::nullopt, {"orders", "payments"}, {}, -1, std::nullopt}};
  const Assignment expected = make_assignor("roundrobin")->assign(members, {{"orders", 3}, {"payments", 2}});
  REQUIRE(sync->assignments.size() == 2);
  size_t total = 0;
  for (const auto& entry : sync->assignments) {
    proto::ConsumerProtocolAssignment got;
    int16_t version = -1;
    REQUIRE_FALSE(proto::decode_versioned(proto::Bytes(entry.assignment), got, &version));
    CHECK(version == (entry.member_id == "m2" ? 1 : 3));
    std::vector<TopicPartition> flat;
    for (const auto& t : got.assigned_partitions)
      for (int32_t p : t.partitions) flat.push_back({t.topic, p});
    CHECK(flat == expected.at(entry.member_id));
    total += flat.size();
  }
  CHECK(total == 5);

  // The leader's own assignment comes back like anyone's.
  std::vector<uint8_t> mine;
  for (const auto& entry : sync->assignments)
    if (entry.member_id == "m1") mine.assign(entry.assignment.begin(), entry.assignment.end());
  a = s.after(10ms, event::SyncGroupResult{sync->tag, sync_ok(mine)});
  CHECK(s.m.state() == State::stable);
  REQUIRE(first<action::Assign>(a));
  CHECK(first<action::Assign>(a)->partitions == expected.at("m1"));
  CHECK(s.m.timeline().back().assign == 5ms);

  // The leader watches the partition counts it assigned with: a new partition means a new rebalance.
  a = s.after(1s, event::MetadataUpdated{{{"payments", 3}}});
  CHECK(s.m.state() == State::revoking);
  CHECK(s.logged("metadata changed: payments has 3 partitions, assigned with 2"));
}

TEST_CASE("JoinGroup naming a protocol the member did not offer: a typed fatal error, no assignor run",
          "[coordinator]") {
  Script s(config({"range"}));
  Actions a = s.on(event::Start{{"orders"}});
  a = s.on(event::CoordinatorFound{1});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  auto resp = join_ok(4, "m1", "m1", "no-such-assignor");  // this member is the leader
  resp.members = {{"m1", std::nullopt, proto::Bytes(subscription_bytes({"orders"}))}};
  a = s.after(20ms, event::JoinGroupResult{join->tag, resp});
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->fatal);
  CHECK(err->ec == kafka_errc::inconsistent_group_protocol);
  CHECK(err->text.find("no-such-assignor") != std::string::npos);
  CHECK_FALSE(first<action::RequestMetadata>(a));
  CHECK_FALSE(first<action::SendSyncGroup>(a));
  CHECK(s.m.state() == State::fatal);
}

TEST_CASE("leader: a topic the cluster does not have is skipped, and rebalanced when it appears",
          "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  const auto meta1 = subscription_bytes({"orders"});
  const auto meta2 = subscription_bytes({"ghost", "orders"});
  auto resp = join_ok(3, "m1", "m1");
  resp.members = {{"m1", std::nullopt, proto::Bytes(meta1)}, {"m2", std::nullopt, proto::Bytes(meta2)}};
  Actions a = s.on(event::JoinGroupResult{join->tag, resp});
  REQUIRE(first<action::RequestMetadata>(a));
  CHECK(first<action::RequestMetadata>(a)->topics == std::vector<std::string>{"ghost", "orders"});

  // The answer has no "ghost": it does not exist, so the leader assigns without it.
  a = s.after(5ms, event::MetadataUpdated{{{"orders", 2}}});
  auto sync = first<action::SendSyncGroup>(a);
  REQUIRE(sync);
  std::vector<uint8_t> mine;
  for (const auto& entry : sync->assignments) {
    proto::ConsumerProtocolAssignment got;
    REQUIRE_FALSE(proto::decode_versioned(proto::Bytes(entry.assignment), got));
    for (const auto& t : got.assigned_partitions) CHECK(t.topic == "orders");
    if (entry.member_id == "m1") mine.assign(entry.assignment.begin(), entry.assignment.end());
  }
  s.after(5ms, event::SyncGroupResult{sync->tag, sync_ok(mine)});
  REQUIRE(s.m.state() == State::stable);
  CHECK(s.m.metadata_topics() == std::vector<std::string>{"ghost", "orders"});

  // Created later: an unasked update shows it, and the leader starts a rebalance.
  a = s.after(10s, event::MetadataUpdated{{{"ghost", 4}, {"orders", 2}}});
  CHECK(s.m.state() != State::stable);
  CHECK(s.logged("metadata changed: ghost has 4 partitions, assigned with 0"));
}

TEST_CASE("leader: the broker may have assigned already (SkipAssignment)", "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  const auto meta = subscription_bytes({"orders"});
  auto resp = join_ok(2, "m1", "m1");
  resp.skip_assignment = true;
  resp.members = {{"m1", std::nullopt, proto::Bytes(meta)}};
  Actions a = s.on(event::JoinGroupResult{join->tag, resp});
  auto sync = first<action::SendSyncGroup>(a);
  REQUIRE(sync);
  CHECK(sync->assignments.empty());
  CHECK_FALSE(first<action::RequestMetadata>(a));
}

TEST_CASE("follower: empty SyncGroup, assignment decoded, committed offsets fetched", "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.after(5ms, event::CoordinatorFound{1}));
  Actions a = s.after(20ms, event::JoinGroupResult{join->tag, join_ok(7, "m2", "m1")});
  CHECK_FALSE(s.m.is_leader());
  auto sync = first<action::SendSyncGroup>(a);
  REQUIRE(sync);
  CHECK(sync->assignments.empty());
  CHECK(sync->generation == 7);
  CHECK(sync->member_id == "m2");
  CHECK(sync->protocol_type == "consumer");
  CHECK(s.m.state() == State::syncing);
  CHECK(s.logged("joining -> syncing (joined generation 7 as follower)"));

  const auto bytes = assignment_bytes({{"orders", {0, 1}}});
  a = s.after(10ms, event::SyncGroupResult{sync->tag, sync_ok(bytes)});
  CHECK(s.m.state() == State::stable);
  REQUIRE(first<action::Assign>(a));
  CHECK(first<action::Assign>(a)->partitions == tps({{"orders", {0, 1}}}));
  CHECK(s.m.owned() == tps({{"orders", {0, 1}}}));
  auto fetch = first<action::SendOffsetFetch>(a);
  REQUIRE(fetch);
  CHECK(fetch->partitions == tps({{"orders", {0, 1}}}));
  CHECK(fetch->group_id == "billing");
  CHECK(fetch->require_stable);
  std::set<TimerKind> armed;
  for (const auto& t : all<action::ArmTimer>(a)) armed.insert(t.kind);
  CHECK(armed ==
        std::set<TimerKind>{TimerKind::session, TimerKind::poll_interval});  // heartbeat: since JoinGroup

  event::OffsetFetchResult answer{fetch->tag, 0, {}};
  answer.partitions = {{{"orders", 0}, 42, 5, "meta", 0}, {{"orders", 1}, std::nullopt, -1, std::nullopt, 0}};
  a = s.after(3ms, answer);
  auto init = first<action::InitPositions>(a);
  REQUIRE(init);
  REQUIRE(init->offsets.size() == 2);
  CHECK(init->offsets[0].tp == TopicPartition{"orders", 0});
  CHECK(init->offsets[0].offset == 42);
  CHECK(init->offsets[0].leader_epoch == 5);
  CHECK(init->offsets[1].tp == TopicPartition{"orders", 1});
  CHECK_FALSE(init->offsets[1].offset);  // nothing committed: auto.offset.reset decides
}

TEST_CASE("OffsetFetch UNSTABLE_OFFSET_COMMIT is retried after the backoff", "[coordinator]") {
  Script s;
  Actions a = s.to_stable({{"orders", {0}}});
  auto fetch = first<action::SendOffsetFetch>(a);
  REQUIRE(fetch);
  event::OffsetFetchResult answer{fetch->tag, 0, {}};
  answer.partitions = {
      {{"orders", 0}, std::nullopt, -1, std::nullopt, wire(kafka_errc::unstable_offset_commit)}};
  a = s.after(1ms, answer);
  CHECK_FALSE(first<action::InitPositions>(a));
  auto timer = first<action::ArmTimer>(a);
  REQUIRE(timer);
  CHECK(timer->kind == TimerKind::retry);
  a = s.after(100ms, event::TimerFired{TimerKind::retry});
  REQUIRE(first<action::SendOffsetFetch>(a));
}

TEST_CASE("Heartbeat every heartbeat.interval.ms", "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0}}});
  const TimePoint stable_at = s.now;

  // A timer that fires before its time (or a stale one) sends nothing.
  Actions a = s.after(1s, event::TimerFired{TimerKind::heartbeat});
  CHECK(all<action::SendHeartbeat>(a).empty());

  for (int i = 1; i <= 3; ++i) {
    s.now = stable_at + i * 3s;
    a = s.on(event::TimerFired{TimerKind::heartbeat});
    auto hb = first<action::SendHeartbeat>(a);
    REQUIRE(hb);
    CHECK(hb->node == 1);
    CHECK(hb->group_id == "billing");
    CHECK(hb->generation == 1);
    CHECK(hb->member_id == "m1");
    // No second heartbeat while one is in flight.
    CHECK(all<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat})).empty());
    a = s.after(40ms, event::HeartbeatResult{hb->tag, 0});
    auto next = first<action::ArmTimer>(a);
    REQUIRE(next);
    CHECK(next->kind == TimerKind::heartbeat);
    CHECK(next->at == stable_at + (i + 1) * 3s);  // an interval after the last one was sent
  }
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("OffsetCommit answer: each partition gets its own answer, in whatever order they come",
          "[coordinator]") {
  // The broker answers in the order of the request, and the member looks there first (group-bench: matching
  // every partition against the whole answer was a fifth of the CPU of a commit of 120 partitions); an
  // answer in another order, or one that leaves a partition out, is still read partition by partition.
  Script s;
  s.to_stable({{"orders", {0, 1, 2}}});
  auto commit =
      first<action::SendOffsetCommit>(s.on(event::CommitRequested{3, offsets({{"orders", {0, 1, 2}}}, 50)}));
  REQUIRE(commit);
  REQUIRE(commit->offsets.size() == 3);
  std::vector<PartitionAnswer> answer{{{"orders", 2}, 0},
                                      {{"orders", 0}, wire(kafka_errc::offset_metadata_too_large)}};
  auto done = first<action::CommitCompleted>(s.after(5ms, event::OffsetCommitResult{commit->tag, 3, answer}));
  REQUIRE(done);
  REQUIRE(done->results.size() == 3);
  std::map<int32_t, std::error_code> by_partition;
  for (const auto& r : done->results) by_partition[r.tp.partition] = r.ec;
  CHECK(by_partition.at(0) == make_error_code(kafka_errc::offset_metadata_too_large));
  CHECK(by_partition.at(1) == make_error_code(client_errc::malformed));  // not in the answer
  CHECK_FALSE(by_partition.at(2));
}

TEST_CASE("REBALANCE_IN_PROGRESS, eager: revoke everything (commit first), then rejoin", "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0, 1}}});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  REQUIRE(hb);
  Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
  CHECK(s.m.state() == State::revoking);
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(revoke->partitions == tps({{"orders", {0, 1}}}));
  CHECK_FALSE(first<action::SendJoinGroup>(a));  // not before the application is done
  CHECK(s.m.owned().empty());

  // The revoke hook commits: still a member of generation 1, so it goes out.
  a = s.after(20ms, event::CommitRequested{7, offsets({{"orders", {0, 1}}}, 100)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->generation == 1);
  CHECK(commit->member_id == "m1");
  REQUIRE(commit->offsets.size() == 2);
  CHECK(commit->offsets[0].tp.topic == "orders");
  CHECK(commit->offsets[1].tp.partition == 1);
  a = s.after(10ms, event::OffsetCommitResult{commit->tag, 7, commit_answer({{"orders", {0, 1}}}, 0)});
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->id == 7);
  CHECK(std::none_of(done->results.begin(), done->results.end(), [](auto& r) { return bool(r.ec); }));

  a = s.after(20ms, event::RevokeDone{});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(join->member_id == "m1");
  CHECK(join->reason == "Heartbeat: REBALANCE_IN_PROGRESS");
  auto sub = decode_subscription(*join);
  CHECK(sub.owned_partitions.empty());  // eager: nothing is kept across the rebalance

  a = s.rejoin(a, 2, {{"orders", {0, 1, 2}}});
  CHECK(s.m.state() == State::stable);
  CHECK(first<action::Assign>(a)->partitions == tps({{"orders", {0, 1, 2}}}));
  CHECK(s.m.generation() == 2);
}

TEST_CASE("REBALANCE_IN_PROGRESS, cooperative: keep what stays, revoke what goes, rejoin (KIP-429)",
          "[coordinator]") {
  Script s(config({"cooperative-sticky"}));
  REQUIRE(s.m.cooperative());
  s.to_stable({{"orders", {0, 1, 2}}});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});

  // No revocation up front: JoinGroup at once, with what it owns and the generation that owns it.
  CHECK_FALSE(first<action::Revoke>(a));
  CHECK(s.m.state() == State::joining);
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  auto sub = decode_subscription(*join);
  CHECK(owned_parts(sub) == Parts{{"orders", {0, 1, 2}}});
  CHECK(sub.generation_id == 1);
  CHECK(s.m.owned().size() == 3);

  // Generation 2 takes orders-2 away (another member gets it in the next round): revoke only that one,
  // before anything else, then join again.
  a = s.rejoin(a, 2, {{"orders", {0, 1}}});
  CHECK(s.m.state() == State::revoking);
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(revoke->partitions == tps({{"orders", {2}}}));
  CHECK_FALSE(first<action::Assign>(a));
  CHECK_FALSE(first<action::SendJoinGroup>(a));
  CHECK(s.m.owned() == tps({{"orders", {0, 1}}}));

  a = s.after(15ms, event::RevokeDone{});
  join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  sub = decode_subscription(*join);
  CHECK(owned_parts(sub) == Parts{{"orders", {0, 1}}});
  CHECK(sub.generation_id == 2);

  // Generation 3 keeps the rest: nothing revoked, nothing added, no third round.
  a = s.rejoin(a, 3, {{"orders", {0, 1}}});
  CHECK(s.m.state() == State::stable);
  CHECK_FALSE(first<action::Revoke>(a));
  CHECK_FALSE(first<action::Assign>(a));
  CHECK_FALSE(first<action::SendJoinGroup>(a));

  REQUIRE(s.m.timeline().size() == 3);
  const Rebalance& first_phase = s.m.timeline()[1];
  CHECK(first_phase.reason == "Heartbeat: REBALANCE_IN_PROGRESS");
  CHECK(first_phase.generation == 2);
  CHECK(first_phase.revoked == tps({{"orders", {2}}}));
  CHECK(first_phase.kept == tps({{"orders", {0, 1}}}));
  const Rebalance& second_phase = s.m.timeline()[2];
  CHECK(second_phase.reason.find("cooperative second phase") != std::string::npos);
  CHECK(second_phase.revoke == 15ms);
  CHECK(second_phase.generation == 3);
  CHECK(second_phase.outcome == "stable in generation 3");

  // More partitions later: only the new ones are handed out, no revocation, no second round.
  s.now += 3s;
  hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  REQUIRE(hb);
  a = s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
  a = s.rejoin(a, 4, {{"orders", {0, 1, 5}}});
  CHECK(s.m.state() == State::stable);
  CHECK(first<action::Assign>(a)->partitions == tps({{"orders", {5}}}));
  CHECK_FALSE(first<action::Revoke>(a));
}

TEST_CASE("ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID: partitions lost, not revoked; rejoin from scratch",
          "[coordinator]") {
  const int16_t code = GENERATE(wire(kafka_errc::illegal_generation), wire(kafka_errc::unknown_member_id));
  Script s;
  s.to_stable({{"orders", {0, 1}}});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, code});

  auto lost = first<action::Lost>(a);
  REQUIRE(lost);
  CHECK(lost->partitions == tps({{"orders", {0, 1}}}));
  CHECK_FALSE(first<action::Revoke>(a));  // they may be someone else's already: no commit hook
  CHECK(s.m.member_id().empty());
  CHECK(s.m.generation() == -1);
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(join->member_id.empty());
  auto sub = decode_subscription(*join);
  CHECK(sub.owned_partitions.empty());
  CHECK(sub.generation_id == -1);
  CHECK(index_of<action::Lost>(a) < index_of<action::SendJoinGroup>(a));

  // Nothing is owned now: a commit is refused here rather than sent.
  a = s.on(event::CommitRequested{3, offsets({{"orders", {0}}}, 10)});
  CHECK_FALSE(first<action::SendOffsetCommit>(a));
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->results.at(0).ec == make_error_code(client_errc::not_assigned));

  a = s.rejoin(Actions{*join}, 3, {{"orders", {1}}}, "m9");
  CHECK(s.m.state() == State::stable);
  CHECK(s.m.member_id() == "m9");
}

TEST_CASE("SyncGroup UNKNOWN_MEMBER_ID resets the member id and rejoins", "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  auto sync = first<action::SendSyncGroup>(s.on(event::JoinGroupResult{join->tag, join_ok(1, "m1", "m0")}));
  Actions a =
      s.after(10ms, event::SyncGroupResult{sync->tag, sync_error(wire(kafka_errc::unknown_member_id))});
  join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(join->member_id.empty());
  CHECK_FALSE(first<action::Lost>(a));  // it owned nothing yet
}

TEST_CASE("NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: forget it, find it again after a backoff",
          "[coordinator]") {
  const int16_t code =
      GENERATE(wire(kafka_errc::not_coordinator), wire(kafka_errc::coordinator_not_available));

  SECTION("while stable: the member keeps its partitions and resumes heartbeating") {
    Script s;
    s.to_stable({{"orders", {0, 1}}});
    s.now += 3s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, code});
    CHECK(s.m.state() == State::finding_coordinator);
    CHECK_FALSE(s.m.coordinator());
    CHECK_FALSE(first<action::FindCoordinator>(a));  // not at once: after the backoff
    auto timer = first<action::ArmTimer>(a);
    REQUIRE(timer);
    CHECK(timer->kind == TimerKind::retry);
    CHECK(timer->at == s.now + 100ms);
    CHECK_FALSE(first<action::Lost>(a));
    CHECK_FALSE(first<action::Revoke>(a));

    a = s.after(100ms, event::TimerFired{TimerKind::retry});
    REQUIRE(first<action::FindCoordinator>(a));
    // The next failure waits twice as long.
    a = s.after(5ms, event::CoordinatorFailed{make_error_code(kafka_errc::coordinator_not_available)});
    REQUIRE(first<action::ArmTimer>(a));
    CHECK(first<action::ArmTimer>(a)->at == s.now + 200ms);
    a = s.after(200ms, event::TimerFired{TimerKind::retry});
    REQUIRE(first<action::FindCoordinator>(a));

    a = s.after(5ms, event::CoordinatorFound{2});
    CHECK(s.m.state() == State::stable);
    auto hb2 = first<action::SendHeartbeat>(a);
    REQUIRE(hb2);
    CHECK(hb2->node == 2);
    CHECK(hb2->generation == 1);
    CHECK(s.m.owned() == tps({{"orders", {0, 1}}}));
    CHECK_FALSE(first<action::SendJoinGroup>(a));
  }

  SECTION("while joining: find it, then join there") {
    Script s;
    s.on(event::Start{{"orders"}});
    auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
    Actions a = s.after(10ms, event::JoinGroupResult{join->tag, join_error(code)});
    CHECK(s.m.state() == State::finding_coordinator);
    a = s.after(100ms, event::TimerFired{TimerKind::retry});
    REQUIRE(first<action::FindCoordinator>(a));
    a = s.after(5ms, event::CoordinatorFound{3});
    auto again = first<action::SendJoinGroup>(a);
    REQUIRE(again);
    CHECK(again->node == 3);
    CHECK(s.m.timeline().back().notes.size() >= 1);
  }
}

TEST_CASE("NOT_COORDINATOR on the revoke hook's commit: the coordinator is found while revoking",
          "[coordinator]") {
  // Found with kfake moving coordinators: the member kept the old coordinator until the revocation
  // ended, and the revocation waited for the commit, which went to the old coordinator again and again
  // until default.api.timeout.ms.
  Script s;
  s.to_stable({{"orders", {0, 1}}});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  s.after(5ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
  REQUIRE(s.m.state() == State::revoking);
  auto commit =
      first<action::SendOffsetCommit>(s.on(event::CommitRequested{5, offsets({{"orders", {0, 1}}}, 40)}));
  REQUIRE(commit);
  REQUIRE(commit->node == 1);
  Actions a = s.after(
      5ms, event::OffsetCommitResult{commit->tag, 5,
                                     commit_answer({{"orders", {0, 1}}}, wire(kafka_errc::not_coordinator))});
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->results.at(0).ec == make_error_code(kafka_errc::not_coordinator));
  CHECK(first<action::FindCoordinator>(a));  // at once
  CHECK(s.m.state() == State::revoking);
  CHECK_FALSE(s.m.coordinator());

  // The hook commits again before the answer: refused locally, no second FindCoordinator.
  a = s.after(5ms, event::CommitRequested{6, offsets({{"orders", {0, 1}}}, 40)});
  REQUIRE(first<action::CommitCompleted>(a));
  CHECK(first<action::CommitCompleted>(a)->results.at(0).ec ==
        make_error_code(kafka_errc::coordinator_not_available));
  CHECK_FALSE(first<action::FindCoordinator>(a));

  a = s.after(5ms, event::CoordinatorFound{2});
  CHECK(s.m.state() == State::revoking);
  CHECK(s.m.coordinator() == 2);
  auto again = first<action::SendOffsetCommit>(
      s.after(5ms, event::CommitRequested{7, offsets({{"orders", {0, 1}}}, 40)}));
  REQUIRE(again);
  CHECK(again->node == 2);
  CHECK(again->generation == 1);
  a = s.after(5ms, event::OffsetCommitResult{again->tag, 7, commit_answer({{"orders", {0, 1}}}, 0)});
  REQUIRE(first<action::CommitCompleted>(a));
  CHECK_FALSE(first<action::CommitCompleted>(a)->results.at(0).ec);

  // Done revoking: the join goes to the new coordinator.
  auto join = first<action::SendJoinGroup>(s.on(event::RevokeDone{}));
  REQUIRE(join);
  CHECK(join->node == 2);
  CHECK(join->member_id == "m1");
}

TEST_CASE("a JoinGroup the connection lost is treated as a lost coordinator", "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  Actions a = s.after(
      1s, event::RequestFailed{Api::join_group, join->tag, 0, make_error_code(client_errc::disconnected)});
  CHECK(s.m.state() == State::finding_coordinator);
  REQUIRE(first<action::ArmTimer>(a));
  CHECK(first<action::ArmTimer>(a)->kind == TimerKind::retry);
}

TEST_CASE("COORDINATOR_LOAD_IN_PROGRESS: same coordinator, after a backoff", "[coordinator]") {
  Script s;
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  Actions a = s.after(
      10ms, event::JoinGroupResult{join->tag, join_error(wire(kafka_errc::coordinator_load_in_progress))});
  CHECK(s.m.state() == State::joining);
  CHECK(s.m.coordinator() == 1);
  CHECK_FALSE(first<action::FindCoordinator>(a));
  CHECK_FALSE(first<action::SendJoinGroup>(a));
  REQUIRE(first<action::ArmTimer>(a));
  CHECK(first<action::ArmTimer>(a)->at == s.now + 100ms);

  a = s.after(100ms, event::TimerFired{TimerKind::retry});
  auto again = first<action::SendJoinGroup>(a);
  REQUIRE(again);
  CHECK(again->node == 1);
}

TEST_CASE("FENCED_INSTANCE_ID: a typed fatal error", "[coordinator]") {
  MemberConfig cfg = config();
  cfg.group_instance_id = "billing-1";
  Script s(cfg);
  s.on(event::Start{{"orders"}});
  auto join = first<action::SendJoinGroup>(s.on(event::CoordinatorFound{1}));
  CHECK(join->group_instance_id == std::optional<std::string>("billing-1"));
  auto sync = first<action::SendSyncGroup>(s.on(event::JoinGroupResult{join->tag, join_ok(1, "m1", "m0")}));
  CHECK(sync->group_instance_id == std::optional<std::string>("billing-1"));
  const auto bytes = assignment_bytes({{"orders", {0}}});
  s.on(event::SyncGroupResult{sync->tag, sync_ok(bytes)});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  CHECK(hb->group_instance_id == std::optional<std::string>("billing-1"));

  Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::fenced_instance_id)});
  CHECK(s.m.state() == State::fatal);
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->ec == make_error_code(client_errc::fenced_instance));
  CHECK(err->fatal);
  CHECK(first<action::Lost>(a));

  // Terminal: nothing more happens, commits are refused, close just closes.
  CHECK(s.after(10s, event::TimerFired{TimerKind::heartbeat}).empty());
  a = s.on(event::CommitRequested{1, offsets({{"orders", {0}}}, 5)});
  REQUIRE(first<action::CommitCompleted>(a));
  CHECK(first<action::CommitCompleted>(a)->results.at(0).ec ==
        make_error_code(client_errc::operation_aborted));
  a = s.on(event::Close{});
  CHECK(a.empty());
  CHECK(s.m.state() == State::left);
}

TEST_CASE("max.poll.interval.ms exceeded: leave on its own, tell the application on its next poll, rejoin",
          "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0, 1}}});
  const TimePoint start = TimePoint{};  // Start counted as the first poll
  // The poll timer was armed for a minute after Start.
  s.now = start + 30s;
  s.on(event::PollCalled{});
  // At the first deadline the application had polled since: the timer is moved, nothing else.
  s.now = start + 60s;
  Actions a = s.on(event::TimerFired{TimerKind::poll_interval});
  REQUIRE(first<action::ArmTimer>(a));
  CHECK(first<action::ArmTimer>(a)->at == start + 90s);
  CHECK(s.m.state() == State::stable);

  s.now = start + 90s;
  a = s.on(event::TimerFired{TimerKind::poll_interval});
  CHECK(s.m.state() == State::unjoined);
  auto leave = first<action::SendLeaveGroup>(a);
  REQUIRE(leave);
  CHECK(leave->member_id == "m1");
  CHECK(leave->reason == "consumer poll timeout has expired");
  auto lost = first<action::Lost>(a);
  REQUIRE(lost);
  CHECK(lost->partitions == tps({{"orders", {0, 1}}}));
  CHECK_FALSE(first<action::Error>(a));  // on the next poll
  CHECK(s.m.member_id().empty());

  // The LeaveGroup answer changes nothing.
  CHECK(s.after(5ms, event::LeaveGroupResult{leave->tag, 0}).empty());

  a = s.after(5s, event::PollCalled{});
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->ec == make_error_code(client_errc::poll_interval_exceeded));
  CHECK_FALSE(err->fatal);
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(join->member_id.empty());
  CHECK(index_of<action::Error>(a) < index_of<action::SendJoinGroup>(a));
  a = s.rejoin(a, 2, {{"orders", {0}}}, "m7");
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("close: revoke (commit hook), then LeaveGroup; static members keep their session",
          "[coordinator]") {
  SECTION("dynamic member") {
    Script s;
    s.to_stable({{"orders", {0, 1}}});
    Actions a = s.after(1s, event::Close{});
    CHECK(s.m.state() == State::revoking);
    auto revoke = first<action::Revoke>(a);
    REQUIRE(revoke);
    CHECK(revoke->partitions == tps({{"orders", {0, 1}}}));
    CHECK_FALSE(first<action::SendLeaveGroup>(a));

    a = s.after(5ms, event::CommitRequested{9, offsets({{"orders", {0, 1}}}, 50)});
    auto commit = first<action::SendOffsetCommit>(a);
    REQUIRE(commit);
    s.after(5ms, event::OffsetCommitResult{commit->tag, 9, commit_answer({{"orders", {0, 1}}}, 0)});

    a = s.after(5ms, event::RevokeDone{});
    auto leave = first<action::SendLeaveGroup>(a);
    REQUIRE(leave);
    CHECK(leave->group_id == "billing");
    CHECK(leave->member_id == "m1");
    CHECK(leave->reason == "revocation done");
    CHECK(s.m.state() == State::leaving);
    a = s.after(5ms, event::LeaveGroupResult{leave->tag, 0});
    CHECK(s.m.state() == State::left);
    CHECK(s.logged("leaving -> left (LeaveGroup: NONE)"));
  }

  SECTION("static member: no LeaveGroup") {
    MemberConfig cfg = config();
    cfg.group_instance_id = "billing-1";
    Script s(cfg);
    s.to_stable({{"orders", {0}}});
    Actions a = s.after(1s, event::Close{});
    REQUIRE(first<action::Revoke>(a));
    a = s.after(5ms, event::RevokeDone{});
    CHECK_FALSE(first<action::SendLeaveGroup>(a));
    CHECK(s.m.state() == State::left);
    CHECK(s.logged("static member: no LeaveGroup"));
  }

  SECTION("before joining: nothing to revoke or leave") {
    Script s;
    s.on(event::Start{{"orders"}});
    Actions a = s.on(event::Close{});
    CHECK(s.m.state() == State::left);
    CHECK_FALSE(first<action::SendLeaveGroup>(a));
  }
}

TEST_CASE("answers tagged with an older epoch are dropped", "[coordinator]") {
  Script s(config({"cooperative-sticky"}));
  s.to_stable({{"orders", {0, 1}}});
  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  REQUIRE(hb);
  // A new subscription starts a rebalance while the heartbeat is out.
  Actions a = s.after(1ms, event::SubscriptionChanged{{"orders", "payments"}});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(decode_subscription(*join).topics == std::vector<std::string>{"orders", "payments"});

  // The heartbeat's answer is about generation 1 before the rejoin: dropped, even an alarming one.
  a = s.after(5ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::unknown_member_id)});
  CHECK(a.empty());
  CHECK(s.m.member_id() == "m1");
  CHECK(s.m.state() == State::joining);
  CHECK(s.logged("dropped Heartbeat answer"));

  a = s.after(5ms, event::JoinGroupResult{join->tag, join_ok(2, "m1", "m0", "cooperative-sticky")});
  auto sync = first<action::SendSyncGroup>(a);
  REQUIRE(sync);
  // A SyncGroup answer with an older tag (an earlier round) is ignored too.
  const auto stale_bytes = assignment_bytes({{"payments", {9}}});
  CHECK(s.on(event::SyncGroupResult{join->tag - 1, sync_ok(stale_bytes)}).empty());
  CHECK(s.m.state() == State::syncing);
}

TEST_CASE("commit errors during a rebalance do not lose the assignment", "[coordinator]") {
  SECTION("cooperative: a commit sent before the rebalance fails with ILLEGAL_GENERATION") {
    Script s(config({"cooperative-sticky"}));
    s.to_stable({{"orders", {0, 1}}});
    Actions a = s.after(1s, event::CommitRequested{1, offsets({{"orders", {0, 1}}}, 10)});
    auto commit = first<action::SendOffsetCommit>(a);
    REQUIRE(commit);
    s.now += 2s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    a = s.after(5ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
    CHECK(s.m.state() == State::joining);

    a = s.after(
        5ms, event::OffsetCommitResult{
                 commit->tag, 1, commit_answer({{"orders", {0, 1}}}, wire(kafka_errc::illegal_generation))});
    auto done = first<action::CommitCompleted>(a);
    REQUIRE(done);
    CHECK(done->results.at(0).ec == make_error_code(kafka_errc::illegal_generation));
    CHECK_FALSE(first<action::Lost>(a));
    CHECK(s.m.owned() == tps({{"orders", {0, 1}}}));
    CHECK(s.m.state() == State::joining);
    CHECK(s.m.member_id() == "m1");
    CHECK(s.m.timeline().back().commits.size() == 2);
  }

  SECTION("eager: the revoke hook's commit gets REBALANCE_IN_PROGRESS; the rejoin goes on") {
    Script s;
    s.to_stable({{"orders", {0}}});
    s.now += 3s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    s.after(5ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
    auto commit =
        first<action::SendOffsetCommit>(s.on(event::CommitRequested{2, offsets({{"orders", {0}}}, 10)}));
    REQUIRE(commit);
    Actions a = s.after(
        5ms, event::OffsetCommitResult{
                 commit->tag, 2, commit_answer({{"orders", {0}}}, wire(kafka_errc::rebalance_in_progress))});
    REQUIRE(first<action::CommitCompleted>(a));
    CHECK(s.m.state() == State::revoking);
    a = s.on(event::RevokeDone{});
    REQUIRE(first<action::SendJoinGroup>(a));
  }

  SECTION("while stable, a current commit's REBALANCE_IN_PROGRESS does start a rebalance") {
    Script s;
    s.to_stable({{"orders", {0}}});
    auto commit =
        first<action::SendOffsetCommit>(s.on(event::CommitRequested{3, offsets({{"orders", {0}}}, 10)}));
    Actions a = s.after(
        5ms, event::OffsetCommitResult{
                 commit->tag, 3, commit_answer({{"orders", {0}}}, wire(kafka_errc::rebalance_in_progress))});
    CHECK(s.m.state() == State::revoking);
    CHECK(first<action::Revoke>(a));
  }
}

TEST_CASE("a subscription change rejoins; an empty one leaves", "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0}}});
  Actions a = s.after(1s, event::SubscriptionChanged{{"orders", "payments"}});
  CHECK(s.m.state() == State::revoking);  // eager
  REQUIRE(first<action::Revoke>(a));
  a = s.on(event::RevokeDone{});
  auto join = first<action::SendJoinGroup>(a);
  REQUIRE(join);
  CHECK(decode_subscription(*join).topics == std::vector<std::string>{"orders", "payments"});
  a = s.rejoin(a, 2, {{"orders", {0}}, {"payments", {0}}});
  CHECK(s.m.state() == State::stable);

  a = s.after(1s, event::SubscriptionChanged{{}});
  REQUIRE(first<action::Revoke>(a));
  a = s.on(event::RevokeDone{});
  auto leave = first<action::SendLeaveGroup>(a);
  REQUIRE(leave);
  a = s.on(event::LeaveGroupResult{leave->tag, 0});
  CHECK(s.m.state() == State::unjoined);
}

TEST_CASE("the rebalance timeline: reason, generation, phases, partitions, commits", "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0, 1}}});
  REQUIRE(s.m.timeline().size() == 1);
  const Rebalance& start = s.m.timeline()[0];
  CHECK(start.reason == "start: subscribed to orders");
  CHECK(start.find_coordinator == 5ms);
  CHECK(start.join == 20ms);
  CHECK(start.sync == 10ms);
  CHECK(start.added == tps({{"orders", {0, 1}}}));
  CHECK(start.generation == 1);
  CHECK(start.outcome == "stable in generation 1");

  s.now += 3s;
  auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
  auto commit = first<action::SendOffsetCommit>(
      s.after(20ms, event::CommitRequested{1, offsets({{"orders", {0}}}, 7)}));
  s.after(10ms, event::OffsetCommitResult{commit->tag, 1, commit_answer({{"orders", {0}}}, 0)});
  Actions a = s.after(20ms, event::RevokeDone{});
  auto join = first<action::SendJoinGroup>(a);
  a = s.after(200ms,
              event::JoinGroupResult{join->tag, join_error(wire(kafka_errc::member_id_required), "m1")});
  join = first<action::SendJoinGroup>(a);
  auto sync =
      first<action::SendSyncGroup>(s.after(100ms, event::JoinGroupResult{join->tag, join_ok(2, "m1", "m0")}));
  const auto bytes = assignment_bytes({{"orders", {1, 2, 3}}});
  s.after(30ms, event::SyncGroupResult{sync->tag, sync_ok(bytes)});

  REQUIRE(s.m.timeline().size() == 2);
  const Rebalance& r = s.m.timeline()[1];
  CHECK(r.number == 2);
  CHECK(r.reason == "Heartbeat: REBALANCE_IN_PROGRESS");
  CHECK(r.generation == 2);
  CHECK_FALSE(r.leader);
  CHECK(r.protocol == "range");
  CHECK(r.revoke == 50ms);
  CHECK(r.join == 300ms);
  CHECK(r.sync == 30ms);
  CHECK(r.find_coordinator == 0ms);
  CHECK(r.ended);
  CHECK(*r.ended - r.started == 380ms);
  CHECK(r.revoked == tps({{"orders", {0, 1}}}));
  CHECK(r.added == tps({{"orders", {1, 2, 3}}}));
  CHECK(r.kept.empty());
  REQUIRE(r.commits.size() == 1);
  CHECK_FALSE(r.commits[0].ec);
  CHECK(std::find(r.notes.begin(), r.notes.end(), "MEMBER_ID_REQUIRED: member id m1") != r.notes.end());

  const std::string text = to_string(r);
  CHECK(text.find("rebalance #2") != std::string::npos);
  CHECK(text.find("generation 2 as follower") != std::string::npos);
  CHECK(text.find("took 380ms") != std::string::npos);
  CHECK(text.find("revoke 50ms, join 300ms, assign 0ms, sync 30ms") != std::string::npos);
  CHECK(text.find("revoked 2 orders[0,1]") != std::string::npos);
  CHECK(text.find("added 3 orders[1,2,3]") != std::string::npos);
  CHECK(text.find("commits 1 ok, 0 failed") != std::string::npos);
  CHECK(s.m.timeline_text().find("rebalance #1") != std::string::npos);
}

// The timeline watches transitions and actions: each way a rebalance can end gives its outcome, and the
// partitions the member lost or revoked are the ones in its Lost and Revoke actions.
TEST_CASE("the rebalance timeline: how rebalances end, and what was lost", "[coordinator]") {
  SECTION("membership lost: the partitions are lost, the rejoin is the same rebalance") {
    Script s;
    s.to_stable({{"orders", {0, 1}}});
    s.now += 3s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    REQUIRE(hb);
    Actions a = s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::unknown_member_id)});
    REQUIRE(first<action::Lost>(a));
    a = s.rejoin(a, 2, {{"orders", {1}}}, "m9");
    REQUIRE(s.m.timeline().size() == 2);
    const Rebalance& r = s.m.timeline()[1];
    CHECK(r.reason == "Heartbeat: UNKNOWN_MEMBER_ID");
    CHECK(r.lost == tps({{"orders", {0, 1}}}));
    CHECK(r.revoked.empty());
    CHECK(r.added == tps({{"orders", {1}}}));
    CHECK(r.generation == 2);
    CHECK(r.member_id == "m9");
    CHECK(r.join == 20ms);
    CHECK(r.sync == 10ms);
    CHECK(r.outcome == "stable in generation 2");
  }
  SECTION("a fatal error ends it") {
    Script s;
    s.to_stable({{"orders", {0, 1}}});
    s.now += 3s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
    Actions a = s.after(40ms, event::RevokeDone{});
    auto join = first<action::SendJoinGroup>(a);
    REQUIRE(join);
    s.after(5ms, event::JoinGroupResult{join->tag, join_error(wire(kafka_errc::group_authorization_failed))});
    CHECK(s.m.state() == State::fatal);
    const Rebalance& r = s.m.timeline().back();
    CHECK(r.outcome == "fatal: JoinGroup: GROUP_AUTHORIZATION_FAILED");
    CHECK(r.revoked == tps({{"orders", {0, 1}}}));
    CHECK(r.revoke == 40ms);
    CHECK(r.join == 5ms);
    REQUIRE(r.ended);
    CHECK(*r.ended - r.started == 45ms);
  }
  SECTION("closed while revoking: it ends when the member has left") {
    Script s;
    s.to_stable({{"orders", {0, 1}}});
    s.now += 3s;
    auto hb = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
    s.after(10ms, event::HeartbeatResult{hb->tag, wire(kafka_errc::rebalance_in_progress)});
    s.after(5ms, event::Close{});
    auto leave = first<action::SendLeaveGroup>(s.after(5ms, event::RevokeDone{}));
    REQUIRE(leave);
    s.after(5ms, event::LeaveGroupResult{leave->tag, 0});
    CHECK(s.m.state() == State::left);
    const Rebalance& r = s.m.timeline().back();
    CHECK(r.reason == "Heartbeat: REBALANCE_IN_PROGRESS");
    CHECK(r.outcome == "left: LeaveGroup: NONE");
    CHECK(r.revoke == 10ms);
    REQUIRE(r.ended);
    CHECK(*r.ended - r.started == 15ms);
  }
  SECTION("closed while joining: abandoned") {
    Script s;
    s.on(event::Start{{"orders"}});
    s.after(5ms, event::CoordinatorFound{1});
    s.after(7ms, event::Close{});
    CHECK(s.m.state() == State::left);
    REQUIRE(s.m.timeline().size() == 1);
    CHECK(s.m.timeline()[0].outcome == "abandoned: close");
    CHECK(s.m.timeline()[0].join == 7ms);
  }
}

TEST_CASE("every transition is logged as \"from -> to (why)\"", "[coordinator]") {
  Script s;
  s.to_stable({{"orders", {0}}});
  s.on(event::Close{});
  s.on(event::RevokeDone{});
  const std::set<std::string> states{"unjoined",  "finding_coordinator",
                                     "revoking",  "joining",
                                     "assigning", "syncing",
                                     "stable",    "leaving",
                                     "left",      "fatal"};
  std::vector<std::string> transitions;
  for (const auto& line : s.log) {
    const size_t arrow = line.find(" -> ");
    if (arrow == std::string::npos) continue;
    const size_t paren = line.find(" (", arrow);
    REQUIRE(paren != std::string::npos);
    CHECK(states.count(line.substr(0, arrow)));
    CHECK(states.count(line.substr(arrow + 4, paren - arrow - 4)));
    CHECK(line.back() == ')');
    CHECK(line.size() > paren + 3);  // a reason is given
    transitions.push_back(line.substr(0, paren));
  }
  CHECK(transitions == std::vector<std::string>{"unjoined -> finding_coordinator",
                                                "finding_coordinator -> joining", "joining -> syncing",
                                                "syncing -> stable", "stable -> revoking",
                                                "revoking -> leaving"});
  CHECK(s.log.front() == "unjoined -> finding_coordinator (start: subscribed to orders)");

  // No sink: nothing to call, nothing breaks.
  MemberConfig quiet = config();
  GroupMember m(quiet);
  CHECK_FALSE(m.on_event(event::Start{{"orders"}}, TimePoint{}).empty());
}

TEST_CASE("configuration is checked", "[coordinator]") {
  MemberConfig cfg = config({"range", "no-such-assignor"});
  CHECK_THROWS_AS(GroupMember(cfg), std::invalid_argument);
  cfg = config();
  cfg.group_id.clear();
  CHECK_THROWS_AS(GroupMember(cfg), std::invalid_argument);
  // Cooperative only when every assignor is: Java's default list is eager.
  CHECK_FALSE(GroupMember(config({"range", "cooperative-sticky"})).cooperative());
  CHECK(GroupMember(config({"cooperative-sticky"})).cooperative());
}
