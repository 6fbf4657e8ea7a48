// The explainer: what every byte of a request or response means.
//
// Explainer is one more visitor of the visit() functions of message.hpp (besides Encoder, Decoder and
// JsonWriter): it decodes exactly as Decoder does, and for every field it meets it records a node with the
// field's schema name, its byte offset and length, its raw bytes, its wire type ("int32", "compact_string",
// "compact array[3]", "tagged field 0 (size 12)", "uuid", "records", ...) and its value as text. Arrays,
// structs and tagged-field sections become nested nodes, with their length prefixes and tag/size varints as
// leaves of their own, so the leaves of the tree tile the input: every byte is in exactly one leaf. Unknown
// tags are kept as "unknown tag N (size M)" nodes. `records` fields are descended into: each RecordBatch v2
// header field (with the CRC checked and the attributes spelled out), then every record's varints, key,
// value and headers; compressed batches show their compressed block as one leaf and then the decompressed
// records in a node of their own, whose offsets count from the start of the decompressed block (`block`).
//
// Nothing here throws on bad input and nothing crashes: a truncation or a bad length becomes an error node
// at its offset (the rest of the bytes), bytes left after a body become an error node, and the tree stops
// there. Pure code: no I/O, no clocks.
//
//   Explanation e = explain_message<FetchResponse>(body, 12);        // a bare body, as the golden vectors
//   Explanation f = explain_frame(frame, {.direction = FrameDirection::request});   // size, header, body
//   std::cout << to_text(e);                                           // the annotated tree
//
// Lifetime: raw views point into the bytes given (keep them alive while the Explanation is used) or into
// the Explanation's own decompressed blocks.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "kafkawire/protocol/message.hpp"

namespace kafkawire::protocol {

struct ExplainNode {
  std::string name;   // schema name ("Topics"), "[2]" for array elements, "length", "tag", "size", ...
  std::string type;   // wire type: "int32", "compact_string", "compact array[3]", "uvarint length", ...
  std::string value;  // the decoded value as text; empty for most containers
  // Schema fields: the versions of the message in which the field exists ("v0+", "v1+", "v0-12",
  // "v3-5, v9+"), found by walking the message's visit() at every version; empty for what is not a schema
  // field (length prefixes, tags, array elements, record batch parts).
  std::string versions;
  // Schema fields: what the notes at the head of the message's header say about the field (see
  // explain_detail::field_meaning), one entry a line; often empty.
  std::string meaning;
  size_t offset = 0;  // of the first byte, counted in the node's space (see block)
  size_t length = 0;
  Bytes raw;            // the node's bytes
  uint32_t block = 0;   // 0: the explained input; k > 0: Explanation::blocks[k - 1] (decompressed records)
  bool error = false;   // a truncation, a bad length, trailing bytes, a CRC mismatch, ...
  bool hidden = false;  // a SecretBytes value: its bytes are never printed (neither hex nor text)
  std::vector<ExplainNode> children;

  bool leaf() const { return children.empty(); }
};

struct Explanation {
  ExplainNode root;
  // Decompressed record blocks, owned here; nodes with block k point into blocks[k - 1].
  std::vector<std::shared_ptr<const std::vector<uint8_t>>> blocks;

