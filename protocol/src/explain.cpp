#include "kafkawire/protocol/explain.hpp"

#include <algorithm>
#include <boost/endian/conversion.hpp>

#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire::protocol {

namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string hex(Bytes b, size_t max, const char* sep = "") {
  std::string s;
  for (size_t i = 0; i < b.len && i < max; ++i) {
    if (i && *sep) s += sep;
    s += kHex[b.ptr[i] >> 4];
    s += kHex[b.ptr[i] & 15];
  }
  return s;
}

namespace be = boost::endian;
using explain_detail::plural;

void collect_errors(const ExplainNode& n, std::vector<const ExplainNode*>& out) {
  if (n.error) out.push_back(&n);
  for (const auto& c : n.children) collect_errors(c, out);
}

ExplainNode& error_node(ExplainNode& parent, Bytes raw, size_t offset, std::string what) {
  ExplainNode& n = parent.children.emplace_back();
  n.name = "error";
  n.type = "error";
  n.value = std::move(what);
  n.offset = offset;
  n.length = raw.len;
  n.raw = raw;
  n.error = true;
  return n;
}

// Header and body of a request whose header starts `r` (after the size); base = offset of r's start.
void explain_request(Reader& r, size_t base, Explanation& out) {
  Reader peek = r;
  const int16_t key = peek.i16();
  const int16_t version = peek.i16();
  const bool known = with_api(key, [&](auto api) {
    using Req = typename decltype(api)::request;
    const int16_t hv = request_header_version<Req>(version);
    out.root.type = std::string(Req::name) + " v" + std::to_string(version) + " frame";
    Explainer he(r, base, hv, hv >= 2, out.root, out);
    RequestHeader header;
    he.message(header, "Header", "RequestHeader v" + std::to_string(hv));
    if (!r.ok()) return;
    Explainer be(r, base, version, is_flexible<Req>(version), out.root, out);
    if (!supports_version<Req>(version)) {
      be.opaque("Body", "undecoded body",
                "kafkawire knows " + std::string(Req::name) + " v" + std::to_string(Req::min_version) + "-" +
                    std::to_string(Req::max_version) + ", not v" + std::to_string(version));
      return;
    }
    Req m;
    be.message(m, Req::name, std::string(Req::name) + " v" + std::to_string(version));
    be.trailing("body");
  });
  if (known) return;
  // An API kafkawire does not speak: header v1 (the flexible header v2 adds a tag byte the body then shows).
  out.root.type = "api " + std::to_string(key) + " v" + std::to_string(version) + " request frame";
  Explainer he(r, base, 1, false, out.root, out);
  RequestHeader header;
  he.message(header, "Header", "RequestHeader v1");
  if (r.ok())
    he.opaque("Body", "undecoded body", "api key " + std::to_string(key) + " is not one kafkawire speaks");
}

template <class Resp>
void explain_response_as(Reader& r, size_t base, int16_t version, Explanation& out) {
  const int16_t hv = response_header_version<Resp>(version);
  out.root.type = std::string(Resp::name) + " v" + std::to_string(version) + " frame";
  Explainer he(r, base, hv, hv >= 1, out.root, out);
  ResponseHeader header;
  he.message(header, "Header", "ResponseHeader v" + std::to_string(hv));
  if (!r.ok()) return;
  Explainer be(r, base, version, is_flexible<Resp>(version), out.root, out);
  if (!supports_version<Resp>(version)) {
    be.opaque("Body", "undecoded body",
              "kafkawire knows " + std::string(Resp::name) + " v" + std::to_string(Resp::min_version) + "-" +
                  std::to_string(Resp::max_version) + ", not v" + std::to_string(version));
    return;
  }
  Resp m;
  be.message(m, Resp::name, std::string(Resp::name) + " v" + std::to_string(version));
  be.trailing("body");
}

