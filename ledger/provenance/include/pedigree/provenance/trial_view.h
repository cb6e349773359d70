// Read-only queries over the trial and kit tables the provenance model derives from the
// log (payloads: ../../../../docs/events.md "Trial kinds" and "Kit kinds"), and the
// outcome-switching check of a publication against the sealed protocol.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::provenance {

struct TrialArm {
  std::string code;
  std::string name;
};

struct TrialRecord {
  std::string id;
  std::string registry_id;
  std::string sponsor;
  std::string title;
  std::vector<std::string> sites;  // in registration order
  std::vector<TrialArm> arms;      // in registration order
  uint64_t index = 0;              // ledger index of trial.register
  int64_t time = 0;
};

// One trial.protocol event. The first protocol of a trial is its seal: enrolment is
// refused before it, so it always precedes the first patient.
struct ProtocolRecord {
  uint64_t index = 0;
  int64_t time = 0;
  std::string protocol_hash;
  std::string version;
  std::vector<std::string> primary;
  std::vector<std::string> secondary;
  std::string outcomes_json;  // {"primary":[..],"secondary":[..]}, RFC 8785 canonical
  std::string signer_org;
  std::string signer_name;
  std::string meaning;
  bool is_seal = false;                // the trial's first protocol
  bool after_first_enrolment = false;  // an amendment made once subjects were enrolled
};

struct EnrolmentSummary {
  int64_t count = 0;
  std::optional<uint64_t> first_index;  // empty when nobody is enrolled
  int64_t first_time = 0;
};

// A current (not replaced) record commitment of a trial domain.
struct LeafRecord {
  std::string leaf;
  uint64_t index = 0;  // ledger index of the trial.submit that carried it
  std::string signer_org;
  std::string signer_name;
  std::string meaning;
  std::string reason;    // the submission's reason, "" for first entries
  std::string replaces;  // the leaf it replaced, or ""
  bool redacted = false;
};

struct LockRecord {
  uint64_t index = 0;
  int64_t time = 0;
  std::string action;  // soft_lock, hard_lock, unlock
  std::string signer_name;
  std::string meaning;
  std::string reason;    // "" unless given
  std::string approver;  // "" unless given (always given for unlock)
};

struct SealRecord {
  uint64_t index = 0;
  int64_t time = 0;
  std::string root;
  int64_t record_count = 0;
  std::string schema_hash;
  std::string algorithm;
  std::string signer_name;
  std::string meaning;
};

struct RedactionRecord {
  std::string leaf;
  uint64_t index = 0;
  int64_t time = 0;
  std::string reason;
  std::string signer_name;
  std::string meaning;
};

struct KitRecord {
  std::string kit;  // GS1 Digital Link pack id
  std::string trial;
  // registered, in_transit, available, assigned, dispensed, returned, quarantined, destroyed
  std::string state;
  std::string holder;         // the org that has it (the sponsor until a site receives it)
  std::string in_transit_to;  // the addressed site while in transit, else ""
  std::string subject_ref;    // the subject it was assigned or dispensed to, or ""
  std::string lot;
  std::string expiry;
  std::vector<uint64_t> history;  // ledger indices of every kit.* event that touched it
};

// One trial.consent_form: an informed consent form version (docs/consent.md).
struct ConsentFormRecord {
  std::string version;
  uint64_t index = 0;
  int64_t time = 0;
  std::string document_hash;
  std::string country;
  std::string language;
  std::string ethics_ref;
  std::string approved;   // YYYY-MM-DD
  std::string effective;  // YYYY-MM-DD
  bool mandatory = false;
  std::string scopes_json;  // {"core":["DM",..],..}, RFC 8785 canonical
  std::string signer_name;
  std::string meaning;
};

// One trial.consent.
struct ConsentRecord {
  std::string subject_ref;
  uint64_t index = 0;
  int64_t time = 0;          // the event's time
  int64_t consent_time = 0;  // when the participant consented
  std::string version;
  std::vector<std::string> granted;
  std::vector<std::string> declined;
  std::string site;
  std::string signer_name;
  std::string meaning;
  std::string witness;         // "" unless given
  std::string representative;  // "" unless given
};

