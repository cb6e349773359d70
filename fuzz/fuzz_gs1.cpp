// libFuzzer target: ParseGs1 and DiagnoseGs1 on arbitrary bytes must not crash, hang or read
// out of bounds; whatever parses must survive its own renderings.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "pedigree/scanner/gs1.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  pedigree::scanner::ParseOptions options;
  options.reference_year = 2026;
  auto parsed = pedigree::scanner::ParseGs1(in, options);
  if (parsed) {
    // Re-parsing the canonical forms must succeed: a parse we accept we can also render.
    // Without keyboard-wedge tokens: "<GS>" is legal CSET 82 text inside a bracketed value.
    pedigree::scanner::ParseOptions exact = options;
    exact.gs_tokens.clear();
    auto again = pedigree::scanner::ParseGs1(parsed->ElementString(), exact);
    if (!again) __builtin_trap();
    auto bracketed = pedigree::scanner::ParseGs1(parsed->BracketedString(), options);
    (void)bracketed;
    (void)parsed->pack_id();
    (void)parsed->expiry();
    if (auto uri = parsed->DigitalLinkUri()) (void)pedigree::scanner::ParseGs1(*uri, options);
  }
  (void)pedigree::scanner::DiagnoseGs1(in, options);
  return 0;
}
