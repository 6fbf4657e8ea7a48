// The fetch session (consumer/fetch_session.hpp), stepped with scripted Fetch responses: no sockets. Each
// test plays the broker: it reads the planned request as the broker would (encoded at the planned version
// and decoded again), answers it, and checks the outcomes, and where they end up in a PartitionBuffer.
#include <catch2/catch.hpp>

#include <climits>

#include "kafkawire/consumer/fetch_session.hpp"
#include "kafkawire/consumer/partition_buffer.hpp"
#include "support/fetch_script.hpp"

using namespace kafkawire;
using namespace kafkawire::fetch;
using kafkawire::testing::as_sent;
using kafkawire::testing::batches;
using kafkawire::testing::PartAnswer;
using kafkawire::testing::response;
using kafkawire::testing::topic_uuid;
namespace proto = kafkawire::protocol;

namespace {

constexpr int16_t kV = 16;  // what a 4.x broker and this client agree on (NodeEndpoints, topic ids)

SessionConfig session_config(OffsetReset reset = OffsetReset::earliest) {
  SessionConfig c;
  c.max_wait_ms = 500;
  c.min_bytes = 1;
  c.max_bytes = 1 << 20;
  c.partition_max_bytes = 1 << 16;
  c.auto_offset_reset = reset;
  return c;
}

WantedPartition want(int32_t partition, int64_t offset, uint64_t generation = 1, int32_t leader_epoch = 5,
                     std::string topic = "t", uint8_t id = 1) {
  return WantedPartition{{std::move(topic), partition}, topic_uuid(id), offset, leader_epoch, generation};
}

// partition -> fetch offset of every partition a request names, and of what it forgets.
std::map<int32_t, int64_t> offsets(const proto::FetchRequest& req) {
  std::map<int32_t, int64_t> out;
  for (const auto& t : req.topics)
    for (const auto& p : t.partitions) out[p.partition] = p.fetch_offset;
  return out;
}
std::vector<int32_t> forgotten(const proto::FetchRequest& req) {
  std::vector<int32_t> out;
  for (const auto& t : req.forgotten_topics_data)
    out.insert(out.end(), t.partitions.begin(), t.partitions.end());
  return out;
}

// Opens a session (id 42) over partitions 0..n-1 of "t", all at offset 0: the state most tests start from.
FetchSession open_session(int n, SessionConfig config = session_config()) {
  FetchSession s(config);
  std::vector<WantedPartition> w;
  for (int32_t p = 0; p < n; ++p) w.push_back(want(p, 0));
  const auto planned = s.plan(w, kV);
  REQUIRE_FALSE(planned.incremental);
  const auto got = response(planned.version, 42, {});
  REQUIRE(s.on_response(got.message).action == SessionAction::proceed);
  REQUIRE(s.id() == 42);
  REQUIRE(s.epoch() == 1);
  return s;
}

const PartitionOutcome& only(const FetchResult& r) {
  REQUIRE(r.partitions.size() == 1);
  return r.partitions.front();
}

}  // namespace

TEST_CASE(
    "fetch session: a full fetch opens it, then only changed partitions go out, removed ones are forgotten",
    "[fetch_session]") {
  FetchSession s(session_config());
  auto planned = s.plan({want(1, 100), want(0, 10), want(2, 200)}, kV);
  auto req = as_sent(planned);
  CHECK_FALSE(planned.incremental);
  CHECK(planned.version == kV);
  CHECK(req.session_id == 0);
  CHECK(req.session_epoch == 0);  // full, and open a session
  CHECK(offsets(req) == std::map<int32_t, int64_t>{{0, 10}, {1, 100}, {2, 200}});
  CHECK(req.max_wait_ms == 500);
  CHECK(req.topics.at(0).partitions.at(0).partition_max_bytes == 1 << 16);
  CHECK(s.on_response(response(planned.version, 42, {}).message).action == SessionAction::proceed);
  CHECK(s.id() == 42);
  CHECK(s.size() == 3);

  // Partition 1 moved on, 0 and 2 did not, 2 is no longer wanted, 3 is new.
  planned = s.plan({want(0, 10), want(1, 150), want(3, 0)}, kV);
  req = as_sent(planned);
  CHECK(planned.incremental);
  CHECK(req.session_id == 42);
  CHECK(req.session_epoch == 1);
  CHECK(offsets(req) == std::map<int32_t, int64_t>{{1, 150}, {3, 0}});
  CHECK(forgotten(req) == std::vector<int32_t>{2});
  // The broker answers only partitions with news: here partition 0, which was not even sent.
  const auto got = response(planned.version, 42, {{"t", 0, 0, batches(10, 1, 5)}});
  const FetchResult r = s.on_response(got.message);
  CHECK(r.action == SessionAction::proceed);
  CHECK(only(r).asked->tp == TopicPartition{"t", 0});
  CHECK(only(r).asked->fetch_offset == 10);
  CHECK(only(r).action == PartitionAction::buffer);
  CHECK(only(r).records.len > 0);
  CHECK(s.epoch() == 2);
  CHECK(s.size() == 3);

  // Nothing changed: an incremental Fetch with no partitions at all.
  planned = s.plan({want(0, 10), want(1, 150), want(3, 0)}, kV);
  req = as_sent(planned);
  CHECK(req.session_epoch == 2);
  CHECK(req.topics.empty());
  CHECK(req.forgotten_topics_data.empty());
}

