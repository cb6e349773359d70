// Not a fuzz target: see run.sh in this folder.
// Bridges GCC's -fsanitize-coverage=trace-pc to LLVM 14 libFuzzer's inline 8-bit counters:
// each basic block's PC is hashed into a counter table that libFuzzer reads as coverage.
#include <cstdint>
extern "C" void __sanitizer_cov_8bit_counters_init(uint8_t*, uint8_t*);
extern "C" void __sanitizer_cov_pcs_init(const uintptr_t*, const uintptr_t*);
namespace {
constexpr uintptr_t kSize = 1 << 16;
uint8_t counters[kSize];
uintptr_t pcs[kSize * 2];
struct Init {
  Init() {
    for (uintptr_t i = 0; i < kSize; ++i) pcs[2 * i] = 0x1000 + i, pcs[2 * i + 1] = 0;
    __sanitizer_cov_8bit_counters_init(counters, counters + kSize);
    __sanitizer_cov_pcs_init(pcs, pcs + 2 * kSize);
  }
} init;
}  // namespace
extern "C" __attribute__((no_sanitize_address)) void shim_trace_pc() {
  uintptr_t pc = reinterpret_cast<uintptr_t>(__builtin_return_address(0));
  uintptr_t h = (pc ^ (pc >> 16)) * 0x9E3779B97F4A7C15ull;
  ++counters[(h >> 48) & (kSize - 1)];
}
extern "C" void __sanitizer_cov_trace_cmpf(float, float) {}
extern "C" void __sanitizer_cov_trace_cmpd(double, double) {}
