// `kafkawire delete-records TOPIC:PARTITION:OFFSET ...`: deletes the records of partitions below an
// offset (DeleteRecords, to each partition's leader), with the library's Admin, as
// kafka-delete-records.sh does from its JSON file. --dry-run changes nothing: it shows, from ListOffsets,
// what would be deleted.
#include "admin_cli.hpp"
#include "commands.hpp"

namespace kafkawire::cli {
namespace {

constexpr std::string_view kCommand = "delete-records";

void print_help(std::FILE* out) {
  std::fputs(
      R"(Usage: kafkawire delete-records <topic>:<partition>:<offset>... [--dry-run] [options]

Deletes the records of each partition below the offset: the partition's log start offset moves there
(DeleteRecords, sent to the partition's leader). Offset -1 or "end": every record below the high
watermark. An offset past the high watermark is refused (OFFSET_OUT_OF_RANGE); so is a topic whose
cleanup.policy has no "delete" (POLICY_VIOLATION).

  --dry-run                    deletes nothing: shows each partition's log start offset and high
                               watermark (ListOffsets) and what the deletion would do, with the errors
                               the leader would answer

Options:
)",
      out);
  std::fputs(kAdminOptionsHelp.data(), out);
  std::fputs(R"(
Each failed partition is named on stderr with the broker's error, e.g.
  kafkawire: topic orders partition 2: OFFSET_OUT_OF_RANGE: The requested offset is not within the range...
Exit status: 0 ok, 1 a partition failed (or the cluster could not be reached), 2 bad usage.
)",
             out);
}

struct DeleteRecordsCliOptions : AdminOptions {
  std::vector<RecordsToDelete> records;
  bool dry_run = false;
};

// "orders:2:100" (topic names cannot hold ':'; the last two fields are read from the right).
bool parse_spec(std::string_view spec, RecordsToDelete& out, std::string& problem) {
  const auto last = spec.rfind(':');
  const auto middle =
      last == std::string_view::npos || last == 0 ? std::string_view::npos : spec.rfind(':', last - 1);
  if (middle == std::string_view::npos || middle == 0) {
    problem = "'" + std::string(spec) + "' is not <topic>:<partition>:<offset>";
    return false;
  }
  const std::string_view offset = spec.substr(last + 1);
  const auto partition = parse_i32(spec.substr(middle + 1, last - middle - 1));
  if (!partition || *partition < 0) {
    problem = "'" + std::string(spec) + "': the partition is not a number 0 or more";
    return false;
  }
  const auto n =
      offset == "end" ? std::optional<int64_t>(RecordsToDelete::kHighWatermark) : parse_i64(offset);
  if (!n || (*n < 0 && *n != RecordsToDelete::kHighWatermark)) {
    problem = "'" + std::string(spec) + "': the offset is not a number 0 or more, -1 or 'end'";
    return false;
  }
  out = {std::string(spec.substr(0, middle)), *partition, *n};
  return true;
}

int parse_args(int argc, char** argv, DeleteRecordsCliOptions& o) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  std::string problem;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (auto rc = admin_option(kCommand, print_help, args, i, o)) {
      if (*rc == kTaken) continue;
      return *rc;
    }
    if (a == "--dry-run") {
      o.dry_run = true;
    } else if (!a.empty() && a.front() == '-') {
      return usage_error(kCommand, "unknown option " + std::string(a));
    } else {
      RecordsToDelete r;
      if (!parse_spec(a, r, problem)) return usage_error(kCommand, problem);
      o.records.push_back(std::move(r));
    }
  }
  if (o.dump_config) return -1;
  if (o.records.empty()) return usage_error(kCommand, "give at least one <topic>:<partition>:<offset>");
  return -1;
}

std::string offset_text(int64_t offset) {
  return offset == RecordsToDelete::kHighWatermark ? "end" : std::to_string(offset);
}

asio::awaitable<int> delete_records(const DeleteRecordsCliOptions& o, Admin& admin) {
  auto [ec, r] = co_await admin.delete_records(o.records, DeleteRecordsOptions{.dry_run = o.dry_run});
  std::string out;
  Table t;
  if (o.dry_run)
    t.add({"TOPIC", "PARTITION", "OFFSET", "LOG-START", "HIGH-WATERMARK", "NEW-LOG-START", "RECORDS",
           "STATUS"});
  else
    t.add({"TOPIC", "PARTITION", "OFFSET", "LOW-WATERMARK", "STATUS"});
  for (size_t i = 0; i < r.topics.size(); ++i) {
    const DeletedRecords& d = r.topics[i];
    const int64_t asked = o.records[i].before_offset;
    const std::string status = d.ec ? error_name(d.ec) : o.dry_run ? "would be deleted" : "deleted";
    // Dry run: the records below the new log start offset that are still there now.
    const std::optional<int64_t> gone =
        o.dry_run && !d.ec ? std::optional<int64_t>(d.low_watermark - d.log_start_offset) : std::nullopt;
    if (o.json) {
      out += (out.empty() ? "" : ",");
      out += "{\"topic\":" + json_string(d.name) + ",\"partition\":" + std::to_string(d.partition) +
             ",\"offset\":" + std::to_string(asked) + ",\"ok\":" + (d.ec ? "false" : "true") +
             ",\"low_watermark\":" + (d.ec ? "null" : std::to_string(d.low_watermark));
      if (o.dry_run)
        out += ",\"log_start_offset\":" +
               (d.log_start_offset < 0 ? std::string("null") : std::to_string(d.log_start_offset)) +
               ",\"high_watermark\":" +
               (d.high_watermark < 0 ? std::string("null") : std::to_string(d.high_watermark)) +
               ",\"records\":" + (gone ? std::to_string(*gone) : "null");
      out += ",\"error\":" + json_error(d) + "}";
      continue;
    }
    auto num = [](int64_t n) { return n < 0 ? std::string("-") : std::to_string(n); };
    if (o.dry_run)
      t.add({d.name, std::to_string(d.partition), offset_text(asked), num(d.log_start_offset),
             num(d.high_watermark), d.ec ? "-" : num(d.low_watermark), gone ? std::to_string(*gone) : "-",
             status});
    else
      t.add({d.name, std::to_string(d.partition), offset_text(asked), d.ec ? "-" : num(d.low_watermark),
             status});
  }
  write_results(o.json, o.dry_run, "partitions", out, t, "Dry run: no record deleted.");
  co_return report_failures(r.topics, "topic ");
}

}  // namespace

int run_delete_records(int argc, char** argv) {
  DeleteRecordsCliOptions o;
  if (int rc = parse_args(argc, argv, o); rc >= 0) return rc;
  return run_admin_command(o, [&o](Admin& admin) { return delete_records(o, admin); });
}

}  // namespace kafkawire::cli
