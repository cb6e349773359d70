// ShipmentView: the shipments table read on a read-only connection of its own.
#include "pedigree/provenance/shipment_view.h"

#include "pedigree/log/sql.h"

namespace pedigree::provenance {

struct ShipmentView::Impl {
  log::sql::Connection db;
  explicit Impl(log::sql::Connection connection) : db(std::move(connection)) {}
};

ShipmentView::ShipmentView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ShipmentView::~ShipmentView() = default;

Result<std::unique_ptr<ShipmentView>> ShipmentView::Open(const std::string& db_path) {
  PEDIGREE_ASSIGN(db, log::OpenReadOnly(db_path));
  return std::unique_ptr<ShipmentView>(new ShipmentView(std::make_unique<Impl>(std::move(*db))));
}

Result<std::optional<uint64_t>> ShipmentView::ShippedEntry(std::string_view from_org,
                                                           std::string_view despatch_advice) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT shipped_idx FROM shipments "
                                       "WHERE from_org = ?1 AND despatch_advice = ?2"));
  q->Bind(1, from_org);
  q->Bind(2, despatch_advice);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(static_cast<uint64_t>(q->Int(0)));
}

}  // namespace pedigree::provenance
