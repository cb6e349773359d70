// The replay audit: the derived tables are a projection of the log, so they are checked by
// replaying the rules over every entry into a fresh database and comparing table by table
// with what is stored. See ../../../../docs/threat-model.md ("An insider with the database").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/storage.h"

namespace pedigree::provenance {

// One row that differs between the stored derived tables and the replay.
struct DerivedMismatch {
  std::string table;     // e.g. "packs"
  std::string key;       // the row's primary key, "gtin='…', serial='…'"
  std::string stored;    // the stored row as "column=value, …"; empty: no such row stored
  std::string replayed;  // the row the replay produced; empty: the replay produced none
  // The lowest entry index that produced (or should have produced) the row: the replayed
  // row's creation index (its idx column, or its parent's for rows without one); for a row
  // that only the database holds, the index the stored row claims. nullopt when neither
  // names one (provenance_meta).
  std::optional<uint64_t> index;
};

struct DerivedAuditReport {
  uint64_t entries_replayed = 0;
  std::vector<std::string> tables_compared;
  // Up to kMaxListedMismatches rows, lowest index first; `mismatch_count` counts all.
  std::vector<DerivedMismatch> mismatches;
  uint64_t mismatch_count = 0;
  // The first finding: audit.derived_mismatch (a differing row; bad_index = the lowest
  // index among the differing rows), audit.replay_refused (the rules refuse a stored
  // entry: bad_index is that entry), audit.idempotency_mismatch (an idempotency key points
  // at an entry that does not carry it).
  std::optional<Error> problem;
  std::optional<uint64_t> bad_index;
  bool ok() const { return !problem.has_value(); }
};

inline constexpr size_t kMaxListedMismatches = 50;

struct DerivedAuditOptions {
  // Compare only these tables (empty: every derived table). Entries of other kinds are
  // still replayed unless `registry_only`.
  std::vector<std::string> tables;
  // Replay only the registry events (org.*): what the registry tables depend on. Their
  // signatures are verified too (audit.replay_refused), since no log audit precedes it.
  bool registry_only = false;
  // Compare the idempotency keys with the entries they name.
  bool idempotency = true;
};

// Replays every entry of `storage` through ProvenanceState::Apply into a fresh temporary
// database, attaches the ledger database at `db_path` read-only beside it and compares the
// derived tables with set differences (EXCEPT) in both directions. The authority key is
// the one the ledger's metadata records; `node_key` is the log's public key (it signs
// alerts). Storage failures are errors; findings go in the report.
[[nodiscard]] Result<DerivedAuditReport> AuditDerivedState(log::LogStorage& storage,
                                                           const std::string& db_path,
                                                           const log::PublicKey& node_key,
                                                           const DerivedAuditOptions& options = {});

// The registry tables, whose rows decide whose signatures (organisations' and their data
// loggers') the rules accept.
inline const std::vector<std::string>& RegistryTables() {
  static const std::vector<std::string> tables = {"orgs", "org_prefixes", "org_glns", "org_keys",
                                                  "org_devices"};
  return tables;
}

}  // namespace pedigree::provenance
