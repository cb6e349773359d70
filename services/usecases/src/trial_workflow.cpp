#include "pedigree/usecases/trial_workflow.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "pedigree/base/bytes.h"

namespace pedigree::services {
namespace {

// The USUBJID of a record key STUDYID|USUBJID|...: its second component, unescaped.
std::string KeySubject(std::string_view key) {
  std::string out;
  int component = 0;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '\\' && i + 1 < key.size()) {
      if (component == 1) out.push_back(key[i + 1]);
      ++i;
      continue;
    }
    if (c == '|') {
      if (++component > 1) break;
      continue;
    }
    if (component == 1) out.push_back(c);
  }
  return out;
}

constexpr size_t kRecordsPerEvent = 10'000;

// The records [first, first + count) of `dataset`, with its columns and key.
scanner::Dataset Slice(const scanner::Dataset& dataset, size_t first, size_t count) {
  scanner::Dataset part;
  part.study_id = dataset.study_id;
  part.domain = dataset.domain;
  part.columns = dataset.columns;
  part.key_columns = dataset.key_columns;
  part.source_format = dataset.source_format;
  auto begin = dataset.records.begin() + static_cast<std::ptrdiff_t>(first);
  part.records.assign(begin, begin + static_cast<std::ptrdiff_t>(count));
  return part;
}

}  // namespace

Result<SponsorStore*> TrialWorkflow::Store() {
  if (!store_) {
    return Fail(Error("trial.no_store",
                      "this node holds no sponsor store; start it with one (pedigree serve "
                      "--sponsor-store FILE, setting sponsor_store or PEDIGREE_SPONSOR_STORE)"));
  }
  return store_;
}

TrialWorkflow::PooledView::~PooledView() {
  if (!view_) return;  // moved from
  std::lock_guard lock(pool_->mutex);
  pool_->idle.push_back(std::move(view_));
}

Result<TrialWorkflow::PooledView> TrialWorkflow::View() {
  {
    std::lock_guard lock(views_->mutex);
    if (!views_->idle.empty()) {
      auto view = std::move(views_->idle.back());
      views_->idle.pop_back();
      return PooledView(views_, std::move(view));
    }
  }
  PEDIGREE_ASSIGN(view, provenance::TrialView::Open(node_.ledger().db_path()));
  return PooledView(views_, std::move(*view));
}

Result<ReconcileResult> TrialWorkflow::Reconcile() {
  PEDIGREE_ASSIGN(store, Store());
  PEDIGREE_ASSIGN(staged, (*store)->StagedSubmissions());
  ReconcileResult result;
  if (staged->empty()) return result;
  PEDIGREE_ASSIGN(view, View());
  for (const StagedSubmission& sub : *staged) {
    std::set<std::string> leaves;
    for (const StagedLeaf& l : sub.records) leaves.insert(ToHex(l.leaf));
    PEDIGREE_ASSIGN(indices, (*view)->Submissions(sub.trial_id, sub.domain));
    std::optional<uint64_t> found;
    // Newest first: a crash leaves at most one submission per trial+domain staged, and it
    // is the latest that trial+domain saw.
    for (auto it = indices->rbegin(); it != indices->rend() && !found; ++it) {
      PEDIGREE_ASSIGN(entry, node_.ledger().Entry(*it));
      PEDIGREE_ASSIGN(envelope, ParseJson(*entry));
      const JsonValue* payload = envelope->find("payload");
      const JsonValue* records = payload ? payload->find("records") : nullptr;
      if (!records || !records->is_array()) continue;
      std::set<std::string> on_ledger;
      for (const JsonValue& r : records->as_array()) {
        if (const JsonValue* leaf = r.find("leaf"); leaf && leaf->is_string()) {
          on_ledger.insert(leaf->as_string());
        }
      }
      if (on_ledger == leaves) {
        found = *it;
      } else if (std::any_of(on_ledger.begin(), on_ledger.end(),
                             [&](const std::string& l) { return leaves.count(l) > 0; })) {
        return Fail("storage.corrupt", "staged submission " + std::to_string(sub.submission_id) +
                                           " of " + sub.trial_id + " " + sub.domain +
                                           " shares leaves with ledger entry " +
                                           std::to_string(*it) + " but not all of them");
      }
    }
    if (found) {
      PEDIGREE_TRY((*store)->Confirm(sub.submission_id, *found));
      result.confirmed.push_back(*found);
    } else {
      PEDIGREE_TRY((*store)->Rollback(sub.submission_id));
      ++result.discarded;
    }
  }
  return result;
}

