#include "spy_proxy.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstring>
#include <iostream>
#include <set>
#include <unordered_map>

#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/explain.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::cli {

namespace asio = boost::asio;
namespace proto = kafkawire::protocol;
using tcp = asio::ip::tcp;
using proto::Bytes;

namespace {

constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string plural(int64_t n, std::string_view one, std::string_view many = {}) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : (many.empty() ? std::string(one) + "s" : many));
}

std::string host_port(const std::string& host, int64_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// ---- summaries ------------------------------------------------------------------------------------------

struct RecordCount {
  int64_t batches = 0;
  int64_t records = 0;
  void add(const proto::Records& r) {
    if (!r.bytes) return;
    // Batch headers only: no CRC, no decompression. A truncated tail batch is not counted.
    Bytes b = *r.bytes;
    size_t pos = 0;
    while (b.len - pos >= proto::kBatchHeaderSize) {
      proto::BatchHeader h;
      proto::decode_batch_header(Bytes(b.ptr + pos, b.len - pos), h);
      if (h.batch_length < 0 || h.size_in_bytes() > b.len - pos) break;
      ++batches;
      if (h.magic == proto::kBatchMagic && h.records_count > 0) records += h.records_count;
      pos += h.size_in_bytes();
    }
  }
  std::string text() const { return plural(batches, "batch", "batches") + " " + plural(records, "record"); }
};

// Every non-zero ErrorCode anywhere in a decoded message: one more visitor of the same visit() functions.
class ErrorScan {
 public:
  ErrorScan(int16_t version, bool flexible) : version_(version), flexible_(flexible) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  template <class T>
  void field(std::string_view name, T& x) {
    scan(name, x);
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool) {
    scan(name, x);
  }
  void classic_nullable_string(std::string_view, std::optional<std::string>&) {}
  void tags() {}
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    TagScan t{*this};
    declare(t);
  }

  std::string text() const {
    if (errors_.empty()) return "";
    std::string s = "errors:";
    for (const auto& [code, n] : errors_) {
      const kafkawire::KafkaErrorInfo* info = kafkawire::find_kafka_error(code);
      s += " " + (info ? std::string(info->name) : "error " + std::to_string(code));
      if (n > 1) s += " x" + std::to_string(n);
    }
    return s;
  }

 private:
  struct TagScan {
    ErrorScan& s;
    template <class T>
    void field(uint32_t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      s.scan(name, x);
    }
  };

  template <class T>
  void scan(std::string_view name, T& x) {
    if constexpr (std::is_same_v<T, int16_t>) {
      if (name == "ErrorCode" && x != 0) ++errors_[x];
    } else if constexpr (proto::is_vector<T>::value) {
      for (auto& e : x) scan(name, e);
    } else if constexpr (proto::is_optional<T>::value) {
      if (x) scan(name, *x);
    } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string> && !std::is_same_v<T, Bytes> &&
                         !std::is_same_v<T, proto::Uuid> && !std::is_same_v<T, proto::Records>) {
      visit(*this, x);
    }
  }

  int16_t version_;
  bool flexible_;
  std::map<int16_t, int> errors_;
};

template <class T>
std::string describe(const T&) {
  return "";
}

template <class Topics>
size_t count_partitions(const Topics& topics, auto member) {
  size_t n = 0;
  for (const auto& t : topics) n += (t.*member).size();
  return n;
}

