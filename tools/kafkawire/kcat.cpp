// `kafkawire` with kcat's flags: -C consume, -P produce, -L metadata, -Q offsets for times, -G group
// consume. The behaviour follows kcat's documentation (what a kcat user expects to type and to see); the
// code is written from scratch on kafkawire's Consumer and Producer.
#include <fcntl.h>
#include <getopt.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <sstream>

#include "commands.hpp"
#include "kafkawire/consumer/consumer.hpp"
#include "kafkawire/consumer/producer.hpp"
#include "kafkawire/protocol/error_policy.hpp"
#include "util.hpp"

namespace kafkawire::cli {
namespace {

using namespace std::chrono_literals;
constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

enum class Mode { none, consume, produce, metadata, query, group };

struct KcatOptions {
  Mode mode = Mode::none;
  ConfigInput config;
  std::vector<std::string> topics;  // -t, repeatable (-C: several topics; -Q: topic:partition:timestamp)
  std::optional<int32_t> partition;
  std::string offset;  // -o as given
  bool exit_at_end = false;
  std::optional<int64_t> count;
  std::optional<std::string> format;
  bool json = false;
  std::string delimiter = "\n";
  std::optional<std::string> key_delimiter;
  std::optional<std::string> key;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  bool null_empty = false;  // -Z
  std::string group;
  std::vector<std::string> positional;  // -G: topics; -P: files
  bool quiet = false;
  std::chrono::milliseconds metadata_timeout{5000};
  bool dump_config = false;  // -X dump
};

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire <mode> [options]            (the flags of kcat)

Modes:
  -C                 consume
  -P                 produce (lines of stdin, or one record per file given after the options)
  -L                 metadata: brokers, topics, partitions with leader, replicas and in-sync replicas
  -Q                 offsets for times: -t topic:partition:timestamp (repeatable; -1 latest, -2 earliest)
  -G <group> topic.. consume as a member of a group, committing what was printed after each batch (a
                     commit the group refused in a rebalance is reported on stderr, and it goes on)
  With no mode: -C when stdin is a terminal, else -P (as kcat).

General:
  -b <brokers>       bootstrap.servers (default: $KAFKAWIRE_BOOTSTRAP)
  -t <topic>         topic (-C accepts several; without -p every partition of each)
  -p <partition>     partition (-P: default the partitioner; -1 too)
  -X <key=value>     a configuration key (-X list: every key). An unknown key is an error naming the
                     closest known one.
  -X dump            print the configuration -b/-X/-F (and the mode) make, key=value, then exit;
                     secrets (passwords, tokens, private keys) are shown as [redacted, N chars]
  -F <file>          configuration file, a Java client's .properties file as it is: key=value (or
                     key: value), # and ! comments, a trailing \ continues the line
  -m <seconds>       how long to keep trying to reach the cluster at start (default 5)
  -q                 quiet: no informational messages on stderr
  -J                 JSON output (-C: one object per record; -L; -Q)
  -h, --help         this text

Consumer (-C, -G):
  -o <offset>        where to start: beginning (default for -C) | end | stored (needs -X group.id) |
                     <offset> | -<n> (n before the end) | s@<timestamp ms> (first at or after it).
                     -G: beginning|end set auto.offset.reset for partitions without a committed offset
                     (default beginning); the committed offset wins otherwise.
  -e                 exit when every partition reached its end (its high watermark when the consumer
                     started)
  -c <count>         exit after this many records
  -f <format>        output format: %t topic, %p partition, %o offset, %k key, %K key length,
                     %s value, %S value length, %T timestamp (ms), %h headers as k=v,k=v (a null value:
                     k alone), %% a percent sign; escapes \n \r \t \\ \xHH
  -D <delim>         delimiter after each value (default \n; -P: between records)
  -K <delim>         print the key and this delimiter before each value (-P: split each record into
                     key and value at its first occurrence)
  -Z                 print null keys and values as NULL (-P: send empty keys and values as null)
  -J output: {"topic","partition","offset","ts","key","payload","headers":[k,v,...]}, null for null;
  bytes that are not UTF-8 come out as \u00XX.

Producer (-P):
  -k <key>           key of every record
  -H <name=value>    a header on every record (repeatable; "name" alone: a null value)
  -z <codec>         compression.type: none, gzip, snappy, lz4, zstd
  Topics are created on first use when the broker allows it (-X allow.auto.create.topics=false to
  refuse). Exit status 1 if any record failed; the errors are printed.

Progress goes to stderr only when stderr is a terminal. Exit status: 0 ok, 1 failure, 2 bad usage.

Other commands: kafkawire groups --help, kafkawire explain --help, kafkawire spy --help.
)",
      out);
}

