// `kafkawire groups`: list, describe (committed offsets, log-end offsets, lag, members and their
// assignments), reset-offsets and delete-offsets. The output follows kafka-consumer-groups.sh, the tool
// Kafka users know; the requests are ListGroups, DescribeGroups (classic groups), ConsumerGroupDescribe
// (KIP-848 consumer groups), OffsetFetch, ListOffsets, OffsetCommit and OffsetDelete, sent with kafkawire's
// Pool and Consumer.
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>

#include "commands.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/net/coordinator_request.hpp"
#include "kafkawire/protocol/consumer_group_describe.hpp"
#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/describe_groups.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "kafkawire/protocol/list_groups.hpp"
#include "kafkawire/protocol/offset_delete.hpp"
#include "util.hpp"

namespace kafkawire::cli {
namespace {

namespace proto = kafkawire::protocol;
using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::string_view kCommand = "groups";

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire groups <command> [options]

Commands:
  list                         the groups of the cluster (--state: with their state, protocol type and
                               type; --type classic|consumer: only the groups of that type)
  describe <group>...          state, protocol, members with their assignments, and per partition the
                               committed offset, the log-end offset and the lag (as kafka-consumer-groups.sh);
                               for a consumer group (KIP-848, group.protocol=consumer) also the group and
                               assignment epochs, the assignor, and each member's epoch, subscription and
                               target assignment
  reset-offsets <group> --topic <t[:p,p...]>... | --all-topics
                               --to-earliest | --to-latest | --to-offset <n> | --shift-by <n> |
                               --to-datetime <YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]> (no zone: local time)
                               [--dry-run | --execute]
                               prints the plan (partition, current, new); changes the offsets only with
                               --execute, and only while the group has no active members (as Kafka).
                               --to-offset and --shift-by are kept within [earliest, latest].
  delete-offsets <group> --topic <t[:p,p...]>...
                               removes the group's committed offsets of those partitions (OffsetDelete)

Options:
  -b <brokers>                 bootstrap.servers (default: $KAFKAWIRE_BOOTSTRAP)
  -X <key=value>               a configuration key (-X dump: print the configuration, secrets
                               redacted, and exit)
  -F <file>                    configuration file, a Java client's .properties file as it is
  -m <seconds>                 how long to keep trying to reach the cluster at start (default 5)
  -J, --json                   JSON output (list, describe, reset-offsets)
  -h, --help                   this text

Exit status: 0 ok, 1 failure (the broker's error is printed), 2 bad usage.
)",
      out);
}

enum class Target { none, earliest, latest, offset, shift, datetime };

struct GroupsOptions {
  std::string command;
  std::vector<std::string> groups;
  ConfigInput config;
  std::chrono::milliseconds metadata_timeout{5000};
  bool json = false;
  bool state = false;
  std::vector<std::string> types;                   // list --type: ListGroups' TypesFilter
  std::map<std::string, std::set<int32_t>> topics;  // empty set: every partition
  bool all_topics = false;
  Target target = Target::none;
  int64_t target_value = 0;
  bool execute = false;
  bool dry_run = false;
  bool dump_config = false;  // -X dump
};

// The configuration as the user gave it, and what the commands need: the group's id (reset-offsets
// consumes nothing, but its offset requests name it) and no automatic commits.
ConfigInput groups_input(const GroupsOptions& o, const std::string& group) {
  ConfigInput in = o.config;
  if (!group.empty()) in.values["group.id"] = group;
  in.values["enable.auto.commit"] = "false";
  return in;
}

