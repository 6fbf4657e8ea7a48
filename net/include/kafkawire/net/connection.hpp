// One TCP connection to one broker.
//
// - Pipelining: many requests may be in flight. A broker answers the requests of a connection one at a
//   time and in order, so responses are matched to requests by correlation id in FIFO order; a response
//   whose id is not the oldest outstanding one means the framing is out of sync, and the connection is
//   closed (unknown_correlation_id).
// - One write queue and one read loop. Any I/O error fails every in-flight request with the same error
//   and closes the socket: after a short read nobody knows where the next frame starts.
// - Version negotiation: the first request is ApiVersions (v3+ carries the client's software name). A
//   broker that does not know our ApiVersions version answers in the v0 format with UNSUPPORTED_VERSION
//   and its own range, and we ask again at that version. Each later request is sent at the highest version
//   both sides serve. A request the broker serves at no version we know fails here with
//   unsupported_version, never sent: a Kafka broker answers an unknown version by closing the socket.
// - Deadlines: each request has one (request.timeout.ms, plus what the request itself waits on the broker,
//   like a Fetch's MaxWaitMs). A request past its deadline fails with `timeout` and the connection is
//   closed, as the Java client does: its response would still arrive and would have to be skipped.
//   Setting up a connection (TCP connect, then ApiVersions) has one deadline of its own,
//   socket.connection.setup.timeout.ms (`connect_timeout`): a broker that accepts and never answers fails
//   async_connect with `timeout` after that long, not after request.timeout.ms.
// - A response frame larger than receive.message.max.bytes closes the connection with message_too_large
//   before the frame is read; a negative size prefix closes it with `malformed`.
// - Security (net/tls.hpp, net/sasl.hpp): with `tls`, the TCP connection is wrapped in TLS before anything
//   else (the broker's certificate checked against the CA and the host name); with `sasl`, ApiVersions is
//   followed by SaslHandshake and SaslAuthenticate, and the connection is ready only once the broker has
//   accepted the credentials. All of it is part of the setup, under its one deadline. When the broker
//   gives the session a lifetime (KIP-368, connections.max.reauth.ms), the connection authenticates again
//   before it ends: requests made meanwhile wait and then go out in order; none fails for it.
// - Exceptions: one escaping the connection's own work (its read loop, its deadline watchdog, its setup),
//   such as bad_alloc or a completion handler that throws when the read loop invokes it, closes the
//   connection with internal_error: every request in flight fails with it, close_reason() says what was
//   thrown, and the pool opens a new connection for the next request.
//
// Threading: the library starts no threads. A Connection runs on the executor it was created with; call
// its member functions from that executor (or a strand wrapping it). Completion handlers are invoked
// through their associated executor. Any number of async_send operations may be outstanding at once.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "kafkawire/net/sasl.hpp"
#include "kafkawire/net/tls.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/message.hpp"

namespace kafkawire::net {

namespace asio = boost::asio;
using protocol::Bytes;

struct ConnectionOptions {
  std::string client_id = "kafkawire";
  std::string software_name = "kafkawire";  // ApiVersions v3+: [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
  std::string software_version = "0.1.0";
  size_t receive_message_max_bytes = 100 * 1024 * 1024;  // as librdkafka
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};  // TCP connect, TLS, ApiVersions and SASL together
  std::shared_ptr<TlsContext> tls;                   // set: TLS (security.protocol SSL or SASL_SSL)
  std::optional<SaslConfig> sasl;                    // set: SASL (SASL_PLAINTEXT or SASL_SSL)
};

struct VersionRange {
  int16_t min = 0;
  int16_t max = -1;
};

// A response frame as it came off the socket (after the size prefix): header, then body.
struct Frame {
  std::shared_ptr<const std::vector<uint8_t>> buffer;
  size_t body_offset = 0;
  int16_t api_key = -1;
  int16_t version = -1;
  Bytes body() const {
    return buffer ? Bytes(buffer->data() + body_offset, buffer->size() - body_offset) : Bytes();
  }
};

// A decoded response. Its Bytes and Records views point into `frame`, which the Reply keeps alive.
template <class M>
struct Reply {
  M message;
  int16_t version = -1;
  std::shared_ptr<const std::vector<uint8_t>> frame;
  M* operator->() { return &message; }
  const M* operator->() const { return &message; }
};

