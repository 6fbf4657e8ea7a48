// The conformance suite (tools/conformance, the same code `kafkawire conformance` runs) against the test
// broker: every cell the broker advertises must pass, and every flow. Once over PLAINTEXT, then over every
// secured listener and SASL mechanism. The matrix is printed (ctest -V shows it even when it passes).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "broker_env.hpp"
#include "conformance.hpp"
#include "kafkawire/consumer/config.hpp"
#include "kafkawire/net/pool.hpp"
#include "secured_env.hpp"

namespace {

namespace conformance = kafkawire::conformance;

// The Kafka version under test, for the report's header: KAFKAWIRE_BROKER_VERSION, else what the local
// harness says runs on the bootstrap port.
std::string broker_label() {
  if (const char* env = std::getenv("KAFKAWIRE_BROKER_VERSION"); env && *env)
    return std::string("Kafka ") + env;
  const std::string cmd = std::string(KAFKAWIRE_SOURCE_DIR) + "/tools/broker/kafka-local status --port " +
                          std::to_string(kafkawire::testing::first_broker().second) + " 2>/dev/null";
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[512];
    while (fgets(buf, sizeof buf, p)) out += buf;
    pclose(p);
  }
  const auto at = out.find("running");
  const auto k = out.find(" kafka ", at == std::string::npos ? 0 : at);
  if (at == std::string::npos || k == std::string::npos) return "";
  auto v = out.substr(k + 7);
  return "Kafka " + v.substr(0, v.find_first_of(" \n"));
}

// Every cell the broker advertises passed, every flow too, and the run cleaned up after itself.
void require_pass(const conformance::Result& r) {
  const std::string text = conformance::text(r);
  std::cout << text;
  INFO(text);
  CHECK(r.setup_error.empty());
  CHECK(r.stage_errors.empty());
  CHECK(r.topics_left.empty());
  CHECK(r.groups_left.empty());
  for (const auto& a : r.apis)
    for (const auto& c : a.cells) {
      INFO(a.name << " v" << c.version << ": " << conformance::state_name(c.state));
      CHECK_FALSE(conformance::is_failure(c.state));
    }
  for (const auto& f : r.flows) {
    INFO(f.name << ": " << conformance::state_name(f.state));
    CHECK_FALSE(conformance::is_failure(f.state));
  }
  CHECK(r.failing() == 0);
  // What the suite is for: it did test something, and it ran the flows it has.
  CHECK(r.requests > 100);
  CHECK(r.flows.size() >= 10);
}

}  // namespace

TEST_CASE("conformance: every API at every version both sides serve", "[broker][conformance]") {
  conformance::Options o;
  o.bootstrap = kafkawire::testing::bootstrap();
  o.label = broker_label();
  const auto r = conformance::run(o);
  require_pass(r);
  CHECK_FALSE(r.read_only);
  CHECK(r.records_compared > 0);
}

TEST_CASE("conformance: the same over every secured listener and SASL mechanism",
          "[broker][conformance][security]") {
  // The codec does not change with the transport, but what goes through TLS records and an
  // authenticated session is what a secured cluster sees: every API again, there.
  if (!kafkawire::testing::have_secured_broker()) return;
  for (const auto& [name, settings] : kafkawire::testing::ways_in()) {
    DYNAMIC_SECTION(name) {
      conformance::Options o;
      o.connection = kafkawire::pool_options(kafkawire::Config(settings)).connection;
      o.bootstrap = settings.at("bootstrap.servers");
      o.label = broker_label() + " (" + name + ")";
      std::cout << "\n" << name << ":\n";
      require_pass(conformance::run(o));
    }
  }
}

TEST_CASE("conformance: read-only, of what the cluster has", "[broker][conformance]") {
  conformance::Options o;
  o.bootstrap = kafkawire::testing::bootstrap();
  o.label = broker_label();
  o.read_only = true;
  const auto r = conformance::run(o);
  const std::string text = conformance::text(r);
  std::cout << text;
  INFO(text);
  CHECK(r.read_only);
  CHECK(r.setup_error.empty());
  CHECK(r.failing() == 0);
  // Only the APIs that read: nothing that creates, writes or joins was run.
  for (const auto& a : r.apis) {
    INFO(a.name);
    CHECK((a.name == "ApiVersions" || a.name == "Metadata" || a.name == "ListOffsets" || a.name == "Fetch" ||
           a.name == "FindCoordinator" || a.name == "DescribeGroups" || a.name == "ListGroups" ||
           a.name == "OffsetFetch" || a.name == "DescribeCluster" || a.name == "DescribeConfigs" ||
           a.name == "ConsumerGroupDescribe"));
  }
  CHECK(r.apis.size() >= 4);
}
