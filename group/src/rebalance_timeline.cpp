// The rebalance timeline: see rebalance_timeline.hpp.
#include "rebalance_timeline.hpp"

#include "member_detail.hpp"

namespace kafkawire::group {

using namespace detail;

std::string to_string(const Rebalance& r) {
  const bool classic = r.group_protocol == GroupProtocol::classic;
  std::string s = "rebalance #" + std::to_string(r.number) + " at +" + std::to_string(r.since_start.count()) +
                  "ms (" + r.reason + "): ";
  s += r.outcome.empty() ? "in progress" : r.outcome;
  if (r.generation >= 0 && classic) {
    s += "; generation " + std::to_string(r.generation) + (r.leader ? " as leader" : " as follower");
    if (!r.protocol.empty()) s += ", protocol " + r.protocol;
  } else if (r.generation >= 0) {
    s += "; epoch " + std::to_string(r.generation);
  }
  if (r.generation >= 0 && !r.member_id.empty()) s += ", member " + r.member_id;
  if (r.ended) s += "; took " + ms_text(*r.ended - r.started);
  s += " [find coordinator " + ms_text(r.find_coordinator);
  if (classic)
    s += ", revoke " + ms_text(r.revoke) + ", join " + ms_text(r.join) + ", assign " + ms_text(r.assign) +
         ", sync " + ms_text(r.sync) + "]";
  else
    s += ", join " + ms_text(r.join) + ", metadata " + ms_text(r.metadata) + ", revoke " + ms_text(r.revoke) +
         ", acknowledge " + ms_text(r.acknowledge) + "]";
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

namespace {

template <typename T>
void append(std::vector<T>& to, const std::vector<T>& more) {
  to.insert(to.end(), more.begin(), more.end());
}

RebalancePhase phase_of(State s) {
  switch (s) {
    case State::finding_coordinator:
      return RebalancePhase::find_coordinator;
    case State::revoking:
      return RebalancePhase::revoke;
    case State::joining:
      return RebalancePhase::join;
    case State::assigning:
      return RebalancePhase::assign;
    case State::syncing:
      return RebalancePhase::sync;
    default:
      return RebalancePhase::other;
  }
}

}  // namespace

void RebalanceTimeline::charge(TimePoint now) {
  if (open_) {
    Rebalance& r = records_.back();
    const Clock::duration d = now - entered_;
    switch (phase_) {
      case RebalancePhase::find_coordinator:
        r.find_coordinator += d;
        break;
      case RebalancePhase::revoke:
        r.revoke += d;
        break;
      case RebalancePhase::join:
        r.join += d;
        break;
      case RebalancePhase::assign:
        r.assign += d;
        break;
      case RebalancePhase::sync:
        r.sync += d;
        break;
      case RebalancePhase::metadata:
        r.metadata += d;
        break;
      case RebalancePhase::acknowledge:
        r.acknowledge += d;
        break;
      case RebalancePhase::other:
        break;
    }
  }
  entered_ = now;
}

void RebalanceTimeline::enter(RebalancePhase phase, TimePoint now) {
  charge(now);
  phase_ = phase;
}

void RebalanceTimeline::stamp(const Member& m) {
  if (!open_ || m.generation < 0) return;
  Rebalance& r = records_.back();
  r.generation = m.generation;
  r.member_id = std::string(m.member_id);
  r.leader = m.leader;
  r.protocol = std::string(m.protocol);
}

// The time spent in `from` counts; who the member became is stamped when it has just joined (into
// assigning or syncing) or synced into stable; reaching stable or fatal, or getting out of the group, ends
// the rebalance.
void RebalanceTimeline::on_transition(State from, State to, std::string_view why, TimePoint now,
                                      const Member& m) {
  enter(phase_of(to), now);
  if (!open_) return;
  const bool joined = to == State::assigning || to == State::syncing;
  const bool synced = from == State::syncing && to == State::stable;
  if (joined || synced) stamp(m);
  switch (to) {
    case State::stable:
      return end("stable in generation " + std::to_string(m.generation), now);
    case State::fatal:
      return end("fatal: " + std::string(why), now);
    case State::left:
    case State::unjoined:
      return end("left: " + std::string(why), now);
    default:
      return;
  }
}

void RebalanceTimeline::observe(const action::Revoke& a) {
  if (open_) append(records_.back().revoked, a.partitions);
}

void RebalanceTimeline::observe(const action::Assign& a) {
  if (open_) append(records_.back().added, a.partitions);
}

void RebalanceTimeline::observe(const action::Lost& a) {
  if (open_) append(records_.back().lost, a.partitions);
}

void RebalanceTimeline::observe(const action::CommitCompleted& a) {
  if (open_) append(records_.back().commits, a.results);
}

void RebalanceTimeline::begin(const std::string& reason, TimePoint now) {
  if (open_) {
    note("also: " + reason);
    return;
  }
  Rebalance r;
  r.number = ++count_;
  r.group_protocol = protocol_;
  r.reason = reason;
  r.started = now;
  r.since_start = std::chrono::duration_cast<std::chrono::milliseconds>(now - origin_);
  records_.push_back(std::move(r));
  while (records_.size() > GroupMember::kTimelineLimit) records_.pop_front();
  open_ = true;
  entered_ = now;  // time spent before it started is not part of it
}

void RebalanceTimeline::end(std::string outcome, TimePoint now) {
  if (!open_) return;
  charge(now);
  Rebalance& r = records_.back();
  r.ended = now;
  r.outcome = std::move(outcome);
  open_ = false;
}

void RebalanceTimeline::note(std::string text) {
  if (open_) records_.back().notes.push_back(std::move(text));
}

void RebalanceTimeline::kept(std::vector<TopicPartition> partitions) {
  if (open_) records_.back().kept = std::move(partitions);
}

}  // namespace kafkawire::group
