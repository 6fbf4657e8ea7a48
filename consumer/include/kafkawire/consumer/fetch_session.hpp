// Fetching, as sans-IO parts. Start here to understand how the consumer reads its partitions.
//
// The consumer reads with Fetch requests: one in flight per leader broker, on a connection of its own (never
// behind group traffic), for all of that broker's partitions that want data. Three parts:
//
//   FetchSession (this file), one per broker. From the partitions the next Fetch should read (positions,
//     leader epochs, topic ids) and the KIP-227 session state: the next FetchRequest, at the negotiated
//     version. From its FetchResponse: one PartitionOutcome per partition (records to buffer and the log's
//     new bounds, or an error and what to do about it) and what happens to the session.
//   PartitionBuffer (partition_buffer.hpp), one per assigned partition: its position, the records fetched
//     and not yet polled, one answer fetched ahead (prefetch), the generation that tells a current answer
//     from a stale one, and the queued.max.messages.kbytes bound all partitions share.
//   The Consumer (consumer/src/fetch_driver.cpp) only carries their decisions out: it opens connections,
//     sends the planned request, hands the answer back, refreshes metadata, looks positions up.
//
// No sockets, no clocks, no threads here: tests/unit/test_fetch_session.cpp steps a session through every
// error path with scripted responses. One round, as the Consumer drives it:
//
//   1. For a leader without a Fetch in flight, every partition whose buffer wants_fetch():
//        WantedPartition{tp, topic id, buffer.next_fetch_offset(), leader epoch, buffer.generation()}
//   2. auto planned = session.plan(wanted, negotiated_version);   send planned.request at planned.version
//   3. The answer: FetchResult r = session.on_response(response);  an I/O error: session.on_failure()
//   4. r.action: proceed (below), restart (fetch again at once: the next plan() is a full fetch), or fail
//      (deliver r.ec from the next poll). r.refresh_metadata: look the topics up again.
//   5. Every outcome: apply its leader hint to the metadata, then buffer.take(outcome, frame) says what is
//      left to do (nothing, refresh metadata, look the position up per auto.offset.reset, or fail).
//
// Fetch sessions (KIP-227, Fetch v7+). (SessionId, SessionEpoch) on the request:
//   (0, -1)  below v7: no session, every Fetch names every partition.
//   (0, 0)   a full fetch that asks the broker to open a session; the answer carries its id.
//   (id, n)  incremental, n = 1, 2, ... wrapping from INT32_MAX to 1: only the partitions whose fetch
//            offset, leader epoch or topic id changed, and ForgottenTopicsData for those no longer wanted.
//            The broker answers only for partitions with news (records, or a moved high watermark).
//   (id, -1) closes the session (close()).
// The session state moves only when an answer arrives: a failed request (on_failure) or a top-level error
// forgets the session, and the next plan() is a full fetch that opens a new one. So does a change between
// topic names and topic ids (a session holds one or the other).
//
// Versions: the caller passes the highest version both sides speak. Topic ids replace names from v13 on;
// when any wanted partition's topic id is unknown the Fetch is sent at v12 (as Java's client does). Leader
// epochs go out from v9 on (KIP-320); CurrentLeader hints (KIP-951) come back from v12 on, NodeEndpoints
// (where the new leader listens) from v16 on.
//
// What an error means (fetch_partition_action(), one place):
//   OFFSET_OUT_OF_RANGE                  reset_offset: look the position up per auto.offset.reset
//                                        (earliest -2, latest -1); with none, fail with
//                                        client_errc::no_offset. A prefetch meeting it is dropped: the
//                                        records buffered before it come first, and the Fetch after them
//                                        meets the error again.
//   NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH, LEADER_NOT_AVAILABLE,
//   REPLICA_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID, INCONSISTENT_TOPIC_ID,
//   KAFKA_STORAGE_ERROR, OFFSET_NOT_AVAILABLE, and any other error Kafka calls retriable
//                                        refresh_metadata: the position is kept, the partition is
//                                        fetched again from its (maybe new) leader.
//   anything else (TOPIC_AUTHORIZATION_FAILED, ...)   fail: the typed kafka_errc error, from the next poll.
// A partition refused with refresh_metadata waits for new metadata (as Java's fetcher does): the session
// holds it back, plan() leaves it out (an incremental Fetch forgets it on the broker) until
// on_metadata_updated() or a wanted leader epoch other than the one refused, and the result asks the
// caller to back off (retry.backoff.ms) before this broker's next Fetch. Without that, a broker answering
// FENCED_LEADER_EPOCH at once is asked again at once, thousands of times a second.
// Top-level errors (v7+): FETCH_SESSION_ID_NOT_FOUND and INVALID_FETCH_SESSION_EPOCH: restart with a full
// fetch; FETCH_SESSION_TOPIC_ID_ERROR, UNKNOWN_TOPIC_ID, INCONSISTENT_TOPIC_ID: restart and refresh
// metadata; anything else: fail. An answer for a topic id this session did not ask for: refresh metadata.
//
// Lifetimes: each outcome's `asked` and the `partitions` span live in the session until its next plan();
// `node_endpoints`, `records` and `aborted` point into the response, which points into the received frame:
// PartitionBuffer::take() keeps that frame alive for as long as it buffers the records.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <system_error>
#include <vector>

