// The access rules of the trial family: trial.grant (the sponsor grants an organisation
// read access to domains of its store until an expiry), trial.revoke_grant, and
// trial.access (the sponsor's store records a read of record contents by someone other
// than the sponsor, or its refusal). A granted access must lie inside a grant valid at the
// access event's time and name leaves the trial has, so a replay re-checks every recorded
// read against the grants. Only org ids, grant ids, domain codes and leaf hashes reach
// these tables. Model: docs/consent.md "Access grants"; payloads: docs/events.md.
#include <algorithm>
#include <set>

#include "payload_fields.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "trial_rules.h"

namespace pedigree::provenance {
using namespace fields;
namespace {

constexpr const char* kMalformed = "trial.malformed";
// As trial.submit: one access event names at most this many leaves.
constexpr size_t kMaxLeaves = 10'000;

bool IsGrantId(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

bool IsDomainCode(std::string_view d) {
  return d.size() >= 2 && d.size() <= 8 && d[0] >= 'A' && d[0] <= 'Z' &&
         std::all_of(d.begin() + 1, d.end(),
                     [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); });
}

bool IsPurpose(std::string_view p) {
  return p == "monitor" || p == "auditor" || p == "regulator" || p == "data_manager";
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

Result<std::string> GrantIdMember(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "grantId", kMalformed));
  if (!IsGrantId(*id)) {
    return Fail(Malformed(
        "grantId", "'" + *id + "' must be 1 to 64 characters of A-Z a-z 0-9 . _ -", kMalformed));
  }
  return *id;
}

// An optional array of distinct texts: empty when absent.
Result<std::vector<std::string>> OptDistinct(const JsonValue& p, const char* name) {
  if (!p.find(name)) return std::vector<std::string>();
  PEDIGREE_ASSIGN(list, StrList(p, name, kMalformed));
  std::set<std::string> seen;
  for (const auto& s : *list) {
    if (!seen.insert(s).second) {
      return Fail(Malformed(name, "'" + s + "' is listed twice", kMalformed));
    }
  }
  return *list;
}

JsonValue StringArray(const std::vector<std::string>& items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

std::vector<std::string> JsonStrings(const std::string& text) {
  std::vector<std::string> out;
  auto json = ParseJson(text);
  if (!json || !json->is_array()) return out;
  for (const JsonValue& v : json->as_array()) out.push_back(v.as_string());
  return out;
}

Result<bool> IsRegistered(log::sql::Connection& db, const std::string& org) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT 1 FROM orgs WHERE id = ?1"));
  q->Bind(1, org);
  return q->Step();
}

struct GrantFacts {
  std::string grantee;
  std::string purpose;
  std::vector<std::string> domains;
  std::vector<std::string> sites;
  std::vector<std::string> subjects;
  int64_t start = 0;
  int64_t expiry = 0;
  std::optional<uint64_t> revoked_index;
  int64_t revoked_time = 0;
};

Result<GrantFacts> LoadGrant(log::sql::Connection& db, const std::string& trial,
                             const std::string& grant) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT grantee, purpose, domains, sites, subjects, start_time, "
                                "expiry_time, revoked_idx, revoked_time FROM trial_grants WHERE "
                                "trial = ?1 AND grant_id = ?2"));
  q->Bind(1, trial).Bind(2, grant);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(
        Error("trial.unknown_grant", "grantId: trial '" + trial + "' has no grant '" + grant + "'")
            .at_field("grantId"));
  }
  GrantFacts g{q->Text(0),
               q->Text(1),
               JsonStrings(q->Text(2)),
               JsonStrings(q->Text(3)),
               JsonStrings(q->Text(4)),
               q->Int(5),
               q->Int(6),
               {},
               0};
  if (!q->IsNull(7)) {
    g.revoked_index = static_cast<uint64_t>(q->Int(7));
    g.revoked_time = q->Int(8);
  }
  return g;
}

class GrantRules {
 public:
  GrantRules(const EventContext& e, const TrialFacts& trial) : e_(e), db_(e.db), trial_(trial) {}

  Status Grant(const JsonValue& p);
  Status Revoke(const JsonValue& p);
  Status Access(const JsonValue& p);

 private:
  // The leaves' subjects must be among `subjects` and enrolled at one of `sites` (each
  // list applying when not empty). A leaf that names no subject is outside a restricted
  // grant.
  Status CheckRestrictions(const GrantFacts& grant, const std::string& grant_id,
                           const std::string& domain, const std::vector<std::string>& leaves);

  const EventContext& e_;
  log::sql::Connection& db_;
  const TrialFacts& trial_;
};

