// Connection behaviour against a scripted server on loopback, for faults a real broker cannot be made to
// show: garbage correlation ids, oversized frames, negative frame sizes, a server that never answers (after
// ApiVersions, or at all), a refused port.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>
#include <new>
#include <stdexcept>

#include "kafkawire/net/connection.hpp"
#include "kafkawire/net/pool.hpp"
#include "support/frame_faults.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using namespace std::chrono_literals;
using asio::ip::tcp;
using kafkawire::testing::FailNextFrameAllocation;
using kafkawire::testing::run_until;

namespace {

// A fake broker: answers ApiVersions properly, then does `mode` with every later request. Each connection
// it accepts is served the same way.
enum class Misbehave {
  none,
  wrong_correlation_id,
  oversized_frame,
  negative_size,
  silence,
  stop_reading,
  close
};

struct FakeBroker {
  FakeBroker(asio::io_context& io, Misbehave mode) : io(io), mode(mode) {}
  asio::io_context& io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  Misbehave mode;
  int accepted = 0;
  std::vector<std::vector<std::string>> metadata_topics;  // Misbehave::none: each Metadata request's topics
  std::vector<std::shared_ptr<tcp::socket>> idle;         // Misbehave::stop_reading: open, never read again
  uint16_t port() const { return acceptor.local_endpoint().port(); }

  void start() { asio::co_spawn(io, accept(), asio::detached); }

  asio::awaitable<void> accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      ++accepted;
      asio::co_spawn(io, serve(std::move(sock)), asio::detached);
    }
  }

  asio::awaitable<void> serve(tcp::socket sock) {
    for (int n = 0;; ++n) {
      uint8_t size_bytes[4];
      auto [e1, r1] =
          co_await asio::async_read(sock, asio::buffer(size_bytes), asio::as_tuple(asio::use_awaitable));
      if (e1) co_return;
      const uint32_t size = uint32_t{size_bytes[0]} << 24 | uint32_t{size_bytes[1]} << 16 |
                            uint32_t{size_bytes[2]} << 8 | size_bytes[3];
      std::vector<uint8_t> req(size);
      auto [e2, r2] = co_await asio::async_read(sock, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
      if (e2) co_return;
      protocol::Reader r{protocol::Bytes(req)};
      const int16_t key = r.i16();
      const int16_t version = r.i16();
      const int32_t correlation_id = r.i32();
      protocol::Writer w;
      w.i32(0);
      if (key == protocol::kApiVersionsKey) {
        w.i32(correlation_id);
        protocol::ApiVersionsResponse resp;
        resp.api_keys = {{18, 0, 4}, {3, 0, 13}};
        protocol::encode(w, resp, version);
      } else if (mode == Misbehave::none && key == protocol::MetadataRequest::api_key) {
        // An empty cluster, after noting which topics were asked for.
        const bool flexible = version >= protocol::MetadataRequest::first_flexible;
        protocol::RequestHeader h;
        protocol::Reader body{protocol::Bytes(req)};
        REQUIRE_FALSE(protocol::decode(body, h, flexible ? 2 : 1));
        protocol::MetadataRequest m;
        REQUIRE_FALSE(protocol::decode(body, m, version));
        auto& names = metadata_topics.emplace_back();
        if (m.topics)
          for (const auto& t : *m.topics) names.push_back(t.name.value_or(""));
        w.i32(correlation_id);
        if (flexible) w.uvarlong(0);  // response header tags
        protocol::encode(w, protocol::MetadataResponse{}, version);
      } else if (mode == Misbehave::stop_reading) {
        idle.push_back(std::make_shared<tcp::socket>(std::move(sock)));
        co_return;
      } else if (mode == Misbehave::wrong_correlation_id) {
        w.i32(correlation_id + 1000);
      } else if (mode == Misbehave::oversized_frame) {
        w.i32(correlation_id);
        w.patch_i32(0, 200 * 1024 * 1024);
        co_await asio::async_write(sock, asio::buffer(w.buffer()), asio::as_tuple(asio::use_awaitable));
        continue;
      } else if (mode == Misbehave::negative_size) {
        w.i32(correlation_id);
        w.patch_i32(0, -16);  // 0xfffffff0
        co_await asio::async_write(sock, asio::buffer(w.buffer()), asio::as_tuple(asio::use_awaitable));
        continue;
      } else if (mode == Misbehave::silence) {
        continue;
      } else {
        sock.close();
        co_return;
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      co_await asio::async_write(sock, asio::buffer(w.buffer()), asio::as_tuple(asio::use_awaitable));
    }
  }
};

// Accepts connections and never sends a byte (nor closes them): a broker that hangs, or a port some other
// program listens on.
struct SilentListener {
  explicit SilentListener(asio::io_context& io)
      : acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, accept_all(), asio::detached);
  }
  tcp::acceptor acceptor;
  std::vector<tcp::socket> accepted;
  uint16_t port() const { return acceptor.local_endpoint().port(); }
  asio::awaitable<void> accept_all() {
    for (;;) {
      auto [ec, sock] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      accepted.push_back(std::move(sock));
    }
  }
};

