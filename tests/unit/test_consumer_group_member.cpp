// The KIP-848 consumer group member (group/consumer_group_member.hpp), driven by scripted events: no
// sockets, no clocks. Each test plays the broker's part by answering the actions the machine returns, and
// checks the requests it builds field by field (a partial heartbeat carries only what changed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "kafkawire/group/consumer_group_member.hpp"
#include "kafkawire/protocol/error.hpp"

using namespace kafkawire::group::consumer_group;
using kafkawire::group::Api;
using kafkawire::group::OffsetToCommit;
using kafkawire::group::PartitionAnswer;
using kafkawire::group::Rebalance;
using kafkawire::group::TimePoint;
using kafkawire::group::TimerKind;
using kafkawire::group::TopicPartition;
using namespace std::chrono_literals;
namespace proto = kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::kafka_errc;
using Heartbeat = proto::ConsumerGroupHeartbeatRequest;
using HeartbeatResponse = proto::ConsumerGroupHeartbeatResponse;

namespace {

constexpr int16_t wire(kafka_errc e) { return static_cast<int16_t>(e); }

const proto::Uuid orders_id{{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}};
const proto::Uuid payments_id{{2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2}};

MemberConfig config() {
  MemberConfig c;
  c.group_id = "billing";
  c.member_id = "client-made-uuid";
  c.max_poll_interval = 60s;
  c.heartbeat_interval = 3s;
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

template <class T>
int index_of(const Actions& actions) {
  for (size_t i = 0; i < actions.size(); ++i)
    if (std::holds_alternative<T>(actions[i])) return static_cast<int>(i);
  return -1;
}

using Target = std::vector<std::pair<proto::Uuid, std::vector<int32_t>>>;

HeartbeatResponse ok(int32_t epoch, std::optional<Target> target = std::nullopt, int32_t interval_ms = 2000) {
  HeartbeatResponse r;
  r.member_epoch = epoch;
  r.member_id = "client-made-uuid";
  r.heartbeat_interval_ms = interval_ms;
  if (target) {
    r.assignment.emplace();
    for (const auto& [id, ps] : *target) r.assignment->topic_partitions.push_back({id, ps});
  }
  return r;
}

HeartbeatResponse error(kafka_errc e, std::string message = "") {
  HeartbeatResponse r;
  r.error_code = wire(e);
  if (!message.empty()) r.error_message = message;
  return r;
}

std::vector<TopicPartition> tps(std::string topic, std::vector<int32_t> ps) {
  std::vector<TopicPartition> v;
  for (int32_t p : ps) v.push_back({topic, p});
  return v;
}

std::vector<OffsetToCommit> offsets(const std::vector<TopicPartition>& parts, int64_t offset) {
  std::vector<OffsetToCommit> v;
  for (const auto& tp : parts) v.push_back({tp, offset, -1, std::nullopt});
  return v;
}

std::vector<PartitionAnswer> commit_answer(const std::vector<TopicPartition>& parts, kafka_errc e) {
  std::vector<PartitionAnswer> v;
  for (const auto& tp : parts) v.push_back({tp, wire(e)});
  return v;
}

std::vector<Heartbeat::TopicPartitions> owned_field(const Target& t) {
  std::vector<Heartbeat::TopicPartitions> v;
  for (const auto& [id, ps] : t) v.push_back({id, ps});
  return v;
}

std::vector<TopicPartition> sorted(std::vector<TopicPartition> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// A partial heartbeat of a member in the group: nothing but who it is.
void check_minimal(const Heartbeat& h, int32_t epoch) {
  CHECK(h.group_id == "billing");
  CHECK(h.member_id == "client-made-uuid");
  CHECK(h.member_epoch == epoch);
  CHECK(h.rebalance_timeout_ms == -1);
  CHECK_FALSE(h.subscribed_topic_names);
  CHECK_FALSE(h.subscribed_topic_regex);
  CHECK_FALSE(h.server_assignor);
  CHECK_FALSE(h.rack_id);
  CHECK_FALSE(h.topic_partitions);
}

struct Script {
  std::vector<std::string> log;
  Member m;
  TimePoint now{};
  std::map<proto::Uuid, std::string, UuidLess> names{{orders_id, "orders"}, {payments_id, "payments"}};

  explicit Script(MemberConfig cfg = config()) : m(with_log(std::move(cfg), log)) {}
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
  Actions metadata() { return on(event::MetadataUpdated{names}); }

  // Subscribe, find node 1, join: the first answer gives epoch 1 and `target` (names known). Returns the
  // actions of the answer (the Assign and the acknowledging heartbeat among them).
  Actions to_stable(const Target& target, std::vector<std::string> topics = {"orders"}) {
    metadata();
    Actions a = on(event::Subscribe{std::move(topics), std::nullopt});
    REQUIRE(first<action::FindCoordinator>(a));
    a = after(5ms, event::CoordinatorFound{1});
    auto hb = first<action::SendHeartbeat>(a);
    REQUIRE(hb);
    a = after(10ms, event::HeartbeatResult{hb->tag, ok(1, target)});
    REQUIRE(m.state() == State::stable);
    // Nothing committed yet for what was assigned.
    if (auto fetch = first<action::SendOffsetFetch>(a)) {
      event::OffsetFetchResult r{fetch->tag, 0, {}};
      for (const auto& tp : fetch->partitions)
        r.partitions.push_back({tp, std::nullopt, -1, std::nullopt, 0});
      Actions more = on(r);
      REQUIRE(first<action::InitPositions>(more));
      a.insert(a.end(), more.begin(), more.end());
    }
    return a;
  }
  // Answers the heartbeat among `a` with `r`.
  Actions answer(const Actions& a, HeartbeatResponse r, std::chrono::milliseconds d = 10ms) {
    auto hb = first<action::SendHeartbeat>(a);
    REQUIRE(hb);
    return after(d, event::HeartbeatResult{hb->tag, std::move(r)});
  }
};

}  // namespace

TEST_CASE("joining: a full heartbeat with epoch 0 and the client's member id", "[consumer_group]") {
  MemberConfig c = config();
  c.server_assignor = "uniform";
  c.rack_id = "rack-a";
  Script s(c);
  Actions a = s.on(event::Subscribe{{"payments", "orders", "orders"}, std::nullopt});
  CHECK(s.m.state() == State::joining);
  REQUIRE(first<action::FindCoordinator>(a)->group_id == "billing");
  CHECK_FALSE(first<action::SendHeartbeat>(a));  // no coordinator yet

  a = s.after(5ms, event::CoordinatorFound{7});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->node == 7);
  const Heartbeat& h = hb->request;
  CHECK(h.group_id == "billing");
  CHECK(h.member_id == "client-made-uuid");  // KIP-1082: v1 refuses an empty one
  CHECK(h.member_epoch == 0);
  CHECK_FALSE(h.instance_id);
  CHECK(h.rack_id == "rack-a");
  CHECK(h.rebalance_timeout_ms == 60000);  // max.poll.interval.ms, as Java
  CHECK(h.subscribed_topic_names == std::vector<std::string>{"orders", "payments"});
  CHECK_FALSE(h.subscribed_topic_regex);
  CHECK(h.server_assignor == "uniform");
  REQUIRE(h.topic_partitions);  // the broker wants an empty list (not null) when joining
  CHECK(h.topic_partitions->empty());
  // The poll deadline is armed.
  auto timers = all<action::ArmTimer>(s.on(event::PollCalled{}));
  CHECK(timers.empty());  // a later deadline costs nothing
}

TEST_CASE("first assignment: unknown topic ids wait for metadata; assign, fetch offsets, acknowledge",
          "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  // The member does not know the topic id yet: it asks for metadata and assigns nothing. Like Java, it
  // acknowledges what it could reconcile (nothing) and waits.
  a = s.answer(a, ok(1, Target{{orders_id, {1, 0}}}));
  CHECK(s.m.member_epoch() == 1);
  CHECK(s.m.heartbeat_interval() == 2000ms);
  auto md = first<action::RequestMetadata>(a);
  REQUIRE(md);
  CHECK(md->topic_ids == std::vector<proto::Uuid>{orders_id});
  CHECK_FALSE(first<action::Assign>(a));
  CHECK(s.m.owned().empty());
  auto empty_ack = first<action::SendHeartbeat>(a);
  REQUIRE(empty_ack);
  REQUIRE(empty_ack->request.topic_partitions);
  CHECK(empty_ack->request.topic_partitions->empty());
  CHECK(s.m.state() == State::reconciling);

  // The names arrive while that heartbeat is in flight: assign, fetch the committed offsets (with member
  // id and epoch); the acknowledgement waits for the heartbeat in flight.
  a = s.after(3ms, event::MetadataUpdated{{{orders_id, "orders"}}});
  auto assign = first<action::Assign>(a);
  REQUIRE(assign);
  CHECK(sorted(assign->partitions) == tps("orders", {0, 1}));
  auto fetch = first<action::SendOffsetFetch>(a);
  REQUIRE(fetch);
  CHECK(fetch->member_id == "client-made-uuid");
  CHECK(fetch->member_epoch == 1);
  CHECK(sorted(fetch->partitions) == tps("orders", {0, 1}));
  CHECK_FALSE(first<action::SendHeartbeat>(a));
  CHECK(s.m.state() == State::acknowledging);

  a = s.after(5ms, event::HeartbeatResult{empty_ack->tag, ok(1)});
  auto ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  Heartbeat without_owned = ack->request;
  without_owned.topic_partitions.reset();
  check_minimal(without_owned, 1);  // the acknowledgement carries the owned partitions and nothing new
  REQUIRE(ack->request.topic_partitions);
  CHECK(*ack->request.topic_partitions == owned_field({{orders_id, {0, 1}}}));
  CHECK(s.m.state() == State::stable);

  // The committed offsets start the partitions.
  a = s.after(2ms, event::OffsetFetchResult{
                       fetch->tag, 0, {{{"orders", 0}, 42, 3, "", 0}, {{"orders", 1}, {}, -1, {}, 0}}});
  auto init = first<action::InitPositions>(a);
  REQUIRE(init);
  REQUIRE(init->offsets.size() == 2);
  CHECK(init->offsets[0].offset == 42);
  CHECK_FALSE(init->offsets[1].offset);
}

TEST_CASE("heartbeat interval from the answer; steady heartbeats carry only who the member is",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  auto ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  a = s.after(10ms, event::HeartbeatResult{ack->tag, ok(1, std::nullopt, 4000)});
  auto t = first<action::ArmTimer>(a);
  REQUIRE(t);
  CHECK(t->kind == TimerKind::heartbeat);
  CHECK(t->at == s.now - 10ms + 4000ms);  // an interval after it was sent
  CHECK_FALSE(first<action::SendHeartbeat>(a));

  // Early firing: nothing sent, re-armed.
  a = s.after(1000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK_FALSE(first<action::SendHeartbeat>(a));
  CHECK(first<action::ArmTimer>(a));
  a = s.after(2990ms, event::TimerFired{TimerKind::heartbeat});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  check_minimal(hb->request, 1);

  // A new epoch with no new assignment changes nothing else.
  a = s.answer(a, ok(2));
  CHECK(s.m.member_epoch() == 2);
  CHECK(s.m.state() == State::stable);
  CHECK(s.m.commit_epoch() == 2);
}

TEST_CASE("reconciling: revoke (and commit) before the new assignment is acknowledged", "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1, 2}}});
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});

