// CRC-32C: published vectors, continuation, and every implementation this CPU can run (SSE4.2 crc32,
// AVX-512 folding) against the portable tables on every length and alignment that reaches each of their
// code paths (single stream, short and long 3-way blocks; 256-, 64- and 16-byte folding steps and tails).
#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/protocol/crc32c.hpp"

using namespace kafkawire::protocol;

namespace {

uint32_t crc_of(std::string_view s) { return crc32c(s.data(), s.size()); }

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

}  // namespace

TEST_CASE("crc32c: known vectors", "[crc32c]") {
  INFO("hardware path: " << crc32c_hardware());
  CHECK(crc_of("123456789") == 0xE3069283u);
  CHECK(crc32c_portable("123456789", 9) == 0xE3069283u);
  CHECK(crc32c(nullptr, 0) == 0u);
  CHECK(crc_of("a") == 0xC1D04330u);

  // RFC 3720 (iSCSI), appendix B.4.
  std::vector<uint8_t> buf(32, 0x00);
  CHECK(crc32c(buf.data(), buf.size()) == 0x8A9136AAu);
  std::fill(buf.begin(), buf.end(), 0xFF);
  CHECK(crc32c(buf.data(), buf.size()) == 0x62A8AB43u);
  for (size_t i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(i);
  CHECK(crc32c(buf.data(), buf.size()) == 0x46DD794Eu);
  for (size_t i = 0; i < 32; ++i) buf[i] = static_cast<uint8_t>(31 - i);
  CHECK(crc32c(buf.data(), buf.size()) == 0x113FDB5Cu);
}

TEST_CASE("crc32c: the fastest implementation the CPU has is used", "[crc32c]") {
  INFO("chosen: " << to_string(crc32c_implementation()));
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool sse42 = __builtin_cpu_supports("sse4.2");
  const bool avx512 = sse42 && __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("avx512f") &&
                      __builtin_cpu_supports("vpclmulqdq");
  CHECK(crc32c_hardware() == sse42);
  CHECK(crc32c_supported(Crc32cImpl::sse42) == sse42);
  CHECK(crc32c_supported(Crc32cImpl::avx512) == avx512);
  CHECK(crc32c_implementation() == (avx512  ? Crc32cImpl::avx512
                                    : sse42 ? Crc32cImpl::sse42
                                            : Crc32cImpl::portable));
#else
  CHECK(crc32c_implementation() == Crc32cImpl::portable);
#endif
  CHECK(crc32c_supported(Crc32cImpl::portable));
}

TEST_CASE("crc32c: continuable", "[crc32c]") {
  const auto data = random_bytes(40000, 7);
  const uint32_t whole = crc32c(data.data(), data.size());
  for (size_t cut : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{767}, size_t{768}, size_t{12288},
                     size_t{20001}, data.size()}) {
    INFO("cut " << cut);
    const uint32_t a = crc32c(data.data(), cut);
    CHECK(crc32c(data.data() + cut, data.size() - cut, a) == whole);
    const uint32_t pa = crc32c_portable(data.data(), cut);
    CHECK(crc32c_portable(data.data() + cut, data.size() - cut, pa) == whole);
  }
}

TEST_CASE("crc32c: every implementation equals portable on all lengths and alignments", "[crc32c]") {
  const auto data = random_bytes((1 << 16) + 64, 42);
  for (Crc32cImpl impl : {Crc32cImpl::sse42, Crc32cImpl::avx512}) {
    if (!crc32c_supported(impl)) {
      WARN("this CPU cannot run " << to_string(impl) << ": not tested here");
      continue;
    }
    INFO(to_string(impl));
    // Every length up to 4 KiB at every alignment 0-15: single stream, short 3-way blocks and their
    // tails; the first folding round, 64- and 16-byte steps, and the crc32 tail after them.
    for (size_t align = 0; align < 16; ++align) {
      for (size_t n = 0; n <= 4096; ++n) {
        const uint8_t* p = data.data() + align;
        if (crc32c_using(impl, p, n, 0x9E3779B9u) != crc32c_portable(p, n, 0x9E3779B9u)) {
          FAIL("mismatch at length " << n << " alignment " << align);
        }
      }
    }
    // Around the long-block boundaries (3 x 4096) and large sizes, with a nonzero starting value.
    for (size_t n : {12287, 12288, 12289, 12288 + 767, 12288 + 768, 24576, 24577, 36863, 65536}) {
      for (size_t align : {0, 1, 3, 8, 13}) {
        INFO("length " << n << " alignment " << align);
        CHECK(crc32c_using(impl, data.data() + align, n, 0x12345678u) ==
              crc32c_portable(data.data() + align, n, 0x12345678u));
      }
    }
  }
  // And what crc32c() itself runs.
  for (size_t n : {0, 1, 255, 256, 1000, 1024, 65536})
    CHECK(crc32c(data.data() + 5, n, 7) == crc32c_portable(data.data() + 5, n, 7));
}

TEST_CASE("crc32c: detects every single-bit error in a batch-sized buffer", "[crc32c]") {
  auto data = random_bytes(1000, 3);
  const uint32_t good = crc32c(data.data(), data.size());
  for (size_t i = 0; i < data.size(); i += 37) {
    for (int bit = 0; bit < 8; ++bit) {
      data[i] ^= static_cast<uint8_t>(1 << bit);
      CHECK(crc32c(data.data(), data.size()) != good);
      data[i] ^= static_cast<uint8_t>(1 << bit);
    }
  }
}

// On a CPU that lacks one, crc32c_using() falls back to the tables; on one that has them all (this CI
// machine) this is one more equality check. Either way every name gives the same value.
TEST_CASE("crc32c: crc32c_using gives the same value for every implementation, supported or not",
          "[crc32c]") {
  const auto data = random_bytes(3000, 9);
  for (Crc32cImpl impl : {Crc32cImpl::portable, Crc32cImpl::sse42, Crc32cImpl::avx512})
    CHECK(crc32c_using(impl, data.data(), data.size()) == crc32c_portable(data.data(), data.size()));
  CHECK(std::string(to_string(Crc32cImpl::avx512)).find("AVX-512") != std::string::npos);
}
