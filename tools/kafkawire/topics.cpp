// `kafkawire topics`: list, describe, create and delete topics and add partitions, with the library's
// Admin (consumer/admin.hpp): Metadata, CreateTopics, DeleteTopics and CreatePartitions. The options
// follow kafka-topics.sh where it has them (--partitions, --replication-factor, --config k=v); the
// connection is every command's (-b, -X, -F: TLS and SASL included).
#include "admin_cli.hpp"
#include "commands.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire::cli {
namespace {

namespace proto = kafkawire::protocol;
constexpr std::string_view kCommand = "topics";

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire topics <command> [options]

Commands:
  list                         the topics of the cluster: partitions, replication factor, internal
                               (--exclude-internal: without __consumer_offsets and the like)
  describe [<topic>...]        each partition's leader, leader epoch, replicas, in-sync replicas and
                               offline replicas, and the topic id (no topic: every topic)
  create <topic>... [--partitions <n>] [--replication-factor <r>] [--config <key=value>]... [--dry-run]
                               creates topics (CreateTopics, sent to the controller). Without
                               --partitions / --replication-factor the broker's defaults (num.partitions,
                               default.replication.factor). --dry-run: the controller checks everything
                               (validate_only) and creates nothing
  delete <topic>... [--dry-run]
                               deletes topics (DeleteTopics). --dry-run: shows what would be deleted
                               (checking that each topic exists) and deletes nothing
  add-partitions <topic>... --partitions <n> [--dry-run]
                               raises each topic's partition count to n, the new total (CreatePartitions,
                               sent to the controller; a count can only grow). --dry-run: the controller
                               checks it (validate_only) and adds nothing

Options:
)",
      out);
  std::fputs(kAdminOptionsHelp.data(), out);
  std::fputs(R"(
Each failed topic is named on stderr with the broker's error and message, e.g.
  kafkawire: topic orders: TOPIC_ALREADY_EXISTS: Topic 'orders' already exists.
Topic configs: `kafkawire configs`; deleting records: `kafkawire delete-records`.
Exit status: 0 ok, 1 a topic failed (or the cluster could not be reached), 2 bad usage.
)",
             out);
}

struct TopicsOptions : AdminOptions {
  std::string command;
  std::vector<std::string> topics;
  bool dry_run = false;
  bool exclude_internal = false;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::pair<std::string, std::string>> configs;
};

int parse_args(int argc, char** argv, TopicsOptions& o) {
  constexpr std::string_view kCommands = "give a command: list, describe, create, delete or add-partitions";
  if (argc < 2) return usage_error(kCommand, std::string(kCommands));
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string problem;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    auto value = [&](std::string_view& out) { return option_value(args, i, out, problem); };
    std::string_view v;
    if (auto rc = admin_option(kCommand, print_help, args, i, o)) {
      if (*rc == kTaken) continue;
      return *rc;
    }
    if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--exclude-internal") {
      o.exclude_internal = true;
    } else if (a == "--partitions") {
      if (!value(v)) return usage_error(kCommand, problem);
      auto n = parse_i32(v);
      if (!n || *n < 1)
        return usage_error(kCommand, "--partitions: '" + std::string(v) + "' is not 1 or more");
      o.partitions = *n;
    } else if (a == "--replication-factor") {
      if (!value(v)) return usage_error(kCommand, problem);
      auto n = parse_i32(v);
      if (!n || *n < 1 || *n > INT16_MAX)
        return usage_error(kCommand, "--replication-factor: '" + std::string(v) + "' is not 1 to 32767");
      o.replication_factor = static_cast<int16_t>(*n);
    } else if (a == "--config") {
      if (!value(v)) return usage_error(kCommand, problem);
      const auto eq = v.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return usage_error(kCommand, "--config: '" + std::string(v) + "' is not key=value");
      o.configs.emplace_back(std::string(v.substr(0, eq)), std::string(v.substr(eq + 1)));
    } else if (!a.empty() && a.front() == '-') {
      return usage_error(kCommand, "unknown option " + std::string(a));
    } else if (o.command.empty()) {
      o.command = std::string(a);
    } else {
      o.topics.emplace_back(a);
    }
  }
  if (o.dump_config) return -1;
  if (o.command != "list" && o.command != "describe" && o.command != "create" && o.command != "delete" &&
      o.command != "add-partitions")
    return usage_error(kCommand,
                       o.command.empty() ? std::string(kCommands) : "unknown command '" + o.command + "'");
  if ((o.command == "create" || o.command == "delete" || o.command == "add-partitions") && o.topics.empty())
    return usage_error(kCommand, o.command + " needs a topic");
  if (o.command == "list" && !o.topics.empty())
    return usage_error(kCommand, "list takes no topic (describe does)");
  if (o.command == "add-partitions") {
    if (o.partitions == -1)
      return usage_error(kCommand, "add-partitions needs --partitions <n>, the new partition count");
    if (o.replication_factor != -1 || !o.configs.empty())
      return usage_error(kCommand, "--replication-factor and --config are for create");
  } else if (o.command != "create" &&
             (o.partitions != -1 || o.replication_factor != -1 || !o.configs.empty())) {
    return usage_error(kCommand, "--partitions, --replication-factor and --config are for create");
  }
  if (o.dry_run && o.command != "create" && o.command != "delete" && o.command != "add-partitions")
    return usage_error(kCommand, "--dry-run is for create, delete and add-partitions");
  return -1;
}

