// How a message is described once and then encoded, decoded, printed and explained.
//
// Every request, response and nested struct has one hand-written function
//
//     template <class V> void visit(V& v, ApiVersionsResponse& m) {
//       v.field("ErrorCode", m.error_code);
//       v.field("ApiKeys", m.api_keys);                       // an array of structs: visit() of each
//       if (v.version() >= 1) v.field("ThrottleTimeMs", m.throttle_time_ms);
//       v.tags([&](auto& t) {                                  // the tagged-field section (flexible only)
//         t.field(0, "SupportedFeatures", m.supported_features);
//         t.field(1, "FinalizedFeaturesEpoch", m.finalized_features_epoch, -1);  // written when != -1
//       });
//     }
//
// that lists the fields in wire order for the version at hand, with the names of Kafka's JSON schema. The
// C++ type of a member says its wire type (int32_t is INT32, std::string is STRING or COMPACT_STRING by
// version, std::optional<...> is the nullable form, std::vector is an array, Uuid, Bytes, Records;
// SecretBytes is BYTES that the printers show as a length only).
// Visitors give the walk a meaning: Encoder writes bytes, Decoder reads them, JsonWriter (json.hpp)
// prints, the explainer in tools/ records offsets. One description, so encode and decode cannot drift.
//
// Every struct must end with v.tags(...) or v.tags(): in flexible versions each struct, each array
// element included, ends with its own tagged-field section (KIP-482), and in classic versions it is a no-op.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kafkawire/protocol/wire.hpp"

namespace kafkawire::protocol {

// "flexibleVersions": "none" in a schema.
inline constexpr int16_t kNeverFlexible = 0x7fff;

template <class T>
struct is_vector : std::false_type {};
template <class T, class A>
struct is_vector<std::vector<T, A>> : std::true_type {};
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};

// A message: a top-level struct with a name and a version range (requests and responses also have
// an api_key; headers and the consumer-protocol structs have api_key -1).
template <class M>
concept Message = requires {
  { M::name } -> std::convertible_to<std::string_view>;
  { M::min_version } -> std::convertible_to<int16_t>;
  { M::max_version } -> std::convertible_to<int16_t>;
  { M::first_flexible } -> std::convertible_to<int16_t>;
};

template <Message M>
constexpr bool is_flexible(int16_t version) {
  return version >= M::first_flexible;
}

template <Message M>
constexpr bool supports_version(int16_t version) {
  return version >= M::min_version && version <= M::max_version;
}

// ------------------------------------------------------------------------------------------ MinWireSize

// The fewest bytes one value of type T takes on the wire at a version: a count read from the wire can claim
// at most remaining / min_wire_size elements, so that is all a decoder reserves before reading them (a
// count is checked against the bytes remaining, but reserve(count) would still allocate count * sizeof(T)).
// One more visitor of the visit() functions: a struct's minimum is the sum of its fields' minimums (arrays,
// strings and bytes count their length prefix only, nullable structs their marker).
class MinWireSize {
 public:
  MinWireSize(int16_t version, bool flexible) : version_(version), flexible_(flexible) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  size_t total() const { return total_; }

  template <class T>
  void field(std::string_view, T&) {
    total_ += of<T>();
  }
  template <class T>
  void field(std::string_view, std::optional<T>&, bool nullable) {
    total_ += nullable ? of<std::optional<T>>() : of<T>();
  }
  void classic_nullable_string(std::string_view, std::optional<std::string>&) { total_ += 2; }
  void tags() { total_ += flexible_ ? 1 : 0; }  // the tag count; tagged fields themselves are optional
  template <class F>
  void tags(F&&) {
    tags();
  }

