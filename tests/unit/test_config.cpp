// Configuration: known keys, defaults, and errors that name the key and the closest valid choice.
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <set>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/net/pool.hpp"
#include "kafkawire/net/tls.hpp"
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

TEST_CASE("group.protocol: the keys of the other protocol are refused, naming them", "[config]") {
  Config out;
  std::string problem, key;
  CHECK(Config::parse({{"group.protocol", "consumer"}, {"group.remote.assignor", "range"}}, out, problem) ==
        std::error_code());
  CHECK(out.group_protocol == GroupProtocol::consumer);
  CHECK(out.group_remote_assignor == std::optional<std::string>("range"));
  CHECK(Config().group_protocol == GroupProtocol::classic);
  CHECK_FALSE(Config().group_remote_assignor);
  for (const char* classic_only :
       {"session.timeout.ms", "heartbeat.interval.ms", "partition.assignment.strategy"}) {
    INFO(classic_only);
    const std::string value = std::string(classic_only) == "partition.assignment.strategy" ? "range" : "1000";
    CHECK(Config::parse({{"group.protocol", "consumer"}, {classic_only, value}}, out, problem, &key) ==
          client_errc::invalid_config);
    CHECK(key == classic_only);
    CHECK(problem.find("group.protocol=consumer") != std::string::npos);
  }
  CHECK(Config::parse({{"group.remote.assignor", "uniform"}}, out, problem, &key) ==
        client_errc::invalid_config);
  CHECK(key == "group.remote.assignor");
  CHECK(problem.find("needs group.protocol=consumer") != std::string::npos);
  CHECK(Config::parse({{"group.protocol", "next"}}, out, problem, &key) == client_errc::invalid_config);
  CHECK(problem == "group.protocol: 'next' is not one of classic, consumer");
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
  // (transactional.id: empty means no transactions.)
  for (const auto& k : config_keys()) {
    if (!k.default_value.empty()) continue;
    INFO(k.name);
    // And the security settings, which have nothing to default to (credentials, files, a store type).
    CHECK((k.name == "bootstrap.servers" || k.name == "group.id" || k.name == "group.instance.id" ||
           k.name == "group.remote.assignor" || k.name == "transactional.id" ||
           (k.section == "security" && k.rule.kind == ConfigKind::text) || k.name.ends_with("store.type")));
  }
}

namespace {

// A valid value of `k` other than its default: what a test sets to see the key reach its field.
std::string other_value(const ConfigKey& k) {
  switch (k.rule.kind) {
    case ConfigKind::text:
      return "something-else";
    case ConfigKind::whole_number:
    case ConfigKind::duration_ms:
      return std::to_string(std::to_string(k.rule.max) == k.default_value ? k.rule.min : k.rule.max);
    case ConfigKind::flag:
      return k.default_value == "true" ? "false" : "true";
    case ConfigKind::one_of:
    case ConfigKind::list_of: {
      const std::string_view first = k.rule.choices.substr(0, k.rule.choices.find(','));
      const std::string_view rest = k.rule.choices.substr(k.rule.choices.find(',') + 1);
      return std::string(k.default_value == first ? rest.substr(0, rest.find(',')) : first);
    }
  }
  return {};
}

// "a,b,c" -> "a, b, c"
std::string spaced(std::string_view choices) {
  std::string out;
  for (char ch : choices) out += ch == ',' ? std::string(", ") : std::string(1, ch);
  return out;
}

}  // namespace

TEST_CASE("every key has a rule and a field, and its default passes its rule", "[config]") {
  for (const auto& k : config_keys()) {
    INFO(k.name);
    CHECK(k.store != nullptr);
    CHECK(find_config_key(k.name) == &k);
    CHECK_FALSE(k.section.empty());
    if (k.rule.kind == ConfigKind::whole_number || k.rule.kind == ConfigKind::duration_ms) {
      CHECK(k.rule.min <= k.rule.max);
    }
    if (k.rule.kind == ConfigKind::one_of || k.rule.kind == ConfigKind::list_of) {
      CHECK_FALSE(k.rule.choices.empty());
    }
  }
  CHECK(find_config_key("no.such.key") == nullptr);
}

