#include "pedigree/log/tiles.h"

#include <cstdio>
#include <vector>

namespace pedigree::log {

std::string TileIndexPath(uint64_t n) {
  // Collect three-digit groups least significant first, then emit in reverse.
  std::vector<unsigned> digits;
  do {
    digits.push_back(static_cast<unsigned>(n % 1000));
    n /= 1000;
  } while (n > 0);
  std::string path;
  for (size_t i = digits.size(); i-- > 0;) {
    char group[8];
    std::snprintf(group, sizeof(group), "%s%03u", i > 0 ? "x" : "", digits[i]);
    path += group;
    if (i > 0) path += '/';
  }
  return path;
}

std::string TilePath(uint32_t level, uint64_t n, uint32_t width) {
  std::string path = "tile/" + std::to_string(level) + "/" + TileIndexPath(n);
  if (width < kTileWidth) path += ".p/" + std::to_string(width);
  return path;
}

std::string EntryBundlePath(uint64_t n, uint32_t width) {
  std::string path = "tile/entries/" + TileIndexPath(n);
  if (width < kTileWidth) path += ".p/" + std::to_string(width);
  return path;
}

Result<Bytes> ReadTile(uint32_t level, uint64_t n, uint32_t width, HashReader& reader) {
  if (width == 0 || width > kTileWidth) {
    return Fail("tile.invalid_width", "tile width " + std::to_string(width) + " not in 1..256");
  }
  Bytes out;
  out.reserve(size_t{width} * sizeof(Hash));
  for (uint32_t i = 0; i < width; ++i) {
    auto h = reader.ReadHash(level * kTileHeight, n * kTileWidth + i);
    if (!h) return std::unexpected(h.error());
    out.insert(out.end(), h->begin(), h->end());
  }
  return out;
}

Result<Bytes> EncodeEntryBundle(std::span<const std::string> entries) {
  Bytes out;
  for (size_t i = 0; i < entries.size(); ++i) {
    const std::string& e = entries[i];
    if (e.size() > 0xffff) {
      return Fail("tile.entry_too_long", "entry " + std::to_string(i) + " of the bundle has " +
                                             std::to_string(e.size()) +
                                             " bytes, at most 65535 fit");
    }
    out.push_back(static_cast<uint8_t>(e.size() >> 8));
    out.push_back(static_cast<uint8_t>(e.size() & 0xff));
    out.insert(out.end(), e.begin(), e.end());
  }
  return out;
}

}  // namespace pedigree::log
