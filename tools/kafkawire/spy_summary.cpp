#include "spy_summary.hpp"

#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::cli::spy {

namespace {

struct RecordCount {
  int64_t batches = 0;
  int64_t records = 0;
  void add(const proto::Records& r) {
    if (!r.bytes) return;
    // Batch headers only: no CRC, no decompression. A truncated tail batch is not counted.
    proto::BatchFrames frames(*r.bytes, proto::LegacyFrames::deliver);
    for (const proto::BatchFrame& f : frames) {
      ++batches;
      proto::BatchHeader h;
      if (f.magic == proto::kBatchMagic && !proto::decode_batch_header(f.bytes, h) && h.records_count > 0)
        records += h.records_count;
    }
  }
  std::string text() const { return plural(batches, "batch", "batches") + " " + plural(records, "record"); }
};

}  // namespace

std::string plural(int64_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : (many.empty() ? std::string(one) + "s" : many));
}

std::string host_port(const std::string& host, int64_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

std::string api_text(int16_t key, int16_t version) {
  const std::string_view name = proto::api_name(key);
  return (name.empty() ? "api " + std::to_string(key) : std::string(name)) + " v" + std::to_string(version);
}

std::string join(std::initializer_list<std::string> parts) {
  std::string s;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!s.empty()) s += ", ";
    s += p;
  }
  return s;
}

std::string first_error(const proto::Explanation& e) {
  auto errors = e.errors();
  if (errors.empty()) return "undecodable";
  return errors.front()->value + " at offset " + std::to_string(errors.front()->offset);
}

namespace {

template <class Topics>
size_t count_partitions(const Topics& topics, auto member) {
  size_t n = 0;
  for (const auto& t : topics) n += (t.*member).size();
  return n;
}

}  // namespace

