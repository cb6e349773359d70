// The batch report over a small supply chain built through services::SupplyNode: a cold
// product, 30 packs, a warm shipment of 10 of them, a refused dispense, then a recall.
#include "pedigree/reports/batch_report.h"

#include <boost/test/unit_test.hpp>
#include <map>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/html.h"
#include "pedigree/usecases/supply_node.h"

using namespace pedigree;
using pedigree::JsonValue;
using pedigree::testing::TempDir;

namespace {

std::string WithCheckDigit(const std::string& body) {
  return body + std::to_string(provenance::Gs1CheckDigit(body));
}

struct Org {
  std::string id, role, prefix;
  std::string gln() const { return WithCheckDigit(prefix + std::string(12 - prefix.size(), '0')); }
};

JsonValue Strings(const std::vector<std::string>& v) {
  auto a = JsonValue::Array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

struct Chain {
  TempDir tmp;
  std::unique_ptr<services::SupplyNode> node;
  log::PrivateKey authority = log::PrivateKey::Generate();
  Org maker{"maker", "manufacturer", "9506001"};
  Org wholesaler{"wholesaler", "wholesaler", "4012345"};
  Org pharmacy{"pharmacy", "dispenser", "4000001"};
  std::string gtin = WithCheckDigit("0950600100001");
  std::string lot = "L7";
  std::vector<std::string> packs;  // Digital Link URIs

  void Do(const std::string& org, JsonValue payload) {
    auto r = node->SubmitAs(org, std::move(payload));
    BOOST_REQUIRE_MESSAGE(r.has_value(), pedigree::testing::Why(r));
  }

  Chain() {
    node = services::SupplyNode::Create(tmp / "ledger", "example.org/batch-test",
                                        authority.public_key())
               .value();
    for (const Org* o : {&maker, &wholesaler, &pharmacy}) {
      auto key = log::PrivateKey::Generate();
      BOOST_REQUIRE(node->HoldKey(o->id, key));
      BOOST_REQUIRE(node->RegisterOrg(authority, {o->id,
                                                  o->id + " & <Co>",
                                                  {o->role},
                                                  {o->prefix},
                                                  {o->gln()},
                                                  ToBase64(key.public_key().raw())}));
    }
    Do(maker.id, JsonValue::Object()
                     .set("kind", "product.register")
                     .set("gtin", gtin)
                     .set("name", "Coldamab 5 mg")
                     .set("tempMin", 20)
                     .set("tempMax", 80));
    Do(maker.id, JsonValue::Object()
                     .set("kind", "batch.register")
                     .set("gtin", gtin)
                     .set("lot", lot)
                     .set("expiry", "2028-01-31")
                     .set("quantity", 30));
    std::vector<std::string> serials = provenance::RandomSerials(30);
    Do(maker.id, JsonValue::Object()
                     .set("kind", "commission")
                     .set("gtin", gtin)
                     .set("lot", lot)
                     .set("location", maker.gln())
                     .set("serials", Strings(serials)));
    for (const auto& s : serials) {
      packs.push_back(
          provenance::PackId(*provenance::Gtin::Parse(gtin), *provenance::Serial::Parse(s))
              .DigitalLinkUri());
    }
    // 10 packs travel warm (12.3 °C against 2.0–8.0 °C).
    Do(maker.id, JsonValue::Object()
                     .set("kind", "ship")
                     .set("epcs", Strings({packs.begin(), packs.begin() + 10}))
                     .set("to", wholesaler.id)
                     .set("toLocation", wholesaler.gln())
                     .set("despatchAdvice", "DA-1"));
    auto readings = JsonValue::Array();
    for (int64_t tenths : {45, 123}) {
      readings.push_back(JsonValue::Object()
                             .set("time", pedigree::FormatUtcTime(node->Now() - 60))
                             .set("value", tenths));
    }
    Do(maker.id, JsonValue::Object()
                     .set("kind", "sensor")
                     .set("from", maker.id)
                     .set("despatchAdvice", "DA-1")
                     .set("readings", readings));
    Do(wholesaler.id, JsonValue::Object()
                          .set("kind", "receive")
                          .set("from", maker.id)
                          .set("despatchAdvice", "DA-1")
                          .set("location", wholesaler.gln()));
    // 5 more packs are on their way to the wholesaler.
    Do(maker.id, JsonValue::Object()
                     .set("kind", "ship")
                     .set("epcs", Strings({packs.begin() + 10, packs.begin() + 15}))
                     .set("to", wholesaler.id)
                     .set("toLocation", wholesaler.gln())
                     .set("despatchAdvice", "DA-2"));
    // The wholesaler may not supply a warm pack: refused, recorded as an alert.
    auto refused = node->SubmitAs(wholesaler.id, JsonValue::Object()
                                                     .set("kind", "decommission")
                                                     .set("epcs", Strings({packs[0]}))
                                                     .set("status", "supplied")
                                                     .set("location", wholesaler.gln()));
    BOOST_REQUIRE(!refused.has_value());
    BOOST_REQUIRE(refused.error().code() == "alert.temperature_excursion");
  }
};

const JsonValue& Member(const JsonValue& v, const char* key) {
  const JsonValue* m = v.find(key);
  BOOST_REQUIRE_MESSAGE(m, std::string("missing member ") + key);
  return *m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(batch_report)

BOOST_AUTO_TEST_CASE(batch_report_counts_reach_alerts_and_excursions) {
  Chain chain;
  auto report = reports::BatchReport(chain.tmp / "ledger", chain.gtin, chain.lot);
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  const JsonValue& r = *report;
  BOOST_TEST(Member(r, "report").as_string() == "batch");
  BOOST_TEST(Member(r, "verdict").as_string() == "SUSPECT");
  BOOST_TEST(Member(Member(r, "counts"), "active").as_int() == 30);
  BOOST_TEST(Member(Member(r, "subject"), "productName").as_string() == "Coldamab 5 mg");
  BOOST_TEST(Member(Member(r, "subject"), "manufacturer").as_string() == "maker");

  // 15 at the maker, 10 at the wholesaler, 5 in transit to it.
  // Keyed "holder>inTransitTo".
  std::map<std::string, int64_t> reach;
  for (const JsonValue& h : Member(r, "recallReach").as_array()) {
    reach[Member(h, "holder").as_string() + ">" + Member(h, "inTransitTo").as_string()] =
        Member(h, "packs").as_int();
  }
  BOOST_TEST(reach["maker>"] == 15);
  BOOST_TEST(reach["wholesaler>"] == 10);
  BOOST_TEST(reach["maker>wholesaler"] == 5);

  const pedigree::JsonArray& excursions = Member(r, "excursions").as_array();
  BOOST_REQUIRE(excursions.size() == 1u);
  BOOST_TEST(Member(excursions[0], "despatchAdvice").as_string() == "DA-1");
  BOOST_TEST(Member(excursions[0], "from").as_string() == "maker");
  BOOST_TEST(Member(excursions[0], "to").as_string() == "wholesaler");
  BOOST_TEST(Member(excursions[0], "min").as_string() == "4.5");
  BOOST_TEST(Member(excursions[0], "max").as_string() == "12.3");
  BOOST_TEST(Member(excursions[0], "packs").as_int() == 10);
  // Unsigned readings: the organisation's word (docs/epcis.md, "Device-signed sensor data").
  BOOST_TEST(Member(excursions[0], "signedBy").as_array().empty());
  BOOST_TEST(Member(excursions[0], "reportedBy").as_string().rfind("reported by ", 0) == 0u);

  const pedigree::JsonArray& alerts = Member(r, "alerts").as_array();
  BOOST_REQUIRE(alerts.size() == 1u);
  BOOST_TEST(Member(alerts[0], "code").as_string() == "temperature_excursion");
  BOOST_TEST(Member(alerts[0], "org").as_string() == "wholesaler");
  BOOST_TEST(Member(alerts[0], "pack").as_string() == chain.packs[0]);

  BOOST_TEST(Member(Member(r, "log"), "origin").as_string() == "example.org/batch-test");

  const std::string html = reports::RenderHtml(r);
  BOOST_TEST(html.find("<div class=\"banner SUSPECT\">") != std::string::npos);
  BOOST_TEST(html.find("<tr class=\"excursion-row alert\">") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(recalled_batch_is_suspect_with_the_recall_as_violation) {
  Chain chain;
  chain.Do(chain.maker.id, JsonValue::Object()
                               .set("kind", "batch.status")
                               .set("gtin", chain.gtin)
                               .set("lot", chain.lot)
                               .set("status", "recalled")
                               .set("reason", "sterility"));
  auto report = reports::BatchReport(chain.tmp / "ledger", chain.gtin, chain.lot);
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  BOOST_TEST(Member(Member(*report, "subject"), "status").as_string() == "recalled");
  BOOST_TEST(Member(Member(*report, "subject"), "statusReason").as_string() == "sterility");
  bool recall_violation = false;
  for (const JsonValue& v : Member(*report, "violations").as_array())
    recall_violation |= Member(v, "code").as_string() == "recalled";
  BOOST_TEST(recall_violation);
}

BOOST_AUTO_TEST_CASE(batch_without_alerts_or_excursions_is_verified) {
  Chain chain;
  std::vector<std::string> serials = provenance::RandomSerials(3);
  chain.Do(chain.maker.id, JsonValue::Object()
                               .set("kind", "batch.register")
                               .set("gtin", chain.gtin)
                               .set("lot", "L8")
                               .set("expiry", "2028-01-31")
                               .set("quantity", 3));
  chain.Do(chain.maker.id, JsonValue::Object()
                               .set("kind", "commission")
                               .set("gtin", chain.gtin)
                               .set("lot", "L8")
                               .set("location", chain.maker.gln())
                               .set("serials", Strings(serials)));
  auto report = reports::BatchReport(chain.tmp / "ledger", chain.gtin, "L8");
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  BOOST_TEST(Member(*report, "verdict").as_string() == "VERIFIED");
  BOOST_TEST(Member(*report, "excursions").size() == 0u);
  BOOST_TEST(Member(*report, "alerts").size() == 0u);
}

// An open falsification signal weighs on the batch; closed as a technical error it is
// listed with its state and no longer does; confirmed, it does again.
BOOST_AUTO_TEST_CASE(batch_alerts_weigh_by_their_state_and_classification) {
  Chain chain;
  std::vector<std::string> serials = provenance::RandomSerials(2);
  chain.Do(chain.maker.id, JsonValue::Object()
                               .set("kind", "batch.register")
                               .set("gtin", chain.gtin)
                               .set("lot", "L8")
                               .set("expiry", "2028-01-31")
                               .set("quantity", 2));
  chain.Do(chain.maker.id, JsonValue::Object()
                               .set("kind", "commission")
                               .set("gtin", chain.gtin)
                               .set("lot", "L8")
                               .set("location", chain.maker.gln())
                               .set("serials", Strings(serials)));
  const auto pack = [&](size_t i) {
    return provenance::PackId(*provenance::Gtin::Parse(chain.gtin),
                              *provenance::Serial::Parse(serials[i]))
        .DigitalLinkUri();
  };
  // The pharmacy supplies packs the maker still holds: a falsification signal.
  const auto refuse = [&](size_t i) {
    auto r = chain.node->SubmitAs(chain.pharmacy.id, JsonValue::Object()
                                                         .set("kind", "decommission")
                                                         .set("epcs", Strings({pack(i)}))
                                                         .set("status", "supplied")
                                                         .set("location", chain.pharmacy.gln()));
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code() == "alert.not_in_custody");
    auto alerts = chain.node->Read([](provenance::ProvenanceView& v) { return v.Alerts("", 1); });
    BOOST_REQUIRE(alerts.has_value() && !alerts->empty());
    return alerts->front().index;
  };
  const auto verdict = [&] {
    auto report = reports::BatchReport(chain.tmp / "ledger", chain.gtin, "L8");
    BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
    return *report;
  };
  const auto close = [&](uint64_t alert, const std::string& classification) {
    chain.Do(chain.maker.id, JsonValue::Object()
                                 .set("kind", "alert.close")
                                 .set("alert", alert)
                                 .set("classification", classification)
                                 .set("reason", "scanned the wrong pack"));
  };
  const uint64_t first = refuse(0);
  BOOST_TEST(Member(verdict(), "verdict").as_string() == "SUSPECT");
  close(first, "technical_error");
  JsonValue r = verdict();
  BOOST_TEST(Member(r, "verdict").as_string() == "VERIFIED");
  BOOST_REQUIRE_EQUAL(Member(r, "alerts").size(), 1u);
  const JsonValue& a = Member(r, "alerts").as_array()[0];
  BOOST_TEST(Member(a, "state").as_string() == "closed");
  BOOST_TEST(Member(a, "classification").as_string() == "technical_error");
  BOOST_TEST(Member(a, "reason").as_string() == "scanned the wrong pack");
  BOOST_TEST(!Member(a, "weighs").as_bool());
  close(refuse(1), "confirmed_falsification");
  r = verdict();
  BOOST_TEST(Member(r, "verdict").as_string() == "SUSPECT");
  BOOST_TEST(Member(r, "violations").size() == 1u);
}

BOOST_AUTO_TEST_CASE(unknown_batch_is_a_clear_error) {
  Chain chain;
  auto report = reports::BatchReport(chain.tmp / "ledger", chain.gtin, "NOPE");
  BOOST_REQUIRE(!report.has_value());
  BOOST_TEST(report.error().code() == "report.no_such_batch");
}

BOOST_AUTO_TEST_SUITE_END()
