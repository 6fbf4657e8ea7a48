// The member side of the classic group protocol: see coordinator.hpp for the contract.
//
// Reading guide: on_event() dispatches to one on(...) per event; each handler checks the state it is in,
// drops what is stale, and then takes one of a few steps (begin_rebalance, join_now, send_sync,
// apply_assignment, enter_stable, coordinator_lost, membership_lost, start_leaving, fail). Every change of
// state goes through transition(), which logs it; the rebalance timeline (rebalance_timeline.hpp) observes
// it there and in emit().
//
// The machine is in four files, by what the member is doing:
//   coordinator.cpp          dispatch, basic steps, subscription and metadata, timers, failed requests
//   coordinator_join.cpp     finding the coordinator, JoinGroup, the leader's assignment, SyncGroup
//   coordinator_session.cpp  heartbeats, losing the membership or the coordinator, fatal errors, leaving
//   coordinator_offsets.cpp  commits and the committed offsets of newly assigned partitions
#include "kafkawire/group/coordinator.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "member_detail.hpp"
#include "rebalance_timeline.hpp"

namespace kafkawire::group {

using namespace detail;

// ------------------------------------------------------------------------------------------------ names

std::string_view to_string(State s) {
  switch (s) {
    case State::unjoined:
      return "unjoined";
    case State::finding_coordinator:
      return "finding_coordinator";
    case State::revoking:
      return "revoking";
    case State::joining:
      return "joining";
    case State::assigning:
      return "assigning";
    case State::syncing:
      return "syncing";
    case State::stable:
      return "stable";
    case State::leaving:
      return "leaving";
    case State::left:
      return "left";
    case State::fatal:
      return "fatal";
  }
  return "?";
}

std::string_view to_string(TimerKind k) {
  switch (k) {
    case TimerKind::heartbeat:
      return "heartbeat";
    case TimerKind::session:
      return "session";
    case TimerKind::poll_interval:
      return "poll_interval";
    case TimerKind::retry:
      return "retry";
  }
  return "?";
}

std::string_view to_string(Api a) {
  switch (a) {
    case Api::join_group:
      return "JoinGroup";
    case Api::sync_group:
      return "SyncGroup";
    case Api::heartbeat:
      return "Heartbeat";
    case Api::leave_group:
      return "LeaveGroup";
    case Api::offset_commit:
      return "OffsetCommit";
    case Api::offset_fetch:
      return "OffsetFetch";
    case Api::metadata:
      return "Metadata";
  }
  return "?";
}

// ------------------------------------------------------------------------------------------- the machine

GroupMember::GroupMember(MemberConfig cfg)
    : cfg_(std::move(cfg)), timeline_(std::make_unique<RebalanceTimeline>(GroupProtocol::classic)) {
  if (cfg_.group_id.empty()) throw std::invalid_argument("group.id is empty");
  if (cfg_.assignors.empty()) throw std::invalid_argument("partition.assignment.strategy is empty");
  cooperative_ = true;
  for (const auto& name : cfg_.assignors) {
    auto a = make_assignor(name);
    if (!a) throw std::invalid_argument("partition.assignment.strategy: unknown assignor '" + name + "'");
    cooperative_ = cooperative_ && a->cooperative();
  }
}

GroupMember::~GroupMember() = default;
GroupMember::GroupMember(GroupMember&&) noexcept = default;
GroupMember& GroupMember::operator=(GroupMember&&) noexcept = default;

std::vector<TopicPartition> GroupMember::owned() const { return to_vector(owned_); }

std::vector<std::string> GroupMember::metadata_topics() const {
  std::set<std::string> all(topics_.begin(), topics_.end());
  if (is_leader())
    for (const auto& [topic, n] : assigned_counts_) all.insert(topic);
  if (plan_) all.insert(plan_->topics.begin(), plan_->topics.end());
  return {all.begin(), all.end()};
}

const std::deque<Rebalance>& GroupMember::timeline() const { return timeline_->records(); }

std::string GroupMember::timeline_text() const {
  std::string s;
  for (const auto& r : timeline_->records()) s += to_string(r) + '\n';
  return s;
}

Actions GroupMember::on_event(const Event& e, TimePoint now) {
  now_ = now;
  out_.clear();
  if (state_ == State::left || state_ == State::fatal) {
    // Terminal: only answer what someone waits for.
    if (const auto* c = std::get_if<event::CommitRequested>(&e)) {
      action::CommitCompleted done{c->id, {}};
      for (const auto& o : c->offsets)
        done.results.push_back({o.tp, o.offset, make_error_code(client_errc::operation_aborted)});
      emit(std::move(done));
    } else if (std::holds_alternative<event::RevokeDone>(e)) {
      if (revokes_outstanding_ > 0) --revokes_outstanding_;
    } else if (std::holds_alternative<event::Close>(e) && state_ == State::fatal) {
      transition(State::left, "close");
    }
    return std::move(out_);
  }
  std::visit([this](const auto& ev) { on(ev); }, e);
  return std::move(out_);
}

// ------------------------------------------------------------------------------------------ basic steps

void GroupMember::log(std::string_view line) const {
  if (cfg_.log) cfg_.log(line);
}

// Every change of state comes through here: it is logged, and the rebalance timeline observes it (time
// per state, who the member became, how the rebalance ended).
void GroupMember::transition(State to, std::string_view why) {
  std::string line;
  line.append(to_string(state_)).append(" -> ").append(to_string(to)).append(" (").append(why).append(")");
  log(line);
  const State from = state_;
  state_ = to;
  timeline_->on_transition(from, to, why, now_, {generation_, member_id_, is_leader(), protocol_});
}

// Every action goes out through here; the timeline sees the partitions moved and the commits answered.
void GroupMember::emit(Action a) {
  timeline_->on_action(a);
  out_.push_back(std::move(a));
}

void GroupMember::note(std::string text) { timeline_->note(std::move(text)); }

// The caller has one timer per kind. Only tell it when it would fire too late: a timer that fires too
// early is re-armed then (on(TimerFired)), so deadlines that only move later (the next heartbeat, the
// poll deadline) cost no action.
void GroupMember::arm(TimerKind k, TimePoint at) {
  const auto i = static_cast<size_t>(k);
  due_[i] = at;
  if (!armed_[i] || *armed_[i] > at) {
    armed_[i] = at;
    emit(action::ArmTimer{k, at});
  }
}

// The retry timer serves whatever waits for a backoff in the current state; keep the earliest.
void GroupMember::arm_retry(Clock::duration d) {
  const auto i = static_cast<size_t>(TimerKind::retry);
  const TimePoint at = now_ + d;
  arm(TimerKind::retry, due_[i] && *due_[i] < at ? *due_[i] : at);
}

Clock::duration GroupMember::next_backoff() {
  auto d = cfg_.retry_backoff;
  for (int i = 0; i < attempts_ && d < cfg_.retry_backoff_max; ++i) d *= 2;
  ++attempts_;
  return std::min(d, std::max(cfg_.retry_backoff, cfg_.retry_backoff_max));
}

void GroupMember::bump_epoch() {
  ++epoch_;
  join_in_flight_ = sync_in_flight_ = heartbeat_in_flight_ = false;
}

bool GroupMember::stale(Tag t, std::string_view what) {
  if (t == epoch_) return false;
  log("dropped " + std::string(what) + " (tag " + std::to_string(t) + ", now " + std::to_string(epoch_) +
      ")");
  return true;
}

bool GroupMember::heartbeat_active() const {
  switch (state_) {
    case State::revoking:
    case State::assigning:
    case State::syncing:
    case State::stable:
      return coordinator_ && generation_ >= 0 && !member_id_.empty();
    default:
      return false;
  }
}

// ----------------------------------------------------------------------------------------------- events

void GroupMember::on(const event::Start& e) {
  if (started_) return on(event::SubscriptionChanged{e.topics});
  started_ = true;
  timeline_->start(now_);
  last_poll_ = now_;
  topics_ = normalized(e.topics);
  if (topics_.empty()) {
    log("started with no topics: stay unjoined");
    return;
  }
  begin_rebalance("start: subscribed to " + joined(topics_));
}

void GroupMember::on(const event::SubscriptionChanged& e) {
  auto topics = normalized(e.topics);
  if (topics.empty()) {
    topics_.clear();
    if (started_) start_leaving("unsubscribed", State::unjoined);
    return;
  }
  topics_ = std::move(topics);
  if (!started_) return;
  if (state_ == State::unjoined) {
    if (!poll_expired_) begin_rebalance("subscribed to " + joined(topics_));
  } else if (state_ == State::stable && topics_ != joined_topics_) {
    begin_rebalance("subscription changed to " + joined(topics_));
  }
  // Other states: enter_stable() compares the subscription with the one the member joined with.
}

void GroupMember::on(const event::MetadataUpdated& e) {
  for (const auto& [topic, n] : e.partition_counts) partition_counts_[topic] = n;
  if (metadata_in_flight_) {
    // The answer to RequestMetadata: what it asked for and did not get does not exist (yet). The
    // assignor skips it; if it appears later, leader_metadata_changed() starts a rebalance.
    for (const auto& t : metadata_asked_)
      if (!e.partition_counts.count(t)) partition_counts_[t] = 0;
    metadata_in_flight_ = false;
    metadata_asked_.clear();
  }
  std::string what;
  if (state_ == State::assigning && plan_) {
    try_assign();
  } else if (state_ == State::stable && leader_metadata_changed(&what)) {
    begin_rebalance(what);
  }
}

void GroupMember::on(const event::RequestFailed& e) {
  const std::string why = std::string(to_string(e.api)) + " failed: " + e.ec.message();
  switch (e.api) {
    case Api::offset_commit: {
      auto it = commits_.find(e.id);
      if (it != commits_.end()) {
        std::vector<CommitOutcome> results = std::move(it->second.refused);
        for (const auto& o : it->second.sent) results.push_back({o.tp, o.offset, e.ec});
        commits_.erase(it);
        emit(action::CommitCompleted{e.id, std::move(results)});
      }
      if (e.tag == epoch_ && coordinator_) coordinator_lost(why);
      return;
    }
    case Api::offset_fetch:
      fetch_in_flight_ = false;
      if (e.tag == epoch_ && coordinator_) return coordinator_lost(why);
      return maybe_fetch_offsets();
    case Api::metadata:
      metadata_in_flight_ = false;
      if (state_ == State::assigning) {
        note(why);
        arm_retry(next_backoff());
      }
      return;
    case Api::leave_group:
      if (state_ == State::leaving && !stale(e.tag, "LeaveGroup failure"))
        finish_leave(why + "; left anyway");
      return;
    case Api::heartbeat:
      if (stale(e.tag, "Heartbeat failure")) return;
      heartbeat_in_flight_ = false;
      return coordinator_lost(why);
    case Api::join_group:
    case Api::sync_group:
      if (stale(e.tag, why)) return;
      if ((e.api == Api::join_group && state_ != State::joining) ||
          (e.api == Api::sync_group && state_ != State::syncing))
        return;
      return coordinator_lost(why);
  }
}

void GroupMember::on(const event::TimerFired& e) {
  const auto i = static_cast<size_t>(e.kind);
  if (armed_[i] && now_ < *armed_[i]) return;  // the firing of a timer that has since been re-armed
  armed_[i].reset();
  if (!due_[i]) return;
  if (now_ < *due_[i]) return arm(e.kind, *due_[i]);  // the deadline moved later since it was armed
  due_[i].reset();
  switch (e.kind) {
    case TimerKind::heartbeat:
      if (heartbeat_active() && !heartbeat_in_flight_) send_heartbeat();
      return;
    case TimerKind::session:
      if (state_ == State::stable)
        coordinator_lost("no Heartbeat answered within session.timeout.ms (" + ms_text(cfg_.session_timeout) +
                         ")");
      return;
    case TimerKind::poll_interval:
      if (state_ == State::stable) poll_interval_exceeded();
      return;
    case TimerKind::retry:
      switch (state_) {
        case State::finding_coordinator:
          if (!find_in_flight_) {
            find_in_flight_ = true;
            emit(action::FindCoordinator{cfg_.group_id});
          }
          break;
        case State::joining:
          if (!join_in_flight_) send_join("backoff over: JoinGroup again");
          break;
        case State::assigning:
          if (plan_) try_assign();
          break;
        default:
          break;
      }
      maybe_fetch_offsets();
      return;
  }
}

void GroupMember::on(const event::PollCalled&) {
  last_poll_ = now_;
  auto& due = due_[static_cast<size_t>(TimerKind::poll_interval)];
  if (due) due = last_poll_ + cfg_.max_poll_interval;  // later: no action, see arm()
  if (state_ == State::unjoined && poll_expired_) {
    poll_expired_ = false;
    emit(action::Error{make_error_code(client_errc::poll_interval_exceeded),
                       "the application did not poll within max.poll.interval.ms (" +
                           ms_text(cfg_.max_poll_interval) +
                           "): the member left the group and its partitions were lost; rejoining",
                       false});
    if (!topics_.empty()) begin_rebalance("rejoin after max.poll.interval.ms was exceeded");
  }
}

void GroupMember::on(const event::RevokeDone&) {
  if (revokes_outstanding_ == 0) {
    log("RevokeDone without a Revoke: ignored");
    return;
  }
  if (--revokes_outstanding_ > 0) return;
  revoking_.clear();
  if (state_ != State::revoking) return;
  if (after_revoke_ == AfterRevoke::leave) return leave_now("revocation done");
  join_now("revocation done");
}

void GroupMember::on(const event::Close&) { start_leaving("close", State::left); }

}  // namespace kafkawire::group
