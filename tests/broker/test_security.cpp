// TLS, mutual TLS and SASL against the secured listeners of the test broker (tools/broker/kafka-local
// --secured): the consumer story over each, and the refusals a user meets when something is wrong. The
// listeners, certificates and users are in the broker's secured.env.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>

#include "helpers.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/net/connection.hpp"
#include "kafkawire/net/tls.hpp"
#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "secured_env.hpp"

using namespace kafkawire;
using namespace std::chrono_literals;
namespace asio = boost::asio;
using kafkawire::testing::create_topic;
using kafkawire::testing::env;
using kafkawire::testing::have_secured_broker;
using kafkawire::testing::run_until;
using kafkawire::testing::secured;
using kafkawire::testing::Settings;
using kafkawire::testing::tls_settings;
using kafkawire::testing::unique;
using kafkawire::testing::unsecured_token;
using kafkawire::testing::ways_in;

namespace {

Config with(Settings s, std::initializer_list<std::pair<const std::string, std::string>> extra = {}) {
  for (const auto& [k, v] : extra) s[k] = v;
  return Config(s);
}

// Asks for the partitions' latest offsets: the quickest request that needs a working connection.
std::tuple<std::error_code, std::string> try_list_offsets(asio::io_context& io, const Config& config,
                                                          const std::string& topic) {
  Consumer c(io.get_executor(), config);
  auto f = c.async_list_offsets({{topic, 0}}, -1, asio::use_future);
  auto [ec, offsets] = run_until(io, f, 60s);
  return {ec, c.error_text()};
}

}  // namespace

TEST_CASE("security: produce, consume in a group, commit and resume over every secured listener",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  for (const auto& [name, settings] : ways_in()) {
    DYNAMIC_SECTION(name) {
      asio::io_context io;
      const std::string topic = unique("kw-secured");
      const std::string group = unique("kw-secured-group");
      create_topic(io, topic, 2);
      {
        Producer p(io.get_executor(), with(settings, {{"linger.ms", "1"}}));
        std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> sent;
        for (int i = 0; i < 40; ++i)
          sent.push_back(p.async_send(ProducerRecord{.topic = topic,
                                                     .partition = i % 2,
                                                     .key = "k" + std::to_string(i),
                                                     .value = "v" + std::to_string(i)},
                                      asio::use_future));
        for (auto& f : sent) {
          auto [ec, md] = run_until(io, f, 60s);
          INFO(p.error_text());
          REQUIRE_FALSE(ec);
        }
      }
      const auto group_config = with(settings, {{"group.id", group},
                                                {"enable.auto.commit", "false"},
                                                {"auto.offset.reset", "earliest"},
                                                {"max.poll.records", "15"}});
      size_t first_run = 0;
      {
        Consumer c(io.get_executor(), group_config);
        c.subscribe({topic});
        const auto deadline = std::chrono::steady_clock::now() + 60s;
        while (first_run < 15 && std::chrono::steady_clock::now() < deadline) {
          auto f = c.async_poll(200ms, asio::use_future);
          auto [ec, records] = run_until(io, f, 60s);
          INFO(c.error_text());
          REQUIRE_FALSE(ec);
          first_run += records.size();
        }
        REQUIRE(first_run >= 15);
        auto f = c.async_commit(asio::use_future);  // what the polls returned
        auto ec = run_until(io, f, 60s);
        INFO(c.error_text());
        REQUIRE_FALSE(ec);
        auto closed = c.async_close(asio::use_future);
        run_until(io, closed, 60s);
      }
      // A new member of the group resumes where the commit left off: together, each record once.
      Consumer c(io.get_executor(), group_config);
      c.subscribe({topic});
      size_t second_run = 0;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (first_run + second_run < 40 && std::chrono::steady_clock::now() < deadline) {
        auto f = c.async_poll(200ms, asio::use_future);
        auto [ec, records] = run_until(io, f, 60s);
        INFO(c.error_text());
        REQUIRE_FALSE(ec);
        second_run += records.size();
      }
      CHECK(first_run + second_run == 40);
    }
  }
}

