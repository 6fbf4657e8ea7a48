// The member side of KIP-848's consumer group protocol: see consumer_group_member.hpp for the contract.
//
// Reading guide: on_event() dispatches to one on(...) per event. The heartbeat loop is maybe_heartbeat()
// (when the next one is due) and build_heartbeat() (which fields it carries); answers go to
// take_assignment() and reconcile() / finish_reconcile(), or to the error paths: coordinator_lost(),
// fenced(), fail(). Leaving is leave() -> send_leave() -> finish_leave(). Facts (states, transitions,
// which error does what, which fields a heartbeat carries) are Java's ConsumerMembershipManager and
// ConsumerHeartbeatRequestManager; classification is the project's error policy (error_policy.hpp).
#include "kafkawire/group/consumer_group_member.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "kafkawire/protocol/error_policy.hpp"
#include "member_detail.hpp"
#include "rebalance_timeline.hpp"

namespace kafkawire::group::consumer_group {

using namespace detail;

std::string_view to_string(State s) {
  switch (s) {
    case State::unsubscribed:
      return "unsubscribed";
    case State::joining:
      return "joining";
    case State::reconciling:
      return "reconciling";
    case State::acknowledging:
      return "acknowledging";
    case State::stable:
      return "stable";
    case State::fenced:
      return "fenced";
    case State::prepare_leaving:
      return "prepare_leaving";
    case State::leaving:
      return "leaving";
    case State::stale:
      return "stale";
    case State::fatal:
      return "fatal";
    case State::left:
      return "left";
  }
  return "?";
}

namespace {

std::string id_text(const protocol::Uuid& id) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < 4; ++i) {  // enough to tell ids apart in a log line
    s += hex[id.bytes[i] >> 4];
    s += hex[id.bytes[i] & 15];
  }
  return s;
}

std::string describe_ids(const TopicIdPartitions& a) {
  std::string s;
  for (const auto& [id, ps] : a) {
    s += (s.empty() ? "" : " ") + id_text(id) + "[";
    bool first = true;
    for (int32_t p : ps) {
      s += (first ? "" : ",") + std::to_string(p);
      first = false;
    }
    s += "]";
  }
  return s.empty() ? "none" : s;
}

}  // namespace

Member::Member(MemberConfig cfg)
    : cfg_(std::move(cfg)),
      interval_(cfg_.heartbeat_interval),
      timeline_(std::make_unique<RebalanceTimeline>(GroupProtocol::consumer)) {
  if (cfg_.group_id.empty()) throw std::invalid_argument("group.id is empty");
  if (cfg_.member_id.empty())
    throw std::invalid_argument("the member id is empty: generate one (a random UUID) per consumer");
  member_id_ = cfg_.member_id;
}

Member::~Member() = default;
Member::Member(Member&&) noexcept = default;
Member& Member::operator=(Member&&) noexcept = default;

std::vector<TopicPartition> Member::owned() const { return to_vector(owned_); }

const std::deque<Rebalance>& Member::timeline() const { return timeline_->records(); }

std::string Member::timeline_text() const {
  std::string s;
  for (const auto& r : timeline_->records()) s += to_string(r) + '\n';
  return s;
}

Actions Member::on_event(const Event& e, TimePoint now) {
  now_ = now;
  out_.clear();
  if (!timeline_->started()) timeline_->start(now);
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
  // Every change of phase happens inside an event: until the next one, the member is where it is now.
  timeline_->enter(phase(), now_);
  return std::move(out_);
}

// ------------------------------------------------------------------------------------------ basic steps

void Member::log(std::string_view line) const {
  if (cfg_.log) cfg_.log(line);
}

// Every change of state comes through here: it is logged, and ends the rebalance in progress where the
// state says it is over (the timeline's rebalances start in join(), take_assignment(), fenced() and
// poll_timer_expired()).
void Member::transition(State to, std::string_view why) {
  std::string line;
  line.append(to_string(state_)).append(" -> ").append(to_string(to)).append(" (").append(why).append(")");
  log(line);
  state_ = to;
  const RebalanceTimeline::Member who{epoch_, member_id_, false, {}};
  switch (to) {
    case State::acknowledging:
      return timeline_->stamp(who);
    case State::stable:
      timeline_->stamp(who);
      return timeline_->end("stable at epoch " + std::to_string(epoch_), now_);
    case State::fatal:
      return timeline_->end("fatal: " + std::string(why), now_);
    case State::unsubscribed:
    case State::stale:
    case State::left:
      return timeline_->end("left: " + std::string(why), now_);
    default:
      return;
  }
}

