// The web app's files and sessions over a real socket (docs/web.md): the strict CSP on the
// page, sign-in to a cookie, the cookie authenticating exactly as its token, CSRF on every
// state-changing cookie request, sign-out, revocation and expiry.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/SSLManager.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "pedigree/http/api.h"
#include "pedigree/http/http_server.h"
#include "services/http/http_client.h"

namespace pedigree::services {
namespace {

using testing::Exchange;
using testing::Reply;
using testing::Send;
using testing::TempDir;

constexpr const char* kPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

Poco::JSON::Object::Ptr ParseObject(const std::string& body) {
  Poco::JSON::Parser parser;
  return parser.parse(body).extract<Poco::JSON::Object::Ptr>();
}

std::string ErrorOfMessage(const Reply& reply) {
  return ParseObject(reply.body)->getObject("error")->getValue<std::string>("message");
}

std::string ErrorCode(const Reply& reply) {
  auto root = ParseObject(reply.body);
  BOOST_REQUIRE_MESSAGE(root->has("error"), "no error object in " + reply.body);
  return root->getObject("error")->getValue<std::string>("code");
}

// A clock the test moves: expiry is decided by it, not by waiting.
struct FakeClock {
  std::shared_ptr<std::atomic<int64_t>> seconds = std::make_shared<std::atomic<int64_t>>(0);
  SessionPolicy::Clock::time_point operator()() const {
    return SessionPolicy::Clock::time_point(std::chrono::seconds(seconds->load()));
  }
  void Advance(std::chrono::seconds by) const { *seconds += by.count(); }
};

struct WebFixture {
  TempDir dir;
  std::unique_ptr<TokenStore> tokens;
  std::unique_ptr<HttpServer> server;
  FakeClock clock;
  std::string pharmacy_token, regulator_token;

  explicit WebFixture(std::optional<std::pair<std::string, std::string>> tls = std::nullopt) {
    auto opened = TokenStore::Open((dir.path() / "tokens.db").string());
    BOOST_REQUIRE(opened);
    tokens = std::move(*opened);
    tokens->SetCacheTtl(std::chrono::milliseconds(0));
    pharmacy_token = *tokens->Issue("pharmacy-1", {"dispenser"}, "till");
    regulator_token = *tokens->Issue("regulator-1", {"regulator"}, "inspector");
    Router router;
    BOOST_REQUIRE(AddWebAppRoutes(router));
    auto who = [](const HttpRequest& r) {
      HttpResponse out;
      out.body = "{\"org\":" + JsonQuote(r.principal->org_id) + "}";
      return out;
    };
    BOOST_REQUIRE(router.Add("GET", "/v1/dispensed", Access::AnyOf({"dispenser"}), who));
    BOOST_REQUIRE(router.Add("POST", "/v1/dispense", Access::AnyOf({"dispenser"}), who));
    ServerConfig config;
    SessionPolicy policy;
    policy.clock = clock;
    config.sessions = policy;
    if (tls) {
      config.tls_cert_file = tls->first;
      config.tls_key_file = tls->second;
    }
    auto started = HttpServer::Start(config, std::move(router), tokens.get());
    BOOST_REQUIRE_MESSAGE(started, (started ? std::string() : started.error().ToString()));
    server = std::move(*started);
  }

  Reply Call(Send send) const {
    Poco::Net::HTTPClientSession session("127.0.0.1", server->port());
    return Exchange(session, send);
  }