JsonValue TrialWorkflow::EventPayload(const TrialSigner& signer, std::string_view kind,
                                      std::string_view trial_id, JsonValue payload) {
  payload.set("kind", JsonValue(kind));
  payload.set("trialId", JsonValue(trial_id));
  payload.set("signature", JsonValue::Object()
                               .set("name", JsonValue(signer.name))
                               .set("meaning", JsonValue(signer.meaning)));
  return payload;
}

Result<uint64_t> TrialWorkflow::Submit(const TrialSigner& signer, std::string_view kind,
                                       std::string_view trial_id, JsonValue payload) {
  return node_.SubmitAs(signer.org, EventPayload(signer, kind, trial_id, std::move(payload)));
}

Result<JsonValue> TrialWorkflow::ProtocolPayload(const TrialSigner& sponsor,
                                                 std::string_view trial_id,
                                                 std::string_view document,
                                                 std::string_view version,
                                                 const std::vector<std::string>& primary,
                                                 const std::vector<std::string>& secondary) {
  if (document.empty()) {
    return Fail(
        Error("trial.empty_protocol", "the protocol document is empty").at_field("protocol"));
  }
  auto p = JsonValue::Object();
  p.set("protocolHash", JsonValue(ToHex(Sha256(document))));
  p.set("version", JsonValue(version));
  p.set("outcomes", JsonValue::Object()
                        .set("primary", JsonValue::Strings(primary))
                        .set("secondary", JsonValue::Strings(secondary)));
  return EventPayload(sponsor, "trial.protocol", trial_id, std::move(p));
}

Result<uint64_t> TrialWorkflow::SealProtocol(const TrialSigner& sponsor, std::string_view trial_id,
                                             std::string_view document, std::string_view version,
                                             const std::vector<std::string>& primary,
                                             const std::vector<std::string>& secondary) {
  PEDIGREE_ASSIGN(payload,
                  ProtocolPayload(sponsor, trial_id, document, version, primary, secondary));
  return node_.SubmitAs(sponsor.org, std::move(*payload));
}

Result<SubmissionResult> TrialWorkflow::SubmitDataset(const TrialSigner& signer,
                                                      std::string_view trial_id,
                                                      const scanner::Dataset& dataset,
                                                      std::string_view reason) {
  PEDIGREE_ASSIGN(store, Store());
  if (dataset.records.empty()) {
    return Fail(Error("trial.empty_dataset", "the " + dataset.domain + " dataset has no records"));
  }
  if (dataset.study_id != trial_id) {
    return Fail(Error("trial.wrong_study", "the dataset is for study '" + dataset.study_id +
                                               "', not trial '" + std::string(trial_id) + "'")
                    .at_field("STUDYID"));
  }
  // Each chunk is staged on its own, so a key repeated in two chunks would pass as a
  // correction of the first by the second: refuse it for the whole file first.
  if (dataset.records.size() > kRecordsPerEvent) {
    std::unordered_map<std::string, uint64_t> lines;
    lines.reserve(dataset.records.size());
    for (size_t i = 0; i < dataset.records.size(); ++i) {
      auto [it, added] = lines.emplace(provenance::RecordKey(dataset, i), dataset.records[i].line);
      if (!added) {
        return Fail(Error("trial.duplicate_key",
                          "key " + it->first + " appears at line " + std::to_string(it->second) +
                              " and again at line " + std::to_string(dataset.records[i].line))
                        .at_line_column(dataset.records[i].line, 1));
      }
    }
  }
  SubmissionResult result;
  for (size_t first = 0; first < dataset.records.size(); first += kRecordsPerEvent) {
    size_t count = std::min(kRecordsPerEvent, dataset.records.size() - first);
    auto staged = (*store)->Stage(trial_id, Slice(dataset, first, count), reason);
    if (!staged) {
      if (staged.error().code() == "trial.nothing_to_submit") {
        result.unchanged += count;
        continue;
      }
      return std::unexpected(staged.error().with_context("records " + std::to_string(first + 1) +
                                                         ".." + std::to_string(first + count)));
    }
    auto records = JsonValue::Array();
    uint64_t replaced = 0;
    for (const StagedLeaf& leaf : staged->records) {
      auto r = JsonValue::Object();
      r.set("leaf", JsonValue(ToHex(leaf.leaf)));
      if (subject_ref_) {
        // A USUBJID the mapping does not know goes without: a governed trial refuses it.
        std::string subject = subject_ref_(KeySubject(leaf.key));
        if (!subject.empty()) r.set("subjectRef", JsonValue(subject));
      }
      if (leaf.replaces) {
        r.set("replaces", JsonValue(ToHex(*leaf.replaces)));
        ++replaced;
      }
      records.push_back(std::move(r));
    }
    auto p = JsonValue::Object();
    p.set("domain", JsonValue(dataset.domain));
    p.set("records", std::move(records));
    if (!reason.empty()) p.set("reason", JsonValue(reason));
    auto index = Submit(signer, "trial.submit", trial_id, std::move(p));
    if (!index) {
      (void)(*store)->Rollback(staged->submission_id);
      std::string done = result.indices.empty()
                             ? std::string("nothing was submitted")
                             : std::to_string(result.submitted) +
                                   " records before these were submitted; resubmitting the file "
                                   "skips them";
      return std::unexpected(index.error().with_context(done));
    }
    if (after_submit_hook_) after_submit_hook_(*index);
    PEDIGREE_TRY((*store)->Confirm(staged->submission_id, *index));
    result.indices.push_back(*index);
    result.submitted += staged->records.size();
    result.replaced += replaced;
    result.unchanged += staged->unchanged;
  }
  if (result.indices.empty()) {
    return Fail(Error("trial.nothing_to_submit", "every record of the " + dataset.domain +
                                                     " dataset is already submitted unchanged"));
  }
  return result;
}