TEST_CASE("every key reaches its field: a value other than the default changes the Config", "[config]") {
  for (const auto& k : config_keys()) {
    const std::string v = other_value(k);
    INFO(k.name << " = " << v);
    Config c;
    std::string problem;
    REQUIRE_FALSE(c.set(std::string(k.name), v, problem));
    CHECK(c.values.at(std::string(k.name)) == v);
    c.values.clear();
    CHECK_FALSE(c == Config{});
    // And back to the default (or, without one, to empty) restores it.
    if (!k.default_value.empty()) {
      REQUIRE_FALSE(c.set(std::string(k.name), std::string(k.default_value), problem));
      c.values.clear();
      CHECK(c == Config{});
    }
  }
}

TEST_CASE("each key's rule: the range's ends pass, one past them fails naming the key and the range",
          "[config]") {
  int ranges = 0, choices = 0;
  for (const auto& k : config_keys()) {
    const std::string key(k.name);
    INFO(key);
    Config c;
    std::string problem;
    switch (k.rule.kind) {
      case ConfigKind::whole_number:
      case ConfigKind::duration_ms: {
        ++ranges;
        CHECK_FALSE(c.set(key, std::to_string(k.rule.min), problem));
        CHECK_FALSE(c.set(key, std::to_string(k.rule.max), problem));
        const std::string range =
            "out of range [" + std::to_string(k.rule.min) + ", " + std::to_string(k.rule.max) + "]";
        for (int64_t outside : {k.rule.min - 1, k.rule.max}) {
          if (outside == k.rule.max) {
            // A key bounded only by int64 (buffer.memory): the number past it does not parse.
            if (outside == INT64_MAX) {
              CHECK(c.set(key, "9223372036854775808", problem) == client_errc::invalid_config);
              continue;
            }
            ++outside;
          }
          CHECK(c.set(key, std::to_string(outside), problem) == client_errc::invalid_config);
          CHECK(problem == key + ": '" + std::to_string(outside) + "' is " + range);
        }
        CHECK(c.set(key, "12abc", problem) == client_errc::invalid_config);
        CHECK(problem == key + ": '12abc' is not a whole number");
        CHECK(c.set(key, "", problem) == client_errc::invalid_config);
        break;
      }
      case ConfigKind::flag:
        CHECK_FALSE(c.set(key, "true", problem));
        CHECK_FALSE(c.set(key, "false", problem));
        CHECK(c.set(key, "TRUE", problem) == client_errc::invalid_config);
        CHECK(problem == key + ": 'TRUE' is not true or false");
        break;
      case ConfigKind::one_of:
      case ConfigKind::list_of: {
        ++choices;
        std::string_view rest = k.rule.choices;
        while (!rest.empty()) {
          const std::string choice(rest.substr(0, rest.find(',')));
          CHECK_FALSE(c.set(key, choice, problem));
          rest =
              rest.find(',') == std::string_view::npos ? std::string_view() : rest.substr(rest.find(',') + 1);
        }
        CHECK(c.set(key, "nonsense", problem) == client_errc::invalid_config);
        CHECK(problem == key + ": 'nonsense' is not one of " + spaced(k.rule.choices));
        if (k.rule.kind == ConfigKind::list_of) {
          CHECK(c.set(key, " , ", problem) == client_errc::invalid_config);
          CHECK(problem == key + ": names none of " + spaced(k.rule.choices));
        }
        break;
      }
      case ConfigKind::text:
        if (k.rule.min > 0) {
          CHECK(c.set(key, "", problem) == client_errc::invalid_config);
          CHECK(problem == key + ": must not be empty");
        } else {
          CHECK_FALSE(c.set(key, "", problem));
        }
        break;
    }
  }
  CHECK(ranges >= 20);
  CHECK(choices >= 5);
}

TEST_CASE("what a key accepts, in words", "[config]") {
  CHECK(config_accepts(find_config_key("max.poll.records")->rule) == "1 to 2147483647");
  CHECK(config_accepts(find_config_key("fetch.max.wait.ms")->rule) == "0 to 2147483647 ms");
  CHECK(config_accepts(find_config_key("auto.offset.reset")->rule) == "earliest, latest, none");
  CHECK(config_accepts(find_config_key("partition.assignment.strategy")->rule) ==
        "a list of range, roundrobin, cooperative-sticky");
  CHECK(config_accepts(find_config_key("check.crcs")->rule) == "true, false");
  CHECK(config_accepts(find_config_key("bootstrap.servers")->rule) == "a non-empty string");
  CHECK(config_accepts(find_config_key("queued.max.messages.kbytes")->rule) == "1 to 2097151");
}

