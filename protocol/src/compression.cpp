#include "kafkawire/protocol/compression.hpp"

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <climits>
#include <cstring>

#include <zstd.h>
#if KAFKAWIRE_HAVE_ZLIB
#include <zlib.h>
#endif
#if KAFKAWIRE_HAVE_LZ4
#include <lz4frame.h>
#endif
#if KAFKAWIRE_HAVE_SNAPPY
#include <snappy.h>
#endif

namespace kafkawire::protocol {

namespace {

const std::error_code kCorrupt = make_error_code(client_errc::compression_error);
const std::error_code kUnsupported = make_error_code(client_errc::unsupported_compression);

// The decompressed size must not pass `max_output`. Buffers are allowed to grow to max_output + 1 bytes, so
// that output which does not fit can be told apart from output that fits exactly.
size_t buffer_cap(size_t max_output) { return max_output == SIZE_MAX ? SIZE_MAX : max_output + 1; }

// First size of the output buffer when the decompressed size is not known in advance.
size_t first_guess(size_t in_len, size_t cap) {
  const size_t guess = in_len > SIZE_MAX / 4 ? SIZE_MAX : std::max<size_t>(in_len * 4, 64 * 1024);
  return std::min(guess, cap);
}

// Makes room after `produced` bytes: doubles the buffer, up to `cap`. Shrinking a std::vector keeps its
// memory and growing within the capacity only writes the new tail, so a reused buffer stops allocating.
bool grow(std::vector<uint8_t>& out, size_t produced, size_t cap) {
  if (out.size() > produced) return true;
  if (out.size() >= cap) return false;
  const size_t doubled = out.size() <= cap / 2 ? out.size() * 2 : cap;
  out.resize(std::min(std::max<size_t>(doubled, 64 * 1024), cap));
  return true;
}

// ---- zstd ---------------------------------------------------------------------------------------------

std::error_code zstd_decompress(ZSTD_DCtx*& dctx, Bytes in, std::vector<uint8_t>& out, size_t max_output) {
  if (!dctx && !(dctx = ZSTD_createDCtx())) return kCorrupt;
  ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
  const size_t cap = buffer_cap(max_output);

  // Fast path: a single frame that declares its size (what our own compress() and most non-Java producers
  // write) is decompressed in one call into a buffer of exactly that size.
  const unsigned long long declared = ZSTD_getFrameContentSize(in.ptr, in.len);
  if (declared == ZSTD_CONTENTSIZE_ERROR) {
    out.clear();
    return kCorrupt;
  }
  const size_t frame = ZSTD_findFrameCompressedSize(in.ptr, in.len);
  const unsigned long long known =
      !ZSTD_isError(frame) && frame == in.len ? declared : ZSTD_CONTENTSIZE_UNKNOWN;
  if (known != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (known > max_output) {
      out.clear();
      return kCorrupt;
    }
    out.resize(static_cast<size_t>(known));
    const size_t r = ZSTD_decompressDCtx(dctx, out.data(), out.size(), in.ptr, in.len);
    if (ZSTD_isError(r) || r != known) {
      out.clear();
      return kCorrupt;
    }
    return {};
  }

  // Streaming: frames without a content size (the Java producer's ZstdOutputStream).
  out.resize(std::max(out.size(), first_guess(in.len, cap)));
  ZSTD_inBuffer src{in.ptr, in.len, 0};
  size_t produced = 0;
  for (;;) {
    if (!grow(out, produced, cap)) break;  // over the limit
    ZSTD_outBuffer dst{out.data(), out.size(), produced};
    const size_t r = ZSTD_decompressStream(dctx, &dst, &src);
    if (ZSTD_isError(r)) break;
    produced = dst.pos;
    if (produced > max_output) break;
    if (r == 0 && src.pos == src.size) {  // last frame complete
      out.resize(produced);
      return {};
    }
    // Input all read, everything flushed (room left), no frame end: the data was cut short.
    if (src.pos == src.size && dst.pos < dst.size && r != 0) break;
  }
  out.clear();
  return kCorrupt;
}

std::error_code zstd_compress(ZSTD_CCtx*& cctx, Bytes in, std::vector<uint8_t>& out, int level) {
  if (!cctx && !(cctx = ZSTD_createCCtx())) return kCorrupt;
  ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
  if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))) return kCorrupt;
  out.resize(ZSTD_compressBound(in.len));
  const size_t r = ZSTD_compress2(cctx, out.data(), out.size(), in.ptr, in.len);
  if (ZSTD_isError(r)) {
    out.clear();
    return kCorrupt;
  }
  out.resize(r);
  return {};
}

