// `kafkawire configs`: describe and alter the configs of topics and brokers, with the library's Admin
// (DescribeConfigs, IncrementalAlterConfigs). The options follow kafka-configs.sh where it has them
// (--add-config k1=v1,k2=[a,b], --delete-config k1,k2, --all), with --topic / --broker in place of
// --entity-type / --entity-name.
#include "admin_cli.hpp"
#include "commands.hpp"

namespace kafkawire::cli {
namespace {

constexpr std::string_view kCommand = "configs";
constexpr std::string_view kMasked = "******";

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire configs <command> <resource>... [options]

Commands:
  describe                     the configs of each resource (DescribeConfigs): by default the keys set
                               on the resource itself (as kafka-configs.sh --describe); --all: every key,
                               with its source (DYNAMIC_TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG,
                               ...); --synonyms: the values each key overrides. Sensitive values are
                               never shown (******)
  alter                        changes keys of each resource, leaving the others as they are
                               (IncrementalAlterConfigs); a resource's changes are made together or not
                               at all. --dry-run: the broker checks them (validate_only), changes nothing

Resources (at least one):
  --topic <name>               a topic
  --broker <id>                a broker (its configs go to and come from that broker)
  --broker-defaults            the cluster-wide dynamic broker defaults (kafka-configs.sh --entity-default)

Changes (alter):
  --set <key=value>            sets a key (the value as written: commas and all)
  --add-config <k=v,k2=[a,b]>  sets keys, kafka-configs.sh's syntax: comma-separated, a list in brackets
  --delete <key>               deletes a key: it goes back to the value it falls back to
  --delete-config <k1,k2>      deletes keys, comma-separated
  --append <key=value>         adds an item to a list-valued key (cleanup.policy, ...)
  --subtract <key=value>       removes an item from a list-valued key
  --dry-run                    validate_only: checked by the broker, nothing changed

Options:
  --all                        describe: every key, not only the ones set on the resource
  --synonyms                   describe: each key's synonyms
)",
      out);
  std::fputs(kAdminOptionsHelp.data(), out);
  std::fputs(R"(
Each failed resource is named on stderr with the broker's error and message, e.g.
  kafkawire: topic orders: INVALID_CONFIG: Unknown topic config name: retention.msx
Exit status: 0 ok, 1 a resource failed (or the cluster could not be reached), 2 bad usage.
)",
             out);
}

struct ConfigsOptions : AdminOptions {
  std::string command;
  std::vector<ConfigResource> resources;
  std::vector<ConfigAlteration> alterations;
  bool dry_run = false;
  bool all = false;
  bool synonyms = false;
};

// "k1=v1,k2=[a,b],k3=v3" (kafka-configs.sh --add-config): the items at commas outside brackets, a
// bracketed value without its brackets. False with `problem` on an item that is not key=value.
bool split_add_config(std::string_view text, std::vector<ConfigAlteration>& out, std::string& problem) {
  std::vector<std::string> items(1);
  int depth = 0;
  for (char c : text) {
    if (c == '[') ++depth;
    if (c == ']' && depth > 0) --depth;
    if (c == ',' && depth == 0)
      items.emplace_back();
    else
      items.back() += c;
  }
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      problem = "'" + item + "' is not key=value";
      return false;
    }
    std::string value = item.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '[' && value.back() == ']')
      value = value.substr(1, value.size() - 2);
    out.push_back({item.substr(0, eq), ConfigOp::set, std::move(value)});
  }
  return true;
}

