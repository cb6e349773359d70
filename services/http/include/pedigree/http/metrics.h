// Metrics in the Prometheus text exposition format 0.0.4, served at /metrics.
// The HTTP server records its own request counters and latency histograms here;
// other modules register gauges and counters (ledger size, append rate) on the same
// registry. See docs/api.md ("/metrics").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pedigree::services {

// A monotonically increasing value. Thread-safe; Add is a relaxed atomic add.
class Counter {
 public:
  void Add(uint64_t delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

// Named metrics shared by every module of one process. Thread-safe. Names must match
// [a-zA-Z_:][a-zA-Z0-9_:]* and be unique across counters and gauges.
class MetricsRegistry {
 public:
  // Returns the counter called `name`, creating it with `help` on first use. The
  // reference stays valid for the registry's lifetime.
  Counter& AddCounter(const std::string& name, const std::string& help);
  // The counter of family `name` with the label set `labels`, already formatted and escaped
  // (`witness="w1",status="422"`), created on first use; one family holds either plain or
  // labelled counters.
  Counter& AddCounter(const std::string& name, const std::string& help, const std::string& labels);
  // Registers (or replaces) a gauge whose value is read by calling `read` at scrape
  // time; `read` must be thread-safe and must not call back into the registry.
  void AddGauge(const std::string& name, const std::string& help, std::function<double()> read);

  // Appends HELP/TYPE/sample lines for the registered counters and gauges.
  void WriteText(std::string& out) const;

 private:
  struct Family {
    std::string help;
    std::unique_ptr<Counter> counter;                          // Set for counters.
    std::function<double()> gauge;                             // Set for gauges.
    std::map<std::string, std::unique_ptr<Counter>> labelled;  // labels -> counter
  };
  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace pedigree::services
