// The static C2SP tlog-tiles export, checked by a client that reads only the files.
#include "pedigree/log/static_tiles.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "common/temp_dir.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/storage.h"
#include "pedigree/log/tiles.h"

namespace pedigree::log {
namespace {

namespace fs = std::filesystem;
using pedigree::testing::TempDir;

template <typename T>
std::string Why(const Result<T>& r) {
  return r ? std::string() : r.error().ToString();
}

PrivateKey Key(uint8_t first) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(first + i);
  auto key = PrivateKey::FromSeed(seed);
  BOOST_REQUIRE(key.has_value());
  return std::move(*key);
}

// A log on MemoryStorage whose checkpoints are signed by `origin`'s key.
class ExportLog {
 public:
  explicit ExportLog(std::string origin = "example.org/static", uint8_t seed = 0x20)
      : signer_(std::move(origin), Key(seed)) {}

  void Grow(uint64_t to, const std::string& tag = "entry ") {
    std::vector<std::string> entries;
    std::vector<StoredHash> done;
    const uint64_t first = range_.size();
    while (range_.size() < to) {
      entries.push_back(tag + std::to_string(range_.size()));
      range_.Append(LeafHash(entries.back()), &done);
    }
    BOOST_REQUIRE(storage_.Append(first, entries, {}, done).has_value());
  }

  Checkpoint Parsed() const { return {signer_.name(), range_.size(), range_.Root()}; }
  std::string Note() const { return SignNote(FormatCheckpoint(Parsed()), signer_); }
  std::vector<NoteVerifier> Verifiers() const {
    auto v = NoteVerifier::Parse(signer_.VerifierKey());
    BOOST_REQUIRE(v.has_value());
    return {*v};
  }
  Result<TileExportStats> Export(const std::string& dir) {
    auto verifiers = Verifiers();
    return ExportTiles(storage_, Note(), Parsed(), dir, verifiers);
  }

 private:
  NoteSigner signer_;
  CompactRange range_;
  MemoryStorage storage_;
};

void FlipByte(const std::string& path, size_t offset) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  BOOST_REQUIRE(f.good());
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x01));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(static_tiles)

BOOST_AUTO_TEST_CASE(export_is_read_back_by_a_client_of_the_files_alone) {
  // Three tile levels: 256² + 256 + 7 entries give full and partial tiles at levels 0 and 1
  // and a partial level-2 tile.
  const uint64_t size = 65536 + 256 + 7;
  ExportLog log;
  log.Grow(size);
  TempDir tmp;
  const std::string dir = tmp / "tiles";
  auto stats = log.Export(dir);
  BOOST_REQUIRE_MESSAGE(stats.has_value(), Why(stats));
  BOOST_TEST(stats->size == size);
  BOOST_TEST(stats->kept == 0u);
  // Level 0: 257 full + 1 partial; level 1: 1 full + 1 partial; level 2: partial of 1;
  // bundles as level 0.
  BOOST_TEST(stats->written == 258u + 2u + 1u + 258u);
  BOOST_TEST(fs::file_size(dir + "/tile/0/256") == 8192u);
  BOOST_TEST(fs::file_size(dir + "/tile/0/257.p/7") == 7u * 32u);
  BOOST_TEST(fs::file_size(dir + "/tile/1/000") == 8192u);
  BOOST_TEST(fs::file_size(dir + "/tile/1/001.p/1") == 32u);
  BOOST_TEST(fs::file_size(dir + "/tile/2/000.p/1") == 32u);
  BOOST_TEST(fs::exists(dir + "/tile/entries/257.p/7"));

  auto verifiers = log.Verifiers();
  auto fetch = DirectoryTileFetch(dir);
  auto check = VerifyStaticTiles(fetch, verifiers);
  BOOST_REQUIRE_MESSAGE(check.has_value(), Why(check));
  BOOST_TEST(check->checkpoint.size == size);
  BOOST_TEST(check->bundles == 258u);
  for (uint64_t index :
       {uint64_t{0}, uint64_t{255}, uint64_t{256}, uint64_t{40000}, uint64_t{65791}, size - 1}) {
    auto entry = ProveStaticEntry(fetch, check->checkpoint, index);
    BOOST_REQUIRE_MESSAGE(entry.has_value(), Why(entry));
    BOOST_TEST(*entry == "entry " + std::to_string(index));
  }
  BOOST_TEST(ProveStaticEntry(fetch, check->checkpoint, size).error().code() ==
             "merkle.index_out_of_range");
}

