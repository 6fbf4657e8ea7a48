// The records part of `kafkawire explain`: record batches (magic 2, and legacy message sets named but not
// decoded), their records and headers, and compressed blocks explained inside their decompressed bytes.
// explain.cpp explains the frames and messages around them and calls explain_records() for a `records`
// field.
#include <cstdio>
#include <functional>
#include <memory>

#include "kafkawire/protocol/batch_frames.hpp"
#include "kafkawire/protocol/compression.hpp"
#include "kafkawire/protocol/crc32c.hpp"
#include "kafkawire/protocol/explain.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::protocol {

namespace {

using explain_detail::plural;

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08x", v);
  return buf;
}

// Milliseconds since the epoch as ISO 8601 UTC (days-from-civil inverted; no clock, no locale).
std::string iso_time(int64_t ms) {
  int64_t days = ms / 86400000;
  int64_t rest = ms % 86400000;
  if (rest < 0) {
    rest += 86400000;
    --days;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[160];  // room for seven 64-bit numbers: GCC cannot bound the year, and warns at -O0 otherwise
  std::snprintf(buf, sizeof buf, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld.%03lldZ",
                static_cast<long long>(y), static_cast<long long>(m), static_cast<long long>(d),
                static_cast<long long>(rest / 3600000), static_cast<long long>(rest / 60000 % 60),
                static_cast<long long>(rest / 1000 % 60), static_cast<long long>(rest % 1000));
  return buf;
}

std::string timestamp_value(int64_t ms) {
  // Between 1990 and 2100: anything else is not a wall-clock time worth spelling out.
  if (ms >= 631152000000 && ms < 4102444800000) return std::to_string(ms) + " (" + iso_time(ms) + ")";
  return std::to_string(ms) + (ms == -1 ? " (none)" : "");
}

// Builds the nodes of record batches inside one space: the input (block 0, `base` = offset of data[0]) or
// a decompressed block.
class RecordsExplainer {
 public:
  RecordsExplainer(Explanation& out, const uint8_t* data, size_t base, uint32_t block)
      : out_(out), data_(data), base_(base), block_(block) {}

  // Batches in [begin, end) as children of node. Returns {batches, records}.
  std::pair<int64_t, int64_t> batches(ExplainNode& node, size_t begin, size_t end) {
    int64_t batches = 0, records = 0;
    BatchFrames frames(Bytes(data_ + begin, end - begin), LegacyFrames::deliver);
    for (const BatchFrame& f : frames) {
      const size_t pos = begin + f.position;
      const size_t size = f.bytes.len;
      const std::string name = "batch [" + std::to_string(batches) + "]";
      if (f.magic != kBatchMagic) {
        ExplainNode& b = add(node, name, "message set (magic " + std::to_string(f.magic) + ")", pos, size,
                             "not decoded: Kafka 4 writes record batches of magic 2 only");
        add(b, "offset", "int64", pos, 8, std::to_string(f.base_offset));
        add(b, "messageSize", "int32", pos + 8, 4, std::to_string(f.batch_length));
        add(b, "message", "legacy message", pos + 12, size - 12, "");
      } else {
        records += batch(add(node, name, "record batch v2", pos, size, ""), pos, size);
      }
      ++batches;
    }
    const size_t pos = begin + frames.position();
    const size_t rem = end - pos;
    const int32_t length = frames.failed().batch_length;
    if (frames.error()) {
      error(node, pos, rem,
            "batchLength " + std::to_string(length) +
                (length < 0                             ? " is negative"
                 : frames.failed().magic == kBatchMagic ? " is shorter than a batch header"
                                                        : " is shorter than a message header"));
    } else if (frames.truncated_tail()) {
      add(node, "incomplete batch", "truncated batch", pos, rem,
          rem < kBatchMagicOffset + 1 ? plural(static_cast<int64_t>(rem), "byte") +
                                            ": the start of a batch cut at the fetch size limit (ignored)"
                                      : "batchLength " + std::to_string(length) + " but only " +
                                            std::to_string(rem - kBatchLogOverhead) +
                                            " bytes follow: a batch cut at the fetch size limit (ignored)");
    }
    return {batches, records};
  }

 private:
  ExplainNode& add(ExplainNode& parent, std::string name, std::string type, size_t pos, size_t len,
                   std::string value) {
    ExplainNode& n = parent.children.emplace_back();
    n.name = std::move(name);
    n.type = std::move(type);
    n.value = std::move(value);
    n.offset = base_ + pos;
    n.length = len;
    n.raw = Bytes(data_ + pos, len);
    n.block = block_;
    return n;
  }
  void error(ExplainNode& parent, size_t pos, size_t len, std::string what) {
    add(parent, "error", "error", pos, len, std::move(what)).error = true;
  }

  // One magic-2 batch of `size` bytes at pos; returns the records it holds.
  int64_t batch(ExplainNode& b, size_t pos, size_t size) {
    BatchHeader h;
    decode_batch_header(Bytes(data_ + pos, size), h);
    const uint8_t* p = data_ + pos;
    add(b, "baseOffset", "int64", pos, 8, std::to_string(h.base_offset));
    add(b, "batchLength", "int32", pos + 8, 4, std::to_string(h.batch_length) + " (bytes after this field)");
    add(b, "partitionLeaderEpoch", "int32", pos + 12, 4, std::to_string(h.partition_leader_epoch));
    add(b, "magic", "int8", pos + 16, 1, std::to_string(h.magic));
    const uint32_t crc = crc32c(p + kBatchAttributesOffset, size - kBatchAttributesOffset);
    ExplainNode& c =
        add(b, "crc", "uint32 (crc32c)", pos + 17, 4,
            hex32(h.crc) + (crc == h.crc ? " (matches)" : " (MISMATCH: the bytes give " + hex32(crc) + ")"));
    c.error = crc != h.crc;
    const Compression codec = h.compression();
    std::string attrs =
        hex32(static_cast<uint16_t>(h.attributes)).replace(2, 4, "") + ": " +
        std::string(compression_name(codec)) +
        (h.timestamp_type() == TimestampType::log_append_time ? ", LogAppendTime" : ", CreateTime");
    if (h.is_transactional()) attrs += ", transactional";
    if (h.is_control()) attrs += ", control";
    if (h.has_delete_horizon()) attrs += ", delete horizon";
    add(b, "attributes", "int16", pos + 21, 2, attrs);
    add(b, "lastOffsetDelta", "int32", pos + 23, 4,
        std::to_string(h.last_offset_delta) + " (last offset " + std::to_string(h.last_offset()) + ")");
    add(b, "baseTimestamp", "int64", pos + 27, 8,
        h.has_delete_horizon() ? std::to_string(h.base_timestamp) + " (delete horizon)"
                               : timestamp_value(h.base_timestamp));
    add(b, "maxTimestamp", "int64", pos + 35, 8, timestamp_value(h.max_timestamp));
    add(b, "producerId", "int64", pos + 43, 8,
        std::to_string(h.producer_id) + (h.producer_id < 0 ? " (none)" : ""));
    add(b, "producerEpoch", "int16", pos + 51, 2, std::to_string(h.producer_epoch));
    add(b, "baseSequence", "int32", pos + 53, 4, std::to_string(h.base_sequence));
    add(b, "recordsCount", "int32", pos + 57, 4, std::to_string(h.records_count));
    b.value = "offsets " + std::to_string(h.base_offset) + "-" + std::to_string(h.last_offset()) + ", " +
              plural(h.records_count, "record") + ", " + std::string(compression_name(codec)) +
              (h.is_control() ? ", control" : "") + (h.is_transactional() ? ", transactional" : "");

    const size_t rpos = pos + kBatchHeaderSize;
    const size_t rlen = size - kBatchHeaderSize;
    if (h.records_count < 0) {
      error(b, rpos, rlen, "recordsCount " + std::to_string(h.records_count) + " is negative");
      return 0;
    }
    if (codec == Compression::none || rlen == 0) {
      if (rlen == 0 && h.records_count == 0) return 0;
      ExplainNode& rs = add(b, "records", "records[" + std::to_string(h.records_count) + "]", rpos, rlen, "");
      records(rs, rpos, rpos + rlen, h);
      return h.records_count;
    }
    ExplainNode& z = add(b, "compressed records", std::string(compression_name(codec)) + " block", rpos, rlen,
                         plural(static_cast<int64_t>(rlen), "byte") + " compressed");
    auto buffer = std::make_shared<std::vector<uint8_t>>();
    Decompressor d;
    if (auto ec = d.decompress(codec, Bytes(p + kBatchHeaderSize, rlen), *buffer)) {
      z.error = true;
      std::string why = unsupported_compression_message(codec);
      z.value += ": cannot decompress: " + (why.empty() ? ec.message() : why);
      return 0;
    }
    out_.blocks.push_back(buffer);
    const uint32_t id = static_cast<uint32_t>(out_.blocks.size());
    z.value += ", " + plural(static_cast<int64_t>(buffer->size()), "byte") + " decompressed";
    ExplainNode& dn = b.children.emplace_back();
    dn.name = "decompressed records";
    dn.type = "records[" + std::to_string(h.records_count) + "], decompressed";
    dn.value = "offsets (marked ~) count from the start of the decompressed block";
    dn.offset = 0;
    dn.length = buffer->size();
    dn.raw = Bytes(*buffer);
    dn.block = id;
    RecordsExplainer inner(out_, buffer->data(), 0, id);
    inner.records(dn, 0, buffer->size(), h);
    return h.records_count;
  }

  // A zigzag varint field as a leaf; nullptr (and an error node over [p, end)) when it does not parse.
  template <class T>
  const uint8_t* varint(ExplainNode& parent, const char* name, const uint8_t* p, const uint8_t* end, T& v,
                        const std::function<std::string(T)>& text = {}) {
    const uint8_t* q;
    if constexpr (sizeof(T) == 8)
      q = detail::read_varlong(p, end, v);
    else
      q = detail::read_varint(p, end, v);
    if (!q) {
      error(parent, pos(p), static_cast<size_t>(end - p),
            std::string(name) + ": a varint that runs past its record");
      return nullptr;
    }
    add(parent, name, sizeof(T) == 8 ? "varlong" : "varint", pos(p), static_cast<size_t>(q - p),
        text ? text(v) : std::to_string(v));
    return q;
  }
  size_t pos(const uint8_t* p) const { return static_cast<size_t>(p - data_); }

  // keyLength + key style fields: returns the position after, or nullptr after an error node.
  const uint8_t* length_field(ExplainNode& parent, const char* len_name, const char* name, const uint8_t* p,
                              const uint8_t* end, bool nullable, std::optional<Bytes>& out,
                              const std::function<std::string(Bytes)>& text) {
    int32_t n = 0;
    const uint8_t* q = varint<int32_t>(parent, len_name, p, end, n, [&](int32_t v) {
      return v == -1 ? std::string("-1 (null)") : std::to_string(v);
    });
    if (!q) return nullptr;
    if (n < -1 || (n == -1 && !nullable) || n > end - q) {
      error(parent, pos(q), static_cast<size_t>(end - q),
            std::string(len_name) + " " + std::to_string(n) +
                (n > end - q ? " runs past the record" : " is not allowed"));
      return nullptr;
    }
    if (n < 0) {
      out.reset();
      return q;
    }
    out.emplace(q, static_cast<size_t>(n));
    if (n > 0) add(parent, name, "bytes", pos(q), static_cast<size_t>(n), text(*out));
    return q + n;
  }

  void records(ExplainNode& node, size_t begin, size_t end, const BatchHeader& h) {
    const uint8_t* p = data_ + begin;
    const uint8_t* const e = data_ + end;
    int32_t j = 0;
    for (; p < e && j < h.records_count; ++j) {
      const uint8_t* next = record(node, p, e, h, j);
      if (!next) return;
      p = next;
    }
    if (j < h.records_count)
      error(node, pos(p), 0,
            "recordsCount is " + std::to_string(h.records_count) + " but the records end after " +
                std::to_string(j));
    else if (p < e)
      error(node, pos(p), static_cast<size_t>(e - p),
            plural(e - p, "byte") + " after the last of " + plural(h.records_count, "record"));
  }

  // One record at p; the position after it, or nullptr when the rest cannot be read.
  const uint8_t* record(ExplainNode& parent, const uint8_t* p, const uint8_t* end, const BatchHeader& h,
                        int32_t j) {
    int32_t len = 0;
    const uint8_t* q = detail::read_varint(p, end, len);
    if (!q || len < 6 || len > end - q) {
      error(parent, pos(p), static_cast<size_t>(end - p),
            q ? "record length " + std::to_string(len) +
                    (len > end - q ? " runs past the end" : " is too small")
              : std::string("record length: a varint that runs past the end"));
      return nullptr;
    }
    const uint8_t* const rend = q + len;
    ExplainNode& r = add(parent, "record [" + std::to_string(j) + "]", "record", pos(p),
                         static_cast<size_t>(rend - p), "");
    add(r, "length", "varint", pos(p), static_cast<size_t>(q - p), std::to_string(len));
    p = q;
    add(r, "attributes", "int8", pos(p), 1, std::to_string(static_cast<int8_t>(*p)));
    ++p;
    const bool log_append = h.timestamp_type() == TimestampType::log_append_time;
    int64_t ts_delta = 0;
    int32_t offset_delta = 0;
    if (!(p = varint<int64_t>(r, "timestampDelta", p, rend, ts_delta, [&](int64_t v) {
            return std::to_string(v) + " (timestamp " +
                   (log_append ? timestamp_value(h.max_timestamp) + ", LogAppendTime"
                               : timestamp_value(detail::wrapping_add(h.base_timestamp, v))) +
                   ")";
          })))
      return rend;
    if (!(p = varint<int32_t>(r, "offsetDelta", p, rend, offset_delta, [&](int32_t v) {
            return std::to_string(v) + " (offset " + std::to_string(detail::wrapping_add(h.base_offset, v)) +
                   ")";
          })))
      return rend;
    const int64_t offset = detail::wrapping_add(h.base_offset, offset_delta);
    std::optional<Bytes> key, value;
    const bool control = h.is_control();
    if (!(p = length_field(r, "keyLength", "key", p, rend, true, key, [&](Bytes b) {
            if (control) {
              if (auto k = parse_control_key(b)) {
                const char* names[] = {"ABORT", "COMMIT", "LEADER_CHANGE", "SNAPSHOT_HEADER",
                                       "SNAPSHOT_FOOTER"};
                return "control key v" + std::to_string(k->version) + " type " + std::to_string(k->type) +
                       (k->type >= 0 && k->type < 5 ? std::string(" (") + names[k->type] + ")"
                                                    : std::string());
              }
            }
            return explain_detail::bytes_value(b);
          })))
      return rend;
    if (!(p = length_field(r, "valueLength", "value", p, rend, true, value, [&](Bytes b) {
            if (control && key) {
              auto k = parse_control_key(key);
              if (k && (k->is_abort() || k->is_commit())) {
                if (auto m = parse_end_txn_marker(b))
                  return "end txn marker v" + std::to_string(m->version) + ", coordinator epoch " +
                         std::to_string(m->coordinator_epoch);
              }
            }
            return explain_detail::bytes_value(b);
          })))
      return rend;
    int32_t nh = 0;
    if (!(p = varint<int32_t>(r, "headersCount", p, rend, nh))) return rend;
    if (nh < 0) {
      error(r, pos(p), static_cast<size_t>(rend - p), "headersCount " + std::to_string(nh) + " is negative");
      return rend;
    }
    for (int32_t i = 0; i < nh; ++i) {
      const uint8_t* hs = p;
      ExplainNode& hn = add(r, "header [" + std::to_string(i) + "]", "header", pos(p), 0, "");
      std::optional<Bytes> hk, hv;
      p = length_field(hn, "headerKeyLength", "headerKey", p, rend, false, hk,
                       [](Bytes b) { return explain_detail::quote(b.str()); });
      if (p)
        p = length_field(hn, "headerValueLength", "headerValue", p, rend, true, hv,
                         explain_detail::bytes_value);
      const uint8_t* he = p ? p : rend;
      hn.length = static_cast<size_t>(he - hs);
      hn.raw = Bytes(hs, hn.length);
      if (!p) return rend;
      hn.value = explain_detail::quote(hk->str()) + " = " + (hv ? explain_detail::bytes_value(*hv) : "null");
    }
    if (p != rend)
      error(r, pos(p), static_cast<size_t>(rend - p),
            plural(rend - p, "byte") + " left in the record after its headers");
    r.value = "offset " + std::to_string(offset) + ", key " +
              (key ? explain_detail::bytes_value(*key) : "null") + ", value " +
              (value ? explain_detail::bytes_value(*value) : "null") +
              (nh ? ", " + plural(nh, "header") : "");
    return rend;
  }

  Explanation& out_;
  const uint8_t* data_;
  size_t base_;
  uint32_t block_;
};

}  // namespace

namespace explain_detail {

void explain_records(ExplainNode& node, Bytes data, size_t offset, uint32_t block, Explanation& out) {
  if (data.len == 0) {
    node.value = "no batches";
    return;
  }
  RecordsExplainer rx(out, data.ptr, offset, block);
  auto [batches, records] = rx.batches(node, 0, data.len);
  node.value =
      std::to_string(batches) + (batches == 1 ? " batch, " : " batches, ") + plural(records, "record");
}

}  // namespace explain_detail

}  // namespace kafkawire::protocol
