// Test support for witnesses: a log built with ledger/log (RFC 6962 leaves, roots and
// consistency proofs from the reference tree) that signs checkpoints of any size with its
// Ed25519 note key, and the add-checkpoint bodies a witness client would send.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "log/merkle_testing.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/witness.h"

namespace pedigree::testing {

inline log::PrivateKey WitnessTestKey(uint8_t first) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(first + i);
  auto key = log::PrivateKey::FromSeed(seed);
  BOOST_REQUIRE(key.has_value());
  return std::move(*key);
}

class SigningLog {
 public:
  static constexpr size_t kLeaves = 80;

  explicit SigningLog(std::string origin = "example.org/witnessed-log", uint8_t seed = 0x00)
      : signer_(std::move(origin), WitnessTestKey(seed)), tree_(Leaves()) {}

  const std::string& origin() const { return signer_.name(); }
  std::string vkey() const { return signer_.VerifierKey(); }
  const log::NoteSigner& signer() const { return signer_; }

  Hash Root(uint64_t size) { return tree_.Mth(0, size); }
  std::vector<Hash> Proof(uint64_t from, uint64_t to) {
    if (from == 0 || from == to) return {};
    return tree_.Proof(from, to);
  }
  std::string Text(uint64_t size) {
    return log::FormatCheckpoint(log::Checkpoint{origin(), size, Root(size)});
  }
  // The checkpoint of `size` signed by this log.
  std::string Note(uint64_t size) { return log::SignNote(Text(size), signer_); }
  // A correct add-checkpoint body from `old` to `size`.
  std::string Body(uint64_t old, uint64_t size) {
    return log::FormatAddCheckpoint(old, Proof(old, size), Note(size));
  }

 private:
  static std::vector<Hash> Leaves() {
    std::vector<Hash> out;
    for (size_t i = 0; i < kLeaves; ++i) out.push_back(log::LeafHash("entry " + std::to_string(i)));
    return out;
  }

  log::NoteSigner signer_;
  log::testing::ReferenceTree tree_;
};

}  // namespace pedigree::testing
