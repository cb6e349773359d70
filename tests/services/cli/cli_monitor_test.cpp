// `pedigree monitor` against real processes over HTTP: a node (`pedigree serve`), a witness
// (`pedigree witness serve`) and, for the split view, a tiny real HTTP server in this test
// playing a mirror that serves a checkpoint the log key signed for another tree. The monitor
// runs as its own process too. Also `pedigree tiles export` end to end.
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <thread>

#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/log/static_tiles.h"
#include "services/cli/cli_run.h"
#include "services/cli/process.h"

namespace pedigree::services {
namespace {

namespace fs = std::filesystem;
using pedigree::testing::TempDir;

template <typename T>
std::string Why(const Result<T>& r) {
  return r ? std::string() : r.error().ToString();
}
using testing::Cli;

using testing::Process;
using testing::Slurp;

struct Answer {
  int status;
  std::string body;
};

Answer Http(const std::string& method, const std::string& base, const std::string& path,
            const std::string& body = "") {
  Poco::URI uri(base);
  Poco::Net::HTTPClientSession session(uri.getHost(), uri.getPort());
  Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
  if (method == "POST") {
    request.setContentType("text/plain");
    request.setContentLength(static_cast<std::streamsize>(body.size()));
  }
  session.sendRequest(request) << body;
  Poco::Net::HTTPResponse response;
  std::string text;
  Poco::StreamCopier::copyToString(session.receiveResponse(response), text);
  return {static_cast<int>(response.getStatus()), text};
}

// A stand-in mirror: serves `note` at /v1/log/checkpoint and records webhook POSTs.
class FakeMirror {
 public:
  explicit FakeMirror(std::string note) : note_(std::move(note)) {
    Router router;
    BOOST_REQUIRE(router
                      .Add("GET", "/v1/log/checkpoint", Access::Public(),
                           [this](const HttpRequest&) {
                             HttpResponse r;
                             r.content_type = "text/plain; charset=utf-8";
                             r.body = note_;
                             return r;
                           })
                      .has_value());
    BOOST_REQUIRE(router
                      .Add("POST", "/hook", Access::Public(),
                           [this](const HttpRequest& req) {
                             std::lock_guard lock(mutex_);
                             hooks_.push_back(req.body);
                             HttpResponse r;
                             r.status = 204;
                             return r;
                           })
                      .has_value());
    auto server = HttpServer::Start(ServerConfig{}, std::move(router), nullptr);
    BOOST_REQUIRE(server.has_value());
    server_ = std::move(*server);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::vector<std::string> hooks() {
    std::lock_guard lock(mutex_);
    return hooks_;
  }

 private:
  std::string note_;
  std::mutex mutex_;
  std::vector<std::string> hooks_;
  std::unique_ptr<HttpServer> server_;
};

// A supply-chain ledger with two registry entries, and what a test needs to forge with its key.
struct Ledger {
  explicit Ledger(const TempDir& tmp) : dir(tmp / "ledger") {
    BOOST_REQUIRE_EQUAL(
        Cli({"init", "--dir", dir, "--origin", "example.org/monitored", "--supply-chain"}).rc, 0);
    BOOST_REQUIRE_EQUAL(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc, 0);
    BOOST_REQUIRE_EQUAL(Cli({"keygen", "--out", tmp / "ph.pem"}).rc, 0);
    auto reg = Cli({"org", "register", "--authority-key", dir + "/authority-key.pem", "--id", "mfg",
                    "--name", "Maker", "--roles", "manufacturer", "--prefixes", "9506000", "--glns",
                    "9506000000008", "--key", tmp / "mfg.pem", "--hold", "--dir", dir});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
    reg = Cli({"org", "register", "--authority-key", dir + "/authority-key.pem", "--id", "ph",
               "--name", "Pharmacy", "--roles", "dispenser", "--prefixes", "4000001", "--glns",
               "4000001000005", "--key", tmp / "ph.pem", "--hold", "--dir", dir});
    BOOST_REQUIRE_MESSAGE(reg.rc == 0, reg.err);
    vkey_file = dir + "/log.vkey";
    std::string text = Slurp(vkey_file);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    vkey = text;
  }

