// bench_decode: how fast RecordBatchReader turns `records` bytes into record views.
//
// Builds batches in memory (100 B and 1 KiB values; 16 KiB and 1 MiB batches; uncompressed, zstd with a
// content size as our builder writes it, and zstd frames without one as the Java producer writes them),
// then decodes the whole blob repeatedly with CRC checking on, and prints records/s and ns/record. For the
// zstd cases it also times raw libzstd decompression of the same payloads and prints our time over theirs.
//
// Times are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID), best of several runs, so other processes on
// a shared machine disturb them less than wall-clock time would. Nothing is asserted.
//
//   bench_decode [--quick] [--mib N]
//     --mib N   records per case, in MiB before compression (default 4: a fetch response's worth, which
//               stays in the last-level cache; 64 shows the decoder reading from DRAM)
#include <zstd.h>

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kafkawire/protocol/crc32c.hpp"
#include "kafkawire/protocol/record_batch.hpp"

using namespace kafkawire::protocol;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double g_min_run = 0.25;  // seconds of CPU per measurement
int g_runs = 5;

// Seconds per call of f: the best of g_runs runs of at least g_min_run each.
template <class F>
double best_seconds(F&& f) {
  f();  // warm up: caches, buffers, codec contexts
  double best = std::numeric_limits<double>::infinity();
  for (int run = 0; run < g_runs; ++run) {
    int calls = 0;
    const double t0 = cpu_seconds();
    double t = 0;
    do {
      f();
      ++calls;
      t = cpu_seconds() - t0;
    } while (t < g_min_run);
    best = std::min(best, t / calls);
  }
  return best;
}

enum class Mode { none, zstd, zstd_stream };

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::none:
      return "none";
    case Mode::zstd:
      return "zstd";
    case Mode::zstd_stream:
      return "zstd-nosize";
  }
  return "?";
}

// Values that compress like typical JSON events: fixed field names, varying digits.
std::string make_value(std::mt19937& rng, size_t size) {
  std::string v;
  v.reserve(size + 64);
  while (v.size() < size) {
    v += "{\"user\":\"u" + std::to_string(rng() % 100000) +
         "\",\"amount\":" + std::to_string(rng() % 100000) + "." + std::to_string(rng() % 100) +
         ",\"ok\":" + (rng() % 2 ? "true" : "false") + "}";
  }
  v.resize(size);
  return v;
}

struct Payload {  // one batch's compressed records, for the raw libzstd timing
  Bytes compressed;
  size_t decompressed = 0;
};

struct Data {
  std::vector<uint8_t> blob;  // the `records` bytes: batches back to back
  size_t records = 0;
  size_t batches = 0;
  size_t uncompressed_records_bytes = 0;                  // sum of the records sections before compression
  std::vector<std::pair<size_t, size_t>> payload_ranges;  // (offset in blob, length), zstd cases
  std::vector<size_t> payload_sizes;
};

