// Cases and pallets as first-class subjects, and nested aggregation in every read: SSCCs in any
// scanner form, a container's verified report (contents over time, custody, verdict) and its
// complete evidence, and packs moved through several levels of nesting with partial unpacking.
#include "pedigree/reports/container_report.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/reports/bundle.h"
#include "pedigree/reports/evidence_index.h"
#include "supply_scenario.h"

using namespace pedigree;
using namespace pedigree::reports;
using pedigree::JsonValue;
using pedigree::reports::testing::Strings;
using pedigree::reports::testing::SupplyScenario;
using pedigree::reports::testing::WithCheckDigit;

namespace {

JsonValue ContainerReport(SupplyScenario& s, const std::string& code) {
  auto evidence = GatherContainerEvidence(s.node().ledger(), code);
  BOOST_REQUIRE_MESSAGE(evidence.has_value(), pedigree::testing::Why(evidence));
  return VerifyContainer(*evidence, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
}

JsonValue PackReport(SupplyScenario& s, const std::string& serial) {
  auto evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack(serial));
  BOOST_REQUIRE_MESSAGE(evidence.has_value(), pedigree::testing::Why(evidence));
  return VerifyPack(*evidence, LedgerTrustAnchors(s.node().ledger()).value(), s.now());
}

std::string Verdict(const JsonValue& r) {
  BOOST_TEST_INFO(pedigree::Canonicalize(*r.find("failures")) +
                  pedigree::Canonicalize(*r.find("violations")));
  return r.find("verdict")->as_string();
}

std::vector<std::string> Contents(const JsonValue& r) {
  std::vector<std::string> out;
  for (const JsonValue& c : r.find("subject")->find("contents")->as_array()) {
    out.push_back(c.as_string());
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(container_report)

BOOST_AUTO_TEST_CASE(sscc_is_read_in_every_scanner_form_and_a_bad_check_digit_is_refused) {
  const std::string sscc = WithCheckDigit("09506000000000001");
  for (const std::string& form : {sscc, "00" + sscc, "(00)" + sscc, "]C100" + sscc, "]d200" + sscc,
                                  "]Q300" + sscc, "https://id.gs1.org/00/" + sscc}) {
    auto parsed = ParseContainerCode(form);
    BOOST_TEST_INFO(form);
    BOOST_REQUIRE_MESSAGE(parsed.has_value(), pedigree::testing::Why(parsed));
    BOOST_TEST(parsed->value() == sscc);
  }
  std::string bad = sscc;
  bad.back() = bad.back() == '9' ? '0' : static_cast<char>(bad.back() + 1);
  for (const std::string& form : {bad, "00" + bad, "https://id.gs1.org/00/" + bad}) {
    BOOST_TEST_INFO(form);
    BOOST_TEST(ParseContainerCode(form).error().code() == "gs1.check_digit");
  }
  BOOST_TEST(ParseContainerCode(SupplyScenario::Pack("S1")).error().code() ==
             "report.not_a_container");
}

BOOST_AUTO_TEST_CASE(pallet_and_case_reports_show_contents_over_time_custody_and_verdict) {
  SupplyScenario s;
  s.RunPalletChain();
  JsonValue pallet = ContainerReport(s, "(00)" + s.pallet);
  BOOST_TEST(Verdict(pallet) == "VERIFIED");
  BOOST_TEST(pallet.find("report")->as_string() == "container");
  BOOST_TEST(pallet.find("subject")->find("holder")->as_string() == "wh");
  BOOST_TEST(Contents(pallet).empty());
  const auto& changes = pallet.find("contentsHistory")->as_array();
  BOOST_REQUIRE(changes.size() == 2u);
  BOOST_TEST(changes[0].find("change")->as_string() == "added");
  BOOST_TEST(changes[0].find("items")->as_array()[0].as_string() == s.sscc);
  BOOST_TEST(changes[1].find("change")->as_string() == "removed");

  JsonValue box = ContainerReport(s, s.sscc);
  BOOST_TEST(Verdict(box) == "VERIFIED");
  BOOST_TEST(box.find("subject")->find("holder")->as_string() == "wh");
  std::vector<std::string> kinds;
  for (const JsonValue& e : box.find("events")->as_array()) {
    kinds.push_back(e.find("kind")->as_string());
  }
  // packed, onto the pallet, the pallet shipped and received, off the pallet, unpacked.
  BOOST_TEST((kinds == std::vector<std::string>{"aggregate", "aggregate", "ship", "receive",
                                                "disaggregate", "disaggregate"}));
  BOOST_TEST(box.find("checks")->as_array().back().find("id")->as_string() == "evidence.complete");
}

BOOST_AUTO_TEST_CASE(container_bundle_verifies_offline_and_an_omission_is_incomplete) {
  SupplyScenario s;
  s.RunPalletChain();
  PackEvidence evidence = GatherContainerEvidence(s.node().ledger(), s.sscc).value();
  auto anchors = LedgerTrustAnchors(s.node().ledger()).value();
  PackEvidence read = ReadBundle(WriteBundle(evidence)).value();
  BOOST_TEST(pedigree::Canonicalize(VerifyContainer(read, anchors, s.now())) ==
             pedigree::Canonicalize(VerifyContainer(evidence, anchors, s.now())));
  uint64_t ship = 0;
  std::erase_if(read.entries, [&](const EvidenceEntry& e) {
    bool drop = ship == 0 && e.envelope.find("\"kind\":\"ship\"") != std::string::npos;
    if (drop) ship = e.index;
    return drop;
  });
  BOOST_REQUIRE(ship != 0u);
  JsonValue r = VerifyContainer(ReadBundle(WriteBundle(read)).value(), anchors, s.now());
  BOOST_TEST(Verdict(r) == "FAILED");
  const JsonValue& first = r.find("failures")->as_array().front();
  BOOST_TEST(first.find("code")->as_string() == "bundle.incomplete");
  BOOST_TEST(first.find("index")->as_int() == static_cast<int64_t>(ship));
  // The signed index holds against the log.
  BOOST_TEST(CheckEvidenceIndex(s.node().ledger(), evidence.evidence_index,
                                evidence.evidence_index_signature)
                 ->holds());
}

// Three levels (packs in a case, the case on a pallet, the pallet in a trailer load), unpacked
// one level at a time and partially: the case comes off the pallet, one pack out of the case,
// and the pack and the case with the other pack go to different pharmacies.
BOOST_AUTO_TEST_CASE(partial_unpacking_at_every_depth_keeps_every_read_consistent) {
  SupplyScenario s;
  const std::string load = WithCheckDigit("09506000000000003");
  s.CommissionIntoCase();
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "aggregate")
                      .set("parent", s.pallet)
                      .set("children", Strings({s.sscc})));
  uint64_t into_load = s.Submit("mfg", JsonValue::Object()
                                           .set("kind", "aggregate")
                                           .set("parent", load)
                                           .set("children", Strings({s.pallet})));
  s.Ship("mfg", {load}, "wh", s.wh_gln, "DA-L");
  s.Receive("wh", "mfg", "DA-L", s.wh_gln);
  s.Submit("wh", JsonValue::Object().set("kind", "disaggregate").set("parent", load));
  s.Submit("wh", JsonValue::Object()
                     .set("kind", "disaggregate")
                     .set("parent", s.pallet)
                     .set("children", Strings({s.sscc})));
  s.Submit("wh", JsonValue::Object()
                     .set("kind", "disaggregate")
                     .set("parent", s.sscc)
                     .set("children", Strings({SupplyScenario::Pack("S1")})));
  s.Ship("wh", {SupplyScenario::Pack("S1")}, "ph1", s.ph1_gln, "DA-1");
  s.Receive("ph1", "wh", "DA-1", s.ph1_gln);
  uint64_t case_shipped = s.node().ledger().size();
  s.Ship("wh", {s.sscc}, "ph2", s.ph2_gln, "DA-2");
  s.Receive("ph2", "wh", "DA-2", s.ph2_gln);

  // Pack reports: both VERIFIED, each with its own holder.
  JsonValue s1 = PackReport(s, "S1");
  JsonValue s2 = PackReport(s, "S2");
  BOOST_TEST(Verdict(s1) == "VERIFIED");
  BOOST_TEST(Verdict(s2) == "VERIFIED");
  BOOST_TEST(s1.find("subject")->find("holder")->as_string() == "ph1");
  BOOST_TEST(s2.find("subject")->find("holder")->as_string() == "ph2");

  // The derived state and the pack history agree with the replay.
  auto v1 = s.node().Verify(SupplyScenario::Scan("S1"));
  auto v2 = s.node().Verify(SupplyScenario::Scan("S2"));
  BOOST_REQUIRE(v1.has_value());
  BOOST_REQUIRE(v2.has_value());
  BOOST_TEST(v1->holder == "ph1");
  BOOST_TEST(v2->holder == "ph2");
  auto pack = [&](const std::string& serial) {
    return s.node()
        .Read([&](provenance::ProvenanceView& v) { return v.Pack(SupplyScenario::kGtin, serial); })
        .value()
        .value();
  };
  BOOST_TEST(pack("S1").parent.empty());
  BOOST_TEST(pack("S2").parent == s.sscc);
  auto history = [&](const std::string& serial) {
    return s.node()
        .Read([&](provenance::ProvenanceView& v) {
          return v.PackHistory(SupplyScenario::kGtin, serial);
        })
        .value();
  };
  const std::vector<uint64_t> h1 = history("S1");
  const std::vector<uint64_t> h2 = history("S2");
  // Both see the pallet go into the load; only S2 sees its case shipped to ph2.
  BOOST_TEST(std::count(h1.begin(), h1.end(), into_load) == 1);
  BOOST_TEST(std::count(h2.begin(), h2.end(), into_load) == 1);
  BOOST_TEST(std::count(h1.begin(), h1.end(), case_shipped) == 0);
  BOOST_TEST(std::count(h2.begin(), h2.end(), case_shipped) == 1);

  // Container reports at every level.
  JsonValue box = ContainerReport(s, s.sscc);
  BOOST_TEST(Verdict(box) == "VERIFIED");
  BOOST_TEST(box.find("subject")->find("holder")->as_string() == "ph2");
  BOOST_TEST((Contents(box) == std::vector<std::string>{SupplyScenario::Pack("S2")}));
  JsonValue pallet = ContainerReport(s, s.pallet);
  BOOST_TEST(Verdict(pallet) == "VERIFIED");
  BOOST_TEST(pallet.find("subject")->find("holder")->as_string() == "wh");
  BOOST_TEST(Contents(pallet).empty());
  JsonValue outer = ContainerReport(s, load);
  BOOST_TEST(Verdict(outer) == "VERIFIED");
  BOOST_TEST(Contents(outer).empty());
  auto view = s.node()
                  .Read([&](provenance::ProvenanceView& v) { return v.Container(s.sscc); })
                  .value()
                  .value();
  BOOST_TEST(view.holder == "ph2");
  BOOST_TEST((view.packs == std::vector<std::string>{SupplyScenario::Pack("S2")}));
}

// Filling a case that is already on a pallet: the case's older aggregation onto the pallet is
// not in the pack's history, but its evidence carries it as context, so the pallet's shipment
// explains the pack's custody.
BOOST_AUTO_TEST_CASE(pack_packed_into_a_case_already_on_a_pallet_is_verified) {
  SupplyScenario s;
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "commission")
                      .set("gtin", SupplyScenario::kGtin)
                      .set("lot", "LOT1")
                      .set("location", s.mfg_gln)
                      .set("serials", Strings({"S1", "S2"})));
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "aggregate")
                      .set("parent", s.sscc)
                      .set("children", Strings({SupplyScenario::Pack("S1")})));
  uint64_t onto_pallet = s.Submit("mfg", JsonValue::Object()
                                             .set("kind", "aggregate")
                                             .set("parent", s.pallet)
                                             .set("children", Strings({s.sscc})));
  s.Submit("mfg", JsonValue::Object()
                      .set("kind", "aggregate")
                      .set("parent", s.sscc)
                      .set("children", Strings({SupplyScenario::Pack("S2")})));
  s.Ship("mfg", {s.pallet}, "wh", s.wh_gln, "DA-P");
  s.Receive("wh", "mfg", "DA-P", s.wh_gln);

  PackEvidence evidence = GatherPackEvidence(s.node().ledger(), SupplyScenario::Pack("S2")).value();
  bool context = false;
  for (const EvidenceEntry& e : evidence.entries) context |= e.index == onto_pallet;
  BOOST_TEST(context, "the case's aggregation onto the pallet is in the evidence");
  auto anchors = LedgerTrustAnchors(s.node().ledger()).value();
  JsonValue r = VerifyPack(ReadBundle(WriteBundle(evidence)).value(), anchors, s.now());
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(r.find("subject")->find("holder")->as_string() == "wh");
  BOOST_TEST(CheckEvidenceIndex(s.node().ledger(), evidence.evidence_index,
                                evidence.evidence_index_signature)
                 ->holds());
  // The case itself, and a pack packed before the pallet, read the same.
  BOOST_TEST(Verdict(PackReport(s, "S1")) == "VERIFIED");
  JsonValue box = ContainerReport(s, s.sscc);
  BOOST_TEST(Verdict(box) == "VERIFIED");
  BOOST_TEST(Contents(box).size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
