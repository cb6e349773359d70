// The kit.* rules through the real ledger: the investigational-product kit moves from
// the sponsor to a site and a subject, and a temperature excursion quarantines it until
// the sponsor decides.
#include <boost/test/unit_test.hpp>

#include "trial_chain.h"

using namespace pedigree;
using namespace pedigree::provenance;
using namespace pedigree::provenance::testing;

namespace {

using C = TrialChain;

std::string Kit(const std::string& serial) {
  return "https://id.gs1.org/01/09506000134352/21/" + serial;
}

JsonValue Kits(std::initializer_list<std::string> serials) {
  auto a = JsonValue::Array();
  for (const auto& s : serials) a.push_back(JsonValue(Kit(s)));
  return a;
}

JsonValue Readings(std::initializer_list<int64_t> tenths) {
  auto a = JsonValue::Array();
  for (int64_t t : tenths) {
    auto r = JsonValue::Object();
    r.set("time", JsonValue("2026-11-21T09:00:00Z"));
    r.set("value", JsonValue(t));
    a.push_back(r);
  }
  return a;
}

std::string Subject(const std::string& id) { return HashOf("subject " + id); }

// T1 with a protocol, subject 001 enrolled at s1, kits K1..K4 registered (2.0–8.0 °C)
// and K1..K3 shipped to s1 under DA1.
struct KitChain : C {
  KitChain() {
    Expect(Protocol());
    Expect(Enrol(site1_, "001"));
    Expect(Enrol(site1_, "002"));
    Expect(Do(sponsor_, "kit.register",
              {{"kits", Kits({"K1", "K2", "K3", "K4"})},
               {"lot", "IMP-001"},
               {"expiry", "2027-12-31"},
               {"tempMin", 20},
               {"tempMax", 80}}));
    Expect(Do(sponsor_, "kit.ship",
              {{"kits", Kits({"K1", "K2", "K3"})}, {"to", "s1"}, {"despatchAdvice", "DA1"}}));
  }
  Result<uint64_t> Receive(const TrialOrg& site, const std::string& advice = "DA1") {
    return Do(site, "kit.receive", {{"despatchAdvice", advice}});
  }
  Result<uint64_t> Dispense(const TrialOrg& site, const std::string& kit) {
    return Do(site, "kit.dispense", {{"kits", Kits({kit})}, {"subjectRef", Subject("001")}});
  }
  Result<uint64_t> Decide(const std::string& kit, const std::string& decision) {
    return Do(sponsor_, "kit.decision",
              {{"kits", Kits({kit})}, {"decision", decision}, {"reason", "stability data"}});
  }
  Result<uint64_t> Excursion(const std::string& kit, std::initializer_list<int64_t> tenths,
                             const TrialOrg* org = nullptr) {
    return Do(org ? *org : site1_, "kit.excursion",
              {{"kits", Kits({kit})}, {"readings", Readings(tenths)}});
  }
  KitRecord View(const std::string& kit) { return view_->Kit(Kit(kit)).value().value(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(kit_rules)

BOOST_AUTO_TEST_CASE(kit_travels_from_sponsor_to_subject) {
  KitChain c;
  KitRecord shipped = c.View("K1");
  BOOST_TEST(shipped.state == "in_transit");
  BOOST_TEST(shipped.holder == "sp");
  BOOST_TEST(shipped.in_transit_to == "s1");
  BOOST_TEST(shipped.trial == "T1");
  BOOST_TEST(shipped.lot == "IMP-001");
  BOOST_TEST(shipped.expiry == "2027-12-31");
  BOOST_TEST(c.View("K4").state == "registered");
  uint64_t received = c.Receive(c.site1_).value();
  BOOST_TEST(c.View("K1").state == "available");
  BOOST_TEST(c.View("K1").holder == "s1");
  BOOST_TEST(c.View("K1").in_transit_to.empty());
  uint64_t assigned =
      c.Do(c.site1_, "kit.assign", {{"kits", Kits({"K1"})}, {"subjectRef", Subject("001")}})
          .value();
  BOOST_TEST(c.View("K1").state == "assigned");
  uint64_t dispensed = c.Dispense(c.site1_, "K1").value();
  KitRecord k = c.View("K1");
  BOOST_TEST(k.state == "dispensed");
  BOOST_TEST(k.subject_ref == Subject("001"));
  BOOST_REQUIRE(k.history.size() == 5u);  // register, ship, receive, assign, dispense
  BOOST_TEST(k.history[2] == received);
  BOOST_TEST(k.history[3] == assigned);
  BOOST_TEST(k.history[4] == dispensed);
  C::Expect(c.Do(c.site1_, "kit.return", {{"kits", Kits({"K1"})}}));
  BOOST_TEST(c.View("K1").state == "returned");
  BOOST_TEST(C::Code(c.Dispense(c.site1_, "K1")) == "kit.bad_transition");
  BOOST_TEST(!c.view_->Kit(Kit("K9")).value().has_value());
}

BOOST_AUTO_TEST_CASE(dispense_before_receipt_is_refused_with_alert) {
  KitChain c;
  uint64_t before = c.ledger_->size();
  auto in_transit = c.Dispense(c.site1_, "K1");
  BOOST_TEST(C::Code(in_transit) == "alert.kit_not_received");
  BOOST_TEST(in_transit.error().field() == "kits");
  // The services layer takes the kit for the recorded alert from "<kit id>: ".
  BOOST_TEST(in_transit.error().message().rfind(Kit("K1") + ": ", 0) == 0u);
  BOOST_TEST(C::Code(c.Dispense(c.site1_, "K4")) == "alert.kit_not_received");
  BOOST_TEST(C::Code(c.Do(c.site1_, "kit.assign",
                          {{"kits", Kits({"K2"})}, {"subjectRef", Subject("001")}})) ==
             "alert.kit_not_received");
  BOOST_TEST(c.ledger_->size() == before);
  BOOST_TEST(c.View("K1").state == "in_transit");
  C::Expect(c.Receive(c.site1_));
  C::Expect(c.Dispense(c.site1_, "K1"));
}

BOOST_AUTO_TEST_CASE(excursion_quarantines_and_dispense_is_refused_with_alert) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  C::Expect(c.Excursion("K1", {45, 95}));
  BOOST_TEST(c.View("K1").state == "quarantined");
  BOOST_TEST(C::Code(c.Dispense(c.site1_, "K1")) == "alert.kit_quarantined");
  BOOST_TEST(c.View("K1").state == "quarantined");
  C::Expect(c.Decide("K1", "release"));
  BOOST_TEST(c.View("K1").state == "available");
  C::Expect(c.Dispense(c.site1_, "K1"));
  BOOST_TEST(c.View("K1").state == "dispensed");
}

BOOST_AUTO_TEST_CASE(release_returns_an_assigned_kit_to_assigned) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  C::Expect(c.Do(c.site1_, "kit.assign", {{"kits", Kits({"K2"})}, {"subjectRef", Subject("001")}}));
  C::Expect(c.Excursion("K2", {10}, &c.sponsor_));
  BOOST_TEST(c.View("K2").state == "quarantined");
  C::Expect(c.Decide("K2", "release"));
  BOOST_TEST(c.View("K2").state == "assigned");
}

BOOST_AUTO_TEST_CASE(readings_within_range_change_nothing_but_join_the_history) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  uint64_t at = c.Excursion("K1", {20, 80}).value();
  KitRecord k = c.View("K1");
  BOOST_TEST(k.state == "available");
  BOOST_TEST(k.history.back() == at);
  BOOST_TEST(C::Code(c.Do(c.site1_, "kit.excursion", {{"kits", Kits({"K1"})}})) == "kit.malformed");
}

// A kit excursion's readings are sensor values like a shipment's: physically impossible
// ones are refused (docs/events.md, "Payload form") and leave the kit as it was.
BOOST_AUTO_TEST_CASE(physically_impossible_readings_are_refused) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  for (int64_t tenths : {int64_t{-2732}, int64_t{10001}}) {
    auto refused = c.Excursion("K1", {50, tenths});
    BOOST_TEST_CONTEXT(tenths) {
      BOOST_TEST(C::Code(refused) == "event.sensor_out_of_bounds");
      BOOST_TEST((!refused && refused.error().field() == "readings[1].value"));
    }
  }
  BOOST_TEST(c.View("K1").state == "available");
  C::Expect(c.Excursion("K1", {-2731, 10000}));  // the bounds themselves
  BOOST_TEST(c.View("K1").state == "quarantined");
}

