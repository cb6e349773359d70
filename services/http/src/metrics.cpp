#include "pedigree/http/metrics.h"

#include <cassert>
#include <cmath>
#include <cstdio>

namespace pedigree::services {
namespace {

[[maybe_unused]] bool IsMetricName(const std::string& name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

// HELP text escapes backslash and newline (exposition format 0.0.4).
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help) {
  assert(IsMetricName(name));
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  if (!f.counter) {
    f.help = help;
    f.gauge = nullptr;
    f.counter = std::make_unique<Counter>();
  }
  return *f.counter;
}

Counter& MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                     const std::string& labels) {
  assert(IsMetricName(name));
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  assert(!f.counter && !f.gauge && "a plain metric of that name exists");
  f.help = help;
  auto& c = f.labelled[labels];
  if (!c) c = std::make_unique<Counter>();
  return *c;
}

void MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                               std::function<double()> read) {
  assert(IsMetricName(name));
  std::lock_guard lock(mutex_);
  Family& f = families_[name];
  assert(!f.counter && "a counter of that name exists");
  f.help = help;
  f.gauge = std::move(read);
}

void MetricsRegistry::WriteText(std::string& out) const {
  std::lock_guard lock(mutex_);
  for (const auto& [name, f] : families_) {
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    if (!f.labelled.empty()) {
      out += "# TYPE " + name + " counter\n";
      for (const auto& [labels, c] : f.labelled) {
        out += name + "{" + labels + "} " + std::to_string(c->value()) + "\n";
      }
    } else if (f.counter) {
      out += "# TYPE " + name + " counter\n";
      out += name + " " + std::to_string(f.counter->value()) + "\n";
    } else {
      out += "# TYPE " + name + " gauge\n";
      out += name + " " + FormatValue(f.gauge ? f.gauge() : 0.0) + "\n";
    }
  }
}

}  // namespace pedigree::services
