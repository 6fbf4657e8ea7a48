// What the three assignors share: the members as Java's leader sees them, and the topics that count.
#pragma once

#include <string_view>
#include <vector>

#include "kafkawire/group/assignor.hpp"

namespace kafkawire::group::detail {

// The members with each id once. Java keeps them in a map by member id, so a repeated id replaces the
// earlier member's subscription but keeps its place.
std::vector<MemberSubscription> unique_members(const std::vector<MemberSubscription>& members);

// The topics some member subscribes to that exist (partition count above zero): what Java's
// AbstractPartitionAssignor hands its assignors as partitionsPerTopic.
PartitionCounts subscribed_topics(const std::vector<MemberSubscription>& members,
                                  const PartitionCounts& partitions);

// The order Java's leader iterates its HashMap of members in (member id -> subscription), as indexes.
std::vector<size_t> map_order(const std::vector<MemberSubscription>& members);

bool subscribes(const MemberSubscription& member, std::string_view topic);

// Java's member order for range and roundrobin (AbstractPartitionAssignor.MemberInfo): static members
// first, by group.instance.id, then the others by member id.
bool member_less(const MemberSubscription& a, const MemberSubscription& b);

// Every member with an empty list, then filled by `lists` (indexes as in `members`), each list sorted.
Assignment to_assignment(const std::vector<MemberSubscription>& members,
                         std::vector<std::vector<TopicPartition>> lists);

}  // namespace kafkawire::group::detail