std::string describe(const proto::ProduceRequest& m) {
  RecordCount c;
  size_t partitions = 0;
  for (const auto& t : m.topic_data)
    for (const auto& p : t.partition_data) {
      ++partitions;
      c.add(p.records);
    }
  return plural(static_cast<int64_t>(m.topic_data.size()), "topic") + ", " +
         plural(static_cast<int64_t>(partitions), "partition") + ", " + c.text() +
         ", acks=" + std::to_string(m.acks);
}
std::string describe(const proto::FetchRequest& m) {
  std::string s =
      "fetching " +
      plural(static_cast<int64_t>(count_partitions(m.topics, &proto::FetchRequest::FetchTopic::partitions)),
             "partition");
  if (m.session_id != 0 || m.session_epoch >= 0)
    s += ", session " + std::to_string(m.session_id) + " epoch " + std::to_string(m.session_epoch);
  return s;
}
std::string describe(const proto::FetchResponse& m) {
  RecordCount c;
  size_t partitions = 0;
  for (const auto& t : m.responses)
    for (const auto& p : t.partitions) {
      ++partitions;
      c.add(p.records);
    }
  return plural(static_cast<int64_t>(m.responses.size()), "topic") + ", " +
         plural(static_cast<int64_t>(partitions), "partition") + ", " + c.text();
}
std::string describe(const proto::ListOffsetsRequest& m) {
  return plural(static_cast<int64_t>(
                    count_partitions(m.topics, &proto::ListOffsetsRequest::ListOffsetsTopic::partitions)),
                "partition");
}
std::string describe(const proto::MetadataRequest& m) {
  return m.topics ? plural(static_cast<int64_t>(m.topics->size()), "topic") + " asked"
                  : std::string("all topics asked");
}
std::string describe(const proto::MetadataResponse& m) {
  return plural(static_cast<int64_t>(m.brokers.size()), "broker") + ", " +
         plural(static_cast<int64_t>(m.topics.size()), "topic");
}
std::string describe(const proto::FindCoordinatorRequest& m) {
  const char* type = m.key_type == 0 ? "group" : m.key_type == 1 ? "transaction" : "share";
  if (!m.coordinator_keys.empty()) {
    std::string s = type;
    for (const auto& k : m.coordinator_keys) s += " " + k;
    return s;
  }
  return std::string(type) + " " + m.key;
}
std::string describe(const proto::JoinGroupRequest& m) {
  return "group " + m.group_id + (m.member_id.empty() ? "" : ", member " + m.member_id);
}
std::string describe(const proto::JoinGroupResponse& m) {
  return "generation " + std::to_string(m.generation_id) + ", member " + m.member_id +
         (m.leader == m.member_id && !m.leader.empty()
              ? " (leader of " + plural(static_cast<int64_t>(m.members.size()), "member") + ")"
              : "");
}
std::string describe(const proto::SyncGroupRequest& m) {
  return "group " + m.group_id + ", generation " + std::to_string(m.generation_id) + ", " +
         plural(static_cast<int64_t>(m.assignments.size()), "assignment");
}
std::string describe(const proto::HeartbeatRequest& m) {
  return "group " + m.group_id + ", generation " + std::to_string(m.generation_id);
}
std::string describe(const proto::LeaveGroupRequest& m) { return "group " + m.group_id; }
std::string describe(const proto::OffsetCommitRequest& m) {
  return "group " + m.group_id + ", " +
         plural(static_cast<int64_t>(count_partitions(
                    m.topics, &proto::OffsetCommitRequest::OffsetCommitRequestTopic::partitions)),
                "partition");
}
std::string describe(const proto::OffsetFetchRequest& m) {
  if (!m.groups.empty())
    return plural(static_cast<int64_t>(m.groups.size()), "group") + " (" + m.groups[0].group_id +
           (m.groups.size() > 1 ? ", ..." : "") + ")";
  return "group " + m.group_id;
}
std::string describe(const proto::ApiVersionsResponse& m) {
  return plural(static_cast<int64_t>(m.api_keys.size()), "api");
}
std::string describe(const proto::CreateTopicsRequest& m) {
  std::string s = "create";
  for (const auto& t : m.topics) s += " " + t.name;
  return s;
}
std::string describe(const proto::ConsumerGroupHeartbeatRequest& m) {
  return "group " + m.group_id + ", epoch " + std::to_string(m.member_epoch);
}
std::string describe(const proto::ConsumerGroupHeartbeatResponse& m) {
  std::string s = "epoch " + std::to_string(m.member_epoch);
  if (m.assignment) {
    size_t n = 0;
    for (const auto& tp : m.assignment->topic_partitions) n += tp.partitions.size();
    s += ", assigned " + plural(static_cast<int64_t>(n), "partition");
  }
  return s;
}
std::string describe(const proto::ListGroupsResponse& m) {
  return plural(static_cast<int64_t>(m.groups.size()), "group");
}

