// Derived tables of the provenance model, in the ledger's SQLite file. They are a
// projection of the log: every row can be rebuilt by replaying the entries.
#pragma once

namespace pedigree::provenance {

inline constexpr const char* kProvenanceSchema = R"sql(
CREATE TABLE IF NOT EXISTS provenance_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS orgs(
  id TEXT PRIMARY KEY, name TEXT NOT NULL, roles TEXT NOT NULL, registered_idx INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS org_prefixes(prefix TEXT PRIMARY KEY, org TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS org_glns(gln TEXT PRIMARY KEY, org TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS org_keys(
  key BLOB PRIMARY KEY, org TEXT NOT NULL, valid_from INTEGER NOT NULL, valid_until INTEGER,
  revoked_at INTEGER, added_idx INTEGER NOT NULL);
-- Data loggers of an organisation (org.device_add / org.device_revoke): the EPCIS deviceID
-- they write in sensorMetadata, their own Ed25519 key, and when they stopped counting.
CREATE TABLE IF NOT EXISTS org_devices(
  device TEXT PRIMARY KEY, org TEXT NOT NULL, key BLOB NOT NULL, label TEXT,
  added_idx INTEGER NOT NULL, revoked_at INTEGER, revoked_idx INTEGER);
CREATE INDEX IF NOT EXISTS org_devices_by_org ON org_devices(org);
-- The sensorElements the rules found signed by a registered logger: entry, position in its
-- sensorElementList, logger. A signature counts once (the same signed readings attached to a
-- second shipment are refused).
CREATE TABLE IF NOT EXISTS sensor_device_readings(
  idx INTEGER NOT NULL, element INTEGER NOT NULL, device TEXT NOT NULL, sig BLOB NOT NULL UNIQUE,
  PRIMARY KEY(idx, element));
CREATE TABLE IF NOT EXISTS products(
  gtin TEXT PRIMARY KEY, org TEXT NOT NULL, name TEXT NOT NULL, form TEXT, strength TEXT,
  nhrn TEXT, temp_min INTEGER, temp_max INTEGER, idx INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS batches(
  gtin TEXT NOT NULL, lot TEXT NOT NULL, expiry TEXT NOT NULL, quantity INTEGER NOT NULL,
  commissioned INTEGER NOT NULL DEFAULT 0, status INTEGER NOT NULL, status_reason TEXT,
  idx INTEGER NOT NULL,
  PRIMARY KEY(gtin, lot)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS packs(
  gtin TEXT NOT NULL, serial TEXT NOT NULL, lot TEXT NOT NULL, status INTEGER NOT NULL,
  holder TEXT NOT NULL, status_org TEXT, status_location TEXT, status_time INTEGER NOT NULL,
  parent TEXT, in_transit_to TEXT, excursion INTEGER NOT NULL, commissioned_idx INTEGER NOT NULL,
  PRIMARY KEY(gtin, serial)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS packs_by_batch ON packs(gtin, lot, holder, in_transit_to, status);
CREATE INDEX IF NOT EXISTS packs_by_parent ON packs(parent) WHERE parent IS NOT NULL;
CREATE TABLE IF NOT EXISTS containers(
  sscc TEXT PRIMARY KEY, holder TEXT NOT NULL, parent TEXT, in_transit_to TEXT,
  created_idx INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS containers_by_parent ON containers(parent) WHERE parent IS NOT NULL;
CREATE TABLE IF NOT EXISTS shipments(
  from_org TEXT NOT NULL, despatch_advice TEXT NOT NULL, to_org TEXT NOT NULL,
  to_location TEXT NOT NULL, status TEXT NOT NULL, excursion INTEGER NOT NULL,
  shipped_idx INTEGER NOT NULL, received_idx INTEGER,
  PRIMARY KEY(from_org, despatch_advice)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shipment_items(
  from_org TEXT NOT NULL, despatch_advice TEXT NOT NULL, epc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS shipment_items_by_shipment ON shipment_items(from_org, despatch_advice);
CREATE TABLE IF NOT EXISTS pack_events(
  gtin TEXT NOT NULL, serial TEXT NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY(gtin, serial, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS container_events(
  sscc TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(sscc, idx)) WITHOUT ROWID;
-- The latest claimed (client) time of an event on each pack, for the rule that an event is
-- never dated before the previous one on the same pack (sequenced entries only).
CREATE TABLE IF NOT EXISTS pack_times(
  gtin TEXT NOT NULL, serial TEXT NOT NULL, time INTEGER NOT NULL,
  PRIMARY KEY(gtin, serial)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS batch_events(
  gtin TEXT NOT NULL, lot TEXT NOT NULL, idx INTEGER NOT NULL,
  PRIMARY KEY(gtin, lot, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts(
  idx INTEGER PRIMARY KEY, code TEXT NOT NULL, epc TEXT, subject_org TEXT NOT NULL,
  message TEXT NOT NULL, time INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS alerts_by_org ON alerts(subject_org, idx);
-- The other parties an alert concerns, fixed when it is recorded: the holder of its
-- pack then ('holder') and the manufacturer of the pack's GTIN ('manufacturer').
CREATE TABLE IF NOT EXISTS alert_parties(
  org TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL,
  PRIMARY KEY(org, idx)) WITHOUT ROWID;
-- The life of each alert (docs/alerts.md, "Lifecycle"), written by the alert and
-- alert.investigate / alert.close rules: its class when raised, its state, who acted last
-- and at which entry, a close's classification and reason, and how many refusals like it
-- the node answered without recording (rate limit) before it.
CREATE TABLE IF NOT EXISTS alert_status(
  idx INTEGER PRIMARY KEY, class TEXT NOT NULL, state TEXT NOT NULL,
  classification TEXT, reason TEXT, actor TEXT, changed_idx INTEGER,
  suppressed INTEGER NOT NULL DEFAULT 0);
)sql";

}  // namespace pedigree::provenance
