// The trial.* rules: registration, protocol seal, enrolment, data submission with
// replacements, domain locks, dataset seals and redactions. Only ids, salted hashes and
// counts reach these tables; see docs/events.md "Trial kinds".
#include <algorithm>
#include <set>

#include "payload_fields.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/provenance/pack_rules.h"
#include "pedigree/provenance/provenance.h"
#include "provenance_rows.h"
#include "trial_rules.h"

namespace pedigree::provenance {
using namespace fields;
namespace {

constexpr const char* kMalformed = "trial.malformed";
constexpr const char* kSealAlgorithm = "pedigree-trial-seal/v1";
constexpr size_t kMaxRecordsPerSubmission = 10000;
constexpr size_t kMaxOutcomeLength = 512;

std::string Code(std::string_view family, std::string_view what) {
  return std::string(family) + "." + std::string(what);
}

const char* MalformedCode(std::string_view family) {
  return family == "kit" ? "kit.malformed" : kMalformed;
}

bool IsTrialId(std::string_view id) {
  return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

// EU CT number "YYYY-5NNNNN-NN-NN" (CTIS) or ClinicalTrials.gov "NCT" + 8 digits.
bool IsRegistryId(std::string_view id) {
  if (id.size() == 11 && id.substr(0, 3) == "NCT") return AllDigits(id.substr(3));
  return id.size() == 17 && AllDigits(id.substr(0, 4)) && id[4] == '-' && id[5] == '5' &&
         AllDigits(id.substr(5, 6)) && id[11] == '-' && AllDigits(id.substr(12, 2)) &&
         id[14] == '-' && AllDigits(id.substr(15, 2));
}

// CDISC domain codes: DM, AE, LB, SUPPAE...
bool IsDomain(std::string_view d) {
  return d.size() >= 2 && d.size() <= 8 && d[0] >= 'A' && d[0] <= 'Z' &&
         std::all_of(d.begin() + 1, d.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

Result<std::string> Domain(const JsonValue& p) {
  PEDIGREE_ASSIGN(domain, Str(p, "domain", kMalformed));
  if (!IsDomain(*domain)) {
    return Fail(Error("trial.bad_domain",
                      "domain: '" + *domain + "' must match [A-Z][A-Z0-9]{1,7}, e.g. DM or AE")
                    .at_field("domain"));
  }
  return *domain;
}

Result<std::string> Hash(const JsonValue& p, const char* name) {
  PEDIGREE_ASSIGN(value, Str(p, name, kMalformed));
  if (!IsLowerHex64(*value)) {
    return Fail(
        Malformed(name, "'" + *value + "' must be 64 lowercase hex characters", kMalformed));
  }
  return *value;
}

// A `reason` member: absent or empty is `trial.reason_required`, naming what needs it.
Result<std::string> Reason(const JsonValue& p, const std::string& what) {
  std::string reason = OptStr(p, "reason");
  if (reason.empty()) {
    return Fail(Error("trial.reason_required", "reason: " + what + " needs a reason for the change")
                    .at_field("reason"));
  }
  return reason;
}

// The lock state of trial+domain: "open" when never locked.
Result<std::pair<std::string, bool>> DomainState(log::sql::Connection& db, const std::string& trial,
                                                 const std::string& domain) {
  PEDIGREE_ASSIGN(
      q, db.Prepare("SELECT lock, sealed FROM trial_domains WHERE trial = ?1 AND domain = ?2"));
  q->Bind(1, trial).Bind(2, domain);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::pair<std::string, bool>{"open", false};
  return std::pair<std::string, bool>{q->Text(0), q->Int(1) != 0};
}

Result<std::vector<std::string>> Outcomes(const JsonValue& outcomes, const char* name,
                                          std::set<std::string>& seen) {
  std::string field = std::string("outcomes.") + name;
  const JsonValue* list = outcomes.find(name);
  if (!list || !list->is_array()) {
    return Fail(Malformed(field, "must be an array of outcome texts", kMalformed));
  }
  std::vector<std::string> out;
  for (const JsonValue& item : list->as_array()) {
    if (!item.is_string() || item.as_string().empty() ||
        item.as_string().size() > kMaxOutcomeLength) {
      return Fail(
          Malformed(field, "each outcome must be a text of 1 to 512 characters", kMalformed));
    }
    if (!seen.insert(item.as_string()).second) {
      return Fail(Error("trial.duplicate_outcome",
                        field + ": outcome '" + item.as_string() + "' is listed twice")
                      .at_field(field));
    }
    out.push_back(item.as_string());
  }
  return out;
}

class TrialRules {
 public:
  explicit TrialRules(const EventContext& e) : e_(e), db_(e.db) {}

  Status Register(const JsonValue& p);
  Status Protocol(const JsonValue& p);
  Status Enrol(const JsonValue& p);
  Status Submit(const JsonValue& p);
  Status Lock(const JsonValue& p);
  Status Seal(const JsonValue& p);
  Status Redact(const JsonValue& p);

 private:
  const EventContext& e_;
  log::sql::Connection& db_;
};

Status TrialRules::Register(const JsonValue& p) {
  if (!HasRole(e_, "sponsor")) {
    return Fail(Error("trial.forbidden_role",
                      "trial.register needs role sponsor; '" + e_.org + "' is not a sponsor")
                    .at_field("org"));
  }
  PEDIGREE_ASSIGN(id, Str(p, "trialId", kMalformed));
  if (!IsTrialId(*id)) {
    return Fail(Error("trial.bad_trial_id",
                      "trialId: '" + *id + "' must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
                    .at_field("trialId"));
  }
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(registry, Str(p, "registryId", kMalformed));
  if (!IsRegistryId(*registry)) {
    return Fail(Error("trial.bad_registry_id",
                      "registryId: '" + *registry +
                          "' is neither an EU CT number YYYY-5NNNNN-NN-NN nor NCT + 8 digits")
                    .at_field("registryId"));
  }
  PEDIGREE_ASSIGN(title, Str(p, "title", kMalformed));
  PEDIGREE_ASSIGN(sites, StrList(p, "sites", kMalformed));
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trials(id, registry_id, sponsor, title, idx, time) "
                                   "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
    q->Bind(1, *id)
        .Bind(2, *registry)
        .Bind(3, e_.org)
        .Bind(4, *title)
        .Bind(5, static_cast<int64_t>(e_.index))
        .Bind(6, e_.time);
    if (!q->Run()) {
      return Fail(Error("trial.already_registered", "trialId: trial '" + *id + "' already exists")
                      .at_field("trialId"));
    }
  }
  int64_t pos = 0;
  for (const std::string& site : *sites) {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT roles FROM orgs WHERE id = ?1"));
    q->Bind(1, site);
    PEDIGREE_ASSIGN(row, q->Step());
    auto roles = *row ? SplitRoles(q->Text(0)) : std::vector<std::string>{};
    if (std::find(roles.begin(), roles.end(), "site") == roles.end()) {
      return Fail(Error("trial.bad_site", "sites: '" + site +
                                              (*row ? "' does not hold role site"
                                                    : "' is not a registered organisation"))
                      .at_field("sites"));
    }
    PEDIGREE_ASSIGN(ins,
                    db_.Prepare("INSERT INTO trial_sites(trial, site, pos) VALUES(?1, ?2, ?3)"));
    ins->Bind(1, *id).Bind(2, site).Bind(3, pos++);
    if (!ins->Run()) {
      return Fail(
          Error("trial.bad_site", "sites: '" + site + "' is listed twice").at_field("sites"));
    }
  }
  const JsonValue* arms = p.find("arms");
  if (!arms || !arms->is_array() || arms->as_array().empty()) {
    return Fail(Malformed("arms", "must be a non-empty array of {code, name}", kMalformed));
  }
  pos = 0;
  for (const JsonValue& arm : arms->as_array()) {
    if (!arm.is_object()) {
      return Fail(Malformed("arms", "each arm must be an object {code, name}", kMalformed));
    }
    PEDIGREE_ASSIGN(code, Str(arm, "code", kMalformed));
    PEDIGREE_ASSIGN(name, Str(arm, "name", kMalformed));
    PEDIGREE_ASSIGN(
        ins, db_.Prepare("INSERT INTO trial_arms(trial, code, name, pos) VALUES(?1, ?2, ?3, ?4)"));
    ins->Bind(1, *id).Bind(2, *code).Bind(3, *name).Bind(4, pos++);
    if (!ins->Run()) {
      return Fail(Error("trial.duplicate_arm", "arms: arm code '" + *code + "' is listed twice")
                      .at_field("arms"));
    }
  }
  return Ok();
}

Status TrialRules::Protocol(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "trial.protocol", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(hash, Hash(p, "protocolHash"));
  PEDIGREE_ASSIGN(version, Str(p, "version", kMalformed));
  const JsonValue* outcomes = p.find("outcomes");
  if (!outcomes || !outcomes->is_object()) {
    return Fail(Malformed("outcomes", "must be an object {primary, secondary}", kMalformed));
  }
  std::set<std::string> seen;
  PEDIGREE_ASSIGN(primary, Outcomes(*outcomes, "primary", seen));
  PEDIGREE_ASSIGN(secondary, Outcomes(*outcomes, "secondary", seen));
  if (primary->empty()) {
    return Fail(
        Malformed("outcomes.primary", "a protocol names at least one primary outcome", kMalformed));
  }
  auto stored = JsonValue::Object();
  stored.set("primary", *outcomes->find("primary"));
  stored.set("secondary", *outcomes->find("secondary"));
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_protocols(trial, idx, time, protocol_hash, "
                                 "version, outcomes, signer_org, signer_name, meaning) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  q->Bind(1, trial->id)
      .Bind(2, static_cast<int64_t>(e_.index))
      .Bind(3, e_.time)
      .Bind(4, *hash)
      .Bind(5, *version)
      .Bind(6, Canonicalize(stored))
      .Bind(7, e_.org)
      .Bind(8, signature->name)
      .Bind(9, signature->meaning);
  return q->Run();
}

Status TrialRules::Enrol(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSite(e_, *trial, "trial.enrol", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(subject, Hash(p, "subjectRef"));
  std::string arm = OptStr(p, "arm");
  if (!arm.empty()) {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_arms WHERE trial = ?1 AND code = ?2"));
    q->Bind(1, trial->id).Bind(2, arm);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(Error("trial.unknown_arm",
                        "arm: '" + arm + "' is not an arm of trial '" + trial->id + "'")
                      .at_field("arm"));
    }
  }
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_protocols WHERE trial = ?1 LIMIT 1"));
    q->Bind(1, trial->id);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(Alert{AlertCode::kEnrolmentBeforeProtocol,
                        "trial '" + trial->id + "' has no protocol seal; subject " +
                            subject->substr(0, 16) + "… cannot be enrolled"}
                      .ToError()
                      .at_field("trialId"));
    }
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_enrolments(trial, subject_ref, arm, site, idx, "
                                 "time) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
  q->Bind(1, trial->id)
      .Bind(2, *subject)
      .BindTextOrNull(3, arm)
      .Bind(4, e_.org)
      .Bind(5, static_cast<int64_t>(e_.index))
      .Bind(6, e_.time);
  if (!q->Run()) {
    return Fail(Error("trial.duplicate_subject",
                      "subjectRef: " + *subject + " is already enrolled in '" + trial->id + "'")
                    .at_field("subjectRef"));
  }
  return Ok();
}

Status TrialRules::Submit(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSiteOrSponsor(e_, *trial, "trial.submit", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(domain, Domain(p));
  const JsonValue* records = p.find("records");
  if (!records || !records->is_array()) {
    return Fail(Malformed("records", "must be an array of {leaf, replaces?}", kMalformed));
  }
  size_t n = records->as_array().size();
  if (n == 0 || n > kMaxRecordsPerSubmission) {
    return Fail(Error("trial.bad_record_count",
                      "records: " + std::to_string(n) + " records; a submission carries 1 to 10000")
                    .at_field("records"));
  }
  struct Record {
    std::string leaf;
    std::string replaces;
    std::string subject;
  };
  PEDIGREE_ASSIGN(gate, ConsentGate::Open(e_, trial->id, *domain));
  std::vector<Record> parsed;
  parsed.reserve(n);
  bool any_replacement = false;
  for (size_t i = 0; i < n; ++i) {
    const JsonValue& r = records->as_array()[i];
    std::string field = "records[" + std::to_string(i) + "]";
    if (!r.is_object())
      return Fail(Malformed(field, "must be an object {leaf, replaces?}", kMalformed));
    const JsonValue* leaf = r.find("leaf");
    const JsonValue* replaces = r.find("replaces");
    if (!leaf || !leaf->is_string() || !IsLowerHex64(leaf->as_string())) {
      return Fail(Malformed(field + ".leaf", "must be 64 lowercase hex characters", kMalformed));
    }
    if (replaces && (!replaces->is_string() || !IsLowerHex64(replaces->as_string()))) {
      return Fail(
          Malformed(field + ".replaces", "must be 64 lowercase hex characters", kMalformed));
    }
    PEDIGREE_ASSIGN(subject, gate->Subject(r, field));
    parsed.push_back(
        {leaf->as_string(), replaces ? replaces->as_string() : std::string(), std::move(*subject)});
    any_replacement = any_replacement || replaces;
  }
  std::string reason = OptStr(p, "reason");
  if (any_replacement && reason.empty()) {
    return Fail(Error("trial.reason_required",
                      "reason: a submission that replaces records needs a reason for the change")
                    .at_field("reason"));
  }
  PEDIGREE_ASSIGN(state, DomainState(db_, trial->id, *domain));
  if (state->first == "hard_lock") {
    return Fail(Error("trial.locked", "domain: " + *domain + " of trial '" + trial->id +
                                          "' is hard-locked; unlock it before submitting")
                    .at_field("domain"));
  }
  for (size_t i = 0; i < n; ++i) {
    const Record& r = parsed[i];
    std::string field = "records[" + std::to_string(i) + "]";
    if (state->first == "soft_lock" && r.replaces.empty()) {
      return Fail(Error("trial.soft_locked",
                        field + ": domain " + *domain +
                            " is soft-locked; only records that replace a current one are accepted")
                      .at_field(field + ".replaces"));
    }
    {
      PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_leaves(trial, domain, leaf, idx, pos, "
                                     "replaces, signer_org, signer_name, meaning, reason) "
                                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
      q->Bind(1, trial->id)
          .Bind(2, *domain)
          .Bind(3, r.leaf)
          .Bind(4, static_cast<int64_t>(e_.index))
          .Bind(5, static_cast<int64_t>(i))
          .BindTextOrNull(6, r.replaces)
          .Bind(7, e_.org)
          .Bind(8, signature->name)
          .Bind(9, signature->meaning)
          .BindTextOrNull(10, reason);
      if (!q->Run()) {
        return Fail(Error("trial.duplicate_leaf", field + ".leaf: " + r.leaf +
                                                      " was already submitted to " + trial->id +
                                                      "/" + *domain)
                        .at_field(field + ".leaf"));
      }
    }
    PEDIGREE_TRY(gate->Note(r.subject, r.leaf));
    if (r.replaces.empty()) continue;
    PEDIGREE_ASSIGN(
        q, db_.Prepare("SELECT replaced_by FROM trial_leaves WHERE trial = ?1 AND domain = ?2 AND "
                       "leaf = ?3"));
    q->Bind(1, trial->id).Bind(2, *domain).Bind(3, r.replaces);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(Error("trial.unknown_leaf", field + ".replaces: " + r.replaces +
                                                  " is not a leaf of " + trial->id + "/" + *domain)
                      .at_field(field + ".replaces"));
    }
    if (!q->IsNull(0)) {
      return Fail(Error("trial.leaf_not_current", field + ".replaces: " + r.replaces +
                                                      " was already replaced by " + q->Text(0))
                      .at_field(field + ".replaces"));
    }
    PEDIGREE_ASSIGN(u, db_.Prepare("UPDATE trial_leaves SET replaced_by = ?4 WHERE trial = ?1 AND "
                                   "domain = ?2 AND leaf = ?3"));
    u->Bind(1, trial->id).Bind(2, *domain).Bind(3, r.replaces).Bind(4, r.leaf);
    PEDIGREE_TRY(u->Run());
  }
  return Ok();
}

Status TrialRules::Lock(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "trial.lock", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(domain, Domain(p));
  PEDIGREE_ASSIGN(action, Str(p, "action", kMalformed));
  if (*action != "soft_lock" && *action != "hard_lock" && *action != "unlock") {
    return Fail(Malformed("action", "'" + *action + "' must be soft_lock, hard_lock or unlock",
                          kMalformed));
  }
  std::string reason = OptStr(p, "reason");
  std::string approver = OptStr(p, "approver");
  if (*action == "unlock") {
    if (reason.empty()) {
      return Fail(Error("trial.reason_required",
                        "reason: unlocking " + *domain + " needs a reason for the change")
                      .at_field("reason"));
    }
    if (approver.empty()) {
      return Fail(Error("trial.approver_required",
                        "approver: unlocking " + *domain + " needs the printed name of an approver")
                      .at_field("approver"));
    }
    if (approver == signature->name) {
      return Fail(Error("trial.approver_required", "approver: '" + approver +
                                                       "' signs the unlock; a second person "
                                                       "must approve it")
                      .at_field("approver"));
    }
  }
  PEDIGREE_ASSIGN(state, DomainState(db_, trial->id, *domain));
  const std::string& from = state->first;
  bool allowed = (*action == "soft_lock" && from == "open") ||
                 (*action == "hard_lock" && (from == "open" || from == "soft_lock")) ||
                 (*action == "unlock" && (from == "soft_lock" || from == "hard_lock"));
  if (!allowed) {
    return Fail(Error("trial.bad_lock_transition", "action: " + *action + " is not allowed when " +
                                                       trial->id + "/" + *domain + " is " + from)
                    .at_field("action"));
  }
  std::string to = *action == "unlock" ? "open" : *action;
  bool sealed = *action == "unlock" ? false : state->second;
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_domains(trial, domain, lock, sealed) "
                                   "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(trial, domain) DO UPDATE "
                                   "SET lock = excluded.lock, sealed = excluded.sealed"));
    q->Bind(1, trial->id).Bind(2, *domain).Bind(3, to).Bind(4, int64_t{sealed ? 1 : 0});
    PEDIGREE_TRY(q->Run());
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_locks(trial, domain, idx, time, action, "
                                 "signer_name, meaning, reason, approver) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  q->Bind(1, trial->id)
      .Bind(2, *domain)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *action)
      .Bind(6, signature->name)
      .Bind(7, signature->meaning)
      .BindTextOrNull(8, reason)
      .BindTextOrNull(9, approver);
  return q->Run();
}

Status TrialRules::Seal(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "trial.seal", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(domain, Domain(p));
  PEDIGREE_ASSIGN(root, Hash(p, "root"));
  PEDIGREE_ASSIGN(count, Int(p, "recordCount", kMalformed));
  PEDIGREE_ASSIGN(schema, Hash(p, "schemaHash"));
  PEDIGREE_ASSIGN(algorithm, Str(p, "algorithm", kMalformed));
  if (*algorithm != kSealAlgorithm) {
    return Fail(Error("trial.bad_algorithm",
                      "algorithm: '" + *algorithm + "', expected " + std::string(kSealAlgorithm))
                    .at_field("algorithm"));
  }
  if (*count < 1) {
    return Fail(Error("trial.empty_dataset", "recordCount: " + std::to_string(*count) +
                                                 "; a sealed dataset has at least one record")
                    .at_field("recordCount"));
  }
  PEDIGREE_ASSIGN(state, DomainState(db_, trial->id, *domain));
  if (state->first != "hard_lock") {
    return Fail(Error("trial.not_locked", "domain: " + trial->id + "/" + *domain + " is " +
                                              state->first + "; hard-lock it before sealing")
                    .at_field("domain"));
  }
  if (state->second) {
    return Fail(Error("trial.already_sealed", "domain: " + trial->id + "/" + *domain +
                                                  " is already sealed; unlock it to seal again")
                    .at_field("domain"));
  }
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT COUNT(*) FROM trial_leaves WHERE trial = ?1 AND "
                                   "domain = ?2 AND replaced_by IS NULL"));
    q->Bind(1, trial->id).Bind(2, *domain);
    PEDIGREE_ASSIGN(row, q->Step());
    int64_t current = *row ? q->Int(0) : 0;
    if (current != *count) {
      return Fail(Error("trial.count_mismatch", "recordCount: " + std::to_string(*count) +
                                                    ", but " + trial->id + "/" + *domain + " has " +
                                                    std::to_string(current) + " current records")
                      .at_field("recordCount"));
    }
  }
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE trial_domains SET sealed = 1 WHERE trial = ?1 AND "
                                   "domain = ?2"));
    q->Bind(1, trial->id).Bind(2, *domain);
    PEDIGREE_TRY(q->Run());
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_seals(trial, domain, idx, time, root, "
                                 "record_count, schema_hash, algorithm, signer_name, meaning) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"));
  q->Bind(1, trial->id)
      .Bind(2, *domain)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *root)
      .Bind(6, *count)
      .Bind(7, *schema)
      .Bind(8, *algorithm)
      .Bind(9, signature->name)
      .Bind(10, signature->meaning);
  return q->Run();
}