std::string join(std::initializer_list<std::string> parts) {
  std::string s;
  for (const auto& p : parts) {
    if (p.empty()) continue;
    if (!s.empty()) s += ", ";
    s += p;
  }
  return s;
}

// Calls f(std::type_identity<M>{}) with the request (or response) type of an API kafkawire speaks at this
// version; false when it does not.
template <bool Request, class F>
bool with_known_version(int16_t key, int16_t version, F&& f) {
  bool ok = false;
  proto::with_api(key, [&](auto api) {
    using A = decltype(api);
    using M = std::conditional_t<Request, typename A::request, typename A::response>;
    if (!proto::supports_version<M>(version)) return;
    ok = true;
    f(std::type_identity<M>{});
  });
  return ok;
}

// The first error of an explanation of `frame`, for a decode-error line.
std::string first_error(const proto::Explanation& e) {
  auto errors = e.errors();
  if (errors.empty()) return "undecodable";
  return errors.front()->value + " at offset " + std::to_string(errors.front()->offset);
}

}  // namespace

std::string dump_line(uint64_t connection, bool request, int16_t api_key, int16_t api_version,
                      int32_t correlation_id, const uint8_t* frame, size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = std::to_string(connection) + (request ? " request " : " response ") +
                  std::to_string(api_key) + " " + std::to_string(api_version) + " " +
                  std::to_string(correlation_id) + " ";
  s.reserve(s.size() + 2 * size);
  for (size_t i = 0; i < size; ++i) {
    s += kDigits[frame[i] >> 4];
    s += kDigits[frame[i] & 0x0f];
  }
  return s;
}

bool parse_host_port(const std::string& s, std::string& host, uint16_t& port) {
  std::string p;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':') return false;
    host = s.substr(1, close - 1);
    p = s.substr(close + 2);
  } else {
    const auto colon = s.rfind(':');
    if (colon == std::string::npos) return false;
    host = s.substr(0, colon);
    p = s.substr(colon + 1);
  }
  if (host.empty() || p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
    return false;
  const unsigned long v = std::stoul(p);
  if (v > 65535) return false;
  port = static_cast<uint16_t>(v);
  return true;
}

// ---- listeners ------------------------------------------------------------------------------------------

struct SpyProxy::Listener {
  explicit Listener(const executor_type& ex) : acceptor(ex) {}
  tcp::acceptor acceptor;
  std::string target_host;
  uint16_t target_port = 0;
  uint16_t local_port = 0;
};

// ---- one client connection ------------------------------------------------------------------------------

