#include "pedigree/log/postgres_storage.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

namespace pedigree::log {
namespace {

// Every session: a COMMIT returns only once it is durable on the server (the default,
// stated so that a server-wide `off` cannot weaken an acknowledgement), in UTC, quiet.
constexpr const char* kSession =
    "SET synchronous_commit = on; SET TIME ZONE 'UTC'; SET client_min_messages = warning";

// Serialises migrations of one database between processes (any constant; "pedi").
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(1885693033)";
constexpr const char* kSchemaVersionExists =
    "SELECT (to_regclass('schema_version') IS NOT NULL)::int4";
constexpr const char* kCreateSchemaVersion = R"sql(
CREATE TABLE schema_version(id smallint PRIMARY KEY CHECK (id = 1), version integer NOT NULL);
INSERT INTO schema_version(id, version) VALUES (1, 0);
)sql";
constexpr const char* kSelectSchemaVersion = "SELECT version FROM schema_version WHERE id = 1";
constexpr const char* kUpdateSchemaVersion = "UPDATE schema_version SET version = $1 WHERE id = 1";

// Each migration moves the schema from version i to i+1, inside one transaction.
constexpr const char* kMigrations[] = {
    R"sql(
-- The one row every append locks (SELECT ... FOR UPDATE): the fencing point of writers.
CREATE TABLE log_head(id smallint PRIMARY KEY CHECK (id = 1),
                      size bigint NOT NULL CHECK (size >= 0));
INSERT INTO log_head(id, size) VALUES (1, 0);
CREATE TABLE entries(idx bigint PRIMARY KEY CHECK (idx >= 0), data bytea NOT NULL);
-- Every perfect subtree hash: level 0 = leaf hashes, (level, idx) = RFC 6962 node.
CREATE TABLE hashes(level smallint NOT NULL CHECK (level BETWEEN 0 AND 63),
                    idx bigint NOT NULL CHECK (idx >= 0),
                    hash bytea NOT NULL CHECK (length(hash) = 32),
                    PRIMARY KEY (level, idx));
CREATE TABLE idempotency(key text PRIMARY KEY, idx bigint NOT NULL REFERENCES entries(idx));
CREATE TABLE checkpoints(size bigint PRIMARY KEY CHECK (size >= 0),
                         root bytea NOT NULL CHECK (length(root) = 32),
                         note text NOT NULL);
CREATE TABLE meta(key text PRIMARY KEY, value text NOT NULL);

CREATE FUNCTION pedigree_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END $$;
CREATE FUNCTION pedigree_head_grows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'UPDATE' THEN
    RAISE EXCEPTION 'the log head is never deleted' USING ERRCODE = 'restrict_violation';
  END IF;
  IF NEW.id <> OLD.id OR NEW.size < OLD.size THEN
    RAISE EXCEPTION 'the log head may only grow' USING ERRCODE = 'restrict_violation';
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
  FOR EACH ROW EXECUTE FUNCTION pedigree_refuse('entries are append-only');
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
  FOR EACH STATEMENT EXECUTE FUNCTION pedigree_refuse('entries are append-only');
CREATE TRIGGER hashes_append_only BEFORE UPDATE OR DELETE ON hashes
  FOR EACH ROW EXECUTE FUNCTION pedigree_refuse('tree hashes are append-only');
CREATE TRIGGER hashes_no_truncate BEFORE TRUNCATE ON hashes
  FOR EACH STATEMENT EXECUTE FUNCTION pedigree_refuse('tree hashes are append-only');
CREATE TRIGGER idempotency_append_only BEFORE UPDATE OR DELETE ON idempotency
  FOR EACH ROW EXECUTE FUNCTION pedigree_refuse('idempotency keys are append-only');
CREATE TRIGGER idempotency_no_truncate BEFORE TRUNCATE ON idempotency
  FOR EACH STATEMENT EXECUTE FUNCTION pedigree_refuse('idempotency keys are append-only');
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION pedigree_refuse('checkpoints are append-only');
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION pedigree_refuse('checkpoints are append-only');
CREATE TRIGGER log_head_grows BEFORE UPDATE OR DELETE ON log_head
  FOR EACH ROW EXECUTE FUNCTION pedigree_head_grows();
CREATE TRIGGER log_head_no_truncate BEFORE TRUNCATE ON log_head
  FOR EACH STATEMENT EXECUTE FUNCTION pedigree_refuse('the log head is never deleted');
)sql",
    R"sql(
-- The sequencer lease (docs/deployment.md, "Several nodes on one database"): a session
-- advisory lock on key 1885693034 held by the leader's storage connection, and this row,
-- whose epoch each acquisition increments and whose node_url says where the leader takes
-- writes.
CREATE TABLE leader(id smallint PRIMARY KEY CHECK (id = 1),
                    epoch bigint NOT NULL CHECK (epoch >= 0),
                    node_url text NOT NULL,
                    since timestamptz NOT NULL);
INSERT INTO leader(id, epoch, node_url, since) VALUES (1, 0, '', now());
-- Fencing: while a session holds the lease no other session may move the log head or store
-- a checkpoint, so the commit of a leader that lost its lease fails (SQLSTATE PD001,
-- cluster.fenced) and two nodes never sign different trees of one size. Writers that run
-- while no node holds the lease (init, a CLI append with no serve running) are unaffected.
CREATE FUNCTION pedigree_fenced() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_locks
             WHERE locktype = 'advisory' AND classid = 0 AND objid = 1885693034
               AND objsubid = 1 AND granted AND pid <> pg_backend_pid()) THEN
    RAISE EXCEPTION 'another node holds the sequencer lease' USING ERRCODE = 'PD001';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER log_head_fenced BEFORE UPDATE ON log_head
  FOR EACH ROW EXECUTE FUNCTION pedigree_fenced();
