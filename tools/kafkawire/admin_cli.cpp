#include "admin_cli.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>

namespace kafkawire::cli {

bool option_value(const std::vector<std::string_view>& args, size_t& i, std::string_view& out,
                  std::string& problem) {
  if (i + 1 >= args.size()) {
    problem = std::string(args[i]) + " needs a value";
    return false;
  }
  out = args[++i];
  return true;
}

namespace {

enum class OptionParsed { not_common, taken, exit_ok, bad };

OptionParsed parse_admin_option(const std::vector<std::string_view>& args, size_t& i, AdminOptions& o,
                                std::string& problem) {
  const std::string_view a = args[i];
  std::string_view v;
  auto value = [&] { return option_value(args, i, v, problem); };
  if (a == "-b" || a == "--bootstrap-server") {
    if (!value()) return OptionParsed::bad;
    o.config.values["bootstrap.servers"] = std::string(v);
  } else if (a == "-X") {
    if (!value()) return OptionParsed::bad;
    if (v == "list") {
      print_config_keys(stdout);
      return OptionParsed::exit_ok;
    }
    if (v == "dump") {
      o.dump_config = true;
    } else if (!o.config.add_pair(v, problem)) {
      problem = "-X: " + problem;
      return OptionParsed::bad;
    }
  } else if (a == "-F") {
    if (!value()) return OptionParsed::bad;
    if (!o.config.add_file(std::string(v), problem)) {
      problem = "-F: " + problem;
      return OptionParsed::bad;
    }
  } else if (a == "-m") {
    if (!value()) return OptionParsed::bad;
    auto s = parse_i64(v);
    if (!s || *s < 0) {
      problem = "-m: '" + std::string(v) + "' is not a number of seconds";
      return OptionParsed::bad;
    }
    o.metadata_timeout = std::chrono::seconds(*s);
  } else if (a == "-J" || a == "--json") {
    o.json = true;
  } else {
    return OptionParsed::not_common;
  }
  return OptionParsed::taken;
}

}  // namespace

std::optional<int> admin_option(std::string_view command, void (*print_help)(std::FILE*),
                                const std::vector<std::string_view>& args, size_t& i, AdminOptions& o) {
  if (args[i] == "-h" || args[i] == "--help") {
    print_help(stdout);
    return kExitOk;
  }
  std::string problem;
  switch (parse_admin_option(args, i, o, problem)) {
    case OptionParsed::not_common:
      return std::nullopt;
    case OptionParsed::taken:
      return kTaken;
    case OptionParsed::exit_ok:
      return kExitOk;
    case OptionParsed::bad:
      break;
  }
  return usage_error(command, problem);
}

std::string error_name(std::error_code ec) {
  if (ec.category() == kafka_category()) return kafka_error_name(static_cast<int16_t>(ec.value()));
  return ec.message();
}

std::string json_error(std::error_code ec, const std::string& message) {
  if (!ec) return "null";
  const bool broker = ec.category() == kafka_category();
  return "{\"code\":" + std::to_string(broker ? ec.value() : -1) +
         ",\"name\":" + json_string(error_name(ec)) + ",\"message\":" + json_string(message) + "}";
}

void write(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

void write_results(bool json, bool dry_run, std::string_view key, const std::string& json_rows,
                   const Table& table, std::string_view dry_run_note) {
  write(json ? "{\"dry_run\":" + std::string(dry_run ? "true" : "false") + ",\"" + std::string(key) + "\":[" +
                   json_rows + "]}\n"
             : table.str());
  if (dry_run && !dry_run_note.empty())
    std::fprintf(stderr, "%% %.*s\n", static_cast<int>(dry_run_note.size()), dry_run_note.data());
}

int run_admin_command(const AdminOptions& o, std::function<asio::awaitable<int>(Admin&)> command) {
  if (o.dump_config) return dump_config(o.config, stdout);
  auto config = make_config(o.config);
  if (!config) return kExitUsage;
  asio::io_context io;
  auto run = [](AdminOptions o, Config config,
                std::function<asio::awaitable<int>(Admin&)> command) -> asio::awaitable<int> {
    auto ex = co_await asio::this_coro::executor;
    Admin admin(ex, config);
    if (co_await bounded_metadata(admin.pool(), config, std::vector<std::string>{}, o.metadata_timeout))
      co_return kExitFailure;
    co_return co_await command(admin);
  };
  return run_main(io, run(o, *config, std::move(command)));
}

}  // namespace kafkawire::cli
