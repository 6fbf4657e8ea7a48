// The codecs: round trips, the exact framings Kafka uses, corrupt input, and the output limit.
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kafkawire/protocol/compression.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::from_hex;

namespace {

const Compression kCodecs[] = {Compression::none, Compression::gzip, Compression::snappy, Compression::lz4,
                               Compression::zstd};

// Text-like data: compressible, but not trivially.
std::vector<uint8_t> sample(size_t n, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v;
  v.reserve(n);
  static const char* words[] = {"kafka ",     "record ", "batch ", "offset ",
                                "partition ", "leader ", "epoch ", "zstd "};
  while (v.size() < n) {
    const char* w = words[rng() % 8];
    for (const char* c = w; *c && v.size() < n; ++c) v.push_back(static_cast<uint8_t>(*c));
    if (rng() % 5 == 0 && v.size() < n) v.push_back(static_cast<uint8_t>(rng()));
  }
  return v;
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

std::vector<uint8_t> compressed(Compression c, const std::vector<uint8_t>& in) {
  std::vector<uint8_t> out;
  REQUIRE_FALSE(compress(c, Bytes(in), out));
  return out;
}

// A zstd frame without Frame_Content_Size, made of raw and RLE blocks (RFC 8878): the shape of the frames
// the Java producer's streaming compressor writes, which decompression must handle in streaming mode.
std::vector<uint8_t> zstd_frame_without_size(const std::vector<uint8_t>& raw, uint8_t rle_byte,
                                             size_t rle_blocks, size_t rle_len) {
  std::vector<uint8_t> f = {0x28, 0xB5, 0x2F, 0xFD};
  f.push_back(0x00);  // descriptor: no content size, not single segment, no checksum, no dictionary
  f.push_back(0x38);  // window descriptor: exponent 7 -> 128 KiB window
  auto block = [&](uint32_t type, uint32_t size, bool last) {
    const uint32_t h = (last ? 1u : 0u) | (type << 1) | (size << 3);
    f.push_back(static_cast<uint8_t>(h));
    f.push_back(static_cast<uint8_t>(h >> 8));
    f.push_back(static_cast<uint8_t>(h >> 16));
  };
  block(0, static_cast<uint32_t>(raw.size()), rle_blocks == 0);
  f.insert(f.end(), raw.begin(), raw.end());
  for (size_t i = 0; i < rle_blocks; ++i) {
    block(1, static_cast<uint32_t>(rle_len), i + 1 == rle_blocks);
    f.push_back(rle_byte);
  }
  return f;
}

}  // namespace

TEST_CASE("compression: names and availability", "[compression]") {
  CHECK(compression_name(Compression::none) == "none");
  CHECK(compression_name(Compression::gzip) == "gzip");
  CHECK(compression_name(Compression::snappy) == "snappy");
  CHECK(compression_name(Compression::lz4) == "lz4");
  CHECK(compression_name(Compression::zstd) == "zstd");
  CHECK(compression_name(static_cast<Compression>(6)) == "unknown");
  for (Compression c : kCodecs) CHECK(compression_from_name(compression_name(c)) == c);
  CHECK_FALSE(compression_from_name("brotli"));
  CHECK(compression_available(Compression::none));
  CHECK(compression_available(Compression::zstd));
  CHECK_FALSE(compression_available(static_cast<Compression>(5)));
  CHECK(unsupported_compression_message(Compression::zstd).empty());
  CHECK(unsupported_compression_message(static_cast<Compression>(5)).find("unknown compression codec 5") ==
        0);

  // Whatever this build has: a missing codec is refused with a message naming its build option.
  const std::pair<Compression, std::string> options[] = {{Compression::gzip, "KAFKAWIRE_WITH_ZLIB=OFF"},
                                                         {Compression::snappy, "KAFKAWIRE_WITH_SNAPPY=OFF"},
                                                         {Compression::lz4, "KAFKAWIRE_WITH_LZ4=OFF"}};
  for (const auto& [c, option] : options) {
    INFO(compression_name(c));
    const std::string msg = unsupported_compression_message(c);
    std::vector<uint8_t> out;
    if (compression_available(c)) {
      CHECK(msg.empty());
    } else {
      CHECK(msg.find(std::string(compression_name(c)) + ": this kafkawire was built without") == 0);
      CHECK(msg.find(option) != std::string::npos);
      CHECK(decompress(c, Bytes(sample(10)), out) == client_errc::unsupported_compression);
      CHECK(compress(c, Bytes(sample(10)), out) == client_errc::unsupported_compression);
    }
  }
  std::vector<uint8_t> out;
  CHECK(decompress(static_cast<Compression>(7), Bytes(sample(10)), out) ==
        client_errc::unsupported_compression);
}

TEST_CASE("compression: round trips", "[compression]") {
  const std::vector<std::vector<uint8_t>> inputs = {
      {}, {0x42}, sample(100), sample(70000, 2), random_bytes(100000, 3), std::vector<uint8_t>(3 << 20, 0)};
  std::vector<uint8_t> packed, unpacked;  // reused across calls, as a reader would
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    for (const auto& in : inputs) {
      INFO(compression_name(c) << " " << in.size() << " bytes");
      REQUIRE_FALSE(compress(c, Bytes(in), packed));
      REQUIRE_FALSE(decompress(c, Bytes(packed), unpacked));
      CHECK(unpacked == in);
    }
    for (int level : {1, 5}) {
      INFO(compression_name(c) << " level " << level);
      const auto in = sample(50000, 9);
      REQUIRE_FALSE(compress(c, Bytes(in), packed, level));
      REQUIRE_FALSE(decompress(c, Bytes(packed), unpacked));
      CHECK(unpacked == in);
    }
  }
}

