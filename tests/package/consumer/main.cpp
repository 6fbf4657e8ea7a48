// Links kafkawire from another project and uses each layer a little, without a broker: parses a Config
// (and shows the error for a typo), builds a record batch with every codec the library has, reads it
// back with its CRC-32C checked, and prints what it found.
#include <cstdio>
#include <string_view>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/protocol/compression.hpp"
#include "kafkawire/protocol/crc32c.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace proto = kafkawire::protocol;
using namespace std::literals;

int main() {
  std::printf("linked with %s\n", HOW);
  kafkawire::Config cfg{{"bootstrap.servers", "127.0.0.1:9092"}, {"group.id", "billing"}};
  std::printf("config: group.id=%s fetch.max.wait.ms=%lld\n", cfg.group_id.c_str(),
              static_cast<long long>(cfg.fetch_max_wait.count()));
  try {
    kafkawire::Config bad{{"fetch.max.wait", "100"}};
    std::printf("config: a typo was accepted\n");
    return 1;
  } catch (const kafkawire::ConfigError& e) {
    std::printf("config error: %s\n", e.what());
  }

  int failures = 0;
  for (auto c : {proto::Compression::none, proto::Compression::gzip, proto::Compression::snappy,
                 proto::Compression::lz4, proto::Compression::zstd}) {
    const char* name = proto::compression_name(c).data();
    if (!proto::compression_available(c)) {
      std::printf("batch %s: not built in\n", name);
      continue;
    }
    proto::RecordBatchBuilder builder({.base_offset = 42, .compression = c});
    for (int i = 0; i < 3; ++i)
      builder.add(1700000000000 + i, proto::Bytes("key"sv), proto::Bytes("value"sv));
    const std::vector<uint8_t> batch = builder.build();
    proto::BatchHeader header;
    if (auto ec = proto::decode_batch_header(proto::Bytes(batch), header)) {
      std::printf("batch %s: header: %s\n", name, ec.message().c_str());
      return 1;
    }
    // The CRC covers everything from the attributes (byte 21) to the end of the batch.
    const uint32_t crc = proto::crc32c(batch.data() + 21, batch.size() - 21);
    proto::RecordBatchReader reader{proto::Bytes(batch)};
    proto::RecordView record;
    int read = 0;
    int64_t last = -1;
    while (reader.next(record)) ++read, last = record.offset;
    const bool ok = !reader.error() && read == 3 && last == 44 && crc == header.crc;
    std::printf("batch %s: %zu bytes, crc32c %08x (%s), %d records read back, last offset %lld: %s\n", name,
                batch.size(), header.crc, crc == header.crc ? "matches" : "MISMATCH", read,
                static_cast<long long>(last), ok ? "ok" : "FAILED");
    failures += !ok;
  }
  return failures ? 1 : 0;
}
