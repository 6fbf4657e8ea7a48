// The explainer: every golden body explained with every byte in exactly one leaf, the values it prints,
// truncations and trailing bytes as error nodes, compressed record batches down to their records, frames.
#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"
#include "kafkawire/protocol/json.hpp"
#include "kafkawire/protocol/record_batch.hpp"
#include "support/golden.hpp"
#include "support/hex.hpp"
#include "support/json_check.hpp"

using namespace kafkawire::protocol;
using kafkawire::testing::from_hex;

namespace {

// "<name> <version>" -> bytes, from tests/golden/messages.txt.
const std::map<std::string, std::vector<uint8_t>>& golden() { return kafkawire::testing::golden_messages(); }

// The leaves of space `block` (0: the input), in tree order.
void leaves(const ExplainNode& n, uint32_t block, std::vector<const ExplainNode*>& out) {
  if (n.leaf()) {
    if (n.block == block) out.push_back(&n);
    return;
  }
  for (const auto& c : n.children) leaves(c, block, out);
}

// Every byte of [0, size) in exactly one leaf, leaves in increasing order, raw views matching offsets.
void check_tiling(const Explanation& e, const uint8_t* base, size_t size, uint32_t block = 0) {
  std::vector<const ExplainNode*> ls;
  leaves(e.root, block, ls);
  size_t at = 0;
  for (const ExplainNode* l : ls) {
    INFO("leaf " << l->name << " (" << l->type << ") at " << l->offset << " length " << l->length);
    REQUIRE(l->offset == at);
    REQUIRE(l->raw.len == l->length);
    if (l->length) REQUIRE(l->raw.ptr == base + l->offset);
    at += l->length;
  }
  REQUIRE(at == size);
}

// A node by a path of names: "Responses/[0]/Partitions/[0]/Records".
const ExplainNode* find(const ExplainNode& n, std::string_view path) {
  const ExplainNode* cur = &n;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    const ExplainNode* next = nullptr;
    for (const auto& c : cur->children)
      if (c.name == part) {
        next = &c;
        break;
      }
    if (!next) return nullptr;
    cur = next;
  }
  return cur;
}

std::string value_at(const Explanation& e, std::string_view path) {
  const ExplainNode* n = find(e.root, path);
  return n ? n->value : "<no " + std::string(path) + ">";
}

template <class M>
void check_golden() {
  for (int16_t v = M::min_version; v <= M::max_version; ++v) {
    const std::string id = std::string(M::name) + " " + std::to_string(v);
    INFO(id);
    auto it = golden().find(id);
    REQUIRE(it != golden().end());
    const std::vector<uint8_t>& bytes = it->second;
    M decoded;
    const Explanation e = explain_message<M>(Bytes(bytes), v, &decoded);
    INFO(to_text(e));
    CHECK(e.errors().empty());
    check_tiling(e, bytes.data(), bytes.size());
    // It decodes what the Decoder decodes: the same visit(), the same values.
    M expected;
    REQUIRE_FALSE(decode(Bytes(bytes), expected, v));
    CHECK(decoded == expected);
    // By name as well.
    CHECK(explain_body(M::name, v, Bytes(bytes)).errors().empty());

    // Every proper prefix is an error node at some offset, never a crash, never a clean tree.
    for (size_t n = 0; n < bytes.size(); ++n) {
      const Explanation t = explain_message<M>(Bytes(bytes.data(), n), v);
      const auto errors = t.errors();
      if (errors.empty()) FAIL("prefix of " << n << " bytes explained without an error");
      CHECK(errors.front()->offset <= n);
    }
    // A byte too many is an error node covering it.
    std::vector<uint8_t> longer = bytes;
    longer.push_back(0x42);
    const Explanation t = explain_message<M>(Bytes(longer), v);
    REQUIRE(t.errors().size() == 1);
    CHECK(t.errors()[0]->offset == bytes.size());
    CHECK(t.errors()[0]->length == 1);
  }
}

std::vector<uint8_t> batch(Compression c, int64_t base_offset, int count, bool with_headers = false) {
  BatchOptions o;
  o.base_offset = base_offset;
  o.compression = c;
  RecordBatchBuilder b(o);
  for (int i = 0; i < count; ++i) {
    const std::string k = "key-" + std::to_string(i), v = "value-" + std::to_string(i);
    std::vector<Header> hs;
    if (with_headers) hs = {{"trace", Bytes(std::string_view("abc"))}, {"nothing", std::nullopt}};
    b.add(1700000000000 + i, Bytes(std::string_view(k)), Bytes(std::string_view(v)), hs);
  }
  return b.build();
}

