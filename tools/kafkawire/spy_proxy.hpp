// The decoding proxy behind `kafkawire spy`: a TCP proxy in front of a Kafka cluster that forwards bytes both
// ways, decodes every request and response it sees, and prints one line per request/response pair (and, with
// `explain`, the annotated tree of both frames).
//
// Forwarding: one upstream connection per client connection; frames are forwarded whole and in order, byte
// for byte, except in the responses that carry broker addresses. A frame it cannot decode is forwarded
// unchanged and reported as a decode error: the spy never breaks traffic. Frames above max_frame are streamed
// through without being buffered or decoded.
//
// Address rewriting, so that clients keep talking through the spy after their bootstrap:
//   - The spy listens on `listen` for the bootstrap broker (`upstream`).
//   - Every broker address the cluster advertises (Metadata Brokers, FindCoordinator v0-3 Host/Port and
//     v4+ Coordinators, Fetch v16+ and Produce v10+ NodeEndpoints) gets a listener of its own on the spy's
//     host, on a port the kernel picks, opened the first time the address is seen and kept for the life of
//     the spy. The address equal to `upstream` maps to `listen` itself. The map is keyed by the advertised
//     host:port, not by node id, so a node that moves gets a new listener and two names for one broker get
//     two (both correct).
//   - The response is decoded, the addresses replaced by the spy's host and the mapped port, re-encoded at
//     the same version with kafkawire's encoder, and framed with its new size.
//   - ApiVersions responses: Metadata and FindCoordinator max versions are capped at what kafkawire decodes,
//     so that the responses the spy must rewrite are always ones it can read. Nothing else is changed.
//
// Files, one job each: spy_proxy.cpp (listeners, accepting, the address map), spy_session.cpp (one client
// connection: forwarding, pairing requests and responses, the printed lines), spy_rewrite.cpp (what an
// address rewrite changes in each response), spy_summary.cpp (the one-line summaries and error scan).
//
// Threading: everything runs on the executor given (one io_context thread); the proxy starts no threads and
// resolves upstream names synchronously (numeric addresses need no resolver at all).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <system_error>
#include <vector>

namespace kafkawire::cli {

struct SpyOptions {
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 19092;  // 0: a port the kernel picks (see SpyProxy::endpoint())
  // The host written into rewritten responses; empty: listen_host, or 127.0.0.1 when that is a wildcard.
  std::string advertise_host;
  std::string upstream_host = "127.0.0.1";
  uint16_t upstream_port = 9092;
  bool explain = false;         // print the annotated tree of every (selected) request and response
  std::vector<int16_t> apis;    // print only these api keys (empty: all); every frame is still forwarded
  size_t max_frame = 64 << 20;  // larger frames are streamed through without decoding
  // Where the lines go (one call per line or tree, no trailing newline); default: stdout.
  std::function<void(const std::string&)> print;
  // When set, every frame is also written here as one line of text (see dump_line below), flushed at once:
  // requests as the client sent them, responses as the broker sent them (before any address rewriting),
  // except that the secrets in SaslAuthenticate auth bytes are replaced by '*' (spy_redact.hpp).
  std::ostream* dump = nullptr;
};

// The first line `kafkawire spy --dump` writes: what the columns of the frame lines mean.
inline constexpr const char* kDumpHeader =
    "# kafkawire spy frames: connection direction api_key api_version correlation_id hex (the frame with its "
    "4-byte size). Secrets in SaslAuthenticate auth bytes are replaced by '*' of the same length, and a # "
    "line "
    "before the frame says which";
// One dumped frame: "3 request 1 17 12 0000002c0001..." or "3 response 1 17 12 ...". A response's api key
// and version are those of the request it answers (-1 -1 when no request had its correlation id).
std::string dump_line(uint64_t connection, bool request, int16_t api_key, int16_t api_version,
                      int32_t correlation_id, const uint8_t* frame, size_t size);

struct SpyStats {
  uint64_t connections = 0;
  uint64_t requests = 0;
  uint64_t responses = 0;
  uint64_t decode_errors = 0;   // frames of an API/version kafkawire knows that did not decode
  uint64_t undecoded = 0;       // frames of an API or version kafkawire does not speak, or too large
  uint64_t rewritten = 0;       // responses whose broker addresses were rewritten
  uint64_t reencode_diffs = 0;  // rewritten responses whose untouched re-encoding differed from the original
};

class SpyProxy : public std::enable_shared_from_this<SpyProxy> {
 public:
  using executor_type = boost::asio::any_io_executor;

  static std::shared_ptr<SpyProxy> create(executor_type ex, SpyOptions options);
  ~SpyProxy();

  // Binds the bootstrap listener and starts accepting. An error when the address cannot be bound or the
  // upstream address is not valid.
  std::error_code start();
  // Closes every listener and connection; the executor's work then runs out.
  void stop();

  // Where clients bootstrap (the bound port when listen_port was 0).
  boost::asio::ip::tcp::endpoint endpoint() const;
  const SpyStats& stats() const { return stats_; }
  // "127.0.0.1:9092 -> 127.0.0.1:19092" per mapped broker address.
  std::vector<std::string> mappings() const;

 private:
  struct Listener;
  class Session;
  friend class Session;

  SpyProxy(executor_type ex, SpyOptions options);
  void accept(std::shared_ptr<Listener> l);
  // The local port that stands for an advertised broker address (opening a listener when needed); 0 when
  // no listener could be opened (the address is then left as it is).
  uint16_t local_port_for(const std::string& host, int32_t port);
  void print(const std::string& line) const;
  bool selected(int16_t api_key) const;

  executor_type ex_;
  SpyOptions options_;
  std::string advertise_;
  std::shared_ptr<Listener> bootstrap_;
  std::map<std::pair<std::string, int32_t>, std::shared_ptr<Listener>> listeners_;
  std::map<uint64_t, std::weak_ptr<Session>> sessions_;
  uint64_t next_session_ = 1;
  bool stopped_ = false;
  SpyStats stats_;
};

// "host:port" (IPv6 as [::1]:9092) to its parts; false when malformed.
bool parse_host_port(const std::string& s, std::string& host, uint16_t& port);

}  // namespace kafkawire::cli