int parse_args(int argc, char** argv, GroupsOptions& o) {
  if (argc < 2)
    return usage_error(kCommand, "give a command: list, describe, reset-offsets or delete-offsets");
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string problem;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string_view& out) {
      if (i + 1 >= args.size()) {
        problem = std::string(a) + " needs a value";
        return false;
      }
      out = args[++i];
      return true;
    };
    std::string_view v;
    auto set_target = [&](Target t) {
      if (o.target != Target::none) {
        problem = "give one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime";
        return false;
      }
      o.target = t;
      return true;
    };
    if (a == "-h" || a == "--help") {
      print_help(stdout);
      return kExitOk;
    } else if (a == "-b" || a == "--bootstrap-server") {
      if (!value(v)) return usage_error(kCommand, problem);
      o.config.values["bootstrap.servers"] = std::string(v);
    } else if (a == "-X") {
      if (!value(v)) return usage_error(kCommand, problem);
      if (v == "list") {
        print_config_keys(stdout);
        return kExitOk;
      }
      if (v == "dump") {
        o.dump_config = true;
        continue;
      }
      if (!o.config.add_pair(v, problem)) return usage_error(kCommand, "-X: " + problem);
    } else if (a == "-F") {
      if (!value(v)) return usage_error(kCommand, problem);
      if (!o.config.add_file(std::string(v), problem)) return usage_error(kCommand, "-F: " + problem);
    } else if (a == "-m") {
      if (!value(v)) return usage_error(kCommand, problem);
      auto s = parse_i64(v);
      if (!s || *s < 0)
        return usage_error(kCommand, "-m: '" + std::string(v) + "' is not a number of seconds");
      o.metadata_timeout = std::chrono::seconds(*s);
    } else if (a == "-J" || a == "--json") {
      o.json = true;
    } else if (a == "--state") {
      o.state = true;
    } else if (a == "--type") {
      if (!value(v)) return usage_error(kCommand, problem);
      if (v != "classic" && v != "consumer")
        return usage_error(kCommand, "--type: '" + std::string(v) + "' is not classic or consumer");
      o.types.emplace_back(v);
    } else if (a == "--group" || a == "-g") {
      if (!value(v)) return usage_error(kCommand, problem);
      o.groups.emplace_back(v);
    } else if (a == "--topic" || a == "-t") {
      if (!value(v)) return usage_error(kCommand, problem);
      const auto colon = v.find(':');
      if (colon == 0 || v.empty())
        return usage_error(kCommand, "--topic: '" + std::string(v) + "' names no topic");
      auto& parts = o.topics[std::string(v.substr(0, colon))];
      if (colon != std::string_view::npos) {
        std::string_view list = v.substr(colon + 1);
        while (true) {
          const auto comma = list.find(',');
          auto p = parse_i32(list.substr(0, comma));
          if (!p || *p < 0)
            return usage_error(kCommand,
                               "--topic: '" + std::string(v) + "' is not topic:partition[,partition...]");
          parts.insert(*p);
          if (comma == std::string_view::npos) break;
          list = list.substr(comma + 1);
        }
      }
    } else if (a == "--all-topics") {
      o.all_topics = true;
    } else if (a == "--to-earliest") {
      if (!set_target(Target::earliest)) return usage_error(kCommand, problem);
    } else if (a == "--to-latest") {
      if (!set_target(Target::latest)) return usage_error(kCommand, problem);
    } else if (a == "--to-offset" || a == "--shift-by") {
      if (!set_target(a == "--to-offset" ? Target::offset : Target::shift) || !value(v))
        return usage_error(kCommand, problem);
      auto n = parse_i64(v);
      if (!n || (o.target == Target::offset && *n < 0))
        return usage_error(kCommand, std::string(a) + ": '" + std::string(v) + "' is not " +
                                         (o.target == Target::offset ? "an offset" : "a whole number"));
      o.target_value = *n;
    } else if (a == "--to-datetime") {
      if (!set_target(Target::datetime) || !value(v)) return usage_error(kCommand, problem);
      auto ms = parse_datetime(v);
      if (!ms)
        return usage_error(
            kCommand, "--to-datetime: '" + std::string(v) + "' is not YYYY-MM-DDTHH:mm:SS[.sss][Z|+hh:mm]");
      o.target_value = *ms;
    } else if (a == "--execute") {
      o.execute = true;
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (!a.empty() && a.front() == '-') {
      return usage_error(kCommand, "unknown option " + std::string(a));
    } else if (o.command.empty()) {
      o.command = std::string(a);
    } else {
      o.groups.emplace_back(a);
    }
  }
  if (o.dump_config)
    return dump_config(
        groups_input(o, o.command == "reset-offsets" && !o.groups.empty() ? o.groups.front() : ""), stdout);
  if (o.command != "list" && o.command != "describe" && o.command != "reset-offsets" &&
      o.command != "delete-offsets")
    return usage_error(kCommand, o.command.empty()
                                     ? "give a command: list, describe, reset-offsets or delete-offsets"
                                     : "unknown command '" + o.command + "'");
  if (o.command != "list" && o.groups.empty()) return usage_error(kCommand, o.command + " needs a group");
  if (o.command != "list" && !o.types.empty()) return usage_error(kCommand, "--type is for list");
  if ((o.command == "reset-offsets" || o.command == "delete-offsets") && o.groups.size() != 1)
    return usage_error(kCommand, o.command + " takes one group");
  if (o.command == "reset-offsets") {
    if (o.topics.empty() && !o.all_topics)
      return usage_error(kCommand, "reset-offsets needs --topic or --all-topics");
    if (o.target == Target::none)
      return usage_error(
          kCommand,
          "reset-offsets needs one of --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime");
    if (o.execute && o.dry_run) return usage_error(kCommand, "give --dry-run or --execute, not both");
  }
  if (o.command == "delete-offsets" && o.topics.empty())
    return usage_error(kCommand, "delete-offsets needs --topic");
  return -1;
}

// ------------------------------------------------------------------------------ coordinator requests

template <class Req>
using ReplyOf = net::Reply<typename Req::response_type>;