// ----------------------------------------------------------------------------------------- output

std::string uuid_text(const proto::Uuid& id) {
  return id.is_zero() ? std::string() : proto::base64(proto::Bytes(id.bytes.data(), id.bytes.size()), true);
}

std::string id_list(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}
std::string json_ids(const std::vector<int32_t>& ids) { return "[" + id_list(ids) + "]"; }

// ------------------------------------------------------------------------------------------ list

asio::awaitable<int> list_topics(const TopicsOptions& o, Admin& admin) {
  auto [ec, r] = co_await admin.list_topics();
  if (ec) co_return failure("list topics: " + r.error_text);
  std::string out;
  Table t;
  t.add({"TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "INTERNAL", "TOPIC-ID"});
  for (const auto& l : r.topics) {
    if (o.exclude_internal && l.internal) continue;
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"topic\":" + json_string(l.name) + ",\"topic_id\":" + json_string(uuid_text(l.topic_id)) +
             ",\"internal\":" + (l.internal ? "true" : "false") +
             ",\"partitions\":" + std::to_string(l.partitions) +
             ",\"replication_factor\":" + std::to_string(l.replication_factor) + "}";
    } else {
      t.add({l.name, std::to_string(l.partitions), std::to_string(l.replication_factor),
             l.internal ? "yes" : "no", uuid_text(l.topic_id)});
    }
  }
  write(o.json ? "{\"topics\":[" + out + "]}\n" : t.str());
  co_return kExitOk;
}

// -------------------------------------------------------------------------------------- describe

std::string describe_json(const TopicDescription& d) {
  std::string s = "{\"topic\":" + json_string(d.name) +
                  ",\"topic_id\":" + json_string(uuid_text(d.topic_id)) +
                  ",\"internal\":" + (d.internal ? "true" : "false") + ",\"error\":" + json_error(d) +
                  ",\"partitions\":[";
  for (size_t i = 0; i < d.partitions.size(); ++i) {
    const auto& p = d.partitions[i];
    s += (i ? "," : "");
    s += "{\"partition\":" + std::to_string(p.partition) + ",\"leader\":" + std::to_string(p.leader) +
         ",\"leader_epoch\":" + std::to_string(p.leader_epoch) + ",\"replicas\":" + json_ids(p.replicas) +
         ",\"isr\":" + json_ids(p.isr) + ",\"offline_replicas\":" + json_ids(p.offline_replicas) +
         ",\"error\":" + (p.ec ? json_string(error_name(p.ec)) : std::string("null")) + "}";
  }
  return s + "]}";
}

asio::awaitable<int> describe_topics(const TopicsOptions& o, Admin& admin) {
  std::vector<std::string> names = o.topics;
  if (names.empty()) {
    auto [lec, listed] = co_await admin.list_topics();
    if (lec) co_return failure("list topics: " + listed.error_text);
    for (const auto& l : listed.topics) names.push_back(l.name);
  }
  auto [ec, r] = co_await admin.describe_topics(names);
  if (ec && r.topics.empty()) co_return failure("describe topics: " + r.error_text);
  std::string out;
  for (const auto& d : r.topics) {
    if (o.json) {
      out += (out.empty() ? "" : ",") + describe_json(d);
      continue;
    }
    if (d.ec) continue;  // on stderr below
    const size_t rf = d.partitions.empty() ? 0 : d.partitions.front().replicas.size();
    out += (out.empty() ? "" : "\n");
    out += "Topic " + d.name + ": topic id " + (d.topic_id.is_zero() ? "-" : uuid_text(d.topic_id)) + ", " +
           std::to_string(d.partitions.size()) + " partition(s), replication factor " + std::to_string(rf) +
           (d.internal ? ", internal" : "") + "\n";
    Table t;
    t.add({"PARTITION", "LEADER", "LEADER-EPOCH", "REPLICAS", "ISR", "OFFLINE", "ERROR"});
    for (const auto& p : d.partitions)
      t.add({std::to_string(p.partition), p.leader >= 0 ? std::to_string(p.leader) : "none",
             std::to_string(p.leader_epoch), id_list(p.replicas), id_list(p.isr),
             p.offline_replicas.empty() ? "-" : id_list(p.offline_replicas), p.ec ? error_name(p.ec) : "-"});
    out += t.str();
  }
  write(o.json ? "{\"topics\":[" + out + "]}\n" : out);
  co_return report_failures(r.topics, "topic ");
}

// ---------------------------------------------------------------------------------------- create

asio::awaitable<int> create_topics(const TopicsOptions& o, Admin& admin) {
  std::vector<NewTopic> topics;
  for (const auto& name : o.topics)
    topics.push_back(NewTopic{.name = name,
                              .partitions = o.partitions,
                              .replication_factor = o.replication_factor,
                              .configs = o.configs});
  auto [ec, r] =
      co_await admin.create_topics(std::move(topics), CreateTopicsOptions{.validate_only = o.dry_run});
  std::string out;
  Table t;
  t.add({"TOPIC", "PARTITIONS", "REPLICATION-FACTOR", "TOPIC-ID", "STATUS"});
  for (const auto& c : r.topics) {
    const std::string status = c.ec ? error_name(c.ec) : o.dry_run ? "would be created" : "created";
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"topic\":" + json_string(c.name) + ",\"ok\":" + (c.ec ? "false" : "true") +
             ",\"partitions\":" + std::to_string(c.partitions) +
             ",\"replication_factor\":" + std::to_string(c.replication_factor) +
             ",\"topic_id\":" + json_string(uuid_text(c.topic_id)) + ",\"error\":" + json_error(c) + "}";
    } else {
      auto num = [&](int64_t n) { return c.ec || n < 0 ? std::string("-") : std::to_string(n); };
      t.add({c.name, num(c.partitions), num(c.replication_factor),
             c.topic_id.is_zero() ? "-" : uuid_text(c.topic_id), status});
    }
  }
  write_results(o.json, o.dry_run, "topics", out, t, ec ? "" : "Dry run (validate_only): nothing created.");
  co_return report_failures(r.topics, "topic ");
}

