// The producer's RecordArena (consumer/src/producer_core.hpp): where records wait, compactly, before they
// are in a batch. What goes in comes back out byte for byte (null and empty fields, headers, a record
// larger than a chunk), and chunks are given back once every record in them has left, in whatever order.
#include <catch2/catch.hpp>

#include <string>

#include "../../consumer/src/producer_core.hpp"

using namespace kafkawire;

namespace {

std::optional<std::string> text(const std::optional<protocol::Bytes>& b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->ptr), b->len);
}

}  // namespace

TEST_CASE("record arena: a stored record loads back as it was", "[producer][arena]") {
  RecordArena arena;
  std::vector<protocol::Header> headers;
  const RecordHeaderRef r_headers[] = {{"h1", "x"}, {"h2", std::nullopt}, {"", ""}};
  RecordRef r{.topic = "t", .key = std::nullopt, .value = "v", .headers = r_headers};
  RecordRef empty{.topic = "t", .key = "", .value = std::nullopt};
  const std::string big_key(300, 'k'), big_value(700 * 1024, 'v');
  RecordRef big{.topic = "t", .key = big_key, .value = big_value};
  auto a = arena.store(r, 7);
  auto e = arena.store(empty, 0);
  auto g = arena.store(big, ~uint64_t{0});

  RecordView v;
  RecordArena::load(a, v, headers);
  CHECK(v.tag == 7);
  CHECK_FALSE(v.key);
  CHECK(text(v.value) == "v");
  REQUIRE(v.headers.size() == 3);
  CHECK(v.headers[0].key == "h1");
  CHECK(text(v.headers[0].value) == "x");
  CHECK(v.headers[1].key == "h2");
  CHECK_FALSE(v.headers[1].value);
  CHECK(v.headers[2].key.empty());
  CHECK(text(v.headers[2].value) == "");

  RecordArena::load(e, v, headers);
  CHECK(v.tag == 0);
  CHECK(text(v.key) == "");
  CHECK_FALSE(v.value);
  CHECK(v.headers.empty());

  RecordArena::load(g, v, headers);
  CHECK(v.tag == ~uint64_t{0});
  CHECK(text(v.key) == std::string(300, 'k'));
  CHECK(text(v.value) == std::string(700 * 1024, 'v'));
  CHECK(arena.chunks() == 2);  // the large record has a chunk of its own

  // Released out of order: the chunks go only when nothing in them is left, and releasing twice is a
  // no-op (a record completed after its copy was already given back).
  arena.release(e);
  arena.release(g);
  CHECK(arena.chunks() == 2);
  arena.release(a);
  arena.release(a);
  CHECK(arena.chunks() == 1);
  CHECK(a.data == nullptr);
}

TEST_CASE("record arena: many records across chunks, released in order, come back intact",
          "[producer][arena]") {
  RecordArena arena;
  std::vector<protocol::Header> headers;
  std::vector<RecordArena::Ref> refs;
  constexpr int kRecords = 20000;  // ~2.4 MB: about ten chunks
  for (int i = 0; i < kRecords; ++i) {
    const std::string key = "key-" + std::to_string(i), value(100, char('a' + i % 26));
    refs.push_back(
        arena.store(RecordRef{.topic = "t", .key = key, .value = value}, static_cast<uint64_t>(i)));
  }
  CHECK(arena.chunks() > 5);
  for (int i = 0; i < kRecords; ++i) {
    RecordView v;
    RecordArena::load(refs[i], v, headers);
    REQUIRE(v.tag == static_cast<uint64_t>(i));
    REQUIRE(text(v.key) == "key-" + std::to_string(i));
    REQUIRE(text(v.value) == std::string(100, char('a' + i % 26)));
    arena.release(refs[i]);
  }
  CHECK(arena.chunks() == 1);
  // The emptied chunk takes new records again.
  auto r = arena.store(RecordRef{.topic = "t", .value = "again"}, 1);
  RecordView v;
  RecordArena::load(r, v, headers);
  CHECK(text(v.value) == "again");
  CHECK(arena.chunks() == 1);
}