  // A checkpoint of `size` with a root this log never had, signed with the log's own key:
  // what an operator forking the log would show some parties.
  std::string Forged(uint64_t size) const {
    auto key = log::PrivateKey::LoadPem(dir + "/" + log::kLogKeyFile);
    BOOST_REQUIRE(key.has_value());
    log::NoteSigner signer("example.org/monitored", std::move(*key));
    return log::SignNote(
        log::FormatCheckpoint({"example.org/monitored", size, Sha256("another tree")}), signer);
  }

  std::string dir;
  std::string vkey_file;
  std::string vkey;
};

std::vector<std::string> EvidenceFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(dir, ec)) out.push_back(f.path().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_monitor)

BOOST_AUTO_TEST_CASE(monitor_passes_on_node_and_witness_then_catches_a_forged_mirror) {
  TempDir tmp;
  Ledger ledger(tmp);
  Process node({"serve", "--dir", ledger.dir, "--port", "0"}, tmp / "node.out");
  const std::string node_url = node.AwaitOutput(R"(on (http://127\.0\.0\.1:\d+))");

  auto witness_key = Cli({"witness", "init", "--dir", tmp / "witness", "--name", "w.example/1"});
  BOOST_REQUIRE_EQUAL(witness_key.rc, 0);
  Process witness(
      {"witness", "serve", "--dir", tmp / "witness", "--port", "0", "--log", ledger.vkey},
      tmp / "witness.out");
  const std::string witness_url =
      witness.AwaitOutput(R"(serving (http://[0-9.:]+)/add-checkpoint)");
  // The test plays the log's witness client: the witness cosigns the current checkpoint.
  Answer checkpoint = Http("GET", node_url, "/v1/log/checkpoint");
  BOOST_REQUIRE_EQUAL(checkpoint.status, 200);
  Answer cosigned = Http("POST", witness_url, "/add-checkpoint", "old 0\n\n" + checkpoint.body);
  BOOST_REQUIRE_MESSAGE(cosigned.status == 200, cosigned.body);

  const std::string state = tmp / "state";
  const std::string evidence = tmp / "evidence";
  std::vector<std::string> base{
      "monitor",           "--log",   node_url, "--log-key",  ledger.vkey_file, "--witness",
      "w1=" + witness_url, "--state", state,    "--evidence", evidence,         "--once"};
  {
    Process monitor(base, tmp / "monitor1.out");
    BOOST_TEST_REQUIRE(monitor.Wait() == 0, monitor.Output());
    BOOST_TEST(monitor.Output().find("witness w1 size 2") != std::string::npos, monitor.Output());
  }
  BOOST_TEST(fs::exists(state + "/latest.json"));
  BOOST_TEST(EvidenceFiles(evidence).empty());

  // A mirror showing another tree of size 2, validly signed by the log key: a split view.
  FakeMirror mirror(ledger.Forged(2));
  std::vector<std::string> with_mirror = base;
  with_mirror.insert(with_mirror.end(),
                     {"--mirror", mirror.url(), "--webhook", mirror.url() + "/hook"});
  {
    Process monitor(with_mirror, tmp / "monitor2.out");
    BOOST_TEST_REQUIRE(monitor.Wait() == 4, monitor.Output());
    BOOST_TEST(monitor.Output().find("SPLIT VIEW") != std::string::npos, monitor.Output());
  }
  auto files = EvidenceFiles(evidence);
  BOOST_REQUIRE(!files.empty());
  auto log_key = log::NoteVerifier::Parse(ledger.vkey);
  BOOST_REQUIRE(log_key.has_value());
  std::vector<log::NoteVerifier> verifiers{*log_key};
  for (const std::string& file : files) {
    auto json = ParseJson(Slurp(file));
    BOOST_REQUIRE(json.has_value());
    BOOST_TEST(json->find("type")->as_string() == "pedigree-monitor-evidence/v1");
    BOOST_TEST(json->find("kind")->as_string() == "two_roots_for_one_size");
    std::vector<log::Checkpoint> roots;
    for (const char* side : {"a", "b"}) {
      const JsonValue* o = json->find(side);
      BOOST_REQUIRE(o);
      auto opened = log::OpenNote(o->find("note")->as_string(), verifiers);
      BOOST_REQUIRE_MESSAGE(opened.has_value(), file << " " << side);
      auto cp = log::ParseCheckpoint(opened->text);
      BOOST_REQUIRE(cp.has_value());
      roots.push_back(*cp);
      BOOST_TEST(!o->find("source")->as_string().empty());
      BOOST_TEST(!o->find("url")->as_string().empty());
    }
    BOOST_TEST(roots[0].size == roots[1].size);
    BOOST_TEST((roots[0].root != roots[1].root));
    BOOST_TEST(!json->find("detected_at")->as_string().empty());
  }
  // The webhook received each evidence file as it was written.
  auto hooks = mirror.hooks();
  BOOST_REQUIRE_EQUAL(hooks.size(), files.size());
  for (const std::string& h : hooks) {
    BOOST_TEST((std::find_if(files.begin(), files.end(),
                             [&](const std::string& f) { return Slurp(f) == h; }) != files.end()));
  }
  // The split view did not move the state: it still holds the log's own checkpoint.
  auto saved = ParseJson(Slurp(state + "/latest.json"));
  BOOST_REQUIRE(saved.has_value());
  BOOST_TEST(saved->find("note")->as_string() == checkpoint.body);
}

BOOST_AUTO_TEST_CASE(a_smaller_forged_checkpoint_fails_the_logs_consistency_proof) {
  TempDir tmp;
  Ledger ledger(tmp);
  Process node({"serve", "--dir", ledger.dir, "--port", "0"}, tmp / "node.out");
  const std::string node_url = node.AwaitOutput(R"(on (http://127\.0\.0\.1:\d+))");
  FakeMirror mirror(ledger.Forged(1));
  const std::string evidence = tmp / "evidence";
  Process monitor({"monitor", "--log", node_url, "--log-key", ledger.vkey, "--mirror", mirror.url(),
                   "--evidence", evidence, "--once"},
                  tmp / "monitor.out");
  BOOST_TEST_REQUIRE(monitor.Wait() == 4, monitor.Output());
  auto files = EvidenceFiles(evidence);
  BOOST_REQUIRE_EQUAL(files.size(), 1u);
  auto json = ParseJson(Slurp(files[0]));
  BOOST_REQUIRE(json.has_value());
  BOOST_TEST(json->find("kind")->as_string() == "inconsistent");
  const JsonValue* proof = json->find("proof");
  BOOST_REQUIRE(proof && proof->is_object());
  BOOST_TEST(proof->find("from")->as_int() == 1);
  BOOST_TEST(proof->find("to")->as_int() == 2);
  BOOST_TEST(proof->find("hashes")->as_array().size() == 1u);
  BOOST_TEST(proof->find("failure")->as_string().find("merkle.root_mismatch") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_kept_state_is_checked_against_every_later_round) {
  TempDir tmp;
  Ledger ledger(tmp);
  const std::string state = tmp / "state";
  // A first round saw (only) a forked log and kept its checkpoint.
  FakeMirror fork(ledger.Forged(2));
  auto first =
      Cli({"monitor", "--log", fork.url(), "--log-key", ledger.vkey, "--state", state, "--once"});
  BOOST_REQUIRE_MESSAGE(first.rc == 0, first.err);
  // The real log, later, at the same size: the kept checkpoint and the new one conflict.
  Process node({"serve", "--dir", ledger.dir, "--port", "0"}, tmp / "node.out");
  const std::string node_url = node.AwaitOutput(R"(on (http://127\.0\.0\.1:\d+))");
  Process monitor(
      {"monitor", "--log", node_url, "--log-key", ledger.vkey, "--state", state, "--once"},
      tmp / "monitor.out");
  BOOST_TEST_REQUIRE(monitor.Wait() == 4, monitor.Output());
  auto files = EvidenceFiles(state + "/evidence");
  BOOST_REQUIRE_EQUAL(files.size(), 1u);
  auto json = ParseJson(Slurp(files[0]));
  BOOST_REQUIRE(json.has_value());
  BOOST_TEST(json->find("kind")->as_string() == "two_roots_for_one_size");
  const std::string sources =
      json->find("a")->find("source")->as_string() + json->find("b")->find("source")->as_string();
  BOOST_TEST(sources.find("state (log)") != std::string::npos, sources);
}

BOOST_AUTO_TEST_CASE(refusals_are_coded_and_unreachable_sources_are_not_evidence) {
  TempDir tmp;
  Ledger ledger(tmp);
  // Bad log key: usage-level refusal before any fetch.
  auto bad_key =
      Cli({"monitor", "--log", "http://127.0.0.1:1", "--log-key", "not-a-key", "--once"});
  BOOST_TEST(bad_key.rc == 2);
  BOOST_TEST(bad_key.err.find("monitor.bad_log_key") != std::string::npos, bad_key.err);
  auto bad_witness = Cli({"monitor", "--log", "http://127.0.0.1:1", "--log-key", ledger.vkey,
                          "--witness", "no-equals-sign", "--once"});
  BOOST_TEST(bad_witness.rc == 2);
  BOOST_TEST(bad_witness.err.find("monitor.bad_source") != std::string::npos, bad_witness.err);
  BOOST_TEST(Cli({"monitor", "--log", "ftp://x", "--log-key", ledger.vkey, "--once"}).rc == 2);

  // Nothing listens on the log URL: exit 3, coded, and no evidence.
  const std::string evidence = tmp / "evidence";
  auto unreachable = Cli({"monitor", "--log", "http://127.0.0.1:1", "--log-key", ledger.vkey,
                          "--evidence", evidence, "--once", "--timeout", "2"});
  BOOST_TEST(unreachable.rc == 3);
  BOOST_TEST(unreachable.err.find("monitor.unreachable") != std::string::npos, unreachable.err);
  BOOST_TEST(EvidenceFiles(evidence).empty());

  // A mirror serving a checkpoint under the log's name but signed by another key.
  log::NoteSigner impostor("example.org/monitored",
                           *log::PrivateKey::FromSeed(std::array<uint8_t, 32>{7}));
  FakeMirror mirror(
      log::SignNote(log::FormatCheckpoint({"example.org/monitored", 2, Sha256("x")}), impostor));
  auto bad_note = Cli({"monitor", "--log", mirror.url(), "--log-key", ledger.vkey, "--evidence",
                       evidence, "--once"});
  BOOST_TEST(bad_note.rc == 3);
  BOOST_TEST(bad_note.err.find("monitor.bad_note") != std::string::npos, bad_note.err);
  BOOST_TEST(EvidenceFiles(evidence).empty());
}

BOOST_AUTO_TEST_CASE(tiles_export_writes_a_static_log_a_file_client_verifies) {
  TempDir tmp;
  Ledger ledger(tmp);
  const std::string out = tmp / "public";
  auto none = Cli({"tiles", "export", out, "--dir", ledger.dir});
  // init signs no checkpoint; the registry entries' appends may not either.
  if (none.rc != 0) {
    BOOST_TEST(none.err.find("storage.not_found") != std::string::npos, none.err);
  }
  BOOST_REQUIRE_EQUAL(Cli({"log", "checkpoint", "--dir", ledger.dir}).rc, 0);
  auto first = Cli({"tiles", "export", out, "--dir", ledger.dir, "--json"});
  BOOST_REQUIRE_MESSAGE(first.rc == 0, first.err);
  auto log_key = log::NoteVerifier::Parse(ledger.vkey);
  BOOST_REQUIRE(log_key.has_value());
  std::vector<log::NoteVerifier> verifiers{*log_key};
  auto check = log::VerifyStaticTiles(log::DirectoryTileFetch(out), verifiers);
  BOOST_REQUIRE_MESSAGE(check.has_value(), Why(check));
  BOOST_TEST(check->checkpoint.size == 2u);
  auto entry = log::ProveStaticEntry(log::DirectoryTileFetch(out), check->checkpoint, 1);
  BOOST_REQUIRE(entry.has_value());
  BOOST_TEST(entry->find("\"ph\"") != std::string::npos);
  BOOST_TEST(Cli({"tiles", "export", "--dir", ledger.dir}).rc == 2);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
