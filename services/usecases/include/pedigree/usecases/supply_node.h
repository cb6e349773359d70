// A supply-chain node: one ledger with the provenance model attached, the use cases
// the HTTP API and the CLI share (submit a signed command, sign for an organisation
// whose key this node holds, verify a scanned code), and the recording of refusals
// as alert events. See docs/events.md and docs/alerts.md.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/pack_rules.h"
#include "pedigree/provenance/provenance.h"

namespace pedigree::services {

// The answer to a pharmacy's scan.
struct VerifyAnswer {
  bool verified = false;                  // known, active, and nothing speaks against supplying it
  std::string pack_id;                    // canonical Digital Link URI, when the code names a pack
  std::string gtin, serial, lot, expiry;  // as registered (lot, expiry) or scanned
  std::string product_name;
  std::string status;         // pack status, or "unknown"
  std::string holder;         // organisation with custody
  std::string in_transit_to;  // organisation it is shipped to, not yet received
  // The batch's status ("active", "recalled", "withdrawn") and, when not active, the
  // reason its batch.status entry gives and that entry's index.
  std::string batch_status;
  std::string batch_status_reason;
  uint64_t batch_status_index = 0;
  // Who set a decommissioned pack's status and when (unix seconds).
  std::string status_org;
  int64_t status_time = 0;
  // Where the pack is, for the caller: "yours", "shipped_to_you", "held_by_other",
  // "in_transit", "decommissioned" (empty without a caller's organisation for an active
  // pack, and for an unknown one), and the sentence a person reads
  // ("held by north-wholesale, not by you: receive it first").
  std::string custody;
  std::string custody_hint;
  std::vector<provenance::Alert> reasons;  // why not, most serious first
  std::vector<std::string> scan_hints;     // the scanner's diagnosis of a damaged read
};

// The answer as JSON, the same for the HTTP API and `pedigree verify --json` (docs/api.md,
// GET /v1/verify); `now` (unix seconds) is the answer's timestamp.
JsonValue VerifyAnswerJson(const VerifyAnswer& answer, int64_t now);

// True when `org` is a registry organisation id: 1-63 characters of a-z, 0-9, '.', '-',
// not starting with '.'. Anything else is refused before it reaches a path or a table.
[[nodiscard]] bool IsRegistryOrgId(std::string_view org);

// What the consortium authority registers about an organisation (see org.register in
// docs/events.md).
struct OrgRegistration {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::vector<std::string> company_prefixes;
  std::vector<std::string> glns;
  std::string public_key;  // base64 Ed25519
  std::string valid_from = "2026-01-01T00:00:00Z";
};

class SupplyNode {
 public:
  // Creates `dir` with a ledger named `origin` whose organisation registry is governed
  // by `authority` (the consortium authority's public key). `bounds`: how far an event's
  // own time may lie from the log's sequencing time (provenance::TimeBounds). `storage`:
  // empty for SQLite in `dir`, or a PostgreSQL connection string, recorded in `dir` so
  // that every later Open uses it (docs/storage.md); `dir` keeps the keys either way.
  [[nodiscard]] static Result<std::unique_ptr<SupplyNode>> Create(
      const std::string& dir, const std::string& origin, const log::PublicKey& authority,
      provenance::TimeBounds bounds = {}, const std::string& storage = {});
  [[nodiscard]] static Result<std::unique_ptr<SupplyNode>> Open(const std::string& dir,
                                                                provenance::TimeBounds bounds = {});
  // Opens `dir` for reading beside a running writer (`pedigree serve`): no lock, nothing
  // written or migrated (log::LedgerOptions::read_only). Verify, Read and the ledger's
  // reads work on the tree committed at open; submissions fail with ledger.read_only.
  [[nodiscard]] static Result<std::unique_ptr<SupplyNode>> OpenReadOnly(const std::string& dir);
  // Opens a mirror's directory (`pedigree mirror init`, log/replica.h) the same way, with
  // the log's public key only (log::LedgerOptions::replica): the tree is the mirror's newest
  // cosigned checkpoint; ledger().Refresh() adopts a later one after a pull. Nothing can be
  // signed as the log: reports carry no evidence index signature, node alerts are not
  // recorded.
  [[nodiscard]] static Result<std::unique_ptr<SupplyNode>> OpenMirror(const std::string& dir);
  ~SupplyNode();

