// A participant's receipt ("pedigree-receipt/v1"): one JSON file holding every ledger entry
// about one subject of a trial — enrolment, consents, withdrawal, and each trial.access that
// read the subject's records — with C2SP tlog-proofs against one signed (and, when witnesses
// cosigned it, cosigned) checkpoint and the registry entries of their signers, so that the
// participant can verify it offline with the log's key alone. It names no other subject.
// Format, the subject reference and what a receipt proves: ../../../../docs/consent.md,
// "Participant receipts".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/ledger.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports {

inline constexpr std::string_view kReceiptFormat = "pedigree-receipt/v1";

// The salted subject reference a site enrols a subject under, from the subject's reference
// secret (the bytes the site hashed, handed to the participant): lowercase hex of
// SHA-256(secret), the same derivation as every subjectRef on the ledger.
std::string SubjectRefFromSecret(std::string_view secret);

// The subject a receipt's signed evidence index names: "urn:pedigree:trial:<trialId>:subject:
// <subjectRef>".
std::string ReceiptSubjectId(std::string_view trial_id, std::string_view subject_ref);

// A leaf of the subject's records as the node attributes it: the trial.submit at `index`
// named it with the subject's reference. Not proved by the receipt (that entry names other
// subjects too, so it is left out).
struct ReceiptLeaf {
  std::string domain;
  std::string leaf;  // 64 lowercase hex
  uint64_t index = 0;
};

// Everything VerifyReceipt needs. `evidence.pack` is the ReceiptSubjectId; its evidence index,
// when the log signed one, lists exactly the entries of the receipt.
struct Receipt {
  std::string trial_id;
  std::string subject_ref;
  std::vector<ReceiptLeaf> leaves;
  PackEvidence evidence;
};

// The receipt of the subject whose reference `secret` gives, from a ledger with the provenance
// model, through the trial view's indexes by subject and by leaf (no scan of the trial), with the
// evidence index of exactly those entries signed by the log key (not on a mirror, which holds
// none). Signs a checkpoint when no stored one covers the newest entry. Errors:
// trial.bad_subject_secret (empty or longer than 1024 bytes), trial.not_found,
// trial.receipt_subject_unknown (no subject of the trial has that reference: a wrong secret),
// storage.*. Writes nothing but a checkpoint.
[[nodiscard]] Result<Receipt> GatherReceipt(log::Ledger& ledger, std::string_view trial_id,
                                            std::string_view secret);

// The indices a receipt of the subject named by `subject_id` (ReceiptSubjectId) selects among
// the log's first `size` entries, ascending: what its signed evidence index must list (`pedigree
// log check-index`). Errors: bundle.bad_index (not a receipt subject), trial.not_found,
// trial.receipt_subject_unknown, storage.*.
[[nodiscard]] Result<std::vector<uint64_t>> SelectReceiptEvidence(log::Ledger& ledger,
                                                                  std::string_view subject_id,
                                                                  uint64_t size);

// The receipt file: canonical JSON and a newline.
std::string WriteReceipt(const Receipt& receipt);

// Strict structural parse. Errors: receipt.json (not JSON), receipt.format, receipt.missing_field,
// receipt.bad_field (field names the member); the evidence members (authorityKey, checkpoint,
// latestCheckpoint, consistency, entries) are read as a bundle's and fail with its bundle.* codes.
[[nodiscard]] Result<Receipt> ReadReceipt(std::string_view bytes);

// Verifies `receipt` against `anchors` and returns the report (format "pedigree-report/v1",
// report "receipt"): the checkpoint's signature, cosignatures, consistency and quorum, the signed
// evidence index (check evidence.complete: bundle.incomplete for an entry left out), and per
// entry its signature, its signer's registered key at the log's time and its inclusion, as for a
// bundle; then that `secret` (when given) gives the receipt's subjectRef (receipt.wrong_subject),
// that every entry other than the registry's is of the receipt's trial (receipt.wrong_trial) and
// concerns the subject: an enrolment, consent or withdrawal naming its subjectRef, an access
// naming one of its leaves (receipt.not_about_subject). The entries shown hold only what the
// verified entries bind. Never fails: a broken receipt is verdict FAILED with the failures' codes.
JsonValue VerifyReceipt(const Receipt& receipt, const TrustAnchors& anchors,
                        const std::optional<std::string>& secret, int64_t generated_at);

// A plain-text rendering of a VerifyReceipt report.
std::string RenderReceiptText(const JsonValue& report);

}  // namespace pedigree::reports
