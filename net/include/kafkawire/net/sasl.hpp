// The client side of a SASL exchange, sans-IO: which bytes to put in the next SaslAuthenticate request
// (protocol/sasl_authenticate.hpp), given the bytes of the broker's last answer. No sockets, no clocks: the
// Connection sends SaslHandshake v1 with config.mechanism, then loops
//
//   SaslClient sasl(config);
//   for (Step s = sasl.start(); !s.ec && s.send; s = sasl.on_server(answer.auth_bytes.bytes))
//     answer = send SaslAuthenticateRequest{s.send} and wait;   // stop on answer.error_code
//
// and the exchange succeeded when the loop ends with neither an error nor bytes to send.
//
// Mechanisms, as Kafka's own clients speak them:
//   PLAIN          RFC 4616: one message, "\0user\0password" (empty authzid); the broker answers with empty
//                  bytes. Send it over TLS only: the password is in the clear.
//   SCRAM-SHA-256  RFC 5802 and RFC 7677 (and SCRAM-SHA-512 with SHA-512): client-first "n,,n=user,r=nonce",
//   SCRAM-SHA-512  then client-final with the proof computed from the server's salt and iteration count
//                  (PBKDF2), then the server-final is checked: a server that cannot prove it knows the
//                  password (a wrong "v=" signature) is refused. No channel binding ("n,,"), no SASLprep
//                  of the password (neither does Kafka). Iteration counts below 4096 are refused as Kafka
//                  does. Built only with OpenSSL (KAFKAWIRE_WITH_OPENSSL): its PBKDF2, HMAC, hashes and
//                  RAND_bytes, no hand-written crypto.
//   OAUTHBEARER    RFC 7628 as Kafka uses it: "n,,\x01auth=Bearer <token>\x01[key=value\x01...]\x01", the
//   token
//                  from config.token_provider (called once per SaslClient) or config.token. The broker
//                  answers with empty bytes on success; on failure it first sends a JSON error and waits for
//                  the client's "\x01", then answers that with an error code: on_server() sends the "\x01"
//                  (with the JSON in Step::problem) and the caller sees the broker's error code next.
//
// Errors: kafka_errc::sasl_authentication_failed for an exchange the server got wrong or refused (with a
// problem text saying what), kafka_errc::unsupported_sasl_mechanism for a mechanism kafkawire does not
// speak, client_errc::invalid_config for a configuration that cannot work. Problem texts never contain the
// password or the token.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/wire.hpp"

namespace kafkawire::net {

struct SaslConfig {
  std::string mechanism;  // "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER" (already upper-cased)
  std::string username;
  std::string password;
  // OAUTHBEARER: called once per authentication (and re-authentication); returns the token (a JWT or any
  // compact string) or an error with a problem text. Empty function: use `token`.
  std::function<std::error_code(std::string& token, std::string& problem)> token_provider;
  std::string token;
  std::map<std::string, std::string> oauthbearer_extensions;  // optional, KIP-342 (may be left empty)
};

// The mechanisms this build speaks, in the order problem texts list them ("PLAIN, SCRAM-SHA-256, ...").
std::vector<std::string> supported_sasl_mechanisms();

// One authentication exchange; make a new one per (re-)authentication.
class SaslClient {
 public:
  struct Step {
    std::error_code ec;  // failed: ec and problem say why (e.g. server signature wrong)
    // With ec: why. Without: empty, except when an OAUTHBEARER server refused the token: its JSON error
    // message, to report with the broker's error code that answers the "\x01" sent now.
    std::string problem;
    std::optional<std::vector<uint8_t>> send;  // the next auth_bytes to send; nullopt with !ec: done
  };

  // Checks the config: unknown mechanism -> kafka_errc::unsupported_sasl_mechanism with a problem naming
  // the mechanism and the ones supported; SCRAM in a build without OpenSSL -> client_errc::invalid_config
  // naming the build option KAFKAWIRE_WITH_OPENSSL; PLAIN or SCRAM without username or password, a NUL in
  // them, OAUTHBEARER without token or token_provider, or a bad extension -> client_errc::invalid_config.
  static std::error_code check(const SaslConfig& config, std::string& problem);

  explicit SaslClient(SaslConfig config);
  // For tests only: SCRAM with this client nonce instead of a random one, so that a published exchange
  // (RFC 7677's) can be replayed byte for byte. Never use a fixed nonce against a real server.
  SaslClient(SaslConfig config, std::string scram_client_nonce);
  ~SaslClient();  // clears the password and the token from memory
  SaslClient(SaslClient&&) = default;
  SaslClient& operator=(SaslClient&&) = default;
  SaslClient(const SaslClient&) = delete;
  SaslClient& operator=(const SaslClient&) = delete;

  // The first client message.
  Step start();
  // The server's auth_bytes from the last SaslAuthenticate answer (the caller checks its ErrorCode first).
  Step on_server(protocol::Bytes server_message);

  // The exchange ended well: start() and on_server() led to a Step with neither ec nor send.
  bool done() const { return state_ == State::done; }

 private:
  enum class State {
    initial,
    plain_sent,
    scram_first_sent,
    scram_final_sent,
    oauth_sent,
    oauth_failed,
    done,
    failed
  };

  Step fail(std::error_code ec, std::string problem);
  Step scram_server_first(std::string_view message);
  Step scram_server_final(std::string_view message);

  SaslConfig config_;
  State state_ = State::initial;
  std::string nonce_;                      // SCRAM: ours (client nonce)
  std::string client_first_bare_;          // SCRAM: "n=user,r=nonce"
  std::vector<uint8_t> server_signature_;  // SCRAM: what server-final's "v=" must be
};

// Parses Java's sasl.jaas.config for the PLAIN and SCRAM login modules, e.g.
//   org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="a\"b";
// into username/password (quoted values with backslash escapes, as Java's JaasConfig parser reads them);
// false with a problem text naming what is wrong otherwise. The text never contains the password.
bool parse_jaas_config(std::string_view text, std::string& username, std::string& password,
                       std::string& problem);

// Where the value of each `name=value` option of a sasl.jaas.config text is, as the same parser reads it:
// [begin, end) of the value as written (quotes included) and the value itself. For redaction (Config's
// dumps show the text with the values but username's cut out). False when the text does not lex (an
// unclosed quote or comment): then nothing of it can be shown.
struct JaasOptionSpan {
  std::string name;
  size_t begin = 0, end = 0;
  std::string value;
};
bool jaas_option_spans(std::string_view text, std::vector<JaasOptionSpan>& out);

}  // namespace kafkawire::net