// A FetchResponse v12 body whose one partition holds `records`.
std::vector<uint8_t> fetch_response(const std::vector<uint8_t>& records) {
  FetchResponse r;
  r.responses.emplace_back();
  r.responses[0].topic = "orders";
  r.responses[0].partitions.emplace_back();
  r.responses[0].partitions[0].high_watermark = 100;
  r.responses[0].partitions[0].records.bytes = Bytes(records);
  std::error_code ec;
  auto body = encode(r, 12, &ec);
  REQUIRE_FALSE(ec);
  return body;
}

}  // namespace

TEST_CASE("explain: every golden body, every version, every byte in one leaf", "[explain]") {
  for_each_message([](auto type) { check_golden<typename decltype(type)::type>(); });
}

TEST_CASE("explain: values and wire types of known fields", "[explain]") {
  SECTION("FetchResponse v12") {
    const auto& bytes = golden().at("FetchResponse 12");
    const Explanation e = explain_message<FetchResponse>(Bytes(bytes), 12);
    CHECK(e.root.type == "FetchResponse v12");
    CHECK(value_at(e, "ThrottleTimeMs") == "100006");  // 0x000186a6
    CHECK(find(e.root, "ThrottleTimeMs")->type == "int32");
    CHECK(find(e.root, "ThrottleTimeMs")->offset == 0);
    CHECK(find(e.root, "ErrorCode")->offset == 4);
    CHECK(find(e.root, "Responses")->type == "compact array[2]");
    CHECK(find(e.root, "Responses/length")->type == "uvarint length");
    CHECK(value_at(e, "Responses/length") == "3 (2 elements)");
    CHECK(value_at(e, "Responses/[0]/Topic") == "\"Topic-4\"");
    CHECK(find(e.root, "Responses/[0]/Topic")->type == "compact_string");
    const ExplainNode* records = find(e.root, "Responses/[0]/Partitions/[0]/Records");
    REQUIRE(records);
    CHECK(records->type == "compact records");
  }
  SECTION("ApiVersionsResponse v0: error codes and api keys are named") {
    const Explanation e =
        explain_message<ApiVersionsResponse>(Bytes(golden().at("ApiVersionsResponse 0")), 0);
    CHECK(value_at(e, "ErrorCode") == "33 (UNSUPPORTED_SASL_MECHANISM)");
    CHECK(find(e.root, "ApiKeys")->type == "array[2]");
    CHECK(find(e.root, "ApiKeys/length")->type == "int32 length");
  }
  SECTION("RequestHeader v2: classic nullable client id, tagged fields") {
    const Explanation e = explain_message<RequestHeader>(Bytes(golden().at("RequestHeader 2")), 2);
    CHECK(find(e.root, "ClientId")->type == "nullable_string");
    CHECK(value_at(e, "ClientId") == "\"ClientId-4\"");
    CHECK(find(e.root, "_tagged_fields")->type == "tagged fields (0)");
  }
  SECTION("a known tagged field and an unknown one") {
    FetchRequest req;
    req.cluster_id = "cluster-x";
    req.topics.push_back({"t", {}, {{0, -1, 5, -1, -1, 1024, {}, std::numeric_limits<int64_t>::max()}}});
    auto body = encode(req, 12);
    // Add an unknown tag 7 (size 2) to the top-level section: the last bytes are count 1, tag 0, size, value.
    const Explanation known = explain_message<FetchRequest>(Bytes(body), 12);
    REQUIRE(known.errors().empty());
    const ExplainNode* tags = find(known.root, "_tagged_fields");
    REQUIRE(tags);
    CHECK(tags->type == "tagged fields (1)");
    const ExplainNode* cluster = find(*tags, "ClusterId");
    REQUIRE(cluster);
    CHECK(cluster->type == "tagged field 0 (size 10)");
    CHECK(value_at(known, "_tagged_fields/ClusterId/value") == "\"cluster-x\"");

    const size_t section = tags->offset;
    std::vector<uint8_t> more(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(section));
    more.push_back(2);  // two fields
    more.insert(more.end(), body.begin() + static_cast<std::ptrdiff_t>(section) + 1, body.end());
    more.insert(more.end(), {7, 2, 0xab, 0xcd});
    const Explanation e = explain_message<FetchRequest>(Bytes(more), 12);
    INFO(to_text(e));
    REQUIRE(e.errors().empty());
    check_tiling(e, more.data(), more.size());
    const ExplainNode* unknown = find(e.root, "_tagged_fields/(unknown)");
    REQUIRE(unknown);
    CHECK(unknown->type == "unknown tag 7 (size 2)");
    CHECK(value_at(e, "_tagged_fields/(unknown)/bytes") == "0xabcd (2 bytes)");
  }
}