Result<uint64_t> TrialWorkflow::Lock(const TrialSigner& sponsor, std::string_view trial_id,
                                     std::string_view domain, std::string_view action,
                                     std::string_view reason, std::string_view approver) {
  auto p = JsonValue::Object();
  p.set("domain", JsonValue(domain));
  p.set("action", JsonValue(action));
  if (!reason.empty()) p.set("reason", JsonValue(reason));
  if (!approver.empty()) p.set("approver", JsonValue(approver));
  return Submit(sponsor, "trial.lock", trial_id, std::move(p));
}

Result<SealResult> TrialWorkflow::Seal(const TrialSigner& sponsor, std::string_view trial_id,
                                       std::string_view domain) {
  PEDIGREE_ASSIGN(store, Store());
  PEDIGREE_ASSIGN(stored, (*store)->Seal(trial_id, domain));
  const provenance::SealSummary& summary = stored->seal.summary;
  auto p = JsonValue::Object();
  p.set("domain", JsonValue(domain));
  p.set("root", JsonValue(ToHex(summary.root)));
  p.set("recordCount", JsonValue(static_cast<int64_t>(summary.record_count)));
  p.set("schemaHash", JsonValue(summary.schema_hash));
  p.set("algorithm", JsonValue(summary.algorithm));
  PEDIGREE_ASSIGN(index, Submit(sponsor, "trial.seal", trial_id, std::move(p)));
  PEDIGREE_TRY((*store)->ConfirmSeal(stored->seal_id, *index));
  return SealResult{*index, summary};
}

Result<CandidateCheck> TrialWorkflow::Verify(std::string_view trial_id,
                                             const scanner::Dataset& candidate,
                                             std::optional<Hash> recorded_file_hash,
                                             std::string_view candidate_bytes) {
  PEDIGREE_ASSIGN(store, Store());
  PEDIGREE_ASSIGN(view, View());
  PEDIGREE_ASSIGN(seals, (*view)->Seals(trial_id, candidate.domain));
  if (seals->empty()) {
    return Fail(Error("trial.not_sealed", "trial '" + std::string(trial_id) + "' has no seal of " +
                                              candidate.domain + " on the ledger"));
  }
  PEDIGREE_ASSIGN(stored, (*store)->LatestSeal(trial_id, candidate.domain));
  const provenance::SealRecord& latest = seals->back();
  const provenance::SealSummary& summary = stored->seal.summary;
  if (ToHex(summary.root) != latest.root ||
      static_cast<int64_t>(summary.record_count) != latest.record_count) {
    return Fail(Error("trial.seal_not_on_ledger",
                      "the store's latest " + candidate.domain + " seal (root " +
                          ToHex(summary.root) + ", " + std::to_string(summary.record_count) +
                          " records) is not the ledger's latest (index " +
                          std::to_string(latest.index) + ", root " + latest.root + ", " +
                          std::to_string(latest.record_count) + " records)"));
  }
  provenance::CompareOptions options;
  options.recorded_file_hash = recorded_file_hash;
  options.candidate_bytes = candidate_bytes;
  PEDIGREE_ASSIGN(diff, (*store)->Compare(trial_id, candidate, options));
  return CandidateCheck{std::move(*diff), summary, latest};
}

