// The conformance suite (conformance.hpp): every API kafkawire speaks, at every version both it and the
// broker serve. Each request is encoded by our codec and sent as raw bytes; each response must decode
// completely (no bytes left over), re-encode to exactly the bytes the broker sent, and carry the error codes
// a real flow expects. End to end it creates topics, produces records with every codec at every Produce
// version, reads them back with Fetch at every version (topic names up to v12, topic ids from v13) and
// compares them record by record, keeps fetch sessions across fetches, asks ListOffsets for
// earliest/latest/by-timestamp offsets, commits and fetches offsets at every (OffsetCommit, OffsetFetch)
// version pair, walks the classic group protocol and KIP-848's ConsumerGroupHeartbeat, drives transactions
// by hand (both transaction protocols, commits and aborts, read back with read_committed), and creates and
// deletes topics at every version. With Options::read_only it only reads what the cluster has.
//
// The result is a matrix, API x version -> ok / ok* (passed, with a note) / FAIL / - (only one side serves
// it) / ?? (both serve it, nothing tested it), and the flows as rows of their own. See docs/conformance.md
// for what each stage checks.
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <iomanip>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "conformance.hpp"
#include "kafkawire/net/connection.hpp"
#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/compression.hpp"
#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/json.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::conformance {
namespace {

namespace asio = boost::asio;
namespace proto = kafkawire::protocol;
namespace net = kafkawire::net;
using namespace std::chrono_literals;
using proto::Bytes;
using proto::Compression;

// Kafka error codes the checks expect, by their protocol names.
constexpr int16_t NONE = 0;
constexpr int16_t OFFSET_OUT_OF_RANGE = 1;
constexpr int16_t UNKNOWN_TOPIC_OR_PARTITION = 3;
constexpr int16_t COORDINATOR_LOAD_IN_PROGRESS = 14;
constexpr int16_t COORDINATOR_NOT_AVAILABLE = 15;
constexpr int16_t NOT_COORDINATOR = 16;
constexpr int16_t ILLEGAL_GENERATION = 22;
constexpr int16_t UNKNOWN_MEMBER_ID = 25;
constexpr int16_t CLUSTER_AUTHORIZATION_FAILED = 31;
constexpr int16_t INVALID_PRODUCER_EPOCH = 47;
constexpr int16_t INVALID_TXN_STATE = 48;
constexpr int16_t CONCURRENT_TRANSACTIONS = 51;
constexpr int16_t OPERATION_NOT_ATTEMPTED = 55;
constexpr int16_t UNSTABLE_OFFSET_COMMIT = 88;
constexpr int16_t PRODUCER_FENCED = 90;
constexpr int16_t TRANSACTION_ABORTABLE = 120;
constexpr int16_t ILLEGAL_SASL_STATE = 34;
constexpr int16_t SASL_AUTHENTICATION_FAILED = 58;
constexpr int16_t UNSUPPORTED_VERSION = 35;
constexpr int16_t TOPIC_ALREADY_EXISTS = 36;
constexpr int16_t INVALID_PARTITIONS = 37;
constexpr int16_t INVALID_CONFIG = 40;
constexpr int16_t GROUP_ID_NOT_FOUND = 69;
constexpr int16_t UNSUPPORTED_COMPRESSION_TYPE = 76;
constexpr int16_t MEMBER_ID_REQUIRED = 79;
constexpr int16_t GROUP_SUBSCRIBED_TO_TOPIC = 86;
constexpr int16_t FETCH_SESSION_ID_NOT_FOUND = 70;
constexpr int16_t INVALID_FETCH_SESSION_EPOCH = 71;
constexpr int16_t UNKNOWN_TOPIC_ID = 100;
constexpr int16_t FENCED_MEMBER_EPOCH = 110;
constexpr int16_t STALE_MEMBER_EPOCH = 113;
constexpr int16_t MISMATCHED_ENDPOINT_TYPE = 114;

constexpr int kPartitions = 3;

// The flows that check the errors a broker gives for misuse, each a row of the report.
const std::string kMisuseUnknownTopic = "misuse: unknown topic";
const std::string kMisuseExistingTopic = "misuse: topic that already exists";
const std::string kMisuseOutOfRange = "misuse: fetch offset out of range";
const std::string kMisuseStale = "misuse: stale generation or member epoch";
const std::string kMisuseUnknownMember = "misuse: unknown member id";
const std::string kMisuseFetchSession = "misuse: fetch session id or epoch";
const std::string kMisuseUnknownGroup = "misuse: deleting a group that does not exist";
const std::string kMisuseConfig = "misuse: an unknown config key";
const std::string kMisuseDeleteRecords = "misuse: deleting records past the high watermark";
const std::string kMisuseTxn = "misuse: transactions (a partition not added, a fenced or stale epoch, empty)";

std::string codec_flow(proto::Compression codec) {
  return "produce/fetch round trip, " + std::string(proto::compression_name(codec));
}
constexpr std::array<Compression, 5> kCodecs = {Compression::none, Compression::gzip, Compression::snappy,
                                                Compression::lz4, Compression::zstd};

std::string error_name(int16_t code) {
  const auto* e = kafkawire::find_kafka_error(code);
  return (e ? std::string(e->name) : std::string("UNKNOWN_CODE")) + " (" + std::to_string(code) + ")";
}

std::string show(const proto::Uuid& u) { return proto::base64(Bytes(u.bytes.data(), u.bytes.size()), true); }
std::string show(const std::string& s) { return "\"" + s + "\""; }
std::string show(const std::optional<std::string>& s) { return s ? show(*s) : "null"; }
std::string show(Bytes b) { return "bytes[" + std::to_string(b.size()) + "]"; }
std::string show(bool b) { return b ? "true" : "false"; }
template <class T>
requires std::is_integral_v<T> std::string show(T v) { return std::to_string(v); }

// ------------------------------------------------------------------------------------------------ results

// Drives an io_context until a future is ready (or a bound passes).
template <class T>
T run_until(asio::io_context& io, std::future<T>& f, std::chrono::milliseconds bound = 30s) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (f.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("no answer within the time limit");
    io.restart();
    io.run_for(std::chrono::milliseconds(5));
  }
  return f.get();
}

constexpr size_t kKeptFailures = 8;

// What happened at each (api key, version) and in each flow: tested or not, and every check that failed.
class Matrix {
 public:
  struct Cell {
    bool tested = false;
    int failure_count = 0;
    std::vector<Failure> failures;
    std::vector<std::string> notes;
  };

  void touch(int16_t key, int16_t v) { cells_[key][v].tested = true; }
  void fail(int16_t key, int16_t v, Failure why) { add(cells_[key][v], std::move(why)); }
  // A version that passed but whose flow the broker did not let run to the end (a feature it has off).
  void annotate(int16_t key, int16_t v, std::string why) {
    auto& cell = cells_[key][v];
    cell.tested = true;
    cell.notes.push_back(std::move(why));
  }
  const Cell* find(int16_t key, int16_t v) const {
    auto a = cells_.find(key);
    if (a == cells_.end()) return nullptr;
    auto b = a->second.find(v);
    return b == a->second.end() ? nullptr : &b->second;
  }

  // Flows: rows of their own, in the order they started.
  void touch_flow(const std::string& name) { flow(name).tested = true; }
  void fail_flow(const std::string& name, Failure why) { add(flow(name), std::move(why)); }
  void annotate_flow(const std::string& name, std::string why) {
    auto& f = flow(name);
    f.tested = true;
    if (std::find(f.notes.begin(), f.notes.end(), why) == f.notes.end()) f.notes.push_back(std::move(why));
  }
  const std::vector<std::pair<std::string, Cell>>& flows() const { return flows_; }

 private:
  static void add(Cell& cell, Failure why) {
    cell.tested = true;
    if (cell.failures.size() < kKeptFailures) cell.failures.push_back(std::move(why));
    ++cell.failure_count;
  }
  Cell& flow(const std::string& name) {
    for (auto& [n, c] : flows_)
      if (n == name) return c;
    return flows_.emplace_back(name, Cell{}).second;
  }
  std::map<int16_t, std::map<int16_t, Cell>> cells_;
  std::vector<std::pair<std::string, Cell>> flows_;
};

// The checks made at one (API, version): every one that fails is recorded in the matrix with its context,
// and in the flows the check belongs to, with the request and response it failed on.
class Check {
 public:
  Check(Matrix& m, int16_t key, int16_t version, std::string context = {},
        std::vector<std::string> flows = {})
      : m_(m), key_(key), version_(version), context_(std::move(context)), flows_(std::move(flows)) {
    m_.touch(key, version);
    for (const auto& f : flows_) m_.touch_flow(f);
  }
  int16_t key() const { return key_; }
  int16_t version() const { return version_; }
  const std::vector<std::string>& flows() const { return flows_; }
  // The checks that follow also belong to this flow, until pop_flow().
  void push_flow(const std::string& name) {
    flows_.push_back(name);
    m_.touch_flow(name);
  }
  void pop_flow() { flows_.pop_back(); }

  void fail(const std::string& what) {
    Failure f{context_, what, request_json_, response_json_};
    for (const auto& name : flows_) {
      Failure in_flow = f;
      in_flow.check = std::string(protocol::api_name(key_)) + " v" + std::to_string(version_) + ": " + what;
      m_.fail_flow(name, std::move(in_flow));
    }
    m_.fail(key_, version_, std::move(f));
  }
  bool that(bool cond, const std::string& what) {
    if (!cond) fail(what);
    return cond;
  }
  bool code(int16_t got, int16_t want, const std::string& what) {
    if (got == want) return true;
    fail(what + ": got " + error_name(got) + ", want " + error_name(want));
    return false;
  }
  template <class A, class B>
  bool equal(const A& got, const B& want, const std::string& what) {
    if (got == want) return true;
    fail(what + ": got " + show(got) + ", want " + show(want));
    return false;
  }
  // The exchange under check (the codec's JSON of each side), attached to the failures that follow.
  void set_request(std::string json) {
    request_json_ = std::move(json);
    response_json_.clear();
  }
  void set_response(std::string json) { response_json_ = std::move(json); }

 private:
  Matrix& m_;
  int16_t key_;
  int16_t version_;
  std::string context_;
  std::vector<std::string> flows_;
  std::string request_json_;
  std::string response_json_;
};

// ---------------------------------------------------------------------------------------------- the suite

struct ExpectedRecord {
  int64_t offset = 0;
  int64_t timestamp = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  Compression codec = Compression::none;
};

// A decoded response (or nothing, when the exchange failed: the Check says why). Its Bytes and Records
// views point into the frame it keeps.
template <class M>
struct Response {
  std::optional<net::Reply<M>> reply;
  explicit operator bool() const { return reply.has_value(); }
  M* operator->() { return &reply->message; }
  M& operator*() { return reply->message; }
};

// What the codec could not decode, as JSON: its size and its first bytes in hex.
std::string undecodable(Bytes b) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < b.size() && i < 512; ++i) {
    hex += kHex[b.data()[i] >> 4];
    hex += kHex[b.data()[i] & 15];
  }
  return "{\"undecodedSize\":" + std::to_string(b.size()) + ",\"firstBytesHex\":\"" + hex + "\"}";
}

struct SetupFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Suite {
 public:
  explicit Suite(const Options& o) : options_(o.connection), where_(o.bootstrap), read_only_(o.read_only) {
    run_id_ = o.run_id;
    if (run_id_.empty()) {
      std::random_device rd;
      std::ostringstream id;
      id << std::hex << std::setw(8) << std::setfill('0') << rd();
      run_id_ = id.str();
    }
    label_ = o.label;
    for (const auto& name : o.only) {
      bool found = false;
      proto::for_each_api([&](auto api) {
        if (proto::api_name(decltype(api)::key) == name) {
          only_.insert(decltype(api)::key);
          found = true;
        }
      });
      if (!found) bad_only_.push_back(name);
    }
  }