  // Every node with error set, in tree order.
  std::vector<const ExplainNode*> errors() const;
  bool ok() const { return errors().empty(); }
};

// ------------------------------------------------------------------------------------------ text helpers

namespace explain_detail {

std::string quote(std::string_view s);  // a JSON-quoted string, valid UTF-8; past 256 characters elided
std::string bytes_value(Bytes b);       // "abc" when printable, else hex; with the length
std::string uuid_value(const Uuid& u);  // Kafka's form (URL-safe base64) and the hex
std::string int_value(std::string_view name, int64_t v);  // annotates error codes and api keys
std::string plural(int64_t n, std::string_view one);      // "1 record", "2 records"

// Descends into the `records` bytes `data` found at `offset` of space `block`: adds one child per batch
// to `node` (and fills node.value with a summary). Decompressed blocks are appended to out.blocks.
void explain_records(ExplainNode& node, Bytes data, size_t offset, uint32_t block, Explanation& out);

// ------------------------------------------------------------------------------------ field versions

// Walks a message's visit() at one version with default values (one element per array, every nullable
// struct present, every tagged field declared) and marks, for each field path ("Topics/Partitions/
// PartitionIndex", array elements left out), that the field exists at that version.
class FieldPresence {
 public:
  using Seen = std::map<std::string, std::vector<int16_t>>;
  FieldPresence(int16_t version, bool flexible, Seen& seen, std::string prefix = {})
      : version_(version), flexible_(flexible), seen_(seen), prefix_(std::move(prefix)) {}
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }

  template <class T>
  void field(std::string_view name, T& x) {
    mark(name, x);
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool) {
    mark(name, x);
  }
  void classic_nullable_string(std::string_view name, std::optional<std::string>& s) { mark(name, s); }
  void tags() {}
  template <class F>
  void tags(F&& declare) {
    if (!flexible_) return;
    Tags t{*this};
    declare(t);
  }

 private:
  struct Tags {
    FieldPresence& p;
    template <class T>
    void field(uint32_t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      p.mark(name, x);
    }
  };

  template <class T>
  void mark(std::string_view name, T& x) {
    const std::string path = prefix_.empty() ? std::string(name) : prefix_ + "/" + std::string(name);
    auto& versions = seen_[path];
    if (versions.empty() || versions.back() != version_) versions.push_back(version_);
    descend(path, x);
  }
  template <class T>
  void descend(const std::string& path, T& x) {
    if constexpr (is_vector<T>::value) {
      using E = typename T::value_type;
      if constexpr (std::is_class_v<E> && !std::is_same_v<E, std::string> && !std::is_same_v<E, Bytes> &&
                    !std::is_same_v<E, Uuid>) {
        E e{};
        descend(path, e);
      }
    } else if constexpr (is_optional<T>::value) {
      typename T::value_type e{};
      descend(path, e);
    } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string> && !std::is_same_v<T, Bytes> &&
                         !std::is_same_v<T, SecretBytes> && !std::is_same_v<T, Records> &&
                         !std::is_same_v<T, Uuid>) {
      FieldPresence sub(version_, flexible_, seen_, path);
      visit(sub, x);
    }
  }

  int16_t version_;
  bool flexible_;
  Seen& seen_;
  std::string prefix_;
};

// What the version notes at the head of the message's header (protocol/include/kafkawire/protocol/) say
// about a field: the entries of the message's section that name it ("v5+: GroupInstanceId (static
// membership, KIP-345)"), one a line; from the baseline entry only the sentences saying something about
// it. Empty when the notes say nothing about it.
std::string field_meaning(std::string_view message, std::string_view field);

// "v0+", "v1-12", "v3-5, v9+": sorted versions as ranges; a range reaching `max` is open.
std::string version_ranges(const std::vector<int16_t>& versions, int16_t max);

// Field path -> the versions of M in which it exists; computed once per message type.
template <Message M>
const std::map<std::string, std::string>& field_versions() {
  static const std::map<std::string, std::string> table = [] {
    FieldPresence::Seen seen;
    for (int32_t v = M::min_version; v <= M::max_version; ++v) {
      M m{};
      FieldPresence p(static_cast<int16_t>(v), is_flexible<M>(static_cast<int16_t>(v)), seen);
      visit(p, m);
    }
    std::map<std::string, std::string> out;
    for (const auto& [path, versions] : seen) out[path] = version_ranges(versions, M::max_version);
    return out;
  }();
  return table;
}

template <class T>
constexpr std::string_view int_type() {
  if constexpr (std::is_same_v<T, int8_t>) return "int8";
  if constexpr (std::is_same_v<T, int16_t>) return "int16";
  if constexpr (std::is_same_v<T, int32_t>) return "int32";
  if constexpr (std::is_same_v<T, int64_t>) return "int64";
  if constexpr (std::is_same_v<T, uint16_t>) return "uint16";
  if constexpr (std::is_same_v<T, uint32_t>) return "uint32";
  return "?";
}

}  // namespace explain_detail