  // The broker moves orders-0 away and adds orders-3.
  a = s.answer(a, ok(2, Target{{orders_id, {1, 2, 3}}}));
  CHECK(s.m.state() == State::reconciling);
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(revoke->partitions == tps("orders", {0}));
  CHECK_FALSE(first<action::Assign>(a));
  CHECK_FALSE(first<action::SendHeartbeat>(a));  // not acknowledged before the revoke is done

  // The revoke hook commits orders-0 with the member id and epoch.
  a = s.after(1ms, event::CommitRequested{5, offsets(tps("orders", {0}), 100)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->member_id == "client-made-uuid");
  CHECK(commit->generation == 2);  // GenerationIdOrMemberEpoch
  a = s.after(1ms,
              event::OffsetCommitResult{commit->tag, 5, commit_answer(tps("orders", {0}), kafka_errc::none)});
  REQUIRE(first<action::CommitCompleted>(a));
  CHECK_FALSE(first<action::CommitCompleted>(a)->results.front().ec);

  // A heartbeat due meanwhile carries no owned partitions.
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK_FALSE(hb->request.topic_partitions);
  a = s.answer(a, ok(2));

  a = s.after(1ms, event::RevokeDone{});
  auto assign = first<action::Assign>(a);
  REQUIRE(assign);
  CHECK(assign->partitions == tps("orders", {3}));
  CHECK(sorted(s.m.owned()) == tps("orders", {1, 2, 3}));
  auto fetch = first<action::SendOffsetFetch>(a);
  REQUIRE(fetch);
  CHECK(fetch->partitions == tps("orders", {3}));
  auto ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  REQUIRE(ack->request.topic_partitions);
  CHECK(*ack->request.topic_partitions == owned_field({{orders_id, {1, 2, 3}}}));
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("a target that moves on during a revoke: acknowledge what was reconciled, then reconcile again",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}, {payments_id, {0}}}, {"orders", "payments"});
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(2, Target{{orders_id, {1}}, {payments_id, {0}}}));
  REQUIRE(first<action::Revoke>(a)->partitions == tps("orders", {0}));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(3, Target{{orders_id, {1}}}));  // payments-0 goes too
  CHECK_FALSE(first<action::Revoke>(a));             // one revoke at a time

  a = s.after(1ms, event::RevokeDone{});
  // orders-0's revoke is done: acknowledge {orders-1, payments-0}, then revoke payments-0.
  auto ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  CHECK(*ack->request.topic_partitions == owned_field({{orders_id, {1}}, {payments_id, {0}}}));
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(revoke->partitions == tps("payments", {0}));
  CHECK(index_of<action::SendHeartbeat>(a) < index_of<action::Revoke>(a));
  CHECK(s.m.state() == State::reconciling);

  a = s.answer(a, ok(3));
  a = s.after(1ms, event::RevokeDone{});
  ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  CHECK(*ack->request.topic_partitions == owned_field({{orders_id, {1}}}));
  CHECK_FALSE(first<action::Assign>(a));
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: partitions lost, rejoin with epoch 0 and the same id",
          "[consumer_group]") {
  const kafka_errc code = GENERATE(kafka_errc::fenced_member_epoch, kafka_errc::unknown_member_id);
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(5));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, error(code));
  auto lost = first<action::Lost>(a);
  REQUIRE(lost);
  CHECK(sorted(lost->partitions) == tps("orders", {0, 1}));
  CHECK_FALSE(first<action::Revoke>(a));  // lost: no commit
  CHECK(s.m.owned().empty());
  CHECK(s.m.state() == State::joining);
  CHECK(s.logged("stable -> fenced"));
  CHECK(s.logged("fenced -> joining"));
  auto hb = first<action::SendHeartbeat>(a);  // no backoff
  REQUIRE(hb);
  CHECK(hb->request.member_epoch == 0);
  CHECK(hb->request.member_id == "client-made-uuid");
  CHECK(hb->request.rebalance_timeout_ms == 60000);
  CHECK(hb->request.subscribed_topic_names == std::vector<std::string>{"orders"});
  REQUIRE(hb->request.topic_partitions);
  CHECK(hb->request.topic_partitions->empty());
  CHECK(s.m.commit_epoch() == -1);  // not in the group: commits carry no epoch
  CHECK(s.m.commit_member_id().empty());
}

