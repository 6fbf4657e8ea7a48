// The classic-protocol assignors: Java's results for the same groups (tests/golden/assignments.txt, from
// kafka-clients' own assignors), the documented examples, and properties over random groups: every
// partition handed out once (cooperative-sticky: except those it is taking away from their owner this
// round, which the next round hands out), only to subscribers, balanced, sticky.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "kafkawire/group/assignor.hpp"

using namespace kafkawire::group;

namespace {

using Members = std::vector<MemberSubscription>;

// "t0:1,t1:0" (or "-") -> partitions.
std::vector<TopicPartition> parse_partitions(const std::string& text) {
  std::vector<TopicPartition> out;
  if (text == "-") return out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t colon = item.rfind(':');
    out.push_back({item.substr(0, colon), std::stoi(item.substr(colon + 1))});
  }
  return out;
}

std::vector<std::string> parse_topics(const std::string& text) {
  std::vector<std::string> out;
  if (text == "-") return out;
  std::stringstream in(text);
  std::string topic;
  while (std::getline(in, topic, ',')) out.push_back(topic);
  return out;
}

std::string after(const std::string& word, const std::string& prefix) {
  REQUIRE(word.rfind(prefix, 0) == 0);
  return word.substr(prefix.size());
}

struct GoldenCase {
  std::string name, assignor;
  Members members;
  PartitionCounts partitions;
  Assignment expected;
};

std::vector<GoldenCase> golden_cases() {
  std::ifstream in(KAFKAWIRE_GOLDEN_DIR "/assignments.txt");
  REQUIRE(in);
  std::vector<GoldenCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "case") {
      cases.emplace_back();
      words >> cases.back().name >> cases.back().assignor;
      continue;
    }
    REQUIRE(!cases.empty());
    GoldenCase& c = cases.back();
    if (kind == "member") {
      MemberSubscription m;
      std::string instance, topics, owned;
      words >> m.member_id >> instance >> m.generation >> topics >> owned;
      if (instance != "-") m.group_instance_id = instance;
      m.topics = parse_topics(after(topics, "topics="));
      m.owned_partitions = parse_partitions(after(owned, "owned="));
      c.members.push_back(std::move(m));
    } else if (kind == "partitions") {
      std::string item;
      while (words >> item) {
        const size_t colon = item.rfind(':');
        c.partitions[item.substr(0, colon)] = std::stoi(item.substr(colon + 1));
      }
    } else if (kind == "expect") {
      std::string member, list;
      words >> member >> list;
      c.expected[member] = parse_partitions(list);
    } else {
      REQUIRE(kind == "end");
    }
  }
  return cases;
}

std::string show(const Assignment& a) {
  std::string out;
  for (const auto& [member, tps] : a) {
    out += member + ":";
    for (const TopicPartition& tp : tps) out += " " + tp.topic + ":" + std::to_string(tp.partition);
    out += "\n";
  }
  return out;
}

MemberSubscription member(std::string id, std::vector<std::string> topics,
                          std::vector<TopicPartition> owned = {}, int32_t generation = -1,
                          std::optional<std::string> instance = std::nullopt) {
  MemberSubscription m;
  m.member_id = std::move(id);
  m.group_instance_id = std::move(instance);
  m.topics = std::move(topics);
  m.owned_partitions = std::move(owned);
  m.generation = generation;
  return m;
}

std::vector<TopicPartition> range_of(const std::string& topic, int32_t from, int32_t to) {
  std::vector<TopicPartition> out;
  for (int32_t p = from; p < to; ++p) out.push_back({topic, p});
  return out;
}

}  // namespace

TEST_CASE("assignors reproduce kafka-clients results in the golden file", "[assignor]") {
  const std::vector<GoldenCase> cases = golden_cases();
  std::map<std::string, int> total, passed;
  for (const GoldenCase& c : cases) {
    INFO(c.name << " " << c.assignor);
    const auto assignor = make_assignor(c.assignor);
    REQUIRE(assignor);
    const Assignment got = assignor->assign(c.members, c.partitions);
    ++total[c.assignor];
    if (got == c.expected) ++passed[c.assignor];
    CHECK(show(got) == show(c.expected));
  }
  for (const char* name : {"range", "roundrobin", "cooperative-sticky"}) {
    INFO(name << ": " << passed[name] << " of " << total[name] << " golden cases");
    CHECK(total[name] >= 40);
    CHECK(passed[name] == total[name]);
  }
}

