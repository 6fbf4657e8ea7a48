// OffsetFetch's Topics is nullable only from v2: the default must encode at v1, and null must not.
#include <catch2/catch.hpp>

#include "kafkawire/protocol/apis.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;

TEST_CASE("a default OffsetFetchRequest encodes at every version", "[api]") {
  for (int16_t v = OffsetFetchRequest::min_version; v <= OffsetFetchRequest::max_version; ++v) {
    INFO("version " << v);
    std::error_code ec;
    encode(OffsetFetchRequest{}, v, &ec);
    CHECK_FALSE(ec);
  }
}

TEST_CASE("OffsetFetchRequest null Topics (all topics) needs v2", "[api]") {
  OffsetFetchRequest r;
  r.group_id = "g";
  r.topics.reset();
  std::error_code ec;
  encode(r, 1, &ec);
  CHECK(ec == std::error_code(client_errc::not_nullable));

  const std::vector<uint8_t> bytes = encode(r, 2, &ec);
  REQUIRE_FALSE(ec);
  // int16 length + "g", then int32 -1 for the null array.
  CHECK(bytes == std::vector<uint8_t>{0x00, 0x01, 'g', 0xff, 0xff, 0xff, 0xff});
  OffsetFetchRequest back;
  REQUIRE_FALSE(decode(Bytes(bytes), back, 2));
  CHECK(back == r);
}
