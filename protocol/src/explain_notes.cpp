// The notes of each field: what the version notes at the head of its message's header (protocol/include/
// kafkawire/protocol/*.hpp) say about it. The notes are collected at build time (notes.cmake) into
// api_notes.inc; here they are cut into entries ("v5+:  GroupInstanceId (static membership, KIP-345)") of
// a section ("Request", "Response", "RequestHeader", ...).
#include <cctype>
#include <string>
#include <string_view>
#include <vector>

#include "kafkawire/protocol/explain.hpp"

namespace kafkawire::protocol::explain_detail {

namespace {

struct NotesSource {
  std::string_view messages;  // the names of the header's messages, space-separated
  std::string_view text;      // its leading comment block
};

constexpr NotesSource kSources[] = {
#include "api_notes.inc"
};

struct Entry {
  std::string section;  // "Request", "Response", "RequestHeader", ...
  bool first = false;   // the section's first entry: its baseline, mostly a list of fields
  std::string version;  // "v5+", "v8-10", "v14, v15"
  std::string text;
};

struct Notes {
  std::vector<std::string> messages;
  std::vector<Entry> entries;
};

bool word_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

// "Response v4:   text" or "v5+:  text": the section word (if any), the version and the text.
bool entry_start(std::string_view line, std::string& section, std::string& version, std::string& text) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  size_t w = i;
  while (w < line.size() && std::isalpha(static_cast<unsigned char>(line[w]))) ++w;
  std::string word;
  if (w > i && line[i] != 'v') {
    word = std::string(line.substr(i, w - i));
    i = w;
    while (i < line.size() && line[i] == ' ') ++i;
  }
  if (i + 1 >= line.size() || line[i] != 'v' || !std::isdigit(static_cast<unsigned char>(line[i + 1])))
    return false;
  const size_t colon = line.find(':', i);
  if (colon == std::string_view::npos) return false;
  for (size_t k = i; k < colon; ++k)
    if (!std::isdigit(static_cast<unsigned char>(line[k])) &&
        std::string_view("v+-, ").find(line[k]) == std::string_view::npos)
      return false;
  if (!word.empty()) section = word;
  version = trim(line.substr(i, colon - i));
  text = trim(line.substr(colon + 1));
  return true;
}

Notes parse(const NotesSource& src) {
  Notes n;
  for (size_t i = 0; i < src.messages.size();) {
    const size_t sp = std::min(src.messages.find(' ', i), src.messages.size());
    n.messages.emplace_back(src.messages.substr(i, sp - i));
    i = sp + 1;
  }
  std::string section;
  bool open = false;
  std::string_view text = src.text;
  while (!text.empty()) {
    const size_t nl = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(std::min(nl + 1, text.size()));
    if (!line.starts_with("//")) continue;
    line.remove_prefix(2);
    if (line.starts_with(" ")) line.remove_prefix(1);
    std::string s = section, version, body;
    if (entry_start(line, s, version, body)) {
      const bool first = s != section || n.entries.empty() || n.entries.back().section != s;
      section = s;
      if (section.empty()) continue;
      n.entries.push_back({section, first, version, body});
      open = true;
    } else if (open && line.starts_with("  ") && !trim(line).empty()) {
      n.entries.back().text += " " + trim(line);
    } else {
      open = false;
    }
  }
  return n;
}

const std::vector<Notes>& all_notes() {
  static const std::vector<Notes> notes = [] {
    std::vector<Notes> out;
    for (const auto& s : kSources) out.push_back(parse(s));
    return out;
  }();
  return notes;
}

bool section_of(std::string_view message, std::string_view section) {
  return message == section ||
         ((section == "Request" || section == "Response") && message.ends_with(section));
}

// Each place where `field` appears as a whole word in `text`.
std::vector<size_t> occurrences(std::string_view text, std::string_view field) {
  std::vector<size_t> out;
  for (size_t at = text.find(field); at != std::string_view::npos; at = text.find(field, at + 1)) {
    const size_t end = at + field.size();
    if ((at == 0 || !word_char(text[at - 1])) && (end == text.size() || !word_char(text[end])))
      out.push_back(at);
  }
  return out;
}

}  // namespace

std::string field_meaning(std::string_view message, std::string_view field) {
  std::string out;
  auto add = [&](const std::string& version, std::string_view what) {
    if (!out.empty()) out += "\n";
    out += version + ": " + trim(what);
  };
  for (const Notes& notes : all_notes()) {
    bool mine = false;
    for (const auto& m : notes.messages) mine = mine || m == message;
    if (!mine) continue;
    for (const Entry& e : notes.entries) {
      if (!section_of(message, e.section)) continue;
      const auto at = occurrences(e.text, field);
      if (at.empty()) continue;
      if (!e.first) {
        add(e.version, e.text);  // a change: the whole entry is about the fields it names
        continue;
      }
      // The baseline lists the fields; keep the sentences that say something about this one: where its
      // name is followed by a parenthesis, a colon or "is".
      for (size_t a : at) {
        const std::string_view rest = std::string_view(e.text).substr(a + field.size());
        if (!(rest.starts_with(" (") || rest.starts_with(":") || rest.starts_with(" is "))) continue;
        const size_t stop = e.text.find(". ", a);
        add(e.version,
            std::string_view(e.text).substr(a, stop == std::string::npos ? std::string::npos : stop + 1 - a));
      }
    }
  }
  return out;
}

}  // namespace kafkawire::protocol::explain_detail
