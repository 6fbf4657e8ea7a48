// One assigned partition's place in the fetch pipeline: its position, the records fetched and not yet
// polled, one answer fetched ahead, and the generation that tells current answers from stale ones. Pure:
// no I/O. How it fits with the fetch session and the Consumer: fetch_session.hpp.
//
// Buffered and prefetched. A Fetch answered from the position becomes the buffered data, which drain()
// hands out record by record. While that is being polled, the partition is fetched again from the offset
// after its last complete batch (next_fetch_offset()): one answer ahead, kept as the prefetched data, which
// becomes the buffered data once the buffered data is read to the end and the position stands where the
// prefetched data starts. A truncated last batch (the broker's cut at its size limit) is not buffered: the
// next Fetch starts at it and gets it whole.
//
// Generations. seek(), a reset, a read error and letting the partition go (discard()) move the
// generation. An answer asked at another generation, or from another offset than next_fetch_offset() is
// now, belongs to a position left meanwhile: take() drops it.
//
// The bound (queued.max.messages.kbytes). A Fetch answer's frame is one block of memory shared by every
// partition it answers, alive until the last of them is read (the reason a count of record bytes
// underestimates). So every buffer of a consumer shares one BufferLedger, which counts the frames the
// buffers hold (each once, at its size, until the last holder lets go, the `retired` list included) plus
// the bytes the Fetches in flight may bring (each Fetch's max_bytes). Any partition, buffered or not, is
// fetched only while that sum is under the bound, and a Fetch asks for no more than the room left (but at
// least max.partition.fetch.bytes): memory stays within the bound plus one partition's worth. One exception
// keeps the consumer moving: when no Fetch is out and no partition has records to drain (the bytes are
// held by paused partitions, or by the last poll's records), a partition with nothing buffered is fetched.
// The Consumer drains the oldest answer first (arrival(); the partitions of one answer in turn), so a
// frame is let go of soon after it came.
//
// Lifetimes. drain()'s records point into the buffered frame, into this buffer's decompression buffers and
// at topic_partition(). They stay valid until the next poll: a frame the buffer lets go of moves to the
// ledger's `retired` list (the consumer clears it when the next poll starts), decompression buffers are
// reused only from poll_started() on, and the consumer keeps a buffer it lets go of until the next poll.
// Nothing is allocated per record, nor per batch once the decompression buffers have grown.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include "kafkawire/consumer/fetch_session.hpp"
#include "kafkawire/consumer/record.hpp"
#include "kafkawire/group/topic_partition.hpp"
#include "kafkawire/protocol/record_batch.hpp"

namespace kafkawire::fetch {

// The bytes of one Fetch response: shared by the partitions whose records it holds.
using Frame = std::shared_ptr<const std::vector<uint8_t>>;

// What all the buffers of one consumer share, and the bound on the memory they hold.
class BufferLedger {
 public:
  bool check_crcs = true;                   // check.crcs
  bool read_committed = false;              // isolation.level=read_committed
  size_t max_bytes = size_t{65536} * 1024;  // queued.max.messages.kbytes, in bytes
  uint64_t generations = 0;                 // source of every buffer's generation
  uint64_t arrivals = 0;                    // source of arrival(): one per frame hold() counts
  size_t ready = 0;                         // buffers with records to drain (buffered and not paused)
  // Frames let go of while the last poll's records may still point into them; clear when a poll starts.
  std::vector<Frame> retired;

  // Bytes of the frames held by buffers and `retired`, each frame counted once.
  size_t bytes() const { return *held_; }
  // Bytes the Fetches in flight may bring (the sum of their max_bytes).
  size_t reserved() const { return reserved_; }
  bool has_room() const { return bytes() + reserved_ < max_bytes; }
  // The frame, counted in bytes() until its last holder lets go (a copy of it; the same for every
  // partition of one answer).
  Frame hold(const Frame& frame);
  // A Fetch for `partitions` partitions goes out: the max_bytes it may ask for (the room left under the
  // bound, at least `partition_max_bytes`, at most `fetch_max_bytes`), reserved until fetch_finished()
  // with it. It reserves no more than its partitions can bring (partitions x partition_max_bytes).
  int32_t fetch_started(int32_t fetch_max_bytes, int32_t partition_max_bytes, size_t partitions);
  void fetch_finished(int32_t asked);