Status TrialRules::Redact(const JsonValue& p) {
  PEDIGREE_ASSIGN(trial, LoadTrial(e_, p, "trial"));
  PEDIGREE_TRY(RequireSponsor(e_, *trial, "trial.redact", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(domain, Domain(p));
  PEDIGREE_ASSIGN(leaf, Hash(p, "leaf"));
  PEDIGREE_ASSIGN(reason, Reason(p, "a redaction"));
  {
    PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE trial_leaves SET redacted = 1 WHERE trial = ?1 AND "
                                   "domain = ?2 AND leaf = ?3"));
    q->Bind(1, trial->id).Bind(2, *domain).Bind(3, *leaf);
    PEDIGREE_TRY(q->Run());
    if (db_.Changes() == 0) {
      return Fail(Error("trial.unknown_leaf",
                        "leaf: " + *leaf + " is not a leaf of " + trial->id + "/" + *domain)
                      .at_field("leaf"));
    }
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_redactions(trial, domain, leaf, idx, time, "
                                 "reason, signer_name, meaning) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"));
  q->Bind(1, trial->id)
      .Bind(2, *domain)
      .Bind(3, *leaf)
      .Bind(4, static_cast<int64_t>(e_.index))
      .Bind(5, e_.time)
      .Bind(6, *reason)
      .Bind(7, signature->name)
      .Bind(8, signature->meaning);
  if (!q->Run()) {
    return Fail(Error("trial.already_redacted", "leaf: " + *leaf + " of " + trial->id + "/" +
                                                    *domain + " is already redacted")
                    .at_field("leaf"));
  }
  return Ok();
}

}  // namespace

