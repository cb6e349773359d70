// Who may call what, over a real socket: every route the router holds × every role × an
// object of the caller's own organisation or of another (docs/api.md, "Access rules"). The
// routes come from the router itself, so a route added without a row in the table below
// fails this test. Two organisations per role: side A and side B run the same supply chain
// and the same trial; the regulator, admin, witness and mirror stand alone.
#include <boost/test/unit_test.hpp>
#include <set>

#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/token_grants.h"
#include "pedigree/usecases/trial_store.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;

namespace {

std::string WithCheckDigit(const std::string& digits) {
  return digits + std::to_string(provenance::Gs1CheckDigit(digits));
}

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

std::string Encode(const std::string& s) { return provenance::PercentEncode(s); }

// One side of the scenario: its organisations and the objects they made.
struct Side {
  std::string x;  // "A" or "B"
  std::string company_prefix, gtin, sscc, mfg_gln, wh_gln, dsp_gln;
  std::string trial, kit;
  uint64_t ship_entry = 0;  // mfg ships the case to the wholesaler.
  uint64_t alert = 0;       // about a pack of this side's manufacturer.

  std::string Org(const std::string& role) const { return role + "-" + (x == "A" ? "a" : "b"); }
  std::string Pack(const std::string& serial) const {
    return "https://id.gs1.org/01/" + gtin + "/21/" + serial;
  }
};

Side MakeSide(const std::string& x, const std::string& digit) {
  Side s;
  s.x = x;
  s.company_prefix = "950600" + digit;
  s.gtin = WithCheckDigit("0" + s.company_prefix + "13435");
  s.sscc = WithCheckDigit("0" + s.company_prefix + "000000001");
  s.mfg_gln = WithCheckDigit(s.company_prefix + "00000");
  s.wh_gln = WithCheckDigit("400000" + digit + "00000");
  s.dsp_gln = WithCheckDigit("400001" + digit + "00000");
  s.trial = "TRIAL-" + x;
  s.kit = "https://id.gs1.org/01/" + s.gtin + "/21/KIT" + x;
  return s;
}

class Scenario {
 public:
  Scenario() {
    node_ = SupplyNode::Create(tmp_ / "ledger", "example.org/access-test", authority_.public_key())
                .value();
    node_->SetClock([this] { return now_; });
    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    store_ = SponsorStore::Open(tmp_ / "sponsor.db").value();
    for (Side* s : {&a_, &b_}) {
      Register(s->Org("mfg"), "manufacturer", {s->company_prefix}, {s->mfg_gln});
      Register(s->Org("wh"), "wholesaler", {s->wh_gln.substr(0, 7)}, {s->wh_gln});
      Register(s->Org("dsp"), "dispenser", {s->dsp_gln.substr(0, 7)}, {s->dsp_gln});
      Register(s->Org("sp"), "sponsor", {}, {});
      Register(s->Org("site"), "site", {}, {});
    }
    Register("reg", "regulator", {}, {});
    // admin is node-local: the registry grants it to this node's operator only (below).
    Register("adm", "witness", {}, {}, "admin");
    Register("wit", "witness", {}, {});
    Register("mir", "mirror", {}, {});

    Router router;
    ApiOptions options;
    options.responder_gln = "4000009000007";
    options.sponsor_store = store_.get();
    BOOST_REQUIRE(AddApiRoutes(router, *node_, options).has_value());
    for (const Route& r : router.routes()) routes_.push_back(r);
    ServerConfig config;
    config.threads = 2;
    config.granted_roles = RegistryGrants(*node_, "adm");  // as `pedigree serve` sets it
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());

    for (Side* s : {&a_, &b_}) SupplyChain(*s);
    for (Side* s : {&a_, &b_}) Trial(*s);
    // A pharmacy of side B records a scan of side A's pack: that is no part in it.
    Submit(b_.Org("dsp"), JsonValue::Object()
                              .set("kind", "verify")
                              .set("epcs", Strings({a_.Pack("S1")}))
                              .set("location", b_.dsp_gln)
                              .set("verified", true)
                              .set("reasons", JsonValue::Array()));
  }

