// `kafkawire spy`: a decoding proxy in front of a broker (the proxy itself is spy_proxy.hpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <streambuf>
#include <string>

#include "commands.hpp"
#include "explain_html.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "spy_proxy.hpp"

namespace kafkawire::cli {

namespace {

constexpr const char* kUsage =
    R"USAGE(usage: kafkawire spy --upstream HOST:PORT [--listen HOST:PORT] [options]

A proxy between Kafka clients and a broker that prints what goes through it. Point the clients'
bootstrap.servers at the --listen address.

  --listen HOST:PORT    where clients connect (default 127.0.0.1:19092)
  --upstream HOST:PORT  the bootstrap broker (default 127.0.0.1:9092)
  --advertise HOST      the host put into rewritten broker addresses (default: the --listen host;
                        127.0.0.1 when that is 0.0.0.0 or ::)
  --explain             also print the annotated tree of every request and response
  --api LIST            print only these APIs: names or keys, comma separated (Fetch,JoinGroup,3)
  --max-frame BYTES     frames larger than this are streamed through without decoding (default 64 MiB)
  --dump FILE           also write every frame to FILE, one line each: connection, request|response,
                        api key, api version, correlation id, then the whole frame in hex (size
                        included). Requests as the client sent them, responses as the broker sent them
                        (before any rewriting). A response carries its request's api key and version, so
                        `kafkawire explain --response --api KEY --version V` can read it. Lines starting
                        with # are comments. `-` writes to stdout instead of the summary lines.
                        SaslAuthenticate auth bytes may hold a password or a token: what is secret
                        in them is replaced by '*' of the same length (PLAIN: the password; SCRAM:
                        the proof p= and the server signature v=; OAUTHBEARER: the token; another
                        mechanism: every byte), and a # line before the frame says what was.
  --html OUT.html       when the spy stops, write the wire explorer of every frame it saw to OUT.html
                        (what `kafkawire explain --html` writes: one self-contained page with the
                        conversation, and each frame's bytes beside its field tree). The frames are kept
                        in memory until then, as --dump writes them (SASL secrets replaced).

Every frame is forwarded unchanged, except in responses that name brokers: in Metadata,
FindCoordinator and the NodeEndpoints of Fetch and Produce every advertised broker address is replaced by
one of the spy's (each broker gets a listener of its own on the --listen host, on a port the kernel picks;
the --upstream broker maps to --listen), so the clients keep talking through the spy; and ApiVersions
responses cap Metadata and FindCoordinator at the versions kafkawire decodes. A frame that does not
decode is forwarded unchanged and reported as a decode error.

One line per request/response pair:
  #3 Fetch v17 corr=12 -> 1532 B, fetching 3 partitions, 2 topics, 3 partitions, 1 batch 10 records, 14 ms
(#3 is the client connection). Ctrl-C or SIGTERM stops it.
)USAGE";

int usage_error(const std::string& what) {
  std::cerr << "kafkawire spy: " << what << "\n(see kafkawire spy --help)\n";
  return 2;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Writes what it is given to two stream buffers (the first may be null).
class TeeBuf : public std::streambuf {
 public:
  TeeBuf(std::streambuf* a, std::streambuf* b) : a_(a), b_(b) {}

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    const char ch = static_cast<char>(c);
    return xsputn(&ch, 1) == 1 ? c : traits_type::eof();
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    if (a_ && a_->sputn(s, n) != n) return 0;
    return b_->sputn(s, n);
  }
  int sync() override { return (a_ && a_->pubsync() != 0) || b_->pubsync() != 0 ? -1 : 0; }

 private:
  std::streambuf* a_;
  std::streambuf* b_;
};

int16_t parse_api(std::string s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() <= 5)
    return static_cast<int16_t>(std::stoi(s));
  s = lower(s);
  int16_t key = -1;
  protocol::for_each_api([&](auto api) {
    if (lower(std::string(protocol::api_name(decltype(api)::key))) == s) key = decltype(api)::key;
  });
  return key;
}

}  // namespace

