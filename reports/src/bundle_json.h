// The bundle reader on JSON already parsed, for files that embed a bundle's evidence members
// (a participant's receipt, receipt.h). Private to reports/.
#pragma once

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports::internal {

// ReadBundle after its JSON parse: the same checks and bundle.* codes.
[[nodiscard]] Result<PackEvidence> ReadBundleJson(const JsonValue& bundle);

}  // namespace pedigree::reports::internal
