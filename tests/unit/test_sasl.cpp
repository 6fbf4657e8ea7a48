// The sans-IO SASL client (net/sasl.hpp): the bytes of PLAIN, SCRAM-SHA-256/512 and OAUTHBEARER exchanges,
// the checks a SCRAM client owes the server's messages, and sasl.jaas.config parsing. No broker, no sockets.
#include <catch2/catch.hpp>
#include <string>

#include "kafkawire/net/sasl.hpp"
#include "kafkawire/protocol/error.hpp"

using kafkawire::client_errc;
using kafkawire::kafka_errc;
using kafkawire::net::parse_jaas_config;
using kafkawire::net::SaslClient;
using kafkawire::net::SaslConfig;
using kafkawire::protocol::Bytes;

namespace {

std::string text(const std::optional<std::vector<uint8_t>>& b) {
  REQUIRE(b);
  return std::string(b->begin(), b->end());
}

SaslClient::Step answer(SaslClient& c, std::string_view server) { return c.on_server(Bytes(server)); }

SaslConfig config(std::string mechanism, std::string user = "user", std::string password = "pencil") {
  SaslConfig c;
  c.mechanism = std::move(mechanism);
  c.username = std::move(user);
  c.password = std::move(password);
  return c;
}

}  // namespace

TEST_CASE("sasl: check() names what is wrong with a config", "[sasl]") {
  std::string problem;
  CHECK(SaslClient::check(config("PLAIN"), problem) == std::error_code());

  CHECK(SaslClient::check(config("GSSAPI"), problem) == kafka_errc::unsupported_sasl_mechanism);
  CHECK(problem.find("GSSAPI") != std::string::npos);
  CHECK(problem.find("PLAIN") != std::string::npos);
  CHECK(problem.find("OAUTHBEARER") != std::string::npos);

  CHECK(SaslClient::check(config("PLAIN", "alice", ""), problem) == client_errc::invalid_config);
  CHECK(problem.find("password") != std::string::npos);
  CHECK(SaslClient::check(config("PLAIN", "", "secret"), problem) == client_errc::invalid_config);
  CHECK(problem.find("secret") == std::string::npos);

  SaslConfig oauth = config("OAUTHBEARER", "", "");
  CHECK(SaslClient::check(oauth, problem) == client_errc::invalid_config);
  CHECK(problem.find("token") != std::string::npos);
  oauth.token = "abc.def.ghi";
  CHECK(SaslClient::check(oauth, problem) == std::error_code());
  oauth.oauthbearer_extensions["auth"] = "x";
  CHECK(SaslClient::check(oauth, problem) == client_errc::invalid_config);
  oauth.oauthbearer_extensions = {{"trace1", "x"}};
  CHECK(SaslClient::check(oauth, problem) == client_errc::invalid_config);  // letters only
  oauth.oauthbearer_extensions = {{"trace", std::string("a\x01"
                                                        "b")}};
  CHECK(SaslClient::check(oauth, problem) == client_errc::invalid_config);

#if KAFKAWIRE_HAVE_OPENSSL
  CHECK(SaslClient::check(config("SCRAM-SHA-256"), problem) == std::error_code());
  CHECK(SaslClient::check(config("SCRAM-SHA-512"), problem) == std::error_code());
#else
  CHECK(SaslClient::check(config("SCRAM-SHA-256"), problem) == client_errc::invalid_config);
  CHECK(problem.find("KAFKAWIRE_WITH_OPENSSL") != std::string::npos);
#endif

  // start() checks too.
  SaslClient bad(config("SCRAM-SHA-1"));
  const SaslClient::Step s = bad.start();
  CHECK(s.ec == kafka_errc::unsupported_sasl_mechanism);
  CHECK_FALSE(s.send);
}

TEST_CASE("sasl: PLAIN", "[sasl]") {
  SaslClient c(config("PLAIN", "alice", "s3cret"));
  const SaslClient::Step first = c.start();
  REQUIRE_FALSE(first.ec);
  CHECK(text(first.send) == std::string("\0alice\0s3cret", 13));  // RFC 4616, empty authzid
  CHECK_FALSE(c.done());
  const SaslClient::Step last = answer(c, "");
  CHECK_FALSE(last.ec);
  CHECK_FALSE(last.send);
  CHECK(c.done());
  // Nothing after the end.
  CHECK(answer(c, "").ec == client_errc::invalid_argument);

  SECTION("a server that answers with bytes is not a PLAIN server") {
    SaslClient d(config("PLAIN", "alice", "s3cret"));
    d.start();
    const SaslClient::Step s = answer(d, "what?");
    CHECK(s.ec == kafka_errc::sasl_authentication_failed);
    CHECK_FALSE(d.done());
  }
}

