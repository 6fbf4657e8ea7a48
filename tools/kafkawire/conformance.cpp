// `kafkawire conformance`: the conformance suite (tools/conformance) against any broker, with the
// connection every other command makes from -b/-X/-F (TLS, SASL). Prints the API x version matrix and
// every failure explained, or the whole result as JSON, JUnit XML or the Markdown of docs/conformance.md.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>

#include "commands.hpp"
#include "conformance.hpp"
#include "util.hpp"

namespace kafkawire::cli {
namespace {

constexpr std::string_view kCommand = "conformance";

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire conformance -b <host:port> [-X key=value | -F file] [options]

Runs kafkawire's conformance suite against a broker: every API kafkawire speaks at every version both
sides serve (the request encoded by kafkawire's codec, the response decoded completely, re-encoded to the
broker's exact bytes, and its error codes and data checked), and flows beyond single requests: a classic
consumer group end to end, KIP-848's, fetch sessions kept across fetches, a produce/fetch round trip per
codec, and the errors a broker gives for misuse. It creates its own topics and groups (named
kwc-<run id>-...) and deletes the topics at the end. Prints the API x version matrix and explains every
failure: the check, the request sent and the response received, as JSON.

Options:
  -b <brokers>          bootstrap.servers (default: $KAFKAWIRE_BOOTSTRAP)
  -X <key=value>        a configuration key: security.protocol, sasl.*, ssl.* connect as every other
                        command does (kafkawire --help-config lists them; -X dump prints the configuration)
  -F <file>             configuration file, a Java client's .properties file as it is
  --only <API[,API]>    only these APIs' cells (and the stages they need); names as in the matrix:
                        Fetch, JoinGroup, OffsetCommit, ...
  --read-only           create and change nothing (a production cluster): ApiVersions, Metadata,
                        ListOffsets, Fetch of the data already there, FindCoordinator, DescribeGroups,
                        ListGroups, OffsetFetch, ConsumerGroupDescribe, of topics and groups the
                        cluster has
  --json                the whole result as JSON on stdout, instead of the text
  --markdown            the table as docs/conformance.md has it, instead of the text
  --junit <file>        also write a JUnit XML report: one testcase per API x version cell and per flow
  --label <text>        what the broker is, for the header ("Kafka 4.4.0", "Redpanda 25.1")
  --run-id <id>         the id in topic and group names (default: random)
  -h, --help            this text

Cells: ok (every check passed), ok* (passed, with a note), FAIL (explained below the table), ?? (both
sides serve the version and nothing tested it: a failure), - (only one side serves the version: the
broker does not advertise it, or kafkawire does not speak it), blank (neither).

Exit status: 0 when every cell the broker advertises and every flow passed, 1 when one did not (or the
broker could not be reached), 2 bad usage.
)",
      out);
}

struct Options {
  ConfigInput config;
  bool dump_config = false;
  conformance::Options suite;
  bool json = false, markdown = false;
  std::string junit;
};

int parse_args(int argc, char** argv, Options& o) {
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
    } else if (a == "--only") {
      if (!value(v)) return usage_error(kCommand, problem);
      const auto known = conformance::api_names();
      while (true) {
        const auto comma = v.find(',');
        const std::string name(v.substr(0, comma));
        // As the matrix spells it, in any case.
        auto it = std::find_if(known.begin(), known.end(), [&](const std::string& k) {
          return k.size() == name.size() && std::equal(k.begin(), k.end(), name.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) ==
                          std::tolower(static_cast<unsigned char>(y));
                 });
        });
        if (it == known.end()) {
          std::string list;
          for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
          return usage_error(kCommand,
                             "--only: '" + name + "' is not an API kafkawire speaks (" + list + ")");
        }
        o.suite.only.insert(*it);
        if (comma == std::string_view::npos) break;
        v = v.substr(comma + 1);
      }
    } else if (a == "--read-only") {
      o.suite.read_only = true;
    } else if (a == "--json" || a == "-J") {
      o.json = true;
    } else if (a == "--markdown") {
      o.markdown = true;
    } else if (a == "--junit") {
      if (!value(v)) return usage_error(kCommand, problem);
      o.junit = std::string(v);
    } else if (a == "--label") {
      if (!value(v)) return usage_error(kCommand, problem);
      o.suite.label = std::string(v);
    } else if (a == "--run-id") {
      if (!value(v)) return usage_error(kCommand, problem);
      o.suite.run_id = std::string(v);
      for (char ch : o.suite.run_id)
        if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
          return usage_error(kCommand,
                             "--run-id: use letters, digits, '-', '_' and '.' (it goes into topic names)");
    } else {
      return usage_error(
          kCommand,
          (!a.empty() && a.front() == '-' ? "unknown option " : "unexpected argument ") + std::string(a));
    }
  }
  if (o.dump_config) return dump_config(o.config, stdout);
  if (o.json && o.markdown) return usage_error(kCommand, "give --json or --markdown, not both");
  return -1;
}

}  // namespace

int run_conformance(int argc, char** argv) {
  Options o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  auto config = make_config(o.config);
  if (!config) return kExitUsage;
  try {
    o.suite.connection = pool_options(*config).connection;
  } catch (const std::exception& e) {
    return usage_error(kCommand, e.what());
  }
  o.suite.bootstrap = config->bootstrap_servers;
  const auto result = conformance::run(o.suite);

  if (!o.junit.empty()) {
    std::ofstream out(o.junit, std::ios::binary | std::ios::trunc);
    out << conformance::junit(result);
    if (!out.flush()) return failure("cannot write the JUnit report to " + o.junit);
  }
  const std::string shown = o.json       ? conformance::json(result)
                            : o.markdown ? conformance::markdown(result)
                                         : conformance::text(result);
  std::fwrite(shown.data(), 1, shown.size(), stdout);
  std::fflush(stdout);
  if (!result.setup_error.empty() && (o.json || o.markdown))
    std::fprintf(stderr, "kafkawire: %s\n", result.setup_error.c_str());
  return result.failing() == 0 ? kExitOk : kExitFailure;
}

}  // namespace kafkawire::cli
