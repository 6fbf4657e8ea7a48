// `kafkawire explain`: the annotated tree of a request or response's bytes (protocol/explain.hpp).
#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "capture.hpp"
#include "commands.hpp"
#include "explain_html.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"

namespace kafkawire::cli {

namespace proto = kafkawire::protocol;

namespace {

constexpr const char* kUsage = R"USAGE(usage: kafkawire explain [options] < hex
       kafkawire explain --file frame.bin [options]

Prints what every byte of a Kafka request or response means: offset, hex, field, wire type, value.

Input (hex on stdin by default):
  plain hex           whitespace, commas and 0x prefixes are ignored
  dumps               xxd, od -Ax -tx1 (-v), hexdump -C, tshark -x, tcpdump -xx/-X: the offsets at the start of each
                      line are checked and dropped, the ASCII column is ignored; with several tshark
                      sections (Frame, Reassembled TCP) the last one is used
  --file F            read raw bytes from F
  --file F --hex      read hex text or a dump from F
  --file F.dump       a `kafkawire spy --dump` file: every frame in it, each response read with the api
                      and version its line gives
  --file F.pcap       a capture file (pcap from tcpdump -w, pcapng from tshark/Wireshark; also on stdin):
                      every TCP connection in it is reassembled and cut into frames, each response is
                      decoded with the API and version of the request with its correlation id; --api
                      keeps only that API's frames
  --skip N            drop the first N bytes (e.g. Ethernet/IP/TCP headers of a packet dump); a dump of
                      an Ethernet + IPv4/IPv6 + TCP packet is recognised and its headers skipped anyway

What the bytes are (default: a whole frame with its 4-byte size; request or response found from the
header: a known api key with a version kafkawire speaks is a request):
  --request           the bytes are a request
  --response          the bytes are a response: give --api and --version (a response header holds only
                      the correlation id)
  --api NAME|KEY      Fetch, FetchResponse, 1, ...
  --version N         the API version of the request the response answers
  --no-size           the bytes have no 4-byte size prefix
  --body-only         a bare body, no size and no header (like tests/golden/messages.txt); needs
                      --message NAME (FetchResponse, RequestHeader, ...) or --api with --request/--response,
                      and --version
  --message NAME      the message of a --body-only body

Output:
  --json              the tree as JSON
  --html OUT.html     the wire explorer: one self-contained page (it works from file://, fetches nothing)
                      with the conversation, and for the selected frame its bytes beside its field tree;
                      selecting a field highlights its bytes, selecting a byte selects its field
  --guide URL         with --html: each field links to where the wire-format guide at URL names it
                      (docs/wire-format.md, or docs/site/index.html)
  --html-assets URL   with --html: the page loads its script and style from URLexplorer.js and
                      URLexplorer.css (URL a prefix: "../", "https://example.org/kw/") instead of holding
                      them, for many pages sharing one copy (docs/site/ does); without it the page is
                      self-contained
  --write-html-assets DIR
                      write explorer.js and explorer.css, as --html-assets pages load them, into DIR
                      (created if missing), then exit; nothing else goes with it
  --max-hex N         bytes of hex shown per field before "... (N bytes)" (default 32)

Exit status: 0 when every byte was explained, 1 when the tree has error nodes (truncation, trailing
bytes, CRC mismatch, ...), 2 on bad usage or unreadable input.
)USAGE";

int usage_error(const std::string& what) {
  std::cerr << "kafkawire explain: " << what << "\n(see kafkawire explain --help)\n";
  return 2;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return hex_digit(c) >= 0; });
}

// A token of a line with the column it starts at and the spaces before it.
struct Token {
  std::string text;
  size_t column = 0;
  size_t gap = 0;
};

std::vector<Token> tokens(const std::string& line) {
  std::vector<Token> out;
  size_t i = 0, gap = 0;
  while (i < line.size()) {
    if (std::isspace(static_cast<unsigned char>(line[i]))) {
      ++gap;
      ++i;
      continue;
    }
    Token t;
    t.column = i;
    t.gap = gap;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) t.text += line[i++];
    out.push_back(std::move(t));
    gap = 0;
  }
  return out;
}

