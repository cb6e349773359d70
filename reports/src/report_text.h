// Reading members of a report's JSON for the text renderings, and the sections the pack and
// trial texts share. Private to reports/.
#pragma once

#include <ostream>
#include <string>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/printable.h"

namespace pedigree::reports::text {

// The member as text: strings with control characters escaped (pedigree/base/printable.h),
// integers in decimal, booleans as yes/no, else "".
inline std::string S(const JsonValue& o, const char* name) {
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  if (!v) return "";
  if (v->is_string()) return Printable(v->as_string());
  if (v->is_int()) return std::to_string(v->as_int());
  if (v->is_bool()) return v->as_bool() ? "yes" : "no";
  return "";
}

// The member as an array, or an empty one.
inline const JsonArray& A(const JsonValue& o, const char* name) {
  static const JsonArray kEmpty;
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  return v && v->is_array() ? v->as_array() : kEmpty;
}

// "Failures (cryptographic evidence broken)": one line per failure with its index, and the
// expected and actual values where the report gives them.
inline void WriteFailures(std::ostream& out, const JsonValue& report) {
  if (A(report, "failures").empty()) return;
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

}  // namespace pedigree::reports::text
