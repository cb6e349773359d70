// Plain-text rendering of a pack report, made from the report JSON only.
#include <sstream>

#include "pedigree/reports/pack_report.h"
#include "report_text.h"

namespace pedigree::reports {
namespace {

using text::A;
using text::S;

std::string Mark(const std::string& result) {
  return result == "pass" ? "ok  " : result == "warn" ? "WARN" : "FAIL";
}

}  // namespace

std::string RenderPackText(const JsonValue& report) {
  std::ostringstream out;
  const JsonValue* subject = report.find("subject");
  JsonValue none = JsonValue::Object();
  const JsonValue& s = subject ? *subject : none;
  out << S(report, "verdict") << ": " << S(report, "summary") << "\n\n";
  out << "pack     " << S(s, "pack") << "\n";
  out << "product  " << S(s, "productName") << " (GTIN " << S(s, "gtin") << "), manufacturer "
      << S(s, "manufacturer") << "\n";
  out << "batch    " << S(s, "lot") << ", expiry " << S(s, "expiry")
      << (S(s, "batchStatus").empty() ? "" : ", " + S(s, "batchStatus")) << "\n";
  out << "status   " << S(s, "status") << ", holder " << S(s, "holder")
      << (S(s, "inTransitTo").empty() ? "" : ", in transit to " + S(s, "inTransitTo")) << "\n";
  const JsonValue* log = report.find("log");
  if (log) {
    out << "log      " << S(*log, "origin") << ", checkpoint size " << S(*log, "treeSize")
        << ", root " << S(*log, "rootHash") << "\n";
  }
  out << "generated " << S(report, "generatedAt") << "\n\nEvents\n";
  for (const JsonValue& e : A(report, "events")) {
    std::string failed;
    for (const JsonValue& c : A(e, "checks")) {
      if (S(c, "result") != "pass") failed += " " + S(c, "id") + "=" + S(c, "result");
    }
    // The claimed time, then the log's sequencing time when the entry has one.
    out << "  #" << S(e, "index") << "  " << S(e, "time")
        << (S(e, "sequencedTime").empty() ? "" : " (logged " + S(e, "sequencedTime") + ")") << "  "
        << S(e, "kind") << "  " << S(e, "summary") << "  [" << S(e, "statusAfter")
        << (S(e, "holderAfter").empty() ? "" : ", " + S(e, "holderAfter")) << "]"
        << (failed.empty() ? "  checks ok" : "  checks:" + failed) << "\n";
  }
  text::WriteFailures(out, report);
  if (!A(report, "violations").empty()) {
    out << "\nViolations (rules broken or alerts raised)\n";
    for (const JsonValue& v : A(report, "violations")) {
      out << "  " << S(v, "code") << " at #" << S(v, "index") << " " << S(v, "time")
          << (S(v, "org").empty() ? "" : " by " + S(v, "org"))
          << (S(v, "location").empty() ? "" : " at " + S(v, "location")) << ": " << S(v, "message")
          << "\n";
    }
  }
  if (!A(report, "alerts").empty()) {
    out << "\nAlerts (refusals recorded about this pack, with their state)\n";
    for (const JsonValue& a : A(report, "alerts")) {
      out << "  #" << S(a, "index") << " " << S(a, "time") << " " << S(a, "code") << " by "
          << S(a, "org") << ": " << S(a, "message") << "\n      " << S(a, "class") << ", "
          << S(a, "state")
          << (S(a, "classification").empty() ? "" : " as " + S(a, "classification"))
          << (S(a, "reason").empty() ? "" : ": " + S(a, "reason"))
          << (S(a, "weighs") == "yes" ? "; weighs on the verdict"
                                      : "; does not weigh on the verdict")
          << "\n";
    }
  }
  out << "\nChecks\n";
  for (const JsonValue& c : A(report, "checks")) {
    out << "  " << Mark(S(c, "result")) << " " << S(c, "id") << ": " << S(c, "detail") << "\n";
  }
  return out.str();
}

}  // namespace pedigree::reports
