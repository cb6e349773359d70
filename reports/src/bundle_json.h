// The bundle's evidence members written into, and read from, JSON already built or parsed, for
// files that embed a bundle's evidence members (a participant's receipt, receipt.h). Private to
// reports/.
#pragma once

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports::internal {

// ReadBundle after its JSON parse: the same checks and bundle.* codes.
[[nodiscard]] Result<PackEvidence> ReadBundleJson(const JsonValue& bundle);

// Sets the evidence members a bundle and a receipt share on `out`: authorityKey, checkpoint,
// entries (each with its tlog-proof), latestCheckpoint + consistency when the evidence has
// them, evidenceIndex + evidenceIndexSignature when it has an index.
void SetEvidenceMembers(JsonValue& out, const PackEvidence& evidence);

}  // namespace pedigree::reports::internal
