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

#include "pedigree/ledger/error.h"

namespace pedigree::scanner {

// One variable of a dataset. For CSV only `name` comes from the file; the rest is filled
// from TrialParseOptions::expected_columns when given.
struct Column {
  std::string oid;   // Dataset-JSON itemOID
  std::string name;  // variable name, e.g. USUBJID
  std::string label;
  std::string data_type;  // Dataset-JSON dataType: string, integer, decimal, float, double,
                          // boolean, datetime, date, time, URI; empty when unknown
  std::optional<int> length;
  std::optional<int> key_sequence;

  friend bool operator==(const Column&, const Column&) = default;
};

// The JSON type a value had in its source. CSV values are kString unless a declared
// integer/float/double/boolean column types them.
enum class ValueType : uint8_t { kNull, kString, kNumber, kBoolean };

// One cell. `text` is the value exactly as given (decoded JSON string, the source text of a
// JSON number, "true"/"false", the CSV field); it is empty for nulls. Numbers are never
// converted through a binary float. `column` and `line_offset` say where the value starts
// (1-based byte column, lines after Record::line) and take no part in equality.
struct Value {
  std::string text;
  ValueType type = ValueType::kNull;
  uint32_t line_offset = 0;
  uint32_t column = 0;

  bool is_null() const { return type == ValueType::kNull; }
  friend bool operator==(const Value& a, const Value& b) {
    return a.type == b.type && a.text == b.text;
  }
};

// One row; `line` is the 1-based source line the row starts on.
struct Record {
  std::vector<Value> values;  // one per Dataset::columns entry, in the same order
  uint64_t line = 0;

  friend bool operator==(const Record& a, const Record& b) { return a.values == b.values; }
};

// One domain dataset of one study, in source row order.
struct Dataset {
  std::string study_id;  // the STUDYID shared by every record
  std::string domain;    // e.g. DM, AE
  std::vector<Column> columns;
  std::vector<Record> records;
  // Indexes into `columns` that form the record key: STUDYID, USUBJID and the domain's
  // --SEQ (e.g. AESEQ) when present, otherwise as declared by keySequence.
  std::vector<size_t> key_columns;
  std::string source_format;  // "dataset-json", "dataset-ndjson" or "csv"
};

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

// The record's key: the key columns' texts joined by '|', with '\' and '|' inside a text
// written as "\\" and "\|", e.g. "CDISCPILOT01|01-701-1015|3". Requires record < size.
std::string RecordKey(const Dataset& dataset, size_t record);

// The canonical bytes of one record: an RFC 8785 JSON object mapping each column name to
// its value as a JSON string (numbers and booleans as their source text), or null; members
// sorted by UTF-16 code units of the name, no whitespace. Independent of row order, column
// order and line endings of the file. Requires record < size.
std::string CanonicalRecord(const Dataset& dataset, size_t record);

// CanonicalRecord for many records of one dataset without re-sorting the column names
// each time. `dataset` must outlive the encoder and keep its columns unchanged.
class CanonicalRecordEncoder {
 public:
  explicit CanonicalRecordEncoder(const Dataset& dataset);
  // Appends the canonical bytes of `record` to `out`. Requires record < size.
  void AppendTo(std::string& out, size_t record) const;
  std::string Encode(size_t record) const;

 private:
  const Dataset* dataset_;
  std::vector<size_t> order_;      // column indexes in canonical member order
  std::vector<std::string> keys_;  // the encoded `"name":` prefix per column index
};

}  // namespace pedigree::scanner
