// The supply-chain HTTP API over a real socket on an ephemeral port: every action and
// every refusal, as a client sees it.
#include "pedigree/http/api.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "common/result.h"
#include "common/tamper_sql.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/tiles.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"
#include "pedigree/usecases/supply_actions.h"
#include "pedigree/usecases/token_grants.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;

namespace {

const std::string kGtin = "09506000134352";
const std::string kMfgGln = "9506000000008", kPh1Gln = "4000001000005", kPh2Gln = "4000002000004";

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

std::string PackCode(const std::string& serial) {
  return "]d201" + kGtin +
         "17280331"
         "10LOT1\x1d"
         "21" +
         serial;
}

class Api {
 public:
  Api() {
    node_ = SupplyNode::Create(tmp_ / "ledger", "example.org/api-test", authority_.public_key())
                .value();
    now_ = 1'795'300'000;  // 2026-11-22T...
    node_->SetClock([this] { return now_; });
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("ph1", "dispenser", "4000001", kPh1Gln);
    Register("ph2", "dispenser", "4000002", kPh2Gln);
    Register("regulator", "regulator", "4000009", "4000009000007");
    auto product = JsonValue::Object();
    product.set("kind", JsonValue("product.register"));
    product.set("gtin", JsonValue(kGtin));
    product.set("name", JsonValue("Examplamab"));
    BOOST_REQUIRE(node_->SubmitAs("mfg", product).has_value());
    auto batch = JsonValue::Object();
    batch.set("kind", JsonValue("batch.register"));
    batch.set("gtin", JsonValue(kGtin));
    batch.set("lot", JsonValue("LOT1"));
    batch.set("expiry", JsonValue("2028-03-31"));
    batch.set("quantity", JsonValue(int64_t{10}));
    BOOST_REQUIRE(node_->SubmitAs("mfg", batch).has_value());

    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    for (auto [org, role] : {std::pair{"mfg", "manufacturer"},
                             {"ph1", "dispenser"},
                             {"ph2", "dispenser"},
                             {"regulator", "regulator"}}) {
      token_[org] = tokens_->Issue(org, {role}, "test").value();
    }
    Router router;
    BOOST_REQUIRE(AddApiRoutes(router, *node_, ApiOptions{"4000009000007"}).has_value());
    ServerConfig config;
    config.threads = 4;
    config.max_body_bytes = 64 * 1024;
    config.granted_roles = RegistryGrants(*node_, "");  // as `pedigree serve` sets it
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
  }

  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    keys_.emplace(id, log::PrivateKey::FromPem(key.ToPem()).value());
    auto index = node_->RegisterOrg(
        authority_, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  Reply Call(const std::string& org, const std::string& method, const std::string& target,
             const std::string& body = "", std::map<std::string, std::string> headers = {}) {
    if (!org.empty()) headers["Authorization"] = "Bearer " + token_[org];
    if (!body.empty()) headers.try_emplace("Content-Type", "application/json");
    return Exchange(*session_, Send{method, target, body, headers});
  }
  static JsonValue Body(const Reply& r) { return pedigree::ParseJson(r.body).value(); }
  static std::string ErrorCode(const Reply& r) {
    auto b = pedigree::ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("code")->as_string();
  }
  // Commission serials, then ship them mfg -> ph1 and receive.
  void PacksAtPharmacy1(std::initializer_list<std::string> serials, const std::string& advice) {
    auto c = JsonValue::Object();
    c.set("gtin", JsonValue(kGtin));
    c.set("lot", JsonValue("LOT1"));
    c.set("location", JsonValue(kMfgGln));
    c.set("serials", Strings(serials));
    BOOST_REQUIRE_EQUAL(Call("mfg", "POST", "/v1/commission", pedigree::Canonicalize(c)).status,
                        201);
    auto epcs = JsonValue::Array();
    for (const auto& s : serials)
      epcs.push_back(JsonValue("https://id.gs1.org/01/" + kGtin + "/21/" + s));
    auto ship = JsonValue::Object();
    ship.set("epcs", epcs);
    ship.set("to", JsonValue("ph1"));
    ship.set("toLocation", JsonValue(kPh1Gln));
    ship.set("despatchAdvice", JsonValue(advice));
    BOOST_REQUIRE_EQUAL(Call("mfg", "POST", "/v1/ship", pedigree::Canonicalize(ship)).status, 201);
    auto receive = JsonValue::Object();
    receive.set("from", JsonValue("mfg"));
    receive.set("despatchAdvice", JsonValue(advice));
    receive.set("location", JsonValue(kPh1Gln));
    BOOST_REQUIRE_EQUAL(Call("ph1", "POST", "/v1/receive", pedigree::Canonicalize(receive)).status,
                        201);
  }
  std::string DispenseBody(const std::string& serial, const std::string& gln) {
    auto d = JsonValue::Object();
    d.set("code", JsonValue(PackCode(serial)));
    d.set("location", JsonValue(gln));
    return pedigree::Canonicalize(d);
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_;
  std::map<std::string, log::PrivateKey> keys_;
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

std::string UrlEncode(const std::string& s) { return provenance::PercentEncode(s); }

}  // namespace

BOOST_AUTO_TEST_SUITE(api)

BOOST_AUTO_TEST_CASE(verify_then_dispense_then_second_dispense_is_an_alert) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  Reply v = api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S1")));
  BOOST_TEST(v.status == 200);
  BOOST_TEST(Api::Body(v).find("verified")->as_bool());
  Reply d = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln));
  BOOST_TEST(d.status == 201);
  Reply again = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln));
  BOOST_TEST(again.status == 422);
  BOOST_TEST(Api::ErrorCode(again) == "alert.already_decommissioned");
  // The refusal is on the ledger and the pharmacy sees it.
  Reply alerts = api.Call("ph1", "GET", "/v1/alerts");
  BOOST_TEST(alerts.status == 200);
  BOOST_TEST(Api::Body(alerts).find("alerts")->size() == 1u);
  Reply after = api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S1")));
  BOOST_TEST(!Api::Body(after).find("verified")->as_bool());
  BOOST_TEST(Api::Body(after).find("status")->as_string() == "supplied");
}

BOOST_AUTO_TEST_CASE(replayed_idempotency_key_returns_first_index_and_appends_nothing) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  auto first = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln),
                        {{"Idempotency-Key", "till-7-0001"}});
  BOOST_REQUIRE_EQUAL(first.status, 201);
  uint64_t size = api.node_->ledger().size();
  auto replay = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln),
                         {{"Idempotency-Key", "till-7-0001"}});
  BOOST_TEST(replay.status == 201);
  BOOST_TEST(Api::Body(replay).find("index")->as_int() == Api::Body(first).find("index")->as_int());
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(idempotency_key_reused_with_a_different_body_is_a_conflict) {
  Api api;
  api.PacksAtPharmacy1({"S1", "S2"}, "DA1");
  auto first = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln),
                        {{"Idempotency-Key", "till-7-0001"}});
  BOOST_REQUIRE_EQUAL(first.status, 201);
  uint64_t size = api.node_->ledger().size();
  // A retry a minute later: the node fills in a new time, but it is the same command.
  api.now_ += 60;
  auto replay = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln),
                         {{"Idempotency-Key", "till-7-0001"}});
  BOOST_TEST(replay.status == 201);
  BOOST_TEST(Api::Body(replay).find("index")->as_int() == Api::Body(first).find("index")->as_int());
  // The same key on another pack is a different command.
  auto other = api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S2", kPh1Gln),
                        {{"Idempotency-Key", "till-7-0001"}});
  BOOST_TEST(other.status == 409);
  BOOST_TEST(Api::ErrorCode(other) == "idempotency.conflict");
  BOOST_TEST(Api::Body(other).find("error")->find("message")->as_string().find("'till-7-0001'") !=
             std::string::npos);
  BOOST_TEST(api.node_->ledger().size() == size);
  Reply s2 = api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S2")));
  BOOST_TEST(Api::Body(s2).find("status")->as_string() == "active");
  // Client-signed: the clientId in the payload is the key, and the time is the client's.
  auto p = JsonValue::Object();
  p.set("v", JsonValue(int64_t{1}));
  p.set("kind", JsonValue("batch.register"));
  p.set("org", JsonValue("mfg"));
  p.set("clientId", JsonValue("erp-42"));
  p.set("time", JsonValue("2026-11-21T10:00:00Z"));
  p.set("gtin", JsonValue(kGtin));
  p.set("lot", JsonValue("LOT2"));
  p.set("expiry", JsonValue("2028-05-31"));
  p.set("quantity", JsonValue(int64_t{5}));
  std::string envelope = log::SignEntry(p, api.keys_.at("mfg"), "example.org/api-test").value();
  BOOST_REQUIRE_EQUAL(api.Call("mfg", "POST", "/v1/events", envelope).status, 201);
  BOOST_TEST(api.Call("mfg", "POST", "/v1/events", envelope).status == 201);
  p.set("quantity", JsonValue(int64_t{6}));
  Reply changed = api.Call("mfg", "POST", "/v1/events",
                           log::SignEntry(p, api.keys_.at("mfg"), "example.org/api-test").value());
  BOOST_TEST(changed.status == 409);
  BOOST_TEST(Api::ErrorCode(changed) == "idempotency.conflict");
  BOOST_TEST(api.node_->ledger().size() == size + 1);
}

BOOST_AUTO_TEST_CASE(concurrent_uses_of_one_key_with_different_bodies_append_one) {
  Api api;
  constexpr int kThreads = 8;
  std::vector<Result<uint64_t>> results(kThreads, Fail("test.unset", "not run"));
  uint64_t size = api.node_->ledger().size();
  std::vector<std::thread> pool;
  for (int t = 0; t < kThreads; ++t) {
    pool.emplace_back([&, t] {
      auto b = JsonValue::Object();
      b.set("kind", JsonValue("batch.register"));
      b.set("clientId", JsonValue("same-key"));
      b.set("gtin", JsonValue(kGtin));
      b.set("lot", JsonValue("L" + std::to_string(t)));
      b.set("expiry", JsonValue("2028-03-31"));
      b.set("quantity", JsonValue(int64_t{1}));
      results[t] = api.node_->SubmitAs("mfg", std::move(b));
    });
  }
  for (auto& t : pool) t.join();
  int appended = 0, conflicts = 0;
  for (const auto& r : results) {
    if (r) ++appended;
    if (!r && r.error().code() == "idempotency.conflict") ++conflicts;
  }
  BOOST_TEST(appended == 1);
  BOOST_TEST(conflicts == kThreads - 1);
  BOOST_TEST(api.node_->ledger().size() == size + 1);
}

