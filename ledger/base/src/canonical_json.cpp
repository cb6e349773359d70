#include "pedigree/base/canonical_json.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>

namespace pedigree {

// ---------------------------------------------------------------------------------------
// JsonValue

bool JsonValue::as_bool() const {
  assert(is_bool());
  return std::get<bool>(value_);
}
int64_t JsonValue::as_int() const {
  assert(is_int());
  return std::get<int64_t>(value_);
}
double JsonValue::as_double() const {
  assert(is_number());
  if (is_int()) return static_cast<double>(std::get<int64_t>(value_));
  return std::get<double>(value_);
}
const std::string& JsonValue::as_string() const {
  assert(is_string());
  return std::get<std::string>(value_);
}
const JsonArray& JsonValue::as_array() const {
  assert(is_array());
  return std::get<JsonArray>(value_);
}
JsonArray& JsonValue::as_array() {
  assert(is_array());
  return std::get<JsonArray>(value_);
}
const JsonObject& JsonValue::as_object() const {
  assert(is_object());
  return std::get<JsonObject>(value_);
}
JsonObject& JsonValue::as_object() {
  assert(is_object());
  return std::get<JsonObject>(value_);
}

const JsonValue* JsonValue::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<JsonObject>(value_)) {
    if (k == key) return &v;
  }
  return nullptr;
}

JsonValue* JsonValue::find(std::string_view key) {
  return const_cast<JsonValue*>(std::as_const(*this).find(key));
}

JsonValue& JsonValue::set(std::string key, JsonValue v) {
  if (JsonValue* existing = find(key)) {
    *existing = std::move(v);
  } else {
    as_object().emplace_back(std::move(key), std::move(v));
  }
  return *this;
}

JsonValue& JsonValue::push_back(JsonValue v) {
  as_array().push_back(std::move(v));
  return *this;
}

size_t JsonValue::size() const {
  if (is_array()) return std::get<JsonArray>(value_).size();
  if (is_object()) return std::get<JsonObject>(value_).size();
  return 0;
}

namespace {

constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

// ---------------------------------------------------------------------------------------
// Parser

struct LineColumn {
  uint64_t line = 1;
  uint64_t column = 1;
};

// Columns count bytes, 1-based, like most compilers do.
LineColumn LocateOffset(std::string_view text, size_t offset) {
  LineColumn lc;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++lc.line;
      lc.column = 1;
    } else {
      ++lc.column;
    }
  }
  return lc;
}

std::string Printable(std::string_view text, size_t pos) {
  if (pos >= text.size()) return "end of input";
  unsigned char c = static_cast<unsigned char>(text[pos]);
  if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", c);
  return std::string("byte ") + buf;
}

class Parser {
 public:
  Parser(std::string_view text, const JsonParseOptions& options) : text_(text), options_(options) {}

  Result<JsonValue> ParseDocument() {
    SkipWhitespace();
    auto value = ParseValue(1);
    if (!value) return value;
    SkipWhitespace();
    if (pos_ != text_.size()) {
      return Fail(Here("json.trailing_data",
                       "unexpected " + Printable(text_, pos_) + " after the top-level value"));
    }
    return value;
  }

 private:
  Error At(std::string code, std::string message, size_t offset) const {
    LineColumn lc = LocateOffset(text_, offset);
    return Error(std::move(code), std::move(message))
        .at_offset(offset)
        .at_line_column(lc.line, lc.column);
  }
  Error Here(std::string code, std::string message) const {
    return At(std::move(code), std::move(message), pos_);
  }