Result<provenance::Disclosure> TrialWorkflow::Disclose(std::string_view trial_id,
                                                       std::string_view domain,
                                                       std::string_view key) {
  PEDIGREE_ASSIGN(store, Store());
  // The head only: reading every record of the seal would make one record's read linear in
  // the domain.
  PEDIGREE_ASSIGN(stored, (*store)->LatestSealHead(trial_id, domain));
  if (!stored->ledger_index) {
    return Fail(Error("trial.not_sealed", "the latest seal of " + std::string(domain) +
                                              " is not acknowledged by the ledger"));
  }
  log::Ledger& ledger = node_.ledger();
  // Any signed checkpoint that covers the seal proves it; the newest stored one (with the
  // witnesses' cosignatures when there are any) serves, so a read writes nothing. Only when
  // none covers the seal yet is one signed and stored (a commit, fsync). Signing one per
  // read would put a durable write on every read, and after a trial.access two.
  PEDIGREE_ASSIGN(latest, ledger.LatestCheckpoint());
  log::StoredCheckpoint checkpoint;
  if (*latest && (*latest)->size > *stored->ledger_index) {
    checkpoint = std::move(**latest);
  } else {
    PEDIGREE_ASSIGN(signed_now, ledger.SignCheckpoint());
    checkpoint = std::move(*signed_now);
  }
  PEDIGREE_ASSIGN(entry, ledger.Entry(*stored->ledger_index));
  PEDIGREE_ASSIGN(proof, ledger.ProveInclusion(*stored->ledger_index, checkpoint.size));
  provenance::SealEvidence evidence{std::move(*entry), *stored->ledger_index,
                                    std::move(proof->path), std::move(checkpoint.note)};
  return (*store)->Disclose(*stored, trial_id, domain, key, std::move(evidence));
}

namespace {

constexpr size_t kLeavesPerAccess = 10'000;

// The manifestation on the access records the sponsor's store appends by itself: the
// sponsor's organisation takes responsibility for its store's account of reads.
constexpr const char* kAccessRecorder = "pedigree sponsor store (access record)";

}  // namespace

Result<std::optional<TrialWorkflow::ReadGrant>> TrialWorkflow::AuthoriseRead(
    std::string_view reader, std::string_view trial_id, std::string_view domain) {
  // Runs on every read: the sponsor's row and the reader's own grants only, not the whole
  // trial record and every grantee's grants.
  PEDIGREE_ASSIGN(view, View());
  PEDIGREE_ASSIGN(sponsor, (*view)->Sponsor(trial_id));
  if (!*sponsor) {
    return Fail(
        Error("trial.not_found", "no trial '" + std::string(trial_id) + "'").at_field("id"));
  }
  if (**sponsor == reader) return std::optional<ReadGrant>();
  PEDIGREE_ASSIGN(grants, (*view)->GrantsTo(trial_id, reader));
  const int64_t now = node_.Now();
  // A grant without a sites/subjects restriction first: it covers any record the read
  // returns, where a restricted one may not.
  const provenance::GrantRecord* chosen = nullptr;
  for (const provenance::GrantRecord& g : *grants) {
    if (!g.valid_at(now)) continue;
    if (std::find(g.domains.begin(), g.domains.end(), domain) == g.domains.end()) continue;
    const bool restricted = !g.sites.empty() || !g.subjects.empty();
    if (!chosen || (!restricted && (!chosen->sites.empty() || !chosen->subjects.empty()))) {
      chosen = &g;
    }
  }
  if (chosen) {
    return std::optional<ReadGrant>(ReadGrant{**sponsor, chosen->grant_id, chosen->purpose});
  }
  return Fail(RefuseRead(ReadGrant{**sponsor, "", ""}, reader, trial_id, domain,
                         "holds no grant of trial '" + std::string(trial_id) +
                             "' valid now for domain " + std::string(domain)));
}