// Every action goes out through here; the timeline sees the partitions moved and the commits answered.
void Member::emit(Action a) {
  std::visit([this](const auto& act) { timeline_->observe(act); }, a);
  out_.push_back(std::move(a));
}

// Where the time until the next event goes in the timeline. Finding the coordinator is not a state in
// this protocol, so it is read from the member's facts.
RebalancePhase Member::phase() const {
  if (in_group() && !coordinator_) return RebalancePhase::find_coordinator;
  switch (state_) {
    case State::joining:
      return RebalancePhase::join;
    case State::reconciling:
      return revokes_outstanding_ > 0 ? RebalancePhase::revoke : RebalancePhase::metadata;
    case State::acknowledging:
      return RebalancePhase::acknowledge;
    default:
      return RebalancePhase::other;
  }
}

// One timer per kind; tell the caller only when it would fire too late (an early one is re-armed then).
void Member::arm(TimerKind k, TimePoint at) {
  auto& armed = armed_[static_cast<size_t>(k)];
  if (!armed || *armed > at) {
    armed = at;
    emit(action::ArmTimer{k, at});
  }
}

Clock::duration Member::next_backoff() {
  auto d = cfg_.retry_backoff;
  for (int i = 0; i < attempts_ && d < cfg_.retry_backoff_max; ++i) d *= 2;
  ++attempts_;
  return std::min(d, std::max(cfg_.retry_backoff, cfg_.retry_backoff_max));
}

bool Member::in_group() const {
  switch (state_) {
    case State::joining:
    case State::reconciling:
    case State::acknowledging:
    case State::stable:
    case State::prepare_leaving:
    case State::leaving:
      return true;
    default:
      return false;
  }
}

Member::PartitionSet Member::resolved_names() const {
  PartitionSet s;
  for (const auto& [id, ps] : resolved_) s[names_.at(id)] = ps;
  return s;
}

// ------------------------------------------------------------------------------------------ subscription

void Member::on(const event::Subscribe& e) {
  auto topics = normalized(e.topics);
  const bool by_regex = e.regex && !e.regex->empty();
  if (!by_regex && topics.empty()) return on(event::Unsubscribe{});
  if (by_regex) {
    regex_ = e.regex;
    topics_.clear();
  } else {
    regex_.reset();
    topics_ = std::move(topics);
  }
  const std::string what = by_regex ? "regex " + *regex_ : joined(topics_);
  if (state_ == State::unsubscribed) {
    last_poll_ = now_;
    return join("subscribed to " + what);
  }
  // A member: the next heartbeat carries the new subscription (a field that changed). Stale: the next
  // poll rejoins with it.
  log("subscription changed to " + what);
}

void Member::on(const event::Unsubscribe&) {
  topics_.clear();
  regex_.reset();
  leave("unsubscribed", State::unsubscribed);
}

void Member::on(const event::Close&) { leave("close", State::left); }

void Member::join(std::string_view why) {
  epoch_ = kJoinEpoch;
  ++tag_;
  heartbeat_in_flight_ = false;
  sent_ = {};
  target_.clear();
  current_.clear();
  current_valid_ = false;
  reconciling_ = false;
  heartbeat_due_.reset();
  timeline_->begin(std::string(why), now_);
  transition(State::joining, why);
  arm(TimerKind::poll_interval, last_poll_ + cfg_.max_poll_interval);
  maybe_heartbeat();
}

// ------------------------------------------------------------------------------------------ coordinator

void Member::find_coordinator(std::string_view why) {
  if (find_in_flight_ || coordinator_) return;
  find_in_flight_ = true;
  log("find coordinator (" + std::string(why) + ")");
  emit(action::FindCoordinator{cfg_.group_id});
}

void Member::on(const event::CoordinatorFound& e) {
  find_in_flight_ = false;
  if (coordinator_ != e.node_id) ++tag_;  // answers from another coordinator are about another world
  coordinator_ = e.node_id;
  log("coordinator is node " + std::to_string(e.node_id));
  maybe_heartbeat();
  maybe_fetch_offsets();
}

