// One client connection of `kafkawire spy`: its upstream connection, the two forwarding loops, and what is
// printed about each request/response pair. Internal to the spy (spy_proxy.cpp creates sessions).
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "spy_proxy.hpp"
#include "spy_rewrite.hpp"

namespace kafkawire::cli {

class SpyProxy::Session : public std::enable_shared_from_this<Session> {
 public:
  using tcp = boost::asio::ip::tcp;

  Session(std::shared_ptr<SpyProxy> proxy, uint64_t id, tcp::socket client, std::string host, uint16_t port);

  // Connects upstream and starts forwarding both ways.
  void start();
  // Closes both sockets (once) and says why.
  void close(const std::string& why);

 private:
  struct Pending {
    int16_t key = -1;
    int16_t version = -1;
    size_t request_bytes = 0;
    std::string summary;
    std::chrono::steady_clock::time_point sent;
  };
  template <class T>
  using awaitable = boost::asio::awaitable<T>;

  std::string tag() const { return "#" + std::to_string(id_); }

  awaitable<void> run();
  awaitable<boost::system::error_code> stream(tcp::socket& from, tcp::socket& to, size_t n);
  awaitable<void> requests();   // client -> broker
  awaitable<void> responses();  // broker -> client

  void dump(bool request, int16_t key, int16_t version, int32_t corr, const std::vector<uint8_t>& frame);
  void dump_skipped(bool request, int16_t key, int16_t version, int32_t corr, size_t size);
  void decode_error(const std::string& what);
  void on_large_request(const uint8_t* head, size_t n, size_t size);
  void on_large_response(const uint8_t* head, size_t n, size_t size);
  void on_request(const std::vector<uint8_t>& frame);
  // May replace the frame by one with the broker addresses rewritten.
  void on_response(std::vector<uint8_t>& frame);

  std::shared_ptr<SpyProxy> proxy_;
  uint64_t id_;
  tcp::socket client_;
  tcp::socket upstream_;
  std::string host_;
  uint16_t port_;
  bool closed_ = false;
  std::unordered_map<int32_t, Pending> pending_;
  spy::AddressRewriter rewriter_;
  std::string sasl_mechanism_;  // what the last SaslHandshake asked for: how --dump redacts SaslAuthenticate
};

}  // namespace kafkawire::cli
