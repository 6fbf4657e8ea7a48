#include "kafkawire/protocol/error_policy.hpp"

namespace kafkawire {
namespace {

bool to_leader(ApiFamily f) {
  return f == ApiFamily::metadata || f == ApiFamily::produce || f == ApiFamily::fetch ||
         f == ApiFamily::list_offsets || f == ApiFamily::delete_records;
}

bool to_coordinator(ApiFamily f) {
  return f == ApiFamily::group_membership || f == ApiFamily::offset_commit || f == ApiFamily::offset_fetch ||
         f == ApiFamily::group_admin || f == ApiFamily::transaction || f == ApiFamily::txn_offset_commit;
}

// A broker's error code.
ErrorAction kafka_action(ApiFamily family, kafka_errc code) {
  using e = kafka_errc;
  if (code == e::none) return ErrorAction::none;
  const KafkaErrorInfo* info = find_kafka_error(static_cast<int16_t>(code));
  const bool retriable = info && info->retriable;

  if (family == ApiFamily::topic_admin) {
    switch (code) {
      case e::not_controller:
        return ErrorAction::refresh_metadata;
      case e::throttling_quota_exceeded:
        return ErrorAction::retry;
      default:
        return ErrorAction::fatal;  // the topic's answer (see error_policy.hpp)
    }
  }
  if (to_coordinator(family)) {
    switch (code) {
      case e::not_coordinator:
      case e::coordinator_not_available:
        return ErrorAction::find_coordinator;
      case e::request_timed_out:
        // Java's commit handler marks the coordinator unknown on a timeout: it may be the one in trouble.
        return family == ApiFamily::offset_commit || family == ApiFamily::txn_offset_commit
                   ? ErrorAction::find_coordinator
                   : ErrorAction::retry;
      default:
        break;
    }
  }
  if (family == ApiFamily::transaction || family == ApiFamily::txn_offset_commit) {
    switch (code) {
      case e::operation_not_attempted:
        return ErrorAction::retry;
      default:
        break;
    }
  }
  if (family == ApiFamily::group_membership || family == ApiFamily::offset_commit) {
    switch (code) {
      case e::rebalance_in_progress:
      case e::illegal_generation:
      case e::unknown_member_id:
      case e::member_id_required:
      case e::fenced_member_epoch:
      case e::stale_member_epoch:
        return ErrorAction::rejoin;
      default:
        break;
    }
  }
  if (to_leader(family)) {
    if (info && info->invalid_metadata) return ErrorAction::refresh_metadata;
    // Our leader epoch is newer than the broker's (it has not caught up), or a topic id the session
    // does not know: the metadata is worth another look before trying again.
    if (code == e::unknown_leader_epoch || code == e::fetch_session_topic_id_error)
      return ErrorAction::refresh_metadata;
  }
  return retriable ? ErrorAction::retry : ErrorAction::fatal;
}

}  // namespace

ErrorAction error_action(ApiFamily family, std::error_code ec) noexcept {
  if (!ec) return ErrorAction::none;
  if (ec.category() == kafka_category()) return kafka_action(family, static_cast<kafka_errc>(ec.value()));
  // The connection went away or did not answer in time. Other client errors (malformed, an unsupported
  // version, aborted, ...) come back the same however often the request is sent.
  bool transport = ec == client_errc::disconnected || ec == client_errc::timeout;
  // An operating-system error (refused, reset, unreachable), from std or by way of Boost.System: both
  // map their errno values to the generic category.
  if (ec.category() != client_category() &&
      ec.default_error_condition().category() == std::generic_category())
    transport = true;
  if (!transport) return ErrorAction::fatal;
  if (family == ApiFamily::topic_admin) return ErrorAction::refresh_metadata;
  return to_coordinator(family) ? ErrorAction::find_coordinator : ErrorAction::retry;
}

std::string_view to_string(ErrorAction a) noexcept {
  switch (a) {
    case ErrorAction::none:
      return "none";
    case ErrorAction::retry:
      return "retry";
    case ErrorAction::refresh_metadata:
      return "refresh_metadata";
    case ErrorAction::find_coordinator:
      return "find_coordinator";
    case ErrorAction::rejoin:
      return "rejoin";
    case ErrorAction::fatal:
      return "fatal";
  }
  return "?";
}

std::string_view to_string(ApiFamily f) noexcept {
  switch (f) {
    case ApiFamily::metadata:
      return "metadata";
    case ApiFamily::produce:
      return "produce";
    case ApiFamily::fetch:
      return "fetch";
    case ApiFamily::list_offsets:
      return "list_offsets";
    case ApiFamily::find_coordinator:
      return "find_coordinator";
    case ApiFamily::group_membership:
      return "group_membership";
    case ApiFamily::offset_commit:
      return "offset_commit";
    case ApiFamily::offset_fetch:
      return "offset_fetch";
    case ApiFamily::group_admin:
      return "group_admin";
    case ApiFamily::transaction:
      return "transaction";
    case ApiFamily::txn_offset_commit:
      return "txn_offset_commit";
    case ApiFamily::topic_admin:
      return "topic_admin";
    case ApiFamily::delete_records:
      return "delete_records";
  }
  return "?";
}

}  // namespace kafkawire
