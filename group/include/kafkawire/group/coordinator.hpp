// The member side of Kafka's classic consumer-group protocol, as a sans-IO state machine.
//
// Named GroupMember, not Coordinator: the coordinator is the broker that runs the group; this is one
// member of it (what Java calls ConsumerCoordinator). The file keeps the name coordinator.hpp because it
// is "the coordinator protocol" to the rest of the tree.
//
// No sockets, no clocks, no threads. The caller feeds events (a broker answered, a timer fired, the
// application polled) with the current time, and gets back the actions to carry out, in order:
//
//     GroupMember m(cfg);
//     for (auto& a : m.on_event(event::Start{{"orders"}}, now)) carry_out(a);
//
// The contract for whoever carries out the actions (the Asio layer):
//  - Every Send* action and FindCoordinator / RequestMetadata is answered by exactly one event: its
//    result, or RequestFailed (I/O error, timeout) with the action's tag. Send the requests to `node`
//    over the group connection, in the order the actions come (OffsetCommits must not overtake each
//    other). JoinGroup waits up to the rebalance timeout on the broker: its request timeout must be longer.
//  - ArmTimer{kind, at}: one timer per kind; a new ArmTimer of a kind replaces the previous one. When it
//    expires, feed TimerFired{kind}. Early, late or stale firings are harmless: the machine keeps its own
//    deadlines and re-arms when it fired too early.
//  - Revoke{partitions}: stop fetching them, commit their processed positions (CommitRequested, while
//    still a member), call the application's on_revoked, then feed RevokeDone. The machine does not rejoin
//    or leave before that. Lost{partitions}: stop fetching, drop positions, call on_lost, never commit.
//    Assign{partitions}: incremental, they are added to what the member owns. InitPositions: the committed
//    offsets to start the newly assigned partitions from (nullopt: none committed, auto.offset.reset).
//  - Error{ec, text}: hand to the application on its next poll. fatal = the member is in State::fatal.
//  - The Bytes inside a JoinGroupResult / SyncGroupResult event only need to live during on_event().
//    Actions own everything they carry (nothing to keep alive) and name topics by name, whatever the
//    version: the driver builds each request at the version it negotiates (consumer/group_requests.hpp),
//    fills in topic ids where that version wants them, and names the topics of answers before feeding
//    them back.
//
// Responses are tagged with the member's epoch at the time of sending (a counter that moves on every
// JoinGroup, every new generation, every reset and every coordinator change); an answer with another tag
// is about a world that is gone and is dropped. Commit answers are still reported, but only change the
// member's state when they are current and the member is stable: a commit that fails in the middle of a
// rebalance is the application's problem to retry, never a reason to drop the assignment.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "kafkawire/group/assignor.hpp"  // TopicPartition, Assignor
#include "kafkawire/group/group_protocol.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/sync_group.hpp"