TEST_CASE("pool_options: every connection setting of the Config reaches the pool", "[config]") {
  const Config c{{"bootstrap.servers", "a:1, b:2"},
                 {"client.id", "me"},
                 {"receive.message.max.bytes", "2000000"},
                 {"request.timeout.ms", "1234"},
                 {"socket.connection.setup.timeout.ms", "567"},
                 {"reconnect.backoff.ms", "11"},
                 {"reconnect.backoff.max.ms", "22"},
                 {"metadata.max.age.ms", "33"}};
  const net::PoolOptions o = pool_options(c);
  CHECK(o.bootstrap == std::vector<std::pair<std::string, uint16_t>>{{"a", 1}, {"b", 2}});
  CHECK(o.connection.client_id == "me");
  CHECK(o.connection.receive_message_max_bytes == 2000000);
  CHECK(o.connection.request_timeout == std::chrono::milliseconds(1234));
  CHECK(o.connection.connect_timeout == std::chrono::milliseconds(567));
  CHECK(o.reconnect_backoff == std::chrono::milliseconds(11));
  CHECK(o.reconnect_backoff_max == std::chrono::milliseconds(22));
  CHECK(o.metadata_max_age == std::chrono::milliseconds(33));
  CHECK_THROWS_AS(pool_options(Config{{"bootstrap.servers", "nohost"}}), ConfigError);
}

TEST_CASE("the Consumer and the Producer build their pools from the same pool_options", "[config]") {
  boost::asio::io_context io;
  const Config c{{"bootstrap.servers", "127.0.0.1:1"},
                 {"receive.message.max.bytes", "2000000"},
                 {"metadata.max.age.ms", "33"},
                 {"socket.connection.setup.timeout.ms", "567"}};
  Consumer consumer(io.get_executor(), c);
  Producer producer(io.get_executor(), c);
  for (const net::PoolOptions* o : {&consumer.pool().options(), &producer.pool().options()}) {
    CHECK(o->connection.receive_message_max_bytes == 2000000);  // the Producer used to keep 100 MiB
    CHECK(o->metadata_max_age == std::chrono::milliseconds(33));
    CHECK(o->connection.connect_timeout == std::chrono::milliseconds(567));
  }
}

TEST_CASE("enable.idempotence: on by default; a conflicting setting turns it off unless it was asked for",
          "[config][idempotence]") {
  const std::string b = "127.0.0.1:1";
  CHECK(Config{{"bootstrap.servers", b}}.idempotent());
  CHECK(Config{{"bootstrap.servers", b}, {"acks", "-1"}}.idempotent());
  CHECK_FALSE(Config{{"bootstrap.servers", b}, {"enable.idempotence", "false"}}.idempotent());
  // Left at its default, as Java does: the user's acks / retries / max.in.flight win, quietly.
  CHECK_FALSE(Config{{"bootstrap.servers", b}, {"acks", "1"}}.idempotent());
  CHECK_FALSE(Config{{"bootstrap.servers", b}, {"acks", "0"}}.idempotent());
  CHECK_FALSE(Config{{"bootstrap.servers", b}, {"retries", "0"}}.idempotent());
  CHECK_FALSE(Config{{"bootstrap.servers", b}, {"max.in.flight.requests.per.connection", "6"}}.idempotent());
  CHECK(Config{{"bootstrap.servers", b}, {"max.in.flight.requests.per.connection", "5"}}.idempotent());
  // Asked for explicitly: a configuration error naming the key in conflict.
  const std::vector<std::pair<std::string, std::string>> conflicts = {
      {"acks", "1"}, {"acks", "0"}, {"retries", "0"}, {"max.in.flight.requests.per.connection", "6"}};
  for (const auto& [key, value] : conflicts) {
    INFO(key << "=" << value);
    std::map<std::string, std::string> kv{
        {"bootstrap.servers", b}, {"enable.idempotence", "true"}, {key, value}};
    Config out;
    std::string problem, failed;
    CHECK(Config::parse(kv, out, problem, &failed) == client_errc::invalid_config);
    CHECK(failed == key);
    CHECK(problem.find("enable.idempotence") != std::string::npos);
    CHECK(problem.find(key) != std::string::npos);
    CHECK_THROWS_AS(Config(kv), ConfigError);
  }
  CHECK(Config{{"bootstrap.servers", b}, {"enable.idempotence", "true"}, {"acks", "all"}}.idempotent());
}