BOOST_AUTO_TEST_CASE(a_second_export_only_adds_files_and_replaces_the_checkpoint) {
  ExportLog log;
  log.Grow(300);
  TempDir tmp;
  const std::string dir = tmp / "tiles";
  BOOST_REQUIRE(log.Export(dir).has_value());
  const auto full_time = fs::last_write_time(dir + "/tile/0/000");
  const auto partial_time = fs::last_write_time(dir + "/tile/0/001.p/44");
  log.Grow(600);
  auto again = log.Export(dir);
  BOOST_REQUIRE_MESSAGE(again.has_value(), Why(again));
  BOOST_TEST(again->checkpoint_replaced);
  // Kept: tile/0/000 and its bundle. New: tile/0/001, 002.p/88, two bundles, tile/1/000.p/2.
  BOOST_TEST(again->kept == 2u);
  BOOST_TEST(again->written == 5u);
  BOOST_TEST((fs::last_write_time(dir + "/tile/0/000") == full_time));
  BOOST_TEST((fs::last_write_time(dir + "/tile/0/001.p/44") == partial_time));
  auto verifiers = log.Verifiers();
  auto check = VerifyStaticTiles(DirectoryTileFetch(dir), verifiers);
  BOOST_REQUIRE_MESSAGE(check.has_value(), Why(check));
  BOOST_TEST(check->checkpoint.size == 600u);
  // No temporary files are left behind.
  for (const auto& f : fs::recursive_directory_iterator(dir)) {
    BOOST_TEST(f.path().string().find(".tmp-") == std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(a_tampered_tile_bundle_or_checkpoint_is_detected) {
  ExportLog log;
  log.Grow(700);
  TempDir tmp;
  auto verifiers = log.Verifiers();
  struct Case {
    std::string file;
    size_t offset;
    std::string code;
  };
  for (const Case& c :
       {Case{"tile/0/001", 100, "tile.mismatch"}, Case{"tile/0/002.p/188", 5, "tile.mismatch"},
        Case{"tile/1/000.p/2", 40, "tile.mismatch"}, Case{"tile/entries/000", 10, "tile.mismatch"},
        Case{"checkpoint", 30, "note.bad_signature"}}) {
    const std::string dir = tmp / ("t" + std::to_string(c.offset) + c.file.substr(5, 1));
    BOOST_REQUIRE(log.Export(dir).has_value());
    BOOST_REQUIRE(VerifyStaticTiles(DirectoryTileFetch(dir), verifiers).has_value());
    FlipByte(dir + "/" + c.file, c.offset);
    auto check = VerifyStaticTiles(DirectoryTileFetch(dir), verifiers);
    BOOST_REQUIRE_MESSAGE(!check.has_value(), c.file);
    BOOST_TEST(check.error().code() == c.code, c.file << ": " << check.error().ToString());
  }
  // An inclusion proof through a tampered tile does not verify either.
  const std::string dir = tmp / "proof";
  BOOST_REQUIRE(log.Export(dir).has_value());
  FlipByte(dir + "/tile/0/000", 32 * 3);
  auto entry = ProveStaticEntry(DirectoryTileFetch(dir), log.Parsed(), 2);
  BOOST_REQUIRE(!entry.has_value());
  BOOST_TEST(entry.error().code() == "merkle.root_mismatch");
  // A missing file is named.
  const std::string gap = tmp / "gap";
  BOOST_REQUIRE(log.Export(gap).has_value());
  fs::remove(gap + "/tile/entries/001");
  auto missing = VerifyStaticTiles(DirectoryTileFetch(gap), verifiers);
  BOOST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error().code() == "storage.not_found");
}

BOOST_AUTO_TEST_CASE(export_refuses_a_directory_holding_another_history) {
  TempDir tmp;
  const std::string dir = tmp / "tiles";
  ExportLog log;
  log.Grow(50);
  BOOST_REQUIRE(log.Export(dir).has_value());
  // The same origin and key, another history: a fork must not be exported over the first.
  ExportLog fork;
  fork.Grow(80, "forked ");
  auto refused = fork.Export(dir);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "tile.export_conflict");
  // Another log's key.
  ExportLog other("example.org/other", 0x30);
  other.Grow(80);
  BOOST_TEST(other.Export(dir).error().code() == "tile.export_conflict");
  // A smaller tree than the checkpoint already exported.
  ExportLog smaller;
  smaller.Grow(10);
  BOOST_TEST(smaller.Export(dir).error().code() == "tile.export_conflict");
  // Nothing was changed by the refusals.
  auto verifiers = log.Verifiers();
  auto check = VerifyStaticTiles(DirectoryTileFetch(dir), verifiers);
  BOOST_REQUIRE(check.has_value());
  BOOST_TEST(check->checkpoint.size == 50u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::log
