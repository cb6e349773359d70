#include "pedigree/scanner/trial_data.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <fstream>
#include <iterator>
#include <set>
#include <unordered_map>

#include "pedigree/base/canonical_json.h"
#include "trial_json.h"

namespace pedigree::scanner {
namespace {

using detail::JsonKind;
using detail::JsonReader;
using detail::TextPosition;

constexpr std::string_view kDataTypes[] = {"string",  "integer",  "decimal", "float", "double",
                                           "boolean", "datetime", "date",    "time",  "URI"};

Error TrialError(std::string code, std::string message, TextPosition at, std::string field = {}) {
  Error e = Error(std::move(code), std::move(message)).at_line_column(at.line, at.column);
  return field.empty() ? e : e.at_field(std::move(field));
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  }
  return s;
}

bool IsBlank(std::string_view s) {
  return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
}

// What the format-specific readers learned besides columns and records.
struct SourceFacts {
  std::string declared_domain;  // Dataset-JSON "name"
  TextPosition declared_domain_at;
  std::vector<TextPosition> column_at;  // where each column is declared
  TextPosition header_at;               // where "column is missing" errors point
  bool columns_from_schema = false;     // CSV: take metadata from expected_columns
  std::string_view fallback_domain;     // e.g. the file stem
};

// ---- value checks ------------------------------------------------------------------------

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsIntegerText(std::string_view s) {
  if (s.starts_with('-')) s.remove_prefix(1);
  return AllDigits(s);
}

// -?d+(.d+)? with leading zeros allowed; no exponent, no thousands separators.
bool IsDecimalText(std::string_view s) {
  if (s.starts_with('-')) s.remove_prefix(1);
  const size_t dot = s.find('.');
  if (dot == std::string_view::npos) return AllDigits(s);
  return AllDigits(s.substr(0, dot)) && AllDigits(s.substr(dot + 1));
}

// The JSON number grammar of RFC 8259 §6.
bool IsJsonNumberText(std::string_view s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t from = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i - from;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

int TwoDigits(std::string_view s, size_t at) {
  if (at + 2 > s.size() || !AllDigits(s.substr(at, 2))) return -1;
  return (s[at] - '0') * 10 + (s[at + 1] - '0');
}

// Length of the ISO 8601 (extended) date prefix YYYY, YYYY-MM or YYYY-MM-DD of `s`, 0 if none;
// `complete` says whether the day is there.
size_t IsoDatePrefix(std::string_view s, bool& complete) {
  complete = false;
  if (s.size() < 4 || !AllDigits(s.substr(0, 4))) return 0;
  if (s.size() == 4 || s[4] != '-') return 4;
  const int month = TwoDigits(s, 5);
  if (month < 1 || month > 12) return 0;
  if (s.size() == 7 || s[7] != '-') return 7;
  const int day = TwoDigits(s, 8);
  const int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const int max_day = month == 2 && leap ? 29 : kDays[month - 1];
  if (day < 1 || day > max_day) return 0;
  complete = true;
  return 10;
}

// hh, hh:mm, hh:mm:ss or hh:mm:ss.f+, then optionally Z or ±hh:mm.
bool IsIsoTime(std::string_view s) {
  const int hour = TwoDigits(s, 0);
  if (hour < 0 || hour > 23) return false;
  size_t i = 2;
  if (i < s.size() && s[i] == ':') {
    const int minute = TwoDigits(s, i + 1);
    if (minute < 0 || minute > 59) return false;
    i += 3;
    if (i < s.size() && s[i] == ':') {
      const int second = TwoDigits(s, i + 1);
      if (second < 0 || second > 60) return false;  // 60: leap second
      i += 3;
      if (i < s.size() && s[i] == '.') {
        const size_t from = ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == from) return false;
      }
    }
  }
  if (i == s.size()) return true;
  if (s[i] == 'Z') return i + 1 == s.size();
  if (s[i] != '+' && s[i] != '-') return false;
  const int oh = TwoDigits(s, i + 1);
  const int om = TwoDigits(s, i + 4);
  return i + 6 == s.size() && s[i + 3] == ':' && oh >= 0 && oh <= 14 && om >= 0 && om <= 59;
}

bool IsIsoDate(std::string_view s) {
  bool complete;
  return IsoDatePrefix(s, complete) == s.size() && !s.empty();
}

bool IsIsoDateTime(std::string_view s) {
  bool complete;
  const size_t n = IsoDatePrefix(s, complete);
  if (n == 0) return false;
  if (n == s.size()) return true;
  return complete && s[n] == 'T' && IsIsoTime(s.substr(n + 1));
}

// A column's dataType, decided once per dataset rather than once per value.
enum class Kind { kAny, kString, kInteger, kDecimal, kFloat, kBoolean, kDate, kDateTime, kTime };

Kind KindOf(const std::string& type) {
  if (type == "string" || type == "URI") return Kind::kString;
  if (type == "integer") return Kind::kInteger;
  if (type == "decimal") return Kind::kDecimal;
  if (type == "float" || type == "double") return Kind::kFloat;
  if (type == "boolean") return Kind::kBoolean;
  if (type == "date") return Kind::kDate;
  if (type == "datetime") return Kind::kDateTime;
  if (type == "time") return Kind::kTime;
  return Kind::kAny;
}

// Why a value does not fit its column, or nullptr when it does.
const char* Misfit(Kind kind, const Value& value) {
  const bool numeric = kind == Kind::kInteger || kind == Kind::kDecimal || kind == Kind::kFloat;
  if (value.type == ValueType::kNumber && !numeric) return "is a JSON number";
  if (value.type == ValueType::kBoolean && kind != Kind::kBoolean) return "is a JSON boolean";
  const std::string_view text = value.text;
  switch (kind) {
    case Kind::kAny:
    case Kind::kString:
      return nullptr;
    case Kind::kInteger:
      return IsIntegerText(text) ? nullptr : "is not an integer";
    case Kind::kDecimal:
      return IsDecimalText(text) ? nullptr : "is not a decimal (digits with an optional '.' part)";
    case Kind::kFloat:
      return IsJsonNumberText(text) ? nullptr : "is not a number";
    case Kind::kBoolean:
      return text == "true" || text == "false" ? nullptr : "is not true or false";
    case Kind::kDate:
      return text.empty() || IsIsoDate(text)
                 ? nullptr
                 : "is not an ISO 8601 date (YYYY, YYYY-MM or YYYY-MM-DD)";
    case Kind::kDateTime:
      return text.empty() || IsIsoDateTime(text) ? nullptr : "is not an ISO 8601 date or date-time";
    case Kind::kTime:
      return text.empty() || IsIsoTime(text) ? nullptr : "is not an ISO 8601 time";
  }
  return nullptr;
}

// Checks one value against its column's dataType; CSV values of number and boolean columns
// take that JSON type here.
Status CheckValue(const Column& column, Kind kind, Value& value, const Record& record) {
  if (value.is_null()) return Ok();
  if (const char* why = Misfit(kind, value)) {
    const TextPosition at{record.line + value.line_offset, value.column};
    return Fail(TrialError("trial.bad_value",
                           "value " + Quote(value.text) + " in column " + column.name + " (" +
                               column.data_type + ") at line " + std::to_string(at.line) +
                               " column " + std::to_string(at.column) + " " + why,
                           at, column.name));
  }
  if (value.type == ValueType::kString) {
    if (kind == Kind::kInteger || kind == Kind::kFloat) value.type = ValueType::kNumber;
    if (kind == Kind::kBoolean) value.type = ValueType::kBoolean;
  }
  return Ok();
}

// ---- key rules --------------------------------------------------------------------------

std::optional<size_t> FindColumn(const Dataset& ds, std::string_view name) {
  for (size_t i = 0; i < ds.columns.size(); ++i) {
    if (ds.columns[i].name == name) return i;
  }
  return std::nullopt;
}

// Domains whose records carry no --SEQ of their own.
bool DomainHasNoSequence(std::string_view domain) {
  return domain.empty() || domain == "DM" || domain.starts_with("SUPP") || domain == "RELREC" ||
         domain.starts_with("AD");
}

Status ChooseKeyColumns(Dataset& ds, const SourceFacts& facts, const TrialParseOptions& options) {
  const auto missing = [&](const std::string& name, const std::string& rule) {
    return Fail(TrialError("trial.missing_key_column",
                           "the " + (ds.domain.empty() ? std::string("") : ds.domain + " ") +
                               "dataset has no " + name + " column; its records are keyed by " +
                               rule,
                           facts.header_at, name));
  };
  ds.key_columns.clear();
  if (!options.key_columns.empty()) {
    std::string rule;
    for (const auto& name : options.key_columns) rule += (rule.empty() ? "" : ", ") + name;
    for (const auto& name : options.key_columns) {
      const auto index = FindColumn(ds, name);
      if (!index) return missing(name, rule);
      ds.key_columns.push_back(*index);
    }
    return Ok();
  }
  const std::string seq_name = ds.domain.empty() ? std::string() : ds.domain + "SEQ";
  const auto studyid = FindColumn(ds, "STUDYID");
  const auto usubjid = FindColumn(ds, "USUBJID");
  const auto seq = seq_name.empty() ? std::nullopt : FindColumn(ds, seq_name);
  if (studyid && usubjid && seq) {
    ds.key_columns = {*studyid, *usubjid, *seq};
    return Ok();
  }
  std::vector<std::pair<int, size_t>> declared;
  for (size_t i = 0; i < ds.columns.size(); ++i) {
    if (ds.columns[i].key_sequence) declared.emplace_back(*ds.columns[i].key_sequence, i);
  }
  if (!declared.empty()) {
    // (keySequence, column index) pairs: equal sequences keep column order.
    std::sort(declared.begin(), declared.end());
    for (const auto& [sequence, index] : declared) ds.key_columns.push_back(index);
    return Ok();
  }
  const bool needs_seq = !DomainHasNoSequence(ds.domain);
  const std::string rule = needs_seq ? "STUDYID, USUBJID, " + seq_name : "STUDYID, USUBJID";
  if (!studyid) return missing("STUDYID", rule);
  if (!usubjid) return missing("USUBJID", rule);
  if (needs_seq) return missing(seq_name, rule);
  ds.key_columns = {*studyid, *usubjid};
  return Ok();
}

// ---- the checks every format shares ----------------------------------------------------------

Status FinishDataset(Dataset& ds, const SourceFacts& facts, const TrialParseOptions& options) {
  const auto column_at = [&](size_t i) {
    return i < facts.column_at.size() ? facts.column_at[i] : facts.header_at;
  };
  // Column names are unique.
  {
    std::unordered_map<std::string_view, size_t> seen;
    for (size_t i = 0; i < ds.columns.size(); ++i) {
      auto [it, inserted] = seen.emplace(ds.columns[i].name, i);
      if (!inserted) {
        const TextPosition first = column_at(it->second);
        return Fail(TrialError("trial.duplicate_column",
                               "column " + ds.columns[i].name + " appears twice (first at line " +
                                   std::to_string(first.line) + " column " +
                                   std::to_string(first.column) + ")",
                               column_at(i), ds.columns[i].name));
      }
    }
  }
  // The declared schema.
  if (options.expected_columns) {
    const auto& expected = *options.expected_columns;
    for (size_t i = 0; i < ds.columns.size(); ++i) {
      Column& column = ds.columns[i];
      const auto it = std::find_if(expected.begin(), expected.end(),
                                   [&](const Column& c) { return c.name == column.name; });
      if (it == expected.end()) {
        return Fail(TrialError("trial.schema_mismatch",
                               "column " + column.name + " is not in the declared schema",
                               column_at(i), column.name));
      }
      if (facts.columns_from_schema) {
        column = *it;
      } else if (!it->data_type.empty() && it->data_type != column.data_type) {
        return Fail(TrialError("trial.schema_mismatch",
                               "column " + column.name + " has dataType " + column.data_type +
                                   " but the declared schema says " + it->data_type,
                               column_at(i), column.name));
      }
    }
    for (const Column& c : expected) {
      if (!FindColumn(ds, c.name)) {
        return Fail(TrialError("trial.schema_mismatch",
                               "column " + c.name + " of the declared schema is missing",
                               facts.header_at, c.name));
      }
    }
  }
  if (ds.records.empty()) {
    return Fail(TrialError("trial.empty_dataset", "the dataset has no records", facts.header_at));
  }
  // Row shape and values.
  std::vector<Kind> kinds;
  for (const Column& c : ds.columns) kinds.push_back(KindOf(c.data_type));
  for (Record& record : ds.records) {
    if (record.values.size() != ds.columns.size()) {
      const bool extra = record.values.size() > ds.columns.size();
      TextPosition at{record.line, 1};
      if (extra) {
        const Value& v = record.values[ds.columns.size()];
        at = {record.line + v.line_offset, v.column};
      } else if (!record.values.empty()) {
        at = {record.line + record.values.back().line_offset, record.values.back().column};
      }
      return Fail(TrialError("trial.ragged_row",
                             "row at line " + std::to_string(record.line) + ": expected " +
                                 std::to_string(ds.columns.size()) + " fields, got " +
                                 std::to_string(record.values.size()),
                             at, extra ? std::string() : ds.columns[record.values.size()].name));
    }
    for (size_t i = 0; i < record.values.size(); ++i) {
      if (auto s = CheckValue(ds.columns[i], kinds[i], record.values[i], record); !s) return s;
    }
  }
  // Domain: what the data says, else the options, else the file name.
  std::string domain = Upper(facts.declared_domain);
  TextPosition domain_at = facts.declared_domain_at;
  if (domain.empty()) {
    if (const auto d = FindColumn(ds, "DOMAIN")) {
      const Record& first = ds.records.front();
      domain = Upper(first.values[*d].text);
      domain_at = {first.line + first.values[*d].line_offset, first.values[*d].column};
    }
  }
  if (!options.domain.empty()) {
    if (!domain.empty() && Upper(options.domain) != domain) {
      return Fail(
          TrialError("trial.schema_mismatch",
                     "expected domain " + Upper(options.domain) + ", the data says " + domain,
                     domain_at, "DOMAIN"));
    }
    domain = Upper(options.domain);
  }
  if (domain.empty()) domain = Upper(std::string(facts.fallback_domain));
  ds.domain = domain;

  if (auto s = ChooseKeyColumns(ds, facts, options); !s) return s;

  // Study: every record names the same one, and the expected one when given.
  const auto studyid = FindColumn(ds, "STUDYID");
  ds.study_id = options.expected_study_id;
  if (studyid) {
    const Record& first = ds.records.front();
    const std::string& first_study = first.values[*studyid].text;
    for (const Record& record : ds.records) {
      const Value& v = record.values[*studyid];
      const TextPosition at{record.line + v.line_offset, v.column};
      if (!v.is_null() && !options.expected_study_id.empty() &&
          v.text != options.expected_study_id) {
        return Fail(TrialError("trial.wrong_study",
                               "expected study " + options.expected_study_id + ", found " +
                                   Quote(v.text) + " at line " + std::to_string(at.line),
                               at, "STUDYID"));
      }
      if (!v.is_null() && !first.values[*studyid].is_null() && v.text != first_study) {
        return Fail(TrialError("trial.wrong_study",
                               "STUDYID " + Quote(v.text) + " at line " + std::to_string(at.line) +
                                   " differs from " + Quote(first_study) + " at line " +
                                   std::to_string(first.line),
                               at, "STUDYID"));
      }
    }
    ds.study_id = first_study;
  }

  // Keys: never null, never repeated.
  std::string key_names;
  for (size_t k : ds.key_columns) key_names += (key_names.empty() ? "" : "|") + ds.columns[k].name;
  // An open-addressing table of record indexes keyed by a hash of the key texts finds
  // repeats without building a string per record; equal hashes are confirmed on the texts.
  // Records go in in file order, so the first repeat found is the first in the file.
  const auto same_key = [&](size_t a, size_t b) {
    for (size_t k : ds.key_columns) {
      if (ds.records[a].values[k].text != ds.records[b].values[k].text) return false;
    }
    return true;
  };
  size_t capacity = 16;
  while (capacity < 2 * ds.records.size()) capacity *= 2;
  std::vector<std::pair<uint64_t, size_t>> slots(capacity, {0, SIZE_MAX});
  std::optional<std::pair<size_t, size_t>> repeat;
  for (size_t r = 0; r < ds.records.size() && !repeat; ++r) {
    const Record& record = ds.records[r];
    uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (size_t k : ds.key_columns) {
      const Value& v = record.values[k];
      if (v.is_null()) {
        const TextPosition at{record.line + v.line_offset, v.column};
        return Fail(TrialError(
            "trial.bad_value",
            "key column " + ds.columns[k].name + " is null at line " + std::to_string(at.line), at,
            ds.columns[k].name));
      }
      for (const char c : v.text) h = (h ^ uint8_t(c)) * 0x100000001b3ULL;
      h = (h ^ 0xFF) * 0x100000001b3ULL;  // 0xFF never occurs in UTF-8 text
    }
    for (size_t i = (h ^ (h >> 29)) & (capacity - 1);; i = (i + 1) & (capacity - 1)) {
      auto& [slot_hash, slot_record] = slots[i];
      if (slot_record == SIZE_MAX) {
        slots[i] = {h, r};
        break;
      }
      if (slot_hash == h && same_key(slot_record, r)) {
        repeat = {slot_record, r};
        break;
      }
    }
  }
  if (repeat) {
    const Record& first = ds.records[repeat->first];
    const Record& record = ds.records[repeat->second];
    const Value& v = record.values[ds.key_columns.front()];
    return Fail(TrialError("trial.duplicate_key",
                           "key " + key_names + " = " + RecordKey(ds, repeat->second) +
                               " appears at line " + std::to_string(first.line) +
                               " and again at line " + std::to_string(record.line),
                           {record.line + v.line_offset, v.column}, key_names));
  }
  return Ok();
}

// ---- Dataset-JSON --------------------------------------------------------------------------

struct JsonMetadata {
  std::set<std::string, std::less<>> present;
  std::optional<uint64_t> records;
  TextPosition records_at;
  TextPosition object_at;
  std::string version;
  TextPosition version_at;
};

Error BadMetadata(std::string message, TextPosition at, std::string field = {}) {
  return TrialError("trial.bad_metadata", std::move(message), at, std::move(field));
}

Status ReadString(JsonReader& reader, std::string_view what, std::string& out) {
  const TextPosition at = reader.Position();
  JsonKind kind;
  if (auto s = reader.ReadScalar(kind, out); !s) return s;
  if (kind != JsonKind::kString) {
    return Fail(BadMetadata(std::string(what) + " must be a JSON string", at, std::string(what)));
  }
  return Ok();
}

Result<uint64_t> ReadCount(JsonReader& reader, std::string_view what, uint64_t minimum) {
  const TextPosition at = reader.Position();
  JsonKind kind;
  std::string text;
  if (auto s = reader.ReadScalar(kind, text); !s) return std::unexpected(s.error());
  if (kind != JsonKind::kNumber || !AllDigits(text) || text.size() > 12 ||
      (text.size() > 1 && text[0] == '0') || std::stoull(text) < minimum) {
    return Fail(BadMetadata(std::string(what) + " must be an integer of at least " +
                                std::to_string(minimum) + ", found " + text,
                            at, std::string(what)));
  }
  return std::stoull(text);
}

Status ParseColumns(JsonReader& reader, Dataset& ds, SourceFacts& facts) {
  auto kind = reader.Peek();
  if (!kind) return std::unexpected(kind.error());
  if (*kind != JsonKind::kArray) {
    return Fail(BadMetadata("columns must be an array", reader.Position(), "columns"));
  }
  if (auto s = reader.EnterArray(); !s) return s;
  std::string key;
  while (true) {
    auto more = reader.NextElement();
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    const TextPosition at = reader.Position();
    auto element = reader.Peek();
    if (!element) return std::unexpected(element.error());
    if (*element != JsonKind::kObject) {
      return Fail(BadMetadata("each entry of columns must be an object", at, "columns"));
    }
    if (auto s = reader.EnterObject(); !s) return s;
    Column column;
    bool has_oid = false, has_name = false, has_label = false, has_type = false;
    while (true) {
      auto member = reader.NextMember(key);
      if (!member) return std::unexpected(member.error());
      if (!*member) break;
      Status s;
      if (key == "itemOID") {
        s = ReadString(reader, key, column.oid);
        has_oid = true;
      } else if (key == "name") {
        s = ReadString(reader, key, column.name);
        has_name = true;
      } else if (key == "label") {
        s = ReadString(reader, key, column.label);
        has_label = true;
      } else if (key == "dataType") {
        const TextPosition type_at = reader.Position();
        s = ReadString(reader, key, column.data_type);
        has_type = true;
        if (s && std::find(std::begin(kDataTypes), std::end(kDataTypes), column.data_type) ==
                     std::end(kDataTypes)) {
          return Fail(
              BadMetadata("dataType " + Quote(column.data_type) + " is not a Dataset-JSON 1.1 type",
                          type_at, "dataType"));
        }
      } else if (key == "length" || key == "keySequence") {
        auto n = ReadCount(reader, key, 1);
        if (!n) return std::unexpected(n.error());
        if (*n > 1'000'000'000) {
          return Fail(BadMetadata(key + " is too large", reader.KeyPosition(), key));
        }
        (key == "length" ? column.length : column.key_sequence) = int(*n);
      } else {
        s = reader.Skip();
      }
      if (!s) return s;
    }
    const char* lacking = !has_oid     ? "itemOID"
                          : !has_name  ? "name"
                          : !has_label ? "label"
                          : !has_type  ? "dataType"
                                       : nullptr;
    if (lacking) {
      return Fail(BadMetadata(
          "column " + std::to_string(ds.columns.size() + 1) + " has no " + lacking, at, lacking));
    }
    if (column.name.empty()) {
      return Fail(BadMetadata(
          "column " + std::to_string(ds.columns.size() + 1) + " has an empty name", at, "name"));
    }
    ds.columns.push_back(std::move(column));
    facts.column_at.push_back(at);
  }
  return Ok();
}

// Handles one top-level member other than "rows"; unknown members are skipped.
Status ParseMetadataMember(JsonReader& reader, const std::string& key, JsonMetadata& meta,
                           Dataset& ds, SourceFacts& facts) {
  meta.present.insert(key);
  const TextPosition at = reader.Position();
  if (key == "columns") {
    facts.header_at = reader.KeyPosition();
    return ParseColumns(reader, ds, facts);
  }
  if (key == "records") {
    meta.records_at = reader.KeyPosition();
    auto n = ReadCount(reader, key, 0);
    if (!n) return std::unexpected(n.error());
    meta.records = *n;
    return Ok();
  }
  if (key == "name") {
    facts.declared_domain_at = at;
    return ReadString(reader, key, facts.declared_domain);
  }
  if (key == "datasetJSONVersion") {
    meta.version_at = at;
    return ReadString(reader, key, meta.version);
  }
  if (key == "datasetJSONCreationDateTime" || key == "itemGroupOID" || key == "label" ||
      key == "studyOID" || key == "fileOID" || key == "originator" ||
      key == "dbLastModifiedDateTime" || key == "metaDataVersionOID" || key == "metaDataRef") {
    std::string ignored;
    return ReadString(reader, key, ignored);
  }
  return reader.Skip();
}

Status ParseRow(JsonReader& reader, Record& record, size_t expected_fields) {
  const TextPosition at = reader.Position();
  auto kind = reader.Peek();
  if (!kind) return std::unexpected(kind.error());
  if (*kind != JsonKind::kArray) {
    return Fail(reader.ErrorAt(reader.Position(), "a row must be a JSON array"));
  }
  record.line = at.line;
  record.values.reserve(expected_fields);
  return reader.ReadScalarArray(
      [&](TextPosition value_at) -> std::string& {
        Value& value = record.values.emplace_back();
        value.line_offset = uint32_t(value_at.line - record.line);
        value.column = uint32_t(std::min<uint64_t>(value_at.column, UINT32_MAX));
        return value.text;
      },
      [&](JsonKind scalar_kind) {
        Value& value = record.values.back();
        switch (scalar_kind) {
          case JsonKind::kNull:
            value.type = ValueType::kNull;
            break;
          case JsonKind::kString:
            value.type = ValueType::kString;
            break;
          case JsonKind::kNumber:
            value.type = ValueType::kNumber;
            break;
          default:
            value.type = ValueType::kBoolean;
            break;
        }
      },
      [](JsonKind nested, TextPosition value_at) {
        return TrialError("trial.bad_value",
                          std::string("a row value must be a string, number, boolean or null, "
                                      "not an ") +
                              (nested == JsonKind::kArray ? "array" : "object"),
                          value_at);
      });
}

// The checks on top-level attributes once the whole object (or NDJSON line 1) is read.
Status CheckMetadata(const JsonMetadata& meta) {
  for (std::string_view required : {"datasetJSONCreationDateTime", "datasetJSONVersion",
                                    "itemGroupOID", "records", "name", "label", "columns"}) {
    if (!meta.present.contains(required)) {
      return Fail(BadMetadata("the Dataset-JSON metadata has no " + std::string(required),
                              meta.object_at, std::string(required)));
    }
  }
  const std::string_view v = meta.version;
  const bool is_1_1 = v == "1.1" || (v.starts_with("1.1.") && AllDigits(v.substr(4)) &&
                                     (v.size() == 5 || v[4] != '0'));
  if (!is_1_1) {
    return Fail(BadMetadata("datasetJSONVersion is " + Quote(v) + "; this reader reads 1.1",
                            meta.version_at, "datasetJSONVersion"));
  }
  return Ok();
}

Status CheckRecordCount(const JsonMetadata& meta, const Dataset& ds) {
  if (meta.records && *meta.records != ds.records.size()) {
    return Fail(TrialError("trial.records_count_mismatch",
                           "records says " + std::to_string(*meta.records) + " but the file has " +
                               std::to_string(ds.records.size()) + " rows",
                           meta.records_at, "records"));
  }
  return Ok();
}

// The file's text without a UTF-8 BOM, refused unless it is valid UTF-8.
Result<std::string_view> Utf8Body(std::string_view bytes) {
  const std::string_view body = detail::StripBom(bytes);
  if (auto s = detail::CheckUtf8(body); !s) return std::unexpected(s.error());
  return body;
}

// The same for the JSON forms, which must also hold something.
Result<std::string_view> JsonBody(std::string_view bytes) {
  PEDIGREE_ASSIGN(body, Utf8Body(bytes));
  if (IsBlank(*body)) return Fail(TrialError("trial.empty_dataset", "the file is empty", {1, 1}));
  return body;
}

Result<Dataset> ParseJsonImpl(std::string_view bytes, const TrialParseOptions& options,
                              std::string_view fallback_domain) {
  PEDIGREE_ASSIGN(text, JsonBody(bytes));
  const std::string_view body = *text;
  Dataset ds;
  ds.source_format = "dataset-json";
  SourceFacts facts;
  facts.fallback_domain = fallback_domain;
  JsonMetadata meta;
  JsonReader reader(body);
  auto kind = reader.Peek();
  if (!kind) return std::unexpected(kind.error());
  meta.object_at = reader.Position();
  facts.header_at = meta.object_at;
  if (*kind != JsonKind::kObject) {
    return Fail(reader.ErrorAt(meta.object_at, "Dataset-JSON must be a JSON object"));
  }
  if (auto s = reader.EnterObject(); !s) return std::unexpected(s.error());
  std::string key;
  while (true) {
    auto more = reader.NextMember(key);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    if (key != "rows") {
      if (auto s = ParseMetadataMember(reader, key, meta, ds, facts); !s) {
        return std::unexpected(s.error());
      }
      continue;
    }
    auto rows_kind = reader.Peek();
    if (!rows_kind) return std::unexpected(rows_kind.error());
    if (*rows_kind != JsonKind::kArray) {
      return Fail(BadMetadata("rows must be an array", reader.Position(), "rows"));
    }
    if (auto s = reader.EnterArray(); !s) return std::unexpected(s.error());
    while (true) {
      auto row = reader.NextElement();
      if (!row) return std::unexpected(row.error());
      if (!*row) break;
      Record& record = ds.records.emplace_back();
      if (auto s = ParseRow(reader, record, ds.columns.size()); !s) {
        return std::unexpected(s.error());
      }
    }
  }
  if (auto s = reader.ExpectEnd(); !s) return std::unexpected(s.error());
  if (auto s = CheckMetadata(meta); !s) return std::unexpected(s.error());
  if (auto s = CheckRecordCount(meta, ds); !s) return std::unexpected(s.error());
  if (auto s = FinishDataset(ds, facts, options); !s) return std::unexpected(s.error());
  return ds;
}

Result<Dataset> ParseNdjsonImpl(std::string_view bytes, const TrialParseOptions& options,
                                std::string_view fallback_domain) {
  PEDIGREE_ASSIGN(text, JsonBody(bytes));
  const std::string_view body = *text;
  Dataset ds;
  ds.source_format = "dataset-ndjson";
  SourceFacts facts;
  facts.fallback_domain = fallback_domain;
  JsonMetadata meta;
  JsonReader reader;
  size_t pos = 0;
  uint64_t line = 0;
  std::string key;
  while (pos < body.size()) {
    size_t end = body.find('\n', pos);
    const bool last = end == std::string_view::npos;
    if (last) end = body.size();
    std::string_view text = body.substr(pos, end - pos);
    if (text.ends_with('\r')) text.remove_suffix(1);
    pos = last ? body.size() : end + 1;
    ++line;
    if (IsBlank(text)) {
      return Fail(TrialError(
          "trial.json",
          "line " + std::to_string(line) + " is empty; NDJSON has one JSON value on every line",
          {line, 1}));
    }
    reader.Reset(text, line);
    if (line == 1) {
      auto kind = reader.Peek();
      if (!kind) return std::unexpected(kind.error());
      meta.object_at = reader.Position();
      facts.header_at = meta.object_at;
      if (*kind != JsonKind::kObject) {
        return Fail(reader.ErrorAt(meta.object_at,
                                   "line 1 of Dataset-JSON NDJSON must be the metadata object"));
      }
      if (auto s = reader.EnterObject(); !s) return std::unexpected(s.error());
      while (true) {
        auto more = reader.NextMember(key);
        if (!more) return std::unexpected(more.error());
        if (!*more) break;
        if (key == "rows") {
          return Fail(BadMetadata("the NDJSON metadata line must not hold rows",
                                  reader.KeyPosition(), "rows"));
        }
        if (auto s = ParseMetadataMember(reader, key, meta, ds, facts); !s) {
          return std::unexpected(s.error());
        }
      }
      if (auto s = reader.ExpectEnd(); !s) return std::unexpected(s.error());
      if (auto s = CheckMetadata(meta); !s) return std::unexpected(s.error());
      continue;
    }
    Record& record = ds.records.emplace_back();
    if (auto s = ParseRow(reader, record, ds.columns.size()); !s) {
      return std::unexpected(s.error());
    }
    if (auto s = reader.ExpectEnd(); !s) return std::unexpected(s.error());
  }
  if (auto s = CheckRecordCount(meta, ds); !s) return std::unexpected(s.error());
  if (auto s = FinishDataset(ds, facts, options); !s) return std::unexpected(s.error());
  return ds;
}

// ---- CSV -------------------------------------------------------------------------------

// The bytes that end or disturb an unquoted CSV field.
constexpr auto kCsvSpecial = [] {
  std::array<bool, 256> special{};
  special[uint8_t(',')] = special[uint8_t('"')] = special[uint8_t('\n')] = special[uint8_t('\r')] =
      true;
  return special;
}();

class CsvReader {
 public:
  CsvReader(std::string_view text, const TrialParseOptions& options)
      : text_(text), options_(options) {}