#include "kafkawire/consumer/config.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/protocol/error.hpp"
#include "kafkawire/protocol/fetch.hpp"

namespace kafkawire::fetch {

// The settings every Fetch of a consumer carries (from its Config).
struct SessionConfig {
  int32_t max_wait_ms = 500;              // fetch.max.wait.ms
  int32_t min_bytes = 1;                  // fetch.min.bytes
  int32_t max_bytes = 52428800;           // fetch.max.bytes
  int32_t partition_max_bytes = 1048576;  // max.partition.fetch.bytes
  int8_t isolation_level = 0;             // isolation.level: 0 read_uncommitted, 1 read_committed
  OffsetReset auto_offset_reset = OffsetReset::latest;
};

// One partition the next Fetch should read.
struct WantedPartition {
  TopicPartition tp;
  protocol::Uuid topic_id;            // zero when the metadata has none: the Fetch then goes out at v12
  int64_t fetch_offset = 0;           // PartitionBuffer::next_fetch_offset()
  int32_t current_leader_epoch = -1;  // from the metadata (KIP-320): a leader on another epoch refuses
  uint64_t generation = 0;            // PartitionBuffer::generation(), handed back with the answer
};

struct PlannedFetch {
  protocol::FetchRequest request;
  int16_t version = 0;       // what to send it at: the negotiated version, or 12 without topic ids
  bool incremental = false;  // request.topics holds only what changed since the session's last Fetch
  // Every wanted partition waits for metadata: send nothing (the session has nothing in flight).
  bool nothing_to_fetch = false;
};

enum class PartitionAction : uint8_t {
  buffer,            // no error: records (maybe none) and the log's new bounds
  refresh_metadata,  // the leader moved or is not known here: look it up again; the position is kept
  reset_offset,      // OFFSET_OUT_OF_RANGE: look the position up again (reset_timestamp)
  fail,              // hand `ec` to the application from its next poll
};
std::string_view to_string(PartitionAction a);

// KIP-951: the leader a broker names when it refuses (v12+ partition tag CurrentLeader).
struct LeaderHint {
  int32_t leader_id = -1;
  int32_t leader_epoch = -1;
};

struct PartitionOutcome {
  const WantedPartition* asked = nullptr;  // what this answers (tp, fetch offset, generation)
  PartitionAction action = PartitionAction::buffer;
  kafka_errc error = kafka_errc::none;  // the partition's error code, as the broker sent it
  std::error_code ec;                   // fail: what to report (a kafka_errc, or client_errc::no_offset)
  int64_t reset_timestamp = 0;          // reset_offset: the ListOffsets timestamp, -2 earliest or -1 latest
  // buffer: the log's bounds and the record batches (views into the response; may be empty). The last
  // batch may be cut short by the broker's size limit: the buffer reads up to the last complete one.
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  protocol::Bytes records;
  // read_committed: the aborted transactions among the records (nullptr otherwise).
  const std::vector<protocol::FetchResponse::AbortedTransaction>* aborted = nullptr;
  std::optional<LeaderHint> leader_hint;
};

enum class SessionAction : uint8_t {
  proceed,  // handle the partition outcomes
  restart,  // the broker lost or refused the session: nothing to handle; fetch again now (a full fetch)
  fail,     // a top-level error: report `ec`; the next Fetch is a full one
};
std::string_view to_string(SessionAction a);

struct FetchResult {
  SessionAction action = SessionAction::proceed;
  std::error_code ec;             // restart and fail: the top-level error
  bool refresh_metadata = false;  // a topic (id) the session does not know, or a topic id error
  // A partition was refused for a stale leader and is held until new metadata: wait retry.backoff.ms
  // before this broker's next Fetch.
  bool back_off = false;
  std::span<const PartitionOutcome> partitions;
  std::span<const protocol::FetchResponse::NodeEndpoint> node_endpoints;  // KIP-951, v16+
};

// What a partition-level Fetch error asks for (the table in this file's comment). `reset` is
// auto.offset.reset: it decides OFFSET_OUT_OF_RANGE.
PartitionAction fetch_partition_action(kafka_errc error, OffsetReset reset);

// The session epoch after `epoch`: 1, 2, ..., INT32_MAX, then 1 again (0 opens a session, -1 closes one).
int32_t next_session_epoch(int32_t epoch);

class FetchSession {
 public:
  explicit FetchSession(SessionConfig config = {}) : config_(config) {}