CREATE TRIGGER checkpoints_fenced BEFORE INSERT ON checkpoints
  FOR EACH ROW EXECUTE FUNCTION pedigree_fenced();
)sql",
};

// The sequencer lease: a session advisory lock (the key the fencing trigger names) taken
// on the storage's own connection, so that it ends exactly when that session does.
constexpr const char* kTryLease = "SELECT pg_try_advisory_lock(1885693034)::int4";
constexpr const char* kReleaseLease = "SELECT pg_advisory_unlock(1885693034)";
constexpr const char* kElect =
    "UPDATE leader SET epoch = epoch + 1, node_url = '', since = now() WHERE id = 1 "
    "RETURNING epoch";
constexpr const char* kAdvertise = "UPDATE leader SET node_url = $1 WHERE id = 1 AND epoch = $2";
constexpr const char* kSelectLeader =
    "SELECT l.epoch, l.node_url, (EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
    "AND classid = 0 AND objid = 1885693034 AND objsubid = 1 AND granted))::int4 "
    "FROM leader l WHERE l.id = 1";
constexpr const char* kHoldsLease =
    "SELECT (l.epoch = $1 AND EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
    "AND classid = 0 AND objid = 1885693034 AND objsubid = 1 AND granted "
    "AND pid = pg_backend_pid()))::int4 FROM leader l WHERE l.id = 1";

// Parameterised SQL only; each is prepared once per session (pg::Connection caches them).
constexpr const char* kLockHead = "SELECT size FROM log_head WHERE id = 1 FOR UPDATE";
constexpr const char* kSelectHead = "SELECT size FROM log_head WHERE id = 1";
constexpr const char* kUpdateHead = "UPDATE log_head SET size = $1 WHERE id = 1";
constexpr const char* kCopyEntries = "COPY entries(idx, data) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyHashes = "COPY hashes(level, idx, hash) FROM STDIN (FORMAT binary)";
constexpr const char* kCopyKeys = "COPY idempotency(key, idx) FROM STDIN (FORMAT binary)";
constexpr const char* kSelectEntry = "SELECT data FROM entries WHERE idx = $1";
constexpr const char* kSelectEntries =
    "SELECT idx, data FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx";