Error TrialWorkflow::RefuseRead(const ReadGrant& grant, std::string_view reader,
                                std::string_view trial_id, std::string_view domain,
                                const std::string& why) {
  // The refusal is on the ledger too, so the account of attempted reads is complete.
  auto p = JsonValue::Object();
  p.set("reader", JsonValue(reader));
  if (!grant.grant_id.empty()) p.set("grantId", JsonValue(grant.grant_id));
  p.set("domain", JsonValue(domain));
  p.set("outcome", JsonValue("refused"));
  p.set("refusal", JsonValue("trial.no_grant"));
  p.set("leaves", JsonValue::Array());
  auto recorded = Submit(TrialSigner{grant.sponsor, kAccessRecorder, "responsibility"},
                         "trial.access", trial_id, std::move(p));
  if (!recorded) return recorded.error();
  return Error("trial.no_grant", "'" + std::string(reader) + "' " + why +
                                     "; the refusal is recorded at ledger entry " +
                                     std::to_string(*recorded))
      .at_field("domain");
}

Status TrialWorkflow::RecordAccess(const ReadGrant& grant, std::string_view reader,
                                   std::string_view trial_id, std::string_view domain,
                                   const std::vector<std::string>& leaves) {
  size_t first = 0;
  do {
    const size_t count = std::min(kLeavesPerAccess, leaves.size() - first);
    auto p = JsonValue::Object();
    p.set("reader", JsonValue(reader));
    p.set("grantId", JsonValue(grant.grant_id));
    p.set("purpose", JsonValue(grant.purpose));
    p.set("domain", JsonValue(domain));
    p.set("outcome", JsonValue("granted"));
    auto list = JsonValue::Array();
    for (size_t i = first; i < first + count; ++i) list.push_back(JsonValue(leaves[i]));
    p.set("leaves", std::move(list));
    auto recorded = Submit(TrialSigner{grant.sponsor, kAccessRecorder, "responsibility"},
                           "trial.access", trial_id, std::move(p));
    if (!recorded) {
      // Records of sites or subjects the grant does not name: refused like no grant.
      if (recorded.error().code() != "trial.access_outside_grant") return Fail(recorded.error());
      return Fail(RefuseRead(grant, reader, trial_id, domain,
                             "asked for records outside grant '" + grant.grant_id +
                                 "': " + recorded.error().message()));
    }
    first += count;
  } while (first < leaves.size());
  return Ok();
}

Result<CandidateCheck> TrialWorkflow::VerifyFor(std::string_view reader, std::string_view trial_id,
                                                const scanner::Dataset& candidate,
                                                std::optional<Hash> recorded_file_hash,
                                                std::string_view candidate_bytes) {
  PEDIGREE_ASSIGN(grant, AuthoriseRead(reader, trial_id, candidate.domain));
  PEDIGREE_ASSIGN(check, Verify(trial_id, candidate, recorded_file_hash, candidate_bytes));
  if (!*grant) return check;
  PEDIGREE_ASSIGN(store, Store());
  PEDIGREE_ASSIGN(stored, (*store)->LatestSeal(trial_id, candidate.domain));
  std::unordered_map<std::string, std::string> leaf_of;
  for (const provenance::SealedRecord& r : stored->seal.records) leaf_of[r.key] = ToHex(r.leaf);
  std::vector<std::string> leaves;
  for (const auto& c : check->diff.changed) leaves.push_back(leaf_of[c.key]);
  for (const auto& d : check->diff.deleted) leaves.push_back(leaf_of[d.key]);
  PEDIGREE_TRY(RecordAccess(**grant, reader, trial_id, candidate.domain, leaves));
  return check;
}

Status TrialWorkflow::CheckVerifiable(std::string_view reader, std::string_view trial_id,
                                      std::string_view domain) {
  PEDIGREE_TRY(AuthoriseRead(reader, trial_id, domain));
  PEDIGREE_ASSIGN(view, View());
  PEDIGREE_ASSIGN(seals, (*view)->Seals(trial_id, domain));
  if (seals->empty()) {
    // The message Verify gives, so that the answer does not depend on when it is found.
    return Fail(Error("trial.not_sealed", "trial '" + std::string(trial_id) + "' has no seal of " +
                                              std::string(domain) + " on the ledger"));
  }
  return Ok();
}

