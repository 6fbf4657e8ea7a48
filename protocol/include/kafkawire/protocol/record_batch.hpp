// RecordBatch v2 (magic 2): the unit in which Kafka stores, replicates and serves records.
//
//   offset  field                 type    note
//   0       baseOffset            int64
//   8       batchLength           int32   bytes after this field
//   12      partitionLeaderEpoch  int32   not covered by the CRC
//   16      magic                 int8    2 (a legacy MessageSet entry has its magic at byte 16 too)
//   17      crc                   uint32  CRC-32C over bytes [21, end)
//   21      attributes            int16   bits 0-2 codec, 3 timestamp type, 4 transactional, 5 control,
//                                         6 delete horizon (baseTimestamp then holds it)
//   23      lastOffsetDelta       int32
//   27      baseTimestamp         int64
//   35      maxTimestamp          int64
//   43      producerId            int64   -1 = none
//   51      producerEpoch         int16
//   53      baseSequence          int32
//   57      recordsCount          int32
//   61      records                       one compressed block when a codec is set
//
// Record: length varint, attributes int8, timestampDelta varlong, offsetDelta varint, keyLength varint
// (-1 = null), key, valueLength varint (-1 = null), value, headersCount varint, then per header keyLength
// varint, key (UTF-8), valueLength varint (-1 = null), value. Varints here are zigzag-encoded.
//
// RecordBatchReader walks the `records` bytes of a Fetch response partition: every length is checked against
// the bytes that remain, a truncated trailing batch is ignored (the broker cuts at max bytes), records are
// views (no allocation per record). RecordBatchBuilder writes batches (producer, tests).
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/batch_frames.hpp"
#include "kafkawire/protocol/compression.hpp"
#include "kafkawire/protocol/wire.hpp"

namespace kafkawire::protocol {

enum class TimestampType : int8_t { create_time = 0, log_append_time = 1 };

struct BatchHeader {
  int64_t base_offset = 0;
  int32_t batch_length = 0;
  int32_t partition_leader_epoch = -1;
  int8_t magic = kBatchMagic;
  uint32_t crc = 0;
  int16_t attributes = 0;
  int32_t last_offset_delta = 0;
  int64_t base_timestamp = -1;
  int64_t max_timestamp = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  int32_t records_count = 0;