constexpr const char* kSelectEntriesEnd = "SELECT coalesce(max(idx) + 1, 0) FROM entries";
constexpr const char* kSelectHash = "SELECT hash FROM hashes WHERE level = $1 AND idx = $2";
constexpr const char* kSelectHashesEnd =
    "SELECT coalesce(max(idx) + 1, 0) FROM hashes WHERE level = $1";
constexpr const char* kCountHashesFrom = "SELECT count(*) FROM hashes WHERE level >= $1";
constexpr const char* kSelectKey = "SELECT idx FROM idempotency WHERE key = $1";
constexpr const char* kSelectKeys = "SELECT key, idx FROM idempotency WHERE key = ANY($1)";
constexpr const char* kInsertCheckpoint =
    "INSERT INTO checkpoints(size, root, note) VALUES ($1, $2, $3) ON CONFLICT (size) DO NOTHING";
constexpr const char* kSelectCheckpoint =
    "SELECT size, root, note FROM checkpoints WHERE size = $1";
constexpr const char* kSelectLatestCheckpoint =
    "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1";
constexpr const char* kSelectCheckpointSizes = "SELECT size FROM checkpoints ORDER BY size";
constexpr const char* kSelectMeta = "SELECT value FROM meta WHERE key = $1";
constexpr const char* kUpsertMeta =
    "INSERT INTO meta(key, value) VALUES ($1, $2) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value";

constexpr uint32_t kMaxLevel = 63;

std::unexpected<Error> NotFound(const std::string& what) { return Fail("storage.not_found", what); }

int64_t I64(uint64_t v) { return static_cast<int64_t>(v); }

std::string AsString(std::span<const uint8_t> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

uint64_t CacheKey(uint32_t level, uint64_t index) { return (index << 6) | level; }

Result<std::optional<StoredCheckpoint>> CheckpointRow(const pg::Rows& rows) {
  if (rows.size() == 0) return std::optional<StoredCheckpoint>();
  StoredCheckpoint cp;
  PEDIGREE_ASSIGN(size, rows.Int(0, 0));
  cp.size = static_cast<uint64_t>(*size);
  const auto root = rows.Bytes(0, 1);
  if (root.size() != sizeof(Hash)) {
    return Fail("storage.corrupt",
                "checkpoint " + std::to_string(cp.size) + " root is not 32 bytes");
  }
  std::copy(root.begin(), root.end(), cp.root.begin());
  cp.note = rows.Text(0, 2);
  return std::optional<StoredCheckpoint>(std::move(cp));
}

}  // namespace

PostgresStorage::PostgresStorage(pg::Connection db, PostgresOptions options)
    : options_(options), db_(std::move(db)) {}

// The lease is given back before the session closes: a backend releases its locks only
// once it has noticed the closed connection, a moment after PQfinish returns, and the
// next writer (a CLI command right after another) would find it still held.
PostgresStorage::~PostgresStorage() {
  if (lease_epoch_ == 0) return;
  std::lock_guard lock(mu_);
  if (!db_.InTransaction()) (void)db_.Exec(kReleaseLease);
}

int PostgresStorage::SchemaVersion() { return static_cast<int>(std::size(kMigrations)); }

Result<std::unique_ptr<PostgresStorage>> PostgresStorage::Open(const std::string& conninfo,
                                                               PostgresOptions options) {
  PEDIGREE_ASSIGN(db, pg::Connection::Open(conninfo, kSession));
  std::unique_ptr<PostgresStorage> storage(new PostgresStorage(std::move(*db), options));
  // The lock first (it needs no table), the epoch once the leader table exists.
  if (options.sequencer_lease) {
    // A holder that just exited without closing its session (a killed process) is gone
    // once its backend notices: a short bounded retry, not a wait for a live holder.
    int64_t flag = 0;
    for (int attempt = 0; attempt < 20 && flag == 0; ++attempt) {
      if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(25));
      PEDIGREE_ASSIGN(got, storage->db_.Exec(kTryLease));
      PEDIGREE_ASSIGN(value, got->Int(0, 0));
      flag = *value;
    }
    if (flag == 0) {
      std::string holder;
      if (auto leader = ReadLeader(storage->db_)) {
        holder = " (leader epoch " + std::to_string(leader->epoch) +
                 (leader->node_url.empty() ? "" : " at " + leader->node_url) + ")";
      }
      return Fail(Error("ledger.locked",
                        "another node holds the sequencer lease of the PostgreSQL database at " +
                            storage->db_.Where() + holder)
                      .at_field("storage"));
    }
  }
  PEDIGREE_TRY(storage->Migrate());
  if (options.sequencer_lease) PEDIGREE_TRY(storage->AcquireLease());
  PEDIGREE_TRY(storage->CheckConsistency());
  return storage;
}

