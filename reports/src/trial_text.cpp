// Plain-text rendering of a trial report, made from the report JSON only.
#include <map>
#include <sstream>

#include "pedigree/reports/trial_report.h"
#include "report_text.h"

namespace pedigree::reports {
namespace {

using text::A;
using text::S;

const JsonValue& O(const JsonValue& o, const char* name) {
  static const JsonValue kNone = JsonValue::Object();
  const JsonValue* v = o.is_object() ? o.find(name) : nullptr;
  return v && v->is_object() ? *v : kNone;
}

std::string Mark(const std::string& result) {
  return result == "pass" ? "ok  " : result == "warn" ? "WARN" : "FAIL";
}

std::string Join(const JsonArray& items, const char* sep = "; ") {
  std::string out;
  for (const JsonValue& i : items) {
    if (i.is_string()) out += (out.empty() ? "" : sep) + Printable(i.as_string());
  }
  return out;
}

// "#12 2026-11-21T10:00:00Z signed by Dr X (approval) for Sponsor  checks ok".
std::string EventLine(const JsonValue& e) {
  std::string failed;
  for (const JsonValue& c : A(e, "checks")) {
    if (S(c, "result") != "pass") failed += " " + S(c, "id") + "=" + S(c, "result");
  }
  return "#" + S(e, "index") + "  " + S(e, "manifestation") +
         (S(e, "sequencedTime").empty() ? "" : " (logged " + S(e, "sequencedTime") + ")") +
         (failed.empty() ? "  [checks ok]" : "  [checks:" + failed + "]");
}

}  // namespace

std::string RenderTrialText(const JsonValue& report) {
  std::ostringstream out;
  const JsonValue& s = O(report, "subject");
  out << S(report, "verdict") << ": " << S(report, "summary") << "\n\n";
  out << "trial    " << S(s, "trialId") << " (" << S(s, "registryId") << ") " << S(s, "title")
      << "\n";
  out << "sponsor  " << S(s, "sponsorName") << " (" << S(s, "sponsor") << "), sites "
      << Join(A(s, "sites"), ", ") << "\n";
  std::string arms;
  for (const JsonValue& a : A(s, "arms")) {
    arms += (arms.empty() ? "" : ", ") + S(a, "code") + " " + S(a, "name");
  }
  out << "arms     " << arms << "\n";
  const JsonValue& log = O(report, "log");
  out << "log      " << S(log, "origin") << ", checkpoint size " << S(log, "treeSize") << ", root "
      << S(log, "rootHash") << "\n";
  out << "generated " << S(report, "generatedAt") << "\n\n";

  out << "Registration\n  " << EventLine(O(report, "registration")) << "\n\nProtocol\n";
  const JsonValue& protocol = O(report, "protocol");
  auto protocol_lines = [&](const JsonValue& p, const char* label) {
    const JsonValue& o = O(p, "outcomes");
    out << "  " << label << " " << S(p, "version") << " hash " << S(p, "protocolHash") << "\n    "
        << EventLine(p) << "\n    primary:   " << Join(A(o, "primary"))
        << "\n    secondary: " << Join(A(o, "secondary")) << "\n";
  };
  if (const JsonValue* seal = protocol.find("seal"); seal && seal->is_object()) {
    protocol_lines(*seal, "seal, version");
  } else {
    out << "  no protocol sealed\n";
  }
  for (const JsonValue& a : A(protocol, "amendments")) protocol_lines(a, "amendment, version");
  const JsonValue& enrol = O(protocol, "enrolments");
  out << "  enrolments: " << S(enrol, "count");
  if (enrol.find("first")) out << ", first " << EventLine(O(enrol, "first"));
  out << "\n  sealed before first enrolment: " << S(protocol, "sealedBeforeFirstEnrolment") << "\n";

  if (!A(report, "alerts").empty()) {
    out << "\nAlerts (commands the node refused)\n";
    for (const JsonValue& a : A(report, "alerts")) {
      out << "  #" << S(a, "index") << "  " << S(a, "time") << "  " << S(a, "code") << " by "
          << S(a, "org") << ": " << S(a, "message") << "\n";
    }
  }
  if (const JsonValue* oc = report.find("outcomeCheck")) {
    out << "\nOutcome check\n";
    out << "  reported not sealed: " << Join(A(*oc, "reportedNotSealed")) << "\n";
    out << "  sealed not reported: " << Join(A(*oc, "sealedNotReported")) << "\n";
    out << "  moved:               " << Join(A(*oc, "moved")) << "\n";
  }

  for (const JsonValue& d : A(report, "domains")) {
    out << "\nDomain " << S(d, "domain") << ": " << S(d, "lockState") << ", "
        << S(d, "currentLeaves") << " current records (" << S(d, "redactedLeaves") << " redacted), "
        << A(d, "submissions").size() << " submissions of " << S(d, "submittedRecords")
        << " records\n";
    // The domain's audit trail in log order: locks, seals, redactions and corrections.
    std::map<int64_t, std::string> trail;
    auto index_of = [](const JsonValue& e) {
      const JsonValue* i = e.find("index");
      return i && i->is_int() ? i->as_int() : int64_t{-1};
    };
    for (const JsonValue& l : A(d, "locks")) {
      std::string line = "  " + S(l, "action") + "  " + EventLine(l);
      if (!S(l, "reason").empty()) line += "\n      reason: " + S(l, "reason");
      if (!S(l, "approver").empty()) line += "; approver: " + S(l, "approver");
      trail[index_of(l)] = line + "\n";
    }
    for (const JsonValue& x : A(d, "seals")) {
      trail[index_of(x)] = "  seal  " + EventLine(x) + "\n      root " + S(x, "root") + ", " +
                           S(x, "recordCount") + " records, schema " + S(x, "schemaHash") + ", " +
                           S(x, "algorithm") +
                           (S(x, "current") == "yes" ? "" : " (ended by an unlock)") + "\n";
    }
    for (const JsonValue& r : A(d, "redactions")) {
      trail[index_of(r)] = "  redaction of leaf " + S(r, "leaf") + "  " + EventLine(r) +
                           "\n      reason: " + S(r, "reason") + "\n";
    }
    for (const JsonValue& x : A(d, "submissions")) {
      if (S(x, "reason").empty()) continue;
      trail[index_of(x)] = "  correction  " + EventLine(x) + "\n      " + S(x, "replacements") +
                           " record(s) replaced, reason: " + S(x, "reason") + "\n";
    }
    for (const auto& [index, line] : trail) out << line;
    for (const JsonValue& c : A(d, "comparisons")) {
      const JsonValue& r = O(c, "result");
      out << "  candidate " << S(c, "candidateFile") << ": "
          << (S(r, "identical") == "yes" ? "identical to the seal" : "DIFFERS from the seal")
          << " (" << S(r, "candidateCount") << " records, sealed " << S(r, "sealedCount") << ")\n";
      for (const JsonValue& ch : A(r, "changed")) {
        out << "    changed " << S(ch, "key") << " (line " << S(ch, "candidateLine") << ")";
        for (const JsonValue& cell : A(ch, "cells")) {
          const JsonValue* sealed = cell.find("sealed");
          const JsonValue* cand = cell.find("candidate");
          out << "\n      " << S(cell, "column") << ": "
              << (sealed && sealed->is_string() ? "'" + Printable(sealed->as_string()) + "'"
                                                : "null")
              << " -> "
              << (cand && cand->is_string() ? "'" + Printable(cand->as_string()) + "'" : "null");
        }
        out << "\n";
      }
      for (const JsonValue& k : A(r, "added")) out << "    added   " << S(k, "key") << "\n";
      for (const JsonValue& k : A(r, "deleted")) out << "    deleted " << S(k, "key") << "\n";
      for (const JsonValue& k : A(r, "unverifiable")) {
        out << "    unverifiable (redacted) " << S(k, "key") << "\n";
      }
    }
  }

  const JsonValue& consent = O(report, "consent");
  if (S(consent, "governed") == "yes") {
    out << "\nConsent\n";
    for (const JsonValue& f : A(consent, "forms")) {
      out << "  form " << S(f, "version") << " (" << S(f, "country") << "/" << S(f, "language")
          << ", ethics " << S(f, "ethicsRef") << " approved " << S(f, "approved") << ", effective "
          << S(f, "effective") << (S(f, "mandatory") == "yes" ? ", mandatory" : "") << ")  "
          << EventLine(f) << "\n      document SHA-256 " << S(f, "documentHash") << "; "
          << S(O(consent, "consentsPerVersion"), S(f, "version").c_str()) << " consent(s)\n";
    }
    out << "  " << S(consent, "subjectsConsented") << " subjects consented, "
        << S(consent, "consents")
        << " consent events; records without valid consent: " << S(consent, "recordsWithoutConsent")
        << "\n";
    for (const JsonValue& w : A(consent, "withdrawals")) {
      out << "  withdrawal of " << S(w, "subjectRef").substr(0, 16) << "…  " << EventLine(w)
          << "\n      data: " << S(w, "dataChoice") << "; " << S(w, "recordsRedacted") << " of "
          << S(w, "records") << " records redacted"
          << (S(w, "dataChoice") == "redact"
                  ? (S(w, "redactionDone") == "yes" ? " (done)" : " (PENDING)")
                  : "")
          << "\n";
    }
  }
  const JsonValue& access = O(consent, "access");
  if (!A(access, "grants").empty() || S(access, "accessesRefused") != "0") {
    out << "\nAccess grants and accesses\n";
    for (const JsonValue& g : A(access, "grants")) {
      std::string domains;
      for (const JsonValue& d : A(g, "domains")) {
        domains += (domains.empty() ? "" : ",") + d.as_string();
      }
      out << "  grant " << S(g, "grantId") << " to " << S(g, "grantee") << " (" << S(g, "purpose")
          << ") " << domains << " " << S(g, "start") << " to " << S(g, "expiry") << "  "
          << EventLine(g) << "\n";
    }
    for (const JsonValue& r : A(access, "revocations")) {
      out << "  revoked " << S(r, "grantId") << "  " << EventLine(r) << "\n";
    }
    out << "  accesses recorded: " << S(access, "accessesGranted") << " granted, "
        << S(access, "accessesRefused")
        << " refused; accesses outside grants: " << S(access, "accessesOutsideGrants") << "\n";
  }

  text::WriteFailures(out, report);
  if (!A(report, "violations").empty()) {
    out << "\nFindings\n";
    for (const JsonValue& v : A(report, "violations")) {
      out << "  " << S(v, "code") << (S(v, "index").empty() ? "" : " at #" + S(v, "index")) << ": "
          << S(v, "message") << "\n";
    }
  }
  out << "\nChecks\n";
  for (const JsonValue& c : A(report, "checks")) {
    out << "  " << Mark(S(c, "result")) << " " << S(c, "id")
        << (S(c, "domain").empty() ? "" : " [" + S(c, "domain") + "]") << ": " << S(c, "detail")
        << "\n";
  }
  return out.str();
}

}  // namespace pedigree::reports