// ---------------------------------------------------------------------------------------------- Explainer

class Explainer {
 public:
  // Explains what `r` holds, adding nodes under `parent`. `base` is the offset of r's first byte in the
  // input, so the nodes carry offsets of the whole input.
  Explainer(Reader& r, size_t base, int16_t version, bool flexible, ExplainNode& parent, Explanation& out)
      : r_(r),
        begin_(r.position() - r.offset()),
        base_(base),
        version_(version),
        flexible_(flexible),
        out_(out) {
    stack_.push_back(&parent);
  }
  int16_t version() const { return version_; }
  bool flexible() const { return flexible_; }
  Reader& reader() { return r_; }

  // The fields met from here on are fields of message M: their nodes get M's version ranges.
  template <Message M>
  void use_versions_of() {
    versions_ = &explain_detail::field_versions<M>();
    message_ = M::name;
    path_.clear();
  }

  template <class T>
  void field(std::string_view name, T& x) {
    schema_field(name, [&] { item(name, x); });
  }
  template <class T>
  void field(std::string_view name, std::optional<T>& x, bool nullable) {
    schema_field(name, [&] {
      if (nullable)
        item(name, x);
      else
        item(name, x.emplace());
    });
  }
  void classic_nullable_string(std::string_view name, std::optional<std::string>& s) {
    schema_field(name, [&] {
      leaf(name, "nullable_string", [&] {
        s = r_.nullable_string(false);
        return s ? explain_detail::quote(*s) : std::string("null");
      });
    });
  }

  void tags() {
    tags([](auto&) {});
  }
  template <class F>
  void tags(F&& declare) {
    if (!flexible_ || !r_.ok()) return;
    const size_t start = r_.offset();
    const uint32_t n = r_.uvarint();
    if (!r_.ok()) return error_at(start, "tagged-field count");
    open("_tagged_fields", "tagged fields (" + std::to_string(n) + ")", start);
    if (n == 0) {
      top().value = "none";
      return close();
    }
    add_leaf("count", "uvarint", start, std::to_string(n));
    int64_t last = -1;
    for (uint32_t i = 0; i < n && r_.ok(); ++i) tagged_field(last, declare);
    close();
  }

 private:
  // One tagged field: tag and size varints, then the value as the visit() declares it, or raw bytes.
  template <class F>
  void tagged_field(int64_t& last, F& declare) {
    const size_t fstart = r_.offset();
    const uint32_t tag = r_.uvarint();
    if (!r_.ok()) return error_at(fstart, "tag");
    const size_t sstart = r_.offset();
    const uint32_t size = r_.uvarint();
    if (!r_.ok()) return error_at(fstart, "tagged-field size");
    if (static_cast<int64_t>(tag) <= last) {
      r_.fail(client_errc::tag_order);
      return error_at(fstart, "tag " + std::to_string(tag) + " after tag " + std::to_string(last));
    }
    last = tag;
    const size_t bstart = r_.offset();
    Bytes body = r_.take(size);
    const std::string sz = "(size " + std::to_string(size) + ")";
    if (!r_.ok()) return error_at(fstart, "tagged field " + std::to_string(tag) + " " + sz);
    open("(unknown)", "unknown tag " + std::to_string(tag) + " " + sz, fstart);
    add_leaf("tag", "uvarint", fstart, std::to_string(tag), sstart);
    add_leaf("size", "uvarint", sstart, std::to_string(size), bstart);
    TagExplainer te{*this, tag, body, bstart, sz, false};
    declare(te);
    if (!te.matched && size > 0) add_leaf("bytes", "bytes", bstart, explain_detail::bytes_value(body));
    close();
  }