class SpyProxy::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<SpyProxy> proxy, uint64_t id, tcp::socket client, std::string host, uint16_t port)
      : proxy_(std::move(proxy)),
        id_(id),
        client_(std::move(client)),
        upstream_(client_.get_executor()),
        host_(std::move(host)),
        port_(port) {}

  void start() {
    asio::co_spawn(
        client_.get_executor(), [self = shared_from_this()] { return self->run(); }, asio::detached);
  }

  void close(const std::string& why) {
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

 private:
  struct Pending {
    int16_t key = -1;
    int16_t version = -1;
    size_t request_bytes = 0;
    std::string summary;
    std::chrono::steady_clock::time_point sent;
  };

  std::string tag() const { return "#" + std::to_string(id_); }

  asio::awaitable<void> run() {
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
  asio::awaitable<boost::system::error_code> stream(tcp::socket& from, tcp::socket& to, size_t n) {
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

  asio::awaitable<void> requests() {
    std::vector<uint8_t> frame;
    std::string why = "client closed";
    while (!closed_) {
      uint8_t size_bytes[4];
      auto [ec, n] = co_await asio::async_read(client_, asio::buffer(size_bytes), use_nothrow);
      if (ec) {
        if (ec != asio::error::eof) why = "client: " + ec.message();
        break;
      }
      const size_t size = be32(size_bytes);
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

  asio::awaitable<void> responses() {
    std::vector<uint8_t> frame;
    std::string why = "broker closed";
    while (!closed_) {
      uint8_t size_bytes[4];
      auto [ec, n] = co_await asio::async_read(upstream_, asio::buffer(size_bytes), use_nothrow);
      if (ec) {
        if (ec != asio::error::eof) why = "broker: " + ec.message();
        break;
      }
      const size_t size = be32(size_bytes);
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
      auto [bec, got] =
          co_await asio::async_read(upstream_, asio::buffer(frame.data() + 4, size), use_nothrow);
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

  std::string api_text(int16_t key, int16_t version) const {
    const std::string_view name = proto::api_name(key);
    return (name.empty() ? "api " + std::to_string(key) : std::string(name)) + " v" + std::to_string(version);
  }

  void dump(bool request, int16_t key, int16_t version, int32_t corr, const std::vector<uint8_t>& frame) {
    if (std::ostream* out = proxy_->options_.dump)
      *out << dump_line(id_, request, key, version, corr, frame.data(), frame.size()) << '\n' << std::flush;
  }
  // Frames over --max-frame are streamed, never held: the dump says so instead of their bytes.
  void dump_skipped(bool request, int16_t key, int16_t version, int32_t corr, size_t size) {
    if (std::ostream* out = proxy_->options_.dump)
      *out << "# " << id_ << (request ? " request " : " response ") << key << " " << version << " " << corr
           << ": " << size << " B over --max-frame, not dumped\n"
           << std::flush;
  }

  void decode_error(const std::string& what) {
    ++proxy_->stats_.decode_errors;
    proxy_->print(tag() + " decode error: " + what + "; forwarded unchanged");
  }

  void on_large_request(const uint8_t* head, size_t n, size_t size) {
    ++proxy_->stats_.requests;
    ++proxy_->stats_.undecoded;
    if (n < 8) return;
    Pending p{static_cast<int16_t>(be16(head)), static_cast<int16_t>(be16(head + 2)), size + 4,
              "not decoded (over --max-frame)", std::chrono::steady_clock::now()};
    const int32_t corr = static_cast<int32_t>(be32(head + 4));
    dump_skipped(true, p.key, p.version, corr, size + 4);
    proxy_->print(tag() + " " + api_text(p.key, p.version) + " corr=" + std::to_string(corr) +
                  " request of " + std::to_string(size + 4) +
                  " B over --max-frame: streamed without decoding");
    pending_[corr] = std::move(p);
  }

  void on_large_response(const uint8_t* head, size_t n, size_t size) {
    ++proxy_->stats_.responses;
    ++proxy_->stats_.undecoded;
    if (n < 4) return;
    const int32_t corr = static_cast<int32_t>(be32(head));
    auto it = pending_.find(corr);
    std::string what =
        it == pending_.end() ? "unknown request" : api_text(it->second.key, it->second.version);
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

  void on_request(const std::vector<uint8_t>& frame) {
    ++proxy_->stats_.requests;
    const Bytes after(frame.data() + 4, frame.size() - 4);
    if (after.len < 8) {
      decode_error("a request frame of " + std::to_string(frame.size()) + " B is too short for a header");
      return;
    }
    Pending p;
    p.key = static_cast<int16_t>(be16(after.ptr));
    p.version = static_cast<int16_t>(be16(after.ptr + 2));
    p.request_bytes = frame.size();
    p.sent = std::chrono::steady_clock::now();
    const int32_t corr = static_cast<int32_t>(be32(after.ptr + 4));
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

  // Replaces an advertised broker address with the spy's; describes the change in `note`.
  bool rewrite(std::string& host, int32_t& port, std::string& note) {
    const uint16_t local = proxy_->local_port_for(host, port);
    if (local == 0) return false;
    if (!note.empty()) note += ", ";
    note += host_port(host, port) + " -> " + host_port(proxy_->advertise_, local);
    host = proxy_->advertise_;
    port = local;
    return true;
  }

  // Rewrites the broker addresses in m; returns what was changed (empty: nothing).
  template <class M>
  std::string rewrite_addresses(M& m, int16_t version) {
    std::string note;
    if constexpr (std::is_same_v<M, proto::MetadataResponse>) {
      for (auto& b : m.brokers) rewrite(b.host, b.port, note);
    } else if constexpr (std::is_same_v<M, proto::FindCoordinatorResponse>) {
      if (version <= 3) {
        if (m.error_code == 0 && m.port > 0) rewrite(m.host, m.port, note);
      } else {
        for (auto& c : m.coordinators)
          if (c.error_code == 0 && c.port > 0) rewrite(c.host, c.port, note);
      }
    } else if constexpr (std::is_same_v<M, proto::FetchResponse> ||
                         std::is_same_v<M, proto::ProduceResponse>) {
      for (auto& e : m.node_endpoints) rewrite(e.host, e.port, note);
    } else if constexpr (std::is_same_v<M, proto::ApiVersionsResponse>) {
      for (auto& a : m.api_keys) {
        int16_t cap = -1;
        if (a.api_key == proto::MetadataResponse::api_key) cap = proto::MetadataResponse::max_version;
        if (a.api_key == proto::FindCoordinatorResponse::api_key)
          cap = proto::FindCoordinatorResponse::max_version;
        if (cap >= 0 && a.max_version > cap && a.min_version <= cap) {
          if (!note.empty()) note += ", ";
          note += api_text(a.api_key, a.max_version) + " capped at v" + std::to_string(cap);
          a.max_version = cap;
        }
      }
    }
    return note;
  }

  void on_response(std::vector<uint8_t>& frame) {
    ++proxy_->stats_.responses;
    if (frame.size() < 8) {
      decode_error("a response frame of " + std::to_string(frame.size()) + " B is too short for a header");
      return;
    }
    const int32_t corr = static_cast<int32_t>(be32(frame.data() + 4));
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
      note = rewrite_addresses(m, version);
      if (note.empty()) return;
      proto::Writer w;
      w.i32(0);
      proto::encode(w, header, hv);
      proto::encode(w, m, version);
      if (!w.ok()) {
        decode_error(std::string(Resp::name) + " corr=" + std::to_string(corr) + ": cannot re-encode (" +
                     w.error().message() + ")");
        note.clear();
        return;
      }
      w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
      frame = w.release();
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

  std::shared_ptr<SpyProxy> proxy_;
  uint64_t id_;
  tcp::socket client_;
  tcp::socket upstream_;
  std::string host_;
  uint16_t port_;
  bool closed_ = false;
  std::unordered_map<int32_t, Pending> pending_;
};

// ---- the proxy --------------------------------------------------------------------------------------------

SpyProxy::SpyProxy(executor_type ex, SpyOptions options) : ex_(std::move(ex)), options_(std::move(options)) {
  advertise_ = options_.advertise_host;
  if (advertise_.empty())
    advertise_ = (options_.listen_host == "0.0.0.0" || options_.listen_host == "::") ? "127.0.0.1"
                                                                                     : options_.listen_host;
}

SpyProxy::~SpyProxy() = default;

std::shared_ptr<SpyProxy> SpyProxy::create(executor_type ex, SpyOptions options) {
  return std::shared_ptr<SpyProxy>(new SpyProxy(std::move(ex), std::move(options)));
}

void SpyProxy::print(const std::string& line) const {
  if (options_.print)
    options_.print(line);
  else
    std::cout << line << (line.empty() || line.back() != '\n' ? "\n" : "") << std::flush;
}

bool SpyProxy::selected(int16_t api_key) const {
  return options_.apis.empty() ||
         std::find(options_.apis.begin(), options_.apis.end(), api_key) != options_.apis.end();
}

namespace {

// Opens, binds and listens; the bound port, or 0 with ec set.
uint16_t open_listener(tcp::acceptor& a, const std::string& host, uint16_t port,
                       boost::system::error_code& ec) {
  const auto address = asio::ip::make_address(host, ec);
  if (ec) return 0;
  const tcp::endpoint ep(address, port);
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return 0;
  return a.local_endpoint(ec).port();
}

}  // namespace

std::error_code SpyProxy::start() {
  auto l = std::make_shared<Listener>(ex_);
  l->target_host = options_.upstream_host;
  l->target_port = options_.upstream_port;
  boost::system::error_code ec;
  l->local_port = open_listener(l->acceptor, options_.listen_host, options_.listen_port, ec);
  if (ec) return ec;
  bootstrap_ = l;
  listeners_[{l->target_host, l->target_port}] = l;
  accept(l);
  return {};
}

void SpyProxy::stop() {
  if (stopped_) return;
  stopped_ = true;
  boost::system::error_code ignored;
  for (auto& [key, l] : listeners_) l->acceptor.close(ignored);
  auto sessions = sessions_;
  for (auto& [id, weak] : sessions)
    if (auto s = weak.lock()) s->close("spy stopped");
  sessions_.clear();
}

tcp::endpoint SpyProxy::endpoint() const {
  boost::system::error_code ec;
  return bootstrap_ ? bootstrap_->acceptor.local_endpoint(ec) : tcp::endpoint();
}

std::vector<std::string> SpyProxy::mappings() const {
  std::vector<std::string> out;
  for (const auto& [key, l] : listeners_)
    out.push_back(host_port(key.first, key.second) + " -> " + host_port(advertise_, l->local_port));
  return out;
}

void SpyProxy::accept(std::shared_ptr<Listener> l) {
  asio::co_spawn(
      ex_,
      [self = shared_from_this(), l]() -> asio::awaitable<void> {
        for (;;) {
          auto [ec, socket] = co_await l->acceptor.async_accept(use_nothrow);
          if (self->stopped_ || !l->acceptor.is_open()) co_return;
          if (ec) {
            if (ec == asio::error::operation_aborted) co_return;
            self->print("spy: accept on port " + std::to_string(l->local_port) + ": " + ec.message());
            continue;
          }
          const uint64_t id = self->next_session_++;
          ++self->stats_.connections;
          auto s = std::make_shared<Session>(self, id, std::move(socket), l->target_host, l->target_port);
          self->sessions_[id] = s;
          s->start();
        }
      },
      asio::detached);
}

uint16_t SpyProxy::local_port_for(const std::string& host, int32_t port) {
  if (port <= 0 || port > 65535) return 0;
  const auto key = std::make_pair(host, port);
  if (auto it = listeners_.find(key); it != listeners_.end()) return it->second->local_port;
  if (stopped_) return 0;
  auto l = std::make_shared<Listener>(ex_);
  l->target_host = host;
  l->target_port = static_cast<uint16_t>(port);
  boost::system::error_code ec;
  l->local_port = open_listener(l->acceptor, options_.listen_host, 0, ec);
  if (ec) {
    print("spy: cannot open a listener for broker " + host_port(host, port) + ": " + ec.message() +
          " (its address is left as it is)");
    return 0;
  }
  listeners_[key] = l;
  print("spy: broker " + host_port(host, port) + " is now reached through " +
        host_port(advertise_, l->local_port));
  accept(l);
  return l->local_port;
}

}  // namespace kafkawire::cli
