// `pedigree mirror init|sync` against a real node API on an ephemeral port: the copy is
// fetched over HTTP in entry bundles, checked, replayed through the provenance rules and
// cosigned; re-running fetches only what is new; only the mirror (and regulator) role gets
// entry bundles.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/mirror_server.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/replica.h"
#include "pedigree/log/tiles.h"
#include "pedigree/provenance/derived_audit.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/token_grants.h"
#include "services/cli/cli_run.h"
#include "services/cli/process.h"
#include "services/http/http_client.h"

namespace pedigree::services {
namespace {

using pedigree::testing::TempDir;
using testing::Cli;

constexpr const char* kOrigin = "example.org/mirrored-node";

// A supply-chain node serving its API, with an organisation per role that asks.
struct Node {
  TempDir tmp;
  log::PrivateKey authority = log::PrivateKey::Generate();
  std::unique_ptr<SupplyNode> node;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<HttpServer> server;
  int registered = 0;

  Node() {
    node = SupplyNode::Create(tmp / "ledger", kOrigin, authority.public_key()).value();
    tokens = TokenStore::Open(tmp / "tokens.db").value();
    Router router;
    BOOST_REQUIRE(AddApiRoutes(router, *node, ApiOptions{}).has_value());
    ServerConfig config;
    config.threads = 2;
    config.granted_roles = RegistryGrants(*node, "");
    auto started = HttpServer::Start(config, std::move(router), tokens.get());
    BOOST_REQUIRE_MESSAGE(started.has_value(), pedigree::testing::Why(started));
    server = std::move(*started);
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  std::string VerifierKey() const { return node->ledger().VerifierKey(); }
  std::string AuthorityB64() const { return ToBase64(authority.public_key().raw()); }

  void Register(const std::string& id, const std::string& role) {
    log::PrivateKey key = log::PrivateKey::Generate();
    auto index =
        node->RegisterOrg(authority, {id, id, {role}, {}, {}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    ++registered;
  }
  // `n` more registry entries (each org.register is one ledger entry).
  void Grow(int n) {
    for (int i = 0; i < n; ++i) Register("org-" + std::to_string(registered), "manufacturer");
  }
  // A token file (mode 0600) for `org` with `role`.
  std::string TokenFile(const std::string& org, const std::string& role) {
    auto token = tokens->Issue(org, {role}, "test");
    BOOST_REQUIRE(token.has_value());
    const std::string path = tmp / (org + ".token");
    std::ofstream(path) << *token << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }
};

JsonValue Json(const std::string& text) {
  auto parsed = ParseJson(text);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), text);
  return *parsed;
}

int64_t Int(const JsonValue& o, const char* key) { return o.find(key)->as_int(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_mirror)

BOOST_AUTO_TEST_CASE(sync_copies_the_log_in_bundles_replays_the_rules_and_is_incremental) {
  Node n;
  n.Register("mirror-org", "mirror");
  n.Grow(300);
  const std::string token = n.TokenFile("mirror-org", "mirror");
  const std::string dir = n.tmp / "mirror";

  auto init = Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                   n.VerifierKey(), "--authority-public-key", n.AuthorityB64(), "--json"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string mirror_vkey = Json(init.out).find("verifier_key")->as_string();
  BOOST_TEST(mirror_vkey.starts_with("mirror.example/m1+"));

  auto sync =
      Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file", token, "--json"});
  BOOST_REQUIRE_MESSAGE(sync.rc == 0, sync.err);
  JsonValue first = Json(sync.out);
  const auto size = static_cast<int64_t>(n.node->ledger().size());
  BOOST_TEST(Int(first, "size_before") == 0);
  BOOST_TEST(Int(first, "size") == size);
  BOOST_TEST(Int(first, "entries") == size);
  BOOST_TEST(Int(first, "bundles") == (size + 255) / 256);  // not one request per entry
  BOOST_TEST(first.find("root")->as_string() == ToBase64(n.node->ledger().root()));

  // The checkpoint it holds is the node's with the mirror's cosignature, which verifies.
  auto mirror_key = log::NoteVerifier::Parse(mirror_vkey);
  BOOST_REQUIRE(mirror_key.has_value());
  std::vector<log::NoteVerifier> keys{*mirror_key};
  auto opened = log::OpenNote(first.find("checkpoint")->as_string(), keys);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), pedigree::testing::Why(opened));