Result<LeaderState> ReadLeader(pg::Connection& db) {
  PEDIGREE_ASSIGN(rows, db.Exec(kSelectLeader));
  if (rows->size() != 1) return Fail("storage.corrupt", "the leader row is missing");
  LeaderState out;
  PEDIGREE_ASSIGN(epoch, rows->Int(0, 0));
  out.epoch = static_cast<uint64_t>(*epoch);
  out.node_url = rows->Text(0, 1);
  PEDIGREE_ASSIGN(held, rows->Int(0, 2));
  out.held = *held != 0;
  return out;
}

// The new epoch is written with the log head locked: an append a stale leader had begun
// before the lock was taken commits (or fails) first, so everything read after this
// returns is the whole committed log.
Status PostgresStorage::AcquireLease() {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(tx, pg::Transaction::Begin(db_));
  PEDIGREE_TRY(db_.Exec(kLockHead));
  PEDIGREE_ASSIGN(rows, db_.Exec(kElect));
  if (rows->size() != 1) return Fail("storage.corrupt", "the leader row is missing");
  PEDIGREE_ASSIGN(epoch, rows->Int(0, 0));
  PEDIGREE_TRY(tx->Commit());
  lease_epoch_ = static_cast<uint64_t>(*epoch);
  return Ok();
}

Status PostgresStorage::AdvertiseLeader(std::string_view node_url) {
  std::lock_guard lock(mu_);
  PEDIGREE_TRY(db_.Exec(kAdvertise, pg::Params().Text(node_url).Int(I64(lease_epoch_))));
  return Ok();
}

Result<bool> PostgresStorage::HoldsLease() {
  std::lock_guard lock(mu_);
  if (lease_epoch_ == 0) return false;
  PEDIGREE_ASSIGN(rows, db_.Exec(kHoldsLease, pg::Params().Int(I64(lease_epoch_))));
  if (rows->size() != 1) return Fail("storage.corrupt", "the leader row is missing");
  PEDIGREE_ASSIGN(held, rows->Int(0, 0));
  return *held != 0;
}

Status PostgresStorage::Migrate() {
  std::lock_guard lock(mu_);
  while (true) {
    auto step = [&]() -> Result<bool> {
      PEDIGREE_ASSIGN(tx, pg::Transaction::Begin(db_));
      PEDIGREE_TRY(db_.Exec(kMigrationLock));
      PEDIGREE_ASSIGN(present, db_.Exec(kSchemaVersionExists));
      PEDIGREE_ASSIGN(flag, present->Int(0, 0));
      if (*flag == 0) PEDIGREE_TRY(db_.Script(kCreateSchemaVersion));
      PEDIGREE_ASSIGN(rows, db_.Exec(kSelectSchemaVersion));
      if (rows->size() != 1) return Fail("storage.corrupt", "schema_version has no row");
      PEDIGREE_ASSIGN(version, rows->Int(0, 0));
      if (*version > SchemaVersion()) {
        return Fail("storage.schema_version",
                    "database schema version " + std::to_string(*version) +
                        " is newer than this program's " + std::to_string(SchemaVersion()));
      }
      if (*version == SchemaVersion()) {
        PEDIGREE_TRY(tx->Commit());
        return false;
      }
      auto migrated = [&]() -> Status {
        PEDIGREE_TRY(db_.Script(kMigrations[*version]));
        PEDIGREE_TRY(db_.Exec(kUpdateSchemaVersion, pg::Params().Int(*version + 1)));
        return tx->Commit();
      }();
      if (!migrated) {
        return std::unexpected(migrated.error().with_context("migration to schema version " +
                                                             std::to_string(*version + 1)));
      }
      return true;
    }();
    if (!step) return std::unexpected(step.error());
    if (!*step) return Ok();
  }
}

