// Helpers for the fetch session and partition buffer tests: record batches, Fetch responses as a broker
// would send them (encoded at the request's version and decoded again, so fields a version does not
// carry are gone), and a request as the broker reads it.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "kafkawire/consumer/fetch_session.hpp"
#include "kafkawire/consumer/partition_buffer.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::testing {

namespace proto = kafkawire::protocol;

inline proto::Uuid topic_uuid(uint8_t n) {
  proto::Uuid u;
  u.bytes[15] = n;
  return u;
}

// `count` batches of `per_batch` records from `base`, values "<offset>", as one records blob.
inline std::vector<uint8_t> batches(int64_t base, int count, int per_batch,
                                    proto::Compression compression = proto::Compression::none) {
  std::vector<uint8_t> out;
  for (int b = 0; b < count; ++b) {
    proto::BatchOptions o;
    o.base_offset = base + int64_t{b} * per_batch;
    o.partition_leader_epoch = 3;
    o.compression = compression;
    proto::RecordBatchBuilder builder(o);
    for (int r = 0; r < per_batch; ++r) {
      const std::string v = std::to_string(o.base_offset + r);
      builder.add(1700000000000 + o.base_offset + r, std::nullopt, proto::Bytes(std::string_view(v)));
    }
    REQUIRE_FALSE(builder.build_into(out));
  }
  return out;
}

// A partition's answer, for response().
struct PartAnswer {
  std::string topic;
  int32_t partition = 0;
  int16_t error = 0;
  std::vector<uint8_t> records{};
  int64_t high_watermark = 1000;
  proto::FetchResponse::LeaderIdAndEpoch current_leader{};
  uint8_t topic_id = 1;
};

// A decoded response and the frame it points into, as the Connection hands it over.
struct Received {
  fetch::Frame frame;
  proto::FetchResponse message;
};

inline Received response(int16_t version, int32_t session_id, const std::vector<PartAnswer>& parts,
                         int16_t error = 0, std::vector<proto::FetchResponse::NodeEndpoint> endpoints = {}) {
  proto::FetchResponse r;
  r.error_code = error;
  r.session_id = session_id;
  r.node_endpoints = std::move(endpoints);
  std::vector<std::vector<uint8_t>> keep;
  for (const auto& p : parts) {
    if (r.responses.empty() || r.responses.back().topic != p.topic) {
      auto& t = r.responses.emplace_back();
      t.topic = p.topic;
      t.topic_id = topic_uuid(p.topic_id);
    }
    auto& pd = r.responses.back().partitions.emplace_back();
    pd.partition_index = p.partition;
    pd.error_code = p.error;
    pd.high_watermark = p.high_watermark;
    pd.last_stable_offset = p.high_watermark;
    pd.log_start_offset = 0;
    pd.current_leader = p.current_leader;
    if (!p.records.empty()) pd.records.bytes = proto::Bytes(p.records);
  }
  std::error_code ec;
  auto bytes = std::make_shared<std::vector<uint8_t>>(proto::encode(r, version, &ec));
  REQUIRE_FALSE(ec);
  Received out;
  REQUIRE_FALSE(proto::decode(proto::Bytes(*bytes), out.message, version));
  out.frame = std::move(bytes);
  return out;
}

// The request as the broker reads it at the planned version.
inline proto::FetchRequest as_sent(const fetch::PlannedFetch& planned) {
  std::error_code ec;
  const std::vector<uint8_t> bytes = proto::encode(planned.request, planned.version, &ec);
  REQUIRE_FALSE(ec);
  proto::FetchRequest req;
  REQUIRE_FALSE(proto::decode(proto::Bytes(bytes), req, planned.version));
  return req;
}

}  // namespace kafkawire::testing