// ---- gzip ---------------------------------------------------------------------------------------------

#if KAFKAWIRE_HAVE_ZLIB
std::error_code gzip_decompress(z_stream& zs, bool& ready, Bytes in, std::vector<uint8_t>& out,
                                size_t max_output) {
  if (in.len > UINT_MAX) return kCorrupt;
  if (!ready) {
    std::memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return kCorrupt;  // 16+: gzip wrapper only
    ready = true;
  } else if (inflateReset(&zs) != Z_OK) {
    return kCorrupt;
  }
  const size_t cap = buffer_cap(max_output);
  out.resize(std::max(out.size(), first_guess(in.len, cap)));
  zs.next_in = const_cast<Bytef*>(in.ptr);
  zs.avail_in = static_cast<uInt>(in.len);
  size_t produced = 0;
  for (;;) {
    if (!grow(out, produced, cap)) break;
    const size_t room = std::min<size_t>(out.size() - produced, UINT_MAX);
    zs.next_out = out.data() + produced;
    zs.avail_out = static_cast<uInt>(room);
    const int rc = inflate(&zs, Z_NO_FLUSH);
    produced += room - zs.avail_out;
    if (produced > max_output) break;
    if (rc == Z_STREAM_END) {
      // Another gzip member may follow (a concatenation is a valid gzip stream); other trailing bytes are
      // ignored, as Java's GZIPInputStream does.
      if (zs.avail_in >= 2 && zs.next_in[0] == 0x1f && zs.next_in[1] == 0x8b) {
        if (inflateReset(&zs) != Z_OK) break;
        continue;
      }
      out.resize(produced);
      return {};
    }
    if (rc == Z_OK) continue;
    if (rc == Z_BUF_ERROR && zs.avail_out == 0) continue;  // needs more room
    break;  // Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR, or Z_BUF_ERROR: the input ended early
  }
  out.clear();
  return kCorrupt;
}

std::error_code gzip_compress(Bytes in, std::vector<uint8_t>& out, int level) {
  if (in.len > UINT_MAX) return kCorrupt;
  z_stream zs;
  std::memset(&zs, 0, sizeof zs);
  if (deflateInit2(&zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) return kCorrupt;
  out.resize(deflateBound(&zs, static_cast<uLong>(in.len)));
  zs.next_in = const_cast<Bytef*>(in.ptr);
  zs.avail_in = static_cast<uInt>(in.len);
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(std::min<size_t>(out.size(), UINT_MAX));
  const int rc = deflate(&zs, Z_FINISH);
  const size_t written = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out.clear();
    return kCorrupt;
  }
  out.resize(written);
  return {};
}
#endif

// ---- lz4 ----------------------------------------------------------------------------------------------

#if KAFKAWIRE_HAVE_LZ4
std::error_code lz4_decompress(LZ4F_dctx*& dctx, Bytes in, std::vector<uint8_t>& out, size_t max_output) {
  if (!dctx && LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) {
    dctx = nullptr;
    return kCorrupt;
  }
  LZ4F_resetDecompressionContext(dctx);
  const size_t cap = buffer_cap(max_output);
  size_t pos = 0;

  // The frame header may declare the content size: then one buffer of that size is enough.
  LZ4F_frameInfo_t info{};
  size_t consumed = in.len;
  if (LZ4F_isError(LZ4F_getFrameInfo(dctx, &info, in.ptr, &consumed))) {
    out.clear();
    return kCorrupt;
  }
  pos = consumed;
  if (info.contentSize > max_output) {
    out.clear();
    return kCorrupt;
  }
  const size_t guess = info.contentSize ? static_cast<size_t>(info.contentSize) : first_guess(in.len, cap);
  out.resize(std::max(out.size(), std::min(guess, cap)));

  size_t produced = 0;
  for (;;) {
    if (!grow(out, produced, cap)) break;
    size_t dst_len = out.size() - produced;
    size_t src_len = in.len - pos;
    const size_t hint =
        LZ4F_decompress(dctx, out.data() + produced, &dst_len, in.ptr + pos, &src_len, nullptr);
    if (LZ4F_isError(hint)) break;
    produced += dst_len;
    pos += src_len;
    if (produced > max_output) break;
    if (hint == 0) {  // a frame ended
      if (pos == in.len) {
        out.resize(produced);
        return {};
      }
      continue;  // another frame follows
    }
    if (pos == in.len && produced < out.size()) break;  // all input read, all flushed, no frame end
  }
  LZ4F_resetDecompressionContext(dctx);
  out.clear();
  return kCorrupt;
}