  // Runs `add` (which adds at most one node for the field `name`) with the field's path, and gives the node
  // the field's version ranges.
  template <class F>
  void schema_field(std::string_view name, F&& add) {
    const size_t before = top().children.size();
    ExplainNode& parent = top();
    const size_t saved = path_.size();
    if (!path_.empty()) path_ += '/';
    path_ += name;
    add();
    if (versions_ && parent.children.size() > before && !parent.children[before].error) {
      auto it = versions_->find(path_);
      if (it != versions_->end()) parent.children[before].versions = it->second;
      parent.children[before].meaning = explain_detail::field_meaning(message_, name);
    }
    path_.resize(saved);
  }

  struct TagExplainer {
    Explainer& ex;
    uint32_t tag;
    Bytes body;
    size_t body_start;  // relative to ex's reader
    std::string size_text;
    bool matched;
    template <class T>
    void field(uint32_t t, std::string_view name, T& x, const std::type_identity_t<T>& = T{}) {
      if (t != tag || matched) return;
      matched = true;
      ExplainNode& node = ex.top();
      node.name = std::string(name);
      node.type = "tagged field " + std::to_string(tag) + " " + size_text;
      Reader sub(body);
      Explainer e(sub, ex.base_ + body_start, ex.version_, true, node, ex.out_);
      e.versions_ = ex.versions_;
      e.message_ = ex.message_;
      e.path_ = ex.path_.empty() ? std::string(name) : ex.path_ + "/" + std::string(name);
      if (e.versions_) {
        auto it = e.versions_->find(e.path_);
        if (it != e.versions_->end()) node.versions = it->second;
        node.meaning = explain_detail::field_meaning(e.message_, name);
      }
      e.item("value", x);
      if (sub.ok() && sub.remaining() != 0) {
        const size_t left = sub.remaining();
        sub.skip(left);
        e.error_span(sub.offset() - left, left,
                     std::to_string(left) + " bytes left over in tagged field " + std::to_string(tag));
      }
    }
  };

  ExplainNode& top() { return *stack_.back(); }

  // A new child of the current node, starting at reader offset `start` and ending at `end` (default: where
  // the reader is now).
  ExplainNode& add_leaf(std::string_view name, std::string_view type, size_t start, std::string value,
                        size_t end = static_cast<size_t>(-1)) {
    if (end == static_cast<size_t>(-1)) end = r_.offset();
    ExplainNode& n = top().children.emplace_back();
    n.name = std::string(name);
    n.type = std::string(type);
    n.value = std::move(value);
    n.offset = base_ + start;
    n.length = end - start;
    n.raw = Bytes(begin_ + start, end - start);
    return n;
  }
  void open(std::string_view name, std::string type, size_t start) {
    ExplainNode& n = top().children.emplace_back();
    n.name = std::string(name);
    n.type = std::move(type);
    n.offset = base_ + start;
    stack_.push_back(&n);
  }
  void close() {
    ExplainNode& n = top();
    const size_t start = n.offset - base_;
    n.length = r_.offset() - start;
    n.raw = Bytes(begin_ + start, n.length);
    stack_.pop_back();
  }
  // The reader failed on something that started at `start`: the rest of the input is the error's span.
  void error_at(size_t start, std::string_view what) {
    std::string msg = std::string(what) + ": " + r_.error().message();
    error_span(start, r_.offset() - start, std::move(msg));
  }
  void error_span(size_t start, size_t len, std::string msg) {
    ExplainNode& n = top().children.emplace_back();
    n.name = "error";
    n.type = "error";
    n.value = std::move(msg);
    n.offset = base_ + start;
    n.length = len;
    n.raw = Bytes(begin_ + start, len);
    n.error = true;
  }

  template <class Read>
  void leaf(std::string_view name, std::string_view type, Read&& read) {
    if (!r_.ok()) return;
    const size_t start = r_.offset();
    std::string value = read();
    if (!r_.ok()) return error_at(start, std::string(name) + " (" + std::string(type) + ")");
    add_leaf(name, type, start, std::move(value));
  }

