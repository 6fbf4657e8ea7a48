// The codecs of Kafka record batches (attributes bits 0-2), in the exact formats Kafka uses:
//
//   gzip    a gzip stream (RFC 1952; zlib with windowBits 16+15). Concatenated members are accepted.
//   snappy  the xerial framing the Java client writes: magic 82 'S' 'N' 'A' 'P' 'P' 'Y' 00, int32 version,
//           int32 compatible version, then blocks of int32 compressed length + a raw snappy block (32 KiB of
//           input each). Plain raw snappy (other clients) is accepted on decompression too.
//   lz4     the LZ4 *frame* format (magic 04 22 4D 18), independent 64 KiB blocks, as Kafka writes it for
//           magic 2. (Not the raw block format, and not the broken header checksum of magic 0/1.)
//   zstd    zstd frames, decompressed in streaming mode since the Java producer's frames may not carry
//           the content size.
//
// gzip, snappy and lz4 are optional at build time (KAFKAWIRE_WITH_ZLIB / _LZ4 / _SNAPPY, and the library
// being found); zstd is always there. A codec compiled out gives client_errc::unsupported_compression;
// unsupported_compression_message() says which build option to change.
//
// Output buffers are cleared and reused: a caller that keeps one std::vector allocates only while it
// grows. Decompression refuses output larger than `max_output` (client_errc::compression_error), so a
// small hostile batch cannot make the process allocate gigabytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/wire.hpp"

namespace kafkawire::protocol {

enum class Compression : int8_t { none = 0, gzip = 1, snappy = 2, lz4 = 3, zstd = 4 };

// The default bound on one decompressed block (one record batch's records).
inline constexpr size_t kDefaultMaxDecompressedSize = size_t{256} << 20;

// `level`: the codec's own scale (gzip 1-9, lz4 frame 0-12, zstd 1-22); nullopt = Kafka's default
// (gzip 6, lz4 0 = fast, zstd 3). Snappy has no levels.
std::error_code compress(Compression c, Bytes in, std::vector<uint8_t>& out,
                         std::optional<int> level = std::nullopt);

// Uses a per-thread Decompressor (codec contexts are kept, not rebuilt per call).
std::error_code decompress(Compression c, Bytes in, std::vector<uint8_t>& out,
                           size_t max_output = kDefaultMaxDecompressedSize);

// Whether this build can handle the codec (none and zstd: always).
bool compression_available(Compression c) noexcept;

// "none", "gzip", "snappy", "lz4", "zstd"; "unknown" for ids 5-7.
std::string_view compression_name(Compression c) noexcept;

// The inverse, for the compression.type configuration value.
std::optional<Compression> compression_from_name(std::string_view name) noexcept;

// Why a codec is not available, naming the build option, e.g.
// "snappy: this kafkawire was built without snappy (KAFKAWIRE_WITH_SNAPPY=OFF or libsnappy not found)".
// An empty string when the codec is available.
std::string unsupported_compression_message(Compression c);

// Holds the codec contexts (zstd DCtx, zlib stream, LZ4F context) so that decompressing batch after
// batch allocates nothing once warmed up. Not thread-safe; one per reader or per thread.
class Decompressor {
 public:
  Decompressor();
  ~Decompressor();
  Decompressor(Decompressor&&) noexcept;
  Decompressor& operator=(Decompressor&&) noexcept;

  std::error_code decompress(Compression c, Bytes in, std::vector<uint8_t>& out,
                             size_t max_output = kDefaultMaxDecompressedSize);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kafkawire::protocol
