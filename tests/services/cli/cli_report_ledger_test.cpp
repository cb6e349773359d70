// `pedigree report batch|audit|render` in-process: formats, -o FILE and exit codes.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "cli_run.h"
#include "common/read_file.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/cli/cli.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::ReadFile;
using pedigree::testing::TempDir;

namespace {

// A plain log of 5 entries with a checkpoint; returns its verifier key.
std::string MakeLog(const std::string& dir) {
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/report-cli"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string key = dir + "-author.pem";
  Run keygen = Cli({"keygen", "--out", key});
  BOOST_REQUIRE_MESSAGE(keygen.rc == 0, keygen.err);
  Run append = Cli({"log", "append", "--dir", dir, "--key", key, "-"},
                   R"([{"a":1},{"a":2},{"a":3},{"a":4},{"a":5}])");
  BOOST_REQUIRE_MESSAGE(append.rc == 0, append.err);
  Run checkpoint = Cli({"log", "checkpoint", "--dir", dir});
  BOOST_REQUIRE_MESSAGE(checkpoint.rc == 0, checkpoint.err);
  return pedigree::ParseJson(init.out).value().find("verifier_key")->as_string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_report_ledger)

BOOST_AUTO_TEST_CASE(report_audit_prints_json_text_and_writes_html) {
  TempDir tmp;
  const std::string dir = tmp / "ledger";
  const std::string vkey = MakeLog(dir);

  Run json = Cli({"report", "audit", "--dir", dir});
  BOOST_REQUIRE_MESSAGE(json.rc == 0, json.err);
  auto report = pedigree::ParseJson(json.out);
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(report->find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(report->find("audit")->find("entriesChecked")->as_int() == 5);

  Run text = Cli({"report", "audit", "--dir", dir, "--trust", vkey, "--format", "text"});
  BOOST_REQUIRE_MESSAGE(text.rc == 0, text.err);
  BOOST_TEST(text.out.rfind("VERIFIED  audit report", 0) == 0u);
  BOOST_TEST(text.out.find("[PASS] log.key") != std::string::npos);

  Run html = Cli({"report", "audit", "--dir", dir, "--format", "html", "-o", tmp / "audit.html"});
  BOOST_REQUIRE_MESSAGE(html.rc == 0, html.err);
  BOOST_TEST(html.out.empty());
  BOOST_TEST(ReadFile(tmp / "audit.html").find("<div class=\"banner VERIFIED\">") !=
             std::string::npos);

  // A saved report renders again, HTML by default.
  {
    std::ofstream saved(tmp / "audit.json");
    saved << json.out;
  }
  Run render = Cli({"report", "render", tmp / "audit.json"});
  BOOST_REQUIRE_MESSAGE(render.rc == 0, render.err);
  BOOST_TEST(render.out.find("<!DOCTYPE html>") == 0u);
}

BOOST_AUTO_TEST_CASE(report_audit_with_another_logs_key_fails_with_exit_4) {
  TempDir tmp;
  MakeLog(tmp / "ledger");
  const std::string other = MakeLog(tmp / "other");
  Run run = Cli({"report", "audit", "--dir", tmp / "ledger", "--trust", other});
  BOOST_TEST(run.rc == 4);
  auto report = pedigree::ParseJson(run.out);
  BOOST_REQUIRE(report.has_value());
  BOOST_TEST(report->find("verdict")->as_string() == "FAILED");
  BOOST_TEST(report->find("failures")->as_array()[0].find("code")->as_string() ==
             "audit.checkpoint_signature");
}

BOOST_AUTO_TEST_CASE(report_batch_names_an_unknown_batch_and_bad_usage) {
  TempDir tmp;
  const std::string dir = tmp / "ledger";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/report-cli", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  Run unknown = Cli({"report", "batch", "09506001000113", "L1", "--dir", dir});
  BOOST_TEST(unknown.rc == 1);
  BOOST_TEST(unknown.err.find("report.no_such_batch") != std::string::npos);
  Run usage = Cli({"report", "batch", "09506001000113", "--dir", dir});
  BOOST_TEST(usage.rc == 2);
  BOOST_TEST(usage.err.find("cli.usage") != std::string::npos);
  Run format = Cli({"report", "audit", "--dir", dir, "--format", "pdf"});
  BOOST_TEST(format.rc == 2);
  BOOST_TEST(format.err.find("--format must be json, text or html") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
