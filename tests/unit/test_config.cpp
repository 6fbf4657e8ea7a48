// Configuration: known keys, defaults, and errors that name the key and the closest valid choice.
#include <catch2/catch.hpp>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/protocol/error.hpp"

using namespace kafkawire;

TEST_CASE("defaults are the ones Java users know", "[config]") {
  Config c{{"bootstrap.servers", "127.0.0.1:9092"}};
  CHECK(c.enable_auto_commit);
  CHECK(c.auto_offset_reset == OffsetReset::latest);
  CHECK(c.check_crcs);
  CHECK(c.max_poll_records == 500);
  CHECK(c.fetch_max_wait == std::chrono::milliseconds(500));
  CHECK(c.partition_assignment_strategy == std::vector<std::string>{"range", "cooperative-sticky"});
  CHECK(c.receive_message_max_bytes == 100 * 1024 * 1024);
}

TEST_CASE("values are parsed and checked", "[config]") {
  Config c{{"bootstrap.servers", "b:1"},
           {"group.id", "billing"},
           {"enable.auto.commit", "false"},
           {"auto.offset.reset", "earliest"},
           {"isolation.level", "read_committed"},
           {"partition.assignment.strategy", "cooperative-sticky, range"},
           {"acks", "-1"}};
  CHECK(c.group_id == "billing");
  CHECK_FALSE(c.enable_auto_commit);
  CHECK(c.auto_offset_reset == OffsetReset::earliest);
  CHECK(c.isolation_level == IsolationLevel::read_committed);
  CHECK(c.partition_assignment_strategy == std::vector<std::string>{"cooperative-sticky", "range"});
  CHECK(c.acks_value() == -1);
}

TEST_CASE("an unknown key names the closest known key", "[config]") {
  try {
    Config c{{"bootstrap.servers", "b:1"}, {"fetch.max.wait", "100"}};
    FAIL("no error");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "fetch.max.wait");
    CHECK(std::string(e.what()).find("did you mean 'fetch.max.wait.ms'?") != std::string::npos);
  }
  CHECK(closest_config_key("enable.autocommit") == "enable.auto.commit");
  CHECK(closest_config_key("completely.different.thing.entirely") == "");
}

TEST_CASE("a bad value names the key and what it accepts", "[config]") {
  Config out;
  std::string problem, key;
  CHECK(Config::parse({{"auto.offset.reset", "earlest"}}, out, problem, &key) == client_errc::invalid_config);
  CHECK(key == "auto.offset.reset");
  CHECK(problem == "auto.offset.reset: 'earlest' is not one of earliest, latest, none");
  CHECK(Config::parse({{"max.poll.records", "0"}}, out, problem) == client_errc::invalid_config);
  CHECK(problem.find("out of range") != std::string::npos);
  CHECK(Config::parse({{"check.crcs", "yes"}}, out, problem) == client_errc::invalid_config);
  CHECK(problem == "check.crcs: 'yes' is not true or false");
  CHECK(Config::parse({{"fetch.min.bytes", "12abc"}}, out, problem) == client_errc::invalid_config);
  CHECK(Config::parse({{"partition.assignment.strategy", "sticky"}}, out, problem) ==
        client_errc::invalid_config);
  CHECK(problem.find("'sticky' is not one of range, roundrobin, cooperative-sticky") != std::string::npos);
  CHECK(Config::parse({{"heartbeat.interval.ms", "5000"}, {"session.timeout.ms", "4000"}}, out, problem,
                      &key) == client_errc::invalid_config);
  CHECK(key == "heartbeat.interval.ms");
}

TEST_CASE("every documented key is accepted with its default, which is the real default", "[config]") {
  for (const auto& k : config_keys()) {
    if (k.default_value.empty()) continue;
    Config c;
    std::string problem;
    INFO(k.name << " = " << k.default_value);
    CHECK_FALSE(c.set(std::string(k.name), std::string(k.default_value), problem));
    // Setting the documented default changes nothing but the record of what was set.
    c.values.clear();
    CHECK(c == Config{});
  }
  // And a different value does change something (the comparison sees every field).
  Config c;
  std::string problem;
  REQUIRE_FALSE(c.set("max.poll.records", "7", problem));
  c.values.clear();
  CHECK_FALSE(c == Config{});
}

TEST_CASE("documented keys without a default are the optional strings and bootstrap.servers", "[config]") {
  for (const auto& k : config_keys()) {
    if (!k.default_value.empty()) continue;
    INFO(k.name);
    CHECK((k.name == "bootstrap.servers" || k.name == "group.id" || k.name == "group.instance.id"));
  }
}
