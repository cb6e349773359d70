// The CLI against a running `pedigree serve` over a real socket: organisations that the
// node knows only by their public keys work from another directory with a token and their
// own key; reads are fetched, refusals and transport failures are coded errors.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "cli_run.h"
#include "common/read_file.h"
#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/sql.h"
#include "pedigree/log/sqlite_storage.h"

extern char** environ;

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

constexpr const char* kGtin = "09506000134352";

// `pedigree serve --port 0` as a child process; stopped (SIGTERM, waited for) on destruction.
class Served {
 public:
  explicit Served(const std::string& dir, std::vector<std::string> extra = {}) {
    int fds[2];
    BOOST_REQUIRE(::pipe(fds) == 0);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addclose(&actions, fds[0]);
    std::vector<std::string> args = {PEDIGREE_BINARY, "serve", "--dir",     dir,
                                     "--port",        "0",     "--threads", "4"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid_, PEDIGREE_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    BOOST_REQUIRE(rc == 0);
    // "pedigree serving DIR on http(s)://127.0.0.1:PORT  (log ...)"
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    auto at = line.find(" on http");
    if (at != std::string::npos) at += 4;
    BOOST_REQUIRE_MESSAGE(at != std::string::npos, "serve said: " + line);
    auto end = line.find(' ', at);
    url_ = line.substr(at, end - at);
  }
  ~Served() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

std::string PublicKeyB64(const std::string& pem) {
  return ToBase64(log::PrivateKey::LoadPem(pem).value().public_key().raw());
}

// A supply-chain node in `node` whose registry knows "mfg" (manufacturer) and "pharmacy"
// (dispenser) and "reg" (regulator) by public key only; their keys are made in `client`, and
// each gets a token. `authority` is the consortium authority's key file the node's init made.
struct Network {
  std::string node, client, mfg_token, pharmacy_token, regulator_token, authority;
};

Network MakeNetwork(TempDir& tmp) {
  Network n{tmp / "node", tmp / "client", "", "", "", ""};
  std::filesystem::create_directories(n.client);
  Run init = Cli({"init", "--dir", n.node, "--origin", "example.org/remote", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  n.authority = authority;
  for (auto [id, roles, gln] : {std::tuple{"mfg", "manufacturer", "9506000000008"},
                                {"pharmacy", "dispenser", "9506000000015"},
                                {"reg", "regulator", "9506000000022"}}) {
    std::string pem = n.client + "/" + id + ".pem";
    BOOST_REQUIRE(Cli({"keygen", "--out", pem}).rc == 0);
    std::vector<std::string> args = {"org",
                                     "register",
                                     "--dir",
                                     n.node,
                                     "--authority-key",
                                     authority,
                                     "--id",
                                     id,
                                     "--name",
                                     id,
                                     "--roles",
                                     roles,
                                     "--glns",
                                     gln,
                                     "--public-key",
                                     PublicKeyB64(pem),
                                     "--valid-from",
                                     "2026-01-01T00:00:00Z"};
    if (std::string(id) == "mfg") args.insert(args.end(), {"--prefixes", "9506000"});
    Run reg = Cli(args);
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
    Run token = Cli({"token", "issue", "--dir", n.node, "--org", id, "--roles", roles, "--json"});
    BOOST_REQUIRE_MESSAGE(token.rc == 0, token.err);
    const std::string issued = ParseJson(token.out).value().find("token")->as_string();
    if (std::string(id) == "mfg") n.mfg_token = issued;
    if (std::string(id) == "pharmacy") n.pharmacy_token = issued;
    if (std::string(id) == "reg") n.regulator_token = issued;
  }
  return n;
}

// `pedigree ARGS --server URL --token T [--key K]`, run from the client's directory only.
Run Remote(const std::string& url, const std::string& token, std::vector<std::string> args,
           const std::string& key = "") {
  args.insert(args.end(), {"--server", url, "--token", token});
  if (!key.empty()) args.insert(args.end(), {"--key", key});
  return Cli(args);
}

std::string ErrorCode(const Run& r) {
  auto parsed = ParseJson(r.err);
  if (!parsed || !parsed->find("error")) return "";
  return parsed->find("error")->find("code")->as_string();
}

// A write by the manufacturer from the client directory, signed with its own key; must succeed.
Run MfgWrites(const Network& n, const std::string& url, const std::vector<std::string>& args) {
  Run r = Remote(url, n.mfg_token, args, n.client + "/mfg.pem");
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  return r;
}

// The manufacturer registers the product kGtin and its batch L1 on the node, remotely.
void RegisterProductAndBatch(const Network& n, const std::string& url) {
  MfgWrites(n, url,
            {"product", "register", "--as", "mfg", "--gtin", kGtin, "--name", "Examplamab"});
  MfgWrites(n, url,
            {"batch", "register", "--as", "mfg", "--gtin", kGtin, "--lot", "L1", "--expiry",
             "2028-03-31", "--quantity", "10"});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_remote)

BOOST_AUTO_TEST_CASE(organisations_sign_locally_and_the_node_only_sequences) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  const std::string mfg_key = n.client + "/mfg.pem";
  const std::string ph_key = n.client + "/pharmacy.pem";
  auto mfg = [&](const std::vector<std::string>& args) { return MfgWrites(n, url, args); };
  RegisterProductAndBatch(n, url);
  Run commissioned = mfg({"commission", "--as", "mfg", "--gtin", kGtin, "--lot", "L1", "--location",
                          "9506000000008", "--generate", "2", "--json"});
  JsonValue c = ParseJson(commissioned.out).value();
  BOOST_TEST(c.find("kind")->as_string() == "commission");
  std::vector<std::string> serials;
  for (const JsonValue& s : c.find("serials")->as_array()) serials.push_back(s.as_string());
  BOOST_REQUIRE(serials.size() == 2u);
  const std::string a = std::string("(01)") + kGtin + "(21)" + serials[0];
  const std::string b = std::string("(01)") + kGtin + "(21)" + serials[1];

  // The commission entry is signed by the manufacturer's own key, which the node never had.
  Run entry = Remote(url, n.mfg_token,
                     {"log", "entry", "--index", std::to_string(c.find("index")->as_int())});
  BOOST_REQUIRE_MESSAGE(entry.rc == 0, entry.err);
  std::string envelope = entry.out.substr(0, entry.out.size() - 1);
  auto opened = log::OpenEntry(envelope);
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(ToBase64(opened->key.raw()) == PublicKeyB64(mfg_key));
  BOOST_TEST(!std::filesystem::exists(n.node + "/keys/mfg.pem"));

  mfg({"ship", "--as", "mfg", "--code", a + "," + b, "--to", "pharmacy", "--to-location",
       "9506000000015", "--despatch-advice", "DA-1"});
  Run received = Remote(url, n.pharmacy_token,
                        {"receive", "--as", "pharmacy", "--from", "mfg", "--despatch-advice",
                         "DA-1", "--location", "9506000000015"},
                        ph_key);
  BOOST_REQUIRE_MESSAGE(received.rc == 0, received.err);
  BOOST_TEST(received.out.find("receive: recorded as ledger entry ") == 0u);

  Run verified = Remote(url, n.pharmacy_token, {"verify", "--code", a});
  BOOST_TEST(verified.rc == 0);
  BOOST_TEST(verified.out.find("VERIFIED") == 0u);
  BOOST_TEST(verified.out.find("product Examplamab, batch L1") != std::string::npos);

  auto dispense = [&] {
    return Remote(url, n.pharmacy_token,
                  {"dispense", "--as", "pharmacy", "--code", a, "--location", "9506000000015"},
                  ph_key);
  };
  Run dispensed = dispense();
  BOOST_REQUIRE_MESSAGE(dispensed.rc == 0, dispensed.err);
  // A refusal by the rules is the node's error, shown and exited with as locally.
  Run again = dispense();
  BOOST_TEST(again.rc == 1);
  BOOST_TEST(ErrorCode(again) == "alert.already_decommissioned");
  BOOST_TEST(again.err.find("nextStep") != std::string::npos);

  Run not_verified = Remote(url, n.pharmacy_token, {"verify", "--code", a, "--json"});
  BOOST_TEST(not_verified.rc == 3);
  BOOST_TEST(!ParseJson(not_verified.out).value().find("verified")->as_bool());

  Run history = Remote(url, n.pharmacy_token, {"history", a, "--json"});
  BOOST_REQUIRE_MESSAGE(history.rc == 0, history.err);
  // commission, ship, receive, supply (the alert of the second dispense is the pharmacy's)
  BOOST_TEST(ParseJson(history.out).value().size() >= 4u);

  Run alerts = Remote(url, n.pharmacy_token, {"alerts", "--json"});
  BOOST_REQUIRE_MESSAGE(alerts.rc == 0, alerts.err);
  BOOST_TEST(ParseJson(alerts.out).value().size() == 1u);

  // Reports are fetched as JSON and rendered here; bundles are written as served and
  // verify offline against the log key.
  Run report = Remote(url, n.pharmacy_token, {"report", "pack", b, "--format", "text"});
  BOOST_TEST_MESSAGE(report.err);
  BOOST_TEST(report.rc == 0);
  BOOST_TEST(report.out.find("VERIFIED") != std::string::npos);
  const std::string bundle = n.client + "/bundle.json";
  Run bundled = Remote(url, n.pharmacy_token, {"bundle", "pack", b, "-o", bundle});
  BOOST_REQUIRE_MESSAGE(bundled.rc == 0, bundled.err);
  Run checkpoint = Remote(url, n.pharmacy_token, {"log", "checkpoint"});
  BOOST_REQUIRE(checkpoint.rc == 0);
  BOOST_TEST(checkpoint.out.find("example.org/remote\n") == 0u);
  Run offline = Cli({"verify-bundle", bundle, "--trust", n.node + "/log.vkey", "--format", "json"});
  BOOST_TEST(offline.rc == 0, offline.out + offline.err);
  // An inclusion proof is checked against the signed checkpoint before it is printed, so it
  // needs the log's key; then it is the local command's proof.
  Run unchecked = Remote(url, n.pharmacy_token, {"log", "prove", "--index", "3"});
  BOOST_TEST(unchecked.rc == 2);
  BOOST_TEST(unchecked.out.empty());
  BOOST_TEST(unchecked.err.find("--trust") != std::string::npos, unchecked.err);
  Run prove =
      Remote(url, n.pharmacy_token,
             {"log", "prove", "--index", "3", "--size", "5", "--trust", n.node + "/log.vkey"});
  BOOST_REQUIRE_MESSAGE(prove.rc == 0, prove.err);
  BOOST_TEST(ParseJson(prove.out).value().find("leaf_hash") != nullptr);
  Run local = Cli({"log", "prove", "--dir", n.node, "--index", "3", "--size", "5"});
  BOOST_TEST(local.rc == 0, local.err);
  BOOST_TEST(prove.out == local.out);
  Run wrong_key = Remote(url, n.pharmacy_token,
                         {"log", "prove", "--index", "3", "--trust", n.client + "/mfg.pem"});
  BOOST_TEST(wrong_key.rc != 0);
  BOOST_TEST(wrong_key.out.empty());
}

BOOST_AUTO_TEST_CASE(remote_refusals_are_coded_errors) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  const std::string mfg_key = n.client + "/mfg.pem";
  std::vector<std::string> product = {"product", "register", "--as",   "mfg",
                                      "--gtin",  kGtin,      "--name", "X"};

  // A write without the organisation's key: the node holds none, so it is a usage error.
  Run keyless = Remote(url, n.mfg_token, product);
  BOOST_TEST(keyless.rc == 2);
  BOOST_TEST(ErrorCode(keyless) == "cli.usage");
  BOOST_TEST(keyless.err.find("--key") != std::string::npos);

  Run wrong_token = Remote(url, "pdg_not-a-token", product, mfg_key);
  BOOST_TEST(wrong_token.rc == 1);
  BOOST_TEST(ErrorCode(wrong_token) == "auth.bad_token");

  // The pharmacy's token cannot post the manufacturer's events.
  Run other_org = Remote(url, n.pharmacy_token, product, mfg_key);
  BOOST_TEST(other_org.rc == 1);
  BOOST_TEST(ErrorCode(other_org).rfind("auth.", 0) == 0u);

  Run unreachable = Cli({"verify", "--code", "(01)09506000134352(21)A1", "--server",
                         "http://127.0.0.1:1", "--token", n.mfg_token});
  BOOST_TEST(unreachable.rc == 1);
  BOOST_TEST(ErrorCode(unreachable) == "client.unreachable");

  Run plain = Cli({"verify", "--code", "(01)09506000134352(21)A1", "--server",
                   "http://example.org:8080", "--token", n.mfg_token});
  BOOST_TEST(ErrorCode(plain) == "client.insecure_http");

  // A token file others may read is refused like a private key; 0600 works.
  const std::string token_file = n.client + "/token";
  std::ofstream(token_file) << n.mfg_token << "\n";
  ::chmod(token_file.c_str(), 0644);
  Run loose = Cli({"alerts", "--server", url, "--token-file", token_file});
  BOOST_TEST(ErrorCode(loose) == "client.token_file_permissions");
  ::chmod(token_file.c_str(), 0600);
  Run tight = Cli({"alerts", "--server", url, "--token-file", token_file, "--json"});
  BOOST_TEST(tight.rc == 0, tight.err);
  // What `token issue > F` writes (its JSON answer) serves as a token file too; JSON
  // without a token is a usage error naming the option.
  std::ofstream(token_file, std::ios::trunc)
      << R"({"note":"shown once","org":"mfg","token":")" << n.mfg_token << "\"}\n";
  Run issued = Cli({"alerts", "--server", url, "--token-file", token_file, "--json"});
  BOOST_TEST(issued.rc == 0, issued.err);
  std::ofstream(token_file, std::ios::trunc) << R"({"org":"mfg"})";
  Run tokenless = Cli({"alerts", "--server", url, "--token-file", token_file});
  BOOST_TEST(tokenless.rc == 2);
  BOOST_TEST(ErrorCode(tokenless) == "cli.usage");
  BOOST_TEST(tokenless.err.find("token-file") != std::string::npos);

  // Commands that need the ledger's directory say so instead of ignoring --server.
  Run local_only = Cli({"log", "audit", "--server", url});
  BOOST_TEST(local_only.rc == 2);
  BOOST_TEST(ErrorCode(local_only) == "cli.usage");
}

// TLS: the node's certificate must chain to the system store or to --ca.
BOOST_AUTO_TEST_CASE(tls_needs_a_trusted_certificate) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  const std::string key = tmp / "tls-key.pem", cert = tmp / "tls-cert.pem";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
      "-subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
      key + " -out " + cert + " >/dev/null 2>&1";
  BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "openssl CLI failed: " + command);
  Served served(n.node, {"--tls-cert", cert, "--tls-key", key});
  BOOST_REQUIRE(served.url().rfind("https://", 0) == 0u);
  Run untrusted = Cli({"log", "checkpoint", "--server", served.url()});
  BOOST_TEST(untrusted.rc == 1);
  BOOST_TEST(ErrorCode(untrusted) == "client.tls", untrusted.err);
  Run trusted = Cli({"log", "checkpoint", "--server", served.url(), "--ca", cert});
  BOOST_TEST(trusted.rc == 0, trusted.err);
  BOOST_TEST(trusted.out.find("example.org/remote\n") == 0u);
  Run verify = Remote(served.url(), n.pharmacy_token,
                      {"verify", "--code", std::string("(01)") + kGtin + "(21)A1", "--ca", cert});
  BOOST_TEST(verify.rc == 3, verify.err);  // answered over TLS: not a known pack
}

