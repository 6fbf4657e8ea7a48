#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "kafkawire/protocol/error.hpp"
#include "tls_stream.hpp"

namespace kafkawire::net {

bool openssl_built_in() { return KAFKAWIRE_HAVE_OPENSSL != 0; }

namespace {

std::shared_ptr<TlsContext> fail(std::error_code& ec, std::string& problem, std::string text) {
  ec = client_errc::invalid_config;
  problem = std::move(text);
  return nullptr;
}

// The PEM text of a file, read here so that a missing file is reported with the system's reason, not
// OpenSSL's ("no start line" for an empty read).
[[maybe_unused]] bool read_file(const std::string& path, std::string& out, std::string& why) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

}  // namespace

#if KAFKAWIRE_HAVE_OPENSSL

std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& o, std::error_code& ec, std::string& problem) {
  namespace ssl = boost::asio::ssl;
  auto context = std::make_shared<TlsContext>();
  ssl::context& ctx = context->ssl;
  context->verify_hostname = o.verify_hostname;
  boost::system::error_code e;
  // TLS 1.2 and 1.3 only, as Java's default ssl.enabled.protocols.
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_peer);

  std::string pem, why;
  if (!o.ca_pem.empty() || !o.ca_location.empty()) {
    if (!o.ca_pem.empty())
      pem = o.ca_pem;
    else if (!read_file(o.ca_location, pem, why))
      return fail(ec, problem, o.ca_key + ": " + why);
    ctx.add_certificate_authority(boost::asio::buffer(pem), e);
    if (e) return fail(ec, problem, o.ca_key + ": no CA certificate in it (" + e.message() + ")");
  } else {
    ctx.set_default_verify_paths(e);
    if (e) return fail(ec, problem, "the system's CA store cannot be loaded: " + e.message());
  }

  const bool has_cert = !o.certificate_pem.empty() || !o.certificate_location.empty();
  const bool has_key = !o.key_pem.empty() || !o.key_location.empty();
  if (has_cert != has_key)
    return fail(ec, problem,
                has_cert ? o.certificate_key + " is set without a private key (" + o.key_key + ")"
                         : o.key_key + " is set without a certificate (" + o.certificate_key + ")");
  if (has_cert) {
    if (!o.certificate_pem.empty())
      pem = o.certificate_pem;
    else if (!read_file(o.certificate_location, pem, why))
      return fail(ec, problem, o.certificate_key + ": " + why);
    ctx.use_certificate_chain(boost::asio::buffer(pem), e);
    if (e) return fail(ec, problem, o.certificate_key + ": no PEM certificate in it (" + e.message() + ")");
    const std::string password = o.key_password;
    ctx.set_password_callback([password](size_t, ssl::context::password_purpose) { return password; });
    if (!o.key_pem.empty())
      pem = o.key_pem;
    else if (!read_file(o.key_location, pem, why))
      return fail(ec, problem, o.key_key + ": " + why);
    ctx.use_private_key(boost::asio::buffer(pem), ssl::context::pem, e);
    if (e)
      return fail(ec, problem,
                  o.key_key + ": the private key cannot be loaded (" + e.message() +
                      (o.key_password.empty() ? "; if it is encrypted, set ssl.key.password)"
                                              : "; is ssl.key.password right?)"));
    if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
      return fail(ec, problem,
                  o.key_key + ": the private key does not belong to the certificate in " + o.certificate_key);
    context->has_client_certificate = true;
  }
  ec = {};
  return context;
}

#else

std::shared_ptr<TlsContext> make_tls_context(const TlsOptions&, std::error_code& ec, std::string& problem) {
  return fail(ec, problem,
              "TLS needs OpenSSL, and this kafkawire was built without it (CMake option "
              "KAFKAWIRE_WITH_OPENSSL, Debian package libssl-dev)");
}

#endif

}  // namespace kafkawire::net
