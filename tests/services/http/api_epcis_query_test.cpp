// The EPCIS 2.0 query interface over a real socket (docs/epcis.md, "Query"): the standard
// parameters, the REST paths, named queries, page tokens, the access rules and the
// QueryParameterException of a bad parameter.
#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "common/temp_dir.h"
#include "http_client.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/epcis.h"
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
constexpr int64_t kStart = 1'795'300'000;  // 2026-11-21T22:26:40Z

std::string Epc(const std::string& serial) {
  return "https://id.gs1.org/01/" + kGtin + "/21/" + serial;
}
std::string Enc(const std::string& s) { return provenance::PercentEncode(s); }

// A node with a manufacturer, two pharmacies and a regulator. S1 and S2 are commissioned at
// kStart, shipped to ph1 at +100 (DA1), received at +200; S1 is dispensed at +300. S3 is
// commissioned at +400 and stays with the manufacturer.
class QueryApi {
 public:
  QueryApi() {
    node_ =
        SupplyNode::Create(tmp_ / "ledger", "example.org/epcis-query-test", authority_.public_key())
            .value();
    node_->SetClock([this] { return now_; });
    Register("mfg", "manufacturer", "9506000", kMfgGln);
    Register("ph1", "dispenser", "4000001", kPh1Gln);
    Register("ph2", "dispenser", "4000002", kPh2Gln);
    Register("regulator", "regulator", "4000009", "4000009000007");
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
    config.threads = 2;
    config.granted_roles = RegistryGrants(*node_, "");
    server_ = HttpServer::Start(config, std::move(router), tokens_.get()).value();
    session_ = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server_->port());

