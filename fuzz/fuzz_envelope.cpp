// libFuzzer target: OpenEntry/VerifyEntry must never crash and must agree with each other;
// an envelope that opens must re-sign to a canonical envelope that opens again.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pedigree/log/envelope.h"

using namespace pedigree;
using namespace pedigree::log;

namespace {

const PrivateKey& FuzzKey() {
  static const PrivateKey key = PrivateKey::FromSeed(Bytes(32, 0x42)).value();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto opened = OpenEntry(text);
  auto verified = VerifyEntry(text);
  if (opened.has_value() != verified.has_value()) std::abort();
  if (!opened && opened.error().code() != verified.error().code()) std::abort();

  // Treat the input as a payload too, so the fuzzer reaches the signing path and produces
  // envelopes whose signatures verify.
  JsonParseOptions options;
  options.integers_only = true;
  auto payload = ParseJson(text, options);
  if (payload && payload->is_object()) {
    auto envelope = SignEntry(*payload, FuzzKey(), "fuzz.example/log");
    if (!envelope) std::abort();
    auto reopened = OpenEntry(*envelope);
    if (!reopened) std::abort();
    if (reopened->payload_bytes != Canonicalize(*payload)) std::abort();
    if (!VerifyEntry(*envelope)) std::abort();
  }
  return 0;
}
