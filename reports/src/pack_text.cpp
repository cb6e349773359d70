// Plain-text rendering of a pack report, made from the report JSON only.
#include <sstream>

#include "pedigree/reports/pack_report.h"

namespace pedigree::reports {
namespace {

using ledger::JsonArray;
using ledger::JsonValue;

std::string S(const JsonValue& o, const char* name) {
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  if (!v) return "";
  if (v->is_string()) return v->as_string();
  if (v->is_int()) return std::to_string(v->as_int());
  return "";
}

const JsonArray& A(const JsonValue& o, const char* name) {
  static const JsonArray kEmpty;
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  return v && v->is_array() ? v->as_array() : kEmpty;
}

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
    out << "  #" << S(e, "index") << "  " << S(e, "time") << "  " << S(e, "kind") << "  "
        << S(e, "summary") << "  [" << S(e, "statusAfter")
        << (S(e, "holderAfter").empty() ? "" : ", " + S(e, "holderAfter")) << "]"
        << (failed.empty() ? "  checks ok" : "  checks:" + failed) << "\n";
  }
  if (!A(report, "failures").empty()) {
    out << "\nFailures (cryptographic evidence broken)\n";
    for (const JsonValue& f : A(report, "failures")) {
      out << "  " << S(f, "code") << (S(f, "index").empty() ? "" : " at #" + S(f, "index")) << ": "
          << S(f, "message");
      if (!S(f, "expected").empty()) {
        out << "\n      expected " << S(f, "expected") << "\n      actual   " << S(f, "actual");
      }
      out << "\n";
    }
  }
  if (!A(report, "violations").empty()) {
    out << "\nViolations (rules broken or alerts raised)\n";
    for (const JsonValue& v : A(report, "violations")) {
      out << "  " << S(v, "code") << " at #" << S(v, "index") << " " << S(v, "time")
          << (S(v, "org").empty() ? "" : " by " + S(v, "org"))
          << (S(v, "location").empty() ? "" : " at " + S(v, "location")) << ": " << S(v, "message")
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
