// The AI table is the GS1 Barcode Syntax Dictionary: the embedded text, its parse, every
// linter it names, and the req=/ex= rules, each case quoting the rule it comes from.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/gs1.h"

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

ParseOptions Loose() {  // values alone: associations are tested separately
  ParseOptions o;
  o.reference_year = 2026;
  o.check_associations = false;
  return o;
}

ParseOptions Strict() {
  ParseOptions o;
  o.reference_year = 2026;
  return o;
}

std::string ReadDictionaryFile() {
  auto path =
      std::filesystem::path(PEDIGREE_SOURCE_DIR) / "scanner" / "data" / "gs1-syntax-dictionary.txt";
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string WithCsum(std::string body) {
  body.push_back(static_cast<char>('0' + provenance::Gs1CheckDigit(body)));
  return body;
}

// GenSpecs §7.9.5: the GMN check character pair.
std::string WithCsumAlpha(const std::string& body) {
  const std::string cset82 =
      "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
  const std::string cset32 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
  const int primes[] = {2,  3,  5,  7,  11, 13, 17, 19, 23, 29, 31, 37, 41,
                        43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97};
  int sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    sum += static_cast<int>(cset82.find(body[i])) * primes[body.size() - 1 - i];
  }
  sum %= 1021;
  return body + cset32[static_cast<size_t>(sum >> 5)] + cset32[static_cast<size_t>(sum & 31)];
}

// A value of exactly `len` characters that passes the component's charset and linters.
std::string ExampleComponent(const AiComponent& c, size_t len) {
  auto digits = [](size_t n) {
    std::string s;
    const std::string base = "9506000134352";
    for (size_t i = 0; i < n; ++i) s.push_back(base[i % base.size()]);
    return s;
  };
  auto pad = [&](std::string s) {
    if (s.size() > len) return s;  // caller picks len from the sample when fixed
    return s;
  };
  for (Check k : c.checks) {
    switch (k) {
      case Check::kCsum:
        return WithCsum(digits(len - 1));
      case Check::kCsumAlpha:
        return c.Has(Check::kHasNonDigit)
                   ? WithCsumAlpha("9506000AB" + std::string(len > 11 ? len - 11 : 0, 'x'))
                   : WithCsumAlpha(digits(len - 2));
      case Check::kYymmd0:
      case Check::kYymmdd:
        return "260115";
      case Check::kYyyymmdd:
        return "20260115";
      case Check::kHhmi:
        return "1230";
      case Check::kHh:
        return "12";
      case Check::kMi:
      case Check::kSs:
        return "30";
      case Check::kIso3166:
      case Check::kIso3166999:
        return "250";
      case Check::kIso3166Alpha2:
        return "FR";
      case Check::kIso4217:
        return "978";
      case Check::kIso5218:
        return "2";
      case Check::kIban:
        return "DE91100000000123456789";
      case Check::kPcenc:
        return pad("A%20B");
      case Check::kPieceOfTotal:
        return std::string(len / 2 - 1, '0') + "1" + std::string(len / 2 - 1, '0') + "2";
      case Check::kPosInSeqSlash:
        return "1/2";
      case Check::kWinding:
        return "9";
      case Check::kZero:
        return "0";
      case Check::kNonZero:
        return std::string(len - 1, '0') + "1";
      case Check::kNoZeroPrefix:
        return "1";
      case Check::kMediaType:
        return "01";
      case Check::kLatitude:
        return "0900000000";
      case Check::kLongitude:
        return "3600000000";
      case Check::kCouponCode:
        return "012345612345611110123";
      case Check::kCouponPosOffer:
        return "001234561234560123456";
      case Check::kImporterIdx:
        return "_";
      case Check::kPackageType:
        return "BX";
      case Check::kYesNo:
        return "1";
      case Check::kHyphen:
        return "-";
      case Check::kGcpPos1:
      case Check::kGcpPos2:
      case Check::kHasNonDigit:
      case Check::kNone:
      default:  // linters this release of the dictionary does not use
        break;
    }
  }
  switch (c.charset) {
    case Charset::kNumeric:
      return digits(len);
    case Charset::kCset82:
      return c.Has(Check::kGcpPos1) || c.Has(Check::kGcpPos2) ? digits(len) : std::string(len, 'x');
    case Charset::kCset39:
      return c.Has(Check::kGcpPos1) ? digits(len) : std::string(len, 'Y');
    case Charset::kCset64:
      return std::string(len, 'z');
  }
  return {};
}

