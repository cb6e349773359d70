#include "pedigree/log/sqlite_storage.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string>

#include "tile_tree.h"

namespace pedigree::log {
namespace {

constexpr uint32_t kTileBits = 8;  // tile level L holds level 8·L hashes

enum Stmt : int {
  kBegin,
  kCommit,
  kRollback,
  kInsertEntry,
  kInsertKey,
  kInsertTile,
  kUpsertPartial,
  kSelectEntry,
  kSelectEntries,
  kSelectKey,
  kSelectTile,
  kInsertCheckpoint,
  kSelectCheckpoint,
  kSelectLatestCheckpoint,
  kSelectCheckpointSizes,
  kSelectMeta,
  kUpsertMeta,
  kStmtCount,
};

// Index = Stmt value. Parameterised SQL only.
constexpr const char* kStatements[kStmtCount] = {
    "BEGIN IMMEDIATE",
    "COMMIT",
    "ROLLBACK",
    "INSERT INTO entries(idx, data) VALUES(?1, ?2)",
    "INSERT INTO idempotency(key, idx) VALUES(?1, ?2)",
    "INSERT INTO tiles(level, n, hashes) VALUES(?1, ?2, ?3)",
    "INSERT INTO partial_tiles(level, n, hashes) VALUES(?1, ?2, ?3) "
    "ON CONFLICT(level) DO UPDATE SET n = excluded.n, hashes = excluded.hashes",
    "SELECT data FROM entries WHERE idx = ?1",
    "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
    "SELECT idx FROM idempotency WHERE key = ?1",
    "SELECT hashes FROM tiles WHERE level = ?1 AND n = ?2",
    "INSERT INTO checkpoints(size, root, note) VALUES(?1, ?2, ?3)",
    "SELECT size, root, note FROM checkpoints WHERE size = ?1",
    "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
    "SELECT size FROM checkpoints ORDER BY size",
    "SELECT value FROM meta WHERE key = ?1",
    "INSERT INTO meta(key, value) VALUES(?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
};

// Each migration moves the schema from version i to i+1, inside one transaction.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
-- WITHOUT ROWID: one B-tree keyed by the key instead of a rowid table plus an index.
CREATE TABLE idempotency(key TEXT PRIMARY KEY,
                         idx INTEGER NOT NULL REFERENCES entries(idx)) WITHOUT ROWID;
-- Full tiles only: 256 hashes of level 8*level, immutable.
CREATE TABLE tiles(level INTEGER NOT NULL, n INTEGER NOT NULL,
                   hashes BLOB NOT NULL CHECK(length(hashes) = 8192),
                   PRIMARY KEY(level, n));
-- The one growing rightmost tile of each tile level; may only grow or roll over.
CREATE TABLE partial_tiles(level INTEGER PRIMARY KEY, n INTEGER NOT NULL,
                           hashes BLOB NOT NULL
                             CHECK(length(hashes) % 32 = 0 AND length(hashes) < 8192));
CREATE TABLE checkpoints(size INTEGER PRIMARY KEY,
                         root BLOB NOT NULL CHECK(length(root) = 32),
                         note TEXT NOT NULL);
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER idempotency_no_update BEFORE UPDATE ON idempotency
  BEGIN SELECT RAISE(ABORT, 'idempotency keys are append-only'); END;
CREATE TRIGGER idempotency_no_delete BEFORE DELETE ON idempotency
  BEGIN SELECT RAISE(ABORT, 'idempotency keys are append-only'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER tiles_no_update BEFORE UPDATE ON tiles
  BEGIN SELECT RAISE(ABORT, 'full tiles are immutable'); END;
CREATE TRIGGER tiles_no_delete BEFORE DELETE ON tiles
  BEGIN SELECT RAISE(ABORT, 'full tiles are immutable'); END;
CREATE TRIGGER partial_tiles_grow_only BEFORE UPDATE ON partial_tiles
  WHEN NOT ((NEW.level = OLD.level AND NEW.n = OLD.n
             AND length(NEW.hashes) >= length(OLD.hashes)
             AND substr(NEW.hashes, 1, length(OLD.hashes)) = OLD.hashes)
            OR (NEW.level = OLD.level AND NEW.n > OLD.n))
  BEGIN SELECT RAISE(ABORT, 'a partial tile may only grow or roll over'); END;
CREATE TRIGGER partial_tiles_no_delete BEFORE DELETE ON partial_tiles
  BEGIN SELECT RAISE(ABORT, 'partial tiles are never deleted'); END;
)sql",
};

std::unexpected<Error> SqlError(sqlite3* db, const std::string& step, int rc) {
  const int primary = rc & 0xff;
  const std::string code =
      (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) ? "storage.corrupt" : "storage.io";
  const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  return Fail(code, "SQL step '" + step + "' failed: " + msg + " (" + std::to_string(rc) + ")");
}

std::unexpected<Error> NotFound(const std::string& what) { return Fail("storage.not_found", what); }

// Resets a cached statement and clears its bindings when the scope ends.
class Bound {
 public:
  explicit Bound(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~Bound() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Bound(const Bound&) = delete;
  Bound& operator=(const Bound&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  void Int(int i, uint64_t v) { sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v)); }
  void Blob(int i, std::span<const uint8_t> b) {
    sqlite3_bind_blob(stmt_, i, b.empty() ? "" : static_cast<const void*>(b.data()),
                      static_cast<int>(b.size()), SQLITE_STATIC);
  }
  void Text(int i, std::string_view t) {
    sqlite3_bind_text(stmt_, i, t.data(), static_cast<int>(t.size()), SQLITE_STATIC);
  }