TEST_CASE("explain: each schema field carries the versions in which it exists", "[explain]") {
  SECTION("FetchResponse: fields added, removed, nested, tagged") {
    const Explanation v12 = explain_message<FetchResponse>(Bytes(golden().at("FetchResponse 12")), 12);
    CHECK(find(v12.root, "ThrottleTimeMs")->versions == "v4+");  // kafkawire speaks Fetch v4-18
    CHECK(find(v12.root, "ErrorCode")->versions == "v7+");
    CHECK(find(v12.root, "Responses")->versions == "v4+");
    CHECK(find(v12.root, "Responses/[0]/Topic")->versions == "v4-12");  // TopicId from v13
    CHECK(find(v12.root, "Responses/[0]/Partitions/[0]/Records")->versions == "v4+");
    // What is not a schema field has none: length prefixes, array elements, the tag section.
    CHECK(find(v12.root, "Responses/length")->versions.empty());
    CHECK(find(v12.root, "Responses/[0]")->versions.empty());
    CHECK(find(v12.root, "_tagged_fields")->versions.empty());
    const Explanation v13 = explain_message<FetchResponse>(Bytes(golden().at("FetchResponse 13")), 13);
    CHECK(find(v13.root, "Responses/[0]/TopicId")->versions == "v13+");
  }
  SECTION("a tagged field and a header field") {
    FetchRequest req;
    req.cluster_id = "cluster-x";
    auto body = encode(req, 12);
    const Explanation e = explain_message<FetchRequest>(Bytes(body), 12);
    CHECK(find(e.root, "_tagged_fields/ClusterId")->versions == "v12+");
    const Explanation h = explain_message<RequestHeader>(Bytes(golden().at("RequestHeader 2")), 2);
    CHECK(find(h.root, "ClientId")->versions == "v1+");
  }
  SECTION("in the JSON view") {
    const Explanation e = explain_message<FetchResponse>(Bytes(golden().at("FetchResponse 12")), 12);
    CHECK(to_json(e).find("\"name\":\"Topic\",\"type\":\"compact_string\"") != std::string::npos);
    CHECK(to_json(e).find("\"versions\":\"v4-12\"") != std::string::npos);
  }
  SECTION("and what the notes at the head of its header say about it") {
    using explain_detail::field_meaning;
    CHECK(field_meaning("JoinGroupRequest", "GroupInstanceId") ==
          "v5+: GroupInstanceId (static membership, KIP-345)");
    CHECK(field_meaning("FetchResponse", "ErrorCode").starts_with("v7+: top-level ErrorCode and SessionId"));
    // From a baseline entry only the sentence about the field, not the list of fields.
    CHECK(field_meaning("FetchRequest", "MaxBytes").starts_with("v4: MaxBytes (KIP-74) is a soft limit:"));
    CHECK(field_meaning("JoinGroupRequest", "GroupId").empty());
    // The request's notes are not the response's.
    CHECK(field_meaning("JoinGroupResponse", "GroupInstanceId") == "v5+: Members[GroupInstanceId]");
    CHECK(field_meaning("NoSuchMessage", "GroupId").empty());
    JoinGroupRequest req;
    req.group_instance_id = "i-1";
    auto body = encode(req, 9);
    const Explanation e = explain_message<JoinGroupRequest>(Bytes(body), 9);
    CHECK(find(e.root, "GroupInstanceId")->meaning == "v5+: GroupInstanceId (static membership, KIP-345)");
    CHECK(to_json(e).find("\"meaning\":\"v5+: GroupInstanceId (static membership, KIP-345)\"") !=
          std::string::npos);
  }
  SECTION("ranges") {
    CHECK(explain_detail::version_ranges({0, 1, 2}, 2) == "v0+");
    CHECK(explain_detail::version_ranges({0, 1, 2}, 5) == "v0-2");
    CHECK(explain_detail::version_ranges({3}, 5) == "v3");
    CHECK(explain_detail::version_ranges({1, 2, 5, 6}, 6) == "v1-2, v5+");
  }
}