Status GrantRules::Grant(const JsonValue& p) {
  PEDIGREE_TRY(RequireSponsor(e_, trial_, "trial.grant", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(id, GrantIdMember(p));
  PEDIGREE_ASSIGN(grantee, Str(p, "grantee", kMalformed));
  PEDIGREE_ASSIGN(known, IsRegistered(db_, *grantee));
  if (!*known) {
    return Fail(Error("trial.unknown_grantee",
                      "grantee: '" + *grantee + "' is not a registered organisation")
                    .at_field("grantee"));
  }
  if (*grantee == trial_.sponsor) {
    return Fail(Malformed("grantee",
                          "'" + *grantee +
                              "' is the trial's sponsor, which reads its own store "
                              "without a grant",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(purpose, Str(p, "purpose", kMalformed));
  if (!IsPurpose(*purpose)) {
    return Fail(Malformed("purpose",
                          "'" + *purpose + "' must be monitor, auditor, regulator or data_manager",
                          kMalformed));
  }
  PEDIGREE_ASSIGN(domains, OptDistinct(p, "domains"));
  if (domains->empty()) {
    return Fail(Malformed("domains", "must list at least one domain", kMalformed));
  }
  for (const auto& d : *domains) {
    if (!IsDomainCode(d)) {
      return Fail(Error("trial.bad_domain",
                        "domains: '" + d + "' must match [A-Z][A-Z0-9]{1,7}, e.g. DM or AE")
                      .at_field("domains"));
    }
  }
  PEDIGREE_ASSIGN(sites, OptDistinct(p, "sites"));
  for (const auto& s : *sites) {
    PEDIGREE_ASSIGN(site, IsTrialSite(e_, trial_.id, s));
    if (!*site) {
      return Fail(
          Error("trial.bad_site", "sites: '" + s + "' is not a site of trial '" + trial_.id + "'")
              .at_field("sites"));
    }
  }
  PEDIGREE_ASSIGN(subjects, OptDistinct(p, "subjects"));
  for (const auto& s : *subjects) {
    if (!IsLowerHex64(s)) {
      return Fail(Malformed("subjects",
                            "each must be 64 lowercase hex characters (a salted "
                            "subject reference)",
                            kMalformed));
    }
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_enrolments WHERE trial = ?1 AND "
                                   "subject_ref = ?2"));
    q->Bind(1, trial_.id).Bind(2, s);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(
          Error("trial.unknown_subject",
                "subjects: " + s.substr(0, 16) + "… is not enrolled in trial '" + trial_.id + "'")
              .at_field("subjects"));
    }
  }
  PEDIGREE_ASSIGN(start, TimeMember(p, "start"));
  PEDIGREE_ASSIGN(expiry, TimeMember(p, "expiry"));
  if (*expiry <= *start) {
    return Fail(Error("trial.bad_grant", "expiry: " + FormatUtcTime(*expiry) +
                                             " is not after the grant's start " +
                                             FormatUtcTime(*start))
                    .at_field("expiry"));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_grants(trial, grant_id, idx, time, grantee, "
                                 "purpose, domains, sites, subjects, start_time, expiry_time, "
                                 "signer_name, meaning) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                                 "?9, ?10, ?11, ?12, ?13)"));
  q->Bind(1, trial_.id)
      .Bind(2, *id)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .Bind(5, *grantee)
      .Bind(6, *purpose)
      .Bind(7, Canonicalize(StringArray(*domains)))
      .Bind(8, Canonicalize(StringArray(*sites)))
      .Bind(9, Canonicalize(StringArray(*subjects)))
      .Bind(10, *start)
      .Bind(11, *expiry)
      .Bind(12, signature->name)
      .Bind(13, signature->meaning);
  if (!q->Run()) {
    return Fail(Error("trial.duplicate_grant",
                      "grantId: trial '" + trial_.id + "' already has a grant '" + *id + "'")
                    .at_field("grantId"));
  }
  return Ok();
}

Status GrantRules::Revoke(const JsonValue& p) {
  PEDIGREE_TRY(RequireSponsor(e_, trial_, "trial.revoke_grant", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(id, GrantIdMember(p));
  std::string reason;
  if (const JsonValue* r = p.find("reason")) {
    if (!r->is_string() || r->as_string().empty() || r->as_string().size() > 512) {
      return Fail(
          Malformed("reason", "must be a text of 1 to 512 characters when given", kMalformed));
    }
    reason = r->as_string();
  }
  PEDIGREE_ASSIGN(grant, LoadGrant(db_, trial_.id, *id));
  if (grant->revoked_index) {
    return Fail(Error("trial.grant_revoked", "grantId: grant '" + *id +
                                                 "' was already revoked at ledger entry " +
                                                 std::to_string(*grant->revoked_index))
                    .at_field("grantId"));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("UPDATE trial_grants SET revoked_idx = ?3, revoked_time = ?4, "
                                 "revoke_reason = ?5, revoked_by = ?6 WHERE trial = ?1 AND "
                                 "grant_id = ?2"));
  q->Bind(1, trial_.id)
      .Bind(2, *id)
      .Bind(3, static_cast<int64_t>(e_.index))
      .Bind(4, e_.time)
      .BindTextOrNull(5, reason)
      .Bind(6, signature->name);
  return q->Run();
}

Status GrantRules::CheckRestrictions(const GrantFacts& grant, const std::string& grant_id,
                                     const std::string& domain,
                                     const std::vector<std::string>& leaves) {
  if (grant.sites.empty() && grant.subjects.empty()) return Ok();
  PEDIGREE_ASSIGN(q, db_.Prepare("SELECT l.subject_ref, e.site FROM trial_subject_leaves l JOIN "
                                 "trial_enrolments e ON e.trial = l.trial AND e.subject_ref = "
                                 "l.subject_ref WHERE l.trial = ?1 AND l.domain = ?2 AND l.leaf = "
                                 "?3"));
  for (size_t i = 0; i < leaves.size(); ++i) {
    q->Reset();
    q->Bind(1, trial_.id).Bind(2, domain).Bind(3, leaves[i]);
    PEDIGREE_ASSIGN(row, q->Step());
    const std::string subject = *row ? q->Text(0) : "";
    const std::string site = *row ? q->Text(1) : "";
    const auto in = [](const std::vector<std::string>& list, const std::string& v) {
      return list.empty() || std::find(list.begin(), list.end(), v) != list.end();
    };
    if (subject.empty() || !in(grant.subjects, subject) || !in(grant.sites, site)) {
      const std::string field = "leaves[" + std::to_string(i) + "]";
      return Fail(Error("trial.access_outside_grant",
                        field + ": the record's subject or site is outside grant '" + grant_id +
                            "', which is restricted to given sites or subjects")
                      .at_field(field));
    }
  }
  return Ok();
}

Status GrantRules::Access(const JsonValue& p) {
  // The store's owner records the reads it answered and refused.
  PEDIGREE_TRY(RequireSponsor(e_, trial_, "trial.access", "trial"));
  PEDIGREE_ASSIGN(signature, ReadSignature(p, "trial"));
  PEDIGREE_ASSIGN(reader, Str(p, "reader", kMalformed));
  PEDIGREE_ASSIGN(known, IsRegistered(db_, *reader));
  if (!*known) {
    return Fail(
        Error("trial.unknown_grantee", "reader: '" + *reader + "' is not a registered organisation")
            .at_field("reader"));
  }
  PEDIGREE_ASSIGN(domain, Str(p, "domain", kMalformed));
  if (!IsDomainCode(*domain)) {
    return Fail(Error("trial.bad_domain",
                      "domain: '" + *domain + "' must match [A-Z][A-Z0-9]{1,7}, e.g. DM or AE")
                    .at_field("domain"));
  }
  PEDIGREE_ASSIGN(outcome, Str(p, "outcome", kMalformed));
  if (*outcome != "granted" && *outcome != "refused") {
    return Fail(Malformed("outcome", "'" + *outcome + "' must be granted or refused", kMalformed));
  }
  // A read refused for want of a grant has no purpose to name.
  std::string purpose;
  if (*outcome == "granted" || p.find("purpose")) {
    PEDIGREE_ASSIGN(given, Str(p, "purpose", kMalformed));
    if (!IsPurpose(*given)) {
      return Fail(Malformed("purpose",
                            "'" + *given + "' must be monitor, auditor, regulator or data_manager",
                            kMalformed));
    }
    purpose = *given;
  }
  PEDIGREE_ASSIGN(leaves, OptDistinct(p, "leaves"));
  if (leaves->size() > kMaxLeaves) {
    return Fail(Malformed(
        "leaves",
        "names " + std::to_string(leaves->size()) + " leaves; one access event names at most 10000",
        kMalformed));
  }
  std::string grant_id;
  std::string refusal;
  if (*outcome == "refused") {
    // A refused read returned nothing: it names no leaves, only why it was refused.
    if (!leaves->empty()) {
      return Fail(Malformed("leaves", "a refused access returned no record", kMalformed));
    }
    PEDIGREE_ASSIGN(code, Str(p, "refusal", kMalformed));
    refusal = *code;
    if (p.find("grantId")) {
      PEDIGREE_ASSIGN(id, GrantIdMember(p));
      grant_id = *id;
    }
  } else {
    PEDIGREE_ASSIGN(id, GrantIdMember(p));
    grant_id = *id;
    PEDIGREE_ASSIGN(grant, LoadGrant(db_, trial_.id, grant_id));
    auto outside = [&](const std::string& field, const std::string& why) {
      return Fail(Error("trial.access_outside_grant", field + ": " + why).at_field(field));
    };
    if (grant->grantee != *reader) {
      return outside("reader", "grant '" + grant_id + "' is to '" + grant->grantee + "', not '" +
                                   *reader + "'");
    }
    if (grant->revoked_index) {
      return outside("grantId", "grant '" + grant_id + "' was revoked at ledger entry " +
                                    std::to_string(*grant->revoked_index));
    }
    if (e_.time < grant->start || e_.time >= grant->expiry) {
      return outside("grantId", "the access at " + FormatUtcTime(e_.time) + " is outside grant '" +
                                    grant_id + "' (" + FormatUtcTime(grant->start) + " to " +
                                    FormatUtcTime(grant->expiry) + ")");
    }
    if (std::find(grant->domains.begin(), grant->domains.end(), *domain) == grant->domains.end()) {
      return outside("domain", "grant '" + grant_id + "' does not cover domain " + *domain);
    }
    if (grant->purpose != purpose) {
      return outside("purpose",
                     "grant '" + grant_id + "' is for " + grant->purpose + ", not " + purpose);
    }
    PEDIGREE_ASSIGN(q, db_.Prepare("SELECT 1 FROM trial_leaves WHERE trial = ?1 AND domain = ?2 "
                                   "AND leaf = ?3"));
    for (size_t i = 0; i < leaves->size(); ++i) {
      const std::string field = "leaves[" + std::to_string(i) + "]";
      if (!IsLowerHex64((*leaves)[i])) {
        return Fail(Malformed(field, "must be 64 lowercase hex characters (a leaf)", kMalformed));
      }
      q->Reset();
      q->Bind(1, trial_.id).Bind(2, *domain).Bind(3, (*leaves)[i]);
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) {
        return Fail(Error("trial.unknown_leaf", field + ": " + (*leaves)[i].substr(0, 16) +
                                                    "… is not a leaf of " + trial_.id + " " +
                                                    *domain)
                        .at_field(field));
      }
    }
    PEDIGREE_TRY(CheckRestrictions(*grant, grant_id, *domain, *leaves));
  }
  PEDIGREE_ASSIGN(q, db_.Prepare("INSERT INTO trial_accesses(trial, idx, time, reader, grant_id, "
                                 "purpose, domain, outcome, refusal, leaf_count, signer_name) "
                                 "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"));
  q->Bind(1, trial_.id)
      .Bind(2, static_cast<int64_t>(e_.index))
      .Bind(3, e_.time)
      .Bind(4, *reader)
      .BindTextOrNull(5, grant_id)
      .Bind(6, purpose)
      .Bind(7, *domain)
      .Bind(8, *outcome)
      .BindTextOrNull(9, refusal)
      .Bind(10, static_cast<int64_t>(leaves->size()))
      .Bind(11, signature->name);
  PEDIGREE_TRY(q->Run());
  PEDIGREE_ASSIGN(leaf_q, db_.Prepare("INSERT INTO trial_access_leaves(trial, idx, pos, domain, "
                                      "leaf) VALUES(?1, ?2, ?3, ?4, ?5)"));
  for (size_t i = 0; i < leaves->size(); ++i) {
    leaf_q->Reset();
    leaf_q->Bind(1, trial_.id)
        .Bind(2, static_cast<int64_t>(e_.index))
        .Bind(3, static_cast<int64_t>(i))
        .Bind(4, *domain)
        .Bind(5, (*leaves)[i]);
    PEDIGREE_TRY(leaf_q->Run());
  }
  return Ok();
}

}  // namespace

Status ApplyGrantEvent(const EventContext& event, const TrialFacts& trial, const std::string& kind,
                       const JsonValue& p) {
  GrantRules rules(event, trial);
  if (kind == "trial.grant") return rules.Grant(p);
  if (kind == "trial.revoke_grant") return rules.Revoke(p);
  if (kind == "trial.access") return rules.Access(p);
  return Fail(Error("event.unknown_kind", "unknown event kind '" + kind + "'").at_field("kind"));
}

}  // namespace pedigree::provenance
