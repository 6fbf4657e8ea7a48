// Carries out what the group state machine (group/coordinator.hpp) decides: it sends the requests over the
// pool's group connection to the coordinator, arms the timers, and moves partitions in and out of the
// consumer's assignment. The machine never sees a socket; this file never decides anything.
#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "consumer_core.hpp"
#include "kafkawire/consumer/group_requests.hpp"
#include "kafkawire/net/coordinator_request.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
namespace ev = kafkawire::group::event;
namespace act = kafkawire::group::action;
namespace cg = kafkawire::group::consumer_group;
using clock = std::chrono::steady_clock;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

// What the metadata cache says of the group's topics, as the state machine takes it: partition counts of
// the topics known without error (a missing topic counts as none).
ev::MetadataUpdated partition_counts(const net::MetadataCache& metadata,
                                     const std::vector<std::string>& topics) {
  ev::MetadataUpdated m;
  for (const auto& t : topics)
    if (const auto* info = metadata.topic(t); info && info->error_code == 0)
      m.partition_counts[t] = static_cast<int32_t>(info->partitions.size());
  return m;
}

// Topic ids and names as the metadata cache knows them, for OffsetCommit/OffsetFetch v10+.
group_requests::TopicIdOf topic_id_of(net::Pool& pool) {
  return [&pool](const std::string& name) {
    const auto* info = pool.metadata().topic(name);
    return info ? info->id : proto::Uuid{};
  };
}

// A KIP-848 member's view of the metadata: the name of every topic id the cache knows.
cg::event::MetadataUpdated topic_names(const net::MetadataCache& metadata) {
  cg::event::MetadataUpdated m;
  for (const auto& [name, info] : metadata.topics())
    if (info.error_code == 0 && info.id != proto::Uuid{}) m.topic_names[info.id] = name;
  return m;
}

