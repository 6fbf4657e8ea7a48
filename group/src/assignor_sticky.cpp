// cooperative-sticky: balanced, sticky, and cooperative (KIP-429), reproducing kafka-clients'
// CooperativeStickyAssignor decision for decision. It runs in three steps:
//
// 1. Sort out the owned partitions. Each member reports what it holds and the generation that was in;
//    when two members claim one partition the newer generation wins, and two claims from the same
//    generation cancel out (neither keeps it). Claims on partitions that do not exist or that nobody
//    subscribes to are dropped.
// 2. Assign. When every member has the same subscription ("constrained"): each member keeps up to its
//    quota of what it owns (floor or ceil of partitions / members), and the rest goes round-robin to
//    the members still below quota. Otherwise ("general"): members keep what they own and may still
//    subscribe to, the rest goes one by one to the least loaded subscriber, and then partitions move
//    from members with more to members with fewer (preferring to hand a partition back to the member
//    that owned it in an older generation) until no move can improve balance.
// 3. Cooperate: a partition given to a member while another member still owns it is left out of this
//    round. That owner sees it missing from its assignment, revokes it and rejoins; the next round hands
//    it to its new member.
//
// Java's tie-breaks come from the iteration order of its HashMaps (keyed by member id, see
// java_order.hpp) and from sorting member ids as Java strings; both are reproduced, so the result is the
// same assignment Java computes. Java's quirks come along: the constrained path takes the first
// non-empty subscription it meets as the reference, so a member subscribed to nothing can still be
// handed partitions there; owned partitions are kept in (partition, topic) order, so a member over
// quota keeps t0:0, t1:0, t0:1, ... rather than all of t0 first.
#include <algorithm>
#include <cstdlib>
#include <list>
#include <map>
#include <set>
#include <utility>

#include "assignor_common.hpp"
#include "java_order.hpp"

