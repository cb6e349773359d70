// `pedigree report pack`, `bundle pack` and `verify-bundle` from the shell: verdicts as exit
// codes, any scanner form of the code, and a revoked key that still vouches for earlier events.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_run.h"
#include "common/read_file.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/cli/cli.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::ReadFile;
using pedigree::testing::TempDir;

BOOST_AUTO_TEST_SUITE(cli_report)

BOOST_AUTO_TEST_CASE(report_bundle_and_verify_bundle_agree_and_exit_by_verdict) {
  TempDir tmp;
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-report", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  auto init_json = pedigree::ParseJson(init.out).value();
  std::string authority = init_json.find("authority_key_file")->as_string();
  std::string authority_pub = init_json.find("authority_public_key")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg2.pem"}).rc == 0);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  };
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer,dispenser", "--prefixes", "9506000", "--glns", "9506000000008", "--key",
       tmp / "mfg.pem", "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1,A2"});

  // Raw scanner data with symbology identifier and GS separator.
  const std::string raw =
      "]d201095060001343521728033110L1\x1d"
      "21A1";
  Run report = Cli({"report", "pack", raw, "--dir", dir});
  BOOST_TEST_INFO(report.err);
  BOOST_TEST(report.rc == 0);
  auto json = pedigree::ParseJson(report.out).value();
  BOOST_TEST(json.find("verdict")->as_string() == "VERIFIED");
  Run html = Cli({"report", "pack", raw, "--dir", dir, "--format", "html"});
  BOOST_TEST_INFO(html.err);
  BOOST_TEST(html.rc == 0);
  BOOST_TEST(html.out.starts_with("<!DOCTYPE html>"));
  BOOST_TEST(html.out.find("VERIFIED") != std::string::npos);

  // The key is revoked and replaced; the events it signed before stay valid. Revocation is
  // at the second of the command, and an event in that same second counts as after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  run({"org", "key-revoke", "--authority-key", authority, "--id", "mfg", "--key", tmp / "mfg.pem"});
  run({"org", "key-add", "--authority-key", authority, "--id", "mfg", "--key", tmp / "mfg2.pem",
       "--valid-from", "2026-01-01T00:00:00Z"});
  run({"recall", "--as", "mfg", "--key", tmp / "mfg2.pem", "--gtin", "09506000134352", "--lot",
       "L1", "--reason", "sterility"});
  Run suspect =
      Cli({"report", "pack", "(01)09506000134352(21)A1", "--dir", dir, "--format", "text"});
  BOOST_TEST(suspect.rc == 3);
  BOOST_TEST(suspect.out.rfind("SUSPECT: ", 0) == 0u);
  BOOST_TEST(suspect.out.find("rules.batch_recalled") != std::string::npos);
  BOOST_TEST(suspect.out.find("FAIL") == std::string::npos);

  Run bundle = Cli({"bundle", "pack", "https://id.gs1.org/01/09506000134352/21/A1", "--dir", dir,
                    "-o", tmp / "a1.bundle.json"});
  BOOST_REQUIRE_MESSAGE(bundle.rc == 0, bundle.err);
  std::string text = ReadFile(tmp / "a1.bundle.json");
  // The registry part includes the revocation, so the verifier knows when the key stopped.
  BOOST_TEST(text.find("org.key_revoke") != std::string::npos);
  Run verify = Cli({"verify-bundle", tmp / "a1.bundle.json", "--trust", dir + "/log.vkey",
                    "--authority", authority_pub, "--format", "json"});
  BOOST_TEST(verify.rc == 3);
  auto verified = pedigree::ParseJson(verify.out).value();
  BOOST_TEST(verified.find("verdict")->as_string() == "SUSPECT");
  BOOST_TEST(pedigree::Canonicalize(*verified.find("violations")) ==
             pedigree::Canonicalize(
                 *pedigree::ParseJson(
                      Cli({"report", "pack", "(01)09506000134352(21)A1", "--dir", dir}).out)
                      .value()
                      .find("violations")));
  Run verify_html = Cli({"verify-bundle", tmp / "a1.bundle.json", "--trust", dir + "/log.vkey",
                         "--authority", authority_pub, "--format", "html"});
  BOOST_TEST(verify_html.rc == 3);
  BOOST_TEST(verify_html.out.starts_with("<!DOCTYPE html>"));
  BOOST_TEST(verify_html.out.find("SUSPECT") != std::string::npos);

  // Another log's key: the checkpoint does not verify.
  Run other = Cli({"init", "--dir", tmp / "other", "--origin", "example.org/cli-report"});
  BOOST_REQUIRE(other.rc == 0);
  Run wrong_log = Cli({"verify-bundle", tmp / "a1.bundle.json", "--trust", tmp / "other/log.vkey"});
  BOOST_TEST(wrong_log.rc == 4);
  BOOST_TEST(wrong_log.out.rfind("FAILED: ", 0) == 0u);

  // A truncated bundle is FAILED too, with the parse error.
  std::ofstream(tmp / "cut.json") << text.substr(0, text.size() / 2);
  Run cut = Cli({"verify-bundle", tmp / "cut.json", "--trust", dir + "/log.vkey"});
  BOOST_TEST(cut.rc == 4);
  BOOST_TEST(cut.err.find("bundle.json") != std::string::npos);

  Run unknown = Cli({"report", "pack", "(01)09506000134352(21)NOPE", "--dir", dir});
  BOOST_TEST(unknown.rc == 1);
  BOOST_TEST(unknown.err.find("report.no_such_pack") != std::string::npos);
  BOOST_TEST(Cli({"report", "pack", "--dir", dir}).rc == 2);
  BOOST_TEST(Cli({"report", "pack", raw, "--dir", dir, "--format", "pdf"}).rc == 2);
}

