#include "pedigree/usecases/trial_store.h"

#include <sqlite3.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "common/pg_cluster.h"
#include "common/read_file.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "common/test_log.h"
#include "pedigree/log/sql.h"

namespace pedigree::services {
namespace {

using pedigree::testing::ReadFile;
using pedigree::testing::TempDir;
using pedigree::testing::TestLog;
using pedigree::testing::Why;

const std::string kFixtures = std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/trials/fixtures/";
constexpr std::string_view kTrial = "PDG-TRIAL-01";

scanner::Dataset Parse(std::string_view csv) {
  auto ds = scanner::ParseCsv(csv);
  BOOST_REQUIRE_MESSAGE(ds.has_value(), Why(ds));
  return std::move(*ds);
}

std::string Replace(std::string text, std::string_view from, std::string_view to) {
  const size_t at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  return text;
}

// The store of a test case: `dir`/sponsor.db, or with PEDIGREE_TEST_STORAGE=postgresql
// (CTest trial_store_postgresql) a fresh database of the throwaway cluster, the same one for
// every call with `dir` (the cases reopen their store).
bool OnPostgres() {
  const char* storage = std::getenv("PEDIGREE_TEST_STORAGE");
  return storage && std::string_view(storage) == "postgresql";
}
std::string StoreAt(const TempDir& dir) {
  const std::string file = dir / "sponsor.db";
  if (!OnPostgres()) return file;
  static std::map<std::string, std::string> databases;
  auto [it, added] = databases.try_emplace(file);
  if (added) it->second = pedigree::testing::PgCluster::Shared().NewDatabase();
  return it->second;
}
// Runs `sqlite_sql` on the store's file, or `postgres_sql` in its database: an insider's edit.
void Tamper(const std::string& store, const char* sqlite_sql, const std::string& postgres_sql) {
  if (OnPostgres()) {
    pedigree::testing::PgCluster::Run(store, postgres_sql);
    return;
  }
  sqlite3* raw = nullptr;
  BOOST_REQUIRE(sqlite3_open(store.c_str(), &raw) == SQLITE_OK);
  log::SqliteDb db(raw);
  BOOST_REQUIRE(sqlite3_exec(raw, sqlite_sql, nullptr, nullptr, nullptr) == SQLITE_OK);
}

std::unique_ptr<SponsorStore> MustOpen(const std::string& path) {
  auto store = SponsorStore::Open(path);
  BOOST_REQUIRE_MESSAGE(store.has_value(), Why(store));
  return std::move(*store);
}

// Stages and confirms `csv` as if the ledger took its trial.submit at `index`.
StagedSubmission Submit(SponsorStore& store, std::string_view csv, uint64_t index,
                        std::string_view reason = {}) {
  auto staged = store.Stage(kTrial, Parse(csv), reason);
  BOOST_REQUIRE_MESSAGE(staged.has_value(), Why(staged));
  auto ok = store.Confirm(staged->submission_id, index);
  BOOST_REQUIRE_MESSAGE(ok.has_value(), Why(ok));
  return std::move(*staged);
}

// Seals trial+domain in the store, puts the trial.seal event on `log` and confirms it.
StoredSeal SealOnLog(SponsorStore& store, TestLog& log, std::string_view domain) {
  auto seal = store.Seal(kTrial, domain);
  BOOST_REQUIRE_MESSAGE(seal.has_value(), Why(seal));
  const uint64_t index =
      log.Append(TestLog::SealEntry(std::string(kTrial), std::string(domain), seal->seal.summary));
  BOOST_REQUIRE(store.ConfirmSeal(seal->seal_id, index).has_value());
  seal->ledger_index = index;
  return std::move(*seal);
}

BOOST_AUTO_TEST_SUITE(trial_store)

BOOST_AUTO_TEST_CASE(staged_submission_becomes_current_when_confirmed_and_file_is_private) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  if (!OnPostgres()) {
    struct stat st {};
    BOOST_REQUIRE(::stat((dir / "sponsor.db").c_str(), &st) == 0);
    BOOST_TEST((st.st_mode & 0777) == 0600);
  }

  auto staged = store->Stage(kTrial, Parse(ReadFile(kFixtures + "dm.csv")));
  BOOST_REQUIRE_MESSAGE(staged.has_value(), Why(staged));
  BOOST_TEST(staged->domain == "DM");
  BOOST_TEST(staged->records.size() == 5u);
  for (const auto& r : staged->records) BOOST_TEST(!r.replaces.has_value());
  BOOST_TEST(store->CurrentRecords(kTrial, "DM")->empty());  // not before the ledger acks

