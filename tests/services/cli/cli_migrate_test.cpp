// `pedigree migrate` (docs/deployment.md, "Migration"): the demo's ledger (several
// organisations, packs, shipments, a trial with sealed data and the sponsor's store of its
// records, a token) moved to a throwaway
// PostgreSQL cluster in place and back; `serve` on the result answers verify and a pack
// report byte for byte as the untouched SQLite copy does; a destination holding a ledger is
// refused; a destination edited between an interrupted run and its --resume fails the proof
// and the directory keeps its source.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/pg_cluster.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/provenance/identifiers.h"
#include "services/cli/cli_run.h"
#include "services/cli/process.h"
#include "services/http/http_client.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// The demo's ledger directory (built once per test process), copied to `to` without the
// lock file: each case migrates a copy of its own.
void CopyDemoLedger(const fs::path& to) {
  static TempDir demo;
  static const bool built = [] {
    Run run = Cli({"demo", "--dir", demo / "demo", "--packs-per-batch", "20"});
    BOOST_REQUIRE_MESSAGE(run.rc == 0, run.err);
    // A token, so that the migration has one to carry (hashed, as stored).
    Run token = Cli({"token", "issue", "--dir", demo / "demo/ledger", "--org", "ema-inspector",
                     "--roles", "regulator"});
    BOOST_REQUIRE_MESSAGE(token.rc == 0, token.err);
    std::ofstream(demo / "token") << ParseJson(token.out).value().find("token")->as_string();
    return true;
  }();
  BOOST_REQUIRE(built);
  fs::copy(demo / "demo/ledger", to, fs::copy_options::recursive);
  fs::remove(to / "lock");
  // The sponsor's trial store where the trial commands look by default: migrate moves it.
  fs::copy_file(demo / "demo/sponsor-store.sqlite", to / "sponsor-store.sqlite");
  fs::copy_file(demo / "token", to.parent_path() / "token", fs::copy_options::overwrite_existing);
}

JsonValue Json(const Run& run) {
  auto parsed = ParseJson(run.out);
  BOOST_REQUIRE_MESSAGE(parsed, run.out + run.err);
  return *parsed;
}

// Every check of the proof, by name -> ok.
std::map<std::string, bool> Proof(const JsonValue& out) {
  std::map<std::string, bool> checks;
  for (const JsonValue& c : out.find("proof")->as_array()) {
    checks[c.find("check")->as_string()] = c.find("ok")->as_bool();
  }
  return checks;
}

// `body` without the time of the answer itself (verify's "timestamp", a report's
// "generatedAt"): every other byte must be the same from either storage.
std::string WithoutAnswerTime(const std::string& body) {
  static const std::regex time(R"re("(timestamp|generatedAt)":"[^"]*")re");
  return std::regex_replace(body, time, "\"$1\":\"…\"");
}

// The answers of `serve --dir dir` (a real process on an ephemeral port) to verify and the
// pack report of `code`, as bytes but for the time of the answer.
std::pair<std::string, std::string> Answers(const fs::path& dir, const std::string& code,
                                            const std::string& token) {
  services::testing::Process serve({"serve", "--dir", dir, "--port", "0"},
                                   dir.parent_path() / (dir.filename().string() + ".serve.out"));
  const std::string url = serve.AwaitOutput(R"( on (http://127\.0\.0\.1:\d+))");
  Poco::Net::HTTPClientSession session(
      "127.0.0.1", static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1))));
  auto get = [&](const std::string& target) {
    services::testing::Reply reply = services::testing::Exchange(
        session, {.target = target, .headers = {{"Authorization", "Bearer " + token}}});
    BOOST_TEST(reply.status == 200, target << ": " << reply.body);
    return WithoutAnswerTime(reply.body);
  };
  const std::string encoded = provenance::PercentEncode(code);
  return {get("/v1/verify?code=" + encoded), get("/v1/reports/pack?code=" + encoded)};
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_migrate)

