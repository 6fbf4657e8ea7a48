// IncrementalAlterConfigs (key 44): changes single configuration keys of topics, brokers, broker loggers,
// client-metrics subscriptions or groups, leaving the others as they are (KIP-339; the older AlterConfigs
// replaced the whole set). Topic and group resources go to any broker; a broker resource to that broker
// (ResourceName "" for the cluster-wide defaults, which any broker takes).
//
// Request  v0:   Resources[ResourceType, ResourceName, Configs[Name, ConfigOperation (0 SET, 1 DELETE,
//                2 APPEND, 3 SUBTRACT: the last two for list-valued keys), Value (nullable)]], ValidateOnly
//          v1:   flexible
// Response v0:   ThrottleTimeMs, Responses[ErrorCode, ErrorMessage, ResourceType, ResourceName]
//          v1:   flexible
// An error is per resource (INVALID_CONFIG (40) for an unknown key or a bad value, UNKNOWN_TOPIC_OR_PARTITION
// (3) for a topic that does not exist); a resource's keys change together or not at all.
// Kafka 3.9 and 4.x serve v0-1.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct IncrementalAlterConfigsResponse;

struct IncrementalAlterConfigsRequest {
  static constexpr std::string_view name = "IncrementalAlterConfigsRequest";
  static constexpr int16_t api_key = 44;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 1;
  using response_type = IncrementalAlterConfigsResponse;
  static constexpr int8_t kSet = 0, kDelete = 1, kAppend = 2, kSubtract = 3;  // ConfigOperation

  struct AlterableConfig {
    std::string name;
    int8_t config_operation = kSet;
    std::optional<std::string> value;
    friend bool operator==(const AlterableConfig&, const AlterableConfig&) = default;
  };
  struct AlterConfigsResource {
    int8_t resource_type = 0;  // ConfigResourceType (describe_configs.hpp)
    std::string resource_name;
    std::vector<AlterableConfig> configs;
    friend bool operator==(const AlterConfigsResource&, const AlterConfigsResource&) = default;
  };

  std::vector<AlterConfigsResource> resources;
  bool validate_only = false;

  friend bool operator==(const IncrementalAlterConfigsRequest&,
                         const IncrementalAlterConfigsRequest&) = default;
};

template <class V>
void visit(V& v, IncrementalAlterConfigsRequest::AlterableConfig& m) {
  v.field("Name", m.name);
  v.field("ConfigOperation", m.config_operation);
  v.field("Value", m.value);
  v.tags();
}

template <class V>
void visit(V& v, IncrementalAlterConfigsRequest::AlterConfigsResource& m) {
  v.field("ResourceType", m.resource_type);
  v.field("ResourceName", m.resource_name);
  v.field("Configs", m.configs);
  v.tags();
}

template <class V>
void visit(V& v, IncrementalAlterConfigsRequest& m) {
  v.field("Resources", m.resources);
  v.field("ValidateOnly", m.validate_only);
  v.tags();
}

struct IncrementalAlterConfigsResponse {
  static constexpr std::string_view name = "IncrementalAlterConfigsResponse";
  static constexpr int16_t api_key = 44;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 1;

  struct AlterConfigsResourceResponse {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    int8_t resource_type = 0;
    std::string resource_name;
    friend bool operator==(const AlterConfigsResourceResponse&,
                           const AlterConfigsResourceResponse&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<AlterConfigsResourceResponse> responses;

  friend bool operator==(const IncrementalAlterConfigsResponse&,
                         const IncrementalAlterConfigsResponse&) = default;
};

template <class V>
void visit(V& v, IncrementalAlterConfigsResponse::AlterConfigsResourceResponse& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.field("ResourceType", m.resource_type);
  v.field("ResourceName", m.resource_name);
  v.tags();
}

template <class V>
void visit(V& v, IncrementalAlterConfigsResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Responses", m.responses);
  v.tags();
}

}  // namespace kafkawire::protocol
