// A mirror answering the node's read-only API from its own copy (docs/mirror.md, "Answering
// from the copy"): `pedigree mirror serve --pull` as a real process beside a real node, both
// on ephemeral ports. The mirror never holds the log's key, answers verify as the node does,
// serves bundles that verify offline against the log's key, refuses writes with
// mirror.read_only, and follows the node after each pull.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/mirror_server.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/identifiers.h"
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

constexpr const char* kOrigin = "example.org/mirrored-api";
const std::string kGtin = "09506000134352";
const std::string kMfgGln = "9506000000008";
const std::string kPhGln = "4000001000005";

std::string Pack(const std::string& serial) {
  return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
}

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

// A supply-chain node serving its API: mfg commissioned S1 and S2; a regulator and a mirror
// organisation are registered.
struct Node {
  TempDir tmp;
  log::PrivateKey authority = log::PrivateKey::Generate();
  std::unique_ptr<SupplyNode> node;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<HttpServer> server;

  Node() {
    node = SupplyNode::Create(tmp / "ledger", kOrigin, authority.public_key()).value();
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("ph1", "dispenser", "4000001", kPhGln);
    Register("regulator", "regulator", "4000009", "4000009000007");
    Register("mirror-org", "mirror", "4000008", "4000008000008");
    Submit("mfg", JsonValue::Object()
                      .set("kind", "product.register")
                      .set("gtin", kGtin)
                      .set("name", "Examplamab"));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "batch.register")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("expiry", "2028-03-31")
                      .set("quantity", int64_t{10}));
    Submit("mfg", JsonValue::Object()
                      .set("kind", "commission")
                      .set("gtin", kGtin)
                      .set("lot", "LOT1")
                      .set("location", kMfgGln)
                      .set("serials", Strings({"S1", "S2"})));
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
  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node->HoldKey(id, key).has_value());
    auto index = node->RegisterOrg(
        authority, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  void Submit(const std::string& org, JsonValue payload) {
    auto index = node->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(server->port()); }
  std::string TokenFile(const std::string& org, const std::string& role) {
    const std::string path = tmp / (org + ".token");
    std::ofstream(path) << tokens->Issue(org, {role}, "test").value() << "\n";
    ::chmod(path.c_str(), 0600);
    return path;
  }
};

JsonValue Body(const testing::Reply& r) {
  auto parsed = ParseJson(r.body);
  BOOST_REQUIRE_MESSAGE(parsed.has_value(), r.body);
  return *parsed;
}

std::string ErrorCode(const testing::Reply& r) {
  auto parsed = ParseJson(r.body);
  if (!parsed || !parsed->find("error")) return "";
  return parsed->find("error")->find("code")->as_string();
}

// The verdict of GET /v1/verify: "verified <status>" or "not verified <status>".
std::string Verdict(const testing::Reply& r) {
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  JsonValue body = Body(r);
  return std::string(body.find("verified")->as_bool() ? "verified " : "not verified ") +
         body.find("status")->as_string();
}

uint16_t PortOf(const std::string& url) {
  return static_cast<uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_mirror_api)