  template <class T>
  size_t of() const {
    if constexpr (std::is_same_v<T, bool> || std::is_same_v<T, int8_t>) {
      return 1;
    } else if constexpr (std::is_integral_v<T>) {
      return sizeof(T);
    } else if constexpr (std::is_same_v<T, Uuid>) {
      return 16;
    } else if constexpr (std::is_same_v<T, std::string>) {
      return flexible_ ? 1 : 2;
    } else if constexpr (std::is_same_v<T, Bytes> || std::is_same_v<T, SecretBytes> ||
                         std::is_same_v<T, Records> || is_vector<T>::value) {
      return flexible_ ? 1 : 4;
    } else if constexpr (is_optional<T>::value) {
      using E = typename T::value_type;
      if constexpr (std::is_same_v<E, std::string> || std::is_same_v<E, Bytes> || is_vector<E>::value)
        return of<E>();
      else
        return 1;  // a nullable struct's marker
    } else {
      MinWireSize sub(version_, flexible_);
      T x{};
      visit(sub, x);
      return sub.total_;
    }
  }

 private:
  int16_t version_;
  bool flexible_;
  size_t total_ = 0;
};

// At least 1, so that it can divide.
template <class T>
size_t min_wire_size(int16_t version, bool flexible) {
  const size_t n = MinWireSize(version, flexible).of<T>();
  return n == 0 ? 1 : n;
}

// How many elements of T to reserve for a count read from the wire with `remaining` bytes left after it.
template <class T>
size_t bounded_reserve(int32_t count, size_t remaining, int16_t version, bool flexible) {
  if (count <= 0) return 0;
  return std::min(static_cast<size_t>(count), remaining / min_wire_size<T>(version, flexible));
}

// ---------------------------------------------------------------------------------------------- Encoder

class Encoder {
 public:
  Encoder(Writer& w, int16_t version, bool flexible) : w_(w), version_(version), flexible_(flexible) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  Writer& writer() { return w_; }

  template <class T>
  void field(std::string_view, T& x) {
    put(x);
  }
  // A std::optional field that is nullable only in some versions: null where it is not is an error
  // (Kafka's own serializer refuses it too).
  template <class T>
  void field(std::string_view, std::optional<T>& x, bool nullable) {
    if (nullable) {
      put(x);
    } else if (x) {
      put(*x);
    } else {
      w_.fail(client_errc::not_nullable);
    }
  }
  // RequestHeader's ClientId keeps its int16 length even in flexible header v2.
  void classic_nullable_string(std::string_view, std::optional<std::string>& s) {
    w_.nullable_string(s, false);
  }

