// The wire explorer: one self-contained HTML page (no network, no external script or font; it works from
// file://) that shows a conversation of Kafka frames and, for the selected frame, its bytes beside its
// field tree. It is a third view of the explanation tree of protocol/explain.hpp, after to_text() and
// to_json(): each frame's tree is embedded as the JSON `kafkawire explain --json` prints, and the page's
// script (explorer/explorer.js, embedded at build time) draws it. Many pages can share one copy of the
// script and its style instead (HtmlLinks::assets), as the static site of the wire-format guide does.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafkawire/protocol/explain.hpp"

namespace kafkawire::cli {

// One frame of the page's conversation.
struct HtmlFrame {
  size_t number = 0;     // in the capture, from 1
  double seconds = 0;    // from the first packet of the capture
  std::string from, to;  // "127.0.0.1:51234"; empty when the bytes came from no capture
  bool request = false;
  int16_t api_key = -1;  // -1: unknown (a response whose request is not in the capture)
  int16_t api_version = -1;
  int32_t correlation_id = 0;
  size_t size = 0;         // bytes, with the 4-byte size
  bool explained = false;  // tree holds its explanation (false: its API and version are unknown)
  protocol::Explanation tree;
  // The frame's bytes, when the tree points into bytes owned here rather than the caller's.
  std::shared_ptr<const std::vector<uint8_t>> bytes;
};

// The API, version and correlation id of an explained frame, read from its tree's header fields; fields
// left as they are when the tree has no header (a bare body).
void describe_from_tree(HtmlFrame& f);

// Whether `text` is a `kafkawire spy --dump` file (it starts with the dump's header line).
bool is_spy_dump(std::string_view text);

// Every frame of a spy dump ("3 request 1 17 12 <hex>" lines; # lines are comments), explained: requests
// from their headers, responses with the api key and version the line gives. The frames are numbered
// in dump order; `from`/`to` are "client #3" and "broker". A line that is not a frame gives nullopt and
// `error` naming the line.
std::optional<std::vector<HtmlFrame>> frames_from_spy_dump(std::string_view text, std::string& error);

// What a page links to.
struct HtmlLinks {
  // The address of the wire-format guide (docs/wire-format.md or docs/site/index.html); when given, each
  // field links to where the guide first names it (a text fragment, #:~:text=Name).
  std::string guide;
  // Empty: the page holds its script and style, and fetches nothing. Else the address prefix ("../",
  // "https://example.org/explorer/") of explorer.js and explorer.css (explorer_assets()), which the page
  // loads from there: pages that share one copy of them.
  std::string assets;
};

// The page. `title` names what was explained (a file name).
std::string explorer_html(std::string_view title, const std::vector<HtmlFrame>& frames,
                          const HtmlLinks& links = {});

// The files a page made with HtmlLinks::assets loads: {"explorer.css", its text}, {"explorer.js", ...}.
std::vector<std::pair<std::string_view, std::string_view>> explorer_assets();

}  // namespace kafkawire::cli