  Compression compression() const { return static_cast<Compression>(attributes & 0x7); }
  TimestampType timestamp_type() const {
    return (attributes & 0x8) ? TimestampType::log_append_time : TimestampType::create_time;
  }
  bool is_transactional() const { return (attributes & 0x10) != 0; }
  bool is_control() const { return (attributes & 0x20) != 0; }
  bool has_delete_horizon() const { return (attributes & 0x40) != 0; }
  bool has_producer_id() const { return producer_id >= 0; }
  // Wrapping arithmetic: hostile values must not be undefined behaviour.
  int64_t last_offset() const { return wrapping_add(base_offset, last_offset_delta); }
  size_t size_in_bytes() const { return kBatchLogOverhead + static_cast<uint32_t>(batch_length); }
  friend bool operator==(const BatchHeader&, const BatchHeader&) = default;
};

// Reads the 61-byte header at the start of `batch`: `truncated` when fewer bytes are given. Checks neither
// magic nor CRC nor lengths (the reader does).
std::error_code decode_batch_header(Bytes batch, BatchHeader& out);

// Whether the CRC-32C stored in a whole batch (all size_in_bytes() of it) matches its bytes [21, end).
bool batch_crc_ok(Bytes batch);

// One record header as a view: key is UTF-8 text, value may be null.
struct Header {
  std::string_view key;
  std::optional<Bytes> value;
};

namespace detail {

using protocol::wrapping_add;
inline int32_t unzigzag32(uint32_t v) { return static_cast<int32_t>(v >> 1) ^ -static_cast<int32_t>(v & 1); }
inline int64_t unzigzag64(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// An unsigned LEB128 of at most MaxBytes bytes inside [p, end): the position after it, or nullptr when it
// runs past `end` or is too long. Bits beyond 32 (MaxBytes 5) or 64 (MaxBytes 10) are dropped, as the Java
// reader drops them. One- and two-byte values, most of what a record holds, take the first branches.
template <int MaxBytes>
inline const uint8_t* read_uleb(const uint8_t* p, const uint8_t* end, uint64_t& v) {
  const ptrdiff_t avail = end - p;
  if (avail >= 1 && p[0] < 0x80) [[likely]] {
    v = p[0];
    return p + 1;
  }
  if (avail >= 2 && p[1] < 0x80) {
    v = (uint64_t{p[0]} & 0x7f) | (uint64_t{p[1]} << 7);
    return p + 2;
  }
  const int n = avail < MaxBytes ? static_cast<int>(avail) : MaxBytes;
  uint64_t r = 0;
  for (int i = 0; i < n; ++i) {
    const uint64_t b = p[i];
    r |= (b & 0x7f) << (7 * i);
    if (b < 0x80) {
      v = r;
      return p + i + 1;
    }
  }
  return nullptr;
}

inline const uint8_t* read_varint(const uint8_t* p, const uint8_t* end, int32_t& v) {
  uint64_t u = 0;
  p = read_uleb<5>(p, end, u);
  v = unzigzag32(static_cast<uint32_t>(u));
  return p;
}
inline const uint8_t* read_varlong(const uint8_t* p, const uint8_t* end, int64_t& v) {
  uint64_t u = 0;
  p = read_uleb<10>(p, end, u);
  v = unzigzag64(u);
  return p;
}

// A length: zigzag-encoded, so a non-negative n is 2n on the wire and every odd value is negative. Reading
// the even case directly saves the zigzag arithmetic on the hot path.
inline const uint8_t* read_length(const uint8_t* p, const uint8_t* end, uint64_t& zz) {
  uint64_t u = 0;
  p = read_uleb<5>(p, end, u);
  zz = static_cast<uint32_t>(u);
  return p;
}

// A length-prefixed field of a record: -1 is null when `nullable`, other negatives and lengths past `end`
// are malformed (nullptr).
inline const uint8_t* read_field(const uint8_t* p, const uint8_t* end, bool nullable,
                                 std::optional<Bytes>& out) {
  uint64_t zz = 0;
  if (!(p = read_length(p, end, zz))) return nullptr;
  if (!(zz & 1)) [[likely]] {
    const uint64_t n = zz >> 1;
    if (n > static_cast<uint64_t>(end - p)) return nullptr;
    out.emplace(p, static_cast<size_t>(n));
    return p + n;
  }
  if (zz == 1 && nullable) {  // -1
    out.reset();
    return p;
  }
  return nullptr;
}

}  // namespace detail

// The headers of one record, decoded lazily: `for (auto [key, value] : record.headers)` allocates nothing.
// The reader has already checked that they are well formed.
class HeadersView {
 public:
  class iterator {
   public:
    using value_type = Header;
    using reference = Header;
    using pointer = const Header*;
    using difference_type = std::ptrdiff_t;
    using iterator_category = std::input_iterator_tag;

    iterator() = default;
    Header operator*() const { return cur_; }
    const Header* operator->() const { return &cur_; }
    iterator& operator++() {
      if (--left_ > 0) load();
      return *this;
    }
    iterator operator++(int) {
      iterator t = *this;
      ++*this;
      return t;
    }
    friend bool operator==(const iterator& a, const iterator& b) { return a.left_ == b.left_; }

   private:
    friend class HeadersView;
    iterator(const uint8_t* p, const uint8_t* end, int32_t count) : p_(p), end_(end), left_(count) {
      if (left_ > 0) load();
    }
    void load() {
      std::optional<Bytes> key;
      const uint8_t* q = detail::read_field(p_, end_, false, key);
      if (q) q = detail::read_field(q, end_, true, cur_.value);
      if (!q) {  // cannot happen after the reader's check; stop rather than read wild
        left_ = 0;
        return;
      }
      cur_.key = key->str();
      p_ = q;
    }
    const uint8_t* p_ = nullptr;
    const uint8_t* end_ = nullptr;
    int32_t left_ = 0;
    Header cur_;
  };

  HeadersView() = default;
  HeadersView(const uint8_t* p, const uint8_t* end, int32_t count) : p_(p), end_(end), count_(count) {}

  iterator begin() const { return {p_, end_, count_}; }
  iterator end() const { return {}; }
  size_t size() const { return static_cast<size_t>(count_); }
  bool empty() const { return count_ == 0; }
  // The value of the last header with this key (Java's Headers.lastHeader); nullopt when there is none,
  // a null inner optional when its value is null.
  std::optional<std::optional<Bytes>> last(std::string_view key) const {
    std::optional<std::optional<Bytes>> found;
    for (auto [k, v] : *this)
      if (k == key) found = v;
    return found;
  }

