// A tile with its interior nodes: the up-to-256 level-8·L hashes of one tile row plus
// every perfect subtree above them inside the tile (levels 8·L+1 .. 8·L+8), so that any
// stored-hash read of a cached tile is a lookup. Private to the storage backends.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/log/merkle.h"

namespace pedigree::log {

class TileTree {
 public:
  TileTree() = default;
  explicit TileTree(uint64_t n) : n_(n) {}

  // Builds from a stored tile blob of width·32 bytes. Requires blob.size() % 32 == 0
  // and at most 256 hashes.
  static TileTree FromBlob(uint64_t n, std::span<const uint8_t> blob) {
    TileTree tile(n);
    for (size_t off = 0; off + sizeof(Hash) <= blob.size(); off += sizeof(Hash)) {
      Hash h;
      std::copy_n(blob.data() + off, sizeof(Hash), h.begin());
      tile.Push(h);
    }
    return tile;
  }

  uint64_t n() const { return n_; }
  uint32_t width() const { return width_; }
  bool full() const { return width_ == 256; }

  // Appends the next level-0 (within the tile) hash and completes the nodes above it.
  void Push(const Hash& h) {
    nodes_[0][width_] = h;
    ++width_;
    uint32_t count = width_;
    for (uint32_t k = 1; k <= 8 && count % 2 == 0; ++k) {
      count >>= 1;
      nodes_[k][count - 1] = NodeHash(nodes_[k - 1][2 * count - 2], nodes_[k - 1][2 * count - 1]);
    }
  }

  // Node at in-tile level k (0..8), index i; false if that subtree is not complete.
  bool Get(uint32_t k, uint64_t i, Hash* out) const {
    if (k > 8 || ((i + 1) << k) > width_) return false;
    *out = nodes_[k][i];
    return true;
  }

  // The level-0 hashes, concatenated (the tile's bytes).
  Bytes Blob() const {
    Bytes out(size_t{width_} * sizeof(Hash));
    for (uint32_t i = 0; i < width_; ++i) {
      std::copy(nodes_[0][i].begin(), nodes_[0][i].end(), out.begin() + i * sizeof(Hash));
    }
    return out;
  }

 private:
  uint64_t n_ = 0;
  uint32_t width_ = 0;
  // Level k has 256 >> k slots; over-allocated as 9 × 256 for simple indexing would
  // waste memory, so each level is sized exactly.
  std::array<std::vector<Hash>, 9> nodes_ = MakeLevels();

  static std::array<std::vector<Hash>, 9> MakeLevels() {
    std::array<std::vector<Hash>, 9> levels;
    for (uint32_t k = 0; k <= 8; ++k) levels[k].resize(256u >> k);
    return levels;
  }
};

}  // namespace pedigree::log
