// The committed API documentation is what it is generated from: docs/configuration.md is config_keys(),
// and the code in docs/api-guide.md is examples/*.cpp. Update both with `kafkawire-docs <source dir>
// --update` (built in build/tests/apidocs/).
#include <catch2/catch.hpp>

#include "apidocs/docs_gen.hpp"

namespace docs = kafkawire::docs;

namespace {
const std::filesystem::path kRoot = KAFKAWIRE_SOURCE_DIR;
}

TEST_CASE("docs/configuration.md is config_keys()", "[docs]") {
  const auto committed = docs::read_file(kRoot / "docs/configuration.md");
  REQUIRE(committed);
  INFO("docs/configuration.md is out of date: run build/tests/apidocs/kafkawire-docs . --update");
  CHECK(*committed == docs::config_markdown());
}

TEST_CASE("every key is in a section of docs/configuration.md, once", "[docs]") {
  const std::string md = docs::config_markdown();
  for (const auto& k : kafkawire::config_keys()) {
    INFO(k.name << " (section '" << k.section << "')");
    const std::string row = "| `" + std::string(k.name) + "` |";
    const auto at = md.find(row);
    CHECK(at != std::string::npos);
    CHECK(md.find(row, at + 1) == std::string::npos);
    CHECK_FALSE(k.meaning.empty());
    // The row shows the default and the rule the parser checks, from the same table entry.
    const std::string shown =
        row + " " +
        (k.default_value.empty() ? std::string("(none)") : "`" + std::string(k.default_value) + "`") + " | " +
        kafkawire::config_accepts(k.rule) + " | ";
    CHECK(md.find(shown) == at);
  }
  // A key added to the table shows up in the doc (here: the rule of one key, in words).
  CHECK(md.find("| `max.poll.records` | `500` | 1 to 2147483647 | ") != std::string::npos);
}

TEST_CASE("the code in docs/api-guide.md is examples/*.cpp", "[docs]") {
  const auto committed = docs::read_file(kRoot / "docs/api-guide.md");
  REQUIRE(committed);
  std::string problem;
  const auto generated = docs::with_snippets(*committed, kRoot, problem);
  INFO(problem);
  REQUIRE(generated);
  INFO("docs/api-guide.md is out of date: run build/tests/apidocs/kafkawire-docs . --update");
  CHECK(*committed == *generated);
  // Each style's example is in the guide.
  for (const char* file : {"examples/callback.cpp", "examples/coroutine.cpp", "examples/blocking.cpp"})
    CHECK(committed->find(std::string("<!-- snippet: ") + file + " -->") != std::string::npos);
}

TEST_CASE("snippets: the block after a marker becomes the file; other blocks stay", "[docs]") {
  const auto dir = std::filesystem::temp_directory_path() / "kafkawire-docs-test";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.cpp") << "int a;\n";
  std::string problem;
  const std::string md =
      "intro\n<!-- snippet: a.cpp -->\n```cpp\nold\ncode\n```\ntext\n```sh\nkeep me\n```\n<!-- snippet: "
      "a.cpp -->\nend\n";
  const auto out = docs::with_snippets(md, dir, problem);
  REQUIRE(out);
  CHECK(*out ==
        "intro\n<!-- snippet: a.cpp -->\n```cpp\nint a;\n```\ntext\n```sh\nkeep me\n```\n<!-- snippet: a.cpp "
        "-->\n"
        "```cpp\nint a;\n```\nend\n");
  CHECK(docs::with_snippets(*out, dir, problem) == out);  // stable
  CHECK_FALSE(docs::with_snippets("<!-- snippet: missing.cpp -->\n", dir, problem));
  CHECK(problem.find("missing.cpp") != std::string::npos);
  std::filesystem::remove_all(dir);
}