TEST_CASE("sasl: OAUTHBEARER", "[sasl]") {
  SaslConfig cfg = config("OAUTHBEARER", "", "");
  cfg.token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";

  SECTION("without extensions") {
    SaslClient c(cfg);
    const SaslClient::Step s = c.start();
    REQUIRE_FALSE(s.ec);
    CHECK(text(s.send) ==
          "n,,\x01"
          "auth=Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.\x01\x01");
    const SaslClient::Step done = answer(c, "");
    CHECK_FALSE(done.ec);
    CHECK_FALSE(done.send);
    CHECK(c.done());
  }
  SECTION("with extensions, from a token provider") {
    int calls = 0;
    cfg.token.clear();
    cfg.token_provider = [&](std::string& token, std::string&) {
      ++calls;
      token = "tok-" + std::to_string(calls);
      return std::error_code();
    };
    cfg.oauthbearer_extensions = {{"traceId", "123"}, {"logicalCluster", "lkc-1 a"}};
    SaslClient c(cfg);
    const SaslClient::Step s = c.start();
    REQUIRE_FALSE(s.ec);
    CHECK(text(s.send) ==
          "n,,\x01"
          "auth=Bearer tok-1\x01logicalCluster=lkc-1 a\x01traceId=123\x01\x01");
    CHECK(calls == 1);
    SaslClient again(cfg);  // re-authentication: a new client, a new token
    CHECK(text(again.start().send).find("Bearer tok-2\x01") != std::string::npos);
  }
  SECTION("a token provider's error and problem are passed on") {
    cfg.token_provider = [](std::string&, std::string& problem) {
      problem = "the identity provider said no";
      return std::make_error_code(std::errc::permission_denied);
    };
    SaslClient c(cfg);
    const SaslClient::Step s = c.start();
    CHECK(s.ec == std::errc::permission_denied);
    CHECK(s.problem.find("the identity provider said no") != std::string::npos);
    CHECK_FALSE(s.send);
  }
  SECTION("a token that would break the message is refused") {
    cfg.token =
        "abc\x01"
        "def";
    SaslClient c(cfg);
    const SaslClient::Step s = c.start();
    CHECK(s.ec == client_errc::invalid_config);
    CHECK(s.problem.find("abc") == std::string::npos);
  }
  SECTION("a refused token: the JSON error, answered with \\x01, then the broker's error code") {
    SaslClient c(cfg);
    c.start();
    const SaslClient::Step s = answer(c, R"({"status":"invalid_token","scope":"kafka"})");
    CHECK_FALSE(s.ec);
    CHECK(text(s.send) == "\x01");
    CHECK(s.problem.find("invalid_token") != std::string::npos);
    CHECK_FALSE(c.done());
    // The broker then fails the SaslAuthenticate with an error code; should it send bytes instead, that
    // is not a success either.
    CHECK(answer(c, "").ec == kafka_errc::sasl_authentication_failed);
    CHECK_FALSE(c.done());
  }
}

#if KAFKAWIRE_HAVE_OPENSSL

