#include "spy_rewrite.hpp"

#include "spy_summary.hpp"

namespace kafkawire::cli::spy {

bool AddressRewriter::address(std::string& host, int32_t& port, std::string& note) const {
  const uint16_t local = local_port_for_(host, port);
  if (local == 0) return false;
  if (!note.empty()) note += ", ";
  note += host_port(host, port) + " -> " + host_port(advertise_, local);
  host = advertise_;
  port = local;
  return true;
}

std::string AddressRewriter::rewrite(proto::MetadataResponse& m, int16_t) const {
  std::string note;
  for (auto& b : m.brokers) address(b.host, b.port, note);
  return note;
}

std::string AddressRewriter::rewrite(proto::FindCoordinatorResponse& m, int16_t version) const {
  std::string note;
  if (version <= 3) {
    if (m.error_code == 0 && m.port > 0) address(m.host, m.port, note);
  } else {
    for (auto& c : m.coordinators)
      if (c.error_code == 0 && c.port > 0) address(c.host, c.port, note);
  }
  return note;
}

std::string AddressRewriter::rewrite(proto::FetchResponse& m, int16_t) const {
  std::string note;
  for (auto& e : m.node_endpoints) address(e.host, e.port, note);
  return note;
}

std::string AddressRewriter::rewrite(proto::ProduceResponse& m, int16_t) const {
  std::string note;
  for (auto& e : m.node_endpoints) address(e.host, e.port, note);
  return note;
}

std::string AddressRewriter::rewrite(proto::ApiVersionsResponse& m, int16_t) const {
  std::string note;
  for (auto& a : m.api_keys) {
    int16_t cap = -1;
    if (a.api_key == proto::MetadataResponse::api_key) cap = proto::MetadataResponse::max_version;
    if (a.api_key == proto::FindCoordinatorResponse::api_key)
      cap = proto::FindCoordinatorResponse::max_version;
    if (cap >= 0 && a.max_version > cap && a.min_version <= cap) {
      if (!note.empty()) note += ", ";
      note += api_text(a.api_key, a.max_version) + " capped at v" + std::to_string(cap);
      a.max_version = cap;
    }
  }
  return note;
}

}  // namespace kafkawire::cli::spy