// Reads open the ledger read-only, without the lock `serve` holds; writes still take it.
BOOST_AUTO_TEST_CASE(local_reads_work_beside_a_running_serve_and_never_migrate) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  const std::string db = n.node + "/" + log::kLedgerDbFile;
  {
    Served served(n.node);
    Run product = Remote(served.url(), n.mfg_token,
                         {"product", "register", "--as", "mfg", "--gtin", kGtin, "--name", "X"},
                         n.client + "/mfg.pem");
    BOOST_REQUIRE_MESSAGE(product.rc == 0, product.err);
    Run verify = Cli(
        {"verify", "--dir", n.node, "--code", std::string("(01)") + kGtin + "(21)NOPE", "--json"});
    BOOST_TEST(verify.rc == 3, verify.err);  // answered: an unknown pack, not ledger.locked
    BOOST_TEST(ParseJson(verify.out).value().find("status")->as_string() == "unknown");
    Run alerts = Cli({"alerts", "--dir", n.node, "--json"});
    BOOST_TEST(alerts.rc == 0, alerts.err);
    Run checkpoint = Cli({"log", "checkpoint", "--dir", n.node});
    BOOST_TEST(checkpoint.rc == 0, checkpoint.err);
    BOOST_TEST(checkpoint.out.find("example.org/remote\n4\n") == 0u, checkpoint.out);
    Run entry = Cli({"log", "entry", "--dir", n.node, "--index", "2"});
    BOOST_TEST(entry.rc == 0, entry.err);
    Run prove = Cli({"log", "prove", "--dir", n.node, "--index", "2"});
    BOOST_TEST(prove.rc == 0, prove.err);
    // A write still needs the lock.
    Run write = Cli({"product", "register", "--dir", n.node, "--as", "mfg", "--gtin", kGtin,
                     "--name", "Y", "--key", n.client + "/mfg.pem"});
    BOOST_TEST(write.rc == 1);
    BOOST_TEST(ErrorCode(write) == "ledger.locked");
  }
  // An older schema is not migrated by a reader: a coded error, and the file is untouched.
  const int current = log::SqliteStorage::SchemaVersion();
  {
    auto db_rw = log::sql::Connection::Open(db, {});
    BOOST_REQUIRE(db_rw.has_value());
    BOOST_REQUIRE(db_rw->Exec("PRAGMA user_version = " + std::to_string(current - 1)).has_value());
  }
  Run old = Cli({"verify", "--dir", n.node, "--code", std::string("(01)") + kGtin + "(21)A1"});
  BOOST_TEST(old.rc == 1);
  BOOST_TEST(ErrorCode(old) == "storage.schema_not_migrated");
  auto db_ro = log::OpenSqliteReadOnly(db);
  BOOST_REQUIRE(db_ro.has_value());
  auto q = db_ro->Prepare("PRAGMA user_version");
  BOOST_REQUIRE(q.has_value());
  BOOST_REQUIRE(q->Step().value());
  BOOST_TEST(q->Int(0) == current - 1);
}

