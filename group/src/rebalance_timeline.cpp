// The rebalance timeline: see rebalance_timeline.hpp.
#include "rebalance_timeline.hpp"

#include "member_detail.hpp"

namespace kafkawire::group {

using namespace detail;

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

void RebalanceTimeline::charge(State in, TimePoint now) {
  if (open_) {
    Rebalance& r = records_.back();
    const Clock::duration d = now - entered_;
    switch (in) {
      case State::finding_coordinator:
        r.find_coordinator += d;
        break;
      case State::revoking:
        r.revoke += d;
        break;
      case State::joining:
        r.join += d;
        break;
      case State::assigning:
        r.assign += d;
        break;
      case State::syncing:
        r.sync += d;
        break;
      default:
        break;
    }
  }
  entered_ = now;
}

// The time spent in `from` counts; who the member became is stamped when it has just joined (into
// assigning or syncing) or synced into stable; reaching stable or fatal, or getting out of the group, ends
// the rebalance.
void RebalanceTimeline::on_transition(State from, State to, std::string_view why, TimePoint now,
                                      const Member& m) {
  charge(from, now);
  state_ = to;
  if (!open_) return;
  Rebalance& r = records_.back();
  const bool joined = to == State::assigning || to == State::syncing;
  const bool synced = from == State::syncing && to == State::stable;
  if (m.generation >= 0 && (joined || synced)) {
    r.generation = m.generation;
    r.member_id = std::string(m.member_id);
    r.leader = m.leader;
    r.protocol = std::string(m.protocol);
  }
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

void RebalanceTimeline::on_action(const Action& a) {
  if (!open_) return;
  Rebalance& r = records_.back();
  auto append = [](std::vector<TopicPartition>& to, const std::vector<TopicPartition>& more) {
    to.insert(to.end(), more.begin(), more.end());
  };
  if (const auto* revoke = std::get_if<action::Revoke>(&a)) {
    append(r.revoked, revoke->partitions);
  } else if (const auto* assign = std::get_if<action::Assign>(&a)) {
    append(r.added, assign->partitions);
  } else if (const auto* lost = std::get_if<action::Lost>(&a)) {
    append(r.lost, lost->partitions);
  } else if (const auto* done = std::get_if<action::CommitCompleted>(&a)) {
    r.commits.insert(r.commits.end(), done->results.begin(), done->results.end());
  }
}

void RebalanceTimeline::begin(const std::string& reason, TimePoint now) {
  if (open_) {
    note("also: " + reason);
    return;
  }
  Rebalance r;
  r.number = ++count_;
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
  charge(state_, now);
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
