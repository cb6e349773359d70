// The clinical-trial use cases: each one combines the sponsor's off-ledger store (records
// and salts) with signed trial.* events on the ledger, so that the store never holds a
// record the ledger has not acknowledged and the ledger never sees a record's data.
// Workflow and formats: ../../../../docs/trials.md; payloads: ../../../../docs/events.md.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/provenance/trial_seal.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/scanner/trial_data.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/trial_store.h"

namespace pedigree::services {

// Who signs, with the Part 11 manifestation: the organisation whose key (held by this
// node) signs, the printed name of the person, and the meaning of the signature.
struct TrialSigner {
  std::string org;
  std::string name;
  std::string meaning;  // authorship, review, approval, responsibility
};

struct SubmissionResult {
  std::vector<uint64_t> indices;  // one trial.submit event per chunk of ≤ 10,000 records
  uint64_t submitted = 0;         // new and changed records
  uint64_t replaced = 0;          // of which replace an earlier record
  uint64_t unchanged = 0;         // identical to the current record, not resubmitted
};

// What Reconcile did with the store's staged submissions.
struct ReconcileResult {
  std::vector<uint64_t> confirmed;  // ledger indices of the trial.submit events found
  uint64_t discarded = 0;           // staged submissions the ledger never took
};

struct SealResult {
  uint64_t index = 0;  // of the trial.seal event
  provenance::SealSummary summary;
};

// A candidate dataset compared with the latest seal of its domain, and that seal as the
// ledger has it.
struct CandidateCheck {
  provenance::DatasetDiff diff;
  provenance::SealSummary sealed;  // what the store sealed, checked against the ledger
  provenance::SealRecord on_ledger;
};

// A seal's summary as JSON: root (hex), recordCount, schemaHash, algorithm.
JsonValue SealSummaryJson(const provenance::SealSummary& summary);
// A candidate comparison as JSON, the same for the HTTP API and `pedigree trial verify
// --json`: identical, recordsIdentical, the seal, every changed record by key and column
// with both values, added, deleted and unverifiable keys with lines, the file hash check.
// Format: docs/api.md (POST /v1/trials/{id}/verify).
JsonValue CandidateCheckJson(const CandidateCheck& check);

class TrialWorkflow {
 public:
  // `store` may be null for nodes that hold no records (events and reads only).
  TrialWorkflow(SupplyNode& node, SponsorStore* store) : node_(node), store_(store) {}

  // Any trial.* or kit.* event: sets kind, trialId and the signature manifestation on
  // `payload` and submits it signed by signer.org's key held by this node.
  [[nodiscard]] Result<uint64_t> Submit(const TrialSigner& signer, std::string_view kind,
                                        std::string_view trial_id, JsonValue payload);

  // trial.protocol with the SHA-256 of the protocol document's bytes.
  [[nodiscard]] Result<uint64_t> SealProtocol(const TrialSigner& sponsor, std::string_view trial_id,
                                              std::string_view document, std::string_view version,
                                              const std::vector<std::string>& primary,
                                              const std::vector<std::string>& secondary);

  // Stages the dataset's records in the store with fresh salts and submits their leaves in
  // trial.submit events of at most 10,000 records. A chunk the ledger refuses is rolled
  // back in the store; chunks before it stay submitted (resubmitting the same file skips
  // them, as unchanged). `reason` is required when a record changes.
  [[nodiscard]] Result<SubmissionResult> SubmitDataset(const TrialSigner& signer,
                                                       std::string_view trial_id,
                                                       const scanner::Dataset& dataset,
                                                       std::string_view reason = {});

  // Settles every submission the store holds staged against the ledger, as after a crash
  // between the ledger's acknowledgement of a trial.submit and the store's Confirm: a
  // submission whose leaves a trial.submit event of its trial+domain carries (exactly
  // that set) is confirmed at that event's index; one the ledger does not hold is
  // discarded (its rows deleted, as Rollback does), so the caller may submit again.
  // Staged submissions are not resubmitted: the signer's manifestation (name, meaning)
  // applies to a submission the person made, and the client that lost its answer
  // resubmits the file. A trial.submit that carries only some of the staged leaves cannot
  // come from this store and is storage.corrupt. Run only when no submission is in flight:
  // when a sponsor store is opened for writing (CLI trial commands, `pedigree serve`
  // start), which the ledger directory's lock makes one process at a time. Run while
  // another thread submits, it would discard that thread's staged rows.
  [[nodiscard]] Result<ReconcileResult> Reconcile();

