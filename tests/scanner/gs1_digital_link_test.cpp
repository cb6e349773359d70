// GS1 Digital Link URI Syntax rules, Digital Links in plain QR / Data Matrix carriers, and
// EAN-13 / UPC-A / EAN-8 reads. Each case quotes the rule it comes from.
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/scanner/image.h"

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

ParseOptions Opts() {
  ParseOptions o;
  o.reference_year = 2026;
  return o;
}

struct Case {
  const char* in;
  const char* code;  // "" = accepted
  const char* rule;
};

void RunCases(const std::vector<Case>& cases) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.in << " — " << c.rule) {
      auto d = ParseGs1(c.in, Opts());
      if (std::string_view(c.code).empty()) {
        BOOST_TEST(d.has_value(), (d ? "" : d.error().ToString()));
      } else {
        BOOST_TEST_REQUIRE(!d.has_value());
        BOOST_TEST(d.error().code() == c.code, d.error().ToString());
      }
    }
  }
}

// EAN-13 (ISO/IEC 15420): start guard, six left digits in L or G code by the parity of the
// first digit, centre guard, six right digits in R code, end guard. Returns the modules.
std::string Ean13Modules(const std::string& digits) {
  static const char* kL[10] = {"0001101", "0011001", "0010011", "0111101", "0100011",
                               "0110001", "0101111", "0111011", "0110111", "0001011"};
  static const char* kParity[10] = {"LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG",
                                    "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL"};
  auto invert = [](std::string s) {
    for (char& c : s) c = c == '0' ? '1' : '0';
    return s;
  };
  std::string m = "101";
  for (int i = 1; i <= 6; ++i) {
    std::string l = kL[digits[i] - '0'];
    if (kParity[digits[0] - '0'][i - 1] == 'G') {  // G = R reversed; R = L inverted
      std::string r = invert(l);
      l = std::string(r.rbegin(), r.rend());
    }
    m += l;
  }
  m += "01010";
  for (int i = 7; i <= 12; ++i) m += invert(kL[digits[i] - '0']);
  m += "101";
  return m;
}

Image Render(const std::string& modules) {
  constexpr int kModule = 3, kQuiet = 12, kHeight = 80;
  Image img;
  img.width = (static_cast<int>(modules.size()) + 2 * kQuiet) * kModule;
  img.height = kHeight;
  img.gray.assign(static_cast<size_t>(img.width) * img.height, 255);
  for (int y = 10; y < kHeight - 10; ++y) {
    for (size_t i = 0; i < modules.size(); ++i) {
      if (modules[i] != '1') continue;
      for (int k = 0; k < kModule; ++k) {
        img.at((kQuiet + static_cast<int>(i)) * kModule + k, y) = 0;
      }
    }
  }
  return img;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gs1_digital_link)

