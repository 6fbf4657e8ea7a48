// Nulls and tagged fields of Metadata, CreateTopics and DeleteTopics that the filled golden vectors do
// not reach (fields nullable in every version they exist in, null "all topics"). Expected bytes were
// written by kafka-clients 4.4.0 from the equivalent JSON (tests/golden/gen).
#include <catch2/catch.hpp>

#include "kafkawire/protocol/apis.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;
using kafkawire::testing::to_hex;

namespace {

Uuid uuid_one() {
  Uuid u;
  u.bytes[15] = 1;
  return u;
}

// Encodes m, compares with the reference bytes, and decodes them back to m.
template <class M>
void check_bytes(const M& m, int16_t version, std::string_view hex) {
  std::error_code ec;
  CHECK(to_hex(encode(m, version, &ec)) == hex);
  CHECK_FALSE(ec);
  const std::vector<uint8_t> bytes = from_hex(hex);
  M decoded;
  REQUIRE_FALSE(decode(Bytes(bytes), decoded, version));
  CHECK(decoded == m);
}

}  // namespace

TEST_CASE("MetadataRequest: null Topics means all topics from v1, and v0 cannot say it", "[metadata]") {
  MetadataRequest all;
  all.topics.reset();
  check_bytes(all, 1, "ffffffff");

  std::error_code ec;
  encode(all, 0, &ec);
  CHECK(ec == client_errc::not_nullable);

  // The default (empty array) is "all" in v0 and "none" from v1.
  CHECK(to_hex(encode(MetadataRequest{}, 0)) == "00000000");
}

TEST_CASE("MetadataRequest v12: a topic asked for by id has a null name", "[metadata]") {
  MetadataRequest m;
  m.topics->push_back({uuid_one(), std::nullopt});
  m.allow_auto_topic_creation = false;
  check_bytes(m, 12, "02000000000000000000000000000000010000000000");

  std::error_code ec;
  encode(m, 11, &ec);  // v10-11 have the null on the wire, though brokers only honour ids from v12
  CHECK_FALSE(ec);
  encode(m, 9, &ec);
  CHECK(ec == client_errc::not_nullable);
}

TEST_CASE("MetadataResponse v9: null rack and cluster id, no cluster operations", "[metadata]") {
  MetadataResponse m;
  m.brokers.push_back({1, "h", 9092, std::nullopt});
  m.controller_id = 1;
  check_bytes(m, 9, "00000000020000000102680000238400000000000001018000000000");
}

TEST_CASE("DeleteTopicsRequest v6: delete by id with a null name", "[metadata]") {
  DeleteTopicsRequest m;
  m.topics.push_back({std::nullopt, uuid_one()});
  m.timeout_ms = 1000;
  check_bytes(m, 6, "02000000000000000000000000000000000100000003e800");
}

TEST_CASE("CreateTopicsResponse v5: tagged TopicConfigErrorCode, null Configs", "[metadata]") {
  CreateTopicsResponse::CreatableTopicResult t;
  t.name = "t";
  t.error_message.reset();
  t.topic_config_error_code = 7;
  t.configs.reset();
  CreateTopicsResponse m;
  m.topics.push_back(t);
  check_bytes(m, 5, "00000000020274000000ffffffffffff00010002000700");
}
