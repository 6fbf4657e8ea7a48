// libFuzzer target for one response decoder, chosen at compile time by KAFKAWIRE_FUZZ_MESSAGE (a type
// name such as FetchResponse). The first input byte picks the version; the rest is the body. The decoder
// must never crash, hang, over-read or allocate on the strength of a wire length; on success, encoding
// what it decoded and decoding that again must give the same struct.
#include <cstdint>
#include <cstdlib>

#include "kafkawire/protocol/apis.hpp"

using namespace kafkawire::protocol;
using M = KAFKAWIRE_FUZZ_MESSAGE;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int16_t span = M::max_version - M::min_version + 1;
  const int16_t version = static_cast<int16_t>(M::min_version + data[0] % span);
  M m;
  if (decode(Bytes(data + 1, size - 1), m, version)) return 0;
  std::error_code ec;
  const auto again = encode(m, version, &ec);
  if (ec) return 0;  // e.g. a tagged field the decoder skipped; nothing more to check
  M m2;
  if (decode(Bytes(again), m2, version) || !(m2 == m)) std::abort();
  return 0;
}
