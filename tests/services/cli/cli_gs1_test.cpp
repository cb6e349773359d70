// `pedigree gs1 …`: the GS1 key helpers as a script sees them.
#include <boost/test/unit_test.hpp>

#include "cli_run.h"
#include "pedigree/base/canonical_json.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;

BOOST_AUTO_TEST_SUITE(cli_gs1)

BOOST_AUTO_TEST_CASE(check_digit_appends_and_verifies) {
  // GenSpecs §7.9.1: weights 3,1,3… from the right; GTIN 09506000134352 (GS1's example).
  Run append = Cli({"gs1", "check-digit", "0950600013435"});
  BOOST_TEST(append.rc == 0, append.err);
  BOOST_TEST(append.out == "09506000134352\n");
  Run json = Cli({"gs1", "check-digit", "0950600013435", "--json"});
  BOOST_TEST(json.rc == 0);
  auto j = ParseJson(json.out).value();
  BOOST_TEST(j.find("key")->as_string() == "09506000134352");
  BOOST_TEST(j.find("checkDigit")->as_string() == "2");
  Run ok = Cli({"gs1", "check-digit", "09506000134352", "--verify"});
  BOOST_TEST(ok.rc == 0, ok.err);
  Run bad = Cli({"gs1", "check-digit", "09506000134353", "--verify"});
  BOOST_TEST(bad.rc == 1);
  BOOST_TEST(bad.err.find("gs1.check_digit") != std::string::npos, bad.err);
  BOOST_TEST(bad.err.find("expected 2") != std::string::npos, bad.err);
  for (const char* digits : {"12a", "", "123456789012345678"}) {
    Run usage = Cli({"gs1", "check-digit", digits});
    BOOST_TEST(usage.rc == 2, digits);
    BOOST_TEST(usage.err.find("cli.usage") != std::string::npos, usage.err);
  }
  BOOST_TEST(Cli({"gs1", "check-digit"}).rc == 2);
}

BOOST_AUTO_TEST_CASE(sscc_and_gln_are_built_with_extension_and_check_digit) {
  // SSCC: extension digit + GCP + serial reference (17 digits) + check digit.
  Run sscc = Cli({"gs1", "sscc", "--prefix", "9506000", "--serial", "12345"});
  BOOST_TEST(sscc.rc == 0, sscc.err);
  BOOST_TEST(sscc.out == "095060000000123455\n");
  Run ext = Cli(
      {"gs1", "sscc", "--prefix", "9506000", "--serial", "12345", "--extension", "3", "--json"});
  BOOST_TEST(ext.rc == 0, ext.err);
  BOOST_TEST(ParseJson(ext.out).value().find("key")->as_string().substr(0, 1) == "3");
  // GLN: GCP + location reference (12 digits) + check digit.
  Run gln = Cli({"gs1", "gln", "--prefix", "9506000", "--location", "13437"});
  BOOST_TEST(gln.rc == 0, gln.err);
  BOOST_TEST(gln.out == "9506000134376\n");
  // Bad lengths are usage errors (exit 2, cli.usage).
  for (auto args : std::vector<std::vector<std::string>>{
           {"gs1", "sscc", "--prefix", "9506000", "--serial", "1234567890"},
           {"gs1", "sscc", "--prefix", "950", "--serial", "1"},
           {"gs1", "sscc", "--prefix", "9506000", "--serial", "12", "--extension", "10"},
           {"gs1", "sscc", "--prefix", "9506000"},
           {"gs1", "gln", "--prefix", "9506000", "--location", "123456"},
           {"gs1", "gln", "--prefix", "9506000123456", "--location", "1"},
           {"gs1", "gln", "--prefix", "95060A0", "--location", "1"},
       }) {
    Run r = Cli(args);
    BOOST_TEST(r.rc == 2, args.back());
    BOOST_TEST(r.err.find("cli.usage") != std::string::npos, r.err);
  }
}

BOOST_AUTO_TEST_SUITE_END()