// A trial network: the sponsor "sp", the site "s1" and the monitor "mon" (role site), known
// to the node by public key only; keys in the client directory, a token each.
struct TrialNetwork {
  std::string node, client;
  std::map<std::string, std::string> tokens;
  std::string Key(const std::string& org) const { return client + "/" + org + ".pem"; }
};

TrialNetwork MakeTrialNetwork(TempDir& tmp) {
  TrialNetwork n{tmp / "node", tmp / "client", {}};
  std::filesystem::create_directories(n.client);
  Run init =
      Cli({"init", "--dir", n.node, "--origin", "example.org/trial-remote", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"mon", "site"}}) {
    BOOST_REQUIRE(Cli({"keygen", "--out", n.Key(org)}).rc == 0);
    Run reg = Cli({"org", "register", "--dir", n.node, "--authority-key", authority, "--id", org,
                   "--name", org, "--roles", role, "--public-key", PublicKeyB64(n.Key(org)),
                   "--valid-from", "2026-01-01T00:00:00Z"});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
    Run token = Cli({"token", "issue", "--dir", n.node, "--org", org, "--roles", role, "--json"});
    BOOST_REQUIRE_MESSAGE(token.rc == 0, token.err);
    n.tokens[org] = ParseJson(token.out).value().find("token")->as_string();
  }
  return n;
}

const std::string kTrial = "2026-500001-12-00";

// `trial ARGS --trial T --as ORG --name … --meaning …` against the node with ORG's token and,
// when `signed_here`, ORG's key.
Run TrialAs(const TrialNetwork& n, const std::string& url, const std::string& org,
            std::vector<std::string> args, bool signed_here = true) {
  args.insert(args.begin(), "trial");
  args.insert(args.end(), {"--trial", kTrial, "--as", org, "--name", "Dr " + org, "--meaning",
                           org == "sp" ? "approval" : "authorship"});
  return Remote(url, n.tokens.at(org), args, signed_here ? n.Key(org) : "");
}

BOOST_AUTO_TEST_CASE(trial_parties_sign_locally_and_a_remote_receipt_verifies_offline) {
  TempDir tmp;
  TrialNetwork n = MakeTrialNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  auto ok = [&](const std::string& org, std::vector<std::string> args) {
    Run r = TrialAs(n, url, org, args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, args[0] << ": " << r.err);
    return r;
  };
  const std::string c = n.client;
  std::ofstream(c + "/protocol.md") << "# Protocol\n";
  std::ofstream(c + "/outcomes.json") << R"({"primary":["HbA1c"],"secondary":[]})";
  std::ofstream(c + "/icf.txt") << "Informed consent form, version 2.0\n";
  const std::string secret = "c0ffee5a1t-remote-subject-001";
  const std::string subject = ToHex(Sha256(secret));
  std::ofstream(c + "/subject.secret") << secret << "\n";
  std::ofstream(c + "/enrol.json") << R"({"subjectRef":")" << subject << R"("})";

  // The sponsor sets the trial up from its own directory.
  ok("sp",
     {"register", "--registry", kTrial, "--title", "Study", "--sites", "s1", "--arms", "A:Active"});
  ok("sp", {"protocol", "--file", c + "/protocol.md", "--outcomes", c + "/outcomes.json"});
  ok("sp", {"consent-form", "--file", c + "/icf.txt", "--version", "2.0", "--country", "DE",
            "--language", "de", "--ethics-ref", "EC-1", "--approved", "2026-01-01", "--effective",
            "2026-01-01", "--scopes", "core:DM,AE", "--mandatory"});
  Run granted = ok("sp", {"grant", "--grant", "MON-1", "--grantee", "mon", "--purpose", "monitor",
                          "--domains", "DM", "--start", "2026-01-01T00:00:00Z", "--expiry",
                          "2099-01-01T00:00:00Z", "--json"});
  // The grant is signed by the sponsor's own key, which the node never had (read from the
  // node's ledger beside the running serve: the log entry route is not a sponsor's).
  const int64_t grant_index = ParseJson(granted.out).value().find("index")->as_int();
  Run entry = Cli({"log", "entry", "--dir", n.node, "--index", std::to_string(grant_index)});
  BOOST_REQUIRE_MESSAGE(entry.rc == 0, entry.err);
  auto opened = log::OpenEntry(entry.out.substr(0, entry.out.size() - 1));
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(ToBase64(opened->key.raw()) == PublicKeyB64(n.Key("sp")));
  BOOST_TEST(!std::filesystem::exists(n.node + "/keys/sp.pem"));

  // A reader checks a publication's outcomes against the protocol seal on the node.
  std::ofstream(c + "/switched.json") << R"({"primary":[],"secondary":["HbA1c"]})";
  Run consistent =
      Remote(url, n.tokens.at("s1"),
             {"trial", "outcomes", "--trial", kTrial, "--reported", c + "/outcomes.json"});
  BOOST_TEST(consistent.rc == 0, consistent.err);
  BOOST_TEST(consistent.out.find("CONSISTENT") == 0u, consistent.out);
  Run switched = Remote(
      url, n.tokens.at("s1"),
      {"trial", "outcomes", "--trial", kTrial, "--reported", c + "/switched.json", "--json"});
  BOOST_TEST(switched.rc == 3, switched.err);
  BOOST_TEST(ParseJson(switched.out).value().find("moved")->as_array().size() == 1u);

  // The site enrols and records consent.
  ok("s1", {"event", "--kind", "trial.enrol", "--body", c + "/enrol.json"});
  ok("s1", {"consent", "--subject", subject, "--icf-version", "2.0", "--consent-time",
            "2026-02-01T10:00:00Z", "--granted", "core"});

  // The grantee sees its grant; the sponsor all, here the same one.
  Run grants = Remote(url, n.tokens.at("mon"), {"trial", "grants", "--trial", kTrial, "--json"});
  BOOST_REQUIRE_MESSAGE(grants.rc == 0, grants.err);
  JsonValue g = ParseJson(grants.out).value();
  BOOST_REQUIRE(g.find("grants")->as_array().size() == 1u);
  BOOST_TEST(g.find("grants")->as_array()[0].find("grantId")->as_string() == "MON-1");
  Run text = Remote(url, n.tokens.at("sp"), {"trial", "grants", "--trial", kTrial});
  BOOST_REQUIRE_MESSAGE(text.rc == 0, text.err);
  BOOST_TEST(text.out.find("1 grants\n  MON-1  mon (monitor) DM") == 0u, text.out);
  ok("sp", {"revoke-grant", "--grant", "MON-1", "--reason", "visit over"});
  Run revoked = Remote(url, n.tokens.at("sp"), {"trial", "grants", "--trial", kTrial});
  BOOST_TEST(revoked.out.find("revoked at entry") != std::string::npos, revoked.out);

  // The site fetches the participant's receipt; it verifies offline with the log's key.
  const std::string receipt = c + "/receipt.json";
  Run made = Remote(url, n.tokens.at("s1"),
                    {"trial", "receipt", "--trial", kTrial, "--secret-file", c + "/subject.secret",
                     "-o", receipt});
  BOOST_REQUIRE_MESSAGE(made.rc == 0, made.err);
  BOOST_TEST(made.out.find("receipt of subject " + subject) == 0u, made.out);
  Run checked = Cli({"trial", "verify-receipt", receipt, "--trust", n.node + "/log.vkey",
                     "--secret-file", c + "/subject.secret"});
  BOOST_TEST(checked.rc == 0, checked.out + checked.err);

  // The withdrawal, last: after it nothing more is recorded for the subject.
  ok("s1",
     {"withdraw", "--subject", subject, "--time", "2026-03-01T10:00:00Z", "--data", "retain"});
}