TEST_CASE("explain: record batches, plain and compressed, down to each record", "[explain]") {
  std::vector<Compression> codecs{Compression::none, Compression::zstd};
  if (compression_available(Compression::gzip)) codecs.push_back(Compression::gzip);
  for (Compression c : codecs) {
    SECTION(std::string(compression_name(c))) {
      std::vector<uint8_t> records = batch(c, 40, 3, true);
      const size_t first = records.size();
      const auto second = batch(c, 43, 2);
      records.insert(records.end(), second.begin(), second.end());
      records.insert(records.end(), {0, 0, 0, 0, 0, 0, 0, 45, 0, 0, 1});  // a batch cut by the size limit
      const auto body = fetch_response(records);
      const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
      INFO(to_text(e));
      REQUIRE(e.errors().empty());
      check_tiling(e, body.data(), body.size());

      const ExplainNode* rs = find(e.root, "Responses/[0]/Partitions/[0]/Records");
      REQUIRE(rs);
      CHECK(rs->value == "2 batches, 5 records");
      const ExplainNode* b0 = find(*rs, "batch [0]");
      REQUIRE(b0);
      CHECK(b0->length == first);
      CHECK(value_at(e, "Responses/[0]/Partitions/[0]/Records/batch [0]/baseOffset") == "40");
      CHECK(find(*b0, "crc")->value.find("(matches)") != std::string::npos);
      CHECK(find(*b0, "attributes")->value.find(std::string(compression_name(c))) != std::string::npos);
      CHECK(find(*b0, "magic")->offset == find(*b0, "baseOffset")->offset + 16);
      CHECK(find(*rs, "incomplete batch")->type == "truncated batch");

      const ExplainNode* recs = find(*b0, c == Compression::none ? "records" : "decompressed records");
      REQUIRE(recs);
      if (c != Compression::none) {
        CHECK(find(*b0, "compressed records")->type == std::string(compression_name(c)) + " block");
        CHECK(recs->block == 1);
        CHECK(recs->offset == 0);
        REQUIRE(e.blocks.size() == 2);
        check_tiling(e, e.blocks[0]->data(), e.blocks[0]->size(), 1);
        check_tiling(e, e.blocks[1]->data(), e.blocks[1]->size(), 2);
      }
      REQUIRE(recs->children.size() == 3);
      const ExplainNode& r1 = recs->children[1];
      CHECK(r1.name == "record [1]");
      CHECK(find(r1, "offsetDelta")->value == "1 (offset 41)");
      CHECK(find(r1, "timestampDelta")->value == "1 (timestamp 1700000000001 (2023-11-14T22:13:20.001Z))");
      CHECK(find(r1, "keyLength")->value == "5");
      CHECK(find(r1, "key")->value == "\"key-1\"");
      CHECK(find(r1, "value")->value == "\"value-1\"");
      CHECK(find(r1, "headersCount")->value == "2");
      CHECK(find(r1, "header [0]")->value == "\"trace\" = \"abc\"");
      CHECK(find(r1, "header [1]/headerValueLength")->value == "-1 (null)");
      CHECK(r1.value == "offset 41, key \"key-1\", value \"value-1\", 2 headers");

      // The text form names the space of decompressed offsets and elides long values.
      const std::string text = to_text(e);
      CHECK(text.find("record [2]") != std::string::npos);
      if (c != Compression::none) CHECK(text.find("~0") != std::string::npos);
      CHECK(to_json(e).find("\"name\":\"record [0]\"") != std::string::npos);
    }
  }
}

TEST_CASE("explain: Kafka's own gzip and zstd batches", "[explain]") {
  std::ifstream in(KAFKAWIRE_GOLDEN_DIR "/record_batches.txt");
  std::string line;
  int seen = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind, name, hex;
    ls >> kind >> name >> hex;
    if (kind != "batch") continue;
    const bool gzip = name.find("gzip") != std::string::npos, zstd = name.find("zstd") != std::string::npos;
    if (!zstd && !(gzip && compression_available(Compression::gzip))) continue;
    INFO(name);
    const auto bytes = from_hex(hex);
    BatchHeader h;
    REQUIRE_FALSE(decode_batch_header(Bytes(bytes), h));
    const auto body = fetch_response(bytes);
    const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
    INFO(to_text(e));
    REQUIRE(e.errors().empty());
    check_tiling(e, body.data(), body.size());
    const ExplainNode* d =
        find(e.root, "Responses/[0]/Partitions/[0]/Records/batch [0]/decompressed records");
    REQUIRE(d);
    CHECK(d->children.size() == static_cast<size_t>(h.records_count));
    check_tiling(e, e.blocks[0]->data(), e.blocks[0]->size(), 1);
    ++seen;
  }
  CHECK(seen >= 1);
}

