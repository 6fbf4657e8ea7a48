// Connections to the brokers of one cluster, and what the client knows about that cluster.
//
// - Keyed by (broker node id, purpose). Fetch traffic and group/coordinator traffic get connections of
//   their own, so a Fetch parked on the broker for fetch.max.wait.ms never delays a Heartbeat behind it
//   (a broker answers one request per connection at a time).
// - Bootstrapped from bootstrap.servers: those addresses get node ids -1, -2, ... until a Metadata
//   response names the real brokers.
// - A connection that failed is retried with exponential backoff and jitter (reconnect.backoff.ms
//   doubling up to reconnect.backoff.max.ms, +-20%), so a dead broker is not hammered. Callers asking for
//   a connection in backoff wait for the next attempt.
// - The metadata cache (metadata_cache.hpp) and a coordinator cache per group: a coordinator is looked up
//   with FindCoordinator (batched CoordinatorKeys on v4+) and forgotten on NOT_COORDINATOR /
//   COORDINATOR_NOT_AVAILABLE (forget_coordinator()).
//
// Threading: like Connection, a Pool runs on its executor and starts no threads; call it from there.
// Any number of operations may be outstanding at once.
#pragma once

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <map>
#include <random>
#include <tuple>
#include <utility>
#include <variant>

#include "kafkawire/net/connection.hpp"
#include "kafkawire/net/metadata_cache.hpp"
#include "kafkawire/protocol/find_coordinator.hpp"

namespace kafkawire::net {

enum class Purpose : uint8_t { general, fetch, group };

struct PoolOptions {
  std::vector<std::pair<std::string, uint16_t>> bootstrap;
  ConnectionOptions connection;
  std::chrono::milliseconds reconnect_backoff{50};
  std::chrono::milliseconds reconnect_backoff_max{1000};
  std::chrono::milliseconds metadata_max_age{300000};  // read by needs_metadata()
};

// "host1:9092,host2:9092" -> [(host1, 9092), (host2, 9092)]; an error names the bad entry.
std::error_code parse_bootstrap(std::string_view servers, std::vector<std::pair<std::string, uint16_t>>& out,
                                std::string* problem = nullptr);

// Runs a coroutine that returns std::tuple<std::error_code, Ts...> as an Asio operation completing with
// void(std::error_code, Ts...), for any completion token.
template <class... Ts, class Token>
auto async_run(asio::any_io_executor ex, asio::awaitable<std::tuple<std::error_code, Ts...>> op,
               Token&& token) {
  return asio::async_initiate<Token, void(std::error_code, Ts...)>(
      [ex](auto handler, auto op) mutable {
        auto hex = asio::get_associated_executor(handler, ex);
        asio::co_spawn(ex, std::move(op),
                       [h = std::move(handler), hex](std::exception_ptr e,
                                                     std::tuple<std::error_code, Ts...> r) mutable {
                         if (e) std::get<0>(r) = client_errc::operation_aborted;
                         asio::dispatch(hex, [h = std::move(h), r = std::move(r)]() mutable {
                           std::apply(std::move(h), std::move(r));
                         });
                       });
      },
      token, std::move(op));
}

// The same for an operation with no result: completes with void(std::error_code).
template <class Token>
auto async_run(asio::any_io_executor ex, asio::awaitable<std::tuple<std::error_code, std::monostate>> op,
               Token&& token) {
  return asio::async_initiate<Token, void(std::error_code)>(
      [ex](auto handler, auto op) mutable {
        auto hex = asio::get_associated_executor(handler, ex);
        asio::co_spawn(ex, std::move(op),
                       [h = std::move(handler), hex](std::exception_ptr e,
                                                     std::tuple<std::error_code, std::monostate> r) mutable {
                         std::error_code ec =
                             e ? std::error_code(client_errc::operation_aborted) : std::get<0>(r);
                         asio::dispatch(hex, [h = std::move(h), ec]() mutable { std::move(h)(ec); });
                       });
      },
      token, std::move(op));
}

class Pool : public std::enable_shared_from_this<Pool> {
 public:
  using executor_type = asio::any_io_executor;
  template <class T>
  using Result = asio::awaitable<std::tuple<std::error_code, T>>;

  static std::shared_ptr<Pool> create(executor_type ex, PoolOptions options) {
    return std::shared_ptr<Pool>(new Pool(std::move(ex), std::move(options)));
  }
  executor_type get_executor() const { return executor_; }
  const PoolOptions& options() const { return options_; }
  MetadataCache& metadata() { return metadata_; }
  const MetadataCache& metadata() const { return metadata_; }
  // True when a topic's metadata is unknown, marked stale, or older than metadata.max.age.ms.
  bool needs_metadata(std::string_view topic,
                      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) const {
    return metadata_.needs_refresh(topic, options_.metadata_max_age, now);
  }

  // A ready connection to a broker (node ids from the metadata; negative ids are bootstrap addresses).
  Result<std::shared_ptr<Connection>> connection(int32_t node_id, Purpose purpose = Purpose::general);
  // Any ready connection: one already open, else each known broker in turn, then the bootstrap list.
  Result<std::shared_ptr<Connection>> any_connection();

