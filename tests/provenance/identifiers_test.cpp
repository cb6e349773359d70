#include "pedigree/provenance/identifiers.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <unordered_set>

using namespace pedigree::provenance;
using std::chrono::day;
using std::chrono::month;
using std::chrono::year;

BOOST_AUTO_TEST_SUITE(identifiers)

// Known answers: the GS1 example keys of the General Specifications and GS1 Digital Link
// standard (09506000134352, SSCC 106141411234567897), Wikipedia's EAN-13 4006381333931 and
// UPC-A 036000291452. Reproduce with any GS1 check digit calculator
// (https://www.gs1.org/services/check-digit-calculator).
BOOST_AUTO_TEST_CASE(check_digit_matches_gs1_published_examples) {
  struct Case {
    const char* digits;
    int check;
  } cases[] = {{"0950600013435", 2}, {"10614141123456789", 7}, {"400638133393", 1},
               {"03600029145", 2},   {"1234567", 0},           {"950600013437", 6},
               {"8061414112345", 8}, {"0000000000000", 0}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.digits) { BOOST_TEST(Gs1CheckDigit(c.digits) == c.check); }
  }
}

BOOST_AUTO_TEST_CASE(gtin_of_every_length_is_normalised_to_14_digits) {
  struct Case {
    const char* in;
    const char* gtin14;
  } cases[] = {{"12345670", "00000012345670"},
               {"036000291452", "00036000291452"},
               {"4006381333931", "04006381333931"},
               {"09506000134352", "09506000134352"}};
  for (const auto& c : cases) {
    auto g = Gtin::Parse(c.in);
    BOOST_TEST_REQUIRE(g.has_value(), c.in);
    BOOST_TEST(g->value() == c.gtin14);
  }
  BOOST_TEST((*Gtin::Parse("4006381333931") == *Gtin::Parse("04006381333931")));
}

BOOST_AUTO_TEST_CASE(invalid_gtins_are_refused_with_specific_codes) {
  struct Case {
    const char* in;
    const char* code;
  } cases[] = {{"09506000134303", "gs1.check_digit"},
               {"0950600013", "gs1.length"},
               {"", "gs1.length"},
               {"0950600013435A", "gs1.charset"},
               {"123456789012345", "gs1.length"},
               {"12345671", "gs1.check_digit"}};
  for (const auto& c : cases) {
    auto g = Gtin::Parse(c.in);
    BOOST_TEST_REQUIRE(!g.has_value(), c.in);
    BOOST_TEST(g.error().code() == c.code, c.in << ": " << g.error().ToString());
  }
  BOOST_TEST(Gtin::Parse("09506000134303").error().message() ==
             "GTIN check digit is 3, expected 7");
}

BOOST_AUTO_TEST_CASE(sscc_and_gln_verify_length_and_check_digit) {
  BOOST_TEST(Sscc::Parse("106141411234567897").has_value());
  BOOST_TEST(Sscc::Parse("106141411234567890").error().code() == "gs1.check_digit");
  BOOST_TEST(Sscc::Parse("10614141123456789").error().code() == "gs1.length");
  BOOST_TEST(Gln::Parse("9506000134376").has_value());
  BOOST_TEST(Gln::Parse("0614141123452").has_value());
  BOOST_TEST(Gln::Parse("9506000134377").error().message() == "GLN check digit is 7, expected 6");
  BOOST_TEST(Gln::Parse("950600013437").error().code() == "gs1.length");
}

BOOST_AUTO_TEST_CASE(serial_and_lot_accept_cset82_up_to_20_characters) {
  const char* valid[] = {"A", "12345678901234567890", "AB-12/x.y_z", "!\"%&'()*+,-./:;<=>?_"};
  for (const char* v : valid) {
    BOOST_TEST(Serial::Parse(v).has_value(), v);
    BOOST_TEST(Lot::Parse(v).has_value(), v);
  }
  struct Case {
    std::string in;
    const char* code;
    uint64_t offset;
  } invalid[] = {{"", "gs1.length", 99},  // 99: no offset, the whole value is wrong
                 {"123456789012345678901", "gs1.length", 99},
                 {"AB CD", "gs1.charset", 2},
                 {"AB#", "gs1.charset", 2},
                 {"\xc3\xa4", "gs1.charset", 0},
                 {std::string("A\x1d"
                              "B"),
                  "gs1.charset", 1}};
  for (const auto& c : invalid) {
    auto s = Serial::Parse(c.in);
    BOOST_TEST_REQUIRE(!s.has_value(), c.in);
    BOOST_TEST(s.error().code() == c.code, c.in);
    BOOST_TEST(s.error().location().offset.value_or(99) == c.offset, c.in);
    BOOST_TEST(Lot::Parse(c.in).error().code() == c.code);
  }
}