  struct Signed {
    std::string cookie;  // "pedigree_session=..."
    std::string csrf;
  };
  Signed SignIn(const std::string& token) const {
    Reply r = Call({.method = "POST",
                    .target = "/v1/session",
                    .body = "{\"token\":" + JsonQuote(token) + "}",
                    .headers = {{"Content-Type", "application/json"}}});
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    const std::string set_cookie = r.headers["Set-Cookie"];
    return {set_cookie.substr(0, set_cookie.find(';')),
            ParseObject(r.body)->getValue<std::string>("csrfToken")};
  }
};

BOOST_AUTO_TEST_SUITE(web_app)

BOOST_AUTO_TEST_CASE(page_and_files_are_served_with_a_strict_csp_and_etag_revalidation) {
  WebFixture f;
  Reply page = f.Call({.target = "/"});
  BOOST_TEST(page.status == 200);
  BOOST_TEST(page.headers["Content-Type"] == "text/html; charset=utf-8");
  BOOST_TEST(page.headers["Content-Security-Policy"] == kPolicy);
  BOOST_TEST(page.headers["X-Content-Type-Options"] == "nosniff");
  BOOST_TEST(page.headers["Referrer-Policy"] == "no-referrer");
  BOOST_TEST(page.body.find("<label for=\"pack-code\">Pack code</label>") != std::string::npos);
  // No third-party origin anywhere in the page: no CDN, no external fonts.
  BOOST_TEST(page.body.find("http://") == std::string::npos);
  BOOST_TEST(page.body.find("https://") == std::string::npos);

  Reply script = f.Call({.target = "/app/app.js"});
  BOOST_TEST(script.status == 200);
  BOOST_TEST(script.headers["Content-Type"] == "text/javascript; charset=utf-8");
  BOOST_TEST(f.Call({.target = "/app/app.css"}).headers["Content-Type"] ==
             "text/css; charset=utf-8");
  const std::string etag = script.headers["ETag"];
  BOOST_TEST(!etag.empty());
  BOOST_TEST(script.headers["Cache-Control"] == "no-cache");
  Reply again = f.Call({.target = "/app/app.js", .headers = {{"If-None-Match", etag}}});
  BOOST_TEST(again.status == 304);
  BOOST_TEST(again.body.empty());

  Reply missing = f.Call({.target = "/app/secret.txt"});
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(ErrorCode(missing) == "request.not_found");
}

BOOST_AUTO_TEST_CASE(sign_in_with_a_json_or_form_token_sets_a_strict_http_only_cookie) {
  WebFixture f;
  Reply json = f.Call({.method = "POST",
                       .target = "/v1/session",
                       .body = "{\"token\":" + JsonQuote(f.pharmacy_token) + "}",
                       .headers = {{"Content-Type", "application/json"}}});
  BOOST_TEST(json.status == 201);
  const std::string cookie = json.headers["Set-Cookie"];
  BOOST_TEST(cookie.starts_with("pedigree_session="));
  for (const char* attribute : {"; HttpOnly", "; SameSite=Strict", "; Path=/", "; Max-Age=43200"}) {
    BOOST_TEST(cookie.find(attribute) != std::string::npos, cookie << " lacks " << attribute);
  }
  BOOST_TEST(cookie.find("Secure") == std::string::npos);  // Plain HTTP here.
  auto body = ParseObject(json.body);
  BOOST_TEST(body->getValue<std::string>("org") == "pharmacy-1");
  BOOST_TEST(body->getValue<std::string>("csrfToken").size() == 43u);
  BOOST_TEST(json.body.find(f.pharmacy_token) == std::string::npos);

  std::string form_token = f.pharmacy_token;  // pdg_ tokens hold no character to escape.
  Reply form = f.Call({.method = "POST",
                       .target = "/v1/session",
                       .body = "token=" + form_token,
                       .headers = {{"Content-Type", "application/x-www-form-urlencoded"}}});
  BOOST_TEST(form.status == 201);
  BOOST_TEST(form.headers["Set-Cookie"] != cookie);  // A fresh id every sign-in.

  Reply wrong = f.Call({.method = "POST",
                        .target = "/v1/session",
                        .body = "{\"token\":\"pdg_nope_nope\"}",
                        .headers = {{"Content-Type", "application/json"}}});
  BOOST_TEST(wrong.status == 401);
  BOOST_TEST(ErrorCode(wrong) == "auth.bad_token");
  BOOST_TEST(wrong.headers.count("Set-Cookie") == 0u);
  Reply empty = f.Call({.method = "POST",
                        .target = "/v1/session",
                        .body = "{}",
                        .headers = {{"Content-Type", "application/json"}}});
  BOOST_TEST(empty.status == 400);
  BOOST_TEST(ErrorCode(empty) == "request.invalid_body");
  Reply text = f.Call({.method = "POST",
                       .target = "/v1/session",
                       .body = f.pharmacy_token,
                       .headers = {{"Content-Type", "text/plain"}}});
  BOOST_TEST(text.status == 415);
  BOOST_TEST(ErrorCode(text) == "request.unsupported_media_type");
}

BOOST_AUTO_TEST_CASE(sign_in_posted_from_another_origin_is_403_auth_csrf) {
  WebFixture f;
  const std::string host = "127.0.0.1:" + std::to_string(f.server->port());
  auto sign_in_from = [&](const std::string& origin) {
    return f.Call({.method = "POST",
                   .target = "/v1/session",
                   .body = "token=" + f.pharmacy_token,
                   .headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                               {"Host", host},
                               {"Origin", origin}}});
  };
  Reply foreign = sign_in_from("https://evil.example");
  BOOST_TEST(foreign.status == 403);
  BOOST_TEST(ErrorCode(foreign) == "auth.csrf");
  BOOST_TEST(foreign.headers.count("Set-Cookie") == 0u);
  BOOST_TEST(sign_in_from("http://" + host).status == 201);
}

BOOST_AUTO_TEST_CASE(the_cookie_authenticates_with_exactly_the_tokens_roles) {
  WebFixture f;
  auto pharmacy = f.SignIn(f.pharmacy_token);
  Reply read = f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", pharmacy.cookie}}});
  BOOST_TEST(read.status == 200);
  BOOST_TEST(read.body == "{\"org\":\"pharmacy-1\"}");
  // Among other cookies, joined either way a client may join them.
  Reply who = f.Call(
      {.target = "/v1/session", .headers = {{"Cookie", "a=b; " + pharmacy.cookie + "; c=d"}}});
  BOOST_TEST(who.status == 200);
  BOOST_TEST(ParseObject(who.body)->getValue<std::string>("csrfToken") == pharmacy.csrf);

  auto regulator = f.SignIn(f.regulator_token);
  Reply refused = f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", regulator.cookie}}});
  BOOST_TEST(refused.status == 403);
  BOOST_TEST(ErrorCode(refused) == "auth.forbidden_role");

  Reply none = f.Call({.target = "/v1/dispensed"});
  BOOST_TEST(none.status == 401);
  BOOST_TEST(ErrorCode(none) == "auth.missing_token");
  Reply forged =
      f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", "pedigree_session=forged"}}});
  BOOST_TEST(forged.status == 401);
  BOOST_TEST(ErrorCode(forged) == "auth.session_expired");
}

BOOST_AUTO_TEST_CASE(a_state_changing_cookie_request_without_the_csrf_token_is_403_auth_csrf) {
  WebFixture f;
  auto s = f.SignIn(f.pharmacy_token);
  Reply bare = f.Call({.method = "POST",
                       .target = "/v1/dispense",
                       .body = "{}",
                       .headers = {{"Cookie", s.cookie}, {"Content-Type", "application/json"}}});
  BOOST_TEST(bare.status == 403);
  BOOST_TEST(ErrorCode(bare) == "auth.csrf");
  Reply wrong = f.Call({.method = "POST",
                        .target = "/v1/dispense",
                        .body = "{}",
                        .headers = {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf + "x"}}});
  BOOST_TEST(wrong.status == 403);
  BOOST_TEST(ErrorCode(wrong) == "auth.csrf");
  Reply right = f.Call({.method = "POST",
                        .target = "/v1/dispense",
                        .body = "{}",
                        .headers = {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}}});
  BOOST_TEST(right.status == 200);
  // A Bearer token is no ambient credential: no CSRF token needed.
  Reply bearer =
      f.Call({.method = "POST",
              .target = "/v1/dispense",
              .body = "{}",
              .headers = {{"Authorization", "Bearer " + f.pharmacy_token}, {"Cookie", s.cookie}}});
  BOOST_TEST(bearer.status == 200);
}