// ---------------------------------------------------------------------------------------- delete

asio::awaitable<int> delete_topics(const TopicsOptions& o, Admin& admin) {
  std::string out;
  Table t;
  t.add({"TOPIC", "TOPIC-ID", "PARTITIONS", "STATUS"});
  auto row = [&](const TopicOutcome& x, const proto::Uuid& id, std::optional<size_t> partitions,
                 const std::string& done) {
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"topic\":" + json_string(x.name) + ",\"ok\":" + (x.ec ? "false" : "true") +
             ",\"topic_id\":" + json_string(uuid_text(id)) +
             (partitions ? ",\"partitions\":" + std::to_string(*partitions) : std::string()) +
             ",\"error\":" + json_error(x) + "}";
    } else {
      t.add({x.name, id.is_zero() ? "-" : uuid_text(id), partitions ? std::to_string(*partitions) : "-",
             x.ec ? error_name(x.ec) : done});
    }
  };
  AdminResult<TopicDescription> described;
  AdminResult<DeletedTopic> deleted;
  if (o.dry_run) {
    // What would be deleted: the topics as they are now; one that does not exist is an error, as the
    // deletion would be.
    std::error_code ec;
    std::tie(ec, described) = co_await admin.describe_topics(o.topics);
    for (const auto& d : described.topics) {
      row(d, d.topic_id, d.ec ? std::nullopt : std::optional<size_t>(d.partitions.size()),
          "would be deleted");
    }
  } else {
    std::error_code ec;
    std::tie(ec, deleted) = co_await admin.delete_topics(o.topics);
    for (const auto& d : deleted.topics) {
      row(d, d.topic_id, std::nullopt, "deleted");
    }
  }
  write_results(o.json, o.dry_run, "topics", out, t, "Dry run: nothing deleted.");
  co_return o.dry_run ? report_failures(described.topics, "topic ")
                      : report_failures(deleted.topics, "topic ");
}

