#include "spy_proxy.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <iostream>

#include "spy_session.hpp"
#include "spy_summary.hpp"

namespace kafkawire::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using spy::host_port;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

std::string dump_line(uint64_t connection, bool request, int16_t api_key, int16_t api_version,
                      int32_t correlation_id, const uint8_t* frame, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = std::to_string(connection) + (request ? " request " : " response ") +
                  std::to_string(api_key) + " " + std::to_string(api_version) + " " +
                  std::to_string(correlation_id) + " ";
  s.reserve(s.size() + 2 * size);
  for (size_t i = 0; i < size; ++i) {
    s += kDigits[frame[i] >> 4];
    s += kDigits[frame[i] & 0x0f];
  }
  return s;
}

bool parse_host_port(const std::string& s, std::string& host, uint16_t& port) {
  std::string p;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (host.empty() || p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const unsigned long v = std::stoul(p);
  if (v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

// ---- listeners ------------------------------------------------------------------------------------------

struct SpyProxy::Listener {
  explicit Listener(const executor_type& ex) : acceptor(ex) {}
  tcp::acceptor acceptor;
  std::string target_host;
  uint16_t target_port = 0;
  uint16_t local_port = 0;
};

// ---- the proxy --------------------------------------------------------------------------------------------

SpyProxy::SpyProxy(executor_type ex, SpyOptions options) : ex_(std::move(ex)), options_(std::move(options)) {
  advertise_ = options_.advertise_host;
  if (advertise_.empty())
    advertise_ = (options_.listen_host == "0.0.0.0" || options_.listen_host == "::") ? "127.0.0.1"
                                                                                     : options_.listen_host;
}

SpyProxy::~SpyProxy() = default;

std::shared_ptr<SpyProxy> SpyProxy::create(executor_type ex, SpyOptions options) {
  return std::shared_ptr<SpyProxy>(new SpyProxy(std::move(ex), std::move(options)));
}

void SpyProxy::print(const std::string& line) const {
  if (options_.print)
    options_.print(line);
  else
    std::cout << line << (line.empty() || line.back() != '\n' ? "\n" : "") << std::flush;
}

bool SpyProxy::selected(int16_t api_key) const {
  return options_.apis.empty() ||
         std::find(options_.apis.begin(), options_.apis.end(), api_key) != options_.apis.end();
}

namespace {

// Opens, binds and listens; the bound port, or 0 with ec set.
uint16_t open_listener(tcp::acceptor& a, const std::string& host, uint16_t port,
                       boost::system::error_code& ec) {
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return 0;
  const tcp::endpoint ep(address, port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return 0;
  return a.local_endpoint(ec).port();
}

}  // namespace

std::error_code SpyProxy::start() {
  auto l = std::make_shared<Listener>(ex_);
  l->target_host = options_.upstream_host;
  l->target_port = options_.upstream_port;
  boost::system::error_code ec;
  l->local_port = open_listener(l->acceptor, options_.listen_host, options_.listen_port, ec);
  if (ec) return ec;
  bootstrap_ = l;
  listeners_[{l->target_host, l->target_port}] = l;
  accept(l);
  return {};
}

void SpyProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  for (auto& [key, l] : listeners_) l->acceptor.close(ignored);
  auto sessions = sessions_;
  for (auto& [id, weak] : sessions)
    if (auto s = weak.lock()) s->close("spy stopped");
  sessions_.clear();
}

tcp::endpoint SpyProxy::endpoint() const {
  boost::system::error_code ec;
  return bootstrap_ ? bootstrap_->acceptor.local_endpoint(ec) : tcp::endpoint();
}

std::vector<std::string> SpyProxy::mappings() const {
  std::vector<std::string> out;
  for (const auto& [key, l] : listeners_)
    out.push_back(host_port(key.first, key.second) + " -> " + host_port(advertise_, l->local_port));
  return out;
}

void SpyProxy::accept(std::shared_ptr<Listener> l) {
  asio::co_spawn(
      ex_,
      [self = shared_from_this(), l]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await l->acceptor.async_accept(use_nothrow);
          if (self->stopped_ || !l->acceptor.is_open()) co_return;
          if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            self->print("spy: accept on port " + std::to_string(l->local_port) + ": " + ec.message());
            continue;
          }
          const uint64_t id = self->next_session_++;
          ++self->stats_.connections;
          auto s = std::make_shared<Session>(self, id, std::move(socket), l->target_host, l->target_port);
          self->sessions_[id] = s;
          s->start();
        }
      },
      asio::detached);
}

uint16_t SpyProxy::local_port_for(const std::string& host, int32_t port) {
  if (port <= 0 || port > 65535) return 0;
  const auto key = std::make_pair(host, port);
  if (auto it = listeners_.find(key); it != listeners_.end()) return it->second->local_port;
  if (stopped_) return 0;
  auto l = std::make_shared<Listener>(ex_);
  l->target_host = host;
  l->target_port = static_cast<uint16_t>(port);
  boost::system::error_code ec;
  l->local_port = open_listener(l->acceptor, options_.listen_host, 0, ec);
  if (ec) {
    print("spy: cannot open a listener for broker " + host_port(host, port) + ": " + ec.message() +
          " (its address is left as it is)");
    return 0;
  }
  listeners_[key] = l;
  print("spy: broker " + host_port(host, port) + " is now reached through " +
        host_port(advertise_, l->local_port));
  accept(l);
  return l->local_port;
}

}  // namespace kafkawire::cli
