// The members every report shares (REPORT_SPEC "Common members"), for the batch and
// audit reports built here.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::reports::frame {

inline std::string NowUtc() {
  return FormatUtcTime(std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count());
}

// {"format","report","generatedAt"}; the caller adds verdict, summary and the rest.
inline JsonValue Frame(std::string_view kind) {
  return JsonValue::Object()
      .set("format", "pedigree-report/v1")
      .set("report", kind)
      .set("generatedAt", NowUtc());
}

inline JsonValue Check(std::string_view id, std::string_view result, std::string detail) {
  return JsonValue::Object().set("id", id).set("result", result).set("detail", std::move(detail));
}

inline JsonValue Int(uint64_t v) { return JsonValue(static_cast<int64_t>(v)); }

// Signature lines of a signed note other than `log_name`'s: witness cosignatures, listed
// with their cosignature/v1 timestamp when the signature has that form. Not verified.
inline JsonValue CosignatureNames(std::string_view note, std::string_view log_name) {
  auto out = JsonValue::Array();
  const size_t blank = note.find("\n\n");
  if (blank == std::string_view::npos) return out;
  std::string_view lines = note.substr(blank + 2);
  const std::string_view dash = "\xE2\x80\x94 ";  // "— "
  while (!lines.empty()) {
    const size_t nl = lines.find('\n');
    std::string_view line = lines.substr(0, nl);
    lines = nl == std::string_view::npos ? std::string_view() : lines.substr(nl + 1);
    if (line.substr(0, dash.size()) != dash) continue;
    line.remove_prefix(dash.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) continue;
    const std::string_view name = line.substr(0, space);
    if (name == log_name) continue;
    auto entry = JsonValue::Object().set("name", name);
    // key ID (4) || u64be timestamp (8) || Ed25519 signature (64)
    if (auto raw = FromBase64(line.substr(space + 1)); raw && raw->size() == 76) {
      uint64_t t = 0;
      for (size_t i = 4; i < 12; ++i) t = (t << 8) | (*raw)[i];
      if (t <= static_cast<uint64_t>(INT64_MAX))
        entry.set("time", FormatUtcTime(static_cast<int64_t>(t)));
    }
    out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace pedigree::reports::frame