TEST_CASE("fetch session: a changed leader epoch is sent again; epochs go out from v9", "[fetch_session]") {
  FetchSession s = open_session(2);
  auto planned = s.plan({want(0, 0, 1, 5), want(1, 0, 1, 6)}, kV);
  auto req = as_sent(planned);
  REQUIRE(offsets(req) == std::map<int32_t, int64_t>{{1, 0}});
  CHECK(req.topics.at(0).partitions.at(0).current_leader_epoch == 6);

  FetchSession old(session_config());
  planned = old.plan({want(0, 0, 1, 5)}, 8);
  CHECK(planned.version == 8);
  CHECK(as_sent(planned).topics.at(0).partitions.at(0).current_leader_epoch == -1);  // not on the wire
}

TEST_CASE("fetch session: topic ids from v13; without every id the Fetch goes out at v12 by name",
          "[fetch_session]") {
  FetchSession s(session_config());
  auto planned = s.plan({want(0, 0)}, kV);
  auto req = as_sent(planned);
  CHECK(planned.version == kV);
  CHECK(req.topics.at(0).topic.empty());
  CHECK(req.topics.at(0).topic_id == topic_uuid(1));
  REQUIRE(s.on_response(response(kV, 42, {}).message).action == SessionAction::proceed);
  CHECK(s.uses_topic_ids());

  // A topic whose id the metadata lacks: v12, names, and a new session (one holds names or ids).
  WantedPartition no_id = want(0, 0, 1, 5, "u");
  no_id.topic_id = {};
  planned = s.plan({want(0, 0), no_id}, kV);
  req = as_sent(planned);
  CHECK(planned.version == 12);
  CHECK_FALSE(planned.incremental);
  CHECK(req.session_id == 0);
  CHECK(req.session_epoch == 0);
  REQUIRE(req.topics.size() == 2);
  CHECK(req.topics.at(0).topic == "t");
  CHECK(req.topics.at(1).topic == "u");
  // Answers by name at v12.
  const auto got = response(12, 43, {{"u", 0, 0, batches(0, 1, 3)}});
  const FetchResult r = s.on_response(got.message);
  CHECK(only(r).asked->tp == TopicPartition{"u", 0});
  CHECK(s.id() == 43);
  CHECK_FALSE(s.uses_topic_ids());
}

TEST_CASE("fetch session: a topic made again under a new id is forgotten under the old one",
          "[fetch_session]") {
  FetchSession s = open_session(1);
  const auto planned = s.plan({want(0, 0, 1, 5, "t", 9)}, kV);
  const auto req = as_sent(planned);
  CHECK(planned.incremental);
  REQUIRE(req.topics.size() == 1);
  CHECK(req.topics.at(0).topic_id == topic_uuid(9));
  REQUIRE(req.forgotten_topics_data.size() == 1);
  CHECK(req.forgotten_topics_data.at(0).topic_id == topic_uuid(1));
}

