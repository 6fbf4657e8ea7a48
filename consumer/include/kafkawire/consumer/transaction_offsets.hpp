// What a transaction commits to a consumer group: the Consumer gives it, the Producer sends it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "kafkawire/group/topic_partition.hpp"

namespace kafkawire {

// Who consumed the offsets a transaction commits: the group, and the member's generation, so that a
// member the group has moved on from (a zombie) cannot commit through a transaction (Java's
// ConsumerGroupMetadata). Consumer::group_metadata() gives it.
struct ConsumerGroupMetadata {
  std::string group_id;
  int32_t generation_id = -1;  // -1 with member_id "": commit outside any generation (no fencing)
  std::string member_id;
  std::optional<std::string> group_instance_id;
  friend bool operator==(const ConsumerGroupMetadata&, const ConsumerGroupMetadata&) = default;
};

// What a consume-process-produce loop commits with its transaction: the positions after the records it
// processed, and the group they were consumed in. Consumer::transaction_offsets() gives it.
struct TransactionOffsets {
  ConsumerGroupMetadata group;
  std::map<TopicPartition, int64_t> offsets;
};

}  // namespace kafkawire
