// The secured listeners of the test broker (tools/broker/kafka-local --secured), as its secured.env
// lists them: for tests/broker/test_security.cpp and the conformance suite's secured run.
#pragma once

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "broker_env.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire::testing {

// KEY=value lines of the broker's secured.env: KAFKAWIRE_SECURED_ENV names the file, else it is where
// kafka-local keeps it for the test broker (<state root>/<base port>/secured.env).
inline const std::map<std::string, std::string>& secured() {
  static const std::map<std::string, std::string> env = [] {
    std::map<std::string, std::string> kv;
    std::string path;
    if (const char* e = std::getenv("KAFKAWIRE_SECURED_ENV"); e && *e) {
      path = e;
    } else {
      const char* dir = std::getenv("KAFKAWIRE_BROKER_DIR");
      path = std::string(dir && *dir ? dir : "/tmp/kafkawire-broker") + "/" +
             std::to_string(kafkawire::testing::first_broker().second) + "/secured.env";
    }
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
      const auto eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
      std::string value = line.substr(eq + 1);
      if (value.size() >= 2 && (value.front() == '\'' || value.front() == '"'))
        value = value.substr(1, value.size() - 2);
      kv[line.substr(0, eq)] = value;
    }
    return kv;
  }();
  return env;
}

// Whether to run: the secured listeners exist, or the run said it has none (an outside broker).
inline bool have_secured_broker() {
  if (!secured().empty()) return true;
  const char* opt_out = std::getenv("KAFKAWIRE_NO_SECURED_BROKER");
  INFO("no secured.env from `kafka-local start --secured`; set KAFKAWIRE_NO_SECURED_BROKER=1 to skip");
  REQUIRE((opt_out && std::string(opt_out) == "1"));
  WARN("skipped: KAFKAWIRE_NO_SECURED_BROKER=1");
  return false;
}

inline std::string env(const std::string& key) {
  auto it = secured().find(key);
  INFO("secured.env has no " << key);
  REQUIRE(it != secured().end());
  return it->second;
}

// An unsigned JWT (alg none), which the broker's unsecured OAUTHBEARER validator takes: for tests only.
inline std::string unsecured_token(const std::string& subject) {
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  // JWT segments are base64url without padding (RFC 7515).
  auto segment = [](const std::string& json) { return protocol::base64(protocol::Bytes(json), true); };
  return segment(R"({"alg":"none"})") + "." +
         segment("{\"sub\":\"" + subject + "\",\"iat\":" + std::to_string(now) +
                 ",\"exp\":" + std::to_string(now + 3600) + "}") +
         ".";
}

using Settings = std::map<std::string, std::string>;

inline Settings tls_settings() {
  return {{"ssl.ca.location", env("KAFKAWIRE_TLS_CA")},
          {"ssl.certificate.location", env("KAFKAWIRE_TLS_CERT")},
          {"ssl.key.location", env("KAFKAWIRE_TLS_KEY")}};
}

// The settings of each secured way in, by name.
inline std::vector<std::pair<std::string, Settings>> ways_in() {
  std::vector<std::pair<std::string, Settings>> ways;
  Settings ssl = tls_settings();
  ssl["bootstrap.servers"] = env("KAFKAWIRE_SSL_BOOTSTRAP");
  ssl["security.protocol"] = "SSL";
  ways.emplace_back("SSL with a client certificate", ssl);
  for (const std::string protocol : {"SASL_SSL", "SASL_PLAINTEXT"}) {
    for (const std::string mechanism : {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"}) {
      if (mechanism == "OAUTHBEARER" && protocol == "SASL_PLAINTEXT") continue;
      Settings s;
      s["bootstrap.servers"] = env("KAFKAWIRE_" + protocol + "_BOOTSTRAP");
      s["security.protocol"] = protocol;
      s["sasl.mechanism"] = mechanism;
      if (protocol == "SASL_SSL") s["ssl.ca.location"] = env("KAFKAWIRE_TLS_CA");
      if (mechanism == "OAUTHBEARER") {
        s["sasl.oauthbearer.token"] = unsecured_token(env("KAFKAWIRE_SASL_USER"));
      } else {
        s["sasl.username"] = env("KAFKAWIRE_SASL_USER");
        s["sasl.password"] = env("KAFKAWIRE_SASL_PASSWORD");
      }
      ways.emplace_back(protocol + " " + mechanism, s);
    }
  }
  return ways;
}

}  // namespace kafkawire::testing