TEST_CASE("fetch session: below v7 there is no session", "[fetch_session]") {
  FetchSession s(session_config());
  for (int round = 0; round < 2; ++round) {
    const auto planned = s.plan({want(0, 0), want(1, 0)}, 6);
    const auto req = as_sent(planned);
    CHECK(planned.version == 6);
    CHECK_FALSE(planned.incremental);
    CHECK(req.session_epoch == -1);  // what the schema defaults to; v6 does not carry it
    CHECK(offsets(req).size() == 2);
    CHECK(s.on_response(response(6, 0, {}).message).action == SessionAction::proceed);
    CHECK(s.id() == 0);
  }
}

TEST_CASE("fetch session: the epoch counts up and wraps from INT32_MAX to 1", "[fetch_session]") {
  CHECK(next_session_epoch(1) == 2);
  CHECK(next_session_epoch(INT32_MAX - 1) == INT32_MAX);
  CHECK(next_session_epoch(INT32_MAX) == 1);
  FetchSession s = open_session(1);
  for (int32_t epoch = 1; epoch <= 4; ++epoch) {
    const auto planned = s.plan({want(0, 0)}, kV);
    CHECK(as_sent(planned).session_epoch == epoch);
    REQUIRE(s.on_response(response(kV, 42, {}).message).action == SessionAction::proceed);
  }
  CHECK(s.epoch() == 5);
}

TEST_CASE("fetch session: close sends (id, -1) with no partitions and forgets the session",
          "[fetch_session]") {
  FetchSession s = open_session(2);
  const auto closing = s.close(kV);
  REQUIRE(closing);
  const auto req = as_sent(*closing);
  CHECK(req.session_id == 42);
  CHECK(req.session_epoch == -1);
  CHECK(req.topics.empty());
  CHECK(req.max_wait_ms == 0);
  CHECK(s.id() == 0);
  CHECK_FALSE(s.close(kV));  // nothing open
  const auto next = as_sent(s.plan({want(0, 0)}, kV));
  CHECK(next.session_id == 0);
  CHECK(next.session_epoch == 0);
}

TEST_CASE("fetch session: the broker lost the session: start over with a full fetch", "[fetch_session]") {
  for (const kafka_errc e :
       {kafka_errc::fetch_session_id_not_found, kafka_errc::invalid_fetch_session_epoch}) {
    DYNAMIC_SECTION(make_error_code(e).message()) {
      FetchSession s = open_session(3);
      auto planned = s.plan({want(0, 5), want(1, 0), want(2, 0)}, kV);
      REQUIRE(planned.incremental);
      const auto got = response(kV, 0, {}, static_cast<int16_t>(e));
      const FetchResult r = s.on_response(got.message);
      CHECK(r.action == SessionAction::restart);
      CHECK(r.ec == e);
      CHECK_FALSE(r.refresh_metadata);
      CHECK(r.partitions.empty());
      CHECK(s.id() == 0);
      planned = s.plan({want(0, 5), want(1, 0), want(2, 0)}, kV);
      const auto req = as_sent(planned);
      CHECK_FALSE(planned.incremental);
      CHECK(req.session_id == 0);
      CHECK(req.session_epoch == 0);
      CHECK(offsets(req).size() == 3);  // every partition again
    }
  }
}

TEST_CASE("fetch session: topic id errors at the top restart and refresh metadata; others fail",
          "[fetch_session]") {
  for (const kafka_errc e : {kafka_errc::unknown_topic_id, kafka_errc::fetch_session_topic_id_error}) {
    FetchSession s = open_session(1);
    s.plan({want(0, 0)}, kV);
    const FetchResult r = s.on_response(response(kV, 0, {}, static_cast<int16_t>(e)).message);
    CHECK(r.action == SessionAction::restart);
    CHECK(r.refresh_metadata);
    CHECK(s.id() == 0);
  }
  FetchSession s = open_session(1);
  s.plan({want(0, 0)}, kV);
  const FetchResult r = s.on_response(
      response(kV, 0, {}, static_cast<int16_t>(kafka_errc::cluster_authorization_failed)).message);
  CHECK(r.action == SessionAction::fail);
  CHECK(r.ec == kafka_errc::cluster_authorization_failed);
  CHECK(s.id() == 0);
}

