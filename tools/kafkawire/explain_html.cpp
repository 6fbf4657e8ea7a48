#include "explain_html.hpp"

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <sstream>

#include "explorer_assets.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/json.hpp"
#include "spy_proxy.hpp"

namespace kafkawire::cli {

namespace proto = kafkawire::protocol;

namespace {

// JSON inside a <script> element: a '<' (only ever inside a JSON string) is written as \u003c, so neither
// "</script>" nor "<!--" can appear.
void append_script_json(std::string& out, std::string_view json) {
  for (char c : json) {
    if (c == '<')
      out += "\\u003c";
    else
      out += c;
  }
}

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
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
      default:
        out += c;
    }
  }
  return out;
}

const proto::ExplainNode* child(const proto::ExplainNode& n, std::string_view name) {
  for (const auto& c : n.children)
    if (c.name == name) return &c;
  return nullptr;
}

// The leading integer of a value ("1 (Fetch)" -> 1).
std::optional<long> leading_int(const proto::ExplainNode* n) {
  if (!n || n->error || n->value.empty()) return std::nullopt;
  char* end = nullptr;
  const long v = std::strtol(n->value.c_str(), &end, 10);
  if (end == n->value.c_str()) return std::nullopt;
  return v;
}

void frame_summary(std::string& out, size_t index, const HtmlFrame& f) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.6f", f.seconds);
  out += "{\"i\":" + std::to_string(index) + ",\"n\":" + std::to_string(f.number) + ",\"t\":" + seconds;
  out += ",\"from\":";
  proto::append_json_string(out, f.from);
  out += ",\"to\":";
  proto::append_json_string(out, f.to);
  // A bare body (explain --body-only) is neither: its root is named after its message.
  const std::string& root = f.tree.root.name;
  const bool body = f.explained && root != "request" && root != "response";
  out += std::string(",\"dir\":\"") + (body ? "body" : f.request ? "request" : "response") + "\"";
  out += ",\"api\":" + std::to_string(f.api_key) + ",\"name\":";
  proto::append_json_string(out, f.api_key >= 0 ? proto::api_name(f.api_key)
                                 : body         ? std::string_view(root)
                                                : "");
  out += ",\"ver\":" + std::to_string(f.api_version) + ",\"corr\":" + std::to_string(f.correlation_id);
  out += ",\"size\":" + std::to_string(f.size);
  out += std::string(",\"ok\":") + (f.explained && f.tree.ok() ? "true" : "false") + "}";
}

}  // namespace

bool is_spy_dump(std::string_view text) {
  const std::string_view header(kDumpHeader);
  return text.starts_with(header.substr(0, header.find(':')));
}

std::optional<std::vector<HtmlFrame>> frames_from_spy_dump(std::string_view text, std::string& error) {
  std::vector<HtmlFrame> out;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = std::min(text.find('\n'), text.size());
    std::string line(text.substr(0, nl));
    text.remove_prefix(std::min(nl + 1, text.size()));
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream in(line);
    uint64_t connection = 0;
    std::string direction, hex;
    int key = 0, version = 0;
    int64_t corr = 0;
    const auto bad = [&](const std::string& why) {
      error = "spy dump line " + std::to_string(line_no) + ": " + why;
      return std::nullopt;
    };
    if (!(in >> connection >> direction >> key >> version >> corr >> hex) ||
        (direction != "request" && direction != "response"))
      return bad("not \"connection request|response api_key api_version correlation_id hex\"");
    if (hex.size() % 2 || hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
      return bad("the frame is not hex");
    auto bytes = std::make_shared<std::vector<uint8_t>>();
    bytes->reserve(hex.size() / 2);
    for (size_t i = 0; i < hex.size(); i += 2)
      bytes->push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    HtmlFrame& f = out.emplace_back();
    f.number = out.size();
    f.seconds = -1;
    f.request = direction == "request";
    f.from = f.request ? "client #" + std::to_string(connection) : "broker";
    f.to = f.request ? "broker" : "client #" + std::to_string(connection);
    f.api_key = static_cast<int16_t>(key);
    f.api_version = static_cast<int16_t>(version);
    f.correlation_id = static_cast<int32_t>(corr);
    f.size = bytes->size();
    f.bytes = bytes;
    const proto::Bytes view(*bytes);
    if (f.request) {
      f.tree = proto::explain_frame(view, proto::FrameOptions::request());
      f.explained = true;
    } else if (key >= 0) {
      f.tree = proto::explain_frame(view, proto::FrameOptions::response(f.api_key, f.api_version));
      f.explained = true;
    }
  }
  return out;
}

