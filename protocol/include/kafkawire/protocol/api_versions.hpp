// ApiVersions (key 18): which versions of which APIs the broker serves. The first request on every
// connection; see net/ for how its answer picks the version of every later request.
//
// Request  v0-2: no fields.
//          v3:   ClientSoftwareName, ClientSoftwareVersion (KIP-511; must match
//                [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])? or the broker answers INVALID_REQUEST);
//                flexible.
//          v4:   same as v3 (a v4 response may carry error 35 with the versions the broker serves).
//          v5:   ClusterId (nullable), NodeId: the cluster and node the client means to reach, both or
//                neither (kafka-clients 4.4; null / -1 when unknown, which is what kafkawire sends).
// Response v0:   ErrorCode, ApiKeys[ApiKey, MinVersion, MaxVersion]
//          v1+:  ThrottleTimeMs
//          v3+:  flexible; tagged 0 SupportedFeatures, 1 FinalizedFeaturesEpoch, 2 FinalizedFeatures,
//                3 ZkMigrationReady
//          v5:   same as v4
// The response header is always v0, even for flexible versions (KIP-511).
// When the broker does not serve the requested version it answers with error UNSUPPORTED_VERSION (35)
// in the v0 format and lists its own ApiVersions range in ApiKeys.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ApiVersionsResponse;

struct ApiVersionsRequest {
  static constexpr std::string_view name = "ApiVersionsRequest";
  static constexpr int16_t api_key = 18;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;
  using response_type = ApiVersionsResponse;

  std::string client_software_name;       // v3+
  std::string client_software_version;    // v3+
  std::optional<std::string> cluster_id;  // v5+
  int32_t node_id = -1;                   // v5+

  friend bool operator==(const ApiVersionsRequest&, const ApiVersionsRequest&) = default;
};

template <class V>
void visit(V& v, ApiVersionsRequest& m) {
  if (v.version() >= 3) {
    v.field("ClientSoftwareName", m.client_software_name);
    v.field("ClientSoftwareVersion", m.client_software_version);
  }
  if (v.version() >= 5) {
    v.field("ClusterId", m.cluster_id);
    v.field("NodeId", m.node_id);
  }
  v.tags();
}

struct ApiVersionsResponse {
  static constexpr std::string_view name = "ApiVersionsResponse";
  static constexpr int16_t api_key = 18;
  static constexpr int16_t min_version = 0, max_version = 5, first_flexible = 3;

  struct ApiVersion {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    friend bool operator==(const ApiVersion&, const ApiVersion&) = default;
  };
  struct SupportedFeatureKey {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    friend bool operator==(const SupportedFeatureKey&, const SupportedFeatureKey&) = default;
  };
  struct FinalizedFeatureKey {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    friend bool operator==(const FinalizedFeatureKey&, const FinalizedFeatureKey&) = default;
  };

  int16_t error_code = 0;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;                         // v1+
  std::vector<SupportedFeatureKey> supported_features;  // v3+, tag 0
  int64_t finalized_features_epoch = -1;                // v3+, tag 1
  std::vector<FinalizedFeatureKey> finalized_features;  // v3+, tag 2
  bool zk_migration_ready = false;                      // v3+, tag 3

  friend bool operator==(const ApiVersionsResponse&, const ApiVersionsResponse&) = default;
};

template <class V>
void visit(V& v, ApiVersionsResponse::ApiVersion& m) {
  v.field("ApiKey", m.api_key);
  v.field("MinVersion", m.min_version);
  v.field("MaxVersion", m.max_version);
  v.tags();
}

template <class V>
void visit(V& v, ApiVersionsResponse::SupportedFeatureKey& m) {
  v.field("Name", m.name);
  v.field("MinVersion", m.min_version);
  v.field("MaxVersion", m.max_version);
  v.tags();
}

template <class V>
void visit(V& v, ApiVersionsResponse::FinalizedFeatureKey& m) {
  v.field("Name", m.name);
  v.field("MaxVersionLevel", m.max_version_level);
  v.field("MinVersionLevel", m.min_version_level);
  v.tags();
}

template <class V>
void visit(V& v, ApiVersionsResponse& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ApiKeys", m.api_keys);
  if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.tags([&](auto& t) {
    t.field(0, "SupportedFeatures", m.supported_features);
    t.field(1, "FinalizedFeaturesEpoch", m.finalized_features_epoch, -1);
    t.field(2, "FinalizedFeatures", m.finalized_features);
    t.field(3, "ZkMigrationReady", m.zk_migration_ready);
  });
}

}  // namespace kafkawire::protocol
