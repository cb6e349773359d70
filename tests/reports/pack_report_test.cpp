// The pack pedigree report over a ledger: a clean chain is VERIFIED, rule problems are SUSPECT
// and name the violation, and edits to the SQLite file behind the ledger's back are FAILED with
// the index they broke.
#include "pedigree/reports/pack_report.h"

#include <boost/test/unit_test.hpp>

#include "pedigree/base/time.h"
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

BOOST_AUTO_TEST_CASE(second_dispense_of_a_clone_is_suspect) {
  SupplyScenario s;
  s.RunChain();
  std::string code = s.Refused("ph1", s.DecommissionPayload("S1", "supplied", s.ph1_gln));
  JsonValue r = ReportOf(s.node().ledger(), SupplyScenario::Pack("S1"), s.now());
  BOOST_TEST(Verdict(r) == "SUSPECT");
  BOOST_TEST(HasCode(r, "violations", code));
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
