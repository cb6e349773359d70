#include "pedigree/usecases/trial_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

#include "pedigree/log/sql.h"

namespace pedigree::services {
namespace {

using log::sql::Connection;
using log::sql::Query;
using log::sql::Transaction;
using provenance::Salt;

constexpr int kSchemaVersion = 1;

// Record states: staged (in a submission not yet acknowledged), current, replaced.
constexpr const char* kSchema = R"sql(
CREATE TABLE submissions(
  id INTEGER PRIMARY KEY,
  trial_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  reason TEXT NOT NULL,
  schema_hash TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('staged', 'confirmed')),
  ledger_index INTEGER
);
CREATE TABLE records(
  id INTEGER PRIMARY KEY,
  trial_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  record_key TEXT NOT NULL,
  canonical BLOB,
  salt BLOB,
  leaf BLOB NOT NULL,
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  replaces_id INTEGER REFERENCES records(id),
  state TEXT NOT NULL CHECK (state IN ('staged', 'current', 'replaced')),
  redacted INTEGER NOT NULL DEFAULT 0,
  redaction_reason TEXT,
  redaction_index INTEGER,
  UNIQUE(trial_id, domain, leaf)
);
CREATE INDEX records_by_key ON records(trial_id, domain, record_key, state);
CREATE INDEX records_by_submission ON records(submission_id);
CREATE TABLE seals(
  id INTEGER PRIMARY KEY,
  trial_id TEXT NOT NULL,
  domain TEXT NOT NULL,
  root BLOB NOT NULL,
  record_count INTEGER NOT NULL,
  schema_hash TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  ledger_index INTEGER
);
CREATE TABLE seal_records(
  seal_id INTEGER NOT NULL REFERENCES seals(id) ON DELETE CASCADE,
  position INTEGER NOT NULL,
  record_id INTEGER NOT NULL REFERENCES records(id),
  PRIMARY KEY(seal_id, position)
);
)sql";

Result<Hash> HashColumn(const Query& q, int c, std::string_view what) {
  const std::span<const uint8_t> b = q.Blob(c);
  if (b.size() != sizeof(Hash)) {
    return Fail("storage.corrupt",
                std::string(what) + " has " + std::to_string(b.size()) + " bytes, expected 32");
  }
  Hash h;
  std::copy(b.begin(), b.end(), h.begin());
  return h;
}

bool IsValidTrialId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// Columns of `records` read by ReadRecord, prefixed with the row id.
constexpr const char* kRecordColumns =
    "id, record_key, canonical, salt, leaf, state, redacted, redaction_reason, redaction_index, "
    "(SELECT ledger_index FROM submissions WHERE submissions.id = records.submission_id)";

Result<StoredRecord> ReadRecord(const Query& q, int first) {
  StoredRecord r;
  r.key = q.Text(first + 1);
  if (!q.IsNull(first + 2)) r.canonical = std::string(AsText(q.Blob(first + 2)));
  if (!q.IsNull(first + 3)) {
    const std::span<const uint8_t> salt = q.Blob(first + 3);
    if (salt.size() != sizeof(provenance::Salt)) {
      return Fail("storage.corrupt", "record " + r.key + ": salt has " +
                                         std::to_string(salt.size()) + " bytes, expected 16");
    }
    provenance::Salt s;
    std::copy(salt.begin(), salt.end(), s.begin());
    r.salt = s;
  }
  PEDIGREE_ASSIGN(leaf, HashColumn(q, first + 4, "record " + r.key + " leaf"));
  r.leaf = *leaf;
  r.current = q.Text(first + 5) == "current";
  r.redacted = q.Int(first + 6) != 0;
  r.redaction_reason = q.Text(first + 7);
  if (!q.IsNull(first + 8)) r.redaction_index = static_cast<uint64_t>(q.Int(first + 8));
  r.submission_index = static_cast<uint64_t>(q.Int(first + 9));
  return r;
}

provenance::SealedRecord ToSealed(StoredRecord r) {
  provenance::SealedRecord s;
  s.key = std::move(r.key);
  s.leaf = r.leaf;
  if (!r.redacted) {
    s.salt = r.salt;
    s.canonical = std::move(r.canonical);
  }
  return s;
}

Status CheckNoPending(Connection& db, std::string_view trial_id, std::string_view domain) {
  PEDIGREE_ASSIGN(q,
                  db.Prepare("SELECT id FROM submissions WHERE trial_id = ?1 AND domain = ?2 AND "
                             "state = 'staged' LIMIT 1"));
  q->Bind(1, trial_id).Bind(2, domain);
  PEDIGREE_ASSIGN(row, q->Step());
  if (*row) {
    return Fail("trial.submission_pending", "submission " + std::to_string(q->Int(0)) + " of " +
                                                std::string(trial_id) + " " + std::string(domain) +
                                                " is staged but neither confirmed nor rolled back");
  }
  return Ok();
}