  void Register(const std::string& id, const std::string& role, std::vector<std::string> prefixes,
                std::vector<std::string> glns, const std::string& token_role = "") {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_,
        {id, id, {role}, std::move(prefixes), std::move(glns), ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    role_[id] = token_role.empty() ? role : token_role;
    token_[id] = tokens_->Issue(id, {role_[id]}, "test").value();
  }

  uint64_t Submit(const std::string& org, JsonValue payload) {
    now_ += 60;
    auto index = node_->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    return *index;
  }

  // product, batch, S1 and S2 commissioned into a case -> the case shipped to the wholesaler
  // -> received -> unpacked -> S1 shipped to the pharmacy -> received -> dispensed -> a second
  // dispense of S1, refused: an alert about the manufacturer's pack.
  void SupplyChain(Side& s) {
    const std::string mfg = s.Org("mfg"), wh = s.Org("wh"), dsp = s.Org("dsp");
    Submit(mfg, JsonValue::Object()
                    .set("kind", "product.register")
                    .set("gtin", s.gtin)
                    .set("name", "Product " + s.x));
    Submit(mfg, JsonValue::Object()
                    .set("kind", "batch.register")
                    .set("gtin", s.gtin)
                    .set("lot", "LOT" + s.x)
                    .set("expiry", "2028-03-31")
                    .set("quantity", 10));
    Submit(mfg, JsonValue::Object()
                    .set("kind", "commission")
                    .set("gtin", s.gtin)
                    .set("lot", "LOT" + s.x)
                    .set("location", s.mfg_gln)
                    .set("serials", Strings({"S1", "S2"})));
    Submit(mfg, JsonValue::Object()
                    .set("kind", "aggregate")
                    .set("parent", s.sscc)
                    .set("children", Strings({s.Pack("S1"), s.Pack("S2")})));
    s.ship_entry = Submit(mfg, JsonValue::Object()
                                   .set("kind", "ship")
                                   .set("epcs", Strings({s.sscc}))
                                   .set("to", wh)
                                   .set("toLocation", s.wh_gln)
                                   .set("despatchAdvice", "DA1-" + s.x));
    Submit(wh, JsonValue::Object()
                   .set("kind", "receive")
                   .set("from", mfg)
                   .set("despatchAdvice", "DA1-" + s.x)
                   .set("location", s.wh_gln));
    Submit(wh, JsonValue::Object().set("kind", "disaggregate").set("parent", s.sscc));
    Submit(wh, JsonValue::Object()
                   .set("kind", "ship")
                   .set("epcs", Strings({s.Pack("S1")}))
                   .set("to", dsp)
                   .set("toLocation", s.dsp_gln)
                   .set("despatchAdvice", "DA2-" + s.x));
    Submit(dsp, JsonValue::Object()
                    .set("kind", "receive")
                    .set("from", wh)
                    .set("despatchAdvice", "DA2-" + s.x)
                    .set("location", s.dsp_gln));
    auto dispense = JsonValue::Object()
                        .set("kind", "decommission")
                        .set("epcs", Strings({s.Pack("S1")}))
                        .set("status", "supplied")
                        .set("location", s.dsp_gln);
    Submit(dsp, dispense);
    now_ += 60;
    BOOST_REQUIRE(!node_->SubmitAs(dsp, dispense).has_value());
    auto alerts = node_->Read([](provenance::ProvenanceView& v) { return v.Alerts("", 1); });
    BOOST_REQUIRE(alerts.has_value() && alerts->size() == 1u);
    s.alert = alerts->front().index;
  }

  Reply Call(const std::string& org, const std::string& method, const std::string& target,
             const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!org.empty()) headers["Authorization"] = "Bearer " + token_[org];
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return Exchange(*session_, Send{method, target, body, headers});
  }

  // The sponsor registers its trial with its one site, seals a protocol and registers a kit.
  void Trial(Side& s) {
    const std::string sponsor = s.Org("sp");
    auto signature = JsonValue::Object().set("name", "Dr " + s.x).set("meaning", "approval");
    auto arms = JsonValue::Array();
    arms.push_back(JsonValue::Object().set("code", "PBO").set("name", "Placebo"));
    Reply r =
        Call(sponsor, "POST", "/v1/trials",
             Canonicalize(JsonValue::Object()
                              .set("trialId", s.trial)
                              .set("registryId",
                                   "2026-50012" + std::string(s.x == "A" ? "3" : "4") + "-41-00")
                              .set("title", "Trial " + s.x)
                              .set("sites", Strings({s.Org("site")}))
                              .set("arms", arms)
                              .set("signature", signature)));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
    r = Call(sponsor, "POST", "/v1/kits/register",
             Canonicalize(JsonValue::Object()
                              .set("trialId", s.trial)
                              .set("kits", Strings({s.kit}))
                              .set("lot", "IMP-" + s.x)
                              .set("expiry", "2027-12-31")
                              .set("tempMin", 20)
                              .set("tempMax", 80)
                              .set("signature", signature)));
    BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  }

