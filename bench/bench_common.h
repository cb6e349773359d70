// Tiny helpers shared by the benchmarks: a monotonic stopwatch, the report line
// format `<figure>: <value> <unit> (target ...; reference ...)` and exiting on a failed setup.
#pragma once

#include <errno.h>  // program_invocation_short_name (glibc)
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "pedigree/base/error.h"

namespace pedigree::bench {

class Stopwatch {
 public:
  Stopwatch() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

// CPU seconds used so far by all threads of this process: divided by the work done, a
// cost that other processes' load on a shared machine does not inflate as wall time.
inline double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

inline void Report(const std::string& figure, double value, const std::string& unit,
                   const std::string& target, const std::string& reference, int decimals = 1) {
  std::printf("%s: %.*f %s (target %s; reference %s)\n", figure.c_str(), decimals, value,
              unit.c_str(), target.c_str(), reference.c_str());
  std::fflush(stdout);
}

// Prints "<program>: <what>: <error>" to stderr and exits 1: a benchmark cannot measure
// anything once its setup has failed.
[[noreturn]] inline void Die(const std::string& what, const Error& e) {
  std::fprintf(stderr, "%s: %s: %s\n", program_invocation_short_name, what.c_str(),
               e.ToString().c_str());
  std::exit(1);
}

// The value of a Result (nothing for a Status), or Die(what, its error).
template <typename R>
auto Must(R r, const std::string& what) {
  if (!r) Die(what, r.error());
  if constexpr (!std::is_void_v<typename R::value_type>) return std::move(*r);
}

}  // namespace pedigree::bench