  void run() {
    const auto start = std::chrono::steady_clock::now();
    try {
      if (!bad_only_.empty()) throw SetupFailure("not an API kafkawire speaks: " + bad_only_.front());
      const std::string first = where_.substr(0, where_.find(','));
      const auto colon = first.rfind(':');
      if (first.empty() || colon == std::string::npos || colon == 0 || colon + 1 == first.size())
        throw SetupFailure("the bootstrap address '" + where_ + "' is not host:port");
      bootstrap_ = {first.substr(0, colon), static_cast<uint16_t>(std::stoi(first.substr(colon + 1)))};
      connect_bootstrap();
      if (read_only_)
        run_read_only();
      else
        run_full();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
    if (!read_only_) {
      try {
        cleanup_groups();
      } catch (const std::exception& e) {
        stage_errors_.push_back(std::string("cleanup of the groups: ") + e.what());
      }
      try {
        cleanup();
      } catch (const std::exception& e) {
        stage_errors_.push_back(std::string("cleanup: ") + e.what());
      }
    }
    elapsed_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  Result result() const;

 private:
  using ApiKeys = std::initializer_list<int16_t>;
  static constexpr int16_t kProduce = proto::ProduceRequest::api_key, kFetch = proto::FetchRequest::api_key,
                           kListOffsets = proto::ListOffsetsRequest::api_key,
                           kMetadata = proto::MetadataRequest::api_key,
                           kCommit = proto::OffsetCommitRequest::api_key,
                           kOffsetFetch = proto::OffsetFetchRequest::api_key,
                           kFindCoordinator = proto::FindCoordinatorRequest::api_key,
                           kJoin = proto::JoinGroupRequest::api_key,
                           kHeartbeat = proto::HeartbeatRequest::api_key,
                           kLeave = proto::LeaveGroupRequest::api_key,
                           kSync = proto::SyncGroupRequest::api_key,
                           kDescribe = proto::DescribeGroupsRequest::api_key,
                           kListGroups = proto::ListGroupsRequest::api_key,
                           kHandshake = proto::SaslHandshakeRequest::api_key,
                           kApiVersions = proto::ApiVersionsRequest::api_key,
                           kCreate = proto::CreateTopicsRequest::api_key,
                           kDelete = proto::DeleteTopicsRequest::api_key,
                           kInitProducerId = proto::InitProducerIdRequest::api_key,
                           kAuthenticate = proto::SaslAuthenticateRequest::api_key,
                           kOffsetDelete = proto::OffsetDeleteRequest::api_key,
                           kConsumerHeartbeat = proto::ConsumerGroupHeartbeatRequest::api_key,
                           kConsumerDescribe = proto::ConsumerGroupDescribeRequest::api_key,
                           kAddPartitionsToTxn = proto::AddPartitionsToTxnRequest::api_key,
                           kAddOffsetsToTxn = proto::AddOffsetsToTxnRequest::api_key,
                           kEndTxn = proto::EndTxnRequest::api_key,
                           kTxnOffsetCommit = proto::TxnOffsetCommitRequest::api_key,
                           kDeleteRecords = proto::DeleteRecordsRequest::api_key,
                           kDescribeConfigs = proto::DescribeConfigsRequest::api_key,
                           kCreatePartitions = proto::CreatePartitionsRequest::api_key,
                           kDeleteGroups = proto::DeleteGroupsRequest::api_key,
                           kAlterConfigs = proto::IncrementalAlterConfigsRequest::api_key,
                           kDescribeCluster = proto::DescribeClusterRequest::api_key;
  // The APIs --read-only runs.
  static constexpr std::array<int16_t, 11> kReadOnly = {
      kApiVersions, kMetadata,    kListOffsets,     kFetch,           kFindCoordinator, kDescribe,
      kListGroups,  kOffsetFetch, kDescribeCluster, kDescribeConfigs, kConsumerDescribe};

  // Whether an API's cells are reported: selected by Options::only and, with read_only, one it runs.
  bool reported(int16_t key) const {
    if (read_only_ && std::find(kReadOnly.begin(), kReadOnly.end(), key) == kReadOnly.end()) return false;
    if (skipped_.count(key)) return false;
    return only_.empty() || only_.count(key) > 0;
  }
  // Whether a stage that tests these APIs runs.
  bool wanted(ApiKeys keys) const {
    return std::any_of(keys.begin(), keys.end(),
                       [&](int16_t k) { return only_.empty() || only_.count(k) > 0; });
  }

  void run_full() {
    stage("ApiVersions", [&] { api_versions(); });
    setup_topics();
    if (wanted({kCreate})) stage("CreateTopics", [&] { create_topics(); });
    if (wanted({kMetadata})) stage("Metadata", [&] { metadata(); });
    if (wanted({kProduce, kFetch, kListOffsets})) stage("Produce", [&] { produce(); });
    if (wanted({kFetch})) stage("Fetch", [&] { fetch(); });
    if (wanted({kListOffsets})) stage("ListOffsets", [&] { list_offsets(); });
    if (wanted({kFetch})) stage("fetch sessions", [&] { fetch_sessions(); });
    const ApiKeys groups = {kFindCoordinator,
                            kCommit,
                            kOffsetFetch,
                            kJoin,
                            kSync,
                            kHeartbeat,
                            kLeave,
                            kDescribe,
                            kListGroups,
                            kOffsetDelete,
                            kConsumerHeartbeat,
                            kConsumerDescribe,
                            kDeleteGroups};
    // The transactions stage commits offsets for a group too.
    const ApiKeys txn = {kAddPartitionsToTxn, kAddOffsetsToTxn, kEndTxn, kTxnOffsetCommit};
    if (wanted(groups) || wanted(txn)) wait_for_coordinator();
    if (wanted({kFindCoordinator})) stage("FindCoordinator", [&] { find_coordinator(); });
    if (wanted({kCommit, kOffsetFetch})) stage("OffsetCommit x OffsetFetch", [&] { offset_pairs(); });
    if (wanted(
            {kJoin, kSync, kHeartbeat, kLeave, kDescribe, kOffsetDelete, kListGroups, kCommit, kOffsetFetch}))
      stage("classic group", [&] { classic_groups(); });
    if (wanted({kListGroups})) stage("ListGroups", [&] { list_groups(); });
    if (wanted({kConsumerHeartbeat, kConsumerDescribe, kCommit, kOffsetFetch}))
      stage("ConsumerGroupHeartbeat", [&] { consumer_group_heartbeat(); });
    if (wanted({kConsumerDescribe}))
      stage("ConsumerGroupDescribe", [&] { consumer_group_describe_unknown(); });
    if (wanted({kInitProducerId})) stage("InitProducerId", [&] { init_producer_id(); });
    if (wanted({kInitProducerId, kAddPartitionsToTxn, kAddOffsetsToTxn, kEndTxn, kTxnOffsetCommit, kProduce,
                kFetch, kOffsetFetch, kFindCoordinator}))
      stage("transactions", [&] { transactions(); });
    // Over SASL the connection's own setup is that exchange (and a SaslHandshake on an authenticated
    // connection would start a re-authentication).
    if (wanted({kHandshake, kAuthenticate})) {
      if (!options_.sasl)
        stage("SaslHandshake x SaslAuthenticate", [&] { sasl_on_plaintext(); });
      else
        stage("SaslHandshake x SaslAuthenticate", [&] { sasl_on_sasl_listener(); });
    }
    if (wanted({kDescribeCluster})) stage("DescribeCluster", [&] { describe_cluster(); });
    if (wanted({kDescribeConfigs})) stage("DescribeConfigs", [&] { describe_configs(); });
    if (wanted({kAlterConfigs})) stage("IncrementalAlterConfigs", [&] { incremental_alter_configs(); });
    if (wanted({kCreatePartitions})) stage("CreatePartitions", [&] { create_partitions(); });
    if (wanted({kDeleteRecords})) stage("DeleteRecords", [&] { delete_records(); });
    if (wanted({kDeleteGroups})) stage("DeleteGroups", [&] { delete_groups(); });
    if (wanted({kDelete})) stage("DeleteTopics", [&] { delete_topics(); });
  }

  // Flows: every check made while a FlowScope lives belongs to its flow too (scopes nest).
  struct FlowScope {
    FlowScope(Suite& s, std::string name) : s_(s) {
      s_.flows_.push_back(std::move(name));
      s_.matrix_.touch_flow(s_.flows_.back());
    }
    ~FlowScope() { s_.flows_.pop_back(); }
    FlowScope(const FlowScope&) = delete;
    FlowScope& operator=(const FlowScope&) = delete;
    Suite& s_;
  };

 private:
  // ---- plumbing ---------------------------------------------------------------------------------------

  template <class F>
  void stage(const char* name, F&& f) {
    try {
      f();
    } catch (const SetupFailure&) {
      throw;
    } catch (const std::exception& e) {
      stage_errors_.push_back(std::string(name) + ": " + e.what());
    }
  }

  std::string topic(const std::string& what) const { return "kwc-" + run_id_ + "-" + what; }
  std::string group(const std::string& what) const { return "kwc-" + run_id_ + "-" + what; }

  std::shared_ptr<net::Connection> connect_to(const std::string& host, uint16_t port, std::string& why,
                                              net::ConnectionOptions options) {
    auto c = net::Connection::create(io_.get_executor(), std::move(options));
    auto f = c->async_connect(host, port, asio::use_future);
    std::error_code ec;
    try {
      ec = run_until(io_, f);
    } catch (const std::exception& e) {
      why = e.what();
      return nullptr;
    }
    if (ec) {
      why = "connect to " + host + ":" + std::to_string(port) + ": " + ec.message() + " " + c->close_reason();
      return nullptr;
    }
    return c;
  }

  // A ready connection to a node (-1: the bootstrap broker), reconnecting when the last one closed (a
  // broker closes the connection on a request it cannot parse).
  std::shared_ptr<net::Connection> connection(int32_t node, std::string& why) {
    auto& c = conns_[node];
    if (c && c->is_ready()) return c;
    auto addr = bootstrap_;
    if (auto it = addrs_.find(node); node >= 0 && it != addrs_.end()) addr = it->second;
    auto options = options_;
    if (node == kUnauthenticated) options.sasl.reset();
    c = connect_to(addr.first, addr.second, why, std::move(options));
    return c;
  }

  void connect_bootstrap() {
    std::string why;
    auto c = connection(-1, why);
    if (!c) throw SetupFailure("no connection to the broker at " + where_ + ": " + why);
    broker_ = c->broker_versions();
  }

  // Both sides' version range of an API; empty (max < min) when they share none.
  template <class Req>
  net::VersionRange both() const {
    auto it = broker_.find(Req::api_key);
    if (it == broker_.end()) return {0, -1};
    return {std::max<int16_t>(Req::min_version, it->second.min),
            std::min<int16_t>(Req::max_version, it->second.max)};
  }
  template <class Req>
  std::vector<int16_t> versions() const {
    std::vector<int16_t> out;
    const auto r = both<Req>();
    for (int v = r.min; v <= r.max; ++v) out.push_back(static_cast<int16_t>(v));
    return out;
  }
  template <class Req>
  int16_t top() const {
    const auto r = both<Req>();
    if (r.max < r.min) throw std::runtime_error(std::string(Req::name) + ": no version both sides serve");
    return r.max;
  }
  template <class Req>
  int16_t clamp(int i) const {
    const auto r = both<Req>();
    return static_cast<int16_t>(std::clamp<int>(i, r.min, r.max));
  }
  template <class Req>
  Check check(int16_t v, std::string context = {}) {
    return Check(matrix_, Req::api_key, v, std::move(context), flows_);
  }

  // Encodes req at c.version(), sends it, decodes the response at the same version: every byte of it must
  // be used, and encoding the decoded response must give back exactly the broker's bytes (a field the codec
  // read at the wrong width, or a tagged field it dropped, shows up here).
  template <class Req>
  Response<typename Req::response_type> call(Check& c, const Req& req, int32_t node = -1) {
    using Resp = typename Req::response_type;
    const int16_t v = c.version();
    if (c.key() != Req::api_key) throw std::logic_error("check and request disagree about the API");
    std::error_code ec;
    auto body = proto::encode(req, v, &ec);
    if (ec) {
      c.fail(std::string("encoding the request: ") + ec.message());
      return {};
    }
    c.set_request(proto::to_json(req, v));
    std::string why;
    auto conn = connection(node, why);
    if (!conn) {
      c.fail(why);
      return {};
    }
    ++requests_;
    auto f = conn->async_send_raw(Req::api_key, v, std::move(body), true, asio::use_future);
    std::error_code sec;
    net::Frame frame;
    try {
      std::tie(sec, frame) = run_until(io_, f, 60s);
    } catch (const std::exception& e) {
      c.fail(std::string("no response: ") + e.what());
      conn->close();
      return {};
    }
    if (sec || !frame.buffer) {
      c.fail("no response: " + sec.message() +
             (conn->close_reason().empty() ? "" : " (" + conn->close_reason() + ")"));
      return {};
    }
    net::Reply<Resp> reply;
    reply.version = v;
    reply.frame = frame.buffer;
    proto::Reader r(frame.body());
    if (auto dec = proto::decode(r, reply.message, v)) {
      c.set_response(undecodable(frame.body()));
      c.fail("decoding the " + std::to_string(frame.body().size()) + "-byte response: " + dec.message());
      return {};
    }
    if (r.remaining() != 0) {
      c.set_response(proto::to_json(reply.message, v));
      c.fail(std::to_string(r.remaining()) + " bytes left over after decoding the " +
             std::to_string(frame.body().size()) + "-byte response");
      return {};
    }
    auto again = proto::encode(reply.message, v, &ec);
    const Bytes sent = frame.body();
    if (ec || again.size() != sent.size() || !std::equal(again.begin(), again.end(), sent.begin())) {
      size_t at = 0;
      while (at < again.size() && at < sent.size() && again[at] == sent.data()[at]) ++at;
      c.set_response(proto::to_json(reply.message, v));
      c.fail("the decoded response re-encodes differently (" + std::to_string(again.size()) + " vs " +
             std::to_string(sent.size()) + " bytes, first difference at byte " + std::to_string(at) + ")" +
             (ec ? ": " + ec.message() : ""));
    }
    c.set_response(proto::to_json(reply.message, v));
    return {std::move(reply)};
  }

  template <class Req>
  Response<typename Req::response_type> call_at(int16_t v, const Req& req, int32_t node,
                                                const std::string& context) {
    Check c = check<Req>(v, context);
    return call(c, req, node);
  }

  // A Kafka 4.0+ broker (KIP-896: Fetch from v4 only). These dropped the check that answered
  // UNSUPPORTED_COMPRESSION_TYPE to a Fetch below v10 on a topic with compression.type=zstd (it went with
  // the down-conversion code), and serve the zstd batches to every Fetch version.
  bool kip896_broker() const {
    auto it = broker_.find(proto::FetchRequest::api_key);
    return it != broker_.end() && it->second.min >= 4;
  }

  int32_t leader(int32_t partition) const { return leaders_.at(partition); }

  // Partitions of the data topic grouped by their leader.
  std::map<int32_t, std::vector<int32_t>> by_leader() const {
    std::map<int32_t, std::vector<int32_t>> out;
    for (const auto& [p, node] : leaders_) out[node].push_back(p);
    return out;
  }

  // ---- setup ------------------------------------------------------------------------------------------

  proto::MetadataRequest metadata_request(const std::vector<std::string>& names) const {
    proto::MetadataRequest req;
    req.topics.emplace();
    for (const auto& n : names) req.topics->push_back({proto::Uuid{}, n});
    req.allow_auto_topic_creation = false;
    return req;
  }

  // Creates the topics the other stages use, and waits until Metadata shows a leader for every partition.
  void setup_topics() {
    data_ = topic("data");
    zstd_ = topic("zstd");
    proto::CreateTopicsRequest req;
    req.timeout_ms = 30000;
    req.topics.push_back({.name = data_,
                          .num_partitions = kPartitions,
                          .replication_factor = -1,
                          .assignments = {},
                          .configs = {}});
    req.topics.push_back({.name = zstd_,
                          .num_partitions = 1,
                          .replication_factor = -1,
                          .assignments = {},
                          .configs = {{"compression.type", "zstd"}}});
    grow_ = topic("grow");        // CreatePartitions
    records_ = topic("records");  // DeleteRecords
    for (const auto& name : {grow_, records_})
      req.topics.push_back(
          {.name = name, .num_partitions = 1, .replication_factor = -1, .assignments = {}, .configs = {}});
    for (int16_t v : versions<proto::DeleteTopicsRequest>()) {
      delete_topics_[v] = topic("delete-v" + std::to_string(v));
      req.topics.push_back({.name = delete_topics_[v],
                            .num_partitions = 1,
                            .replication_factor = -1,
                            .assignments = {},
                            .configs = {}});
    }
    const int16_t cv = top<proto::CreateTopicsRequest>();
    if (cv < 4)
      throw SetupFailure("CreateTopics: the broker's max version is below 4 (no default replication)");
    auto r = call_at(cv, req, -1, "setup: creating the test topics");
    if (!r) throw SetupFailure("CreateTopics v" + std::to_string(cv) + " failed: the suite needs its topics");
    for (const auto& t : r->topics) {
      if (t.error_code == NONE) created_.push_back(t.name);
    }
    for (const auto& t : r->topics)
      if (t.error_code != NONE)
        throw SetupFailure("creating " + t.name + ": " + error_name(t.error_code) + " " +
                           t.error_message.value_or(""));

    std::vector<std::string> names = {data_, zstd_, grow_, records_};
    for (const auto& [v, n] : delete_topics_) names.push_back(n);
    const int16_t mv = top<proto::MetadataRequest>();
    if (mv < 10) throw SetupFailure("Metadata: the broker's max version is below 10 (no topic ids)");
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto m = call_at(mv, metadata_request(names), -1, "setup: waiting for leaders");
      bool ready = m && m->topics.size() == names.size();
      if (ready) {
        for (const auto& t : m->topics) {
          if (t.error_code != NONE || t.partitions.empty()) ready = false;
          for (const auto& p : t.partitions)
            if (p.error_code != NONE || p.leader_id < 0) ready = false;
        }
      }
      if (ready) {
        for (const auto& b : m->brokers) addrs_[b.node_id] = {b.host, static_cast<uint16_t>(b.port)};
        cluster_id_ = m->cluster_id.value_or("");
        for (const auto& t : m->topics) {
          ids_[t.name.value_or("")] = t.topic_id;
          if (t.name == grow_) grow_replicas_ = t.partitions.at(0).replica_nodes;
          if (t.name == records_) records_leader_ = t.partitions.at(0).leader_id;
          if (t.name == data_) {
            if (t.partitions.size() != kPartitions)
              throw SetupFailure("the data topic has the wrong partition count");
            for (const auto& p : t.partitions) {
              leaders_[p.partition_index] = p.leader_id;
              leader_epochs_[p.partition_index] = p.leader_epoch;
            }
          }
          if (t.name == zstd_) zstd_leader_ = t.partitions.at(0).leader_id;
        }
        data_id_ = ids_[data_];
        zstd_id_ = ids_[zstd_];
        records_id_ = ids_[records_];
        if (data_id_.is_zero()) throw SetupFailure("Metadata gave no topic id for " + data_);
        wait_for_leaders(deadline);
        return;
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw SetupFailure("the test topics got no leaders in 30 s");
      std::this_thread::sleep_for(100ms);
    }
  }

  // A broker can name a leader in Metadata a moment before that leader serves the partition (it answers
  // NOT_LEADER_OR_FOLLOWER meanwhile, which a client retries): ask each leader for the log end of its
  // partitions until it answers, so that the first Produce does not meet that moment.
  void wait_for_leaders(std::chrono::steady_clock::time_point deadline) {
    std::map<int32_t, std::vector<std::pair<std::string, int32_t>>> by_node;
    for (const auto& [p, node] : leaders_) by_node[node].emplace_back(data_, p);
    by_node[zstd_leader_].emplace_back(zstd_, 0);
    wait_for_leaders(by_node, deadline);
  }
  // The same for (topic, partition) by leader.
  void wait_for_leaders(const std::map<int32_t, std::vector<std::pair<std::string, int32_t>>>& by_node,
                        std::chrono::steady_clock::time_point deadline) {
    const int16_t v = top<proto::ListOffsetsRequest>();
    for (const auto& [node, parts] : by_node) {
      for (;;) {
        proto::ListOffsetsRequest req;
        req.replica_id = -1;
        for (const auto& [t, p] : parts) {
          auto it =
              std::find_if(req.topics.begin(), req.topics.end(), [&](const auto& x) { return x.name == t; });
          if (it == req.topics.end()) it = req.topics.insert(req.topics.end(), {t, {}});
          it->partitions.push_back({p, -1, proto::ListOffsetsRequest::kLatestTimestamp});
        }
        auto r = call_at(v, req, node, "setup: waiting for the leaders to serve");
        bool ready = static_cast<bool>(r);
        if (r)
          for (const auto& t : r->topics)
            for (const auto& p : t.partitions) ready = ready && p.error_code == NONE;
        if (ready) break;
        if (std::chrono::steady_clock::now() > deadline)
          throw SetupFailure("the leaders of the test topics do not serve them within 30 s");
        std::this_thread::sleep_for(100ms);
      }
    }
  }

  // ---- ApiVersions ------------------------------------------------------------------------------------

  void api_versions() {
    for (int16_t v : versions<proto::ApiVersionsRequest>()) {
      Check c = check<proto::ApiVersionsRequest>(v);
      proto::ApiVersionsRequest req;
      req.client_software_name = options_.software_name;
      req.client_software_version = options_.software_version;
      auto r = call(c, req);
      if (!r) continue;
      c.code(r->error_code, NONE, "ErrorCode");
      bool same = r->api_keys.size() == broker_.size();
      for (const auto& k : r->api_keys) {
        auto it = broker_.find(k.api_key);
        same =
            same && it != broker_.end() && it->second.min == k.min_version && it->second.max == k.max_version;
      }
      c.that(same, "ApiKeys differ from the ranges negotiated on connect");
      if (v >= 3) {
        const auto& f = r->supported_features;
        c.that(std::any_of(f.begin(), f.end(), [](const auto& x) { return x.name == "metadata.version"; }),
               "SupportedFeatures lacks metadata.version");
        for (const auto& x : r->finalized_features) {
          if (x.name == "metadata.version") metadata_version_ = x.max_version_level;
          if (x.name == "transaction.version") transaction_version_ = x.max_version_level;
        }
      }
    }
  }

  // ---- CreateTopics / DeleteTopics --------------------------------------------------------------------

  void create_topics() {
    for (int16_t v : versions<proto::CreateTopicsRequest>()) {
      Check c = check<proto::CreateTopicsRequest>(v);
      const std::string name = topic("create-v" + std::to_string(v));
      proto::CreateTopicsRequest req;
      req.timeout_ms = 30000;
      req.topics.push_back({.name = name,
                            .num_partitions = 2,
                            .replication_factor = 1,
                            .assignments = {},
                            .configs = {{"retention.ms", "3600000"}}});
      auto r = call(c, req);
      if (r && c.equal(r->topics.size(), size_t{1}, "Topics")) {
        const auto& t = r->topics[0];
        created_.push_back(name);
        c.equal(t.name, name, "Name");
        c.code(t.error_code, NONE, "ErrorCode");
        if (v >= 5) {
          c.equal(t.num_partitions, 2, "NumPartitions");
          c.equal(t.replication_factor, int16_t{1}, "ReplicationFactor");
          bool found = false;
          for (const auto& cfg :
               t.configs.value_or(std::vector<proto::CreateTopicsResponse::CreatableTopicConfigs>{}))
            if (cfg.name == "retention.ms")
              found = c.equal(cfg.value, std::optional<std::string>("3600000"), "retention.ms");
          c.that(found, "Configs lacks retention.ms");
        }
        if (v >= 7) c.that(!t.topic_id.is_zero(), "TopicId is zero");
      }
      FlowScope flow(*this, kMisuseExistingTopic);
      Check ca = check<proto::CreateTopicsRequest>(v, "creating it again");
      auto again = call(ca, req);
      if (again && ca.equal(again->topics.size(), size_t{1}, "Topics (again)")) {
        ca.code(again->topics[0].error_code, TOPIC_ALREADY_EXISTS, "ErrorCode creating it again");
        ca.that(again->topics[0].error_message.has_value(), "ErrorMessage is null for TOPIC_ALREADY_EXISTS");
      }
    }
  }

  proto::DeleteTopicsRequest delete_request(int16_t v, const std::string& name, const proto::Uuid& id) const {
    proto::DeleteTopicsRequest req;
    req.timeout_ms = 30000;
    if (v >= 6)
      req.topics.push_back({std::nullopt, id});  // by id: the v6 addition
    else
      req.topic_names.push_back(name);
    return req;
  }

  void delete_topics() {
    for (int16_t v : versions<proto::DeleteTopicsRequest>()) {
      Check c = check<proto::DeleteTopicsRequest>(v);
      const std::string& name = delete_topics_.at(v);
      const proto::Uuid id = ids_[name];
      auto req = delete_request(v, name, id);
      auto r = call(c, req);
      if (r && c.equal(r->responses.size(), size_t{1}, "Responses")) {
        const auto& t = r->responses[0];
        if (t.error_code == NONE) deleted_.insert(name);
        c.code(t.error_code, NONE, "ErrorCode");
        c.equal(t.name, std::optional<std::string>(name), "Name");
        if (v >= 6) c.equal(t.topic_id, id, "TopicId");
        if (v >= 5) c.equal(t.error_message, std::optional<std::string>(), "ErrorMessage");
      }
      FlowScope flow(*this, kMisuseUnknownTopic);
      Check ca = check<proto::DeleteTopicsRequest>(v, "deleting it again");
      auto again = call(ca, req);
      if (again && ca.equal(again->responses.size(), size_t{1}, "Responses (again)"))
        ca.code(again->responses[0].error_code, v >= 6 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION,
                "ErrorCode deleting it again");
    }
  }

  // Deletes every topic the run created and has not deleted yet; what cannot be deleted is reported.
  void cleanup() {
    std::vector<std::string> names;
    for (const auto& n : created_)
      if (!deleted_.count(n)) names.push_back(n);
    if (names.empty()) return;
    const auto range = both<proto::DeleteTopicsRequest>();
    if (range.max < range.min) {
      topics_left_ = names;
      return;
    }
    const int16_t v = range.max;
    proto::DeleteTopicsRequest req;
    req.timeout_ms = 30000;
    for (const auto& n : names) {
      if (v >= 6)
        req.topics.push_back({n, proto::Uuid{}});
      else
        req.topic_names.push_back(n);
    }
    Check c = check<proto::DeleteTopicsRequest>(v, "cleanup");
    auto r = call(c, req);
    if (!r) {
      topics_left_ = names;
      return;
    }
    for (const auto& t : r->responses) {
      if (t.error_code == NONE || t.error_code == UNKNOWN_TOPIC_OR_PARTITION) {
        deleted_.insert(t.name.value_or(""));
        continue;
      }
      c.code(t.error_code, NONE, "deleting " + t.name.value_or("?"));
    }
    for (const auto& n : names)
      if (!deleted_.count(n)) topics_left_.push_back(n);
  }

  // ---- topic and cluster administration -----------------------------------------------------------------

  // DescribeCluster at every version: error 0, the cluster id, controller and brokers Metadata gave
  // (read-only runs too); v1+ EndpointType 1 (brokers); v2+ no broker fenced (a fresh run's cluster); and
  // v1+ EndpointType 2 (controllers) asked of a broker: MISMATCHED_ENDPOINT_TYPE (114).
  void describe_cluster() {
    for (int16_t v : versions<proto::DescribeClusterRequest>()) {
      Check c = check<proto::DescribeClusterRequest>(v);
      proto::DescribeClusterRequest req;
      auto r = call(c, req);
      if (r) {
        c.code(r->error_code, NONE, "ErrorCode");
        c.equal(r->error_message, std::optional<std::string>(), "ErrorMessage");
        if (v >= 1) c.equal(r->endpoint_type, proto::DescribeClusterRequest::kBrokers, "EndpointType");
        c.equal(r->cluster_id, cluster_id_, "ClusterId (as in Metadata)");
        // (KRaft brokers name a random live broker as the controller, in Metadata as here.)
        c.that(addrs_.count(r->controller_id) > 0,
               "ControllerId " + std::to_string(r->controller_id) + " is not a broker Metadata lists");
        c.equal(r->cluster_authorized_operations,
                proto::DescribeClusterResponse::kAuthorizedOperationsOmitted, "ClusterAuthorizedOperations");
        std::map<int32_t, std::pair<std::string, uint16_t>> seen;
        for (const auto& b : r->brokers) {
          seen[b.broker_id] = {b.host, static_cast<uint16_t>(b.port)};
          if (v >= 2 && !read_only_)
            c.equal(b.is_fenced, false, "broker " + std::to_string(b.broker_id) + " IsFenced");
        }
        c.that(seen == addrs_, "Brokers (id, host, port) differ from Metadata's");
      }
      if (v >= 1) {
        Check cm = check<proto::DescribeClusterRequest>(v, "EndpointType 2 (controllers) asked of a broker");
        proto::DescribeClusterRequest controllers;
        controllers.endpoint_type = proto::DescribeClusterRequest::kControllers;
        if (auto m = call(cm, controllers)) cm.code(m->error_code, MISMATCHED_ENDPOINT_TYPE, "ErrorCode");
      }
    }
  }

  proto::DescribeConfigsRequest describe_configs_request(int16_t v, int8_t type, const std::string& name,
                                                         std::optional<std::vector<std::string>> keys) const {
    proto::DescribeConfigsRequest req;
    req.resources.push_back({type, name, std::move(keys)});
    req.include_synonyms = v >= 1;
    req.include_documentation = v >= 3;
    return req;
  }

  // The one result of a DescribeConfigs of one resource, checked for error 0 and the resource; or nullptr.
  const proto::DescribeConfigsResponse::DescribeConfigsResult* config_result(
      Check& c, const proto::DescribeConfigsResponse& r, int8_t type, const std::string& name) {
    if (!c.equal(r.results.size(), size_t{1}, "Results")) return nullptr;
    const auto& res = r.results[0];
    if (!c.code(res.error_code, NONE, "ErrorCode")) return nullptr;
    // Kafka answers "" rather than null with error 0.
    c.that(res.error_message.value_or("").empty(), "ErrorMessage with error 0: " + show(res.error_message));
    c.equal(res.resource_type, type, "ResourceType");
    c.equal(res.resource_name, name, "ResourceName");
    return &res;
  }

  static const proto::DescribeConfigsResponse::DescribeConfigsResourceResult* find_config(
      const proto::DescribeConfigsResponse::DescribeConfigsResult& res, const std::string& key) {
    for (const auto& cfg : res.configs)
      if (cfg.name == key) return &cfg;
    return nullptr;
  }

  // DescribeConfigs at every version (read-only runs too): two keys of the data topic (cleanup.policy,
  // retention.ms: values, not read-only, not sensitive, v1+ a source and synonyms, v3+ their types LIST and
  // LONG and documentation), every key of it, and the bootstrap broker's node.id (its id, read-only, v1+
  // STATIC_BROKER_CONFIG) asked of that broker; an unknown topic: UNKNOWN_TOPIC_OR_PARTITION (3).
  void describe_configs() {
    using Res = proto::ConfigResourceType;
    for (int16_t v : versions<proto::DescribeConfigsRequest>()) {
      if (!data_.empty()) {
        Check c = check<proto::DescribeConfigsRequest>(v, "topic");
        auto r =
            call(c, describe_configs_request(v, Res::kTopic, data_,
                                             std::vector<std::string>{"cleanup.policy", "retention.ms"}));
        if (const auto* res = r ? config_result(c, *r, Res::kTopic, data_) : nullptr) {
          c.equal(res->configs.size(), size_t{2}, "Configs");
          for (const std::string key : {"cleanup.policy", "retention.ms"}) {
            const auto* cfg = find_config(*res, key);
            if (!c.that(cfg != nullptr, "Configs lacks " + key)) continue;
            c.that(cfg->value.has_value() && !cfg->value->empty(), key + " has no Value");
            if (!read_only_ && key == "cleanup.policy")
              c.equal(cfg->value, std::optional<std::string>("delete"), key + " Value");
            if (key == "retention.ms" && cfg->value)
              c.that(cfg->value->find_first_not_of("-0123456789") == std::string::npos,
                     key + " Value is not a number: " + *cfg->value);
            c.equal(cfg->read_only, false, key + " ReadOnly");
            c.equal(cfg->is_sensitive, false, key + " IsSensitive");
            // v0's IsDefault is not checked: Kafka 3.9.1 answers false for these defaults too.
            if (v >= 1) {
              c.that(cfg->config_source >= proto::ConfigSource::kTopicConfig &&
                         cfg->config_source <= proto::ConfigSource::kGroupConfig,
                     key + " ConfigSource " + std::to_string(cfg->config_source));
              if (!read_only_)
                c.that(cfg->config_source != proto::ConfigSource::kTopicConfig,
                       key + " is a topic override, but the run set none");
              // The synonyms, when there are any, start with the one in effect (a default with no broker
              // setting behind it, like retention.ms on Kafka 4.4, has none).
              if (!cfg->synonyms.empty())
                c.equal(cfg->synonyms[0].source, cfg->config_source, key + " first synonym's Source");
            }
            if (v >= 3) {
              c.equal(cfg->config_type, static_cast<int8_t>(key == "cleanup.policy" ? 7 : 5),
                      key + " ConfigType (LIST, LONG)");
              c.that(cfg->documentation.has_value() && !cfg->documentation->empty(),
                     key + " has no Documentation (IncludeDocumentation was true)");
            }
          }
        }
        Check ca = check<proto::DescribeConfigsRequest>(v, "topic, every key");
        auto all = call(ca, describe_configs_request(v, Res::kTopic, data_, std::nullopt));
        if (const auto* res = all ? config_result(ca, *all, Res::kTopic, data_) : nullptr) {
          ca.that(res->configs.size() >= 10, "only " + std::to_string(res->configs.size()) + " configs");
          for (const char* key : {"cleanup.policy", "retention.ms", "segment.bytes", "min.insync.replicas"})
            ca.that(find_config(*res, key) != nullptr, std::string("Configs lacks ") + key);
        }
      }
      {
        const int32_t node = addrs_.empty() ? -1 : addrs_.begin()->first;
        Check cb = check<proto::DescribeConfigsRequest>(v, "broker " + std::to_string(node));
        const std::string name = std::to_string(node);
        auto r = call(
            cb, describe_configs_request(v, Res::kBroker, name, std::vector<std::string>{"node.id"}), node);
        if (const auto* res = r ? config_result(cb, *r, Res::kBroker, name) : nullptr) {
          const auto* cfg = find_config(*res, "node.id");
          if (cb.that(cfg != nullptr, "Configs lacks node.id")) {
            cb.equal(cfg->value, std::optional<std::string>(name), "node.id Value");
            cb.equal(cfg->read_only, true, "node.id ReadOnly");
            if (v >= 1) {
              cb.equal(cfg->config_source, proto::ConfigSource::kStaticBrokerConfig, "node.id ConfigSource");
              cb.that(
                  !cfg->synonyms.empty() && cfg->synonyms[0].name == "node.id" &&
                      cfg->synonyms[0].source == proto::ConfigSource::kStaticBrokerConfig,
                  "node.id's first synonym is not itself, STATIC_BROKER_CONFIG (IncludeSynonyms was true)");
            }
            if (v >= 3) cb.equal(cfg->config_type, int8_t{3}, "node.id ConfigType (INT)");
          }
        }
      }
      FlowScope flow(*this, kMisuseUnknownTopic);
      Check cu = check<proto::DescribeConfigsRequest>(v, "unknown topic");
      const std::string nosuch = topic("no-such-topic");
      auto u = call(
          cu, describe_configs_request(v, Res::kTopic, nosuch, std::vector<std::string>{"retention.ms"}));
      if (u && cu.equal(u->results.size(), size_t{1}, "Results")) {
        cu.code(u->results[0].error_code, UNKNOWN_TOPIC_OR_PARTITION, "ErrorCode");
        cu.equal(u->results[0].resource_name, nosuch, "ResourceName");
      }
    }
  }

  // The data topic's retention.ms as DescribeConfigs (top version) shows it, once `done` says it has the
  // state wanted (the broker applies a change from the metadata log, a moment after answering it), or after
  // 15 s. The check is on c, the exchange is a DescribeConfigs cell's.
  std::optional<proto::DescribeConfigsResponse::DescribeConfigsResourceResult> topic_config(
      const std::string& key, const std::string& why,
      const std::function<bool(const proto::DescribeConfigsResponse::DescribeConfigsResourceResult&)>& done) {
    const int16_t dv = top<proto::DescribeConfigsRequest>();
    std::optional<proto::DescribeConfigsResponse::DescribeConfigsResourceResult> last;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      Check d = check<proto::DescribeConfigsRequest>(dv, why);
      auto r = call(d, describe_configs_request(dv, proto::ConfigResourceType::kTopic, data_,
                                                std::vector<std::string>{key}));
      const auto* res = r ? config_result(d, *r, proto::ConfigResourceType::kTopic, data_) : nullptr;
      if (!res) return std::nullopt;
      if (const auto* cfg = find_config(*res, key)) last = *cfg;
      if ((last && done(*last)) || std::chrono::steady_clock::now() > deadline) return last;
      std::this_thread::sleep_for(100ms);
    }
  }

  // IncrementalAlterConfigs at every version, on the data topic: SET retention.ms (DescribeConfigs then
  // shows the value, a TOPIC_CONFIG), SET with ValidateOnly (nothing changes), DELETE it (back to the
  // default); an unknown key: INVALID_CONFIG (40), and a resource's keys change together or not at all.
  void incremental_alter_configs() {
    using Req = proto::IncrementalAlterConfigsRequest;
    const int8_t kTopic = proto::ConfigResourceType::kTopic;
    auto alter = [&](Check& c, std::vector<Req::AlterableConfig> configs, bool validate_only,
                     int16_t want = NONE) {
      Req req;
      req.validate_only = validate_only;
      req.resources.push_back({kTopic, data_, std::move(configs)});
      auto r = call(c, req);
      if (!r || !c.equal(r->responses.size(), size_t{1}, "Responses")) return false;
      const auto& res = r->responses[0];
      c.equal(res.resource_type, kTopic, "ResourceType");
      c.equal(res.resource_name, data_, "ResourceName");
      if (want == NONE) c.equal(res.error_message, std::optional<std::string>(), "ErrorMessage");
      return c.code(res.error_code, want, "ErrorCode");
    };
    using Cfg = proto::DescribeConfigsResponse::DescribeConfigsResourceResult;
    auto is_override = [](const Cfg& cfg) { return cfg.config_source == proto::ConfigSource::kTopicConfig; };
    for (int16_t v : versions<Req>()) {
      const std::string value = std::to_string(3600000 + 1000 * v);
      Check c = check<Req>(v, "SET retention.ms=" + value);
      if (alter(c, {{"retention.ms", Req::kSet, value}}, false)) {
        auto cfg =
            topic_config("retention.ms", "after IncrementalAlterConfigs v" + std::to_string(v) + " SET",
                         [&](const Cfg& x) { return x.value == value; });
        if (c.that(cfg.has_value(), "DescribeConfigs lacks retention.ms after the SET")) {
          c.equal(cfg->value, std::optional<std::string>(value), "retention.ms as DescribeConfigs shows it");
          c.that(is_override(*cfg), "retention.ms ConfigSource " + std::to_string(cfg->config_source) +
                                        " after the SET, want TOPIC_CONFIG (1)");
          c.that(!cfg->synonyms.empty() && cfg->synonyms[0].name == "retention.ms" &&
                     cfg->synonyms[0].value == std::optional<std::string>(value) &&
                     cfg->synonyms[0].source == proto::ConfigSource::kTopicConfig,
                 "retention.ms's first synonym is not the override");
        }
      }
      Check cv = check<Req>(v, "SET with ValidateOnly");
      if (alter(cv, {{"retention.ms", Req::kSet, "7200000"}}, true)) {
        auto cfg = topic_config("retention.ms", "after a ValidateOnly SET", [](const Cfg&) { return true; });
        if (cfg)
          cv.equal(cfg->value, std::optional<std::string>(value), "retention.ms after a ValidateOnly SET");
      }
      {
        FlowScope flow(*this, kMisuseConfig);
        Check cu = check<Req>(v, "an unknown key with a known one");
        alter(cu, {{"retention.ms", Req::kSet, "7200000"}, {topic("no.such.config"), Req::kSet, "1"}}, false,
              INVALID_CONFIG);
        auto cfg = topic_config("retention.ms", "after a refused SET", [](const Cfg&) { return true; });
        if (cfg) cu.equal(cfg->value, std::optional<std::string>(value), "retention.ms after a refused SET");
      }
      Check cd = check<Req>(v, "DELETE retention.ms");
      if (alter(cd, {{"retention.ms", Req::kDelete, std::nullopt}}, false)) {
        auto cfg =
            topic_config("retention.ms", "after IncrementalAlterConfigs v" + std::to_string(v) + " DELETE",
                         [&](const Cfg& x) { return !is_override(x); });
        if (cd.that(cfg.has_value(), "DescribeConfigs lacks retention.ms after the DELETE")) {
          cd.that(!is_override(*cfg), "retention.ms is still a topic override after the DELETE");
          cd.that(cfg->value != std::optional<std::string>(value), "retention.ms kept the value SET");
        }
      }
    }
  }

  // The data topic's partition count per Metadata (top version) once it is `want`, or after 15 s.
  int32_t partition_count(const std::string& name, int32_t want) {
    const int16_t mv = top<proto::MetadataRequest>();
    int32_t n = -1;
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    for (;;) {
      auto m = call_at(mv, metadata_request({name}), -1, "partitions of " + name);
      if (m && m->topics.size() == 1 && m->topics[0].error_code == NONE) {
        n = static_cast<int32_t>(m->topics[0].partitions.size());
        bool led = std::all_of(m->topics[0].partitions.begin(), m->topics[0].partitions.end(),
                               [](const auto& p) { return p.leader_id >= 0; });
        if (n == want && led) return n;
      }
      if (std::chrono::steady_clock::now() > deadline) return n;
      std::this_thread::sleep_for(100ms);
    }
  }

  // CreatePartitions at every version, on a topic of the run's that starts with one partition: one more
  // partition each version (placed by the broker, or at odd versions given the replicas of partition 0),
  // which Metadata then shows; ValidateOnly changes nothing; the same count again: INVALID_PARTITIONS (37);
  // an unknown topic: UNKNOWN_TOPIC_OR_PARTITION (3).
  void create_partitions() {
    using Req = proto::CreatePartitionsRequest;
    auto request = [&](const std::string& name, int32_t count, bool assign, bool validate_only) {
      Req req;
      req.timeout_ms = 30000;
      req.validate_only = validate_only;
      Req::CreatePartitionsTopic t{name, count, std::nullopt};
      if (assign) t.assignments = std::vector<Req::CreatePartitionsAssignment>{{grow_replicas_}};
      req.topics.push_back(std::move(t));
      return req;
    };
    auto result = [&](Check& c, const Req& req, const std::string& name, int16_t want) {
      auto r = call(c, req);
      if (!r || !c.equal(r->results.size(), size_t{1}, "Results")) return false;
      c.equal(r->results[0].name, name, "Name");
      if (want == NONE)
        c.equal(r->results[0].error_message, std::optional<std::string>(), "ErrorMessage");
      else if (want == INVALID_PARTITIONS)
        c.that(r->results[0].error_message.has_value(), "ErrorMessage is null with INVALID_PARTITIONS");
      return c.code(r->results[0].error_code, want, "ErrorCode");
    };
    for (int16_t v : versions<Req>()) {
      const int32_t count = grow_partitions_ + 1;
      Check c = check<Req>(v, "to " + std::to_string(count) + " partitions");
      if (result(c, request(grow_, count, v % 2 == 1, false), grow_, NONE)) {
        grow_partitions_ = count;
        c.equal(partition_count(grow_, count), count, "partitions per Metadata");
      }
      Check cv = check<Req>(v, "ValidateOnly");
      if (result(cv, request(grow_, grow_partitions_ + 1, false, true), grow_, NONE))
        cv.equal(partition_count(grow_, grow_partitions_), grow_partitions_,
                 "partitions per Metadata after ValidateOnly");
      Check cs = check<Req>(v, "the same count again");
      result(cs, request(grow_, grow_partitions_, false, false), grow_, INVALID_PARTITIONS);
      FlowScope flow(*this, kMisuseUnknownTopic);
      Check cu = check<Req>(v, "unknown topic");
      result(cu, request(topic("no-such-topic"), 2, false, false), topic("no-such-topic"),
             UNKNOWN_TOPIC_OR_PARTITION);
    }
  }

  // The earliest offset of partition 0 of the records topic, per ListOffsets (top version).
  int64_t records_start(Check& c) {
    const int16_t lv = top<proto::ListOffsetsRequest>();
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    req.topics.push_back({records_, {{0, -1, proto::ListOffsetsRequest::kEarliestTimestamp}}});
    auto r = call_at(lv, req, records_leader_, "the log start of " + records_ + "-0");
    if (!r || r->topics.size() != 1 || r->topics[0].partitions.size() != 1 ||
        r->topics[0].partitions[0].error_code != NONE) {
      c.fail("ListOffsets earliest of " + records_ + "-0 failed");
      return -1;
    }
    return r->topics[0].partitions[0].offset;
  }

  // DeleteRecords at every version, on a one-partition topic of the run's: three records produced, then
  // deleted up to the last of them (odd versions: -1, the high watermark, all three): LowWatermark is that
  // offset, and ListOffsets earliest moves there; an offset past the high watermark: OFFSET_OUT_OF_RANGE (1).
  void delete_records() {
    using Req = proto::DeleteRecordsRequest;
    const int16_t pv = top<proto::ProduceRequest>();
    int64_t end = 0;
    auto request = [&](int64_t offset) {
      Req req;
      req.timeout_ms = 30000;
      req.topics.push_back({records_, {{0, offset}}});
      return req;
    };
    auto partition = [&](Check& c, const proto::DeleteRecordsResponse& r)
        -> const proto::DeleteRecordsResponse::DeleteRecordsPartitionResult* {
      if (!c.equal(r.topics.size(), size_t{1}, "Topics")) return nullptr;
      c.equal(r.topics[0].name, records_, "Name");
      if (!c.equal(r.topics[0].partitions.size(), size_t{1}, "Partitions")) return nullptr;
      c.equal(r.topics[0].partitions[0].partition_index, 0, "PartitionIndex");
      return &r.topics[0].partitions[0];
    };
    for (int16_t v : versions<Req>()) {
      Check cp = check<proto::ProduceRequest>(pv, "records for DeleteRecords v" + std::to_string(v));
      auto recs = make_records(pv, Compression::none);
      auto pr = call(cp, produce_request(pv, records_, records_id_, 0, build_batch(recs, Compression::none)),
                     records_leader_);
      const auto* p = pr ? produce_partition(cp, *pr, records_, records_id_, 0) : nullptr;
      if (!p || !cp.code(p->error_code, NONE, "ErrorCode")) continue;
      cp.equal(p->base_offset, end, "BaseOffset");
      end = p->base_offset + static_cast<int64_t>(recs.size());
      const bool all = v % 2 == 1;
      const int64_t offset = all ? Req::kHighWatermark : end - 1;
      const int64_t want = all ? end : end - 1;
      Check c = check<Req>(v, all ? "below the high watermark" : "below offset " + std::to_string(offset));
      auto r = call(c, request(offset), records_leader_);
      if (const auto* d = r ? partition(c, *r) : nullptr) {
        c.code(d->error_code, NONE, "ErrorCode");
        c.equal(d->low_watermark, want, "LowWatermark");
        c.equal(records_start(c), want, "ListOffsets earliest after the deletion");
      }
      FlowScope flow(*this, kMisuseDeleteRecords);
      Check co = check<Req>(v, "past the high watermark");
      auto o = call(co, request(end + 10), records_leader_);
      if (const auto* d = o ? partition(co, *o) : nullptr)
        co.code(d->error_code, OFFSET_OUT_OF_RANGE, "ErrorCode");
    }
  }

  // DeleteGroups at every version: a group of the run's with a committed offset (no members) is deleted
  // (error 0), after which OffsetFetch finds no offsets for it; deleting it again: GROUP_ID_NOT_FOUND (69).
  void delete_groups() {
    const int16_t cv = top<proto::OffsetCommitRequest>();
    const int16_t fv = top<proto::OffsetFetchRequest>();
    for (int16_t v : versions<proto::DeleteGroupsRequest>()) {
      const std::string g = group("delete-v" + std::to_string(v));
      Check cc = check<proto::OffsetCommitRequest>(cv, "a group for DeleteGroups v" + std::to_string(v));
      std::vector<Committed> values(static_cast<size_t>(kPartitions), Committed{1, -1, std::nullopt});
      if (!commit(cc, g, -1, "", values)) continue;
      Check c = check<proto::DeleteGroupsRequest>(v);
      proto::DeleteGroupsRequest req;
      req.groups_names = {g};
      auto delete_once = [&](Check& ch, int16_t want) {
        auto r = call(ch, req, coordinator(g));
        if (!r || !ch.equal(r->results.size(), size_t{1}, "Results")) return;
        ch.equal(r->results[0].group_id, g, "GroupId");
        if (v >= 3 && want == NONE)
          ch.equal(r->results[0].error_message, std::optional<std::string>(), "ErrorMessage");
        ch.code(r->results[0].error_code, want, "ErrorCode");
      };
      delete_once(c, NONE);
      if (auto f = call_at(fv, offset_fetch_request(fv, {g}), coordinator(g), "offsets of a deleted group")) {
        bool none = true;
        auto scan = [&](const auto& topics) {
          for (const auto& t : topics)
            for (const auto& p : t.partitions) none = none && p.committed_offset == -1;
        };
        scan(f->topics);
        for (const auto& gr : f->groups) scan(gr.topics);
        c.that(none, "OffsetFetch still finds the deleted group's offsets");
      }
      FlowScope flow(*this, kMisuseUnknownGroup);
      Check ca = check<proto::DeleteGroupsRequest>(v, "deleting it again");
      delete_once(ca, GROUP_ID_NOT_FOUND);
    }
  }

  // The groups of this run (named kwc-<run id>-...) that the brokers list.
  std::vector<std::string> run_groups() {
    std::set<std::string> out;
    const auto range = both<proto::ListGroupsRequest>();
    if (range.max < range.min) return {};
    const std::string prefix = group("");
    std::vector<int32_t> nodes;
    for (const auto& [node, addr] : addrs_) nodes.push_back(node);
    if (nodes.empty()) nodes.push_back(-1);
    for (int32_t node : nodes) {
      auto r = call_at(range.max, proto::ListGroupsRequest{}, node, "cleanup: the run's groups");
      if (!r) continue;
      for (const auto& g : r->groups)
        if (g.group_id.rfind(prefix, 0) == 0) out.insert(g.group_id);
    }
    return {out.begin(), out.end()};
  }

  // Deletes the groups this run made (each at its coordinator, the top DeleteGroups version); those that
  // cannot be deleted are reported.
  void cleanup_groups() {
    const auto range = both<proto::DeleteGroupsRequest>();
    const auto names = run_groups();
    if (names.empty()) return;
    if (range.max < range.min) {
      groups_left_ = names;
      return;
    }
    std::map<int32_t, std::vector<std::string>> by_coordinator;
    for (const auto& g : names) by_coordinator[coordinator(g)].push_back(g);
    std::set<std::string> gone;
    for (const auto& [node, groups] : by_coordinator) {
      Check c = check<proto::DeleteGroupsRequest>(range.max, "cleanup");
      proto::DeleteGroupsRequest req;
      req.groups_names = groups;
      auto r = call(c, req, node);
      if (!r) continue;
      for (const auto& res : r->results) {
        if (res.error_code == NONE || res.error_code == GROUP_ID_NOT_FOUND) {
          gone.insert(res.group_id);
          continue;
        }
        c.code(res.error_code, NONE, "deleting " + res.group_id);
      }
    }
    for (const auto& g : names)
      if (!gone.count(g)) groups_left_.push_back(g);
  }

  // ---- Metadata ---------------------------------------------------------------------------------------

  void metadata() {
    for (int16_t v : versions<proto::MetadataRequest>()) {
      Check c = check<proto::MetadataRequest>(v);
      auto req = metadata_request({data_});
      auto r = call(c, req);
      if (r) {
        check_metadata_brokers(c, *r);
        if (v >= 13) c.code(r->error_code, NONE, "ErrorCode");
        if (c.equal(r->topics.size(), size_t{1}, "Topics")) check_data_topic(c, r->topics[0]);
      }
      if (v >= 1) {  // null Topics: every topic
        proto::MetadataRequest all;
        all.topics.reset();
        all.allow_auto_topic_creation = false;
        Check ca = check<proto::MetadataRequest>(v, "all topics");
        if (auto a = call(ca, all)) {
          auto it = std::find_if(a->topics.begin(), a->topics.end(),
                                 [&](const auto& t) { return t.name == data_; });
          if (ca.that(it != a->topics.end(), "the data topic is missing")) check_data_topic(ca, *it);
        }
      }
      if (v >= 4) {  // an unknown topic, not auto-created (before v4 asking for it would create it)
        FlowScope flow(*this, kMisuseUnknownTopic);
        Check cu = check<proto::MetadataRequest>(v, "unknown topic");
        if (auto u = call(cu, metadata_request({topic("no-such-topic")}));
            u && cu.equal(u->topics.size(), size_t{1}, "Topics"))
          cu.code(u->topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION, "ErrorCode");
      }
      if (v >= 12) {  // by topic id, with a null name
        proto::MetadataRequest byid;
        byid.topics.emplace().push_back({data_id_, std::nullopt});
        byid.allow_auto_topic_creation = false;
        Check ci = check<proto::MetadataRequest>(v, "by topic id");
        if (auto i = call(ci, byid); i && ci.equal(i->topics.size(), size_t{1}, "Topics"))
          check_data_topic(ci, i->topics[0]);
      }
    }
  }

  void check_metadata_brokers(Check& c, const proto::MetadataResponse& r) {
    const int16_t v = c.version();
    c.that(!r.brokers.empty(), "Brokers is empty");
    for (const auto& b : r.brokers) c.that(!b.host.empty() && b.port > 0, "a broker without host:port");
    if (v >= 1) c.that(r.controller_id >= 0, "ControllerId " + std::to_string(r.controller_id));
    if (v >= 2) c.that(r.cluster_id.has_value() && !r.cluster_id->empty(), "ClusterId is null");
    if (v >= 8 && v <= 10)
      c.equal(r.cluster_authorized_operations, proto::MetadataResponse::kAuthorizedOperationsOmitted,
              "ClusterAuthorizedOperations");
  }

  void check_data_topic(Check& c, const proto::MetadataResponse::MetadataResponseTopic& t) {
    const int16_t v = c.version();
    c.code(t.error_code, NONE, "topic ErrorCode");
    c.equal(t.name, std::optional<std::string>(data_), "Name");
    if (v >= 10) c.equal(t.topic_id, data_id_, "TopicId");
    if (v >= 1) c.equal(t.is_internal, data_internal_, "IsInternal");
    if (v >= 8)
      c.equal(t.topic_authorized_operations, proto::MetadataResponse::kAuthorizedOperationsOmitted,
              "TopicAuthorizedOperations");
    if (!c.equal(t.partitions.size(), static_cast<size_t>(data_partitions_), "Partitions")) return;
    std::set<int32_t> seen;
    for (const auto& p : t.partitions) {
      const std::string at = "partition " + std::to_string(p.partition_index) + " ";
      seen.insert(p.partition_index);
      c.code(p.error_code, NONE, at + "ErrorCode");
      c.that(!p.replica_nodes.empty(), at + "has no replicas");
      if (!read_only_) {  // a cluster in use may have a broker down: these describe it, not the protocol
        c.that(p.leader_id >= 0, at + "has no leader");
        c.that(!p.isr_nodes.empty(), at + "has no ISR");
        c.that(std::find(p.isr_nodes.begin(), p.isr_nodes.end(), p.leader_id) != p.isr_nodes.end(),
               at + "leader not in the ISR");
        if (v >= 5) c.that(p.offline_replicas.empty(), at + "has offline replicas");
      }
      if (v >= 7 && p.leader_id >= 0)
        c.that(p.leader_epoch >= 0, at + "LeaderEpoch " + std::to_string(p.leader_epoch));
    }
    std::set<int32_t> want;
    for (int32_t i = 0; i < data_partitions_; ++i) want.insert(i);
    c.that(seen == want, "PartitionIndex values are not 0.." + std::to_string(data_partitions_ - 1));
  }

  // ---- Produce ----------------------------------------------------------------------------------------

  // Three records unlike each other: headers, a null key, a null value, a header with a null value.
  std::vector<ExpectedRecord> make_records(int16_t v, Compression codec) {
    std::vector<ExpectedRecord> out(3);
    const std::string tag = "v" + std::to_string(v) + "-" + std::string(proto::compression_name(codec));
    std::string filler;
    for (int i = 0; i < 6; ++i) filler += "the same words again, so that the codec has something to do; ";
    out[0].key = "key-" + tag + "-0";
    out[0].value = "value-" + tag + "-0: " + filler;
    out[0].headers = {{"h1", std::string("one")}, {"h2", std::string("")}};
    out[1].key = std::nullopt;
    out[1].value = "value-" + tag + "-1 with a null key";
    out[2].key = "key-" + tag + "-2";
    out[2].value = std::nullopt;
    out[2].headers = {{"null-valued", std::nullopt}};
    for (auto& r : out) {
      r.timestamp = next_timestamp_;
      next_timestamp_ += 10;
      r.codec = codec;
    }
    return out;
  }

  static std::vector<uint8_t> build_batch(const std::vector<ExpectedRecord>& recs, Compression codec) {
    proto::BatchOptions options;
    options.compression = codec;
    proto::RecordBatchBuilder b(options);
    for (const auto& r : recs) {
      std::vector<proto::Header> headers;
      for (const auto& [k, hv] : r.headers)
        headers.push_back({k, hv ? std::optional<Bytes>(Bytes(std::string_view(*hv))) : std::nullopt});
      auto view = [](const std::optional<std::string>& s) {
        return s ? std::optional<Bytes>(Bytes(std::string_view(*s))) : std::nullopt;
      };
      b.add(r.timestamp, view(r.key), view(r.value), headers);
    }
    return b.build();
  }

  proto::ProduceRequest produce_request(int16_t v, const std::string& name, const proto::Uuid& id,
                                        int32_t partition, const std::vector<uint8_t>& batch) const {
    proto::ProduceRequest req;
    req.acks = -1;
    req.timeout_ms = 30000;
    proto::ProduceRequest::TopicProduceData td;
    if (v >= 13)
      td.topic_id = id;
    else
      td.name = name;
    td.partition_data.push_back({partition, proto::Records{Bytes(batch)}});
    req.topic_data.push_back(std::move(td));
    return req;
  }

  // Checks a Produce response for one partition and returns it, or nullptr.
  const proto::ProduceResponse::PartitionProduceResponse* produce_partition(Check& c,
                                                                            const proto::ProduceResponse& r,
                                                                            const std::string& name,
                                                                            const proto::Uuid& id,
                                                                            int32_t partition) {
    const int16_t v = c.version();
    if (!c.equal(r.responses.size(), size_t{1}, "Responses")) return nullptr;
    const auto& t = r.responses[0];
    if (v >= 13)
      c.equal(t.topic_id, id, "TopicId");
    else
      c.equal(t.name, name, "Name");
    if (!c.equal(t.partition_responses.size(), size_t{1}, "PartitionResponses")) return nullptr;
    const auto& p = t.partition_responses[0];
    c.equal(p.index, partition, "Index");
    return &p;
  }

  // After a Produce whose answer could not be read: if the partition's end moved by the batch's size, the
  // batch was written, and the Fetch and ListOffsets stages must expect it.
  void resync(int32_t p, std::vector<ExpectedRecord> recs) {
    auto& log = expected_[p];
    proto::ListOffsetsRequest req;
    req.replica_id = -1;
    req.topics.push_back({data_, {{p, -1, proto::ListOffsetsRequest::kLatestTimestamp}}});
    auto r = call_at(top<proto::ListOffsetsRequest>(), req, leader(p), "after a failed Produce");
    if (!r || r->topics.size() != 1 || r->topics[0].partitions.size() != 1) return;
    const int64_t end = r->topics[0].partitions[0].offset;
    if (end != static_cast<int64_t>(log.size() + recs.size())) return;
    for (auto& rec : recs) {
      rec.offset = static_cast<int64_t>(log.size());
      log.push_back(rec);
    }
  }

  void produce() {
    const int16_t top_v = top<proto::ProduceRequest>();
    for (int16_t v : versions<proto::ProduceRequest>()) {
      for (size_t ci = 0; ci < kCodecs.size(); ++ci) {
        const Compression codec = kCodecs[ci];
        FlowScope flow(*this, codec_flow(codec));
        Check c = check<proto::ProduceRequest>(
            v, std::string("codec ") + std::string(proto::compression_name(codec)));
        if (!proto::compression_available(codec)) {
          notes_.insert(proto::unsupported_compression_message(codec) + ": not produced");
          matrix_.annotate_flow(codec_flow(codec), "this kafkawire is built without it: not produced");
          continue;
        }
        const int32_t p = static_cast<int32_t>((v + ci) % kPartitions);
        auto recs = make_records(v, codec);
        const auto batch = build_batch(recs, codec);
        auto r = call(c, produce_request(v, data_, data_id_, p, batch), leader(p));
        const auto* pr = r ? produce_partition(c, *r, data_, data_id_, p) : nullptr;
        if (!pr) {  // the records may have landed all the same: ask, so later stages expect the right log
          resync(p, recs);
          continue;
        }
        auto& log = expected_[p];
        if (codec == Compression::zstd && v < 7) {  // KIP-110: zstd needs Produce v7
          c.code(pr->error_code, UNSUPPORTED_COMPRESSION_TYPE, "ErrorCode for a zstd batch below v7");
          // A broker that took the batch anyway (kfake) fails this cell; the records are in its log
          // all the same, so the later stages expect them there and fail only for what is their own.
          if (pr->error_code == NONE && pr->base_offset == static_cast<int64_t>(log.size())) {
            for (size_t i = 0; i < recs.size(); ++i) {
              recs[i].offset = pr->base_offset + static_cast<int64_t>(i);
              log.push_back(recs[i]);
            }
          }
          continue;
        }
        if (!c.code(pr->error_code, NONE, "ErrorCode")) continue;
        c.equal(pr->base_offset, static_cast<int64_t>(log.size()), "BaseOffset");
        c.equal(pr->log_append_time_ms, int64_t{-1}, "LogAppendTimeMs");
        if (v >= 5) c.equal(pr->log_start_offset, int64_t{0}, "LogStartOffset");
        if (v >= 8) c.that(pr->record_errors.empty() && !pr->error_message, "RecordErrors/ErrorMessage set");
        for (size_t i = 0; i < recs.size(); ++i) {
          recs[i].offset = pr->base_offset + static_cast<int64_t>(i);
          log.push_back(recs[i]);
        }
      }
      if (v == top_v) {  // the zstd-configured topic: the broker recompresses an uncompressed batch
        Check c = check<proto::ProduceRequest>(v, "topic with compression.type=zstd");
        auto recs = make_records(v, Compression::none);
        const auto batch = build_batch(recs, Compression::none);
        auto r = call(c, produce_request(v, zstd_, zstd_id_, 0, batch), zstd_leader_);
        if (!r) continue;
        const auto* pr = produce_partition(c, *r, zstd_, zstd_id_, 0);
        if (pr && c.code(pr->error_code, NONE, "ErrorCode") &&
            c.equal(pr->base_offset, int64_t{0}, "BaseOffset")) {
          for (size_t i = 0; i < recs.size(); ++i) {
            recs[i].offset = static_cast<int64_t>(i);
            recs[i].codec = Compression::zstd;
            expected_zstd_.push_back(recs[i]);
          }
        }
      }
    }
  }

  // ---- Fetch ------------------------------------------------------------------------------------------

  proto::FetchRequest fetch_request(int16_t v, const std::string& name, const proto::Uuid& id,
                                    const std::vector<std::pair<int32_t, int64_t>>& partitions) const {
    proto::FetchRequest req;
    req.replica_id = -1;
    req.max_wait_ms = 0;
    req.min_bytes = 0;
    req.max_bytes = 64 << 20;
    proto::FetchRequest::FetchTopic t;
    if (v >= 13)
      t.topic_id = id;
    else
      t.topic = name;
    for (const auto& [p, offset] : partitions) {
      proto::FetchRequest::FetchPartition fp;
      fp.partition = p;
      fp.fetch_offset = offset;
      fp.partition_max_bytes = 8 << 20;
      t.partitions.push_back(fp);
    }
    req.topics.push_back(std::move(t));
    return req;
  }

  // The one topic of a Fetch response, checked against what was asked.
  const proto::FetchResponse::FetchableTopicResponse* fetch_topic(Check& c, const proto::FetchResponse& r,
                                                                  const std::string& name,
                                                                  const proto::Uuid& id) {
    const int16_t v = c.version();
    if (v >= 7) {
      c.code(r.error_code, NONE, "top-level ErrorCode");
      c.equal(r.session_id, 0, "SessionId (sessionless fetch)");
    }
    if (!c.equal(r.responses.size(), size_t{1}, "Responses")) return nullptr;
    const auto& t = r.responses[0];
    if (v >= 13)
      c.equal(t.topic_id, id, "TopicId");
    else
      c.equal(t.topic, name, "Topic");
    return &t;
  }

  // Reads the records of one partition's answer from `cursor` on and compares them with `log`.
  void compare_records(Check& c, const proto::FetchResponse::PartitionData& pd,
                       const std::vector<ExpectedRecord>& log, int64_t& cursor) {
    const std::string at = "partition " + std::to_string(pd.partition_index) + " ";
    if (!pd.records.bytes) return;
    proto::RecordBatchReader reader(*pd.records.bytes, {.start_offset = cursor});
    proto::RecordView rec;
    while (reader.next_batch()) {
      const auto codec = reader.batch().compression();
      while (reader.next_record(rec)) {
        const std::string here = at + "offset " + std::to_string(rec.offset) + ": ";
        if (!c.that(rec.offset >= 0 && rec.offset < static_cast<int64_t>(log.size()),
                    here + "beyond what was produced"))
          return;
        const auto& want = log[static_cast<size_t>(rec.offset)];
        ++records_compared_;
        c.push_flow(codec_flow(want.codec));
        auto str = [](const std::optional<Bytes>& b) {
          return b ? std::optional<std::string>(std::string(b->str())) : std::nullopt;
        };
        c.equal(rec.offset, want.offset, here + "offset");
        c.equal(rec.timestamp, want.timestamp, here + "timestamp");
        c.equal(str(rec.key), want.key, here + "key");
        c.equal(str(rec.value), want.value, here + "value");
        std::vector<std::pair<std::string, std::optional<std::string>>> headers;
        for (auto [k, hv] : rec.headers) headers.emplace_back(std::string(k), str(hv));
        c.that(headers == want.headers, here + "headers differ");
        c.that(codec == want.codec, here + "batch codec " + std::string(proto::compression_name(codec)) +
                                        ", produced " + std::string(proto::compression_name(want.codec)));
        c.pop_flow();
      }
    }
    c.that(!reader.error(), at + "reading the records: " + reader.error().message());
    c.that(!reader.truncated_tail(), at + "a truncated batch although max bytes was not reached");
    cursor = std::max(cursor, reader.next_offset());
  }

  void check_partition_data(Check& c, const proto::FetchResponse::PartitionData& pd, int64_t end) {
    const int16_t v = c.version();
    const std::string at = "partition " + std::to_string(pd.partition_index) + " ";
    c.equal(pd.high_watermark, end, at + "HighWatermark");
    c.equal(pd.last_stable_offset, end, at + "LastStableOffset");
    if (v >= 5) c.equal(pd.log_start_offset, int64_t{0}, at + "LogStartOffset");
    c.that(!pd.aborted_transactions || pd.aborted_transactions->empty(),
           at + "AbortedTransactions not empty");
    if (v >= 11) c.equal(pd.preferred_read_replica, -1, at + "PreferredReadReplica");
  }

  void fetch() {
    for (int16_t v : versions<proto::FetchRequest>()) {
      fetch_all(v);
      fetch_errors(v);
    }
  }

  // Reads the whole data topic at version v and compares it record by record with what was produced.
  void fetch_all(int16_t v) {
    Check c = check<proto::FetchRequest>(v);
    std::array<int64_t, kPartitions> cursor{};
    for (int round = 0; round < 20; ++round) {
      bool progress = false, done = true;
      for (const auto& [node, parts] : by_leader()) {
        std::vector<std::pair<int32_t, int64_t>> ask;
        for (int32_t p : parts)
          if (cursor[p] < static_cast<int64_t>(expected_[p].size())) ask.emplace_back(p, cursor[p]);
        if (ask.empty()) continue;
        done = false;
        auto r = call(c, fetch_request(v, data_, data_id_, ask), node);
        if (!r) return;
        const auto* t = fetch_topic(c, *r, data_, data_id_);
        if (!t) return;
        c.equal(t->partitions.size(), ask.size(), "Partitions");
        for (const auto& pd : t->partitions) {
          const int32_t p = pd.partition_index;
          if (!c.that(p >= 0 && p < kPartitions, "unexpected partition " + std::to_string(p))) continue;
          if (!c.code(pd.error_code, NONE, "partition " + std::to_string(p) + " ErrorCode")) continue;
          check_partition_data(c, pd, static_cast<int64_t>(expected_[p].size()));
          const int64_t before = cursor[p];
          compare_records(c, pd, expected_[p], cursor[p]);
          progress = progress || cursor[p] > before;
        }
      }
      if (done) break;
      if (!c.that(progress, "no progress: the broker returned no new records")) break;
    }
    for (int32_t p = 0; p < kPartitions; ++p)
      c.equal(cursor[p], static_cast<int64_t>(expected_[p].size()),
              "records read from partition " + std::to_string(p));
  }

  // What Fetch answers for an offset past the end, an unknown topic, and a zstd topic below v10.
  void fetch_errors(int16_t v) {
    {
      FlowScope flow(*this, kMisuseOutOfRange);
      Check c = check<proto::FetchRequest>(v, "offset past the end");
      auto r = call(c, fetch_request(v, data_, data_id_, {{0, 1000000}}), leader(0));
      if (r) {
        const auto* t = fetch_topic(c, *r, data_, data_id_);
        if (t && c.equal(t->partitions.size(), size_t{1}, "Partitions"))
          c.code(t->partitions[0].error_code, OFFSET_OUT_OF_RANGE, "ErrorCode");
      }
    }
    {
      FlowScope flow(*this, kMisuseUnknownTopic);
      Check c = check<proto::FetchRequest>(v, "unknown topic");
      proto::Uuid nosuch;
      for (size_t i = 0; i < nosuch.bytes.size(); ++i) nosuch.bytes[i] = static_cast<uint8_t>(0x5a + i);
      const std::string name = topic("no-such-topic");
      auto r = call(c, fetch_request(v, name, nosuch, {{0, 0}}));
      if (r) {
        const auto* t = fetch_topic(c, *r, name, nosuch);
        if (t && c.equal(t->partitions.size(), size_t{1}, "Partitions"))
          c.code(t->partitions[0].error_code, v >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION,
                 "ErrorCode");
      }
    }
    {
      Check c = check<proto::FetchRequest>(v, "topic with compression.type=zstd");
      auto r = call(c, fetch_request(v, zstd_, zstd_id_, {{0, 0}}), zstd_leader_);
      if (r) {
        const auto* t = fetch_topic(c, *r, zstd_, zstd_id_);
        if (t && c.equal(t->partitions.size(), size_t{1}, "Partitions")) {
          const auto& pd = t->partitions[0];
          if (v < 10 && !kip896_broker()) {  // KIP-110: a 3.x broker refuses zstd topics to Fetch below v10
            c.code(pd.error_code, UNSUPPORTED_COMPRESSION_TYPE, "ErrorCode below v10");
          } else if (c.code(pd.error_code, NONE, "ErrorCode")) {
            int64_t cursor = 0;
            check_partition_data(c, pd, static_cast<int64_t>(expected_zstd_.size()));
            compare_records(c, pd, expected_zstd_, cursor);
            c.equal(cursor, static_cast<int64_t>(expected_zstd_.size()), "records read");
          }
        }
      }
    }
  }

  // ---- ListOffsets ------------------------------------------------------------------------------------

  void list_offsets() {
    for (int32_t p = 0; p < kPartitions; ++p)
      if (expected_[p].empty())
        throw std::runtime_error("nothing was produced to partition " + std::to_string(p));
    for (int16_t v : versions<proto::ListOffsetsRequest>()) {
      using Req = proto::ListOffsetsRequest;
      // timestamp to ask for -> per partition the (offset, timestamp) expected back
      auto ask = [&](const std::string& what, auto timestamp_of, auto expect_of) {
        Check c = check<Req>(v, what);
        for (const auto& [node, parts] : by_leader()) {
          Req req;
          req.replica_id = -1;
          req.timeout_ms = 30000;
          req.topics.push_back({data_, {}});
          for (int32_t p : parts) req.topics[0].partitions.push_back({p, -1, timestamp_of(p)});
          auto r = call(c, req, node);
          if (!r || !c.equal(r->topics.size(), size_t{1}, "Topics")) continue;
          const auto& t = r->topics[0];
          c.equal(t.name, data_, "Name");
          if (!c.equal(t.partitions.size(), parts.size(), "Partitions")) continue;
          for (const auto& pr : t.partitions) {
            const std::string at = "partition " + std::to_string(pr.partition_index) + " ";
            if (!c.code(pr.error_code, NONE, at + "ErrorCode")) continue;
            const auto [offset, timestamp] = expect_of(pr.partition_index);
            c.equal(pr.offset, offset, at + "Offset");
            if (timestamp) c.equal(pr.timestamp, *timestamp, at + "Timestamp");
            if (v >= 4)
              c.that(offset < 0 ? pr.leader_epoch == -1 : pr.leader_epoch >= 0,
                     at + "LeaderEpoch " + std::to_string(pr.leader_epoch));
          }
        }
      };
      auto size = [&](int32_t p) { return static_cast<int64_t>(expected_.at(p).size()); };
      using Want = std::pair<int64_t, std::optional<int64_t>>;
      ask(
          "earliest", [](int32_t) { return Req::kEarliestTimestamp; },
          [](int32_t) {
            return Want{0, std::nullopt};
          });
      ask(
          "latest", [](int32_t) { return Req::kLatestTimestamp; },
          [&](int32_t p) {
            return Want{size(p), std::nullopt};
          });
      ask(
          "by timestamp", [&](int32_t p) { return expected_[p][expected_[p].size() / 2].timestamp; },
          [&](int32_t p) {
            const auto& r = expected_[p][expected_[p].size() / 2];
            return Want{r.offset, r.timestamp};
          });
      ask(
          "timestamp after every record", [&](int32_t p) { return expected_[p].back().timestamp + 1000; },
          [](int32_t) {
            return Want{-1, -1};
          });
      if (v >= 7)
        ask(
            "max timestamp", [](int32_t) { return Req::kMaxTimestamp; },
            [&](int32_t p) {
              return Want{expected_[p].back().offset, expected_[p].back().timestamp};
            });
      if (v >= 8)
        ask(
            "earliest local", [](int32_t) { return Req::kEarliestLocalTimestamp; },
            [](int32_t) {
              return Want{0, std::nullopt};
            });
    }
  }

  // ---- fetch sessions (KIP-227) -----------------------------------------------------------------------

  // Produces one uncompressed batch to the data topic's partition p at the top Produce version and adds it
  // to what the partition is expected to hold; false when it did not go through.
  bool produce_more(int32_t p, const std::string& why) {
    const int16_t v = top<proto::ProduceRequest>();
    Check c = check<proto::ProduceRequest>(v, why);
    auto recs = make_records(v, Compression::none);
    auto r = call(c, produce_request(v, data_, data_id_, p, build_batch(recs, Compression::none)), leader(p));
    const auto* pr = r ? produce_partition(c, *r, data_, data_id_, p) : nullptr;
    if (!pr) {
      resync(p, recs);
      return false;
    }
    if (!c.code(pr->error_code, NONE, "ErrorCode")) return false;
    auto& log = expected_[p];
    if (!c.equal(pr->base_offset, static_cast<int64_t>(log.size()), "BaseOffset")) return false;
    for (size_t i = 0; i < recs.size(); ++i) {
      recs[i].offset = pr->base_offset + static_cast<int64_t>(i);
      log.push_back(recs[i]);
    }
    return true;
  }

  // At every Fetch version from 7, a session kept across fetches: a full fetch at the log end with epoch 0
  // opens it (SessionId not 0, every partition asked answered, no records); records produced to one
  // partition come back in the next fetch, incremental (epoch 1, no partitions named), which answers that
  // partition only; an incremental fetch with nothing new answers no partition; a wrong epoch is
  // INVALID_FETCH_SESSION_EPOCH (71); epoch -1 closes the session (SessionId 0 in the answer), after which
  // its id is FETCH_SESSION_ID_NOT_FOUND (70).
  void fetch_sessions() {
    const auto groups = by_leader();
    if (groups.empty()) return;
    const int32_t node = groups.begin()->first;
    const std::vector<int32_t> parts = groups.begin()->second;
    const int32_t p = parts.front();
    for (int16_t v : versions<proto::FetchRequest>()) {
      if (v < 7) continue;
      const std::string name = "fetch session kept across fetches: Fetch v" + std::to_string(v);
      FlowScope flow(*this, name);
      std::vector<std::pair<int32_t, int64_t>> at_end;
      for (int32_t q : parts) at_end.emplace_back(q, static_cast<int64_t>(expected_[q].size()));

      Check c = check<proto::FetchRequest>(v, "fetch session");
      auto open = fetch_request(v, data_, data_id_, at_end);
      open.session_id = 0;
      open.session_epoch = 0;
      auto r = call(c, open, node);
      if (!r || !c.code(r->error_code, NONE, "ErrorCode opening a session")) continue;
      if (r->session_id == 0) {  // KIP-227 lets a broker decline (its session cache is full or off)
        matrix_.annotate_flow(name,
                              "the broker opened no session (SessionId 0), which KIP-227 allows: "
                              "the incremental fetches were not run");
        continue;
      }
      const int32_t id = r->session_id;
      size_t answered = 0;
      for (const auto& t : r->responses)
        for (const auto& pd : t.partitions) {
          ++answered;
          c.code(pd.error_code, NONE, "partition " + std::to_string(pd.partition_index) + " ErrorCode");
          c.that(!pd.records.bytes || pd.records.bytes->size() == 0,
                 "records at the log end of partition " + std::to_string(pd.partition_index));
        }
      c.equal(answered, parts.size(), "partitions in the full fetch that opened the session");

      const int64_t before = static_cast<int64_t>(expected_[p].size());
      if (!produce_more(p, "records for a fetch session")) continue;

      auto incremental = [&](int32_t epoch) {
        auto req = fetch_request(v, data_, data_id_, {});
        req.topics.clear();
        req.session_id = id;
        req.session_epoch = epoch;
        return req;
      };
      Check c1 = check<proto::FetchRequest>(v, "fetch session, incremental fetch after new records");
      if (auto i1 = call(c1, incremental(1), node); i1 && c1.code(i1->error_code, NONE, "ErrorCode")) {
        c1.equal(i1->session_id, id, "SessionId");
        if (c1.equal(i1->responses.size(), size_t{1}, "Responses") &&
            c1.equal(i1->responses[0].partitions.size(), size_t{1}, "Partitions (only the one with news)")) {
          const auto& t = i1->responses[0];
          if (v >= 13)
            c1.equal(t.topic_id, data_id_, "TopicId");
          else
            c1.equal(t.topic, data_, "Topic");
          const auto& pd = t.partitions[0];
          c1.equal(pd.partition_index, p, "PartitionIndex");
          if (c1.code(pd.error_code, NONE, "partition ErrorCode")) {
            int64_t cursor = before;
            c1.equal(pd.high_watermark, static_cast<int64_t>(expected_[p].size()), "HighWatermark");
            compare_records(c1, pd, expected_[p], cursor);
            c1.equal(cursor, static_cast<int64_t>(expected_[p].size()), "records read in the session");
          }
        }
      }
      // The position in p moved: an incremental fetch names the partitions whose fetch offset changed.
      Check c2 = check<proto::FetchRequest>(v, "fetch session, incremental fetch with nothing new");
      auto moved = fetch_request(v, data_, data_id_, {{p, static_cast<int64_t>(expected_[p].size())}});
      moved.session_id = id;
      moved.session_epoch = 2;
      if (auto i2 = call(c2, moved, node); i2 && c2.code(i2->error_code, NONE, "ErrorCode")) {
        c2.equal(i2->session_id, id, "SessionId");
        size_t n = 0;
        for (const auto& t : i2->responses) n += t.partitions.size();
        c2.equal(n, size_t{0}, "partitions answered although nothing changed");
      }
      {
        FlowScope misuse(*this, kMisuseFetchSession);
        Check m = check<proto::FetchRequest>(v, "fetch session, a wrong epoch");
        if (auto w = call(m, incremental(7), node))
          m.code(w->error_code, INVALID_FETCH_SESSION_EPOCH, "top-level ErrorCode");
      }
      Check c3 = check<proto::FetchRequest>(v, "fetch session, closed with epoch -1");
      std::vector<std::pair<int32_t, int64_t>> now_end;
      for (int32_t q : parts) now_end.emplace_back(q, static_cast<int64_t>(expected_[q].size()));
      auto close = fetch_request(v, data_, data_id_, now_end);
      close.session_id = id;
      close.session_epoch = -1;
      if (auto cl = call(c3, close, node); cl && c3.code(cl->error_code, NONE, "ErrorCode"))
        c3.equal(cl->session_id, 0, "SessionId after closing");
      {
        FlowScope misuse(*this, kMisuseFetchSession);
        Check m = check<proto::FetchRequest>(v, "fetch session, after it was closed");
        if (auto gone = call(m, incremental(3), node))
          m.code(gone->error_code, FETCH_SESSION_ID_NOT_FOUND, "top-level ErrorCode");
      }
    }
  }

  // ---- read-only: what the cluster has ------------------------------------------------------------------

  // Nothing is created or changed: the data topic is a topic the cluster has (the one with the most
  // partitions among those with data, else any), the groups are the ones it has.
  void run_read_only() {
    stage("ApiVersions", [&] { api_versions(); });
    read_only_setup();
    if (wanted({kMetadata})) stage("Metadata", [&] { metadata(); });
    if (wanted({kDescribeCluster})) stage("DescribeCluster", [&] { describe_cluster(); });
    if (wanted({kDescribeConfigs})) stage("DescribeConfigs", [&] { describe_configs(); });
    if (!data_.empty()) {
      if (wanted({kListOffsets})) stage("ListOffsets", [&] { list_offsets_read_only(); });
      if (wanted({kFetch})) stage("Fetch", [&] { fetch_read_only(); });
    }
    if (!has_offsets_topic_) {
      // FindCoordinator would create __consumer_offsets: a cluster without it has no groups to read.
      for (int16_t k : {kFindCoordinator, kDescribe, kListGroups, kOffsetFetch, kConsumerDescribe})
        skipped_.insert(k);
      notes_.insert(
          "the cluster has no __consumer_offsets topic (no group ever committed): FindCoordinator would "
          "create "
          "it, so the group APIs were not run");
      return;
    }
    if (wanted({kFindCoordinator})) stage("FindCoordinator", [&] { find_coordinator(); });
    if (wanted({kDescribe, kListGroups, kOffsetFetch, kConsumerDescribe}))
      stage("groups", [&] { groups_read_only(); });
  }

  void read_only_setup() {
    const int16_t mv = top<proto::MetadataRequest>();
    proto::MetadataRequest all;
    all.topics.reset();
    all.allow_auto_topic_creation = false;
    auto m = call_at(mv, all, -1, "setup: the cluster's topics");
    if (!m) throw SetupFailure("Metadata v" + std::to_string(mv) + " of every topic failed");
    for (const auto& b : m->brokers) addrs_[b.node_id] = {b.host, static_cast<uint16_t>(b.port)};
    cluster_id_ = m->cluster_id.value_or("");
    const proto::MetadataResponse::MetadataResponseTopic* pick = nullptr;
    for (const auto& t : m->topics) {
      if (t.name == "__consumer_offsets") has_offsets_topic_ = true;
      if (t.error_code != NONE || t.partitions.empty()) continue;
      if (std::any_of(t.partitions.begin(), t.partitions.end(),
                      [](const auto& p) { return p.leader_id < 0; }))
        continue;
      // A topic of the users' rather than an internal one; among those the first by name, so that two runs
      // against the same cluster read the same topic.
      // Not another conformance run's topic either (it may be deleted under us).
      auto rank = [](const auto& x) {
        return std::make_tuple(x.is_internal, x.name.value_or("").rfind("kwc-", 0) == 0, x.name.value_or(""));
      };
      if (!pick || rank(t) < rank(*pick)) pick = &t;
    }
    if (!pick) {
      notes_.insert(
          "the cluster has no topic with a leader for every partition: Metadata, ListOffsets and "
          "Fetch of a topic were not run");
      for (int16_t k : {kListOffsets, kFetch}) skipped_.insert(k);
      return;
    }
    data_ = pick->name.value_or("");
    data_id_ = pick->topic_id;
    data_internal_ = pick->is_internal;
    data_partitions_ = static_cast<int32_t>(pick->partitions.size());
    for (const auto& p : pick->partitions) {
      leaders_[p.partition_index] = p.leader_id;
      leader_epochs_[p.partition_index] = p.leader_epoch;
    }
    notes_.insert("read-only: the topic read is " + data_ + " (" + std::to_string(data_partitions_) +
                  " partitions)");
    // Where each partition's log starts and ends now.
    const int16_t lv = top<proto::ListOffsetsRequest>();
    for (const auto& [node, parts] : by_leader()) {
      for (int64_t which :
           {proto::ListOffsetsRequest::kEarliestTimestamp, proto::ListOffsetsRequest::kLatestTimestamp}) {
        proto::ListOffsetsRequest req;
        req.replica_id = -1;
        req.topics.push_back({data_, {}});
        for (int32_t p : parts) req.topics[0].partitions.push_back({p, -1, which});
        auto r = call_at(lv, req, node, "setup: where the logs start and end");
        if (!r) throw SetupFailure("ListOffsets v" + std::to_string(lv) + " failed");
        for (const auto& t : r->topics)
          for (const auto& pr : t.partitions)
            (which == proto::ListOffsetsRequest::kEarliestTimestamp ? log_start_
                                                                    : log_end_)[pr.partition_index] =
                pr.offset;
      }
    }
  }

  // Earliest and latest at every version: the log's bounds (the end never moves back, the start never past
  // the end); v7+ max timestamp: an offset in the log, or -1 for an empty one; v8+ earliest local.
  void list_offsets_read_only() {
    using Req = proto::ListOffsetsRequest;
    for (int16_t v : versions<Req>()) {
      auto ask = [&](const std::string& what, int64_t timestamp, auto check_offset) {
        Check c = check<Req>(v, what);
        for (const auto& [node, parts] : by_leader()) {
          Req req;
          req.replica_id = -1;
          req.timeout_ms = 30000;
          req.topics.push_back({data_, {}});
          for (int32_t p : parts) req.topics[0].partitions.push_back({p, -1, timestamp});
          auto r = call(c, req, node);
          if (!r || !c.equal(r->topics.size(), size_t{1}, "Topics")) continue;
          c.equal(r->topics[0].name, data_, "Name");
          if (!c.equal(r->topics[0].partitions.size(), parts.size(), "Partitions")) continue;
          for (const auto& pr : r->topics[0].partitions) {
            const std::string at = "partition " + std::to_string(pr.partition_index) + " ";
            if (c.code(pr.error_code, NONE, at + "ErrorCode")) check_offset(c, pr, at);
          }
        }
      };
      ask("earliest", Req::kEarliestTimestamp, [&](Check& c, const auto& pr, const std::string& at) {
        c.that(pr.offset >= 0 && pr.offset <= log_end_[pr.partition_index],
               at + "Offset " + std::to_string(pr.offset) + " is not within [0, log end " +
                   std::to_string(log_end_[pr.partition_index]) + "]");
      });
      ask("latest", Req::kLatestTimestamp, [&](Check& c, const auto& pr, const std::string& at) {
        c.that(pr.offset >= log_end_[pr.partition_index], at + "Offset " + std::to_string(pr.offset) +
                                                              " is before the log end seen earlier, " +
                                                              std::to_string(log_end_[pr.partition_index]));
      });
      if (v >= 7)
        ask("max timestamp", Req::kMaxTimestamp, [&](Check& c, const auto& pr, const std::string& at) {
          const bool empty = log_start_[pr.partition_index] == log_end_[pr.partition_index];
          if (!empty)
            c.that(pr.offset >= 0 && pr.timestamp >= -1,
                   at + "Offset " + std::to_string(pr.offset) + " for a partition that has records");
          else
            c.that(pr.offset == -1 || pr.offset >= log_end_[pr.partition_index],
                   at + "Offset " + std::to_string(pr.offset) + " for an empty partition");
        });
      if (v >= 8)
        ask("earliest local", Req::kEarliestLocalTimestamp,
            [&](Check& c, const auto& pr, const std::string& at) {
              c.that(pr.offset >= 0, at + "Offset " + std::to_string(pr.offset));
            });
    }
  }

  // The first records of each partition (from where its log started) at every version: they decode, their
  // offsets rise from the offset asked, and every version returns the same records as the highest; an
  // offset past the end: OFFSET_OUT_OF_RANGE; an unknown topic: UNKNOWN_TOPIC_OR_PARTITION / _ID.
  void fetch_read_only() {
    struct Seen {
      int64_t offset, timestamp;
      std::optional<std::string> key, value;
      bool operator==(const Seen&) const = default;
    };
    std::map<int32_t, std::vector<Seen>> reference;  // from the highest version
    auto vs = versions<proto::FetchRequest>();
    std::reverse(vs.begin(), vs.end());
    for (int16_t v : vs) {
      Check c = check<proto::FetchRequest>(v, "records of " + data_);
      // One partition per request: a broker returns a batch larger than partition_max_bytes only for the
      // first partition of a response that has data (KIP-74), so a later one may rightly come back empty.
      for (const auto& [node, parts] : by_leader())
        for (int32_t asked : parts) {
          std::vector<std::pair<int32_t, int64_t>> ask{{asked, log_start_[asked]}};
          auto req = fetch_request(v, data_, data_id_, ask);
          req.max_bytes = 1 << 20;
          for (auto& fp : req.topics[0].partitions) fp.partition_max_bytes = 64 << 10;
          auto r = call(c, req, node);
          if (!r) continue;
          const auto* t = fetch_topic(c, *r, data_, data_id_);
          if (!t) continue;
          c.equal(t->partitions.size(), ask.size(), "Partitions");
          for (const auto& pd : t->partitions) {
            const int32_t p = pd.partition_index;
            const std::string at = "partition " + std::to_string(p) + " ";
            if (pd.error_code == UNSUPPORTED_COMPRESSION_TYPE && v < 10 && !kip896_broker()) {
              matrix_.annotate(c.key(), v,
                               "UNSUPPORTED_COMPRESSION_TYPE (76) for " + data_ +
                                   ", which holds zstd batches: a 3.x broker's answer below v10 (KIP-110)");
              continue;
            }
            if (!c.code(pd.error_code, NONE, at + "ErrorCode")) continue;
            c.that(pd.high_watermark >= log_end_[p], at + "HighWatermark " +
                                                         std::to_string(pd.high_watermark) +
                                                         " is before the log end seen earlier");
            if (v >= 5)
              c.that(pd.log_start_offset >= 0, at + "LogStartOffset " + std::to_string(pd.log_start_offset));
            std::vector<Seen> seen;
            if (pd.records.bytes) {
              proto::RecordBatchReader reader(*pd.records.bytes, {.start_offset = log_start_[p]});
              proto::RecordView rec;
              int64_t last = -1;
              while (reader.next_batch())
                while (reader.next_record(rec)) {
                  auto str = [](const std::optional<Bytes>& b) {
                    return b ? std::optional<std::string>(std::string(b->str())) : std::nullopt;
                  };
                  c.that(rec.offset > last && rec.offset >= log_start_[p],
                         at + "record offset " + std::to_string(rec.offset) + " out of order");
                  last = rec.offset;
                  seen.push_back({rec.offset, rec.timestamp, str(rec.key), str(rec.value)});
                  ++records_compared_;
                }
              c.that(!reader.error(), at + "reading the records: " + reader.error().message());
            }
            if (pd.high_watermark > log_start_[p] && seen.empty() &&
                (!pd.records.bytes || pd.records.bytes->size() == 0))
              c.fail(at + "no records although the log holds some from offset " +
                     std::to_string(log_start_[p]));
            auto ref = reference.find(p);
            if (ref == reference.end()) {
              reference[p] = seen;
              continue;
            }
            // Compare what both versions returned (the amount may differ with the version's size limits).
            const size_t n = std::min(seen.size(), ref->second.size());
            for (size_t i = 0; i < n; ++i)
              if (!c.that(seen[i] == ref->second[i],
                          at + "the record at offset " + std::to_string(seen[i].offset) +
                              " differs from what Fetch v" + std::to_string(vs.front()) + " returned"))
                break;
          }
        }
      {
        FlowScope flow(*this, kMisuseOutOfRange);
        Check m = check<proto::FetchRequest>(v, "offset past the end");
        const int32_t p = leaders_.begin()->first;
        if (auto r = call(m, fetch_request(v, data_, data_id_, {{p, log_end_[p] + 1000000000}}), leader(p))) {
          const auto* t = fetch_topic(m, *r, data_, data_id_);
          if (t && m.equal(t->partitions.size(), size_t{1}, "Partitions"))
            m.code(t->partitions[0].error_code, OFFSET_OUT_OF_RANGE, "ErrorCode");
        }
      }
      {
        FlowScope flow(*this, kMisuseUnknownTopic);
        Check m = check<proto::FetchRequest>(v, "unknown topic");
        proto::Uuid nosuch;
        for (size_t i = 0; i < nosuch.bytes.size(); ++i) nosuch.bytes[i] = static_cast<uint8_t>(0x5a + i);
        const std::string name = topic("no-such-topic");
        if (auto r = call(m, fetch_request(v, name, nosuch, {{0, 0}}))) {
          const auto* t = fetch_topic(m, *r, name, nosuch);
          if (t && m.equal(t->partitions.size(), size_t{1}, "Partitions"))
            m.code(t->partitions[0].error_code, v >= 13 ? UNKNOWN_TOPIC_ID : UNKNOWN_TOPIC_OR_PARTITION,
                   "ErrorCode");
        }
      }
    }
  }

  // ListGroups at every version (v4+ with a states filter, v5+ with a types filter: only what was asked
  // for); one of the cluster's classic groups (the first by name; none: a group that does not exist)
  // described and its offsets fetched at every version, each answer the same as the highest version's.
  void groups_read_only() {
    struct Listed {
      std::string id, protocol_type, state, type;
    };
    std::map<std::string, Listed> listed;
    const auto lr = both<proto::ListGroupsRequest>();
    if (lr.max >= lr.min) {
      // Each broker lists the groups it coordinates.
      std::vector<int32_t> nodes;
      for (const auto& [node, addr] : addrs_) nodes.push_back(node);
      for (int16_t v : versions<proto::ListGroupsRequest>()) {
        for (int filtered = 0; filtered < (v >= 4 ? 2 : 1); ++filtered) {
          Check c = check<proto::ListGroupsRequest>(v, filtered ? "with states and types filters" : "");
          for (int32_t node : nodes) {
            proto::ListGroupsRequest req;
            if (filtered) req.states_filter = {"Empty"};
            if (filtered && v >= 5) req.types_filter = {"classic"};
            auto r = call(c, req, node);
            if (!r || !c.code(r->error_code, NONE, "ErrorCode")) continue;
            for (const auto& g : r->groups) {
              c.that(!g.group_id.empty(), "a group without a GroupId");
              if (filtered) {
                c.equal(g.group_state, std::string("Empty"), g.group_id + " GroupState (filter Empty)");
                if (v >= 5)
                  c.equal(g.group_type, std::string("classic"), g.group_id + " GroupType (filter classic)");
              } else if (v == lr.max) {
                listed[g.group_id] = {g.group_id, g.protocol_type, v >= 4 ? g.group_state : "",
                                      v >= 5 ? g.group_type : ""};
              }
            }
          }
        }
      }
    }
    // A classic consumer group, the first by name, not another conformance run's if there is another.
    std::string g = group("no-such-group");
    for (bool theirs : {false, true})
      for (const auto& [id, l] : listed)
        if (g == group("no-such-group") && (l.type.empty() || l.type == "classic") &&
            l.protocol_type == "consumer" && (id.rfind("kwc-", 0) == 0) == theirs)
          g = id;
    const bool exists = g != group("no-such-group");
    notes_.insert("read-only: the group read is " + g +
                  (exists ? "" : " (the cluster has no classic consumer group)"));
    const int32_t node = coordinator(g);

    // DescribeGroups at every version, highest first: the same state and members each time.
    std::optional<std::pair<std::string, std::set<std::string>>> first;
    auto dvs = versions<proto::DescribeGroupsRequest>();
    std::reverse(dvs.begin(), dvs.end());
    for (int16_t v : dvs) {
      Check c = check<proto::DescribeGroupsRequest>(v, "group " + g);
      proto::DescribeGroupsRequest req;
      req.groups = {g};
      req.include_authorized_operations = v >= 3;
      auto r = call(c, req, node);
      if (!r || !c.equal(r->groups.size(), size_t{1}, "Groups")) continue;
      const auto& d = r->groups[0];
      c.equal(d.group_id, g, "GroupId");
      if (!exists && v >= 6) {
        c.code(d.error_code, GROUP_ID_NOT_FOUND, "ErrorCode");
        continue;
      }
      if (!c.code(d.error_code, NONE, "ErrorCode")) continue;
      if (!exists) {
        c.equal(d.group_state, std::string("Dead"), "GroupState");
        continue;
      }
      std::set<std::string> members;
      for (const auto& m : d.members) {
        c.that(!m.member_id.empty(), "a member without a MemberId");
        members.insert(m.member_id);
      }
      if (!first) {
        first.emplace(d.group_state, members);
      } else if (d.group_state != first->first || members != first->second) {
        // A group in use may rebalance between two requests: say so, and fail only what cannot be that.
        matrix_.annotate(c.key(), v,
                         "the group changed between versions (state " + first->first + " -> " +
                             d.group_state + "): compared nothing further");
      }
    }

    // OffsetFetch at every version, highest first: all topics (v2+; v1: the topics the highest named).
    auto fvs = versions<proto::OffsetFetchRequest>();
    std::reverse(fvs.begin(), fvs.end());
    std::map<std::pair<std::string, int32_t>, int64_t> reference;
    std::map<std::string, std::vector<int32_t>> topics_seen;
    for (int16_t v : fvs) {
      Check c = check<proto::OffsetFetchRequest>(v, "group " + g);
      proto::OffsetFetchRequest req;
      if (v <= 7) {
        req.group_id = g;
        if (v >= 2) {
          req.topics.reset();
        } else {
          for (const auto& [t, ps] : topics_seen) req.topics->push_back({t, ps});
        }
      } else {
        proto::OffsetFetchRequest::OffsetFetchRequestGroup og;
        og.group_id = g;
        og.topics.reset();
        req.groups.push_back(og);
        og.group_id = group("no-such-group");
        if (exists && coordinator(og.group_id) == node) req.groups.push_back(og);  // v8+: two groups at once
      }
      auto r = call(c, req, node);
      if (!r) continue;
      std::map<std::pair<std::string, int32_t>, int64_t> got;
      auto take = [&](const std::string& topic, int32_t partition, int64_t offset, int16_t code) {
        c.code(code, NONE, "partition " + topic + ":" + std::to_string(partition) + " ErrorCode");
        got[{topic, partition}] = offset;
      };
      if (v <= 7) {
        if (v >= 2 && !c.code(r->error_code, NONE, "ErrorCode")) continue;
        for (const auto& t : r->topics)
          for (const auto& p : t.partitions)
            take(t.name, p.partition_index, p.committed_offset, p.error_code);
      } else {
        if (!c.equal(r->groups.size(), req.groups.size(), "Groups")) continue;
        for (size_t i = 0; i < r->groups.size(); ++i) {
          const auto& og = r->groups[i];
          c.equal(og.group_id, req.groups[i].group_id, "GroupId");
          c.code(og.error_code, NONE, og.group_id + " ErrorCode");
          if (i == 1) {
            c.that(og.topics.empty(), "offsets for a group that does not exist");
            continue;
          }
          for (const auto& t : og.topics) {
            // v10 answers with topic ids only: key the offsets by id there.
            const std::string topic = v >= 10 ? show(t.topic_id) : t.name;
            for (const auto& p : t.partitions)
              take(topic, p.partition_index, p.committed_offset, p.error_code);
          }
        }
      }
      if (reference.empty() && v == fvs.front()) {
        reference = got;
        for (const auto& [tp, off] : got) topics_seen[tp.first].push_back(tp.second);
        continue;
      }
      // The same committed offsets as the highest version (names vs ids aside), unless the group is active.
      if (first && first->first != "Empty") continue;
      if (v >= 10 || fvs.front() >= 10) continue;  // topic ids on one side, names on the other
      c.that(got == reference,
             "committed offsets differ from what OffsetFetch v" + std::to_string(fvs.front()) + " returned");
    }

    // ConsumerGroupDescribe at every version, highest first, of one of the cluster's consumer-protocol
    // groups (the first by name, ListGroups v5+ says which they are; none: a group that does not exist).
    std::string cg = group("no-such-group");
    for (const auto& [id, l] : listed)
      if (l.type == "consumer" && cg == group("no-such-group")) cg = id;
    const bool cg_exists = cg != group("no-such-group");
    notes_.insert("read-only: the consumer group described is " + cg +
                  (cg_exists ? "" : " (the cluster lists no consumer-protocol group)"));
    auto cvs = versions<proto::ConsumerGroupDescribeRequest>();
    std::reverse(cvs.begin(), cvs.end());
    std::optional<std::pair<std::string, std::set<std::string>>> cg_first;
    for (int16_t v : cvs) {
      Check c = check<proto::ConsumerGroupDescribeRequest>(v, "consumer group " + cg);
      proto::ConsumerGroupDescribeRequest req;
      req.group_ids = {cg};
      auto r = call(c, req, coordinator(cg));
      if (!r || !c.equal(r->groups.size(), size_t{1}, "Groups")) continue;
      const auto& d = r->groups[0];
      c.equal(d.group_id, cg, "GroupId");
      if (consumer_protocol_off(c, d.error_code)) continue;
      if (!cg_exists) {
        c.code(d.error_code, GROUP_ID_NOT_FOUND, "ErrorCode");
        continue;
      }
      if (!c.code(d.error_code, NONE, "ErrorCode")) continue;
      std::set<std::string> members;
      for (const auto& m : d.members) {
        c.that(!m.member_id.empty(), "a member without a MemberId");
        c.that(m.member_epoch <= d.group_epoch, m.member_id + " MemberEpoch above the GroupEpoch");
        members.insert(m.member_id);
      }
      if (!cg_first) {
        cg_first.emplace(d.group_state, members);
      } else if (d.group_state != cg_first->first || members != cg_first->second) {
        matrix_.annotate(c.key(), v,
                         "the group changed between versions (state " + cg_first->first + " -> " +
                             d.group_state + "): compared nothing further");
      }
    }
  }

  // ---- groups: coordinator ----------------------------------------------------------------------------

  // Asks FindCoordinator until the offsets topic is ready (a fresh broker creates it on the first ask).
  void wait_for_coordinator() {
    const int16_t v = top<proto::FindCoordinatorRequest>();
    const std::string g = group("warmup");
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    for (;;) {
      proto::FindCoordinatorRequest req;
      req.key = g;
      req.coordinator_keys = {g};
      auto r = call_at(v, req, -1, "waiting for the group coordinator");
      if (!r) throw SetupFailure("FindCoordinator failed");
      const int16_t code =
          v >= 4 ? (r->coordinators.empty() ? -1 : r->coordinators[0].error_code) : r->error_code;
      if (code == NONE) return;
      if (code != COORDINATOR_NOT_AVAILABLE && code != COORDINATOR_LOAD_IN_PROGRESS)
        throw SetupFailure("FindCoordinator: " + error_name(code));
      if (std::chrono::steady_clock::now() > deadline) throw SetupFailure("no group coordinator within 60 s");
      std::this_thread::sleep_for(200ms);
    }
  }

  // The coordinator of a group (asked at the highest version; cached).
  int32_t coordinator(const std::string& g) {
    if (auto it = coordinators_.find(g); it != coordinators_.end()) return it->second;
    const int16_t v = top<proto::FindCoordinatorRequest>();
    for (int attempt = 0; attempt < 50; ++attempt) {
      proto::FindCoordinatorRequest req;
      req.key = g;
      req.coordinator_keys = {g};
      auto r = call_at(v, req, -1, "coordinator of " + g);
      if (!r) break;
      const int16_t code =
          v >= 4 ? (r->coordinators.empty() ? -1 : r->coordinators[0].error_code) : r->error_code;
      const int32_t node = v >= 4 ? (r->coordinators.empty() ? -1 : r->coordinators[0].node_id) : r->node_id;
      if (code == NONE) {
        wait_until_loaded(g, node);
        return coordinators_[g] = node;
      }
      std::this_thread::sleep_for(200ms);
    }
    return -1;  // the bootstrap broker: the requests will say what is wrong
  }

  // A coordinator can be named before it has loaded the group's partition of __consumer_offsets (on a fresh
  // multi-broker cluster): wait, as a client would, until OffsetFetch stops answering
  // COORDINATOR_LOAD_IN_PROGRESS, so the checks that follow meet a coordinator that is ready.
  void wait_until_loaded(const std::string& g, int32_t node) {
    const int16_t fv = top<proto::OffsetFetchRequest>();
    if (fv < 2) return;  // no group-level error code to look at
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto r = call_at(fv, offset_fetch_request(fv, {g}), node,
                       "waiting for the coordinator of " + g + " to load");
      if (!r) return;
      const int16_t code = fv <= 7 ? r->error_code : (r->groups.empty() ? NONE : r->groups[0].error_code);
      if (code != COORDINATOR_LOAD_IN_PROGRESS && code != COORDINATOR_NOT_AVAILABLE &&
          code != NOT_COORDINATOR)
        return;
      std::this_thread::sleep_for(100ms);
    }
  }