// A leaf of one subject, as trial.submit named it.
struct SubjectLeaf {
  std::string domain;
  std::string leaf;
  uint64_t index = 0;
  bool redacted = false;
};

// One trial.withdraw, with the subject's leaves and how many of them are redacted.
struct WithdrawalRecord {
  std::string subject_ref;
  uint64_t index = 0;
  int64_t time = 0;
  int64_t withdrawal_time = 0;
  std::string data_choice;  // retain, redact
  std::string site;
  std::string signer_name;
  std::string meaning;
  std::vector<SubjectLeaf> leaves;  // submitted before the withdrawal, ledger order
  size_t redacted = 0;
  // A `redact` choice is carried out when every leaf of the subject is redacted.
  bool redaction_done() const { return data_choice == "redact" && redacted == leaves.size(); }
};

// One trial.grant, with its revocation when there is one.
struct GrantRecord {
  std::string grant_id;
  uint64_t index = 0;
  int64_t time = 0;
  std::string grantee;
  std::string purpose;  // monitor, auditor, regulator, data_manager
  std::vector<std::string> domains;
  std::vector<std::string> sites;     // empty: every site
  std::vector<std::string> subjects;  // empty: every subject
  int64_t start = 0;
  int64_t expiry = 0;  // exclusive
  std::string signer_name;
  std::string meaning;
  std::optional<uint64_t> revoked_index;
  int64_t revoked_time = 0;
  std::string revoke_reason;
  // Whether an access at `t` (unix seconds) falls inside the grant.
  bool valid_at(int64_t t) const {
    return t >= start && t < expiry && (!revoked_index || t < revoked_time);
  }
};

// One trial.access: a read of record contents from the sponsor's store, answered
// (`granted`, naming the leaves returned) or refused (`refusal` holds the code).
struct AccessRecord {
  uint64_t index = 0;
  int64_t time = 0;
  std::string reader;
  std::string grant_id;  // "" for a refusal without a grant
  std::string purpose;
  std::string domain;
  std::string outcome;  // granted, refused
  std::string refusal;
  std::vector<std::string> leaves;
};

// An access that named leaves of one subject: its ledger index and those leaves only.
struct SubjectAccess {
  uint64_t index = 0;
  std::vector<SubjectLeaf> leaves;  // of the subject, in the access event's order
};

// What the ledger holds about one subject of a trial, by its salted reference: the entries a
// participant's receipt is made of (docs/consent.md, "Participant receipts").
struct SubjectHistory {
  std::optional<uint64_t> enrolment;  // index of trial.enrol; empty: not enrolled
  std::vector<uint64_t> consents;     // trial.consent indices, ascending
  std::optional<uint64_t> withdrawal;
  std::vector<SubjectLeaf> leaves;      // every leaf trial.submit named for the subject
  std::vector<SubjectAccess> accesses;  // trial.access naming any of them, ascending
};

// How many leaves of a trial domain are current, and how many of those are redacted.
struct LeafCounts {
  size_t current = 0;
  size_t redacted = 0;
};

// Read-only queries on a connection of its own. One per thread.
class TrialView {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TrialView>> Open(const std::string& db_path);
  ~TrialView();

