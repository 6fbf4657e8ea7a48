// The int16 version prefix of the consumer protocol (see consumer_protocol.hpp).
#include "kafkawire/protocol/consumer_protocol.hpp"

#include <algorithm>

namespace kafkawire::protocol {

namespace {

template <Message M>
std::vector<uint8_t> encode_with_version(const M& m, int16_t version, std::error_code* ec) {
  Writer w;
  w.i16(version);
  encode(w, m, version);
  if (ec) *ec = w.error();
  if (!w.ok()) return {};
  return w.release();
}

template <Message M>
std::error_code decode_with_version(Bytes b, M& m, int16_t* version_out) {
  Reader r(b);
  const int16_t version = r.i16();
  if (!r.ok()) return r.error();
  if (version_out) *version_out = version;
  if (version < M::min_version) return client_errc::unsupported_version;
  // Newer versions only append fields: read what we know and leave the rest.
  const int16_t layout = std::min(version, M::max_version);
  M decoded;
  if (auto ec = decode(r, decoded, layout)) return ec;
  if (version <= M::max_version && r.remaining() != 0) return client_errc::trailing_bytes;
  m = std::move(decoded);
  return {};
}

}  // namespace

std::vector<uint8_t> encode_versioned(const ConsumerProtocolSubscription& m, int16_t version,
                                      std::error_code* ec) {
  return encode_with_version(m, version, ec);
}

std::vector<uint8_t> encode_versioned(const ConsumerProtocolAssignment& m, int16_t version,
                                      std::error_code* ec) {
  return encode_with_version(m, version, ec);
}

std::error_code decode_versioned(Bytes b, ConsumerProtocolSubscription& m, int16_t* version_out) {
  return decode_with_version(b, m, version_out);
}

std::error_code decode_versioned(Bytes b, ConsumerProtocolAssignment& m, int16_t* version_out) {
  return decode_with_version(b, m, version_out);
}

}  // namespace kafkawire::protocol
