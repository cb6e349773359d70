#include "pedigree/log/storage.h"

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <random>

#include "common/temp_dir.h"
#include "merkle_testing.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sql.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/log/tiles.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::log::testing::ReferenceTree;

using pedigree::testing::TempDir;

namespace {

std::string EntryText(uint64_t i) { return "entry-" + std::to_string(i); }

// Appends entries [size, size+count) in one Append call, keyed "key-<i>".
Status AppendRange(LogStorage& storage, CompactRange& range, uint64_t count,
                   const std::function<Status()>& within = {}) {
  std::vector<std::string> entries, keys;
  std::vector<StoredHash> hashes;
  const uint64_t first = range.size();
  CompactRange next = range;
  for (uint64_t i = first; i < first + count; ++i) {
    entries.push_back(EntryText(i));
    keys.push_back("key-" + std::to_string(i));
    next.Append(LeafHash(AsBytes(entries.back())), &hashes);
  }
  auto st = storage.Append(first, entries, keys, hashes, within);
  if (st) range = next;
  return st;
}

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

// Checks every stored hash, root and proof of `storage` against the RFC definitions.
void CheckAgainstReference(LogStorage& storage, uint64_t size) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(LeafHash(AsBytes(EntryText(i))));
  ReferenceTree reference(leaves);
  BOOST_REQUIRE(TreeRoot(size, storage).value() == reference.Mth(0, size));
  for (uint64_t n : {uint64_t{1}, size / 3 + 1, size / 2 + 1, size - 1, size}) {
    if (n == 0 || n > size) continue;
    for (uint64_t i = 0; i < n; i += 1 + n / 40) {
      BOOST_REQUIRE(InclusionProof(i, n, storage).value() == reference.Path(i, 0, n));
    }
    BOOST_REQUIRE(ConsistencyProof(n, size, storage).value() == reference.Proof(n, size));
  }
}

void StorageContract(LogStorage& storage) {
  CompactRange range;
  BOOST_TEST(storage.Size().value() == 0u);
  BOOST_TEST(TreeRoot(0, storage).value() == EmptyRoot());
  // Batches that straddle tile boundaries: 1, 255, 1, 300, ... up to 1100 entries.
  for (uint64_t count : {1, 255, 1, 300, 243, 300}) {
    BOOST_REQUIRE(AppendRange(storage, range, count).has_value());
  }
  BOOST_TEST(storage.Size().value() == 1100u);
  CheckAgainstReference(storage, 1100);
  BOOST_TEST(storage.ReadEntry(7).value() == "entry-7");
  BOOST_TEST(storage.ReadEntry(1100).error().code() == "storage.not_found");
  auto some = storage.ReadEntries(254, 258).value();
  BOOST_TEST(some ==
             (std::vector<std::string>{"entry-254", "entry-255", "entry-256", "entry-257"}));
  BOOST_TEST(storage.ReadEntries(1000, 1101).error().code() == "storage.not_found");
  BOOST_TEST(storage.FindIdempotencyKey("key-300").value().value() == 300u);
  BOOST_TEST(!storage.FindIdempotencyKey("key-x").value().has_value());
  // An append that does not start at the end is refused.
  std::vector<std::string> one = {"x"};
  BOOST_TEST(storage.Append(5, one, {}, {}).error().code() == "storage.append_gap");
  // A failing `within` writes nothing.
  auto failed = AppendRange(storage, range, 3, [] { return Status(Fail("test.refused", "no")); });
  BOOST_TEST(failed.error().code() == "test.refused");
  BOOST_TEST(storage.Size().value() == 1100u);
  BOOST_TEST(!storage.FindIdempotencyKey("key-1100").value().has_value());
  BOOST_TEST(storage.ReadHash(0, 1100).error().code() == "storage.not_found");
  // Checkpoints: same root again is fine, another root for the same size is refused.
  const Hash root = range.Root();
  BOOST_TEST(!storage.LatestCheckpoint().value().has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({1100, root, "note"}).has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({1100, root, "note"}).has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({3, TreeRoot(3, storage).value(), "n3"}).has_value());
  Hash other = root;
  other[0] ^= 1;
  BOOST_TEST(storage.StoreCheckpoint({1100, other, "x"}).error().code() ==
             "storage.checkpoint_conflict");
  BOOST_TEST(storage.LatestCheckpoint().value()->size == 1100u);
  BOOST_TEST(storage.CheckpointAt(3).value()->note == "n3");
  BOOST_TEST(!storage.CheckpointAt(4).value().has_value());
  BOOST_TEST(storage.CheckpointSizes().value() == (std::vector<uint64_t>{3, 1100}));
  // Meta.
  BOOST_TEST(storage.GetMeta("origin").error().code() == "storage.not_found");
  BOOST_REQUIRE(storage.SetMeta("origin", "example.org/log").has_value());
  BOOST_REQUIRE(storage.SetMeta("origin", "example.org/log2").has_value());
  BOOST_TEST(storage.GetMeta("origin").value() == "example.org/log2");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(storage)

BOOST_AUTO_TEST_CASE(memory_storage_meets_the_storage_contract) {
  MemoryStorage storage;
  StorageContract(storage);
}

BOOST_AUTO_TEST_CASE(sqlite_storage_meets_the_storage_contract) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  StorageContract(*storage);
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

BOOST_AUTO_TEST_CASE(sqlite_storage_survives_reopen_with_the_same_tree) {
  TempDir dir;
  Hash root;
  {
    auto storage = OpenSqlite(dir.file("log.db"));
    CompactRange range;
    BOOST_REQUIRE(AppendRange(*storage, range, 517).has_value());
    root = range.Root();
    // A failed append (gap) leaves nothing behind for the reopen to trip on.
    std::vector<std::string> one = {"x"};
    BOOST_TEST(!storage->Append(900, one, {}, {}).has_value());
  }
  auto storage = OpenSqlite(dir.file("log.db"), false);
  BOOST_TEST(storage->Size().value() == 517u);
  BOOST_TEST(TreeRoot(517, *storage).value() == root);
  auto range = CompactRange::FromStorage(517, *storage).value();
  BOOST_TEST(range.Root() == root);
  BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
  CheckAgainstReference(*storage, 817);
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
