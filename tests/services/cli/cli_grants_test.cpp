// `pedigree trial grant / revoke-grant / grants` and `trial disclose --for` in-process on a
// real node directory: the sponsor grants a monitor read access to DM, the monitor's read
// is recorded with the leaf it returned, and after revocation the read is refused and the
// refusal recorded.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "cli_run.h"
#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

const std::string kTrial = "2026-500001-12-00";
const std::string kKey = kTrial + "|" + kTrial + "-001";

struct GrantNode {
  TempDir tmp;
  std::string dir = tmp / "node";

  Run Do(std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    return Cli(args);
  }
  void Ok(std::vector<std::string> args) {
    Run r = Do(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, args[1] << ": " << r.err);
  }
  std::vector<std::string> Signed(std::vector<std::string> args, const std::string& org) {
    args.insert(args.end(), {"--trial", kTrial, "--as", org, "--name", "Dr " + org, "--meaning",
                             org == "sp" ? "approval" : "authorship"});
    return args;
  }
  std::vector<std::string> Grant(const std::string& grantee, const std::string& expiry) {
    return Signed(
        {"trial", "grant", "--grant", "MON-1", "--grantee", grantee, "--purpose", "monitor",
         "--domains", "DM", "--start", "2026-01-01T00:00:00Z", "--expiry", expiry},
        "sp");
  }
  JsonValue Grants() {
    Run r = Do({"trial", "grants", "--trial", kTrial, "--json"});
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    return ParseJson(r.out).value();
  }

  // T with DM of one subject submitted by s1, hard-locked and sealed by sp; the monitor
  // organisation mon registered.
  GrantNode() {
    Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-grants", "--supply-chain"});
    BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
    std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
    for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"mon", "site"}}) {
      std::string key = tmp / (std::string(org) + ".pem");
      BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
      Ok({"org", "register", "--authority-key", authority, "--id", org, "--name", org, "--roles",
          role, "--key", key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    }
    std::ofstream(tmp / "protocol.md") << "# Protocol\n";
    std::ofstream(tmp / "outcomes.json") << R"({"primary":["HbA1c"],"secondary":[]})";
    std::ofstream(tmp / "dm.csv") << "STUDYID,DOMAIN,USUBJID,AGE\n"
                                  << kTrial << ",DM," << kTrial << "-001,54\n";
    Ok(Signed({"trial", "register", "--registry", kTrial, "--title", "Study", "--sites", "s1",
               "--arms", "A:Active"},
              "sp"));
    Ok(Signed(
        {"trial", "protocol", "--file", tmp / "protocol.md", "--outcomes", tmp / "outcomes.json"},
        "sp"));
    Ok(Signed({"trial", "submit", "--file", tmp / "dm.csv"}, "s1"));
    Ok(Signed({"trial", "lock", "--domain", "DM", "--action", "hard_lock"}, "sp"));
    Ok(Signed({"trial", "seal", "--domain", "DM"}, "sp"));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_grants)

BOOST_AUTO_TEST_CASE(a_monitors_read_is_recorded_under_its_grant_and_refused_after_revocation) {
  GrantNode n;
  Run unknown = n.Do(n.Grant("nobody", "2030-01-01T00:00:00Z"));
  BOOST_TEST(unknown.rc != 0);
  BOOST_TEST(unknown.err.find("trial.unknown_grantee") != std::string::npos, unknown.err);
  Run backwards = n.Do(n.Grant("mon", "2025-12-31T00:00:00Z"));
  BOOST_TEST(backwards.err.find("trial.bad_grant") != std::string::npos, backwards.err);
  BOOST_TEST(n.Grants().find("grants")->size() == 0u);

  // Without a grant, the read is refused and the refusal recorded.
  auto disclose = [&] {
    return n.Do(
        {"trial", "disclose", "--trial", kTrial, "--domain", "DM", "--key", kKey, "--for", "mon"});
  };
  Run early = disclose();
  BOOST_TEST(early.rc != 0);
  BOOST_TEST(early.err.find("trial.no_grant") != std::string::npos, early.err);

  n.Ok(n.Grant("mon", "2030-01-01T00:00:00Z"));
  Run read = disclose();
  BOOST_REQUIRE_MESSAGE(read.rc == 0, read.err);
  const std::string leaf = ParseJson(read.out).value().find("leaf")->as_string();
  // The sponsor's own read is not an access to record.
  Run own = n.Do({"trial", "disclose", "--trial", kTrial, "--domain", "DM", "--key", kKey});
  BOOST_REQUIRE_MESSAGE(own.rc == 0, own.err);
  JsonValue listed = n.Grants();
  BOOST_REQUIRE_EQUAL(listed.find("accesses")->size(), 2u);
  const JsonValue& refused = listed.find("accesses")->as_array()[0];
  BOOST_TEST(refused.find("outcome")->as_string() == "refused");
  const JsonValue& granted = listed.find("accesses")->as_array()[1];
  BOOST_TEST(granted.find("outcome")->as_string() == "granted");
  BOOST_TEST(granted.find("reader")->as_string() == "mon");
  BOOST_TEST(granted.find("grantId")->as_string() == "MON-1");
  BOOST_TEST(pedigree::Canonicalize(*granted.find("leaves")) == "[\"" + leaf + "\"]");

  n.Ok(n.Signed({"trial", "revoke-grant", "--grant", "MON-1", "--reason", "visit over"}, "sp"));
  Run twice = n.Do(n.Signed({"trial", "revoke-grant", "--grant", "MON-1"}, "sp"));
  BOOST_TEST(twice.err.find("trial.grant_revoked") != std::string::npos, twice.err);
  Run late = disclose();
  BOOST_TEST(late.rc != 0);
  BOOST_TEST(late.err.find("trial.no_grant") != std::string::npos, late.err);
  JsonValue after = n.Grants();
  BOOST_REQUIRE_EQUAL(after.find("accesses")->size(), 3u);
  BOOST_TEST(after.find("accesses")->as_array()[2].find("outcome")->as_string() == "refused");
  BOOST_TEST(after.find("grants")->as_array()[0].find("revoked")->is_int());
  Run text = n.Do({"trial", "grants", "--trial", kTrial});
  BOOST_TEST(text.out.find("MON-1  mon (monitor) DM") != std::string::npos, text.out);
  // The trial report recounts them: one read, two refusals, none outside a grant.
  Run report = n.Do({"report", "trial", "--trial", kTrial, "--format", "text"});
  BOOST_TEST(
      report.out.find("accesses recorded: 1 granted, 2 refused; accesses outside grants: 0") !=
          std::string::npos,
      report.out);
  BOOST_TEST(report.out.find("revoked MON-1") != std::string::npos, report.out);
}

BOOST_AUTO_TEST_SUITE_END()