  static std::string ErrorCode(const Reply& r) {
    auto b = ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("code")->as_string();
  }
  // The members of the error object ("code,field,message"), "" for no error.
  static std::string ErrorMembers(const Reply& r) {
    auto b = ParseJson(r.body);
    const JsonValue* e = b ? b->find("error") : nullptr;
    if (!e || !e->is_object()) return "";
    std::string out;
    for (const char* k : {"code", "message", "field", "line", "column", "offset"}) {
      if (e->find(k)) out += std::string(k) + ",";
    }
    return out;
  }
  static std::string ErrorMessage(const Reply& r) {
    auto b = ParseJson(r.body);
    if (!b || !b->find("error")) return "";
    return b->find("error")->find("message")->as_string();
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = 1'795'300'000;  // 2026-11-22
  Side a_ = MakeSide("A", "0"), b_ = MakeSide("B", "1");
  std::map<std::string, std::string> token_, role_;
  std::vector<Route> routes_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<SponsorStore> store_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

// The expected rule of one route.
struct Rule {
  std::set<std::string> roles;  // Empty: public.
  // The route's scope as registered ("" = roles only), and for a scoped route (or one whose
  // rules refuse foreign objects, as alerts) the code a foreign or unknown object answers.
  std::string scope, not_found;
  // Side A's object, and one that does not exist, in this route's target. Unscoped routes
  // name no object: `own` is the whole target.
  std::string own, unknown;
  // The organisations that see side A's object (the regulator too, where its role is in
  // `roles`).
  std::set<std::string> sees;
  // POST bodies: for the own object and the unknown one ("{}" when empty).
  std::string body, unknown_body;
};

const std::set<std::string> kMembers = {"manufacturer", "wholesaler", "dispenser", "regulator",
                                        "admin"};
const std::set<std::string> kReportMembers = {"manufacturer", "wholesaler", "dispenser",
                                              "regulator"};
const std::set<std::string> kHolders = {"manufacturer", "wholesaler", "dispenser"};
const std::set<std::string> kTrialReaders = {"sponsor", "site", "regulator"};

std::pair<const std::string, Rule> KitRule(const std::string& action, std::set<std::string> roles,
                                           std::string scope, std::set<std::string> sees) {
  const std::string target = "/v1/kits/" + action;
  return {"POST " + target,
          Rule{std::move(roles), std::move(scope), "trial.not_found", target, target,
               std::move(sees), R"({"trialId":"TRIAL-A"})", R"({"trialId":"NO-SUCH-TRIAL"})"}};
}

std::map<std::string, Rule> Rules(const Scenario& s) {
  const Side& a = s.a_;
  const std::string pack = a.gtin + "/S1", pack_code = Encode(a.Pack("S1"));
  const std::string unknown_code = Encode(a.Pack("NOSUCH"));
  const std::string unknown_sscc = WithCheckDigit("0" + a.company_prefix + "000000099");
  // Everyone with a part in side A's pack S1 (its case went mfgA -> whA, S1 on to dspA).
  const std::set<std::string> pack_parties = {"mfg-a", "wh-a", "dsp-a", "reg"};
  const std::set<std::string> trial_sponsor = {"sp-a", "reg"};
  const std::set<std::string> trial_parties = {"sp-a", "site-a", "reg"};
  const std::string t = "/v1/trials/" + a.trial, tu = "/v1/trials/NO-SUCH-TRIAL";
  std::map<std::string, Rule> rules = {
      {"POST /v1/events",
       {{"manufacturer", "wholesaler", "dispenser", "regulator", "admin", "sponsor", "site"},
        "",
        "",
        "/v1/events",
        "",
        {}}},
      {"POST /v1/events/batch",
       {{"manufacturer", "wholesaler", "dispenser", "regulator", "admin", "sponsor", "site"},
        "",
        "",
        "/v1/events/batch",
        "",
        {}}},
      // Registry data: any member may map a GLN to its organisation.
      {"GET /v1/glns/{gln}", {kMembers, "", "", "/v1/glns/9506000000008", "", {}}},
      {"POST /v1/products", {{"manufacturer"}, "", "", "/v1/products", "", {}}},
      {"POST /v1/batches", {{"manufacturer"}, "", "", "/v1/batches", "", {}}},
      {"POST /v1/commission", {{"manufacturer"}, "", "", "/v1/commission", "", {}}},
      {"POST /v1/aggregate", {kHolders, "", "", "/v1/aggregate", "", {}}},
      {"POST /v1/disaggregate", {kHolders, "", "", "/v1/disaggregate", "", {}}},
      {"POST /v1/ship", {kHolders, "", "", "/v1/ship", "", {}}},
      {"POST /v1/receive", {kHolders, "", "", "/v1/receive", "", {}}},
      {"POST /v1/dispense", {{"dispenser", "wholesaler"}, "", "", "/v1/dispense", "", {}}},
      {"POST /v1/decommission", {kHolders, "", "", "/v1/decommission", "", {}}},
      {"POST /v1/undo", {kHolders, "", "", "/v1/undo", "", {}}},
      {"POST /v1/epcis/events", {kHolders, "", "", "/v1/epcis/events", "", {}}},
      {"POST /v1/epcis/capture", {kHolders, "", "", "/v1/epcis/capture", "", {}}},
      // A capture job is its organisation's: others get epcis.capture_not_found.
      {"GET /v1/epcis/capture/{captureID}",
       {kHolders, "", "", "/v1/epcis/capture/0123456789abcdef0123456789abcdef", "", {}}},
      {"POST /v1/batch-status", {{"manufacturer"}, "", "", "/v1/batch-status", "", {}}},
      {"POST /v1/sensor", {kHolders, "", "", "/v1/sensor", "", {}}},
      {"GET /v1/verify", {kMembers, "", "", "/v1/verify?code=" + pack_code, "", {}}},
      // Images (the body "{}" is refused 415; the access checks come first).
      {"POST /v1/verify", {kMembers, "", "", "/v1/verify", "", {}}},
      {"POST /v1/scan", {kMembers, "", "", "/v1/scan", "", {}}},
      // A pack's label: its manufacturer only (the handler's check, not a route scope).
      {"GET /v1/labels/pack/{gtin}/{serial}",
       {{"manufacturer"},
        "",
        "pack.not_found",
        "/v1/labels/pack/" + pack,
        "/v1/labels/pack/" + a.gtin + "/NOSUCH",
        {"mfg-a"}}},
      {"GET /01/{gtin}/21/{serial}",
       {kMembers, "", "", "/01/" + a.gtin + "/21/S1?linkType=gs1:verificationService", "", {}}},
      {"GET /01/{gtin}/10/{lot}/21/{serial}",
       {kMembers,
        "",
        "",
        "/01/" + a.gtin + "/10/LOTA/21/S1?linkType=gs1:verificationService",
        "",
        {}}},
      {"GET /v1/packs/{gtin}/{serial}",
       {kMembers, "pack", "pack.not_found", "/v1/packs/" + pack, "/v1/packs/" + a.gtin + "/NOSUCH",
        pack_parties}},
      {"GET /v1/batches/{gtin}/{lot}",
       {kMembers,
        "batch",
        "batch.not_found",
        "/v1/batches/" + a.gtin + "/LOTA",
        "/v1/batches/" + a.gtin + "/NOSUCH",
        {"mfg-a", "reg"}}},
      {"GET /v1/alerts", {kMembers, "", "", "/v1/alerts", "", {}}},
      {"POST /v1/alerts/{index}/investigate",
       {{"manufacturer", "regulator"},
        "",
        "alert_lifecycle.unknown_alert",
        "/v1/alerts/" + std::to_string(a.alert) + "/investigate",
        "/v1/alerts/" + std::to_string(a.ship_entry) + "/investigate",
        {"mfg-a", "reg"}}},
      {"POST /v1/alerts/{index}/close",
       {{"manufacturer", "regulator"},
        "",
        "alert_lifecycle.unknown_alert",
        "/v1/alerts/" + std::to_string(a.alert) + "/close",
        "/v1/alerts/" + std::to_string(a.ship_entry) + "/close",
        {"mfg-a", "reg"}}},
      {"GET /v1/log/checkpoint", {{}, "", "", "/v1/log/checkpoint", "", {}}},
      {"GET /v1/log/proof/inclusion", {{}, "", "", "/v1/log/proof/inclusion?index=0", "", {}}},
      {"GET /v1/log/proof/consistency",
       {{}, "", "", "/v1/log/proof/consistency?from=1&to=2", "", {}}},
      // Side A's shipment of the case: its sender and its addressee.
      {"GET /v1/log/entries/{index}",
       {{"manufacturer", "wholesaler", "dispenser", "regulator", "admin", "mirror"},
        "entry",
        "entry.not_found",
        "/v1/log/entries/" + std::to_string(a.ship_entry),
        "/v1/log/entries/999999",
        {"mfg-a", "wh-a", "reg", "mir"}}},
      // Entry bundles hold every entry: mirrors and regulators only.
      {"GET /v1/log/tile/entries/{a}",
       {{"mirror", "regulator"}, "", "", "/v1/log/tile/entries/000", "", {}}},
      {"GET /v1/log/tile/entries/{a}/{b}",
       {{"mirror", "regulator"}, "", "", "/v1/log/tile/entries/000.p/3", "", {}}},
      {"GET /v1/log/tile/entries/{a}/{b}/{c}",
       {{"mirror", "regulator"}, "", "", "/v1/log/tile/entries/x001/x000/000", "", {}}},
      {"GET /v1/log/tile/entries/{a}/{b}/{c}/{d}",
       {{"mirror", "regulator"}, "", "", "/v1/log/tile/entries/x001/x000/x000/000", "", {}}},
      {"GET /v1/log/tile/entries/{a}/{b}/{c}/{d}/{e}",
       {{"mirror", "regulator"}, "", "", "/v1/log/tile/entries/x001/x000/x000/x000/000", "", {}}},
      {"GET /v1/log/tile/{level}/{a}", {{}, "", "", "/v1/log/tile/0/000", "", {}}},
      {"GET /v1/log/tile/{level}/{a}/{b}", {{}, "", "", "/v1/log/tile/0/000.p/5", "", {}}},
      {"GET /v1/log/tile/{level}/{a}/{b}/{c}",
       {{}, "", "", "/v1/log/tile/0/x001/x000/000", "", {}}},
      {"GET /v1/log/tile/{level}/{a}/{b}/{c}/{d}",
       {{}, "", "", "/v1/log/tile/0/x001/x000/x000/000", "", {}}},
      {"GET /v1/log/tile/{level}/{a}/{b}/{c}/{d}/{e}",
       {{}, "", "", "/v1/log/tile/0/x001/x000/x000/x000/000", "", {}}},
      // Trials.
      {"POST /v1/trials", {{"sponsor"}, "", "", "/v1/trials", "", {}}},
      {"POST /v1/trials/{id}/protocol",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/protocol",
        tu + "/protocol",
        trial_sponsor}},
      {"POST /v1/trials/{id}/enrol",
       {{"site"}, "trial", "trial.not_found", t + "/enrol", tu + "/enrol", trial_parties}},
      {"POST /v1/trials/{id}/locks",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/locks",
        tu + "/locks",
        trial_sponsor}},
      {"POST /v1/trials/{id}/consent-forms",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/consent-forms",
        tu + "/consent-forms",
        trial_sponsor}},
      {"GET /v1/trials/{id}/consent-forms",
       {kTrialReaders, "trial", "trial.not_found", t + "/consent-forms", tu + "/consent-forms",
        trial_parties}},
      {"GET /v1/trials/{id}/consents",
       {kTrialReaders, "trial", "trial.not_found", t + "/consents", tu + "/consents",
        trial_parties}},
      {"GET /v1/trials/{id}/withdrawals",
       {kTrialReaders, "trial", "trial.not_found", t + "/withdrawals", tu + "/withdrawals",
        trial_parties}},
      {"POST /v1/trials/{id}/consents",
       {{"site"}, "trial", "trial.not_found", t + "/consents", tu + "/consents", trial_parties}},
      {"POST /v1/trials/{id}/withdrawals",
       {{"site"},
        "trial",
        "trial.not_found",
        t + "/withdrawals",
        tu + "/withdrawals",
        trial_parties}},
      {"POST /v1/trials/{id}/grants",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/grants",
        tu + "/grants",
        trial_sponsor}},
      {"POST /v1/trials/{id}/grants/{gid}/revoke",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/grants/G1/revoke",
        tu + "/grants/G1/revoke",
        trial_sponsor}},
      {"GET /v1/trials/{id}/grants",
       {kTrialReaders, "trial-grant", "trial.not_found", t + "/grants", tu + "/grants",
        trial_sponsor}},
      {"POST /v1/trials/{id}/withdrawals/honour",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/withdrawals/honour",
        tu + "/withdrawals/honour",
        trial_sponsor}},
      {"POST /v1/trials/{id}/submissions",
       {{"site", "sponsor"},
        "trial",
        "trial.not_found",
        t + "/submissions",
        tu + "/submissions",
        trial_parties}},
      {"POST /v1/trials/{id}/seals",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/seals",
        tu + "/seals",
        trial_sponsor}},
      {"POST /v1/trials/{id}/verify",
       {kTrialReaders, "trial-grant", "trial.not_found", t + "/verify", tu + "/verify",
        trial_sponsor}},
      {"GET /v1/trials/{id}/disclosures",
       {kTrialReaders, "trial-grant", "trial.not_found", t + "/disclosures?domain=DM&key=x",
        tu + "/disclosures?domain=DM&key=x", trial_sponsor}},
      {"POST /v1/disclosures/verify", {{}, "", "", "/v1/disclosures/verify", "", {}}},
      {"POST /v1/receipts/verify", {{}, "", "", "/v1/receipts/verify", "", {}}},
      {"GET /v1/trials/{id}/accesses",
       {{"sponsor", "regulator"},
        "trial-sponsor",
        "trial.not_found",
        t + "/accesses",
        tu + "/accesses",
        trial_sponsor}},
      {"POST /v1/trials/{id}/redactions",
       {{"sponsor"},
        "trial-sponsor",
        "trial.not_found",
        t + "/redactions",
        tu + "/redactions",
        trial_sponsor}},
      {"POST /v1/trials/{id}/outcome-check",
       {kTrialReaders, "trial", "trial.not_found", t + "/outcome-check", tu + "/outcome-check",
        trial_parties}},
      {"POST /v1/trials/{id}/receipts",
       {kTrialReaders, "trial", "trial.not_found", t + "/receipts", tu + "/receipts",
        trial_parties}},
      {"GET /v1/trials/{id}", {kTrialReaders, "trial", "trial.not_found", t, tu, trial_parties}},
      {"GET /v1/kits/{kit}",
       {kTrialReaders, "kit", "kit.not_found", "/v1/kits/" + Encode(a.kit),
        "/v1/kits/" + Encode(a.Pack("NOSUCH")), trial_parties}},
      {"GET /v1/kits",
       {kTrialReaders, "kit", "kit.not_found", "/v1/kits?code=" + Encode(a.kit),
        "/v1/kits?code=" + unknown_code, trial_parties}},
      // Kit commands name their trial in the body.
      KitRule("register", {"sponsor"}, "trial-sponsor", trial_sponsor),
      KitRule("ship", {"sponsor"}, "trial-sponsor", trial_sponsor),
      KitRule("receive", {"site"}, "trial", trial_parties),
      KitRule("assign", {"site"}, "trial", trial_parties),
      KitRule("dispense", {"site"}, "trial", trial_parties),
      KitRule("return", {"site"}, "trial", trial_parties),
      KitRule("excursion", {"site", "sponsor"}, "trial", trial_parties),
      KitRule("decision", {"sponsor"}, "trial-sponsor", trial_sponsor),
      // Reports and bundles.
      {"GET /v1/reports/pack",
       {kReportMembers, "pack", "pack.not_found", "/v1/reports/pack?code=" + pack_code,
        "/v1/reports/pack?code=" + unknown_code, pack_parties}},
      // EPCIS export: a pack by the pack rule, a case or pallet by the container rule.
      {"GET /v1/epcis/events",
       {kReportMembers, "epc", "pack.not_found", "/v1/epcis/events?epc=" + pack_code,
        "/v1/epcis/events?epc=" + unknown_code, pack_parties}},
      // The EPCIS query interface: the EPC path by the same rule; the other paths and named
      // queries filter event by event (api_epcis_query_test.cpp).
      {"GET /v1/epcis/epcs/{epc}/events",
       {kReportMembers, "epc", "pack.not_found", "/v1/epcis/epcs/" + pack_code + "/events",
        "/v1/epcis/epcs/" + unknown_code + "/events", pack_parties}},
      {"GET /v1/epcis/eventTypes/{value}/events",
       {kReportMembers, "", "", "/v1/epcis/eventTypes/ObjectEvent/events", "", {}}},
      {"GET /v1/epcis/bizSteps/{value}/events",
       {kReportMembers, "", "", "/v1/epcis/bizSteps/shipping/events", "", {}}},
      {"GET /v1/epcis/bizLocations/{value}/events",
       {kReportMembers,
        "",
        "",
        "/v1/epcis/bizLocations/" + Encode("https://id.gs1.org/414/4000001000005") + "/events",
        "",
        {}}},
      {"GET /v1/epcis/readPoints/{value}/events",
       {kReportMembers,
        "",
        "",
        "/v1/epcis/readPoints/" + Encode("https://id.gs1.org/414/4000001000005") + "/events",
        "",
        {}}},
      {"GET /v1/epcis/dispositions/{value}/events",
       {kReportMembers, "", "", "/v1/epcis/dispositions/in_transit/events", "", {}}},
      {"POST /v1/epcis/queries",
       {kReportMembers,
        "",
        "",
        "/v1/epcis/queries",
        "",
        {},
        R"({"name":"q","query":{"EQ_bizStep":"shipping"}})"}},
      {"GET /v1/epcis/queries/{name}/events",
       {kReportMembers, "", "", "/v1/epcis/queries/q/events", "", {}}},
      {"GET /v1/bundles/pack",
       {kReportMembers, "pack", "pack.not_found", "/v1/bundles/pack?code=" + pack_code,
        "/v1/bundles/pack?code=" + unknown_code, pack_parties}},
      // The case went from mfgA to whA only.
      {"GET /v1/reports/container",
       {kReportMembers,
        "container",
        "container.not_found",
        "/v1/reports/container?code=" + a.sscc,
        "/v1/reports/container?code=" + unknown_sscc,
        {"mfg-a", "wh-a", "reg"}}},
      {"GET /v1/bundles/container",
       {kReportMembers,
        "container",
        "container.not_found",
        "/v1/bundles/container?code=" + a.sscc,
        "/v1/bundles/container?code=" + unknown_sscc,
        {"mfg-a", "wh-a", "reg"}}},
      {"GET /v1/containers/{sscc}",
       {kReportMembers,
        "container",
        "container.not_found",
        "/v1/containers/" + a.sscc,
        "/v1/containers/" + unknown_sscc,
        {"mfg-a", "wh-a", "reg"}}},
      {"GET /v1/reports/batch/{gtin}/{lot}",
       {kReportMembers,
        "batch",
        "batch.not_found",
        "/v1/reports/batch/" + a.gtin + "/LOTA",
        "/v1/reports/batch/" + a.gtin + "/NOSUCH",
        {"mfg-a", "reg"}}},
      {"GET /v1/reports/trial/{id}",
       {kTrialReaders, "trial", "trial.not_found", "/v1/reports/trial/" + a.trial,
        "/v1/reports/trial/NO-SUCH-TRIAL", trial_parties}},
      {"GET /v1/reports/audit", {{"regulator", "witness"}, "", "", "/v1/reports/audit", "", {}}},
      // An audit job is its organisation's: others get report.no_audit_job.
      {"POST /v1/reports/audit/jobs",
       {{"regulator", "witness"}, "", "", "/v1/reports/audit/jobs", "", {}}},
      {"GET /v1/reports/audit/jobs/{id}",
       {{"regulator", "witness"}, "", "", "/v1/reports/audit/jobs/0123456789abcdef", "", {}}},
      // The chassis' own.
      {"GET /healthz", {{}, "", "", "/healthz", "", {}}},
      {"GET /metrics", {{}, "", "", "/metrics", "", {}}},
  };
  return rules;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(api_access)

