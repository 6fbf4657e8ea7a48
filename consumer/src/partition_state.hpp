// Where an assigned partition stands, as the Consumer keeps it: its fetch buffer (position, buffered and
// prefetched records, generation) and what the consumer adds around it for offsets and the group.
// Private to consumer/src: Record points at the buffer's TopicPartition, not at this.
#pragma once

#include <cstdint>
#include <optional>

#include "kafkawire/consumer/partition_buffer.hpp"

namespace kafkawire {

struct PartitionState {
  PartitionState(TopicPartition tp, fetch::BufferLedger& ledger) : buffer(std::move(tp), ledger) {}
  const TopicPartition& tp() const { return buffer.topic_partition(); }

  fetch::PartitionBuffer buffer;
  int64_t pending_reset = 0;            // seek_to_beginning (-2) / seek_to_end (-1) waiting for ListOffsets
  bool awaiting_group_offsets = false;  // assigned by the group; its committed offset is on the way
  // Committed offset known to this consumer (the last successful commit or fetched commit).
  std::optional<int64_t> committed;
};

}  // namespace kafkawire
