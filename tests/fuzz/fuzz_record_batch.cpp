// libFuzzer target for the RecordBatch v2 reader: any bytes, read as a Fetch `records` blob, with and
// without CRC checks, read_committed and a start offset taken from the input. It must never crash,
// over-read, hang or allocate past the decompression bound.
#include <cstdint>
#include <cstring>

#include "kafkawire/protocol/record_batch.hpp"

using namespace kafkawire::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  Bytes records(data + 1, size - 1);
  ReadOptions options;
  options.check_crcs = (mode & 1) != 0;  // off: the fuzzer reaches the record decoder past the CRC
  options.read_committed = (mode & 2) != 0;
  options.deliver_control = (mode & 4) != 0;
  options.start_offset = (mode & 8) ? 3 : 0;
  options.max_decompressed = 1 << 20;
  RecordBatchReader reader(records, options);
  if (options.read_committed) {
    const AbortedTransaction aborted[] = {{4242, 0}, {7, 5}};
    reader.set_aborted_transactions(aborted);
  }
  RecordView rec;
  size_t bytes = 0;
  while (reader.next(rec)) {
    if (rec.key) bytes += rec.key->size();
    if (rec.value) bytes += rec.value->size();
    for (auto [k, v] : rec.headers) bytes += k.size() + (v ? v->size() : 0);
  }
  return bytes == SIZE_MAX;  // keeps the reads from being optimised away
}