  void check_coordinator(Check& c, const std::string& what, int16_t code, int32_t node,
                         const std::string& host, int32_t port) {
    if (!c.code(code, NONE, what + "ErrorCode")) return;
    auto it = addrs_.find(node);
    if (c.that(it != addrs_.end(), what + "NodeId " + std::to_string(node) + " is not a broker")) {
      c.equal(host, it->second.first, what + "Host");
      c.equal(port, static_cast<int32_t>(it->second.second), what + "Port");
    }
  }

  void find_coordinator() {
    const std::string g1 = group("classic-0"), g2 = group("offsets");
    for (int16_t v : versions<proto::FindCoordinatorRequest>()) {
      Check c = check<proto::FindCoordinatorRequest>(v);
      proto::FindCoordinatorRequest req;
      req.key_type = proto::FindCoordinatorRequest::kGroup;
      if (v <= 3)
        req.key = g1;
      else
        req.coordinator_keys = {g1, g2};  // v4+: a batch
      auto r = call(c, req);
      if (!r) continue;
      if (v <= 3) {
        check_coordinator(c, "", r->error_code, r->node_id, r->host, r->port);
      } else if (c.equal(r->coordinators.size(), size_t{2}, "Coordinators")) {
        for (size_t i = 0; i < 2; ++i) {
          const auto& k = r->coordinators[i];
          c.equal(k.key, i == 0 ? g1 : g2, "Key");
          check_coordinator(c, k.key + ": ", k.error_code, k.node_id, k.host, k.port);
        }
      }
    }
  }

