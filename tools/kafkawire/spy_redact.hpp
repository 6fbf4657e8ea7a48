// What `kafkawire spy --dump` writes for a SaslAuthenticate frame: the frame with the secrets in its auth
// bytes replaced by '*' of the same length, so the dump keeps every other byte as it went over the wire
// (sizes, lengths, the mechanism's structure) and never holds a password, a token or what a password can be
// guessed from. What is replaced depends on the mechanism the connection's SaslHandshake named:
//
//   PLAIN          client: "authzid\0user\0password": the password (everything after the second NUL).
//   SCRAM-SHA-*    the values of the proof ("p=", client-final) and of the server signature ("v=",
//                  server-final): either, with the salt and iteration count of server-first, lets one test
//                  password guesses offline. The user name, nonces, salt and iteration count are kept.
//   OAUTHBEARER    client: the token after "auth=Bearer " (extensions and the "\x01" after a failure are
//                  kept); server: nothing (empty, or a JSON error).
//   anything else  every byte (a mechanism kafkawire does not know, or no SaslHandshake seen).
//
// Plain code over bytes (no sockets): the unit tests drive it directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kafkawire::cli::spy {

inline constexpr uint8_t kSecretFiller = '*';

// Replaces the secrets in one SaslAuthenticate message's auth bytes in place (same length) and says what
// was replaced: "the password", "the proof (p=)", "nothing (no secret in this message)", ...
std::string redact_sasl_auth_bytes(std::string_view mechanism, bool from_client, uint8_t* bytes, size_t size);

// A whole SaslAuthenticate frame (its 4-byte size included) of version `version`, request or response: a
// copy with redact_sasl_auth_bytes applied to its AuthBytes, and `what` saying what was replaced. False
// when the frame does not decode as that (then nothing of it may be written anywhere).
bool redact_sasl_authenticate_frame(std::string_view mechanism, bool request, int16_t version,
                                    const std::vector<uint8_t>& frame, std::vector<uint8_t>& redacted,
                                    std::string& what);

// A whole IncrementalAlterConfigs request frame of version `version`: a copy with every config value
// replaced by '*' of the same length (a value may be a password: ssl.keystore.password, a SASL JAAS
// config), names, operations and every length kept; `what` says how many. False when the frame does not
// decode as that (then nothing of it may be written anywhere).
bool redact_alter_configs_frame(int16_t version, const std::vector<uint8_t>& frame,
                                std::vector<uint8_t>& redacted, std::string& what);

}  // namespace kafkawire::cli::spy
