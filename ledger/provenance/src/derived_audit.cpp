// The replay audit: every entry is applied again, by the same ProvenanceState::Apply the
// sequencer runs, into a private temporary database; the ledger's database is attached
// read-only beside it and each derived table is compared with set differences, so the
// cost is one pass over the log plus one sort per table, never a query per row.
#include "pedigree/provenance/derived_audit.h"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/sql.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/provenance_ledger.h"

namespace pedigree::provenance {
namespace {

constexpr uint64_t kReplayChunk = 8192;

// Every derived table the rules create, in the order they are compared: the registry first
// (a tampered key explains everything after it), then the rest by name. Read from the
// replay database's own schema, so a table added to the rules is compared without anyone
// remembering to list it. registry_macs is not derived from the log (it is keyed by a
// secret the replay does not hold) and is checked by the seal instead.
Result<std::vector<std::string>> DerivedTables(log::sql::Connection& conn) {
  static const std::vector<std::string> first = {"orgs", "org_prefixes", "org_glns", "org_keys"};
  PEDIGREE_ASSIGN(q, conn.Prepare("SELECT name FROM main.sqlite_master WHERE type = 'table' "
                                  "AND name NOT LIKE 'sqlite_%' AND name <> 'registry_macs' "
                                  "ORDER BY name"));
  std::vector<std::string> rest;
  for (;;) {
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) break;
    std::string name = q->Text(0);
    if (std::find(first.begin(), first.end(), name) == first.end()) rest.push_back(name);
  }
  std::vector<std::string> tables = first;
  tables.insert(tables.end(), rest.begin(), rest.end());
  return tables;
}

// The creation index of a row of `table` aliased `alias` in database `db`: its idx column,
// else its first *_idx column, else its parent's; "NULL" when nothing names one.
std::string IndexExpression(const std::string& table, const std::vector<std::string>& columns,
                            const std::string& db, const std::string& alias) {
  if (std::find(columns.begin(), columns.end(), "idx") != columns.end()) return alias + ".idx";
  for (const auto& c : columns) {
    if (c.size() > 4 && c.ends_with("_idx")) return alias + "." + c;
  }
  if (table == "org_prefixes" || table == "org_glns") {
    return "(SELECT p.registered_idx FROM " + db + ".orgs p WHERE p.id = " + alias + ".org)";
  }
  if (table == "shipment_items") {
    return "(SELECT p.shipped_idx FROM " + db + ".shipments p WHERE p.from_org = " + alias +
           ".from_org AND p.despatch_advice = " + alias + ".despatch_advice)";
  }
  if (table.starts_with("trial_")) {
    return "(SELECT p.idx FROM " + db + ".trials p WHERE p.id = " + alias + ".trial)";
  }
  return "NULL";
}

std::string Join(const std::vector<std::string>& parts, const std::string& sep,
                 const std::string& prefix = {}) {
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : sep) + prefix + p;
  return out;
}

// "a=" || quote(alias.a) || ', b=' || quote(alias.b)
std::string Render(const std::vector<std::string>& columns, const std::string& alias) {
  std::string out;
  for (const auto& c : columns) {
    out += (out.empty() ? "'" : " || ', ") + c + "=' || quote(" + alias + "." + c + ")";
  }
  return out;
}

// A temporary database of the replay, with statements whose text lives as long as it.
class ReplayDb {
 public:
  static Result<std::unique_ptr<ReplayDb>> Open() {
    sqlite3* raw = nullptr;
    // "": a private temporary file SQLite deletes on close; pages spill to it as needed.
    const int rc = sqlite3_open_v2(
        "", &raw,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
        nullptr);
    log::SqliteDb owned(raw);
    if (rc != SQLITE_OK) return Fail("storage.io", "cannot open the replay database");
    auto db = std::unique_ptr<ReplayDb>(new ReplayDb(std::move(owned)));
    PEDIGREE_TRY(db->conn.Exec(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536;"));
    return db;
  }

  Result<log::sql::Query> Prepare(std::string text) {
    texts_.push_back(std::move(text));
    return conn.Prepare(texts_.back().c_str());
  }

 private:
  explicit ReplayDb(log::SqliteDb owned) : owned_(std::move(owned)), conn(owned_.get()) {}
  log::SqliteDb owned_;
  std::deque<std::string> texts_;  // outlive conn's cached statements (declared before it)

 public:
  log::sql::Connection conn;
};

std::string UriFor(const std::string& path) {
  std::string out = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char* hex = "0123456789ABCDEF";
      out += '%';
      out += hex[static_cast<unsigned char>(c) >> 4];
      out += hex[static_cast<unsigned char>(c) & 15];
    } else {
      out += c;
    }
  }
  return out + "?mode=ro";
}