TEST_CASE("explain: bad record batches are error nodes", "[explain]") {
  auto records = batch(Compression::none, 0, 2);
  SECTION("a CRC that does not match") {
    records[records.size() - 2] ^= 1;  // "value-1" becomes "value-0"
    const auto body = fetch_response(records);
    const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
    REQUIRE(e.errors().size() == 1);
    CHECK(e.errors()[0]->name == "crc");
    CHECK(e.errors()[0]->value.find("MISMATCH") != std::string::npos);
    check_tiling(e, body.data(), body.size());
  }
  SECTION("a record longer than its batch") {
    records[61] = 0x7e;  // the first record's length varint: 63
    const auto body = fetch_response(records);
    const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
    CHECK_FALSE(e.errors().empty());
  }
  SECTION("a corrupt compressed block") {
    auto z = batch(Compression::zstd, 0, 3);
    for (size_t i = kBatchHeaderSize; i < z.size(); ++i) z[i] = 0x55;
    const auto body = fetch_response(z);
    const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
    REQUIRE_FALSE(e.errors().empty());
    check_tiling(e, body.data(), body.size());
  }
}

TEST_CASE("explain: frames", "[explain]") {
  // A FetchRequest v12 frame: size, header v2, body.
  FetchRequest req;
  req.max_wait_ms = 500;
  req.topics.push_back(
      {"orders", {}, {{0, -1, 7, -1, -1, 1 << 20, {}, std::numeric_limits<int64_t>::max()}}});
  Writer w;
  w.i32(0);
  encode(w, RequestHeader{1, 12, 77, std::string("cli")}, 2);
  encode(w, req, 12);
  w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
  const std::vector<uint8_t> frame = w.buffer();

  SECTION("a request, found by its header") {
    CHECK(looks_like_request(Bytes(frame.data() + 4, frame.size() - 4)));
    const Explanation e = explain_frame(Bytes(frame));
    INFO(to_text(e));
    REQUIRE(e.errors().empty());
    check_tiling(e, frame.data(), frame.size());
    CHECK(e.root.name == "request");
    CHECK(e.root.type == "FetchRequest v12 frame");
    CHECK(value_at(e, "Size") == std::to_string(frame.size() - 4) + " (bytes after this field)");
    CHECK(value_at(e, "Header/RequestApiKey") == "1 (Fetch)");
    CHECK(value_at(e, "Header/CorrelationId") == "77");
    CHECK(find(e.root, "Header")->type == "RequestHeader v2");
    CHECK(value_at(e, "FetchRequest/MaxWaitMs") == "500");
    CHECK(find(e.root, "FetchRequest/MaxWaitMs")->offset ==
          4 + 14 + 4);  // size, header v2 with "cli", ReplicaId
  }
  SECTION("without the size") {
    const Bytes bare(frame.data() + 4, frame.size() - 4);
    const Explanation e = explain_frame(bare, FrameOptions::request(false));
    REQUIRE(e.errors().empty());
    check_tiling(e, bare.ptr, bare.len);
  }
  SECTION("trailing bytes and truncation") {
    std::vector<uint8_t> longer = frame;
    longer.insert(longer.end(), {1, 2, 3});
    const Explanation t = explain_frame(Bytes(longer));
    REQUIRE(t.errors().size() == 1);
    CHECK(t.errors()[0]->offset == frame.size());
    CHECK(t.errors()[0]->value == "3 bytes after the frame");
    for (size_t n = 0; n < frame.size(); ++n) {
      const Explanation c = explain_frame(Bytes(frame.data(), n), FrameOptions::request());
      if (c.errors().empty()) FAIL("a frame cut at " << n << " explained without an error");
    }
  }
  SECTION("a response needs its api and version") {
    MetadataResponse m;
    m.brokers.push_back({1, "broker-1", 9092, std::nullopt});
    Writer rw;
    rw.i32(0);
    encode(rw, ResponseHeader{77}, 1);
    encode(rw, m, 12);
    rw.patch_i32(0, static_cast<int32_t>(rw.size() - 4));
    const auto& f = rw.buffer();
    FrameOptions o;  // auto: not a request, so the response of the api given
    o.api_key = 3;
    o.api_version = 12;
    const Explanation e = explain_frame(Bytes(f), o);
    INFO(to_text(e));
    REQUIRE(e.errors().empty());
    check_tiling(e, f.data(), f.size());
    CHECK(e.root.name == "response");
    CHECK(value_at(e, "MetadataResponse/Brokers/[0]/Host") == "\"broker-1\"");
    CHECK(value_at(e, "Header/CorrelationId") == "77");
    CHECK_FALSE(explain_frame(Bytes(f)).errors().empty());  // no api given: not explainable
  }
  SECTION("ApiVersions: the broker's v0 answer to a version it does not serve") {
    ApiVersionsResponse a;
    a.error_code = 35;
    a.api_keys.push_back({18, 0, 4});
    Writer rw;
    rw.i32(0);
    encode(rw, ResponseHeader{1}, 0);
    encode(rw, a, 0);
    rw.patch_i32(0, static_cast<int32_t>(rw.size() - 4));
    const Explanation e = explain_frame(Bytes(rw.buffer()), FrameOptions::response(18, 4));
    INFO(to_text(e));
    CHECK(e.errors().empty());
    CHECK(value_at(e, "ApiVersionsResponse/ErrorCode") == "35 (UNSUPPORTED_VERSION)");
  }
  SECTION("an API kafkawire does not speak") {
    std::vector<uint8_t> f = frame;
    f[4] = 0;
    f[5] = 60;  // DescribeCluster
    const Explanation e = explain_frame(Bytes(f), FrameOptions::request());
    CHECK(e.errors().empty());
    check_tiling(e, f.data(), f.size());
    CHECK(find(e.root, "Body")->type == "undecoded body");
  }
}

