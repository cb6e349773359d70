// A synthetic clinical study for the demo and the docs: DM and AE domains in CDISC
// Dataset-JSON v1.1 and CSV, a protocol document and its pre-specified outcomes. Fully
// determined by the seed, so the files under sample_data/trials/study/ can be regenerated
// byte for byte. No real person is described: every value is drawn from small lists.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::services {

struct SampleStudyOptions {
  std::string study_id = "PDG-CT-2026-01";
  size_t subjects = 240;  // spread evenly over three sites
  uint64_t seed = 20261121;
};

struct SampleStudy {
  std::string study_id;
  std::string registry_id;             // EU CT number form
  std::vector<std::string> site_ids;   // SITEID values, e.g. "701"
  std::vector<std::string> arm_codes;  // ARMCD values
  std::vector<std::string> arm_names;
  std::string protocol;  // the protocol document (Markdown) whose hash is sealed
  std::vector<std::string> primary_outcomes;
  std::vector<std::string> secondary_outcomes;
  // What the final publication reported: one sealed secondary outcome dropped and one new
  // outcome added, the outcome switching the protocol seal exists to expose.
  std::vector<std::string> reported_primary;
  std::vector<std::string> reported_secondary;
  std::string dm_json, dm_csv;
  std::string ae_json, ae_csv;
  size_t subjects = 0;
  size_t adverse_events = 0;
};

SampleStudy GenerateSampleStudy(const SampleStudyOptions& options = {});

// Writes protocol.md, outcomes.json, reported-outcomes.json, dm.json, dm.csv, ae.json and
// ae.csv into `dir` (created if missing).
[[nodiscard]] Status WriteSampleStudy(const SampleStudy& study, const std::filesystem::path& dir);

}  // namespace pedigree::services