  BOOST_REQUIRE(store->Confirm(staged->submission_id, 42).has_value());
  auto current = store->CurrentRecords(kTrial, "DM");
  BOOST_REQUIRE(current.has_value());
  BOOST_REQUIRE_EQUAL(current->size(), 5u);
  for (size_t i = 0; i < current->size(); ++i) {
    const StoredRecord& r = (*current)[i];
    BOOST_TEST(r.key == staged->records[i].key);
    BOOST_TEST(ToHex(r.leaf) == ToHex(staged->records[i].leaf));
    BOOST_TEST(ToHex(provenance::RecordCommitment(*r.salt, *r.canonical)) == ToHex(r.leaf));
    BOOST_TEST(r.submission_index == 42u);
  }
  BOOST_TEST(store->Confirm(staged->submission_id, 43).error().code() == "trial.not_staged");
  BOOST_TEST(store->Confirm(999, 43).error().code() == "trial.unknown_submission");
}

BOOST_AUTO_TEST_CASE(changed_record_replaces_the_current_leaf_and_needs_a_reason) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  const std::string dm = ReadFile(kFixtures + "dm.csv");
  const StagedSubmission first = Submit(*store, dm, 1);
  const std::string edited = Replace(dm, "1023,2012-08-05,1951,64,", "1023,2012-08-05,1951,65,");

  auto no_reason = store->Stage(kTrial, Parse(edited));
  BOOST_REQUIRE(!no_reason.has_value());
  BOOST_TEST(no_reason.error().code() == "trial.reason_required");
  BOOST_TEST(no_reason.error().message().find("PDG-TRIAL-01-701-1023") != std::string::npos);

  auto staged = store->Stage(kTrial, Parse(edited), "age transcription error");
  BOOST_REQUIRE_MESSAGE(staged.has_value(), Why(staged));
  BOOST_TEST(staged->unchanged == 4u);
  BOOST_REQUIRE_EQUAL(staged->records.size(), 1u);
  BOOST_TEST(staged->records[0].key == "PDG-TRIAL-01|PDG-TRIAL-01-701-1023");
  BOOST_REQUIRE(staged->records[0].replaces.has_value());
  BOOST_TEST(ToHex(*staged->records[0].replaces) == ToHex(first.records[1].leaf));
  BOOST_REQUIRE(store->Confirm(staged->submission_id, 2).has_value());

  auto current = store->CurrentRecords(kTrial, "DM");
  BOOST_REQUIRE_EQUAL(current->size(), 5u);
  BOOST_TEST(ToHex((*current)[1].leaf) == ToHex(staged->records[0].leaf));
  BOOST_TEST((*current)[1].canonical->find("\"AGE\":\"65\"") != std::string::npos);

  auto again = store->Stage(kTrial, Parse(edited), "again");
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code() == "trial.nothing_to_submit");
}

BOOST_AUTO_TEST_CASE(pending_submission_blocks_the_next_until_rolled_back) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  const std::string ae = ReadFile(kFixtures + "ae.csv");
  auto staged = store->Stage(kTrial, Parse(ae));
  BOOST_REQUIRE(staged.has_value());
  auto second = store->Stage(kTrial, Parse(ae));
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "trial.submission_pending");
  BOOST_TEST(store->Seal(kTrial, "AE").error().code() == "trial.submission_pending");
  BOOST_REQUIRE(store->Rollback(staged->submission_id).has_value());
  BOOST_TEST(store->Rollback(staged->submission_id).error().code() == "trial.unknown_submission");
  BOOST_TEST(store->CurrentRecords(kTrial, "AE")->empty());
  Submit(*store, ae, 7);
  BOOST_TEST(store->CurrentRecords(kTrial, "AE")->size() == 7u);
}

