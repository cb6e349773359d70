// Answers a user can act on, over a real socket: refusals carry the next step and the
// facts on the ledger behind them, verify answers say where the pack is relative to the
// caller, a commission's generated serials come back, containers take any scanner form.
#include <boost/test/unit_test.hpp>

#include "common/pg_cluster.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/http/api.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/supply_actions.h"

using namespace pedigree;
using namespace pedigree::services;
using pedigree::services::testing::Exchange;
using pedigree::services::testing::Reply;
using pedigree::services::testing::Send;

namespace {

const std::string kGtin = "09506000134352";
const std::string kMfgGln = "9506000000008", kWsGln = "4000003000003", kPh1Gln = "4000001000005",
                  kPh2Gln = "4000002000004";

// A manufacturer, a wholesaler and a pharmacy whose keys the node holds; one product, one
// batch of 20 and packs S1..S4 at the manufacturer.
// `storage`: empty for SQLite, or a PostgreSQL database for the node's data.
class AnswersApi {
 public:
  explicit AnswersApi(const std::string& storage = {}) {
    node_ = SupplyNode::Create(tmp_ / "ledger", "example.org/answers-test", authority_.public_key(),
                               {}, storage)
                .value();
    node_->SetClock([] { return int64_t{1'795'300'000}; });  // 2026-11-21T22:26:40Z
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("north-wholesale", "wholesaler", "4000003", kWsGln);
    Register("ph1", "dispenser", "4000001", kPh1Gln);
    Register("ph2", "dispenser", "4000002", kPh2Gln);
    Submit("mfg", R"({"kind":"product.register","gtin":")" + kGtin + R"(","name":"Examplamab"})");
    Submit("mfg", R"({"kind":"batch.register","gtin":")" + kGtin +
                      R"(","lot":"LOT1","expiry":"2028-03-31","quantity":20})");
    Submit("mfg", R"({"kind":"commission","gtin":")" + kGtin + R"(","lot":"LOT1","location":")" +
                      kMfgGln + R"(","serials":["S1","S2","S3","S4"]})");
    tokens_ = TokenStore::Open(tmp_ / "tokens.db").value();
    for (auto [org, role] : {std::pair{"mfg", "manufacturer"},
                             {"north-wholesale", "wholesaler"},
                             {"ph1", "dispenser"},
                             {"ph2", "dispenser"}}) {
      token_[org] = tokens_->Issue(org, {role}, "test").value();
    }
    Router router;
    BOOST_REQUIRE(AddApiRoutes(router, *node_, ApiOptions{"4000009000007"}).has_value());
    server_ = HttpServer::Start(ServerConfig{}, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());
  }

  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }

  uint64_t Submit(const std::string& org, const std::string& json) {
    auto index = node_->SubmitAs(org, ParseJson(json).value());
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    return *index;
  }

  Reply Call(const std::string& org, const std::string& method, const std::string& target,
             const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!org.empty()) headers["Authorization"] = "Bearer " + token_[org];
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return Exchange(*session_, Send{method, target, body, headers});
  }

  // mfg ships `serial` to `to` at `gln`; `receive` records the receipt too.
  void Ship(const std::string& serial, const std::string& to, const std::string& gln,
            const std::string& advice, bool receive) {
    Submit("mfg", R"({"kind":"ship","epcs":[")" + Uri(serial) + R"("],"to":")" + to +
                      R"(","toLocation":")" + gln + R"(","despatchAdvice":")" + advice + "\"}");
    if (receive) {
      Submit(to, R"({"kind":"receive","from":"mfg","despatchAdvice":")" + advice +
                     R"(","location":")" + gln + "\"}");
    }
  }
  uint64_t Recall(const std::string& reason) {
    return Submit("mfg", R"({"kind":"batch.status","gtin":")" + kGtin +
                             R"(","lot":"LOT1","status":"recalled","reason":")" + reason + "\"}");
  }

  static std::string Uri(const std::string& serial) {
    return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
  }
  static std::string Dispense(const std::string& serial, const std::string& gln) {
    return R"({"code":"(01))" + kGtin + "(21)" + serial + R"(","location":")" + gln + "\"}";
  }
  static JsonValue Error(const Reply& r) {
    auto body = ParseJson(r.body);
    BOOST_REQUIRE_MESSAGE(body && body->find("error"), r.body);
    return *body->find("error");
  }
  static std::string Member(const JsonValue& o, const char* name) {
    const JsonValue* v = o.find(name);
    return v && v->is_string() ? v->as_string() : std::string("<absent>");
  }
  JsonValue Verify(const std::string& org, const std::string& code) {
    Reply r = Call(org, "GET", "/v1/verify?code=" + provenance::PercentEncode(code));
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    return ParseJson(r.body).value();
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(api_answers)

BOOST_AUTO_TEST_CASE(dispensing_a_recalled_pack_answers_the_recall_reason_its_entry_and_next_step) {
  AnswersApi api;
  api.Ship("S1", "ph1", kPh1Gln, "DA1", true);
  const uint64_t recall = api.Recall("sterility failure in line 3");
  Reply r = api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln));
  BOOST_TEST(r.status == 422);
  JsonValue e = AnswersApi::Error(r);
  BOOST_TEST(AnswersApi::Member(e, "code") == "alert.recalled");
  BOOST_TEST(AnswersApi::Member(e, "nextStep") == std::string(NextStepFor("alert.recalled")));
  BOOST_TEST(!NextStepFor("alert.recalled").empty());
  BOOST_TEST(AnswersApi::Member(e, "batchStatus") == "recalled");
  BOOST_TEST(AnswersApi::Member(e, "reason") == "sterility failure in line 3");
  BOOST_REQUIRE(e.find("reasonEntry") != nullptr);
  BOOST_TEST(e.find("reasonEntry")->as_int() == static_cast<int64_t>(recall));
}

