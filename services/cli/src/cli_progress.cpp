// Progress: see pedigree/cli/progress.h.
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <ostream>

#include "pedigree/cli/progress.h"

namespace pedigree::services {
namespace {

std::string Duration(double seconds) {
  const auto s = static_cast<uint64_t>(seconds + 0.5);
  char text[32];
  if (s >= 3600) {
    std::snprintf(text, sizeof text, "%lluh%02llum", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s / 60 % 60));
  } else {
    std::snprintf(text, sizeof text, "%llum%02llus", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  }
  return text;
}

}  // namespace

Progress::Progress(std::ostream& out, bool enabled, std::string what, uint64_t total)
    : Progress(out, enabled, std::move(what), total, Options{}) {}

Progress::Progress(std::ostream& out, bool enabled, std::string what, uint64_t total,
                   Options options)
    : out_(out),
      enabled_(enabled),
      what_(std::move(what)),
      total_(total),
      options_(std::move(options)) {
  if (enabled_) start_ = phase_start_ = options_.clock();
}

Progress::~Progress() { Finish(); }

void Progress::Update(uint64_t done) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  done_ = done;
  DrawIfDue();
}

void Progress::Update(uint64_t done, uint64_t total) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  done_ = done;
  total_ = total;
  DrawIfDue();
}

void Progress::Tick() {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  DrawIfDue();
}

void Progress::DrawIfDue() {
  if (!enabled_) return;
  const auto now = options_.clock();
  if (now - start_ < options_.delay) return;
  if (drawn_ && now - last_draw_ < options_.interval) return;
  Draw(now);
}

void Progress::Phase(std::string what, uint64_t total) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  what_ = std::move(what);
  total_ = total;
  done_ = 0;
  phase_start_ = options_.clock();
  if (phase_start_ - start_ >= options_.delay) Draw(phase_start_);
}

void Progress::Draw(std::chrono::steady_clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - phase_start_).count();
  std::string line = what_;
  if (done_ == 0 && total_ == 0) {  // one long step without a count: the time it has taken
    line += "... " + Duration(elapsed);
  } else {
    line += ": " + std::to_string(done_);
  }
  if (total_ > 0) {
    char percent[16];
    std::snprintf(percent, sizeof percent, " (%.0f%%)",
                  100.0 * static_cast<double>(done_) / static_cast<double>(total_));
    line += "/" + std::to_string(total_) + percent;
  }
  if (elapsed > 0 && done_ > 0) {
    const double rate = static_cast<double>(done_) / elapsed;
    line += ", " + std::to_string(static_cast<uint64_t>(rate + 0.5)) + "/s";
    if (total_ > done_) {
      line += ", ETA " + Duration(static_cast<double>(total_ - done_) / rate);
    }
  }
  const size_t width = line.size();
  if (width < width_) line.append(width_ - width, ' ');
  out_ << '\r' << line << std::flush;
  width_ = width;
  drawn_ = true;
  last_draw_ = now;
}

void Progress::Finish() {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (drawn_) out_ << '\r' << std::string(width_, ' ') << '\r' << std::flush;
  enabled_ = false;
}

ProgressTicker::ProgressTicker(Progress& progress) {
  if (!progress.enabled()) return;
  thread_ = std::jthread([&progress](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (!stop.stop_requested()) {
      (void)wake.wait_for(lock, stop, std::chrono::milliseconds(100), [] { return false; });
      if (!stop.stop_requested()) progress.Tick();
    }
  });
}

ProgressTicker::~ProgressTicker() = default;  // the jthread asks to stop and joins

bool ProgressWanted(const std::ostream& err, bool quiet, const bool* is_tty) {
  if (quiet || &err != &std::cerr) return false;
  if (const char* off = std::getenv("PEDIGREE_NO_PROGRESS"); off && *off) return false;
  return is_tty ? *is_tty : ::isatty(STDERR_FILENO) == 1;
}

}  // namespace pedigree::services
