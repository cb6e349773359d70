#include "pedigree/log/merkle.h"

#include <boost/test/unit_test.hpp>

#include "merkle_testing.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/proof.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::log::testing::NumberedLeaves;
using pedigree::log::testing::PerfectHashes;
using pedigree::log::testing::ReferenceTree;

namespace {

Hash B64(std::string_view b64) { return HashFromBase64(b64).value(); }

// The eight leaves of transparency-dev/merkle testonly/constants.go LeafInputs() (also
// google/certificate-transparency merkle_tree_test.cc), as in ledger-formats.md §1.
std::vector<Hash> ReferenceLeaves() {
  const char* inputs[] = {"",
                          "00",
                          "10",
                          "2021",
                          "3031",
                          "40414243",
                          "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"};
  std::vector<Hash> leaves;
  for (const char* hex : inputs) leaves.push_back(LeafHash(FromHex(hex).value()));
  return leaves;
}

bool Abbreviated(const Hash& h, std::string_view head, std::string_view tail) {
  const std::string hex = ToHex(h);
  return hex.starts_with(head) && hex.ends_with(tail);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(merkle)

BOOST_AUTO_TEST_CASE(hash_functions_match_rfc6962_go_vectors) {
  // transparency-dev/merkle rfc6962/rfc6962_test.go
  BOOST_TEST(ToHex(LeafHash(AsBytes("L123456"))) ==
             "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56");
  // HashChildren("N123", "N456"): the children are raw bytes, not hashes, so build the
  // same input by hand: SHA-256(0x01 ‖ "N123" ‖ "N456").
  BOOST_TEST(ToHex(Sha256(std::string_view("\x01N123N456", 9))) ==
             "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb");
  // echo -n | sha256sum
  BOOST_TEST(ToHex(EmptyRoot()) ==
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // NodeHash is SHA-256(0x01 ‖ l ‖ r).
  const Hash l = Sha256(std::string_view("l")), r = Sha256(std::string_view("r"));
  std::string input("\x01");
  input.append(reinterpret_cast<const char*>(l.data()), 32);
  input.append(reinterpret_cast<const char*>(r.data()), 32);
  BOOST_TEST(NodeHash(l, r) == Sha256(std::string_view(input)));
  // Entries above the stack buffer take the heap path and agree with Sha256.
  const std::string big(10000, 'x');
  BOOST_TEST(LeafHash(AsBytes(big)) == Sha256(std::string_view(std::string(1, '\0') + big)));
}

BOOST_AUTO_TEST_CASE(roots_match_published_vectors) {
  // ledger-formats.md §1, recomputed there with Python and Go's tlog.TreeHash.
  const std::pair<uint64_t, const char*> cases[] = {
      {0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
      {1, "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"},
      {2, "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"},
      {3, "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"},
      {8, "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"},
  };
  PerfectHashes hashes(ReferenceLeaves());
  for (const auto& [n, root] : cases) {
    BOOST_TEST_CONTEXT("n=" << n) {
      BOOST_TEST(ToHex(TreeRoot(n, hashes).value()) == root);
      CompactRange range;
      for (uint64_t i = 0; i < n; ++i) range.Append(ReferenceLeaves()[i], nullptr);
      BOOST_TEST(ToHex(range.Root()) == root);
    }
  }
}

BOOST_AUTO_TEST_CASE(proofs_match_published_vectors) {
  const auto leaves = ReferenceLeaves();
  PerfectHashes hashes(leaves);
  const Hash root8 = TreeRoot(8, hashes).value();

  // Inclusion 5@8 (ledger-formats.md §1; Go tlog.ProveRecord gives the same).
  const auto incl = InclusionProof(5, 8, hashes).value();
  BOOST_REQUIRE_EQUAL(incl.size(), 3u);
  BOOST_TEST(Abbreviated(incl[0], "bc1a0643", "599e6b"));
  BOOST_TEST(Abbreviated(incl[1], "ca854ea1", "5a0ae0"));
  BOOST_TEST(Abbreviated(incl[2], "d37ee418", "9614b7"));
  BOOST_TEST(VerifyInclusion(5, 8, leaves[5], incl, root8).has_value());

  // Consistency 6 -> 8.
  const auto c68 = ConsistencyProof(6, 8, hashes).value();
  BOOST_REQUIRE_EQUAL(c68.size(), 3u);
  BOOST_TEST(Abbreviated(c68[0], "0ebc5d34", "58ef6a"));
  BOOST_TEST(Abbreviated(c68[1], "ca854ea1", "5a0ae0"));
  BOOST_TEST(Abbreviated(c68[2], "d37ee418", "9614b7"));
  BOOST_TEST(VerifyConsistency(6, 8, c68, TreeRoot(6, hashes).value(), root8).has_value());

  // Consistency 3 -> 7; the third hash is the root of size 2.
  const auto c37 = ConsistencyProof(3, 7, hashes).value();
  BOOST_REQUIRE_EQUAL(c37.size(), 4u);
  BOOST_TEST(Abbreviated(c37[0], "0298d122", "7a7fe7"));
  BOOST_TEST(Abbreviated(c37[1], "07506a85", "4487e7"));
  BOOST_TEST(ToHex(c37[2]) == "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125");
  BOOST_TEST(ToHex(c37[3]) == "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e");
  BOOST_TEST(VerifyConsistency(3, 7, c37, TreeRoot(3, hashes).value(), TreeRoot(7, hashes).value())
                 .has_value());
}

// A handful of transparency-dev/merkle testdata/ JSON cases (paths cited per row),
// decoded by hand into a table. All are over the eight ReferenceLeaves().
BOOST_AUTO_TEST_CASE(transparency_dev_inclusion_vectors) {
  const std::vector<Hash> proof0 = {B64("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="),
                                    B64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="),
                                    B64("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=")};
  const Hash root = B64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  const Hash leaf0 = B64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=");
  auto flipped = proof0;
  flipped[1][0] ^= 0x10;  // "Xwg/" -> "Twg/": bit 4 of byte 0 of proof[1]
  auto truncated = proof0;
  truncated.pop_back();
  struct Case {
    const char* file;
    uint64_t index, size;
    std::vector<Hash> proof;
    const char* want;  // "" = valid
  } cases[] = {
      {"testdata/inclusion/1/happy-path.json", 0, 8, proof0, ""},
      {"testdata/inclusion/1/leafIdx-+-1.json", 1, 8, proof0, "merkle.root_mismatch"},
      {"testdata/inclusion/1/modified-proof[1]-bit-4 (derived)", 0, 8, flipped,
       "merkle.root_mismatch"},
      {"testdata/inclusion/1/removed-component.json", 0, 8, truncated, "merkle.wrong_proof_size"},
      {"testdata/inclusion/1/treeSize-*-2.json", 0, 16, proof0, "merkle.wrong_proof_size"},
  };
  PerfectHashes hashes(ReferenceLeaves());
  BOOST_TEST(leaf0 == ReferenceLeaves()[0]);
  BOOST_TEST(root == TreeRoot(8, hashes).value());
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.file) {
      auto st = VerifyInclusion(c.index, c.size, leaf0, c.proof, root);
      if (std::string(c.want).empty()) {
        BOOST_TEST(st.has_value());
      } else {
        BOOST_REQUIRE(!st.has_value());
        BOOST_TEST(st.error().code() == c.want);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(transparency_dev_consistency_vectors) {
  const Hash root1 = B64("bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=");
  const Hash root8 = B64("XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  const std::vector<Hash> proof1_8 = {B64("lqKW0iTyhcZ77pPDD4owkVfw2qNdxbh+QQt4YwoJz8c="),
                                      B64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="),
                                      B64("a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=")};
  const Hash root2 = B64("+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=");
  const Hash root5 = B64("Tju7H3tHjc/nH7YxYxUZo7yhLJrvyhYSv85ME6hiZNQ=");
  const std::vector<Hash> proof2_5 = {B64("Xwg/ChozygdqlSeYMlgNs+DvRYS9/x9UyKNg9Q3jAx4="),
                                      B64("vBoGQ7EuTS18d5GPROD095qDi2z57FtcKD4fTYhZnms=")};
  auto flipped = proof1_8;
  flipped[1][0] ^= 0x10;
  auto truncated = proof1_8;
  truncated.pop_back();
  auto preceding = proof1_8;
  preceding.insert(preceding.begin(), root1);
  struct Case {
    const char* file;
    uint64_t size1, size2;
    Hash r1, r2;
    std::vector<Hash> proof;
    const char* want;
  } cases[] = {
      {"testdata/consistency/1/happy-path.json", 1, 8, root1, root8, proof1_8, ""},
      {"testdata/consistency/3/happy-path.json", 2, 5, root2, root5, proof2_5, ""},
      {"testdata/consistency/1/modified-proof[1]-bit-4.json", 1, 8, root1, root8, flipped,
       "merkle.root_mismatch"},
      {"testdata/consistency/1/truncated-proof.json", 1, 8, root1, root8, truncated,
       "merkle.wrong_proof_size"},
      {"testdata/consistency/1/preceding-root1.json", 1, 8, root1, root8, preceding,
       "merkle.wrong_proof_size"},
      {"testdata/consistency/1/swapped-roots.json", 1, 8, root8, root1, proof1_8,
       "merkle.root_mismatch"},
      {"testdata/consistency/1/empty-proof.json",
       1,
       8,
       root1,
       root8,
       {},
       "merkle.wrong_proof_size"},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.file) {
      auto st = VerifyConsistency(c.size1, c.size2, c.proof, c.r1, c.r2);
      if (std::string(c.want).empty()) {
        BOOST_TEST(st.has_value());
      } else {
        BOOST_REQUIRE(!st.has_value());
        BOOST_TEST(st.error().code() == c.want);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(every_inclusion_and_consistency_proof_up_to_300_matches_the_rfc) {
  // All (index, size) and (size1, size2) pairs for size <= 300: ≈ 45k of each.
  constexpr size_t kMax = 300;
  ReferenceTree reference(NumberedLeaves(kMax));
  PerfectHashes hashes(reference.leaves());
  CompactRange range;
  for (size_t n = 1; n <= kMax; ++n) {
    range.Append(reference.leaves()[n - 1], nullptr);
    const Hash root = reference.Mth(0, n);
    BOOST_REQUIRE(range.Root() == root);
    hashes.reads = 0;
    BOOST_REQUIRE(TreeRoot(n, hashes).value() == root);
    BOOST_REQUIRE(hashes.reads <= 64u);
    for (size_t i = 0; i < n; ++i) {
      hashes.reads = 0;
      const auto proof = InclusionProof(i, n, hashes).value();
      BOOST_REQUIRE(hashes.reads <= 2u * 9u + 2u);  // O(log n)
      if (proof != reference.Path(i, 0, n)) BOOST_FAIL("PATH differs at " << i << "@" << n);
      if (!VerifyInclusion(i, n, reference.leaves()[i], proof, root)) {
        BOOST_FAIL("inclusion " << i << "@" << n << " does not verify");
      }
    }
    for (size_t m = 1; m <= n; ++m) {
      const auto proof = ConsistencyProof(m, n, hashes).value();
      if (proof != reference.Proof(m, n)) BOOST_FAIL("PROOF differs at " << m << "->" << n);
      if (!VerifyConsistency(m, n, proof, reference.Mth(0, m), root)) {
        BOOST_FAIL("consistency " << m << "->" << n << " does not verify");
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(compact_range_reports_every_completed_perfect_subtree) {
  const auto leaves = NumberedLeaves(300);
  PerfectHashes reference(leaves);
  CompactRange range;
  size_t reported = 0;
  std::vector<StoredHash> completed;
  for (size_t i = 0; i < leaves.size(); ++i) {
    completed.clear();
    range.Append(leaves[i], &completed);
    BOOST_REQUIRE(!completed.empty());
    BOOST_TEST(completed[0] == (StoredHash{0, i, leaves[i]}));
    for (const auto& h : completed) {
      BOOST_REQUIRE(reference.ReadHash(h.level, h.index).value() == h.hash);
    }
    reported += completed.size();
    auto resumed = CompactRange::FromStorage(i + 1, reference).value();
    BOOST_REQUIRE(resumed.Root() == range.Root());
    BOOST_REQUIRE(resumed.hashes() == range.hashes());
  }
  // A tree of n leaves has n leaves plus, per level l, floor(n / 2^l) perfect nodes.
  size_t want = 0;
  for (size_t l = 0; (size_t{1} << l) <= leaves.size(); ++l) want += leaves.size() >> l;
  BOOST_TEST(reported == want);
}

BOOST_AUTO_TEST_CASE(inclusion_proof_tampering_is_rejected_with_specific_errors) {
  ReferenceTree reference(NumberedLeaves(64));
  PerfectHashes hashes(reference.leaves());
  const std::pair<uint64_t, uint64_t> pairs[] = {{0, 1},   {0, 2},   {5, 8},   {6, 7}, {12, 13},
                                                 {20, 37}, {36, 37}, {31, 64}, {0, 63}};
  for (const auto& [index, size] : pairs) {
    BOOST_TEST_CONTEXT(index << "@" << size) {
      const Hash leaf = reference.leaves()[index];
      const Hash root = reference.Mth(0, size);
      const auto proof = InclusionProof(index, size, hashes).value();
      BOOST_REQUIRE(VerifyInclusion(index, size, leaf, proof, root).has_value());
      // Every bit position class (first/middle/last byte, low/high bit) of every hash.
      for (size_t p = 0; p < proof.size(); ++p) {
        for (size_t byte : {size_t{0}, size_t{15}, size_t{31}}) {
          for (uint8_t bit : {uint8_t{0x01}, uint8_t{0x80}}) {
            auto bad = proof;
            bad[p][byte] ^= bit;
            BOOST_TEST(VerifyInclusion(index, size, leaf, bad, root).error().code() ==
                       "merkle.root_mismatch");
          }
        }
      }
      Hash bad_leaf = leaf;
      bad_leaf[7] ^= 0x04;
      BOOST_TEST(VerifyInclusion(index, size, bad_leaf, proof, root).error().code() ==
                 "merkle.root_mismatch");
      Hash bad_root = root;
      bad_root[31] ^= 0x01;
      auto mismatch = VerifyInclusion(index, size, leaf, proof, bad_root);
      BOOST_TEST(mismatch.error().code() == "merkle.root_mismatch");
      BOOST_TEST(mismatch.error().message().find(ToHex(bad_root)) != std::string::npos);
      BOOST_TEST(mismatch.error().message().find(ToHex(root)) != std::string::npos);
      if (!proof.empty()) {
        auto truncated = proof;
        truncated.pop_back();
        BOOST_TEST(VerifyInclusion(index, size, leaf, truncated, root).error().code() ==
                   "merkle.wrong_proof_size");
      }
      auto appended = proof;
      appended.push_back(root);
      BOOST_TEST(VerifyInclusion(index, size, leaf, appended, root).error().code() ==
                 "merkle.wrong_proof_size");
      auto prepended = proof;
      prepended.insert(prepended.begin(), leaf);
      BOOST_TEST(VerifyInclusion(index, size, leaf, prepended, root).error().code() ==
                 "merkle.wrong_proof_size");
      // A wrong index or a size of another shape changes the expected length or the
      // root. (A size with the same shape, e.g. 37 -> 38 for index 20, legitimately
      // gives the same calculation: the size is authenticated by the checkpoint.)
      for (auto [i2, s2] :
           {std::pair{index + 1, size}, std::pair{index ^ 1, size}, std::pair{index, size * 2}}) {
        if (i2 == index && s2 == size) continue;
        auto st = VerifyInclusion(i2, s2, leaf, proof, root);
        BOOST_REQUIRE(!st.has_value());
        BOOST_TEST((st.error().code() == "merkle.root_mismatch" ||
                    st.error().code() == "merkle.wrong_proof_size" ||
                    st.error().code() == "merkle.index_out_of_range"));
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(inclusion_index_beyond_size_and_size_zero_are_rejected) {
  const Hash h{};
  auto out = VerifyInclusion(9, 8, h, {}, h);
  BOOST_TEST(out.error().code() == "merkle.index_out_of_range");
  BOOST_TEST(out.error().message() == "index 9 out of bounds for tree size 8");
  BOOST_TEST(VerifyInclusion(8, 8, h, {}, h).error().code() == "merkle.index_out_of_range");
  BOOST_TEST(VerifyInclusion(0, 0, h, {}, h).error().code() == "merkle.size_zero");
  PerfectHashes hashes(NumberedLeaves(8));
  BOOST_TEST(InclusionProof(8, 8, hashes).error().code() == "merkle.index_out_of_range");
  // A proof that needs hashes the store does not have fails with the store's error.
  BOOST_TEST(InclusionProof(3, 9, hashes).error().code() == "storage.not_found");
}

BOOST_AUTO_TEST_CASE(consistency_proof_tampering_is_rejected_with_specific_errors) {
  ReferenceTree reference(NumberedLeaves(64));
  PerfectHashes hashes(reference.leaves());
  const std::pair<uint64_t, uint64_t> pairs[] = {{1, 2}, {1, 8},  {3, 7},   {4, 8},
                                                 {6, 8}, {7, 64}, {32, 33}, {13, 50}};
  for (const auto& [m, n] : pairs) {
    BOOST_TEST_CONTEXT(m << "->" << n) {
      const Hash r1 = reference.Mth(0, m), r2 = reference.Mth(0, n);
      const auto proof = ConsistencyProof(m, n, hashes).value();
      BOOST_REQUIRE(VerifyConsistency(m, n, proof, r1, r2).has_value());
      for (size_t p = 0; p < proof.size(); ++p) {
        for (size_t byte : {size_t{0}, size_t{31}}) {
          auto bad = proof;
          bad[p][byte] ^= 0x10;
          BOOST_TEST(VerifyConsistency(m, n, bad, r1, r2).error().code() == "merkle.root_mismatch");
        }
      }
      auto truncated = proof;
      truncated.pop_back();
      BOOST_TEST(VerifyConsistency(m, n, truncated, r1, r2).error().code() ==
                 "merkle.wrong_proof_size");
      auto appended = proof;
      appended.push_back(r2);
      BOOST_TEST(VerifyConsistency(m, n, appended, r1, r2).error().code() ==
                 "merkle.wrong_proof_size");
      auto prepended = proof;
      prepended.insert(prepended.begin(), r1);
      BOOST_TEST(VerifyConsistency(m, n, prepended, r1, r2).error().code() ==
                 "merkle.wrong_proof_size");
      BOOST_TEST(VerifyConsistency(m, n, proof, r2, r1).error().code() == "merkle.root_mismatch");
      BOOST_TEST(!VerifyConsistency(m, n * 2, proof, r1, r2).has_value());
      BOOST_TEST(!VerifyConsistency(m + 1, n, proof, r1, r2).has_value());
    }
  }
}

BOOST_AUTO_TEST_CASE(consistency_edge_cases_follow_transparency_dev) {
  const Hash a = Sha256(std::string_view("a")), b = Sha256(std::string_view("b"));
  BOOST_TEST(VerifyConsistency(0, 0, {}, a, a).error().code() == "merkle.size_zero");
  BOOST_TEST(VerifyConsistency(0, 5, {}, a, b).error().code() == "merkle.size_zero");
  BOOST_TEST(VerifyConsistency(5, 4, {}, a, b).error().code() == "merkle.size_order");
  BOOST_TEST(VerifyConsistency(5, 5, {}, a, a).has_value());
  BOOST_TEST(VerifyConsistency(5, 5, {}, a, b).error().code() == "merkle.root_mismatch");
  const Hash one[] = {a};
  BOOST_TEST(VerifyConsistency(5, 5, one, a, a).error().code() == "merkle.wrong_proof_size");
  BOOST_TEST(VerifyConsistency(5, 6, {}, a, b).error().code() == "merkle.wrong_proof_size");
  PerfectHashes hashes(NumberedLeaves(8));
  BOOST_TEST(ConsistencyProof(0, 3, hashes).error().code() == "merkle.size_zero");
  BOOST_TEST(ConsistencyProof(4, 3, hashes).error().code() == "merkle.size_order");
  BOOST_TEST(ConsistencyProof(3, 3, hashes).value().empty());
}

BOOST_AUTO_TEST_SUITE_END()
