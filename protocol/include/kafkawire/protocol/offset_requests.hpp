// OffsetFetch and OffsetCommit as a client means them, whatever the version: one builder per request and
// one reader per response, so no caller handles the message shapes itself.
//
// OffsetFetch has two shapes: v1-7 name one group (GroupId, Topics, a group ErrorCode from v2), v8+ a
// list of groups (Groups[GroupId, Topics, ErrorCode]). Both APIs name topics by TopicId from v10 (and by
// Name before): give both, and cap the version at 9 when an id is unknown
// (offset_api_max_version). Answers carry what the response carried: at v10 the topic id and an empty
// name, which the caller resolves from its metadata.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/protocol/offset_commit.hpp"
#include "kafkawire/protocol/offset_fetch.hpp"

namespace kafkawire::protocol {

// The highest OffsetFetch/OffsetCommit version usable when topics are named: v10 names them by id only.
constexpr int16_t offset_api_max_version(bool every_topic_id_known) { return every_topic_id_known ? 10 : 9; }

// ------------------------------------------------------------------------------------------ OffsetFetch

struct TopicPartitions {
  std::string topic;
  Uuid topic_id;  // needed at v10+
  std::vector<int32_t> partitions;
  friend bool operator==(const TopicPartitions&, const TopicPartitions&) = default;
};

struct OffsetFetchQuery {
  std::string group_id;
  // nullopt: every topic the group has committed offsets for (v2+).
  std::optional<std::vector<TopicPartitions>> topics = std::vector<TopicPartitions>{};
  bool require_stable = false;  // v7+: wait out pending transactional commits (KIP-447)
  // v9+: a member of a consumer-protocol group (KIP-848) names itself, and the broker checks the epoch
  // (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID). Dropped at older versions; nullopt / -1 outside a group.
  std::optional<std::string> member_id;
  int32_t member_epoch = -1;
  friend bool operator==(const OffsetFetchQuery&, const OffsetFetchQuery&) = default;
};

OffsetFetchRequest make_offset_fetch_request(const OffsetFetchQuery& query, int16_t version);

struct CommittedOffset {
  std::string topic;  // empty at v10 (named by id)
  Uuid topic_id;      // v10+
  int32_t partition = 0;
  std::optional<int64_t> offset;  // nullopt: nothing committed (-1 on the wire)
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  int16_t error_code = 0;
  friend bool operator==(const CommittedOffset&, const CommittedOffset&) = default;
};

struct OffsetFetchAnswer {
  int16_t error_code = 0;  // the group's (coordinator errors); 0 before v2
  std::vector<CommittedOffset> partitions;
  friend bool operator==(const OffsetFetchAnswer&, const OffsetFetchAnswer&) = default;
};

// The answer for one group, from the shape of this version (v8+: the entry for group_id; an answer that
// leaves the group out is malformed: error_code is then UNKNOWN_SERVER_ERROR).
OffsetFetchAnswer read_offset_fetch_response(const OffsetFetchResponse& response, std::string_view group_id,
                                             int16_t version);

// ----------------------------------------------------------------------------------------- OffsetCommit

struct OffsetToCommit {
  std::string topic;
  Uuid topic_id;  // needed at v10+
  int32_t partition = 0;
  int64_t offset = 0;  // the next record to read
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata = std::string();
  friend bool operator==(const OffsetToCommit&, const OffsetToCommit&) = default;
};

struct OffsetCommitQuery {
  std::string group_id;
  // -1 and an empty member id: a commit from outside any group generation (an assign() consumer, a tool).
  int32_t generation_id_or_member_epoch = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;  // v7+
  std::vector<OffsetToCommit> offsets;
  friend bool operator==(const OffsetCommitQuery&, const OffsetCommitQuery&) = default;
};

OffsetCommitRequest make_offset_commit_request(const OffsetCommitQuery& query, int16_t version);

struct CommitAnswer {
  std::string topic;  // empty at v10 (named by id)
  Uuid topic_id;      // v10+
  int32_t partition = 0;
  int16_t error_code = 0;
  friend bool operator==(const CommitAnswer&, const CommitAnswer&) = default;
};

std::vector<CommitAnswer> read_offset_commit_response(const OffsetCommitResponse& response, int16_t version);

}  // namespace kafkawire::protocol