TEST_CASE("make_assignor knows the three classic names", "[assignor]") {
  for (auto [name, cooperative] :
       {std::pair{"range", false}, std::pair{"roundrobin", false}, std::pair{"cooperative-sticky", true}}) {
    const auto a = make_assignor(name);
    REQUIRE(a);
    CHECK(a->name() == name);
    CHECK(a->cooperative() == cooperative);
  }
  CHECK_FALSE(make_assignor("sticky"));  // the eager StickyAssignor is not implemented
  CHECK_FALSE(make_assignor("uniform"));
  CHECK_FALSE(make_assignor(""));
}

TEST_CASE("range and roundrobin give the documented examples", "[assignor]") {
  const Members two = {member("C0", {"t0", "t1"}), member("C1", {"t0", "t1"})};
  const PartitionCounts three_each = {{"t0", 3}, {"t1", 3}};
  CHECK(assign_range(two, three_each) ==
        Assignment{{"C0", {{"t0", 0}, {"t0", 1}, {"t1", 0}, {"t1", 1}}}, {"C1", {{"t0", 2}, {"t1", 2}}}});
  CHECK(assign_roundrobin(two, three_each) ==
        Assignment{{"C0", {{"t0", 0}, {"t0", 2}, {"t1", 1}}}, {"C1", {{"t0", 1}, {"t1", 0}, {"t1", 2}}}});

  // Different subscriptions: roundrobin skips members not subscribed to the partition's topic.
  const Members nested = {member("C0", {"t0"}), member("C1", {"t0", "t1"}), member("C2", {"t0", "t1", "t2"})};
  const PartitionCounts growing = {{"t0", 1}, {"t1", 2}, {"t2", 3}};
  CHECK(assign_roundrobin(nested, growing) ==
        Assignment{
            {"C0", {{"t0", 0}}}, {"C1", {{"t1", 0}}}, {"C2", {{"t1", 1}, {"t2", 0}, {"t2", 1}, {"t2", 2}}}});
  CHECK(assign_range(nested, growing) == Assignment{{"C0", {{"t0", 0}}},
                                                    {"C1", {{"t1", 0}}},
                                                    {"C2", {{"t1", 1}, {"t2", 0}, {"t2", 1}, {"t2", 2}}}});
}

TEST_CASE("range gives uneven splits to the first members and sorts static members by instance id",
          "[assignor]") {
  const Members three = {member("C0", {"t0"}), member("C1", {"t0"}), member("C2", {"t0"})};
  CHECK(assign_range(three, {{"t0", 7}}) ==
        Assignment{{"C0", range_of("t0", 0, 3)}, {"C1", range_of("t0", 3, 5)}, {"C2", range_of("t0", 5, 7)}});

  // Static members come first, by group.instance.id; then the dynamic ones by member id.
  const Members mixed = {member("a", {"t0"}), member("b", {"t0"}, {}, -1, "z"),
                         member("c", {"t0"}, {}, -1, "y")};
  CHECK(assign_range(mixed, {{"t0", 3}}) ==
        Assignment{{"a", {{"t0", 2}}}, {"b", {{"t0", 1}}}, {"c", {{"t0", 0}}}});
}

TEST_CASE("assignors skip unknown topics and list idle members and take the last repeated member id",
          "[assignor]") {
  for (const char* name : {"range", "roundrobin", "cooperative-sticky"}) {
    INFO(name);
    const auto a = make_assignor(name);
    // A topic missing from the metadata does not exist; a member with nothing to do still appears.
    const Members members = {member("C0", {"t0", "missing"}), member("C1", {"missing"}),
                             member("C2", {"t0"})};
    const Assignment got = a->assign(members, {{"t0", 2}, {"unsubscribed", 4}});
    REQUIRE(got.size() == 3);
    CHECK(got.at("C1").empty());
    CHECK(got.at("C0").size() + got.at("C2").size() == 2);

    CHECK(a->assign({}, {{"t0", 2}}).empty());
    CHECK(a->assign({member("C0", {"t0"})}, {}) == Assignment{{"C0", {}}});

    // A repeated member id: the later subscription counts, as in Java's map of members.
    const Assignment repeated =
        a->assign({member("C0", {"t0"}), member("C0", {"t1"})}, {{"t0", 1}, {"t1", 1}});
    CHECK(repeated == Assignment{{"C0", {{"t1", 0}}}});
  }
}

