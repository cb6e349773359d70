// The batch report (REPORT_SPEC "batch"; ../../../../docs/reports-html.md): packs per
// status, the alerts naming packs of the batch, recall reach (who holds which packs now)
// and the temperature excursions of shipments that carried them.
#pragma once

#include <string>
#include <string_view>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::reports {

// Builds the report from the derived tables through `view`. report.no_such_batch when
// the batch is not registered. Verdict: SUSPECT when the batch is recalled, withdrawn or
// expired, or any alert or excursion concerns it; VERIFIED otherwise (the batch report
// reads state; the audit report is what checks the log underneath).
[[nodiscard]] Result<JsonValue> BatchReport(provenance::ProvenanceView& view, std::string_view gtin,
                                            std::string_view lot);
// The same over the ledger in `ledger_dir`, read-only (a live node may hold it open).
[[nodiscard]] Result<JsonValue> BatchReport(const std::string& ledger_dir, std::string_view gtin,
                                            std::string_view lot);

}  // namespace pedigree::reports