namespace kafkawire::group {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Tag = uint64_t;

struct MemberConfig {
  std::string group_id;
  std::optional<std::string> group_instance_id;  // static membership (KIP-345)
  std::chrono::milliseconds session_timeout{45000};
  // max.poll.interval.ms: both JoinGroup's RebalanceTimeoutMs (what Java sends) and how long the
  // application may go without polling before the member leaves the group on its own.
  std::chrono::milliseconds max_poll_interval{300000};
  std::chrono::milliseconds heartbeat_interval{3000};
  // partition.assignment.strategy, in order of preference. Cooperative rebalancing (KIP-429) is used
  // only when every one of them is cooperative, as in Java: a member that may end up in an eager
  // protocol must give up everything before it joins.
  std::vector<std::string> assignors{"range", "cooperative-sticky"};
  std::chrono::milliseconds retry_backoff{100};
  std::chrono::milliseconds retry_backoff_max{1000};  // doubles per consecutive failure up to this
  std::optional<std::string> rack_id;                 // client.rack, in the subscription (v3)
  // Gets one line per transition, "joining -> syncing (why)", and per dropped answer. Default: none.
  std::function<void(std::string_view)> log;
};

enum class State : uint8_t {
  unjoined,             // not started, unsubscribed, or left after max.poll.interval.ms (rejoins on poll)
  finding_coordinator,  // FindCoordinator in flight or waiting for its backoff
  revoking,             // waiting for the application to finish with revoked partitions (RevokeDone)
  joining,              // JoinGroup in flight or waiting for its backoff
  assigning,            // leader, waiting for the partition counts of the group's topics
  syncing,              // SyncGroup in flight
  stable,               // a member of a generation with an assignment; heartbeating
  leaving,              // LeaveGroup in flight
  left,                 // closed; terminal
  fatal,                // a non-recoverable error (fenced, not authorized, ...); terminal
};
std::string_view to_string(State s);

enum class TimerKind : uint8_t { heartbeat, session, poll_interval, retry };
inline constexpr size_t kTimerKinds = 4;
std::string_view to_string(TimerKind k);

enum class Api : uint8_t {
  join_group,
  sync_group,
  heartbeat,
  leave_group,
  offset_commit,
  offset_fetch,
  metadata
};
std::string_view to_string(Api a);

struct OffsetToCommit {
  TopicPartition tp;
  int64_t offset = 0;  // the next record to read
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

struct CommitOutcome {
  TopicPartition tp;
  int64_t offset = 0;
  std::error_code ec;
};

struct CommittedOffset {
  TopicPartition tp;
  std::optional<int64_t> offset;  // nullopt: nothing committed
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
};

// One partition of an OffsetCommit answer.
struct PartitionAnswer {
  TopicPartition tp;
  int16_t error_code = 0;
};

// One partition of an OffsetFetch answer.
struct FetchedOffset {
  TopicPartition tp;
  std::optional<int64_t> offset;  // nullopt: nothing committed
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error_code = 0;
};

// ------------------------------------------------------------------------------------------------ events

namespace event {
struct Start {
  std::vector<std::string> topics;
};
struct SubscriptionChanged {
  std::vector<std::string> topics;  // empty: unsubscribe (leave the group, back to unjoined)
};
// Partition counts of topics the cluster has. While a RequestMetadata is outstanding, the next
// MetadataUpdated is its answer: a topic it asked for and that is absent here does not exist (0
// partitions; if it appears later, the leader rebalances). Unasked updates may come at any time (the
// leader watches them for partition count changes, see metadata_topics()).
struct MetadataUpdated {
  std::map<std::string, int32_t> partition_counts;
};
struct CoordinatorFound {
  int32_t node_id = -1;
};
struct CoordinatorFailed {
  std::error_code ec;
};
struct JoinGroupResult {
  Tag tag = 0;
  protocol::JoinGroupResponse response;
};
struct SyncGroupResult {
  Tag tag = 0;
  protocol::SyncGroupResponse response;
};
struct HeartbeatResult {
  Tag tag = 0;
  int16_t error_code = 0;
};
struct LeaveGroupResult {
  Tag tag = 0;
  int16_t error_code = 0;
};
struct OffsetCommitResult {
  Tag tag = 0;
  uint64_t id = 0;                          // from the SendOffsetCommit
  std::vector<PartitionAnswer> partitions;  // every partition the answer names, topics by name
};
struct OffsetFetchResult {
  Tag tag = 0;
  int16_t error_code = 0;                 // the group's error (coordinator moved, loading, ...)
  std::vector<FetchedOffset> partitions;  // topics by name
};
// A Send* or RequestMetadata that got no answer: disconnected, timed out.
struct RequestFailed {
  Api api{};
  Tag tag = 0;
  uint64_t id = 0;  // offset_commit: the SendOffsetCommit's id
  std::error_code ec;
};
struct TimerFired {
  TimerKind kind{};
};
struct PollCalled {};
// The application (or auto-commit, or a revoke hook) wants these positions committed.
struct CommitRequested {
  uint64_t id = 0;  // echoed in CommitCompleted
  std::vector<OffsetToCommit> offsets;
};
struct RevokeDone {};  // the answer to each Revoke action
struct Close {};
}  // namespace event

using Event =
    std::variant<event::Start, event::SubscriptionChanged, event::MetadataUpdated, event::CoordinatorFound,
                 event::CoordinatorFailed, event::JoinGroupResult, event::SyncGroupResult,
                 event::HeartbeatResult, event::LeaveGroupResult, event::OffsetCommitResult,
                 event::OffsetFetchResult, event::RequestFailed, event::TimerFired, event::PollCalled,
                 event::CommitRequested, event::RevokeDone, event::Close>;

// ----------------------------------------------------------------------------------------------- actions

namespace action {
struct FindCoordinator {
  std::string group_id;  // key type 0 (group); answer with CoordinatorFound / CoordinatorFailed
};
struct RequestMetadata {
  std::vector<std::string> topics;  // answer with MetadataUpdated (or RequestFailed{Api::metadata})
};
// The Send* actions carry what the member means, owned and in no version's shape: the driver builds the
// request at the version it negotiates with the coordinator (consumer/group_requests.hpp).
struct JoinProtocol {
  std::string name;               // an assignor: "range", "cooperative-sticky", ...
  std::vector<uint8_t> metadata;  // its ConsumerProtocolSubscription, encoded
};
struct SendJoinGroup {
  Tag tag = 0;
  int32_t node = -1;
  std::string group_id;
  std::string member_id;  // empty on a first join (the broker then makes one up: MEMBER_ID_REQUIRED)
  std::optional<std::string> group_instance_id;
  std::chrono::milliseconds session_timeout{0};
  std::chrono::milliseconds rebalance_timeout{0};  // how long the broker waits for members to rejoin
  std::string protocol_type;                       // "consumer"
  std::vector<JoinProtocol> protocols;             // in order of preference
  std::string reason;                              // why the member (re)joins (KIP-800)
};
struct MemberAssignment {
  std::string member_id;
  std::vector<uint8_t> assignment;  // its ConsumerProtocolAssignment, encoded
};
struct SendSyncGroup {
  Tag tag = 0;
  int32_t node = -1;
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;                  // "consumer"
  std::string protocol_name;                  // the assignor the group chose
  std::vector<MemberAssignment> assignments;  // the leader's plan; empty for a follower
};
struct SendHeartbeat {
  Tag tag = 0;
  int32_t node = -1;
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};
struct SendLeaveGroup {
  Tag tag = 0;
  int32_t node = -1;
  std::string group_id;
  std::string member_id;
  std::string reason;
};
struct SendOffsetCommit {
  Tag tag = 0;
  uint64_t id = 0;
  int32_t node = -1;
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<OffsetToCommit> offsets;  // topics by name
};
struct SendOffsetFetch {
  Tag tag = 0;
  int32_t node = -1;
  std::string group_id;
  std::vector<TopicPartition> partitions;  // topics by name
  bool require_stable = true;  // wait out pending transactional commits (KIP-447): UNSTABLE_OFFSET_COMMIT
};
struct ArmTimer {
  TimerKind kind{};
  TimePoint at{};
};
struct Assign {
  std::vector<TopicPartition> partitions;
};
struct Revoke {
  std::vector<TopicPartition> partitions;
};
struct Lost {
  std::vector<TopicPartition> partitions;
};
struct InitPositions {
  std::vector<CommittedOffset> offsets;
};
struct CommitCompleted {
  uint64_t id = 0;
  std::vector<CommitOutcome> results;
};
struct Error {
  std::error_code ec;
  std::string text;
  bool fatal = false;
};
}  // namespace action

using Action =
    std::variant<action::FindCoordinator, action::RequestMetadata, action::SendJoinGroup,
                 action::SendSyncGroup, action::SendHeartbeat, action::SendLeaveGroup,
                 action::SendOffsetCommit, action::SendOffsetFetch, action::ArmTimer, action::Assign,
                 action::Revoke, action::Lost, action::InitPositions, action::CommitCompleted, action::Error>;
using Actions = std::vector<Action>;

// ------------------------------------------------------------------------------------------------ timeline

// One rebalance as this member saw it: from the moment it decided to (re)join until it was stable again
// (or left, or failed). Durations are the time spent in each phase during it.
//
// The classic protocol (GroupMember) goes through find_coordinator, revoke, join, assign (the leader runs
// the assignor) and sync. KIP-848's (ConsumerGroupMember) rebalances are its reconciliations: it finds the
// coordinator, joins (heartbeats with epoch 0 until an answer gives it an epoch), waits for the metadata
// that names the target's topic ids, revokes, and acknowledges (its next heartbeat carries what it owns).
struct Rebalance {
  uint64_t number = 0;
  GroupProtocol group_protocol = GroupProtocol::classic;
  std::string reason;
  TimePoint started{};
  std::chrono::milliseconds since_start{0};  // when it started, counted from the member's first event
  std::optional<TimePoint> ended;
  int32_t generation = -1;  // the member epoch with group.protocol=consumer
  std::string member_id;
  bool leader = false;   // classic only
  std::string protocol;  // classic only: the assignor the group chose
  Clock::duration find_coordinator{}, revoke{}, join{}, assign{}, sync{};  // assign, sync: classic only
  Clock::duration metadata{}, acknowledge{};                               // consumer only
  std::vector<TopicPartition> revoked, kept, added, lost;
  std::vector<CommitOutcome> commits;  // commits answered while it was in progress
  std::vector<std::string> notes;      // MEMBER_ID_REQUIRED, NOT_COORDINATOR, retries, ...
  std::string outcome;                 // empty while in progress
};
std::string to_string(const Rebalance& r);

// ----------------------------------------------------------------------------------------------- machine

class RebalanceTimeline;
// What a member is doing during a rebalance: the timeline charges time to one of these (Rebalance).
enum class RebalancePhase : uint8_t {
  other,
  find_coordinator,
  revoke,
  join,
  assign,
  sync,
  metadata,
  acknowledge
};

class GroupMember {
 public:
  // Throws std::invalid_argument for an empty group id or assignor list, or an unknown assignor name.
  explicit GroupMember(MemberConfig cfg);
  ~GroupMember();
  GroupMember(GroupMember&&) noexcept;
  GroupMember& operator=(GroupMember&&) noexcept;

