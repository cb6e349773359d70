// libFuzzer target: ParseDisclosure and VerifyDisclosure must never crash. A disclosure that
// parses must re-serialize to JSON that parses to the same text; it is verified twice against a
// fixed log key: as read (its checkpoint is almost never signed by that key), and with its
// checkpoint replaced by one the fixed key signs over the root its own log proof implies, so
// that the seal-entry, seal-match, leaf and proof checks behind the checkpoint run too.
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/provenance/trial_seal.h"

using namespace pedigree;
using namespace pedigree::provenance;

namespace {

struct LogKey {
  log::NoteSigner signer{"example.org/fuzz-log", log::PrivateKey::FromSeed(Bytes(32, 7)).value()};
  std::vector<log::NoteVerifier> verifiers{log::NoteVerifier::Parse(signer.VerifierKey()).value()};
};

const LogKey& FuzzLogKey() {
  static const LogKey key;
  return key;
}

// A tree size for which `proof` has the RFC 9162 length at `index`, with the root it implies.
std::optional<log::Checkpoint> CheckpointFor(const SealEvidence& evidence) {
  if (evidence.seal_index == UINT64_MAX) return std::nullopt;
  const Hash leaf = log::LeafHash(evidence.seal_entry);
  for (unsigned k = 0; k <= evidence.log_proof.size() && k < 64; ++k) {
    const uint64_t extra = k == 0 ? 0 : (uint64_t{1} << (k - 1));
    if (evidence.seal_index + 1 > UINT64_MAX - extra) break;
    const uint64_t size = evidence.seal_index + 1 + extra;
    auto root = log::RootFromInclusionProof(evidence.seal_index, size, leaf, evidence.log_proof);
    if (root) return log::Checkpoint{FuzzLogKey().signer.name(), size, *root};
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto disclosure = ParseDisclosure(text);
  if (!disclosure) return 0;
  const std::string json = DisclosureToJson(*disclosure);
  auto again = ParseDisclosure(json);
  if (!again || DisclosureToJson(*again) != json) std::abort();

  const LogKey& key = FuzzLogKey();
  (void)VerifyDisclosure(*disclosure, key.verifiers);
  if (auto checkpoint = CheckpointFor(disclosure->evidence)) {
    disclosure->evidence.checkpoint = log::SignNote(log::FormatCheckpoint(*checkpoint), key.signer);
    auto verified = VerifyDisclosure(*disclosure, key.verifiers);
    if (verified && verified->checkpoint != *checkpoint) std::abort();
  }
  return 0;
}