// Builds batches of about `batch_bytes` (uncompressed) until `total` bytes of records exist.
Data build(Mode mode, size_t value_size, size_t batch_bytes, size_t total) {
  std::mt19937 rng(42);
  Data d;
  int64_t offset = 0;
  int64_t ts = 1'700'000'000'000;
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::vector<uint8_t> packed;
  while (d.uncompressed_records_bytes < total) {
    BatchOptions o;
    o.base_offset = offset;
    o.producer_id = 1000;
    o.producer_epoch = 0;
    o.base_sequence = static_cast<int32_t>(offset);
    o.compression = mode == Mode::zstd ? Compression::zstd : Compression::none;
    RecordBatchBuilder b(o);
    while (b.uncompressed_size() < batch_bytes) {
      const std::string key = "key-" + std::to_string(offset % 1000);
      const std::string value = make_value(rng, value_size);  // every value its own: no long repeats
      b.add(ts, Bytes(std::string_view(key)), Bytes(std::string_view(value)));
      ++offset;
      ts += rng() % 3;
    }
    d.records += static_cast<size_t>(b.count());
    d.uncompressed_records_bytes += b.uncompressed_size() - kBatchHeaderSize;
    ++d.batches;
    std::vector<uint8_t> batch = b.build();
    if (mode == Mode::zstd_stream) {
      // Re-compress the records section as a zstd frame without a content size, as zstd-jni's
      // ZstdOutputStream in the Java producer writes it, and fix up the header.
      const size_t n = batch.size() - kBatchHeaderSize;
      packed.resize(ZSTD_compressBound(n));
      ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 3);
      ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
      const size_t z = ZSTD_compress2(cctx, packed.data(), packed.size(), batch.data() + kBatchHeaderSize, n);
      batch.resize(kBatchHeaderSize);
      batch.insert(batch.end(), packed.begin(), packed.begin() + static_cast<ptrdiff_t>(z));
      batch[22] = static_cast<uint8_t>((batch[22] & ~0x7) | static_cast<int>(Compression::zstd));
      boost::endian::store_big_u32(batch.data() + 8, static_cast<uint32_t>(batch.size() - kBatchLogOverhead));
      boost::endian::store_big_u32(batch.data() + 17, crc32c(batch.data() + 21, batch.size() - 21));
    }
    if (mode != Mode::none) {
      d.payload_ranges.emplace_back(d.blob.size() + kBatchHeaderSize, batch.size() - kBatchHeaderSize);
      d.payload_sizes.push_back(b.uncompressed_size() - kBatchHeaderSize);
    }
    d.blob.insert(d.blob.end(), batch.begin(), batch.end());
  }
  ZSTD_freeCCtx(cctx);
  return d;
}

struct Sink {
  uint64_t sum = 0;
};

size_t decode_all(RecordBatchReader& reader, const std::vector<uint8_t>& blob, const ReadOptions& o,
                  Sink& sink) {
  reader.reset(Bytes(blob), o);
  RecordView rec;
  size_t n = 0;
  uint64_t sum = 0;
  while (reader.next(rec)) {
    sum += static_cast<uint64_t>(rec.offset) + rec.value->len + rec.key->len;
    ++n;
  }
  if (reader.error()) {
    std::fprintf(stderr, "decode error: %s at %lld\n", reader.error().message().c_str(),
                 static_cast<long long>(reader.error_offset()));
    std::exit(1);
  }
  sink.sum += sum;
  return n;
}

void print_machine() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      std::printf("cpu: %s\n", line.substr(line.find(':') + 2).c_str());
      break;
    }
  }
  std::ifstream loadavg("/proc/loadavg");
  if (std::getline(loadavg, line)) std::printf("load average: %s\n", line.c_str());
  std::printf("crc32c: %s; zstd %s\n", to_string(crc32c_implementation()), ZSTD_versionString());
}

