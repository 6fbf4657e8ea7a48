// The error policy (protocol/error_policy.hpp) against Kafka's own exception hierarchy: kafka_errors.inc
// records, for every code of kafka-clients' Errors enum, whether its exception is a RetriableException
// and whether it is an InvalidMetadataException (tests/golden/regen.sh errors writes it from the jar).
#include <catch2/catch.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>
#include <string>

#include "kafkawire/protocol/error_policy.hpp"

using kafkawire::ApiFamily;
using kafkawire::client_errc;
using kafkawire::error_action;
using kafkawire::ErrorAction;
using kafkawire::kafka_errc;

namespace {

constexpr ApiFamily kFamilies[] = {
    ApiFamily::metadata,      ApiFamily::produce,           ApiFamily::fetch,
    ApiFamily::list_offsets,  ApiFamily::find_coordinator,  ApiFamily::group_membership,
    ApiFamily::offset_commit, ApiFamily::offset_fetch,      ApiFamily::group_admin,
    ApiFamily::transaction,   ApiFamily::txn_offset_commit, ApiFamily::topic_admin,
    ApiFamily::delete_records};

bool to_leader(ApiFamily f) {
  return f == ApiFamily::metadata || f == ApiFamily::produce || f == ApiFamily::fetch ||
         f == ApiFamily::list_offsets || f == ApiFamily::delete_records;
}
bool to_coordinator(ApiFamily f) {
  return f == ApiFamily::group_membership || f == ApiFamily::offset_commit || f == ApiFamily::offset_fetch ||
         f == ApiFamily::group_admin || f == ApiFamily::transaction || f == ApiFamily::txn_offset_commit;
}
bool in_transaction(ApiFamily f) { return f == ApiFamily::transaction || f == ApiFamily::txn_offset_commit; }
bool has_membership(ApiFamily f) { return f == ApiFamily::group_membership || f == ApiFamily::offset_commit; }
// CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, IncrementalAlterConfigs: a topic's (or
// resource's) error is its answer, as Java's Admin completes the topic's future
// with it; only NOT_CONTROLLER (41) and THROTTLING_QUOTA_EXCEEDED (89) send the request again.
bool topic_admin(ApiFamily f) { return f == ApiFamily::topic_admin; }

// The group families' documented departure from "never retry what Java does not call retriable": the
// membership errors make the member join again (they are not retried as they were sent).
bool membership_error(kafka_errc c) {
  return c == kafka_errc::rebalance_in_progress || c == kafka_errc::illegal_generation ||
         c == kafka_errc::unknown_member_id || c == kafka_errc::member_id_required ||
         c == kafka_errc::fenced_member_epoch || c == kafka_errc::stale_member_epoch;
}

}  // namespace

TEST_CASE("error policy agrees with Java's RetriableException for every code", "[errors][policy]") {
  const auto all = kafkawire::kafka_errors();
  REQUIRE(all.size() > 130);
  size_t retriable = 0, invalid_metadata = 0;
  for (const auto& info : all) {
    retriable += info.retriable;
    invalid_metadata += info.invalid_metadata;
    // Java: every InvalidMetadataException is a RetriableException.
    if (info.invalid_metadata) CHECK(info.retriable);
    for (ApiFamily f : kFamilies) {
      const ErrorAction a = error_action(f, info.code);
      INFO(info.name << " (" << info.code << ") in " << kafkawire::to_string(f) << ": "
                     << kafkawire::to_string(a));
      if (info.code == 0) {
        CHECK(a == ErrorAction::none);
        continue;
      }
      CHECK(a != ErrorAction::none);
      if (topic_admin(f)) {
        if (info.code == 41)
          CHECK(a == ErrorAction::refresh_metadata);
        else if (info.code == 89)
          CHECK(a == ErrorAction::retry);
        else
          CHECK(a == ErrorAction::fatal);
        continue;
      }
      if (info.retriable) {
        // Retriable: sent again, possibly after a metadata refresh or finding the coordinator.
        CHECK(kafkawire::is_retry(a));
      } else if (has_membership(f) && membership_error(kafkawire::as_errc(info.code))) {
        CHECK(a == ErrorAction::rejoin);
      } else if (in_transaction(f) && info.code == 55) {
        // Java's TransactionManager retries OPERATION_NOT_ATTEMPTED (another partition failed).
        CHECK(a == ErrorAction::retry);
      } else {
        // Not retriable: never sent again.
        CHECK(a == ErrorAction::fatal);
      }
      // Requests to a partition's leader refresh metadata on an InvalidMetadataException, as Java's
      // Sender and Fetcher do; requests to a coordinator never send the client to the metadata.
      if (to_leader(f) && info.invalid_metadata) CHECK(a == ErrorAction::refresh_metadata);
      if (!to_leader(f)) CHECK(a != ErrorAction::refresh_metadata);
      // Only a coordinator request looks for the coordinator again, and only when it moved, is gone, or
      // (a commit) timed out.
      if (a == ErrorAction::find_coordinator) {
        CHECK(to_coordinator(f));
        CHECK((info.code == 15 || info.code == 16 ||
               ((f == ApiFamily::offset_commit || f == ApiFamily::txn_offset_commit) && info.code == 7)));
      }
      if (a == ErrorAction::rejoin) CHECK(has_membership(f));
    }
  }
  // The hierarchy was recorded (a table of all-false would pass the loop above).
  CHECK(retriable > 30);
  CHECK(invalid_metadata >= 10);
}