TEST_CASE("fatal heartbeat errors: a typed error, partitions lost, nothing sent any more",
          "[consumer_group]") {
  const kafka_errc code = GENERATE(kafka_errc::unreleased_instance_id, kafka_errc::group_max_size_reached,
                                   kafka_errc::unsupported_assignor, kafka_errc::fenced_instance_id,
                                   kafka_errc::group_authorization_failed, kafka_errc::invalid_request);
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, error(code, "the broker's words"));
  CHECK(s.m.state() == State::fatal);
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->fatal);
  CHECK(err->ec == code);
  CHECK(err->text.find("the broker's words") != std::string::npos);
  REQUIRE(first<action::Lost>(a));
  CHECK_FALSE(first<action::SendHeartbeat>(a));

  a = s.after(5000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK(a.empty());
  a = s.on(event::CommitRequested{9, offsets(tps("orders", {0}), 1)});
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->results.front().ec == client_errc::operation_aborted);
  s.on(event::Close{});
  CHECK(s.m.state() == State::left);
}

TEST_CASE("UNSUPPORTED_ASSIGNOR when joining names the assignor in the error", "[consumer_group]") {
  MemberConfig c = config();
  c.server_assignor = "sticky-ish";
  Script s(c);
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  REQUIRE(first<action::SendHeartbeat>(a)->request.server_assignor == "sticky-ish");
  a = s.answer(a, error(kafka_errc::unsupported_assignor, "ServerAssignor sticky-ish is not supported."));
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->ec == kafka_errc::unsupported_assignor);
  CHECK(err->text.find("UNSUPPORTED_ASSIGNOR") != std::string::npos);
  CHECK(err->text.find("sticky-ish") != std::string::npos);
  CHECK_FALSE(first<action::Lost>(a));  // owned nothing
  CHECK(s.m.state() == State::fatal);
}