TEST_CASE("compression: the framings Kafka uses", "[compression]") {
  const auto in = sample(100000, 4);
  if (compression_available(Compression::gzip)) {
    const auto gz = compressed(Compression::gzip, in);
    CHECK(gz[0] == 0x1f);
    CHECK(gz[1] == 0x8b);
    // Two gzip members back to back are one gzip stream.
    auto twice = gz;
    twice.insert(twice.end(), gz.begin(), gz.end());
    std::vector<uint8_t> out;
    REQUIRE_FALSE(decompress(Compression::gzip, Bytes(twice), out));
    CHECK(out.size() == 2 * in.size());
  }
  if (compression_available(Compression::lz4)) {
    const auto lz = compressed(Compression::lz4, in);
    CHECK(kafkawire::testing::to_hex({lz.begin(), lz.begin() + 4}) == "04224d18");  // frame magic
    CHECK((lz[4] & 0x20) != 0);                                                     // independent blocks
    CHECK(lz[5] == 0x40);                                                           // 64 KiB blocks
  }
  if (compression_available(Compression::snappy)) {
    const auto sn = compressed(Compression::snappy, in);
    // xerial: magic, version 1, compatible version 1, then 32 KiB blocks with an int32 length each.
    CHECK(kafkawire::testing::to_hex({sn.begin(), sn.begin() + 16}) ==
          "82534e4150505900"
          "00000001"
          "00000001");
  }
  const auto zs = compressed(Compression::zstd, in);
  CHECK(kafkawire::testing::to_hex({zs.begin(), zs.begin() + 4}) == "28b52ffd");
}

TEST_CASE("compression: snappy raw and xerial both decode", "[compression]") {
  if (!compression_available(Compression::snappy)) {
    SUCCEED("built without snappy");
    return;
  }
  // Raw snappy: uncompressed length 12, literal "abc", copy of 9 bytes at offset 3.
  const auto raw = from_hex(
      "0c08616263"
      "1503");
  std::vector<uint8_t> out;
  REQUIRE_FALSE(decompress(Compression::snappy, Bytes(raw), out));
  CHECK(std::string(out.begin(), out.end()) == "abcabcabcabc");

  // xerial framing around two raw blocks (the second a bare literal "xyz").
  auto xerial = from_hex(
      "82534e4150505900"
      "00000001"
      "00000001"
      "00000007");
  xerial.insert(xerial.end(), raw.begin(), raw.end());
  const auto second = from_hex(
      "00000005"
      "030878797a");
  xerial.insert(xerial.end(), second.begin(), second.end());
  REQUIRE_FALSE(decompress(Compression::snappy, Bytes(xerial), out));
  CHECK(std::string(out.begin(), out.end()) == "abcabcabcabcxyz");

  // A header alone is an empty stream.
  const auto empty = from_hex(
      "82534e4150505900"
      "00000001"
      "00000001");
  REQUIRE_FALSE(decompress(Compression::snappy, Bytes(empty), out));
  CHECK(out.empty());

  // A block length past the end, and a raw block that lies about its length.
  auto cut = xerial;
  cut.resize(cut.size() - 2);
  CHECK(decompress(Compression::snappy, Bytes(cut), out) == client_errc::compression_error);
  CHECK(decompress(Compression::snappy,
                   Bytes(from_hex("0d08616263"
                                  "1503")),
                   out) == client_errc::compression_error);
}