BOOST_AUTO_TEST_CASE(failed_operations_write_nothing) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  const std::string dm = ReadFile(kFixtures + "dm.csv");
  Submit(*store, dm, 1);
  auto before = store->CurrentRecords(kTrial, "DM");
  // A new subject (would be inserted) next to a change without reason: refused as a whole.
  std::string mixed = Replace(dm, "1023,2012-08-05,1951,64,", "1023,2012-08-05,1951,66,");
  mixed +=
      "PDG-TRIAL-01,DM,PDG-TRIAL-01-701-2000,2000,2014-02-02,1960,54,YEARS,F,PBO,Placebo,USA\n";
  BOOST_TEST(store->Stage(kTrial, Parse(mixed)).error().code() == "trial.reason_required");
  BOOST_TEST(store->Stage("bad id!", Parse(dm)).error().code() == "trial.bad_trial_id");
  BOOST_TEST(store->Redact(kTrial, "DM", Hash{}, "why", 3).error().code() == "trial.unknown_leaf");
  BOOST_TEST(store->Redact(kTrial, "DM", (*before)[0].leaf, "", 3).error().code() ==
             "trial.reason_required");
  BOOST_TEST(store->ConfirmSeal(77, 3).error().code() == "trial.unknown_seal");
  BOOST_TEST(store->LatestSeal(kTrial, "DM").error().code() == "trial.not_sealed");

  auto after = store->CurrentRecords(kTrial, "DM");
  BOOST_REQUIRE_EQUAL(after->size(), before->size());
  for (size_t i = 0; i < after->size(); ++i) {
    BOOST_TEST(ToHex((*after)[i].leaf) == ToHex((*before)[i].leaf));
    BOOST_TEST(!(*after)[i].redacted);
  }
  // Nothing was left staged by the refused submission.
  auto next = store->Stage(kTrial, Parse(mixed), "age corrected; subject 2000 added");
  BOOST_REQUIRE_MESSAGE(next.has_value(), Why(next));
  BOOST_TEST(next->records.size() == 2u);
}

BOOST_AUTO_TEST_CASE(sealed_store_compares_a_candidate_file_by_key_and_column) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  TestLog log;
  const std::string dm = ReadFile(kFixtures + "dm.csv");
  Submit(*store, dm, log.Append("submit"));
  const StoredSeal seal = SealOnLog(*store, log, "DM");
  BOOST_TEST(seal.seal.summary.record_count == 5u);
  std::vector<Hash> leaves;
  auto records = store->CurrentRecords(kTrial, "DM");
  BOOST_REQUIRE(records.has_value());
  for (const auto& r : *records) leaves.push_back(r.leaf);
  BOOST_TEST(ToHex(seal.seal.summary.root) == ToHex(provenance::SealRoot(leaves)));

  auto same = store->Compare(kTrial, Parse(dm));
  BOOST_REQUIRE_MESSAGE(same.has_value(), Why(same));
  BOOST_TEST(same->records_identical());

  const std::string edited = Replace(dm, "PBO,Placebo,USA\nPDG-TRIAL-01,DM,PDG-TRIAL-01-701-1023",
                                     "PBO,Placebo,GBR\nPDG-TRIAL-01,DM,PDG-TRIAL-01-701-1023");
  auto diff = store->Compare(kTrial, Parse(edited));
  BOOST_REQUIRE_MESSAGE(diff.has_value(), Why(diff));
  BOOST_REQUIRE_EQUAL(diff->changed.size(), 1u);
  BOOST_TEST(diff->changed[0].key == "PDG-TRIAL-01|PDG-TRIAL-01-701-1015");
  BOOST_REQUIRE_EQUAL(diff->changed[0].cells.size(), 1u);
  BOOST_TEST(diff->changed[0].cells[0].column == "COUNTRY");
  BOOST_TEST(*diff->changed[0].cells[0].sealed == "USA");
  BOOST_TEST(*diff->changed[0].cells[0].candidate == "GBR");
}