struct TlsStream;  // net/src/tls_stream.hpp

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using executor_type = asio::any_io_executor;
  enum class State { idle, connecting, negotiating, authenticating, ready, closed };

  static std::shared_ptr<Connection> create(executor_type ex, ConnectionOptions options = {}) {
    return std::shared_ptr<Connection>(new Connection(std::move(ex), std::move(options)));
  }
  ~Connection();

  executor_type get_executor() const { return executor_; }
  State state() const { return state_; }
  bool is_ready() const { return state_ == State::ready; }
  const std::string& host() const { return host_; }
  uint16_t port() const { return port_; }
  // A number no other Connection of this process has: which TCP connection a request rode. Requests of
  // one connection reach the broker in the order they were sent, and Kafka handles them one at a time;
  // requests of two connections have no order (the idempotent producer relies on this, producer_session.hpp).
  uint64_t serial() const { return serial_; }
  // Why the connection closed (empty while it is open): "connect to 127.0.0.1:9092: Connection refused".
  const std::string& close_reason() const { return close_reason_; }
  // SASL: how many times the broker accepted this connection's credentials (the first time, then each
  // KIP-368 re-authentication).
  int authentications() const { return authentications_; }
  // internal_error: an exception stopped the connection's own work; close_reason() says which.
  std::error_code close_error() const { return close_error_; }

  // TCP connect, then ApiVersions. Completes with void(std::error_code).
  template <class Token>
  auto async_connect(std::string host, uint16_t port, Token&& token) {
    return asio::async_initiate<Token, void(std::error_code)>(
        [self = shared_from_this(), host = std::move(host), port](auto handler) mutable {
          self->start_connect(std::move(host), port, std::move(handler));
        },
        token);
  }

  // What the broker said it serves (empty before negotiation).
  const std::map<int16_t, VersionRange>& broker_versions() const { return broker_versions_; }
  // A finalized feature's level, from the ApiVersions answer (v3+), e.g. "transaction.version".
  std::optional<int16_t> finalized_feature(std::string_view name) const;
  // The version a request of this kind goes out at: the highest both sides serve.
  std::optional<int16_t> negotiated_version(int16_t api_key, int16_t our_min, int16_t our_max) const;
  template <class Req>
  std::optional<int16_t> negotiated_version() const {
    return negotiated_version(Req::api_key, Req::min_version, Req::max_version);
  }
  // unsupported_version with a message naming the API and both ranges; empty when one is shared.
  std::string unsupported_text(int16_t api_key, int16_t our_min, int16_t our_max) const;

  // Sends req at the negotiated version. Completes with void(std::error_code, Reply<Response>).
  // `extra_wait` lengthens the deadline for requests that wait on the broker (Fetch MaxWaitMs,
  // JoinGroup's rebalance timeout).
  template <class Req, class Token>
  auto async_send(const Req& req, Token&& token, std::chrono::milliseconds extra_wait = {}) {
    return async_send_at(req, -1, std::forward<Token>(token), extra_wait);
  }

  // Sends req at an explicit version (-1: negotiated). The conformance suite walks every version.
  //
  // The request is encoded here, when the operation is created, not when it is launched: with a token that
  // defers initiation (asio::deferred, or an awaitable not yet awaited) the caller's `req` may be gone by
  // then, and the operation owns everything it needs (the version is the one negotiated at creation).
  template <class Req, class Token>
  auto async_send_at(const Req& req, int16_t version, Token&& token,
                     std::chrono::milliseconds extra_wait = {}) {
    using Resp = typename Req::response_type;
    return asio::async_initiate<Token, void(std::error_code, Reply<Resp>)>(
        [self = shared_from_this(), encoded = encode_request(req, version),
         extra_wait](auto handler) mutable {
          self->start_typed<Resp>(std::move(encoded), extra_wait, std::move(handler));
        },
        token);
  }

  // Sends a request whose body is already encoded, and completes with the raw response frame: for
  // tools that relay or inspect bytes. expect_response=false for Produce with acks=0.
  template <class Token>
  auto async_send_raw(int16_t api_key, int16_t version, std::vector<uint8_t> body, bool expect_response,
                      Token&& token) {
    return asio::async_initiate<Token, void(std::error_code, Frame)>(
        [self = shared_from_this(), api_key, version, body = std::move(body),
         expect_response](auto handler) mutable {
          self->start_raw(api_key, version, std::move(body), expect_response, std::move(handler));
        },
        token);
  }

  // Fails every outstanding request with `reason` and closes the socket. Safe to call more than once.
  void close(std::error_code reason = client_errc::operation_aborted, std::string text = {});

 private:
  using FrameHandler = asio::any_completion_handler<void(std::error_code, Frame)>;

  struct Pending {
    int32_t correlation_id;
    int16_t api_key;
    int16_t version;
    int16_t response_header_version;
    std::chrono::steady_clock::time_point deadline;
    FrameHandler handler;
  };

  Connection(executor_type ex, ConnectionOptions options);
  std::shared_ptr<std::vector<uint8_t>> frame_buffer(size_t size);

  void start_connect(std::string host, uint16_t port,
                     asio::any_completion_handler<void(std::error_code)> handler);
  asio::awaitable<std::error_code> connect_and_negotiate(std::string host, uint16_t port);
  asio::awaitable<std::error_code> negotiate();
  // SaslHandshake, then SaslAuthenticate until the mechanism is done (connection_sasl.cpp).
  asio::awaitable<std::error_code> authenticate();
  // KIP-368: authenticates again at `when` (before the session's lifetime ends); requests wait meanwhile.
  asio::awaitable<void> reauthenticate_at(std::chrono::steady_clock::time_point when);
  // The TLS handshake (with SNI and host-name verification) on the connected socket.
  asio::awaitable<std::error_code> start_tls(const std::string& host);
  // Reads exactly the buffer's size from the socket or the TLS stream.
  asio::awaitable<std::tuple<boost::system::error_code, size_t>> read_exact(asio::mutable_buffer buffer);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> watchdog();
  // Runs read_loop() or watchdog(). An exception escaping one (bad_alloc, a completion handler that
  // throws) closes the connection with internal_error and what() in close_reason(): every request in flight
  // fails at once, and the pool replaces the connection, instead of the loop dying unseen.
  void spawn_background(asio::awaitable<void> work, std::string_view name);
  void close_on_exception(std::exception_ptr e, std::string_view where);

  // The frame of a request: int32 size, header at its version, then whatever body(w) writes.
  template <class Body>
  std::vector<uint8_t> make_frame(int16_t api_key, int16_t version, int16_t header_version,
                                  int32_t correlation_id, Body&& body, std::error_code& ec) const {
    protocol::Writer w;
    w.i32(0);
    protocol::RequestHeader h{api_key, version, correlation_id, options_.client_id};
    protocol::encode(w, h, header_version);
    body(w);
    w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
    ec = w.error();
    return w.release();
  }
  // Queues a framed request; the handler gets the response frame or an error.
  void submit(std::vector<uint8_t> frame, Pending pending, bool expect_response,
              std::chrono::milliseconds extra_wait);
  // Hands a request with its deadline to the write queue (and the response queue).
  void enqueue(std::vector<uint8_t> frame, Pending pending, bool expect_response);
  // After a re-authentication: the requests held meanwhile go out, in the order they were made.
  void release_held();
  void start_raw(int16_t api_key, int16_t version, std::vector<uint8_t> body, bool expect_response,
                 FrameHandler handler);
  void write_next();
  void fail(FrameHandler handler, std::error_code ec);

  // A typed request framed at its version, ready to be given a correlation id and queued; or why not.
  struct EncodedRequest {
    std::vector<uint8_t> frame;  // correlation id 0 until start_typed() numbers it
    std::error_code ec;
    int16_t api_key = -1;
    int16_t version = -1;
    int16_t response_header_version = 0;
    bool expect_response = true;
  };

  template <class Req>
  EncodedRequest encode_request(const Req& req, int16_t version) const {
    using Resp = typename Req::response_type;
    EncodedRequest e;
    e.api_key = Req::api_key;
    e.expect_response = expects_response(req);
    if (version < 0) {
      auto v = negotiated_version<Req>();
      if (!v) {
        e.ec = state_ == State::ready ? std::error_code(client_errc::unsupported_version) : not_ready_error();
        return e;
      }
      version = *v;
    }
    e.version = version;
    if (!protocol::supports_version<Req>(version)) {
      e.ec = client_errc::unsupported_version;
      return e;
    }
    e.response_header_version = protocol::response_header_version<Resp>(version);
    e.frame = make_frame(
        Req::api_key, version, protocol::request_header_version<Req>(version), 0,
        [&](protocol::Writer& w) { protocol::encode(w, req, version); }, e.ec);
    return e;
  }

  template <class Resp, class Handler>
  void start_typed(EncodedRequest encoded, std::chrono::milliseconds extra_wait, Handler handler) {
    auto ex = asio::get_associated_executor(handler, executor_);
    auto deliver = [ex](Handler h, std::error_code ec, Reply<Resp> r) {
      asio::dispatch(ex,
                     [h = std::move(h), ec, r = std::move(r)]() mutable { std::move(h)(ec, std::move(r)); });
    };
    if (encoded.ec) {
      deliver(std::move(handler), encoded.ec, {});
      return;
    }
    const int32_t id = next_correlation_id_++;
    set_correlation_id(encoded.frame, id);
    const int16_t version = encoded.version;
    FrameHandler on_frame = [deliver, h = std::move(handler), version](std::error_code ec, Frame f) mutable {
      Reply<Resp> r;
      r.version = version;
      if (!ec && f.buffer) {
        ec = protocol::decode(f.body(), r.message, version);
        r.frame = std::move(f.buffer);
      }
      deliver(std::move(h), ec, std::move(r));
    };
    submit(std::move(encoded.frame),
           Pending{id, encoded.api_key, version, encoded.response_header_version, {}, std::move(on_frame)},
           encoded.expect_response, extra_wait);
  }
  static void set_correlation_id(std::vector<uint8_t>& frame, int32_t id);

  // Produce with acks=0 gets no response at all.
  template <class Req>
  static bool expects_response(const Req& req) {
    if constexpr (requires { req.acks; }) return req.acks != 0;
    return true;
  }

  std::error_code not_ready_error() const {
    return state_ == State::closed && close_error_ ? close_error_
                                                   : std::error_code(client_errc::disconnected);
  }

  executor_type executor_;
  const uint64_t serial_;
  ConnectionOptions options_;
  asio::ip::tcp::socket socket_;
  std::unique_ptr<TlsStream> tls_;  // with TLS: the stream that took over socket_ (tls_stream.hpp)
  asio::steady_timer watchdog_timer_;
  State state_ = State::idle;
  std::string host_;
  uint16_t port_ = 0;
  int32_t next_correlation_id_ = 1;
  std::deque<Pending> in_flight_;  // sent (or queued), oldest first: responses come back in this order
  std::deque<std::vector<uint8_t>> outbox_;  // frames not yet handed to the socket
  // While authenticating again (KIP-368), requests wait here: nothing may come between the SASL requests.
  struct Held {
    std::vector<uint8_t> frame;
    Pending pending;
    bool expect_response;
  };
  std::deque<Held> held_;
  bool reauthenticating_ = false;
  int authentications_ = 0;
  uint64_t answers_after_setup_ = 0;  // responses to requests other than ApiVersions and SASL's
  asio::steady_timer reauth_timer_;   // when to authenticate again; cancelled by close()
  std::vector<std::shared_ptr<std::vector<uint8_t>>> spare_frames_;  // see frame_buffer()
  bool writing_ = false;
  std::map<int16_t, VersionRange> broker_versions_;
  std::map<std::string, int16_t, std::less<>> finalized_features_;  // name -> max version level
  std::string close_reason_;
  std::error_code close_error_;
  std::chrono::steady_clock::time_point setup_deadline_{};  // connect + ApiVersions: connect_timeout
};

std::string_view to_string(Connection::State s);

namespace testing {
// Test seam, never set by the library: called by the read loop with the API key of the request a response
// answers and the response's size, just before it allocates the frame's buffer. A test throws
// std::bad_alloc from it to stand for an allocation that fails. Set it only while no other thread runs a
// Connection.
inline std::function<void(int16_t api_key, size_t frame_size)> before_frame_allocation;
}  // namespace testing

}  // namespace kafkawire::net