std::error_code lz4_compress(Bytes in, std::vector<uint8_t>& out, int level) {
  // What Kafka's Java producer writes: independent 64 KiB blocks, no checksums, no content size.
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof prefs);
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  prefs.compressionLevel = level;
  out.resize(LZ4F_compressFrameBound(in.len, &prefs));
  const size_t r = LZ4F_compressFrame(out.data(), out.size(), in.ptr, in.len, &prefs);
  if (LZ4F_isError(r)) {
    out.clear();
    return kCorrupt;
  }
  out.resize(r);
  return {};
}
#endif

// ---- snappy -------------------------------------------------------------------------------------------

#if KAFKAWIRE_HAVE_SNAPPY
constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
constexpr size_t kXerialHeader = 16;        // magic + int32 version + int32 compatible version
constexpr size_t kXerialBlock = 32 * 1024;  // uncompressed bytes per block, as snappy-java writes them

// Appends one raw snappy block's output at out[produced...].
bool snappy_block(const uint8_t* p, size_t n, std::vector<uint8_t>& out, size_t& produced,
                  size_t max_output) {
  size_t len = 0;
  const char* src = reinterpret_cast<const char*>(p);
  if (!snappy::GetUncompressedLength(src, n, &len)) return false;
  if (len > max_output - produced) return false;
  if (out.size() < produced + len) out.resize(produced + len);
  if (!snappy::RawUncompress(src, n, reinterpret_cast<char*>(out.data() + produced))) return false;
  produced += len;
  return true;
}

std::error_code snappy_decompress(Bytes in, std::vector<uint8_t>& out, size_t max_output) {
  size_t produced = 0;
  bool ok = true;
  if (in.len >= kXerialHeader && std::memcmp(in.ptr, kXerialMagic, sizeof kXerialMagic) == 0) {
    size_t pos = kXerialHeader;
    while (ok && pos < in.len) {
      if (in.len - pos < 4) {
        ok = false;
        break;
      }
      const size_t n = boost::endian::load_big_u32(in.ptr + pos);
      pos += 4;
      if (n > in.len - pos) {
        ok = false;
        break;
      }
      ok = snappy_block(in.ptr + pos, n, out, produced, max_output);
      pos += n;
    }
  } else {
    ok = snappy_block(in.ptr, in.len, out, produced, max_output);
  }
  if (!ok) {
    out.clear();
    return kCorrupt;
  }
  out.resize(produced);
  return {};
}

std::error_code snappy_compress(Bytes in, std::vector<uint8_t>& out) {
  const size_t blocks = (in.len + kXerialBlock - 1) / kXerialBlock;
  out.resize(kXerialHeader + blocks * (4 + snappy::MaxCompressedLength(kXerialBlock)));
  std::memcpy(out.data(), kXerialMagic, sizeof kXerialMagic);
  boost::endian::store_big_u32(out.data() + 8, 1);   // version
  boost::endian::store_big_u32(out.data() + 12, 1);  // compatible version
  size_t pos = kXerialHeader;
  for (size_t off = 0; off < in.len; off += kXerialBlock) {
    const size_t n = std::min(kXerialBlock, in.len - off);
    size_t written = 0;
    snappy::RawCompress(reinterpret_cast<const char*>(in.ptr + off), n,
                        reinterpret_cast<char*>(out.data() + pos + 4), &written);
    boost::endian::store_big_u32(out.data() + pos, static_cast<uint32_t>(written));
    pos += 4 + written;
  }
  out.resize(pos);
  return {};
}
#endif

#if KAFKAWIRE_HAVE_ZLIB
constexpr bool kHaveZlib = true;
#else
constexpr bool kHaveZlib = false;
#endif
#if KAFKAWIRE_HAVE_LZ4
constexpr bool kHaveLz4 = true;
#else
constexpr bool kHaveLz4 = false;
#endif
#if KAFKAWIRE_HAVE_SNAPPY
constexpr bool kHaveSnappy = true;
#else
constexpr bool kHaveSnappy = false;
#endif

bool known_codec(Compression c) { return static_cast<int8_t>(c) >= 0 && static_cast<int8_t>(c) <= 4; }

// Per-thread compression contexts for compress().
struct Compressor {
  ZSTD_CCtx* zstd = nullptr;
  ~Compressor() { ZSTD_freeCCtx(zstd); }
};

}  // namespace

