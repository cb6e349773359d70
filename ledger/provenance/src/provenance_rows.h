// Reading derived rows, shared by the writer (ProvenanceState) and readers
// (ProvenanceView) so both see a pack the same way.
#pragma once

#include <string>
#include <vector>

#include "pedigree/log/sql.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::provenance {

// Binds ?1 = gtin, ?2 = serial; the columns are what PackFromRow reads.
inline constexpr const char* kSelectPack =
    "SELECT p.lot, p.status, p.holder, p.status_org, p.status_location, p.status_time, p.parent, "
    "p.in_transit_to, p.excursion, b.expiry, b.status, p.commissioned_idx, pr.name, "
    // The reason and entry of a recall or withdrawal: batch_events holds the batch's
    // register and status entries only, so the newest is the status in force.
    "COALESCE(b.status_reason, ''), CASE WHEN b.status <> 0 THEN (SELECT MAX(be.idx) FROM "
    "batch_events be WHERE be.gtin = p.gtin AND be.lot = p.lot) ELSE 0 END FROM packs p "
    "JOIN batches b ON b.gtin = p.gtin AND b.lot = p.lot JOIN products pr ON pr.gtin = p.gtin "
    "WHERE p.gtin = ?1 AND p.serial = ?2";

inline PackView PackFromRow(const log::sql::Query& q, std::string_view gtin,
                            std::string_view serial) {
  PackView v;
  v.gtin = gtin;
  v.serial = serial;
  v.lot = q.Text(0);
  v.facts.status = static_cast<PackStatus>(q.Int(1));
  v.facts.holder_org = q.Text(2);
  v.facts.status_org = q.Text(3);
  v.facts.status_location = q.Text(4);
  v.facts.status_time = q.Int(5);
  v.parent = q.Text(6);
  v.in_transit_to = q.Text(7);
  v.facts.temperature_excursion = q.Int(8) != 0;
  v.facts.expiry = ParseDate(q.Text(9)).value_or(std::chrono::year_month_day{});
  v.facts.batch_status = static_cast<BatchStatus>(q.Int(10));
  v.commissioned_index = static_cast<uint64_t>(q.Int(11));
  v.product_name = q.Text(12);
  if (v.facts.batch_status != BatchStatus::kActive) {
    v.batch_status_reason = q.Text(13);
    v.batch_status_index = static_cast<uint64_t>(q.Int(14));
  }
  return v;
}

// Roles are stored comma-separated.
inline std::vector<std::string> SplitRoles(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace pedigree::provenance
