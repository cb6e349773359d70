#include "pedigree/log/sqlite_storage.h"

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "tile_tree.h"

namespace pedigree::log {
namespace {

constexpr uint32_t kTileBits = 8;  // tile level L holds level 8·L hashes

// Parameterised SQL only. Prepared once at open (the Connection caches them by address).
constexpr const char* kInsertEntry = "INSERT INTO entries(idx, data) VALUES(?1, ?2)";
constexpr const char* kInsertKey = "INSERT INTO idempotency(key, idx) VALUES(?1, ?2)";
constexpr const char* kInsertTile = "INSERT INTO tiles(level, n, hashes) VALUES(?1, ?2, ?3)";
constexpr const char* kInsertPartialHash =
    "INSERT INTO partial_hashes(level, idx, hash) VALUES(?1, ?2, ?3)";
constexpr const char* kDeletePartialHashes =
    "DELETE FROM partial_hashes WHERE level = ?1 AND idx >= ?2 AND idx < ?3";
constexpr const char* kSelectPartialHashes =
    "SELECT level, idx, hash FROM partial_hashes ORDER BY level, idx";
constexpr const char* kSelectEntry = "SELECT data FROM entries WHERE idx = ?1";
constexpr const char* kSelectEntries =
    "SELECT idx, data FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx";
constexpr const char* kSelectKey = "SELECT idx FROM idempotency WHERE key = ?1";
constexpr const char* kSelectTile = "SELECT hashes FROM tiles WHERE level = ?1 AND n = ?2";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO checkpoints(size, root, note) VALUES(?1, ?2, ?3)";
constexpr const char* kSelectCheckpoint =
    "SELECT size, root, note FROM checkpoints WHERE size = ?1";
constexpr const char* kSelectLatestCheckpoint =
    "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1";
constexpr const char* kSelectCheckpointSizes = "SELECT size FROM checkpoints ORDER BY size";
constexpr const char* kSelectMeta = "SELECT value FROM meta WHERE key = ?1";
constexpr const char* kUpsertMeta =
    "INSERT INTO meta(key, value) VALUES(?1, ?2) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value";
constexpr const char* kStatements[] = {
    kInsertEntry,
    kInsertKey,
    kInsertTile,
    kInsertPartialHash,
    kDeletePartialHashes,
    kSelectPartialHashes,
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
    // Version 2: the rightmost partial tile of each tile level as one row per hash, so that
    // a commit inserts only its new hashes (a ~40-byte row in one leaf page) instead of
    // rewriting the whole growing blob (up to 8160 bytes, overflow pages) every commit.
    // `idx` is the hash's index at the tile level's hash level (8·level).
    R"sql(
CREATE TABLE partial_hashes(level INTEGER NOT NULL, idx INTEGER NOT NULL,
                            hash BLOB NOT NULL CHECK(length(hash) = 32),
                            PRIMARY KEY(level, idx)) WITHOUT ROWID;
WITH RECURSIVE split(level, idx, off, hashes) AS (
  SELECT level, n * 256, 0, hashes FROM partial_tiles WHERE length(hashes) > 0
  UNION ALL
  SELECT level, idx + 1, off + 32, hashes FROM split WHERE off + 32 < length(hashes))
INSERT INTO partial_hashes(level, idx, hash)
  SELECT level, idx, substr(hashes, off + 1, 32) FROM split;
DROP TABLE partial_tiles;

-- Rows are written once: each continues its tile (the previous hash is stored, or it is
-- a tile's first and the tile before it is full in `tiles`), is never changed, and is
-- deleted only once the full tile holding it is stored (in the same transaction).
CREATE TRIGGER partial_hashes_in_order BEFORE INSERT ON partial_hashes
  WHEN NOT (CASE WHEN NEW.idx % 256 = 0
                 THEN NEW.idx = 0 OR EXISTS (SELECT 1 FROM tiles
                                             WHERE level = NEW.level AND n = NEW.idx / 256 - 1)
                 ELSE EXISTS (SELECT 1 FROM partial_hashes
                              WHERE level = NEW.level AND idx = NEW.idx - 1) END)
  BEGIN SELECT RAISE(ABORT, 'a partial tile hash must continue its tile'); END;
CREATE TRIGGER partial_hashes_no_update BEFORE UPDATE ON partial_hashes
  BEGIN SELECT RAISE(ABORT, 'partial tile hashes are never changed'); END;
CREATE TRIGGER partial_hashes_delete_when_tiled BEFORE DELETE ON partial_hashes
  WHEN NOT EXISTS (SELECT 1 FROM tiles WHERE level = OLD.level AND n = OLD.idx / 256)
  BEGIN SELECT RAISE(ABORT, 'a partial tile hash is deleted only once its full tile is stored');
  END;
)sql",
};

std::unexpected<Error> NotFound(const std::string& what) { return Fail("storage.not_found", what); }

std::string ColumnString(const sql::Query& q, int col) { return std::string(AsText(q.Blob(col))); }

uint64_t ColumnU64(const sql::Query& q, int col) { return static_cast<uint64_t>(q.Int(col)); }

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

}  // namespace

// The writer's WAL checkpoints, on a thread and connection of their own (started on first
// use, so a storage that never fills its WAL starts none). A PASSIVE checkpoint copies the
// committed WAL pages no reader still needs into the database and fsyncs it, beside the
// writer's commits; once it has copied them all, the writer's next commit starts the WAL
// over. Failures are left alone: a checkpoint moves data already durable in the WAL, so a
// missed one only lets the WAL grow until the next succeeds.
//
// The commits that land while a checkpoint runs keep it from being complete, so the WAL
// does not start over and every following commit asked for another checkpoint: an fsync
// storm, two fsyncs (WAL, database) per checkpoint of one commit's ~10 pages, up to 17
// checkpoints in a row, each beside a commit's own fsync (strace of bench_trial_access: 62
// database fsyncs per 1000 access records). The pages those commits added are instead
// copied at once with the writer held off (the storage's connection lock: a commit arriving
// meanwhile waits for two fsyncs of a few pages), so the checkpoint completes and the next
// commit starts the WAL over (15 database fsyncs per 1000 access records).
class SqliteStorage::Checkpointer {
 public:
  Checkpointer(std::string path, int pages, std::recursive_mutex& writer_mu)
      : path_(std::move(path)), pages_(pages), writer_mu_(writer_mu) {}
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  // sqlite3_wal_hook: called by SQLite after each commit of the writer's connection, with
  // the pages now in the WAL.
  static int Hook(void* self, sqlite3* db, const char* schema, int pages) {
    auto& c = *static_cast<Checkpointer*>(self);
    if (pages >= c.pages_) c.Request();
    // Safety valve: a checkpointer far behind (its thread starved, a reader pinning the WAL)
    // must not let the WAL grow without bound; checkpoint here as SQLite would by itself.
    if (static_cast<int64_t>(pages) >= 16 * static_cast<int64_t>(c.pages_)) {  // no int overflow
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    return SQLITE_OK;
  }

  void Wait() {
    std::unique_lock lock(mu_);
    idle_.wait(lock, [&] { return !requested_ && !running_; });
  }

 private:
  void Request() {
    std::lock_guard lock(mu_);
    requested_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { Run(); });
    wake_.notify_one();
  }

