#include "kafkawire/net/connection.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/endian/conversion.hpp>
#include <limits>

#include "kafkawire/protocol/sasl_authenticate.hpp"
#include "kafkawire/protocol/sasl_handshake.hpp"
#include "tls_stream.hpp"

namespace kafkawire::net {

using namespace std::chrono_literals;
namespace proto = kafkawire::protocol;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

// asio::transfer_all() caps each read_some at 64 KiB (asio's default_max_transfer_size), so a 4 MiB Fetch
// answer took 64 recv calls, each with its own trip through the reactor and often its own window-update
// ACK. Asking for the whole rest of the frame lets one recv take everything the socket holds (a few
// hundred KiB at a time on loopback): 5,294 recv calls instead of 16,776 for 1 M records of 1 KiB.
constexpr auto until_full = [](const boost::system::error_code& ec, std::size_t) -> std::size_t {
  return ec ? 0 : std::numeric_limits<std::size_t>::max();
};

std::string_view to_string(Connection::State s) {
  switch (s) {
    case Connection::State::idle:
      return "idle";
    case Connection::State::connecting:
      return "connecting";
    case Connection::State::negotiating:
      return "negotiating";
    case Connection::State::authenticating:
      return "authenticating";
    case Connection::State::ready:
      return "ready";
    case Connection::State::closed:
      return "closed";
  }
  return "?";
}

namespace {
std::atomic<uint64_t> last_serial{0};  // atomic: connections may be made on several threads' io_contexts
}  // namespace

Connection::Connection(executor_type ex, ConnectionOptions options)
    : executor_(ex),
      serial_(++last_serial),
      options_(std::move(options)),
      socket_(ex),
      watchdog_timer_(ex),
      reauth_timer_(ex) {}

Connection::~Connection() {
  boost::system::error_code ignored;
  socket_.close(ignored);
#if KAFKAWIRE_HAVE_OPENSSL
  if (tls_) tls_->stream.lowest_layer().close(ignored);
#endif
}

std::optional<int16_t> Connection::negotiated_version(int16_t api_key, int16_t our_min,
                                                      int16_t our_max) const {
  auto it = broker_versions_.find(api_key);
  if (it == broker_versions_.end()) return std::nullopt;
  const int16_t hi = std::min(our_max, it->second.max);
  const int16_t lo = std::max(our_min, it->second.min);
  if (hi < lo) return std::nullopt;
  return hi;
}

std::string Connection::unsupported_text(int16_t api_key, int16_t our_min, int16_t our_max) const {
  std::string api = std::string(proto::api_name(api_key));
  if (api.empty()) api = "api key " + std::to_string(api_key);
  const std::string ours = std::to_string(our_min) + "-" + std::to_string(our_max);
  auto it = broker_versions_.find(api_key);
  if (it == broker_versions_.end())
    return api + ": the broker at " + host_ + ":" + std::to_string(port_) +
           " does not serve it (kafkawire speaks " + ours + ")";
  if (negotiated_version(api_key, our_min, our_max)) return {};
  return api + ": the broker at " + host_ + ":" + std::to_string(port_) + " serves versions " +
         std::to_string(it->second.min) + "-" + std::to_string(it->second.max) + ", kafkawire speaks " + ours;
}

void Connection::start_connect(std::string host, uint16_t port,
                               asio::any_completion_handler<void(std::error_code)> handler) {
  auto ex = asio::get_associated_executor(handler, executor_);
  asio::co_spawn(executor_, connect_and_negotiate(std::move(host), port),
                 [self = shared_from_this(), ex, h = std::move(handler)](std::exception_ptr e,
                                                                         std::error_code ec) mutable {
                   if (e) {
                     self->close_on_exception(e, "connection setup");
                     ec = self->close_error();
                   }
                   asio::dispatch(ex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
                 });
}

asio::awaitable<std::error_code> Connection::connect_and_negotiate(std::string host, uint16_t port) {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();
  if (state_ != State::idle) co_return client_errc::invalid_argument;  // a Connection connects once
  host_ = host;
  port_ = port;
  state_ = State::connecting;
  const std::string where = host + ":" + std::to_string(port);

  asio::ip::tcp::resolver resolver(executor_);
  auto [rec, endpoints] = co_await resolver.async_resolve(host, std::to_string(port), use_nothrow);
  if (state_ == State::closed) co_return close_error_;  // closed while resolving: do not open a socket
  if (rec) {
    close(rec, "resolve " + where + ": " + rec.message());
    co_return close_error_;
  }
  // One deadline for the TCP connect and the ApiVersions exchange after it (submit() gives ApiVersions
  // this deadline while negotiating): a broker that accepts and never answers is given up on as soon as
  // one that never accepts.
  setup_deadline_ = std::chrono::steady_clock::now() + options_.connect_timeout;
  asio::steady_timer timer(executor_, setup_deadline_);
  auto result =
      co_await (asio::async_connect(socket_, endpoints, use_nothrow) || timer.async_wait(use_nothrow));
  if (state_ == State::closed) co_return close_error_;
  if (result.index() == 1) {
    close(client_errc::timeout, "connect to " + where +
                                    ": no answer within socket.connection.setup.timeout.ms (" +
                                    std::to_string(options_.connect_timeout.count()) + " ms)");
    co_return close_error_;
  }
  if (auto [ec, ep] = std::get<0>(result); ec) {
    close(ec, "connect to " + where + ": " + ec.message());
    co_return close_error_;
  }
  socket_.set_option(asio::ip::tcp::no_delay(true));
  if (options_.tls) {
    if (auto ec = co_await start_tls(host)) co_return ec;
  }

  state_ = State::negotiating;
  spawn_background(read_loop(), "read loop");
  spawn_background(watchdog(), "deadline watchdog");
  if (auto ec = co_await negotiate()) {
    if (state_ != State::closed) close(ec, "ApiVersions with " + where + ": " + ec.message());
    co_return close_error_ ? close_error_ : ec;
  }
  if (options_.sasl) {
    state_ = State::authenticating;
    if (auto ec = co_await authenticate()) co_return ec;  // closed, with the reason
  }
  state_ = State::ready;
  co_return std::error_code{};
}

asio::awaitable<std::error_code> Connection::start_tls(const std::string& host) {
  const std::string where = host + ":" + std::to_string(port_);
#if KAFKAWIRE_HAVE_OPENSSL
  using namespace asio::experimental::awaitable_operators;
  tls_ = std::make_unique<TlsStream>(std::move(socket_), options_.tls->ssl);
  boost::system::error_code not_address;
  asio::ip::make_address(host, not_address);
  // SNI names hosts, never IP addresses (RFC 6066).
  if (not_address && SSL_set_tlsext_host_name(tls_->stream.native_handle(), host.c_str()) != 1) {
    close(client_errc::tls_failed, "TLS with " + where + ": cannot set the server name (SNI)");
    co_return close_error_;
  }
  if (options_.tls->verify_hostname) {
    // As asio's host_name_verification, remembering when the name was what failed (OpenSSL only says
    // "certificate verify failed").
    tls_->stream.set_verify_callback([tls = tls_.get(), check = asio::ssl::host_name_verification(host)](
                                         bool preverified, asio::ssl::verify_context& ctx) mutable {
      if (!preverified) return false;
      const bool named = check(preverified, ctx);
      if (!named) tls->name_mismatch = true;
      return named;
    });
  }
  asio::steady_timer timer(executor_, setup_deadline_);
  auto result = co_await (tls_->stream.async_handshake(asio::ssl::stream_base::client, use_nothrow) ||
                          timer.async_wait(use_nothrow));
  if (state_ == State::closed) co_return close_error_;
  if (result.index() == 1) {
    close(client_errc::timeout, "TLS handshake with " + where +
                                    ": not done within socket.connection.setup.timeout.ms (" +
                                    std::to_string(options_.connect_timeout.count()) + " ms)");
    co_return close_error_;
  }
  if (auto [ec] = std::get<0>(result); ec) {
    std::string why = ec.message();
    const long verify = SSL_get_verify_result(tls_->stream.native_handle());
    if (tls_->name_mismatch)
      why += ": the broker's certificate does not name " + host +
             " (ssl.endpoint.identification.algorithm=none turns this check off)";
    else if (verify != X509_V_OK)
      why += std::string(": ") + X509_verify_cert_error_string(verify) +
             (verify == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                      verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                      verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
                  ? " (is ssl.ca.location the CA that signed the broker's certificate?)"
                  : "");
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated)
      why +=
          ": the broker closed the connection without a word of TLS: a plaintext listener (set "
          "security.protocol to PLAINTEXT or SASL_PLAINTEXT)?";
    close(client_errc::tls_failed, "TLS handshake with " + where + ": " + why);
    co_return close_error_;
  }
  if (!tls_->take_over_reading()) {
    close(client_errc::tls_failed, "TLS with " + where + ": OpenSSL cannot make a BIO");
    co_return close_error_;
  }
  co_return std::error_code{};
#else
  close(client_errc::invalid_config, "TLS with " + where +
                                         ": this kafkawire was built without OpenSSL "
                                         "(CMake option KAFKAWIRE_WITH_OPENSSL)");
  co_return close_error_;
#endif
}

asio::awaitable<std::tuple<boost::system::error_code, size_t>> Connection::read_exact(
    asio::mutable_buffer buffer) {
#if KAFKAWIRE_HAVE_OPENSSL
  if (tls_) {
    // Decrypt what has arrived, and read the socket only when that is not enough (tls_stream.hpp).
    auto* out = static_cast<uint8_t*>(buffer.data());
    size_t got = 0;
    while (got < buffer.size()) {
      boost::system::error_code ec;
      const long n = tls_->decrypt(out + got, buffer.size() - got, ec);
      if (n < 0) co_return std::tuple{ec, got};
      if (n > 0) {
        got += static_cast<size_t>(n);
        continue;
      }
      // OpenSSL wants more than `in` holds. (It has taken all there was: keeping what it has not is for
      // safety only.)
      TlsInput& in = tls_->in;
      in.end = std::copy(in.bytes.begin() + in.begin, in.bytes.begin() + in.end, in.bytes.begin()) -
               in.bytes.begin();
      in.begin = 0;
      if (in.end == in.bytes.size()) in.bytes.resize(2 * in.bytes.size());
      auto [read_ec, read] = co_await tls_->stream.next_layer().async_read_some(
          asio::buffer(in.bytes.data() + in.end, in.bytes.size() - in.end), use_nothrow);
      if (read_ec) co_return std::tuple{read_ec, got};
      in.end += read;
    }
    co_return std::tuple{boost::system::error_code{}, got};
  }
#endif
  co_return co_await asio::async_read(socket_, buffer, until_full, use_nothrow);
}

asio::awaitable<std::error_code> Connection::negotiate() {
  // Ask at our highest ApiVersions version. A broker that does not know it answers in the v0 format with
  // UNSUPPORTED_VERSION and its own range for key 18; then ask again at the highest we share.
  int16_t version = proto::ApiVersionsRequest::max_version;
  for (int attempt = 0; attempt < 2; ++attempt) {
    proto::ApiVersionsRequest req;
    req.client_software_name = options_.software_name;
    req.client_software_version = options_.software_version;
    std::vector<uint8_t> body = proto::encode(req, version);
    auto [ec, frame] =
        co_await async_send_raw(proto::kApiVersionsKey, version, std::move(body), true, use_nothrow);
    if (ec) co_return ec;
    proto::Reader peek(frame.body());
    const int16_t error_code = peek.i16();
    proto::ApiVersionsResponse resp;
    const bool unsupported = as_errc(error_code) == kafka_errc::unsupported_version;
    const int16_t decode_version = unsupported ? 0 : version;
    if (auto dec = proto::decode(frame.body(), resp, decode_version)) co_return dec;
    if (unsupported) {
      auto it = std::find_if(resp.api_keys.begin(), resp.api_keys.end(),
                             [](const auto& k) { return k.api_key == proto::kApiVersionsKey; });
      if (it == resp.api_keys.end() || it->max_version < 0)
        co_return make_error_code(kafka_errc::unsupported_version);
      version = std::min(it->max_version, proto::ApiVersionsRequest::max_version);
      continue;
    }
    if (error_code != 0) co_return make_kafka_error(error_code);
    broker_versions_.clear();
    for (const auto& k : resp.api_keys)
      broker_versions_[k.api_key] = VersionRange{k.min_version, k.max_version};
    finalized_features_.clear();
    for (const auto& f : resp.finalized_features) finalized_features_[f.name] = f.max_version_level;
    co_return std::error_code{};
  }
  co_return make_error_code(kafka_errc::unsupported_version);
}

std::optional<int16_t> Connection::finalized_feature(std::string_view name) const {
  auto it = finalized_features_.find(name);
  if (it == finalized_features_.end()) return std::nullopt;
  return it->second;
}

void Connection::start_raw(int16_t api_key, int16_t version, std::vector<uint8_t> body, bool expect_response,
                           FrameHandler handler) {
  // ApiVersions is the one request that may go out before negotiation finished.
  if (state_ != State::ready && !(state_ == State::negotiating && api_key == proto::kApiVersionsKey)) {
    fail(std::move(handler), not_ready_error());
    return;
  }
  bool flexible_request = false, flexible_response = false;
  proto::with_api(api_key, [&](auto api) {
    using A = decltype(api);
    flexible_request = proto::is_flexible<typename A::request>(version);
    flexible_response = proto::response_header_version<typename A::response>(version) == 1;
  });
  const int32_t id = next_correlation_id_++;
  std::error_code ec;
  auto frame = make_frame(
      api_key, version, flexible_request ? 2 : 1, id, [&](proto::Writer& w) { w.raw(Bytes(body)); }, ec);
  submit(
      std::move(frame),
      Pending{id, api_key, version, static_cast<int16_t>(flexible_response ? 1 : 0), {}, std::move(handler)},
      expect_response, {});
}

void Connection::submit(std::vector<uint8_t> frame, Pending pending, bool expect_response,
                        std::chrono::milliseconds extra_wait) {
  if (state_ == State::closed || state_ == State::idle) {
    fail(std::move(pending.handler), not_ready_error());
    return;
  }
  pending.deadline = state_ == State::negotiating || state_ == State::authenticating
                         ? setup_deadline_
                         : std::chrono::steady_clock::now() + options_.request_timeout + extra_wait;
  if (reauthenticating_ && pending.api_key != proto::SaslHandshakeRequest::api_key &&
      pending.api_key != proto::SaslAuthenticateRequest::api_key) {
    // Nothing may come between the SASL requests of a re-authentication: this goes after them.
    held_.push_back({std::move(frame), std::move(pending), expect_response});
    return;
  }
  enqueue(std::move(frame), std::move(pending), expect_response);
}

void Connection::enqueue(std::vector<uint8_t> frame, Pending pending, bool expect_response) {
  outbox_.push_back(std::move(frame));
  if (expect_response) {
    const bool earliest = in_flight_.empty() || pending.deadline < watchdog_timer_.expiry();
    in_flight_.push_back(std::move(pending));
    if (earliest) watchdog_timer_.cancel();  // the watchdog re-arms for the new earliest deadline
  } else {
    // Nothing will come back (Produce acks=0): done once it is handed to the socket, which for the
    // caller is as good as now; a write error closes the connection for everyone else.
    Frame none;
    none.api_key = pending.api_key;
    none.version = pending.version;
    auto h = std::move(pending.handler);
    asio::post(executor_, [h = std::move(h), none]() mutable { std::move(h)(std::error_code{}, none); });
  }
  write_next();
}

void Connection::release_held() {
  auto held = std::move(held_);
  held_.clear();
  for (auto& h : held) enqueue(std::move(h.frame), std::move(h.pending), h.expect_response);
}

void Connection::write_next() {
  if (writing_ || outbox_.empty() || state_ == State::closed) return;
  writing_ = true;
  // The write owns its frame until it completes: close() empties the outbox while the socket may still be
  // reading from the frame being written, so that one lives in the completion handler, not in the outbox.
  // (A vector keeps its heap block when moved, so the buffer below stays valid inside the handler.)
  std::vector<uint8_t> frame = std::move(outbox_.front());
  outbox_.pop_front();
  const auto buffer = asio::buffer(frame);
  auto on_written = [self = shared_from_this(), frame = std::move(frame)](boost::system::error_code ec,
                                                                          size_t) {
    self->writing_ = false;
    if (self->state_ == State::closed) return;
    if (ec) {
      self->close(ec, "write to " + self->host_ + ":" + std::to_string(self->port_) + ": " + ec.message());
      return;
    }
    self->write_next();
  };
#if KAFKAWIRE_HAVE_OPENSSL
  if (tls_) {
    asio::async_write(tls_->stream, buffer, std::move(on_written));
    return;
  }
#endif
  asio::async_write(socket_, buffer, std::move(on_written));
}

// Large frames (Fetch answers) are read into recycled buffers: a buffer no one else holds any more is
// reused, so a busy consumer does not zero and page-fault a fresh megabyte buffer for every Fetch. At most
// kSpareFrames buffers of up to kMaxSpareBytes each stay allocated per connection.
std::shared_ptr<std::vector<uint8_t>> Connection::frame_buffer(size_t size) {
  constexpr size_t kMinSpareBytes = 64 * 1024, kMaxSpareBytes = 16 * 1024 * 1024, kSpareFrames = 4;
#if defined(__SANITIZE_ADDRESS__)
  constexpr bool kRecycle = false;  // a fresh buffer per frame, so ASan sees a view kept past its frame
#else
  constexpr bool kRecycle = true;
#endif
  if (!in_flight_.empty() && testing::before_frame_allocation)
    testing::before_frame_allocation(in_flight_.front().api_key, size);
  if (!kRecycle || size < kMinSpareBytes || size > kMaxSpareBytes)
    return std::make_shared<std::vector<uint8_t>>(size);
  std::shared_ptr<std::vector<uint8_t>> buffer;
  for (auto& spare : spare_frames_)
    if (spare.use_count() == 1 && (!buffer || spare->capacity() > buffer->capacity())) buffer = spare;
  if (!buffer) {
    buffer = std::make_shared<std::vector<uint8_t>>();
    if (spare_frames_.size() < kSpareFrames) spare_frames_.push_back(buffer);
  }
  buffer->resize(size);  // zeroes only what grows past the buffer's last size
  return buffer;
}

asio::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  const std::string where = host_ + ":" + std::to_string(port_);
  while (state_ != State::closed) {
    uint8_t size_bytes[4];
    auto [ec, n] = co_await read_exact(asio::buffer(size_bytes));
    if (state_ == State::closed) co_return;
    if (ec) {
#if KAFKAWIRE_HAVE_OPENSSL
      // An alert from the broker's TLS (with TLS 1.3 a refused client certificate arrives only now, after
      // the handshake): not a connection to try again as it is.
      if (ec.category() == asio::error::get_ssl_category()) {
        const std::string what = ec.message();
        close(client_errc::tls_failed,
              "TLS with " + where + ": " + what +
                  (what.find("certificate") != std::string::npos && !options_.tls->has_client_certificate
                       ? " (the broker wants a client certificate: ssl.certificate.location and "
                         "ssl.key.location)"
                       : ""));
        co_return;
      }
#endif
      std::string why = ec == asio::error::eof ? "closed by the broker" : ec.message();
      // A SASL listener answers ApiVersions to anyone, then closes the connection at the first request
      // that is not SaslHandshake: all a client configured without SASL ever sees of it.
      if (ec == asio::error::eof && !options_.sasl && answers_after_setup_ == 0 && !in_flight_.empty() &&
          in_flight_.front().api_key != proto::ApiVersionsRequest::api_key)
        why +=
            " after answering ApiVersions and nothing else, as a SASL listener does to a client that does "
            "not authenticate (set security.protocol to SASL_PLAINTEXT or SASL_SSL, and sasl.mechanism)?";
      close(client_errc::disconnected, "connection to " + where + " lost: " + why);
      co_return;
    }
    const uint32_t size = boost::endian::load_big_u32(size_bytes);
    // A TLS record (an alert or a handshake: type 21 or 22, version 3.x) where a Kafka frame should be:
    // a TLS listener reached without TLS.
    if (!tls_ && (size_bytes[0] == 21 || size_bytes[0] == 22) && size_bytes[1] == 3) {
      close(client_errc::malformed, "the broker at " + where +
                                        " answered with TLS: it is a TLS listener (set security.protocol to "
                                        "SSL or SASL_SSL)");
      co_return;
    }
    if (size > uint32_t{INT32_MAX}) {  // an int32 size below zero: not Kafka framing, or out of sync
      close(client_errc::malformed, "response frame from " + where + " has a negative size (" +
                                        std::to_string(static_cast<int32_t>(size)) +
                                        "): the stream is not Kafka framing or is out of sync");
      co_return;
    }
    if (size > options_.receive_message_max_bytes || size < 4) {
      close(size < 4 ? std::error_code(client_errc::malformed)
                     : std::error_code(client_errc::message_too_large),
            "response frame of " + std::to_string(size) + " bytes from " + where +
                (size < 4 ? " is too short for a header"
                          : " is larger than receive.message.max.bytes (" +
                                std::to_string(options_.receive_message_max_bytes) + ")"));
      co_return;
    }
    auto buffer = frame_buffer(size);
    auto [ec2, n2] = co_await read_exact(asio::buffer(*buffer));
    if (state_ == State::closed) co_return;
    if (ec2) {
      close(client_errc::disconnected, "connection to " + where + " lost mid-frame: " + ec2.message());
      co_return;
    }
    proto::Reader r{Bytes(*buffer)};
    const int32_t correlation_id = r.i32();
    if (in_flight_.empty() || in_flight_.front().correlation_id != correlation_id) {
      close(
          client_errc::unknown_correlation_id,
          "response from " + where + " with correlation id " + std::to_string(correlation_id) +
              ", expected " +
              (in_flight_.empty() ? std::string("none") : std::to_string(in_flight_.front().correlation_id)));
      co_return;
    }
    Pending p = std::move(in_flight_.front());
    in_flight_.pop_front();
    if (p.api_key != proto::ApiVersionsRequest::api_key &&
        p.api_key != proto::SaslHandshakeRequest::api_key &&
        p.api_key != proto::SaslAuthenticateRequest::api_key)
      ++answers_after_setup_;
    Frame f;
    f.api_key = p.api_key;
    f.version = p.version;
    std::error_code header_error;
    if (p.response_header_version >= 1) {
      proto::Decoder d(r, 1, true);
      d.tags();
      header_error = r.error();
    }
    f.body_offset = r.offset();
    f.buffer = std::move(buffer);
    auto h = std::move(p.handler);
    std::move(h)(header_error, std::move(f));
  }
}