void Member::on(const event::CoordinatorFailed& e) {
  find_in_flight_ = false;
  log("FindCoordinator failed: " + e.ec.message() + "; again after the backoff");
  arm(TimerKind::retry, now_ + next_backoff());
}

// The coordinator moved or went away: what is in flight to it is dropped, the next heartbeat is a full
// one, and it goes out as soon as the new coordinator is known (Java: no backoff for NOT_COORDINATOR).
void Member::coordinator_lost(std::string_view why) {
  log("coordinator lost (" + std::string(why) + ")");
  coordinator_.reset();
  ++tag_;
  heartbeat_in_flight_ = false;
  fetch_in_flight_ = false;
  sent_.valid = false;
  heartbeat_due_.reset();  // heartbeat as soon as the coordinator is known (after any backoff)
  if (state_ == State::leaving) return finish_leave("no coordinator to send the leave heartbeat to");
  if (in_group() || !needs_position_.empty()) find_coordinator(why);
}

// ---------------------------------------------------------------------------------------------- timers

void Member::on(const event::TimerFired& e) {
  armed_[static_cast<size_t>(e.kind)].reset();
  switch (e.kind) {
    case TimerKind::poll_interval:
      if (!in_group() || state_ == State::prepare_leaving || state_ == State::leaving) return;
      if (now_ >= last_poll_ + cfg_.max_poll_interval) return poll_timer_expired();
      return arm(TimerKind::poll_interval, last_poll_ + cfg_.max_poll_interval);
    case TimerKind::heartbeat:
      return maybe_heartbeat();
    case TimerKind::retry:
      if (!coordinator_ && (in_group() || !needs_position_.empty())) find_coordinator("retry");
      if (state_ == State::reconciling) reconcile();  // metadata asked again
      maybe_fetch_offsets();
      return;
    case TimerKind::session:
      return;  // the broker keeps the session in this protocol
  }
}

void Member::on(const event::PollCalled&) {
  last_poll_ = now_;
  if (state_ == State::stale) return join("poll after max.poll.interval.ms: rejoin");
  // The deadline only moves later: the armed timer fires early and is re-armed then.
}

// Java's pollTimer: the application stopped polling. The member leaves at once (epoch -1, or -2 for a
// static member) without waiting for the answer or releasing its partitions through callbacks, and its
// partitions are lost (stale); the next poll rejoins.
void Member::poll_timer_expired() {
  const std::string why = "max.poll.interval.ms (" + ms_text(cfg_.max_poll_interval) +
                          ") exceeded: no poll for " + ms_text(now_ - last_poll_);
  leave_to_ = State::stale;
  leave_ignores_answer_ = true;
  timeline_->begin(why, now_);
  transition(State::prepare_leaving, why);
  send_leave();
}

// --------------------------------------------------------------------------------------------- heartbeat

void Member::maybe_heartbeat() {
  switch (state_) {
    case State::joining:
    case State::reconciling:
    case State::acknowledging:
    case State::stable:
    case State::prepare_leaving:
      break;
    default:
      return;
  }
  if (!coordinator_) return find_coordinator("heartbeat");
  if (heartbeat_in_flight_) return;  // its answer calls here again
  if (not_before_ && now_ < *not_before_) return arm(TimerKind::heartbeat, *not_before_);
  not_before_.reset();
  // Joining (until an answer gives an epoch) and acknowledging heartbeat at once, as Java's
  // shouldHeartbeatNow; the rest on the interval.
  const bool now =
      (state_ == State::joining && epoch_ == kJoinEpoch) || state_ == State::acknowledging || !heartbeat_due_;
  if (!now && now_ < *heartbeat_due_) return arm(TimerKind::heartbeat, *heartbeat_due_);
  send_heartbeat();
}