 private:
  std::shared_ptr<size_t> held_ = std::make_shared<size_t>(0);  // frames may outlive the ledger
  size_t reserved_ = 0;
  // The last frame hold() counted, so the partitions of one answer share one count.
  const std::vector<uint8_t>* last_raw_ = nullptr;
  std::weak_ptr<const std::vector<uint8_t>> last_held_;
};

// What the last Fetch answer said about the partition's log.
struct LogBounds {
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
};

// What take() did with an outcome, and what is left for the consumer to do.
enum class Taken : uint8_t {
  dropped,           // stale (or a prefetch's OFFSET_OUT_OF_RANGE, met again after the buffered data)
  taken,             // records buffered or prefetched (maybe none), log bounds updated
  refresh_metadata,  // look the leader up again; the position is kept
  reset_offset,      // the position is gone: look it up with ListOffsets (outcome.reset_timestamp)
  fail,              // report outcome.ec from the next poll
};

class PartitionBuffer {
 public:
  PartitionBuffer(TopicPartition tp, BufferLedger& ledger);
  PartitionBuffer(const PartitionBuffer&) = delete;  // records point at tp_
  PartitionBuffer& operator=(const PartitionBuffer&) = delete;

  const TopicPartition& topic_partition() const { return tp_; }
  // The next offset to deliver; nullopt: not known (to be looked up).
  std::optional<int64_t> position() const { return position_; }
  // Leader epoch of the batch of the record before position (what a commit carries); -1: none.
  int32_t position_epoch() const { return position_epoch_; }
  const LogBounds& log() const { return log_; }
  uint64_t generation() const { return generation_; }
  bool paused() const { return paused_; }
  void set_paused(bool paused);
  bool has_buffered() const { return buffered_; }
  // Records to drain: buffered and not paused.
  bool ready() const { return buffered_ && !paused_; }
  // Which answer the buffered data came in (BufferLedger::arrivals, the same for all the partitions of
  // one answer): the Consumer drains the oldest first.
  uint64_t arrival() const { return arrival_; }
  bool has_prefetched() const { return next_.valid; }

  // Moves the position (nullopt: unknown). Whatever was buffered, prefetched or asked for is stale.
  void seek(std::optional<int64_t> offset);
  // Drops what is buffered and prefetched and makes answers in flight stale; the position stays.
  void discard();

  // Fetch this partition now? Position known, not paused, no Fetch out, nothing prefetched, and the
  // ledger under its bound (or nothing buffered while the ledger has nothing to drain and no Fetch out).
  bool wants_fetch() const;
  // Where its next Fetch starts: the position, or after the buffered / prefetched data; nullopt when
  // not known (no position, or data whose end is unknown).
  std::optional<int64_t> next_fetch_offset() const;
  void fetch_started() { fetch_in_flight_ = true; }
  void fetch_finished() { fetch_in_flight_ = false; }
  bool fetch_in_flight() const { return fetch_in_flight_; }

  // An outcome from FetchSession::on_response for this partition. `frame` holds the response it points
  // into; it is kept while the records are buffered.
  Taken take(const PartitionOutcome& outcome, const Frame& frame);

  // Call when a poll starts: decompression buffers of the previous poll may be reused.
  void poll_started();
  // Appends buffered records (up to out.size() == max) and moves the position past them. A batch that
  // cannot be read (CRC mismatch, bad compression) returns its error, with its base offset in
  // *error_offset; the buffered data is discarded.
  std::error_code drain(std::vector<Record>& out, size_t max, int64_t* error_offset = nullptr);

 private:
  void drop_buffered();              // the buffered data is read to the end (or stale)
  bool promote_prefetched();         // the prefetched data becomes the buffered data, if it follows on
  void set_buffered(bool buffered);  // keeps the ledger's count of ready buffers
  protocol::ReadOptions read_options() const;

  TopicPartition tp_;
  BufferLedger* ledger_;
  std::optional<int64_t> position_;
  int32_t position_epoch_ = -1;
  LogBounds log_;
  uint64_t generation_ = 0;
  bool paused_ = false;
  bool fetch_in_flight_ = false;
  // The buffered data: the frame it lives in and a reader over it.
  Frame frame_;
  protocol::RecordBatchReader reader_;
  bool buffered_ = false;
  bool in_batch_ = false;      // the reader stands inside a batch (its next record is in that batch)
  int64_t buffered_end_ = -1;  // one past the last complete batch (-1: no complete batch)
  uint64_t arrival_ = 0;
  // The prefetched data: the answer to the Fetch from buffered_end_.
  struct Prefetched {
    bool valid = false;
    Frame frame;
    protocol::Bytes records;
    int64_t from = -1;  // its fetch offset
    int64_t end = -1;   // one past its last complete batch (-1: none)
    uint64_t arrival = 0;
    std::vector<protocol::FetchResponse::AbortedTransaction> aborted;
    bool has_aborted = false;
  } next_;
  // Compressed batches delivered in the current poll decompress into one buffer each (reused across polls).
  std::vector<std::unique_ptr<std::vector<uint8_t>>> scratch_;
  size_t scratch_used_ = 0;
};

}  // namespace kafkawire::fetch