asio::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (state_ != State::closed) {
    auto earliest = std::chrono::steady_clock::time_point::max();
    for (const auto& p : in_flight_) earliest = std::min(earliest, p.deadline);
    if (earliest <= std::chrono::steady_clock::now()) {
      if (state_ == State::negotiating || state_ == State::authenticating) {  // under the setup deadline
        close(client_errc::timeout, "connection setup with " + host_ + ":" + std::to_string(port_) +
                                        ": no answer to " +
                                        std::string(proto::api_name(in_flight_.front().api_key)) +
                                        " within socket.connection.setup.timeout.ms (" +
                                        std::to_string(options_.connect_timeout.count()) + " ms)");
        co_return;
      }
      const auto& late =
          *std::min_element(in_flight_.begin(), in_flight_.end(),
                            [](const Pending& a, const Pending& b) { return a.deadline < b.deadline; });
      std::string api(proto::api_name(late.api_key));
      close(client_errc::timeout, api + " v" + std::to_string(late.version) + " to " + host_ + ":" +
                                      std::to_string(port_) +
                                      ": no response within its deadline (request.timeout.ms " +
                                      std::to_string(options_.request_timeout.count()) + ")");
      co_return;
    }
    watchdog_timer_.expires_at(earliest);
    co_await watchdog_timer_.async_wait(use_nothrow);
  }
}

