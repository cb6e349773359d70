// A participant's receipt: gathered through the trial view's per-subject indexes, proved with
// the reports' shared evidence code (ProveEvidence, the bundle's tlog-proofs) and verified with
// the same EntryVerification as a bundle, plus the checks that tie each entry to the subject.
#include "pedigree/reports/receipt.h"

#include <algorithm>
#include <memory>
#include <set>
#include <sstream>

#include "bundle_json.h"
#include "entry_checks.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/time.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/provenance/trial_view.h"
#include "pedigree/reports/bundle.h"

namespace pedigree::reports {
namespace {

using internal::Str;
using internal::StrList;

constexpr std::string_view kSubjectIdPrefix = "urn:pedigree:trial:";
constexpr std::string_view kSubjectIdMiddle = ":subject:";

// A secret longer than this is no reference secret a site hands out; refusing it early keeps a
// request from hashing megabytes.
constexpr size_t kMaxSecretBytes = 1024;

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Error Missing(const std::string& field) {
  return Error("receipt.missing_field", "the receipt has no " + field).at_field(field);
}
Error Bad(const std::string& field, const std::string& what) {
  return Error("receipt.bad_field", field + " " + what).at_field(field);
}

}  // namespace

std::string SubjectRefFromSecret(std::string_view secret) { return ToHex(Sha256(secret)); }

std::string ReceiptSubjectId(std::string_view trial_id, std::string_view subject_ref) {
  std::string id(kSubjectIdPrefix);
  id.append(trial_id).append(kSubjectIdMiddle).append(subject_ref);
  return id;
}

namespace {

// The views a receipt's selection reads, opened once per gathering or check.
struct ReceiptSource {
  log::Ledger& ledger;
  std::string trial_id;
  std::string subject;
  std::unique_ptr<provenance::TrialView> view;
  std::unique_ptr<provenance::ProvenanceView> registry;
  std::set<std::string> orgs;  // the trial's sponsor and sites: who signs a receipt's entries

  // Errors: trial.not_found, trial.receipt_subject_unknown (field subjectSecret), storage.*.
  static Result<ReceiptSource> Open(log::Ledger& ledger, std::string_view trial_id,
                                    const std::string& subject) {
    PEDIGREE_ASSIGN(view, provenance::TrialView::Open(ledger.db_path()));
    PEDIGREE_ASSIGN(trial, (*view)->Trial(trial_id));
    if (!*trial) {
      return Fail(Error("trial.not_found", "no trial has the id '" + std::string(trial_id) + "'")
                      .at_field("trialId"));
    }
    PEDIGREE_ASSIGN(history, (*view)->Subject(trial_id, subject));
    if (!history->enrolment) {
      return Fail(Error("trial.receipt_subject_unknown",
                        "no subject of trial '" + std::string(trial_id) +
                            "' has the reference the secret gives (SHA-256 of the secret: " +
                            subject + "); check the secret, byte for byte")
                      .at_field("subjectSecret"));
    }
    PEDIGREE_ASSIGN(registry, provenance::ProvenanceView::Open(ledger.db_path()));
    std::set<std::string> orgs((*trial)->sites.begin(), (*trial)->sites.end());
    orgs.insert((*trial)->sponsor);
    return ReceiptSource{ledger,           std::string(trial_id), subject,
                         std::move(*view), std::move(*registry),  std::move(orgs)};
  }

