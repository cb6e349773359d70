// The README's main command: the whole scenario must run on a fresh ledger and leave a
// ledger that audits clean, with the trial's records in the sponsor's own store.
#include "pedigree/demo/demo.h"

#include <boost/test/unit_test.hpp>
#include <sstream>

#include "../cli/cli_run.h"
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
        "trial.withdrawn", "reading AE, outside its grant", "after MON-1 is revoked",
        "trial.no_grant", "VERIFIED offline with the log's key, 1 access", "no problem found"}) {
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
  // Every subject consented; the one who withdrew chose redaction, which the sponsor did.
  auto consents = (*view)->Consents("PDG-CT-2026-01");
  BOOST_TEST_REQUIRE(consents.has_value(), Why(consents));
  BOOST_TEST(consents->size() == 240u);
  auto withdrawals = (*view)->Withdrawals("PDG-CT-2026-01");
  BOOST_TEST_REQUIRE(withdrawals.has_value(), Why(withdrawals));
  BOOST_TEST_REQUIRE(withdrawals->size() == 1u);
  BOOST_TEST(!(*withdrawals)[0].leaves.empty());
  BOOST_TEST((*withdrawals)[0].redaction_done());
  BOOST_TEST(std::filesystem::exists(dir.path() / "demo" / "sponsor-store.sqlite"));
  // The monitor's one read under its grant and the two reads outside it are on the ledger.
  auto accesses = (*view)->Accesses("PDG-CT-2026-01");
  BOOST_TEST_REQUIRE(accesses.has_value(), Why(accesses));
  BOOST_TEST_REQUIRE(accesses->size() == 3u);
  BOOST_TEST((*accesses)[0].outcome == "granted");
  BOOST_TEST((*accesses)[0].leaves.size() == 1u);
  BOOST_TEST((*accesses)[1].outcome == "refused");
  BOOST_TEST((*accesses)[1].domain == "AE");
  BOOST_TEST((*accesses)[2].outcome == "refused");
  BOOST_TEST(std::filesystem::exists(dir.path() / "demo" / "trial" / "receipt.json"));

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

// Every batch size the CLI accepts runs the whole scenario: the steps used fixed pack
// indices (up to 900) and case 9, so anything under 901 packs per batch failed with
// demo.unexpected, and the CLI silently raised 20 to 400.
BOOST_AUTO_TEST_CASE(demo_runs_with_small_batches_down_to_the_minimum) {
  for (size_t packs :
       {services::kMinPacksPerBatch, size_t{21}, size_t{49}, size_t{51}, size_t{237}}) {
    TempDir dir;
    std::ostringstream out;
    services::DemoOptions options;
    options.dir = (dir.path() / "demo").string();
    options.packs_per_batch = packs;
    auto ran = services::RunDemo(options, out);
    BOOST_TEST_REQUIRE(ran.has_value(), packs << " packs per batch: " << Why(ran) << "\n"
                                              << out.str());
    const std::string text = out.str();
    BOOST_TEST(text.find("commission " + std::to_string(10 * packs) + " packs") !=
               std::string::npos);
    for (const char* expected :
         {"alert.recalled", "alert.temperature_excursion", "alert.clone_suspected",
          "alert.not_in_custody", "alert.already_decommissioned", "alert.undo_other_party",
          "alert.aggregation_conflict", "nothing appended", "no problem found"}) {
      BOOST_TEST(text.find(expected) != std::string::npos,
                 packs << " packs per batch: demo output lacks '" << expected << "'");
    }
  }
}

BOOST_AUTO_TEST_CASE(demo_cli_runs_20_packs_per_batch_and_refuses_sizes_it_cannot_run) {
  using services::testing::Cli;
  TempDir dir;
  auto small = Cli({"demo", "--dir", (dir.path() / "small").string(), "--packs-per-batch", "20"});
  BOOST_TEST(small.rc == 0, small.err);
  BOOST_TEST(small.out.find("commission 200 packs") != std::string::npos);
  for (const char* bad : {"0", "19", "10001"}) {
    auto run = Cli({"demo", "--dir", (dir.path() / bad).string(), "--packs-per-batch", bad});
    BOOST_TEST(run.rc == 2, bad << ": " << run.err);
    BOOST_TEST(run.err.find("\"code\":\"cli.usage\"") != std::string::npos, run.err);
    BOOST_TEST(run.err.find("\"field\":\"packs-per-batch\"") != std::string::npos, run.err);
    BOOST_TEST(run.err.find("20..10000") != std::string::npos, run.err);
    BOOST_TEST(!std::filesystem::exists(dir.path() / bad / "ledger"), "no ledger for " << bad);
  }
  auto word = Cli({"demo", "--dir", (dir.path() / "w").string(), "--packs-per-batch", "ten"});
  BOOST_TEST(word.rc == 2, word.err);
}

// `demo --network` shares the demo's checks: a size it cannot run, or a directory that already
// holds a demo, is refused before any witness, server or file is made. (The run itself is the
// CTest test demo_network, tests/witness/demo_network.py.)
BOOST_AUTO_TEST_CASE(demo_network_refuses_a_bad_size_or_a_used_directory_before_starting) {
  using services::testing::Cli;
  TempDir dir;
  auto bad =
      Cli({"demo", "--network", "--dir", (dir.path() / "bad").string(), "--packs-per-batch", "19"});
  BOOST_TEST(bad.rc == 2, bad.err);
  BOOST_TEST(bad.err.find("\"field\":\"packs-per-batch\"") != std::string::npos, bad.err);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "bad"));
  std::filesystem::create_directories(dir.path() / "used" / "ledger");
  auto used = Cli({"demo", "--network", "--dir", (dir.path() / "used").string()});
  BOOST_TEST(used.rc == 2, used.err);
  BOOST_TEST(used.err.find("\"field\":\"dir\"") != std::string::npos, used.err);
  BOOST_TEST(!std::filesystem::exists(dir.path() / "used" / "witness-1"));
  BOOST_TEST(!std::filesystem::exists(dir.path() / "used" / "policy.txt"));
}

BOOST_AUTO_TEST_SUITE_END()