 private:
  const uint8_t* p_ = nullptr;
  const uint8_t* end_ = nullptr;
  int32_t count_ = 0;
};

// One record: views into the fetched bytes (uncompressed batches) or into the reader's decompression
// buffer (compressed batches; see RecordBatchReader::set_scratch for how long that lives).
struct RecordView {
  int64_t offset = 0;
  int64_t timestamp = 0;  // LogAppendTime batches: the batch's maxTimestamp for every record (as Java)
  std::optional<Bytes> key;
  std::optional<Bytes> value;
  HeadersView headers;
};

namespace detail {

struct RecordContext {
  int64_t base_offset = 0;
  int64_t base_timestamp = 0;
  int64_t max_timestamp = 0;
  bool log_append_time = false;
};

// Decodes one record in [p, end): the position after it, or nullptr when it is malformed. Every length is
// bounded by the record's own length, which is bounded by `end`.
inline const uint8_t* decode_record(const uint8_t* p, const uint8_t* end, const RecordContext& ctx,
                                    RecordView& rec) {
  uint64_t len = 0;  // zigzag: odd values are negative
  p = read_length(p, end, len);
  // The smallest record body: attributes, timestampDelta, offsetDelta, keyLength, valueLength, headersCount.
  if (!p || (len & 1) || len < 12 || (len >>= 1) > static_cast<uint64_t>(end - p)) [[unlikely]]
    return nullptr;
  const uint8_t* const rend = p + len;
  ++p;  // attributes: no bits defined for records
  int64_t ts_delta = 0;
  int32_t offset_delta = 0;
  uint64_t header_count = 0;
  if (!(p = read_varlong(p, rend, ts_delta))) return nullptr;
  if (!(p = read_varint(p, rend, offset_delta))) return nullptr;
  if (!(p = read_field(p, rend, true, rec.key))) return nullptr;
  if (!(p = read_field(p, rend, true, rec.value))) return nullptr;
  if (!(p = read_length(p, rend, header_count)) || (header_count & 1)) return nullptr;
  header_count >>= 1;
  const uint8_t* const headers = p;
  if (header_count > 0) [[unlikely]] {
    std::optional<Bytes> scratch;
    for (uint64_t i = 0; i < header_count; ++i) {
      if (!(p = read_field(p, rend, false, scratch))) return nullptr;
      if (!(p = read_field(p, rend, true, scratch))) return nullptr;
    }
  }
  if (p != rend) [[unlikely]]
    return nullptr;  // the record's length and its fields disagree
  rec.headers = HeadersView(headers, rend, static_cast<int32_t>(header_count));
  rec.offset = wrapping_add(ctx.base_offset, offset_delta);
  rec.timestamp = ctx.log_append_time ? ctx.max_timestamp : wrapping_add(ctx.base_timestamp, ts_delta);
  return rend;
}

}  // namespace detail

// An entry of a Fetch response's AbortedTransactions (read_committed).
struct AbortedTransaction {
  int64_t producer_id = 0;
  int64_t first_offset = 0;
  friend bool operator==(const AbortedTransaction&, const AbortedTransaction&) = default;
};

struct ReadOptions {
  bool check_crcs = true;  // verify every batch's CRC-32C (the consumer's check.crcs)
  // Records below this offset are skipped: a fetch at offset N may return a compressed batch that starts
  // before N. Batches that end before it are skipped whole.
  int64_t start_offset = std::numeric_limits<int64_t>::min();
  // IsolationLevel READ_COMMITTED: skip the transactional batches of aborted transactions, as listed by
  // set_aborted_transactions().
  bool read_committed = false;
  // Control batches (transaction markers) are never records for the application; set this to have
  // next_batch() stop at them too, so a caller can see the ABORT/COMMIT markers (parse_control_key).
  bool deliver_control = false;
  size_t max_decompressed = kDefaultMaxDecompressedSize;  // per batch
};

// Reads a `records` blob batch by batch and record by record.
//
//   RecordBatchReader reader(partition.records.bytes.value(), {.start_offset = fetch_offset});
//   RecordView rec;
//   while (reader.next(rec)) handle(rec);
//   if (reader.error()) report(reader.error(), reader.error_offset());
//   position = reader.next_offset();
//
// Or batch by batch: `while (reader.next_batch()) { reader.batch(); while (reader.next_record(rec)) ... }`.
//
// What it does: ignores a truncated trailing batch (truncated_tail()); fails with unsupported_magic on a
// complete batch whose magic is not 2 (legacy MessageSets: Kafka 4 writes none), crc_mismatch when
// check_crcs and the CRC is wrong, malformed/truncated on bad lengths or a record count that disagrees with
// the bytes, compression_error/unsupported_compression from the codec. An error stops the reader;
// error_offset() is the base offset of the batch it happened in. Records delivered before it were good.
//
// Lifetime: views point into `records` (uncompressed batches) or into the scratch buffer (compressed ones),
// which is overwritten by the next compressed batch. A caller that keeps records of several compressed
// batches at once gives each batch its own buffer with set_scratch() before next_batch().
//
// One reader can be reused with reset(): its buffers and codec contexts are kept, so reading batch after
// batch allocates nothing once warmed up.
class RecordBatchReader {
 public:
  RecordBatchReader() = default;
  explicit RecordBatchReader(Bytes records, const ReadOptions& options = {}) { reset(records, options); }
  RecordBatchReader(RecordBatchReader&&) = default;
  RecordBatchReader& operator=(RecordBatchReader&&) = default;

