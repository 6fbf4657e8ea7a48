// Every message kafkawire speaks, as type lists, for code that works on "any message": the golden and
// round-trip tests, the explainer, the spy proxy, version negotiation.
#pragma once

#include <cstdint>
#include <type_traits>

#include "kafkawire/protocol/add_offsets_to_txn.hpp"
#include "kafkawire/protocol/add_partitions_to_txn.hpp"
#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/consumer_group_describe.hpp"
#include "kafkawire/protocol/consumer_group_heartbeat.hpp"
#include "kafkawire/protocol/consumer_protocol.hpp"
#include "kafkawire/protocol/create_partitions.hpp"
#include "kafkawire/protocol/create_topics.hpp"
#include "kafkawire/protocol/delete_groups.hpp"
#include "kafkawire/protocol/delete_records.hpp"
#include "kafkawire/protocol/delete_topics.hpp"
#include "kafkawire/protocol/describe_cluster.hpp"
#include "kafkawire/protocol/describe_configs.hpp"
#include "kafkawire/protocol/describe_groups.hpp"
#include "kafkawire/protocol/end_txn.hpp"
#include "kafkawire/protocol/fetch.hpp"
#include "kafkawire/protocol/find_coordinator.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/heartbeat.hpp"
#include "kafkawire/protocol/incremental_alter_configs.hpp"
#include "kafkawire/protocol/init_producer_id.hpp"
#include "kafkawire/protocol/join_group.hpp"
#include "kafkawire/protocol/leave_group.hpp"
#include "kafkawire/protocol/list_groups.hpp"
#include "kafkawire/protocol/list_offsets.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "kafkawire/protocol/offset_commit.hpp"
#include "kafkawire/protocol/offset_delete.hpp"
#include "kafkawire/protocol/offset_fetch.hpp"
#include "kafkawire/protocol/produce.hpp"
#include "kafkawire/protocol/sasl_authenticate.hpp"
#include "kafkawire/protocol/sasl_handshake.hpp"
#include "kafkawire/protocol/sync_group.hpp"
#include "kafkawire/protocol/txn_offset_commit.hpp"

namespace kafkawire::protocol {

template <class... Ts>
struct TypeList {};

template <class Req>
struct Api {
  using request = Req;
  using response = typename Req::response_type;
  static constexpr int16_t key = Req::api_key;
};

// Ordered by api key.
using AllApis =
    TypeList<Api<ProduceRequest>, Api<FetchRequest>, Api<ListOffsetsRequest>, Api<MetadataRequest>,
             Api<OffsetCommitRequest>, Api<OffsetFetchRequest>, Api<FindCoordinatorRequest>,
             Api<JoinGroupRequest>, Api<HeartbeatRequest>, Api<LeaveGroupRequest>, Api<SyncGroupRequest>,
             Api<DescribeGroupsRequest>, Api<ListGroupsRequest>, Api<SaslHandshakeRequest>,
             Api<ApiVersionsRequest>, Api<CreateTopicsRequest>, Api<DeleteTopicsRequest>,
             Api<DeleteRecordsRequest>, Api<InitProducerIdRequest>, Api<AddPartitionsToTxnRequest>,
             Api<AddOffsetsToTxnRequest>, Api<EndTxnRequest>, Api<TxnOffsetCommitRequest>,
             Api<DescribeConfigsRequest>, Api<SaslAuthenticateRequest>, Api<CreatePartitionsRequest>,
             Api<DeleteGroupsRequest>, Api<IncrementalAlterConfigsRequest>, Api<OffsetDeleteRequest>,
             Api<DescribeClusterRequest>, Api<ConsumerGroupHeartbeatRequest>,
             Api<ConsumerGroupDescribeRequest>>;

// Messages that are not requests or responses but have versions of their own.
using OtherMessages =
    TypeList<RequestHeader, ResponseHeader, ConsumerProtocolSubscription, ConsumerProtocolAssignment>;

// Calls f(Api<...>{}) for every API.
template <class F>
void for_each_api(F&& f) {
  [&]<class... As>(TypeList<As...>) { (f(As{}), ...); }(AllApis{});
}

// Calls f(std::type_identity<M>{}) for every message: both sides of every API, then the others.
template <class F>
void for_each_message(F&& f) {
  for_each_api([&](auto api) {
    using A = decltype(api);
    f(std::type_identity<typename A::request>{});
    f(std::type_identity<typename A::response>{});
  });
  [&]<class... Ms>(TypeList<Ms...>) { (f(std::type_identity<Ms>{}), ...); }(OtherMessages{});
}

// Calls f(Api<...>{}) for the API with this key; false when kafkawire does not speak it.
template <class F>
bool with_api(int16_t key, F&& f) {
  bool found = false;
  for_each_api([&](auto api) {
    if (!found && decltype(api)::key == key) {
      found = true;
      f(api);
    }
  });
  return found;
}

// The name without "Request": "Fetch", "JoinGroup". Empty for keys kafkawire does not speak.
std::string_view api_name(int16_t key);

}  // namespace kafkawire::protocol
