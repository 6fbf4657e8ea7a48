// The member side of the classic group protocol: see coordinator.hpp for the contract.
//
// Reading guide: on_event() dispatches to one on(...) per event; each handler checks the state it is in,
// drops what is stale, and then takes one of a few steps (begin_rebalance, join_now, send_sync,
// apply_assignment, enter_stable, coordinator_lost, membership_lost, start_leaving, fail). Every change of
// state goes through transition(), which logs it and charges the time spent to the open rebalance record.
#include "kafkawire/group/coordinator.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/error_policy.hpp"

namespace kafkawire::group {

namespace {

using PartitionSet = std::map<std::string, std::set<int32_t>>;

using errc = kafka_errc;

// Errors after which the member cannot go on (State::fatal): its configuration or rights are wrong. Other
// errors the policy calls fatal fail one request (reported to the application); the member tries again.
bool is_fatal_group_error(errc c) {
  switch (c) {
    case errc::inconsistent_group_protocol:
    case errc::invalid_group_id:
    case errc::invalid_session_timeout:
    case errc::group_authorization_failed:
    case errc::group_max_size_reached:
    case errc::fenced_instance_id:
      return true;
    default:
      return false;
  }
}

std::string error_name(errc c) {
  if (const KafkaErrorInfo* info = find_kafka_error(static_cast<int16_t>(c))) return std::string(info->name);
  return "error " + std::to_string(static_cast<int16_t>(c));
}

std::string ms_text(Clock::duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + "ms";
}

std::vector<std::string> normalized(std::vector<std::string> topics) {
  std::erase_if(topics, [](const std::string& t) { return t.empty(); });
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  return topics;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

// ---------------------------------------------------------------------- sets of partitions, by topic

std::vector<TopicPartition> to_vector(const PartitionSet& s) {
  std::vector<TopicPartition> v;
  for (const auto& [topic, parts] : s)
    for (int32_t p : parts) v.push_back({topic, p});
  return v;
}

size_t size_of(const PartitionSet& s) {
  size_t n = 0;
  for (const auto& [topic, parts] : s) n += parts.size();
  return n;
}

bool contains(const PartitionSet& s, const TopicPartition& tp) {
  auto it = s.find(tp.topic);
  return it != s.end() && it->second.count(tp.partition) != 0;
}

void merge(PartitionSet& into, const PartitionSet& more) {
  for (const auto& [topic, parts] : more) into[topic].insert(parts.begin(), parts.end());
}

PartitionSet difference(const PartitionSet& a, const PartitionSet& b) {
  PartitionSet out;
  for (const auto& [topic, parts] : a)
    for (int32_t p : parts)
      if (!contains(b, {topic, p})) out[topic].insert(p);
  return out;
}

PartitionSet intersect(const PartitionSet& a, const PartitionSet& b) {
  PartitionSet out;
  for (const auto& [topic, parts] : a)
    for (int32_t p : parts)
      if (contains(b, {topic, p})) out[topic].insert(p);
  return out;
}

void erase_all(PartitionSet& from, const PartitionSet& gone) {
  for (const auto& [topic, parts] : gone) {
    auto it = from.find(topic);
    if (it == from.end()) continue;
    for (int32_t p : parts) it->second.erase(p);
    if (it->second.empty()) from.erase(it);
  }
}

void erase_one(PartitionSet& from, const TopicPartition& tp) {
  erase_all(from, PartitionSet{{tp.topic, {tp.partition}}});
}

std::string describe(const PartitionSet& s) {
  if (s.empty()) return "none";
  std::string out;
  for (const auto& [topic, parts] : s) {
    if (!out.empty()) out += ' ';
    out += topic + '[';
    bool first = true;
    for (int32_t p : parts) {
      out += (first ? "" : ",") + std::to_string(p);
      first = false;
    }
    out += ']';
  }
  return out;
}

std::string describe(const std::vector<TopicPartition>& v) {
  PartitionSet s;
  for (const auto& tp : v) s[tp.topic].insert(tp.partition);
  return std::to_string(v.size()) + (v.empty() ? "" : " " + describe(s));
}

}  // namespace

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

std::string to_string(const Rebalance& r) {
  std::string s = "rebalance #" + std::to_string(r.number) + " at +" + std::to_string(r.since_start.count()) +
                  "ms (" + r.reason + "): ";
  s += r.outcome.empty() ? "in progress" : r.outcome;
  if (r.generation >= 0) {
    s += "; generation " + std::to_string(r.generation) + (r.leader ? " as leader" : " as follower");
    if (!r.protocol.empty()) s += ", protocol " + r.protocol;
    if (!r.member_id.empty()) s += ", member " + r.member_id;
  }
  if (r.ended) s += "; took " + ms_text(*r.ended - r.started);
  s += " [find coordinator " + ms_text(r.find_coordinator) + ", revoke " + ms_text(r.revoke) + ", join " +
       ms_text(r.join) + ", assign " + ms_text(r.assign) + ", sync " + ms_text(r.sync) + "]";
  s += "; revoked " + describe(r.revoked) + "; kept " + describe(r.kept) + "; added " + describe(r.added) +
       "; lost " + describe(r.lost);
  size_t failed = 0;
  for (const auto& c : r.commits) failed += c.ec ? 1 : 0;
  s +=
      "; commits " + std::to_string(r.commits.size() - failed) + " ok, " + std::to_string(failed) + " failed";
  if (!r.notes.empty()) {
    s += "; notes:";
    for (const auto& n : r.notes) s += " [" + n + "]";
  }
  return s;
}

// ------------------------------------------------------------------------------------------- the leader

// What the leader decoded from JoinGroup, kept while it waits for partition counts.
struct GroupMember::LeaderPlan {
  std::string protocol;
  std::vector<MemberSubscription> members;
  std::map<std::string, int16_t> versions;  // member id -> its subscription version: answer in kind
  std::set<std::string> topics;             // every topic some member subscribes to
};

// ------------------------------------------------------------------------------------------- the machine

GroupMember::GroupMember(MemberConfig cfg) : cfg_(std::move(cfg)) {
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

std::string GroupMember::timeline_text() const {
  std::string s;
  for (const auto& r : timeline_) s += to_string(r) + '\n';
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

void GroupMember::account() {
  if (Rebalance* r = open_record()) {
    const Clock::duration d = now_ - entered_;
    switch (state_) {
      case State::finding_coordinator:
        r->find_coordinator += d;
        break;
      case State::revoking:
        r->revoke += d;
        break;
      case State::joining:
        r->join += d;
        break;
      case State::assigning:
        r->assign += d;
        break;
      case State::syncing:
        r->sync += d;
        break;
      default:
        break;
    }
  }
  entered_ = now_;
}

void GroupMember::transition(State to, std::string_view why) {
  account();
  std::string line;
  line.append(to_string(state_)).append(" -> ").append(to_string(to)).append(" (").append(why).append(")");
  log(line);
  state_ = to;
}

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

// ----------------------------------------------------------------------------------------- the timeline

Rebalance* GroupMember::open_record() { return record_open_ ? &timeline_.back() : nullptr; }

void GroupMember::open_rebalance(const std::string& reason) {
  if (record_open_) {
    note("also: " + reason);
    return;
  }
  Rebalance r;
  r.number = ++rebalances_;
  r.reason = reason;
  r.started = now_;
  r.since_start = std::chrono::duration_cast<std::chrono::milliseconds>(now_ - origin_);
  timeline_.push_back(std::move(r));
  while (timeline_.size() > kTimelineLimit) timeline_.pop_front();
  record_open_ = true;
  entered_ = now_;  // time spent before it started is not part of it
}

void GroupMember::close_rebalance(std::string outcome) {
  if (!record_open_) return;
  account();
  Rebalance& r = timeline_.back();
  r.ended = now_;
  r.outcome = std::move(outcome);
  record_open_ = false;
}

void GroupMember::note(std::string text) {
  if (Rebalance* r = open_record()) r->notes.push_back(std::move(text));
}

// --------------------------------------------------------------------------------- joining and syncing

// Decided to (re)join. Eager: give everything up first. Cooperative (KIP-429): keep what is owned and
// only give up topics no longer subscribed; the assignment will say what else must go.
void GroupMember::begin_rebalance(const std::string& reason) {
  open_rebalance(reason);
  PartitionSet give_up;
  if (!cooperative_) {
    give_up = owned_;
  } else {
    for (const auto& [topic, parts] : owned_)
      if (!std::binary_search(topics_.begin(), topics_.end(), topic)) give_up[topic] = parts;
  }
  if (!give_up.empty()) {
    if (Rebalance* r = open_record()) {
      auto v = to_vector(give_up);
      r->revoked.insert(r->revoked.end(), v.begin(), v.end());
    }
    revoke(give_up);
    after_revoke_ = AfterRevoke::join;
    transition(State::revoking,
               reason + (cooperative_ ? "; revoke " + describe(give_up) + " (no longer subscribed)"
                                      : "; eager: revoke all " + std::to_string(size_of(give_up)) +
                                            " partitions before rejoining"));
    return;
  }
  join_now(reason);
}

void GroupMember::join_now(std::string_view why) {
  after_revoke_ = AfterRevoke::join;
  if (!coordinator_) {
    find_coordinator(why);
  } else {
    send_join(why);
  }
}

void GroupMember::find_coordinator(std::string_view why) {
  transition(State::finding_coordinator, why);
  if (!find_in_flight_) {
    find_in_flight_ = true;
    emit(action::FindCoordinator{cfg_.group_id});
  }
}

void GroupMember::send_join(std::string_view why) {
  bump_epoch();
  joined_topics_ = topics_;
  protocol::ConsumerProtocolSubscription sub;
  sub.topics = topics_;
  for (const auto& [topic, parts] : owned_)
    sub.owned_partitions.push_back({topic, {parts.begin(), parts.end()}});
  sub.generation_id = generation_;
  sub.rack_id = cfg_.rack_id;
  const std::vector<uint8_t> blob = protocol::encode_versioned(sub, kSubscriptionVersion);

  action::SendJoinGroup j;
  j.tag = epoch_;
  j.node = *coordinator_;
  j.group_id = cfg_.group_id;
  j.member_id = member_id_;
  j.group_instance_id = cfg_.group_instance_id;
  j.session_timeout = cfg_.session_timeout;
  j.rebalance_timeout = cfg_.max_poll_interval;
  j.protocol_type = "consumer";
  for (const auto& name : cfg_.assignors) j.protocols.push_back({name, blob});
  if (const Rebalance* rec = open_record()) j.reason = rec->reason;

  join_in_flight_ = true;
  due_[static_cast<size_t>(TimerKind::retry)].reset();
  emit(std::move(j));
  transition(State::joining, why);
}

void GroupMember::on(const event::JoinGroupResult& e) {
  if (state_ != State::joining || stale(e.tag, "JoinGroup answer")) return;
  join_in_flight_ = false;
  const auto& resp = e.response;
  const errc c = as_errc(resp.error_code);
  const std::string err = "JoinGroup: " + error_name(c);
  switch (c) {
    case errc::none:
      break;
    case errc::member_id_required:
      // KIP-394: the broker made up our member id; join again with it.
      member_id_ = resp.member_id;
      note("MEMBER_ID_REQUIRED: member id " + member_id_);
      send_join(err + ": rejoin as " + member_id_);
      return;
    case errc::rebalance_in_progress:
      note(err);
      send_join(err + ": join again");
      return;
    case errc::unknown_member_id:
    case errc::illegal_generation:
      membership_lost(err);
      return;
    case errc::coordinator_not_available:
    case errc::not_coordinator:
      coordinator_lost(err);
      return;
    case errc::coordinator_load_in_progress:
      retry_later(err, State::joining);
      return;
    default:
      if (c == errc::fenced_instance_id) return fail(client_errc::fenced_instance, err);
      if (is_fatal_group_error(c)) return fail(make_error_code(c), err);
      // What the policy retries is only waited out; anything else is reported, and the member goes on.
      if (error_action(ApiFamily::group_membership, c) == ErrorAction::fatal)
        emit(action::Error{make_error_code(c), err, false});
      retry_later(err, State::joining);
      return;
  }

  attempts_ = 0;
  member_id_ = resp.member_id;
  generation_ = resp.generation_id;
  leader_id_ = resp.leader;
  protocol_ = resp.protocol_name.value_or("");
  if (std::find(cfg_.assignors.begin(), cfg_.assignors.end(), protocol_) == cfg_.assignors.end())
    return fail(make_error_code(errc::inconsistent_group_protocol),
                "JoinGroup: the group chose protocol '" + protocol_ + "', which this member did not offer");
  if (Rebalance* r = open_record()) {
    r->generation = generation_;
    r->member_id = member_id_;
    r->leader = is_leader();
    r->protocol = protocol_;
  }
  arm(TimerKind::heartbeat, now_ + cfg_.heartbeat_interval);  // keep the session alive until synced

  const std::string joined = "joined generation " + std::to_string(generation_);
  if (!is_leader()) return send_sync({}, joined + " as follower");
  if (resp.skip_assignment) return send_sync({}, joined + " as leader; the broker assigned (SkipAssignment)");

  // The leader: decode every member's subscription; the assignor runs once the partition counts are known.
  plan_ = std::make_unique<LeaderPlan>();
  plan_->protocol = protocol_;
  for (const auto& m : resp.members) {
    protocol::ConsumerProtocolSubscription sub;
    int16_t version = 0;
    MemberSubscription ms;
    ms.member_id = m.member_id;
    ms.group_instance_id = m.group_instance_id;
    if (auto ec = protocol::decode_versioned(m.metadata, sub, &version)) {
      // It gets nothing rather than stopping the whole group; say so.
      const std::string text =
          "member " + m.member_id + " sent a subscription that does not decode: " + ec.message();
      emit(action::Error{ec, text, false});
      note(text);
      version = 0;
    } else {
      ms.topics = normalized(sub.topics);
      for (const auto& tp : sub.owned_partitions)
        for (int32_t p : tp.partitions) ms.owned_partitions.push_back({tp.topic, p});
      ms.generation = sub.generation_id;
      ms.rack_id = sub.rack_id;
    }
    plan_->versions[ms.member_id] = std::clamp<int16_t>(version, 0, kSubscriptionVersion);
    plan_->topics.insert(ms.topics.begin(), ms.topics.end());
    plan_->members.push_back(std::move(ms));
  }
  note("leader of " + std::to_string(plan_->members.size()) + " members");
  try_assign();
}

// Runs the chosen assignor when every topic's partition count is known; asks for metadata otherwise.
void GroupMember::try_assign() {
  std::vector<std::string> missing;
  for (const auto& t : plan_->topics)
    if (!partition_counts_.count(t)) missing.push_back(t);
  if (!missing.empty()) {
    if (!metadata_in_flight_) {
      metadata_in_flight_ = true;
      metadata_asked_ = plan_->topics;
      emit(action::RequestMetadata{{plan_->topics.begin(), plan_->topics.end()}});
    }
    if (state_ != State::assigning)
      transition(State::assigning, "leader: waiting for the partition counts of " + joined(missing));
    return;
  }

  std::map<std::string, int32_t> counts;
  for (const auto& t : plan_->topics) counts[t] = partition_counts_[t];
  Assignment plan;
  try {
    plan = make_assignor(plan_->protocol)->assign(plan_->members, counts);
  } catch (const std::exception& ex) {
    const std::string text = "assignor " + plan_->protocol + " failed: " + ex.what();
    emit(action::Error{make_error_code(client_errc::invalid_argument), text, false});
    plan_.reset();
    return retry_later(text, State::joining);
  }
  assigned_counts_ = counts;

  std::vector<action::MemberAssignment> assignments;
  size_t total = 0;
  for (const auto& m : plan_->members) {
    protocol::ConsumerProtocolAssignment a;
    PartitionSet mine;
    if (auto it = plan.find(m.member_id); it != plan.end())
      for (const auto& tp : it->second) mine[tp.topic].insert(tp.partition);
    for (const auto& [topic, parts] : mine)
      a.assigned_partitions.push_back({topic, {parts.begin(), parts.end()}});
    total += size_of(mine);
    assignments.push_back({m.member_id, protocol::encode_versioned(a, plan_->versions[m.member_id])});
  }
  const std::string why = "leader: " + plan_->protocol + " assigned " + std::to_string(total) +
                          " partitions of " + std::to_string(counts.size()) + " topics to " +
                          std::to_string(plan_->members.size()) + " members";
  plan_.reset();
  send_sync(std::move(assignments), why);
}

void GroupMember::send_sync(std::vector<action::MemberAssignment> assignments, std::string_view why) {
  action::SendSyncGroup r;
  r.tag = epoch_;
  r.node = *coordinator_;
  r.group_id = cfg_.group_id;
  r.generation = generation_;
  r.member_id = member_id_;
  r.group_instance_id = cfg_.group_instance_id;
  r.protocol_type = "consumer";
  r.protocol_name = protocol_;
  r.assignments = std::move(assignments);
  sync_in_flight_ = true;
  emit(std::move(r));
  transition(State::syncing, why);
}

void GroupMember::on(const event::SyncGroupResult& e) {
  if (state_ != State::syncing || stale(e.tag, "SyncGroup answer")) return;
  sync_in_flight_ = false;
  const errc c = as_errc(e.response.error_code);
  const std::string err = "SyncGroup: " + error_name(c);
  switch (c) {
    case errc::none:
      break;
    case errc::rebalance_in_progress:
      begin_rebalance(err);
      return;
    case errc::unknown_member_id:
    case errc::illegal_generation:
      membership_lost(err);
      return;
    case errc::coordinator_not_available:
    case errc::not_coordinator:
      coordinator_lost(err);
      return;
    default:
      if (c == errc::fenced_instance_id) return fail(client_errc::fenced_instance, err);
      if (is_fatal_group_error(c)) return fail(make_error_code(c), err);
      // What the policy retries is only waited out; anything else is reported, and the member goes on.
      if (error_action(ApiFamily::group_membership, c) == ErrorAction::fatal)
        emit(action::Error{make_error_code(c), err, false});
      retry_later(err, State::joining);
      return;
  }

  protocol::ConsumerProtocolAssignment a;
  // No bytes: the leader gave this member nothing (or left it out).
  if (!e.response.assignment.empty()) {
    if (auto ec = protocol::decode_versioned(e.response.assignment, a)) {
      const std::string text = "SyncGroup: the assignment does not decode: " + ec.message();
      emit(action::Error{ec, text, false});
      retry_later(text, State::joining);
      return;
    }
  }
  PartitionSet assigned;
  for (const auto& tp : a.assigned_partitions)
    for (int32_t p : tp.partitions) assigned[tp.topic].insert(p);
  apply_assignment(assigned);
}

// The new generation's assignment arrived. What was owned and is not in it is revoked (cooperative: then
// rejoin, KIP-429's second phase); what is new is added and needs its committed offsets.
void GroupMember::apply_assignment(const PartitionSet& assigned) {
  const PartitionSet revoked = difference(owned_, assigned);
  const PartitionSet added = difference(assigned, owned_);
  const PartitionSet kept = intersect(owned_, assigned);
  bump_epoch();  // answers about the previous generation are now stale
  attempts_ = 0;
  merge(owned_, added);
  merge(needs_position_, added);
  if (Rebalance* r = open_record()) {
    r->generation = generation_;
    r->kept = to_vector(kept);
    r->added = to_vector(added);
    auto v = to_vector(revoked);
    r->revoked.insert(r->revoked.end(), v.begin(), v.end());
  }
  if (!revoked.empty()) revoke(revoked);  // on_revoked before on_assigned, as in Java
  if (!added.empty()) emit(action::Assign{to_vector(added)});
  const std::string summary = "synced generation " + std::to_string(generation_) + ": added " +
                              describe(added) + ", kept " + describe(kept) + ", revoked " + describe(revoked);
  if (revoked.empty()) return enter_stable(summary);

  close_rebalance("generation " + std::to_string(generation_) + "; " + std::to_string(size_of(revoked)) +
                  " partitions revoked, rejoining");
  open_rebalance("cooperative second phase: rejoin after revoking " + describe(revoked));
  after_revoke_ = AfterRevoke::join;
  arm(TimerKind::heartbeat, now_ + cfg_.heartbeat_interval);
  transition(State::revoking, summary + "; rejoin once they are revoked");
  maybe_fetch_offsets();
}

void GroupMember::enter_stable(std::string_view why) {
  close_rebalance("stable in generation " + std::to_string(generation_));
  transition(State::stable, why);
  arm(TimerKind::heartbeat, now_ + cfg_.heartbeat_interval);
  arm(TimerKind::session, now_ + cfg_.session_timeout);
  arm(TimerKind::poll_interval, last_poll_ + cfg_.max_poll_interval);
  maybe_fetch_offsets();
  std::string what;
  if (topics_ != joined_topics_) {
    begin_rebalance("subscription changed to " + joined(topics_));
  } else if (leader_metadata_changed(&what)) {
    begin_rebalance(what);
  }
}

bool GroupMember::leader_metadata_changed(std::string* what) const {
  if (!is_leader()) return false;
  for (const auto& [topic, n] : assigned_counts_) {
    auto it = partition_counts_.find(topic);
    if (it != partition_counts_.end() && it->second != n) {
      *what = "metadata changed: " + topic + " has " + std::to_string(it->second) +
              " partitions, assigned with " + std::to_string(n);
      return true;
    }
  }
  return false;
}

void GroupMember::revoke(PartitionSet p) {  // a copy: p is often owned_ itself
  erase_all(owned_, p);
  erase_all(needs_position_, p);
  merge(revoking_, p);
  ++revokes_outstanding_;
  emit(action::Revoke{to_vector(p)});
}

// ------------------------------------------------------------------------------------- failures, resets

// The member id and generation are gone (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, poll timeout, fencing):
// what it owned may already belong to someone else. Lost, not revoked: no commit.
void GroupMember::lose_everything(std::string_view why) {
  if (!owned_.empty()) {
    if (Rebalance* r = open_record()) {
      auto v = to_vector(owned_);
      r->lost.insert(r->lost.end(), v.begin(), v.end());
    }
    emit(action::Lost{to_vector(owned_)});
  }
  log("reset member id and generation (" + std::string(why) + ")");
  owned_.clear();
  revoking_.clear();  // a revoke in progress can no longer commit
  needs_position_.clear();
  member_id_.clear();
  generation_ = -1;
  leader_id_.clear();
  plan_.reset();
  bump_epoch();
}

void GroupMember::membership_lost(const std::string& why) {
  open_rebalance(why);
  lose_everything(why);
  if (state_ == State::revoking) return;  // joins when the application is done
  join_now(why + ": partitions lost, rejoin with no member id");
}

void GroupMember::coordinator_lost(const std::string& why) {
  coordinator_.reset();
  bump_epoch();
  switch (state_) {
    case State::revoking:
      log("forgot the coordinator (" + why + "); find it after the revocation");
      note(why);
      return;
    case State::leaving:
      finish_leave(why + "; left without an answer");
      return;
    case State::finding_coordinator:
    case State::joining:
    case State::assigning:
    case State::syncing:
    case State::stable: {
      if (state_ != State::stable) open_rebalance(why);
      note(why);
      plan_.reset();
      const auto d = next_backoff();
      arm_retry(d);
      transition(State::finding_coordinator, why + "; find the coordinator again in " + ms_text(d));
      return;
    }
    default:
      return;
  }
}

// Waits in `in` for the retry timer (joining: JoinGroup again, same coordinator).
void GroupMember::retry_later(std::string_view what, State in) {
  note(std::string(what));
  const auto d = next_backoff();
  arm_retry(d);
  transition(in, std::string(what) + "; retry in " + ms_text(d));
}

void GroupMember::fail(std::error_code ec, const std::string& text) {
  lose_everything(text);
  emit(action::Error{ec, text, true});
  close_rebalance("fatal: " + text);
  transition(State::fatal, text);
}

// --------------------------------------------------------------------------------------------- leaving

void GroupMember::start_leaving(std::string_view why, State to) {
  // Unsubscribing while already closing still ends in left.
  const bool closing =
      leave_to_ == State::left &&
      (state_ == State::leaving || (state_ == State::revoking && after_revoke_ == AfterRevoke::leave));
  leave_to_ = (to == State::left || closing) ? State::left : State::unjoined;
  switch (state_) {
    case State::unjoined:
      if (leave_to_ == State::left) transition(State::left, why);
      return;
    case State::leaving:
      return;
    case State::revoking:
      after_revoke_ = AfterRevoke::leave;
      if (!owned_.empty()) revoke(owned_);
      log(std::string(why) + ": leave once the revocation is done");
      return;
    case State::finding_coordinator:
    case State::joining:
    case State::assigning:
    case State::syncing:
    case State::stable:
      close_rebalance("abandoned: " + std::string(why));
      plan_.reset();
      if (!owned_.empty()) {
        const size_t n = size_of(owned_);
        revoke(owned_);
        after_revoke_ = AfterRevoke::leave;
        transition(State::revoking,
                   std::string(why) + "; revoke " + std::to_string(n) + " partitions before leaving");
        return;
      }
      leave_now(why);
      return;
    default:
      return;
  }
}

void GroupMember::leave_now(std::string_view why) {
  const bool dynamic = !cfg_.group_instance_id;
  if (dynamic && coordinator_ && !member_id_.empty()) {
    bump_epoch();
    emit(action::SendLeaveGroup{epoch_, *coordinator_, cfg_.group_id, member_id_, std::string(why)});
    transition(State::leaving, std::string(why) + "; LeaveGroup sent");
    return;
  }
  finish_leave(dynamic
                   ? std::string(why) + "; not in the group, nothing to leave"
                   : std::string(why) +
                         "; static member: no LeaveGroup, so a restart within session.timeout.ms gets the "
                         "same assignment");
}

void GroupMember::finish_leave(std::string_view why) {
  member_id_.clear();
  generation_ = -1;
  leader_id_.clear();
  bump_epoch();
  close_rebalance("left: " + std::string(why));
  transition(leave_to_, why);
  if (state_ == State::unjoined && !topics_.empty()) begin_rebalance("subscribed to " + joined(topics_));
}

void GroupMember::poll_interval_exceeded() {
  const std::string why = "max.poll.interval.ms (" + ms_text(cfg_.max_poll_interval) +
                          ") exceeded: no poll for " + ms_text(now_ - last_poll_);
  const bool dynamic = !cfg_.group_instance_id;
  open_rebalance(why);
  if (dynamic && coordinator_ && !member_id_.empty()) {
    bump_epoch();
    emit(action::SendLeaveGroup{epoch_, *coordinator_, cfg_.group_id, member_id_,
                                "consumer poll timeout has expired"});
  }
  lose_everything(why);
  poll_expired_ = true;
  close_rebalance("left the group; rejoins on the next poll");
  transition(State::unjoined, why + (dynamic ? "; LeaveGroup sent" : "; static member: no LeaveGroup"));
}

// ----------------------------------------------------------------------------------------------- events

void GroupMember::on(const event::Start& e) {
  if (started_) return on(event::SubscriptionChanged{e.topics});
  started_ = true;
  origin_ = now_;
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

void GroupMember::on(const event::CoordinatorFound& e) {
  if (state_ != State::finding_coordinator) {
    log("ignored CoordinatorFound in " + std::string(to_string(state_)));
    return;
  }
  find_in_flight_ = false;
  coordinator_ = e.node_id;
  attempts_ = 0;
  due_[static_cast<size_t>(TimerKind::retry)].reset();
  const std::string found = "coordinator is node " + std::to_string(e.node_id);
  if (!record_open_ && generation_ >= 0 && !member_id_.empty()) {
    // Lost the coordinator while stable: still a member of the generation, as far as we know.
    enter_stable(found + "; resume heartbeats in generation " + std::to_string(generation_));
    if (state_ == State::stable && !heartbeat_in_flight_) send_heartbeat();
    return;
  }
  send_join(found);
}

void GroupMember::on(const event::CoordinatorFailed& e) {
  if (state_ != State::finding_coordinator) return;
  find_in_flight_ = false;
  if (e.ec == errc::group_authorization_failed) return fail(e.ec, "FindCoordinator: " + e.ec.message());
  const std::string why = "FindCoordinator failed: " + e.ec.message();
  note(why);
  const auto d = next_backoff();
  arm_retry(d);
  transition(State::finding_coordinator, why + "; retry in " + ms_text(d));
}

void GroupMember::send_heartbeat() {
  heartbeat_in_flight_ = true;
  heartbeat_sent_ = now_;
  emit(action::SendHeartbeat{epoch_, *coordinator_, cfg_.group_id, generation_, member_id_,
                             cfg_.group_instance_id});
}

void GroupMember::on(const event::HeartbeatResult& e) {
  if (stale(e.tag, "Heartbeat answer")) return;
  heartbeat_in_flight_ = false;
  if (!heartbeat_active()) return;
  const errc c = as_errc(e.error_code);
  const std::string err = "Heartbeat: " + error_name(c);
  switch (c) {
    case errc::none:
      if (state_ == State::stable) arm(TimerKind::session, now_ + cfg_.session_timeout);
      break;
    case errc::rebalance_in_progress:
      // Outside stable the member is rebalancing already; the answer it waits for will tell.
      if (state_ == State::stable) begin_rebalance(err);
      break;
    case errc::unknown_member_id:
    case errc::illegal_generation:
      return membership_lost(err);
    case errc::coordinator_not_available:
    case errc::not_coordinator:
      return coordinator_lost(err);
    default:
      if (c == errc::fenced_instance_id) return fail(client_errc::fenced_instance, err);
      if (is_fatal_group_error(c)) return fail(make_error_code(c), err);
      log(err + "; heartbeat again after the backoff");
      return arm(TimerKind::heartbeat, now_ + next_backoff());
  }
  // Still a member (revoking counts: the application is committing): the next one, an interval after this
  // one.
  if (heartbeat_active()) arm(TimerKind::heartbeat, heartbeat_sent_ + cfg_.heartbeat_interval);
}

void GroupMember::on(const event::LeaveGroupResult& e) {
  if (state_ != State::leaving || stale(e.tag, "LeaveGroup answer")) return;
  finish_leave("LeaveGroup: " + error_name(as_errc(e.error_code)));
}

void GroupMember::on(const event::CommitRequested& e) {
  PendingCommit pc;
  for (const auto& o : e.offsets) {
    const bool ours = generation_ >= 0 && (contains(owned_, o.tp) || contains(revoking_, o.tp));
    if (!ours) {
      // Never commit for a partition this member does not own (any more).
      pc.refused.push_back({o.tp, o.offset, make_error_code(client_errc::not_assigned)});
    } else if (!coordinator_) {
      pc.refused.push_back({o.tp, o.offset, make_error_code(errc::coordinator_not_available)});
    } else {
      pc.sent.push_back(o);
    }
  }
  if (pc.sent.empty()) {
    if (Rebalance* r = open_record())
      r->commits.insert(r->commits.end(), pc.refused.begin(), pc.refused.end());
    emit(action::CommitCompleted{e.id, std::move(pc.refused)});
    return;
  }
  action::SendOffsetCommit r{epoch_,      e.id,       *coordinator_,          cfg_.group_id,
                             generation_, member_id_, cfg_.group_instance_id, pc.sent};
  commits_[e.id] = std::move(pc);
  emit(std::move(r));
}

void GroupMember::on(const event::OffsetCommitResult& e) {
  auto it = commits_.find(e.id);
  if (it == commits_.end()) {
    log("OffsetCommit answer for unknown commit " + std::to_string(e.id) + ": ignored");
    return;
  }
  PendingCommit pc = std::move(it->second);
  commits_.erase(it);
  std::vector<CommitOutcome> results = std::move(pc.refused);
  std::set<errc> codes;
  for (const auto& o : pc.sent) {
    std::error_code ec = make_error_code(client_errc::malformed);  // not in the answer
    for (const auto& p : e.partitions)
      if (p.tp == o.tp) {
        ec = p.error_code ? make_kafka_error(p.error_code) : std::error_code{};
        if (p.error_code) codes.insert(as_errc(p.error_code));
      }
    results.push_back({o.tp, o.offset, ec});
  }
  if (Rebalance* r = open_record()) r->commits.insert(r->commits.end(), results.begin(), results.end());
  emit(action::CommitCompleted{e.id, std::move(results)});
  if (codes.empty()) return;

  std::string names;
  for (errc c : codes) names += (names.empty() ? "" : ",") + error_name(c);
  const std::string err = "OffsetCommit: " + names;
  if (e.tag != epoch_ || state_ != State::stable) {
    // Mid-rebalance (or about an older generation): the rebalance decides membership, not the commit.
    log(err + " while " + std::string(to_string(state_)) + ": reported, assignment kept");
    return;
  }
  // The gravest error decides: fenced, then membership lost, then a rebalance, then the coordinator.
  if (codes.count(errc::fenced_instance_id)) return fail(client_errc::fenced_instance, err);
  if (codes.count(errc::unknown_member_id) || codes.count(errc::illegal_generation))
    return membership_lost(err);
  if (codes.count(errc::rebalance_in_progress)) return begin_rebalance(err);
  for (errc c : codes)
    if (error_action(ApiFamily::offset_commit, c) == ErrorAction::find_coordinator)
      return coordinator_lost(err);
}

void GroupMember::maybe_fetch_offsets() {
  if (!coordinator_ || fetch_in_flight_ || generation_ < 0) return;
  const PartitionSet want = intersect(needs_position_, owned_);
  if (want.empty()) return;
  fetch_in_flight_ = true;
  emit(action::SendOffsetFetch{epoch_, *coordinator_, cfg_.group_id, to_vector(want), true});
}

// Committed offsets are facts about the group, valid whatever the generation: an answer with an older
// tag is still used, for the partitions this member owns now.
void GroupMember::on(const event::OffsetFetchResult& e) {
  fetch_in_flight_ = false;
  const errc group_error = as_errc(e.error_code);
  if (group_error != errc::none) {
    const std::string err = "OffsetFetch: " + error_name(group_error);
    switch (error_action(ApiFamily::offset_fetch, group_error)) {
      case ErrorAction::find_coordinator:
        if (e.tag == epoch_) return coordinator_lost(err);
        [[fallthrough]];
      case ErrorAction::retry:
      case ErrorAction::refresh_metadata:
        log(err + "; retry after the backoff");
        return arm_retry(next_backoff());
      default:
        emit(action::Error{make_error_code(group_error), err, false});
        needs_position_.clear();
        return;
    }
  }

  action::InitPositions init;
  bool retry = false;
  for (const auto& row : e.partitions) {
    const TopicPartition& tp = row.tp;
    if (!contains(needs_position_, tp) || !contains(owned_, tp)) continue;
    const errc c = as_errc(row.error_code);
    if (c == errc::none) {
      init.offsets.push_back({tp, row.offset, row.leader_epoch, row.metadata});
      erase_one(needs_position_, tp);
    } else if (is_retry(error_action(ApiFamily::offset_fetch, c))) {
      retry = true;  // UNSTABLE_OFFSET_COMMIT: a transaction's commit is pending
    } else {
      emit(action::Error{make_error_code(c), "OffsetFetch " + to_string(tp) + ": " + error_name(c), false});
      erase_one(needs_position_, tp);
    }
  }
  if (!init.offsets.empty()) emit(std::move(init));
  if (retry) {
    arm_retry(next_backoff());
  } else {
    maybe_fetch_offsets();  // partitions added while this one was in flight
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
        if (Rebalance* r = open_record()) r->commits.insert(r->commits.end(), results.begin(), results.end());
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
