// Topic administration: see admin.hpp. Two steps every operation is built on: send_to (where a request
// goes, at the version both sides speak) and, for requests with per-topic results, per_topic (the retry
// loop the error policy drives).
#include "kafkawire/consumer/admin.hpp"

#include <algorithm>
#include <set>

#include "kafkawire/net/retry.hpp"
#include "kafkawire/protocol/create_topics.hpp"
#include "kafkawire/protocol/delete_topics.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/metadata.hpp"

namespace kafkawire {

namespace proto = kafkawire::protocol;
using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

template <class Req>
using ReplyTo = net::Reply<typename Req::response_type>;

std::string error_name(std::error_code ec) {
  if (ec.category() == kafka_category())
    if (const auto* e = find_kafka_error(static_cast<int16_t>(ec.value()))) return std::string(e->name);
  return ec.message();
}

// Where a request goes (Java's Admin NodeProviders): the controller Metadata names, or any broker.
enum class Target { controller, any_broker };

// Sends make(version) to `target` at the highest version both sides speak (at least min_version).
// refresh: ask for the metadata first (the controller moved, or its connection was lost).
template <class Req, class Make>
asio::awaitable<std::tuple<std::error_code, ReplyTo<Req>>> send_to(net::Pool& pool, Target target,
                                                                   bool refresh, Make make,
                                                                   int16_t min_version = Req::min_version) {
  auto keep = pool.shared_from_this();
  std::shared_ptr<net::Connection> conn;
  std::error_code ec;
  if (target == Target::controller) {
    auto known = [&] {
      const int32_t id = pool.metadata().controller_id();
      return id >= 0 && pool.metadata().broker(id) != nullptr;
    };
    if (refresh || !known()) {
      auto [mec, none] = co_await pool.refresh_metadata(std::vector<std::string>{});
      if (mec) co_return std::tuple{mec, ReplyTo<Req>{}};
    }
    // A broker that names no controller (Metadata v0) takes the request itself.
    if (known())
      std::tie(ec, conn) = co_await pool.connection(pool.metadata().controller_id(), net::Purpose::general);
    else
      std::tie(ec, conn) = co_await pool.any_connection();
  } else {
    std::tie(ec, conn) = co_await pool.any_connection();
  }
  if (ec) co_return std::tuple{ec, ReplyTo<Req>{}};
  const auto version = conn->negotiated_version(Req::api_key, min_version, Req::max_version);
  if (!version) co_return std::tuple{std::error_code(client_errc::unsupported_version), ReplyTo<Req>{}};
  const Req request = make(*version);
  co_return co_await conn->async_send_at(request, *version, use_nothrow);
}

// Every failed topic, with the broker's words: "orders: TOPIC_ALREADY_EXISTS: Topic 'orders' already
// exists.; payments: INVALID_REPLICATION_FACTOR: ...".
template <class T>
std::pair<std::error_code, std::string> outcome_of(const std::vector<T>& topics) {
  std::error_code first;
  std::string text;
  for (const auto& t : topics) {
    if (!t.ec) continue;
    if (!first) first = t.ec;
    text += (text.empty() ? "" : "; ") + t.error_text();
  }
  return {first, text};
}

// The deadline of one call, the request timeout cut at it.
struct Deadline {
  clock::time_point at;
  milliseconds request_timeout;
  int32_t request_timeout_ms() const {
    const auto left = std::chrono::duration_cast<milliseconds>(at - clock::now());
    return static_cast<int32_t>(std::clamp<int64_t>(std::min(left, request_timeout).count(), 1, INT32_MAX));
  }
};

// The retry loop of a request with per-topic (or per-resource) results: CreateTopics and DeleteTopics
// now; CreatePartitions (to the controller) and DescribeConfigs (to any broker) fit it too. Sends
// make(pending names, version, timeout_ms) to `target`, takes each topic's
// answer from read(reply), and sends again the topics whose answer the error policy of `family` retries
// (refreshing the metadata first when it says so), until none is left or the deadline passes. Then each
// topic still pending gets its last answer, or client_errc::timeout when it never had one. Returns the
// outcome of every name, in order; R derives from TopicOutcome.
template <class Req, class R, class Make, class Read>
asio::awaitable<std::vector<R>> per_topic(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                          Target target, ApiFamily family, std::vector<std::string> names,
                                          Make make, Read read) {
  const Deadline deadline{clock::now() + timing.timeout, timing.request_timeout};
  net::RetryBudget budget(deadline.at, timing.retry_backoff, timing.retry_backoff_max);
  std::map<std::string, R> done;
  std::map<std::string, R> last;  // the last answer of a topic that is being retried
  std::vector<std::string> pending;
  for (const auto& n : names)
    if (std::find(pending.begin(), pending.end(), n) == pending.end()) pending.push_back(n);
  bool refresh = false;
  std::string last_problem;  // why the last attempt got no answer
  auto finish = [&](const std::string& n, std::error_code ec, std::string message) {
    R r;
    r.name = n;
    r.ec = ec;
    r.error_message = std::move(message);
    done[n] = std::move(r);
  };
  while (!pending.empty()) {
    const int32_t timeout_ms = deadline.request_timeout_ms();
    auto [ec, reply] = co_await send_to<Req>(
        *pool, target, refresh, [&](int16_t version) { return make(pending, version, timeout_ms); });
    refresh = false;
    if (ec) {
      const ErrorAction action = error_action(family, ec);
      last_problem = pool->describe(ec);
      if (!is_retry(action)) {
        for (const auto& n : pending) finish(n, ec, last_problem);
        pending.clear();
        break;
      }
      refresh = action == ErrorAction::refresh_metadata;
    } else {
      std::vector<std::string> again;
      std::vector<R> answers = read(reply);
      for (auto& a : answers) {
        if (std::find(pending.begin(), pending.end(), a.name) == pending.end()) continue;
        const ErrorAction action = error_action(family, a.ec);
        if (is_retry(action)) {
          refresh = refresh || action == ErrorAction::refresh_metadata;
          again.push_back(a.name);
          last[a.name] = std::move(a);
        } else {
          last.erase(a.name);
          done[a.name] = std::move(a);
        }
      }
      for (const auto& n : pending)
        if (!done.count(n) && std::find(again.begin(), again.end(), n) == again.end())
          finish(n, client_errc::malformed, "the broker's answer left this topic out");
      pending = std::move(again);
    }
    if (pending.empty()) break;
    if (!co_await net::wait_to_retry(pool->get_executor(), budget)) {
      for (const auto& n : pending) {
        if (auto it = last.find(n); it != last.end())
          done[n] = std::move(it->second);
        else
          finish(n, client_errc::timeout,
                 "no answer within " + std::to_string(timing.timeout.count()) + " ms (last: " + last_problem +
                     ")");
      }
      break;
    }
  }
  std::vector<R> out;
  std::set<std::string> seen;
  for (const auto& n : names)
    if (seen.insert(n).second) out.push_back(std::move(done[n]));
  co_return out;
}

// Metadata for `topics` (nullopt: every topic) from any broker, never creating one, retried as the
// metadata policy says (a lost connection, a top-level error it retries) until the deadline. The answer
// also goes into the pool's metadata cache.
asio::awaitable<std::tuple<std::error_code, ReplyTo<proto::MetadataRequest>>> metadata(
    std::shared_ptr<net::Pool> pool, Admin::Timing timing, std::optional<std::vector<std::string>> topics,
    std::string& problem) {
  net::RetryBudget budget(clock::now() + timing.timeout, timing.retry_backoff, timing.retry_backoff_max);
  for (;;) {
    // v1+: a null topic array is "every topic" (v0 had no way to ask for none).
    auto [ec, reply] = co_await send_to<proto::MetadataRequest>(
        *pool, Target::any_broker, false,
        [&](int16_t) {
          proto::MetadataRequest req;
          if (topics) {
            req.topics.emplace();
            for (const auto& t : *topics) req.topics->push_back({{}, t});
          } else {
            req.topics.reset();
          }
          req.allow_auto_topic_creation = false;
          return req;
        },
        1);
    if (!ec && reply->error_code) ec = make_kafka_error(reply->error_code);
    if (!ec) {
      pool->metadata().update(reply.message);
      co_return std::tuple{ec, std::move(reply)};
    }
    problem = "Metadata: " + pool->describe(ec);
    if (!is_retry(error_action(ApiFamily::metadata, ec)) ||
        !co_await net::wait_to_retry(pool->get_executor(), budget))
      co_return std::tuple{ec, ReplyTo<proto::MetadataRequest>{}};
  }
}

PartitionDescription partition_of(const proto::MetadataResponse::MetadataResponsePartition& p) {
  return {p.partition_index,
          p.leader_id,
          p.leader_epoch,
          p.replica_nodes,
          p.isr_nodes,
          p.offline_replicas,
          p.error_code ? make_kafka_error(p.error_code) : std::error_code{}};
}

}  // namespace