TEST_CASE("transactional.id needs idempotence: a conflict is an error whether or not idempotence was set",
          "[config][idempotence][transactions]") {
  const std::string b = "127.0.0.1:9092";
  CHECK(Config{{"bootstrap.servers", b}, {"transactional.id", "t"}}.idempotent());
  CHECK(Config{{"bootstrap.servers", b}, {"transactional.id", "t"}}.transaction_timeout ==
        std::chrono::milliseconds(60000));
  const std::vector<std::pair<std::string, std::string>> conflicts = {
      {"enable.idempotence", "false"},
      {"acks", "1"},
      {"retries", "0"},
      {"max.in.flight.requests.per.connection", "6"}};
  for (const auto& [key, value] : conflicts) {
    INFO(key << "=" << value);
    Config out;
    std::string problem, failed;
    CHECK(Config::parse({{"bootstrap.servers", b}, {"transactional.id", "t"}, {key, value}}, out, problem,
                        &failed) == client_errc::invalid_config);
    CHECK(failed == key);
    CHECK(problem.find("transactional.id") != std::string::npos);
  }
}

namespace {

// Parses kv; on failure returns "key: problem" (the key parse() names), else "".
std::string refusal(std::map<std::string, std::string> kv) {
  kv.emplace("bootstrap.servers", "127.0.0.1:1");
  Config out;
  std::string problem, failed;
  if (!Config::parse(kv, out, problem, &failed)) return "";
  return failed + " | " + problem;
}

}  // namespace

TEST_CASE("security: security.protocol and sasl.mechanism in any case; what each needs",
          "[config][security]") {
  const std::string b = "127.0.0.1:1";
  Config c{{"bootstrap.servers", b},
           {"security.protocol", "sasl_plaintext"},
           {"sasl.mechanism", "plain"},
           {"sasl.username", "alice"},
           {"sasl.password", "secret"}};
  CHECK(c.security_protocol == "SASL_PLAINTEXT");
  CHECK(c.sasl_mechanism == "PLAIN");
  CHECK(Config{{"bootstrap.servers", b}}.security_protocol == "PLAINTEXT");
  CHECK(refusal({{"security.protocol", "TLS"}})
            .starts_with("security.protocol | security.protocol: 'TLS' is not one of PLAINTEXT, SSL, "
                         "SASL_PLAINTEXT, SASL_SSL"));
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.mechanism", "GSSAPI"}})
            .starts_with("sasl.mechanism | sasl.mechanism: 'GSSAPI' is not one of PLAIN"));
  // Credentials: each mechanism says what is missing, naming the key.
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"}}).starts_with("sasl.username | "));
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.username", "alice"}})
            .starts_with("sasl.password | "));
  // OAUTHBEARER: the token, its file or a provider set in code later; needed when the client is made.
  Config oauth{
      {"bootstrap.servers", b}, {"security.protocol", "SASL_PLAINTEXT"}, {"sasl.mechanism", "OAUTHBEARER"}};
  try {
    pool_options(oauth);
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "sasl.oauthbearer.token");
  }
  oauth.sasl_oauthbearer_token_provider.get = [](std::string& token, std::string&) -> std::error_code {
    token = "eyJ";
    return {};
  };
  CHECK(pool_options(oauth).connection.sasl->token_provider);
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"},
                 {"sasl.mechanism", "OAUTHBEARER"},
                 {"sasl.oauthbearer.token", "eyJ"}}) == "");
  // Without SASL the sasl.* keys are not needed (as in Java, they are ignored).
  CHECK(refusal({{"sasl.mechanism", "SCRAM-SHA-512"}}) == "");
}

