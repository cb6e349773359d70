// libFuzzer target: the Merkle proof verifiers on arbitrary sizes, indices, proofs and roots
// must return a value or an error, never crash or loop; and on a real tree (up to 300
// leaves, sizes and indices taken from the input) every proof the prover builds verifies,
// while the same proof with one hash changed, dropped or added is rejected.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <span>
#include <utility>
#include <vector>

#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"

using namespace pedigree;
using namespace pedigree::log;

namespace {

// Consumes the input front to back; reads past the end yield zeros.
class Input {
 public:
  Input(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint64_t U64() {
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | Byte();
    return v;
  }
  uint8_t Byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  Hash TakeHash() {
    Hash h{};
    for (auto& b : h) b = Byte();
    return h;
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
};

// A tree of `n` leaves kept in memory as storage would keep it.
class MemoryTree : public HashReader {
 public:
  explicit MemoryTree(uint64_t n) {
    std::vector<StoredHash> done;
    for (uint64_t i = 0; i < n; ++i) {
      const uint8_t leaf[8] = {static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8)};
      range_.Append(LeafHash(std::span<const uint8_t>(leaf, sizeof leaf)), &done);
      roots_.push_back(range_.Root());
    }
    for (const auto& s : done) nodes_[{s.level, s.index}] = s.hash;
  }
  Result<Hash> ReadHash(uint32_t level, uint64_t index) override {
    auto it = nodes_.find({level, index});
    if (it == nodes_.end()) return Fail("storage.not_found", "no node");
    return it->second;
  }
  const Hash& RootAt(uint64_t size) const { return roots_[size - 1]; }
  Hash Leaf(uint64_t index) { return ReadHash(0, index).value(); }

 private:
  CompactRange range_;
  std::vector<Hash> roots_;
  std::map<std::pair<uint32_t, uint64_t>, Hash> nodes_;
};

MemoryTree& Tree() {
  static MemoryTree tree(300);
  return tree;
}

// Every single-hash mutation of a valid proof must be refused by `verify`.
template <typename Verify>
void CheckTampering(std::vector<Hash> proof, Input& in, Verify verify) {
  if (!verify(std::span<const Hash>(proof))) std::abort();  // the honest proof verifies
  if (!proof.empty()) {
    auto flipped = proof;
    const size_t at = in.Byte() % flipped.size();
    flipped[at][in.Byte() % 32] ^= static_cast<uint8_t>(1u << (in.Byte() % 8));
    if (verify(std::span<const Hash>(flipped))) std::abort();
    auto shorter = proof;
    shorter.pop_back();
    if (verify(std::span<const Hash>(shorter))) std::abort();
  }
  auto longer = proof;
  longer.push_back(in.TakeHash());
  if (verify(std::span<const Hash>(longer))) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  const uint8_t mode = in.Byte();
  if (mode % 2 == 0) {
    // Arbitrary numbers and bytes: only crashes, hangs and UB count.
    const uint64_t a = in.U64(), b = in.U64();
    const Hash leaf = in.TakeHash(), root1 = in.TakeHash(), root2 = in.TakeHash();
    std::vector<Hash> proof;
    while (in.remaining() >= 32 && proof.size() < 80) proof.push_back(in.TakeHash());
    (void)RootFromInclusionProof(a, b, leaf, proof);
    (void)VerifyInclusion(a, b, leaf, proof, root1);
    (void)VerifyConsistency(a, b, proof, root1, root2);
    return 0;
  }
  MemoryTree& tree = Tree();
  const uint64_t size2 = 1 + in.U64() % 300;
  const uint64_t index = in.U64() % size2;
  const uint64_t size1 = 1 + in.U64() % size2;

  auto inclusion = InclusionProof(index, size2, tree);
  if (!inclusion) std::abort();
  const Hash leaf = tree.Leaf(index);
  const Hash& root2 = tree.RootAt(size2);
  CheckTampering(*inclusion, in, [&](std::span<const Hash> p) {
    return VerifyInclusion(index, size2, leaf, p, root2).has_value();
  });

  auto consistency = ConsistencyProof(size1, size2, tree);
  if (!consistency) std::abort();
  const Hash& root1 = tree.RootAt(size1);
  CheckTampering(*consistency, in, [&](std::span<const Hash> p) {
    return VerifyConsistency(size1, size2, p, root1, root2).has_value();
  });
  if (auto root = TreeRoot(size2, tree); !root || *root != root2) std::abort();
  return 0;
}
