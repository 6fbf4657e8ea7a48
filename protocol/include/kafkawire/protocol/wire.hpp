// The primitive types of the Kafka protocol, and one Reader and one Writer for them.
//
// Classic encodings (non-flexible versions):
//   STRING           int16 length, then UTF-8 bytes            NULLABLE_STRING: length -1 = null
//   BYTES            int32 length, then bytes                  NULLABLE_BYTES:  length -1 = null
//   ARRAY            int32 count, then the elements            nullable arrays: count -1 = null
// Compact encodings (flexible versions, KIP-482): the length or count is an UNSIGNED_VARINT holding N+1,
// and 0 means null. Unsigned varints carry 7 bits per byte, least significant group first, high bit set
// on every byte but the last. Inside records the varints are signed with zigzag encoding instead.
// All fixed-width integers are big-endian.
//
// The Reader never throws. The first problem (bytes ran out, a length points past the end) is kept as a
// sticky error; later reads return zero values, and the caller checks ok() once at the end. Every length
// read from the wire is checked against the bytes that remain *before* anything is allocated, so a
// hostile 2 GiB length costs nothing.
#pragma once

#include <array>
#include <boost/endian/conversion.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire::protocol {

// A view of bytes owned by someone else: the fetched frame, or the caller's buffer when encoding.
// Decoded messages point into the frame they were decoded from and are valid as long as it is.
struct Bytes {
  const uint8_t* ptr = nullptr;
  size_t len = 0;

  Bytes() = default;
  Bytes(const uint8_t* p, size_t n) : ptr(p), len(n) {}
  explicit Bytes(std::string_view s) : ptr(reinterpret_cast<const uint8_t*>(s.data())), len(s.size()) {}
  explicit Bytes(const std::vector<uint8_t>& v) : ptr(v.data()), len(v.size()) {}

  const uint8_t* data() const { return ptr; }
  size_t size() const { return len; }
  bool empty() const { return len == 0; }
  const uint8_t* begin() const { return ptr; }
  const uint8_t* end() const { return ptr + len; }
  std::string_view str() const { return {reinterpret_cast<const char*>(ptr), len}; }
  // Two views are equal when their contents are: what a test or a caller means by it.
  friend bool operator==(const Bytes& a, const Bytes& b) {
    return a.len == b.len && (a.len == 0 || std::memcmp(a.ptr, b.ptr, a.len) == 0);
  }
};

// A 16-byte UUID (topic ids, KIP-516). All zero means "no id".
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  bool is_zero() const { return bytes == std::array<uint8_t, 16>{}; }
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A `records` field (Fetch response, Produce request): nullable bytes on the wire that hold record
// batches. A type of its own so tools can decode what is inside; see record_batch.hpp.
struct Records {
  std::optional<Bytes> bytes;
  friend bool operator==(const Records&, const Records&) = default;
};

// A `bytes` field that may hold a password or a token (SaslAuthenticate's AuthBytes). On the wire it is
// plain BYTES; a type of its own so that every printer (JSON, explain, the spy) shows its length only.
struct SecretBytes {
  Bytes bytes;
  friend bool operator==(const SecretBytes&, const SecretBytes&) = default;
};
// What the printers show instead: "23 bytes (not shown: may hold a password or token)".
std::string secret_text(size_t length);

class Reader {
 public:
  Reader() = default;
  Reader(const uint8_t* p, size_t n) : p_(p), begin_(p), end_(p + n) {}
  explicit Reader(Bytes b) : Reader(b.ptr, b.len) {}