BOOST_AUTO_TEST_CASE(clone_alert_reaches_the_holder_and_manufacturer_without_naming_the_scanner) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  Reply clone = api.Call("ph2", "POST", "/v1/dispense", api.DispenseBody("S1", kPh2Gln));
  BOOST_REQUIRE_EQUAL(Api::ErrorCode(clone), "alert.clone_suspected");
  const std::string epc = "https://id.gs1.org/01/" + kGtin + "/21/S1";
  // The subject sees its own alert in full.
  JsonValue own = Api::Body(api.Call("ph2", "GET", "/v1/alerts"));
  BOOST_REQUIRE_EQUAL(own.find("alerts")->size(), 1u);
  BOOST_TEST(own.find("alerts")->as_array()[0].find("org")->as_string() == "ph2");
  // The holder of the genuine pack and the manufacturer see it, without ph2's identity.
  for (auto [org, concern] : {std::pair{"ph1", "holder"}, {"mfg", "manufacturer"}}) {
    Reply r = api.Call(org, "GET", "/v1/alerts");
    BOOST_TEST_CONTEXT(org) {
      BOOST_TEST(r.status == 200);
      JsonValue alerts = *Api::Body(r).find("alerts");
      BOOST_REQUIRE_EQUAL(alerts.size(), 1u);
      const JsonValue& a = alerts.as_array()[0];
      BOOST_TEST(a.find("code")->as_string() == "clone_suspected");
      BOOST_TEST(a.find("epc")->as_string() == epc);
      BOOST_TEST(a.find("concern")->as_string() == concern);
      BOOST_TEST(!a.find("org"));
      BOOST_TEST(r.body.find("ph2") == std::string::npos);
    }
  }
  // The regulator sees the subject.
  BOOST_TEST(Api::Body(api.Call("regulator", "GET", "/v1/alerts"))
                 .find("alerts")
                 ->as_array()[0]
                 .find("org")
                 ->as_string() == "ph2");
}

// The EU hub's alert management: the manufacturer (marketing-authorisation holder of the
// pack's GTIN) investigates the alert and closes it with a classification and a reason.
BOOST_AUTO_TEST_CASE(manufacturer_investigates_and_closes_an_alert) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  BOOST_REQUIRE_EQUAL(
      Api::ErrorCode(api.Call("ph2", "POST", "/v1/dispense", api.DispenseBody("S1", kPh2Gln))),
      "alert.clone_suspected");
  const auto alert = [&] {
    return Api::Body(api.Call("regulator", "GET", "/v1/alerts")).find("alerts")->as_array()[0];
  };
  const int64_t index = alert().find("index")->as_int();
  BOOST_TEST(alert().find("state")->as_string() == "open");
  BOOST_TEST(alert().find("class")->as_string() == "falsification_signal");
  BOOST_TEST(alert().find("weighs")->as_bool());
  const std::string path = "/v1/alerts/" + std::to_string(index);

  Reply investigate = api.Call("mfg", "POST", path + "/investigate", "{}");
  BOOST_TEST(investigate.status == 201, investigate.body);
  BOOST_TEST(Api::Body(investigate).find("kind")->as_string() == "alert.investigate");
  BOOST_TEST(alert().find("state")->as_string() == "investigating");
  BOOST_TEST(alert().find("weighs")->as_bool());

  Reply close = api.Call("mfg", "POST", path + "/close",
                         R"({"classification":"technical_error","reason":"scanner misread"})");
  BOOST_TEST(close.status == 201, close.body);
  const JsonValue closed = alert();
  BOOST_TEST(closed.find("state")->as_string() == "closed");
  BOOST_TEST(closed.find("classification")->as_string() == "technical_error");
  BOOST_TEST(closed.find("reason")->as_string() == "scanner misread");
  BOOST_TEST(!closed.find("weighs")->as_bool());
  // The holder sees the outcome but not the closer's words, which may name parties.
  const JsonValue held =
      Api::Body(api.Call("ph1", "GET", "/v1/alerts")).find("alerts")->as_array()[0];
  BOOST_TEST(held.find("classification")->as_string() == "technical_error");
  BOOST_TEST(!held.find("reason"));
  // Both lifecycle entries are in the pack's history.
  auto history =
      api.node_->Read([&](provenance::ProvenanceView& v) { return v.PackHistory(kGtin, "S1"); });
  BOOST_REQUIRE(history.has_value());
  BOOST_TEST(history->back() == static_cast<uint64_t>(Api::Body(close).find("index")->as_int()));
}

BOOST_AUTO_TEST_CASE(alert_lifecycle_refusals_have_their_code_and_write_nothing) {
  Api api;
  api.Register("mfg2", "manufacturer", "9506001", "9506001000007");
  api.token_["mfg2"] = api.tokens_->Issue("mfg2", {"manufacturer"}, "test").value();
  api.PacksAtPharmacy1({"S1"}, "DA1");
  BOOST_REQUIRE_EQUAL(
      Api::ErrorCode(api.Call("ph2", "POST", "/v1/dispense", api.DispenseBody("S1", kPh2Gln))),
      "alert.clone_suspected");
  const int64_t index = Api::Body(api.Call("regulator", "GET", "/v1/alerts"))
                            .find("alerts")
                            ->as_array()[0]
                            .find("index")
                            ->as_int();
  const std::string path = "/v1/alerts/" + std::to_string(index);
  struct Case {
    const char* name;
    const char* org;
    std::string target;
    std::string body;
    int status;
    const char* code;
  };
  const std::string entry_of_a_product = "/v1/alerts/4";  // product.register, not an alert
  const Case cases[] = {
      // Someone else's alert answers as no alert (docs/api.md, "Access rules").
      {"another manufacturer", "mfg2", path + "/investigate", "{}", 404,
       "alert_lifecycle.unknown_alert"},
      {"a pharmacy", "ph1", path + "/close", R"({"classification":"technical_error","reason":"x"})",
       403, "auth.forbidden_role"},
      {"an entry that is no alert", "mfg", entry_of_a_product + "/investigate", "{}", 404,
       "alert_lifecycle.unknown_alert"},
      {"an index beyond the log", "mfg", "/v1/alerts/99999/close",
       R"({"classification":"technical_error","reason":"x"})", 404,
       "alert_lifecycle.unknown_alert"},
      {"no classification", "mfg", path + "/close", R"({"reason":"x"})", 422,
       "alert_lifecycle.bad_classification"},
      {"an unknown classification", "mfg", path + "/close",
       R"({"classification":"fine","reason":"x"})", 422, "alert_lifecycle.bad_classification"},
      {"no reason", "mfg", path + "/close", R"({"classification":"process_error"})", 422,
       "alert_lifecycle.bad_reason"},
      {"an empty reason", "mfg", path + "/close",
       R"({"classification":"process_error","reason":""})", 422, "alert_lifecycle.bad_reason"},
      {"a reason with an escape", "mfg", path + "/close",
       "{\"classification\":\"process_error\",\"reason\":\"ok\\u001b[2K\"}", 422,
       "alert_lifecycle.bad_reason"},
      {"a reason with a carriage return", "mfg", path + "/close",
       "{\"classification\":\"process_error\",\"reason\":\"ok\\rfine\"}", 422,
       "alert_lifecycle.bad_reason"},
      {"the alert named twice", "mfg", path + "/investigate", R"({"alert":1})", 400,
       "request.invalid_body"},
      {"a bad index", "mfg", "/v1/alerts/x1/investigate", "{}", 400, "request.bad_parameter"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const uint64_t size = api.node_->ledger().size();
      Reply r = api.Call(c.org, "POST", c.target, c.body);
      BOOST_TEST(r.status == c.status, r.body);
      BOOST_TEST(Api::ErrorCode(r) == c.code);
      BOOST_TEST(api.node_->ledger().size() == size);
    }
  }
  // A regulator may close it too; once closed it stays closed.
  Reply close = api.Call("regulator", "POST", path + "/close",
                         R"({"classification":"confirmed_falsification","reason":"seized"})");
  BOOST_TEST(close.status == 201, close.body);
  const uint64_t size = api.node_->ledger().size();
  // (alert.investigate has no classification nor reason: docs/events.md.)
  for (auto [action, body] :
       {std::pair{"/investigate", "{}"},
        {"/close", R"({"classification":"technical_error","reason":"oops"})"}}) {
    Reply again = api.Call("mfg", "POST", path + action, body);
    BOOST_TEST(again.status == 409);
    BOOST_TEST(Api::ErrorCode(again) == "alert_lifecycle.closed");
  }
  BOOST_TEST(api.node_->ledger().size() == size);
}