std::string describe(const proto::ProduceRequest& m) {
  RecordCount c;
  size_t partitions = 0;
  for (const auto& t : m.topic_data)
    for (const auto& p : t.partition_data) {
      ++partitions;
      c.add(p.records);
    }
  return plural(static_cast<int64_t>(m.topic_data.size()), "topic") + ", " +
         plural(static_cast<int64_t>(partitions), "partition") + ", " + c.text() +
         ", acks=" + std::to_string(m.acks);
}
std::string describe(const proto::FetchRequest& m) {
  std::string s =
      "fetching " +
      plural(static_cast<int64_t>(count_partitions(m.topics, &proto::FetchRequest::FetchTopic::partitions)),
             "partition");
  if (m.session_id != 0 || m.session_epoch >= 0)
    s += ", session " + std::to_string(m.session_id) + " epoch " + std::to_string(m.session_epoch);
  return s;
}
std::string describe(const proto::FetchResponse& m) {
  RecordCount c;
  size_t partitions = 0;
  for (const auto& t : m.responses)
    for (const auto& p : t.partitions) {
      ++partitions;
      c.add(p.records);
    }
  return plural(static_cast<int64_t>(m.responses.size()), "topic") + ", " +
         plural(static_cast<int64_t>(partitions), "partition") + ", " + c.text();
}
std::string describe(const proto::ListOffsetsRequest& m) {
  return plural(static_cast<int64_t>(
                    count_partitions(m.topics, &proto::ListOffsetsRequest::ListOffsetsTopic::partitions)),
                "partition");
}
std::string describe(const proto::MetadataRequest& m) {
  return m.topics ? plural(static_cast<int64_t>(m.topics->size()), "topic") + " asked"
                  : std::string("all topics asked");
}
std::string describe(const proto::MetadataResponse& m) {
  return plural(static_cast<int64_t>(m.brokers.size()), "broker") + ", " +
         plural(static_cast<int64_t>(m.topics.size()), "topic");
}
std::string describe(const proto::FindCoordinatorRequest& m) {
  const char* type = m.key_type == 0 ? "group" : m.key_type == 1 ? "transaction" : "share";
  if (!m.coordinator_keys.empty()) {
    std::string s = type;
    for (const auto& k : m.coordinator_keys) s += " " + k;
    return s;
  }
  return std::string(type) + " " + m.key;
}
std::string describe(const proto::JoinGroupRequest& m) {
  return "group " + m.group_id + (m.member_id.empty() ? "" : ", member " + m.member_id);
}
std::string describe(const proto::JoinGroupResponse& m) {
  return "generation " + std::to_string(m.generation_id) + ", member " + m.member_id +
         (m.leader == m.member_id && !m.leader.empty()
              ? " (leader of " + plural(static_cast<int64_t>(m.members.size()), "member") + ")"
              : "");
}
std::string describe(const proto::SyncGroupRequest& m) {
  return "group " + m.group_id + ", generation " + std::to_string(m.generation_id) + ", " +
         plural(static_cast<int64_t>(m.assignments.size()), "assignment");
}
std::string describe(const proto::HeartbeatRequest& m) {
  return "group " + m.group_id + ", generation " + std::to_string(m.generation_id);
}
std::string describe(const proto::LeaveGroupRequest& m) { return "group " + m.group_id; }
std::string describe(const proto::OffsetCommitRequest& m) {
  return "group " + m.group_id + ", " +
         plural(static_cast<int64_t>(count_partitions(
                    m.topics, &proto::OffsetCommitRequest::OffsetCommitRequestTopic::partitions)),
                "partition");
}
std::string describe(const proto::OffsetFetchRequest& m) {
  if (!m.groups.empty())
    return plural(static_cast<int64_t>(m.groups.size()), "group") + " (" + m.groups[0].group_id +
           (m.groups.size() > 1 ? ", ..." : "") + ")";
  return "group " + m.group_id;
}
std::string describe(const proto::ApiVersionsResponse& m) {
  return plural(static_cast<int64_t>(m.api_keys.size()), "api");
}
std::string describe(const proto::CreateTopicsRequest& m) {
  std::string s = "create";
  for (const auto& t : m.topics) s += " " + t.name;
  return s;
}
std::string describe(const proto::ConsumerGroupHeartbeatRequest& m) {
  return "group " + m.group_id + ", epoch " + std::to_string(m.member_epoch);
}
std::string describe(const proto::ConsumerGroupHeartbeatResponse& m) {
  std::string s = "epoch " + std::to_string(m.member_epoch);
  if (m.assignment) {
    size_t n = 0;
    for (const auto& tp : m.assignment->topic_partitions) n += tp.partitions.size();
    s += ", assigned " + plural(static_cast<int64_t>(n), "partition");
  }
  return s;
}
std::string describe(const proto::ConsumerGroupDescribeRequest& m) {
  std::string s;
  for (const auto& g : m.group_ids) s += (s.empty() ? "group " : ", ") + g;
  return s.empty() ? "no groups" : s;
}
// "orders: Stable, epoch 3, 2 members": the state of each group described without an error.
std::string describe(const proto::ConsumerGroupDescribeResponse& m) {
  std::string s;
  for (const auto& g : m.groups) {
    if (g.error_code) continue;
    s += (s.empty() ? "" : ", ") + g.group_id + ": " + g.group_state + ", epoch " +
         std::to_string(g.group_epoch) + ", " + plural(static_cast<int64_t>(g.members.size()), "member");
  }
  return s;
}
std::string describe(const proto::ListGroupsResponse& m) {
  return plural(static_cast<int64_t>(m.groups.size()), "group");
}
std::string describe(const proto::InitProducerIdResponse& m) {
  return "producer " + std::to_string(m.producer_id) + ", epoch " + std::to_string(m.producer_epoch);
}

namespace {

// "ledger (producer 7, epoch 0)": who a transactional request speaks for.
std::string txn_text(const std::string& transactional_id, int64_t producer_id, int16_t producer_epoch) {
  return transactional_id + " (producer " + std::to_string(producer_id) + ", epoch " +
         std::to_string(producer_epoch) + ")";
}

// "orders-0, orders-2, audit-1": the partitions of AddPartitionsToTxn, the first few of them.
std::string partitions_text(
    const std::vector<proto::AddPartitionsToTxnRequest::AddPartitionsToTxnTopic>& topics) {
  constexpr size_t kShown = 6;
  std::string s;
  size_t n = 0;
  for (const auto& t : topics)
    for (int32_t p : t.partitions) {
      if (n++ < kShown) s += (s.empty() ? "" : ", ") + t.name + "-" + std::to_string(p);
    }
  if (n == 0) return "no partitions";
  if (n > kShown) s += ", ... (" + std::to_string(n) + " partitions)";
  return s;
}

}  // namespace