TEST_CASE("security: sasl.jaas.config gives the user name and password, as Java's login modules",
          "[config][security]") {
  const std::string b = "127.0.0.1:1";
  Config c{{"bootstrap.servers", b},
           {"security.protocol", "SASL_SSL"},
           {"sasl.mechanism", "SCRAM-SHA-256"},
           {"sasl.jaas.config",
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" "
            "password=\"s3cr\\\"et\";"}};
  if (net::openssl_built_in()) {
    CHECK(c.sasl_username == "alice");
    CHECK(c.sasl_password == "s3cr\"et");
  }
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"}, {"sasl.jaas.config", "nonsense"}})
            .starts_with("sasl.jaas.config | sasl.jaas.config: "));
  CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"},
                 {"sasl.username", "bob"},
                 {"sasl.jaas.config",
                  "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
                  "password=\"x\";"}})
            .starts_with("sasl.jaas.config | "));
}

TEST_CASE("security: each PEM input once; Java's store names only for PEM", "[config][security]") {
  CHECK(refusal({{"ssl.ca.location", "/a.pem"}, {"ssl.ca.pem", "-----BEGIN"}}) ==
        "ssl.ca.pem | ssl.ca.pem: set either ssl.ca.location or ssl.ca.pem, not both");
  CHECK(refusal({{"ssl.truststore.location", "/a.pem"}, {"ssl.ca.location", "/b.pem"}})
            .starts_with("ssl.ca.location | "));
  CHECK(refusal({{"ssl.truststore.location", "/a.jks"}}).starts_with("ssl.truststore.type | "));
  CHECK(refusal({{"ssl.truststore.location", "/a.pem"}, {"ssl.truststore.type", "pem"}}) == "");
  CHECK(refusal({{"ssl.keystore.location", "/a.p12"}, {"ssl.keystore.type", "PKCS12"}})
            .starts_with("ssl.keystore.type | ssl.keystore.type: 'PKCS12' is not one of PEM"));
}

TEST_CASE("security: TLS needs OpenSSL; files are read when the pool is made, errors name the key",
          "[config][security]") {
  const std::string b = "127.0.0.1:1";
  if (!net::openssl_built_in()) {
    // The rule for optional dependencies: the configuration fails naming the build option.
    const auto why = refusal({{"security.protocol", "SSL"}});
    CHECK(why.starts_with("security.protocol | "));
    CHECK(why.find("KAFKAWIRE_WITH_OPENSSL") != std::string::npos);
    CHECK(refusal({{"security.protocol", "SASL_PLAINTEXT"},
                   {"sasl.mechanism", "SCRAM-SHA-256"},
                   {"sasl.username", "a"},
                   {"sasl.password", "b"}})
              .find("KAFKAWIRE_WITH_OPENSSL") != std::string::npos);
    return;
  }
  // The system's trust store when no CA is given.
  CHECK(pool_options(Config{{"bootstrap.servers", b}, {"security.protocol", "ssl"}}).connection.tls);
  CHECK_FALSE(pool_options(Config{{"bootstrap.servers", b}}).connection.tls);
  try {
    pool_options(
        Config{{"bootstrap.servers", b}, {"security.protocol", "SSL"}, {"ssl.ca.location", "/nope.pem"}});
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "ssl.ca.location");
    CHECK(std::string(e.what()) == "ssl.ca.location: cannot read /nope.pem: No such file or directory");
  }
  try {
    pool_options(Config{{"bootstrap.servers", b}, {"security.protocol", "SSL"}, {"ssl.ca.pem", "not a pem"}});
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(e.key() == "ssl.ca.pem");
  }
  try {
    pool_options(
        Config{{"bootstrap.servers", b}, {"security.protocol", "SSL"}, {"ssl.certificate.pem", "x"}});
    FAIL("no ConfigError");
  } catch (const ConfigError& e) {
    CHECK(std::string(e.what()).find("without a private key") != std::string::npos);
  }
  // SASL settings reach the connections.
  auto o = pool_options(Config{{"bootstrap.servers", b},
                               {"security.protocol", "SASL_PLAINTEXT"},
                               {"sasl.username", "alice"},
                               {"sasl.password", "secret"}});
  REQUIRE(o.connection.sasl);
  CHECK(o.connection.sasl->mechanism == "PLAIN");
  CHECK(o.connection.sasl->username == "alice");
  CHECK(o.connection.sasl->password == "secret");
  CHECK_FALSE(o.connection.tls);
}

