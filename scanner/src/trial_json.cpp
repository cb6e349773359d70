#include "trial_json.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace pedigree::scanner::detail {
namespace {

constexpr size_t kMaxDepth = 256;

// The bytes that end a run of plain characters inside a JSON string.
constexpr auto kStringSpecial = [] {
  std::array<bool, 256> special{};
  for (int c = 0; c < 0x20; ++c) special[c] = true;
  special[uint8_t('"')] = special[uint8_t('\\')] = true;
  return special;
}();

std::string Hex2(uint8_t b) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  return std::string{kDigits[b >> 4], kDigits[b & 15]};
}

// Length of the valid UTF-8 sequence at `i`, or 0 when the byte there starts none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto at = [&](size_t k) -> int { return i + k < s.size() ? uint8_t(s[i + k]) : -1; };
  const int b = at(0);
  const auto cont = [&](size_t k, int lo, int hi) {
    const int c = at(k);
    return c >= lo && c <= hi;
  };
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return cont(1, 0x80, 0xBF) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    const int lo = b == 0xE0 ? 0xA0 : 0x80;
    const int hi = b == 0xED ? 0x9F : 0xBF;  // no UTF-16 surrogates
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    const int lo = b == 0xF0 ? 0x90 : 0x80;
    const int hi = b == 0xF4 ? 0x8F : 0xBF;  // nothing above U+10FFFF
    return cont(1, lo, hi) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(char(cp));
  } else if (cp < 0x800) {
    out.push_back(char(0xC0 | (cp >> 6)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(char(0xE0 | (cp >> 12)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(char(0xF0 | (cp >> 18)));
    out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(char(0x80 | (cp & 0x3F)));
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// How a byte is named in a message: 'x' when printable ASCII, else 0xNN.
std::string Describe(char c) {
  const auto b = uint8_t(c);
  if (b >= 0x21 && b < 0x7F) return std::string("'") + c + "'";
  return "byte 0x" + Hex2(b);
}

}  // namespace

std::string_view StripBom(std::string_view text) {
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  return text;
}

Status CheckUtf8(std::string_view text, uint64_t first_line) {
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    // ASCII runs are the common case: test eight bytes at once.
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, text.data() + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    const size_t len = Utf8SequenceLength(text, i);
    if (len != 0) {
      i += len;
      continue;
    }
    const std::string_view before = text.substr(0, i);
    const uint64_t line = first_line + std::count(before.begin(), before.end(), '\n');
    const size_t last_newline = before.rfind('\n');
    const uint64_t column = last_newline == std::string_view::npos ? i + 1 : i - last_newline;
    const auto byte = uint8_t(text[i]);
    // Latin-1 text puts single high bytes between ASCII characters.
    const bool next_is_ascii = i + 1 >= n || uint8_t(text[i + 1]) < 0x80;
    std::string message = "byte 0x" + Hex2(byte) + " at line " + std::to_string(line) + " column " +
                          std::to_string(column) + " is not UTF-8";
    if (byte >= 0xA0 && next_is_ascii) {
      message += "; the file looks Latin-1 encoded, re-export it as UTF-8";
    } else if (byte >= 0x80 && byte < 0xA0 && next_is_ascii) {
      message += "; the file looks Windows-1252 encoded, re-export it as UTF-8";
    } else {
      message += " (malformed or truncated UTF-8 sequence)";
    }
    return Fail(Error("trial.invalid_utf8", std::move(message)).at_line_column(line, column));
  }
  return Ok();
}

void JsonReader::Reset(std::string_view text, uint64_t first_line) {
  text_ = text;
  pos_ = 0;
  line_ = first_line;
  line_start_ = 0;
  depth_ = 0;
  key_position_ = {};
}

std::string JsonReader::ExpectedCommaOr(char close) const {
  return std::string("expected ',' or '") + close + "', found " + Describe(text_[pos_]);
}

Error JsonReader::ErrorAt(TextPosition at, std::string message) const {
  return Error("trial.json", std::move(message)).at_line_column(at.line, at.column);
}

Result<JsonKind> JsonReader::Peek() {
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail(ErrorAt(Position(), "unexpected end of JSON input"));
  const char c = text_[pos_];
  switch (c) {
    case '{':
      return JsonKind::kObject;
    case '[':
      return JsonKind::kArray;
    case '"':
      return JsonKind::kString;
    case 't':
      return JsonKind::kTrue;
    case 'f':
      return JsonKind::kFalse;
    case 'n':
      return JsonKind::kNull;
    default:
      if (c == '-' || IsDigit(c)) return JsonKind::kNumber;
      return Fail(ErrorAt(Position(), Describe(c) + " cannot start a JSON value"));
  }
}

Status JsonReader::Enter(bool is_object, char open) {
  auto kind = Peek();
  if (!kind) return std::unexpected(kind.error());
  if (text_[pos_] != open) {
    return Fail(ErrorAt(Position(),
                        std::string("expected '") + open + "', found " + Describe(text_[pos_])));
  }
  if (depth_ >= kMaxDepth) {
    return Fail(ErrorAt(Position(), "JSON nested deeper than " + std::to_string(kMaxDepth)));
  }
  ++pos_;
  if (frames_.size() <= depth_) frames_.emplace_back();
  Frame& frame = frames_[depth_++];
  frame.is_object = is_object;
  frame.first = true;
  frame.keys.clear();
  return Ok();
}

Status JsonReader::EnterObject() { return Enter(true, '{'); }
Status JsonReader::EnterArray() { return Enter(false, '['); }

Result<bool> JsonReader::NextMember(std::string& key) {
  assert(depth_ > 0 && frames_[depth_ - 1].is_object);
  Frame& frame = frames_[depth_ - 1];
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail(ErrorAt(Position(), "unterminated JSON object"));
  if (text_[pos_] == '}') {
    ++pos_;
    --depth_;
    return false;
  }
  if (!frame.first) {
    if (text_[pos_] != ',') {
      return Fail(ErrorAt(Position(), "expected ',' or '}', found " + Describe(text_[pos_])));
    }
    ++pos_;
    SkipWhitespace();
  }
  frame.first = false;
  if (pos_ >= text_.size() || text_[pos_] != '"') {
    return Fail(ErrorAt(Position(), pos_ >= text_.size()
                                        ? std::string("unterminated JSON object")
                                        : "expected a string key, found " + Describe(text_[pos_])));
  }
  key_position_ = Position();
  key.clear();
  if (auto s = ReadString(key); !s) return std::unexpected(s.error());
  auto [it, inserted] = frame.keys.try_emplace(key, key_position_);
  if (!inserted) {
    return Fail(ErrorAt(key_position_, "duplicate key \"" + key + "\" (first at line " +
                                           std::to_string(it->second.line) + " column " +
                                           std::to_string(it->second.column) + ")")
                    .at_field(key));
  }
  SkipWhitespace();
  if (pos_ >= text_.size() || text_[pos_] != ':') {
    return Fail(ErrorAt(Position(), "expected ':' after key \"" + key + "\""));
  }
  ++pos_;
  return true;
}

Result<bool> JsonReader::NextElement() {
  assert(depth_ > 0 && !frames_[depth_ - 1].is_object);
  Frame& frame = frames_[depth_ - 1];
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail(ErrorAt(Position(), "unterminated JSON array"));
  if (text_[pos_] == ']') {
    ++pos_;
    --depth_;
    return false;
  }
  if (!frame.first) {
    if (text_[pos_] != ',') {
      return Fail(ErrorAt(Position(), "expected ',' or ']', found " + Describe(text_[pos_])));
    }
    ++pos_;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      return Fail(ErrorAt(Position(), "trailing ',' before ']'"));
    }
  }
  frame.first = false;
  return true;
}

Status JsonReader::ReadString(std::string& out) {
  const TextPosition open = Position();
  ++pos_;  // the opening quote
  while (true) {
    const size_t run_start = pos_;
    while (pos_ < text_.size() && !kStringSpecial[uint8_t(text_[pos_])]) ++pos_;
    out.append(text_.data() + run_start, pos_ - run_start);
    if (pos_ >= text_.size()) {
      return Fail(ErrorAt(open, "unterminated JSON string"));
    }
    const char c = text_[pos_];
    if (c == '"') {
      ++pos_;
      return Ok();
    }
    if (c != '\\') {
      return Fail(ErrorAt(Position(), "control character 0x" + Hex2(uint8_t(c)) +
                                          " inside a JSON string must be escaped"));
    }
    const TextPosition escape_at = Position();
    if (pos_ + 1 >= text_.size()) return Fail(ErrorAt(open, "unterminated JSON string"));
    const char e = text_[pos_ + 1];
    pos_ += 2;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        continue;
      case 'b':
        out.push_back('\b');
        continue;
      case 'f':
        out.push_back('\f');
        continue;
      case 'n':
        out.push_back('\n');
        continue;
      case 'r':
        out.push_back('\r');
        continue;
      case 't':
        out.push_back('\t');
        continue;
      case 'u':
        break;
      default:
        return Fail(ErrorAt(escape_at, "invalid escape \\" + std::string(1, e)));
    }
    const auto hex4 = [&](size_t at) -> int {
      if (at + 4 > text_.size()) return -1;
      int v = 0;
      for (size_t k = 0; k < 4; ++k) {
        const int h = HexValue(text_[at + k]);
        if (h < 0) return -1;
        v = v * 16 + h;
      }
      return v;
    };
    const int unit = hex4(pos_);
    if (unit < 0) return Fail(ErrorAt(escape_at, "\\u must be followed by four hex digits"));
    pos_ += 4;
    uint32_t cp = uint32_t(unit);
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      return Fail(ErrorAt(escape_at, "lone low surrogate \\u" + Hex2(cp >> 8) + Hex2(cp & 0xFF)));
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      const int low = pos_ + 1 < text_.size() && text_[pos_] == '\\' && text_[pos_ + 1] == 'u'
                          ? hex4(pos_ + 2)
                          : -1;
      if (low < 0xDC00 || low > 0xDFFF) {
        return Fail(ErrorAt(escape_at, "high surrogate \\u" + Hex2(cp >> 8) + Hex2(cp & 0xFF) +
                                           " is not followed by a low surrogate"));
      }
      pos_ += 6;
      cp = 0x10000 + ((cp - 0xD800) << 10) + (uint32_t(low) - 0xDC00);
    }
    AppendUtf8(out, cp);
  }
}

