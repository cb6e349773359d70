// The trial report (schema "pedigree-report/v1", report "trial"): the trial's registration,
// its protocol seal and amendments, whether the seal precedes the first enrolment, the outcome
// check of a publication, and per domain the lock/unlock history, seals, redactions and
// submissions, every one of those entries cryptographically verified (signature, signer key
// valid at the event time, inclusion in a signed checkpoint consistent with the newest), plus
// the comparison of candidate datasets with their seals. Checks and the verdict rule:
// ../../../../docs/reports.md ("Trial report").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/trial_seal.h"

namespace pedigree::reports {

// The outcomes a publication (or clinical study report) reports.
struct ReportedOutcomes {
  std::vector<std::string> primary;
  std::vector<std::string> secondary;
};

// The result of comparing a candidate dataset with a domain's seal (CompareDataset, e.g. run
// by the sponsor's store), as the report's caller obtained it.
struct DomainComparison {
  std::string domain;
  provenance::DatasetDiff diff;
  provenance::SealSummary seal;  // the seal the comparison was made against
  std::string candidate_file;    // the candidate's file name, for display only
};

struct TrialReportInputs {
  std::optional<ReportedOutcomes> reported_outcomes;
  std::vector<DomainComparison> comparisons;
  int64_t generated_at = 0;  // unix seconds
};

// Builds and verifies the trial report of `trial_id` from a ledger with the provenance model
// (the trial tables say which entries to fetch; everything shown is read from the verified
// entries themselves). Broken evidence is a FAILED verdict naming the index, not an error;
// outcome switching, a candidate dataset that differs from its seal, or a comparison made
// against a seal the ledger does not hold are SUSPECT. May sign a checkpoint when none covers
// the trial's newest entry. Errors: report.no_such_trial, report.unknown_domain (a comparison
// for a domain the trial never submitted to), storage.*.
[[nodiscard]] Result<JsonValue> TrialReport(log::Ledger& ledger, std::string_view trial_id,
                                            const TrialReportInputs& inputs);

// A readable plain-text rendering of a trial report made by TrialReport.
std::string RenderTrialText(const JsonValue& report);

}  // namespace pedigree::reports