  void SkipWhitespace() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }

  bool Consume(std::string_view literal) {
    if (text_.substr(pos_, literal.size()) != literal) return false;
    pos_ += literal.size();
    return true;
  }

  Result<JsonValue> ParseValue(size_t depth) {
    if (pos_ >= text_.size())
      return Fail(Here("json.syntax", "expected a value, got end of input"));
    char c = text_[pos_];
    switch (c) {
      case '{':
        return ParseObject(depth);
      case '[':
        return ParseArray(depth);
      case '"': {
        std::string s;
        auto st = ParseString(s);
        if (!st) return std::unexpected(st.error());
        return JsonValue(std::move(s));
      }
      case 't':
        if (Consume("true")) return JsonValue(true);
        break;
      case 'f':
        if (Consume("false")) return JsonValue(false);
        break;
      case 'n':
        if (Consume("null")) return JsonValue(nullptr);
        break;
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber();
        break;
    }
    return Fail(Here("json.syntax", "expected a value, got " + Printable(text_, pos_)));
  }

  Result<JsonValue> ParseObject(size_t depth) {
    if (depth > options_.max_depth) {
      return Fail(Here("json.too_deep",
                       "nesting deeper than the limit of " + std::to_string(options_.max_depth)));
    }
    ++pos_;  // '{'
    JsonObject members;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return JsonValue(std::move(members));
    }
    while (true) {
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != '"') {
        return Fail(Here("json.syntax", "expected a member name, got " + Printable(text_, pos_)));
      }
      size_t key_offset = pos_;
      std::string key;
      auto st = ParseString(key);
      if (!st) return std::unexpected(st.error());
      for (const auto& member : members) {
        if (member.first == key) {
          return Fail(At("json.duplicate_key", "duplicate member name \"" + key + "\"", key_offset)
                          .at_field(key));
        }
      }
      SkipWhitespace();
      if (pos_ >= text_.size() || text_[pos_] != ':') {
        return Fail(Here("json.syntax", "expected ':' after member name \"" + key + "\", got " +
                                            Printable(text_, pos_)));
      }
      ++pos_;
      SkipWhitespace();
      auto value = ParseValue(depth + 1);
      if (!value) return value;
      members.emplace_back(std::move(key), std::move(*value));
      SkipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return JsonValue(std::move(members));
      }
      return Fail(
          Here("json.syntax", "expected ',' or '}' in object, got " + Printable(text_, pos_)));
    }
  }

  Result<JsonValue> ParseArray(size_t depth) {
    if (depth > options_.max_depth) {
      return Fail(Here("json.too_deep",
                       "nesting deeper than the limit of " + std::to_string(options_.max_depth)));
    }
    ++pos_;  // '['
    JsonArray elements;
    SkipWhitespace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return JsonValue(std::move(elements));
    }
    while (true) {
      SkipWhitespace();
      auto value = ParseValue(depth + 1);
      if (!value) return value;
      elements.push_back(std::move(*value));
      SkipWhitespace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return JsonValue(std::move(elements));
      }
      return Fail(
          Here("json.syntax", "expected ',' or ']' in array, got " + Printable(text_, pos_)));
    }
  }

  static void AppendUtf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xc0 | cp >> 6));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xe0 | cp >> 12));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xf0 | cp >> 18));
      out.push_back(static_cast<char>(0x80 | (cp >> 12 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp >> 6 & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  // Reads 4 hex digits after "\u" at pos_; pos_ is left after them.
  Result<uint32_t> ParseHex4() {
    if (pos_ + 4 > text_.size()) {
      return Fail(Here("json.invalid_escape", "truncated \\u escape"));
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = text_[pos_ + i];
      int d = c >= '0' && c <= '9'   ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                     : -1;
      if (d < 0) {
        return Fail(At("json.invalid_escape",
                       "invalid hex digit " + Printable(text_, pos_ + i) + " in \\u escape",
                       pos_ + i));
      }
      v = v << 4 | static_cast<uint32_t>(d);
    }
    pos_ += 4;
    return v;
  }

  // Validates one UTF-8 sequence starting at pos_ (RFC 3629: no overlongs, no surrogates,
  // nothing above U+10FFFF) and appends it to `out`.
  Status ParseUtf8Sequence(std::string& out) {
    const auto byte = [this](size_t i) { return static_cast<unsigned char>(text_[i]); };
    unsigned char b0 = byte(pos_);
    size_t len;
    uint32_t min_second = 0x80, max_second = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      len = 2;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      len = 3;
      if (b0 == 0xe0) min_second = 0xa0;  // overlong
      if (b0 == 0xed) max_second = 0x9f;  // UTF-16 surrogates encoded in UTF-8
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      len = 4;
      if (b0 == 0xf0) min_second = 0x90;  // overlong
      if (b0 == 0xf4) max_second = 0x8f;  // above U+10FFFF
    } else {
      return Fail(Here("json.invalid_utf8", "invalid UTF-8 lead " + Printable(text_, pos_)));
    }
    if (pos_ + len > text_.size()) {
      return Fail(Here("json.invalid_utf8", "truncated UTF-8 sequence"));
    }
    for (size_t i = 1; i < len; ++i) {
      unsigned char b = byte(pos_ + i);
      uint32_t lo = i == 1 ? min_second : 0x80, hi = i == 1 ? max_second : 0xbf;
      if (b < lo || b > hi) {
        return Fail(At("json.invalid_utf8",
                       "invalid UTF-8 continuation " + Printable(text_, pos_ + i), pos_ + i));
      }
    }
    out.append(text_.substr(pos_, len));
    pos_ += len;
    return Ok();
  }

  Status ParseString(std::string& out) {
    ++pos_;  // opening quote
    while (true) {
      // Copy the run of plain ASCII in one append.
      size_t run = pos_;
      while (run < text_.size()) {
        unsigned char c = static_cast<unsigned char>(text_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      out.append(text_.substr(pos_, run - pos_));
      pos_ = run;
      if (pos_ >= text_.size()) return Fail(Here("json.syntax", "unterminated string"));
      unsigned char c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return Ok();
      }
      if (c < 0x20) {
        return Fail(Here("json.control_character",
                         "unescaped control character " + Printable(text_, pos_) + " in string"));
      }
      if (c >= 0x80) {
        auto st = ParseUtf8Sequence(out);
        if (!st) return st;
        continue;
      }
      // Backslash escape.
      size_t escape_offset = pos_;
      ++pos_;
      if (pos_ >= text_.size()) return Fail(Here("json.syntax", "unterminated string"));
      char e = text_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          auto unit = ParseHex4();
          if (!unit) return std::unexpected(unit.error());
          uint32_t cp = *unit;
          if (cp >= 0xdc00 && cp <= 0xdfff) {
            return Fail(At("json.lone_surrogate",
                           "low surrogate \\u" + ToHex4(cp) + " without a preceding high surrogate",
                           escape_offset));
          }
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (text_.substr(pos_, 2) != "\\u") {
              return Fail(At("json.lone_surrogate",
                             "high surrogate \\u" + ToHex4(cp) + " not followed by a low surrogate",
                             escape_offset));
            }
            pos_ += 2;
            auto low = ParseHex4();
            if (!low) return std::unexpected(low.error());
            if (*low < 0xdc00 || *low > 0xdfff) {
              return Fail(At("json.lone_surrogate",
                             "high surrogate \\u" + ToHex4(cp) + " followed by \\u" + ToHex4(*low) +
                                 ", not a low surrogate",
                             escape_offset));
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (*low - 0xdc00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail(At("json.invalid_escape", "invalid escape \\" + Printable(text_, pos_ - 1),
                         escape_offset));
      }
    }
  }

  static std::string ToHex4(uint32_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04x", v);
    return buf;
  }

  Result<JsonValue> ParseNumber() {
    size_t start = pos_;
    const auto digit = [this](size_t i) {
      return i < text_.size() && text_[i] >= '0' && text_[i] <= '9';
    };
    size_t p = pos_;
    if (text_[p] == '-') ++p;
    if (!digit(p)) return Fail(At("json.syntax", "expected a digit after '-'", p));
    if (text_[p] == '0' && digit(p + 1)) {
      return Fail(At("json.leading_zero", "number has a leading zero", start));
    }
    while (digit(p)) ++p;
    bool integral = true;
    if (p < text_.size() && text_[p] == '.') {
      integral = false;
      ++p;
      if (!digit(p)) return Fail(At("json.syntax", "expected a digit after '.'", p));
      while (digit(p)) ++p;
    }
    if (p < text_.size() && (text_[p] == 'e' || text_[p] == 'E')) {
      integral = false;
      ++p;
      if (p < text_.size() && (text_[p] == '+' || text_[p] == '-')) ++p;
      if (!digit(p)) return Fail(At("json.syntax", "expected a digit in the exponent", p));
      while (digit(p)) ++p;
    }
    pos_ = p;
    std::string_view literal = text_.substr(start, p - start);
    if (integral) {
      int64_t i = 0;
      auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), i);
      if (ec == std::errc() && end == literal.data() + literal.size()) {
        if (options_.integers_only && (i > kMaxSafeInteger || i < -kMaxSafeInteger)) {
          return Fail(At("json.number_out_of_range",
                         "integer " + std::string(literal) + " is beyond ±(2^53-1)", start));
        }
        return JsonValue(i);
      }
      if (options_.integers_only) {
        return Fail(At("json.number_out_of_range",
                       "integer " + std::string(literal) + " is beyond ±(2^53-1)", start));
      }
    } else if (options_.integers_only) {
      return Fail(At("json.number_not_integer",
                     "number " + std::string(literal) +
                         " is not an integer literal (write decimals as strings)",
                     start));
    }
    double d = 0;
    auto [end, ec] = std::from_chars(literal.data(), literal.data() + literal.size(), d);
    // from_chars reports result_out_of_range for overflow and for underflow to zero or a
    // subnormal; only overflow leaves I-JSON (RFC 7493 §2.2), tiny values round as in ES6.
    if (ec == std::errc::result_out_of_range) {
      if (std::isinf(d) || std::fabs(d) > 1) {
        return Fail(At("json.number_out_of_range",
                       "number " + std::string(literal) + " overflows an IEEE-754 double", start));
      }
      d = RoundTiny(literal);
    } else if (ec != std::errc() || end != literal.data() + literal.size()) {
      return Fail(At("json.syntax", "malformed number " + std::string(literal), start));
    }
    if (!std::isfinite(d)) {
      return Fail(At("json.number_out_of_range",
                     "number " + std::string(literal) + " overflows an IEEE-754 double", start));
    }
    return JsonValue(d);
  }

  // libstdc++'s from_chars does not say what it stored on underflow; strtod does round
  // correctly (to a subnormal or a signed zero) and is locale-independent for this grammar
  // except for the decimal point, which "C" and every locale we run under spell '.'.
  static double RoundTiny(std::string_view literal) {
    std::string copy(literal);
    return std::strtod(copy.c_str(), nullptr);
  }

  std::string_view text_;
  const JsonParseOptions& options_;
  size_t pos_ = 0;
};

// ---------------------------------------------------------------------------------------
// Canonical writer

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.substr(run, i - run));
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.substr(run));
  out.push_back('"');
}

