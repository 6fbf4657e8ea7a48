// The KIP-848 consumer group member (group/consumer_group_member.hpp) against a real broker: does Apache
// Kafka accept the heartbeats it builds (full, partial, acknowledging, leaving), and do two members end
// up with disjoint shares of a topic after reconciling?
//
// The machine alone, not through the Consumer (test_group_consumer_protocol.cpp tests that): a minimal
// driver here carries out its actions over the Pool (FindCoordinator, Metadata, ConsumerGroupHeartbeat,
// timers), answers a Revoke at once and an OffsetFetch with "nothing committed" (no commits are made here;
// offsets are not what is tested).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <catch2/catch.hpp>

#include "helpers.hpp"
#include "kafkawire/group/consumer_group_member.hpp"
#include "kafkawire/net/coordinator_request.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
namespace cg = kafkawire::group::consumer_group;
using kafkawire::testing::create_topic;
using kafkawire::testing::unique;

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// Who owns what, across members: an Assign of a partition another member still owns is an overlap.
struct Owners {
  std::map<group::TopicPartition, std::string> owner;
  std::vector<std::string> overlaps;
};

class Driver {
 public:
  Driver(asio::io_context& io, std::string group, std::string member_id, Owners& owners)
      : io_(io), owners_(owners), name_(member_id) {
    net::PoolOptions opts;
    REQUIRE_FALSE(net::parse_bootstrap(kafkawire::testing::bootstrap(), opts.bootstrap));
    pool_ = net::Pool::create(io.get_executor(), opts);
    cg::MemberConfig c;
    c.group_id = std::move(group);
    c.member_id = std::move(member_id);
    c.max_poll_interval = 60s;
    c.log = [this](std::string_view line) { log_.emplace_back(line); };
    m_ = std::make_unique<cg::Member>(std::move(c));
    for (auto& t : timers_) t = std::make_unique<asio::steady_timer>(io);
  }

  void feed(const cg::Event& e) {
    for (auto& a : m_->on_event(e, group::Clock::now())) execute(a);
  }
  const cg::Member& member() const { return *m_; }
  std::set<group::TopicPartition> owned() const {
    auto v = m_->owned();
    return {v.begin(), v.end()};
  }
  std::vector<std::string> errors;        // Error actions
  std::vector<int16_t> heartbeat_errors;  // heartbeat answers' error codes (a new group's coordinator
                                          // answers NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS first)
  std::vector<int16_t> leave_answers;     // error codes of the leave heartbeat's answers
  int heartbeats = 0;
  int revokes = 0;
  std::string log_text() const {
    std::string s;
    for (const auto& l : log_) s += name_ + ": " + l + "\n";
    return s;
  }

 private:
  void execute(cg::Action& action) {
    std::visit(Overloaded{
                   [&](group::action::FindCoordinator& a) {
                     spawn([this, g = a.group_id]() -> asio::awaitable<void> {
                       pool_->forget_coordinator(g);
                       auto [ec, b] = co_await pool_->find_coordinator(g);
                       if (ec)
                         feed(group::event::CoordinatorFailed{ec});
                       else
                         feed(group::event::CoordinatorFound{b.node_id});
                     });
                   },
                   [&](cg::action::RequestMetadata&) {
                     spawn([this]() -> asio::awaitable<void> {
                       auto [ec, none] = co_await pool_->refresh_metadata(std::nullopt);
                       if (ec) {
                         feed(group::event::RequestFailed{group::Api::metadata, 0, 0, ec});
                         co_return;
                       }
                       cg::event::MetadataUpdated u;
                       for (const auto& [name, t] : pool_->metadata().topics()) u.topic_names[t.id] = name;
                       feed(u);
                     });
                   },
                   [&](cg::action::SendHeartbeat& a) {
                     ++heartbeats;
                     spawn([this, a]() -> asio::awaitable<void> {
                       auto [ec, reply] =
                           co_await net::send_at_negotiated<protocol::ConsumerGroupHeartbeatRequest>(
                               *pool_, a.node, net::Purpose::group, [&](int16_t) { return a.request; });
                       if (ec) {
                         feed(group::event::RequestFailed{group::Api::heartbeat, a.tag, 0, ec});
                         co_return;
                       }
                       if (a.request.member_epoch < 0) leave_answers.push_back(reply->error_code);
                       if (reply->error_code) heartbeat_errors.push_back(reply->error_code);
                       feed(cg::event::HeartbeatResult{a.tag, reply.message});
                     });
                   },
                   [&](cg::action::SendOffsetFetch& a) {
                     group::event::OffsetFetchResult r{a.tag, 0, {}};
                     for (const auto& tp : a.partitions)
                       r.partitions.push_back({tp, std::nullopt, -1, std::nullopt, 0});
                     post(r);
                   },
                   [&](group::action::SendOffsetCommit&) { FAIL("no commits in this test"); },
                   [&](group::action::ArmTimer& a) {
                     const size_t k = static_cast<size_t>(a.kind);
                     const uint64_t seq = ++seq_[k];
                     timers_[k]->expires_at(a.at);
                     timers_[k]->async_wait([this, k, seq, kind = a.kind](boost::system::error_code ec) {
                       if (ec || seq_[k] != seq) return;
                       feed(group::event::TimerFired{kind});
                     });
                   },
                   [&](group::action::Assign& a) {
                     for (const auto& tp : a.partitions) {
                       auto it = owners_.owner.find(tp);
                       if (it != owners_.owner.end() && it->second != name_)
                         owners_.overlaps.push_back(kafkawire::to_string(tp) + " assigned to " + name_ +
                                                    " while " + it->second + " owns it");
                       owners_.owner[tp] = name_;
                     }
                   },
                   [&](group::action::Revoke& a) {
                     ++revokes;
                     release(a.partitions);
                     post(group::event::RevokeDone{});
                   },
                   [&](group::action::Lost& a) { release(a.partitions); },
                   [&](group::action::InitPositions&) {},
                   [&](group::action::CommitCompleted&) {},
                   [&](group::action::Error& a) { errors.push_back(a.text); },
               },
               action);
  }
  void release(const std::vector<group::TopicPartition>& parts) {
    for (const auto& tp : parts)
      if (auto it = owners_.owner.find(tp); it != owners_.owner.end() && it->second == name_)
        owners_.owner.erase(it);
  }
  void post(cg::Event e) {
    asio::post(io_, [this, e = std::move(e)] { feed(e); });
  }
  // co_spawn keeps the lambda (and so its captures) alive while its coroutine runs.
  template <class F>
  void spawn(F f) {
    asio::co_spawn(io_, std::move(f), asio::detached);
  }

