// What `kafkawire spy --dump` keeps of a SaslAuthenticate frame (tools/kafkawire/spy_redact.hpp): the
// secrets of each mechanism replaced by '*' of the same length, everything else byte for byte.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "../../tools/kafkawire/spy_redact.hpp"
#include "kafkawire/protocol/incremental_alter_configs.hpp"
#include "kafkawire/protocol/sasl_authenticate.hpp"

namespace proto = kafkawire::protocol;
using kafkawire::cli::spy::redact_sasl_auth_bytes;
using kafkawire::cli::spy::redact_sasl_authenticate_frame;

namespace {

// The message after redaction, and what was said about it.
std::pair<std::string, std::string> redact(const std::string& mechanism, bool from_client,
                                           std::string message) {
  std::string what = redact_sasl_auth_bytes(mechanism, from_client,
                                            reinterpret_cast<uint8_t*>(message.data()), message.size());
  return {message, what};
}

std::string stars(size_t n) { return std::string(n, '*'); }

void put(std::vector<uint8_t>& out, std::initializer_list<uint8_t> bytes) { out.insert(out.end(), bytes); }

// A whole SaslAuthenticate v2 request frame: size, header v2 (client id "kafkawire"), body.
std::vector<uint8_t> request_frame(const std::string& auth) {
  proto::SaslAuthenticateRequest m;
  m.auth_bytes.bytes = proto::Bytes(std::string_view(auth));
  const std::vector<uint8_t> body = proto::encode(m, 2);
  std::vector<uint8_t> after;
  put(after, {0, 36, 0, 2, 0, 0, 0, 7, 0, 9});
  after.insert(after.end(), {'k', 'a', 'f', 'k', 'a', 'w', 'i', 'r', 'e'});
  put(after, {0});  // header tags
  after.insert(after.end(), body.begin(), body.end());
  std::vector<uint8_t> frame{0, 0, 0, static_cast<uint8_t>(after.size())};
  frame.insert(frame.end(), after.begin(), after.end());
  return frame;
}

// A whole SaslAuthenticate v2 response frame: size, header v1, body.
std::vector<uint8_t> response_frame(const std::string& auth) {
  proto::SaslAuthenticateResponse m;
  m.auth_bytes.bytes = proto::Bytes(std::string_view(auth));
  m.session_lifetime_ms = 12000;
  const std::vector<uint8_t> body = proto::encode(m, 2);
  std::vector<uint8_t> after{0, 0, 0, 7, 0};
  after.insert(after.end(), body.begin(), body.end());
  std::vector<uint8_t> frame{0, 0, 0, static_cast<uint8_t>(after.size())};
  frame.insert(frame.end(), after.begin(), after.end());
  return frame;
}

bool contains(const std::vector<uint8_t>& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) != haystack.end();
}

}  // namespace

TEST_CASE("spy redaction: PLAIN keeps the user, replaces the password", "[spy]") {
  using namespace std::string_literals;
  CHECK(redact("PLAIN", true, "\0alice\0s3cret-pw"s) == std::pair{"\0alice\0"s + stars(9), "the password"s});
  CHECK(redact("plain", true, "admin\0alice\0pw"s).first == "admin\0alice\0**"s);  // an authzid, any case
  CHECK(redact("PLAIN", true, "\0alice\0"s).first == "\0alice\0"s);                // an empty password
  // Not the PLAIN layout: nothing is kept.
  CHECK(redact("PLAIN", true, "alice:pw").first == stars(8));
  CHECK(redact("PLAIN", false, "").second == "nothing (no secret in this message)");
}

TEST_CASE("spy redaction: SCRAM keeps nonces, salt and iterations, replaces the proof and signature",
          "[spy]") {
  // RFC 7677's SCRAM-SHA-256 example.
  const std::string client_first = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
  const std::string server_first =
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
  const std::string client_final =
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"
      "Ute9ytag9zjfMHgsqmmiz7AndVQ=";
  const std::string server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
  for (const char* mechanism : {"SCRAM-SHA-256", "SCRAM-SHA-512"}) {
    INFO(mechanism);
    CHECK(redact(mechanism, true, client_first) ==
          std::pair{client_first, std::string("nothing (no secret in this message)")});
    CHECK(redact(mechanism, false, server_first).first == server_first);
    CHECK(redact(mechanism, true, client_final) ==
          std::pair{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=" + stars(44),
                    std::string("the proof (p=)")});
    CHECK(redact(mechanism, false, server_final) ==
          std::pair{"v=" + stars(44), std::string("the server signature (v=)")});
    CHECK(redact(mechanism, false, "e=invalid-proof").first == "e=invalid-proof");
  }
}

TEST_CASE("spy redaction: OAUTHBEARER replaces the token, keeps the rest", "[spy]") {
  const std::string token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.";
  CHECK(redact("OAUTHBEARER", true,
               "n,,\x01"
               "auth=Bearer " +
                   token +
                   "\x01"
                   "cluster=lkc-1\x01\x01") == std::pair{"n,,\x01"
                                                         "auth=Bearer " +
                                                             stars(token.size()) +
                                                             "\x01"
                                                             "cluster=lkc-1\x01\x01",
                                                         std::string("the token")});
  CHECK(redact("OAUTHBEARER", true, "\x01").first == "\x01");  // the answer to a refusal
  const std::string json = R"({"status":"invalid_token"})";
  CHECK(redact("OAUTHBEARER", false, json).first == json);
}

