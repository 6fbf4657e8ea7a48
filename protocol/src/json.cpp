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

void append_json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace kafkawire::protocol