Result<uint64_t> PostgresStorage::HeadSize() {
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectHead));
  if (rows->size() != 1) return Fail("storage.corrupt", "the log_head row is missing");
  PEDIGREE_ASSIGN(size, rows->Int(0, 0));
  return static_cast<uint64_t>(*size);
}

// The entries and every level of hashes must end where the head says. Cheap: one index
// lookup per level. Holes cannot arise (no DELETE); ReadEntries reports one if found.
// One snapshot: a writer on another node may append between the statements.
Status PostgresStorage::CheckConsistency() {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(tx, pg::Transaction::Begin(db_));
  PEDIGREE_TRY(db_.Script("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
  PEDIGREE_ASSIGN(size, HeadSize());
  {
    PEDIGREE_ASSIGN(rows, db_.Exec(kSelectEntriesEnd));
    PEDIGREE_ASSIGN(end, rows->Int(0, 0));
    if (static_cast<uint64_t>(*end) != *size) {
      return Fail("storage.corrupt", "entries end at index " + std::to_string(*end) +
                                         ", the log head says the size is " +
                                         std::to_string(*size));
    }
  }
  uint32_t level = 0;
  for (; level <= kMaxLevel && (*size >> level) > 0; ++level) {
    PEDIGREE_ASSIGN(rows, db_.Exec(kSelectHashesEnd, pg::Params().Int16(int16_t(level))));
    PEDIGREE_ASSIGN(end, rows->Int(0, 0));
    if (static_cast<uint64_t>(*end) != (*size >> level)) {
      return Fail("storage.corrupt", "hashes at level " + std::to_string(level) + " end at " +
                                         std::to_string(*end) + ", " + std::to_string(*size) +
                                         " entries need " + std::to_string(*size >> level));
    }
  }
  PEDIGREE_ASSIGN(rows, db_.Exec(kCountHashesFrom, pg::Params().Int16(int16_t(level))));
  PEDIGREE_ASSIGN(extra, rows->Int(0, 0));
  if (*extra != 0) {
    return Fail("storage.corrupt", std::to_string(*extra) + " hashes at level " +
                                       std::to_string(level) + " or above, which " +
                                       std::to_string(*size) + " entries do not complete");
  }
  return tx->Commit();
}

Result<Hash> PostgresStorage::ReadHash(uint32_t level, uint64_t index) {
  std::lock_guard lock(mu_);
  auto not_found = [&] {
    return NotFound("no hash at level " + std::to_string(level) + " index " +
                    std::to_string(index));
  };
  if (level > kMaxLevel || index > (uint64_t{1} << 57)) return not_found();
  const uint64_t key = CacheKey(level, index);
  if (auto it = hash_cache_.find(key); it != hash_cache_.end()) return it->second;
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectHash, pg::Params().Int16(int16_t(level)).Int(I64(index))));
  if (rows->size() == 0) return not_found();
  const auto blob = rows->Bytes(0, 0);
  if (blob.size() != sizeof(Hash)) {
    return Fail("storage.corrupt", "hash at level " + std::to_string(level) + " index " +
                                       std::to_string(index) + " has " +
                                       std::to_string(blob.size()) + " bytes");
  }
  Hash out;
  std::copy(blob.begin(), blob.end(), out.begin());
  // Inside a transaction the row may yet be rolled back; only committed hashes are cached.
  if (options_.hash_cache_entries > 0 && !db_.InTransaction()) {
    if (hash_cache_.size() >= options_.hash_cache_entries) hash_cache_.clear();
    hash_cache_.emplace(key, out);
  }
  return out;
}

Result<uint64_t> PostgresStorage::Size() {
  std::lock_guard lock(mu_);
  return HeadSize();
}