  // Again with nothing new: no bundle fetched. Then a few entries more: one bundle.
  auto idle =
      Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file", token, "--json"});
  BOOST_REQUIRE_MESSAGE(idle.rc == 0, idle.err);
  BOOST_TEST(Int(Json(idle.out), "entries") == 0);
  BOOST_TEST(Int(Json(idle.out), "bundles") == 0);
  n.Grow(3);
  auto more =
      Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file", token, "--json"});
  BOOST_REQUIRE_MESSAGE(more.rc == 0, more.err);
  BOOST_TEST(Int(Json(more.out), "size_before") == size);
  BOOST_TEST(Int(Json(more.out), "entries") == 3);
  BOOST_TEST(Int(Json(more.out), "bundles") == 1);

  // The copy: the node's leaves, and derived tables that equal a fresh replay of the rules
  // over them (the registry has every organisation).
  auto copy = log::OpenLedgerStorage(dir);
  BOOST_REQUIRE(copy.has_value());
  BOOST_TEST((*copy)->Size().value() == n.node->ledger().size());
  BOOST_TEST((*copy)->ReadEntry(7).value() == n.node->ledger().Entry(7).value());
  auto replay =
      provenance::AuditDerivedState(**copy, dir + "/ledger.db", n.node->ledger().log_public_key());
  BOOST_REQUIRE_MESSAGE(replay.has_value(), pedigree::testing::Why(replay));
  BOOST_TEST(replay->ok());
  auto text = Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file", token});
  BOOST_TEST(text.rc == 0);
  BOOST_TEST(text.out.find("checkpoint cosigned") != std::string::npos, text.out);
}

BOOST_AUTO_TEST_CASE(entry_bundles_are_for_mirrors_and_regulators_only) {
  Node n;
  n.Register("mirror-org", "mirror");
  n.Register("maker", "manufacturer");
  n.Grow(2);
  const std::string dir = n.tmp / "mirror";
  BOOST_REQUIRE(Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                     n.VerifierKey(), "--authority-public-key", n.AuthorityB64()})
                    .rc == 0);
  // A manufacturer's token is refused, with the registry's code, and nothing is stored.
  auto refused = Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file",
                      n.TokenFile("maker", "manufacturer")});
  BOOST_TEST(refused.rc != 0);
  BOOST_TEST(refused.err.find("auth.forbidden_role") != std::string::npos, refused.err);
  BOOST_TEST(log::OpenLedgerStorage(dir).value()->Size().value() == 0u);
  // No token at all: the same.
  auto anonymous = Cli({"mirror", "sync", "--dir", dir, "--from", n.Url()});
  BOOST_TEST(anonymous.rc != 0);
  BOOST_TEST(anonymous.err.find("auth.") != std::string::npos, anonymous.err);

  // The bundle a mirror gets is the C2SP encoding of the stored leaves.
  Poco::Net::HTTPClientSession session("127.0.0.1", n.server->port());
  auto token = n.tokens->Issue("mirror-org", {"mirror"}, "test").value();
  const uint32_t width = static_cast<uint32_t>(n.node->ledger().size());
  testing::Reply r =
      testing::Exchange(session, {.target = "/v1/log/" + log::EntryBundlePath(0, width),
                                  .headers = {{"Authorization", "Bearer " + token}}});
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  auto leaves = n.node->ledger().storage().ReadEntries(0, width).value();
  auto expected = log::EncodeEntryBundle(leaves).value();
  BOOST_TEST((r.body == std::string(expected.begin(), expected.end())));
  // A bundle past the log's end is not found.
  testing::Reply past =
      testing::Exchange(session, {.target = "/v1/log/tile/entries/x001/000",
                                  .headers = {{"Authorization", "Bearer " + token}}});
  BOOST_TEST(past.status == 404);
}

BOOST_AUTO_TEST_CASE(a_node_that_serves_another_logs_checkpoint_is_refused) {
  Node n;
  Node other;
  n.Register("mirror-org", "mirror");
  const std::string dir = n.tmp / "mirror";
  BOOST_REQUIRE(Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                     n.VerifierKey(), "--authority-public-key", n.AuthorityB64()})
                    .rc == 0);
  // The other node has the same origin but its own key: its checkpoint is not the log's.
  auto refused = Cli({"mirror", "sync", "--dir", dir, "--from", other.Url()});
  BOOST_TEST(refused.rc != 0);
  BOOST_TEST(refused.err.find("mirror.untrusted_checkpoint") != std::string::npos, refused.err);
}

