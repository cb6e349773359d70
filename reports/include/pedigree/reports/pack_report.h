// The pack pedigree report: the evidence needed to judge one pack (signed entries, their
// inclusion proofs against one signed checkpoint, the consistency of that checkpoint with the
// newest, the registry entries and the authority key), gathered from a ledger or read from an
// offline bundle (bundle.h), and ONE function that verifies that evidence and produces the
// report JSON (schema "pedigree-report/v1", report "pack"). See ../../../../docs/reports.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/log/policy.h"
#include "pedigree/provenance/identifiers.h"

namespace pedigree::reports {

// One signed entry of the log with its inclusion path in the tree of the evidence's checkpoint.
// An empty envelope means the entry was expected but is missing from the source.
struct EvidenceEntry {
  uint64_t index = 0;
  std::string envelope;     // the exact bytes the log stores and hashes
  std::vector<Hash> proof;  // RFC 6962 PATH(index, D[0:checkpoint size]), bottom-up
};

// Everything VerifyPack needs to judge one pack, and nothing it trusts by itself: every part is
// checked against the trust anchors. Value type.
struct PackEvidence {
  std::string pack;           // canonical GS1 Digital Link id of the pack
  std::string authority_key;  // base64 Ed25519 key the registry entries claim to be signed by
  std::string checkpoint;     // signed note (C2SP tlog-checkpoint) the proofs are against
  // The newest signed checkpoint and the RFC 6962 consistency proof from `checkpoint` to it;
  // both empty when `checkpoint` is the newest.
  std::string latest_checkpoint;
  std::vector<Hash> consistency;
  // Registry (org.*), product, batch and batch status entries, the pack's history (custody,
  // aggregation of its cases, status changes, scans) and alerts about it; ascending index.
  std::vector<EvidenceEntry> entries;
  // The log's signed statement of which entries `entries` must be (evidence_index.h): the
  // canonical JSON text and the base64 Ed25519 signature by the log key over
  // kEvidenceIndexPrefix + text. Both empty for evidence without one (a v1 bundle), whose
  // completeness VerifyPack cannot prove and says so.
  std::string evidence_index;
  std::string evidence_index_signature;
};

// What the verifier trusts: the log's note verifier key, optionally the consortium authority's
// key (without it the evidence's own authority key is used and `registry.authority` warns) and
// witness cosigner keys (cosignatures by other keys are listed, not verified). With a witness
// policy (C2SP tlog-policy), its witnesses' cosignatures are verified too and its quorum must
// be met (check checkpoint.quorum, a failure when it is not): by the checkpoint the proofs
// use, or by the newest checkpoint when that one is proved consistent with it.
struct TrustAnchors {
  log::NoteVerifier log;
  std::optional<log::PublicKey> authority;
  std::vector<log::NoteVerifier> witnesses;
  std::optional<log::Policy> policy;
};

// Any scanner form of a pack code (Digital Link URI, bracketed, raw with GS, with or without a
// symbology identifier). Errors: the scanner's gs1.* codes, report.not_a_pack (no AI 01 + 21).
[[nodiscard]] Result<provenance::PackId> ParsePackCode(std::string_view code);

// Any scanner form of a case's or pallet's SSCC: element string "00" + 18 digits, bracketed
// "(00)…", with a symbology identifier (]C1, ]d2, ]Q3), a GS1 Digital Link URI ".../00/…", or
// the bare 18 digits. Errors: the scanner's gs1.* codes (gs1.check_digit for a wrong check
// digit), report.not_a_container (the code carries no AI 00).
[[nodiscard]] Result<provenance::Sscc> ParseContainerCode(std::string_view code);

// Collects the evidence for the pack named by `code` from a ledger with the provenance model:
// the pack's history (ProvenanceView::PackHistory), its product and batch entries, the registry
// entries of every organisation that signed or received them, inclusion proofs against the
// oldest stored checkpoint covering them all and a consistency proof to the newest, and the
// evidence index listing exactly those entries, signed by the log key. Signs a checkpoint first
// when no stored one covers the pack's newest event. An entry row missing from storage yields an
// empty envelope (VerifyPack reports entry.missing). Errors: report.not_a_pack,
// report.no_such_pack, storage.*.
[[nodiscard]] Result<PackEvidence> GatherPackEvidence(log::Ledger& ledger, std::string_view code);

// GatherPackEvidence with its read connections kept open between packs (a report server, the
// benchmark). Not thread-safe: one per thread. `ledger` must outlive it.
class LedgerEvidenceSource {
 public:
  [[nodiscard]] static Result<std::unique_ptr<LedgerEvidenceSource>> Open(log::Ledger& ledger);
  ~LedgerEvidenceSource();
  [[nodiscard]] Result<PackEvidence> Gather(std::string_view code);

 private:
  struct Impl;
  explicit LedgerEvidenceSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The indices GatherPackEvidence selects for the pack named by `code` among the first `size`
// entries of the ledger's log, ascending: what a signed evidence index for the pack at that
// size must list. Errors as GatherPackEvidence.
[[nodiscard]] Result<std::vector<uint64_t>> SelectPackEvidence(log::Ledger& ledger,
                                                               std::string_view code,
                                                               uint64_t size);

// The trust anchors a ledger itself holds: its log key and the configured authority key.
[[nodiscard]] Result<TrustAnchors> LedgerTrustAnchors(log::Ledger& ledger);

// Verifies `evidence` against `anchors` and returns the pack report (REPORT_SPEC "pack";
// docs/reports.md lists every check). Never fails: broken evidence is a FAILED verdict naming
// the index, the check and expected vs calculated values. `generated_at` (unix seconds) is the
// report's time, also the day expiry is judged on. Thread-safe; pure function of its inputs.
JsonValue VerifyPack(const PackEvidence& evidence, const TrustAnchors& anchors,
                     int64_t generated_at);

// A readable plain-text rendering of any pack report made by VerifyPack: verdict, summary,
// subject, one line per event with its checks, then failures, violations and report checks.
std::string RenderPackText(const JsonValue& report);

}  // namespace pedigree::reports
