// CRC-32C, three ways: slicing-by-8 tables (portable), one stream of the SSE4.2 `crc32` instruction, and
// three interleaved streams of it.
//
// All functions below work on the raw CRC register: the public entry points do the customary inversion
// before and after, which is what makes the value continuable.
//
// Why three streams: the `crc32` instruction has a latency of 3 cycles but a throughput of one per cycle,
// so a single dependent chain uses a third of the unit. Three independent chains over three adjacent blocks
// of L bytes keep it busy; afterwards the three partial CRCs must be joined. For a raw CRC register,
//   crc(A || B) = shift(crc(A), |B|) ^ crc0(B)
// where crc0(B) is the CRC of B started from 0 and shift(c, n) is "c followed by n zero bytes", which is
// multiplication by x^(8n) modulo the polynomial: a linear map of the 32-bit value. So
//   crc(A || B || C) = shift(cA, 2L) ^ shift(cB, L) ^ cC.
// We evaluate shift() with tables, one set per block size: a linear map of 32 bits is the XOR of its action
// on each byte, so 4 tables of 256 entries give shift(c) = T0[c & 255] ^ T1[c >> 8 & 255] ^ ... Four loads
// per shift, twice per round of 3 L bytes; the tables are computed at compile time (constexpr), 4 KiB each.
// PCLMULQDQ would do the same multiplication without tables, but needs another target attribute and a
// reduction step; at these block sizes the table lookups cost a few cycles per round of hundreds, so the
// simpler scheme wins nothing to PCLMUL and runs on every SSE4.2 CPU.
#include "kafkawire/protocol/crc32c.hpp"

#include <array>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KAFKAWIRE_CRC32C_X86 1
#include <nmmintrin.h>
#endif

namespace kafkawire::protocol {

namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // Castagnoli, bit-reflected

// ---- portable: slicing-by-8 -------------------------------------------------------------------------

using ByteTables = std::array<std::array<uint32_t, 256>, 8>;

// t[0][b] is the CRC register after feeding byte b into a zero register; t[k][b] is the same followed by
// k zero bytes. Slicing-by-8 then folds 8 input bytes with 8 independent lookups.
constexpr ByteTables make_byte_tables() {
  ByteTables t{};
  for (uint32_t b = 0; b < 256; ++b) {
    uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    t[0][b] = c;
  }
  for (size_t k = 1; k < 8; ++k)
    for (size_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
  return t;
}

constexpr ByteTables kByte = make_byte_tables();

inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];  // one mov on little-endian targets
  return v;
}

uint32_t raw_portable(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    const uint64_t w = load_le64(p) ^ crc;
    crc = kByte[7][w & 0xff] ^ kByte[6][(w >> 8) & 0xff] ^ kByte[5][(w >> 16) & 0xff] ^
          kByte[4][(w >> 24) & 0xff] ^ kByte[3][(w >> 32) & 0xff] ^ kByte[2][(w >> 40) & 0xff] ^
          kByte[1][(w >> 48) & 0xff] ^ kByte[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = kByte[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if KAFKAWIRE_CRC32C_X86

// ---- shift tables for combining interleaved streams -----------------------------------------------

// Reflected representation: bit 31 holds the coefficient of x^0, bit 0 that of x^31.
constexpr uint32_t times_x(uint32_t a) { return (a & 1) ? (a >> 1) ^ kPoly : a >> 1; }

// a * b mod P.
constexpr uint32_t mul_mod(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 32; ++i) {  // for each term x^i of a, add b * x^i
    if (a & (0x80000000u >> i)) product ^= b;
    b = times_x(b);
  }
  return product;
}

// x^(8 n) mod P: the multiplier that appends n zero bytes.
constexpr uint32_t x_pow_8n(size_t n) {
  uint32_t r = 0x80000000u;  // x^0
  for (size_t i = 0; i < 8 * n; ++i) r = times_x(r);
  return r;
}

using ShiftTable = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTable make_shift_table(size_t zeros) {
  const uint32_t m = x_pow_8n(zeros);
  ShiftTable t{};
  for (uint32_t k = 0; k < 4; ++k)
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = mul_mod(m, b << (8 * k));
  return t;
}

inline uint32_t shift(const ShiftTable& t, uint32_t c) {
  return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

// Two block sizes: long blocks for big batches, short ones so that a 1-2 KiB buffer is interleaved too.
constexpr size_t kLong = 4096;
constexpr size_t kShort = 256;
constexpr ShiftTable kShiftLong1 = make_shift_table(kLong);
constexpr ShiftTable kShiftLong2 = make_shift_table(2 * kLong);
constexpr ShiftTable kShiftShort1 = make_shift_table(kShort);
constexpr ShiftTable kShiftShort2 = make_shift_table(2 * kShort);

// ---- SSE4.2 ---------------------------------------------------------------------------------------

__attribute__((target("sse4.2"))) inline uint64_t crc_u64(uint64_t c, const uint8_t* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return _mm_crc32_u64(c, w);
}

__attribute__((target("sse4.2"))) uint32_t raw_sse42_1way(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 32) {
    c = crc_u64(c, p);
    c = crc_u64(c, p + 8);
    c = crc_u64(c, p + 16);
    c = crc_u64(c, p + 24);
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    c = crc_u64(c, p);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  if (n >= 4) {
    uint32_t w;
    std::memcpy(&w, p, 4);
    c32 = _mm_crc32_u32(c32, w);
    p += 4;
    n -= 4;
  }
  while (n--) c32 = _mm_crc32_u8(c32, *p++);
  return c32;
}

template <size_t L>
__attribute__((target("sse4.2"))) inline uint32_t round_3way(uint32_t crc, const uint8_t* p,
                                                             const ShiftTable& s1, const ShiftTable& s2) {
  uint64_t c0 = crc, c1 = 0, c2 = 0;
  for (size_t i = 0; i < L; i += 8) {
    c0 = crc_u64(c0, p + i);
    c1 = crc_u64(c1, p + L + i);
    c2 = crc_u64(c2, p + 2 * L + i);
  }
  return shift(s2, static_cast<uint32_t>(c0)) ^ shift(s1, static_cast<uint32_t>(c1)) ^
         static_cast<uint32_t>(c2);
}

__attribute__((target("sse4.2"))) uint32_t raw_sse42(uint32_t crc, const uint8_t* p, size_t n) {
  while (n >= 3 * kLong) {
    crc = round_3way<kLong>(crc, p, kShiftLong1, kShiftLong2);
    p += 3 * kLong;
    n -= 3 * kLong;
  }
  while (n >= 3 * kShort) {
    crc = round_3way<kShort>(crc, p, kShiftShort1, kShiftShort2);
    p += 3 * kShort;
    n -= 3 * kShort;
  }
  return raw_sse42_1way(crc, p, n);
}

#endif  // KAFKAWIRE_CRC32C_X86

using RawFn = uint32_t (*)(uint32_t, const uint8_t*, size_t);

RawFn choose() {
#if KAFKAWIRE_CRC32C_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("sse4.2")) return raw_sse42;
#endif
  return raw_portable;
}

RawFn implementation() {
  static const RawFn fn = choose();
  return fn;
}

}  // namespace

uint32_t crc32c(const void* p, size_t n, uint32_t crc) noexcept {
  return ~implementation()(~crc, static_cast<const uint8_t*>(p), n);
}

uint32_t crc32c_portable(const void* p, size_t n, uint32_t crc) noexcept {
  return ~raw_portable(~crc, static_cast<const uint8_t*>(p), n);
}

bool crc32c_hardware() noexcept { return implementation() != raw_portable; }

}  // namespace kafkawire::protocol