  [[nodiscard]] Result<std::optional<TrialRecord>> Trial(std::string_view trial_id);
  // The trial's sponsor alone (one row), nullopt for an unknown trial: what authorising a
  // read needs on every request, without the sites and arms Trial() reads as well.
  [[nodiscard]] Result<std::optional<std::string>> Sponsor(std::string_view trial_id);
  // Every trial.protocol of the trial in ledger order; the first has is_seal.
  [[nodiscard]] Result<std::vector<ProtocolRecord>> Protocols(std::string_view trial_id);
  [[nodiscard]] Result<EnrolmentSummary> Enrolments(std::string_view trial_id);
  // Current leaves of trial+domain in ledger order (submission index, then position).
  [[nodiscard]] Result<std::vector<LeafRecord>> Leaves(std::string_view trial_id,
                                                       std::string_view domain);
  // The domains of the trial that have leaves or a lock history, sorted bytewise.
  [[nodiscard]] Result<std::vector<std::string>> Domains(std::string_view trial_id);
  // Ledger indices of the trial.submit events that carried leaves of trial+domain,
  // including leaves replaced since, ascending.
  [[nodiscard]] Result<std::vector<uint64_t>> Submissions(std::string_view trial_id,
                                                          std::string_view domain);
  // The counts of Leaves and of its redacted ones, without reading the rows.
  [[nodiscard]] Result<LeafCounts> CountLeaves(std::string_view trial_id, std::string_view domain);
  // Ledger indices of the enrolment_before_protocol alerts the node recorded for the trial
  // (enrolments refused before its protocol seal), ascending.
  [[nodiscard]] Result<std::vector<uint64_t>> EnrolmentRefusals(std::string_view trial_id);
  // "open", "soft_lock" or "hard_lock".
  [[nodiscard]] Result<std::string> LockState(std::string_view trial_id, std::string_view domain);
  [[nodiscard]] Result<std::vector<LockRecord>> LockHistory(std::string_view trial_id,
                                                            std::string_view domain);
  [[nodiscard]] Result<std::vector<SealRecord>> Seals(std::string_view trial_id,
                                                      std::string_view domain);
  [[nodiscard]] Result<std::vector<RedactionRecord>> Redactions(std::string_view trial_id,
                                                                std::string_view domain);
  [[nodiscard]] Result<std::optional<KitRecord>> Kit(std::string_view kit_id);
  // Consent forms in ledger order.
  [[nodiscard]] Result<std::vector<ConsentFormRecord>> ConsentForms(std::string_view trial_id);
  // Consents in ledger order.
  [[nodiscard]] Result<std::vector<ConsentRecord>> Consents(std::string_view trial_id);
  // Withdrawals in ledger order, each with the subject's leaves.
  [[nodiscard]] Result<std::vector<WithdrawalRecord>> Withdrawals(std::string_view trial_id);

  // Grants in ledger order.
  [[nodiscard]] Result<std::vector<GrantRecord>> Grants(std::string_view trial_id);
  // The grants to `grantee` only, in ledger order: a read's authorisation, without
  // building every other grantee's records on each request.
  [[nodiscard]] Result<std::vector<GrantRecord>> GrantsTo(std::string_view trial_id,
                                                          std::string_view grantee);
  // Accesses in ledger order, each with the leaves it returned.
  [[nodiscard]] Result<std::vector<AccessRecord>> Accesses(std::string_view trial_id);
  // The subject's enrolment, consents, withdrawal, leaves and the accesses to them, through
  // the indexes by subject and by leaf (no scan of the trial's accesses). A subject never
  // enrolled has no enrolment and nothing else.
  [[nodiscard]] Result<SubjectHistory> Subject(std::string_view trial_id,
                                               std::string_view subject_ref);

 private:
  struct Impl;
  explicit TrialView(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// How the outcomes a publication reports differ from the sealed protocol's.
struct OutcomeDiscrepancies {
  std::vector<std::string> reported_not_sealed;  // added outcomes (reported text)
  std::vector<std::string> sealed_not_reported;  // omitted outcomes (sealed text)
  // Sealed as primary and reported as secondary or the reverse (sealed text).
  std::vector<std::string> moved;
  bool empty() const {
    return reported_not_sealed.empty() && sealed_not_reported.empty() && moved.empty();
  }
};

// Compares outcome texts exactly after normalising whitespace: leading and trailing
// whitespace is removed and every inner run of whitespace (space, tab, CR, LF) becomes
// one space; case, punctuation and wording are compared as they are, so a reworded
// outcome counts as one added and one omitted. An outcome moved between primary and
// secondary is listed only under `moved`. Each list keeps the order of its input.
OutcomeDiscrepancies OutcomeCheck(const std::vector<std::string>& sealed_primary,
                                  const std::vector<std::string>& sealed_secondary,
                                  const std::vector<std::string>& reported_primary,
                                  const std::vector<std::string>& reported_secondary);

}  // namespace pedigree::provenance