  bool AtEnd() const { return pos_ >= text_.size(); }

  // Reads one record into `values` (cleared first); skips lines that are entirely empty.
  // Returns false when the input ended before a record. `names` label errors by column.
  Result<bool> Next(std::vector<Value>& values, uint64_t& record_line, bool header,
                    const std::vector<Column>& names) {
    values.clear();
    while (!AtEnd() && (text_[pos_] == '\n' || text_.substr(pos_, 2) == "\r\n")) {
      pos_ += text_[pos_] == '\n' ? 1 : 2;
      NewLine();
    }
    if (AtEnd()) return false;
    record_line = line_;
    while (true) {
      Value& value = values.emplace_back();
      value.line_offset = uint32_t(line_ - record_line);
      value.column = uint32_t(std::min<uint64_t>(pos_ - line_start_ + 1, UINT32_MAX));
      const std::string_view field_name = values.size() <= names.size()
                                              ? std::string_view(names[values.size() - 1].name)
                                              : std::string_view();
      if (!AtEnd() && text_[pos_] == '"') {
        if (auto s = ReadQuoted(value, field_name); !s) return std::unexpected(s.error());
      } else {
        if (auto s = ReadPlain(value, header, field_name); !s) return std::unexpected(s.error());
      }
      if (AtEnd()) return true;
      const char c = text_[pos_];
      if (c == ',') {
        ++pos_;
        continue;
      }
      // ReadPlain and ReadQuoted stop only at ',', a line end or the end of input.
      pos_ += c == '\n' ? 1 : 2;
      NewLine();
      return true;
    }
  }

