#include "pedigree/log/compact_range.h"

#include <bit>

#include "pedigree/log/merkle.h"

namespace pedigree::log {

void CompactRange::Append(const Hash& leaf_hash, std::vector<StoredHash>* completed) {
  Hash carry = leaf_hash;
  uint64_t index = size_;
  uint32_t level = 0;
  if (completed) completed->push_back({0, index, carry});
  // Each trailing one bit of size is a perfect subtree that the new leaf now pairs with.
  while (((size_ >> level) & 1) == 1) {
    carry = NodeHash(hashes_.back(), carry);
    hashes_.pop_back();
    ++level;
    index >>= 1;
    if (completed) completed->push_back({level, index, carry});
  }
  hashes_.push_back(carry);
  ++size_;
}

Hash CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) root = NodeHash(hashes_[i], root);
  return root;
}

Result<CompactRange> CompactRange::FromStorage(uint64_t size, HashReader& reader) {
  CompactRange range;
  range.size_ = size;
  uint64_t begin = 0;
  for (int l = 63; l >= 0; --l) {
    if (((size >> l) & 1) == 0) continue;
    auto h = reader.ReadHash(static_cast<uint32_t>(l), begin >> l);
    if (!h) return std::unexpected(h.error());
    range.hashes_.push_back(*h);
    begin += uint64_t{1} << l;
  }
  return range;
}

}  // namespace pedigree::log