TEST_CASE("NOT_COORDINATOR / COORDINATOR_NOT_AVAILABLE: find it again, then a full heartbeat at once",
          "[consumer_group]") {
  const kafka_errc code = GENERATE(kafka_errc::not_coordinator, kafka_errc::coordinator_not_available);
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(3));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  const auto old = first<action::SendHeartbeat>(a);
  a = s.answer(a, error(code));
  CHECK(first<action::FindCoordinator>(a));
  CHECK_FALSE(first<action::SendHeartbeat>(a));
  CHECK_FALSE(first<action::Lost>(a));  // still a member
  CHECK(s.m.state() == State::stable);
  CHECK_FALSE(s.m.coordinator());

  a = s.after(5ms, event::CoordinatorFound{2});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->node == 2);
  CHECK(hb->request.member_epoch == 3);              // the same membership
  CHECK(hb->request.rebalance_timeout_ms == 60000);  // full: the sent fields were reset
  CHECK(hb->request.subscribed_topic_names == std::vector<std::string>{"orders"});
  REQUIRE(hb->request.topic_partitions);
  CHECK(*hb->request.topic_partitions == owned_field({{orders_id, {0}}}));

  // An answer to the heartbeat sent to the old coordinator is dropped.
  a = s.after(1ms, event::HeartbeatResult{old->tag, error(kafka_errc::fenced_member_epoch)});
  CHECK(a.empty());
  CHECK(s.m.state() == State::stable);
  CHECK(s.logged("dropped ConsumerGroupHeartbeat answer"));
}

TEST_CASE("COORDINATOR_LOAD_IN_PROGRESS: the same coordinator, after a growing backoff", "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  a = s.answer(a, error(kafka_errc::coordinator_load_in_progress));
  CHECK_FALSE(first<action::FindCoordinator>(a));
  CHECK_FALSE(first<action::SendHeartbeat>(a));
  auto t = first<action::ArmTimer>(a);
  REQUIRE(t);
  CHECK(t->kind == TimerKind::heartbeat);
  CHECK(t->at == s.now + 100ms);
  a = s.after(50ms, event::TimerFired{TimerKind::heartbeat});
  CHECK_FALSE(first<action::SendHeartbeat>(a));
  a = s.after(50ms, event::TimerFired{TimerKind::heartbeat});
  REQUIRE(first<action::SendHeartbeat>(a));
  CHECK(first<action::SendHeartbeat>(a)->request.member_epoch == 0);
  a = s.answer(a, error(kafka_errc::coordinator_load_in_progress));
  CHECK(first<action::ArmTimer>(a)->at == s.now + 200ms);  // doubled
  CHECK(s.m.state() == State::joining);
}

TEST_CASE(
    "a heartbeat that times out: the coordinator is found again, then a full heartbeat after the backoff",
    "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  auto hb = first<action::SendHeartbeat>(a);
  a = s.after(30000ms,
              event::RequestFailed{Api::heartbeat, hb->tag, 0, make_error_code(client_errc::timeout)});
  CHECK(first<action::FindCoordinator>(a));
  CHECK_FALSE(first<action::Lost>(a));
  a = s.after(10ms, event::CoordinatorFound{1});
  CHECK_FALSE(first<action::SendHeartbeat>(a));  // the backoff first
  auto t = first<action::ArmTimer>(a);
  REQUIRE(t);
  a = s.after(90ms, event::TimerFired{TimerKind::heartbeat});
  hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.member_epoch == 1);
  CHECK(hb->request.topic_partitions);  // full
  // The session expired on the broker meanwhile: fenced, lost, rejoin.
  a = s.answer(a, error(kafka_errc::unknown_member_id));
  CHECK(first<action::Lost>(a));
  CHECK(s.m.state() == State::joining);
}

