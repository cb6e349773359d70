// The offline bundle "pedigree-bundle/v2": one JSON file holding a PackEvidence, each entry with
// its inclusion proof in C2SP tlog-proof form, and the log's signed evidence index
// (evidence_index.h), so that a pack report, and the completeness of its evidence, can be
// verified with no database and no network. "pedigree-bundle/v1" (no index) is still read; its
// report warns that completeness is not proven. Format: ../../../../docs/reports.md, "Offline
// bundle format".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports {

inline constexpr std::string_view kBundleFormat = "pedigree-bundle/v2";
inline constexpr std::string_view kBundleFormatV1 = "pedigree-bundle/v1";
inline constexpr std::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";

// A parsed C2SP tlog-proof: optional extra data, the entry index, the inclusion path and the
// checkpoint note (with its signatures) the path leads to.
struct TlogProof {
  std::vector<uint8_t> extra;  // empty when the proof has no "extra" line
  uint64_t index = 0;
  std::vector<Hash> path;
  std::string checkpoint;
};

// "c2sp.org/tlog-proof@v1\n[extra B64\n]index N\nB64\n...\n\n" + checkpoint note.
std::string FormatTlogProof(const TlogProof& proof);
// Strict parse of FormatTlogProof's output. Errors: bundle.bad_proof (with line and the field
// "header", "extra", "index", "path" or "checkpoint").
[[nodiscard]] Result<TlogProof> ParseTlogProof(std::string_view text);

// The bundle JSON text (canonical JSON followed by a newline) for `evidence`: v2 with its
// evidence index, v1 when the evidence has none.
std::string WriteBundle(const PackEvidence& evidence);

// Parses a v2 or v1 bundle. Structural errors only (the cryptography, and the evidence index's
// content, are VerifyPack's job): bundle.json (not JSON; offset and line/column), bundle.format
// (wrong or missing "format"; a v1 bundle with an evidence index),
// bundle.missing_field / bundle.bad_field (field names the member, e.g. "entries[3].proof"),
// bundle.bad_proof (a tlog-proof that does not parse), bundle.proof_index (a proof's index is not
// its entry's), bundle.proof_checkpoint (a proof names another checkpoint than the bundle's),
// bundle.order (entry indices not strictly ascending).
[[nodiscard]] Result<PackEvidence> ReadBundle(std::string_view bytes);

}  // namespace pedigree::reports
