// Trial-data parsers: the fixtures under sample_data/trials/fixtures hold the same DM and AE
// data as Dataset-JSON, NDJSON and CSV (written by hand-checked script, see
// docs/trial-data.md), plus broken copies for the error cases.
#include "pedigree/scanner/trial_data.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

namespace {

using pedigree::Error;
using pedigree::provenance::CanonicalRecord;
using pedigree::provenance::RecordKey;
using pedigree::scanner::Column;
using pedigree::scanner::Dataset;
using pedigree::scanner::ParseCsv;
using pedigree::scanner::ParseDatasetJson;
using pedigree::scanner::ParseDatasetNdjson;
using pedigree::scanner::ParseTrialFile;
using pedigree::scanner::TrialParseOptions;
using pedigree::scanner::ValueType;

const std::string kFixtures = std::string(PEDIGREE_SOURCE_DIR) + "/sample_data/trials/fixtures/";

std::string ReadFixture(const std::string& name) {
  std::ifstream in(kFixtures + name, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot open fixture " << name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Dataset MustParse(const pedigree::Result<Dataset>& r) {
  BOOST_REQUIRE_MESSAGE(r.has_value(), (r ? std::string() : r.error().ToString()));
  return *r;
}

// Fails the test unless `r` failed with `code` at `line`:`column`.
void ExpectError(const pedigree::Result<Dataset>& r, const std::string& code, uint64_t line,
                 uint64_t column) {
  BOOST_REQUIRE_MESSAGE(!r.has_value(), "expected " << code << ", parsing succeeded");
  const Error& e = r.error();
  BOOST_TEST_INFO(e.ToString());
  BOOST_TEST(e.code() == code);
  BOOST_TEST(e.location().line.value_or(0) == line);
  BOOST_TEST(e.location().column.value_or(0) == column);
}

std::multiset<std::string> CanonicalSet(const Dataset& ds) {
  std::multiset<std::string> out;
  for (size_t i = 0; i < ds.records.size(); ++i) out.insert(CanonicalRecord(ds, i));
  return out;
}

std::vector<std::string> ColumnNames(const Dataset& ds) {
  std::vector<std::string> names;
  for (const auto& c : ds.columns) names.push_back(c.name);
  return names;
}

// A minimal Dataset-JSON v1.1 document with columns STUDYID, DOMAIN, USUBJID, AGE (integer)
// and HEIGHT (decimal), WEIGHT (float), and the given rows text.
std::string MiniJson(const std::string& rows, int records) {
  return R"({"datasetJSONCreationDateTime": "2026-11-21T05:00:00", "datasetJSONVersion": "1.1.0",
"itemGroupOID": "IG.DM", "records": )" +
         std::to_string(records) + R"(, "name": "DM", "label": "Demographics",
"columns": [
{"itemOID": "IT.STUDYID", "name": "STUDYID", "label": "Study", "dataType": "string"},
{"itemOID": "IT.DOMAIN", "name": "DOMAIN", "label": "Domain", "dataType": "string"},
{"itemOID": "IT.USUBJID", "name": "USUBJID", "label": "Subject", "dataType": "string"},
{"itemOID": "IT.AGE", "name": "AGE", "label": "Age", "dataType": "integer"},
{"itemOID": "IT.HEIGHT", "name": "HEIGHT", "label": "Height", "dataType": "decimal"},
{"itemOID": "IT.WEIGHT", "name": "WEIGHT", "label": "Weight", "dataType": "float"}],
"rows": [)" +
         rows + "]}";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trial_data)

BOOST_AUTO_TEST_CASE(three_formats_of_the_same_data_yield_identical_records_and_canonical_bytes) {
  for (const std::string domain : {"dm", "ae"}) {
    BOOST_TEST_CONTEXT("domain " << domain) {
      const Dataset json = MustParse(ParseDatasetJson(ReadFixture(domain + ".json")));
      const Dataset ndjson = MustParse(ParseDatasetNdjson(ReadFixture(domain + ".ndjson")));
      TrialParseOptions with_schema;
      with_schema.expected_columns = json.columns;
      const Dataset csv = MustParse(ParseCsv(ReadFixture(domain + ".csv"), with_schema));
      const Dataset untyped_csv = MustParse(ParseCsv(ReadFixture(domain + ".csv")));

      BOOST_TEST(json.source_format == "dataset-json");
      BOOST_TEST(ndjson.source_format == "dataset-ndjson");
      BOOST_TEST(csv.source_format == "csv");
      BOOST_TEST((json.columns == ndjson.columns));
      BOOST_TEST((json.columns == csv.columns));
      BOOST_TEST(ColumnNames(json) == ColumnNames(untyped_csv));
      BOOST_TEST(json.records.size() == (domain == "dm" ? 5u : 7u));
      BOOST_TEST((json.records == ndjson.records));
      BOOST_TEST((json.records == csv.records));
      BOOST_TEST(json.key_columns == csv.key_columns);
      BOOST_TEST(json.key_columns == untyped_csv.key_columns);
      BOOST_TEST(json.domain ==
                 pedigree::scanner::Dataset{}.domain + (domain == "dm" ? "DM" : "AE"));
      BOOST_TEST(csv.domain == json.domain);
      BOOST_TEST(json.study_id == "PDG-TRIAL-01");
      BOOST_TEST(csv.study_id == json.study_id);
      for (size_t i = 0; i < json.records.size(); ++i) {
        const std::string canonical = CanonicalRecord(json, i);
        BOOST_TEST(canonical == CanonicalRecord(ndjson, i));
        BOOST_TEST(canonical == CanonicalRecord(csv, i));
        // Without a schema CSV values stay strings, which the canonical form does not see.
        BOOST_TEST(canonical == CanonicalRecord(untyped_csv, i));
        BOOST_TEST(RecordKey(json, i) == RecordKey(csv, i));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(record_lines_point_at_the_source_rows) {
  const Dataset json = MustParse(ParseDatasetJson(ReadFixture("ae.json")));
  const Dataset ndjson = MustParse(ParseDatasetNdjson(ReadFixture("ae.ndjson")));
  const Dataset csv = MustParse(ParseCsv(ReadFixture("ae.csv")));
  // ae.json: 14 metadata lines, 12 column lines, "columns" close and "rows" open, then rows.
  BOOST_TEST(json.records.front().line == 29u);
  BOOST_TEST(ndjson.records.front().line == 2u);
  BOOST_TEST(csv.records.front().line == 2u);
  // The fifth AE record holds a quoted line break, so the sixth starts two lines later.
  BOOST_TEST(csv.records[4].line == 6u);
  BOOST_TEST(csv.records[5].line == 8u);
}

BOOST_AUTO_TEST_CASE(bom_crlf_and_reordered_rows_do_not_change_canonical_records) {
  const Dataset lf = MustParse(ParseCsv(ReadFixture("ae.csv")));
  const Dataset crlf = MustParse(ParseCsv(ReadFixture("ae_bom_crlf.csv")));
  BOOST_TEST(ColumnNames(lf) == ColumnNames(crlf));
  BOOST_TEST((lf.records.front() != crlf.records.front()));  // rows are in reverse order
  BOOST_TEST(CanonicalSet(lf) == CanonicalSet(crlf));
  std::map<std::string, std::string> by_key;
  for (size_t i = 0; i < lf.records.size(); ++i) by_key[RecordKey(lf, i)] = CanonicalRecord(lf, i);
  for (size_t i = 0; i < crlf.records.size(); ++i) {
    BOOST_TEST(by_key.at(RecordKey(crlf, i)) == CanonicalRecord(crlf, i));
  }
  // The quoted line break reads as LF in both files.
  BOOST_TEST(lf.records[4].values[4].text == "APPLICATION SITE\nPRURITUS");
}

BOOST_AUTO_TEST_CASE(column_order_in_the_file_does_not_change_canonical_records) {
  const Dataset a = MustParse(ParseCsv("STUDYID,DOMAIN,USUBJID,AGE\nS1,DM,S1-001,63\n"));
  const Dataset b = MustParse(ParseCsv("AGE,USUBJID,DOMAIN,STUDYID\n63,S1-001,DM,S1\n"));
  BOOST_TEST(CanonicalRecord(a, 0) == CanonicalRecord(b, 0));
  BOOST_TEST(RecordKey(a, 0) == RecordKey(b, 0));
}

BOOST_AUTO_TEST_CASE(canonical_record_is_sorted_escaped_json_of_strings_and_nulls) {
  // Worked by hand from RFC 8785 §3.2.2.2 (escapes) and §3.2.3 (member order).
  const Dataset ds = MustParse(ParseDatasetJson(MiniJson(
      R"(["S1", "DM", "S1-\"7\"\\x", 63, "162.90", 7.10E1],
         ["S1", "DM", "S1-002", null, null, 1e400],
         ["S1", "DM", "tab\tnl\nbell\u0007é", 1, "1", 1])",
      3)));
  BOOST_TEST(CanonicalRecord(ds, 0) ==
             R"({"AGE":"63","DOMAIN":"DM","HEIGHT":"162.90","STUDYID":"S1",)"
             R"("USUBJID":"S1-\"7\"\\x","WEIGHT":"7.10E1"})");
  BOOST_TEST(CanonicalRecord(ds, 1) ==
             R"({"AGE":null,"DOMAIN":"DM","HEIGHT":null,"STUDYID":"S1","USUBJID":"S1-002",)"
             R"("WEIGHT":"1e400"})");
  BOOST_TEST(CanonicalRecord(ds, 2) ==
             "{\"AGE\":\"1\",\"DOMAIN\":\"DM\",\"HEIGHT\":\"1\",\"STUDYID\":\"S1\","
             "\"USUBJID\":\"tab\\tnl\\nbell\\u0007\xC3\xA9\",\"WEIGHT\":\"1\"}");
}

BOOST_AUTO_TEST_CASE(canonical_dm_record_matches_the_documented_example) {
  // docs/trial-data.md, "Canonical record": the first record of dm.json.
  const Dataset dm = MustParse(ParseDatasetJson(ReadFixture("dm.json")));
  BOOST_TEST(CanonicalRecord(dm, 0) ==
             R"({"AGE":"63","AGEU":"YEARS","ARM":"Placebo","ARMCD":"PBO","BRTHDTC":"1950-12-26",)"
             R"("COUNTRY":"USA","DOMAIN":"DM","RFSTDTC":"2014-01-02","SEX":"F",)"
             R"("STUDYID":"PDG-TRIAL-01","SUBJID":"1015","USUBJID":"PDG-TRIAL-01-701-1015"})");
}

BOOST_AUTO_TEST_CASE(canonical_member_order_follows_utf16_code_units) {
  // U+FF21 (UTF-8 EF BC A1) sorts after U+1F600 (F0 9F 98 80) in UTF-8 bytes' reverse: in
  // UTF-16 the emoji is D83D DE00, which sorts before FF21.
  const Dataset ds =
      MustParse(ParseCsv("STUDYID,USUBJID,\xEF\xBC\xA1,\xF0\x9F\x98\x80\nS1,U1,a,b\n"));
  BOOST_TEST(CanonicalRecord(ds, 0) ==
             "{\"STUDYID\":\"S1\",\"USUBJID\":\"U1\",\"\xF0\x9F\x98\x80\":\"b\","
             "\"\xEF\xBC\xA1\":\"a\"}");
}

BOOST_AUTO_TEST_CASE(numbers_keep_their_source_text) {
  const Dataset ds = MustParse(ParseDatasetJson(MiniJson(
      R"(["S1", "DM", "U1", 63, "30.8983333232059", 0.1000000000000000055511151231257827],
         ["S1", "DM", "U2", -0, "0001.50", -1.5e-7])",
      2)));
  BOOST_TEST(ds.records[0].values[4].text == "30.8983333232059");
  BOOST_TEST(ds.records[0].values[5].text == "0.1000000000000000055511151231257827");
  BOOST_TEST(ds.records[1].values[3].text == "-0");
  BOOST_TEST(ds.records[1].values[4].text == "0001.50");
  BOOST_TEST(ds.records[1].values[5].text == "-1.5e-7");
  BOOST_TEST((ds.records[0].values[3].type == ValueType::kNumber));
  BOOST_TEST((ds.records[0].values[4].type == ValueType::kString));
}

BOOST_AUTO_TEST_CASE(record_key_joins_key_columns_with_escaped_bars) {
  const Dataset ae = MustParse(ParseCsv(ReadFixture("ae.csv")));
  BOOST_TEST(ae.key_columns == (std::vector<size_t>{0, 2, 3}));
  BOOST_TEST(RecordKey(ae, 1) == "PDG-TRIAL-01|PDG-TRIAL-01-701-1015|2");
  const Dataset dm = MustParse(ParseCsv(ReadFixture("dm.csv")));
  BOOST_TEST(dm.key_columns == (std::vector<size_t>{0, 2}));
  TrialParseOptions three_keys;
  three_keys.key_columns = {"STUDYID", "USUBJID", "SEQ"};
  const Dataset odd =
      MustParse(ParseCsv("STUDYID,USUBJID,SEQ\nS,U|1,2\nS,U,1|2\nS,V\\,1\n", three_keys));
  BOOST_TEST(RecordKey(odd, 0) == "S|U\\|1|2");
  BOOST_TEST(RecordKey(odd, 1) == "S|U|1\\|2");
  BOOST_TEST(RecordKey(odd, 2) == "S|V\\\\|1");
}

BOOST_AUTO_TEST_CASE(key_sequence_or_options_choose_keys_when_there_is_no_seq) {
  // DM has no DMSEQ, so declared keySequence orders the key: here USUBJID before STUDYID.
  std::string dm = ReadFixture("dm.json");
  dm.replace(dm.find("\"keySequence\": 1"), 16, "\"keySequence\": 3");
  const Dataset reordered = MustParse(ParseDatasetJson(dm));
  BOOST_TEST(reordered.key_columns == (std::vector<size_t>{2, 0}));
  BOOST_TEST(RecordKey(reordered, 0) == "PDG-TRIAL-01-701-1015|PDG-TRIAL-01");
  TrialParseOptions options;
  options.key_columns = {"STUDYID", "RDOMAIN", "USUBJID", "QNAM"};
  const Dataset supp = MustParse(ParseCsv(
      "STUDYID,RDOMAIN,USUBJID,QNAM,QVAL\nS,AE,U1,AETRTEM,Y\nS,AE,U1,AESOSP,N\n", options));
  BOOST_TEST(supp.key_columns == (std::vector<size_t>{0, 1, 2, 3}));
  BOOST_TEST(RecordKey(supp, 1) == "S|AE|U1|AESOSP");
}

BOOST_AUTO_TEST_CASE(na_dot_and_empty_unquoted_fields_are_null_and_quoted_ones_are_not) {
  const Dataset ae = MustParse(ParseCsv(ReadFixture("ae.csv")));
  // Row 3: AEENDTC empty, AEENDY "NA"; row 4: AEENDY "."
  BOOST_TEST(ae.records[2].values[9].is_null());
  BOOST_TEST(ae.records[2].values[11].is_null());
  BOOST_TEST(ae.records[3].values[11].is_null());
  const Dataset quoted = MustParse(ParseCsv("STUDYID,USUBJID,X,Y,Z\nS,U,\"NA\",\".\",\"\"\n"));
  for (size_t i = 2; i < 5; ++i) {
    BOOST_TEST((quoted.records[0].values[i].type == ValueType::kString));
  }
  BOOST_TEST(CanonicalRecord(quoted, 0) ==
             R"({"STUDYID":"S","USUBJID":"U","X":"NA","Y":".","Z":""})");
  TrialParseOptions only_empty;
  only_empty.null_markers = {""};
  const Dataset custom = MustParse(ParseCsv("STUDYID,USUBJID,X,Y\nS,U,NA,\n", only_empty));
  BOOST_TEST(custom.records[0].values[2].text == "NA");
  BOOST_TEST(custom.records[0].values[3].is_null());
}

BOOST_AUTO_TEST_CASE(partial_iso_dates_are_accepted_and_malformed_dates_are_not) {
  struct Case {
    std::string type, value;
    bool valid;
  };
  const Case cases[] = {
      {"date", "2013", true},
      {"date", "2013-01", true},
      {"date", "2013-01-05", true},
      {"date", "2012-02-29", true},
      {"datetime", "2013", true},
      {"datetime", "2013-01", true},
      {"datetime", "2013-01-05T10", true},
      {"datetime", "2013-01-05T10:30", true},
      {"datetime", "2013-01-05T10:30:00.125+01:00", true},
      {"datetime", "2013-01-05T10:30:00Z", true},
      {"time", "10:30", true},
      {"date", "", true},
      {"date", "2013-13", false},
      {"date", "2013-02-29", false},
      {"date", "2013-1", false},
      {"date", "13-01-05", false},
      {"date", "05/01/2013", false},
      {"date", "2013-01-05T10:30", false},
      {"datetime", "2013-01T10:30", false},
      {"datetime", "2013-01-05T25:00", false},
      {"datetime", "2013-01-05 10:30", false},
      {"time", "10:61", false},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.type << " " << c.value) {
      TrialParseOptions options;
      options.expected_columns = std::vector<Column>{{"", "STUDYID", "", "string", {}, {}},
                                                     {"", "USUBJID", "", "string", {}, {}},
                                                     {"", "D", "", c.type, {}, {}}};
      const auto r = ParseCsv("STUDYID,USUBJID,D\nS,U,\"" + c.value + "\"\n", options);
      BOOST_TEST(r.has_value() == c.valid);
      if (!c.valid && !r) {
        BOOST_TEST(r.error().code() == "trial.bad_value");
        BOOST_TEST(r.error().field() == "D");
        BOOST_TEST(r.error().location().line.value_or(0) == 2u);
        BOOST_TEST(r.error().location().column.value_or(0) == 5u);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(ndjson_with_crlf_line_ends_reads_the_same) {
  std::string lf = ReadFixture("ae.ndjson");
  std::string crlf;
  for (char c : lf) {
    if (c == '\n') crlf += '\r';
    crlf += c;
  }
  const Dataset a = MustParse(ParseDatasetNdjson(lf));
  const Dataset b = MustParse(ParseDatasetNdjson(crlf));
  BOOST_TEST((a.records == b.records));
  BOOST_TEST(CanonicalSet(a) == CanonicalSet(b));
}

BOOST_AUTO_TEST_CASE(trial_file_is_parsed_by_extension_or_content) {
  const Dataset json = MustParse(ParseTrialFile(kFixtures + "ae.json"));
  const Dataset ndjson = MustParse(ParseTrialFile(kFixtures + "ae.ndjson"));
  const Dataset csv = MustParse(ParseTrialFile(kFixtures + "ae_bom_crlf.csv"));
  BOOST_TEST(json.source_format == "dataset-json");
  BOOST_TEST(ndjson.source_format == "dataset-ndjson");
  BOOST_TEST(csv.source_format == "csv");
  BOOST_TEST(CanonicalSet(json) == CanonicalSet(csv));
  const auto missing = ParseTrialFile(kFixtures + "no_such_file.csv");
  BOOST_REQUIRE(!missing);
  BOOST_TEST(missing.error().code() == "trial.io");
}

// ---- errors: code, line and column -------------------------------------------------------

BOOST_AUTO_TEST_CASE(latin1_bytes_are_reported_with_line_column_and_advice) {
  const auto r = ParseCsv(ReadFixture("dm_latin1.csv"));
  // Line 3 is "...,PBO,Plac\xE9bo,USA": 0xE9 is the 79th byte.
  ExpectError(r, "trial.invalid_utf8", 3, 79);
  BOOST_TEST(r.error().message() ==
             "byte 0xE9 at line 3 column 79 is not UTF-8; the file looks Latin-1 encoded, "
             "re-export it as UTF-8");
  // An overlong encoding of '/' inside a JSON string is no Latin-1 text.
  const auto overlong = ParseDatasetJson("{\"a\": \"x\xC0\xAF\"}");
  ExpectError(overlong, "trial.invalid_utf8", 1, 9);
}

BOOST_AUTO_TEST_CASE(ragged_row_names_expected_and_actual_field_counts) {
  const auto r = ParseCsv(ReadFixture("ae_ragged.csv"));
  ExpectError(r, "trial.ragged_row", 4, 82);
  BOOST_TEST(r.error().message().find("expected 12 fields, got 11") != std::string::npos);
  BOOST_TEST(r.error().field() == "AEENDY");
  const auto json = ParseDatasetJson(MiniJson("[\"S\", \"DM\", \"U\", 1, \"2\", 3, 4]", 1));
  ExpectError(json, "trial.ragged_row", 10, 38);
}

BOOST_AUTO_TEST_CASE(missing_seq_column_is_named) {
  const auto r = ParseCsv(ReadFixture("ae_missing_key.csv"));
  ExpectError(r, "trial.missing_key_column", 1, 1);
  BOOST_TEST(r.error().field() == "AESEQ");
  const auto no_usubjid = ParseCsv("STUDYID,DOMAIN,SUBJID\nS,DM,001\n");
  ExpectError(no_usubjid, "trial.missing_key_column", 1, 1);
  BOOST_TEST(no_usubjid.error().field() == "USUBJID");
}

BOOST_AUTO_TEST_CASE(duplicate_key_names_the_key_and_both_lines) {
  const auto r = ParseCsv(ReadFixture("ae_duplicate_key.csv"));
  ExpectError(r, "trial.duplicate_key", 3, 1);
  BOOST_TEST(r.error().field() == "STUDYID|USUBJID|AESEQ");
  BOOST_TEST(r.error().message() ==
             "key STUDYID|USUBJID|AESEQ = PDG-TRIAL-01|PDG-TRIAL-01-701-1015|1 appears at line 2 "
             "and again at line 3");
}

BOOST_AUTO_TEST_CASE(unterminated_quote_points_where_the_quote_opened) {
  const auto r = ParseCsv("STUDYID,USUBJID,AETERM\nS,U1,ok\nS,U2,\"HEADACHE\nS,U3,x\n");
  ExpectError(r, "trial.unterminated_quote", 3, 6);
  BOOST_TEST(r.error().field() == "AETERM");
}

BOOST_AUTO_TEST_CASE(stray_quotes_are_rejected) {
  ExpectError(ParseCsv("STUDYID,USUBJID\nS,U\"1\n"), "trial.stray_quote", 2, 4);
  ExpectError(ParseCsv("STUDYID,USUBJID\nS,\"U1\"x\n"), "trial.stray_quote", 2, 7);
}

BOOST_AUTO_TEST_CASE(header_differing_from_the_schema_names_the_column) {
  const Dataset json = MustParse(ParseDatasetJson(ReadFixture("dm.json")));
  TrialParseOptions options;
  options.expected_columns = json.columns;
  options.expected_columns->pop_back();  // COUNTRY
  const auto extra = ParseCsv(ReadFixture("dm.csv"), options);
  ExpectError(extra, "trial.schema_mismatch", 1, 70);
  BOOST_TEST(extra.error().field() == "COUNTRY");
  options.expected_columns = json.columns;
  options.expected_columns->push_back({"IT.DM.RACE", "RACE", "Race", "string", {}, {}});
  const auto missing = ParseCsv(ReadFixture("dm.csv"), options);
  ExpectError(missing, "trial.schema_mismatch", 1, 1);
  BOOST_TEST(missing.error().field() == "RACE");
  options.expected_columns = json.columns;
  (*options.expected_columns)[6].data_type = "decimal";  // AGE
  const auto retyped = ParseDatasetJson(ReadFixture("dm.json"), options);
  BOOST_REQUIRE(!retyped);
  BOOST_TEST(retyped.error().code() == "trial.schema_mismatch");
  BOOST_TEST(retyped.error().field() == "AGE");
  BOOST_TEST(retyped.error().location().line.value_or(0) == 21u);
}

BOOST_AUTO_TEST_CASE(domain_other_than_expected_is_a_schema_mismatch) {
  TrialParseOptions options;
  options.domain = "ae";
  const auto r = ParseCsv(ReadFixture("dm.csv"), options);
  ExpectError(r, "trial.schema_mismatch", 2, 14);
  BOOST_TEST(r.error().field() == "DOMAIN");
  // Without a DOMAIN column the options name it, and AE then needs AESEQ.
  const auto no_column = ParseCsv("STUDYID,USUBJID\nS,U\n", options);
  BOOST_REQUIRE(!no_column);
  BOOST_TEST(no_column.error().field() == "AESEQ");
}

BOOST_AUTO_TEST_CASE(trial_file_without_extension_is_recognised_by_content) {
  const auto dir = std::filesystem::temp_directory_path() / "pedigree_trial_data_test";
  std::filesystem::create_directories(dir);
  const std::pair<std::string, std::string> cases[] = {
      {"ae.json", "dataset-json"}, {"ae.ndjson", "dataset-ndjson"}, {"ae.csv", "csv"}};
  for (const auto& [fixture, format] : cases) {
    const auto path = dir / ("ae_" + format);  // no extension
    std::ofstream(path, std::ios::binary) << ReadFixture(fixture);
    const Dataset ds = MustParse(ParseTrialFile(path));
    BOOST_TEST(ds.source_format == format);
    BOOST_TEST(ds.records.size() == 7u);
  }
  std::filesystem::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(duplicate_header_is_rejected) {
  ExpectError(ParseCsv("STUDYID,USUBJID,STUDYID\nS,U,S\n"), "trial.duplicate_column", 1, 17);
}

BOOST_AUTO_TEST_CASE(empty_datasets_are_rejected) {
  ExpectError(ParseCsv(""), "trial.empty_dataset", 1, 1);
  ExpectError(ParseCsv("\xEF\xBB\xBFSTUDYID,USUBJID\r\n"), "trial.empty_dataset", 1, 1);
  const auto json = ParseDatasetJson(MiniJson("", 0));
  BOOST_REQUIRE(!json);
  BOOST_TEST(json.error().code() == "trial.empty_dataset");
  ExpectError(ParseDatasetNdjson("  \n"), "trial.empty_dataset", 1, 1);
}

BOOST_AUTO_TEST_CASE(wrong_study_names_expected_and_found) {
  TrialParseOptions options;
  options.expected_study_id = "PDG-TRIAL-02";
  const auto r = ParseCsv(ReadFixture("dm.csv"), options);
  ExpectError(r, "trial.wrong_study", 2, 1);
  BOOST_TEST(r.error().message().find("expected study PDG-TRIAL-02, found \"PDG-TRIAL-01\"") !=
             std::string::npos);
  ExpectError(ParseCsv("STUDYID,USUBJID\nS1,U1\nS2,U2\n"), "trial.wrong_study", 3, 1);
}

BOOST_AUTO_TEST_CASE(json_syntax_errors_carry_line_and_column) {
  struct Case {
    std::string text;
    uint64_t line, column;
  };
  const Case cases[] = {
      {"{\"a\": 1,}", 1, 9},             // trailing comma in an object
      {"{\"a\": [1, 2,]}", 1, 13},       // trailing comma in an array
      {"{\"a\": 01}", 1, 8},             // leading zero
      {"{\"a\": \"x\n\"}", 1, 9},        // raw line break in a string
      {"{\"a\": \"\\ud800\"}", 1, 8},    // lone high surrogate
      {"{\"a\": tru}", 1, 7},            // bad literal
      {"{\"a\": 1}\n{}", 2, 1},          // data after the value
      {"{\"a\": 1,\n \"a\": 2}", 2, 2},  // duplicate key
      {"{\"a\": \"open", 1, 7},          // unterminated string
      {"[1, 2]", 1, 1},                  // not an object
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.text) {
      ExpectError(ParseDatasetJson(c.text), "trial.json", c.line, c.column);
    }
  }
  const auto dup = ParseDatasetJson("{\"a\": 1,\n \"a\": 2}");
  BOOST_TEST(dup.error().message() == "duplicate key \"a\" (first at line 1 column 2)");
}

BOOST_AUTO_TEST_CASE(records_attribute_must_match_the_rows) {
  std::string text = ReadFixture("dm.json");
  const auto at = text.find("\"records\": 5");
  BOOST_REQUIRE(at != std::string::npos);
  text.replace(at, 12, "\"records\": 6");
  const auto r = ParseDatasetJson(text);
  ExpectError(r, "trial.records_count_mismatch", 11, 3);
  BOOST_TEST(r.error().message() == "records says 6 but the file has 5 rows");
  std::string nd = ReadFixture("dm.ndjson");
  nd.resize(nd.rfind('\n', nd.size() - 2) + 1);  // drop the last row
  ExpectError(ParseDatasetNdjson(nd), "trial.records_count_mismatch", 1, 349);
}

BOOST_AUTO_TEST_CASE(values_that_do_not_fit_their_column_type_are_bad_values) {
  // MiniJson rows start on line 10 after `"rows": [`; AGE (integer) = 63.5 is at column 27.
  const auto json = ParseDatasetJson(MiniJson("[\"S\", \"DM\", \"U\", 63.5, \"1\", 1]", 1));
  ExpectError(json, "trial.bad_value", 10, 27);
  BOOST_TEST(json.error().field() == "AGE");
  const auto decimal =
      ParseDatasetJson(MiniJson("[\"S\", \"DM\", \"U\", 1, \"1.23457E+12\", 1]", 1));
  ExpectError(decimal, "trial.bad_value", 10, 30);
  const auto number_in_string = ParseDatasetJson(MiniJson("[\"S\", \"DM\", 7, 1, \"1\", 1]", 1));
  ExpectError(number_in_string, "trial.bad_value", 10, 22);
  const auto nested = ParseDatasetJson(MiniJson("[\"S\", \"DM\", \"U\", [1], \"1\", 1]", 1));
  ExpectError(nested, "trial.bad_value", 10, 27);
  TrialParseOptions options;
  options.expected_columns = MustParse(ParseDatasetJson(ReadFixture("dm.json"))).columns;
  std::string csv = ReadFixture("dm.csv");
  csv.replace(csv.find(",63,"), 4, ",6x,");
  ExpectError(ParseCsv(csv, options), "trial.bad_value", 2, 66);
  const auto null_key = ParseCsv("STUDYID,USUBJID\nS,NA\n");
  ExpectError(null_key, "trial.bad_value", 2, 3);
  BOOST_TEST(null_key.error().field() == "USUBJID");
}

BOOST_AUTO_TEST_CASE(dataset_json_metadata_is_checked) {
  std::string text = ReadFixture("dm.json");
  text.replace(text.find("\"1.1.0\""), 7, "\"1.0.0\"");
  const auto old = ParseDatasetJson(text);
  BOOST_REQUIRE(!old);
  BOOST_TEST(old.error().code() == "trial.bad_metadata");
  BOOST_TEST(old.error().field() == "datasetJSONVersion");
  std::string no_type = ReadFixture("dm.json");
  no_type.replace(no_type.find(", \"dataType\": \"integer\""), 23, "");
  const auto lacking = ParseDatasetJson(no_type);
  BOOST_REQUIRE(!lacking);
  BOOST_TEST(lacking.error().code() == "trial.bad_metadata");
  BOOST_TEST(lacking.error().field() == "dataType");
}

BOOST_AUTO_TEST_SUITE_END()