 private:
  sqlite3_stmt* stmt_;
};

std::string ColumnText(sqlite3_stmt* stmt, int col) {
  const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, col));
  const int n = sqlite3_column_bytes(stmt, col);
  return p ? std::string(p, static_cast<size_t>(n)) : std::string();
}

uint64_t ColumnU64(sqlite3_stmt* stmt, int col) {
  return static_cast<uint64_t>(sqlite3_column_int64(stmt, col));
}

}  // namespace

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}
SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

Result<SqliteDb> OpenSqliteReadOnly(const std::string& path) {
  sqlite3* handle = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
  SqliteDb db(handle);  // sqlite3_open_v2 may return a handle even when it fails
  if (rc != SQLITE_OK) {
    return Fail("storage.io", "cannot open " + path + " for reading: " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(handle, 5000);
  return db;
}
SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    if (stmt_) sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}
SqliteStatement::~SqliteStatement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

SqliteStorage::SqliteStorage(SqliteOptions options) : options_(options) {}

SqliteStorage::~SqliteStorage() {
  // Statements must be finalized before the connection closes.
  statements_.clear();
}

int SqliteStorage::SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path,
                                                           SqliteOptions options) {
  std::unique_ptr<SqliteStorage> storage(new SqliteStorage(options));
  if (auto st = storage->Initialise(path); !st) return std::unexpected(st.error());
  return storage;
}

Status SqliteStorage::Exec(const char* sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_.get(), sql, nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    std::string step(sql);
    if (step.size() > 60) step = step.substr(0, 60) + "...";
    const int primary = rc & 0xff;
    return Fail(
        (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) ? "storage.corrupt" : "storage.io",
        "SQL step '" + step + "' failed: " + msg + " (" + std::to_string(rc) + ")");
  }
  return Ok();
}

Status SqliteStorage::Initialise(const std::string& path) {
  std::error_code ec;
  if (!options_.create && !std::filesystem::exists(path, ec)) {
    return NotFound("no ledger database at " + path);
  }
  sqlite3* raw = nullptr;
  const int flags =
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (options_.create ? SQLITE_OPEN_CREATE : 0);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  db_ = SqliteDb(raw);  // owns the handle even when opening failed
  if (rc != SQLITE_OK) return SqlError(raw, "open " + path, rc);
  sqlite3_extended_result_codes(db_.get(), 1);
  sqlite3_busy_timeout(db_.get(), options_.busy_timeout_ms);
  // WAL for concurrent readers; FULL so that a returned commit survives power loss.
  if (auto st = Exec("PRAGMA journal_mode=WAL"); !st) return st;
  if (auto st = Exec("PRAGMA synchronous=FULL"); !st) return st;
  if (auto st = Exec("PRAGMA foreign_keys=ON"); !st) return st;
  const std::string cache = "PRAGMA cache_size=-" + std::to_string(options_.page_cache_mib * 1024);
  if (auto st = Exec(cache.c_str()); !st) return st;
  if (auto st = Migrate(); !st) return st;
  if (auto st = PrepareStatements(); !st) return st;
  return LoadTileState();
}

