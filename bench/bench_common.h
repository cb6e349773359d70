// Tiny helpers shared by the benchmarks: a monotonic stopwatch and the report line
// format `<figure>: <value> <unit> (target ...; reference ...)`.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdio>
#include <string>

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

}  // namespace pedigree::bench