bool HasRole(const EventContext& event, std::string_view role) {
  return std::find(event.roles.begin(), event.roles.end(), role) != event.roles.end();
}

Result<Manifestation> ReadSignature(const JsonValue& p, std::string_view family) {
  std::string code = Code(family, "bad_signature");
  const JsonValue* s = p.find("signature");
  if (!s || !s->is_object()) {
    return Fail(Error(code, "signature: missing; give {name, meaning} of the person signing")
                    .at_field("signature"));
  }
  const JsonValue* name = s->find("name");
  if (!name || !name->is_string() || name->as_string().empty() || name->as_string().size() > 128) {
    return Fail(Error(code, "signature.name: the printed name must be 1 to 128 characters")
                    .at_field("signature.name"));
  }
  const JsonValue* meaning = s->find("meaning");
  static const std::set<std::string> kMeanings = {"authorship", "review", "approval",
                                                  "responsibility"};
  if (!meaning || !meaning->is_string() || !kMeanings.count(meaning->as_string())) {
    std::string given =
        meaning && meaning->is_string() ? "'" + meaning->as_string() + "'" : "missing";
    return Fail(Error(code, "signature.meaning: " + given +
                                " must be authorship, review, approval or responsibility")
                    .at_field("signature.meaning"));
  }
  return Manifestation{name->as_string(), meaning->as_string()};
}