TEST_CASE("explain: long values are elided in the text form", "[explain]") {
  const std::string big(100, 'x');
  std::vector<uint8_t> records = [&] {
    RecordBatchBuilder b{BatchOptions{}};
    b.add(0, std::nullopt, Bytes(std::string_view(big)));
    return b.build();
  }();
  const auto body = fetch_response(records);
  const std::string text = to_text(explain_message<FetchResponse>(Bytes(body), 12));
  INFO(text);
  CHECK(text.find("... (100 bytes)") != std::string::npos);
  CHECK(text.find("-1 (null)") != std::string::npos);
}

namespace {

// A FindCoordinatorRequest v0 whose Key is `key`, explained: the Key leaf, the text and the JSON.
struct KeyExplained {
  std::vector<uint8_t> body;
  Explanation e;
  std::string value, text, json;
};
KeyExplained explain_key(const std::string& key) {
  FindCoordinatorRequest m;
  m.key = key;
  KeyExplained k;
  k.body = encode(m, 0);
  k.e = explain_message<FindCoordinatorRequest>(Bytes(k.body), 0);
  const ExplainNode* leaf = find(k.e.root, "Key");
  REQUIRE(leaf);
  k.value = leaf->value;
  k.text = to_text(k.e);
  k.json = to_json(k.e);
  return k;
}

// The "value" of the JSON node named `name`, searched depth first.
const kafkawire::testing::JsonValue* json_value_of(const kafkawire::testing::JsonValue& n,
                                                   std::string_view name) {
  const auto* nm = n.get("name");
  if (nm && nm->text == name) return n.get("value");
  if (const auto* children = n.get("children"))
    for (const auto& c : children->items)
      if (const auto* v = json_value_of(c, name)) return v;
  return nullptr;
}

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

}  // namespace

