// libFuzzer target: OpenNote and ParseCheckpoint must never crash; a checkpoint that parses
// must format back to a body that parses to the same value, and signing it must open.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/log/note.h"

using namespace pedigree;
using namespace pedigree::log;

namespace {

struct Keys {
  NoteSigner log{"example.org/fuzz-log", PrivateKey::FromSeed(Bytes(32, 1)).value()};
  NoteSigner witness{"example.org/fuzz-witness", PrivateKey::FromSeed(Bytes(32, 2)).value(),
                     NoteKeyType::kCosignatureV1};
  std::vector<NoteVerifier> verifiers{NoteVerifier::Parse(log.VerifierKey()).value(),
                                      NoteVerifier::Parse(witness.VerifierKey()).value()};
};

const Keys& FuzzKeys() {
  static const Keys keys;
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const Keys& keys = FuzzKeys();
  (void)OpenNote(text, keys.verifiers);
  (void)NoteVerifier::Parse(text);
  auto checkpoint = ParseCheckpoint(text);
  if (checkpoint) {
    std::string body = FormatCheckpoint(*checkpoint);
    auto again = ParseCheckpoint(body);
    if (!again || !(*again == *checkpoint)) std::abort();
    auto note = Cosign(SignNote(body, keys.log), keys.witness, 1700000000);
    if (!note) std::abort();
    auto opened = OpenNote(*note, keys.verifiers);
    if (!opened || opened->verified.size() != 2 || opened->text != body) std::abort();
  }
  return 0;
}