  void tags() {
    if (flexible_) w_.uvarint(0);
  }
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    TagCounter counter;
    declare(counter);
    w_.uvarint(counter.count);
    TagWriter tw{*this};
    declare(tw);
  }

 private:
  // Tagged fields are written only when they differ from their default.
  struct TagCounter {
    uint32_t count = 0;
    template <class T>
    void field(uint32_t, std::string_view, T& x, const std::type_identity_t<T>& def = T{}) {
      if (!(x == def)) ++count;
    }
  };
  struct TagWriter {
    Encoder& enc;
    int64_t last = -1;
    template <class T>
    void field(uint32_t tag, std::string_view, T& x, const std::type_identity_t<T>& def = T{}) {
      if (x == def) return;
      if (static_cast<int64_t>(tag) <= last) enc.w_.fail(client_errc::tag_order);
      last = tag;
      // The size comes before the value, so encode the value on its own first.
      Writer tmp;
      Encoder sub(tmp, enc.version_, true);
      sub.put(x);
      if (!tmp.ok()) enc.w_.fail(tmp.error());
      enc.w_.uvarint(tag);
      enc.w_.uvarint(static_cast<uint32_t>(tmp.size()));
      enc.w_.raw(tmp.buffer().data(), tmp.size());
    }
  };

  template <class T>
  void put(T& x) {
    using U = std::remove_const_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
      w_.boolean(x);
    } else if constexpr (std::is_same_v<U, int8_t>) {
      w_.i8(x);
    } else if constexpr (std::is_same_v<U, int16_t>) {
      w_.i16(x);
    } else if constexpr (std::is_same_v<U, int32_t>) {
      w_.i32(x);
    } else if constexpr (std::is_same_v<U, int64_t>) {
      w_.i64(x);
    } else if constexpr (std::is_same_v<U, uint16_t>) {
      w_.u16(x);
    } else if constexpr (std::is_same_v<U, uint32_t>) {
      w_.u32(x);
    } else if constexpr (std::is_same_v<U, std::string>) {
      w_.string(x, flexible_);
    } else if constexpr (std::is_same_v<U, Bytes>) {
      w_.bytes(x, flexible_);
    } else if constexpr (std::is_same_v<U, SecretBytes>) {
      w_.bytes(x.bytes, flexible_);
    } else if constexpr (std::is_same_v<U, Records>) {
      w_.nullable_bytes(x.bytes, flexible_);
    } else if constexpr (std::is_same_v<U, Uuid>) {
      w_.uuid(x);
    } else if constexpr (is_vector<U>::value) {
      w_.array_length(x.size(), flexible_);
      for (auto& e : x) put(e);
    } else if constexpr (is_optional<U>::value) {
      using E = typename U::value_type;
      if constexpr (std::is_same_v<E, std::string>) {
        w_.nullable_string(x, flexible_);
      } else if constexpr (std::is_same_v<E, Bytes>) {
        w_.nullable_bytes(x, flexible_);
      } else if constexpr (is_vector<E>::value) {
        if (x)
          put(*x);
        else
          w_.null_array(flexible_);
      } else {
        // A nullable struct: an int8 marker, -1 for null and 1 for present.
        w_.i8(x ? 1 : -1);
        if (x) put(*x);
      }
    } else {
      visit(*this, x);
    }
  }

  Writer& w_;
  int16_t version_;
  bool flexible_;
};

// ---------------------------------------------------------------------------------------------- Decoder

class Decoder {
 public:
  Decoder(Reader& r, int16_t version, bool flexible) : r_(r), version_(version), flexible_(flexible) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  Reader& reader() { return r_; }

  template <class T>
  void field(std::string_view, T& x) {
    get(x);
  }
  template <class T>
  void field(std::string_view, std::optional<T>& x, bool nullable) {
    if (nullable) {
      get(x);
    } else {
      get(x.emplace());
    }
  }
  void classic_nullable_string(std::string_view, std::optional<std::string>& s) {
    s = r_.nullable_string(false);
  }