int parse_args(int argc, char** argv, KcatOptions& o) {
  static const option long_options[] = {{"help", no_argument, nullptr, 'h'}, {nullptr, 0, nullptr, 0}};
  const char* optstring = ":PCLQG:b:t:p:X:F:o:ec:f:JD:K:k:H:z:Zqm:h";
  optind = 0;  // GNU: start over (and permute, so -G's topics may come before or after other flags)
  opterr = 0;
  std::string problem;
  auto set_mode = [&](Mode m) {
    if (o.mode != Mode::none && o.mode != m) {
      problem = "give one mode: -C, -P, -L, -Q or -G";
      return false;
    }
    o.mode = m;
    return true;
  };
  for (int c; (c = getopt_long(argc, argv, optstring, long_options, nullptr)) != -1;) {
    const std::string arg = optarg ? optarg : "";
    switch (c) {
      case 'C':
        if (!set_mode(Mode::consume)) return usage_error("", problem);
        break;
      case 'P':
        if (!set_mode(Mode::produce)) return usage_error("", problem);
        break;
      case 'L':
        if (!set_mode(Mode::metadata)) return usage_error("", problem);
        break;
      case 'Q':
        if (!set_mode(Mode::query)) return usage_error("", problem);
        break;
      case 'G':
        if (!set_mode(Mode::group)) return usage_error("", problem);
        o.group = arg;
        break;
      case 'b':
        o.config.values["bootstrap.servers"] = arg;
        break;
      case 't':
        o.topics.push_back(arg);
        break;
      case 'p': {
        auto p = parse_i32(arg);
        if (!p || *p < -1) return usage_error("", "-p: '" + arg + "' is not a partition number");
        if (*p >= 0) o.partition = *p;
        break;
      }
      case 'X':
        if (arg == "list" || arg == "help") {
          print_config_keys(stdout);
          return kExitOk;
        }
        if (arg == "dump") {
          o.dump_config = true;
          break;
        }
        if (!o.config.add_pair(arg, problem)) return usage_error("", "-X: " + problem);
        break;
      case 'F':
        if (!o.config.add_file(arg, problem)) return usage_error("", "-F: " + problem);
        break;
      case 'o':
        o.offset = arg;
        break;
      case 'e':
        o.exit_at_end = true;
        break;
      case 'c': {
        auto n = parse_i64(arg);
        if (!n || *n < 0) return usage_error("", "-c: '" + arg + "' is not a count");
        o.count = *n;
        break;
      }
      case 'f':
        o.format = unescape(arg);
        break;
      case 'J':
        o.json = true;
        break;
      case 'D':
        o.delimiter = unescape(arg);
        break;
      case 'K':
        o.key_delimiter = unescape(arg);
        break;
      case 'k':
        o.key = arg;
        break;
      case 'H': {
        const auto eq = arg.find('=');
        if (arg.empty() || eq == 0) return usage_error("", "-H: '" + arg + "' is not name=value");
        if (eq == std::string::npos)
          o.headers.emplace_back(arg, std::nullopt);
        else
          o.headers.emplace_back(arg.substr(0, eq), arg.substr(eq + 1));
        break;
      }
      case 'z':
        o.config.values["compression.type"] = arg;
        break;
      case 'Z':
        o.null_empty = true;
        break;
      case 'q':
        o.quiet = true;
        break;
      case 'm': {
        auto s = parse_i64(arg);
        if (!s || *s < 0) return usage_error("", "-m: '" + arg + "' is not a number of seconds");
        o.metadata_timeout = std::chrono::seconds(*s);
        break;
      }
      case 'h':
        print_help(stdout);
        return kExitOk;
      case ':':
        return usage_error("", std::string("option -") + static_cast<char>(optopt) + " needs a value");
      default:
        if (optopt) return usage_error("", std::string("unknown option -") + static_cast<char>(optopt));
        return usage_error("", std::string("unknown option ") + argv[optind - 1]);
    }
  }
  for (int i = optind; i < argc; ++i) o.positional.emplace_back(argv[i]);
  if (o.delimiter.empty()) return usage_error("", "-D: the delimiter is empty");
  if (o.key_delimiter && o.key_delimiter->empty()) return usage_error("", "-K: the delimiter is empty");
  return -1;  // go on
}

// ------------------------------------------------------------------------------------------ output

class Formatter {
 public:
  explicit Formatter(const KcatOptions& o) : o_(o) {}

  void add(std::string& out, const Record& r) const {
    if (o_.json)
      json(out, r);
    else if (o_.format)
      formatted(out, r);
    else
      plain(out, r);
  }

 private:
  void bytes_or_null(std::string& out, const std::optional<protocol::Bytes>& b) const {
    if (b)
      out.append(b->str());
    else if (o_.null_empty)
      out += "NULL";
  }
  static std::string length(const std::optional<protocol::Bytes>& b) {
    return b ? std::to_string(b->size()) : std::string("-1");
  }

  void plain(std::string& out, const Record& r) const {
    if (o_.key_delimiter) {
      bytes_or_null(out, r.key());
      out += *o_.key_delimiter;
    }
    bytes_or_null(out, r.value());
    out += o_.delimiter;
  }