  template <class T>
  void item(std::string_view name, T& x) {
    using namespace explain_detail;
    if (!r_.ok()) return;
    if constexpr (std::is_same_v<T, bool>) {
      leaf(name, "bool", [&] { return (x = r_.boolean()) ? std::string("true") : std::string("false"); });
    } else if constexpr (std::is_integral_v<T>) {
      leaf(name, int_type<T>(), [&] {
        if constexpr (std::is_same_v<T, int8_t>) x = r_.i8();
        if constexpr (std::is_same_v<T, int16_t>) x = r_.i16();
        if constexpr (std::is_same_v<T, int32_t>) x = r_.i32();
        if constexpr (std::is_same_v<T, int64_t>) x = r_.i64();
        if constexpr (std::is_same_v<T, uint16_t>) x = r_.u16();
        if constexpr (std::is_same_v<T, uint32_t>) x = r_.u32();
        return int_value(name, static_cast<int64_t>(x));
      });
    } else if constexpr (std::is_same_v<T, std::string>) {
      leaf(name, flexible_ ? "compact_string" : "string", [&] { return quote(x = r_.string(flexible_)); });
    } else if constexpr (std::is_same_v<T, Bytes>) {
      leaf(name, flexible_ ? "compact_bytes" : "bytes", [&] { return bytes_value(x = r_.bytes(flexible_)); });
    } else if constexpr (std::is_same_v<T, SecretBytes>) {
      // The length prefix is shown; the bytes themselves are a leaf that the printers keep hidden.
      const size_t start = r_.offset();
      const int32_t n = r_.bytes_length(flexible_);
      if (!r_.ok()) return error_at(start, std::string(name) + " (bytes length)");
      if (n < 0) {
        r_.fail(client_errc::malformed);
        return error_at(start, std::string(name) + " (null for bytes that are not nullable)");
      }
      open(name, flexible_ ? "compact_bytes" : "bytes", start);
      add_leaf("length", flexible_ ? "uvarint length" : "int32 length", start,
               flexible_ ? std::to_string(n + 1) + " (" + std::to_string(n) + " bytes)"
                         : std::to_string(n) + " bytes");
      const size_t data_start = r_.offset();
      x.bytes = r_.take(static_cast<size_t>(n));  // bytes_length() checked that n bytes remain
      top().value = secret_text(x.bytes.len);
      if (n > 0) add_leaf("bytes", "secret", data_start, secret_text(x.bytes.len)).hidden = true;
      close();
    } else if constexpr (std::is_same_v<T, Uuid>) {
      leaf(name, "uuid", [&] { return uuid_value(x = r_.uuid()); });
    } else if constexpr (std::is_same_v<T, Records>) {
      records(name, x);
    } else if constexpr (is_vector<T>::value) {
      array(name, x, false);
    } else if constexpr (is_optional<T>::value) {
      using E = typename T::value_type;
      if constexpr (std::is_same_v<E, std::string>) {
        leaf(name, flexible_ ? "compact_nullable_string" : "nullable_string", [&] {
          x = r_.nullable_string(flexible_);
          return x ? quote(*x) : std::string("null");
        });
      } else if constexpr (std::is_same_v<E, Bytes>) {
        leaf(name, flexible_ ? "compact_nullable_bytes" : "nullable_bytes", [&] {
          x = r_.nullable_bytes(flexible_);
          return x ? bytes_value(*x) : std::string("null");
        });
      } else if constexpr (is_vector<E>::value) {
        array(name, x, true);
      } else {
        // A nullable struct: an int8 marker, -1 for null.
        const size_t start = r_.offset();
        const int8_t marker = r_.i8();
        if (!r_.ok()) return error_at(start, std::string(name) + " (nullable struct marker)");
        open(name, "nullable struct", start);
        add_leaf("marker", "int8", start, marker < 0 ? "-1 (null)" : std::to_string(marker) + " (present)");
        if (marker < 0) {
          x.reset();
          top().value = "null";
        } else {
          visit(*this, x.emplace());
        }
        close();
      }
    } else {
      open(name, "struct", r_.offset());
      visit(*this, x);
      close();
    }
  }