BOOST_AUTO_TEST_CASE(excursion_in_transit_quarantines_the_shipment_until_released) {
  KitChain c;
  // EPCIS 2.0 sensorElementList, temperatures as decimal strings.
  auto report = JsonValue::Object();
  report.set("type", JsonValue("Temperature"));
  report.set("value", JsonValue("12.5"));
  report.set("uom", JsonValue("CEL"));
  auto reports = JsonValue::Array();
  reports.push_back(report);
  auto element = JsonValue::Object();
  element.set("sensorReport", reports);
  auto elements = JsonValue::Array();
  elements.push_back(element);
  C::Expect(c.Do(c.sponsor_, "kit.excursion",
                 {{"despatchAdvice", "DA1"}, {"sensorElementList", elements}}));
  for (const char* k : {"K1", "K2", "K3"}) BOOST_TEST(c.View(k).state == "quarantined");
  BOOST_TEST(c.View("K4").state == "registered");
  C::Expect(c.Receive(c.site1_));
  KitRecord k = c.View("K1");
  BOOST_TEST(k.state == "quarantined");
  BOOST_TEST(k.holder == "s1");
  BOOST_TEST(C::Code(c.Dispense(c.site1_, "K1")) == "alert.kit_quarantined");
  C::Expect(c.Decide("K1", "release"));
  BOOST_TEST(c.View("K1").state == "available");
  C::Expect(c.Dispense(c.site1_, "K1"));
}