// Current records of trial+domain with their row ids, key order.
Result<std::vector<std::pair<int64_t, StoredRecord>>> ReadCurrent(Connection& db,
                                                                  std::string_view trial_id,
                                                                  std::string_view domain) {
  // Static: the connection caches statements by the address of their text.
  static const std::string sql =
      std::string("SELECT ") + kRecordColumns +
      " FROM records WHERE trial_id = ?1 AND domain = ?2 AND state = 'current'";
  PEDIGREE_ASSIGN(q, db.Prepare(sql.c_str()));
  q->Bind(1, trial_id).Bind(2, domain);
  std::vector<std::pair<int64_t, StoredRecord>> out;
  PEDIGREE_TRY(q->ForEachRow([&](const Query& row) -> Status {
    PEDIGREE_ASSIGN(r, ReadRecord(row, 0));
    out.emplace_back(row.Int(0), std::move(*r));
    return Ok();
  }));
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return provenance::RecordKeyLess(a.second.key, b.second.key);
  });
  return out;
}

}  // namespace

Result<std::unique_ptr<SponsorStore>> SponsorStore::OpenExisting(const std::string& path) {
  // On PostgreSQL the server says whether the store exists: Open refuses an unreachable one
  // and creates the tables in a reachable database, which is the store.
  if (log::IsPostgresUrl(path)) return Open(path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Fail(Error("trial.store_not_found",
                      "no sponsor store at " + path +
                          " (pass --store FILE, or run the command in the ledger directory "
                          "whose sponsor-store.sqlite holds the records)")
                    .at_field("store"));
  }
  return Open(path);
}

namespace {

// The store on PostgreSQL (`postgresql://…`, e.g. the node's own database): the same tables
// and SQL through the one SQL layer (docs/storage.md), the row ids given by identity
// columns (SQLite's INTEGER PRIMARY KEY assigns them itself), the schema version in a table
// of its own (SQLite keeps it in PRAGMA user_version).
Result<std::unique_ptr<Connection>> OpenPostgresStore(const std::string& url) {
  PEDIGREE_ASSIGN(opened, Connection::OpenPostgres(url));
  auto db = std::make_unique<Connection>(std::move(*opened));
  PEDIGREE_ASSIGN(tx, Transaction::Begin(*db));
  // One opener at a time creates the tables (two nodes opening one database at once).
  PEDIGREE_TRY(db->Exec("SELECT pg_advisory_xact_lock(7395442011)"));
  PEDIGREE_TRY(
      db->Exec("CREATE TABLE IF NOT EXISTS sponsor_store_version(version BIGINT NOT NULL)"));
  int64_t version = 0;
  {
    PEDIGREE_ASSIGN(q, db->Prepare("SELECT COALESCE(MAX(version), 0) FROM sponsor_store_version"));
    PEDIGREE_ASSIGN(has_row, q->Step());
    if (*has_row) version = q->Int(0);
  }
  if (version > kSchemaVersion) {
    return Fail("storage.schema_version",
                "the sponsor store in PostgreSQL has schema version " + std::to_string(version) +
                    ", newer than this program's " + std::to_string(kSchemaVersion));
  }
  if (version == 0) {
    std::string ddl = log::sql::SchemaFor(log::sql::Dialect::kPostgres, kSchema);
    const std::string rowid = "id BIGINT PRIMARY KEY";
    for (size_t at = ddl.find(rowid); at != std::string::npos; at = ddl.find(rowid, at)) {
      ddl.replace(at, rowid.size(), "id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
      at += rowid.size();
    }
    PEDIGREE_TRY(db->Exec(ddl));
    PEDIGREE_ASSIGN(q, db->Prepare("INSERT INTO sponsor_store_version(version) VALUES(?1)"));
    q->Bind(1, static_cast<int64_t>(kSchemaVersion));
    PEDIGREE_TRY(q->Run());
  }
  PEDIGREE_TRY(tx->Commit());
  return db;
}

}  // namespace

Result<std::unique_ptr<SponsorStore>> SponsorStore::Open(const std::string& path) {
  if (log::IsPostgresUrl(path)) {
    PEDIGREE_ASSIGN(db, OpenPostgresStore(path));
    return std::unique_ptr<SponsorStore>(new SponsorStore(std::move(*db)));
  }
  // Create the file ourselves so that it is 0600 from the first byte; SQLite gives the
  // -wal and -shm files the same mode.
  {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
      return Fail("storage.io", "cannot open or create " + path + ": " + std::strerror(errno));
    }
    ::close(fd);
  }
  PEDIGREE_ASSIGN(opened, Connection::Open(path, {.busy_timeout_ms = 5000}));
  auto db = std::make_unique<Connection>(std::move(*opened));
  // WAL for readers alongside the writer; FULL so a returned commit survives power loss.
  PEDIGREE_TRY(db->Exec("PRAGMA journal_mode=WAL"));
  PEDIGREE_TRY(db->Exec("PRAGMA synchronous=FULL"));
  PEDIGREE_TRY(db->Exec("PRAGMA foreign_keys=ON"));
  // A redaction must not leave the record's text in freed pages.
  PEDIGREE_TRY(db->Exec("PRAGMA secure_delete=ON"));
  int64_t version = 0;
  {
    PEDIGREE_ASSIGN(q, db->Prepare("PRAGMA user_version"));
    PEDIGREE_ASSIGN(has_row, q->Step());
    if (*has_row) version = q->Int(0);
  }
  if (version > kSchemaVersion) {
    return Fail("storage.schema_version", path + " has schema version " + std::to_string(version) +
                                              ", newer than this program's " +
                                              std::to_string(kSchemaVersion));
  }
  if (version == 0) {
    PEDIGREE_ASSIGN(tx, Transaction::Begin(*db));
    PEDIGREE_TRY(db->Exec(kSchema));
    PEDIGREE_TRY(db->Exec("PRAGMA user_version = 1"));
    PEDIGREE_TRY(tx->Commit());
  }
  return std::unique_ptr<SponsorStore>(new SponsorStore(std::move(db)));
}