  // Arrays (nullable or not): a node with the length prefix and then one child per element.
  template <class A>
  void array(std::string_view name, A& x, bool nullable) {
    const size_t start = r_.offset();
    const int32_t n = r_.array_length(flexible_);
    if (!r_.ok()) return error_at(start, std::string(name) + " (array length)");
    const std::string kind =
        std::string(flexible_ ? "compact " : "") + (nullable ? "nullable array" : "array");
    open(name, kind, start);
    add_leaf("length", flexible_ ? "uvarint length" : "int32 length", start,
             flexible_ ? std::to_string(n + 1) + " (" +
                             (n < 0 ? std::string("null") : std::to_string(n) + " elements") + ")"
                       : std::to_string(n) + (n < 0 ? " (null)" : ""));
    if (n < 0) {
      if constexpr (is_optional<A>::value) x.reset();
      if (!nullable) {
        const size_t at = r_.offset(), left = r_.remaining();
        r_.fail(client_errc::malformed);
        error_span(at, left, "null for an array that is not nullable");
      }
      top().value = "null";
      return close();
    }
    top().type = kind + "[" + std::to_string(n) + "]";
    auto& v = [&]() -> auto& {
      if constexpr (is_optional<A>::value)
        return x.emplace();
      else
        return x;
    }
    ();
    using E = typename std::remove_reference_t<decltype(v)>::value_type;
    v.clear();
    v.reserve(bounded_reserve<E>(n, r_.remaining(), version_, flexible_));
    for (int32_t i = 0; i < n && r_.ok(); ++i) item("[" + std::to_string(i) + "]", v.emplace_back());
    if constexpr (std::is_integral_v<E> && !std::is_same_v<E, bool>) {
      std::string s = "[";
      for (size_t i = 0; i < v.size() && i < 16; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
      top().value = s + (v.size() > 16 ? ", ...]" : "]");
    } else if constexpr (std::is_same_v<E, std::string>) {
      std::string s = "[";
      for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + explain_detail::quote(v[i]);
      top().value = s + (v.size() > 8 ? ", ...]" : "]");
    }
    close();
  }

  void records(std::string_view name, Records& x) {
    const size_t start = r_.offset();
    const int32_t n = r_.bytes_length(flexible_);
    if (!r_.ok()) return error_at(start, std::string(name) + " (records length)");
    open(name, flexible_ ? "compact records" : "records", start);
    add_leaf("length", flexible_ ? "uvarint length" : "int32 length", start,
             flexible_ ? std::to_string(n + 1) + " (" +
                             (n < 0 ? std::string("null") : std::to_string(n) + " bytes") + ")"
                       : std::to_string(n) + (n < 0 ? " (null)" : " bytes"));
    if (n < 0) {
      x.bytes.reset();
      top().value = "null";
      return close();
    }
    const size_t data_start = r_.offset();
    x.bytes = r_.take(static_cast<size_t>(n));
    explain_detail::explain_records(top(), *x.bytes, base_ + data_start, 0, out_);
    close();
  }

  Reader& r_;
  const uint8_t* begin_;
  size_t base_;
  int16_t version_;
  bool flexible_;
  Explanation& out_;
  std::vector<ExplainNode*> stack_;
  const std::map<std::string, std::string>* versions_ = nullptr;  // field_versions<M>() of the message
  std::string path_;                                              // of the field being read
  std::string_view message_;                                      // M::name

 public:
  // Adds an error node for bytes left at the end (used by the entry points below).
  void trailing(std::string_view what) {
    if (!r_.ok() || r_.remaining() == 0) return;
    const size_t start = r_.offset();
    const size_t left = r_.remaining();
    r_.skip(left);
    error_span(start, left, std::to_string(left) + " bytes after the " + std::string(what));
  }
  // Adds a leaf for the bytes left, not an error (a body kafkawire cannot decode, say).
  void opaque(std::string_view name, std::string_view type, std::string value) {
    const size_t start = r_.offset();
    r_.skip(r_.remaining());
    add_leaf(name, type, start, std::move(value));
  }
  // The message itself as a node named after it, its fields as children.
  template <Message M>
  void message(M& m, std::string_view name, std::string type) {
    use_versions_of<M>();
    open(name, std::move(type), r_.offset());
    visit(*this, m);
    close();
  }
};

// ----------------------------------------------------------------------------------------- entry points

// A bare body of message M at `version` (no size, no header): the root is named after M and its children
// are M's fields. Bytes left after the body are an error node.
template <Message M>
Explanation explain_message(Bytes body, int16_t version, M* decoded = nullptr) {
  Explanation out;
  out.root.name = std::string(M::name);
  out.root.type = std::string(M::name) + " v" + std::to_string(version);
  out.root.length = body.len;
  out.root.raw = body;
  Reader r(body);
  Explainer e(r, 0, version, is_flexible<M>(version), out.root, out);
  if (!supports_version<M>(version)) {
    e.opaque("body", "error", "");
    out.root.children.back().error = true;
    out.root.children.back().value = "kafkawire knows " + std::string(M::name) + " v" +
                                     std::to_string(M::min_version) + "-" + std::to_string(M::max_version) +
                                     ", not v" + std::to_string(version);
    return out;
  }
  M m;
  e.use_versions_of<M>();
  visit(e, m);
  e.trailing("body");
  if (decoded) *decoded = std::move(m);
  return out;
}

// The same by message name ("FetchResponse", "RequestHeader", "ConsumerProtocolSubscription"); an unknown
// name gives an error node.
Explanation explain_body(std::string_view message_name, int16_t version, Bytes body);

enum class FrameDirection { auto_detect, request, response };

struct FrameOptions {
  bool size_prefix = true;  // the frame starts with its int32 size
  FrameDirection direction = FrameDirection::auto_detect;
  // Responses: the API and version of the request they answer (a response header holds only the
  // correlation id). With auto_detect, a frame that does not look like a request is read as this response.
  int16_t api_key = -1;
  int16_t api_version = -1;

