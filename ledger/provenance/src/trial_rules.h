// The trial.* and kit.* rules of the provenance model (docs/events.md, "Trial kinds" and
// "Kit kinds"). ProvenanceState checks the envelope, the signer's key and the common
// members, then forwards the payload here inside its savepoint; a refusal rolls back
// whatever the rule wrote.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/log/sql.h"

namespace pedigree::provenance {

// The event being applied, as ProvenanceState has authenticated it. References stay
// valid for the duration of one Apply call.
struct EventContext {
  log::sql::Connection& db;
  uint64_t index;
  const std::string& org;
  int64_t time;  // the payload's `time`, unix seconds
  const std::vector<std::string>& roles;
};

[[nodiscard]] Status ApplyTrialEvent(const EventContext& event, const std::string& kind,
                                     const JsonValue& p);
[[nodiscard]] Status ApplyKitEvent(const EventContext& event, const std::string& kind,
                                   const JsonValue& p);

// Shared by the trial and kit rules. `family` is "trial" or "kit" and prefixes the codes.

// The Part 11 manifestation `signature` {name, meaning} of a trial or kit payload.
struct Manifestation {
  std::string name;
  std::string meaning;
};
[[nodiscard]] Result<Manifestation> ReadSignature(const JsonValue& p, std::string_view family);

// The trial named by the payload's `trialId`: <family>.malformed for a bad id,
// <family>.unknown_trial when no trial.register introduced it.
struct TrialFacts {
  std::string id;
  std::string sponsor;
};
[[nodiscard]] Result<TrialFacts> LoadTrial(const EventContext& event, const JsonValue& p,
                                           std::string_view family);

// <family>.forbidden_role unless the actor holds `role`, then <family>.not_sponsor unless
// it is the trial's sponsor.
[[nodiscard]] Status RequireSponsor(const EventContext& event, const TrialFacts& trial,
                                    const std::string& kind, std::string_view family);
// Whether `org` is a site named by the trial's registration.
[[nodiscard]] Result<bool> IsTrialSite(const EventContext& event, const std::string& trial,
                                       const std::string& org);
// <family>.forbidden_role unless the actor holds role site, then <family>.not_site
// unless the trial names it as a site.
[[nodiscard]] Status RequireSite(const EventContext& event, const TrialFacts& trial,
                                 const std::string& kind, std::string_view family);

// For kinds open to a site of the trial or its sponsor: true for the trial's sponsor,
// false for a site of the trial; otherwise <family>.not_site (a site of other trials),
// <family>.not_sponsor (another sponsor) or <family>.forbidden_role.
[[nodiscard]] Result<bool> RequireSiteOrSponsor(const EventContext& event, const TrialFacts& trial,
                                                const std::string& kind, std::string_view family);

bool HasRole(const EventContext& event, std::string_view role);

// trial.consent_form, trial.consent and trial.withdraw (consent_state.cpp), for a trial
// LoadTrial found.
[[nodiscard]] Status ApplyConsentEvent(const EventContext& event, const TrialFacts& trial,
                                       const std::string& kind, const JsonValue& p);

// trial.grant, trial.revoke_grant and trial.access (grant_state.cpp), for a trial LoadTrial
// found.
[[nodiscard]] Status ApplyGrantEvent(const EventContext& event, const TrialFacts& trial,
                                     const std::string& kind, const JsonValue& p);

// What trial.submit checks of each record's subject (docs/consent.md "Enforcement"). A
// trial is governed once it has a consent form; before that a record may name its subject
// (`subjectRef`) and only withdrawal is checked.
class ConsentGate {
 public:
  [[nodiscard]] static Result<ConsentGate> Open(const EventContext& event, const std::string& trial,
                                                const std::string& domain);
  bool governed() const { return governed_; }
  // The record's `subjectRef` ("" when absent and the trial is not governed), checked:
  // enrolled (trial.unknown_subject), not withdrawn (trial.withdrawn), and for a governed
  // trial consented (trial.no_consent), to a version no mandatory form in effect supersedes
  // (trial.reconsent_required), with a granted scope covering the domain
  // (trial.scope_not_consented). `field` is "records[i]".
  [[nodiscard]] Result<std::string> Subject(const JsonValue& record, const std::string& field);
  // Remembers which subject a leaf belongs to (nothing for "").
  [[nodiscard]] Status Note(const std::string& subject, const std::string& leaf);

 private:
  ConsentGate(const EventContext& event, std::string trial, std::string domain, bool governed)
      : e_(event), trial_(std::move(trial)), domain_(std::move(domain)), governed_(governed) {}
  Status Check(const std::string& subject, const std::string& field);

  const EventContext& e_;
  std::string trial_;
  std::string domain_;
  bool governed_;
  std::set<std::string> checked_;
};

}  // namespace pedigree::provenance