SponsorStore::SponsorStore(std::unique_ptr<Connection> db) : db_(std::move(db)) {}
SponsorStore::~SponsorStore() = default;

Result<StagedSubmission> SponsorStore::Stage(std::string_view trial_id,
                                             const scanner::Dataset& dataset,
                                             std::string_view reason) {
  if (!IsValidTrialId(trial_id)) {
    return Fail("trial.bad_trial_id", "trial id \"" + std::string(trial_id) +
                                          "\" is not 1 to 64 characters of [A-Za-z0-9._-]");
  }
  if (dataset.records.empty()) {
    return Fail("trial.empty_dataset", "the " + dataset.domain + " dataset has no records");
  }
  // Sorting, duplicate detection and the canonical forms are those of a seal.
  PEDIGREE_ASSIGN(sealed, provenance::SealDataset(dataset));
  const std::string schema_hash = sealed->summary.schema_hash;

  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_TRY(CheckNoPending(db, trial_id, dataset.domain));
  PEDIGREE_ASSIGN(current, ReadCurrent(db, trial_id, dataset.domain));
  std::unordered_map<std::string_view, const std::pair<int64_t, StoredRecord>*> by_key;
  for (const auto& c : *current) by_key.emplace(c.second.key, &c);

  StagedSubmission out;
  out.trial_id = trial_id;
  out.domain = dataset.domain;
  out.reason = reason;
  struct Row {
    const provenance::SealedRecord* record;
    const std::pair<int64_t, StoredRecord>* replaces;
  };
  std::vector<Row> rows;
  for (const auto& r : sealed->records) {
    auto it = by_key.find(r.key);
    if (it == by_key.end()) {
      rows.push_back({&r, nullptr});
      continue;
    }
    const StoredRecord& existing = it->second->second;
    if (existing.canonical && *existing.canonical == *r.canonical) {
      ++out.unchanged;
      continue;
    }
    if (reason.empty()) {
      return Fail(
          Error("trial.reason_required", "record " + r.key + " at line " + std::to_string(r.line) +
                                             " changes the current record (leaf " +
                                             ToHex(existing.leaf) + "); a change needs a reason")
              .at_line_column(r.line, 1));
    }
    rows.push_back({&r, it->second});
  }
  if (rows.empty()) {
    return Fail("trial.nothing_to_submit", "all " + std::to_string(out.unchanged) +
                                               " records of the " + dataset.domain +
                                               " dataset equal the current ones");
  }

  {
    PEDIGREE_ASSIGN(sub, db.Prepare("INSERT INTO submissions(trial_id, domain, reason, "
                                    "schema_hash, state) VALUES(?1, ?2, ?3, ?4, 'staged') "
                                    "RETURNING id"));
    sub->Bind(1, trial_id).Bind(2, dataset.domain).Bind(3, reason).Bind(4, schema_hash);
    PEDIGREE_ASSIGN(inserted, sub->Step());
    if (!*inserted) return Fail("storage.io", "the new submission returned no id");
    out.submission_id = sub->Int(0);
  }

  for (const Row& row : rows) {
    const provenance::SealedRecord& r = *row.record;
    PEDIGREE_ASSIGN(ins, db.Prepare("INSERT INTO records(trial_id, domain, record_key, canonical, "
                                    "salt, leaf, submission_id, replaces_id, state) "
                                    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'staged')"));
    ins->Bind(1, trial_id).Bind(2, dataset.domain).Bind(3, r.key);
    ins->Bind(4, AsBytes(*r.canonical)).Bind(5, *r.salt).Bind(6, r.leaf);
    ins->Bind(7, out.submission_id);
    if (row.replaces) {
      ins->Bind(8, row.replaces->first);
    } else {
      ins->BindNull(8);
    }
    PEDIGREE_TRY(ins->Run());
    StagedLeaf leaf{r.key, r.leaf, std::nullopt};
    if (row.replaces) leaf.replaces = row.replaces->second.leaf;
    out.records.push_back(std::move(leaf));
  }
  PEDIGREE_TRY(tx->Commit());
  return out;
}

namespace {

Status CheckStaged(Connection& db, int64_t submission_id) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT state FROM submissions WHERE id = ?1"));
  q->Bind(1, submission_id);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail("trial.unknown_submission",
                "no submission " + std::to_string(submission_id) + " in the store");
  }
  if (q->Text(0) != "staged") {
    return Fail("trial.not_staged", "submission " + std::to_string(submission_id) + " is " +
                                        q->Text(0) + ", not staged");
  }
  return Ok();
}

}  // namespace