  void Run() {
    std::optional<sql::Connection> db;
    std::unique_lock lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return stopping_ || requested_; });
      if (stopping_) break;
      requested_ = false;
      running_ = true;
      lock.unlock();
      if (!db) {
        auto opened = sql::Connection::Open(path_, {});
        // synchronous=FULL: the checkpoint fsyncs the database before the WAL may be reused.
        if (opened && opened->Exec("PRAGMA synchronous=FULL")) db = std::move(*opened);
      }
      int log = -1;
      int copied = -1;
      if (db) {
        // The bulk of the pages, beside the writer's commits.
        int rc =
            sqlite3_wal_checkpoint_v2(db->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log, &copied);
        if (rc == SQLITE_OK && copied < log) {
          // What the commits added meanwhile (a few pages each), with no commit beside it.
          std::lock_guard writer(writer_mu_);
          rc = sqlite3_wal_checkpoint_v2(db->get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                         &copied);
        }
      }
      lock.lock();
      running_ = false;
      idle_.notify_all();
    }
    running_ = false;
    requested_ = false;
    idle_.notify_all();
  }

  const std::string path_;
  const int pages_;
  std::recursive_mutex& writer_mu_;  // the storage's connection lock (db_mu_)
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  bool requested_ = false;
  bool running_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

SqliteStorage::SqliteStorage(SqliteOptions options) : options_(options) {}

