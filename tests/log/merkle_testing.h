// Test support: an RFC 6962 reference tree computed by the definitions (MTH, PATH,
// PROOF) with memoised subtree roots, and a HashReader over the same leaves.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"

namespace pedigree::log::testing {

class ReferenceTree {
 public:
  explicit ReferenceTree(std::vector<Hash> leaves) : leaves_(std::move(leaves)) {
    const size_t n = leaves_.size();
    mth_.assign((n + 1) * (n + 1), Hash{});
    known_.assign((n + 1) * (n + 1), false);
  }

  // MTH(D[begin:end]) straight from RFC 6962 §2.1.
  Hash Mth(size_t begin, size_t end) {
    if (begin == end) return EmptyRoot();
    const size_t key = begin * (leaves_.size() + 1) + end;
    if (known_[key]) return mth_[key];
    Hash h;
    if (end - begin == 1) {
      h = leaves_[begin];
    } else {
      const size_t k = LargestPowerOfTwoBelow(end - begin);
      h = NodeHash(Mth(begin, begin + k), Mth(begin + k, end));
    }
    known_[key] = true;
    mth_[key] = h;
    return h;
  }

  // PATH(m, D[begin:end]).
  std::vector<Hash> Path(size_t m, size_t begin, size_t end) {
    const size_t n = end - begin;
    if (n <= 1) return {};
    const size_t k = LargestPowerOfTwoBelow(n);
    std::vector<Hash> out;
    if (m < k) {
      out = Path(m, begin, begin + k);
      out.push_back(Mth(begin + k, end));
    } else {
      out = Path(m - k, begin + k, end);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  // PROOF(m, D[0:n]) = SUBPROOF(m, D[0:n], true).
  std::vector<Hash> Proof(size_t m, size_t n) { return SubProof(m, 0, n, true); }

  const std::vector<Hash>& leaves() const { return leaves_; }

  static size_t LargestPowerOfTwoBelow(size_t n) {
    size_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

 private:
  std::vector<Hash> SubProof(size_t m, size_t begin, size_t end, bool b) {
    const size_t n = end - begin;
    if (m == n) {
      if (b) return {};
      return {Mth(begin, end)};
    }
    const size_t k = LargestPowerOfTwoBelow(n);
    std::vector<Hash> out;
    if (m <= k) {
      out = SubProof(m, begin, begin + k, b);
      out.push_back(Mth(begin + k, end));
    } else {
      out = SubProof(m - k, begin + k, end, false);
      out.push_back(Mth(begin, begin + k));
    }
    return out;
  }

  std::vector<Hash> leaves_;
  std::vector<Hash> mth_;
  std::vector<bool> known_;
};

// Every perfect subtree hash of a list of leaves, as a store would hold them.
class PerfectHashes : public HashReader {
 public:
  explicit PerfectHashes(const std::vector<Hash>& leaves) {
    levels_.push_back(leaves);
    while (levels_.back().size() >= 2) {
      const auto& below = levels_.back();
      std::vector<Hash> up;
      for (size_t i = 0; i + 1 < below.size(); i += 2)
        up.push_back(NodeHash(below[i], below[i + 1]));
      levels_.push_back(std::move(up));
    }
  }
  Result<Hash> ReadHash(uint32_t level, uint64_t index) override {
    ++reads;
    if (level >= levels_.size() || index >= levels_[level].size()) {
      return Fail("storage.not_found", "no node");
    }
    return levels_[level][index];
  }
  size_t reads = 0;

 private:
  std::vector<std::vector<Hash>> levels_;
};

inline std::vector<Hash> NumberedLeaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) leaves.push_back(LeafHash(AsBytes("leaf " + std::to_string(i))));
  return leaves;
}

}  // namespace pedigree::log::testing

BOOST_TEST_DONT_PRINT_LOG_VALUE(pedigree::Hash)
BOOST_TEST_DONT_PRINT_LOG_VALUE(pedigree::log::StoredHash)
BOOST_TEST_DONT_PRINT_LOG_VALUE(std::vector<pedigree::Hash>)
