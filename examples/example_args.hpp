// The examples' command line: their positional arguments, and `-X key=value` (repeatable, anywhere), as
// the kafkawire CLI takes it. Each -X is a configuration key (`kafkawire --help-config` lists them) laid
// over the settings the example itself gives every Config it builds, producer and consumer alike:
//
//   example-blocking 127.0.0.1:9092 orders billing 200 -X group.protocol=consumer
//   example-coroutine broker:9093 orders billing -X security.protocol=SSL -X ssl.ca.location=ca.pem
#pragma once

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/consumer/config.hpp"

namespace examples {

struct Args {
  std::vector<std::string> positional;          // every argument but the -X ones, in order
  std::map<std::string, std::string> settings;  // the -X ones, each key and value already checked

  // The example's own settings with the -X ones over them. Throws kafkawire::ConfigError naming the key
  // when the two together are refused (session.timeout.ms with group.protocol=consumer, say).
  kafkawire::Config config(std::map<std::string, std::string> own) const {
    for (const auto& [key, value] : settings) own[key] = value;
    return kafkawire::Config(own);
  }
};

// Splits argv. On bad usage prints why to stderr (a key the Config refuses is named, with the closest
// known key) or, with fewer than `required` positional arguments, the usage line; then nullopt.
inline std::optional<Args> parse_args(int argc, char** argv, const char* usage, size_t required) {
  Args args;
  std::string problem;
  for (int i = 1; i < argc && problem.empty(); ++i) {
    const std::string arg = argv[i];
    if (arg != "-X") {
      args.positional.push_back(arg);
      continue;
    }
    if (i + 1 == argc) {
      problem = "-X needs key=value";
      break;
    }
    const std::string pair = argv[++i];
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {  // the value is not shown: it may be a password
      problem = eq ? "-X " + pair + ": not key=value" : std::string("-X: no key before '='");
      break;
    }
    std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    kafkawire::Config check;  // each key and value on its own, so the error names the -X that is wrong
    if (check.set(key, value, problem)) problem = "-X: " + problem;
    args.settings[std::move(key)] = std::move(value);
  }
  if (!problem.empty()) {
    std::fprintf(stderr, "%s: %s\n", argv[0], problem.c_str());
    return std::nullopt;
  }
  if (args.positional.size() < required) {
    std::fprintf(stderr, "usage: %s %s [-X key=value]...\n", argv[0], usage);
    return std::nullopt;
  }
  return args;
}

}  // namespace examples