  Actions on_event(const Event& e, TimePoint now);

  State state() const { return state_; }
  const std::string& member_id() const { return member_id_; }
  int32_t generation() const { return generation_; }
  bool is_leader() const { return !member_id_.empty() && leader_id_ == member_id_; }
  std::optional<int32_t> coordinator() const { return coordinator_; }
  const std::string& protocol_name() const { return protocol_; }
  bool cooperative() const { return cooperative_; }
  Tag tag() const { return epoch_; }
  std::vector<TopicPartition> owned() const;
  // The topics whose partition counts the machine watches: the subscription, and for the leader every
  // topic of the group. Keep their metadata fresh and feed it as MetadataUpdated.
  std::vector<std::string> metadata_topics() const;
  const std::deque<Rebalance>& timeline() const;
  std::string timeline_text() const;  // to_string of each, one per line

  static constexpr size_t kTimelineLimit = 64;  // older rebalances are dropped
  static constexpr int16_t kSubscriptionVersion = 3;

 private:
  using PartitionSet = std::map<std::string, std::set<int32_t>>;
  struct LeaderPlan;  // member_detail.hpp
  struct PendingCommit {
    std::vector<OffsetToCommit> sent;
    std::vector<CommitOutcome> refused;  // answered locally (not owned, no coordinator)
    int32_t coordinator = -1;            // the node it was sent to
  };
  enum class AfterRevoke : uint8_t { join, leave };