protocol::ConsumerGroupHeartbeatRequest Member::build_heartbeat() {
  protocol::ConsumerGroupHeartbeatRequest r;
  r.group_id = cfg_.group_id;
  r.member_id = member_id_;
  r.member_epoch = epoch_;
  r.instance_id = cfg_.group_instance_id;
  const bool full = state_ == State::joining || !sent_.valid;
  if (full) {
    r.rack_id = cfg_.rack_id;
    sent_ = {};
  }
  const int32_t timeout = static_cast<int32_t>(cfg_.max_poll_interval.count());
  if (full || sent_.rebalance_timeout_ms != timeout)
    r.rebalance_timeout_ms = sent_.rebalance_timeout_ms = timeout;
  if (regex_) {
    if (full || sent_.regex != regex_) r.subscribed_topic_regex = sent_.regex = regex_;
    // Switched from names: the broker keeps the last names it was sent until told otherwise.
    if (!full && sent_.topics && !sent_.topics->empty()) r.subscribed_topic_names = sent_.topics.emplace();
  } else {
    if (full || sent_.topics != topics_) r.subscribed_topic_names = sent_.topics = topics_;
    if (!full && sent_.regex && !sent_.regex->empty()) r.subscribed_topic_regex = sent_.regex = std::string();
  }
  if (cfg_.server_assignor && (full || sent_.assignor != cfg_.server_assignor))
    r.server_assignor = sent_.assignor = cfg_.server_assignor;
  // The owned partitions: always when joining (empty then), else after each reconciliation.
  if (full || sent_.assignment_version != assignment_version_) {
    r.topic_partitions.emplace();
    for (const auto& [id, ps] : current_) r.topic_partitions->push_back({id, {ps.begin(), ps.end()}});
    sent_.assignment_version = assignment_version_;
  }
  sent_.valid = true;
  return r;
}

void Member::send_heartbeat() {
  auto request = build_heartbeat();
  heartbeat_in_flight_ = true;
  heartbeat_sent_ = now_;
  heartbeat_due_ = now_ + interval_;
  emit(action::SendHeartbeat{tag_, *coordinator_, std::move(request)});
  // Java's onHeartbeatRequestGenerated: the acknowledgement is on its way.
  if (state_ == State::acknowledging) {
    if (current_ == target_) {
      transition(State::stable, "acknowledged " + describe_ids(current_));
    } else {
      transition(State::reconciling, "acknowledged; the target moved on");
      reconcile();
    }
  }
}

void Member::on(const event::HeartbeatResult& e) {
  if (e.tag != tag_) {
    log("dropped ConsumerGroupHeartbeat answer (tag " + std::to_string(e.tag) + ", now " +
        std::to_string(tag_) + ")");
    return;
  }
  heartbeat_in_flight_ = false;
  if (state_ == State::leaving) return finish_leave("left the group");
  const auto& r = e.response;
  const errc code = as_errc(r.error_code);
  if (code != errc::none) {
    std::string text = "ConsumerGroupHeartbeat: " + error_name(code);
    if (r.error_message && !r.error_message->empty()) text += ": " + *r.error_message;
    sent_.valid = false;  // Java resets the sent fields on every error: the next heartbeat is a full one
    switch (error_action(ApiFamily::group_membership, code)) {
      case ErrorAction::find_coordinator:
        return coordinator_lost(text);
      case ErrorAction::rejoin:  // FENCED_MEMBER_EPOCH, UNKNOWN_MEMBER_ID
        return fenced(text);
      case ErrorAction::retry:  // COORDINATOR_LOAD_IN_PROGRESS
      case ErrorAction::refresh_metadata:
        not_before_ = now_ + next_backoff();
        log(text + "; heartbeat again after the backoff");
        return maybe_heartbeat();
      case ErrorAction::none:
      case ErrorAction::fatal:
        if (code == errc::unsupported_version)
          text += " (the cluster does not speak the consumer group protocol: use group.protocol=classic)";
        return fail(make_error_code(code), text);
    }
    return;
  }
  attempts_ = 0;
  not_before_.reset();
  if (r.member_id && !r.member_id->empty()) member_id_ = *r.member_id;
  if (r.heartbeat_interval_ms > 0) interval_ = std::chrono::milliseconds(r.heartbeat_interval_ms);
  heartbeat_due_ = heartbeat_sent_ + interval_;
  const bool new_epoch = r.member_epoch != epoch_;
  epoch_ = r.member_epoch;
  if (r.assignment) {
    switch (state_) {
      case State::joining:
      case State::reconciling:
      case State::acknowledging:
      case State::stable:
        take_assignment(*r.assignment);
        break;
      default:
        log("assignment ignored while " + std::string(to_string(state_)));
    }
  }
  if (new_epoch) epoch_changed();
  maybe_heartbeat();
}

