// The container report: a case's or pallet's (SSCC) history verified like a pack's — signed
// entries, inclusion proofs against one checkpoint, the registry, the log's signed evidence
// index — and replayed for its contents over time (aggregations, disaggregations, at any
// depth), its custody (shipments and receipts of it or of a pallet holding it) and a verdict.
// Schema "pedigree-report/v1", report "container"; see ../../../../docs/reports.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/ledger.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports {

// The canonical id of a container: its GS1 Digital Link URI https://id.gs1.org/00/{sscc}.
std::string ContainerUri(const provenance::Sscc& sscc);

// The evidence for the container named by `code` (any form ParseContainerCode takes): its
// history (ProvenanceView::ContainerHistory) and the registry entries of every organisation
// that signed or received one of its entries, proved as GatherPackEvidence proves a pack's,
// with the signed evidence index. `pack` holds ContainerUri. Errors: gs1.*,
// report.not_a_container, report.no_such_container, storage.*.
[[nodiscard]] Result<PackEvidence> GatherContainerEvidence(log::Ledger& ledger,
                                                           std::string_view code);
// The indices GatherContainerEvidence selects among the first `size` entries, ascending.
[[nodiscard]] Result<std::vector<uint64_t>> SelectContainerEvidence(log::Ledger& ledger,
                                                                    std::string_view code,
                                                                    uint64_t size);

// Verifies container evidence and returns the report; never fails (as VerifyPack).
JsonValue VerifyContainer(const PackEvidence& evidence, const TrustAnchors& anchors,
                          int64_t generated_at);

}  // namespace pedigree::reports
