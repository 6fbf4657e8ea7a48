#include "kafkawire/net/sasl.hpp"

#include <algorithm>
#include <cctype>
#include <climits>
#include <cstring>

#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/json.hpp"

#if KAFKAWIRE_HAVE_OPENSSL
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#endif

namespace kafkawire::net {

namespace {

constexpr std::string_view kPlain = "PLAIN";
constexpr std::string_view kScram256 = "SCRAM-SHA-256";
constexpr std::string_view kScram512 = "SCRAM-SHA-512";
constexpr std::string_view kOauth = "OAUTHBEARER";
// RFC 5802 leaves the minimum to the deployment; Kafka's ScramMechanism sets it at 4096 for both.
constexpr long kScramMinIterations = 4096;

bool is_scram(std::string_view m) { return m == kScram256 || m == kScram512; }

std::vector<uint8_t> to_bytes(std::string_view s) { return {s.begin(), s.end()}; }

// Clears a string holding a secret before its memory goes back to the allocator.
void wipe(std::string& s) {
#if KAFKAWIRE_HAVE_OPENSSL
  if (!s.empty()) OPENSSL_cleanse(s.data(), s.size());
#else
  volatile char* p = s.data();
  for (size_t i = 0; i < s.size(); ++i) p[i] = 0;
#endif
  s.clear();
}

// A server's text in a problem: printable ASCII only, at most 300 characters.
std::string printable(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 300)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (s.size() > 300) out += "...";
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// OAUTHBEARER extension names and values as Kafka's OAuthBearerClientInitialResponse allows them.
bool valid_extension_key(std::string_view k) {
  return !k.empty() && k != "auth" &&
         std::all_of(k.begin(), k.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}
bool valid_extension_value(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) {
    return (c >= 0x21 && c <= 0x7e) || c == ' ' || c == '\t' || c == '\r' || c == '\n';
  });
}
// A bearer token: printable ASCII without spaces (a JWT, an opaque compact string).
bool valid_token(std::string_view t) {
  return !t.empty() && std::all_of(t.begin(), t.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

// RFC 4648 base64 with padding, strictly: nullopt for anything else.
std::optional<std::vector<uint8_t>> base64_decode(std::string_view s) {
  if (s.size() % 4 != 0) return std::nullopt;
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size(); i += 4) {
    const bool last = i + 4 == s.size();
    const size_t pad = last ? (s[i + 3] == '=' ? (s[i + 2] == '=' ? 2 : 1) : 0) : 0;
    uint32_t group = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int v = j >= 4 - pad ? 0 : value(s[i + j]);
      if (v < 0) return std::nullopt;
      group = group << 6 | static_cast<uint32_t>(v);
    }
    out.push_back(static_cast<uint8_t>(group >> 16));
    if (pad < 2) out.push_back(static_cast<uint8_t>(group >> 8));
    if (pad < 1) out.push_back(static_cast<uint8_t>(group));
  }
  return out;
}

// A SCRAM message's attributes "a=value,b=value" in order; nullopt when one is not of that form.
std::optional<std::vector<std::pair<char, std::string_view>>> scram_attributes(std::string_view m) {
  std::vector<std::pair<char, std::string_view>> out;
  for (;;) {
    const size_t comma = m.find(',');
    const std::string_view part = m.substr(0, comma);
    if (part.size() < 2 || part[1] != '=' || !std::isalpha(static_cast<unsigned char>(part[0])))
      return std::nullopt;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) return out;
    m.remove_prefix(comma + 1);
  }
}

#if KAFKAWIRE_HAVE_OPENSSL
std::string b64(const std::vector<uint8_t>& v) { return protocol::base64(protocol::Bytes(v)); }

// RFC 5802 saslname: ',' and '=' escaped as =2C and =3D.
std::string saslname(std::string_view user) {
  std::string s;
  for (char c : user) {
    if (c == '=')
      s += "=3D";
    else if (c == ',')
      s += "=2C";
    else
      s += c;
  }
  return s;
}

const EVP_MD* scram_digest(std::string_view mechanism) {
  return mechanism == kScram512 ? EVP_sha512() : EVP_sha256();
}

std::vector<uint8_t> hmac(const EVP_MD* md, const std::vector<uint8_t>& key, std::string_view data) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (!HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
            data.size(), out.data(), &n))
    return {};
  out.resize(n);
  return out;
}

