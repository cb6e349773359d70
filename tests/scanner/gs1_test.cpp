#include "pedigree/scanner/gs1.h"

#include <boost/test/unit_test.hpp>
#include <string>

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

// GS as a C++ literal piece: "\x1d" followed by a hex digit would be read as one escape.
#define GS "\x1d"

ParseOptions Opts2026() {
  ParseOptions o;
  o.reference_year = 2026;
  return o;
}

Result<Gs1Data> Parse(std::string_view in) { return ParseGs1(in, Opts2026()); }

// The canonical element string of the sample pack used across the tests:
// GTIN 09506000134352 (GS1's example GTIN), expiry 2026-03-31, lot LOT42, serial SER1.
const std::string kPackElements =
    "0109506000134352"
    "17260331"
    "10LOT42" GS "21SER1";

bool HasFinding(const ParseDiagnosis& d, std::string_view kind) {
  for (const auto& f : d.findings) {
    if (f.kind == kind) return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gs1_parse)

BOOST_AUTO_TEST_CASE(every_input_form_of_the_same_pack_gives_the_same_elements) {
  struct Case {
    std::string in;
    const char* form;
    const char* symbology;
  } cases[] = {
      {"]d2" + kPackElements, "raw", "]d2"},
      {"]d2" GS + kPackElements, "raw", "]d2"},  // leading FNC1 transmitted as GS
      {kPackElements, "raw", ""},
      {kPackElements + "\r\n", "raw", ""},  // keyboard wedge's Enter
      {"]d20109506000134352172603311"
       "0LOT42<GS>21SER1",
       "raw", "]d2"},
      {"]d2010950600013435217260331"
       "10LOT42^]21SER1",
       "raw", "]d2"},
      {"]d2010950600013435217260331"
       "10LOT42{GS}21SER1",
       "raw", "]d2"},
      {"]C1010950600013435221SER1" GS "10LOT42" GS "17260331", "raw", "]C1"},
      {"]Q30109506000134352"
       "17260331"
       "10LOT42" GS "21SER1",
       "raw", "]Q3"},
      {"]e00109506000134352"
       "17260331"
       "10LOT42" GS "21SER1",
       "raw", "]e0"},
      {"(01)09506000134352(17)260331(10)LOT42(21)SER1", "bracketed", ""},
      {"(21)SER1(10)LOT42(01)09506000134352(17)260331", "bracketed", ""},
      {"https://id.gs1.org/01/09506000134352/10/LOT42/21/SER1?17=260331", "digital_link", ""},
      {"https://example.com/01/09506000134352/10/LOT42/21/SER1?17=260331&linkType=gs1:pip",
       "digital_link", ""},
      {"https://pharma.example/dl/01/09506000134352/10/LOT42/21/SER1?17=260331", "digital_link",
       ""},
      {"http://id.gs1.org/01/09506000134352/10/LOT%34%32/21/SER1?17=260331", "digital_link", ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.in) {
      auto d = Parse(c.in);
      BOOST_TEST_REQUIRE(d.has_value(), (d ? "" : d.error().ToString()));
      BOOST_TEST(d->ElementString() == kPackElements);
      BOOST_TEST(d->source_form == c.form);
      BOOST_TEST(d->symbology == c.symbology);
      BOOST_TEST(d->warnings.empty());
      BOOST_TEST(d->gtin()->value() == "09506000134352");
      BOOST_TEST(d->serial()->value() == "SER1");
      BOOST_TEST(d->lot()->value() == "LOT42");
      BOOST_TEST(d->expiry()->IsoDate() == "2026-03-31");
      BOOST_TEST(d->pack_id()->DigitalLinkUri() == "https://id.gs1.org/01/09506000134352/21/SER1");
    }
  }
}

BOOST_AUTO_TEST_CASE(other_keys_and_ais_parse_from_the_table) {
  struct Case {
    std::string in;
    const char* elements;  // canonical, brackets for readability
  } cases[] = {
      {"]C100106141411234567897", "(00)106141411234567897"},
      {"(00)106141411234567897(400)PO-77(02)09506000134352(37)12",
       "(00)106141411234567897(02)09506000134352(37)12(400)PO-77"},
      {"(414)9506000134376(254)DOCK 3", ""},  // space is not CSET 82: checked below
      {"(414)9506000134376(254)DOCK3", "(414)9506000134376(254)DOCK3"},
      {"(01)09506000134352(7003)2603311230(10)L1", "(01)09506000134352(10)L1(7003)2603311230"},
      {"(8003)00614141000418ABC", "(8003)00614141000418ABC"},
      {"(402)12345678901234560", "(402)12345678901234560"},
      {"(01)09506000134352(710)1234567(21)X", "(01)09506000134352(21)X(710)1234567"},
      {"0109506000134352422276" GS "10L1", "(01)09506000134352(10)L1(422)276"},
      {"(01)09506000134352(30)5(240)ABC(241)DEF(91)internal(11)260100(13)260115(15)260228"
       "(16)260300",
       "(01)09506000134352(11)260100(13)260115(15)260228(16)260300(240)ABC(241)DEF(30)5"
       "(91)internal"},
      {"(410)9506000134376(8004)9506000ASSET/1(90)x",
       "(8004)9506000ASSET/1(410)9506000134376(90)x"},
      // gcppos1 (GS1 syntax dictionary): a GIAI starts with a GS1 Company Prefix.
      {"(8004)ASSET/1", ""},
      {"(8010)9506000ABC-123#4", "(8010)9506000ABC-123#4"},
      {"(8010)ABC-123#4", ""},  // gcppos1
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.in) {
      auto d = Parse(c.in);
      if (std::string_view(c.elements).empty()) {
        BOOST_TEST(!d.has_value());
        continue;
      }
      BOOST_TEST_REQUIRE(d.has_value(), (d ? "" : d.error().ToString()));
      BOOST_TEST(d->BracketedString() == c.elements);
    }
  }
  BOOST_TEST(Parse("]C100106141411234567897")->sscc()->value() == "106141411234567897");
  BOOST_TEST(Parse("(414)9506000134376(254)DOCK3")->gln()->value() == "9506000134376");
}