Result<std::vector<std::string>> Columns(ReplayDb& db, const std::string& schema,
                                         const std::string& table,
                                         std::vector<std::string>* primary_key) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT name, pk FROM " + schema + ".pragma_table_info('" + table +
                                "') ORDER BY cid"));
  std::vector<std::string> columns;
  std::map<int64_t, std::string> pk;
  PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) {
    columns.push_back(row.Text(0));
    if (row.Int(1) > 0) pk.emplace(row.Int(1), row.Text(0));
  }));
  if (primary_key) {
    primary_key->clear();
    for (auto& [n, c] : pk) primary_key->push_back(c);
    if (primary_key->empty()) *primary_key = columns;
  }
  return columns;
}

std::string DescribeMismatch(const DerivedMismatch& m) {
  std::string text = "table " + m.table + ", row " + m.key + ": stored " +
                     (m.stored.empty() ? "(no row)" : "{" + m.stored + "}") + ", replayed " +
                     (m.replayed.empty() ? "(no row)" : "{" + m.replayed + "}");
  if (m.index) text += "; first disagreeing entry " + std::to_string(*m.index);
  return text;
}

// Compares one table; appends its differing rows (lowest index first, at most the room
// left in the listing) and returns how many rows differ.
Result<uint64_t> CompareTable(ReplayDb& db, const std::string& table,
                              std::vector<DerivedMismatch>& out) {
  std::vector<std::string> pk;
  PEDIGREE_ASSIGN(columns, Columns(db, "main", table, &pk));
  PEDIGREE_ASSIGN(stored_columns, Columns(db, "stored", table, nullptr));
  if (stored_columns->empty()) {
    // The table is gone from the database: every replayed row is missing.
    PEDIGREE_ASSIGN(count, db.Prepare("SELECT count(*) FROM main." + table));
    PEDIGREE_TRY(count->Step());
    const int64_t n = count->Int(0);
    out.push_back(DerivedMismatch{
        table, "(table)", "",
        "the table is missing from the database (" + std::to_string(n) + " replayed rows)",
        std::nullopt});
    return static_cast<uint64_t>(std::max<int64_t>(n, 1));
  }
  const std::string cols = Join(*columns, ", ");
  const std::string pks = Join(pk, ", ");
  auto match = [&](const std::string& alias) {
    std::string m;
    for (const auto& k : pk) m += (m.empty() ? "" : " AND ") + alias + "." + k + " IS d." + k;
    return m;
  };
  const std::string diff = "WITH d AS (SELECT " + pks + " FROM (SELECT " + cols + " FROM main." +
                           table + " EXCEPT SELECT " + cols + " FROM stored." + table +
                           ") UNION SELECT " + pks + " FROM (SELECT " + cols + " FROM stored." +
                           table + " EXCEPT SELECT " + cols + " FROM main." + table + ")) ";
  PEDIGREE_ASSIGN(count, db.Prepare(diff + "SELECT count(*) FROM d"));
  PEDIGREE_ASSIGN(counted, count->Step());
  const auto differing = static_cast<uint64_t>(*counted ? count->Int(0) : 0);
  if (differing == 0) return differing;
  std::string key_render;
  for (const auto& k : pk) {
    key_render += (key_render.empty() ? "'" : " || ', ") + k + "=' || quote(d." + k + ")";
  }
  const std::string list =
      diff + "SELECT k, s, r, ri, si FROM (SELECT " + key_render + " AS k, (SELECT " +
      Render(*columns, "s") + " FROM stored." + table + " s WHERE " + match("s") +
      " LIMIT 1) AS s, (SELECT " + Render(*columns, "r") + " FROM main." + table + " r WHERE " +
      match("r") + " LIMIT 1) AS r, (SELECT " + IndexExpression(table, *columns, "main", "r") +
      " FROM main." + table + " r WHERE " + match("r") + " LIMIT 1) AS ri, (SELECT " +
      IndexExpression(table, *columns, "stored", "s") + " FROM stored." + table + " s WHERE " +
      match("s") + " LIMIT 1) AS si FROM d) ORDER BY COALESCE(ri, si) IS NULL, COALESCE(ri, si) " +
      "LIMIT " + std::to_string(kMaxListedMismatches);
  PEDIGREE_ASSIGN(rows, db.Prepare(list));
  PEDIGREE_TRY(rows->ForEachRow([&](const log::sql::Query& row) {
    DerivedMismatch m{table, row.Text(0), row.Text(1), row.Text(2), std::nullopt};
    if (!row.IsNull(3)) {
      m.index = static_cast<uint64_t>(row.Int(3));
    } else if (!row.IsNull(4)) {
      m.index = static_cast<uint64_t>(row.Int(4));
    }
    out.push_back(std::move(m));
  }));
  return differing;
}

