// The right edge of a Merkle tree: the O(log n) state needed to append a leaf and to
// compute the root without reading storage. See ../../../../docs/merkle-log.md.
#pragma once

#include <cstdint>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/log/proof.h"

namespace pedigree::log {

// A perfect subtree hash as storage keeps it: node (level, index) of proof.h.
struct StoredHash {
  uint32_t level;
  uint64_t index;
  Hash hash;
  bool operator==(const StoredHash&) const = default;
};

// The perfect subtree hashes covering [0, size), one per set bit of size, largest first.
// A value type; not thread-safe (copy it to hand it to another thread).
class CompactRange {
 public:
  CompactRange() = default;

  // Adds leaf `size()` and appends to *completed (if not null) every perfect subtree
  // hash this completes, bottom-up: the leaf hash itself (level 0) first.
  void Append(const Hash& leaf_hash, std::vector<StoredHash>* completed);

  // MTH of the leaves appended so far; EmptyRoot() when empty.
  Hash Root() const;
  uint64_t size() const { return size_; }
  // The right-edge hashes, largest subtree first.
  const std::vector<Hash>& hashes() const { return hashes_; }

  // Resumes the range of a stored tree of `size` leaves by reading one hash per set bit.
  [[nodiscard]] static Result<CompactRange> FromStorage(uint64_t size, HashReader& reader);

 private:
  uint64_t size_ = 0;
  std::vector<Hash> hashes_;
};

}  // namespace pedigree::log