BOOST_AUTO_TEST_CASE(a_demo_ledger_moves_to_postgresql_and_back_and_serve_answers_as_before) {
  TempDir tmp;
  const fs::path original = tmp / "original";  // stays on SQLite: the reference answers
  const fs::path node = tmp / "node";
  CopyDemoLedger(original);
  fs::copy(original, node, fs::copy_options::recursive);
  const std::string token = Slurp(tmp / "token");
  const std::string url = PgCluster::Shared().NewDatabase();

  Run to_pg = Cli({"migrate", "--dir", node, "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(to_pg.rc == 0, to_pg.out + to_pg.err);
  const JsonValue out = Json(to_pg);
  BOOST_TEST(out.find("ok")->as_bool());
  BOOST_TEST(out.find("switched")->as_bool());
  BOOST_TEST(out.find("entries")->as_int() > 500);
  for (const auto& [name, ok] : Proof(out)) BOOST_TEST(ok, name);
  for (const char* name :
       {"size", "root", "checkpoint", "checkpoints", "log_audit", "derived_source",
        "derived_destination", "idempotency_keys", "meta", "tokens", "sponsor_store"}) {
    BOOST_TEST(Proof(out).count(name) == 1u, name);
  }
  // The directory now names the database (mode 0600: it may hold a password); the SQLite
  // copy is set aside, not deleted.
  struct stat st {};
  BOOST_REQUIRE(::stat((node / "storage").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600);
  BOOST_TEST(!fs::exists(node / "ledger.db"));
  BOOST_TEST(!fs::exists(node / "tokens.db"));
  BOOST_TEST(PgCluster::Value(url, "SELECT count(*) FROM api_tokens") == "1");
  BOOST_TEST(PgCluster::Value(url, "SELECT count(*) FROM trials") != "0");
  BOOST_TEST(PgCluster::Value(url, "SELECT count(*) FROM seals") != "0");
  BOOST_TEST(!fs::exists(node / "sponsor-store.sqlite"));

  // A record disclosed from the store in PostgreSQL: the same bytes as from the SQLite file.
  const std::string trial = PgCluster::Value(url, "SELECT trial_id FROM seals LIMIT 1");
  const std::string key = PgCluster::Value(
      url,
      "SELECT record_key FROM records WHERE domain = 'AE' AND state = 'current' AND "
      "redacted = 0 ORDER BY id LIMIT 1");
  auto disclose = [&](const fs::path& dir) {
    Run run =
        Cli({"trial", "disclose", "--dir", dir, "--trial", trial, "--domain", "AE", "--key", key});
    BOOST_TEST(run.rc == 0, run.err);
    return run.out;
  };
  const std::string disclosed = disclose(original);
  BOOST_TEST(disclosed.find("pedigree-disclosure/v1") != std::string::npos, disclosed);
  BOOST_TEST(disclose(node) == disclosed);

  const std::string code =
      "https://id.gs1.org/01/" +
      PgCluster::Value(url,
                       "SELECT gtin || '/21/' || serial FROM packs ORDER BY gtin, serial "
                       "LIMIT 1");
  const auto reference = Answers(original, code, token);
  BOOST_TEST(reference.first.find("\"gtin\"") != std::string::npos, reference.first);
  // The token issued on SQLite authenticates on PostgreSQL: its hash was carried over.
  const auto on_postgres = Answers(node, code, token);
  BOOST_TEST(on_postgres.first == reference.first);
  BOOST_TEST(on_postgres.second == reference.second);
  Run audit = Cli({"log", "audit", "--dir", node, "--json"});
  BOOST_TEST(audit.rc == 0, audit.out + audit.err);

  // And back: the directory's SQLite file again, equal again.
  Run to_sqlite = Cli({"migrate", "--dir", node, "--to", "sqlite", "--json"});
  BOOST_REQUIRE_MESSAGE(to_sqlite.rc == 0, to_sqlite.out + to_sqlite.err);
  for (const auto& [name, ok] : Proof(Json(to_sqlite))) BOOST_TEST(ok, name);
  BOOST_TEST(fs::exists(node / "ledger.db"));
  BOOST_TEST(!fs::exists(node / "storage"));
  BOOST_TEST(fs::exists(node / "sponsor-store.sqlite"));
  BOOST_TEST(disclose(node) == disclosed);
  const auto back = Answers(node, code, token);
  BOOST_TEST(back.first == reference.first);
  BOOST_TEST(back.second == reference.second);
}

BOOST_AUTO_TEST_CASE(a_destination_that_holds_a_ledger_is_refused_and_the_directory_is_unchanged) {
  TempDir tmp;
  const std::string url = PgCluster::Shared().NewDatabase();
  Run init = Cli({"init", "--dir", tmp / "other", "--origin", "example.org/other", "--supply-chain",
                  "--storage", url});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  CopyDemoLedger(tmp / "node");
  Run refused = Cli({"migrate", "--dir", tmp / "node", "--to", url});
  BOOST_TEST(refused.rc == 1);
  BOOST_TEST(refused.err.find("migrate.destination_not_empty") != std::string::npos, refused.err);
  BOOST_TEST(refused.err.find("example.org/other") != std::string::npos, refused.err);
  BOOST_TEST(!fs::exists(tmp / "node/storage"));
  BOOST_TEST(PgCluster::Value(url, "SELECT count(*) FROM entries") == "0");
  // --resume does not adopt another ledger's data either.
  Run diverges = Cli({"migrate", "--dir", tmp / "node", "--to", url, "--resume"});
  BOOST_TEST(diverges.rc == 1);
  BOOST_TEST(diverges.err.find("migrate.destination_diverges") != std::string::npos, diverges.err);
  // Already on SQLite: nothing to move.
  Run same = Cli({"migrate", "--dir", tmp / "node", "--to", "sqlite"});
  BOOST_TEST(same.rc == 1);
  BOOST_TEST(same.err.find("migrate.same_storage") != std::string::npos, same.err);
  Run bad = Cli({"migrate", "--dir", tmp / "node", "--to", "mysql://x"});
  BOOST_TEST(bad.rc == 2);
  BOOST_TEST(bad.err.find("cli.usage") != std::string::npos, bad.err);
}

BOOST_AUTO_TEST_CASE(a_destination_edited_before_a_resume_fails_the_proof_and_keeps_the_source) {
  TempDir tmp;
  CopyDemoLedger(tmp / "first");
  fs::copy(tmp / "first", tmp / "second", fs::copy_options::recursive);
  fs::copy(tmp / "first", tmp / "third", fs::copy_options::recursive);
  const std::string url = PgCluster::Shared().NewDatabase();
  // The first run fills the database (standing in for a run interrupted at its end).
  Run first = Cli({"migrate", "--dir", tmp / "first", "--to", url, "--json"});
  BOOST_REQUIRE_MESSAGE(first.rc == 0, first.out + first.err);

  // A derived row edited in the server: the replay on the destination disagrees.
  PgCluster::Run(url,
                 "UPDATE packs SET holder = 'alpha-pharma' WHERE serial = (SELECT min(serial) "
                 "FROM packs)");
  Run derived = Cli({"migrate", "--dir", tmp / "second", "--to", url, "--resume", "--json"});
  BOOST_TEST(derived.rc == 1, derived.out + derived.err);
  BOOST_TEST(derived.err.find("migrate.proof_failed") != std::string::npos, derived.err);
  const JsonValue derived_out = Json(derived);
  BOOST_TEST(!derived_out.find("switched")->as_bool());
  BOOST_TEST(!Proof(derived_out).at("derived_destination"));
  BOOST_TEST(Proof(derived_out).at("derived_source"));
  BOOST_TEST(Proof(derived_out).at("root"));
  BOOST_TEST(!fs::exists(tmp / "second/storage"));
  BOOST_TEST(fs::exists(tmp / "second/ledger.db"));

  // An entry edited behind the append-only triggers: the roots still agree (the hashes were
  // not touched), the audit of the destination recomputes the leaf and finds it.
  PgCluster::Run(url,
                 "ALTER TABLE entries DISABLE TRIGGER USER; "
                 "UPDATE entries SET data = data || '\\x20'::bytea WHERE idx = 7; "
                 "ALTER TABLE entries ENABLE TRIGGER USER");
  Run entry = Cli({"migrate", "--dir", tmp / "third", "--to", url, "--resume", "--json"});
  BOOST_TEST(entry.rc == 1, entry.out + entry.err);
  BOOST_TEST(!Proof(Json(entry)).at("log_audit"));
  BOOST_TEST(!fs::exists(tmp / "third/storage"));
}

BOOST_AUTO_TEST_SUITE_END()