TEST_CASE("fetch session: a failed request forgets the session", "[fetch_session]") {
  FetchSession s = open_session(2);
  s.plan({want(0, 0), want(1, 0)}, kV);
  s.on_failure();
  CHECK(s.id() == 0);
  const auto planned = s.plan({want(0, 0), want(1, 0)}, kV);
  CHECK_FALSE(planned.incremental);
  CHECK(offsets(as_sent(planned)).size() == 2);
  // An answer that arrives for nothing in flight changes nothing.
  FetchSession idle(session_config());
  CHECK(idle.on_response(response(kV, 7, {{"t", 0}}).message).partitions.empty());
  CHECK(idle.id() == 0);
}

TEST_CASE("fetch session: leader moved: refresh metadata, keep the position", "[fetch_session]") {
  for (const kafka_errc e : {kafka_errc::not_leader_or_follower, kafka_errc::fenced_leader_epoch,
                             kafka_errc::unknown_leader_epoch, kafka_errc::leader_not_available,
                             kafka_errc::unknown_topic_or_partition, kafka_errc::unknown_topic_id}) {
    DYNAMIC_SECTION(make_error_code(e).message()) {
      BufferLedger ledger;
      PartitionBuffer buffer({"t", 0}, ledger);
      buffer.seek(70);
      FetchSession s = open_session(1);
      s.plan({want(0, *buffer.next_fetch_offset(), buffer.generation())}, kV);
      const auto got = response(kV, 42, {{"t", 0, static_cast<int16_t>(e)}});
      const FetchResult r = s.on_response(got.message);
      const PartitionOutcome& o = only(r);
      CHECK(o.action == PartitionAction::refresh_metadata);
      CHECK(o.error == e);
      CHECK(buffer.take(o, got.frame) == Taken::refresh_metadata);
      CHECK(buffer.position() == 70);
      CHECK(buffer.next_fetch_offset() == 70);
      // The session survives a partition error; the partition waits for new metadata, then the next
      // Fetch is incremental.
      CHECK(r.back_off);
      CHECK(s.holds({"t", 0}, 5));
      CHECK(s.plan({want(0, 70, buffer.generation())}, kV).nothing_to_fetch);
      CHECK(s.id() == 42);
      s.on_metadata_updated();
      CHECK(s.plan({want(0, 70, buffer.generation())}, kV).incremental);
    }
  }
}

TEST_CASE("fetch session: KIP-951 leader hints and node endpoints come with the error", "[fetch_session]") {
  FetchSession s = open_session(2);
  s.plan({want(0, 0), want(1, 0)}, kV);
  PartAnswer refused{"t", 0, static_cast<int16_t>(kafka_errc::not_leader_or_follower)};
  refused.current_leader = {2, 8};
  const auto got =
      response(kV, 42, {refused, {"t", 1, 0, batches(0, 1, 2)}}, 0, {{2, "broker-2", 9093, "r1"}});
  const FetchResult r = s.on_response(got.message);
  REQUIRE(r.partitions.size() == 2);
  const PartitionOutcome& o = r.partitions[0];
  CHECK(o.action == PartitionAction::refresh_metadata);
  REQUIRE(o.leader_hint);
  CHECK(o.leader_hint->leader_id == 2);
  CHECK(o.leader_hint->leader_epoch == 8);
  CHECK_FALSE(r.partitions[1].leader_hint);
  REQUIRE(r.node_endpoints.size() == 1);
  CHECK(r.node_endpoints[0].host == "broker-2");
  CHECK(r.node_endpoints[0].port == 9093);

  // Before v12 there are no tagged fields: no hint, whatever the broker knows.
  FetchSession old(session_config());
  old.plan({want(0, 0)}, 11);
  const auto got11 = response(11, 0, {refused});
  CHECK_FALSE(only(old.on_response(got11.message)).leader_hint);
}

