// Progress for people at a terminal: one line on stderr, rewritten with '\r', for CLI work
// that takes more than a second (audit, large submissions, commissioning, the demo).
// Silent unless stderr is a terminal and neither --quiet nor $PEDIGREE_NO_PROGRESS is
// set, so scripts and pipes see byte-identical output. See docs/cli.md ("Progress").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <mutex>
#include <string>
#include <thread>

namespace pedigree::services {

class Progress {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Nothing is written before `delay` has passed since construction, nor more often than
  // every `interval`.
  struct Options {
    std::chrono::milliseconds delay{1000};
    std::chrono::milliseconds interval{100};
    Clock clock = [] { return std::chrono::steady_clock::now(); };
  };

  // `enabled` false: every call is a no-op (not a terminal, --quiet, $PEDIGREE_NO_PROGRESS).
  Progress(std::ostream& out, bool enabled, std::string what, uint64_t total = 0);
  Progress(std::ostream& out, bool enabled, std::string what, uint64_t total, Options options);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress();

  // `done` of `total` (0: unknown; then only the count and the rate are shown). Cheap when
  // throttled: one clock read.
  void Update(uint64_t done);
  void Update(uint64_t done, uint64_t total);
  // A new phase: the label and total change, the count restarts, the rate is re-measured.
  void Phase(std::string what, uint64_t total = 0);
  // Redraws (elapsed time, rate) if due; what ProgressTicker calls during one long step.
  void Tick();
  // Clears the line if one was drawn; later calls do nothing.
  void Finish();

  bool enabled() const { return enabled_; }

 private:
  void Draw(std::chrono::steady_clock::time_point now);
  void DrawIfDue();

  std::mutex mutex_;  // Tick from a ProgressTicker; Update is called per chunk, not per item

  std::ostream& out_;
  std::atomic<bool> enabled_;  // Finish turns it off while a ticker may look
  std::string what_;
  uint64_t total_;
  uint64_t done_ = 0;
  Options options_;
  std::chrono::steady_clock::time_point start_;        // of the whole run: the 1 s delay
  std::chrono::steady_clock::time_point phase_start_;  // for the rate and the ETA
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
  size_t width_ = 0;  // of the last line drawn, to blank it
};

// Ticks `progress` every 100 ms on a thread of its own while one long call runs (a
// commissioning of 10^6 packs, a dataset submission) so the elapsed time moves; no thread
// when the progress is disabled. Stops (and joins) when destroyed.
class ProgressTicker {
 public:
  explicit ProgressTicker(Progress& progress);
  ~ProgressTicker();
  ProgressTicker(const ProgressTicker&) = delete;
  ProgressTicker& operator=(const ProgressTicker&) = delete;

 private:
  std::jthread thread_;
};

// Whether a command run with `err` as its error stream should show progress: `err` is the
// process's std::cerr, file descriptor 2 is a terminal (`is_tty`, isatty(2) by default),
// `quiet` (--quiet) is false and $PEDIGREE_NO_PROGRESS is unset or empty.
bool ProgressWanted(const std::ostream& err, bool quiet, const bool* is_tty = nullptr);

}  // namespace pedigree::services