// On PostgreSQL: the stored derived tables copied into an in-memory SQLite database
// attached as "stored", with the replay's own schema, so that the comparison below is the
// same set difference as for an SQLite ledger. Values are bound by the replay schema's
// declared column type (INTEGER, BLOB, else TEXT), as SQLite would have stored them.
Status CopyStoredTables(ReplayDb& db, log::PostgresStorage& postgres,
                        const std::vector<std::string>& tables) {
  PEDIGREE_TRY(db.conn.Exec("ATTACH DATABASE ':memory:' AS stored"));
  auto lock = postgres.LockConnection();
  log::sql::Connection pg(postgres.connection().get());
  std::deque<std::string> texts;  // outlive pg's cached statements
  for (const std::string& table : tables) {
    PEDIGREE_ASSIGN(ddl, db.Prepare("SELECT sql FROM main.sqlite_master WHERE type = 'table' "
                                    "AND name = ?1"));
    ddl->Bind(1, table);
    PEDIGREE_ASSIGN(has_ddl, ddl->Step());
    if (!*has_ddl) continue;
    // The replay's own definition (columns, key), from its opening parenthesis on.
    const std::string create = ddl->Text(0);
    const size_t columns_at = create.find('(');
    if (columns_at == std::string::npos) continue;
    PEDIGREE_TRY(db.conn.Exec("CREATE TABLE stored." + table + create.substr(columns_at)));
    PEDIGREE_ASSIGN(info, db.Prepare("SELECT name, upper(type) FROM main.pragma_table_info('" +
                                     table + "') ORDER BY cid"));
    std::vector<std::pair<std::string, std::string>> columns;
    PEDIGREE_TRY(info->ForEachRow(
        [&](const log::sql::Query& row) { columns.emplace_back(row.Text(0), row.Text(1)); }));
    std::string names, marks;
    for (size_t i = 0; i < columns.size(); ++i) {
      names += (i ? ", " : "") + columns[i].first;
      marks += (i ? ", ?" : "?") + std::to_string(i + 1);
    }
    // A table missing from PostgreSQL stays empty here, and the comparison lists its rows.
    texts.push_back("SELECT " + names + " FROM " + table);
    PEDIGREE_ASSIGN(rows, pg.Prepare(texts.back().c_str()));
    PEDIGREE_ASSIGN(insert, db.Prepare("INSERT INTO stored." + table + "(" + names + ") VALUES(" +
                                       marks + ")"));
    auto copied = rows->ForEachRow([&](const log::sql::Query& row) -> Status {
      insert->Reset();
      for (size_t i = 0; i < columns.size(); ++i) {
        const int c = static_cast<int>(i);
        if (row.IsNull(c)) {
          insert->BindNull(c + 1);
        } else if (columns[i].second == "INTEGER") {
          insert->Bind(c + 1, row.Int(c));
        } else if (columns[i].second == "BLOB") {
          insert->Bind(c + 1, row.Blob(c));
        } else {
          insert->Bind(c + 1, row.Text(c));
        }
      }
      return insert->Run();
    });
    if (!copied && copied.error().code() == "storage.io" &&
        copied.error().message().find("does not exist") != std::string::npos) {
      (void)pg.Exec("ROLLBACK");  // a missing table: nothing to copy
      continue;
    }
    PEDIGREE_TRY(copied);
  }
  return Ok();
}

}  // namespace