std::vector<uint8_t> digest(const EVP_MD* md, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  if (!EVP_Digest(data.data(), data.size(), out.data(), &n, md, nullptr)) return {};
  out.resize(n);
  return out;
}

void wipe(std::vector<uint8_t>& v) {
  if (!v.empty()) OPENSSL_cleanse(v.data(), v.size());
  v.clear();
}
#endif

}  // namespace

std::vector<std::string> supported_sasl_mechanisms() {
#if KAFKAWIRE_HAVE_OPENSSL
  return {std::string(kPlain), std::string(kScram256), std::string(kScram512), std::string(kOauth)};
#else
  return {std::string(kPlain), std::string(kOauth)};
#endif
}

std::error_code SaslClient::check(const SaslConfig& c, std::string& problem) {
  const std::string& m = c.mechanism;
  if (m != kPlain && m != kOauth && !is_scram(m)) {
    problem = "SASL mechanism \"" + printable(m) + "\" is not supported; kafkawire supports " +
              join(supported_sasl_mechanisms());
#if !KAFKAWIRE_HAVE_OPENSSL
    problem += " (and SCRAM-SHA-256 and SCRAM-SHA-512 when built with KAFKAWIRE_WITH_OPENSSL)";
#endif
    return kafka_errc::unsupported_sasl_mechanism;
  }
#if !KAFKAWIRE_HAVE_OPENSSL
  if (is_scram(m)) {
    problem = m +
              " needs OpenSSL, and this build of kafkawire was made without it: build with "
              "-DKAFKAWIRE_WITH_OPENSSL=ON (and libssl-dev installed)";
    return client_errc::invalid_config;
  }
#endif
  if (m == kPlain || is_scram(m)) {
    if (c.username.empty() || c.password.empty()) {
      problem = m + " needs a username and a password (sasl.username and sasl.password, or sasl.jaas.config)";
      if (!c.username.empty()) problem = m + " needs a password for user \"" + printable(c.username) + "\"";
      return client_errc::invalid_config;
    }
    if (c.username.find('\0') != std::string::npos || c.password.find('\0') != std::string::npos) {
      problem = m + ": the username and the password cannot contain a NUL character";
      return client_errc::invalid_config;
    }
    return {};
  }
  // OAUTHBEARER
  if (!c.token_provider && c.token.empty()) {
    problem = "OAUTHBEARER needs a token or a token provider";
    return client_errc::invalid_config;
  }
  for (const auto& [k, v] : c.oauthbearer_extensions) {
    if (!valid_extension_key(k)) {
      problem = "OAUTHBEARER extension name \"" + printable(k) +
                "\" is invalid: it must be letters only (A-Z, a-z) and not \"auth\"";
      return client_errc::invalid_config;
    }
    if (!valid_extension_value(v)) {
      problem =
          "OAUTHBEARER extension \"" + k +
          "\" has an invalid value: it must be printable ASCII, spaces, tabs or line breaks, and not empty";
      return client_errc::invalid_config;
    }
  }
  return {};
}

SaslClient::SaslClient(SaslConfig config) : config_(std::move(config)) {}

SaslClient::SaslClient(SaslConfig config, std::string scram_client_nonce)
    : config_(std::move(config)), nonce_(std::move(scram_client_nonce)) {}

SaslClient::~SaslClient() {
  wipe(config_.password);
  wipe(config_.token);
}

SaslClient::Step SaslClient::fail(std::error_code ec, std::string problem) {
  state_ = State::failed;
  Step s;
  s.ec = ec;
  s.problem = std::move(problem);
  return s;
}