BOOST_AUTO_TEST_CASE(disclosure_verifies_and_redaction_keeps_the_root_verifiable) {
  TempDir dir;
  const std::string path = StoreAt(dir);
  TestLog log;
  log.AppendFiller(3);
  const std::string ae = ReadFile(kFixtures + "ae.csv");
  {
    auto store = MustOpen(path);
    Submit(*store, ae, log.Append("submit"));
    SealOnLog(*store, log, "AE");
  }
  // Everything below reads a reopened store.
  auto store = MustOpen(path);
  auto seal = store->LatestSeal(kTrial, "AE");
  BOOST_REQUIRE_MESSAGE(seal.has_value(), Why(seal));
  BOOST_REQUIRE(seal->ledger_index.has_value());
  const std::string key = seal->seal.records[2].key;
  const Hash leaf = seal->seal.records[2].leaf;

  auto d = store->Disclose(kTrial, "AE", key, log.Evidence(*seal->ledger_index));
  BOOST_REQUIRE_MESSAGE(d.has_value(), Why(d));
  auto parsed = provenance::ParseDisclosure(provenance::DisclosureToJson(*d));
  BOOST_REQUIRE(parsed.has_value());
  const auto verifiers = log.Verifiers();
  auto verified = provenance::VerifyDisclosure(*parsed, verifiers);
  BOOST_REQUIRE_MESSAGE(verified.has_value(), Why(verified));
  BOOST_TEST(store->Disclose(kTrial, "AE", "nope", {}).error().code() == "trial.unknown_key");

  BOOST_REQUIRE(
      store->Redact(kTrial, "AE", leaf, "subject name typed into AETERM", 99).has_value());
  BOOST_TEST(store->Redact(kTrial, "AE", leaf, "again", 100).error().code() ==
             "trial.already_redacted");
  auto current = store->CurrentRecords(kTrial, "AE");
  BOOST_TEST((*current)[2].redacted);
  BOOST_TEST(!(*current)[2].canonical.has_value());
  BOOST_TEST(!(*current)[2].salt.has_value());
  BOOST_TEST((*current)[2].redaction_reason == "subject name typed into AETERM");
  BOOST_TEST((*current)[2].redaction_index.value_or(0) == 99u);

  auto after = store->LatestSeal(kTrial, "AE");
  BOOST_TEST(after->seal.records[2].redacted());
  BOOST_TEST(ToHex(after->seal.records[2].leaf) == ToHex(leaf));
  // The root still verifies (CompareDataset recomputes it from the kept leaves); the
  // redacted record can no longer be checked, every other one still matches.
  auto diff = store->Compare(kTrial, Parse(ae));
  BOOST_REQUIRE_MESSAGE(diff.has_value(), Why(diff));
  BOOST_TEST(diff->changed.empty());
  BOOST_REQUIRE_EQUAL(diff->unverifiable.size(), 1u);
  BOOST_TEST(diff->unverifiable[0].key == key);
  BOOST_TEST(store->Disclose(kTrial, "AE", key, {}).error().code() == "trial.redacted");
  // Another record's disclosure under the same seal still verifies.
  auto other =
      store->Disclose(kTrial, "AE", after->seal.records[3].key, log.Evidence(*seal->ledger_index));
  BOOST_REQUIRE(other.has_value());
  BOOST_TEST(provenance::VerifyDisclosure(*other, verifiers).has_value());
  // The text is gone from the file, not merely hidden.
  store.reset();
  const std::string bytes = ReadFile(path) + ReadFile(path + "-wal");
  BOOST_TEST(bytes.find(*seal->seal.records[2].canonical) == std::string::npos);
}

// Single-record reads keep the seal's tree between reads; these cases pin down when a kept
// tree must not be used.
BOOST_AUTO_TEST_CASE(read_after_a_new_seal_uses_the_new_tree_not_the_kept_one) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  TestLog log;
  const std::string dm = ReadFile(kFixtures + "dm.csv");
  Submit(*store, dm, log.Append("submit"));
  const StoredSeal first = SealOnLog(*store, log, "DM");
  const std::string key = "PDG-TRIAL-01|PDG-TRIAL-01-701-1023";
  const auto verifiers = log.Verifiers();
  auto before = store->Disclose(kTrial, "DM", key, log.Evidence(*first.ledger_index));
  BOOST_REQUIRE_MESSAGE(before.has_value(), Why(before));  // the first seal's tree is kept now
  BOOST_TEST(before->record_count == 5u);

  // More records and a changed one, then a new seal: the same key now sits at another leaf
  // of a bigger tree with another root.
  const std::string added =
      Replace(dm, "1023,2012-08-05,1951,64,", "1023,2012-08-05,1951,65,") +
      "PDG-TRIAL-01,DM,PDG-TRIAL-01-701-1000,1000,2014-02-02,1960,54,YEARS,F,PBO,Placebo,USA\n";
  Submit(*store, added, log.Append("submit"), "age corrected; subject 1000 enrolled");
  const StoredSeal second = SealOnLog(*store, log, "DM");
  BOOST_REQUIRE(ToHex(second.seal.summary.root) != ToHex(first.seal.summary.root));

  auto after = store->Disclose(kTrial, "DM", key, log.Evidence(*second.ledger_index));
  BOOST_REQUIRE_MESSAGE(after.has_value(), Why(after));
  BOOST_TEST(after->record_count == 6u);
  BOOST_TEST(after->leaf_index == before->leaf_index + 1);  // subject 1000 sorts first
  BOOST_TEST(ToHex(after->seal.root) == ToHex(second.seal.summary.root));
  BOOST_TEST(after->canonical.find("\"AGE\":\"65\"") != std::string::npos);
  auto verified = provenance::VerifyDisclosure(*after, verifiers);
  BOOST_TEST_MESSAGE(Why(verified));
  BOOST_TEST(verified.has_value());
  // The record only the new seal holds is found: the old tree would not know it.
  auto newcomer = store->Disclose(kTrial, "DM", "PDG-TRIAL-01|PDG-TRIAL-01-701-1000",
                                  log.Evidence(*second.ledger_index));
  BOOST_REQUIRE_MESSAGE(newcomer.has_value(), Why(newcomer));
  BOOST_TEST(provenance::VerifyDisclosure(*newcomer, verifiers).has_value());

  // A read pinned to the older seal (its evidence taken before the new seal was confirmed)
  // still gets the older tree, and the newest one is rebuilt after it.
  SealHead old_head{first.seal_id, first.ledger_index, first.seal.summary};
  auto pinned = store->Disclose(old_head, kTrial, "DM", key, log.Evidence(*first.ledger_index));
  BOOST_REQUIRE_MESSAGE(pinned.has_value(), Why(pinned));
  BOOST_TEST(pinned->record_count == 5u);
  BOOST_TEST(pinned->canonical == before->canonical);
  BOOST_TEST(provenance::VerifyDisclosure(*pinned, verifiers).has_value());
  auto latest = store->Disclose(kTrial, "DM", key, log.Evidence(*second.ledger_index));
  BOOST_REQUIRE(latest.has_value());
  BOOST_TEST(latest->record_count == 6u);
}