  // Event handlers.
  void on(const event::Start& e);
  void on(const event::SubscriptionChanged& e);
  void on(const event::MetadataUpdated& e);
  void on(const event::CoordinatorFound& e);
  void on(const event::CoordinatorFailed& e);
  void on(const event::JoinGroupResult& e);
  void on(const event::SyncGroupResult& e);
  void on(const event::HeartbeatResult& e);
  void on(const event::LeaveGroupResult& e);
  void on(const event::OffsetCommitResult& e);
  void on(const event::OffsetFetchResult& e);
  void on(const event::RequestFailed& e);
  void on(const event::TimerFired& e);
  void on(const event::PollCalled& e);
  void on(const event::CommitRequested& e);
  void on(const event::RevokeDone& e);
  void on(const event::Close& e);

  // Steps.
  void transition(State to, std::string_view why);
  void log(std::string_view line) const;
  void emit(Action a);
  void note(std::string text);
  void arm(TimerKind k, TimePoint at);
  void arm_retry(Clock::duration d);
  Clock::duration next_backoff();
  void bump_epoch();
  bool stale(Tag t, std::string_view what);

  void begin_rebalance(const std::string& reason);
  void join_now(std::string_view why);
  void find_coordinator(std::string_view why);
  void send_join(std::string_view why);
  void send_sync(std::vector<action::MemberAssignment> assignments, std::string_view why);
  void try_assign();
  void apply_assignment(const PartitionSet& assigned);
  void enter_stable(std::string_view why);
  void send_heartbeat();
  void maybe_fetch_offsets();
  void revoke(PartitionSet p);
  void lose_everything(std::string_view why);
  void membership_lost(const std::string& why);
  void coordinator_lost(const std::string& why);
  void retry_later(std::string_view what, State in);
  void start_leaving(std::string_view why, State to);
  void leave_now(std::string_view why);
  void finish_leave(std::string_view why);
  void poll_interval_exceeded();
  void fail(std::error_code ec, const std::string& text);
  bool heartbeat_active() const;
  bool leader_metadata_changed(std::string* what) const;