  // The next Fetch for these partitions (each once). `version`: the highest both sides speak (>= 4).
  // `max_bytes`: what the whole answer may hold, when less than fetch.max.bytes (the room the consumer's
  // buffer bound leaves: BufferLedger::fetch_started). The session remembers what it asked until the
  // answer (on_response) or a failure (on_failure).
  PlannedFetch plan(std::vector<WantedPartition> wanted, int16_t version,
                    std::optional<int32_t> max_bytes = std::nullopt);
  // The answer to the last plan(). Views in the result live until the next plan().
  FetchResult on_response(const protocol::FetchResponse& response);
  // The request failed (I/O error, timeout, connection closed): a new connection means a new session.
  void on_failure();
  // A Fetch that closes the open session on the broker (SessionEpoch -1, no partitions, no wait);
  // nullopt when none is open. The session is forgotten either way.
  std::optional<PlannedFetch> close(int16_t version);
  // New metadata arrived: the partitions held since a refresh_metadata refusal may be fetched again.
  void on_metadata_updated() { held_.clear(); }
  // True while `tp` waits for metadata after a refusal at this leader epoch (plan() leaves it out).
  bool holds(const TopicPartition& tp, int32_t leader_epoch) const {
    const auto it = held_.find(tp);
    return it != held_.end() && it->second == leader_epoch;
  }

  int32_t id() const { return id_; }        // 0: none open
  int32_t epoch() const { return epoch_; }  // the epoch the next incremental Fetch carries
  bool uses_topic_ids() const { return uses_topic_ids_; }
  size_t size() const { return sent_.size(); }  // partitions the broker's session holds

 private:
  // What the broker's session holds for a partition: what we last sent for it.
  struct Sent {
    int64_t fetch_offset = 0;
    int32_t leader_epoch = -1;
    protocol::Uuid topic_id;
  };
  // A topic of the Fetch in flight: its partitions are asked_[begin, end).
  struct AskedTopic {
    size_t begin = 0, end = 0;
  };
  void forget();
  const AskedTopic* find_topic(const protocol::FetchResponse::FetchableTopicResponse& t,
                               int16_t version) const;
  const WantedPartition* find_partition(const AskedTopic& topic, int32_t partition) const;
  void add_partition(protocol::FetchRequest& req, const WantedPartition& w) const;

  SessionConfig config_;
  int32_t id_ = 0;
  int32_t epoch_ = 0;
  bool uses_topic_ids_ = false;
  std::map<TopicPartition, Sent> sent_;
  // The Fetch in flight: what it asked (sorted by topic and partition), at which version, incremental?
  std::vector<WantedPartition> asked_;
  std::vector<AskedTopic> asked_topics_;
  int16_t version_ = -1;
  bool incremental_ = false;
  std::vector<PartitionOutcome> outcomes_;  // reused from answer to answer
  // Partitions refused with refresh_metadata -> the leader epoch they were refused at.
  std::map<TopicPartition, int32_t> held_;
};

}  // namespace kafkawire::fetch