SqliteStorage::~SqliteStorage() {
  // No commit may call the hook of a checkpointer being destroyed.
  if (checkpointer_ && db_.get()) sqlite3_wal_hook(db_.get(), nullptr, nullptr);
  // Its thread takes db_mu_, which is destroyed before checkpointer_ would be.
  checkpointer_.reset();
}

void SqliteStorage::WaitForCheckpoints() {
  if (checkpointer_) checkpointer_->Wait();
}

int SqliteStorage::SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::Open(const std::string& path,
                                                           SqliteOptions options) {
  std::unique_ptr<SqliteStorage> storage(new SqliteStorage(options));
  if (auto st = storage->Initialise(path); !st) return std::unexpected(st.error());
  return storage;
}

Status SqliteStorage::Initialise(const std::string& path) {
  std::error_code ec;
  if (!options_.create && !std::filesystem::exists(path, ec)) {
    return NotFound("no ledger database at " + path);
  }
  if (options_.read_only) {
    PEDIGREE_ASSIGN(db, sql::Connection::Open(path, {.read_only = true,
                                                     .busy_timeout_ms = options_.busy_timeout_ms}));
    db_ = std::move(*db);
    PEDIGREE_TRY(CheckSchemaForReading(path));
    PEDIGREE_TRY(db_.Exec("PRAGMA cache_size=-" + std::to_string(options_.page_cache_mib * 1024)));
    // One snapshot: a writer's commit between the queries would make the tiles and the
    // entries disagree.
    PEDIGREE_TRY(db_.Exec("BEGIN"));
    Status loaded = LoadTileState();
    PEDIGREE_TRY(db_.Exec("COMMIT"));
    return loaded;
  }
  PEDIGREE_ASSIGN(db, sql::Connection::Open(path, {.create = options_.create,
                                                   .busy_timeout_ms = options_.busy_timeout_ms}));
  db_ = std::move(*db);
  // WAL for concurrent readers; FULL so that a returned commit survives power loss.
  PEDIGREE_TRY(db_.Exec("PRAGMA journal_mode=WAL"));
  PEDIGREE_TRY(db_.Exec("PRAGMA synchronous=FULL"));
  PEDIGREE_TRY(db_.Exec("PRAGMA foreign_keys=ON"));
  PEDIGREE_TRY(db_.Exec("PRAGMA cache_size=-" + std::to_string(options_.page_cache_mib * 1024)));
  PEDIGREE_TRY(Migrate());
  PEDIGREE_TRY(PrepareStatements());
  if (options_.checkpoint_pages > 0) {
    // Replaces SQLite's automatic checkpoint (itself a WAL hook) on this connection.
    checkpointer_ = std::make_unique<Checkpointer>(path, options_.checkpoint_pages, db_mu_);
    sqlite3_wal_hook(db_.get(), &Checkpointer::Hook, checkpointer_.get());
  }
  return LoadTileState();
}

Status SqliteStorage::CheckSchemaForReading(const std::string& path) {
  int64_t version = 0;
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("PRAGMA user_version"));
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row) version = q->Int(0);
  }
  if (version != SchemaVersion()) {
    return Fail(
        Error(version < SchemaVersion() ? "storage.schema_not_migrated" : "storage.schema_version",
              "database " + path + " has schema version " + std::to_string(version) +
                  ", this program reads version " + std::to_string(SchemaVersion()) +
                  (version < SchemaVersion()
                       ? "; a read-only open does not migrate: open it once for writing "
                         "(e.g. restart `pedigree serve`)"
                       : "; use the newer program that wrote it"))
            .at_field("dir"));
  }
  return Ok();
}

Status SqliteStorage::Migrate() {
  int64_t version = 0;
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("PRAGMA user_version"));
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row) version = q->Int(0);
  }
  if (version > SchemaVersion()) {
    return Fail("storage.schema_version", "database schema version " + std::to_string(version) +
                                              " is newer than this program's " +
                                              std::to_string(SchemaVersion()));
  }
  for (int v = static_cast<int>(version); v < SchemaVersion(); ++v) {
    auto migrated = [&]() -> Status {
      PEDIGREE_ASSIGN(tx, sql::Transaction::Begin(db_));
      PEDIGREE_TRY(db_.Exec(kMigrations[v]));
      PEDIGREE_TRY(db_.Exec("PRAGMA user_version = " + std::to_string(v + 1)));
      return tx->Commit();
    }();
    if (!migrated) {
      return std::unexpected(
          migrated.error().with_context("migration to schema version " + std::to_string(v + 1)));
    }
  }
  return Ok();
}

