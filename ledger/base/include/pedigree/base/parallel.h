// Data-parallel loops over an index range on short-lived threads, for CPU-bound work whose
// items are independent (hashing, signature checks). Not a pool: each call starts and joins
// its threads, so it suits work of milliseconds or more.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace pedigree {

// How many threads `work` items deserve: `requested` (0 = every core), but no more than one
// per `min_per_thread` items, below which a thread costs more than it saves.
inline unsigned ParallelThreads(unsigned requested, size_t work, size_t min_per_thread) {
  const unsigned n = requested ? requested : std::max(1u, std::thread::hardware_concurrency());
  const size_t useful = std::max<size_t>(1, work / std::max<size_t>(1, min_per_thread));
  return static_cast<unsigned>(std::min<size_t>(n, useful));
}

// Runs fn(begin, end) over [0, n) in contiguous chunks of `min_per_thread` items (the last
// may be shorter), on ParallelThreads(threads, n, min_per_thread) threads including the
// calling one. Each thread takes the next chunk when done with its last, so a thread that
// another process keeps off its core holds up one chunk, not a fixed share of the work.
// `fn` must be safe to run concurrently on disjoint ranges.
template <typename Fn>
void ParallelFor(size_t n, unsigned threads, size_t min_per_thread, Fn&& fn) {
  const unsigned t = ParallelThreads(threads, n, min_per_thread);
  if (t <= 1) {
    fn(size_t{0}, n);
    return;
  }
  const size_t chunk = std::max<size_t>(1, min_per_thread);
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t begin; (begin = next.fetch_add(chunk, std::memory_order_relaxed)) < n;) {
      fn(begin, std::min(n, begin + chunk));
    }
  };
  std::vector<std::thread> workers;
  workers.reserve(t - 1);
  for (unsigned i = 1; i < t; ++i) workers.emplace_back(work);
  work();
  for (auto& w : workers) w.join();
}

}  // namespace pedigree