std::string describe(const proto::AddPartitionsToTxnRequest& m) {
  if (m.transactions.empty())  // v0-3, what a producer sends
    return txn_text(m.v3_and_below_transactional_id, m.v3_and_below_producer_id,
                    m.v3_and_below_producer_epoch) +
           ": " + partitions_text(m.v3_and_below_topics);
  // v4+: a partition leader checking (or adding) the partitions of several transactions.
  std::string s;
  for (const auto& t : m.transactions) {
    if (!s.empty()) s += "; ";
    s += std::string(t.verify_only ? "verify " : "add ") +
         txn_text(t.transactional_id, t.producer_id, t.producer_epoch) + ": " + partitions_text(t.topics);
  }
  return s;
}
std::string describe(const proto::AddOffsetsToTxnRequest& m) {
  return txn_text(m.transactional_id, m.producer_id, m.producer_epoch) + ", group " + m.group_id;
}
std::string describe(const proto::EndTxnRequest& m) {
  return std::string(m.committed ? "commit " : "abort ") +
         txn_text(m.transactional_id, m.producer_id, m.producer_epoch);
}
// v5 (transactions v2): the producer id and epoch of the next transaction.
std::string describe(const proto::EndTxnResponse& m) {
  if (m.producer_id < 0) return "";
  return "next: producer " + std::to_string(m.producer_id) + ", epoch " + std::to_string(m.producer_epoch);
}
std::string describe(const proto::TxnOffsetCommitRequest& m) {
  return txn_text(m.transactional_id, m.producer_id, m.producer_epoch) + ", group " + m.group_id + ", " +
         plural(static_cast<int64_t>(count_partitions(
                    m.topics, &proto::TxnOffsetCommitRequest::TxnOffsetCommitRequestTopic::partitions)),
                "partition");
}
std::string describe(const proto::SaslHandshakeRequest& m) { return "mechanism " + m.mechanism; }
std::string describe(const proto::SaslHandshakeResponse& m) {
  std::string s = "enabled:";
  for (const auto& mech : m.mechanisms) s += " " + mech;
  return m.mechanisms.empty() ? "no mechanism enabled" : s;
}
// The auth bytes themselves may hold a password or a token: their length only.
std::string describe(const proto::SaslAuthenticateRequest& m) {
  return "auth bytes: " + proto::secret_text(m.auth_bytes.bytes.len);
}
std::string describe(const proto::SaslAuthenticateResponse& m) {
  std::string s = "auth bytes: " + proto::secret_text(m.auth_bytes.bytes.len);
  if (m.session_lifetime_ms > 0) s += ", session lifetime " + std::to_string(m.session_lifetime_ms) + " ms";
  if (m.error_message && !m.error_message->empty()) s += ", " + *m.error_message;
  return s;
}

// ---- topic and cluster administration

namespace {

// "a, b, c, ... (12 groups)": the first few names of a list.
template <class Range, class Name>
std::string names_text(const Range& items, Name name, std::string_view one, std::string_view many = {}) {
  constexpr size_t kShown = 4;
  std::string s;
  size_t n = 0;
  for (const auto& x : items)
    if (n++ < kShown) s += (s.empty() ? "" : ", ") + name(x);
  if (n > kShown) s += ", ... (" + plural(static_cast<int64_t>(n), one, many) + ")";
  return s;
}

// "topic orders", "broker 1", "cluster defaults" (a broker resource named "").
std::string resource_text(int8_t type, const std::string& name) {
  using T = proto::ConfigResourceType;
  switch (type) {
    case T::kTopic:
      return "topic " + name;
    case T::kBroker:
      return name.empty() ? std::string("cluster defaults") : "broker " + name;
    case T::kBrokerLogger:
      return "broker logger " + name;
    case T::kClientMetrics:
      return "client metrics " + name;
    case T::kGroup:
      return "group " + name;
    default:
      return "resource type " + std::to_string(type) + " " + name;
  }
}

}  // namespace

