// RecordBatch v2: build and read back, every codec, the fetch-path filters (start offset, control batches,
// read_committed), truncation, corruption, and Kafka's own batches (tests/golden/record_batches.txt).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kafkawire/protocol/crc32c.hpp"
#include "kafkawire/protocol/record_batch.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;
using kafkawire::testing::to_hex;

namespace {

using Blob = std::vector<uint8_t>;
using OptBlob = std::optional<Blob>;

// A record as owned values, for comparisons.
struct Rec {
  int64_t offset = 0;
  int64_t timestamp = 0;
  OptBlob key, value;
  std::vector<std::pair<std::string, OptBlob>> headers;
  friend bool operator==(const Rec&, const Rec&) = default;
};

std::ostream& operator<<(std::ostream& os, const Rec& r) {
  auto h = [](const OptBlob& b) {
    return b ? (b->empty() ? std::string("=") : to_hex(*b)) : std::string("-");
  };
  os << "{" << r.offset << " " << r.timestamp << " " << h(r.key) << " " << h(r.value);
  for (const auto& [k, v] : r.headers) os << " " << k << ":" << h(v);
  return os << "}";
}

OptBlob own(const std::optional<Bytes>& b) { return b ? OptBlob(Blob(b->begin(), b->end())) : std::nullopt; }
OptBlob text(const char* s) { return s ? OptBlob(Blob(s, s + std::strlen(s))) : std::nullopt; }

Rec own(const RecordView& v) {
  Rec r{v.offset, v.timestamp, own(v.key), own(v.value), {}};
  for (auto [k, val] : v.headers) r.headers.emplace_back(std::string(k), own(val));
  return r;
}

std::optional<Bytes> view(const OptBlob& b) {
  return b ? std::optional<Bytes>(Bytes(b->data(), b->size())) : std::nullopt;
}

// Appends records (offsets and timestamps taken from each Rec) to a builder.
void add_all(RecordBatchBuilder& b, const std::vector<Rec>& recs) {
  for (const Rec& r : recs) {
    std::vector<Header> hs;
    for (const auto& [k, v] : r.headers) hs.push_back({k, view(v)});
    b.add_at(r.offset, r.timestamp, view(r.key), view(r.value), hs);
  }
}

Blob make_batch(const BatchOptions& o, const std::vector<Rec>& recs) {
  RecordBatchBuilder b(o);
  add_all(b, recs);
  return b.build();
}

// `n` records at offsets base.., values "v<offset>" of `value_size` bytes (padded).
std::vector<Rec> numbered(int64_t base, int n, size_t value_size = 8) {
  std::vector<Rec> out;
  for (int i = 0; i < n; ++i) {
    std::string v = "v" + std::to_string(base + i);
    v.resize(std::max(v.size(), value_size), '.');
    out.push_back(
        {base + i, 1'700'000'000'000 + i, text(("k" + std::to_string(i % 3)).c_str()), text(v.c_str()), {}});
  }
  return out;
}

struct ReadResult {
  std::vector<Rec> records;
  std::error_code error;
  int64_t error_offset = -1;
  int64_t next_offset = 0;
  bool truncated_tail = false;
  size_t bytes_consumed = 0;
};

ReadResult read_all(const Blob& blob, const ReadOptions& o = {},
                    const std::vector<AbortedTransaction>& aborted = {}) {
  RecordBatchReader r(Bytes(blob), o);
  r.set_aborted_transactions(aborted);
  ReadResult out;
  RecordView v;
  while (r.next(v)) out.records.push_back(own(v));
  out.error = r.error();
  out.error_offset = r.error_offset();
  out.next_offset = r.next_offset();
  out.truncated_tail = r.truncated_tail();
  out.bytes_consumed = r.bytes_consumed();
  return out;
}

std::vector<int64_t> offsets(const std::vector<Rec>& recs) {
  std::vector<int64_t> out;
  for (const auto& r : recs) out.push_back(r.offset);
  return out;
}

Blob concat(std::initializer_list<Blob> parts) {
  Blob out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

void put32(Blob& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// Replaces a batch's records section (and records count, when given), fixing its length and CRC, so that
// what is tested is the record decoder, not the CRC check.
Blob with_records(const Blob& batch, const Blob& records, std::optional<int32_t> count = std::nullopt) {
  Blob b(batch.begin(), batch.begin() + kBatchHeaderSize);
  b.insert(b.end(), records.begin(), records.end());
  put32(b, 8, static_cast<uint32_t>(b.size() - kBatchLogOverhead));
  if (count) put32(b, 57, static_cast<uint32_t>(*count));
  put32(b, 17, crc32c(b.data() + 21, b.size() - 21));
  return b;
}

void fix_crc(Blob& b) { put32(b, 17, crc32c(b.data() + 21, b.size() - 21)); }

const Compression kCodecs[] = {Compression::none, Compression::gzip, Compression::snappy, Compression::lz4,
                               Compression::zstd};

std::vector<Rec> mixed_records(int64_t base) {
  Blob big(300);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7 + 3);
  const int64_t t0 = 1'700'000'000'000;
  return {
      {base, t0, std::nullopt, text("v0"), {}},
      {base + 1, t0 + 1, text("key-1"), std::nullopt, {{"h1", text("x")}}},
      {base + 2, t0 + 1000, text("k2"), Blob{}, {{"a", text("1")}, {"b", std::nullopt}}},
      {base + 3, t0 - 3, text("twenty-byte-key-0003"), big, {}},
      {base + 4, t0 + 70'000, Blob{}, text("last"), {{"", Blob{}}}},
  };
}

}  // namespace

TEST_CASE("record batch: header layout and record encoding", "[records]") {
  BatchOptions o;
  o.base_offset = 0x0102030405060708;
  o.partition_leader_epoch = 9;
  o.producer_id = 77;
  o.producer_epoch = 3;
  o.base_sequence = 11;
  const Blob b = make_batch(o, {{o.base_offset, 1000, text("k"), text("v"), {}}});
  // Record: length 8 (zigzag 0x10), attributes, timestampDelta 0, offsetDelta 0, key "k", value "v", 0
  // headers.
  CHECK(to_hex(Blob(b.begin() + kBatchHeaderSize, b.end())) == "10000000026b027600");
  CHECK(to_hex(Blob(b.begin(), b.begin() + 17)) ==
        "0102030405060708"
        "0000003a"
        "00000009"
        "02");
  BatchHeader h;
  REQUIRE_FALSE(decode_batch_header(Bytes(b), h));
  CHECK(h.base_offset == o.base_offset);
  CHECK(h.batch_length == static_cast<int32_t>(b.size() - 12));
  CHECK(h.partition_leader_epoch == 9);
  CHECK(h.magic == 2);
  CHECK(h.attributes == 0);
  CHECK(h.last_offset_delta == 0);
  CHECK(h.base_timestamp == 1000);
  CHECK(h.max_timestamp == 1000);
  CHECK(h.producer_id == 77);
  CHECK(h.producer_epoch == 3);
  CHECK(h.base_sequence == 11);
  CHECK(h.records_count == 1);
  CHECK(h.last_offset() == o.base_offset);
  CHECK(h.size_in_bytes() == b.size());
  CHECK(h.crc == crc32c(b.data() + 21, b.size() - 21));
  CHECK(batch_crc_ok(Bytes(b)));
  CHECK(decode_batch_header(Bytes(b.data(), 60), h) == client_errc::truncated);

  BatchOptions flags;
  flags.compression = Compression::zstd;
  flags.timestamp_type = TimestampType::log_append_time;
  flags.transactional = true;
  flags.control = true;
  flags.producer_id = 1;
  RecordBatchBuilder fb(flags);
  fb.add(5, std::nullopt, std::nullopt);
  REQUIRE_FALSE(decode_batch_header(Bytes(fb.build()), h));
  CHECK(h.attributes == (4 | 8 | 16 | 32));
  CHECK(h.compression() == Compression::zstd);
  CHECK(h.timestamp_type() == TimestampType::log_append_time);
  CHECK(h.is_transactional());
  CHECK(h.is_control());
  CHECK_FALSE(h.has_delete_horizon());
}

TEST_CASE("record batch: round trip with every codec", "[records]") {
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    INFO(compression_name(c));
    BatchOptions o;
    o.base_offset = 500;
    o.compression = c;
    const auto recs = mixed_records(500);
    const Blob b = make_batch(o, recs);
    BatchHeader h;
    REQUIRE_FALSE(decode_batch_header(Bytes(b), h));
    CHECK(h.compression() == c);
    CHECK(h.base_timestamp == recs[0].timestamp);  // the first record's, as Kafka's builder
    CHECK(h.max_timestamp == recs[4].timestamp);
    CHECK(h.last_offset() == 504);
    const auto r = read_all(b);
    CHECK_FALSE(r.error);
    CHECK(r.records == recs);
    CHECK(r.next_offset == 505);
    CHECK_FALSE(r.truncated_tail);
    CHECK(r.bytes_consumed == b.size());

    // Many records, large values, in one batch.
    const auto many = numbered(1000, 2000, 200);
    o.base_offset = 1000;
    const auto r2 = read_all(make_batch(o, many));
    CHECK_FALSE(r2.error);
    CHECK(r2.records == many);
  }
}

TEST_CASE("record batch: records are views and headers iterate lazily", "[records]") {
  const Blob b = make_batch({}, mixed_records(0));
  RecordBatchReader r{Bytes(b)};
  RecordView v;
  REQUIRE(r.next(v));
  REQUIRE(v.value);
  CHECK(v.value->ptr >= b.data());  // zero copy: points into the blob
  CHECK(v.value->ptr + v.value->len <= b.data() + b.size());
  CHECK(v.headers.empty());
  REQUIRE(r.next(v));
  REQUIRE(r.next(v));
  CHECK(v.headers.size() == 2);
  std::vector<std::string> keys;
  for (auto [k, val] : v.headers) keys.emplace_back(k);
  CHECK(keys == std::vector<std::string>{"a", "b"});
  CHECK(v.headers.last("a") == std::optional<std::optional<Bytes>>(Bytes(std::string_view("1"))));
  CHECK(v.headers.last("b") == std::optional<std::optional<Bytes>>(std::optional<Bytes>()));
  CHECK_FALSE(v.headers.last("zzz"));
  CHECK(std::distance(v.headers.begin(), v.headers.end()) == 2);
}

TEST_CASE("record batch: LogAppendTime reports the batch's max timestamp", "[records]") {
  BatchOptions o;
  o.timestamp_type = TimestampType::log_append_time;
  o.log_append_time = 1'700'000'999'000;
  const auto r = read_all(make_batch(o, numbered(0, 3)));
  REQUIRE(r.records.size() == 3);
  for (const auto& rec : r.records) CHECK(rec.timestamp == 1'700'000'999'000);
}

TEST_CASE("record batch: start offset skips records and whole batches", "[records]") {
  BatchOptions o;
  o.base_offset = 90;
  const Blob first = make_batch(o, numbered(90, 10));
  o.base_offset = 100;
  o.compression = Compression::zstd;
  const Blob second = make_batch(o, numbered(100, 10));
  const Blob blob = concat({first, second});

  ReadOptions ro;
  ro.start_offset = 105;
  auto r = read_all(blob, ro);
  CHECK(offsets(r.records) == std::vector<int64_t>{105, 106, 107, 108, 109});
  CHECK(r.next_offset == 110);

  ro.start_offset = 200;
  r = read_all(blob, ro);
  CHECK(r.records.empty());
  CHECK(r.next_offset == 200);

  ro.start_offset = 0;
  r = read_all(blob, ro);
  CHECK(r.records.size() == 20);
}

TEST_CASE("record batch: batch-by-batch reading and next_offset", "[records]") {
  BatchOptions o;
  const Blob a = make_batch(o, numbered(0, 5));
  o.base_offset = 5;
  o.compression = Compression::zstd;
  const Blob b = make_batch(o, numbered(5, 5));
  // A batch emptied by compaction: no records, lastOffsetDelta still says where it ended.
  BatchOptions e;
  e.base_offset = 10;
  e.last_offset_delta = 4;
  e.base_timestamp = 0;
  const Blob empty = RecordBatchBuilder(e).build();
  o.base_offset = 15;
  const Blob c = make_batch(o, numbered(15, 2));
  const Blob blob = concat({a, b, empty, c});

  RecordBatchReader r{Bytes(blob)};
  RecordView v;
  REQUIRE(r.next_batch());
  CHECK(r.batch().base_offset == 0);
  REQUIRE(r.next_record(v));
  CHECK(v.offset == 0);
  CHECK(r.next_offset() == 1);
  REQUIRE(r.next_batch());  // leaves the rest of the first batch
  CHECK(r.next_offset() == 5);
  CHECK(r.batch().base_offset == 5);
  int n = 0;
  while (r.next_record(v)) ++n;
  CHECK(n == 5);
  CHECK(r.next_offset() == 10);
  REQUIRE(r.next_batch());  // the empty batch has nothing to deliver but is a batch
  CHECK(r.batch().base_offset == 10);
  CHECK_FALSE(r.next_record(v));
  CHECK(r.next_offset() == 15);
  REQUIRE(r.next_batch());
  CHECK(r.batch().base_offset == 15);
  CHECK_FALSE(r.next_batch());
  CHECK(r.next_offset() == 17);
  CHECK_FALSE(r.error());

  const auto all = read_all(blob);
  CHECK(all.records.size() == 12);
  CHECK(all.next_offset == 17);
}

TEST_CASE("record batch: compressed records live in the scratch buffer", "[records]") {
  BatchOptions o;
  o.compression = Compression::zstd;
  const Blob a = make_batch(o, numbered(0, 3));
  o.base_offset = 3;
  const Blob b = make_batch(o, numbered(3, 3));
  const Blob blob = concat({a, b});
  std::vector<uint8_t> s1, s2;
  RecordBatchReader r{Bytes(blob)};
  RecordView first, second;
  r.set_scratch(&s1);
  REQUIRE(r.next_batch());
  REQUIRE(r.next_record(first));
  r.set_scratch(&s2);
  REQUIRE(r.next_batch());
  REQUIRE(r.next_record(second));
  CHECK(first.value->ptr >= s1.data());
  CHECK(first.value->ptr < s1.data() + s1.size());
  CHECK(own(first).value == text("v0......"));  // still valid: its batch has its own buffer
  CHECK(own(second).value == text("v3......"));

  // reset() reuses the reader (and its buffers) for another blob.
  r.reset(Bytes(a));
  int n = 0;
  while (r.next(first)) ++n;
  CHECK(n == 3);
}

TEST_CASE("record batch: control batches", "[records]") {
  EndTxnMarkerOptions m;
  m.offset = 42;
  m.timestamp = 1'700'000'000'050;
  m.partition_leader_epoch = 9;
  m.producer_id = 4242;
  m.producer_epoch = 3;
  m.type = ControlType::abort;
  m.coordinator_epoch = 11;
  const Blob abort = build_end_txn_marker(m);
  BatchHeader h;
  REQUIRE_FALSE(decode_batch_header(Bytes(abort), h));
  CHECK(h.is_control());
  CHECK(h.is_transactional());
  CHECK(h.base_sequence == -1);
  CHECK(h.records_count == 1);

  // Never delivered as records; the position moves past them.
  auto r = read_all(abort);
  CHECK(r.records.empty());
  CHECK_FALSE(r.error);
  CHECK(r.next_offset == 43);

  // Visible on request, with the marker parsed.
  ReadOptions ro;
  ro.deliver_control = true;
  r = read_all(abort, ro);
  REQUIRE(r.records.size() == 1);
  CHECK(to_hex(*r.records[0].key) == "00000000");
  CHECK(to_hex(*r.records[0].value) == "00000000000b");
  const auto key = parse_control_key(view(r.records[0].key));
  REQUIRE(key);
  CHECK(key->version == 0);
  CHECK(key->is_abort());
  const auto marker = parse_end_txn_marker(view(r.records[0].value));
  REQUIRE(marker);
  CHECK(marker->coordinator_epoch == 11);

  m.type = ControlType::commit;
  const Blob commit = build_end_txn_marker(m);
  RecordBatchReader rr(Bytes(commit), ro);
  RecordView v;
  REQUIRE(rr.next(v));
  CHECK(rr.batch().is_control());
  CHECK(parse_control_key(v.key)->is_commit());
  CHECK_FALSE(parse_control_key(std::nullopt));
  CHECK_FALSE(parse_control_key(Bytes(from_hex("0000"))));
}

TEST_CASE("record batch: read_committed skips aborted transactions", "[records]") {
  auto txn = [](int64_t base, int64_t pid, int n, bool transactional = true) {
    BatchOptions o;
    o.base_offset = base;
    o.producer_id = pid;
    o.producer_epoch = 0;
    o.base_sequence = 0;
    o.transactional = transactional;
    return make_batch(o, numbered(base, n));
  };
  auto marker = [](int64_t offset, int64_t pid, ControlType t) {
    EndTxnMarkerOptions m;
    m.offset = offset;
    m.producer_id = pid;
    m.type = t;
    return build_end_txn_marker(m);
  };
  const int64_t P1 = 1, P2 = 2;

  SECTION("an aborted and a committed producer interleaved") {
    // P1 data 0-1 (aborted), P2 data 2 (committed), P1 ABORT 3, P2 COMMIT 4, P1 data 5 (committed), COMMIT 6.
    const Blob blob =
        concat({txn(0, P1, 2), txn(2, P2, 1), marker(3, P1, ControlType::abort),
                marker(4, P2, ControlType::commit), txn(5, P1, 1), marker(6, P1, ControlType::commit)});
    ReadOptions rc;
    rc.read_committed = true;
    auto r = read_all(blob, rc, {{P1, 0}});
    CHECK_FALSE(r.error);
    CHECK(offsets(r.records) == std::vector<int64_t>{2, 5});
    CHECK(r.next_offset == 7);
    // read_uncommitted: everything but the markers.
    r = read_all(blob, {}, {{P1, 0}});
    CHECK(offsets(r.records) == std::vector<int64_t>{0, 1, 2, 5});
    // read_committed without aborted transactions: everything is committed.
    r = read_all(blob, rc);
    CHECK(offsets(r.records) == std::vector<int64_t>{0, 1, 2, 5});
  }

  SECTION("an aborted transaction starts after an earlier committed one") {
    // P1 data 0 (committed), COMMIT 1, P1 data 2-3 (aborted), ABORT 4, P1 data 5 (open, not aborted).
    const Blob blob = concat({txn(0, P1, 1), marker(1, P1, ControlType::commit), txn(2, P1, 2),
                              marker(4, P1, ControlType::abort), txn(5, P1, 1)});
    ReadOptions rc;
    rc.read_committed = true;
    auto r = read_all(blob, rc, {{P1, 2}});
    CHECK(offsets(r.records) == std::vector<int64_t>{0, 5});
    CHECK(r.next_offset == 6);
  }

  SECTION("two aborted transactions of one producer, listed out of order") {
    const Blob blob = concat({txn(0, P1, 1), marker(1, P1, ControlType::abort), txn(2, P2, 1), txn(3, P1, 1),
                              marker(4, P1, ControlType::abort), marker(5, P2, ControlType::commit)});
    ReadOptions rc;
    rc.read_committed = true;
    auto r = read_all(blob, rc, {{P1, 3}, {P1, 0}});
    CHECK(offsets(r.records) == std::vector<int64_t>{2});
  }

  SECTION("non-transactional batches of the same producer id are kept") {
    const Blob blob = concat({txn(0, P1, 1), txn(1, P1, 1, false), marker(2, P1, ControlType::abort)});
    ReadOptions rc;
    rc.read_committed = true;
    auto r = read_all(blob, rc, {{P1, 0}});
    CHECK(offsets(r.records) == std::vector<int64_t>{1});
  }

  SECTION("markers are visible to a caller that asks, aborted data is still skipped") {
    const Blob blob = concat({txn(0, P1, 2), marker(2, P1, ControlType::abort)});
    ReadOptions rc;
    rc.read_committed = true;
    rc.deliver_control = true;
    RecordBatchReader r(Bytes(blob), rc);
    struct FetchAborted {  // the shape of FetchResponse::AbortedTransaction
      int64_t producer_id, first_offset;
    };
    const std::vector<FetchAborted> aborted = {{P1, 0}};
    r.set_aborted_transactions(aborted);
    REQUIRE(r.next_batch());
    CHECK(r.batch().is_control());
    RecordView v;
    REQUIRE(r.next_record(v));
    CHECK(parse_control_key(v.key)->is_abort());
    CHECK_FALSE(r.next_batch());
    CHECK(r.next_offset() == 3);
  }
}

TEST_CASE("record batch: a truncated trailing batch is ignored at every cut", "[records]") {
  BatchOptions o;
  o.base_offset = 0;
  const Blob a = make_batch(o, mixed_records(0));
  o.base_offset = 5;
  o.compression = Compression::zstd;
  const Blob b = make_batch(o, numbered(5, 5));
  const Blob blob = concat({a, b});
  for (size_t cut = 0; cut <= blob.size(); ++cut) {
    INFO("cut at " << cut << " of " << blob.size());
    const Blob part(blob.begin(), blob.begin() + static_cast<ptrdiff_t>(cut));
    const auto r = read_all(part);
    REQUIRE_FALSE(r.error);
    const size_t expect = cut == blob.size() ? 10 : cut >= a.size() ? 5 : 0;
    REQUIRE(r.records.size() == expect);
    CHECK(r.truncated_tail == (cut != 0 && cut != a.size() && cut != blob.size()));
    CHECK(r.bytes_consumed == (cut == blob.size() ? blob.size() : cut >= a.size() ? a.size() : 0));
  }
}

TEST_CASE("record batch: CRC check", "[records]") {
  BatchOptions o;
  o.base_offset = 1234;
  const Blob good = make_batch(o, mixed_records(1234));
  ReadOptions check;
  ReadOptions nocheck;
  nocheck.check_crcs = false;
  for (size_t i = 0; i < good.size(); ++i) {
    INFO("byte " << i);
    Blob bad = good;
    bad[i] ^= 0x10;
    const auto r = read_all(bad, check);
    if (i >= kBatchCrcOffset) {
      CHECK(r.error == client_errc::crc_mismatch);
      CHECK(r.error_offset == 1234);
      CHECK(r.records.empty());
    } else if (i >= 12 && i < 16) {  // partitionLeaderEpoch is not covered by the CRC
      CHECK_FALSE(r.error);
      CHECK(r.records.size() == 5);
    }
    read_all(bad, nocheck);  // whatever it makes of it, it must not crash or over-read
  }
}

TEST_CASE("record batch: legacy magic 0 and 1 are refused", "[records]") {
  // MessageSet entry: offset, message size, crc, magic, attributes, [timestamp,] key, value.
  const Blob v1 = from_hex(
      "0000000000000005"
      "00000019"
      "deadbeef"
      "01"
      "00"
      "0000018bcfe56800"
      "ffffffff"
      "00000003"
      "616263");
  const Blob v0 = from_hex(
      "0000000000000007"
      "00000011"
      "deadbeef"
      "00"
      "00"
      "ffffffff"
      "00000003"
      "616263");
  auto r = read_all(v1);
  CHECK(r.error == client_errc::unsupported_magic);
  CHECK(r.error_offset == 5);
  r = read_all(v0);
  CHECK(r.error == client_errc::unsupported_magic);
  CHECK(r.error_offset == 7);
  // Only a complete entry is judged: a cut one is a truncated tail.
  r = read_all(Blob(v1.begin(), v1.end() - 1));
  CHECK_FALSE(r.error);
  CHECK(r.truncated_tail);
  // After good batches: they are delivered, then the error.
  r = read_all(concat({make_batch({}, numbered(0, 2)), v1}));
  CHECK(r.records.size() == 2);
  CHECK(r.error == client_errc::unsupported_magic);
}

TEST_CASE("record batch: hostile lengths and counts are errors, not crashes", "[records]") {
  BatchOptions o;
  o.base_offset = 77;
  const Blob good = make_batch(o, {{77, 5, text("k"), text("v"), {}}, {78, 6, text("k"), text("v"), {}}});
  const Blob one = make_batch(o, {{77, 5, text("k"), text("v"), {}}});
  const Blob rec = Blob(one.begin() + kBatchHeaderSize, one.end());  // 10 00 00 00 02 6b 02 76 00
  REQUIRE(to_hex(rec) == "10000000026b027600");

  struct Case {
    const char* name;
    Blob batch;
    size_t delivered_first = 0;  // records before the bad part are delivered
  };
  const Case cases[] = {
      {"record length 2^30", with_records(one, from_hex("8080808008"
                                                        "000000026b027600"))},
      {"record length -5", with_records(one, from_hex("09000000026b027600"))},
      {"record length past the batch", with_records(one, from_hex("12000000026b027600"))},
      {"record length shorter than its fields", with_records(one, from_hex("0e000000026b027600"))},
      {"varint longer than 10 bytes", with_records(one, from_hex("10"
                                                                 "00"
                                                                 "ffffffffffffffffffffff01"))},
      {"key length -2", with_records(one, from_hex("10000000036b027600"))},
      {"key length 2^30", with_records(one, from_hex("1400000080808080086b027600"))},
      {"value length past the record", with_records(one, from_hex("10000000026b087600"))},
      {"header count 2^30", with_records(one, from_hex("18000000026b02768080808008"))},
      {"header key null", with_records(one, from_hex("14000000026b0276020101"
                                                     "00"))},
      {"more records declared than present", with_records(one, rec, 2), 1},
      {"fewer records declared than present", with_records(good, Blob(good.begin() + 61, good.end()), 1), 1},
      {"records count negative", with_records(one, rec, -1)},
      {"records but no bytes", with_records(one, {}, 1)},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const auto r = read_all(c.batch);
    CHECK(r.error == client_errc::malformed);
    CHECK(r.error_offset == 77);
    CHECK(r.records.size() == c.delivered_first);
  }

  // Batch lengths: negative, and smaller than a v2 header.
  Blob bad = one;
  put32(bad, 8, 0xfffffff0);
  CHECK(read_all(bad).error == client_errc::malformed);
  bad = one;
  put32(bad, 8, 40);
  CHECK(read_all(bad).error == client_errc::malformed);
  // A huge batch length is a batch cut short by the broker.
  bad = one;
  put32(bad, 8, 0x7fffffff);
  CHECK_FALSE(read_all(bad).error);
  CHECK(read_all(bad).truncated_tail);

  // Codec ids 5-7 do not exist; a compressed block that is not one.
  bad = one;
  bad[22] = 0x07;
  fix_crc(bad);
  CHECK(read_all(bad).error == client_errc::unsupported_compression);
  bad = one;
  bad[22] = 0x04;  // says zstd, holds plain records
  fix_crc(bad);
  auto r = read_all(bad);
  CHECK(r.error == client_errc::compression_error);
  CHECK(r.error_offset == 77);

  // The per-batch decompression limit.
  o.compression = Compression::zstd;
  const Blob big = make_batch(o, numbered(77, 1000, 1000));
  ReadOptions small;
  small.max_decompressed = 64 * 1024;
  r = read_all(big, small);
  CHECK(r.error == client_errc::compression_error);
  CHECK(r.error_offset == 77);
  CHECK(read_all(big).records.size() == 1000);
}

TEST_CASE("record batch: random corruption never crashes", "[records]") {
  BatchOptions o;
  Blob blob;
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    o.compression = c;
    auto recs = mixed_records(o.base_offset);
    RecordBatchBuilder b(o);
    add_all(b, recs);
    REQUIRE_FALSE(b.build_into(blob));
    o.base_offset += 5;
  }
  const size_t total = read_all(blob).records.size();
  CHECK(total >= 10);
  std::mt19937 rng(12345);
  ReadOptions nocheck;
  nocheck.check_crcs = false;
  for (int iter = 0; iter < 3000; ++iter) {
    Blob bad = blob;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<uint8_t>(rng());
    const auto r = read_all(bad, nocheck);
    CHECK(r.records.size() <= 1000);
    const auto checked = read_all(bad);  // with the CRC check, corruption is caught or harmless
    CHECK((checked.error || checked.records.size() <= total));
  }
}