BOOST_AUTO_TEST_CASE(destroy_is_final) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  C::Expect(c.Excursion("K1", {120}));
  C::Expect(c.Decide("K1", "destroy"));
  BOOST_TEST(c.View("K1").state == "destroyed");
  BOOST_TEST(C::Code(c.Decide("K1", "release")) == "kit.destroyed");
  BOOST_TEST(C::Code(c.Decide("K1", "destroy")) == "kit.destroyed");
  BOOST_TEST(C::Code(c.Dispense(c.site1_, "K1")) == "kit.destroyed");
  BOOST_TEST(C::Code(c.Excursion("K1", {50})) == "kit.destroyed");
  BOOST_TEST(C::Code(c.Do(c.site1_, "kit.return", {{"kits", Kits({"K1"})}})) == "kit.destroyed");
  BOOST_TEST(c.View("K1").state == "destroyed");
}

BOOST_AUTO_TEST_CASE(kit_roles_and_relations_are_checked) {
  KitChain c;
  auto register_kit = [&](const TrialOrg& org) {
    return c.Do(org, "kit.register",
                {{"kits", Kits({"K7"})}, {"lot", "IMP-002"}, {"expiry", "2027-12-31"}});
  };
  BOOST_TEST(C::Code(register_kit(c.site1_)) == "kit.forbidden_role");
  BOOST_TEST(C::Code(register_kit(c.sponsor2_)) == "kit.not_sponsor");
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "kit.register",
                          {{"trialId", "T9"},
                           {"kits", Kits({"K7"})},
                           {"lot", "IMP-002"},
                           {"expiry", "2027-12-31"}})) == "kit.unknown_trial");
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "kit.ship",
                          {{"kits", Kits({"K4"})}, {"to", "s3"}, {"despatchAdvice", "DA2"}})) ==
             "kit.not_site");
  BOOST_TEST(C::Code(c.Do(c.sponsor_, "kit.ship",
                          {{"kits", Kits({"K4"})}, {"to", "s2"}, {"despatchAdvice", "DA1"}})) ==
             "kit.duplicate_shipment");
  BOOST_TEST(C::Code(c.Receive(c.site2_)) == "kit.not_addressee");
  BOOST_TEST(C::Code(c.Receive(c.site3_)) == "kit.not_site");
  BOOST_TEST(C::Code(c.Receive(c.site1_, "DA9")) == "kit.unknown_shipment");
  C::Expect(c.Receive(c.site1_));
  BOOST_TEST(C::Code(c.Receive(c.site1_)) == "kit.already_received");
  BOOST_TEST(C::Code(c.Dispense(c.site2_, "K1")) == "kit.not_holder");
  BOOST_TEST(C::Code(c.Dispense(c.sponsor_, "K1")) == "kit.forbidden_role");
  BOOST_TEST(C::Code(c.Excursion("K1", {50}, &c.sponsor2_)) == "kit.not_sponsor");
  BOOST_TEST(C::Code(c.Excursion("K1", {50}, &c.site3_)) == "kit.not_site");
  BOOST_TEST(C::Code(c.Excursion("K1", {50}, &c.site2_)) == "kit.not_holder");
  BOOST_TEST(C::Code(c.Do(c.site1_, "kit.decision",
                          {{"kits", Kits({"K1"})}, {"decision", "release"}, {"reason", "ok"}})) ==
             "kit.forbidden_role");
}