namespace kafkawire::group {
namespace {

using Members = std::vector<MemberSubscription>;
using Lists = std::vector<std::vector<TopicPartition>>;

// -1 when the member did not report one (Java's DEFAULT_GENERATION).
int32_t generation_of(const MemberSubscription& m) { return m.generation < 0 ? -1 : m.generation; }

void erase_first(std::vector<TopicPartition>& list, const TopicPartition& tp) {
  auto it = std::find(list.begin(), list.end(), tp);
  if (it != list.end()) list.erase(it);
}

std::vector<TopicPartition> all_partitions(const std::vector<std::string>& topics,
                                           const PartitionCounts& counts) {
  std::vector<TopicPartition> out;
  for (const std::string& topic : topics) {
    for (int32_t p = 0; p < counts.at(topic); ++p) out.push_back({topic, p});
  }
  return out;
}

// ---- 1. owned partitions ----

struct Claims {
  bool same_subscriptions = true;      // decides constrained vs general
  int32_t max_generation = -1;         // the newest generation any member reported
  Lists owned;                         // per member, what it keeps claim to
  std::set<TopicPartition> contested;  // claimed by two members of the same generation
};

Claims resolve_claims(const Members& members, const std::vector<size_t>& order,
                      const PartitionCounts& topics) {
  Claims c;
  c.owned.resize(members.size());
  std::set<std::string> reference;  // the first non-empty subscription met
  std::map<TopicPartition, size_t> claimant;
  for (size_t i : order) {
    const MemberSubscription& m = members[i];
    if (reference.empty()) {
      reference.insert(m.topics.begin(), m.topics.end());
    } else if (c.same_subscriptions) {
      // Java compares the list's size with the set's, so a topic listed twice can make up for a missing one.
      const bool same = m.topics.size() == reference.size() &&
                        std::all_of(m.topics.begin(), m.topics.end(),
                                    [&](const std::string& t) { return reference.count(t) != 0; });
      if (!same) c.same_subscriptions = false;
    }
    const int32_t generation = generation_of(m);
    c.max_generation = std::max(c.max_generation, generation);
    for (const TopicPartition& tp : m.owned_partitions) {
      auto topic = topics.find(tp.topic);
      // Java keeps a claim on a partition number the topic does not have; it cannot be assigned, so
      // dropping it here only spares the steps below from handling it.
      if (topic == topics.end() || tp.partition < 0 || tp.partition >= topic->second) continue;
      auto [it, fresh] = claimant.try_emplace(tp, i);
      if (fresh) {
        c.owned[i].push_back(tp);
        continue;
      }
      const size_t other = it->second;
      const int32_t other_generation = generation_of(members[other]);
      if (generation == other_generation) {
        c.contested.insert(tp);
        erase_first(c.owned[other], tp);
        it->second = i;
      } else if (generation > other_generation) {
        c.owned[i].push_back(tp);
        erase_first(c.owned[other], tp);
        it->second = i;
      }  // else the other member's newer claim stands
    }
  }
  return c;
}

// ---- 2a. constrained: everyone subscribes to the same topics ----

struct Constrained {
  Lists assigned;
  std::map<TopicPartition, size_t> transferring;  // partition -> new member, while another still owns it
};

Constrained assign_constrained(const Members& members, const std::vector<size_t>& order,
                               const PartitionCounts& topics, const Claims& claims) {
  const auto n = static_cast<int64_t>(members.size());
  int64_t total = 0;
  for (const auto& [topic, count] : topics) total += count;
  const int64_t min_quota = total / n, max_quota = (total + n - 1) / n;
  const int64_t expected_over = total % n;  // members that end with max_quota when the split is uneven
  int64_t current_over = 0;

  Constrained out;
  out.assigned.resize(members.size());
  std::map<TopicPartition, size_t> revoked;  // owned beyond quota -> the member giving it up
  std::vector<size_t> under_min;
  std::list<size_t> at_min;  // at min_quota and may still take one more
  std::set<TopicPartition> kept;

  for (size_t i : order) {
    std::vector<TopicPartition> owned = claims.owned[i];
    std::stable_sort(owned.begin(), owned.end(), [](const TopicPartition& a, const TopicPartition& b) {
      if (a.partition != b.partition) return a.partition < b.partition;
      return java::less(a.topic, b.topic);
    });
    for (const TopicPartition& tp : claims.contested) erase_first(owned, tp);

    const auto size = static_cast<int64_t>(owned.size());
    int64_t keep = size;
    if (size < min_quota) {
      under_min.push_back(i);
    } else if (size >= max_quota && current_over < expected_over) {
      keep = max_quota;
      if (++current_over == expected_over) at_min.clear();  // nobody else may go above min_quota
    } else {
      keep = min_quota;
      if (current_over < expected_over) at_min.push_back(i);
    }
    for (int64_t k = 0; k < size; ++k) {
      const TopicPartition& tp = owned[static_cast<size_t>(k)];
      if (k < keep) {
        out.assigned[i].push_back(tp);
        kept.insert(tp);
      } else {
        revoked[tp] = i;
      }
    }
  }

  std::vector<std::string> names;
  for (const auto& [topic, count] : topics) names.push_back(topic);
  std::sort(names.begin(), names.end(), java::less);
  std::vector<TopicPartition> unassigned;
  for (TopicPartition& tp : all_partitions(names, topics)) {
    if (!kept.count(tp)) unassigned.push_back(std::move(tp));
  }

  const auto by_id = [&](size_t a, size_t b) {
    return java::less(members[a].member_id, members[b].member_id);
  };
  std::sort(under_min.begin(), under_min.end(), by_id);
  at_min.sort(by_id);

  // Round-robin over the members below min_quota; once none is left, one more each to the members at
  // min_quota until enough of them reached max_quota.
  std::list<size_t> under(under_min.begin(), under_min.end());
  auto next = under.begin();
  for (const TopicPartition& tp : unassigned) {
    size_t member;
    std::list<size_t>::iterator taken = under.end();
    if (next != under.end()) {
      taken = next++;
      member = *taken;
    } else if (!under.empty()) {
      next = under.begin();
      taken = next++;
      member = *taken;
    } else if (!at_min.empty()) {
      member = at_min.front();
      at_min.pop_front();
    } else {
      break;  // unreachable: the quotas add up to the partition count
    }
    out.assigned[member].push_back(tp);
    auto r = revoked.find(tp);
    if ((r != revoked.end() && r->second != member) || claims.contested.count(tp))
      out.transferring[tp] = member;

    const auto count = static_cast<int64_t>(out.assigned[member].size());
    if (count == min_quota && taken != under.end()) {
      under.erase(taken);
      at_min.push_back(member);
    } else if (count == max_quota) {
      ++current_over;
    }
  }
  return out;
}

// ---- 2b. general: subscriptions differ ----

class General {
 public:
  General(const Members& members, const std::vector<size_t>& order, const PartitionCounts& topics,
          const Claims& claims)
      : members_(members),
        topics_(topics),
        current_(claims.owned),
        fixed_(members.size(), false),
        tree_(ByLoad{this}) {
    for (const auto& [topic, count] : topics_) {
      topic_members_[topic];
      total_ += count;
    }
    member_topics_.resize(members_.size());
    for (size_t i : order) {
      for (const std::string& topic : members_[i].topics) {
        if (!topics_.count(topic)) continue;
        // A topic listed twice counts twice, as in Java's lists.
        member_topics_[i].push_back(topic);
        topic_members_[topic].push_back(i);
      }
    }
    for (size_t i = 0; i < members_.size(); ++i) {
      for (const TopicPartition& tp : current_[i]) owner_[tp] = i;
    }
    std::vector<std::string> names;
    for (const auto& [topic, count] : topics_) names.push_back(topic);
    std::sort(names.begin(), names.end(), [&](const std::string& a, const std::string& b) {
      const size_t na = topic_members_[a].size(), nb = topic_members_[b].size();
      return na != nb ? na < nb : java::less(a, b);
    });
    sorted_partitions_ = all_partitions(names, topics_);
    remember_older_claims(order, claims.max_generation);
  }