  asio::io_context& io_;
  Owners& owners_;
  std::string name_;
  std::shared_ptr<net::Pool> pool_;
  std::unique_ptr<cg::Member> m_;
  std::array<std::unique_ptr<asio::steady_timer>, group::kTimerKinds> timers_;
  std::array<uint64_t, group::kTimerKinds> seq_{};
  std::vector<std::string> log_;
};

// Runs the io_context until pred() or the deadline.
template <class Pred>
bool run_for(asio::io_context& io, std::chrono::seconds limit, Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) {
    io.run_for(50ms);
    if (io.stopped()) io.restart();
  }
  return pred();
}

std::set<group::TopicPartition> all_of(const std::string& topic, int32_t n) {
  std::set<group::TopicPartition> s;
  for (int32_t p = 0; p < n; ++p) s.insert({topic, p});
  return s;
}

}  // namespace

TEST_CASE("consumer group member: one member joins, owns every partition, heartbeats, leaves",
          "[broker][consumer_group]") {
  asio::io_context io;
  const std::string topic = unique("kip848-one");
  create_topic(io, topic, 3);
  const std::string group = unique("kip848-g1");
  Owners owners;
  Driver a(io, group, unique("member-a"), owners);
  a.feed(cg::event::Subscribe{{topic}, std::nullopt});
  INFO(a.log_text());
  REQUIRE(run_for(io, 30s,
                  [&] { return a.member().state() == cg::State::stable && a.owned() == all_of(topic, 3); }));
  CHECK(a.member().member_epoch() > 0);
  CHECK(a.errors.empty());

  // Heartbeats go on, partial ones, and the broker keeps answering without error.
  const int before = a.heartbeats;
  run_for(io, 12s, [] { return false; });
  INFO(a.log_text());  // as it is now
  CHECK(a.heartbeats > before);
  CHECK(a.member().state() == cg::State::stable);
  CHECK(a.errors.empty());
  // Once stable, no heartbeat was refused: the broker takes the partial ones.
  const auto refused = a.heartbeat_errors.size();
  run_for(io, 6s, [] { return false; });
  CHECK(a.heartbeat_errors.size() == refused);

  a.feed(cg::event::Close{});
  REQUIRE(run_for(io, 10s, [&] { return a.member().state() == cg::State::left; }));
  REQUIRE(a.leave_answers.size() == 1);
  CHECK(a.leave_answers.front() == 0);
  CHECK(owners.owner.empty());
}

TEST_CASE("consumer group member: two members share a topic, never owning a partition twice",
          "[broker][consumer_group]") {
  asio::io_context io;
  const std::string topic = unique("kip848-two");
  create_topic(io, topic, 4);
  const std::string group = unique("kip848-g2");
  Owners owners;
  Driver a(io, group, unique("member-a"), owners);
  Driver b(io, group, unique("member-b"), owners);
  a.feed(cg::event::Subscribe{{topic}, std::nullopt});
  if (!run_for(io, 30s, [&] { return a.member().state() == cg::State::stable && a.owned().size() == 4; }))
    FAIL(a.log_text());

  b.feed(cg::event::Subscribe{{topic}, std::nullopt});
  auto shared = [&] {
    if (a.member().state() != cg::State::stable || b.member().state() != cg::State::stable) return false;
    auto both = a.owned();
    for (const auto& tp : b.owned()) both.insert(tp);
    return !a.owned().empty() && !b.owned().empty() && both == all_of(topic, 4) &&
           a.owned().size() + b.owned().size() == 4;
  };
  if (!run_for(io, 60s, shared)) FAIL(a.log_text() << b.log_text());
  CHECK(owners.overlaps.empty());
  CHECK(a.revokes >= 1);  // A gave up what B got, before B got it
  CHECK(b.revokes == 0);
  CHECK(a.errors.empty());
  CHECK(b.errors.empty());

  // B leaves: A gets everything back.
  b.feed(cg::event::Close{});
  if (!run_for(io, 60s, [&] { return b.member().state() == cg::State::left && a.owned().size() == 4; }))
    FAIL(a.log_text() << b.log_text());
  CHECK(owners.overlaps.empty());
  a.feed(cg::event::Close{});
  run_for(io, 10s, [&] { return a.member().state() == cg::State::left; });
  CHECK(a.member().state() == cg::State::left);
}