  // ---- OffsetCommit x OffsetFetch ---------------------------------------------------------------------

  struct Committed {
    int64_t offset;
    int32_t leader_epoch;  // -1 when the commit version had no CommittedLeaderEpoch
    std::optional<std::string> metadata;
  };

  proto::OffsetCommitRequest commit_request(int16_t v, const std::string& g, int32_t generation,
                                            const std::string& member,
                                            const std::vector<Committed>& values) const {
    proto::OffsetCommitRequest req;
    req.group_id = g;
    req.generation_id_or_member_epoch = generation;
    req.member_id = member;
    proto::OffsetCommitRequest::OffsetCommitRequestTopic t;
    if (v >= 10)
      t.topic_id = data_id_;
    else
      t.name = data_;
    for (int32_t p = 0; p < static_cast<int32_t>(values.size()); ++p)
      t.partitions.push_back({p, values[p].offset, values[p].leader_epoch, values[p].metadata});
    req.topics.push_back(std::move(t));
    return req;
  }

  // Commits and checks the per-partition answer; false when it did not go through.
  bool commit(Check& c, const std::string& g, int32_t generation, const std::string& member,
              const std::vector<Committed>& values, int16_t want = NONE) {
    const int16_t v = c.version();
    auto r = call(c, commit_request(v, g, generation, member, values), coordinator(g));
    if (!r || !c.equal(r->topics.size(), size_t{1}, "Topics")) return false;
    const auto& t = r->topics[0];
    if (v >= 10)
      c.equal(t.topic_id, data_id_, "TopicId");
    else
      c.equal(t.name, data_, "Name");
    if (!c.equal(t.partitions.size(), values.size(), "Partitions")) return false;
    bool ok = true;
    for (const auto& p : t.partitions)
      ok = c.code(p.error_code, want, "partition " + std::to_string(p.partition_index) + " ErrorCode") && ok;
    return ok;
  }

