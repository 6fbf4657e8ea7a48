// Helpers shared by the `kafkawire` commands; explain.cpp and spy.cpp may use them too (see util.hpp).
#include "util.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>

#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/json.hpp"

namespace kafkawire::cli {

int usage_error(std::string_view command, const std::string& what) {
  std::fprintf(stderr, "kafkawire: %s\n(run `kafkawire%s%s --help` for the options)\n", what.c_str(),
               command.empty() ? "" : " ", std::string(command).c_str());
  return kExitUsage;
}

int failure(const std::string& what) {
  std::fprintf(stderr, "kafkawire: %s\n", what.c_str());
  return kExitFailure;
}

// ------------------------------------------------------------------------------------ configuration

bool ConfigInput::add_pair(std::string_view pair, std::string& problem) {
  const auto eq = pair.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    // Only what looks like a key is shown: "sasl.password:s3cret" must not print the password.
    const size_t key_end =
        std::min(pair.size(), pair.find_first_not_of("abcdefghijklmnopqrstuvwxyz"
                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"));
    problem =
        "'" + std::string(pair.substr(0, key_end)) + "'" +
        (key_end < pair.size() ? " and " + std::to_string(pair.size() - key_end) + " more characters" : "") +
        " is not key=value";
    return false;
  }
  values[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
  return true;
}

bool ConfigInput::add_file(const std::string& path, std::string& problem) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) {
    problem = path + ": cannot read: " + std::strerror(errno);
    return false;
  }
  std::map<std::string, std::string> file;
  if (!parse_java_properties(text, file, problem)) {
    problem = path + ": " + problem;
    return false;
  }
  for (auto& [k, v] : file) values[k] = std::move(v);
  return true;
}

std::optional<Config> make_config(ConfigInput input) {
  if (!input.has("bootstrap.servers")) {
    const char* env = std::getenv("KAFKAWIRE_BOOTSTRAP");
    if (env && *env) input.values["bootstrap.servers"] = env;
  }
  if (!input.has("bootstrap.servers")) {
    std::fprintf(stderr, "kafkawire: no brokers: give -b host:port (or set KAFKAWIRE_BOOTSTRAP)\n");
    return std::nullopt;
  }
  Config config;
  std::string problem;
  if (Config::parse(input.values, config, problem)) {
    std::fprintf(stderr, "kafkawire: %s\n", problem.c_str());
    return std::nullopt;
  }
  std::vector<std::pair<std::string, uint16_t>> servers;
  if (net::parse_bootstrap(config.bootstrap_servers, servers, &problem)) {
    std::fprintf(stderr, "kafkawire: %s\n", problem.c_str());
    return std::nullopt;
  }
  return config;
}

int dump_config(ConfigInput input, std::FILE* out) {
  auto config = make_config(std::move(input));
  if (!config) return kExitUsage;
  for (const auto& [key, value] : config->dump()) {
    std::string line = key + "=";
    for (char ch : value) line += ch == '\n' ? "\\n" : ch == '\r' ? "\\r" : std::string(1, ch);
    std::fprintf(out, "%s\n", line.c_str());
  }
  return kExitOk;
}

namespace {

// The width to wrap text for `out` to: $COLUMNS when set, else the terminal's, else 100.
size_t output_columns(std::FILE* out) {
  if (const char* env = std::getenv("COLUMNS"))
    if (auto n = parse_i64(env); n && *n > 0) return static_cast<size_t>(*n);
  winsize ws{};
  if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 100;
}

// The words of `text` filled greedily into lines of at most `width` characters; a word longer than that
// gets a line of its own, unbroken.
std::vector<std::string> wrap_words(std::string_view text, size_t width) {
  std::vector<std::string> lines;
  std::string line;
  while (!text.empty()) {
    const size_t start = text.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const std::string_view word = text.substr(0, text.find(' '));
    text.remove_prefix(word.size());
    if (!line.empty() && line.size() + 1 + word.size() > width) {
      lines.push_back(std::move(line));
      line.clear();
    }
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace

void print_config_keys(std::FILE* out) {
  size_t key_width = 0;
  for (const auto& k : config_keys()) key_width = std::max(key_width, k.name.size());
  // The meaning starts in the column after the longest key and wraps back to it. On a terminal too narrow
  // for that, each key gets a line of its own and its meaning follows, indented under it.
  const size_t columns = output_columns(out);
  const bool beside = columns >= key_width + 2 + 40;
  const size_t indent = beside ? key_width + 2 : 4;
  const size_t text_width = columns > indent ? columns - indent : 1;
  for (const auto& k : config_keys()) {
    std::string text(k.meaning);
    // What it accepts and its default, from the same table entry as the parser's rule.
    text += " (";
    if (k.rule.kind != ConfigKind::text) text += "accepts " + config_accepts(k.rule) + "; ";
    text += k.default_value.empty() ? std::string("no default") : "default " + std::string(k.default_value);
    text += ")";
    const auto lines = wrap_words(text, text_width);
    if (beside)
      std::fprintf(out, "%-*s  %s\n", static_cast<int>(key_width), std::string(k.name).c_str(),
                   lines[0].c_str());
    else
      std::fprintf(out, "%s\n%*s%s\n", std::string(k.name).c_str(), static_cast<int>(indent), "",
                   lines[0].c_str());
    for (size_t i = 1; i < lines.size(); ++i)
      std::fprintf(out, "%*s%s\n", static_cast<int>(indent), "", lines[i].c_str());
  }
}

// ---------------------------------------------------------------------------------------- running

int run_main(asio::io_context& io, asio::awaitable<int> op) {
  int rc = kExitFailure;
  asio::co_spawn(io, std::move(op), [&](std::exception_ptr e, int r) {
    rc = r;
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const ConfigError& x) {
        std::fprintf(stderr, "kafkawire: %s\n", x.what());
        rc = kExitUsage;
      } catch (const std::exception& x) {
        std::fprintf(stderr, "kafkawire: %s\n", x.what());
        rc = kExitFailure;
      }
    }
    io.stop();
  });
  io.run();
  return rc;
}

asio::awaitable<std::error_code> bounded_metadata(net::Pool& pool, const Config& config,
                                                  std::optional<std::vector<std::string>> topics,
                                                  std::chrono::milliseconds bound, bool allow_auto_create) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  // The bound is for the whole wait, a Metadata request in flight included (a broker that accepts the
  // connection and never answers would hold it for socket.connection.setup.timeout.ms or
  // request.timeout.ms): at the deadline the pool is closed, which fails that request at once. The
  // command gives up then, so nothing needs the pool afterwards.
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer guard(pool.get_executor(), deadline);
  guard.async_wait([expired, p = pool.shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // cancelled: Metadata came first
    *expired = true;
    p->close();
  });
  std::error_code ec, last_error;
  for (;;) {
    auto [e, none] = co_await pool.refresh_metadata(topics, allow_auto_create);
    ec = e;
    if (*expired) break;
    if (!ec) {
      guard.cancel();
      co_return ec;
    }
    last_error = ec;
    // A broker-side error is an answer, and a refused TLS handshake or configuration will not change: no
    // point asking again. Not reaching anyone may be a broker that is still starting: ask again until
    // the bound.
    if (ec != client_errc::disconnected && ec != client_errc::timeout) break;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    asio::steady_timer t(pool.get_executor(), std::min<std::chrono::steady_clock::duration>(
                                                  std::chrono::milliseconds(250), deadline - now));
    co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  guard.cancel();
  if (*expired || std::chrono::steady_clock::now() >= deadline) {
    const auto ms = bound.count();
    std::fprintf(stderr,
                 "kafkawire: no answer to Metadata from bootstrap.servers=%s within the -m timeout (%s)%s\n",
                 config.bootstrap_servers.c_str(),
                 (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms").c_str(),
                 last_error ? ("; last error: " + pool.describe(last_error)).c_str() : "");
    co_return client_errc::timeout;
  }
  std::fprintf(stderr, "kafkawire: no answer to Metadata from bootstrap.servers=%s: %s\n",
               config.bootstrap_servers.c_str(), pool.describe(ec).c_str());
  co_return ec;
}

// ---------------------------------------------------------------------------------------- parsing

std::string kafka_error_name(int16_t code) {
  const auto* e = find_kafka_error(code);
  return e ? std::string(e->name) : "error " + std::to_string(code);
}

std::optional<int64_t> parse_i64(std::string_view s) {
  int64_t v = 0;
  const char* begin = s.data();
  if (!s.empty() && s.front() == '+') ++begin;
  auto [p, ec] = std::from_chars(begin, s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int32_t> parse_i32(std::string_view s) {
  auto v = parse_i64(s);
  if (!v || *v < INT32_MIN || *v > INT32_MAX) return std::nullopt;
  return static_cast<int32_t>(*v);
}

std::optional<int64_t> parse_datetime(std::string_view s) {
  if (auto ms = parse_i64(s)) return ms;
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  // YYYY-MM-DDTHH:MM:SS
  if (s.size() < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' ||
      s[16] != ':')
    return std::nullopt;
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2), hour = digits(11, 2),
       minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (n < 3) millis = millis * 10 + (s[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 3; ++i) millis *= 10;
  }
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  int64_t seconds = 0;
  if (pos == s.size()) {
    tm.tm_isdst = -1;
    seconds = static_cast<int64_t>(std::mktime(&tm));
  } else if (s.substr(pos) == "Z") {
    seconds = static_cast<int64_t>(timegm(&tm));
  } else if (s[pos] == '+' || s[pos] == '-') {
    const int sign = s[pos] == '+' ? 1 : -1;
    auto zh = digits(pos + 1, 2);
    size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    auto zm = digits(mpos, 2);
    if (!zh || !zm || mpos + 2 != s.size()) return std::nullopt;
    seconds = static_cast<int64_t>(timegm(&tm)) - sign * (*zh * 3600 + *zm * 60);
  } else {
    return std::nullopt;
  }
  return seconds * 1000 + millis;
}

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 == s.size()) {
      out += s[i];
      continue;
    }
    const char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
        out += '\\';
        break;
      case 'x': {
        auto hex = [](char h) -> int {
          if (h >= '0' && h <= '9') return h - '0';
          if (h >= 'a' && h <= 'f') return h - 'a' + 10;
          if (h >= 'A' && h <= 'F') return h - 'A' + 10;
          return -1;
        };
        if (i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
          out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
          i += 2;
        } else {
          out += "\\x";
        }
        break;
      }
      default:
        out += '\\';
        out += c;
    }
  }
  return out;
}

void append_json_string(std::string& out, std::string_view s) { protocol::append_json_string(out, s); }

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

// ------------------------------------------------------------------------------------------ output

std::string Table::str() const {
  std::vector<size_t> width;
  for (const auto& row : rows_)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(width[i] - row[i].size() + 2, ' ');
    }
    out += '\n';
  }
  return out;
}

void Table::print(std::FILE* out) const {
  const std::string s = str();
  std::fwrite(s.data(), 1, s.size(), out);
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }
bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

Progress::Progress(bool enabled) : active_(enabled && stderr_is_terminal()) {}

void Progress::update(const std::string& text) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  std::fprintf(stderr, "\r\033[K%s", text.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::done() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace kafkawire::cli
