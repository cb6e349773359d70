#include "pedigree/base/bytes.h"

#include <boost/test/unit_test.hpp>

using namespace pedigree;

BOOST_AUTO_TEST_SUITE(bytes)

BOOST_AUTO_TEST_CASE(sha256_of_empty_string_matches_known_answer) {
  // echo -n | sha256sum
  BOOST_TEST(ToHex(Sha256(std::string_view(""))) ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(base64_round_trips_rfc4648_vectors) {
  const std::pair<std::string, std::string> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    BOOST_TEST(ToBase64(AsBytes(plain)) == encoded);
    auto decoded = FromBase64(encoded);
    BOOST_REQUIRE(decoded.has_value());
    BOOST_TEST(std::string(decoded->begin(), decoded->end()) == plain);
  }
}

BOOST_AUTO_TEST_CASE(base64_rejects_malformed_text_with_offset) {
  BOOST_TEST(FromBase64("Zm9").error().code() == "encoding.base64");
  auto bad = FromBase64("Zm*v");
  BOOST_REQUIRE(!bad);
  BOOST_TEST(bad.error().location().offset.value() == 2u);
  // "Zh==" decodes to 'f' with non-zero padding bits: a second spelling of "Zg==".
  BOOST_TEST(FromBase64("Zh==").error().message().find("non-canonical") != std::string::npos);
  BOOST_TEST(!FromBase64("Z===").has_value());
}

BOOST_AUTO_TEST_CASE(hex_rejects_odd_length_and_bad_digits) {
  BOOST_TEST(ToHex(FromHex("00Ff10").value()) == "00ff10");
  BOOST_TEST(FromHex("abc").error().code() == "encoding.hex");
  BOOST_TEST(FromHex("zz").error().location().offset.value() == 0u);
  BOOST_TEST(HashFromHex("00").error().code() == "encoding.hash_length");
}

BOOST_AUTO_TEST_SUITE_END()