BOOST_AUTO_TEST_CASE(remote_trial_refusals_are_coded) {
  TempDir tmp;
  TrialNetwork n = MakeTrialNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  std::vector<std::string> grant = {"grant",
                                    "--grant",
                                    "MON-1",
                                    "--grantee",
                                    "mon",
                                    "--purpose",
                                    "monitor",
                                    "--domains",
                                    "DM",
                                    "--start",
                                    "2026-01-01T00:00:00Z",
                                    "--expiry",
                                    "2099-01-01T00:00:00Z"};
  Run registered = TrialAs(n, url, "sp",
                           {"register", "--registry", kTrial, "--title", "Study", "--sites", "s1",
                            "--arms", "A:Active"});
  BOOST_REQUIRE_MESSAGE(registered.rc == 0, registered.err);

  // Without the organisation's key: a usage error, nothing sent.
  Run keyless = TrialAs(n, url, "sp", grant, /*signed_here=*/false);
  BOOST_TEST(keyless.rc == 2);
  BOOST_TEST(ErrorCode(keyless) == "cli.usage");
  BOOST_TEST(keyless.err.find("--key") != std::string::npos);

  // A site may not grant: the ledger's rules refuse the event it signed.
  Run site_grants = TrialAs(n, url, "s1", grant);
  BOOST_TEST(site_grants.rc == 1);
  BOOST_TEST(ErrorCode(site_grants) == "trial.forbidden_role", site_grants.err);

  // The site's token cannot carry the sponsor's signed event.
  Run relayed = Remote(
      url, n.tokens.at("s1"),
      [&] {
        std::vector<std::string> a = {"trial"};
        a.insert(a.end(), grant.begin(), grant.end());
        a.insert(a.end(),
                 {"--trial", kTrial, "--as", "sp", "--name", "Dr A", "--meaning", "approval"});
        return a;
      }(),
      n.Key("sp"));
  BOOST_TEST(ErrorCode(relayed) == "auth.forbidden_org", relayed.err);

  // A receipt for a secret that names no subject writes nothing.
  const std::string wrong = n.client + "/wrong.secret";
  std::ofstream(wrong) << "no-such-subject\n";
  Run no_receipt = Remote(
      url, n.tokens.at("s1"),
      {"trial", "receipt", "--trial", kTrial, "--secret-file", wrong, "-o", n.client + "/r.json"});
  BOOST_TEST(no_receipt.rc == 1);
  BOOST_TEST(!ErrorCode(no_receipt).empty(), no_receipt.err);
  BOOST_TEST(!std::filesystem::exists(n.client + "/r.json"));

  // A lock is a ledger event: the sponsor signs it here; a site may not lock.
  Run lock = TrialAs(n, url, "sp", {"lock", "--domain", "DM", "--action", "hard_lock"});
  BOOST_TEST(lock.rc == 0, lock.err);
  Run site_locks = TrialAs(n, url, "s1", {"lock", "--domain", "DM", "--action", "unlock"});
  BOOST_TEST(site_locks.rc == 1);
  BOOST_TEST(ErrorCode(site_locks) == "trial.forbidden_role", site_locks.err);

  // A seal is the node's work on its sponsor store: this node has none.
  Run seal = TrialAs(n, url, "sp", {"seal", "--domain", "DM"}, /*signed_here=*/false);
  BOOST_TEST(seal.rc == 1);
  BOOST_TEST(ErrorCode(seal) == "trial.no_store", seal.err);
  // An upload is the node's work on its sponsor store too.
  std::ofstream(n.client + "/dm.csv") << "STUDYID,DOMAIN,USUBJID,AGE\n"
                                      << kTrial << ",DM," << kTrial << "-001,54\n";
  Run submit = TrialAs(n, url, "s1", {"submit", "--file", n.client + "/dm.csv"}, false);
  BOOST_TEST(submit.rc == 1);
  BOOST_TEST(ErrorCode(submit) == "trial.no_store", submit.err);
}

// `trial seal --server`: the records are in the node's sponsor store, so the node seals them
// and signs with the key it holds for the sponsor (node-held-key mode).
BOOST_AUTO_TEST_CASE(a_remote_seal_is_signed_by_the_node_with_the_key_it_holds) {
  TempDir tmp;
  const std::string node = tmp / "node", store = tmp / "sponsor-store.sqlite";
  Run init = Cli({"init", "--dir", node, "--origin", "example.org/trial-seal", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}}) {
    std::string key = tmp / (std::string(org) + ".pem");
    BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
    Run reg =
        Cli({"org", "register", "--dir", node, "--authority-key", authority, "--id", org, "--name",
             org, "--roles", role, "--key", key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
  }
  std::ofstream(tmp / "dm.csv") << "STUDYID,DOMAIN,USUBJID,AGE\n"
                                << kTrial << ",DM," << kTrial << "-001,54\n";
  auto local = [&](const std::string& org, std::vector<std::string> args) {
    args.insert(args.begin(), "trial");
    args.insert(args.end(), {"--dir", node, "--store", store, "--trial", kTrial, "--as", org,
                             "--name", "Dr " + org, "--meaning", "approval"});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, args[1] << ": " << r.err);
  };
  local("sp", {"register", "--registry", kTrial, "--title", "Study", "--sites", "s1", "--arms",
               "A:Active"});
  local("s1", {"submit", "--file", tmp / "dm.csv"});
  local("sp", {"lock", "--domain", "DM", "--action", "hard_lock"});
  Run token = Cli({"token", "issue", "--dir", node, "--org", "sp", "--roles", "sponsor", "--json"});
  BOOST_REQUIRE_MESSAGE(token.rc == 0, token.err);
  const std::string sp_token = ParseJson(token.out).value().find("token")->as_string();

  Served served(node, {"--sponsor-store", store});
  Run sealed = Remote(served.url(), sp_token,
                      {"trial", "seal", "--trial", kTrial, "--domain", "DM", "--as", "sp", "--name",
                       "Dr A", "--meaning", "approval", "--json"});
  BOOST_REQUIRE_MESSAGE(sealed.rc == 0, sealed.err);
  JsonValue seal = ParseJson(sealed.out).value();
  BOOST_TEST(seal.find("recordCount")->as_int() == 1);
  BOOST_TEST(seal.find("root")->as_string().size() == 64u);
  // Sealed once: the node refuses a second seal of the unchanged domain.
  Run again = Remote(served.url(), sp_token,
                     {"trial", "seal", "--trial", kTrial, "--domain", "DM", "--as", "sp", "--name",
                      "Dr A", "--meaning", "approval"});
  BOOST_TEST(again.rc == 1);
  BOOST_TEST(ErrorCode(again) == "trial.already_sealed", again.err);
}