  // The salted subject reference of a USUBJID, as the site enrolled it. When set,
  // SubmitDataset names each record's subject (`subjectRef`), which a trial with consent
  // forms requires (docs/consent.md). The USUBJID is the second component of the record key.
  void SetSubjectRefs(std::function<std::string(std::string_view usubjid)> subject_ref) {
    subject_ref_ = std::move(subject_ref);
  }

  // trial.consent_form for the ICF document's bytes (its SHA-256 goes on the ledger).
  // `scopes` is {"core": [domains], "<scope>": [domains], ...}; dates are YYYY-MM-DD.
  struct ConsentForm {
    std::string version;
    std::string country;   // ISO 3166-1 alpha-2, e.g. DE
    std::string language;  // ISO 639, e.g. de
    std::string ethics_ref;
    std::string approved;
    std::string effective;
    bool mandatory = false;
    JsonValue scopes;
  };
  [[nodiscard]] Result<uint64_t> RecordConsentForm(const TrialSigner& sponsor,
                                                   std::string_view trial_id,
                                                   std::string_view document,
                                                   const ConsentForm& form);

  // The unsigned payloads Submit, SealProtocol and RecordConsentForm send, for a client that
  // signs with its own key against a remote node (`pedigree trial … --server`): the event it
  // signs is exactly the one this node would have built.
  [[nodiscard]] static JsonValue EventPayload(const TrialSigner& signer, std::string_view kind,
                                              std::string_view trial_id, JsonValue payload);
  [[nodiscard]] static Result<JsonValue> ProtocolPayload(const TrialSigner& sponsor,
                                                         std::string_view trial_id,
                                                         std::string_view document,
                                                         std::string_view version,
                                                         const std::vector<std::string>& primary,
                                                         const std::vector<std::string>& secondary);
  [[nodiscard]] static Result<JsonValue> ConsentFormPayload(const TrialSigner& sponsor,
                                                            std::string_view trial_id,
                                                            std::string_view document,
                                                            const ConsentForm& form);

  // Carries out every withdrawal whose participant chose `redact`: each leaf the subject's
  // records carried that is not redacted yet gets a trial.redact signed by the sponsor and
  // its record and salt are deleted from the store (RedactLeaf). Returns the number of
  // leaves redacted now. Run by the sponsor (`pedigree trial honour-withdrawals`, the demo).
  [[nodiscard]] Result<uint64_t> HonourWithdrawals(const TrialSigner& sponsor,
                                                   std::string_view trial_id);

  // Test hook: called with the index of each trial.submit the ledger acknowledged, before
  // the store confirms it (the crash window Reconcile closes).
  void SetAfterSubmitHookForTesting(std::function<void(uint64_t index)> hook) {
    after_submit_hook_ = std::move(hook);
  }

  // trial.lock with action soft_lock, hard_lock or unlock (reason and approver for unlock).
  [[nodiscard]] Result<uint64_t> Lock(const TrialSigner& sponsor, std::string_view trial_id,
                                      std::string_view domain, std::string_view action,
                                      std::string_view reason = {}, std::string_view approver = {});

  // Seals the store's current records of the domain and records the seal on the ledger.
  [[nodiscard]] Result<SealResult> Seal(const TrialSigner& sponsor, std::string_view trial_id,
                                        std::string_view domain);

  // Compares `candidate` with the latest seal of its domain, after checking that the
  // store's seal is the one on the ledger (trial.seal_not_on_ledger otherwise).
  // `candidate_bytes` non-empty selects byte-exact mode against `recorded_file_hash`.
  [[nodiscard]] Result<CandidateCheck> Verify(std::string_view trial_id,
                                              const scanner::Dataset& candidate,
                                              std::optional<Hash> recorded_file_hash = {},
                                              std::string_view candidate_bytes = {});

  // A disclosure file of one record under the latest seal, with the seal event's
  // inclusion proof and a checkpoint signed now.
  [[nodiscard]] Result<provenance::Disclosure> Disclose(std::string_view trial_id,
                                                        std::string_view domain,
                                                        std::string_view key);