// GenSpecs §7.12: the century is the one that puts the year within -49..+50 of the reference.
BOOST_AUTO_TEST_CASE(two_digit_years_follow_the_gs1_sliding_window) {
  struct Case {
    int yy, reference, full;
  } cases[] = {{26, 2026, 2026}, {75, 2026, 2075}, {76, 2026, 2076}, {77, 2026, 1977},
               {0, 2026, 2000},  {99, 2026, 1999}, {49, 2099, 2149}, {50, 2099, 2050},
               {48, 2000, 2048}, {51, 2000, 1951}, {50, 2000, 2050}, {0, 1999, 2000}};
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.yy << " in " << c.reference) {
      BOOST_TEST(Gs1FullYear(c.yy, c.reference) == c.full);
    }
  }
}

BOOST_AUTO_TEST_CASE(expiry_day_00_means_last_day_of_month) {
  struct Case {
    const char* yymmdd;
    const char* iso;
  } cases[] = {{"260200", "2026-02-28"}, {"280200", "2028-02-29"}, {"261200", "2026-12-31"},
               {"260400", "2026-04-30"}, {"260331", "2026-03-31"}, {"000229", "2000-02-29"}};
  for (const auto& c : cases) {
    auto e = Expiry::Parse(c.yymmdd, 2026);
    BOOST_TEST_REQUIRE(e.has_value(), c.yymmdd);
    BOOST_TEST(e->IsoDate() == c.iso);
    BOOST_TEST(e->value() == c.yymmdd);
  }
  BOOST_TEST((Expiry::Parse("260200", 2026)->date() == year{2026} / month{2} / day{28}));
}

BOOST_AUTO_TEST_CASE(impossible_expiry_dates_are_refused) {
  struct Case {
    const char* in;
    const char* code;
  } cases[] = {{"261301", "gs1.date"},    {"260001", "gs1.date"},   {"260230", "gs1.date"},
               {"270229", "gs1.date"},    {"260431", "gs1.date"},   {"26033", "gs1.length"},
               {"2603311", "gs1.length"}, {"26O331", "gs1.charset"}};
  for (const auto& c : cases) {
    auto e = Expiry::Parse(c.in, 2026);
    BOOST_TEST_REQUIRE(!e.has_value(), c.in);
    BOOST_TEST(e.error().code() == c.code, c.in << ": " << e.error().ToString());
  }
  BOOST_TEST(Expiry::Parse("260230", 2026).error().message() ==
             "expiry: date 260230 has day 30 but 2026-02 has only 28 days");
}

BOOST_AUTO_TEST_CASE(pack_id_digital_link_percent_encodes_the_serial) {
  PackId pack(*Gtin::Parse("09506000134352"), *Serial::Parse("AB/12%x&y"));
  BOOST_TEST(pack.DigitalLinkUri() == "https://id.gs1.org/01/09506000134352/21/AB%2F12%25x%26y");
  PackId plain(*Gtin::Parse("9506000134352"), *Serial::Parse("12345"));
  BOOST_TEST(plain.DigitalLinkUri() == "https://id.gs1.org/01/09506000134352/21/12345");
  BOOST_TEST(plain.str() == "(01)09506000134352(21)12345");
}

BOOST_AUTO_TEST_CASE(identifiers_compare_and_hash_by_value) {
  PackId a(*Gtin::Parse("09506000134352"), *Serial::Parse("A1"));
  PackId b(*Gtin::Parse("9506000134352"), *Serial::Parse("A1"));
  PackId c(*Gtin::Parse("09506000134352"), *Serial::Parse("a1"));
  BOOST_TEST((a == b));
  BOOST_TEST((a != c));
  BOOST_TEST((a < c));  // 'A' < 'a': serials are case-sensitive
  std::unordered_set<PackId> set{a, b, c};
  BOOST_TEST(set.size() == 2u);
  BOOST_TEST((*Gtin::Parse("12345670") < *Gtin::Parse("09506000134352")));
}

BOOST_AUTO_TEST_SUITE_END()
