// Java's orders, for assignors that must tie-break exactly as kafka-clients does.
//
// Kafka's assignors sort member ids with String.compareTo and, in the sticky assignor, walk HashMaps and
// HashSets whose iteration order falls out of String.hashCode and TopicPartition.hashCode. Reproducing
// Java's results means reproducing those orders: strings compared and hashed as UTF-16 code units, and
// HashMap iteration as bucket order (the table grows by doubling, elements of one bucket in the order
// they were put).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/group/assignor.hpp"

namespace kafkawire::group::java {

// UTF-8 to UTF-16 the way Java decodes a string off the wire: each ill-formed sequence (its maximal valid
// prefix, or one stray byte) becomes one U+FFFD.
std::u16string utf16(std::string_view utf8);

// String.hashCode and String.compareTo (sign only).
int32_t hash(std::string_view utf8);
int compare(std::string_view a, std::string_view b);
inline bool less(std::string_view a, std::string_view b) { return compare(a, b) < 0; }

// TopicPartition.hashCode.
int32_t hash(const TopicPartition& tp);

// The iteration order of a java.util.HashMap/HashSet made with the default constructor: which elements
// it holds, in which order they were put (a re-put of a present key keeps its place), and how big its
// table has grown (it never shrinks).
template <class T>
class HashOrder {
 public:
  // Returns false if `value` is already there (Java's add() on a present element changes nothing).
  bool insert(const T& value, int32_t h) {
    if (contains(value)) return false;
    append(value, h);
    return true;
  }

  // insert() for a value known not to be there.
  void append(const T& value, int32_t h) {
    // A bucket reaching 8 entries grows a small table instead of turning into a tree (treeifyBin).
    if (per_bucket_[bucket(h)] >= 8 && capacity_ < 64) grow();
    entries_.push_back({value, h});
    ++per_bucket_[bucket(h)];
    if (entries_.size() > capacity_ / 4 * 3) grow();  // the 0.75 load factor
  }

  bool erase(const T& value) {
    auto it =
        std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.value == value; });
    if (it == entries_.end()) return false;
    --per_bucket_[bucket(it->hash)];
    entries_.erase(it);
    return true;
  }

  bool contains(const T& value) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.value == value; });
  }
  bool empty() const { return entries_.empty(); }

  // Elements in iteration order: by bucket, then in insertion order within a bucket (a resize splits
  // each bucket without reordering it).
  std::vector<T> ordered() const {
    std::vector<Entry> sorted = entries_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [&](const Entry& a, const Entry& b) { return bucket(a.hash) < bucket(b.hash); });
    std::vector<T> out;
    out.reserve(sorted.size());
    for (Entry& e : sorted) out.push_back(std::move(e.value));
    return out;
  }

  // What iterator().next() returns; the set must not be empty.
  const T& first() const {
    const Entry* best = &entries_.front();
    for (const Entry& e : entries_)
      if (bucket(e.hash) < bucket(best->hash)) best = &e;
    return best->value;
  }

 private:
  struct Entry {
    T value;
    int32_t hash;
  };

  // HashMap.hash() spreads the high bits down before masking.
  size_t bucket(int32_t h) const {
    const auto u = static_cast<uint32_t>(h);
    return (u ^ (u >> 16)) & (capacity_ - 1);
  }

  void grow() {
    capacity_ *= 2;
    per_bucket_.assign(capacity_, 0);
    for (const Entry& e : entries_) ++per_bucket_[bucket(e.hash)];
  }

  std::vector<Entry> entries_;
  size_t capacity_ = 16;
  std::vector<uint32_t> per_bucket_ = std::vector<uint32_t>(16, 0);
};

// The order a HashMap<String, ...> filled with `keys` (in this order, distinct) iterates them in, as
// indexes into `keys`.
std::vector<size_t> hash_map_order(const std::vector<std::string>& keys);

}  // namespace kafkawire::group::java
