// The primitives: varints, lengths, bounds, tagged-field rules, error categories.
#include <catch2/catch.hpp>
#include <limits>

#include "kafkawire/protocol/api_versions.hpp"
#include "kafkawire/protocol/explain.hpp"
#include "kafkawire/protocol/header.hpp"
#include "kafkawire/protocol/json.hpp"
#include "kafkawire/protocol/metadata.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;
using kafkawire::testing::to_hex;

TEST_CASE("unsigned varints match the protocol's examples", "[wire]") {
  struct Case {
    uint64_t value;
    const char* hex;
  };
  for (const Case& c : {Case{0, "00"}, Case{1, "01"}, Case{127, "7f"}, Case{128, "8001"}, Case{300, "ac02"},
                        Case{16383, "ff7f"}, Case{16384, "808001"}, Case{0xffffffffu, "ffffffff0f"}}) {
    Writer w;
    w.uvarlong(c.value);
    CHECK(to_hex(w.buffer()) == c.hex);
    CHECK(uvarint_size(c.value) == w.size());
    auto bytes = from_hex(c.hex);
    Reader r{Bytes(bytes)};
    CHECK(r.uvarlong() == c.value);
    CHECK(r.ok());
    CHECK(r.remaining() == 0);
  }
}

TEST_CASE("zigzag varints round-trip at the edges", "[wire]") {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63}, int64_t{-65},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    Writer w;
    w.varlong(v);
    Reader r{Bytes(w.buffer())};
    CHECK(r.varlong() == v);
    CHECK(r.ok());
  }
  for (int32_t v : {0, -1, 1, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()}) {
    Writer w;
    w.varint(v);
    Reader r{Bytes(w.buffer())};
    CHECK(r.varint() == v);
  }
  Writer w;
  w.varint(-1);
  CHECK(to_hex(w.buffer()) == "01");  // zigzag: -1 -> 1
}

TEST_CASE("a varint longer than ten bytes is malformed, an unfinished one truncated", "[wire]") {
  std::vector<uint8_t> eleven(11, 0x80);
  Reader r{Bytes(eleven)};
  r.uvarlong();
  CHECK(r.error() == client_errc::malformed);
  std::vector<uint8_t> unfinished{0x80, 0x80};
  Reader r2{Bytes(unfinished)};
  r2.uvarlong();
  CHECK(r2.error() == client_errc::truncated);
}

TEST_CASE("strings and bytes in classic and compact form", "[wire]") {
  Writer w;
  w.string("kafka", false);
  w.string("kafka", true);
  w.nullable_string(std::nullopt, false);
  w.nullable_string(std::nullopt, true);
  w.bytes(Bytes(std::string_view("ab")), false);
  w.nullable_bytes(std::nullopt, true);
  CHECK(to_hex(w.buffer()) ==
        "00056b61666b61"  // int16 length 5
        "066b61666b61"    // uvarint 5+1
        "ffff"            // null: int16 -1
        "00"              // null: uvarint 0
        "000000026162"    // int32 length 2
        "00");
  Reader r{Bytes(w.buffer())};
  CHECK(r.string(false) == "kafka");
  CHECK(r.string(true) == "kafka");
  CHECK_FALSE(r.nullable_string(false).has_value());
  CHECK_FALSE(r.nullable_string(true).has_value());
  CHECK(r.bytes(false).str() == "ab");
  CHECK_FALSE(r.nullable_bytes(true).has_value());
  CHECK(r.ok());
  CHECK(r.remaining() == 0);
}

TEST_CASE("huge wire lengths fail before anything is allocated", "[wire]") {
  // An array count of 2^31-1 with four bytes behind it: a decoder that reserve()d on the count would
  // ask for gigabytes. This one must refuse at the count.
  ApiVersionsResponse m;
  const auto bytes = from_hex(
      "0000"
      "7fffffff"
      "00010002");
  CHECK(decode(Bytes(bytes), m, 0) == client_errc::truncated);
  CHECK(m.api_keys.capacity() == 0);

  const auto short_string = from_hex("7fff");  // a 32767-byte string in a 2-byte buffer
  Reader r{Bytes(short_string)};
  CHECK(r.string(false).empty());
  CHECK(r.error() == client_errc::truncated);

  const auto compact = from_hex("ffffffff0f");  // compact length 2^32-2
  Reader r2{Bytes(compact.data(), compact.size())};
  CHECK_FALSE(r2.nullable_bytes(true).has_value());
  CHECK(r2.error() == client_errc::truncated);

  const auto minus_two = from_hex("fffffffe");  // classic length -2: never valid
  Reader r3{Bytes(minus_two)};
  r3.nullable_bytes(false);
  CHECK(r3.error() == client_errc::malformed);
}