Result<TrialFacts> LoadTrial(const EventContext& event, const JsonValue& p,
                             std::string_view family) {
  PEDIGREE_ASSIGN(id, Str(p, "trialId", MalformedCode(family)));
  PEDIGREE_ASSIGN(q, event.db.Prepare("SELECT sponsor FROM trials WHERE id = ?1"));
  q->Bind(1, *id);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(
        Error(Code(family, "unknown_trial"), "trialId: no trial '" + *id + "' is registered")
            .at_field("trialId"));
  }
  return TrialFacts{*id, q->Text(0)};
}

Status RequireSponsor(const EventContext& event, const TrialFacts& trial, const std::string& kind,
                      std::string_view family) {
  if (!HasRole(event, "sponsor")) {
    return Fail(Error(Code(family, "forbidden_role"),
                      kind + " needs role sponsor; '" + event.org + "' is not a sponsor")
                    .at_field("org"));
  }
  if (event.org != trial.sponsor) {
    return Fail(Error(Code(family, "not_sponsor"), "org: '" + event.org +
                                                       "' is not the sponsor of trial '" +
                                                       trial.id + "' (" + trial.sponsor + " is)")
                    .at_field("org"));
  }
  return Ok();
}

Result<bool> IsTrialSite(const EventContext& event, const std::string& trial,
                         const std::string& org) {
  PEDIGREE_ASSIGN(q, event.db.Prepare("SELECT 1 FROM trial_sites WHERE trial = ?1 AND site = ?2"));
  q->Bind(1, trial).Bind(2, org);
  return q->Step();
}