BOOST_AUTO_TEST_CASE(uri_syntax_rules) {
  RunCases({
      // Scheme: "http://" or "https://", lower or upper case.
      {"HTTPS://ID.GS1.ORG/01/09506000134352", "", "upper-case scheme and host"},
      {"HtTpS://id.gs1.org/01/09506000134352", "gs1.dl_syntax", "mixed-case scheme"},
      // RFC 3986 §2: characters outside the URI set are refused.
      {"https://id.gs1.org/01/09506000134352/21/A B", "gs1.dl_syntax", "a space"},
      {"https://id.gs1.org/01/09506000134352/21/A\"B", "gs1.dl_syntax", "'\"'"},
      {"https://id.gs1.org/01/09506000134352/21/A<B", "gs1.dl_syntax", "'<'"},
      {"https://id.gs1.org/01/09506000134352/21/A{B", "gs1.dl_syntax", "'{'"},
      {"https://id.gs1.org/01/09506000134352/21/A|B", "gs1.dl_syntax", "'|'"},
      {"https://id.gs1.org/01/09506000134352/21/A^B", "gs1.dl_syntax", "'^'"},
      // Host syntax.
      {"https:///01/09506000134352", "gs1.dl_syntax", "no domain"},
      {"https://exa_mple.com/01/09506000134352", "gs1.dl_syntax", "'_' in a host name"},
      {"https://user@example.com/01/09506000134352", "gs1.dl_syntax", "user info"},
      {"https://-a.example/01/09506000134352", "gs1.dl_syntax", "label starts with '-'"},
      {"https://a..example/01/09506000134352", "gs1.dl_syntax", "empty label"},
      {"https://example.com:80a/01/09506000134352", "gs1.dl_syntax", "port not digits"},
      {"https://example.com:8443/01/09506000134352", "", "port"},
      {"https://192.0.2.1/01/09506000134352", "", "IPv4"},
      {"https://[2001:db8::1]/01/09506000134352", "", "IPv6 literal"},
      {"https://xn--fsq.xn--0zwm56d/01/09506000134352", "", "punycode"},
      {"https://example.com?01=09506000134352", "gs1.dl_syntax", "no path"},
      // Empty path segments.
      {"https://id.gs1.org//01/09506000134352", "gs1.dl_syntax", "'//' in the stem"},
      {"https://id.gs1.org/01/09506000134352/", "gs1.dl_syntax", "trailing '/'"},
      {"https://id.gs1.org/01//21/S", "gs1.dl_syntax", "empty value"},
      // The rightmost primary key; what precedes it is the stem.
      {"https://example.com/00/faux/01/09506000134352/21/S", "", "fake key in the stem"},
      {"https://example.com/01/09506000134352/foo/bar", "gs1.dl_syntax", "non-AI after key"},
      // Qualifiers in the dlpkey order ("01 dlpkey=22,10,21|235").
      {"https://id.gs1.org/01/09506000134352/22/V/10/L/21/S", "", "22, 10, 21"},
      {"https://id.gs1.org/01/09506000134352/22/V/21/S", "", "skipping 10"},
      {"https://id.gs1.org/01/09506000134352/21/S/10/L", "gs1.dl_syntax", "bad order"},
      {"https://id.gs1.org/01/09506000134352/10/L/235/T", "gs1.dl_syntax", "don't mix"},
      {"https://id.gs1.org/01/09506000134352/17/260331", "gs1.dl_syntax", "17 is no qualifier"},
      {"https://id.gs1.org/414/9506000134376/254/X1", "", "414 dlpkey=254|7040"},
      {"https://id.gs1.org/00/095060001343520000/21/S", "gs1.dl_syntax", "00 takes none"},
      // GTIN in the path has 14 digits (zero-suppressed GTINs are a legacy option).
      {"https://id.gs1.org/01/9506000134352", "gs1.length", "GTIN-13 in /01/"},
      // Query: only data attributes ('?' flag); other parameters ignored.
      {"https://id.gs1.org/01/09506000134352?17=260331&linkType=all&foo&&x=", "",
       "non-AI parameters ignored"},
      {"https://id.gs1.org/01/09506000134352?=x", "gs1.dl_syntax", "empty parameter name"},
      {"https://id.gs1.org/00/095060001343520000?01=9506000134352", "",
       "a GTIN-13 in the query is right-justified"},
      {"https://id.gs1.org/01/09506000134352?23=5", "gs1.unknown_ai", "numeric non-AI"},
      {"https://id.gs1.org/01/09506000134352?254=X", "gs1.dl_syntax", "254 has no '?' flag"},
      {"https://id.gs1.org/01/09506000134352?17=", "gs1.length", "empty value"},
      // Key qualifiers only in the path.
      {"https://id.gs1.org/01/09506000134352?21=S", "gs1.dl_syntax", "21 belongs in the path"},
      {"https://id.gs1.org/01/09506000134352/21/S?10=L", "gs1.dl_syntax", "10 fits before 21"},
      {"https://id.gs1.org/01/09506000134352/235/T?10=L", "", "10 cannot join 235: attribute"},
      // Duplicates, and the same AI in path and query.
      {"https://id.gs1.org/01/09506000134352?17=260331&17=260331", "gs1.duplicate_ai", "dup"},
      {"https://id.gs1.org/01/09506000134352?01=09506000134352", "gs1.duplicate_ai",
       "path and query"},
      // Percent-decoding and '+'.
      {"https://id.gs1.org/01/09506000134352/21/A%2FB", "", "%2F is '/'"},
      {"https://id.gs1.org/01/09506000134352/21/A%00", "gs1.dl_syntax", "decoded NUL"},
      {"https://id.gs1.org/01/09506000134352/21/A+B", "", "'+' is itself in the path"},
      {"https://id.gs1.org/01/09506000134352?240=A+B", "gs1.charset", "'+' is a space in a query"},
      // Compressed links are not supported.
      {"https://id.gs1.org/ARHKVAdpQgEFA", "gs1.dl_compressed_unsupported", "compressed"},
  });
  auto plus = ParseGs1("https://id.gs1.org/01/09506000134352/21/A+B", Opts());
  BOOST_TEST_REQUIRE(plus.has_value());
  BOOST_TEST(plus->Find("21")->value == "A+B");
  auto slash = ParseGs1("https://id.gs1.org/01/09506000134352/21/A%2FB", Opts());
  BOOST_TEST(slash->Find("21")->value == "A/B");
  auto literal = ParseGs1("https://id.gs1.org/01/09506000134352/21/A%2", Opts());
  BOOST_TEST_REQUIRE(literal.has_value());  // '%' not followed by two hex digits is itself
  BOOST_TEST(literal->Find("21")->value == "A%2");
  auto stem = ParseGs1("https://example.com/00/faux/01/09506000134352/21/S", Opts());
  BOOST_TEST_REQUIRE(stem.has_value());
  BOOST_TEST(stem->elements.size() == 2u);
}

