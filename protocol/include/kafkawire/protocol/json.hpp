// Prints any message as JSON, in the form Kafka's own JsonConverter classes use: camelCase keys (the
// schema name with its first letter lowered), bytes and records as base64, UUIDs as Kafka's Uuid.toString
// (URL-safe base64 without padding), null for null. The golden-vector generator feeds this to the Java
// reference implementation, and the tools print it with -J.
//
// SecretBytes (SaslAuthenticate's AuthBytes: a password, a token) are printed as a string giving their
// length only, "23 bytes (not shown: may hold a password or token)", unless the writer is told to reveal
// them (Secrets::reveal), which only the golden-vector filler does, since its values are made up.
#pragma once

#include <string>
#include <string_view>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

std::string base64(Bytes b, bool url_safe_no_padding = false);
// Appends s as a JSON string, quotes included. Bytes that are not valid UTF-8 are written as \u00XX, so
// the output is always valid UTF-8 and valid JSON whatever s holds.
void append_json_string(std::string& out, std::string_view s);
// The length of the valid UTF-8 sequence starting at s[i] (1 for ASCII), or 0 when s[i] does not start
// one (a stray continuation byte, a cut sequence, an overlong form, a surrogate, past U+10FFFF).
size_t utf8_sequence_length(std::string_view s, size_t i);

enum class Secrets { hide, reveal };

class JsonWriter {
 public:
  JsonWriter(std::string& out, int16_t version, bool flexible, Secrets secrets = Secrets::hide)
      : out_(out), version_(version), flexible_(flexible), secrets_(secrets) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  template <class T>
  void field(std::string_view name, T& x) {
    key(name);
    value(x);
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool /*nullable*/) {
    field(name, x);
  }
  void classic_nullable_string(std::string_view name, std::optional<std::string>& s) { field(name, s); }
  void tags() {}
  template <class F>
  void tags(F&& declare) {
    // Tagged fields print like any other field: JSON has no wire sections.
    if (!flexible_) return;
    TagPrinter p{*this};
    declare(p);
  }

  // The whole struct as an object.
  template <class T>
  void object(T& x) {
    out_ += '{';
    first_ = true;
    visit(*this, x);
    out_ += '}';
  }

 private:
  struct TagPrinter {
    JsonWriter& w;
    template <class T>
    void field(uint32_t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      w.field(name, x);
    }
  };

  void key(std::string_view name) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    if (!name.empty()) {
      out_ += static_cast<char>(name[0] >= 'A' && name[0] <= 'Z' ? name[0] - 'A' + 'a' : name[0]);
      out_.append(name.substr(1));
    }
    out_ += "\":";
  }

  template <class T>
  void value(T& x) {
    using U = std::remove_const_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
      out_ += x ? "true" : "false";
    } else if constexpr (std::is_integral_v<U>) {
      out_ += std::to_string(x);
    } else if constexpr (std::is_same_v<U, std::string>) {
      append_json_string(out_, x);
    } else if constexpr (std::is_same_v<U, Bytes>) {
      out_ += '"' + base64(x) + '"';
    } else if constexpr (std::is_same_v<U, SecretBytes>) {
      if (secrets_ == Secrets::reveal)
        value(x.bytes);
      else
        append_json_string(out_, secret_text(x.bytes.len));
    } else if constexpr (std::is_same_v<U, Records>) {
      if (x.bytes)
        value(*x.bytes);
      else
        out_ += "null";
    } else if constexpr (std::is_same_v<U, Uuid>) {
      out_ += '"' + base64(Bytes(x.bytes.data(), x.bytes.size()), true) + '"';
    } else if constexpr (is_vector<U>::value) {
      out_ += '[';
      bool first = true;
      for (auto& e : x) {
        if (!first) out_ += ',';
        first = false;
        value(e);
      }
      out_ += ']';
    } else if constexpr (is_optional<U>::value) {
      if (x)
        value(*x);
      else
        out_ += "null";
    } else {
      const bool saved = first_;
      object(x);
      first_ = saved;
    }
  }

  std::string& out_;
  int16_t version_;
  bool flexible_;
  Secrets secrets_;
  bool first_ = true;
};

template <Message M>
std::string to_json(const M& m, int16_t version, Secrets secrets = Secrets::hide) {
  std::string out;
  JsonWriter w(out, version, is_flexible<M>(version), secrets);
  w.object(const_cast<M&>(m));
  return out;
}

}  // namespace kafkawire::protocol