void explain_response(Reader& r, size_t base, int16_t key, int16_t version, Explanation& out) {
  const bool known = with_api(key, [&](auto api) {
    using Resp = typename decltype(api)::response;
    if constexpr (Resp::api_key == kApiVersionsKey) {
      // A broker that does not serve the requested ApiVersions version answers in v0 (KIP-511).
      if (version > 0) {
        Explanation trial;
        trial.root = out.root;
        Reader tr = r;
        explain_response_as<Resp>(tr, base, version, trial);
        if (trial.ok()) {
          out.root = std::move(trial.root);
          out.blocks = std::move(trial.blocks);
          r = tr;
          return;
        }
        Explanation v0;
        v0.root = out.root;
        Reader r0 = r;
        explain_response_as<Resp>(r0, base, 0, v0);
        if (v0.ok()) {
          out.root = std::move(v0.root);
          out.root.type += " (the broker's v0 answer to a version it does not serve)";
          r = r0;
          return;
        }
      }
    }
    explain_response_as<Resp>(r, base, version, out);
  });
  if (known) return;
  out.root.type = "api " + std::to_string(key) + " v" + std::to_string(version) + " response frame";
  Explainer he(r, base, 0, false, out.root, out);
  ResponseHeader header;
  he.message(header, "Header", "ResponseHeader (v0 assumed)");
  if (r.ok())
    he.opaque("Body", "undecoded body", "api key " + std::to_string(key) + " is not one kafkawire speaks");
}

std::string pad(std::string s, size_t w) {
  if (s.size() < w) s.append(w - s.size(), ' ');
  return s;
}

void print(const ExplainNode& n, size_t depth, const TextOptions& o, std::string& out) {
  auto offset_text = [&](size_t off) {
    std::string s = std::to_string(off);
    if (n.block) s = "~" + s;
    return s.size() < 7 ? std::string(7 - s.size(), ' ') + s : s;
  };
  std::string name = std::string(depth * 2, ' ') + (n.error ? "!! " : "") + n.name;
  std::string line = offset_text(n.offset) + "  ";
  if (n.leaf()) {
    line += pad(n.hidden ? std::string("(not shown)") : hex(n.raw, std::min<size_t>(16, o.max_hex), " "), 49);
    std::string value = n.value;
    line += pad(name, 38) + " " + pad(n.type, 24) + " " + value;
  } else {
    std::string value = n.value.empty() ? "" : n.value + "  ";
    line += std::string(49, ' ') + pad(name, 38) + " " + pad(n.type, 24) + " " + value + "(" +
            plural(static_cast<int64_t>(n.length), "byte") + ")";
  }
  while (!line.empty() && line.back() == ' ') line.pop_back();
  out += line;
  out += '\n';
  if (n.leaf() && !n.hidden) {
    const size_t shown = std::min(n.raw.len, o.max_hex);
    for (size_t i = 16; i < shown; i += 16) {
      line = offset_text(n.offset + i) + "  " +
             hex(Bytes(n.raw.ptr + i, std::min<size_t>(16, shown - i)), 16, " ");
      out += line;
      out += '\n';
    }
    if (n.raw.len > o.max_hex)
      out += std::string(9, ' ') + "... (" + plural(static_cast<int64_t>(n.raw.len), "byte") + ")\n";
  }
  for (const auto& c : n.children) print(c, depth + 1, o, out);
}

