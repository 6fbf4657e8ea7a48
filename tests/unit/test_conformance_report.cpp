// The conformance report's Markdown (tools/conformance/report.cpp): what docs/conformance.md and
// docs/conformance-versions.md are made of.
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "conformance.hpp"

using namespace kafkawire::conformance;

namespace {

Result two_cells() {
  Result r;
  r.label = "Broker X";
  r.metadata_version = 33;
  r.columns = 1;
  ApiRow a;
  a.key = 1;
  a.name = "Fetch";
  a.min_version = 0;
  a.max_version = 1;
  a.broker = std::pair<int16_t, int16_t>{0, 1};
  CellResult ok{.version = 0, .state = State::noted, .failures = {}, .failure_count = 0, .notes = {"a note"}};
  CellResult bad{.version = 1,
                 .state = State::failed,
                 .failures = {{"ctx", "HighWatermark: got 2, want 3", "{}", "{}"}},
                 .failure_count = 1,
                 .notes = {}};
  a.cells = {ok, bad};
  r.apis.push_back(a);
  FlowRow f;
  f.name = "a flow";
  f.state = State::failed;
  f.failures = {{"ctx", "Fetch v1: HighWatermark: got 2, want 3", "{}", "{}"}};
  f.failure_count = 1;
  r.flows.push_back(f);
  return r;
}

std::vector<std::string> lines_after_tables(const std::string& md) {
  std::vector<std::string> out;
  std::istringstream in(md);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '|' && line[0] != '#') out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("markdown: a heading naming the broker and the verdict", "[conformance]") {
  const std::string md = markdown(two_cells());
  CHECK(md.rfind("### Broker X (metadata.version level 33): 2 failing\n", 0) == 0);
  CHECK(md.find("| ok* | FAIL|") != std::string::npos);
}

TEST_CASE("markdown: each note and failure under the tables is a list item of its own", "[conformance]") {
  // Plain lines one under the other are one paragraph in Markdown: the notes ran together.
  const auto lines = lines_after_tables(markdown(two_cells()));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "- \\* Fetch v0: a note");
  CHECK(lines[1] == "- FAIL Fetch v1: HighWatermark: got 2, want 3");
  CHECK(lines[2] == "- FAIL a flow: Fetch v1: HighWatermark: got 2, want 3");
}