BOOST_AUTO_TEST_CASE(every_route_has_a_rule_and_the_router_registers_it_as_written) {
  Scenario s;
  const auto rules = Rules(s);
  std::set<std::string> routed = {"GET /healthz", "GET /metrics"};  // added by HttpServer
  for (const Route& r : s.routes_) {
    const std::string key = r.method + " " + r.pattern;
    routed.insert(key);
    auto rule = rules.find(key);
    BOOST_TEST_CONTEXT(key) {
      BOOST_TEST_REQUIRE((rule != rules.end()),
                         "no access rule in this test (and docs/api.md) for the route");
      BOOST_TEST(r.access.is_public == rule->second.roles.empty());
      BOOST_TEST((r.access.any_of == rule->second.roles));
      BOOST_TEST(r.access.scope == rule->second.scope);
    }
  }
  for (const auto& [key, rule] : rules) {
    BOOST_TEST(routed.contains(key), key << " has a rule but no route");
  }
}

BOOST_AUTO_TEST_CASE(every_route_by_every_role_on_its_own_and_a_foreign_object) {
  Scenario s;
  const auto rules = Rules(s);
  for (const auto& [key, rule] : rules) {
    const std::string method = key.substr(0, key.find(' '));
    const std::string post = method == "POST" ? "{}" : "";
    const std::string body = rule.body.empty() ? post : rule.body;
    const std::string unknown_body = rule.unknown_body.empty() ? post : rule.unknown_body;
    for (const auto& [org, role] : s.role_) {
      BOOST_TEST_CONTEXT(key << " as " << org << " (" << role << ")") {
        Reply r = s.Call(org, method, rule.own, body);
        BOOST_TEST_INFO(rule.own << " -> " << r.body.substr(0, 300));
        if (rule.roles.empty()) {
          BOOST_TEST(r.status != 401);
          BOOST_TEST(r.status != 403);
          continue;
        }
        if (!rule.roles.contains(role)) {
          BOOST_TEST(r.status == 403);
          BOOST_TEST(Scenario::ErrorCode(r) == "auth.forbidden_role");
          continue;
        }
        if (rule.not_found.empty() || rule.sees.contains(org)) {
          // Allowed: whatever the handler answers to this request, but no refusal of access.
          // A record read refused for want of a trial grant is the handler's answer (and is
          // recorded on the ledger), not the access layer's.
          if (rule.scope == "trial-grant" && Scenario::ErrorCode(r) == "trial.no_grant") continue;
          BOOST_TEST(r.status != 401);
          BOOST_TEST(r.status != 403);
          BOOST_TEST(r.status < 500);
          if (!rule.not_found.empty()) BOOST_TEST(Scenario::ErrorCode(r) != rule.not_found);
          continue;
        }
        // Foreign: exactly as an object that does not exist, naming what was asked for.
        BOOST_TEST(r.status == 404);
        BOOST_TEST(Scenario::ErrorCode(r) == rule.not_found);
        Reply unknown = s.Call(org, method, rule.unknown, unknown_body);
        BOOST_TEST(unknown.status == 404);
        BOOST_TEST(Scenario::ErrorCode(unknown) == rule.not_found);
        BOOST_TEST(Scenario::ErrorMembers(unknown) == Scenario::ErrorMembers(r));
      }
    }
  }
}

