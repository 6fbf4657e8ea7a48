// The `kafkawire` command line: one function per command, dispatched from main.cpp.
// Each returns the process exit status (0 ok, 1 failure, 2 bad usage) and prints errors to stderr.
#pragma once

namespace kafkawire::cli {

// kcat-style modes: -C consume, -P produce, -L metadata, -Q offsets for times, -G group consume.
int run_kcat(int argc, char** argv);
// `kafkawire groups ...`: list, describe (with lag), reset-offsets, delete-offsets.
int run_groups(int argc, char** argv);
// `kafkawire topics ...`: list, describe, create, delete, add-partitions (the library's Admin).
int run_topics(int argc, char** argv);
// `kafkawire configs ...`: describe, alter the configs of topics and brokers (the library's Admin).
int run_configs(int argc, char** argv);
// `kafkawire delete-records TOPIC:PARTITION:OFFSET ...` (the library's Admin).
int run_delete_records(int argc, char** argv);
// `kafkawire explain`: annotated tree of a request or response's bytes.
int run_explain(int argc, char** argv);
// `kafkawire spy`: a decoding proxy in front of a broker.
int run_spy(int argc, char** argv);
// `kafkawire conformance`: the conformance suite (tools/conformance) against any broker.
int run_conformance(int argc, char** argv);

}  // namespace kafkawire::cli