// The store-side trial commands from the parties' own machines: a site uploads its dataset
// and the sponsor seals, redacts and honours withdrawals through the node's routes (the node
// signs with the key it holds for the token's organisation, so --as must name it); a grantee
// verifies a candidate file and takes a disclosure, each read recorded, and is refused once
// its grant is revoked.
BOOST_AUTO_TEST_CASE(store_side_trial_commands_work_against_the_node_with_its_keys) {
  TempDir tmp;
  const std::string node = tmp / "node", store = tmp / "sponsor-store.sqlite";
  const std::string client = tmp / "client";
  std::filesystem::create_directories(client);
  Run init = Cli({"init", "--dir", node, "--origin", "example.org/trial-store", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  std::map<std::string, std::string> tokens;
  for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}, {"mon", "site"}}) {
    std::string key = client + "/" + org + ".pem";
    BOOST_REQUIRE(Cli({"keygen", "--out", key}).rc == 0);
    Run reg =
        Cli({"org", "register", "--dir", node, "--authority-key", authority, "--id", org, "--name",
             org, "--roles", role, "--key", key, "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
    Run token = Cli({"token", "issue", "--dir", node, "--org", org, "--roles", role, "--json"});
    BOOST_REQUIRE_MESSAGE(token.rc == 0, token.err);
    tokens[org] = ParseJson(token.out).value().find("token")->as_string();
  }
  const std::string dm = client + "/dm.csv", tampered = client + "/dm-received.csv";
  std::ofstream(dm) << "STUDYID,DOMAIN,USUBJID,AGE\n"
                    << kTrial << ",DM," << kTrial << "-001,54\n"
                    << kTrial << ",DM," << kTrial << "-002,61\n";
  std::ofstream(tampered) << "STUDYID,DOMAIN,USUBJID,AGE\n"
                          << kTrial << ",DM," << kTrial << "-001,45\n"
                          << kTrial << ",DM," << kTrial << "-002,61\n";
  Served served(node, {"--sponsor-store", store});
  const std::string url = served.url();
  // `trial ARGS --trial T --as AS --name … --meaning …` with ORG's token (and ORG's key when
  // `signed_here`).
  auto as = [&](const std::string& org, const std::string& acting, std::vector<std::string> args,
                bool signed_here = false) {
    args.insert(args.begin(), "trial");
    args.insert(args.end(), {"--trial", kTrial, "--as", acting, "--name", "Dr " + acting,
                             "--meaning", acting == "sp" ? "approval" : "authorship"});
    return Remote(url, tokens.at(org), args, signed_here ? client + "/" + org + ".pem" : "");
  };
  auto ok = [&](const std::string& org, std::vector<std::string> args, bool signed_here = false) {
    Run r = as(org, org, args, signed_here);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, args[0] << ": " << r.err);
    return r;
  };
  ok("sp",
     {"register", "--registry", kTrial, "--title", "Study", "--sites", "s1", "--arms", "A:Active"},
     true);
  ok("sp",
     {"grant", "--grant", "MON-1", "--grantee", "mon", "--purpose", "monitor", "--domains", "DM",
      "--start", "2026-01-01T00:00:00Z", "--expiry", "2099-01-01T00:00:00Z"},
     true);
  std::ofstream(client + "/protocol.md") << "# Protocol\n";
  std::ofstream(client + "/outcomes.json") << R"({"primary":["HbA1c"],"secondary":[]})";
  ok("sp", {"protocol", "--file", client + "/protocol.md", "--outcomes", client + "/outcomes.json"},
     true);
  // Two subjects enrolled under the secrets their site handed out.
  std::ofstream subjects(client + "/subjects.csv");
  for (const char* n : {"001", "002"}) {
    const std::string secret = std::string("remote-store-subject-") + n;
    std::ofstream(client + "/" + n + ".secret") << secret;
    std::ofstream(client + "/enrol-" + n + ".json")
        << R"({"subjectRef":")" << ToHex(Sha256(secret)) << R"("})";
    ok("s1", {"event", "--kind", "trial.enrol", "--body", client + "/enrol-" + n + ".json"}, true);
    subjects << kTrial << "-" << n << "," << ToHex(Sha256(secret)) << "\n";
  }
  subjects.close();

  // The site uploads the file as it is, with its subjects' references; the node parses it
  // and signs for s1.
  Run submitted = ok("s1", {"submit", "--file", dm, "--subjects", client + "/subjects.csv"});
  BOOST_TEST(
      submitted.out.find("DM: 2 records submitted (0 replacing earlier ones, 0 unchanged)") == 0u,
      submitted.out);
  // The node signs for the token's organisation only: --as naming another is a usage error.
  Run other = as("s1", "sp", {"submit", "--file", dm});
  BOOST_TEST(other.rc == 2);
  BOOST_TEST(ErrorCode(other) == "cli.usage", other.err);
  BOOST_TEST(other.err.find("s1") != std::string::npos, other.err);
  Run local_store = as("s1", "s1", {"submit", "--file", dm, "--store", store});
  BOOST_TEST(local_store.rc == 2);
  BOOST_TEST(ErrorCode(local_store) == "cli.usage", local_store.err);

  ok("sp", {"lock", "--domain", "DM", "--action", "hard_lock"}, true);
  Run seal_for_site = as("sp", "s1", {"seal", "--domain", "DM"});
  BOOST_TEST(seal_for_site.rc == 2);
  BOOST_TEST(ErrorCode(seal_for_site) == "cli.usage", seal_for_site.err);
  ok("sp", {"seal", "--domain", "DM"});

  // The grantee holds files against the seal: the verdict, as locally.
  Run same = Remote(url, tokens.at("mon"), {"trial", "verify", "--trial", kTrial, "--file", dm});
  BOOST_TEST(same.rc == 0, same.err);
  BOOST_TEST(same.out.find("IDENTICAL  " + dm + " against the seal at ledger entry") == 0u,
             same.out);
  // --file-hash: the node holds the bytes sent against the hash given (byteExact).
  Run other_bytes = Remote(
      url, tokens.at("mon"),
      {"trial", "verify", "--trial", kTrial, "--file", dm, "--file-hash", std::string(64, '0')});
  BOOST_TEST(other_bytes.rc == 3, other_bytes.err);
  BOOST_TEST(other_bytes.out.find("  file hash " + ToHex(Sha256(pedigree::testing::ReadFile(dm))) +
                                  " differs from the recorded " + std::string(64, '0')) !=
                 std::string::npos,
             other_bytes.out);
  Run changed =
      Remote(url, tokens.at("mon"),
             {"trial", "verify", "--trial", kTrial, "--file", tampered, "--domain", "DM"});
  BOOST_TEST(changed.rc == 3, changed.err);
  BOOST_TEST(changed.out.find("CHANGED  " + tampered + " against the DM seal") == 0u, changed.out);
  BOOST_TEST(changed.out.find("    AGE: 54 -> 45\n") != std::string::npos, changed.out);
  Run changed_json = Remote(url, tokens.at("mon"),
                            {"trial", "verify", "--trial", kTrial, "--file", tampered, "--json"});
  BOOST_TEST(changed_json.rc == 3, changed_json.err);
  BOOST_TEST(ParseJson(changed_json.out).value().find("changed")->as_array().size() == 1u);

  // A disclosure, written as the node answered and verified offline with the log's key.
  const std::string key = std::string(kTrial) + "|" + kTrial + "-002";  // STUDYID|USUBJID
  const std::string disclosure = client + "/dm-002.disclosure.json";
  Run disclosed = Remote(url, tokens.at("mon"),
                         {"trial", "disclose", "--trial", kTrial, "--domain", "DM", "--key", key,
                          "--out", disclosure});
  BOOST_REQUIRE_MESSAGE(disclosed.rc == 0, disclosed.err);
  Run verified = Cli({"trial", "verify-disclosure", disclosure, "--trust", node + "/log.vkey"});
  BOOST_TEST(verified.rc == 0, verified.out + verified.err);
  BOOST_TEST(verified.out.find("VERIFIED  record") == 0u, verified.out);
  // The reader is the token's organisation.
  Run for_other = Remote(
      url, tokens.at("mon"),
      {"trial", "disclose", "--trial", kTrial, "--domain", "DM", "--key", key, "--for", "s1"});
  BOOST_TEST(for_other.rc == 2);
  BOOST_TEST(ErrorCode(for_other) == "cli.usage", for_other.err);

  // A site may not redact (the route is the sponsor's); the sponsor may.
  Run site_redacts = as("s1", "s1", {"redact", "--domain", "DM", "--key", key, "--reason", "typo"});
  BOOST_TEST(site_redacts.rc == 1);
  BOOST_TEST(ErrorCode(site_redacts) == "auth.forbidden_role", site_redacts.err);
  Run redacted = ok("sp", {"redact", "--domain", "DM", "--key", key, "--reason",
                           "name typed into a free-text field"});
  BOOST_TEST(redacted.out.find("record " + key + " redacted: recorded as ledger entry") == 0u,
             redacted.out);
  Run honoured = ok("sp", {"honour-withdrawals", "--json"});
  BOOST_TEST(ParseJson(honoured.out).value().find("redacted")->as_int() == 0);

  // Subject 001's receipt lists the reads that returned its record: the two checks of
  // dm-received.csv (its AGE changed there), not the identical file's check (nothing
  // returned) nor the disclosure of 002.
  const std::string receipt = client + "/receipt-001.json";
  Run made = Remote(url, tokens.at("s1"),
                    {"trial", "receipt", "--trial", kTrial, "--secret-file", client + "/001.secret",
                     "-o", receipt});
  BOOST_REQUIRE_MESSAGE(made.rc == 0, made.err);
  Run checked = Cli({"trial", "verify-receipt", receipt, "--trust", node + "/log.vkey",
                     "--secret-file", client + "/001.secret", "--format", "json"});
  BOOST_TEST(checked.rc == 0, checked.out + checked.err);
  BOOST_TEST(
      ParseJson(checked.out).value().find("summary")->as_string().find("2 recorded access(es)") !=
          std::string::npos,
      checked.out);

  // Revoked, the grant covers no more reads: refused, and the refusal recorded.
  ok("sp", {"revoke-grant", "--grant", "MON-1", "--reason", "visit over"}, true);
  Run after = Remote(url, tokens.at("mon"), {"trial", "verify", "--trial", kTrial, "--file", dm});
  BOOST_TEST(after.rc == 1);
  BOOST_TEST(ErrorCode(after) == "trial.no_grant", after.err);
  Run record = Cli({"trial", "grants", "--dir", node, "--trial", kTrial, "--json"});
  BOOST_REQUIRE_MESSAGE(record.rc == 0, record.err);
  const JsonValue accesses = *ParseJson(record.out).value().find("accesses");
  std::vector<std::string> outcomes;
  for (const JsonValue& a : accesses.as_array()) outcomes.push_back(a.find("outcome")->as_string());
  // Four checks of files and one disclosure, then the refusal.
  BOOST_TEST(outcomes == (std::vector<std::string>{"granted", "granted", "granted", "granted",
                                                   "granted", "refused"}),
             record.out);
}