TEST_CASE("max.poll.interval.ms: leave (epoch -1) without waiting, partitions lost, rejoin on the next poll",
          "[consumer_group]") {
  const bool is_static = GENERATE(false, true);
  MemberConfig c = config();
  if (is_static) c.group_instance_id = "host-1";
  Script s(c);
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(1));
  a = s.after(60000ms, event::TimerFired{TimerKind::poll_interval});
  auto leave = first<action::SendHeartbeat>(a);
  REQUIRE(leave);
  CHECK(leave->request.member_epoch == (is_static ? -2 : -1));
  CHECK(leave->request.instance_id == c.group_instance_id);
  CHECK_FALSE(leave->request.topic_partitions);
  auto lost = first<action::Lost>(a);
  REQUIRE(lost);
  CHECK(sorted(lost->partitions) == tps("orders", {0, 1}));
  CHECK_FALSE(first<action::Revoke>(a));
  CHECK(s.m.state() == State::stale);
  CHECK(s.logged("max.poll.interval.ms"));

  // Its answer is not waited for; no heartbeats while stale.
  a = s.after(5ms, event::HeartbeatResult{leave->tag, ok(-1)});
  CHECK(a.empty());
  a = s.after(5000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK(a.empty());

  a = s.after(1ms, event::PollCalled{});
  CHECK(s.m.state() == State::joining);
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.member_epoch == 0);
  CHECK(hb->request.subscribed_topic_names == std::vector<std::string>{"orders"});
}

TEST_CASE("a poll in time moves the deadline", "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(1));
  s.after(40000ms, event::PollCalled{});
  a = s.after(20000ms, event::TimerFired{TimerKind::poll_interval});
  CHECK(s.m.state() == State::stable);
  auto t = first<action::ArmTimer>(a);
  REQUIRE(t);
  CHECK(t->kind == TimerKind::poll_interval);
  CHECK(t->at == s.now + 40000ms);
}

TEST_CASE("unsubscribe / close: revoke (commit with the epoch), then leave with epoch -1 or -2",
          "[consumer_group]") {
  const bool is_static = GENERATE(false, true);
  const bool close = GENERATE(false, true);
  MemberConfig c = config();
  if (is_static) c.group_instance_id = "host-1";
  Script s(c);
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(4));
  a = close ? s.after(1ms, event::Close{}) : s.after(1ms, event::Unsubscribe{});
  CHECK(s.m.state() == State::prepare_leaving);
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(sorted(revoke->partitions) == tps("orders", {0, 1}));
  CHECK_FALSE(first<action::SendHeartbeat>(a));

  a = s.after(1ms, event::CommitRequested{3, offsets(tps("orders", {0, 1}), 7)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->generation == 4);
  CHECK(commit->member_id == "client-made-uuid");
  s.after(1ms,
          event::OffsetCommitResult{commit->tag, 3, commit_answer(tps("orders", {0, 1}), kafka_errc::none)});

  a = s.after(1ms, event::RevokeDone{});
  auto leave = first<action::SendHeartbeat>(a);
  REQUIRE(leave);
  CHECK(leave->request.member_epoch == (is_static ? -2 : -1));
  CHECK(leave->request.member_id == "client-made-uuid");
  CHECK(s.m.state() == State::leaving);
  CHECK(s.m.owned().empty());
  CHECK(s.m.commit_epoch() == -1);

  a = s.after(5ms, event::HeartbeatResult{leave->tag, ok(is_static ? -2 : -1)});
  CHECK(s.m.state() == (close ? State::left : State::unsubscribed));
  a = s.after(10000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK(a.empty());
  if (!close) {  // subscribing again joins again
    a = s.on(event::Subscribe{{"orders"}, std::nullopt});
    CHECK(s.m.state() == State::joining);
    REQUIRE(first<action::SendHeartbeat>(a));
    CHECK(first<action::SendHeartbeat>(a)->request.member_epoch == 0);
  }
}

TEST_CASE("leaving in the middle of a reconciliation: its revoke ends, then the rest, then the leave",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(2, Target{{orders_id, {1, 2}}}));
  REQUIRE(first<action::Revoke>(a)->partitions == tps("orders", {0}));
  a = s.after(1ms, event::Unsubscribe{});
  CHECK(s.m.state() == State::prepare_leaving);
  CHECK_FALSE(first<action::Revoke>(a));  // one revoke at a time
  a = s.after(1ms, event::RevokeDone{});
  CHECK_FALSE(first<action::Assign>(a));  // the reconciliation is void
  auto revoke = first<action::Revoke>(a);
  REQUIRE(revoke);
  CHECK(revoke->partitions == tps("orders", {1}));
  a = s.after(1ms, event::RevokeDone{});
  auto leave = first<action::SendHeartbeat>(a);
  REQUIRE(leave);
  CHECK(leave->request.member_epoch == -1);
  s.after(1ms, event::HeartbeatResult{leave->tag, ok(-1)});
  CHECK(s.m.state() == State::unsubscribed);

  // Subscribing again: a fresh reconciliation, not blocked by the one abandoned.
  a = s.on(event::Subscribe{{"orders"}, std::nullopt});
  a = s.answer(a, ok(3, Target{{orders_id, {2}}}));
  auto assign = first<action::Assign>(a);
  REQUIRE(assign);
  CHECK(assign->partitions == tps("orders", {2}));
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("a static member sends its instance id in every heartbeat and commit", "[consumer_group]") {
  MemberConfig c = config();
  c.group_instance_id = "host-1";
  Script s(c);
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  auto ack = first<action::SendHeartbeat>(a);
  REQUIRE(ack);
  CHECK(ack->request.instance_id == "host-1");
  a = s.answer(a, ok(1));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK(first<action::SendHeartbeat>(a)->request.instance_id == "host-1");
  a = s.after(1ms, event::CommitRequested{1, offsets(tps("orders", {0}), 5)});
  CHECK(first<action::SendOffsetCommit>(a)->group_instance_id == "host-1");
}

TEST_CASE("leaving without a coordinator, or with nothing owned", "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{});
  CHECK(s.m.owned().empty());
  CHECK_FALSE(first<action::SendHeartbeat>(a));  // joined with nothing, assigned nothing: no ack needed
  a = s.after(1ms, event::Close{});
  CHECK_FALSE(first<action::Revoke>(a));
  auto leave = first<action::SendHeartbeat>(a);
  REQUIRE(leave);
  CHECK(leave->request.member_epoch == -1);
  a = s.after(
      1ms, event::RequestFailed{Api::heartbeat, leave->tag, 0, make_error_code(client_errc::disconnected)});
  CHECK(s.m.state() == State::left);  // the leave is sent once, answered or not

  Script t;
  a = t.on(event::Subscribe{{"orders"}, std::nullopt});
  a = t.on(event::Close{});
  CHECK(t.m.state() == State::left);
  CHECK_FALSE(first<action::SendHeartbeat>(a));
}

TEST_CASE("subscription by regex (v1), and switching between regex and names", "[consumer_group]") {
  Script s;
  Actions a = s.on(event::Subscribe{{}, std::string("orders-.*")});
  a = s.after(5ms, event::CoordinatorFound{1});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.subscribed_topic_regex == "orders-.*");
  CHECK_FALSE(hb->request.subscribed_topic_names);
  a = s.answer(a, ok(1, Target{}));
  CHECK(s.m.state() == State::stable);

  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  check_minimal(first<action::SendHeartbeat>(a)->request, 1);  // unchanged: not sent
  a = s.answer(a, ok(1));

  s.on(event::Subscribe{{"orders"}, std::nullopt});
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.subscribed_topic_names == std::vector<std::string>{"orders"});
  CHECK(hb->request.subscribed_topic_regex == "");  // the broker's regex cleared
  CHECK(hb->request.rebalance_timeout_ms == -1);
  a = s.answer(a, ok(1));

  s.on(event::Subscribe{{}, std::string("pay.*")});
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.subscribed_topic_regex == "pay.*");
  REQUIRE(hb->request.subscribed_topic_names);
  CHECK(hb->request.subscribed_topic_names->empty());
}