void json(const ExplainNode& n, std::string& out) {
  out += "{\"name\":";
  append_json_string(out, n.name);
  out += ",\"type\":";
  append_json_string(out, n.type);
  out += ",\"offset\":" + std::to_string(n.offset) + ",\"length\":" + std::to_string(n.length);
  if (n.block) out += ",\"block\":" + std::to_string(n.block);
  if (n.leaf() && !n.hidden) out += ",\"hex\":\"" + hex(n.raw, n.raw.len) + "\"";
  if (n.hidden) out += ",\"hidden\":true";
  if (!n.value.empty()) {
    out += ",\"value\":";
    append_json_string(out, n.value);
  }
  if (!n.versions.empty()) {
    out += ",\"versions\":";
    append_json_string(out, n.versions);
  }
  if (!n.meaning.empty()) {
    out += ",\"meaning\":";
    append_json_string(out, n.meaning);
  }
  if (n.error) out += ",\"error\":true";
  if (!n.leaf()) {
    out += ",\"children\":[";
    for (size_t i = 0; i < n.children.size(); ++i) {
      if (i) out += ',';
      json(n.children[i], out);
    }
    out += ']';
  }
  out += '}';
}

}  // namespace

std::vector<const ExplainNode*> Explanation::errors() const {
  std::vector<const ExplainNode*> out;
  collect_errors(root, out);
  return out;
}