TEST_CASE("error policy: the decisions each family is known for", "[errors][policy]") {
  using F = ApiFamily;
  using A = ErrorAction;
  // Leaders.
  CHECK(error_action(F::fetch, kafka_errc::not_leader_or_follower) == A::refresh_metadata);
  CHECK(error_action(F::fetch, kafka_errc::fenced_leader_epoch) == A::refresh_metadata);
  CHECK(error_action(F::fetch, kafka_errc::unknown_leader_epoch) == A::refresh_metadata);
  CHECK(error_action(F::fetch, kafka_errc::unknown_topic_id) == A::refresh_metadata);
  CHECK(error_action(F::fetch, kafka_errc::fetch_session_id_not_found) == A::retry);
  CHECK(error_action(F::fetch, kafka_errc::offset_out_of_range) == A::fatal);  // auto.offset.reset decides
  CHECK(error_action(F::list_offsets, kafka_errc::offset_not_available) == A::retry);
  CHECK(error_action(F::list_offsets, kafka_errc::leader_not_available) == A::refresh_metadata);
  CHECK(error_action(F::produce, kafka_errc::not_enough_replicas) == A::retry);
  CHECK(error_action(F::produce, kafka_errc::message_too_large) == A::fatal);
  CHECK(error_action(F::metadata, kafka_errc::topic_authorization_failed) == A::fatal);
  // Coordinators.
  CHECK(error_action(F::offset_commit, kafka_errc::not_coordinator) == A::find_coordinator);
  CHECK(error_action(F::offset_fetch, kafka_errc::coordinator_not_available) == A::find_coordinator);
  CHECK(error_action(F::group_admin, kafka_errc::not_coordinator) == A::find_coordinator);
  CHECK(error_action(F::offset_commit, kafka_errc::coordinator_load_in_progress) == A::retry);
  CHECK(error_action(F::offset_commit, kafka_errc::request_timed_out) == A::find_coordinator);
  CHECK(error_action(F::offset_fetch, kafka_errc::unstable_offset_commit) == A::retry);
  CHECK(error_action(F::offset_commit, kafka_errc::rebalance_in_progress) == A::rejoin);
  CHECK(error_action(F::offset_commit, kafka_errc::illegal_generation) == A::rejoin);
  CHECK(error_action(F::group_membership, kafka_errc::member_id_required) == A::rejoin);
  CHECK(error_action(F::group_membership, kafka_errc::fenced_instance_id) == A::fatal);
  CHECK(error_action(F::group_membership, kafka_errc::group_authorization_failed) == A::fatal);
  CHECK(error_action(F::group_admin, kafka_errc::non_empty_group) == A::fatal);
  CHECK(error_action(F::group_admin, kafka_errc::rebalance_in_progress) == A::fatal);
  CHECK(error_action(F::find_coordinator, kafka_errc::coordinator_not_available) == A::retry);
  // Transactions: the coordinator's own retries, and fencing is not retried (the manager makes it fatal).
  CHECK(error_action(F::transaction, kafka_errc::concurrent_transactions) == A::retry);
  CHECK(error_action(F::transaction, kafka_errc::coordinator_load_in_progress) == A::retry);
  CHECK(error_action(F::transaction, kafka_errc::not_coordinator) == A::find_coordinator);
  CHECK(error_action(F::transaction, kafka_errc::producer_fenced) == A::fatal);
  CHECK(error_action(F::transaction, kafka_errc::transaction_abortable) == A::fatal);
  CHECK(error_action(F::txn_offset_commit, kafka_errc::illegal_generation) == A::fatal);  // abortable
  CHECK(error_action(F::txn_offset_commit, kafka_errc::request_timed_out) == A::find_coordinator);
  CHECK(error_action(F::transaction, make_error_code(client_errc::disconnected)) == A::find_coordinator);
  CHECK(error_action(F::transaction, kafka_errc::operation_not_attempted) == A::retry);
  CHECK(error_action(F::offset_commit, kafka_errc::operation_not_attempted) == A::fatal);
  // Topic administration: the controller moved, or a quota; everything else is the topic's answer.
  CHECK(error_action(F::topic_admin, kafka_errc::not_controller) == A::refresh_metadata);
  CHECK(error_action(F::topic_admin, kafka_errc::throttling_quota_exceeded) == A::retry);
  CHECK(error_action(F::topic_admin, kafka_errc::topic_already_exists) == A::fatal);
  CHECK(error_action(F::topic_admin, kafka_errc::unknown_topic_or_partition) == A::fatal);
  CHECK(error_action(F::topic_admin, kafka_errc::request_timed_out) == A::fatal);
  CHECK(error_action(F::topic_admin, make_error_code(client_errc::disconnected)) == A::refresh_metadata);
  CHECK(error_action(F::topic_admin, kafka_errc::invalid_partitions) == A::fatal);
  CHECK(error_action(F::topic_admin, kafka_errc::invalid_config) == A::fatal);
  // DeleteRecords: the leader moved or is being elected; the offset or the topic's policy is the answer.
  CHECK(error_action(F::delete_records, kafka_errc::not_leader_or_follower) == A::refresh_metadata);
  CHECK(error_action(F::delete_records, kafka_errc::leader_not_available) == A::refresh_metadata);
  CHECK(error_action(F::delete_records, kafka_errc::request_timed_out) == A::retry);
  CHECK(error_action(F::delete_records, kafka_errc::offset_out_of_range) == A::fatal);
  CHECK(error_action(F::delete_records, kafka_errc::policy_violation) == A::fatal);
  // The int16 overload reads a response field.
  CHECK(error_action(F::offset_fetch, int16_t{16}) == A::find_coordinator);
  CHECK(error_action(F::fetch, int16_t{0}) == A::none);
  // A code this client does not know (a newer broker): not retried.
  CHECK(error_action(F::fetch, int16_t{32000}) == A::fatal);
}

