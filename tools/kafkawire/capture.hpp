// Packet capture files (pcap from tcpdump -w, pcapng from tshark/Wireshark -w) to Kafka frames, for
// `kafkawire explain --file capture.pcap`: packets are taken apart (Ethernet, Linux cooked, BSD loopback or
// raw IP; IPv4/IPv6; TCP), each TCP direction is put back in sequence order, cut into size-prefixed
// Kafka frames, and every response is paired with its request by correlation id, so it can be decoded
// with the API and version of the request it answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kafkawire::cli {

// One Kafka frame found in a capture, with its 4-byte size.
struct CapturedFrame {
  std::string from;  // "127.0.0.1:51234"
  std::string to;
  bool request = false;
  double seconds = 0;  // when its last byte was captured, from the first packet of the capture
  // The request's API and version; for a response, those of the request with its correlation id (-1 when
  // that request is not in the capture).
  int16_t api_key = -1;
  int16_t api_version = -1;
  int32_t correlation_id = 0;
  std::vector<uint8_t> bytes;
};

struct CaptureResult {
  std::vector<CapturedFrame> frames;  // in capture order
  std::vector<std::string> warnings;  // lost segments, a stream starting inside a frame, cut packets, ...
};

// Whether the bytes start like a pcap or pcapng file.
bool is_capture_file(std::string_view data);

// The Kafka frames of every TCP connection in the capture. An unreadable file gives nullopt and `error`.
std::optional<CaptureResult> read_capture(std::string_view data, std::string& error);

}  // namespace kafkawire::cli