Status PostgresStorage::Append(uint64_t first_index, std::span<const std::string> entries,
                               std::span<const std::string> idempotency_keys,
                               std::span<const StoredHash> hashes,
                               const std::function<Status()>& within) {
  std::lock_guard lock(mu_);
  if (!idempotency_keys.empty() && idempotency_keys.size() != entries.size()) {
    return Fail("storage.invalid_argument", "idempotency keys do not match entries");
  }
  if (first_index > (uint64_t{1} << 62) || entries.size() > (uint64_t{1} << 32)) {
    return Fail("storage.invalid_argument", "append of " + std::to_string(entries.size()) +
                                                " entries at index " + std::to_string(first_index) +
                                                " is out of range");
  }
  // Hashes of each level must continue the stored ones: at level L the stored tree of
  // first_index entries holds first_index >> L nodes.
  std::vector<uint64_t> next(kMaxLevel + 1);
  for (uint32_t l = 0; l <= kMaxLevel; ++l) next[l] = first_index >> l;
  pg::CopyBuffer hash_rows;
  for (const StoredHash& h : hashes) {
    if (h.level > kMaxLevel || h.index != next[h.level]) {
      return Fail("storage.hash_order",
                  "hash at level " + std::to_string(h.level) + " index " + std::to_string(h.index) +
                      ", expected index " +
                      std::to_string(h.level > kMaxLevel ? 0 : next[h.level]));
    }
    ++next[h.level];
    hash_rows.Row(3).Int16(int16_t(h.level)).Int(I64(h.index)).Bytes(h.hash);
  }
  pg::CopyBuffer entry_rows;
  pg::CopyBuffer key_rows;
  for (size_t i = 0; i < entries.size(); ++i) {
    entry_rows.Row(2).Int(I64(first_index + i)).Bytes(AsBytes(entries[i]));
    if (!idempotency_keys.empty() && !idempotency_keys[i].empty()) {
      key_rows.Row(2).Text(idempotency_keys[i]).Int(I64(first_index + i));
    }
  }

  PEDIGREE_ASSIGN(tx, pg::Transaction::Begin(db_));
  {
    // Waits for any other writer's open append, then sees its committed size.
    PEDIGREE_ASSIGN(rows, db_.Exec(kLockHead));
    if (rows->size() != 1) return Fail("storage.corrupt", "the log_head row is missing");
    PEDIGREE_ASSIGN(head, rows->Int(0, 0));
    const uint64_t size = static_cast<uint64_t>(*head);
    if (first_index < size) {
      return Fail("storage.append_conflict",
                  "append at index " + std::to_string(first_index) +
                      ", but another writer has already stored the log up to size " +
                      std::to_string(size) + " on the PostgreSQL server at " + db_.Where());
    }
    if (first_index > size) {
      return Fail("storage.append_gap", "append at index " + std::to_string(first_index) +
                                            ", stored size is " + std::to_string(size));
    }
  }
  if (entry_rows.rows() > 0) {
    PEDIGREE_TRY(db_.CopyIn(kCopyEntries, std::move(entry_rows).Finish()));
    if (hash_rows.rows() > 0) PEDIGREE_TRY(db_.CopyIn(kCopyHashes, std::move(hash_rows).Finish()));
    if (key_rows.rows() > 0) PEDIGREE_TRY(db_.CopyIn(kCopyKeys, std::move(key_rows).Finish()));
    PEDIGREE_TRY(db_.Exec(kUpdateHead, pg::Params().Int(I64(first_index + entries.size()))));
  }
  if (within) PEDIGREE_TRY(within());
  return tx->Commit();
}

Result<std::string> PostgresStorage::ReadEntry(uint64_t index) {
  std::lock_guard lock(mu_);
  if (index > static_cast<uint64_t>(INT64_MAX))
    return NotFound("no entry " + std::to_string(index));
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectEntry, pg::Params().Int(I64(index))));
  if (rows->size() == 0) return NotFound("no entry " + std::to_string(index));
  return AsString(rows->Bytes(0, 0));
}