struct Decompressor::Impl {
  ZSTD_DCtx* zstd = nullptr;
#if KAFKAWIRE_HAVE_ZLIB
  z_stream zs{};
  bool zs_ready = false;
#endif
#if KAFKAWIRE_HAVE_LZ4
  LZ4F_dctx* lz4 = nullptr;
#endif
  ~Impl() {
    ZSTD_freeDCtx(zstd);
#if KAFKAWIRE_HAVE_ZLIB
    if (zs_ready) inflateEnd(&zs);
#endif
#if KAFKAWIRE_HAVE_LZ4
    if (lz4) LZ4F_freeDecompressionContext(lz4);
#endif
  }
};

Decompressor::Decompressor() : impl_(std::make_unique<Impl>()) {}
Decompressor::~Decompressor() = default;
Decompressor::Decompressor(Decompressor&&) noexcept = default;
Decompressor& Decompressor::operator=(Decompressor&&) noexcept = default;

std::error_code Decompressor::decompress(Compression c, Bytes in, std::vector<uint8_t>& out,
                                         size_t max_output) {
  if (!impl_) impl_ = std::make_unique<Impl>();  // after a move
  switch (c) {
    case Compression::none:
      if (in.len > max_output) return kCorrupt;
      out.assign(in.begin(), in.end());
      return {};
    case Compression::zstd:
      return zstd_decompress(impl_->zstd, in, out, max_output);
    case Compression::gzip:
#if KAFKAWIRE_HAVE_ZLIB
      return gzip_decompress(impl_->zs, impl_->zs_ready, in, out, max_output);
#else
      break;
#endif
    case Compression::lz4:
#if KAFKAWIRE_HAVE_LZ4
      return lz4_decompress(impl_->lz4, in, out, max_output);
#else
      break;
#endif
    case Compression::snappy:
#if KAFKAWIRE_HAVE_SNAPPY
      return snappy_decompress(in, out, max_output);
#else
      break;
#endif
  }
  out.clear();
  return kUnsupported;
}

std::error_code decompress(Compression c, Bytes in, std::vector<uint8_t>& out, size_t max_output) {
  thread_local Decompressor d;
  return d.decompress(c, in, out, max_output);
}

std::error_code compress(Compression c, Bytes in, std::vector<uint8_t>& out, std::optional<int> level) {
  switch (c) {
    case Compression::none:
      out.assign(in.begin(), in.end());
      return {};
    case Compression::zstd: {
      thread_local Compressor ctx;
      return zstd_compress(ctx.zstd, in, out, level.value_or(ZSTD_CLEVEL_DEFAULT));
    }
    case Compression::gzip:
#if KAFKAWIRE_HAVE_ZLIB
      return gzip_compress(in, out, level.value_or(Z_DEFAULT_COMPRESSION));
#else
      break;
#endif
    case Compression::lz4:
#if KAFKAWIRE_HAVE_LZ4
      return lz4_compress(in, out, level.value_or(0));
#else
      break;
#endif
    case Compression::snappy:
#if KAFKAWIRE_HAVE_SNAPPY
      return snappy_compress(in, out);
#else
      break;
#endif
  }
  out.clear();
  return kUnsupported;
}

bool compression_available(Compression c) noexcept {
  switch (c) {
    case Compression::none:
    case Compression::zstd:
      return true;
    case Compression::gzip:
      return kHaveZlib;
    case Compression::lz4:
      return kHaveLz4;
    case Compression::snappy:
      return kHaveSnappy;
  }
  return false;
}

std::string_view compression_name(Compression c) noexcept {
  switch (c) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::snappy:
      return "snappy";
    case Compression::lz4:
      return "lz4";
    case Compression::zstd:
      return "zstd";
  }
  return "unknown";
}

std::optional<Compression> compression_from_name(std::string_view name) noexcept {
  for (int i = 0; i <= 4; ++i) {
    const auto c = static_cast<Compression>(i);
    if (compression_name(c) == name) return c;
  }
  return std::nullopt;
}

std::string unsupported_compression_message(Compression c) {
  if (compression_available(c)) return {};
  if (!known_codec(c))
    return "unknown compression codec " + std::to_string(static_cast<int>(c)) +
           " (record batch attributes bits 0-2; Kafka defines 0-4)";
  std::string name(compression_name(c));
  const char* option = c == Compression::gzip  ? "KAFKAWIRE_WITH_ZLIB"
                       : c == Compression::lz4 ? "KAFKAWIRE_WITH_LZ4"
                                               : "KAFKAWIRE_WITH_SNAPPY";
  const char* library = c == Compression::gzip ? "zlib" : c == Compression::lz4 ? "liblz4" : "libsnappy";
  return name + ": this kafkawire was built without " + name + " (" + option + "=OFF or " + library +
         " not found)";
}

}  // namespace kafkawire::protocol