TEST_CASE("Java's .properties syntax, as java.util.Properties reads a client's file",
          "[config][properties]") {
  auto parse = [](std::string_view text) {
    std::map<std::string, std::string> kv;
    std::string problem;
    INFO(text);
    REQUIRE(parse_java_properties(text, kv, problem));
    return kv;
  };
  using KV = std::map<std::string, std::string>;
  // The three separators, with blanks around them; blanks before the key; blank lines.
  CHECK(parse("a=1\n  b : 2\n\tc 3\n\nd\te=4\n") == KV{{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "e=4"}});
  // Only the first separator counts; the value may hold more; a key alone has an empty value.
  CHECK(parse("a==1\nb:=2\nc = =3\nalone\nempty=\n") ==
        KV{{"a", "=1"}, {"b", "=2"}, {"c", "=3"}, {"alone", ""}, {"empty", ""}});
  // # and ! comments, after blanks too; not after a key.
  CHECK(parse("# x=1\n  ! y=2\nz=3 # not a comment\n") == KV{{"z", "3 # not a comment"}});
  // A trailing backslash continues the line, without the next line's leading blanks; two do not.
  CHECK(parse("jaas=Module required \\\n    username=\"a\" \\\n\tpassword=\"b\";\nnext=1\n") ==
        KV{{"jaas", "Module required username=\"a\" password=\"b\";"}, {"next", "1"}});
  CHECK(parse("path=C:\\\\\nother=2\n") == KV{{"path", "C:\\"}, {"other", "2"}});
  // A comment line never continues; a continued line may start with # (it is not a comment).
  CHECK(parse("# comment \\\na=1\nb=x\\\n#y\n") == KV{{"a", "1"}, {"b", "x#y"}});
  // Escapes: \t \n \r \f, \uXXXX (into UTF-8, surrogate pairs joined), any other character itself.
  CHECK(parse("a=x\\ty\\nz\nb=\\u00e9\\u20AC\\uD83D\\uDE00\nc=C:\\dir\\sub\nk\\=e\\:y\\ z=v\n") ==
        KV{{"a", "x\ty\nz"},
           {"b", "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"},
           {"c", "C:dirsub"},
           {"k=e:y z", "v"}});
  // \r\n and \r line ends; values trimmed as Kafka's ConfigDef trims them; a later line wins; a BOM.
  CHECK(parse("\xEF\xBB\xBF"
              "a=1  \r\nb=2\t\rc=3\na=4") == KV{{"a", "4"}, {"b", "2"}, {"c", "3"}});
  // A continuation on the last line, and a lone backslash at the very end: as Java, nothing more.
  CHECK(parse("a=1\\") == KV{{"a", "1"}});
  CHECK(parse("") == KV{});

  // A malformed \u names the line and shows nothing of it (it may be a password).
  std::map<std::string, std::string> kv;
  std::string problem;
  CHECK_FALSE(parse_java_properties("a=1\nsasl.password=s3cr\\u12x4et\n", kv, problem));
  CHECK(problem.starts_with("line 2: malformed \\uXXXX escape"));
  CHECK(problem.find("s3cr") == std::string::npos);
  CHECK(problem.find("sasl.password") == std::string::npos);
  CHECK_FALSE(parse_java_properties("a=\\u12", kv, problem));
  CHECK_FALSE(parse_java_properties("a=\\uD83D alone", kv, problem));  // half a surrogate pair
}

