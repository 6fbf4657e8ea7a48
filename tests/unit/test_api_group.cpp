// Group-membership messages: the version-dependent nullability and presence rules that the golden
// vectors (filled with every field set) do not exercise.
#include <catch2/catch.hpp>

#include "kafkawire/protocol/consumer_group_describe.hpp"
#include "kafkawire/protocol/consumer_group_heartbeat.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/leave_group.hpp"
#include "kafkawire/protocol/sync_group.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::to_hex;

TEST_CASE("JoinGroupResponse.ProtocolName may be null only from v7", "[group]") {
  JoinGroupResponse r;  // default ProtocolName is "", so a default response encodes at every version
  for (int16_t v = 0; v <= 9; ++v) {
    std::error_code ec;
    encode(r, v, &ec);
    CHECK_FALSE(ec);
  }
  r.protocol_name.reset();
  std::error_code ec;
  encode(r, 6, &ec);
  CHECK(ec == client_errc::not_nullable);
  const std::vector<uint8_t> bytes = encode(r, 7, &ec);
  REQUIRE_FALSE(ec);
  JoinGroupResponse back;
  REQUIRE_FALSE(decode(Bytes(bytes), back, 7));
  CHECK_FALSE(back.protocol_name.has_value());
}

TEST_CASE("LeaveGroupRequest switches from one MemberId to a Members batch at v3", "[group]") {
  LeaveGroupRequest r;
  r.group_id = "g";
  r.member_id = "m";
  r.members = {{"m", std::nullopt, std::nullopt}};
  CHECK(to_hex(encode(r, 2)) == "00016700016d");
  // clang-format off
  CHECK(to_hex(encode(r, 3)) == "000167" "00000001" "00016d" "ffff");
  CHECK(to_hex(encode(r, 5)) == "0267" "02" "026d" "00" "00" "00" "00");
  // clang-format on
}

TEST_CASE("ConsumerGroupHeartbeat null fields are one byte each", "[group]") {
  ConsumerGroupHeartbeatRequest req;  // a steady-state heartbeat: everything unchanged is null
  req.group_id = "g";
  req.member_id = "m";
  req.member_epoch = 5;
  // clang-format off
  CHECK(to_hex(encode(req, 1)) ==
        "0267" "026d" "00000005"  // GroupId, MemberId, MemberEpoch
        "00" "00"                 // InstanceId, RackId
        "ffffffff"                // RebalanceTimeoutMs -1
        "00" "00" "00" "00"       // SubscribedTopicNames, SubscribedTopicRegex, ServerAssignor, TopicPartitions
        "00");                    // no tagged fields
  // clang-format on

  ConsumerGroupHeartbeatResponse resp;
  resp.heartbeat_interval_ms = 5000;
  const std::vector<uint8_t> bytes = encode(resp, 0);
  // clang-format off
  CHECK(to_hex(bytes) == "00000000" "0000" "00" "00" "00000000" "00001388" "ff" "00");
  // clang-format on
  ConsumerGroupHeartbeatResponse back;
  REQUIRE_FALSE(decode(Bytes(bytes), back, 0));
  CHECK(back == resp);

  // An empty assignment is not "no change": marker 1, then an empty array.
  resp.assignment.emplace();
  // clang-format off
  CHECK(to_hex(encode(resp, 0)) == "00000000" "0000" "00" "00" "00000000" "00001388" "01" "01" "00" "00");
  // clang-format on
}

TEST_CASE("ConsumerGroupDescribe: assignments are plain structs, MemberType only from v1", "[group]") {
  ConsumerGroupDescribeResponse resp;
  auto& g = resp.groups.emplace_back();
  g.group_id = "g";
  g.members.emplace_back();
  // clang-format off
  const std::string group_head = "00000000" "02"            // ThrottleTimeMs, one group
      "0000" "00" "0267" "01" "00000000" "00000000" "01"    // ErrorCode, ErrorMessage null, GroupId, GroupState,
                                                             // GroupEpoch, AssignmentEpoch, AssignorName
      "02";                                                  // one member
  const std::string member = "01" "00" "00" "00000000" "01" "01"  // MemberId, InstanceId, RackId null, MemberEpoch,
                                                                   // ClientId, ClientHost
      "01" "00"                                              // SubscribedTopicNames, SubscribedTopicRegex null
      "0100" "0100";                                         // Assignment, TargetAssignment: no marker, empty
  const std::string group_tail = "00" "80000000" "00" "00";  // member tags, AuthorizedOperations default, tags
  CHECK(to_hex(encode(resp, 0)) == group_head + member + group_tail);
  CHECK(to_hex(encode(resp, 1)) == group_head + member + "ff" + group_tail);  // MemberType -1: unknown
  // clang-format on
  for (int16_t v : {int16_t{0}, int16_t{1}}) {
    ConsumerGroupDescribeResponse back;
    REQUIRE_FALSE(decode(Bytes(encode(resp, v)), back, v));
    CHECK(back == resp);
  }
}
