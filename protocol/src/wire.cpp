#include "kafkawire/protocol/wire.hpp"

#include <limits>

namespace kafkawire::protocol {

std::string secret_text(size_t length) {
  return std::to_string(length) + (length == 1 ? " byte" : " bytes") +
         " (not shown: may hold a password or token)";
}

uint64_t Reader::uvarlong() {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p_ == end_) {
      fail(client_errc::truncated);
      return 0;
    }
    const uint8_t b = *p_++;
    v |= static_cast<uint64_t>(b & 0x7f) << shift;
    if (!(b & 0x80)) return v;
  }
  fail(client_errc::malformed);  // more than 10 bytes: not a varint
  return 0;
}

uint32_t Reader::uvarint() {
  uint64_t v = uvarlong();
  if (v > std::numeric_limits<uint32_t>::max()) {
    fail(client_errc::malformed);
    return 0;
  }
  return static_cast<uint32_t>(v);
}

Uuid Reader::uuid() {
  Uuid u;
  Bytes b = take(16);
  if (b.len == 16) std::memcpy(u.bytes.data(), b.ptr, 16);
  return u;
}

Bytes Reader::take(size_t n) {
  if (remaining() < n) {
    fail(client_errc::truncated);
    return {};
  }
  Bytes b(p_, n);
  p_ += n;
  return b;
}

namespace {
// Compact lengths hold N+1 so that 0 can mean null.
int64_t compact_length(Reader& r) { return static_cast<int64_t>(r.uvarint()) - 1; }
}  // namespace

int32_t Reader::string_length(bool compact) {
  return checked_length(compact ? compact_length(*this) : i16());
}
int32_t Reader::bytes_length(bool compact) { return checked_length(compact ? compact_length(*this) : i32()); }
int32_t Reader::array_length(bool compact) { return checked_length(compact ? compact_length(*this) : i32()); }

int32_t Reader::checked_length(int64_t n) {
  if (!ok()) return -1;
  if (n < -1 || n > static_cast<int64_t>(remaining())) {
    fail(n < -1 ? client_errc::malformed : client_errc::truncated);
    return -1;
  }
  return static_cast<int32_t>(n);
}

std::string Reader::string(bool compact) {
  int32_t n = string_length(compact);
  if (n < 0) {
    // A null where the schema allows none: the broker never sends it, so it is malformed.
    if (ok()) fail(client_errc::malformed);
    return {};
  }
  return std::string(take(static_cast<size_t>(n)).str());
}

std::optional<std::string> Reader::nullable_string(bool compact) {
  int32_t n = string_length(compact);
  if (n < 0) return std::nullopt;
  return std::string(take(static_cast<size_t>(n)).str());
}

Bytes Reader::bytes(bool compact) {
  int32_t n = bytes_length(compact);
  if (n < 0) {
    if (ok()) fail(client_errc::malformed);
    return {};
  }
  return take(static_cast<size_t>(n));
}

std::optional<Bytes> Reader::nullable_bytes(bool compact) {
  int32_t n = bytes_length(compact);
  if (n < 0) return std::nullopt;
  return take(static_cast<size_t>(n));
}

namespace {
// Every length and count on the wire is an int32 (or a compact N+1 that Kafka reads back into one).
constexpr size_t kMaxWireSize = static_cast<size_t>(std::numeric_limits<int32_t>::max());
}  // namespace

void Writer::uvarlong(uint64_t v) {
  while (v >= 0x80) {
    buf_.push_back(static_cast<uint8_t>(v | 0x80));
    v >>= 7;
  }
  buf_.push_back(static_cast<uint8_t>(v));
}

void Writer::string(std::string_view s, bool compact) {
  // A classic STRING has an int16 length; Kafka reads a compact one back into an int32.
  const size_t max = compact ? kMaxWireSize : static_cast<size_t>(std::numeric_limits<int16_t>::max());
  if (s.size() > max) {
    fail(client_errc::malformed);
    return;
  }
  if (compact)
    uvarint(static_cast<uint32_t>(s.size() + 1));
  else
    i16(static_cast<int16_t>(s.size()));
  raw(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void Writer::nullable_string(const std::optional<std::string>& s, bool compact) {
  if (!s) {
    if (compact)
      uvarint(0);
    else
      i16(-1);
    return;
  }
  string(*s, compact);
}

void Writer::bytes(Bytes b, bool compact) {
  if (b.len > kMaxWireSize) {
    fail(client_errc::malformed);
    return;
  }
  if (compact)
    uvarint(static_cast<uint32_t>(b.len + 1));
  else
    i32(static_cast<int32_t>(b.len));
  raw(b);
}

void Writer::nullable_bytes(const std::optional<Bytes>& b, bool compact) {
  if (!b) {
    if (compact)
      uvarint(0);
    else
      i32(-1);
    return;
  }
  bytes(*b, compact);
}

void Writer::array_length(size_t n, bool compact) {
  if (n > kMaxWireSize) {
    fail(client_errc::malformed);
    return;
  }
  if (compact)
    uvarint(static_cast<uint32_t>(n + 1));
  else
    i32(static_cast<int32_t>(n));
}

void Writer::null_array(bool compact) {
  if (compact)
    uvarint(0);
  else
    i32(-1);
}

void Writer::patch_i32(size_t pos, int32_t v) { boost::endian::store_big_s32(buf_.data() + pos, v); }

}  // namespace kafkawire::protocol
