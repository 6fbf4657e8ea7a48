// ConsumerProtocolSubscription / ConsumerProtocolAssignment. PLACEHOLDER: fields not written yet.
#pragma once

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ConsumerProtocolSubscription {
  static constexpr std::string_view name = "ConsumerProtocolSubscription";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = kNeverFlexible;
  friend bool operator==(const ConsumerProtocolSubscription&, const ConsumerProtocolSubscription&) = default;
};

template <class V>
void visit(V& v, ConsumerProtocolSubscription&) {
  v.tags();
}

struct ConsumerProtocolAssignment {
  static constexpr std::string_view name = "ConsumerProtocolAssignment";
  static constexpr int16_t api_key = -1;
  static constexpr int16_t min_version = 0, max_version = 3, first_flexible = kNeverFlexible;
  friend bool operator==(const ConsumerProtocolAssignment&, const ConsumerProtocolAssignment&) = default;
};

template <class V>
void visit(V& v, ConsumerProtocolAssignment&) {
  v.tags();
}

}  // namespace kafkawire::protocol