  log::Ledger& ledger() { return *ledger_; }

  // Appends a signed provenance envelope. Idempotent by (org, clientId): a replay of the
  // same command returns the first index and appends nothing; the same clientId with a
  // different command is idempotency.conflict (for node-signed commands the time the node
  // filled in does not count). A refusal by the pack rules ("alert.*") is recorded on the ledger as
  // an alert event signed by this node before the refusal is returned, unless the alert
  // limit (SetAlertLimit) is reached: then the refusal is returned all the same and the
  // next recorded alert of that organisation and code carries the count it left out.
  [[nodiscard]] Result<uint64_t> Submit(std::string envelope);

  // Registry commands: fills in v, kind, org "authority", clientId and time (now), signs
  // `payload` with the consortium authority's key and submits it.
  [[nodiscard]] Result<uint64_t> SubmitAsAuthority(const log::PrivateKey& authority,
                                                   const std::string& kind,
                                                   const std::string& client_id, JsonValue payload);
  // org.register for `org`, signed by `authority`; idempotent by the organisation id.
  [[nodiscard]] Result<uint64_t> RegisterOrg(const log::PrivateKey& authority,
                                             const OrgRegistration& org);

  // Signs `payload` with the key this node holds for `org` and submits it. Fills in
  // v, org, time (now) and clientId (random) when the payload lacks them. Idempotent as
  // Submit is.
  [[nodiscard]] Result<uint64_t> SubmitAs(const std::string& org, JsonValue payload);
  // Signs every payload as SubmitAs does and appends them all or nothing, in one ledger
  // transaction in which the rules judge each in order (log::Ledger::AppendGroup): one result
  // per payload, every one an index, or the refused payload's error and
  // sequencer.group_aborted for the others, with nothing of them written. A refusal by the
  // pack rules records its alert as Submit does (the alert is the node's entry, not the
  // group's).
  // Idempotency, judged before anything is committed: a payload whose (org, clientId) is on the
  // ledger already with the same command appends nothing and answers its first index (a
  // replay; the rest of the group goes on), and so does a payload repeating an earlier one of
  // the same group (it answers that one's index). The same clientId with another command, on
  // the ledger or earlier in the group, is idempotency.conflict for that payload and the group
  // is not written. (A first use committed by someone else while the group was being judged
  // is still compared after the commit, as Submit does.)
  [[nodiscard]] std::vector<Result<uint64_t>> SubmitGroupAs(const std::string& org,
                                                            std::vector<JsonValue> payloads);
  // SubmitGroupAs for envelopes signed elsewhere (a client's key): each is checked as Submit
  // checks it, then the group is appended all or nothing with the same idempotency rules. An
  // envelope that does not parse is refused with the others aborted, nothing written.
  [[nodiscard]] std::vector<Result<uint64_t>> SubmitGroup(std::vector<std::string> envelopes);
  // Signs every payload as SubmitAs does and submits them in order without waiting for one
  // before the next, so that the log commits them in batches (an EPCIS capture with
  // "proceed"): each is judged on its own, in order, as SubmitAs would judge it, and a refused
  // one does not stop the others. One result per payload; idempotency as SubmitGroupAs
  // judges it, except that a conflict refuses only its own payload.
  [[nodiscard]] std::vector<Result<uint64_t>> SubmitEachAs(const std::string& org,
                                                           std::vector<JsonValue> payloads);
  // Stores `key` as the key this node signs with for `org` (keys/<org>.pem, mode 0600).
  [[nodiscard]] Status HoldKey(const std::string& org, const log::PrivateKey& key);
  [[nodiscard]] bool HoldsKey(const std::string& org) const;

  // Read-only verification of any scanner form of a pack code. `caller_org`: the
  // organisation asking (a token's, `verify --as`), for the custody hint relative to it;
  // empty for none. One indexed read of the derived tables, no scan of the log.
  [[nodiscard]] Result<VerifyAnswer> Verify(std::string_view code,
                                            std::string_view caller_org = {});

