// The README's main command: the whole scenario must run on a fresh ledger and leave a
// ledger that audits clean, with the trial's records in the sponsor's own store.
#include "pedigree/demo/demo.h"

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/reports/bundle.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/usecases/supply_node.h"

using namespace pedigree;
using pedigree::testing::TempDir;
using pedigree::testing::Why;

BOOST_AUTO_TEST_SUITE(demo)

BOOST_AUTO_TEST_CASE(demo_runs_end_to_end_and_leaves_an_auditable_ledger) {
  TempDir dir;
  std::ostringstream out;
  services::DemoOptions options;
  options.dir = (dir.path() / "demo").string();
  auto ran = services::RunDemo(options, out);
  BOOST_TEST_REQUIRE(ran.has_value(), Why(ran) << "\n" << out.str());
  const std::string text = out.str();
  for (const char* expected :
       {"alert.enrolment_before_protocol", "trial.reason_required", "trial.locked",
        "trial.already_sealed", "IDENTICAL", "AESEV: ", "disclosure.leaf_mismatch",
        "reported, never sealed", "alert.kit_not_received", "alert.kit_quarantined",
        "no problem found"}) {
    BOOST_TEST(text.find(expected) != std::string::npos, "demo output lacks '" << expected << "'");
  }
  auto view = provenance::TrialView::Open((dir.path() / "demo" / "ledger" / "ledger.db").string());
  BOOST_TEST_REQUIRE(view.has_value(), Why(view));
  auto seals = (*view)->Seals("PDG-CT-2026-01", "AE");
  BOOST_TEST_REQUIRE(seals.has_value(), Why(seals));
  BOOST_TEST(seals->size() == 1u);
  auto enrolments = (*view)->Enrolments("PDG-CT-2026-01");
  BOOST_TEST_REQUIRE(enrolments.has_value(), Why(enrolments));
  BOOST_TEST(enrolments->count == 240);
  BOOST_TEST(std::filesystem::exists(dir.path() / "demo" / "sponsor-store.sqlite"));

  // The showcase pack (the one whose proofs step 11 prints) travelled in a case on a pallet,
  // was dispensed and the dispense undone: its report and its offline bundle are VERIFIED.
  const std::string marker = "  pack https://id.gs1.org/01/";
  size_t at = text.find(marker);
  BOOST_TEST_REQUIRE(at != std::string::npos);
  std::string pack = text.substr(at + 7, text.find(':', at + 13) - at - 7);
  auto node = services::SupplyNode::Open((dir.path() / "demo" / "ledger").string());
  BOOST_TEST_REQUIRE(node.has_value(), Why(node));
  auto evidence = reports::GatherPackEvidence((*node)->ledger(), pack);
  BOOST_TEST_REQUIRE(evidence.has_value(), Why(evidence));
  auto anchors = reports::LedgerTrustAnchors((*node)->ledger()).value();
  JsonValue online = reports::VerifyPack(*evidence, anchors, (*node)->Now());
  BOOST_TEST_INFO(pedigree::Canonicalize(*online.find("violations")));
  BOOST_TEST(online.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(online.find("subject")->find("status")->as_string() == "active");
  bool nested = false;
  for (const JsonValue& e : online.find("events")->as_array()) {
    nested |= e.find("summary")->as_string().starts_with("its case packed into ");
  }
  BOOST_TEST(nested, "the showcase pack's case is put onto a pallet");
  auto bundle = reports::ReadBundle(reports::WriteBundle(*evidence));
  BOOST_TEST_REQUIRE(bundle.has_value(), Why(bundle));
  JsonValue offline = reports::VerifyPack(*bundle, anchors, (*node)->Now());
  BOOST_TEST(offline.find("verdict")->as_string() == "VERIFIED");
  BOOST_TEST(pedigree::Canonicalize(offline) == pedigree::Canonicalize(online));
}

BOOST_AUTO_TEST_SUITE_END()
