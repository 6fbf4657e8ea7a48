// The partition buffer (consumer/partition_buffer.hpp): buffered and prefetched data, generations that
// drop stale answers, the queued.max.messages.kbytes bound, and records valid until the next poll. Answers
// come from a FetchSession fed scripted responses, as in the Consumer.
#include <catch2/catch.hpp>

#include "kafkawire/consumer/fetch_session.hpp"
#include "kafkawire/consumer/partition_buffer.hpp"
#include "support/fetch_script.hpp"

using namespace kafkawire;
using namespace kafkawire::fetch;
using kafkawire::testing::batches;
using kafkawire::testing::response;
using kafkawire::testing::topic_uuid;
namespace proto = kafkawire::protocol;

namespace {

// One partition ("t", 0) with its session: fetch() plays one Fetch round trip for it.
struct Rig {
  BufferLedger ledger;
  PartitionBuffer buffer{{"t", 0}, ledger};
  FetchSession session;
  std::vector<kafkawire::testing::Received> answers;  // frames stay alive like the Connection's

  Rig() { ledger.check_crcs = true; }

  // Plans a Fetch as the Consumer would (only when wanted), and answers it with `records`.
  Taken fetch(std::vector<uint8_t> records) {
    REQUIRE(buffer.wants_fetch());
    const auto from = buffer.next_fetch_offset();
    REQUIRE(from);
    session.plan({WantedPartition{{"t", 0}, topic_uuid(1), *from, 0, buffer.generation()}}, 16);
    return answer(std::move(records));
  }
  Taken answer(std::vector<uint8_t> records) {
    answers.push_back(response(16, 1, {{"t", 0, 0, std::move(records)}}));
    const FetchResult r = session.on_response(answers.back().message);
    REQUIRE(r.partitions.size() == 1);
    return buffer.take(r.partitions[0], answers.back().frame);
  }
  std::vector<int64_t> poll(size_t max = 1000) {
    ledger.retired.clear();
    buffer.poll_started();
    out.clear();
    REQUIRE_FALSE(buffer.drain(out, max));
    std::vector<int64_t> offsets;
    for (const Record& r : out) offsets.push_back(r.offset());
    return offsets;
  }
  std::vector<Record> out;
};

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> v;
  for (int64_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

}  // namespace

TEST_CASE("partition buffer: no position, no fetch; seek sets where the next Fetch starts",
          "[partition_buffer]") {
  BufferLedger ledger;
  PartitionBuffer b({"t", 3}, ledger);
  CHECK_FALSE(b.position());
  CHECK_FALSE(b.wants_fetch());
  CHECK_FALSE(b.next_fetch_offset());
  b.seek(42);
  CHECK(b.wants_fetch());
  CHECK(b.next_fetch_offset() == 42);
  b.fetch_started();
  CHECK_FALSE(b.wants_fetch());  // one Fetch at a time per partition
  b.fetch_finished();
  b.set_paused(true);
  CHECK_FALSE(b.wants_fetch());
  // Every buffer of a ledger gets its own generation, and seek moves it.
  PartitionBuffer other({"t", 4}, ledger);
  CHECK(other.generation() != b.generation());
  const uint64_t g = b.generation();
  b.seek(7);
  CHECK(b.generation() != g);
}

TEST_CASE("partition buffer: records are drained in order, past the batch boundary, up to max",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  REQUIRE(rig.fetch(batches(0, 2, 10)) == Taken::taken);
  CHECK(rig.buffer.log().high_watermark == 1000);
  CHECK(rig.ledger.bytes() > 0);
  CHECK(rig.poll(15) == range(0, 15));
  CHECK(rig.buffer.position() == 15);
  CHECK(rig.buffer.position_epoch() == 3);
  CHECK(rig.out.front().topic() == "t");
  CHECK(rig.out.front().partition() == 0);
  CHECK(rig.out.front().value()->str() == "0");
  CHECK(rig.poll() == range(15, 20));
  CHECK(rig.buffer.position() == 20);
  CHECK_FALSE(rig.buffer.has_buffered());
  CHECK(rig.ledger.bytes() > 0);  // until the next poll: the records point into the frame
  CHECK(rig.poll().empty());
  CHECK(rig.ledger.bytes() == 0);
}

TEST_CASE("partition buffer: a Fetch from the middle of a batch skips the records before the position",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(4);
  REQUIRE(rig.fetch(batches(0, 1, 10)) == Taken::taken);  // the broker returns the whole batch
  CHECK(rig.poll() == range(4, 10));
}

TEST_CASE("partition buffer: one answer ahead, promoted once the buffered data is read",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  REQUIRE(rig.fetch(batches(0, 1, 10)) == Taken::taken);
  CHECK(rig.poll(3) == range(0, 3));
  // Still seven records buffered, and the next Fetch starts after them.
  CHECK(rig.buffer.wants_fetch());
  CHECK(rig.buffer.next_fetch_offset() == 10);
  REQUIRE(rig.fetch(batches(10, 1, 10)) == Taken::taken);
  CHECK(rig.buffer.has_prefetched());
  CHECK_FALSE(rig.buffer.wants_fetch());  // one answer ahead only
  CHECK(rig.buffer.next_fetch_offset() == 20);
  // One poll crosses from the buffered into the prefetched data.
  CHECK(rig.poll(12) == range(3, 15));
  CHECK_FALSE(rig.buffer.has_prefetched());
  CHECK(rig.buffer.wants_fetch());
  CHECK(rig.buffer.next_fetch_offset() == 20);
  CHECK(rig.poll() == range(15, 20));
  rig.ledger.retired.clear();
  CHECK(rig.ledger.bytes() == 0);
}

TEST_CASE("partition buffer: seek drops buffered and prefetched data and the answer in flight",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  REQUIRE(rig.fetch(batches(0, 1, 10)) == Taken::taken);
  REQUIRE(rig.fetch(batches(10, 1, 10)) == Taken::taken);
  CHECK(rig.poll(2) == range(0, 2));
  // A Fetch from 20 is out when the application seeks.
  rig.session.plan({WantedPartition{{"t", 0}, topic_uuid(1), 20, 0, rig.buffer.generation()}}, 16);
  rig.buffer.seek(25);
  rig.ledger.retired.clear();
  CHECK(rig.ledger.bytes() == 0);
  CHECK_FALSE(rig.buffer.has_buffered());
  CHECK_FALSE(rig.buffer.has_prefetched());
  CHECK(rig.answer(batches(20, 1, 10)) == Taken::dropped);
  CHECK(rig.ledger.bytes() == 0);
  REQUIRE(rig.fetch(batches(20, 1, 10)) == Taken::taken);
  CHECK(rig.poll() == range(25, 30));
}

TEST_CASE("partition buffer: queued.max.messages.kbytes bounds fetching ahead, never the first Fetch",
          "[partition_buffer]") {
  Rig rig;
  rig.ledger.max_bytes = 100;  // below one batch
  rig.buffer.seek(0);
  REQUIRE(rig.buffer.wants_fetch());  // nothing buffered: always
  REQUIRE(rig.fetch(batches(0, 1, 10)) == Taken::taken);
  CHECK(rig.ledger.bytes() > rig.ledger.max_bytes);
  CHECK_FALSE(rig.buffer.wants_fetch());
  CHECK(rig.poll(5) == range(0, 5));
  CHECK_FALSE(rig.buffer.wants_fetch());
  CHECK(rig.poll() == range(5, 10));
  CHECK(rig.buffer.wants_fetch());
  CHECK(rig.buffer.next_fetch_offset() == 10);
}

TEST_CASE("partition buffer: paused partitions deliver nothing and resume where they stood",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  REQUIRE(rig.fetch(batches(0, 1, 10)) == Taken::taken);
  CHECK(rig.poll(4) == range(0, 4));
  rig.buffer.set_paused(true);
  CHECK(rig.poll().empty());
  CHECK_FALSE(rig.buffer.wants_fetch());
  rig.buffer.set_paused(false);
  CHECK(rig.poll() == range(4, 10));
}

TEST_CASE("partition buffer: records stay valid until the next poll when their data is dropped",
          "[partition_buffer]") {
  for (const auto compression : {proto::Compression::none, proto::Compression::zstd}) {
    DYNAMIC_SECTION("compression " << static_cast<int>(compression)) {
      Rig rig;
      rig.buffer.seek(0);
      REQUIRE(rig.fetch(batches(0, 2, 10, compression)) == Taken::taken);
      rig.answers.clear();  // only the buffer holds the frame now
      CHECK(rig.poll(15) == range(0, 15));
      // Records point into the frame, or (zstd) into one decompression buffer per batch of this poll.
      rig.buffer.seek(100);
      CHECK(rig.ledger.retired.size() == 1);
      for (const Record& r : rig.out) CHECK(r.value()->str() == std::to_string(r.offset()));  // ASan checks
      // The next poll lets the frame go.
      rig.poll();
      CHECK(rig.ledger.retired.empty());
    }
  }
}

TEST_CASE("partition buffer: a compressed batch being read keeps its buffer across polls",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  REQUIRE(rig.fetch(batches(0, 3, 10, proto::Compression::zstd)) == Taken::taken);
  CHECK(rig.poll(5) == range(0, 5));
  CHECK(rig.poll(10) == range(5, 15));
  for (const Record& r : rig.out) CHECK(r.value()->str() == std::to_string(r.offset()));
  CHECK(rig.poll() == range(15, 30));
}

TEST_CASE("partition buffer: a corrupt batch fails the drain with its offset and drops the data",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  std::vector<uint8_t> records = batches(0, 2, 10);
  records[records.size() - 3] ^= 0xff;  // inside the second batch's records: its CRC no longer matches
  REQUIRE(rig.fetch(records) == Taken::taken);
  rig.buffer.poll_started();
  std::vector<Record> out;
  int64_t where = -1;
  const std::error_code ec = rig.buffer.drain(out, 100, &where);
  CHECK(ec == client_errc::crc_mismatch);
  CHECK(where == 10);
  CHECK(out.size() == 10);  // the first batch was good
  CHECK_FALSE(rig.buffer.has_buffered());
  rig.ledger.retired.clear();
  CHECK(rig.ledger.bytes() == 0);
  CHECK(rig.buffer.position() == 10);
}

TEST_CASE("partition buffer: an empty answer updates the log bounds and buffers nothing",
          "[partition_buffer]") {
  Rig rig;
  rig.buffer.seek(0);
  CHECK(rig.fetch({}) == Taken::taken);
  CHECK(rig.buffer.log().high_watermark == 1000);
  CHECK_FALSE(rig.buffer.has_buffered());
  CHECK(rig.buffer.wants_fetch());
  CHECK(rig.buffer.next_fetch_offset() == 0);
}

namespace {

// Two partitions ("t", 0) and ("t", 1) answered by one Fetch, as the Consumer sees them.
struct TwoPartitions {
  BufferLedger ledger;
  PartitionBuffer p0{{"t", 0}, ledger};
  PartitionBuffer p1{{"t", 1}, ledger};
  FetchSession session;
  std::vector<kafkawire::testing::Received> answers;

