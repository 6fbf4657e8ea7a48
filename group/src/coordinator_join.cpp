// GroupMember: (re)joining the group. Finding the coordinator, JoinGroup, the leader's assignment plan,
// SyncGroup, and taking the new assignment. See coordinator.hpp for the contract.
#include <algorithm>

#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "member_detail.hpp"
#include "rebalance_timeline.hpp"

namespace kafkawire::group {

using namespace detail;

// --------------------------------------------------------------------------------- joining and syncing

// Decided to (re)join. Eager: give everything up first. Cooperative (KIP-429): keep what is owned and
// only give up topics no longer subscribed; the assignment will say what else must go.
void GroupMember::begin_rebalance(const std::string& reason) {
  timeline_->begin(reason, now_);
  PartitionSet give_up;
  if (!cooperative_) {
    give_up = owned_;
  } else {
    for (const auto& [topic, parts] : owned_)
      if (!std::binary_search(topics_.begin(), topics_.end(), topic)) give_up[topic] = parts;
  }
  if (!give_up.empty()) {
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
  j.reason = timeline_->reason();

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
  timeline_->kept(to_vector(kept));
  if (!revoked.empty()) revoke(revoked);  // on_revoked before on_assigned, as in Java
  if (!added.empty()) emit(action::Assign{to_vector(added)});
  const std::string summary = "synced generation " + std::to_string(generation_) + ": added " +
                              describe(added) + ", kept " + describe(kept) + ", revoked " + describe(revoked);
  if (revoked.empty()) return enter_stable(summary);

  timeline_->end("generation " + std::to_string(generation_) + "; " + std::to_string(size_of(revoked)) +
                     " partitions revoked, rejoining",
                 now_);
  timeline_->begin("cooperative second phase: rejoin after revoking " + describe(revoked), now_);
  after_revoke_ = AfterRevoke::join;
  arm(TimerKind::heartbeat, now_ + cfg_.heartbeat_interval);
  transition(State::revoking, summary + "; rejoin once they are revoked");
  maybe_fetch_offsets();
}

void GroupMember::enter_stable(std::string_view why) {
  transition(State::stable, why);  // the timeline closes the rebalance
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

void GroupMember::on(const event::CoordinatorFound& e) {
  if (state_ == State::revoking) {  // looked for while the application revokes (coordinator_lost)
    find_in_flight_ = false;
    coordinator_ = e.node_id;
    log("coordinator is node " + std::to_string(e.node_id) + "; join it after the revocation");
    return;
  }
  if (state_ != State::finding_coordinator) {
    log("ignored CoordinatorFound in " + std::string(to_string(state_)));
    return;
  }
  find_in_flight_ = false;
  coordinator_ = e.node_id;
  attempts_ = 0;
  due_[static_cast<size_t>(TimerKind::retry)].reset();
  const std::string found = "coordinator is node " + std::to_string(e.node_id);
  if (!timeline_->in_progress() && generation_ >= 0 && !member_id_.empty()) {
    // Lost the coordinator while stable: still a member of the generation, as far as we know.
    enter_stable(found + "; resume heartbeats in generation " + std::to_string(generation_));
    if (state_ == State::stable && !heartbeat_in_flight_) send_heartbeat();
    return;
  }
  send_join(found);
}

void GroupMember::on(const event::CoordinatorFailed& e) {
  if (state_ == State::revoking) {  // the next commit or the join after the revocation asks again
    find_in_flight_ = false;
    log("FindCoordinator failed while revoking: " + e.ec.message());
    return;
  }
  if (state_ != State::finding_coordinator) return;
  find_in_flight_ = false;
  if (e.ec == errc::group_authorization_failed) return fail(e.ec, "FindCoordinator: " + e.ec.message());
  const std::string why = "FindCoordinator failed: " + e.ec.message();
  note(why);
  const auto d = next_backoff();
  arm_retry(d);
  transition(State::finding_coordinator, why + "; retry in " + ms_text(d));
}

}  // namespace kafkawire::group