TEST_CASE("fetch session: OFFSET_OUT_OF_RANGE under each auto.offset.reset", "[fetch_session]") {
  const auto out_of_range = static_cast<int16_t>(kafka_errc::offset_out_of_range);
  for (const OffsetReset reset : {OffsetReset::earliest, OffsetReset::latest, OffsetReset::none}) {
    DYNAMIC_SECTION("auto.offset.reset " << static_cast<int>(reset)) {
      BufferLedger ledger;
      PartitionBuffer buffer({"t", 0}, ledger);
      buffer.seek(500);
      FetchSession s = open_session(1, session_config(reset));
      s.plan({want(0, 500, buffer.generation())}, kV);
      const auto got = response(kV, 42, {{"t", 0, out_of_range}});
      const PartitionOutcome& o = only(s.on_response(got.message));
      CHECK(o.error == kafka_errc::offset_out_of_range);
      if (reset == OffsetReset::none) {
        CHECK(o.action == PartitionAction::fail);
        CHECK(o.ec == client_errc::no_offset);
        CHECK(buffer.take(o, got.frame) == Taken::fail);
        CHECK(buffer.position() == 500);  // kept: the application decides (seek)
      } else {
        CHECK(o.action == PartitionAction::reset_offset);
        CHECK(o.reset_timestamp == (reset == OffsetReset::earliest ? -2 : -1));
        const uint64_t before = buffer.generation();
        CHECK(buffer.take(o, got.frame) == Taken::reset_offset);
        CHECK_FALSE(buffer.position());  // to be looked up with ListOffsets
        CHECK(buffer.generation() != before);
        CHECK_FALSE(buffer.wants_fetch());
      }
    }
  }
}

TEST_CASE("fetch session: OFFSET_OUT_OF_RANGE for a prefetch waits until the buffered records are polled",
          "[fetch_session]") {
  BufferLedger ledger;
  ledger.check_crcs = true;
  PartitionBuffer buffer({"t", 0}, ledger);
  buffer.seek(0);
  FetchSession s = open_session(1, session_config(OffsetReset::none));
  s.plan({want(0, 0, buffer.generation())}, kV);
  auto got = response(kV, 42, {{"t", 0, 0, batches(0, 1, 10)}});
  REQUIRE(buffer.take(only(s.on_response(got.message)), got.frame) == Taken::taken);
  // The log was truncated meanwhile: the Fetch from 10 (ahead) is out of range.
  REQUIRE(buffer.next_fetch_offset() == 10);
  s.plan({want(0, 10, buffer.generation())}, kV);
  const auto refused = response(kV, 42, {{"t", 0, static_cast<int16_t>(kafka_errc::offset_out_of_range)}});
  CHECK(buffer.take(only(s.on_response(refused.message)), refused.frame) == Taken::dropped);
  std::vector<Record> out;
  CHECK_FALSE(buffer.drain(out, 100));
  CHECK(out.size() == 10);  // the buffered records are still delivered
  CHECK(buffer.next_fetch_offset() == 10);
}

TEST_CASE("fetch session: an error Kafka does not call retriable fails with its kafka_errc",
          "[fetch_session]") {
  FetchSession s = open_session(1);
  s.plan({want(0, 0)}, kV);
  const auto got = response(kV, 42, {{"t", 0, static_cast<int16_t>(kafka_errc::topic_authorization_failed)}});
  const PartitionOutcome& o = only(s.on_response(got.message));
  CHECK(o.action == PartitionAction::fail);
  CHECK(o.ec == kafka_errc::topic_authorization_failed);
  CHECK(fetch_partition_action(kafka_errc::kafka_storage_error, OffsetReset::none) ==
        PartitionAction::refresh_metadata);
  CHECK(fetch_partition_action(kafka_errc::request_timed_out, OffsetReset::none) ==
        PartitionAction::refresh_metadata);  // retriable
}

TEST_CASE("fetch session: an answer for a topic id not asked for refreshes metadata", "[fetch_session]") {
  FetchSession s = open_session(1);
  s.plan({want(0, 0)}, kV);
  PartAnswer stranger{"t", 0, 0, batches(0, 1, 1)};
  stranger.topic_id = 77;
  const auto got = response(kV, 42, {stranger, {"t", 5}});  // and a partition not asked for
  const FetchResult r = s.on_response(got.message);
  CHECK(r.refresh_metadata);
  CHECK(r.partitions.empty());
}