namespace {

// ECMAScript Number::toString (ECMA-262 §6.1.6.1.20) for a finite double.
void WriteDouble(double v, std::string& out) {
  assert(std::isfinite(v));
  if (v == 0) {  // also -0
    out.push_back('0');
    return;
  }
  if (v < 0) {
    out.push_back('-');
    v = -v;
  }
  // Shortest round-trip digits, in the form d[.ddd]e±x.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  assert(ec == std::errc());
  std::string_view sci(buf, static_cast<size_t>(end - buf));
  size_t e_pos = sci.find('e');
  std::string digits;
  digits.push_back(sci[0]);
  if (e_pos > 1) digits.append(sci.substr(2, e_pos - 2));  // skip "d."
  int exponent = 0;
  std::string_view exp_text = sci.substr(e_pos + 1);
  if (exp_text[0] == '+') exp_text.remove_prefix(1);
  std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
  const int k = static_cast<int>(digits.size());
  const int n = exponent + 1;  // v = 0.digits × 10^n
  if (k <= n && n <= 21) {
    out += digits;
    out.append(static_cast<size_t>(n - k), '0');
  } else if (0 < n && n <= 21) {
    out.append(digits, 0, static_cast<size_t>(n));
    out.push_back('.');
    out.append(digits, static_cast<size_t>(n));
  } else if (-6 < n && n <= 0) {
    out += "0.";
    out.append(static_cast<size_t>(-n), '0');
    out += digits;
  } else {
    out.push_back(digits[0]);
    if (k > 1) {
      out.push_back('.');
      out.append(digits, 1);
    }
    out.push_back('e');
    out.push_back(n - 1 < 0 ? '-' : '+');
    out += std::to_string(std::abs(n - 1));
  }
}

void WriteValue(const JsonValue& value, std::string& out) {
  switch (value.kind()) {
    case JsonValue::Kind::kNull:
      out += "null";
      return;
    case JsonValue::Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case JsonValue::Kind::kInt: {
      int64_t i = value.as_int();
      // Beyond 2^53 an ES6 number is no longer the integer written; print what JS would.
      if (i > (int64_t{1} << 53) || i < -(int64_t{1} << 53)) {
        WriteDouble(static_cast<double>(i), out);
        return;
      }
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
      out.append(buf, end);
      return;
    }
    case JsonValue::Kind::kDouble:
      WriteDouble(value.as_double(), out);
      return;
    case JsonValue::Kind::kString:
      AppendJsonString(out, value.as_string());
      return;
    case JsonValue::Kind::kArray: {
      out.push_back('[');
      bool first = true;
      for (const JsonValue& element : value.as_array()) {
        if (!first) out.push_back(',');
        first = false;
        WriteValue(element, out);
      }
      out.push_back(']');
      return;
    }
    case JsonValue::Kind::kObject: {
      const JsonObject& members = value.as_object();
      // Sort pointers, not members: the value stays untouched and nothing is copied.
      std::vector<const std::pair<std::string, JsonValue>*> sorted;
      sorted.reserve(members.size());
      for (const auto& member : members) sorted.push_back(&member);
      std::sort(sorted.begin(), sorted.end(),
                [](const auto* a, const auto* b) { return Utf16Less(a->first, b->first); });
      out.push_back('{');
      bool first = true;
      for (const auto* member : sorted) {
        if (!first) out.push_back(',');
        first = false;
        AppendJsonString(out, member->first);
        out.push_back(':');
        WriteValue(member->second, out);
      }
      out.push_back('}');
      return;
    }
  }
}

}  // namespace

