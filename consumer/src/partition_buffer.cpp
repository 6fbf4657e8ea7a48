#include "kafkawire/consumer/partition_buffer.hpp"

namespace kafkawire::fetch {

namespace proto = kafkawire::protocol;

namespace {

// One past the last complete v2 batch of a Fetch's records (what the reader's next_offset() will be once
// it has read them all), from the batch headers alone; -1 when there is no complete v2 batch.
int64_t end_offset_of(proto::Bytes records) {
  int64_t end = -1;
  proto::BatchFrames frames(records);
  for (const proto::BatchFrame& f : frames) end = f.next_offset();
  return frames.error() ? -1 : end;  // a truncated tail is the broker's cut at max bytes
}

}  // namespace

PartitionBuffer::PartitionBuffer(TopicPartition tp, BufferLedger& ledger)
    : tp_(std::move(tp)), ledger_(&ledger), generation_(++ledger.generations) {}

proto::ReadOptions PartitionBuffer::read_options() const {
  proto::ReadOptions opts;
  opts.check_crcs = ledger_->check_crcs;
  opts.read_committed = ledger_->read_committed;
  opts.start_offset = *position_;
  return opts;
}

// Records handed out by the last poll may still point into the frame, and they are valid until the next
// poll: the ledger keeps the frame until then.
void PartitionBuffer::drop_buffered() {
  buffered_ = false;
  in_batch_ = false;
  buffered_end_ = -1;
  ledger_->bytes -= buffered_bytes_;
  buffered_bytes_ = 0;
  if (frame_) ledger_->retired.push_back(std::move(frame_));
}

void PartitionBuffer::discard() {
  drop_buffered();
  if (next_.valid) {
    ledger_->bytes -= next_.records.len;
    next_.valid = false;
    next_.frame.reset();  // never read from: no record of the last poll points into it
  }
  generation_ = ++ledger_->generations;
}

void PartitionBuffer::seek(std::optional<int64_t> offset) {
  position_ = offset;
  discard();
}

bool PartitionBuffer::promote_prefetched() {
  if (!next_.valid) return false;
  next_.valid = false;
  const size_t bytes = next_.records.len;
  if (!position_ || next_.from != *position_) {
    ledger_->bytes -= bytes;
    next_.frame.reset();
    return false;
  }
  drop_buffered();
  frame_ = std::move(next_.frame);
  reader_.reset(next_.records, read_options());
  if (ledger_->read_committed && next_.has_aborted) reader_.set_aborted_transactions(next_.aborted);
  buffered_ = true;
  in_batch_ = false;
  buffered_end_ = next_.end;
  buffered_bytes_ = bytes;  // still counted in the ledger
  return true;
}

std::optional<int64_t> PartitionBuffer::next_fetch_offset() const {
  if (!position_) return std::nullopt;
  if (next_.valid) return next_.end < 0 ? std::nullopt : std::optional<int64_t>(next_.end);
  if (buffered_) return buffered_end_ < 0 ? std::nullopt : std::optional<int64_t>(buffered_end_);
  return position_;
}

bool PartitionBuffer::wants_fetch() const {
  if (!position_ || paused_ || fetch_in_flight_ || next_.valid) return false;
  if (!buffered_) return true;
  return buffered_end_ >= 0 && ledger_->bytes < ledger_->max_bytes;
}

Taken PartitionBuffer::take(const PartitionOutcome& o, const Frame& frame) {
  // Data for a position left meanwhile (seek, reset, the partition let go of and taken back) is stale.
  if (!position_ || o.asked->generation != generation_ || next_fetch_offset() != o.asked->fetch_offset)
    return Taken::dropped;
  const bool ahead = buffered_;  // asked from after the data still being polled
  switch (o.action) {
    case PartitionAction::buffer:
      break;
    case PartitionAction::refresh_metadata:
      return Taken::refresh_metadata;
    case PartitionAction::reset_offset:
      // The records still buffered come first; the Fetch from after them meets this error again.
      if (ahead) return Taken::dropped;
      seek(std::nullopt);
      return Taken::reset_offset;
    case PartitionAction::fail:
      if (ahead && o.error == kafka_errc::offset_out_of_range) return Taken::dropped;
      return Taken::fail;
  }
  log_ = LogBounds{o.high_watermark, o.last_stable_offset, o.log_start_offset};
  if (o.records.len == 0) return Taken::taken;
  ledger_->bytes += o.records.len;
  if (ahead) {
    next_.valid = true;
    next_.frame = frame;
    next_.records = o.records;
    next_.from = o.asked->fetch_offset;
    next_.end = end_offset_of(o.records);
    next_.has_aborted = ledger_->read_committed && o.aborted;
    next_.aborted.clear();
    if (next_.has_aborted) next_.aborted.assign(o.aborted->begin(), o.aborted->end());
    return Taken::taken;
  }
  if (frame_) ledger_->retired.push_back(std::move(frame_));
  frame_ = frame;
  reader_.reset(o.records, read_options());
  if (ledger_->read_committed && o.aborted) reader_.set_aborted_transactions(*o.aborted);
  buffered_ = true;
  in_batch_ = false;
  buffered_end_ = end_offset_of(o.records);
  buffered_bytes_ = o.records.len;
  return Taken::taken;
}

void PartitionBuffer::poll_started() {
  // Keep the buffer of a batch still being read; the others are free again.
  if (in_batch_ && scratch_used_ > 0) {
    std::swap(scratch_[0], scratch_[scratch_used_ - 1]);
    scratch_used_ = 1;
  } else {
    scratch_used_ = 0;
  }
}

std::error_code PartitionBuffer::drain(std::vector<Record>& out, size_t max, int64_t* error_offset) {
  if (!buffered_ || paused_) return {};
  proto::RecordView rec;
  while (out.size() < max) {
    if (!in_batch_) {
      // Each compressed batch delivered in this poll decompresses into a buffer of its own.
      if (scratch_used_ == scratch_.size()) scratch_.push_back(std::make_unique<std::vector<uint8_t>>());
      reader_.set_scratch(scratch_[scratch_used_++].get());
      if (!reader_.next_batch()) {
        if (const std::error_code ec = reader_.error()) {
          if (error_offset) *error_offset = reader_.error_offset();
          discard();
          return ec;
        }
        if (reader_.next_offset() > *position_) position_ = reader_.next_offset();
        if (promote_prefetched()) continue;  // the prefetched data follows on
        drop_buffered();
        break;
      }
      in_batch_ = true;
    }
    if (reader_.next_record(rec)) {
      out.emplace_back(&tp_, rec);
      position_ = rec.offset + 1;
      position_epoch_ = reader_.batch().partition_leader_epoch;
    } else {
      in_batch_ = false;
    }
  }
  return {};
}

}  // namespace kafkawire::fetch
