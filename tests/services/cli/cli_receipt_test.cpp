// `pedigree trial receipt` and `trial verify-receipt` in-process on a real node directory: a
// participant consents, a monitor reads the record under a grant, the site hands the secret to
// the participant, whose receipt verifies offline with the log's key; another participant's
// secret, a wrong secret and an edited receipt are refused with their codes.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

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
// The secrets the site hands out; subjectRef = SHA-256 of the secret, in hex.
const std::string kSecret = "c0ffee5a1t-subject-001-7f3a9b";
const std::string kOtherSecret = "c0ffee5a1t-subject-002-41d2e8";

struct ReceiptNode {
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
  std::string Secret(const std::string& name, const std::string& secret) {
    std::string path = tmp / name;
    std::ofstream(path) << secret << "\n";  // as `echo` writes it
    return path;
  }

  // Two enrolled and consented subjects with a DM record each, sealed; mon holds a grant on DM
  // and has read subject 001's record once.
  ReceiptNode() {
    Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-receipt", "--supply-chain"});
    BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
    std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
    for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"mon", "site"}}) {
      std::string key = tmp / (std::string(org) + ".pem");
      BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
      Ok({"org", "register", "--authority-key", authority, "--id", org, "--name", org, "--roles",
          role, "--key", key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    }
    const std::string ref1 = ToHex(Sha256(kSecret)), ref2 = ToHex(Sha256(kOtherSecret));
    std::ofstream(tmp / "protocol.md") << "# Protocol\n";
    std::ofstream(tmp / "outcomes.json") << R"({"primary":["HbA1c"],"secondary":[]})";
    std::ofstream(tmp / "icf.pdf") << "%PDF-1.7 informed consent form 1.0";
    std::ofstream(tmp / "dm.csv") << "STUDYID,DOMAIN,USUBJID,AGE\n"
                                  << kTrial << ",DM," << kTrial << "-001,54\n"
                                  << kTrial << ",DM," << kTrial << "-002,61\n";
    std::ofstream(tmp / "subjects.csv") << kTrial << "-001," << ref1 << "\n"
                                        << kTrial << "-002," << ref2 << "\n";
    Ok(Signed({"trial", "register", "--registry", kTrial, "--title", "Study", "--sites", "s1",
               "--arms", "A:Active"},
              "sp"));
    Ok(Signed(
        {"trial", "protocol", "--file", tmp / "protocol.md", "--outcomes", tmp / "outcomes.json"},
        "sp"));
    Ok(Signed({"trial", "consent-form", "--file", tmp / "icf.pdf", "--version", "1.0", "--country",
               "DE", "--language", "de", "--ethics-ref", "EK-117", "--approved", "2026-10-01",
               "--effective", "2026-10-15", "--scopes", "core:DM;samples"},
              "sp"));
    for (const std::string& ref : {ref1, ref2}) {
      std::ofstream(tmp / "enrol.json") << R"({"subjectRef":")" << ref << R"("})";
      Ok(Signed({"trial", "event", "--kind", "trial.enrol", "--body", tmp / "enrol.json"}, "s1"));
      Ok(Signed({"trial", "consent", "--subject", ref, "--icf-version", "1.0", "--consent-time",
                 "2026-10-20T09:00:00Z", "--granted", "core", "--declined", "samples"},
                "s1"));
    }
    Ok(Signed({"trial", "submit", "--file", tmp / "dm.csv", "--subjects", tmp / "subjects.csv"},
              "s1"));
    Ok(Signed({"trial", "lock", "--domain", "DM", "--action", "hard_lock"}, "sp"));
    Ok(Signed({"trial", "seal", "--domain", "DM"}, "sp"));
    Ok(Signed(
        {"trial", "grant", "--grant", "MON-1", "--grantee", "mon", "--purpose", "monitor",
         "--domains", "DM", "--start", "2026-01-01T00:00:00Z", "--expiry", "2099-01-01T00:00:00Z"},
        "sp"));
    Ok({"trial", "disclose", "--trial", kTrial, "--domain", "DM", "--key", kKey, "--for", "mon"});
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_receipt)

BOOST_AUTO_TEST_CASE(participant_receipt_is_written_and_verifies_offline_with_the_log_key) {
  ReceiptNode n;
  const std::string receipt = n.tmp / "receipt.json";
  const std::string secret = n.Secret("subject.secret", kSecret);
  Run made = n.Do({"trial", "receipt", "--trial", kTrial, "--secret-file", secret, "-o", receipt});
  BOOST_REQUIRE_MESSAGE(made.rc == 0, made.err);
  BOOST_TEST(made.out.find("written to " + receipt) != std::string::npos, made.out);
  const std::string file = Slurp(receipt);
  BOOST_TEST(file.find(ToHex(Sha256(kOtherSecret))) == std::string::npos);

  // Offline: no --dir, only the log's verifier key.
  const std::string vkey = n.dir + "/log.vkey";
  Run verified =
      Cli({"trial", "verify-receipt", receipt, "--trust", vkey, "--secret-file", secret});
  BOOST_TEST(verified.rc == 0, verified.out << verified.err);
  BOOST_TEST(verified.out.find("Participant receipt: VERIFIED") != std::string::npos, verified.out);
  BOOST_TEST(verified.out.find("consent to ICF 1.0") != std::string::npos, verified.out);
  BOOST_TEST(verified.out.find("access granted: mon (monitor, grant MON-1) read 1 of your DM") !=
                 std::string::npos,
             verified.out);

  Run json = Cli({"trial", "verify-receipt", receipt, "--trust", vkey, "--format", "json"});
  BOOST_REQUIRE_MESSAGE(json.rc == 0, json.err);
  JsonValue report = ParseJson(json.out).value();
  BOOST_TEST(report.find("report")->as_string() == "receipt");
  BOOST_TEST(report.find("events")->size() == 3u);  // enrolment, consent, the monitor's read

  // The log's signed list of the receipt's entries holds against the ledger.
  Run index = n.Do({"log", "check-index", receipt});
  BOOST_TEST(index.rc == 0, index.out << index.err);
  BOOST_TEST(index.out.find("\"result\":\"HOLDS\"") != std::string::npos, index.out);

  const std::string html = n.tmp / "receipt.html";
  Run printed =
      Cli({"trial", "verify-receipt", receipt, "--trust", vkey, "--format", "html", "-o", html});
  BOOST_TEST(printed.rc == 0, printed.err);
  BOOST_TEST(Slurp(html).find("pedigree receipt report") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(wrong_secret_writes_nothing_and_another_subjects_secret_fails_the_receipt) {
  ReceiptNode n;
  const std::string receipt = n.tmp / "receipt.json";
  Run wrong = n.Do({"trial", "receipt", "--trial", kTrial, "--secret-file",
                    n.Secret("wrong.secret", "not-a-secret-the-site-gave"), "-o", receipt});
  BOOST_TEST(wrong.rc == 1);
  BOOST_TEST(wrong.err.find("trial.receipt_subject_unknown") != std::string::npos, wrong.err);
  BOOST_TEST(wrong.err.find("not-a-secret-the-site-gave") == std::string::npos, wrong.err);
  BOOST_TEST(!std::filesystem::exists(receipt));

  n.Ok({"trial", "receipt", "--trial", kTrial, "--secret-file", n.Secret("subject.secret", kSecret),
        "-o", receipt});
  const std::string vkey = n.dir + "/log.vkey";
  Run other = Cli({"trial", "verify-receipt", receipt, "--trust", vkey, "--secret-file",
                   n.Secret("other.secret", kOtherSecret)});
  BOOST_TEST(other.rc == 4);
  BOOST_TEST(other.out.find("FAILED receipt.wrong_subject") != std::string::npos, other.out);

  // An edited receipt: the consent's declined scope removed from the signed entry.
  std::string file = Slurp(receipt);
  const std::string declined = R"(\"scopesDeclined\":[\"samples\"])";
  size_t at = file.find(declined);
  BOOST_REQUIRE(at != std::string::npos);
  std::ofstream(n.tmp / "edited.json")
      << file.replace(at, declined.size(), R"(\"scopesDeclined\":[])");
  Run edited = Cli({"trial", "verify-receipt", n.tmp / "edited.json", "--trust", vkey});
  BOOST_TEST(edited.rc == 4);
  BOOST_TEST(edited.out.find("FAILED entry.bad_signature") != std::string::npos, edited.out);

  Run missing = Cli({"trial", "verify-receipt", receipt});
  BOOST_TEST(missing.rc == 2);
  BOOST_TEST(missing.err.find("cli.usage") != std::string::npos, missing.err);
}

BOOST_AUTO_TEST_SUITE_END()
