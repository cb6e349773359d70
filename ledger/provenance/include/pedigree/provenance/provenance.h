// The provenance model on top of the generic log: it checks each signed payload
// against the organisation registry and the custody rules before the log sequences it,
// and keeps derived tables (packs, batches, shipments, alerts; trials and kits, read
// through trial_view.h) in the same SQLite transaction as the append, so the state
// always matches the log. Payloads: ../../../../docs/events.md; alerts:
// ../../../../docs/alerts.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/base/time.h"
#include "pedigree/log/keys.h"
#include "pedigree/provenance/pack_rules.h"

struct sqlite3;

namespace pedigree::log::sql {
class Connection;
}

namespace pedigree::provenance {

// The lowest and highest temperature, in tenths of a degree Celsius, that a sensor
// event's payload reports (`readings` or EPCIS `sensorElementList`); event.malformed
// when it reports none or malformed values. The rule the ledger applies to shipments.
[[nodiscard]] Result<std::pair<int64_t, int64_t>> SensorTemperatureRange(const JsonValue& payload);

// How far an event's own (claimed) "time" may lie from the log's sequencing time of its
// entry. The rules use the sequencing time; the claimed time is only recorded and shown.
struct TimeBounds {
  int64_t future_skew = 300;           // seconds the claimed time may be ahead
  int64_t offline_buffer = 72 * 3600;  // seconds it may be behind (offline replay)
};

struct ProvenanceConfig {
  log::PublicKey authority_key;  // signs org.register / key_add / key_revoke
  log::PublicKey node_key;       // the ledger's own key: signs alert events
  // The node's clock (unix seconds). Entries without a sequencing time (version 1 leaves)
  // are judged by their claimed time, and refused when it is more than 5 minutes after it.
  std::function<int64_t()> now;
  TimeBounds time_bounds;
  // Secret key of the registry seal (docs/threat-model.md, "An insider with the database"):
  // when set, every registry row (orgs, org_keys, org_prefixes, org_glns) and the
  // authority key carry an HMAC-SHA256 under it in table registry_macs, written by the
  // rules and checked when a signer's organisation and key are used. Empty: no seal (a
  // replay into a scratch database).
  std::vector<uint8_t> registry_mac_key;
};

// Derived state in the ledger's database (SQLite or PostgreSQL, through the SQL layer of
// log/sql.h). Not thread-safe: Apply runs on the sequencer's writer thread only; readers
// use ProvenanceView on their own connection.
class ProvenanceState {
 public:
  // Creates the derived tables in `db` if missing. `db` must outlive this object.
  [[nodiscard]] static Result<std::unique_ptr<ProvenanceState>> Attach(sqlite3* db,
                                                                       ProvenanceConfig config);
  // The same on a Connection of either backend (typically borrowing the storage's own
  // connection, so Apply runs inside the append's transaction); its database must
  // outlive this object.
  [[nodiscard]] static Result<std::unique_ptr<ProvenanceState>> Attach(log::sql::Connection db,
                                                                       ProvenanceConfig config);
  ~ProvenanceState();

  // The sequencer's validator: reads the envelope at `index` (already verified), checks its
  // payload and writes the derived rows inside a savepoint, so a refusal leaves nothing
  // behind. `payload`, when given, is the envelope's payload already parsed (by its
  // submitter, see log::EntryValidator): the entry is then not parsed again. Refusals that
  // are coded alerts (pack rules, enrolment before protocol, kit not received or
  // quarantined) carry code "alert.<id>"; trial and kit kinds "trial.*" and "kit.*"; others
  // "event.*".
  [[nodiscard]] Status Apply(uint64_t index, std::string_view entry,
                             const JsonValue* payload = nullptr);

  // Number of log entries the derived tables reflect.
  [[nodiscard]] Result<uint64_t> AppliedSize();

