// The conformance result as text, JSON, JUnit XML and Markdown (conformance.hpp).
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "conformance.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire::conformance {
namespace {

std::string cell_symbol(State s) {
  switch (s) {
    case State::ok:
      return "ok";
    case State::noted:
      return "ok*";
    case State::failed:
      return "FAIL";
    case State::untested:
      return "??";
    case State::not_served:
    case State::not_spoken:
      return "-";
    case State::none:
      return "";
  }
  return "";
}

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string range(int16_t lo, int16_t hi) { return std::to_string(lo) + "-" + std::to_string(hi); }

std::string cell_name(const ApiRow& a, int16_t v) { return a.name + " v" + std::to_string(v); }

// The API x version table, Markdown, as docs/conformance.md has it.
std::string table(const Result& r) {
  std::ostringstream out;
  out << "| " << pad("API (key)", 28) << "| " << pad("kafkawire", 10) << "| " << pad("broker", 7);
  for (int v = 0; v <= r.columns; ++v) out << "| " << pad(std::to_string(v), 4);
  out << "|\n|-----------------------------|-----------|--------";
  for (int v = 0; v <= r.columns; ++v) out << "|-----";
  out << "|\n";
  for (const auto& a : r.apis) {
    out << "| " << pad(a.name + " (" + std::to_string(a.key) + ")", 28) << "| "
        << pad(range(a.min_version, a.max_version), 10) << "| "
        << pad(a.broker ? range(a.broker->first, a.broker->second) : "none", 7);
    for (int v = 0; v <= r.columns; ++v) {
      const std::string s = v < static_cast<int>(a.cells.size()) ? cell_symbol(a.cells[v].state) : "";
      out << "| " << pad(s, 4);
    }
    out << "|\n";
  }
  return out.str();
}

std::string flow_table(const Result& r) {
  if (r.flows.empty()) return {};
  size_t width = 4;
  for (const auto& f : r.flows) width = std::max(width, f.name.size());
  std::ostringstream out;
  out << "| " << pad("Flow", width) << " | result |\n|" << std::string(width + 2, '-') << "|--------|\n";
  for (const auto& f : r.flows)
    out << "| " << pad(f.name, width) << " | " << pad(cell_symbol(f.state), 6) << " |\n";
  return out.str();
}

std::string header(const Result& r) {
  std::ostringstream out;
  out << "Kafka wire-protocol conformance: " << (r.label.empty() ? "broker" : r.label) << " at "
      << r.bootstrap;
  if (r.metadata_version >= 0) out << " (metadata.version level " << r.metadata_version << ")";
  if (!r.security.empty()) out << " over " << r.security;
  if (r.read_only) out << ", read-only";
  out << ", run " << r.run_id << ", " << std::fixed << std::setprecision(1) << r.seconds << " s, "
      << r.requests << " requests, " << r.records_compared << " fetched records compared";
  return out.str();
}

std::string clip(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  return s.substr(0, max) + "... (" + std::to_string(s.size()) + " characters)";
}

// Every failure of a cell or flow, each request and response shown once (several checks fail on the
// same exchange).
void explain(std::ostringstream& out, const std::string& where, const std::vector<Failure>& failures,
             int count, size_t max_json) {
  std::string last_request, last_response;
  for (const auto& f : failures) {
    out << "  " << where << ": " << (f.context.empty() ? "" : f.context + ": ") << f.check << "\n";
    if (!f.request.empty() && f.request != last_request)
      out << "      request:  " << clip(f.request, max_json) << "\n";
    if (!f.response.empty() && f.response != last_response)
      out << "      response: " << clip(f.response, max_json) << "\n";
    last_request = f.request;
    last_response = f.response;
  }
  if (count > static_cast<int>(failures.size()))
    out << "  " << where << ": ... " << (count - static_cast<int>(failures.size())) << " more\n";
}

// --- JSON ---

std::string js(std::string_view s) {
  std::string out;
  protocol::append_json_string(out, s);
  return out;
}

// The codec's JSON as it is (it is valid JSON), or as a string when it is too long to be useful whole.
std::string embedded(const std::string& s) {
  if (s.empty()) return "null";
  constexpr size_t kMax = 64 * 1024;
  if (s.size() <= kMax) return s;
  return js(s.substr(0, kMax) + "... (" + std::to_string(s.size()) + " characters)");
}

std::string strings(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? "," : "") + js(v[i]);
  return out + "]";
}