// `report audit` fetches GET /v1/reports/audit (regulator or witness) and renders it here
// with the local renderers; a dispenser's token is refused by the node's role check.
BOOST_AUTO_TEST_CASE(a_regulator_audits_a_remote_ledger) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();

  Run audit = Remote(url, n.regulator_token, {"report", "audit", "--format", "json"});
  BOOST_REQUIRE_MESSAGE(audit.rc == 0, audit.err);
  auto report = ParseJson(audit.out);
  BOOST_REQUIRE(report.has_value());
  BOOST_REQUIRE(report->find("verdict") != nullptr);
  BOOST_TEST(report->find("verdict")->as_string() == "VERIFIED", audit.out);
  Run text = Remote(url, n.regulator_token, {"report", "audit", "--format", "text"});
  BOOST_TEST(text.rc == 0, text.err);
  BOOST_TEST(!text.out.empty());

  Run dispenser = Remote(url, n.pharmacy_token, {"report", "audit"});
  BOOST_TEST(dispenser.rc == 1);
  BOOST_TEST(ErrorCode(dispenser) == "auth.forbidden_role", dispenser.err);

  // The node audits with its own key: a local trust anchor has nothing to act on there.
  Run trust = Remote(url, n.regulator_token, {"report", "audit", "--trust", "x.vkey"});
  BOOST_TEST(trust.rc == 2);
  BOOST_TEST(ErrorCode(trust) == "cli.usage");
}

// `log consistency` with --server prints the local command's proof only once it verified
// here against the log's signed checkpoint (--trust); the roots are the local ones.
BOOST_AUTO_TEST_CASE(a_remote_consistency_proof_is_checked_before_it_is_printed) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  const std::string vkey = n.node + "/log.vkey";
  Run checkpoint = Remote(url, n.pharmacy_token, {"log", "checkpoint"});
  BOOST_REQUIRE_MESSAGE(checkpoint.rc == 0, checkpoint.err);
  const std::string size = checkpoint.out.substr(
      checkpoint.out.find('\n') + 1,
      checkpoint.out.find('\n', checkpoint.out.find('\n') + 1) - checkpoint.out.find('\n') - 1);
  BOOST_REQUIRE(std::stoi(size) >= 3);

  for (auto [from, to] :
       {std::pair<std::string, std::string>{"1", "2"}, {"1", size}, {size, size}}) {
    Run remote = Remote(url, n.pharmacy_token,
                        {"log", "consistency", "--from", from, "--to", to, "--trust", vkey});
    BOOST_REQUIRE_MESSAGE(remote.rc == 0, remote.err);
    Run local = Cli({"log", "consistency", "--dir", n.node, "--from", from, "--to", to});
    BOOST_REQUIRE_MESSAGE(local.rc == 0, local.err);
    BOOST_TEST(remote.out == local.out);
  }

  // Nothing unverified is printed: without the log's key the command refuses.
  Run untrusted = Remote(url, n.pharmacy_token, {"log", "consistency", "--from", "1", "--to", "2"});
  BOOST_TEST(untrusted.rc == 2);
  BOOST_TEST(ErrorCode(untrusted) == "cli.usage");
  BOOST_TEST(untrusted.out.empty());
  // A range past the log is the node's coded refusal.
  Run beyond = Remote(url, n.pharmacy_token,
                      {"log", "consistency", "--from", "1", "--to", "999", "--trust", vkey});
  BOOST_TEST(beyond.rc == 1);
  BOOST_TEST(!ErrorCode(beyond).empty(), beyond.err);
  BOOST_TEST(beyond.out.empty());
}

// `epcis export` with --server fetches GET /v1/epcis/events?epc=CODE and writes the document
// as the local command does (JSON-LD, or the XML binding); the pack scope is the node's.
BOOST_AUTO_TEST_CASE(a_remote_epcis_export_is_the_local_document) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  RegisterProductAndBatch(n, url);
  MfgWrites(n, url,
            {"commission", "--as", "mfg", "--gtin", kGtin, "--lot", "L1", "--location",
             "9506000000008", "--serials", "E1"});
  const std::string code = std::string("(01)") + kGtin + "(21)E1";

  Run remote = Remote(url, n.mfg_token, {"epcis", "export", code});
  BOOST_REQUIRE_MESSAGE(remote.rc == 0, remote.err);
  Run local = Cli({"epcis", "export", "--dir", n.node, code});
  BOOST_REQUIRE_MESSAGE(local.rc == 0, local.err);
  auto remote_doc = ParseJson(remote.out);
  auto local_doc = ParseJson(local.out);
  BOOST_REQUIRE(remote_doc.has_value());
  BOOST_REQUIRE(local_doc.has_value());
  // The same events; only the document's creationDate is each export's own.
  BOOST_TEST(Canonicalize(*remote_doc->find("epcisBody")) ==
             Canonicalize(*local_doc->find("epcisBody")));
  BOOST_TEST(remote_doc->find("epcisBody")->find("eventList")->as_array().size() == 1u);

  const std::string xml_file = n.client + "/e1.xml";
  Run xml = Remote(url, n.mfg_token, {"epcis", "export", code, "--format", "xml", "-o", xml_file});
  BOOST_REQUIRE_MESSAGE(xml.rc == 0, xml.err);
  BOOST_TEST(pedigree::testing::ReadFile(xml_file).find("EPCISDocument") != std::string::npos);

  // The pharmacy never held the pack: the node's pack scope does not even confirm it exists.
  Run outsider = Remote(url, n.pharmacy_token, {"epcis", "export", code});
  BOOST_TEST(outsider.rc == 1);
  BOOST_TEST(ErrorCode(outsider) == "pack.not_found", outsider.err);
  BOOST_TEST(outsider.out.empty());
}

