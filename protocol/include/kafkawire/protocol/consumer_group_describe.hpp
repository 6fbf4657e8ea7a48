// ConsumerGroupDescribe (key 69): DescribeGroups for the consumer groups of KIP-848. A classic group is
// not described here (GROUP_ID_NOT_FOUND, "not a consumer group"), and DescribeGroups answers a consumer
// group likewise on Kafka 4.x, so a tool that does not know a group's type asks ListGroups v5+ first.
// Like DescribeGroups, it goes to each group's coordinator.
//
// Request  v0+:  GroupIds[], IncludeAuthorizedOperations; flexible
//          v1:   the same request (v1 only announces MemberType in the response)
// Response v0+:  ThrottleTimeMs, Groups[ErrorCode, ErrorMessage, GroupId, GroupState, GroupEpoch,
//                AssignmentEpoch, AssignorName, Members[...], AuthorizedOperations]
//                Members[MemberId, InstanceId, RackId, MemberEpoch, ClientId, ClientHost,
//                SubscribedTopicNames[], SubscribedTopicRegex, Assignment, TargetAssignment]
//                Assignment = TopicPartitions[TopicId, TopicName, Partitions[]] (not nullable)
//          v1+:  Members[MemberType] (KIP-1099): -1 unknown, 0 classic (a JoinGroup member of a
//                consumer group during the online migration), 1 consumer
// Kafka 3.9 advertises v0, 4.x 0-1 (ApiVersions decides at run time).
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ConsumerGroupDescribeResponse;

struct ConsumerGroupDescribeRequest {
  static constexpr std::string_view name = "ConsumerGroupDescribeRequest";
  static constexpr int16_t api_key = 69;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;
  using response_type = ConsumerGroupDescribeResponse;

  std::vector<std::string> group_ids;
  bool include_authorized_operations = false;

  friend bool operator==(const ConsumerGroupDescribeRequest&, const ConsumerGroupDescribeRequest&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupDescribeRequest& m) {
  v.field("GroupIds", m.group_ids);
  v.field("IncludeAuthorizedOperations", m.include_authorized_operations);
  v.tags();
}

struct ConsumerGroupDescribeResponse {
  static constexpr std::string_view name = "ConsumerGroupDescribeResponse";
  static constexpr int16_t api_key = 69;
  static constexpr int16_t min_version = 0, max_version = 1, first_flexible = 0;

  // MemberType (v1+).
  static constexpr int8_t kMemberTypeUnknown = -1, kMemberTypeClassic = 0, kMemberTypeConsumer = 1;

  // commonStructs in the schema.
  struct TopicPartitions {
    Uuid topic_id;
    std::string topic_name;
    std::vector<int32_t> partitions;
    friend bool operator==(const TopicPartitions&, const TopicPartitions&) = default;
  };
  struct Assignment {
    std::vector<TopicPartitions> topic_partitions;
    friend bool operator==(const Assignment&, const Assignment&) = default;
  };

  struct Member {
    std::string member_id;
    std::optional<std::string> instance_id;
    std::optional<std::string> rack_id;
    int32_t member_epoch = 0;
    std::string client_id;
    std::string client_host;
    std::vector<std::string> subscribed_topic_names;
    std::optional<std::string> subscribed_topic_regex;
    Assignment assignment;
    Assignment target_assignment;
    int8_t member_type = kMemberTypeUnknown;  // v1+
    friend bool operator==(const Member&, const Member&) = default;
  };

  struct DescribedGroup {
    int16_t error_code = 0;
    std::optional<std::string> error_message;
    std::string group_id;
    std::string group_state;
    int32_t group_epoch = 0;
    int32_t assignment_epoch = 0;
    std::string assignor_name;
    std::vector<Member> members;
    int32_t authorized_operations = std::numeric_limits<int32_t>::min();
    friend bool operator==(const DescribedGroup&, const DescribedGroup&) = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DescribedGroup> groups;

  friend bool operator==(const ConsumerGroupDescribeResponse&,
                         const ConsumerGroupDescribeResponse&) = default;
};

template <class V>
void visit(V& v, ConsumerGroupDescribeResponse::TopicPartitions& m) {
  v.field("TopicId", m.topic_id);
  v.field("TopicName", m.topic_name);
  v.field("Partitions", m.partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupDescribeResponse::Assignment& m) {
  v.field("TopicPartitions", m.topic_partitions);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupDescribeResponse::Member& m) {
  v.field("MemberId", m.member_id);
  v.field("InstanceId", m.instance_id);
  v.field("RackId", m.rack_id);
  v.field("MemberEpoch", m.member_epoch);
  v.field("ClientId", m.client_id);
  v.field("ClientHost", m.client_host);
  v.field("SubscribedTopicNames", m.subscribed_topic_names);
  v.field("SubscribedTopicRegex", m.subscribed_topic_regex);
  v.field("Assignment", m.assignment);
  v.field("TargetAssignment", m.target_assignment);
  if (v.version() >= 1) v.field("MemberType", m.member_type);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupDescribeResponse::DescribedGroup& m) {
  v.field("ErrorCode", m.error_code);
  v.field("ErrorMessage", m.error_message);
  v.field("GroupId", m.group_id);
  v.field("GroupState", m.group_state);
  v.field("GroupEpoch", m.group_epoch);
  v.field("AssignmentEpoch", m.assignment_epoch);
  v.field("AssignorName", m.assignor_name);
  v.field("Members", m.members);
  v.field("AuthorizedOperations", m.authorized_operations);
  v.tags();
}

template <class V>
void visit(V& v, ConsumerGroupDescribeResponse& m) {
  v.field("ThrottleTimeMs", m.throttle_time_ms);
  v.field("Groups", m.groups);
  v.tags();
}

}  // namespace kafkawire::protocol