// The connection reads TLS in chunks of its own and decrypts as many records as a read has room for
// (net/src/tls_stream.hpp): one Fetch answer of ~3 MB spans many chunks and ~190 TLS records, and small
// answers share a chunk. Every byte must come out as it went in, in order.
TEST_CASE("security: Fetch answers larger than a TLS read arrive whole, byte for byte",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  asio::io_context io;
  const std::string topic = unique("kw-secured-large");
  create_topic(io, topic, 1);
  constexpr int kRecords = 2000;
  auto value_of = [](int i) {
    std::string v(1500, ' ');
    for (size_t j = 0; j < v.size(); ++j) v[j] = static_cast<char>('a' + (i * 31 + static_cast<int>(j)) % 26);
    return v;
  };
  {
    Producer p(io.get_executor(), kafkawire::testing::base_config({{"linger.ms", "5"}}));
    std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> sent;
    for (int i = 0; i < kRecords; ++i)
      sent.push_back(p.async_send(ProducerRecord{.topic = topic, .partition = 0, .value = value_of(i)},
                                  asio::use_future));
    for (auto& f : sent) {
      auto [ec, md] = run_until(io, f, 60s);
      INFO(p.error_text());
      REQUIRE_FALSE(ec);
    }
  }
  for (const auto& [name, settings] : ways_in()) {
    if (name != "SSL with a client certificate" && name != "SASL_SSL PLAIN") continue;
    DYNAMIC_SECTION(name) {
      Consumer c(io.get_executor(), with(settings, {{"auto.offset.reset", "earliest"},
                                                    {"fetch.max.bytes", "4194304"},
                                                    {"max.partition.fetch.bytes", "4194304"},
                                                    {"max.poll.records", "100000"}}));
      c.assign({{topic, 0}});
      int next = 0;
      const auto deadline = std::chrono::steady_clock::now() + 60s;
      while (next < kRecords && std::chrono::steady_clock::now() < deadline) {
        auto f = c.async_poll(500ms, asio::use_future);
        auto [ec, batch] = run_until(io, f, 60s);
        INFO(c.error_text());
        REQUIRE_FALSE(ec);
        for (const Record& r : batch) {
          REQUIRE(r.offset() == next);
          REQUIRE(r.value());
          REQUIRE(r.value()->str() == value_of(next));
          ++next;
        }
      }
      CHECK(next == kRecords);
    }
  }
}

TEST_CASE("security: a wrong password or an unknown user is refused with the broker's reason",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  asio::io_context io;
  const std::string topic = unique("kw-secured-refused");
  create_topic(io, topic, 1);
  for (const std::string mechanism : {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}) {
    DYNAMIC_SECTION(mechanism) {
      for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
               {env("KAFKAWIRE_SASL_USER"), "not-the-password"}, {"nobody-" + unique("u"), "x"}}) {
        INFO(user);
        auto [ec, text] =
            try_list_offsets(io,
                             Config({{"bootstrap.servers", env("KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP")},
                                     {"security.protocol", "SASL_PLAINTEXT"},
                                     {"sasl.mechanism", mechanism},
                                     {"sasl.username", user},
                                     {"sasl.password", password},
                                     {"default.api.timeout.ms", "5000"}}),
                             topic);
        INFO(text);
        CHECK(ec == kafka_errc::sasl_authentication_failed);
        CHECK(text.find("SASL " + mechanism) != std::string::npos);
        CHECK(text.find("not-the-password") == std::string::npos);  // never in a message
      }
    }
  }
}

TEST_CASE("security: a mechanism the listener does not enable is refused with the ones it does",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  asio::io_context io;
  const std::string topic = unique("kw-secured-mechanism");
  create_topic(io, topic, 1);
  auto [ec, text] = try_list_offsets(io,
                                     Config({{"bootstrap.servers", env("KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP")},
                                             {"security.protocol", "SASL_PLAINTEXT"},
                                             {"sasl.mechanism", "OAUTHBEARER"},
                                             {"sasl.oauthbearer.token", unsecured_token("kafkawire")},
                                             {"default.api.timeout.ms", "5000"}}),
                                     topic);
  INFO(text);
  CHECK(ec == kafka_errc::unsupported_sasl_mechanism);
  CHECK(text.find("does not offer OAUTHBEARER; it offers") != std::string::npos);
  CHECK(text.find("SCRAM-SHA-512") != std::string::npos);
}

