// The sponsor's off-ledger store of trial records: canonical record bytes, salts and leaves
// per trial and domain, in its own SQLite file (never the ledger's) or in PostgreSQL (Open
// with a postgresql:// connection string). Only the leaves go on
// the ledger (trial.submit); this store keeps what is needed to seal, compare and disclose,
// and deletes a record's text and salt on redaction while keeping its leaf.
// Formats: ../../../../docs/trials.md ("Seal and disclosure formats").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/provenance/trial_seal.h"
#include "pedigree/scanner/trial_data.h"

namespace pedigree::log::sql {
class Connection;
}  // namespace pedigree::log::sql

namespace pedigree::services {

// One leaf of a staged submission, as it goes into the trial.submit event.
struct StagedLeaf {
  std::string key;
  Hash leaf{};
  std::optional<Hash> replaces;  // the current leaf this record replaces
};

struct StagedSubmission {
  int64_t submission_id = 0;
  std::string trial_id;
  std::string domain;
  std::string reason;
  std::vector<StagedLeaf> records;  // new and changed records, in key order
  uint64_t unchanged = 0;           // records identical to the current ones, not resubmitted
};

// A record as the store holds it. `canonical` and `salt` are absent once redacted.
struct StoredRecord {
  std::string key;
  std::optional<std::string> canonical;
  std::optional<provenance::Salt> salt;
  Hash leaf{};
  uint64_t submission_index = 0;  // ledger index of the trial.submit event that carried it
  bool current = true;            // false once replaced by a later submission
  bool redacted = false;
  std::string redaction_reason;
  std::optional<uint64_t> redaction_index;  // ledger index of the trial.redact event
};

// A seal snapshot: the records sealed (their leaf indexes are their positions).
struct StoredSeal {
  int64_t seal_id = 0;
  std::optional<uint64_t> ledger_index;  // of the trial.seal event, once acknowledged
  provenance::DatasetSeal seal;
};

// A seal without its records: what a single-record read needs to know of it.
struct SealHead {
  int64_t seal_id = 0;
  std::optional<uint64_t> ledger_index;  // of the trial.seal event, once acknowledged
  provenance::SealSummary summary;
};

// Thread-safe: one connection, every operation under a mutex and in one transaction, so a
// failed operation writes nothing. SQL is parameterised throughout.
class SponsorStore {
 public:
  // Opens or creates the file (mode 0600 when created), WAL, synchronous=FULL. Errors:
  // storage.io, storage.corrupt, storage.schema_version.
  [[nodiscard]] static Result<std::unique_ptr<SponsorStore>> Open(const std::string& path);
  // Opens a store that exists, for commands that only read it (verify, disclose, report):
  // a missing file is trial.store_not_found (field "store", naming `path`), never a new,
  // empty store. Otherwise as Open.
  [[nodiscard]] static Result<std::unique_ptr<SponsorStore>> OpenExisting(const std::string& path);
  ~SponsorStore();

  // For `pedigree migrate`: copies every row of this store into `to`, row ids kept, in one
  // transaction of `to`; `to` must hold no submission (trial.store_not_empty). Errors:
  // storage.*.
  [[nodiscard]] Status CopyInto(SponsorStore& to);
  // Every row of every table, in id order, as text (blobs in hex): two copies hold the same
  // records, salts, seals and redactions exactly when their dumps are equal.
  [[nodiscard]] Result<std::string> Dump();
  // Whether the store holds any submission.
  [[nodiscard]] Result<bool> Empty();

  // Stages the records of `dataset` for trial `trial_id` (domain = dataset.domain) with fresh
  // salts. A record whose key is current with the same canonical bytes is left out; one
  // whose key is current with other bytes replaces it and needs `reason`
  // (trial.reason_required). Errors: trial.bad_trial_id, trial.empty_dataset,
  // trial.duplicate_key, trial.submission_pending (another staged submission of the same
  // trial+domain is not confirmed or rolled back yet), trial.nothing_to_submit.
  [[nodiscard]] Result<StagedSubmission> Stage(std::string_view trial_id,
                                               const scanner::Dataset& dataset,
                                               std::string_view reason = {});
  // Makes a staged submission current once the ledger acknowledged its trial.submit event
  // at `ledger_index`; replaced records stop being current. Errors:
  // trial.unknown_submission, trial.not_staged.
  [[nodiscard]] Status Confirm(int64_t submission_id, uint64_t ledger_index);
  // Forgets a staged submission (the ledger refused the event). Same errors as Confirm.
  [[nodiscard]] Status Rollback(int64_t submission_id);
  // The submissions staged and neither confirmed nor rolled back, oldest first, each with
  // its leaves in key order (`unchanged` is 0: the store does not keep it). After a crash
  // between the ledger's acknowledgement and Confirm, TrialWorkflow::Reconcile settles them.
  [[nodiscard]] Result<std::vector<StagedSubmission>> StagedSubmissions();

