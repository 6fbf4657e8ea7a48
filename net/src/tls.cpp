#include <algorithm>
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
  // After the handshake a connection reads TLS itself while asio's stream writes (tls_stream.hpp): a TLS
  // 1.2 renegotiation, which Kafka's brokers never start, would have asio's writes read the socket too.
  SSL_CTX_set_options(ctx.native_handle(), SSL_OP_NO_RENEGOTIATION);

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

namespace {

// A source-only BIO over a TlsInput: hands OpenSSL the bytes received, and "retry" when there are none.
int input_read(BIO* bio, char* out, size_t size, size_t* taken) {
  auto* in = static_cast<TlsInput*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  const size_t n = std::min(size, in->end - in->begin);
  *taken = n;
  if (n == 0) {
    BIO_set_retry_read(bio);
    return 0;
  }
  std::memcpy(out, in->bytes.data() + in->begin, n);
  in->begin += n;
  return 1;
}

long input_ctrl(BIO* bio, int cmd, long, void*) {
  auto* in = static_cast<TlsInput*>(BIO_get_data(bio));
  switch (cmd) {
    case BIO_CTRL_PENDING:
      return static_cast<long>(in->end - in->begin);
    case BIO_CTRL_FLUSH:
      return 1;
    default:
      return 0;
  }
}

int input_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* input_method() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "kafkawire TLS input");
    if (m && (BIO_meth_set_read_ex(m, input_read) != 1 || BIO_meth_set_ctrl(m, input_ctrl) != 1 ||
              BIO_meth_set_create(m, input_create) != 1)) {
      BIO_meth_free(m);
      m = nullptr;
    }
    return m;
  }();
  return method;
}

}  // namespace

bool TlsStream::take_over_reading() {
  SSL* ssl = stream.native_handle();
  BIO* handshake_bio = SSL_get_rbio(ssl);
  in.bytes.resize(TlsInput::kReadChunk);
  in.begin = in.end = 0;
  // Whatever the broker sent after its part of the handshake and asio's reads took in is the start of
  // the stream from now on (none in practice: Kafka's brokers send nothing before the first request,
  // and TLS 1.3 session tickets come after the client's Finished).
  const size_t left = BIO_ctrl_pending(handshake_bio);
  if (left > in.bytes.size()) in.bytes.resize(left);
  if (left > 0) {
    const int n = BIO_read(handshake_bio, in.bytes.data(), static_cast<int>(left));
    in.end = n > 0 ? static_cast<size_t>(n) : 0;
  }
  BIO_METHOD* method = input_method();
  BIO* bio = method ? BIO_new(method) : nullptr;
  if (!bio) return false;
  BIO_set_data(bio, &in);
  SSL_set0_rbio(ssl, bio);     // the BIO pair stays the write BIO, for asio's writes
  SSL_set_read_ahead(ssl, 1);  // OpenSSL takes all it can from `in` at once, not a header then a body
  return true;
}

long TlsStream::decrypt(uint8_t* out, size_t size, boost::system::error_code& ec) {
  SSL* ssl = stream.native_handle();
  ERR_clear_error();
  size_t n = 0;
  const int r = SSL_read_ex(ssl, out, size, &n);
  if (r == 1) return static_cast<long>(n);
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ:
      return 0;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      ec = boost::asio::error::eof;
      return -1;
    case SSL_ERROR_SSL:  // an alert from the broker, or a record that does not decrypt
      ec = boost::system::error_code(static_cast<int>(ERR_get_error()),
                                     boost::asio::error::get_ssl_category());
      return -1;
    default:  // WANT_WRITE (the write BIO full: asio's writes empty it), SYSCALL (not from this BIO)
      ec = boost::asio::ssl::error::unspecified_system_error;
      return -1;
  }
}

#else

std::shared_ptr<TlsContext> make_tls_context(const TlsOptions&, std::error_code& ec, std::string& problem) {
  return fail(ec, problem,
              "TLS needs OpenSSL, and this kafkawire was built without it (CMake option "
              "KAFKAWIRE_WITH_OPENSSL, Debian package libssl-dev)");
}

#endif

}  // namespace kafkawire::net
