#include "capture.hpp"

#include <algorithm>
#include <boost/endian/conversion.hpp>
#include <cstring>
#include <map>
#include <tuple>

#include "kafkawire/protocol/explain.hpp"

namespace kafkawire::cli {

namespace {

// Kafka's own limit on a frame is socket.request.max.bytes (100 MiB by default); a size prefix past it means
// the bytes are not at a frame boundary.
constexpr uint32_t kMaxFrame = 100 * 1024 * 1024;

namespace be = boost::endian;

// Reads the file's integers in its own byte order (pcap and pcapng say theirs with a magic number).
struct FileReader {
  std::string_view data;
  bool swap = false;

  bool has(size_t at, size_t n) const { return at <= data.size() && n <= data.size() - at; }
  uint32_t u32(size_t at) const {
    uint32_t v;
    std::memcpy(&v, data.data() + at, 4);
    return swap ? be::endian_reverse(v) : v;
  }
  uint16_t u16(size_t at) const {
    uint16_t v;
    std::memcpy(&v, data.data() + at, 2);
    return swap ? be::endian_reverse(v) : v;
  }
};

struct Packet {
  double seconds = 0;
  uint32_t link_type = 0;
  bool cut = false;  // captured length < length on the wire (snaplen)
  std::string_view bytes;
};

// Link-layer types (tcpdump.org/linktypes.html) this reader understands.
enum : uint32_t {
  kLinkNull = 0,        // BSD loopback: 4-byte address family in the capturing host's order
  kLinkEthernet = 1,    // Ethernet II (Linux loopback too)
  kLinkRaw = 101,       // raw IPv4/IPv6 (also 12 and 14 on some systems)
  kLinkLoop = 108,      // OpenBSD loopback: 4-byte address family, network order
  kLinkLinuxSll = 113,  // Linux cooked capture v1 (tcpdump -i any)
  kLinkIpv4 = 228,
  kLinkIpv6 = 229,
  kLinkLinuxSll2 = 276,  // Linux cooked capture v2
};

// Where the IP header starts in a link-layer frame; nullopt when it is not IP.
std::optional<size_t> ip_offset(uint32_t link, std::string_view b) {
  const auto* p = reinterpret_cast<const uint8_t*>(b.data());
  switch (link) {
    case kLinkEthernet: {
      size_t at = 12;
      if (b.size() < 14) return std::nullopt;
      uint16_t type = be::load_big_u16(p + at);
      while ((type == 0x8100 || type == 0x88a8) && b.size() >= at + 6) {  // VLAN tags
        at += 4;
        type = be::load_big_u16(p + at);
      }
      if (type != 0x0800 && type != 0x86dd) return std::nullopt;
      return at + 2;
    }
    case kLinkNull:
    case kLinkLoop:
      return b.size() >= 4 ? std::optional<size_t>(4) : std::nullopt;  // the IP version says which
    case kLinkLinuxSll:
      if (b.size() < 16 || (be::load_big_u16(p + 14) != 0x0800 && be::load_big_u16(p + 14) != 0x86dd))
        return std::nullopt;
      return 16;
    case kLinkLinuxSll2:
      if (b.size() < 20 || (be::load_big_u16(p) != 0x0800 && be::load_big_u16(p) != 0x86dd))
        return std::nullopt;
      return 20;
    case kLinkRaw:
    case 12:
    case 14:
    case kLinkIpv4:
    case kLinkIpv6:
      return 0;
    default:
      return std::nullopt;
  }
}

std::string ipv4_text(const uint8_t* a) {
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

std::string ipv6_text(const uint8_t* a) {
  static const char* hex = "0123456789abcdef";
  std::string s = "[";
  for (int i = 0; i < 16; i += 2) {
    if (i) s += ':';
    const uint16_t w = be::load_big_u16(a + i);
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int d = (w >> shift) & 0xf;
      if (d || started || shift == 0) {
        s += hex[d];
        started = true;
      }
    }
  }
  return s + "]";
}

struct Segment {
  std::string from, to;
  uint32_t seq = 0;
  bool syn = false, ack = false;
  std::string_view payload;
};

// The TCP segment inside an IP packet; nullopt for anything else (other protocols, IP fragments).
std::optional<Segment> tcp_segment(std::string_view ip, std::vector<std::string>& warnings,
                                   size_t packet_no) {
  const auto* p = reinterpret_cast<const uint8_t*>(ip.data());
  if (ip.empty()) return std::nullopt;
  size_t tcp = 0, end = 0;
  std::string src, dst;
  if ((p[0] >> 4) == 4) {
    if (ip.size() < 20) return std::nullopt;
    const size_t ihl = static_cast<size_t>(p[0] & 0x0f) * 4;
    const size_t total = be::load_big_u16(p + 2);
    if (p[9] != 6 || ihl < 20) return std::nullopt;
    if ((be::load_big_u16(p + 6) & 0x3fff) != 0) {  // more-fragments flag or a fragment offset
      warnings.push_back("packet " + std::to_string(packet_no) + " is an IP fragment: skipped");
      return std::nullopt;
    }
    tcp = ihl;
    end = std::min(ip.size(), total);  // Ethernet pads short frames
    src = ipv4_text(p + 12);
    dst = ipv4_text(p + 16);
  } else if ((p[0] >> 4) == 6) {
    if (ip.size() < 40) return std::nullopt;
    uint8_t next = p[6];
    end = std::min(ip.size(), size_t{40} + be::load_big_u16(p + 4));
    tcp = 40;
    while (next == 0 || next == 43 || next == 60) {  // hop-by-hop, routing, destination options
      if (tcp + 8 > end) return std::nullopt;
      next = p[tcp];
      tcp += (static_cast<size_t>(p[tcp + 1]) + 1) * 8;
    }
    if (next == 44) {
      warnings.push_back("packet " + std::to_string(packet_no) + " is an IPv6 fragment: skipped");
      return std::nullopt;
    }
    if (next != 6) return std::nullopt;
    src = ipv6_text(p + 8);
    dst = ipv6_text(p + 24);
  } else {
    return std::nullopt;
  }
  if (tcp + 20 > end) return std::nullopt;
  const size_t data = tcp + static_cast<size_t>(p[tcp + 12] >> 4) * 4;
  if (data > end) return std::nullopt;
  Segment s;
  s.from = src + ":" + std::to_string(be::load_big_u16(p + tcp));
  s.to = dst + ":" + std::to_string(be::load_big_u16(p + tcp + 2));
  s.seq = be::load_big_u32(p + tcp + 4);
  s.syn = p[tcp + 13] & 0x02;
  s.ack = p[tcp + 13] & 0x10;
  s.payload = ip.substr(data, end - data);
  return s;
}

// One direction of a TCP connection, put back in sequence order.
struct Direction {
  std::string from, to;
  bool started = false;
  bool syn_without_ack = false;  // it opened the connection: the client
  uint32_t next = 0;             // sequence number of the next byte expected
  std::string data;
  std::vector<std::pair<size_t, double>> arrival;            // (data size after a segment, its time)
  std::map<uint32_t, std::pair<std::string, double>> ahead;  // segments past a gap, by sequence number

