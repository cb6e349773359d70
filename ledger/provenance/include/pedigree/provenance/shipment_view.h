// Read-only lookups of shipments in the derived tables (shipments: the ship entry a receive
// or sensor entry closes or reports on), on a connection of its own. The EPCIS query
// interface needs them to render one event without the whole history around it
// (docs/epcis.md, "Query"). Not thread-safe: one per thread or per request.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pedigree/base/error.h"

namespace pedigree::provenance {

class ShipmentView {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ShipmentView>> Open(const std::string& db_path);
  ~ShipmentView();

  // Ledger index of the ship entry of `from_org`'s shipment `despatch_advice`, or empty when
  // the derived state holds no such shipment.
  [[nodiscard]] Result<std::optional<uint64_t>> ShippedEntry(std::string_view from_org,
                                                             std::string_view despatch_advice);

 private:
  struct Impl;
  explicit ShipmentView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pedigree::provenance