  Lists build() {
    // Keep what each member owns and still subscribes to.
    std::set<TopicPartition> kept;
    for (size_t i = 0; i < members_.size(); ++i) {
      auto& list = current_[i];
      for (auto it = list.begin(); it != list.end();) {
        if (detail::subscribes(members_[i], it->topic)) {
          kept.insert(*it++);
        } else {
          it = list.erase(it);
          revocation_required_ = true;
        }
      }
    }
    std::vector<TopicPartition> unassigned;
    for (const TopicPartition& tp : sorted_partitions_) {
      if (!kept.count(tp)) unassigned.push_back(tp);
    }
    for (size_t i = 0; i < members_.size(); ++i) tree_.insert(i);
    balance(unassigned);
    return std::move(current_);
  }

 private:
  // Members by load, then id: Java's TreeSet of consumers. A member's key changes with its load, so it
  // leaves the tree before its list changes and comes back after (`Retree`).
  struct ByLoad {
    const General* self;
    bool operator()(size_t a, size_t b) const {
      const size_t la = self->current_[a].size(), lb = self->current_[b].size();
      if (la != lb) return la < lb;
      return java::less(self->members_[a].member_id, self->members_[b].member_id);
    }
  };

  struct Retree {
    General& g;
    size_t a, b;
    Retree(General& general, size_t x, size_t y) : g(general), a(x), b(y) {
      g.tree_.erase(a);
      g.tree_.erase(b);
    }
    ~Retree() {
      g.tree_.insert(b);
      g.tree_.insert(a);
    }
  };

  struct Claim {
    size_t member;
    int32_t generation;
  };

  // Partitions that members of an older generation (or of none, when others have one) say they own:
  // where a partition may go back to when balancing. Of equal generations the first in map order wins.
  void remember_older_claims(const std::vector<size_t>& order, int32_t max_generation) {
    for (size_t i : order) {
      const int32_t generation = members_[i].generation;
      const bool older = generation >= 0 ? generation < max_generation : max_generation > -1;
      if (!older) continue;
      const int32_t g = generation_of(members_[i]);
      for (const TopicPartition& tp : members_[i].owned_partitions) {
        auto [it, fresh] = older_claims_.try_emplace(tp, Claim{i, g});
        if (!fresh && g > it->second.generation) it->second = Claim{i, g};
      }
    }
  }

  static constexpr size_t kNobody = static_cast<size_t>(-1);

  size_t load(size_t member) const { return current_[member].size(); }

  bool subscribed(size_t member, const std::string& topic) const {
    const auto& t = member_topics_[member];
    return std::find(t.begin(), t.end(), topic) != t.end();
  }

  // A topic with a single possible member never moves.
  bool movable_topic(const std::string& topic) const { return topic_members_.at(topic).size() >= 2; }

  // The most partitions `member` could hold: all of its topics'.
  int64_t max_load(size_t member) const {
    const auto& t = member_topics_[member];
    if (t.size() == topics_.size()) return total_;
    int64_t sum = 0;
    for (const std::string& topic : t) sum += topics_.at(topic);
    return sum;
  }

