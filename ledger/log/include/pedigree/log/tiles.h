// C2SP tlog-tiles: tile and entry-bundle paths, and tile contents read from stored
// hashes. See ../../../../docs/merkle-log.md ("Tiles") and https://c2sp.org/tlog-tiles.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/proof.h"

namespace pedigree::log {

inline constexpr uint32_t kTileHeight = 8;   // tile level L holds level 8·L hashes
inline constexpr uint32_t kTileWidth = 256;  // hashes (or entries) in a full tile

// "x001/x234/067" for 1234067: three-digit groups, all but the last prefixed with 'x'.
std::string TileIndexPath(uint64_t n);

// "tile/<L>/<N>" for a full tile (width == 256) or "tile/<L>/<N>.p/<W>" for a partial
// one. Requires 1 <= width <= 256.
std::string TilePath(uint32_t level, uint64_t n, uint32_t width = kTileWidth);

// "tile/entries/<N>[.p/<W>]". Requires 1 <= width <= 256.
std::string EntryBundlePath(uint64_t n, uint32_t width = kTileWidth);

// The tile's bytes: the `width` level-8·L hashes [n·256, n·256+width), concatenated.
// tile.invalid_width unless 1 <= width <= 256; storage errors if not all are stored.
[[nodiscard]] Result<Bytes> ReadTile(uint32_t level, uint64_t n, uint32_t width,
                                     HashReader& reader);

// An entry bundle's bytes: each entry as a big-endian uint16 length then its bytes.
// tile.entry_too_long for an entry above 65535 bytes.
[[nodiscard]] Result<Bytes> EncodeEntryBundle(std::span<const std::string> entries);

}  // namespace pedigree::log
