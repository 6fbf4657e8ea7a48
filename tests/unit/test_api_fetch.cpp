// Fetch and Produce cases the filled golden vectors do not reach: null Records, null AbortedTransactions
// and TransactionalId (nullable in every version, so the nulls pass of the golden test never nulls them),
// tagged fields left at their defaults (absent from the wire), and a consumer's and a follower's fetch as
// they really look. Expected bytes were written by kafka-clients 4.4.0 from the equivalent JSON
// (tests/golden/gen).
#include <catch2/catch.hpp>

#include "kafkawire/protocol/apis.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::testing::from_hex;
using kafkawire::testing::to_hex;

namespace {

Uuid uuid_one() {
  Uuid u;
  u.bytes[15] = 1;
  return u;
}

template <class M>
void check_bytes(const M& m, int16_t version, std::string_view hex) {
  INFO(M::name << " v" << version);
  std::error_code ec;
  CHECK(to_hex(encode(m, version, &ec)) == hex);
  CHECK_FALSE(ec);
  const std::vector<uint8_t> bytes = from_hex(hex);
  M decoded;
  REQUIRE_FALSE(decode(Bytes(bytes), decoded, version));
  CHECK(decoded == m);
}

// Encodes m where some of its fields do not exist at this version (they are dropped).
template <class M>
void check_encode(const M& m, int16_t version, std::string_view hex) {
  INFO(M::name << " v" << version);
  std::error_code ec;
  CHECK(to_hex(encode(m, version, &ec)) == hex);
  CHECK_FALSE(ec);
}

// A consumer's first fetch: READ_COMMITTED, no session, one partition; by name to v12, by id from v13.
FetchRequest consumer_fetch(int16_t version) {
  FetchRequest m;
  m.max_wait_ms = 500;
  m.min_bytes = 1;
  m.isolation_level = FetchRequest::kReadCommitted;
  auto& t = m.topics.emplace_back();
  if (version <= 12) t.topic = "t";
  if (version >= 13) t.topic_id = uuid_one();
  auto& p = t.partitions.emplace_back();
  p.fetch_offset = 42;
  p.partition_max_bytes = 1048576;
  return m;
}

// A follower: ReplicaState (v15+), its log directory (v17+) and a high watermark it does not know (v18+).
FetchRequest follower_fetch(int16_t version) {
  FetchRequest m = consumer_fetch(version);
  m.replica_state = {1, 7};
  auto& p = m.topics[0].partitions[0];
  if (version >= 17) p.replica_directory_id = uuid_one();
  if (version >= 18) p.high_watermark = -1;  // written, unlike the default INT64_MAX
  return m;
}

// READ_UNCOMMITTED and nothing to return: null AbortedTransactions, null Records.
FetchResponse empty_fetch_response(int16_t version) {
  FetchResponse m;
  auto& t = m.responses.emplace_back();
  if (version <= 12) t.topic = "t";
  if (version >= 13) t.topic_id = uuid_one();
  auto& p = t.partitions.emplace_back();
  p.high_watermark = 10;
  p.aborted_transactions.reset();
  return m;
}

// KIP-951: NOT_LEADER_OR_FOLLOWER with the new leader, and its endpoint (null rack).
FetchResponse new_leader_fetch_response(int16_t version) {
  FetchResponse m = empty_fetch_response(version);
  auto& p = m.responses[0].partitions[0];
  p.error_code = 6;
  p.current_leader = {2, 5};
  m.node_endpoints.push_back({2, "h", 9092, std::nullopt});
  return m;
}

ProduceRequest non_transactional_produce(int16_t version) {
  ProduceRequest m;
  m.acks = -1;
  m.timeout_ms = 30000;
  auto& t = m.topic_data.emplace_back();
  if (version <= 12) t.name = "t";
  if (version >= 13) t.topic_id = uuid_one();
  t.partition_data.emplace_back();  // null Records
  return m;
}

// A dropped batch (KIP-467) with a null message, null ErrorMessage, the new leader and its endpoint.
ProduceResponse not_leader_produce_response(int16_t version) {
  ProduceResponse m;
  auto& t = m.responses.emplace_back();
  if (version <= 12) t.name = "t";
  if (version >= 13) t.topic_id = uuid_one();
  auto& p = t.partition_responses.emplace_back();
  p.error_code = 6;
  p.record_errors.push_back({3, std::nullopt});
  p.current_leader = {2, 5};
  m.node_endpoints.push_back({2, "h", 9092, std::nullopt});
  return m;
}

}  // namespace

TEST_CASE("FetchRequest: a consumer's fetch, by name to v12 and by id from v13", "[fetch]") {
  check_bytes(consumer_fetch(4), 4,
              "ffffffff000001f4000000017fffffff01000000010001740000000100000000000000000000002a00100000");
  // v12: the default tags (null ClusterId) leave an empty tag section.
  check_bytes(consumer_fetch(12), 12,
              "ffffffff000001f4000000017fffffff0100000000ffffffff0202740200000000ffffffff000000000000002aff"
              "ffffffffffffffffffffff001000000000010100");
  check_bytes(consumer_fetch(13), 13,
              "ffffffff000001f4000000017fffffff0100000000ffffffff020000000000000000000000000000000102000000"
              "00ffffffff000000000000002affffffffffffffffffffffff001000000000010100");
  // v15: no ReplicaId, and the default ReplicaState is not written.
  check_bytes(consumer_fetch(15), 15,
              "000001f4000000017fffffff0100000000ffffffff020000000000000000000000000000000102000000"
              "00ffffffff000000000000002affffffffffffffffffffffff001000000000010100");
}