Status SqliteStorage::Migrate() {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db_.get(), "PRAGMA user_version", -1, &raw, nullptr);
  SqliteStatement stmt(raw);
  if (rc != SQLITE_OK) return SqlError(db_.get(), "PRAGMA user_version", rc);
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW) return SqlError(db_.get(), "PRAGMA user_version", rc);
  const int version = sqlite3_column_int(raw, 0);
  if (version > SchemaVersion()) {
    return Fail("storage.schema_version", "database schema version " + std::to_string(version) +
                                              " is newer than this program's " +
                                              std::to_string(SchemaVersion()));
  }
  for (int v = version; v < SchemaVersion(); ++v) {
    if (auto st = Exec("BEGIN IMMEDIATE"); !st) return st;
    auto st = Exec(kMigrations[v]);
    if (st) {
      const std::string bump = "PRAGMA user_version = " + std::to_string(v + 1);
      st = Exec(bump.c_str());
    }
    if (st) st = Exec("COMMIT");
    if (!st) {
      (void)Exec("ROLLBACK");
      return std::unexpected(
          st.error().with_context("migration to schema version " + std::to_string(v + 1)));
    }
  }
  return Ok();
}

Status SqliteStorage::PrepareStatements() {
  statements_.clear();
  for (int i = 0; i < kStmtCount; ++i) {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_.get(), kStatements[i], -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    statements_.emplace_back(raw);
    if (rc != SQLITE_OK) return SqlError(db_.get(), std::string("prepare ") + kStatements[i], rc);
  }
  return Ok();
}

sqlite3_stmt* SqliteStorage::Prepared(int which) { return statements_[which].get(); }

Status SqliteStorage::LoadTileState() {
  std::lock_guard lock(db_mu_);
  {
    sqlite3_stmt* raw = nullptr;
    const char* sql = "SELECT coalesce(max(idx) + 1, 0) FROM entries";
    int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
    SqliteStatement stmt(raw);
    if (rc != SQLITE_OK || (rc = sqlite3_step(raw)) != SQLITE_ROW) {
      return SqlError(db_.get(), sql, rc);
    }
    size_ = ColumnU64(raw, 0);
  }
  std::vector<std::shared_ptr<const TileTree>> partial;
  {
    sqlite3_stmt* raw = nullptr;
    const char* sql = "SELECT level, n, hashes FROM partial_tiles ORDER BY level";
    int rc = sqlite3_prepare_v2(db_.get(), sql, -1, &raw, nullptr);
    SqliteStatement stmt(raw);
    if (rc != SQLITE_OK) return SqlError(db_.get(), sql, rc);
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
      const uint64_t level = ColumnU64(raw, 0);
      const uint64_t n = ColumnU64(raw, 1);
      const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(raw, 2));
      const auto bytes = static_cast<size_t>(sqlite3_column_bytes(raw, 2));
      if (level != partial.size() || bytes % sizeof(Hash) != 0) {
        return Fail("storage.corrupt", "partial tile row at level " + std::to_string(level) +
                                           " with " + std::to_string(bytes) +
                                           " bytes is out of place");
      }
      partial.push_back(std::make_shared<const TileTree>(TileTree::FromBlob(n, {blob, bytes})));
    }
    if (rc != SQLITE_DONE) return SqlError(db_.get(), sql, rc);
  }
  // The tiles must cover exactly the stored entries at every tile level.
  for (size_t level = 0; level < 8; ++level) {
    const uint64_t want = level * kTileBits >= 64 ? 0 : size_ >> (level * kTileBits);
    const uint64_t have =
        level < partial.size() ? partial[level]->n() * 256 + partial[level]->width() : 0;
    if (want != have) {
      return Fail("storage.corrupt", "tile level " + std::to_string(level) + " holds " +
                                         std::to_string(have) + " hashes, " +
                                         std::to_string(size_) + " entries need " +
                                         std::to_string(want));
    }
  }
  std::lock_guard cache_lock(cache_mu_);
  partial_ = std::move(partial);
  return Ok();
}