Result<JsonValue> ParseJson(std::string_view text, const JsonParseOptions& options) {
  Parser parser(text, options);
  return parser.ParseDocument();
}

void CanonicalizeTo(const JsonValue& value, std::string& out) { WriteValue(value, out); }

std::string Canonicalize(const JsonValue& value) {
  std::string out;
  WriteValue(value, out);
  return out;
}

Result<std::string> CanonicalizeText(std::string_view text, const JsonParseOptions& options) {
  auto value = ParseJson(text, options);
  if (!value) return std::unexpected(value.error());
  return Canonicalize(*value);
}

Status CheckCanonical(std::string_view bytes, const JsonParseOptions& options) {
  auto value = ParseJson(bytes, options);
  if (!value) return std::unexpected(value.error());
  thread_local std::string canonical;
  canonical.clear();
  WriteValue(*value, canonical);
  if (canonical == bytes) return Ok();
  size_t n = std::min(canonical.size(), bytes.size());
  size_t i = 0;
  while (i < n && canonical[i] == bytes[i]) ++i;
  LineColumn lc = LocateOffset(bytes, i);
  return Fail(Error("json.not_canonical",
                    "not RFC 8785 canonical JSON: at byte " + std::to_string(i) + " expected " +
                        Printable(canonical, i) + ", got " + Printable(bytes, i))
                  .at_offset(i)
                  .at_line_column(lc.line, lc.column));
}

