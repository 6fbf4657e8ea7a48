// BatchFrames: how a records blob is cut into batches, the one walker under the record reader, the
// consumer's end-offset peek, the spy's summaries and the explainer. Whole batches, compaction gaps, every
// truncation, hostile lengths and magics, offsets at the edges of int64.
#include <boost/endian/conversion.hpp>
#include <catch2/catch.hpp>
#include <limits>
#include <vector>

#include "kafkawire/protocol/record_batch.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;

namespace {

using Blob = std::vector<uint8_t>;

Blob concat(std::initializer_list<Blob> parts) {
  Blob out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A batch with records at the given offsets (gaps are what compaction leaves).
Blob batch_at(int64_t base, std::initializer_list<int64_t> offsets, std::optional<int32_t> last_delta = {}) {
  BatchOptions o;
  o.base_offset = base;
  o.last_offset_delta = last_delta;
  RecordBatchBuilder b(o);
  for (int64_t off : offsets)
    b.add_at(off, 1'700'000'000'000, Bytes(std::string_view("k")), Bytes(std::string_view("v")));
  return b.build();
}

struct Walk {
  std::vector<BatchFrame> frames;
  std::error_code error;
  bool truncated_tail = false;
  BatchFrame failed;
  size_t position = 0;
};

Walk walk(const Blob& blob, LegacyFrames legacy = LegacyFrames::reject) {
  Walk w;
  BatchFrames frames(Bytes(blob), legacy);
  for (const BatchFrame& f : frames) w.frames.push_back(f);
  w.error = frames.error();
  w.truncated_tail = frames.truncated_tail();
  w.failed = frames.failed();
  w.position = frames.position();
  return w;
}

}  // namespace

TEST_CASE("batch frames: whole batches with compaction gaps, in order", "[records][frames]") {
  const Blob a = batch_at(0, {0, 1, 2});
  const Blob b = batch_at(10, {10, 14});  // offsets 11-13 compacted away
  const Blob c = batch_at(20, {}, 7);     // emptied by compaction: no records, offsets 20-27
  const Blob d = batch_at(40, {41, 49});  // the first and last offsets gone: last delta is 9
  const Blob blob = concat({a, b, c, d});
  const Walk w = walk(blob);
  REQUIRE(w.frames.size() == 4);
  CHECK_FALSE(w.error);
  CHECK_FALSE(w.truncated_tail);
  CHECK(w.position == blob.size());
  const int64_t bases[] = {0, 10, 20, 40};
  const int64_t nexts[] = {3, 15, 28, 50};
  size_t at = 0;
  for (size_t i = 0; i < 4; ++i) {
    const BatchFrame& f = w.frames[i];
    INFO("frame " << i);
    CHECK(f.base_offset == bases[i]);
    CHECK(f.next_offset() == nexts[i]);
    CHECK(f.last_offset() == nexts[i] - 1);
    CHECK(f.magic == kBatchMagic);
    CHECK(f.position == at);
    CHECK(f.bytes.ptr == blob.data() + at);
    CHECK(f.bytes.len == kBatchLogOverhead + static_cast<size_t>(f.batch_length));
    // The frame agrees with the full header decoder.
    BatchHeader h;
    REQUIRE_FALSE(decode_batch_header(f.bytes, h));
    CHECK(h.last_offset() == f.last_offset());
    CHECK(batch_crc_ok(f.bytes));
    at += f.bytes.len;
  }
  // next() and the range agree.
  BatchFrames frames{Bytes(blob)};
  BatchFrame f;
  size_t n = 0;
  while (frames.next(f)) CHECK(f.base_offset == bases[n++]);
  CHECK(n == 4);
  CHECK_FALSE(frames.next(f));  // stays at the end
}

TEST_CASE("batch frames: every truncation stops cleanly after the whole batches", "[records][frames]") {
  const Blob a = batch_at(0, {0, 1});
  const Blob b = batch_at(2, {2, 5});
  const Blob blob = concat({a, b});
  for (size_t cut = 0; cut <= blob.size(); ++cut) {
    INFO("cut at " << cut);
    // A copy of exactly `cut` bytes, so that ASan sees any read past the end.
    const Blob part(blob.begin(), blob.begin() + static_cast<std::ptrdiff_t>(cut));
    const Walk w = walk(part);
    CHECK_FALSE(w.error);
    const size_t whole = cut >= blob.size() ? 2 : cut >= a.size() ? 1 : 0;
    REQUIRE(w.frames.size() == whole);
    const size_t boundary = whole == 2 ? blob.size() : whole == 1 ? a.size() : 0;
    CHECK(w.position == boundary);
    CHECK(w.truncated_tail == (cut != boundary));
    if (w.truncated_tail) {
      CHECK(w.failed.position == boundary);
      CHECK(w.failed.bytes.len == cut - boundary);
      // Once the magic is in sight, the header fields of the cut batch are reported.
      if (cut - boundary > kBatchMagicOffset) CHECK(w.failed.base_offset == (whole == 0 ? 0 : 2));
    }
  }
}

TEST_CASE("batch frames: hostile lengths and magics are errors, never reads past the end",
          "[records][frames]") {
  const Blob good = batch_at(5, {5, 6});
  auto with_length = [&](int32_t length) {
    Blob b = good;
    boost::endian::store_big_s32(b.data() + 8, length);
    return b;
  };
  SECTION("a negative length, after a good batch") {
    const Walk w = walk(concat({good, with_length(-1)}));
    CHECK(w.frames.size() == 1);
    CHECK(w.error == client_errc::malformed);
    CHECK_FALSE(w.truncated_tail);
    CHECK(w.failed.base_offset == 5);
    CHECK(w.failed.batch_length == -1);
    CHECK(w.position == good.size());
  }
  SECTION("INT32_MIN and a magic-2 length shorter than the header") {
    CHECK(walk(with_length(std::numeric_limits<int32_t>::min())).error == client_errc::malformed);
    CHECK(walk(with_length(static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead) - 1)).error ==
          client_errc::malformed);
  }
  SECTION("a length past the end is a truncated tail, whatever its size") {
    for (int32_t length : {static_cast<int32_t>(good.size()), std::numeric_limits<int32_t>::max()}) {
      const Walk w = walk(with_length(length));
      CHECK(w.frames.empty());
      CHECK_FALSE(w.error);
      CHECK(w.truncated_tail);
      CHECK(w.failed.batch_length == length);
    }
  }
  SECTION("legacy magic: refused, or delivered for the explainer") {
    // MessageSet v1 entry: offset, size, crc, magic 1, attributes, timestamp, key -1, value "abc".
    const Blob v1 = from_hex(
        "0000000000000009"
        "00000019"
        "deadbeef"
        "01"
        "00"
        "0000018bcfe56800"
        "ffffffff"
        "00000003"
        "616263");
    Walk w = walk(concat({good, v1}));
    CHECK(w.frames.size() == 1);
    CHECK(w.error == client_errc::unsupported_magic);
    CHECK(w.failed.base_offset == 9);
    CHECK(w.failed.magic == 1);
    w = walk(concat({good, v1, good}), LegacyFrames::deliver);
    REQUIRE(w.frames.size() == 3);
    CHECK_FALSE(w.error);
    CHECK(w.frames[1].magic == 1);
    CHECK(w.frames[1].bytes.len == v1.size());
    CHECK(w.frames[1].next_offset() == 10);
    // An entry too short to hold its own magic byte is malformed even when legacy entries are welcome.
    Blob tiny = from_hex(
        "0000000000000009"
        "00000004"
        "deadbeef"
        "01");
    CHECK(walk(tiny, LegacyFrames::deliver).error == client_errc::malformed);
  }
}

