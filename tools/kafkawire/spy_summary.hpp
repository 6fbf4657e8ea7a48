// What the spy prints about a frame: a one-line summary of each decoded message (partitions, batches and
// records, groups, generations), the broker errors anywhere in it, and the small text helpers its lines use.
// Pure code over decoded messages: no I/O.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <type_traits>

#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"

namespace kafkawire::cli::spy {

namespace proto = kafkawire::protocol;

std::string plural(int64_t n, std::string_view one, std::string_view many = {});
std::string host_port(const std::string& host, int64_t port);
// "Fetch v12", or "api 99 v0" for an api kafkawire does not know.
std::string api_text(int16_t key, int16_t version);
// The non-empty parts joined with ", ".
std::string join(std::initializer_list<std::string> parts);
// The first error of an explanation of a frame, for a decode-error line.
std::string first_error(const proto::Explanation& e);

// A one-line summary of a decoded message ("3 partitions, 2 batches 10 records, acks=-1"); empty for
// messages that have none.
template <class T>
std::string describe(const T&) {
  return "";
}
std::string describe(const proto::ProduceRequest& m);
std::string describe(const proto::FetchRequest& m);
std::string describe(const proto::FetchResponse& m);
std::string describe(const proto::ListOffsetsRequest& m);
std::string describe(const proto::MetadataRequest& m);
std::string describe(const proto::MetadataResponse& m);
std::string describe(const proto::FindCoordinatorRequest& m);
std::string describe(const proto::JoinGroupRequest& m);
std::string describe(const proto::JoinGroupResponse& m);
std::string describe(const proto::SyncGroupRequest& m);
std::string describe(const proto::HeartbeatRequest& m);
std::string describe(const proto::LeaveGroupRequest& m);
std::string describe(const proto::OffsetCommitRequest& m);
std::string describe(const proto::OffsetFetchRequest& m);
std::string describe(const proto::ApiVersionsResponse& m);
std::string describe(const proto::CreateTopicsRequest& m);
std::string describe(const proto::ConsumerGroupHeartbeatRequest& m);
std::string describe(const proto::ConsumerGroupHeartbeatResponse& m);
std::string describe(const proto::ConsumerGroupDescribeRequest& m);
std::string describe(const proto::ConsumerGroupDescribeResponse& m);
std::string describe(const proto::ListGroupsResponse& m);
std::string describe(const proto::InitProducerIdResponse& m);
std::string describe(const proto::AddPartitionsToTxnRequest& m);
std::string describe(const proto::AddOffsetsToTxnRequest& m);
std::string describe(const proto::EndTxnRequest& m);
std::string describe(const proto::EndTxnResponse& m);
std::string describe(const proto::TxnOffsetCommitRequest& m);
std::string describe(const proto::SaslHandshakeRequest& m);
std::string describe(const proto::SaslHandshakeResponse& m);
std::string describe(const proto::SaslAuthenticateRequest& m);
std::string describe(const proto::SaslAuthenticateResponse& m);
std::string describe(const proto::DeleteGroupsRequest& m);
std::string describe(const proto::CreatePartitionsRequest& m);
std::string describe(const proto::DeleteRecordsRequest& m);
std::string describe(const proto::DeleteRecordsResponse& m);
std::string describe(const proto::DescribeClusterResponse& m);
std::string describe(const proto::DescribeConfigsRequest& m);
std::string describe(const proto::DescribeConfigsResponse& m);
std::string describe(const proto::IncrementalAlterConfigsRequest& m);

// Every non-zero error code anywhere in a decoded message (a field named ErrorCode, or ending in it like
// AddPartitionsToTxn's PartitionErrorCode): one more visitor of the same visit() functions.
class ErrorScan {
 public:
  ErrorScan(int16_t version, bool flexible) : version_(version), flexible_(flexible) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  template <class T>
  void field(std::string_view name, T& x) {
    scan(name, x);
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool) {
    scan(name, x);
  }
  void classic_nullable_string(std::string_view, std::optional<std::string>&) {}
  void tags() {}
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    TagScan t{*this};
    declare(t);
  }

  std::string text() const {
    if (errors_.empty()) return "";
    std::string s = "errors:";
    for (const auto& [code, n] : errors_) {
      const kafkawire::KafkaErrorInfo* info = kafkawire::find_kafka_error(code);
      s += " " + (info ? std::string(info->name) : "error " + std::to_string(code));
      if (n > 1) s += " x" + std::to_string(n);
    }
    return s;
  }

 private:
  struct TagScan {
    ErrorScan& s;
    template <class T>
    void field(uint32_t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      s.scan(name, x);
    }
  };

  template <class T>
  void scan(std::string_view name, T& x) {
    if constexpr (std::is_same_v<T, int16_t>) {
      if (x != 0 && name.ends_with("ErrorCode")) ++errors_[x];
    } else if constexpr (proto::is_vector<T>::value) {
      for (auto& e : x) scan(name, e);
    } else if constexpr (proto::is_optional<T>::value) {
      if (x) scan(name, *x);
    } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string> &&
                         !std::is_same_v<T, proto::Bytes> && !std::is_same_v<T, proto::Uuid> &&
                         !std::is_same_v<T, proto::Records> && !std::is_same_v<T, proto::SecretBytes>) {
      visit(*this, x);
    }
  }

  int16_t version_;
  bool flexible_;
  std::map<int16_t, int> errors_;
};

// Calls f(std::type_identity<M>{}) with the request (or response) type of an API kafkawire speaks at this
// version; false when it does not.
template <bool Request, class F>
bool with_known_version(int16_t key, int16_t version, F&& f) {
  bool ok = false;
  proto::with_api(key, [&](auto api) {
    using A = decltype(api);
    using M = std::conditional_t<Request, typename A::request, typename A::response>;
    if (!proto::supports_version<M>(version)) return;
    ok = true;
    f(std::type_identity<M>{});
  });
  return ok;
}

}  // namespace kafkawire::cli::spy
