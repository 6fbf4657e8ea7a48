// The rebalance timeline (GroupMember::timeline(), ConsumerGroupMember::timeline()): one Rebalance record
// per rebalance the member went through. It watches the member rather than being told: the member's
// transition() hands it every change of state and its emit() every action (partitions revoked, added and
// lost, commits answered); time is charged to the phase the member was in (RebalancePhase). The member
// only says why a rebalance starts, when one ends in a way no state change shows, and notes along the way.
//
// GroupMember feeds its classic states (on_transition), which carry their phase and their endings.
// ConsumerGroupMember names its phase after each event (enter) and ends the rebalance itself: its states
// do not map one to one on phases (finding the coordinator is not a state there).
#pragma once

#include <deque>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "kafkawire/group/coordinator.hpp"

namespace kafkawire::group {

class RebalanceTimeline {
 public:
  // Who the member is at a transition (for the record's generation, member id, leader, protocol).
  struct Member {
    int32_t generation = -1;
    std::string_view member_id;
    bool leader = false;
    std::string_view protocol;
  };

  explicit RebalanceTimeline(GroupProtocol protocol) : protocol_(protocol) {}

  void start(TimePoint origin) {
    origin_ = origin;
    started_ = true;
  }
  bool started() const { return started_; }

  // The observers: from the members' transition() and emit(), nowhere else.
  void on_transition(State from, State to, std::string_view why, TimePoint now, const Member& m);  // classic
  void on_action(const Action& a) {
    std::visit([this](const auto& act) { observe(act); }, a);
  }
  // What the timeline takes from an action: partitions moved, commits answered. Any other action: nothing
  // (ConsumerGroupMember hands its own actions here one by one).
  void observe(const action::Revoke& a);
  void observe(const action::Assign& a);
  void observe(const action::Lost& a);
  void observe(const action::CommitCompleted& a);
  template <typename OtherAction>
  void observe(const OtherAction&) {}
  // The member is in `phase` from now on: the time since the last change is charged to the one before.
  void enter(RebalancePhase phase, TimePoint now);
  // Who the member is now (generation or epoch, member id), stamped on the rebalance in progress.
  void stamp(const Member& m);

  // A rebalance starts; during one, another reason for it is noted.
  void begin(const std::string& reason, TimePoint now);
  // Ends the rebalance in progress where no transition says how (abandoned, a cooperative first phase).
  void end(std::string outcome, TimePoint now);
  void note(std::string text);
  void kept(std::vector<TopicPartition> partitions);

  bool in_progress() const { return open_; }
  std::string reason() const { return open_ ? records_.back().reason : std::string(); }
  const std::deque<Rebalance>& records() const { return records_; }

 private:
  void charge(TimePoint now);

  GroupProtocol protocol_;
  std::deque<Rebalance> records_;
  bool open_ = false;
  bool started_ = false;
  uint64_t count_ = 0;
  TimePoint origin_{};
  RebalancePhase phase_ = RebalancePhase::other;  // the member's, as of its last change
  TimePoint entered_{};                           // when it entered phase_, or the rebalance started
};

}  // namespace kafkawire::group
