// libFuzzer target: ParseJson must never crash, and canonicalisation must be a fixed point:
// JCS(parse(JCS(parse(x)))) == JCS(parse(x)), and the canonical text passes CheckCanonical.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pedigree/base/canonical_json.h"

using namespace pedigree;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool integers_only : {false, true}) {
    JsonParseOptions options;
    options.integers_only = integers_only;
    auto value = ParseJson(text, options);
    if (!value) continue;
    std::string once = Canonicalize(*value);
    auto reparsed = ParseJson(once, options);
    if (!reparsed) std::abort();  // our own output must parse under the same rules
    std::string twice = Canonicalize(*reparsed);
    if (once != twice) std::abort();
    if (!CheckCanonical(once, options)) std::abort();
    // The input is canonical exactly when it equals its canonical form.
    if (CheckCanonical(text, options).has_value() != (once == text)) std::abort();
  }
  return 0;
}
