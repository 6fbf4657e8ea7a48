// KIP-951 leader hints: the two structures Fetch (v12+ CurrentLeader, v16+ NodeEndpoints) and Produce (v10+)
// responses share. Kafka's schemas declare them in each message with the same fields; kafkawire has one of
// each, used through FetchResponse::LeaderIdAndEpoch / ::NodeEndpoint and ProduceResponse's aliases.
//
//   LeaderIdAndEpoch: LeaderId int32 (-1 unknown), LeaderEpoch int32 (-1 unknown); flexible (tagged fields).
//   NodeEndpoint:     NodeId int32, Host compact string, Port int32, Rack compact nullable string; flexible.
//
// A partition answered NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH carries the new leader in
// CurrentLeader, and the response lists the endpoints of the leaders it names, so a client can move on
// without a Metadata round trip.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace kafkawire::protocol {

struct LeaderIdAndEpoch {
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;
  friend bool operator==(const LeaderIdAndEpoch&, const LeaderIdAndEpoch&) = default;
};

struct NodeEndpoint {
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
  friend bool operator==(const NodeEndpoint&, const NodeEndpoint&) = default;
};

template <class V>
void visit(V& v, LeaderIdAndEpoch& m) {
  v.field("LeaderId", m.leader_id);
  v.field("LeaderEpoch", m.leader_epoch);
  v.tags();
}

template <class V>
void visit(V& v, NodeEndpoint& m) {
  v.field("NodeId", m.node_id);
  v.field("Host", m.host);
  v.field("Port", m.port);
  v.field("Rack", m.rack);
  v.tags();
}

}  // namespace kafkawire::protocol
