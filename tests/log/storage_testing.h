// Shared by the storage tests: the LogStorage contract every backend must meet, and
// helpers that append ranges and check stored trees against the RFC 6962 reference.
#pragma once

#include <boost/test/unit_test.hpp>
#include <functional>
#include <string>
#include <vector>

#include "merkle_testing.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/storage.h"

namespace pedigree::log::testing {

inline std::string EntryText(uint64_t i) { return "entry-" + std::to_string(i); }

// Appends entries [size, size+count) in one Append call, keyed "key-<i>".
inline Status AppendRange(LogStorage& storage, CompactRange& range, uint64_t count,
                          const std::function<Status()>& within = {}) {
  std::vector<std::string> entries, keys;
  std::vector<StoredHash> hashes;
  const uint64_t first = range.size();
  CompactRange next = range;
  for (uint64_t i = first; i < first + count; ++i) {
    entries.push_back(EntryText(i));
    keys.push_back("key-" + std::to_string(i));
    next.Append(LeafHash(AsBytes(entries.back())), &hashes);
  }
  auto st = storage.Append(first, entries, keys, hashes, within);
  if (st) range = next;
  return st;
}

// Checks every stored hash, root and proof of `storage` against the RFC definitions.
inline void CheckAgainstReference(LogStorage& storage, uint64_t size) {
  std::vector<Hash> leaves;
  for (uint64_t i = 0; i < size; ++i) leaves.push_back(LeafHash(AsBytes(EntryText(i))));
  ReferenceTree reference(leaves);
  BOOST_REQUIRE(TreeRoot(size, storage).value() == reference.Mth(0, size));
  for (uint64_t n : {uint64_t{1}, size / 3 + 1, size / 2 + 1, size - 1, size}) {
    if (n == 0 || n > size) continue;
    for (uint64_t i = 0; i < n; i += 1 + n / 40) {
      BOOST_REQUIRE(InclusionProof(i, n, storage).value() == reference.Path(i, 0, n));
    }
    BOOST_REQUIRE(ConsistencyProof(n, size, storage).value() == reference.Proof(n, size));
  }
}

inline void StorageContract(LogStorage& storage) {
  CompactRange range;
  BOOST_TEST(storage.Size().value() == 0u);
  BOOST_TEST(TreeRoot(0, storage).value() == EmptyRoot());
  // Batches that straddle tile boundaries: 1, 255, 1, 300, ... up to 1100 entries.
  for (uint64_t count : {1, 255, 1, 300, 243, 300}) {
    BOOST_REQUIRE(AppendRange(storage, range, count).has_value());
  }
  BOOST_TEST(storage.Size().value() == 1100u);
  CheckAgainstReference(storage, 1100);
  BOOST_TEST(storage.ReadEntry(7).value() == "entry-7");
  BOOST_TEST(storage.ReadEntry(1100).error().code() == "storage.not_found");
  auto some = storage.ReadEntries(254, 258).value();
  BOOST_TEST(some ==
             (std::vector<std::string>{"entry-254", "entry-255", "entry-256", "entry-257"}));
  BOOST_TEST(storage.ReadEntries(1000, 1101).error().code() == "storage.not_found");
  BOOST_TEST(storage.FindIdempotencyKey("key-300").value().value() == 300u);
  BOOST_TEST(!storage.FindIdempotencyKey("key-x").value().has_value());
  const std::vector<std::string_view> lookup = {"key-300", "key-x", "key-0", "key-1099"};
  BOOST_TEST(storage.FindIdempotencyKeys(lookup).value() ==
             (std::vector<std::optional<uint64_t>>{300, std::nullopt, 0, 1099}));
  BOOST_TEST(storage.FindIdempotencyKeys({}).value().empty());
  // An append that does not start at the end is refused.
  std::vector<std::string> one = {"x"};
  BOOST_TEST(storage.Append(5, one, {}, {}).error().code() == "storage.append_conflict");
  BOOST_TEST(storage.Append(1101, one, {}, {}).error().code() == "storage.append_gap");
  // A failing `within` writes nothing.
  auto failed = AppendRange(storage, range, 3, [] { return Status(Fail("test.refused", "no")); });
  BOOST_TEST(failed.error().code() == "test.refused");
  BOOST_TEST(storage.Size().value() == 1100u);
  BOOST_TEST(!storage.FindIdempotencyKey("key-1100").value().has_value());
  BOOST_TEST(storage.ReadHash(0, 1100).error().code() == "storage.not_found");
  // Checkpoints: same root again is fine, another root for the same size is refused.
  const Hash root = range.Root();
  BOOST_TEST(!storage.LatestCheckpoint().value().has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({1100, root, "note"}).has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({1100, root, "note"}).has_value());
  BOOST_REQUIRE(storage.StoreCheckpoint({3, TreeRoot(3, storage).value(), "n3"}).has_value());
  Hash other = root;
  other[0] ^= 1;
  BOOST_TEST(storage.StoreCheckpoint({1100, other, "x"}).error().code() ==
             "storage.checkpoint_conflict");
  BOOST_TEST(storage.LatestCheckpoint().value()->size == 1100u);
  BOOST_TEST(storage.CheckpointAt(3).value()->note == "n3");
  BOOST_TEST(!storage.CheckpointAt(4).value().has_value());
  BOOST_TEST(storage.CheckpointSizes().value() == (std::vector<uint64_t>{3, 1100}));
  // Meta.
  BOOST_TEST(storage.GetMeta("origin").error().code() == "storage.not_found");
  BOOST_REQUIRE(storage.SetMeta("origin", "example.org/log").has_value());
  BOOST_REQUIRE(storage.SetMeta("origin", "example.org/log2").has_value());
  BOOST_TEST(storage.GetMeta("origin").value() == "example.org/log2");
}

}  // namespace pedigree::log::testing