int parse_args(int argc, char** argv, ConfigsOptions& o) {
  constexpr std::string_view kCommands = "give a command: describe or alter";
  if (argc < 2) return usage_error(kCommand, std::string(kCommands));
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string problem;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    std::string_view v;
    auto value = [&] { return option_value(args, i, v, problem); };
    // key=value of --set, --append, --subtract.
    auto pair = [&](ConfigOp op) {
      if (!value()) return false;
      const auto eq = v.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        problem = std::string(a) + ": '" + std::string(v) + "' is not key=value";
        return false;
      }
      o.alterations.push_back({std::string(v.substr(0, eq)), op, std::string(v.substr(eq + 1))});
      return true;
    };
    if (auto rc = admin_option(kCommand, print_help, args, i, o)) {
      if (*rc == kTaken) continue;
      return *rc;
    }
    if (a == "--topic") {
      if (!value()) return usage_error(kCommand, problem);
      if (v.empty()) return usage_error(kCommand, "--topic: give a topic name");
      o.resources.push_back({ConfigResourceType::topic, std::string(v)});
    } else if (a == "--broker") {
      if (!value()) return usage_error(kCommand, problem);
      auto id = parse_i32(v);
      if (!id || *id < 0)
        return usage_error(kCommand, "--broker: '" + std::string(v) + "' is not a broker id");
      o.resources.push_back({ConfigResourceType::broker, std::to_string(*id)});
    } else if (a == "--broker-defaults") {
      o.resources.push_back({ConfigResourceType::broker, ""});
    } else if (a == "--set") {
      if (!pair(ConfigOp::set)) return usage_error(kCommand, problem);
    } else if (a == "--append") {
      if (!pair(ConfigOp::append)) return usage_error(kCommand, problem);
    } else if (a == "--subtract") {
      if (!pair(ConfigOp::subtract)) return usage_error(kCommand, problem);
    } else if (a == "--add-config") {
      if (!value()) return usage_error(kCommand, problem);
      if (!split_add_config(v, o.alterations, problem))
        return usage_error(kCommand, "--add-config: " + problem);
    } else if (a == "--delete" || a == "--delete-config") {
      if (!value()) return usage_error(kCommand, problem);
      size_t start = 0;
      for (;;) {
        const size_t comma = a == "--delete" ? std::string_view::npos : v.find(',', start);
        const std::string_view key =
            v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
        if (key.empty())
          return usage_error(kCommand, std::string(a) + ": an empty key in '" + std::string(v) + "'");
        o.alterations.push_back({std::string(key), ConfigOp::remove, std::nullopt});
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
    } else if (a == "--dry-run") {
      o.dry_run = true;
    } else if (a == "--all") {
      o.all = true;
    } else if (a == "--synonyms") {
      o.synonyms = true;
    } else if (!a.empty() && a.front() == '-') {
      return usage_error(kCommand, "unknown option " + std::string(a));
    } else if (o.command.empty()) {
      o.command = std::string(a);
    } else {
      return usage_error(
          kCommand, "'" + std::string(a) + "': name a resource with --topic, --broker or --broker-defaults");
    }
  }
  if (o.dump_config) return -1;
  if (o.command != "describe" && o.command != "alter")
    return usage_error(kCommand,
                       o.command.empty() ? std::string(kCommands) : "unknown command '" + o.command + "'");
  if (o.resources.empty())
    return usage_error(kCommand,
                       o.command + " needs a resource: --topic <name>, --broker <id> or --broker-defaults");
  if (o.command == "alter" && o.alterations.empty())
    return usage_error(
        kCommand,
        "alter needs a change: --set, --add-config, --delete, --delete-config, --append or --subtract");
  if (o.command == "describe" && !o.alterations.empty())
    return usage_error(kCommand, "--set, --delete, --append and --subtract are for alter");
  if (o.command == "describe" && o.dry_run) return usage_error(kCommand, "--dry-run is for alter");
  if (o.command == "alter" && (o.all || o.synonyms))
    return usage_error(kCommand, "--all and --synonyms are for describe");
  return -1;
}

// Whether a key is set on the resource itself (what kafka-configs.sh --describe shows without --all).
bool set_here(const DescribedConfigs& d, const ConfigEntry& e) {
  using S = protocol::ConfigSource;
  if (d.type == ConfigResourceType::topic) return e.source == S::kTopicConfig;
  if (d.type == ConfigResourceType::broker_logger) return e.source == S::kDynamicBrokerLoggerConfig;
  return e.source == (d.name.empty() ? S::kDynamicDefaultBrokerConfig : S::kDynamicBrokerConfig);
}

std::string label(ConfigResourceType type, const std::string& name) {
  return type == ConfigResourceType::broker && name.empty() ? "broker defaults"
                                                            : std::string(to_string(type)) + " " + name;
}

std::string shown(const ConfigEntry& e) {
  if (e.sensitive) return std::string(kMasked);
  return e.value ? *e.value : "null";
}

std::string json_value(bool sensitive, const std::optional<std::string>& value) {
  return sensitive || !value ? "null" : json_string(*value);
}