std::shared_ptr<const TileTree> SqliteStorage::CachedTile(uint32_t tile_level, uint64_t n) {
  auto it = lru_index_.find(TileKey{tile_level, n});
  if (it == lru_index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void SqliteStorage::CacheTile(uint32_t tile_level, std::shared_ptr<const TileTree> tile) {
  if (options_.tile_cache_tiles == 0) return;
  const TileKey key{tile_level, tile->n()};
  if (lru_index_.count(key)) return;
  lru_.emplace_front(key, std::move(tile));
  lru_index_[key] = lru_.begin();
  while (lru_.size() > options_.tile_cache_tiles) {
    lru_index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

Result<Hash> SqliteStorage::ReadHash(uint32_t level, uint64_t index) {
  const uint32_t tile_level = level / kTileBits;
  const uint32_t k = level % kTileBits;
  auto not_found = [&] {
    return NotFound("no hash at level " + std::to_string(level) + " index " +
                    std::to_string(index));
  };
  if (index > (UINT64_MAX >> k)) return not_found();
  const uint64_t first = index << k;  // first covered hash of the tile level
  const uint64_t n = first / 256;
  const uint64_t in_tile = (first % 256) >> k;
  Hash out;
  {
    std::lock_guard lock(cache_mu_);
    if (tile_level >= partial_.size()) return not_found();
    const TileTree& partial = *partial_[tile_level];
    if (n > partial.n()) return not_found();
    if (n == partial.n()) {
      if (!partial.Get(k, in_tile, &out)) return not_found();
      return out;
    }
    if (auto tile = CachedTile(tile_level, n)) {
      tile->Get(k, in_tile, &out);
      return out;
    }
  }
  std::shared_ptr<const TileTree> tile;
  {
    std::lock_guard lock(db_mu_);
    Bound q(Prepared(kSelectTile));
    q.Int(1, tile_level);
    q.Int(2, n);
    const int rc = sqlite3_step(q.get());
    if (rc == SQLITE_DONE) {
      return Fail("storage.corrupt", "full tile " + std::to_string(tile_level) + "/" +
                                         std::to_string(n) + " is missing");
    }
    if (rc != SQLITE_ROW) return SqlError(db_.get(), kStatements[kSelectTile], rc);
    const auto* blob = static_cast<const uint8_t*>(sqlite3_column_blob(q.get(), 0));
    const auto bytes = static_cast<size_t>(sqlite3_column_bytes(q.get(), 0));
    if (bytes != 256 * sizeof(Hash)) {
      return Fail("storage.corrupt", "full tile " + std::to_string(tile_level) + "/" +
                                         std::to_string(n) + " has " + std::to_string(bytes) +
                                         " bytes");
    }
    tile = std::make_shared<const TileTree>(TileTree::FromBlob(n, {blob, bytes}));
  }
  tile->Get(k, in_tile, &out);
  std::lock_guard lock(cache_mu_);
  CacheTile(tile_level, std::move(tile));
  return out;
}

Result<uint64_t> SqliteStorage::Size() {
  std::lock_guard lock(db_mu_);
  return size_;
}

Status SqliteStorage::Append(uint64_t first_index, std::span<const std::string> entries,
                             std::span<const std::string> idempotency_keys,
                             std::span<const StoredHash> hashes,
                             const std::function<Status()>& within) {
  std::lock_guard lock(db_mu_);
  if (first_index != size_) {
    return Fail("storage.append_gap", "append at index " + std::to_string(first_index) +
                                          ", stored size is " + std::to_string(size_));
  }
  if (!idempotency_keys.empty() && idempotency_keys.size() != entries.size()) {
    return Fail("storage.invalid_argument", "idempotency keys do not match entries");
  }
  // Stage the tile changes on copies; the in-memory state changes only after COMMIT.
  std::vector<std::shared_ptr<TileTree>> staged;
  {
    std::lock_guard cache_lock(cache_mu_);
    for (const auto& tile : partial_) staged.push_back(std::make_shared<TileTree>(*tile));
  }
  std::vector<std::pair<uint32_t, std::shared_ptr<const TileTree>>> completed;
  std::vector<bool> touched;
  for (const StoredHash& h : hashes) {
    if (h.level % kTileBits != 0) continue;  // recomputed from the tile below
    const uint32_t tile_level = h.level / kTileBits;
    while (staged.size() <= tile_level) staged.push_back(std::make_shared<TileTree>(0));
    if (touched.size() < staged.size()) touched.resize(staged.size());
    touched[tile_level] = true;
    TileTree& tile = *staged[tile_level];
    const uint64_t want = tile.n() * 256 + tile.width();
    if (h.index != want) {
      return Fail("storage.hash_order", "hash at level " + std::to_string(h.level) + " index " +
                                            std::to_string(h.index) + ", expected index " +
                                            std::to_string(want));
    }
    tile.Push(h.hash);
    if (tile.full()) {
      completed.emplace_back(tile_level, staged[tile_level]);
      staged[tile_level] = std::make_shared<TileTree>(tile.n() + 1);
    }
  }

  sqlite3* db = db_.get();
  auto run = [&]() -> Status {
    for (size_t i = 0; i < entries.size(); ++i) {
      Bound q(Prepared(kInsertEntry));
      q.Int(1, first_index + i);
      q.Blob(2, AsBytes(entries[i]));
      if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
        return SqlError(db, "INSERT INTO entries (index " + std::to_string(first_index + i) + ")",
                        rc);
      }
      if (!idempotency_keys.empty() && !idempotency_keys[i].empty()) {
        Bound k(Prepared(kInsertKey));
        k.Text(1, idempotency_keys[i]);
        k.Int(2, first_index + i);
        if (int rc = sqlite3_step(k.get()); rc != SQLITE_DONE) {
          return SqlError(db, "INSERT INTO idempotency", rc);
        }
      }
    }
    for (const auto& [tile_level, tile] : completed) {
      const Bytes blob = tile->Blob();
      Bound q(Prepared(kInsertTile));
      q.Int(1, tile_level);
      q.Int(2, tile->n());
      q.Blob(3, blob);
      if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
        return SqlError(db, "INSERT INTO tiles", rc);
      }
    }
    for (size_t level = 0; level < touched.size(); ++level) {
      if (!touched[level]) continue;
      const Bytes blob = staged[level]->Blob();
      Bound q(Prepared(kUpsertPartial));
      q.Int(1, level);
      q.Int(2, staged[level]->n());
      q.Blob(3, blob);
      if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
        return SqlError(db, "UPSERT partial_tiles", rc);
      }
    }
    if (within) return within();
    return Ok();
  };

  {
    Bound q(Prepared(kBegin));
    if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) return SqlError(db, "BEGIN", rc);
  }
  Status st = run();
  if (st) {
    Bound q(Prepared(kCommit));
    if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) st = SqlError(db, "COMMIT", rc);
  }
  if (!st) {
    if (!sqlite3_get_autocommit(db)) {
      Bound q(Prepared(kRollback));
      sqlite3_step(q.get());
    }
    return st;
  }
  size_ += entries.size();
  std::lock_guard cache_lock(cache_mu_);
  partial_.assign(staged.begin(), staged.end());
  for (auto& [tile_level, tile] : completed) CacheTile(tile_level, tile);
  return Ok();
}

