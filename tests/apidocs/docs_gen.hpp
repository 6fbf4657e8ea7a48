// The generated parts of the API documentation, in one place for the program that writes them
// (kafkawire-docs --update) and the unit test that fails when the committed docs differ:
//   docs/configuration.md   rendered from config_keys() (consumer/src/config.cpp)
//   docs/api-guide.md       the code block after each `<!-- snippet: examples/x.cpp -->` is that file
//                           (```cmake for CMakeLists.txt and *.cmake, else ```cpp)
#pragma once

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "kafkawire/consumer/config.hpp"

namespace kafkawire::docs {

inline std::optional<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A table cell: `|` would end it.
inline std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

inline std::string config_markdown() {
  std::string md =
      "# Configuration reference\n"
      "\n"
      "<!-- Generated from config_keys() in consumer/src/config.cpp by `kafkawire-docs --update`; the unit\n"
      "     test \"docs/configuration.md is config_keys()\" fails when this file differs. Edit the table "
      "there. -->\n"
      "\n"
      "Every key the `Config` of the Consumer, the Producer and the Admin accepts, with the names Java and\n"
      "librdkafka users already know. Keys are checked when the Config is built: an unknown key is an error\n"
      "naming the closest known one (`fetch.max.wait` -> did you mean `fetch.max.wait.ms`?), and a bad "
      "value\n"
      "names the key and what it accepts (the `accepts` column). Durations (`*.ms`) are whole milliseconds.\n"
      "\n"
      "```cpp\n"
      "kafkawire::Config cfg{{\"bootstrap.servers\", \"127.0.0.1:9092\"}, {\"group.id\", \"billing\"}};  // "
      "throws ConfigError\n"
      "std::string problem;                                                       // or, without "
      "exceptions:\n"
      "if (auto ec = kafkawire::Config::parse(key_values, cfg, problem)) { /* problem names the key */ }\n"
      "```\n"
      "\n"
      "The `kafkawire` command line takes the same keys with `-X key=value` or a Java client's properties "
      "file\n"
      "as it is (`-F client.properties`), prints the configuration they make with `-X dump` (secrets "
      "redacted),\n"
      "and prints this table with `kafkawire --help-config`.\n";
  const std::pair<std::string_view, std::string_view> sections[] = {
      {"connection", "Connections and metadata (Consumer, Producer and Admin)"},
      {"security", "Security: TLS and SASL (Consumer, Producer and Admin)"},
      {"consumer", "Consumer"},
      {"group", "Consumer groups (subscribe)"},
      {"producer", "Producer"},
  };
  for (const auto& [id, title] : sections) {
    md += "\n## " + std::string(title) + "\n\n| key | default | accepts | meaning |\n|---|---|---|---|\n";
    for (const auto& k : config_keys())
      if (k.section == id)
        md += "| `" + std::string(k.name) + "` | " +
              (k.default_value.empty() ? std::string("(none)") : "`" + std::string(k.default_value) + "`") +
              " | " + cell(config_accepts(k.rule)) + " | " + cell(k.meaning) +
              (k.secret == ConfigSecret::none ? std::string()
               : k.secret == ConfigSecret::value
                   ? std::string(
                         ". Secret: `kafkawire -X dump` and error messages show it as [redacted, N chars]")
                   : std::string(
                         ". Secret: `kafkawire -X dump` and error messages show the values of its options "
                         "but username as [redacted, N chars]")) +
              " |\n";
  }
  md +=
      "\n## Keys of Java's clients\n\n"
      "Keys that the properties files of Java clients often hold and kafkawire has no setting for. A value\n"
      "listed under `taken` is what kafkawire does anyway: it is accepted and changes nothing. Any other "
      "value\n"
      "is refused with the reason below, naming the key (never the value). Other unknown keys are errors.\n"
      "\n| key | taken | otherwise refused because |\n|---|---|---|\n";
  for (const auto& j : java_client_keys()) {
    std::string taken;
    for (size_t at = 0; at < j.accepted.size();) {
      const size_t comma = std::min(j.accepted.find(',', at), j.accepted.size());
      taken += (taken.empty() ? "`" : ", `") + std::string(j.accepted.substr(at, comma - at)) + "`";
      at = comma + 1;
    }
    md += "| `" + std::string(j.name) + "` | " + (taken.empty() ? std::string("(nothing)") : taken) + " | " +
          cell(j.why) + " |\n";
  }
  return md;
}

// `markdown` with the code block after each snippet marker replaced by the file it names (relative to
// `root`). nullopt when a marker names a file that cannot be read (`problem` says which).
inline std::optional<std::string> with_snippets(std::string_view markdown, const std::filesystem::path& root,
                                                std::string& problem) {
  constexpr std::string_view open = "<!-- snippet: ", close = " -->";
  std::string out;
  std::istringstream in{std::string(markdown)};
  std::string line;
  bool skipping = false;  // inside the old code block after a marker
  bool after_marker = false;
  while (std::getline(in, line)) {
    if (after_marker) {
      after_marker = false;
      if (line.starts_with("```")) {
        skipping = true;
        continue;
      }
    }
    if (skipping) {
      if (line == "```") skipping = false;
      continue;
    }
    out += line + "\n";
    if (line.starts_with(open) && line.ends_with(close)) {
      const std::string file = line.substr(open.size(), line.size() - open.size() - close.size());
      auto text = read_file(root / file);
      if (!text) {
        problem = "snippet " + file + ": cannot read " + (root / file).string();
        return std::nullopt;
      }
      if (!text->empty() && text->back() != '\n') *text += '\n';
      const bool cmake = file.ends_with("CMakeLists.txt") || file.ends_with(".cmake");
      out += (cmake ? "```cmake\n" : "```cpp\n") + *text + "```\n";
      after_marker = true;
    }
  }
  return out;
}

}  // namespace kafkawire::docs
