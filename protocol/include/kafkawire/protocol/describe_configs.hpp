// DescribeConfigs (key 32): the configuration of topics, brokers, broker loggers, client-metrics
// subscriptions or groups: each key's value, where it comes from, and (v1+) the values it overrides.
// Topic and group resources go to any broker; a broker resource (ResourceName = the broker id, "" for the
// cluster-wide defaults) to that broker.
//
// Request  v0:   Resources[ResourceType, ResourceName, ConfigurationKeys (null: every key)]
//                (Kafka 3.9 serves it; removed in Kafka 4.0, KIP-896)
//          v1+:  IncludeSynonyms
//          v2:   same as v1 (on quota violation the broker answers first, then throttles)
//          v3+:  IncludeDocumentation (KIP-569)
//          v4:   flexible
// Response v0:   ThrottleTimeMs, Results[ErrorCode, ErrorMessage, ResourceType, ResourceName,
//                Configs[Name, Value (null when sensitive), ReadOnly, IsDefault, IsSensitive]]
//          v1+:  Configs[ConfigSource replaces IsDefault, Synonyms[Name, Value, Source]] (KIP-226)
//          v3+:  Configs[ConfigType, Documentation]
//          v4:   flexible
// An error is per resource: UNKNOWN_TOPIC_OR_PARTITION (3) for a topic that does not exist,
// INVALID_REQUEST (42) for a broker resource sent to another broker.
// Kafka 3.9 serves v0-4, Kafka 4.x v1-4.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

// ResourceType in DescribeConfigs, IncrementalAlterConfigs (Java's ConfigResource.Type).
struct ConfigResourceType {
  static constexpr int8_t kTopic = 2, kBroker = 4, kBrokerLogger = 8, kClientMetrics = 16, kGroup = 32;
};

// ConfigSource / Synonyms[Source] in DescribeConfigs v1+ (Java's DescribeConfigsResponse.ConfigSource).
struct ConfigSource {
  static constexpr int8_t kUnknown = 0, kTopicConfig = 1, kDynamicBrokerConfig = 2,
                          kDynamicDefaultBrokerConfig = 3, kStaticBrokerConfig = 4, kDefaultConfig = 5,
                          kDynamicBrokerLoggerConfig = 6, kClientMetricsConfig = 7, kGroupConfig = 8;
};

struct DescribeConfigsResponse;

struct DescribeConfigsRequest {
  static constexpr std::string_view name = "DescribeConfigsRequest";
  static constexpr int16_t api_key = 32;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;
  using response_type = DescribeConfigsResponse;

  struct DescribeConfigsResource {
    int8_t resource_type = 0;
    std::string resource_name;
    std::optional<std::vector<std::string>> configuration_keys;  // null: every key
    friend bool operator==(const DescribeConfigsResource&, const DescribeConfigsResource&) = default;
  };

  std::vector<DescribeConfigsResource> resources;
  bool include_synonyms = false;       // v1+
  bool include_documentation = false;  // v3+

  friend bool operator==(const DescribeConfigsRequest&, const DescribeConfigsRequest&) = default;
};

template <class V>
void visit(V& v, DescribeConfigsRequest::DescribeConfigsResource& m) {
  v.field("ResourceType", m.resource_type);
  v.field("ResourceName", m.resource_name);
  v.field("ConfigurationKeys", m.configuration_keys);
  v.tags();
}

template <class V>
void visit(V& v, DescribeConfigsRequest& m) {
  v.field("Resources", m.resources);
  if (v.version() >= 1) v.field("IncludeSynonyms", m.include_synonyms);
  if (v.version() >= 3) v.field("IncludeDocumentation", m.include_documentation);
  v.tags();
}

struct DescribeConfigsResponse {
  static constexpr std::string_view name = "DescribeConfigsResponse";
  static constexpr int16_t api_key = 32;
  static constexpr int16_t min_version = 0, max_version = 4, first_flexible = 4;

  struct DescribeConfigsSynonym {
    std::string name;
    std::optional<std::string> value;
    int8_t source = 0;
    friend bool operator==(const DescribeConfigsSynonym&, const DescribeConfigsSynonym&) = default;
  };
  struct DescribeConfigsResourceResult {
    std::string name;
    std::optional<std::string> value;
    bool read_only = false;
    bool is_default = false;    // v0 only
    int8_t config_source = -1;  // v1+
    bool is_sensitive = false;
    std::vector<DescribeConfigsSynonym> synonyms;  // v1+
    int8_t config_type = 0;                        // v3+
    std::optional<std::string> documentation;      // v3+
    friend bool operator==(const DescribeConfigsResourceResult&,
                           const DescribeConfigsResourceResult&) = default;
  };
  struct DescribeConfigsResult {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<DescribeConfigsResourceResult> configs;
    friend bool operator==(const DescribeConfigsResult&, const DescribeConfigsResult&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DescribeConfigsResult> results;

  friend bool operator==(const DescribeConfigsResponse&, const DescribeConfigsResponse&) = default;
};

template <class V>
void visit(V& v, DescribeConfigsResponse::DescribeConfigsSynonym& m) {
  v.field("Name", m.name);
  v.field("Value", m.value);
  v.field("Source", m.source);
  v.tags();
}

template <class V>
void visit(V& v, DescribeConfigsResponse::DescribeConfigsResourceResult& m) {
  v.field("Name", m.name);
  v.field("Value", m.value);
  v.field("ReadOnly", m.read_only);
  if (v.version() == 0) v.field("IsDefault", m.is_default);
  if (v.version() >= 1) v.field("ConfigSource", m.config_source);
  v.field("IsSensitive", m.is_sensitive);
  if (v.version() >= 1) v.field("Synonyms", m.synonyms);
  if (v.version() >= 3) {
    v.field("ConfigType", m.config_type);
    v.field("Documentation", m.documentation);
  }
  v.tags();
}

template <class V>
void visit(V& v, DescribeConfigsResponse::DescribeConfigsResult& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.field("ResourceType", m.resource_type);
  v.field("ResourceName", m.resource_name);
  v.field("Configs", m.configs);
  v.tags();
}

template <class V>
void visit(V& v, DescribeConfigsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Results", m.results);
  v.tags();
}

}  // namespace kafkawire::protocol
