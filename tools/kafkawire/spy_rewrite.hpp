// Address rewriting for `kafkawire spy`: the broker addresses a response advertises are replaced by the
// spy's own, so that clients keep talking through it after their bootstrap (see spy_proxy.hpp for which
// responses and why). Pure code over decoded messages; where the listeners come from is the caller's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include "kafkawire/protocol/apis.hpp"

namespace kafkawire::cli::spy {

namespace proto = kafkawire::protocol;

class AddressRewriter {
 public:
  // The local port that stands for an advertised broker address, opening a listener when needed; 0 when
  // none could be opened (the address is then left as it is).
  using LocalPortFor = std::function<uint16_t(const std::string& host, int32_t port)>;

  AddressRewriter(std::string advertise_host, LocalPortFor local_port_for)
      : advertise_(std::move(advertise_host)), local_port_for_(std::move(local_port_for)) {}

  // Rewrites the broker addresses in a response (and caps ApiVersions' Metadata and FindCoordinator max
  // versions at what kafkawire decodes); returns what was changed, empty when nothing was.
  std::string rewrite(proto::MetadataResponse& m, int16_t version) const;
  std::string rewrite(proto::FindCoordinatorResponse& m, int16_t version) const;
  std::string rewrite(proto::FetchResponse& m, int16_t version) const;
  std::string rewrite(proto::ProduceResponse& m, int16_t version) const;
  std::string rewrite(proto::ApiVersionsResponse& m, int16_t version) const;
  template <class M>
  std::string rewrite(M&, int16_t) const {
    return "";  // names no broker
  }

 private:
  // Replaces one advertised address with the spy's; describes the change in `note`.
  bool address(std::string& host, int32_t& port, std::string& note) const;

  std::string advertise_;
  LocalPortFor local_port_for_;
};

// A whole response frame (4-byte size, header, body) encoded from its parts, as a rewritten response is
// sent on; the encoder's error when kafkawire cannot encode it.
template <class Resp>
std::error_code encode_response_frame(const proto::ResponseHeader& header, int16_t header_version,
                                      const Resp& m, int16_t version, std::vector<uint8_t>& frame) {
  proto::Writer w;
  w.i32(0);
  proto::encode(w, header, header_version);
  proto::encode(w, m, version);
  if (!w.ok()) return w.error();
  w.patch_i32(0, static_cast<int32_t>(w.size() - 4));
  frame = w.release();
  return {};
}

}  // namespace kafkawire::cli::spy