TEST_CASE("security: a client without SASL on a SASL listener is told that is what the listener wants",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  // The listener answers ApiVersions and then closes the connection: before the hint, all the user saw
  // was "disconnected" until the timeout.
  asio::io_context io;
  const std::string topic = unique("kw-secured-nosasl");
  create_topic(io, topic, 1);
  auto [ec, text] = try_list_offsets(io,
                                     Config({{"bootstrap.servers", env("KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP")},
                                             {"default.api.timeout.ms", "3000"}}),
                                     topic);
  INFO(text);
  CHECK(ec);
  CHECK(text.find("as a SASL listener does to a client that does not authenticate") != std::string::npos);
}

TEST_CASE("security: TLS refusals name the reason; the certificate is checked against the host",
          "[broker][security]") {
  if (!have_secured_broker()) return;
  asio::io_context io;
  const std::string topic = unique("kw-secured-tls");
  create_topic(io, topic, 1);
  const std::string ssl = env("KAFKAWIRE_SSL_BOOTSTRAP");
  auto base = [&] {
    Settings s = tls_settings();
    s["bootstrap.servers"] = ssl;
    s["security.protocol"] = "SSL";
    s["default.api.timeout.ms"] = "5000";
    return s;
  };
  SECTION("the listener requires a client certificate") {
    Settings s = base();
    s.erase("ssl.certificate.location");
    s.erase("ssl.key.location");
    auto [ec, text] = try_list_offsets(io, Config(s), topic);
    INFO(text);
    CHECK(ec == client_errc::tls_failed);  // refused at once, not retried until the timeout
    CHECK(text.find("client certificate") != std::string::npos);
  }
  SECTION("a CA that did not sign the broker's certificate (the system's store)") {
    Settings s = base();
    s.erase("ssl.ca.location");
    auto [ec, text] = try_list_offsets(io, Config(s), topic);
    INFO(text);
    CHECK(ec == client_errc::tls_failed);
    CHECK(text.find("certificate verify failed") != std::string::npos);
  }
  SECTION("by host name: the certificate names localhost too") {
    Settings s = base();
    std::string b = ssl.substr(0, ssl.find(','));
    s["bootstrap.servers"] = "localhost" + b.substr(b.rfind(':'));
    auto [ec, text] = try_list_offsets(io, Config(s), topic);
    INFO(text);
    CHECK_FALSE(ec);
  }
  SECTION("a plaintext client on a TLS port, a TLS client on a plaintext port: each says which is which") {
    const auto start = std::chrono::steady_clock::now();
    auto [ec, text] =
        try_list_offsets(io, Config({{"bootstrap.servers", ssl}, {"default.api.timeout.ms", "5000"}}), topic);
    INFO(text);
    CHECK(ec == client_errc::malformed);
    CHECK(text.find("answered with TLS: it is a TLS listener") != std::string::npos);
    Settings s = base();
    s["bootstrap.servers"] = kafkawire::testing::bootstrap();
    auto [ec2, text2] = try_list_offsets(io, Config(s), topic);
    INFO(text2);
    CHECK(ec2 == client_errc::tls_failed);
    CHECK(text2.find("a plaintext listener") != std::string::npos);
    // Refused, not retried until default.api.timeout.ms.
    CHECK(std::chrono::steady_clock::now() - start < 4s);
  }
  SECTION("PEM as text, and Java's store names for PEM files") {
    auto read = [](const std::string& path) {
      std::ifstream in(path);
      return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    Settings text = base();
    text.erase("ssl.ca.location");
    text.erase("ssl.certificate.location");
    text.erase("ssl.key.location");
    text["ssl.ca.pem"] = read(env("KAFKAWIRE_TLS_CA"));
    text["ssl.certificate.pem"] = read(env("KAFKAWIRE_TLS_CERT"));
    text["ssl.key.pem"] = read(env("KAFKAWIRE_TLS_KEY"));
    auto [ec, why] = try_list_offsets(io, Config(text), topic);
    INFO(why);
    CHECK_FALSE(ec);
    // Java's keystore in PEM: one file with the certificate and its key.
    const std::string keystore = "/tmp/kw-keystore-" + unique("pem") + ".pem";
    std::ofstream(keystore) << read(env("KAFKAWIRE_TLS_CERT")) << read(env("KAFKAWIRE_TLS_KEY"));
    Settings java{{"bootstrap.servers", ssl},         {"security.protocol", "SSL"},
                  {"default.api.timeout.ms", "5000"}, {"ssl.truststore.location", env("KAFKAWIRE_TLS_CA")},
                  {"ssl.truststore.type", "PEM"},     {"ssl.keystore.location", keystore},
                  {"ssl.keystore.type", "PEM"}};
    auto [ec2, why2] = try_list_offsets(io, Config(java), topic);
    std::remove(keystore.c_str());
    INFO(why2);
    CHECK_FALSE(ec2);
  }
  SECTION("an encrypted key with its password; a wrong password fails when the client is made") {
    Settings s = base();
    s["ssl.key.location"] = env("KAFKAWIRE_TLS_KEY_ENCRYPTED");
    s["ssl.key.password"] = env("KAFKAWIRE_TLS_KEY_PASSWORD");
    auto [ec, text] = try_list_offsets(io, Config(s), topic);
    INFO(text);
    CHECK_FALSE(ec);
    s["ssl.key.password"] = "wrong";
    try {
      Consumer c(io.get_executor(), Config(s));
      FAIL("no ConfigError");
    } catch (const ConfigError& e) {
      CHECK(e.key() == "ssl.key.location");
      CHECK(std::string(e.what()).find("ssl.key.password") != std::string::npos);
    }
  }
  if (secured().count("KAFKAWIRE_TLS_WRONG_HOST_BOOTSTRAP")) {
    SECTION("a certificate for another host is refused, unless the check is off") {
      Settings s = base();
      s["bootstrap.servers"] = env("KAFKAWIRE_TLS_WRONG_HOST_BOOTSTRAP");
      auto [ec, text] = try_list_offsets(io, Config(s), topic);
      INFO(text);
      CHECK(ec == client_errc::tls_failed);
      CHECK(text.find("certificate does not name 127.0.0.1") != std::string::npos);
      s["ssl.endpoint.identification.algorithm"] = "none";
      auto [ec2, text2] = try_list_offsets(io, Config(s), topic);
      INFO(text2);
      CHECK_FALSE(ec2);
    }
  }
}

TEST_CASE(
    "security: a SASL connection authenticates again before its session ends (KIP-368), and no "
    "request fails for it",
    "[broker][security]") {
  if (!have_secured_broker()) return;
  asio::io_context io;
  // The broker gives sessions on its SASL_PLAINTEXT listener this lifetime, and closes a connection used
  // after it without having authenticated again.
  const auto lifetime = std::chrono::milliseconds(std::stoi(env("KAFKAWIRE_SASL_PLAINTEXT_REAUTH_MS")));
  net::ConnectionOptions options;
  options.sasl = net::SaslConfig{};
  options.sasl->mechanism = "SCRAM-SHA-512";
  options.sasl->username = env("KAFKAWIRE_SASL_USER");
  options.sasl->password = env("KAFKAWIRE_SASL_PASSWORD");
  auto conn = net::Connection::create(io.get_executor(), options);
  std::string where = env("KAFKAWIRE_SASL_PLAINTEXT_BOOTSTRAP");
  where = where.substr(0, where.find(','));
  auto connected = conn->async_connect(where.substr(0, where.rfind(':')),
                                       static_cast<uint16_t>(std::stoi(where.substr(where.rfind(':') + 1))),
                                       asio::use_future);
  REQUIRE_FALSE(run_until(io, connected));
  CHECK(conn->authentications() == 1);
  // Two requests at a time, all the way through 1.5 lifetimes: those made while the connection
  // authenticates again wait for it, then go.
  int answered = 0;
  const auto end = std::chrono::steady_clock::now() + lifetime * 3 / 2;
  while (std::chrono::steady_clock::now() < end) {
    protocol::MetadataRequest m;
    m.topics.emplace();  // no topics: brokers and the controller only
    auto a = conn->async_send(m, asio::use_future);
    auto b = conn->async_send(m, asio::use_future);
    for (auto* f : {&a, &b}) {
      auto [ec, reply] = run_until(io, *f);
      INFO(conn->close_reason());
      REQUIRE_FALSE(ec);
      ++answered;
    }
    asio::steady_timer pause(io, 100ms);
    auto paused = pause.async_wait(asio::use_future);
    run_until(io, paused);
  }
  CHECK(answered > 20);
  CHECK(conn->authentications() >= 2);
  CHECK(conn->is_ready());
  conn->close();
}

TEST_CASE(
    "security: a producer and a group consumer run through several SASL session lifetimes on the "
    "connections they opened first, no request failing (KIP-368)",
    "[broker][security]") {
  if (!have_secured_broker()) return;
  const auto lifetime = std::chrono::milliseconds(std::stoi(env("KAFKAWIRE_SASL_PLAINTEXT_REAUTH_MS")));
  Settings settings;
  for (const auto& [name, s] : ways_in())
    if (name == "SASL_PLAINTEXT SCRAM-SHA-512") settings = s;
  REQUIRE_FALSE(settings.empty());
  asio::io_context io;
  const std::string topic = unique("kw-reauth");
  create_topic(io, topic, 2);
  Producer p(io.get_executor(), with(settings, {{"linger.ms", "5"}}));
  Consumer c(io.get_executor(), with(settings, {{"group.id", unique("kw-reauth-group")},
                                                {"auto.offset.reset", "earliest"},
                                                {"enable.auto.commit", "false"}}));
  c.subscribe({topic});

  // Ten records a round, then poll until they are back and commit them: every connection each client
  // needs (bootstrap, partition leader, fetch, group coordinator) is used in every round.
  int sent = 0;
  size_t received = 0;
  auto round = [&] {
    std::vector<std::future<std::tuple<std::error_code, RecordMetadata>>> acks;
    for (int i = 0; i < 10; ++i, ++sent)
      acks.push_back(p.async_send(
          ProducerRecord{.topic = topic, .partition = sent % 2, .value = "v" + std::to_string(sent)},
          asio::use_future));
    for (auto& f : acks) {
      auto [ec, md] = run_until(io, f, 60s);
      INFO(p.error_text());
      REQUIRE_FALSE(ec);
    }
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (received < static_cast<size_t>(sent) && std::chrono::steady_clock::now() < deadline) {
      auto f = c.async_poll(100ms, asio::use_future);
      auto [ec, records] = run_until(io, f, 60s);
      INFO(c.error_text());
      REQUIRE_FALSE(ec);
      received += records.size();
    }
    REQUIRE(received == static_cast<size_t>(sent));
    auto committed = c.async_commit(asio::use_future);
    auto ec = run_until(io, committed, 60s);
    INFO(c.error_text());
    REQUIRE_FALSE(ec);
  };

  round();  // both clients have every connection they need now
  const auto producer_start = p.pool().counters();
  const auto consumer_start = c.pool().counters();
  REQUIRE(producer_start.connections_opened > 0);
  REQUIRE(consumer_start.connections_opened > 0);
  const auto end = std::chrono::steady_clock::now() + lifetime * 5 / 2;
  while (std::chrono::steady_clock::now() < end) {
    round();
    asio::steady_timer pause(io, 200ms);
    auto paused = pause.async_wait(asio::use_future);
    run_until(io, paused);
  }

  // The broker closes a connection used after its session ended without a re-authentication, and the
  // clients would have reconnected quietly: the same connections all the way through shows they were
  // authenticated again in time, each at least twice in 2.5 lifetimes.
  for (const auto& [who, start, now] : {std::tuple{"producer", producer_start, p.pool().counters()},
                                        std::tuple{"consumer", consumer_start, c.pool().counters()}}) {
    INFO(who << ": " << start.connections_opened << " connections, " << now.authentications
             << " authentications");
    CHECK(now.connections_opened == start.connections_opened);
    CHECK(now.authentications >= 3 * now.connections_opened);
  }
  CHECK(received == static_cast<size_t>(sent));
  auto closed = c.async_close(asio::use_future);
  run_until(io, closed, 60s);
}
