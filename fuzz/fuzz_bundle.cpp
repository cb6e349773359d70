// libFuzzer target: ReadBundle and ParseTlogProof must never crash; a bundle or tlog-proof that
// parses must write back to text that parses to the same value (a fixed point after one pass).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pedigree/reports/bundle.h"

using namespace pedigree;
using namespace pedigree::reports;

namespace {

bool SameProof(const TlogProof& a, const TlogProof& b) {
  return a.extra == b.extra && a.index == b.index && a.path == b.path &&
         a.checkpoint == b.checkpoint;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto proof = ParseTlogProof(text);
  if (proof) {
    auto again = ParseTlogProof(FormatTlogProof(*proof));
    if (!again || !SameProof(*again, *proof)) std::abort();
  }
  auto bundle = ReadBundle(text);
  if (bundle) {
    const std::string written = WriteBundle(*bundle);
    auto reread = ReadBundle(written);
    if (!reread || WriteBundle(*reread) != written) std::abort();
  }
  return 0;
}