void Connection::set_correlation_id(std::vector<uint8_t>& frame, int32_t id) {
  // int32 size, int16 api key, int16 version, then the int32 correlation id.
  boost::endian::store_big_s32(frame.data() + 8, id);
}

void Connection::spawn_background(asio::awaitable<void> work, std::string_view name) {
  asio::co_spawn(executor_, std::move(work), [self = shared_from_this(), name](std::exception_ptr e) {
    if (e) self->close_on_exception(e, name);
  });
}

void Connection::close_on_exception(std::exception_ptr e, std::string_view where) {
  const std::string what = describe_exception(e);
  close(client_errc::internal_error, "connection to " + host_ + ":" + std::to_string(port_) +
                                         " failed internally: its " + std::string(where) +
                                         " stopped on an exception: " + what);
}

void Connection::fail(FrameHandler handler, std::error_code ec) {
  asio::post(executor_, [h = std::move(handler), ec]() mutable { std::move(h)(ec, Frame{}); });
}

void Connection::close(std::error_code reason, std::string text) {
  if (state_ == State::closed) return;
  state_ = State::closed;
  close_error_ = reason ? reason : std::error_code(client_errc::operation_aborted);
  close_reason_ = text.empty() ? close_error_.message() : std::move(text);
  boost::system::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
#if KAFKAWIRE_HAVE_OPENSSL
  if (tls_) {
    tls_->stream.lowest_layer().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    tls_->stream.lowest_layer().close(ignored);
  }
#endif
  watchdog_timer_.cancel();
  outbox_.clear();
  auto pending = std::move(in_flight_);
  in_flight_.clear();
  for (auto& p : pending) fail(std::move(p.handler), close_error_);
  reauth_timer_.cancel();
  auto held = std::move(held_);
  held_.clear();
  for (auto& h : held) fail(std::move(h.pending.handler), close_error_);
}

}  // namespace kafkawire::net