BOOST_AUTO_TEST_CASE(a_served_mirror_answers_c2sp_clients_and_the_monitor) {
  Node n;
  n.Register("mirror-org", "mirror");
  n.Grow(20);
  const std::string dir = n.tmp / "mirror";
  auto init = Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                   n.VerifierKey(), "--authority-public-key", n.AuthorityB64()});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string mirror_vkey = init.out.substr(0, init.out.find('\n'));
  auto sync = Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file",
                   n.TokenFile("mirror-org", "mirror")});
  BOOST_REQUIRE_MESSAGE(sync.rc == 0, sync.err);

  // The mirror's server, on the copy (reads only: no rules attached).
  auto replica = log::Replica::Open(dir);
  BOOST_REQUIRE_MESSAGE(replica.has_value(), pedigree::testing::Why(replica));
  auto tokens = TokenStore::Open(dir + "/tokens.db").value();
  Router router;
  BOOST_REQUIRE(AddMirrorRoutes(router, **replica).has_value());
  ServerConfig config;
  config.threads = 2;
  auto server = HttpServer::Start(config, std::move(router), tokens.get()).value();
  const std::string url = "http://127.0.0.1:" + std::to_string(server->port());
  Poco::Net::HTTPClientSession session("127.0.0.1", server->port());
  auto get = [&](const std::string& target, const std::string& token = "") {
    testing::Send send{.target = target};
    if (!token.empty()) send.headers["Authorization"] = "Bearer " + token;
    return testing::Exchange(session, send);
  };

  // The checkpoint three ways: the log's signature and the mirror's cosignature verify.
  const std::string hash = ToHex(Sha256(std::string(kOrigin)));
  testing::Reply checkpoint = get("/checkpoint");
  BOOST_REQUIRE_MESSAGE(checkpoint.status == 200, checkpoint.body);
  BOOST_TEST(get("/" + hash + "/checkpoint").body == checkpoint.body);
  BOOST_TEST(get("/v1/log/checkpoint").body == checkpoint.body);
  std::vector<log::NoteVerifier> keys{log::NoteVerifier::Parse(n.VerifierKey()).value(),
                                      log::NoteVerifier::Parse(mirror_vkey).value()};
  auto opened = log::OpenNote(checkpoint.body, keys);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), pedigree::testing::Why(opened));
  BOOST_TEST(opened->verified.size() == 2u);
  BOOST_TEST(get("/" + std::string(64, 'a') + "/checkpoint").status == 404);

  // Hash tiles are public and the node's; entry bundles need a mirror token of the mirror's.
  const auto size = static_cast<uint32_t>(n.node->ledger().size());
  const std::string tile = "/tile/0/000.p/" + std::to_string(size);
  testing::Reply mirrored_tile = get("/" + hash + tile);
  BOOST_REQUIRE_MESSAGE(mirrored_tile.status == 200, mirrored_tile.body);
  Poco::Net::HTTPClientSession node_session("127.0.0.1", n.server->port());
  BOOST_TEST(mirrored_tile.body ==
             testing::Exchange(node_session, {.target = "/v1/log" + tile}).body);
  const std::string bundle = "/" + hash + "/tile/entries/000.p/" + std::to_string(size);
  BOOST_TEST(get(bundle).status == 401);
  const std::string member = tokens->Issue("mirror-org", {"manufacturer"}, "test").value();
  BOOST_TEST(get(bundle, member).status == 403);
  const std::string reader = tokens->Issue("mirror-org", {"mirror"}, "test").value();
  testing::Reply entries = get(bundle, reader);
  BOOST_REQUIRE_MESSAGE(entries.status == 200, entries.body);
  auto expected = log::EncodeEntryBundle(n.node->ledger().storage().ReadEntries(0, size).value());
  BOOST_TEST((entries.body == std::string(expected->begin(), expected->end())));

  // `pedigree monitor` takes the mirror as a source and finds it consistent with the log.
  auto monitor = Cli({"monitor", "--log", n.Url(), "--log-key", n.VerifierKey(), "--mirror", url,
                      "--state", n.tmp / "monitor", "--once"});
  BOOST_TEST(monitor.rc == 0, monitor.out << monitor.err);
}

// `pedigree mirror serve --pull` as its own process: it syncs at start and at each interval,
// serves what it holds, and stops on SIGTERM.
BOOST_AUTO_TEST_CASE(mirror_serve_pulls_at_each_interval_and_serves_the_copy) {
  Node n;
  n.Register("mirror-org", "mirror");
  const std::string dir = n.tmp / "mirror";
  BOOST_REQUIRE(Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                     n.VerifierKey(), "--authority-public-key", n.AuthorityB64()})
                    .rc == 0);
  testing::Process serve({"mirror", "serve", "--dir", dir, "--port", "0", "--pull", n.Url(),
                          "--token-file", n.TokenFile("mirror-org", "mirror"), "--interval", "1"},
                         n.tmp / "serve.out");
  const std::string url = serve.AwaitOutput(R"(serving (http://127\.0\.0\.1:\d+))");
  serve.AwaitOutput(R"((size 0 -> 1 ))");
  n.Grow(2);
  serve.AwaitOutput(R"((size 1 -> 3 ))");
  Poco::Net::HTTPClientSession session("127.0.0.1",
                                       static_cast<uint16_t>(std::stoi(url.substr(17))));
  testing::Reply checkpoint = testing::Exchange(session, {.target = "/checkpoint"});
  BOOST_TEST(checkpoint.status == 200);
  BOOST_TEST(checkpoint.body.starts_with(std::string(kOrigin) + "\n3\n"), checkpoint.body);
}

