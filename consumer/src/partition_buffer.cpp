#include "kafkawire/consumer/partition_buffer.hpp"

#include <algorithm>

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

Frame BufferLedger::hold(const Frame& frame) {
  if (frame.get() == last_raw_)
    if (Frame held = last_held_.lock()) return held;
  // A copy whose last owner takes the frame's bytes off the count. A buffer is recycled (the same
  // address again) only once no copy holds it, so a live last_held_ is always this frame's.
  const size_t size = frame->capacity();
  *held_ += size;
  ++arrivals;
  Frame held(frame.get(),
             [raw = frame, count = held_, size](const std::vector<uint8_t>*) { *count -= size; });
  last_raw_ = frame.get();
  last_held_ = held;
  return held;
}

int32_t BufferLedger::fetch_started(int32_t fetch_max_bytes, int32_t partition_max_bytes, size_t partitions) {
  const size_t used = bytes() + reserved_;
  const size_t room = used < max_bytes ? max_bytes - used : 0;
  const auto per_partition = static_cast<size_t>(std::max(partition_max_bytes, 1));
  const size_t most = std::min(static_cast<size_t>(std::max(fetch_max_bytes, 1)),
                               per_partition * std::max<size_t>(partitions, 1));
  const auto asked = static_cast<int32_t>(std::min(most, std::max(room, per_partition)));
  reserved_ += static_cast<size_t>(asked);
  return asked;
}

void BufferLedger::fetch_finished(int32_t asked) {
  reserved_ -= std::min(reserved_, static_cast<size_t>(asked));
}

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
  set_buffered(false);
  in_batch_ = false;
  buffered_end_ = -1;
  if (frame_) ledger_->retired.push_back(std::move(frame_));
}

void PartitionBuffer::set_buffered(bool buffered) {
  if (buffered_ == buffered) return;
  buffered_ = buffered;
  if (!paused_) buffered ? ++ledger_->ready : --ledger_->ready;
}

void PartitionBuffer::set_paused(bool paused) {
  if (paused_ == paused) return;
  paused_ = paused;
  if (buffered_) paused ? --ledger_->ready : ++ledger_->ready;
}

void PartitionBuffer::discard() {
  drop_buffered();
  if (next_.valid) {
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
  if (!position_ || next_.from != *position_) {
    next_.frame.reset();
    return false;
  }
  drop_buffered();
  frame_ = std::move(next_.frame);
  reader_.reset(next_.records, read_options());
  if (ledger_->read_committed && next_.has_aborted) reader_.set_aborted_transactions(next_.aborted);
  set_buffered(true);
  in_batch_ = false;
  buffered_end_ = next_.end;
  arrival_ = next_.arrival;
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
  if (buffered_ && buffered_end_ < 0) return false;  // where the data ends is not known yet
  if (ledger_->has_room()) return true;
  // At the bound. With records to drain, or an answer on its way, the application frees room soon.
  // Otherwise what holds the bytes (paused partitions) would hold back every other partition.
  return !buffered_ && ledger_->ready == 0 && ledger_->reserved() == 0;
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
  if (ahead) {
    next_.valid = true;
    next_.frame = ledger_->hold(frame);
    next_.arrival = ledger_->arrivals;
    next_.records = o.records;
    next_.from = o.asked->fetch_offset;
    next_.end = end_offset_of(o.records);
    next_.has_aborted = ledger_->read_committed && o.aborted;
    next_.aborted.clear();
    if (next_.has_aborted) next_.aborted.assign(o.aborted->begin(), o.aborted->end());
    return Taken::taken;
  }
  if (frame_) ledger_->retired.push_back(std::move(frame_));
  frame_ = ledger_->hold(frame);
  reader_.reset(o.records, read_options());
  if (ledger_->read_committed && o.aborted) reader_.set_aborted_transactions(*o.aborted);
  set_buffered(true);
  in_batch_ = false;
  buffered_end_ = end_offset_of(o.records);
  arrival_ = ledger_->arrivals;
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