// ---- golden batches written by Kafka's Java MemoryRecordsBuilder --------------------------------------

namespace {

struct GoldenCase {
  std::string name;
  Blob bytes;
  std::string compression, timestamp_type;
  int transactional = 0, control = 0;
  int64_t producer_id = 0;
  int producer_epoch = 0, base_sequence = 0;
  int64_t base_offset = 0, last_offset = 0;
  int partition_leader_epoch = 0;
  std::vector<Rec> records;
};

OptBlob golden_bytes(const std::string& tok) { return tok == "-" ? std::nullopt : OptBlob(from_hex(tok)); }

std::vector<GoldenCase> load_golden(const std::string& path) {
  std::ifstream in(path);
  std::vector<GoldenCase> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string kind;
    ls >> kind;
    if (kind == "batch") {
      out.emplace_back();
      std::string hex;
      ls >> out.back().name >> hex;
      out.back().bytes = from_hex(hex);
    } else if (kind == "attrs" && !out.empty()) {
      auto& c = out.back();
      ls >> c.compression >> c.timestamp_type >> c.transactional >> c.control >> c.producer_id >>
          c.producer_epoch >> c.base_sequence >> c.base_offset >> c.last_offset >> c.partition_leader_epoch;
    } else if (kind == "record" && !out.empty()) {
      Rec r;
      std::string key, value;
      size_t n = 0;
      ls >> r.offset >> r.timestamp >> key >> value >> n;
      r.key = golden_bytes(key);
      r.value = golden_bytes(value);
      for (size_t i = 0; i < n; ++i) {
        std::string hk, hv;
        ls >> hk >> hv;
        const Blob k = from_hex(hk);
        r.headers.emplace_back(std::string(k.begin(), k.end()), golden_bytes(hv));
      }
      out.back().records.push_back(std::move(r));
    }
  }
  return out;
}

