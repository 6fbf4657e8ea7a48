// What TlsContext and a connection's TLS stream are, inside net/ only: the OpenSSL types stay out of the
// installed headers, and a build without OpenSSL has empty stand-ins.
#pragma once

#include "kafkawire/net/tls.hpp"

#if KAFKAWIRE_HAVE_OPENSSL
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <cstdint>
#include <vector>

namespace kafkawire::net {

class TlsContext {
 public:
  boost::asio::ssl::context ssl{boost::asio::ssl::context::tls_client};
  bool verify_hostname = true;
  bool has_client_certificate = false;
};

// After the handshake a connection reads TLS itself, not through asio's ssl::stream. That one reads the
// socket into a buffer of one TLS record (17 KiB), copies it into a BIO pair, and completes each record's
// SSL_read through the event loop: a 4 MiB Fetch answer took ~250 recv calls, ~400 trips through the
// reactor and three copies of each byte besides the kernel's. Here the socket is read in chunks of up to
// kReadChunk into `in`, OpenSSL takes its records from there through a BIO of ours (tls.cpp), and
// Connection::read_exact decrypts record after record until the frame is full or `in` is used up, without
// the event loop; two copies. For 300 k records of 1 KiB: 18,453 -> 2,408 recv calls, 29,638 -> 2,317
// epoll_wait calls, CPU -14% (docs/performance.md, "Over TLS and SASL_SSL"). The handshake and every
// write stay with asio's stream (its BIO pair remains the write BIO).
struct TlsInput {
  static constexpr size_t kReadChunk = 256 * 1024;
  std::vector<uint8_t> bytes;  // received, not yet handed to OpenSSL: [begin, end)
  size_t begin = 0, end = 0;
};

struct TlsStream {
  TlsInput in;  // before `stream`: the SSL (freed with `stream`) holds a BIO that points at it
  boost::asio::ssl::stream<boost::asio::ip::tcp::socket> stream;
  bool name_mismatch = false;  // the handshake failed because the certificate names another host

  TlsStream(boost::asio::ip::tcp::socket&& socket, boost::asio::ssl::context& context)
      : stream(std::move(socket), context) {}
  // Once the handshake is done: OpenSSL reads from `in`, starting with whatever the handshake's reads
  // left in asio's BIO pair. Fails (false) only when OpenSSL cannot make the BIO.
  bool take_over_reading();
  // Decrypts into `out` what the received bytes hold. > 0: that many bytes; 0: needs more bytes from
  // the socket, into `in`; < 0: failed, with `ec` (the SSL category's codes, as asio's stream gives
  // them, or eof when the broker ended the session with close_notify).
  long decrypt(uint8_t* out, size_t size, boost::system::error_code& ec);
};

}  // namespace kafkawire::net
#else
namespace kafkawire::net {
class TlsContext {};
struct TlsStream {};
}  // namespace kafkawire::net
#endif
