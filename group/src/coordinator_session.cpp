// GroupMember: staying in the group and leaving it. Heartbeats, losing the membership or the coordinator,
// retries, fatal errors, max.poll.interval.ms, LeaveGroup. See coordinator.hpp for the contract.
#include "kafkawire/group/coordinator.hpp"
#include "member_detail.hpp"
#include "rebalance_timeline.hpp"

namespace kafkawire::group {

using namespace detail;

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

// ------------------------------------------------------------------------------------- failures, resets

// The member id and generation are gone (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, poll timeout, fencing):
// what it owned may already belong to someone else. Lost, not revoked: no commit.
void GroupMember::lose_everything(std::string_view why) {
  if (!owned_.empty()) emit(action::Lost{to_vector(owned_)});
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
  timeline_->begin(why, now_);
  lose_everything(why);
  if (state_ == State::revoking) return;  // joins when the application is done
  join_now(why + ": partitions lost, rejoin with no member id");
}

void GroupMember::coordinator_lost(const std::string& why) {
  coordinator_.reset();
  bump_epoch();
  switch (state_) {
    case State::revoking:
      // Found now, not after the revocation: the application's revoke hook may be committing.
      log("forgot the coordinator (" + why + "); find it while the application revokes");
      note(why);
      if (!find_in_flight_) {
        find_in_flight_ = true;
        emit(action::FindCoordinator{cfg_.group_id});
      }
      return;
    case State::leaving:
      finish_leave(why + "; left without an answer");
      return;
    case State::finding_coordinator:
    case State::joining:
    case State::assigning:
    case State::syncing:
    case State::stable: {
      if (state_ != State::stable) timeline_->begin(why, now_);
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
  transition(State::fatal, text);  // the timeline closes the rebalance: "fatal: <text>"
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
      timeline_->end("abandoned: " + std::string(why), now_);
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
  transition(leave_to_, why);  // the timeline closes the rebalance: "left: <why>"
  if (state_ == State::unjoined && !topics_.empty()) begin_rebalance("subscribed to " + joined(topics_));
}

void GroupMember::poll_interval_exceeded() {
  const std::string why = "max.poll.interval.ms (" + ms_text(cfg_.max_poll_interval) +
                          ") exceeded: no poll for " + ms_text(now_ - last_poll_);
  const bool dynamic = !cfg_.group_instance_id;
  timeline_->begin(why, now_);
  if (dynamic && coordinator_ && !member_id_.empty()) {
    bump_epoch();
    emit(action::SendLeaveGroup{epoch_, *coordinator_, cfg_.group_id, member_id_,
                                "consumer poll timeout has expired"});
  }
  lose_everything(why);
  poll_expired_ = true;
  timeline_->end("left the group; rejoins on the next poll", now_);
  transition(State::unjoined, why + (dynamic ? "; LeaveGroup sent" : "; static member: no LeaveGroup"));
}

}  // namespace kafkawire::group
