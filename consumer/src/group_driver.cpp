// Carries out what the group state machine (group/coordinator.hpp) decides: it sends the requests over the
// pool's group connection to the coordinator, arms the timers, and moves partitions in and out of the
// consumer's assignment. The machine never sees a socket; this file never decides anything.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>

#include "kafkawire/consumer/consumer.hpp"
#include "partition_state.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
namespace ev = kafkawire::group::event;
namespace act = kafkawire::group::action;
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

}  // namespace

void Consumer::subscribe(std::vector<std::string> topics) {
  if (config_.group_id.empty()) throw ConfigError("group.id", "group.id: subscribe() needs a consumer group");
  pattern_.reset();
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  subscription_ = topics;
  if (!group_) {
    group::MemberConfig mc;
    mc.group_id = config_.group_id;
    mc.group_instance_id = config_.group_instance_id;
    mc.session_timeout = config_.session_timeout;
    mc.max_poll_interval = config_.max_poll_interval;
    mc.heartbeat_interval = config_.heartbeat_interval;
    mc.assignors = config_.partition_assignment_strategy;
    mc.retry_backoff = config_.retry_backoff;
    mc.retry_backoff_max = std::max(config_.retry_backoff, config_.reconnect_backoff_max);
    if (const char* env = std::getenv("KAFKAWIRE_GROUP_LOG"); env && *env)
      mc.log = [](std::string_view line) {
        std::fprintf(stderr, "kafkawire group: %.*s\n", static_cast<int>(line.size()), line.data());
      };
    group_ = std::make_unique<group::GroupMember>(std::move(mc));
    group_timers_.clear();
    group_timer_seq_.assign(group::kTimerKinds, 0);
    for (size_t i = 0; i < group::kTimerKinds; ++i)
      group_timers_.push_back(std::make_unique<asio::steady_timer>(executor_));
    assign({});
    dispatch(ev::Start{std::move(topics)});
  } else {
    dispatch(ev::SubscriptionChanged{std::move(topics)});
  }
  wake();
}

void Consumer::subscribe(const std::regex& pattern) {
  pattern_ = pattern;
  subscription_.clear();
  if (config_.group_id.empty()) throw ConfigError("group.id", "group.id: subscribe() needs a consumer group");
  refresh_pattern_subscription();
}

void Consumer::refresh_pattern_subscription() {
  if (!pattern_) return;
  std::vector<std::string> matching;
  for (const auto& [name, t] : pool_->metadata().topics())
    if (!t.internal && t.error_code == 0 && std::regex_match(name, *pattern_)) matching.push_back(name);
  if (group_ && matching == subscription_) return;
  auto pattern = std::move(pattern_);
  subscribe(std::move(matching));
  pattern_ = std::move(pattern);
}

// Every metadata.max.age.ms, the leader of a stable group looks at the partition counts of the group's
// topics again (an unasked MetadataUpdated): a topic that grew (CreatePartitions) makes it rebalance, so
// the new partitions get an owner. In the background, so the poll that triggers it does not wait.
void Consumer::maybe_refresh_group_metadata() {
  if (!group_ || group_metadata_in_flight_ || group_->state() != group::State::stable || !group_->is_leader())
    return;
  const auto now = clock::now();
  if (now - group_metadata_refreshed_ < config_.metadata_max_age) return;
  group_metadata_refreshed_ = now;
  group_metadata_in_flight_ = true;
  asio::co_spawn(
      executor_,
      [this, alive = alive_, topics = group_->metadata_topics()]() mutable -> asio::awaitable<void> {
        auto [ec, none] = co_await pool_->refresh_metadata(topics);
        if (!*alive) co_return;
        group_metadata_in_flight_ = false;
        // Only while stable: in `assigning` the machine waits for the answer to its own RequestMetadata,
        // and would take this one for it.
        if (ec || !group_ || group_->state() != group::State::stable) co_return;
        dispatch(partition_counts(pool_->metadata(), topics));
        wake();
      },
      asio::detached);
}

void Consumer::unsubscribe() {
  pattern_.reset();
  subscription_.clear();
  if (group_) dispatch(ev::SubscriptionChanged{{}});
}

void Consumer::dispatch(group::Event event) {
  if (!group_) return;
  auto actions = group_->on_event(event, clock::now());
  for (auto& a : actions) execute(a);
}