// One pharmacy repeating a refused command cannot grow the ledger (or taint a pack) without
// bound: past the limit the refusal is still answered with its alert code, but only the next
// recorded alert, after the window, says how many were left out.
BOOST_AUTO_TEST_CASE(repeated_refusals_are_recorded_at_most_the_alert_limit) {
  Api api;
  api.node_->SetAlertLimit(3, 3600);
  api.PacksAtPharmacy1({"S1"}, "DA1");
  const uint64_t before = api.node_->ledger().size();
  const auto clone_attempt = [&] {
    api.now_ += 1;
    Reply r = api.Call("ph2", "POST", "/v1/dispense", api.DispenseBody("S1", kPh2Gln));
    BOOST_TEST(r.status == 422);
    BOOST_TEST(Api::ErrorCode(r) == "alert.clone_suspected");
  };
  for (int i = 0; i < 10; ++i) clone_attempt();
  BOOST_TEST(api.node_->ledger().size() == before + 3);
  const auto newest = [&] {
    return Api::Body(api.Call("regulator", "GET", "/v1/alerts")).find("alerts")->as_array()[0];
  };
  BOOST_TEST(!newest().find("suppressed"));
  // An hour after the first, the next one is recorded with the count it stands for.
  api.now_ += 3600;
  clone_attempt();
  BOOST_TEST(api.node_->ledger().size() == before + 4);
  BOOST_TEST(newest().find("suppressed")->as_int() == 7);
  clone_attempt();
  BOOST_TEST(!newest().find("suppressed"));
  auto clones = api.node_->Read(
      [](provenance::ProvenanceView& v) { return v.AlertsSince("ph2", "clone_suspected", 0); });
  BOOST_REQUIRE(clones.has_value());
  BOOST_TEST(*clones == 5);
  // Another organisation has a budget of its own.
  BOOST_TEST(api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln)).status ==
             201);
  BOOST_TEST(
      Api::ErrorCode(api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln))) ==
      "alert.already_decommissioned");
  BOOST_TEST(newest().find("org")->as_string() == "ph1");
  BOOST_TEST(api.node_->ledger().size() == before + 7);
}

BOOST_AUTO_TEST_CASE(recalled_pack_fails_verification_and_dispense_both_ways) {
  Api api;
  api.PacksAtPharmacy1({"S1", "S2"}, "DA1");
  auto recall = JsonValue::Object();
  recall.set("gtin", JsonValue(kGtin));
  recall.set("lot", JsonValue("LOT1"));
  recall.set("status", JsonValue("recalled"));
  recall.set("reason", JsonValue("sterility"));
  BOOST_REQUIRE_EQUAL(
      api.Call("mfg", "POST", "/v1/batch-status", pedigree::Canonicalize(recall)).status, 201);
  BOOST_TEST(Api::ErrorCode(api.Call("ph1", "POST", "/v1/dispense",
                                     api.DispenseBody("S2", kPh1Gln))) == "alert.recalled");
  // GS1 Lightweight Verification on the Digital Link path.
  Reply lw = api.Call("ph1", "GET",
                      "/01/" + kGtin + "/10/LOT1/21/S2?linkType=verificationService&17=280331");
  BOOST_TEST(lw.status == 200);
  JsonValue answer = Api::Body(lw);
  BOOST_TEST(!answer.find("verified")->as_bool());
  BOOST_TEST(answer.find("responderGLN")->as_string() == "4000009000007");
  BOOST_TEST(answer.find("additionalInfo")->as_array()[0].as_string() == "Recalled");
  Reply unknown = api.Call("ph1", "GET", "/01/" + kGtin + "/21/NOPE?linkType=verificationService");
  BOOST_TEST(Api::Body(unknown).find("verificationFailureReason")->as_string() ==
             "No_match_GTIN_Serial");
  // Recall reach for the manufacturer.
  Reply batch = api.Call("mfg", "GET", "/v1/batches/" + kGtin + "/LOT1");
  BOOST_TEST(batch.status == 200);
  BOOST_TEST(Api::Body(batch).find("status")->as_string() == "recalled");
  BOOST_TEST(Api::Body(batch).find("reach")->as_array()[0].find("holder")->as_string() == "ph1");
}

BOOST_AUTO_TEST_CASE(wrong_role_missing_token_and_foreign_history_are_refused) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  Reply wrong_role =
      api.Call("ph1", "POST", "/v1/products", R"({"gtin":"09506000134352","name":"x"})");
  BOOST_TEST(wrong_role.status == 403);
  BOOST_TEST(Api::ErrorCode(wrong_role) == "auth.forbidden_role");
  BOOST_TEST(api.Call("", "GET", "/v1/verify?code=x").status == 401);
  Reply foreign = api.Call("ph2", "GET", "/v1/packs/" + kGtin + "/S1");
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(Api::ErrorCode(foreign) == "pack.not_found");
  Reply regulator = api.Call("regulator", "GET", "/v1/packs/" + kGtin + "/S1");
  BOOST_TEST(regulator.status == 200);
  BOOST_TEST(Api::Body(regulator).find("events")->size() ==
             3u + 1u);  // batch, commission, ship, receive
  BOOST_TEST(api.Call("ph1", "GET", "/v1/packs/" + kGtin + "/S1").status == 200);
}

// The registry, not the token row, decides a request's roles. The rules have no event that
// removes a role (docs/events.md), so these tokens are written straight through
// TokenStore, as a token issued before `token issue` checked the registry would be.
BOOST_AUTO_TEST_CASE(roles_the_registry_does_not_grant_do_not_work_at_request_time) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  const std::string pack = "/v1/packs/" + kGtin + "/S1";
  // A pharmacy that minted itself regulator, admin and witness reads only as a pharmacy.
  api.token_["ph2"] =
      api.tokens_->Issue("ph2", {"dispenser", "regulator", "admin", "witness"}, "old").value();
  Reply foreign = api.Call("ph2", "GET", pack);
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(api.Call("ph2", "GET", "/v1/verify?code=x").status != 403);
  // With nothing the registry grants left, every request is refused, naming what it holds.
  api.token_["ph2"] = api.tokens_->Issue("ph2", {"regulator", "admin"}, "old").value();
  Reply none = api.Call("ph2", "GET", pack);
  BOOST_TEST(none.status == 403);
  BOOST_TEST(Api::ErrorCode(none) == "auth.forbidden_role");
  const std::string message = Api::Body(none).find("error")->find("message")->as_string();
  BOOST_TEST(message.find("[admin, regulator]") != std::string::npos, message);
  BOOST_TEST(message.find("grants it now (it grants [dispenser])") != std::string::npos, message);
  // An organisation the registry does not know gets nothing either.
  api.token_["ghost"] = api.tokens_->Issue("no-such-org", {"regulator"}, "old").value();
  Reply ghost = api.Call("ghost", "GET", pack);
  BOOST_TEST(ghost.status == 403);
  BOOST_TEST(Api::ErrorCode(ghost) == "auth.forbidden_role");
  // The registry's own regulator still reads the pack.
  BOOST_TEST(api.Call("regulator", "GET", pack).status == 200);
}

BOOST_AUTO_TEST_CASE(client_signed_events_must_verify_and_match_the_token) {
  Api api;
  auto p = JsonValue::Object();
  p.set("v", JsonValue(int64_t{1}));
  p.set("kind", JsonValue("batch.register"));
  p.set("org", JsonValue("mfg"));
  p.set("clientId", JsonValue("c-1"));
  p.set("time", JsonValue("2026-11-21T10:00:00Z"));
  p.set("gtin", JsonValue(kGtin));
  p.set("lot", JsonValue("LOT2"));
  p.set("expiry", JsonValue("2028-05-31"));
  p.set("quantity", JsonValue(int64_t{5}));
  std::string envelope = log::SignEntry(p, api.keys_.at("mfg"), "example.org/api-test").value();
  BOOST_TEST(api.Call("ph1", "POST", "/v1/events", envelope).status ==
             403);  // ph1's token, mfg's event
  std::string forged = envelope;
  size_t sig = forged.find("\"sig\":\"") + 10;
  forged[sig] = forged[sig] == 'A' ? 'B' : 'A';
  Reply bad = api.Call("mfg", "POST", "/v1/events", forged);
  BOOST_TEST(bad.status == 422);
  BOOST_TEST(Api::ErrorCode(bad).rfind("entry.", 0) == 0u);
  std::string wrong_key = log::SignEntry(p, api.keys_.at("ph1"), "example.org/api-test").value();
  BOOST_TEST(Api::ErrorCode(api.Call("mfg", "POST", "/v1/events", wrong_key)) ==
             "event.unknown_key");
  Reply good = api.Call("mfg", "POST", "/v1/events", envelope);
  BOOST_TEST(good.status == 201);
  const uint64_t index = static_cast<uint64_t>(Api::Body(good).find("index")->as_int());
  const std::string leaf = api.node_->ledger().Entry(index).value();
  BOOST_TEST(Api::Body(good).find("leafHash")->as_string() ==
             ToBase64(log::LeafHash(AsBytes(leaf))));
  BOOST_TEST(Api::Body(good).find("sequencedTime")->as_string() ==
             log::OpenEntry(leaf).value().sequenced_text);
  // Signed for another log (a shard, another consortium's ledger): refused, not appended.
  p.set("clientId", JsonValue("c-2"));
  Reply replayed =
      api.Call("mfg", "POST", "/v1/events",
               log::SignEntry(p, api.keys_.at("mfg"), "example.org/another-ledger").value());
  BOOST_TEST(replayed.status == 422);
  BOOST_TEST(Api::ErrorCode(replayed) == "entry.wrong_log");
}

BOOST_AUTO_TEST_CASE(bad_input_gets_a_precise_code_and_writes_nothing) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  uint64_t size = api.node_->ledger().size();
  struct Case {
    std::string org, target, body, code;
    int status;
  };
  const Case cases[] = {
      {"ph1", "/v1/dispense", "{not json", "request.invalid_json", 400},
      {"ph1", "/v1/dispense", R"({"code":"]d20109506000134353212","location":"4000001000005"})",
       "gs1.check_digit", 400},
      {"ph1", "/v1/dispense",
       R"({"code":"(01)09506000134352(21)S1","location":"4000001000005","org":"mfg"})",
       "request.reserved_field", 400},
      {"ph1", "/v1/receive",
       R"({"from":"mfg","despatchAdvice":"GHOST","location":"4000001000005"})",
       "alert.receive_before_ship", 422},
      {"ph2", "/v1/dispense", R"({"code":"(01)09506000134352(21)S1","location":"4000002000004"})",
       "alert.clone_suspected", 422},
      {"ph1", "/v1/dispense", R"({"code":"(01)09506000134352(21)S1","location":"4000002000004"})",
       "event.foreign_location", 422},
      {"mfg", "/v1/aggregate",
       R"({"parent":"095060000000000015","children":["095060000000000015"]})",
       "alert.aggregation_conflict", 422},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.code) {
      Reply r = api.Call(c.org, "POST", c.target, c.body);
      BOOST_TEST(r.status == c.status);
      BOOST_TEST(Api::ErrorCode(r) == c.code);
    }
  }
  // Refusals by the rules append their alert events, nothing else.
  uint64_t alerts = 3;
  BOOST_TEST(api.node_->ledger().size() == size + alerts);
  // Oversized bodies (413) are the chassis' job: http_server_test covers them.
}