TEST_CASE("error policy: errors from this side of the wire", "[errors][policy]") {
  using F = ApiFamily;
  using A = ErrorAction;
  CHECK(error_action(F::fetch, std::error_code{}) == A::none);
  CHECK(error_action(F::fetch, make_error_code(client_errc::disconnected)) == A::retry);
  CHECK(error_action(F::list_offsets, make_error_code(client_errc::timeout)) == A::retry);
  // Towards a coordinator a lost connection means finding it again: it may be the broker that went away.
  CHECK(error_action(F::offset_commit, make_error_code(client_errc::disconnected)) == A::find_coordinator);
  CHECK(error_action(F::group_admin, make_error_code(client_errc::timeout)) == A::find_coordinator);
  for (auto c : {client_errc::malformed, client_errc::unsupported_version, client_errc::operation_aborted,
                 client_errc::invalid_argument, client_errc::crc_mismatch})
    for (ApiFamily f : kFamilies) CHECK(error_action(f, make_error_code(c)) == A::fatal);
  // Operating-system errors, straight from std and by way of Boost.System (Asio's sockets): transient.
  CHECK(error_action(F::offset_commit, std::make_error_code(std::errc::connection_refused)) ==
        A::find_coordinator);
  const std::error_code reset = boost::system::error_code(boost::asio::error::connection_reset);
  CHECK(error_action(F::fetch, reset) == A::retry);
  // A name that does not resolve is not a passing fault of a connection.
  const std::error_code no_host = boost::system::error_code(boost::asio::error::host_not_found);
  CHECK(error_action(F::fetch, no_host) == A::fatal);
}