TEST_CASE("a subscription change goes out in the next heartbeat, alone", "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(1));
  a = s.on(event::Subscribe{{"payments", "orders"}, std::nullopt});
  CHECK(a.empty());  // on the interval, as Java
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  auto hb = first<action::SendHeartbeat>(a);
  REQUIRE(hb);
  CHECK(hb->request.subscribed_topic_names == std::vector<std::string>{"orders", "payments"});
  CHECK_FALSE(hb->request.topic_partitions);
  CHECK(hb->request.rebalance_timeout_ms == -1);
  // The broker assigns payments-0 too.
  a = s.answer(a, ok(2, Target{{orders_id, {0}}, {payments_id, {0}}}));
  auto assign = first<action::Assign>(a);
  REQUIRE(assign);
  CHECK(assign->partitions == tps("payments", {0}));
  CHECK_FALSE(first<action::Revoke>(a));
}

TEST_CASE("STALE_MEMBER_EPOCH on a commit: reported, or (while revoking) sent again with the next epoch",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(2));

  // An application commit: reported as it is; the membership is the heartbeat's business.
  a = s.after(1ms, event::CommitRequested{1, offsets(tps("orders", {0}), 10)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->generation == 2);
  a = s.after(1ms, event::OffsetCommitResult{
                       commit->tag, 1, commit_answer(tps("orders", {0}), kafka_errc::stale_member_epoch)});
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->results.front().ec == kafka_errc::stale_member_epoch);
  CHECK(s.m.state() == State::stable);
  CHECK(s.m.owned().size() == 2);

  // A revocation's commit: held until the member has its next epoch, then sent with it.
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(2, Target{{orders_id, {1}}}));
  REQUIRE(first<action::Revoke>(a));
  a = s.after(1ms, event::CommitRequested{2, offsets(tps("orders", {0}), 11)});
  commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->generation == 2);
  a = s.after(1ms, event::OffsetCommitResult{
                       commit->tag, 2, commit_answer(tps("orders", {0}), kafka_errc::stale_member_epoch)});
  CHECK_FALSE(first<action::CommitCompleted>(a));  // not yet
  CHECK_FALSE(first<action::SendOffsetCommit>(a));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(3));
  commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  CHECK(commit->id == 2);
  CHECK(commit->generation == 3);
  a = s.after(1ms,
              event::OffsetCommitResult{commit->tag, 2, commit_answer(tps("orders", {0}), kafka_errc::none)});
  done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->id == 2);
  REQUIRE(done->results.size() == 1);
  CHECK_FALSE(done->results.front().ec);
}