Status SponsorStore::Confirm(int64_t submission_id, uint64_t ledger_index) {
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_TRY(CheckStaged(db, submission_id));
  PEDIGREE_ASSIGN(replaced, db.Prepare("UPDATE records SET state = 'replaced' WHERE id IN "
                                       "(SELECT replaces_id FROM records WHERE "
                                       "submission_id = ?1 AND replaces_id IS NOT NULL)"));
  replaced->Bind(1, submission_id);
  PEDIGREE_TRY(replaced->Run());
  PEDIGREE_ASSIGN(current, db.Prepare("UPDATE records SET state = 'current' WHERE "
                                      "submission_id = ?1"));
  current->Bind(1, submission_id);
  PEDIGREE_TRY(current->Run());
  PEDIGREE_ASSIGN(sub, db.Prepare("UPDATE submissions SET state = 'confirmed', "
                                  "ledger_index = ?2 WHERE id = ?1"));
  sub->Bind(1, submission_id).Bind(2, static_cast<int64_t>(ledger_index));
  PEDIGREE_TRY(sub->Run());
  return tx->Commit();
}

Status SponsorStore::Rollback(int64_t submission_id) {
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_TRY(CheckStaged(db, submission_id));
  PEDIGREE_ASSIGN(rows, db.Prepare("DELETE FROM records WHERE submission_id = ?1"));
  rows->Bind(1, submission_id);
  PEDIGREE_TRY(rows->Run());
  PEDIGREE_ASSIGN(sub, db.Prepare("DELETE FROM submissions WHERE id = ?1"));
  sub->Bind(1, submission_id);
  PEDIGREE_TRY(sub->Run());
  return tx->Commit();
}

Result<std::vector<StagedSubmission>> SponsorStore::StagedSubmissions() {
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_ASSIGN(subs, db.Prepare("SELECT id, trial_id, domain, reason FROM submissions WHERE "
                                   "state = 'staged' ORDER BY id"));
  std::vector<StagedSubmission> out;
  while (true) {
    PEDIGREE_ASSIGN(row, subs->Step());
    if (!*row) break;
    StagedSubmission s;
    s.submission_id = subs->Int(0);
    s.trial_id = subs->Text(1);
    s.domain = subs->Text(2);
    s.reason = subs->Text(3);
    out.push_back(std::move(s));
  }
  for (StagedSubmission& s : out) {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT r.record_key, r.leaf, p.leaf FROM records r LEFT JOIN "
                                  "records p ON p.id = r.replaces_id WHERE r.submission_id = ?1 "
                                  "ORDER BY r.record_key"));
    q->Bind(1, s.submission_id);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      StagedLeaf leaf;
      leaf.key = q->Text(0);
      PEDIGREE_ASSIGN(hash, HashColumn(*q, 1, "staged leaf"));
      leaf.leaf = *hash;
      if (!q->IsNull(2)) {
        PEDIGREE_ASSIGN(replaced, HashColumn(*q, 2, "replaced leaf"));
        leaf.replaces = *replaced;
      }
      s.records.push_back(std::move(leaf));
    }
  }
  return out;
}

Result<std::vector<StoredRecord>> SponsorStore::CurrentRecords(std::string_view trial_id,
                                                               std::string_view domain) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(tx, Transaction::Begin(*db_));
  PEDIGREE_ASSIGN(current, ReadCurrent(*db_, trial_id, domain));
  std::vector<StoredRecord> out;
  out.reserve(current->size());
  for (auto& c : *current) out.push_back(std::move(c.second));
  PEDIGREE_TRY(tx->Commit());
  return out;
}

