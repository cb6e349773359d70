// `pedigree witness init|serve` argument handling (the server itself is tested over a socket
// in tests/services/http/witness_server_test.cpp and by tests/interop/run.sh).
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "common/read_file.h"
#include "common/temp_dir.h"
#include "common/witness_testing.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/reports/bundle.h"
#include "services/cli/cli_run.h"

namespace pedigree::services {

using pedigree::testing::TempDir;
using testing::Cli;

BOOST_AUTO_TEST_SUITE(cli_witness)

BOOST_AUTO_TEST_CASE(init_prints_the_cosignature_verifier_key_and_refuses_an_existing_dir) {
  TempDir tmp;
  const std::string dir = tmp / "w";
  auto first = Cli({"witness", "init", "--dir", dir, "--name", "witness.example/cli"});
  BOOST_REQUIRE_EQUAL(first.rc, 0);
  auto vkey = log::NoteVerifier::Parse(first.out.substr(0, first.out.size() - 1));
  BOOST_REQUIRE(vkey.has_value());
  BOOST_TEST(vkey->name() == "witness.example/cli");
  BOOST_TEST((vkey->type() == log::NoteKeyType::kCosignatureV1));
  BOOST_TEST(std::filesystem::exists(dir + "/witness-key.pem"));
  auto again = Cli({"witness", "init", "--dir", dir, "--name", "witness.example/cli"});
  BOOST_TEST(again.rc == 1);
  BOOST_TEST(again.err.find("witness.exists") != std::string::npos);
  BOOST_TEST(Cli({"witness", "init", "--dir", tmp / "x"}).rc == 2);
  BOOST_TEST(Cli({"witness", "init", "--dir", tmp / "y", "--name", "bad name"}).rc == 1);
}

BOOST_AUTO_TEST_CASE(serve_refuses_bad_configuration_before_listening) {
  TempDir tmp;
  const std::string dir = tmp / "w";
  BOOST_REQUIRE_EQUAL(Cli({"witness", "init", "--dir", dir, "--name", "w.example/a"}).rc, 0);
  pedigree::testing::SigningLog log;
  auto no_log = Cli({"witness", "serve", "--dir", dir});
  BOOST_TEST(no_log.rc == 2);
  BOOST_TEST(no_log.err.find("--log") != std::string::npos);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", "not-a-key"}).rc == 2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", log.vkey(), "--rate", "x"}).rc == 2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", dir, "--log", log.vkey(), "--prefix", "p/"}).rc ==
             2);
  BOOST_TEST(Cli({"witness", "serve", "--dir", tmp / "none", "--log", log.vkey()}).rc == 1);
}

BOOST_AUTO_TEST_CASE(verify_bundle_and_report_with_a_policy_need_its_quorum) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  auto init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-policy", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  auto init_json = ParseJson(init.out).value();
  std::string authority = init_json.find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    auto r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  };
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer", "--prefixes", "9506000", "--glns", "9506000000008", "--key", tmp / "mfg.pem",
       "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1"});
  const std::string code = "(01)09506000134352(21)A1";
  run({"bundle", "pack", code, "-o", tmp / "a1.json"});

  log::NoteSigner a("a.example/w", pedigree::testing::WitnessTestKey(0x40),
                    log::NoteKeyType::kCosignatureV1);
  log::NoteSigner b("b.example/w", pedigree::testing::WitnessTestKey(0x50),
                    log::NoteKeyType::kCosignatureV1);
  std::string vkey = pedigree::testing::ReadFile(dir + "/log.vkey");
  vkey.erase(vkey.find_last_not_of("\n") + 1);
  const std::string policy = tmp / "policy";
  std::ofstream(policy) << "log " << vkey << "\nwitness a " << a.VerifierKey() << "\nwitness b "
                        << b.VerifierKey() << "\ngroup both all a b\nquorum both\n";

  // Not cosigned: FAILED (exit 4) with checkpoint.quorum; the policy stands in for --trust.
  auto unwitnessed = Cli({"verify-bundle", tmp / "a1.json", "--policy", policy});
  BOOST_TEST(unwitnessed.rc == 4, unwitnessed.err);
  BOOST_TEST(unwitnessed.out.find("checkpoint.quorum") != std::string::npos, unwitnessed.out);
  auto report = Cli({"report", "pack", code, "--dir", dir, "--policy", policy});
  BOOST_TEST(report.rc == 4, report.err);
  BOOST_TEST(report.out.find("the policy needs all of {a, b}") != std::string::npos);
  auto audit = Cli({"report", "audit", "--dir", dir, "--policy", policy});
  BOOST_TEST(audit.rc == 4, audit.err);
  // Without the policy: as before.
  BOOST_TEST(Cli({"verify-bundle", tmp / "a1.json", "--trust", dir + "/log.vkey"}).rc == 0);

  // Both witnesses cosign the bundle's checkpoint: VERIFIED.
  auto evidence = reports::ReadBundle(pedigree::testing::ReadFile(tmp / "a1.json")).value();
  evidence.checkpoint = log::Cosign(evidence.checkpoint, a, 1'700'000'000).value();
  evidence.checkpoint = log::Cosign(evidence.checkpoint, b, 1'700'000'000).value();
  std::ofstream(tmp / "a1-cosigned.json") << reports::WriteBundle(evidence);
  auto witnessed = Cli({"verify-bundle", tmp / "a1-cosigned.json", "--policy", policy});
  BOOST_TEST(witnessed.rc == 0, witnessed.out + witnessed.err);

  // A bad policy file is refused naming its line and column; a --trust key not in the policy
  // is a usage error.
  std::ofstream(tmp / "bad") << "witness a " << a.VerifierKey() << "\nquorum c\n";
  auto bad = Cli({"verify-bundle", tmp / "a1.json", "--policy", tmp / "bad", "--trust", vkey});
  BOOST_TEST(bad.rc == 1);
  BOOST_TEST(bad.err.find("policy.unknown_name") != std::string::npos, bad.err);
  BOOST_TEST(bad.err.find("line 2 column 8") != std::string::npos, bad.err);
  auto other = Cli({"verify-bundle", tmp / "a1.json", "--policy", policy, "--trust",
                    pedigree::testing::SigningLog().vkey()});
  BOOST_TEST(other.rc == 2, other.err);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
