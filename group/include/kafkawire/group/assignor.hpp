// Partition assignors of the classic consumer group protocol: the group leader runs one over every
// member's subscription (from JoinGroup) and sends the result in SyncGroup.
//
//   range               per topic, the members subscribed to it (sorted) get contiguous ranges, the
//                       first ones one partition more. Eager: the whole assignment is revoked first.
//   roundrobin          all partitions (topics sorted) dealt out one at a time to the sorted members,
//                       skipping members not subscribed to the topic. Eager.
//   cooperative-sticky  balanced (counts differ by at most one where subscriptions allow), keeps each
//                       member's owned partitions where balance allows, and cooperative (KIP-429): a
//                       partition moving from one member to another is only taken away from its owner
//                       in this rebalance; the follow-up rebalance gives it to the new one.
//
// Every result is the one kafka-clients 4.4.0's assignor of the same name computes for the same members,
// in the same JoinGroup order, down to its tie-breaks (tests/golden/assignments.txt holds Java's results).
// "Sorted members" means: static members (with a group.instance.id) first, by instance id, then the
// others by member id.
//
// Rack-aware assignment (KIP-881) is not implemented: rack_id is ignored, which is what Java does too
// when no member sends a rack. Everything here is pure: no I/O, no clocks, same input, same output.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/group/topic_partition.hpp"

namespace kafkawire::group {

// The one TopicPartition the consumer and the group code share.
using TopicPartition = kafkawire::TopicPartition;

// What a member sent in JoinGroup (a ConsumerProtocolSubscription), plus its member id and instance id.
struct MemberSubscription {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::string> topics;
  std::vector<TopicPartition> owned_partitions;  // v1+ (KIP-429): what the member holds now
  // v2+ (KIP-792): the generation owned_partitions belong to; -1 when the member did not say. (A v0/v1
  // cooperative-sticky member puts it in its user data instead; the caller decodes that.)
  int32_t generation = -1;
  std::optional<std::string> rack_id;  // v3+; ignored, see above
};

// Member id -> its partitions, sorted. Every member appears, with an empty list if it gets nothing.
using Assignment = std::map<std::string, std::vector<TopicPartition>>;

// Topic -> partition count, as the metadata says. A subscribed topic missing here (or with no
// partitions) is skipped, as it does not exist (yet).
using PartitionCounts = std::map<std::string, int32_t>;

// Members come in JoinGroup order; a later member with an id already seen replaces the earlier one.
// Owned partitions that do not exist in `partitions` are ignored.
Assignment assign_range(const std::vector<MemberSubscription>& members, const PartitionCounts& partitions);
Assignment assign_roundrobin(const std::vector<MemberSubscription>& members,
                             const PartitionCounts& partitions);
Assignment assign_cooperative_sticky(const std::vector<MemberSubscription>& members,
                                     const PartitionCounts& partitions);

// The assignors by the names consumers advertise in JoinGroup (partition.assignment.strategy).
class Assignor {
 public:
  virtual ~Assignor() = default;
  virtual std::string_view name() const = 0;  // "range", "roundrobin", "cooperative-sticky"
  // True when the assignor revokes in two phases (KIP-429) so members may keep consuming what they keep.
  virtual bool cooperative() const = 0;
  virtual Assignment assign(const std::vector<MemberSubscription>& members,
                            const PartitionCounts& partitions) const = 0;
};

std::unique_ptr<Assignor> make_assignor(std::string_view name);  // nullptr for an unknown name

}  // namespace kafkawire::group
