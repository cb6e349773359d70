#include "pedigree/log/static_tiles.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "pedigree/log/merkle.h"
#include "pedigree/log/tiles.h"

namespace pedigree::log {
namespace {

namespace fs = std::filesystem;

Error IoError(const std::string& what, const std::string& path) {
  return Error("tile.io", what + " " + path + ": " + std::strerror(errno)).at_field("dir");
}

// Writes `data` to `path` through a temporary file in the same directory, fsync and rename,
// so `path` either does not exist or holds all of `data`.
Status WriteFileAtomically(const fs::path& path, std::span<const uint8_t> data) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) {
    errno = ec.value();
    return Fail(IoError("cannot create directory", path.parent_path().string()));
  }
  const std::string tmp = path.string() + ".tmp-" + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(IoError("cannot create", tmp));
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Error e = IoError("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Fail(e);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Error e = IoError("cannot sync", tmp);
    ::unlink(tmp.c_str());
    return Fail(e);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Error e = IoError("cannot rename into", path.string());
    ::unlink(tmp.c_str());
    return Fail(e);
  }
  int dfd = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Ok();
}

// Widths of the tiles of level L in a tree of `size`: full tiles then one partial.
uint64_t LevelCount(uint64_t size, uint32_t level) {
  const uint32_t shift = level * kTileHeight;
  return shift >= 64 ? 0 : size >> shift;
}

uint32_t TileWidthAt(uint64_t count, uint64_t n) {
  return static_cast<uint32_t>(std::min<uint64_t>(kTileWidth, count - n * kTileWidth));
}

uint64_t TileCount(uint64_t count) { return (count + kTileWidth - 1) / kTileWidth; }

// MTH over `count` (a power of two) consecutive hashes of a tile blob from hash `first`.
Hash SubtreeOfTile(const Bytes& tile, uint64_t first, uint64_t count) {
  std::vector<Hash> level(count);
  for (uint64_t i = 0; i < count; ++i) {
    std::copy_n(tile.data() + (first + i) * sizeof(Hash), sizeof(Hash), level[i].begin());
  }
  while (level.size() > 1) {
    std::vector<Hash> up(level.size() / 2);
    for (size_t i = 0; i < up.size(); ++i) up[i] = NodeHash(level[2 * i], level[2 * i + 1]);
    level = std::move(up);
  }
  return level[0];
}

Error Mismatch(const std::string& path, const std::string& what) {
  return Error("tile.mismatch", path + ": " + what).at_field(path);
}

}  // namespace

