// API tokens: issue, authenticate, revoke, list; storage holds only SHA-256 of the
// secret; and the HTTP chassis answers 401/403 with the right codes.
#include "pedigree/usecases/auth.h"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <sqlite3.h>

#include <boost/test/unit_test.hpp>

#include "common/pg_cluster.h"
#include "pedigree/base/bytes.h"
#include "pedigree/http/http_server.h"
#include "services/http/http_client.h"

namespace pedigree::services {
namespace {

using testing::Exchange;
using testing::Reply;
using testing::TempDir;

struct StoreFixture {
  TempDir dir;
  std::string db_path = (dir.path() / "tokens.db").string();
  std::unique_ptr<TokenStore> store;

  StoreFixture() {
    auto opened = TokenStore::Open(db_path);
    BOOST_REQUIRE_MESSAGE(opened, (opened ? std::string() : opened.error().ToString()));
    store = std::move(*opened);
  }
  std::string Issue(const std::string& org, const std::set<std::string>& roles) {
    auto token = store->Issue(org, roles, "test");
    BOOST_REQUIRE_MESSAGE(token, (token ? std::string() : token.error().ToString()));
    return *token;
  }
};

std::string TokenIdOf(const std::string& token) { return token.substr(4, 16); }
std::string SecretOf(const std::string& token) { return token.substr(21); }

std::string ErrorField(const Reply& reply, const std::string& name) {
  Poco::JSON::Parser parser;
  auto root = parser.parse(reply.body).extract<Poco::JSON::Object::Ptr>();
  return root->getObject("error")->getValue<std::string>(name);
}

BOOST_AUTO_TEST_SUITE(auth)

BOOST_AUTO_TEST_CASE(issued_token_authenticates_as_its_organisation_and_roles) {
  StoreFixture f;
  const std::string token = f.Issue("org-acme", {"manufacturer", "admin"});
  BOOST_TEST(token.size() == 4 + 16 + 1 + 64);
  BOOST_TEST(token.starts_with("pdg_"));
  auto principal = f.store->Authenticate(token);
  BOOST_REQUIRE(principal);
  BOOST_TEST(principal->org_id == "org-acme");
  BOOST_TEST((principal->roles == std::set<std::string>{"admin", "manufacturer"}));
  BOOST_TEST(principal->token_id == TokenIdOf(token));
}

BOOST_AUTO_TEST_CASE(tokens_are_stored_as_sha256_of_the_secret_only) {
  StoreFixture f;
  const std::string token = f.Issue("org-acme", {"dispenser"});
  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open_v2(f.db_path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) ==
                SQLITE_OK);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  sqlite3_stmt* stmt = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db.get(), "SELECT * FROM api_tokens", -1, &stmt, nullptr) ==
                SQLITE_OK);
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> owned(stmt, &sqlite3_finalize);
  BOOST_REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const std::string secret = SecretOf(token);
  const Bytes secret_bytes = *FromHex(secret);
  const Hash expected = Sha256(secret);
  bool hash_found = false;
  for (int col = 0; col < sqlite3_column_count(stmt); ++col) {
    const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
    const std::string cell(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(stmt, col)));
    BOOST_TEST(cell.find(secret) == std::string::npos, "column " << col << " holds the secret");
    BOOST_TEST(cell.find(AsText(secret_bytes)) == std::string::npos,
               "column " << col << " holds the raw secret bytes");
    hash_found |= cell == AsText(expected);
  }
  BOOST_TEST(hash_found);
  BOOST_TEST(sqlite3_step(stmt) == SQLITE_DONE);
}