BOOST_AUTO_TEST_CASE(malformed_inputs_are_refused_with_specific_codes) {
  struct Case {
    std::string in;
    const char* code;
    const char* field;
    int64_t offset;  // -1: not checked
  } cases[] = {
      {"]d20109506000134303", "gs1.check_digit", "01", 18},
      {"]d20109506000134", "gs1.truncated", "01", 16},
      {"]d201095060001343" GS "21A", "gs1.length", "01", 17},
      {"]d2010950600013435217261331", "gs1.date", "17", 23},
      {"]d2010950600013435217260230", "gs1.date", "17", 25},
      {"]d2010950600013435221123456789012345678901", "gs1.length", "21", 41},
      {"]d20109506000134352"
       "21AB CD",
       "gs1.charset", "21", 23},
      {"]d20109506000134352"
       "21AB\xc3\xa4",
       "gs1.charset", "21", 23},
      {"]d20109506000134352"
       "21",
       "gs1.length", "21", 21},
      {"]d20109506000134352"
       "2345",
       "gs1.unknown_ai", "23", 19},
      {"]d20109506000134352"
       "x",
       "gs1.unknown_ai", "", 19},
      {"]d20109506000134352"
       "1",
       "gs1.truncated", "", 19},
      {"]d221SER1", "gs1.missing_association", "21", 3},
      {"(10)LOT1(17)260331", "gs1.missing_association", "10", 0},
      {"(01)09506000134352(02)09506000134352(37)5", "gs1.invalid_pair", "01", -1},
      {"(01)09506000134352(21)A(235)B", "gs1.invalid_pair", "21", -1},
      {"(01)09506000134352(21)A(21)B", "gs1.duplicate_ai", "21", 23},
      {"(01)09506000134352(7003)2603312460", "gs1.date", "7003", -1},
      {"(8003)10614141000418", "gs1.invalid_value", "8003", 6},  // linter "zero"
      {"(01)0950600013435", "gs1.length", "01", 4},
      {"(0109506000134352", "gs1.syntax", "", 0},
      {"(23)1", "gs1.unknown_ai", "23", 0},
      {"]d1ABC", "gs1.symbology", "", 0},
      {"", "gs1.truncated", "", 0},
      {"\r\n", "gs1.truncated", "", 0},
      {"]d2", "gs1.truncated", "", 3},
      {"https://id.gs1.org/01/09506000134352/21/A%00", "gs1.dl_syntax", "21", 41},
      {"https://id.gs1.org/01/09506000134352/21/A/10/B", "gs1.dl_syntax", "10", 42},
      {"https://id.gs1.org/01/09506000134303/21/A", "gs1.check_digit", "01", 35},
      {"https://id.gs1.org/ARHKVAdpQgEFA", "gs1.dl_compressed_unsupported", "", 19},
      {"https://example.com/products/123", "gs1.dl_syntax", "", 19},
      {"https://", "gs1.dl_syntax", "", 8},
      {"https://id.gs1.org/01/09506000134352?17=261301", "gs1.date", "17", 42},
      {"https://id.gs1.org/01/09506000134352?99x=1&23=5", "gs1.unknown_ai", "23", 43},
      {"https://id.gs1.org/01/09506000134352?21=SER1", "gs1.dl_syntax", "21", -1},
      {"urn:epc:id:sgtin:0614141.81234.6789", "gs1.epc_syntax", "", -1},
      {"urn:epc:id:sgtin:0614141.812345.", "gs1.length", "21", -1},
      {"urn:epc:id:sgtin:0614141.812345.AB CD", "gs1.charset", "21", -1},
      {"urn:epc:id:sgtin:06141A1.812345.1", "gs1.epc_syntax", "", 17},
      {"urn:epc:id:giai:0614141.1", "gs1.epc_syntax", "", -1},
      {"urn:epc:id:sgtin", "gs1.epc_syntax", "", -1},
      {"urn:epc:class:lgtin:0614141.812345.LOT", "gs1.epc_syntax", "", -1},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.in) {
      auto d = Parse(c.in);
      BOOST_TEST_REQUIRE(!d.has_value());
      BOOST_TEST(d.error().code() == c.code, d.error().ToString());
      BOOST_TEST(d.error().field() == c.field, d.error().ToString());
      if (c.offset >= 0) {
        BOOST_TEST(d.error().location().offset.value_or(999) == static_cast<uint64_t>(c.offset),
                   d.error().ToString());
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(digital_link_with_too_many_path_segments_is_refused) {
  std::string uri = "https://id.gs1.org";
  for (int i = 0; i < 40; ++i) uri += "/a";
  uri += "/01/09506000134352";
  auto d = Parse(uri);
  BOOST_TEST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "gs1.dl_syntax");
}

BOOST_AUTO_TEST_CASE(error_messages_name_both_sides) {
  auto d = Parse("]d20109506000134303");
  BOOST_TEST(d.error().message().find("has check digit 3, expected 7") != std::string::npos,
             d.error().message());
  auto dup = Parse("(01)09506000134352(21)A(21)B");
  BOOST_TEST(dup.error().message().find("'A' and 'B'") != std::string::npos);
  auto assoc = Parse("]d221SER1");
  BOOST_TEST(assoc.error().message().find("only valid together with AI 01, or AI 03, or AI 8006") !=
                 std::string::npos,
             assoc.error().message());
}

BOOST_AUTO_TEST_CASE(identical_repeated_ais_are_accepted_once_in_output) {
  auto d = Parse("(01)09506000134352(21)A(21)A");
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->elements.size() == 3u);
}

BOOST_AUTO_TEST_CASE(associations_can_be_checked_over_several_carriers) {
  ParseOptions o = Opts2026();
  o.check_associations = false;
  BOOST_TEST(ParseGs1("]d221SER1", o).has_value());
  BOOST_TEST(ParseGs1("(01)09506000134352(02)09506000134352", o).error().code() ==
             "gs1.invalid_pair");
}

// The combination rules' per-thread memo of AI lists that passed: a list passes once
// its rules hold and only then, keyed by the AIs in order and by check_associations.
BOOST_AUTO_TEST_CASE(combination_rules_answer_alike_when_the_same_ai_lists_repeat) {
  ParseOptions lax = Opts2026();
  lax.check_associations = false;
  for (int round = 0; round < 3; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      BOOST_TEST(Parse("(01)09506000134352(21)S1").has_value());
      BOOST_TEST(Parse("(21)S1").error().code() == "gs1.missing_association");
      // The same AIs without the association check pass, and do not make the checked
      // read pass afterwards.
      BOOST_TEST(ParseGs1("]d221SER1", lax).has_value());
      BOOST_TEST(Parse("]d221SER1").error().code() == "gs1.missing_association");
      // Same AIs in another order: a list of its own, with the same answer.
      BOOST_TEST(Parse("(21)S1(01)09506000134352").has_value());
      BOOST_TEST(ParseGs1("(01)09506000134352(02)09506000134352", lax).error().code() ==
                 "gs1.invalid_pair");
      // Many distinct lists (more than the memo holds) in between.
      for (const char* read : {"(01)09506000134352(10)L", "(01)09506000134352(17)260331",
                               "(01)09506000134352(11)260101", "(01)09506000134352(15)260101",
                               "(01)09506000134352(16)260101", "(01)09506000134352(13)260101",
                               "(01)09506000134352(10)L(21)S", "(01)09506000134352(21)S(10)L",
                               "(01)09506000134352(17)260331(10)L"}) {
        BOOST_TEST(Parse(read).has_value(), read);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(expiry_with_day_00_and_the_century_window) {
  struct Case {
    const char* in;
    int reference;
    const char* iso;
  } cases[] = {{"(01)09506000134352(17)260200", 2026, "2026-02-28"},
               {"(01)09506000134352(17)280200", 2026, "2028-02-29"},
               {"(01)09506000134352(17)761231", 2026, "2076-12-31"},
               {"(01)09506000134352(17)770101", 2026, "1977-01-01"},
               {"(01)09506000134352(17)490100", 2099, "2149-01-31"}};
  for (const auto& c : cases) {
    ParseOptions o;
    o.reference_year = c.reference;
    auto d = ParseGs1(c.in, o);
    BOOST_TEST_REQUIRE(d.has_value(), c.in);
    BOOST_TEST(d->expiry()->IsoDate() == c.iso, c.in);
  }
  // Day 00 is allowed for 11/13/15/16/17 only; 7003 needs a real day.
  BOOST_TEST(Parse("(01)09506000134352(7003)2602001200").error().code() == "gs1.date");
}

BOOST_AUTO_TEST_CASE(digital_link_reports_non_ai_query_keys_and_decodes_the_path) {
  auto d = Parse(
      "https://example.org/01/09506000134352/21/AB%2F1%25?linkType=gs1%3Apip&context=x&17=260331");
  BOOST_TEST_REQUIRE(d.has_value(), (d ? "" : d.error().ToString()));
  BOOST_TEST(d->serial()->value() == "AB/1%");
  BOOST_TEST(d->ignored_query_keys.size() == 2u);
  BOOST_TEST(d->ignored_query_keys[0] == "linkType");
  BOOST_TEST(d->ignored_query_keys[1] == "context");
  // CPV (22) before lot and serial; 235 as the alternative qualifier.
  BOOST_TEST(Parse("https://id.gs1.org/01/09506000134352/22/V1/10/L/21/S").has_value());
  BOOST_TEST(Parse("https://id.gs1.org/01/09506000134352/235/TPX1").has_value());
  BOOST_TEST(Parse("https://id.gs1.org/00/106141411234567897").has_value());
  BOOST_TEST(Parse("https://id.gs1.org/414/9506000134376/254/D1").has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gs1_round_trips)

BOOST_AUTO_TEST_CASE(raw_bracketed_digital_link_and_back_keep_every_element) {
  const std::string inputs[] = {
      "]d2" + kPackElements,
      "]d20109506000134352"
      "17260200"
      "10AB/C%1" GS "21x&y?z",
      "(01)09506000134352(17)261231(10)L 1",  // refused: space
      "(00)106141411234567897",
      "(414)9506000134376(254)DOCK3",
      "(01)09506000134352(22)V1(10)L1(21)S1(7003)2603311230(710)PZN123",
  };
  for (const auto& in : inputs) {
    BOOST_TEST_CONTEXT(in) {
      auto d = Parse(in);
      if (!d) {
        BOOST_TEST(d.error().code() == "gs1.charset");
        continue;
      }
      const std::string canonical = d->ElementString();
      auto from_raw = Parse("]d2" + canonical);
      BOOST_TEST_REQUIRE(from_raw.has_value());
      BOOST_TEST(from_raw->ElementString() == canonical);
      auto from_bracketed = Parse(d->BracketedString());
      BOOST_TEST_REQUIRE(from_bracketed.has_value(), d->BracketedString());
      BOOST_TEST(from_bracketed->ElementString() == canonical);
      auto uri = d->DigitalLinkUri("https://dl.example.com/x");
      BOOST_TEST_REQUIRE(uri.has_value());
      auto from_dl = Parse(*uri);
      BOOST_TEST_REQUIRE(from_dl.has_value(),
                         *uri << " " << (from_dl ? "" : from_dl.error().ToString()));
      BOOST_TEST(from_dl->ElementString() == canonical, *uri);
    }
  }
}

BOOST_AUTO_TEST_CASE(digital_link_uri_puts_key_and_qualifiers_in_the_path) {
  auto d = Parse("]d2" + kPackElements);
  BOOST_TEST(*d->DigitalLinkUri() ==
             "https://id.gs1.org/01/09506000134352/10/LOT42/21/SER1?17=260331");
  BOOST_TEST(Parse("(400)PO1")->DigitalLinkUri().error().code() == "gs1.dl_no_primary_key");
}

// EPC Tag Data Standard §6.3 examples: urn:epc:id:sgtin:0614141.812345.6789 is GTIN
// 80614141123458 + serial 6789; sscc:0614141.1234567890 is 106141412345678908;
// sgln:0614141.12345.400 is GLN 0614141123452 + extension 400.
BOOST_AUTO_TEST_CASE(epc_urns_match_the_tag_data_standard_examples) {
  auto sgtin = Parse("urn:epc:id:sgtin:0614141.812345.6789");
  BOOST_TEST_REQUIRE(sgtin.has_value());
  BOOST_TEST(sgtin->source_form == "epc_urn");
  BOOST_TEST(sgtin->BracketedString() == "(01)80614141123458(21)6789");
  BOOST_TEST(*ToEpcUrn(*sgtin->pack_id(), 7) == "urn:epc:id:sgtin:0614141.812345.6789");

  auto sscc = Parse("urn:epc:id:sscc:0614141.1234567890");
  BOOST_TEST_REQUIRE(sscc.has_value());
  BOOST_TEST(sscc->sscc()->value() == "106141412345678908");
  BOOST_TEST(*ToEpcUrn(*sscc->sscc(), 7) == "urn:epc:id:sscc:0614141.1234567890");

  auto sgln = Parse("urn:epc:id:sgln:0614141.12345.400");
  BOOST_TEST_REQUIRE(sgln.has_value());
  BOOST_TEST(sgln->BracketedString() == "(414)0614141123452(254)400");
  auto bare = Parse("urn:epc:id:sgln:0614141.12345.0");
  BOOST_TEST(bare->BracketedString() == "(414)0614141123452");
  BOOST_TEST(*ToEpcUrn(*bare->gln(), 7) == "urn:epc:id:sgln:0614141.12345.0");
}

BOOST_AUTO_TEST_CASE(pack_round_trips_through_epc_urn_with_escaped_serial) {
  auto d = Parse("(01)09506000134352(21)A/B%&<>?\"1");
  BOOST_TEST_REQUIRE(d.has_value());
  for (int cpl = 6; cpl <= 12; ++cpl) {
    auto urn = ToEpcUrn(*d->pack_id(), cpl);
    BOOST_TEST_REQUIRE(urn.has_value());
    auto back = Parse(*urn);
    BOOST_TEST_REQUIRE(back.has_value(), *urn);
    BOOST_TEST((*back->pack_id() == *d->pack_id()), *urn);
  }
  BOOST_TEST(*ToEpcUrn(*d->pack_id(), 7) ==
             "urn:epc:id:sgtin:9506000.013435.A%2FB%25%26%3C%3E%3F%221");
  BOOST_TEST(ToEpcUrn(*d->pack_id(), 5).error().code() == "gs1.company_prefix_length");
  BOOST_TEST(ToEpcUrn(*d->pack_id(), 13).error().code() == "gs1.company_prefix_length");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gs1_diagnosis)

BOOST_AUTO_TEST_CASE(serial_that_swallowed_an_expiry_is_refused_with_a_separator_hint) {
  // The GS after the serial was lost; AI 17 and 10 ended up inside the serial (27 > 20 chars).
  auto d = Parse(
      "]d20109506000134352"
      "21ABCDEFGH1234"
      "17260331"
      "10LOT42");
  BOOST_TEST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "gs1.length");
  BOOST_TEST(d.error().message().find("the serial number contains '1726033110LO…', which looks "
                                      "like an expiry date (AI 17): the scanner probably dropped "
                                      "a group separator") != std::string::npos,
             d.error().message());
  auto diagnosis = DiagnoseGs1(
      "]d20109506000134352"
      "21ABCDEFGH1234"
      "17260331"
      "10LOT42",
      Opts2026());
  BOOST_TEST_REQUIRE(diagnosis.findings.size() == 1u);
  BOOST_TEST(diagnosis.findings[0].kind == "missing_separator");
  BOOST_TEST(diagnosis.findings[0].ai == "21");
  BOOST_TEST(diagnosis.findings[0].offset == 33u);
  BOOST_TEST(diagnosis.findings[0].suggestion == "21ABCDEFGH1234" GS "1726033110LOT42");
}

BOOST_AUTO_TEST_CASE(short_serial_with_a_lost_separator_parses_with_a_warning) {
  auto d = Parse(
      "]d20109506000134352"
      "21AB12"
      "17260331"
      "10L1");
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST(d->serial()->value() == "AB121726033110L1");
  BOOST_TEST_REQUIRE(d->warnings.size() == 1u);
  BOOST_TEST(d->warnings[0].kind == "missing_separator");
  // A lot that swallowed the serial.
  auto lot = Parse(
      "]d20109506000134352"
      "17260331"
      "10L7"
      "21SER9");
  BOOST_TEST_REQUIRE(lot.has_value());
  BOOST_TEST_REQUIRE(lot->warnings.size() == 1u);
  BOOST_TEST(
      lot->warnings[0].message.find("looks like a serial number (AI 21)") != std::string::npos,
      lot->warnings[0].message);
  // A genuine serial that merely contains digits raises nothing when 10 and 17 are present.
  auto fine = Parse(
      "]d2"
      "0109506000134352"
      "17260331"
      "10L1" GS "211726033110");
  BOOST_TEST_REQUIRE(fine.has_value());
  BOOST_TEST(fine->warnings.empty());
}

BOOST_AUTO_TEST_CASE(inverted_symbology_identifier_points_to_caps_lock) {
  auto d = Parse(
      "]D20109506000134352"
      "17260331"
      "10lot42" GS "21ser1");
  BOOST_TEST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "gs1.symbology");
  BOOST_TEST(d.error().message().find("Caps Lock") != std::string::npos, d.error().message());
  auto diagnosis = DiagnoseGs1(
      "]D20109506000134352"
      "17260331"
      "10lot42" GS "21ser1");
  BOOST_TEST_REQUIRE(HasFinding(diagnosis, "caps_lock"));
  BOOST_TEST(diagnosis.findings[0].suggestion == "]d2" + kPackElements);
}

BOOST_AUTO_TEST_CASE(upper_case_link_and_lower_case_serial_suggest_caps_lock) {
  auto d = Parse("HTTPS://ID.GS1.ORG/01/09506000134352/21/ABC");
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST_REQUIRE(d->warnings.size() == 1u);
  BOOST_TEST(d->warnings[0].kind == "caps_lock");
  auto diagnosis = DiagnoseGs1("(01)09506000134352(21)abc12", Opts2026());
  BOOST_TEST_REQUIRE(diagnosis.findings.size() == 1u);
  BOOST_TEST(diagnosis.findings[0].kind == "caps_lock");
  BOOST_TEST(diagnosis.findings[0].suggestion == "ABC12");
}

BOOST_AUTO_TEST_CASE(qwertz_layout_is_recognised_and_y_z_alternatives_offered) {
  auto d = Parse(
      "+d20109506000134352"
      "17260331"
      "10LOT42" GS "21SER1");
  BOOST_TEST_REQUIRE(!d.has_value());
  BOOST_TEST(d.error().code() == "gs1.symbology");
  BOOST_TEST(d.error().message().find("QWERTZ") != std::string::npos, d.error().message());
  auto diagnosis = DiagnoseGs1("(01)09506000134352(21)XYZ9", Opts2026());
  BOOST_TEST_REQUIRE(HasFinding(diagnosis, "yz_swap"));
  BOOST_TEST(diagnosis.findings[0].suggestion == "XZY9");
  // A read that fails only because of the swap: a custom GS rendering "<GZ>" typed as "<GY>".
  ParseOptions o = Opts2026();
  o.gs_tokens = {"<GZ>"};
  auto swapped = ParseGs1(
      "]d20109506000134352"
      "17260331"
      "10LOT45678901<GY>21SER1",
      o);
  BOOST_TEST_REQUIRE(!swapped.has_value());
  BOOST_TEST(
      swapped.error().message().find("with Y and Z swapped the read is valid") != std::string::npos,
      swapped.error().message());
}

BOOST_AUTO_TEST_CASE(ean_appended_to_the_lot_is_reported) {
  auto d = Parse("(01)09506000134352(10)LOT429506000134352(21)S");
  BOOST_TEST_REQUIRE(d.has_value());
  BOOST_TEST_REQUIRE(d->warnings.size() == 1u);
  BOOST_TEST(d->warnings[0].kind == "appended_ean");
  BOOST_TEST(d->warnings[0].suggestion == "LOT42");
  auto long_lot = Parse("(01)09506000134352(21)S(10)ABCDEFGH4006381333931");
  BOOST_TEST_REQUIRE(!long_lot.has_value());
  BOOST_TEST(long_lot.error().code() == "gs1.length");
  BOOST_TEST(long_lot.error().message().find("an EAN was probably appended") != std::string::npos,
             long_lot.error().message());
}

BOOST_AUTO_TEST_CASE(clean_reads_have_no_findings) {
  BOOST_TEST(DiagnoseGs1("]d2" + kPackElements, Opts2026()).empty());
  BOOST_TEST(DiagnoseGs1("(00)106141411234567897", Opts2026()).empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gs1_ai_table)

// GenSpecs Figure 7.8.5-2: AIs starting with these two digits have a predefined length and
// need no separator. Everything else needs one, fixed length or not.
BOOST_AUTO_TEST_CASE(predefined_length_flags_follow_the_first_two_digits) {
  const std::string_view predefined[] = {"00", "01", "02", "03", "04", "11", "12", "13",
                                         "14", "15", "16", "17", "18", "19", "20", "31",
                                         "32", "33", "34", "35", "36", "41"};
  for (const AiDefinition& d : AiTable()) {
    bool expected = false;
    for (auto p : predefined) expected |= d.ai.substr(0, 2) == p;
    BOOST_TEST(d.predefined_length == expected, d.ai);
    if (d.predefined_length) BOOST_TEST(d.fixed_length(), d.ai);
  }
  BOOST_TEST(FindAi("17")->max_length() == 6u);
  BOOST_TEST(FindAi("21")->max_length() == 20u);
  BOOST_TEST(FindAi("8003")->min_length() == 14u);
  BOOST_TEST(FindAi("8003")->max_length() == 30u);
  BOOST_TEST(FindAi("23") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
