// libFuzzer target: the small field parsers an event payload goes through (GS1 identifiers,
// dates and times, pack statuses, PEM keys) on arbitrary bytes. Each must return a value or
// an error; whatever parses must format back to text that parses to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pedigree/log/keys.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/pack_rules.h"
#include "pedigree/provenance/provenance.h"

using namespace pedigree;
using namespace pedigree;
using namespace pedigree::log;
using namespace pedigree::provenance;

namespace {

// A parsed identifier's canonical text must parse to the same identifier.
template <typename T>
void RoundTrip(std::string_view text) {
  auto parsed = T::Parse(text);
  if (!parsed) return;
  auto again = T::Parse(parsed->str());
  if (!again || !(*again == *parsed)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  RoundTrip<Gtin>(text);
  RoundTrip<Sscc>(text);
  RoundTrip<Gln>(text);
  RoundTrip<Serial>(text);
  RoundTrip<Lot>(text);
  RoundTrip<Expiry>(text);
  for (bool day_zero : {false, true}) (void)ParseGs1Date(text, 2026, day_zero);
  (void)CheckCset82Field(text, 20, "field");
  if (auto expiry = Expiry::Parse(text, 2026)) (void)expiry->IsoDate();

  if (auto t = ParseUtcTime(text)) {
    auto again = ParseUtcTime(FormatUtcTime(*t));
    if (!again || *again != *t) std::abort();
  }
  if (auto d = ParseDate(text)) {
    auto again = ParseDate(FormatDate(*d));
    if (!again || *again != *d) std::abort();
  }
  if (auto status = ParsePackStatus(text)) {
    if (PackStatusName(*status) != text) std::abort();
  }
  // OpenSSL sets up its decoders on every call (~3 ms under ASan): only PEM-like inputs pay.
  if (text.find("-----BEGIN") != std::string_view::npos) {
    if (auto key = PublicKey::FromPem(text)) {
      auto again = PublicKey::FromPem(key->ToPem());
      if (!again || !(*again == *key)) std::abort();
    }
    (void)PrivateKey::FromPem(text);
  }
  (void)PublicKey::FromRaw(std::span<const uint8_t>(data, size));
  return 0;
}
