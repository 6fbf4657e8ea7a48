#include "kafkawire/group/assignor.hpp"

#include <algorithm>
#include <map>

#include "assignor_common.hpp"
#include "java_order.hpp"

namespace kafkawire::group {

namespace detail {

std::vector<MemberSubscription> unique_members(const std::vector<MemberSubscription>& members) {
  std::vector<MemberSubscription> out;
  std::map<std::string_view, size_t> index;
  out.reserve(members.size());
  for (const MemberSubscription& m : members) {
    auto [it, fresh] = index.try_emplace(m.member_id, out.size());
    if (fresh) {
      out.push_back(m);
    } else {
      out[it->second] = m;
    }
  }
  return out;
}

PartitionCounts subscribed_topics(const std::vector<MemberSubscription>& members,
                                  const PartitionCounts& partitions) {
  PartitionCounts out;
  for (const MemberSubscription& m : members) {
    for (const std::string& topic : m.topics) {
      auto it = partitions.find(topic);
      if (it != partitions.end() && it->second > 0) out.emplace(topic, it->second);
    }
  }
  return out;
}

std::vector<size_t> map_order(const std::vector<MemberSubscription>& members) {
  std::vector<std::string> ids;
  ids.reserve(members.size());
  for (const MemberSubscription& m : members) ids.push_back(m.member_id);
  return java::hash_map_order(ids);
}

bool subscribes(const MemberSubscription& member, std::string_view topic) {
  return std::find(member.topics.begin(), member.topics.end(), topic) != member.topics.end();
}

bool member_less(const MemberSubscription& a, const MemberSubscription& b) {
  if (a.group_instance_id && b.group_instance_id)
    return java::less(*a.group_instance_id, *b.group_instance_id);
  if (a.group_instance_id || b.group_instance_id) return a.group_instance_id.has_value();
  return java::less(a.member_id, b.member_id);
}

Assignment to_assignment(const std::vector<MemberSubscription>& members,
                         std::vector<std::vector<TopicPartition>> lists) {
  Assignment out;
  for (size_t i = 0; i < members.size(); ++i) {
    std::vector<TopicPartition>& list = lists[i];
    std::sort(list.begin(), list.end());
    out[members[i].member_id] = std::move(list);
  }
  return out;
}

}  // namespace detail

namespace {

using AssignFn = Assignment (*)(const std::vector<MemberSubscription>&, const PartitionCounts&);

class NamedAssignor final : public Assignor {
 public:
  NamedAssignor(std::string_view name, bool cooperative, AssignFn fn)
      : name_(name), cooperative_(cooperative), fn_(fn) {}
  std::string_view name() const override { return name_; }
  bool cooperative() const override { return cooperative_; }
  Assignment assign(const std::vector<MemberSubscription>& members,
                    const PartitionCounts& partitions) const override {
    return fn_(members, partitions);
  }

 private:
  std::string_view name_;
  bool cooperative_;
  AssignFn fn_;
};

}  // namespace

std::unique_ptr<Assignor> make_assignor(std::string_view name) {
  if (name == "range") return std::make_unique<NamedAssignor>("range", false, &assign_range);
  if (name == "roundrobin") return std::make_unique<NamedAssignor>("roundrobin", false, &assign_roundrobin);
  if (name == "cooperative-sticky") {
    return std::make_unique<NamedAssignor>("cooperative-sticky", true, &assign_cooperative_sticky);
  }
  return nullptr;
}

}  // namespace kafkawire::group
