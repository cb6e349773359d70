#include "pedigree/provenance/trial_dataset.h"

#include <algorithm>
#include <cassert>

#include "pedigree/base/canonical_json.h"

namespace pedigree::provenance {

std::string RecordKey(const Dataset& dataset, size_t record) {
  assert(record < dataset.records.size());
  std::string key;
  bool first = true;
  for (size_t k : dataset.key_columns) {
    if (!first) key.push_back('|');
    first = false;
    for (const char c : dataset.records[record].values[k].text) {
      if (c == '\\' || c == '|') key.push_back('\\');
      key.push_back(c);
    }
  }
  return key;
}

CanonicalRecordEncoder::CanonicalRecordEncoder(const Dataset& dataset) : dataset_(&dataset) {
  const size_t n = dataset.columns.size();
  keys_.resize(n);
  order_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    AppendJsonString(keys_[i], dataset.columns[i].name);
    keys_[i].push_back(':');
    order_[i] = i;
  }
  std::sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
    return Utf16Less(dataset.columns[a].name, dataset.columns[b].name);
  });
}

void CanonicalRecordEncoder::AppendTo(std::string& out, size_t record) const {
  assert(record < dataset_->records.size());
  const auto& values = dataset_->records[record].values;
  out.push_back('{');
  bool first = true;
  for (size_t i : order_) {
    if (!first) out.push_back(',');
    first = false;
    out += keys_[i];
    if (i >= values.size() || values[i].is_null()) {
      out += "null";
    } else {
      AppendJsonString(out, values[i].text);
    }
  }
  out.push_back('}');
}

std::string CanonicalRecordEncoder::Encode(size_t record) const {
  std::string out;
  AppendTo(out, record);
  return out;
}

std::string CanonicalRecord(const Dataset& dataset, size_t record) {
  return CanonicalRecordEncoder(dataset).Encode(record);
}

}  // namespace pedigree::provenance