TEST_CASE("fetch session: a partition removed or moved while its Fetch is out: its answer is dropped",
          "[fetch_session]") {
  BufferLedger ledger;
  PartitionBuffer p0({"t", 0}, ledger), p1({"t", 1}, ledger);
  p0.seek(0);
  p1.seek(0);
  FetchSession s = open_session(2);
  s.plan({want(0, 0, p0.generation()), want(1, 0, p1.generation())}, kV);
  // Meanwhile: partition 1 is let go of (assign, a revocation), partition 0 is seeked elsewhere.
  p1.discard();
  p0.seek(5);
  const auto got = response(kV, 42, {{"t", 0, 0, batches(0, 1, 10)}, {"t", 1, 0, batches(0, 1, 10)}});
  const FetchResult r = s.on_response(got.message);
  REQUIRE(r.partitions.size() == 2);
  CHECK(p0.take(r.partitions[0], got.frame) == Taken::dropped);
  CHECK(p1.take(r.partitions[1], got.frame) == Taken::dropped);
  CHECK_FALSE(p0.has_buffered());
  CHECK_FALSE(p1.has_buffered());
  CHECK(ledger.bytes() == 0);
  // The next Fetch asks partition 0 from 5 and forgets partition 1.
  const auto req = as_sent(s.plan({want(0, 5, p0.generation())}, kV));
  CHECK(offsets(req) == std::map<int32_t, int64_t>{{0, 5}});
  CHECK(forgotten(req) == std::vector<int32_t>{1});
}

TEST_CASE("fetch session: a truncated trailing batch is left for the next Fetch", "[fetch_session]") {
  BufferLedger ledger;
  PartitionBuffer buffer({"t", 0}, ledger);
  buffer.seek(0);
  FetchSession s = open_session(1);
  s.plan({want(0, 0, buffer.generation())}, kV);
  std::vector<uint8_t> records = batches(0, 2, 10);
  records.resize(records.size() - 7);  // the broker cut the second batch at its size limit
  const auto got = response(kV, 42, {{"t", 0, 0, records}});
  REQUIRE(buffer.take(only(s.on_response(got.message)), got.frame) == Taken::taken);
  CHECK(buffer.next_fetch_offset() == 10);  // a prefetch asks for the cut batch whole
  std::vector<Record> out;
  CHECK_FALSE(buffer.drain(out, 100));
  REQUIRE(out.size() == 10);
  CHECK(out.back().offset() == 9);
  CHECK(buffer.position() == 10);
  CHECK_FALSE(buffer.has_buffered());
  CHECK(buffer.next_fetch_offset() == 10);
  ledger.retired.clear();  // the records of this poll no longer point into the frame
  CHECK(ledger.bytes() == 0);
}

TEST_CASE("fetch session: read_committed hands the aborted transactions on", "[fetch_session]") {
  SessionConfig c = session_config();
  c.isolation_level = proto::FetchRequest::kReadCommitted;
  FetchSession s(c);
  const auto planned = s.plan({want(0, 0)}, kV);
  CHECK(as_sent(planned).isolation_level == proto::FetchRequest::kReadCommitted);
  proto::FetchResponse r;
  auto& pd = r.responses.emplace_back().partitions.emplace_back();
  r.responses.back().topic_id = topic_uuid(1);
  pd.aborted_transactions = std::vector<proto::FetchResponse::AbortedTransaction>{{7, 3}};
  const PartitionOutcome& o = only(s.on_response(r));
  REQUIRE(o.aborted);
  CHECK(o.aborted->at(0).producer_id == 7);
}

TEST_CASE("fetch session: a paused partition is forgotten, and sent again from its position on resume",
          "[fetch_session]") {
  BufferLedger ledger;
  PartitionBuffer p0({"t", 0}, ledger), p1({"t", 1}, ledger);
  p0.seek(10);
  p1.seek(20);
  FetchSession s = open_session(2);
  // What the Consumer sends: the partitions whose buffer wants a Fetch.
  auto wanted = [&] {
    std::vector<WantedPartition> w;
    for (PartitionBuffer* b : {&p0, &p1})
      if (b->wants_fetch())
        w.push_back(want(b->topic_partition().partition, *b->next_fetch_offset(), b->generation()));
    return w;
  };
  auto req = as_sent(s.plan(wanted(), kV));
  CHECK(offsets(req) == std::map<int32_t, int64_t>{{0, 10}, {1, 20}});
  REQUIRE(s.on_response(response(kV, 42, {}).message).action == SessionAction::proceed);
  p1.set_paused(true);
  req = as_sent(s.plan(wanted(), kV));
  CHECK(offsets(req).empty());  // partition 0 did not change
  CHECK(forgotten(req) == std::vector<int32_t>{1});
  REQUIRE(s.on_response(response(kV, 42, {}).message).action == SessionAction::proceed);
  CHECK(s.size() == 1);
  p1.set_paused(false);
  req = as_sent(s.plan(wanted(), kV));
  CHECK(offsets(req) == std::map<int32_t, int64_t>{{1, 20}});
  CHECK(forgotten(req).empty());
}