TEST_CASE("an element count reserves at most what the bytes left can hold", "[wire]") {
  // The smallest wire size of one element, from the same visit() functions that decode it.
  using Broker = MetadataResponse::MetadataResponseBroker;
  CHECK(min_wire_size<Broker>(0, false) == 4 + 2 + 4);         // NodeId, Host, Port
  CHECK(min_wire_size<Broker>(1, false) == 4 + 2 + 4 + 2);     // + Rack (nullable string)
  CHECK(min_wire_size<Broker>(9, true) == 4 + 1 + 4 + 1 + 1);  // compact strings, a tag count
  CHECK(min_wire_size<ApiVersionsResponse::ApiVersion>(0, false) == 6);
  CHECK(min_wire_size<int64_t>(0, false) == 8);
  CHECK(min_wire_size<std::vector<int32_t>>(0, false) == 4);
  CHECK(min_wire_size<std::vector<int32_t>>(3, true) == 1);

  // A 20-byte ApiVersionsResponse v0 whose count (14) passes the bytes-left check but not the
  // element-size one: 14 bytes hold at most two 6-byte ApiVersion elements, so no more is reserved.
  const auto v0 = from_hex(
      "0000"
      "0000000e"
      "0001000200030004000500060007");
  REQUIRE(v0.size() == 20);
  CHECK(bounded_reserve<ApiVersionsResponse::ApiVersion>(14, 14, 0, false) == 2);
  CHECK(bounded_reserve<ApiVersionsResponse::ApiVersion>(std::numeric_limits<int32_t>::max(), 14, 0, false) ==
        2);
  CHECK(bounded_reserve<ApiVersionsResponse::ApiVersion>(1, 14, 0, false) == 1);
  CHECK(bounded_reserve<ApiVersionsResponse::ApiVersion>(-1, 14, 0, false) == 0);
  // Decoding reserves 2; the two elements that fit and the third that runs out of bytes grow the vector
  // once (to 4 with libstdc++). Reserving the count would have made it 14.
  ApiVersionsResponse m;
  CHECK(decode(Bytes(v0), m, 0) == client_errc::truncated);
  CHECK(m.api_keys.size() == 3);
  CHECK(m.api_keys.capacity() <= 2 * (14 / 6));
  // The explainer decodes with its own visitor: the same bound.
  ApiVersionsResponse explained;
  const Explanation e = explain_message<ApiVersionsResponse>(Bytes(v0), 0, &explained);
  CHECK_FALSE(e.ok());
  CHECK(explained.api_keys.capacity() <= 2 * (14 / 6));
  // Flexible: a compact count of 14 (15 on the wire) and 14 bytes, at 7 bytes per element with its tags.
  CHECK(bounded_reserve<ApiVersionsResponse::ApiVersion>(14, 14, 3, true) == 2);
  const auto v3 = from_hex(
      "0000"
      "0f"
      "0001000200030004000500060007");
  ApiVersionsResponse m3;
  CHECK(decode(Bytes(v3), m3, 3) == client_errc::truncated);
  CHECK(m3.api_keys.capacity() <= 2 * (14 / 7));
  // Honest counts are reserved in full.
  ApiVersionsResponse honest;
  honest.api_keys.resize(3);
  const auto encoded = encode(honest, 0);
  ApiVersionsResponse back;
  REQUIRE_FALSE(decode(Bytes(encoded), back, 0));
  CHECK(back.api_keys.size() == 3);
  CHECK(back.api_keys.capacity() == 3);
}

TEST_CASE("the writer refuses lengths and counts above INT32_MAX", "[wire]") {
  // Views longer than any buffer: the writer must refuse them from their length alone, before it reads.
  const uint8_t byte = 0;
  const size_t huge = size_t{1} << 31;  // INT32_MAX + 1
  for (bool compact : {false, true}) {
    INFO("compact " << compact);
    Writer w;
    w.bytes(Bytes(&byte, huge), compact);
    CHECK(w.error() == client_errc::malformed);
    CHECK(w.size() == 0);
    Writer a;
    a.array_length(huge, compact);
    CHECK(a.error() == client_errc::malformed);
    Writer s;
    s.string(std::string_view(reinterpret_cast<const char*>(&byte), huge), compact);
    CHECK(s.error() == client_errc::malformed);
    CHECK(s.size() == 0);
    // INT32_MAX itself is a length the wire can carry.
    Writer ok;
    ok.array_length(static_cast<size_t>(std::numeric_limits<int32_t>::max()), compact);
    CHECK(ok.ok());
  }
}

TEST_CASE("the reader's first error sticks", "[wire]") {
  const auto bytes = from_hex("01");
  Reader r{Bytes(bytes)};
  CHECK(r.i32() == 0);
  CHECK(r.error() == client_errc::truncated);
  CHECK(r.i8() == 0);  // the byte that was there is not read after the error
  CHECK(r.remaining() == 0);
  CHECK(r.error() == client_errc::truncated);
}