  TextPosition Position() const { return {line_, pos_ - line_start_ + 1}; }

 private:
  void NewLine() {
    ++line_;
    line_start_ = pos_;
  }

  bool AtLineEnd() const {
    return text_[pos_] == '\n' ||
           (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n');
  }

  Status ReadPlain(Value& value, bool header, std::string_view field_name) {
    const size_t start = pos_;
    while (!AtEnd()) {
      // Most bytes are ordinary; one table lookup clears them.
      if (!kCsvSpecial[uint8_t(text_[pos_])]) {
        ++pos_;
        continue;
      }
      const char c = text_[pos_];
      if (c == ',' || AtLineEnd()) break;
      if (c == '"') {
        return Fail(TrialError("trial.stray_quote",
                               "a '\"' inside an unquoted field; quote the whole field and "
                               "double the quote",
                               Position(), std::string(field_name)));
      }
      ++pos_;
    }
    value.text.assign(text_.data() + start, pos_ - start);
    value.type = ValueType::kString;
    if (!header && std::find(options_.null_markers.begin(), options_.null_markers.end(),
                             value.text) != options_.null_markers.end()) {
      value.type = ValueType::kNull;
      value.text.clear();
    }
    return Ok();
  }

  Status ReadQuoted(Value& value, std::string_view field_name) {
    const TextPosition open = Position();
    ++pos_;
    value.type = ValueType::kString;
    while (true) {
      const size_t start = pos_;
      while (!AtEnd() && (!kCsvSpecial[uint8_t(text_[pos_])] || text_[pos_] == ',')) ++pos_;
      value.text.append(text_.data() + start, pos_ - start);
      if (AtEnd()) {
        return Fail(TrialError("trial.unterminated_quote",
                               "the quote opened at line " + std::to_string(open.line) +
                                   " column " + std::to_string(open.column) + " is never closed",
                               open, std::string(field_name)));
      }
      const char c = text_[pos_];
      if (c == '"') {
        if (pos_ + 1 < text_.size() && text_[pos_ + 1] == '"') {
          value.text.push_back('"');
          pos_ += 2;
          continue;
        }
        ++pos_;
        break;
      }
      if (AtLineEnd()) {
        // Line breaks inside a field are stored as LF whatever the file uses, so that CRLF
        // and LF copies of a file give the same records.
        pos_ += c == '\n' ? 1 : 2;
        NewLine();
        value.text.push_back('\n');
        continue;
      }
      value.text.push_back('\r');
      ++pos_;
    }
    if (!AtEnd() && text_[pos_] != ',' && !AtLineEnd()) {
      return Fail(TrialError("trial.stray_quote",
                             "unexpected character after the closing quote of a field", Position(),
                             std::string(field_name)));
    }
    return Ok();
  }

  std::string_view text_;
  const TrialParseOptions& options_;
  size_t pos_ = 0;
  uint64_t line_ = 1;
  size_t line_start_ = 0;
};

Result<Dataset> ParseCsvImpl(std::string_view bytes, const TrialParseOptions& options,
                             std::string_view fallback_domain) {
  PEDIGREE_ASSIGN(text, Utf8Body(bytes));
  const std::string_view body = *text;
  Dataset ds;
  ds.source_format = "csv";
  SourceFacts facts;
  facts.fallback_domain = fallback_domain;
  facts.columns_from_schema = options.expected_columns.has_value();
  CsvReader reader(body, options);
  std::vector<Value> fields;
  uint64_t line = 0;
  auto header = reader.Next(fields, line, true, ds.columns);
  if (!header) return std::unexpected(header.error());
  if (!*header) return Fail(TrialError("trial.empty_dataset", "the file is empty", {1, 1}));
  facts.header_at = {line, 1};
  for (size_t i = 0; i < fields.size(); ++i) {
    const TextPosition at{line + fields[i].line_offset, fields[i].column};
    if (fields[i].text.empty()) {
      return Fail(TrialError("trial.schema_mismatch",
                             "header field " + std::to_string(i + 1) + " is empty", at));
    }
    Column column;
    column.name = std::move(fields[i].text);
    ds.columns.push_back(std::move(column));
    facts.column_at.push_back(at);
  }
  while (true) {
    Record record;
    record.values.reserve(ds.columns.size());
    auto more = reader.Next(record.values, record.line, false, ds.columns);
    if (!more) return std::unexpected(more.error());
    if (!*more) break;
    ds.records.push_back(std::move(record));
  }
  if (auto s = FinishDataset(ds, facts, options); !s) return std::unexpected(s.error());
  return ds;
}

}  // namespace

Result<Dataset> ParseDatasetJson(std::string_view bytes, const TrialParseOptions& options) {
  return ParseJsonImpl(bytes, options, {});
}

Result<Dataset> ParseDatasetNdjson(std::string_view bytes, const TrialParseOptions& options) {
  return ParseNdjsonImpl(bytes, options, {});
}

Result<Dataset> ParseCsv(std::string_view bytes, const TrialParseOptions& options) {
  return ParseCsvImpl(bytes, options, {});
}

Result<Dataset> ParseTrialFile(const std::filesystem::path& path,
                               const TrialParseOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("trial.io", "cannot open " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Fail("trial.io", "cannot read " + path.string());
  const std::string stem = path.stem().string();
  std::string extension = path.extension().string();
  for (char& c : extension) c = char(std::tolower(uint8_t(c)));
  Result<Dataset> result = [&]() -> Result<Dataset> {
    if (extension == ".json") return ParseJsonImpl(bytes, options, stem);
    if (extension == ".ndjson" || extension == ".jsonl") {
      return ParseNdjsonImpl(bytes, options, stem);
    }
    if (extension == ".csv") return ParseCsvImpl(bytes, options, stem);
    // By content: an object spanning several lines is JSON; an object on line 1 followed by
    // a line starting with '[' is NDJSON; anything else is CSV.
    const std::string_view body = detail::StripBom(bytes);
    const size_t first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || body[first] != '{') {
      return ParseCsvImpl(bytes, options, stem);
    }
    const size_t newline = body.find('\n', first);
    const size_t next = newline == std::string_view::npos
                            ? std::string_view::npos
                            : body.find_first_not_of(" \t\r", newline + 1);
    if (next != std::string_view::npos && body[next] == '[') {
      return ParseNdjsonImpl(bytes, options, stem);
    }
    return ParseJsonImpl(bytes, options, stem);
  }();
  if (!result) return std::unexpected(result.error().with_context(path.filename().string()));
  return result;
}

}  // namespace pedigree::scanner
