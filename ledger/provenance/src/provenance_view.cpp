// ProvenanceView: read-only queries over the derived tables on a connection of its own,
// so that readers (verify requests, reports) never wait for the sequencer's writer.
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/sql.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/provenance.h"
#include "provenance_rows.h"

namespace pedigree::provenance {

namespace {

// The first column of every row of `q`, as entry indices.
Result<std::vector<uint64_t>> Indices(log::sql::Query& q) {
  std::vector<uint64_t> out;
  PEDIGREE_TRY(q.ForEachRow(
      [&](const log::sql::Query& row) { out.push_back(static_cast<uint64_t>(row.Int(0))); }));
  return out;
}

}  // namespace

struct ProvenanceView::Impl {
  log::sql::Connection db;
  explicit Impl(log::sql::Connection connection) : db(std::move(connection)) {}
};

ProvenanceView::ProvenanceView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProvenanceView::~ProvenanceView() = default;

Result<std::unique_ptr<ProvenanceView>> ProvenanceView::Open(const std::string& db_path) {
  PEDIGREE_ASSIGN(db, log::OpenReadOnly(db_path));
  return std::unique_ptr<ProvenanceView>(
      new ProvenanceView(std::make_unique<Impl>(std::move(*db))));
}

Result<std::optional<PackView>> ProvenanceView::Pack(std::string_view gtin,
                                                     std::string_view serial) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(kSelectPack));
  q->Bind(1, gtin).Bind(2, serial);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<PackView>();
  return std::optional<PackView>(PackFromRow(*q, gtin, serial));
}

Result<std::optional<ContainerView>> ProvenanceView::Container(std::string_view sscc) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT holder, COALESCE(parent, ''), "
                                       "COALESCE(in_transit_to, ''), created_idx FROM containers "
                                       "WHERE sscc = ?1"));
  q->Bind(1, sscc);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<ContainerView>();
  ContainerView c{std::string(sscc),
                  q->Text(0),
                  q->Text(1),
                  q->Text(2),
                  static_cast<uint64_t>(q->Int(3)),
                  {},
                  {}};
  PEDIGREE_ASSIGN(packs, impl_->db.Prepare("SELECT gtin, serial FROM packs WHERE parent = ?1 "
                                           "ORDER BY gtin, serial"));
  packs->Bind(1, sscc);
  while (true) {
    PEDIGREE_ASSIGN(more, packs->Step());
    if (!*more) break;
    c.packs.push_back("https://id.gs1.org/01/" + packs->Text(0) + "/21/" +
                      PercentEncode(packs->Text(1)));
  }
  PEDIGREE_ASSIGN(inner,
                  impl_->db.Prepare("SELECT sscc FROM containers WHERE parent = ?1 ORDER BY sscc"));
  inner->Bind(1, sscc);
  while (true) {
    PEDIGREE_ASSIGN(more, inner->Step());
    if (!*more) break;
    c.containers.push_back(inner->Text(0));
  }
  return std::optional<ContainerView>(std::move(c));
}

Result<std::vector<uint64_t>> ProvenanceView::ContainerHistory(std::string_view sscc) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM container_events WHERE sscc = ?1 "
                                       "ORDER BY idx"));
  q->Bind(1, sscc);
  return Indices(*q);
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
             "SELECT b.expiry, b.quantity, b.status, b.status_reason, p.org, p.name FROM batches b "
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
  b.product_name = q->Text(5);
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
  return Indices(*q);
}

namespace {

// The alert_status columns every alert query selects after its own, from alias s (a
// literal: statements are cached by the address of their text).
#define PEDIGREE_ALERT_STATUS_COLUMNS                                                  \
  "COALESCE(s.class, ''), COALESCE(s.state, 'open'), COALESCE(s.classification, ''), " \
  "COALESCE(s.reason, ''), COALESCE(s.actor, ''), COALESCE(s.suppressed, 0)"

void ReadAlertStatus(log::sql::Query& q, int first, AlertRecord& a) {
  a.alert_class = q.Text(first);
  a.state = q.Text(first + 1);
  a.classification = q.Text(first + 2);
  a.reason = q.Text(first + 3);
  a.actor = q.Text(first + 4);
  a.suppressed = q.Int(first + 5);
  if (a.alert_class.empty()) {
    // Recorded before alert_status existed: the class of its code.
    const auto code = AlertCodeNamed(a.code);
    a.alert_class =
        AlertClassName(code ? ClassifyAlert(*code, false) : AlertClass::kFalsificationSignal);
  }
}

}  // namespace

