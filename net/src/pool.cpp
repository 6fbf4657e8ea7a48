#include "kafkawire/net/pool.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kafkawire::net {

namespace proto = kafkawire::protocol;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::error_code parse_bootstrap(std::string_view servers, std::vector<std::pair<std::string, uint16_t>>& out,
                                std::string* problem) {
  out.clear();
  while (!servers.empty()) {
    const auto comma = servers.find(',');
    std::string_view entry = servers.substr(0, comma);
    servers = comma == std::string_view::npos ? std::string_view() : servers.substr(comma + 1);
    while (!entry.empty() && entry.front() == ' ') entry.remove_prefix(1);
    while (!entry.empty() && entry.back() == ' ') entry.remove_suffix(1);
    if (entry.empty()) continue;
    const auto colon = entry.rfind(':');
    unsigned port = 0;
    const char* end = entry.data() + entry.size();
    if (colon == std::string_view::npos || colon == 0 ||
        std::from_chars(entry.data() + colon + 1, end, port).ptr != end || port == 0 || port > 65535) {
      if (problem) *problem = "bootstrap.servers: '" + std::string(entry) + "' is not host:port";
      return client_errc::invalid_config;
    }
    std::string host(entry.substr(0, colon));
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    out.emplace_back(std::move(host), static_cast<uint16_t>(port));
  }
  if (out.empty()) {
    if (problem) *problem = "bootstrap.servers is empty";
    return client_errc::invalid_config;
  }
  return {};
}

Pool::Pool(executor_type ex, PoolOptions options)
    : executor_(std::move(ex)), options_(std::move(options)), jitter_(std::random_device{}()) {}

std::chrono::milliseconds Pool::backoff(int failures) {
  using namespace std::chrono;
  const double base = static_cast<double>(options_.reconnect_backoff.count());
  const double cap =
      static_cast<double>(std::max(options_.reconnect_backoff_max, options_.reconnect_backoff).count());
  const double exp = std::min(cap, base * std::pow(2.0, std::max(0, failures - 1)));
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  return milliseconds(static_cast<int64_t>(exp * jitter(jitter_)));
}

std::optional<std::pair<std::string, uint16_t>> Pool::address(int32_t node_id) const {
  if (node_id < 0) {
    const size_t i = static_cast<size_t>(-node_id - 1);
    if (i < options_.bootstrap.size()) return options_.bootstrap[i];
    return std::nullopt;
  }
  if (const BrokerInfo* b = metadata_.broker(node_id)) return std::pair{b->host, b->port};
  for (const auto& [key, c] : coordinators_)
    if (c.node_id == node_id) return std::pair{c.host, c.port};
  return std::nullopt;
}

Pool::Result<std::shared_ptr<Connection>> Pool::connection(int32_t node_id, Purpose purpose) {
  auto self = shared_from_this();
  for (;;) {
    if (closed_) co_return std::tuple{std::error_code(client_errc::operation_aborted), nullptr};
    Slot& slot = slots_[{node_id, purpose}];
    if (slot.conn && slot.conn->is_ready()) co_return std::tuple{std::error_code{}, slot.conn};
    if (slot.connecting) {
      // Someone else's attempt is under way: wait for it and take its outcome.
      auto done = slot.attempt_done;
      co_await done->async_wait(use_nothrow);
      Slot& after = slots_[{node_id, purpose}];
      if (after.conn && after.conn->is_ready()) co_return std::tuple{std::error_code{}, after.conn};
      co_return std::tuple{after.last_error ? after.last_error : std::error_code(client_errc::disconnected),
                           nullptr};
    }
    const auto addr = address(node_id);
    if (!addr) co_return std::tuple{std::error_code(client_errc::invalid_argument), nullptr};

    slot.connecting = true;
    slot.attempt_done =
        std::make_shared<asio::steady_timer>(executor_, asio::steady_timer::time_point::max());
    if (const auto now = std::chrono::steady_clock::now(); now < slot.next_attempt) {
      asio::steady_timer wait(executor_, slot.next_attempt);
      co_await wait.async_wait(use_nothrow);
    }
    auto conn = Connection::create(executor_, options_.connection);
    if (auto& old = slots_[{node_id, purpose}].conn) retired_authentications_ += old->authentications();
    slots_[{node_id, purpose}].conn = conn;  // not ready, but close() reaches it: no connect outlives it
    auto [ec] = co_await conn->async_connect(addr->first, addr->second, use_nothrow);
    Slot& s = slots_[{node_id, purpose}];  // the map may have grown while we waited
    s.connecting = false;
    s.attempt_done->cancel();
    if (ec || closed_) {
      s.failures++;
      s.next_attempt = std::chrono::steady_clock::now() + backoff(s.failures);
      s.last_error = closed_ ? std::error_code(client_errc::operation_aborted) : ec;
      s.conn = conn;  // keeps close_reason() for whoever asks
      last_connect_error_ = s.last_error;
      last_connect_reason_ = conn->close_reason();
      co_return std::tuple{s.last_error, nullptr};
    }
    s.failures = 0;
    s.last_error = {};
    s.conn = conn;
    ++connections_opened_;
    co_return std::tuple{std::error_code{}, conn};
  }
}

