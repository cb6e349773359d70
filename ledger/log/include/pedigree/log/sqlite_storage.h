// LogStorage on one SQLite file (WAL, synchronous=FULL): the embedded default backend.
// Schema, triggers and tile layout: ../../../../docs/merkle-log.md ("SQLite schema").
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pedigree/log/sql.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

struct SqliteOptions {
  // Create the file and schema if missing; otherwise a missing file is storage.not_found.
  bool create = false;
  int busy_timeout_ms = 5000;
  // SQLite page cache. The idempotency-key index takes random inserts; with SQLite's
  // 2 MiB default its pages fall out of cache as the log grows and appends slow down.
  int page_cache_mib = 64;
  // Full tiles kept in memory with their interior nodes (≈16 KiB each); 4096 ≈ 64 MiB
  // covers the level-0 tiles of 1 M entries.
  size_t tile_cache_tiles = 4096;
  // A reader's connection: nothing is written or migrated; a schema older or newer than
  // this program's is storage.schema_version (a writer's open migrates an older one).
  bool read_only = false;
  // A writer's WAL is copied back into the database (a WAL checkpoint: up to this many
  // pages written and the database fsynced) by a thread of its own with its own connection,
  // once a commit leaves at least this many pages in the WAL: never by the commit itself,
  // which SQLite's automatic checkpoint would make wait for it (milliseconds, a latency
  // spike every few hundred appends). Commits are durable in the WAL either way.
  int checkpoint_pages = 1000;
};

class TileTree;

class SqliteStorage final : public LogStorage {
 public:
  // Opens (or creates) the file, applies pending migrations in a transaction each, and
  // checks that the stored tiles cover exactly the stored entries (storage.corrupt).
  [[nodiscard]] static Result<std::unique_ptr<SqliteStorage>> Open(const std::string& path,
                                                                   SqliteOptions options);
  ~SqliteStorage() override;

  // The schema version this code writes (PRAGMA user_version after migrations).
  static int SchemaVersion();

  Result<Hash> ReadHash(uint32_t level, uint64_t index) override;
  Result<uint64_t> Size() override;
  Status Append(uint64_t first_index, std::span<const std::string> entries,
                std::span<const std::string> idempotency_keys, std::span<const StoredHash> hashes,
                const std::function<Status()>& within = {}) override;
  Result<std::string> ReadEntry(uint64_t index) override;
  Result<std::vector<std::string>> ReadEntries(uint64_t begin, uint64_t end) override;
  Result<std::optional<uint64_t>> FindIdempotencyKey(std::string_view key) override;
  Status StoreCheckpoint(const StoredCheckpoint& checkpoint) override;
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override;
  Result<std::optional<StoredCheckpoint>> CheckpointAt(uint64_t size) override;
  Result<std::vector<uint64_t>> CheckpointSizes() override;
  Result<std::string> GetMeta(std::string_view key) override;
  Status SetMeta(std::string_view key, std::string_view value) override;

  // A reader's connection (read_only): re-reads the size and the partial tiles, which Open
  // loaded once, as another connection has committed them since, in one read transaction, so
  // that hashes, proofs and entries up to the new size are served (Ledger::Refresh).
  // storage.corrupt when the tiles do not cover exactly the entries.
  [[nodiscard]] Status Reload();

  // Blocks until the background WAL checkpoint (SqliteOptions::checkpoint_pages) asked for
  // by the commits so far has run; returns at once when none was asked for. For tests.
  void WaitForCheckpoints();

  // The connection, for callers that keep derived tables in the same file. Use it inside
  // an Append `within` callback (the connection lock is held there), or hold
  // LockConnection() while using it from elsewhere.
  sqlite3* handle() const { return db_.get(); }
  [[nodiscard]] std::unique_lock<std::recursive_mutex> LockConnection() {
    return std::unique_lock(db_mu_);
  }

 private:
  explicit SqliteStorage(SqliteOptions options);
  Status Initialise(const std::string& path);
  Status Migrate();
  // A read-only open: the schema must be exactly this program's.
  Status CheckSchemaForReading(const std::string& path);
  Status PrepareStatements();
  Status LoadTileState();
  std::shared_ptr<const TileTree> CachedTile(uint32_t tile_level, uint64_t n);
  void CacheTile(uint32_t tile_level, std::shared_ptr<const TileTree> tile);

  class Checkpointer;

  SqliteOptions options_;
  // Writers only: runs the WAL checkpoints off the commit path. Declared before db_ so that
  // it stops after the connection's WAL hook is gone (see ~SqliteStorage).
  std::unique_ptr<Checkpointer> checkpointer_;
  // Serialises use of the connection; recursive because `within` may call back in.
  std::recursive_mutex db_mu_;
  sql::Connection db_{nullptr};  // opened by Initialise
  uint64_t size_ = 0;            // guarded by db_mu_

  // Guards the tile state below. Never held while waiting for db_mu_.
  std::mutex cache_mu_;
  // The growing rightmost tile of each tile level (its hashes are the partial_hashes rows).
  std::vector<std::shared_ptr<const TileTree>> partial_;
  // LRU of full tiles keyed by (tile level, n).
  struct TileKey {
    uint32_t level;
    uint64_t n;
    bool operator==(const TileKey&) const = default;
  };
  struct TileKeyHash {
    size_t operator()(const TileKey& k) const { return std::hash<uint64_t>()(k.n * 64 + k.level); }
  };
  std::list<std::pair<TileKey, std::shared_ptr<const TileTree>>> lru_;
  std::unordered_map<TileKey, decltype(lru_)::iterator, TileKeyHash> lru_index_;
};

}  // namespace pedigree::log