std::string TopicOutcome::error_text() const {
  if (!ec) return {};
  std::string s = name + ": " + error_name(ec);
  if (!error_message.empty())
    s += ": " + error_message;
  else if (ec.category() == kafka_category())
    if (const auto* e = find_kafka_error(static_cast<int16_t>(ec.value())))
      s += ": " + std::string(e->message);
  return s;
}

Admin::Admin(executor_type ex, Config config)
    : executor_(ex), config_(std::move(config)), pool_(net::Pool::create(ex, pool_options(config_))) {
  timing_.timeout = config_.default_api_timeout;
  timing_.request_timeout = config_.request_timeout;
  timing_.retry_backoff = config_.retry_backoff;
  timing_.retry_backoff_max = std::max(config_.retry_backoff, config_.reconnect_backoff_max);
}

Admin::~Admin() { pool_->close(); }

// ------------------------------------------------------------------------------------ list, describe

// The calls' coroutines take what they use by value: one may start after its Admin is gone (the pool's
// close then ends it with operation_aborted).
namespace {

Admin::Result<TopicListing> list_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing) {
  AdminResult<TopicListing> out;
  auto [ec, reply] = co_await metadata(pool, timing, std::nullopt, out.error_text);
  if (ec) co_return std::tuple{ec, std::move(out)};
  out.error_text.clear();
  for (const auto& t : reply->topics) {
    if (t.error_code || !t.name) continue;
    TopicListing l{*t.name, t.topic_id, t.is_internal, static_cast<int32_t>(t.partitions.size()), 0};
    for (const auto& p : t.partitions)
      if (p.partition_index == 0) l.replication_factor = static_cast<int32_t>(p.replica_nodes.size());
    out.topics.push_back(std::move(l));
  }
  std::sort(out.topics.begin(), out.topics.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  co_return std::tuple{std::error_code{}, std::move(out)};
}

Admin::Result<TopicDescription> describe_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                              std::vector<std::string> topics) {
  AdminResult<TopicDescription> out;
  if (topics.empty()) co_return std::tuple{std::error_code{}, std::move(out)};
  std::string problem;
  auto [ec, reply] = co_await metadata(pool, timing, topics, problem);
  std::set<std::string> seen;
  for (const auto& name : topics) {
    if (!seen.insert(name).second) continue;
    TopicDescription d;
    d.name = name;
    if (ec) {
      d.ec = ec;
      d.error_message = problem;
      out.topics.push_back(std::move(d));
      continue;
    }
    auto it = std::find_if(reply->topics.begin(), reply->topics.end(),
                           [&](const auto& t) { return t.name && *t.name == name; });
    if (it == reply->topics.end()) {
      d.ec = kafka_errc::unknown_topic_or_partition;  // the broker left it out
    } else if (it->error_code) {
      d.ec = make_kafka_error(it->error_code);
    } else {
      d.topic_id = it->topic_id;
      d.internal = it->is_internal;
      for (const auto& p : it->partitions) d.partitions.push_back(partition_of(p));
      std::sort(d.partitions.begin(), d.partitions.end(),
                [](const auto& a, const auto& b) { return a.partition < b.partition; });
    }
    out.topics.push_back(std::move(d));
  }
  if (ec) {
    out.error_text = "describe " + std::to_string(out.topics.size()) + " topic(s): " + problem;
    co_return std::tuple{ec, std::move(out)};
  }
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

// ------------------------------------------------------------------------------------ create, delete

Admin::Result<CreatedTopic> create_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                        std::vector<NewTopic> topics, CreateTopicsOptions options) {
  using Req = proto::CreateTopicsRequest;
  std::vector<std::string> names;
  for (const auto& t : topics) names.push_back(t.name);
  // -1 partitions or replication factor (the broker's defaults) needs v4+; an older broker refuses it.
  auto make = [&topics, options](const std::vector<std::string>& pending, int16_t, int32_t timeout_ms) {
    Req req;
    req.timeout_ms = timeout_ms;
    req.validate_only = options.validate_only;
    for (const auto& name : pending) {
      const auto it =
          std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.name == name; });
      Req::CreatableTopic c;
      c.name = it->name;
      c.num_partitions = it->partitions;
      c.replication_factor = it->replication_factor;
      for (const auto& [p, brokers] : it->replica_assignment) c.assignments.push_back({p, brokers});
      for (const auto& [k, v] : it->configs) c.configs.push_back({k, v});
      req.topics.push_back(std::move(c));
    }
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    std::vector<CreatedTopic> answers;
    for (const auto& t : reply->topics) {
      CreatedTopic c;
      c.name = t.name;
      c.ec = t.error_code ? make_kafka_error(t.error_code) : std::error_code{};
      c.error_message = t.error_message.value_or("");
      c.topic_id = t.topic_id;
      c.partitions = t.num_partitions;
      c.replication_factor = t.replication_factor;
      if (t.configs)
        for (const auto& cfg : *t.configs)
          c.configs.push_back({cfg.name, cfg.value, cfg.read_only, cfg.config_source, cfg.is_sensitive});
      answers.push_back(std::move(c));
    }
    return answers;
  };
  AdminResult<CreatedTopic> out;
  out.topics = co_await per_topic<Req, CreatedTopic>(pool, timing, Target::controller, ApiFamily::topic_admin,
                                                     names, make, read);
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

