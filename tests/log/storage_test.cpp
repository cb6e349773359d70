#include "pedigree/log/storage.h"

#include <sqlite3.h>

#include <boost/test/data/monomorphic.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

#include "common/pg_cluster.h"
#include "common/temp_dir.h"
#include "merkle_testing.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sql.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/log/tiles.h"
#include "storage_testing.h"

using namespace pedigree;
using namespace pedigree::log;
using namespace pedigree::log::testing;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

std::unique_ptr<SqliteStorage> OpenSqlite(const std::string& path, bool create = true,
                                          size_t cache = 4096) {
  auto s = SqliteStorage::Open(path, SqliteOptions{.create = create, .tile_cache_tiles = cache});
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().ToString()));
  return std::move(*s);
}

std::string ExecError(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  std::string msg = rc == SQLITE_OK ? "" : (err ? err : "error");
  sqlite3_free(err);
  return msg;
}

// One backend under test: a fresh, empty store of that kind, which Open (again) returns
// with everything committed so far ("memory" forgets, so it is not durable).
class Backend {
 public:
  explicit Backend(const std::string& name) : name_(name) {
    if (name == "postgres") conninfo_ = PgCluster::Shared().NewDatabase();
  }
  bool durable() const { return name_ != "memory"; }
  std::unique_ptr<LogStorage> Open() {
    if (name_ == "memory") return std::make_unique<MemoryStorage>();
    if (name_ == "sqlite") return OpenSqlite(dir_.file("log.db"));
    auto s = PostgresStorage::Open(conninfo_);
    BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().ToString()));
    return std::move(*s);
  }

 private:
  std::string name_;
  TempDir dir_;
  std::string conninfo_;
};

const std::vector<std::string> kBackends = {"memory", "sqlite", "postgres"};
const std::vector<std::string> kDurableBackends = {"sqlite", "postgres"};

}  // namespace

BOOST_AUTO_TEST_SUITE(storage)

// The same contract on every backend (PostgreSQL on a throwaway cluster,
// tests/common/pg_cluster.sh).
BOOST_DATA_TEST_CASE(every_backend_meets_the_storage_contract,
                     boost::unit_test::data::make(kBackends), backend_name) {
  Backend backend(backend_name);
  auto storage = backend.Open();
  StorageContract(*storage);
}

BOOST_DATA_TEST_CASE(every_durable_backend_reopens_with_the_same_tree,
                     boost::unit_test::data::make(kDurableBackends), backend_name) {
  Backend backend(backend_name);
  Hash root;
  {
    auto storage = backend.Open();
    CompactRange range;
    BOOST_REQUIRE(AppendRange(*storage, range, 517).has_value());
    BOOST_REQUIRE(storage->StoreCheckpoint({517, range.Root(), "n"}).has_value());
    BOOST_REQUIRE(storage->SetMeta("origin", "example.org/log").has_value());
    root = range.Root();
    // A failed append (gap) leaves nothing behind for the reopen to trip on.
    std::vector<std::string> one = {"x"};
    BOOST_TEST(storage->Append(900, one, {}, {}).error().code() == "storage.append_gap");
  }
  auto storage = backend.Open();
  BOOST_TEST(storage->Size().value() == 517u);
  BOOST_TEST(TreeRoot(517, *storage).value() == root);
  BOOST_TEST(storage->LatestCheckpoint().value()->root == root);
  BOOST_TEST(storage->GetMeta("origin").value() == "example.org/log");
  BOOST_TEST(storage->FindIdempotencyKey("key-516").value().value() == 516u);
  auto range = CompactRange::FromStorage(517, *storage).value();
  BOOST_TEST(range.Root() == root);
  BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
  CheckAgainstReference(*storage, 817);
}

// Hashes must continue each level where the stored tree ends, on every backend.
BOOST_DATA_TEST_CASE(every_backend_refuses_hashes_out_of_order,
                     boost::unit_test::data::make(kBackends), backend_name) {
  Backend backend(backend_name);
  auto storage = backend.Open();
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 4).has_value());
  std::vector<std::string> one = {"entry-4"};
  std::vector<StoredHash> skipped = {{0, 5, LeafHash(AsBytes(one[0]))}};
  BOOST_TEST(storage->Append(4, one, {}, skipped).error().code() == "storage.hash_order");
  BOOST_TEST(storage->Size().value() == 4u);
  BOOST_REQUIRE(AppendRange(*storage, range, 3).has_value());
  CheckAgainstReference(*storage, 7);
}