// fuzz_gs1 (CI's fuzz step): a long run of digits where the walk from the right expects an
// AI overflowed an int while being read as an AI code (UBSan: signed integer overflow).
// It is no AI, so the link has no primary key.
BOOST_AUTO_TEST_CASE(a_long_digit_segment_in_an_ai_position_is_no_ai) {
  for (const char* in : {"https://id.gs1.org/01/09506000134352910/A@C%2F1?34=261231",
                         "https://id.gs1.org/01/99999999999999999999999/S"}) {
    BOOST_TEST_CONTEXT(in) {
      auto d = ParseGs1(in, Opts());
      BOOST_TEST(!d.has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(digital_links_in_plain_qr_and_data_matrix_are_read) {
  // ISO/IEC 15424: ]Q1 = QR Code, ]d1 = Data Matrix, neither announcing GS1 element strings;
  // data starting http:// or https:// is a GS1 Digital Link.
  for (const char* sym : {"]Q1", "]d1"}) {
    std::string in = std::string(sym) + "https://id.gs1.org/01/09506000134352/21/SER1?17=260331";
    auto d = ParseGs1(in, Opts());
    BOOST_TEST_REQUIRE(d.has_value(), (d ? "" : d.error().ToString()));
    BOOST_TEST(d->symbology == sym);
    BOOST_TEST(d->source_form == "digital_link");
    BOOST_TEST(d->gtin()->value() == "09506000134352");
    BOOST_TEST(d->Find("21")->offset == 3u + 40u);
  }
  auto bad = ParseGs1("]Q1https://id.gs1.org/01/09506000134353", Opts());
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().code() == "gs1.check_digit");
  BOOST_TEST(bad.error().location().offset.value_or(0) == 3u + 22u + 13u);
  auto text = ParseGs1("]Q1HELLO WORLD", Opts());
  BOOST_TEST_REQUIRE(!text.has_value());
  BOOST_TEST(text.error().code() == "gs1.symbology");
}

BOOST_AUTO_TEST_CASE(ean_and_upc_reads_give_the_gtin_14) {
  // ]E0: EAN-13 (UPC-A and UPC-E as 13 digits); ]E4: EAN-8. GTIN-14 with leading zeros.
  auto ean13 = ParseGs1("]E09506000134352", Opts());
  BOOST_TEST_REQUIRE(ean13.has_value(), (ean13 ? "" : ean13.error().ToString()));
  BOOST_TEST(ean13->gtin()->value() == "09506000134352");
  BOOST_TEST(ean13->symbology == "]E0");
  std::string ean8 = "9501101";
  ean8.push_back(static_cast<char>('0' + provenance::Gs1CheckDigit(ean8)));
  auto e8 = ParseGs1("]E4" + ean8, Opts());
  BOOST_TEST_REQUIRE(e8.has_value(), (e8 ? "" : e8.error().ToString()));
  BOOST_TEST(e8->gtin()->value() == "000000" + ean8);
  auto bad = ParseGs1("]E09506000134353", Opts());
  BOOST_TEST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().code() == "gs1.check_digit");
  BOOST_TEST(bad.error().field() == "01");
  BOOST_TEST(bad.error().message().find("GTIN 09506000134353 has check digit 3, expected 2") !=
                 std::string::npos,
             bad.error().message());
  BOOST_TEST(ParseGs1("]E0950600013435", Opts()).error().code() == "gs1.length");
  BOOST_TEST(ParseGs1("]E095060001343A2", Opts()).error().code() == "gs1.charset");
  // No Caps Lock hint: ]E0 is not a mistyped ]e0.
  BOOST_TEST(DiagnoseGs1("]E09506000134352", Opts()).empty());
}

BOOST_AUTO_TEST_CASE(an_ean13_image_decodes_to_its_gtin) {
  for (const std::string digits : {"9506000134352", "0036000291452"}) {  // EAN-13, UPC-A
    BOOST_TEST_CONTEXT(digits) {
      auto symbols = DecodeImage(Render(Ean13Modules(digits)));
      BOOST_TEST_REQUIRE(symbols.has_value());
      BOOST_TEST_REQUIRE(symbols->size() >= 1u);
      const DecodedSymbol& s = symbols->front();
      BOOST_TEST_REQUIRE(!s.error.has_value(), (s.error ? s.error->ToString() : ""));
      BOOST_TEST(s.gs1);
      auto d = ParseGs1(s.raw, Opts());
      BOOST_TEST_REQUIRE(d.has_value(), s.raw << ": " << (d ? "" : d.error().ToString()));
      BOOST_TEST(d->gtin()->value() == "0" + digits);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