TEST_CASE("explain: output is valid UTF-8 and JSON, strings are cut between characters", "[explain][utf8]") {
  using kafkawire::testing::JsonParser;
  using kafkawire::testing::valid_utf8;
  SECTION("256 characters ending in a two-byte one are shown whole (the issue's lone 0xC3)") {
    const std::string key = std::string(255, 'a') + "\xc3\xa9";  // 256 characters, 257 bytes
    const KeyExplained k = explain_key(key);
    CHECK(k.value == "\"" + key + "\"");
    CHECK(valid_utf8(k.text));
    const auto json = JsonParser::parse(k.json);
    REQUIRE(json);
    const auto* v = json_value_of(*json, "Key");
    REQUIRE(v);
    CHECK(v->text == "\"" + key + "\"");
  }
  SECTION("past 256 characters: cut at a character boundary, counted in characters") {
    for (std::string_view ch : {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"}) {  // é, €, 😀
      INFO("character of " << ch.size() << " bytes");
      const std::string key = std::string(10, 'a') + repeat(ch, 290);  // 300 characters
      const KeyExplained k = explain_key(key);
      CHECK(k.value == "\"" + std::string(10, 'a') + repeat(ch, 246) + "\"... (300 chars)");
      CHECK(valid_utf8(k.value));
      CHECK(valid_utf8(k.text));
      const auto json = JsonParser::parse(k.json);
      REQUIRE(json);
      const auto* v = json_value_of(*json, "Key");
      REQUIRE(v);
      CHECK(v->text == k.value);
    }
  }
  SECTION("bytes that are not UTF-8 are escaped and count as one character each") {
    // A lone lead byte, a stray continuation byte, an overlong '/', a surrogate, a cut 3-byte sequence.
    const std::string key = std::string("a\xc3") + "b\x80" + "\xc0\xaf" + "\xed\xa0\x80" + "\xe2\x82";
    const KeyExplained k = explain_key(key);
    CHECK(k.value == R"("a\u00c3b\u0080\u00c0\u00af\u00ed\u00a0\u0080\u00e2\u0082")");
    CHECK(valid_utf8(k.text));
    const auto json = JsonParser::parse(k.json);
    REQUIRE(json);
    CHECK(json_value_of(*json, "Key")->text == k.value);
    const std::string longer = repeat("\xff", 300);
    const KeyExplained l = explain_key(longer);
    CHECK(l.value == "\"" + repeat("\\u00ff", 256) + "\"... (300 chars)");
    CHECK(valid_utf8(l.text));
    CHECK(JsonParser::parse(l.json));
  }
  SECTION("record keys, values and header keys in a batch") {
    RecordBatchBuilder b{BatchOptions{}};
    const std::string header_key = std::string(300, 'h') + "\xc3";
    const std::string value = std::string(256, 'v') + "\xc3\xa9";
    const Header h{header_key, Bytes(std::string_view("\xff\xfe"))};
    b.add(0, Bytes(std::string_view("\xc3")), Bytes(std::string_view(value)), std::span<const Header>(&h, 1));
    const auto body = fetch_response(b.build());
    const Explanation e = explain_message<FetchResponse>(Bytes(body), 12);
    CHECK(e.errors().empty());
    const std::string text = to_text(e);
    CHECK(valid_utf8(text));
    CHECK(text.find("... (301 chars)") != std::string::npos);
    const std::string json = to_json(e);
    CHECK(valid_utf8(json));
    CHECK(JsonParser::parse(json));
  }
}

TEST_CASE("explain: random strings always give valid UTF-8 text and JSON", "[explain][utf8]") {
  using kafkawire::testing::JsonParser;
  using kafkawire::testing::valid_utf8;
  std::mt19937 rng(11);
  // Biased to bytes around UTF-8's edges, so that valid and broken sequences both come up often.
  const uint8_t interesting[] = {'a',  '"',  '\\', '\n', 0x01, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xc3, 0xa9, 0xdf,
                                 0xe0, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xef, 0xf0, 0x9f, 0xf4, 0xf5, 0xff};
  for (int round = 0; round < 300; ++round) {
    std::string key(std::uniform_int_distribution<size_t>(0, 600)(rng), '\0');
    for (char& c : key) c = static_cast<char>(interesting[rng() % sizeof interesting]);
    const KeyExplained k = explain_key(key);
    INFO("round " << round);
    REQUIRE(valid_utf8(k.text));
    REQUIRE(JsonParser::parse(k.json));
  }
}

TEST_CASE("explain: mutated golden bodies and frames never crash and still tile", "[explain]") {
  std::mt19937 rng(20240611);
  for_each_message([&](auto type) {
    using M = typename decltype(type)::type;
    for (int16_t v = M::min_version; v <= M::max_version; ++v) {
      const auto& bytes = golden().at(std::string(M::name) + " " + std::to_string(v));
      if (bytes.empty()) continue;
      INFO(M::name << " v" << v);
      for (int round = 0; round < 100; ++round) {
        std::vector<uint8_t> m = bytes;
        const int flips = 1 + static_cast<int>(rng() % 3);
        for (int i = 0; i < flips; ++i) m[rng() % m.size()] = static_cast<uint8_t>(rng());
        const Explanation e = explain_message<M>(Bytes(m), v);
        check_tiling(e, m.data(), m.size());
        // The same bytes as a frame, both ways.
        std::vector<uint8_t> frame{0, 0, 0, 0};
        frame.insert(frame.end(), m.begin(), m.end());
        frame[3] = static_cast<uint8_t>(m.size() & 0xff);
        frame[2] = static_cast<uint8_t>(m.size() >> 8);
        check_tiling(explain_frame(Bytes(frame), FrameOptions::request()), frame.data(), frame.size());
        check_tiling(explain_frame(Bytes(frame), FrameOptions::response(M::api_key < 0 ? 3 : M::api_key, v)),
                     frame.data(), frame.size());
      }
    }
  });
  // Record batches, plain and compressed: the records' own varints and lengths.
  for (Compression c : {Compression::none, Compression::zstd}) {
    std::vector<uint8_t> records = batch(c, 7, 4, true);
    const auto more = batch(c, 11, 3);
    records.insert(records.end(), more.begin(), more.end());
    const auto body = fetch_response(records);
    for (int round = 0; round < 2000; ++round) {
      std::vector<uint8_t> m = body;
      const int flips = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < flips; ++i) m[rng() % m.size()] = static_cast<uint8_t>(rng());
      const Explanation e = explain_message<FetchResponse>(Bytes(m), 12);
      check_tiling(e, m.data(), m.size());
      for (size_t b = 0; b < e.blocks.size(); ++b)
        check_tiling(e, e.blocks[b]->data(), e.blocks[b]->size(), static_cast<uint32_t>(b + 1));
    }
  }
}