SaslClient::Step SaslClient::start() {
  if (state_ != State::initial) return fail(client_errc::invalid_argument, "SASL start() called twice");
  std::string problem;
  if (auto ec = check(config_, problem)) return fail(ec, std::move(problem));
  const std::string& m = config_.mechanism;
  Step s;
  if (m == kPlain) {
    std::string msg;
    msg += '\0';
    msg += config_.username;
    msg += '\0';
    msg += config_.password;
    s.send = to_bytes(msg);
    wipe(msg);
    state_ = State::plain_sent;
    return s;
  }
  if (m == kOauth) {
    std::string token = config_.token;
    if (config_.token_provider) {
      std::string why;
      token.clear();
      if (auto ec = config_.token_provider(token, why)) {
        wipe(token);
        return fail(ec, "the OAUTHBEARER token provider failed: " + (why.empty() ? ec.message() : why));
      }
    }
    if (!valid_token(token)) {
      const bool empty = token.empty();
      wipe(token);
      return fail(client_errc::invalid_config,
                  empty ? "the OAUTHBEARER token is empty"
                        : "the OAUTHBEARER token has characters a bearer token cannot have (spaces, control "
                          "characters or non-ASCII)");
    }
    std::string msg =
        "n,,\x01"
        "auth=Bearer " +
        token + "\x01";
    for (const auto& [k, v] : config_.oauthbearer_extensions) msg += k + "=" + v + "\x01";
    msg += '\x01';
    s.send = to_bytes(msg);
    wipe(msg);
    wipe(token);
    state_ = State::oauth_sent;
    return s;
  }
#if KAFKAWIRE_HAVE_OPENSSL
  // SCRAM client-first.
  if (nonce_.empty()) {
    std::vector<uint8_t> random(24);
    if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1)
      return fail(client_errc::internal_error, "OpenSSL's RAND_bytes failed to make a SCRAM nonce");
    nonce_ = b64(random);
  }
  client_first_bare_ = "n=" + saslname(config_.username) + ",r=" + nonce_;
  s.send = to_bytes("n,," + client_first_bare_);
  state_ = State::scram_first_sent;
  return s;
#else
  return fail(client_errc::invalid_config, "SCRAM needs a build with KAFKAWIRE_WITH_OPENSSL");
#endif
}

SaslClient::Step SaslClient::on_server(protocol::Bytes server_message) {
  const std::string_view msg = server_message.str();
  const std::string& m = config_.mechanism;
  switch (state_) {
    case State::plain_sent:
      if (!msg.empty())
        return fail(kafka_errc::sasl_authentication_failed,
                    "PLAIN: the server answered with " + std::to_string(msg.size()) +
                        " bytes where it sends none: \"" + printable(msg) + "\"");
      state_ = State::done;
      return {};
    case State::oauth_sent: {
      if (msg.empty()) {
        state_ = State::done;
        return {};
      }
      // RFC 7628 3.2.2: the server's error; the client answers with a lone "\x01" and the broker then
      // fails the authentication with an error code the caller sees.
      state_ = State::oauth_failed;
      Step s;
      s.problem = "the server refused the OAUTHBEARER token: " + printable(msg);
      s.send = std::vector<uint8_t>{0x01};
      return s;
    }
    case State::oauth_failed:
      return fail(kafka_errc::sasl_authentication_failed,
                  "OAUTHBEARER: the server went on after refusing the token: " + printable(msg));
    case State::scram_first_sent:
      return scram_server_first(msg);
    case State::scram_final_sent:
      return scram_server_final(msg);
    case State::initial:
      return fail(client_errc::invalid_argument, m + ": on_server() before start()");
    case State::done:
    case State::failed:
      break;
  }
  return fail(client_errc::invalid_argument, m + ": on_server() after the exchange ended");
}

