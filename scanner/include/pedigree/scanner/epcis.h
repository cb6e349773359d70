// GS1 EPCIS 2.0 events as an input format: the CBV 2.0 Event Hash ID (pre-hash
// canonicalisation + SHA-256, `ni:///sha-256;<hex>?ver=CBV2.0`) and the EPC URN to GS1 Digital
// Link normalisation it needs. The algorithm, the profiles and what is not supported are
// documented in docs/epcis.md, "Event Hash ID".
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"

namespace pedigree::scanner::epcis {

// The standard JSON-LD context of EPCIS 2.0 documents.
inline constexpr std::string_view kEpcisContextUrl =
    "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";

// Two published readings of the algorithm differ in the order of a list element's `type`:
// CBV 2.0 as implemented by the GS1 reference generator (RalphTro/epcis-event-hash-generator,
// current vectors) writes it after the value ("bizTransaction=…type=…"); epcis2.js 2.7.3
// writes it first ("type=…bizTransaction=…"), truncates sub-millisecond digits instead of
// rounding them and strips leading zeros of all-digit strings. Ours is kCbv20; kEpcis2Js
// exists so that tests can compare with that independent implementation.
enum class HashProfile { kCbv20, kEpcis2Js };

struct HashOptions {
  HashProfile profile = HashProfile::kCbv20;
  // Namespace prefixes for extension fields (prefix -> IRI), e.g. {"example",
  // "https://ns.example.com/epcis/"}; added to the EPCIS defaults (epcis, cbv, gs1, …) and
  // to "@xmlns:prefix" members found inside the event.
  std::vector<std::pair<std::string, std::string>> context;
  // Top-level members left out of the pre-hash besides the standard ones (eventID,
  // recordTime, errorDeclaration, @context), e.g. "pedigree:ledgerIndex".
  std::vector<std::string> ignore;
};

// The prefix -> IRI pairs of a document's "@context" (its object members; URL strings such as
// the standard context carry no prefix we need).
std::vector<std::pair<std::string, std::string>> ContextPrefixes(const JsonValue& document);

// The canonical pre-hash string of one EPCIS 2.0 JSON/JSON-LD event. Fails with
// epcis.invalid_event (field = JSON pointer below the event) when the event is not an object,
// has no type, or uses an extension prefix that no context defines.
[[nodiscard]] Result<std::string> EventPreHash(const JsonValue& event,
                                               const HashOptions& options = {});
// `ni:///sha-256;<lowercase hex>?ver=CBV2.0` of EventPreHash.
[[nodiscard]] Result<std::string> EventHashId(const JsonValue& event,
                                              const HashOptions& options = {});
std::string HashIdOfPreHash(std::string_view pre_hash);

// An EPC pure-identity or class URN (sgtin, sscc, sgln, pgln, giai, lgtin) as its canonical GS1
// Digital Link on https://id.gs1.org; any other string is returned unchanged.
std::string NormaliseEpc(std::string_view uri);

}  // namespace pedigree::scanner::epcis

