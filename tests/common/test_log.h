// Test support: a small verifiable log on MemoryStorage with a signed checkpoint, so that
// trial tests can put a trial.seal envelope on a log and fetch the evidence a disclosure
// carries, without the provenance rules.
#pragma once

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "pedigree/log/compact_range.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/storage.h"
#include "pedigree/provenance/trial_seal.h"

namespace pedigree::testing {

inline log::PrivateKey SeededKey(uint8_t first) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(first + i);
  auto key = log::PrivateKey::FromSeed(seed);
  BOOST_REQUIRE(key.has_value());
  return std::move(*key);
}

class TestLog {
 public:
  TestLog() : signer_("log.example/trials", SeededKey(0x10)) {}

  uint64_t Append(const std::string& entry) {
    std::vector<log::StoredHash> done;
    range_.Append(log::LeafHash(entry), &done);
    const uint64_t index = range_.size() - 1;
    const std::vector<std::string> entries{entry};
    BOOST_REQUIRE(storage_.Append(index, entries, {}, done).has_value());
    return index;
  }

  // A trial.seal envelope signed by the sponsor key for the log `origin` (this log's).
  static std::string SealEntry(const std::string& trial_id, const std::string& domain,
                               const provenance::SealSummary& seal,
                               const std::string& origin = "log.example/trials") {
    pedigree::JsonValue payload = pedigree::JsonValue::Object()
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
                                      .set("signature", pedigree::JsonValue::Object()
                                                            .set("name", "Dr. A. Sponsor")
                                                            .set("meaning", "approval"));
    auto env = log::SignEntry(payload, SeededKey(0x40), origin);
    BOOST_REQUIRE(env.has_value());
    return *env;
  }

  std::string SignedCheckpoint() const {
    return log::SignNote(log::FormatCheckpoint({signer_.name(), range_.size(), range_.Root()}),
                         signer_);
  }

  provenance::SealEvidence Evidence(uint64_t index) {
    auto entry = storage_.ReadEntry(index);
    BOOST_REQUIRE(entry.has_value());
    auto proof = log::InclusionProof(index, range_.size(), storage_);
    BOOST_REQUIRE(proof.has_value());
    return {*entry, index, *proof, SignedCheckpoint()};
  }

  std::vector<log::NoteVerifier> Verifiers() const {
    auto v = log::NoteVerifier::Parse(signer_.VerifierKey());
    BOOST_REQUIRE(v.has_value());
    return {*v};
  }

  // Some unrelated entries, so that the seal is not the only leaf of the log.
  void AppendFiller(int n) {
    for (int i = 0; i < n; ++i) {
      auto env = log::SignEntry(pedigree::JsonValue::Object().set("kind", "filler").set("n", i),
                                SeededKey(0x70), "log.example/trials");
      BOOST_REQUIRE(env.has_value());
      Append(*env);
    }
  }

 private:
  log::NoteSigner signer_;
  log::MemoryStorage storage_;
  log::CompactRange range_;
};

}  // namespace pedigree::testing