  // The entries of the subject's receipt among the log's first `limit` (all when empty): its
  // enrolment, consents, withdrawal, the accesses naming its leaves and the signers' registry
  // entries; `leaves` gets the subject's leaves submitted below `limit`. Asked again at the
  // checkpoint's size by ProveEvidence, so that an access recorded meanwhile is either in the
  // receipt and its signed index or in neither. The subject's rows only ever grow, so its
  // selection at size N is today's below N.
  Result<std::set<uint64_t>> Select(internal::EnvelopeCache& envelopes,
                                    std::optional<uint64_t> limit,
                                    std::vector<provenance::SubjectLeaf>* leaves) {
    PEDIGREE_ASSIGN(h, view->Subject(trial_id, subject));
    const uint64_t below = limit.value_or(UINT64_MAX);
    std::set<uint64_t> indices;
    auto add = [&](uint64_t i) {
      if (i < below) indices.insert(i);
    };
    if (h->enrolment) add(*h->enrolment);
    for (uint64_t i : h->consents) add(i);
    if (h->withdrawal) add(*h->withdrawal);
    for (const auto& a : h->accesses) add(a.index);
    if (leaves) {
      leaves->clear();
      for (const auto& l : h->leaves) {
        if (l.index < below) leaves->push_back(l);
      }
    }
    PEDIGREE_TRY(
        internal::AddRegistryEntriesOf(ledger, *registry, envelopes, indices, orgs, limit));
    return indices;
  }
};

}  // namespace

Result<Receipt> GatherReceipt(log::Ledger& ledger, std::string_view trial_id,
                              std::string_view secret) {
  // Never echo the secret: the message names the field and what is wrong with it only.
  if (secret.empty() || secret.size() > kMaxSecretBytes) {
    return Fail(Error("trial.bad_subject_secret",
                      "the subject secret must be 1 to " + std::to_string(kMaxSecretBytes) +
                          " bytes; it is " + std::to_string(secret.size()))
                    .at_field("subjectSecret"));
  }
  const std::string subject = SubjectRefFromSecret(secret);
  PEDIGREE_ASSIGN(source, ReceiptSource::Open(ledger, trial_id, subject));
  std::vector<provenance::SubjectLeaf> leaves;
  PEDIGREE_ASSIGN(evidence,
                  internal::ProveEvidence(
                      ledger, ReceiptSubjectId(trial_id, subject),
                      [&](internal::EnvelopeCache& envelopes, std::optional<uint64_t> limit) {
                        return source->Select(envelopes, limit, &leaves);
                      }));
  Receipt r;
  r.trial_id = std::string(trial_id);
  r.subject_ref = subject;
  for (const auto& l : leaves) r.leaves.push_back({l.domain, l.leaf, l.index});
  r.evidence = std::move(*evidence);
  return r;
}

Result<std::vector<uint64_t>> SelectReceiptEvidence(log::Ledger& ledger,
                                                    std::string_view subject_id, uint64_t size) {
  const size_t middle = subject_id.find(kSubjectIdMiddle);
  if (!subject_id.starts_with(kSubjectIdPrefix) || middle == std::string_view::npos) {
    return Fail(Error("bundle.bad_index", "'" + std::string(subject_id) +
                                              "' is no receipt subject (urn:pedigree:trial:"
                                              "<trialId>:subject:<subjectRef>)")
                    .at_field("subject"));
  }
  const std::string trial(
      subject_id.substr(kSubjectIdPrefix.size(), middle - kSubjectIdPrefix.size()));
  const std::string subject(subject_id.substr(middle + kSubjectIdMiddle.size()));
  PEDIGREE_ASSIGN(source, ReceiptSource::Open(ledger, trial, subject));
  internal::EnvelopeCache envelopes(ledger);
  PEDIGREE_ASSIGN(indices, source->Select(envelopes, size, nullptr));
  return std::vector<uint64_t>(indices->begin(), indices->end());
}

std::string WriteReceipt(const Receipt& receipt) {
  const PackEvidence& e = receipt.evidence;
  auto leaves = JsonValue::Array();
  for (const ReceiptLeaf& l : receipt.leaves) {
    leaves.push_back(
        JsonValue::Object().set("domain", l.domain).set("leaf", l.leaf).set("index", l.index));
  }
  auto out = JsonValue::Object()
                 .set("format", std::string(kReceiptFormat))
                 .set("trialId", receipt.trial_id)
                 .set("subjectRef", receipt.subject_ref)
                 .set("subjectLeaves", std::move(leaves));
  internal::SetEvidenceMembers(out, e);
  return Canonicalize(out) + "\n";
}

Result<Receipt> ReadReceipt(std::string_view bytes) {
  auto parsed = ParseJson(bytes, {.integers_only = true});
  if (!parsed) {
    Error e = parsed.error();
    return Fail(
        Error("receipt.json", "the receipt is not JSON: " + e.ToString())
            .at_offset(e.location().offset.value_or(0))
            .at_line_column(e.location().line.value_or(0), e.location().column.value_or(0)));
  }
  JsonValue& j = *parsed;
  if (!j.is_object()) return Fail(Bad("(top level)", "must be a JSON object"));
  const JsonValue* format = j.find("format");
  if (!format || !format->is_string() || format->as_string() != kReceiptFormat) {
    return Fail(Error("receipt.format", "format must be \"" + std::string(kReceiptFormat) +
                                            "\", got " +
                                            (format ? Canonicalize(*format) : "nothing"))
                    .at_field("format"));
  }
  auto string = [&](const JsonValue& o, const char* name,
                    const std::string& field) -> Result<std::string> {
    const JsonValue* v = o.find(name);
    if (!v) return Fail(Missing(field));
    if (!v->is_string()) return Fail(Bad(field, "must be a string"));
    return v->as_string();
  };
  Receipt r;
  PEDIGREE_ASSIGN(trial, string(j, "trialId", "trialId"));
  PEDIGREE_ASSIGN(subject, string(j, "subjectRef", "subjectRef"));
  if (!IsLowerHex64(*subject)) {
    return Fail(Bad("subjectRef", "must be 64 lowercase hex characters, got '" + *subject + "'"));
  }
  r.trial_id = *trial;
  r.subject_ref = *subject;
  const JsonValue* leaves = j.find("subjectLeaves");
  if (!leaves) return Fail(Missing("subjectLeaves"));
  if (!leaves->is_array()) return Fail(Bad("subjectLeaves", "must be an array"));
  for (size_t i = 0; i < leaves->size(); ++i) {
    const std::string field = "subjectLeaves[" + std::to_string(i) + "]";
    const JsonValue& l = leaves->as_array()[i];
    if (!l.is_object()) return Fail(Bad(field, "must be an object"));
    PEDIGREE_ASSIGN(domain, string(l, "domain", field + ".domain"));
    PEDIGREE_ASSIGN(leaf, string(l, "leaf", field + ".leaf"));
    if (!IsLowerHex64(*leaf)) {
      return Fail(Bad(field + ".leaf", "must be 64 lowercase hex characters, got '" + *leaf + "'"));
    }
    const JsonValue* index = l.find("index");
    if (!index) return Fail(Missing(field + ".index"));
    if (!index->is_int() || index->as_int() < 0) {
      return Fail(Bad(field + ".index", "must be a non-negative integer"));
    }
    r.leaves.push_back({*domain, *leaf, static_cast<uint64_t>(index->as_int())});
  }
  // The evidence members have a bundle's exact shape: read them with the bundle's reader.
  const bool indexed = j.find("evidenceIndex") || j.find("evidenceIndexSignature");
  auto bundle = JsonValue::Object()
                    .set("format", std::string(indexed ? kBundleFormat : kBundleFormatV1))
                    .set("pack", ReceiptSubjectId(r.trial_id, r.subject_ref));
  for (const char* member : {"authorityKey", "checkpoint", "latestCheckpoint", "consistency",
                             "evidenceIndex", "evidenceIndexSignature", "entries"}) {
    if (JsonValue* v = j.find(member)) bundle.set(member, std::move(*v));
  }
  PEDIGREE_ASSIGN(evidence, internal::ReadBundleJson(bundle));
  r.evidence = std::move(*evidence);
  return r;
}

namespace {

class ReceiptVerification {
 public:
  ReceiptVerification(const Receipt& receipt, const TrustAnchors& anchors,
                      const std::optional<std::string>& secret, int64_t now)
      : receipt_(receipt),
        anchors_(anchors),
        secret_(secret),
        now_(now),
        v_(internal::LogEvidenceView{receipt.evidence.authority_key, receipt.evidence.checkpoint,
                                     receipt.evidence.latest_checkpoint,
                                     receipt.evidence.consistency, receipt.evidence.entries},
           anchors, "participant's receipt") {
    for (const ReceiptLeaf& l : receipt.leaves) leaves_.insert(l.domain + "/" + l.leaf);
  }

