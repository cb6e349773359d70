// The consent rules of the trial family: trial.consent_form (the sponsor seals an informed
// consent form version), trial.consent (a site records a subject's consent to one),
// trial.withdraw (a site records a withdrawal), and the gate trial.submit passes every
// record through once a trial has a consent form. Only salted subject references, hashes,
// scope names and domain codes reach these tables. Model: docs/consent.md; payloads:
// docs/events.md "Trial kinds".
#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "payload_fields.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "trial_rules.h"

namespace pedigree::provenance {
using namespace fields;
namespace {

constexpr const char* kMalformed = "trial.malformed";
constexpr size_t kMaxText = 128;

bool IsScopeName(std::string_view s) {
  return !s.empty() && s.size() <= 32 && s[0] >= 'a' && s[0] <= 'z' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

bool IsDomainCode(std::string_view d) {
  return d.size() >= 2 && d.size() <= 8 && d[0] >= 'A' && d[0] <= 'Z' &&
         std::all_of(d.begin() + 1, d.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

// A bounded optional text member: "" when absent.
Result<std::string> OptText(const JsonValue& p, const char* name) {
  const JsonValue* v = p.find(name);
  if (!v) return std::string();
  if (!v->is_string() || v->as_string().empty() || v->as_string().size() > kMaxText) {
    return Fail(Malformed(name, "must be a text of 1 to 128 characters when given", kMalformed));
  }
  return v->as_string();
}

Result<std::string> Text(const JsonValue& p, const char* name) {
  PEDIGREE_ASSIGN(v, Str(p, name, kMalformed));
  if (v->size() > kMaxText) {
    return Fail(Malformed(name, "must be at most 128 characters", kMalformed));
  }
  return *v;
}

// A "YYYY-MM-DD" member as the unix time of 00:00 UTC that day.
Result<std::pair<std::string, int64_t>> DateMember(const JsonValue& p, const char* name) {
  PEDIGREE_ASSIGN(text, Str(p, name, kMalformed));
  auto date = ParseDate(*text);
  if (!date) {
    return Fail(Malformed(name, "'" + *text + "' must be a date YYYY-MM-DD", kMalformed));
  }
  auto days = std::chrono::sys_days(*date);
  return std::pair<std::string, int64_t>{
      *text, std::chrono::duration_cast<std::chrono::seconds>(days.time_since_epoch()).count()};
}

Result<int64_t> TimeMember(const JsonValue& p, const char* name) {
  PEDIGREE_ASSIGN(text, Str(p, name, kMalformed));
  auto t = ParseUtcTime(*text);
  if (!t) {
    return Fail(
        Malformed(name, "'" + *text + "' must be a UTC time YYYY-MM-DDThh:mm:ssZ", kMalformed));
  }
  return *t;
}

Result<std::string> SubjectMember(const JsonValue& p, const std::string& field) {
  const JsonValue* v = p.find("subjectRef");
  if (!v || !v->is_string() || !IsLowerHex64(v->as_string())) {
    return Fail(Malformed(field, "must be 64 lowercase hex characters (a salted subject reference)",
                          kMalformed));
  }
  return v->as_string();
}

// The site that enrolled `subject` in `trial`, or trial.unknown_subject.
Result<std::string> EnrolmentSite(log::sql::Connection& db, const std::string& trial,
                                  const std::string& subject, const std::string& field) {
  PEDIGREE_ASSIGN(
      q, db.Prepare("SELECT site FROM trial_enrolments WHERE trial = ?1 AND subject_ref = ?2"));
  q->Bind(1, trial).Bind(2, subject);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(Error("trial.unknown_subject",
                      field + ": " + subject + " is not enrolled in trial '" + trial + "'")
                    .at_field(field));
  }
  return q->Text(0);
}

// The subject must be enrolled at the acting site: consent and withdrawal are the
// enrolling site's acts.
Status RequireSubjectAtSite(const EventContext& e, const std::string& trial,
                            const std::string& subject) {
  PEDIGREE_ASSIGN(site, EnrolmentSite(e.db, trial, subject, "subjectRef"));
  if (*site != e.org) {
    return Fail(Error("trial.subject_not_at_site", "subjectRef: " + subject.substr(0, 16) +
                                                       "… was enrolled by " + *site + ", not '" +
                                                       e.org + "'")
                    .at_field("subjectRef"));
  }
  return Ok();
}

struct WithdrawalFacts {
  uint64_t index = 0;
  std::string choice;
};

Result<std::optional<WithdrawalFacts>> Withdrawal(log::sql::Connection& db,
                                                  const std::string& trial,
                                                  const std::string& subject) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT idx, data_choice FROM trial_withdrawals WHERE trial = ?1 "
                                "AND subject_ref = ?2"));
  q->Bind(1, trial).Bind(2, subject);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<WithdrawalFacts>();
  return std::optional<WithdrawalFacts>(
      WithdrawalFacts{static_cast<uint64_t>(q->Int(0)), q->Text(1)});
}

Error WithdrawnError(const std::string& field, const std::string& subject, uint64_t index) {
  return Error("trial.withdrawn", field + ": subject " + subject.substr(0, 16) +
                                      "… withdrew at ledger entry " + std::to_string(index) +
                                      "; no new record or consent is accepted")
      .at_field(field);
}

struct FormFacts {
  std::string version;
  uint64_t index = 0;
  std::string country;
  int64_t approved = 0;
  int64_t effective = 0;
  std::map<std::string, std::vector<std::string>> scopes;  // scope -> domains
};

Result<std::optional<FormFacts>> LoadForm(log::sql::Connection& db, const std::string& trial,
                                          const std::string& version) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT idx, country, approved_time, effective_time, scopes FROM "
                                "trial_consent_forms WHERE trial = ?1 AND version = ?2"));
  q->Bind(1, trial).Bind(2, version);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<FormFacts>();
  FormFacts f{version, static_cast<uint64_t>(q->Int(0)), q->Text(1), q->Int(2), q->Int(3), {}};
  PEDIGREE_ASSIGN(scopes, ParseJson(q->Text(4)));
  for (const auto& [name, domains] : scopes->as_object()) {
    auto& list = f.scopes[name];
    for (const JsonValue& d : domains.as_array()) list.push_back(d.as_string());
  }
  return std::optional<FormFacts>(std::move(f));
}