  bool can_change(size_t member) const {
    if (static_cast<int64_t>(load(member)) < max_load(member)) return true;
    return std::any_of(current_[member].begin(), current_[member].end(),
                       [&](const TopicPartition& tp) { return movable_topic(tp.topic); });
  }

  // The least loaded member subscribed to `topic`.
  size_t first_subscriber(const std::string& topic) const {
    for (size_t m : tree_) {
      if (subscribed(m, topic)) return m;
    }
    return kNobody;  // unreachable: every topic asked about has a subscriber in the tree
  }

  void give(const TopicPartition& tp, size_t member) {
    tree_.erase(member);
    current_[member].push_back(tp);
    owner_[tp] = member;
    tree_.insert(member);
  }

  // Balanced when loads differ by at most one, or when no member could take a partition from a member
  // holding two or more than it (because of what each subscribes to).
  bool balanced() const {
    if (tree_.empty()) return true;
    const size_t least = load(*tree_.begin()), most = load(*tree_.rbegin());
    if (least + 1 >= most) return true;
    for (size_t m : tree_) {
      const size_t mine = load(m);
      if (static_cast<int64_t>(mine) == max_load(m)) continue;
      for (const std::string& topic : member_topics_[m]) {
        for (int32_t p = 0; p < topics_.at(topic); ++p) {
          auto holder = owner_.find({topic, p});
          if (holder != owner_.end() && holder->second != m && mine + 1 < load(holder->second)) return false;
        }
      }
    }
    return true;
  }

  // Sum of load differences over all pairs of movable members: lower is better.
  int64_t score(const Lists& lists) const {
    int64_t sum = 0;
    for (size_t a = 0; a < lists.size(); ++a) {
      if (fixed_[a]) continue;
      for (size_t b = a + 1; b < lists.size(); ++b) {
        if (!fixed_[b])
          sum += std::llabs(static_cast<int64_t>(lists[a].size()) - static_cast<int64_t>(lists[b].size()));
      }
    }
    return sum;
  }

  void balance(std::vector<TopicPartition> unassigned) {
    const bool initializing = current_[*tree_.rbegin()].empty();

    for (const TopicPartition& tp : unassigned) {
      if (const size_t member = first_subscriber(tp.topic); member != kNobody) give(tp, member);
    }

    // Partitions only one member can have, and members that can neither give nor take, stay put.
    const auto fixed_partition = [&](const TopicPartition& tp) { return !movable_topic(tp.topic); };
    std::erase_if(sorted_partitions_, fixed_partition);
    std::erase_if(unassigned, fixed_partition);
    for (size_t i = 0; i < members_.size(); ++i) {
      if (!can_change(i)) {
        tree_.erase(i);
        fixed_[i] = true;
      }
    }

    const Lists before = current_;
    const std::map<TopicPartition, size_t> owners_before = owner_;
    if (!revocation_required_) reassign_all(unassigned);
    const bool moved = reassign_all(sorted_partitions_);
    // Moving was meant to improve balance; if it did not, stay with the stickier assignment.
    if (!initializing && moved && score(current_) >= score(before)) {
      current_ = before;
      owner_ = owners_before;
    }
  }

  // Moves partitions (in the given order) to less loaded members until balanced; true if any moved.
  bool reassign_all(const std::vector<TopicPartition>& partitions) {
    bool moved = false, modified;
    do {
      modified = false;
      for (const TopicPartition& tp : partitions) {
        if (balanced()) break;
        const size_t holder = owner_.at(tp);
        auto older = older_claims_.find(tp);
        if (older != older_claims_.end() && !fixed_[older->second.member] &&
            load(holder) > load(older->second.member) + 1) {
          reassign(tp, older->second.member);  // back to where it was before
          moved = modified = true;
          continue;
        }
        for (size_t other : topic_members_.at(tp.topic)) {
          if (load(holder) > load(other) + 1) {
            const size_t to = first_subscriber(tp.topic);
            if (to == kNobody) break;
            reassign(tp, to);
            moved = modified = true;
            break;
          }
        }
      }
    } while (modified);
    return moved;
  }

  using Pair = std::pair<size_t, size_t>;  // (from, to)

  void reassign(const TopicPartition& tp, size_t to) {
    // If some partition of this topic already moved from `to` to where this one started, move that one
    // back instead: it returns to its owner, rather than a second partition leaving its own.
    size_t from = owner_.at(tp);
    TopicPartition moving = tp;
    if (auto topic = moves_by_topic_.find(tp.topic); topic != moves_by_topic_.end()) {
      if (auto m = moves_.find(tp); m != moves_.end()) from = m->second.first;
      if (auto reverse = topic->second.find({to, from}); reverse != topic->second.end()) {
        moving = reverse->second.first();
      }
    }
    move(moving, to);
  }

