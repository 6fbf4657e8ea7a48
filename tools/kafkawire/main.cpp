// The `kafkawire` command line. `kafkawire explain|spy|groups|topics|configs|delete-records|conformance ...`
// runs that command, with argv starting at the command's name (argv[0] == "groups"); anything else is
// kcat's flags (kcat.cpp), argv as given.
#include <cstdio>
#include <string_view>

#include "commands.hpp"
#include "util.hpp"

namespace {

void print_help() {
  std::fputs(
      R"(kafkawire: a command line for Apache Kafka, on the kafkawire C++ client.

  kafkawire -C|-P|-L|-Q|-G ...   consume, produce, metadata, offsets for times, group consume (kcat's flags)
  kafkawire groups ...           list, describe (with lag), reset-offsets, delete-offsets
  kafkawire topics ...           list, describe (leaders, replicas, ISR), create, delete, add-partitions
                                 (--dry-run)
  kafkawire configs ...          describe, alter the configs of topics and brokers (--dry-run)
  kafkawire delete-records ...   delete the records of partitions below an offset (--dry-run)
  kafkawire explain ...          an annotated tree of a request's or response's bytes
  kafkawire spy ...              a decoding proxy in front of a broker
  kafkawire conformance ...      the conformance suite: API x version matrix of any broker
  kafkawire --help-config        every configuration key (-X key=value), its default and meaning

Each command has --help. The kcat flags:

)",
      stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kafkawire::cli;
  const std::string_view first = argc > 1 ? argv[1] : "";
  if (first == "explain") return run_explain(argc - 1, argv + 1);
  if (first == "spy") return run_spy(argc - 1, argv + 1);
  if (first == "groups") return run_groups(argc - 1, argv + 1);
  if (first == "topics") return run_topics(argc - 1, argv + 1);
  if (first == "configs") return run_configs(argc - 1, argv + 1);
  if (first == "delete-records") return run_delete_records(argc - 1, argv + 1);
  if (first == "conformance") return run_conformance(argc - 1, argv + 1);
  if (first == "--help-config") {
    print_config_keys(stdout);
    return kExitOk;
  }
  if (argc == 1 || (argc == 2 && (first == "--help" || first == "-h"))) {
    print_help();
    char name[] = "kafkawire", help[] = "--help";
    char* args[] = {name, help, nullptr};
    run_kcat(2, args);
    return argc == 1 ? kExitUsage : kExitOk;
  }
  return run_kcat(argc, argv);
}
