#include "java_order.hpp"

namespace kafkawire::group::java {

std::u16string utf16(std::string_view utf8) {
  std::u16string out;
  out.reserve(utf8.size());
  size_t i = 0;
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(utf8[k]); };
  while (i < utf8.size()) {
    const uint8_t lead = byte(i);
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    }
    // Sequence length and the allowed range of the second byte (excludes overlongs and surrogates).
    size_t len = 0;
    uint8_t lo = 0x80, hi = 0xBF;
    uint32_t cp = 0;
    if (lead >= 0xC2 && lead <= 0xDF) {
      len = 2, cp = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      len = 3, cp = lead & 0x0F;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      len = 4, cp = lead & 0x07;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    size_t k = 1;
    for (; len != 0 && k < len && i + k < utf8.size(); ++k) {
      const uint8_t b = byte(i + k);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) break;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (len == 0 || k < len) {
      out.push_back(u'\uFFFD');
      i += k;  // the stray byte, or the valid start of a cut-off sequence
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
    i += len;
  }
  return out;
}

namespace {
bool ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<uint8_t>(c) < 0x80; });
}
}  // namespace

int32_t hash(std::string_view utf8) {
  uint32_t h = 0;  // Java's int arithmetic wraps; unsigned keeps that defined here
  if (ascii(utf8)) {
    for (char c : utf8) h = 31 * h + static_cast<uint8_t>(c);
  } else {
    for (char16_t c : utf16(utf8)) h = 31 * h + c;
  }
  return static_cast<int32_t>(h);
}

int compare(std::string_view a, std::string_view b) {
  // For ASCII (and any text without characters past U+FFFF) UTF-8 byte order is UTF-16 order.
  if (ascii(a) && ascii(b)) return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
  const std::u16string x = utf16(a), y = utf16(b);
  return x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
}

int32_t hash(const TopicPartition& tp) {
  const uint32_t h =
      31u * (31u + static_cast<uint32_t>(tp.partition)) + static_cast<uint32_t>(hash(tp.topic));
  return static_cast<int32_t>(h);
}

std::vector<size_t> hash_map_order(const std::vector<std::string>& keys) {
  HashOrder<size_t> order;
  for (size_t i = 0; i < keys.size(); ++i) order.append(i, hash(keys[i]));
  return order.ordered();
}

}  // namespace kafkawire::group::java
