// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of RecordBatch v2.
//
// crc32c() picks its implementation once, at run time, the fastest the CPU has: on x86-64, carry-less
// multiplication folding with AVX-512 VPCLMULQDQ for buffers of 256 bytes and more, the SSE4.2 `crc32`
// instruction (three interleaved streams, or one over small buffers); elsewhere a portable slicing-by-8
// table loop. All give the same results; crc32c_using() runs any of them so tests can prove it. The
// library is compiled for baseline x86-64 and still runs on a CPU without any of these.
//
// The value is continuable: crc32c(b, nb, crc32c(a, na)) == crc32c(a+b, na+nb). Start with 0.
// Known vector: crc32c("123456789", 9) == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kafkawire::protocol {

uint32_t crc32c(const void* p, size_t n, uint32_t crc = 0) noexcept;

// The table-driven implementation, always available; what crc32c() uses on a CPU without SSE4.2.
uint32_t crc32c_portable(const void* p, size_t n, uint32_t crc = 0) noexcept;

// True when crc32c() runs on CPU instructions made for it (anything but the portable tables).
bool crc32c_hardware() noexcept;

// The implementations, slowest first. Each one hands buffers too small for it to the one before.
enum class Crc32cImpl { portable, sse42, avx512 };

// The one crc32c() uses on this CPU.
Crc32cImpl crc32c_implementation() noexcept;
// Whether this CPU (and OS) can run `impl`.
bool crc32c_supported(Crc32cImpl impl) noexcept;
// crc32c() with a given implementation; an unsupported one falls back to the portable tables.
uint32_t crc32c_using(Crc32cImpl impl, const void* p, size_t n, uint32_t crc = 0) noexcept;
const char* to_string(Crc32cImpl impl) noexcept;

}  // namespace kafkawire::protocol
