#include "pedigree/log/proof.h"

#include <bit>
#include <string>

#include "pedigree/log/merkle.h"

namespace pedigree::log {

HashReader::~HashReader() = default;

namespace {

// RFC 9162's proof split: `inner` hashes below the level where the paths of `index` and
// of the last leaf meet, then `border` hashes of left siblings on the right edge.
struct ProofShape {
  uint32_t inner;
  uint32_t border;
};

ProofShape DecomposeInclusionProof(uint64_t index, uint64_t size) {
  const auto inner = static_cast<uint32_t>(std::bit_width(index ^ (size - 1)));
  const auto border = static_cast<uint32_t>(std::popcount(inner >= 64 ? 0 : index >> inner));
  return {inner, border};
}

// Folds the inner part of a proof: at each level the bit of `index` says on which side
// the proof hash lies.
Hash ChainInner(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    seed = ((index >> i) & 1) == 0 ? NodeHash(seed, proof[i]) : NodeHash(proof[i], seed);
  }
  return seed;
}

// As ChainInner, but only the left siblings count: recomputes the old tree's root
// from the same path in a consistency proof.
Hash ChainInnerRight(Hash seed, std::span<const Hash> proof, uint64_t index) {
  for (size_t i = 0; i < proof.size(); ++i) {
    if (((index >> i) & 1) == 1) seed = NodeHash(proof[i], seed);
  }
  return seed;
}

Hash ChainBorderRight(Hash seed, std::span<const Hash> proof) {
  for (const Hash& h : proof) seed = NodeHash(h, seed);
  return seed;
}

std::unexpected<Error> WrongProofSize(size_t got, size_t want) {
  return Fail("merkle.wrong_proof_size", "wrong proof size: got " + std::to_string(got) +
                                             " hashes, expected " + std::to_string(want));
}

std::unexpected<Error> RootMismatch(const std::string& which, const Hash& expected,
                                    const Hash& calculated) {
  return Fail("merkle.root_mismatch", which + " mismatch: expected " + ToHex(expected) +
                                          ", calculated " + ToHex(calculated));
}

// The path of perfect node (level, index) up to the root of the tree of `size`: the
// sibling at each level, bottom-up; a sibling that straddles the right edge is computed
// from its perfect pieces (at most one level has one).
Status AppendPath(uint32_t level, uint64_t index, uint64_t size, HashReader& reader,
                  std::vector<Hash>& out) {
  for (uint32_t l = level; l < 64 && (uint64_t{1} << l) < size; ++l) {
    const uint64_t sibling = (index >> (l - level)) ^ 1;
    if (sibling > (size - 1) >> l) continue;  // no right sibling: the node is promoted
    const uint64_t begin = sibling << l;
    const uint64_t width = uint64_t{1} << l;
    if (size - begin >= width) {
      auto h = reader.ReadHash(l, sibling);
      if (!h) return std::unexpected(h.error());
      out.push_back(*h);
    } else {
      auto h = RangeRoot(begin, size, reader);
      if (!h) return std::unexpected(h.error());
      out.push_back(*h);
    }
  }
  return Ok();
}

}  // namespace

Result<Hash> RangeRoot(uint64_t begin, uint64_t end, HashReader& reader) {
  if (begin >= end) {
    return Fail("merkle.size_zero",
                "empty range [" + std::to_string(begin) + ", " + std::to_string(end) + ")");
  }
  // Pieces in descending size: the binary digits of end - begin.
  Hash pieces[64];
  int count = 0;
  uint64_t at = begin;
  const uint64_t n = end - begin;
  for (int l = 63; l >= 0; --l) {
    if (((n >> l) & 1) == 0) continue;
    auto h = reader.ReadHash(static_cast<uint32_t>(l), at >> l);
    if (!h) return std::unexpected(h.error());
    pieces[count++] = *h;
    at += uint64_t{1} << l;
  }
  Hash root = pieces[count - 1];
  for (int i = count - 2; i >= 0; --i) root = NodeHash(pieces[i], root);
  return root;
}

