// JSON values, a strict RFC 8259 parser and the RFC 8785 JSON Canonicalization Scheme
// (JCS) that defines the exact bytes we sign. See ../../../../docs/ledger-format.md,
// section "Canonical JSON".
#pragma once

#include <cassert>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree {

class JsonValue;
using JsonArray = std::vector<JsonValue>;
// Members in insertion order; Canonicalize sorts them, the value never reorders itself.
using JsonObject = std::vector<std::pair<std::string, JsonValue>>;

// A JSON value. Numbers written as integer literals that fit an int64 are kept exactly
// (is_int); every other number is an IEEE-754 double (is_double). Strings hold valid
// UTF-8. Value type: copies are deep; not synchronised.
class JsonValue {
 public:
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kArray, kObject };

  JsonValue() = default;  // null
  JsonValue(std::nullptr_t) {}
  JsonValue(bool b) : value_(b) {}
  // Requires the value to fit an int64 (asserted for unsigned types).
  template <std::integral T>
  requires(!std::same_as<T, bool>) JsonValue(T i) : value_(static_cast<int64_t>(i)) {
    if constexpr (std::is_unsigned_v<T>) assert(static_cast<uint64_t>(i) <= INT64_MAX);
  }
  JsonValue(double d) : value_(d) {}
  JsonValue(std::string s) : value_(std::move(s)) {}
  JsonValue(std::string_view s) : value_(std::string(s)) {}
  JsonValue(const char* s) : value_(std::string(s)) {}
  JsonValue(JsonArray a) : value_(std::move(a)) {}
  JsonValue(JsonObject o) : value_(std::move(o)) {}

  static JsonValue Null() { return {}; }
  static JsonValue Bool(bool b) { return JsonValue(b); }
  static JsonValue Int(int64_t i) { return JsonValue(i); }
  static JsonValue Double(double d) { return JsonValue(d); }
  static JsonValue String(std::string s) { return JsonValue(std::move(s)); }
  static JsonValue Array() { return JsonValue(JsonArray{}); }
  static JsonValue Object() { return JsonValue(JsonObject{}); }
  // An array of strings, in order.
  template <typename Range>
  static JsonValue Strings(const Range& items) {
    JsonArray a;
    for (const auto& s : items) a.emplace_back(std::string(s));
    return JsonValue(std::move(a));
  }
  static JsonValue Strings(std::initializer_list<std::string> items) {
    return Strings<std::initializer_list<std::string>>(items);
  }

  Kind kind() const { return static_cast<Kind>(value_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_bool() const { return kind() == Kind::kBool; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_double() const { return kind() == Kind::kDouble; }
  bool is_number() const { return is_int() || is_double(); }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_object() const { return kind() == Kind::kObject; }

  // Accessors require the matching kind (asserted).
  bool as_bool() const;
  int64_t as_int() const;
  // The number as a double; valid for is_int() too.
  double as_double() const;
  const std::string& as_string() const;
  const JsonArray& as_array() const;
  JsonArray& as_array();
  const JsonObject& as_object() const;
  JsonObject& as_object();

  // The member named `key`, or nullptr when absent or when this is not an object.
  const JsonValue* find(std::string_view key) const;
  JsonValue* find(std::string_view key);

  // Requires is_object(). Replaces the member `key` if present, else appends it.
  // Returns *this so that builders chain: JsonValue::Object().set("a", 1).set("b", "x").
  JsonValue& set(std::string key, JsonValue v);
  // Requires is_array(). Appends `v`; returns *this.
  JsonValue& push_back(JsonValue v);
  // Number of members or elements; 0 for scalars.
  size_t size() const;

  // Structural equality; objects compare member by member in order, ints and doubles
  // never compare equal to each other.
  friend bool operator==(const JsonValue& a, const JsonValue& b) { return a.value_ == b.value_; }

 private:
  std::variant<std::nullptr_t, bool, int64_t, double, std::string, JsonArray, JsonObject> value_;
};

struct JsonParseOptions {
  // Reject non-integer numbers (fraction or exponent) and integers beyond ±(2^53-1):
  // the rule for signed payloads, where decimals travel as strings.
  bool integers_only = false;
  // Maximum nesting of arrays and objects; the top-level value is depth 1.
  size_t max_depth = 64;
};

// Strict RFC 8259 + I-JSON (RFC 7493) parse of exactly one value, surrounded by optional
// whitespace. Error codes (each with byte offset and line/column): json.syntax,
// json.trailing_data, json.duplicate_key, json.lone_surrogate, json.invalid_utf8,
// json.control_character, json.invalid_escape, json.leading_zero, json.number_not_integer,
// json.number_out_of_range, json.too_deep.
[[nodiscard]] Result<JsonValue> ParseJson(std::string_view text,
                                          const JsonParseOptions& options = {});

// RFC 8785 serialisation: no whitespace, members sorted by UTF-16 code units, ES6
// Number::toString for numbers (integers beyond ±2^53 print as the double they round to),
// minimal string escaping. Requires finite doubles (asserted; the parser never makes others).
std::string Canonicalize(const JsonValue& value);

// Orders UTF-8 strings by their UTF-16 code units, as RFC 8785 §3.2.3 sorts member names.
bool Utf16Less(std::string_view a, std::string_view b);

// Appends `s` as a JSON string literal with RFC 8785 escaping (", \, and U+0000–U+001F
// only; everything else literal). `s` must be valid UTF-8.
void AppendJsonString(std::string& out, std::string_view s);
// Appends the canonical form of `value` to `out` (lets hot paths reuse a buffer).
void CanonicalizeTo(const JsonValue& value, std::string& out);

// ParseJson followed by Canonicalize.
[[nodiscard]] Result<std::string> CanonicalizeText(std::string_view text,
                                                   const JsonParseOptions& options = {});

// Succeeds when `bytes` parse and are byte-identical to their canonical form. Otherwise the
// parse error, or json.not_canonical naming the first differing byte offset (and
// line/column) with the expected and actual bytes there.
[[nodiscard]] Status CheckCanonical(std::string_view bytes, const JsonParseOptions& options = {});

}  // namespace pedigree