std::optional<int16_t> Pool::finalized_feature(std::string_view name) const {
  for (const auto& [key, slot] : slots_)
    if (slot.conn && slot.conn->is_ready())
      if (auto level = slot.conn->finalized_feature(name)) return level;
  return std::nullopt;
}

Pool::Result<std::shared_ptr<Connection>> Pool::any_connection() {
  auto self = shared_from_this();
  for (const auto& [key, slot] : slots_)
    if (slot.conn && slot.conn->is_ready()) co_return std::tuple{std::error_code{}, slot.conn};
  std::vector<int32_t> candidates;
  for (const auto& [id, b] : metadata_.brokers()) candidates.push_back(id);
  for (size_t i = 0; i < options_.bootstrap.size(); ++i) candidates.push_back(-static_cast<int32_t>(i) - 1);
  std::error_code last = client_errc::invalid_config;
  for (int32_t id : candidates) {
    auto [ec, conn] = co_await connection(id, Purpose::general);
    if (!ec) co_return std::tuple{ec, conn};
    last = ec;
  }
  co_return std::tuple{last, nullptr};
}

Pool::Result<std::monostate> Pool::refresh_metadata(std::optional<std::vector<std::string>> topics,
                                                    bool allow_auto_topic_creation) {
  auto self = shared_from_this();
  proto::MetadataRequest req;
  if (topics) {
    req.topics.emplace();
    for (auto& t : *topics) req.topics->push_back({{}, std::move(t)});
  } else {
    req.topics.reset();
  }
  req.allow_auto_topic_creation = allow_auto_topic_creation;
  auto [ec, reply] = co_await send_any(std::move(req));
  if (ec) co_return std::tuple{ec, std::monostate{}};
  if (reply->error_code) co_return std::tuple{make_kafka_error(reply->error_code), std::monostate{}};
  metadata_.update(reply.message);
  co_return std::tuple{std::error_code{}, std::monostate{}};
}

Pool::Result<BrokerInfo> Pool::find_coordinator(std::string group, int8_t key_type) {
  auto self = shared_from_this();
  if (auto it = coordinators_.find({key_type, group}); it != coordinators_.end())
    co_return std::tuple{std::error_code{}, it->second};
  auto [ec, conn] = co_await any_connection();
  if (ec) co_return std::tuple{ec, BrokerInfo{}};
  const auto version = conn->negotiated_version<proto::FindCoordinatorRequest>();
  proto::FindCoordinatorRequest req;
  req.key_type = key_type;
  // Transaction coordinators need v1 (KeyType); a broker without it cannot do transactions.
  if (key_type != proto::FindCoordinatorRequest::kGroup && (!version || *version < 1))
    co_return std::tuple{std::error_code(client_errc::unsupported_version), BrokerInfo{}};
  if (version && *version >= 4)
    req.coordinator_keys = {group};
  else
    req.key = group;
  auto [ec2, reply] = co_await conn->async_send(req, use_nothrow);
  if (ec2) co_return std::tuple{ec2, BrokerInfo{}};
  int16_t error = reply->error_code;
  BrokerInfo b{reply->node_id, reply->host, static_cast<uint16_t>(reply->port), std::nullopt};
  if (reply.version >= 4) {
    if (reply->coordinators.empty())
      co_return std::tuple{std::error_code(client_errc::malformed), BrokerInfo{}};
    const auto& c = reply->coordinators.front();
    error = c.error_code;
    b = BrokerInfo{c.node_id, c.host, static_cast<uint16_t>(c.port), std::nullopt};
  }
  if (error) co_return std::tuple{make_kafka_error(error), BrokerInfo{}};
  coordinators_[{key_type, group}] = b;
  if (!metadata_.broker(b.node_id)) metadata_.add_broker(b);
  co_return std::tuple{std::error_code{}, b};
}

void Pool::close() {
  closed_ = true;
  for (auto& [key, slot] : slots_) {
    if (slot.conn) slot.conn->close(client_errc::operation_aborted, "pool closed");
    if (slot.attempt_done) slot.attempt_done->cancel();
  }
}

Pool::Counters Pool::counters() const {
  Counters c{.connections_opened = connections_opened_, .authentications = retired_authentications_};
  for (const auto& [key, slot] : slots_)
    if (slot.conn) c.authentications += static_cast<uint64_t>(slot.conn->authentications());
  return c;
}

std::string Pool::describe(std::error_code ec) const {
  if (ec && ec == last_connect_error_ && !last_connect_reason_.empty()) return last_connect_reason_;
  // A connection that was up and closed with ec ("lost: closed by the broker after answering ...").
  if (ec)
    for (const auto& [key, slot] : slots_)
      if (slot.conn && slot.conn->state() == Connection::State::closed && slot.conn->close_error() == ec)
        return slot.conn->close_reason();
  return ec.message();
}

}  // namespace kafkawire::net