SaslClient::Step SaslClient::scram_server_first(std::string_view msg) {
  const std::string& m = config_.mechanism;
  const auto bad = [&](const std::string& what) {
    return fail(kafka_errc::sasl_authentication_failed,
                m + ": " + what + " in the server-first-message \"" + printable(msg) + "\"");
  };
  const auto attrs = scram_attributes(msg);
  if (!attrs) return bad("not a list of a=value attributes");
  if (!attrs->empty() && (*attrs)[0].first == 'm')
    return bad("a mandatory extension kafkawire does not know");
  if (attrs->size() < 3 || (*attrs)[0].first != 'r' || (*attrs)[1].first != 's' || (*attrs)[2].first != 'i')
    return bad("not r=nonce,s=salt,i=iterations");
  const std::string_view server_nonce = (*attrs)[0].second, salt_text = (*attrs)[1].second,
                         iterations_text = (*attrs)[2].second;
  if (server_nonce.size() <= nonce_.size() || server_nonce.substr(0, nonce_.size()) != nonce_)
    return bad("a nonce that does not extend ours (\"" + nonce_ + "\")");
  const auto salt = base64_decode(salt_text);
  if (!salt || salt->empty()) return bad("a salt that is not base64");
  long iterations = 0;
  if (iterations_text.empty() || iterations_text.size() > 10 ||
      !std::all_of(iterations_text.begin(), iterations_text.end(),
                   [](char c) { return c >= '0' && c <= '9'; }) ||
      (iterations = std::stol(std::string(iterations_text))) > INT_MAX)
    return bad("an iteration count that is not a number");
  if (iterations < kScramMinIterations)
    return bad("an iteration count of " + std::to_string(iterations) + ", below the minimum of " +
               std::to_string(kScramMinIterations) + " (Kafka's)");
#if KAFKAWIRE_HAVE_OPENSSL
  const EVP_MD* md = scram_digest(m);
  const size_t n = static_cast<size_t>(EVP_MD_size(md));
  // SaltedPassword = Hi(password, salt, i) = PBKDF2 with HMAC-H; ClientKey = HMAC(SaltedPassword,
  // "Client Key"); StoredKey = H(ClientKey); AuthMessage = client-first-bare , server-first ,
  // client-final-without-proof; ClientProof = ClientKey XOR HMAC(StoredKey, AuthMessage);
  // ServerSignature = HMAC(HMAC(SaltedPassword, "Server Key"), AuthMessage).
  std::vector<uint8_t> salted(n);
  if (PKCS5_PBKDF2_HMAC(config_.password.data(), static_cast<int>(config_.password.size()), salt->data(),
                        static_cast<int>(salt->size()), static_cast<int>(iterations), md, static_cast<int>(n),
                        salted.data()) != 1)
    return fail(client_errc::internal_error, m + ": OpenSSL's PKCS5_PBKDF2_HMAC failed");
  std::vector<uint8_t> client_key = hmac(md, salted, "Client Key");
  const std::vector<uint8_t> stored_key = digest(md, client_key);
  const std::string without_proof = "c=biws,r=" + std::string(server_nonce);  // biws: base64("n,,")
  const std::string auth_message = client_first_bare_ + "," + std::string(msg) + "," + without_proof;
  const std::vector<uint8_t> client_signature = hmac(md, stored_key, auth_message);
  std::vector<uint8_t> server_key = hmac(md, salted, "Server Key");
  server_signature_ = hmac(md, server_key, auth_message);
  if (client_key.size() != n || stored_key.size() != n || client_signature.size() != n ||
      server_signature_.size() != n) {
    wipe(salted);
    wipe(client_key);
    wipe(server_key);
    return fail(client_errc::internal_error, m + ": OpenSSL's HMAC or digest failed");
  }
  std::vector<uint8_t> proof(n);
  for (size_t i = 0; i < n; ++i) proof[i] = client_key[i] ^ client_signature[i];
  wipe(salted);
  wipe(client_key);
  wipe(server_key);
  Step s;
  s.send = to_bytes(without_proof + ",p=" + b64(proof));
  state_ = State::scram_final_sent;
  return s;
#else
  return fail(client_errc::invalid_config, m + " needs a build with KAFKAWIRE_WITH_OPENSSL");
#endif
}

SaslClient::Step SaslClient::scram_server_final(std::string_view msg) {
  const std::string& m = config_.mechanism;
  const auto attrs = scram_attributes(msg);
  if (attrs && !attrs->empty() && (*attrs)[0].first == 'e')
    return fail(kafka_errc::sasl_authentication_failed,
                m + ": the server refused the authentication: " + printable((*attrs)[0].second));
  if (!attrs || attrs->empty() || (*attrs)[0].first != 'v')
    return fail(
        kafka_errc::sasl_authentication_failed,
        m + ": the server-final-message is neither v=signature nor e=error: \"" + printable(msg) + "\"");
  const auto signature = base64_decode((*attrs)[0].second);
  bool same = signature && signature->size() == server_signature_.size() && !server_signature_.empty();
#if KAFKAWIRE_HAVE_OPENSSL
  same = same && CRYPTO_memcmp(signature->data(), server_signature_.data(), server_signature_.size()) == 0;
#else
  same = false;
#endif
  if (!same)
    return fail(
        kafka_errc::sasl_authentication_failed,
        m + ": the server's signature is wrong: the server did not prove that it knows the password "
            "(not the broker it claims to be, or a broker with other SCRAM credentials for this user)");
  state_ = State::done;
  return {};
}