std::shared_ptr<net::Connection> connect(asio::io_context& io, uint16_t port,
                                         net::ConnectionOptions opts = {}) {
  auto c = net::Connection::create(io.get_executor(), opts);
  auto f = c->async_connect("127.0.0.1", port, asio::use_future);
  REQUIRE_FALSE(run_until(io, f));
  REQUIRE(c->is_ready());
  return c;
}

}  // namespace

TEST_CASE("a refused port fails the connect with a message naming the address", "[net]") {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const uint16_t port = a.local_endpoint().port();
  a.close();  // nothing listens there now
  auto c = net::Connection::create(io.get_executor());
  auto f = c->async_connect("127.0.0.1", port, asio::use_future);
  auto ec = run_until(io, f, 5000ms);
  CHECK(ec);
  CHECK(c->state() == net::Connection::State::closed);
  CHECK(c->close_reason().find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
}

TEST_CASE("negotiation picks the highest shared version and refuses the rest locally", "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::silence};
  fake.start();
  auto c = connect(io, fake.port());
  CHECK(c->negotiated_version(3, 0, 13) == 13);
  CHECK(c->negotiated_version(3, 0, 9) == 9);
  CHECK_FALSE(c->negotiated_version(1, 4, 18));  // the fake serves no Fetch
  CHECK(c->unsupported_text(1, 4, 18).find("Fetch") != std::string::npos);
  // A request the broker does not serve fails here and is never sent.
  auto f = c->async_send(protocol::FetchRequest{}, asio::use_future);
  CHECK(std::get<0>(run_until(io, f)) == client_errc::unsupported_version);
  CHECK(c->is_ready());
}

TEST_CASE("a response with an unknown correlation id closes the connection and fails all in flight",
          "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::wrong_correlation_id};
  fake.start();
  auto c = connect(io, fake.port());
  std::vector<std::error_code> results;
  for (int i = 0; i < 3; ++i)
    c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                      [&](std::error_code ec, net::Frame) { results.push_back(ec); });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (results.size() < 3 && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  REQUIRE(results.size() == 3);
  for (auto& ec : results) CHECK(ec == client_errc::unknown_correlation_id);
  CHECK(c->close_reason().find("correlation id") != std::string::npos);
}

TEST_CASE("a frame over receive.message.max.bytes closes the connection before it is read", "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::oversized_frame};
  fake.start();
  auto c = connect(io, fake.port());
  std::error_code result;
  bool done = false;
  c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                    [&](std::error_code ec, net::Frame) { result = ec, done = true; });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  REQUIRE(done);
  CHECK(result == client_errc::message_too_large);
  CHECK(c->close_reason().find("receive.message.max.bytes") != std::string::npos);
}

TEST_CASE("a broker that never answers: the request times out, nothing hangs", "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::silence};
  fake.start();
  net::ConnectionOptions opts;
  opts.request_timeout = 300ms;
  auto c = connect(io, fake.port(), opts);
  std::error_code result;
  bool done = false;
  const auto start = std::chrono::steady_clock::now();
  c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                    [&](std::error_code ec, net::Frame) { result = ec, done = true; });
  while (!done && std::chrono::steady_clock::now() < start + 5s) io.run_for(10ms);
  REQUIRE(done);
  CHECK(result == client_errc::timeout);
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(c->state() == net::Connection::State::closed);
}

TEST_CASE("the broker closing the socket fails every request in flight with disconnected", "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::close};
  fake.start();
  auto c = connect(io, fake.port());
  std::vector<std::error_code> results;
  for (int i = 0; i < 5; ++i)
    c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                      [&](std::error_code ec, net::Frame) { results.push_back(ec); });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (results.size() < 5 && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  REQUIRE(results.size() == 5);
  for (auto& ec : results) CHECK(ec == client_errc::disconnected);
  // Later requests fail at once with the same error, without touching a socket.
  auto f = c->async_send(protocol::ApiVersionsRequest{}, asio::use_future);
  CHECK(std::get<0>(run_until(io, f)) == client_errc::disconnected);
}