TEST_CASE("sasl: SCRAM-SHA-256, the RFC 7677 example", "[sasl]") {
  SaslClient c(config("SCRAM-SHA-256", "user", "pencil"), "rOprNGfwEbeRWgbNEkqO");
  const SaslClient::Step first = c.start();
  REQUIRE_FALSE(first.ec);
  CHECK(text(first.send) == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  const SaslClient::Step final =
      answer(c, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  REQUIRE_FALSE(final.ec);
  CHECK(text(final.send) ==
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
        "Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  const SaslClient::Step end = answer(c, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  CHECK_FALSE(end.ec);
  CHECK_FALSE(end.send);
  CHECK(c.done());
}

TEST_CASE("sasl: SCRAM-SHA-512, an exchange computed independently", "[sasl]") {
  // Expected values from a one-off Python script (hashlib.pbkdf2_hmac("sha512", ...), hmac.new(...,
  // hashlib.sha512)) following RFC 5802's formulas, with user "al=ice,x", password "päss w0rd" (UTF-8),
  // salt bytes 1..16 and 4096 iterations; the user name also exercises the =3D / =2C escaping.
  SaslClient c(config("SCRAM-SHA-512", "al=ice,x", "p\xc3\xa4ss w0rd"), "fyko+d2lbbFgONRv9qkxdawL");
  CHECK(text(c.start().send) == "n,,n=al=3Dice=2Cx,r=fyko+d2lbbFgONRv9qkxdawL");
  const SaslClient::Step final =
      answer(c, "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=AQIDBAUGBwgJCgsMDQ4PEA==,i=4096");
  REQUIRE_FALSE(final.ec);
  CHECK(text(final.send) ==
        "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=FTTYxfCgZiueWshHmXgRM9kDdGeYlJb+"
        "LrmV1BMtZOIRI2kE4G"
        "ooUh50fLEQfFdS9qDkF0vmBj0YVD/70f8duw==");
  const SaslClient::Step end =
      answer(c,
             "v=/EPMFWIDTmFmdq7DqshwcbfpYlYLMLE/60hNzyymRo30irmNuULk8Iovs0fgnlWzwuFhltJnRABUeSo+"
             "B65LuA==");
  CHECK_FALSE(end.ec);
  CHECK(c.done());
}

TEST_CASE("sasl: SCRAM refuses a server that gets the exchange wrong", "[sasl]") {
  const std::string nonce = "rOprNGfwEbeRWgbNEkqO";
  const std::string server_first =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  auto after_first = [&](SaslClient& c) {
    REQUIRE_FALSE(c.start().ec);
    REQUIRE_FALSE(answer(c, server_first).ec);
  };

  SECTION("a wrong server signature: the server does not know the password") {
    SaslClient c(config("SCRAM-SHA-256"), nonce);
    after_first(c);
    // The RFC's signature with its first character changed.
    const SaslClient::Step s = answer(c, "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    CHECK(s.ec == kafka_errc::sasl_authentication_failed);
    CHECK(s.problem.find("signature") != std::string::npos);
    CHECK_FALSE(s.send);
    CHECK_FALSE(c.done());
  }
  SECTION("the right signature for another password") {
    SaslClient c(config("SCRAM-SHA-256", "user", "pencil2"), nonce);
    after_first(c);
    CHECK(answer(c, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").ec ==
          kafka_errc::sasl_authentication_failed);
  }
  SECTION("a signature that is not base64, or missing") {
    SaslClient c(config("SCRAM-SHA-256"), nonce);
    after_first(c);
    CHECK(answer(c, "v=not base64!").ec == kafka_errc::sasl_authentication_failed);
    SaslClient d(config("SCRAM-SHA-256"), nonce);
    after_first(d);
    CHECK(answer(d, "").ec == kafka_errc::sasl_authentication_failed);
  }
  SECTION("e=invalid-proof is reported with its text") {
    SaslClient c(config("SCRAM-SHA-256"), nonce);
    after_first(c);
    const SaslClient::Step s = answer(c, "e=invalid-proof");
    CHECK(s.ec == kafka_errc::sasl_authentication_failed);
    CHECK(s.problem.find("invalid-proof") != std::string::npos);
  }
  SECTION("a server nonce that does not extend ours") {
    SaslClient c(config("SCRAM-SHA-256"), nonce);
    REQUIRE_FALSE(c.start().ec);
    const SaslClient::Step s =
        answer(c, "r=XOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
    CHECK(s.ec == kafka_errc::sasl_authentication_failed);
    CHECK(s.problem.find("nonce") != std::string::npos);
    CHECK_FALSE(s.send);
    // Ours alone, with nothing of the server's added, is not a server nonce either.
    SaslClient d(config("SCRAM-SHA-256"), nonce);
    REQUIRE_FALSE(d.start().ec);
    CHECK(answer(d, "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096").ec ==
          kafka_errc::sasl_authentication_failed);
  }
  SECTION("an iteration count below Kafka's minimum of 4096") {
    SaslClient c(config("SCRAM-SHA-256"), nonce);
    REQUIRE_FALSE(c.start().ec);
    const SaslClient::Step s =
        answer(c, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095");
    CHECK(s.ec == kafka_errc::sasl_authentication_failed);
    CHECK(s.problem.find("4095") != std::string::npos);
    CHECK_FALSE(s.send);
  }
  SECTION("malformed server-first messages") {
    for (std::string bad :
         {"", "garbage", "r=rOprNGfwEbeRWgbNEkqOxx,i=4096,s=W22ZaJ0SNY7soEsUEjb6gQ==",
          "r=rOprNGfwEbeRWgbNEkqOxx,s=***,i=4096", "r=rOprNGfwEbeRWgbNEkqOxx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=",
          "r=rOprNGfwEbeRWgbNEkqOxx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
          "m=ext,r=rOprNGfwEbeRWgbNEkqOxx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"}) {
      INFO(bad);
      SaslClient c(config("SCRAM-SHA-256"), nonce);
      REQUIRE_FALSE(c.start().ec);
      CHECK(answer(c, bad).ec == kafka_errc::sasl_authentication_failed);
    }
  }
}

TEST_CASE("sasl: SCRAM client-first with a random nonce, the user name escaped", "[sasl]") {
  SaslClient a(config("SCRAM-SHA-256", "a=b,c"));
  SaslClient b(config("SCRAM-SHA-256", "a=b,c"));
  const std::string fa = text(a.start().send), fb = text(b.start().send);
  const std::string prefix = "n,,n=a=3Db=2Cc,r=";
  REQUIRE(fa.substr(0, prefix.size()) == prefix);
  const std::string na = fa.substr(prefix.size()), nb = fb.substr(prefix.size());
  CHECK(na.size() >= 24);
  CHECK(na.find(',') == std::string::npos);
  CHECK(na != nb);
}

#endif  // KAFKAWIRE_HAVE_OPENSSL

TEST_CASE("sasl: sasl.jaas.config", "[sasl]") {
  std::string user, password, problem;
  auto parse = [&](std::string_view t) {
    user.clear(), password.clear(), problem.clear();
    return parse_jaas_config(t, user, password, problem);
  };

  SECTION("both login modules, quoted values with escapes") {
    REQUIRE(parse(
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="a\"b";)"));
    CHECK(user == "alice");
    CHECK(password == "a\"b");
    REQUIRE(
        parse("org.apache.kafka.common.security.scram.ScramLoginModule REQUIRED\n"
              "  username='bob'   /* the service user */\n"
              "  password=\"back\\\\slash\\ttab\\101\"  // octal 101 is A\n"
              ";"));
    CHECK(user == "bob");
    CHECK(password == "back\\slash\ttabA");
    REQUIRE(
        parse("org.apache.kafka.common.security.plain.PlainLoginModule optional username=carol "
              "password=\"\" extra=\"ignored\""));  // no ';' at the end is accepted, as by Java
    CHECK(user == "carol");
    CHECK(password.empty());
  }
  SECTION("missing username or password") {
    CHECK_FALSE(
        parse(R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="alice";)"));
    CHECK(problem.find("password") != std::string::npos);
    CHECK_FALSE(parse(R"(org.apache.kafka.common.security.plain.PlainLoginModule required password="pw";)"));
    CHECK(problem.find("username") != std::string::npos);
  }
  SECTION("garbage, and problems that never show the password") {
    CHECK_FALSE(parse(""));
    CHECK_FALSE(parse("   // nothing but a comment"));
    CHECK_FALSE(parse("not a jaas config at all"));
    CHECK_FALSE(
        parse(R"(org.apache.kafka.common.security.plain.PlainLoginModule username="a" password="b";)"));
    CHECK(problem.find("control flag") != std::string::npos);
    CHECK_FALSE(parse(R"(com.example.MyLoginModule required username="a" password="b";)"));
    CHECK(problem.find("com.example.MyLoginModule") != std::string::npos);
    CHECK_FALSE(parse(
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="b"; )"
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="c" password="d";)"));
    CHECK(problem.find("more than one") != std::string::npos);
    CHECK_FALSE(parse(
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password=123;)"));
    CHECK_FALSE(
        parse(R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password;)"));
    // An unclosed quote: the problem says where, not what.
    CHECK_FALSE(parse(
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="hunter2;)"));
    CHECK(problem.find("not closed") != std::string::npos);
    CHECK(problem.find("hunter2") == std::string::npos);
    // A password with a space and no quotes: its second word is not echoed as an option name.
    CHECK_FALSE(parse(
        R"(org.apache.kafka.common.security.plain.PlainLoginModule required username=a password=correct horse;)"));
    CHECK(problem.find("horse") == std::string::npos);
    CHECK_FALSE(parse("org.apache.kafka.common.security.plain.PlainLoginModule required /* unclosed"));
  }
}