void describe_from_tree(HtmlFrame& f) {
  if (!f.explained) return;
  const proto::ExplainNode& root = f.tree.root;
  f.request = root.name == "request";
  const proto::ExplainNode* header = child(root, "Header");
  if (!header) return;
  if (auto corr = leading_int(child(*header, "CorrelationId")))
    f.correlation_id = static_cast<int32_t>(*corr);
  if (f.request) {
    if (auto key = leading_int(child(*header, "RequestApiKey"))) f.api_key = static_cast<int16_t>(*key);
    if (auto v = leading_int(child(*header, "RequestApiVersion"))) f.api_version = static_cast<int16_t>(*v);
  }
}

std::vector<std::pair<std::string_view, std::string_view>> explorer_assets() {
  return {{"explorer.css", kExplorerCss}, {"explorer.js", kExplorerJs}};
}

std::string explorer_html(std::string_view title, const std::vector<HtmlFrame>& frames,
                          const HtmlLinks& links) {
  const std::string assets = html_escape(links.assets);
  std::string out;
  out.reserve(16384 + frames.size() * 2048);
  out += "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  out += "<meta name=\"generator\" content=\"kafkawire explain --html\">\n";
  out += "<title>" + html_escape(title) + " - kafkawire wire explorer</title>\n";
  if (assets.empty()) {
    out += "<style>\n";
    out += kExplorerCss;
    out += "</style>";
  } else {
    out += "<link rel=\"stylesheet\" href=\"" + assets + "explorer.css\">";
  }
  out += "</head>\n<body>\n<header id=\"top\"><h1>kafkawire wire explorer</h1>";
  out += "<span class=\"what\" id=\"what\"></span>";
  out +=
      "<input id=\"search\" type=\"search\" placeholder=\"field name or value ( / )\" aria-label=\"search\">";
  out += "<span id=\"hits\"></span>";
  out +=
      "<span id=\"keys\">tree: arrows, * opens all &middot; g bytes, t tree &middot; [ ] frames &middot; / "
      "search, n next</span>";
  out += "</header>\n<nav id=\"list\" aria-label=\"conversation\"></nav>\n";
  out += "<main id=\"main\"><section id=\"gridpane\"><div id=\"gridhead\"></div>";
  out += "<div id=\"grid\" tabindex=\"0\" aria-label=\"bytes\"></div></section>";
  out += "<section id=\"tree\" tabindex=\"0\" role=\"tree\" aria-label=\"fields\"></section>";
  out += "<section id=\"detail\"></section></main>\n";

  out += "<script id=\"kw-data\" type=\"application/json\">";
  std::string json = "{\"title\":";
  proto::append_json_string(json, title);
  json += ",\"guide\":";
  proto::append_json_string(json, links.guide);
  json += ",\"frames\":[";
  for (size_t i = 0; i < frames.size(); ++i) {
    if (i) json += ",\n";
    frame_summary(json, i, frames[i]);
  }
  json += "]}";
  append_script_json(out, json);
  out += "</script>\n";
  // The first frame's tree comes before the script, so the page shows it at once; the script reads the
  // others only when they are selected (and the page is usable while the browser still parses them).
  auto tree = [&](size_t i) {
    if (!frames[i].explained) return;
    out += "<script id=\"kw-f" + std::to_string(i) + "\" type=\"application/json\">";
    append_script_json(out, proto::to_json(frames[i].tree));
    out += "</script>\n";
  };
  if (!frames.empty()) tree(0);
  if (assets.empty()) {
    out += "<script>\n";
    out += kExplorerJs;
    out += "</script>\n";
  } else {  // loaded and run here, as the inline one would be (no defer, no async)
    out += "<script src=\"" + assets + "explorer.js\"></script>\n";
  }
  for (size_t i = 1; i < frames.size(); ++i) tree(i);
  out += "</body></html>\n";
  return out;
}

}  // namespace kafkawire::cli
