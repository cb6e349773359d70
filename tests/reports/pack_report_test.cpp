// The pack pedigree report over a ledger: a clean chain is VERIFIED, rule problems are SUSPECT
// and name the violation, and edits to the SQLite file behind the ledger's back are FAILED with
// the index they broke.
#include "pedigree/reports/pack_report.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>

#include "pedigree/base/bytes.h"
#include "pedigree/base/time.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/html.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonArray;
using pedigree::JsonValue;
using pedigree::reports::testing::SupplyScenario;
using pedigree::reports::testing::TamperSql;

namespace {

JsonValue ReportOf(log::Ledger& ledger, const std::string& code, int64_t now) {
  auto evidence = GatherPackEvidence(ledger, code);
  BOOST_REQUIRE_MESSAGE(evidence.has_value(), pedigree::testing::Why(evidence));
  auto anchors = LedgerTrustAnchors(ledger);
  BOOST_REQUIRE(anchors.has_value());
  return VerifyPack(*evidence, *anchors, now);
}

// Reopens the (closed) scenario's ledger without the model: reads, proofs and checkpoints.
std::unique_ptr<log::Ledger> Reopen(const SupplyScenario& s) {
  auto l = log::Ledger::Open(s.dir());
  BOOST_REQUIRE_MESSAGE(l.has_value(), pedigree::testing::Why(l));
  return std::move(*l);
}

std::string Verdict(const JsonValue& r) { return r.find("verdict")->as_string(); }

bool HasCode(const JsonValue& r, const char* array, const std::string& code) {
  for (const JsonValue& v : r.find(array)->as_array()) {
    if (v.find("code")->as_string() == code) return true;
  }
  return false;
}

int64_t FirstFailureIndex(const JsonValue& r) {
  return r.find("failures")->as_array().front().find("index")->as_int();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pack_report)

BOOST_AUTO_TEST_CASE(full_chain_with_case_is_verified_from_any_scanner_form) {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  for (const std::string& code : {SupplyScenario::Scan("S1"), SupplyScenario::Pack("S1"),
                                  "(01)" + SupplyScenario::kGtin + "(21)S1"}) {
    JsonValue r = ReportOf(s.node().ledger(), code, s.now());
    BOOST_TEST_INFO(pedigree::Canonicalize(r));
    BOOST_TEST(Verdict(r) == "VERIFIED");
    BOOST_TEST(r.find("failures")->size() == 0u);
    BOOST_TEST(r.find("violations")->size() == 0u);
    const JsonValue& subject = *r.find("subject");
    BOOST_TEST(subject.find("status")->as_string() == "supplied");
    BOOST_TEST(subject.find("holder")->as_string() == "ph1");
    BOOST_TEST(subject.find("productName")->as_string() == "Examplamab 40 mg");
    const JsonArray& events = r.find("events")->as_array();
    // product, batch, commission, aggregate, ship, receive, disaggregate, ship, receive, dispense
    BOOST_TEST(events.size() == 10u);
    BOOST_TEST(events.back().find("index")->as_int() == static_cast<int64_t>(dispense));
    BOOST_TEST(events[3].find("kind")->as_string() == "aggregate");
    for (const JsonValue& e : events) {
      for (const JsonValue& c : e.find("checks")->as_array()) {
        BOOST_TEST(c.find("result")->as_string() == "pass");
      }
    }
    BOOST_TEST(r.find("registry")->size() == 3u);  // org.register of mfg, wh and ph1
  }
}

BOOST_AUTO_TEST_CASE(pack_that_travelled_in_a_case_on_a_pallet_is_verified_online_and_offline) {
  SupplyScenario s;
  s.RunPalletChain();
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Scan("S1"), s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(r.find("violations")->size() == 0u);
  BOOST_TEST(r.find("subject")->find("holder")->as_string() == "ph1");
  // product, batch, commission, case, pallet, ship, receive, unpack pallet, unpack case,
  // ship, receive, dispense: the pallet's own aggregation is in the pack's history.
  const JsonArray& events = r.find("events")->as_array();
  BOOST_REQUIRE(events.size() == 12u);
  BOOST_TEST(events[4].find("kind")->as_string() == "aggregate");
  BOOST_TEST(events[7].find("kind")->as_string() == "disaggregate");
  // The offline bundle holds the same evidence and gives the same verdict.
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1"));
  BOOST_REQUIRE(evidence.has_value());
  auto read = ReadBundle(WriteBundle(*evidence));
  BOOST_REQUIRE_MESSAGE(read.has_value(), pedigree::testing::Why(read));
  JsonValue offline = VerifyPack(*read, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
  BOOST_TEST(pedigree::Canonicalize(offline) == pedigree::Canonicalize(r));
  // The sibling that stayed at the wholesaler is verified too, held by wh.
  JsonValue sibling = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(sibling));
  BOOST_TEST(Verdict(sibling) == "VERIFIED");
  BOOST_TEST(sibling.find("subject")->find("holder")->as_string() == "wh");
}

// A sensor event's readings say who vouches for them, online and from the offline bundle:
// the logger that signed them (its org.device_add travels in the evidence) or the organisation
// that reported them (docs/epcis.md, "Device-signed sensor data").
BOOST_AUTO_TEST_CASE(sensor_readings_are_signed_by_a_logger_or_reported_by_the_org) {
  SupplyScenario s;
  s.CommissionIntoCase();
  s.Ship("mfg", {s.sscc}, "wh", s.wh_gln, "DA-1");
  const std::string device = "urn:epc:id:giai:4000003.L7";
  auto logger =
      log::PrivateKey::FromSeed(
          FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value())
          .value();
  auto added = s.node().SubmitAsAuthority(s.authority(), "org.device_add", "device-l7",
                                          JsonValue::Object()
                                              .set("id", "wh")
                                              .set("device", device)
                                              .set("key", ToBase64(logger.public_key().raw()))
                                              .set("label", "reefer 7"));
  BOOST_REQUIRE_MESSAGE(added.has_value(), pedigree::testing::Why(added));
  auto element = [&](const std::string& value) {
    auto reports = JsonValue::Array();
    reports.push_back(JsonValue::Object()
                          .set("type", "Temperature")
                          .set("time", "2026-11-21T08:00:00Z")
                          .set("value", value)
                          .set("uom", "CEL"));
    return JsonValue::Object()
        .set("sensorMetadata", JsonValue::Object().set("deviceID", device))
        .set("sensorReport", std::move(reports));
  };
  JsonValue signed_element = element("4.5");
  const std::string bytes = provenance::DeviceSignedBytes(signed_element, "e").value();
  signed_element.set(
      std::string(provenance::kDeviceSignatureMember),
      JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(logger.Sign(bytes))));
  auto list = JsonValue::Array();
  list.push_back(signed_element);
  list.push_back(element("5.0"));
  const uint64_t sensor = s.Submit("wh", JsonValue::Object()
                                             .set("kind", "sensor")
                                             .set("from", "mfg")
                                             .set("despatchAdvice", "DA-1")
                                             .set("sensorElementList", list));
  s.Receive("wh", "mfg", "DA-1", s.wh_gln);
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());

  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  const JsonValue* event = nullptr;
  for (const JsonValue& e : r.find("events")->as_array()) {
    if (e.find("index")->as_int() == static_cast<int64_t>(sensor)) event = &e;
  }
  BOOST_REQUIRE(event != nullptr);
  BOOST_TEST(event->find("summary")->as_string() ==
             "temperature record for advice DA-1, element 0 signed by logger " + device +
                 " (reefer 7) of wh Ltd; element 1 reported by wh Ltd");
  const JsonArray& readings = event->find("sensorReadings")->as_array();
  BOOST_REQUIRE(readings.size() == 2u);
  BOOST_TEST(readings[0].find("by")->as_string() == "device");
  BOOST_TEST(readings[0].find("deviceEntry")->as_int() == static_cast<int64_t>(*added));
  BOOST_TEST(readings[1].find("by")->as_string() == "org");
  // The offline bundle carries the logger's registry entry and gives the same report.
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1"));
  BOOST_REQUIRE(evidence.has_value());
  auto read = ReadBundle(WriteBundle(*evidence));
  BOOST_REQUIRE_MESSAGE(read.has_value(), pedigree::testing::Why(read));
  JsonValue offline = VerifyPack(*read, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
  BOOST_TEST(pedigree::Canonicalize(offline) == pedigree::Canonicalize(r));
  // Without the logger's registry entry the signature cannot be vouched for: FAILED, named.
  for (auto it = read->entries.begin(); it != read->entries.end(); ++it) {
    if (it->index == *added) {
      read->entries.erase(it);
      break;
    }
  }
  JsonValue stripped = VerifyPack(*read, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
  BOOST_TEST(HasCode(stripped, "failures", "registry.device_signature"));
}

BOOST_AUTO_TEST_CASE(proofs_use_the_oldest_covering_checkpoint_and_link_it_to_the_newest) {
  SupplyScenario s;
  s.RunChain();
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());
  s.Decommission("ph1", "S2", "destroyed", s.ph1_gln);  // newer entries, another pack
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S1"));
  BOOST_REQUIRE(evidence.has_value());
  BOOST_TEST(!evidence->latest_checkpoint.empty());
  BOOST_TEST(!evidence->consistency.empty());
  JsonValue r = VerifyPack(*evidence, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
  BOOST_TEST(Verdict(r) == "VERIFIED");
  // A consistency proof for another pair of trees fails the report.
  evidence->consistency.front()[0] ^= 1;
  r = VerifyPack(*evidence, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(HasCode(r, "failures", "merkle.root_mismatch"));
}

BOOST_AUTO_TEST_CASE(recalled_batch_is_suspect_naming_the_recall) {
  SupplyScenario s;
  s.RunChain();
  s.Recall();
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(HasCode(r, "violations", "rules.batch_recalled"));
  BOOST_TEST(r.find("subject")->find("batchStatus")->as_string() == "recalled");
}

BOOST_AUTO_TEST_CASE(dispense_by_a_pharmacy_without_custody_is_suspect_with_its_alert) {
  SupplyScenario s;
  s.RunChain();
  // The model calls an active pack turning up at another pharmacy a suspected clone.
  std::string code = s.Refused("ph2", s.DecommissionPayload("S2", "supplied", s.ph2_gln));
  BOOST_TEST(code == "alert.clone_suspected");
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(HasCode(r, "violations", code));
  BOOST_TEST(r.find("alerts")->size() == 1u);
  BOOST_TEST(r.find("alerts")->as_array()[0].find("org")->as_string() == "ph2");
}

BOOST_AUTO_TEST_CASE(shipment_by_a_former_holder_is_suspect_not_in_custody) {
  SupplyScenario s;
  s.RunChain();
  auto ship = JsonValue::Object()
                  .set("kind", "ship")
                  .set("epcs", pedigree::reports::testing::Strings({SupplyScenario::Pack("S2")}))
                  .set("to", "ph2")
                  .set("toLocation", s.ph2_gln)
                  .set("despatchAdvice", "DA-9");
  BOOST_TEST(s.Refused("wh", ship) == "alert.not_in_custody");
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(HasCode(r, "violations", "alert.not_in_custody"));
  const JsonValue& v = r.find("violations")->as_array().front();
  BOOST_TEST(v.find("org")->as_string() == "wh");
  BOOST_TEST(r.find("subject")->find("holder")->as_string() == "ph1");
}

// The same pharmacy dispensing a pack twice is a slip the rules stopped, not a sign against
// the pack: listed, never SUSPECT (docs/alerts.md, "Classes").
BOOST_AUTO_TEST_CASE(second_dispense_by_the_same_pharmacy_is_a_listed_slip_not_suspect) {
  SupplyScenario s;
  s.RunChain();
  std::string code = s.Refused("ph1", s.DecommissionPayload("S1", "supplied", s.ph1_gln));
  BOOST_TEST(code == "alert.already_decommissioned");
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "VERIFIED", r.find("summary")->as_string());
  BOOST_TEST(!HasCode(r, "violations", code));
  BOOST_REQUIRE_EQUAL(r.find("alerts")->size(), 1u);
  const JsonValue& a = r.find("alerts")->as_array()[0];
  BOOST_TEST(a.find("class")->as_string() == "slip");
  BOOST_TEST(a.find("state")->as_string() == "open");
  BOOST_TEST(!a.find("weighs")->as_bool());
  // So is an undo from another pharmacy's premises.
  BOOST_TEST(s.Refused("ph2", JsonValue::Object()
                                  .set("kind", "undo")
                                  .set("epcs", pedigree::reports::testing::Strings(
                                                   {SupplyScenario::Pack("S1")}))
                                  .set("location", s.ph2_gln)) == "alert.undo_other_party");
  r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(r.find("alerts")->size() == 2u);
}

// The alert the rules raise against `org`'s refused command, newest first.
uint64_t LatestAlert(SupplyScenario& s) {
  auto alerts = s.node().Read([](provenance::ProvenanceView& v) { return v.Alerts("", 1); });
  BOOST_REQUIRE(alerts.has_value() && !alerts->empty());
  return alerts->front().index;
}

JsonValue CloseAlert(uint64_t alert, const std::string& classification) {
  return JsonValue::Object()
      .set("kind", "alert.close")
      .set("alert", alert)
      .set("classification", classification)
      .set("reason", "checked with the pharmacy: " + classification);
}

// A clone alert on a genuine pack weighs while open; once the manufacturer closes it as a
// technical error the pack is VERIFIED again, online and from its bundle, the alert listed
// with its state, classification and reason.
BOOST_AUTO_TEST_CASE(genuine_pack_with_an_alert_closed_as_technical_error_is_verified) {
  SupplyScenario s;
  s.RunChain();
  BOOST_TEST(s.Refused("ph2", s.DecommissionPayload("S2", "supplied", s.ph2_gln)) ==
             "alert.clone_suspected");
  const uint64_t alert = LatestAlert(s);
  BOOST_TEST(Verdict(ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now())) ==
             "SUSPECT");
  s.Submit("mfg", JsonValue::Object().set("kind", "alert.investigate").set("alert", alert));
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");  // under investigation it still weighs
  BOOST_TEST(r.find("alerts")->as_array()[0].find("state")->as_string() == "investigating");
  s.Submit("mfg", CloseAlert(alert, "technical_error"));

  r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(r) == "VERIFIED", r.find("summary")->as_string());
  const JsonValue& a = r.find("alerts")->as_array()[0];
  BOOST_TEST(a.find("class")->as_string() == "falsification_signal");
  BOOST_TEST(a.find("state")->as_string() == "closed");
  BOOST_TEST(a.find("classification")->as_string() == "technical_error");
  BOOST_TEST(a.find("reason")->as_string() == "checked with the pharmacy: technical_error");
  BOOST_TEST(a.find("actor")->as_string() == "mfg");
  const std::string text = RenderPackText(r);
  BOOST_TEST(text.find("closed as technical_error: checked with the pharmacy") !=
             std::string::npos);

  // The bundle carries the alert's life, so the offline verdict is the same.
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S2"));
  BOOST_REQUIRE(evidence.has_value());
  auto read = ReadBundle(WriteBundle(*evidence));
  BOOST_REQUIRE(read.has_value());
  auto anchors = LedgerTrustAnchors(s.node().ledger());
  BOOST_REQUIRE(anchors.has_value());
  const JsonValue offline = VerifyPack(*read, *anchors, s.now());
  BOOST_TEST(Verdict(offline) == "VERIFIED");
  BOOST_TEST(offline.find("alerts")->as_array()[0].find("state")->as_string() == "closed");
}

