// Requests to a group's coordinator (OffsetCommit, OffsetFetch, DescribeGroups, OffsetDelete, ...), sent
// the one way every caller needs: find the coordinator (FindCoordinator, cached by the Pool), open the
// group connection, build the request for the version both sides speak, send it, and let the error
// policy (protocol/error_policy.hpp) say what a failure means: find the coordinator again
// (NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE, a lost connection), retry after the backoff
// (COORDINATOR_LOAD_IN_PROGRESS, UNSTABLE_OFFSET_COMMIT), or stop. All within one RetryBudget.
//
// Used by the Consumer's offset client (consumer/offset_client.hpp), the group driver (send_at_negotiated:
// the group state machine names the coordinator and decides about errors itself) and `kafkawire groups`.
#pragma once

#include <system_error>
#include <utility>

#include "kafkawire/net/pool.hpp"
#include "kafkawire/net/retry.hpp"
#include "kafkawire/protocol/error_policy.hpp"

namespace kafkawire::net {

template <class Req>
using ReplyTo = Reply<typename Req::response_type>;

// Sends make(version) to a broker at the highest version both sides speak, at most max_version and at
// least min_version (else client_errc::unsupported_version). For requests whose shape depends on the
// version (OffsetFetch v8, topic ids at v10): the version is known before the request is built.
template <class Req, class Make>
Pool::Result<ReplyTo<Req>> send_at_negotiated(Pool& pool, int32_t node, Purpose purpose, Make make,
                                              int16_t max_version = Req::max_version,
                                              std::chrono::milliseconds extra_wait = {},
                                              int16_t min_version = Req::min_version) {
  auto keep = pool.shared_from_this();
  auto [ec, conn] = co_await pool.connection(node, purpose);
  if (ec) co_return std::tuple{ec, ReplyTo<Req>{}};
  const auto version = conn->negotiated_version(Req::api_key, min_version, max_version);
  if (!version) co_return std::tuple{std::error_code(client_errc::unsupported_version), ReplyTo<Req>{}};
  const Req request = make(*version);
  co_return co_await conn->async_send_at(request, *version, asio::as_tuple(asio::use_awaitable), extra_wait);
}

// Sends make(version) to the coordinator of `group` until it is answered without an error that the
// policy of `family` retries, or the budget runs out. error_of(reply) is the error that decides (the group's
// error code; for OffsetCommit, which has none, the first partition's). Completes with the transport error if
// the last attempt got no answer, else with no error and the last reply: the caller reads the reply's
// own errors (a GROUP_ID_NOT_FOUND, a partition's error) as answers.
template <class Req, class Make, class ErrorOf>
Pool::Result<ReplyTo<Req>> send_to_coordinator(Pool& pool, std::string group, ApiFamily family,
                                               RetryBudget budget, Make make, ErrorOf error_of,
                                               int16_t max_version = Req::max_version,
                                               std::chrono::milliseconds extra_wait = {}) {
  auto keep = pool.shared_from_this();
  for (;;) {
    std::error_code ec;  // no answer: the error that stopped this attempt
    ErrorAction action = ErrorAction::fatal;
    std::optional<ReplyTo<Req>> answer;
    auto [fec, coordinator] = co_await pool.find_coordinator(group);
    if (fec) {
      ec = fec;
      action = error_action(ApiFamily::find_coordinator, fec);
    } else {
      auto [sec, reply] = co_await send_at_negotiated<Req>(pool, coordinator.node_id, Purpose::group, make,
                                                           max_version, extra_wait);
      if (sec) {
        ec = sec;
        action = error_action(family, sec);
      } else {
        action = error_action(family, error_of(reply));
        answer = std::move(reply);
      }
    }
    if (action == ErrorAction::find_coordinator) pool.forget_coordinator(group);
    if (!is_retry(action) || !co_await wait_to_retry(pool.get_executor(), budget)) {
      if (answer) co_return std::tuple{std::error_code{}, std::move(*answer)};
      co_return std::tuple{ec, ReplyTo<Req>{}};
    }
  }
}

}  // namespace kafkawire::net