  bool ok() const { return !err_; }
  std::error_code error() const { return err_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t offset() const { return static_cast<size_t>(p_ - begin_); }
  const uint8_t* position() const { return p_; }
  // The first error wins: it says where things first went wrong.
  void fail(std::error_code ec) {
    if (!err_) err_ = ec;
    p_ = end_;
  }

  int8_t i8() { return static_cast<int8_t>(fixed<uint8_t>()); }
  int16_t i16() { return static_cast<int16_t>(fixed<uint16_t>()); }
  int32_t i32() { return static_cast<int32_t>(fixed<uint32_t>()); }
  int64_t i64() { return static_cast<int64_t>(fixed<uint64_t>()); }
  uint16_t u16() { return fixed<uint16_t>(); }
  uint32_t u32() { return fixed<uint32_t>(); }
  bool boolean() { return fixed<uint8_t>() != 0; }
  uint64_t uvarlong();
  uint32_t uvarint();
  int32_t varint() { return zigzag32(uvarint()); }    // zigzag, as inside records
  int64_t varlong() { return zigzag64(uvarlong()); }  // zigzag, as inside records
  Uuid uuid();

  // n bytes as a view, or a sticky `truncated` error when fewer remain.
  Bytes take(size_t n);
  void skip(size_t n) { take(n); }

  // Lengths and array counts: -1 means null. One larger than the bytes that remain is `truncated` right
  // here (every element of every Kafka array takes at least one byte), so it never drives a huge
  // reserve(); one below -1 is `malformed`.
  int32_t string_length(bool compact);
  int32_t bytes_length(bool compact);
  int32_t array_length(bool compact);

  std::string string(bool compact);
  std::optional<std::string> nullable_string(bool compact);
  Bytes bytes(bool compact);
  std::optional<Bytes> nullable_bytes(bool compact);

  static int32_t zigzag32(uint32_t v) { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
  static int64_t zigzag64(uint64_t v) { return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1)); }

 private:
  int32_t checked_length(int64_t n);  // n as read: the bounds every length above shares

  template <class T>
  T fixed() {
    if (remaining() < sizeof(T)) {
      fail(client_errc::truncated);
      return 0;
    }
    T v;
    if constexpr (sizeof(T) == 1)
      v = *p_;
    else
      v = boost::endian::endian_load<T, sizeof(T), boost::endian::order::big>(p_);
    p_ += sizeof(T);
    return v;
  }

  const uint8_t* p_ = nullptr;
  const uint8_t* begin_ = nullptr;
  const uint8_t* end_ = nullptr;
  std::error_code err_;
};

class Writer {
 public:
  Writer() = default;
  explicit Writer(std::vector<uint8_t> buf) : buf_(std::move(buf)) {}

  std::vector<uint8_t>& buffer() { return buf_; }
  const std::vector<uint8_t>& buffer() const { return buf_; }
  std::vector<uint8_t> release() { return std::move(buf_); }
  size_t size() const { return buf_.size(); }
  // The first error (a null where none is allowed, say) is kept, like the Reader's.
  bool ok() const { return !err_; }
  std::error_code error() const { return err_; }
  void fail(std::error_code ec) {
    if (!err_) err_ = ec;
  }

  void i8(int8_t v) { fixed<uint8_t>(static_cast<uint8_t>(v)); }
  void i16(int16_t v) { fixed<uint16_t>(static_cast<uint16_t>(v)); }
  void i32(int32_t v) { fixed<uint32_t>(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { fixed<uint64_t>(static_cast<uint64_t>(v)); }
  void u16(uint16_t v) { fixed<uint16_t>(v); }
  void u32(uint32_t v) { fixed<uint32_t>(v); }
  void boolean(bool v) { fixed<uint8_t>(v ? 1 : 0); }
  void uvarlong(uint64_t v);
  void uvarint(uint32_t v) { uvarlong(v); }
  void varint(int32_t v) { uvarint((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }
  void varlong(int64_t v) { uvarlong((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63)); }
  void uuid(const Uuid& u) { raw(u.bytes.data(), u.bytes.size()); }
  void raw(const uint8_t* p, size_t n) { buf_.insert(buf_.end(), p, p + n); }
  void raw(Bytes b) { raw(b.ptr, b.len); }

  void string(std::string_view s, bool compact);
  void nullable_string(const std::optional<std::string>& s, bool compact);
  void bytes(Bytes b, bool compact);
  void nullable_bytes(const std::optional<Bytes>& b, bool compact);
  void array_length(size_t n, bool compact);
  void null_array(bool compact);

  // Writes v big-endian at an earlier position (the frame's size, a batch's length and CRC).
  void patch_i32(size_t pos, int32_t v);

 private:
  template <class T>
  void fixed(T v) {
    uint8_t b[sizeof(T)];
    if constexpr (sizeof(T) == 1)
      b[0] = v;
    else
      boost::endian::endian_store<T, sizeof(T), boost::endian::order::big>(b, v);
    buf_.insert(buf_.end(), b, b + sizeof(T));
  }

  std::vector<uint8_t> buf_;
  std::error_code err_;
};

// Bytes needed by an unsigned varint: what size fields in tagged sections and records must predict.
inline size_t uvarint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

}  // namespace kafkawire::protocol
