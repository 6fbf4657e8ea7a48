#include "spy_redact.hpp"

#include <algorithm>
#include <cctype>

#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/incremental_alter_configs.hpp"
#include "kafkawire/protocol/sasl_authenticate.hpp"

namespace kafkawire::cli::spy {

namespace proto = kafkawire::protocol;

namespace {

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& c : u) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return u;
}

void fill(uint8_t* from, uint8_t* to) { std::fill(from, to, kSecretFiller); }

constexpr const char* kNothing = "nothing (no secret in this message)";

// SCRAM (RFC 5802): comma-separated attributes "a=value"; the proof (p) and the server signature (v).
std::string redact_scram(uint8_t* bytes, size_t size) {
  std::string what;
  uint8_t* end = bytes + size;
  for (uint8_t* at = bytes; at < end;) {
    uint8_t* comma = std::find(at, end, static_cast<uint8_t>(','));
    if (comma - at >= 2 && at[1] == '=' && (at[0] == 'p' || at[0] == 'v')) {
      fill(at + 2, comma);
      what = at[0] == 'p' ? "the proof (p=)" : "the server signature (v=)";
    }
    at = comma == end ? end : comma + 1;
  }
  return what.empty() ? kNothing : what;
}

// PLAIN (RFC 4616): "authzid\0authcid\0passwd".
std::string redact_plain(uint8_t* bytes, size_t size) {
  uint8_t* end = bytes + size;
  uint8_t* first = std::find(bytes, end, uint8_t{0});
  uint8_t* second = first == end ? end : std::find(first + 1, end, uint8_t{0});
  if (second == end) {  // not the PLAIN layout: keep nothing
    fill(bytes, end);
    return "every byte (not the \"authzid\\0user\\0password\" of PLAIN)";
  }
  fill(second + 1, end);
  return "the password";
}

// OAUTHBEARER (RFC 7628): "n,,\x01auth=Bearer <token>\x01key=value\x01\x01".
std::string redact_oauthbearer(uint8_t* bytes, size_t size) {
  uint8_t* end = bytes + size;
  std::string what = kNothing;
  for (uint8_t* at = bytes; at < end;) {
    uint8_t* sep = std::find(at, end, uint8_t{1});
    constexpr std::string_view kAuth = "auth=";
    if (static_cast<size_t>(sep - at) >= kAuth.size() && std::equal(kAuth.begin(), kAuth.end(), at)) {
      uint8_t* token = at + kAuth.size();
      constexpr std::string_view kBearer = "Bearer ";
      if (static_cast<size_t>(sep - token) >= kBearer.size() &&
          std::equal(kBearer.begin(), kBearer.end(), token))
        token += kBearer.size();
      fill(token, sep);
      what = "the token";
    }
    at = sep == end ? end : sep + 1;
  }
  return what;
}

}  // namespace

std::string redact_sasl_auth_bytes(std::string_view mechanism, bool from_client, uint8_t* bytes,
                                   size_t size) {
  const std::string m = upper(mechanism);
  if (size == 0) return kNothing;
  if (m == "SCRAM-SHA-256" || m == "SCRAM-SHA-512") return redact_scram(bytes, size);
  if (m == "PLAIN") return from_client ? redact_plain(bytes, size) : kNothing;
  if (m == "OAUTHBEARER") return from_client ? redact_oauthbearer(bytes, size) : kNothing;
  fill(bytes, bytes + size);
  return m.empty() ? "every byte (no SaslHandshake seen on this connection)"
                   : "every byte (a mechanism the spy does not know)";
}

bool redact_sasl_authenticate_frame(std::string_view mechanism, bool request, int16_t version,
                                    const std::vector<uint8_t>& frame, std::vector<uint8_t>& redacted,
                                    std::string& what) {
  if (frame.size() < 4) return false;
  const proto::Bytes after(frame.data() + 4, frame.size() - 4);
  proto::Reader r(after);
  proto::Bytes auth;
  if (request) {
    using M = proto::SaslAuthenticateRequest;
    proto::RequestHeader header;
    M m;
    if (!proto::supports_version<M>(version) ||
        proto::decode(r, header, proto::request_header_version<M>(version)) ||
        proto::decode(proto::Bytes(r.position(), r.remaining()), m, version))
      return false;
    auth = m.auth_bytes.bytes;
  } else {
    using M = proto::SaslAuthenticateResponse;
    proto::ResponseHeader header;
    M m;
    if (!proto::supports_version<M>(version) ||
        proto::decode(r, header, proto::response_header_version<M>(version)) ||
        proto::decode(proto::Bytes(r.position(), r.remaining()), m, version))
      return false;
    auth = m.auth_bytes.bytes;
  }
  redacted = frame;
  if (auth.len == 0) {
    what = kNothing;
    return true;
  }
  const size_t at = static_cast<size_t>(auth.ptr - frame.data());
  what = redact_sasl_auth_bytes(mechanism, request, redacted.data() + at, auth.len);
  return true;
}

bool redact_alter_configs_frame(int16_t version, const std::vector<uint8_t>& frame,
                                std::vector<uint8_t>& redacted, std::string& what) {
  using M = proto::IncrementalAlterConfigsRequest;
  if (frame.size() < 4 || !proto::supports_version<M>(version)) return false;
  proto::Reader r(proto::Bytes(frame.data() + 4, frame.size() - 4));
  proto::RequestHeader header;
  if (proto::decode(r, header, proto::request_header_version<M>(version))) return false;
  const size_t body_at = static_cast<size_t>(r.position() - frame.data());
  M m;
  if (proto::decode(proto::Bytes(r.position(), r.remaining()), m, version)) return false;
  size_t values = 0;
  for (auto& resource : m.resources)
    for (auto& config : resource.configs)
      if (config.value) {
        config.value->assign(config.value->size(), static_cast<char>(kSecretFiller));
        ++values;
      }
  // The values keep their lengths, so the body keeps its layout: the same bytes but for the values.
  std::error_code ec;
  const std::vector<uint8_t> body = proto::encode(m, version, &ec);
  if (ec || body_at + body.size() != frame.size()) return false;
  redacted.assign(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(body_at));
  redacted.insert(redacted.end(), body.begin(), body.end());
  what = values == 0 ? std::string(kNothing) : std::to_string(values) + (values == 1 ? " value" : " values");
  return true;
}

}  // namespace kafkawire::cli::spy
