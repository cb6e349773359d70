// ProvenanceView: read-only queries over the derived tables on a connection of its own,
// so that readers (verify requests, reports) never wait for the sequencer's writer.
#include <sqlite3.h>

#include "pedigree/ledger/provenance.h"
#include "provenance_rows.h"
#include "sql.h"

namespace pedigree::ledger {

struct ProvenanceView::Impl {
  SqliteDb owner;
  sql::Connection db;
  explicit Impl(sqlite3* handle) : owner(handle), db(handle) {}
};

ProvenanceView::ProvenanceView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProvenanceView::~ProvenanceView() = default;

Result<std::unique_ptr<ProvenanceView>> ProvenanceView::Open(const std::string& db_path) {
  sqlite3* handle = nullptr;
  int rc = sqlite3_open_v2(db_path.c_str(), &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  auto impl = std::make_unique<Impl>(handle);
  if (rc != SQLITE_OK) {
    return Fail("storage.io", "cannot open " + db_path + " for reading: " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(handle, 5000);
  return std::unique_ptr<ProvenanceView>(new ProvenanceView(std::move(impl)));
}

Result<std::optional<PackView>> ProvenanceView::Pack(std::string_view gtin,
                                                     std::string_view serial) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(kSelectPack));
  q->Bind(1, gtin).Bind(2, serial);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<PackView>();
  return std::optional<PackView>(PackFromRow(*q, gtin, serial));
}

Result<bool> ProvenanceView::ProductExists(std::string_view gtin) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT 1 FROM products WHERE gtin = ?1"));
  q->Bind(1, gtin);
  return q->Step();
}

Result<std::optional<BatchView>> ProvenanceView::Batch(std::string_view gtin,
                                                       std::string_view lot) {
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare(
             "SELECT b.expiry, b.quantity, b.status, b.status_reason, p.org FROM batches b "
             "JOIN products p ON p.gtin = b.gtin WHERE b.gtin = ?1 AND b.lot = ?2"));
  q->Bind(1, gtin).Bind(2, lot);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<BatchView>();
  BatchView b;
  b.gtin = gtin;
  b.lot = lot;
  b.expiry = ParseDate(q->Text(0)).value_or(std::chrono::year_month_day{});
  b.quantity = q->Int(1);
  b.status = static_cast<BatchStatus>(q->Int(2));
  b.status_reason = q->Text(3);
  b.manufacturer = q->Text(4);
  return std::optional<BatchView>(std::move(b));
}

Result<std::vector<uint64_t>> ProvenanceView::PackHistory(std::string_view gtin,
                                                          std::string_view serial) {
  PEDIGREE_ASSIGN(q,
                  impl_->db.Prepare(
                      "SELECT idx FROM pack_events WHERE gtin = ?1 AND serial = ?2 "
                      "UNION SELECT be.idx FROM batch_events be JOIN packs p "
                      "ON p.gtin = be.gtin AND p.lot = be.lot WHERE p.gtin = ?1 AND p.serial = ?2 "
                      "ORDER BY 1"));
  q->Bind(1, gtin).Bind(2, serial);
  std::vector<uint64_t> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back(static_cast<uint64_t>(q->Int(0)));
  }
  return out;
}

Result<std::vector<AlertRecord>> ProvenanceView::Alerts(std::string_view org, size_t limit) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(
                         "SELECT a.idx, a.code, a.epc, a.subject_org, a.message, a.time, "
                         "CASE WHEN ?1 = '' OR a.subject_org = ?1 THEN '' ELSE p.role END "
                         "FROM alerts a LEFT JOIN alert_parties p ON p.org = ?1 AND p.idx = a.idx "
                         "WHERE ?1 = '' OR a.subject_org = ?1 OR p.org IS NOT NULL "
                         "ORDER BY a.idx DESC LIMIT ?2"));
  q->Bind(1, org).Bind(2, static_cast<int64_t>(limit));
  std::vector<AlertRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({static_cast<uint64_t>(q->Int(0)), q->Text(1), q->Text(2), q->Text(3), q->Text(4),
                   q->Int(5), q->Text(6)});
  }
  return out;
}

Result<std::vector<HolderCount>> ProvenanceView::RecallReach(std::string_view gtin,
                                                             std::string_view lot) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(
                         "SELECT holder, COALESCE(in_transit_to, ''), status, COUNT(*) FROM packs "
                         "WHERE gtin = ?1 AND lot = ?2 GROUP BY holder, in_transit_to, status "
                         "ORDER BY 4 DESC"));
  q->Bind(1, gtin).Bind(2, lot);
  std::vector<HolderCount> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    out.push_back({q->Text(0), q->Text(1),
                   std::string(PackStatusName(static_cast<PackStatus>(q->Int(2)))), q->Int(3)});
  }
  return out;
}

Result<std::vector<std::string>> ProvenanceView::OrgRoles(std::string_view org) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT roles FROM orgs WHERE id = ?1"));
  q->Bind(1, org);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::vector<std::string>();
  return SplitRoles(q->Text(0));
}

}  // namespace pedigree::ledger
