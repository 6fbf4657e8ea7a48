// The Consumer's offset operations: thin wrappers over its OffsetClient (offset_client.hpp) that add what
// only the Consumer knows (its assignment, positions and leader epochs) and record the outcome in the
// partitions' state. A group member's commits go through the group machine instead (group_driver.cpp).
// Each runs on the Core, which it holds (Core::run): nothing here asks whether the Consumer survived.
#include "consumer_core.hpp"

namespace kafkawire {

asio::awaitable<Outcome<std::monostate>> Consumer::Core::commit(std::map<TopicPartition, int64_t> offsets) {
  if (stage_ != Stage::open) co_return Outcome<std::monostate>{failure_.ec, failure_.text, {}};
  // A group member commits through the group machine: it adds generation and member id, and refuses
  // offsets for partitions this member no longer owns.
  if (in_group()) co_return co_await commit_through_group(std::move(offsets));
  // Never commit for a partition this consumer no longer has.
  std::vector<group::OffsetToCommit> to_commit;
  for (const auto& [tp, off] : offsets)
    if (const auto* p = state(tp)) to_commit.push_back({tp, off, p->buffer.position_epoch(), std::string()});
  if (to_commit.empty() && !config_.group_id.empty()) co_return Outcome<std::monostate>{};
  auto r = co_await offsets_.commit(std::move(to_commit), generation_, member_id_);
  for (const auto& o : r.value)
    if (!o.ec)
      if (auto* p = state(o.tp)) p->committed = o.offset;
  co_return Outcome<std::monostate>{r.ec, std::move(r.error_text), {}};
}

asio::awaitable<Outcome<OffsetClient::Committed>> Consumer::Core::committed(
    std::vector<TopicPartition> partitions) {
  if (stage_ != Stage::open) co_return Outcome<OffsetClient::Committed>{failure_.ec, failure_.text, {}};
  co_return co_await offsets_.committed(std::move(partitions));
}

asio::awaitable<Outcome<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>>
Consumer::Core::offsets_for_times(std::map<TopicPartition, int64_t> timestamps) {
  using Result = Outcome<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>;
  if (stage_ != Stage::open) co_return Result{failure_.ec, failure_.text, {}};
  co_return co_await offsets_.offsets_for_times(std::move(timestamps));
}

asio::awaitable<Outcome<std::map<TopicPartition, int64_t>>> Consumer::Core::list_offsets(
    std::vector<TopicPartition> partitions, int64_t which) {
  std::map<TopicPartition, int64_t> in;
  for (const auto& tp : partitions) in[tp] = which;
  auto found = co_await offsets_for_times(std::move(in));
  Outcome<std::map<TopicPartition, int64_t>> out{found.ec, std::move(found.error_text), {}};
  for (const auto& [tp, o] : found.value)
    if (o) out.value[tp] = o->offset;
  co_return out;
}

}  // namespace kafkawire
