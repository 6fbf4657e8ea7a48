// libFuzzer target: `kafkawire explain` on an untrusted capture file. The pcap/pcapng reader and TCP
// reassembly (tools/kafkawire/capture.cpp), then the explainer on every frame it finds, as request and as
// the response it was paired with. Seeds: tests/golden/captures.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "../../tools/kafkawire/capture.hpp"
#include "kafkawire/protocol/explain.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string error;
  auto capture =
      kafkawire::cli::read_capture(std::string_view(reinterpret_cast<const char*>(data), size), error);
  if (!capture) return 0;
  for (const auto& f : capture->frames) {
    const kafkawire::protocol::Bytes view(f.bytes);
    auto e = f.request
                 ? kafkawire::protocol::explain_frame(view, kafkawire::protocol::FrameOptions::request())
                 : kafkawire::protocol::explain_frame(
                       view, kafkawire::protocol::FrameOptions::response(f.api_key, f.api_version));
    (void)kafkawire::protocol::to_text(e);
  }
  return 0;
}
