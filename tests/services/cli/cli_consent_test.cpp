// `pedigree trial consent-form / consent / withdraw / honour-withdrawals` and `trial submit
// --subjects` in-process on a real node directory: the sponsor records a consent form, a
// site consents a subject, submissions must name consented subjects, and a withdrawal with
// redaction is carried out by the sponsor and shown in the trial report.
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

struct ConsentNode {
  TempDir tmp;
  std::string dir = tmp / "node";
  std::string subject = ToHex(Sha256("site salt|" + kTrial + "-001"));

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

  ConsentNode() {
    Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-consent", "--supply-chain"});
    BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
    std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
    for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}}) {
      std::string key = tmp / (std::string(org) + ".pem");
      BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
      Ok({"org", "register", "--authority-key", authority, "--id", org, "--name", org, "--roles",
          role, "--key", key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    }
    std::ofstream(tmp / "protocol.md") << "# Protocol\n";
    std::ofstream(tmp / "outcomes.json") << R"({"primary":["HbA1c"],"secondary":[]})";
    std::ofstream(tmp / "icf.pdf") << "%PDF-1.7 informed consent form 1.0";
    std::ofstream(tmp / "enrol.json") << R"({"subjectRef":")" << subject << R"("})";
    std::ofstream(tmp / "dm.csv") << "STUDYID,DOMAIN,USUBJID,AGE\n"
                                  << kTrial << ",DM," << kTrial << "-001,54\n";
    std::ofstream(tmp / "pk.csv") << "STUDYID,DOMAIN,USUBJID,PKSEQ,PKORRES\n"
                                  << kTrial << ",PK," << kTrial << "-001,1,12.5\n";
    std::ofstream(tmp / "subjects.csv") << kTrial << "-001," << subject << "\n";
    Ok(Signed({"trial", "register", "--registry", kTrial, "--title", "Study", "--sites", "s1",
               "--arms", "A:Active"},
              "sp"));
    Ok(Signed(
        {"trial", "protocol", "--file", tmp / "protocol.md", "--outcomes", tmp / "outcomes.json"},
        "sp"));
    Ok(Signed({"trial", "event", "--kind", "trial.enrol", "--body", tmp / "enrol.json"}, "s1"));
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_consent)

BOOST_AUTO_TEST_CASE(consent_gates_submissions_and_withdrawal_redacts_through_the_sponsor) {
  ConsentNode n;
  n.Ok(n.Signed(
      {"trial", "consent-form", "--file", n.tmp / "icf.pdf", "--version", "1.0", "--country", "DE",
       "--language", "de", "--ethics-ref", "EK-117", "--approved", "2026-10-01", "--effective",
       "2026-10-15", "--scopes", "core:DM,AE;substudy_pk:PK;samples", "--mandatory"},
      "sp"));
  auto consent = [&](const std::string& version, const std::string& granted,
                     const std::string& declined) {
    return n.Do(n.Signed({"trial", "consent", "--subject", n.subject, "--icf-version", version,
                          "--consent-time", "2026-10-20T09:00:00Z", "--granted", granted,
                          "--declined", declined, "--witness", "Nurse Ben"},
                         "s1"));
  };
  Run unknown = consent("2.0", "core", "substudy_pk,samples");
  BOOST_TEST(unknown.rc != 0);
  BOOST_TEST(unknown.err.find("trial.unknown_icf_version") != std::string::npos, unknown.err);
  Run core = consent("1.0", "samples", "core,substudy_pk");
  BOOST_TEST(core.err.find("trial.core_declined") != std::string::npos, core.err);

  // Before the consent: the subject's record is refused.
  auto submit = [&](const std::string& file, bool with_subjects) {
    std::vector<std::string> args = {"trial", "submit", "--file", n.tmp / file};
    if (with_subjects) args.insert(args.end(), {"--subjects", n.tmp / "subjects.csv"});
    return n.Do(n.Signed(args, "s1"));
  };
  Run early = submit("dm.csv", true);
  BOOST_TEST(early.err.find("trial.no_consent") != std::string::npos, early.err);

  Run given = consent("1.0", "core,samples", "substudy_pk");
  BOOST_REQUIRE_MESSAGE(given.rc == 0, given.err);
  Run nameless = submit("dm.csv", false);
  BOOST_TEST(nameless.err.find("trial.no_consent") != std::string::npos, nameless.err);
  Run pk = submit("pk.csv", true);
  BOOST_TEST(pk.err.find("trial.scope_not_consented") != std::string::npos, pk.err);
  Run dm = submit("dm.csv", true);
  BOOST_REQUIRE_MESSAGE(dm.rc == 0, dm.err);

  n.Ok(n.Signed({"trial", "withdraw", "--subject", n.subject, "--time", "2026-11-01T10:00:00Z",
                 "--data", "redact"},
                "s1"));
  Run report = n.Do({"report", "trial", "--trial", kTrial, "--format", "json"});
  auto pending = ParseJson(report.out);
  BOOST_REQUIRE_MESSAGE(pending.has_value(), report.out + report.err);
  const JsonValue* c = pending->find("consent");
  BOOST_REQUIRE(c);
  BOOST_TEST(c->find("recordsWithoutConsent")->as_int() == 0);
  BOOST_TEST(c->find("subjectsConsented")->as_int() == 1);
  BOOST_TEST(c->find("withdrawals")->as_array()[0].find("redactionDone")->as_bool() == false);

  Run honoured = n.Do(n.Signed({"trial", "honour-withdrawals", "--json"}, "sp"));
  BOOST_REQUIRE_MESSAGE(honoured.rc == 0, honoured.err);
  BOOST_TEST(ParseJson(honoured.out).value().find("redacted")->as_int() == 1);
  Run after = n.Do({"report", "trial", "--trial", kTrial, "--format", "json"});
  auto done = ParseJson(after.out).value();
  BOOST_TEST(
      done.find("consent")->find("withdrawals")->as_array()[0].find("redactionDone")->as_bool());
  Run text = n.Do({"report", "trial", "--trial", kTrial, "--format", "text"});
  BOOST_TEST(text.out.find("records without valid consent: 0") != std::string::npos, text.out);
  BOOST_TEST(text.out.find("(done)") != std::string::npos, text.out);
  // No new records after the withdrawal.
  Run late = submit("pk.csv", true);
  BOOST_TEST(late.err.find("trial.withdrawn") != std::string::npos, late.err);
}

BOOST_AUTO_TEST_SUITE_END()