void bench_crc(bool quick) {
  std::vector<uint8_t> buf(1 << 20);
  std::mt19937 rng(1);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  const std::vector<size_t> sizes = quick
                                        ? std::vector<size_t>{128, 1024, 1 << 20}
                                        : std::vector<size_t>{64, 128, 256, 512, 1024, 4096, 16384, 1 << 20};
  std::printf("\ncrc32c, GB/s by buffer size (the chosen one: %s)\n%-44s", to_string(crc32c_implementation()),
              "implementation");
  for (size_t n : sizes)
    std::printf(" %8s",
                n >= 1024 ? (std::to_string(n / 1024) + " KiB").c_str() : (std::to_string(n) + " B").c_str());
  std::printf("\n");
  for (Crc32cImpl impl : {Crc32cImpl::portable, Crc32cImpl::sse42, Crc32cImpl::avx512}) {
    if (!crc32c_supported(impl)) continue;
    std::printf("%-44s", to_string(impl));
    for (size_t n : sizes) {
      uint32_t c = 0;
      const double t = best_seconds([&] {
        for (size_t off = 0; off + n <= buf.size(); off += n) c = crc32c_using(impl, buf.data() + off, n, c);
      });
      std::printf(" %8.2f", static_cast<double>(buf.size() / n * n) / t / 1e9);
      if (c == 0x12345678) std::printf(" ");
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, crc_only = false;
  size_t total = 4u << 20;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      quick = true;
    } else if (std::strcmp(argv[i], "--crc") == 0) {
      crc_only = true;
    } else if (std::strcmp(argv[i], "--mib") == 0 && i + 1 < argc) {
      total = static_cast<size_t>(std::max(1, std::atoi(argv[++i]))) << 20;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--mib N] [--crc]\n", argv[0]);
      return 2;
    }
  }
  if (quick) {
    g_min_run = 0.05;
    g_runs = 2;
  }
  print_machine();
  if (crc_only) {
    bench_crc(quick);
    return 0;
  }
  std::printf(
      "each case: %zu MiB of records (uncompressed), decoded whole, CRC check on, best of %d runs\n\n",
      total >> 20, g_runs);
  std::printf("%-12s %6s %7s %8s %6s %9s %8s %9s %11s %11s\n", "codec", "value", "batch", "records", "ratio",
              "Mrec/s", "ns/rec", "MB/s", "raw zstd ns", "ours/raw");

  Sink sink;
  RecordBatchReader reader;
  for (Mode mode : {Mode::none, Mode::zstd, Mode::zstd_stream}) {
    for (size_t value_size : {size_t{100}, size_t{1024}}) {
      for (size_t batch_bytes : {size_t{16} << 10, size_t{1} << 20}) {
        const Data d = build(mode, value_size, batch_bytes, total);
        ReadOptions o;
        o.check_crcs = true;
        const double t = best_seconds([&] { decode_all(reader, d.blob, o, sink); });
        const double per_rec = t / static_cast<double>(d.records);
        char raw_col[32] = "-", ratio_col[32] = "-";
        if (mode != Mode::none) {
          // Raw libzstd: each batch's payload into a buffer of the right size, one reused context.
          ZSTD_DCtx* dctx = ZSTD_createDCtx();
          std::vector<uint8_t> out(*std::max_element(d.payload_sizes.begin(), d.payload_sizes.end()));
          const double raw = best_seconds([&] {
            for (size_t i = 0; i < d.payload_ranges.size(); ++i) {
              const auto [off, len] = d.payload_ranges[i];
              size_t r = 0;
              if (mode == Mode::zstd) {
                r = ZSTD_decompressDCtx(dctx, out.data(), out.size(), d.blob.data() + off, len);
              } else {
                ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only);
                ZSTD_inBuffer in{d.blob.data() + off, len, 0};
                ZSTD_outBuffer ob{out.data(), out.size(), 0};
                r = ZSTD_decompressStream(dctx, &ob, &in);
                r = ob.pos;
              }
              if (ZSTD_isError(r) || r != d.payload_sizes[i]) {
                std::fprintf(stderr, "raw zstd failed\n");
                std::exit(1);
              }
            }
          });
          ZSTD_freeDCtx(dctx);
          std::snprintf(raw_col, sizeof raw_col, "%.1f", raw / static_cast<double>(d.records) * 1e9);
          std::snprintf(ratio_col, sizeof ratio_col, "%.2fx", t / raw);
        }
        std::printf("%-12s %6zu %6zuK %8zu %5.2fx %9.1f %8.1f %9.0f %11s %11s\n", mode_name(mode), value_size,
                    batch_bytes >> 10, d.records,
                    static_cast<double>(d.uncompressed_records_bytes + d.batches * kBatchHeaderSize) /
                        static_cast<double>(d.blob.size()),
                    1e-6 / per_rec, per_rec * 1e9,
                    static_cast<double>(d.uncompressed_records_bytes) / t / 1e6, raw_col, ratio_col);
        std::fflush(stdout);
      }
    }
  }
  // The cost of the CRC itself: the 100 B / 1 MiB case without it.
  {
    const Data d = build(Mode::none, 100, 1 << 20, total);
    ReadOptions o;
    o.check_crcs = false;
    const double t = best_seconds([&] { decode_all(reader, d.blob, o, sink); });
    std::printf("\n%-34s %9.1f Mrec/s %6.1f ns/rec\n", "none, 100 B, 1 MiB, CRC off", d.records / t * 1e-6,
                t / static_cast<double>(d.records) * 1e9);
  }
  bench_crc(quick);
  std::printf(
      "\n(ratio: batch bytes before/after compression; MB/s: uncompressed records bytes per second;"
      " checksum %llu)\n",
      static_cast<unsigned long long>(sink.sum & 0xff));
  return 0;
}
