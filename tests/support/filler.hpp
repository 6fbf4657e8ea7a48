// Fills any message with deterministic values that differ from every field's default, for the golden
// vectors: the same walk as encoding (visit()), so each version gets exactly its own fields. Arrays get
// two elements, nullable fields a value, tagged fields a non-default value (so they are written).
//
// With nulls = true, the other extreme: every field that is nullable at this version is null and every
// array empty, which round-trip tests use to cover the null encodings.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::testing {

using namespace kafkawire::protocol;

class Filler {
 public:
  Filler(int16_t version, bool flexible, bool nulls = false)
      : version_(version), flexible_(flexible), nulls_(nulls) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  template <class T>
  void field(std::string_view name, T& x) {
    fill(name, x);
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool nullable) {
    if (nulls_ && nullable) {
      x.reset();
      return;
    }
    fill(name, x.emplace());
  }
  void classic_nullable_string(std::string_view name, std::optional<std::string>& s) { field(name, s, true); }
  void tags() {}
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    TagFiller t{*this};
    declare(t);
  }

  template <class M>
  static M make(int16_t version, bool flexible, bool nulls = false) {
    M m;
    Filler f(version, flexible, nulls);
    visit(f, m);
    return m;
  }

 private:
  struct TagFiller {
    Filler& f;
    template <class T>
    void field(uint32_t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      if (f.nulls_) return;  // leave the default: tagged fields are then absent from the wire
      f.fill(name, x);
    }
  };

  // Bytes the filled message's views point at; a deque so that views stay valid as it grows.
  Bytes store(std::vector<uint8_t> v) {
    arena_.push_back(std::move(v));
    return Bytes(arena_.back());
  }
  uint64_t next() { return ++counter_; }

  template <class T>
  void fill(std::string_view name, T& x) {
    if constexpr (std::is_same_v<T, bool>) {
      x = !x;
    } else if constexpr (std::is_integral_v<T>) {
      const uint64_t c = next();
      T v;
      if constexpr (sizeof(T) == 1)
        v = static_cast<T>(c % 100 + 1);
      else if constexpr (sizeof(T) == 2)
        v = static_cast<T>(c * 31 % 30000 + 2);
      else if constexpr (sizeof(T) == 4)
        v = static_cast<T>(c * 100003 % 2000000000 + 3);
      else
        v = static_cast<T>(c * 1000000007ULL + 1234567890123ULL);
      x = (v == x) ? static_cast<T>(v + 1) : v;
    } else if constexpr (std::is_same_v<T, std::string>) {
      x = std::string(name) + "-" + std::to_string(next());
    } else if constexpr (std::is_same_v<T, Bytes>) {
      const uint64_t c = next();
      std::vector<uint8_t> v(c % 5 + 1);
      for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(c * 13 + i);
      x = store(std::move(v));
    } else if constexpr (std::is_same_v<T, SecretBytes>) {
      fill(name, x.bytes);
    } else if constexpr (std::is_same_v<T, Records>) {
      if (nulls_) {  // records are nullable at every version
        x.bytes.reset();
        return;
      }
      const uint64_t c = next();
      std::vector<uint8_t> v(7);
      for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(c * 7 + i);
      x.bytes = store(std::move(v));
    } else if constexpr (std::is_same_v<T, Uuid>) {
      const uint64_t c = next();
      for (size_t i = 0; i < 16; ++i) x.bytes[i] = static_cast<uint8_t>(c * 37 + i * 11 + 1);
    } else if constexpr (is_vector<T>::value) {
      x.clear();
      if (nulls_) return;
      x.resize(2);
      for (auto& e : x) fill(name, e);
    } else if constexpr (is_optional<T>::value) {
      // A plain field() on an optional means "nullable at every version".
      if (nulls_)
        x.reset();
      else
        fill(name, x.emplace());
    } else {
      visit(*this, x);
    }
  }

  int16_t version_;
  bool flexible_;
  bool nulls_;
  uint64_t counter_ = 0;
  // Shared with copies of the message: the arena lives in a static so made messages outlive the Filler.
  static inline std::deque<std::vector<uint8_t>> arena_;
};

}  // namespace kafkawire::testing