TEST_CASE("tagged fields: written in order when not default, unknown ones skipped", "[wire]") {
  ApiVersionsResponse m;
  m.finalized_features_epoch = 7;  // tag 1
  m.zk_migration_ready = true;     // tag 3
  auto bytes = encode(m, 3);
  // error 0, empty compact array, throttle 0, then 2 tags: (1, size 8, int64 7), (3, size 1, true)
  CHECK(to_hex(bytes) ==
        "0000"
        "01"
        "00000000"
        "02"
        "01"
        "08"
        "0000000000000007"
        "03"
        "01"
        "01");

  // An unknown tag 9 between them is skipped; the known ones still decode.
  auto with_unknown = from_hex(
      "0000"
      "01"
      "00000000"
      "03"
      "01"
      "08"
      "0000000000000007"
      "03"
      "01"
      "01"
      "09"
      "02"
      "abcd");
  ApiVersionsResponse d;
  CHECK_FALSE(decode(Bytes(with_unknown), d, 3));
  CHECK(d.finalized_features_epoch == 7);
  CHECK(d.zk_migration_ready);

  // Tags out of order are refused.
  auto out_of_order = from_hex(
      "0000"
      "01"
      "00000000"
      "02"
      "03"
      "01"
      "01"
      "01"
      "08"
      "0000000000000007");
  CHECK(decode(Bytes(out_of_order), d, 3) == client_errc::tag_order);

  // A tag whose size says more than its value takes is malformed.
  auto oversized = from_hex(
      "0000"
      "01"
      "00000000"
      "01"
      "03"
      "02"
      "0100");
  CHECK(decode(Bytes(oversized), d, 3) == client_errc::malformed);
}

TEST_CASE("request header v2 keeps ClientId's int16 length", "[wire]") {
  RequestHeader h{18, 3, 7, "kw"};
  CHECK(to_hex(encode(h, 2)) ==
        "0012"
        "0003"
        "00000007"
        "0002"
        "6b77"
        "00");
  CHECK(to_hex(encode(h, 1)) ==
        "0012"
        "0003"
        "00000007"
        "0002"
        "6b77");
  CHECK(response_header_version<ApiVersionsResponse>(3) == 0);  // KIP-511
  CHECK(request_header_version<ApiVersionsRequest>(3) == 2);
  CHECK(request_header_version<ApiVersionsRequest>(2) == 1);
}

TEST_CASE("kafka error codes have names, messages and retriability", "[wire][errors]") {
  auto ec = kafkawire::make_kafka_error(6);
  CHECK(ec.message().rfind("NOT_LEADER_OR_FOLLOWER", 0) == 0);
  CHECK(kafkawire::is_retriable(ec));
  CHECK_FALSE(kafkawire::is_retriable(kafkawire::make_kafka_error(1)));  // OFFSET_OUT_OF_RANGE
  CHECK(kafkawire::find_kafka_error(-1)->name == "UNKNOWN_SERVER_ERROR");
  CHECK(kafkawire::find_kafka_error(79)->name == "MEMBER_ID_REQUIRED");
  CHECK(kafkawire::find_kafka_error(32000) == nullptr);
  CHECK(kafkawire::make_kafka_error(32000).message().find("UNKNOWN_CODE_32000") != std::string::npos);
  CHECK_FALSE(kafkawire::make_kafka_error(0));  // NONE is no error
  // Codes are strictly increasing in the table, which the lookup relies on.
  auto all = kafkawire::kafka_errors();
  for (size_t i = 1; i < all.size(); ++i) CHECK(all[i - 1].code < all[i].code);
  // kafka_errc names the same codes as the table (both come from kafka-clients' Errors enum).
  CHECK(std::error_code(kafkawire::kafka_errc::not_leader_or_follower) == ec);
  CHECK(kafkawire::find_kafka_error(static_cast<int16_t>(kafkawire::kafka_errc::member_id_required))->name ==
        "MEMBER_ID_REQUIRED");
  CHECK(kafkawire::find_kafka_error(static_cast<int16_t>(kafkawire::kafka_errc::unstable_offset_commit))
            ->name == "UNSTABLE_OFFSET_COMMIT");
  CHECK(kafkawire::find_kafka_error(static_cast<int16_t>(kafkawire::kafka_errc::controller_id_not_registered))
            ->name == "CONTROLLER_ID_NOT_REGISTERED");
  CHECK(kafkawire::as_errc(16) == kafkawire::kafka_errc::not_coordinator);
  std::error_code client = client_errc::crc_mismatch;
  CHECK(client.category().name() == std::string("kafkawire"));
  CHECK(client.message().find("CRC") != std::string::npos);
}

TEST_CASE("JSON uses Kafka's converter conventions", "[wire][json]") {
  ApiVersionsRequest m;
  m.client_software_name = "kafkawire";
  m.client_software_version = "0.1";
  CHECK(to_json(m, 3) == R"({"clientSoftwareName":"kafkawire","clientSoftwareVersion":"0.1"})");
  CHECK(to_json(m, 5) ==
        R"({"clientSoftwareName":"kafkawire","clientSoftwareVersion":"0.1","clusterId":null,"nodeId":-1})");
  CHECK(base64(Bytes(std::string_view("any carnal pleas"))) == "YW55IGNhcm5hbCBwbGVhcw==");
  CHECK(base64(Bytes(std::string_view("\xfb\xff")), true) == "-_8");
  std::string s;
  append_json_string(s, "a\"b\\c\n\x01");
  CHECK(s == R"("a\"b\\c\n\u0001")");
}