TEST_CASE("cooperative-sticky makes a joining member wait one rebalance for what others give up",
          "[assignor]") {
  const std::vector<TopicPartition> all = range_of("t0", 0, 6);
  // Round 1: C0 owns everything; C1 joins. C0 keeps half, the other half is only revoked.
  const Assignment first =
      assign_cooperative_sticky({member("C0", {"t0"}, all, 3), member("C1", {"t0"})}, {{"t0", 6}});
  CHECK(first == Assignment{{"C0", range_of("t0", 0, 3)}, {"C1", {}}});
  // Round 2 (C0 revoked, everyone rejoined): now C1 gets the rest.
  const Assignment second = assign_cooperative_sticky(
      {member("C0", {"t0"}, first.at("C0"), 4), member("C1", {"t0"}, {}, 4)}, {{"t0", 6}});
  CHECK(second == Assignment{{"C0", range_of("t0", 0, 3)}, {"C1", range_of("t0", 3, 6)}});
}

TEST_CASE("cooperative-sticky moves a departed member's partitions at once", "[assignor]") {
  // C1 left holding t0:3..5; nobody in the group owns them any more, so C2 gets them now.
  const Assignment got = assign_cooperative_sticky(
      {member("C0", {"t0"}, range_of("t0", 0, 3), 3), member("C2", {"t0"})}, {{"t0", 6}});
  CHECK(got == Assignment{{"C0", range_of("t0", 0, 3)}, {"C2", range_of("t0", 3, 6)}});
}

TEST_CASE("cooperative-sticky drops claims of an older generation and cancels equal ones", "[assignor]") {
  // C1 (generation 4) still claims t0:1, which C0 got in generation 5.
  const Assignment older = assign_cooperative_sticky(
      {member("C0", {"t0"}, {{"t0", 0}, {"t0", 1}}, 5), member("C1", {"t0"}, {{"t0", 1}, {"t0", 2}}, 4)},
      {{"t0", 4}});
  CHECK(older.at("C0") == std::vector<TopicPartition>{{"t0", 0}, {"t0", 1}});
  CHECK(std::count(older.at("C1").begin(), older.at("C1").end(), TopicPartition{"t0", 1}) == 0);

  // Two claims in one generation: neither keeps it, and nobody gets it this round.
  const Assignment equal = assign_cooperative_sticky(
      {member("C0", {"t0"}, {{"t0", 0}, {"t0", 1}}, 5), member("C1", {"t0"}, {{"t0", 1}, {"t0", 2}}, 5)},
      {{"t0", 4}});
  for (const auto& [id, tps] : equal) CHECK(std::count(tps.begin(), tps.end(), TopicPartition{"t0", 1}) == 0);
}

namespace {

// A random group: 1-8 members, 1-4 topics of 1-12 partitions, same or different subscriptions.
struct RandomGroup {
  Members members;
  PartitionCounts partitions;
  bool same_subscriptions;
};

RandomGroup random_group(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  RandomGroup g;
  std::vector<std::string> topics;
  for (int t = 0, n = pick(1, 4); t < n; ++t) {
    topics.push_back("t" + std::to_string(t));
    g.partitions[topics.back()] = pick(1, 12);
  }
  g.same_subscriptions = pick(0, 1) == 1;
  for (int i = 0, n = pick(1, 8); i < n; ++i) {
    std::vector<std::string> mine;
    for (const std::string& t : topics)
      if (g.same_subscriptions || pick(0, 2) != 0) mine.push_back(t);
    if (mine.empty())
      mine.push_back(topics[static_cast<size_t>(pick(0, static_cast<int>(topics.size()) - 1))]);
    std::optional<std::string> instance;
    if (pick(0, 3) == 0) instance = "instance-" + std::to_string(pick(0, 999)) + "-" + std::to_string(i);
    g.members.push_back(member("consumer-" + std::to_string(pick(0, 99999)) + "-" + std::to_string(i),
                               std::move(mine), {}, -1, instance));
  }
  return g;
}

bool subscribed_by_someone(const RandomGroup& g, const std::string& topic) {
  return std::any_of(g.members.begin(), g.members.end(), [&](const MemberSubscription& m) {
    return std::find(m.topics.begin(), m.topics.end(), topic) != m.topics.end();
  });
}

// Checks that every partition of a subscribed topic went to exactly one member.
void check_complete(const RandomGroup& g, const std::map<TopicPartition, int>& count) {
  for (const auto& [topic, n] : g.partitions) {
    const size_t expected = subscribed_by_someone(g, topic) ? 1 : 0;
    for (int32_t p = 0; p < n; ++p) CHECK(count.count({topic, p}) == expected);
  }
}

// partition -> members it went to; also checks each went only to a subscriber of its topic.
std::map<TopicPartition, int> holders(const RandomGroup& g, const Assignment& a) {
  std::map<TopicPartition, int> count;
  for (const MemberSubscription& m : g.members) {
    for (const TopicPartition& tp : a.at(m.member_id)) {
      CHECK(std::find(m.topics.begin(), m.topics.end(), tp.topic) != m.topics.end());
      CHECK(tp.partition < g.partitions.at(tp.topic));
      ++count[tp];
    }
  }
  return count;
}

// Loads differ by at most one among members with the same subscription.
void check_balanced(const RandomGroup& g, const Assignment& a) {
  std::map<std::set<std::string>, std::pair<size_t, size_t>> range;  // subscription -> (least, most)
  for (const MemberSubscription& m : g.members) {
    const std::set<std::string> key(m.topics.begin(), m.topics.end());
    const size_t n = a.at(m.member_id).size();
    auto [it, fresh] = range.try_emplace(key, n, n);
    it->second.first = std::min(it->second.first, n);
    it->second.second = std::max(it->second.second, n);
  }
  for (const auto& [topics, r] : range) CHECK(r.second - r.first <= 1);
}

}  // namespace

