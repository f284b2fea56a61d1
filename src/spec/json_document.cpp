#include "spec/json_document.hpp"

#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/fs.hpp"

namespace urun::spec {
namespace {

using nlohmann::json;

// nlohmann reports the byte offset of the last character it read (1-based;
// size + 1 at end of input). Editors count lines and columns from 1.
std::pair<size_t, size_t> line_and_column(std::string_view text, size_t byte) {
  size_t offset = byte == 0 ? 0 : byte - 1;
  if (offset > text.size()) offset = text.size();
  size_t line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, offset - line_start + 1};
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// 1, column 2: syntax error while parsing ..."; keep only the part after the
// position, since we print our own.
std::string short_reason(std::string_view what) {
  size_t start = what.find("parse error");
  if (start != std::string_view::npos) {
    size_t colon = what.find(": ", start);
    if (colon != std::string_view::npos) return std::string(what.substr(colon + 2));
  }
  return std::string(what);
}

bool plain_key(std::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    bool word = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '_' || c == '-';
    if (!word) return false;
  }
  return true;
}

// Builds the document as nlohmann's own parser does (the same values, the last of duplicate keys
// wins), driven by nlohmann's SAX parser. What it adds: the containers open at each moment,
// which give the JSON path of a value the parser refuses (a number out of range) and the depth,
// checked as each container opens. It costs no more than json::parse.
class DocumentBuilder {
 public:
  explicit DocumentBuilder(json& root) : root_(root) {}

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(json::number_integer_t v) { return put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return put(v); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) { return put(v); }
  // The parser hands over its token buffer, which it clears before the next token.
  bool string(json::string_t& v) { return put(std::move(v)); }
  bool binary(json::binary_t& /*v*/) { return false; }  // JSON text has none
  bool start_object(std::size_t /*size*/) { return open(json::value_t::object); }
  bool key(json::string_t& k) {
    Level& top = levels_.back();
    auto& members = *top.value->get_ptr<json::object_t*>();
    auto it = members.try_emplace(std::move(k)).first;
    top.key = &it->first;
    member_ = &it->second;
    return true;
  }
  bool end_object() {
    levels_.pop_back();
    return true;
  }
  bool start_array(std::size_t /*size*/) { return open(json::value_t::array); }
  bool end_array() {
    levels_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string& last_token, const json::exception& e) {
    error_position_ = position;
    error_token_ = last_token;
    error_id_ = e.id;
    error_what_ = e.what();
    return false;
  }

  [[noreturn]] void fail(std::string_view text) const {
    if (too_deep_)
      throw Error(
          path(16) + ": nested deeper than " + std::to_string(kMaxDocumentDepth) + " levels",
          EINVAL);
    auto [line, column] = line_and_column(text, error_position_);
    std::string where = "line " + std::to_string(line) + ", column " + std::to_string(column);
    // 406: a number JSON allows that no double holds (1e400).
    if (error_id_ == 406) {
      std::string token = error_token_;
      if (token.size() > 40) token = token.substr(0, 40) + "...";
      std::string p = path(64);
      throw Error(
          (p.empty() ? "" : p + ": ") + "number " + token + " is out of range (" + where + ")",
          ERANGE);
    }
    throw Error("malformed JSON at " + where + ": " + short_reason(error_what_), EINVAL);
  }

 private:
  struct Level {
    json* value;                       // an open object or array
    const std::string* key = nullptr;  // an object's member being read
  };

  // Adds a value where the parser is: the root, the end of the open array, or the member whose
  // key came last. Elements already added never move while their container is open: an open
  // container is always the last element of its parent.
  template <class V>
  json* add(V&& v) {
    if (levels_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    json& top = *levels_.back().value;
    if (top.is_array()) {
      auto& elements = *top.get_ptr<json::array_t*>();
      elements.emplace_back(std::forward<V>(v));
      return &elements.back();
    }
    *member_ = json(std::forward<V>(v));
    return member_;
  }
  template <class V>
  bool put(V&& v) {
    add(std::forward<V>(v));
    return true;
  }
  bool open(json::value_t type) {
    levels_.push_back({add(type)});
    too_deep_ = levels_.size() > kMaxDocumentDepth;
    return !too_deep_;
  }

  // The path of the value being read, e.g. `process.user.uid` or `x[3]`; at most `parts` parts.
  std::string path(size_t parts) const {
    std::string out;
    for (size_t i = 0; i < levels_.size(); ++i) {
      if (i == parts) return out + "...";
      const Level& level = levels_[i];
      if (level.value->is_object()) {
        if (level.key == nullptr) break;  // before the first key
        if (plain_key(*level.key)) {
          if (!out.empty()) out += '.';
          out += *level.key;
        } else {
          out += "[\"" + *level.key + "\"]";
        }
      } else {
        // An inner array's element being read is its last one (a container); the innermost's is
        // the one after its last.
        size_t size = level.value->size();
        size_t index = i + 1 < levels_.size() && size > 0 ? size - 1 : size;
        out += "[" + std::to_string(index) + "]";
      }
    }
    return out;
  }

  json& root_;
  std::vector<Level> levels_;
  json* member_ = nullptr;
  bool too_deep_ = false;
  size_t error_position_ = 0;
  std::string error_token_;
  int error_id_ = 0;
  std::string error_what_;
};

}  // namespace

std::string read_document_file(const std::string& path) {
  return fs::read_regular_file(path, kMaxDocumentBytes);
}

json parse_document(std::string_view text) {
  json root;
  DocumentBuilder builder(root);
  if (!json::sax_parse(text.begin(), text.end(), &builder)) builder.fail(text);
  return root;
}

}  // namespace urun::spec
