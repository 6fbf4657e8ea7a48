// roundrobin: every partition of every subscribed topic (topics in name order, partitions in order) dealt
// out one at a time around the circle of sorted members, skipping those not subscribed to its topic.
// Balanced when everyone subscribes to the same topics; with different subscriptions it is not.
#include <algorithm>

#include "assignor_common.hpp"

namespace kafkawire::group {

Assignment assign_roundrobin(const std::vector<MemberSubscription>& input,
                             const PartitionCounts& partitions) {
  const std::vector<MemberSubscription> members = detail::unique_members(input);
  if (members.empty()) return {};
  std::vector<std::vector<TopicPartition>> lists(members.size());

  // Sorted stably from the order of Java's member map, so ties come out as in Java too.
  std::vector<size_t> circle = detail::map_order(members);
  std::stable_sort(circle.begin(), circle.end(),
                   [&](size_t a, size_t b) { return detail::member_less(members[a], members[b]); });

  // Topic names are ASCII, where Java's string order is byte order: std::map's order is the right one.
  size_t next = 0;
  for (const auto& [topic, count] : detail::subscribed_topics(members, partitions)) {
    for (int32_t p = 0; p < count; ++p) {
      // Someone subscribes to `topic` (that is how it got here), so this stops.
      while (!detail::subscribes(members[circle[next]], topic)) next = (next + 1) % circle.size();
      lists[circle[next]].push_back({topic, p});
      next = (next + 1) % circle.size();
    }
  }
  return detail::to_assignment(members, std::move(lists));
}

}  // namespace kafkawire::group
