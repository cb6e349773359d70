// BatchReport: the batch's state from the derived tables, as REPORT_SPEC "batch".
#include "pedigree/reports/batch_report.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "pedigree/log/ledger.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/device_signature.h"
#include "report_frame.h"

namespace pedigree::reports {
namespace {

using frame::Check;
using frame::Int;

// Tenths of a degree as the decimal string signed payloads use ("12.3", "-0.5").
std::string Celsius(int64_t tenths) {
  const bool negative = tenths < 0;
  const uint64_t magnitude =
      negative ? static_cast<uint64_t>(-(tenths + 1)) + 1 : static_cast<uint64_t>(tenths);
  return (negative ? "-" : "") + std::to_string(magnitude / 10) + "." +
         std::to_string(magnitude % 10);
}

// "1 alert", "2 alerts".
std::string Count(size_t n, const std::string& noun) {
  return std::to_string(n) + " " + noun + (n == 1 ? "" : "s");
}

// Log facts for the report: origin, size, the newest checkpoint and the log's key, read
// from the ledger directory without its writer lock.
Result<JsonValue> LogFacts(const std::string& ledger_dir) {
  // One root computation: no tile is read twice, so none is cached.
  auto storage = log::OpenLedgerStorage(ledger_dir, /*tile_cache_tiles=*/0);
  if (!storage) return std::unexpected(storage.error());
  auto log = JsonValue::Object();
  std::ifstream vkey_in(std::filesystem::path(ledger_dir) / log::kLogVerifierKeyFile);
  std::string vkey;
  std::getline(vkey_in, vkey);
  log.set("origin", vkey.substr(0, vkey.find('+')));
  auto size = (*storage)->Size();
  if (!size) return std::unexpected(size.error());
  log.set("treeSize", Int(*size));
  auto root = log::TreeRoot(*size, **storage);
  if (!root) return std::unexpected(root.error());
  log.set("rootHash", ToHex(*root));
  // The newest signed checkpoint may be older than the stored tree.
  auto latest = (*storage)->LatestCheckpoint();
  if (!latest) return std::unexpected(latest.error());
  if (*latest) log.set("checkpoint", (*latest)->note);
  log.set("verifierKey", vkey);
  log.set("cosignatures",
          *latest ? frame::CosignatureNames((*latest)->note, vkey.substr(0, vkey.find('+')))
                  : JsonValue::Array());
  return log;
}

// Who vouches for each excursion's readings (docs/epcis.md, "Device-signed sensor data"):
// `signedBy` the deviceIDs of the loggers whose signatures the ledger's rules verified when
// the sensor entry was sequenced (an entry on the log carries only signatures that passed),
// and `reportedBy` "signed by logger X of org Y" or "reported by org Y". This report rests on
// the derived state like the rest of it; the pack report checks the signatures from proofs.
Status AttributeExcursions(const std::string& ledger_dir, JsonValue& report) {
  JsonValue* excursions = report.find("excursions");
  if (!excursions || !excursions->is_array() || excursions->as_array().empty()) return Ok();
  PEDIGREE_ASSIGN(storage, log::OpenLedgerStorage(ledger_dir, /*tile_cache_tiles=*/0));
  for (JsonValue& e : excursions->as_array()) {
    const JsonValue* index = e.find("index");
    if (!index || !index->is_int()) continue;
    PEDIGREE_ASSIGN(entry, (*storage)->ReadEntry(static_cast<uint64_t>(index->as_int())));
    PEDIGREE_ASSIGN(envelope, ParseJson(*entry, {.integers_only = true}));
    const JsonValue* payload = envelope->find("payload");
    if (!payload) continue;
    const JsonValue* org = payload->find("org");
    const std::string reporter = org && org->is_string() ? org->as_string() : std::string();
    std::vector<std::string> devices;
    if (const JsonValue* list = payload->find("sensorElementList"); list && list->is_array()) {
      for (const JsonValue& element : list->as_array()) {
        auto signature = provenance::ReadDeviceSignature(element, "sensorElementList");
        if (signature && *signature) devices.push_back((*signature)->device_id);
      }
    }
    std::string text;
    for (const std::string& d : devices) text += (text.empty() ? "" : ", ") + d;
    e.set("signedBy", JsonValue::Strings(devices));
    e.set("reportedBy", devices.empty() ? "reported by " + reporter
                                        : "signed by logger " + text + " of " + reporter);
  }
  return Ok();
}

}  // namespace

Result<JsonValue> BatchReport(provenance::ProvenanceView& view, std::string_view gtin,
                              std::string_view lot) {
  auto batch = view.Batch(gtin, lot);
  if (!batch) return std::unexpected(batch.error());
  if (!*batch) {
    return Fail(Error("report.no_such_batch", "no batch '" + std::string(lot) + "' of GTIN " +
                                                  std::string(gtin) + " is registered")
                    .at_field("lot"));
  }
  const provenance::BatchView& b = **batch;
  auto reach = view.RecallReach(gtin, lot);
  if (!reach) return std::unexpected(reach.error());
  auto alerts = view.BatchAlerts(gtin, lot);
  if (!alerts) return std::unexpected(alerts.error());
  auto excursions = view.BatchExcursions(gtin, lot);
  if (!excursions) return std::unexpected(excursions.error());

  JsonValue report = frame::Frame("batch");
  const std::string status(provenance::BatchStatusName(b.status));
  report.set("subject", JsonValue::Object()
                            .set("gtin", b.gtin)
                            .set("lot", b.lot)
                            .set("expiry", FormatDate(b.expiry))
                            .set("productName", b.product_name)
                            .set("manufacturer", b.manufacturer)
                            .set("status", status)
                            .set("statusReason", b.status_reason));
  // Counts per status come from the reach rows: one pass over the batch's index entries.
  int64_t commissioned = 0;
  std::map<std::string, int64_t> per_status;
  for (const auto& h : *reach) {
    per_status[h.status] += h.packs;
    commissioned += h.packs;
  }
  auto count_json = JsonValue::Object();
  for (const auto& [status_name, n] : per_status) count_json.set(status_name, n);
  report.set("counts", std::move(count_json));
  auto reach_json = JsonValue::Array();
  for (const auto& h : *reach) {
    reach_json.push_back(JsonValue::Object()
                             .set("holder", h.holder)
                             .set("inTransitTo", h.in_transit_to)
                             .set("status", h.status)
                             .set("packs", h.packs));
  }
  auto alert_json = JsonValue::Array();
  for (const auto& a : *alerts) {
    alert_json.push_back(JsonValue::Object()
                             .set("index", Int(a.index))
                             .set("code", a.code)
                             .set("time", FormatUtcTime(a.time))
                             .set("org", a.subject_org)
                             .set("pack", a.epc)
                             .set("message", a.message)
                             .set("class", a.alert_class)
                             .set("state", a.state)
                             .set("classification", a.classification)
                             .set("reason", a.reason)
                             .set("suppressed", a.suppressed)
                             .set("weighs", a.Weighs()));
  }
  auto excursion_json = JsonValue::Array();
  auto violations = JsonValue::Array();
  int64_t excursion_packs = 0;
  for (const auto& e : *excursions) {
    excursion_packs += e.packs;
    excursion_json.push_back(JsonValue::Object()
                                 .set("index", Int(e.index))
                                 .set("despatchAdvice", e.despatch_advice)
                                 .set("from", e.from)
                                 .set("to", e.to)
                                 .set("min", Celsius(e.min_tenths))
                                 .set("max", Celsius(e.max_tenths))
                                 .set("packs", e.packs));
    violations.push_back(JsonValue::Object()
                             .set("code", "temperature_excursion")
                             .set("message", "shipment " + e.despatch_advice + " from " + e.from +
                                                 " to " + e.to + " reported " +
                                                 Celsius(e.min_tenths) + " to " +
                                                 Celsius(e.max_tenths) +
                                                 " \xC2\xB0"
                                                 "C for " +
                                                 std::to_string(e.packs) + " packs")
                             .set("index", Int(e.index))
                             .set("org", e.from));
  }

  auto checks = JsonValue::Array();
  checks.push_back(Check("batch.registered", "pass",
                         std::to_string(commissioned) + " of " + std::to_string(b.quantity) +
                             " registered packs commissioned"));
  const bool batch_ok = b.status == provenance::BatchStatus::kActive;
  checks.push_back(Check("batch.status", batch_ok ? "pass" : "warn",
                         batch_ok
                             ? std::string("active")
                             : status + (b.status_reason.empty() ? "" : ": " + b.status_reason)));
  checks.push_back(Check("batch.alerts", alerts->empty() ? "pass" : "warn",
                         Count(alerts->size(), "alert") + " naming packs of the batch"));
  checks.push_back(Check("batch.excursions", excursions->empty() ? "pass" : "warn",
                         excursions->empty()
                             ? std::string("no temperature excursion")
                             : Count(excursions->size(), "sensor event") + " out of range, " +
                                   std::to_string(excursion_packs) + " packs affected"));
  if (!batch_ok) {
    violations.push_back(
        JsonValue::Object()
            .set("code", status)
            .set("message",
                 "batch is " + status + (b.status_reason.empty() ? "" : ": " + b.status_reason))
            .set("org", b.manufacturer));
  }
  // Only open falsification signals and confirmed falsifications weigh (docs/alerts.md).
  for (const auto& a : *alerts) {
    if (!a.Weighs()) continue;
    violations.push_back(JsonValue::Object()
                             .set("code", a.code)
                             .set("message", a.message)
                             .set("index", Int(a.index))
                             .set("time", FormatUtcTime(a.time))
                             .set("org", a.subject_org));
  }
  const bool suspect = !violations.as_array().empty();
  report.set("verdict", suspect ? "SUSPECT" : "VERIFIED");
  std::string summary = "Batch " + b.lot + " of " +
                        (b.product_name.empty() ? b.gtin : b.product_name) + " (" + status +
                        "): " + std::to_string(commissioned) + " packs held by " +
                        std::to_string(reach->size()) + " holder/status groups";
  summary += alerts->empty() ? ", no alerts" : ", " + Count(alerts->size(), "alert");
  summary += excursions->empty() ? ", no temperature excursion."
                                 : ", " + std::to_string(excursion_packs) +
                                       " packs through a temperature excursion.";
  report.set("summary", std::move(summary));
  report.set("checks", std::move(checks));
  report.set("failures", JsonValue::Array());
  report.set("violations", std::move(violations));
  report.set("recallReach", std::move(reach_json));
  report.set("alerts", std::move(alert_json));
  report.set("excursions", std::move(excursion_json));
  return report;
}

Result<JsonValue> BatchReport(const std::string& ledger_dir, std::string_view gtin,
                              std::string_view lot) {
  const std::string db = (std::filesystem::path(ledger_dir) / log::kLedgerDbFile).string();
  std::error_code ec;
  if (!std::filesystem::exists(db, ec))
    return Fail("report.no_ledger", "no ledger database at " + db);
  auto view = provenance::ProvenanceView::Open(db);
  if (!view) return std::unexpected(view.error());
  auto report = BatchReport(**view, gtin, lot);
  if (!report) return std::unexpected(report.error());
  auto log = LogFacts(ledger_dir);
  if (!log) return std::unexpected(log.error());
  report->set("log", std::move(*log));
  PEDIGREE_TRY(AttributeExcursions(ledger_dir, *report));
  return report;
}

}  // namespace pedigree::reports
