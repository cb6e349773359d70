// GS1 parsing throughput on one core over a realistic mix of reads: raw DataMatrix strings
// from handheld scanners (most of the traffic), bracketed text typed or pasted, and Digital
// Link URIs from phone cameras. Reference: memchr for the GS over the same bytes, which is
// the least any parser must do.
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pedigree/scanner/gs1.h"

namespace {

std::vector<std::string> Mix() {
  std::vector<std::string> mix;
  const char* serials[] = {"K7PW2QX9D4M8", "100000012345", "A1B2C3D4E5F6G7H8", "ZX81-77/4",
                           "PZ3LQ8T0RV"};
  const char* lots[] = {"LOT42", "B2311A", "2024-117", "X9"};
  const char* expiries[] = {"260331", "271200", "290115"};
  const char* gtins[] = {"09506000134352", "04006381333931", "00036000291452"};
  int n = 0;
  for (const char* g : gtins) {
    for (const char* s : serials) {
      for (const char* l : lots) {
        const char* e = expiries[n % 3];
        std::string raw = std::string("]d201") + g + "17" + e + "10" + l + "\x1d" + "21" + s;
        switch (n % 10) {
          case 7:
          case 8:
            mix.push_back(std::string("(01)") + g + "(17)" + e + "(10)" + l + "(21)" + s);
            break;
          case 9:
            mix.push_back(std::string("https://id.gs1.org/01/") + g + "/10/" + l + "/21/" + s +
                          "?17=" + e);
            break;
          default:
            mix.push_back(raw);
        }
        ++n;
      }
    }
  }
  return mix;
}

// Seconds of CPU time this thread has used: the machine is shared, so wall time would
// measure the neighbours; per-core throughput is work per CPU second.
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

template <typename F>
double PerSecond(const std::vector<std::string>& mix, double seconds, F&& f) {
  size_t count = 0;
  double start = ThreadCpuSeconds();
  double elapsed = 0;
  while (elapsed < seconds) {
    for (int rep = 0; rep < 20; ++rep) {
      for (const auto& s : mix) f(s);
    }
    count += 20 * mix.size();
    elapsed = ThreadCpuSeconds() - start;
  }
  return static_cast<double>(count) / elapsed;
}

}  // namespace

// usage: bench_gs1_parse [--parse-only PASSES]: with --parse-only, parses the mix alone,
// PASSES times over, and prints the rate: a clean `perf record` of the parse, and a fixed
// amount of work whose instruction count (`perf stat -e instructions:u`) compares builds
// on a loaded machine, where rates do not.
int main(int argc, char** argv) {
  const auto mix = Mix();
  long parse_only = 0;
  if (argc == 3 && std::string(argv[1]) == "--parse-only") {
    parse_only = std::stol(argv[2]);
  } else if (argc != 1) {
    std::fprintf(stderr, "usage: bench_gs1_parse [--parse-only PASSES]\n");
    return 2;
  }
  pedigree::scanner::ParseOptions options;
  // Sanity: every string in the mix parses, or the figure would measure error paths.
  for (const auto& s : mix) {
    auto r = pedigree::scanner::ParseGs1(s, options);
    if (!r) {
      std::fprintf(stderr, "mix entry does not parse: %s: %s\n", s.c_str(),
                   r.error().ToString().c_str());
      return 1;
    }
  }
  volatile size_t sink = 0;
  if (parse_only > 0) {
    double start = ThreadCpuSeconds();
    for (long pass = 0; pass < parse_only; ++pass) {
      for (const auto& s : mix) {
        auto r = pedigree::scanner::ParseGs1(s, options);
        sink = sink + r->elements.size();
      }
    }
    double parsed = static_cast<double>(parse_only) * static_cast<double>(mix.size());
    std::printf("gs1 strings parsed per core: %.2f M strings/s (parse only, %.0f strings)\n",
                parsed / (ThreadCpuSeconds() - start) / 1e6, parsed);
    return 0;
  }
  double reference = PerSecond(mix, 2.0, [&](const std::string& s) {
    sink = sink + (std::memchr(s.data(), 0x1d, s.size()) != nullptr);
  });
  double parsed = PerSecond(mix, 5.0, [&](const std::string& s) {
    auto r = pedigree::scanner::ParseGs1(s, options);
    sink = sink + r->elements.size();
  });
  double diagnosed = PerSecond(mix, 2.0, [&](const std::string& s) {
    sink = sink + pedigree::scanner::DiagnoseGs1(s, options).findings.size();
  });
  std::printf(
      "gs1 strings parsed per core: %.2f M strings/s (target 2.00; reference memchr %.1f M "
      "strings/s)\n",
      parsed / 1e6, reference / 1e6);
  std::printf(
      "gs1 strings diagnosed per core: %.2f M strings/s (target none; reference parse %.2f M "
      "strings/s)\n",
      diagnosed / 1e6, parsed / 1e6);
  std::printf("mix: %zu strings, 70%% raw DataMatrix, 20%% bracketed, 10%% Digital Link\n",
              mix.size());
  // Each input form on its own, so the element-string figure (raw scanner data) can be
  // read apart from the slower bracketed and Digital Link forms.
  const std::pair<const char*, char> forms[] = {
      {"raw element strings (]d2 + GS)", ']'}, {"bracketed", '('}, {"Digital Link", 'h'}};
  for (const auto& [name, first] : forms) {
    std::vector<std::string> only;
    for (const auto& s : mix) {
      if (s[0] == first) only.push_back(s);
    }
    double rate = PerSecond(only, 2.0, [&](const std::string& s) {
      auto r = pedigree::scanner::ParseGs1(s, options);
      sink = sink + r->elements.size();
    });
    std::printf(
        "gs1 %s parsed per core: %.2f M strings/s (target 2.00 for the mix; reference mix %.2f M "
        "strings/s)\n",
        name, rate / 1e6, parsed / 1e6);
  }
  return 0;
}