// The offset at the start of a dump line ("0010", "000000", "00000010:", "0x0010:"), if it is one.
std::optional<size_t> line_offset(const std::vector<Token>& ts) {
  if (ts.empty()) return std::nullopt;
  std::string t = ts[0].text;
  const bool colon = !t.empty() && t.back() == ':';
  if (colon) t.pop_back();
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {  // tcpdump -xx / -X: "0x0010:"
    if (!colon) return std::nullopt;
    t = t.substr(2);
  }
  if (t.size() < 4 || t.size() > 8 || !all_hex(t)) return std::nullopt;
  return std::stoul(t, nullptr, 16);
}

void append_hex_token(const std::string& t, std::vector<uint8_t>& out) {
  for (size_t i = 0; i + 1 < t.size(); i += 2)
    out.push_back(static_cast<uint8_t>(hex_digit(t[i]) << 4 | hex_digit(t[i + 1])));
}

// One section of dump lines: each line's offset and its tokens after the offset.
struct DumpLine {
  size_t offset;
  std::vector<Token> rest;
};

// Bytes of a dump section. The offsets say how many bytes each line holds (the next line's offset minus
// this one's); the last line's bytes are the tokens at the columns where bytes sit on a full line, so the
// ASCII column is never taken for hex.
std::optional<std::vector<uint8_t>> parse_dump(const std::vector<DumpLine>& lines, std::string& error) {
  std::vector<uint8_t> out;
  std::vector<size_t> columns;  // of the byte tokens of the first full line
  for (size_t li = 0; li < lines.size(); ++li) {
    const DumpLine& l = lines[li];
    if (l.offset != out.size()) {
      error = "dump line at offset " + std::to_string(l.offset) + " follows " + std::to_string(out.size()) +
              " bytes";
      return std::nullopt;
    }
    const bool last = li + 1 == lines.size();
    const size_t want = last ? std::string::npos : lines[li + 1].offset - l.offset;
    size_t got = 0;
    std::vector<size_t> cols;
    for (size_t ti = 0; ti < l.rest.size() && got < want; ++ti) {
      const Token& t = l.rest[ti];
      if (!all_hex(t.text) || t.text.size() % 2) break;
      if (last) {
        if (!columns.empty()) {
          if (ti >= columns.size() || columns[ti] != t.column) break;
        } else if ((ti > 0 && t.gap > 2) || got + t.text.size() / 2 > 16) {
          break;  // no full line to compare with: the ASCII column is further away or past 16 bytes
        }
      }
      if (!last && got + t.text.size() / 2 > want) break;
      append_hex_token(t.text, out);
      got += t.text.size() / 2;
      cols.push_back(t.column);
    }
    if (!last && got != want) {
      error = "dump line at offset " + std::to_string(l.offset) + " holds " + std::to_string(got) +
              " bytes, not " + std::to_string(want);
      return std::nullopt;
    }
    if (columns.empty() && !last) columns = cols;
  }
  return out;
}

// Hex text or a dump to bytes.
std::optional<std::vector<uint8_t>> parse_hex_text(const std::string& text, std::string& error) {
  std::vector<std::string> lines;
  {
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) lines.push_back(line);
  }
  // A dump: lines that start with an offset, the first 0, each next one at the bytes so far. Sections are
  // separated by lines without an offset (tshark's "Reassembled TCP (N bytes):").
  std::vector<std::vector<DumpLine>> sections(1);
  bool dump = true;
  bool colon = false;
  size_t dump_lines = 0;
  for (const std::string& line : lines) {
    auto ts = tokens(line);
    if (ts.empty()) continue;
    if (ts[0].text == "*") {
      error = "the dump squeezed repeated lines ('*'): make it with od -v or hexdump -v";
      return std::nullopt;
    }
    auto off = line_offset(ts);
    if (!off) {
      if (!sections.back().empty()) sections.emplace_back();
      continue;
    }
    if (ts[0].text.back() == ':') colon = true;
    if (*off == 0 && !sections.back().empty()) sections.emplace_back();  // the next packet
    if (sections.back().empty() && *off != 0) {
      dump = false;
      break;
    }
    sections.back().push_back({*off, std::vector<Token>(ts.begin() + 1, ts.end())});
    ++dump_lines;
  }
  if (sections.back().empty() && sections.size() > 1) sections.pop_back();
  // One line of plain hex can start with "0000": a dump needs a colon, two lines, or offset + two spaces.
  if (dump && dump_lines == 1 && !colon) {
    const auto& l = sections.back()[0];
    dump = !l.rest.empty() && l.rest[0].gap >= 2;
  }
  std::string dump_error;
  if (dump && dump_lines > 0) {
    if (auto bytes = parse_dump(sections.back(), dump_error)) return bytes;
    if (colon) {
      error = dump_error;
      return std::nullopt;
    }
  }
  // Plain hex.
  std::vector<uint8_t> out;
  std::string digits;
  std::string cleaned = text;
  std::replace(cleaned.begin(), cleaned.end(), ',', ' ');
  std::istringstream in(cleaned);
  std::string tok;
  while (in >> tok) {
    if (tok.size() >= 2 && tok[0] == '0' && (tok[1] == 'x' || tok[1] == 'X')) tok = tok.substr(2);
    for (char c : tok) {
      if (hex_digit(c) < 0) {
        error = dump_error.empty() ? std::string("not a hex digit: '") + c + "'" : dump_error;
        return std::nullopt;
      }
      digits += c;
    }
  }
  if (digits.size() % 2) {
    error = "an odd number of hex digits (" + std::to_string(digits.size()) + ")";
    return std::nullopt;
  }
  append_hex_token(digits, out);
  return out;
}