TEST_CASE("a negative frame size closes the connection with its own message", "[net]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::negative_size};
  fake.start();
  auto c = connect(io, fake.port());
  std::error_code result;
  bool done = false;
  c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                    [&](std::error_code ec, net::Frame) { result = ec, done = true; });
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
  REQUIRE(done);
  CHECK(result == client_errc::malformed);
  CHECK(c->state() == net::Connection::State::closed);
  INFO(c->close_reason());
  CHECK(c->close_reason().find("negative size (-16)") != std::string::npos);
  CHECK(c->close_reason().find("receive.message.max.bytes") == std::string::npos);
}

TEST_CASE("a broker that accepts and never answers ApiVersions: connect fails at the setup timeout",
          "[net]") {
  asio::io_context io;
  SilentListener silent{io};
  net::ConnectionOptions opts;
  opts.connect_timeout = 300ms;
  opts.request_timeout = 60s;  // were ApiVersions under request.timeout.ms, the bound below would fail
  auto c = net::Connection::create(io.get_executor(), opts);
  auto f = c->async_connect("127.0.0.1", silent.port(), asio::use_future);
  CHECK(run_until(io, f, 20000ms) == client_errc::timeout);
  CHECK(silent.accepted.size() == 1);  // the TCP connect itself succeeded
  CHECK(c->state() == net::Connection::State::closed);
  INFO(c->close_reason());
  CHECK(c->close_reason().find("ApiVersions") != std::string::npos);
  CHECK(c->close_reason().find("socket.connection.setup.timeout.ms (300 ms)") != std::string::npos);
}

TEST_CASE("closing a pool fails a connect still under way at once, not at the setup timeout", "[net]") {
  asio::io_context io;
  SilentListener silent{io};
  net::PoolOptions opts;
  opts.bootstrap = {{"127.0.0.1", silent.port()}};
  opts.connection.connect_timeout = 60s;
  auto pool = net::Pool::create(io.get_executor(), opts);
  auto f = pool->async_connection(-1, net::Purpose::general, asio::use_future);
  while (silent.accepted.empty()) io.run_one_for(100ms);  // connected; now waiting for ApiVersions
  pool->close();
  auto [ec, conn] = run_until(io, f, 10000ms);  // 60 s were it not closed
  CHECK(ec == client_errc::operation_aborted);
  CHECK(conn == nullptr);
}

TEST_CASE("the pool reads metadata.max.age.ms: metadata older than that needs a refresh", "[net]") {
  asio::io_context io;
  net::PoolOptions opts;
  opts.bootstrap = {{"127.0.0.1", 1}};
  opts.metadata_max_age = 1000ms;
  auto pool = net::Pool::create(io.get_executor(), opts);
  CHECK(pool->needs_metadata("t"));  // unknown
  protocol::MetadataResponse m;
  m.topics.resize(1);
  m.topics[0].name = "t";
  const auto t0 = std::chrono::steady_clock::now();
  pool->metadata().update(m, t0);
  CHECK_FALSE(pool->needs_metadata("t", t0 + 999ms));
  CHECK(pool->needs_metadata("t", t0 + 1000ms));
}

namespace {

template <class F>
bool run_until_true(asio::io_context& io, F done, std::chrono::milliseconds bound = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
  return done();
}

protocol::MetadataRequest metadata_request(std::vector<std::string> topics) {
  protocol::MetadataRequest m;
  m.topics.emplace();
  for (auto& t : topics) m.topics->emplace_back().name = std::move(t);
  return m;
}

}  // namespace