Status JsonReader::ReadNumber(std::string& out) {
  const TextPosition start_at = Position();
  const size_t start = pos_;
  const auto digits = [&] {
    const size_t from = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    return pos_ - from;
  };
  if (text_[pos_] == '-') ++pos_;
  if (pos_ < text_.size() && text_[pos_] == '0') {
    ++pos_;
  } else if (digits() == 0) {
    return Fail(ErrorAt(start_at, "a JSON number needs a digit after '-'"));
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (digits() == 0) return Fail(ErrorAt(start_at, "a JSON number needs digits after '.'"));
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (digits() == 0) return Fail(ErrorAt(start_at, "a JSON number needs digits in its exponent"));
  }
  out.assign(text_.data() + start, pos_ - start);
  return Ok();
}

Status JsonReader::ReadLiteral(std::string_view word) {
  if (text_.substr(pos_, word.size()) != word) {
    return Fail(ErrorAt(Position(), "invalid literal; expected " + std::string(word)));
  }
  pos_ += word.size();
  return Ok();
}

Status JsonReader::ReadScalar(JsonKind& kind, std::string& text) {
  SkipWhitespace();
  if (pos_ >= text_.size()) return Fail(ErrorAt(Position(), "unexpected end of JSON input"));
  text.clear();
  const char c = text_[pos_];
  switch (c) {
    case '"':
      kind = JsonKind::kString;
      return ReadString(text);
    case 't':
      kind = JsonKind::kTrue;
      text = "true";
      return ReadLiteral("true");
    case 'f':
      kind = JsonKind::kFalse;
      text = "false";
      return ReadLiteral("false");
    case 'n':
      kind = JsonKind::kNull;
      return ReadLiteral("null");
    case '[':
    case '{':
      kind = c == '[' ? JsonKind::kArray : JsonKind::kObject;
      return Fail(
          ErrorAt(Position(), "expected a string, number, boolean or null, found " + Describe(c)));
    default:
      if (c == '-' || IsDigit(c)) {
        kind = JsonKind::kNumber;
        return ReadNumber(text);
      }
      return Fail(ErrorAt(Position(), Describe(c) + " cannot start a JSON value"));
  }
}

Status JsonReader::Skip() {
  auto kind = Peek();
  if (!kind) return std::unexpected(kind.error());
  if (*kind == JsonKind::kObject) {
    if (auto s = EnterObject(); !s) return s;
    std::string key;
    while (true) {
      auto more = NextMember(key);
      if (!more) return std::unexpected(more.error());
      if (!*more) return Ok();
      if (auto s = Skip(); !s) return s;
    }
  }
  if (*kind == JsonKind::kArray) {
    if (auto s = EnterArray(); !s) return s;
    while (true) {
      auto more = NextElement();
      if (!more) return std::unexpected(more.error());
      if (!*more) return Ok();
      if (auto s = Skip(); !s) return s;
    }
  }
  JsonKind scalar_kind;
  std::string text;
  return ReadScalar(scalar_kind, text);
}

Status JsonReader::ExpectEnd() {
  SkipWhitespace();
  if (pos_ < text_.size()) {
    return Fail(ErrorAt(Position(), Describe(text_[pos_]) + " after the end of the JSON value"));
  }
  return Ok();
}

}  // namespace pedigree::scanner::detail
