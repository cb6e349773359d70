// Derived tables of the trial and kit rules, in the ledger's SQLite file beside the
// provenance tables; like them, a projection of the log. No personal or trial data:
// only ids, salted hashes (subjectRef, leaves), counts and the signers' printed names.
#pragma once

namespace pedigree::provenance {

inline constexpr const char* kTrialSchema = R"sql(
CREATE TABLE IF NOT EXISTS trials(
  id TEXT PRIMARY KEY, registry_id TEXT NOT NULL, sponsor TEXT NOT NULL, title TEXT NOT NULL,
  idx INTEGER NOT NULL, time INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS trial_sites(
  trial TEXT NOT NULL, site TEXT NOT NULL, pos INTEGER NOT NULL,
  PRIMARY KEY(trial, site)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_arms(
  trial TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, pos INTEGER NOT NULL,
  PRIMARY KEY(trial, code)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_protocols(
  trial TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL, protocol_hash TEXT NOT NULL,
  version TEXT NOT NULL, outcomes TEXT NOT NULL, signer_org TEXT NOT NULL,
  signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  PRIMARY KEY(trial, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_enrolments(
  trial TEXT NOT NULL, subject_ref TEXT NOT NULL, arm TEXT, site TEXT NOT NULL,
  idx INTEGER NOT NULL, time INTEGER NOT NULL,
  PRIMARY KEY(trial, subject_ref)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trial_enrolments_by_idx ON trial_enrolments(trial, idx);
CREATE TABLE IF NOT EXISTS trial_leaves(
  trial TEXT NOT NULL, domain TEXT NOT NULL, leaf TEXT NOT NULL, idx INTEGER NOT NULL,
  pos INTEGER NOT NULL, replaces TEXT, replaced_by TEXT, redacted INTEGER NOT NULL DEFAULT 0,
  signer_org TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL, reason TEXT,
  PRIMARY KEY(trial, domain, leaf)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trial_leaves_current
  ON trial_leaves(trial, domain, idx, pos) WHERE replaced_by IS NULL;
CREATE TABLE IF NOT EXISTS trial_domains(
  trial TEXT NOT NULL, domain TEXT NOT NULL, lock TEXT NOT NULL, sealed INTEGER NOT NULL,
  PRIMARY KEY(trial, domain)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_locks(
  trial TEXT NOT NULL, domain TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  action TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL, reason TEXT,
  approver TEXT,
  PRIMARY KEY(trial, domain, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_seals(
  trial TEXT NOT NULL, domain TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  root TEXT NOT NULL, record_count INTEGER NOT NULL, schema_hash TEXT NOT NULL,
  algorithm TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  PRIMARY KEY(trial, domain, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_redactions(
  trial TEXT NOT NULL, domain TEXT NOT NULL, leaf TEXT NOT NULL, idx INTEGER NOT NULL,
  time INTEGER NOT NULL, reason TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  PRIMARY KEY(trial, domain, leaf)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_consent_forms(
  trial TEXT NOT NULL, version TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  document_hash TEXT NOT NULL, country TEXT NOT NULL, language TEXT NOT NULL,
  ethics_ref TEXT NOT NULL, approved TEXT NOT NULL, effective TEXT NOT NULL,
  approved_time INTEGER NOT NULL, effective_time INTEGER NOT NULL, mandatory INTEGER NOT NULL,
  scopes TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  PRIMARY KEY(trial, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_consents(
  trial TEXT NOT NULL, subject_ref TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  consent_time INTEGER NOT NULL, version TEXT NOT NULL, granted TEXT NOT NULL,
  declined TEXT NOT NULL, site TEXT NOT NULL, signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  witness TEXT, representative TEXT,
  PRIMARY KEY(trial, subject_ref, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_withdrawals(
  trial TEXT NOT NULL, subject_ref TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  withdrawal_time INTEGER NOT NULL, data_choice TEXT NOT NULL, site TEXT NOT NULL,
  signer_name TEXT NOT NULL, meaning TEXT NOT NULL,
  PRIMARY KEY(trial, subject_ref)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_subject_leaves(
  trial TEXT NOT NULL, subject_ref TEXT NOT NULL, domain TEXT NOT NULL, leaf TEXT NOT NULL,
  idx INTEGER NOT NULL, time INTEGER NOT NULL,
  PRIMARY KEY(trial, subject_ref, domain, leaf)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_grants(
  trial TEXT NOT NULL, grant_id TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL,
  grantee TEXT NOT NULL, purpose TEXT NOT NULL, domains TEXT NOT NULL, sites TEXT NOT NULL,
  subjects TEXT NOT NULL, start_time INTEGER NOT NULL, expiry_time INTEGER NOT NULL,
  signer_name TEXT NOT NULL, meaning TEXT NOT NULL, revoked_idx INTEGER, revoked_time INTEGER,
  revoke_reason TEXT, revoked_by TEXT,
  PRIMARY KEY(trial, grant_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_accesses(
  trial TEXT NOT NULL, idx INTEGER NOT NULL, time INTEGER NOT NULL, reader TEXT NOT NULL,
  grant_id TEXT, purpose TEXT NOT NULL, domain TEXT NOT NULL, outcome TEXT NOT NULL,
  refusal TEXT, leaf_count INTEGER NOT NULL, signer_name TEXT NOT NULL,
  PRIMARY KEY(trial, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS trial_access_leaves(
  trial TEXT NOT NULL, idx INTEGER NOT NULL, pos INTEGER NOT NULL, domain TEXT NOT NULL,
  leaf TEXT NOT NULL,
  PRIMARY KEY(trial, idx, pos)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS trial_access_leaves_by_leaf ON trial_access_leaves(trial, leaf);
CREATE TABLE IF NOT EXISTS kits(
  kit TEXT PRIMARY KEY, trial TEXT NOT NULL, state TEXT NOT NULL, usable_state TEXT,
  holder TEXT NOT NULL, in_transit_to TEXT, shipment TEXT, subject_ref TEXT, lot TEXT NOT NULL,
  expiry TEXT NOT NULL, temp_min INTEGER, temp_max INTEGER, registered_idx INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kit_shipments(
  trial TEXT NOT NULL, despatch_advice TEXT NOT NULL, from_org TEXT NOT NULL,
  to_org TEXT NOT NULL, shipped_idx INTEGER NOT NULL, received_idx INTEGER,
  PRIMARY KEY(trial, despatch_advice)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kit_events(
  kit TEXT NOT NULL, idx INTEGER NOT NULL, PRIMARY KEY(kit, idx)) WITHOUT ROWID;
)sql";

}  // namespace pedigree::provenance
