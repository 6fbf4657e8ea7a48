// Topic administration: see admin.hpp. Two steps every operation is built on: send_to (where a request
// goes, at the version both sides speak) and, for requests with per-topic results, per_topic (the retry
// loop the error policy drives).
#include "kafkawire/consumer/admin.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "kafkawire/net/retry.hpp"
#include "kafkawire/protocol/create_partitions.hpp"
#include "kafkawire/protocol/create_topics.hpp"
#include "kafkawire/protocol/delete_records.hpp"
#include "kafkawire/protocol/delete_topics.hpp"
#include "kafkawire/protocol/describe_configs.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/incremental_alter_configs.hpp"
#include "kafkawire/protocol/list_offsets.hpp"
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

// Where a request goes (Java's Admin NodeProviders): the controller Metadata names, any broker, or one
// broker (a partition's leader, a broker whose configs are asked for).
struct Target {
  enum Kind { controller, any_broker, broker };
  Target(Kind k, int32_t n = -1) : kind(k), node(n) {}
  Kind kind;
  int32_t node;  // for broker
};

// Sends make(version) to `target` at the highest version both sides speak (at least min_version).
// refresh: ask for the metadata first (the controller moved, or its connection was lost). A broker the
// metadata does not name (after a refresh) is client_errc::invalid_argument.
template <class Req, class Make>
asio::awaitable<std::tuple<std::error_code, ReplyTo<Req>>> send_to(net::Pool& pool, Target target,
                                                                   bool refresh, Make make,
                                                                   int16_t min_version = Req::min_version) {
  auto keep = pool.shared_from_this();
  std::shared_ptr<net::Connection> conn;
  std::error_code ec;
  if (target.kind == Target::controller) {
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
  } else if (target.kind == Target::broker) {
    if (refresh || pool.metadata().broker(target.node) == nullptr) {
      auto [mec, none] = co_await pool.refresh_metadata(std::vector<std::string>{});
      if (mec) co_return std::tuple{mec, ReplyTo<Req>{}};
    }
    if (pool.metadata().broker(target.node) == nullptr)
      co_return std::tuple{std::error_code(client_errc::invalid_argument), ReplyTo<Req>{}};
    std::tie(ec, conn) = co_await pool.connection(target.node, net::Purpose::general);
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

// One topic's (resource's) answer from a response's Name, ErrorCode, ErrorMessage.
template <class R>
R answer(std::string name, int16_t error_code, const std::optional<std::string>& error_message) {
  R r;
  r.name = std::move(name);
  r.ec = error_code ? make_kafka_error(error_code) : std::error_code{};
  r.error_message = error_message.value_or("");
  return r;
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

// The retry loop of a request with per-topic (or per-resource) results: CreateTopics, DeleteTopics and
// CreatePartitions (to the controller), DescribeConfigs and IncrementalAlterConfigs (to any broker, or the
// broker a resource names). Sends make(pending names, version, timeout_ms) to `target`, takes each topic's
// answer from read(reply), and sends again the topics whose answer the error policy of `family` retries
// (refreshing the metadata first when it says so), until none is left or the deadline passes. Then each
// topic still pending gets its last answer, or client_errc::timeout when it never had one. Names in
// `refused` (bad input found before sending) are not sent: their answer is the one given. Returns the
// outcome of every name, in order; R derives from TopicOutcome.
template <class Req, class R, class Make, class Read>
asio::awaitable<std::vector<R>> per_topic(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                          Target target, ApiFamily family, std::vector<std::string> names,
                                          Make make, Read read, std::map<std::string, R> refused = {}) {
  const Deadline deadline{clock::now() + timing.timeout, timing.request_timeout};
  net::RetryBudget budget(deadline.at, timing.retry_backoff, timing.retry_backoff_max);
  std::map<std::string, R> done = std::move(refused);
  std::map<std::string, R> last;  // the last answer of a topic that is being retried
  std::vector<std::string> pending;
  for (const auto& n : names)
    if (!done.count(n) && std::find(pending.begin(), pending.end(), n) == pending.end()) pending.push_back(n);
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
      last_problem = ec == client_errc::invalid_argument && target.kind == Target::broker
                         ? "broker " + std::to_string(target.node) + " is not in the cluster"
                         : pool->describe(ec);
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

namespace {
// "<who>: <ERROR_NAME>: <the broker's message, else Kafka's text for the code>"
std::string outcome_text(const std::string& who, std::error_code ec, const std::string& message) {
  if (!ec) return {};
  std::string s = who + ": " + error_name(ec);
  if (!message.empty())
    s += ": " + message;
  else if (ec.category() == kafka_category())
    if (const auto* e = find_kafka_error(static_cast<int16_t>(ec.value())))
      s += ": " + std::string(e->message);
  return s;
}

std::string resource_label(ConfigResourceType type, const std::string& name) {
  if (type == ConfigResourceType::broker && name.empty()) return "broker default (cluster-wide)";
  return std::string(to_string(type)) + " " + name;
}
}  // namespace

std::string TopicOutcome::error_text() const { return outcome_text(name, ec, error_message); }
std::string ConfigResourceOutcome::error_text() const {
  return outcome_text(resource_label(type, name), ec, error_message);
}
std::string DeletedRecords::error_text() const {
  return outcome_text(name + " partition " + std::to_string(partition), ec, error_message);
}

std::string_view to_string(ConfigResourceType t) noexcept {
  switch (t) {
    case ConfigResourceType::topic:
      return "topic";
    case ConfigResourceType::broker:
      return "broker";
    case ConfigResourceType::broker_logger:
      return "broker-logger";
  }
  return "?";
}

std::string_view config_source_name(int8_t source) noexcept {
  using S = proto::ConfigSource;
  switch (source) {
    case S::kTopicConfig:
      return "DYNAMIC_TOPIC_CONFIG";
    case S::kDynamicBrokerConfig:
      return "DYNAMIC_BROKER_CONFIG";
    case S::kDynamicDefaultBrokerConfig:
      return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case S::kStaticBrokerConfig:
      return "STATIC_BROKER_CONFIG";
    case S::kDefaultConfig:
      return "DEFAULT_CONFIG";
    case S::kDynamicBrokerLoggerConfig:
      return "DYNAMIC_BROKER_LOGGER_CONFIG";
    case S::kClientMetricsConfig:
      return "CLIENT_METRICS_CONFIG";
    case S::kGroupConfig:
      return "GROUP_CONFIG";
    default:
      return "UNKNOWN";
  }
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
      auto c = answer<CreatedTopic>(t.name, t.error_code, t.error_message);
      c.topic_id = t.topic_id;
      c.partitions = t.num_partitions;
      c.replication_factor = t.replication_factor;
      if (t.configs)
        for (const auto& cfg : *t.configs)
          c.configs.push_back({.name = cfg.name,
                               .value = cfg.value,
                               .read_only = cfg.read_only,
                               .source = cfg.config_source,
                               .sensitive = cfg.is_sensitive});
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
      auto d = answer<DeletedTopic>(t.name.value_or(""), t.error_code, t.error_message);
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

// ------------------------------------------------------------------------------------ create partitions

// A client-side refusal of bad input, answered without sending anything.
template <class R>
R refusal(std::string name, std::string why) {
  R r;
  r.name = std::move(name);
  r.ec = client_errc::invalid_argument;
  r.error_message = std::move(why);
  return r;
}

Admin::Result<CreatedPartitions> create_partitions_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                                        std::vector<NewPartitions> topics,
                                                        CreatePartitionsOptions options) {
  using Req = proto::CreatePartitionsRequest;
  std::vector<std::string> names;
  std::map<std::string, CreatedPartitions> refused;
  for (const auto& t : topics) {
    names.push_back(t.topic);
    if (t.topic.empty())
      refused.emplace(t.topic, refusal<CreatedPartitions>(t.topic, "a topic needs a name"));
    else if (t.total_count < 1)
      refused.emplace(t.topic, refusal<CreatedPartitions>(t.topic, "the new partition count " +
                                                                       std::to_string(t.total_count) +
                                                                       " is not 1 or more"));
  }
  auto make = [&topics, options](const std::vector<std::string>& pending, int16_t, int32_t timeout_ms) {
    Req req;
    req.timeout_ms = timeout_ms;
    req.validate_only = options.validate_only;
    for (const auto& name : pending) {
      const auto it =
          std::find_if(topics.begin(), topics.end(), [&](const auto& t) { return t.topic == name; });
      Req::CreatePartitionsTopic c;
      c.name = it->topic;
      c.count = it->total_count;
      if (!it->assignments.empty()) {
        c.assignments.emplace();
        for (const auto& brokers : it->assignments) c.assignments->push_back({brokers});
      }
      req.topics.push_back(std::move(c));
    }
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    std::vector<CreatedPartitions> answers;
    for (const auto& t : reply->results)
      answers.push_back(answer<CreatedPartitions>(t.name, t.error_code, t.error_message));
    return answers;
  };
  AdminResult<CreatedPartitions> out;
  out.topics =
      co_await per_topic<Req, CreatedPartitions>(pool, timing, Target::controller, ApiFamily::topic_admin,
                                                 std::move(names), make, read, std::move(refused));
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

// ------------------------------------------------------------------------------------------ configs

// Where a config resource's requests go, as Java's Admin sends them: a broker's configs (and its loggers')
// to that broker, which alone answers for itself; a topic's, and the cluster-wide broker default (""), to
// any broker. nullopt: any broker.
std::optional<int32_t> node_of(const ConfigResource& r) {
  if (r.type == ConfigResourceType::topic || r.name.empty()) return std::nullopt;
  int32_t id = -1;
  const char* end = r.name.data() + r.name.size();
  auto [ptr, err] = std::from_chars(r.name.data(), end, id);
  if (err != std::errc{} || ptr != end) return -1;  // not a broker id: refused by resource_problem
  return id;
}

// What is wrong with a resource before anything is sent ("" when nothing is).
std::string resource_problem(const ConfigResource& r, const net::MetadataCache& md) {
  switch (r.type) {
    case ConfigResourceType::topic:
      return r.name.empty() ? "a topic needs a name" : "";
    case ConfigResourceType::broker:
    case ConfigResourceType::broker_logger: {
      if (r.name.empty())
        return r.type == ConfigResourceType::broker ? "" : "a broker logger resource needs a broker id";
      const auto id = node_of(r);
      if (!id || *id < 0) return "'" + r.name + "' is not a broker id";
      if (md.broker(*id) == nullptr) {
        std::string known;
        for (const auto& [node, b] : md.brokers())
          known += (known.empty() ? "" : ", ") + std::to_string(node);
        return "broker " + r.name + " is not in the cluster (brokers: " + (known.empty() ? "none" : known) +
               ")";
      }
      return "";
    }
  }
  return "unknown resource type";
}

// The per_topic loop for config resources: one loop per (type, broker it goes to), so that names are
// unique within it (topic "1" and broker 1 may both be asked for). make(type, names, version, timeout_ms)
// builds a request for resources of one type; read(reply) answers with R's name and type set. `problem`:
// what is wrong with a resource, from the caller ("" when nothing). Returns one R per distinct resource,
// in the order asked.
template <class Req, class R, class Make, class Read, class Problem>
asio::awaitable<std::vector<R>> per_resource(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                             std::vector<ConfigResource> resources, Make make, Read read,
                                             Problem problem) {
  // The brokers, to check the broker ids against.
  bool brokers_named = false;
  for (const auto& r : resources) brokers_named = brokers_named || node_of(r).has_value();
  std::error_code meta_ec;
  std::string meta_problem;
  if (brokers_named) {
    auto [mec, none] = co_await pool->refresh_metadata(std::vector<std::string>{});
    meta_ec = mec;
    if (mec) meta_problem = "Metadata: " + pool->describe(mec);
  }
  using Group = std::pair<ConfigResourceType, std::optional<int32_t>>;
  std::map<Group, std::vector<std::string>> groups;
  std::map<Group, std::map<std::string, R>> refused;
  std::vector<ConfigResource> order;
  for (const auto& r : resources) {
    if (std::find(order.begin(), order.end(), r) != order.end()) continue;
    order.push_back(r);
    const Group g{r.type, node_of(r)};
    groups[g].push_back(r.name);
    if (meta_ec && g.second && *g.second >= 0) {  // which brokers there are is not known
      R failed = refusal<R>(r.name, meta_problem);
      failed.ec = meta_ec;
      refused[g].emplace(r.name, std::move(failed));
      continue;
    }
    std::string why = resource_problem(r, pool->metadata());
    if (why.empty()) why = problem(r);
    if (!why.empty()) refused[g].emplace(r.name, refusal<R>(r.name, why));
  }
  std::map<Group, std::vector<R>> answered;
  for (auto& [g, names] : groups) {
    const ConfigResourceType type = g.first;
    const Target target = g.second ? Target(Target::broker, *g.second) : Target(Target::any_broker);
    auto answers = co_await per_topic<Req, R>(
        pool, timing, target, ApiFamily::topic_admin, names,
        [&](const std::vector<std::string>& pending, int16_t version, int32_t timeout_ms) {
          return make(type, pending, version, timeout_ms);
        },
        [&](const ReplyTo<Req>& reply) {
          std::vector<R> mine = read(reply);
          std::erase_if(mine, [&](const R& a) { return a.type != type; });
          return mine;
        },
        std::move(refused[g]));
    for (auto& a : answers) a.type = type;
    answered[g] = std::move(answers);
  }
  std::vector<R> out;
  for (const auto& r : order) {
    auto& list = answered[Group{r.type, node_of(r)}];
    auto it = std::find_if(list.begin(), list.end(), [&](const R& a) { return a.name == r.name; });
    out.push_back(std::move(*it));
  }
  co_return out;
}

template <class R, class Resource>
R resource_answer(const Resource& res) {
  R r = answer<R>(res.resource_name, res.error_code, res.error_message);
  r.type = static_cast<ConfigResourceType>(res.resource_type);
  return r;
}

Admin::Result<DescribedConfigs> describe_configs_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                                      std::vector<ConfigResource> resources,
                                                      DescribeConfigsOptions options) {
  using Req = proto::DescribeConfigsRequest;
  auto make = [options](ConfigResourceType type, const std::vector<std::string>& pending, int16_t, int32_t) {
    // DescribeConfigs has no timeout field: the broker answers from what it has.
    Req req;
    req.include_synonyms = options.include_synonyms;
    req.include_documentation = options.include_documentation;
    for (const auto& name : pending)
      req.resources.push_back({static_cast<int8_t>(type), name, std::nullopt});  // null: every key
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    std::vector<DescribedConfigs> answers;
    for (const auto& res : reply->results) {
      auto d = resource_answer<DescribedConfigs>(res);
      for (const auto& c : res.configs) {
        ConfigEntry e{.name = c.name,
                      .value = c.value,
                      .read_only = c.read_only,
                      .source = c.config_source,
                      .sensitive = c.is_sensitive,
                      .synonyms = {},
                      .documentation = c.documentation};
        if (reply.version == 0)
          e.source = c.is_default ? proto::ConfigSource::kDefaultConfig : proto::ConfigSource::kUnknown;
        for (const auto& syn : c.synonyms) e.synonyms.push_back({syn.name, syn.value, syn.source});
        d.configs.push_back(std::move(e));
      }
      std::sort(d.configs.begin(), d.configs.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      answers.push_back(std::move(d));
    }
    return answers;
  };
  AdminResult<DescribedConfigs> out;
  out.topics = co_await per_resource<Req, DescribedConfigs>(
      pool, timing, std::move(resources), make, read, [](const ConfigResource&) { return std::string(); });
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

Admin::Result<AlteredConfigs> alter_configs_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                                 std::vector<ConfigChange> changes,
                                                 AlterConfigsOptions options) {
  using Req = proto::IncrementalAlterConfigsRequest;
  // A resource given twice: its alterations together, in order.
  std::vector<ConfigChange> merged;
  for (auto& c : changes) {
    auto it =
        std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.resource == c.resource; });
    if (it == merged.end())
      merged.push_back(std::move(c));
    else
      for (auto& a : c.alterations) it->alterations.push_back(std::move(a));
  }
  std::vector<ConfigResource> resources;
  for (const auto& c : merged) resources.push_back(c.resource);
  auto change_of = [&merged](ConfigResourceType type, const std::string& name) -> const ConfigChange& {
    return *std::find_if(merged.begin(), merged.end(),
                         [&](const auto& m) { return m.resource.type == type && m.resource.name == name; });
  };
  auto problem = [&](const ConfigResource& r) -> std::string {
    const ConfigChange& c = change_of(r.type, r.name);
    if (c.alterations.empty()) return "no config to change";
    for (const auto& a : c.alterations) {
      if (a.key.empty()) return "a config key is empty";
      if (a.op != ConfigOp::remove && !a.value)
        return "'" + a.key + "' needs a value to " +
               (a.op == ConfigOp::set      ? "set"
                : a.op == ConfigOp::append ? "append"
                                           : "subtract");
      if (a.op < ConfigOp::set || a.op > ConfigOp::subtract) return "'" + a.key + "': unknown operation";
    }
    return "";
  };
  auto make = [&change_of, options](ConfigResourceType type, const std::vector<std::string>& pending, int16_t,
                                    int32_t) {
    // IncrementalAlterConfigs has no timeout field either.
    Req req;
    req.validate_only = options.validate_only;
    for (const auto& name : pending) {
      Req::AlterConfigsResource res;
      res.resource_type = static_cast<int8_t>(type);
      res.resource_name = name;
      for (const auto& a : change_of(type, name).alterations)
        res.configs.push_back(
            {a.key, static_cast<int8_t>(a.op), a.op == ConfigOp::remove ? std::nullopt : a.value});
      req.resources.push_back(std::move(res));
    }
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    std::vector<AlteredConfigs> answers;
    for (const auto& res : reply->responses) answers.push_back(resource_answer<AlteredConfigs>(res));
    return answers;
  };
  AdminResult<AlteredConfigs> out;
  out.topics =
      co_await per_resource<Req, AlteredConfigs>(pool, timing, std::move(resources), make, read, problem);
  auto [first, text] = outcome_of(out.topics);
  out.error_text = std::move(text);
  co_return std::tuple{first, std::move(out)};
}

// ------------------------------------------------------------------------------------- delete records

using TopicPartition = std::pair<std::string, int32_t>;

// A partition's answer from its leader: an offset (DeleteRecords' low watermark, ListOffsets' offset) or
// an error.
struct PartitionAnswer {
  std::error_code ec{};
  std::string message{};
  int64_t offset = -1;
};

using ByTopic = std::map<std::string, std::vector<int32_t>>;

// A request's Topics[Name, Partitions[...]] for the partitions of `by_topic`, each made by part(topic, p).
template <class Topic, class Part>
std::vector<Topic> topics_of(const ByTopic& by_topic, Part part) {
  std::vector<Topic> out;
  for (const auto& [topic, ps] : by_topic) {
    Topic t;
    t.name = topic;
    for (int32_t p : ps) t.partitions.push_back(part(topic, p));
    out.push_back(std::move(t));
  }
  return out;
}

// A reply's Topics[Name, Partitions[PartitionIndex, ErrorCode, ...]] as answers, with offset(p) of each.
template <class Reply, class Offset>
std::vector<std::pair<TopicPartition, PartitionAnswer>> answers_of(const Reply& reply, Offset offset) {
  std::vector<std::pair<TopicPartition, PartitionAnswer>> out;
  for (const auto& t : reply->topics)
    for (const auto& p : t.partitions)
      out.push_back({{t.name, p.partition_index},
                     {p.error_code ? make_kafka_error(p.error_code) : std::error_code{}, "", offset(p)}});
  return out;
}

// The retry loop of a request to each partition's leader (DeleteRecords, ListOffsets): the leaders from a
// fresh Metadata for the topics; make(partitions by topic, version, timeout_ms) sent to each leader in
// turn; read(reply) the answers. A partition whose answer the error policy of `family` retries is sent
// again (after refreshing the metadata when it says so, or when its leader could not be reached) until
// the deadline; then it keeps its last answer, or client_errc::timeout. A topic the fresh metadata does
// not have, or a partition number past its count, is UNKNOWN_TOPIC_OR_PARTITION at once.
template <class Req, class Make, class Read>
asio::awaitable<std::map<TopicPartition, PartitionAnswer>> per_partition(
    std::shared_ptr<net::Pool> pool, Admin::Timing timing, ApiFamily family,
    std::vector<TopicPartition> partitions, Make make, Read read) {
  const Deadline deadline{clock::now() + timing.timeout, timing.request_timeout};
  net::RetryBudget budget(deadline.at, timing.retry_backoff, timing.retry_backoff_max);
  std::map<TopicPartition, PartitionAnswer> done, last;
  std::set<TopicPartition> pending(partitions.begin(), partitions.end());
  // The leaders the pool knows, unless a topic's are unknown, marked stale or older than metadata.max.age.ms.
  bool refresh = false;
  for (const auto& tp : pending) refresh = refresh || pool->needs_metadata(tp.first);
  std::string last_problem = "no attempt";
  while (!pending.empty()) {
    const bool fresh = refresh;  // the metadata comes from this round: its "no such topic" is an answer
    if (refresh) {
      std::set<std::string> names;
      for (const auto& tp : pending) names.insert(tp.first);
      Admin::Timing left = timing;
      left.timeout =
          std::max(milliseconds(1), std::chrono::duration_cast<milliseconds>(deadline.at - clock::now()));
      std::string problem;
      auto [mec, reply] =
          co_await metadata(pool, left, std::vector<std::string>(names.begin(), names.end()), problem);
      if (mec) {
        for (const auto& tp : pending) done[tp] = last.count(tp) ? last[tp] : PartitionAnswer{mec, problem};
        break;
      }
      refresh = false;
    }
    std::map<int32_t, std::vector<TopicPartition>> by_leader;
    std::set<TopicPartition> again;
    for (const auto& tp : pending) {
      const net::TopicInfo* t = pool->metadata().topic(tp.first);
      std::error_code topic_ec = !t              ? make_error_code(kafka_errc::unknown_topic_or_partition)
                                 : t->error_code ? make_kafka_error(t->error_code)
                                                 : std::error_code{};
      const bool no_partition =
          !topic_ec && (tp.second < 0 || static_cast<size_t>(tp.second) >= t->partitions.size());
      if (no_partition || topic_ec == kafka_errc::unknown_topic_or_partition) {
        PartitionAnswer a{kafka_errc::unknown_topic_or_partition,
                          no_partition ? "topic " + tp.first + " has " +
                                             std::to_string(t->partitions.size()) + " partition(s)"
                                       : "topic " + tp.first + " does not exist"};
        if (fresh) {
          done[tp] = std::move(a);
        } else {  // the pool's metadata may be behind: ask for it again first
          last[tp] = std::move(a);
          again.insert(tp);
          refresh = true;
        }
        continue;
      }
      // No leader, or one the metadata no longer names as a broker (it left the cluster): ask again.
      auto leader = topic_ec ? std::nullopt : pool->metadata().leader(tp.first, tp.second);
      if (leader && pool->metadata().broker(*leader) == nullptr) leader.reset();
      if (!leader) {
        const std::error_code ec = topic_ec ? topic_ec : make_error_code(kafka_errc::leader_not_available);
        if (!is_retry(error_action(family, ec))) {
          done[tp] = {ec, ""};
        } else {
          last[tp] = {ec, ""};
          again.insert(tp);
          refresh = true;
        }
        continue;
      }
      by_leader[*leader].push_back(tp);
    }
    for (const auto& [leader, tps] : by_leader) {
      ByTopic by_topic;
      for (const auto& tp : tps) by_topic[tp.first].push_back(tp.second);
      const int32_t timeout_ms = deadline.request_timeout_ms();
      auto [ec, reply] =
          co_await send_to<Req>(*pool, Target(Target::broker, leader), false,
                                [&](int16_t version) { return make(by_topic, version, timeout_ms); });
      if (ec) {
        last_problem = "broker " + std::to_string(leader) + ": " + pool->describe(ec);
        const bool retry = is_retry(error_action(family, ec));
        for (const auto& tp : tps) {
          if (retry) {
            last[tp] = {ec, last_problem};
            again.insert(tp);
          } else {
            done[tp] = {ec, last_problem};
          }
        }
        refresh = refresh || retry;  // the leader may be the broker that went away
        continue;
      }
      std::set<TopicPartition> answered;
      for (auto& [tp, a] : read(reply)) {
        if (std::find(tps.begin(), tps.end(), tp) == tps.end()) continue;
        answered.insert(tp);
        const ErrorAction action = error_action(family, a.ec);
        if (is_retry(action)) {
          refresh = refresh || action == ErrorAction::refresh_metadata;
          again.insert(tp);
          last[tp] = std::move(a);
        } else {
          done[tp] = std::move(a);
        }
      }
      for (const auto& tp : tps)
        if (!answered.count(tp))
          done[tp] = {client_errc::malformed, "the broker's answer left this partition out"};
    }
    pending = std::move(again);
    if (pending.empty()) break;
    if (!co_await net::wait_to_retry(pool->get_executor(), budget)) {
      for (const auto& tp : pending)
        done[tp] = last.count(tp)
                       ? last[tp]
                       : PartitionAnswer{client_errc::timeout, "no answer within " +
                                                                   std::to_string(timing.timeout.count()) +
                                                                   " ms (last: " + last_problem + ")"};
      break;
    }
  }
  co_return done;
}

// ListOffsets of partitions at a timestamp (earliest -2, latest -1), from their leaders.
asio::awaitable<std::map<TopicPartition, PartitionAnswer>> list_offsets(
    std::shared_ptr<net::Pool> pool, Admin::Timing timing, std::vector<TopicPartition> partitions,
    int64_t timestamp) {
  using Req = proto::ListOffsetsRequest;
  auto make = [timestamp](const ByTopic& by_topic, int16_t, int32_t timeout_ms) {
    Req req;
    req.replica_id = -1;
    req.timeout_ms = timeout_ms;
    req.topics = topics_of<Req::ListOffsetsTopic>(by_topic, [timestamp](const std::string&, int32_t p) {
      return Req::ListOffsetsPartition{p, -1, timestamp};
    });
    return req;
  };
  auto read = [](const ReplyTo<Req>& reply) {
    return answers_of(reply, [](const auto& p) { return p.offset; });
  };
  co_return co_await per_partition<Req>(pool, timing, ApiFamily::list_offsets, std::move(partitions), make,
                                        read);
}

// A dry run of DeleteRecords: what the leaders would answer, from ListOffsets and the topics' cleanup.policy.
asio::awaitable<void> delete_records_dry_run(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                             std::vector<TopicPartition> partitions,
                                             std::map<TopicPartition, int64_t> offsets,
                                             std::map<TopicPartition, DeletedRecords>& out) {
  auto earliest =
      co_await list_offsets(pool, timing, partitions, proto::ListOffsetsRequest::kEarliestTimestamp);
  auto latest = co_await list_offsets(pool, timing, partitions, proto::ListOffsetsRequest::kLatestTimestamp);
  // The leader refuses to delete from a topic whose cleanup.policy has no "delete" (POLICY_VIOLATION).
  std::vector<ConfigResource> topics;
  for (const auto& tp : partitions)
    if (std::find_if(topics.begin(), topics.end(), [&](const auto& r) { return r.name == tp.first; }) ==
        topics.end())
      topics.push_back({ConfigResourceType::topic, tp.first});
  auto [cec, configs] = co_await describe_configs_impl(pool, timing, topics, {});
  for (const auto& tp : partitions) {
    DeletedRecords& d = out[tp];
    const PartitionAnswer& start = earliest[tp];
    const PartitionAnswer& end = latest[tp];
    if (start.ec || end.ec) {
      d.ec = start.ec ? start.ec : end.ec;
      d.error_message = start.ec ? start.message : end.message;
      continue;
    }
    d.log_start_offset = start.offset;
    d.high_watermark = end.offset;
    if (const DescribedConfigs* c = configs.find(tp.first); c && !c->ec) {
      const ConfigEntry* policy = c->get("cleanup.policy");
      if (policy && policy->value && policy->value->find("delete") == std::string::npos) {
        d.ec = kafka_errc::policy_violation;
        d.error_message =
            "cleanup.policy=" + *policy->value + ": the leader deletes no records of this topic";
        continue;
      }
    }
    const int64_t offset = offsets[tp] == RecordsToDelete::kHighWatermark ? end.offset : offsets[tp];
    if (offset > end.offset) {
      d.ec = kafka_errc::offset_out_of_range;
      d.error_message =
          "offset " + std::to_string(offset) + " is past the high watermark " + std::to_string(end.offset);
      continue;
    }
    d.low_watermark = std::max(offset, start.offset);
  }
}

Admin::Result<DeletedRecords> delete_records_impl(std::shared_ptr<net::Pool> pool, Admin::Timing timing,
                                                  std::vector<RecordsToDelete> records,
                                                  DeleteRecordsOptions options) {
  using Req = proto::DeleteRecordsRequest;
  std::vector<TopicPartition> partitions;
  std::map<TopicPartition, int64_t> offsets;
  std::map<size_t, std::string> refused;  // by index of `records`
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    const TopicPartition tp{r.topic, r.partition};
    if (r.topic.empty())
      refused[i] = "a topic needs a name";
    else if (r.partition < 0)
      refused[i] = "partition " + std::to_string(r.partition) + " is not 0 or more";
    else if (r.before_offset < 0 && r.before_offset != RecordsToDelete::kHighWatermark)
      refused[i] =
          "offset " + std::to_string(r.before_offset) + " is not 0 or more (or -1: the high watermark)";
    else if (offsets.count(tp))
      refused[i] = "partition given twice";
    if (refused.count(i)) continue;
    partitions.push_back(tp);
    offsets[tp] = r.before_offset;
  }
  std::map<TopicPartition, DeletedRecords> answers;
  if (!partitions.empty() && options.dry_run) {
    co_await delete_records_dry_run(pool, timing, partitions, offsets, answers);
  } else if (!partitions.empty()) {
    auto make = [&offsets](const ByTopic& by_topic, int16_t, int32_t timeout_ms) {
      Req req;
      req.timeout_ms = timeout_ms;  // how long the leader waits for the followers' log start offsets
      req.topics =
          topics_of<Req::DeleteRecordsTopic>(by_topic, [&offsets](const std::string& topic, int32_t p) {
            return Req::DeleteRecordsPartition{p, offsets.at({topic, p})};
          });
      return req;
    };
    auto read = [](const ReplyTo<Req>& reply) {
      return answers_of(reply, [](const auto& p) { return p.low_watermark; });
    };
    auto result =
        co_await per_partition<Req>(pool, timing, ApiFamily::delete_records, partitions, make, read);
    for (auto& [tp, a] : result) {
      DeletedRecords& d = answers[tp];
      d.ec = a.ec;
      d.error_message = std::move(a.message);
      if (!a.ec) d.low_watermark = a.offset;
    }
  }
  AdminResult<DeletedRecords> out;
  for (size_t i = 0; i < records.size(); ++i) {
    DeletedRecords d;
    if (auto it = refused.find(i); it != refused.end()) {
      d.ec = client_errc::invalid_argument;
      d.error_message = it->second;
    } else {
      d = answers[{records[i].topic, records[i].partition}];
    }
    d.name = records[i].topic;
    d.partition = records[i].partition;
    out.topics.push_back(std::move(d));
  }
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

Admin::Result<CreatedPartitions> Admin::create_partitions(std::vector<NewPartitions> topics,
                                                          CreatePartitionsOptions options) {
  return create_partitions_impl(pool_, timing_, std::move(topics), options);
}
Admin::Result<DescribedConfigs> Admin::describe_configs(std::vector<ConfigResource> resources,
                                                        DescribeConfigsOptions options) {
  return describe_configs_impl(pool_, timing_, std::move(resources), options);
}
Admin::Result<AlteredConfigs> Admin::incremental_alter_configs(std::vector<ConfigChange> changes,
                                                               AlterConfigsOptions options) {
  return alter_configs_impl(pool_, timing_, std::move(changes), options);
}
Admin::Result<DeletedRecords> Admin::delete_records(std::vector<RecordsToDelete> records,
                                                    DeleteRecordsOptions options) {
  return delete_records_impl(pool_, timing_, std::move(records), options);
}

}  // namespace kafkawire