BOOST_AUTO_TEST_CASE(dispensing_a_pack_another_organisation_holds_names_the_holder) {
  AnswersApi api;
  // Held by the wholesaler; the pharmacy was never shipped it.
  api.Ship("S2", "north-wholesale", kWsGln, "DA2", true);
  Reply r = api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S2", kPh1Gln));
  BOOST_TEST(r.status == 422);
  JsonValue e = AnswersApi::Error(r);
  BOOST_TEST(AnswersApi::Member(e, "code") == "alert.not_in_custody");
  BOOST_TEST(AnswersApi::Member(e, "holder") == "north-wholesale");
  BOOST_TEST(AnswersApi::Member(e, "nextStep") == std::string(NextStepFor("alert.not_in_custody")));
  // In transit to the pharmacy: the answer says so.
  api.Ship("S3", "ph1", kPh1Gln, "DA3", false);
  JsonValue t = AnswersApi::Error(
      api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S3", kPh1Gln)));
  BOOST_TEST(AnswersApi::Member(t, "holder") == "mfg");
  BOOST_TEST(AnswersApi::Member(t, "inTransitTo") == "ph1");
  // An active copy at another pharmacy is a suspected clone: that pharmacy is not named.
  api.Ship("S1", "ph1", kPh1Gln, "DA1", true);
  JsonValue clone = AnswersApi::Error(
      api.Call("ph2", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh2Gln)));
  BOOST_TEST(AnswersApi::Member(clone, "code") == "alert.clone_suspected");
  BOOST_TEST(clone.find("holder") == nullptr);
  BOOST_TEST(!AnswersApi::Member(clone, "nextStep").empty());
}

BOOST_AUTO_TEST_CASE(dispensing_a_pack_twice_names_who_dispensed_it_and_when) {
  AnswersApi api;
  api.Ship("S1", "ph1", kPh1Gln, "DA1", true);
  BOOST_REQUIRE_EQUAL(
      api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln)).status, 201);
  JsonValue e = AnswersApi::Error(
      api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln)));
  BOOST_TEST(AnswersApi::Member(e, "code") == "alert.already_decommissioned");
  BOOST_TEST(AnswersApi::Member(e, "status") == "supplied");
  BOOST_TEST(AnswersApi::Member(e, "statusOrg") == "ph1");
  BOOST_TEST(AnswersApi::Member(e, "statusTime") == "2026-11-21T22:26:40Z");
  BOOST_TEST(AnswersApi::Member(e, "nextStep") ==
             std::string(NextStepFor("alert.already_decommissioned")));
}

BOOST_AUTO_TEST_CASE(commissioning_into_a_recalled_batch_is_refused_with_the_recall) {
  AnswersApi api;
  const uint64_t recall = api.Recall("mislabelled");
  const uint64_t size = api.node_->ledger().size();
  Reply r = api.Call("mfg", "POST", "/v1/commission",
                     R"({"gtin":")" + kGtin + R"(","lot":"LOT1","location":")" + kMfgGln +
                         R"(","serials":["S9"]})");
  BOOST_TEST(r.status == 422);
  JsonValue e = AnswersApi::Error(r);
  BOOST_TEST(AnswersApi::Member(e, "code") == "event.batch_recalled");
  BOOST_TEST(AnswersApi::Member(e, "reason") == "mislabelled");
  BOOST_TEST(e.find("reasonEntry")->as_int() == static_cast<int64_t>(recall));
  BOOST_TEST(AnswersApi::Member(e, "nextStep") == std::string(NextStepFor("event.batch_recalled")));
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(refusals_without_a_next_step_carry_no_next_step_member) {
  AnswersApi api;
  BOOST_REQUIRE(NextStepFor("request.missing_parameter").empty());
  JsonValue e = AnswersApi::Error(api.Call("ph1", "GET", "/v1/verify"));
  BOOST_TEST(e.find("nextStep") == nullptr);
}

