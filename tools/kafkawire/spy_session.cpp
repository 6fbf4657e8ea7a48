#include "spy_session.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/endian/conversion.hpp>
#include <cstring>

#include "kafkawire/protocol/incremental_alter_configs.hpp"
#include "spy_redact.hpp"
#include "spy_summary.hpp"

namespace kafkawire::cli {

namespace asio = boost::asio;
namespace be = boost::endian;
namespace proto = kafkawire::protocol;
using tcp = asio::ip::tcp;
using proto::Bytes;
using spy::api_text;
using spy::describe;
using spy::ErrorScan;
using spy::first_error;
using spy::host_port;
using spy::join;
using spy::plural;
using spy::with_known_version;

namespace {
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);
}  // namespace

SpyProxy::Session::Session(std::shared_ptr<SpyProxy> proxy, uint64_t id, tcp::socket client, std::string host,
                           uint16_t port)
    : proxy_(std::move(proxy)),
      id_(id),
      client_(std::move(client)),
      upstream_(client_.get_executor()),
      host_(std::move(host)),
      port_(port),
      rewriter_(proxy_->advertise_, [proxy = proxy_.get()](const std::string& h, int32_t p) {
        return proxy->local_port_for(h, p);
      }) {}

void SpyProxy::Session::start() {
  asio::co_spawn(
      client_.get_executor(), [self = shared_from_this()] { return self->run(); }, asio::detached);
}

void SpyProxy::Session::close(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_both, ignored);
  client_.close(ignored);
  upstream_.shutdown(tcp::socket::shutdown_both, ignored);
  upstream_.close(ignored);
  if (proxy_->options_.apis.empty() || !pending_.empty())
    proxy_->print(tag() + " closed (" + why + ")" +
                  (pending_.empty()
                       ? ""
                       : ", " + plural(static_cast<int64_t>(pending_.size()), "request") + " unanswered"));
  proxy_->sessions_.erase(id_);
}

asio::awaitable<void> SpyProxy::Session::run() {
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  const auto address = asio::ip::make_address(host_, ec);
  if (!ec) {
    endpoints.emplace_back(address, port_);
  } else {
    tcp::resolver resolver(client_.get_executor());  // synchronous: an async resolve would start a thread
    auto results = resolver.resolve(host_, std::to_string(port_), ec);
    if (ec) {
      close("cannot resolve " + host_port(host_, port_) + ": " + ec.message());
      co_return;
    }
    for (const auto& e : results) endpoints.push_back(e.endpoint());
  }
  auto [cec, ep] = co_await asio::async_connect(upstream_, endpoints, use_nothrow);
  if (cec) {
    close("cannot connect to " + host_port(host_, port_) + ": " + cec.message());
    co_return;
  }
  upstream_.set_option(tcp::no_delay(true), ec);
  client_.set_option(tcp::no_delay(true), ec);
  if (proxy_->options_.apis.empty()) {
    const auto peer = client_.remote_endpoint(ec);
    proxy_->print(tag() + " connection from " +
                  (ec ? std::string("?") : host_port(peer.address().to_string(), peer.port())) + " to " +
                  host_port(host_, port_));
  }
  asio::co_spawn(
      client_.get_executor(), [self = shared_from_this()] { return self->responses(); }, asio::detached);
  co_await requests();
}

// Streams n bytes from one socket to the other without holding them (frames over --max-frame).
asio::awaitable<boost::system::error_code> SpyProxy::Session::stream(tcp::socket& from, tcp::socket& to,
                                                                     size_t n) {
  std::vector<uint8_t> chunk(64 * 1024);
  while (n > 0) {
    const size_t want = std::min(n, chunk.size());
    auto [rec, got] = co_await asio::async_read(from, asio::buffer(chunk.data(), want), use_nothrow);
    if (rec) co_return rec;
    auto [wec, put] = co_await asio::async_write(to, asio::buffer(chunk.data(), got), use_nothrow);
    if (wec) co_return wec;
    n -= got;
  }
  co_return boost::system::error_code{};
}