Result<Hash> TreeRoot(uint64_t size, HashReader& reader) {
  if (size == 0) return EmptyRoot();
  return RangeRoot(0, size, reader);
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, HashReader& reader) {
  if (index >= size) {
    return Fail(
        "merkle.index_out_of_range",
        "index " + std::to_string(index) + " out of bounds for tree size " + std::to_string(size));
  }
  std::vector<Hash> proof;
  proof.reserve(64);
  if (auto st = AppendPath(0, index, size, reader, proof); !st) {
    return std::unexpected(st.error());
  }
  return proof;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2, HashReader& reader) {
  if (size1 > size2) {
    return Fail("merkle.size_order",
                "size1 " + std::to_string(size1) + " > size2 " + std::to_string(size2));
  }
  if (size1 == 0) return Fail("merkle.size_zero", "consistency proof from an empty tree");
  std::vector<Hash> proof;
  if (size1 == size2) return proof;
  proof.reserve(64);
  // The old tree's rightmost perfect node; the proof is its path in the new tree,
  // preceded by the node itself unless it is the whole old tree.
  const auto level = static_cast<uint32_t>(std::countr_zero(size1));
  const uint64_t index = (size1 - 1) >> level;
  if (index != 0) {
    auto h = reader.ReadHash(level, index);
    if (!h) return std::unexpected(h.error());
    proof.push_back(*h);
  }
  if (auto st = AppendPath(level, index, size2, reader, proof); !st) {
    return std::unexpected(st.error());
  }
  return proof;
}

Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                    std::span<const Hash> proof) {
  if (size == 0) return Fail("merkle.size_zero", "inclusion proof in an empty tree");
  if (index >= size) {
    return Fail(
        "merkle.index_out_of_range",
        "index " + std::to_string(index) + " out of bounds for tree size " + std::to_string(size));
  }
  const auto [inner, border] = DecomposeInclusionProof(index, size);
  if (proof.size() != size_t{inner} + border) return WrongProofSize(proof.size(), inner + border);
  const Hash h = ChainInner(leaf_hash, proof.first(inner), index);
  return ChainBorderRight(h, proof.subspan(inner));
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                       std::span<const Hash> proof, const Hash& root) {
  auto calculated = RootFromInclusionProof(index, size, leaf_hash, proof);
  if (!calculated) return std::unexpected(calculated.error());
  if (*calculated != root) return RootMismatch("root", root, *calculated);
  return Ok();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                         const Hash& root1, const Hash& root2) {
  if (size2 < size1) {
    return Fail("merkle.size_order",
                "size2 " + std::to_string(size2) + " < size1 " + std::to_string(size1));
  }
  if (size1 == 0) return Fail("merkle.size_zero", "consistency proof from an empty tree");
  if (size1 == size2) {
    if (!proof.empty()) return WrongProofSize(proof.size(), 0);
    if (root1 != root2) return RootMismatch("root2 (equal sizes)", root1, root2);
    return Ok();
  }
  if (proof.empty()) return WrongProofSize(0, 1);

  auto [inner, border] = DecomposeInclusionProof(size1 - 1, size2);
  const auto shift = static_cast<uint32_t>(std::countr_zero(size1));
  inner -= shift;
  // When size1 is a power of two its root is the first node of the path and the proof
  // omits it (RFC 9162 §2.1.4.2 step 2).
  Hash seed = proof[0];
  size_t start = 1;
  if (size1 == uint64_t{1} << shift) {
    seed = root1;
    start = 0;
  }
  const size_t want = start + inner + border;
  if (proof.size() != want) return WrongProofSize(proof.size(), want);
  proof = proof.subspan(start);

  const uint64_t mask = (size1 - 1) >> shift;
  Hash hash1 = ChainInnerRight(seed, proof.first(inner), mask);
  hash1 = ChainBorderRight(hash1, proof.subspan(inner));
  if (hash1 != root1) return RootMismatch("root1", root1, hash1);
  Hash hash2 = ChainInner(seed, proof.first(inner), mask);
  hash2 = ChainBorderRight(hash2, proof.subspan(inner));
  if (hash2 != root2) return RootMismatch("root2", root2, hash2);
  return Ok();
}

}  // namespace pedigree::log