  MemberConfig cfg_;
  bool cooperative_ = false;

  TimePoint now_{};
  Actions out_;

  State state_ = State::unjoined;
  bool started_ = false;
  Tag epoch_ = 1;

  std::optional<int32_t> coordinator_;
  int attempts_ = 0;  // consecutive retriable failures, for the backoff

  std::string member_id_;
  int32_t generation_ = -1;
  std::string leader_id_;
  std::string protocol_;

  bool find_in_flight_ = false, join_in_flight_ = false, sync_in_flight_ = false,
       heartbeat_in_flight_ = false, fetch_in_flight_ = false, metadata_in_flight_ = false;
  TimePoint heartbeat_sent_{};

  std::vector<std::string> topics_;         // subscription, sorted
  std::vector<std::string> joined_topics_;  // subscription sent in the last JoinGroup

  PartitionSet owned_;
  PartitionSet revoking_;  // handed out in a Revoke, no RevokeDone yet (commits still allowed)
  int revokes_outstanding_ = 0;
  PartitionSet needs_position_;
  AfterRevoke after_revoke_ = AfterRevoke::join;
  State leave_to_ = State::left;
  bool poll_expired_ = false;
  TimePoint last_poll_{};

  std::map<std::string, int32_t> partition_counts_;
  std::set<std::string> metadata_asked_;
  std::map<std::string, int32_t> assigned_counts_;  // leader: what the last assignment was computed from
  std::unique_ptr<LeaderPlan> plan_;                // leader: decoded members, while assigning

  std::map<uint64_t, PendingCommit> commits_;

  std::array<std::optional<TimePoint>, kTimerKinds> due_{};    // when something should happen
  std::array<std::optional<TimePoint>, kTimerKinds> armed_{};  // what the caller's timer is set to

  std::unique_ptr<RebalanceTimeline> timeline_;  // rebalance_timeline.hpp: observes transition() and emit()
};

}  // namespace kafkawire::group