BOOST_AUTO_TEST_CASE(a_mirror_answers_verify_and_bundles_from_its_copy_and_refuses_writes) {
  Node n;
  const std::string dir = n.tmp / "mirror";
  auto init = Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                   n.node->ledger().VerifierKey(), "--authority-public-key",
                   ToBase64(n.authority.public_key().raw())});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string mirror_vkey = init.out.substr(0, init.out.find('\n'));
  // The mirror's own token for the regulator; its role is checked against the mirror's copy
  // of the registry.
  const std::string regulator = TokenStore::Open(dir + "/tokens.db")
                                    .value()
                                    ->Issue("regulator", {"regulator"}, "test")
                                    .value();
  const std::string node_regulator = n.tokens->Issue("regulator", {"regulator"}, "test").value();

  testing::Process serve({"mirror", "serve", "--dir", dir, "--port", "0", "--pull", n.Url(),
                          "--token-file", n.TokenFile("mirror-org", "mirror"), "--interval", "1"},
                         n.tmp / "serve.out");
  const std::string url = serve.AwaitOutput(R"(serving (http://127\.0\.0\.1:\d+))");
  const uint64_t size = n.node->ledger().size();
  serve.AwaitOutput("(size 0 -> " + std::to_string(size) + " )");

  Poco::Net::HTTPClientSession mirror("127.0.0.1", PortOf(url));
  Poco::Net::HTTPClientSession node("127.0.0.1", n.server->port());
  auto get = [](Poco::Net::HTTPClientSession& session, const std::string& target,
                const std::string& token) {
    return testing::Exchange(session,
                             {.target = target, .headers = {{"Authorization", "Bearer " + token}}});
  };
  auto verify = [](const std::string& serial) {
    return "/v1/verify?code=" + provenance::PercentEncode(Pack(serial));
  };

  // A genuine pack and an unknown one: the mirror's verdict is the node's, and says who
  // answered.
  testing::Reply genuine = get(mirror, verify("S2"), regulator);
  BOOST_TEST(Verdict(genuine) == Verdict(get(node, verify("S2"), node_regulator)));
  BOOST_TEST(Verdict(genuine) == "verified active");
  BOOST_TEST(genuine.headers["Pedigree-Mirror"] == mirror_vkey);
  testing::Reply unknown = get(mirror, verify("S9"), regulator);
  BOOST_TEST(Verdict(unknown) == Verdict(get(node, verify("S9"), node_regulator)));
  BOOST_TEST(Verdict(unknown) == "not verified unknown");
  // Roles come from the mirror's token store: without a token, none.
  BOOST_TEST(testing::Exchange(mirror, {.target = verify("S2")}).status == 401);

  // The pack report: the node's verdict, reached on the mirror's copy.
  const std::string report = "/v1/reports/pack?code=" + provenance::PercentEncode(Pack("S1"));
  testing::Reply mirrored_report = get(mirror, report, regulator);
  testing::Reply node_report = get(node, report, node_regulator);
  BOOST_REQUIRE_MESSAGE(mirrored_report.status == 200, mirrored_report.body);
  BOOST_REQUIRE_MESSAGE(node_report.status == 200, node_report.body);
  BOOST_TEST(Body(mirrored_report).find("verdict")->as_string() ==
             Body(node_report).find("verdict")->as_string());
  BOOST_TEST(mirrored_report.headers["Pedigree-Mirror"] == mirror_vkey);

  // A bundle served by the mirror verifies offline against the log's key, as the node's does.
  testing::Reply bundle =
      get(mirror, "/v1/bundles/pack?code=" + provenance::PercentEncode(Pack("S1")), regulator);
  BOOST_REQUIRE_MESSAGE(bundle.status == 200, bundle.body);
  const std::string bundle_file = n.tmp / "mirror.bundle.json";
  std::ofstream(bundle_file) << bundle.body;
  auto offline =
      Cli({"verify-bundle", bundle_file, "--trust", n.tmp / "ledger/log.vkey", "--format", "json"});
  BOOST_TEST(offline.rc == 0, offline.out << offline.err);
  // A bundle checked against another log's key is refused: the mirror signed nothing as the
  // log, the log's signatures are what verifies.
  const std::string other_vkey = n.tmp / "other.vkey";
  {
    TempDir other_tmp;
    auto other = log::Ledger::Create(other_tmp / "other", kOrigin).value();
    std::ofstream(other_vkey) << other->VerifierKey() << "\n";
  }
  auto forged = Cli({"verify-bundle", bundle_file, "--trust", other_vkey, "--format", "json"});
  BOOST_TEST(forged.rc != 0, forged.out);

  // Writes are refused with the mirror's code, whoever asks; recording a scan is a write too.
  testing::Reply ship =
      testing::Exchange(mirror, {.method = "POST",
                                 .target = "/v1/ship",
                                 .body = "{}",
                                 .headers = {{"Authorization", "Bearer " + regulator},
                                             {"Content-Type", "application/json"}}});
  BOOST_TEST(ship.status == 405);
  BOOST_TEST(ErrorCode(ship) == "mirror.read_only", ship.body);
  testing::Reply record = get(mirror, verify("S2") + "&record=true&location=" + kPhGln, regulator);
  BOOST_TEST(record.status == 405);
  BOOST_TEST(ErrorCode(record) == "mirror.read_only", record.body);

  // The node decommissions S2; after the mirror's next pull its answer changes with the copy.
  n.Submit("mfg", JsonValue::Object()
                      .set("kind", "decommission")
                      .set("epcs", Strings({Pack("S2")}))
                      .set("status", "destroyed")
                      .set("location", kMfgGln));
  serve.AwaitOutput("(size " + std::to_string(size) + " -> " + std::to_string(size + 1) + " )");
  testing::Reply after = get(mirror, verify("S2"), regulator);
  BOOST_TEST(Verdict(after).starts_with("not verified "));
  BOOST_TEST(Verdict(after) == Verdict(get(node, verify("S2"), node_regulator)));
}

// The replica open itself: a mirror's directory has no log-key.pem, and opens all the same,
// signing nothing as the log.
BOOST_AUTO_TEST_CASE(a_mirror_directory_opens_read_only_without_the_log_key) {
  Node n;
  const std::string dir = n.tmp / "mirror";
  BOOST_REQUIRE(Cli({"mirror", "init", "--dir", dir, "--name", "mirror.example/m1", "--log",
                     n.node->ledger().VerifierKey(), "--authority-public-key",
                     ToBase64(n.authority.public_key().raw())})
                    .rc == 0);
  BOOST_REQUIRE(Cli({"mirror", "sync", "--dir", dir, "--from", n.Url(), "--token-file",
                     n.TokenFile("mirror-org", "mirror")})
                    .rc == 0);
  auto mirror = SupplyNode::OpenMirror(dir);
  BOOST_REQUIRE_MESSAGE(mirror.has_value(), pedigree::testing::Why(mirror));
  log::Ledger& ledger = (*mirror)->ledger();
  BOOST_TEST(!ledger.holds_log_key());
  BOOST_TEST(ledger.VerifierKey() == n.node->ledger().VerifierKey());
  BOOST_TEST(ledger.size() == n.node->ledger().size());
  BOOST_TEST((ledger.root() == n.node->ledger().root()));
  // Its checkpoint is the log's note, with the mirror's cosignature.
  auto checkpoint = ledger.SignCheckpoint();
  BOOST_REQUIRE_MESSAGE(checkpoint.has_value(), pedigree::testing::Why(checkpoint));
  BOOST_TEST(checkpoint->note.find("\u2014 mirror.example/m1 ") != std::string::npos,
             checkpoint->note);
  auto node_signed = ledger.SignAsNode(JsonValue::Object().set("kind", "alert"));
  BOOST_REQUIRE(!node_signed.has_value());
  BOOST_TEST(node_signed.error().code() == "ledger.read_only");
  auto submitted = (*mirror)->SubmitAs("mfg", JsonValue::Object().set("kind", "product.register"));
  BOOST_TEST(!submitted.has_value());
  // Without log.vkey it is no mirror: a precise error, not a crash.
  std::filesystem::remove(dir + "/log.vkey");
  auto broken = SupplyNode::OpenMirror(dir);
  BOOST_REQUIRE(!broken.has_value());
  BOOST_TEST(broken.error().code() == "ledger.not_found");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