Result<StoredSeal> SponsorStore::Seal(std::string_view trial_id, std::string_view domain) {
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_TRY(CheckNoPending(db, trial_id, domain));
  PEDIGREE_ASSIGN(current, ReadCurrent(db, trial_id, domain));
  if (current->empty()) {
    return Fail("trial.empty_dataset", std::string(trial_id) + " " + std::string(domain) +
                                           " has no current records to seal");
  }
  PEDIGREE_ASSIGN(schemas, db.Prepare("SELECT DISTINCT s.schema_hash FROM records r JOIN "
                                      "submissions s ON s.id = r.submission_id WHERE "
                                      "r.trial_id = ?1 AND r.domain = ?2 AND "
                                      "r.state = 'current' ORDER BY 1"));
  schemas->Bind(1, trial_id).Bind(2, domain);
  std::vector<std::string> hashes;
  while (true) {
    PEDIGREE_ASSIGN(row, schemas->Step());
    if (!*row) break;
    hashes.push_back(schemas->Text(0));
  }
  if (hashes.size() != 1) {
    return Fail("trial.schema_mismatch",
                "the current " + std::string(domain) + " records were submitted with " +
                    std::to_string(hashes.size()) + " different schemas (" + hashes.front() + ", " +
                    hashes.back() + "); resubmit them with one schema before sealing");
  }
  std::vector<int64_t> ids;
  std::vector<provenance::SealedRecord> records;
  for (auto& [id, r] : *current) {
    ids.push_back(id);
    records.push_back(ToSealed(std::move(r)));
  }
  // ReadCurrent returns key order and SealRecords sorts stably, so positions match ids.
  PEDIGREE_ASSIGN(sealed, provenance::SealRecords(std::move(records), hashes.front()));

  PEDIGREE_ASSIGN(drop, db.Prepare("DELETE FROM seals WHERE trial_id = ?1 AND domain = ?2 "
                                   "AND ledger_index IS NULL"));
  drop->Bind(1, trial_id).Bind(2, domain);
  PEDIGREE_TRY(drop->Run());
  int64_t seal_id = 0;
  {
    PEDIGREE_ASSIGN(ins, db.Prepare("INSERT INTO seals(trial_id, domain, root, record_count, "
                                    "schema_hash, algorithm) VALUES(?1, ?2, ?3, ?4, ?5, ?6) "
                                    "RETURNING id"));
    ins->Bind(1, trial_id).Bind(2, domain).Bind(3, sealed->summary.root);
    ins->Bind(4, static_cast<int64_t>(sealed->summary.record_count));
    ins->Bind(5, sealed->summary.schema_hash).Bind(6, sealed->summary.algorithm);
    PEDIGREE_ASSIGN(inserted, ins->Step());
    if (!*inserted) return Fail("storage.io", "the new seal returned no id");
    seal_id = ins->Int(0);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    PEDIGREE_ASSIGN(member, db.Prepare("INSERT INTO seal_records(seal_id, position, record_id) "
                                       "VALUES(?1, ?2, ?3)"));
    member->Bind(1, seal_id).Bind(2, static_cast<int64_t>(i)).Bind(3, ids[i]);
    PEDIGREE_TRY(member->Run());
  }
  PEDIGREE_TRY(tx->Commit());
  return StoredSeal{seal_id, std::nullopt, std::move(*sealed)};
}

Status SponsorStore::ConfirmSeal(int64_t seal_id, uint64_t ledger_index) {
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_ASSIGN(q, db.Prepare("UPDATE seals SET ledger_index = ?2 WHERE id = ?1 AND "
                                "ledger_index IS NULL"));
  q->Bind(1, seal_id).Bind(2, static_cast<int64_t>(ledger_index));
  PEDIGREE_TRY(q->Run());
  if (db.Changes() != 1) {
    return Fail("trial.unknown_seal",
                "no unconfirmed seal " + std::to_string(seal_id) + " in the store");
  }
  return tx->Commit();
}

Result<StoredSeal> SponsorStore::ReadSeal(int64_t seal_id) {
  Connection& db = *db_;
  PEDIGREE_ASSIGN(head, db.Prepare("SELECT root, record_count, schema_hash, algorithm, "
                                   "ledger_index FROM seals WHERE id = ?1"));
  head->Bind(1, seal_id);
  PEDIGREE_ASSIGN(found, head->Step());
  if (!*found) return Fail("trial.unknown_seal", "no seal " + std::to_string(seal_id));
  StoredSeal out;
  out.seal_id = seal_id;
  PEDIGREE_ASSIGN(root, HashColumn(*head, 0, "seal root"));
  out.seal.summary.root = *root;
  out.seal.summary.record_count = static_cast<uint64_t>(head->Int(1));
  out.seal.summary.schema_hash = head->Text(2);
  out.seal.summary.algorithm = head->Text(3);
  if (!head->IsNull(4)) out.ledger_index = static_cast<uint64_t>(head->Int(4));

  // Static: the connection caches statements by the address of their text.
  static const std::string sql = std::string("SELECT m.position, ") + kRecordColumns +
                                 " FROM seal_records m JOIN records ON records.id = m.record_id "
                                 "WHERE m.seal_id = ?1 ORDER BY m.position";
  PEDIGREE_ASSIGN(q, db.Prepare(sql.c_str()));
  q->Bind(1, seal_id);
  PEDIGREE_TRY(q->ForEachRow([&](const Query& row) -> Status {
    PEDIGREE_ASSIGN(r, ReadRecord(row, 1));
    out.seal.records.push_back(ToSealed(std::move(*r)));
    return Ok();
  }));
  return out;
}