  void reset(Bytes records, const ReadOptions& options = {});

  // The Fetch response's AbortedTransactions for this partition (any range of elements with producer_id
  // and first_offset members, e.g. FetchResponse::AbortedTransaction), in any order. Only used with
  // read_committed. Call it after reset(), which forgets them.
  template <class Range>
  void set_aborted_transactions(const Range& aborted) {
    aborted_.clear();
    for (const auto& a : aborted) aborted_.push_back({a.producer_id, a.first_offset});
    sort_aborted();
  }

  // The next record to deliver, crossing batches. False at the end or on an error.
  bool next(RecordView& rec) {
    for (;;) {
      if (in_batch_ && next_record(rec)) return true;
      if (!next_batch()) return false;
    }
  }

  // Moves to the next batch that has something to deliver (filters applied); the rest of the current
  // batch, if any, is skipped. False at the end or on an error.
  bool next_batch();
  // The current batch's header (valid after next_batch() returned true).
  const BatchHeader& batch() const { return batch_; }
  // The next record of the current batch, skipping those below start_offset.
  bool next_record(RecordView& rec) {
    while (records_left_ > 0) {
      const uint8_t* q = detail::decode_record(rp_, rend_, ctx_, rec);
      if (!q) [[unlikely]]
        return fail_record();
      rp_ = q;
      --records_left_;
      if (rec.offset < options_.start_offset) [[unlikely]]
        continue;
      if (rec.offset >= next_offset_) next_offset_ = detail::wrapping_add(rec.offset, 1);
      return true;
    }
    return finish_batch();
  }

  std::error_code error() const { return error_; }
  int64_t error_offset() const { return error_offset_; }  // base offset of the failed batch, -1 if none
  // The offset to fetch next after what was delivered: one past the last record returned, or past the
  // last batch skipped or finished (aborted, control, emptied by compaction). At least start_offset.
  int64_t next_offset() const { return next_offset_; }
  // True when the blob ended in an incomplete batch, which was ignored.
  bool truncated_tail() const { return truncated_tail_; }
  // Bytes of the complete batches looked at so far; a truncated tail is not counted. Zero with
  // truncated_tail() at the end means the blob holds no complete batch (the first batch is larger than
  // what the broker sent).
  size_t bytes_consumed() const { return frames_.position(); }

  // Where compressed batches are decompressed to (nullptr: the reader's own buffer). Takes effect at the
  // next batch; the buffer must outlive the records read from it.
  void set_scratch(std::vector<uint8_t>* scratch) { scratch_ = scratch; }

 private:
  bool fail(std::error_code ec, int64_t offset);
  bool fail_record();
  bool finish_batch();
  void sort_aborted();
  std::error_code load_records(Bytes batch);
  bool is_aborted_producer(int64_t producer_id) const;

  ReadOptions options_;
  BatchFrames frames_;

  BatchHeader batch_;
  bool in_batch_ = false;
  const uint8_t* rp_ = nullptr;  // next record of the current batch
  const uint8_t* rend_ = nullptr;
  int32_t records_left_ = 0;
  detail::RecordContext ctx_;

  std::vector<AbortedTransaction> aborted_;  // sorted by first_offset
  size_t aborted_next_ = 0;
  std::vector<int64_t> aborted_producers_;  // currently open aborted transactions

  std::error_code error_;
  int64_t error_offset_ = -1;
  int64_t next_offset_ = 0;
  bool truncated_tail_ = false;

