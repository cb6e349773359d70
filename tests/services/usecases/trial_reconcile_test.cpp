// The sponsor store after a crash between the ledger's acknowledgement of a trial.submit
// and the store's Confirm: the process is really killed (SIGKILL in a child, at that
// point), and the reopened store settles the staged submission against the ledger.
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <csignal>
#include <fstream>
#include <set>
#include <sstream>

#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/trial_store.h"
#include "pedigree/usecases/trial_workflow.h"

namespace pedigree::services {
namespace {

using pedigree::testing::TempDir;
using pedigree::testing::Why;

const std::string kTrial = "PDG-CT-2026-01";
const std::string kStudy = std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/trials/study/";
const TrialSigner kSite{"s1", "Dr Ada Site", "authorship"};
const TrialSigner kSponsor{"sp", "Dr Sam Sponsor", "approval"};

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

scanner::Dataset Dm(const std::string& csv) {
  auto ds = scanner::ParseCsv(csv);
  if (!ds) BOOST_FAIL(Why(ds));
  return std::move(*ds);
}

// `csv` with the first `from` after the header replaced by `to`.
std::string EditFirstRecord(std::string csv, const std::string& from, const std::string& to) {
  const size_t at = csv.find(from, csv.find('\n'));
  BOOST_REQUIRE(at != std::string::npos);
  return csv.replace(at, from.size(), to);
}

// A ledger in `dir`/ledger with sponsor "sp" and site "s1" (keys held) and the trial.
void CreateTrialLedger(const TempDir& dir) {
  const log::PrivateKey authority = log::PrivateKey::Generate();
  auto node = SupplyNode::Create(dir / "ledger", "example.org/reconcile", authority.public_key());
  if (!node) BOOST_FAIL(Why(node));
  for (auto [org, role] : {std::pair{"sp", "sponsor"}, {"s1", "site"}}) {
    const log::PrivateKey key = log::PrivateKey::Generate();
    BOOST_REQUIRE((*node)->HoldKey(org, key).has_value());
    auto index = (*node)->RegisterOrg(authority,
                                      {org, org, {role}, {}, {}, ToBase64(key.public_key().raw())});
    if (!index) BOOST_FAIL(Why(index));
  }
  TrialWorkflow trial(**node, nullptr);
  auto registered = trial.Submit(
      kSponsor, "trial.register", kTrial,
      JsonValue::Object()
          .set("registryId", "2026-500123-41-00")
          .set("title", "Pedigrenol in type 2 diabetes")
          .set("sites", JsonValue::Array().push_back(JsonValue("s1")))
          .set("arms", JsonValue::Array().push_back(
                           JsonValue::Object().set("code", "PBO").set("name", "Placebo"))));
  if (!registered) BOOST_FAIL(Why(registered));
}

// Runs SubmitDataset of `csv` in a child process that is killed with SIGKILL right after
// the ledger acknowledged the trial.submit, before the store confirms it. Returns once the
// child is dead.
void SubmitAndCrashAfterLedgerCommit(const TempDir& dir, const std::string& csv) {
  const pid_t pid = ::fork();
  BOOST_REQUIRE(pid >= 0);
  if (pid == 0) {
    // The child: no Boost.Test here, only exit codes the parent reads.
    auto node = SupplyNode::Open(dir / "ledger");
    if (!node) ::_exit(10);
    auto store = SponsorStore::Open(dir / "sponsor.db");
    if (!store) ::_exit(11);
    TrialWorkflow trial(**node, store->get());
    trial.SetAfterSubmitHookForTesting([](uint64_t) { ::raise(SIGKILL); });
    (void)trial.SubmitDataset(kSite, kTrial, Dm(csv));
    ::_exit(12);  // the hook did not run
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(pid, &status, 0) == pid);
  BOOST_TEST_REQUIRE(WIFSIGNALED(status), "child exited with " << WEXITSTATUS(status));
  BOOST_TEST_REQUIRE(WTERMSIG(status) == SIGKILL);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trial_reconcile)

BOOST_AUTO_TEST_CASE(crash_after_ledger_commit_is_confirmed_at_reopen_then_submit_and_seal_work) {
  TempDir dir;
  CreateTrialLedger(dir);
  const std::string dm = ReadText(kStudy + "dm.csv");
  SubmitAndCrashAfterLedgerCommit(dir, dm);

  auto node = SupplyNode::Open(dir / "ledger");
  if (!node) BOOST_FAIL(Why(node));
  auto store = SponsorStore::Open(dir / "sponsor.db");
  if (!store) BOOST_FAIL(Why(store));
  auto view = provenance::TrialView::Open((*node)->ledger().db_path());
  BOOST_REQUIRE(view.has_value());
  const std::vector<uint64_t> on_ledger = (*view)->Submissions(kTrial, "DM").value();
  BOOST_TEST_REQUIRE(on_ledger.size() == 1u, "the ledger took the submission before the crash");

  // The crash left it staged: without reconciliation the domain is blocked.
  auto staged = (*store)->StagedSubmissions();
  BOOST_REQUIRE(staged.has_value());
  BOOST_TEST_REQUIRE(staged->size() == 1u);
  auto blocked = (*store)->Seal(kTrial, "DM");
  BOOST_REQUIRE(!blocked.has_value());
  BOOST_TEST(blocked.error().code() == "trial.submission_pending");

  TrialWorkflow trial(**node, store->get());
  auto settled = trial.Reconcile();
  if (!settled) BOOST_FAIL(Why(settled));
  BOOST_TEST(settled->confirmed == on_ledger, boost::test_tools::per_element());
  BOOST_TEST(settled->discarded == 0u);
  BOOST_TEST((*store)->StagedSubmissions()->empty());
  // Store and ledger agree: the same leaves, confirmed at the ledger's index.
  const auto records = (*store)->CurrentRecords(kTrial, "DM").value();
  const auto leaves = (*view)->Leaves(kTrial, "DM").value();
  BOOST_TEST_REQUIRE(records.size() == leaves.size());
  for (size_t i = 0; i < records.size(); ++i) {
    BOOST_TEST(records[i].submission_index == on_ledger[0]);
  }
  std::set<std::string> store_leaves, ledger_leaves;
  for (const auto& r : records) store_leaves.insert(ToHex(r.leaf));
  for (const auto& l : leaves) ledger_leaves.insert(l.leaf);
  BOOST_TEST((store_leaves == ledger_leaves));

  // Resubmitting the same file finds nothing new; a correction and a seal go through.
  auto again = trial.SubmitDataset(kSite, kTrial, Dm(dm));
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code() == "trial.nothing_to_submit");
  auto corrected = trial.SubmitDataset(kSite, kTrial, Dm(EditFirstRecord(dm, ",M,", ",F,")),
                                       "source document verification");
  if (!corrected) BOOST_FAIL(Why(corrected));
  BOOST_TEST(corrected->replaced == 1u);
  BOOST_REQUIRE(trial.Lock(kSponsor, kTrial, "DM", "hard_lock").has_value());
  auto sealed = trial.Seal(kSponsor, kTrial, "DM");
  if (!sealed) BOOST_FAIL(Why(sealed));
  const auto ledger_seals = (*view)->Seals(kTrial, "DM").value();
  BOOST_REQUIRE(ledger_seals.size() == 1u);
  BOOST_TEST(ledger_seals[0].root == ToHex(sealed->summary.root));
  auto check = trial.Verify(kTrial, Dm(EditFirstRecord(dm, ",M,", ",F,")));
  if (!check) BOOST_FAIL(Why(check));
  BOOST_TEST(check->diff.records_identical());
}

BOOST_AUTO_TEST_CASE(staged_submission_the_ledger_never_took_is_discarded_and_resubmits) {
  TempDir dir;
  CreateTrialLedger(dir);
  const std::string dm = ReadText(kStudy + "dm.csv");
  auto node = SupplyNode::Open(dir / "ledger");
  if (!node) BOOST_FAIL(Why(node));
  auto store = SponsorStore::Open(dir / "sponsor.db");
  if (!store) BOOST_FAIL(Why(store));
  // As a crash before the trial.submit reached the ledger leaves it.
  BOOST_REQUIRE((*store)->Stage(kTrial, Dm(dm)).has_value());
  TrialWorkflow trial(**node, store->get());
  auto blocked = trial.SubmitDataset(kSite, kTrial, Dm(dm));
  BOOST_REQUIRE(!blocked.has_value());
  BOOST_TEST(blocked.error().code() == "trial.submission_pending");

  auto settled = trial.Reconcile();
  if (!settled) BOOST_FAIL(Why(settled));
  BOOST_TEST(settled->confirmed.empty());
  BOOST_TEST(settled->discarded == 1u);
  BOOST_TEST((*store)->CurrentRecords(kTrial, "DM")->empty());
  auto submitted = trial.SubmitDataset(kSite, kTrial, Dm(dm));
  if (!submitted) BOOST_FAIL(Why(submitted));
  BOOST_TEST(submitted->indices.size() == 1u);
  BOOST_REQUIRE(trial.Lock(kSponsor, kTrial, "DM", "hard_lock").has_value());
  auto sealed = trial.Seal(kSponsor, kTrial, "DM");
  if (!sealed) BOOST_FAIL(Why(sealed));
  // Nothing left to settle.
  auto twice = trial.Reconcile();
  BOOST_REQUIRE(twice.has_value());
  BOOST_TEST(twice->confirmed.empty());
  BOOST_TEST(twice->discarded == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