BOOST_AUTO_TEST_CASE(verify_says_where_the_pack_is_relative_to_the_caller) {
  AnswersApi api;
  api.Ship("S2", "north-wholesale", kWsGln, "DA2", true);
  const std::string code = "(01)" + kGtin + "(21)S2";
  JsonValue ph1 = api.Verify("ph1", code);
  BOOST_TEST(AnswersApi::Member(ph1, "product") == "Examplamab");
  BOOST_TEST(AnswersApi::Member(ph1, "lot") == "LOT1");
  BOOST_TEST(AnswersApi::Member(ph1, "expiry") == "2028-03-31");
  BOOST_TEST(AnswersApi::Member(ph1, "batchStatus") == "active");
  BOOST_TEST(ph1.find("batchStatusReason") == nullptr);
  BOOST_TEST(AnswersApi::Member(ph1, "holder") == "north-wholesale");
  BOOST_TEST(AnswersApi::Member(ph1, "custody") == "held_by_other");
  BOOST_TEST(AnswersApi::Member(ph1, "custodyHint") ==
             "held by north-wholesale, not by you: receive it first");
  JsonValue ws = api.Verify("north-wholesale", code);
  BOOST_TEST(AnswersApi::Member(ws, "custody") == "yours");
  BOOST_TEST(AnswersApi::Member(ws, "custodyHint") == "in your custody");
  // Shipped to the pharmacy, not yet received.
  api.Ship("S3", "ph1", kPh1Gln, "DA3", false);
  JsonValue shipped = api.Verify("ph1", "(01)" + kGtin + "(21)S3");
  BOOST_TEST(AnswersApi::Member(shipped, "custody") == "shipped_to_you");
  BOOST_TEST(AnswersApi::Member(shipped, "custodyHint") ==
             "shipped to you by mfg, not yet received: receive it first");
}

BOOST_AUTO_TEST_CASE(verify_of_a_dispensed_pack_says_who_dispensed_it_and_when) {
  AnswersApi api;
  api.Ship("S1", "ph1", kPh1Gln, "DA1", true);
  BOOST_REQUIRE_EQUAL(
      api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln)).status, 201);
  JsonValue v = api.Verify("north-wholesale", "(01)" + kGtin + "(21)S1");
  BOOST_TEST(AnswersApi::Member(v, "custody") == "decommissioned");
  BOOST_TEST(AnswersApi::Member(v, "custodyHint") == "dispensed by ph1 on 2026-11-21");
  BOOST_TEST(AnswersApi::Member(v, "statusBy") == "ph1");
}

BOOST_AUTO_TEST_CASE(verify_of_a_recalled_pack_gives_the_recall_reason_and_its_entry) {
  AnswersApi api;
  const uint64_t recall = api.Recall("sterility failure");
  JsonValue v = api.Verify("ph1", "(01)" + kGtin + "(21)S4");
  BOOST_TEST(AnswersApi::Member(v, "batchStatus") == "recalled");
  BOOST_TEST(AnswersApi::Member(v, "batchStatusReason") == "sterility failure");
  BOOST_TEST(v.find("batchStatusEntry")->as_int() == static_cast<int64_t>(recall));
  const JsonValue& reason = v.find("reasons")->as_array().at(0);
  BOOST_TEST(AnswersApi::Member(reason, "code") == "recalled");
  BOOST_TEST(AnswersApi::Member(reason, "message") ==
             "recalled: sterility failure (batch.status entry " + std::to_string(recall) + ")");
}

BOOST_AUTO_TEST_CASE(
    verify_of_an_unknown_gtin_says_unknown_product_and_of_a_serial_unknown_serial) {
  AnswersApi api;
  JsonValue product = api.Verify("ph1", "(01)09506000134369(21)S1");
  BOOST_TEST(AnswersApi::Member(product, "status") == "unknown");
  BOOST_TEST(AnswersApi::Member(product.find("reasons")->as_array().at(0), "code") ==
             "unknown_product");
  JsonValue serial = api.Verify("ph1", "(01)" + kGtin + "(21)NOPE");
  BOOST_TEST(AnswersApi::Member(serial.find("reasons")->as_array().at(0), "code") ==
             "unknown_serial");
}