namespace pedigree::scanner::epcis {

// pedigree's own JSON-LD namespace for the extension members of exported events
// ("pedigree:ledgerIndex", "pedigree:org", "pedigree:status"; docs/epcis.md).
inline constexpr std::string_view kPedigreePrefix = "pedigree";
inline constexpr std::string_view kPedigreeNamespace = "urn:pedigree:epcis:";
// The member that carries an exported event's ledger index. It is left out of the Event Hash
// ID, so the same event has the same ID whether or not it travelled through an export.
inline constexpr std::string_view kLedgerIndexMember = "pedigree:ledgerIndex";
// The member that carries the path of a queried event's inclusion proof
// (/v1/log/proof/inclusion?index=N; docs/epcis.md, "Query"); left out of the hash ID as well.
inline constexpr std::string_view kProofMember = "pedigree:proof";

// The members of a captured event's signed payload that keep the EPCIS event as it was
// captured (docs/epcis.md, "What is kept"): kKeptEventMember the canonical JSON text of the
// EPCIS 2.0 JSON-LD event that was hashed (after the XML binding was read into JSON), a string
// because signed payloads carry integers only and an EPCIS event may hold decimals;
// kKeptContextMember, when the event uses extension prefixes of its document's @context, those
// prefixes (prefix -> IRI). The export writes the kept event instead of rendering the payload,
// so the exported event hashes to the eventID it was captured under.
inline constexpr std::string_view kKeptEventMember = "epcisEvent";
inline constexpr std::string_view kKeptContextMember = "epcisContext";

// HashOptions for events of documents pedigree exports (its prefix, the ledger index and the
// proof link left out).
HashOptions PedigreeHashOptions(HashProfile profile = HashProfile::kCbv20);

// One signed log entry as the export reads it.
struct LedgerEvent {
  uint64_t index = 0;
  JsonValue payload;         // the signed payload (docs/events.md)
  int64_t sequenced_at = 0;  // the log's sequencing time (unix seconds), 0 when unknown
};

struct ExportOptions {
  // Entries whose payload keeps a captured EPCIS event (kKeptEventMember) are exported as
  // that event (its members verbatim; eventID, recordTime and the ledger index are ours).
  // False renders every entry from its pedigree payload (what the query engine matches on).
  bool kept = true;
};

// An EPCIS 2.0 JSON-LD EPCISDocument of the supply events among `entries` (ascending index),
// mapped as docs/epcis.md's table says, or, for a captured event, the event kept with it; the
// registry (org.register: the GLNs of parties) and batch entries (batch.register: expiry for ilmd)
// among them are read, not exported. Each event carries its eventID (EventHashId, kCbv20) and its
// ledger index. `creation_time` is the document's creationDate (unix seconds).
[[nodiscard]] Result<JsonValue> ExportDocument(const std::vector<LedgerEvent>& entries,
                                               int64_t creation_time, ExportOptions options = {});

// The EPCIS event kept in a captured entry's payload as the export writes it: the kept members,
// then eventID (its Event Hash ID under the kept prefixes), recordTime (the sequencing time,
// when known) and the ledger index, which the hash leaves out. Nothing when the payload keeps
// no event. Errors: epcis.invalid_event when the kept text is no JSON object or no longer
// hashes (a payload signed by a client that kept something else).
[[nodiscard]] Result<std::optional<JsonValue>> KeptEvent(const LedgerEvent& entry);
// The prefixes (prefix -> IRI) a payload's kept event needs in its document's @context.
std::vector<std::pair<std::string, std::string>> KeptPrefixes(const JsonValue& payload);

}  // namespace pedigree::scanner::epcis

namespace pedigree::scanner::epcis {

// One captured EPCIS event as the unsigned pedigree payload it means (docs/epcis.md,
// "Capture"): `kind`, the kind's members, `time` (eventTime in UTC, whole seconds),
// `clientId` "epcis-<hex of the hash ID>", so that the same event captured twice, in any
// member order or EPC form, is the same command and appends nothing the second time, and the
// event itself (kKeptEventMember, kKeptContextMember), which the ledger's idempotency
// comparison leaves out for that reason.
struct ImportedEvent {
  std::string event_id;  // ni:///sha-256;…?ver=CBV2.0
  JsonValue payload;
};

// The organisation that registered a GLN (the registry's org.register `glns`), or empty when
// none did. Capture of shipping and receiving resolves their parties with it.
using GlnOwner = std::function<Result<std::optional<std::string>>(std::string_view gln)>;

// Maps one EPCIS 2.0 JSON event. `pointer` prefixes the JSON pointer of every error field
// (e.g. "/epcisBody/eventList/3"). Supported: ObjectEvent ADD commissioning (commission;
// ilmd cbvmda:lotNumber), AggregationEvent ADD/DELETE (aggregate/disaggregate), ObjectEvent
// OBSERVE with a decommissioning disposition or pedigree:status (decommission), ObjectEvent
// OBSERVE bizStep shipping (ship: destinationList party and location, desadv) and receiving
// (receive: sourceList party, desadv, location), whose party GLNs `gln_owner` resolves.
// Errors: epcis.invalid_event (malformed, the pointer of the member), event.unknown_org (a
// party GLN no organisation registered, the pointer of the party), epcis.unsupported (valid
// EPCIS without a pedigree meaning yet; shipping and receiving without a `gln_owner`).
[[nodiscard]] Result<ImportedEvent> ImportEvent(const JsonValue& event, const HashOptions& options,
                                                std::string_view pointer = "",
                                                const GlnOwner& gln_owner = {});

}  // namespace pedigree::scanner::epcis