  // Reads of record contents by `reader`, the authenticated organisation (docs/consent.md,
  // "The access record"). The trial's sponsor reads its own store unchecked and unrecorded.
  // Anyone else needs a grant of the trial to `reader` covering the domain, not revoked and
  // valid at the node's time: without one a refused trial.access is appended and
  // trial.no_grant (403) returned. With one, the read is made and a trial.access naming the
  // leaves whose contents it returns is appended, acknowledged by the ledger (durable)
  // before anything is returned; one event per request (a chunk of 10,000 leaves per event
  // beyond that). If the ledger refuses the record, the read returns nothing.
  // Verify returns the contents of the changed records and the keys of the deleted ones:
  // their leaves are named.
  // What VerifyFor decides before it looks at the candidate, for a caller that knows the
  // domain before reading the file (an upload's ?domain=): `reader` may read the domain
  // (a refusal is appended exactly as VerifyFor appends it) and the domain has a seal.
  // Errors: trial.not_found, trial.no_grant, trial.not_sealed.
  [[nodiscard]] Status CheckVerifiable(std::string_view reader, std::string_view trial_id,
                                       std::string_view domain);
  [[nodiscard]] Result<CandidateCheck> VerifyFor(std::string_view reader, std::string_view trial_id,
                                                 const scanner::Dataset& candidate,
                                                 std::optional<Hash> recorded_file_hash = {},
                                                 std::string_view candidate_bytes = {});
  [[nodiscard]] Result<provenance::Disclosure> DiscloseFor(std::string_view reader,
                                                           std::string_view trial_id,
                                                           std::string_view domain,
                                                           std::string_view key);

  // Deletes a record's data and salt from the store, keeping its leaf, after the ledger
  // acknowledged the justified trial.redact event.
  [[nodiscard]] Result<uint64_t> Redact(const TrialSigner& sponsor, std::string_view trial_id,
                                        std::string_view domain, std::string_view key,
                                        std::string_view reason);

  // As Redact, for the record with `leaf`, current or replaced: the earlier version of a
  // corrected record may be the one holding the personal data. A leaf the ledger accepts
  // but this store never held leaves nothing to delete here.
  [[nodiscard]] Result<uint64_t> RedactLeaf(const TrialSigner& sponsor, std::string_view trial_id,
                                            std::string_view domain, const Hash& leaf,
                                            std::string_view reason);

  // The outcomes a publication reports against the trial's protocol seal.
  [[nodiscard]] Result<provenance::OutcomeDiscrepancies> CheckOutcomes(
      std::string_view trial_id, const std::vector<std::string>& reported_primary,
      const std::vector<std::string>& reported_secondary);

 private:
  // The grant a read by `reader` is made under; nullopt for the sponsor's own reads.
  struct ReadGrant {
    std::string sponsor;
    std::string grant_id;
    std::string purpose;
  };
  Result<std::optional<ReadGrant>> AuthoriseRead(std::string_view reader, std::string_view trial_id,
                                                 std::string_view domain);
  // Appends the refused trial.access and returns trial.no_grant saying `why`.
  Error RefuseRead(const ReadGrant& grant, std::string_view reader, std::string_view trial_id,
                   std::string_view domain, const std::string& why);
  Status RecordAccess(const ReadGrant& grant, std::string_view reader, std::string_view trial_id,
                      std::string_view domain, const std::vector<std::string>& leaves);
  Result<SponsorStore*> Store();
  // Read-only connections to the ledger's trial tables, kept for reuse: opening one costs
  // about half a millisecond, most of a grant check on every read by a grantee. Shared by
  // the copies of a workflow (a server copies its workflow per request). An idle connection
  // holds no read transaction, so each query sees the latest commit.
  struct ViewPool {
    std::mutex mutex;
    std::vector<std::unique_ptr<provenance::TrialView>> idle;
  };
  // A view on loan from the pool, returned to it when destroyed.
  class PooledView {
   public:
    PooledView(std::shared_ptr<ViewPool> pool, std::unique_ptr<provenance::TrialView> view)
        : pool_(std::move(pool)), view_(std::move(view)) {}
    PooledView(PooledView&&) = default;
    PooledView& operator=(PooledView&&) = delete;
    ~PooledView();
    provenance::TrialView* operator->() const { return view_.get(); }

   private:
    std::shared_ptr<ViewPool> pool_;
    std::unique_ptr<provenance::TrialView> view_;
  };
  Result<PooledView> View();

  SupplyNode& node_;
  SponsorStore* store_;
  std::shared_ptr<ViewPool> views_ = std::make_shared<ViewPool>();
  std::function<void(uint64_t)> after_submit_hook_;
  std::function<std::string(std::string_view)> subject_ref_;
};

}  // namespace pedigree::services
