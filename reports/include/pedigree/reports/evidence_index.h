// The evidence index: the log's signed statement of exactly which entries the evidence for one
// subject (a pack) must hold in its log of size N, so that a verifier with no database detects
// an entry left out of a bundle. Signed with the log key, the key that signs checkpoints, under
// its own domain prefix. Format and trust argument: ../../../../docs/reports.md ("Offline bundle
// format") and ../../../../docs/threat-model.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"

namespace pedigree::reports {

// What the log key signs: this prefix followed by the index's canonical JSON text.
inline constexpr std::string_view kEvidenceIndexPrefix = "pedigree/evidence-index/v1\n";

struct EvidenceIndex {
  std::string origin;             // the log's origin, as its checkpoints name it
  uint64_t size = 0;              // N: the size of the checkpoint the evidence is proved against
  std::string subject;            // canonical id of the subject (a pack's Digital Link URI)
  std::vector<uint64_t> entries;  // every index < N the evidence must hold, ascending
};

// The canonical JSON text {"entries":[...],"origin":"...","size":N,"subject":"..."}.
std::string FormatEvidenceIndex(const EvidenceIndex& index);
// Strict: the text must be exactly FormatEvidenceIndex of what it holds (so one index has one
// byte form) with ascending entries below size. Errors: bundle.bad_index (field names the
// member).
[[nodiscard]] Result<EvidenceIndex> ParseEvidenceIndex(std::string_view text);

// base64 Ed25519 signature by the ledger's log key over kEvidenceIndexPrefix + text.
std::string SignEvidenceIndex(const log::Ledger& ledger, std::string_view text);
// Errors: bundle.index_signature (not base64, or not a valid signature by `log_key`).
[[nodiscard]] Status VerifyEvidenceIndexSignature(std::string_view text,
                                                  std::string_view signature_base64,
                                                  const log::PublicKey& log_key);

// A signed index held against the log it claims to describe (`pedigree log check-index`).
struct EvidenceIndexCheck {
  EvidenceIndex index;
  // Entries the log's own data selects for the subject at size N that the index does not list:
  // the log key signed a false, incomplete index.
  std::vector<uint64_t> omitted;
  // Entries the index lists that the log does not select for the subject.
  std::vector<uint64_t> unselected;
  bool holds() const { return omitted.empty() && unselected.empty(); }
};

// Verifies the signature with the ledger's log key, then recomputes the entries the evidence for
// the index's subject must hold at the index's size (SelectPackEvidence, SelectContainerEvidence
// or, for a participant's receipt, SelectReceiptEvidence) and compares. Errors:
// bundle.index_signature, bundle.bad_index, bundle.index_mismatch (another origin, or a size
// beyond the ledger's), report.*, storage.*.
[[nodiscard]] Result<EvidenceIndexCheck> CheckEvidenceIndex(log::Ledger& ledger,
                                                            std::string_view text,
                                                            std::string_view signature_base64);

}  // namespace pedigree::reports