TEST_CASE("bad_alloc in the read loop fails the connection and its requests; the pool then reconnects",
          "[net][exception]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::none};
  fake.start();
  net::PoolOptions opts;
  opts.bootstrap = {{"127.0.0.1", fake.port()}};
  auto pool = net::Pool::create(io.get_executor(), opts);
  auto fc = pool->async_connection(-1, net::Purpose::general, asio::use_future);
  auto [cec, first] = run_until(io, fc);
  REQUIRE_FALSE(cec);

  std::vector<std::error_code> results;
  {
    FailNextFrameAllocation fail(protocol::MetadataRequest::api_key);
    for (int i = 0; i < 3; ++i)
      first->async_send(metadata_request({"t"}), [&](std::error_code ec, auto) { results.push_back(ec); });
    // Without the read loop's exception reaching the connection, these would wait for request.timeout.ms
    // (30 s) on a connection that reads nothing any more.
    REQUIRE(run_until_true(io, [&] { return results.size() == 3; }));
    CHECK(fail.thrown());
  }
  for (auto& ec : results) CHECK(ec == client_errc::internal_error);
  CHECK(first->state() == net::Connection::State::closed);
  CHECK(first->close_error() == client_errc::internal_error);
  INFO(first->close_reason());
  CHECK(first->close_reason().find("failed internally") != std::string::npos);
  CHECK(first->close_reason().find("read loop") != std::string::npos);
  CHECK(first->close_reason().find("bad_alloc") != std::string::npos);

  // The next request goes out on a new connection, and is answered.
  auto again = pool->async_send(-1, net::Purpose::general, metadata_request({"u"}), asio::use_future);
  auto [ec, reply] = run_until(io, again);
  CHECK_FALSE(ec);
  CHECK(fake.accepted == 2);
  auto fc2 = pool->async_connection(-1, net::Purpose::general, asio::use_future);
  auto [nec, second] = run_until(io, fc2);
  REQUIRE_FALSE(nec);
  CHECK(second != first);
  CHECK(fake.metadata_topics.back() == std::vector<std::string>{"u"});
  pool->close();
}

TEST_CASE(
    "a completion handler that throws stops the read loop: the others in flight fail with internal_error",
    "[net][exception]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::none};
  fake.start();
  auto c = connect(io, fake.port());
  std::vector<std::error_code> results;
  c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                    [](std::error_code, net::Frame) { throw std::runtime_error("the handler threw"); });
  for (int i = 0; i < 2; ++i)
    c->async_send_raw(3, 0, {0, 0, 0, 0}, true,
                      [&](std::error_code ec, net::Frame) { results.push_back(ec); });
  REQUIRE(run_until_true(io, [&] { return results.size() == 2; }));
  for (auto& ec : results) CHECK(ec == client_errc::internal_error);
  CHECK(c->state() == net::Connection::State::closed);
  INFO(c->close_reason());
  CHECK(c->close_reason().find("the handler threw") != std::string::npos);
}

TEST_CASE("a deferred send owns its request: launched after the request is gone, it sends what it was given",
          "[net][lifetime]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::none};
  fake.start();
  auto c = connect(io, fake.port());
  const std::string long_name(200, 'x');  // on the heap, so a dangling request would be a use-after-free
  // The request is a temporary: it is destroyed at the end of this statement, before the launch below.
  auto op = c->async_send(metadata_request({long_name, "second-" + long_name}), asio::deferred);
  std::vector<std::string> scribble(8, std::string(256, '#'));  // reuse whatever memory was freed
  auto f = std::move(op)(asio::use_future);
  auto [ec, reply] = run_until(io, f);
  CHECK_FALSE(ec);
  REQUIRE(fake.metadata_topics.size() == 1);
  CHECK(fake.metadata_topics[0] == std::vector<std::string>{long_name, "second-" + long_name});
}

TEST_CASE("close() during a large write: the write keeps its frame until it completes", "[net][lifetime]") {
  asio::io_context io;
  FakeBroker fake{io, Misbehave::stop_reading};
  fake.start();
  auto c = connect(io, fake.port());
  // 64 MiB: far more than the socket buffers take while the fake reads nothing, so the write stays in
  // flight until close().
  std::vector<uint8_t> body(64 * 1024 * 1024, 0x5a);
  std::error_code result;
  bool done = false;
  c->async_send_raw(3, 0, std::move(body), true,
                    [&](std::error_code ec, net::Frame) { result = ec, done = true; });
  io.restart();
  io.run_for(200ms);  // the write starts, fills the socket buffers and waits
  REQUIRE_FALSE(done);
  c->close();
  std::weak_ptr<net::Connection> weak = c;
  c.reset();  // nothing but the write (and the loops) hold the connection now
  // Memory freed by close() is reused at once; were the frame among it, the write would send this instead.
  std::vector<std::vector<uint8_t>> scribble(4, std::vector<uint8_t>(16 * 1024 * 1024, 0xee));
  REQUIRE(run_until_true(io, [&] { return done && weak.expired(); }));  // the write has completed too
  CHECK(result == client_errc::operation_aborted);
}
