#include "pedigree/base/rate_limiter.h"

#include <algorithm>

namespace pedigree {

RateLimiter::RateLimiter(double rate) : rate_(rate), burst_(std::max(1.0, rate)) {}

std::optional<double> RateLimiter::Take(const std::string& key) {
  const auto now = Clock::now();
  std::lock_guard lock(mutex_);
  if (buckets_.size() > kMaxKeys) Prune(now);
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh) {
    const double elapsed = std::chrono::duration<double>(now - b.last).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  return (1.0 - b.tokens) / rate_;
}

// Full buckets carry no state worth keeping.
void RateLimiter::Prune(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& kv) {
    const double elapsed = std::chrono::duration<double>(now - kv.second.last).count();
    return kv.second.tokens + elapsed * rate_ >= burst_;
  });
}

}  // namespace pedigree
