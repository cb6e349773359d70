#include "pedigree/demo/trial_sample.h"

#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <system_error>

#include "pedigree/base/canonical_json.h"

namespace pedigree::services {
namespace {

// SplitMix64: small, fast and the same on every platform, which keeps the files stable.
class Draw {
 public:
  explicit Draw(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [low, high].
  int Between(int low, int high) {
    return low + static_cast<int>(Next() % static_cast<uint64_t>(high - low + 1));
  }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& items) {
    return items[Next() % N];
  }

 private:
  uint64_t state_;
};

struct ColumnDef {
  const char* name;
  const char* label;
  const char* type;  // Dataset-JSON dataType
  int key_sequence;  // 0 when not part of the key
};

// One cell: a string, an integer (written as a JSON number) or a null.
struct Cell {
  std::string text;
  bool number = false;
  bool null = false;
};

Cell Text(std::string s) { return Cell{std::move(s)}; }
Cell Number(int n) { return Cell{std::to_string(n), true}; }
Cell Null() { return Cell{"", false, true}; }

// "2026-03-01" plus `days`, proleptic Gregorian.
std::string DatePlus(int days) {
  using namespace std::chrono;
  year_month_day d{sys_days{year{2026} / March / 1} + std::chrono::days{days}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(d.year()),
                static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
  return buf;
}

class DatasetWriter {
 public:
  DatasetWriter(std::string study, std::string domain, std::string label,
                std::vector<ColumnDef> columns)
      : study_(std::move(study)),
        domain_(std::move(domain)),
        label_(std::move(label)),
        columns_(std::move(columns)) {}

  void Add(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }

  std::string Json() const {
    std::string out = "{\n  \"datasetJSONCreationDateTime\": \"2026-11-21T06:00:00\",\n";
    out += "  \"datasetJSONVersion\": \"1.1.0\",\n";
    out += "  \"fileOID\": \"pedigree.sample." + domain_ + "\",\n";
    out += "  \"dbLastModifiedDateTime\": \"2026-11-20T18:00:00\",\n";
    out += "  \"originator\": \"pedigree sample study generator\",\n";
    out += "  \"studyOID\": ";
    AppendJsonString(out, study_);
    out += ",\n  \"metaDataVersionOID\": \"MDV.1\",\n";
    out += "  \"itemGroupOID\": \"IG." + domain_ + "\",\n";
    out += "  \"records\": " + std::to_string(rows_.size()) + ",\n";
    out += "  \"name\": \"" + domain_ + "\",\n  \"label\": ";
    AppendJsonString(out, label_);
    out += ",\n  \"columns\": [\n";
    for (size_t i = 0; i < columns_.size(); ++i) {
      const ColumnDef& c = columns_[i];
      out += "    {\"itemOID\": \"IT." + domain_ + "." + c.name + "\", \"name\": \"" + c.name +
             "\", \"label\": ";
      AppendJsonString(out, c.label);
      out += ", \"dataType\": \"" + std::string(c.type) + "\"";
      if (c.key_sequence) out += ", \"keySequence\": " + std::to_string(c.key_sequence);
      out += i + 1 < columns_.size() ? "},\n" : "}\n";
    }
    out += "  ],\n  \"rows\": [\n";
    for (size_t r = 0; r < rows_.size(); ++r) {
      out += "    [";
      for (size_t i = 0; i < rows_[r].size(); ++i) {
        const Cell& cell = rows_[r][i];
        if (i) out += ", ";
        if (cell.null) {
          out += "null";
        } else if (cell.number) {
          out += cell.text;
        } else {
          AppendJsonString(out, cell.text);
        }
      }
      out += r + 1 < rows_.size() ? "],\n" : "]\n";
    }
    out += "  ]\n}\n";
    return out;
  }

  // RFC 4180: fields with a comma, quote or line break are quoted; nulls are empty.
  std::string Csv() const {
    std::string out;
    for (size_t i = 0; i < columns_.size(); ++i) {
      if (i) out += ',';
      out += columns_[i].name;
    }
    out += '\n';
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); ++i) {
        if (i) out += ',';
        const std::string& t = row[i].text;
        if (t.find_first_of(",\"\r\n") == std::string::npos) {
          out += t;
          continue;
        }
        out += '"';
        for (char ch : t) {
          if (ch == '"') out += '"';
          out += ch;
        }
        out += '"';
      }
      out += '\n';
    }
    return out;
  }

 private:
  std::string study_, domain_, label_;
  std::vector<ColumnDef> columns_;
  std::vector<std::vector<Cell>> rows_;
};