TEST_CASE("fetch session: a Fetch asks for at most the bytes the consumer's buffer bound leaves",
          "[fetch_session]") {
  FetchSession s(session_config());
  CHECK(as_sent(s.plan({want(0, 10)}, kV)).max_bytes == 1 << 20);  // fetch.max.bytes
  s.on_failure();
  CHECK(as_sent(s.plan({want(0, 10)}, kV, 5000)).max_bytes == 5000);
  s.on_failure();
  CHECK(as_sent(s.plan({want(0, 10)}, kV, 1 << 21)).max_bytes == 1 << 20);  // never above fetch.max.bytes
}

TEST_CASE("fetch session: a partition refused for a stale leader waits for metadata, and is forgotten",
          "[fetch_session]") {
  // The busy loop seen against kfake: FENCED_LEADER_EPOCH answered at once, and the partition, unchanged in
  // the session, asked again at once by an incremental Fetch naming nothing.
  FetchSession s = open_session(2);
  s.plan({want(0, 0), want(1, 0)}, kV);
  const auto fenced = response(kV, 42, {{"t", 0, static_cast<int16_t>(kafka_errc::fenced_leader_epoch)}});
  FetchResult r = s.on_response(fenced.message);
  CHECK(only(r).action == PartitionAction::refresh_metadata);
  CHECK(r.back_off);
  CHECK(s.holds({"t", 0}, 5));
  CHECK_FALSE(s.holds({"t", 1}, 5));
  CHECK(s.size() == 2);

  // The next Fetch leaves it out and tells the broker's session to forget it.
  auto planned = s.plan({want(0, 0), want(1, 0)}, kV);
  REQUIRE_FALSE(planned.nothing_to_fetch);
  CHECK(planned.incremental);
  auto req = as_sent(planned);
  CHECK(offsets(req).empty());
  CHECK(forgotten(req) == std::vector<int32_t>{0});
  r = s.on_response(response(kV, 42, {}).message);
  CHECK_FALSE(r.back_off);
  CHECK(s.size() == 1);  // the broker's session holds partition 1 only

  // Only the held partition wanted: nothing is sent, nothing is in flight.
  CHECK(s.plan({want(0, 0)}, kV).nothing_to_fetch);
  CHECK(s.on_response(response(kV, 42, {}).message).partitions.empty());

  // New metadata at the same epoch: fetched again, named anew in the session.
  s.on_metadata_updated();
  CHECK_FALSE(s.holds({"t", 0}, 5));
  planned = s.plan({want(0, 0), want(1, 0)}, kV);
  CHECK(planned.incremental);
  CHECK(offsets(as_sent(planned)) == std::map<int32_t, int64_t>{{0, 0}});
  r = s.on_response(response(kV, 42, {{"t", 0, 0, batches(0, 1, 2)}}).message);
  CHECK(only(r).action == PartitionAction::buffer);
  CHECK(s.size() == 2);
}

TEST_CASE("fetch session: a held partition goes again at a new leader epoch (KIP-951 hint)",
          "[fetch_session]") {
  FetchSession s = open_session(1);
  s.plan({want(0, 0)}, kV);
  PartAnswer refused{"t", 0, static_cast<int16_t>(kafka_errc::not_leader_or_follower)};
  refused.current_leader = {0, 6};
  CHECK(s.on_response(response(kV, 42, {refused}).message).back_off);
  CHECK(s.plan({want(0, 0, 1, 5)}, kV).nothing_to_fetch);  // still the refused epoch
  const auto planned = s.plan({want(0, 0, 1, 6)}, kV);     // the hint's epoch, taken into the metadata
  REQUIRE_FALSE(planned.nothing_to_fetch);
  const auto req = as_sent(planned);
  REQUIRE(req.topics.size() == 1);
  REQUIRE(req.topics[0].partitions.size() == 1);
  CHECK(req.topics[0].partitions[0].current_leader_epoch == 6);
  CHECK_FALSE(s.holds({"t", 0}, 6));
}