BOOST_AUTO_TEST_CASE(commission_with_generate_returns_the_generated_serials) {
  AnswersApi api;
  Reply r = api.Call(
      "mfg", "POST", "/v1/commission",
      R"({"gtin":")" + kGtin + R"(","lot":"LOT1","location":")" + kMfgGln + R"(","generate":3})");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  JsonValue body = ParseJson(r.body).value();
  BOOST_TEST(AnswersApi::Member(body, "kind") == "commission");
  const JsonValue* serials = body.find("serials");
  BOOST_REQUIRE(serials != nullptr);
  BOOST_REQUIRE(serials->size() == 3u);
  for (const JsonValue& s : serials->as_array()) {
    JsonValue v = api.Verify("mfg", "(01)" + kGtin + "(21)" + s.as_string());
    BOOST_TEST(v.find("verified")->as_bool(), s.as_string());
  }
  // Over the limit: the code names it, nothing is written.
  const uint64_t size = api.node_->ledger().size();
  Reply over = api.Call("mfg", "POST", "/v1/commission",
                        R"({"gtin":")" + kGtin + R"(","lot":"LOT1","location":")" + kMfgGln +
                            R"(","generate":)" + std::to_string(kMaxGeneratedSerials + 1) + "}");
  BOOST_TEST(over.status == 400);
  JsonValue e = AnswersApi::Error(over);
  BOOST_TEST(AnswersApi::Member(e, "code") == "request.generate_over_limit");
  BOOST_TEST(AnswersApi::Member(e, "field") == "generate");
  BOOST_TEST(AnswersApi::Member(e, "message").find("10000") != std::string::npos);
  BOOST_TEST(api.node_->ledger().size() == size);
}

BOOST_AUTO_TEST_CASE(aggregate_takes_children_in_any_scanner_form) {
  AnswersApi api;
  const std::string children = R"(["(01))" + kGtin + R"((21)S1",")" + "]d201" + kGtin + "21S2" +
                               R"(",")" + AnswersApi::Uri("S3") + R"("])";
  Reply r = api.Call("mfg", "POST", "/v1/aggregate",
                     R"({"parent":"(00)095060000000000015","children":)" + children + "}");
  BOOST_REQUIRE_MESSAGE(r.status == 201, r.body);
  auto c = api.node_->Read(
      [](provenance::ProvenanceView& v) { return v.Container("095060000000000015"); });
  BOOST_REQUIRE(c.has_value());
  BOOST_REQUIRE(c->has_value());
  BOOST_TEST((*c)->packs.size() == 3u);
  // A child that does not parse names its place.
  Reply bad = api.Call("mfg", "POST", "/v1/aggregate",
                       R"({"parent":"095060000000000022","children":["(01))" + kGtin +
                           R"((21)S4","(01)09506000134353(21)S4"]})");
  BOOST_TEST(bad.status == 400);
  JsonValue e = AnswersApi::Error(bad);
  BOOST_TEST(AnswersApi::Member(e, "code") == "gs1.check_digit");
  BOOST_TEST(AnswersApi::Member(e, "field") == "children");
  BOOST_TEST(AnswersApi::Member(e, "message").starts_with("child 2: "));
}

// The same answers from a node whose data live in PostgreSQL (a fresh database of the test
// process's throwaway cluster): HTTP verify reads the server's derived tables.
BOOST_AUTO_TEST_CASE(verify_over_http_answers_from_postgresql_before_and_after_dispense) {
  AnswersApi api(pedigree::testing::PgCluster::Shared().NewDatabase());
  api.Ship("S1", "ph1", kPh1Gln, "DA1", true);
  const std::string code = "(01)" + kGtin + "(21)S1";
  JsonValue before = api.Verify("ph1", code);
  BOOST_TEST(before.find("verified")->as_bool());
  BOOST_TEST(AnswersApi::Member(before, "custody") == "yours");
  BOOST_TEST(AnswersApi::Member(before, "product") == "Examplamab");
  BOOST_REQUIRE_EQUAL(
      api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln)).status, 201);
  // Dispensing it again is refused by the rules in the server's transaction.
  Reply again = api.Call("ph1", "POST", "/v1/dispense", AnswersApi::Dispense("S1", kPh1Gln));
  BOOST_TEST(again.status != 201);
  JsonValue after = api.Verify("north-wholesale", code);
  BOOST_TEST(!after.find("verified")->as_bool());
  BOOST_TEST(AnswersApi::Member(after, "custodyHint") == "dispensed by ph1 on 2026-11-21");
}

BOOST_AUTO_TEST_SUITE_END()