// The command and event routes parse their body once (no separate syntax pass before the
// handler): what is not JSON still answers as the chassis's check did, line and column
// included, and JSON the integers-only rule refuses keeps the parser's own code.
BOOST_AUTO_TEST_CASE(single_parse_bodies_answer_as_the_syntax_check_did) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  const uint64_t size = api.node_->ledger().size();
  struct Case {
    std::string target, body, code;
    int64_t line, column;  // 0: not asserted
  };
  const Case cases[] = {
      {"/v1/dispense", "{\n  \"code\": 1,\n}", "request.invalid_json", 3, 1},
      {"/v1/events", "{\n  \"payload\": 1,\n}", "request.invalid_json", 3, 1},
      {"/v1/dispense", "", "request.invalid_json", 1, 1},
      // A decimal and, after it, a syntax error: the syntax error is what the body is.
      {"/v1/dispense", R"({"code":1.5,)", "request.invalid_json", 0, 0},
      {"/v1/dispense", R"({"code":"(01)09506000134352(21)S1","location":"4000001000005","n":1.5})",
       "json.number_not_integer", 0, 0},
      {"/v1/events", R"({"payload":{"org":"ph1","n":1.5}})", "json.number_not_integer", 0, 0},
      {"/v1/dispense", "[1]", "request.invalid_body", 0, 0},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.target << " " << c.body) {
      Reply r = api.Call("ph1", "POST", c.target, c.body, {{"Content-Type", "application/json"}});
      BOOST_TEST(r.status == 400);
      BOOST_TEST(Api::ErrorCode(r) == c.code);
      if (c.line) {
        const JsonValue body = Api::Body(r);  // kept: `error` points into it
        const JsonValue* error = body.find("error");
        BOOST_REQUIRE(error);
        BOOST_TEST(error->find("line")->as_int() == c.line);
        BOOST_TEST(error->find("column")->as_int() == c.column);
      }
    }
  }
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(undo_after_ten_days_is_refused) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  BOOST_REQUIRE_EQUAL(
      api.Call("ph1", "POST", "/v1/dispense", api.DispenseBody("S1", kPh1Gln)).status, 201);
  api.now_ += 11 * 86400;
  Reply undo = api.Call("ph1", "POST", "/v1/undo", api.DispenseBody("S1", kPh1Gln));
  BOOST_TEST(undo.status == 422);
  BOOST_TEST(Api::ErrorCode(undo) == "alert.undo_too_late");
}

BOOST_AUTO_TEST_CASE(log_proofs_and_tiles_verify_against_the_public_checkpoint) {
  Api api;
  api.PacksAtPharmacy1({"S1", "S2", "S3"}, "DA1");
  Reply cp = api.Call("", "GET", "/v1/log/checkpoint");
  BOOST_REQUIRE_EQUAL(cp.status, 200);
  std::vector<log::NoteVerifier> verifiers{
      log::NoteVerifier::Parse(api.node_->ledger().VerifierKey()).value()};
  auto note = log::OpenNote(cp.body, verifiers);
  BOOST_REQUIRE(note.has_value());
  auto body = log::ParseCheckpoint(note->text).value();
  Reply proof =
      api.Call("", "GET", "/v1/log/proof/inclusion?index=2&size=" + std::to_string(body.size));
  BOOST_REQUIRE_EQUAL(proof.status, 200);
  JsonValue p = Api::Body(proof);
  std::vector<Hash> path;
  for (const auto& h : p.find("proof")->as_array())
    path.push_back(HashFromBase64(h.as_string()).value());
  Reply entry = api.Call("regulator", "GET", "/v1/log/entries/2");
  BOOST_REQUIRE_EQUAL(entry.status, 200);
  BOOST_TEST(log::VerifyInclusion(2, body.size, log::LeafHash(AsBytes(entry.body)), path, body.root)
                 .has_value());
  Reply tile = api.Call("", "GET", "/v1/log/tile/0/000.p/" + std::to_string(body.size));
  BOOST_TEST(tile.status == 200);
  BOOST_TEST(tile.body.size() == body.size * 32);
  BOOST_TEST(api.Call("", "GET", "/v1/log/tile/0/x1/000").status == 400);
  BOOST_TEST(api.Call("", "GET", "/v1/log/entries/2").status == 401);
}

BOOST_AUTO_TEST_CASE(entry_edited_in_the_database_is_a_server_error_not_an_answer) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  // Unparsable bytes in entry 2, written behind the running node's back.
  pedigree::testing::TamperSql(api.node_->ledger().dir(),
                               "UPDATE entries SET data = CAST('{\"payload\":' AS BLOB) "
                               "WHERE idx = 2");
  Reply entry = api.Call("regulator", "GET", "/v1/log/entries/2");
  BOOST_TEST(entry.status == 500);
  BOOST_TEST(entry.body.find("\"internal\"") != std::string::npos);
  BOOST_TEST(api.Call("regulator", "GET", "/v1/log/entries/3").status == 200);
  Reply proof = api.Call("", "GET", "/v1/log/proof/inclusion?index=2");
  BOOST_TEST(proof.status != 200);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(api_records)

BOOST_AUTO_TEST_CASE(verify_writes_nothing_unless_asked_to_record) {
  Api api;
  api.PacksAtPharmacy1({"S1"}, "DA1");
  uint64_t size = api.node_->ledger().size();
  BOOST_TEST(api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S1"))).status == 200);
  BOOST_TEST(api.node_->ledger().size() == size);
  Reply recorded =
      api.Call("ph1", "GET",
               "/v1/verify?record=true&location=" + kPh1Gln + "&code=" + UrlEncode(PackCode("S1")));
  BOOST_REQUIRE_EQUAL(recorded.status, 200);
  BOOST_TEST(Api::Body(recorded).find("recordedIndex")->as_int() == static_cast<int64_t>(size));
  BOOST_TEST(api.node_->ledger().size() == size + 1);
  BOOST_TEST(
      api.Call("ph1", "GET", "/v1/verify?record=true&code=" + UrlEncode(PackCode("S1"))).status ==
      400);
}

BOOST_AUTO_TEST_CASE(epcis_sensor_element_list_marks_an_excursion) {
  Api api;
  // A cold product: 2.0–8.0 °C.
  auto product = JsonValue::Object();
  product.set("kind", JsonValue("product.register"));
  product.set("gtin", JsonValue("09506000134369"));
  product.set("name", JsonValue("Cold"));
  product.set("tempMin", JsonValue(int64_t{20}));
  product.set("tempMax", JsonValue(int64_t{80}));
  BOOST_REQUIRE(api.node_->SubmitAs("mfg", product).has_value());
  std::string commission =
      R"({"gtin":"09506000134369","lot":"C1","expiry":"2028-03-31","quantity":5})";
  BOOST_REQUIRE_EQUAL(api.Call("mfg", "POST", "/v1/batches", commission).status, 201);
  BOOST_REQUIRE_EQUAL(api.Call("mfg", "POST", "/v1/commission",
                               R"({"gtin":"09506000134369","lot":"C1","location":")" + kMfgGln +
                                   R"(","serials":["K1"]})")
                          .status,
                      201);
  BOOST_REQUIRE_EQUAL(
      api.Call(
             "mfg", "POST", "/v1/ship",
             R"({"epcs":["https://id.gs1.org/01/09506000134369/21/K1"],"to":"ph1","toLocation":")" +
                 kPh1Gln + R"(","despatchAdvice":"COLD1"})")
          .status,
      201);
  std::string sensor =
      R"({"from":"mfg","despatchAdvice":"COLD1","sensorElementList":[{"sensorMetadata":{"time":"2026-11-21T09:00:00Z"},"sensorReport":[{"type":"Temperature","minValue":"3.5","maxValue":"8.4","uom":"CEL"},{"type":"RelativeHumidity","value":"40"}]}]})";
  BOOST_REQUIRE_EQUAL(api.Call("mfg", "POST", "/v1/sensor", sensor).status, 201);
  std::string bad =
      R"({"from":"mfg","despatchAdvice":"COLD1","sensorElementList":[{"sensorReport":[{"type":"Temperature","value":8.4}]}]})";
  Reply refused = api.Call("mfg", "POST", "/v1/sensor", bad);
  BOOST_TEST(refused.status == 400);  // a float: refused before it could be signed
  Reply v = api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode("(01)09506000134369(21)K1"));
  BOOST_TEST(Api::Body(v).find("reasons")->as_array()[0].find("code")->as_string() ==
             "temperature_excursion");
}

BOOST_AUTO_TEST_SUITE_END()

// EPCIS capture (docs/epcis.md, "Capture"): events become signed pedigree commands, the
// Event Hash ID is the idempotency key, errors are EPCIS exceptions with a JSON pointer.
BOOST_AUTO_TEST_SUITE(api_epcis_capture)

namespace {
std::string CommissionEvent(const std::string& serial, bool reordered = false) {
  const std::string epc = "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
  const std::string urn = "urn:epc:id:sgtin:9506000.013435." + serial;
  if (reordered) {
    return R"({"ilmd":{"cbvmda:lotNumber":"LOT1"},"bizLocation":{"id":"urn:epc:id:sgln:9506000.00000.0"},
      "disposition":"https://ref.gs1.org/cbv/Disp-active","bizStep":"urn:epcglobal:cbv:bizstep:commissioning",
      "action":"ADD","epcList":[")" +
           urn + R"("],"eventTimeZoneOffset":"+01:00","eventTime":"2026-11-21T23:16:40+01:00",
      "type":"ObjectEvent"})";
  }
  return R"({"type":"ObjectEvent","eventTime":"2026-11-21T22:16:40Z","eventTimeZoneOffset":"+01:00",
    "epcList":[")" +
         epc + R"("],"action":"ADD","bizStep":"commissioning","disposition":"active",
    "bizLocation":{"id":"https://id.gs1.org/414/9506000000008"},"ilmd":{"cbvmda:lotNumber":"LOT1"}})";
}
}  // namespace