template <class Req, class Done>
void Consumer::send_group_request(int32_t node, Req request, std::shared_ptr<const void> keep_alive,
                                  std::chrono::milliseconds extra_wait, Done done) {
  auto alive = alive_;
  asio::co_spawn(
      executor_,
      [this, alive, node, request = std::move(request), keep_alive = std::move(keep_alive), extra_wait,
       done = std::move(done)]() mutable -> asio::awaitable<void> {
        // OffsetCommit v10 / OffsetFetch v10 name topics by id: fill them in from the metadata.
        if constexpr (std::is_same_v<Req, proto::OffsetCommitRequest>) {
          for (auto& t : request.topics)
            if (const auto* info = pool_->metadata().topic(t.name)) t.topic_id = info->id;
        } else if constexpr (std::is_same_v<Req, proto::OffsetFetchRequest>) {
          for (auto& g : request.groups)
            if (g.topics)
              for (auto& t : *g.topics)
                if (const auto* info = pool_->metadata().topic(t.name)) t.topic_id = info->id;
        }
        auto [ec, reply] = co_await pool_->send(node, net::Purpose::group, request, extra_wait);
        if (!*alive) co_return;
        if constexpr (std::is_same_v<Req, proto::OffsetCommitRequest>) {
          if (!ec && reply.version >= 10)
            for (auto& t : reply.message.topics)
              if (const auto* info = pool_->metadata().topic_by_id(t.topic_id)) t.name = info->name;
        } else if constexpr (std::is_same_v<Req, proto::OffsetFetchRequest>) {
          if (!ec && reply.version >= 10)
            for (auto& g : reply.message.groups)
              for (auto& t : g.topics)
                if (const auto* info = pool_->metadata().topic_by_id(t.topic_id)) t.name = info->name;
        }
        (void)keep_alive;
        done(ec, std::move(reply));
      },
      asio::detached);
}