Result<TileExportStats> ExportTiles(LogStorage& storage, std::string_view checkpoint,
                                    const Checkpoint& parsed, const std::string& dir,
                                    std::span<const NoteVerifier> verifiers) {
  const uint64_t size = parsed.size;
  PEDIGREE_ASSIGN(root, TreeRoot(size, storage));
  if (*root != parsed.root) {
    return Fail(Error("tile.mismatch", "the stored tree of size " + std::to_string(size) +
                                           " has root " + ToHex(*root) + ", the checkpoint says " +
                                           ToHex(parsed.root))
                    .at_field("checkpoint"));
  }
  const fs::path base(dir);
  TileExportStats stats;
  stats.size = size;

  // An existing checkpoint must be an earlier state of this very tree.
  const fs::path checkpoint_path = base / "checkpoint";
  std::error_code ec;
  if (fs::exists(checkpoint_path, ec)) {
    std::ifstream in(checkpoint_path, std::ios::binary);
    std::string old((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto opened = OpenNote(old, verifiers);
    if (!opened) {
      return Fail(Error("tile.export_conflict",
                        checkpoint_path.string() +
                            " is not a checkpoint of this log: " + opened.error().message())
                      .at_field("dir"));
    }
    PEDIGREE_ASSIGN(previous, ParseCheckpoint(opened->text));
    if (previous->origin != parsed.origin || previous->size > size) {
      return Fail(Error("tile.export_conflict",
                        checkpoint_path.string() + " holds " + previous->origin + " at size " +
                            std::to_string(previous->size) + ", this export is " + parsed.origin +
                            " at size " + std::to_string(size))
                      .at_field("dir"));
    }
    PEDIGREE_ASSIGN(old_root, TreeRoot(previous->size, storage));
    if (*old_root != previous->root) {
      return Fail(Error("tile.export_conflict",
                        checkpoint_path.string() + " has root " + ToHex(previous->root) +
                            " at size " + std::to_string(previous->size) +
                            ", this log's tree has " + ToHex(*old_root) + ": a fork")
                      .at_field("dir"));
    }
    stats.checkpoint_replaced = true;
  }

  auto write_once = [&](const std::string& rel, auto make) -> Status {
    const fs::path path = base / rel;
    if (fs::exists(path, ec)) {
      ++stats.kept;
      return Ok();
    }
    PEDIGREE_ASSIGN(bytes, make());
    PEDIGREE_TRY(WriteFileAtomically(path, *bytes));
    ++stats.written;
    return Ok();
  };

  // Hash tiles, level by level, while the level has any hash.
  for (uint32_t level = 0; LevelCount(size, level) > 0; ++level) {
    const uint64_t count = LevelCount(size, level);
    for (uint64_t n = 0; n < TileCount(count); ++n) {
      const uint32_t width = TileWidthAt(count, n);
      PEDIGREE_TRY(write_once(TilePath(level, n, width),
                              [&] { return ReadTile(level, n, width, storage); }));
    }
  }
  // Entry bundles.
  for (uint64_t n = 0; n < TileCount(size); ++n) {
    const uint32_t width = TileWidthAt(size, n);
    PEDIGREE_TRY(write_once(EntryBundlePath(n, width), [&]() -> Result<Bytes> {
      PEDIGREE_ASSIGN(entries, storage.ReadEntries(n * kTileWidth, n * kTileWidth + width));
      return EncodeEntryBundle(*entries);
    }));
  }
  // The checkpoint last: a reader that sees it finds every file it names.
  PEDIGREE_TRY(WriteFileAtomically(checkpoint_path, AsBytes(checkpoint)));
  return stats;
}

TileFetch DirectoryTileFetch(std::string dir) {
  return [dir = std::move(dir)](const std::string& path) -> Result<Bytes> {
    const fs::path full = fs::path(dir) / path;
    std::ifstream in(full, std::ios::binary);
    if (!in) {
      return Fail(Error("storage.not_found", "no file " + full.string()).at_field(path));
    }
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
}

Result<const Bytes*> TileHashReader::Tile(uint32_t level, uint64_t n) {
  auto key = std::make_pair(level, n);
  if (auto it = tiles_.find(key); it != tiles_.end()) return &it->second;
  const uint64_t count = LevelCount(size_, level);
  if (n >= TileCount(count)) {
    return Fail(Error("merkle.index_out_of_range",
                      "tile " + std::to_string(level) + "/" + std::to_string(n) +
                          " is beyond the tree of size " + std::to_string(size_)));
  }
  const uint32_t width = TileWidthAt(count, n);
  const std::string path = TilePath(level, n, width);
  PEDIGREE_ASSIGN(bytes, fetch_(path));
  if (bytes->size() != size_t{width} * sizeof(Hash)) {
    return Fail(Mismatch(path, std::to_string(bytes->size()) + " bytes, a tile of width " +
                                   std::to_string(width) + " has " +
                                   std::to_string(width * sizeof(Hash))));
  }
  return &tiles_.emplace(key, *std::move(bytes)).first->second;
}

Result<Hash> TileHashReader::ReadHash(uint32_t level, uint64_t index) {
  const uint32_t tile_level = level / kTileHeight;
  const uint32_t k = level % kTileHeight;
  const uint64_t first = index << k;  // in level-8·L hashes
  PEDIGREE_ASSIGN(tile, Tile(tile_level, first / kTileWidth));
  const uint64_t offset = first % kTileWidth;
  const uint64_t span = uint64_t{1} << k;
  if ((offset + span) * sizeof(Hash) > (*tile)->size()) {
    return Fail(Error("storage.not_found",
                      "hash " + std::to_string(level) + "/" + std::to_string(index) +
                          " is not complete in the tree of size " + std::to_string(size_)));
  }
  return SubtreeOfTile(**tile, offset, span);
}

Result<std::vector<std::string>> DecodeEntryBundle(std::span<const uint8_t> bundle, size_t count) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bundle.size()) {
    if (pos + 2 > bundle.size()) {
      return Fail("tile.mismatch",
                  "entry bundle truncated in a length prefix at byte " + std::to_string(pos));
    }
    const size_t len = (size_t{bundle[pos]} << 8) | bundle[pos + 1];
    pos += 2;
    if (pos + len > bundle.size()) {
      return Fail("tile.mismatch", "entry " + std::to_string(out.size()) + " of the bundle needs " +
                                       std::to_string(len) + " bytes, " +
                                       std::to_string(bundle.size() - pos) + " are left");
    }
    out.emplace_back(reinterpret_cast<const char*>(bundle.data() + pos), len);
    pos += len;
  }
  if (out.size() != count) {
    return Fail("tile.mismatch", "entry bundle holds " + std::to_string(out.size()) +
                                     " entries, its width is " + std::to_string(count));
  }
  return out;
}

Result<StaticTreeCheck> VerifyStaticTiles(const TileFetch& fetch,
                                          std::span<const NoteVerifier> verifiers) {
  StaticTreeCheck check;
  PEDIGREE_ASSIGN(note, fetch("checkpoint"));
  check.note.assign(note->begin(), note->end());
  PEDIGREE_ASSIGN(opened, OpenNote(check.note, verifiers));
  PEDIGREE_ASSIGN(parsed, ParseCheckpoint(opened->text));
  if (!verifiers.empty() && parsed->origin != verifiers.front().name()) {
    return Fail(Error("checkpoint.origin", "the checkpoint is for " + parsed->origin +
                                               ", the log key is " + verifiers.front().name())
                    .at_field("checkpoint"));
  }
  check.checkpoint = *parsed;
  const uint64_t size = parsed->size;
  TileHashReader reader(fetch, size);

  // Entries against level-0 tiles.
  for (uint64_t n = 0; n < TileCount(size); ++n) {
    const uint32_t width = TileWidthAt(size, n);
    const std::string path = EntryBundlePath(n, width);
    PEDIGREE_ASSIGN(bundle, fetch(path));
    auto entries = DecodeEntryBundle(*bundle, width);
    if (!entries) return Fail(Mismatch(path, entries.error().message()));
    PEDIGREE_ASSIGN(tile, reader.Tile(0, n));
    for (uint32_t i = 0; i < width; ++i) {
      const Hash leaf = LeafHash((*entries)[i]);
      if (!std::equal(leaf.begin(), leaf.end(), (*tile)->data() + i * sizeof(Hash))) {
        return Fail(Mismatch(TilePath(0, n, width),
                             "hash " + std::to_string(i) + " is not the leaf hash of entry " +
                                 std::to_string(n * kTileWidth + i) + " in " + path));
      }
    }
    ++check.bundles;
  }
  // Every full tile against its hash one tile level up.
  for (uint32_t level = 0; LevelCount(size, level) > 0; ++level) {
    const uint64_t count = LevelCount(size, level);
    for (uint64_t n = 0; n < TileCount(count); ++n) {
      const uint32_t width = TileWidthAt(count, n);
      PEDIGREE_ASSIGN(tile, reader.Tile(level, n));
      ++check.tiles;
      if (width < kTileWidth) continue;
      const Hash top = SubtreeOfTile(**tile, 0, kTileWidth);
      PEDIGREE_ASSIGN(above, reader.ReadHash((level + 1) * kTileHeight, n));
      if (top != *above) {
        return Fail(Mismatch(TilePath(level, n, width),
                             "its hashes give " + ToHex(top) + ", hash " +
                                 std::to_string(n % kTileWidth) + " of the level-" +
                                 std::to_string(level + 1) + " tile above is " + ToHex(*above)));
      }
    }
  }
  // The root from the tiles, against the signed one.
  PEDIGREE_ASSIGN(root, TreeRoot(size, reader));
  if (*root != parsed->root) {
    return Fail(Error("tile.mismatch", "the tiles give root " + ToHex(*root) +
                                           ", the checkpoint of size " + std::to_string(size) +
                                           " says " + ToHex(parsed->root))
                    .at_field("checkpoint"));
  }
  return check;
}

Result<std::string> ProveStaticEntry(const TileFetch& fetch, const Checkpoint& checkpoint,
                                     uint64_t index) {
  if (index >= checkpoint.size) {
    return Fail("merkle.index_out_of_range", "index " + std::to_string(index) +
                                                 " out of bounds for tree size " +
                                                 std::to_string(checkpoint.size));
  }
  TileHashReader reader(fetch, checkpoint.size);
  PEDIGREE_ASSIGN(proof, InclusionProof(index, checkpoint.size, reader));
  const uint64_t n = index / kTileWidth;
  const uint32_t width = TileWidthAt(checkpoint.size, n);
  const std::string path = EntryBundlePath(n, width);
  PEDIGREE_ASSIGN(bundle, fetch(path));
  auto entries = DecodeEntryBundle(*bundle, width);
  if (!entries) return Fail(Mismatch(path, entries.error().message()));
  std::string entry = (*entries)[index % kTileWidth];
  PEDIGREE_TRY(VerifyInclusion(index, checkpoint.size, LeafHash(entry), *proof, checkpoint.root));
  return entry;
}

}  // namespace pedigree::log
