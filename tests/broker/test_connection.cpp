// Connection against the real broker: negotiation, pipelining, and what an unsupported version does.
#include <algorithm>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>

#include "broker_env.hpp"
#include "kafkawire/net/connection.hpp"
#include "support/run.hpp"

namespace asio = boost::asio;
using namespace kafkawire;
using kafkawire::testing::run_until;

namespace {
std::shared_ptr<net::Connection> connect(asio::io_context& io) {
  auto [host, port] = kafkawire::testing::first_broker();
  auto c = net::Connection::create(io.get_executor());
  auto f = c->async_connect(host, port, asio::use_future);
  auto ec = run_until(io, f);
  INFO(c->close_reason());
  REQUIRE_FALSE(ec);
  return c;
}
}  // namespace

TEST_CASE("connect negotiates ApiVersions with the real broker", "[broker][net]") {
  asio::io_context io;
  auto c = connect(io);
  const auto& v = c->broker_versions();
  REQUIRE(v.count(18));
  CHECK(v.at(18).max >= 3);
  // The highest version both sides serve (4.4 brokers: v5; 3.9 and 4.0: v4).
  const int16_t shared = std::min<int16_t>(v.at(18).max, protocol::ApiVersionsRequest::max_version);
  CHECK(shared >= 4);
  CHECK(c->negotiated_version<protocol::ApiVersionsRequest>() == shared);
  CHECK(c->negotiated_version<protocol::FetchRequest>().has_value());
}

TEST_CASE("a hundred pipelined requests come back in order", "[broker][net]") {
  asio::io_context io;
  auto c = connect(io);
  std::vector<std::future<std::tuple<std::error_code, net::Reply<protocol::ApiVersionsResponse>>>> futures;
  for (int i = 0; i < 100; ++i)
    futures.push_back(c->async_send(kafkawire::testing::api_versions_request(), asio::use_future));
  for (auto& f : futures) {
    auto [ec, reply] = run_until(io, f);
    REQUIRE_FALSE(ec);
    CHECK(reply->error_code == 0);
    CHECK(!reply->api_keys.empty());
  }
}

TEST_CASE("every ApiVersions version the broker serves, including the v0 fallback", "[broker][net]") {
  asio::io_context io;
  auto c = connect(io);
  for (int16_t v = 0; v <= protocol::ApiVersionsRequest::max_version; ++v) {
    INFO("ApiVersions v" << v);
    auto f = c->async_send_at(kafkawire::testing::api_versions_request(), v, asio::use_future);
    auto [ec, reply] = run_until(io, f);
    REQUIRE_FALSE(ec);
    CHECK(reply->error_code == 0);
  }
}