Result<std::string> SqliteStorage::ReadEntry(uint64_t index) {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectEntry));
  q.Int(1, index);
  const int rc = sqlite3_step(q.get());
  if (rc == SQLITE_DONE) return NotFound("no entry " + std::to_string(index));
  if (rc != SQLITE_ROW) return SqlError(db_.get(), kStatements[kSelectEntry], rc);
  return ColumnText(q.get(), 0);
}

Result<std::vector<std::string>> SqliteStorage::ReadEntries(uint64_t begin, uint64_t end) {
  std::lock_guard lock(db_mu_);
  if (begin > end || end > size_) {
    return NotFound("no entries [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  std::vector<std::string> out;
  out.reserve(end - begin);
  Bound q(Prepared(kSelectEntries));
  q.Int(1, begin);
  q.Int(2, end);
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) {
    if (ColumnU64(q.get(), 0) != begin + out.size()) {
      return Fail("storage.corrupt", "entry " + std::to_string(begin + out.size()) + " is missing");
    }
    out.push_back(ColumnText(q.get(), 1));
  }
  if (rc != SQLITE_DONE) return SqlError(db_.get(), kStatements[kSelectEntries], rc);
  if (out.size() != end - begin) {
    return Fail("storage.corrupt", "entry " + std::to_string(begin + out.size()) + " is missing");
  }
  return out;
}

Result<std::optional<uint64_t>> SqliteStorage::FindIdempotencyKey(std::string_view key) {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectKey));
  q.Text(1, key);
  const int rc = sqlite3_step(q.get());
  if (rc == SQLITE_DONE) return std::optional<uint64_t>();
  if (rc != SQLITE_ROW) return SqlError(db_.get(), kStatements[kSelectKey], rc);
  return std::optional<uint64_t>(ColumnU64(q.get(), 0));
}

