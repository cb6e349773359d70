// `pedigree log audit`, `report audit` and `serve` on a supply-chain ledger edited with SQL
// behind the log: both audits name the derived mismatch, serve refuses to start.
#include <boost/test/unit_test.hpp>

#include "cli_run.h"
#include "pedigree/base/canonical_json.h"
#include "reports/supply_scenario.h"

using namespace pedigree;
using pedigree::reports::testing::SupplyScenario;
using pedigree::reports::testing::TamperSql;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;

BOOST_AUTO_TEST_SUITE(cli_audit)

BOOST_AUTO_TEST_CASE(log_audit_and_report_audit_name_an_updated_pack_row) {
  SupplyScenario s;
  s.RunPalletChain();
  s.Close();
  Run clean = Cli({"log", "audit", "--dir", s.dir()});
  BOOST_REQUIRE_MESSAGE(clean.rc == 0, clean.out + clean.err);
  auto ok = ParseJson(clean.out).value();
  BOOST_TEST(ok.find("ok")->as_bool());
  BOOST_TEST(ok.find("derived")->find("ok")->as_bool());

  TamperSql(s.dir(), "UPDATE packs SET holder = 'ph2' WHERE serial = 'S2'");
  Run log = Cli({"log", "audit", "--dir", s.dir()});
  BOOST_TEST(log.rc == 1);
  auto out = ParseJson(log.out);
  BOOST_REQUIRE_MESSAGE(out.has_value(), log.out + log.err);
  BOOST_TEST(!out->find("ok")->as_bool());
  BOOST_TEST(out->find("code")->as_string() == "audit.derived_mismatch");
  BOOST_TEST(out->find("problem")->as_string().find("table packs") != std::string::npos);
  const JsonValue& row = out->find("derived")->find("rows")->as_array().front();
  BOOST_TEST(row.find("table")->as_string() == "packs");
  BOOST_TEST(row.find("stored")->as_string().find("holder='ph2'") != std::string::npos);
  BOOST_TEST(row.find("replayed")->as_string().find("holder='wh'") != std::string::npos);
  BOOST_TEST(out->find("first_bad_index")->as_int() == row.find("index")->as_int());

  Run report = Cli({"report", "audit", "--dir", s.dir(), "--format", "text"});
  BOOST_TEST(report.rc != 0);
  BOOST_TEST(report.out.rfind("FAILED", 0) == 0u, report.out);
  BOOST_TEST(report.out.find("audit.derived_mismatch") != std::string::npos, report.out);
}

BOOST_AUTO_TEST_CASE(serve_refuses_to_start_on_an_injected_key) {
  SupplyScenario s;
  s.Close();
  TamperSql(s.dir(), "INSERT INTO org_keys(key, org, valid_from, added_idx) VALUES(x'" +
                         ToHex(log::PrivateKey::Generate().public_key().raw()) + "', 'ph1', 0, 2)");
  // What serve opens first; on a node that trusted the row this would start serving.
  BOOST_REQUIRE(!services::SupplyNode::Open(s.dir()).has_value());
  Run serve = Cli({"serve", "--dir", s.dir()});
  BOOST_TEST(serve.rc != 0);
  auto err = ParseJson(serve.err);
  BOOST_REQUIRE_MESSAGE(err.has_value(), serve.err);
  BOOST_TEST(err->find("error")->find("code")->as_string() == "state.tampered");
  BOOST_TEST(err->find("error")->find("message")->as_string().find("org_keys") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
