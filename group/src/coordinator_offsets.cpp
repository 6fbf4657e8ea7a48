// GroupMember: offsets. Commits (only for partitions this member owns, in the current generation) and the
// committed offsets that newly assigned partitions start from. See coordinator.hpp for the contract.
#include <algorithm>

#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "member_detail.hpp"
#include "rebalance_timeline.hpp"

namespace kafkawire::group {

using namespace detail;

void GroupMember::on(const event::CommitRequested& e) {
  PendingCommit pc;
  for (const auto& o : e.offsets) {
    const bool ours = generation_ >= 0 && (contains(owned_, o.tp) || contains(revoking_, o.tp));
    if (!ours) {
      // Never commit for a partition this member does not own (any more).
      pc.refused.push_back({o.tp, o.offset, make_error_code(client_errc::not_assigned)});
    } else if (!coordinator_) {
      pc.refused.push_back({o.tp, o.offset, make_error_code(errc::coordinator_not_available)});
      // While the application revokes, nothing else looks for the coordinator, and its commit is
      // what the revocation waits for.
      if (state_ == State::revoking && !find_in_flight_) {
        find_in_flight_ = true;
        emit(action::FindCoordinator{cfg_.group_id});
      }
    } else {
      pc.sent.push_back(o);
    }
  }
  if (pc.sent.empty()) {
    emit(action::CommitCompleted{e.id, std::move(pc.refused)});
    return;
  }
  action::SendOffsetCommit r{epoch_,      e.id,       *coordinator_,          cfg_.group_id,
                             generation_, member_id_, cfg_.group_instance_id, pc.sent};
  pc.coordinator = *coordinator_;
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
  for (size_t i = 0; i < pc.sent.size(); ++i) {
    const auto& o = pc.sent[i];
    std::error_code ec = make_error_code(client_errc::malformed);  // not in the answer
    if (const auto* p = answer_for(e.partitions, i, o.tp)) {
      ec = p->error_code ? make_kafka_error(p->error_code) : std::error_code{};
      if (p->error_code) codes.insert(as_errc(p->error_code));
    }
    results.push_back({o.tp, o.offset, ec});
  }
  emit(action::CommitCompleted{e.id, std::move(results)});
  if (codes.empty()) return;

  std::string names;
  for (errc c : codes) names += (names.empty() ? "" : ",") + error_name(c);
  const std::string err = "OffsetCommit: " + names;
  // The coordinator moved, and the member still takes it for the coordinator: whatever the state, find
  // the new one (mid-rebalance too: a revoke hook's commit would otherwise go to the old one until
  // default.api.timeout.ms; found with kfake moving coordinators).
  const bool coordinator_moved = std::any_of(codes.begin(), codes.end(), [](errc c) {
    return error_action(ApiFamily::offset_commit, c) == ErrorAction::find_coordinator;
  });
  if (coordinator_moved && coordinator_ == pc.coordinator && state_ != State::stable)
    return coordinator_lost(err);
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

}  // namespace kafkawire::group
