#include "kafkawire/protocol/record_batch.hpp"

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstring>
#include <stdexcept>
#include <string>

#include "kafkawire/protocol/crc32c.hpp"

namespace kafkawire::protocol {

namespace be = boost::endian;

std::error_code decode_batch_header(Bytes b, BatchHeader& h) {
  if (b.len < kBatchHeaderSize) return client_errc::truncated;
  const uint8_t* p = b.ptr;
  h.base_offset = be::load_big_s64(p);
  h.batch_length = be::load_big_s32(p + 8);
  h.partition_leader_epoch = be::load_big_s32(p + 12);
  h.magic = static_cast<int8_t>(p[kBatchMagicOffset]);
  h.crc = be::load_big_u32(p + kBatchCrcOffset);
  h.attributes = be::load_big_s16(p + kBatchAttributesOffset);
  h.last_offset_delta = be::load_big_s32(p + kBatchLastOffsetDeltaOffset);
  h.base_timestamp = be::load_big_s64(p + 27);
  h.max_timestamp = be::load_big_s64(p + 35);
  h.producer_id = be::load_big_s64(p + 43);
  h.producer_epoch = be::load_big_s16(p + 51);
  h.base_sequence = be::load_big_s32(p + 53);
  h.records_count = be::load_big_s32(p + 57);
  return {};
}

bool batch_crc_ok(Bytes b) {
  if (b.len < kBatchHeaderSize) return false;
  return crc32c(b.ptr + kBatchAttributesOffset, b.len - kBatchAttributesOffset) ==
         be::load_big_u32(b.ptr + kBatchCrcOffset);
}

// ---- reader -------------------------------------------------------------------------------------------

void RecordBatchReader::reset(Bytes records, const ReadOptions& options) {
  options_ = options;
  frames_ = BatchFrames(records);
  batch_ = {};
  in_batch_ = false;
  rp_ = rend_ = nullptr;
  records_left_ = 0;
  aborted_.clear();
  aborted_next_ = 0;
  aborted_producers_.clear();
  error_ = {};
  error_offset_ = -1;
  next_offset_ = options.start_offset;
  truncated_tail_ = false;
}

void RecordBatchReader::sort_aborted() {
  std::stable_sort(aborted_.begin(), aborted_.end(),
                   [](const AbortedTransaction& a, const AbortedTransaction& b) {
                     return a.first_offset < b.first_offset;
                   });
  aborted_next_ = 0;
  aborted_producers_.clear();
}

bool RecordBatchReader::is_aborted_producer(int64_t producer_id) const {
  return std::find(aborted_producers_.begin(), aborted_producers_.end(), producer_id) !=
         aborted_producers_.end();
}

bool RecordBatchReader::fail(std::error_code ec, int64_t offset) {
  error_ = ec;
  error_offset_ = offset;
  in_batch_ = false;
  records_left_ = 0;
  return false;
}

bool RecordBatchReader::fail_record() { return fail(client_errc::malformed, batch_.base_offset); }

bool RecordBatchReader::finish_batch() {
  if (!in_batch_) return false;
  in_batch_ = false;
  // Java's reader too: once recordsCount records are read, no bytes may remain.
  if (rp_ != rend_) return fail(client_errc::malformed, batch_.base_offset);
  const int64_t after = detail::wrapping_add(batch_.last_offset(), 1);
  if (after > next_offset_) next_offset_ = after;
  return false;
}

std::error_code RecordBatchReader::load_records(Bytes batch) {
  const uint8_t* p = batch.ptr + kBatchHeaderSize;
  const size_t n = batch.len - kBatchHeaderSize;
  records_left_ = batch_.records_count;
  ctx_ = {batch_.base_offset, batch_.base_timestamp, batch_.max_timestamp,
          batch_.timestamp_type() == TimestampType::log_append_time};
  if (batch_.records_count == 0) {  // emptied by compaction: nothing to read, whatever the codec says
    rp_ = rend_ = p;
    return {};
  }
  const Compression c = batch_.compression();
  if (c == Compression::none) {
    rp_ = p;
    rend_ = p + n;
    return {};
  }
  if (!compression_available(c)) return client_errc::unsupported_compression;
  std::vector<uint8_t>& out = scratch_ ? *scratch_ : own_scratch_;
  if (auto ec = decompressor_.decompress(c, Bytes(p, n), out, options_.max_decompressed)) return ec;
  rp_ = out.data();
  rend_ = out.data() + out.size();
  return {};
}

bool RecordBatchReader::next_batch() {
  if (error_) return false;
  if (in_batch_) {  // the caller leaves the rest of this batch
    in_batch_ = false;
    records_left_ = 0;
    const int64_t after = detail::wrapping_add(batch_.last_offset(), 1);
    if (after > next_offset_) next_offset_ = after;
  }
  BatchFrame frame;
  while (!truncated_tail_) {
    if (!frames_.next(frame)) {
      if (frames_.error()) return fail(frames_.error(), frames_.failed().base_offset);
      truncated_tail_ = frames_.truncated_tail();
      return false;
    }
    const Bytes whole = frame.bytes;
    const int64_t base_offset = frame.base_offset;
    decode_batch_header(whole, batch_);
    if (options_.check_crcs && !batch_crc_ok(whole)) return fail(client_errc::crc_mismatch, base_offset);
    if (batch_.records_count < 0) return fail(client_errc::malformed, base_offset);
    const int64_t last = batch_.last_offset();
    const int64_t after = frame.next_offset();
    bool loaded = false;

    if (options_.read_committed && batch_.has_producer_id()) {
      // Transactions that began at or before this batch's end are open for their producers.
      while (aborted_next_ < aborted_.size() && aborted_[aborted_next_].first_offset <= last) {
        const int64_t pid = aborted_[aborted_next_++].producer_id;
        if (!is_aborted_producer(pid)) aborted_producers_.push_back(pid);
      }
      if (batch_.is_control()) {
        // An ABORT marker closes its producer's aborted transaction.
        if (auto ec = load_records(whole)) return fail(ec, base_offset);
        loaded = true;
        RecordView first;
        if (records_left_ > 0) {
          if (!detail::decode_record(rp_, rend_, ctx_, first))
            return fail(client_errc::malformed, base_offset);
          if (auto key = parse_control_key(first.key); key && key->is_abort())
            std::erase(aborted_producers_, batch_.producer_id);
        }
      } else if (batch_.is_transactional() && is_aborted_producer(batch_.producer_id)) {
        if (after > next_offset_) next_offset_ = after;
        continue;
      }
    }
    if (last < options_.start_offset || (batch_.is_control() && !options_.deliver_control)) {
      if (after > next_offset_) next_offset_ = after;
      continue;
    }
    if (!loaded) {
      if (auto ec = load_records(whole)) return fail(ec, base_offset);
    }
    in_batch_ = true;
    return true;
  }
  return false;
}

// ---- builder ------------------------------------------------------------------------------------------

namespace {

// Writers into room already made (add_at sizes the record first and grows the buffer once).
uint8_t* put_uleb(uint8_t* out, uint64_t v) {
  while (v >= 0x80) {
    *out++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<uint8_t>(v);
  return out;
}
uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
size_t varlong_size(int64_t v) { return uvarint_size(zigzag(v)); }
uint8_t* put_varlong(uint8_t* out, int64_t v) { return put_uleb(out, zigzag(v)); }

size_t field_size(const std::optional<Bytes>& b) {
  return b ? varlong_size(static_cast<int64_t>(b->len)) + b->len : varlong_size(-1);
}
uint8_t* put_field(uint8_t* out, const std::optional<Bytes>& b) {
  if (!b) return put_varlong(out, -1);
  out = put_varlong(out, static_cast<int64_t>(b->len));
  if (b->len > 0) std::memcpy(out, b->ptr, b->len);
  return out + b->len;
}

}  // namespace

void RecordBatchBuilder::reset(const BatchOptions& options) {
  options_ = options;
  records_.assign(kBatchHeaderSize, 0);
  compressed_.clear();
  compressed_current_ = false;
  count_ = 0;
  last_offset_ = 0;
  first_timestamp_.reset();
  max_timestamp_ = -1;
}

void RecordBatchBuilder::add(int64_t timestamp, std::optional<Bytes> key, std::optional<Bytes> value,
                             std::span<const Header> headers) {
  const int64_t offset = count_ == 0 ? options_.base_offset : last_offset_ + 1;
  add_at(offset, timestamp, key, value, headers);
}

void RecordBatchBuilder::add_at(int64_t offset, int64_t timestamp, std::optional<Bytes> key,
                                std::optional<Bytes> value, std::span<const Header> headers) {
  if (!first_timestamp_) first_timestamp_ = timestamp;
  const int64_t base_ts = options_.base_timestamp.value_or(*first_timestamp_);
  const int64_t ts_delta = timestamp - base_ts;
  const int64_t offset_delta = offset - options_.base_offset;

  size_t body = 1 + varlong_size(ts_delta) + varlong_size(offset_delta) + field_size(key) +
                field_size(value) + varlong_size(static_cast<int64_t>(headers.size()));
  for (const Header& h : headers) body += field_size(Bytes(h.key)) + field_size(h.value);

  const size_t at = records_.size();
  records_.resize(at + varlong_size(static_cast<int64_t>(body)) + body);
  uint8_t* out = put_varlong(records_.data() + at, static_cast<int64_t>(body));
  *out++ = 0;  // attributes
  out = put_varlong(out, ts_delta);
  out = put_varlong(out, offset_delta);
  out = put_field(out, key);
  out = put_field(out, value);
  out = put_varlong(out, static_cast<int64_t>(headers.size()));
  for (const Header& h : headers) {
    out = put_field(out, Bytes(h.key));
    out = put_field(out, h.value);
  }
  ++count_;
  last_offset_ = offset;
  if (timestamp > max_timestamp_) max_timestamp_ = timestamp;
  compressed_current_ = false;
}

void RecordBatchBuilder::set_producer(int64_t producer_id, int16_t producer_epoch, int32_t base_sequence) {
  options_.producer_id = producer_id;
  options_.producer_epoch = producer_epoch;
  options_.base_sequence = base_sequence;
}

std::error_code RecordBatchBuilder::finish(Bytes& batch) {
  const BatchOptions& o = options_;
  std::vector<uint8_t>* frame = &records_;
  if (o.compression != Compression::none && count_ > 0) {
    if (!compressed_current_) {
      const Bytes records(records_.data() + kBatchHeaderSize, records_.size() - kBatchHeaderSize);
      if (auto ec = compress(o.compression, records, compressed_, o.compression_level)) return ec;
      compressed_.insert(compressed_.begin(), kBatchHeaderSize, 0);
      compressed_current_ = true;
    }
    frame = &compressed_;
  }
  const size_t total = frame->size();

  const int32_t last_delta =
      o.last_offset_delta.value_or(count_ == 0 ? 0 : static_cast<int32_t>(last_offset_ - o.base_offset));
  int16_t attributes = static_cast<int16_t>(static_cast<int16_t>(o.compression) & 0x7);
  if (o.timestamp_type == TimestampType::log_append_time) attributes |= 0x8;
  if (o.transactional) attributes |= 0x10;
  if (o.control) attributes |= 0x20;
  const int64_t base_ts = o.base_timestamp.value_or(first_timestamp_.value_or(-1));
  const int64_t max_ts =
      o.timestamp_type == TimestampType::log_append_time ? o.log_append_time : max_timestamp_;

  uint8_t* h = frame->data();
  be::store_big_s64(h, o.base_offset);
  be::store_big_u32(h + 8, static_cast<uint32_t>(total - kBatchLogOverhead));
  be::store_big_s32(h + 12, o.partition_leader_epoch);
  h[kBatchMagicOffset] = static_cast<uint8_t>(kBatchMagic);
  be::store_big_s16(h + kBatchAttributesOffset, attributes);
  be::store_big_s32(h + kBatchLastOffsetDeltaOffset, last_delta);
  be::store_big_s64(h + 27, base_ts);
  be::store_big_s64(h + 35, max_ts);
  be::store_big_s64(h + 43, o.producer_id);
  be::store_big_s16(h + 51, o.producer_epoch);
  be::store_big_s32(h + 53, o.base_sequence);
  be::store_big_s32(h + 57, count_);
  be::store_big_u32(h + kBatchCrcOffset, crc32c(h + kBatchAttributesOffset, total - kBatchAttributesOffset));
  batch = Bytes(h, total);
  return {};
}

std::error_code RecordBatchBuilder::build_into(std::vector<uint8_t>& out) {
  Bytes batch;
  if (auto ec = finish(batch)) return ec;
  out.insert(out.end(), batch.begin(), batch.end());
  return {};
}

std::vector<uint8_t> RecordBatchBuilder::build() {
  std::vector<uint8_t> out;
  if (auto ec = build_into(out)) {
    std::string what = unsupported_compression_message(options_.compression);
    throw std::system_error(ec, what.empty() ? "building a record batch" : what);
  }
  return out;
}

// ---- control records ----------------------------------------------------------------------------------

std::optional<ControlKey> parse_control_key(const std::optional<Bytes>& key) {
  if (!key || key->len < 4) return std::nullopt;
  return ControlKey{be::load_big_s16(key->ptr), be::load_big_s16(key->ptr + 2)};
}

std::optional<EndTxnMarker> parse_end_txn_marker(const std::optional<Bytes>& value) {
  if (!value || value->len < 6) return std::nullopt;
  return EndTxnMarker{be::load_big_s16(value->ptr), be::load_big_s32(value->ptr + 2)};
}

std::vector<uint8_t> build_end_txn_marker(const EndTxnMarkerOptions& o) {
  uint8_t key[4];
  be::store_big_s16(key, 0);  // version
  be::store_big_s16(key + 2, static_cast<int16_t>(o.type));
  uint8_t value[6];
  be::store_big_s16(value, 0);  // version
  be::store_big_s32(value + 2, o.coordinator_epoch);
  BatchOptions options;
  options.base_offset = o.offset;
  options.base_timestamp = o.timestamp;
  options.partition_leader_epoch = o.partition_leader_epoch;
  options.producer_id = o.producer_id;
  options.producer_epoch = o.producer_epoch;
  options.transactional = true;
  options.control = true;
  RecordBatchBuilder b(options);
  b.add(o.timestamp, Bytes(key, sizeof key), Bytes(value, sizeof value));
  return b.build();
}

}  // namespace kafkawire::protocol