TEST_CASE("compression: zstd frames without a content size decode (streaming)", "[compression]") {
  const auto text = sample(1000, 5);
  const auto frame = zstd_frame_without_size(text, 'z', 3, 100000);
  std::vector<uint8_t> out;
  REQUIRE_FALSE(decompress(Compression::zstd, Bytes(frame), out));
  REQUIRE(out.size() == text.size() + 300000);
  CHECK(std::equal(text.begin(), text.end(), out.begin()));
  CHECK(std::all_of(out.begin() + 1000, out.end(), [](uint8_t b) { return b == 'z'; }));

  // Two frames, the first with a content size, the second without.
  auto two = compressed(Compression::zstd, text);
  two.insert(two.end(), frame.begin(), frame.end());
  REQUIRE_FALSE(decompress(Compression::zstd, Bytes(two), out));
  CHECK(out.size() == 2 * text.size() + 300000);

  // Cut short.
  auto cut = frame;
  cut.resize(cut.size() - 2);
  CHECK(decompress(Compression::zstd, Bytes(cut), out) == client_errc::compression_error);
}

TEST_CASE("compression: corrupt or truncated input is compression_error", "[compression]") {
  const auto in = sample(200000, 6);
  std::vector<uint8_t> out;
  for (Compression c : kCodecs) {
    if (c == Compression::none || !compression_available(c)) continue;
    INFO(compression_name(c));
    const auto good = compressed(c, in);
    // Every codec notices a stream that ends early.
    for (size_t keep : {size_t{0}, size_t{3}, good.size() / 2, good.size() - 1}) {
      INFO("truncated to " << keep);
      std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(keep));
      CHECK(decompress(c, Bytes(cut), out) == client_errc::compression_error);
    }
    // Garbage instead of a stream.
    CHECK(decompress(c, Bytes(random_bytes(5000, 8)), out) == client_errc::compression_error);
    // A damaged block: the codec may notice (a checksum, an impossible back-reference) or produce other
    // bytes, but it must not crash or over-read; gzip checks a CRC-32 so it always notices.
    for (size_t i = 20; i < good.size(); i += good.size() / 50 + 1) {
      auto bad = good;
      bad[i] ^= 0x5a;
      const auto ec = decompress(c, Bytes(bad), out);
      if (c == Compression::gzip) CHECK(ec == client_errc::compression_error);
      if (!ec) CHECK(out.size() <= kDefaultMaxDecompressedSize);
    }
  }
}

TEST_CASE("compression: output is bounded by the caller's limit", "[compression]") {
  const std::vector<uint8_t> zeros(8 << 20, 0);
  std::vector<uint8_t> out;
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    INFO(compression_name(c));
    const auto packed = compressed(c, zeros);
    CHECK(decompress(c, Bytes(packed), out, 1 << 20) == client_errc::compression_error);
    CHECK(decompress(c, Bytes(packed), out, zeros.size() - 1) == client_errc::compression_error);
    REQUIRE_FALSE(decompress(c, Bytes(packed), out, zeros.size()));  // exactly at the limit is fine
    CHECK(out.size() == zeros.size());
  }
  // A zstd bomb: 2000 RLE blocks of 128 KiB (250 MiB) in 8 KiB, without a declared size.
  const auto bomb = zstd_frame_without_size({}, 0, 2000, 128 * 1024);
  CHECK(bomb.size() < 10000);
  Decompressor d;
  std::vector<uint8_t> fresh;
  CHECK(d.decompress(Compression::zstd, Bytes(bomb), fresh, 4 << 20) == client_errc::compression_error);
  CHECK(fresh.capacity() <= (8u << 20));  // it stopped at the limit, it did not inflate it all
}

TEST_CASE("compression: a Decompressor is reusable after errors", "[compression]") {
  Decompressor d;
  const auto in = sample(30000, 10);
  std::vector<uint8_t> out;
  for (Compression c : kCodecs) {
    if (!compression_available(c)) continue;
    INFO(compression_name(c));
    const auto good = compressed(c, in);
    std::vector<uint8_t> cut(good.begin(), good.begin() + static_cast<ptrdiff_t>(good.size() / 2));
    if (c != Compression::none) CHECK(d.decompress(c, Bytes(cut), out));
    REQUIRE_FALSE(d.decompress(c, Bytes(good), out));
    CHECK(out == in);
  }
  Decompressor moved = std::move(d);
  REQUIRE_FALSE(moved.decompress(Compression::zstd, Bytes(compressed(Compression::zstd, in)), out));
  CHECK(out == in);
}