  // A topic whose committed offsets are asked for, or looked for in an answer (the data topic when empty).
  struct OffsetTopic {
    std::string name;
    proto::Uuid id;
    std::vector<int32_t> partitions;
  };
  OffsetTopic data_offsets() const { return {data_, data_id_, {0, 1, 2}}; }

  proto::OffsetFetchRequest offset_fetch_request(int16_t v, const std::vector<std::string>& groups,
                                                 std::optional<std::string> member = std::nullopt,
                                                 int32_t member_epoch = -1, bool all_topics = false,
                                                 OffsetTopic topic = {}) const {
    if (topic.name.empty()) topic = data_offsets();
    proto::OffsetFetchRequest req;
    if (v <= 7) {
      req.group_id = groups.at(0);
      if (all_topics)
        req.topics.reset();
      else
        req.topics->push_back({topic.name, topic.partitions});
    } else {
      for (const auto& g : groups) {
        proto::OffsetFetchRequest::OffsetFetchRequestGroup og;
        og.group_id = g;
        og.member_id = member;
        og.member_epoch = member_epoch;
        if (all_topics) {
          og.topics.reset();
        } else {
          proto::OffsetFetchRequest::OffsetFetchRequestTopics t;
          if (v >= 10)
            t.topic_id = topic.id;
          else
            t.name = topic.name;
          t.partition_indexes = topic.partitions;
          og.topics->push_back(std::move(t));
        }
        req.groups.push_back(std::move(og));
      }
    }
    return req;
  }

  // One partition of an OffsetFetch answer, whatever the version.
  struct FetchedOffset {
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    std::optional<std::string> metadata;
    int16_t error_code;
  };