// Where the TCP payload starts in an Ethernet + IPv4/IPv6 + TCP packet, or an IP + TCP one (tcpdump -X
// leaves the link layer out); 0 when it is neither.
size_t packet_payload(const std::vector<uint8_t>& b) {
  auto ip_tcp = [&](size_t ip) -> size_t {  // where TCP starts, 0 when it is not IP + TCP
    if (b.size() < ip + 20) return 0;
    if ((b[ip] >> 4) == 4 && b[ip + 9] == 6) return ip + static_cast<size_t>(b[ip] & 0x0f) * 4;
    if ((b[ip] >> 4) == 6 && b.size() >= ip + 40 && b[ip + 6] == 6) return ip + 40;
    return 0;
  };
  size_t tcp = 0;
  const uint16_t ethertype = b.size() >= 14 ? boost::endian::load_big_u16(b.data() + 12) : 0;
  if (ethertype == 0x0800 || ethertype == 0x86dd) tcp = ip_tcp(14);
  if (tcp == 0) tcp = ip_tcp(0);
  if (tcp == 0) return 0;
  if (tcp + 20 > b.size()) return 0;
  const size_t payload = tcp + static_cast<size_t>(b[tcp + 12] >> 4) * 4;
  return payload <= b.size() ? payload : 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "Fetch", "FetchRequest", "fetchresponse", "1" -> 1; -1 when unknown.
int16_t parse_api(const std::string& s) {
  if (!s.empty() &&
      std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return static_cast<int16_t>(std::stoi(s));
  std::string want = lower(s);
  for (const char* suffix : {"request", "response"})
    if (want.size() > std::strlen(suffix) && want.ends_with(suffix))
      want.resize(want.size() - std::strlen(suffix));
  int16_t key = -1;
  proto::for_each_api([&](auto api) {
    if (lower(std::string(proto::api_name(decltype(api)::key))) == want) key = decltype(api)::key;
  });
  return key;
}

// Writes the wire explorer page to `path`; false (and a message) when it cannot.
bool write_html(const std::string& path, std::string_view title, const std::vector<HtmlFrame>& frames,
                const HtmlLinks& links) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (out) out << explorer_html(title, frames, links);
  if (!out.flush()) {
    std::cerr << "kafkawire explain: cannot write " << path << "\n";
    return false;
  }
  return true;
}

// --write-html-assets: the files a page made with --html-assets loads, into `dir`.
int write_assets(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    std::cerr << "kafkawire explain: cannot create " << dir << ": " << ec.message() << "\n";
    return 2;
  }
  for (const auto& [name, text] : explorer_assets()) {
    const auto path = std::filesystem::path(dir) / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!(out << text).flush()) {
      std::cerr << "kafkawire explain: cannot write " << path.string() << "\n";
      return 2;
    }
  }
  return 0;
}