  void formatted(std::string& out, const Record& r) const {
    const std::string& f = *o_.format;
    for (size_t i = 0; i < f.size(); ++i) {
      if (f[i] != '%' || i + 1 == f.size()) {
        out += f[i];
        continue;
      }
      switch (f[++i]) {
        case 't':
          out.append(r.topic());
          break;
        case 'p':
          out += std::to_string(r.partition());
          break;
        case 'o':
          out += std::to_string(r.offset());
          break;
        case 'k':
          bytes_or_null(out, r.key());
          break;
        case 'K':
          out += length(r.key());
          break;
        case 's':
          bytes_or_null(out, r.value());
          break;
        case 'S':
          out += length(r.value());
          break;
        case 'T':
          out += std::to_string(r.timestamp());
          break;
        case 'h': {
          bool first = true;
          for (auto [k, v] : r.headers()) {
            if (!first) out += ',';
            first = false;
            out.append(k);
            if (v) {
              out += '=';
              out.append(v->str());
            }
          }
          break;
        }
        case '%':
          out += '%';
          break;
        default:
          out += '%';
          out += f[i];
      }
    }
  }

  static void json_bytes(std::string& out, const std::optional<protocol::Bytes>& b) {
    if (b)
      append_json_string(out, b->str());
    else
      out += "null";
  }

  void json(std::string& out, const Record& r) const {
    out += "{\"topic\":";
    append_json_string(out, r.topic());
    out += ",\"partition\":" + std::to_string(r.partition());
    out += ",\"offset\":" + std::to_string(r.offset());
    out += ",\"ts\":" + std::to_string(r.timestamp());
    out += ",\"key\":";
    json_bytes(out, r.key());
    out += ",\"payload\":";
    json_bytes(out, r.value());
    out += ",\"headers\":[";
    bool first = true;
    for (auto [k, v] : r.headers()) {
      if (!first) out += ',';
      first = false;
      append_json_string(out, k);
      out += ',';
      json_bytes(out, v);
    }
    out += "]}\n";
  }

  const KcatOptions& o_;
};

void write_out(std::string& out) {
  if (out.empty()) return;
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
  out.clear();
}

// SIGINT/SIGTERM: the first asks the loop to stop (and commit what was printed), a second one exits now.
struct StopSignal {
  explicit StopSignal(asio::any_io_executor ex) : signals(ex, SIGINT, SIGTERM) {
    signals.async_wait([flag = requested, this](std::error_code ec, int) {
      if (ec) return;
      *flag = true;
      if (on_stop) on_stop();
      signals.async_wait([](std::error_code ec2, int sig) {
        if (!ec2) std::_Exit(128 + sig);
      });
    });
  }
  bool stop() const { return *requested; }
  std::function<void()> on_stop;  // e.g. cancel a read that would otherwise wait for input
  std::shared_ptr<bool> requested = std::make_shared<bool>(false);
  asio::signal_set signals;
};

// ----------------------------------------------------------------------------------------- consume