// `epcis capture FILE` with --server maps the document here as the local command does, signs
// each event with the organisation's --key and posts the envelopes; a re-sent event appends
// nothing; without --key it is the supply writes' usage error.
BOOST_AUTO_TEST_CASE(a_remote_epcis_capture_is_signed_by_the_client) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  const std::string mfg_key = n.client + "/mfg.pem";
  auto mfg = [&](const std::vector<std::string>& args) { return MfgWrites(n, url, args); };
  RegisterProductAndBatch(n, url);
  // A minute ago: event times are checked against the sequencing time.
  std::time_t t = std::time(nullptr) - 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char time[32];
  std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string doc = n.client + "/commission.jsonld";
  std::ofstream(doc) << R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning",)"
                     << R"("eventTime":")" << time << R"(","eventTimeZoneOffset":"+00:00",)"
                     << R"("epcList":["https://id.gs1.org/01/09506000134352/21/C1"],)"
                     << R"("bizLocation":{"id":"https://id.gs1.org/414/9506000000008"},)"
                     << R"("ilmd":{"cbvmda:lotNumber":"L1"}})";

  Run keyless = Remote(url, n.mfg_token, {"epcis", "capture", doc, "--as", "mfg"});
  BOOST_TEST(keyless.rc == 2);
  BOOST_TEST(ErrorCode(keyless) == "cli.usage");
  BOOST_TEST(keyless.err.find("--key") != std::string::npos);

  Run captured = mfg({"epcis", "capture", doc, "--as", "mfg"});
  const JsonValue first = ParseJson(captured.out).value().find("events")->as_array().at(0);
  BOOST_TEST(first.find("kind")->as_string() == "commission");
  // Signed by the manufacturer's own key, which the node never had.
  Run entry = Remote(url, n.mfg_token,
                     {"log", "entry", "--index", std::to_string(first.find("index")->as_int())});
  BOOST_REQUIRE_MESSAGE(entry.rc == 0, entry.err);
  auto opened = log::OpenEntry(entry.out.substr(0, entry.out.size() - 1));
  BOOST_REQUIRE(opened.has_value());
  BOOST_TEST(ToBase64(opened->key.raw()) == PublicKeyB64(mfg_key));

  Run again = mfg({"epcis", "capture", doc, "--as", "mfg"});
  const JsonValue twin = ParseJson(again.out).value().find("events")->as_array().at(0);
  BOOST_TEST(twin.find("eventID")->as_string() == first.find("eventID")->as_string());
  BOOST_TEST(twin.find("index")->as_int() == first.find("index")->as_int());

  Run verified = Remote(url, n.mfg_token,
                        {"verify", "--code", std::string("(01)") + kGtin + "(21)C1", "--json"});
  BOOST_TEST(verified.rc == 0, verified.out + verified.err);

  // A party named by GLN is resolved by the node's registry (GET /v1/glns/{gln}), as locally:
  // the pharmacy's GLN names the pharmacy.
  const std::string ship = n.client + "/ship.jsonld";
  std::ofstream(ship) << R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping",)"
                      << R"("eventTime":")" << time << R"(","eventTimeZoneOffset":"+00:00",)"
                      << R"("epcList":["https://id.gs1.org/01/09506000134352/21/C1"],)"
                      << R"("bizTransactionList":[{"type":"desadv","bizTransaction":"DA-9"}],)"
                      << R"("destinationList":[{"type":"owning_party",)"
                      << R"("destination":"https://id.gs1.org/417/9506000000015"}]})";
  Run by_gln = Remote(url, n.mfg_token, {"epcis", "capture", ship, "--as", "mfg"}, mfg_key);
  BOOST_REQUIRE_MESSAGE(by_gln.rc == 0, by_gln.err);
  BOOST_TEST(
      ParseJson(by_gln.out).value().find("events")->as_array().at(0).find("kind")->as_string() ==
      "ship");
  Run moving = Remote(url, n.mfg_token,
                      {"verify", "--code", std::string("(01)") + kGtin + "(21)C1", "--json"});
  BOOST_TEST(ParseJson(moving.out).value().find("inTransitTo")->as_string() == "pharmacy",
             moving.out);
  // A GLN nobody registered is no organisation, as locally: refused before anything is posted.
  std::string unknown = pedigree::testing::ReadFile(ship);
  unknown.replace(unknown.find("9506000000015"), 13, "9506000000039");
  std::ofstream(ship, std::ios::trunc) << unknown;
  Run by_unknown = Remote(url, n.mfg_token, {"epcis", "capture", ship, "--as", "mfg"}, mfg_key);
  BOOST_TEST(by_unknown.rc == 1);
  BOOST_TEST(ErrorCode(by_unknown) == "event.unknown_org", by_unknown.err);
  BOOST_TEST(by_unknown.out.empty());
}

// A remote capture with rollback (the default) posts the document's envelopes together to
// POST /v1/events/batch: a refused third event writes nothing of it; with proceed the events
// before the refusal are written.
BOOST_AUTO_TEST_CASE(a_remote_epcis_capture_is_all_or_nothing_by_default) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Served served(n.node);
  const std::string url = served.url();
  const std::string mfg_key = n.client + "/mfg.pem";
  RegisterProductAndBatch(n, url);
  std::time_t t = std::time(nullptr) - 60;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char time[32];
  std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%SZ", &tm);
  auto commission = [&](const std::string& serial) {
    return std::string(R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning",)") +
           R"("eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00",)" +
           R"("epcList":["https://id.gs1.org/01/09506000134352/21/)" + serial + R"("],)" +
           R"("bizLocation":{"id":"https://id.gs1.org/414/9506000000008"},)" +
           R"("ilmd":{"cbvmda:lotNumber":"L1"}})";
  };
  // R9 was never commissioned: the node's rules refuse its shipment.
  const std::string ship_r9 =
      std::string(R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping",)") +
      R"("eventTime":")" + time + R"(","eventTimeZoneOffset":"+00:00",)" +
      R"("epcList":["https://id.gs1.org/01/09506000134352/21/R9"],)" +
      R"("bizTransactionList":[{"type":"desadv","bizTransaction":"DA-R9"}],)" +
      R"("destinationList":[{"type":"owning_party",)" +
      R"("destination":"https://id.gs1.org/417/9506000000015"}]})";
  const std::string doc = n.client + "/shift.jsonld";
  std::ofstream(doc) << R"({"type":"EPCISDocument","schemaVersion":"2.0",)"
                     << R"("creationDate":"2026-12-07T00:00:00Z","epcisBody":{"eventList":[)"
                     << commission("R1") << "," << commission("R2") << "," << ship_r9 << ","
                     << commission("R3") << "]}}";
  auto status = [&](const std::string& serial) {
    Run v = Remote(url, n.mfg_token,
                   {"verify", "--code", std::string("(01)") + kGtin + "(21)" + serial, "--json"});
    auto parsed = ParseJson(v.out);
    return parsed ? parsed->find("status")->as_string() : v.out + v.err;
  };
  Run refused = Remote(url, n.mfg_token, {"epcis", "capture", doc, "--as", "mfg"}, mfg_key);
  BOOST_TEST(refused.rc == 1);
  BOOST_TEST(refused.out.empty(), refused.out);
  auto err = ParseJson(refused.err);
  BOOST_REQUIRE_MESSAGE(err.has_value(), refused.err);
  BOOST_TEST(err->find("error")->find("field")->as_string() == "/epcisBody/eventList/2",
             refused.err);
  BOOST_TEST(refused.err.find("nothing of the batch was written") != std::string::npos,
             refused.err);
  for (const char* serial : {"R1", "R2", "R3"}) BOOST_TEST(status(serial) == "unknown", serial);

  Run proceed =
      Remote(url, n.mfg_token,
             {"epcis", "capture", doc, "--as", "mfg", "--error-behaviour", "proceed"}, mfg_key);
  BOOST_TEST(proceed.rc == 1);
  BOOST_TEST(ParseJson(proceed.out).value().find("events")->size() == 2u);
  BOOST_TEST(status("R1") == "active");
  BOOST_TEST(status("R3") == "unknown");
  // The fixed document (without the shipment) all at once: R1 and R2 are duplicates.
  std::string fixed = pedigree::testing::ReadFile(doc);
  fixed.replace(fixed.find(ship_r9 + ","), ship_r9.size() + 1, "");
  std::ofstream(doc, std::ios::trunc) << fixed;
  Run captured = Remote(url, n.mfg_token, {"epcis", "capture", doc, "--as", "mfg"}, mfg_key);
  BOOST_REQUIRE_MESSAGE(captured.rc == 0, captured.err);
  const JsonValue answer = ParseJson(captured.out).value();
  const auto& events = answer.find("events")->as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 3u);
  BOOST_TEST(events[0].find("duplicate")->as_bool());
  BOOST_TEST(events[1].find("duplicate")->as_bool());
  BOOST_TEST(events[2].find("duplicate") == nullptr);
  BOOST_TEST(status("R3") == "active");
}