std::string failures_json(const std::vector<Failure>& fs) {
  std::string out = "[";
  for (size_t i = 0; i < fs.size(); ++i) {
    const auto& f = fs[i];
    out += (i ? "," : "") + std::string("{\"context\":") + js(f.context) + ",\"check\":" + js(f.check) +
           ",\"request\":" + embedded(f.request) + ",\"response\":" + embedded(f.response) + "}";
  }
  return out + "]";
}

// --- XML ---

std::string xml(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\n':
      case '\t':
        out += static_cast<char>(c);
        break;
      default:
        if (c < 0x20) {
          out += "?";  // not allowed in XML 1.0 at all
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::string failure_text(const std::vector<Failure>& fs, int count) {
  std::ostringstream out;
  explain(out, "", fs, count, 4000);
  return out.str();
}

}  // namespace

std::string_view state_name(State s) {
  switch (s) {
    case State::ok:
      return "ok";
    case State::noted:
      return "noted";
    case State::failed:
      return "failed";
    case State::untested:
      return "untested";
    case State::not_served:
      return "not_served";
    case State::not_spoken:
      return "not_spoken";
    case State::none:
      return "none";
  }
  return "none";
}

bool is_failure(State s) { return s == State::failed || s == State::untested; }

int Result::failing() const {
  int n = 0;
  for (const auto& a : apis)
    for (const auto& c : a.cells) n += is_failure(c.state) ? 1 : 0;
  for (const auto& f : flows) n += is_failure(f.state) ? 1 : 0;
  n += setup_error.empty() ? 0 : 1;
  n += static_cast<int>(stage_errors.size());
  return n;
}

std::string text(const Result& r, size_t max_json) {
  std::ostringstream out;
  out << header(r) << "\n";
  out << "ok: every check passed; ok*: passed, with a note below; FAIL: a check failed (explained below); "
         "??: both sides serve it, nothing tested it; -: only one side serves the version; blank: "
         "neither\n\n";
  out << table(r);
  if (!r.flows.empty()) out << "\n" << flow_table(r);
  if (!r.skipped.empty()) {
    out << "\nnot run" << (r.read_only ? " (--read-only)" : " (--only)") << ":";
    for (const auto& s : r.skipped) out << " " << s;
    out << "\n";
  }
  if (!r.setup_error.empty())
    out << "\nSETUP FAILED (the cells that depend on it are untested): " << r.setup_error << "\n";
  for (const auto& e : r.stage_errors) out << "\nstage error: " << e << "\n";
  if (!r.topics_left.empty()) {
    out << "\ntopics this run created and could not delete:";
    for (const auto& t : r.topics_left) out << " " << t;
    out << "\n";
  }
  if (!r.groups_left.empty()) {
    out << "\ngroups this run made and could not delete:";
    for (const auto& g : r.groups_left) out << " " << g;
    out << "\n";
  }
  for (const auto& n : r.notes) out << "note: " << n << "\n";
  for (const auto& a : r.apis)
    for (const auto& c : a.cells)
      for (const auto& n : c.notes) out << "* " << cell_name(a, c.version) << ": " << n << "\n";
  for (const auto& f : r.flows)
    for (const auto& n : f.notes) out << "* " << f.name << ": " << n << "\n";
  std::ostringstream details;
  for (const auto& a : r.apis)
    for (const auto& c : a.cells) {
      if (c.state == State::untested) details << "  " << cell_name(a, c.version) << ": not tested\n";
      if (c.state == State::failed)
        explain(details, cell_name(a, c.version), c.failures, c.failure_count, max_json);
    }
  for (const auto& f : r.flows)
    if (f.state == State::failed) explain(details, f.name, f.failures, f.failure_count, max_json);
  if (!details.str().empty()) out << "\nFailures:\n" << details.str();
  const int failing = r.failing();
  out << "\n"
      << (failing == 0 ? "PASS: every cell the broker advertises passed"
                       : "FAIL: " + std::to_string(failing) + " failing (cells, flows, setup)")
      << "\n";
  return out.str();
}

std::string json(const Result& r) {
  std::ostringstream out;
  out << "{\"bootstrap\":" << js(r.bootstrap) << ",\"label\":" << js(r.label) << ",\"runId\":" << js(r.run_id)
      << ",\"security\":" << js(r.security) << ",\"readOnly\":" << (r.read_only ? "true" : "false")
      << ",\"metadataVersion\":" << r.metadata_version << ",\"seconds\":" << std::fixed
      << std::setprecision(3) << r.seconds << ",\"requests\":" << r.requests
      << ",\"recordsCompared\":" << r.records_compared
      << ",\"passed\":" << (r.failing() == 0 ? "true" : "false") << ",\"failing\":" << r.failing()
      << ",\"apis\":[";
  for (size_t i = 0; i < r.apis.size(); ++i) {
    const auto& a = r.apis[i];
    out << (i ? "," : "") << "{\"key\":" << a.key << ",\"name\":" << js(a.name) << ",\"kafkawire\":["
        << a.min_version << "," << a.max_version << "],\"broker\":";
    if (a.broker)
      out << "[" << a.broker->first << "," << a.broker->second << "]";
    else
      out << "null";
    out << ",\"cells\":[";
    bool first = true;
    for (const auto& c : a.cells) {
      if (c.state == State::none) continue;
      out << (first ? "" : ",") << "{\"version\":" << c.version << ",\"state\":" << js(state_name(c.state))
          << ",\"failureCount\":" << c.failure_count << ",\"failures\":" << failures_json(c.failures)
          << ",\"notes\":" << strings(c.notes) << "}";
      first = false;
    }
    out << "]}";
  }
  out << "],\"flows\":[";
  for (size_t i = 0; i < r.flows.size(); ++i) {
    const auto& f = r.flows[i];
    out << (i ? "," : "") << "{\"name\":" << js(f.name) << ",\"state\":" << js(state_name(f.state))
        << ",\"failureCount\":" << f.failure_count << ",\"failures\":" << failures_json(f.failures)
        << ",\"notes\":" << strings(f.notes) << "}";
  }
  out << "],\"skipped\":" << strings(r.skipped)
      << ",\"setupError\":" << (r.setup_error.empty() ? "null" : js(r.setup_error))
      << ",\"stageErrors\":" << strings(r.stage_errors) << ",\"notes\":" << strings(r.notes)
      << ",\"topicsLeft\":" << strings(r.topics_left) << ",\"groupsLeft\":" << strings(r.groups_left)
      << "}\n";
  return out.str();
}

std::string junit(const Result& r) {
  std::ostringstream cases;
  int tests = 0, failures = 0, skipped = 0, errors = 0;
  for (const auto& a : r.apis) {
    for (const auto& c : a.cells) {
      if (c.state == State::none) continue;
      ++tests;
      cases << "    <testcase classname=\"" << xml(a.name) << "\" name=\"" << xml(cell_name(a, c.version))
            << "\" time=\"0\"";
      if (c.state == State::ok) {
        cases << "/>\n";
        continue;
      }
      cases << ">\n";
      if (c.state == State::noted) {
        std::string notes;
        for (const auto& n : c.notes) notes += n + "\n";
        cases << "      <system-out>" << xml(notes) << "</system-out>\n";
      } else if (c.state == State::not_served || c.state == State::not_spoken) {
        ++skipped;
        cases << "      <skipped message=\""
              << (c.state == State::not_served ? "the broker does not advertise this version"
                                               : "kafkawire does not speak this version")
              << "\"/>\n";
      } else if (c.state == State::untested) {
        ++failures;
        cases << "      <failure message=\"both sides serve this version and nothing tested it\"/>\n";
      } else {
        ++failures;
        const std::string first = c.failures.empty() ? "" : c.failures[0].check;
        cases << "      <failure message=\"" << xml(first) << "\">"
              << xml(failure_text(c.failures, c.failure_count)) << "</failure>\n";
      }
      cases << "    </testcase>\n";
    }
  }
  for (const auto& f : r.flows) {
    ++tests;
    cases << "    <testcase classname=\"flows\" name=\"" << xml(f.name) << "\" time=\"0\"";
    if (f.state == State::ok) {
      cases << "/>\n";
      continue;
    }
    cases << ">\n";
    if (is_failure(f.state)) {
      ++failures;
      const std::string first = f.failures.empty() ? "" : f.failures[0].check;
      cases << "      <failure message=\"" << xml(first) << "\">"
            << xml(failure_text(f.failures, f.failure_count)) << "</failure>\n";
    } else {
      std::string notes;
      for (const auto& n : f.notes) notes += n + "\n";
      cases << "      <system-out>" << xml(notes) << "</system-out>\n";
    }
    cases << "    </testcase>\n";
  }
  std::vector<std::string> errs = r.stage_errors;
  if (!r.setup_error.empty()) errs.insert(errs.begin(), r.setup_error);
  for (const auto& e : errs) {
    ++tests;
    ++errors;
    cases << "    <testcase classname=\"setup\" name=\"setup\" time=\"0\">\n      <error message=\"" << xml(e)
          << "\"/>\n    </testcase>\n";
  }
  std::ostringstream out;
  const std::string name = "kafkawire conformance: " + (r.label.empty() ? r.bootstrap : r.label);
  out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<testsuites name=\"kafkawire conformance\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << std::fixed
      << std::setprecision(3) << r.seconds << "\">\n"
      << "  <testsuite name=\"" << xml(name) << "\" tests=\"" << tests << "\" failures=\"" << failures
      << "\" errors=\"" << errors << "\" skipped=\"" << skipped << "\" time=\"" << r.seconds << "\">\n"
      << cases.str() << "  </testsuite>\n</testsuites>\n";
  return out.str();
}

std::string markdown(const Result& r) {
  std::ostringstream out;
  const int failing = r.failing();
  out << "### " << (r.label.empty() ? "Broker at " + r.bootstrap : r.label);
  if (r.metadata_version >= 0) out << " (metadata.version level " << r.metadata_version << ")";
  if (r.read_only) out << ", read-only";
  out << ": " << (failing == 0 ? "all pass" : std::to_string(failing) + " failing") << "\n\n";
  out << table(r);
  if (!r.flows.empty()) out << "\n" << flow_table(r);
  std::ostringstream notes;
  for (const auto& a : r.apis)
    for (const auto& c : a.cells)
      for (const auto& n : c.notes) notes << "- \\* " << cell_name(a, c.version) << ": " << n << "\n";
  for (const auto& f : r.flows)
    for (const auto& n : f.notes) notes << "- \\* " << f.name << ": " << n << "\n";
  for (const auto& a : r.apis)
    for (const auto& c : a.cells)
      if (is_failure(c.state))
        notes << "- FAIL " << cell_name(a, c.version) << ": "
              << (c.failures.empty() ? std::string("not tested") : c.failures[0].check) << "\n";
  for (const auto& f : r.flows)
    if (is_failure(f.state))
      notes << "- FAIL " << f.name << ": " << (f.failures.empty() ? std::string("?") : f.failures[0].check)
            << "\n";
  if (!notes.str().empty()) out << "\n" << notes.str();
  return out.str();
}

}  // namespace kafkawire::conformance