BOOST_AUTO_TEST_CASE(sqlite_storage_without_tile_cache_reads_tiles_from_disk) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"), true, 0);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 700).has_value());
  CheckAgainstReference(*storage, 700);
}

BOOST_AUTO_TEST_CASE(sqlite_open_without_create_refuses_a_missing_file) {
  TempDir dir;
  auto s = SqliteStorage::Open(dir.file("missing.db"), SqliteOptions{});
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code() == "storage.not_found");
}

BOOST_AUTO_TEST_CASE(sqlite_schema_is_versioned_and_configured) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  auto pragma = [&](const char* sql) {
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(storage->handle(), sql, -1, &stmt, nullptr);
    sqlite3_step(stmt);
    std::string v = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    return v;
  };
  BOOST_TEST(pragma("PRAGMA user_version") == std::to_string(SqliteStorage::SchemaVersion()));
  BOOST_TEST(pragma("PRAGMA journal_mode") == "wal");
  BOOST_TEST(pragma("PRAGMA synchronous") == "2");  // FULL
  BOOST_TEST(pragma("PRAGMA foreign_keys") == "1");
}

// The writer's commits never run a WAL checkpoint (SQLite's automatic one would make the
// commit that crosses the threshold wait for a database write and fsync); a thread of the
// storage's own does, so the WAL stays near the threshold instead of growing with the log.
BOOST_AUTO_TEST_CASE(sqlite_wal_is_checkpointed_off_the_commit_path) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  constexpr int kPages = 8;
  {
    auto opened =
        SqliteStorage::Open(path, SqliteOptions{.create = true, .checkpoint_pages = kPages});
    BOOST_REQUIRE_MESSAGE(opened.has_value(), (opened ? "" : opened.error().ToString()));
    SqliteStorage& storage = **opened;
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(storage.handle(), "PRAGMA wal_autocheckpoint", -1, &stmt, nullptr);
    BOOST_REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
    BOOST_TEST(sqlite3_column_int(stmt, 0) == 0);  // no automatic checkpoint on commit
    sqlite3_finalize(stmt);

    CompactRange range;
    for (int i = 0; i < 200; ++i) {
      BOOST_REQUIRE(AppendRange(storage, range, 1).has_value());
      storage.WaitForCheckpoints();
    }
    // Unchecked, 200 commits of several pages each would leave hundreds of frames.
    const auto wal_bytes = std::filesystem::file_size(path + "-wal");
    BOOST_TEST(wal_bytes < 64u * (4096 + 24), wal_bytes << " bytes of WAL");
    BOOST_TEST(storage.Size().value() == 200u);
  }
  auto reopened = OpenSqlite(path, false);
  BOOST_TEST(reopened->Size().value() == 200u);
  CheckAgainstReference(*reopened, 200);
}

BOOST_AUTO_TEST_CASE(update_and_delete_of_log_rows_are_refused_by_triggers) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
  BOOST_REQUIRE(storage->StoreCheckpoint({300, range.Root(), "n"}).has_value());
  sqlite3* db = storage->handle();
  const std::pair<const char*, const char*> refused[] = {
      {"UPDATE entries SET data = x'00' WHERE idx = 1", "entries are append-only"},
      {"DELETE FROM entries WHERE idx = 1", "entries are append-only"},
      {"UPDATE idempotency SET idx = 2 WHERE key = 'key-1'", "idempotency keys are append-only"},
      {"DELETE FROM idempotency", "idempotency keys are append-only"},
      {"UPDATE checkpoints SET note = 'x'", "checkpoints are append-only"},
      {"DELETE FROM checkpoints", "checkpoints are append-only"},
      {"UPDATE tiles SET hashes = zeroblob(8192)", "full tiles are immutable"},
      {"DELETE FROM tiles", "full tiles are immutable"},
      // 300 entries: level-0 rows 256..299 (tile 0 is full), one level-1 row.
      {"UPDATE partial_hashes SET hash = zeroblob(32) WHERE level = 0 AND idx = 260",
       "partial tile hashes are never changed"},
      {"DELETE FROM partial_hashes WHERE level = 0 AND idx = 299",
       "a partial tile hash is deleted only once its full tile is stored"},
      {"DELETE FROM partial_hashes",
       "a partial tile hash is deleted only once its full tile is stored"},
      {"INSERT INTO partial_hashes(level, idx, hash) VALUES(0, 301, zeroblob(32))",
       "a partial tile hash must continue its tile"},
      {"INSERT INTO partial_hashes(level, idx, hash) VALUES(0, 512, zeroblob(32))",
       "a partial tile hash must continue its tile"},
      {"INSERT INTO partial_hashes(level, idx, hash) VALUES(1, 5, zeroblob(32))",
       "a partial tile hash must continue its tile"},
  };
  for (const auto& [sql, message] : refused) {
    BOOST_TEST_CONTEXT(sql) { BOOST_TEST(ExecError(db, sql) == message); }
  }
  CheckAgainstReference(*storage, 300);
}