struct AdverseTerm {
  const char* term;
  const char* decod;
  const char* body_system;
};

constexpr std::array<AdverseTerm, 10> kTerms{{
    {"HEADACHE", "Headache", "NERVOUS SYSTEM DISORDERS"},
    {"NAUSEA", "Nausea", "GASTROINTESTINAL DISORDERS"},
    {"DIARRHOEA, MILD", "Diarrhoea", "GASTROINTESTINAL DISORDERS"},
    {"DIZZINESS", "Dizziness", "NERVOUS SYSTEM DISORDERS"},
    {"APPLICATION SITE ERYTHEMA", "Application site erythema",
     "GENERAL DISORDERS AND ADMINISTRATION SITE CONDITIONS"},
    {"FATIGUE", "Fatigue", "GENERAL DISORDERS AND ADMINISTRATION SITE CONDITIONS"},
    {"NASOPHARYNGITIS", "Nasopharyngitis", "INFECTIONS AND INFESTATIONS"},
    {"BACK PAIN", "Back pain", "MUSCULOSKELETAL AND CONNECTIVE TISSUE DISORDERS"},
    {"RASH \"MACULAR\"", "Rash macular", "SKIN AND SUBCUTANEOUS TISSUE DISORDERS"},
    {"INSOMNIA", "Insomnia", "PSYCHIATRIC DISORDERS"},
}};

std::string OutcomesJson(const std::vector<std::string>& primary,
                         const std::vector<std::string>& secondary) {
  JsonValue p = JsonValue::Array(), s = JsonValue::Array();
  for (const auto& o : primary) p.push_back(o);
  for (const auto& o : secondary) s.push_back(o);
  return Canonicalize(
             JsonValue::Object().set("primary", std::move(p)).set("secondary", std::move(s))) +
         "\n";
}

}  // namespace