TEST_CASE("batch frames: offsets at the edges of int64 wrap, never overflow", "[records][frames]") {
  // Built with UBSan in tools/test asan: a signed overflow here would abort the test.
  Blob b = batch_at(0, {0});
  const int64_t max = std::numeric_limits<int64_t>::max();
  boost::endian::store_big_s64(b.data(), max);
  boost::endian::store_big_s32(b.data() + kBatchLastOffsetDeltaOffset, std::numeric_limits<int32_t>::max());
  Walk w = walk(b);
  REQUIRE(w.frames.size() == 1);
  const BatchFrame& f = w.frames[0];
  CHECK(f.last_offset() == std::numeric_limits<int64_t>::min() + std::numeric_limits<int32_t>::max() - 1);
  CHECK(f.next_offset() == f.last_offset() + 1);
  boost::endian::store_big_s32(b.data() + kBatchLastOffsetDeltaOffset, 0);
  w = walk(b);
  CHECK(w.frames[0].last_offset() == max);
  CHECK(w.frames[0].next_offset() == std::numeric_limits<int64_t>::min());
  // A negative delta from a hostile header: below the base, still defined.
  boost::endian::store_big_s64(b.data(), std::numeric_limits<int64_t>::min());
  boost::endian::store_big_s32(b.data() + kBatchLastOffsetDeltaOffset, -1);
  w = walk(b);
  CHECK(w.frames[0].last_offset() == max);
}
