// The rebalance timeline (GroupMember::timeline()): one Rebalance record per rebalance this member went
// through. It watches the member rather than being told: GroupMember::transition() hands it every change
// of state (time spent per state, who the member became, how a rebalance ended) and GroupMember::emit()
// every action (partitions revoked, added and lost, commits answered). The member only says why a
// rebalance starts, when one ends in a way no state change shows, and notes along the way.
#pragma once

#include <deque>
#include <string>
#include <string_view>

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

  void start(TimePoint origin) { origin_ = origin; }

  // The observers: from GroupMember::transition() and GroupMember::emit(), nowhere else.
  void on_transition(State from, State to, std::string_view why, TimePoint now, const Member& m);
  void on_action(const Action& a);

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
  void charge(State in, TimePoint now);

  std::deque<Rebalance> records_;
  bool open_ = false;
  uint64_t count_ = 0;
  TimePoint origin_{};
  State state_ = State::unjoined;  // the member's, as of its last transition
  TimePoint entered_{};            // when it entered state_, or the rebalance started
};

}  // namespace kafkawire::group