namespace explain_detail {

std::string plural(int64_t n, std::string_view one) {
  return std::to_string(n) + " " + std::string(one) + (n == 1 ? "" : "s");
}

std::string quote(std::string_view s) {
  constexpr size_t kMaxChars = 256;
  // Characters, not bytes: a UTF-8 sequence is one, and so is each byte that is not UTF-8. The cut falls
  // between characters, so a shortened string never ends in half a character.
  size_t chars = 0, cut = s.size();
  for (size_t i = 0; i < s.size(); ++chars) {
    if (chars == kMaxChars) cut = i;
    const size_t n = utf8_sequence_length(s, i);
    i += n ? n : 1;
  }
  std::string out;
  append_json_string(out, s.substr(0, cut));
  if (cut < s.size()) out += "... (" + std::to_string(chars) + " chars)";
  return out;
}

std::string bytes_value(Bytes b) {
  if (b.len == 0) return "empty";
  const bool printable = std::all_of(b.begin(), b.end(), [](uint8_t c) { return c >= 0x20 && c < 0x7f; });
  if (printable) return quote(b.str());
  return "0x" + hex(b, 16) + (b.len > 16 ? "..." : "") + " (" + plural(static_cast<int64_t>(b.len), "byte") +
         ")";
}

std::string uuid_value(const Uuid& u) {
  if (u.is_zero()) return "AAAAAAAAAAAAAAAAAAAAAA (zero: none)";
  return base64(Bytes(u.bytes.data(), u.bytes.size()), true);
}

std::string version_ranges(const std::vector<int16_t>& versions, int16_t max) {
  std::string out;
  for (size_t i = 0; i < versions.size();) {
    size_t j = i;
    while (j + 1 < versions.size() && versions[j + 1] == versions[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += "v" + std::to_string(versions[i]);
    if (versions[j] == max)
      out += "+";
    else if (j > i)
      out += "-" + std::to_string(versions[j]);
    i = j + 1;
  }
  return out;
}

std::string int_value(std::string_view name, int64_t v) {
  std::string s = std::to_string(v);
  const bool error_field = name.size() >= 9 && name.substr(name.size() - 9) == "ErrorCode";
  if (error_field && v != 0) {
    const KafkaErrorInfo* info = find_kafka_error(static_cast<int16_t>(v));
    s += info ? " (" + std::string(info->name) + ")" : " (unknown error)";
  } else if (name == "ApiKey" || name == "RequestApiKey") {
    const std::string_view api = api_name(static_cast<int16_t>(v));
    if (!api.empty()) s += " (" + std::string(api) + ")";
  }
  return s;
}

}  // namespace explain_detail

Explanation explain_body(std::string_view message_name, int16_t version, Bytes body) {
  Explanation out;
  bool found = false;
  for_each_message([&](auto type) {
    using M = typename decltype(type)::type;
    if (found || M::name != message_name) return;
    found = true;
    out = explain_message<M>(body, version);
  });
  if (!found) {
    out.root.name = std::string(message_name);
    out.root.type = "unknown message";
    out.root.length = body.len;
    out.root.raw = body;
    error_node(out.root, body, 0, "kafkawire has no message named " + std::string(message_name));
  }
  return out;
}

bool looks_like_request(Bytes b) {
  if (b.len < 10) return false;
  const int16_t key = be::load_big_s16(b.ptr);
  const int16_t version = be::load_big_s16(b.ptr + 2);
  const int16_t client_id_len = be::load_big_s16(b.ptr + 8);
  bool ok = false;
  with_api(key, [&](auto api) { ok = supports_version<typename decltype(api)::request>(version); });
  return ok && client_id_len >= -1 &&
         static_cast<size_t>(client_id_len < 0 ? 0 : client_id_len) <= b.len - 10;
}

Explanation explain_frame(Bytes frame, const FrameOptions& o) {
  Explanation out;
  out.root.name = "frame";
  out.root.type = "frame";
  out.root.length = frame.len;
  out.root.raw = frame;
  size_t start = 0;
  size_t end = frame.len;
  if (o.size_prefix) {
    if (frame.len < 4) {
      error_node(
          out.root, frame, 0,
          "a frame starts with a 4-byte size; " + plural(static_cast<int64_t>(frame.len), "byte") + " given");
      return out;
    }
    const int32_t size = be::load_big_s32(frame.ptr);
    ExplainNode& s = out.root.children.emplace_back();
    s.name = "Size";
    s.type = "int32";
    s.length = 4;
    s.raw = Bytes(frame.ptr, 4);
    s.value = std::to_string(size) + " (bytes after this field)";
    start = 4;
    if (size < 0) {
      s.error = true;
      s.value = std::to_string(size) + ": a negative frame size";
      if (frame.len > 4)
        error_node(out.root, Bytes(frame.ptr + 4, frame.len - 4), 4, "bytes after a bad size");
      return out;
    }
    if (static_cast<size_t>(size) > frame.len - 4) {
      s.value = std::to_string(size) + " (but only " + std::to_string(frame.len - 4) + " bytes follow)";
    } else {
      end = 4 + static_cast<size_t>(size);
    }
  }
  const Bytes inner(frame.ptr + start, end - start);
  FrameDirection dir = o.direction;
  if (dir == FrameDirection::auto_detect) {
    if (looks_like_request(inner)) {
      Explanation as_request = out;
      Reader r(inner);
      explain_request(r, start, as_request);
      if (as_request.ok() || o.api_key < 0) {
        out = std::move(as_request);
        out.root.name = "request";
        dir = FrameDirection::request;
      } else {
        dir = FrameDirection::response;
      }
    } else if (o.api_key >= 0) {
      dir = FrameDirection::response;
    } else {
      error_node(out.root, inner, start,
                 "not a request kafkawire knows (api key, version, client id); for a response, give its api "
                 "and version");
      return out;
    }
  }
  if (dir == FrameDirection::request && out.root.name != "request") {
    out.root.name = "request";
    Reader r(inner);
    explain_request(r, start, out);
  } else if (dir == FrameDirection::response) {
    out.root.name = "response";
    if (o.api_key < 0 || o.api_version < 0) {
      error_node(out.root, inner, start,
                 "a response header holds only the correlation id: give the api and version");
      return out;
    }
    Reader r(inner);
    explain_response(r, start, o.api_key, o.api_version, out);
  }
  if (end < frame.len)
    error_node(out.root, Bytes(frame.ptr + end, frame.len - end), end,
               plural(static_cast<int64_t>(frame.len - end), "byte") + " after the frame");
  return out;
}

std::string to_text(const Explanation& e, const TextOptions& options) {
  std::string out;
  out += " offset  hex" + std::string(46, ' ') + pad("field", 38) + " " + pad("type", 24) + " value\n";
  print(e.root, 0, options, out);
  return out;
}

std::string to_json(const Explanation& e) {
  std::string out;
  json(e.root, out);
  return out;
}

}  // namespace kafkawire::protocol
