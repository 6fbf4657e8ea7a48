// A partition of a topic: what consumers are assigned, fetch from, and commit offsets for.
#pragma once

#include <compare>
#include <cstdint>
#include <ostream>
#include <string>

namespace kafkawire {

struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  friend auto operator<=>(const TopicPartition&, const TopicPartition&) = default;
  friend bool operator==(const TopicPartition&, const TopicPartition&) = default;
  friend std::ostream& operator<<(std::ostream& os, const TopicPartition& tp) {
    return os << tp.topic << '-' << tp.partition;
  }
};

inline std::string to_string(const TopicPartition& tp) {
  return tp.topic + "-" + std::to_string(tp.partition);
}

}  // namespace kafkawire