BOOST_AUTO_TEST_CASE(sign_out_needs_the_csrf_token_and_ends_the_session) {
  WebFixture f;
  auto s = f.SignIn(f.pharmacy_token);
  Reply forged_out =
      f.Call({.method = "DELETE", .target = "/v1/session", .headers = {{"Cookie", s.cookie}}});
  BOOST_TEST(forged_out.status == 403);
  BOOST_TEST(ErrorCode(forged_out) == "auth.csrf");
  Reply out = f.Call({.method = "DELETE",
                      .target = "/v1/session",
                      .headers = {{"Cookie", s.cookie}, {"X-CSRF-Token", s.csrf}}});
  BOOST_TEST(out.status == 204);
  BOOST_TEST(out.headers["Set-Cookie"].find("Max-Age=0") != std::string::npos);
  Reply after = f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", s.cookie}}});
  BOOST_TEST(after.status == 401);
  BOOST_TEST(ErrorCode(after) == "auth.session_expired");
}

BOOST_AUTO_TEST_CASE(revoking_the_token_ends_its_sessions) {
  WebFixture f;
  auto s = f.SignIn(f.pharmacy_token);
  BOOST_TEST(f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", s.cookie}}}).status == 200);
  auto listed = f.tokens->List("pharmacy-1");
  BOOST_REQUIRE(listed);
  BOOST_REQUIRE(f.tokens->Revoke(listed->front().token_id));
  Reply after = f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", s.cookie}}});
  BOOST_TEST(after.status == 401);
  BOOST_TEST(ErrorCode(after) == "auth.session_expired");
  BOOST_TEST(ErrorOfMessage(after).find("no longer valid") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sessions_expire_after_30_idle_minutes_and_after_12_hours_in_use) {
  WebFixture f;
  auto idle = f.SignIn(f.pharmacy_token);
  f.clock.Advance(std::chrono::minutes(29));
  BOOST_TEST(f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", idle.cookie}}}).status ==
             200);
  f.clock.Advance(std::chrono::minutes(30));
  Reply idled = f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", idle.cookie}}});
  BOOST_TEST(idled.status == 401);
  BOOST_TEST(ErrorCode(idled) == "auth.session_expired");

  auto busy = f.SignIn(f.pharmacy_token);
  for (int i = 0; i < 35; ++i) {  // 11 h 40 min of use, every 20 minutes.
    f.clock.Advance(std::chrono::minutes(20));
    BOOST_TEST_REQUIRE(
        f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", busy.cookie}}}).status == 200);
  }
  f.clock.Advance(std::chrono::minutes(20));
  BOOST_TEST(f.Call({.target = "/v1/dispensed", .headers = {{"Cookie", busy.cookie}}}).status ==
             401);
}

BOOST_AUTO_TEST_CASE(the_cookie_is_secure_when_served_over_tls) {
  TempDir dir;
  const auto key = dir.path() / "key.pem";
  const auto cert = dir.path() / "cert.pem";
  const std::string command =
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -days 1 -subj /CN=localhost -keyout " +
      key.string() + " -out " + cert.string() + " >/dev/null 2>&1";
  BOOST_REQUIRE_MESSAGE(std::system(command.c_str()) == 0, "openssl CLI failed: " + command);
  WebFixture f(std::pair{cert.string(), key.string()});
  Poco::Net::Context::Ptr context = new Poco::Net::Context(
      Poco::Net::Context::TLS_CLIENT_USE, "", "", cert.string(), Poco::Net::Context::VERIFY_STRICT);
  Poco::Net::HTTPSClientSession session("localhost", f.server->port(), context);
  Reply r = Exchange(session, {.method = "POST",
                               .target = "/v1/session",
                               .body = "{\"token\":" + JsonQuote(f.pharmacy_token) + "}",
                               .headers = {{"Content-Type", "application/json"}}});
  BOOST_TEST(r.status == 201);
  BOOST_TEST(r.headers["Set-Cookie"].ends_with("; Secure"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