BOOST_AUTO_TEST_CASE(alert_closed_as_confirmed_falsification_makes_the_pack_suspect) {
  SupplyScenario s;
  s.RunChain();
  // Even a slip weighs once the manufacturer confirms a falsification.
  BOOST_TEST(s.Refused("ph1", s.DecommissionPayload("S1", "supplied", s.ph1_gln)) ==
             "alert.already_decommissioned");
  BOOST_TEST(Verdict(ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now())) ==
             "VERIFIED");
  s.Submit("mfg", CloseAlert(LatestAlert(s), "confirmed_falsification"));
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(HasCode(r, "violations", "alert.already_decommissioned"));
  BOOST_TEST(r.find("alerts")->as_array()[0].find("weighs")->as_bool());
}

// The lot and expiry a report shows come from the pack's own commissioning and its batch,
// never from another product's batch an evidence file slips in (authentic, with its proof).
BOOST_AUTO_TEST_CASE(batch_of_another_product_in_the_evidence_cannot_change_lot_or_expiry) {
  SupplyScenario s;
  s.RunChain();
  const std::string other = pedigree::reports::testing::WithCheckDigit("0950600013436");
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "product.register")
                      .set("gtin", other)
                      .set("name", "Otheramab"));
  const uint64_t foreign = s.Submit("mfg", JsonValue::Object()
                                               .set("kind", "batch.register")
                                               .set("gtin", other)
                                               .set("lot", "LOT9")
                                               .set("expiry", "2099-12-31")
                                               .set("quantity", 1));
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "commission")
                      .set("gtin", other)
                      .set("lot", "LOT9")
                      .set("location", s.mfg_gln)
                      .set("serials", pedigree::reports::testing::Strings({"X1"})));
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());
  PackEvidence x =
      GatherPackEvidence(s.node().ledger(), "https://id.gs1.org/01/" + other + "/21/X1").value();
  PackEvidence s2 = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S2")).value();
  for (const auto& e : x.entries) {
    if (e.index != foreign) continue;
    auto at = std::find_if(s2.entries.begin(), s2.entries.end(),
                           [&](const EvidenceEntry& mine) { return mine.index > e.index; });
    s2.entries.insert(at, e);
  }
  auto anchors = LedgerTrustAnchors(s.node().ledger()).value();
  JsonValue r = VerifyPack(ReadBundle(WriteBundle(s2)).value(), anchors, s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(*r.find("failures")));
  // The foreign entry is not in the signed evidence index, so the bundle fails its
  // completeness check; the replay still refuses to let it change the subject.
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(HasCode(r, "failures", "bundle.unlisted_entry"));
  BOOST_TEST(HasCode(r, "violations", "rules.unrelated_event"));
  BOOST_TEST(r.find("subject")->find("lot")->as_string() == "LOT1");
  BOOST_TEST(r.find("subject")->find("expiry")->as_string() == "2028-03-31");
}