BOOST_AUTO_TEST_CASE(sqlite_open_detects_tiles_that_do_not_cover_the_entries) {
  TempDir dir;
  {
    auto storage = OpenSqlite(dir.file("log.db"));
    CompactRange range;
    BOOST_REQUIRE(AppendRange(*storage, range, 10).has_value());
    // Behind the ledger's back: an entry without its hash.
    BOOST_REQUIRE(
        ExecError(storage->handle(), "INSERT INTO entries(idx, data) VALUES(10, x'00')") == "");
  }
  auto s = SqliteStorage::Open(dir.file("log.db"), SqliteOptions{});
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code() == "storage.corrupt");
}

// SQLITE_FULL (here from SQLite's page limit, which SQLite reports exactly as a full disk)
// on the entry, tile, derived-state and checkpoint writes is storage.full naming the database file;
// the failed append keeps nothing and the same append succeeds once there is room again.
// tests/durability/disk_full.py does the same with a real full filesystem.
BOOST_AUTO_TEST_CASE(sqlite_full_database_is_storage_full_and_recovers) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  auto storage = OpenSqlite(path);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 10).has_value());
  sqlite3* db = storage->handle();
  BOOST_REQUIRE(ExecError(db, "PRAGMA wal_checkpoint(TRUNCATE)") == "");
  BOOST_REQUIRE(ExecError(db, "PRAGMA max_page_count = 1") == "");  // clamps to the size now

  CompactRange attempt = range;
  auto full = AppendRange(*storage, attempt, 2000);  // new entry and full-tile pages
  BOOST_REQUIRE(!full.has_value());
  BOOST_TEST(full.error().code() == "storage.full");
  BOOST_TEST(full.error().message().find(path) != std::string::npos, full.error().message());
  BOOST_TEST(storage->Size().value() == 10u);
  BOOST_TEST(!storage->FindIdempotencyKey("key-10").value().has_value());
  const std::string big_note(20000, 'n');
  auto checkpoint = storage->StoreCheckpoint({10, range.Root(), big_note});
  BOOST_REQUIRE(!checkpoint.has_value());
  BOOST_TEST(checkpoint.error().code() == "storage.full");

  // A write of derived state inside the append's transaction (as the rules make): the
  // same code, and the entry goes too.
  BOOST_REQUIRE(ExecError(db, "PRAGMA max_page_count = 1073741823") == "");
  BOOST_REQUIRE(ExecError(db, "CREATE TABLE derived(v BLOB)") == "");
  BOOST_REQUIRE(ExecError(db, "PRAGMA wal_checkpoint(TRUNCATE)") == "");
  BOOST_REQUIRE(ExecError(db, "PRAGMA max_page_count = 1") == "");
  sql::Connection rules(db);
  attempt = range;
  auto derived = AppendRange(*storage, attempt, 1, [&] {
    return rules.Exec("INSERT INTO derived VALUES(zeroblob(100000))");
  });
  BOOST_REQUIRE(!derived.has_value());
  BOOST_TEST(derived.error().code() == "storage.full");
  BOOST_TEST(storage->Size().value() == 10u);
  BOOST_TEST(storage->ReadEntry(10).error().code() == "storage.not_found");

  BOOST_REQUIRE(ExecError(db, "PRAGMA max_page_count = 1073741823") == "");
  BOOST_REQUIRE(AppendRange(*storage, range, 2000).has_value());
  BOOST_REQUIRE(storage->StoreCheckpoint({2010, range.Root(), big_note}).has_value());
  CheckAgainstReference(*storage, 2010);
}

