// A trial dataset as keyed records with one canonical byte form per record: what the
// seal commits to. Parsed from files by pedigree/scanner/trial_data.h.
// Key rules and the canonical form: ../../../../../docs/trial-data.md
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pedigree::provenance {

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

}  // namespace pedigree::provenance