asio::awaitable<int> describe(const ConfigsOptions& o, Admin& admin) {
  auto [ec, r] = co_await admin.describe_configs(
      o.resources, DescribeConfigsOptions{.include_synonyms = o.synonyms, .include_documentation = false});
  std::string out;
  for (const auto& d : r.topics) {
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"type\":" + json_string(to_string(d.type)) + ",\"name\":" + json_string(d.name) +
             ",\"ok\":" + (d.ec ? "false" : "true") + ",\"error\":" + json_error(d) + ",\"configs\":[";
      bool first = true;
      for (const auto& e : d.configs) {
        if (!o.all && !set_here(d, e)) continue;
        out += first ? "" : ",";
        first = false;
        out += "{\"name\":" + json_string(e.name) + ",\"value\":" + json_value(e.sensitive, e.value) +
               ",\"source\":" + json_string(config_source_name(e.source)) +
               ",\"read_only\":" + (e.read_only ? "true" : "false") +
               ",\"sensitive\":" + (e.sensitive ? "true" : "false") + ",\"synonyms\":[";
        for (size_t i = 0; i < e.synonyms.size(); ++i) {
          const auto& syn = e.synonyms[i];
          out += (i ? "," : "");
          out += "{\"name\":" + json_string(syn.name) + ",\"value\":" + json_value(e.sensitive, syn.value) +
                 ",\"source\":" + json_string(config_source_name(syn.source)) + "}";
        }
        out += "]}";
      }
      out += "]}";
      continue;
    }
    if (d.ec) continue;  // on stderr below
    size_t n = 0;
    Table t;
    t.add({"KEY", "VALUE", "SOURCE", "READ-ONLY", "SENSITIVE"});
    for (const auto& e : d.configs) {
      if (!o.all && !set_here(d, e)) continue;
      ++n;
      t.add({e.name, shown(e), std::string(config_source_name(e.source)), e.read_only ? "yes" : "no",
             e.sensitive ? "yes" : "no"});
      for (const auto& syn : e.synonyms)
        t.add({"  " + syn.name, e.sensitive ? std::string(kMasked) : syn.value.value_or("null"),
               std::string(config_source_name(syn.source)), "", ""});
    }
    out += (out.empty() ? "" : "\n");
    out +=
        "Configs of " + label(d.type, d.name) + (o.all ? "" : " set on it") + ": " + std::to_string(n) + "\n";
    if (n) out += t.str();
  }
  write(o.json ? "{\"resources\":[" + out + "]}\n" : out);
  co_return report_failures(r.topics, "");
}

asio::awaitable<int> alter(const ConfigsOptions& o, Admin& admin) {
  std::vector<ConfigChange> changes;
  for (const auto& res : o.resources) changes.push_back({res, o.alterations});
  auto [ec, r] = co_await admin.incremental_alter_configs(std::move(changes),
                                                          AlterConfigsOptions{.validate_only = o.dry_run});
  std::string what;
  for (const auto& a : o.alterations) {
    // The broker says which keys are sensitive only when describing them: mask what looks like a secret.
    const bool secret = a.op != ConfigOp::remove && (a.key.find("password") != std::string::npos ||
                                                     a.key.find("secret") != std::string::npos ||
                                                     a.key.find("jaas") != std::string::npos);
    const std::string value = secret ? std::string(kMasked) : a.value.value_or("");
    what += (what.empty() ? "" : ", ");
    switch (a.op) {
      case ConfigOp::set:
        what += a.key + "=" + value;
        break;
      case ConfigOp::remove:
        what += "-" + a.key;
        break;
      case ConfigOp::append:
        what += a.key + "+=" + value;
        break;
      case ConfigOp::subtract:
        what += a.key + "-=" + value;
        break;
    }
  }
  std::string out;
  Table t;
  t.add({"RESOURCE", "CHANGES", "STATUS"});
  for (const auto& a : r.topics) {
    const std::string status = a.ec ? error_name(a.ec) : o.dry_run ? "would be changed" : "changed";
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"type\":" + json_string(to_string(a.type)) + ",\"name\":" + json_string(a.name) +
             ",\"ok\":" + (a.ec ? "false" : "true") + ",\"error\":" + json_error(a) + "}";
    } else {
      t.add({label(a.type, a.name), what, status});
    }
  }
  write_results(o.json, o.dry_run, "resources", out, t,
                ec ? "" : "Dry run (validate_only): nothing changed.");
  co_return report_failures(r.topics, "");
}

}  // namespace

int run_configs(int argc, char** argv) {
  ConfigsOptions o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  return run_admin_command(o, [&o](Admin& admin) -> asio::awaitable<int> {
    return o.command == "describe" ? describe(o, admin) : alter(o, admin);
  });
}

}  // namespace kafkawire::cli
