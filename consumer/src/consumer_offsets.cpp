// The Consumer's offset operations: thin wrappers over its OffsetClient (offset_client.hpp) that add what
// only the Consumer knows (its assignment, positions and leader epochs) and record the outcome in the
// partitions' state. A group member's commits go through the group machine instead (group_driver.cpp).
#include "kafkawire/consumer/consumer.hpp"
#include "partition_state.hpp"

namespace kafkawire {

namespace {

// The Consumer went away while the call was in flight: nothing of it may be touched.
template <class T>
std::tuple<std::error_code, T> aborted() {
  return {client_errc::operation_aborted, T{}};
}

}  // namespace

net::Pool::Result<std::monostate> Consumer::commit(std::map<TopicPartition, int64_t> offsets) {
  auto alive = alive_;
  // A group member commits through the group machine: it adds generation and member id, and refuses
  // offsets for partitions this member no longer owns.
  if (group_) co_return co_await commit_through_group(std::move(offsets));
  // Never commit for a partition this consumer no longer has.
  std::vector<group::OffsetToCommit> to_commit;
  for (const auto& [tp, off] : offsets)
    if (const auto* p = state(tp)) to_commit.push_back({tp, off, p->buffer.position_epoch(), std::string()});
  if (to_commit.empty() && !config_.group_id.empty())
    co_return std::tuple{std::error_code{}, std::monostate{}};
  auto r = co_await offsets_.commit(std::move(to_commit), generation_, member_id_);
  if (!*alive) co_return aborted<std::monostate>();
  for (const auto& o : r.value)
    if (!o.ec)
      if (auto* p = state(o.tp)) p->committed = o.offset;
  if (r.ec) set_error(r.error_text);
  co_return std::tuple{r.ec, std::monostate{}};
}

net::Pool::Result<std::map<TopicPartition, std::optional<int64_t>>> Consumer::committed(
    std::vector<TopicPartition> partitions) {
  auto alive = alive_;
  auto r = co_await offsets_.committed(std::move(partitions));
  if (!*alive) co_return aborted<OffsetClient::Committed>();
  if (r.ec) set_error(r.error_text);
  co_return std::tuple{r.ec, std::move(r.value)};
}

net::Pool::Result<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>> Consumer::offsets_for_times(
    std::map<TopicPartition, int64_t> timestamps) {
  auto alive = alive_;
  auto r = co_await offsets_.offsets_for_times(std::move(timestamps));
  if (!*alive) co_return aborted<std::map<TopicPartition, std::optional<OffsetAndTimestamp>>>();
  if (r.ec) set_error(r.error_text);
  co_return std::tuple{r.ec, std::move(r.value)};
}

net::Pool::Result<std::map<TopicPartition, int64_t>> Consumer::list_offsets(
    std::vector<TopicPartition> partitions, int64_t which) {
  std::map<TopicPartition, int64_t> in;
  for (const auto& tp : partitions) in[tp] = which;
  auto [ec, found] = co_await offsets_for_times(std::move(in));
  std::map<TopicPartition, int64_t> out;
  for (const auto& [tp, o] : found)
    if (o) out[tp] = o->offset;
  co_return std::tuple{ec, out};
}

}  // namespace kafkawire
