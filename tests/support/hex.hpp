#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kafkawire::testing {

inline std::string to_hex(const std::vector<uint8_t>& v) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(v.size() * 2);
  for (uint8_t b : v) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

// Hex digits to bytes; "=" is the empty string (the golden files' convention).
inline std::vector<uint8_t> from_hex(std::string_view s) {
  std::vector<uint8_t> v;
  if (s == "=") return v;
  auto nib = [](char c) -> uint8_t {
    return static_cast<uint8_t>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  };
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    v.push_back(static_cast<uint8_t>(nib(s[i]) << 4 | nib(s[i + 1])));
  return v;
}

}  // namespace kafkawire::testing
