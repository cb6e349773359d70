// A small strict JSON pull reader private to the trial-data parsers: it keeps numbers as
// their source text, rejects duplicate object keys, and knows the line and column of every
// value, so that a streaming caller can turn rows into records without building a tree.
// Not the ledger's RFC 8785 parser; errors use the code "trial.json".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::scanner::detail {

// 1-based line and byte column.
struct TextPosition {
  uint64_t line = 1;
  uint64_t column = 1;
};

// Fails with trial.invalid_utf8 naming the first byte that is not UTF-8 (overlongs,
// surrogates and code points above U+10FFFF included) with its line and column, counted in
// `text` from `first_line`.
[[nodiscard]] Status CheckUtf8(std::string_view text, uint64_t first_line = 1);

// Strips a UTF-8 byte order mark, if any.
std::string_view StripBom(std::string_view text);

enum class JsonKind { kNull, kFalse, kTrue, kNumber, kString, kArray, kObject };

// Reads one JSON text from a buffer the caller keeps alive. `text` must be valid UTF-8
// (CheckUtf8 first). Not thread-safe; one reader per buffer.
class JsonReader {
 public:
  JsonReader() = default;
  explicit JsonReader(std::string_view text, uint64_t first_line = 1) { Reset(text, first_line); }
  // Starts over on a new buffer, keeping allocated capacity.
  void Reset(std::string_view text, uint64_t first_line = 1);

  // Skips whitespace and says what the next value is; fails at the end of input or on a
  // byte that starts no value.
  [[nodiscard]] Result<JsonKind> Peek();
  // Where the next byte is (after Peek: where the next value starts).
  TextPosition Position() const { return {line_, pos_ - line_start_ + 1}; }
  // Where the key most recently returned by NextMember started.
  TextPosition KeyPosition() const { return key_position_; }

  // Consumes '{'. Then NextMember yields each key (and consumes its ':') until it returns
  // false, having consumed '}'. The value of each member must be read or skipped in between.
  [[nodiscard]] Status EnterObject();
  [[nodiscard]] Result<bool> NextMember(std::string& key);
  // Consumes '['. Then NextElement returns true before each element, false after ']'.
  [[nodiscard]] Status EnterArray();
  [[nodiscard]] Result<bool> NextElement();

  // Reads a string, number, true, false or null: `text` gets the decoded string, the number's
  // source text, "true"/"false", or "" for null. Fails on '[' or '{' with `kind` set to say which.
  [[nodiscard]] Status ReadScalar(JsonKind& kind, std::string& text);
  // Reads a whole array whose elements must be scalars, the hot path of Dataset-JSON rows:
  // for each element `begin(position)` returns the string to read it into and `end(kind)`
  // takes its kind; an array or object element fails with `nested(kind, position)`.
  template <typename Begin, typename End, typename Nested>
  [[nodiscard]] Status ReadScalarArray(Begin&& begin, End&& end, Nested&& nested);
  // Reads and discards one value of any kind (still checking it strictly).
  [[nodiscard]] Status Skip();
  // Fails unless only whitespace is left.
  [[nodiscard]] Status ExpectEnd();

  // An error with code trial.json at `at`.
  Error ErrorAt(TextPosition at, std::string message) const;

 private:
  struct Frame {
    bool is_object = false;
    bool first = true;
    std::map<std::string, TextPosition, std::less<>> keys;
  };
  void SkipWhitespace();
  std::string ExpectedCommaOr(char close) const;
  Status ReadString(std::string& out);
  Status ReadNumber(std::string& out);
  Status ReadLiteral(std::string_view word);
  Status Enter(bool is_object, char open);

  std::string_view text_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
  size_t line_start_ = 0;
  TextPosition key_position_;
  std::vector<Frame> frames_;
  size_t depth_ = 0;  // frames_ in use; frames_ beyond it are kept for reuse
};

inline void JsonReader::SkipWhitespace() {
  // Callers often sit on a token already; leave at once then.
  while (pos_ < text_.size() && uint8_t(text_[pos_]) <= ' ') {
    const char c = text_[pos_];
    if (c == '\n') {
      ++line_;
      line_start_ = pos_ + 1;
    } else if (c != ' ' && c != '\t' && c != '\r') {
      break;
    }
    ++pos_;
  }
}

template <typename Begin, typename End, typename Nested>
Status JsonReader::ReadScalarArray(Begin&& begin, End&& end, Nested&& nested) {
  if (auto s = EnterArray(); !s) return s;
  for (bool first = true;; first = false) {
    SkipWhitespace();
    if (pos_ >= text_.size()) return Fail(ErrorAt(Position(), "unterminated JSON array"));
    if (text_[pos_] == ']') {
      ++pos_;
      --depth_;
      return Ok();
    }
    if (!first) {
      if (text_[pos_] != ',') return Fail(ErrorAt(Position(), ExpectedCommaOr(']')));
      ++pos_;
      SkipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ']') {
        return Fail(ErrorAt(Position(), "trailing ',' before ']'"));
      }
    }
    const TextPosition at = Position();
    JsonKind kind = JsonKind::kNull;
    if (auto s = ReadScalar(kind, begin(at)); !s) {
      if (kind == JsonKind::kArray || kind == JsonKind::kObject) return Fail(nested(kind, at));
      return s;
    }
    end(kind);
  }
}

}  // namespace pedigree::scanner::detail