// Reads a batch with the CRC check and control batches delivered: its header and records.
std::pair<BatchHeader, std::vector<Rec>> read_one(const Blob& b, bool check_crcs = true) {
  ReadOptions ro;
  ro.deliver_control = true;
  ro.check_crcs = check_crcs;
  RecordBatchReader r(Bytes(b), ro);
  std::pair<BatchHeader, std::vector<Rec>> out;
  REQUIRE(r.next_batch());
  out.first = r.batch();
  RecordView v;
  while (r.next_record(v)) out.second.push_back(own(v));
  REQUIRE_FALSE(r.next_batch());
  REQUIRE_FALSE(r.error());
  REQUIRE_FALSE(r.truncated_tail());
  return out;
}

}  // namespace

TEST_CASE("record batch: golden batches from Kafka's Java client", "[records][golden]") {
  const std::string path = KAFKAWIRE_GOLDEN_DIR "/record_batches.txt";
  const auto cases = load_golden(path);
  INFO("golden file: " << path << " (written by tests/golden/gen, mode \"records\")");
  REQUIRE_FALSE(cases.empty());  // a missing file fails here
  std::vector<std::string> codecs_seen;
  for (const auto& c : cases) {
    INFO("case " << c.name);
    codecs_seen.push_back(c.compression);
    const auto codec = compression_from_name(c.compression);
    REQUIRE(codec);
    if (!compression_available(*codec)) {
      WARN("skipped, this build has no " << c.compression);
      continue;
    }
    const auto [h, recs] = read_one(c.bytes);
    CHECK(compression_name(h.compression()) == c.compression);
    CHECK((h.timestamp_type() == TimestampType::log_append_time ? "logappend" : "create") ==
          c.timestamp_type);
    CHECK(h.is_transactional() == (c.transactional == 1));
    CHECK(h.is_control() == (c.control == 1));
    CHECK(h.producer_id == c.producer_id);
    CHECK(h.producer_epoch == c.producer_epoch);
    CHECK(h.base_sequence == c.base_sequence);
    CHECK(h.base_offset == c.base_offset);
    CHECK(h.last_offset() == c.last_offset);
    CHECK(h.partition_leader_epoch == c.partition_leader_epoch);
    CHECK(h.size_in_bytes() == c.bytes.size());
    CHECK(recs == c.records);

    // Re-encode with our builder. The records' own timestamps (before LogAppendTime replaced them) come
    // from the same bytes read as CreateTime.
    Blob as_create = c.bytes;
    as_create[22] &= static_cast<uint8_t>(~0x08);
    auto created = read_one(as_create, false).second;
    BatchOptions o;
    o.base_offset = h.base_offset;
    o.base_timestamp = h.base_timestamp;
    o.partition_leader_epoch = h.partition_leader_epoch;
    o.producer_id = h.producer_id;
    o.producer_epoch = h.producer_epoch;
    o.base_sequence = h.base_sequence;
    o.transactional = h.is_transactional();
    o.control = h.is_control();
    o.compression = h.compression();
    o.timestamp_type = h.timestamp_type();
    o.log_append_time = h.max_timestamp;
    const Blob again = make_batch(o, created);
    if (h.compression() == Compression::none) {
      CHECK(to_hex(again) == to_hex(c.bytes));  // byte for byte
    } else {
      // Compressed bytes depend on the codec library; what they hold must not.
      const auto [h2, recs2] = read_one(again);
      CHECK(recs2 == c.records);
      BatchHeader a = h, b = h2;
      a.crc = b.crc = 0;
      a.batch_length = b.batch_length = 0;
      CHECK(a == b);
    }
  }
  for (const char* codec : {"none", "gzip", "snappy", "lz4", "zstd"})
    CHECK(std::find(codecs_seen.begin(), codecs_seen.end(), codec) != codecs_seen.end());
}

