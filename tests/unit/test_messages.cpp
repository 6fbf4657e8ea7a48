// Every (message, version): encode matches the bytes Kafka's own classes wrote (tests/golden), decode gives
// back the same struct, nulls round-trip, and every truncation fails cleanly.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <sstream>

#include "kafkawire/protocol/apis.hpp"
#include "support/filler.hpp"
#include "support/golden.hpp"
#include "support/hex.hpp"

using namespace kafkawire::protocol;
using kafkawire::client_errc;
using kafkawire::testing::Filler;

namespace {

// "<name> <version>" -> bytes, from tests/golden/messages.txt.
const std::map<std::string, std::vector<uint8_t>>& golden() { return kafkawire::testing::golden_messages(); }

template <class M>
void check_message() {
  for (int16_t v = M::min_version; v <= M::max_version; ++v) {
    const bool flex = is_flexible<M>(v);
    const std::string id = std::string(M::name) + " " + std::to_string(v);
    SECTION(id) {
      INFO(id);
      const M filled = Filler::make<M>(v, flex);

      // Golden: Kafka's own classes wrote these bytes from the same values.
      auto it = golden().find(id);
      REQUIRE(it != golden().end());
      std::error_code ec;
      const std::vector<uint8_t> bytes = encode(filled, v, &ec);
      REQUIRE_FALSE(ec);
      CHECK(kafkawire::testing::to_hex(bytes) == kafkawire::testing::to_hex(it->second));

      M decoded;
      REQUIRE_FALSE(decode(Bytes(it->second), decoded, v));
      CHECK(decoded == filled);

      // Nulls and empty arrays: the other encodings of the same fields.
      const M nulls = Filler::make<M>(v, flex, true);
      const std::vector<uint8_t> null_bytes = encode(nulls, v, &ec);
      REQUIRE_FALSE(ec);
      M null_decoded;
      REQUIRE_FALSE(decode(Bytes(null_bytes), null_decoded, v));
      CHECK(null_decoded == nulls);

      // Every proper prefix is an error, never a crash, never a success.
      for (size_t n = 0; n < it->second.size(); ++n) {
        M partial;
        if (!decode(Bytes(it->second.data(), n), partial, v)) FAIL("prefix of " << n << " bytes decoded");
      }
      // A trailing byte is an error too.
      std::vector<uint8_t> longer = it->second;
      longer.push_back(0);
      M extra;
      CHECK(decode(Bytes(longer), extra, v) == std::error_code(client_errc::trailing_bytes));
    }
  }
}

}  // namespace

TEST_CASE("every message at every version matches the reference bytes", "[golden]") {
  for_each_message([](auto type) { check_message<typename decltype(type)::type>(); });
}

TEST_CASE("a version outside the range is refused", "[golden]") {
  std::error_code ec;
  encode(ApiVersionsRequest{}, ApiVersionsRequest::max_version + 1, &ec);
  CHECK(ec == client_errc::unsupported_version);
  ApiVersionsResponse r;
  CHECK(decode(Bytes(), r, -1) == client_errc::unsupported_version);
}