void Consumer::execute(group::Action& action) {
  auto alive = alive_;
  std::visit(
      Overloaded{
          [&](act::FindCoordinator& a) {
            asio::co_spawn(
                executor_,
                [this, alive, group = a.group_id]() -> asio::awaitable<void> {
                  pool_->forget_coordinator(group);  // the machine asks only when the old one is no good
                  auto [ec, broker] = co_await pool_->find_coordinator(group);
                  if (!*alive) co_return;
                  if (ec)
                    dispatch(ev::CoordinatorFailed{ec});
                  else
                    dispatch(ev::CoordinatorFound{broker.node_id});
                  wake();
                },
                asio::detached);
          },
          [&](act::RequestMetadata& a) {
            asio::co_spawn(
                executor_,
                [this, alive, topics = a.topics]() mutable -> asio::awaitable<void> {
                  auto [ec, none] = co_await pool_->refresh_metadata(topics);
                  if (!*alive) co_return;
                  if (ec) {
                    dispatch(ev::RequestFailed{group::Api::metadata, 0, 0, ec});
                    co_return;
                  }
                  dispatch(partition_counts(pool_->metadata(), topics));
                  wake();
                },
                asio::detached);
          },
          [&](act::SendJoinGroup& a) {
            const group::Tag tag = a.tag;
            // The broker holds JoinGroup until every member rejoined or the rebalance timeout passed.
            send_group_request(a.node, std::move(a.request), std::move(a.keep_alive),
                               config_.max_poll_interval + std::chrono::seconds(5),
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
            send_group_request(a.node, std::move(a.request), std::move(a.keep_alive),
                               config_.max_poll_interval,
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
            send_group_request(a.node, std::move(a.request), nullptr, {},
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
            send_group_request(a.node, std::move(a.request), nullptr, {},
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
            send_group_request(
                a.node, std::move(a.request), nullptr, {},
                [this, tag, id](std::error_code ec, net::Reply<proto::OffsetCommitResponse> r) {
                  if (ec)
                    dispatch(ev::RequestFailed{group::Api::offset_commit, tag, id, ec});
                  else
                    dispatch(ev::OffsetCommitResult{tag, id, std::move(r.message)});
                  wake();
                });
          },
          [&](act::SendOffsetFetch& a) {
            const group::Tag tag = a.tag;
            send_group_request(a.node, std::move(a.request), nullptr, {},
                               [this, tag](std::error_code ec, net::Reply<proto::OffsetFetchResponse> r) {
                                 if (ec)
                                   dispatch(ev::RequestFailed{group::Api::offset_fetch, tag, 0, ec});
                                 else
                                   dispatch(ev::OffsetFetchResult{tag, std::move(r.message)});
                                 wake();
                               });
          },
          [&](act::ArmTimer& a) {
            const size_t k = static_cast<size_t>(a.kind);
            const uint64_t seq = ++group_timer_seq_[k];
            auto& timer = *group_timers_[k];
            timer.expires_at(a.at);
            timer.async_wait([this, alive, k, seq, kind = a.kind](boost::system::error_code) {
              // A timer armed again since (or cancelled) is not this one.
              if (!*alive || group_timer_seq_[k] != seq) return;
              dispatch(ev::TimerFired{kind});
              wake();
            });
          },
          [&](act::Assign& a) {
            apply_assignment_change(a.partitions, {});
            if (listener_.on_assigned) listener_.on_assigned(a.partitions);
          },
          [&](act::Revoke& a) { asio::co_spawn(executor_, revoke_then_done(a.partitions), asio::detached); },
          [&](act::Lost& a) {
            if (listener_.on_lost) listener_.on_lost(a.partitions);
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
            std::string text;
            for (const auto& r : a.results) {
              if (r.ec && !first) {
                first = r.ec;
                text = "commit " + to_string(r.tp) + ": " + r.ec.message();
              }
              if (!r.ec)
                if (auto* p = state(r.tp)) p->committed = r.offset;
            }
            if (first) set_error(text);
            it->second.result = first;
            it->second.results = a.results;
            it->second.finished = true;
            it->second.done->cancel();
          },
          [&](act::Error& a) {
            set_error(a.text.empty() ? a.ec.message() : a.text);
            fetch_error_ = a.ec;
            wake();
          },
      },
      action);
}

asio::awaitable<void> Consumer::revoke_then_done(std::vector<TopicPartition> partitions) {
  auto alive = alive_;
  if (listener_.on_revoked) {
    listener_.on_revoked(partitions);
  } else if (!config_.group_id.empty()) {
    // Default: commit what was processed, so the next owner starts right after it.
    std::map<TopicPartition, int64_t> offsets;
    for (const auto& tp : partitions)
      if (auto* p = state(tp); p && p->buffer.position() && p->buffer.position() != p->committed)
        offsets[tp] = *p->buffer.position();
    if (!offsets.empty()) {
      auto [ec, none] = co_await commit_through_group(std::move(offsets));
      (void)ec;  // a failed commit here must not hold up the rebalance; the error is in error_text()
    }
  }
  if (!*alive) co_return;
  apply_assignment_change({}, partitions);
  dispatch(ev::RevokeDone{});
  wake();
}

void Consumer::apply_assignment_change(const std::vector<TopicPartition>& add,
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

namespace {

// A commit that may succeed if sent again, once the group has (re)found its coordinator: the coordinator
// moved, is loading, or could not be reached. Not: a partition no longer owned, a generation that is gone
// (the rebalance decides), a fenced instance.
bool commit_retriable(std::error_code ec) {
  if (ec == client_errc::disconnected || ec == client_errc::timeout) return true;
  // Refused, reset, unreachable (from the OS, by way of std or Boost: compared by name).
  const std::string_view category = ec.category().name();
  if (category == "system" || category == "generic") return true;
  return ec == make_kafka_error(14) ||  // COORDINATOR_LOAD_IN_PROGRESS
         ec == make_kafka_error(15) ||  // COORDINATOR_NOT_AVAILABLE
         ec == make_kafka_error(16) ||  // NOT_COORDINATOR
         ec == make_kafka_error(7);     // REQUEST_TIMED_OUT
}

}  // namespace

// Like Java's commitSync: what fails because the coordinator moved or is loading is sent again (after
// retry.backoff.ms, through whatever coordinator the group finds) until default.api.timeout.ms passes.
net::Pool::Result<std::monostate> Consumer::commit_through_group(std::map<TopicPartition, int64_t> offsets) {
  auto alive = alive_;
  const auto deadline = clock::now() + config_.default_api_timeout;
  std::error_code first_error;
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) {
      asio::steady_timer t(executor_, std::min<clock::duration>(config_.retry_backoff * std::min(attempt, 10),
                                                                std::chrono::seconds(1)));
      co_await t.async_wait(use_nothrow);
      if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    }
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
    auto& waiter = commit_waiters_[id];
    waiter.done = std::make_shared<asio::steady_timer>(executor_, deadline);
    auto done = waiter.done;
    dispatch(std::move(req));
    if (!commit_waiters_[id].finished) co_await done->async_wait(use_nothrow);
    if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    auto it = commit_waiters_.find(id);
    if (!it->second.finished) {
      commit_waiters_.erase(it);
      set_error("commit: no answer within default.api.timeout.ms");
      co_return std::tuple{std::error_code(client_errc::timeout), std::monostate{}};
    }
    std::map<TopicPartition, int64_t> again;
    for (const auto& r : it->second.results) {
      if (!r.ec) continue;
      if (commit_retriable(r.ec) && clock::now() < deadline)
        again[r.tp] = r.offset;
      else if (!first_error)
        first_error = r.ec;
    }
    commit_waiters_.erase(it);
    if (again.empty() || group_->state() == group::State::fatal) break;
    offsets = std::move(again);
  }
  co_return std::tuple{first_error, std::monostate{}};
}

}  // namespace kafkawire