  // The data topic's partitions in the answer for group `index`, after checking the group-level errors.
  std::optional<std::vector<FetchedOffset>> fetched_offsets(Check& c, const proto::OffsetFetchResponse& r,
                                                            size_t index, const std::string& g,
                                                            int16_t want_group_error = NONE,
                                                            OffsetTopic topic = {}) {
    if (topic.name.empty()) topic = data_offsets();
    const int16_t v = c.version();
    std::vector<FetchedOffset> out;
    if (v <= 7) {
      if (v >= 2 && !c.code(r.error_code, want_group_error, "ErrorCode")) return std::nullopt;
      for (const auto& t : r.topics)
        if (t.name == topic.name)
          for (const auto& p : t.partitions)
            out.push_back(
                {p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code});
    } else {
      if (!c.that(r.groups.size() > index, "Groups has " + std::to_string(r.groups.size()) + " entries"))
        return std::nullopt;
      const auto& og = r.groups[index];
      c.equal(og.group_id, g, "GroupId");
      if (!c.code(og.error_code, want_group_error, "group ErrorCode")) return std::nullopt;
      for (const auto& t : og.topics)
        if (v >= 10 ? t.topic_id == topic.id : t.name == topic.name)
          for (const auto& p : t.partitions)
            out.push_back(
                {p.partition_index, p.committed_offset, p.committed_leader_epoch, p.metadata, p.error_code});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.partition < b.partition; });
    return out;
  }

  // Compares fetched offsets with the committed ones; "" when they agree.
  static std::string compare_offsets(int16_t fetch_v, const std::vector<FetchedOffset>& got,
                                     const std::vector<Committed>& want) {
    if (got.size() != want.size())
      return std::to_string(got.size()) + " partitions, want " + std::to_string(want.size());
    std::ostringstream out;
    for (size_t i = 0; i < got.size(); ++i) {
      const auto& g = got[i];
      const auto& w = want[i];
      const int32_t epoch = fetch_v >= 5 ? w.leader_epoch : -1;
      if (g.partition != static_cast<int32_t>(i) || g.error_code != NONE || g.offset != w.offset ||
          g.leader_epoch != epoch || g.metadata != w.metadata)
        out << "partition " << g.partition << ": " << error_name(g.error_code) << " offset " << g.offset
            << " epoch " << g.leader_epoch << " metadata " << show(g.metadata) << ", want offset " << w.offset
            << " epoch " << epoch << " metadata " << show(w.metadata) << "; ";
    }
    return out.str();
  }

  void offset_pairs() {
    const std::string g = group("offsets"), never = group("never-committed");
    const auto commit_versions = versions<proto::OffsetCommitRequest>();
    const auto fetch_versions = versions<proto::OffsetFetchRequest>();
    std::map<std::pair<int16_t, int16_t>, std::string> bad;  // (commit v, fetch v) -> what differed
    for (int16_t cv : commit_versions) {
      for (int16_t fv : fetch_versions) {
        std::vector<Committed> values;
        for (int32_t p = 0; p < kPartitions; ++p) {
          values.push_back({1000 * cv + 10 * fv + p, cv >= 6 ? leader_epochs_[p] : -1,
                            "c" + std::to_string(cv) + "f" + std::to_string(fv) + "p" + std::to_string(p)});
        }
        if (p_empty_metadata(cv, fv)) values[1].metadata = std::nullopt;  // a null metadata now and then
        Check cc = check<proto::OffsetCommitRequest>(cv, "then OffsetFetch v" + std::to_string(fv));
        if (!commit(cc, g, -1, "", values)) continue;
        Check fc = check<proto::OffsetFetchRequest>(fv, "after OffsetCommit v" + std::to_string(cv));
        auto r = call(fc, offset_fetch_request(fv, {g}), coordinator(g));
        if (!r) continue;
        auto got = fetched_offsets(fc, *r, 0, g);
        if (!got) continue;
        auto diff = compare_offsets(fv, *got, values);
        // A null metadata may come back as "" (Kafka stores the empty string for null).
        if (!diff.empty() && !values[1].metadata) {
          values[1].metadata = "";
          diff = compare_offsets(fv, *got, values);
        }
        if (!diff.empty()) bad[{cv, fv}] = diff;
      }
    }
    // Blame the commit version when its whole row disagrees, the fetch version when its whole column does,
    // else both.
    for (const auto& [pair, diff] : bad) {
      const auto [cv, fv] = pair;
      const bool row = std::all_of(fetch_versions.begin(), fetch_versions.end(), [&, cv = cv](int16_t f) {
        return bad.count({cv, f}) > 0;
      });
      const bool col = std::all_of(commit_versions.begin(), commit_versions.end(), [&, fv = fv](int16_t c) {
        return bad.count({c, fv}) > 0;
      });
      const std::string text = "OffsetCommit v" + std::to_string(cv) + " then OffsetFetch v" +
                               std::to_string(fv) + " read back something else: " + diff;
      if (row || !col) matrix_.fail(proto::OffsetCommitRequest::api_key, cv, {"", text, "", ""});
      if (col || !row) matrix_.fail(proto::OffsetFetchRequest::api_key, fv, {"", text, "", ""});
    }

    for (int16_t fv : fetch_versions) {
      if (fv >= 2) {  // null Topics: every topic the group has offsets for
        Check c = check<proto::OffsetFetchRequest>(fv, "all topics");
        if (auto r = call(c, offset_fetch_request(fv, {g}, std::nullopt, -1, true), coordinator(g))) {
          auto got = fetched_offsets(c, *r, 0, g);
          if (got) c.equal(got->size(), size_t{kPartitions}, "partitions of the data topic");
        }
      }
      if (fv >= 8) {  // several groups in one request; one has never committed anything
        Check c = check<proto::OffsetFetchRequest>(fv, "two groups");
        if (coordinator(never) == coordinator(g)) {
          if (auto r = call(c, offset_fetch_request(fv, {g, never}), coordinator(g))) {
            auto a = fetched_offsets(c, *r, 0, g);
            auto b = fetched_offsets(c, *r, 1, never);
            if (a) c.equal(a->size(), size_t{kPartitions}, "partitions of " + g);
            if (b && c.equal(b->size(), size_t{kPartitions}, "partitions of " + never))
              for (const auto& p : *b) {
                c.code(p.error_code, NONE, never + " partition ErrorCode");
                c.equal(p.offset, int64_t{-1}, never + " CommittedOffset");
              }
          }
        }
      }
    }
  }
  static bool p_empty_metadata(int16_t cv, int16_t fv) { return (cv + fv) % 4 == 0; }

  // ---- the classic group protocol ---------------------------------------------------------------------

  // One member's whole life in a classic group, at the given version of each API: join (with
  // MEMBER_ID_REQUIRED at v4+), sync, heartbeat (also with a wrong generation and an unknown member),
  // describe, commit inside the generation, delete offsets of a subscribed topic, leave, and after that.
  void classic_group(int i) {
    const std::string g = group("classic-" + std::to_string(i));
    const int16_t jv = clamp<proto::JoinGroupRequest>(i), sv = clamp<proto::SyncGroupRequest>(i),
                  hv = clamp<proto::HeartbeatRequest>(i), lv = clamp<proto::LeaveGroupRequest>(i),
                  dv = clamp<proto::DescribeGroupsRequest>(i), cv = clamp<proto::OffsetCommitRequest>(i),
                  fv = top<proto::OffsetFetchRequest>(), odv = top<proto::OffsetDeleteRequest>();
    FlowScope flow(*this, "classic consumer group #" + std::to_string(i) + ": JoinGroup v" +
                              std::to_string(jv) + ", SyncGroup v" + std::to_string(sv) + ", Heartbeat v" +
                              std::to_string(hv) + ", LeaveGroup v" + std::to_string(lv) +
                              ", DescribeGroups v" + std::to_string(dv) + ", OffsetCommit v" +
                              std::to_string(cv));
    const int32_t node = coordinator(g);
    const std::string ctx = "group " + g;

    proto::ConsumerProtocolSubscription sub;
    sub.topics = {data_};
    const auto metadata = proto::encode_versioned(sub, 3);
    proto::ConsumerProtocolAssignment asg;
    asg.assigned_partitions = {{data_, {0, 1, 2}}};
    const auto assignment = proto::encode_versioned(asg, 3);

    // JoinGroup
    Check jc = check<proto::JoinGroupRequest>(jv, ctx);
    proto::JoinGroupRequest join;
    join.group_id = g;
    join.session_timeout_ms = 10000;
    join.rebalance_timeout_ms = 10000;
    join.protocol_type = "consumer";
    join.protocols = {{"range", Bytes(metadata)}};
    join.reason = "conformance";
    auto j = call(jc, join, node);
    if (!j) return;
    if (jv >= 4) {  // KIP-394: the first join only hands out a member id
      if (!jc.code(j->error_code, MEMBER_ID_REQUIRED, "ErrorCode of the first join")) return;
      if (!jc.that(!j->member_id.empty(), "MEMBER_ID_REQUIRED without a MemberId")) return;
      join.member_id = j->member_id;
      j = call(jc, join, node);
      if (!j) return;
    }
    if (!jc.code(j->error_code, NONE, "ErrorCode")) return;
    const std::string member = j->member_id;
    const int32_t generation = j->generation_id;
    jc.that(!member.empty(), "MemberId is empty");
    if (jv >= 4) jc.equal(member, join.member_id, "MemberId");
    jc.that(generation >= 1, "GenerationId " + std::to_string(generation));
    jc.equal(j->leader, member, "Leader");
    jc.equal(j->protocol_name, std::optional<std::string>("range"), "ProtocolName");
    if (jv >= 7) jc.equal(j->protocol_type, std::optional<std::string>("consumer"), "ProtocolType");
    if (jv >= 9) jc.equal(j->skip_assignment, false, "SkipAssignment");
    if (jc.equal(j->members.size(), size_t{1}, "Members")) {
      jc.equal(j->members[0].member_id, member, "Members[0].MemberId");
      jc.equal(j->members[0].metadata, Bytes(metadata), "Members[0].Metadata");
      if (jv >= 5) jc.equal(j->members[0].group_instance_id, std::optional<std::string>(), "GroupInstanceId");
    }

    // SyncGroup: the leader hands out the assignment and gets its own back.
    Check sc = check<proto::SyncGroupRequest>(sv, ctx);
    proto::SyncGroupRequest sync;
    sync.group_id = g;
    sync.generation_id = generation;
    sync.member_id = member;
    sync.protocol_type = "consumer";
    sync.protocol_name = "range";
    sync.assignments = {{member, Bytes(assignment)}};
    if (auto s = call(sc, sync, node); s && sc.code(s->error_code, NONE, "ErrorCode")) {
      sc.equal(s->assignment, Bytes(assignment), "Assignment");
      if (sv >= 5) {
        sc.equal(s->protocol_type, std::optional<std::string>("consumer"), "ProtocolType");
        sc.equal(s->protocol_name, std::optional<std::string>("range"), "ProtocolName");
      }
    }

    // Heartbeat: good, then a generation that is not the group's, then a member it does not know.
    auto heartbeat = [&](int32_t gen, const std::string& m, int16_t want, const std::string& what) {
      Check hc = check<proto::HeartbeatRequest>(hv, ctx);
      proto::HeartbeatRequest hb{g, gen, m, std::nullopt};
      if (auto h = call(hc, hb, node)) hc.code(h->error_code, want, what);
    };
    heartbeat(generation, member, NONE, "ErrorCode");
    {
      FlowScope misuse(*this, kMisuseStale);
      heartbeat(generation + 1, member, ILLEGAL_GENERATION, "ErrorCode with a wrong generation");
    }
    {
      FlowScope misuse(*this, kMisuseUnknownMember);
      heartbeat(generation, "kwc-nobody", UNKNOWN_MEMBER_ID, "ErrorCode for an unknown member");
    }

    // DescribeGroups: stable, with our member, its metadata and assignment.
    describe(dv, g, node, ctx, "Stable", member, metadata, assignment);

    // OffsetCommit inside the generation, and with a wrong one.
    Check cc = check<proto::OffsetCommitRequest>(cv, ctx);
    const std::vector<Committed> values = {{5, -1, "in-group"}, {6, -1, "in-group"}, {7, -1, "in-group"}};
    commit(cc, g, generation, member, values);
    {
      FlowScope misuse(*this, kMisuseStale);
      Check stale = check<proto::OffsetCommitRequest>(cv, ctx + ", a wrong generation");
      commit(stale, g, generation + 1, member, values, ILLEGAL_GENERATION);
    }

    // OffsetDelete of a topic the group subscribes to.
    Check oc = check<proto::OffsetDeleteRequest>(odv, ctx + " (stable)");
    offset_delete(oc, g, node, NONE, GROUP_SUBSCRIBED_TO_TOPIC);

    // LeaveGroup
    Check lc = check<proto::LeaveGroupRequest>(lv, ctx);
    proto::LeaveGroupRequest leave;
    leave.group_id = g;
    leave.member_id = member;
    leave.members = {{member, std::nullopt, "conformance"}};
    if (auto l = call(lc, leave, node); l && lc.code(l->error_code, NONE, "ErrorCode") && lv >= 3) {
      if (lc.equal(l->members.size(), size_t{1}, "Members")) {
        lc.equal(l->members[0].member_id, member, "Members[0].MemberId");
        lc.code(l->members[0].error_code, NONE, "Members[0].ErrorCode");
      }
    }

    // After the leave: the member is gone, the group is empty, its offsets can be deleted.
    {
      FlowScope misuse(*this, kMisuseUnknownMember);
      Check hc2 = check<proto::HeartbeatRequest>(hv, ctx + " after leaving");
      if (auto h = call(hc2, proto::HeartbeatRequest{g, generation, member, std::nullopt}, node))
        hc2.code(h->error_code, UNKNOWN_MEMBER_ID, "ErrorCode");
    }
    describe(dv, g, node, ctx + " after leaving", "Empty", "", {}, {});
    Check oc2 = check<proto::OffsetDeleteRequest>(odv, ctx + " (empty)");
    offset_delete(oc2, g, node, NONE, NONE);
    Check fc = check<proto::OffsetFetchRequest>(fv, ctx + " after OffsetDelete");
    if (auto r = call(fc, offset_fetch_request(fv, {g}), node)) {
      if (auto got = fetched_offsets(fc, *r, 0, g);
          got && fc.equal(got->size(), size_t{kPartitions}, "Partitions")) {
        fc.equal((*got)[0].offset, int64_t{-1}, "partition 0 CommittedOffset after OffsetDelete");
        fc.equal((*got)[1].offset, int64_t{6}, "partition 1 CommittedOffset");
      }
    }
  }

  void describe(int16_t dv, const std::string& g, int32_t node, const std::string& ctx,
                const std::string& state, const std::string& member, const std::vector<uint8_t>& metadata,
                const std::vector<uint8_t>& assignment) {
    Check c = check<proto::DescribeGroupsRequest>(dv, ctx);
    proto::DescribeGroupsRequest req;
    req.groups = {g};
    req.include_authorized_operations = dv >= 3;
    auto r = call(c, req, node);
    if (!r || !c.equal(r->groups.size(), size_t{1}, "Groups")) return;
    const auto& d = r->groups[0];
    c.code(d.error_code, NONE, "ErrorCode");
    c.equal(d.group_id, g, "GroupId");
    c.equal(d.group_state, state, "GroupState");
    c.equal(d.protocol_type, std::string("consumer"), "ProtocolType");
    if (dv >= 3)
      c.that(d.authorized_operations != INT32_MIN, "AuthorizedOperations not given although asked for");
    if (dv >= 6) c.equal(d.error_message, std::optional<std::string>(), "ErrorMessage");
    if (member.empty()) {
      c.equal(d.members.size(), size_t{0}, "Members");
      return;
    }
    c.equal(d.protocol_data, std::string("range"), "ProtocolData");
    if (!c.equal(d.members.size(), size_t{1}, "Members")) return;
    const auto& m = d.members[0];
    c.equal(m.member_id, member, "MemberId");
    c.equal(m.client_id, options_.client_id, "ClientId");
    c.that(!m.client_host.empty(), "ClientHost is empty");
    c.equal(m.member_metadata, Bytes(metadata), "MemberMetadata");
    c.equal(m.member_assignment, Bytes(assignment), "MemberAssignment");
    if (dv >= 4) c.equal(m.group_instance_id, std::optional<std::string>(), "GroupInstanceId");
  }

  void offset_delete(Check& c, const std::string& g, int32_t node, int16_t want, int16_t want_partition) {
    proto::OffsetDeleteRequest req;
    req.group_id = g;
    req.topics = {{data_, {{0}}}};
    auto r = call(c, req, node);
    if (!r || !c.code(r->error_code, want, "ErrorCode") || want != NONE) return;
    if (c.equal(r->topics.size(), size_t{1}, "Topics") &&
        c.equal(r->topics[0].partitions.size(), size_t{1}, "Partitions")) {
      c.equal(r->topics[0].name, data_, "Name");
      c.code(r->topics[0].partitions[0].error_code, want_partition, "partition ErrorCode");
    }
  }

  void classic_groups() {
    for (auto r :
         {both<proto::JoinGroupRequest>(), both<proto::SyncGroupRequest>(), both<proto::HeartbeatRequest>(),
          both<proto::LeaveGroupRequest>(), both<proto::DescribeGroupsRequest>()})
      if (r.max < r.min) throw std::runtime_error("the broker does not serve every classic group API");
    int last = 0;
    for (auto r :
         {both<proto::JoinGroupRequest>(), both<proto::SyncGroupRequest>(), both<proto::HeartbeatRequest>(),
          both<proto::LeaveGroupRequest>(), both<proto::DescribeGroupsRequest>()})
      last = std::max<int>(last, r.max);
    for (int i = 0; i <= last; ++i) classic_group(i);

    Check c =
        check<proto::OffsetDeleteRequest>(top<proto::OffsetDeleteRequest>(), "a group that does not exist");
    const std::string g = group("no-such-group");
    offset_delete(c, g, coordinator(g), GROUP_ID_NOT_FOUND, NONE);

    // DescribeGroups of a group that does not exist: state Dead; v6 (KIP-1043) GROUP_ID_NOT_FOUND.
    for (int16_t v : versions<proto::DescribeGroupsRequest>()) {
      Check d = check<proto::DescribeGroupsRequest>(v, "a group that does not exist");
      proto::DescribeGroupsRequest req;
      req.groups = {g};
      if (auto r = call(d, req, coordinator(g)); r && d.equal(r->groups.size(), size_t{1}, "Groups")) {
        if (v >= 6) {
          d.code(r->groups[0].error_code, GROUP_ID_NOT_FOUND, "ErrorCode");
        } else {
          d.code(r->groups[0].error_code, NONE, "ErrorCode");
          d.equal(r->groups[0].group_state, std::string("Dead"), "GroupState");
        }
      }
    }
  }

  void list_groups() {
    const std::string g = group("classic-0");
    const int32_t node = coordinator(g);
    for (int16_t v : versions<proto::ListGroupsRequest>()) {
      Check c = check<proto::ListGroupsRequest>(v);
      proto::ListGroupsRequest req;
      if (v >= 4) req.states_filter = {"Empty"};
      if (v >= 5) req.types_filter = {"classic"};
      auto r = call(c, req, node);
      if (!r || !c.code(r->error_code, NONE, "ErrorCode")) continue;
      auto it =
          std::find_if(r->groups.begin(), r->groups.end(), [&](const auto& x) { return x.group_id == g; });
      if (!c.that(it != r->groups.end(), g + " is not listed")) continue;
      c.equal(it->protocol_type, std::string("consumer"), "ProtocolType");
      if (v >= 4) {
        c.equal(it->group_state, std::string("Empty"), "GroupState");
        for (const auto& x : r->groups)
          c.that(x.group_state == "Empty", x.group_id + " listed in state " + x.group_state);
      }
      if (v >= 5) c.equal(it->group_type, std::string("classic"), "GroupType");
    }
  }

  // ---- InitProducerId ----------------------------------------------------------------------------------

  // An idempotent producer's id (no transactional id, any broker): a new id at epoch 0 at every version.
  void init_producer_id() {
    for (int16_t v : versions<proto::InitProducerIdRequest>()) {
      Check c = check<proto::InitProducerIdRequest>(v);
      proto::InitProducerIdRequest req;
      req.transactional_id = std::nullopt;
      req.transaction_timeout_ms = INT32_MAX;
      auto r = call(c, req);
      // A fresh broker creates its transaction state log on the first InitProducerId and answers
      // COORDINATOR_LOAD_IN_PROGRESS (or NOT_AVAILABLE) until it is ready, as for groups.
      for (int attempt = 0;
           r && attempt < 100 &&
           (r->error_code == COORDINATOR_LOAD_IN_PROGRESS || r->error_code == COORDINATOR_NOT_AVAILABLE);
           ++attempt) {
        std::this_thread::sleep_for(200ms);
        r = call(c, req);
      }
      if (!r || !c.code(r->error_code, NONE, "ErrorCode")) continue;
      c.that(r->producer_id >= 0, "ProducerId " + std::to_string(r->producer_id) + " is not an id");
      c.equal(r->producer_epoch, int16_t{0}, "ProducerEpoch");
    }
  }

  // ---- transactions -----------------------------------------------------------------------------------

  // Transactions driven by hand, as a transactional producer does (the flows are described in
  // protocol/include/kafkawire/protocol/add_partitions_to_txn.hpp). Protocol v1 runs one transaction per
  // version index with one producer: AddPartitionsToTxn (v4+ in its broker form), Produce v11 and below,
  // AddOffsetsToTxn, TxnOffsetCommit v0-4, EndTxn v0-4. Protocol v2 (KIP-890 part 2, when the broker's
  // transaction.version is 2) runs with a second producer: Produce v12+ and TxnOffsetCommit v5+ add the
  // partition and the group themselves, EndTxn v5 hands out the next epoch. One transaction of each
  // protocol aborts. After each one OffsetFetch (RequireStable) must show its offsets if it committed and
  // the previous ones if it aborted; at the end a read_committed Fetch at every version must return the
  // committed records only and list the aborted transactions, and the log must hold every batch with its
  // producer id, epoch and sequence and every COMMIT/ABORT marker.

  static constexpr int32_t kTxnPartitions = 2;

  struct TxnProducer {
    std::string id;
    int32_t coordinator = -1;
    int64_t producer_id = -1;
    int16_t epoch = -1;
    std::map<int32_t, int32_t> sequence{};  // the next BaseSequence of each partition, for this id and epoch
  };
  // The versions one transaction uses; -1 for a request it does without.
  struct TxnPlan {
    int16_t add_partitions = -1;  // -1: the Produce (v12+) adds the partition
    int16_t produce = -1;
    int16_t add_offsets = -1;  // -1: the TxnOffsetCommit (v5+) adds the group
    int16_t offset_commit = -1;
    int16_t end = -1;
    bool commit = true;
  };
  // What a transaction wrote, for the checks of what is read back.
  struct TxnWritten {
    std::string label;
    TxnPlan plan;
    int32_t partition = 0;
    int64_t first_offset = -1, last_offset = -1;  // of its batch
    int64_t producer_id = -1;
    int16_t epoch = -1;         // of its batch
    int16_t marker_epoch = -1;  // of its COMMIT/ABORT marker
    int32_t base_sequence = -1;
    std::vector<std::string> values;
  };

  static std::string plan_text(size_t index, const TxnPlan& p) {
    std::string s = "transaction " + std::to_string(index) + " (";
    if (p.add_partitions >= 0) s += "AddPartitionsToTxn v" + std::to_string(p.add_partitions) + ", ";
    s += "Produce v" + std::to_string(p.produce);
    if (p.add_offsets >= 0) s += ", AddOffsetsToTxn v" + std::to_string(p.add_offsets);
    s += ", TxnOffsetCommit v" + std::to_string(p.offset_commit) + ", EndTxn v" + std::to_string(p.end) +
         (p.commit ? " commit)" : " abort)");
    return s;
  }

  static bool txn_retriable(int16_t code) {
    return code == CONCURRENT_TRANSACTIONS || code == COORDINATOR_LOAD_IN_PROGRESS ||
           code == COORDINATOR_NOT_AVAILABLE;
  }

  // call(), again after 100 ms while the answer (code_of) says to wait: the previous transaction's markers
  // are still being written (CONCURRENT_TRANSACTIONS), or the coordinator is loading.
  template <class Req, class CodeOf>
  Response<typename Req::response_type> call_txn(Check& c, const Req& req, int32_t node, CodeOf code_of) {
    auto r = call(c, req, node);
    for (int attempt = 0; r && attempt < 100 && txn_retriable(code_of(*r)); ++attempt) {
      std::this_thread::sleep_for(100ms);
      r = call(c, req, node);
    }
    return r;
  }

  // Creates the topic the transactions write to and waits for its leaders.
  void setup_txn_topic() {
    txn_topic_ = topic("txn");
    proto::CreateTopicsRequest req;
    req.timeout_ms = 30000;
    req.topics.push_back({.name = txn_topic_,
                          .num_partitions = kTxnPartitions,
                          .replication_factor = -1,
                          .assignments = {},
                          .configs = {}});
    auto r = call_at(top<proto::CreateTopicsRequest>(), req, -1, "transactions: creating their topic");
    if (!r || r->topics.size() != 1 || r->topics[0].error_code != NONE)
      throw std::runtime_error("creating " + txn_topic_ + " failed");
    created_.push_back(txn_topic_);
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto m = call_at(top<proto::MetadataRequest>(), metadata_request({txn_topic_}), -1,
                       "transactions: waiting for leaders");
      if (m && m->topics.size() == 1 && m->topics[0].error_code == NONE &&
          m->topics[0].partitions.size() == kTxnPartitions &&
          std::all_of(m->topics[0].partitions.begin(), m->topics[0].partitions.end(),
                      [](const auto& p) { return p.error_code == NONE && p.leader_id >= 0; })) {
        txn_topic_id_ = m->topics[0].topic_id;
        std::map<int32_t, std::vector<std::pair<std::string, int32_t>>> by_node;
        for (const auto& p : m->topics[0].partitions) {
          txn_leaders_[p.partition_index] = p.leader_id;
          by_node[p.leader_id].emplace_back(txn_topic_, p.partition_index);
        }
        wait_for_leaders(by_node, deadline);  // and until they serve it
        return;
      }
      if (std::chrono::steady_clock::now() > deadline)
        throw std::runtime_error(txn_topic_ + " got no leaders in 30 s");
      std::this_thread::sleep_for(100ms);
    }
  }

  std::map<int32_t, std::vector<int32_t>> txn_by_leader() const {
    std::map<int32_t, std::vector<int32_t>> out;
    for (const auto& [p, node] : txn_leaders_) out[node].push_back(p);
    return out;
  }

  // FindCoordinator KeyType 1 (TRANSACTION, v1+; v0 knows groups only) for a transactional id, at every
  // version or only the top one; the coordinator's node (-1 when none was found).
  int32_t txn_coordinator(const std::string& id, bool every_version) {
    using Req = proto::FindCoordinatorRequest;
    int32_t node = -1;
    for (int16_t v : versions<Req>()) {
      if (v < 1 || (!every_version && v != top<Req>())) continue;
      Check c = check<Req>(v, "transactional id " + id);
      Req req;
      req.key_type = Req::kTransaction;
      if (v <= 3)
        req.key = id;
      else
        req.coordinator_keys = {id};
      // The first ask creates __transaction_state: COORDINATOR_NOT_AVAILABLE until it is there.
      for (int attempt = 0; attempt < 150; ++attempt) {
        auto r = call(c, req);
        if (!r) break;
        int16_t code = r->error_code;
        int32_t n = r->node_id, port = r->port;
        std::string host = r->host;
        if (v >= 4) {
          if (!c.equal(r->coordinators.size(), size_t{1}, "Coordinators")) break;
          const auto& k = r->coordinators[0];
          c.equal(k.key, id, "Key");
          std::tie(code, n, host, port) = std::tuple(k.error_code, k.node_id, k.host, k.port);
        }
        if (code == COORDINATOR_NOT_AVAILABLE || code == COORDINATOR_LOAD_IN_PROGRESS) {
          std::this_thread::sleep_for(200ms);
          continue;
        }
        check_coordinator(c, "", code, n, host, port);
        if (code == NONE) node = n;
        break;
      }
    }
    return node;
  }

  // InitProducerId with the transactional id, to its coordinator: a producer id and epoch.
  bool init_txn_producer(TxnProducer& tp) {
    const int16_t v = top<proto::InitProducerIdRequest>();
    Check c = check<proto::InitProducerIdRequest>(v, "transactional id " + tp.id);
    proto::InitProducerIdRequest req;
    req.transactional_id = tp.id;
    req.transaction_timeout_ms = 60000;
    auto r = call_txn(c, req, tp.coordinator, [](const auto& m) { return m.error_code; });
    // On a fresh broker FindCoordinator can name the coordinator a moment before it has loaded its
    // __transaction_state partition, which answers NOT_COORDINATOR meanwhile: find it again and retry, as
    // a client does.
    for (int attempt = 0; r && r->error_code == NOT_COORDINATOR && attempt < 50; ++attempt) {
      std::this_thread::sleep_for(200ms);
      const int32_t node = txn_coordinator(tp.id, false);
      if (node < 0) break;
      tp.coordinator = node;
      r = call_txn(c, req, tp.coordinator, [](const auto& m) { return m.error_code; });
    }
    if (!r || !c.code(r->error_code, NONE, "ErrorCode")) return false;
    if (!c.that(
            r->producer_id >= 0 && r->producer_epoch >= 0,
            "ProducerId " + std::to_string(r->producer_id) + " epoch " + std::to_string(r->producer_epoch)))
      return false;
    tp.producer_id = r->producer_id;
    tp.epoch = r->producer_epoch;
    tp.sequence.clear();
    return true;
  }

  // AddPartitionsToTxn of one partition. First, in the same form, an unknown topic with it: the broker
  // refuses the whole request (UNKNOWN_TOPIC_OR_PARTITION for that one, OPERATION_NOT_ATTEMPTED for ours).
  bool add_partitions(const TxnProducer& tp, int16_t v, int32_t part, const std::string& ctx) {
    using Req = proto::AddPartitionsToTxnRequest;
    using Resp = proto::AddPartitionsToTxnResponse;
    Check c = check<Req>(v, ctx);
    auto request = [&](const std::vector<Req::AddPartitionsToTxnTopic>& topics) {
      Req req;
      if (v >= 4) {
        req.transactions.push_back({tp.id, tp.producer_id, tp.epoch, false, topics});
      } else {
        req.v3_and_below_transactional_id = tp.id;
        req.v3_and_below_producer_id = tp.producer_id;
        req.v3_and_below_producer_epoch = tp.epoch;
        req.v3_and_below_topics = topics;
      }
      return req;
    };
    auto topic_results = [&](const Resp& r) -> const std::vector<Resp::AddPartitionsToTxnTopicResult>* {
      if (v < 4) return &r.results_by_topic_v3_and_below;
      if (!c.code(r.error_code, NONE, "ErrorCode") ||
          !c.equal(r.results_by_transaction.size(), size_t{1}, "ResultsByTransaction"))
        return nullptr;
      c.equal(r.results_by_transaction[0].transactional_id, tp.id, "TransactionalId");
      return &r.results_by_transaction[0].topic_results;
    };
    auto first_code = [](const Resp& r) {
      if (r.error_code != NONE) return r.error_code;
      const auto& topics = r.results_by_transaction.empty() ? r.results_by_topic_v3_and_below
                                                            : r.results_by_transaction[0].topic_results;
      for (const auto& t : topics)
        for (const auto& p : t.results_by_partition)
          if (p.partition_error_code != NONE) return p.partition_error_code;
      return NONE;
    };

    const std::string unknown = topic("no-such-topic");
    if (auto r = call(c, request({{txn_topic_, {part}}, {unknown, {0}}}), tp.coordinator)) {
      if (v >= 4 && r->error_code == CLUSTER_AUTHORIZATION_FAILED) {
        // An authorizer keeps the broker-to-broker form from clients: the layout conformed, the flow
        // goes on with the client form.
        matrix_.annotate(
            c.key(), v,
            "the broker answers CLUSTER_AUTHORIZATION_FAILED (31): v4+ is for brokers (CLUSTER_ACTION); "
            "the transaction added its partition at v3");
        return add_partitions(tp, 3, part, ctx);
      }
      if (const auto* topics = topic_results(*r);
          topics && c.equal(topics->size(), size_t{2}, "unknown topic: topics")) {
        for (const auto& t : *topics) {
          const bool ours = t.name == txn_topic_;
          c.that(ours || t.name == unknown, "unknown topic: a result for " + t.name);
          if (c.equal(t.results_by_partition.size(), size_t{1},
                      "unknown topic: ResultsByPartition of " + t.name))
            c.code(t.results_by_partition[0].partition_error_code,
                   ours ? OPERATION_NOT_ATTEMPTED : UNKNOWN_TOPIC_OR_PARTITION,
                   "unknown topic: PartitionErrorCode of " + t.name);
        }
      }
    }

    auto r = call_txn(c, request({{txn_topic_, {part}}}), tp.coordinator, first_code);
    if (!r) return false;
    const auto* topics = topic_results(*r);
    if (!topics || !c.equal(topics->size(), size_t{1}, "topic results")) return false;
    c.equal((*topics)[0].name, txn_topic_, "Name");
    const auto& parts = (*topics)[0].results_by_partition;
    if (!c.equal(parts.size(), size_t{1}, "ResultsByPartition")) return false;
    c.equal(parts[0].partition_index, part, "PartitionIndex");
    return c.code(parts[0].partition_error_code, NONE, "PartitionErrorCode");
  }

  // OffsetFetch with RequireStable (v7+) of the group's offsets for the transaction topic, again while they
  // are UNSTABLE_OFFSET_COMMIT (a transaction's offsets whose marker is not written yet), when `settle`.
  // The offsets per partition, or nullopt when the exchange failed (the Check says why).
  std::optional<std::vector<FetchedOffset>> txn_offsets(const std::string& g, bool settle,
                                                        const std::string& ctx) {
    const int16_t fv = top<proto::OffsetFetchRequest>();
    Check c = check<proto::OffsetFetchRequest>(fv, ctx);
    const OffsetTopic t{txn_topic_, txn_topic_id_, {0, 1}};
    for (int attempt = 0; attempt < 100; ++attempt) {
      auto req = offset_fetch_request(fv, {g}, std::nullopt, -1, false, t);
      req.require_stable = true;
      auto r = call(c, req, coordinator(g));
      if (!r) return std::nullopt;
      const int16_t group_code =
          fv <= 7 ? r->error_code : (r->groups.empty() ? NONE : r->groups[0].error_code);
      if (settle && group_code == UNSTABLE_OFFSET_COMMIT) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      auto got = fetched_offsets(c, *r, 0, g, NONE, t);
      if (!got) return std::nullopt;
      if (settle && std::any_of(got->begin(), got->end(),
                                [](const auto& p) { return p.error_code == UNSTABLE_OFFSET_COMMIT; })) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      return got;
    }
    c.fail("the offsets were still UNSTABLE_OFFSET_COMMIT after 10 s");
    return std::nullopt;
  }

  // If anything fails after the batch was written, the transaction is aborted so that the partition's
  // LastStableOffset moves on; what was written is then expected as aborted.
  void abandon(TxnProducer& tp, TxnWritten& w, const TxnPlan& p) {
    Check c = check<proto::EndTxnRequest>(p.end, w.label + ": aborting it after a failed step");
    proto::EndTxnRequest req{tp.id, tp.producer_id, tp.epoch, false};
    auto r = call_txn(c, req, tp.coordinator, [](const auto& m) { return m.error_code; });
    if (!r || !c.code(r->error_code, NONE, "ErrorCode")) return;
    w.plan.commit = false;
    w.marker_epoch = p.end >= 5 ? r->producer_epoch : tp.epoch;
    if (p.end >= 5) std::tie(tp.producer_id, tp.epoch) = std::pair(r->producer_id, r->producer_epoch);
    tp.sequence.clear();
    txn_end_[w.partition] += 1;
    txn_written_.push_back(w);
  }

  // One transaction: its batch goes to partition (index mod 2), its offsets are 1000 * (index + 1) + p.
  bool run_transaction(TxnProducer& tp, const TxnPlan& p, const std::string& g) {
    const size_t index = txn_written_.size();
    TxnWritten w;
    w.label = plan_text(index, p) + " of " + tp.id;
    w.plan = p;
    w.partition = static_cast<int32_t>(index % kTxnPartitions);
    w.producer_id = tp.producer_id;
    w.epoch = tp.epoch;
    w.base_sequence = tp.sequence[w.partition];
    const int32_t part = w.partition;
    const std::string& ctx = w.label;

    if (p.add_partitions >= 0 && !add_partitions(tp, p.add_partitions, part, ctx)) {
      // v4+ is the broker-to-broker form: a broker that does not serve it to clients (kfake answers no
      // transaction) has failed that cell; the transaction adds its partition at v3 and goes on, so that
      // the versions of the other APIs in it are tested all the same.
      if (p.add_partitions < 4 || !add_partitions(tp, 3, part, ctx + ", again at v3")) return false;
    }

    {  // Produce: one transactional batch of two records.
      Check c = check<proto::ProduceRequest>(p.produce, ctx);
      for (int k = 0; k < 2; ++k)
        w.values.push_back("txn-" + std::to_string(index) + "-" + std::to_string(k) +
                           (p.commit ? "-commit" : "-abort"));
      proto::RecordBatchBuilder b({.producer_id = tp.producer_id,
                                   .producer_epoch = tp.epoch,
                                   .base_sequence = w.base_sequence,
                                   .transactional = true});
      for (const auto& value : w.values) {
        b.add(next_timestamp_, std::nullopt, Bytes(std::string_view(value)));
        next_timestamp_ += 10;
      }
      const auto batch = b.build();
      auto req = produce_request(p.produce, txn_topic_, txn_topic_id_, part, batch);
      req.transactional_id = tp.id;
      auto r = call_txn(c, req, txn_leaders_.at(part), [](const proto::ProduceResponse& m) {
        return m.responses.empty() || m.responses[0].partition_responses.empty()
                   ? NONE
                   : m.responses[0].partition_responses[0].error_code;
      });
      const auto* pr = r ? produce_partition(c, *r, txn_topic_, txn_topic_id_, part) : nullptr;
      if (!pr || !c.code(pr->error_code, NONE, "ErrorCode")) return false;
      c.equal(pr->base_offset, txn_end_[part], "BaseOffset");
      w.first_offset = pr->base_offset;
      w.last_offset = pr->base_offset + 1;
      txn_end_[part] = w.last_offset + 1;
      tp.sequence[part] += 2;
    }

    if (p.add_offsets >= 0) {
      Check c = check<proto::AddOffsetsToTxnRequest>(p.add_offsets, ctx);
      proto::AddOffsetsToTxnRequest req{tp.id, tp.producer_id, tp.epoch, g};
      auto r = call_txn(c, req, tp.coordinator, [](const auto& m) { return m.error_code; });
      if (!r || !c.code(r->error_code, NONE, "ErrorCode")) {
        abandon(tp, w, p);
        return false;
      }
    }

    {  // TxnOffsetCommit, as a consumer outside any group generation (-1, "").
      using Req = proto::TxnOffsetCommitRequest;
      Check c = check<Req>(p.offset_commit, ctx);
      Req req;
      req.transactional_id = tp.id;
      req.group_id = g;
      req.producer_id = tp.producer_id;
      req.producer_epoch = tp.epoch;
      Req::TxnOffsetCommitRequestTopic t;
      if (p.offset_commit >= 6)
        t.topic_id = txn_topic_id_;
      else
        t.name = txn_topic_;
      for (int32_t q = 0; q < kTxnPartitions; ++q)
        t.partitions.push_back(
            {q, 1000 * static_cast<int64_t>(index + 1) + q, -1, "txn-" + std::to_string(index)});
      req.topics.push_back(std::move(t));
      auto r = call_txn(c, req, coordinator(g), [](const proto::TxnOffsetCommitResponse& m) {
        for (const auto& rt : m.topics)
          for (const auto& rp : rt.partitions)
            if (rp.error_code != NONE) return rp.error_code;
        return NONE;
      });
      bool ok = r && c.equal(r->topics.size(), size_t{1}, "Topics");
      if (ok) {
        const auto& rt = r->topics[0];
        if (p.offset_commit >= 6)
          c.equal(rt.topic_id, txn_topic_id_, "TopicId");
        else
          c.equal(rt.name, txn_topic_, "Name");
        ok = c.equal(rt.partitions.size(), size_t{kTxnPartitions}, "Partitions");
        for (const auto& rp : rt.partitions)
          ok =
              c.code(rp.error_code, NONE, "partition " + std::to_string(rp.partition_index) + " ErrorCode") &&
              ok;
      }
      if (!ok) {
        abandon(tp, w, p);
        return false;
      }
    }

    // Until the transaction ends its offsets are pending: RequireStable answers UNSTABLE_OFFSET_COMMIT.
    if (!pending_offsets_checked_ && top<proto::OffsetFetchRequest>() >= 7) {
      pending_offsets_checked_ = true;
      Check c =
          check<proto::OffsetFetchRequest>(top<proto::OffsetFetchRequest>(), "RequireStable inside " + ctx);
      if (auto got = txn_offsets(g, false, "RequireStable inside " + ctx);
          got && c.equal(got->size(), size_t{kTxnPartitions}, "Partitions"))
        for (const auto& o : *got)
          c.code(o.error_code, UNSTABLE_OFFSET_COMMIT,
                 "partition " + std::to_string(o.partition) + " ErrorCode");
    }

    {  // EndTxn
      Check c = check<proto::EndTxnRequest>(p.end, ctx);
      proto::EndTxnRequest req{tp.id, tp.producer_id, tp.epoch, p.commit};
      auto r = call_txn(c, req, tp.coordinator, [](const auto& m) { return m.error_code; });
      if (!r || !c.code(r->error_code, NONE, "ErrorCode")) return false;
      w.marker_epoch = tp.epoch;
      if (p.end >= 5) {
        // Transactions v2: the epoch goes up at every end; a new producer id only when it is exhausted.
        const bool next = r->producer_id == tp.producer_id ? r->producer_epoch == tp.epoch + 1
                                                           : r->producer_id >= 0 && r->producer_epoch == 0;
        c.that(next, "ProducerId " + std::to_string(r->producer_id) + " epoch " +
                         std::to_string(r->producer_epoch) + " after producer " +
                         std::to_string(tp.producer_id) + " epoch " + std::to_string(tp.epoch));
        tp.producer_id = r->producer_id;
        tp.epoch = r->producer_epoch;
        tp.sequence.clear();
        w.marker_epoch = tp.epoch;
      }
      txn_end_[part] += 1;  // the marker
      txn_written_.push_back(w);
    }

    {  // The group's offsets: this transaction's when it committed, the last committed ones when it aborted.
      if (p.commit)
        for (int32_t q = 0; q < kTxnPartitions; ++q)
          txn_committed_offsets_[q] = 1000 * static_cast<int64_t>(index + 1) + q;
      Check c = check<proto::TxnOffsetCommitRequest>(
          p.offset_commit,
          ctx + ", read back with OffsetFetch v" + std::to_string(top<proto::OffsetFetchRequest>()));
      if (auto got = txn_offsets(g, true, "after " + ctx);
          got && c.equal(got->size(), size_t{kTxnPartitions}, "Partitions"))
        for (const auto& o : *got) {
          c.code(o.error_code, NONE, "partition " + std::to_string(o.partition) + " ErrorCode");
          c.equal(o.offset, txn_committed_offsets_[o.partition],
                  "partition " + std::to_string(o.partition) + " CommittedOffset");
        }
    }
    return true;
  }

  void transactions() {
    for (auto r : {both<proto::AddPartitionsToTxnRequest>(), both<proto::AddOffsetsToTxnRequest>(),
                   both<proto::EndTxnRequest>(), both<proto::TxnOffsetCommitRequest>()})
      if (r.max < r.min) throw std::runtime_error("the broker does not serve every transaction API");
    setup_txn_topic();
    const std::string g = group("txn-offsets");
    auto cap = [](net::VersionRange r, int v, int max) {
      return static_cast<int16_t>(std::clamp<int>(v, r.min, std::min<int>(max, r.max)));
    };
    const auto apt = both<proto::AddPartitionsToTxnRequest>(), aot = both<proto::AddOffsetsToTxnRequest>(),
               et = both<proto::EndTxnRequest>(), toc = both<proto::TxnOffsetCommitRequest>(),
               pr = both<proto::ProduceRequest>();

    // Protocol v1: one producer, a transaction per version index, the third one aborted.
    TxnProducer v1{.id = "kwc-" + run_id_ + "-txn-v1"};
    v1.coordinator = txn_coordinator(v1.id, true);
    if (v1.coordinator >= 0 && init_txn_producer(v1)) {
      {
        FlowScope misuse(*this, kMisuseTxn);
        for (int v : {11, 10}) produce_outside_transaction(v1, cap(pr, v, 11));
      }
      const int last = std::max({static_cast<int>(apt.max), static_cast<int>(aot.max),
                                 std::min<int>(toc.max, 4), std::min<int>(et.max, 4)});
      bool ok = true;
      for (int i = 0; i <= last && ok; ++i) {
        const TxnPlan p{.add_partitions = cap(apt, i, apt.max),
                        .produce = cap(pr, 11 - i, 11),
                        .add_offsets = cap(aot, i, aot.max),
                        .offset_commit = cap(toc, i, 4),
                        .end = cap(et, i, 4),
                        .commit = i != 2};
        FlowScope flow(*this, "transactions, protocol v1: " + plan_text(static_cast<size_t>(i), p));
        ok = run_transaction(v1, p, g);  // after a failed step the transaction's state is unknown: stop
      }
      if (ok) {
        FlowScope misuse(*this, kMisuseTxn);
        fenced_by_init(v1);
      }
    }

    // Protocol v2, when the broker serves EndTxn v5.
    if (et.max >= 5) {
      if (transaction_version_ < 2) {
        const std::string note = "the broker's transaction.version is " +
                                 std::to_string(transaction_version_) +
                                 ": transactions v2 (KIP-890) is off, so its flow was not run";
        matrix_.annotate(proto::EndTxnRequest::api_key, 5, note);
        for (int v = std::max<int>(5, toc.min); v <= toc.max; ++v)
          matrix_.annotate(proto::TxnOffsetCommitRequest::api_key, static_cast<int16_t>(v), note);
      } else {
        TxnProducer v2{.id = "kwc-" + run_id_ + "-txn-v2"};
        v2.coordinator = txn_coordinator(v2.id, false);
        if (v2.coordinator >= 0 && init_txn_producer(v2)) {
          std::vector<TxnPlan> plans;
          for (int v = std::max<int>(5, toc.min); v <= toc.max; ++v)
            plans.push_back({.produce = cap(pr, 12 + (v - 5), pr.max),
                             .offset_commit = static_cast<int16_t>(v),
                             .end = 5});
          plans.push_back(
              {.produce = top<proto::ProduceRequest>(), .offset_commit = toc.max, .end = 5, .commit = false});
          // A client of protocol v2 may still add the partition and the group itself.
          plans.push_back({.add_partitions = cap(apt, 3, 3),
                           .produce = cap(pr, 12, pr.max),
                           .add_offsets = aot.max,
                           .offset_commit = cap(toc, 5, toc.max),
                           .end = 5});
          bool ok = true;
          for (size_t i = 0; i < plans.size() && ok; ++i) {
            {
              FlowScope flow(*this, "transactions, protocol v2: " + plan_text(i, plans[i]));
              ok = run_transaction(v2, plans[i], g);
            }
            if (ok && i == 0) {
              FlowScope misuse(*this, kMisuseTxn);
              stale_epoch(v2, txn_written_.back());
            }
          }
          if (ok) {
            FlowScope misuse(*this, kMisuseTxn);
            empty_transaction(v2);
          }
        }
      }
    }
    FlowScope flow(*this, "transactions read back: read_committed Fetch, batches and markers");
    check_txn_reads();
  }

  // A transactional batch to a partition the transaction does not have, at Produce v11 or below (v12+ would
  // add it): the leader's check with the coordinator (KIP-890 part 1) refuses it.
  void produce_outside_transaction(TxnProducer& tp, int16_t v) {
    Check c = check<proto::ProduceRequest>(v, tp.id + ": a batch to a partition not in the transaction");
    const std::string value = "not in the transaction";
    proto::RecordBatchBuilder b({.producer_id = tp.producer_id,
                                 .producer_epoch = tp.epoch,
                                 .base_sequence = tp.sequence[0],
                                 .transactional = true});
    b.add(next_timestamp_, std::nullopt, Bytes(std::string_view(value)));
    const auto batch = b.build();
    auto req = produce_request(v, txn_topic_, txn_topic_id_, 0, batch);
    req.transactional_id = tp.id;
    auto r = call(c, req, txn_leaders_.at(0));
    if (const auto* p = r ? produce_partition(c, *r, txn_topic_, txn_topic_id_, 0) : nullptr)
      c.code(p->error_code, v >= 11 ? TRANSACTION_ABORTABLE : INVALID_TXN_STATE, "ErrorCode");
  }

  // InitProducerId again for the same transactional id fences the producer that had it: the epoch goes up,
  // and EndTxn with the old one is PRODUCER_FENCED (INVALID_PRODUCER_EPOCH below v2, which lacks that code).
  void fenced_by_init(TxnProducer& tp) {
    const auto [old_id, old_epoch] = std::pair(tp.producer_id, tp.epoch);
    if (!init_txn_producer(tp)) return;
    Check ci = check<proto::InitProducerIdRequest>(top<proto::InitProducerIdRequest>(),
                                                   "again for transactional id " + tp.id);
    ci.equal(tp.producer_id, old_id, "ProducerId");
    ci.equal(tp.epoch, static_cast<int16_t>(old_epoch + 1), "ProducerEpoch");
    for (int16_t v : versions<proto::EndTxnRequest>()) {
      Check c = check<proto::EndTxnRequest>(v, tp.id + ": with the epoch InitProducerId fenced");
      if (auto r = call(c, proto::EndTxnRequest{tp.id, old_id, old_epoch, true}, tp.coordinator))
        c.code(r->error_code, v >= 2 ? PRODUCER_FENCED : INVALID_PRODUCER_EPOCH, "ErrorCode");
    }
  }

  // After EndTxn v5 bumped the epoch: a batch with the epoch the transaction had is refused
  // (INVALID_PRODUCER_EPOCH), and the same EndTxn again (a retry whose answer was lost) gets the same
  // answer, the new epoch, without ending anything twice.
  void stale_epoch(TxnProducer& tp, const TxnWritten& w) {
    {
      Check c =
          check<proto::ProduceRequest>(w.plan.produce, w.label + ": a batch with its epoch after it ended");
      const std::string value = "stale epoch";
      proto::RecordBatchBuilder b({.producer_id = w.producer_id,
                                   .producer_epoch = w.epoch,
                                   .base_sequence = w.base_sequence + 2,
                                   .transactional = true});
      b.add(next_timestamp_, std::nullopt, Bytes(std::string_view(value)));
      const auto batch = b.build();
      auto req = produce_request(w.plan.produce, txn_topic_, txn_topic_id_, w.partition, batch);
      req.transactional_id = tp.id;
      auto r = call(c, req, txn_leaders_.at(w.partition));
      if (const auto* p = r ? produce_partition(c, *r, txn_topic_, txn_topic_id_, w.partition) : nullptr)
        c.code(p->error_code, INVALID_PRODUCER_EPOCH, "ErrorCode");
    }
    Check c = check<proto::EndTxnRequest>(w.plan.end, w.label + ": its EndTxn again");
    auto r = call(c, proto::EndTxnRequest{tp.id, w.producer_id, w.epoch, w.plan.commit}, tp.coordinator);
    if (r && c.code(r->error_code, NONE, "ErrorCode")) {
      c.equal(r->producer_id, tp.producer_id, "ProducerId");
      c.equal(r->producer_epoch, tp.epoch, "ProducerEpoch");
    }
  }

  // Protocol v2 ends a transaction with nothing in it: a commit is INVALID_TXN_STATE, an abort succeeds
  // (what a producer's abort before its first send does) and bumps the epoch like any other end.
  void empty_transaction(TxnProducer& tp) {
    Check c = check<proto::EndTxnRequest>(5, tp.id + ": a transaction with nothing in it");
    auto commit = call_txn(c, proto::EndTxnRequest{tp.id, tp.producer_id, tp.epoch, true}, tp.coordinator,
                           [](const auto& m) { return m.error_code; });
    if (commit) c.code(commit->error_code, INVALID_TXN_STATE, "ErrorCode committing");
    auto abort = call_txn(c, proto::EndTxnRequest{tp.id, tp.producer_id, tp.epoch, false}, tp.coordinator,
                          [](const auto& m) { return m.error_code; });
    if (abort && c.code(abort->error_code, NONE, "ErrorCode aborting")) {
      c.equal(abort->producer_id, tp.producer_id, "ProducerId");
      c.equal(abort->producer_epoch, static_cast<int16_t>(tp.epoch + 1), "ProducerEpoch");
      tp.epoch = abort->producer_epoch;
    }
  }

  // What the transactions left in the log, read back at every Fetch version with read_committed and at the
  // top one batch by batch.
  void check_txn_reads() {
    if (txn_written_.empty()) return;
    std::array<std::vector<std::string>, kTxnPartitions> committed;
    std::array<std::vector<proto::FetchResponse::AbortedTransaction>, kTxnPartitions> aborted;
    for (const auto& w : txn_written_) {
      if (w.plan.commit)
        committed[w.partition].insert(committed[w.partition].end(), w.values.begin(), w.values.end());
      else
        aborted[w.partition].push_back({w.producer_id, w.first_offset});
    }
    auto fetch_txn = [&](Check& c, int16_t v, int32_t node, const std::vector<int32_t>& parts,
                         int8_t isolation) {
      std::vector<std::pair<int32_t, int64_t>> ask;
      for (int32_t p : parts) ask.emplace_back(p, 0);
      auto req = fetch_request(v, txn_topic_, txn_topic_id_, ask);
      req.isolation_level = isolation;
      return call(c, req, node);
    };

    bool wait = true;  // false once the LastStableOffset did not settle: do not wait 10 s at every version
    for (int16_t v : versions<proto::FetchRequest>()) {
      Check c = check<proto::FetchRequest>(v, "read_committed after the transactions");
      for (const auto& [node, parts] : txn_by_leader()) {
        // The markers are written after EndTxn answered: ask until the LastStableOffset is at the end.
        const int attempts = wait ? 100 : 1;
        for (int attempt = 0; attempt < attempts; ++attempt) {
          auto r = fetch_txn(c, v, node, parts, proto::FetchRequest::kReadCommitted);
          const auto* t = r ? fetch_topic(c, *r, txn_topic_, txn_topic_id_) : nullptr;
          if (!t) break;
          const bool settled = std::all_of(t->partitions.begin(), t->partitions.end(), [&](const auto& pd) {
            return pd.error_code == NONE && pd.partition_index >= 0 && pd.partition_index < kTxnPartitions &&
                   pd.last_stable_offset == txn_end_[pd.partition_index];
          });
          if (!settled && attempt + 1 < attempts) {
            std::this_thread::sleep_for(100ms);
            continue;
          }
          wait = wait && settled;
          c.equal(t->partitions.size(), parts.size(), "Partitions");
          for (const auto& pd : t->partitions) {
            const int32_t p = pd.partition_index;
            const std::string at = "partition " + std::to_string(p) + " ";
            if (!c.that(p >= 0 && p < kTxnPartitions, "unexpected partition") ||
                !c.code(pd.error_code, NONE, at + "ErrorCode"))
              continue;
            c.equal(pd.high_watermark, txn_end_[p], at + "HighWatermark");
            c.equal(pd.last_stable_offset, txn_end_[p], at + "LastStableOffset");
            auto got =
                pd.aborted_transactions.value_or(std::vector<proto::FetchResponse::AbortedTransaction>{});
            std::sort(got.begin(), got.end(),
                      [](const auto& a, const auto& b) { return a.first_offset < b.first_offset; });
            std::string listed;
            for (const auto& a : got)
              listed += " (producer " + std::to_string(a.producer_id) + ", offset " +
                        std::to_string(a.first_offset) + ")";
            c.that(got == aborted[p], at + "AbortedTransactions:" + (listed.empty() ? " none" : listed) +
                                          ", want " + std::to_string(aborted[p].size()));
            std::vector<std::string> values;
            if (pd.records.bytes) {
              proto::RecordBatchReader reader(*pd.records.bytes, {.read_committed = true});
              reader.set_aborted_transactions(got);
              proto::RecordView rec;
              while (reader.next(rec))
                values.emplace_back(rec.value ? std::string(rec.value->str()) : "null");
              c.that(!reader.error(), at + "reading the records: " + reader.error().message());
            }
            std::string seen;
            for (const auto& s : values) seen += " " + s;
            c.that(values == committed[p], at + "read_committed records:" + seen);
          }
          break;
        }
      }
    }

    // Batch by batch at the top version (read_uncommitted, control batches included): each transaction's
    // batch with its producer id, epoch and sequence, each one's marker with the right type and epoch.
    const int16_t v = top<proto::FetchRequest>();
    Check c = check<proto::FetchRequest>(v, "the transactions' batches and markers");
    std::set<std::pair<size_t, bool>> seen;  // (transaction, marker)
    for (const auto& [node, parts] : txn_by_leader()) {
      auto r = fetch_txn(c, v, node, parts, proto::FetchRequest::kReadUncommitted);
      const auto* t = r ? fetch_topic(c, *r, txn_topic_, txn_topic_id_) : nullptr;
      if (!t) continue;
      for (const auto& pd : t->partitions) {
        if (!pd.records.bytes) continue;
        proto::RecordBatchReader reader(*pd.records.bytes, {.deliver_control = true});
        while (reader.next_batch()) {
          const auto& h = reader.batch();
          auto it = std::find_if(txn_written_.begin(), txn_written_.end(), [&](const TxnWritten& w) {
            return w.partition == pd.partition_index &&
                   (h.base_offset == w.first_offset || h.base_offset == w.last_offset + 1);
          });
          if (!c.that(it != txn_written_.end(), "partition " + std::to_string(pd.partition_index) +
                                                    ": a batch at offset " + std::to_string(h.base_offset) +
                                                    " that no transaction wrote"))
            continue;
          const TxnWritten& w = *it;
          const bool marker = h.base_offset == w.last_offset + 1;
          seen.insert({static_cast<size_t>(it - txn_written_.begin()), marker});
          if (!marker) {
            Check b = check<proto::ProduceRequest>(w.plan.produce, w.label + ": its batch read back");
            b.that(h.is_transactional() && !h.is_control(), "attributes " + std::to_string(h.attributes));
            b.equal(h.producer_id, w.producer_id, "ProducerId");
            b.equal(h.producer_epoch, w.epoch, "ProducerEpoch");
            b.equal(h.base_sequence, w.base_sequence, "BaseSequence");
            b.equal(h.records_count, 2, "RecordsCount");
          } else {
            Check m = check<proto::EndTxnRequest>(w.plan.end, w.label + ": its marker read back");
            m.that(h.is_transactional() && h.is_control(), "attributes " + std::to_string(h.attributes));
            m.equal(h.producer_id, w.producer_id, "ProducerId");
            m.equal(h.producer_epoch, w.marker_epoch, "ProducerEpoch");
            proto::RecordView rec;
            if (m.that(reader.next_record(rec), "no record in the control batch")) {
              const auto key = proto::parse_control_key(rec.key);
              m.that(key && (w.plan.commit ? key->is_commit() : key->is_abort()),
                     std::string("the marker is not ") + (w.plan.commit ? "COMMIT" : "ABORT"));
            }
          }
        }
        c.that(!reader.error(), "reading the batches: " + reader.error().message());
      }
    }
    for (size_t i = 0; i < txn_written_.size(); ++i)
      for (bool marker : {false, true})
        c.that(seen.count({i, marker}) == 1,
               txn_written_[i].label + ": its " + (marker ? "marker" : "batch") + " was not read back");
  }

  // ---- SaslHandshake, SaslAuthenticate -----------------------------------------------------------------

  // connection(): the bootstrap broker, over TLS when the suite uses it, but without SASL: the suite sends
  // the SASL requests itself.
  static constexpr int32_t kUnauthenticated = -2;
  void fresh_unauthenticated() {
    if (auto it = conns_.find(kUnauthenticated); it != conns_.end() && it->second) it->second->close();
  }

  // On a SASL listener, each version on a new connection: SaslHandshake names the suite's mechanism and
  // lists it among those enabled; after a v1 handshake for PLAIN, SaslAuthenticate with a wrong password
  // is SASL_AUTHENTICATION_FAILED (58) with a message. (Success is what every other stage's connection
  // did, at the top version.)
  void sasl_on_sasl_listener() {
    const std::string mechanism = options_.sasl->mechanism;
    for (int16_t v : versions<proto::SaslHandshakeRequest>()) {
      fresh_unauthenticated();
      Check c = check<proto::SaslHandshakeRequest>(v);
      proto::SaslHandshakeRequest req;
      req.mechanism = mechanism;
      if (auto r = call(c, req, kUnauthenticated)) {
        c.code(r->error_code, NONE, "ErrorCode");
        c.that(std::find(r->mechanisms.begin(), r->mechanisms.end(), mechanism) != r->mechanisms.end(),
               "Mechanisms lists " + mechanism);
      }
    }
    static constexpr std::string_view kPlain("\0kwc\0not-a-password", 19);
    for (int16_t v : versions<proto::SaslAuthenticateRequest>()) {
      fresh_unauthenticated();
      Check hello =
          check<proto::SaslHandshakeRequest>(top<proto::SaslHandshakeRequest>(), "before SaslAuthenticate");
      proto::SaslHandshakeRequest plain;
      plain.mechanism = "PLAIN";
      auto h = call(hello, plain, kUnauthenticated);
      if (!h || !hello.code(h->error_code, NONE, "ErrorCode")) continue;
      Check c = check<proto::SaslAuthenticateRequest>(v);
      proto::SaslAuthenticateRequest req;
      req.auth_bytes.bytes = Bytes(kPlain);
      if (auto r = call(c, req, kUnauthenticated)) {
        c.code(r->error_code, SASL_AUTHENTICATION_FAILED, "ErrorCode");
        c.that(r->error_message && !r->error_message->empty(), "ErrorMessage says why");
      }
    }
    fresh_unauthenticated();
  }

  // The suite's broker listens in PLAINTEXT, where a connection counts as authenticated from the start:
  // the broker answers both APIs with ILLEGAL_SASL_STATE, which checks their layouts at every version
  // without a SASL listener.
  void sasl_on_plaintext() {
    for (int16_t v : versions<proto::SaslHandshakeRequest>()) {
      Check c = check<proto::SaslHandshakeRequest>(v);
      proto::SaslHandshakeRequest req;
      req.mechanism = "PLAIN";
      if (auto r = call(c, req)) c.code(r->error_code, ILLEGAL_SASL_STATE, "ErrorCode");
    }
    static constexpr std::string_view kPlain("\0kwc\0not-a-password", 19);
    for (int16_t v : versions<proto::SaslAuthenticateRequest>()) {
      Check c = check<proto::SaslAuthenticateRequest>(v);
      proto::SaslAuthenticateRequest req;
      req.auth_bytes.bytes = Bytes(kPlain);
      if (auto r = call(c, req)) c.code(r->error_code, ILLEGAL_SASL_STATE, "ErrorCode");
    }
  }

  // ---- ConsumerGroupHeartbeat (KIP-848) ---------------------------------------------------------------

  void consumer_group_heartbeat() {
    for (int16_t v : versions<proto::ConsumerGroupHeartbeatRequest>()) {
      const std::string g = group("consumer-v" + std::to_string(v));
      FlowScope flow(*this, "KIP-848 consumer group: ConsumerGroupHeartbeat v" + std::to_string(v));
      const int32_t node = coordinator(g);
      Check c = check<proto::ConsumerGroupHeartbeatRequest>(v, "group " + g);
      using Req = proto::ConsumerGroupHeartbeatRequest;

      Req join;
      join.group_id = g;
      // v1 (KIP-1082): the member makes up its own id; v0: the broker hands one out.
      join.member_id = v >= 1 ? "kwc-" + run_id_ + "-member-" + std::to_string(v) : "";
      join.member_epoch = 0;
      join.rebalance_timeout_ms = 30000;
      join.subscribed_topic_names = std::vector<std::string>{data_};
      join.topic_partitions.emplace();
      auto r = call(c, join, node);
      if (!r) continue;
      if (r->error_code == UNSUPPORTED_VERSION) {
        // What a broker with the consumer group protocol switched off answers (Kafka 3.9's default, where
        // KIP-848 is a preview behind group.coordinator.rebalance.protocols=classic,consumer). The exchange
        // itself conformed; the flow cannot go further.
        const std::string note =
            "the broker answers UNSUPPORTED_VERSION (35): its consumer group protocol (KIP-848) is "
            "off; request and response conform, the join/assign/leave flow was not run";
        matrix_.annotate(c.key(), v, note);
        for (const auto& f : flows_) matrix_.annotate_flow(f, note);
        continue;
      }
      if (!c.code(r->error_code, NONE, "ErrorCode joining")) continue;
      if (!c.that(r->member_id && !r->member_id->empty(), "no MemberId")) continue;
      if (v >= 1) c.equal(r->member_id, std::optional<std::string>(join.member_id), "MemberId");
      const std::string member = *r->member_id;
      int32_t epoch = r->member_epoch;
      c.that(epoch >= 1, "MemberEpoch " + std::to_string(epoch));
      c.that(r->heartbeat_interval_ms > 0, "HeartbeatIntervalMs " + std::to_string(r->heartbeat_interval_ms));

      // Heartbeat until the assignment arrives: all three partitions of the data topic. (A coordinator that
      // does not know the new topic yet assigns nothing at first, and the assignment follows.)
      std::optional<proto::ConsumerGroupHeartbeatResponse::Assignment> assigned = r->assignment;
      for (int attempt = 0; attempt < 50 && (!assigned || assigned->topic_partitions.empty()); ++attempt) {
        std::this_thread::sleep_for(100ms);
        Req hb;
        hb.group_id = g;
        hb.member_id = member;
        hb.member_epoch = epoch;
        auto h = call(c, hb, node);
        if (!h || !c.code(h->error_code, NONE, "ErrorCode of a heartbeat")) break;
        epoch = h->member_epoch;
        if (h->assignment) assigned = h->assignment;  // null: unchanged
      }
      std::vector<int32_t> partitions;
      if (c.that(assigned.has_value(), "no Assignment within 5 s") &&
          c.equal(assigned->topic_partitions.size(), size_t{1}, "Assignment topics")) {
        c.equal(assigned->topic_partitions[0].topic_id, data_id_, "Assignment TopicId");
        partitions = assigned->topic_partitions[0].partitions;
        std::sort(partitions.begin(), partitions.end());
        c.that(partitions == std::vector<int32_t>{0, 1, 2},
               "the only member is not assigned every partition");
      }
      // Acknowledge the assignment (the partitions it now owns).
      {
        Req ack;
        ack.group_id = g;
        ack.member_id = member;
        ack.member_epoch = epoch;
        ack.topic_partitions = std::vector<Req::TopicPartitions>{{data_id_, partitions}};
        if (auto a = call(c, ack, node); a && c.code(a->error_code, NONE, "ErrorCode acknowledging"))
          epoch = a->member_epoch;
      }
      consumer_group_describe(g, member, epoch, partitions, node);

      // OffsetCommit/OffsetFetch v9+ carry the member epoch; a stale one is refused.
      for (int16_t cv : versions<proto::OffsetCommitRequest>()) {
        if (cv < 9) continue;
        Check cc = check<proto::OffsetCommitRequest>(cv, "consumer group " + g);
        commit(cc, g, epoch, member, {{11, -1, "cg"}, {12, -1, "cg"}, {13, -1, "cg"}});
        FlowScope misuse(*this, kMisuseStale);
        Check stale = check<proto::OffsetCommitRequest>(cv, "consumer group " + g + ", a stale member epoch");
        commit(stale, g, epoch + 1, member, {{11, -1, "cg"}, {12, -1, "cg"}, {13, -1, "cg"}},
               STALE_MEMBER_EPOCH);
      }
      for (int16_t fv : versions<proto::OffsetFetchRequest>()) {
        if (fv < 9) continue;
        Check fc = check<proto::OffsetFetchRequest>(fv, "consumer group " + g);
        if (auto f = call(fc, offset_fetch_request(fv, {g}, member, epoch), node)) {
          auto got = fetched_offsets(fc, *f, 0, g);
          if (got && fc.equal(got->size(), size_t{kPartitions}, "Partitions") &&
              both<proto::OffsetCommitRequest>().max >= 9)
            fc.equal((*got)[2].offset, int64_t{13}, "partition 2 CommittedOffset");
        }
        FlowScope misuse(*this, kMisuseStale);
        Check stale = check<proto::OffsetFetchRequest>(fv, "consumer group " + g + ", a stale member epoch");
        if (auto f = call(stale, offset_fetch_request(fv, {g}, member, epoch + 1), node))
          fetched_offsets(stale, *f, 0, g, STALE_MEMBER_EPOCH);
      }

      // A heartbeat from the future is fenced.
      {
        Req hb;
        hb.group_id = g;
        hb.member_id = member;
        hb.member_epoch = epoch + 5;
        FlowScope misuse(*this, kMisuseStale);
        Check fenced = check<proto::ConsumerGroupHeartbeatRequest>(v, "group " + g + ", a newer epoch");
        if (auto h = call(fenced, hb, node))
          fenced.code(h->error_code, FENCED_MEMBER_EPOCH, "ErrorCode with a newer epoch");
      }
      // Leave with epoch -1, then the member is unknown.
      Req leave;
      leave.group_id = g;
      leave.member_id = member;
      leave.member_epoch = -1;
      if (auto l = call(c, leave, node); l && c.code(l->error_code, NONE, "ErrorCode leaving"))
        c.equal(l->member_epoch, -1, "MemberEpoch after leaving");
      Req after;
      after.group_id = g;
      after.member_id = member;
      after.member_epoch = epoch;
      FlowScope misuse(*this, kMisuseUnknownMember);
      Check gone = check<proto::ConsumerGroupHeartbeatRequest>(v, "group " + g + " after leaving");
      if (auto a = call(gone, after, node))
        gone.code(a->error_code, UNKNOWN_MEMBER_ID, "ErrorCode after leaving");
    }
  }

  // ---- ConsumerGroupDescribe (KIP-848) ----------------------------------------------------------------

  // The group of the ConsumerGroupHeartbeat flow, once its only member acknowledged its assignment (all the
  // partitions of the data topic), described at every version: that member with its epoch, subscription,
  // and the same current and target assignment, by topic id and name.
  void consumer_group_describe(const std::string& g, const std::string& member, int32_t epoch,
                               const std::vector<int32_t>& partitions, int32_t node) {
    using Resp = proto::ConsumerGroupDescribeResponse;
    auto check_assignment = [&](Check& c, const Resp::Assignment& a, const std::string& what) {
      if (!c.equal(a.topic_partitions.size(), size_t{1}, what + " topics")) return;
      const auto& tp = a.topic_partitions[0];
      c.equal(tp.topic_id, data_id_, what + " TopicId");
      c.equal(tp.topic_name, data_, what + " TopicName");
      std::vector<int32_t> got = tp.partitions;
      std::sort(got.begin(), got.end());
      c.that(got == partitions, what + " Partitions are not the ones ConsumerGroupHeartbeat assigned");
    };
    for (int16_t v : versions<proto::ConsumerGroupDescribeRequest>()) {
      Check c = check<proto::ConsumerGroupDescribeRequest>(v, "consumer group " + g);
      proto::ConsumerGroupDescribeRequest req;
      req.group_ids = {g};
      req.include_authorized_operations = true;
      auto r = call(c, req, node);
      if (!r || !c.equal(r->groups.size(), size_t{1}, "Groups")) continue;
      const auto& d = r->groups[0];
      c.equal(d.group_id, g, "GroupId");
      if (!c.code(d.error_code, NONE, "ErrorCode")) continue;
      c.equal(d.group_state, std::string("Stable"), "GroupState");
      c.that(d.group_epoch >= 1, "GroupEpoch " + std::to_string(d.group_epoch));
      c.equal(d.assignment_epoch, d.group_epoch, "AssignmentEpoch (the group epoch, once assigned)");
      c.that(!d.assignor_name.empty(), "no AssignorName");
      c.that(d.authorized_operations != INT_MIN, "no AuthorizedOperations, though asked for");
      if (!c.equal(d.members.size(), size_t{1}, "Members")) continue;
      const auto& m = d.members[0];
      c.equal(m.member_id, member, "MemberId");
      c.equal(m.member_epoch, epoch, "MemberEpoch");
      c.equal(m.instance_id, std::optional<std::string>(), "InstanceId");
      c.equal(m.client_id, options_.client_id, "ClientId");
      c.that(!m.client_host.empty(), "no ClientHost");
      c.that(m.subscribed_topic_names == std::vector<std::string>{data_},
             "SubscribedTopicNames are not the data topic alone");
      // Kafka 4.4 answers "" where the member has none; the schema's default is null.
      c.that(m.subscribed_topic_regex.value_or("").empty(),
             "SubscribedTopicRegex " + show(m.subscribed_topic_regex) + " for a member subscribed by name");
      check_assignment(c, m.assignment, "Assignment");
      check_assignment(c, m.target_assignment, "TargetAssignment");
      if (v >= 1) c.equal(m.member_type, Resp::kMemberTypeConsumer, "MemberType");
    }
  }

  // Kafka 3.9 with its consumer group protocol off (its default) advertises ConsumerGroupDescribe and
  // answers every group with UNSUPPORTED_VERSION: the exchange conformed, there is nothing more to check.
  bool consumer_protocol_off(Check& c, int16_t code) {
    if (code != UNSUPPORTED_VERSION) return false;
    matrix_.annotate(c.key(), c.version(),
                     "the broker answers UNSUPPORTED_VERSION (35): its consumer group protocol (KIP-848) is "
                     "off; request and response conform");
    return true;
  }

  // A group that does not exist: GROUP_ID_NOT_FOUND, and the one asked for comes back by name.
  void consumer_group_describe_unknown() {
    const std::string g = group("no-such-group");
    for (int16_t v : versions<proto::ConsumerGroupDescribeRequest>()) {
      Check c = check<proto::ConsumerGroupDescribeRequest>(v, "a group that does not exist");
      proto::ConsumerGroupDescribeRequest req;
      req.group_ids = {g};
      if (auto r = call(c, req, coordinator(g)); r && c.equal(r->groups.size(), size_t{1}, "Groups")) {
        c.equal(r->groups[0].group_id, g, "GroupId");
        if (consumer_protocol_off(c, r->groups[0].error_code)) continue;
        c.code(r->groups[0].error_code, GROUP_ID_NOT_FOUND, "ErrorCode");
        c.that(r->groups[0].members.empty(), "members of a group that does not exist");
      }
    }
  }

  // ---- state ------------------------------------------------------------------------------------------

  asio::io_context io_;
  std::string run_id_;
  net::ConnectionOptions options_;
  std::string where_;
  bool read_only_ = false;
  std::string label_;
  std::set<int16_t> only_;
  std::vector<std::string> bad_only_;
  std::set<int16_t> skipped_;       // APIs a read-only run could not test without changing something
  std::vector<std::string> flows_;  // the FlowScopes alive
  std::pair<std::string, uint16_t> bootstrap_;
  std::map<int32_t, std::pair<std::string, uint16_t>> addrs_;
  std::map<int32_t, std::shared_ptr<net::Connection>> conns_;
  std::map<int16_t, net::VersionRange> broker_;
  std::map<std::string, int32_t> coordinators_;
  Matrix matrix_;
  std::vector<std::string> stage_errors_;
  std::set<std::string> notes_;
  std::string setup_error_;
  double elapsed_ = 0;
  int requests_ = 0;
  int64_t records_compared_ = 0;
  int16_t metadata_version_ = -1;
  int16_t transaction_version_ = 0;  // the broker's finalized transaction.version (none: 0)

  std::string data_, zstd_;
  proto::Uuid data_id_, zstd_id_;
  int32_t data_partitions_ = kPartitions;
  bool has_offsets_topic_ = false;
  std::map<int32_t, int64_t> log_start_, log_end_;  // read-only: the data topic's bounds at the start
  bool data_internal_ = false;
  std::map<std::string, proto::Uuid> ids_;
  std::map<int16_t, std::string> delete_topics_;
  std::vector<std::string> created_;
  std::set<std::string> deleted_;
  std::vector<std::string> topics_left_;
  std::vector<std::string> groups_left_;
  std::string cluster_id_;  // as Metadata gave it
  std::string grow_, records_;
  proto::Uuid records_id_;
  int32_t records_leader_ = -1;
  std::vector<int32_t> grow_replicas_;
  int32_t grow_partitions_ = 1;
  std::map<int32_t, int32_t> leaders_, leader_epochs_;
  int32_t zstd_leader_ = -1;
  std::array<std::vector<ExpectedRecord>, kPartitions> expected_;
  std::vector<ExpectedRecord> expected_zstd_;
  std::string txn_topic_;
  proto::Uuid txn_topic_id_;
  std::map<int32_t, int32_t> txn_leaders_;
  std::array<int64_t, kTxnPartitions> txn_end_{};  // the log end of each partition
  std::array<int64_t, kTxnPartitions> txn_committed_offsets_{-1,
                                                             -1};  // the group's, as OffsetFetch must show
  std::vector<TxnWritten> txn_written_;
  bool pending_offsets_checked_ = false;
  // Record timestamps: ten minutes in the past, 10 ms apart, so that ListOffsets by timestamp has a unique
  // answer and the broker's timestamp bounds are never near.
  int64_t next_timestamp_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count() -
                            600000;
};