// `org register|key-add|key-revoke` with --server: signed here with the consortium authority
// key and posted to POST /v1/events, which takes an event of another organisation than the
// token's (here "authority") only from the operator's admin token.
BOOST_AUTO_TEST_CASE(registry_events_are_signed_by_the_authority_and_posted_by_the_operator) {
  TempDir tmp;
  Network n = MakeNetwork(tmp);
  Run admin_token = Cli({"token", "issue", "--dir", n.node, "--org", "reg", "--roles", "admin",
                         "--operator-org", "reg", "--json"});
  BOOST_REQUIRE_MESSAGE(admin_token.rc == 0, admin_token.err);
  const std::string admin = ParseJson(admin_token.out).value().find("token")->as_string();
  Served served(n.node, {"--operator-org", "reg"});
  const std::string url = served.url();
  const std::string whs_key = n.client + "/whs.pem";
  const std::string whs_key2 = n.client + "/whs2.pem";
  BOOST_REQUIRE(Cli({"keygen", "--out", whs_key}).rc == 0);
  BOOST_REQUIRE(Cli({"keygen", "--out", whs_key2}).rc == 0);
  const std::vector<std::string> register_whs = {"org",
                                                 "register",
                                                 "--authority-key",
                                                 n.authority,
                                                 "--id",
                                                 "whs",
                                                 "--name",
                                                 "Wholesaler",
                                                 "--roles",
                                                 "wholesaler",
                                                 "--glns",
                                                 "9506000000039",
                                                 "--public-key",
                                                 PublicKeyB64(whs_key),
                                                 "--valid-from",
                                                 "2026-01-01T00:00:00Z"};

  // A manufacturer's token may not post the authority's event.
  Run as_mfg = Remote(url, n.mfg_token, register_whs);
  BOOST_TEST(as_mfg.rc == 1);
  BOOST_TEST(ErrorCode(as_mfg) == "auth.forbidden_org", as_mfg.err);
  // The node never receives a private key, so it cannot hold one.
  std::vector<std::string> held = {
      "org", "register", "--authority-key", n.authority, "--id",  "whs",   "--name",
      "W",   "--roles",  "wholesaler",      "--key",     whs_key, "--hold"};
  Run hold = Remote(url, admin, held);
  BOOST_TEST(hold.rc == 2);
  BOOST_TEST(ErrorCode(hold) == "cli.usage");

  Run registered = Remote(url, admin, register_whs);
  BOOST_REQUIRE_MESSAGE(registered.rc == 0, registered.err);
  BOOST_TEST(registered.out.find("org register: whs recorded as ledger entry ") == 0u);
  // The registry took it: the node issues the new organisation a token for its role.
  Run whs_token = Cli({"token", "issue", "--dir", n.node, "--org", "whs", "--roles", "wholesaler"});
  BOOST_TEST(whs_token.rc == 0, whs_token.err);

  Run added = Remote(url, admin,
                     {"org", "key-add", "--authority-key", n.authority, "--id", "whs",
                      "--public-key", PublicKeyB64(whs_key2), "--json"});
  BOOST_REQUIRE_MESSAGE(added.rc == 0, added.err);
  BOOST_TEST(ParseJson(added.out).value().find("kind")->as_string() == "org.key_add");
  Run revoked = Remote(url, admin,
                       {"org", "key-revoke", "--authority-key", n.authority, "--id", "whs",
                        "--public-key", PublicKeyB64(whs_key)});
  BOOST_REQUIRE_MESSAGE(revoked.rc == 0, revoked.err);
  BOOST_TEST(revoked.out.find("org.key_revoke: whs recorded as ledger entry ") == 0u);

  // A data logger of whs, registered and revoked the same way (docs/epcis.md, "Device-signed
  // sensor data"); a revocation of a logger whs does not have is the rules' refusal.
  const std::string logger = "urn:epc:id:giai:9506000.L1";
  Run device =
      Remote(url, admin,
             {"org", "device-add", "--authority-key", n.authority, "--id", "whs", "--device",
              logger, "--public-key", PublicKeyB64(whs_key2), "--label", "reefer 7", "--json"});
  BOOST_REQUIRE_MESSAGE(device.rc == 0, device.err);
  BOOST_TEST(ParseJson(device.out).value().find("kind")->as_string() == "org.device_add");
  Run device_revoked = Remote(
      url, admin,
      {"org", "device-revoke", "--authority-key", n.authority, "--id", "whs", "--device", logger});
  BOOST_REQUIRE_MESSAGE(device_revoked.rc == 0, device_revoked.err);
  BOOST_TEST(device_revoked.out.find("org.device_revoke: " + logger +
                                     " of whs recorded as ledger entry ") == 0u);
  Run unknown_device = Remote(url, admin,
                              {"org", "device-revoke", "--authority-key", n.authority, "--id",
                               "whs", "--device", "urn:epc:id:giai:9506000.L2"});
  BOOST_TEST(unknown_device.rc == 1);
  BOOST_TEST(ErrorCode(unknown_device) == "sensor.unknown_device", unknown_device.err);

  // Signed by another key than the authority's: the ledger's rules refuse it.
  Run forged = Remote(url, admin,
                      {"org", "key-add", "--authority-key", n.client + "/mfg.pem", "--id", "whs",
                       "--public-key", PublicKeyB64(whs_key)});
  BOOST_TEST(forged.rc == 1);
  BOOST_TEST(ErrorCode(forged) == "event.not_authority", forged.err);
}

namespace {

// A node stand-in on a real loopback socket that answers each request with the next of
// `answers` (the last repeats) and counts the requests: what the client does with a 503
// is the client's behaviour, whatever node sent it.
class ScriptedNode {
 public:
  explicit ScriptedNode(std::vector<std::string> answers) : answers_(std::move(answers)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    BOOST_REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    BOOST_REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedNode() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      const int i = requests_++;
      const std::string& answer = answers_[std::min<size_t>(i, answers_.size() - 1)];
      [[maybe_unused]] ssize_t w = ::write(c, answer.data(), answer.size());
      ::close(c);
    }
  }
  std::vector<std::string> answers_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string Answer503(const std::string& code, const std::string& retry_after) {
  const std::string body = R"({"error":{"code":")" + code + R"(","message":"m"}})";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n" +
         (retry_after.empty() ? "" : "Retry-After: " + retry_after + "\r\n") +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

// During a leader change a follower turns writes away with 503 cluster.no_leader and
// Retry-After (nothing ran, so sending again cannot write twice): the CLI waits and sends
// again until its --timeout is spent; any other 503 is the answer at once.
BOOST_AUTO_TEST_CASE(a_request_turned_away_during_a_leader_change_is_sent_again) {
  {
    ScriptedNode node({Answer503("cluster.no_leader", "1"), Answer503("unavailable", "1")});
    Run run = Cli({"alerts", "--server", node.url(), "--token", "pdg_x", "--json"});
    BOOST_TEST(run.rc == 1);
    BOOST_TEST(ErrorCode(run) == "unavailable");
    BOOST_TEST(node.requests() == 2);
  }
  {
    // Still no leader when the timeout is spent: the node's own answer, not a hang.
    ScriptedNode node({Answer503("cluster.no_leader", "1")});
    Run run =
        Cli({"alerts", "--server", node.url(), "--token", "pdg_x", "--json", "--timeout", "2"});
    BOOST_TEST(ErrorCode(run) == "cluster.no_leader");
    BOOST_TEST(node.requests() >= 1);
    BOOST_TEST(node.requests() <= 3);
  }
  {
    // A 503 without Retry-After, or another code, is not retried.
    ScriptedNode node({Answer503("cluster.no_leader", ""), Answer503("unavailable", "")});
    Run run = Cli({"alerts", "--server", node.url(), "--token", "pdg_x", "--json"});
    BOOST_TEST(ErrorCode(run) == "cluster.no_leader");
    BOOST_TEST(node.requests() == 1);
  }
}

BOOST_AUTO_TEST_SUITE_END()