TEST_CASE("a Java client's SASL_SSL file is a kafkawire Config", "[config][properties][security]") {
  if (!net::openssl_built_in()) return;
  std::map<std::string, std::string> kv;
  std::string problem;
  REQUIRE(parse_java_properties(
      "bootstrap.servers=broker:9093\n"
      "security.protocol=SASL_SSL\n"
      "sasl.mechanism=SCRAM-SHA-512\n"
      "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required \\\n"
      "  username=\"alice\" \\\n"
      "  password=\"alice-secret\";\n"
      "ssl.truststore.type=PEM\n"
      "ssl.truststore.location=/etc/kafka/ca.pem\n"
      "ssl.endpoint.identification.algorithm=\n"
      "client.dns.lookup=use_all_dns_ips\n"
      "key.deserializer=org.apache.kafka.common.serialization.ByteArrayDeserializer\n"
      "value.deserializer=org.apache.kafka.common.serialization.StringDeserializer\n",
      kv, problem));
  Config c;
  REQUIRE_FALSE(Config::parse(kv, c, problem));
  CHECK(c.security_protocol == "SASL_SSL");
  CHECK(c.sasl_mechanism == "SCRAM-SHA-512");
  CHECK(c.sasl_username == "alice");
  CHECK(c.sasl_password == "alice-secret");
  CHECK(c.ssl_truststore_location == "/etc/kafka/ca.pem");
  // Java's empty ssl.endpoint.identification.algorithm: no host name check.
  CHECK(c.ssl_endpoint_identification_algorithm == "none");
  CHECK(c.values.at("client.dns.lookup") == "use_all_dns_ips");
}

TEST_CASE("keys of Java's clients: what kafkawire does anyway is taken, the rest refused naming the key",
          "[config][security]") {
  CHECK(refusal({{"client.dns.lookup", "use_all_dns_ips"}}) == "");
  CHECK(refusal({{"client.dns.lookup", "resolve_canonical_bootstrap_servers_only"}})
            .starts_with("client.dns.lookup | client.dns.lookup: kafkawire connects to each address"));
  CHECK(refusal({{"value.serializer", "org.apache.kafka.common.serialization.StringSerializer"}}) == "");
  CHECK(refusal({{"value.serializer", "io.confluent.kafka.serializers.KafkaAvroSerializer"}})
            .starts_with("value.serializer | value.serializer: kafkawire sends values as the bytes"));
  // Passwords and PEM text: refused whatever the value, and the value is never in the message.
  for (const auto& [key, pointer] : std::vector<std::pair<std::string, std::string>>{
           {"ssl.truststore.password", "remove the line"},
           {"ssl.keystore.password", "ssl.key.password"},
           {"ssl.truststore.certificates", "ssl.ca.pem"},
           {"ssl.keystore.certificate.chain", "ssl.certificate.pem"},
           {"ssl.keystore.key", "ssl.key.pem"}}) {
    const std::string why = refusal({{key, "Zq9-secret-value"}});
    INFO(why);
    CHECK(why.starts_with(key + " | " + key + ": "));
    CHECK(why.find(pointer) != std::string::npos);
    CHECK(why.find("Zq9") == std::string::npos);
  }
  // Every Java key is unknown to the table (a key has one meaning) and says why it is refused.
  for (const auto& j : java_client_keys()) {
    INFO(j.name);
    CHECK(find_config_key(j.name) == nullptr);
    CHECK_FALSE(j.why.empty());
  }
  // Other unknown keys stay errors naming the closest known key.
  CHECK(refusal({{"ssl.truststore.passwd", "x"}}).find("unknown configuration key") != std::string::npos);
}