int run_spy(int argc, char** argv) {
  SpyOptions o;
  std::string dump_path, html_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "-h" || a == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (a == "--listen" || a == "--upstream") {
      if (!has_value) return usage_error(a + " needs HOST:PORT");
      std::string host;
      uint16_t port = 0;
      if (!parse_host_port(argv[++i], host, port)) return usage_error(a + ": not HOST:PORT: " + argv[i]);
      (a == "--listen" ? o.listen_host : o.upstream_host) = host;
      (a == "--listen" ? o.listen_port : o.upstream_port) = port;
    } else if (a == "--advertise") {
      if (!has_value) return usage_error("--advertise needs a host");
      o.advertise_host = argv[++i];
    } else if (a == "--explain") {
      o.explain = true;
    } else if (a == "--api") {
      if (!has_value) return usage_error("--api needs a list");
      std::string list = argv[++i];
      size_t start = 0;
      while (start <= list.size()) {
        const size_t comma = std::min(list.find(',', start), list.size());
        const std::string name = list.substr(start, comma - start);
        if (!name.empty()) {
          const int16_t key = parse_api(name);
          if (key < 0) return usage_error("unknown api " + name);
          o.apis.push_back(key);
        }
        start = comma + 1;
      }
    } else if (a == "--dump") {
      if (!has_value) return usage_error("--dump needs a file (- for stdout)");
      dump_path = argv[++i];
      if (dump_path.empty()) return usage_error("--dump needs a file (- for stdout)");
    } else if (a == "--html") {
      if (!has_value) return usage_error("--html needs the path of the page to write");
      html_path = argv[++i];
      if (html_path.empty()) return usage_error("--html needs the path of the page to write");
    } else if (a == "--max-frame") {
      if (!has_value) return usage_error("--max-frame needs a byte count");
      try {
        o.max_frame = static_cast<size_t>(std::stoull(argv[++i]));
      } catch (...) {
        return usage_error("--max-frame needs a byte count");
      }
    } else {
      return usage_error("unknown option " + a);
    }
  }

  std::ofstream dump_file;
  if (dump_path == "-") {
    o.dump = &std::cout;
    o.print = [](const std::string& line) { std::cerr << line << (line.ends_with('\n') ? "" : "\n"); };
  } else if (!dump_path.empty()) {
    dump_file.open(dump_path, std::ios::out | std::ios::trunc);
    if (!dump_file) {
      std::cerr << "kafkawire spy: cannot write --dump file " << dump_path << ": " << std::strerror(errno)
                << "\n";
      return 1;
    }
    o.dump = &dump_file;
  }
  // --html: the dump also goes to memory (beside the --dump file or stdout, if any), read back at the end.
  std::ostringstream html_frames;
  TeeBuf tee(o.dump ? o.dump->rdbuf() : nullptr, html_frames.rdbuf());
  std::ostream tee_stream(&tee);
  if (!html_path.empty()) {
    std::ofstream probe(html_path, std::ios::out | std::ios::trunc);
    if (!probe) {
      std::cerr << "kafkawire spy: cannot write --html file " << html_path << ": " << std::strerror(errno)
                << "\n";
      return 1;
    }
    o.dump = &tee_stream;
  }
  if (o.dump) *o.dump << kDumpHeader << '\n' << std::flush;

  boost::asio::io_context io(1);
  auto proxy = SpyProxy::create(io.get_executor(), o);
  if (auto ec = proxy->start()) {
    std::cerr << "kafkawire spy: cannot listen on " << o.listen_host << ":" << o.listen_port << ": "
              << ec.message() << "\n";
    return 1;
  }
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& ec, int) {
    if (ec) return;
    std::cerr << "kafkawire spy: stopping\n";
    proxy->stop();
  });
  const auto ep = proxy->endpoint();
  std::cerr << "kafkawire spy: listening on " << ep.address().to_string() << ":" << ep.port() << ", upstream "
            << o.upstream_host << ":" << o.upstream_port << "\n";
  io.run();  // returns when stop() has closed every listener and connection
  const SpyStats& s = proxy->stats();
  std::cerr << "kafkawire spy: " << s.connections << " connections, " << s.requests << " requests, "
            << s.responses << " responses, " << s.rewritten << " rewritten, " << s.decode_errors
            << " decode errors, " << s.undecoded << " not decoded\n";
  if (!html_path.empty()) {
    std::string error;
    auto frames = frames_from_spy_dump(html_frames.str(), error);
    if (!frames) {
      std::cerr << "kafkawire spy: " << error << "\n";
      return 1;
    }
    std::ofstream out(html_path, std::ios::binary | std::ios::trunc);
    out << explorer_html("kafkawire spy", *frames);
    if (!out.flush()) {
      std::cerr << "kafkawire spy: cannot write --html file " << html_path << "\n";
      return 1;
    }
    std::cerr << "kafkawire spy: " << frames->size() << " frames written to " << html_path << "\n";
  }
  return 0;
}

}  // namespace kafkawire::cli
