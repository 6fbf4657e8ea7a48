#include "kafkawire/protocol/json.hpp"

namespace kafkawire::protocol {

std::string base64(Bytes b, bool url_safe_no_padding) {
  static constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  static constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const char* alphabet = url_safe_no_padding ? kUrl : kStd;
  std::string out;
  out.reserve((b.len + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= b.len; i += 3) {
    const uint32_t v = (uint32_t{b.ptr[i]} << 16) | (uint32_t{b.ptr[i + 1]} << 8) | b.ptr[i + 2];
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < b.len) {
    uint32_t v = uint32_t{b.ptr[i]} << 16;
    if (i + 1 < b.len) v |= uint32_t{b.ptr[i + 1]} << 8;
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    if (i + 1 < b.len) {
      out += alphabet[(v >> 6) & 63];
      if (!url_safe_no_padding) out += '=';
    } else if (!url_safe_no_padding) {
      out += "==";
    }
  }
  return out;
}

size_t utf8_sequence_length(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n = 0;
  uint32_t cp = 0;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n > s.size() - i) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
  if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto escaped = [&](unsigned char c) {
    out += "\\u00";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        continue;
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      case '\b':
        out += "\\b";
        continue;
      case '\f':
        out += "\\f";
        continue;
      default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
      escaped(c);
    } else if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (const size_t n = utf8_sequence_length(s, i)) {
      out.append(s.substr(i, n));
      i += n - 1;
    } else {
      escaped(c);  // not UTF-8: the byte's value, so the output stays valid UTF-8
    }
  }
  out += '"';
}

}  // namespace kafkawire::protocol