TEST_CASE("FetchRequest: a follower's tagged ReplicaState, ReplicaDirectoryId and HighWatermark", "[fetch]") {
  check_bytes(follower_fetch(15), 15,
              "000001f4000000017fffffff0100000000ffffffff020000000000000000000000000000000102000000"
              "00ffffffff000000000000002affffffffffffffffffffffff001000000000010101010d00000001000000000000"
              "000700");
  check_bytes(follower_fetch(17), 17,
              "000001f4000000017fffffff0100000000ffffffff020000000000000000000000000000000102000000"
              "00ffffffff000000000000002affffffffffffffffffffffff00100000010010000000000000000000000000000000"
              "0100010101010d00000001000000000000000700");
  check_bytes(follower_fetch(18), 18,
              "000001f4000000017fffffff0100000000ffffffff020000000000000000000000000000000102000000"
              "00ffffffff000000000000002affffffffffffffffffffffff00100000020010000000000000000000000000000000"
              "010108ffffffffffffffff00010101010d00000001000000000000000700");
}

TEST_CASE("FetchResponse: null AbortedTransactions and null Records", "[fetch]") {
  check_bytes(empty_fetch_response(4), 4,
              "000000000000000100017400000001000000000000000000000000000affffffffffffffffffffffffffffffff");
  check_bytes(empty_fetch_response(12), 12,
              "0000000000000000000002027402000000000000000000000000000affffffffffffffffffffffffffffffff00"
              "ffffffff00000000");
  check_bytes(empty_fetch_response(13), 13,
              "00000000000000000000020000000000000000000000000000000102000000000000000000000000000aff"
              "ffffffffffffffffffffffffffffff00ffffffff00000000");
}

TEST_CASE("FetchResponse: the new leader and its endpoint after NOT_LEADER_OR_FOLLOWER (KIP-951)",
          "[fetch]") {
  // v12 has CurrentLeader but not NodeEndpoints: the endpoints are dropped.
  check_encode(new_leader_fetch_response(12), 12,
               "0000000000000000000002027402000000000006000000000000000affffffffffffffffffffffffffffffff00"
               "ffffffff000101090000000200000005000000");
  check_bytes(new_leader_fetch_response(16), 16,
              "00000000000000000000020000000000000000000000000000000102000000000006000000000000000aff"
              "ffffffffffffffffffffffffffffff00ffffffff000101090000000200000005000001000d020000000202680000"
              "23840000");
}

TEST_CASE("FetchResponse: Records is a view into the decoded buffer", "[fetch]") {
  FetchResponse m = empty_fetch_response(13);
  const std::vector<uint8_t> batch = {1, 2, 3, 4, 5};
  m.responses[0].partitions[0].records.bytes = Bytes(batch);
  const std::vector<uint8_t> wire = encode(m, 13);
  FetchResponse decoded;
  REQUIRE_FALSE(decode(Bytes(wire), decoded, 13));
  const Records& r = decoded.responses[0].partitions[0].records;
  REQUIRE(r.bytes);
  CHECK(*r.bytes == Bytes(batch));
  CHECK(r.bytes->data() >= wire.data());
  CHECK(r.bytes->data() + r.bytes->size() <= wire.data() + wire.size());
}

TEST_CASE("ProduceRequest: null TransactionalId and null Records", "[produce]") {
  check_bytes(non_transactional_produce(3), 3, "ffffffff00007530000000010001740000000100000000ffffffff");
  check_bytes(non_transactional_produce(9), 9, "00ffff00007530020274020000000000000000");
  check_bytes(non_transactional_produce(13), 13,
              "00ffff000075300200000000000000000000000000000001020000000000000000");
}

TEST_CASE("ProduceResponse: null messages, the new leader and its endpoint", "[produce]") {
  // Before v10 the leader and the endpoints are not on the wire.
  check_encode(not_leader_produce_response(8), 8,
               "00000001000174000000010000000000060000000000000000ffffffffffffffffffffffffffffffff0000000100"
               "000003ffffffff00000000");
  check_encode(
      not_leader_produce_response(9), 9,
      "020274020000000000060000000000000000ffffffffffffffffffffffffffffffff0200000003000000000000000000"
      "00");
  check_bytes(not_leader_produce_response(10), 10,
              "020274020000000000060000000000000000ffffffffffffffffffffffffffffffff020000000300000001000900"
              "0000020000000500000000000001000d02000000020268000023840000");
  check_bytes(not_leader_produce_response(13), 13,
              "0200000000000000000000000000000001020000000000060000000000000000ffffffffffffffffffffffffffffff"
              "ff0200000003000000010009000000020000000500000000000001000d02000000020268000023840000");
}