BOOST_AUTO_TEST_CASE(unknown_pack_is_no_such_pack_not_an_empty_report) {
  SupplyScenario s;
  s.RunChain();
  auto e = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("NOPE"));
  BOOST_REQUIRE(!e.has_value());
  BOOST_TEST(e.error().code() == "report.no_such_pack");
  auto sscc = GatherPackEvidence(s.node().ledger(), "(00)" + s.sscc);
  BOOST_REQUIRE(!sscc.has_value());
  BOOST_TEST(sscc.error().code() == "report.not_a_pack");
}

BOOST_AUTO_TEST_CASE(one_changed_byte_of_an_event_fails_naming_its_index) {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  s.Close();
  TamperSql(s.dir(),
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"supplied\"', "
            "'\"suppliex\"') AS BLOB) WHERE idx = " +
                std::to_string(dispense));
  auto l = Reopen(s);
  JsonValue r = ReportOf(*l, SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(FirstFailureIndex(r) == static_cast<int64_t>(dispense));
  BOOST_TEST(HasCode(r, "failures", "entry.bad_signature"));
  BOOST_TEST(HasCode(r, "failures", "merkle.root_mismatch"));
}

BOOST_AUTO_TEST_CASE(two_swapped_entries_fail_at_the_first_of_them) {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  s.Close();
  std::string a = std::to_string(dispense - 1), b = std::to_string(dispense);
  TamperSql(s.dir(), "UPDATE entries SET data = CASE idx WHEN " + a +
                         " THEN (SELECT data FROM entries WHERE idx = " + b + ") ELSE " +
                         "(SELECT data FROM entries WHERE idx = " + a + ") END WHERE idx IN (" + a +
                         ", " + b + ")");
  auto l = Reopen(s);
  JsonValue r = ReportOf(*l, SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(FirstFailureIndex(r) == static_cast<int64_t>(dispense - 1));
  BOOST_TEST(r.find("failures")->as_array().front().find("code")->as_string() ==
             "merkle.root_mismatch");
}

BOOST_AUTO_TEST_CASE(deleted_row_fails_as_missing_entry_at_its_index) {
  SupplyScenario s;
  uint64_t dispense = s.RunChain();
  s.Close();
  TamperSql(s.dir(), "DELETE FROM entries WHERE idx = " + std::to_string(dispense - 1));
  auto l = Reopen(s);
  JsonValue r = ReportOf(*l, SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(FirstFailureIndex(r) == static_cast<int64_t>(dispense - 1));
  BOOST_TEST(HasCode(r, "failures", "entry.missing"));
}

BOOST_AUTO_TEST_CASE(replaced_checkpoint_fails_its_signature_check) {
  SupplyScenario s;
  s.RunChain();
  BOOST_REQUIRE(s.node().ledger().SignCheckpoint().has_value());
  s.Decommission("ph1", "S2", "destroyed", s.ph1_gln);  // so that it is not the newest
  s.Close();
  // The checkpoint the proofs use, re-signed by a key that is not the log's.
  auto l = Reopen(s);
  auto evidence = GatherPackEvidence(*l, SupplyScenario::Pack("S1")).value();
  auto body =
      log::OpenNote(evidence.checkpoint, {{log::NoteVerifier::Parse(l->VerifierKey()).value()}})
          .value()
          .text;
  log::NoteSigner forger(l->origin(), log::PrivateKey::Generate());
  uint64_t size = log::ParseCheckpoint(body).value().size;
  l.reset();
  TamperSql(s.dir(), "UPDATE checkpoints SET note = '" + log::SignNote(body, forger) +
                         "' WHERE size = " + std::to_string(size));
  l = Reopen(s);
  JsonValue r = ReportOf(*l, SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(HasCode(r, "failures", "note.no_verified_signature"));
  BOOST_TEST(r.find("checks")->as_array()[0].find("result")->as_string() == "fail");
}

BOOST_AUTO_TEST_CASE(text_rendering_shows_the_verdict_and_every_event) {
  SupplyScenario s;
  s.RunChain();
  s.Recall();
  std::string text =
      RenderPackText(ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now()));
  BOOST_TEST(text.rfind("SUSPECT: ", 0) == 0u);
  BOOST_TEST(text.find("rules.batch_recalled") != std::string::npos);
  BOOST_TEST(text.find("shipped to ph1 Ltd, advice DA-2") != std::string::npos);
}

// Text chosen to redraw the terminal: erase the line, return the cursor, print a verdict.
BOOST_AUTO_TEST_CASE(control_characters_in_payload_text_never_reach_the_output_raw) {
  const std::string hostile =
      "Examplamab\x1b[2K\rVERIFIED\xc2\x9b"
      "2K";
  SupplyScenario s;
  s.RunChain();
  // The rules refuse such a product name (docs/events.md, "Payload form"); text they do
  // not restrict, such as a despatch advice, and entries of ledgers written before that
  // check, still reach the renderers, which must escape it.
  BOOST_TEST(s.Refused("mfg", JsonValue::Object()
                                  .set("kind", "product.register")
                                  .set("gtin", "09506000134369")
                                  .set("name", hostile)) == "event.control_character");
  s.Ship("ph1", {SupplyScenario::Pack("S2")}, "ph2", s.ph2_gln, hostile);
  s.Recall();
  const JsonValue report = ReportOf(s.node().ledger(), SupplyScenario::Pack("S2"), s.now());
  BOOST_TEST(Verdict(report) == "SUSPECT");
  // Offline, through a bundle, too.
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S2"));
  BOOST_REQUIRE(evidence.has_value());
  auto read = ReadBundle(WriteBundle(*evidence));
  BOOST_REQUIRE(read.has_value());
  auto anchors = LedgerTrustAnchors(s.node().ledger());
  BOOST_REQUIRE(anchors.has_value());
  const JsonValue offline = VerifyPack(*read, *anchors, s.now());
  for (const JsonValue* r : {&report, &offline}) {
    const std::string renderings[] = {RenderPackText(*r), RenderText(*r), RenderHtml(*r)};
    for (const std::string& out : renderings) {
      const auto raw = std::count_if(out.begin(), out.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b != '\n' && (b < 0x20 || b == 0x7f);
      });
      BOOST_TEST(raw == 0);
      BOOST_TEST(out.find("\xc2\x9b") == std::string::npos);  // U+009B, the 8-bit CSI
      BOOST_TEST(out.find("Examplamab\\x1b[2K\\rVERIFIED\\u009b2K") != std::string::npos);
    }
  }
}

// An event replayed from an offline buffer is shown with the time its author claims and the
// time the log sequenced it, in every rendering.
BOOST_AUTO_TEST_CASE(each_event_shows_its_claimed_and_its_logged_time) {
  SupplyScenario s;
  s.RunChain();
  const int64_t dispensed = s.now();
  const uint64_t undo =
      s.Submit("ph1", JsonValue::Object()
                          .set("kind", "undo")
                          .set("epcs", JsonValue::Strings({SupplyScenario::Pack("S1")}))
                          .set("location", s.ph1_gln)
                          .set("time", FormatUtcTime(dispensed + 30)));
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  const JsonValue& last = r.find("events")->as_array().back();
  BOOST_TEST(last.find("index")->as_int() == static_cast<int64_t>(undo));
  const std::string claimed = FormatUtcTime(dispensed + 30), logged = FormatUtcTime(s.now());
  BOOST_TEST(last.find("time")->as_string() == claimed);
  BOOST_TEST(last.find("sequencedTime")->as_string() == logged);
  const std::string text = RenderPackText(r);
  BOOST_TEST(text.find(claimed + " (logged " + logged + ")") != std::string::npos);
  const std::string html = RenderHtml(r);
  BOOST_TEST(html.find(claimed + "<br><small>logged " + logged + "</small>") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
