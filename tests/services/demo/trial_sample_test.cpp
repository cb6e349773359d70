// The synthetic study: deterministic, parseable, large enough for the demo, and the
// committed copy under sample_data/trials/study/ is exactly what the generator writes.
#include "pedigree/demo/trial_sample.h"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "common/read_file.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/scanner/trial_data.h"

using namespace pedigree;
using pedigree::testing::ReadFile;
using pedigree::testing::TempDir;
using pedigree::testing::Why;

BOOST_AUTO_TEST_SUITE(trial_sample)

BOOST_AUTO_TEST_CASE(same_seed_gives_the_same_bytes_and_another_seed_differs) {
  services::SampleStudy a = services::GenerateSampleStudy();
  services::SampleStudy b = services::GenerateSampleStudy();
  BOOST_TEST(a.ae_csv == b.ae_csv);
  BOOST_TEST(a.dm_json == b.dm_json);
  services::SampleStudy c = services::GenerateSampleStudy({.seed = 7});
  BOOST_TEST(a.ae_csv != c.ae_csv);
}

BOOST_AUTO_TEST_CASE(dm_and_ae_parse_as_dataset_json_and_csv_with_the_same_records) {
  services::SampleStudy study = services::GenerateSampleStudy();
  BOOST_TEST(study.subjects >= 200u);
  for (auto [json, csv, domain] : {std::tuple{&study.dm_json, &study.dm_csv, "DM"},
                                   std::tuple{&study.ae_json, &study.ae_csv, "AE"}}) {
    auto from_json = scanner::ParseDatasetJson(*json);
    BOOST_TEST_REQUIRE(from_json.has_value(), Why(from_json));
    scanner::TrialParseOptions options;
    options.domain = domain;
    options.expected_columns = from_json->columns;
    auto from_csv = scanner::ParseCsv(*csv, options);
    BOOST_TEST_REQUIRE(from_csv.has_value(), Why(from_csv));
    BOOST_TEST(from_json->study_id == study.study_id);
    BOOST_TEST(from_json->domain == domain);
    BOOST_TEST_REQUIRE(from_json->records.size() == from_csv->records.size());
    std::set<std::string> keys;
    for (size_t i = 0; i < from_json->records.size(); ++i) {
      BOOST_TEST(provenance::CanonicalRecord(*from_json, i) ==
                 provenance::CanonicalRecord(*from_csv, i));
      keys.insert(provenance::RecordKey(*from_json, i));
    }
    BOOST_TEST(keys.size() == from_json->records.size());  // keys are unique
  }
  BOOST_TEST(study.adverse_events > study.subjects);
}

BOOST_AUTO_TEST_CASE(reported_outcomes_switch_one_sealed_secondary_outcome) {
  services::SampleStudy study = services::GenerateSampleStudy();
  BOOST_TEST(study.reported_primary == study.primary_outcomes);
  BOOST_TEST(study.reported_secondary != study.secondary_outcomes);
  BOOST_TEST(study.protocol.find(study.primary_outcomes[0]) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(committed_sample_study_matches_the_generator) {
  TempDir dir;
  auto written = services::WriteSampleStudy(services::GenerateSampleStudy(), dir.path());
  BOOST_TEST_REQUIRE(written.has_value(), Why(written));
  std::filesystem::path committed =
      std::filesystem::path(PEDIGREE_SOURCE_DIR) / "sample_data" / "trials" / "study";
  for (const char* name : {"protocol.md", "outcomes.json", "reported-outcomes.json", "dm.json",
                           "dm.csv", "ae.json", "ae.csv"}) {
    BOOST_TEST(ReadFile(dir.path() / name) == ReadFile(committed / name),
               name << " differs from the generator: run `pedigree trial sample --out "
                       "sample_data/trials/study`");
  }
}

BOOST_AUTO_TEST_SUITE_END()