BOOST_AUTO_TEST_CASE(bundle_without_its_recall_and_dispense_fails_and_check_index_holds) {
  TempDir tmp;
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-index", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  auto init_json = pedigree::ParseJson(init.out).value();
  std::string authority = init_json.find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  };
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer,dispenser", "--prefixes", "9506000", "--glns", "9506000000008", "--key",
       tmp / "mfg.pem", "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1"});
  run({"dispense", "--as", "mfg", "--code", "(01)09506000134352(21)A1", "--location",
       "9506000000008"});
  run({"recall", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--reason",
       "sterility"});
  std::string file = tmp / "a1.bundle.json";
  BOOST_REQUIRE(Cli({"bundle", "pack", "(01)09506000134352(21)A1", "--dir", dir, "-o", file}).rc ==
                0);
  Run honest = Cli({"verify-bundle", file, "--trust", dir + "/log.vkey"});
  BOOST_TEST(honest.rc == 3);  // recalled

  // Drop the dispense and the recall: today's attack on an offline verifier.
  auto bundle = pedigree::ParseJson(ReadFile(file)).value();
  auto& entries = bundle.find("entries")->as_array();
  std::vector<int64_t> dropped;
  std::erase_if(entries, [&](const JsonValue& e) {
    const std::string& entry = e.find("entry")->as_string();
    bool drop = entry.find("\"kind\":\"decommission\"") != std::string::npos ||
                entry.find("\"kind\":\"batch.status\"") != std::string::npos;
    if (drop) dropped.push_back(e.find("index")->as_int());
    return drop;
  });
  BOOST_REQUIRE(dropped.size() == 2u);
  std::ofstream(tmp / "cut.json") << pedigree::Canonicalize(bundle) << "\n";
  Run cut =
      Cli({"verify-bundle", tmp / "cut.json", "--trust", dir + "/log.vkey", "--format", "json"});
  BOOST_TEST(cut.rc == 4);
  auto report = pedigree::ParseJson(cut.out).value();
  BOOST_TEST(report.find("verdict")->as_string() == "FAILED");
  const JsonValue& first = report.find("failures")->as_array().front();
  BOOST_TEST(first.find("code")->as_string() == "bundle.incomplete");
  BOOST_TEST(first.find("index")->as_int() == dropped.front());

  // Anyone with the log checks the signed index against it.
  Run check = Cli({"log", "check-index", file, "--dir", dir});
  BOOST_TEST_INFO(check.err);
  BOOST_TEST(check.rc == 0);
  auto checked = pedigree::ParseJson(check.out).value();
  BOOST_TEST(checked.find("result")->as_string() == "HOLDS");
  BOOST_TEST(checked.find("omitted")->size() == 0u);
}

BOOST_AUTO_TEST_CASE(case_on_a_pallet_has_its_own_history_and_report_from_any_scanner_form) {
  TempDir tmp;
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-sscc", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority =
      pedigree::ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  };
  const std::string box = "095060000000000015";     // check digit 5
  const std::string pallet = "095060000000000022";  // check digit 2
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer", "--prefixes", "9506000", "--glns", "9506000000008", "--key", tmp / "mfg.pem",
       "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1,A2"});
  run({"aggregate", "--as", "mfg", "--parent", box, "--children",
       "https://id.gs1.org/01/09506000134352/21/A1,https://id.gs1.org/01/09506000134352/21/A2"});
  run({"aggregate", "--as", "mfg", "--parent", pallet, "--children", box});
  run({"disaggregate", "--as", "mfg", "--parent", box, "--children",
       "https://id.gs1.org/01/09506000134352/21/A2"});

  for (const std::string& form :
       {box, "00" + box, "(00)" + box, "]C100" + box, "https://id.gs1.org/00/" + box}) {
    Run history = Cli({"history", form, "--dir", dir, "--json"});
    BOOST_TEST_INFO(form << ": " << history.err);
    BOOST_REQUIRE(history.rc == 0);
    auto events = pedigree::ParseJson(history.out).value();
    BOOST_TEST(events.size() == 3u);  // packed, onto the pallet, A2 taken out
  }
  Run pack_history = Cli({"history", "(01)09506000134352(21)A1", "--dir", dir, "--json"});
  BOOST_TEST(pedigree::ParseJson(pack_history.out).value().size() == 5u);
  Run bad = Cli({"history", "095060000000000010", "--dir", dir});
  BOOST_TEST(bad.rc == 1);
  BOOST_TEST(bad.err.find("gs1.check_digit") != std::string::npos);

  Run report = Cli({"report", "container", "(00)" + box, "--dir", dir});
  BOOST_TEST_INFO(report.err);
  BOOST_TEST(report.rc == 0);
  auto json = pedigree::ParseJson(report.out).value();
  BOOST_TEST(json.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(json.find("subject")->find("parent")->as_string() == pallet);
  BOOST_TEST(json.find("subject")->find("contents")->size() == 1u);
  BOOST_TEST(json.find("contentsHistory")->size() == 2u);

  std::string file = tmp / "box.bundle.json";
  BOOST_REQUIRE(Cli({"bundle", "container", box, "--dir", dir, "-o", file}).rc == 0);
  Run verify = Cli({"verify-bundle", file, "--trust", dir + "/log.vkey", "--format", "json"});
  BOOST_TEST(verify.rc == 0);
  BOOST_TEST(pedigree::ParseJson(verify.out).value().find("report")->as_string() == "container");
}

BOOST_AUTO_TEST_SUITE_END()