Result<std::vector<std::string>> PostgresStorage::ReadEntries(uint64_t begin, uint64_t end) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(size, HeadSize());
  if (begin > end || end > *size) {
    return NotFound("no entries [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectEntries, pg::Params().Int(I64(begin)).Int(I64(end))));
  std::vector<std::string> out;
  out.reserve(end - begin);
  for (int r = 0; r < rows->size(); ++r) {
    PEDIGREE_ASSIGN(idx, rows->Int(r, 0));
    if (static_cast<uint64_t>(*idx) != begin + out.size()) break;
    out.push_back(AsString(rows->Bytes(r, 1)));
  }
  if (out.size() != end - begin) {
    return Fail("storage.corrupt", "entry " + std::to_string(begin + out.size()) + " is missing");
  }
  return out;
}

Result<std::optional<uint64_t>> PostgresStorage::FindIdempotencyKey(std::string_view key) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectKey, pg::Params().Text(key)));
  if (rows->size() == 0) return std::optional<uint64_t>();
  PEDIGREE_ASSIGN(idx, rows->Int(0, 0));
  return std::optional<uint64_t>(static_cast<uint64_t>(*idx));
}

Result<std::vector<std::optional<uint64_t>>> PostgresStorage::FindIdempotencyKeys(
    std::span<const std::string_view> keys) {
  std::lock_guard lock(mu_);
  std::vector<std::optional<uint64_t>> out(keys.size());
  if (keys.empty()) return out;
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectKeys, pg::Params().TextArray(keys)));
  std::unordered_map<std::string, uint64_t> stored;
  for (int r = 0; r < rows->size(); ++r) {
    PEDIGREE_ASSIGN(idx, rows->Int(r, 1));
    stored.emplace(rows->Text(r, 0), static_cast<uint64_t>(*idx));
  }
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto it = stored.find(std::string(keys[i])); it != stored.end()) out[i] = it->second;
  }
  return out;
}

Status PostgresStorage::StoreCheckpoint(const StoredCheckpoint& checkpoint) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(
      inserted,
      db_.Exec(
          kInsertCheckpoint,
          pg::Params().Int(I64(checkpoint.size)).Bytes(checkpoint.root).Text(checkpoint.note)));
  if (inserted->Affected() == 1) return Ok();
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectCheckpoint, pg::Params().Int(I64(checkpoint.size))));
  PEDIGREE_ASSIGN(existing, CheckpointRow(*rows));
  if (!*existing) {
    return Fail("storage.io", "checkpoint of size " + std::to_string(checkpoint.size) +
                                  " was neither stored nor found");
  }
  if ((*existing)->root != checkpoint.root) {
    return Fail("storage.checkpoint_conflict",
                "checkpoint of size " + std::to_string(checkpoint.size) + " has root " +
                    ToHex((*existing)->root) + ", refused " + ToHex(checkpoint.root));
  }
  return Ok();
}

Result<std::optional<StoredCheckpoint>> PostgresStorage::LatestCheckpoint() {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectLatestCheckpoint));
  return CheckpointRow(*rows);
}

Result<std::optional<StoredCheckpoint>> PostgresStorage::CheckpointAt(uint64_t size) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectCheckpoint, pg::Params().Int(I64(size))));
  return CheckpointRow(*rows);
}

Result<std::vector<uint64_t>> PostgresStorage::CheckpointSizes() {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectCheckpointSizes));
  std::vector<uint64_t> sizes;
  for (int r = 0; r < rows->size(); ++r) {
    PEDIGREE_ASSIGN(size, rows->Int(r, 0));
    sizes.push_back(static_cast<uint64_t>(*size));
  }
  return sizes;
}

Result<std::string> PostgresStorage::GetMeta(std::string_view key) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kSelectMeta, pg::Params().Text(key)));
  if (rows->size() == 0) return NotFound("no meta key " + std::string(key));
  return rows->Text(0, 0);
}

Status PostgresStorage::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_);
  PEDIGREE_ASSIGN(rows, db_.Exec(kUpsertMeta, pg::Params().Text(key).Text(value)));
  return Ok();
}

}  // namespace pedigree::log
