// Verifiable log benchmark: append throughput through the Sequencer into SqliteStorage
// early (entries 100k-200k) and at the final size (the last 100k), proof generation + verification
// time at the final size, and storage bytes per entry; then, when PEDIGREE_BENCH_PG names a
// PostgreSQL database (bench/run.sh starts a throwaway cluster and sets it), the same appends
// through the Sequencer into PostgresStorage, beside the SQLite rate of the same run. Usage:
// bench_log [--entries N (default 1000000)] [--entry-bytes B] [--keys 0|1]
//                  [--pg-entries N (default 100000)]
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "pedigree/log/merkle.h"
#include "pedigree/log/postgres_storage.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sequencer.h"
#include "pedigree/log/sqlite_storage.h"

using namespace pedigree;
using namespace pedigree::log;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::string MakeEntry(uint64_t i, size_t bytes) {
  std::string e = "{\"entry\":" + std::to_string(i) + ",\"pad\":\"";
  while (e.size() + 2 < bytes) e.push_back(static_cast<char>('a' + (i * 7 + e.size()) % 26));
  e += "\"}";
  return e;
}

// Appends `count` entries through a Sequencer into `storage` (32 k in flight, as above)
// and returns the rate over the whole run in entries/s.
double SequencedAppendRate(LogStorage& storage, uint64_t count, size_t entry_bytes, bool keys) {
  SequencerOptions options;
  options.verifier = [](std::string_view) { return Ok(); };
  auto started = Sequencer::Start(storage, options);
  if (!started) {
    std::fprintf(stderr, "start: %s\n", started.error().ToString().c_str());
    std::exit(1);
  }
  std::deque<std::future<Result<uint64_t>>> inflight;
  auto resolve_one = [&] {
    auto r = inflight.front().get();
    inflight.pop_front();
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
  };
  const auto t0 = Clock::now();
  for (uint64_t i = 0; i < count; ++i) {
    inflight.push_back((*started)->Submit(MakeEntry(i, entry_bytes),
                                          keys ? "cmd-" + std::to_string(i) : std::string()));
    if (inflight.size() >= 32768) resolve_one();
  }
  while (!inflight.empty()) resolve_one();
  const double rate = static_cast<double>(count) / Seconds(t0, Clock::now());
  (*started)->Stop();
  return rate;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t total = 1'000'000;
  size_t entry_bytes = 300;
  bool keys = true;
  uint64_t pg_total = 100'000;
  // Strict: an unknown option, a missing value or a value that is not a plain number stops
  // the bench (a positional `bench_log 10000000` once ran 1 M silently).
  auto usage = [&](const std::string& why) {
    std::fprintf(stderr,
                 "bench_log: %s\nusage: bench_log [--entries N] [--entry-bytes B] [--keys 0|1] "
                 "[--pg-entries N]\n",
                 why.c_str());
    std::exit(2);
  };
  auto number = [&](int i) -> uint64_t {
    if (i + 1 >= argc) usage(std::string("missing value after ") + argv[i]);
    const std::string v = argv[i + 1];
    if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos)
      usage(std::string(argv[i]) + " takes a decimal number, not '" + v + "'");
    return std::stoull(v);
  };
  for (int i = 1; i < argc; i += 2) {
    if (std::strcmp(argv[i], "--entries") == 0) {
      total = number(i);
    } else if (std::strcmp(argv[i], "--pg-entries") == 0) {
      pg_total = number(i);
    } else if (std::strcmp(argv[i], "--keys") == 0) {
      const uint64_t k = number(i);
      if (k > 1) usage("--keys takes 0 or 1");
      keys = k == 1;
    } else if (std::strcmp(argv[i], "--entry-bytes") == 0) {
      entry_bytes = number(i);
    } else {
      usage(std::string("unknown argument '") + argv[i] + "'");
    }
  }
  // Rates are compared over windows long enough to span many commits: 100 k entries from
  // 300 k on (the "rate at 10 M >= 0.9 x the rate at 200 k"), 10 k below that.
  const uint64_t kWindow = total >= 300'000 ? 100'000 : 10'000;
  if (total < 3 * kWindow) total = 3 * kWindow;

  std::random_device rd;
  const auto dir =
      std::filesystem::temp_directory_path() / ("pedigree-bench-log-" + std::to_string(rd()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "log.db").string();
  auto opened = SqliteStorage::Open(path, SqliteOptions{.create = true, .tile_cache_tiles = 65536});
  if (!opened) {
    std::fprintf(stderr, "open: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  auto& storage = **opened;

  SequencerOptions options;
  options.verifier = [](std::string_view) { return Ok(); };  // trivial: the log's own cost
  auto started = Sequencer::Start(storage, options);
  if (!started) {
    std::fprintf(stderr, "start: %s\n", started.error().ToString().c_str());
    return 1;
  }
  auto& sequencer = **started;

  // Keep up to 32 k submissions in flight; resolve them in order and time the windows.
  std::deque<std::future<Result<uint64_t>>> inflight;
  uint64_t resolved = 0;
  const auto t0 = Clock::now();
  Clock::time_point t_first_window{}, t_second_window{}, t_last_window_start{}, t_end{};
  auto resolve_one = [&] {
    auto r = inflight.front().get();
    inflight.pop_front();
    if (!r) {
      std::fprintf(stderr, "append: %s\n", r.error().ToString().c_str());
      std::exit(1);
    }
    ++resolved;
    if (resolved == kWindow) t_first_window = Clock::now();
    if (resolved == 2 * kWindow) t_second_window = Clock::now();
    if (resolved == total - kWindow) t_last_window_start = Clock::now();
    if (resolved == total) t_end = Clock::now();
  };
  for (uint64_t i = 0; i < total; ++i) {
    inflight.push_back(sequencer.Submit(MakeEntry(i, entry_bytes),
                                        keys ? "cmd-" + std::to_string(i) : std::string()));
    if (inflight.size() >= 32768) resolve_one();
  }
  while (!inflight.empty()) resolve_one();
  // The first window includes the pipeline's ramp-up; the reference rate is measured over
  // the second window, entries [W, 2W), W = kWindow.
  const double rate_ramp = kWindow / Seconds(t0, t_first_window);
  const double rate_first = kWindow / Seconds(t_first_window, t_second_window);
  const double rate_last = kWindow / Seconds(t_last_window_start, t_end);
  const double rate_all = total / Seconds(t0, t_end);
  sequencer.Stop();
  const auto k = [](uint64_t v) { return std::to_string(v / 1000) + "k"; };
  std::printf("append rate, entries 0-%s (ramp-up): %.0f entries/s (target n/a; reference n/a)\n",
              k(kWindow).c_str(), rate_ramp);
  std::printf("append rate at %s (entries %s-%s): %.0f entries/s (target n/a; reference n/a)\n",
              k(2 * kWindow).c_str(), k(kWindow).c_str(), k(2 * kWindow).c_str(), rate_first);
  std::printf(
      "append rate over the last %s entries up to %llu: %.0f entries/s (target >= 0.9 x rate at "
      "%s; reference %.0f entries/s)\n",
      k(kWindow).c_str(), static_cast<unsigned long long>(total), rate_last, k(2 * kWindow).c_str(),
      rate_first);
  std::printf("append rate ratio last %s / at %s: %.2f (target >= 0.90; reference 1.00)\n",
              k(kWindow).c_str(), k(2 * kWindow).c_str(), rate_last / rate_first);
  std::printf("append rate, whole run: %.0f entries/s (target n/a; reference %.0f entries/s)\n",
              rate_all, rate_first);

  // Proofs at the final size over random indices: a cold pass, then a warm one.
  const uint64_t n = total;
  const Hash root = TreeRoot(n, storage).value();
  std::mt19937_64 rng(42);
  constexpr int kSamples = 2000;
  std::vector<uint64_t> indices(kSamples), sizes(kSamples);
  std::vector<Hash> leaf(kSamples), old_roots(kSamples);
  for (int s = 0; s < kSamples; ++s) {
    indices[s] = rng() % n;
    sizes[s] = 1 + rng() % (n - 1);
    leaf[s] = LeafHash(AsBytes(MakeEntry(indices[s], entry_bytes)));
  }
  for (int s = 0; s < kSamples; ++s) old_roots[s] = TreeRoot(sizes[s], storage).value();
  auto inclusion_pass = [&](bool verify) {
    const auto a = Clock::now();
    for (int s = 0; s < kSamples; ++s) {
      auto proof = InclusionProof(indices[s], n, storage);
      if (!proof) std::exit(2);
      if (verify && !VerifyInclusion(indices[s], n, leaf[s], *proof, root)) std::exit(3);
    }
    return Seconds(a, Clock::now()) * 1e6 / kSamples;
  };
  auto consistency_pass = [&](bool verify) {
    const auto a = Clock::now();
    for (int s = 0; s < kSamples; ++s) {
      auto proof = ConsistencyProof(sizes[s], n, storage);
      if (!proof) std::exit(4);
      if (verify && !VerifyConsistency(sizes[s], n, *proof, old_roots[s], root)) std::exit(5);
    }
    return Seconds(a, Clock::now()) * 1e6 / kSamples;
  };
  const double incl_cold = inclusion_pass(true);
  const double incl_gen = inclusion_pass(false);
  const double incl_warm = inclusion_pass(true);
  const double cons_cold = consistency_pass(true);
  const double cons_gen = consistency_pass(false);
  const double cons_warm = consistency_pass(true);
  std::printf(
      "inclusion proof + verify at %llu entries, warm cache: %.1f us (target <= 50 us; "
      "reference generation alone %.1f us, first pass %.1f us)\n",
      static_cast<unsigned long long>(n), incl_warm, incl_gen, incl_cold);
  std::printf(
      "consistency proof + verify at %llu entries, warm cache: %.1f us (target <= 50 us; "
      "reference generation alone %.1f us, first pass %.1f us)\n",
      static_cast<unsigned long long>(n), cons_warm, cons_gen, cons_cold);

  // Hashing reference: what a NodeHash costs here.
  {
    Hash h{};
    const auto a = Clock::now();
    for (int i = 0; i < 200000; ++i) h = NodeHash(h, h);
    const double ns = Seconds(a, Clock::now()) * 1e9 / 200000;
    std::printf("NodeHash: %.0f ns (target n/a; reference %02x)\n", ns, h[0]);
  }

  // Storage: fold the WAL into the main file, then divide.
  sqlite3_exec(storage.handle(), "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  uintmax_t bytes = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) bytes += f.file_size();
  std::printf(
      "storage per entry (%zu-byte entries, %s): %.0f bytes "
      "(target <= 1024 bytes; reference entry %zu bytes)\n",
      entry_bytes, keys ? "with idempotency keys" : "no idempotency keys",
      static_cast<double>(bytes) / static_cast<double>(n), entry_bytes);
  opened->reset();
  std::filesystem::remove_all(dir);

  // PostgreSQL on the same machine (it shares the cores with this process).
  const char* pg = std::getenv("PEDIGREE_BENCH_PG");
  if (!pg || !*pg) {
    std::printf(
        "PostgreSQL append rate: skipped (PEDIGREE_BENCH_PG unset; bench/run.sh starts a "
        "throwaway cluster)\n");
    return 0;
  }
  auto pg_storage = PostgresStorage::Open(pg);
  if (!pg_storage) {
    std::fprintf(stderr, "open PostgreSQL: %s\n", pg_storage.error().ToString().c_str());
    return 1;
  }
  const double pg_rate = SequencedAppendRate(**pg_storage, pg_total, entry_bytes, keys);
  std::printf(
      "PostgreSQL append rate, %llu entries (synchronous_commit=on, binary COPY): %.0f "
      "entries/s (target n/a; reference SQLite whole run %.0f entries/s)\n",
      static_cast<unsigned long long>(pg_total), pg_rate, rate_all);
  return 0;
}
