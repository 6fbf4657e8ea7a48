// The golden vectors of tests/golden/messages.txt (bodies the Java client encoded), for the unit tests.
#pragma once

#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "support/hex.hpp"

namespace kafkawire::testing {

// "<message name> <version>" -> the body's bytes.
inline const std::map<std::string, std::vector<uint8_t>>& golden_messages() {
  static const auto table = [] {
    std::map<std::string, std::vector<uint8_t>> t;
    std::ifstream in(KAFKAWIRE_GOLDEN_DIR "/messages.txt");
    std::string name, hex;
    int version;
    while (in >> name >> version >> hex) t[name + " " + std::to_string(version)] = from_hex(hex);
    return t;
  }();
  return table;
}

}  // namespace kafkawire::testing