BOOST_AUTO_TEST_CASE(same_event_in_another_serialisation_appends_nothing_and_returns_first_index) {
  Api api;
  Reply first = api.Call("mfg", "POST", "/v1/epcis/events", CommissionEvent("E1"));
  BOOST_REQUIRE_MESSAGE(first.status == 201, first.body);
  BOOST_TEST(Api::Body(first).find("kind")->as_string() == "commission");
  const std::string id = Api::Body(first).find("eventID")->as_string();
  BOOST_TEST(id.starts_with("ni:///sha-256;"));
  uint64_t size = api.node_->ledger().size();
  Reply again = api.Call("mfg", "POST", "/v1/epcis/events", CommissionEvent("E1", true));
  BOOST_REQUIRE_EQUAL(again.status, 201);
  BOOST_TEST(Api::Body(again).find("eventID")->as_string() == id);
  BOOST_TEST(Api::Body(again).find("index")->as_int() == Api::Body(first).find("index")->as_int());
  BOOST_TEST(api.node_->ledger().size() == size);
  // The pack is commissioned, signed by the token's organisation.
  Reply v = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode("E1")));
  BOOST_TEST(Api::Body(v).find("verified")->as_bool());
}

BOOST_AUTO_TEST_CASE(malformed_event_is_a_validation_exception_with_its_json_pointer) {
  Api api;
  std::string no_lot = CommissionEvent("E2");
  no_lot.replace(no_lot.find("\"cbvmda:lotNumber\":\"LOT1\""), 25, "\"cbvmda:bestBefore\":\"x\"");
  Reply r = api.Call("mfg", "POST", "/v1/epcis/events", no_lot);
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.headers["Content-Type"].starts_with("application/problem+json"));
  JsonValue b = Api::Body(r);
  BOOST_TEST(b.find("type")->as_string() == "epcisException:ValidationException");
  BOOST_TEST(b.find("code")->as_string() == "epcis.invalid_event");
  BOOST_TEST(b.find("pointer")->as_string() == "/ilmd/cbvmda:lotNumber");
  std::string sensor = R"({"type":"ObjectEvent","eventTime":"2026-11-21T23:06:40Z",
    "eventTimeZoneOffset":"+00:00","epcList":[],"action":"OBSERVE","bizStep":"sensor_reporting"})";
  Reply u = api.Call("mfg", "POST", "/v1/epcis/events", sensor);
  BOOST_TEST(u.status == 422);
  BOOST_TEST(Api::Body(u).find("code")->as_string() == "epcis.unsupported");
}

namespace {
std::string Document(const std::string& events) {
  return R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-22T00:00:00Z",
    "epcisBody":{"eventList":[)" +
         events + "]}}";
}
// mfg ships the pack to ph1; `party` names the receiver (a pgln URN or a 417 Digital Link).
std::string ShippingEvent(const std::string& serial, const std::string& party) {
  return R"({"type":"ObjectEvent","eventTime":"2026-11-21T22:18:00Z","eventTimeZoneOffset":"+00:00",
    "epcList":["https://id.gs1.org/01/)" +
         kGtin + "/21/" + serial + R"("],"action":"OBSERVE","bizStep":"shipping",
    "disposition":"in_transit","bizTransactionList":[{"type":"desadv",
    "bizTransaction":"urn:epcglobal:cbv:bt:9506000000008:DA-)" +
         serial +
         R"("}],"sourceList":[{"type":"owning_party","source":"https://id.gs1.org/417/9506000000008"}],
    "destinationList":[{"type":"owning_party","destination":")" +
         party + R"("},{"type":"location","destination":"https://id.gs1.org/414/4000001000005"}]})";
}
std::string ReceivingEvent(const std::string& serial) {
  return R"({"type":"ObjectEvent","eventTime":"2026-11-21T22:20:00Z","eventTimeZoneOffset":"+00:00",
    "epcList":["https://id.gs1.org/01/)" +
         kGtin + "/21/" + serial + R"("],"action":"OBSERVE","bizStep":"receiving",
    "disposition":"in_progress","bizLocation":{"id":"https://id.gs1.org/414/4000001000005"},
    "bizTransactionList":[{"type":"desadv","bizTransaction":"urn:epcglobal:cbv:bt:9506000000008:DA-)" +
         serial +
         R"("}],"sourceList":[{"type":"owning_party","source":"urn:epc:id:pgln:9506000.00000"}],
    "destinationList":[{"type":"owning_party","destination":"https://id.gs1.org/417/4000001000005"}]})";
}
}  // namespace

namespace {
// Posts a document for capture (202 + Location) and follows the job until it has finished;
// returns its final status.
JsonValue Captured(Api& api, const std::string& org, const std::string& doc,
                   const std::string& behaviour = "") {
  std::map<std::string, std::string> headers;
  if (!behaviour.empty()) headers["GS1-Capture-Error-Behaviour"] = behaviour;
  Reply sent = api.Call(org, "POST", "/v1/epcis/capture", doc, headers);
  BOOST_REQUIRE_MESSAGE(sent.status == 202, sent.body);
  const std::string location = sent.headers["Location"];
  BOOST_TEST(location == "/v1/epcis/capture/" + Api::Body(sent).find("captureID")->as_string());
  for (int polls = 0; polls < 3000; ++polls) {
    Reply job = api.Call(org, "GET", location);
    BOOST_REQUIRE_MESSAGE(job.status == 200, job.body);
    JsonValue status = Api::Body(job);
    if (!status.find("running")->as_bool()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_FAIL("the capture job did not finish");
  return JsonValue();
}
}  // namespace

BOOST_AUTO_TEST_CASE(commission_ship_and_receive_captured_as_epcis_move_custody) {
  Api api;
  JsonValue sent = Captured(
      api, "mfg",
      Document(CommissionEvent("S1") + "," + ShippingEvent("S1", "urn:epc:id:pgln:4000001.00000")));
  BOOST_TEST(sent.find("status")->as_string() == "success");
  BOOST_TEST(sent.find("success")->as_bool());
  BOOST_TEST(sent.find("captureErrorBehaviour")->as_string() == "rollback");
  BOOST_TEST(sent.find("events")->as_array()[1].find("kind")->as_string() == "ship");
  Reply moving = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S1")));
  BOOST_TEST(Api::Body(moving).find("inTransitTo")->as_string() == "ph1");
  JsonValue got = Captured(api, "ph1", Document(ReceivingEvent("S1")));
  BOOST_TEST(got.find("events")->as_array()[0].find("kind")->as_string() == "receive");
  // A job is its organisation's only.
  const std::string id = got.find("captureID")->as_string();
  Reply foreign = api.Call("mfg", "GET", "/v1/epcis/capture/" + id);
  BOOST_TEST(foreign.status == 404);
  BOOST_TEST(Api::Body(foreign).find("code")->as_string() == "epcis.capture_not_found");
  Reply v = api.Call("ph1", "GET", "/v1/verify?code=" + UrlEncode(PackCode("S1")));
  BOOST_TEST(Api::Body(v).find("verified")->as_bool());
  BOOST_TEST(Api::Body(v).find("holder")->as_string() == "ph1");
}

BOOST_AUTO_TEST_CASE(shipping_to_an_unregistered_gln_is_refused_at_the_party) {
  Api api;
  uint64_t size = api.node_->ledger().size();
  Reply r = api.Call("mfg", "POST", "/v1/epcis/capture",
                     Document(CommissionEvent("S2") + "," +
                              ShippingEvent("S2", "https://id.gs1.org/417/4000003000003")));
  BOOST_TEST(r.status == 422);
  JsonValue b = Api::Body(r);
  BOOST_TEST(b.find("type")->as_string() == "epcisException:ValidationException");
  BOOST_TEST(b.find("code")->as_string() == "event.unknown_org");
  BOOST_TEST(b.find("pointer")->as_string() ==
             "/epcisBody/eventList/1/destinationList/0/destination");
  BOOST_TEST(b.find("detail")->as_string().find("4000003000003") != std::string::npos);
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(document_with_one_bad_event_writes_nothing) {
  Api api;
  uint64_t size = api.node_->ledger().size();
  std::string bad = CommissionEvent("E4");
  bad.replace(bad.find("\"ADD\""), 5, "\"NOPE\"");
  std::string doc =
      R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-22T00:00:00Z",
    "epcisBody":{"eventList":[)" +
      CommissionEvent("E3") + "," + bad + "]}}";
  Reply r = api.Call("mfg", "POST", "/v1/epcis/capture", doc);
  BOOST_TEST(r.status == 422);
  BOOST_TEST(Api::Body(r).find("pointer")->as_string() == "/epcisBody/eventList/1/type");
  BOOST_TEST(api.node_->ledger().size() == size);
  // Without the bad event, both are captured, with per-event results.
  std::string good =
      R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-11-22T00:00:00Z",
    "epcisBody":{"eventList":[)" +
      CommissionEvent("E3") + "," + CommissionEvent("E5") + "]}}";
  JsonValue ok = Captured(api, "mfg", good);
  BOOST_TEST(ok.find("events")->size() == 2u);
  BOOST_TEST(api.node_->ledger().size() == size + 2);
}

BOOST_AUTO_TEST_CASE(proceed_captures_the_good_events_and_lists_the_bad_ones) {
  Api api;
  uint64_t size = api.node_->ledger().size();
  std::string bad = CommissionEvent("P2");
  bad.replace(bad.find("\"ADD\""), 5, "\"NOPE\"");
  // P1 twice in one document: the second is the same command, captured once.
  // P3 is shipped before anyone commissioned it: the rules refuse it.
  JsonValue job = Captured(
      api, "mfg",
      Document(CommissionEvent("P1") + "," + bad + "," +
               ShippingEvent("P3", "urn:epc:id:pgln:4000001.00000") + "," + CommissionEvent("P4")),
      "proceed");
  BOOST_TEST(job.find("status")->as_string() == "failure");
  BOOST_TEST(job.find("captureErrorBehaviour")->as_string() == "proceed");
  const auto& events = job.find("events")->as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 4u);
  BOOST_TEST(events[0].find("captured")->as_bool());
  BOOST_TEST(!events[1].find("captured")->as_bool());
  BOOST_TEST(events[1].find("error")->find("pointer")->as_string() ==
             "/epcisBody/eventList/1/type");
  BOOST_TEST(events[1].find("error")->find("type")->as_string() ==
             "epcisException:ValidationException");
  BOOST_TEST(!events[2].find("captured")->as_bool());
  BOOST_TEST(
      events[2].find("error")->find("pointer")->as_string().starts_with("/epcisBody/eventList/2"));
  BOOST_TEST(events[3].find("captured")->as_bool());
  BOOST_TEST(job.find("errors")->size() == 2u);
  // P1 and P4, and the alert the refused shipment recorded.
  BOOST_TEST(api.node_->ledger().size() >= size + 2);
  Reply p4 = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode("P4")));
  BOOST_TEST(Api::Body(p4).find("verified")->as_bool());
}

namespace {
// The kinds of the entries appended since `size`.
std::vector<std::string> KindsSince(Api& api, uint64_t size) {
  std::vector<std::string> kinds;
  for (uint64_t i = size; i < api.node_->ledger().size(); ++i) {
    auto entry = api.node_->ledger().Entry(i);
    BOOST_REQUIRE(entry);
    auto parsed = ParseJson(*entry);
    BOOST_REQUIRE(parsed);
    kinds.push_back(parsed->find("payload")->find("kind")->as_string());
  }
  return kinds;
}
// Five events, the third a shipment of a pack nobody commissioned, which the rules refuse.
std::string DocumentWithRefusedThirdEvent(const std::string& tag) {
  return Document(CommissionEvent(tag + "1") + "," + CommissionEvent(tag + "2") + "," +
                  ShippingEvent(tag + "3", "urn:epc:id:pgln:4000001.00000") + "," +
                  CommissionEvent(tag + "4") + "," + CommissionEvent(tag + "5"));
}
}  // namespace

BOOST_AUTO_TEST_CASE(rollback_document_with_a_refused_third_event_writes_nothing_of_it) {
  Api api;
  const uint64_t size = api.node_->ledger().size();
  JsonValue job = Captured(api, "mfg", DocumentWithRefusedThirdEvent("R"), "rollback");
  BOOST_TEST(job.find("status")->as_string() == "failure");
  BOOST_TEST(job.find("rolledBack")->as_bool());
  BOOST_TEST(job.find("failedEvent")->as_int() == 2);
  BOOST_TEST(job.find("written")->as_int() == 0);
  const auto& events = job.find("events")->as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 5u);
  for (size_t i : {0u, 1u, 3u, 4u}) {
    BOOST_TEST(!events[i].find("captured")->as_bool());
    BOOST_TEST(events[i].find("rolledBack")->as_bool());
    BOOST_TEST(events[i].find("index") == nullptr);
  }
  const JsonValue& error = *events[2].find("error");
  BOOST_TEST(error.find("pointer")->as_string().starts_with("/epcisBody/eventList/2"));
  BOOST_TEST(error.find("eventIndex")->as_int() == 2);
  BOOST_TEST(error.find("type")->as_string() == "epcisException:ValidationException");
  BOOST_REQUIRE_EQUAL(job.find("errors")->size(), 1u);
  // Nothing of the document is on the ledger: at most the node's alert about the refusal.
  for (const std::string& kind : KindsSince(api, size)) BOOST_TEST(kind == "alert");
  // Derived state unchanged: the packs before and after the refusal are unknown.
  for (const char* serial : {"R1", "R2", "R4", "R5"}) {
    Reply v = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode(serial)));
    BOOST_TEST(Api::Body(v).find("status")->as_string() == "unknown", serial);
  }
  // The corrected document (without the shipment) is captured whole.
  JsonValue fixed = Captured(api, "mfg",
                             Document(CommissionEvent("R1") + "," + CommissionEvent("R2") + "," +
                                      CommissionEvent("R4") + "," + CommissionEvent("R5")));
  BOOST_TEST(fixed.find("status")->as_string() == "success");
  BOOST_TEST(fixed.find("rolledBack") == nullptr);
  Reply r4 = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode("R4")));
  BOOST_TEST(Api::Body(r4).find("verified")->as_bool());
  // An unknown behaviour is refused before anything is queued.
  Reply bad = api.Call("mfg", "POST", "/v1/epcis/capture", Document(CommissionEvent("R6")),
                       {{"GS1-Capture-Error-Behaviour", "maybe"}});
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(Api::Body(bad).find("code")->as_string() == "epcis.bad_header");
}