Result<provenance::Disclosure> TrialWorkflow::DiscloseFor(std::string_view reader,
                                                          std::string_view trial_id,
                                                          std::string_view domain,
                                                          std::string_view key) {
  PEDIGREE_ASSIGN(grant, AuthoriseRead(reader, trial_id, domain));
  PEDIGREE_ASSIGN(disclosure, Disclose(trial_id, domain, key));
  if (*grant) {
    PEDIGREE_TRY(RecordAccess(**grant, reader, trial_id, domain, {ToHex(disclosure->leaf)}));
  }
  return disclosure;
}

Result<uint64_t> TrialWorkflow::Redact(const TrialSigner& sponsor, std::string_view trial_id,
                                       std::string_view domain, std::string_view key,
                                       std::string_view reason) {
  PEDIGREE_ASSIGN(store, Store());
  if (reason.empty()) {
    return Fail(
        Error("trial.reason_required", "a redaction needs its justification").at_field("reason"));
  }
  PEDIGREE_ASSIGN(records, (*store)->CurrentRecords(trial_id, domain));
  auto it = std::find_if(records->begin(), records->end(),
                         [&](const StoredRecord& r) { return r.key == key; });
  if (it == records->end()) {
    return Fail(Error("trial.unknown_key", "no current " + std::string(domain) + " record '" +
                                               std::string(key) + "' in trial '" +
                                               std::string(trial_id) + "'")
                    .at_field("key"));
  }
  if (it->redacted) {
    return Fail(Error("trial.already_redacted", "record '" + std::string(key) + "' is redacted"));
  }
  auto p = JsonValue::Object();
  p.set("domain", JsonValue(domain));
  p.set("leaf", JsonValue(ToHex(it->leaf)));
  p.set("reason", JsonValue(reason));
  PEDIGREE_ASSIGN(index, Submit(sponsor, "trial.redact", trial_id, std::move(p)));
  PEDIGREE_TRY((*store)->Redact(trial_id, domain, it->leaf, reason, *index));
  return *index;
}

Result<JsonValue> TrialWorkflow::ConsentFormPayload(const TrialSigner& sponsor,
                                                    std::string_view trial_id,
                                                    std::string_view document,
                                                    const ConsentForm& form) {
  if (document.empty()) {
    return Fail(
        Error("trial.empty_protocol", "the consent form document is empty").at_field("file"));
  }
  auto p = JsonValue::Object();
  p.set("documentHash", JsonValue(ToHex(Sha256(document))));
  p.set("version", JsonValue(form.version));
  p.set("country", JsonValue(form.country));
  p.set("language", JsonValue(form.language));
  p.set("ethicsRef", JsonValue(form.ethics_ref));
  p.set("approved", JsonValue(form.approved));
  p.set("effective", JsonValue(form.effective));
  p.set("mandatory", JsonValue(form.mandatory));
  p.set("scopes", form.scopes);
  return EventPayload(sponsor, "trial.consent_form", trial_id, std::move(p));
}

Result<uint64_t> TrialWorkflow::RecordConsentForm(const TrialSigner& sponsor,
                                                  std::string_view trial_id,
                                                  std::string_view document,
                                                  const ConsentForm& form) {
  PEDIGREE_ASSIGN(payload, ConsentFormPayload(sponsor, trial_id, document, form));
  return node_.SubmitAs(sponsor.org, std::move(*payload));
}

Result<uint64_t> TrialWorkflow::HonourWithdrawals(const TrialSigner& sponsor,
                                                  std::string_view trial_id) {
  PEDIGREE_ASSIGN(view, View());
  PEDIGREE_ASSIGN(withdrawals, (*view)->Withdrawals(trial_id));
  uint64_t done = 0;
  for (const provenance::WithdrawalRecord& w : *withdrawals) {
    if (w.data_choice != "redact") continue;
    for (const provenance::SubjectLeaf& leaf : w.leaves) {
      if (leaf.redacted) continue;
      PEDIGREE_ASSIGN(hash, HashFromHex(leaf.leaf));
      PEDIGREE_TRY(RedactLeaf(sponsor, trial_id, leaf.domain, *hash,
                              "the participant withdrew consent (ledger entry " +
                                  std::to_string(w.index) + ") and chose redaction"));
      ++done;
    }
  }
  return done;
}

