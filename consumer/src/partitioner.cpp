// The Java client's default partitioner for keyed records: murmur2 of the key, so that kafkawire and Java
// producers agree on the partition a key lives in.
#include "kafkawire/consumer/producer.hpp"

namespace kafkawire {

int32_t murmur2(const void* data, size_t size) {
  // The Java client's murmur2: seed 0x9747b28c, m 0x5bd1e995, r 24, little-endian 4-byte blocks.
  const auto* p = static_cast<const uint8_t*>(data);
  const uint32_t m = 0x5bd1e995;
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(size);
  const size_t blocks = size / 4;
  for (size_t i = 0; i < blocks; ++i) {
    uint32_t k = uint32_t{p[4 * i]} | uint32_t{p[4 * i + 1]} << 8 | uint32_t{p[4 * i + 2]} << 16 |
                 uint32_t{p[4 * i + 3]} << 24;
    k *= m;
    k ^= k >> 24;
    k *= m;
    h *= m;
    h ^= k;
  }
  const uint8_t* tail = p + blocks * 4;
  switch (size % 4) {
    case 3:
      h ^= uint32_t{tail[2]} << 16;
      [[fallthrough]];
    case 2:
      h ^= uint32_t{tail[1]} << 8;
      [[fallthrough]];
    case 1:
      h ^= tail[0];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

int32_t partition_for_key(std::string_view key, int32_t partitions) {
  // Java: Utils.toPositive(murmur2(key)) % numPartitions, toPositive being `& 0x7fffffff`.
  return static_cast<int32_t>((static_cast<uint32_t>(murmur2(key.data(), key.size())) & 0x7fffffffu) %
                              static_cast<uint32_t>(partitions));
}

}  // namespace kafkawire