asio::awaitable<void> SpyProxy::Session::requests() {
  std::vector<uint8_t> frame;
  std::string why = "client closed";
  while (!closed_) {
    uint8_t size_bytes[4];
    auto [ec, n] = co_await asio::async_read(client_, asio::buffer(size_bytes), use_nothrow);
    if (ec) {
      if (ec != asio::error::eof) why = "client: " + ec.message();
      break;
    }
    const size_t size = be::load_big_u32(size_bytes);
    if (size > proxy_->options_.max_frame) {
      // Too large to hold: read the header's fixed part, then stream the rest.
      uint8_t head[8] = {};
      const size_t hn = std::min<size_t>(size, 8);
      auto [hec, hgot] = co_await asio::async_read(client_, asio::buffer(head, hn), use_nothrow);
      if (hec) break;
      on_large_request(head, hn, size);
      std::vector<uint8_t> prefix(size_bytes, size_bytes + 4);
      prefix.insert(prefix.end(), head, head + hn);
      auto [wec, put] = co_await asio::async_write(upstream_, asio::buffer(prefix), use_nothrow);
      if (wec || co_await stream(client_, upstream_, size - hn)) {
        why = "upstream write failed";
        break;
      }
      continue;
    }
    frame.resize(4 + size);
    std::memcpy(frame.data(), size_bytes, 4);
    auto [bec, got] = co_await asio::async_read(client_, asio::buffer(frame.data() + 4, size), use_nothrow);
    if (bec) {
      why = "client closed mid-frame";
      break;
    }
    on_request(frame);
    auto [wec, put] = co_await asio::async_write(upstream_, asio::buffer(frame), use_nothrow);
    if (wec) {
      why = "upstream: " + wec.message();
      break;
    }
  }
  close(why);
}

asio::awaitable<void> SpyProxy::Session::responses() {
  std::vector<uint8_t> frame;
  std::string why = "broker closed";
  while (!closed_) {
    uint8_t size_bytes[4];
    auto [ec, n] = co_await asio::async_read(upstream_, asio::buffer(size_bytes), use_nothrow);
    if (ec) {
      if (ec != asio::error::eof) why = "broker: " + ec.message();
      break;
    }
    const size_t size = be::load_big_u32(size_bytes);
    if (size > proxy_->options_.max_frame) {
      uint8_t head[4] = {};
      const size_t hn = std::min<size_t>(size, 4);
      auto [hec, hgot] = co_await asio::async_read(upstream_, asio::buffer(head, hn), use_nothrow);
      if (hec) break;
      on_large_response(head, hn, size);
      std::vector<uint8_t> prefix(size_bytes, size_bytes + 4);
      prefix.insert(prefix.end(), head, head + hn);
      auto [wec, put] = co_await asio::async_write(client_, asio::buffer(prefix), use_nothrow);
      if (wec || co_await stream(upstream_, client_, size - hn)) {
        why = "client write failed";
        break;
      }
      continue;
    }
    frame.resize(4 + size);
    std::memcpy(frame.data(), size_bytes, 4);
    auto [bec, got] = co_await asio::async_read(upstream_, asio::buffer(frame.data() + 4, size), use_nothrow);
    if (bec) {
      why = "broker closed mid-frame";
      break;
    }
    on_response(frame);
    auto [wec, put] = co_await asio::async_write(client_, asio::buffer(frame), use_nothrow);
    if (wec) {
      why = "client: " + wec.message();
      break;
    }
  }
  close(why);
}

void SpyProxy::Session::dump(bool request, int16_t key, int16_t version, int32_t corr,
                             const std::vector<uint8_t>& frame) {
  std::ostream* out = proxy_->options_.dump;
  if (!out) return;
  const std::string what = std::to_string(id_) + (request ? " request " : " response ") +
                           std::to_string(key) + " " + std::to_string(version) + " " + std::to_string(corr);
  if (key == proto::SaslAuthenticateRequest::api_key) {
    // Its auth bytes may hold a password or a token: dumped with those replaced (spy_redact.hpp), and a
    // comment line before it saying what was.
    std::vector<uint8_t> redacted;
    std::string replaced;
    if (!spy::redact_sasl_authenticate_frame(sasl_mechanism_, request, version, frame, redacted, replaced)) {
      *out << "# " << what << ": " << frame.size()
           << " B SaslAuthenticate that does not decode, not dumped (may hold a password or token)\n"
           << std::flush;
      return;
    }
    *out << "# " << what << ": SaslAuthenticate"
         << (sasl_mechanism_.empty() ? std::string() : " (" + sasl_mechanism_ + ")")
         << ", auth bytes: " << replaced
         << (replaced.starts_with("nothing") ? "" : " replaced by '*', same length") << '\n'
         << dump_line(id_, request, key, version, corr, redacted.data(), redacted.size()) << '\n'
         << std::flush;
    return;
  }
  if (key == proto::IncrementalAlterConfigsRequest::api_key && request) {
    // A config value may be a password (a listener's keystore, a JAAS config).
    std::vector<uint8_t> redacted;
    std::string replaced;
    if (!spy::redact_alter_configs_frame(version, frame, redacted, replaced)) {
      *out << "# " << what << ": " << frame.size()
           << " B IncrementalAlterConfigs that does not decode, not dumped (may hold a password)\n"
           << std::flush;
      return;
    }
    *out << "# " << what << ": IncrementalAlterConfigs, config values: " << replaced
         << (replaced.starts_with("nothing") ? "" : " replaced by '*', same length") << '\n'
         << dump_line(id_, request, key, version, corr, redacted.data(), redacted.size()) << '\n'
         << std::flush;
    return;
  }
  *out << dump_line(id_, request, key, version, corr, frame.data(), frame.size()) << '\n' << std::flush;
}