bool AlertRecord::Weighs() const { return AlertWeighs(alert_class, state, classification); }

Result<std::vector<AlertRecord>> ProvenanceView::Alerts(std::string_view org, size_t limit) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(
                         "SELECT a.idx, a.code, a.epc, a.subject_org, a.message, a.time, "
                         "CASE WHEN ?1 = '' OR a.subject_org = ?1 THEN '' ELSE p.role "
                         "END, " PEDIGREE_ALERT_STATUS_COLUMNS
                         " FROM alerts a LEFT JOIN alert_parties p ON p.org = ?1 AND p.idx = a.idx "
                         "LEFT JOIN alert_status s ON s.idx = a.idx "
                         "WHERE ?1 = '' OR a.subject_org = ?1 OR p.org IS NOT NULL "
                         "ORDER BY a.idx DESC LIMIT ?2"));
  q->Bind(1, org).Bind(2, static_cast<int64_t>(limit));
  std::vector<AlertRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    AlertRecord a{static_cast<uint64_t>(q->Int(0)),
                  q->Text(1),
                  q->Text(2),
                  q->Text(3),
                  q->Text(4),
                  q->Int(5),
                  q->Text(6)};
    ReadAlertStatus(*q, 7, a);
    out.push_back(std::move(a));
  }
  return out;
}

Result<int64_t> ProvenanceView::AlertsSince(std::string_view org, std::string_view code,
                                            int64_t since) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT COUNT(*) FROM alerts WHERE subject_org = ?1 AND "
                                       "code = ?2 AND time >= ?3"));
  q->Bind(1, org).Bind(2, code).Bind(3, since);
  PEDIGREE_ASSIGN(row, q->Step());
  return *row ? q->Int(0) : 0;
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

Result<std::vector<AlertRecord>> ProvenanceView::BatchAlerts(std::string_view gtin,
                                                             std::string_view lot) {
  // Alerts name packs by Digital Link URI: the GTIN prefix narrows them (alerts are few
  // next to packs), the pack's own row decides the lot.
  const std::string prefix = "https://id.gs1.org/01/" + std::string(gtin) + "/21/";
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT a.idx, a.code, a.epc, a.subject_org, a.message, "
                                       "a.time, '', " PEDIGREE_ALERT_STATUS_COLUMNS
                                       " FROM alerts a LEFT JOIN alert_status s ON s.idx = a.idx "
                                       "WHERE substr(a.epc, 1, length(?1)) = ?1 ORDER BY a.idx"));
  q->Bind(1, prefix);
  std::vector<AlertRecord> out;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    AlertRecord a{static_cast<uint64_t>(q->Int(0)),
                  q->Text(1),
                  q->Text(2),
                  q->Text(3),
                  q->Text(4),
                  q->Int(5)};
    ReadAlertStatus(*q, 7, a);
    std::string serial;
    const std::string encoded = a.epc.substr(prefix.size());
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    for (size_t i = 0; i < encoded.size(); ++i) {
      if (encoded[i] == '%' && i + 2 < encoded.size() && hex(encoded[i + 1]) >= 0 &&
          hex(encoded[i + 2]) >= 0) {
        serial += static_cast<char>(hex(encoded[i + 1]) * 16 + hex(encoded[i + 2]));
        i += 2;
      } else {
        serial += encoded[i];
      }
    }
    PEDIGREE_ASSIGN(p, impl_->db.Prepare("SELECT lot FROM packs WHERE gtin = ?1 AND serial = ?2"));
    p->Bind(1, gtin).Bind(2, serial);
    PEDIGREE_ASSIGN(found, p->Step());
    if (*found && p->Text(0) == lot) out.push_back(std::move(a));
  }
  return out;
}