  // With a registry MAC key: writes the MAC of every registry row and of the authority key
  // (a ledger sealed for the first time). Without one: does nothing.
  [[nodiscard]] Status SealRegistry();
  // With a registry MAC key: checks the MAC of every registry row and of the authority
  // key, and that no MAC is left without its row; state.tampered naming the table and row
  // otherwise. Without one: does nothing.
  [[nodiscard]] Status VerifyRegistry();
  // Whether the registry holds any row (a ledger that has registered organisations).
  [[nodiscard]] Result<bool> HasRegistry();

 private:
  struct Impl;
  explicit ProvenanceState(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a reader learns about one pack.
struct PackView {
  std::string gtin;
  std::string serial;
  std::string lot;
  std::string product_name;
  PackFacts facts;
  std::string parent;         // SSCC of the case it is in, or empty
  std::string in_transit_to;  // org it is shipped to and not yet received by, or empty
  uint64_t commissioned_index = 0;
  // When the batch is recalled or withdrawn: the reason its batch.status entry gives, and
  // that entry's index (both empty / 0 while the batch is active).
  std::string batch_status_reason;
  uint64_t batch_status_index = 0;
};

// What a reader learns about one case or pallet (SSCC).
struct ContainerView {
  std::string sscc;
  std::string holder;                   // organisation with custody
  std::string parent;                   // SSCC of the pallet (or case) it is on, or empty
  std::string in_transit_to;            // org it is shipped to and not yet received by, or empty
  uint64_t created_index = 0;           // the aggregation that first named it
  std::vector<std::string> packs;       // packs directly inside (Digital Link URIs), sorted
  std::vector<std::string> containers;  // cases directly inside, sorted
};

struct BatchView {
  std::string gtin;
  std::string lot;
  std::chrono::year_month_day expiry{};
  int64_t quantity = 0;
  BatchStatus status = BatchStatus::kActive;
  std::string status_reason;
  std::string manufacturer;
  std::string product_name;
};

struct AlertRecord {
  uint64_t index = 0;  // ledger index of the alert event
  std::string code;    // alert id, e.g. "recalled"
  std::string epc;
  std::string subject_org;
  std::string message;
  int64_t time = 0;
  // Empty when the reader is the subject (or reads every alert); otherwise why the
  // reader is concerned: "holder" (held the pack when the alert was raised) or
  // "manufacturer" (of the pack's GTIN).
  std::string concern;
  // Its life (docs/alerts.md, "Lifecycle"): class "falsification_signal", "slip" or
  // "technical"; state "open", "investigating" or "closed"; a close's classification and
  // reason; who acted last; refusals like it answered but not recorded before it.
  std::string alert_class;
  std::string state;
  std::string classification;
  std::string reason;
  std::string actor;
  int64_t suppressed = 0;
  // Whether it weighs on the verdict of its pack or batch (AlertWeighs).
  bool Weighs() const;
};

struct HolderCount {
  std::string holder;
  std::string in_transit_to;
  std::string status;
  int64_t packs = 0;
};

// A sensor event on a shipment flagged with a temperature excursion, and how many packs
// of the batch asked about it covered.
struct ExcursionRecord {
  uint64_t index = 0;  // ledger index of the sensor event
  std::string from;
  std::string despatch_advice;
  std::string to;
  int64_t min_tenths = 0;  // lowest and highest temperature reported, tenths of °C
  int64_t max_tenths = 0;
  int64_t packs = 0;
};

// Where the registry entries about one organisation are in the log.
struct OrgRegistryEntries {
  // Its org.register entry and every entry that added one of its keys, ascending.
  std::vector<uint64_t> entries;
  // The entries that added its keys revoked since, ascending. Revocations themselves are
  // not indexed: each org.key_revoke comes after the entry that added its key.
  std::vector<uint64_t> revoked_key_entries;
};

// Read-only queries on a connection of its own. One per thread. `db_path` is the
// ledger's SQLite file or, on PostgreSQL, its connection string (log::OpenReadOnly).
class ProvenanceView {
 public:
  [[nodiscard]] static Result<std::unique_ptr<ProvenanceView>> Open(const std::string& db_path);
  ~ProvenanceView();

  // pedigree.unknown_product / unknown_serial style errors come back as alert codes.
  [[nodiscard]] Result<std::optional<PackView>> Pack(std::string_view gtin,
                                                     std::string_view serial);
  [[nodiscard]] Result<bool> ProductExists(std::string_view gtin);
  [[nodiscard]] Result<std::optional<BatchView>> Batch(std::string_view gtin, std::string_view lot);
  // Ledger indices of every event that touched the pack (directly or through a case),
  // in order.
  [[nodiscard]] Result<std::vector<uint64_t>> PackHistory(std::string_view gtin,
                                                          std::string_view serial);
  [[nodiscard]] Result<std::optional<ContainerView>> Container(std::string_view sscc);
  // Ledger indices of every event that touched the container: its aggregations and
  // disaggregations (as parent, as a child, or of a container above or below it), shipments
  // and receipts of it or of a container holding it; ascending.
  [[nodiscard]] Result<std::vector<uint64_t>> ContainerHistory(std::string_view sscc);
  // Alerts, newest first. With a non-empty `org`: those whose subject it is, and those
  // about a pack it held when the alert was raised or whose GTIN it manufactures.
  [[nodiscard]] Result<std::vector<AlertRecord>> Alerts(std::string_view org, size_t limit);
  // How many alerts with `code` against `org` were recorded at or after `since` (unix
  // seconds): the node's rate limit (SupplyNode::SetAlertLimit).
  [[nodiscard]] Result<int64_t> AlertsSince(std::string_view org, std::string_view code,
                                            int64_t since);
  // Who holds the batch's packs now, grouped by holder, transit and status.
  [[nodiscard]] Result<std::vector<HolderCount>> RecallReach(std::string_view gtin,
                                                             std::string_view lot);
  // Alerts naming a pack of the batch, oldest first.
  [[nodiscard]] Result<std::vector<AlertRecord>> BatchAlerts(std::string_view gtin,
                                                             std::string_view lot);
  // Sensor events on shipments with a temperature excursion that carried packs of the
  // batch, in log order. Cheap when the log holds no excursion at all.
  [[nodiscard]] Result<std::vector<ExcursionRecord>> BatchExcursions(std::string_view gtin,
                                                                     std::string_view lot);
  // The organisation's roles, or empty if unknown.
  [[nodiscard]] Result<std::vector<std::string>> OrgRoles(std::string_view org);
  // Both lists empty when the organisation is unknown.
  [[nodiscard]] Result<OrgRegistryEntries> OrgRegistry(std::string_view org);
  // The organisation that registered the GLN (org.register `glns`), or empty if none did.
  [[nodiscard]] Result<std::optional<std::string>> OrgOfGln(std::string_view gln);
  // Ledger index of the product.register of the GTIN, or empty if unknown.
  [[nodiscard]] Result<std::vector<uint64_t>> ProductEntries(std::string_view gtin);
  // Ledger indices of the batch's batch.register and batch.status events, ascending.
  [[nodiscard]] Result<std::vector<uint64_t>> BatchEntries(std::string_view gtin,
                                                           std::string_view lot);

 private:
  struct Impl;
  explicit ProvenanceView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pedigree::provenance

namespace pedigree::provenance {

// `count` random serial numbers of `length` characters drawn uniformly by the OS CSPRNG
// from 32 symbols: digits and upper-case letters without I and O (read as 1 and 0) and
// without Y and Z (swapped by QWERTZ keyboard wedges). 5 bits each, so 12 characters
// give 2^60 possibilities and a guess succeeds with probability far below the EU's
// 1/10,000. Distinct within the call; the ledger refuses a serial already commissioned
// for the GTIN.
std::vector<std::string> RandomSerials(size_t count, size_t length = 12);

}  // namespace pedigree::provenance