// At open, so that a statement the schema cannot take fails the open and not an append.
Status SqliteStorage::PrepareStatements() {
  for (const char* text : kStatements) {
    PEDIGREE_ASSIGN(q, db_.Prepare(text));
  }
  return Ok();
}

Status SqliteStorage::LoadTileState() {
  std::lock_guard lock(db_mu_);
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT coalesce(max(idx) + 1, 0) FROM entries"));
    PEDIGREE_ASSIGN(row, q->Step());
    size_ = *row ? ColumnU64(*q, 0) : 0;
  }
  // The partial tiles, rebuilt from their hash rows: each level's rows are consecutive and
  // inside one tile. A level without rows has an empty partial tile at the next tile index
  // (its last tile is full), which the cover check below pins to the size.
  std::vector<std::shared_ptr<const TileTree>> partial;
  for (size_t level = 0; level < 8; ++level) {
    const uint64_t want = level * kTileBits >= 64 ? 0 : size_ >> (level * kTileBits);
    if (want == 0) break;
    partial.push_back(std::make_shared<const TileTree>(want / 256));
  }
  {
    std::vector<std::shared_ptr<TileTree>> loaded(partial.size());
    PEDIGREE_ASSIGN(q, db_.Prepare(kSelectPartialHashes));
    PEDIGREE_TRY(q->ForEachRow([&](const sql::Query& row) -> Status {
      const uint64_t level = ColumnU64(row, 0);
      const uint64_t idx = ColumnU64(row, 1);
      const std::span<const uint8_t> blob = row.Blob(2);
      auto out_of_place = [&] {
        return Fail("storage.corrupt", "partial tile hash row at level " + std::to_string(level) +
                                           " index " + std::to_string(idx) + " is out of place");
      };
      if (level >= loaded.size() || blob.size() != sizeof(Hash)) return out_of_place();
      auto& tile = loaded[level];
      if (!tile) {
        if (idx % 256 != 0) return out_of_place();
        tile = std::make_shared<TileTree>(idx / 256);
      }
      if (idx != tile->n() * 256 + tile->width() || tile->full()) return out_of_place();
      Hash h;
      std::copy(blob.begin(), blob.end(), h.begin());
      tile->Push(h);
      return Ok();
    }));
    for (size_t level = 0; level < loaded.size(); ++level) {
      if (!loaded[level]) continue;
      // 256 rows would be a full tile kept as rows: its rows go when it is stored whole.
      if (loaded[level]->full()) {
        return Fail("storage.corrupt",
                    "partial tile at level " + std::to_string(level) + " holds 256 hash rows");
      }
      partial[level] = std::move(loaded[level]);
    }
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

Status SqliteStorage::Reload() {
  std::lock_guard lock(db_mu_);
  // One snapshot: a writer's commit between the size and the tiles would not match.
  PEDIGREE_TRY(db_.Exec("BEGIN"));
  Status loaded = LoadTileState();
  if (auto ended = db_.Exec("COMMIT"); !ended && loaded) return ended;
  return loaded;
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
    PEDIGREE_ASSIGN(q, db_.Prepare(kSelectTile));
    q->Bind(1, I64(tile_level)).Bind(2, I64(n));
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail("storage.corrupt", "full tile " + std::to_string(tile_level) + "/" +
                                         std::to_string(n) + " is missing");
    }
    const std::span<const uint8_t> blob = q->Blob(0);
    if (blob.size() != 256 * sizeof(Hash)) {
      return Fail("storage.corrupt", "full tile " + std::to_string(tile_level) + "/" +
                                         std::to_string(n) + " has " + std::to_string(blob.size()) +
                                         " bytes");
    }
    tile = std::make_shared<const TileTree>(TileTree::FromBlob(n, blob));
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
  if (first_index < size_) {
    return Fail("storage.append_conflict", "append at index " + std::to_string(first_index) +
                                               ", but the log already holds " +
                                               std::to_string(size_) + " entries");
  }
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
  // Hashes stored per tile level before this append: rows from there on are new.
  std::vector<uint64_t> stored_before;
  for (const auto& tile : staged) stored_before.push_back(tile->n() * 256 + tile->width());
  std::vector<std::pair<uint32_t, std::shared_ptr<const TileTree>>> completed;
  std::vector<bool> touched;
  for (const StoredHash& h : hashes) {
    if (h.level % kTileBits != 0) continue;  // recomputed from the tile below
    const uint32_t tile_level = h.level / kTileBits;
    while (staged.size() <= tile_level) staged.push_back(std::make_shared<TileTree>(0));
    if (touched.size() < staged.size()) touched.resize(staged.size());
    stored_before.resize(staged.size());
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

  // Every write below binds without copying: entries, keys and blobs outlive the statements.
  auto run = [&]() -> Status {
    PEDIGREE_ASSIGN(insert_entry, db_.Prepare(kInsertEntry));
    PEDIGREE_ASSIGN(insert_key, db_.Prepare(kInsertKey));
    for (size_t i = 0; i < entries.size(); ++i) {
      insert_entry->Bind(1, I64(first_index + i)).BindUncopied(2, AsBytes(entries[i]));
      if (auto st = insert_entry->Run(); !st) {
        return std::unexpected(st.error().with_context("entry " + std::to_string(first_index + i)));
      }
      insert_entry->Reset();
      if (!idempotency_keys.empty() && !idempotency_keys[i].empty()) {
        insert_key->BindUncopied(1, idempotency_keys[i]).Bind(2, I64(first_index + i));
        PEDIGREE_TRY(insert_key->Run());
        insert_key->Reset();
      }
    }
    // A completed tile is stored whole, and the rows its first hashes had as a partial tile
    // (from earlier appends) go, in this transaction: the rows table only ever holds the
    // rightmost partial tile of each level (< 256 rows), and open reads no more.
    for (const auto& [tile_level, tile] : completed) {
      const Bytes blob = tile->Blob();
      PEDIGREE_ASSIGN(q, db_.Prepare(kInsertTile));
      q->Bind(1, I64(tile_level)).Bind(2, I64(tile->n())).BindUncopied(3, blob);
      PEDIGREE_TRY(q->Run());
      const uint64_t first = tile->n() * 256;
      if (stored_before[tile_level] > first) {
        PEDIGREE_ASSIGN(del, db_.Prepare(kDeletePartialHashes));
        del->Bind(1, I64(tile_level)).Bind(2, I64(first)).Bind(3, I64(first + 256));
        PEDIGREE_TRY(del->Run());
      }
    }
    // Then only this append's hashes of the partial tiles that remain, one row each.
    PEDIGREE_ASSIGN(insert_hash, db_.Prepare(kInsertPartialHash));
    for (size_t level = 0; level < touched.size(); ++level) {
      if (!touched[level]) continue;
      const TileTree& tile = *staged[level];
      const uint64_t first = tile.n() * 256;
      for (uint64_t idx = std::max(stored_before[level], first); idx < first + tile.width();
           ++idx) {
        Hash h;
        tile.Get(0, idx - first, &h);
        insert_hash->Bind(1, I64(level)).Bind(2, I64(idx)).Bind(3, std::span<const uint8_t>(h));
        PEDIGREE_TRY(insert_hash->Run());
        insert_hash->Reset();
      }
    }
    if (within) return within();
    return Ok();
  };

  {
    PEDIGREE_ASSIGN(tx, sql::Transaction::Begin(db_));
    PEDIGREE_TRY(run());
    PEDIGREE_TRY(tx->Commit());
  }
  size_ += entries.size();
  std::lock_guard cache_lock(cache_mu_);
  partial_.assign(staged.begin(), staged.end());
  for (auto& [tile_level, tile] : completed) CacheTile(tile_level, tile);
  return Ok();
}

Result<std::string> SqliteStorage::ReadEntry(uint64_t index) {
  std::lock_guard lock(db_mu_);
  PEDIGREE_ASSIGN(q, db_.Prepare(kSelectEntry));
  q->Bind(1, I64(index));
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return NotFound("no entry " + std::to_string(index));
  return ColumnString(*q, 0);
}

Result<std::vector<std::string>> SqliteStorage::ReadEntries(uint64_t begin, uint64_t end) {
  std::lock_guard lock(db_mu_);
  if (begin > end || end > size_) {
    return NotFound("no entries [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  std::vector<std::string> out;
  out.reserve(end - begin);
  PEDIGREE_ASSIGN(q, db_.Prepare(kSelectEntries));
  q->Bind(1, I64(begin)).Bind(2, I64(end));
  PEDIGREE_TRY(q->ForEachRow([&](const sql::Query& row) -> Status {
    if (ColumnU64(row, 0) != begin + out.size()) {
      return Fail("storage.corrupt", "entry " + std::to_string(begin + out.size()) + " is missing");
    }
    out.push_back(ColumnString(row, 1));
    return Ok();
  }));
  if (out.size() != end - begin) {
    return Fail("storage.corrupt", "entry " + std::to_string(begin + out.size()) + " is missing");
  }
  return out;
}

Result<std::optional<uint64_t>> SqliteStorage::FindIdempotencyKey(std::string_view key) {
  std::lock_guard lock(db_mu_);
  PEDIGREE_ASSIGN(q, db_.Prepare(kSelectKey));
  q->BindUncopied(1, key);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<uint64_t>();
  return std::optional<uint64_t>(ColumnU64(*q, 0));
}

namespace {
Result<std::optional<StoredCheckpoint>> ReadCheckpointRow(sql::Query& q) {
  PEDIGREE_ASSIGN(row, q.Step());
  if (!*row) return std::optional<StoredCheckpoint>();
  StoredCheckpoint cp;
  cp.size = ColumnU64(q, 0);
  const std::span<const uint8_t> root = q.Blob(1);
  if (root.size() != sizeof(Hash)) {
    return Fail("storage.corrupt",
                "checkpoint " + std::to_string(cp.size) + " root is not 32 bytes");
  }
  std::copy(root.begin(), root.end(), cp.root.begin());
  cp.note = ColumnString(q, 2);
  return std::optional<StoredCheckpoint>(std::move(cp));
}
}  // namespace

Status SqliteStorage::StoreCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard lock(db_mu_);
  std::optional<StoredCheckpoint> existing;
  {
    PEDIGREE_ASSIGN(q, db_.Prepare(kSelectCheckpoint));
    q->Bind(1, I64(checkpoint.size));
    PEDIGREE_ASSIGN(row, ReadCheckpointRow(*q));
    existing = std::move(*row);
  }
  if (existing) {
    if (existing->root != checkpoint.root) {
      return Fail("storage.checkpoint_conflict",
                  "checkpoint of size " + std::to_string(checkpoint.size) + " has root " +
                      ToHex(existing->root) + ", refused " + ToHex(checkpoint.root));
    }
    return Ok();
  }
  PEDIGREE_ASSIGN(q, db_.Prepare(kInsertCheckpoint));
  q->Bind(1, I64(checkpoint.size))
      .BindUncopied(2, checkpoint.root)
      .BindUncopied(3, checkpoint.note);
  return q->Run();
}

Result<std::optional<StoredCheckpoint>> SqliteStorage::LatestCheckpoint() {
  std::optional<StoredCheckpoint> checkpoint;
  {
    std::lock_guard lock(db_mu_);
    PEDIGREE_ASSIGN(q, db_.Prepare(kSelectLatestCheckpoint));
    PEDIGREE_ASSIGN(row, ReadCheckpointRow(*q));
    checkpoint = std::move(*row);
  }
  return WithStoredCosignatures(*this, std::move(checkpoint));
}

Result<std::optional<StoredCheckpoint>> SqliteStorage::CheckpointAt(uint64_t size) {
  std::optional<StoredCheckpoint> checkpoint;
  {
    std::lock_guard lock(db_mu_);
    PEDIGREE_ASSIGN(q, db_.Prepare(kSelectCheckpoint));
    q->Bind(1, I64(size));
    PEDIGREE_ASSIGN(row, ReadCheckpointRow(*q));
    checkpoint = std::move(*row);
  }
  return WithStoredCosignatures(*this, std::move(checkpoint));
}

Result<std::vector<uint64_t>> SqliteStorage::CheckpointSizes() {
  std::lock_guard lock(db_mu_);
  PEDIGREE_ASSIGN(q, db_.Prepare(kSelectCheckpointSizes));
  std::vector<uint64_t> sizes;
  PEDIGREE_TRY(q->ForEachRow([&](const sql::Query& row) { sizes.push_back(ColumnU64(row, 0)); }));
  return sizes;
}

Result<std::string> SqliteStorage::GetMeta(std::string_view key) {
  std::lock_guard lock(db_mu_);
  PEDIGREE_ASSIGN(q, db_.Prepare(kSelectMeta));
  q->BindUncopied(1, key);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return NotFound("no meta key " + std::string(key));
  return ColumnString(*q, 0);
}

Status SqliteStorage::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(db_mu_);
  PEDIGREE_ASSIGN(q, db_.Prepare(kUpsertMeta));
  q->BindUncopied(1, key).BindUncopied(2, value);
  return q->Run();
}

}  // namespace pedigree::log