// The last part of a path, for the page's title.
std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Every frame of a pcap/pcapng capture, paired and explained; with `html`, written to that page instead.
int explain_capture(std::string_view data, int16_t only_api, bool json, size_t max_hex,
                    const std::string& html, const std::string& title, const HtmlLinks& links) {
  std::string error;
  auto capture = read_capture(data, error);
  if (!capture) {
    std::cerr << "kafkawire explain: " << error << "\n";
    return 2;
  }
  for (const auto& w : capture->warnings) std::cerr << "kafkawire explain: " << w << "\n";
  bool ok = capture->warnings.empty();
  size_t shown = 0, number = 0;
  std::vector<HtmlFrame> page;
  for (const CapturedFrame& f : capture->frames) {
    ++number;
    if (only_api >= 0 && f.api_key != only_api) continue;
    ++shown;
    std::string what = f.request ? "request" : "response";
    if (f.api_key >= 0)
      what += " " + std::string(proto::api_name(f.api_key)) + " v" + std::to_string(f.api_version) +
              " corr=" + std::to_string(f.correlation_id);
    const proto::Bytes view(f.bytes);
    std::optional<proto::Explanation> e;
    if (f.request)
      e = proto::explain_frame(view, proto::FrameOptions::request());
    else if (f.api_key >= 0)
      e = proto::explain_frame(view, proto::FrameOptions::response(f.api_key, f.api_version));
    if (!e || !e->ok()) ok = false;
    if (!html.empty()) {
      HtmlFrame& h = page.emplace_back();
      h.number = number;
      h.seconds = f.seconds;
      h.from = f.from;
      h.to = f.to;
      h.request = f.request;
      h.api_key = f.api_key;
      h.api_version = f.api_version;
      h.correlation_id = f.correlation_id;
      h.size = f.bytes.size();
      if (e) {
        h.explained = true;
        h.tree = std::move(*e);
      }
      continue;
    }
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.6f", f.seconds);
    if (json) {
      std::cout << "{\"frame\":" << number << ",\"seconds\":" << seconds << ",\"from\":\"" << f.from
                << "\",\"to\":\"" << f.to << "\",\"direction\":\"" << (f.request ? "request" : "response")
                << "\",\"api_key\":" << f.api_key << ",\"api_version\":" << f.api_version
                << ",\"correlation_id\":" << f.correlation_id
                << ",\"tree\":" << (e ? proto::to_json(*e) : std::string("null")) << "}\n";
      continue;
    }
    std::cout << "frame " << number << "  " << seconds << " s  " << f.from << " -> " << f.to << "  " << what
              << "  (" << f.bytes.size() << " bytes)\n";
    if (!e) {
      std::cout << "  its request is not in the capture: explain it with --response --api A --version V\n\n";
      continue;
    }
    std::cout << proto::to_text(*e, {.max_hex = max_hex});
    const auto errors = e->errors();
    if (!errors.empty())
      std::cout << errors.size() << (errors.size() == 1 ? " error" : " errors") << ", the first at offset "
                << errors.front()->offset << ": " << errors.front()->value << "\n";
    std::cout << "\n";
  }
  if (!html.empty()) {
    // The trees point into the frames' bytes: capture is alive until here.
    if (!write_html(html, title, page, links)) return 2;
    std::cerr << "kafkawire explain: " << shown << " of " << capture->frames.size() << " frames written to "
              << html << "\n";
  } else if (!json) {
    std::cout << shown << " of " << capture->frames.size() << " frames shown\n";
  }
  return ok ? 0 : 1;
}

}  // namespace

