#include "kafkawire/consumer/producer_session.hpp"

#include <algorithm>
#include <limits>

#include "kafkawire/protocol/error.hpp"

namespace kafkawire {

namespace {

// Sequence numbers wrap to 0 after INT32_MAX (Kafka's DefaultRecordBatch.incrementSequence).
int32_t advance(int32_t sequence, int32_t by) {
  if (sequence > std::numeric_limits<int32_t>::max() - by)
    return by - (std::numeric_limits<int32_t>::max() - sequence) - 1;
  return sequence + by;
}

std::string describe(const BatchStamp& s) {
  return "producer " + std::to_string(s.producer_id) + " epoch " + std::to_string(s.producer_epoch) +
         " sequence " + std::to_string(s.base_sequence);
}

}  // namespace

ProducerSession::ProducerSession(ProducerSessionOptions options)
    : options_(std::move(options)), state_(options_.idempotent ? State::uninitialized : State::ready) {}

void ProducerSession::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

std::optional<protocol::InitProducerIdRequest> ProducerSession::init_request() {
  if (!options_.idempotent || options_.transactional || state_ != State::uninitialized) return std::nullopt;
  state_ = State::initializing;
  protocol::InitProducerIdRequest req;
  req.transactional_id = std::nullopt;  // idempotent only
  // What Java sends without a transactional id: the timeout is about transactions, which there are none of.
  req.transaction_timeout_ms = std::numeric_limits<int32_t>::max();
  req.producer_id = -1;  // a new id (an idempotent producer bumps its epoch itself, KIP-360)
  req.producer_epoch = -1;
  return req;
}

void ProducerSession::on_init_response(std::error_code ec, const protocol::InitProducerIdResponse& r) {
  if (state_ != State::initializing) return;
  if (ec) {
    state_ = State::uninitialized;
    return;
  }
  if (r.error_code != 0) {
    if (is_retriable(make_kafka_error(r.error_code))) {
      state_ = State::uninitialized;
    } else {
      make_fatal(r.error_code, "InitProducerId: " + make_kafka_error(r.error_code).message());
    }
    return;
  }
  adopt(r.producer_id, r.producer_epoch);
}

void ProducerSession::adopt(int64_t producer_id, int16_t epoch) {
  if (state_ == State::fatal) return;
  producer_id_ = producer_id;
  epoch_ = epoch;
  state_ = State::ready;
  lost_track_ = false;
  log("producer id " + std::to_string(producer_id_) + " epoch " + std::to_string(epoch_));
  for (auto& [tp, p] : partitions_)
    if (p.renumber_pending) {
      p.renumber_pending = false;
      restart(p);
      renumber(p, tp, "a new producer id");
    }
}

bool ProducerSession::may_start(const TopicPartition& tp) const {
  if (state_ != State::ready) return false;
  if (!options_.idempotent) return true;
  auto it = partitions_.find(tp);
  if (it == partitions_.end()) return true;
  const Partition& p = it->second;
  if (p.renumber_pending) return false;
  // Under an older epoch its batches finish first; the next one starts at 0 under the current epoch.
  if (!current(p) && !p.batches.empty()) return false;
  if (static_cast<int>(p.batches.size()) >= options_.max_in_flight) return false;
  // Until a batch is written under its epoch, the broker may have no state for the producer on this
  // partition and would take any sequence: a second batch could be written before a first one it
  // refused for a moment. One at a time until then.
  if (p.acked_ordinal == 0 && !p.batches.empty()) return false;
  // A batch waiting to be resent goes before any new one.
  return std::none_of(p.batches.begin(), p.batches.end(), [](const Batch& b) { return b.awaiting_resend; });
}

std::optional<ProducerSession::Started> ProducerSession::start(const TopicPartition& tp, int32_t records) {
  if (!may_start(tp)) return std::nullopt;
  const BatchId id = next_id_++;
  if (!options_.idempotent) return Started{id, {}};
  Partition& p = partitions_[tp];
  if (!current(p)) {
    restart(p);
    p.next_sequence = 0;
  }
  const BatchStamp stamp{producer_id_, epoch_, p.next_sequence};
  p.next_sequence = advance(p.next_sequence, records);
  p.batches.push_back({id, records, ++p.started, stamp});
  return Started{id, stamp};
}

std::optional<BatchStamp> ProducerSession::send(const TopicPartition& tp, BatchId id, uint64_t channel) {
  if (!options_.idempotent) return BatchStamp{};
  if (state_ != State::ready) return std::nullopt;
  auto it = partitions_.find(tp);
  if (it == partitions_.end() || it->second.renumber_pending) return std::nullopt;
  for (Batch& b : it->second.batches) {
    if (b.id == id) {
      b.channel = channel;
      b.awaiting_resend = false;
      return b.stamp;
    }
    // An earlier batch not out on this connection (waiting, or out on another one whose requests may
    // still reach the broker): this one would overtake it. None written yet under the partition's
    // epoch (after a bump): the first goes alone, as in may_start.
    if (b.channel != channel || it->second.acked_ordinal == 0) return std::nullopt;
  }
  return std::nullopt;
}

ProducerSession::Verdict ProducerSession::on_result(const TopicPartition& tp, BatchId id,
                                                    const BatchStamp& sent, const Outcome& outcome) {
  const auto code = as_errc(outcome.error_code);
  const bool written =
      outcome.answered &&
      (outcome.error_code == 0 || (options_.idempotent && code == kafka_errc::duplicate_sequence_number));
  if (!options_.idempotent) {
    if (written) return Verdict::done;
    return outcome.retriable && outcome.may_retry ? Verdict::retry : Verdict::fail;
  }
  auto pit = partitions_.find(tp);
  auto bit = pit == partitions_.end() ? std::deque<Batch>::iterator{}
                                      : std::find_if(pit->second.batches.begin(), pit->second.batches.end(),
                                                     [&](const Batch& b) { return b.id == id; });
  if (pit == partitions_.end() || bit == pit->second.batches.end())
    return written ? Verdict::done : Verdict::fail;
  Partition& p = pit->second;
  const bool first = bit == p.batches.begin();
  bit->channel = 0;
  bit->awaiting_resend = true;
  // A bump or a renumbering changed its stamp while this attempt was out: the answer is about numbers
  // that are no longer the partition's.
  const bool renumbered = !(sent == bit->stamp);
  const int32_t records = bit->records;
  if (written) {
    // Answers of one connection come in order, but a retry's may come after a later batch's.
    if (!renumbered && bit->ordinal > p.acked_ordinal) {
      p.last_acked = advance(sent.base_sequence, records - 1);
      p.acked_ordinal = bit->ordinal;
    }
    p.batches.erase(bit);
    // Written under its old numbers: the batches after it were numbered as if it came again.
    if (renumbered) renumber(p, tp, "a renumbered batch was written under its old stamp");
    return Verdict::done;
  }
  if (state_ == State::fatal) {
    p.batches.erase(bit);
    return Verdict::fail;
  }
  switch (code) {
    case kafka_errc::cluster_authorization_failed:
    case kafka_errc::transactional_id_authorization_failed:
    case kafka_errc::producer_fenced:
      make_fatal(outcome.error_code,
                 "Produce to " + to_string(tp) + ": " + make_kafka_error(outcome.error_code).message());
      p.batches.erase(bit);
      return Verdict::fail;
    default:
      break;
  }

  bool retriable = outcome.retriable;
  bool outcome_unknown = !outcome.answered || code == kafka_errc::request_timed_out;
  if (outcome.answered) {
    switch (code) {
      case kafka_errc::out_of_order_sequence_number:
        // Not the first batch without a result: the one before it has not arrived (yet). The first one: a
        // real gap in the broker's sequence; start the partition again under a new epoch.
        // After a later batch was acknowledged it is not the next sequence (Java's isNextSequence): it may
        // be in the log already (a Kafka broker without state for the producer takes any first sequence,
        // so the order of the answers proves nothing): no new epoch, which could write it twice; retried
        // until the caller's budget ends, then it fails with this error.
        if (first && !renumbered && p.acked_ordinal < bit->ordinal) {
          if (options_.transactional) {
            lose_track(tp, "OUT_OF_ORDER_SEQUENCE_NUMBER at " + describe(sent));
            return fail_batch(p, id);
          }
          bump_epoch(tp, "OUT_OF_ORDER_SEQUENCE_NUMBER at " + describe(sent));
        }
        retriable = true;
        outcome_unknown = true;
        break;
      case kafka_errc::unknown_producer_id:
        // The broker lost this producer's state for the partition (its records were deleted).
        if (!renumbered && options_.transactional) {
          lose_track(tp, "UNKNOWN_PRODUCER_ID at " + describe(sent));
          return fail_batch(p, id);
        }
        if (!renumbered) bump_epoch(tp, "UNKNOWN_PRODUCER_ID at " + describe(sent));
        retriable = true;
        outcome_unknown = true;
        break;
      case kafka_errc::invalid_producer_epoch:
        // An epoch older than the broker's: after a bump, expected (renumbered). With the current epoch the
        // id is no longer ours: ask for a new one.
        if (!renumbered && sent.producer_epoch == epoch_ && sent.producer_id == producer_id_) {
          if (options_.transactional) {
            // Another producer with our transactional id, or the coordinator aborted the transaction
            // (timeout): the transaction must end; the abort says which.
            lose_track(tp, "INVALID_PRODUCER_EPOCH at " + describe(sent));
            return fail_batch(p, id);
          }
          reset_producer_id(tp, "INVALID_PRODUCER_EPOCH at " + describe(sent));
        }
        retriable = true;
        outcome_unknown = true;
        break;
      default:
        break;
    }
  }
  if (state_ == State::fatal) {
    p.batches.erase(
        std::find_if(p.batches.begin(), p.batches.end(), [&](const Batch& b) { return b.id == id; }));
    return Verdict::fail;
  }
  if (retriable && outcome.may_retry) return Verdict::retry;

  // Fails for good. The iterator may be stale after a bump (the deque itself is unchanged, but look again).
  p.batches.erase(
      std::find_if(p.batches.begin(), p.batches.end(), [&](const Batch& b) { return b.id == id; }));
  if (p.renumber_pending) return Verdict::fail;
  if (outcome_unknown) {
    // Perhaps written, perhaps not: the broker's next expected sequence is unknown. A new epoch starts
    // the partition's numbers again at 0.
    if (options_.transactional)
      lose_track(tp, to_string(tp) + ": a batch failed without a known outcome");
    else
      bump_epoch(tp, to_string(tp) + ": a batch failed without a known outcome");
  } else {
    // Refused, so not written: the later batches close the gap it leaves.
    renumber(p, tp, "a batch was refused");
  }
  return Verdict::fail;
}

size_t ProducerSession::in_flight(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? 0 : it->second.batches.size();
}

void ProducerSession::renumber(Partition& p, const TopicPartition& tp, std::string_view why) {
  int32_t sequence = advance(p.last_acked, 1);
  if (p.last_acked < 0) sequence = 0;
  for (Batch& b : p.batches) {
    b.stamp = {p.producer_id, p.epoch, sequence};
    sequence = advance(sequence, b.records);
  }
  p.next_sequence = sequence;
  if (!p.batches.empty())
    log(to_string(tp) + ": " + std::to_string(p.batches.size()) + " batches renumbered from " +
        describe(p.batches.front().stamp) + " (" + std::string(why) + ")");
}

void ProducerSession::bump_epoch(const TopicPartition& tp, std::string_view why) {
  if (epoch_ == std::numeric_limits<int16_t>::max()) {
    reset_producer_id(tp, why);
    return;
  }
  Partition& p = partitions_[tp];
  // A partition still under an older epoch moves to the current one: it is newer than what the broker has.
  if (current(p)) {
    ++epoch_;
    log("epoch bumped to " + std::to_string(epoch_) + " (" + std::string(why) + ")");
  }
  restart(p);
  renumber(p, tp, why);
}

void ProducerSession::restart(Partition& p) const {
  p.producer_id = producer_id_;
  p.epoch = epoch_;
  p.last_acked = -1;
  p.acked_ordinal = 0;
}

void ProducerSession::reset_producer_id(const TopicPartition& tp, std::string_view why) {
  log("asking for a new producer id (" + std::string(why) + ")");
  producer_id_ = -1;
  epoch_ = -1;
  state_ = State::uninitialized;
  partitions_[tp].renumber_pending = true;
}

void ProducerSession::lose_track(const TopicPartition& tp, std::string_view why) {
  lost_track_ = true;
  log(to_string(tp) + ": the epoch must move on after the transaction is aborted (" + std::string(why) + ")");
}

ProducerSession::Verdict ProducerSession::fail_batch(Partition& p, BatchId id) {
  p.batches.erase(
      std::find_if(p.batches.begin(), p.batches.end(), [&](const Batch& b) { return b.id == id; }));
  return Verdict::fail;
}

void ProducerSession::make_fatal(int16_t code, std::string text) {
  state_ = State::fatal;
  fatal_ = make_kafka_error(code);
  fatal_text_ = std::move(text);
  log(fatal_text_);
}

}  // namespace kafkawire
