// Where the broker tests find their broker: KAFKAWIRE_BOOTSTRAP, else the local harness's default.
#pragma once

#include <cstdlib>
#include <string>
#include <utility>

#include "kafkawire/protocol/api_versions.hpp"

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

// An ApiVersions request as kafkawire sends it (software name and version; no cluster or node id).
inline protocol::ApiVersionsRequest api_versions_request() {
  protocol::ApiVersionsRequest r;
  r.client_software_name = "kafkawire";
  r.client_software_version = "0.1.0";
  return r;
}

}  // namespace kafkawire::testing