// A transport failure (disconnected, timed out): the coordinator may be the broker that went away.
void Member::heartbeat_failed(std::string_view why, bool find_again) {
  heartbeat_in_flight_ = false;
  sent_.valid = false;
  if (state_ == State::leaving) return finish_leave(std::string(why) + "; left anyway");
  not_before_ = now_ + next_backoff();
  if (find_again) return coordinator_lost(why);
  maybe_heartbeat();
}

// ------------------------------------------------------------------------------------------ reconciling

void Member::take_assignment(const protocol::ConsumerGroupHeartbeatResponse::Assignment& a) {
  TopicIdPartitions target;
  for (const auto& tp : a.topic_partitions)
    if (!tp.partitions.empty()) target[tp.topic_id].insert(tp.partitions.begin(), tp.partitions.end());
  target_ = std::move(target);
  if (!current_valid_ && target_.empty() && owned_.empty()) {
    current_valid_ = true;  // joined with nothing and assigned nothing: the join said so already
    current_.clear();
  }
  if (current_valid_ && current_ == target_) {
    log("target " + describe_ids(target_) + " is what the member owns");
    if (state_ == State::reconciling || state_ == State::joining)
      transition(State::stable, "target equals the current assignment");
    return;
  }
  if (state_ != State::reconciling) {
    if (!timeline_->in_progress())  // a join in progress goes on with its first target
      timeline_->begin("new target assignment at epoch " + std::to_string(epoch_), now_);
    transition(State::reconciling, "new target " + describe_ids(target_));
  }
  reconcile();
}

void Member::reconcile() {
  if (state_ != State::reconciling || reconciling_ || revokes_outstanding_ > 0) return;
  if (current_valid_ && current_ == target_) return transition(State::stable, "reconciled");
  TopicIdPartitions resolved;
  std::vector<protocol::Uuid> unknown;
  for (const auto& [id, ps] : target_) {
    if (names_.count(id))
      resolved[id] = ps;
    else
      unknown.push_back(id);
  }
  if (!unknown.empty() && !metadata_in_flight_) {
    metadata_in_flight_ = true;
    log(std::to_string(unknown.size()) + " topic id(s) of the target unknown: ask for metadata");
    emit(action::RequestMetadata{unknown});
  }
  if (current_valid_ && resolved == current_) {
    log("waiting for metadata: what the member can name of the target, it owns");
    return;
  }
  resolved_ = std::move(resolved);
  const PartitionSet next = resolved_names();
  const PartitionSet revoked = difference(owned_, next);
  timeline_->kept(to_vector(intersect(owned_, next)));
  reconciling_ = true;
  if (!revoked.empty()) {
    // Given up (their offsets committed, on_revoked called) before anything is assigned or acknowledged.
    merge(revoking_, revoked);
    ++revokes_outstanding_;
    emit(action::Revoke{to_vector(revoked)});
    return;
  }
  finish_reconcile();
}

void Member::finish_reconcile() {
  reconciling_ = false;
  const PartitionSet next = resolved_names();
  const PartitionSet added = difference(next, owned_);
  owned_ = next;
  if (!added.empty()) {
    emit(action::Assign{to_vector(added)});
    merge(needs_position_, added);
  }
  current_ = resolved_;
  current_valid_ = true;
  ++assignment_version_;
  transition(State::acknowledging, "owns " + describe(owned_));
  maybe_fetch_offsets();
  maybe_heartbeat();
}

void Member::on(const event::MetadataUpdated& e) {
  metadata_in_flight_ = false;
  for (const auto& [id, name] : e.topic_names)
    if (!name.empty()) names_[id] = name;
  if (state_ == State::reconciling) reconcile();
}

void Member::on(const event::RevokeDone&) {
  if (revokes_outstanding_ > 0) --revokes_outstanding_;
  if (revokes_outstanding_ > 0) return;
  erase_all(owned_, revoking_);
  revoking_.clear();
  if (state_ == State::prepare_leaving) {
    if (!owned_.empty()) {  // a reconciliation's revoke ended; now the rest
      revoking_ = owned_;
      ++revokes_outstanding_;
      emit(action::Revoke{to_vector(owned_)});
      return;
    }
    return send_leave();
  }
  if (reconciling_) {
    if (state_ == State::reconciling) return finish_reconcile();
    reconciling_ = false;  // fenced or failed meanwhile: the reconciliation is void
  }
}