  // Runs `fn` with a read view of its own (views are pooled, one per concurrent reader).
  template <typename Fn>
  auto Read(Fn&& fn) -> decltype(fn(std::declval<provenance::ProvenanceView&>()));

  // At most `max_alerts` recorded alerts per (refused organisation, alert code) in any
  // `window_seconds` (by the alerts' recorded times), so that no member can grow the
  // ledger or taint others' packs without bound; max_alerts 0 records none. Default
  // kDefaultAlertLimit per hour. The count of refusals left out lives in memory: a restart
  // forgets it (the refusals themselves were answered).
  static constexpr int64_t kDefaultAlertLimit = 10;
  void SetAlertLimit(int64_t max_alerts, int64_t window_seconds = 3600);

  // The node's clock in unix seconds; tests may replace it.
  void SetClock(std::function<int64_t()> now);
  int64_t Now() const;

 private:
  SupplyNode() = default;
  [[nodiscard]] static Result<std::unique_ptr<SupplyNode>> Start(const std::string& dir,
                                                                 std::optional<std::string> origin,
                                                                 const log::PublicKey* authority,
                                                                 provenance::TimeBounds bounds,
                                                                 const std::string& storage = {});
  [[nodiscard]] Result<std::unique_ptr<provenance::ProvenanceView>> AcquireView();
  void ReleaseView(std::unique_ptr<provenance::ProvenanceView> view);
  void RecordAlert(const Error& refusal, const JsonValue& payload);
  // `payload` is the envelope's payload; `signed_here`: this node just signed it.
  [[nodiscard]] Result<uint64_t> SubmitChecked(std::string envelope, const JsonValue& payload,
                                               bool signed_here);
  // The common part of SubmitGroupAs, SubmitGroup and SubmitEachAs: `payloads[i]` is
  // `envelopes[i]`'s (empty envelope: refused already, `refused[i]` its error).
  // `all_or_nothing`: one ledger transaction (else each submitted on its own, pipelined).
  [[nodiscard]] std::vector<Result<uint64_t>> SubmitGroupChecked(
      std::vector<std::string> envelopes, const std::vector<JsonValue>& payloads, bool signed_here,
      bool all_or_nothing = true, std::vector<std::optional<Error>> refused = {});
  // Appends and records an alert for a refusal by the rules.
  [[nodiscard]] Result<uint64_t> Append(std::string envelope, std::string key,
                                        const JsonValue& payload, bool signed_here);
  // What identifies a command for idempotency: the canonical payload, less the time a
  // node filled in (`signed_here`).
  static std::string CommandOf(const JsonValue& payload, bool signed_here);
  static Error IdempotencyConflict(const std::string& client_id,
                                   std::optional<uint64_t> first_index);

  std::string dir_;
  std::function<int64_t()> now_;
  std::unique_ptr<provenance::ProvenanceState> state_;
  std::unique_ptr<log::Ledger> ledger_;
  std::mutex views_mutex_;
  std::vector<std::unique_ptr<provenance::ProvenanceView>> views_;
  // Commands submitted and not yet answered, by idempotency key: a second use of a key
  // while the first is in flight is compared here (the sequencer would merge them).
  struct InFlight {
    const JsonValue* payload;  // the first submitter's; read only while count is 1
    std::string command;       // CommandOf(*payload), set when a second one joins
    int count = 0;
  };
  std::mutex in_flight_mutex_;
  std::unordered_map<std::string, InFlight> in_flight_;
  mutable std::mutex keys_mutex_;
  std::map<std::string, std::unique_ptr<log::PrivateKey>> keys_;
  // The alert rate limit; alerts_mutex_ makes count-then-append exact.
  std::mutex alerts_mutex_;
  int64_t alert_limit_ = kDefaultAlertLimit;
  int64_t alert_window_ = 3600;
  std::map<std::pair<std::string, std::string>, int64_t> suppressed_alerts_;
};

template <typename Fn>
auto SupplyNode::Read(Fn&& fn) -> decltype(fn(std::declval<provenance::ProvenanceView&>())) {
  auto view = AcquireView();
  if (!view) return std::unexpected(view.error());
  auto result = fn(**view);
  ReleaseView(std::move(*view));
  return result;
}

}  // namespace pedigree::services