Result<SealHead> SponsorStore::ReadLatestSealHead(std::string_view trial_id,
                                                  std::string_view domain) {
  Connection& db = *db_;
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT id, root, record_count, schema_hash, algorithm, "
                                "ledger_index FROM seals WHERE trial_id = ?1 AND domain = ?2 "
                                "AND ledger_index IS NOT NULL ORDER BY id DESC LIMIT 1"));
  q->Bind(1, trial_id).Bind(2, domain);
  PEDIGREE_ASSIGN(found, q->Step());
  if (!*found) {
    return Fail("trial.not_sealed", std::string(trial_id) + " " + std::string(domain) +
                                        " has no seal acknowledged by the ledger");
  }
  SealHead out;
  out.seal_id = q->Int(0);
  PEDIGREE_ASSIGN(root, HashColumn(*q, 1, "seal root"));
  out.summary.root = *root;
  out.summary.record_count = static_cast<uint64_t>(q->Int(2));
  out.summary.schema_hash = q->Text(3);
  out.summary.algorithm = q->Text(4);
  out.ledger_index = static_cast<uint64_t>(q->Int(5));
  return out;
}

Result<StoredSeal> SponsorStore::LatestSeal(std::string_view trial_id, std::string_view domain) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(tx, Transaction::Begin(*db_));
  PEDIGREE_ASSIGN(head, ReadLatestSealHead(trial_id, domain));
  PEDIGREE_ASSIGN(seal, ReadSeal(head->seal_id));
  PEDIGREE_TRY(tx->Commit());
  return seal;
}

Result<SealHead> SponsorStore::LatestSealHead(std::string_view trial_id, std::string_view domain) {
  std::lock_guard lock(mu_);
  return ReadLatestSealHead(trial_id, domain);
}

Result<provenance::DatasetDiff> SponsorStore::Compare(std::string_view trial_id,
                                                      const scanner::Dataset& candidate,
                                                      const provenance::CompareOptions& options) {
  PEDIGREE_ASSIGN(seal, LatestSeal(trial_id, candidate.domain));
  return provenance::CompareDataset(seal->seal, candidate, options);
}

struct SponsorStore::SealIndex {
  int64_t seal_id = 0;
  Hash root{};
  std::vector<std::string> keys;  // key order: keys[i] is at leaf i
  std::vector<Hash> leaves;       // leaves[i]: the commitment of keys[i]
  provenance::SealTree tree;
};

Result<std::shared_ptr<const SponsorStore::SealIndex>> SponsorStore::IndexOf(
    const SealHead& seal, std::string_view trial_id, std::string_view domain) {
  std::string cache_key(trial_id);
  cache_key.push_back('\0');
  cache_key.append(domain);
  if (auto it = seal_indexes_.find(cache_key); it != seal_indexes_.end() &&
                                               it->second->seal_id == seal.seal_id &&
                                               it->second->root == seal.summary.root) {
    return it->second;
  }
  // The keys and leaves only: the records' text is read one record at a time.
  PEDIGREE_ASSIGN(q, db_->Prepare("SELECT m.position, records.record_key, records.leaf FROM "
                                  "seal_records m JOIN records ON records.id = m.record_id "
                                  "WHERE m.seal_id = ?1 ORDER BY m.position"));
  q->Bind(1, seal.seal_id);
  std::vector<std::string> keys;
  std::vector<Hash> leaves;
  keys.reserve(seal.summary.record_count);
  leaves.reserve(seal.summary.record_count);
  PEDIGREE_TRY(q->ForEachRow([&](const Query& row) -> Status {
    if (row.Int(0) != static_cast<int64_t>(keys.size())) {
      return Fail("storage.corrupt", "seal " + std::to_string(seal.seal_id) + " has no record at " +
                                         "position " + std::to_string(keys.size()));
    }
    keys.push_back(row.Text(1));
    PEDIGREE_ASSIGN(leaf, HashColumn(row, 2, "record " + keys.back() + " leaf"));
    leaves.push_back(*leaf);
    return Ok();
  }));
  provenance::SealTree tree(leaves);
  auto index = std::make_shared<SealIndex>(SealIndex{
      seal.seal_id, seal.summary.root, std::move(keys), std::move(leaves), std::move(tree)});
  // A store whose seal rows disagree with the summary the ledger signed must not disclose.
  if (index->keys.size() != seal.summary.record_count || index->tree.Root() != seal.summary.root) {
    return Fail("storage.corrupt", "the records of seal " + std::to_string(seal.seal_id) +
                                       " do not give its root " + ToHex(seal.summary.root));
  }
  seal_indexes_[cache_key] = index;
  return std::shared_ptr<const SealIndex>(std::move(index));
}

Result<provenance::Disclosure> SponsorStore::Disclose(std::string_view trial_id,
                                                      std::string_view domain, std::string_view key,
                                                      provenance::SealEvidence evidence) {
  PEDIGREE_ASSIGN(head, LatestSealHead(trial_id, domain));
  return Disclose(*head, trial_id, domain, key, std::move(evidence));
}