BOOST_AUTO_TEST_CASE(malformed_unknown_and_tampered_tokens_are_bad_tokens) {
  StoreFixture f;
  const std::string token = f.Issue("org-acme", {"dispenser"});
  std::string tampered = token;
  tampered.back() = tampered.back() == '0' ? '1' : '0';
  std::string unknown = token;
  unknown[4] = unknown[4] == '0' ? '1' : '0';
  for (const std::string& bad :
       {tampered, unknown, std::string(""), std::string("pdg_"), token.substr(0, token.size() - 1),
        token + "0", "xyz" + token.substr(3), token.substr(0, 20) + "-" + token.substr(21),
        "pdg_" + std::string(16, 'G') + token.substr(20)}) {
    auto principal = f.store->Authenticate(bad);
    BOOST_REQUIRE_MESSAGE(!principal, bad);
    BOOST_TEST(testing::CodeOf(principal) == "auth.bad_token", bad);
    BOOST_TEST(principal.error().message().find(SecretOf(token)) == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(revoked_token_is_refused_and_listed_as_revoked) {
  StoreFixture f;
  const std::string token = f.Issue("org-acme", {"dispenser"});
  const std::string other = f.Issue("org-beta", {"wholesaler"});
  BOOST_REQUIRE(f.store->Authenticate(token));  // Now cached: Revoke must evict it.
  BOOST_REQUIRE(f.store->Revoke(TokenIdOf(token)));
  auto refused = f.store->Authenticate(token);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(testing::CodeOf(refused) == "auth.bad_token");
  BOOST_TEST(refused.error().message().find("revoked") != std::string::npos);
  BOOST_TEST(f.store->Authenticate(other).has_value());
  BOOST_TEST(f.store->Revoke(TokenIdOf(token)).has_value());  // Idempotent.
  BOOST_TEST(testing::CodeOf(f.store->Revoke("0000000000000000")) == "token.not_found");

  auto all = f.store->List();
  BOOST_REQUIRE(all);
  BOOST_REQUIRE(all->size() == 2u);
  auto acme = f.store->List("org-acme");
  BOOST_REQUIRE(acme && acme->size() == 1u);
  BOOST_TEST((*acme)[0].token_id == TokenIdOf(token));
  BOOST_TEST((*acme)[0].label == "test");
  BOOST_TEST((*acme)[0].revoked_at.has_value());
}

BOOST_AUTO_TEST_CASE(revocation_through_another_store_is_seen_when_the_cache_allows) {
  StoreFixture f;
  const std::string token = f.Issue("org-acme", {"dispenser"});
  f.store->SetCacheTtl(std::chrono::milliseconds(0));
  BOOST_REQUIRE(f.store->Authenticate(token));
  auto cli = TokenStore::Open(f.db_path);  // As `pedigree token revoke` would.
  BOOST_REQUIRE(cli);
  BOOST_REQUIRE((*cli)->Revoke(TokenIdOf(token)));
  BOOST_TEST(testing::CodeOf(f.store->Authenticate(token)) == "auth.bad_token");
}

BOOST_AUTO_TEST_CASE(tokens_are_issued_checked_revoked_and_listed_in_postgresql) {
  const std::string url = pedigree::testing::PgCluster::Shared().NewDatabase();
  auto store = TokenStore::Open(url);
  BOOST_REQUIRE_MESSAGE(store, (store ? std::string() : store.error().ToString()));
  auto token = (*store)->Issue("org-acme", {"manufacturer"}, "test");
  BOOST_REQUIRE(token);
  auto other = (*store)->Issue("org-beta", {"dispenser"}, "test");
  BOOST_REQUIRE(other);
  auto principal = (*store)->Authenticate(*token);
  BOOST_REQUIRE(principal);
  BOOST_TEST(principal->org_id == "org-acme");
  // Only the secret's SHA-256 is stored, as 32 bytes.
  BOOST_TEST(pedigree::testing::PgCluster::Value(
                 url, "SELECT length(secret_sha256) FROM api_tokens WHERE org_id = 'org-acme'") ==
             "32");
  BOOST_REQUIRE((*store)->Revoke(TokenIdOf(*token)).has_value());
  auto missing = (*store)->Revoke("0000000000000000");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().code() == "token.not_found");
  auto all = (*store)->List(std::nullopt);
  BOOST_REQUIRE(all);
  BOOST_TEST(all->size() == 2u);
  auto acme = (*store)->List(std::string("org-acme"));
  BOOST_REQUIRE(acme);
  BOOST_REQUIRE(acme->size() == 1u);
  BOOST_TEST((*acme)[0].revoked_at.has_value());
  // Another store on the same database (the CLI revoking) sees the revocation.
  auto cli = TokenStore::Open(url);
  BOOST_REQUIRE(cli);
  BOOST_TEST(!(*cli)->Authenticate(*token).has_value());
  BOOST_TEST((*cli)->Authenticate(*other).has_value());
}

BOOST_AUTO_TEST_CASE(issue_refuses_unknown_roles_empty_roles_and_empty_org) {
  StoreFixture f;
  BOOST_TEST(testing::CodeOf(f.store->Issue("org", {"pharmacist"}, "")) == "token.unknown_role");
  BOOST_TEST(testing::CodeOf(f.store->Issue("org", {}, "")) == "token.no_roles");
  BOOST_TEST(testing::CodeOf(f.store->Issue("", {"site"}, "")) == "token.invalid_org");
}

BOOST_AUTO_TEST_CASE(http_routes_check_tokens_and_roles) {
  StoreFixture f;
  const std::string dispenser = f.Issue("org-pharmacy", {"dispenser"});
  const std::string maker = f.Issue("org-acme", {"manufacturer"});
  const std::string revoked = f.Issue("org-acme", {"manufacturer"});
  BOOST_REQUIRE(f.store->Revoke(TokenIdOf(revoked)));

  Router router;
  BOOST_REQUIRE(router.Add("POST", "/v1/batches", Access::AnyOf({"manufacturer", "admin"}),
                           [](const HttpRequest& r) {
                             HttpResponse out;
                             out.body = "{\"org\":" + JsonQuote(r.principal->org_id) + "}";
                             return out;
                           }));
  std::ostringstream log;
  ServerConfig config;
  config.access_log = &log;
  auto started = HttpServer::Start(config, std::move(router), f.store.get());
  BOOST_REQUIRE(started);
  Poco::Net::HTTPClientSession session("127.0.0.1", (*started)->port());
  session.setKeepAlive(true);
  auto post = [&](const std::string& authorization) {
    testing::Send send{.method = "POST", .target = "/v1/batches", .body = "{}"};
    if (!authorization.empty()) send.headers["Authorization"] = authorization;
    return Exchange(session, send);
  };

  Reply missing = post("");
  BOOST_TEST(missing.status == 401);
  BOOST_TEST(ErrorField(missing, "code") == "auth.missing_token");
  BOOST_TEST(missing.headers["WWW-Authenticate"] == "Bearer");

  Reply bad = post("Bearer pdg_nonsense");
  BOOST_TEST(bad.status == 401);
  BOOST_TEST(ErrorField(bad, "code") == "auth.bad_token");

  Reply basic = post("Basic dXNlcjpwYXNz");
  BOOST_TEST(basic.status == 401);
  BOOST_TEST(ErrorField(basic, "code") == "auth.bad_token");

  Reply gone = post("Bearer " + revoked);
  BOOST_TEST(gone.status == 401);
  BOOST_TEST(ErrorField(gone, "code") == "auth.bad_token");

  Reply forbidden = post("Bearer " + dispenser);
  BOOST_TEST(forbidden.status == 403);
  BOOST_TEST(ErrorField(forbidden, "code") == "auth.forbidden_role");
  const std::string message = ErrorField(forbidden, "message");
  BOOST_TEST(message.find("[admin, manufacturer]") != std::string::npos, message);
  BOOST_TEST(message.find("has [dispenser]") != std::string::npos, message);

  Reply allowed = post("Bearer " + maker);
  BOOST_TEST(allowed.status == 200);
  BOOST_TEST(allowed.body == "{\"org\":\"org-acme\"}");
  (*started)->Stop();
  BOOST_TEST(log.str().find(SecretOf(maker)) == std::string::npos);
  // The access log names who acted: the token id and its organisation, never the secret.
  BOOST_TEST(log.str().find("POST /v1/batches 200 ") != std::string::npos, log.str());
  BOOST_TEST(log.str().find(" org=org-acme") != std::string::npos, log.str());
  BOOST_TEST(log.str().find(" token=") != std::string::npos, log.str());
}

BOOST_AUTO_TEST_CASE(protected_routes_without_a_token_store_do_not_start) {
  Router router;
  BOOST_REQUIRE(router.Add("GET", "/v1/x", Access::AnyOf({"regulator"}),
                           [](const HttpRequest&) { return HttpResponse{}; }));
  auto started = HttpServer::Start(ServerConfig{}, std::move(router), nullptr);
  BOOST_REQUIRE(!started);
  BOOST_TEST(testing::CodeOf(started) == "server.config");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
