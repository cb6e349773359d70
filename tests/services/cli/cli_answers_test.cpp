// Answers a user can act on, from the shell: refusals name the next step and the facts
// on the ledger, `verify` gives the batch status and the custody relative to `--as`, list
// options take codes in any scanner form and @FILE.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "cli_run.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error_codes.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

const std::string kGtin = "09506000134352";
const std::string kGln = "9506000000008";

// A manufacturer "mfg" (key held, also a dispenser) with product kGtin, batch L1 of 20 packs
// and packs A1..A6; a wholesaler "north-wholesale" registered too.
std::string Chain(TempDir& tmp) {
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-answers", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "ws.pem"}).rc == 0);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"org", "register", "--authority-key", authority, "--id", "mfg",
                                 "--name", "Maker", "--roles", "manufacturer,dispenser",
                                 "--prefixes", "9506000", "--glns", kGln, "--key", tmp / "mfg.pem",
                                 "--hold", "--valid-from", "2026-01-01T00:00:00Z"},
        {"org", "register", "--authority-key", authority, "--id", "north-wholesale", "--name",
         "North", "--roles", "wholesaler", "--prefixes", "4000003", "--glns", "4000003000003",
         "--key", tmp / "ws.pem", "--hold", "--valid-from", "2026-01-01T00:00:00Z"},
        {"product", "register", "--as", "mfg", "--gtin", kGtin, "--name", "Examplamab"},
        {"batch", "register", "--as", "mfg", "--gtin", kGtin, "--lot", "L1", "--expiry",
         "2028-03-31", "--quantity", "20"},
        {"commission", "--as", "mfg", "--gtin", kGtin, "--lot", "L1", "--location", kGln,
         "--serials", "A1,A2,A3,A4,A5,A6"}}) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  }
  return dir;
}

JsonValue ErrorOf(const Run& r) {
  auto e = ParseJson(r.err);
  BOOST_REQUIRE_MESSAGE(e && e->find("error"), r.err);
  return *e->find("error");
}

std::string Member(const JsonValue& o, const char* name) {
  const JsonValue* v = o.find(name);
  return v && v->is_string() ? v->as_string() : std::string("<absent>");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_answers)

BOOST_AUTO_TEST_CASE(a_refused_dispense_prints_the_next_step_and_the_recall_on_the_ledger) {
  TempDir tmp;
  std::string dir = Chain(tmp);
  Run recall = Cli({"recall", "--dir", dir, "--as", "mfg", "--gtin", kGtin, "--lot", "L1",
                    "--reason", "sterility", "--json"});
  BOOST_REQUIRE_MESSAGE(recall.rc == 0, recall.err);
  const int64_t entry = ParseJson(recall.out).value().find("index")->as_int();
  Run r = Cli({"dispense", "--dir", dir, "--as", "mfg", "--code", "(01)" + kGtin + "(21)A1",
               "--location", kGln});
  BOOST_TEST(r.rc == 1);
  JsonValue e = ErrorOf(r);
  BOOST_TEST(Member(e, "code") == "alert.recalled");
  BOOST_TEST(Member(e, "nextStep") == std::string(NextStepFor("alert.recalled")));
  BOOST_TEST(Member(e, "reason") == "sterility");
  BOOST_TEST(e.find("reasonEntry")->as_int() == entry);
}