// ------------------------------------------------------------------------------------- losing, failing

void Member::lose_all(std::string_view why) {
  // What is being revoked is already on its way out (its commit will be refused now).
  const PartitionSet lost = difference(owned_, revoking_);
  if (!lost.empty()) emit(action::Lost{to_vector(lost)});
  log("partitions lost (" + std::string(why) + ")");
  owned_.clear();
  revoking_.clear();
  needs_position_.clear();
  current_.clear();
  current_valid_ = false;
  target_.clear();
  reconciling_ = false;
  fetch_waits_for_epoch_ = false;
  ++tag_;
  heartbeat_in_flight_ = false;
  sent_.valid = false;
  for (auto& [id, pc] : parked_) {
    for (const auto& o : pc.sent)
      pc.done.push_back({o.tp, o.offset, make_error_code(errc::stale_member_epoch)});
    pc.sent.clear();
    complete_commit(id, std::move(pc));
  }
  parked_.clear();
}

// FENCED_MEMBER_EPOCH / UNKNOWN_MEMBER_ID: the broker dropped the member. Its partitions may already be
// someone else's: lost (no commit), and it joins again with epoch 0 and the same member id.
void Member::fenced(std::string_view why) {
  if (state_ == State::prepare_leaving || state_ == State::leaving) {
    lose_all(why);
    return finish_leave(std::string(why) + "; already leaving: no leave heartbeat");
  }
  timeline_->begin(std::string(why), now_);
  transition(State::fenced, why);
  lose_all(why);
  join("rejoin with epoch 0 after being fenced");
}

void Member::fail(std::error_code ec, std::string text) {
  const State before = state_;
  transition(State::fatal, text);
  if (before != State::prepare_leaving && before != State::leaving) lose_all(text);
  epoch_ = -1;
  emit(action::Error{ec, std::move(text), true});
}

// ---------------------------------------------------------------------------------------------- leaving

void Member::leave(std::string_view why, State after) {
  switch (state_) {
    case State::unsubscribed:
    case State::stale:
    case State::fenced:
      if (after == State::left) transition(State::left, why);
      return;
    case State::prepare_leaving:
    case State::leaving:
      if (after == State::left) leave_to_ = State::left;  // close wins over unsubscribe
      return;
    default:
      break;
  }
  leave_to_ = after;
  leave_ignores_answer_ = false;
  reconciling_ = false;  // a reconciliation in progress is void: its revoke ends, nothing is assigned
  timeline_->end("abandoned: " + std::string(why), now_);
  transition(State::prepare_leaving, why);
  if (revokes_outstanding_ > 0) return;  // a reconciliation's revoke: the rest after its RevokeDone
  if (!owned_.empty()) {
    revoking_ = owned_;
    ++revokes_outstanding_;
    emit(action::Revoke{to_vector(owned_)});
    return;
  }
  send_leave();
}

// The leave heartbeat: epoch -1, or -2 for a static member (the broker keeps its assignment for when an
// instance with the same group.instance.id comes back). Only the identifying fields.
void Member::send_leave() {
  epoch_ = cfg_.group_instance_id ? kStaticLeaveEpoch : kLeaveEpoch;
  current_.clear();
  current_valid_ = false;
  transition(State::leaving, "leave heartbeat, epoch " + std::to_string(epoch_));
  if (!coordinator_) return finish_leave("no coordinator to send the leave heartbeat to");
  ++tag_;
  protocol::ConsumerGroupHeartbeatRequest r;
  r.group_id = cfg_.group_id;
  r.member_id = member_id_;
  r.member_epoch = epoch_;
  r.instance_id = cfg_.group_instance_id;
  heartbeat_in_flight_ = true;
  emit(action::SendHeartbeat{tag_, *coordinator_, std::move(r)});
  if (leave_ignores_answer_) finish_leave("leave heartbeat sent");
}

void Member::finish_leave(std::string_view why) {
  heartbeat_in_flight_ = false;
  leave_ignores_answer_ = false;
  ++tag_;
  sent_ = {};
  heartbeat_due_.reset();
  not_before_.reset();
  const State to = leave_to_;
  if (to == State::stale) lose_all(why);
  transition(to, why);
  if (to == State::unsubscribed && (regex_ || !topics_.empty())) join("subscribed again while leaving");
}

