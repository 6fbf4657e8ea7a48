// The conformance suite: every API kafkawire speaks, at every version both it and a broker serve, against
// any broker reachable over the network. Each request is encoded by kafkawire's codec and sent as raw bytes;
// each response must decode completely (no bytes left over), re-encode to exactly the bytes the broker sent,
// and carry the error codes and data a real flow expects. Beyond single requests it runs flows (a classic
// consumer group end to end, KIP-848's, fetch sessions, a produce/fetch round trip per codec, misuse) and
// reports each as a row of its own.
//
// One suite, two callers: `kafkawire conformance` (tools/kafkawire/conformance.cpp) and the ctest
// broker_conformance (tests/broker/test_conformance.cpp). docs/conformance.md says what each stage checks.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "kafkawire/net/connection.hpp"

namespace kafkawire::conformance {

struct Options {
  // How connections are made (TLS, SASL: what pool_options(Config) gives every other command).
  net::ConnectionOptions connection;
  // host:port[,host:port...]; the first one is the bootstrap broker.
  std::string bootstrap;
  // Goes into every topic and group name (kwc-<run id>-...); empty: a random one.
  std::string run_id;
  // API names (as protocol::api_name gives them: "Fetch", "JoinGroup"): only stages that test one of these
  // run (with what they need first), and only these APIs' cells are reported. Empty: every API.
  std::set<std::string> only;
  // Creates and changes nothing: ApiVersions, Metadata, ListOffsets, Fetch of the data already there,
  // FindCoordinator (only when the cluster has group offsets already), DescribeGroups, ListGroups and
  // OffsetFetch, of the topics and groups the cluster has.
  bool read_only = false;
  // What the broker is, for the report's header ("Kafka 4.4.0"); empty: not known.
  std::string label;
};

// One failed check: where (the flow, the stage's words), what, and the exchange it failed on as the
// codec's JSON (empty when there was none, e.g. the connection could not be made).
struct Failure {
  std::string context;
  std::string check;
  std::string request;   // the request as sent
  std::string response;  // the response as decoded
};

enum class State {
  ok,          // every check passed
  noted,       // passed, with a note (the broker did not let the flow run to the end)
  failed,      // a check failed
  untested,    // both sides serve it and nothing tested it: a hole in the suite, counted as a failure
  not_served,  // kafkawire speaks the version, the broker does not advertise it
  not_spoken,  // the broker advertises the version, kafkawire does not speak it
  none,        // neither side
};
std::string_view state_name(State s);  // "ok", "noted", "failed", "untested", "not_served", ...
bool is_failure(State s);

struct CellResult {
  int16_t version = 0;
  State state = State::none;
  std::vector<Failure> failures;  // at most 8 kept
  int failure_count = 0;          // all of them
  std::vector<std::string> notes;
};

struct ApiRow {
  int16_t key = 0;
  std::string name;
  int16_t min_version = 0, max_version = -1;          // kafkawire's
  std::optional<std::pair<int16_t, int16_t>> broker;  // the broker's range, when it advertises the API
  std::vector<CellResult> cells;                      // versions 0 .. the table's last column
};

struct FlowRow {
  std::string name;
  State state = State::ok;  // ok, noted or failed
  std::vector<Failure> failures;
  int failure_count = 0;
  std::vector<std::string> notes;
};

struct Result {
  std::string bootstrap, label, run_id,
      security;  // security: "" (PLAINTEXT), "TLS", "SASL SCRAM-SHA-512 ..."
  bool read_only = false;
  int16_t metadata_version = -1;  // the broker's finalized metadata.version level (ApiVersions v3+)
  double seconds = 0;
  int requests = 0;
  int64_t records_compared = 0;
  int columns = 0;                   // the table's last version column
  std::vector<ApiRow> apis;          // the APIs run, by key
  std::vector<std::string> skipped;  // APIs not run (--only, --read-only)
  std::vector<FlowRow> flows;        // in the order they ran
  std::string setup_error;           // what stopped the run early (the cells after it are untested)
  std::vector<std::string> stage_errors;
  std::vector<std::string> notes;
  std::vector<std::string> topics_left;  // topics the run created and could not delete
  std::vector<std::string> groups_left;  // groups the run made and could not delete

  // Failing cells and flows, the setup error and stage errors: 0 when the broker passes.
  int failing() const;
};

// The API names Options::only takes, by key.
std::vector<std::string> api_names();

// Runs the suite. Never throws for what the broker does; what went wrong is in the result.
Result run(const Options& options);

// The matrix as text (a Markdown table), each failure explained under it with the request sent and the
// response received, the flows after it. `max_json`: how many characters of each JSON to show.
std::string text(const Result& r, size_t max_json = 600);
// The whole result as one JSON object.
std::string json(const Result& r);
// JUnit XML: one testsuite, one testcase per API x version cell both sides serve and per flow row.
std::string junit(const Result& r);
// What docs/conformance.md is made of: a heading naming the broker, the table, the notes under it.
std::string markdown(const Result& r);

}  // namespace kafkawire::conformance