// ------------------------------------------------------------------------------------ sasl.jaas.config

namespace {

// The tokens of Java's StreamTokenizer as Kafka's JaasConfig sets it up: words, quoted strings (" or ')
// with backslash escapes, numbers (which have no text, so cannot be values), single characters; // and
// /* */ comments, and a lone '/' starts a comment to the end of the line.
struct JaasToken {
  enum Kind { end, word, quoted, number, other } kind = end;
  std::string text;
  char c = 0;
  size_t offset = 0;
};

class JaasLexer {
 public:
  explicit JaasLexer(std::string_view s) : s_(s) {}

  // False on an unterminated quoted string or comment (problem says which).
  bool next(JaasToken& t, std::string& problem) {
    t = JaasToken{};
    for (;;) {
      while (i_ < s_.size() && static_cast<unsigned char>(s_[i_]) <= ' ') ++i_;
      if (i_ < s_.size() && s_[i_] == '/') {
        if (i_ + 1 < s_.size() && s_[i_ + 1] == '*') {
          const size_t close = s_.find("*/", i_ + 2);
          if (close == std::string_view::npos) {
            problem = "a /* comment at offset " + std::to_string(i_) + " is not closed";
            return false;
          }
          i_ = close + 2;
        } else {
          while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') ++i_;
        }
        continue;
      }
      break;
    }
    t.offset = i_;
    if (i_ >= s_.size()) return true;
    const unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (is_word_start(c)) {
      t.kind = JaasToken::word;
      while (i_ < s_.size() && is_word_part(static_cast<unsigned char>(s_[i_]))) t.text += s_[i_++];
      return true;
    }
    if (std::isdigit(c) || c == '.' || c == '-') {
      t.kind = JaasToken::number;
      while (i_ < s_.size() && is_word_part(static_cast<unsigned char>(s_[i_]))) ++i_;
      return true;
    }
    if (c == '"' || c == '\'') return quoted(t, static_cast<char>(c), problem);
    t.kind = JaasToken::other;
    t.c = static_cast<char>(c);
    ++i_;
    return true;
  }

 private:
  static bool is_word_start(unsigned char c) { return std::isalpha(c) || c == '_' || c == '$' || c >= 160; }
  static bool is_word_part(unsigned char c) {
    return is_word_start(c) || std::isdigit(c) || c == '.' || c == '-';
  }

  bool quoted(JaasToken& t, char quote, std::string& problem) {
    t.kind = JaasToken::quoted;
    const size_t start = i_++;
    for (;;) {
      if (i_ >= s_.size() || s_[i_] == '\n' || s_[i_] == '\r') {
        problem = "a quoted value starting at offset " + std::to_string(start) + " is not closed";
        return false;
      }
      const char c = s_[i_++];
      if (c == quote) return true;
      if (c != '\\') {
        t.text += c;
        continue;
      }
      if (i_ >= s_.size()) continue;  // reported as not closed above
      const char e = s_[i_++];
      switch (e) {
        case 'a':
          t.text += '\a';
          break;
        case 'b':
          t.text += '\b';
          break;
        case 'f':
          t.text += '\f';
          break;
        case 'n':
          t.text += '\n';
          break;
        case 'r':
          t.text += '\r';
          break;
        case 't':
          t.text += '\t';
          break;
        case 'v':
          t.text += '\v';
          break;
        default:
          if (e >= '0' && e <= '7') {
            // Octal, as StreamTokenizer: up to three digits when the first is 0-3, else two.
            int v = e - '0';
            const int max_digits = e <= '3' ? 3 : 2;
            for (int d = 1; d < max_digits && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++d)
              v = v * 8 + (s_[i_++] - '0');
            t.text += static_cast<char>(v);
          } else {
            t.text += e;  // \" \' \\ and any other character: itself
          }
      }
    }
  }

