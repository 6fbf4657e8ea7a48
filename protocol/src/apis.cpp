#include "kafkawire/protocol/apis.hpp"

namespace kafkawire::protocol {

std::string_view api_name(int16_t key) {
  std::string_view name;
  with_api(key, [&](auto api) {
    name = decltype(api)::request::name;
    name.remove_suffix(std::string_view("Request").size());
  });
  return name;
}

}  // namespace kafkawire::protocol
