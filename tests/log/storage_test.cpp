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
      {"UPDATE partial_tiles SET hashes = zeroblob(64) WHERE level = 0",
       "a partial tile may only grow or roll over"},
      {"DELETE FROM partial_tiles", "partial tiles are never deleted"},
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

BOOST_AUTO_TEST_SUITE_END()