JsonValue StringArray(const std::vector<std::string>& items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

class ConsentRules {
 public:
  ConsentRules(const EventContext& e, const TrialFacts& trial) : e_(e), db_(e.db), trial_(trial) {}

  Status Form(const JsonValue& p);
  Status Consent(const JsonValue& p);
  Status Withdraw(const JsonValue& p);

 private:
  const EventContext& e_;
  log::sql::Connection& db_;
  const TrialFacts& trial_;
};

Status ConsentRules::Form(const JsonValue& p) {
  PEDIGREE_TRY(RequireSponsor(e_, trial_, "trial.consent_form", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(hash, Str(p, "documentHash", kMalformed));
  if (!IsLowerHex64(*hash)) {
    return Fail(Malformed("documentHash", "'" + *hash + "' must be 64 lowercase hex characters",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(version, Text(p, "version"));
  PEDIGREE_ASSIGN(country, Str(p, "country", kMalformed));
  if (country->size() != 2 ||
      !std::all_of(country->begin(), country->end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return Fail(
        Malformed("country", "'" + *country + "' must be an ISO 3166-1 alpha-2 code", kMalformed));
  }
  PEDIGREE_ASSIGN(language, Str(p, "language", kMalformed));
  if (language->size() < 2 || language->size() > 3 ||
      !std::all_of(language->begin(), language->end(),
                   [](char c) { return c >= 'a' && c <= 'z'; })) {
    return Fail(Malformed("language", "'" + *language + "' must be an ISO 639 code such as de",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(ethics, Text(p, "ethicsRef"));
  PEDIGREE_ASSIGN(approved, DateMember(p, "approved"));
  PEDIGREE_ASSIGN(effective, DateMember(p, "effective"));
  if (effective->second < approved->second) {
    return Fail(Error("trial.bad_consent_form", "effective: " + effective->first +
                                                    " is before the ethics approval " +
                                                    approved->first)
                    .at_field("effective"));
  }
  const JsonValue* mandatory = p.find("mandatory");
  if (mandatory && !mandatory->is_bool()) {
    return Fail(Malformed("mandatory", "must be true or false", kMalformed));
  }
  const JsonValue* scopes = p.find("scopes");
  if (!scopes || !scopes->is_object()) {
    return Fail(
        Malformed("scopes", "must be an object {scope: [domain, ...]} with core", kMalformed));
  }
  for (const auto& [name, domains] : scopes->as_object()) {
    std::string field = "scopes." + name;
    if (!IsScopeName(name)) {
      return Fail(Error("trial.bad_consent_form",
                        "scopes: '" + name + "' must be 1 to 32 characters of a-z 0-9 _")
                      .at_field("scopes"));
    }
    if (!domains.is_array()) {
      return Fail(Malformed(field, "must be an array of domain codes", kMalformed));
    }
    std::set<std::string> seen;
    for (const JsonValue& d : domains.as_array()) {
      if (!d.is_string() || !IsDomainCode(d.as_string())) {
        return Fail(Error("trial.bad_domain",
                          field + ": each domain must match [A-Z][A-Z0-9]{1,7}, e.g. DM or AE")
                        .at_field(field));
      }
      if (!seen.insert(d.as_string()).second) {
        return Fail(Malformed(field, "domain " + d.as_string() + " is listed twice", kMalformed));
      }
    }
  }
  const JsonValue* core = scopes->find("core");
  if (!core || core->as_array().empty()) {
    return Fail(Error("trial.bad_consent_form",
                      "scopes.core: a consent form asks for the core scope with its domains")
                    .at_field("scopes.core"));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_consent_forms(trial, version, idx, time, "
                                 "document_hash, country, language, ethics_ref, approved, "
                                 "effective, approved_time, effective_time, mandatory, scopes, "
                                 "signer_name, meaning) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                 "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"));
  q->Bind(1, trial_.id)
      .Bind(2, *version)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *hash)
      .Bind(6, *country)
      .Bind(7, *language)
      .Bind(8, *ethics)
      .Bind(9, approved->first)
      .Bind(10, effective->first)
      .Bind(11, approved->second)
      .Bind(12, effective->second)
      .Bind(13, int64_t{mandatory && mandatory->as_bool() ? 1 : 0})
      .Bind(14, Canonicalize(*scopes))
      .Bind(15, signature->name)
      .Bind(16, signature->meaning);
  if (!q->Run()) {
    return Fail(Error("trial.duplicate_icf_version", "version: trial '" + trial_.id +
                                                         "' already has consent form version '" +
                                                         *version + "'")
                    .at_field("version"));
  }
  return Ok();
}

Status ConsentRules::Consent(const JsonValue& p) {
  PEDIGREE_TRY(RequireSite(e_, trial_, "trial.consent", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(subject, SubjectMember(p, "subjectRef"));
  PEDIGREE_TRY(RequireSubjectAtSite(e_, trial_.id, *subject));
  PEDIGREE_ASSIGN(version, Str(p, "icfVersion", kMalformed));
  PEDIGREE_ASSIGN(at, TimeMember(p, "consentTime"));
  if (*at > e_.time) {
    return Fail(Malformed("consentTime",
                          FormatUtcTime(*at) + " is after the event's time " +
                              FormatUtcTime(e_.time) + "; a consent is recorded once given",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(witness, OptText(p, "witness"));
  PEDIGREE_ASSIGN(representative, OptText(p, "representative"));
  PEDIGREE_ASSIGN(form, LoadForm(db_, trial_.id, *version));
  if (!*form) {
    return Fail(Error("trial.unknown_icf_version", "icfVersion: trial '" + trial_.id +
                                                       "' has no consent form version '" +
                                                       *version + "'")
                    .at_field("icfVersion"));
  }
  if ((*form)->effective > *at) {
    return Fail(Error("trial.icf_not_effective",
                      "consentTime: " + FormatUtcTime(*at) + " is before consent form '" +
                          *version + "' took effect (approved " +
                          FormatUtcTime((*form)->approved).substr(0, 10) + ", effective " +
                          FormatUtcTime((*form)->effective).substr(0, 10) + ")")
                    .at_field("consentTime"));
  }
  PEDIGREE_ASSIGN(withdrawn, Withdrawal(db_, trial_.id, *subject));
  if (*withdrawn) return Fail(WithdrawnError("subjectRef", *subject, (*withdrawn)->index));
  PEDIGREE_ASSIGN(granted, StrList(p, "scopesGranted", kMalformed));
  PEDIGREE_ASSIGN(declined, StrList(p, "scopesDeclined", kMalformed));
  std::set<std::string> answered;
  for (const auto* list : {&*granted, &*declined}) {
    const char* field = list == &*granted ? "scopesGranted" : "scopesDeclined";
    for (const std::string& s : *list) {
      if (!(*form)->scopes.count(s)) {
        return Fail(Error("trial.unknown_scope", std::string(field) + ": consent form '" +
                                                     *version + "' asks for no scope '" + s + "'")
                        .at_field(field));
      }
      if (!answered.insert(s).second) {
        return Fail(Malformed(field, "scope '" + s + "' is answered twice", kMalformed));
      }
    }
  }
  if (std::find(declined->begin(), declined->end(), "core") != declined->end() ||
      std::find(granted->begin(), granted->end(), "core") == granted->end()) {
    return Fail(Error("trial.core_declined",
                      "scopesGranted: without the core scope there is no consent to take part")
                    .at_field("scopesGranted"));
  }
  for (const auto& [scope, domains] : (*form)->scopes) {
    if (!answered.count(scope)) {
      return Fail(Malformed(
          "scopesDeclined",
          "scope '" + scope + "' of form '" + *version + "' is neither granted nor declined",
          kMalformed));
    }
  }
  {
    // The first consent must precede the subject's first record.
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_consents WHERE trial = ?1 AND "
                                   "subject_ref = ?2 LIMIT 1"));
    q->Bind(1, trial_.id).Bind(2, *subject);
    PEDIGREE_ASSIGN(earlier, q->Step());
    if (!*earlier) {
      PEDIGREE_ASSIGN(first, db_.Prepare("SELECT MIN(time), MIN(idx) FROM trial_subject_leaves "
                                         "WHERE trial = ?1 AND subject_ref = ?2"));
      first->Bind(1, trial_.id).Bind(2, *subject);
      PEDIGREE_ASSIGN(row, first->Step());
      if (*row && !first->IsNull(0) && first->Int(0) < *at) {
        return Fail(Error("trial.consent_after_record",
                          "consentTime: " + FormatUtcTime(*at) +
                              " is after the subject's first record (ledger entry " +
                              std::to_string(first->Int(1)) + ", " + FormatUtcTime(first->Int(0)) +
                              ")")
                        .at_field("consentTime"));
      }
    }
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_consents(trial, subject_ref, idx, time, "
                                 "consent_time, version, granted, declined, site, signer_name, "
                                 "meaning, witness, representative) VALUES(?1, ?2, ?3, ?4, ?5, "
                                 "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  q->Bind(1, trial_.id)
      .Bind(2, *subject)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *at)
      .Bind(6, *version)
      .Bind(7, Canonicalize(StringArray(*granted)))
      .Bind(8, Canonicalize(StringArray(*declined)))
      .Bind(9, e_.org)
      .Bind(10, signature->name)
      .Bind(11, signature->meaning)
      .BindTextOrNull(12, *witness)
      .BindTextOrNull(13, *representative);
  return q->Run();
}

Status ConsentRules::Withdraw(const JsonValue& p) {
  PEDIGREE_TRY(RequireSite(e_, trial_, "trial.withdraw", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(subject, SubjectMember(p, "subjectRef"));
  PEDIGREE_TRY(RequireSubjectAtSite(e_, trial_.id, *subject));
  PEDIGREE_ASSIGN(at, TimeMember(p, "withdrawalTime"));
  if (*at > e_.time) {
    return Fail(Malformed(
        "withdrawalTime",
        FormatUtcTime(*at) + " is after the event's time " + FormatUtcTime(e_.time), kMalformed));
  }
  PEDIGREE_ASSIGN(choice, Str(p, "dataChoice", kMalformed));
  if (*choice != "retain" && *choice != "redact") {
    return Fail(Malformed("dataChoice", "'" + *choice + "' must be retain or redact", kMalformed));
  }
  PEDIGREE_ASSIGN(withdrawn, Withdrawal(db_, trial_.id, *subject));
  if (*withdrawn) {
    return Fail(Error("trial.already_withdrawn", "subjectRef: " + subject->substr(0, 16) +
                                                     "… already withdrew at ledger entry " +
                                                     std::to_string((*withdrawn)->index))
                    .at_field("subjectRef"));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_withdrawals(trial, subject_ref, idx, time, "
                                 "withdrawal_time, data_choice, site, signer_name, meaning) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  q->Bind(1, trial_.id)
      .Bind(2, *subject)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *at)
      .Bind(6, *choice)
      .Bind(7, e_.org)
      .Bind(8, signature->name)
      .Bind(9, signature->meaning);
  return q->Run();
}

}  // namespace

Status ApplyConsentEvent(const EventContext& event, const TrialFacts& trial,
                         const std::string& kind, const JsonValue& p) {
  ConsentRules rules(event, trial);
  if (kind == "trial.consent_form") return rules.Form(p);
  if (kind == "trial.consent") return rules.Consent(p);
  if (kind == "trial.withdraw") return rules.Withdraw(p);
  return Fail(Error("event.unknown_kind", "unknown event kind '" + kind + "'").at_field("kind"));
}

Result<ConsentGate> ConsentGate::Open(const EventContext& event, const std::string& trial,
                                      const std::string& domain) {
  PEDIGREE_ASSIGN(q,
                  event.db.Prepare("SELECT 1 FROM trial_consent_forms WHERE trial = ?1 LIMIT 1"));
  q->Bind(1, trial);
  PEDIGREE_ASSIGN(row, q->Step());
  return ConsentGate(event, trial, domain, *row);
}

Result<std::string> ConsentGate::Subject(const JsonValue& record, const std::string& field) {
  const JsonValue* v = record.find("subjectRef");
  if (!v) {
    if (governed_) {
      return Fail(
          Error("trial.no_consent", field + ".subjectRef: missing; trial '" + trial_ +
                                        "' has consent forms, so every record names its subject")
              .at_field(field + ".subjectRef"));
    }
    return std::string();
  }
  PEDIGREE_ASSIGN(subject, SubjectMember(record, field + ".subjectRef"));
  auto known = checked_.find(*subject);
  if (known != checked_.end()) return *subject;
  PEDIGREE_TRY(EnrolmentSite(e_.db, trial_, *subject, field + ".subjectRef"));
  PEDIGREE_TRY(Check(*subject, field + ".subjectRef"));
  checked_.insert(*subject);
  return *subject;
}

Status ConsentGate::Check(const std::string& subject, const std::string& field) {
  PEDIGREE_ASSIGN(withdrawn, Withdrawal(e_.db, trial_, subject));
  if (*withdrawn) return Fail(WithdrawnError(field, subject, (*withdrawn)->index));
  if (!governed_) return Ok();
  PEDIGREE_ASSIGN(q, e_.db.Prepare("SELECT version, granted FROM trial_consents WHERE trial = ?1 "
                                   "AND subject_ref = ?2 ORDER BY idx DESC LIMIT 1"));
  q->Bind(1, trial_).Bind(2, subject);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(Error("trial.no_consent", field + ": subject " + subject.substr(0, 16) +
                                              "… has no consent recorded in trial '" + trial_ + "'")
                    .at_field(field));
  }
  const std::string version = q->Text(0);
  PEDIGREE_ASSIGN(granted_json, ParseJson(q->Text(1)));
  PEDIGREE_ASSIGN(form, LoadForm(e_.db, trial_, version));
  if (!*form) {
    return Fail("storage.corrupt", "consent to form '" + version + "' that is not registered");
  }
  {
    // A mandatory form of the same country registered after the consented one, in effect
    // at the submission's time.
    PEDIGREE_ASSIGN(m, e_.db.Prepare("SELECT version, effective FROM trial_consent_forms WHERE "
                                     "trial = ?1 AND mandatory = 1 AND country = ?2 AND idx > ?3 "
                                     "AND effective_time <= ?4 ORDER BY idx LIMIT 1"));
    m->Bind(1, trial_)
        .Bind(2, (*form)->country)
        .Bind(3, static_cast<int64_t>((*form)->index))
        .Bind(4, e_.time);
    PEDIGREE_ASSIGN(mandatory, m->Step());
    if (*mandatory) {
      return Fail(Error("trial.reconsent_required",
                        field + ": subject " + subject.substr(0, 16) + "… consented to '" +
                            version + "', but mandatory consent form '" + m->Text(0) +
                            "' is in effect since " + m->Text(1) + "; re-consent first")
                      .at_field(field));
    }
  }
  bool in_scope = false;
  for (const JsonValue& scope : granted_json->as_array()) {
    auto it = (*form)->scopes.find(scope.as_string());
    if (it == (*form)->scopes.end()) continue;
    if (std::find(it->second.begin(), it->second.end(), domain_) != it->second.end()) {
      in_scope = true;
    }
  }
  if (!in_scope) {
    return Fail(Error("trial.scope_not_consented",
                      field + ": domain " + domain_ + " is in no scope subject " +
                          subject.substr(0, 16) + "… granted under consent form '" + version + "'")
                    .at_field(field));
  }
  return Ok();
}

Status ConsentGate::Note(const std::string& subject, const std::string& leaf) {
  if (subject.empty()) return Ok();
  PEDIGREE_ASSIGN(q, e_.db.Prepare("INSERT INTO trial_subject_leaves(trial, subject_ref, domain, "
                                   "leaf, idx, time) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
  q->Bind(1, trial_)
      .Bind(2, subject)
      .Bind(3, domain_)
      .Bind(4, leaf)
      .Bind(5, static_cast<int64_t>(e_.index))
      .Bind(6, e_.time);
  return q->Run();
}

}  // namespace pedigree::provenance