  TwoPartitions() {
    p0.seek(0);
    p1.seek(0);
  }
  // One Fetch for both, answered with these records; returns the frame's size.
  size_t fetch(std::vector<uint8_t> r0, std::vector<uint8_t> r1) {
    session.plan({WantedPartition{{"t", 0}, topic_uuid(1), *p0.next_fetch_offset(), 0, p0.generation()},
                  WantedPartition{{"t", 1}, topic_uuid(1), *p1.next_fetch_offset(), 0, p1.generation()}},
                 16);
    answers.push_back(response(16, 1, {{"t", 0, 0, std::move(r0)}, {"t", 1, 0, std::move(r1)}}));
    const FetchResult r = session.on_response(answers.back().message);
    REQUIRE(r.partitions.size() == 2);
    for (const PartitionOutcome& o : r.partitions)
      REQUIRE((o.asked->tp.partition == 0 ? p0 : p1).take(o, answers.back().frame) == Taken::taken);
    return answers.back().frame->capacity();
  }
  size_t drain(PartitionBuffer& b, size_t max = 1000) {
    out.clear();
    b.poll_started();
    REQUIRE_FALSE(b.drain(out, max));
    return out.size();
  }
  std::vector<Record> out;
};

}  // namespace

TEST_CASE("partition buffer: the ledger counts a Fetch answer's frame once, until its last holder lets go",
          "[partition_buffer]") {
  TwoPartitions t;
  const size_t frame = t.fetch(batches(0, 1, 10), batches(0, 1, 10));
  CHECK(t.ledger.bytes() == frame);  // once, though two partitions hold it
  CHECK(t.ledger.ready == 2);
  CHECK(t.drain(t.p0) == 10);
  t.ledger.retired.clear();
  CHECK(t.ledger.bytes() == frame);  // partition 1 still reads from it
  CHECK(t.drain(t.p1) == 10);
  CHECK(t.ledger.ready == 0);
  CHECK(t.ledger.bytes() == frame);  // the records of this poll point into it
  t.ledger.retired.clear();
  CHECK(t.ledger.bytes() == 0);
  // The next answer arrives in a new frame (or the same memory, recycled): counted again.
  const size_t next = t.fetch(batches(10, 1, 5), {});
  CHECK(t.ledger.bytes() == next);
}

TEST_CASE("partition buffer: at the bound no partition is fetched, buffered or not, until room is freed",
          "[partition_buffer]") {
  TwoPartitions t;
  t.fetch(batches(0, 1, 10), {});  // partition 1 is at the end of its log
  REQUIRE(t.p0.has_buffered());
  REQUIRE_FALSE(t.p1.has_buffered());
  CHECK(t.p0.wants_fetch());  // under the bound: fetch ahead
  CHECK(t.p1.wants_fetch());
  t.ledger.max_bytes = t.ledger.bytes();
  CHECK_FALSE(t.p0.wants_fetch());
  CHECK_FALSE(t.p1.wants_fetch());  // records to drain: the application frees room
  CHECK(t.drain(t.p0) == 10);
  // Drained; the frame is kept for this poll's records, and nothing is left to drain: move on.
  CHECK(t.ledger.bytes() == t.ledger.max_bytes);
  CHECK(t.p0.wants_fetch());
  CHECK(t.p1.wants_fetch());
  // ... unless a Fetch is out: its answer brings records to drain.
  const int32_t asked = t.ledger.fetch_started(1 << 20, 1 << 16, 2);
  CHECK_FALSE(t.p1.wants_fetch());
  t.ledger.fetch_finished(asked);
  CHECK(t.p1.wants_fetch());
  t.ledger.retired.clear();
  CHECK(t.ledger.has_room());
}

TEST_CASE("partition buffer: paused partitions holding the bound do not hold back the others",
          "[partition_buffer]") {
  TwoPartitions t;
  t.fetch(batches(0, 1, 10), {});
  t.ledger.max_bytes = t.ledger.bytes();
  CHECK_FALSE(t.p1.wants_fetch());
  t.p0.set_paused(true);
  CHECK(t.ledger.ready == 0);
  CHECK(t.p1.wants_fetch());  // what holds the bytes waits for the application, not for a poll
  CHECK_FALSE(t.p0.wants_fetch());
  t.p0.set_paused(false);
  CHECK(t.ledger.ready == 1);
  CHECK_FALSE(t.p1.wants_fetch());
  CHECK(t.drain(t.p0) == 10);
}

TEST_CASE("partition buffer: a Fetch asks for the room left under the bound, reserved until answered",
          "[partition_buffer]") {
  BufferLedger ledger;
  ledger.max_bytes = 1000;
  CHECK(ledger.fetch_started(600, 100, 10) == 600);  // fetch.max.bytes is the most
  CHECK(ledger.reserved() == 600);
  CHECK(ledger.has_room());
  CHECK(ledger.fetch_started(600, 100, 10) == 400);  // the room left
  CHECK_FALSE(ledger.has_room());
  CHECK(ledger.fetch_started(600, 100, 10) == 100);  // at least max.partition.fetch.bytes
  CHECK(ledger.reserved() == 1100);
  ledger.fetch_finished(600);
  ledger.fetch_finished(400);
  ledger.fetch_finished(100);
  CHECK(ledger.reserved() == 0);
  CHECK(ledger.fetch_started(2000, 100, 20) == 1000);
  ledger.fetch_finished(1000);
  CHECK(ledger.fetch_started(2000, 100, 3) == 300);  // no more than 3 partitions can bring
  ledger.fetch_finished(300);
}

TEST_CASE("partition buffer: arrival() orders buffered data by the answer it came in, prefetched data too",
          "[partition_buffer]") {
  TwoPartitions t;
  t.fetch(batches(0, 1, 10), batches(0, 1, 10));
  CHECK(t.p0.arrival() == t.p1.arrival());  // one answer
  CHECK(t.drain(t.p1, 5) == 5);
  t.fetch({}, batches(10, 1, 10));  // partition 1 fetched ahead
  REQUIRE(t.p1.has_prefetched());
  CHECK(t.drain(t.p1, 10) == 10);  // into the prefetched data: newer than partition 0's
  CHECK(t.p0.arrival() < t.p1.arrival());
}
