// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of RecordBatch v2.
//
// crc32c() picks its implementation once, at run time: on x86-64 CPUs with SSE4.2 it uses the `crc32`
// instruction (three interleaved streams over large buffers, one stream over small ones); elsewhere a
// portable slicing-by-8 table loop. Both give the same results; crc32c_portable() is exported so tests can
// prove it. The library is compiled without -msse4.2 and still runs on a CPU without it.
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

// True when crc32c() runs on the SSE4.2 instruction.
bool crc32c_hardware() noexcept;

}  // namespace kafkawire::protocol