  static int32_t distance(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b); }

  void add(const Segment& s, double seconds) {
    if (s.syn) {
      syn_without_ack = syn_without_ack || !s.ack;
      started = true;
      next = s.seq + 1;
      drain();
      return;
    }
    if (s.payload.empty()) return;
    if (!started) {  // the capture began after the handshake: wait for finish() to find the first byte
      keep(s.seq, s.payload, seconds);
      return;
    }
    take(s.seq, s.payload, seconds);
    drain();
  }

  // After the last packet: a direction without a SYN starts at the lowest sequence number seen (its first
  // segments may have come out of order).
  void finish() {
    if (started || ahead.empty()) return;
    const uint32_t base = ahead.begin()->first;
    next = base;
    for (const auto& [seq, segment] : ahead)
      if (distance(seq, next) < 0) next = seq;
    started = true;
    drain();
  }

  // Takes the segments that were waiting for the bytes before them.
  void drain() {
    for (bool moved = true; moved && !ahead.empty();) {
      moved = false;
      for (auto it = ahead.begin(); it != ahead.end(); ++it) {
        if (distance(it->first, next) <= 0) {
          const auto [bytes, seconds] = std::move(it->second);
          const uint32_t seq = it->first;
          ahead.erase(it);
          take(seq, bytes, seconds);
          moved = true;
          break;
        }
      }
    }
  }