namespace {
Result<std::optional<StoredCheckpoint>> ReadCheckpointRow(sqlite3* db, sqlite3_stmt* stmt,
                                                          const char* sql) {
  const int rc = sqlite3_step(stmt);
  if (rc == SQLITE_DONE) return std::optional<StoredCheckpoint>();
  if (rc != SQLITE_ROW) return SqlError(db, sql, rc);
  StoredCheckpoint cp;
  cp.size = ColumnU64(stmt, 0);
  const auto* root = static_cast<const uint8_t*>(sqlite3_column_blob(stmt, 1));
  if (sqlite3_column_bytes(stmt, 1) != static_cast<int>(sizeof(Hash))) {
    return Fail("storage.corrupt",
                "checkpoint " + std::to_string(cp.size) + " root is not 32 bytes");
  }
  std::copy_n(root, sizeof(Hash), cp.root.begin());
  cp.note = ColumnText(stmt, 2);
  return std::optional<StoredCheckpoint>(std::move(cp));
}
}  // namespace

Status SqliteStorage::StoreCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard lock(db_mu_);
  auto existing = [&]() -> Result<std::optional<StoredCheckpoint>> {
    Bound q(Prepared(kSelectCheckpoint));
    q.Int(1, checkpoint.size);
    return ReadCheckpointRow(db_.get(), q.get(), kStatements[kSelectCheckpoint]);
  }();
  if (!existing) return std::unexpected(existing.error());
  if (*existing) {
    if ((*existing)->root != checkpoint.root) {
      return Fail("storage.checkpoint_conflict",
                  "checkpoint of size " + std::to_string(checkpoint.size) + " has root " +
                      ToHex((*existing)->root) + ", refused " + ToHex(checkpoint.root));
    }
    return Ok();
  }
  Bound q(Prepared(kInsertCheckpoint));
  q.Int(1, checkpoint.size);
  q.Blob(2, checkpoint.root);
  q.Text(3, checkpoint.note);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
    return SqlError(db_.get(), "INSERT INTO checkpoints", rc);
  }
  return Ok();
}

Result<std::optional<StoredCheckpoint>> SqliteStorage::LatestCheckpoint() {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectLatestCheckpoint));
  return ReadCheckpointRow(db_.get(), q.get(), kStatements[kSelectLatestCheckpoint]);
}

Result<std::optional<StoredCheckpoint>> SqliteStorage::CheckpointAt(uint64_t size) {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectCheckpoint));
  q.Int(1, size);
  return ReadCheckpointRow(db_.get(), q.get(), kStatements[kSelectCheckpoint]);
}

Result<std::vector<uint64_t>> SqliteStorage::CheckpointSizes() {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectCheckpointSizes));
  std::vector<uint64_t> sizes;
  int rc;
  while ((rc = sqlite3_step(q.get())) == SQLITE_ROW) sizes.push_back(ColumnU64(q.get(), 0));
  if (rc != SQLITE_DONE) return SqlError(db_.get(), kStatements[kSelectCheckpointSizes], rc);
  return sizes;
}

Result<std::string> SqliteStorage::GetMeta(std::string_view key) {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kSelectMeta));
  q.Text(1, key);
  const int rc = sqlite3_step(q.get());
  if (rc == SQLITE_DONE) return NotFound("no meta key " + std::string(key));
  if (rc != SQLITE_ROW) return SqlError(db_.get(), kStatements[kSelectMeta], rc);
  return ColumnText(q.get(), 0);
}

Status SqliteStorage::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(db_mu_);
  Bound q(Prepared(kUpsertMeta));
  q.Text(1, key);
  q.Text(2, value);
  if (int rc = sqlite3_step(q.get()); rc != SQLITE_DONE) {
    return SqlError(db_.get(), "UPSERT meta", rc);
  }
  return Ok();
}

}  // namespace pedigree::log