SampleStudy GenerateSampleStudy(const SampleStudyOptions& options) {
  SampleStudy study;
  study.study_id = options.study_id;
  study.registry_id = "2026-500123-41-00";
  study.site_ids = {"701", "702", "703"};
  study.arm_codes = {"PBO", "LOW", "HIGH"};
  study.arm_names = {"Placebo", "Pedigrenol 10 mg", "Pedigrenol 20 mg"};
  study.primary_outcomes = {"Change from baseline in HbA1c at week 24"};
  study.secondary_outcomes = {"Change from baseline in fasting plasma glucose at week 24",
                              "Proportion of subjects with HbA1c below 7.0% at week 24",
                              "Incidence of treatment-emergent adverse events"};
  study.reported_primary = study.primary_outcomes;
  study.reported_secondary = {study.secondary_outcomes[0], study.secondary_outcomes[2],
                              "Change from baseline in body weight at week 12"};
  study.protocol = "# Protocol " + study.study_id +
                   "\n\nA randomised, double-blind, placebo-controlled study of pedigrenol in "
                   "adults with type 2 diabetes (synthetic sample, no real product).\n\n"
                   "EU CT number: " +
                   study.registry_id + "\n\n## Primary outcome\n\n";
  for (const auto& o : study.primary_outcomes) study.protocol += "- " + o + "\n";
  study.protocol += "\n## Secondary outcomes\n\n";
  for (const auto& o : study.secondary_outcomes) study.protocol += "- " + o + "\n";
  study.protocol += "\n## Arms\n\n";
  for (size_t i = 0; i < study.arm_codes.size(); ++i) {
    study.protocol += "- " + study.arm_codes[i] + ": " + study.arm_names[i] + "\n";
  }

  DatasetWriter dm(study.study_id, "DM", "Demographics",
                   {{"STUDYID", "Study Identifier", "string", 1},
                    {"DOMAIN", "Domain Abbreviation", "string", 0},
                    {"USUBJID", "Unique Subject Identifier", "string", 2},
                    {"SUBJID", "Subject Identifier for the Study", "string", 0},
                    {"RFSTDTC", "Subject Reference Start Date/Time", "date", 0},
                    {"RFENDTC", "Subject Reference End Date/Time", "date", 0},
                    {"SITEID", "Study Site Identifier", "string", 0},
                    {"AGE", "Age", "integer", 0},
                    {"AGEU", "Age Units", "string", 0},
                    {"SEX", "Sex", "string", 0},
                    {"RACE", "Race", "string", 0},
                    {"ETHNIC", "Ethnicity", "string", 0},
                    {"ARMCD", "Planned Arm Code", "string", 0},
                    {"ARM", "Description of Planned Arm", "string", 0},
                    {"COUNTRY", "Country", "string", 0}});
  DatasetWriter ae(study.study_id, "AE", "Adverse Events",
                   {{"STUDYID", "Study Identifier", "string", 1},
                    {"DOMAIN", "Domain Abbreviation", "string", 0},
                    {"USUBJID", "Unique Subject Identifier", "string", 2},
                    {"AESEQ", "Sequence Number", "integer", 3},
                    {"AETERM", "Reported Term for the Adverse Event", "string", 0},
                    {"AEDECOD", "Dictionary-Derived Term", "string", 0},
                    {"AEBODSYS", "Body System or Organ Class", "string", 0},
                    {"AESEV", "Severity/Intensity", "string", 0},
                    {"AESER", "Serious Event", "string", 0},
                    {"AEREL", "Causality", "string", 0},
                    {"AESTDTC", "Start Date/Time of Adverse Event", "date", 0},
                    {"AEENDTC", "End Date/Time of Adverse Event", "date", 0},
                    {"AESTDY", "Study Day of Start of Adverse Event", "integer", 0}});

  constexpr std::array<const char*, 3> kCountries{"DEU", "FRA", "ESP"};
  constexpr std::array<const char*, 4> kRaces{"WHITE", "ASIAN", "BLACK OR AFRICAN AMERICAN",
                                              "NOT REPORTED"};
  constexpr std::array<const char*, 3> kEthnic{"NOT HISPANIC OR LATINO", "HISPANIC OR LATINO",
                                               "NOT REPORTED"};
  constexpr std::array<const char*, 3> kSeverity{"MILD", "MODERATE", "SEVERE"};
  constexpr std::array<const char*, 4> kRelation{"NOT RELATED", "UNLIKELY RELATED",
                                                 "POSSIBLY RELATED", "RELATED"};
  Draw draw(options.seed);
  for (size_t s = 0; s < options.subjects; ++s) {
    size_t site = s % study.site_ids.size();
    char subjid[24];
    std::snprintf(subjid, sizeof subjid, "%04zu", s / study.site_ids.size() + 1);
    std::string usubjid = study.study_id + "-" + study.site_ids[site] + "-" + subjid;
    size_t arm = draw.Next() % study.arm_codes.size();
    int start = draw.Between(0, 120);
    bool completed = draw.Between(0, 9) != 0;
    dm.Add({Text(study.study_id), Text("DM"), Text(usubjid), Text(subjid), Text(DatePlus(start)),
            completed ? Text(DatePlus(start + 168)) : Null(), Text(study.site_ids[site]),
            Number(draw.Between(18, 85)), Text("YEARS"), Text(draw.Between(0, 1) ? "F" : "M"),
            Text(draw.Pick(kRaces)), Text(draw.Pick(kEthnic)), Text(study.arm_codes[arm]),
            Text(study.arm_names[arm]), Text(kCountries[site])});
    int events = draw.Between(0, 4);
    for (int e = 1; e <= events; ++e) {
      const AdverseTerm& term = draw.Pick(kTerms);
      int day = draw.Between(1, 160);
      bool resolved = draw.Between(0, 4) != 0;
      ae.Add({Text(study.study_id), Text("AE"), Text(usubjid), Number(e), Text(term.term),
              Text(term.decod), Text(term.body_system), Text(draw.Pick(kSeverity)),
              Text(draw.Between(0, 19) ? "N" : "Y"), Text(draw.Pick(kRelation)),
              Text(DatePlus(start + day - 1)),
              resolved ? Text(DatePlus(start + day - 1 + draw.Between(1, 14))) : Null(),
              Number(day)});
    }
  }
  study.subjects = dm.size();
  study.adverse_events = ae.size();
  study.dm_json = dm.Json();
  study.dm_csv = dm.Csv();
  study.ae_json = ae.Json();
  study.ae_csv = ae.Csv();
  return study;
}

Status WriteSampleStudy(const SampleStudy& study, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Fail(Error("io.mkdir", "cannot create " + dir.string() + ": " + ec.message()));
  }
  const std::pair<const char*, std::string> files[] = {
      {"protocol.md", study.protocol},
      {"outcomes.json", OutcomesJson(study.primary_outcomes, study.secondary_outcomes)},
      {"reported-outcomes.json", OutcomesJson(study.reported_primary, study.reported_secondary)},
      {"dm.json", study.dm_json},
      {"dm.csv", study.dm_csv},
      {"ae.json", study.ae_json},
      {"ae.csv", study.ae_csv},
  };
  for (const auto& [name, bytes] : files) {
    std::filesystem::path path = dir / name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Fail(Error("io.write", "cannot write " + path.string()));
  }
  return Ok();
}

}  // namespace pedigree::services