Result<provenance::Disclosure> SponsorStore::Disclose(const SealHead& seal,
                                                      std::string_view trial_id,
                                                      std::string_view domain, std::string_view key,
                                                      provenance::SealEvidence evidence) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(tx, Transaction::Begin(*db_));
  PEDIGREE_ASSIGN(index, IndexOf(seal, trial_id, domain));
  const std::vector<std::string>& keys = (*index)->keys;
  const auto it = std::lower_bound(keys.begin(), keys.end(), key,
                                   [](const std::string& k, std::string_view want) {
                                     return provenance::RecordKeyLess(k, want);
                                   });
  if (it == keys.end() || *it != key) {
    return Fail("trial.unknown_key", "no record " + std::string(key) + " in the sealed " +
                                         std::string(trial_id) + " " + std::string(domain));
  }
  const auto position = static_cast<uint64_t>(it - keys.begin());
  // Static: the connection caches statements by the address of their text.
  static const std::string sql = std::string("SELECT m.position, ") + kRecordColumns +
                                 " FROM seal_records m JOIN records ON records.id = m.record_id "
                                 "WHERE m.seal_id = ?1 AND m.position = ?2";
  PEDIGREE_ASSIGN(q, db_->Prepare(sql.c_str()));
  q->Bind(1, seal.seal_id).Bind(2, static_cast<int64_t>(position));
  PEDIGREE_ASSIGN(found, q->Step());
  if (!*found) {
    return Fail("storage.corrupt", "seal " + std::to_string(seal.seal_id) +
                                       " has no record at position " + std::to_string(position));
  }
  PEDIGREE_ASSIGN(record, ReadRecord(*q, 1));
  PEDIGREE_TRY(tx->Commit());
  if (record->key != key || record->leaf != (*index)->leaves[position]) {
    return Fail("storage.corrupt", "record " + std::string(key) + " of seal " +
                                       std::to_string(seal.seal_id) + " is not its sealed leaf");
  }
  return provenance::MakeDisclosure(std::string(trial_id), std::string(domain), seal.summary,
                                    ToSealed(std::move(*record)), (*index)->tree, position,
                                    std::move(evidence));
}

