#include "pedigree/base/canonical_json.h"

#include <bit>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

using namespace pedigree;
using namespace pedigree;

namespace {

std::string MustCanonicalize(std::string_view text) {
  auto out = CanonicalizeText(text);
  if (!out) BOOST_FAIL(std::string(text) + " -> " + out.error().ToString());
  return *out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(canonical_json)

// Vectors from cyberphone/json-canonicalization testdata/{input,output}/*.json (the RFC 8785
// reference implementation's test data); each output is what every JCS implementation emits.
BOOST_AUTO_TEST_CASE(cyberphone_testdata_canonicalizes_byte_exactly) {
  const std::pair<std::string, std::string> cases[] = {
      // values.json
      {"{\n  \"numbers\": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],\n"
       "  \"escaping\": \"\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\\"\\/\",\n"
       "  \"literals\": [null, true, false]\n}",
       "{\"escaping\":\"\xE2\x82\xAC$\\u000f\\nA'B\\\"\\\\\\\\\\\"/"
       "\",\"literals\":[null,true,false],"
       "\"numbers\":[1e+30,4.5,333333333.3333333,0.002,1e-27]}"},
      // arrays.json
      {"[\n  56,\n  {\n    \"d\": true,\n    \"10\": null,\n    \"1\": [ ]\n  }\n]",
       "[56,{\"1\":[],\"10\":null,\"d\":true}]"},
      // structures.json
      {"{\n  \"1\": {\"f\": {\"f\": \"hi\",\"F\": 5} ,\"\\n\": 56.0},\n  \"10\": { },\n  \"\": "
       "\"empty\",\n  \"a\": { },\n  \"111\": [ { } ],\n  \"A\": { }\n}",
       "{\"\":\"empty\",\"1\":{\"\\n\":56,\"f\":{\"F\":5,\"f\":\"hi\"}},\"10\":{},\"111\":[{}],"
       "\"A\":{},\"a\":{}}"},
      // french.json: no locale collation, plain code unit order.
      {"{\n  \"peach\": \"This sorting order\",\n  \"p\xC3\xA9"
       "ch\xC3\xA9\": \"is wrong according "
       "to French\",\n  \"p\xC3\xAA"
       "che\": \"but canonicalization MUST\",\n  \"sin\":   "
       "\"ingnore locale\"\n}\n",
       "{\"peach\":\"This sorting order\",\"p\xC3\xA9"
       "ch\xC3\xA9\":\"is wrong according to "
       "French\",\"p\xC3\xAA"
       "che\":\"but canonicalization MUST\",\"sin\":\"ingnore locale\"}"},
      // unicode.json: no normalisation.
      {"{\n  \"Unnormalized Unicode\":\"\\u1e0d\\u0307\"\n}\n",
       "{\"Unnormalized Unicode\":\"\xE1\xB8\x8D\xCC\x87\"}"},
      // weird.json: U+1F602 (surrogates D83D DE02) sorts before U+FB33.
      {"{\n  \"\\u20ac\": \"Euro Sign\",\n  \"1\": \"One\",\n  \"\\u0080\": \"Control\\u007f\",\n"
       "  \"\\ud83d\\ude02\": \"Smiley\",\n  \"\\u00f6\": \"Latin Small Letter O With "
       "Diaeresis\",\n"
       "  \"\\ufb33\": \"Hebrew Letter Dalet With Dagesh\",\n  \"</script>\": \"Browser "
       "Challenge\"\n}\n",
       "{\"1\":\"One\",\"</script>\":\"Browser Challenge\",\"\xC2\x80\":\"Control\x7F\","
       "\"\xC3\xB6\":\"Latin Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\","
       "\"\xF0\x9F\x98\x82\":\"Smiley\",\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}"},
  };
  for (const auto& [input, expected] : cases) {
    BOOST_TEST(MustCanonicalize(input) == expected);
  }
}

// RFC 8785 §3.2.3 sorting example: UTF-16 code units, so U+1F600 (D83D DE00) < U+FB33.
BOOST_AUTO_TEST_CASE(rfc8785_key_sorting_example_orders_by_utf16_code_units) {
  const std::string input =
      "{\"\\u20ac\":\"Euro Sign\",\"\\r\":\"Carriage Return\",\"\\ufb33\":\"Hebrew Letter Dalet "
      "With Dagesh\",\"1\":\"One\",\"\\ud83d\\ude00\":\"Emoji: Grinning Face\",\"\\u0080\":"
      "\"Control\",\"\\u00f6\":\"Latin Small Letter O With Diaeresis\"}";
  const std::string expected =
      "{\"\\r\":\"Carriage Return\",\"1\":\"One\",\"\xC2\x80\":\"Control\",\"\xC3\xB6\":\"Latin "
      "Small Letter O With Diaeresis\",\"\xE2\x82\xAC\":\"Euro Sign\",\"\xF0\x9F\x98\x80\":"
      "\"Emoji: Grinning Face\",\"\xEF\xAC\xB3\":\"Hebrew Letter Dalet With Dagesh\"}";
  BOOST_TEST(MustCanonicalize(input) == expected);
}

// RFC 8785 Appendix B: IEEE-754 bit patterns and their ES6 serialisations.
BOOST_AUTO_TEST_CASE(rfc8785_appendix_b_numbers_serialize_like_es6) {
  const std::pair<uint64_t, std::string> cases[] = {
      {0x0000000000000000, "0"},
      {0x8000000000000000, "0"},
      {0x0000000000000001, "5e-324"},
      {0x8000000000000001, "-5e-324"},
      {0x7fefffffffffffff, "1.7976931348623157e+308"},
      {0xffefffffffffffff, "-1.7976931348623157e+308"},
      {0x4340000000000000, "9007199254740992"},
      {0xc340000000000000, "-9007199254740992"},
      {0x4430000000000000, "295147905179352830000"},
      {0x44b52d02c7e14af5, "9.999999999999997e+22"},
      {0x44b52d02c7e14af6, "1e+23"},
      {0x44b52d02c7e14af7, "1.0000000000000001e+23"},
      {0x444b1ae4d6e2ef4e, "999999999999999700000"},
      {0x444b1ae4d6e2ef4f, "999999999999999900000"},
      {0x444b1ae4d6e2ef50, "1e+21"},
      {0x3eb0c6f7a0b5ed8c, "9.999999999999997e-7"},
      {0x3eb0c6f7a0b5ed8d, "0.000001"},
      {0x41b3de4355555553, "333333333.3333332"},
      {0x41b3de4355555554, "333333333.33333325"},
      {0x41b3de4355555555, "333333333.3333333"},
      {0x41b3de4355555556, "333333333.3333334"},
      {0x41b3de4355555557, "333333333.33333343"},
      {0xbecbf647612f3696, "-0.0000033333333333333333"},
      {0x43143ff3c1cb0959, "1424953923781206.2"},
  };
  for (const auto& [bits, expected] : cases) {
    BOOST_TEST(Canonicalize(JsonValue(std::bit_cast<double>(bits))) == expected,
               std::hex << bits << " -> " << Canonicalize(JsonValue(std::bit_cast<double>(bits))));
  }
}

// Number texts and their canonical forms; cross-checked with node:
//   node -e 'console.log(JSON.stringify(JSON.parse("[1E30,...]")))'
BOOST_AUTO_TEST_CASE(number_literals_canonicalize_to_es6_form) {
  const std::pair<std::string, std::string> cases[] = {
      {"1E30", "1e+30"},
      {"4.50", "4.5"},
      {"2e-3", "0.002"},
      {"0.000000000000000000000000001", "1e-27"},
      {"333333333.33333329", "333333333.3333333"},
      {"-0", "0"},
      {"-0.0", "0"},
      {"0e10", "0"},
      {"1e21", "1e+21"},
      {"1e20", "100000000000000000000"},
      {"1e-7", "1e-7"},
      {"0.000001", "0.000001"},
      {"123.456e2", "12345.6"},
      {"56.0", "56"},
      {"-1.5E+3", "-1500"},
      {"9007199254740993", "9007199254740992"},  // beyond 2^53: what a double holds
      {"-9223372036854775808", "-9223372036854776000"},
      {"18446744073709551616", "18446744073709552000"},
      {"1e-400", "0"},
      {"4.9406564584124654e-324", "5e-324"},
      {"42", "42"},
      {"-42", "-42"},
  };
  for (const auto& [input, expected] : cases) {
    BOOST_TEST(MustCanonicalize(input) == expected, input);
  }
}

BOOST_AUTO_TEST_CASE(strings_escape_only_what_jcs_requires) {
  BOOST_TEST(MustCanonicalize("\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\\\/\\u007f\\u2028\"") ==
             std::string("\"\\u0000\\u001f\\b\\t\\n\\f\\r\\\"\\\\/\x7F\xE2\x80\xA8\""));
}

struct InvalidCase {
  std::string input;
  std::string code;
  uint64_t offset;
};

BOOST_AUTO_TEST_CASE(invalid_json_is_rejected_with_code_and_offset) {
  const InvalidCase cases[] = {
      {"{\"a\":1,\"a\":2}", "json.duplicate_key", 7},
      {"\"\\ud800\"", "json.lone_surrogate", 1},
      {"\"\\udc00\"", "json.lone_surrogate", 1},
      {"\"\\ud800\\u0041\"", "json.lone_surrogate", 1},
      {"\"\\ud800x\"", "json.lone_surrogate", 1},
      {"\"\xff\"", "json.invalid_utf8", 1},
      {"\"\xc0\x80\"", "json.invalid_utf8", 1},          // overlong NUL
      {"\"\xe0\x80\xaf\"", "json.invalid_utf8", 2},      // overlong '/'
      {"\"\xed\xa0\x80\"", "json.invalid_utf8", 2},      // surrogate in UTF-8
      {"\"\xf4\x90\x80\x80\"", "json.invalid_utf8", 2},  // above U+10FFFF
      {"\"\xe2\x82\"", "json.invalid_utf8", 3},          // truncated
      {"[1] x", "json.trailing_data", 4},
      {"{} {}", "json.trailing_data", 3},
      {"01", "json.leading_zero", 0},
      {"[-01]", "json.leading_zero", 1},
      {"\"a\tb\"", "json.control_character", 2},
      {"\"a\nb\"", "json.control_character", 2},
      {"\"\\x\"", "json.invalid_escape", 1},
      {"\"\\u12G4\"", "json.invalid_escape", 5},
      {"\"\\u12\"", "json.invalid_escape", 3},
      {"NaN", "json.syntax", 0},
      {"Infinity", "json.syntax", 0},
      {"-Infinity", "json.syntax", 1},
      {"-", "json.syntax", 1},
      {"1.", "json.syntax", 2},
      {".5", "json.syntax", 0},
      {"+1", "json.syntax", 0},
      {"1e", "json.syntax", 2},
      {"0x10", "json.trailing_data", 1},
      {"{\"a\" 1}", "json.syntax", 5},
      {"{\"a\":1,}", "json.syntax", 7},
      {"[1,]", "json.syntax", 3},
      {"[1 2]", "json.syntax", 3},
      {"{1:2}", "json.syntax", 1},
      {"'a'", "json.syntax", 0},
      {"", "json.syntax", 0},
      {"   ", "json.syntax", 3},
      {"tru", "json.syntax", 0},
      {"\"abc", "json.syntax", 4},
      {"[", "json.syntax", 1},
      {"1e400", "json.number_out_of_range", 0},
      {"-1e400", "json.number_out_of_range", 0},
      {std::string(65, '[') + std::string(65, ']'), "json.too_deep", 64},
  };
  for (const auto& c : cases) {
    auto r = ParseJson(c.input);
    BOOST_REQUIRE_MESSAGE(!r.has_value(), "accepted: " + c.input);
    BOOST_TEST(r.error().code() == c.code, c.input << " -> " << r.error().ToString());
    BOOST_TEST(r.error().location().offset.value_or(999) == c.offset,
               c.input << " -> " << r.error().ToString());
    BOOST_TEST(r.error().location().line.has_value());
  }
}

BOOST_AUTO_TEST_CASE(nesting_up_to_the_limit_is_accepted) {
  BOOST_TEST(ParseJson(std::string(64, '[') + std::string(64, ']')).has_value());
  JsonParseOptions shallow;
  shallow.max_depth = 2;
  BOOST_TEST(ParseJson("[[1]]", shallow).has_value());
  BOOST_TEST(ParseJson("[[[1]]]", shallow).error().code() == "json.too_deep");
}

BOOST_AUTO_TEST_CASE(duplicate_key_error_names_key_and_line_column) {
  auto r = ParseJson("{\n  \"gtin\": \"1\",\n  \"gtin\": \"2\"\n}");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "json.duplicate_key");
  BOOST_TEST(r.error().field() == "gtin");
  BOOST_TEST(r.error().message().find("gtin") != std::string::npos);
  BOOST_TEST(*r.error().location().line == 3u);
  BOOST_TEST(*r.error().location().column == 3u);
  BOOST_TEST(*r.error().location().offset == 19u);
}

BOOST_AUTO_TEST_CASE(integers_only_accepts_safe_integers_and_rejects_the_rest) {
  JsonParseOptions strict;
  strict.integers_only = true;
  const std::pair<std::string, std::string> cases[] = {
      {"9007199254740991", ""},
      {"-9007199254740991", ""},
      {"0", ""},
      {"-0", ""},
      {"9007199254740992", "json.number_out_of_range"},
      {"-9007199254740992", "json.number_out_of_range"},
      {"99999999999999999999", "json.number_out_of_range"},
      {"1.5", "json.number_not_integer"},
      {"1.0", "json.number_not_integer"},
      {"1e2", "json.number_not_integer"},
      {"{\"price\":[12.30]}", "json.number_not_integer"},
  };
  for (const auto& [input, code] : cases) {
    auto r = ParseJson(input, strict);
    if (code.empty()) {
      BOOST_REQUIRE_MESSAGE(r.has_value(), "rejected: " + input);
      BOOST_TEST(r->is_int(), input);
    } else {
      BOOST_REQUIRE_MESSAGE(!r.has_value(), "accepted: " + input);
      BOOST_TEST(r.error().code() == code, input);
    }
  }
}

BOOST_AUTO_TEST_CASE(integer_literals_stay_int64_and_others_become_double) {
  auto r = ParseJson("[9223372036854775807,-9223372036854775808,1.0,1e0,9223372036854775808]");
  BOOST_REQUIRE(r.has_value());
  const JsonArray& a = r->as_array();
  BOOST_TEST(a[0].is_int());
  BOOST_TEST(a[0].as_int() == INT64_MAX);
  BOOST_TEST(a[1].is_int());
  BOOST_TEST(a[1].as_int() == INT64_MIN);
  BOOST_TEST(a[2].is_double());
  BOOST_TEST(a[3].is_double());
  BOOST_TEST(a[4].is_double());
}

BOOST_AUTO_TEST_CASE(check_canonical_names_first_differing_byte) {
  const std::pair<std::string, uint64_t> cases[] = {
      {"{\"b\":1,\"a\":2}", 2},  // unsorted
      {"{\"a\":1 }", 6},         // whitespace
      {"1.0", 1},                // number form
      {"\"\\u0041\"", 1},        // needless escape
      {"[1e2]", 2},
      {"{\"a\":\"\\/\"}", 6},
  };
  for (const auto& [input, offset] : cases) {
    auto st = CheckCanonical(input);
    BOOST_REQUIRE_MESSAGE(!st.has_value(), "accepted: " + input);
    BOOST_TEST(st.error().code() == "json.not_canonical", input);
    BOOST_TEST(*st.error().location().offset == offset, input << " -> " << st.error().ToString());
  }
  BOOST_TEST(CheckCanonical("{\"a\":[1,\"x\",null,true,{}],\"b\":-5}").has_value());
  BOOST_TEST(CheckCanonical("{\"a\":1,\"a\":1}").error().code() == "json.duplicate_key");
}

BOOST_AUTO_TEST_CASE(canonicalization_is_idempotent) {
  const std::string inputs[] = {
      "{\"z\":[1.5e300,-0.0,{\"\\ud83d\\ude00\":1,\"\\ufb33\":2}],\"a\":\"\\u0001\"}",
      "[\"\xF0\x9F\x98\x80\",1e-7,123456789012345678]",
  };
  for (const auto& input : inputs) {
    std::string once = MustCanonicalize(input);
    BOOST_TEST(MustCanonicalize(once) == once);
    BOOST_TEST(CheckCanonical(once).has_value());
  }
}

BOOST_AUTO_TEST_CASE(builders_set_replaces_and_canonicalize_sorts) {
  JsonValue v = JsonValue::Object().set("b", 1).set("a", "x").set("b", 2);
  v.set("list", JsonValue::Array().push_back(true).push_back(nullptr).push_back(int64_t{-3}));
  BOOST_TEST(v.size() == 3u);
  BOOST_TEST(v.as_object()[0].first == "b");  // insertion order kept
  BOOST_REQUIRE(v.find("b") != nullptr);
  BOOST_TEST(v.find("b")->as_int() == 2);
  BOOST_TEST(v.find("missing") == nullptr);
  BOOST_TEST(JsonValue(1).find("b") == nullptr);
  BOOST_TEST(Canonicalize(v) == "{\"a\":\"x\",\"b\":2,\"list\":[true,null,-3]}");
  auto reparsed = ParseJson(Canonicalize(v));
  BOOST_REQUIRE(reparsed.has_value());
  BOOST_TEST(Canonicalize(*reparsed) == Canonicalize(v));
}

BOOST_AUTO_TEST_SUITE_END()
