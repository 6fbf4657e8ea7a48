// The frames of a `records` blob (a Fetch response partition's Records, a Produce request's): batch after
// batch, the few header fields every walker needs, and the frame's bytes. The one place that knows how a
// blob is cut into batches, so the record reader, the consumer's end-offset peek, the spy's summaries and
// the explainer cannot disagree about it.
//
//   offset  field            type   note
//   0       baseOffset       int64
//   8       batchLength      int32  bytes after this field; the frame is 12 + batchLength bytes
//   16      magic            int8   2 for a RecordBatch; 0 or 1 for a legacy MessageSet entry (offset,
//                                   messageSize, crc, then magic: at byte 16 too)
//   23      lastOffsetDelta  int32  RecordBatch only
//
// What counts as what:
//   - fewer than 17 bytes left, or a batchLength running past the end: a truncated trailing batch (the broker
//     cuts the blob at max bytes). Not an error: the iteration stops and truncated_tail() says so.
//   - a negative batchLength, or a magic-2 batchLength shorter than the batch header, or a legacy entry too
//     short to hold its magic: client_errc::malformed.
//   - a whole frame whose magic is not 2: client_errc::unsupported_magic, unless LegacyFrames::deliver
//     (the explainer shows legacy entries rather than failing on them).
// An error stops the iteration. Nothing is read past the end of the blob, and offsets are computed with
// wrapping arithmetic, so hostile headers cost nothing and are not undefined behaviour.
//
//   BatchFrames frames(records);
//   for (const BatchFrame& f : frames) use(f.base_offset, f.next_offset(), f.bytes);
//   if (frames.error()) ...;             // frames.failed() is the header of the frame that failed
#pragma once

#include <boost/endian/conversion.hpp>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <system_error>

#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/wire.hpp"

namespace kafkawire::protocol {

inline constexpr size_t kBatchHeaderSize = 61;
inline constexpr size_t kBatchLogOverhead = 12;  // baseOffset + batchLength: the bytes batchLength excludes
inline constexpr size_t kBatchMagicOffset = 16;
inline constexpr size_t kBatchCrcOffset = 17;
inline constexpr size_t kBatchAttributesOffset = 21;  // the CRC covers [21, end)
inline constexpr size_t kBatchLastOffsetDeltaOffset = 23;
inline constexpr int8_t kBatchMagic = 2;

// a + b in two's complement: offsets and timestamps from hostile headers must not be signed overflow.
inline int64_t wrapping_add(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

struct BatchFrame {
  int64_t base_offset = 0;
  int32_t batch_length = 0;  // bytes after the batchLength field
  int8_t magic = 0;
  int32_t last_offset_delta = 0;  // magic 2 only (0 for a legacy entry)
  size_t position = 0;            // of the frame's first byte in the blob
  Bytes bytes;                    // the whole frame: kBatchLogOverhead + batch_length bytes

  int64_t last_offset() const { return wrapping_add(base_offset, last_offset_delta); }
  // The offset after the batch: where a fetch continues once the batch is consumed.
  int64_t next_offset() const { return wrapping_add(last_offset(), 1); }
};

enum class LegacyFrames { reject, deliver };

class BatchFrames {
 public:
  BatchFrames() = default;
  explicit BatchFrames(Bytes records, LegacyFrames legacy = LegacyFrames::reject)
      : p_(records.ptr), begin_(records.ptr), end_(records.ptr + records.len), legacy_(legacy) {}

  // The next whole frame; false at the end, at a truncated trailing batch, or at a bad frame (error()).
  bool next(BatchFrame& frame);

  std::error_code error() const { return error_; }
  bool truncated_tail() const { return truncated_tail_; }
  // After next() returned false on a truncated tail or an error: the header fields of that frame, as far
  // as they could be read (all zero below 17 bytes); its bytes are all that remained of the blob.
  const BatchFrame& failed() const { return failed_; }
  // Bytes not yet delivered (the truncated tail or the bad frame onwards, once iteration stopped).
  Bytes rest() const { return Bytes(p_, static_cast<size_t>(end_ - p_)); }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  // Range-for over the frames; check error() / truncated_tail() after the loop.
  class iterator {
   public:
    using value_type = BatchFrame;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(BatchFrames* frames) : frames_(frames) { ++*this; }
    const BatchFrame& operator*() const { return frame_; }
    const BatchFrame* operator->() const { return &frame_; }
    iterator& operator++() {
      if (frames_ && !frames_->next(frame_)) frames_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& it, std::default_sentinel_t) { return it.frames_ == nullptr; }

   private:
    BatchFrames* frames_ = nullptr;
    BatchFrame frame_;
  };
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() { return {}; }

 private:
  bool stop(std::error_code ec, bool truncated);

  const uint8_t* p_ = nullptr;
  const uint8_t* begin_ = nullptr;
  const uint8_t* end_ = nullptr;
  LegacyFrames legacy_ = LegacyFrames::reject;
  std::error_code error_;
  bool truncated_tail_ = false;
  BatchFrame failed_;
};

inline bool BatchFrames::stop(std::error_code ec, bool truncated) {
  error_ = ec;
  truncated_tail_ = truncated;
  return false;
}

inline bool BatchFrames::next(BatchFrame& f) {
  namespace be = boost::endian;
  if (error_ || truncated_tail_ || p_ == end_) return false;
  const size_t remaining = static_cast<size_t>(end_ - p_);
  failed_ = {};
  failed_.position = position();
  failed_.bytes = rest();
  // A frame whose magic we cannot even see is the broker's cut at max bytes.
  if (remaining < kBatchMagicOffset + 1) return stop({}, true);
  failed_.base_offset = be::load_big_s64(p_);
  failed_.batch_length = be::load_big_s32(p_ + 8);
  failed_.magic = static_cast<int8_t>(p_[kBatchMagicOffset]);
  const int32_t length = failed_.batch_length;
  const bool batch = failed_.magic == kBatchMagic;
  constexpr int32_t kMinBatchLength = static_cast<int32_t>(kBatchHeaderSize - kBatchLogOverhead);
  constexpr int32_t kMinLegacyLength = static_cast<int32_t>(kBatchMagicOffset + 1 - kBatchLogOverhead);
  if (length < 0 || length < (batch ? kMinBatchLength : kMinLegacyLength))
    return stop(client_errc::malformed, false);
  if (static_cast<size_t>(length) > remaining - kBatchLogOverhead) return stop({}, true);
  if (!batch && legacy_ == LegacyFrames::reject) return stop(client_errc::unsupported_magic, false);
  f = failed_;
  f.bytes = Bytes(p_, kBatchLogOverhead + static_cast<size_t>(length));
  f.last_offset_delta = batch ? be::load_big_s32(p_ + kBatchLastOffsetDeltaOffset) : 0;
  p_ += f.bytes.len;
  return true;
}

}  // namespace kafkawire::protocol