// Requests to a group's coordinator (net::send_to_coordinator) keep trying for up to 30 s: finding the
// coordinator again when it moved, waiting out one that is loading.
net::RetryBudget coordinator_budget() {
  return net::RetryBudget(std::chrono::steady_clock::now() + 30s, 200ms, 1s);
}

std::string error_words(int16_t code, const std::optional<std::string>& message = std::nullopt) {
  std::string s = make_kafka_error(code).message();
  if (message && !message->empty()) s += " (" + *message + ")";
  return s;
}

// A group as `describe` shows it, whichever protocol it speaks.
struct GroupInfo {
  using Assignment = std::vector<proto::ConsumerProtocolAssignment::TopicPartition>;  // by topic name
  struct Member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::string client_id, client_host;
    Assignment assignment;
    // Consumer groups only.
    int32_t member_epoch = -1;
    std::vector<std::string> subscribed_topics;
    std::optional<std::string> subscribed_regex;
    Assignment target;
  };
  bool consumer = false;  // a consumer group (KIP-848): from ConsumerGroupDescribe, else DescribeGroups
  int16_t error_code = 0;
  std::optional<std::string> error_message;
  std::string state;
  std::string protocol_type, protocol;              // classic groups
  int32_t group_epoch = -1, assignment_epoch = -1;  // consumer groups
  std::string assignor;                             // consumer groups: the broker-side assignor
  std::vector<Member> members;
  net::BrokerInfo coordinator;
  // The member owning each assigned partition.
  std::map<TopicPartition, size_t> owner;  // index into members

  bool not_found() const {
    return as_errc(error_code) == kafka_errc::group_id_not_found || (error_code == 0 && state == "Dead");
  }
  bool active() const { return !members.empty() || (state != "Empty" && state != "Dead"); }
};

GroupInfo::Assignment topic_names(const proto::ConsumerGroupDescribeResponse::Assignment& a) {
  GroupInfo::Assignment out;
  for (const auto& tp : a.topic_partitions) {
    std::vector<int32_t> partitions = tp.partitions;
    std::sort(partitions.begin(), partitions.end());
    out.push_back({tp.topic_name, std::move(partitions)});
  }
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) { return x.topic < y.topic; });
  return out;
}

// ConsumerGroupDescribe: whether the group is a consumer group (KIP-848), and if so its description.
// Brokers without the API, or with the consumer protocol off, answer no (unsupported_version, or the
// group's UNSUPPORTED_VERSION), as for a classic group or one that does not exist (GROUP_ID_NOT_FOUND).
asio::awaitable<std::tuple<std::error_code, std::optional<GroupInfo>>> describe_consumer_group(
    net::Pool& pool, const std::string& group) {
  using Req = proto::ConsumerGroupDescribeRequest;
  auto [ec, reply] = co_await net::send_to_coordinator<Req>(
      pool, group, ApiFamily::group_admin, coordinator_budget(),
      [&](int16_t) {
        Req r;
        r.group_ids.push_back(group);
        return r;
      },
      [](const ReplyOf<Req>& r) {
        return r->groups.empty() ? std::error_code{} : make_kafka_error(r->groups.front().error_code);
      });
  if (ec == client_errc::unsupported_version) co_return std::tuple{std::error_code{}, std::nullopt};
  if (ec) co_return std::tuple{ec, std::nullopt};
  if (reply->groups.empty()) co_return std::tuple{std::error_code(client_errc::malformed), std::nullopt};
  auto& d = reply->groups.front();
  const auto errc = as_errc(d.error_code);
  if (errc == kafka_errc::group_id_not_found || errc == kafka_errc::unsupported_version)
    co_return std::tuple{std::error_code{}, std::nullopt};
  GroupInfo info;
  info.consumer = true;
  info.error_code = d.error_code;
  info.error_message = d.error_message;
  info.state = d.group_state;
  info.group_epoch = d.group_epoch;
  info.assignment_epoch = d.assignment_epoch;
  info.assignor = d.assignor_name;
  for (auto& m : d.members) {
    GroupInfo::Member& out = info.members.emplace_back();
    out.member_id = m.member_id;
    out.instance_id = m.instance_id;
    out.client_id = m.client_id;
    out.client_host = m.client_host;
    out.member_epoch = m.member_epoch;
    out.subscribed_topics = m.subscribed_topic_names;
    std::sort(out.subscribed_topics.begin(), out.subscribed_topics.end());
    // Kafka 4.4 sends "" rather than null for a member without a regular expression.
    if (m.subscribed_topic_regex && !m.subscribed_topic_regex->empty())
      out.subscribed_regex = m.subscribed_topic_regex;
    out.assignment = topic_names(m.assignment);
    out.target = topic_names(m.target_assignment);
  }
  std::sort(info.members.begin(), info.members.end(),
            [](const auto& x, const auto& y) { return x.member_id < y.member_id; });
  co_return std::tuple{std::error_code{}, std::optional<GroupInfo>(std::move(info))};
}

