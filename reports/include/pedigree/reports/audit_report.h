// The whole-ledger audit report (REPORT_SPEC "audit"; ../../../../docs/reports-html.md):
// every leaf hash and stored tree hash recomputed from the entries, every entry's
// signature verified on all cores, every stored checkpoint's root, signed note and
// consistency with the newest checked, and the first divergent index named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::reports {

struct AuditOptions {
  // The log's note verifier key the checkpoints must be signed by. Empty: the ledger
  // directory's log.vkey (the report then says the key was not given independently).
  std::string log_verifier_key;
  size_t threads = 0;  // signature checks; 0 = all cores
  // Told entries audited of the total after each chunk of entries (for a progress line).
  std::function<void(uint64_t done, uint64_t total)> progress;
};

// Audits the ledger in `ledger_dir` read-only, without taking its writer lock, so it can
// run next to a live node. Findings (edited, swapped or deleted entries, replaced
// checkpoints, a database that no longer opens) make a FAILED report, not an error;
// errors are left for what stops the audit itself (no ledger there, an unreadable key).
[[nodiscard]] Result<JsonValue> AuditReport(const std::string& ledger_dir,
                                            const AuditOptions& options = {});

}  // namespace pedigree::reports