 public:
  // Where the next token starts looking: the end of the last one.
  size_t pos() const { return i_; }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::string_view kPlainModule = "org.apache.kafka.common.security.plain.PlainLoginModule";
constexpr std::string_view kScramModule = "org.apache.kafka.common.security.scram.ScramLoginModule";

}  // namespace

bool parse_jaas_config(std::string_view text, std::string& username, std::string& password,
                       std::string& problem) {
  // Problem texts name offsets and option names, never a value: a broken line may hold a password.
  const std::string where = "sasl.jaas.config: ";
  JaasLexer lex(text);
  JaasToken t;
  auto next = [&] {
    std::string p;
    if (lex.next(t, p)) return true;
    problem = where + p;
    return false;
  };
  if (!next()) return false;
  if (t.kind == JaasToken::end) {
    problem = where + "no login module (expected e.g. " + std::string(kPlainModule) +
              " required username=\"...\" password=\"...\";)";
    return false;
  }
  std::optional<std::string> user, pass;
  int modules = 0;
  while (t.kind != JaasToken::end) {
    ++modules;
    if (t.kind != JaasToken::word) {
      problem = where + "expected a login module class name at offset " + std::to_string(t.offset);
      return false;
    }
    const std::string module = t.text;
    if (modules > 1) {
      problem = where + "more than one login module (a second one, " + module + ", at offset " +
                std::to_string(t.offset) + "); Kafka's clients take exactly one";
      return false;
    }
    if (module != kPlainModule && module != kScramModule) {
      problem = where + "login module " + module + " is not one kafkawire reads: use " +
                std::string(kPlainModule) + " or " + std::string(kScramModule);
      return false;
    }
    if (!next()) return false;
    if (t.kind != JaasToken::word || !(iequals(t.text, "required") || iequals(t.text, "requisite") ||
                                       iequals(t.text, "sufficient") || iequals(t.text, "optional"))) {
      problem = where + "expected the control flag (required, requisite, sufficient or optional) after " +
                module + " at offset " + std::to_string(t.offset);
      return false;
    }
    for (;;) {
      if (!next()) return false;
      if (t.kind == JaasToken::end || (t.kind == JaasToken::other && t.c == ';')) break;
      if (t.kind != JaasToken::word) {
        problem = where + "expected an option name (like username) at offset " + std::to_string(t.offset);
        return false;
      }
      const std::string key = t.text;
      const size_t key_offset = t.offset;
      // Only the names kafkawire knows are echoed: anything else may be a piece of a broken password.
      const std::string key_text = (key == "username" || key == "password") ? "'" + key + "'" : "an option";
      if (!next()) return false;
      if (t.kind != JaasToken::other || t.c != '=') {
        problem = where + "expected '=' after " + key_text + " at offset " + std::to_string(key_offset);
        return false;
      }
      if (!next()) return false;
      if (t.kind != JaasToken::word && t.kind != JaasToken::quoted) {
        problem = where + "no value for " + key_text + " at offset " + std::to_string(key_offset) +
                  " (quote values that do not start with a letter)";
        return false;
      }
      if (key == "username") user = t.text;
      if (key == "password") pass = t.text;
    }
    if (t.kind == JaasToken::end) break;
    if (!next()) return false;
  }
  if (!user || !pass) {
    problem = where + "no " +
              std::string(!user && !pass ? "username and no password"
                          : !user        ? "username"
                                         : "password") +
              " in the login module's options";
    return false;
  }
  username = std::move(*user);
  password = std::move(*pass);
  return true;
}

bool jaas_option_spans(std::string_view text, std::vector<JaasOptionSpan>& out) {
  out.clear();
  JaasLexer lex(text);
  JaasToken a, b, c;
  std::string problem;
  if (!lex.next(a, problem) || !lex.next(b, problem)) return false;
  for (;;) {
    if (!lex.next(c, problem)) return false;
    if (a.kind == JaasToken::word && b.kind == JaasToken::other && b.c == '=' &&
        (c.kind == JaasToken::word || c.kind == JaasToken::quoted || c.kind == JaasToken::number)) {
      const size_t end = lex.pos();
      out.push_back(
          {a.text, c.offset, end,
           c.kind == JaasToken::quoted ? c.text : std::string(text.substr(c.offset, end - c.offset))});
    }
    if (c.kind == JaasToken::end) return true;
    a = std::move(b);
    b = std::move(c);
  }
}

}  // namespace kafkawire::net