  JsonValue Run();

 private:
  // The subject's part of a verified entry: what the signed payload says, for display; empty
  // (and a failure recorded) when the entry does not concern the subject.
  std::optional<JsonValue> Describe(uint64_t index, const log::OpenedEntry& opened);

  const Receipt& receipt_;
  const TrustAnchors& anchors_;
  const std::optional<std::string>& secret_;
  int64_t now_;
  internal::EntryVerification v_;
  std::set<std::string> leaves_;  // "domain/leaf"
};

std::optional<JsonValue> ReceiptVerification::Describe(uint64_t index,
                                                       const log::OpenedEntry& opened) {
  const JsonValue& p = opened.payload;
  const std::string kind = Str(p, "kind");
  const std::string at = "entry " + std::to_string(index);
  if (Str(p, "trialId") != receipt_.trial_id) {
    v_.Fail("receipt.wrong_trial", at + " is about trial '" + Str(p, "trialId") + "'", index,
            receipt_.trial_id, Str(p, "trialId"));
    return std::nullopt;
  }
  auto e = JsonValue::Object()
               .set("index", index)
               .set("kind", kind)
               .set("time", opened.sequenced_text)
               .set("org", Str(p, "org"))
               .set("orgName", v_.OrgName(Str(p, "org")))
               .set("key", opened.key.Fingerprint());
  if (const JsonValue* s = p.find("signature"); s && s->is_object()) {
    e.set("signature",
          JsonValue::Object().set("name", Str(*s, "name")).set("meaning", Str(*s, "meaning")));
  }
  if (kind == "trial.enrol" || kind == "trial.consent" || kind == "trial.withdraw") {
    if (Str(p, "subjectRef") != receipt_.subject_ref) {
      v_.Fail("receipt.not_about_subject",
              at + " (" + kind + ") names another subject than the receipt's", index,
              receipt_.subject_ref, Str(p, "subjectRef"));
      return std::nullopt;
    }
    if (kind == "trial.enrol" && p.find("arm")) e.set("arm", Str(p, "arm"));
    if (kind == "trial.consent") {
      e.set("icfVersion", Str(p, "icfVersion"))
          .set("consentTime", Str(p, "consentTime"))
          .set("scopesGranted", JsonValue::Strings(StrList(p, "scopesGranted")))
          .set("scopesDeclined", JsonValue::Strings(StrList(p, "scopesDeclined")))
          .set("witnessed", p.find("witness") != nullptr)
          .set("representative", p.find("representative") != nullptr);
    }
    if (kind == "trial.withdraw") {
      e.set("withdrawalTime", Str(p, "withdrawalTime")).set("dataChoice", Str(p, "dataChoice"));
    }
    return e;
  }
  if (kind == "trial.access") {
    // The subject's leaves among those the access names; the others are only counted.
    const std::string domain = Str(p, "domain");
    size_t mine = 0, total = 0;
    if (const JsonValue* ls = p.find("leaves"); ls && ls->is_array()) {
      for (const JsonValue& l : ls->as_array()) {
        ++total;
        if (l.is_string() && leaves_.count(domain + "/" + l.as_string())) ++mine;
      }
    }
    if (mine == 0) {
      v_.Fail("receipt.not_about_subject",
              at + " (trial.access) names none of the subject's leaves in " + domain, index,
              "a leaf of subjectLeaves", std::to_string(total) + " other leaves");
      return std::nullopt;
    }
    e.set("reader", Str(p, "reader"))
        .set("readerName", v_.OrgName(Str(p, "reader")))
        .set("grantId", Str(p, "grantId"))
        .set("purpose", Str(p, "purpose"))
        .set("domain", domain)
        .set("outcome", Str(p, "outcome"))
        .set("subjectRecords", mine)
        .set("otherRecords", total - mine);
    return e;
  }
  v_.Fail("receipt.not_about_subject", at + " is a " + kind + ", which a receipt does not hold",
          index, "trial.enrol, trial.consent, trial.withdraw or trial.access", kind);
  return std::nullopt;
}

JsonValue ReceiptVerification::Run() {
  v_.VerifyCheckpoints();
  v_.VerifyAuthority();
  v_.OpenEntries();
  internal::CheckCompleteness(
      v_, anchors_, ReceiptSubjectId(receipt_.trial_id, receipt_.subject_ref),
      receipt_.evidence.evidence_index, receipt_.evidence.evidence_index_signature, "participant");
  v_.LearnRegistry();
  auto subject_check = JsonValue::Object();
  if (secret_) {
    const std::string given = SubjectRefFromSecret(*secret_);
    const bool same = given == receipt_.subject_ref;
    v_.checks().push_back(internal::Check(
        "receipt.subject", same,
        same ? "the secret gives the receipt's subjectRef"
             : "the secret gives " + given + ", the receipt is for " + receipt_.subject_ref));
    if (!same) {
      v_.Fail("receipt.wrong_subject",
              "the receipt is for another subject than the one the secret gives", std::nullopt,
              given, receipt_.subject_ref);
    }
  } else {
    v_.checks().push_back(
        internal::Warn("receipt.subject",
                       "no subject secret given: the entries are checked against the "
                       "receipt's own subjectRef, which is not tied to you"));
  }
  auto events = JsonValue::Array(), registry = JsonValue::Array();
  size_t consents = 0, accesses = 0;
  for (size_t i = 0; i < receipt_.evidence.entries.size(); ++i) {
    const EvidenceEntry& entry = receipt_.evidence.entries[i];
    bool signature_ok = false;
    JsonValue checks = v_.EntryChecks(i, signature_ok);
    if (!signature_ok || !v_.opened(i)) continue;
    const log::OpenedEntry& opened = *v_.opened(i);
    const std::string kind = Str(opened.payload, "kind");
    if (kind.rfind("org.", 0) == 0) {
      registry.push_back(JsonValue::Object()
                             .set("index", entry.index)
                             .set("kind", kind)
                             .set("subject", Str(opened.payload, "id"))
                             .set("checks", std::move(checks)));
      continue;
    }
    auto described = Describe(entry.index, opened);
    if (!described) continue;
    consents += kind == "trial.consent";
    accesses += kind == "trial.access";
    events.push_back(described->set("checks", std::move(checks)));
  }
  JsonArray empty;
  const std::string verdict = internal::VerdictOf(v_.failures(), empty);
  std::string summary;
  if (verdict == "FAILED") {
    const JsonValue& f = v_.failures().front();
    summary = "The receipt is broken (" + f.find("code")->as_string() +
              (f.find("index") ? " at entry " + std::to_string(f.find("index")->as_int()) : "") +
              "): do not rely on it.";
  } else {
    summary =
        "Every entry is signed by a registered key and in the log: " + std::to_string(consents) +
        " consent(s) and " + std::to_string(accesses) +
        " recorded access(es) to the subject's records.";
  }
  return JsonValue::Object()
      .set("format", "pedigree-report/v1")
      .set("report", "receipt")
      .set("generatedAt", FormatUtcTime(now_))
      .set("verdict", verdict)
      .set("summary", summary)
      .set("subject", JsonValue::Object()
                          .set("trialId", receipt_.trial_id)
                          .set("subjectRef", receipt_.subject_ref)
                          .set("subjectLeaves", receipt_.leaves.size()))
      .set("log", std::move(v_.log()))
      .set("checks", std::move(v_.checks()))
      .set("events", std::move(events))
      .set("registry", std::move(registry))
      .set("failures", std::move(v_.failures()));
}

}  // namespace

JsonValue VerifyReceipt(const Receipt& receipt, const TrustAnchors& anchors,
                        const std::optional<std::string>& secret, int64_t generated_at) {
  return ReceiptVerification(receipt, anchors, secret, generated_at).Run();
}

std::string RenderReceiptText(const JsonValue& report) {
  std::ostringstream out;
  out << "Participant receipt: " << Str(report, "verdict") << "\n"
      << Str(report, "summary") << "\n";
  if (const JsonValue* s = report.find("subject"); s && s->is_object()) {
    out << "trial " << Str(*s, "trialId") << ", subject " << Str(*s, "subjectRef") << "\n";
  }
  if (const JsonValue* events = report.find("events"); events && events->is_array()) {
    for (const JsonValue& e : events->as_array()) {
      const std::string kind = Str(e, "kind");
      out << "  " << e.find("index")->as_int() << "  " << Str(e, "time") << "  ";
      if (kind == "trial.enrol") {
        out << "enrolled by " << Str(e, "org");
      } else if (kind == "trial.consent") {
        std::string granted;
        for (const auto& g : StrList(e, "scopesGranted"))
          granted += (granted.empty() ? "" : ",") + g;
        out << "consent to ICF " << Str(e, "icfVersion") << " (" << Str(e, "consentTime")
            << "), granted " << granted << ", taken by " << Str(e, "org");
      } else if (kind == "trial.withdraw") {
        out << "withdrawal (" << Str(e, "withdrawalTime") << "), data: " << Str(e, "dataChoice");
      } else {
        out << "access " << Str(e, "outcome") << ": " << Str(e, "reader") << " ("
            << Str(e, "purpose") << ", grant " << Str(e, "grantId") << ") read "
            << e.find("subjectRecords")->as_int() << " of your " << Str(e, "domain") << " records";
      }
      out << "\n";
    }
  }
  if (const JsonValue* f = report.find("failures"); f && f->is_array()) {
    for (const JsonValue& x : f->as_array()) {
      out << "FAILED " << Str(x, "code") << ": " << Str(x, "message") << "\n";
    }
  }
  return out.str();
}

}  // namespace pedigree::reports