Result<DerivedAuditReport> AuditDerivedState(log::LogStorage& storage, const std::string& db_path,
                                             const log::PublicKey& node_key,
                                             const DerivedAuditOptions& options) {
  DerivedAuditReport report;
  PEDIGREE_ASSIGN(meta, storage.GetMeta(kAuthorityKeyMeta));
  PEDIGREE_ASSIGN(raw, FromBase64(*meta));
  PEDIGREE_ASSIGN(authority, log::PublicKey::FromRaw(*raw));
  PEDIGREE_ASSIGN(db, ReplayDb::Open());
  // The replay runs the rules as the node did. The bounds on a claimed time around the
  // sequencing time are the node's admission policy (configurable, not recorded in the log),
  // so the replay takes the widest; every rule that judges by the sequencing time recorded
  // in the leaf (key validity, undo window, expiry, custody order) replays exactly. Version 1
  // leaves carry no sequencing time: their future-time rule is left to the node too.
  constexpr int64_t kUnbounded = INT64_MAX / 4;
  PEDIGREE_ASSIGN(state,
                  ProvenanceState::Attach((*db)->conn.get(), {*authority,
                                                              node_key,
                                                              [] { return kUnbounded; },
                                                              TimeBounds{kUnbounded, kUnbounded},
                                                              {}}));
  PEDIGREE_ASSIGN(size, storage.Size());

  // The log's sequencing times never decrease along the log (the sequencer clamps them);
  // the rules judge by them, so a leaf out of order is reported before its rules replay.
  int64_t last_sequenced = INT64_MIN;
  for (uint64_t begin = 0; begin < *size && !report.problem; begin += kReplayChunk) {
    const uint64_t end = std::min(*size, begin + kReplayChunk);
    PEDIGREE_ASSIGN(entries, storage.ReadEntries(begin, end));
    PEDIGREE_TRY((*db)->conn.Exec("BEGIN"));
    for (uint64_t i = begin; i < end; ++i) {
      const std::string& entry = (*entries)[i - begin];
      if (options.registry_only) {
        auto parsed = ParseJson(entry, {.integers_only = true});
        const JsonValue* payload = parsed ? parsed->find("payload") : nullptr;
        const JsonValue* kind = payload && payload->is_object() ? payload->find("kind") : nullptr;
        if (!kind || !kind->is_string() || !kind->as_string().starts_with("org.")) continue;
        // Alone, this replay is what vouches for the registry (a ledger sealed for the first
        // time): the authority's signatures are checked here, not left to a log audit.
        if (auto st = log::VerifyEntry(entry); !st) {
          report.problem =
              Error("audit.replay_refused", "registry entry " + std::to_string(i) +
                                                " does not verify: " + st.error().ToString());
          report.bad_index = i;
          break;
        }
      }
      if (!options.registry_only) {
        if (auto t = log::LeafSequencingTime(entry)) {
          if (*t < last_sequenced) {
            report.problem =
                Error("audit.time_order", "entry " + std::to_string(i) + " was sequenced at " +
                                              FormatUtcTime(*t) + ", before the previous entry's " +
                                              FormatUtcTime(last_sequenced));
            report.bad_index = i;
            break;
          }
          last_sequenced = *t;
        }
      }
      if (auto st = (*state)->Apply(i, entry); !st) {
        report.problem =
            Error("audit.replay_refused",
                  "entry " + std::to_string(i) +
                      " is in the log but the rules refuse it on replay: " + st.error().ToString());
        report.bad_index = i;
        break;
      }
      report.entries_replayed = i + 1;
    }
    PEDIGREE_TRY((*db)->conn.Exec("COMMIT"));
  }
  if (report.problem) return report;

  std::vector<std::string> tables = options.tables;
  if (tables.empty()) {
    PEDIGREE_ASSIGN(all, DerivedTables((*db)->conn));
    tables = std::move(*all);
  }
  auto* postgres = dynamic_cast<log::PostgresStorage*>(&storage);
  if (postgres) {
    PEDIGREE_TRY(CopyStoredTables(**db, *postgres, tables));
  } else {
    PEDIGREE_ASSIGN(attach, (*db)->Prepare("ATTACH DATABASE ?1 AS stored"));
    attach->Bind(1, UriFor(db_path));
    PEDIGREE_TRY(attach->Run());
  }
  std::vector<DerivedMismatch> found;
  for (const std::string& table : tables) {
    PEDIGREE_ASSIGN(differing, CompareTable(**db, table, found));
    report.mismatch_count += *differing;
    report.tables_compared.push_back(table);
  }
  // By index, ties in the order found. Not std::stable_sort: clang 19 deprecates the
  // std::get_temporary_buffer it uses in libstdc++ 12, which breaks the -Werror fuzz build
  // (docs/fuzzing.md); a sort of positions with a position tie-break is stable too.
  std::vector<size_t> order(found.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const uint64_t ia = found[a].index.value_or(UINT64_MAX);
    const uint64_t ib = found[b].index.value_or(UINT64_MAX);
    return ia != ib ? ia < ib : a < b;
  });
  std::vector<DerivedMismatch> sorted;
  sorted.reserve(found.size());
  for (size_t i : order) sorted.push_back(std::move(found[i]));
  found = std::move(sorted);
  if (found.size() > kMaxListedMismatches) found.resize(kMaxListedMismatches);
  report.mismatches = std::move(found);

  if (!report.mismatches.empty()) {
    const DerivedMismatch& first = report.mismatches.front();
    report.problem = Error(
        "audit.derived_mismatch",
        std::to_string(report.mismatch_count) +
            " derived row(s) differ from a replay of the log; first: " + DescribeMismatch(first));
    report.bad_index = first.index;
  } else if (options.idempotency && !postgres) {
    // (On PostgreSQL the log's tables stay in the server: the keys are not checked here.)
    // A key "org\nclientId" (what the supply node records) must name an entry whose
    // payload carries that organisation and client id. Keys given raw (`log append
    // --idempotency-key`) are not derivable from the entries and are not checked.
    PEDIGREE_ASSIGN(
        keys,
        (*db)->Prepare(
            "SELECT i.key, i.idx FROM stored.idempotency i WHERE instr(i.key, char(10)) > 0 AND "
            "NOT EXISTS (SELECT 1 FROM stored.entries e WHERE e.idx = i.idx AND "
            "json_valid(CAST(e.data AS TEXT)) AND "
            "json_extract(CAST(e.data AS TEXT), '$.payload.org') || char(10) || "
            "json_extract(CAST(e.data AS TEXT), '$.payload.clientId') = i.key) "
            "ORDER BY i.idx LIMIT 1"));
    PEDIGREE_ASSIGN(bad, keys->Step());
    if (*bad) {
      std::string key = keys->Text(0);
      std::replace(key.begin(), key.end(), '\n', ' ');
      const auto idx = static_cast<uint64_t>(keys->Int(1));
      report.mismatches.push_back(
          DerivedMismatch{"idempotency", "key=" + key, "idx=" + std::to_string(idx), "", idx});
      report.mismatch_count = 1;
      report.problem =
          Error("audit.idempotency_mismatch",
                "table idempotency, key '" + key + "' names entry " + std::to_string(idx) +
                    ", which does not carry that organisation and client id");
      report.bad_index = idx;
    }
  }
  return report;
}

}  // namespace pedigree::provenance
