// The supply chain from the shell with its data in PostgreSQL (`init --storage
// postgresql://…`, a throwaway cluster: tests/common/pg_cluster.h): every later command
// finds the storage the directory records; the rules refuse on PostgreSQL as on SQLite;
// `log audit` replays the log against the derived tables in the server; tokens are kept
// in the same database.
#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "cli_run.h"
#include "common/pg_cluster.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

BOOST_AUTO_TEST_SUITE(cli_postgres)

BOOST_AUTO_TEST_CASE(a_pack_travels_to_the_patient_on_postgresql_and_the_audit_is_clean) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  const std::string url = PgCluster::Shared().NewDatabase();
  Run init = Cli(
      {"init", "--dir", dir, "--origin", "example.org/cli-pg", "--supply-chain", "--storage", url});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  BOOST_TEST(!std::filesystem::exists(std::filesystem::path(dir) / "ledger.db"));
  const std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
    return r;
  };
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "ph.pem"}).rc == 0);
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer", "--prefixes", "9506000", "--glns", "9506000000008", "--key", tmp / "mfg.pem",
       "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"org", "register", "--authority-key", authority, "--id", "ph", "--name", "Pharmacy",
       "--roles", "dispenser", "--prefixes", "4000001", "--glns", "4000001000005", "--key",
       tmp / "ph.pem", "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2028-03-31", "--quantity", "10"});
  run({"commission", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--location",
       "9506000000008", "--serials", "A1,A2"});
  run({"ship", "--as", "mfg", "--code", "(01)09506000134352(21)A1", "--to", "ph", "--to-location",
       "4000001000005", "--despatch-advice", "DA-1"});
  // The rules refuse on PostgreSQL too: only the consignee receives.
  Run wrong = Cli({"receive", "--dir", dir, "--as", "mfg", "--from", "mfg", "--despatch-advice",
                   "DA-1", "--location", "9506000000008"});
  BOOST_TEST(wrong.rc == 1);
  run({"receive", "--as", "ph", "--from", "mfg", "--despatch-advice", "DA-1", "--location",
       "4000001000005"});

  Run verified = Cli({"verify", "--dir", dir, "--code", "(01)09506000134352(21)A1"});
  BOOST_TEST(verified.rc == 0, verified.err);
  BOOST_TEST(verified.out.find("VERIFIED") == 0u, verified.out);
  run({"dispense", "--as", "ph", "--code", "(01)09506000134352(21)A1", "--location",
       "4000001000005"});
  Run dispensed = Cli({"verify", "--dir", dir, "--code", "(01)09506000134352(21)A1", "--json"});
  BOOST_TEST(dispensed.rc == 3, dispensed.err);
  BOOST_TEST(!ParseJson(dispensed.out).value().find("verified")->as_bool());

  Run audit = Cli({"log", "audit", "--dir", dir, "--json"});
  BOOST_TEST(audit.rc == 0, audit.out + audit.err);
  const JsonValue report = ParseJson(audit.out).value();
  BOOST_TEST(report.find("derived")->find("ok")->as_bool());
  BOOST_TEST(report.find("derived")->find("mismatches")->as_int() == 0);
  BOOST_TEST(PgCluster::Value(url, "SELECT holder FROM packs WHERE serial = 'A1'") == "ph");

  // Tokens live in the same database: issued against the registry there.
  Run token = Cli({"token", "issue", "--dir", dir, "--org", "ph", "--roles", "dispenser"});
  BOOST_TEST(token.rc == 0, token.err);
  BOOST_TEST(PgCluster::Value(url, "SELECT org_id FROM api_tokens") == "ph");
  BOOST_TEST(!std::filesystem::exists(std::filesystem::path(dir) / "tokens.db"));
  Run refused = Cli({"token", "issue", "--dir", dir, "--org", "ph", "--roles", "manufacturer"});
  BOOST_TEST(refused.rc != 0);

  // A row edited in the server behind the log is found by the audit.
  PgCluster::Run(url, "UPDATE packs SET lot = 'L9' WHERE serial = 'A2'");
  Run tampered = Cli({"log", "audit", "--dir", dir, "--json"});
  BOOST_TEST(tampered.rc != 0);
  BOOST_TEST(ParseJson(tampered.out).value().find("code")->as_string() == "audit.derived_mismatch");
}

BOOST_AUTO_TEST_CASE(init_refuses_an_unreachable_or_malformed_storage_naming_the_server) {
  TempDir tmp;
  Run unreachable =
      Cli({"init", "--dir", tmp / "a", "--origin", "example.org/cli-pg", "--supply-chain",
           "--storage", "postgresql://node:hunter2-secret@/ledger?host=/nonexistent-pg-dir"});
  BOOST_TEST(unreachable.rc == 1);
  BOOST_TEST(unreachable.err.find("storage.unavailable") != std::string::npos, unreachable.err);
  BOOST_TEST(unreachable.err.find("/nonexistent-pg-dir") != std::string::npos);
  BOOST_TEST(unreachable.err.find("hunter2") == std::string::npos);
  Run malformed =
      Cli({"init", "--dir", tmp / "b", "--origin", "example.org/cli-pg", "--storage", "mysql://x"});
  BOOST_TEST(malformed.rc == 2);
  BOOST_TEST(malformed.err.find("cli.usage") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
