// The witness-policy check for reports that read the newest checkpoint rather than prove
// entries against one (report batch, report audit). See ../../../../docs/reports.md.
#pragma once

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/policy.h"

namespace pedigree::reports {

// Evaluates `policy`'s quorum on the report's log.checkpoint (the newest signed checkpoint
// note) and adds the check checkpoint.quorum and log.quorum. When the quorum is not met (or a
// policy witness's cosignature fails, or the report holds no checkpoint) the check fails, the
// failure checkpoint.quorum is added, and the verdict becomes FAILED with a summary naming
// who cosigned and what the quorum needs.
void AddQuorumCheck(JsonValue& report, const log::Policy& policy);

}  // namespace pedigree::reports