BOOST_AUTO_TEST_CASE(record_redacted_after_its_tree_was_kept_is_not_disclosed) {
  TempDir dir;
  auto store = MustOpen(StoreAt(dir));
  TestLog log;
  Submit(*store, ReadFile(kFixtures + "dm.csv"), log.Append("submit"));
  const StoredSeal seal = SealOnLog(*store, log, "DM");
  const provenance::SealedRecord& target = seal.seal.records[1];
  auto read = store->Disclose(kTrial, "DM", target.key, log.Evidence(*seal.ledger_index));
  BOOST_REQUIRE_MESSAGE(read.has_value(), Why(read));

  BOOST_REQUIRE(store->Redact(kTrial, "DM", target.leaf, "subject asked", 9).has_value());
  auto refused = store->Disclose(kTrial, "DM", target.key, log.Evidence(*seal.ledger_index));
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "trial.redacted");
  // The neighbours' proofs come from the same kept tree and still verify.
  auto other =
      store->Disclose(kTrial, "DM", seal.seal.records[2].key, log.Evidence(*seal.ledger_index));
  BOOST_REQUIRE_MESSAGE(other.has_value(), Why(other));
  BOOST_TEST(provenance::VerifyDisclosure(*other, log.Verifiers()).has_value());
}

BOOST_AUTO_TEST_CASE(store_whose_leaves_do_not_give_the_seal_root_discloses_nothing) {
  TempDir dir;
  const std::string path = StoreAt(dir);
  TestLog log;
  StoredSeal seal;
  {
    auto store = MustOpen(path);
    Submit(*store, ReadFile(kFixtures + "dm.csv"), log.Append("submit"));
    seal = SealOnLog(*store, log, "DM");
  }
  // A leaf that no record commits to in place of the third: the tree no longer gives the
  // root the ledger signed.
  Tamper(path, "UPDATE records SET leaf = zeroblob(32) WHERE id = 3",
         "UPDATE records SET leaf = decode(repeat('00', 32), 'hex') WHERE id = 3");
  auto store = MustOpen(path);
  auto read =
      store->Disclose(kTrial, "DM", seal.seal.records[0].key, log.Evidence(*seal.ledger_index));
  BOOST_REQUIRE(!read.has_value());
  BOOST_TEST(read.error().code() == "storage.corrupt");
}

BOOST_AUTO_TEST_CASE(a_store_from_a_newer_program_is_refused) {
  TempDir dir;
  { auto store = MustOpen(StoreAt(dir)); }
  Tamper(StoreAt(dir), "PRAGMA user_version = 9",
         "INSERT INTO sponsor_store_version(version) VALUES (9)");
  auto again = SponsorStore::Open(StoreAt(dir));
  BOOST_REQUIRE(!again.has_value());
  BOOST_TEST(again.error().code() == "storage.schema_version");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