// ---------------------------------------------------------------------------------------------- failures

void Member::on(const event::RequestFailed& e) {
  const std::string why = std::string(to_string(e.api)) + " failed: " + e.ec.message();
  const bool find_again = error_action(ApiFamily::group_membership, e.ec) == ErrorAction::find_coordinator;
  switch (e.api) {
    case Api::heartbeat:
      if (e.tag != tag_) return log("dropped " + why + " (stale tag)");
      if (error_action(ApiFamily::group_membership, e.ec) == ErrorAction::fatal && state_ != State::leaving) {
        heartbeat_in_flight_ = false;
        return fail(e.ec, "ConsumerGroupHeartbeat: " + e.ec.message());
      }
      return heartbeat_failed(why, find_again);
    case Api::metadata:
      metadata_in_flight_ = false;
      log(why + "; ask again after the backoff");
      return arm(TimerKind::retry, now_ + next_backoff());
    case Api::offset_fetch:
      fetch_in_flight_ = false;
      if (find_again && e.tag == tag_) return coordinator_lost(why);
      return arm(TimerKind::retry, now_ + next_backoff());
    case Api::offset_commit: {
      auto it = commits_.find(e.id);
      if (it == commits_.end()) return;
      PendingCommit pc = std::move(it->second);
      commits_.erase(it);
      for (const auto& o : pc.sent) pc.done.push_back({o.tp, o.offset, e.ec});
      pc.sent.clear();
      const int32_t node = pc.coordinator;
      complete_commit(e.id, std::move(pc));
      if (find_again && coordinator_ == node) coordinator_lost(why);
      return;
    }
    default:
      return;
  }
}

// ------------------------------------------------------------------------------------------------ offsets

void Member::on(const event::CommitRequested& e) {
  PendingCommit pc;
  for (const auto& o : e.offsets) {
    if (!contains(owned_, o.tp)) {
      pc.refused.push_back({o.tp, o.offset, make_error_code(client_errc::not_assigned)});
    } else if (!coordinator_) {
      pc.refused.push_back({o.tp, o.offset, make_error_code(errc::coordinator_not_available)});
      find_coordinator("commit");
    } else {
      pc.sent.push_back(o);
      if (contains(revoking_, o.tp)) pc.revocation = true;
    }
  }
  if (pc.sent.empty()) return complete_commit(e.id, std::move(pc));
  send_commit(e.id, std::move(pc));
}

void Member::send_commit(uint64_t id, PendingCommit pc) {
  pc.coordinator = *coordinator_;
  pc.epoch = commit_epoch();
  action::SendOffsetCommit r{
      tag_, id, *coordinator_, cfg_.group_id, pc.epoch, commit_member_id(), cfg_.group_instance_id, pc.sent};
  commits_[id] = std::move(pc);
  emit(std::move(r));
}

void Member::complete_commit(uint64_t id, PendingCommit pc) {
  std::vector<CommitOutcome> results = std::move(pc.refused);
  results.insert(results.end(), pc.done.begin(), pc.done.end());
  emit(action::CommitCompleted{id, std::move(results)});
}

void Member::on(const event::OffsetCommitResult& e) {
  auto it = commits_.find(e.id);
  if (it == commits_.end()) return log("OffsetCommit answer for unknown commit " + std::to_string(e.id));
  PendingCommit pc = std::move(it->second);
  commits_.erase(it);
  std::vector<OffsetToCommit> again;
  bool coordinator_moved = false;
  std::string names;
  for (size_t i = 0; i < pc.sent.size(); ++i) {
    const auto& o = pc.sent[i];
    std::error_code ec = make_error_code(client_errc::malformed);  // not in the answer
    if (const auto* p = answer_for(e.partitions, i, o.tp))
      ec = p->error_code ? make_kafka_error(p->error_code) : std::error_code{};
    if (ec == errc::stale_member_epoch && pc.revocation && epoch_ > 0) {
      again.push_back(o);
      continue;
    }
    if (ec && ec.category() == kafka_category()) {
      names += (names.empty() ? "" : ",") + error_name(as_errc(static_cast<int16_t>(ec.value())));
      coordinator_moved =
          coordinator_moved || error_action(ApiFamily::offset_commit, ec) == ErrorAction::find_coordinator;
    }
    pc.done.push_back({o.tp, o.offset, ec});
  }
  const int32_t node = pc.coordinator;
  if (!again.empty()) {
    pc.sent = std::move(again);
    if (epoch_ != pc.epoch && coordinator_) {
      log("OffsetCommit: STALE_MEMBER_EPOCH while revoking; again with epoch " + std::to_string(epoch_));
      send_commit(e.id, std::move(pc));
    } else {
      log("OffsetCommit: STALE_MEMBER_EPOCH while revoking; again with the next epoch");
      parked_[e.id] = std::move(pc);
    }
  } else {
    complete_commit(e.id, std::move(pc));
  }
  // Commits are not membership (Java): only a coordinator that moved changes anything here.
  if (coordinator_moved && coordinator_ == node) coordinator_lost("OffsetCommit: " + names);
}