  void keep(uint32_t seq, std::string_view payload, double seconds) {
    auto& slot = ahead[seq];
    if (payload.size() > slot.first.size()) slot = {std::string(payload), seconds};
  }

  void take(uint32_t seq, std::string_view payload, double seconds) {
    const int32_t d = distance(seq, next);
    if (d > 0) {  // a gap: keep it until the missing bytes come (a retransmission, reordering)
      keep(seq, payload, seconds);
      return;
    }
    const size_t seen = static_cast<size_t>(-static_cast<int64_t>(d));
    if (seen >= payload.size()) return;  // a retransmission of bytes already here
    data.append(payload.substr(seen));
    next += static_cast<uint32_t>(payload.size() - seen);
    arrival.emplace_back(data.size(), seconds);
  }

  double time_of(size_t end_offset) const {
    auto it = std::lower_bound(arrival.begin(), arrival.end(), end_offset,
                               [](const auto& a, size_t v) { return a.first < v; });
    return it == arrival.end() ? (arrival.empty() ? 0 : arrival.back().second) : it->second;
  }
};

std::optional<std::vector<Packet>> read_pcap(std::string_view data, std::string& error) {
  FileReader r{data};
  // The magic number in the writer's byte order says both the order and the clock tick.
  uint32_t magic;
  std::memcpy(&magic, data.data(), 4);
  r.swap = magic != 0xa1b2c3d4 && magic != 0xa1b23c4d;
  if (r.swap) magic = be::endian_reverse(magic);
  const double tick = magic == 0xa1b23c4d ? 1e-9 : 1e-6;
  if (!r.has(0, 24)) {
    error = "pcap file shorter than its 24-byte header";
    return std::nullopt;
  }
  const uint32_t link = r.u32(20) & 0x0fffffff;  // the high bits may carry FCS information
  std::vector<Packet> out;
  double first = -1;
  for (size_t at = 24; at < data.size();) {
    if (!r.has(at, 16)) {
      error = "pcap record header cut at byte " + std::to_string(at);
      return std::nullopt;
    }
    const uint32_t captured = r.u32(at + 8), wire = r.u32(at + 12);
    if (!r.has(at + 16, captured)) {
      error = "pcap packet " + std::to_string(out.size() + 1) + " claims " + std::to_string(captured) +
              " bytes, past the end of the file";
      return std::nullopt;
    }
    const double t = r.u32(at) + r.u32(at + 4) * tick;
    if (first < 0) first = t;
    out.push_back({t - first, link, captured < wire, data.substr(at + 16, captured)});
    at += 16 + captured;
  }
  return out;
}

std::optional<std::vector<Packet>> read_pcapng(std::string_view data, std::string& error) {
  FileReader r{data};
  struct Interface {
    uint32_t link = 0;
    uint32_t snaplen = 0;
    double tick = 1e-6;
  };
  std::vector<Interface> interfaces;
  std::vector<Packet> out;
  double first = -1;
  for (size_t at = 0; at < data.size();) {
    if (!r.has(at, 12)) {
      error = "pcapng block header cut at byte " + std::to_string(at);
      return std::nullopt;
    }
    uint32_t type;
    std::memcpy(&type, data.data() + at, 4);  // 0x0a0d0d0a reads the same in both orders
    if (type == 0x0a0d0d0a) {                 // a section: its byte-order magic sets the order
      uint32_t bom;
      std::memcpy(&bom, data.data() + at + 8, 4);
      if (bom != 0x1a2b3c4d && bom != 0x4d3c2b1a) {
        error = "pcapng section header with a bad byte-order magic at byte " + std::to_string(at);
        return std::nullopt;
      }
      r.swap = bom == 0x4d3c2b1a;
      interfaces.clear();
    } else {
      type = r.u32(at);
    }
    const uint32_t length = r.u32(at + 4);
    if (length < 12 || length % 4 || !r.has(at, length)) {
      error = "pcapng block at byte " + std::to_string(at) + " has a bad length " + std::to_string(length);
      return std::nullopt;
    }
    const size_t body = at + 8, body_end = at + length - 4;
    if (type == 1 && body + 8 <= body_end) {  // interface description
      Interface i;
      i.link = r.u16(body);
      i.snaplen = r.u32(body + 4);
      for (size_t o = body + 8; o + 4 <= body_end;) {  // options: if_tsresol (9) changes the clock tick
        const uint16_t code = r.u16(o), len = r.u16(o + 2);
        if (code == 0 || o + 4 + len > body_end) break;
        if (code == 9 && len >= 1) {
          const uint8_t res = static_cast<uint8_t>(data[o + 4]);
          const int exp = res & 0x7f;
          i.tick = 1;
          for (int k = 0; k < exp; ++k) i.tick /= (res & 0x80) ? 2 : 10;
        }
        o += 4 + ((len + 3u) & ~3u);
      }
      interfaces.push_back(i);
    } else if (type == 6 && body + 20 <= body_end) {  // enhanced packet
      const uint32_t iface = r.u32(body);
      if (iface >= interfaces.size()) {
        error = "pcapng packet on interface " + std::to_string(iface) + " that was never described";
        return std::nullopt;
      }
      const uint64_t ts = uint64_t{r.u32(body + 4)} << 32 | r.u32(body + 8);
      const uint32_t captured = r.u32(body + 12), wire = r.u32(body + 16);
      if (body + 20 + captured > body_end) {
        error = "pcapng packet at byte " + std::to_string(at) + " runs past its block";
        return std::nullopt;
      }
      const double t = static_cast<double>(ts) * interfaces[iface].tick;
      if (first < 0) first = t;
      out.push_back({t - first, interfaces[iface].link, captured < wire, data.substr(body + 20, captured)});
    } else if (type == 3 && body + 4 <= body_end) {  // simple packet: interface 0, no timestamp
      if (interfaces.empty()) {
        error = "pcapng simple packet before any interface description";
        return std::nullopt;
      }
      const uint32_t wire = r.u32(body);
      uint32_t captured = std::min<uint32_t>(wire, static_cast<uint32_t>(body_end - body - 4));
      if (interfaces[0].snaplen) captured = std::min(captured, interfaces[0].snaplen);
      out.push_back({out.empty() ? 0 : out.back().seconds, interfaces[0].link, captured < wire,
                     data.substr(body + 4, captured)});
    }
    at += length;
  }
  return out;
}

}  // namespace

