// TrialReport: gathers a trial's entries from the ledger, verifies each with the checks every
// report shares, and builds the report from the verified payloads.
#include "pedigree/reports/trial_report.h"

#include <algorithm>
#include <map>
#include <set>

#include "entry_checks.h"
#include "pedigree/base/time.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/trial_view.h"

namespace pedigree::reports {
namespace {

using internal::Check;
using internal::Str;
using internal::StrList;
using internal::Warn;

std::string Quoted(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "\"" : ", \"") + i + "\"";
  return out;
}

std::string Plural(size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// Which entries a domain's history consists of, from the model's tables.
struct DomainIndices {
  std::string domain;
  std::vector<uint64_t> submissions, locks, seals, redactions;
  std::string lock_state;
  size_t current_leaves = 0;
  size_t redacted_leaves = 0;
};

struct TrialIndices {
  provenance::TrialRecord trial;
  std::vector<uint64_t> protocols;
  provenance::EnrolmentSummary enrolments;
  std::vector<uint64_t> alerts;  // node alerts about the trial (enrolment_before_protocol)
  std::vector<DomainIndices> domains;
  // Consent (docs/consent.md): ledger indices of the consent forms, consents, withdrawals.
  std::vector<uint64_t> consent_forms;
  std::vector<uint64_t> consents;
  std::vector<uint64_t> withdrawals;
  // Access grants and the access record: ledger indices of the grants, revocations, accesses.
  std::vector<uint64_t> grants;
  std::vector<uint64_t> revocations;
  std::vector<uint64_t> accesses;
};

class TrialVerification {
 public:
  TrialVerification(const TrialIndices& indices, const internal::LogEvidence& evidence,
                    const TrustAnchors& anchors, const TrialReportInputs& inputs)
      : t_(indices),
        evidence_(evidence),
        inputs_(inputs),
        v_(evidence.view(), anchors, "trial's evidence") {}

  JsonValue Run();

 private:
  struct Verified {
    JsonValue checks;
    bool ok = false;
    JsonValue payload;
    std::string key;
    std::string sequenced_time;  // the log's time; empty for version 1 leaves
  };

  void Violation(std::string code, std::string message, std::optional<uint64_t> index = {},
                 std::string time = {}, std::string org = {}) {
    auto v = JsonValue::Object().set("code", std::move(code)).set("message", std::move(message));
    if (index) v.set("index", *index);
    if (!time.empty()) v.set("time", std::move(time));
    if (!org.empty()) v.set("org", std::move(org));
    violations_.push_back(std::move(v));
  }
  // The entry at `index` as a report event: who signed it, the Part 11 manifestation, its
  // checks. Fails the report when the verified entry is not the `kind` of this trial (and
  // domain) the model's tables say it is.
  JsonValue Event(uint64_t index, const std::string& kind, const std::string& domain = {});
  const JsonValue& PayloadAt(uint64_t index) const {
    static const JsonValue kNone = JsonValue::Object();
    auto it = verified_.find(index);
    return it == verified_.end() || !it->second.ok ? kNone : it->second.payload;
  }
  JsonValue Protocol();
  JsonValue Alerts();
  void OutcomeCheck(JsonValue& report);
  JsonValue Domain(const DomainIndices& d);
  JsonValue Consent();
  JsonValue Access();
  void Compare(const DomainIndices& d, const DomainComparison& c, JsonValue& out);

  const TrialIndices& t_;
  const internal::LogEvidence& evidence_;
  const TrialReportInputs& inputs_;
  internal::EntryVerification v_;
  std::map<uint64_t, Verified> verified_;
  JsonArray violations_, registry_;
};

JsonValue TrialVerification::Event(uint64_t index, const std::string& kind,
                                   const std::string& domain) {
  auto event = JsonValue::Object().set("index", index).set("kind", kind);
  auto it = verified_.find(index);
  if (it == verified_.end()) return event;  // not gathered: cannot happen for our indices
  const Verified& e = it->second;
  if (e.ok) {
    const JsonValue& p = e.payload;
    std::string org = Str(p, "org");
    const JsonValue* sig = p.find("signature");
    std::string name = sig ? Str(*sig, "name") : "", meaning = sig ? Str(*sig, "meaning") : "";
    // The claimed time and the log's sequencing time (empty for version 1 leaves).
    event.set("time", Str(p, "time"))
        .set("sequencedTime", e.sequenced_time)
        .set("org", org)
        .set("orgName", v_.OrgName(org));
    event.set("key", e.key);
    event.set(
        "signature",
        JsonValue::Object().set("name", name).set("meaning", meaning).set("time", Str(p, "time")));
    event.set("manifestation", "signed by " + name + " (" + meaning + ") for " + v_.OrgName(org) +
                                   " at " + Str(p, "time"));
    std::string actual_kind = Str(p, "kind");
    std::string actual_domain = Str(p, "domain");
    if (actual_kind != kind || Str(p, "trialId") != t_.trial.id ||
        (!domain.empty() && actual_domain != domain)) {
      std::string expected = kind + " of " + t_.trial.id + (domain.empty() ? "" : "/" + domain);
      std::string actual = actual_kind + " of " + Str(p, "trialId") +
                           (actual_domain.empty() ? "" : "/" + actual_domain);
      v_.Fail("trial.entry_mismatch",
              "entry " + std::to_string(index) + " is a " + actual +
                  ", but the ledger's trial tables list it as " + expected,
              index, expected, actual);
    }
  }
  event.set("checks", e.checks);
  return event;
}

// The alerts the node recorded when it refused a command about this trial: signed by the
// log's node key, they are evidence that someone tried (e.g. to enrol before the protocol).
JsonValue TrialVerification::Alerts() {
  auto out = JsonValue::Array();
  for (uint64_t index : t_.alerts) {
    auto alert = JsonValue::Object().set("index", index);
    auto it = verified_.find(index);
    if (it == verified_.end()) continue;
    const Verified& e = it->second;
    const JsonValue& p = e.payload;
    if (e.ok) {
      std::string code = Str(p, "code");
      std::string prefix = "trial '" + t_.trial.id + "' ";
      if (Str(p, "kind") != "alert" || Str(p, "message").rfind(prefix, 0) != 0) {
        v_.Fail("trial.entry_mismatch",
                "entry " + std::to_string(index) + " is not an alert about trial " + t_.trial.id +
                    ", but the ledger's alert table lists it as one",
                index, "alert about " + t_.trial.id, Str(p, "kind"));
      } else {
        Violation("alert." + code, Str(p, "message"), index, Str(p, "time"), Str(p, "subjectOrg"));
      }
      alert.set("code", code)
          .set("time", Str(p, "time"))
          .set("org", Str(p, "subjectOrg"))
          .set("refusedKind", Str(p, "refusedKind"))
          .set("message", Str(p, "message"))
          .set("key", e.key);
    }
    alert.set("checks", e.checks);
    out.push_back(std::move(alert));
  }
  return out;
}

JsonValue TrialVerification::Protocol() {
  auto out = JsonValue::Object();
  auto amendments = JsonValue::Array();
  std::optional<uint64_t> seal;
  for (uint64_t index : t_.protocols) {
    JsonValue e = Event(index, "trial.protocol");
    const JsonValue& p = PayloadAt(index);
    e.set("protocolHash", Str(p, "protocolHash")).set("version", Str(p, "version"));
    const JsonValue* outcomes = p.find("outcomes");
    e.set("outcomes",
          JsonValue::Object()
              .set("primary", JsonValue::Strings(outcomes ? StrList(*outcomes, "primary")
                                                          : std::vector<std::string>{}))
              .set("secondary", JsonValue::Strings(outcomes ? StrList(*outcomes, "secondary")
                                                            : std::vector<std::string>{})));
    if (!seal) {
      seal = index;
      out.set("seal", std::move(e));
    } else {
      bool after = t_.enrolments.first_index && index > *t_.enrolments.first_index;
      e.set("afterFirstEnrolment", after);
      amendments.push_back(std::move(e));
    }
  }
  if (!seal) out.set("seal", nullptr);
  out.set("amendments", std::move(amendments));

  auto enrol = JsonValue::Object().set("count", t_.enrolments.count);
  if (t_.enrolments.first_index) {
    enrol.set("first", Event(*t_.enrolments.first_index, "trial.enrol"));
  }
  out.set("enrolments", std::move(enrol));

  const char* id = "protocol.before_first_enrolment";
  bool before = false;
  if (!seal) {
    if (t_.enrolments.first_index) {
      uint64_t first = *t_.enrolments.first_index;
      v_.checks().push_back(Check(id, false, "subjects were enrolled but no protocol is sealed"));
      Violation("protocol.after_first_enrolment",
                "subjects were enrolled (first at entry " + std::to_string(first) +
                    ") but the trial has no sealed protocol",
                first, Str(PayloadAt(first), "time"), Str(PayloadAt(first), "org"));
    } else {
      v_.checks().push_back(Warn(id, "no protocol sealed and nobody enrolled yet"));
    }
  } else if (!t_.enrolments.first_index) {
    before = true;
    v_.checks().push_back(Check(id, true,
                                "protocol sealed at entry " + std::to_string(*seal) + " (" +
                                    Str(PayloadAt(*seal), "time") + "); nobody enrolled yet"));
  } else {
    uint64_t first = *t_.enrolments.first_index;
    before = *seal < first;
    std::string detail = "protocol sealed at entry " + std::to_string(*seal) + " (" +
                         Str(PayloadAt(*seal), "time") + "), first enrolment at entry " +
                         std::to_string(first) + " (" + Str(PayloadAt(first), "time") + ")";
    v_.checks().push_back(Check(id, before, detail));
    if (!before) {
      Violation("protocol.after_first_enrolment",
                "the protocol was sealed after the first enrolment: " + detail, *seal,
                Str(PayloadAt(*seal), "time"), Str(PayloadAt(*seal), "org"));
    }
  }
  out.set("sealedBeforeFirstEnrolment", before);
  return out;
}

void TrialVerification::OutcomeCheck(JsonValue& report) {
  if (!inputs_.reported_outcomes) return;
  const ReportedOutcomes& reported = *inputs_.reported_outcomes;
  auto out = JsonValue::Object().set("reported",
                                     JsonValue::Object()
                                         .set("primary", JsonValue::Strings(reported.primary))
                                         .set("secondary", JsonValue::Strings(reported.secondary)));
  const char* id = "outcomes.match";
  if (t_.protocols.empty()) {
    v_.checks().push_back(Check(id, false, "no protocol is sealed to compare the outcomes with"));
    Violation("outcomes.no_protocol", "outcomes are reported but the trial sealed no protocol");
    report.set("outcomeCheck", std::move(out));
    return;
  }
  uint64_t seal = t_.protocols.front();
  const JsonValue& p = PayloadAt(seal);
  const JsonValue* outcomes = p.find("outcomes");
  std::vector<std::string> primary, secondary;
  if (outcomes) {
    primary = StrList(*outcomes, "primary");
    secondary = StrList(*outcomes, "secondary");
  }
  auto d = provenance::OutcomeCheck(primary, secondary, reported.primary, reported.secondary);
  out.set("sealIndex", seal)
      .set("sealed", JsonValue::Object()
                         .set("primary", JsonValue::Strings(primary))
                         .set("secondary", JsonValue::Strings(secondary)))
      .set("reportedNotSealed", JsonValue::Strings(d.reported_not_sealed))
      .set("sealedNotReported", JsonValue::Strings(d.sealed_not_reported))
      .set("moved", JsonValue::Strings(d.moved))
      .set("switched", !d.empty());
  if (d.empty()) {
    v_.checks().push_back(
        Check(id, true, "the reported outcomes are those sealed at entry " + std::to_string(seal)));
  } else {
    std::string message =
        "outcome switching against the protocol sealed at entry " + std::to_string(seal) + ":";
    if (!d.reported_not_sealed.empty()) {
      message += " reported but not sealed: " + Quoted(d.reported_not_sealed) + ";";
    }
    if (!d.sealed_not_reported.empty()) {
      message += " sealed but not reported: " + Quoted(d.sealed_not_reported) + ";";
    }
    if (!d.moved.empty()) {
      message += " moved between primary and secondary: " + Quoted(d.moved) + ";";
    }
    message.pop_back();
    v_.checks().push_back(Check(id, false, message));
    Violation("outcomes.switched", message, seal, Str(p, "time"), Str(p, "org"));
  }
  report.set("outcomeCheck", std::move(out));
}

JsonValue SealJson(const provenance::SealSummary& s) {
  return JsonValue::Object()
      .set("root", ToHex(s.root))
      .set("recordCount", s.record_count)
      .set("schemaHash", s.schema_hash)
      .set("algorithm", s.algorithm);
}

JsonValue DiffJson(const provenance::DatasetDiff& diff) {
  auto changed = JsonValue::Array();
  for (const provenance::ChangedRecord& c : diff.changed) {
    auto cells = JsonValue::Array();
    for (const provenance::CellChange& cell : c.cells) {
      cells.push_back(
          JsonValue::Object()
              .set("column", cell.column)
              .set("sealed", cell.sealed ? JsonValue(*cell.sealed) : JsonValue())
              .set("candidate", cell.candidate ? JsonValue(*cell.candidate) : JsonValue())
              .set("inSealed", cell.in_sealed)
              .set("inCandidate", cell.in_candidate));
    }
    changed.push_back(JsonValue::Object()
                          .set("key", c.key)
                          .set("candidateLine", c.candidate_line)
                          .set("valuesKnown", c.values_known)
                          .set("cells", std::move(cells)));
  }
  auto keys = [](const std::vector<provenance::KeyAtLine>& list) {
    auto a = JsonValue::Array();
    for (const provenance::KeyAtLine& k : list) {
      auto o = JsonValue::Object().set("key", k.key);
      if (k.line) o.set("line", k.line);
      a.push_back(std::move(o));
    }
    return a;
  };
  auto out = JsonValue::Object()
                 .set("identical", diff.records_identical())
                 .set("sealedCount", diff.sealed_count)
                 .set("candidateCount", diff.candidate_count)
                 .set("changed", std::move(changed))
                 .set("added", keys(diff.added))
                 .set("deleted", keys(diff.deleted))
                 .set("unverifiable", keys(diff.unverifiable));
  if (diff.file_hash) {
    out.set("fileHash", JsonValue::Object()
                            .set("recorded", diff.file_hash->recorded)
                            .set("candidate", diff.file_hash->candidate)
                            .set("matches", diff.file_hash->matches()));
  }
  return out;
}

void TrialVerification::Compare(const DomainIndices& d, const DomainComparison& c, JsonValue& out) {
  auto check = [&](JsonValue v) {
    v.set("domain", d.domain);
    v_.checks().push_back(std::move(v));
  };
  const std::string file = c.candidate_file.empty() ? "the candidate" : c.candidate_file;
  out.set("candidateFile", c.candidate_file).set("seal", SealJson(c.seal));
  // Which seal of the ledger the comparison's seal is, if any.
  std::optional<uint64_t> match;
  std::string differs;
  for (uint64_t index : d.seals) {
    const JsonValue& p = PayloadAt(index);
    const JsonValue* count = p.find("recordCount");
    std::vector<std::string> diff;
    if (Str(p, "root") != ToHex(c.seal.root)) diff.push_back("root");
    if (!count || !count->is_int() ||
        count->as_int() != static_cast<int64_t>(c.seal.record_count)) {
      diff.push_back("recordCount");
    }
    if (Str(p, "schemaHash") != c.seal.schema_hash) diff.push_back("schemaHash");
    if (Str(p, "algorithm") != c.seal.algorithm) diff.push_back("algorithm");
    if (diff.empty()) match = index;
    if (index == d.seals.back() && !diff.empty()) {
      for (const auto& f : diff) differs += (differs.empty() ? "" : ", ") + f;
    }
  }
  const char* id = "seal.matches_ledger";
  std::optional<uint64_t> latest;
  if (!d.seals.empty()) latest = d.seals.back();
  if (!latest) {
    std::string m = "the comparison for " + d.domain + " used a seal (root " + ToHex(c.seal.root) +
                    ") but the ledger holds no seal of this domain";
    check(Check(id, false, m));
    Violation("seal.not_on_ledger", m);
  } else if (match == latest) {
    check(Check(id, true,
                "root " + ToHex(c.seal.root) + ", " + std::to_string(c.seal.record_count) +
                    " records: the seal at entry " + std::to_string(*latest) + " (" +
                    Str(PayloadAt(*latest), "time") + ")"));
  } else if (match) {
    std::string m = "the comparison for " + d.domain + " used the seal at entry " +
                    std::to_string(*match) + ", superseded by the seal at entry " +
                    std::to_string(*latest);
    check(Check(id, false, m).set("index", *latest));
    Violation("seal.not_latest", m, *latest, Str(PayloadAt(*latest), "time"));
  } else {
    const JsonValue& p = PayloadAt(*latest);
    const JsonValue* count = p.find("recordCount");
    std::string expected = "root " + Str(p, "root") + ", " +
                           std::to_string(count && count->is_int() ? count->as_int() : 0) +
                           " records";
    std::string actual =
        "root " + ToHex(c.seal.root) + ", " + std::to_string(c.seal.record_count) + " records";
    std::string m = "the seal the comparison for " + d.domain +
                    " used differs from the seal at entry " + std::to_string(*latest) + " in " +
                    differs;
    check(
        Check(id, false, m).set("index", *latest).set("expected", expected).set("actual", actual));
    Violation("seal.not_on_ledger", m, *latest, Str(p, "time"));
  }

  const provenance::DatasetDiff& diff = c.diff;
  out.set("result", DiffJson(diff));
  id = "dataset.unchanged";
  if (diff.records_identical()) {
    check(Check(id, true,
                file + ": all " + std::to_string(diff.candidate_count) +
                    " records reproduce their sealed leaves"));
  } else if (diff.changed.empty() && diff.added.empty() && diff.deleted.empty()) {
    check(Warn(id, file + ": " + Plural(diff.unverifiable.size(), "record") +
                       " cannot be checked because the sealed record was redacted; the others "
                       "reproduce their sealed leaves"));
  } else {
    std::string m = "the candidate dataset " + file + " for " + d.domain +
                    " differs from the seal: " + std::to_string(diff.changed.size()) +
                    " changed, " + std::to_string(diff.added.size()) + " added, " +
                    std::to_string(diff.deleted.size()) + " deleted";
    if (!diff.changed.empty()) {
      const provenance::ChangedRecord& first = diff.changed.front();
      m += "; first changed record " + first.key;
      if (!first.cells.empty()) {
        const provenance::CellChange& cell = first.cells.front();
        m += " column " + cell.column + ": sealed " +
             (cell.sealed ? "'" + *cell.sealed + "'" : std::string("null")) + ", candidate " +
             (cell.candidate ? "'" + *cell.candidate + "'" : std::string("null"));
      }
    }
    check(Check(id, false, m));
    Violation("dataset.changed", m, latest, latest ? Str(PayloadAt(*latest), "time") : "");
  }
  if (diff.file_hash && !diff.file_hash->matches()) {
    check(Warn("dataset.file_hash", file + ": file SHA-256 " + diff.file_hash->candidate +
                                        " differs from the recorded " + diff.file_hash->recorded));
  }
}

JsonValue TrialVerification::Domain(const DomainIndices& d) {
  auto out = JsonValue::Object()
                 .set("domain", d.domain)
                 .set("lockState", d.lock_state)
                 .set("currentLeaves", d.current_leaves)
                 .set("redactedLeaves", d.redacted_leaves);
  auto locks = JsonValue::Array();
  for (uint64_t index : d.locks) {
    JsonValue e = Event(index, "trial.lock", d.domain);
    const JsonValue& p = PayloadAt(index);
    e.set("action", Str(p, "action"));
    if (!Str(p, "reason").empty()) e.set("reason", Str(p, "reason"));
    if (!Str(p, "approver").empty()) e.set("approver", Str(p, "approver"));
    locks.push_back(std::move(e));
  }
  auto seals = JsonValue::Array();
  for (uint64_t index : d.seals) {
    JsonValue e = Event(index, "trial.seal", d.domain);
    const JsonValue& p = PayloadAt(index);
    const JsonValue* count = p.find("recordCount");
    e.set("root", Str(p, "root"))
        .set("recordCount", count && count->is_int() ? count->as_int() : 0)
        .set("schemaHash", Str(p, "schemaHash"))
        .set("algorithm", Str(p, "algorithm"));
    // A seal ends with the next unlock of its domain.
    bool current = true;
    for (uint64_t l : d.locks) {
      if (l > index && Str(PayloadAt(l), "action") == "unlock") current = false;
    }
    e.set("current", current);
    seals.push_back(std::move(e));
  }
  auto redactions = JsonValue::Array();
  for (uint64_t index : d.redactions) {
    JsonValue e = Event(index, "trial.redact", d.domain);
    const JsonValue& p = PayloadAt(index);
    e.set("leaf", Str(p, "leaf")).set("reason", Str(p, "reason"));
    redactions.push_back(std::move(e));
  }
  auto submissions = JsonValue::Array();
  size_t records = 0;
  for (uint64_t index : d.submissions) {
    JsonValue e = Event(index, "trial.submit", d.domain);
    const JsonValue& p = PayloadAt(index);
    size_t n = 0, replacements = 0;
    if (const JsonValue* r = p.find("records"); r && r->is_array()) {
      n = r->size();
      for (const JsonValue& rec : r->as_array()) replacements += rec.find("replaces") != nullptr;
    }
    records += n;
    e.set("records", n).set("replacements", replacements);
    if (!Str(p, "reason").empty()) e.set("reason", Str(p, "reason"));
    submissions.push_back(std::move(e));
  }
  out.set("submittedRecords", records);
  out.set("locks", std::move(locks))
      .set("seals", std::move(seals))
      .set("redactions", std::move(redactions))
      .set("submissions", std::move(submissions));
  auto comparisons = JsonValue::Array();
  for (const DomainComparison& c : inputs_.comparisons) {
    if (c.domain != d.domain) continue;
    auto cmp = JsonValue::Object();
    Compare(d, c, cmp);
    comparisons.push_back(std::move(cmp));
  }
  out.set("comparisons", std::move(comparisons));
  return out;
}

JsonValue TrialVerification::Run() {
  v_.VerifyCheckpoints();
  v_.VerifyAuthority();
  v_.OpenEntries();
  v_.LearnRegistry();
  for (size_t i = 0; i < evidence_.entries.size(); ++i) {
    Verified e;
    e.checks = v_.EntryChecks(i, e.ok);
    if (v_.opened(i)) {
      e.payload = v_.opened(i)->payload;
      e.key = v_.opened(i)->key.Fingerprint();
      e.sequenced_time = v_.opened(i)->sequenced_text;
    }
    uint64_t index = evidence_.entries[i].index;
    std::string kind = Str(e.payload, "kind");
    if (kind.rfind("org.", 0) == 0) {
      std::string org = Str(e.payload, "org");
      std::string subject = Str(e.payload, "id");
      registry_.push_back(JsonValue::Object()
                              .set("index", index)
                              .set("kind", kind)
                              .set("time", Str(e.payload, "time"))
                              .set("subject", subject)
                              .set("key", e.key)
                              .set("summary", kind + " for " + subject)
                              .set("checks", e.checks));
    }
    verified_.emplace(index, std::move(e));
  }

  auto report = JsonValue::Object();
  JsonValue registration = Event(t_.trial.index, "trial.register");
  const JsonValue& reg = PayloadAt(t_.trial.index);
  auto arms = JsonValue::Array();
  if (const JsonValue* a = reg.find("arms"); a && a->is_array()) {
    for (const JsonValue& arm : a->as_array()) {
      arms.push_back(
          JsonValue::Object().set("code", Str(arm, "code")).set("name", Str(arm, "name")));
    }
  }
  auto subject = JsonValue::Object()
                     .set("trialId", t_.trial.id)
                     .set("registryId", Str(reg, "registryId"))
                     .set("sponsor", Str(reg, "org"))
                     .set("sponsorName", v_.OrgName(Str(reg, "org")))
                     .set("title", Str(reg, "title"))
                     .set("sites", JsonValue::Strings(StrList(reg, "sites")))
                     .set("arms", std::move(arms));
  JsonValue protocol = Protocol();
  JsonValue alerts = Alerts();
  OutcomeCheck(report);
  auto domains = JsonValue::Array();
  for (const DomainIndices& d : t_.domains) domains.push_back(Domain(d));
  JsonValue consent = Consent();
  consent.set("access", Access());

  JsonArray& failures = v_.failures();
  std::string verdict = internal::VerdictOf(failures, violations_);
  std::string summary;
  if (verdict == "FAILED") {
    const JsonValue& f = failures.front();
    summary = "The ledger evidence for trial " + t_.trial.id + " is broken (" +
              f.find("code")->as_string() +
              (f.find("index") ? " at entry " + std::to_string(f.find("index")->as_int()) : "") +
              "): do not rely on its history.";
  } else if (verdict == "SUSPECT") {
    summary = "The ledger evidence for trial " + t_.trial.id + " is authentic, but " +
              std::to_string(violations_.size()) +
              " finding(s) speak against what was checked, first: " +
              violations_.front().find("message")->as_string() + ".";
  } else {
    summary =
        "Every checked event of trial " + t_.trial.id + " is signed by a valid key and logged; " +
        (t_.protocols.empty() ? std::string("no protocol is sealed yet")
                              : std::string("the protocol was sealed before the first enrolment"));
    if (inputs_.reported_outcomes) summary += ", the reported outcomes are the sealed ones";
    if (!inputs_.comparisons.empty()) summary += ", the candidate datasets equal their seals";
    summary += ".";
  }
  // Members in the order of the other reports: common ones first.
  auto out = JsonValue::Object()
                 .set("format", "pedigree-report/v1")
                 .set("report", "trial")
                 .set("generatedAt", FormatUtcTime(inputs_.generated_at))
                 .set("verdict", verdict)
                 .set("summary", summary)
                 .set("subject", std::move(subject))
                 .set("log", std::move(v_.log()))
                 .set("checks", std::move(v_.checks()))
                 .set("registration", std::move(registration))
                 .set("protocol", std::move(protocol));
  if (const JsonValue* oc = report.find("outcomeCheck")) out.set("outcomeCheck", *oc);
  return out.set("domains", std::move(domains))
      .set("consent", std::move(consent))
      .set("alerts", std::move(alerts))
      .set("registry", std::move(registry_))
      .set("failures", std::move(failures))
      .set("violations", std::move(violations_));
}

// The consent section, computed from the verified payloads of the consent, withdrawal,
// submission and redaction entries (not from the model's tables): the forms, consents per
// version, each withdrawal and whether its redaction is done, and the records accepted
// without a valid consent (must be none). The recount checks, in log order from the
// trial's first consent form, that each record names a subject with an earlier consent, no
// earlier withdrawal, and a granted scope covering the domain; the mandatory re-consent
// rule, which depends on the log's time, is left to the replay audit.
JsonValue TrialVerification::Consent() {
  auto out = JsonValue::Object();
  auto forms = JsonValue::Array();
  std::map<std::string, std::map<std::string, std::vector<std::string>>> scopes;  // version
  std::map<std::string, int64_t> per_version;
  for (uint64_t index : t_.consent_forms) {
    JsonValue e = Event(index, "trial.consent_form");
    const JsonValue& p = PayloadAt(index);
    const std::string version = Str(p, "version");
    if (const JsonValue* sc = p.find("scopes"); sc && sc->is_object()) {
      for (const auto& [name, domains] : sc->as_object()) {
        scopes[version][name] =
            domains.is_array() ? StrList(*sc, name.c_str()) : std::vector<std::string>{};
      }
      e.set("scopes", *sc);
    }
    const JsonValue* mandatory = p.find("mandatory");
    e.set("version", version)
        .set("documentHash", Str(p, "documentHash"))
        .set("country", Str(p, "country"))
        .set("language", Str(p, "language"))
        .set("ethicsRef", Str(p, "ethicsRef"))
        .set("approved", Str(p, "approved"))
        .set("effective", Str(p, "effective"))
        .set("mandatory", mandatory && mandatory->is_bool() && mandatory->as_bool());
    per_version[version] = 0;
    forms.push_back(std::move(e));
  }
  // Log-order events per subject: consents (granted domains) and withdrawals.
  struct Act {
    uint64_t index;
    bool withdrawal;
    std::set<std::string> domains;
  };
  std::map<std::string, std::vector<Act>> acts;
  std::set<std::string> consented;
  for (uint64_t index : t_.consents) {
    const JsonValue& p = PayloadAt(index);
    const std::string version = Str(p, "icfVersion");
    ++per_version[version];
    consented.insert(Str(p, "subjectRef"));
    Act a{index, false, {}};
    for (const std::string& scope : StrList(p, "scopesGranted")) {
      for (const std::string& d : scopes[version][scope]) a.domains.insert(d);
    }
    acts[Str(p, "subjectRef")].push_back(std::move(a));
  }
  for (uint64_t index : t_.withdrawals) {
    acts[Str(PayloadAt(index), "subjectRef")].push_back({index, true, {}});
  }
  for (auto& [subject, list] : acts) {
    std::sort(list.begin(), list.end(),
              [](const Act& a, const Act& b) { return a.index < b.index; });
  }
  std::set<std::pair<std::string, std::string>> redacted;  // domain, leaf
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> leaves_of;
  const uint64_t governed_from =
      t_.consent_forms.empty()
          ? UINT64_MAX
          : *std::min_element(t_.consent_forms.begin(), t_.consent_forms.end());
  auto without = JsonValue::Array();
  int64_t without_count = 0;
  for (const DomainIndices& d : t_.domains) {
    for (uint64_t index : d.redactions) redacted.insert({d.domain, Str(PayloadAt(index), "leaf")});
    for (uint64_t index : d.submissions) {
      const JsonValue* records = PayloadAt(index).find("records");
      if (!records || !records->is_array()) continue;
      for (const JsonValue& r : records->as_array()) {
        const std::string subject = Str(r, "subjectRef"), leaf = Str(r, "leaf");
        if (!subject.empty()) leaves_of[subject].emplace_back(d.domain, leaf);
        if (index < governed_from) continue;
        std::string why;
        const Act* latest_consent = nullptr;
        bool withdrawn = false;
        if (auto it = acts.find(subject); it != acts.end()) {
          for (const Act& a : it->second) {
            if (a.index > index) break;
            if (a.withdrawal) {
              withdrawn = true;
            } else {
              latest_consent = &a;
            }
          }
        }
        if (subject.empty()) {
          why = "names no subject";
        } else if (withdrawn) {
          why = "after the subject's withdrawal";
        } else if (!latest_consent) {
          why = "without a consent";
        } else if (!latest_consent->domains.count(d.domain)) {
          why = "outside the granted scopes";
        }
        if (why.empty()) continue;
        if (++without_count <= 50) {
          without.push_back(JsonValue::Object()
                                .set("index", index)
                                .set("domain", d.domain)
                                .set("leaf", leaf)
                                .set("reason", why));
        }
        Violation("consent.record_without_consent",
                  d.domain + " record " + leaf.substr(0, 16) + "… at entry " +
                      std::to_string(index) + " was accepted " + why,
                  index, Str(PayloadAt(index), "time"));
      }
    }
  }
  auto withdrawals = JsonValue::Array();
  int64_t pending = 0;
  for (uint64_t index : t_.withdrawals) {
    JsonValue e = Event(index, "trial.withdraw");
    const JsonValue& p = PayloadAt(index);
    const std::string subject = Str(p, "subjectRef"), choice = Str(p, "dataChoice");
    int64_t total = 0, done = 0;
    for (const auto& [domain, leaf] : leaves_of[subject]) {
      ++total;
      if (redacted.count({domain, leaf})) ++done;
    }
    e.set("subjectRef", subject)
        .set("withdrawalTime", Str(p, "withdrawalTime"))
        .set("dataChoice", choice)
        .set("records", total)
        .set("recordsRedacted", done);
    if (choice == "redact") {
      e.set("redactionDone", done == total);
      if (done != total) ++pending;
    }
    withdrawals.push_back(std::move(e));
  }
  auto versions = JsonValue::Object();
  for (const auto& [version, n] : per_version) versions.set(version, n);
  if (!t_.consent_forms.empty()) {
    const char* id = "consent.records_consented";
    if (without_count == 0) {
      v_.checks().push_back(Check(id, true,
                                  "every record since the first consent form names a subject "
                                  "whose consent covers it"));
    } else {
      v_.checks().push_back(Check(id, false,
                                  Plural(static_cast<size_t>(without_count), "record") +
                                      " accepted without a valid consent"));
    }
    if (pending > 0) {
      v_.checks().push_back(
          Warn("consent.redactions_done", Plural(static_cast<size_t>(pending), "withdrawal") +
                                              " chose redaction that is not carried out yet"));
    }
  }
  return out.set("governed", !t_.consent_forms.empty())
      .set("forms", std::move(forms))
      .set("consents", static_cast<int64_t>(t_.consents.size()))
      .set("subjectsConsented", static_cast<int64_t>(consented.size()))
      .set("consentsPerVersion", std::move(versions))
      .set("withdrawals", std::move(withdrawals))
      .set("recordsWithoutConsent", without_count)
      .set("recordsWithoutConsentListed", std::move(without));
}

// The grant history and the access record, recounted from the verified payloads of the
// grant, revocation and access entries: each granted access must follow a grant of the
// trial to its reader, for its purpose and domain, not revoked before it, and fall in
// [start, expiry) at the log's time of the access (the claimed time for version 1
// leaves). Accesses outside grants must be none. The sites/subjects restriction, which
// needs each leaf's subject, is left to the replay audit.
JsonValue TrialVerification::Access() {
  struct GrantTerms {
    uint64_t index = 0;
    std::string grantee, purpose;
    std::vector<std::string> domains;
    int64_t start = 0, expiry = 0;
    std::optional<uint64_t> revoked;
  };
  std::map<std::string, GrantTerms> terms;
  auto when = [](const std::string& text) { return ParseUtcTime(text).value_or(INT64_MIN); };
  auto grants = JsonValue::Array();
  for (uint64_t index : t_.grants) {
    JsonValue e = Event(index, "trial.grant");
    const JsonValue& p = PayloadAt(index);
    GrantTerms g{index,
                 Str(p, "grantee"),
                 Str(p, "purpose"),
                 StrList(p, "domains"),
                 when(Str(p, "start")),
                 when(Str(p, "expiry")),
                 {}};
    terms[Str(p, "grantId")] = g;
    e.set("grantId", Str(p, "grantId"))
        .set("grantee", g.grantee)
        .set("purpose", g.purpose)
        .set("domains", JsonValue::Strings(g.domains))
        .set("sites", JsonValue::Strings(StrList(p, "sites")))
        .set("subjectCount", static_cast<int64_t>(StrList(p, "subjects").size()))
        .set("start", Str(p, "start"))
        .set("expiry", Str(p, "expiry"));
    grants.push_back(std::move(e));
  }
  auto revocations = JsonValue::Array();
  for (uint64_t index : t_.revocations) {
    JsonValue e = Event(index, "trial.revoke_grant");
    const JsonValue& p = PayloadAt(index);
    const std::string id = Str(p, "grantId");
    if (auto it = terms.find(id); it != terms.end()) it->second.revoked = index;
    e.set("grantId", id).set("reason", Str(p, "reason"));
    revocations.push_back(std::move(e));
  }
  int64_t granted = 0, refused = 0, outside_count = 0;
  std::map<std::string, int64_t> per_reader;
  auto outside = JsonValue::Array();
  for (uint64_t index : t_.accesses) {
    JsonValue e = Event(index, "trial.access");
    const JsonValue& p = PayloadAt(index);
    const std::string reader = Str(p, "reader"), id = Str(p, "grantId"), domain = Str(p, "domain");
    if (Str(p, "outcome") != "granted") {
      ++refused;
      continue;
    }
    ++granted;
    ++per_reader[reader];
    auto it = verified_.find(index);
    const std::string at_text = it != verified_.end() && !it->second.sequenced_time.empty()
                                    ? it->second.sequenced_time
                                    : Str(p, "time");
    const int64_t at = when(at_text);
    std::string why;
    auto g = terms.find(id);
    if (g == terms.end() || g->second.index > index) {
      why = "under no earlier grant '" + id + "'";
    } else if (g->second.grantee != reader) {
      why = "by " + reader + " under grant '" + id + "' to " + g->second.grantee;
    } else if (g->second.revoked && *g->second.revoked < index) {
      why = "after grant '" + id + "' was revoked at entry " + std::to_string(*g->second.revoked);
    } else if (at < g->second.start || at >= g->second.expiry) {
      why = "at " + at_text + ", outside grant '" + id + "''s period";
    } else if (std::find(g->second.domains.begin(), g->second.domains.end(), domain) ==
               g->second.domains.end()) {
      why = "of domain " + domain + ", which grant '" + id + "' does not cover";
    } else if (g->second.purpose != Str(p, "purpose")) {
      why = "for " + Str(p, "purpose") + " under grant '" + id + "' for " + g->second.purpose;
    }
    if (why.empty()) continue;
    if (++outside_count <= 50) {
      outside.push_back(
          JsonValue::Object().set("index", index).set("reader", reader).set("reason", why));
    }
    Violation("consent.access_outside_grant",
              "the access recorded at entry " + std::to_string(index) + " was " + why, index,
              at_text, reader);
  }
  if (!t_.grants.empty() || !t_.accesses.empty()) {
    const char* id = "consent.accesses_within_grants";
    if (outside_count == 0) {
      v_.checks().push_back(
          Check(id, true, "every recorded access lies inside a grant valid at its time"));
    } else {
      v_.checks().push_back(Check(id, false,
                                  std::to_string(outside_count) +
                                      (outside_count == 1 ? " access" : " accesses") +
                                      " recorded outside a valid grant"));
    }
  }
  auto readers = JsonValue::Object();
  for (const auto& [reader, n] : per_reader) readers.set(reader, n);
  return JsonValue::Object()
      .set("grants", std::move(grants))
      .set("revocations", std::move(revocations))
      .set("accessesGranted", granted)
      .set("accessesRefused", refused)
      .set("accessesByReader", std::move(readers))
      .set("accessesOutsideGrants", outside_count)
      .set("accessesOutsideGrantsListed", std::move(outside));
}

Result<TrialIndices> GatherIndices(log::Ledger& ledger, std::string_view trial_id) {
  PEDIGREE_ASSIGN(view, provenance::TrialView::Open(ledger.db_path()));
  PEDIGREE_ASSIGN(trial, (*view)->Trial(trial_id));
  if (!*trial) {
    return Fail(Error("report.no_such_trial", "no trial '" + std::string(trial_id) +
                                                  "' was ever registered on log " + ledger.origin())
                    .at_field("trial"));
  }
  TrialIndices t;
  t.trial = **trial;
  PEDIGREE_ASSIGN(protocols, (*view)->Protocols(trial_id));
  for (const auto& p : *protocols) t.protocols.push_back(p.index);
  PEDIGREE_ASSIGN(enrolments, (*view)->Enrolments(trial_id));
  t.enrolments = *enrolments;
  PEDIGREE_ASSIGN(alerts, (*view)->EnrolmentRefusals(trial_id));
  t.alerts = std::move(*alerts);
  PEDIGREE_ASSIGN(domains, (*view)->Domains(trial_id));
  for (const std::string& domain : *domains) {
    DomainIndices d;
    d.domain = domain;
    PEDIGREE_ASSIGN(submissions, (*view)->Submissions(trial_id, domain));
    d.submissions = std::move(*submissions);
    PEDIGREE_ASSIGN(locks, (*view)->LockHistory(trial_id, domain));
    for (const auto& l : *locks) d.locks.push_back(l.index);
    PEDIGREE_ASSIGN(seals, (*view)->Seals(trial_id, domain));
    for (const auto& s : *seals) d.seals.push_back(s.index);
    PEDIGREE_ASSIGN(redactions, (*view)->Redactions(trial_id, domain));
    for (const auto& r : *redactions) d.redactions.push_back(r.index);
    std::sort(d.redactions.begin(), d.redactions.end());
    PEDIGREE_ASSIGN(state, (*view)->LockState(trial_id, domain));
    d.lock_state = *state;
    // Counts only: TrialView::Leaves would read every leaf row of the domain.
    PEDIGREE_ASSIGN(counts, (*view)->CountLeaves(trial_id, domain));
    d.current_leaves = counts->current;
    d.redacted_leaves = counts->redacted;
    t.domains.push_back(std::move(d));
  }
  PEDIGREE_ASSIGN(forms, (*view)->ConsentForms(trial_id));
  for (const auto& f : *forms) t.consent_forms.push_back(f.index);
  PEDIGREE_ASSIGN(consents, (*view)->Consents(trial_id));
  for (const auto& c : *consents) t.consents.push_back(c.index);
  PEDIGREE_ASSIGN(withdrawals, (*view)->Withdrawals(trial_id));
  for (const auto& w : *withdrawals) t.withdrawals.push_back(w.index);
  PEDIGREE_ASSIGN(grants, (*view)->Grants(trial_id));
  for (const auto& g : *grants) {
    t.grants.push_back(g.index);
    if (g.revoked_index) t.revocations.push_back(*g.revoked_index);
  }
  std::sort(t.revocations.begin(), t.revocations.end());
  PEDIGREE_ASSIGN(accesses, (*view)->Accesses(trial_id));
  for (const auto& a : *accesses) t.accesses.push_back(a.index);
  return t;
}

}  // namespace

Result<JsonValue> TrialReport(log::Ledger& ledger, std::string_view trial_id,
                              const TrialReportInputs& inputs) {
  PEDIGREE_ASSIGN(t, GatherIndices(ledger, trial_id));
  for (const DomainComparison& c : inputs.comparisons) {
    bool known = std::any_of(t->domains.begin(), t->domains.end(),
                             [&](const DomainIndices& d) { return d.domain == c.domain; });
    if (!known) {
      return Fail(Error("report.unknown_domain", "trial '" + t->trial.id + "' has no domain '" +
                                                     c.domain +
                                                     "' to compare a candidate dataset with")
                      .at_field("domain"));
    }
  }
  std::set<uint64_t> indices{t->trial.index};
  indices.insert(t->protocols.begin(), t->protocols.end());
  if (t->enrolments.first_index) indices.insert(*t->enrolments.first_index);
  indices.insert(t->alerts.begin(), t->alerts.end());
  for (const DomainIndices& d : t->domains) {
    for (const auto* list : {&d.submissions, &d.locks, &d.seals, &d.redactions}) {
      indices.insert(list->begin(), list->end());
    }
  }
  for (const auto* list : {&t->consent_forms, &t->consents, &t->withdrawals, &t->grants,
                           &t->revocations, &t->accesses}) {
    indices.insert(list->begin(), list->end());
  }
  internal::EnvelopeCache envelopes(ledger);
  // Only the sponsor and the trial's sites may sign trial events (the ledger's rules); an entry
  // signed by anyone else finds no registered key here and fails registry.unknown_key. Naming
  // them spares parsing every submission twice.
  std::set<std::string> orgs(t->trial.sites.begin(), t->trial.sites.end());
  orgs.insert(t->trial.sponsor);
  PEDIGREE_ASSIGN(registry, provenance::ProvenanceView::Open(ledger.db_path()));
  PEDIGREE_TRY(internal::AddRegistryEntriesOf(ledger, **registry, envelopes, indices, orgs));
  PEDIGREE_ASSIGN(evidence, internal::ProveEntries(ledger, indices, envelopes));
  PEDIGREE_ASSIGN(anchors, LedgerTrustAnchors(ledger));
  return TrialVerification(*t, *evidence, *anchors, inputs).Run();
}

}  // namespace pedigree::reports