// Frames over --max-frame are streamed, never held: the dump says so instead of their bytes.
void SpyProxy::Session::dump_skipped(bool request, int16_t key, int16_t version, int32_t corr, size_t size) {
  if (std::ostream* out = proxy_->options_.dump)
    *out << "# " << id_ << (request ? " request " : " response ") << key << " " << version << " " << corr
         << ": " << size << " B over --max-frame, not dumped\n"
         << std::flush;
}

void SpyProxy::Session::decode_error(const std::string& what) {
  ++proxy_->stats_.decode_errors;
  proxy_->print(tag() + " decode error: " + what + "; forwarded unchanged");
}

void SpyProxy::Session::on_large_request(const uint8_t* head, size_t n, size_t size) {
  ++proxy_->stats_.requests;
  ++proxy_->stats_.undecoded;
  if (n < 8) return;
  Pending p{be::load_big_s16(head), be::load_big_s16(head + 2), size + 4, "not decoded (over --max-frame)",
            std::chrono::steady_clock::now()};
  const int32_t corr = be::load_big_s32(head + 4);
  dump_skipped(true, p.key, p.version, corr, size + 4);
  proxy_->print(tag() + " " + api_text(p.key, p.version) + " corr=" + std::to_string(corr) + " request of " +
                std::to_string(size + 4) + " B over --max-frame: streamed without decoding");
  pending_[corr] = std::move(p);
}

void SpyProxy::Session::on_large_response(const uint8_t* head, size_t n, size_t size) {
  ++proxy_->stats_.responses;
  ++proxy_->stats_.undecoded;
  if (n < 4) return;
  const int32_t corr = be::load_big_s32(head);
  auto it = pending_.find(corr);
  std::string what = it == pending_.end() ? "unknown request" : api_text(it->second.key, it->second.version);
  const bool names_brokers =
      it != pending_.end() && (it->second.key == proto::MetadataResponse::api_key ||
                               it->second.key == proto::FindCoordinatorResponse::api_key);
  dump_skipped(false, it == pending_.end() ? -1 : it->second.key,
               it == pending_.end() ? -1 : it->second.version, corr, size + 4);
  if (it != pending_.end()) pending_.erase(it);
  proxy_->print(tag() + " " + what + " corr=" + std::to_string(corr) + " -> " + std::to_string(size + 4) +
                " B over --max-frame: streamed without decoding" +
                (names_brokers ? " (the broker addresses in it are not rewritten)" : ""));
}

void SpyProxy::Session::on_request(const std::vector<uint8_t>& frame) {
  ++proxy_->stats_.requests;
  const Bytes after(frame.data() + 4, frame.size() - 4);
  if (after.len < 8) {
    decode_error("a request frame of " + std::to_string(frame.size()) + " B is too short for a header");
    return;
  }
  Pending p;
  p.key = be::load_big_s16(after.ptr);
  p.version = be::load_big_s16(after.ptr + 2);
  p.request_bytes = frame.size();
  p.sent = std::chrono::steady_clock::now();
  const int32_t corr = be::load_big_s32(after.ptr + 4);
  dump(true, p.key, p.version, corr, frame);
  bool expect_response = true;
  bool decoded = false;
  const bool known = with_known_version<true>(p.key, p.version, [&](auto type) {
    using Req = typename decltype(type)::type;
    proto::Reader r(after);
    proto::RequestHeader header;
    Req m;
    std::error_code ec = proto::decode(r, header, proto::request_header_version<Req>(p.version));
    if (!ec) ec = proto::decode(Bytes(r.position(), r.remaining()), m, p.version);
    if (ec) {
      decode_error(std::string(Req::name) + " v" + std::to_string(p.version) +
                   " corr=" + std::to_string(corr) + ": " +
                   first_error(proto::explain_frame(Bytes(frame), proto::FrameOptions::request())));
      return;
    }
    decoded = true;
    p.summary = describe(m);
    if constexpr (std::is_same_v<Req, proto::SaslHandshakeRequest>) sasl_mechanism_ = m.mechanism;
    if constexpr (std::is_same_v<Req, proto::ProduceRequest>) expect_response = m.acks != 0;
  });
  if (!known) {
    ++proxy_->stats_.undecoded;
    p.summary = "not decoded (" + std::string(proto::api_name(p.key).empty() ? "an api" : "a version") +
                " kafkawire does not speak)";
  }
  const bool show = proxy_->selected(p.key);
  if (show && proxy_->options_.explain && (decoded || !known))
    proxy_->print(tag() + " request corr=" + std::to_string(corr) + "\n" +
                  proto::to_text(proto::explain_frame(Bytes(frame), proto::FrameOptions::request())));
  if (!expect_response) {
    if (show)
      proxy_->print(tag() + " " + api_text(p.key, p.version) + " corr=" + std::to_string(corr) + " " +
                    std::to_string(frame.size()) + " B, " + p.summary + ", no response (acks=0)");
    return;
  }
  pending_[corr] = std::move(p);
}