Result Suite::result() const {
  Result out;
  out.bootstrap = where_;
  out.label = label_;
  out.run_id = run_id_;
  if (options_.sasl) out.security = "SASL " + options_.sasl->mechanism;
  if (options_.tls) out.security += std::string(out.security.empty() ? "" : " ") + "TLS";
  out.read_only = read_only_;
  out.metadata_version = metadata_version_;
  out.seconds = elapsed_;
  out.requests = requests_;
  out.records_compared = records_compared_;
  proto::for_each_api([&](auto api) {
    using Req = typename decltype(api)::request;
    const int16_t key = Req::api_key;
    if (!reported(key)) {
      out.skipped.emplace_back(proto::api_name(key));
      return;
    }
    out.columns = std::max<int>(out.columns, Req::max_version);
    if (auto it = broker_.find(key); it != broker_.end())
      out.columns = std::max<int>(out.columns, it->second.max);
  });
  proto::for_each_api([&](auto api) {
    using Req = typename decltype(api)::request;
    const int16_t key = Req::api_key;
    if (!reported(key)) return;
    ApiRow row;
    row.key = key;
    row.name = std::string(proto::api_name(key));
    row.min_version = Req::min_version;
    row.max_version = Req::max_version;
    auto it = broker_.find(key);
    if (it != broker_.end()) row.broker = std::make_pair(it->second.min, it->second.max);
    for (int v = 0; v <= out.columns; ++v) {
      CellResult cell;
      cell.version = static_cast<int16_t>(v);
      const bool we = v >= Req::min_version && v <= Req::max_version;
      const bool they = row.broker && v >= row.broker->first && v <= row.broker->second;
      if (we && they) {
        const auto* m = matrix_.find(key, cell.version);
        if (!m || !m->tested) {
          cell.state = State::untested;
        } else {
          cell.failures = m->failures;
          cell.failure_count = m->failure_count;
          cell.notes = m->notes;
          cell.state = m->failure_count > 0 ? State::failed : m->notes.empty() ? State::ok : State::noted;
        }
      } else if (we) {
        cell.state = State::not_served;
      } else if (they) {
        cell.state = State::not_spoken;
      }
      row.cells.push_back(std::move(cell));
    }
    out.apis.push_back(std::move(row));
  });
  for (const auto& [name, m] : matrix_.flows()) {
    FlowRow f;
    f.name = name;
    f.failures = m.failures;
    f.failure_count = m.failure_count;
    f.notes = m.notes;
    f.state = m.failure_count > 0 ? State::failed : m.notes.empty() ? State::ok : State::noted;
    out.flows.push_back(std::move(f));
  }
  // Grouped by kind, each kind in the order it ran: groups, fetching, codecs, misuse.
  auto kind = [](const std::string& name) {
    for (int i = 0; const char* prefix :
                    {"classic", "KIP-848", "fetch session", "produce/fetch", "transactions", "misuse"}) {
      if (name.rfind(prefix, 0) == 0) return i;
      ++i;
    }
    return 6;
  };
  std::stable_sort(out.flows.begin(), out.flows.end(),
                   [&](const FlowRow& a, const FlowRow& b) { return kind(a.name) < kind(b.name); });
  out.setup_error = setup_error_;
  out.stage_errors = stage_errors_;
  out.notes.assign(notes_.begin(), notes_.end());
  out.topics_left = topics_left_;
  out.groups_left = groups_left_;
  return out;
}

}  // namespace

Result run(const Options& options) {
  Suite suite(options);
  suite.run();
  return suite.result();
}

std::vector<std::string> api_names() {
  std::vector<std::string> out;
  proto::for_each_api([&](auto api) { out.emplace_back(proto::api_name(decltype(api)::key)); });
  return out;
}

}  // namespace kafkawire::conformance
