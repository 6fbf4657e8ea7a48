// One record of a poll: views into the fetched bytes, valid until the next poll (or close).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire {

class Record {
 public:
  // `tp` is the name its partition buffer keeps (fetch::PartitionBuffer::topic_partition()); the consumer
  // keeps that buffer, and the frames and decompression buffers `view` points into, until the next poll.
  Record(const TopicPartition* tp, const protocol::RecordView& view) : tp_(tp), view_(view) {}
  std::string_view topic() const { return tp_->topic; }
  int32_t partition() const { return tp_->partition; }
  int64_t offset() const { return view_.offset; }
  int64_t timestamp() const { return view_.timestamp; }
  const std::optional<protocol::Bytes>& key() const { return view_.key; }
  const std::optional<protocol::Bytes>& value() const { return view_.value; }
  const protocol::HeadersView& headers() const { return view_.headers; }

 private:
  const TopicPartition* tp_;
  protocol::RecordView view_;
};

}  // namespace kafkawire