BOOST_AUTO_TEST_CASE(a_rollback_document_of_ten_thousand_events_is_one_capture) {
  Api api;
  auto batch = JsonValue::Object()
                   .set("kind", "batch.register")
                   .set("gtin", kGtin)
                   .set("lot", "LOTBIG")
                   .set("expiry", "2028-03-31")
                   .set("quantity", int64_t{10000});
  BOOST_REQUIRE(api.node_->SubmitAs("mfg", batch).has_value());
  const uint64_t size = api.node_->ledger().size();
  std::string events;
  for (int i = 0; i < 10000; ++i) {
    if (i > 0) events += ",";
    std::string event = CommissionEvent("T" + std::to_string(i));
    event.replace(event.find("LOT1"), 4, "LOTBIG");
    events += event;
  }
  const auto start = std::chrono::steady_clock::now();
  JsonValue job = Captured(api, "mfg", Document(events), "rollback");
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Reported, not asserted (no timed tests): bench figures come from bench/.
  BOOST_TEST_MESSAGE("10,000-event rollback capture: " << seconds << " s, " << 10000 / seconds
                                                       << " events/s");
  BOOST_TEST(job.find("status")->as_string() == "success");
  BOOST_TEST(job.find("events")->size() == 10000u);
  BOOST_TEST(api.node_->ledger().size() == size + 10000);
}

BOOST_AUTO_TEST_CASE(proceed_document_with_a_refused_third_event_captures_the_other_four) {
  Api api;
  const uint64_t size = api.node_->ledger().size();
  JsonValue job = Captured(api, "mfg", DocumentWithRefusedThirdEvent("Q"), "proceed");
  BOOST_TEST(job.find("status")->as_string() == "failure");
  BOOST_TEST(job.find("rolledBack") == nullptr);
  const auto& events = job.find("events")->as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 5u);
  for (size_t i : {0u, 1u, 3u, 4u}) BOOST_TEST(events[i].find("captured")->as_bool());
  BOOST_TEST(!events[2].find("captured")->as_bool());
  BOOST_TEST(
      events[2].find("error")->find("pointer")->as_string().starts_with("/epcisBody/eventList/2"));
  std::vector<std::string> kinds = KindsSince(api, size);
  BOOST_TEST(std::count(kinds.begin(), kinds.end(), "commission") == 4);
}

namespace {
// CommissionEvent(serial) in the EPCIS 2.0 XML binding; `lot` empty leaves ilmd out.
std::string XmlDocument(const std::string& serial, const std::string& lot = "LOT1") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:cbvmda="urn:epcglobal:cbv:mda"
    schemaVersion="2.0" creationDate="2026-11-22T00:00:00Z">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>2026-11-21T22:16:40Z</eventTime>
        <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
        <epcList><epc>https://id.gs1.org/01/)" +
         kGtin + "/21/" + serial + R"(</epc></epcList>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <disposition>urn:epcglobal:cbv:disp:active</disposition>
        <bizLocation><id>https://id.gs1.org/414/9506000000008</id></bizLocation>
)" +
         (lot.empty() ? ""
                      : "        <ilmd><cbvmda:lotNumber>" + lot + "</cbvmda:lotNumber></ilmd>\n") +
         R"(      </ObjectEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>
)";
}
const std::map<std::string, std::string> kXml = {{"Content-Type", "application/xml"}};
}  // namespace

BOOST_AUTO_TEST_CASE(rollback_of_an_xml_document_names_the_refused_events_line) {
  Api api;
  const uint64_t size = api.node_->ledger().size();
  // LOT9 is no registered batch: the rules refuse the commissioning.
  Reply sent = api.Call("mfg", "POST", "/v1/epcis/capture", XmlDocument("X8", "LOT9"), kXml);
  BOOST_REQUIRE_MESSAGE(sent.status == 202, sent.body);
  JsonValue job;
  for (int polls = 0; polls < 3000; ++polls) {
    job = Api::Body(api.Call("mfg", "GET", sent.headers["Location"]));
    if (!job.find("running")->as_bool()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_TEST(job.find("rolledBack")->as_bool());
  const JsonValue& error = *job.find("events")->as_array()[0].find("error");
  BOOST_TEST(error.find("line")->as_int() > 1);
  BOOST_TEST(error.find("jsonPointer")->as_string().starts_with("/epcisBody/eventList/0"));
  for (const std::string& kind : KindsSince(api, size)) BOOST_TEST(kind == "alert");
}

BOOST_AUTO_TEST_CASE(xml_event_and_its_json_twin_are_one_capture) {
  Api api;
  Reply xml = api.Call("mfg", "POST", "/v1/epcis/events", XmlDocument("X1"), kXml);
  BOOST_REQUIRE_MESSAGE(xml.status == 201, xml.body);
  BOOST_TEST(Api::Body(xml).find("kind")->as_string() == "commission");
  const uint64_t size = api.node_->ledger().size();
  Reply json = api.Call("mfg", "POST", "/v1/epcis/events", CommissionEvent("X1"));
  BOOST_REQUIRE_MESSAGE(json.status == 201, json.body);
  BOOST_TEST(Api::Body(json).find("eventID")->as_string() ==
             Api::Body(xml).find("eventID")->as_string());
  BOOST_TEST(Api::Body(json).find("index")->as_int() == Api::Body(xml).find("index")->as_int());
  BOOST_TEST(api.node_->ledger().size() == size);
  Reply v = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode("X1")));
  BOOST_TEST(Api::Body(v).find("verified")->as_bool());
}

