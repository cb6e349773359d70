// LogStorage on PostgreSQL 15 through libpq (synchronous_commit=on): the log of one
// database (entries, every perfect subtree hash, idempotency keys, checkpoints, meta).
// Schema, triggers, grants and the fencing of concurrent writers:
// ../../../../docs/merkle-log.md ("PostgreSQL schema").
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "pedigree/log/pg.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

struct PostgresOptions {
  // Hashes kept in memory once read (they never change once committed); 0 = none.
  size_t hash_cache_entries = 1 << 20;
  // Take the database's sequencer lease before anything is read (every writable ledger
  // open does): a session advisory lock on this storage's own connection, held until it
  // closes, and a new epoch in the leader row. ledger.locked when another session holds
  // it. While a session holds the lease, the database refuses log head updates and
  // checkpoints of every other session (cluster.fenced): a stale leader cannot commit.
  bool sequencer_lease = false;
};

// The database's sequencer lease as any session sees it (docs/deployment.md, "Several
// nodes on one database").
struct LeaderState {
  uint64_t epoch = 0;    // incremented by each acquisition
  std::string node_url;  // where the holder takes writes ("" until it advertises)
  bool held = false;     // some session holds the lease now
};
// One query on `db` (any session, no lock taken). storage.* errors.
[[nodiscard]] Result<LeaderState> ReadLeader(pg::Connection& db);

class PostgresStorage final : public LogStorage {
 public:
  // Connects (`postgresql://…` or `key=value …`), applies pending migrations (one
  // transaction each, serialised between processes by an advisory lock; a role without
  // CREATE can open a database that is already current), and checks that the stored
  // entries and hashes match the log head (storage.corrupt). storage.unavailable when the
  // server cannot be reached, naming it.
  [[nodiscard]] static Result<std::unique_ptr<PostgresStorage>> Open(const std::string& conninfo,
                                                                     PostgresOptions options = {});
  ~PostgresStorage() override;

  // The schema version this code writes (schema_version.version after migrations).
  static int SchemaVersion();

  Result<Hash> ReadHash(uint32_t level, uint64_t index) override;
  // Read from the database each time: another process may have appended.
  Result<uint64_t> Size() override;
  // One transaction: the log head row is locked (SELECT … FOR UPDATE) and first_index
  // checked against it, so two writers on one database cannot both append at an index;
  // the loser gets storage.append_conflict. Entries, hashes and keys go in by binary COPY.
  Status Append(uint64_t first_index, std::span<const std::string> entries,
                std::span<const std::string> idempotency_keys, std::span<const StoredHash> hashes,
                const std::function<Status()>& within = {}) override;
  Result<std::string> ReadEntry(uint64_t index) override;
  Result<std::vector<std::string>> ReadEntries(uint64_t begin, uint64_t end) override;
  Result<std::optional<uint64_t>> FindIdempotencyKey(std::string_view key) override;
  // One query (key = ANY($1)) for the whole batch.
  Result<std::vector<std::optional<uint64_t>>> FindIdempotencyKeys(
      std::span<const std::string_view> keys) override;
  Status StoreCheckpoint(const StoredCheckpoint& checkpoint) override;
  Result<std::optional<StoredCheckpoint>> LatestCheckpoint() override;
  Result<std::optional<StoredCheckpoint>> CheckpointAt(uint64_t size) override;
  Result<std::vector<uint64_t>> CheckpointSizes() override;
  Result<std::string> GetMeta(std::string_view key) override;
  Status SetMeta(std::string_view key, std::string_view value) override;

  // The epoch this storage was elected with (PostgresOptions::sequencer_lease), else 0.
  uint64_t lease_epoch() const { return lease_epoch_; }
  // Records `node_url` as where the leader of `lease_epoch()` takes writes; a no-op once a
  // later epoch was elected. Requires the lease.
  [[nodiscard]] Status AdvertiseLeader(std::string_view node_url);
  // Whether this storage's session still holds the lease and its epoch is the newest.
  [[nodiscard]] Result<bool> HoldsLease();

  // The connection, for callers that keep derived tables in the same database. Use it
  // inside an Append `within` callback (the lock is held there), or hold
  // LockConnection() while using it from elsewhere.
  pg::Connection& connection() { return db_; }
  [[nodiscard]] std::unique_lock<std::recursive_mutex> LockConnection() {
    return std::unique_lock(mu_);
  }

 private:
  PostgresStorage(pg::Connection db, PostgresOptions options);
  Status Migrate();
  Status AcquireLease();
  Status CheckConsistency();
  Result<uint64_t> HeadSize();

  PostgresOptions options_;
  // Serialises use of the connection; recursive because `within` may call back in.
  std::recursive_mutex mu_;
  pg::Connection db_;
  // Committed hashes by (level << 58 | index); guarded by mu_. Cleared when full.
  std::unordered_map<uint64_t, Hash> hash_cache_;
  uint64_t lease_epoch_ = 0;
};

}  // namespace pedigree::log