int run_explain(int argc, char** argv) {
  std::optional<std::string> file;
  bool file_hex = false, json = false, body_only = false;
  bool request = false, response = false, no_size = false;
  std::string api, message, html, assets_dir;
  HtmlLinks links;
  std::optional<int> version;
  size_t skip = 0, max_hex = 32;
  std::vector<std::string> inline_hex;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* what) -> std::optional<std::string> {
      if (i + 1 >= argc) return std::nullopt;
      (void)what;
      return std::string(argv[++i]);
    };
    auto number = [&](const std::string& s, long long lo, long long hi) -> std::optional<long long> {
      try {
        size_t used = 0;
        const long long v = std::stoll(s, &used, 0);
        if (used != s.size() || v < lo || v > hi) return std::nullopt;
        return v;
      } catch (...) {
        return std::nullopt;
      }
    };
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--file") {
      if (!(file = value("file"))) return usage_error("--file needs a path");
    } else if (a == "--hex") {
      file_hex = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--guide") {
      auto v = value("guide");
      if (!v || v->empty()) return usage_error("--guide needs the address of the wire-format guide");
      links.guide = *v;
    } else if (a == "--html-assets") {
      auto v = value("html-assets");
      if (!v || v->empty())
        return usage_error("--html-assets needs the address prefix of explorer.js and explorer.css");
      links.assets = *v;
    } else if (a == "--write-html-assets") {
      auto v = value("write-html-assets");
      if (!v || v->empty()) return usage_error("--write-html-assets needs a directory");
      assets_dir = *v;
    } else if (a == "--html") {
      auto v = value("html");
      if (!v || v->empty()) return usage_error("--html needs the path of the page to write");
      html = *v;
    } else if (a == "--request") {
      request = true;
    } else if (a == "--response") {
      response = true;
    } else if (a == "--no-size") {
      no_size = true;
    } else if (a == "--body-only") {
      body_only = true;
    } else if (a == "--api") {
      auto v = value("api");
      if (!v) return usage_error("--api needs a name or key");
      api = *v;
    } else if (a == "--message") {
      auto v = value("message");
      if (!v) return usage_error("--message needs a name");
      message = *v;
    } else if (a == "--version") {
      auto v = value("version");
      auto n = v ? number(*v, 0, 32767) : std::nullopt;
      if (!n) return usage_error("--version needs a number 0-32767");
      version = static_cast<int>(*n);
    } else if (a == "--skip") {
      auto v = value("skip");
      auto n = v ? number(*v, 0, 1LL << 40) : std::nullopt;
      if (!n) return usage_error("--skip needs a byte count");
      skip = static_cast<size_t>(*n);
    } else if (a == "--max-hex") {
      auto v = value("max-hex");
      auto n = v ? number(*v, 0, 1LL << 30) : std::nullopt;
      if (!n) return usage_error("--max-hex needs a byte count");
      max_hex = static_cast<size_t>(*n);
    } else if (!a.empty() && a[0] == '-') {
      return usage_error("unknown option " + a);
    } else {
      inline_hex.push_back(a);  // hex given on the command line
    }
  }
  if (request && response) return usage_error("--request and --response exclude each other");
  if (file_hex && !file) return usage_error("--hex goes with --file");
  if (json && !html.empty()) return usage_error("--json and --html exclude each other");
  if (!links.guide.empty() && html.empty()) return usage_error("--guide goes with --html");
  if (!links.assets.empty() && html.empty()) return usage_error("--html-assets goes with --html");
  if (!assets_dir.empty()) {
    if (argc != 3) return usage_error("--write-html-assets goes alone");
    return write_assets(assets_dir);
  }
  int16_t api_key = -1;
  if (!api.empty() && (api_key = parse_api(api)) < 0) return usage_error("unknown api " + api);
  if (response && (api_key < 0 || !version)) return usage_error("--response needs --api and --version");

  // The bytes.
  std::vector<uint8_t> bytes;
  std::string error;
  bool from_text = true;
  std::string text;
  if (file) {
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
      std::cerr << "kafkawire explain: cannot read " << *file << "\n";
      return 2;
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    from_text = file_hex;
    if (!from_text) bytes.assign(text.begin(), text.end());
  } else if (!inline_hex.empty()) {
    for (const auto& h : inline_hex) text += h + " ";
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  if (is_spy_dump(text)) {
    if (request || response || body_only || no_size || skip || version || !message.empty() || api_key >= 0)
      return usage_error("a spy dump is cut into frames on its own: only --json, --html and --max-hex apply");
    auto frames = frames_from_spy_dump(text, error);
    if (!frames) {
      std::cerr << "kafkawire explain: " << error << "\n";
      return 2;
    }
    bool ok = true;
    for (const auto& f : *frames) ok = ok && f.explained && f.tree.ok();
    if (!html.empty()) {
      if (!write_html(html, file ? base_name(*file) : "spy dump", *frames, links)) return 2;
      std::cerr << "kafkawire explain: " << frames->size() << " frames written to " << html << "\n";
      return ok ? 0 : 1;
    }
    for (const auto& f : *frames) {
      if (json) {
        std::cout << "{\"frame\":" << f.number << ",\"direction\":\"" << (f.request ? "request" : "response")
                  << "\",\"api_key\":" << f.api_key << ",\"api_version\":" << f.api_version
                  << ",\"correlation_id\":" << f.correlation_id
                  << ",\"tree\":" << (f.explained ? proto::to_json(f.tree) : std::string("null")) << "}\n";
        continue;
      }
      std::cout << "frame " << f.number << "  " << f.from << " -> " << f.to << "  "
                << (f.request ? "request " : "response ") << proto::api_name(f.api_key) << " v"
                << f.api_version << " corr=" << f.correlation_id << "  (" << f.size << " bytes)\n";
      if (f.explained) std::cout << proto::to_text(f.tree, {.max_hex = max_hex});
      std::cout << "\n";
    }
    return ok ? 0 : 1;
  }
  if (is_capture_file(text) && !file_hex) {
    if (request || response || body_only || no_size || skip || version || !message.empty())
      return usage_error(
          "a capture file is cut into frames on its own: only --api, --json, --html and --max-hex apply");
    return explain_capture(text, api_key, json, max_hex, html, file ? base_name(*file) : "capture", links);
  }
  if (from_text) {
    auto parsed = parse_hex_text(text, error);
    if (!parsed) {
      std::cerr << "kafkawire explain: " << error << "\n";
      return 2;
    }
    bytes = std::move(*parsed);
  }
  if (skip > bytes.size())
    return usage_error("--skip " + std::to_string(skip) + " is past the " + std::to_string(bytes.size()) +
                       " bytes");
  if (skip == 0 && !body_only) {
    // A captured packet: skip to the TCP payload unless the bytes already look like a Kafka frame.
    const bool frame_size_matches =
        bytes.size() >= 4 && boost::endian::load_big_u32(bytes.data()) == bytes.size() - 4;
    if (!frame_size_matches && !no_size) {
      if (const size_t payload = packet_payload(bytes)) {
        std::cerr << "kafkawire explain: skipping " << payload
                  << " bytes of packet headers (use --skip to say otherwise)\n";
        skip = payload;
      }
    }
  }
  bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(skip));
  if (bytes.empty() && !body_only) {
    std::cerr << "kafkawire explain: no bytes given\n";
    return 2;
  }

  proto::Explanation e;
  const proto::Bytes view(bytes);
  if (body_only) {
    if (message.empty()) {
      if (api_key < 0 || (!request && !response))
        return usage_error("--body-only needs --message NAME, or --api with --request or --response");
      message = std::string(proto::api_name(api_key)) + (response ? "Response" : "Request");
    }
    if (!version) return usage_error("--body-only needs --version");
    e = proto::explain_body(message, static_cast<int16_t>(*version), view);
  } else {
    proto::FrameOptions o;
    o.size_prefix = !no_size;
    o.direction = request    ? proto::FrameDirection::request
                  : response ? proto::FrameDirection::response
                             : proto::FrameDirection::auto_detect;
    o.api_key = api_key;
    o.api_version = static_cast<int16_t>(version.value_or(-1));
    e = proto::explain_frame(view, o);
  }
  if (!html.empty()) {
    HtmlFrame h;
    h.number = 1;
    h.size = bytes.size();
    h.request = request || e.root.name == "request";
    h.api_key = api_key;
    h.api_version = static_cast<int16_t>(version.value_or(-1));
    h.explained = true;
    h.tree = std::move(e);
    describe_from_tree(h);
    const bool ok = h.tree.ok();
    std::vector<HtmlFrame> page;
    page.push_back(std::move(h));
    if (!write_html(html, file ? base_name(*file) : "frame", page, links)) return 2;
    return ok ? 0 : 1;
  }
  if (json) {
    std::cout << proto::to_json(e) << "\n";
  } else {
    std::cout << proto::to_text(e, {.max_hex = max_hex});
    const auto errors = e.errors();
    if (!errors.empty())
      std::cout << errors.size() << (errors.size() == 1 ? " error" : " errors") << ", the first at offset "
                << errors.front()->offset << ": " << errors.front()->value << "\n";
  }
  return e.ok() ? 0 : 1;
}

}  // namespace kafkawire::cli