// DescribeGroups, and ConsumerGroupDescribe when it does not know the group: a consumer group (KIP-848) is
// not a classic group, and DescribeGroups answers it as one that does not exist (GROUP_ID_NOT_FOUND "not a
// classic group" from v6, state Dead before). A group that does not exist either way: not_found().
asio::awaitable<std::tuple<std::error_code, GroupInfo>> describe_group(net::Pool& pool,
                                                                       const std::string& group) {
  using Req = proto::DescribeGroupsRequest;
  GroupInfo info;
  auto [ec, reply] = co_await net::send_to_coordinator<Req>(
      pool, group, ApiFamily::group_admin, coordinator_budget(),
      [&](int16_t) {
        Req r;
        r.groups.push_back(group);
        return r;
      },
      [](const ReplyOf<Req>& r) {
        return r->groups.empty() ? std::error_code{} : make_kafka_error(r->groups.front().error_code);
      });
  if (ec) co_return std::tuple{ec, std::move(info)};
  if (reply->groups.empty()) co_return std::tuple{std::error_code(client_errc::malformed), std::move(info)};
  const auto& d = reply->groups.front();
  info.error_code = d.error_code;
  info.error_message = d.error_message;
  info.state = d.group_state;
  info.protocol_type = d.protocol_type;
  info.protocol = d.protocol_data;
  if (info.not_found()) {
    auto [cec, consumer] = co_await describe_consumer_group(pool, group);
    if (cec) co_return std::tuple{cec, std::move(info)};
    if (consumer) info = std::move(*consumer);
  } else {
    // Decoded assignments point into the reply's frame: copied out (strings) while it is alive.
    for (const auto& m : d.members) {
      GroupInfo::Member& out = info.members.emplace_back();
      out.member_id = m.member_id;
      out.instance_id = m.group_instance_id;
      out.client_id = m.client_id;
      out.client_host = m.client_host;
      proto::ConsumerProtocolAssignment a;
      if (d.protocol_type == "consumer" && !m.member_assignment.empty() &&
          !proto::decode_versioned(m.member_assignment, a))
        out.assignment = a.assigned_partitions;
    }
  }
  if (auto [fec, coordinator] = co_await pool.find_coordinator(group); !fec) info.coordinator = coordinator;
  for (size_t i = 0; i < info.members.size(); ++i)
    for (const auto& tp : info.members[i].assignment)
      for (int32_t p : tp.partitions) info.owner[{tp.topic, p}] = i;
  co_return std::tuple{std::error_code{}, std::move(info)};
}

// The group's committed offsets for every topic (OffsetFetch with null topics), within 30 s.
asio::awaitable<std::tuple<std::error_code, std::map<TopicPartition, int64_t>>> committed_offsets(
    Consumer& c, const std::string& group, std::string& problem) {
  OffsetClientOptions options = c.offset_client().options();
  options.group_id = group;
  options.timeout = 30s;
  const OffsetClient client(c.pool().shared_from_this(), options);
  auto r = co_await client.committed_all();
  if (r.ec) problem = r.error_text;
  co_return std::tuple{r.ec, std::move(r.value)};
}

// Earliest (-2) or latest (-1) offsets of the partitions of topics that exist; those of missing topics
// are left out.
asio::awaitable<std::map<TopicPartition, int64_t>> log_offsets(Consumer& c,
                                                               const std::set<TopicPartition>& tps,
                                                               int64_t which, std::string& problem) {
  std::vector<TopicPartition> known;
  for (const auto& tp : tps) {
    const auto* t = c.pool().metadata().topic(tp.topic);
    if (t && t->error_code == 0 && tp.partition < static_cast<int32_t>(t->partitions.size()))
      known.push_back(tp);
  }
  if (known.empty()) co_return std::map<TopicPartition, int64_t>{};
  auto [ec, offsets] = co_await c.async_list_offsets(known, which, use_nothrow);
  if (ec) problem = "ListOffsets: " + (c.error_text().empty() ? ec.message() : c.error_text());
  co_return offsets;
}

std::optional<Config> groups_config(const GroupsOptions& o, const std::string& group) {
  return make_config(groups_input(o, group));
}

std::string or_dash(std::optional<int64_t> v) { return v ? std::to_string(*v) : "-"; }
std::string json_num(std::optional<int64_t> v) { return v ? std::to_string(*v) : "null"; }

// ------------------------------------------------------------------------------------------- list

