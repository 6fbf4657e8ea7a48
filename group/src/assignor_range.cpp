// range: each topic on its own; its subscribers, sorted, get contiguous ranges of its partitions, and
// when the partitions do not divide evenly the first members get one more. Members subscribed to the
// same topics with the same partition counts therefore get the same partition numbers of each topic,
// which is what co-partitioned joins want; the price is that the first members get more overall.
#include <algorithm>

#include "assignor_common.hpp"

namespace kafkawire::group {

Assignment assign_range(const std::vector<MemberSubscription>& input, const PartitionCounts& partitions) {
  const std::vector<MemberSubscription> members = detail::unique_members(input);
  std::vector<std::vector<TopicPartition>> lists(members.size());

  // Java gathers each topic's subscribers walking its HashMap of members, then sorts stably; start from
  // that order so that even ties (two members with one instance id) come out the same.
  const std::vector<size_t> by_map = detail::map_order(members);

  for (const auto& [topic, count] : detail::subscribed_topics(members, partitions)) {
    std::vector<size_t> subscribers;
    for (size_t i : by_map) {
      if (detail::subscribes(members[i], topic)) subscribers.push_back(i);
    }
    std::stable_sort(subscribers.begin(), subscribers.end(),
                     [&](size_t a, size_t b) { return detail::member_less(members[a], members[b]); });
    const auto n = static_cast<int32_t>(subscribers.size());
    const int32_t per_member = count / n, extra = count % n;
    int32_t next = 0;
    for (int32_t k = 0; k < n; ++k) {
      const int32_t len = per_member + (k < extra ? 1 : 0);
      for (int32_t p = next; p < next + len; ++p) lists[subscribers[k]].push_back({topic, p});
      next += len;
    }
  }
  return detail::to_assignment(members, std::move(lists));
}

}  // namespace kafkawire::group
