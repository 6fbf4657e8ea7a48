// What the group driver sends for GroupMember's Send* actions (group/coordinator.hpp), and what it feeds
// back of the answers. The member decides what to say, in no version's shape; these build the request at
// the version the driver negotiated with the coordinator, and name the topics of the answers. Pure: the
// unit tests check each version's shape.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kafkawire/group/consumer_group_member.hpp"
#include "kafkawire/group/coordinator.hpp"
#include "kafkawire/protocol/heartbeat.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/leave_group.hpp"
#include "kafkawire/protocol/offset_requests.hpp"
#include "kafkawire/protocol/sync_group.hpp"

namespace kafkawire::group_requests {

// The request at `version`: every field that version carries, the others left at their defaults. The
// Bytes of JoinGroup's metadata and SyncGroup's assignments point into the action: keep it until the
// request is encoded.
protocol::JoinGroupRequest join_group_request(const group::action::SendJoinGroup& a, int16_t version);
protocol::SyncGroupRequest sync_group_request(const group::action::SendSyncGroup& a, int16_t version);
protocol::HeartbeatRequest heartbeat_request(const group::action::SendHeartbeat& a, int16_t version);
protocol::LeaveGroupRequest leave_group_request(const group::action::SendLeaveGroup& a, int16_t version);

// OffsetCommit and OffsetFetch name topics by id from v10. The query names each topic and gives the id
// id_of(name) knows (a zero Uuid: unknown); protocol::make_offset_*_request() then builds the version, at
// most max_version(query) (9 while some id is unknown).
using TopicIdOf = std::function<protocol::Uuid(const std::string& name)>;
protocol::OffsetCommitQuery offset_commit_query(const group::action::SendOffsetCommit& a,
                                                const TopicIdOf& id_of);
protocol::OffsetFetchQuery offset_fetch_query(const group::action::SendOffsetFetch& a,
                                              const TopicIdOf& id_of);
// A KIP-848 member's: with its member id and epoch (OffsetFetch v9+; dropped at older versions).
protocol::OffsetFetchQuery offset_fetch_query(const group::consumer_group::action::SendOffsetFetch& a,
                                              const TopicIdOf& id_of);
int16_t max_version(const protocol::OffsetCommitQuery& q);
int16_t max_version(const protocol::OffsetFetchQuery& q);

// The answers as the member takes them, topics by name: a v10 answer names them by id, which name_of
// resolves (an id it does not know leaves the name empty: the member counts that partition as unanswered).
using TopicNameOf = std::function<std::string(const protocol::Uuid& id)>;
group::event::OffsetCommitResult offset_commit_result(group::Tag tag, uint64_t id,
                                                      const std::vector<protocol::CommitAnswer>& answers,
                                                      const TopicNameOf& name_of);
group::event::OffsetFetchResult offset_fetch_result(group::Tag tag, const protocol::OffsetFetchAnswer& answer,
                                                    const TopicNameOf& name_of);

}  // namespace kafkawire::group_requests