  // Sends to a broker at the negotiated version.
  template <class Req>
  Result<Reply<typename Req::response_type>> send(int32_t node_id, Purpose purpose, Req req,
                                                  std::chrono::milliseconds extra_wait = {}) {
    auto self = shared_from_this();
    auto [ec, conn] = co_await connection(node_id, purpose);
    if (ec) co_return std::tuple{ec, Reply<typename Req::response_type>{}};
    co_return co_await conn->async_send(req, asio::as_tuple(asio::use_awaitable), extra_wait);
  }
  template <class Req>
  Result<Reply<typename Req::response_type>> send_any(Req req) {
    auto self = shared_from_this();
    auto [ec, conn] = co_await any_connection();
    if (ec) co_return std::tuple{ec, Reply<typename Req::response_type>{}};
    co_return co_await conn->async_send(req, asio::as_tuple(asio::use_awaitable));
  }

  // Metadata for these topics (all topics when nullopt), into the cache. Topic-level errors stay in the
  // cache for the caller to read; the error code is for the request itself.
  Result<std::monostate> refresh_metadata(std::optional<std::vector<std::string>> topics,
                                          bool allow_auto_topic_creation = false);
  // The coordinator of a group, from the cache or FindCoordinator; with key_type 1
  // (FindCoordinatorRequest::kTransaction), the transaction coordinator of a transactional id.
  Result<BrokerInfo> find_coordinator(std::string key, int8_t key_type = 0);
  void forget_coordinator(const std::string& key, int8_t key_type = 0) {
    coordinators_.erase({key_type, key});
  }
  // A cluster-wide feature's finalized level (ApiVersions v3+ FinalizedFeatures, e.g.
  // "transaction.version"), as the most recently negotiated ready connection saw it; nullopt when no
  // ready connection reports it (an older broker, or none connected).
  std::optional<int16_t> finalized_feature(std::string_view name) const;

  // The same operations for any completion token.
  template <class Token>
  auto async_connection(int32_t node_id, Purpose purpose, Token&& token) {
    return async_run<std::shared_ptr<Connection>>(executor_, connection(node_id, purpose),
                                                  std::forward<Token>(token));
  }
  template <class Req, class Token>
  auto async_send(int32_t node_id, Purpose purpose, Req req, Token&& token) {
    return async_run<Reply<typename Req::response_type>>(executor_, send(node_id, purpose, std::move(req)),
                                                         std::forward<Token>(token));
  }
  template <class Token>
  auto async_refresh_metadata(std::optional<std::vector<std::string>> topics, Token&& token) {
    return async_run(executor_, refresh_metadata(std::move(topics)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_find_coordinator(std::string group, Token&& token) {
    return async_run<BrokerInfo>(executor_, find_coordinator(std::move(group)), std::forward<Token>(token));
  }
  template <class Token>
  auto async_find_coordinator(std::string key, int8_t key_type, Token&& token) {
    return async_run<BrokerInfo>(executor_, find_coordinator(std::move(key), key_type),
                                 std::forward<Token>(token));
  }

  // Closes every connection, those still connecting too; outstanding requests fail with
  // operation_aborted.
  void close();
  // A pool dropped without close() closes its connections too: otherwise their read loops keep the
  // sockets (and the io_context's run()) alive until the broker closes idle connections (10 min).
  ~Pool() { close(); }
  // What went wrong, for an error text: when `ec` is how the last failed connection attempt ended, the
  // reason that connection gave ("SASL SCRAM-SHA-512 with 10.0.0.7:9094: SASL_AUTHENTICATION_FAILED:
  // ...", "TLS handshake with ...: certificate verify failed"); else the reason of a connection that
  // was up and closed with `ec` ("connection to ... lost: closed by the broker ..."); else ec.message().
  std::string describe(std::error_code ec) const;
  // The delay before the n-th consecutive reconnect attempt (n >= 1), with jitter.
  std::chrono::milliseconds backoff(int failures);

  // What this pool's connections went through, for monitoring and for tests that must tell a quiet
  // reconnect from a connection that stayed up: a consumer retries a request on a new connection
  // without a caller noticing, so "no request failed" alone cannot show that KIP-368
  // re-authentication kept a connection open.
  struct Counters {
    uint64_t connections_opened = 0;  // connections that became ready (each reconnect counts again)
    uint64_t authentications = 0;     // SASL authentications accepted: first ones and re-authentications
  };
  Counters counters() const;

 private:
  struct Slot {
    std::shared_ptr<Connection> conn;
    bool connecting = false;
    int failures = 0;
    std::chrono::steady_clock::time_point next_attempt{};
    std::error_code last_error;
    std::shared_ptr<asio::steady_timer> attempt_done;  // waiters park here while one attempt runs
  };

  Pool(executor_type ex, PoolOptions options);
  std::optional<std::pair<std::string, uint16_t>> address(int32_t node_id) const;

  executor_type executor_;
  PoolOptions options_;
  MetadataCache metadata_;
  std::map<std::pair<int32_t, Purpose>, Slot> slots_;
  std::map<std::pair<int8_t, std::string>, BrokerInfo> coordinators_;  // (key type, key)
  std::minstd_rand jitter_;
  bool closed_ = false;
  std::error_code last_connect_error_;  // the last failed connection attempt, and its close_reason()
  std::string last_connect_reason_;
  uint64_t connections_opened_ = 0;
  uint64_t retired_authentications_ = 0;  // of connections no longer in a slot
};

}  // namespace kafkawire::net