BOOST_AUTO_TEST_CASE(xml_document_is_captured_as_a_job) {
  Api api;
  JsonValue done = Captured(api, "mfg", XmlDocument("X2"));
  BOOST_TEST(done.find("success")->as_bool());
  BOOST_TEST(done.find("events")->as_array()[0].find("kind")->as_string() == "commission");
}

BOOST_AUTO_TEST_CASE(bad_xml_event_is_refused_at_its_xml_line_and_writes_nothing) {
  Api api;
  const uint64_t size = api.node_->ledger().size();
  Reply r = api.Call("mfg", "POST", "/v1/epcis/capture", XmlDocument("X3", ""), kXml);
  BOOST_TEST(r.status == 400);
  JsonValue b = Api::Body(r);
  BOOST_TEST(b.find("code")->as_string() == "epcis.invalid_event");
  BOOST_TEST(b.find("type")->as_string() == "epcisException:ValidationException");
  BOOST_TEST(b.find("jsonPointer")->as_string() == "/epcisBody/eventList/0/ilmd/cbvmda:lotNumber");
  // No ilmd at all: the nearest element is the event itself, on line 6.
  BOOST_TEST(b.find("pointer")->as_string() ==
             "/epcis:EPCISDocument/EPCISBody[1]/EventList[1]/ObjectEvent[1]");
  BOOST_TEST(b.find("line")->as_int() == 6);
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(xml_with_an_external_entity_is_refused) {
  Api api;
  const std::string xxe =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
      "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\">&x;</epcis:EPCISDocument>";
  for (const char* route : {"/v1/epcis/capture", "/v1/epcis/events"}) {
    Reply r = api.Call("mfg", "POST", route, xxe, kXml);
    BOOST_TEST(r.status == 400);
    BOOST_TEST(Api::Body(r).find("code")->as_string() == "epcis.invalid_event");
    BOOST_TEST(Api::Body(r).find("line")->as_int() == 2);
    BOOST_TEST(r.body.find("root:") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(history_is_exported_as_xml_when_accept_asks_for_it) {
  Api api;
  Reply sent = api.Call("mfg", "POST", "/v1/epcis/events", XmlDocument("X5"), kXml);
  BOOST_REQUIRE_MESSAGE(sent.status == 201, sent.body);
  const std::string target = "/v1/epcis/events?epc=" + UrlEncode(PackCode("X5"));
  Reply r = api.Call("mfg", "GET", target, "", {{"Accept", "application/xml"}});
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  BOOST_TEST(r.headers["Content-Type"].starts_with("application/xml"));
  auto xml = pedigree::scanner::epcis::ParseEpcisXml(r.body);
  BOOST_REQUIRE_MESSAGE(xml.has_value(), r.body);
  // Without Accept: JSON-LD as before, the same events.
  Reply json = api.Call("mfg", "GET", target);
  BOOST_TEST(json.headers["Content-Type"].starts_with("application/ld+json"));
  const JsonValue json_doc = Api::Body(json);
  const JsonArray& json_events = json_doc.find("epcisBody")->find("eventList")->as_array();
  const JsonArray& xml_events = xml->document.find("epcisBody")->find("eventList")->as_array();
  BOOST_REQUIRE_EQUAL(xml_events.size(), json_events.size());
  pedigree::scanner::epcis::HashOptions options = pedigree::scanner::epcis::PedigreeHashOptions();
  for (auto& p : pedigree::scanner::epcis::ContextPrefixes(xml->document)) {
    options.context.push_back(p);
  }
  for (size_t i = 0; i < xml_events.size(); ++i) {
    // Each XML event hashes to the eventID the export wrote for it (that of the JSON-LD one).
    const std::string exported = json_events[i].find("eventID")->as_string();
    BOOST_TEST(xml_events[i].find("eventID")->as_string() == exported);
    auto id = pedigree::scanner::epcis::EventHashId(xml_events[i], options);
    BOOST_REQUIRE(id);
    BOOST_TEST(*id == exported);
  }
}

namespace {
// The Event Hash IDs of the events of an exported or queried document, recomputed from the
// document alone (its @context); each must equal the eventID the document wrote.
std::vector<std::string> RecomputedIds(const JsonValue& doc, const JsonArray& events) {
  pedigree::scanner::epcis::HashOptions options = pedigree::scanner::epcis::PedigreeHashOptions();
  for (auto& p : pedigree::scanner::epcis::ContextPrefixes(doc)) options.context.push_back(p);
  std::vector<std::string> ids;
  for (const JsonValue& ev : events) {
    auto id = pedigree::scanner::epcis::EventHashId(ev, options);
    BOOST_REQUIRE_MESSAGE(id.has_value(), (id ? std::string() : id.error().ToString()));
    BOOST_TEST(ev.find("eventID")->as_string() == *id);
    ids.push_back(*id);
  }
  return ids;
}
}  // namespace

BOOST_AUTO_TEST_CASE(exported_captured_events_hash_to_the_event_ids_they_were_captured_with) {
  Api api;
  // JSON with URNs, a sub-second time in another zone; XML; a shipment in a document.
  std::string json_event = CommissionEvent("K1", true);
  json_event.replace(json_event.find("23:16:40+01:00"), 14, "23:16:40.250+01:00");
  Reply json = api.Call("mfg", "POST", "/v1/epcis/events", json_event);
  BOOST_REQUIRE_MESSAGE(json.status == 201, json.body);
  Reply xml = api.Call("mfg", "POST", "/v1/epcis/events", XmlDocument("K2"), kXml);
  BOOST_REQUIRE_MESSAGE(xml.status == 201, xml.body);
  JsonValue shipped =
      Captured(api, "mfg", Document(ShippingEvent("K1", "urn:epc:id:pgln:4000001.00000")));
  BOOST_REQUIRE(shipped.find("success")->as_bool());
  const std::map<std::string, std::vector<std::string>> captured = {
      {"K1",
       {Api::Body(json).find("eventID")->as_string(),
        shipped.find("events")->as_array()[0].find("eventID")->as_string()}},
      {"K2", {Api::Body(xml).find("eventID")->as_string()}}};
  for (const auto& [serial, ids] : captured) {
    const std::string target = "/v1/epcis/events?epc=" + UrlEncode(PackCode(serial));
    Reply r = api.Call("mfg", "GET", target);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    JsonValue doc = Api::Body(r);
    BOOST_TEST(RecomputedIds(doc, doc.find("epcisBody")->find("eventList")->as_array()) == ids,
               serial << ": " << r.body);
    Reply x = api.Call("mfg", "GET", target, "", {{"Accept", "application/xml"}});
    BOOST_REQUIRE_MESSAGE(x.status == 200, x.body);
    auto back = pedigree::scanner::epcis::ParseEpcisXml(x.body);
    BOOST_REQUIRE_MESSAGE(back.has_value(), x.body);
    const JsonArray& events = back->document.find("epcisBody")->find("eventList")->as_array();
    BOOST_TEST(RecomputedIds(back->document, events) == ids, serial << ": " << x.body);
    // The query interface answers the same events under the same IDs.
    Reply q =
        api.Call("mfg", "GET",
                 "/v1/epcis/epcs/" + UrlEncode("https://id.gs1.org/01/" + kGtin + "/21/" + serial) +
                     "/events");
    BOOST_REQUIRE_MESSAGE(q.status == 200, q.body);
    JsonValue qdoc = Api::Body(q);
    const JsonArray& found = qdoc.find("epcisBody")
                                 ->find("queryResults")
                                 ->find("resultsBody")
                                 ->find("eventList")
                                 ->as_array();
    BOOST_TEST(RecomputedIds(qdoc, found) == ids, serial << ": " << q.body);
  }
  // What the partner wrote is what the export writes: the URN, the sub-second time.
  Reply k1 = api.Call("mfg", "GET", "/v1/epcis/events?epc=" + UrlEncode(PackCode("K1")));
  const JsonValue k1_doc = Api::Body(k1);
  const JsonValue& first = k1_doc.find("epcisBody")->find("eventList")->as_array()[0];
  BOOST_TEST(first.find("eventTime")->as_string() == "2026-11-21T23:16:40.250+01:00");
  BOOST_TEST(first.find("epcList")->as_array()[0].as_string().starts_with("urn:epc:id:sgtin:"));
  // Filters match what the event means, whatever form it came in (a URN bizStep here).
  Reply steps = api.Call("mfg", "GET",
                         "/v1/epcis/events?EQ_bizStep=commissioning&MATCH_epc=" +
                             UrlEncode("https://id.gs1.org/01/" + kGtin + "/21/K1"));
  BOOST_REQUIRE_MESSAGE(steps.status == 200, steps.body);
  BOOST_TEST(Api::Body(steps)
                 .find("epcisBody")
                 ->find("queryResults")
                 ->find("resultsBody")
                 ->find("eventList")
                 ->size() == 1u);
}

// Idempotency inside a capture (issue 15): the Event Hash ID is the key, judged before the
// commit.
BOOST_AUTO_TEST_CASE(a_repeated_capture_appends_nothing_and_answers_the_first_indexes) {
  Api api;
  const std::string doc = Document(CommissionEvent("D1") + "," + CommissionEvent("D2"));
  JsonValue first = Captured(api, "mfg", doc);
  BOOST_REQUIRE_EQUAL(first.find("status")->as_string(), "success");
  const auto& captured = first.find("events")->as_array();
  for (const JsonValue& e : captured) BOOST_TEST(e.find("duplicate") == nullptr);
  const uint64_t size = api.node_->ledger().size();
  // The same document again, as rollback and as proceed: nothing appended, every event a
  // duplicate answering its first index.
  for (const char* behaviour : {"rollback", "proceed"}) {
    JsonValue again = Captured(api, "mfg", doc, behaviour);
    BOOST_TEST(again.find("status")->as_string() == "success", behaviour);
    const auto& events = again.find("events")->as_array();
    BOOST_REQUIRE_EQUAL(events.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      BOOST_TEST(events[i].find("duplicate")->as_bool());
      BOOST_TEST(events[i].find("index")->as_int() == captured[i].find("index")->as_int());
    }
    BOOST_TEST(api.node_->ledger().size() == size);
  }
  // A document repeating one event beside a new one: the new one is appended, the repeat
  // answers its first index.
  JsonValue mixed =
      Captured(api, "mfg", Document(CommissionEvent("D1", true) + "," + CommissionEvent("D3")));
  const auto& events = mixed.find("events")->as_array();
  BOOST_TEST(events[0].find("duplicate")->as_bool());
  BOOST_TEST(events[0].find("index")->as_int() == captured[0].find("index")->as_int());
  BOOST_TEST(events[1].find("duplicate") == nullptr);
  BOOST_TEST(events[1].find("index")->as_int() == static_cast<int64_t>(size));
  BOOST_TEST(api.node_->ledger().size() == size + 1);
}

BOOST_AUTO_TEST_CASE(an_event_twice_in_one_document_is_appended_once) {
  Api api;
  const uint64_t size = api.node_->ledger().size();
  // The second is the first reordered, with an EPC URN: the same Event Hash ID.
  JsonValue job =
      Captured(api, "mfg", Document(CommissionEvent("D4") + "," + CommissionEvent("D4", true)));
  BOOST_TEST(job.find("status")->as_string() == "success");
  const auto& events = job.find("events")->as_array();
  BOOST_REQUIRE_EQUAL(events.size(), 2u);
  BOOST_TEST(events[0].find("eventID")->as_string() == events[1].find("eventID")->as_string());
  BOOST_TEST(events[0].find("duplicate") == nullptr);
  BOOST_TEST(events[1].find("duplicate")->as_bool());
  BOOST_TEST(events[1].find("index")->as_int() == events[0].find("index")->as_int());
  BOOST_TEST(api.node_->ledger().size() == size + 1);
}

namespace {
JsonValue CommissionCommand(const std::string& serial, const std::string& client_id) {
  return JsonValue::Object()
      .set("kind", "commission")
      .set("gtin", kGtin)
      .set("lot", "LOT1")
      .set("location", kMfgGln)
      .set("serials", Strings({serial}))
      .set("clientId", client_id);
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_group_reusing_an_idempotency_key_for_another_command_writes_nothing) {
  Api api;
  auto first = api.node_->SubmitAs("mfg", CommissionCommand("G1", "k1"));
  BOOST_REQUIRE(first.has_value());
  const uint64_t size = api.node_->ledger().size();
  // k1 is on the ledger for G1: the group is refused before its commit, G2 is not written.
  auto logged = api.node_->SubmitGroupAs(
      "mfg", {CommissionCommand("G2", "k2"), CommissionCommand("G3", "k1")});
  BOOST_REQUIRE_EQUAL(logged.size(), 2u);
  BOOST_REQUIRE(!logged[1].has_value());
  BOOST_TEST(logged[1].error().code() == "idempotency.conflict");
  BOOST_TEST(logged[1].error().message().find("entry " + std::to_string(*first)) !=
             std::string::npos);
  BOOST_REQUIRE(!logged[0].has_value());
  BOOST_TEST(logged[0].error().code() == "sequencer.group_aborted");
  BOOST_TEST(api.node_->ledger().size() == size);
  // The same key twice in one group for two commands.
  auto twice = api.node_->SubmitGroupAs(
      "mfg", {CommissionCommand("G4", "k3"), CommissionCommand("G5", "k3")});
  BOOST_REQUIRE(!twice[1].has_value());
  BOOST_TEST(twice[1].error().code() == "idempotency.conflict");
  BOOST_TEST(twice[1].error().message().find("payload 0 of the same group") != std::string::npos);
  BOOST_TEST(twice[0].error().code() == "sequencer.group_aborted");
  BOOST_TEST(api.node_->ledger().size() == size);
  for (const char* serial : {"G2", "G4", "G5"}) {
    Reply v = api.Call("mfg", "GET", "/v1/verify?code=" + UrlEncode(PackCode(serial)));
    BOOST_TEST(Api::Body(v).find("status")->as_string() == "unknown", serial);
  }
  // Replays are no conflict: a new command, its repeat and a replay of G1 append one entry.
  auto replays =
      api.node_->SubmitGroupAs("mfg", {CommissionCommand("G6", "k4"), CommissionCommand("G6", "k4"),
                                       CommissionCommand("G1", "k1")});
  BOOST_REQUIRE(replays[0].has_value());
  BOOST_REQUIRE(replays[1].has_value());
  BOOST_REQUIRE(replays[2].has_value());
  BOOST_TEST(*replays[0] == size);
  BOOST_TEST(*replays[1] == size);
  BOOST_TEST(*replays[2] == *first);
  BOOST_TEST(api.node_->ledger().size() == size + 1);
}

// POST /v1/events/batch: client-signed envelopes, all or nothing.
BOOST_AUTO_TEST_CASE(a_batch_of_client_signed_envelopes_is_appended_all_or_nothing) {
  Api api;
  auto envelope = [&](JsonValue payload) {
    return pedigree::ParseJson(SignCommand(payload, "mfg", api.keys_.at("mfg"), api.now_, "cli-",
                                           api.node_->ledger().origin())
                                   .value())
        .value();
  };
  auto batch = [&](std::initializer_list<JsonValue> envelopes) {
    JsonValue list = JsonValue::Array();
    for (const JsonValue& e : envelopes) list.push_back(e);
    return pedigree::Canonicalize(JsonValue::Object().set("envelopes", list));
  };
  const JsonValue b1 = envelope(CommissionCommand("B1", "b1"));
  const JsonValue b2 = envelope(CommissionCommand("B2", "b2"));
  // B9 was never commissioned: the rules refuse its shipment, and with it the batch.
  const JsonValue ship =
      envelope(JsonValue::Object()
                   .set("kind", "ship")
                   .set("epcs", Strings({"https://id.gs1.org/01/" + kGtin + "/21/B9"}))
                   .set("to", "ph1")
                   .set("toLocation", kPh1Gln)
                   .set("despatchAdvice", "DA-B9")
                   .set("clientId", "b9"));
  const uint64_t size = api.node_->ledger().size();
  Reply refused = api.Call("mfg", "POST", "/v1/events/batch", batch({b1, ship, b2}));
  BOOST_TEST(refused.status >= 400);
  BOOST_TEST(refused.status < 500);
  const JsonValue refusal = Api::Body(refused);
  const JsonValue* error = refusal.find("error");
  BOOST_REQUIRE(error != nullptr);
  BOOST_TEST(error->find("field")->as_string().starts_with("envelopes/1"), refused.body);
  BOOST_TEST(error->find("message")->as_string().find("nothing of the batch was written") !=
             std::string::npos);
  for (uint64_t i = size; i < api.node_->ledger().size(); ++i) {
    BOOST_TEST(
        ParseJson(*api.node_->ledger().Entry(i))->find("payload")->find("kind")->as_string() ==
        "alert");
  }
  const uint64_t after_alert = api.node_->ledger().size();
  Reply ok = api.Call("mfg", "POST", "/v1/events/batch", batch({b1, b2}));
  BOOST_REQUIRE_MESSAGE(ok.status == 201, ok.body);
  const JsonValue answer = Api::Body(ok);
  const auto& results = answer.find("results")->as_array();
  BOOST_REQUIRE_EQUAL(results.size(), 2u);
  BOOST_TEST(results[0].find("index")->as_int() == static_cast<int64_t>(after_alert));
  BOOST_TEST(results[1].find("duplicate") == nullptr);
  Reply again = api.Call("mfg", "POST", "/v1/events/batch", batch({b2, b1}));
  BOOST_REQUIRE_EQUAL(again.status, 201);
  BOOST_TEST(Api::Body(again).find("results")->as_array()[0].find("duplicate")->as_bool());
  BOOST_TEST(Api::Body(again).find("results")->as_array()[0].find("index")->as_int() ==
             results[1].find("index")->as_int());
  BOOST_TEST(api.node_->ledger().size() == after_alert + 2);
  // Another organisation's token may not post the manufacturer's envelopes.
  Reply foreign = api.Call("ph1", "POST", "/v1/events/batch", batch({b1}));
  BOOST_TEST(foreign.status == 403);
  BOOST_TEST(Api::ErrorCode(foreign) == "auth.forbidden_org");
  Reply empty = api.Call("mfg", "POST", "/v1/events/batch", R"({"envelopes":[]})");
  BOOST_TEST(empty.status == 400);
  BOOST_TEST(Api::ErrorCode(empty) == "request.invalid_body");
}

BOOST_AUTO_TEST_CASE(a_registered_gln_names_its_organisation) {
  Api api;
  Reply found = api.Call("mfg", "GET", "/v1/glns/" + kPh1Gln);
  BOOST_REQUIRE_MESSAGE(found.status == 200, found.body);
  BOOST_TEST(Api::Body(found).find("org")->as_string() == "ph1");
  BOOST_TEST(Api::Body(found).find("gln")->as_string() == kPh1Gln);
  Reply unknown = api.Call("mfg", "GET", "/v1/glns/4000003000003");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(Api::ErrorCode(unknown) == "registry.gln_not_found");
  BOOST_TEST(api.Call("", "GET", "/v1/glns/" + kPh1Gln).status == 401);
}

BOOST_AUTO_TEST_CASE(malformed_json_capture_still_names_its_line) {
  Api api;
  Reply r = api.Call("mfg", "POST", "/v1/epcis/capture", "{\"type\":\n\"EPCISDocument\",}");
  BOOST_TEST(r.status == 400);
  BOOST_TEST(r.body.find("request.invalid_json") != std::string::npos, r.body);
}

BOOST_AUTO_TEST_SUITE_END()