BOOST_AUTO_TEST_CASE(tile_paths_follow_c2sp_tlog_tiles) {
  // Examples from https://c2sp.org/tlog-tiles.
  BOOST_TEST(TileIndexPath(1234067) == "x001/x234/067");
  BOOST_TEST(TilePath(0, 1234067) == "tile/0/x001/x234/067");
  BOOST_TEST(TilePath(1, 1234067, 128) == "tile/1/x001/x234/067.p/128");
  BOOST_TEST(TilePath(2, 0) == "tile/2/000");
  BOOST_TEST(TilePath(0, 999, 1) == "tile/0/999.p/1");
  BOOST_TEST(TilePath(0, 1000) == "tile/0/x001/000");
  BOOST_TEST(EntryBundlePath(1234067) == "tile/entries/x001/x234/067");
  BOOST_TEST(EntryBundlePath(5, 17) == "tile/entries/005.p/17");
}

BOOST_AUTO_TEST_CASE(tiles_hold_the_level_8l_hashes) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 256 * 3 + 5).has_value());
  log::testing::PerfectHashes reference([&] {
    std::vector<Hash> leaves;
    for (uint64_t i = 0; i < 256 * 3 + 5; ++i) leaves.push_back(LeafHash(AsBytes(EntryText(i))));
    return leaves;
  }());
  auto full = ReadTile(0, 1, 256, *storage).value();
  BOOST_REQUIRE_EQUAL(full.size(), 8192u);
  BOOST_TEST(
      std::equal(full.begin() + 32, full.begin() + 64, reference.ReadHash(0, 257).value().begin()));
  auto partial = ReadTile(0, 3, 5, *storage).value();
  BOOST_TEST(partial.size() == 5u * 32u);
  auto upper = ReadTile(1, 0, 3, *storage).value();
  BOOST_TEST(std::equal(upper.begin() + 64, upper.end(), reference.ReadHash(8, 2).value().begin()));
  BOOST_TEST(ReadTile(0, 3, 6, *storage).error().code() == "storage.not_found");
  BOOST_TEST(ReadTile(0, 0, 0, *storage).error().code() == "tile.invalid_width");
  std::vector<std::string> bundle = {"ab", ""};
  BOOST_TEST(EncodeEntryBundle(bundle).value() == (Bytes{0, 2, 'a', 'b', 0, 0}));
  std::vector<std::string> too_long = {std::string(70000, 'x')};
  BOOST_TEST(EncodeEntryBundle(too_long).error().code() == "tile.entry_too_long");
}

namespace {

// Schema version 1 exactly as it shipped (kMigrations[0] before version 2), for the
// upgrade test: the growing rightmost tile of each level as one blob rewritten each commit.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE entries(idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE idempotency(key TEXT PRIMARY KEY,
                         idx INTEGER NOT NULL REFERENCES entries(idx)) WITHOUT ROWID;
CREATE TABLE tiles(level INTEGER NOT NULL, n INTEGER NOT NULL,
                   hashes BLOB NOT NULL CHECK(length(hashes) = 8192),
                   PRIMARY KEY(level, n));
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
PRAGMA user_version = 1;
)sql";

void Insert(sqlite3* db, const char* sql, const std::function<void(sqlite3_stmt*)>& bind) {
  sqlite3_stmt* stmt = nullptr;
  BOOST_REQUIRE(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK);
  bind(stmt);
  BOOST_REQUIRE_MESSAGE(sqlite3_step(stmt) == SQLITE_DONE, sqlite3_errmsg(db));
  sqlite3_finalize(stmt);
}