// The demo's supply chain and trials (every kind of entry the rules know), copied batch by
// batch into a replica that runs the provenance rules: every entry is accepted, and the copy's
// derived tables equal a fresh replay.
BOOST_AUTO_TEST_CASE(a_replica_replays_the_demo_ledger_under_the_provenance_rules) {
  TempDir tmp;
  auto demo = Cli({"demo", "--dir", tmp / "demo"});
  BOOST_REQUIRE_MESSAGE(demo.rc == 0, demo.err);
  auto node = log::OpenLedgerStorage(tmp / "demo/ledger").value();
  const std::string node_vkey = [&] {
    std::ifstream in(tmp / "demo/ledger/log.vkey");
    std::string line;
    std::getline(in, line);
    return line;
  }();
  auto authority_raw = FromBase64(node->GetMeta(provenance::kAuthorityKeyMeta).value()).value();
  auto authority = log::PublicKey::FromRaw(authority_raw).value();
  auto checkpoint = node->LatestCheckpoint().value().value();

  std::unique_ptr<provenance::ProvenanceState> state;
  log::LedgerOptions rules = provenance::ProvenanceLedgerOptions(
      state, [] { return int64_t{2'000'000'000}; }, authority);
  log::ReplicaOptions options;
  options.attach = rules.attach;
  options.model = rules.model;
  options.initial_meta = rules.initial_meta;
  auto replica = log::Replica::Create(tmp / "mirror", "mirror.example/m1", node_vkey, options);
  BOOST_REQUIRE_MESSAGE(replica.has_value(), pedigree::testing::Why(replica));
  for (uint64_t at = 0; at < checkpoint.size;) {
    const uint64_t end = std::min<uint64_t>(at + 256, checkpoint.size);
    auto leaves = node->ReadEntries(at, end).value();
    std::vector<Hash> proof;
    if (end < checkpoint.size) proof = log::ConsistencyProof(end, checkpoint.size, *node).value();
    auto appended = (*replica)->AppendBatch(leaves, checkpoint.note, proof);
    BOOST_REQUIRE_MESSAGE(appended.has_value(), pedigree::testing::Why(appended));
    at = appended->size;
  }
  BOOST_TEST(checkpoint.size > 800u);
  auto replay = provenance::AuditDerivedState((*replica)->storage(), tmp / "mirror/ledger.db",
                                              log::NoteVerifier::Parse(node_vkey)->public_key());
  BOOST_REQUIRE_MESSAGE(replay.has_value(), pedigree::testing::Why(replay));
  BOOST_TEST(replay->ok());
}

// A log whose tree and signatures are sound but whose entry breaks the provenance rules (a
// registry event not signed by the consortium authority) stops the mirror at that entry.
BOOST_AUTO_TEST_CASE(a_log_breaking_the_provenance_rules_is_refused_at_its_entry) {
  TempDir tmp;
  auto node = log::Ledger::Create(tmp / "plain", kOrigin).value();
  log::PrivateKey impostor = log::PrivateKey::Generate();
  auto payload = JsonValue::Object()
                     .set("kind", "org.register")
                     .set("id", "acme")
                     .set("name", "Acme")
                     .set("roles", JsonValue::Array().push_back(JsonValue("manufacturer")));
  BOOST_REQUIRE(node->Append(log::SignEntry(payload, impostor, kOrigin).value()).has_value());
  auto checkpoint = node->SignCheckpoint().value();

  std::unique_ptr<provenance::ProvenanceState> state;
  log::LedgerOptions rules = provenance::ProvenanceLedgerOptions(
      state, [] { return int64_t{2'000'000'000}; }, log::PrivateKey::Generate().public_key());
  log::ReplicaOptions options;
  options.attach = rules.attach;
  options.model = rules.model;
  options.initial_meta = rules.initial_meta;
  auto replica =
      log::Replica::Create(tmp / "mirror", "mirror.example/m1", node->VerifierKey(), options);
  BOOST_REQUIRE_MESSAGE(replica.has_value(), pedigree::testing::Why(replica));
  auto refused =
      (*replica)->AppendBatch(node->storage().ReadEntries(0, 1).value(), checkpoint.note);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "mirror.rules_refused");
  BOOST_TEST(refused.error().message().find("entry 0") != std::string::npos,
             refused.error().message());
  BOOST_TEST((*replica)->storage().Size().value() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
