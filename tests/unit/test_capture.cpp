// `kafkawire explain` on capture files: a real tcpdump capture of the kafkawire CLI producing and consuming
// against Apache Kafka (tests/golden/captures/produce_consume.pcap), and synthetic captures built here from
// its frames in the other formats (pcapng, Linux cooked v2, BSD loopback, IPv6) with TCP segments split,
// reordered, retransmitted and lost.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <string>

#include "../../tools/kafkawire/capture.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"

using kafkawire::cli::CapturedFrame;
using kafkawire::cli::read_capture;
namespace proto = kafkawire::protocol;

namespace {

std::string real_capture() {
  std::ifstream in(KAFKAWIRE_GOLDEN_DIR "/captures/produce_consume.pcap", std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void put16(std::string& s, uint16_t v) {
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v);
}
void put32(std::string& s, uint32_t v) {
  put16(s, static_cast<uint16_t>(v >> 16));
  put16(s, static_cast<uint16_t>(v));
}
// Little-endian, for the file headers of a capture written on a little-endian host.
void le16(std::string& s, uint16_t v) {
  s += static_cast<char>(v);
  s += static_cast<char>(v >> 8);
}
void le32(std::string& s, uint32_t v) {
  le16(s, static_cast<uint16_t>(v));
  le16(s, static_cast<uint16_t>(v >> 16));
}

enum class Link { ethernet_ipv4, sll2_ipv6, bsd_loopback_ipv4 };

// One TCP segment wrapped in IP and a link-layer header.
std::string packet(Link link, bool from_client, uint32_t seq, uint8_t flags, std::string_view payload) {
  std::string tcp;
  put16(tcp, from_client ? 50000 : 9092);
  put16(tcp, from_client ? 9092 : 50000);
  put32(tcp, seq);
  put32(tcp, 0);
  tcp += static_cast<char>(5 << 4);
  tcp += static_cast<char>(flags);
  put16(tcp, 65535);
  put32(tcp, 0);  // checksum, urgent pointer: not checked
  tcp.append(payload);
  std::string ip;
  if (link == Link::sll2_ipv6) {
    put32(ip, 6u << 28);
    put16(ip, static_cast<uint16_t>(tcp.size()));
    ip += static_cast<char>(6);  // next header: TCP
    ip += static_cast<char>(64);
    for (int side = 0; side < 2; ++side) {
      std::string a(16, '\0');
      a[15] = static_cast<char>((side == 0) == from_client ? 1 : 2);
      ip += a;
    }
  } else {
    ip += static_cast<char>(0x45);
    ip += '\0';
    put16(ip, static_cast<uint16_t>(20 + tcp.size()));
    put32(ip, 0);  // id, flags, fragment offset
    ip += static_cast<char>(64);
    ip += static_cast<char>(6);
    put16(ip, 0);
    put32(ip, from_client ? 0x0a000001 : 0x0a000002);
    put32(ip, from_client ? 0x0a000002 : 0x0a000001);
  }
  ip += tcp;
  std::string out;
  switch (link) {
    case Link::ethernet_ipv4:
      out.append(12, '\x02');
      put16(out, 0x0800);
      out += ip;
      out.append(4, '\0');  // Ethernet padding past the IP length must be ignored
      break;
    case Link::sll2_ipv6:
      put16(out, 0x86dd);
      out.append(18, '\0');
      out += ip;
      break;
    case Link::bsd_loopback_ipv4:
      le32(out, 2);  // AF_INET in the host's order
      out += ip;
      break;
  }
  return out;
}

uint32_t link_type(Link l) { return l == Link::ethernet_ipv4 ? 1 : l == Link::sll2_ipv6 ? 276 : 0; }

std::string pcap(Link link, const std::vector<std::string>& packets) {
  std::string f;
  le32(f, 0xa1b2c3d4);
  le16(f, 2);
  le16(f, 4);
  le32(f, 0);
  le32(f, 0);
  le32(f, 262144);
  le32(f, link_type(link));
  uint32_t usec = 0;
  for (const auto& p : packets) {
    le32(f, 1000);
    le32(f, usec += 10);
    le32(f, static_cast<uint32_t>(p.size()));
    le32(f, static_cast<uint32_t>(p.size()));
    f += p;
  }
  return f;
}

// pcapng written big-endian (the byte-order magic says so), one interface with a nanosecond clock.
std::string pcapng(Link link, const std::vector<std::string>& packets) {
  auto block = [](uint32_t type, const std::string& body) {
    std::string b;
    std::string padded = body;
    while (padded.size() % 4) padded += '\0';
    put32(b, type);
    put32(b, static_cast<uint32_t>(12 + padded.size()));
    b += padded;
    put32(b, static_cast<uint32_t>(12 + padded.size()));
    return b;
  };
  std::string shb;
  put32(shb, 0x1a2b3c4d);
  put16(shb, 1);
  put16(shb, 0);
  put32(shb, 0xffffffff);
  put32(shb, 0xffffffff);
  std::string idb;
  put16(idb, static_cast<uint16_t>(link_type(link)));
  put16(idb, 0);
  put32(idb, 0);
  put16(idb, 9);  // if_tsresol: 10^-9
  put16(idb, 1);
  idb += static_cast<char>(9);
  idb.append(3, '\0');
  put32(idb, 0);  // opt_endofopt
  std::string f = block(0x0a0d0d0a, shb) + block(1, idb);
  uint64_t ns = 0;
  for (const auto& p : packets) {
    std::string epb;
    put32(epb, 0);
    ns += 1000;
    put32(epb, static_cast<uint32_t>(ns >> 32));
    put32(epb, static_cast<uint32_t>(ns));
    put32(epb, static_cast<uint32_t>(p.size()));
    put32(epb, static_cast<uint32_t>(p.size()));
    epb += p;
    f += block(6, epb);
  }
  return f;
}

// The frames of the real capture's first connection that have a request and its response.
std::vector<CapturedFrame> some_frames() {
  std::string error;
  auto c = read_capture(real_capture(), error);
  REQUIRE(c);
  std::vector<CapturedFrame> out;
  const std::string client = c->frames.at(0).from;
  for (const auto& f : c->frames)
    if (f.from == client || f.to == client) out.push_back(f);
  return out;
}

// Packets carrying `frames` (alternating request/response as captured) over one connection: the handshake,
// then each frame cut into segments of `chunk` bytes, every odd-numbered segment sent after the next one
// (reordering) and every third sent twice (retransmission).
std::vector<std::string> packets_for(Link link, const std::vector<CapturedFrame>& frames, size_t chunk,
                                     bool handshake = true, bool shuffle = true) {
  std::vector<std::string> out;
  uint32_t seq[2] = {1000, 70000};
  if (handshake) {
    out.push_back(packet(link, true, seq[0]++, 0x02, {}));
    out.push_back(packet(link, false, seq[1]++, 0x12, {}));
  }
  for (const auto& f : frames) {
    const int side = f.request ? 0 : 1;
    const std::string bytes(f.bytes.begin(), f.bytes.end());
    std::vector<std::string> segs;
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      segs.push_back(packet(link, f.request, seq[side], 0x18, std::string_view(bytes).substr(at, chunk)));
      seq[side] += static_cast<uint32_t>(std::min(chunk, bytes.size() - at));
    }
    for (size_t i = 0; i < segs.size(); ++i) {
      if (!shuffle) {
        out.push_back(segs[i]);
        continue;
      }
      if (i % 2 == 0 && i + 1 < segs.size()) {
        out.push_back(segs[i + 1]);
        out.push_back(segs[i]);
        ++i;
      } else {
        out.push_back(segs[i]);
      }
      if (i % 3 == 0) out.push_back(segs[i]);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a real tcpdump capture of produce and consume: every frame paired and explained", "[capture]") {
  std::string error;
  auto c = read_capture(real_capture(), error);
  REQUIRE(c);
  CHECK(c->warnings.empty());
  REQUIRE(c->frames.size() == 30);
  std::map<std::string, int> apis;
  bool saw_hello_produced = false, saw_hello_fetched = false;
  for (const auto& f : c->frames) {
    INFO(f.from << " -> " << f.to << " api " << f.api_key << " v" << f.api_version);
    REQUIRE(f.api_key >= 0);  // every response's request is in the capture
    CHECK(f.request == (f.to == "127.0.0.1:39692"));
    const auto e = f.request ? proto::explain_frame(proto::Bytes(f.bytes), proto::FrameOptions::request())
                             : proto::explain_frame(proto::Bytes(f.bytes),
                                                    proto::FrameOptions::response(f.api_key, f.api_version));
    CHECK(e.ok());
    const std::string text = proto::to_text(e);
    if (f.request && f.api_key == 0) saw_hello_produced = text.find("value \"hello\"") != std::string::npos;
    if (!f.request && f.api_key == 1) saw_hello_fetched = text.find("value \"hello\"") != std::string::npos;
    ++apis[std::string(proto::api_name(f.api_key)) + (f.request ? " request" : " response")];
  }
  CHECK(saw_hello_produced);
  CHECK(saw_hello_fetched);
  // Requests and responses pair up one to one.
  for (const char* api : {"ApiVersions", "Metadata", "Produce", "ListOffsets", "Fetch"})
    CHECK(apis[std::string(api) + " request"] == apis[std::string(api) + " response"]);
  CHECK(apis["Produce request"] == 1);
  CHECK(apis["Fetch request"] == 1);
  // In time order, each response after its request.
  for (size_t i = 1; i < c->frames.size(); ++i) CHECK(c->frames[i - 1].seconds <= c->frames[i].seconds);
}

TEST_CASE("captures in other formats and link layers, with TCP segments out of order", "[capture]") {
  const auto frames = some_frames();
  REQUIRE(frames.size() >= 4);
  for (Link link : {Link::ethernet_ipv4, Link::sll2_ipv6, Link::bsd_loopback_ipv4}) {
    for (bool ng : {false, true}) {
      for (size_t chunk : {size_t{7}, size_t{100}, size_t{5000}}) {
        INFO("link " << static_cast<int>(link) << " pcapng " << ng << " chunk " << chunk);
        const auto packets = packets_for(link, frames, chunk);
        std::string error;
        auto c = read_capture(ng ? pcapng(link, packets) : pcap(link, packets), error);
        REQUIRE(c);
        CHECK(c->warnings.empty());
        REQUIRE(c->frames.size() == frames.size());
        for (size_t i = 0; i < frames.size(); ++i) {
          CHECK(c->frames[i].bytes == frames[i].bytes);
          CHECK(c->frames[i].request == frames[i].request);
          CHECK(c->frames[i].api_key == frames[i].api_key);
          CHECK(c->frames[i].api_version == frames[i].api_version);
        }
        if (link == Link::sll2_ipv6) CHECK(c->frames[0].from == "[0:0:0:0:0:0:0:1]:50000");
      }
    }
  }
}

TEST_CASE("a capture without the handshake finds the client from its requests", "[capture]") {
  const auto frames = some_frames();
  std::string error;
  auto c =
      read_capture(pcap(Link::ethernet_ipv4, packets_for(Link::ethernet_ipv4, frames, 50, false)), error);
  REQUIRE(c);
  REQUIRE(c->frames.size() == frames.size());
  CHECK(c->frames[0].request);
  CHECK(c->frames[0].from == "10.0.0.1:50000");
  CHECK_FALSE(c->frames[1].request);
  CHECK(c->frames[1].api_key == frames[1].api_key);
}

TEST_CASE("lost segments, a capture ending inside a frame, and broken files are reported", "[capture]") {
  const auto frames = some_frames();
  // In order, one packet per frame: SYN, SYN-ACK, request, response, request, ...
  auto packets = packets_for(Link::ethernet_ipv4, frames, 2000, true, false);
  std::string error;
  SECTION("a lost segment: the frames before the gap, and a warning") {
    // Drop the first response.
    auto lost = packets;
    lost.erase(lost.begin() + 3);
    auto c = read_capture(pcap(Link::ethernet_ipv4, lost), error);
    REQUIRE(c);
    REQUIRE_FALSE(c->warnings.empty());
    CHECK(c->warnings[0].find("bytes missing") != std::string::npos);
    for (const auto& f : c->frames) CHECK(f.request);  // nothing of the server's side after the gap
  }
  SECTION("the capture ends inside a frame") {
    auto cut = packets;
    cut.resize(3);
    std::string one = cut[2];                    // the request's only packet: keep all but its last 5 bytes
    cut[2] = one.substr(0, one.size() - 4 - 5);  // without the Ethernet padding and 5 bytes of the frame
    auto c = read_capture(pcap(Link::ethernet_ipv4, cut), error);
    REQUIRE(c);
    CHECK(c->frames.empty());
    REQUIRE(c->warnings.size() == 1);
    CHECK(c->warnings[0].find("ends inside") != std::string::npos);
  }
  SECTION("a truncated file") {
    std::string file = pcap(Link::ethernet_ipv4, packets);
    file.resize(file.size() - 3);
    CHECK_FALSE(read_capture(file, error));
    CHECK(error.find("past the end of the file") != std::string::npos);
  }
  SECTION("not a capture") {
    CHECK_FALSE(read_capture("hello world", error));
    CHECK(error == "not a pcap or pcapng file");
  }
  SECTION("a link type nobody reads") {
    std::string file = pcap(Link::ethernet_ipv4, packets);
    file[20] = 99;  // link type 99
    CHECK_FALSE(read_capture(file, error));
    CHECK(error.find("link type 99") != std::string::npos);
  }
}