    Post("mfg", "/v1/commission",
         JsonValue::Object()
             .set("gtin", kGtin)
             .set("lot", "LOT1")
             .set("location", kMfgGln)
             .set("serials", JsonValue::Array().push_back("S1").push_back("S2")));
    now_ += 100;
    Post("mfg", "/v1/ship",
         JsonValue::Object()
             .set("epcs", JsonValue::Array().push_back(Epc("S1")).push_back(Epc("S2")))
             .set("to", "ph1")
             .set("toLocation", kPh1Gln)
             .set("despatchAdvice", "DA1"));
    now_ += 100;
    Post("ph1", "/v1/receive",
         JsonValue::Object()
             .set("from", "mfg")
             .set("despatchAdvice", "DA1")
             .set("location", kPh1Gln));
    now_ += 100;
    Post("ph1", "/v1/dispense",
         JsonValue::Object()
             .set("code", "]d201" + kGtin +
                              "1728033110LOT1\x1d"
                              "21S1")
             .set("location", kPh1Gln));
    now_ += 100;
    Post("mfg", "/v1/commission",
         JsonValue::Object()
             .set("gtin", kGtin)
             .set("lot", "LOT1")
             .set("location", kMfgGln)
             .set("serials", JsonValue::Array().push_back("S3")));
    now_ += 100;
  }

  void Register(const std::string& id, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE(node_->HoldKey(id, key).has_value());
    auto index = node_->RegisterOrg(
        authority_, {id, id, {role}, {prefix}, {gln}, ToBase64(key.public_key().raw())});
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  void Submit(const std::string& org, const JsonValue& payload) {
    auto index = node_->SubmitAs(org, payload);
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
  }
  void Post(const std::string& org, const std::string& path, const JsonValue& body) {
    Reply r = Call(org, "POST", path, Canonicalize(body));
    BOOST_REQUIRE_MESSAGE(r.status == 201, path << ": " << r.body);
  }

  Reply Call(const std::string& org, const std::string& method, const std::string& target,
             const std::string& body = "") {
    std::map<std::string, std::string> headers;
    if (!org.empty()) headers["Authorization"] = "Bearer " + token_[org];
    if (!body.empty()) headers["Content-Type"] = "application/json";
    return Exchange(*session_, Send{method, target, body, headers});
  }
  // The events of a query answer (an EPCISQueryDocument), failing the test on another status.
  std::vector<JsonValue> Events(const std::string& org, const std::string& target) {
    Reply r = Call(org, "GET", target);
    BOOST_REQUIRE_MESSAGE(r.status == 200, target << ": " << r.body);
    JsonValue doc = ParseJson(r.body).value();
    BOOST_TEST(doc.find("type")->as_string() == "EPCISQueryDocument");
    return doc.find("epcisBody")
        ->find("queryResults")
        ->find("resultsBody")
        ->find("eventList")
        ->as_array();
  }
  static std::vector<std::string> Steps(const std::vector<JsonValue>& events) {
    std::vector<std::string> out;
    for (const JsonValue& e : events) out.push_back(e.find("bizStep")->as_string());
    return out;
  }

  pedigree::testing::TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  int64_t now_ = kStart;
  std::map<std::string, std::string> token_;
  std::unique_ptr<SupplyNode> node_;
  std::unique_ptr<TokenStore> tokens_;
  std::unique_ptr<HttpServer> server_;
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

using Strings = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_SUITE(api_epcis_query)

BOOST_AUTO_TEST_CASE(events_of_an_epc_carry_their_index_a_proof_link_and_the_export_ids) {
  QueryApi api;
  auto events = api.Events("regulator", "/v1/epcis/epcs/" + Enc(Epc("S1")) + "/events");
  BOOST_TEST(QueryApi::Steps(events) ==
                 (Strings{"commissioning", "shipping", "receiving", "decommissioning"}),
             boost::test_tools::per_element());
  // The export of the same pack renders the same events under the same IDs.
  Reply exported = api.Call("regulator", "GET", "/v1/epcis/events?epc=" + Enc(Epc("S1")));
  BOOST_REQUIRE_EQUAL(exported.status, 200);
  auto listed = ParseJson(exported.body).value().find("epcisBody")->find("eventList")->as_array();
  BOOST_REQUIRE_EQUAL(listed.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    BOOST_TEST(events[i].find("eventID")->as_string() == listed[i].find("eventID")->as_string());
    const int64_t index = events[i].find("pedigree:ledgerIndex")->as_int();
    BOOST_TEST(index == listed[i].find("pedigree:ledgerIndex")->as_int());
    // Neither extension is part of the hash ID: recomputed from the answer, it is the eventID.
    BOOST_TEST(
        scanner::epcis::EventHashId(events[i], scanner::epcis::PedigreeHashOptions()).value() ==
        events[i].find("eventID")->as_string());
    const std::string proof = events[i].find("pedigree:proof")->as_string();
    BOOST_TEST(proof == "/v1/log/proof/inclusion?index=" + std::to_string(index));
    Reply p = api.Call("", "GET", proof);
    BOOST_TEST(p.status == 200);
    BOOST_TEST(ParseJson(p.body).value().find("index")->as_int() == index);
  }
  // An EPC URN names the same pack.
  auto by_urn = api.Events(
      "regulator", "/v1/epcis/events?MATCH_epc=" + Enc("urn:epc:id:sgtin:9506000.013435.S1"));
  BOOST_TEST(by_urn.size() == events.size());
}

BOOST_AUTO_TEST_CASE(standard_parameters_and_rest_paths_filter_the_events) {
  QueryApi api;
  struct Case {
    std::string target;
    Strings steps;
  };
  const std::string s1 = Enc(Epc("S1"));
  const std::vector<Case> cases = {
      {"/v1/epcis/events",
       {"commissioning", "shipping", "receiving", "decommissioning", "commissioning"}},
      {"/v1/epcis/events?EQ_bizStep=shipping", {"shipping"}},
      {"/v1/epcis/events?EQ_bizStep=" + Enc("urn:epcglobal:cbv:bizstep:receiving"), {"receiving"}},
      {"/v1/epcis/events?EQ_bizStep=shipping,receiving", {"shipping", "receiving"}},
      {"/v1/epcis/events?eventType=AggregationEvent", {}},
      {"/v1/epcis/events?EQ_action=ADD", {"commissioning", "commissioning"}},
      {"/v1/epcis/events?EQ_disposition=" + Enc("https://ref.gs1.org/cbv/Disp-dispensed"),
       {"decommissioning"}},
      // eventTime is the signer's time: the receipt at +200 and the dispense at +300.
      {"/v1/epcis/events?GE_eventTime=2026-11-21T22:29:00Z&LT_eventTime=" +
           Enc("2026-11-21T23:31:41+01:00"),
       {"receiving", "decommissioning"}},
      {"/v1/epcis/events?GE_recordTime=2026-11-21T22:33:20.000Z", {"commissioning"}},
      {"/v1/epcis/events?EQ_bizLocation=" + Enc("urn:epc:id:sgln:4000001.00000.0"), {"receiving"}},
      {"/v1/epcis/events?EQ_readPoint=" + Enc("https://id.gs1.org/414/" + kPh1Gln),
       {"receiving", "decommissioning"}},
      {"/v1/epcis/events?MATCH_epc=" + Enc(Epc("S3")), {"commissioning"}},
      {"/v1/epcis/events?MATCH_anyEPC=" + s1 + "&EQ_bizStep=decommissioning", {"decommissioning"}},
      {"/v1/epcis/events?MATCH_parentID=" + s1, {}},
      {"/v1/epcis/events?orderBy=recordTime&orderDirection=DESC&MATCH_epc=" + s1,
       {"decommissioning", "receiving", "shipping", "commissioning"}},
      {"/v1/epcis/bizSteps/shipping/events", {"shipping"}},
      {"/v1/epcis/eventTypes/ObjectEvent/events?EQ_bizStep=receiving", {"receiving"}},
      {"/v1/epcis/dispositions/in_transit/events", {"shipping"}},
      {"/v1/epcis/bizLocations/" + Enc("https://id.gs1.org/414/" + kMfgGln) + "/events",
       {"commissioning", "commissioning"}},
      {"/v1/epcis/readPoints/" + Enc("https://id.gs1.org/414/" + kPh1Gln) + "/events",
       {"receiving", "decommissioning"}},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.target) {
      BOOST_TEST(QueryApi::Steps(api.Events("regulator", c.target)) == c.steps,
                 boost::test_tools::per_element());
    }
  }
  // EQ_eventID finds one event by its hash ID.
  auto all = api.Events("regulator", "/v1/epcis/events?EQ_bizStep=receiving");
  const std::string id = all.at(0).find("eventID")->as_string();
  auto one = api.Events("regulator", "/v1/epcis/events?EQ_eventID=" + Enc(id));
  BOOST_REQUIRE_EQUAL(one.size(), 1u);
  BOOST_TEST(one[0].find("eventID")->as_string() == id);
}

