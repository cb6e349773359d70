// Test support: a small verifiable log on MemoryStorage with a signed checkpoint, so that
// trial tests can put a trial.seal envelope on a log and fetch the evidence a disclosure
// carries, without the provenance rules.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "pedigree/ledger/compact_range.h"
#include "pedigree/ledger/envelope.h"
#include "pedigree/ledger/keys.h"
#include "pedigree/ledger/merkle.h"
#include "pedigree/ledger/note.h"
#include "pedigree/ledger/storage.h"
#include "pedigree/reports/trial_seal.h"

namespace pedigree::testing {

inline ledger::PrivateKey SeededKey(uint8_t first) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(first + i);
  auto key = ledger::PrivateKey::FromSeed(seed);
  BOOST_REQUIRE(key.has_value());
  return std::move(*key);
}

class TestLog {
 public:
  TestLog() : signer_("log.example/trials", SeededKey(0x10)) {}

  uint64_t Append(const std::string& entry) {
    std::vector<ledger::StoredHash> done;
    range_.Append(ledger::LeafHash(entry), &done);
    const uint64_t index = range_.size() - 1;
    const std::vector<std::string> entries{entry};
    BOOST_REQUIRE(storage_.Append(index, entries, {}, done).has_value());
    return index;
  }

  // A trial.seal envelope signed by the sponsor key.
  static std::string SealEntry(const std::string& trial_id, const std::string& domain,
                               const reports::SealSummary& seal) {
    ledger::JsonValue payload = ledger::JsonValue::Object()
                                    .set("v", 1)
                                    .set("kind", "trial.seal")
                                    .set("org", "sponsor-one")
                                    .set("clientId", "seal-" + domain)
                                    .set("time", "2026-11-21T08:00:00Z")
                                    .set("trialId", trial_id)
                                    .set("domain", domain)
                                    .set("root", ToHex(seal.root))
                                    .set("recordCount", seal.record_count)
                                    .set("schemaHash", seal.schema_hash)
                                    .set("algorithm", seal.algorithm)
                                    .set("signature", ledger::JsonValue::Object()
                                                          .set("name", "Dr. A. Sponsor")
                                                          .set("meaning", "approval"));
    auto env = ledger::SignEntry(payload, SeededKey(0x40));
    BOOST_REQUIRE(env.has_value());
    return *env;
  }

  std::string SignedCheckpoint() const {
    return ledger::SignNote(
        ledger::FormatCheckpoint({signer_.name(), range_.size(), range_.Root()}), signer_);
  }

  reports::SealEvidence Evidence(uint64_t index) {
    auto entry = storage_.ReadEntry(index);
    BOOST_REQUIRE(entry.has_value());
    auto proof = ledger::InclusionProof(index, range_.size(), storage_);
    BOOST_REQUIRE(proof.has_value());
    return {*entry, index, *proof, SignedCheckpoint()};
  }

  std::vector<ledger::NoteVerifier> Verifiers() const {
    auto v = ledger::NoteVerifier::Parse(signer_.VerifierKey());
    BOOST_REQUIRE(v.has_value());
    return {*v};
  }

  // Some unrelated entries, so that the seal is not the only leaf of the log.
  void AppendFiller(int n) {
    for (int i = 0; i < n; ++i) {
      auto env = ledger::SignEntry(ledger::JsonValue::Object().set("kind", "filler").set("n", i),
                                   SeededKey(0x70));
      BOOST_REQUIRE(env.has_value());
      Append(*env);
    }
  }

 private:
  ledger::NoteSigner signer_;
  ledger::MemoryStorage storage_;
  ledger::CompactRange range_;
};

}  // namespace pedigree::testing