void SpyProxy::Session::on_response(std::vector<uint8_t>& frame) {
  ++proxy_->stats_.responses;
  if (frame.size() < 8) {
    decode_error("a response frame of " + std::to_string(frame.size()) + " B is too short for a header");
    return;
  }
  const int32_t corr = be::load_big_s32(frame.data() + 4);
  auto it = pending_.find(corr);
  if (it == pending_.end()) {
    dump(false, -1, -1, corr, frame);
    decode_error("a response with correlation id " + std::to_string(corr) + ", which no request had");
    return;
  }
  const Pending p = std::move(it->second);
  pending_.erase(it);
  dump(false, p.key, p.version, corr, frame);  // before any rewriting: the broker's own bytes
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - p.sent)
          .count();
  const size_t received = frame.size();
  std::string summary = p.summary, note;
  int16_t version = p.version;
  bool decoded = false;
  const bool known = with_known_version<false>(p.key, p.version, [&](auto type) {
    using Resp = typename decltype(type)::type;
    const int16_t hv = proto::response_header_version<Resp>(p.version);
    proto::Reader r(Bytes(frame.data() + 4, frame.size() - 4));
    proto::ResponseHeader header;
    std::error_code ec = proto::decode(r, header, hv);
    const size_t body_at = 4 + r.offset();
    const Bytes body(frame.data() + body_at, frame.size() - body_at);
    Resp m;
    if (!ec) ec = proto::decode(body, m, version);
    if (ec && Resp::api_key == proto::kApiVersionsKey && version > 0) {
      // The broker answers an ApiVersions version it does not serve in v0 (KIP-511).
      Resp m0;
      if (!proto::decode(body, m0, 0)) {
        ec = {};
        m = std::move(m0);
        version = 0;
      }
    }
    if (ec) {
      decode_error(
          std::string(Resp::name) + " v" + std::to_string(p.version) + " corr=" + std::to_string(corr) +
          ": " +
          first_error(proto::explain_frame(Bytes(frame), proto::FrameOptions::response(p.key, p.version))));
      return;
    }
    decoded = true;
    ErrorScan scan(version, proto::is_flexible<Resp>(version));
    visit(scan, m);
    summary = join({summary, describe(m), scan.text()});
    // Re-encoding the untouched message must give the broker's bytes back; if not (fields kafkawire does
    // not know), the rewritten frame loses them: say so.
    const std::vector<uint8_t> again = proto::encode(m, version);
    const bool same = again.size() == body.len && std::equal(again.begin(), again.end(), body.begin());
    note = rewriter_.rewrite(m, version);
    if (note.empty()) return;
    if (auto ec = spy::encode_response_frame(header, hv, m, version, frame)) {
      decode_error(std::string(Resp::name) + " corr=" + std::to_string(corr) + ": cannot re-encode (" +
                   ec.message() + ")");
      note.clear();
      return;
    }
    ++proxy_->stats_.rewritten;
    if (!same) {
      ++proxy_->stats_.reencode_diffs;
      note += "; the re-encoding differs from the broker's bytes beyond the rewrite";
    }
  });
  if (!known) ++proxy_->stats_.undecoded;
  if (!proxy_->selected(p.key)) return;
  std::string line = tag() + " " + api_text(p.key, p.version) + " corr=" + std::to_string(corr) + " -> " +
                     std::to_string(received) + " B" + (summary.empty() ? "" : ", " + summary) + ", " +
                     std::to_string(ms) + " ms";
  if (!note.empty()) line += " [rewritten: " + note + "]";
  proxy_->print(line);
  if (proxy_->options_.explain && (decoded || !known))
    proxy_->print(
        proto::to_text(proto::explain_frame(Bytes(frame), proto::FrameOptions::response(p.key, version))));
}

}  // namespace kafkawire::cli
