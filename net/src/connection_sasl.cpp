// SASL on a connection: SaslHandshake names the mechanism, then SaslAuthenticate carries the mechanism's
// messages (net/sasl.hpp makes and checks them) until it is done; KIP-368 re-authentication. See
// connection.hpp.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <random>

#include "kafkawire/net/connection.hpp"
#include "kafkawire/protocol/sasl_authenticate.hpp"
#include "kafkawire/protocol/sasl_handshake.hpp"

namespace kafkawire::net {

namespace proto = kafkawire::protocol;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

}  // namespace

asio::awaitable<std::error_code> Connection::authenticate() {
  auto self = shared_from_this();
  const SaslConfig& config = *options_.sasl;
  const std::string what = "SASL " + config.mechanism + " with " + host_ + ":" + std::to_string(port_);
  // Closes the connection (every request in flight fails with ec) and returns why.
  auto failed = [&](std::error_code ec, const std::string& text) {
    if (state_ != State::closed) close(ec, what + ": " + text);
    return close_error_;
  };

  // Version 0 of SaslHandshake is followed by bare tokens, not SaslAuthenticate (Kafka before 1.0).
  if (!negotiated_version<proto::SaslHandshakeRequest>() ||
      !negotiated_version<proto::SaslAuthenticateRequest>() ||
      *negotiated_version<proto::SaslHandshakeRequest>() < 1)
    co_return failed(make_error_code(kafka_errc::illegal_sasl_state),
                     "the broker does not serve SaslHandshake v1 and SaslAuthenticate (Kafka 1.0 or later "
                     "does)");
  proto::SaslHandshakeRequest handshake;
  handshake.mechanism = config.mechanism;
  auto [hec, hello] = co_await async_send(handshake, use_nothrow);
  if (hec) co_return failed(hec, "SaslHandshake: " + hec.message());
  if (hello->error_code != 0) {
    const auto code = as_errc(hello->error_code);
    std::string text = make_kafka_error(hello->error_code).message();
    if (code == kafka_errc::unsupported_sasl_mechanism)
      text = "the listener does not offer " + config.mechanism + "; it offers " + joined(hello->mechanisms) +
             " (sasl.mechanism)";
    else if (code == kafka_errc::illegal_sasl_state)
      text += " (is this port a SASL listener? see security.protocol)";
    co_return failed(make_kafka_error(hello->error_code), text);
  }

  SaslClient client(config);
  int64_t lifetime_ms = 0;
  for (auto step = client.start();;) {
    if (step.ec) co_return failed(step.ec, step.problem);
    if (!step.send) break;  // done
    proto::SaslAuthenticateRequest req;
    req.auth_bytes.bytes = Bytes(*step.send);  // encoded before the co_await: the view may end after
    auto [ec, reply] = co_await async_send(req, use_nothrow);
    if (ec) co_return failed(ec, "SaslAuthenticate: " + ec.message());
    if (reply->error_code != 0) {
      std::string text = make_kafka_error(reply->error_code).message();
      if (reply->error_message && !reply->error_message->empty()) text += ": " + *reply->error_message;
      if (!step.problem.empty()) text += " (" + step.problem + ")";  // OAUTHBEARER: the broker's JSON
      co_return failed(make_kafka_error(reply->error_code), text);
    }
    lifetime_ms = reply->session_lifetime_ms;
    step = client.on_server(reply->auth_bytes.bytes);
  }

  ++authentications_;
  if (lifetime_ms > 0) {
    // As Java: again at 85-95% of the lifetime, spread so that a client's connections do not all
    // re-authenticate at once.
    std::minstd_rand jitter(static_cast<std::minstd_rand::result_type>(serial_));
    const double share = 0.85 + 0.10 * std::uniform_real_distribution<double>(0, 1)(jitter);
    const auto when =
        std::chrono::steady_clock::now() +
        std::chrono::milliseconds(static_cast<int64_t>(static_cast<double>(lifetime_ms) * share));
    spawn_background(reauthenticate_at(when), "re-authentication");
  }
  co_return std::error_code{};
}

asio::awaitable<void> Connection::reauthenticate_at(std::chrono::steady_clock::time_point when) {
  auto self = shared_from_this();
  reauth_timer_.expires_at(when);
  co_await reauth_timer_.async_wait(use_nothrow);
  if (state_ != State::ready) co_return;  // closed meanwhile
  reauthenticating_ = true;
  const auto ec = co_await authenticate();  // on failure it closed the connection: held requests failed
  reauthenticating_ = false;
  if (!ec) release_held();
}

}  // namespace kafkawire::net
