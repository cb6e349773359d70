// Trial-data submissions (CDISC Dataset-JSON v1.1 as JSON or NDJSON, and RFC 4180 CSV)
// turned into keyed records with a canonical byte form per record.
// Formats, key rules, the canonical form and every error code: ../../../../docs/trial-data.md
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/provenance/trial_dataset.h"

namespace pedigree::scanner {

// The parsers produce the model's dataset types (pedigree/provenance/trial_dataset.h).
using provenance::Column;
using provenance::Dataset;
using provenance::Record;
using provenance::Value;
using provenance::ValueType;

struct TrialParseOptions {
  // Unquoted CSV fields equal to one of these are nulls. A quoted field is never null.
  std::vector<std::string> null_markers = {"", "NA", "."};
  // Domain to use when the data does not name one; when both do and differ:
  // trial.schema_mismatch.
  std::string domain;
  // When set, every record's STUDYID must equal it (trial.wrong_study).
  std::string expected_study_id;
  // When set, the file's columns must be exactly these names (in any order) and, where both
  // give one, the same dataType (trial.schema_mismatch). CSV columns take their metadata
  // from here, so typed columns are checked and typed as in Dataset-JSON.
  std::optional<std::vector<Column>> expected_columns;
  // When non-empty, these column names form the key instead of the default rule.
  std::vector<std::string> key_columns;
};

// Dataset-JSON v1.1, one JSON object with "columns" and "rows".
[[nodiscard]] Result<Dataset> ParseDatasetJson(std::string_view bytes,
                                               const TrialParseOptions& options = {});
// Dataset-JSON v1.1 NDJSON: line 1 the metadata object (with "columns"), each further line
// one row array. LF or CRLF line ends; one final line end is optional.
[[nodiscard]] Result<Dataset> ParseDatasetNdjson(std::string_view bytes,
                                                 const TrialParseOptions& options = {});
// RFC 4180 CSV with a header row; UTF-8 with an optional BOM; LF or CRLF.
[[nodiscard]] Result<Dataset> ParseCsv(std::string_view bytes,
                                       const TrialParseOptions& options = {});
// Reads `path` and picks the parser by extension (.json, .ndjson/.jsonl, .csv), else by
// content. The file stem (e.g. "ae") supplies the domain when nothing else does.
[[nodiscard]] Result<Dataset> ParseTrialFile(const std::filesystem::path& path,
                                             const TrialParseOptions& options = {});

}  // namespace pedigree::scanner