asio::awaitable<int> list_groups(const GroupsOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  Consumer c(ex, config);
  auto& pool = c.pool();
  if (co_await bounded_metadata(pool, config, std::vector<std::string>{}, o.metadata_timeout))
    co_return kExitFailure;
  std::map<std::string, proto::ListGroupsResponse::ListedGroup> groups;
  int rc = kExitOk;
  std::vector<int32_t> brokers;
  for (const auto& [id, b] : pool.metadata().brokers()) brokers.push_back(id);
  for (int32_t id : brokers) {
    proto::ListGroupsRequest req;
    req.types_filter = o.types;  // v5+
    auto [ec, reply] = co_await pool.send(id, net::Purpose::general, req);
    if (ec || reply->error_code) {
      rc = failure("ListGroups from broker " + std::to_string(id) + ": " +
                   (ec ? ec.message() : error_words(reply->error_code)));
      continue;
    }
    for (auto& g : reply->groups) {
      // Below v5 the filter is not sent and no type comes back: such a broker has classic groups only.
      const std::string type = g.group_type.empty() ? "classic" : g.group_type;
      if (o.types.empty() || std::find(o.types.begin(), o.types.end(), type) != o.types.end())
        groups[g.group_id] = g;
    }
  }
  std::string out;
  if (o.json) {
    out += "[";
    for (const auto& [name, g] : groups) {
      out += out.size() > 1 ? "," : "";
      out += "{\"group\":" + json_string(name) + ",\"state\":" + json_string(g.group_state) +
             ",\"protocol_type\":" + json_string(g.protocol_type) + ",\"type\":" + json_string(g.group_type) +
             "}";
    }
    out += "]\n";
    std::fputs(out.c_str(), stdout);
  } else if (o.state) {
    Table t;
    t.add({"GROUP", "STATE", "PROTOCOL-TYPE", "TYPE"});
    for (const auto& [name, g] : groups)
      t.add({name, g.group_state.empty() ? "-" : g.group_state,
             g.protocol_type.empty() ? "-" : g.protocol_type, g.group_type.empty() ? "-" : g.group_type});
    t.print(stdout);
  } else {
    for (const auto& [name, g] : groups) std::printf("%s\n", name.c_str());
  }
  co_return rc;
}

// --------------------------------------------------------------------------------------- describe

std::string assignment_text(const GroupInfo::Assignment& a) {
  std::string s;
  for (const auto& tp : a) {
    s += (s.empty() ? "" : " ") + tp.topic + "(";
    for (size_t i = 0; i < tp.partitions.size(); ++i) s += (i ? "," : "") + std::to_string(tp.partitions[i]);
    s += ")";
  }
  return s.empty() ? "-" : s;
}

std::string assignment_json(const GroupInfo::Assignment& a) {
  std::string out = "[";
  for (const auto& tp : a) {
    out += out.size() > 1 ? "," : "";
    out += "{\"topic\":" + json_string(tp.topic) + ",\"partitions\":[";
    for (size_t i = 0; i < tp.partitions.size(); ++i)
      out += (i ? "," : "") + std::to_string(tp.partitions[i]);
    out += "]}";
  }
  return out + "]";
}

// A consumer group member's subscription: its topics, or its regular expression (KIP-848) as /re/.
std::string subscription_text(const GroupInfo::Member& m) {
  std::string s;
  for (const auto& t : m.subscribed_topics) s += (s.empty() ? "" : ",") + t;
  if (m.subscribed_regex) s += (s.empty() ? "/" : ",/") + *m.subscribed_regex + "/";
  return s.empty() ? "-" : s;
}

std::string member_json(const GroupInfo& info, const GroupInfo::Member& m) {
  std::string out = "{\"member_id\":" + json_string(m.member_id) + ",\"group_instance_id\":" +
                    (m.instance_id ? json_string(*m.instance_id) : std::string("null")) +
                    ",\"client_id\":" + json_string(m.client_id) + ",\"host\":" + json_string(m.client_host);
  if (info.consumer) {
    out += ",\"member_epoch\":" + std::to_string(m.member_epoch) + ",\"subscribed_topics\":[";
    for (size_t i = 0; i < m.subscribed_topics.size(); ++i)
      out += (i ? "," : "") + json_string(m.subscribed_topics[i]);
    out += "],\"subscribed_topic_regex\":" +
           (m.subscribed_regex ? json_string(*m.subscribed_regex) : std::string("null"));
  }
  out += ",\"assignment\":" + assignment_json(m.assignment);
  if (info.consumer) out += ",\"target_assignment\":" + assignment_json(m.target);
  return out + "}";
}

