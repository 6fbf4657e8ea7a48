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
#include "kafkawire/net/coordinator_request.hpp"
#include "kafkawire/protocol/error_policy.hpp"
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

// Sends make(version) to the coordinator at the version both sides speak (at most max_version) and hands
// the answer to done, unless the Consumer is gone by then. The machine decides about errors: no retries.
template <class Req, class Make, class Done>
void Consumer::send_group_request(int32_t node, Make make, std::shared_ptr<const void> keep_alive,
                                  std::chrono::milliseconds extra_wait, int16_t max_version, Done done) {
  auto alive = alive_;
  asio::co_spawn(
      executor_,
      [this, alive, pool = pool_, node, make = std::move(make), keep_alive = std::move(keep_alive),
       extra_wait, max_version, done = std::move(done)]() mutable -> asio::awaitable<void> {
        auto [ec, reply] = co_await net::send_at_negotiated<Req>(*pool, node, net::Purpose::group, make,
                                                                 max_version, extra_wait);
        if (!*alive) co_return;
        (void)keep_alive;
        done(ec, std::move(reply));
      },
      asio::detached);
}

namespace {

// The request an action carries, as send_group_request builds it: the same at every version.
template <class Req>
auto as_is(Req request) {
  return [request = std::move(request)](int16_t) { return request; };
}

}  // namespace

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
            send_group_request<proto::JoinGroupRequest>(
                a.node, as_is(std::move(a.request)), std::move(a.keep_alive),
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
                a.node, as_is(std::move(a.request)), std::move(a.keep_alive), config_.max_poll_interval,
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
                a.node, as_is(std::move(a.request)), nullptr, {}, proto::HeartbeatRequest::max_version,
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
                a.node, as_is(std::move(a.request)), nullptr, {}, proto::LeaveGroupRequest::max_version,
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
            bool ids_known = true;
            for (auto& o : a.request.offsets)
              if (const auto* info = pool_->metadata().topic(o.topic); info && info->id != proto::Uuid{})
                o.topic_id = info->id;
              else
                ids_known = false;
            send_group_request<proto::OffsetCommitRequest>(
                a.node,
                [query = std::move(a.request)](int16_t version) {
                  return proto::make_offset_commit_request(query, version);
                },
                nullptr, {}, proto::offset_api_max_version(ids_known),
                [this, tag, id](std::error_code ec, net::Reply<proto::OffsetCommitResponse> r) {
                  if (ec) {
                    dispatch(ev::RequestFailed{group::Api::offset_commit, tag, id, ec});
                  } else {
                    auto answers = proto::read_offset_commit_response(r.message, r.version);
                    for (auto& p : answers)
                      if (const auto* info = pool_->metadata().topic_by_id(p.topic_id);
                          p.topic.empty() && info)
                        p.topic = info->name;
                    dispatch(ev::OffsetCommitResult{tag, id, std::move(answers)});
                  }
                  wake();
                });
          },
          [&](act::SendOffsetFetch& a) {
            const group::Tag tag = a.tag;
            bool ids_known = true;
            for (auto& t : *a.request.topics)
              if (const auto* info = pool_->metadata().topic(t.topic); info && info->id != proto::Uuid{})
                t.topic_id = info->id;
              else
                ids_known = false;
            send_group_request<proto::OffsetFetchRequest>(
                a.node,
                [query = a.request](int16_t version) {
                  return proto::make_offset_fetch_request(query, version);
                },
                nullptr, {}, proto::offset_api_max_version(ids_known),
                [this, tag, group = a.request.group_id](std::error_code ec,
                                                        net::Reply<proto::OffsetFetchResponse> r) {
                  if (ec) {
                    dispatch(ev::RequestFailed{group::Api::offset_fetch, tag, 0, ec});
                  } else {
                    auto answer = proto::read_offset_fetch_response(r.message, group, r.version);
                    for (auto& p : answer.partitions)
                      if (const auto* info = pool_->metadata().topic_by_id(p.topic_id);
                          p.topic.empty() && info)
                        p.topic = info->name;
                    dispatch(ev::OffsetFetchResult{tag, std::move(answer)});
                  }
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
    if (!offsets.empty() && closing_deadline_) {
      // Closing: through the coordinator-request helper, which finds a moved coordinator again, within
      // the close's deadline (the group machine leaves a commit refused with NOT_COORDINATOR alone
      // unless the member is stable).
      (void)co_await commit_on_close(std::move(offsets), *closing_deadline_);
    } else if (!offsets.empty()) {
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

// Like Java's commitSync: what fails because the coordinator moved, is loading or could not be reached
// (the error policy's retries for OffsetCommit) is sent again through whatever coordinator the group
// finds, with retry.backoff.ms growing, until default.api.timeout.ms passes. Not: a partition no longer
// owned, a generation that is gone (the rebalance decides), a fenced instance.
net::Pool::Result<std::monostate> Consumer::commit_through_group(std::map<TopicPartition, int64_t> offsets) {
  auto alive = alive_;
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
    generation = group_->generation();
    auto& waiter = commit_waiters_[id];
    waiter.done = std::make_shared<asio::steady_timer>(executor_, budget.deadline());
    auto done = waiter.done;
    dispatch(std::move(req));
    if (!commit_waiters_[id].finished) co_await done->async_wait(use_nothrow);
    if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    auto it = commit_waiters_.find(id);
    if (!it->second.finished) {
      commit_waiters_.erase(it);
      std::vector<TopicPartition> unanswered;
      for (const auto& [tp, off] : offsets) unanswered.push_back(tp);
      set_error("commit to group " + config_.group_id + ": " + partition_list(unanswered) +
                ": no answer within default.api.timeout.ms");
      co_return std::tuple{std::error_code(client_errc::timeout), std::monostate{}};
    }
    std::vector<group::CommitOutcome> again;
    for (const auto& r : it->second.results) {
      if (!r.ec) continue;
      (is_retry(error_action(ApiFamily::offset_commit, r.ec)) ? again : failed).push_back(r);
    }
    commit_waiters_.erase(it);
    if (again.empty()) break;
    // Out of time (or the member stopped): what would have been retried failed with its last error.
    if (group_->state() == group::State::fatal || !co_await net::wait_to_retry(executor_, budget)) {
      failed.insert(failed.end(), again.begin(), again.end());
      break;
    }
    if (!*alive) co_return std::tuple{std::error_code(client_errc::operation_aborted), std::monostate{}};
    offsets.clear();
    for (const auto& r : again) offsets[r.tp] = r.offset;
  }
  if (failed.empty()) co_return std::tuple{std::error_code{}, std::monostate{}};
  set_error(commit_failure_text(config_.group_id, generation, failed));
  co_return std::tuple{failed.front().ec, std::monostate{}};
}

}  // namespace kafkawire