TEST_CASE("explain: SaslAuthenticate auth bytes are never printed, only their length", "[explain][sasl]") {
  // A PLAIN message (RFC 4616): authzid, user and password separated by NULs.
  const std::string password = "Tr0ub4dor&3-never-print-me";
  const std::string plain = std::string("\0alice\0", 7) + password;
  std::string password_hex;
  for (unsigned char c : password) {
    static constexpr char kDigits[] = "0123456789abcdef";
    password_hex += kDigits[c >> 4];
    password_hex += kDigits[c & 0x0f];
  }
  // Any 6 bytes of the password, as text or as hex (with or without the spaces to_text puts between bytes).
  auto leaks = [&](const std::string& out) {
    std::string spaced_out;
    for (char c : out)
      if (c != ' ') spaced_out += c;
    for (size_t i = 0; i + 6 <= password.size(); ++i) {
      if (out.find(password.substr(i, 6)) != std::string::npos) return true;
      if (spaced_out.find(password_hex.substr(2 * i, 12)) != std::string::npos) return true;
    }
    // base64 of the whole PLAIN message, as Kafka's JsonConverter would print it.
    return out.find(base64(Bytes(std::string_view(plain))).substr(0, 12)) != std::string::npos;
  };
  const std::string shown = std::to_string(plain.size()) + " bytes (not shown: may hold a password or token)";

  for (int16_t v = SaslAuthenticateRequest::min_version; v <= SaslAuthenticateRequest::max_version; ++v) {
    INFO("SaslAuthenticateRequest v" << v);
    SaslAuthenticateRequest req;
    req.auth_bytes.bytes = Bytes(std::string_view(plain));
    std::error_code ec;
    const std::vector<uint8_t> body = encode(req, v, &ec);
    REQUIRE_FALSE(ec);
    // The bytes are on the wire as they are: the redaction is in the printers only.
    REQUIRE(std::string(body.begin(), body.end()).find(password) != std::string::npos);

    const Explanation e = explain_message<SaslAuthenticateRequest>(Bytes(body), v);
    REQUIRE(e.ok());
    check_tiling(e, body.data(), body.size());
    CHECK(value_at(e, "AuthBytes") == shown);
    CHECK(find(e.root, "AuthBytes/bytes")->hidden);
    const std::string text = to_text(e), tree_json = to_json(e), json = to_json(req, v);
    INFO(text);
    CHECK_FALSE(leaks(text));
    CHECK_FALSE(leaks(tree_json));
    CHECK_FALSE(leaks(json));
    CHECK(text.find(shown) != std::string::npos);
    CHECK(json.find("\"authBytes\":\"" + shown + "\"") != std::string::npos);
    CHECK(kafkawire::testing::JsonParser::parse(tree_json));
    CHECK(kafkawire::testing::JsonParser::parse(json));
    // Revealed only when asked (the golden-vector filler): proves the checks above can see a leak.
    CHECK(leaks(to_json(req, v, Secrets::reveal)));

    // The same as a whole frame, found by its header, as `kafkawire explain` and the spy read it.
    Writer w;
    w.i32(0);
    encode(w, RequestHeader{SaslAuthenticateRequest::api_key, v, 5, std::string("cli")},
           request_header_version<SaslAuthenticateRequest>(v));
    encode(w, req, v);
    w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
    const Explanation f = explain_frame(Bytes(w.buffer()));
    REQUIRE(f.ok());
    CHECK(f.root.type == "SaslAuthenticateRequest v" + std::to_string(v) + " frame");
    CHECK_FALSE(leaks(to_text(f)));
    CHECK_FALSE(leaks(to_text(f, {.max_hex = 4096})));
    CHECK_FALSE(leaks(to_json(f)));
  }

  SECTION("responses too (a SCRAM server-first names the salt, an OAUTHBEARER error the scope)") {
    SaslAuthenticateResponse resp;
    resp.auth_bytes.bytes = Bytes(std::string_view(plain));
    const std::vector<uint8_t> body = encode(resp, 2);
    const Explanation e = explain_message<SaslAuthenticateResponse>(Bytes(body), 2);
    REQUIRE(e.ok());
    CHECK_FALSE(leaks(to_text(e)));
    CHECK_FALSE(leaks(to_json(e)));
    CHECK_FALSE(leaks(to_json(resp, 2)));
  }
}
