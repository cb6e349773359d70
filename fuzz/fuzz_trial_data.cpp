// libFuzzer target: every trial-data parser on arbitrary bytes. Each must return a value or
// an error, never crash, and whatever parses must yield keys and canonical records.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pedigree/scanner/trial_data.h"

namespace {

void Exercise(const pedigree::Result<pedigree::scanner::Dataset>& parsed) {
  if (!parsed) {
    (void)parsed.error().ToString();
    return;
  }
  const pedigree::provenance::CanonicalRecordEncoder encoder(*parsed);
  for (size_t i = 0; i < parsed->records.size(); ++i) {
    (void)pedigree::provenance::RecordKey(*parsed, i);
    (void)encoder.Encode(i);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  Exercise(pedigree::scanner::ParseDatasetJson(bytes));
  Exercise(pedigree::scanner::ParseDatasetNdjson(bytes));
  Exercise(pedigree::scanner::ParseCsv(bytes));
  pedigree::scanner::TrialParseOptions options;
  options.key_columns = {"STUDYID"};
  options.null_markers = {};
  Exercise(pedigree::scanner::ParseCsv(bytes, options));
  return 0;
}
