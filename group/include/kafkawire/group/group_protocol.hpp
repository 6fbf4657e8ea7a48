// Which consumer group protocol a member speaks: the classic one (JoinGroup, SyncGroup, a client-side
// assignor; GroupMember, coordinator.hpp) or KIP-848's (ConsumerGroupHeartbeat, the broker assigns;
// ConsumerGroupMember, consumer_group_member.hpp). The consumer's `group.protocol` setting names it.
#pragma once

#include <cstdint>

namespace kafkawire::group {

enum class GroupProtocol : uint8_t { classic, consumer };

}  // namespace kafkawire::group
