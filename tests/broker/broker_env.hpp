// Where the broker tests find their broker: KAFKAWIRE_BOOTSTRAP, else the local harness's default.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>

namespace kafkawire::testing {

inline std::string bootstrap() {
  const char* env = std::getenv("KAFKAWIRE_BOOTSTRAP");
  return env && *env ? env : "127.0.0.1:29092";
}

// The first host:port of the bootstrap list.
inline std::pair<std::string, uint16_t> first_broker() {
  std::string b = bootstrap();
  b = b.substr(0, b.find(','));
  const auto colon = b.rfind(':');
  return {b.substr(0, colon), static_cast<uint16_t>(std::stoi(b.substr(colon + 1)))};
}

}  // namespace kafkawire::testing
