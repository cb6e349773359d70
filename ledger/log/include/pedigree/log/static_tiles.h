// The log as static C2SP tlog-tiles files (hash tiles, entry bundles, checkpoint) that any
// web server or CDN can serve, and a client that checks such a copy from its files alone.
// See ../../../../docs/merkle-log.md ("Static export") and https://c2sp.org/tlog-tiles.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <utility>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/storage.h"

namespace pedigree::log {

struct TileExportStats {
  uint64_t size = 0;                 // the exported checkpoint's size
  size_t written = 0;                // tile and bundle files written by this export
  size_t kept = 0;                   // already present (immutable), left untouched
  bool checkpoint_replaced = false;  // an older checkpoint file was replaced
};

// Writes the tree of `checkpoint` (a signed note verified by the caller, body parsed into
// `parsed`) from `storage` into `dir`: every tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>]
// of that size, then `checkpoint` (the only file ever replaced; written last, atomically by
// rename). Files already present are immutable and skipped, so a second export only adds.
// Every file is written to a temporary name and renamed, so a crash never leaves a truncated
// file under a final name. Before writing anything: the tree root from storage must equal
// the checkpoint's (tile.mismatch), and a checkpoint already in `dir` must verify with
// `verifiers`, not be larger, and have the root this log has at its size
// (tile.export_conflict). Errors: tile.io, storage.*.
[[nodiscard]] Result<TileExportStats> ExportTiles(LogStorage& storage, std::string_view checkpoint,
                                                  const Checkpoint& parsed, const std::string& dir,
                                                  std::span<const NoteVerifier> verifiers);

// Reads a file of a static tile tree by its path relative to the prefix ("checkpoint",
// "tile/0/x001/234"); storage.not_found when absent.
using TileFetch = std::function<Result<Bytes>(const std::string& path)>;
// A TileFetch over the files under `dir`.
TileFetch DirectoryTileFetch(std::string dir);

// The hashes of a tree of `size` read from its hash tiles through `fetch` (tiles cached in
// memory). Level 8·L+k hashes are computed from the tile at level L. Nothing is trusted:
// verify what it yields against a signed root (TreeRoot, VerifyInclusion) or use
// VerifyStaticTiles. A tile of the wrong length is tile.mismatch.
class TileHashReader final : public HashReader {
 public:
  TileHashReader(TileFetch fetch, uint64_t size) : fetch_(std::move(fetch)), size_(size) {}
  Result<Hash> ReadHash(uint32_t level, uint64_t index) override;
  // The whole tile (level, n) of this tree, as fetched and length-checked.
  [[nodiscard]] Result<const Bytes*> Tile(uint32_t level, uint64_t n);

 private:
  TileFetch fetch_;
  uint64_t size_;
  std::map<std::pair<uint32_t, uint64_t>, Bytes> tiles_;
};

// Splits an entry bundle into its entries (tile.mismatch if it is not `count`
// uint16-length-prefixed entries exactly).
[[nodiscard]] Result<std::vector<std::string>> DecodeEntryBundle(std::span<const uint8_t> bundle,
                                                                 size_t count);

struct StaticTreeCheck {
  std::string note;  // the checkpoint file, verified
  Checkpoint checkpoint;
  uint64_t tiles = 0;    // hash tiles checked
  uint64_t bundles = 0;  // entry bundles checked
};

// Checks a whole static copy from its files: the checkpoint verifies with `verifiers` and
// names the origin of the first verifier; every entry's leaf hash equals its level-0 tile
// hash; every full tile at level L hashes to its entry in the tile at level L+1; the root
// computed from the tiles equals the checkpoint's. Errors: note.*, checkpoint.*,
// checkpoint.origin, storage.not_found (a missing file), tile.mismatch (naming the file).
[[nodiscard]] Result<StaticTreeCheck> VerifyStaticTiles(const TileFetch& fetch,
                                                        std::span<const NoteVerifier> verifiers);

// Entry `index` of the static tree of `checkpoint`, proved included: the inclusion proof is
// built from the hash tiles and checked against the checkpoint's root. Errors:
// merkle.index_out_of_range, merkle.root_mismatch, tile.mismatch, storage.not_found.
[[nodiscard]] Result<std::string> ProveStaticEntry(const TileFetch& fetch,
                                                   const Checkpoint& checkpoint, uint64_t index);

}  // namespace pedigree::log