// A version-1 database of `size` entries written by hand (not by SqliteStorage): entries,
// keys, the full tiles of every tile level, each level's partial tile as one blob (an
// empty blob at the next n once a level's last tile is full, as v1 wrote it), and a
// checkpoint. Returns the root.
Hash WriteSchemaV1Database(const std::string& path, uint64_t size) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  BOOST_REQUIRE(ExecError(db, kSchemaV1) == "");
  BOOST_REQUIRE(ExecError(db, "BEGIN") == "");
  CompactRange range;
  std::vector<StoredHash> hashes;
  for (uint64_t i = 0; i < size; ++i) {
    const std::string entry = EntryText(i);
    const std::string key = "key-" + std::to_string(i);
    range.Append(LeafHash(AsBytes(entry)), &hashes);
    Insert(db, "INSERT INTO entries(idx, data) VALUES(?1, ?2)", [&](sqlite3_stmt* s) {
      sqlite3_bind_int64(s, 1, static_cast<int64_t>(i));
      sqlite3_bind_blob(s, 2, entry.data(), static_cast<int>(entry.size()), SQLITE_TRANSIENT);
    });
    Insert(db, "INSERT INTO idempotency(key, idx) VALUES(?1, ?2)", [&](sqlite3_stmt* s) {
      sqlite3_bind_text(s, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
      sqlite3_bind_int64(s, 2, static_cast<int64_t>(i));
    });
  }
  std::vector<Bytes> levels;  // tile level -> its level-8L hashes, concatenated
  for (const StoredHash& h : hashes) {
    if (h.level % 8 != 0) continue;
    if (levels.size() <= h.level / 8) levels.resize(h.level / 8 + 1);
    Bytes& level = levels[h.level / 8];
    BOOST_REQUIRE(level.size() == h.index * 32);
    level.insert(level.end(), h.hash.begin(), h.hash.end());
  }
  for (size_t level = 0; level < levels.size(); ++level) {
    const Bytes& all = levels[level];
    const size_t full = all.size() / 8192;
    for (size_t n = 0; n <= full; ++n) {
      const size_t bytes = n < full ? 8192 : all.size() % 8192;
      const char* sql = n < full ? "INSERT INTO tiles(level, n, hashes) VALUES(?1, ?2, ?3)"
                                 : "INSERT INTO partial_tiles(level, n, hashes) VALUES(?1, ?2, ?3)";
      Insert(db, sql, [&](sqlite3_stmt* s) {
        sqlite3_bind_int64(s, 1, static_cast<int64_t>(level));
        sqlite3_bind_int64(s, 2, static_cast<int64_t>(n));
        sqlite3_bind_blob(s, 3, all.data() + n * 8192, static_cast<int>(bytes), SQLITE_TRANSIENT);
      });
    }
  }
  const Hash root = range.Root();
  Insert(db, "INSERT INTO checkpoints(size, root, note) VALUES(?1, ?2, 'n')", [&](sqlite3_stmt* s) {
    sqlite3_bind_int64(s, 1, static_cast<int64_t>(size));
    sqlite3_bind_blob(s, 2, root.data(), static_cast<int>(root.size()), SQLITE_TRANSIENT);
  });
  BOOST_REQUIRE(ExecError(db, "COMMIT") == "");
  sqlite3_close(db);
  return root;
}

int64_t QueryInt(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  BOOST_REQUIRE_MESSAGE(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK,
                        sqlite3_errmsg(db));
  BOOST_REQUIRE(sqlite3_step(stmt) == SQLITE_ROW);
  const int64_t v = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return v;
}

}  // namespace

