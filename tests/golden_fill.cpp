// Prints, for every message kafkawire speaks and every version of it, one JSON line
//   {"name":"FetchRequest","version":12,"data":{...}}
// with the deterministic non-default values of support/filler.hpp. tests/golden/regen.sh pipes this into
// the Java generator, which has Kafka's own message classes read the JSON and write the bytes.
// Arguments, if any, are the message names to print (all when none): `golden-fill FetchRequest`.
// SecretBytes are printed as base64 like any bytes (Secrets::reveal): the values are made up, and the Java
// side needs them to write the reference bytes.
#include <algorithm>
#include <iostream>
#include <string_view>
#include <vector>

#include "kafkawire/protocol/apis.hpp"
#include "kafkawire/protocol/json.hpp"
#include "support/filler.hpp"

int main(int argc, char** argv) {
  using namespace kafkawire::protocol;
  const std::vector<std::string_view> only(argv + 1, argv + argc);
  for_each_message([&](auto type) {
    using M = typename decltype(type)::type;
    if (!only.empty() && std::find(only.begin(), only.end(), M::name) == only.end()) return;
    for (int16_t v = M::min_version; v <= M::max_version; ++v) {
      M m = kafkawire::testing::Filler::make<M>(v, is_flexible<M>(v));
      std::cout << "{\"name\":\"" << M::name << "\",\"version\":" << v
                << ",\"data\":" << to_json(m, v, Secrets::reveal) << "}\n";
    }
  });
}