Result<uint64_t> TrialWorkflow::RedactLeaf(const TrialSigner& sponsor, std::string_view trial_id,
                                           std::string_view domain, const Hash& leaf,
                                           std::string_view reason) {
  PEDIGREE_ASSIGN(store, Store());
  if (reason.empty()) {
    return Fail(
        Error("trial.reason_required", "a redaction needs its justification").at_field("reason"));
  }
  auto p = JsonValue::Object();
  p.set("domain", JsonValue(domain));
  p.set("leaf", JsonValue(ToHex(leaf)));
  p.set("reason", JsonValue(reason));
  PEDIGREE_ASSIGN(index, Submit(sponsor, "trial.redact", trial_id, std::move(p)));
  if (auto ok = (*store)->Redact(trial_id, domain, leaf, reason, *index);
      !ok && ok.error().code() != "trial.unknown_leaf") {
    return std::unexpected(
        ok.error().with_context("the trial.redact event is at index " + std::to_string(*index)));
  }
  return *index;
}

Result<provenance::OutcomeDiscrepancies> TrialWorkflow::CheckOutcomes(
    std::string_view trial_id, const std::vector<std::string>& reported_primary,
    const std::vector<std::string>& reported_secondary) {
  PEDIGREE_ASSIGN(view, View());
  PEDIGREE_ASSIGN(protocols, (*view)->Protocols(trial_id));
  if (protocols->empty()) {
    return Fail(
        Error("trial.no_protocol", "trial '" + std::string(trial_id) + "' has no sealed protocol"));
  }
  const provenance::ProtocolRecord& seal = protocols->front();
  return provenance::OutcomeCheck(seal.primary, seal.secondary, reported_primary,
                                  reported_secondary);
}

namespace {

JsonValue Count(uint64_t n) { return JsonValue(static_cast<int64_t>(n)); }

JsonValue KeyLines(const std::vector<provenance::KeyAtLine>& keys) {
  auto a = JsonValue::Array();
  for (const auto& k : keys) {
    auto o = JsonValue::Object().set("key", JsonValue(k.key));
    if (k.line) o.set("line", Count(k.line));
    a.push_back(std::move(o));
  }
  return a;
}

JsonValue OptionalText(const std::optional<std::string>& s) {
  return s ? JsonValue(*s) : JsonValue::Null();
}

}  // namespace

JsonValue SealSummaryJson(const provenance::SealSummary& s) {
  return JsonValue::Object()
      .set("root", JsonValue(ToHex(s.root)))
      .set("recordCount", Count(s.record_count))
      .set("schemaHash", JsonValue(s.schema_hash))
      .set("algorithm", JsonValue(s.algorithm));
}

JsonValue CandidateCheckJson(const CandidateCheck& check) {
  const provenance::DatasetDiff& d = check.diff;
  auto o = JsonValue::Object();
  o.set("identical", JsonValue(d.records_identical() && (!d.file_hash || d.file_hash->matches())));
  o.set("recordsIdentical", JsonValue(d.records_identical()));
  o.set("sealIndex", Count(check.on_ledger.index));
  o.set("sealRoot", JsonValue(check.on_ledger.root));
  o.set("seal", SealSummaryJson(check.sealed));
  o.set("sealedCount", Count(d.sealed_count));
  o.set("candidateCount", Count(d.candidate_count));
  auto changed = JsonValue::Array();
  for (const auto& c : d.changed) {
    auto cells = JsonValue::Array();
    for (const auto& cell : c.cells) {
      auto e = JsonValue::Object();
      e.set("column", JsonValue(cell.column));
      e.set("sealed", OptionalText(cell.sealed));
      e.set("candidate", OptionalText(cell.candidate));
      if (!cell.in_sealed) e.set("inSealed", JsonValue(false));
      if (!cell.in_candidate) e.set("inCandidate", JsonValue(false));
      cells.push_back(std::move(e));
    }
    changed.push_back(JsonValue::Object()
                          .set("key", JsonValue(c.key))
                          .set("line", Count(c.candidate_line))
                          .set("valuesKnown", JsonValue(c.values_known))
                          .set("columns", std::move(cells)));
  }
  o.set("changed", std::move(changed));
  o.set("added", KeyLines(d.added));
  o.set("deleted", KeyLines(d.deleted));
  o.set("unverifiable", KeyLines(d.unverifiable));
  if (d.file_hash) {
    o.set("fileHash", JsonValue::Object()
                          .set("recorded", JsonValue(d.file_hash->recorded))
                          .set("candidate", JsonValue(d.file_hash->candidate))
                          .set("matches", JsonValue(d.file_hash->matches())));
  }
  return o;
}

}  // namespace pedigree::services