std::string describe(const proto::DeleteGroupsRequest& m) {
  if (m.groups_names.empty()) return "no groups";
  return "delete " + names_text(
                         m.groups_names, [](const std::string& g) { return g; }, "group");
}
std::string describe(const proto::CreatePartitionsRequest& m) {
  std::string s = names_text(
      m.topics,
      [](const auto& t) {
        return t.name + " to " + plural(t.count, "partition") + (t.assignments ? " (assigned)" : "");
      },
      "topic");
  if (s.empty()) return "no topics";
  return s + (m.validate_only ? ", validate only" : "");
}
std::string describe(const proto::DeleteRecordsRequest& m) {
  std::vector<std::string> parts;
  for (const auto& t : m.topics)
    for (const auto& p : t.partitions)
      parts.push_back(t.name + "-" + std::to_string(p.partition_index) + " below " +
                      (p.offset == proto::DeleteRecordsRequest::kHighWatermark
                           ? std::string("the high watermark")
                           : std::to_string(p.offset)));
  if (parts.empty()) return "no partitions";
  return "delete " + names_text(
                         parts, [](const std::string& x) { return x; }, "partition");
}
std::string describe(const proto::DeleteRecordsResponse& m) {
  std::vector<std::string> parts;
  for (const auto& t : m.topics)
    for (const auto& p : t.partitions)
      if (p.error_code == 0)
        parts.push_back(t.name + "-" + std::to_string(p.partition_index) + " starts at " +
                        std::to_string(p.low_watermark));
  return names_text(
      parts, [](const std::string& x) { return x; }, "partition");
}
std::string describe(const proto::DescribeClusterResponse& m) {
  if (m.cluster_id.empty() && m.brokers.empty()) return "";
  return "cluster " + m.cluster_id + ", controller " + std::to_string(m.controller_id) + ", " +
         plural(static_cast<int64_t>(m.brokers.size()), "broker");
}
std::string describe(const proto::DescribeConfigsRequest& m) {
  std::string s = names_text(
      m.resources,
      [](const auto& r) {
        return resource_text(r.resource_type, r.resource_name) +
               (r.configuration_keys
                    ? " (" + plural(static_cast<int64_t>(r.configuration_keys->size()), "key") + ")"
                    : std::string(" (all keys)"));
      },
      "resource");
  return s.empty() ? std::string("no resources") : s;
}
std::string describe(const proto::DescribeConfigsResponse& m) {
  return names_text(
      m.results,
      [](const auto& r) {
        return resource_text(r.resource_type, r.resource_name) + ": " +
               plural(static_cast<int64_t>(r.configs.size()), "config");
      },
      "resource");
}
// Key names only: a value may be a password (ssl.keystore.password, sasl.jaas.config).
std::string describe(const proto::IncrementalAlterConfigsRequest& m) {
  using Req = proto::IncrementalAlterConfigsRequest;
  std::string s = names_text(
      m.resources,
      [](const auto& r) {
        std::string ops;
        for (const auto& c : r.configs) {
          if (!ops.empty()) ops += ", ";
          switch (c.config_operation) {
            case Req::kSet:
              ops += "set " + c.name;
              break;
            case Req::kDelete:
              ops += "delete " + c.name;
              break;
            case Req::kAppend:
              ops += "append to " + c.name;
              break;
            case Req::kSubtract:
              ops += "subtract from " + c.name;
              break;
            default:
              ops += "operation " + std::to_string(c.config_operation) + " " + c.name;
          }
        }
        return resource_text(r.resource_type, r.resource_name) + ": " + (ops.empty() ? "nothing" : ops);
      },
      "resource");
  if (s.empty()) return "no resources";
  return s + (m.validate_only ? ", validate only" : "");
}

}  // namespace kafkawire::cli::spy