  void tags() {
    tags([](auto&) {});
  }
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    const uint32_t n = r_.uvarint();
    int64_t last = -1;
    for (uint32_t i = 0; i < n && r_.ok(); ++i) {
      const uint32_t tag = r_.uvarint();
      const uint32_t size = r_.uvarint();
      if (static_cast<int64_t>(tag) <= last) r_.fail(client_errc::tag_order);
      last = tag;
      Bytes body = r_.take(size);
      if (!r_.ok()) return;
      // Unknown tags are skipped: that is what lets old readers meet new writers.
      TagReader tr{*this, tag, body};
      declare(tr);
    }
  }

 private:
  struct TagReader {
    Decoder& dec;
    uint32_t tag;
    Bytes body;
    template <class T>
    void field(uint32_t t, std::string_view, T& x, const std::type_identity_t<T>& = T{}) {
      if (t != tag) return;
      Reader sub(body);
      Decoder d(sub, dec.version_, true);
      d.get(x);
      if (sub.ok() && sub.remaining() != 0) sub.fail(client_errc::malformed);
      if (!sub.ok()) dec.r_.fail(sub.error());
    }
  };

  template <class T>
  void get(T& x) {
    if constexpr (std::is_same_v<T, bool>) {
      x = r_.boolean();
    } else if constexpr (std::is_same_v<T, int8_t>) {
      x = r_.i8();
    } else if constexpr (std::is_same_v<T, int16_t>) {
      x = r_.i16();
    } else if constexpr (std::is_same_v<T, int32_t>) {
      x = r_.i32();
    } else if constexpr (std::is_same_v<T, int64_t>) {
      x = r_.i64();
    } else if constexpr (std::is_same_v<T, uint16_t>) {
      x = r_.u16();
    } else if constexpr (std::is_same_v<T, uint32_t>) {
      x = r_.u32();
    } else if constexpr (std::is_same_v<T, std::string>) {
      x = r_.string(flexible_);
    } else if constexpr (std::is_same_v<T, Bytes>) {
      x = r_.bytes(flexible_);
    } else if constexpr (std::is_same_v<T, SecretBytes>) {
      x.bytes = r_.bytes(flexible_);
    } else if constexpr (std::is_same_v<T, Records>) {
      x.bytes = r_.nullable_bytes(flexible_);
    } else if constexpr (std::is_same_v<T, Uuid>) {
      x = r_.uuid();
    } else if constexpr (is_vector<T>::value) {
      const int32_t n = r_.array_length(flexible_);
      if (n < 0) {
        if (r_.ok()) r_.fail(client_errc::malformed);  // null for a non-nullable array
        return;
      }
      get_elements(x, n);
    } else if constexpr (is_optional<T>::value) {
      using E = typename T::value_type;
      if constexpr (std::is_same_v<E, std::string>) {
        x = r_.nullable_string(flexible_);
      } else if constexpr (std::is_same_v<E, Bytes>) {
        x = r_.nullable_bytes(flexible_);
      } else if constexpr (is_vector<E>::value) {
        const int32_t n = r_.array_length(flexible_);
        if (n < 0) {
          x.reset();
          return;
        }
        get_elements(x.emplace(), n);
      } else {
        const int8_t marker = r_.i8();
        if (marker < 0) {
          x.reset();
        } else {
          get(x.emplace());
        }
      }
    } else {
      visit(*this, x);
    }
  }

  template <class V>
  void get_elements(V& x, int32_t n) {
    x.clear();
    x.reserve(bounded_reserve<typename V::value_type>(n, r_.remaining(), version_, flexible_));
    for (int32_t i = 0; i < n && r_.ok(); ++i) get(x.emplace_back());
  }

  Reader& r_;
  int16_t version_;
  bool flexible_;
};

// ------------------------------------------------------------------------------------ message functions

// Encodes the body of m (no header, no size) at version. Errors (a version the message does not have, a
// null where none is allowed) are left in w.error().
template <Message M>
void encode(Writer& w, const M& m, int16_t version) {
  if (!supports_version<M>(version)) {
    w.fail(client_errc::unsupported_version);
    return;
  }
  Encoder e(w, version, is_flexible<M>(version));
  // visit() takes a non-const reference because the same walk also decodes; encoding only reads.
  visit(e, const_cast<M&>(m));
}

template <Message M>
std::vector<uint8_t> encode(const M& m, int16_t version, std::error_code* ec = nullptr) {
  Writer w;
  encode(w, m, version);
  if (ec) *ec = w.error();
  return w.release();
}

// Decodes a body from r at version; leaves r after it. Check r.ok() / the returned error.
template <Message M>
std::error_code decode(Reader& r, M& m, int16_t version) {
  if (!supports_version<M>(version)) return client_errc::unsupported_version;
  Decoder d(r, version, is_flexible<M>(version));
  visit(d, m);
  return r.error();
}

// Decodes a whole body: bytes left over are an error (rskafka's TooMuchData), since they mean the
// description and the bytes disagree about the layout.
template <Message M>
std::error_code decode(Bytes body, M& m, int16_t version) {
  Reader r(body);
  if (auto ec = decode(r, m, version)) return ec;
  if (r.remaining() != 0) return client_errc::trailing_bytes;
  return {};
}

}  // namespace kafkawire::protocol
