// What TlsContext and a connection's TLS stream are, inside net/ only: the OpenSSL types stay out of the
// installed headers, and a build without OpenSSL has empty stand-ins.
#pragma once

#include "kafkawire/net/tls.hpp"

#if KAFKAWIRE_HAVE_OPENSSL
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

namespace kafkawire::net {

class TlsContext {
 public:
  boost::asio::ssl::context ssl{boost::asio::ssl::context::tls_client};
  bool verify_hostname = true;
  bool has_client_certificate = false;
};

struct TlsStream {
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
  bool name_mismatch = false;  // the handshake failed because the certificate names another host
};

}  // namespace kafkawire::net
#else
namespace kafkawire::net {
class TlsContext {};
struct TlsStream {};
}  // namespace kafkawire::net
#endif
