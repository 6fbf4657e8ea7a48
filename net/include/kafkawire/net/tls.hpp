// TLS for connections to brokers (security.protocol SSL and SASL_SSL), over OpenSSL through Boost.Asio.
//
// Certificates and keys are PEM, as C and C++ users keep them: files (`*_location`) or the PEM text
// itself (`*_pem`). Without a CA the system's default trust store is used. The broker's certificate must
// match the host name or IP address the connection was made to (verify_hostname, Java's
// ssl.endpoint.identification.algorithm=https), and the host name goes out as SNI.
//
// OpenSSL is optional, like the compression codecs: found and on by default (the CMake option
// KAFKAWIRE_WITH_OPENSSL). In a build without it make_tls_context() fails with invalid_config naming
// that option, so a configuration that needs TLS fails when it is made, not at the first connection.
#pragma once

#include <memory>
#include <string>
#include <system_error>

namespace kafkawire::net {

struct TlsOptions {
  std::string ca_location;           // PEM file of the CA certificates to trust
  std::string ca_pem;                // or the PEM text; neither: the system's trust store
  std::string certificate_location;  // the client's certificate (chain), for mutual TLS
  std::string certificate_pem;
  std::string key_location;  // its private key
  std::string key_pem;
  std::string key_password;     // when the key is encrypted
  bool verify_hostname = true;  // the certificate must name the host or IP connected to
  // The configuration keys the fields came from, for error messages ("ssl.ca.location: ...").
  std::string ca_key = "ssl.ca.location", certificate_key = "ssl.certificate.location",
              key_key = "ssl.key.location";
};

// An OpenSSL context with the trust store, certificate and key loaded: made once per Pool and shared by
// its connections. Opaque outside net/.
class TlsContext;

// Loads what `options` names. On failure: nullptr, ec (invalid_config) and `problem` naming the key and
// what is wrong ("ssl.ca.location: cannot read /etc/x.pem: No such file or directory").
std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& options, std::error_code& ec,
                                             std::string& problem);

// Whether this build has OpenSSL (TLS, and the SCRAM mechanisms that need its HMAC and PBKDF2).
bool openssl_built_in();

}  // namespace kafkawire::net
