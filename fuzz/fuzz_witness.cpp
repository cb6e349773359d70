// libFuzzer target: the tlog-witness add-checkpoint body. ParseAddCheckpoint must never
// crash, must refuse with a registered 4xx code (a client's body is never a 500), and a body
// that parses must format back to text that parses to the same request; the checkpoint note
// it carries is opened against a fixed log key, as the witness does next.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error_codes.h"
#include "pedigree/log/note.h"
#include "pedigree/log/witness.h"

using namespace pedigree;
using namespace pedigree::log;

namespace {

const std::vector<NoteVerifier>& LogKeys() {
  static const std::vector<NoteVerifier> keys = [] {
    NoteSigner log{"example.org/fuzz-log", PrivateKey::FromSeed(Bytes(32, 1)).value()};
    return std::vector<NoteVerifier>{NoteVerifier::Parse(log.VerifierKey()).value()};
  }();
  return keys;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto request = ParseAddCheckpoint(body);
  if (!request) {
    const ErrorCodeInfo* info = FindErrorCode(request.error().code());
    if (info == nullptr || info->http_status < 400 || info->http_status >= 500) std::abort();
    return 0;
  }
  if (size > kWitnessMaxBodyBytes || request->proof.size() > kWitnessMaxProofLines) std::abort();
  const std::string again = FormatAddCheckpoint(request->old_size, request->proof, request->note);
  auto reparsed = ParseAddCheckpoint(again);
  if (!reparsed || reparsed->old_size != request->old_size || reparsed->proof != request->proof ||
      reparsed->note != request->note) {
    std::abort();
  }
  (void)OpenNote(request->note, LogKeys());
  (void)ParseCheckpoint(request->note);
  return 0;
}