// UTF-8 byte order is
// code point order, which agrees with UTF-16 order except between U+E000..U+FFFF and the
// supplementary planes (surrogates 0xD800.. sort below 0xE000), so only the first
// differing code point needs a closer look.
bool Utf16Less(std::string_view a, std::string_view b) {
  size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return a.size() < b.size();
  // Back up to the lead byte of the code point that differs; the prefix is shared.
  while (i > 0 && (static_cast<unsigned char>(a[i]) & 0xc0) == 0x80) --i;
  const auto decode = [](std::string_view s, size_t at) -> uint32_t {
    unsigned char b0 = static_cast<unsigned char>(s[at]);
    const auto cont = [&](size_t k) {
      return at + k < s.size() ? static_cast<uint32_t>(static_cast<unsigned char>(s[at + k]) & 0x3f)
                               : 0u;
    };
    if (b0 < 0x80) return b0;
    if (b0 < 0xe0) return (b0 & 0x1fu) << 6 | cont(1);
    if (b0 < 0xf0) return (b0 & 0x0fu) << 12 | cont(1) << 6 | cont(2);
    return (b0 & 0x07u) << 18 | cont(1) << 12 | cont(2) << 6 | cont(3);
  };
  const auto first_unit = [](uint32_t cp) -> uint32_t {
    return cp < 0x10000 ? cp : 0xd800 + ((cp - 0x10000) >> 10);
  };
  uint32_t ca = decode(a, i), cb = decode(b, i);
  uint32_t ua = first_unit(ca), ub = first_unit(cb);
  if (ua != ub) return ua < ub;
  return ca < cb;  // same high surrogate: the low surrogates order like the code points
}

}  // namespace pedigree