  // The current records of trial+domain in key order (redacted ones included).
  [[nodiscard]] Result<std::vector<StoredRecord>> CurrentRecords(std::string_view trial_id,
                                                                 std::string_view domain);

  // Seals the current records (SealRecords over what the store holds) and keeps the
  // snapshot, unconfirmed until ConfirmSeal; an earlier unconfirmed snapshot of the same
  // trial+domain is discarded. Errors: trial.empty_dataset, trial.submission_pending,
  // trial.schema_mismatch (current records were submitted with different schemas),
  // trial.leaf_mismatch.
  [[nodiscard]] Result<StoredSeal> Seal(std::string_view trial_id, std::string_view domain);
  // Records the ledger index of the acknowledged trial.seal event. trial.unknown_seal.
  [[nodiscard]] Status ConfirmSeal(int64_t seal_id, uint64_t ledger_index);
  // The latest confirmed seal of trial+domain, records redacted since shown redacted.
  // trial.not_sealed when there is none.
  [[nodiscard]] Result<StoredSeal> LatestSeal(std::string_view trial_id, std::string_view domain);
  // The latest confirmed seal's head, without reading its records (one indexed row).
  // trial.not_sealed when there is none.
  [[nodiscard]] Result<SealHead> LatestSealHead(std::string_view trial_id, std::string_view domain);

  // Compares a candidate file with the latest confirmed seal (provenance::CompareDataset).
  [[nodiscard]] Result<provenance::DatasetDiff> Compare(
      std::string_view trial_id, const scanner::Dataset& candidate,
      const provenance::CompareOptions& options = {});

  // A disclosure of the record `key` under the latest confirmed seal of trial+domain, with
  // the ledger evidence for that seal's event supplied by the caller. Errors:
  // trial.not_sealed, trial.unknown_key, trial.redacted.
  [[nodiscard]] Result<provenance::Disclosure> Disclose(std::string_view trial_id,
                                                        std::string_view domain,
                                                        std::string_view key,
                                                        provenance::SealEvidence evidence);
  // As above under the seal `seal` (a LatestSealHead of trial+domain), so that the caller's
  // evidence and the disclosure name the same seal even if a newer one is confirmed in
  // between. Costs O(log n) in the seal's record count once the seal's tree is cached (the
  // first read of a seal builds it from the leaves); the record itself is read afresh, so a
  // redaction after the tree was built is seen (trial.redacted). Errors as above, and
  // storage.corrupt when the seal's stored leaves do not give its root.
  [[nodiscard]] Result<provenance::Disclosure> Disclose(const SealHead& seal,
                                                        std::string_view trial_id,
                                                        std::string_view domain,
                                                        std::string_view key,
                                                        provenance::SealEvidence evidence);

  // Deletes the text and salt of the record with `leaf` in trial+domain, keeping the leaf,
  // `reason` and the trial.redact event's `ledger_index`. Errors: trial.reason_required,
  // trial.unknown_leaf, trial.already_redacted.
  [[nodiscard]] Status Redact(std::string_view trial_id, std::string_view domain, const Hash& leaf,
                              std::string_view reason, uint64_t ledger_index);

 private:
  // A confirmed seal's keys and tree, for reads of one record; immutable once built.
  struct SealIndex;

  explicit SponsorStore(std::unique_ptr<log::sql::Connection> db);
  Result<StoredSeal> ReadSeal(int64_t seal_id);
  Result<SealHead> ReadLatestSealHead(std::string_view trial_id, std::string_view domain);
  // The index of `seal`, from the cache when it holds the same seal (id and root), else
  // built from the store and cached in place of the trial+domain's previous one. Under mu_.
  Result<std::shared_ptr<const SealIndex>> IndexOf(const SealHead& seal, std::string_view trial_id,
                                                   std::string_view domain);

  std::mutex mu_;
  std::unique_ptr<log::sql::Connection> db_;
  // One entry per trial+domain (key: trial id, NUL, domain): the seal last read. A seal's
  // records and leaves never change once sealed (a redaction deletes text, not leaves), so an
  // entry stays right until a newer seal replaces it; IndexOf checks the id and root.
  std::unordered_map<std::string, std::shared_ptr<const SealIndex>> seal_indexes_;
};

}  // namespace pedigree::services