// -------------------------------------------------------------------------------- add partitions

asio::awaitable<int> add_partitions(const TopicsOptions& o, Admin& admin) {
  // The counts as they are, to show what changes (a topic that cannot be described is still sent: the
  // controller's answer names what is wrong with it).
  auto [dec, described] = co_await admin.describe_topics(o.topics);
  std::vector<NewPartitions> topics;
  for (const auto& name : o.topics) topics.push_back({.topic = name, .total_count = o.partitions});
  auto [ec, r] = co_await admin.create_partitions(std::move(topics),
                                                  CreatePartitionsOptions{.validate_only = o.dry_run});
  std::string out;
  Table t;
  t.add({"TOPIC", "PARTITIONS-BEFORE", "PARTITIONS", "STATUS"});
  for (const auto& c : r.topics) {
    const TopicDescription* d = described.find(c.name);
    const std::optional<size_t> before =
        d && !d->ec ? std::optional<size_t>(d->partitions.size()) : std::nullopt;
    const std::string status = c.ec ? error_name(c.ec) : o.dry_run ? "would be added" : "added";
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"topic\":" + json_string(c.name) + ",\"ok\":" + (c.ec ? "false" : "true") +
             ",\"partitions_before\":" + (before ? std::to_string(*before) : "null") +
             ",\"partitions\":" + std::to_string(o.partitions) + ",\"error\":" + json_error(c) + "}";
    } else {
      t.add({c.name, before ? std::to_string(*before) : "-", std::to_string(o.partitions), status});
    }
  }
  write_results(o.json, o.dry_run, "topics", out, t,
                ec ? "" : "Dry run (validate_only): no partition added.");
  co_return report_failures(r.topics, "topic ");
}

}  // namespace

int run_topics(int argc, char** argv) {
  TopicsOptions o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  return run_admin_command(o, [&o](Admin& admin) -> asio::awaitable<int> {
    if (o.command == "list") return list_topics(o, admin);
    if (o.command == "describe") return describe_topics(o, admin);
    if (o.command == "create") return create_topics(o, admin);
    if (o.command == "add-partitions") return add_partitions(o, admin);
    return delete_topics(o, admin);
  });
}

}  // namespace kafkawire::cli