BOOST_AUTO_TEST_CASE(kit_payload_refusals_carry_specific_codes) {
  KitChain c;
  C::Expect(c.Receive(c.site1_));
  struct Case {
    const TrialOrg* org;
    std::string kind;
    Fields fields;
    std::string code;
  };
  std::vector<Case> cases = {
      {&c.sponsor_,
       "kit.register",
       {{"kits", Kits({"K1"})}, {"lot", "L"}, {"expiry", "2027-12-31"}},
       "kit.already_registered"},
      {&c.sponsor_,
       "kit.register",
       {{"kits", Strings({"K7"})}, {"lot", "L"}, {"expiry", "2027-12-31"}},
       "kit.bad_kit_id"},
      {&c.sponsor_,
       "kit.register",
       {{"kits", Kits({})}, {"lot", "L"}, {"expiry", "2027-12-31"}},
       "kit.bad_kit_count"},
      {&c.sponsor_,
       "kit.register",
       {{"kits", Kits({"K7"})}, {"lot", "L"}, {"expiry", "2027-02-30"}},
       "kit.malformed"},
      {&c.sponsor_,
       "kit.ship",
       {{"kits", Kits({"K9"})}, {"to", "s1"}, {"despatchAdvice", "DA3"}},
       "kit.unknown_kit"},
      {&c.sponsor_,
       "kit.ship",
       {{"kits", Kits({"K1"})}, {"to", "s1"}, {"despatchAdvice", "DA3"}},
       "kit.bad_transition"},
      {&c.site1_,
       "kit.assign",
       {{"kits", Kits({"K1"})}, {"subjectRef", Subject("999")}},
       "kit.unknown_subject"},
      {&c.sponsor_,
       "kit.decision",
       {{"kits", Kits({"K1"})}, {"decision", "release"}},
       "kit.reason_required"},
      {&c.sponsor_,
       "kit.decision",
       {{"kits", Kits({"K1"})}, {"decision", "release"}, {"reason", "fine"}},
       "kit.not_quarantined"},
      {&c.sponsor_,
       "kit.decision",
       {{"kits", Kits({"K1"})}, {"decision", "keep"}, {"reason", "fine"}},
       "kit.malformed"},
      {&c.site1_,
       "kit.dispense",
       {{"kits", Kits({"K1"})}, {"signature", JsonValue()}},
       "kit.bad_signature"},
  };
  for (const Case& k : cases) {
    BOOST_TEST_CONTEXT(k.kind << " " << k.code) {
      BOOST_TEST(C::Code(c.Do(*k.org, k.kind, k.fields)) == k.code);
    }
  }
  C::Expect(c.Do(c.site1_, "kit.assign", {{"kits", Kits({"K1"})}, {"subjectRef", Subject("001")}}));
  BOOST_TEST(C::Code(c.Do(c.site1_, "kit.dispense",
                          {{"kits", Kits({"K1"})}, {"subjectRef", Subject("002")}})) ==
             "kit.wrong_subject");
}

BOOST_AUTO_TEST_CASE(refused_kit_event_writes_nothing) {
  KitChain c;
  // K4 can be shipped, K9 does not exist: the whole shipment is refused.
  auto r = c.Do(c.sponsor_, "kit.ship",
                {{"kits", Kits({"K4", "K9"})}, {"to", "s2"}, {"despatchAdvice", "DA2"}});
  BOOST_TEST(C::Code(r) == "kit.unknown_kit");
  KitRecord k4 = c.View("K4");
  BOOST_TEST(k4.state == "registered");
  BOOST_TEST(k4.history.size() == 1u);
  BOOST_TEST(C::Code(c.Receive(c.site2_, "DA2")) == "kit.unknown_shipment");
  C::Expect(c.Do(c.sponsor_, "kit.ship",
                 {{"kits", Kits({"K4"})}, {"to", "s2"}, {"despatchAdvice", "DA2"}}));
}

BOOST_AUTO_TEST_SUITE_END()