  static FrameOptions request(bool size_prefix = true) {
    FrameOptions o;
    o.size_prefix = size_prefix;
    o.direction = FrameDirection::request;
    return o;
  }
  static FrameOptions response(int16_t api_key, int16_t api_version, bool size_prefix = true) {
    FrameOptions o;
    o.size_prefix = size_prefix;
    o.direction = FrameDirection::response;
    o.api_key = api_key;
    o.api_version = api_version;
    return o;
  }
};

// A whole frame: [size,] header, body. Requests take the API and version from their header. The root's
// type says what was found ("FetchRequest v12 frame"); a frame that is neither a known request nor a
// response of the given API is an error node.
Explanation explain_frame(Bytes frame, const FrameOptions& options = {});

// Whether `frame` (after the size, if any) starts like a request kafkawire can decode: a known api key and
// a version within kafkawire's range for it, a correlation id and a well-formed client id.
bool looks_like_request(Bytes after_size);

// ------------------------------------------------------------------------------------------- printing

struct TextOptions {
  size_t max_hex = 32;  // bytes of hex shown per leaf before "... (N bytes)"
};

// The annotated tree: offset, hex (16 bytes a line), indented field name, wire type, value. Offsets in
// decompressed blocks are printed with a leading '~'.
// Hidden leaves (SecretBytes) show "(not shown)" instead of their hex.
std::string to_text(const Explanation& e, const TextOptions& options = {});

// The tree as JSON: {"name","type","offset","length","block"(if > 0),"hex"(leaves, but not hidden ones),
// "hidden"(if set),"value","versions"(schema fields),"meaning"(if any),"error"(if set),"children"}.
std::string to_json(const Explanation& e);

}  // namespace kafkawire::protocol