Result<std::vector<ExcursionRecord>> ProvenanceView::BatchExcursions(std::string_view gtin,
                                                                     std::string_view lot) {
  std::vector<ExcursionRecord> out;
  {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT 1 FROM shipments WHERE excursion = 1 LIMIT 1"));
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) return out;
  }
  // A sensor event records a pack event for every pack of its shipment; the excursion
  // packs of the batch lead to those events, the flagged shipments name them. The plan
  // is forced (CROSS JOIN, +lot): walk the GTIN's packs in primary-key order, reading
  // the excursion flag in the row, and look up pack events only for flagged packs;
  // through packs_by_batch every pack would cost a table lookup.
  // (PostgreSQL has neither the hint nor a unary + on text: its planner chooses alone.)
  PEDIGREE_ASSIGN(
      q, impl_->db.Prepare(
             impl_->db.dialect() == log::sql::Dialect::kPostgres
                 ? "SELECT pe.idx, COUNT(*) FROM packs p JOIN pack_events pe "
                   "ON pe.gtin = p.gtin AND pe.serial = p.serial "
                   "WHERE p.gtin = ?1 AND p.lot = ?2 AND p.excursion = 1 GROUP BY pe.idx ORDER BY 1"
                 : "SELECT pe.idx, COUNT(*) FROM packs p CROSS JOIN pack_events pe "
                   "ON pe.gtin = p.gtin AND pe.serial = p.serial "
                   "WHERE p.gtin = ?1 AND +p.lot = ?2 AND p.excursion = 1 GROUP BY pe.idx ORDER "
                   "BY 1"));
  q->Bind(1, gtin).Bind(2, lot);
  std::vector<std::pair<uint64_t, int64_t>> candidates;
  while (true) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    candidates.emplace_back(static_cast<uint64_t>(q->Int(0)), q->Int(1));
  }
  for (const auto& [index, packs] : candidates) {
    PEDIGREE_ASSIGN(e, impl_->db.Prepare("SELECT data FROM entries WHERE idx = ?1"));
    e->Bind(1, static_cast<int64_t>(index));
    PEDIGREE_ASSIGN(found, e->Step());
    if (!*found) continue;
    auto opened = ParseJson(e->Text(0));
    if (!opened) continue;
    const JsonValue* payload = opened->find("payload");
    if (!payload || !payload->find("kind") || !payload->find("kind")->is_string() ||
        payload->find("kind")->as_string() != "sensor")
      continue;
    const JsonValue* from = payload->find("from");
    const JsonValue* advice = payload->find("despatchAdvice");
    if (!from || !from->is_string() || !advice || !advice->is_string()) continue;
    PEDIGREE_ASSIGN(s, impl_->db.Prepare("SELECT to_org FROM shipments WHERE from_org = ?1 AND "
                                         "despatch_advice = ?2 AND excursion = 1"));
    s->Bind(1, from->as_string()).Bind(2, advice->as_string());
    PEDIGREE_ASSIGN(flagged, s->Step());
    if (!*flagged) continue;
    auto range = SensorTemperatureRange(*payload);
    if (!range) continue;
    out.push_back({index, from->as_string(), advice->as_string(), s->Text(0), range->first,
                   range->second, packs});
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

Result<OrgRegistryEntries> ProvenanceView::OrgRegistry(std::string_view org) {
  OrgRegistryEntries out;
  {
    // Its loggers' org.device_add and org.device_revoke entries too: a report checks a
    // device-signed reading against them (docs/epcis.md, "Device-signed sensor data").
    PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT registered_idx FROM orgs WHERE id = ?1 UNION "
                                         "SELECT added_idx FROM org_keys WHERE org = ?1 UNION "
                                         "SELECT added_idx FROM org_devices WHERE org = ?1 UNION "
                                         "SELECT revoked_idx FROM org_devices WHERE org = ?1 "
                                         "AND revoked_idx IS NOT NULL ORDER BY 1"));
    q->Bind(1, org);
    PEDIGREE_ASSIGN(entries, Indices(*q));
    out.entries = std::move(*entries);
  }
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT added_idx FROM org_keys WHERE org = ?1 AND "
                                       "revoked_at IS NOT NULL ORDER BY 1"));
  q->Bind(1, org);
  PEDIGREE_ASSIGN(revoked, Indices(*q));
  out.revoked_key_entries = std::move(*revoked);
  return out;
}

Result<std::optional<std::string>> ProvenanceView::OrgOfGln(std::string_view gln) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT org FROM org_glns WHERE gln = ?1"));
  q->Bind(1, gln);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(q->Text(0));
}

Result<std::vector<uint64_t>> ProvenanceView::ProductEntries(std::string_view gtin) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT idx FROM products WHERE gtin = ?1"));
  q->Bind(1, gtin);
  return Indices(*q);
}

Result<std::vector<uint64_t>> ProvenanceView::BatchEntries(std::string_view gtin,
                                                           std::string_view lot) {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare(
                         "SELECT idx FROM batch_events WHERE gtin = ?1 AND lot = ?2 ORDER BY idx"));
  q->Bind(1, gtin).Bind(2, lot);
  return Indices(*q);
}

}  // namespace pedigree::provenance