TEST_CASE("secrets: marked once in the table, redacted in dumps and never in error messages",
          "[config][security]") {
  // What is a secret: passwords, tokens and private keys, each marked in config_keys().
  std::set<std::string_view> secret_keys;
  for (const auto& k : config_keys())
    if (k.secret != ConfigSecret::none) secret_keys.insert(k.name);
  CHECK(secret_keys == std::set<std::string_view>{"sasl.password", "sasl.jaas.config",
                                                  "sasl.oauthbearer.token", "ssl.key.pem",
                                                  "ssl.key.password"});
  for (const auto& k : config_keys()) {
    const bool looks_secret = k.name.find("password") != std::string_view::npos ||
                              k.name.ends_with(".token") || k.name == "ssl.key.pem" ||
                              k.name.find("jaas") != std::string_view::npos;
    INFO(k.name);
    CHECK(looks_secret == (k.secret != ConfigSecret::none));
  }

  CHECK(redacted("kafkawire-secret") == "[redacted, 16 chars]");
  CHECK(redacted("\xC3\xA9") == "[redacted, 1 char]");  // characters, not bytes
  CHECK(config_value_shown("sasl.password", "s3cret") == "[redacted, 6 chars]");
  CHECK(config_value_shown("sasl.username", "alice") == "alice");
  CHECK(config_value_shown("no.such.key", "x") == "x");
  // The JAAS text: the module and the user name stay, every other option's value goes.
  CHECK(config_value_shown(
            "sasl.jaas.config",
            "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
            "password=\"a\\\"b\" other=plain;") ==
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
        "password=[redacted, 3 chars] other=[redacted, 5 chars];");
  CHECK(config_value_shown("sasl.jaas.config", "M required password='x y';") ==
        "M required password=[redacted, 3 chars];");
  // A text that does not even lex: all of it.
  CHECK(config_value_shown("sasl.jaas.config", "M required password=\"s3cret") == "[redacted, 27 chars]");

  // The dump: effective values, secrets redacted (PLAIN without TLS: a build without OpenSSL takes it).
  const std::string marker = "Zq9SecretMarker";
  const std::string key_pem = "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n";
  Config c{
      {"bootstrap.servers", "b:1"},
      {"security.protocol", "sasl_plaintext"},
      {"sasl.mechanism", "plain"},
      {"sasl.jaas.config",
       "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" password=\"" +
           marker + "\";"},
      {"ssl.key.pem", key_pem},
      {"ssl.key.password", marker},
      {"sasl.oauthbearer.token", marker},
      {"ssl.endpoint.identification.algorithm", ""},
      {"partition.assignment.strategy", " range ,roundrobin"}};
  std::map<std::string, std::string> dumped;
  for (const auto& [k, v] : c.dump()) {
    CHECK(v.find(marker) == std::string::npos);
    dumped[k] = v;
  }
  CHECK(dumped.at("security.protocol") == "SASL_PLAINTEXT");
  CHECK(dumped.at("sasl.mechanism") == "PLAIN");
  CHECK(dumped.at("ssl.endpoint.identification.algorithm") == "none");
  CHECK(dumped.at("partition.assignment.strategy") == "range,roundrobin");
  CHECK(dumped.at("ssl.key.pem") == redacted(key_pem));
  CHECK(dumped.at("ssl.key.password") == "[redacted, 15 chars]");
  CHECK(dumped.at("sasl.jaas.config") ==
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"alice\" "
        "password=[redacted, 15 "
        "chars];");
  CHECK(dumped.at("fetch.max.wait.ms") == "500");  // defaults too
  CHECK_FALSE(dumped.count("sasl.username"));      // neither set nor with a default

  // Error messages: whatever is wrong, no secret in them.
  const std::vector<std::map<std::string, std::string>> broken = {
      {{"security.protocol", "SASL_SSL"},
       {"sasl.jaas.config", "M required username=\"a\" password=\"" + marker}},
      {{"security.protocol", "SASL_SSL"},
       {"sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\" " + marker +
            "=\"x\";"}},
      {{"security.protocol", "SASL_SSL"},
       {"sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\" "
        "password=9" +
            marker + ";"}},
      {{"security.protocol", "SASL_SSL"}, {"sasl.password", marker}},
      {{"security.protocol", "SASL_SSL"},
       {"sasl.username", "bob"},
       {"sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required username=\"a\" "
        "password=\"" +
            marker + "\";"}},
      {{"ssl.key.pem", key_pem}, {"ssl.key.location", "/k.pem"}},
      {{"ssl.truststore.password", marker}},
      {{"ssl.keystore.key", key_pem}},
  };
  for (const auto& kv : broken) {
    const std::string why = refusal(kv);
    INFO(why);
    CHECK_FALSE(why.empty());
    CHECK(why.find(marker) == std::string::npos);
  }
  if (net::openssl_built_in()) {
    // Read when the pool is made: a key that does not load, a password that does not open it.
    for (const auto& kv : std::vector<Config>{
             Config{{"bootstrap.servers", "b:1"},
                    {"security.protocol", "SSL"},
                    {"ssl.certificate.pem", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"},
                    {"ssl.key.pem", key_pem}},
             Config{{"bootstrap.servers", "b:1"}, {"security.protocol", "SSL"}, {"ssl.key.pem", key_pem}}}) {
      try {
        pool_options(kv);
        FAIL("no ConfigError");
      } catch (const ConfigError& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(marker) == std::string::npos);
      }
    }
  }
}