// KIP-1082: a consumer-protocol member names itself, once for the consumer's life, with a random UUID in
// Kafka's text form (as Java's Uuid.randomUuid().toString()).
std::string random_member_id() {
  std::random_device rd;
  std::array<uint8_t, 16> bytes{};
  for (size_t i = 0; i < bytes.size(); i += 4) {
    const uint32_t r = rd();
    for (size_t j = 0; j < 4; ++j) bytes[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  bytes[6] = static_cast<uint8_t>((bytes[6] & 0x0f) | 0x40);  // version 4 (random), variant 1, as Java's
  bytes[8] = static_cast<uint8_t>((bytes[8] & 0x3f) | 0x80);
  return proto::base64(proto::Bytes(bytes.data(), bytes.size()), true);
}

group_requests::TopicNameOf topic_name_of(net::Pool& pool) {
  return [&pool](const proto::Uuid& id) {
    const auto* info = pool.metadata().topic_by_id(id);
    return info ? info->name : std::string();
  };
}

}  // namespace

void Consumer::Core::subscribe(std::vector<std::string> topics) {
  if (config_.group_id.empty()) throw ConfigError("group.id", "group.id: subscribe() needs a consumer group");
  pattern_.reset();
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  subscription_ = topics;
  const bool starting = !in_group();
  if (starting) {
    start_group_machine();
    assign({});
  }
  if (consumer_group_) {
    // The broker names assigned topics by id. Asked now, alongside the join (as Java's consumer asks for
    // its subscription's metadata), the ids are usually known by the time the first target arrives, so
    // the member does not wait for a metadata round trip before it takes its partitions.
    if (!topics.empty())
      spawn([this, wanted = topics]() -> asio::awaitable<void> {
        auto [ec, none] = co_await pool_->refresh_metadata(wanted);
        if (ec || !consumer_group_) co_return;  // the member asks again itself if it needs the names
        dispatch(topic_names(pool_->metadata()));
        wake();
      });
    dispatch(cg::event::Subscribe{std::move(topics), std::nullopt});
  } else if (starting)
    dispatch(ev::Start{std::move(topics)});
  else
    dispatch(ev::SubscriptionChanged{std::move(topics)});
  wake();
}

// The member machine group.protocol names, with the timers its actions arm.
void Consumer::Core::start_group_machine() {
  std::function<void(std::string_view)> log;
  if (const char* env = std::getenv("KAFKAWIRE_GROUP_LOG"); env && *env)
    log = [](std::string_view line) {
      std::fprintf(stderr, "kafkawire group: %.*s\n", static_cast<int>(line.size()), line.data());
    };
  const auto backoff_max = std::max(config_.retry_backoff, config_.reconnect_backoff_max);
  if (config_.group_protocol == GroupProtocol::consumer) {
    cg::MemberConfig mc;
    mc.group_id = config_.group_id;
    mc.member_id = random_member_id();
    mc.group_instance_id = config_.group_instance_id;
    mc.server_assignor = config_.group_remote_assignor;
    mc.max_poll_interval = config_.max_poll_interval;
    mc.retry_backoff = config_.retry_backoff;
    mc.retry_backoff_max = backoff_max;
    mc.log = std::move(log);
    consumer_group_ = std::make_unique<group::ConsumerGroupMember>(std::move(mc));
  } else {
    group::MemberConfig mc;
    mc.group_id = config_.group_id;
    mc.group_instance_id = config_.group_instance_id;
    mc.session_timeout = config_.session_timeout;
    mc.max_poll_interval = config_.max_poll_interval;
    mc.heartbeat_interval = config_.heartbeat_interval;
    mc.assignors = config_.partition_assignment_strategy;
    mc.retry_backoff = config_.retry_backoff;
    mc.retry_backoff_max = backoff_max;
    mc.log = std::move(log);
    group_ = std::make_unique<group::GroupMember>(std::move(mc));
  }
  group_timers_.clear();
  group_timer_seq_.assign(group::kTimerKinds, 0);
  for (size_t i = 0; i < group::kTimerKinds; ++i)
    group_timers_.push_back(std::make_unique<asio::steady_timer>(executor_));
}

int32_t Consumer::Core::group_generation() const {
  if (group_) return group_->generation();
  if (consumer_group_) return consumer_group_->commit_epoch();
  return -1;
}

std::string Consumer::Core::group_member_id() const {
  if (group_) return group_->member_id();
  if (consumer_group_) return consumer_group_->commit_member_id();
  return {};
}

bool Consumer::Core::group_failed() const {
  if (group_) return group_->state() == group::State::fatal;
  return consumer_group_ && consumer_group_->state() == cg::State::fatal;
}

bool Consumer::Core::group_finished() const {
  if (group_) return group_->state() == group::State::left || group_failed();
  return !consumer_group_ || consumer_group_->state() == cg::State::left || group_failed();
}

void Consumer::Core::subscribe(const std::regex& pattern) {
  pattern_ = pattern;
  subscription_.clear();
  if (config_.group_id.empty()) throw ConfigError("group.id", "group.id: subscribe() needs a consumer group");
  refresh_pattern_subscription();
}

// The broker matches the regular expression (KIP-848, ConsumerGroupHeartbeat v1+): topics created later
// join the subscription without this consumer looking at the cluster's topics.
void Consumer::Core::subscribe_pattern(std::string regex) {
  if (config_.group_id.empty()) throw ConfigError("group.id", "group.id: subscribe() needs a consumer group");
  if (config_.group_protocol != GroupProtocol::consumer)
    throw ConfigError(
        "group.protocol",
        "group.protocol: subscribe_pattern(): the broker matches the pattern, which needs "
        "group.protocol=consumer (with the classic protocol, subscribe with a std::regex, matched here)");
  if (regex.empty()) throw std::invalid_argument("subscribe_pattern(): an empty regular expression");
  pattern_.reset();
  subscription_.clear();
  if (!in_group()) {
    start_group_machine();
    assign({});
  }
  dispatch(cg::event::Subscribe{{}, std::move(regex)});
  wake();
}

void Consumer::Core::refresh_pattern_subscription() {
  if (!pattern_) return;
  std::vector<std::string> matching;
  for (const auto& [name, t] : pool_->metadata().topics())
    if (!t.internal && t.error_code == 0 && std::regex_match(name, *pattern_)) matching.push_back(name);
  if (in_group() && matching == subscription_) return;
  auto pattern = std::move(pattern_);
  subscribe(std::move(matching));
  pattern_ = std::move(pattern);
}

// Every metadata.max.age.ms, the leader of a stable group looks at the partition counts of the group's
// topics again (an unasked MetadataUpdated): a topic that grew (CreatePartitions) makes it rebalance, so
// the new partitions get an owner. In the background, so the poll that triggers it does not wait.
void Consumer::Core::maybe_refresh_group_metadata() {
  if (!group_ || group_metadata_in_flight_ || group_->state() != group::State::stable || !group_->is_leader())
    return;
  const auto now = clock::now();
  if (now - group_metadata_refreshed_ < config_.metadata_max_age) return;
  group_metadata_refreshed_ = now;
  group_metadata_in_flight_ = true;
  spawn([this, topics = group_->metadata_topics()]() mutable -> asio::awaitable<void> {
    auto [ec, none] = co_await pool_->refresh_metadata(topics);
    group_metadata_in_flight_ = false;
    // Only while stable: in `assigning` the machine waits for the answer to its own RequestMetadata,
    // and would take this one for it.
    if (ec || !group_ || group_->state() != group::State::stable) co_return;
    dispatch(partition_counts(pool_->metadata(), topics));
    wake();
  });
}

void Consumer::Core::unsubscribe() {
  pattern_.reset();
  subscription_.clear();
  if (group_) dispatch(ev::SubscriptionChanged{{}});
  if (consumer_group_) dispatch(cg::event::Unsubscribe{});
}

// Sends make(version) to the coordinator at the version both sides speak (at most max_version) and hands
// the answer to done. The machine decides about errors: no retries.
template <class Req, class Make, class Done>
void Consumer::Core::send_group_request(int32_t node, Make make, std::chrono::milliseconds extra_wait,
                                        int16_t max_version, Done done, int16_t min_version) {
  spawn([this, node, make = std::move(make), extra_wait, max_version, min_version,
         done = std::move(done)]() mutable -> asio::awaitable<void> {
    auto [ec, reply] = co_await net::send_at_negotiated<Req>(*pool_, node, net::Purpose::group, make,
                                                             max_version, extra_wait, min_version);
    done(ec, std::move(reply));
  });
}

namespace {

// Builds the request for an action at the version negotiated with the coordinator (group_requests.hpp).
// The builder keeps its own copy of the action: the Bytes of the request point into it.
template <class Action, class Build>
auto at_negotiated(const Action& a, Build build) {
  return [a, build](int16_t version) { return build(a, version); };
}

}  // namespace

void Consumer::Core::execute(group::Action& action) {
  std::visit(
      Overloaded{
          [&](act::FindCoordinator& a) {
            spawn([this, group = a.group_id]() -> asio::awaitable<void> {
              pool_->forget_coordinator(group);  // the machine asks only when the old one is no good
              auto [ec, broker] = co_await pool_->find_coordinator(group);
              if (ec)
                dispatch(ev::CoordinatorFailed{ec});
              else
                dispatch(ev::CoordinatorFound{broker.node_id});
              wake();
            });
          },
          [&](act::RequestMetadata& a) {
            spawn([this, topics = a.topics]() mutable -> asio::awaitable<void> {
              auto [ec, none] = co_await pool_->refresh_metadata(topics);
              if (ec) {
                dispatch(ev::RequestFailed{group::Api::metadata, 0, 0, ec});
                co_return;
              }
              dispatch(partition_counts(pool_->metadata(), topics));
              wake();
            });
          },
          [&](act::SendJoinGroup& a) {
            const group::Tag tag = a.tag;
            // The broker holds JoinGroup until every member rejoined or the rebalance timeout passed.
            send_group_request<proto::JoinGroupRequest>(
                a.node, at_negotiated(a, group_requests::join_group_request),
                config_.max_poll_interval + std::chrono::seconds(5), proto::JoinGroupRequest::max_version,
                [this, tag](std::error_code ec, net::Reply<proto::JoinGroupResponse> r) {
                  if (ec)
                    dispatch(ev::RequestFailed{group::Api::join_group, tag, 0, ec});
                  else
                    dispatch(ev::JoinGroupResult{tag, std::move(r.message)});
                  wake();
                });
          },
          [&](act::SendSyncGroup& a) {
            const group::Tag tag = a.tag;
            send_group_request<proto::SyncGroupRequest>(
                a.node, at_negotiated(a, group_requests::sync_group_request), config_.max_poll_interval,
                proto::SyncGroupRequest::max_version,
                [this, tag](std::error_code ec, net::Reply<proto::SyncGroupResponse> r) {
                  if (ec) {
                    dispatch(ev::RequestFailed{group::Api::sync_group, tag, 0, ec});
                  } else {
                    // The assignment bytes point into the frame, which dies with r.
                    auto frame = r.frame;
                    dispatch(ev::SyncGroupResult{tag, std::move(r.message)});
                  }
                  wake();
                });
          },
          [&](act::SendHeartbeat& a) {
            const group::Tag tag = a.tag;
            send_group_request<proto::HeartbeatRequest>(
                a.node, at_negotiated(a, group_requests::heartbeat_request), {},
                proto::HeartbeatRequest::max_version,
                [this, tag](std::error_code ec, net::Reply<proto::HeartbeatResponse> r) {
                  if (ec)
                    dispatch(ev::RequestFailed{group::Api::heartbeat, tag, 0, ec});
                  else
                    dispatch(ev::HeartbeatResult{tag, r->error_code});
                  wake();
                });
          },
          [&](act::SendLeaveGroup& a) {
            const group::Tag tag = a.tag;
            send_group_request<proto::LeaveGroupRequest>(
                a.node, at_negotiated(a, group_requests::leave_group_request), {},
                proto::LeaveGroupRequest::max_version,
                [this, tag](std::error_code ec, net::Reply<proto::LeaveGroupResponse> r) {
                  if (ec)
                    dispatch(ev::RequestFailed{group::Api::leave_group, tag, 0, ec});
                  else
                    dispatch(ev::LeaveGroupResult{tag, r->error_code});
                  wake();
                });
          },
          [&](act::SendOffsetCommit& a) {
            const group::Tag tag = a.tag;
            const uint64_t id = a.id;
            // OffsetCommit v10 names topics by id: from the metadata, else at most v9.
            auto query = group_requests::offset_commit_query(a, topic_id_of(*pool_));
            const int16_t max_version = group_requests::max_version(query);
            send_group_request<proto::OffsetCommitRequest>(
                a.node,
                [query = std::move(query)](int16_t version) {
                  return proto::make_offset_commit_request(query, version);
                },
                {}, max_version,
                [this, tag, id](std::error_code ec, net::Reply<proto::OffsetCommitResponse> r) {
                  if (ec) {
                    dispatch(ev::RequestFailed{group::Api::offset_commit, tag, id, ec});
                  } else {
                    dispatch(group_requests::offset_commit_result(
                        tag, id, proto::read_offset_commit_response(r.message, r.version),
                        topic_name_of(*pool_)));
                  }
                  wake();
                });
          },
          [&](act::SendOffsetFetch& a) {
            send_offset_fetch(a.node, a.tag, group_requests::offset_fetch_query(a, topic_id_of(*pool_)));
          },
          [&](act::ArmTimer& a) {
            const size_t k = static_cast<size_t>(a.kind);
            const uint64_t seq = ++group_timer_seq_[k];
            auto& timer = *group_timers_[k];
            timer.expires_at(a.at);
            // The timer belongs to the Core: the wait holds it weakly, and finds it gone or not.
            timer.async_wait([weak = weak_from_this(), k, seq, kind = a.kind](boost::system::error_code) {
              const auto self = weak.lock();
              // A timer armed again since (or cancelled) is not this one.
              if (!self || self->group_timer_seq_[k] != seq) return;
              try {
                self->dispatch(ev::TimerFired{kind});
              } catch (...) {
                self->stop(std::current_exception());  // as spawn() does for the coroutines
              }
              self->wake();
            });
          },
          [&](act::Assign& a) {
            apply_assignment_change(a.partitions, {});
            call_listener(listener_.on_assigned, "on_assigned", a.partitions);
          },
          [&](act::Revoke& a) { spawn(revoke_then_done(a.partitions)); },
          [&](act::Lost& a) {
            call_listener(listener_.on_lost, "on_lost", a.partitions);
            apply_assignment_change({}, a.partitions);
          },
          [&](act::InitPositions& a) {
            for (const auto& c : a.offsets)
              if (auto* p = state(c.tp)) {
                p->awaiting_group_offsets = false;
                if (c.offset) {
                  p->buffer.seek(*c.offset);
                  p->committed = *c.offset;
                  p->pending_reset = 0;
                } else if (!p->buffer.position() && config_.auto_offset_reset != OffsetReset::none) {
                  p->pending_reset = config_.auto_offset_reset == OffsetReset::earliest ? -2 : -1;
                }
              }
          },
          [&](act::CommitCompleted& a) {
            auto it = commit_waiters_.find(a.id);
            if (it == commit_waiters_.end()) return;
            std::error_code first;
            for (const auto& r : a.results) {
              if (r.ec && !first) first = r.ec;
              if (!r.ec)
                if (auto* p = state(r.tp)) p->committed = r.offset;
            }
            it->second.result = first;
            it->second.results = a.results;
            it->second.finished = true;
            it->second.done->cancel();
          },
          [&](act::Error& a) { fail_next_poll(a.ec, a.text.empty() ? a.ec.message() : a.text); },
      },
      action);
}

// OffsetFetch to the coordinator, for either machine's SendOffsetFetch.
void Consumer::Core::send_offset_fetch(int32_t node, group::Tag tag, proto::OffsetFetchQuery query) {
  const int16_t max_version = group_requests::max_version(query);
  std::string group = query.group_id;
  send_group_request<proto::OffsetFetchRequest>(
      node,
      [query = std::move(query)](int16_t version) {
        return proto::make_offset_fetch_request(query, version);
      },
      {}, max_version,
      [this, tag, group = std::move(group)](std::error_code ec, net::Reply<proto::OffsetFetchResponse> r) {
        if (ec) {
          dispatch(ev::RequestFailed{group::Api::offset_fetch, tag, 0, ec});
        } else {
          dispatch(group_requests::offset_fetch_result(
              tag, proto::read_offset_fetch_response(r.message, group, r.version), topic_name_of(*pool_)));
        }
        wake();
      });
}

// The KIP-848 member's actions: its own (heartbeats, metadata by topic id, OffsetFetch with the member
// epoch); the ones it shares with GroupMember are carried out as for it.
void Consumer::Core::execute(cg::Action& action) {
  std::visit(Overloaded{
                 [&](cg::action::RequestMetadata&) {
                   // Every topic: the ids asked for are of topics this consumer may not know by name.
                   spawn([this]() -> asio::awaitable<void> {
                     auto [ec, none] = co_await pool_->refresh_metadata(std::nullopt);
                     if (ec)
                       dispatch(ev::RequestFailed{group::Api::metadata, 0, 0, ec});
                     else
                       dispatch(topic_names(pool_->metadata()));
                     wake();
                   });
                 },
                 [&](cg::action::SendHeartbeat& a) {
                   const group::Tag tag = a.tag;
                   // SubscribedTopicRegex exists from v1: a broker with only v0 gets no heartbeat that
                   // would drop it (the member fails with unsupported_version, as Java's).
                   const int16_t least = a.request.subscribed_topic_regex ? 1 : 0;
                   send_group_request<proto::ConsumerGroupHeartbeatRequest>(
                       a.node, [request = std::move(a.request)](int16_t) { return request; }, {},
                       proto::ConsumerGroupHeartbeatRequest::max_version,
                       [this, tag](std::error_code ec, net::Reply<proto::ConsumerGroupHeartbeatResponse> r) {
                         if (ec)
                           dispatch(ev::RequestFailed{group::Api::heartbeat, tag, 0, ec});
                         else
                           dispatch(cg::event::HeartbeatResult{tag, std::move(r.message)});
                         wake();
                       },
                       least);
                 },
                 [&](cg::action::SendOffsetFetch& a) {
                   auto query = group_requests::offset_fetch_query(a, topic_id_of(*pool_));
                   send_offset_fetch(a.node, a.tag, std::move(query));
                 },
                 [&](auto& shared) {
                   group::Action same(std::move(shared));
                   execute(same);
                 },
             },
             action);
}

asio::awaitable<void> Consumer::Core::revoke_then_done(std::vector<TopicPartition> partitions) {
  // Spawned: the Consumer may have been closed or destroyed since the machine asked. Then no listener
  // runs (it may point at what the application destroyed with the Consumer).
  if (stage_ != Stage::open) co_return;
  if (listener_.on_revoked) {
    call_listener(listener_.on_revoked, "on_revoked", partitions);
  } else if (config_.enable_auto_commit && !config_.group_id.empty()) {
    // Default with enable.auto.commit (as Java's coordinator commits before a rebalance): commit what was
    // processed, so the next owner starts right after it. Without it, nothing is committed behind the
    // application's back: its offsets may belong in a transaction, or after processing it has not done.
    std::map<TopicPartition, int64_t> offsets;
    for (const auto& tp : partitions)
      if (auto* p = state(tp); p && p->buffer.position() && p->buffer.position() != p->committed)
        offsets[tp] = *p->buffer.position();
    if (!offsets.empty() && closing_deadline_) {
      // Closing: through the coordinator-request helper, which finds a moved coordinator again, within
      // the close's deadline (the group machine leaves a commit refused with NOT_COORDINATOR alone
      // unless the member is stable).
      (void)co_await commit_on_close(std::move(offsets), *closing_deadline_);
    } else if (!offsets.empty()) {
      // A failed commit here must not hold up the rebalance; the next owner starts from the last commit.
      (void)co_await commit_through_group(std::move(offsets));
    }
  }
  if (stage_ != Stage::open) co_return;
  apply_assignment_change({}, partitions);
  dispatch(ev::RevokeDone{});
  wake();
}

void Consumer::Core::call_listener(const std::function<void(const std::vector<TopicPartition>&)>& callback,
                                   std::string_view name, const std::vector<TopicPartition>& partitions) {
  if (!callback) return;
  try {
    callback(partitions);
  } catch (...) {
    if (listener_thrown_) return;  // the first one is reported, as Java does
    listener_thrown_ = std::current_exception();
    std::string what = "unknown exception";
    try {
      throw;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    listener_text_ =
        "rebalance listener " + std::string(name) + "(" + partition_list(partitions) + ") threw: " + what;
    wake();
  }
}

void Consumer::Core::apply_assignment_change(const std::vector<TopicPartition>& add,
                                             const std::vector<TopicPartition>& remove) {
  std::vector<TopicPartition> next;
  for (const auto& [tp, p] : parts_)
    if (std::find(remove.begin(), remove.end(), tp) == remove.end()) next.push_back(tp);
  for (const auto& tp : add)
    if (std::find(next.begin(), next.end(), tp) == next.end()) next.push_back(tp);
  assign(next);
  // Partitions a group hands us start from the committed offset the machine fetches (InitPositions).
  for (const auto& tp : add)
    if (auto* p = state(tp); p && !p->buffer.position()) {
      p->pending_reset = 0;
      p->awaiting_group_offsets = true;
    }
}

// Like Java's commitSync: what fails because the coordinator moved, is loading or could not be reached
// (the error policy's retries for OffsetCommit) is sent again through whatever coordinator the group
// finds, with retry.backoff.ms growing, until default.api.timeout.ms passes. Not: a partition no longer
// owned, a generation that is gone (the rebalance decides), a fenced instance.
asio::awaitable<Outcome<std::monostate>> Consumer::Core::commit_through_group(
    std::map<TopicPartition, int64_t> offsets) {
  using Result = Outcome<std::monostate>;
  net::RetryBudget budget(clock::now() + config_.default_api_timeout, config_.retry_backoff,
                          std::max(config_.retry_backoff, config_.reconnect_backoff_max));
  std::vector<group::CommitOutcome> failed;
  int32_t generation = -1;  // the generation the last attempt was made in, for the error text
  for (;;) {
    const uint64_t id = next_commit_id_++;
    ev::CommitRequested req;
    req.id = id;
    for (const auto& [tp, off] : offsets) {
      group::OffsetToCommit o;
      o.tp = tp;
      o.offset = off;
      if (auto* p = state(tp)) o.leader_epoch = p->buffer.position_epoch();
      o.metadata = "";
      req.offsets.push_back(std::move(o));
    }
    generation = group_generation();
    auto& waiter = commit_waiters_[id];
    waiter.done = std::make_shared<asio::steady_timer>(executor_, budget.deadline());
    auto done = waiter.done;
    dispatch(std::move(req));
    if (!commit_waiters_[id].finished) co_await done->async_wait(use_nothrow);
    auto it = commit_waiters_.find(id);
    if (stage_ != Stage::open) {  // closed, stopped or destroyed while waiting (shut_down woke it)
      commit_waiters_.erase(it);
      co_return Result{failure_.ec, failure_.text, {}};
    }
    if (!it->second.finished) {
      commit_waiters_.erase(it);
      std::vector<TopicPartition> unanswered;
      for (const auto& [tp, off] : offsets) unanswered.push_back(tp);
      co_return Result{client_errc::timeout,
                       "commit to group " + config_.group_id + ": " + partition_list(unanswered) +
                           ": no answer within default.api.timeout.ms",
                       {}};
    }
    std::vector<group::CommitOutcome> again;
    for (const auto& r : it->second.results) {
      if (!r.ec) continue;
      (is_retry(error_action(ApiFamily::offset_commit, r.ec)) ? again : failed).push_back(r);
    }
    commit_waiters_.erase(it);
    if (again.empty()) break;
    // Out of time (or the member stopped): what would have been retried failed with its last error.
    if (group_failed() || !co_await net::wait_to_retry(executor_, budget)) {
      failed.insert(failed.end(), again.begin(), again.end());
      break;
    }
    if (stage_ != Stage::open) co_return Result{failure_.ec, failure_.text, {}};
    offsets.clear();
    for (const auto& r : again) offsets[r.tp] = r.offset;
  }
  if (failed.empty()) co_return Result{};
  co_return Result{failed.front().ec, commit_failure_text(config_.group_id, generation, failed), {}};
}

}  // namespace kafkawire