// Sizes: 512 leaves level 0 with an empty partial blob (tile 1 just filled) and level 1
// with 2 hashes; 70,000 spans three tile levels (273 full level-0 tiles + 112, 1 + 17, 1).
BOOST_DATA_TEST_CASE(sqlite_schema_v1_database_is_upgraded_with_the_same_tree,
                     boost::unit_test::data::make(std::vector<uint64_t>{512, 70000}), size) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  const Hash root = WriteSchemaV1Database(path, size);
  {
    auto storage = OpenSqlite(path, false);
    sqlite3* db = storage->handle();
    BOOST_TEST(QueryInt(db, "PRAGMA user_version") == SqliteStorage::SchemaVersion());
    BOOST_TEST(
        QueryInt(db, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'partial_tiles%'") == 0);
    BOOST_TEST(QueryInt(db, "SELECT count(*) FROM partial_hashes WHERE level = 0") ==
               static_cast<int64_t>(size % 256));
    BOOST_TEST(storage->Size().value() == size);
    BOOST_TEST(TreeRoot(size, *storage).value() == root);
    BOOST_TEST(storage->LatestCheckpoint().value()->root == root);
    auto audit = AuditLog(*storage, {}, 1).value();
    BOOST_TEST(audit.ok(), (audit.problem ? audit.problem->ToString() : ""));
    BOOST_TEST(audit.root == root);
    // Appends continue the migrated tiles, across a tile boundary.
    CompactRange range = CompactRange::FromStorage(size, *storage).value();
    BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
    BOOST_REQUIRE(AppendRange(*storage, range, 1).has_value());
  }
  auto reopened = OpenSqlite(path, false);
  BOOST_TEST(reopened->Size().value() == size + 301);
  if (size <= 1000) {
    CheckAgainstReference(*reopened, size + 301);
  } else {
    BOOST_TEST(AuditLog(*reopened, {}, 1).value().ok());
  }
}

// Commits of 1, 7, 256 and 1000 entries in turn up to 70,000 (three tile levels, every
// kind of tile boundary): after a reopen, the roots and proofs equal those of an
// in-memory tree, and each level's rows hold just its rightmost partial tile.
BOOST_AUTO_TEST_CASE(sqlite_reopens_with_the_same_tree_after_many_commits_across_tiles) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  MemoryStorage memory;
  CompactRange range, memory_range;
  const uint64_t total = 70000;
  {
    auto storage = OpenSqlite(path);
    const uint64_t counts[] = {1, 7, 256, 1000};
    for (size_t i = 0; range.size() < total; ++i) {
      const uint64_t count = std::min(counts[i % 4], total - range.size());
      BOOST_REQUIRE(AppendRange(*storage, range, count).has_value());
      BOOST_REQUIRE(AppendRange(memory, memory_range, count).has_value());
    }
  }
  auto storage = OpenSqlite(path, false);
  BOOST_REQUIRE(storage->Size().value() == total);
  sqlite3* db = storage->handle();
  BOOST_TEST(QueryInt(db, "SELECT count(*) FROM partial_hashes WHERE level = 0") == total % 256);
  BOOST_TEST(QueryInt(db, "SELECT count(*) FROM partial_hashes WHERE level = 1") ==
             (total / 256) % 256);
  BOOST_TEST(QueryInt(db, "SELECT count(*) FROM partial_hashes WHERE level = 2") == 1);
  for (uint64_t size : {uint64_t{1}, uint64_t{256}, uint64_t{257}, uint64_t{65536}, uint64_t{65537},
                        uint64_t{69999}, total}) {
    BOOST_TEST_CONTEXT("size " << size) {
      BOOST_TEST(TreeRoot(size, *storage).value() == TreeRoot(size, memory).value());
      for (uint64_t index : {uint64_t{0}, size / 2, size - 1}) {
        BOOST_TEST(InclusionProof(index, size, *storage).value() ==
                   InclusionProof(index, size, memory).value());
      }
      BOOST_TEST(ConsistencyProof(size, total, *storage).value() ==
                 ConsistencyProof(size, total, memory).value());
    }
  }
  BOOST_TEST(range.Root() == memory_range.Root());
  BOOST_TEST(AuditLog(*storage, {}, 1).value().ok());
}

// A partial-tile hash edited with the triggers dropped (what write access to the file
// allows) is served as stored after a reopen, and the audit names the entry whose leaf
// it no longer matches.
BOOST_AUTO_TEST_CASE(sqlite_audit_detects_an_edited_partial_tile_hash) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  {
    auto storage = OpenSqlite(path);
    CompactRange range;
    BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
    BOOST_REQUIRE(AuditLog(*storage, {}, 1).value().ok());
    sqlite3* db = storage->handle();
    BOOST_REQUIRE(ExecError(db,
                            "UPDATE partial_hashes SET hash = zeroblob(32) "
                            "WHERE level = 0 AND idx = 270") ==
                  "partial tile hashes are never changed");
    BOOST_REQUIRE(ExecError(db, "DROP TRIGGER partial_hashes_no_update") == "");
    BOOST_REQUIRE(ExecError(db,
                            "UPDATE partial_hashes SET hash = zeroblob(32) "
                            "WHERE level = 0 AND idx = 270") == "");
  }
  auto storage = OpenSqlite(path, false);
  auto report = AuditLog(*storage, {}, 1).value();
  BOOST_REQUIRE(!report.ok());
  BOOST_TEST(report.problem->code() == "audit.leaf_mismatch");
  BOOST_TEST(*report.bad_index == 270u);
}

// Rows of a partial tile that do not form one run from a tile's start (here: a row
// deleted, triggers dropped) fail the open rather than serve a wrong tree.
BOOST_AUTO_TEST_CASE(sqlite_open_refuses_partial_tile_rows_out_of_place) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  {
    auto storage = OpenSqlite(path);
    CompactRange range;
    BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
    sqlite3* db = storage->handle();
    BOOST_REQUIRE(ExecError(db, "DROP TRIGGER partial_hashes_delete_when_tiled") == "");
    BOOST_REQUIRE(ExecError(db, "DELETE FROM partial_hashes WHERE level = 0 AND idx = 280") == "");
  }
  auto s = SqliteStorage::Open(path, SqliteOptions{});
  BOOST_REQUIRE(!s.has_value());
  BOOST_TEST(s.error().code() == "storage.corrupt");
  BOOST_TEST(s.error().message().find("index 281") != std::string::npos, s.error().message());
}

BOOST_AUTO_TEST_SUITE_END()