bool is_capture_file(std::string_view data) {
  if (data.size() < 4) return false;
  const uint32_t m = be::load_big_u32(reinterpret_cast<const uint8_t*>(data.data()));
  return m == 0xa1b2c3d4 || m == 0xd4c3b2a1 || m == 0xa1b23c4d || m == 0x4d3cb2a1 || m == 0x0a0d0d0a;
}

std::optional<CaptureResult> read_capture(std::string_view data, std::string& error) {
  if (!is_capture_file(data)) {
    error = "not a pcap or pcapng file";
    return std::nullopt;
  }
  const bool ng = be::load_big_u32(reinterpret_cast<const uint8_t*>(data.data())) == 0x0a0d0d0a;
  auto packets = ng ? read_pcapng(data, error) : read_pcap(data, error);
  if (!packets) return std::nullopt;

  CaptureResult result;
  std::map<std::pair<std::string, std::string>, Direction> directions;  // (from, to)
  std::vector<std::pair<std::string, std::string>> order;               // first seen first
  size_t cut_packets = 0, not_ip = 0;
  for (size_t i = 0; i < packets->size(); ++i) {
    const Packet& pk = (*packets)[i];
    const auto ip = ip_offset(pk.link_type, pk.bytes);
    if (!ip) {
      ++not_ip;
      continue;
    }
    auto seg = tcp_segment(pk.bytes.substr(*ip), result.warnings, i + 1);
    if (!seg) continue;
    if (pk.cut && !seg->payload.empty()) ++cut_packets;
    const auto key = std::make_pair(seg->from, seg->to);
    auto [it, fresh] = directions.try_emplace(key);
    if (fresh) {
      it->second.from = seg->from;
      it->second.to = seg->to;
      order.push_back(key);
    }
    it->second.add(*seg, pk.seconds);
  }
  for (auto& [key, d] : directions) d.finish();
  if (cut_packets)
    result.warnings.push_back(std::to_string(cut_packets) +
                              " packets were cut short by the capture's snap length: capture with -s 0");
  if (directions.empty()) {
    error = not_ip ? "no TCP packets in the capture (link type " + std::to_string((*packets)[0].link_type) +
                         " is not one kafkawire reads, or the packets are not IP)"
                   : "no TCP packets in the capture";
    return std::nullopt;
  }

  // Frames of each direction, then which side is the client: the one that sent the SYN, else the one whose
  // first frame reads as a request.
  struct Frames {
    std::vector<CapturedFrame> frames;
    bool client = false;
  };
  std::map<std::pair<std::string, std::string>, Frames> split;
  for (const auto& key : order) {
    Direction& d = directions[key];
    Frames& f = split[key];
    const std::string where = d.from + " -> " + d.to;
    if (!d.ahead.empty())
      result.warnings.push_back(where + ": bytes missing after stream byte " + std::to_string(d.data.size()) +
                                " (segments lost or not captured); the frames after the gap are left out");
    size_t at = 0;
    const auto* p = reinterpret_cast<const uint8_t*>(d.data.data());
    while (at + 4 <= d.data.size()) {
      const uint32_t size = be::load_big_u32(p + at);
      if (size > kMaxFrame) {
        result.warnings.push_back(where + ": stream byte " + std::to_string(at) +
                                  " is not the start of a Kafka frame (the capture began mid-connection?)");
        break;
      }
      if (at + 4 + size > d.data.size()) {
        result.warnings.push_back(where + ": the capture ends inside a " + std::to_string(size) +
                                  "-byte frame");
        break;
      }
      CapturedFrame c;
      c.from = d.from;
      c.to = d.to;
      c.seconds = d.time_of(at + 4 + size);
      c.bytes.assign(p + at, p + at + 4 + size);
      f.frames.push_back(std::move(c));
      at += 4 + size;
    }
    if (at < d.data.size() && at + 4 > d.data.size())
      result.warnings.push_back(where + ": the capture ends inside a frame's size");
  }
  for (auto& [key, f] : split) {
    const Direction& d = directions[key];
    const auto reverse = std::make_pair(key.second, key.first);
    const auto other = directions.find(reverse);
    if (d.syn_without_ack) {
      f.client = true;
    } else if (other != directions.end() && other->second.syn_without_ack) {
      f.client = false;
    } else if (!f.frames.empty()) {
      const auto& b = f.frames.front().bytes;
      f.client = protocol::looks_like_request(protocol::Bytes(b.data() + 4, b.size() - 4));
    }
  }
  for (auto& [key, f] : split) {
    if (!f.client) continue;
    std::map<int32_t, std::pair<int16_t, int16_t>> asked;  // correlation id -> (api key, version)
    for (auto& c : f.frames) {
      c.request = true;
      if (c.bytes.size() >= 12) {
        c.api_key = static_cast<int16_t>(be::load_big_u16(c.bytes.data() + 4));
        c.api_version = static_cast<int16_t>(be::load_big_u16(c.bytes.data() + 6));
        c.correlation_id = static_cast<int32_t>(be::load_big_u32(c.bytes.data() + 8));
        asked[c.correlation_id] = {c.api_key, c.api_version};
      }
    }
    auto answers = split.find(std::make_pair(key.second, key.first));
    if (answers == split.end()) continue;
    for (auto& c : answers->second.frames) {
      if (c.bytes.size() < 8) continue;
      c.correlation_id = static_cast<int32_t>(be::load_big_u32(c.bytes.data() + 4));
      if (auto it = asked.find(c.correlation_id); it != asked.end())
        std::tie(c.api_key, c.api_version) = it->second;
    }
  }
  for (auto& [key, f] : split)
    for (auto& c : f.frames) result.frames.push_back(std::move(c));
  std::stable_sort(result.frames.begin(), result.frames.end(),
                   [](const CapturedFrame& a, const CapturedFrame& b) {
                     // Same tick (loopback is fast): a request before the responses.
                     return a.seconds < b.seconds || (a.seconds == b.seconds && a.request && !b.request);
                   });
  return result;
}

}  // namespace kafkawire::cli