// The partitions of `topics` (all, or only `partition`), from the metadata already fetched.
bool partitions_of(net::Pool& pool, const std::vector<std::string>& topics, std::optional<int32_t> partition,
                   std::vector<TopicPartition>& out) {
  for (const auto& t : topics) {
    const net::TopicInfo* info = pool.metadata().topic(t);
    if (!info || as_errc(info->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(info->error_code) == kafka_errc::unknown_topic_id) {
      failure("topic " + t + ": no such topic in the cluster");
      return false;
    }
    if (info->error_code) {
      failure("topic " + t + ": " + kafka_error_name(info->error_code));
      return false;
    }
    const auto n = static_cast<int32_t>(info->partitions.size());
    if (partition) {
      if (*partition >= n) {
        failure("topic " + t + " has " + std::to_string(n) + " partition(s): no partition " +
                std::to_string(*partition));
        return false;
      }
      out.push_back({t, *partition});
    } else {
      for (int32_t p = 0; p < n; ++p) out.push_back({t, p});
    }
  }
  return true;
}

// Applies -o to the assigned partitions (not for -G, where -o is auto.offset.reset).
asio::awaitable<int> apply_start_offset(Consumer& c, const KcatOptions& o,
                                        const std::vector<TopicPartition>& tps) {
  const std::string off = o.offset.empty() ? std::string("beginning") : o.offset;
  if (off == "beginning") {
    c.seek_to_beginning(tps);
  } else if (off == "end") {
    c.seek_to_end(tps);
  } else if (off == "stored") {
    if (c.config().group_id.empty())
      co_return usage_error("", "-o stored needs a group: -X group.id=<group>");
  } else if (off.rfind("s@", 0) == 0) {
    auto ts = parse_i64(off.substr(2));
    if (!ts) co_return usage_error("", "-o: '" + off + "': s@ takes a timestamp in milliseconds");
    std::map<TopicPartition, int64_t> want;
    for (const auto& tp : tps) want[tp] = *ts;
    auto [ec, found] = co_await c.async_offsets_for_times(want, use_nothrow);
    if (ec) co_return failure("offsets for timestamp " + std::to_string(*ts) + ": " + c.error_text());
    for (const auto& tp : tps) {
      auto it = found.find(tp);
      if (it != found.end() && it->second)
        c.seek(tp, it->second->offset);
      else
        c.seek_to_end(std::vector<TopicPartition>(1, tp));
    }
  } else if (auto n = parse_i64(off)) {
    if (*n >= 0) {
      for (const auto& tp : tps) c.seek(tp, *n);
    } else {
      auto [e1, earliest] = co_await c.async_list_offsets(tps, -2, use_nothrow);
      if (e1) co_return failure("earliest offsets: " + c.error_text());
      auto [e2, latest] = co_await c.async_list_offsets(tps, -1, use_nothrow);
      if (e2) co_return failure("latest offsets: " + c.error_text());
      for (const auto& tp : tps) c.seek(tp, std::max(earliest[tp], latest[tp] + *n));
    }
  } else {
    co_return usage_error("",
                          "-o: '" + off + "' is not beginning, end, stored, <offset>, -<n> or s@<timestamp>");
  }
  co_return -1;
}

// A commit the group refused because it rebalanced meanwhile (the first refused partition's reason):
// the partitions are no longer this member's, or the error policy says the member must join again.
bool refused_by_rebalance(std::error_code ec) {
  return ec == client_errc::not_assigned || error_action(ApiFamily::offset_commit, ec) == ErrorAction::rejoin;
}

asio::awaitable<int> consume(const KcatOptions& o, Config user_config) {
  auto ex = co_await asio::this_coro::executor;
  const bool group_mode = o.mode == Mode::group;
  const std::vector<std::string>& topics = group_mode ? o.positional : o.topics;
  if (topics.empty())
    co_return usage_error(
        "", group_mode ? "-G <group> needs at least one topic after the options" : "-C needs -t <topic>");
  // The positions printed are what gets committed (when there is a group and enable.auto.commit is on),
  // not the positions after the whole last poll: with -c a batch may be cut short.
  const bool commit = !user_config.group_id.empty() && user_config.enable_auto_commit;
  Config config = user_config;
  config.enable_auto_commit = false;
  Consumer c(ex, config);
  StopSignal stop(ex);

  if (co_await bounded_metadata(c.pool(), config, topics, o.metadata_timeout)) co_return kExitFailure;
  std::vector<TopicPartition> tps;
  if (!partitions_of(c.pool(), topics, group_mode ? std::nullopt : o.partition, tps)) co_return kExitFailure;
  if (group_mode) {
    // The group coordinator shares the partitions among the members; they arrive during poll(). What
    // was printed is committed after each batch, so a revocation has nothing left to commit (and must
    // not commit the consumer's position, which may be past what -c or -e let through).
    RebalanceListener listener;
    listener.on_revoked = [](const std::vector<TopicPartition>&) {};
    c.set_rebalance_listener(std::move(listener));
    c.subscribe(topics);
  } else {
    c.assign(tps);
    if (int rc = co_await apply_start_offset(c, o, tps); rc >= 0) co_return rc;
  }

  // -e: the high watermark of each partition when it was first assigned (group partitions come and go).
  std::map<TopicPartition, int64_t> end;
  std::set<TopicPartition> at_end;
  auto reached_end = [&] {
    const auto assigned = c.assignment();
    if (assigned.empty()) return false;  // a group member before its first assignment
    size_t done = 0;
    for (const auto& tp : assigned) {
      if (at_end.count(tp)) {
        ++done;
        continue;
      }
      if (!end.count(tp)) continue;
      const auto pos = c.position(tp);
      if (!pos || *pos < end[tp]) continue;
      at_end.insert(tp);
      ++done;
      c.pause(std::vector<TopicPartition>(1, tp));
      if (!o.quiet)
        std::fprintf(stderr, "%% Reached end of topic %s [%d] at offset %lld\n", tp.topic.c_str(),
                     tp.partition, static_cast<long long>(*pos));
    }
    return done == assigned.size();
  };

  Formatter fmt(o);
  Progress progress(!stdout_is_terminal() && !o.quiet);
  std::string out;
  int64_t printed = 0;
  int rc = kExitOk;
  bool limit = o.count && *o.count == 0;
  const auto started = std::chrono::steady_clock::now();
  while (!limit && !stop.stop()) {
    if (o.exit_at_end) {
      std::vector<TopicPartition> unknown;
      for (const auto& tp : c.assignment())
        if (!end.count(tp)) unknown.push_back(tp);
      if (!unknown.empty()) {
        auto [ec, latest] = co_await c.async_list_offsets(unknown, -1, use_nothrow);
        if (ec) {
          rc = failure("end offsets: " + c.error_text());
          break;
        }
        for (const auto& [tp, off] : latest) end[tp] = off;
      }
      if (reached_end()) break;
    }
    auto [ec, records] = co_await c.async_poll(o.exit_at_end ? 200ms : 500ms, use_nothrow);
    if (ec) {
      rc = failure("consume: " + (c.error_text().empty() ? ec.message() : c.error_text()));
      break;
    }
    // What was printed, per partition: the offset after the last printed record. Records of a partition
    // come together, so the map is looked up once per run of them.
    std::map<TopicPartition, int64_t> processed;
    int64_t* processed_slot = nullptr;
    const int64_t* end_slot = nullptr;
    std::string_view run_topic;
    int32_t run_partition = -1;
    for (const Record& r : records) {
      if (r.partition() != run_partition || r.topic() != run_topic) {
        run_topic = r.topic();
        run_partition = r.partition();
        const TopicPartition tp{std::string(run_topic), run_partition};
        auto it = end.find(tp);
        end_slot = it == end.end() ? nullptr : &it->second;
        processed_slot = commit ? &processed[tp] : nullptr;
      }
      if (o.exit_at_end && end_slot && r.offset() >= *end_slot) continue;  // written after we started
      fmt.add(out, r);
      if (processed_slot) *processed_slot = r.offset() + 1;
      ++printed;
      if (o.count && printed >= *o.count) {
        limit = true;
        break;
      }
    }
    std::erase_if(processed, [](const auto& kv) { return kv.second == 0; });
    write_out(out);
    if (commit && !processed.empty()) {
      auto [cec] = co_await c.async_commit(processed, use_nothrow);
      if (cec && refused_by_rebalance(cec)) {
        // The group moved partitions (or its generation) on between the poll and the commit: their new
        // owner resumes at the last acknowledged commit and prints again what this member printed since.
        // A normal event in a group's life, so the member goes on, as kcat's does; the text names the
        // partitions and the reason.
        std::fprintf(stderr, "%% %s: their new owner prints those records again\n", c.error_text().c_str());
      } else if (cec) {
        rc = failure(c.error_text().empty() ? "commit: " + cec.message() : c.error_text());
        break;
      }
    }
    if (progress.active()) {
      const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      progress.update(
          "% " + std::to_string(printed) + " records consumed (" +
          std::to_string(static_cast<int64_t>(secs > 0 ? static_cast<double>(printed) / secs : 0)) + "/s)");
    }
  }
  progress.done();
  auto [close_ec] = co_await c.async_close(use_nothrow);
  (void)close_ec;
  co_return rc;
}

// ----------------------------------------------------------------------------------------- produce

struct Deliveries {
  int64_t sent = 0;
  int64_t delivered = 0;
  int64_t failed = 0;
  int64_t finished() const { return delivered + failed; }
};

// Reads stdin without blocking the io_context (pipes, terminals and files alike), restoring its flags
// afterwards: Asio makes the descriptor non-blocking, and stdin's open file is shared with the shell.
class StdinReader {
 public:
  explicit StdinReader(asio::any_io_executor ex) : in_(ex), flags_(::fcntl(STDIN_FILENO, F_GETFL)) {
    boost::system::error_code ec;
    in_.assign(::dup(STDIN_FILENO), ec);
    ok_ = !ec;
  }
  void cancel() {
    boost::system::error_code ec;
    in_.cancel(ec);
  }
  ~StdinReader() {
    boost::system::error_code ec;
    in_.close(ec);
    if (flags_ >= 0) ::fcntl(STDIN_FILENO, F_SETFL, flags_);
  }
  // Appends what is there to `buf`; false at the end of input (or an error, then `error` is set).
  asio::awaitable<bool> read(std::string& buf, std::string& error) {
    char chunk[65536];
    if (!ok_) {
      const ssize_t n = ::read(STDIN_FILENO, chunk, sizeof chunk);
      if (n <= 0) {
        if (n < 0) error = std::strerror(errno);
        co_return false;
      }
      buf.append(chunk, static_cast<size_t>(n));
      co_return true;
    }
    auto [ec, n] = co_await in_.async_read_some(asio::buffer(chunk), use_nothrow);
    if (ec) {
      if (ec != asio::error::eof && ec != asio::error::operation_aborted) error = ec.message();
      co_return false;
    }
    buf.append(chunk, n);
    co_return true;
  }

 private:
  asio::posix::stream_descriptor in_;
  int flags_;
  bool ok_ = false;
};

asio::awaitable<int> produce(const KcatOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  if (o.topics.size() != 1) co_return usage_error("", "-P needs one -t <topic>");
  const std::string& topic = o.topics.front();
  Producer p(ex, config);
  StopSignal stop(ex);
  if (co_await bounded_metadata(p.pool(), config, std::vector<std::string>(1, topic), o.metadata_timeout,
                                config.allow_auto_create_topics))
    co_return kExitFailure;
  // A topic being created on first use answers UNKNOWN_TOPIC_OR_PARTITION or LEADER_NOT_AVAILABLE for a
  // moment: ask again until it has partitions.
  const auto created_by =
      std::chrono::steady_clock::now() + std::max<std::chrono::milliseconds>(o.metadata_timeout, 5s);
  for (;;) {
    const net::TopicInfo* info = p.pool().metadata().topic(topic);
    const bool ready = info && info->error_code == 0 && !info->partitions.empty();
    if (ready || !config.allow_auto_create_topics || std::chrono::steady_clock::now() >= created_by) break;
    asio::steady_timer t(ex, 200ms);
    co_await t.async_wait(use_nothrow);
    std::vector<std::string> one(1, topic);
    co_await p.pool().refresh_metadata(std::move(one), true);
  }
  if (const net::TopicInfo* info = p.pool().metadata().topic(topic)) {
    if (as_errc(info->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(info->error_code) == kafka_errc::unknown_topic_id)
      co_return failure("topic " + topic + ": no such topic in the cluster" +
                        (config.allow_auto_create_topics ? "" : " (allow.auto.create.topics=false)"));
    if (o.partition && !info->partitions.empty() &&
        *o.partition >= static_cast<int32_t>(info->partitions.size()))
      co_return failure("topic " + topic + " has " + std::to_string(info->partitions.size()) +
                        " partition(s): no partition " + std::to_string(*o.partition));
  }

  auto results = std::make_shared<Deliveries>();
  constexpr int kMaxPrinted = 10;
  // One callback for every record's result, and each record handed over as views (copied once, into
  // its batch): the cheap way to produce a large input.
  p.on_delivery([results, &p](const DeliveryReport& d) {
    if (!d.error) {
      ++results->delivered;
      return;
    }
    if (++results->failed <= kMaxPrinted) {
      std::fprintf(stderr, "kafkawire: delivery failed (%.*s [%d]): %s\n", static_cast<int>(d.topic.size()),
                   d.topic.data(), d.partition,
                   p.error_text().empty() ? d.error.message().c_str() : p.error_text().c_str());
    }
  });
  std::vector<RecordHeaderRef> headers;
  for (const auto& [k, v] : o.headers)
    headers.push_back({k, v ? std::optional<std::string_view>(*v) : std::nullopt});
  auto send = [&](std::string_view body, bool whole) {
    RecordRef r{.topic = topic, .partition = o.partition, .headers = headers};
    std::string_view value = body;
    if (o.key) {
      r.key = *o.key;
    } else if (o.key_delimiter && !whole) {
      const auto at = body.find(*o.key_delimiter);
      if (at != std::string_view::npos) {
        r.key = body.substr(0, at);
        value = body.substr(at + o.key_delimiter->size());
      }
    }
    if (!(o.null_empty && value.empty())) r.value = value;
    if (o.null_empty && r.key && r.key->empty()) r.key.reset();
    ++results->sent;
    p.send(r);
  };
  Progress progress(!o.quiet);
  auto show = [&] {
    progress.update("% " + std::to_string(results->delivered) + " records produced" +
                    (results->failed ? ", " + std::to_string(results->failed) + " failed" : std::string()) +
                    ", " + std::to_string(results->sent - results->finished()) + " in flight");
  };
  // A bounded number of records in flight: memory stays flat whatever the input.
  constexpr int64_t kWindow = 20000;
  auto throttle = [&]() -> asio::awaitable<void> {
    while (results->sent - results->finished() >= kWindow) {
      asio::steady_timer t(ex, 2ms);
      co_await t.async_wait(use_nothrow);
    }
  };

  int rc = kExitOk;
  if (!o.positional.empty()) {
    // kcat: each file is one record.
    for (const auto& path : o.positional) {
      std::ifstream f(path, std::ios::binary);
      if (!f) {
        rc = failure(path + ": cannot open");
        break;
      }
      std::ostringstream ss;
      ss << f.rdbuf();
      send(ss.str(), true);
      co_await throttle();
      show();
    }
  } else {
    StdinReader in(ex);
    stop.on_stop = [&in] { in.cancel(); };
    std::string buf, error;
    size_t scan = 0;
    for (;;) {
      if (stop.stop()) break;
      const bool more = co_await in.read(buf, error);
      size_t start = 0;
      for (;;) {
        const auto at = buf.find(o.delimiter, std::max(scan, start));
        if (at == std::string::npos) break;
        send(std::string_view(buf).substr(start, at - start), false);
        start = at + o.delimiter.size();
      }
      buf.erase(0, start);
      scan = buf.size() >= o.delimiter.size() ? buf.size() - o.delimiter.size() + 1 : 0;
      co_await throttle();
      show();
      if (!more || stop.stop()) {
        if (!error.empty()) rc = failure("stdin: " + error);
        if (!more && !buf.empty()) send(buf, false);  // the last record needs no delimiter after it
        break;
      }
    }
  }
  stop.on_stop = nullptr;
  co_await p.async_flush(use_nothrow);
  // Every delivery handler has run before the Producer goes away.
  while (results->finished() < results->sent) {
    show();
    asio::steady_timer t(ex, 5ms);
    co_await t.async_wait(use_nothrow);
  }
  progress.done();
  co_await p.async_close(use_nothrow);
  if (results->failed) {
    if (results->failed > kMaxPrinted)
      std::fprintf(stderr, "kafkawire: ... and %lld more failures\n",
                   static_cast<long long>(results->failed - kMaxPrinted));
    std::fprintf(stderr, "kafkawire: %lld of %lld records failed\n", static_cast<long long>(results->failed),
                 static_cast<long long>(results->sent));
    rc = kExitFailure;
  }
  co_return rc;
}

// ---------------------------------------------------------------------------------------- metadata

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (auto id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::string json_ids(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (auto id : ids) s += (s.size() > 1 ? "," : "") + std::string("{\"id\":") + std::to_string(id) + "}";
  return s + "]";
}

asio::awaitable<int> metadata(const KcatOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  Consumer c(ex, config);
  std::optional<std::vector<std::string>> topics;
  if (!o.topics.empty()) topics = o.topics;
  if (co_await bounded_metadata(c.pool(), config, topics, o.metadata_timeout)) co_return kExitFailure;
  const auto& md = c.pool().metadata();
  std::vector<const net::TopicInfo*> shown;
  if (topics) {
    for (const auto& t : *topics)
      if (const auto* info = md.topic(t)) shown.push_back(info);
  } else {
    for (const auto& [name, info] : md.topics()) shown.push_back(&info);
  }
  int rc = kExitOk;
  std::string out;
  if (o.json) {
    out += "{\"cluster_id\":" + (md.cluster_id() ? json_string(*md.cluster_id()) : std::string("null"));
    out += ",\"controllerid\":" + std::to_string(md.controller_id());
    out += ",\"brokers\":[";
    bool first = true;
    for (const auto& [id, b] : md.brokers()) {
      out += first ? "" : ",";
      first = false;
      out += "{\"id\":" + std::to_string(id) +
             ",\"name\":" + json_string(b.host + ":" + std::to_string(b.port)) +
             ",\"rack\":" + (b.rack ? json_string(*b.rack) : std::string("null")) + "}";
    }
    out += "],\"topics\":[";
    first = true;
    for (const auto* t : shown) {
      out += first ? "" : ",";
      first = false;
      out += "{\"topic\":" + json_string(t->name);
      if (t->error_code) {
        out += ",\"error\":" + json_string(kafka_error_name(t->error_code));
        rc = kExitFailure;
      }
      out += ",\"internal\":" + std::string(t->internal ? "true" : "false") + ",\"partitions\":[";
      bool pfirst = true;
      for (const auto& p : t->partitions) {
        out += pfirst ? "" : ",";
        pfirst = false;
        out += "{\"partition\":" + std::to_string(p.partition) + ",\"leader\":" + std::to_string(p.leader);
        if (p.error_code) out += ",\"error\":" + json_string(kafka_error_name(p.error_code));
        out += ",\"replicas\":" + json_ids(p.replicas) + ",\"isrs\":" + json_ids(p.isr) + "}";
      }
      out += "]}";
    }
    out += "]}\n";
  } else {
    std::string names;
    if (topics)
      for (const auto& t : *topics) names += (names.empty() ? "" : ", ") + t;
    out += "Metadata for " + (topics ? "topic(s) " + names : std::string("all topics")) + " (bootstrap " +
           config.bootstrap_servers + "):\n";
    if (md.cluster_id()) out += " cluster id " + *md.cluster_id() + "\n";
    out += " " + std::to_string(md.brokers().size()) + " broker(s):\n";
    for (const auto& [id, b] : md.brokers()) {
      out += "  broker " + std::to_string(id) + " at " + b.host + ":" + std::to_string(b.port);
      if (b.rack) out += " rack " + *b.rack;
      if (id == md.controller_id()) out += " (controller)";
      out += "\n";
    }
    out += " " + std::to_string(shown.size()) + " topic(s):\n";
    for (const auto* t : shown) {
      if (t->error_code) {
        out += "  topic \"" + t->name + "\" error: " + make_kafka_error(t->error_code).message() + "\n";
        rc = kExitFailure;
        continue;
      }
      out += "  topic \"" + t->name + "\" with " + std::to_string(t->partitions.size()) + " partition(s):\n";
      for (const auto& p : t->partitions) {
        out += "    partition " + std::to_string(p.partition) + ", leader " + std::to_string(p.leader) +
               ", replicas: " + join_ids(p.replicas) + ", isrs: " + join_ids(p.isr);
        if (p.error_code) out += ", " + kafka_error_name(p.error_code);
        out += "\n";
      }
    }
  }
  write_out(out);
  co_return rc;
}

// ------------------------------------------------------------------------------------------- query

asio::awaitable<int> query(const KcatOptions& o, Config config) {
  auto ex = co_await asio::this_coro::executor;
  if (o.topics.empty()) co_return usage_error("", "-Q needs -t topic:partition:timestamp");
  // In the order given; a partition may be asked about at several timestamps.
  std::vector<std::pair<TopicPartition, int64_t>> want;
  std::vector<std::string> topics;
  for (const auto& t : o.topics) {
    const auto c2 = t.rfind(':');
    const auto c1 = c2 == std::string::npos || c2 == 0 ? std::string::npos : t.rfind(':', c2 - 1);
    std::optional<int32_t> part;
    std::optional<int64_t> ts;
    if (c1 != std::string::npos && c1 > 0) {
      part = parse_i32(std::string_view(t).substr(c1 + 1, c2 - c1 - 1));
      ts = parse_i64(std::string_view(t).substr(c2 + 1));
    }
    if (!part || *part < 0 || !ts)
      co_return usage_error("", "-Q: '" + t + "' is not topic:partition:timestamp");
    want.push_back({{t.substr(0, c1), *part}, *ts});
    topics.push_back(t.substr(0, c1));
  }
  Consumer c(ex, config);
  if (co_await bounded_metadata(c.pool(), config, topics, o.metadata_timeout)) co_return kExitFailure;
  for (const auto& [tp, ts] : want) {
    const auto* info = c.pool().metadata().topic(tp.topic);
    if (!info || as_errc(info->error_code) == kafka_errc::unknown_topic_or_partition ||
        as_errc(info->error_code) == kafka_errc::unknown_topic_id)
      co_return failure("topic " + tp.topic + ": no such topic in the cluster");
    if (tp.partition >= static_cast<int32_t>(info->partitions.size()))
      co_return failure("topic " + tp.topic + " has " + std::to_string(info->partitions.size()) +
                        " partition(s): no partition " + std::to_string(tp.partition));
  }
  // A round asks each partition once (ListOffsets takes one timestamp per partition).
  std::vector<int64_t> offsets(want.size(), -1);
  std::vector<bool> done(want.size(), false);
  for (size_t asked = 0; asked < want.size();) {
    std::map<TopicPartition, int64_t> round;
    std::map<TopicPartition, size_t> index;
    for (size_t i = 0; i < want.size(); ++i)
      if (!done[i] && !round.count(want[i].first)) {
        round[want[i].first] = want[i].second;
        index[want[i].first] = i;
      }
    auto [ec, found] = co_await c.async_offsets_for_times(round, use_nothrow);
    if (ec)
      co_return failure("offsets for times: " + (c.error_text().empty() ? ec.message() : c.error_text()));
    for (const auto& [tp, i] : index) {
      auto it = found.find(tp);
      if (it != found.end() && it->second) offsets[i] = it->second->offset;
      done[i] = true;
      ++asked;
    }
  }
  std::string out;
  for (size_t i = 0; i < want.size(); ++i) {
    const auto& [tp, ts] = want[i];
    if (o.json)
      out += "{\"topic\":" + json_string(tp.topic) + ",\"partition\":" + std::to_string(tp.partition) +
             ",\"timestamp\":" + std::to_string(ts) + ",\"offset\":" + std::to_string(offsets[i]) + "}\n";
    else
      out += "Topic " + tp.topic + " partition " + std::to_string(tp.partition) + " timestamp " +
             std::to_string(ts) + " offset " + std::to_string(offsets[i]) + "\n";
  }
  write_out(out);
  co_return kExitOk;
}

}  // namespace

int run_kcat(int argc, char** argv) {
  KcatOptions o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  if (o.mode == Mode::none && !o.dump_config) {
    o.mode = ::isatty(STDIN_FILENO) ? Mode::consume : Mode::produce;
    if (!o.quiet)
      std::fprintf(
          stderr, "%% No mode given: %s (use -C or -P to choose)\n",
          o.mode == Mode::consume ? "consuming, stdin is a terminal" : "producing, stdin is not a terminal");
  }
  if (o.mode == Mode::produce) {
    // As the Java and librdkafka producers: a Metadata request for a topic may create it.
    o.config.set_default("allow.auto.create.topics", "true");
  }
  if (o.mode == Mode::group) {
    if (o.group.empty()) return usage_error("", "-G needs a group name");
    o.config.values["group.id"] = o.group;
    if (o.offset.empty() || o.offset == "beginning")
      o.config.set_default("auto.offset.reset", "earliest");
    else if (o.offset == "end")
      o.config.set_default("auto.offset.reset", "latest");
    else if (o.offset != "stored")
      return usage_error("",
                         "-G: -o is beginning, end or stored (where to start without a committed offset)");
  }
  if ((o.mode == Mode::consume || o.mode == Mode::group) && o.json && o.format)
    return usage_error("", "give -J or -f, not both");
  if (o.dump_config) return dump_config(o.config, stdout);
  auto config = make_config(o.config);
  if (!config) return kExitUsage;
  asio::io_context io;
  switch (o.mode) {
    case Mode::consume:
    case Mode::group:
      return run_main(io, consume(o, *config));
    case Mode::produce:
      return run_main(io, produce(o, *config));
    case Mode::metadata:
      return run_main(io, metadata(o, *config));
    case Mode::query:
      return run_main(io, query(o, *config));
    case Mode::none:
      break;
  }
  return kExitUsage;
}

}  // namespace kafkawire::cli