TEST_CASE("a held revocation commit fails when the member is fenced", "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1}}});
  a = s.answer(a, ok(2));
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(2, Target{{orders_id, {1}}}));
  a = s.after(1ms, event::CommitRequested{2, offsets(tps("orders", {0}), 11)});
  auto commit = first<action::SendOffsetCommit>(a);
  a = s.after(1ms, event::OffsetCommitResult{
                       commit->tag, 2, commit_answer(tps("orders", {0}), kafka_errc::stale_member_epoch)});
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, error(kafka_errc::fenced_member_epoch));
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  CHECK(done->results.front().ec == kafka_errc::stale_member_epoch);
  // Lost: what was not being revoked.
  auto lost = first<action::Lost>(a);
  REQUIRE(lost);
  CHECK(lost->partitions == tps("orders", {1}));
  // The revoke ends after the fence: the void reconciliation assigns and acknowledges nothing.
  a = s.after(1ms, event::RevokeDone{});
  CHECK_FALSE(first<action::Assign>(a));
  CHECK(s.m.state() == State::joining);
}

TEST_CASE("commits: only owned partitions; NOT_COORDINATOR finds the coordinator, membership untouched",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0}}});
  a = s.answer(a, ok(1));
  a = s.after(1ms, event::CommitRequested{1, offsets({{"orders", 0}, {"orders", 5}}, 10)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  REQUIRE(commit->offsets.size() == 1);
  CHECK(commit->offsets.front().tp == TopicPartition{"orders", 0});
  a = s.after(1ms, event::OffsetCommitResult{commit->tag, 1,
                                             commit_answer(tps("orders", {0}), kafka_errc::not_coordinator)});
  auto done = first<action::CommitCompleted>(a);
  REQUIRE(done);
  REQUIRE(done->results.size() == 2);
  std::map<TopicPartition, std::error_code> by;
  for (const auto& r : done->results) by[r.tp] = r.ec;
  CHECK(by[{"orders", 5}] == client_errc::not_assigned);
  CHECK(by[{"orders", 0}] == kafka_errc::not_coordinator);
  CHECK(first<action::FindCoordinator>(a));
  CHECK(s.m.state() == State::stable);
  CHECK(s.m.owned().size() == 1);
  // Other commit errors (even UNKNOWN_MEMBER_ID) are reported and change nothing.
  a = s.after(1ms, event::CoordinatorFound{1});
  a = s.after(1ms, event::CommitRequested{2, offsets(tps("orders", {0}), 11)});
  commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  a = s.after(1ms, event::OffsetCommitResult{
                       commit->tag, 2, commit_answer(tps("orders", {0}), kafka_errc::unknown_member_id)});
  CHECK(first<action::CommitCompleted>(a)->results.front().ec == kafka_errc::unknown_member_id);
  CHECK_FALSE(first<action::Lost>(a));
  CHECK(s.m.state() == State::stable);
}

TEST_CASE("a v0 broker's member id is taken", "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  HeartbeatResponse r = ok(1, Target{});
  r.member_id = "broker-made";
  a = s.answer(a, r);
  CHECK(s.m.member_id() == "broker-made");
  CHECK(s.m.commit_member_id() == "broker-made");
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  CHECK(first<action::SendHeartbeat>(a)->request.member_id == "broker-made");
}

TEST_CASE("metadata that fails is asked again after the backoff", "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  a = s.answer(a, ok(1, Target{{orders_id, {0}}}));
  REQUIRE(first<action::RequestMetadata>(a));
  a = s.after(5ms, event::RequestFailed{Api::metadata, 0, 0, make_error_code(client_errc::disconnected)});
  CHECK_FALSE(first<action::RequestMetadata>(a));
  REQUIRE(first<action::ArmTimer>(a));
  a = s.after(100ms, event::TimerFired{TimerKind::retry});
  REQUIRE(first<action::RequestMetadata>(a));
  // An answer that still does not name it: the member keeps waiting (and heartbeating).
  a = s.after(5ms, event::MetadataUpdated{{{payments_id, "payments"}}});
  CHECK_FALSE(first<action::Assign>(a));
  CHECK(s.m.state() == State::reconciling);
}

TEST_CASE("UNSUPPORTED_VERSION from the heartbeat: the cluster has no consumer groups", "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  a = s.answer(a, error(kafka_errc::unsupported_version));
  auto err = first<action::Error>(a);
  REQUIRE(err);
  CHECK(err->text.find("group.protocol=classic") != std::string::npos);
  CHECK(s.m.state() == State::fatal);
  // A regex the driver cannot send at v0: it answers unsupported_version, fatal too.
  Script t;
  t.on(event::Subscribe{{}, std::string("o.*")});
  a = t.after(5ms, event::CoordinatorFound{1});
  auto hb = first<action::SendHeartbeat>(a);
  a = t.after(1ms, event::RequestFailed{Api::heartbeat, hb->tag, 0,
                                        make_error_code(client_errc::unsupported_version)});
  CHECK(t.m.state() == State::fatal);
  CHECK(first<action::Error>(a)->ec == client_errc::unsupported_version);
}

TEST_CASE("consumer group member: configuration is checked", "[consumer_group]") {
  MemberConfig c = config();
  c.member_id.clear();
  CHECK_THROWS_AS(Member(c), std::invalid_argument);
  c = config();
  c.group_id.clear();
  CHECK_THROWS_AS(Member(c), std::invalid_argument);
}

TEST_CASE("rebalance timeline: the join, time per phase, and who the member became", "[consumer_group]") {
  Script s;
  s.on(event::Subscribe{{"orders"}, std::nullopt});
  Actions a = s.after(5ms, event::CoordinatorFound{1});
  a = s.answer(a, ok(1, Target{{orders_id, {1, 0}}}));  // orders' id unknown: metadata first
  REQUIRE(s.m.timeline().size() == 1);
  CHECK(s.m.timeline()[0].outcome.empty());  // in progress
  a = s.after(3ms, event::MetadataUpdated{{{orders_id, "orders"}}});
  auto ack = first<action::SendHeartbeat>(s.on(event::TimerFired{TimerKind::heartbeat}));
  CHECK_FALSE(ack);  // the empty acknowledgement is still in flight
  a = s.after(5ms, event::HeartbeatResult{s.m.tag(), ok(1)});
  REQUIRE(s.m.state() == State::stable);

  REQUIRE(s.m.timeline().size() == 1);
  const Rebalance& join = s.m.timeline()[0];
  CHECK(join.group_protocol == kafkawire::group::GroupProtocol::consumer);
  CHECK(join.reason == "subscribed to orders");
  CHECK(join.find_coordinator == 5ms);
  CHECK(join.join == 10ms);
  CHECK(join.metadata == 3ms);
  CHECK(join.acknowledge == 5ms);
  CHECK(join.revoke == 0ms);
  REQUIRE(join.ended);
  CHECK(*join.ended - join.started == 23ms);
  CHECK(sorted(join.added) == tps("orders", {0, 1}));
  CHECK(join.generation == 1);
  CHECK(join.member_id == "client-made-uuid");
  CHECK(join.outcome == "stable at epoch 1");
  const std::string text = s.m.timeline_text();
  CHECK(text.find("stable at epoch 1; epoch 1, member client-made-uuid; took 23ms") != std::string::npos);
  CHECK(text.find("[find coordinator 5ms, join 10ms, metadata 3ms, revoke 0ms, acknowledge 5ms]") !=
        std::string::npos);
  CHECK(text.find("sync") == std::string::npos);  // no classic phases
}

TEST_CASE("rebalance timeline: a reconciliation with a revoke and its commit; fenced: partitions lost",
          "[consumer_group]") {
  Script s;
  Actions a = s.to_stable(Target{{orders_id, {0, 1, 2}}});
  a = s.answer(a, ok(1));
  REQUIRE(s.m.timeline().size() == 1);
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(1));  // a steady heartbeat is no rebalance
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, ok(2, Target{{orders_id, {1, 2, 3}}}));
  REQUIRE(s.m.timeline().size() == 2);
  a = s.after(4ms, event::CommitRequested{5, offsets(tps("orders", {0}), 100)});
  auto commit = first<action::SendOffsetCommit>(a);
  REQUIRE(commit);
  a = s.after(1ms,
              event::OffsetCommitResult{commit->tag, 5, commit_answer(tps("orders", {0}), kafka_errc::none)});
  a = s.after(2ms, event::RevokeDone{});
  REQUIRE(s.m.state() == State::stable);
  a = s.answer(a, ok(2));  // the acknowledgement's answer

  const Rebalance& r = s.m.timeline()[1];
  CHECK(r.reason == "new target assignment at epoch 2");
  CHECK(r.revoke == 7ms);
  CHECK(r.join == 0ms);
  CHECK(r.revoked == tps("orders", {0}));
  CHECK(sorted(r.kept) == tps("orders", {1, 2}));
  CHECK(r.added == tps("orders", {3}));
  REQUIRE(r.commits.size() == 1);
  CHECK_FALSE(r.commits[0].ec);
  CHECK(r.outcome == "stable at epoch 2");
  CHECK(r.generation == 2);

  // Fenced: a rebalance of its own, with what was lost, continued by the rejoin.
  a = s.after(2000ms, event::TimerFired{TimerKind::heartbeat});
  a = s.answer(a, error(kafka_errc::fenced_member_epoch));
  REQUIRE(s.m.timeline().size() == 3);
  const Rebalance& fenced = s.m.timeline()[2];
  CHECK(fenced.reason == "ConsumerGroupHeartbeat: FENCED_MEMBER_EPOCH");
  CHECK(sorted(fenced.lost) == tps("orders", {1, 2, 3}));
  CHECK(fenced.outcome.empty());
  a = s.answer(a, ok(4, Target{{orders_id, {1}}}), 20ms);
  CHECK(s.m.timeline()[2].join == 20ms);
  CHECK(s.m.timeline()[2].added == tps("orders", {1}));
  CHECK(s.m.timeline()[2].outcome == "stable at epoch 4");  // acknowledged at once
  CHECK(s.m.timeline()[2].notes == std::vector<std::string>{"also: rejoin with epoch 0 after being fenced"});
}