  Decompressor decompressor_;
  std::vector<uint8_t> own_scratch_;
  std::vector<uint8_t>* scratch_ = nullptr;
};

// ---- building -----------------------------------------------------------------------------------------

// Every member has a default: designated initializers may name only what they set (quiet under -Wextra).
struct BatchOptions {
  int64_t base_offset = 0;
  // Kafka's builder takes the first record's timestamp; set this to write another.
  std::optional<int64_t> base_timestamp{};
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = -1;
  int16_t producer_epoch = -1;
  int32_t base_sequence = -1;
  bool transactional = false;
  bool control = false;
  Compression compression = Compression::none;
  std::optional<int> compression_level{};
  TimestampType timestamp_type = TimestampType::create_time;
  int64_t log_append_time = -1;  // written as maxTimestamp when timestamp_type is log_append_time
  // lastOffsetDelta when it is not that of the last record (a batch emptied by compaction).
  std::optional<int32_t> last_offset_delta{};
};

// Builds one batch:
//   RecordBatchBuilder b({.base_offset = 0, .compression = Compression::zstd});
//   b.add(ts, Bytes("key"sv), Bytes("value"sv));
//   auto bytes = b.build();
// The records are encoded as they are added, behind room kept for the batch header, so that finish()
// writes the header in place: an uncompressed batch is never copied, and a producer keeps only the
// encoded records of an open batch (Java's accumulator), not the records it was given.
class RecordBatchBuilder {
 public:
  RecordBatchBuilder() : RecordBatchBuilder(BatchOptions{}) {}
  explicit RecordBatchBuilder(const BatchOptions& options) : options_(options), records_(kBatchHeaderSize) {}

  // Starts a new batch, keeping the buffers.
  void reset(const BatchOptions& options);

  // Appends a record at the next offset (base_offset for the first).
  void add(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
           std::span<const Header> headers = {});
  // Appends a record at a given offset (increasing; gaps are what compaction leaves).
  void add_at(int64_t offset, int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
              std::span<const Header> headers = {});

  // The producer id, epoch and first sequence number the next finish() writes (a retry after an epoch
  // bump is renumbered); the records stay as they are.
  void set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence);

  // Room for this many bytes of batch (header and records) without reallocating.
  void reserve(size_t bytes) { records_.reserve(bytes); }

  int32_t count() const { return count_; }
  size_t uncompressed_size() const { return records_.size(); }

  // Writes the header (compressing the records first, once) and points `batch` at the finished batch,
  // inside the builder: valid until the builder changes. Fails only when the codec is unavailable
  // (unsupported_compression) or fails.
  std::error_code finish(Bytes& batch);
  // Appends the finished batch to `out` (several batches make a `records` blob).
  std::error_code build_into(std::vector<uint8_t>& out);
  // The same, as a new buffer; throws std::system_error on those errors.
  std::vector<uint8_t> build();

 private:
  BatchOptions options_;
  std::vector<uint8_t> records_;     // kBatchHeaderSize bytes of room for the header, then the records
  std::vector<uint8_t> compressed_;  // the same for a compressed batch: room, then the compressed records
  bool compressed_current_ = false;  // compressed_ holds the records as they are now
  int32_t count_ = 0;
  int64_t last_offset_ = 0;
  std::optional<int64_t> first_timestamp_;
  int64_t max_timestamp_ = -1;
};

// ---- control records ----------------------------------------------------------------------------------

// The key of a control record: int16 version (0), int16 type.
enum class ControlType : int16_t { abort = 0, commit = 1 };
struct ControlKey {
  int16_t version = 0;
  int16_t type = 0;  // 0 ABORT, 1 COMMIT; KRaft logs have others (2 LeaderChange, 3/4 snapshot header/footer)
  bool is_abort() const { return type == static_cast<int16_t>(ControlType::abort); }
  bool is_commit() const { return type == static_cast<int16_t>(ControlType::commit); }
};
std::optional<ControlKey> parse_control_key(const std::optional<Bytes>& key);

// The value of an END_TXN marker: int16 version (0), int32 coordinator epoch.
struct EndTxnMarker {
  int16_t version = 0;
  int32_t coordinator_epoch = 0;
};
std::optional<EndTxnMarker> parse_end_txn_marker(const std::optional<Bytes>& value);

// A control batch holding one END_TXN marker (what the transaction coordinator has the leader write).
struct EndTxnMarkerOptions {
  int64_t offset = 0;
  int64_t timestamp = 0;
  int32_t partition_leader_epoch = -1;
  int64_t producer_id = 0;
  int16_t producer_epoch = 0;
  ControlType type = ControlType::commit;
  int32_t coordinator_epoch = 0;
};
std::vector<uint8_t> build_end_txn_marker(const EndTxnMarkerOptions& options);

}  // namespace kafkawire::protocol