void Member::epoch_changed() {
  if (epoch_ <= 0) return;
  auto parked = std::move(parked_);
  parked_.clear();
  for (auto& [id, pc] : parked) {
    std::erase_if(pc.sent, [this](const OffsetToCommit& o) { return !contains(owned_, o.tp); });
    if (pc.sent.empty() || !coordinator_) {
      for (const auto& o : pc.sent)
        pc.done.push_back({o.tp, o.offset, make_error_code(errc::stale_member_epoch)});
      pc.sent.clear();
      complete_commit(id, std::move(pc));
    } else {
      send_commit(id, std::move(pc));
    }
  }
  if (fetch_waits_for_epoch_) {
    fetch_waits_for_epoch_ = false;
    maybe_fetch_offsets();
  }
}

void Member::maybe_fetch_offsets() {
  if (!coordinator_ || fetch_in_flight_ || fetch_waits_for_epoch_) return;
  const PartitionSet want = intersect(needs_position_, owned_);
  if (want.empty()) return;
  fetch_in_flight_ = true;
  emit(action::SendOffsetFetch{tag_, *coordinator_, cfg_.group_id, commit_member_id(), commit_epoch(),
                               to_vector(want), true});
}

// Committed offsets are facts about the group: an answer with an older tag still counts, for the
// partitions the member owns now.
void Member::on(const event::OffsetFetchResult& e) {
  fetch_in_flight_ = false;
  const errc group_error = as_errc(e.error_code);
  if (group_error != errc::none) {
    const std::string err = "OffsetFetch: " + error_name(group_error);
    if (group_error == errc::stale_member_epoch || group_error == errc::unknown_member_id) {
      // Java fails this fetch; positions are initialised again with the member's next epoch.
      log(err + "; again with the next member epoch");
      fetch_waits_for_epoch_ = true;
      return;
    }
    switch (error_action(ApiFamily::offset_fetch, group_error)) {
      case ErrorAction::find_coordinator:
        if (e.tag == tag_) return coordinator_lost(err);
        [[fallthrough]];
      case ErrorAction::retry:
      case ErrorAction::refresh_metadata:
        log(err + "; again after the backoff");
        return arm(TimerKind::retry, now_ + next_backoff());
      default:
        emit(action::Error{make_error_code(group_error), err, false});
        needs_position_.clear();
        return;
    }
  }
  action::InitPositions init;
  bool retry = false;
  for (const auto& row : e.partitions) {
    if (!contains(needs_position_, row.tp) || !contains(owned_, row.tp)) continue;
    const errc c = as_errc(row.error_code);
    if (c == errc::none) {
      init.offsets.push_back({row.tp, row.offset, row.leader_epoch, row.metadata});
      erase_one(needs_position_, row.tp);
    } else if (is_retry(error_action(ApiFamily::offset_fetch, c))) {
      retry = true;
    } else {
      emit(action::Error{make_error_code(c), "OffsetFetch " + to_string(row.tp) + ": " + error_name(c),
                         false});
      erase_one(needs_position_, row.tp);
    }
  }
  if (!init.offsets.empty()) emit(std::move(init));
  if (retry)
    arm(TimerKind::retry, now_ + next_backoff());
  else
    maybe_fetch_offsets();
}

}  // namespace kafkawire::group::consumer_group