std::string ExampleValue(const AiDefinition& d) {
  std::string v;
  for (int i = 0; i < d.component_count; ++i) {
    const AiComponent& c = d.components[i];
    bool variable = c.min_length != c.max_length;
    // Variable components get 4 characters (or their sample), fixed ones their length.
    v += ExampleComponent(c, variable ? std::min<size_t>(c.max_length, 12) : c.max_length);
  }
  return v;
}

struct Case {
  const char* in;
  const char* code;  // "" = accepted
  const char* rule;  // the text of the standard the case comes from
};

void RunCases(const std::vector<Case>& cases, const ParseOptions& options) {
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.in << " — " << c.rule) {
      auto d = ParseGs1(c.in, options);
      if (std::string_view(c.code).empty()) {
        BOOST_TEST(d.has_value(), (d ? "" : d.error().ToString()));
      } else {
        BOOST_TEST_REQUIRE(!d.has_value());
        BOOST_TEST(d.error().code() == c.code, d.error().ToString());
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gs1_dictionary)

BOOST_AUTO_TEST_CASE(the_embedded_table_is_the_dictionary_file) {
  std::string file = ReadDictionaryFile();
  BOOST_TEST_REQUIRE(!file.empty());
  BOOST_TEST(file == std::string(SyntaxDictionaryText()));
  auto parsed = ParseSyntaxDictionary(file);
  BOOST_TEST_REQUIRE(parsed.has_value(), (parsed ? "" : parsed.error().ToString()));
  const auto& table = AiTable();
  BOOST_TEST_REQUIRE(parsed->size() == table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    BOOST_TEST_CONTEXT(table[i].ai) {
      BOOST_TEST((*parsed)[i].ai == table[i].ai);
      BOOST_TEST((*parsed)[i].component_count == table[i].component_count);
      BOOST_TEST((*parsed)[i].predefined_length == table[i].predefined_length);
      BOOST_TEST((*parsed)[i].max_length() == table[i].max_length());
    }
  }
  // Spot checks against the dictionary's lines.
  const AiDefinition* gtin = FindAi("01");
  BOOST_TEST_REQUIRE(gtin);
  BOOST_TEST(gtin->predefined_length);
  BOOST_TEST(gtin->dl_primary_key);
  BOOST_TEST(gtin->dl_qualifiers == "22,10,21|235");
  BOOST_TEST(gtin->components[0].Has(Check::kCsum));
  BOOST_TEST(gtin->components[0].Has(Check::kGcpPos2));
  const AiDefinition* net = FindAi("3103");  // "3100-3105 *? N6 req=01,02 ex=310n"
  BOOST_TEST_REQUIRE(net);
  BOOST_TEST(net->exclusions[0] == "310n");
  BOOST_TEST(!FindAi("3106"));
  const AiDefinition* origin = FindAi("423");  // N3,iso3166 [N3],iso3166 ×4
  BOOST_TEST_REQUIRE(origin);
  BOOST_TEST(origin->component_count == 5);
  BOOST_TEST(origin->components[4].optional);
  BOOST_TEST(origin->min_length() == 3u);
  BOOST_TEST(origin->max_length() == 15u);
  BOOST_TEST((FindAi("8030")->components[0].charset == Charset::kCset64));
  BOOST_TEST(FindAi("99")->max_length() == 90u);
  BOOST_TEST(!FindAi("21")->dl_data_attribute);  // "21 X..20": no '?' flag
  BOOST_TEST(FindAi("10")->dl_data_attribute);
}

BOOST_AUTO_TEST_CASE(a_dictionary_naming_an_unknown_linter_or_attribute_is_refused) {
  auto bad_linter = ParseSyntaxDictionary("01 *? N14,csum,frobnicate # GTIN\n");
  BOOST_TEST_REQUIRE(!bad_linter.has_value());
  BOOST_TEST(bad_linter.error().code() == "gs1.dictionary");
  BOOST_TEST(bad_linter.error().message().find("frobnicate") != std::string::npos);
  auto bad_attr = ParseSyntaxDictionary("01 *? N14,csum colour=red # GTIN\n");
  BOOST_TEST(!bad_attr.has_value());
  auto bad_flag = ParseSyntaxDictionary("01 *! N14,csum # GTIN\n");
  BOOST_TEST(!bad_flag.has_value());
  // "No mandatory components may follow optional components".
  auto bad_order = ParseSyntaxDictionary("99 [N3] N3 # X\n");
  BOOST_TEST(!bad_order.has_value());
  auto ok = ParseSyntaxDictionary("01 *? N14,csum,gcppos2 ex=255,37 dlpkey=22,10,21|235 # GTIN\n");
  BOOST_TEST_REQUIRE(ok.has_value(), (ok ? "" : ok.error().ToString()));
  BOOST_TEST(ok->size() == 1u);
}

BOOST_AUTO_TEST_CASE(linters_of_other_dictionary_releases_are_known) {
  // Names used by earlier or later releases (key/keyoff1 before gcppos1/gcppos2, hhmm…).
  for (const char* linter : {"key", "keyoff1", "hhmm", "mm", "yyyymmd0", "yymmddhh", "mmoptss",
                             "iso3166list", "latlong"}) {
    auto t = ParseSyntaxDictionary(std::string("99 X..90,") + linter + " # X\n");
    BOOST_TEST(t.has_value(), linter);
  }
}

BOOST_AUTO_TEST_CASE(every_ai_in_the_dictionary_parses_a_valid_example) {
  for (const AiDefinition& d : AiTable()) {
    std::string in = "(" + std::string(d.ai) + ")" + ExampleValue(d);
    BOOST_TEST_CONTEXT(in) {
      auto r = ParseGs1(in, Loose());
      BOOST_TEST(r.has_value(), (r ? "" : r.error().ToString()));
    }
  }
}

BOOST_AUTO_TEST_CASE(every_ai_refuses_a_value_one_too_long) {
  for (const AiDefinition& d : AiTable()) {
    // Fill every component to its maximum, then one more character of the last one's set.
    std::string v;
    for (int i = 0; i < d.component_count; ++i) {
      v += ExampleComponent(d.components[i], d.components[i].max_length);
    }
    if (v.size() < d.max_length()) {  // a variable sample shorter than its maximum
      const AiComponent& last = d.components[d.component_count - 1];
      v += std::string(d.max_length() - v.size(), last.charset == Charset::kNumeric ? '1' : 'A');
    }
    v += d.components[d.component_count - 1].charset == Charset::kNumeric ? "1" : "A";
    std::string in = "(" + std::string(d.ai) + ")" + v;
    BOOST_TEST_CONTEXT(in) {
      auto r = ParseGs1(in, Loose());
      BOOST_TEST_REQUIRE(!r.has_value());
      BOOST_TEST(r.error().code() == "gs1.length", r.error().ToString());
    }
  }
}

BOOST_AUTO_TEST_CASE(each_linter_accepts_and_refuses_as_its_definition_says) {
  RunCases(
      {
          {"(00)095060001343520000", "", "csum: GS1 mod-10 check digit"},
          {"(00)095060001343520001", "gs1.check_digit", "csum"},
          {"(8013)1987654Ad4X4bL5ttr2310c2K", "", "csumalpha: GenSpecs' example GMN"},
          {"(8013)1987654Ad4X4bL5ttr2310c2L", "gs1.check_digit", "csumalpha"},
          {"(401)950600ABC", "", "gcppos1: starts with 4+ digits"},
          {"(401)950ABC", "gs1.invalid_value", "gcppos1: GCP has at least 4 digits"},
          {"(8010)95Y", "gs1.invalid_value", "gcppos1: too short for a GCP"},
          {"(11)260100", "", "yymmd0: DD=00 allowed"},
          {"(11)261301", "gs1.date", "yymmd0: month 13"},
          {"(4326)260100", "gs1.date", "yymmdd: DD=00 not allowed"},
          {"(7006)260230", "gs1.date", "yymmdd: 30 February"},
          {"(7250)20240229", "", "yyyymmdd: 2024 is a leap year"},
          {"(7250)21000229", "gs1.date", "yyyymmdd: 2100 is not"},
          {"(7003)2603312359", "", "hhmi"},
          {"(7003)2603312400", "gs1.date", "hhmi: hour 24"},
          {"(8008)26033123", "", "hh"},
          {"(8008)26033124", "gs1.date", "hh: hour 24"},
          {"(8008)2603312360", "gs1.date", "mi: minute 60"},
          {"(8008)260331235960", "gs1.date", "ss: second 60"},
          {"(422)250", "", "iso3166: France"},
          {"(422)999", "gs1.invalid_value", "iso3166: 999 is not a country"},
          {"(7030)999ABC", "", "iso3166999: 999 allowed"},
          {"(7030)998ABC", "gs1.invalid_value", "iso3166999"},
          {"(423)250276", "", "iso3166 on the optional second country"},
          {"(423)250277", "gs1.invalid_value", "iso3166 on the optional second country"},
          {"(423)2502", "gs1.length", "[N3] is applied once data remains: 1 of 3 digits"},
          {"(4307)FR", "", "iso3166alpha2"},
          {"(4307)XX", "gs1.invalid_value", "iso3166alpha2"},
          {"(3911)9781000", "", "iso4217: EUR"},
          {"(3911)0001000", "gs1.invalid_value", "iso4217"},
          {"(7252)9", "", "iso5218"},
          {"(7252)3", "gs1.invalid_value", "iso5218"},
          {"(8007)DE91100000000123456789", "", "iban: ISO 13616 example"},
          {"(8007)DE91100000000123456788", "gs1.check_digit", "iban: mod 97"},
          {"(8007)XX91100000000123456789", "gs1.invalid_value", "iban: country code"},
          {"(4300)A%20B", "", "pcenc"},
          {"(4300)A%2G", "gs1.invalid_value", "pcenc: not hex"},
          {"(4300)A%2", "gs1.invalid_value", "pcenc: truncated"},
          {"(8006)095060001343520102", "", "pieceoftotal: 01 of 02"},
          {"(8006)095060001343520302", "gs1.invalid_value", "pieceoftotal: piece > total"},
          {"(8006)095060001343520002", "gs1.invalid_value", "pieceoftotal: piece zero"},
          {"(7258)1/2", "", "posinseqslash"},
          {"(7258)3/2", "gs1.invalid_value", "posinseqslash: pos > end"},
          {"(7258)0/2", "gs1.invalid_value", "posinseqslash: zero"},
          {"(8001)12341234512311", "", "nonzero ×3, winding 1"},
          {"(8001)12341234512321", "gs1.invalid_value", "winding: 0, 1 or 9"},
          {"(8001)00001234512319", "gs1.invalid_value", "nonzero: width 0000"},
          {"(8003)006141410004180", "", "zero: the GRAI's first digit"},
          {"(8003)106141410004180", "gs1.invalid_value", "zero"},
          {"(8011)0", "", "nozeroprefix: 0 alone is fine"},
          {"(8011)0123", "gs1.invalid_value", "nozeroprefix"},
          {"(7241)10", "", "mediatype"},
          {"(7241)11", "gs1.invalid_value", "mediatype: 11-29 reserved"},
          {"(4309)18000000003600000000", "", "latitude/longitude maxima"},
          {"(4309)18000000013600000000", "gs1.invalid_value", "latitude above 1800000000"},
          {"(4309)18000000003600000001", "gs1.invalid_value", "longitude above 3600000000"},
          {"(8110)012345612345611110123", "", "couponcode"},
          {"(8110)712345678901231", "gs1.invalid_value", "couponcode: GCP VLI 7"},
          {"(8110)0123456123456111101234", "gs1.invalid_value", "couponcode: excess data"},
          {"(8112)001234561234560123456", "", "couponposoffer"},
          {"(8112)201234561234560123456", "gs1.invalid_value", "couponposoffer: format 2"},
          {"(8014)1987654Ad4X4bL5ttr2310c2K", "", "hasnondigit"},
          {"(7040)1AB-", "", "importeridx"},
          {"(7040)1AB!", "gs1.invalid_value", "importeridx: '!'"},
          {"(7041)BX", "", "packagetype"},
          {"(7041)QQQ", "gs1.invalid_value", "packagetype"},
          {"(4321)1", "", "yesno"},
          {"(4321)2", "gs1.invalid_value", "yesno"},
          {"(4330)001000-", "", "hyphen"},
          {"(4330)001000+", "gs1.invalid_value", "hyphen"},
          {"(8030)AbC-_zz==", "", "Z: base64url, padded length a multiple of 3"},
          {"(8030)AbC-_z==", "gs1.charset", "cset64: padded length 8"},
          {"(8030)AbC===", "gs1.charset", "cset64: three pads"},
          {"(8030)AbC=z", "gs1.charset", "Z: padding only at the end"},
          {"(8010)9506-/#XYZ", "", "Y: CSET 39"},
          {"(8010)9506xyz", "gs1.charset", "Y: CSET 39 has no lower case"},
      },
      Loose());
  // A bad GLN says so, naming the AI and the value (csum on 414, 415, 416…).
  for (const char* ai : {"410", "411", "412", "413", "414", "415", "416", "417"}) {
    std::string in = std::string("(") + ai + ")9506000134377";
    auto r = ParseGs1(in, Loose());
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code() == "gs1.check_digit");
    BOOST_TEST(r.error().field() == ai);
    BOOST_TEST(r.error().message().find("GLN 9506000134377 has check digit 7, expected 6") !=
                   std::string::npos,
               r.error().message());
  }
}

