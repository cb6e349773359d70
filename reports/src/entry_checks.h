// The verification every report shares: a set of signed log entries with inclusion proofs
// against one checkpoint, that checkpoint's signature and cosignatures, its consistency with
// the newest, the organisation registry the entries themselves carry, and per entry the
// signature, the signer key's validity at the event time and the inclusion. Also the
// gathering of such evidence from a ledger. Private to reports/; docs/reports.md lists the
// checks and codes.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/pack_report.h"

namespace pedigree::reports::internal {

// Signed entries proved against one checkpoint, as any report's evidence holds them.
// References into the owner's evidence, which must outlive the view.
struct LogEvidenceView {
  const std::string& authority_key;
  const std::string& checkpoint;
  const std::string& latest_checkpoint;
  const std::vector<Hash>& consistency;
  const std::vector<EvidenceEntry>& entries;
};

// The same members, owned (what a ledger gatherer produces).
struct LogEvidence {
  std::string authority_key;
  std::string checkpoint;
  std::string latest_checkpoint;
  std::vector<Hash> consistency;
  std::vector<EvidenceEntry> entries;
  uint64_t checkpoint_size = 0;  // the size of `checkpoint`

  LogEvidenceView view() const {
    return {authority_key, checkpoint, latest_checkpoint, consistency, entries};
  }
};

struct OrgInfo {
  std::string name;
  std::vector<std::string> roles;
};

JsonValue Check(std::string id, bool pass, std::string detail);
JsonValue Warn(std::string id, std::string detail);
// The string member `name` of object `o`, or "" when absent or not a string.
std::string Str(const JsonValue& o, const char* name);
std::vector<std::string> StrList(const JsonValue& o, const char* name);

// The cryptographic half of a report. Use in this order: VerifyCheckpoints, VerifyAuthority,
// OpenEntries, LearnRegistry, then EntryChecks for each entry. Failed checks are appended to
// failures() with the entry index and expected vs calculated values. Not thread-safe.
class EntryVerification {
 public:
  // `what` names the evidence in messages ("pack's evidence").
  EntryVerification(LogEvidenceView evidence, const TrustAnchors& anchors, std::string what)
      : evidence_(evidence), anchors_(anchors), what_(std::move(what)) {}

  // checkpoint.signature, checkpoint.cosignatures, checkpoint.consistency and, with a
  // policy, checkpoint.quorum; fills log().
  void VerifyCheckpoints();
  // registry.authority.
  void VerifyAuthority();
  // Opens every envelope (signature verified) and checks the indices ascend.
  void OpenEntries();
  // Learns organisations and keys from the org.* entries signed by the authority.
  void LearnRegistry();
  // signature, key.valid_at_time and inclusion of entries()[i]; `signature_ok` tells
  // whether its payload may be read.
  JsonValue EntryChecks(size_t i, bool& signature_ok);

  // The opened entry i, or nullopt when missing or failing to open.
  const std::optional<log::OpenedEntry>& opened(size_t i) const { return opened_[i]; }
  const std::vector<EvidenceEntry>& entries() const { return evidence_.entries; }
  std::string OrgName(const std::string& org) const {
    auto it = orgs_.find(org);
    return it == orgs_.end() ? org : it->second.name;
  }

  // Whether the registry entries of the evidence give `org` the role.
  bool HasRole(const std::string& org, std::string_view role) const {
    auto it = orgs_.find(org);
    return it != orgs_.end() && std::find(it->second.roles.begin(), it->second.roles.end(), role) !=
                                    it->second.roles.end();
  }

  // Who vouches for each sensorElement of the sensor (or kit.excursion) payload of
  // entries()[i], opened: [{element, by: "device" | "org", org, device?, label?, text}],
  // text "signed by logger X of org Y" or "reported by org Y". A device signature counts
  // when it verifies (DeviceSignedBytes) under a logger that an authority-signed
  // org.device_add of the evidence, earlier in the log, gave the reporting organisation, and
  // no org.device_revoke of the evidence revoked it at or before the entry's time. A signed
  // element that does not pass fails registry.device_signature: the ledger's rules refuse such
  // an entry, so either the evidence lacks the logger's registry entries or the log broke its
  // rules. Revocations are known only as far as the evidence carries them.
  JsonValue SensorReadings(size_t i);

  void Fail(std::string code, std::string message, std::optional<uint64_t> index = {},
            std::string expected = {}, std::string actual = {});

  JsonArray& checks() { return checks_; }
  JsonArray& failures() { return failures_; }
  JsonValue& log() { return log_; }
  // The proofs' checkpoint once VerifyCheckpoints verified it.
  const std::optional<log::Checkpoint>& checkpoint() const { return checkpoint_; }

 private:
  // checkpoint.consistency; whether the newest checkpoint is proved to extend checkpoint_.
  bool VerifyLatestConsistency(std::span<const log::NoteVerifier> verifiers);
  void VerifyQuorum(bool latest_consistent);

  struct RegisteredKey {
    std::string org;
    int64_t valid_from = 0;
    std::optional<int64_t> valid_until;
    std::optional<int64_t> revoked_at;
    uint64_t index = 0;  // entry that added it
  };

