// A token-bucket rate limiter: the HTTP chassis limits each API token with it, a witness
// each log it witnesses.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace pedigree {

// One token bucket per key, refilled continuously at `rate` per second up to a burst of
// max(1, rate); a new key starts full. Thread-safe.
class RateLimiter {
 public:
  explicit RateLimiter(double rate);

  // Takes a token for `key`; when there is none, returns the seconds until one is.
  std::optional<double> Take(const std::string& key);

 private:
  using Clock = std::chrono::steady_clock;
  struct Bucket {
    double tokens;
    Clock::time_point last;
  };
  void Prune(Clock::time_point now);

  static constexpr size_t kMaxKeys = 100000;
  double rate_, burst_;
  std::mutex mutex_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace pedigree