BOOST_AUTO_TEST_CASE(associations_and_exclusions_follow_req_and_ex) {
  RunCases(
      {
          // "37 req=00 req=02,8026": both attributes hold.
          {"(00)095060001343520000(02)09506000134352(37)5", "", "37 req=00 req=02,8026"},
          {"(02)09506000134352(37)5", "gs1.missing_association", "37 req=00"},
          {"(00)095060001343520000(37)5", "gs1.missing_association", "37 req=02,8026"},
          // "02 ex=01,03 req=37".
          {"(00)095060001343520000(02)09506000134352", "gs1.missing_association", "02 req=37"},
          // "415 req=8020", "8020 req=415".
          {"(415)9506000134376(8020)REF1", "", "415 req=8020"},
          {"(415)9506000134376", "gs1.missing_association", "415 req=8020"},
          {"(8020)REF1", "gs1.missing_association", "8020 req=415"},
          // "01 ex=255,37".
          {"(01)09506000134352(255)95060001343761", "gs1.invalid_pair", "01 ex=255"},
          // "3100-3105 ex=310n": two net weights; "not exclusive of itself".
          {"(01)09506000134352(3100)000100(3102)000100", "gs1.invalid_pair", "ex=310n"},
          {"(01)09506000134352(3100)000100(3100)000100", "", "an AI is not exclusive of itself"},
          {"(01)09506000134352(3100)000100(3200)000100", "", "310n and 320n may pair"},
          // "3900-3909 req=255,8020 ex=390n,391n,394n,8111".
          {"(255)95060001343761(3901)100(3941)0100", "gs1.invalid_pair", "390n ex=394n"},
          // "3920-3929 req=01 req=30,31nn,32nn,35nn,36nn": wildcard requirements.
          {"(01)09506000134352(3100)000100(3922)100", "", "31nn satisfies req"},
          {"(01)09506000134352(3922)100", "gs1.missing_association", "3922 needs a measure"},
          // "8030 req=00,01+21,253,…": '+' groups.
          {"(01)09506000134352(21)S1(8030)AbC", "", "01+21"},
          {"(01)09506000134352(8030)AbC", "gs1.missing_association", "01 alone is not 01+21"},
          // "21 req=01,03,8006 ex=235".
          {"(01)09506000134352(235)TPX(21)S1", "gs1.invalid_pair", "21 ex=235"},
          // "8041 req=01+21+8040".
          {"(01)09506000134352(21)S1(8040)123456789012345(8041)123456789012345", "", "01+21+8040"},
          {"(01)09506000134352(21)S1(8041)123456789012345", "gs1.missing_association",
           "01+21+8040 without 8040"},
          // "7258 req=8018+7259".
          {"(8018)950600013435200008(7259)BABY(7258)1/2", "", "8018+7259"},
      },
      Strict());
  auto pair = ParseGs1("(01)09506000134352(3100)000100(3102)000100", Strict());
  BOOST_TEST(pair.error().message().find("AI 3100 and AI 3102") != std::string::npos,
             pair.error().message());
  auto req = ParseGs1("(01)09506000134352(8030)AbC", Strict());
  BOOST_TEST(req.error().message().find("AI 01 with AI 21") != std::string::npos,
             req.error().message());
}

BOOST_AUTO_TEST_SUITE_END()