TEST_CASE("record batch builder: finish() in place, restamped for a retry, as a fresh build", "[records]") {
  // The producer encodes records into a batch as they come and writes the header (producer id, epoch,
  // base sequence) at each attempt: a restamped batch must be the batch a fresh builder writes.
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    INFO("codec " << static_cast<int>(c));
    BatchOptions o{.producer_id = 7, .producer_epoch = 1, .base_sequence = 10, .transactional = true};
    o.compression = c;
    const auto recs = mixed_records(0);
    RecordBatchBuilder accumulating(o);
    add_all(accumulating, recs);
    Bytes first;
    REQUIRE_FALSE(accumulating.finish(first));
    CHECK(Blob(first.begin(), first.end()) == make_batch(o, recs));
    CHECK(accumulating.uncompressed_size() >= kBatchHeaderSize);

    // Epoch bumped and renumbered: same records, new header, a valid CRC.
    accumulating.set_producer(7, 2, 0);
    Bytes second;
    REQUIRE_FALSE(accumulating.finish(second));
    BatchOptions bumped = o;
    bumped.producer_epoch = 2;
    bumped.base_sequence = 0;
    const Blob expected = make_batch(bumped, recs);
    CHECK(Blob(second.begin(), second.end()) == expected);
    const auto read = read_all(Blob(second.begin(), second.end()));
    CHECK_FALSE(read.error);
    CHECK(read.records.size() == recs.size());

    // A record added after a finish() is in the next one (a compressed batch is compressed again).
    const auto more = numbered(static_cast<int64_t>(recs.size()), 1);
    add_all(accumulating, more);
    Bytes third;
    REQUIRE_FALSE(accumulating.finish(third));
    auto all = recs;
    all.insert(all.end(), more.begin(), more.end());
    CHECK(Blob(third.begin(), third.end()) == make_batch(bumped, all));
  }
}