Status SponsorStore::Redact(std::string_view trial_id, std::string_view domain, const Hash& leaf,
                            std::string_view reason, uint64_t ledger_index) {
  if (reason.empty()) {
    return Fail("trial.reason_required", "a redaction of leaf " + ToHex(leaf) + " needs a reason");
  }
  std::lock_guard lock(mu_);
  Connection& db = *db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  PEDIGREE_ASSIGN(find, db.Prepare("SELECT id, redacted, state FROM records WHERE "
                                   "trial_id = ?1 AND domain = ?2 AND leaf = ?3"));
  find->Bind(1, trial_id).Bind(2, domain).Bind(3, leaf);
  PEDIGREE_ASSIGN(found, find->Step());
  if (!*found || find->Text(2) == "staged") {
    return Fail("trial.unknown_leaf", "no record with leaf " + ToHex(leaf) + " in " +
                                          std::string(trial_id) + " " + std::string(domain));
  }
  if (find->Int(1) != 0) {
    return Fail("trial.already_redacted",
                "the record with leaf " + ToHex(leaf) + " was redacted already");
  }
  const int64_t id = find->Int(0);
  PEDIGREE_ASSIGN(upd, db.Prepare("UPDATE records SET canonical = NULL, salt = NULL, "
                                  "redacted = 1, redaction_reason = ?2, redaction_index = ?3 "
                                  "WHERE id = ?1"));
  upd->Bind(1, id).Bind(2, reason).Bind(3, static_cast<int64_t>(ledger_index));
  PEDIGREE_TRY(upd->Run());
  PEDIGREE_TRY(tx->Commit());
  // The old page images stay in the WAL until a checkpoint copies and truncates it; a reader
  // holding an old snapshot can delay that, which is why this is best effort. On PostgreSQL
  // the old row version stays in the table until VACUUM prunes it (and in the server's WAL
  // and its archives for their retention: docs/deployment.md); vacuum it now, best effort.
  if (db.dialect() == log::sql::Dialect::kPostgres) {
    (void)db.Exec("VACUUM records");
  } else {
    (void)db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  return Ok();
}

namespace {

// The columns of one table as migrate copies and compares them: 'i' integer, 't' text, 'b'
// blob, each possibly NULL. Statements are literals: the connection caches them by address.
struct TableCopy {
  const char* name;
  const char* types;
  const char* select;
  const char* insert;
};

// In foreign-key order; rows in id order (a record replaces an older one).
constexpr TableCopy kTables[] = {
    {"submissions", "ittttti",
     "SELECT id, trial_id, domain, reason, schema_hash, state, ledger_index FROM submissions "
     "ORDER BY id",
     "INSERT INTO submissions(id, trial_id, domain, reason, schema_hash, state, ledger_index) "
     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"},
    {"records", "itttbbbiititi",
     "SELECT id, trial_id, domain, record_key, canonical, salt, leaf, submission_id, "
     "replaces_id, state, redacted, redaction_reason, redaction_index FROM records ORDER BY id",
     "INSERT INTO records(id, trial_id, domain, record_key, canonical, salt, leaf, "
     "submission_id, replaces_id, state, redacted, redaction_reason, redaction_index) "
     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"},
    {"seals", "ittbitti",
     "SELECT id, trial_id, domain, root, record_count, schema_hash, algorithm, ledger_index "
     "FROM seals ORDER BY id",
     "INSERT INTO seals(id, trial_id, domain, root, record_count, schema_hash, algorithm, "
     "ledger_index) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"},
    {"seal_records", "iii",
     "SELECT seal_id, position, record_id FROM seal_records ORDER BY seal_id, position",
     "INSERT INTO seal_records(seal_id, position, record_id) VALUES(?1, ?2, ?3)"},
};

using Cell = std::optional<std::string>;

// Every row of `table`, each cell as its text, decimal integer or raw blob bytes.
Result<std::vector<std::vector<Cell>>> ReadTable(Connection& db, const TableCopy& table) {
  std::vector<std::vector<Cell>> rows;
  const int columns = static_cast<int>(std::strlen(table.types));
  PEDIGREE_ASSIGN(q, db.Prepare(table.select));
  PEDIGREE_TRY(q->ForEachRow([&](const Query& row) {
    std::vector<Cell> cells;
    for (int c = 0; c < columns; ++c) {
      if (row.IsNull(c)) {
        cells.emplace_back(std::nullopt);
      } else if (table.types[c] == 'i') {
        cells.emplace_back(std::to_string(row.Int(c)));
      } else if (table.types[c] == 'b') {
        cells.emplace_back(std::string(AsText(row.Blob(c))));
      } else {
        cells.emplace_back(row.Text(c));
      }
    }
    rows.push_back(std::move(cells));
  }));
  return rows;
}

}  // namespace

Result<bool> SponsorStore::Empty() {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(q, db_->Prepare("SELECT 1 FROM submissions LIMIT 1"));
  PEDIGREE_ASSIGN(row, q->Step());
  return !*row;
}

Status SponsorStore::CopyInto(SponsorStore& to) {
  std::scoped_lock lock(mu_, to.mu_);
  Connection& db = *to.db_;
  PEDIGREE_ASSIGN(tx, Transaction::Begin(db));
  {
    PEDIGREE_ASSIGN(any, db.Prepare("SELECT 1 FROM submissions LIMIT 1"));
    PEDIGREE_ASSIGN(row, any->Step());
    if (*row) return Fail("trial.store_not_empty", "the destination sponsor store is not empty");
  }
  for (const TableCopy& table : kTables) {
    PEDIGREE_ASSIGN(rows, ReadTable(*db_, table));
    PEDIGREE_ASSIGN(ins, db.Prepare(table.insert));
    for (const std::vector<Cell>& cells : *rows) {
      ins->Reset();
      for (size_t c = 0; c < cells.size(); ++c) {
        const int at = static_cast<int>(c) + 1;
        if (!cells[c]) {
          ins->BindNull(at);
        } else if (table.types[c] == 'i') {
          ins->Bind(at, static_cast<int64_t>(std::stoll(*cells[c])));
        } else if (table.types[c] == 'b') {
          ins->Bind(at, AsBytes(*cells[c]));
        } else {
          ins->Bind(at, *cells[c]);
        }
      }
      PEDIGREE_TRY(ins->Run());
    }
  }
  if (db.dialect() == log::sql::Dialect::kPostgres) {
    // Rows inserted with their ids leave the identity sequences behind: the next Stage or
    // Seal would take an id already used.
    PEDIGREE_TRY(
        db.Exec("SELECT setval(pg_get_serial_sequence('submissions', 'id'), "
                "COALESCE((SELECT MAX(id) FROM submissions), 0) + 1, false); "
                "SELECT setval(pg_get_serial_sequence('records', 'id'), "
                "COALESCE((SELECT MAX(id) FROM records), 0) + 1, false); "
                "SELECT setval(pg_get_serial_sequence('seals', 'id'), "
                "COALESCE((SELECT MAX(id) FROM seals), 0) + 1, false)"));
  }
  return tx->Commit();
}

Result<std::string> SponsorStore::Dump() {
  std::lock_guard lock(mu_);
  std::string out;
  for (const TableCopy& table : kTables) {
    PEDIGREE_ASSIGN(rows, ReadTable(*db_, table));
    for (const std::vector<Cell>& cells : *rows) {
      out += table.name;
      for (size_t c = 0; c < cells.size(); ++c) {
        out += c == 0 ? ":" : ",";
        if (!cells[c]) {
          out += "NULL";
        } else if (table.types[c] == 'b') {
          out += "x" + ToHex(AsBytes(*cells[c]));
        } else {
          out += "'" + *cells[c] + "'";
        }
      }
      out += "\n";
    }
  }
  return out;
}

}  // namespace pedigree::services