// The leaks issue 12 names, one by one.
BOOST_AUTO_TEST_CASE(another_sponsor_cannot_read_or_probe_a_trial) {
  Scenario s;
  for (const std::string& target :
       {"/v1/trials/" + s.a_.trial + "/disclosures?domain=DM&key=x", "/v1/trials/" + s.a_.trial}) {
    Reply r = s.Call("sp-b", "GET", target);
    BOOST_TEST(r.status == 404, target << ": " << r.body);
    BOOST_TEST(Scenario::ErrorMessage(r) == "no trial '" + s.a_.trial + "'");
  }
  for (const char* action : {"/verify", "/outcome-check"}) {
    Reply r = s.Call("sp-b", "POST", "/v1/trials/" + s.a_.trial + action, "{}");
    BOOST_TEST(r.status == 404, action << ": " << r.body);
    BOOST_TEST(Scenario::ErrorCode(r) == "trial.not_found");
  }
  // Its own trial answers its own way.
  BOOST_TEST(s.Call("sp-b", "GET", "/v1/trials/" + s.b_.trial).status == 200);
}

BOOST_AUTO_TEST_CASE(a_recorded_scan_is_no_part_in_a_pack) {
  Scenario s;
  // dspB recorded a verify of side A's S1 (see Scenario): it still sees no history.
  Reply r = s.Call("dsp-b", "GET", "/v1/packs/" + s.a_.gtin + "/S1");
  BOOST_TEST(r.status == 404, r.body);
  BOOST_TEST(Scenario::ErrorMessage(r) == "no pack " + s.a_.gtin + " / S1");
  Reply unknown = s.Call("dsp-b", "GET", "/v1/packs/" + s.a_.gtin + "/S9");
  BOOST_TEST(Scenario::ErrorMessage(unknown) == "no pack " + s.a_.gtin + " / S9");
  // The wholesaler that received S1 inside the case sees it; so does the pharmacy.
  BOOST_TEST(s.Call("wh-a", "GET", "/v1/packs/" + s.a_.gtin + "/S1").status == 200);
  BOOST_TEST(s.Call("dsp-a", "GET", "/v1/packs/" + s.a_.gtin + "/S1").status == 200);
  // S2 reached the wholesaler only inside the case, and stayed there.
  BOOST_TEST(s.Call("wh-a", "GET", "/v1/packs/" + s.a_.gtin + "/S2").status == 200);
  BOOST_TEST(s.Call("dsp-a", "GET", "/v1/packs/" + s.a_.gtin + "/S2").status == 404);
}

BOOST_AUTO_TEST_CASE(log_entries_are_for_their_parties_and_regulators) {
  Scenario s;
  const std::string entry = "/v1/log/entries/" + std::to_string(s.a_.ship_entry);
  for (const char* org : {"mfg-a", "wh-a", "reg", "mir"})
    BOOST_TEST(s.Call(org, "GET", entry).status == 200);
  for (const char* org : {"mfg-b", "wh-b", "dsp-a", "adm"}) {
    Reply r = s.Call(org, "GET", entry);
    BOOST_TEST(r.status == 404, org << ": " << r.body);
    BOOST_TEST(Scenario::ErrorMessage(r) ==
               "no entry " + std::to_string(s.a_.ship_entry) + " in this log");
  }
  // The alert about side A's pack is not for side B's manufacturer either.
  Reply alert = s.Call("mfg-b", "GET", "/v1/log/entries/" + std::to_string(s.a_.alert));
  BOOST_TEST(alert.status == 404);
}

BOOST_AUTO_TEST_SUITE_END()