BOOST_AUTO_TEST_CASE(pages_follow_the_next_page_token_and_a_tampered_token_is_refused) {
  QueryApi api;
  const std::string first = "/v1/epcis/events?perPage=2";
  const auto whole = api.Events("regulator", "/v1/epcis/events");
  std::vector<std::string> ids;
  std::string target = first;
  std::string token;
  for (int pages = 0; !target.empty(); ++pages) {
    BOOST_REQUIRE(pages < 10);
    Reply r = api.Call("regulator", "GET", target);
    BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
    auto events = ParseJson(r.body)
                      .value()
                      .find("epcisBody")
                      ->find("queryResults")
                      ->find("resultsBody")
                      ->find("eventList")
                      ->as_array();
    BOOST_TEST(events.size() <= 2u);
    for (const JsonValue& e : events) ids.push_back(e.find("eventID")->as_string());
    target.clear();
    auto link = r.headers.find("Link");
    if (link != r.headers.end()) {
      const std::string& v = link->second;
      BOOST_REQUIRE(v.starts_with("<") && v.ends_with(">; rel=\"next\""));
      target = v.substr(1, v.find('>') - 1);
      token = target.substr(target.find("nextPageToken=") + 14);
    }
  }
  BOOST_REQUIRE_EQUAL(ids.size(), whole.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    BOOST_TEST(ids[i] == whole[i].find("eventID")->as_string());
  }
  BOOST_REQUIRE(!token.empty());
  std::string tampered = token;
  tampered[15] = tampered[15] == '0' ? '1' : '0';  // the index it points after
  for (const std::string& bad :
       {first + "&nextPageToken=" + tampered,
        // A genuine token for another query.
        "/v1/epcis/events?perPage=2&EQ_bizStep=shipping&nextPageToken=" + token}) {
    Reply r = api.Call("regulator", "GET", bad);
    BOOST_TEST_CONTEXT(bad) {
      BOOST_TEST(r.status == 400);
      JsonValue b = ParseJson(r.body).value();
      BOOST_TEST(b.find("type")->as_string() == "epcisException:QueryParameterException");
      BOOST_TEST(b.find("code")->as_string() == "epcis.query_parameter");
      BOOST_TEST(b.find("pointer")->as_string() == "nextPageToken");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bad_parameter_is_a_query_parameter_exception_naming_it_and_its_value) {
  QueryApi api;
  struct Case {
    std::string query, field, value;
  };
  const std::vector<Case> cases = {
      {"EQ_flavour=sweet", "EQ_flavour", "sweet"},
      {"GE_eventTime=yesterday", "GE_eventTime", "yesterday"},
      {"LT_recordTime=2026-11-22T20:29:00", "LT_recordTime", "2026-11-22T20:29:00"},
      {"MATCH_epc=" + Enc("https://id.gs1.org/01/09506000134353/21/S1"), "MATCH_epc",
       "https://id.gs1.org/01/09506000134353/21/S1"},  // check digit
      {"MATCH_anyEPC=" + Enc("urn:epc:idpat:sgtin:9506000.013435.*"), "MATCH_anyEPC",
       "urn:epc:idpat:sgtin:9506000.013435.*"},
      {"EQ_bizLocation=" + Enc("https://id.gs1.org/414/123"), "EQ_bizLocation",
       "https://id.gs1.org/414/123"},
      {"eventType=PackEvent", "eventType", "PackEvent"},
      {"EQ_bizStep=" + Enc("ship ping"), "EQ_bizStep", "ship ping"},
      {"perPage=0", "perPage", "0"},
      {"perPage=1001", "perPage", "1001"},
      {"orderBy=eventTime", "orderBy", "eventTime"},
      {"EQ_bizStep=shipping&epc=" + Enc(Epc("S1")), "EQ_bizStep", ""},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.query) {
      Reply r = api.Call("regulator", "GET", "/v1/epcis/events?" + c.query);
      BOOST_TEST(r.status == 400);
      BOOST_TEST(r.headers["Content-Type"].starts_with("application/problem+json"));
      JsonValue b = ParseJson(r.body).value();
      BOOST_TEST(b.find("type")->as_string() == "epcisException:QueryParameterException");
      BOOST_TEST(b.find("code")->as_string() == "epcis.query_parameter");
      BOOST_TEST(b.find("pointer")->as_string() == c.field);
      BOOST_TEST(b.find("detail")->as_string().find("'" + c.value) != std::string::npos);
    }
  }
  // On a REST path the path segment is named.
  Reply r = api.Call("regulator", "GET", "/v1/epcis/epcs/not-an-epc/events");
  BOOST_TEST(r.status == 400);
  BOOST_TEST(ParseJson(r.body).value().find("pointer")->as_string() == "epc");
  Reply fixed = api.Call("regulator", "GET", "/v1/epcis/bizSteps/shipping/events?EQ_bizStep=x");
  BOOST_TEST(fixed.status == 400);
  BOOST_TEST(ParseJson(fixed.body).value().find("pointer")->as_string() == "EQ_bizStep");
}

BOOST_AUTO_TEST_CASE(an_organisation_sees_the_events_of_packs_it_handled_and_regulators_all) {
  QueryApi api;
  // ph1 received S1 and S2: their whole histories, the manufacturer's events included; not
  // S3, which never left the manufacturer.
  BOOST_TEST(QueryApi::Steps(api.Events("ph1", "/v1/epcis/events")) ==
                 (Strings{"commissioning", "shipping", "receiving", "decommissioning"}),
             boost::test_tools::per_element());
  BOOST_TEST(api.Events("ph1", "/v1/epcis/events?MATCH_epc=" + Enc(Epc("S3"))).empty());
  // ph2 handled nothing: no events, and the EPC path answers as for an unknown pack.
  BOOST_TEST(api.Events("ph2", "/v1/epcis/events").empty());
  Reply foreign = api.Call("ph2", "GET", "/v1/epcis/epcs/" + Enc(Epc("S1")) + "/events");
  BOOST_TEST(foreign.status == 404);
  Reply unknown = api.Call("ph2", "GET", "/v1/epcis/epcs/" + Enc(Epc("S9")) + "/events");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(ParseJson(foreign.body).value().find("error")->find("code")->as_string() ==
             "pack.not_found");
  BOOST_TEST(ParseJson(unknown.body).value().find("error")->find("code")->as_string() ==
             "pack.not_found");
  BOOST_TEST(api.Events("regulator", "/v1/epcis/events").size() == 5u);
  BOOST_TEST(api.Events("mfg", "/v1/epcis/events").size() == 5u);
  // Without a token: 401.
  BOOST_TEST(api.Call("", "GET", "/v1/epcis/events").status == 401);
}

BOOST_AUTO_TEST_CASE(a_named_query_runs_by_name_with_the_callers_access) {
  QueryApi api;
  const std::string def = R"({"name":"shipments","query":{"EQ_bizStep":["shipping","receiving"]}})";
  Reply made = api.Call("mfg", "POST", "/v1/epcis/queries", def);
  BOOST_REQUIRE_MESSAGE(made.status == 201, made.body);
  BOOST_TEST(made.headers["Location"] == "/v1/epcis/queries/shipments");
  // The same definition again is accepted; another under the same name is not.
  BOOST_TEST(api.Call("ph1", "POST", "/v1/epcis/queries", def).status == 201);
  Reply clash = api.Call("mfg", "POST", "/v1/epcis/queries",
                         R"({"name":"shipments","query":{"EQ_bizStep":"x"}})");
  BOOST_TEST(clash.status == 409);
  BOOST_TEST(ParseJson(clash.body).value().find("code")->as_string() == "epcis.query_name");
  Reply bad = api.Call("mfg", "POST", "/v1/epcis/queries",
                       R"({"name":"late","query":{"GE_eventTime":"soon"}})");
  BOOST_TEST(bad.status == 400);
  BOOST_TEST(ParseJson(bad.body).value().find("pointer")->as_string() == "/query/GE_eventTime");

  Reply r = api.Call("regulator", "GET", "/v1/epcis/queries/shipments/events");
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.body);
  const JsonValue doc = ParseJson(r.body).value();
  const JsonValue& results = *doc.find("epcisBody")->find("queryResults");
  BOOST_TEST(results.find("queryName")->as_string() == "shipments");
  BOOST_TEST(results.find("resultsBody")->find("eventList")->size() == 2u);
  BOOST_TEST(api.Events("ph2", "/v1/epcis/queries/shipments/events").empty());
  Reply none = api.Call("regulator", "GET", "/v1/epcis/queries/nosuch/events");
  BOOST_TEST(none.status == 404);
  BOOST_TEST(ParseJson(none.body).value().find("type")->as_string() ==
             "epcisException:NoSuchNameException");
  Reply extra = api.Call("regulator", "GET", "/v1/epcis/queries/shipments/events?eventType=x");
  BOOST_TEST(extra.status == 400);
}

BOOST_AUTO_TEST_SUITE_END()