TEST_CASE("spy redaction: another mechanism, or none seen, loses every byte", "[spy]") {
  using namespace std::string_literals;
  CHECK(redact("GSSAPI", true, "ticket").first == stars(6));
  CHECK(redact("", true, "\0alice\0pw"s).first == stars(9));
  CHECK(redact("", false, "v=abc").first == stars(5));
}

TEST_CASE("spy redaction: a whole frame keeps its layout and loses the secret", "[spy]") {
  using namespace std::string_literals;
  const std::vector<uint8_t> request = request_frame("\0alice\0s3cret-pw"s);
  std::vector<uint8_t> redacted;
  std::string what;
  REQUIRE(redact_sasl_authenticate_frame("PLAIN", true, 2, request, redacted, what));
  CHECK(what == "the password");
  REQUIRE(redacted.size() == request.size());
  CHECK(contains(request, "s3cret-pw"));
  CHECK_FALSE(contains(redacted, "s3cret-pw"));
  CHECK(contains(redacted, "\0alice\0*********"s));
  // Only the password's bytes differ.
  size_t differ = 0;
  for (size_t i = 0; i < request.size(); ++i) differ += request[i] != redacted[i];
  CHECK(differ == 9);

  const std::vector<uint8_t> response = response_frame("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  REQUIRE(redact_sasl_authenticate_frame("SCRAM-SHA-256", false, 2, response, redacted, what));
  CHECK(what == "the server signature (v=)");
  CHECK(contains(redacted, "v=" + stars(44)));
  CHECK(redacted.size() == response.size());
  // The redacted frame still decodes, with the same lengths and the same other fields.
  proto::SaslAuthenticateResponse m;
  REQUIRE_FALSE(proto::decode(proto::Bytes(redacted.data() + 9, redacted.size() - 9), m, 2));
  CHECK(m.auth_bytes.bytes.len == 46);
  CHECK(m.session_lifetime_ms == 12000);

  // A frame that is not a SaslAuthenticate of that version: refused, nothing to write.
  CHECK_FALSE(redact_sasl_authenticate_frame("PLAIN", true, 2, {0, 0, 0, 2, 0, 36}, redacted, what));
  CHECK_FALSE(redact_sasl_authenticate_frame("PLAIN", true, 9, request, redacted, what));
  std::vector<uint8_t> cut(request.begin(), request.end() - 3);
  CHECK_FALSE(redact_sasl_authenticate_frame("PLAIN", true, 2, cut, redacted, what));
}

TEST_CASE("spy redaction: IncrementalAlterConfigs values, the frame's layout kept", "[spy]") {
  using M = proto::IncrementalAlterConfigsRequest;
  M m;
  m.resources.push_back({4,
                         "1",
                         {{"listener.name.sasl_ssl.ssl.keystore.password", M::kSet, "hunter2-secret"},
                          {"log.retention.ms", M::kDelete, std::nullopt}}});
  m.resources.push_back({2, "orders", {{"retention.ms", M::kSet, "86400000"}}});
  for (int16_t version : {int16_t{0}, int16_t{1}}) {
    INFO("v" << version);
    const std::vector<uint8_t> body = proto::encode(m, version);
    std::vector<uint8_t> after;
    // Header v1 (v0) or v2 (v1, flexible): api key 44, the version, correlation id 7, client id "kw".
    put(after, {0, 44, 0, static_cast<uint8_t>(version), 0, 0, 0, 7, 0, 2, 'k', 'w'});
    if (version >= 1) put(after, {0});  // header tags
    after.insert(after.end(), body.begin(), body.end());
    std::vector<uint8_t> frame{0, 0, 0, static_cast<uint8_t>(after.size())};
    frame.insert(frame.end(), after.begin(), after.end());

    std::vector<uint8_t> redacted;
    std::string what;
    REQUIRE(kafkawire::cli::spy::redact_alter_configs_frame(version, frame, redacted, what));
    CHECK(what == "2 values");
    REQUIRE(redacted.size() == frame.size());
    const std::string text(redacted.begin(), redacted.end());
    CHECK(text.find("hunter2") == std::string::npos);
    CHECK(text.find("86400000") == std::string::npos);
    CHECK(text.find("keystore.password") != std::string::npos);  // names are kept
    // It decodes to the same request with each value's bytes replaced.
    const size_t header = 4 + 12 + (version >= 1 ? 1 : 0);
    M back;
    REQUIRE_FALSE(
        proto::decode(proto::Bytes(redacted.data() + header, redacted.size() - header), back, version));
    M expected = m;
    expected.resources[0].configs[0].value = stars(14);
    expected.resources[1].configs[0].value = stars(8);
    CHECK(back == expected);
    CHECK(
        std::equal(redacted.begin(), redacted.begin() + static_cast<std::ptrdiff_t>(header), frame.begin()));
  }
  std::vector<uint8_t> redacted;
  std::string what;
  CHECK_FALSE(kafkawire::cli::spy::redact_alter_configs_frame(1, {0, 0, 0, 2, 0, 44}, redacted, what));
}