BOOST_AUTO_TEST_CASE(verify_gives_batch_status_holder_and_custody_relative_to_as) {
  TempDir tmp;
  std::string dir = Chain(tmp);
  const std::string code = "(01)" + kGtin + "(21)A2";
  Run own = Cli({"verify", "--dir", dir, "--code", code, "--as", "mfg", "--json"});
  BOOST_REQUIRE_MESSAGE(own.rc == 0, own.err);
  JsonValue o = ParseJson(own.out).value();
  BOOST_TEST(Member(o, "holder") == "mfg");
  BOOST_TEST(Member(o, "batchStatus") == "active");
  BOOST_TEST(Member(o, "custody") == "yours");
  Run other = Cli({"verify", "--dir", dir, "--code", code, "--as", "north-wholesale"});
  BOOST_TEST(
      other.out.find("custody: held by mfg, not by you: receive it first") != std::string::npos,
      other.out);
  // Without an organisation, no relative hint.
  Run anonymous = Cli({"verify", "--dir", dir, "--code", code, "--json"});
  BOOST_TEST(ParseJson(anonymous.out).value().find("custody") == nullptr);
  BOOST_TEST(Cli({"verify", "--dir", dir, "--code", code, "--as", "Evil/../x"}).rc == 2);

  Run recall = Cli({"recall", "--dir", dir, "--as", "mfg", "--gtin", kGtin, "--lot", "L1",
                    "--reason", "sterility", "--json"});
  BOOST_REQUIRE_MESSAGE(recall.rc == 0, recall.err);
  const std::string entry = std::to_string(ParseJson(recall.out).value().find("index")->as_int());
  Run recalled = Cli({"verify", "--dir", dir, "--code", code, "--as", "mfg"});
  BOOST_TEST(recalled.rc == 3);
  BOOST_TEST(recalled.out.find("batch recalled: sterility (batch.status entry " + entry + ")") !=
                 std::string::npos,
             recalled.out);
}

BOOST_AUTO_TEST_CASE(aggregate_children_take_any_scanner_form_separated_or_from_a_file) {
  TempDir tmp;
  std::string dir = Chain(tmp);
  // Bracketed, element string with ]d2 and a GS separator, newline-separated.
  Run inline_list =
      Cli({"aggregate", "--dir", dir, "--as", "mfg", "--parent", "(00)095060000000000015",
           "--children", "(01)" + kGtin + "(21)A1,\n]d201" + kGtin + "10L1\x1d" + "21A2"});
  BOOST_REQUIRE_MESSAGE(inline_list.rc == 0, inline_list.err);
  // A file: comments and blank lines skipped; Digital Link URI, bare element string.
  const std::string list = tmp / "children.txt";
  std::ofstream(list) << "# case 2\n\nhttps://id.gs1.org/01/" << kGtin << "/21/A3\n  01" << kGtin
                      << "21A4  \n";
  Run from_file = Cli({"aggregate", "--dir", dir, "--as", "mfg", "--parent", "095060000000000022",
                       "--children", "@" + list, "--json"});
  BOOST_REQUIRE_MESSAGE(from_file.rc == 0, from_file.err);
  Run report = Cli({"history", "--dir", dir, "--code", "(01)" + kGtin + "(21)A4", "--json"});
  BOOST_TEST(report.out.find("aggregate") != std::string::npos, report.out);

  // A bad line names the file, its line and column.
  const std::string bad = tmp / "bad.txt";
  std::ofstream(bad) << "(01)" << kGtin << "(21)A5\n# next is wrong\n  (01)09506000134353(21)A6\n";
  Run refused = Cli({"aggregate", "--dir", dir, "--as", "mfg", "--parent", "095060000000000039",
                     "--children", "@" + bad});
  BOOST_TEST(refused.rc == 1);
  JsonValue e = ErrorOf(refused);
  BOOST_TEST(Member(e, "code") == "gs1.check_digit");
  BOOST_TEST(Member(e, "field") == "children");
  BOOST_TEST(Member(e, "message").starts_with(bad + ":3:"), Member(e, "message"));
  BOOST_TEST(e.find("line")->as_int() == 3);
  BOOST_TEST(e.find("column")->as_int() >= 3);
  // Nothing named there was aggregated.
  Run a5 = Cli({"verify", "--dir", dir, "--code", "(01)" + kGtin + "(21)A5", "--json"});
  BOOST_TEST(a5.rc == 0);
  Run empty = Cli({"aggregate", "--dir", dir, "--as", "mfg", "--parent", "095060000000000039",
                   "--children", " , "});
  BOOST_TEST(empty.rc == 2);
  BOOST_TEST(Member(ErrorOf(empty), "code") == "cli.usage");
}

BOOST_AUTO_TEST_SUITE_END()
