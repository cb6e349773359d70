#include "pedigree/base/parallel.h"

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <vector>

using namespace pedigree;

BOOST_AUTO_TEST_SUITE(parallel)

// Every index is handed to exactly one call, whatever the split: the callers (seal tree
// hashing, report signature checks) write results by index and must miss none.
BOOST_AUTO_TEST_CASE(every_index_is_visited_exactly_once) {
  for (size_t n : {0u, 1u, 63u, 64u, 65u, 1000u, 10'007u}) {
    for (unsigned threads : {0u, 1u, 2u, 3u, 8u}) {
      for (size_t grain : {1u, 7u, 64u, 4096u}) {
        std::vector<std::atomic<int>> visits(n);
        ParallelFor(n, threads, grain, [&](size_t begin, size_t end) {
          BOOST_REQUIRE(begin < end || n == 0);
          BOOST_REQUIRE(end <= n);
          for (size_t i = begin; i < end; ++i) visits[i].fetch_add(1);
        });
        size_t once = 0;
        for (const auto& v : visits) once += v.load() == 1;
        BOOST_TEST(once == n, "n " << n << " threads " << threads << " grain " << grain);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(small_work_stays_on_the_calling_thread) {
  BOOST_TEST(ParallelThreads(8, 100, 64) == 1u);
  BOOST_TEST(ParallelThreads(8, 1000, 64) == 8u);
  BOOST_TEST(ParallelThreads(2, 1000, 64) == 2u);
  BOOST_TEST(ParallelThreads(8, 0, 64) == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
