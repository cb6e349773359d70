#include "pedigree/base/printable.h"

#include <boost/test/unit_test.hpp>

using namespace pedigree;

BOOST_AUTO_TEST_SUITE(printable)

BOOST_AUTO_TEST_CASE(control_characters_are_written_as_escapes) {
  const std::pair<std::string, std::string> cases[] = {
      {"Aspirin 500 mg", "Aspirin 500 mg"},
      {"Paracétamol – 1 g", "Paracétamol – 1 g"},  // UTF-8 text stays as it is
      {"back\\slash", "back\\slash"},
      {"\x1b[2K\rVERIFIED", "\\x1b[2K\\rVERIFIED"},
      {"a\nb\tc", "a\\nb\\tc"},
      {std::string("nul\0x", 5), "nul\\x00x"},
      {"del\x7f", "del\\x7f"},
      {"csi\xc2\x9b"
       "31m",
       "csi\\u009b31m"},  // U+009B, the 8-bit CSI
      {"rtl\xe2\x80\xae"
       "gpj.exe",
       "rtl\\u202egpj.exe"},  // RIGHT-TO-LEFT OVERRIDE
      {"line\xe2\x80\xa8sep", "line\\u2028sep"},
      {"raw\x9b"
       "31m",
       "raw\\x9b31m"},                      // a lone C1 byte, not UTF-8
      {"\xc0\xaf", "\\xc0\\xaf"},           // overlong '/'
      {"\xed\xa0\x80", "\\xed\\xa0\\x80"},  // a surrogate
  };
  for (const auto& [raw, shown] : cases) BOOST_TEST(Printable(raw) == shown);
}

BOOST_AUTO_TEST_CASE(printable_output_holds_no_control_byte) {
  std::string every;
  for (int c = 0; c < 256; ++c) every += static_cast<char>(c);
  for (const char c : Printable(every)) {
    const auto b = static_cast<unsigned char>(c);
    BOOST_TEST((b >= 0x20 && b != 0x7f && b < 0x80), "byte " << int(b));
  }
}

BOOST_AUTO_TEST_SUITE_END()