TEST_CASE("range and roundrobin hand out every partition once and only to subscribers", "[assignor]") {
  std::mt19937 rng(4242);
  for (int round = 0; round < 300; ++round) {
    const RandomGroup g = random_group(rng);
    for (auto* assign : {&assign_range, &assign_roundrobin}) {
      const Assignment a = assign(g.members, g.partitions);
      check_complete(g, holders(g, a));
      // Range balances each topic on its own; over several topics its first members get more.
      if (g.same_subscriptions && assign == &assign_roundrobin) check_balanced(g, a);
    }
  }
}

TEST_CASE("cooperative-sticky is complete after the follow-up rebalance and balanced and sticky",
          "[assignor]") {
  std::mt19937 rng(777);
  for (int round = 0; round < 300; ++round) {
    RandomGroup g = random_group(rng);
    INFO("group " << round);
    int32_t generation = 1;
    Assignment a = assign_cooperative_sticky(g.members, g.partitions);
    // Membership changes, a few rebalances each: what a member keeps never shrinks below what the
    // quota lets it keep, and what nobody got is only what someone is giving up.
    for (int change = 0; change < 4; ++change) {
      for (int rebalance = 0; rebalance < 3; ++rebalance) {
        for (MemberSubscription& m : g.members) {
          m.owned_partitions = a.at(m.member_id);
          m.generation = generation;
        }
        ++generation;
        const Assignment next = assign_cooperative_sticky(g.members, g.partitions);
        auto count = holders(g, next);
        for (const auto& [topic, n] : g.partitions) {
          for (int32_t p = 0; p < n; ++p) {
            const TopicPartition tp{topic, p};
            CHECK(count[tp] <= 1);
            if (count[tp] == 0 && subscribed_by_someone(g, topic)) {
              // Held back: someone owns it and is giving it up now.
              bool owned_elsewhere = false;
              for (const MemberSubscription& m : g.members) {
                const auto& o = m.owned_partitions;
                if (std::find(o.begin(), o.end(), tp) != o.end()) owned_elsewhere = true;
              }
              CHECK(owned_elsewhere);
            }
          }
        }
        if (g.same_subscriptions) {
          // Sticky: each member keeps what it owned, up to the smaller quota.
          size_t total = 0;
          for (const auto& [topic, n] : g.partitions) total += static_cast<size_t>(n);
          const size_t min_quota = total / g.members.size();
          for (const MemberSubscription& m : g.members) {
            const auto& now = next.at(m.member_id);
            const size_t kept = static_cast<size_t>(std::count_if(
                m.owned_partitions.begin(), m.owned_partitions.end(), [&](const TopicPartition& tp) {
                  return std::find(now.begin(), now.end(), tp) != now.end();
                }));
            CHECK(kept >= std::min(min_quota, m.owned_partitions.size()));
          }
        }
        const bool settled = next == a;
        a = next;
        if (settled) break;
      }
      // Once settled, everything is handed out and balanced.
      check_complete(g, holders(g, a));
      check_balanced(g, a);

      // Next change: someone leaves, or a new member joins.
      std::uniform_int_distribution<size_t> any(0, g.members.size() - 1);
      if (g.members.size() > 1 && rng() % 2 == 0) {
        g.members.erase(g.members.begin() + static_cast<std::ptrdiff_t>(any(rng)));
      } else {
        MemberSubscription fresh = g.members[any(rng)];
        fresh.member_id = "joined-" + std::to_string(change) + "-" + std::to_string(rng() % 1000);
        fresh.group_instance_id.reset();
        fresh.owned_partitions.clear();
        fresh.generation = -1;
        g.members.push_back(fresh);
        a[fresh.member_id] = {};
      }
    }
  }
}
