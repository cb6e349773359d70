// The terminal progress line (pedigree/cli/progress.h): silent for the first second, at
// most one redraw per interval, one line rewritten with '\r' and blanked at the end, and
// nothing at all when stderr is not a terminal; the audit's progress callback.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <utility>
#include <vector>

#include "cli_run.h"
#include "pedigree/cli/progress.h"
#include "pedigree/reports/audit_report.h"
#include "reports/supply_scenario.h"

using namespace pedigree;
using namespace std::chrono_literals;
using pedigree::reports::testing::SupplyScenario;
using pedigree::services::Progress;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;

namespace {

// A clock the test moves by hand.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  Progress::Options Options() {
    Progress::Options o;
    o.clock = [this] { return now; };
    return o;
  }
};

size_t Count(const std::string& text, char c) { return std::ranges::count(text, c); }

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_progress)

BOOST_AUTO_TEST_CASE(progress_is_silent_for_the_first_second_then_draws_one_line) {
  FakeClock clock;
  std::ostringstream err;
  Progress p(err, /*enabled, as on a terminal*/ true, "log audit: entries verified", 1000,
             clock.Options());
  clock.now += 900ms;
  p.Update(100);
  BOOST_TEST(err.str().empty());
  clock.now += 100ms;  // 1 s in
  p.Update(250);
  const std::string line = err.str();
  BOOST_TEST(line.front() == '\r');
  BOOST_TEST(line.find("log audit: entries verified: 250/1000 (25%)") != std::string::npos);
  BOOST_TEST(line.find("250/s") != std::string::npos);  // 250 in 1 s
  BOOST_TEST(line.find("ETA 0m03s") != std::string::npos);
  BOOST_TEST(Count(line, '\n') == 0u);
}

BOOST_AUTO_TEST_CASE(progress_redraws_at_most_ten_times_a_second) {
  FakeClock clock;
  std::ostringstream err;
  Progress p(err, true, "commission", 100000, clock.Options());
  // 10 s of updates every millisecond: 9 s past the first second, 100 ms apart.
  for (uint64_t i = 0; i < 10000; ++i) {
    clock.now += 1ms;
    p.Update(i * 10);
  }
  const size_t draws = Count(err.str(), '\r');
  BOOST_TEST(draws >= 85u);
  BOOST_TEST(draws <= 91u);
  BOOST_TEST(Count(err.str(), '\n') == 0u);
}

BOOST_AUTO_TEST_CASE(progress_finish_blanks_the_line_once) {
  FakeClock clock;
  std::ostringstream err;
  {
    Progress p(err, true, "report audit: entries verified", 10, clock.Options());
    clock.now += 2s;
    p.Update(5);
    const size_t width = err.str().size() - 1;  // the line after its '\r'
    p.Finish();
    const std::string cleared = "\r" + std::string(width, ' ') + "\r";
    BOOST_TEST(err.str().size() >= cleared.size());
    BOOST_TEST(err.str().substr(err.str().size() - cleared.size()) == cleared);
    const std::string after = err.str();
    clock.now += 2s;
    p.Update(9);
    p.Finish();
    BOOST_TEST(err.str() == after);  // done: nothing more, not even from the destructor
  }
  // A run under a second draws nothing and has nothing to clear.
  std::ostringstream quick;
  {
    Progress p(quick, true, "x", 10, clock.Options());
    clock.now += 500ms;
    p.Update(10);
  }
  BOOST_TEST(quick.str().empty());
}

BOOST_AUTO_TEST_CASE(progress_phase_without_a_count_shows_the_elapsed_time) {
  FakeClock clock;
  std::ostringstream err;
  Progress p(err, true, "trial submit: parsing dm.csv", 0, clock.Options());
  clock.now += 1500ms;
  p.Phase("trial submit: signing and submitting 12 records");
  clock.now += 2s;
  p.Tick();
  BOOST_TEST(err.str().find("trial submit: signing and submitting 12 records... 0m02s") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(progress_disabled_writes_nothing) {
  FakeClock clock;
  std::ostringstream err;
  {
    Progress p(err, false, "log audit", 10, clock.Options());
    clock.now += 5s;
    p.Update(3);
    p.Phase("replaying");
    p.Tick();
    services::ProgressTicker ticker(p);
  }
  BOOST_TEST(err.str().empty());
}

BOOST_AUTO_TEST_CASE(progress_is_wanted_only_on_a_terminal_without_quiet_or_the_variable) {
  const bool tty = true, no_tty = false;
  ::unsetenv("PEDIGREE_NO_PROGRESS");
  BOOST_TEST(services::ProgressWanted(std::cerr, false, &tty));
  BOOST_TEST(!services::ProgressWanted(std::cerr, false, &no_tty));
  BOOST_TEST(!services::ProgressWanted(std::cerr, /*--quiet*/ true, &tty));
  std::ostringstream captured;  // what cli_run.h gives: never a terminal
  BOOST_TEST(!services::ProgressWanted(captured, false, &tty));
  ::setenv("PEDIGREE_NO_PROGRESS", "1", 1);
  BOOST_TEST(!services::ProgressWanted(std::cerr, false, &tty));
  ::unsetenv("PEDIGREE_NO_PROGRESS");
}

BOOST_AUTO_TEST_CASE(report_audit_tells_progress_per_chunk_up_to_the_size) {
  SupplyScenario s;
  s.RunPalletChain();
  s.Close();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  reports::AuditOptions options;
  options.progress = [&](uint64_t done, uint64_t total) { calls.emplace_back(done, total); };
  auto report = reports::AuditReport(s.dir(), options);
  BOOST_REQUIRE(report.has_value());
  BOOST_REQUIRE(!calls.empty());
  const uint64_t entries = static_cast<uint64_t>(report->find("log")->find("treeSize")->as_int());
  BOOST_TEST(calls.back().first == entries);
  BOOST_TEST(calls.back().second == entries);
}

BOOST_AUTO_TEST_CASE(quiet_changes_nothing_when_not_a_terminal) {
  SupplyScenario s;
  s.RunPalletChain();
  s.Close();
  Run plain = Cli({"log", "audit", "--dir", s.dir()});
  Run quiet = Cli({"log", "audit", "--quiet", "--dir", s.dir()});
  BOOST_TEST(plain.rc == 0);
  BOOST_TEST(quiet.rc == 0);
  BOOST_TEST(plain.err.empty());  // pipes: no progress line
  BOOST_TEST(quiet.out == plain.out);
  BOOST_TEST(quiet.err == plain.err);
}

BOOST_AUTO_TEST_SUITE_END()