Status RequireSite(const EventContext& event, const TrialFacts& trial, const std::string& kind,
                   std::string_view family) {
  if (!HasRole(event, "site")) {
    return Fail(Error(Code(family, "forbidden_role"),
                      kind + " needs role site; '" + event.org + "' is not a site")
                    .at_field("org"));
  }
  PEDIGREE_ASSIGN(site, IsTrialSite(event, trial.id, event.org));
  if (!*site) {
    return Fail(Error(Code(family, "not_site"),
                      "org: '" + event.org + "' is not a site of trial '" + trial.id + "'")
                    .at_field("org"));
  }
  return Ok();
}

Result<bool> RequireSiteOrSponsor(const EventContext& event, const TrialFacts& trial,
                                  const std::string& kind, std::string_view family) {
  if (HasRole(event, "sponsor") && event.org == trial.sponsor) return true;
  if (HasRole(event, "site")) {
    PEDIGREE_TRY(RequireSite(event, trial, kind, family));
    return false;
  }
  if (HasRole(event, "sponsor")) {
    PEDIGREE_TRY(RequireSponsor(event, trial, kind, family));
  }
  return Fail(Error(Code(family, "forbidden_role"),
                    kind + " needs role site or sponsor; '" + event.org + "' has neither")
                  .at_field("org"));
}

Status ApplyTrialEvent(const EventContext& event, const std::string& kind, const JsonValue& p) {
  TrialRules rules(event);
  if (kind == "trial.register") return rules.Register(p);
  if (kind == "trial.protocol") return rules.Protocol(p);
  if (kind == "trial.enrol") return rules.Enrol(p);
  if (kind == "trial.submit") return rules.Submit(p);
  if (kind == "trial.lock") return rules.Lock(p);
  if (kind == "trial.seal") return rules.Seal(p);
  if (kind == "trial.redact") return rules.Redact(p);
  if (kind == "trial.consent_form" || kind == "trial.consent" || kind == "trial.withdraw") {
    PEDIGREE_ASSIGN(trial, LoadTrial(event, p, "trial"));
    return ApplyConsentEvent(event, *trial, kind, p);
  }
  if (kind == "trial.grant" || kind == "trial.revoke_grant" || kind == "trial.access") {
    PEDIGREE_ASSIGN(trial, LoadTrial(event, p, "trial"));
    return ApplyGrantEvent(event, *trial, kind, p);
  }
  return Fail(Error("event.unknown_kind", "unknown event kind '" + kind + "'").at_field("kind"));
}

}  // namespace pedigree::provenance
