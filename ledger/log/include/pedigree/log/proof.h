// Merkle proof maths with no I/O (RFC 6962 §2.1.1-2, RFC 9162 §2.1.3-4): which stored
// hashes a root or proof needs, and whether a proof verifies. Storage reaches this code
// only through HashReader. See ../../../../docs/merkle-log.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"

namespace pedigree::log {

// Reads perfect subtree hashes. Node (level, index) is the root of the perfect subtree
// over leaves [index·2^level, (index+1)·2^level); level 0 holds the leaf hashes. Only
// perfect subtrees are ever stored: a ragged right edge is computed from perfect pieces.
// Implementations return an error (e.g. storage.not_found) for a node not yet complete.
class HashReader {
 public:
  virtual ~HashReader();
  virtual Result<Hash> ReadHash(uint32_t level, uint64_t index) = 0;
};

// MTH(D[0:size]): the root of the tree over the first `size` leaves; EmptyRoot() for 0.
// Reads at most one hash per set bit of size.
[[nodiscard]] Result<Hash> TreeRoot(uint64_t size, HashReader& reader);

// MTH(D[begin:end]) for a range whose begin is a multiple of the largest power of two
// not above end-begin (as every subtree of an RFC 6962 tree is). Requires begin < end.
[[nodiscard]] Result<Hash> RangeRoot(uint64_t begin, uint64_t end, HashReader& reader);

// PATH(index, D[0:size]), bottom-up, as RFC 6962 §2.1.1. Requires index < size
// (merkle.index_out_of_range otherwise). Reads O(log size) hashes.
[[nodiscard]] Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                                       HashReader& reader);

// PROOF(size1, D[0:size2]) as RFC 6962 §2.1.2; empty when size1 == size2. Requires
// 0 < size1 (merkle.size_zero) and size1 <= size2 (merkle.size_order).
[[nodiscard]] Result<std::vector<Hash>> ConsistencyProof(uint64_t size1, uint64_t size2,
                                                         HashReader& reader);

// The root that `proof` implies for `leaf_hash` at `index` in a tree of `size`.
// Errors: merkle.size_zero, merkle.index_out_of_range, merkle.wrong_proof_size (the
// proof must have exactly the RFC 9162 length: no truncation, no extra hashes).
[[nodiscard]] Result<Hash> RootFromInclusionProof(uint64_t index, uint64_t size,
                                                  const Hash& leaf_hash,
                                                  std::span<const Hash> proof);

// RFC 9162 §2.1.3.2. As RootFromInclusionProof, plus merkle.root_mismatch.
[[nodiscard]] Status VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf_hash,
                                     std::span<const Hash> proof, const Hash& root);

// RFC 9162 §2.1.4.2 with the transparency-dev edge cases: size1 > size2 is
// merkle.size_order; size1 == 0 is merkle.size_zero (even 0 -> 0); equal sizes need an
// empty proof and equal roots; otherwise the proof must have exactly the expected length
// (merkle.wrong_proof_size) and reproduce both roots (merkle.root_mismatch).
[[nodiscard]] Status VerifyConsistency(uint64_t size1, uint64_t size2, std::span<const Hash> proof,
                                       const Hash& root1, const Hash& root2);

}  // namespace pedigree::log