Admin::Result<DeletedTopic> delete_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                        std::vector<std::string> topics) {
  using Req = proto::DeleteTopicsRequest;
  auto make = [](const std::vector<std::string>& pending, int16_t version, int32_t timeout_ms) {
    Req req;
    req.timeout_ms = timeout_ms;
    for (const auto& name : pending) {
      if (version >= 6)
        req.topics.push_back({name, {}});
      else
        req.topic_names.push_back(name);
    }
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    std::vector<DeletedTopic> answers;
    for (const auto& t : reply->responses) {
      DeletedTopic d;
      d.name = t.name.value_or("");
      d.ec = t.error_code ? make_kafka_error(t.error_code) : std::error_code{};
      d.error_message = t.error_message.value_or("");
      d.topic_id = t.topic_id;
      answers.push_back(std::move(d));
    }
    return answers;
  };
  AdminResult<DeletedTopic> out;
  out.topics = co_await per_topic<Req, DeletedTopic>(pool, timing, Target::controller, ApiFamily::topic_admin,
                                                     std::move(topics), make, read);
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

}  // namespace

Admin::Result<TopicListing> Admin::list_topics() { return list_impl(pool_, timing_); }
Admin::Result<TopicDescription> Admin::describe_topics(std::vector<std::string> topics) {
  return describe_impl(pool_, timing_, std::move(topics));
}
Admin::Result<CreatedTopic> Admin::create_topics(std::vector<NewTopic> topics, CreateTopicsOptions options) {
  return create_impl(pool_, timing_, std::move(topics), options);
}
Admin::Result<DeletedTopic> Admin::delete_topics(std::vector<std::string> topics) {
  return delete_impl(pool_, timing_, std::move(topics));
}

}  // namespace kafkawire
