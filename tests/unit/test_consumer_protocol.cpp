// The consumer protocol inside JoinGroup metadata and SyncGroup assignments: the int16 version prefix,
// Kafka's "read a newer version with the newest layout you know" rule, and truncations.
#include <catch2/catch.hpp>

#include "kafkawire/protocol/consumer_protocol.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;
using kafkawire::testing::to_hex;

namespace {

const std::vector<uint8_t> kUserData = {0xca, 0xfe};

ConsumerProtocolSubscription full_subscription() {
  ConsumerProtocolSubscription s;
  s.topics = {"orders", "payments"};
  s.user_data = Bytes(kUserData);
  s.owned_partitions = {{"orders", {0, 2}}, {"payments", {1}}};
  s.generation_id = 7;
  s.rack_id = "rack-a";
  return s;
}

ConsumerProtocolAssignment full_assignment() {
  ConsumerProtocolAssignment a;
  a.assigned_partitions = {{"orders", {0, 1, 2}}, {"payments", {3}}};
  a.user_data = Bytes(kUserData);
  return a;
}

// What a reader of `version` gets back from full_subscription(): the fields of later versions keep
// their defaults.
ConsumerProtocolSubscription subscription_at(int16_t version) {
  ConsumerProtocolSubscription s = full_subscription();
  if (version < 1) s.owned_partitions.clear();
  if (version < 2) s.generation_id = -1;
  if (version < 3) s.rack_id.reset();
  return s;
}

std::vector<uint8_t> version_prefix(int16_t v) {
  Writer w;
  w.i16(v);
  return w.release();
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST_CASE("a subscription is its int16 version followed by the struct", "[consumer_protocol]") {
  ConsumerProtocolSubscription s;
  s.topics = {"orders"};
  s.owned_partitions = {{"orders", {0, 2}}};
  std::error_code ec;
  const std::vector<uint8_t> bytes = encode_versioned(s, 1, &ec);
  REQUIRE_FALSE(ec);
  // clang-format off
  CHECK(to_hex(bytes) ==
        "0001"                                                  // version 1
        "00000001" "00066f7264657273"                           // Topics ["orders"]
        "ffffffff"                                              // UserData null
        "00000001" "00066f7264657273" "00000002" "00000000" "00000002");  // OwnedPartitions [{orders, [0, 2]}]
  // clang-format on

  ConsumerProtocolSubscription back;
  int16_t version = -1;
  REQUIRE_FALSE(decode_versioned(Bytes(bytes), back, &version));
  CHECK(version == 1);
  CHECK(back == s);
}

TEST_CASE("an assignment is its int16 version followed by the struct", "[consumer_protocol]") {
  ConsumerProtocolAssignment a;
  a.assigned_partitions = {{"orders", {1}}};
  a.user_data = Bytes();  // empty, not null
  const std::vector<uint8_t> bytes = encode_versioned(a, 0);
  // clang-format off
  CHECK(to_hex(bytes) ==
        "0000"                                                   // version 0
        "00000001" "00066f7264657273" "00000001" "00000001"      // AssignedPartitions [{orders, [1]}]
        "00000000");                                             // UserData empty
  // clang-format on
  ConsumerProtocolAssignment back;
  REQUIRE_FALSE(decode_versioned(Bytes(bytes), back));
  CHECK(back == a);
}

TEST_CASE("subscriptions and assignments round-trip at every version", "[consumer_protocol]") {
  for (int16_t v = 0; v <= 3; ++v) {
    INFO("version " << v);
    std::error_code ec;
    const std::vector<uint8_t> sb = encode_versioned(full_subscription(), v, &ec);
    REQUIRE_FALSE(ec);
    CHECK(to_hex(sb) == to_hex(concat(version_prefix(v), encode(full_subscription(), v))));
    ConsumerProtocolSubscription s;
    int16_t version = -1;
    REQUIRE_FALSE(decode_versioned(Bytes(sb), s, &version));
    CHECK(version == v);
    CHECK(s == subscription_at(v));

    const std::vector<uint8_t> ab = encode_versioned(full_assignment(), v, &ec);
    REQUIRE_FALSE(ec);
    ConsumerProtocolAssignment a;
    REQUIRE_FALSE(decode_versioned(Bytes(ab), a, &version));
    CHECK(version == v);
    CHECK(a == full_assignment());
  }
}

TEST_CASE("an older version decoded over a filled struct leaves the newer fields at their defaults",
          "[consumer_protocol]") {
  const std::vector<uint8_t> v0 = encode_versioned(full_subscription(), 0);
  ConsumerProtocolSubscription s = full_subscription();
  REQUIRE_FALSE(decode_versioned(Bytes(v0), s));
  CHECK(s.owned_partitions.empty());
  CHECK(s.generation_id == -1);
  CHECK_FALSE(s.rack_id.has_value());
}

TEST_CASE("a newer version is read with the v3 layout and its extra bytes ignored", "[consumer_protocol]") {
  const std::vector<uint8_t> v3_body = encode(full_subscription(), 3);
  const std::vector<uint8_t> future_field = from_hex("0000002a00036e6577");  // whatever v4 appends

  for (const char* version_hex : {"0004", "7fff"}) {
    INFO("version " << version_hex);
    const std::vector<uint8_t> bytes = concat(concat(from_hex(version_hex), v3_body), future_field);
    ConsumerProtocolSubscription s;
    int16_t version = -1;
    REQUIRE_FALSE(decode_versioned(Bytes(bytes), s, &version));
    CHECK(version == (version_hex[0] == '0' ? 4 : 0x7fff));
    CHECK(s == full_subscription());
  }

  // Nothing appended is fine too. (The decoded views point into the bytes: keep them alive.)
  ConsumerProtocolSubscription s;
  const std::vector<uint8_t> exact = concat(from_hex("0004"), v3_body);
  REQUIRE_FALSE(decode_versioned(Bytes(exact), s));
  CHECK(s == full_subscription());

  // The same for assignments.
  const std::vector<uint8_t> ab =
      concat(concat(from_hex("0005"), encode(full_assignment(), 3)), future_field);
  ConsumerProtocolAssignment a;
  int16_t version = -1;
  REQUIRE_FALSE(decode_versioned(Bytes(ab), a, &version));
  CHECK(version == 5);
  CHECK(a == full_assignment());
}

TEST_CASE("a newer version must still hold the whole v3 layout", "[consumer_protocol]") {
  const std::vector<uint8_t> full = concat(from_hex("0004"), encode(full_subscription(), 3));
  for (size_t n = 0; n < full.size(); ++n) {
    ConsumerProtocolSubscription s;
    CHECK(decode_versioned(Bytes(full.data(), n), s));
  }
  const std::vector<uint8_t> fa = concat(from_hex("0009"), encode(full_assignment(), 3));
  for (size_t n = 0; n < fa.size(); ++n) {
    ConsumerProtocolAssignment a;
    CHECK(decode_versioned(Bytes(fa.data(), n), a));
  }
}

TEST_CASE("every truncation of a versioned subscription or assignment fails", "[consumer_protocol]") {
  for (int16_t v = 0; v <= 3; ++v) {
    INFO("version " << v);
    const std::vector<uint8_t> sb = encode_versioned(full_subscription(), v);
    for (size_t n = 0; n < sb.size(); ++n) {
      ConsumerProtocolSubscription s = full_subscription();
      int16_t version = -1;
      const std::error_code ec = decode_versioned(Bytes(sb.data(), n), s, &version);
      if (!ec) FAIL("prefix of " << n << " bytes decoded");
      CHECK(s == full_subscription());  // untouched on failure
      CHECK(version == (n < 2 ? -1 : v));
    }
    const std::vector<uint8_t> ab = encode_versioned(full_assignment(), v);
    for (size_t n = 0; n < ab.size(); ++n) {
      ConsumerProtocolAssignment a;
      if (!decode_versioned(Bytes(ab.data(), n), a)) FAIL("prefix of " << n << " bytes decoded");
    }
  }
  ConsumerProtocolSubscription s;
  CHECK(decode_versioned(Bytes(), s) == client_errc::truncated);
  CHECK(decode_versioned(Bytes(from_hex("00")), s) == client_errc::truncated);
}

TEST_CASE("a known version with bytes left over is an error", "[consumer_protocol]") {
  std::vector<uint8_t> bytes = encode_versioned(full_subscription(), 3);
  bytes.push_back(0);
  ConsumerProtocolSubscription s;
  CHECK(decode_versioned(Bytes(bytes), s) == client_errc::trailing_bytes);

  std::vector<uint8_t> ab = encode_versioned(full_assignment(), 1);
  ab.push_back(0);
  ConsumerProtocolAssignment a;
  CHECK(decode_versioned(Bytes(ab), a) == client_errc::trailing_bytes);
}

TEST_CASE("negative versions are refused on both sides", "[consumer_protocol]") {
  const std::vector<uint8_t> bytes = concat(from_hex("ffff"), encode(full_subscription(), 0));
  ConsumerProtocolSubscription s;
  int16_t version = 0;
  CHECK(decode_versioned(Bytes(bytes), s, &version) == client_errc::unsupported_version);
  CHECK(version == -1);

  std::error_code ec;
  CHECK(encode_versioned(full_subscription(), -1, &ec).empty());
  CHECK(ec == client_errc::unsupported_version);
  // Writing a version we do not know the layout of would be a lie.
  CHECK(encode_versioned(full_assignment(), 4, &ec).empty());
  CHECK(ec == client_errc::unsupported_version);
}

TEST_CASE("decoded user data points into the input bytes", "[consumer_protocol]") {
  const std::vector<uint8_t> bytes = encode_versioned(full_assignment(), 3);
  ConsumerProtocolAssignment a;
  REQUIRE_FALSE(decode_versioned(Bytes(bytes), a));
  REQUIRE(a.user_data.has_value());
  CHECK(a.user_data->data() >= bytes.data());
  CHECK(a.user_data->data() + a.user_data->size() <= bytes.data() + bytes.size());
}
