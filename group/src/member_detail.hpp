// What GroupMember's files (coordinator*.cpp, rebalance_timeline.cpp) share and nobody else needs.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/protocol/error.hpp"

namespace kafkawire::group {

// What the leader decoded from JoinGroup, kept while it waits for partition counts.
struct GroupMember::LeaderPlan {
  std::string protocol;
  std::vector<MemberSubscription> members;
  std::map<std::string, int16_t> versions;  // member id -> its subscription version: answer in kind
  std::set<std::string> topics;             // every topic some member subscribes to
};

namespace detail {

using PartitionSet = std::map<std::string, std::set<int32_t>>;
using errc = kafka_errc;

// Errors after which the member cannot go on (State::fatal): its configuration or rights are wrong. Other
// errors the policy calls fatal fail one request (reported to the application); the member tries again.
bool is_fatal_group_error(errc c);
std::string error_name(errc c);                                        // "REBALANCE_IN_PROGRESS"
std::string ms_text(Clock::duration d);                                // "250ms"
std::vector<std::string> normalized(std::vector<std::string> topics);  // sorted, unique, no empty names
std::string joined(const std::vector<std::string>& v);                 // "a,b,c"

// Sets of partitions, by topic.
std::vector<TopicPartition> to_vector(const PartitionSet& s);
size_t size_of(const PartitionSet& s);
bool contains(const PartitionSet& s, const TopicPartition& tp);
void merge(PartitionSet& into, const PartitionSet& more);
PartitionSet difference(const PartitionSet& a, const PartitionSet& b);
PartitionSet intersect(const PartitionSet& a, const PartitionSet& b);
void erase_all(PartitionSet& from, const PartitionSet& gone);
void erase_one(PartitionSet& from, const TopicPartition& tp);
std::string describe(const PartitionSet& s);                 // "orders[0,1] payments[2]"
std::string describe(const std::vector<TopicPartition>& v);  // "3 orders[0,1] payments[2]"

// The OffsetCommit answer for `tp`, the i-th partition sent; nullptr when the answer does not name it. The
// broker answers in the order of the request, so position i is tried first: matching every partition
// against the whole answer compared topic names 120 x 120 times per commit of 120 partitions, a fifth of
// the client's CPU in group-bench at 240 partitions.
const PartitionAnswer* answer_for(const std::vector<PartitionAnswer>& answers, size_t i,
                                  const TopicPartition& tp);

}  // namespace detail
}  // namespace kafkawire::group