  void move(const TopicPartition& tp, size_t to) {
    const size_t from = owner_.at(tp);
    Retree retree(*this, from, to);
    record_move(tp, from, to);
    erase_first(current_[from], tp);
    current_[to].push_back(tp);
    owner_[tp] = to;
  }

  void record_move(const TopicPartition& tp, size_t from, size_t to) {
    if (auto m = moves_.find(tp); m != moves_.end()) {
      const size_t origin = m->second.first;
      forget_move(tp);
      if (origin != to) remember_move(tp, {origin, to});
    } else {
      remember_move(tp, {from, to});
    }
  }

  void remember_move(const TopicPartition& tp, Pair pair) {
    moves_[tp] = pair;
    moves_by_topic_[tp.topic][pair].insert(tp, java::hash(tp));
  }

  void forget_move(const TopicPartition& tp) {
    const Pair pair = moves_.at(tp);
    moves_.erase(tp);
    auto& by_pair = moves_by_topic_.at(tp.topic);
    auto& set = by_pair.at(pair);
    set.erase(tp);
    if (set.empty()) by_pair.erase(pair);
    if (by_pair.empty()) moves_by_topic_.erase(tp.topic);
  }

  const Members& members_;
  const PartitionCounts& topics_;  // the subscribed topics that exist
  int64_t total_ = 0;
  std::map<std::string, std::vector<size_t>> topic_members_;  // in Java's map order
  std::vector<std::vector<std::string>> member_topics_;       // subscribed topics that exist
  std::vector<TopicPartition> sorted_partitions_;             // topics with fewer possible members first
  Lists current_;
  std::vector<bool> fixed_;
  std::map<TopicPartition, size_t> owner_;
  std::map<TopicPartition, Claim> older_claims_;
  bool revocation_required_ = false;  // someone owns a partition of a topic it left
  std::set<size_t, ByLoad> tree_;
  std::map<TopicPartition, Pair> moves_;  // partition -> (first owner this round, current owner)
  // Java keeps each (from, to) group in a HashSet and moves back whichever its iterator yields first.
  std::map<std::string, std::map<Pair, java::HashOrder<TopicPartition>>> moves_by_topic_;
};

// ---- 3. cooperative: nothing goes to a new member while another still owns it ----

void hold_back_transfers(Lists& assigned, const std::map<TopicPartition, size_t>& transferring) {
  for (const auto& [tp, member] : transferring) erase_first(assigned[member], tp);
}

// What the general path hands from one member to another, judged from what members said they own.
std::map<TopicPartition, size_t> transfers(const Members& members, const Lists& assigned) {
  std::map<TopicPartition, size_t> added;
  std::set<TopicPartition> revoked;
  for (size_t i = 0; i < members.size(); ++i) {
    const std::set<TopicPartition> owned(members[i].owned_partitions.begin(),
                                         members[i].owned_partitions.end());
    const std::set<TopicPartition> now(assigned[i].begin(), assigned[i].end());
    for (const TopicPartition& tp : assigned[i]) {
      if (!owned.count(tp)) added[tp] = i;
    }
    for (const TopicPartition& tp : owned) {
      if (!now.count(tp)) revoked.insert(tp);
    }
  }
  std::erase_if(added, [&](const auto& entry) { return !revoked.count(entry.first); });
  return added;
}

}  // namespace

Assignment assign_cooperative_sticky(const std::vector<MemberSubscription>& input,
                                     const PartitionCounts& partitions) {
  const Members members = detail::unique_members(input);
  if (members.empty()) return {};
  const PartitionCounts topics = detail::subscribed_topics(members, partitions);
  const std::vector<size_t> order = detail::map_order(members);

  Claims claims = resolve_claims(members, order, topics);
  Lists assigned;
  if (claims.same_subscriptions) {
    Constrained c = assign_constrained(members, order, topics, claims);
    assigned = std::move(c.assigned);
    hold_back_transfers(assigned, c.transferring);
  } else {
    assigned = General(members, order, topics, claims).build();
    hold_back_transfers(assigned, transfers(members, assigned));
  }
  return detail::to_assignment(members, std::move(assigned));
}

}  // namespace kafkawire::group