  JsonValue KeyCheck(uint64_t index, const log::OpenedEntry& opened);

  LogEvidenceView evidence_;
  const TrustAnchors& anchors_;
  std::string what_;
  JsonArray checks_, failures_;
  JsonValue log_ = JsonValue::Object();
  std::optional<log::Checkpoint> checkpoint_;
  std::optional<log::PublicKey> authority_;
  std::vector<std::optional<log::OpenedEntry>> opened_;
  std::map<std::array<uint8_t, 32>, RegisteredKey> keys_;
  std::map<std::string, OrgInfo> orgs_;
  struct RegisteredDevice {
    std::string org;
    std::string label;
    std::array<uint8_t, 32> key{};
    uint64_t index = 0;  // entry that added it
    std::optional<int64_t> revoked_at;
  };
  std::map<std::string, RegisteredDevice> devices_;  // by EPCIS deviceID
};

// ": signed by logger X of org Y" for the readings SensorReadings found, one clause per
// distinct attribution ("; element 1 reported by org Y" when they differ); "" for none.
std::string SensorAttributionText(const JsonValue& readings);

// evidence.complete: the log's signed evidence index (evidence_index.h; empty for v1 evidence)
// against v.entries(), for the report whose subject is `subject` (`what`: "pack",
// "container"). Appends the check and the failures to `v` and sets log.evidenceIndex; true when
// completeness is proven. Call after VerifyCheckpoints.
bool CheckCompleteness(EntryVerification& v, const TrustAnchors& anchors,
                       const std::string& subject, const std::string& index_text,
                       const std::string& signature, const std::string& what);

// ---- Gathering from a ledger ----

// Envelopes read from storage once; a missing row reads as "".
class EnvelopeCache {
 public:
  explicit EnvelopeCache(log::Ledger& ledger) : ledger_(ledger) {}
  std::string& Read(uint64_t index);
  void Forget(uint64_t index) { envelopes_.erase(index); }
  // The payload of the envelope at `index`, or null when it does not parse.
  JsonValue Payload(uint64_t index);

 private:
  log::Ledger& ledger_;
  std::map<uint64_t, std::string> envelopes_;
};

// Adds to `indices` the registry entries (org.register, org.key_add, org.key_revoke) below
// `limit` (default: all) of every organisation that signed an entry of `indices` or is named in
// a member of `org_members`.
[[nodiscard]] Status AddRegistryEntries(log::Ledger& ledger, provenance::ProvenanceView& view,
                                        EnvelopeCache& envelopes, std::set<uint64_t>& indices,
                                        std::initializer_list<const char*> org_members,
                                        std::optional<uint64_t> limit = {});
// Adds to `indices` the registry entries below `limit` of the organisations `orgs`.
[[nodiscard]] Status AddRegistryEntriesOf(log::Ledger& ledger, provenance::ProvenanceView& view,
                                          EnvelopeCache& envelopes, std::set<uint64_t>& indices,
                                          const std::set<std::string>& orgs,
                                          std::optional<uint64_t> limit = {});

// Adds to `indices` what explains where the container `sscc` was at entry `time`: the latest
// earlier aggregation putting it onto a parent (unless it was taken off again before `time`),
// and the same for that parent, up the chain. Only entries before `time` are used, so a
// selection at a given log size never changes as the log grows.
[[nodiscard]] Status AddNestingContext(provenance::ProvenanceView& view, EnvelopeCache& envelopes,
                                       std::string sscc, uint64_t time,
                                       std::set<uint64_t>& indices);

// The entries of `indices` (not empty) with inclusion proofs against the oldest stored
// checkpoint that covers them all (one is signed when none does), and the consistency proof
// from it to the newest.
[[nodiscard]] Result<LogEvidence> ProveEntries(log::Ledger& ledger,
                                               const std::set<uint64_t>& indices,
                                               EnvelopeCache& envelopes);

// The verdict rule of every report: a broken proof (failures) is FAILED whatever the rules
// say; authentic evidence that breaks a rule (violations) is SUSPECT; otherwise VERIFIED.
inline std::string VerdictOf(const JsonArray& failures, const JsonArray& violations) {
  return !failures.empty() ? "FAILED" : !violations.empty() ? "SUSPECT" : "VERIFIED";
}

// Which entries the evidence about a subject must hold among the log's first `limit` entries
// (all when empty), reading payloads through `envelopes`.
using EvidenceSelector = std::function<Result<std::set<uint64_t>>(EnvelopeCache& envelopes,
                                                                  std::optional<uint64_t> limit)>;

// The evidence about `subject` (its id as the bundle names it): the selection proved against a
// checkpoint, with the evidence index of that selection signed by the log key. The index must
// be the selection at the checkpoint's size exactly: an event about the subject appended (and
// checkpointed) while this gathered would be missing from it, so it selects again at that size
// and proves that selection when it differs.
[[nodiscard]] Result<PackEvidence> ProveEvidence(log::Ledger& ledger, std::string subject,
                                                 const EvidenceSelector& select);

}  // namespace pedigree::reports::internal