asio::awaitable<int> describe_one(const GroupsOptions& o, Consumer& c, const std::string& group,
                                  std::string& out) {
  auto& pool = c.pool();
  auto [ec, info] = co_await describe_group(pool, group);
  if (ec) co_return failure("describe group " + group + ": " + ec.message());
  if (info.not_found())
    co_return failure("group " + group + " does not exist" +
                      (info.error_message ? " (" + *info.error_message + ")" : std::string()));
  if (info.error_code)
    co_return failure("describe group " + group + ": " + error_words(info.error_code, info.error_message));
  std::string problem;
  auto [oec, committed] = co_await committed_offsets(c, group, problem);
  if (oec) co_return failure(problem);

  // Every partition the group has an offset for or a member owns.
  std::set<TopicPartition> tps;
  for (const auto& [tp, off] : committed) tps.insert(tp);
  for (const auto& [tp, m] : info.owner) tps.insert(tp);
  std::set<std::string> topic_names;
  for (const auto& tp : tps) topic_names.insert(tp.topic);
  if (!topic_names.empty()) {
    auto [mec, none] =
        co_await pool.refresh_metadata(std::vector<std::string>(topic_names.begin(), topic_names.end()));
    if (mec) co_return failure("metadata: " + mec.message());
  }
  auto end = co_await log_offsets(c, tps, -1, problem);
  if (!problem.empty()) co_return failure(problem);

  const std::string coordinator = info.coordinator.node_id >= 0
                                      ? std::to_string(info.coordinator.node_id) + " (" +
                                            info.coordinator.host + ":" +
                                            std::to_string(info.coordinator.port) + ")"
                                      : "-";
  auto opt = [](const std::map<TopicPartition, int64_t>& m,
                const TopicPartition& k) -> std::optional<int64_t> {
    auto it = m.find(k);
    return it == m.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  if (o.json) {
    out += "{\"group\":" + json_string(group) +
           ",\"type\":" + json_string(info.consumer ? "consumer" : "classic") +
           ",\"state\":" + json_string(info.state);
    if (info.consumer)
      out += ",\"group_epoch\":" + std::to_string(info.group_epoch) +
             ",\"assignment_epoch\":" + std::to_string(info.assignment_epoch) +
             ",\"assignor\":" + json_string(info.assignor);
    else
      out += ",\"protocol_type\":" + json_string(info.protocol_type) +
             ",\"protocol\":" + json_string(info.protocol);
    out += ",\"coordinator\":" + std::to_string(info.coordinator.node_id) + ",\"members\":[";
    for (size_t i = 0; i < info.members.size(); ++i)
      out += (i ? "," : "") + member_json(info, info.members[i]);
    out += "],\"offsets\":[";
    bool first = true;
    for (const auto& tp : tps) {
      const auto cur = opt(committed, tp);
      const auto leo = opt(end, tp);
      const std::optional<int64_t> lag =
          cur && leo ? std::optional<int64_t>(std::max<int64_t>(0, *leo - *cur)) : std::nullopt;
      auto owner = info.owner.find(tp);
      out += first ? "" : ",";
      first = false;
      out += "{\"topic\":" + json_string(tp.topic) + ",\"partition\":" + std::to_string(tp.partition) +
             ",\"current_offset\":" + json_num(cur) + ",\"log_end_offset\":" + json_num(leo) +
             ",\"lag\":" + json_num(lag) + ",\"member_id\":" +
             (owner != info.owner.end() ? json_string(info.members[owner->second].member_id)
                                        : std::string("null")) +
             "}";
    }
    out += "]}\n";
    co_return kExitOk;
  }

  if (info.consumer)
    out += "Group " + group + ": consumer group (KIP-848), state " + info.state + ", group epoch " +
           std::to_string(info.group_epoch) + ", assignment epoch " + std::to_string(info.assignment_epoch) +
           ", assignor " + (info.assignor.empty() ? "-" : info.assignor) + ", coordinator " + coordinator +
           "\n\n";
  else
    out += "Group " + group + ": state " + info.state + ", protocol type " +
           (info.protocol_type.empty() ? "-" : info.protocol_type) + ", protocol " +
           (info.protocol.empty() ? "-" : info.protocol) + ", coordinator " + coordinator + "\n\n";
  if (info.members.empty()) {
    out += "No active members.\n\n";
  } else if (info.consumer) {
    Table t;
    t.add({"MEMBER-ID", "GROUP-INSTANCE-ID", "CLIENT-ID", "HOST", "EPOCH", "SUBSCRIPTION", "ASSIGNMENT",
           "TARGET-ASSIGNMENT"});
    for (const auto& m : info.members)
      t.add({m.member_id, m.instance_id.value_or("-"), m.client_id, m.client_host,
             std::to_string(m.member_epoch), subscription_text(m), assignment_text(m.assignment),
             assignment_text(m.target)});
    out += t.str() + "\n";
  } else {
    Table t;
    t.add({"MEMBER-ID", "GROUP-INSTANCE-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"});
    for (const auto& m : info.members)
      t.add({m.member_id, m.instance_id.value_or("-"), m.client_id, m.client_host,
             assignment_text(m.assignment)});
    out += t.str() + "\n";
  }
  if (tps.empty()) {
    out += "No committed offsets.\n";
    co_return kExitOk;
  }
  Table t;
  t.add({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST",
         "CLIENT-ID"});
  for (const auto& tp : tps) {
    const auto cur = opt(committed, tp);
    const auto leo = opt(end, tp);
    const std::optional<int64_t> lag =
        cur && leo ? std::optional<int64_t>(std::max<int64_t>(0, *leo - *cur)) : std::nullopt;
    auto owner = info.owner.find(tp);
    const auto* m = owner != info.owner.end() ? &info.members[owner->second] : nullptr;
    t.add({group, tp.topic, std::to_string(tp.partition), or_dash(cur), or_dash(leo), or_dash(lag),
           m ? m->member_id : "-", m ? m->client_host : "-", m ? m->client_id : "-"});
  }
  out += t.str();
  co_return kExitOk;
}

asio::awaitable<int> describe_groups(const GroupsOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  Consumer c(ex, config);
  if (co_await bounded_metadata(c.pool(), config, std::vector<std::string>{}, o.metadata_timeout))
    co_return kExitFailure;
  int rc = kExitOk;
  for (size_t i = 0; i < o.groups.size(); ++i) {
    std::string out;
    if (int r = co_await describe_one(o, c, o.groups[i], out); r != kExitOk) rc = r;
    if (i + 1 < o.groups.size() && !o.json && !out.empty()) out += "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  co_return rc;
}

// ----------------------------------------------------------------------------------- reset-offsets

// The partitions named by --topic (all of a topic's when none are listed), checked against the metadata.
bool named_partitions(net::Pool& pool, const std::map<std::string, std::set<int32_t>>& topics,
                      std::set<TopicPartition>& out) {
  for (const auto& [topic, parts] : topics) {
    const auto* info = pool.metadata().topic(topic);
    if (!info || as_errc(info->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(info->error_code) == kafka_errc::unknown_topic_id) {
      failure("topic " + topic + ": no such topic in the cluster");
      return false;
    }
    if (info->error_code) {
      failure("topic " + topic + ": " + error_words(info->error_code));
      return false;
    }
    const auto n = static_cast<int32_t>(info->partitions.size());
    if (parts.empty())
      for (int32_t p = 0; p < n; ++p) out.insert({topic, p});
    for (int32_t p : parts) {
      if (p >= n) {
        failure("topic " + topic + " has " + std::to_string(n) + " partition(s): no partition " +
                std::to_string(p));
        return false;
      }
      out.insert({topic, p});
    }
  }
  return true;
}

std::vector<std::string> topic_list(const std::map<std::string, std::set<int32_t>>& topics) {
  std::vector<std::string> v;
  for (const auto& [t, p] : topics) v.push_back(t);
  return v;
}

asio::awaitable<int> reset_offsets(const GroupsOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  const std::string& group = o.groups.front();
  Consumer c(ex, config);
  auto& pool = c.pool();
  std::string problem;
  if (co_await bounded_metadata(pool, config, topic_list(o.topics), o.metadata_timeout))
    co_return kExitFailure;
  auto [cec, committed] = co_await committed_offsets(c, group, problem);
  if (cec) co_return failure(problem);
  auto topics = o.topics;
  if (o.all_topics) {
    for (const auto& [tp, off] : committed) topics[tp.topic];
    if (topics.empty()) co_return failure("group " + group + " has no committed offsets: give --topic");
    if (auto [mec, none] = co_await pool.refresh_metadata(topic_list(topics)); mec)
      co_return failure("metadata: " + mec.message());
  }
  std::set<TopicPartition> tps;
  if (!named_partitions(pool, topics, tps)) co_return kExitFailure;

  auto earliest = co_await log_offsets(c, tps, -2, problem);
  if (!problem.empty()) co_return failure(problem);
  auto latest = co_await log_offsets(c, tps, -1, problem);
  if (!problem.empty()) co_return failure(problem);
  std::map<TopicPartition, int64_t> by_time;
  if (o.target == Target::datetime) {
    std::map<TopicPartition, int64_t> want;
    for (const auto& tp : tps) want[tp] = o.target_value;
    auto [tec, found] = co_await c.async_offsets_for_times(want, use_nothrow);
    if (tec) co_return failure("offsets for " + std::to_string(o.target_value) + ": " + c.error_text());
    for (const auto& [tp, f] : found)
      if (f) by_time[tp] = f->offset;
  }

  // The plan.
  std::map<TopicPartition, int64_t> plan;
  for (const auto& tp : tps) {
    const int64_t lo = earliest[tp], hi = latest[tp];
    auto clamp = [&](int64_t v) { return std::min(std::max(v, lo), hi); };
    auto cur = committed.find(tp);
    switch (o.target) {
      case Target::earliest:
        plan[tp] = lo;
        break;
      case Target::latest:
        plan[tp] = hi;
        break;
      case Target::offset:
        plan[tp] = clamp(o.target_value);
        break;
      case Target::datetime:
        plan[tp] = by_time.count(tp) ? by_time[tp] : hi;
        break;
      case Target::shift:
        if (cur == committed.end())
          co_return failure("cannot shift the offset of " + to_string(tp) + ": group " + group +
                            " has no committed offset there");
        plan[tp] = clamp(cur->second + o.target_value);
        break;
      case Target::none:
        break;
    }
  }
  std::string out;
  if (o.json) {
    out += "[";
    for (const auto& [tp, off] : plan) {
      auto cur = committed.find(tp);
      out += out.size() > 1 ? "," : "";
      out += "{\"group\":" + json_string(group) + ",\"topic\":" + json_string(tp.topic) +
             ",\"partition\":" + std::to_string(tp.partition) + ",\"current_offset\":" +
             (cur == committed.end() ? std::string("null") : std::to_string(cur->second)) +
             ",\"new_offset\":" + std::to_string(off) + "}";
    }
    out += "]\n";
  } else {
    Table t;
    t.add({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
    for (const auto& [tp, off] : plan) {
      auto cur = committed.find(tp);
      t.add({group, tp.topic, std::to_string(tp.partition),
             cur == committed.end() ? "-" : std::to_string(cur->second), std::to_string(off)});
    }
    out = t.str();
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  if (!o.execute) {
    std::fprintf(stderr, "%% Dry run: nothing changed. Add --execute to reset these offsets.\n");
    co_return kExitOk;
  }

  // Kafka resets only the offsets of an inactive group: a member would go on from its own position
  // and overwrite them. Ask first for a clear message; the broker refuses anyway if one joins meanwhile.
  auto [dec, info] = co_await describe_group(pool, group);
  if (dec) co_return failure("describe group " + group + ": " + dec.message());
  if (info.error_code == 0 && info.active())
    co_return failure("group " + group + " has " + std::to_string(info.members.size()) +
                      " active member(s) (state " + info.state +
                      "): offsets can only be reset while the group is inactive; stop its consumers first");
  c.assign(std::vector<TopicPartition>(tps.begin(), tps.end()));
  auto [commit_ec] = co_await c.async_commit(plan, use_nothrow);
  if (commit_ec) {
    std::string why = c.error_text().empty() ? commit_ec.message() : c.error_text();
    if (error_action(ApiFamily::offset_commit, commit_ec) == ErrorAction::rejoin)
      why += " (the broker refuses because the group has active members; stop its consumers first)";
    co_return failure("reset-offsets of group " + group + " refused by the broker: " + why);
  }
  std::fprintf(stderr, "%% Reset %zu partition(s) of group %s.\n", plan.size(), group.c_str());
  co_return kExitOk;
}

// ---------------------------------------------------------------------------------- delete-offsets

asio::awaitable<int> delete_offsets(const GroupsOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  const std::string& group = o.groups.front();
  Consumer c(ex, config);
  auto& pool = c.pool();
  if (co_await bounded_metadata(pool, config, topic_list(o.topics), o.metadata_timeout))
    co_return kExitFailure;
  std::set<TopicPartition> tps;
  if (!named_partitions(pool, o.topics, tps)) co_return kExitFailure;
  using Req = proto::OffsetDeleteRequest;
  auto [ec, reply] = co_await net::send_to_coordinator<Req>(
      pool, group, ApiFamily::group_admin, coordinator_budget(),
      [&](int16_t) {
        Req r;
        r.group_id = group;
        for (const auto& tp : tps) {
          if (r.topics.empty() || r.topics.back().name != tp.topic) {
            r.topics.emplace_back();
            r.topics.back().name = tp.topic;
          }
          r.topics.back().partitions.push_back({tp.partition});
        }
        return r;
      },
      [](const ReplyOf<Req>& r) { return make_kafka_error(r->error_code); });
  if (ec) co_return failure("OffsetDelete for group " + group + ": " + ec.message());
  if (reply->error_code) {
    std::string why = error_words(reply->error_code);
    if (as_errc(reply->error_code) == kafka_errc::group_id_not_found)
      why = "group " + group + " does not exist (" + why + ")";
    co_return failure("delete-offsets of group " + group + ": " + why);
  }
  int rc = kExitOk;
  Table t;
  t.add({"TOPIC", "PARTITION", "STATUS"});
  for (const auto& topic : reply->topics)
    for (const auto& p : topic.partitions) {
      std::string status = "Successful";
      if (p.error_code) {
        status = error_words(p.error_code);
        if (as_errc(p.error_code) == kafka_errc::group_subscribed_to_topic)
          status += " (the group still consumes this topic)";
        rc = kExitFailure;
      }
      t.add({topic.name, std::to_string(p.partition_index), status});
    }
  t.print(stdout);
  co_return rc;
}

}  // namespace

int run_groups(int argc, char** argv) {
  GroupsOptions o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  auto config = groups_config(o, o.command == "reset-offsets" ? o.groups.front() : std::string());
  if (!config) return kExitUsage;
  asio::io_context io;
  if (o.command == "list") return run_main(io, list_groups(o, *config));
  if (o.command == "describe") return run_main(io, describe_groups(o, *config));
  if (o.command == "reset-offsets") return run_main(io, reset_offsets(o, *config));
  return run_main(io, delete_offsets(o, *config));
}

}  // namespace kafkawire::cli
