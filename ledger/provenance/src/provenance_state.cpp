// ProvenanceState: the registry and custody rules applied to each payload before it is
// sequenced, with the derived tables written in the same transaction.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <map>
#include <set>

#include "payload_fields.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/sql.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/provenance/provenance.h"
#include "provenance_rows.h"
#include "provenance_schema.h"
#include "trial_rules.h"
#include "trial_schema.h"

namespace pedigree::provenance {
using namespace fields;
namespace {

constexpr int64_t kFutureSlack = 300;     // seconds an event may lie ahead of the node's clock
constexpr size_t kMaxAlertReason = 1000;  // bytes of an alert.close reason

// GS1 keys as the ledger stores them: the canonical digits (GTIN always 14) with a
// valid check digit. Errors are the identifier's own (gs1.*) with the payload field.
template <typename Key>
Status CheckGs1Key(std::string_view value, const char* field) {
  auto key = Key::Parse(value);
  if (!key) return Fail(key.error().at_field(field));
  if (key->value() != value) {
    return Fail(
        Malformed(field, "'" + std::string(value) + "' must be written as " + key->value()));
  }
  return Ok();
}

// AI 21 / AI 10 values: 1–20 characters of GS1 CSET 82.
Status CheckCset82(std::string_view value, const char* field) {
  auto ok = CheckCset82Field(value, 20, field);
  if (!ok) return Fail(ok.error().at_field(field));
  return Ok();
}

// Payload form rules of docs/events.md that hold for every kind.
constexpr size_t kMaxClientId = 128;
// `text` in single quotes for an error message, control bytes written as \xNN so that
// the message itself stays one printable line.
std::string QuoteForMessage(std::string_view text) {
  std::string out = "'";
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    const bool c1 = c == 0xC2 && i + 1 < text.size() &&
                    static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
                    static_cast<unsigned char>(text[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c1 ? static_cast<unsigned char>(text[++i]) : c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

// `clientId`: 1–128 printable ASCII characters (0x21–0x7E), no space.
Status CheckClientId(const JsonValue& p) {
  const JsonValue* v = p.find("clientId");
  if (!v || !v->is_string()) return Ok();  // Str() reports it as event.malformed
  const std::string& id = v->as_string();
  auto bad = [&](const std::string& why) {
    return Fail(Error("event.bad_client_id",
                      "clientId " + QuoteForMessage(id) + " " + why +
                          "; expected 1 to 128 printable ASCII characters (0x21-0x7E)")
                    .at_field("clientId"));
  };
  if (id.empty()) return bad("is empty");
  if (id.size() > kMaxClientId) return bad("is " + std::to_string(id.size()) + " bytes long");
  for (size_t i = 0; i < id.size(); ++i) {
    const auto c = static_cast<unsigned char>(id[i]);
    if (c < 0x21 || c > 0x7E) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", c);
      return bad("holds byte " + std::string(hex) + " at offset " + std::to_string(i));
    }
  }
  return Ok();
}

// The members each supply, registry and alert kind defines (docs/events.md, "Kinds"),
// beside the common ones. Trial and kit kinds check their own members.
const std::set<std::string>* KnownMembers(const std::string& kind) {
  using Members = std::set<std::string>;
  static const std::map<std::string, Members> table = {
      {"org.register", {"id", "name", "roles", "companyPrefixes", "glns", "keys"}},
      {"org.key_add", {"id", "key", "validFrom", "validUntil"}},
      {"org.key_revoke", {"id", "key", "revokedAt"}},
      {"org.device_add", {"id", "device", "key", "label"}},
      {"org.device_revoke", {"id", "device", "revokedAt"}},
      {"product.register", {"gtin", "name", "form", "strength", "nhrn", "tempMin", "tempMax"}},
      {"batch.register", {"gtin", "lot", "expiry", "quantity"}},
      {"commission", {"gtin", "lot", "serials", "location"}},
      {"aggregate", {"parent", "children"}},
      {"disaggregate", {"parent", "children"}},
      {"ship", {"epcs", "to", "toLocation", "despatchAdvice"}},
      {"receive", {"from", "despatchAdvice", "location"}},
      {"decommission", {"epcs", "status", "location"}},
      {"undo", {"epcs", "location"}},
      {"batch.status", {"gtin", "lot", "status", "reason"}},
      {"sensor", {"from", "despatchAdvice", "sensorElementList", "readings"}},
      {"verify", {"epcs", "location", "verified", "reasons"}},
      {"alert", {"code", "epc", "subjectOrg", "message", "refusedKind", "suppressed"}},
      {"alert.investigate", {"alert"}},
      {"alert.close", {"alert", "classification", "reason"}},
  };
  auto it = table.find(kind);
  return it == table.end() ? nullptr : &it->second;
}

// The kinds EPCIS capture writes, which may keep the captured EPCIS event (docs/epcis.md,
// "What is kept"): `epcisEvent` its JSON text, `epcisContext` the prefixes it uses.
bool KeepsEpcisEvent(const std::string& kind) {
  static const std::set<std::string> kinds = {"commission", "aggregate", "disaggregate",
                                              "ship",       "receive",   "decommission",
                                              "undo",       "sensor"};
  return kinds.count(kind) > 0;
}

Status CheckKeptEpcisEvent(const JsonValue& p) {
  if (const JsonValue* e = p.find("epcisEvent"); e && (!e->is_string() || e->as_string().empty())) {
    return Fail(Malformed("epcisEvent", "must be the captured EPCIS event's JSON text"));
  }
  if (const JsonValue* c = p.find("epcisContext"); c) {
    bool ok = c->is_object();
    if (ok) {
      for (const auto& [prefix, iri] : c->as_object()) ok = ok && iri.is_string();
    }
    if (!ok) return Fail(Malformed("epcisContext", "must map prefixes to IRI strings"));
  }
  return Ok();
}

Status CheckMembers(const std::string& kind, const JsonValue& p) {
  const std::set<std::string>* known = KnownMembers(kind);
  if (!known) return Ok();
  static const std::set<std::string> common = {"v", "kind", "org", "clientId", "time"};
  const bool keeps = KeepsEpcisEvent(kind);
  if (keeps) PEDIGREE_TRY(CheckKeptEpcisEvent(p));
  for (const auto& [name, value] : p.as_object()) {
    if (common.count(name) || known->count(name)) continue;
    if (keeps && (name == "epcisEvent" || name == "epcisContext")) continue;
    std::string valid;
    for (const std::string& m : *known) valid += (valid.empty() ? "" : ", ") + m;
    return Fail(Error("event.unknown_member", "'" + kind + "' has no member " +
                                                  QuoteForMessage(name) + "; its members are " +
                                                  valid + " and v, kind, org, clientId, time")
                    .at_field(name));
  }
  return Ok();
}

// A name or reason: no NUL or control character (C0 U+0000–U+001F, DEL U+007F, C1
// U+0080–U+009F, which UTF-8 writes as C2 80 … C2 9F). JSON text is valid UTF-8 already.
Status CheckNoControl(const JsonValue& p, const char* field) {
  const JsonValue* v = p.find(field);
  if (!v || !v->is_string()) return Ok();
  const std::string& text = v->as_string();
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    unsigned code = 0x100;
    if (c < 0x20 || c == 0x7F) code = c;
    if (c == 0xC2 && i + 1 < text.size()) {
      const auto next = static_cast<unsigned char>(text[i + 1]);
      if (next >= 0x80 && next <= 0x9F) code = next;
    }
    if (code == 0x100) continue;
    char u[8];
    std::snprintf(u, sizeof u, "U+%04X", code);
    return Fail(Error("event.control_character",
                      std::string(field) + " " + QuoteForMessage(text) +
                          " holds control character " + u + " at byte " + std::to_string(i) +
                          "; expected text without NUL or control characters (C0, DEL, C1)")
                    .at_field(field));
  }
  return Ok();
}

std::chrono::year_month_day DayOf(int64_t unix_seconds) {
  int64_t days = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  return std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}};
}

std::string JoinRoles(const std::vector<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) out += (out.empty() ? "" : ",") + r;
  return out;
}

const std::set<std::string>& KnownRoles() {
  static const std::set<std::string> roles = {"manufacturer", "wholesaler", "dispenser", "sponsor",
                                              "site",         "regulator",  "witness",   "mirror"};
  return roles;
}

// The registry rows the seal covers. A row's sealed text is "table(v1,v2,…)" with every
// column as SQL quote() renders it, an unambiguous literal list; its MAC is keyed by
// (table, row key) in registry_macs.
struct SealedTable {
  const char* name;
  const char* row_key;  // SQL expression naming the row
  const char* columns;  // every column, in table order
  const char* org;      // the column naming the organisation
};
constexpr SealedTable kSealedTables[] = {
    {"orgs", "id", "id, name, roles, registered_idx", "id"},
    {"org_keys", "hex(key)", "key, org, valid_from, valid_until, revoked_at, added_idx", "org"},
    {"org_prefixes", "prefix", "prefix, org", "org"},
    {"org_glns", "gln", "gln, org", "org"},
    {"org_devices", "device", "device, org, key, label, added_idx, revoked_at, revoked_idx", "org"},
};
constexpr const char* kRegistryMacSchema = R"sql(
CREATE TABLE IF NOT EXISTS registry_macs(
  tbl TEXT NOT NULL, row TEXT NOT NULL, mac BLOB NOT NULL, PRIMARY KEY(tbl, row)) WITHOUT ROWID;
)sql";

// "'orgs(' || quote(id) || ',' || quote(name) || … || ')'"
std::string SealedTextSql(const SealedTable& t) {
  std::string out = std::string("'") + t.name + "(' || ";
  std::string cols = t.columns;
  size_t pos = 0;
  bool first = true;
  while (pos <= cols.size()) {
    size_t comma = cols.find(',', pos);
    if (comma == std::string::npos) comma = cols.size();
    std::string c = cols.substr(pos, comma - pos);
    while (!c.empty() && c.front() == ' ') c.erase(c.begin());
    out += std::string(first ? "" : "',' || ") + "quote(" + c + ") || ";
    first = false;
    pos = comma + 1;
  }
  return out + "')'";
}

// Per table: SELECT row key, sealed text of the rows of one organisation (?1), or of all.
struct SealQueries {
  std::string of_org[std::size(kSealedTables)];
  std::string all[std::size(kSealedTables)];
};
const SealQueries& Queries() {
  static const SealQueries q = [] {
    SealQueries out;
    for (size_t i = 0; i < std::size(kSealedTables); ++i) {
      const SealedTable& t = kSealedTables[i];
      const std::string select =
          std::string("SELECT ") + t.row_key + ", " + SealedTextSql(t) + " FROM " + t.name;
      out.of_org[i] = select + " WHERE " + t.org + " = ?1";
      out.all[i] = select;
    }
    return out;
  }();
  return q;
}

Hash RowMac(std::span<const uint8_t> key, std::string_view text) {
  Hash out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data(), &len);
  return out;
}

std::string AuthoritySealText(const log::PublicKey& key) {
  return "authority_key(" + ToBase64(key.raw()) + ")";
}

// The facts on the ledger behind a refusal about pack `v`, as details of the error the
// user acts on (docs/api.md, "Errors"): who holds the pack, who set its status and when,
// its batch's recall or withdrawal with the reason and the batch.status entry.
Error Explain(Error e, AlertCode code, const PackView& v) {
  switch (code) {
    // Not for clone_suspected: the other pharmacy holding an active copy is not named to
    // the scanner (as the alert does not name the scanner to it).
    case AlertCode::kNotInCustody:
      e = e.with_detail("holder", v.facts.holder_org);
      if (!v.in_transit_to.empty()) e = e.with_detail("inTransitTo", v.in_transit_to);
      break;
    case AlertCode::kAlreadyDecommissioned:
      e = e.with_detail("status", std::string(PackStatusName(v.facts.status)));
      if (!v.facts.status_org.empty()) {
        e = e.with_detail("statusOrg", v.facts.status_org)
                .with_detail("statusTime", FormatUtcTime(v.facts.status_time));
      }
      break;
    case AlertCode::kExpired:
      e = e.with_detail("expiry", FormatDate(v.facts.expiry));
      break;
    default:
      break;
  }
  if ((code == AlertCode::kRecalled || code == AlertCode::kWithdrawn ||
       code == AlertCode::kUndoForbidden) &&
      v.facts.batch_status != BatchStatus::kActive) {
    e = e.with_detail("batchStatus", std::string(BatchStatusName(v.facts.batch_status)))
            .with_detail("reason", v.batch_status_reason)
            .with_detail("reasonEntry", static_cast<int64_t>(v.batch_status_index));
  }
  return e;
}

}  // namespace

Result<std::pair<int64_t, int64_t>> SensorTemperatureRange(const JsonValue& payload) {
  return TemperatureRange(payload);
}

struct ProvenanceState::Impl {
  log::sql::Connection db;
  ProvenanceConfig config;

  // The event being applied.
  uint64_t index = 0;
  std::string org;
  int64_t time = 0;          // the time the rules use: the sequencing time, if the leaf has one
  int64_t claimed_time = 0;  // the payload's own "time"
  bool sequenced = false;
  std::vector<std::string> roles;

  Impl(log::sql::Connection conn, ProvenanceConfig c) : db(std::move(conn)), config(std::move(c)) {}

  Status Dispatch(uint64_t idx, std::span<const uint8_t> key, const JsonValue& payload,
                  std::optional<int64_t> sequenced_at);
  Status CheckClaimedTime(const std::string& time_text, std::optional<int64_t> sequenced_at);
  Status CheckClaimedOrder(const PackKey& pack);
  Status CheckSigner(std::span<const uint8_t> key);
  bool sealed() const { return !config.registry_mac_key.empty(); }
  // Writes the MAC of one registry row.
  Status WriteMac(const char* table, const std::string& row, std::string_view text);
  // Checks the MAC of one registry row: state.tampered when it is missing or wrong.
  Status CheckMac(const char* table, const std::string& row, std::string_view text);
  // Rewrites the MACs of every registry row of `org`.
  Status SealOrg(const std::string& org);
  Status RequireRole(std::initializer_list<const char*> any_of, const std::string& kind);
  Status RecordPackEvent(const PackKey& pack);
  Status RecordBatchEvent(const std::string& gtin, const std::string& lot);
  // The entry concerns the container `sscc` (its history: ProvenanceView::ContainerHistory).
  Status RecordContainerEvent(const std::string& sscc);
  // RecordContainerEvent for `sscc` and every container it is (transitively) inside.
  Status RecordContainerChain(const std::string& sscc);
  Result<std::optional<PackView>> LoadPack(const PackKey& key);
  Result<bool> OwnsProduct(const std::string& gtin);
  Result<bool> OwnsGln(const std::string& gln);
  // The payload's `gtin`, which must be a product of the acting manufacturer.
  Result<std::string> OwnGtin(const JsonValue& p);
  // The payload's `location`, which must be a GLN of the acting organisation.
  Result<std::string> OwnLocation(const JsonValue& p);

  // Every pack (and container) reached from `epcs`, cases expanded recursively.
  struct Expansion {
    std::vector<PackKey> packs;
    std::vector<std::string> containers;
  };
  Result<Expansion> Expand(const std::vector<std::string>& epcs, bool require_top_level);
  Status ExpandContainer(const std::string& sscc, Expansion& out, int depth);
  // What a shipment carries now: its epcs as shipped, cases expanded.
  Result<Expansion> ExpandShipment(const std::string& from, const std::string& advice);

  Status OrgRegister(const JsonValue& p);
  Status OrgKeyAdd(const JsonValue& p);
  Status OrgKeyRevoke(const JsonValue& p);
  Status OrgDeviceAdd(const JsonValue& p);
  Status OrgDeviceRevoke(const JsonValue& p);
  // The device signatures of a sensor payload's sensorElementList, checked against the
  // registry as it stands at this entry (docs/epcis.md, "Device-signed sensor data").
  Status CheckDeviceSignatures(const JsonValue& p);
  Status ProductRegister(const JsonValue& p);
  Status BatchRegister(const JsonValue& p);
  Status Commission(const JsonValue& p);
  Status Aggregate(const JsonValue& p);
  Status Disaggregate(const JsonValue& p);
  Status Ship(const JsonValue& p);
  Status Receive(const JsonValue& p);
  Status Decommission(const JsonValue& p);
  Status Undo(const JsonValue& p);
  Status BatchStatusChange(const JsonValue& p);
  Status Sensor(const JsonValue& p);
  Status VerifyRecord(const JsonValue& p);
  Status AlertEvent(const JsonValue& p);
  Status AlertLifecycle(const std::string& kind, const JsonValue& p);
};

Result<std::unique_ptr<ProvenanceState>> ProvenanceState::Attach(sqlite3* db,
                                                                 ProvenanceConfig config) {
  return Attach(log::sql::Connection(db), std::move(config));
}

Result<std::unique_ptr<ProvenanceState>> ProvenanceState::Attach(log::sql::Connection db,
                                                                 ProvenanceConfig config) {
  if (!config.now) {
    config.now = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
  }
  auto impl = std::make_unique<Impl>(std::move(db), std::move(config));
  PEDIGREE_TRY(impl->db.ExecSchema(kProvenanceSchema));
  PEDIGREE_TRY(impl->db.ExecSchema(kTrialSchema));
  if (impl->sealed()) PEDIGREE_TRY(impl->db.ExecSchema(kRegistryMacSchema));
  return std::unique_ptr<ProvenanceState>(new ProvenanceState(std::move(impl)));
}

Status ProvenanceState::Impl::WriteMac(const char* table, const std::string& row,
                                       std::string_view text) {
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO registry_macs(tbl, row, mac) VALUES(?1, ?2, ?3) "
                                "ON CONFLICT(tbl, row) DO UPDATE SET mac = excluded.mac"));
  const Hash mac = RowMac(config.registry_mac_key, text);
  q->Bind(1, table).Bind(2, row).Bind(3, std::span<const uint8_t>(mac));
  return q->Run();
}

Status ProvenanceState::Impl::CheckMac(const char* table, const std::string& row,
                                       std::string_view text) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT mac FROM registry_macs WHERE tbl = ?1 AND row = ?2"));
  q->Bind(1, table).Bind(2, row);
  PEDIGREE_ASSIGN(found, q->Step());
  if (!*found) {
    return Fail("state.tampered", std::string("table ") + table + ", row '" + row +
                                      "' has no registry MAC: it was not written by the rules");
  }
  const Hash mac = RowMac(config.registry_mac_key, text);
  const auto stored = q->Blob(0);
  if (stored.size() != mac.size() || CRYPTO_memcmp(stored.data(), mac.data(), mac.size()) != 0) {
    return Fail("state.tampered", std::string("table ") + table + ", row '" + row + "': the row " +
                                      std::string(text) +
                                      " does not match its registry MAC (edited behind the log)");
  }
  return Ok();
}

Status ProvenanceState::Impl::SealOrg(const std::string& id) {
  for (size_t i = 0; i < std::size(kSealedTables); ++i) {
    PEDIGREE_ASSIGN(q, db.Prepare(Queries().of_org[i].c_str()));
    q->Bind(1, id);
    std::vector<std::pair<std::string, std::string>> rows;
    PEDIGREE_TRY(q->ForEachRow(
        [&](const log::sql::Query& row) { rows.emplace_back(row.Text(0), row.Text(1)); }));
    for (const auto& [key, text] : rows) PEDIGREE_TRY(WriteMac(kSealedTables[i].name, key, text));
  }
  return Ok();
}

Status ProvenanceState::SealRegistry() {
  if (!impl_->sealed()) return Ok();
  for (size_t i = 0; i < std::size(kSealedTables); ++i) {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare(Queries().all[i].c_str()));
    std::vector<std::pair<std::string, std::string>> rows;
    PEDIGREE_TRY(q->ForEachRow(
        [&](const log::sql::Query& row) { rows.emplace_back(row.Text(0), row.Text(1)); }));
    for (const auto& [key, text] : rows) {
      PEDIGREE_TRY(impl_->WriteMac(kSealedTables[i].name, key, text));
    }
  }
  return impl_->WriteMac("meta", "authority_key", AuthoritySealText(impl_->config.authority_key));
}

Status ProvenanceState::VerifyRegistry() {
  if (!impl_->sealed()) return Ok();
  if (auto authority =
          impl_->CheckMac("meta", "authority_key", AuthoritySealText(impl_->config.authority_key));
      !authority) {
    return Fail("state.tampered",
                "the authority key in the ledger's metadata is not the sealed one (metadata "
                "edited behind the log): " +
                    authority.error().message());
  }
  uint64_t rows = 1;  // the authority key's
  for (size_t i = 0; i < std::size(kSealedTables); ++i) {
    PEDIGREE_ASSIGN(q, impl_->db.Prepare(Queries().all[i].c_str()));
    PEDIGREE_TRY(q->ForEachRow([&](const log::sql::Query& row) -> Status {
      ++rows;
      return impl_->CheckMac(kSealedTables[i].name, row.Text(0), row.Text(1));
    }));
  }
  // A MAC without its row: a registry row deleted behind the log's back.
  PEDIGREE_ASSIGN(macs, impl_->db.Prepare("SELECT count(*) FROM registry_macs"));
  PEDIGREE_TRY(macs->Step());
  if (static_cast<uint64_t>(macs->Int(0)) != rows) {
    PEDIGREE_ASSIGN(
        orphan,
        impl_->db.Prepare(
            "SELECT tbl, row FROM registry_macs m WHERE NOT ("
            "(tbl = 'meta' AND row = 'authority_key') OR "
            "(tbl = 'orgs' AND EXISTS (SELECT 1 FROM orgs WHERE id = m.row)) OR "
            "(tbl = 'org_keys' AND EXISTS (SELECT 1 FROM org_keys WHERE hex(key) = m.row)) OR "
            "(tbl = 'org_prefixes' AND EXISTS (SELECT 1 FROM org_prefixes WHERE prefix = m.row)) "
            "OR (tbl = 'org_glns' AND EXISTS (SELECT 1 FROM org_glns WHERE gln = m.row)) "
            "OR (tbl = 'org_devices' AND EXISTS (SELECT 1 FROM org_devices WHERE device = m.row))) "
            "LIMIT 1"));
    PEDIGREE_ASSIGN(found, orphan->Step());
    if (*found) {
      return Fail("state.tampered", "table " + orphan->Text(0) + ", row '" + orphan->Text(1) +
                                        "' is sealed but missing (deleted behind the log)");
    }
  }
  return Ok();
}

Result<bool> ProvenanceState::HasRegistry() {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT EXISTS (SELECT 1 FROM orgs) OR "
                                       "EXISTS (SELECT 1 FROM org_keys)"));
  PEDIGREE_TRY(q->Step());
  return q->Int(0) != 0;
}

ProvenanceState::ProvenanceState(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ProvenanceState::~ProvenanceState() = default;

Result<uint64_t> ProvenanceState::AppliedSize() {
  PEDIGREE_ASSIGN(q, impl_->db.Prepare("SELECT value FROM provenance_meta WHERE key='applied'"));
  PEDIGREE_ASSIGN(row, q->Step());
  return *row ? static_cast<uint64_t>(q->Int(0)) : 0;
}

Status ProvenanceState::Apply(uint64_t index, std::string_view entry, const JsonValue* payload) {
  // The sequencer's verifier has already checked the envelope; only its parts are needed.
  // They are found by the canonical layout every verified envelope has, so the envelope is
  // not parsed, and its payload only when the submitter handed over no parse of it (issue
  // 18: one parse per envelope, not three).
  std::optional<JsonValue> parsed;  // the payload (or, laid out otherwise, the envelope)
  std::string key_text;
  std::optional<int64_t> sequenced_at;
  if (auto parts = log::SplitEnvelope(entry)) {
    if (!payload) {
      auto p = ParseJson(parts->payload, {.integers_only = true});
      if (!p) return std::unexpected(p.error());
      parsed = std::move(*p);
      payload = &*parsed;
    }
    // A handed-over tree is the parse of these bytes, members in the same order (checked in
    // debug builds): live appends and replays must apply alike.
    assert(parsed || *payload == *ParseJson(parts->payload, {.integers_only = true}));
    key_text = parts->key;
    // The log's own time, spliced in by the sequencer (version 2 leaves); see envelope.h.
    if (parts->seq_time) {
      PEDIGREE_ASSIGN(at, ParseUtcTime(*parts->seq_time));
      sequenced_at = *at;
    }
  } else {
    // No verified envelope is laid out otherwise; read whatever this is the long way, so
    // that it is refused as it always was.
    auto envelope = ParseJson(entry, {.integers_only = true});
    if (!envelope) return std::unexpected(envelope.error());
    const JsonValue* key = envelope->find("key");
    if (!key || !key->is_string()) return Fail("entry.malformed", "envelope lacks payload or key");
    key_text = key->as_string();
    if (const JsonValue* seq = envelope->find("seq")) {
      const JsonValue* t = seq->is_object() ? seq->find("time") : nullptr;
      if (!t || !t->is_string()) return Fail("entry.malformed", "envelope's seq lacks a time");
      PEDIGREE_ASSIGN(at, ParseUtcTime(t->as_string()));
      sequenced_at = *at;
    }
    parsed = std::move(*envelope);
    payload = parsed->find("payload");
  }
  if (!payload || !payload->is_object()) {
    return Fail("entry.malformed", "envelope lacks payload or key");
  }
  auto raw_key = FromBase64(key_text);
  if (!raw_key) return std::unexpected(raw_key.error());

  // A refusal leaves nothing behind; the savepoint's statements are cached, not re-parsed.
  PEDIGREE_ASSIGN(savepoint, log::sql::Savepoint::Begin(impl_->db));
  Status result = impl_->Dispatch(index, *raw_key, *payload, sequenced_at);
  if (result) {
    auto q = impl_->db.Prepare(
        "INSERT INTO provenance_meta(key, value) VALUES('applied', ?1) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!q) return std::unexpected(q.error());
    q->Bind(1, static_cast<int64_t>(index + 1));
    result = q->Run();
  }
  if (!result) {
    PEDIGREE_TRY(savepoint->Rollback());
    return result;
  }
  return savepoint->Release();
}

Status ProvenanceState::Impl::CheckClaimedTime(const std::string& time_text,
                                               std::optional<int64_t> sequenced_at) {
  auto t = ParseUtcTime(time_text);
  if (!t) return Fail(t.error().at_field("time"));
  claimed_time = *t;
  sequenced = sequenced_at.has_value();
  if (!sequenced_at) {
    // A version 1 leaf has no log time: the rules judge it by its claimed time, as they
    // did when it was appended.
    int64_t now = config.now();
    if (*t > now + kFutureSlack) {
      return Fail(
          Error("event.future_time",
                "event time " + time_text + " is ahead of the node's clock " + FormatUtcTime(now))
              .at_field("time"));
    }
    time = *t;
    return Ok();
  }
  const TimeBounds& bounds = config.time_bounds;
  const int64_t seq = *sequenced_at;
  if (*t > seq + bounds.future_skew) {
    return Fail(
        Error("event.time_skew", "event time " + time_text + " is " + std::to_string(*t - seq) +
                                     " s ahead of the log's sequencing time " + FormatUtcTime(seq) +
                                     "; the bound is " + std::to_string(bounds.future_skew) + " s")
            .at_field("time"));
  }
  if (*t < seq - bounds.offline_buffer) {
    return Fail(Error("event.time_skew", "event time " + time_text + " is " +
                                             std::to_string(seq - *t) +
                                             " s before the log's sequencing time " +
                                             FormatUtcTime(seq) + "; the offline-buffer bound is " +
                                             std::to_string(bounds.offline_buffer) + " s")
                    .at_field("time"));
  }
  time = seq;
  return Ok();
}

Status ProvenanceState::Impl::CheckClaimedOrder(const PackKey& pack) {
  if (!sequenced) return Ok();
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT time FROM pack_times WHERE gtin = ?1 AND serial = ?2"));
  q->Bind(1, pack.gtin).Bind(2, pack.serial);
  PEDIGREE_ASSIGN(row, q->Step());
  if (*row && claimed_time < q->Int(0)) {
    return Fail(Error("event.time_before_previous", "event time " + FormatUtcTime(claimed_time) +
                                                        " is before " + FormatUtcTime(q->Int(0)) +
                                                        ", the time of the previous event on " +
                                                        PackIdOf(pack))
                    .at_field("time"));
  }
  return Ok();
}

Status ProvenanceState::Impl::Dispatch(uint64_t idx, std::span<const uint8_t> key,
                                       const JsonValue& p, std::optional<int64_t> sequenced_at) {
  index = idx;
  PEDIGREE_ASSIGN(v, Int(p, "v"));
  if (*v != 1) return Fail(Malformed("v", "unsupported payload version " + std::to_string(*v)));
  PEDIGREE_ASSIGN(kind, Str(p, "kind"));
  PEDIGREE_ASSIGN(actor, Str(p, "org"));
  // The node's own alert ids ("alert/<org>/<clientId>") derive from a valid clientId.
  if (*kind != "alert") PEDIGREE_TRY(CheckClientId(p));
  PEDIGREE_ASSIGN(client_id, Str(p, "clientId"));
  PEDIGREE_TRY(CheckMembers(*kind, p));
  PEDIGREE_ASSIGN(time_text, Str(p, "time"));
  PEDIGREE_TRY(CheckClaimedTime(*time_text, sequenced_at));
  org = *actor;
  roles.clear();

  // Registry and alert events are signed by the authority and the node; every other
  // event by a key the registry gives the acting organisation.
  if (kind->rfind("org.", 0) == 0) {
    if (!std::equal(key.begin(), key.end(), config.authority_key.raw().begin(),
                    config.authority_key.raw().end())) {
      return Fail("event.not_authority", *kind + " must be signed by the consortium authority key");
    }
    Status applied =
        *kind == "org.register"     ? OrgRegister(p)
        : *kind == "org.key_add"    ? OrgKeyAdd(p)
        : *kind == "org.key_revoke" ? OrgKeyRevoke(p)
        : *kind == "org.device_add" ? OrgDeviceAdd(p)
        : *kind == "org.device_revoke"
            ? OrgDeviceRevoke(p)
            : Status(Fail(Error("event.unknown_kind", "unknown event kind '" + *kind + "'")
                              .at_field("kind")));
    if (applied && sealed()) {
      PEDIGREE_ASSIGN(id, Str(p, "id"));
      PEDIGREE_TRY(SealOrg(*id));
    }
    return applied;
  } else if (*kind == "alert") {
    if (!std::equal(key.begin(), key.end(), config.node_key.raw().begin(),
                    config.node_key.raw().end())) {
      return Fail("event.not_node", "alert events must be signed by the node's log key");
    }
    return AlertEvent(p);
  } else {
    PEDIGREE_TRY(CheckSigner(key));
    // Trial and kit rules live in trial_state.cpp and kit_state.cpp.
    if (kind->rfind("trial.", 0) == 0)
      return ApplyTrialEvent({db, index, org, time, roles}, *kind, p);
    if (kind->rfind("kit.", 0) == 0) return ApplyKitEvent({db, index, org, time, roles}, *kind, p);
    if (*kind == "product.register") return ProductRegister(p);
    if (*kind == "batch.register") return BatchRegister(p);
    if (*kind == "commission") return Commission(p);
    if (*kind == "aggregate") return Aggregate(p);
    if (*kind == "disaggregate") return Disaggregate(p);
    if (*kind == "ship") return Ship(p);
    if (*kind == "receive") return Receive(p);
    if (*kind == "decommission") return Decommission(p);
    if (*kind == "undo") return Undo(p);
    if (*kind == "batch.status") return BatchStatusChange(p);
    if (*kind == "sensor") return Sensor(p);
    if (*kind == "verify") return VerifyRecord(p);
    if (*kind == "alert.investigate" || *kind == "alert.close") return AlertLifecycle(*kind, p);
  }
  return Fail(Error("event.unknown_kind", "unknown event kind '" + *kind + "'").at_field("kind"));
}

Status ProvenanceState::Impl::CheckSigner(std::span<const uint8_t> key) {
  // The organisation's row and the key's row, each with its sealed text (kSealedTables).
  static const std::string org_sql =
      "SELECT roles, " + SealedTextSql(kSealedTables[0]) + " FROM orgs WHERE id = ?1";
  static const std::string key_sql = "SELECT valid_from, valid_until, revoked_at, " +
                                     SealedTextSql(kSealedTables[1]) +
                                     ", hex(key) FROM org_keys WHERE key = ?1 AND org = ?2";
  PEDIGREE_ASSIGN(o, db.Prepare(org_sql.c_str()));
  o->Bind(1, org);
  PEDIGREE_ASSIGN(found, o->Step());
  if (!*found) {
    return Fail(
        Error("event.unknown_org", "organisation '" + org + "' is not registered").at_field("org"));
  }
  if (sealed()) PEDIGREE_TRY(CheckMac("orgs", org, o->Text(1)));
  roles = SplitRoles(o->Text(0));
  PEDIGREE_ASSIGN(k, db.Prepare(key_sql.c_str()));
  k->Bind(1, key).Bind(2, org);
  PEDIGREE_ASSIGN(has_key, k->Step());
  // The key's fingerprint names it in refusals only: computed when one is written, not for
  // every accepted event.
  auto fingerprint = [&] { return ToHex(Sha256(key)).substr(0, 16); };
  if (!*has_key) {
    const std::string fp = fingerprint();
    return Fail(
        Error("event.unknown_key", "key " + fp + " is not a key of '" + org + "'").at_field("key"));
  }
  // A key row the rules did not write (or edited since) is not a key of anyone's.
  if (sealed()) PEDIGREE_TRY(CheckMac("org_keys", k->Text(4), k->Text(3)));
  if (time < k->Int(0)) {
    const std::string fp = fingerprint();
    return Fail(Error("event.key_not_valid", "key " + fp + " of '" + org + "' is valid from " +
                                                 FormatUtcTime(k->Int(0)) + ", event time is " +
                                                 FormatUtcTime(time))
                    .at_field("key"));
  }
  if (!k->IsNull(1) && time >= k->Int(1)) {
    const std::string fp = fingerprint();
    return Fail(Error("event.key_not_valid",
                      "key " + fp + " of '" + org + "' expired at " + FormatUtcTime(k->Int(1)))
                    .at_field("key"));
  }
  if (!k->IsNull(2) && time >= k->Int(2)) {
    const std::string fp = fingerprint();
    return Fail(Error("event.key_revoked", "key " + fp + " of '" + org + "' was revoked at " +
                                               FormatUtcTime(k->Int(2)) + ", event time is " +
                                               FormatUtcTime(time))
                    .at_field("key"));
  }
  return Ok();
}

Status ProvenanceState::Impl::RequireRole(std::initializer_list<const char*> any_of,
                                          const std::string& kind) {
  std::string wanted;
  for (const char* r : any_of) {
    if (std::find(roles.begin(), roles.end(), r) != roles.end()) return Ok();
    wanted += (wanted.empty() ? "" : " or ") + std::string(r);
  }
  return Fail(Error("event.forbidden_role",
                    kind + " needs role " + wanted + "; '" + org + "' has " + JoinRoles(roles))
                  .at_field("org"));
}

Status ProvenanceState::Impl::RecordPackEvent(const PackKey& pack) {
  PEDIGREE_TRY(CheckClaimedOrder(pack));
  PEDIGREE_ASSIGN(t, db.Prepare("INSERT INTO pack_times(gtin, serial, time) VALUES(?1, ?2, ?3) "
                                "ON CONFLICT(gtin, serial) DO UPDATE SET time = excluded.time"));
  t->Bind(1, pack.gtin).Bind(2, pack.serial).Bind(3, claimed_time);
  PEDIGREE_TRY(t->Run());
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO pack_events(gtin, serial, idx) VALUES(?1, ?2, ?3) "
                                "ON CONFLICT DO NOTHING"));
  q->Bind(1, pack.gtin).Bind(2, pack.serial).Bind(3, static_cast<int64_t>(index));
  return q->Run();
}

Status ProvenanceState::Impl::RecordBatchEvent(const std::string& gtin, const std::string& lot) {
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO batch_events(gtin, lot, idx) VALUES(?1, ?2, ?3) "
                                "ON CONFLICT DO NOTHING"));
  q->Bind(1, gtin).Bind(2, lot).Bind(3, static_cast<int64_t>(index));
  return q->Run();
}

Status ProvenanceState::Impl::RecordContainerEvent(const std::string& sscc) {
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO container_events(sscc, idx) VALUES(?1, ?2) "
                                "ON CONFLICT DO NOTHING"));
  q->Bind(1, sscc).Bind(2, static_cast<int64_t>(index));
  return q->Run();
}

Status ProvenanceState::Impl::RecordContainerChain(const std::string& sscc) {
  std::string up = sscc;
  for (int depth = 0; !up.empty() && depth < 32; ++depth) {
    PEDIGREE_TRY(RecordContainerEvent(up));
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT parent FROM containers WHERE sscc = ?1"));
    q->Bind(1, up);
    PEDIGREE_ASSIGN(row, q->Step());
    up = *row && !q->IsNull(0) ? q->Text(0) : std::string();
  }
  return Ok();
}

Result<bool> ProvenanceState::Impl::OwnsProduct(const std::string& gtin) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT org FROM products WHERE gtin = ?1"));
  q->Bind(1, gtin);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) {
    return Fail(Alert{AlertCode::kUnknownProduct, "product " + gtin + " is not registered"}
                    .ToError()
                    .at_field("gtin"));
  }
  return q->Text(0) == org;
}

Result<bool> ProvenanceState::Impl::OwnsGln(const std::string& gln) {
  static const std::string sql =
      "SELECT org, " + SealedTextSql(kSealedTables[3]) + " FROM org_glns WHERE gln = ?1";
  PEDIGREE_ASSIGN(q, db.Prepare(sql.c_str()));
  q->Bind(1, gln);
  PEDIGREE_ASSIGN(row, q->Step());
  if (*row && sealed()) PEDIGREE_TRY(CheckMac("org_glns", gln, q->Text(1)));
  return *row && q->Text(0) == org;
}

Result<std::string> ProvenanceState::Impl::OwnGtin(const JsonValue& p) {
  PEDIGREE_ASSIGN(gtin, Str(p, "gtin"));
  PEDIGREE_ASSIGN(owns, OwnsProduct(*gtin));
  if (!*owns) {
    return Fail(Error("event.not_owner", "product " + *gtin + " belongs to another manufacturer")
                    .at_field("gtin"));
  }
  return *gtin;
}

Result<std::string> ProvenanceState::Impl::OwnLocation(const JsonValue& p) {
  PEDIGREE_ASSIGN(location, Str(p, "location"));
  PEDIGREE_ASSIGN(own, OwnsGln(*location));
  if (!*own) {
    return Fail(
        Error("event.foreign_location", "GLN " + *location + " is not a location of '" + org + "'")
            .at_field("location"));
  }
  return *location;
}

Result<std::optional<PackView>> ProvenanceState::Impl::LoadPack(const PackKey& key) {
  // Before any rule judges the pack, so that a backdated event is named as such.
  PEDIGREE_TRY(CheckClaimedOrder(key));
  PEDIGREE_ASSIGN(q, db.Prepare(kSelectPack));
  q->Bind(1, key.gtin).Bind(2, key.serial);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<PackView>();
  return std::optional<PackView>(PackFromRow(*q, key.gtin, key.serial));
}

Status ProvenanceState::Impl::ExpandContainer(const std::string& sscc, Expansion& out, int depth) {
  if (depth > 16)
    return Fail("event.aggregation_too_deep", "containers nest deeper than 16 levels");
  out.containers.push_back(sscc);
  {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT gtin, serial FROM packs WHERE parent = ?1"));
    q->Bind(1, sscc);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      out.packs.push_back({q->Text(0), q->Text(1)});
    }
  }
  std::vector<std::string> children;
  {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT sscc FROM containers WHERE parent = ?1"));
    q->Bind(1, sscc);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      children.push_back(q->Text(0));
    }
  }
  for (const auto& child : children) PEDIGREE_TRY(ExpandContainer(child, out, depth + 1));
  return Ok();
}

Result<ProvenanceState::Impl::Expansion> ProvenanceState::Impl::Expand(
    const std::vector<std::string>& epcs, bool require_top_level) {
  Expansion out;
  for (const std::string& epc : epcs) {
    if (auto pack = ParsePackId(epc)) {
      PEDIGREE_ASSIGN(view, LoadPack(*pack));
      if (!*view) {
        return Fail(Alert{AlertCode::kUnknownSerial, "no pack " + epc + " was commissioned"}
                        .ToError()
                        .at_field("epcs"));
      }
      if (require_top_level && !(*view)->parent.empty()) {
        return Fail(Alert{AlertCode::kAggregationConflict,
                          epc + " is inside case " + (*view)->parent + "; unpack it first"}
                        .ToError()
                        .at_field("epcs"));
      }
      out.packs.push_back(*pack);
    } else if (epc.size() == 18 && AllDigits(epc)) {
      PEDIGREE_ASSIGN(q, db.Prepare("SELECT parent FROM containers WHERE sscc = ?1"));
      q->Bind(1, epc);
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) {
        return Fail(Error("event.unknown_container", "no case or pallet with SSCC " + epc)
                        .at_field("epcs"));
      }
      if (require_top_level && !q->IsNull(0)) {
        return Fail(Alert{AlertCode::kAggregationConflict,
                          "SSCC " + epc + " is inside " + q->Text(0) + "; unpack it first"}
                        .ToError()
                        .at_field("epcs"));
      }
      PEDIGREE_TRY(ExpandContainer(epc, out, 0));
    } else {
      return Fail(Malformed(
          "epcs",
          "'" + epc +
              "' is neither a pack id https://id.gs1.org/01/{gtin}/21/{serial} nor an SSCC"));
    }
  }
  return out;
}

Result<ProvenanceState::Impl::Expansion> ProvenanceState::Impl::ExpandShipment(
    const std::string& from, const std::string& advice) {
  std::vector<std::string> items;
  {
    PEDIGREE_ASSIGN(
        q,
        db.Prepare("SELECT epc FROM shipment_items WHERE from_org = ?1 AND despatch_advice = ?2"));
    q->Bind(1, from).Bind(2, advice);
    while (true) {
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row) break;
      items.push_back(q->Text(0));
    }
  }
  return Expand(items, false);
}

// --- registry ---------------------------------------------------------------------

Status ProvenanceState::Impl::OrgRegister(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "id"));
  if (id->size() > 63 || !std::all_of(id->begin(), id->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      })) {
    return Fail(Malformed("id", "'" + *id + "' must be up to 63 characters of a-z, 0-9, '.', '-'"));
  }
  PEDIGREE_ASSIGN(name, Str(p, "name"));
  PEDIGREE_TRY(CheckNoControl(p, "name"));
  PEDIGREE_ASSIGN(role_list, StrList(p, "roles"));
  for (const auto& r : *role_list) {
    if (!KnownRoles().count(r)) {
      std::string known;
      for (const std::string& k : KnownRoles()) known += (known.empty() ? "" : ", ") + k;
      return Fail(Malformed("roles", "unknown role '" + r + "' (the roles are " + known + ")"));
    }
  }
  {
    PEDIGREE_ASSIGN(
        q, db.Prepare("INSERT INTO orgs(id, name, roles, registered_idx) VALUES(?1, ?2, ?3, ?4)"));
    q->Bind(1, *id)
        .Bind(2, *name)
        .Bind(3, JoinRoles(*role_list))
        .Bind(4, static_cast<int64_t>(index));
    if (auto st = q->Run(); !st) {
      return Fail(Error("event.conflict", "organisation '" + *id + "' is already registered")
                      .at_field("id"));
    }
  }
  if (p.find("companyPrefixes")) {
    PEDIGREE_ASSIGN(prefixes, StrList(p, "companyPrefixes"));
    for (const auto& prefix : *prefixes) {
      if (prefix.size() < 4 || prefix.size() > 12 || !AllDigits(prefix)) {
        return Fail(Malformed("companyPrefixes", "'" + prefix + "' must be 4 to 12 digits"));
      }
      PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO org_prefixes(prefix, org) VALUES(?1, ?2)"));
      q->Bind(1, prefix).Bind(2, *id);
      if (!q->Run()) {
        return Fail(
            Error("event.conflict", "company prefix " + prefix + " belongs to another organisation")
                .at_field("companyPrefixes"));
      }
    }
  }
  if (p.find("glns")) {
    PEDIGREE_ASSIGN(glns, StrList(p, "glns"));
    for (const auto& gln : *glns) {
      PEDIGREE_TRY(CheckGs1Key<Gln>(gln, "glns"));
      PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO org_glns(gln, org) VALUES(?1, ?2)"));
      q->Bind(1, gln).Bind(2, *id);
      if (!q->Run()) {
        return Fail(Error("event.conflict", "GLN " + gln + " belongs to another organisation")
                        .at_field("glns"));
      }
    }
  }
  const JsonValue* keys = p.find("keys");
  if (!keys || !keys->is_array() || keys->as_array().empty()) {
    return Fail(Malformed("keys", "at least one key {key, validFrom} is required"));
  }
  for (const JsonValue& k : keys->as_array()) {
    JsonValue add = k;
    add.set("id", JsonValue(*id));
    PEDIGREE_TRY(OrgKeyAdd(add));
  }
  return Ok();
}

Status ProvenanceState::Impl::OrgKeyAdd(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "id"));
  PEDIGREE_ASSIGN(key_text, Str(p, "key"));
  auto raw = FromBase64(*key_text);
  if (!raw || raw->size() != 32)
    return Fail(Malformed("key", "must be a base64 Ed25519 public key (32 bytes)"));
  PEDIGREE_ASSIGN(from_text, Str(p, "validFrom"));
  auto from = ParseUtcTime(*from_text);
  if (!from) return Fail(from.error().at_field("validFrom"));
  std::optional<int64_t> until;
  if (std::string u = OptStr(p, "validUntil"); !u.empty()) {
    auto t = ParseUtcTime(u);
    if (!t) return Fail(t.error().at_field("validUntil"));
    until = *t;
  }
  PEDIGREE_ASSIGN(
      q, db.Prepare("INSERT INTO org_keys(key, org, valid_from, valid_until, added_idx) "
                    "SELECT ?1, ?2, ?3, ?4, ?5 WHERE EXISTS (SELECT 1 FROM orgs WHERE id = ?2)"));
  q->Bind(1, std::span<const uint8_t>(*raw))
      .Bind(2, *id)
      .Bind(3, *from)
      .BindOptional(4, until)
      .Bind(5, static_cast<int64_t>(index));
  if (!q->Run()) return Fail(Error("event.conflict", "key is already registered").at_field("key"));
  if (db.Changes() == 0) {
    return Fail(
        Error("event.unknown_org", "organisation '" + *id + "' is not registered").at_field("id"));
  }
  return Ok();
}

Status ProvenanceState::Impl::OrgKeyRevoke(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "id"));
  PEDIGREE_ASSIGN(key_text, Str(p, "key"));
  auto raw = FromBase64(*key_text);
  if (!raw) return Fail(Malformed("key", "must be base64"));
  PEDIGREE_ASSIGN(at_text, Str(p, "revokedAt"));
  auto at = ParseUtcTime(*at_text);
  if (!at) return Fail(at.error().at_field("revokedAt"));
  PEDIGREE_ASSIGN(q, db.Prepare("UPDATE org_keys SET revoked_at = ?3 WHERE key = ?1 AND org = ?2 "
                                "AND (revoked_at IS NULL OR revoked_at > ?3)"));
  q->Bind(1, std::span<const uint8_t>(*raw)).Bind(2, *id).Bind(3, *at);
  PEDIGREE_TRY(q->Run());
  if (db.Changes() == 0) {
    return Fail(
        Error("event.unknown_key", "'" + *id + "' has no such key, or it was revoked earlier")
            .at_field("key"));
  }
  return Ok();
}

// A deviceID as EPCIS writes it: a URI (urn:epc:id:giai:…, https://…), 1–256 printable
// ASCII characters without space, with a scheme.
Status CheckDeviceId(const std::string& device) {
  bool ok = !device.empty() && device.size() <= 256 && device.find(':') != std::string::npos &&
            device.find(':') > 0;
  for (char c : device) ok = ok && c >= 0x21 && c <= 0x7E;
  if (!ok) {
    return Fail(Malformed("device", QuoteForMessage(device) +
                                        " must be the logger's EPCIS deviceID: a URI of 1 to 256 "
                                        "printable ASCII characters such as urn:epc:id:giai:…"));
  }
  return Ok();
}

Status ProvenanceState::Impl::OrgDeviceAdd(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "id"));
  PEDIGREE_ASSIGN(device, Str(p, "device"));
  PEDIGREE_TRY(CheckDeviceId(*device));
  PEDIGREE_ASSIGN(key_text, Str(p, "key"));
  auto raw = FromBase64(*key_text);
  if (!raw || raw->size() != 32 || !log::PublicKey::FromRaw(*raw)) {
    return Fail(Malformed("key", "must be the logger's base64 Ed25519 public key (32 bytes)"));
  }
  std::string label = OptStr(p, "label");
  if (const JsonValue* l = p.find("label"); l && !l->is_string()) {
    return Fail(Malformed("label", "must be a string"));
  }
  PEDIGREE_TRY(CheckNoControl(p, "label"));
  if (label.size() > 200) {
    return Fail(Malformed(
        "label", "is " + std::to_string(label.size()) + " bytes long; a label has at most 200"));
  }
  {
    PEDIGREE_ASSIGN(o, db.Prepare("SELECT 1 FROM orgs WHERE id = ?1"));
    o->Bind(1, *id);
    PEDIGREE_ASSIGN(found, o->Step());
    if (!*found) {
      return Fail(Error("event.unknown_org", "organisation '" + *id + "' is not registered")
                      .at_field("id"));
    }
  }
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO org_devices(device, org, key, label, added_idx) "
                                "VALUES(?1, ?2, ?3, ?4, ?5)"));
  q->Bind(1, *device)
      .Bind(2, *id)
      .Bind(3, std::span<const uint8_t>(*raw))
      .BindTextOrNull(4, label)
      .Bind(5, static_cast<int64_t>(index));
  // A deviceID names one logger for good: a revoked one is not given a new key.
  if (!q->Run()) {
    return Fail(
        Error("event.conflict", "device " + *device + " is already registered").at_field("device"));
  }
  return Ok();
}

Status ProvenanceState::Impl::OrgDeviceRevoke(const JsonValue& p) {
  PEDIGREE_ASSIGN(id, Str(p, "id"));
  PEDIGREE_ASSIGN(device, Str(p, "device"));
  PEDIGREE_ASSIGN(at_text, Str(p, "revokedAt"));
  auto at = ParseUtcTime(*at_text);
  if (!at) return Fail(at.error().at_field("revokedAt"));
  PEDIGREE_ASSIGN(q, db.Prepare("UPDATE org_devices SET revoked_at = ?3, revoked_idx = ?4 "
                                "WHERE device = ?1 AND org = ?2 AND revoked_at IS NULL"));
  q->Bind(1, *device).Bind(2, *id).Bind(3, *at).Bind(4, static_cast<int64_t>(index));
  PEDIGREE_TRY(q->Run());
  if (db.Changes() == 0) {
    return Fail(Error("sensor.unknown_device", "'" + *id + "' has no device " +
                                                   QuoteForMessage(*device) +
                                                   ", or it was revoked already")
                    .at_field("device"));
  }
  return Ok();
}

Status ProvenanceState::Impl::CheckDeviceSignatures(const JsonValue& p) {
  const JsonValue* list = p.find("sensorElementList");
  if (!list || !list->is_array()) return Ok();
  static const std::string device_sql = "SELECT org, key, revoked_at, " +
                                        SealedTextSql(kSealedTables[4]) +
                                        " FROM org_devices WHERE device = ?1";
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    const JsonValue& element = list->as_array()[i];
    const std::string field = "sensorElementList[" + std::to_string(i) + "]";
    PEDIGREE_ASSIGN(signature, ReadDeviceSignature(element, field));
    if (!*signature) continue;  // reported by the organisation, not by a logger
    const std::string& device = (*signature)->device_id;
    const std::string device_field = field + ".sensorMetadata.deviceID";
    PEDIGREE_ASSIGN(q, db.Prepare(device_sql.c_str()));
    q->Bind(1, device);
    PEDIGREE_ASSIGN(found, q->Step());
    if (!*found) {
      return Fail(
          Error("sensor.unknown_device", "device " + QuoteForMessage(device) + " of " + field +
                                             " is registered to no organisation (org.device_add)")
              .at_field(device_field));
    }
    if (sealed()) PEDIGREE_TRY(CheckMac("org_devices", device, q->Text(3)));
    if (q->Text(0) != org) {
      return Fail(Error("sensor.foreign_device", "device " + QuoteForMessage(device) +
                                                     " belongs to '" + q->Text(0) + "', not to '" +
                                                     org + "', which reports the readings")
                      .at_field(device_field));
    }
    if (!q->IsNull(2) && time >= q->Int(2)) {
      return Fail(Error("sensor.device_revoked",
                        "device " + QuoteForMessage(device) + " of '" + org + "' was revoked at " +
                            FormatUtcTime(q->Int(2)) + ", the readings were sequenced at " +
                            FormatUtcTime(time))
                      .at_field(device_field));
    }
    auto key = log::PublicKey::FromRaw(q->Blob(1));
    if (!key) return std::unexpected(key.error());
    PEDIGREE_ASSIGN(bytes, DeviceSignedBytes(element, field));
    if (!key->Verify(*bytes, (*signature)->sig)) {
      return Fail(Error("sensor.bad_device_signature",
                        "the signature of " + field + " does not verify under the key of device " +
                            QuoteForMessage(device) + " (" + key->Fingerprint() +
                            "): the readings are not the ones the logger signed")
                      .at_field(field + "." + std::string(kDeviceSignatureMember)));
    }
    PEDIGREE_ASSIGN(r, db.Prepare("INSERT INTO sensor_device_readings(idx, element, device, sig) "
                                  "VALUES(?1, ?2, ?3, ?4)"));
    r->Bind(1, static_cast<int64_t>(index))
        .Bind(2, static_cast<int64_t>(i))
        .Bind(3, device)
        .Bind(4, std::span<const uint8_t>((*signature)->sig));
    if (!r->Run()) {
      return Fail(Error("sensor.signature_reused", "the signed readings of " + field + " (device " +
                                                       QuoteForMessage(device) +
                                                       ") are already on the ledger")
                      .at_field(field + "." + std::string(kDeviceSignatureMember)));
    }
  }
  return Ok();
}

// --- master data --------------------------------------------------------------------

Status ProvenanceState::Impl::ProductRegister(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer"}, "product.register"));
  PEDIGREE_ASSIGN(gtin, Str(p, "gtin"));
  PEDIGREE_TRY(CheckGs1Key<Gtin>(*gtin, "gtin"));
  {
    // The GTIN after its indicator digit starts with the company prefix.
    static const std::string sql = "SELECT prefix, " + SealedTextSql(kSealedTables[2]) +
                                   " FROM org_prefixes WHERE org = ?1 AND substr(?2, 2, "
                                   "length(prefix)) = prefix";
    PEDIGREE_ASSIGN(q, db.Prepare(sql.c_str()));
    q->Bind(1, org).Bind(2, *gtin);
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row && sealed()) PEDIGREE_TRY(CheckMac("org_prefixes", q->Text(0), q->Text(1)));
    if (!*row) {
      return Fail(Error("event.foreign_prefix",
                        "GTIN " + *gtin + " does not carry a company prefix of '" + org + "'")
                      .at_field("gtin"));
    }
  }
  PEDIGREE_ASSIGN(name, Str(p, "name"));
  for (const char* text : {"name", "form", "strength", "nhrn"})
    PEDIGREE_TRY(CheckNoControl(p, text));
  std::optional<int64_t> tmin, tmax;
  if (p.find("tempMin")) {
    PEDIGREE_ASSIGN(v, Int(p, "tempMin"));
    tmin = *v;
  }
  if (p.find("tempMax")) {
    PEDIGREE_ASSIGN(v, Int(p, "tempMax"));
    tmax = *v;
  }
  if (tmin && tmax && *tmin > *tmax) {
    return Fail(Malformed("tempMin", "tempMin " + std::to_string(*tmin) + " is above tempMax " +
                                         std::to_string(*tmax)));
  }
  PEDIGREE_ASSIGN(
      q, db.Prepare(
             "INSERT INTO products(gtin, org, name, form, strength, nhrn, temp_min, temp_max, idx) "
             "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"));
  q->Bind(1, *gtin)
      .Bind(2, org)
      .Bind(3, *name)
      .Bind(4, OptStr(p, "form"))
      .Bind(5, OptStr(p, "strength"))
      .Bind(6, OptStr(p, "nhrn"))
      .BindOptional(7, tmin)
      .BindOptional(8, tmax)
      .Bind(9, static_cast<int64_t>(index));
  if (!q->Run())
    return Fail(
        Error("event.conflict", "product " + *gtin + " is already registered").at_field("gtin"));
  return Ok();
}

Status ProvenanceState::Impl::BatchRegister(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer"}, "batch.register"));
  PEDIGREE_ASSIGN(gtin, OwnGtin(p));
  PEDIGREE_ASSIGN(lot, Str(p, "lot"));
  PEDIGREE_TRY(CheckCset82(*lot, "lot"));
  PEDIGREE_ASSIGN(expiry_text, Str(p, "expiry"));
  auto expiry = ParseDate(*expiry_text);
  if (!expiry) return Fail(expiry.error().at_field("expiry"));
  PEDIGREE_ASSIGN(quantity, Int(p, "quantity"));
  if (*quantity < 1) return Fail(Malformed("quantity", "must be at least 1"));
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO batches(gtin, lot, expiry, quantity, status, idx) "
                                "VALUES(?1, ?2, ?3, ?4, 0, ?5)"));
  q->Bind(1, *gtin)
      .Bind(2, *lot)
      .Bind(3, *expiry_text)
      .Bind(4, *quantity)
      .Bind(5, static_cast<int64_t>(index));
  if (!q->Run())
    return Fail(Error("event.conflict", "batch " + *lot + " of " + *gtin + " is already registered")
                    .at_field("lot"));
  return RecordBatchEvent(*gtin, *lot);
}

Status ProvenanceState::Impl::Commission(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer"}, "commission"));
  PEDIGREE_ASSIGN(gtin, OwnGtin(p));
  PEDIGREE_ASSIGN(lot, Str(p, "lot"));
  PEDIGREE_ASSIGN(location, OwnLocation(p));
  int64_t quantity = 0, commissioned = 0;
  std::string expiry;
  {
    // The batch row keeps the count: counting a 10^6-pack batch per event would not scale.
    PEDIGREE_ASSIGN(
        q, db.Prepare("SELECT quantity, commissioned, expiry, status, COALESCE(status_reason, ''), "
                      "(SELECT MAX(idx) FROM batch_events be WHERE be.gtin = ?1 AND be.lot = ?2) "
                      "FROM batches WHERE gtin = ?1 AND lot = ?2"));
    q->Bind(1, *gtin).Bind(2, *lot);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row) {
      return Fail(
          Alert{AlertCode::kUnknownBatch, "batch " + *lot + " of " + *gtin + " is not registered"}
              .ToError()
              .at_field("lot"));
    }
    quantity = q->Int(0);
    commissioned = q->Int(1);
    expiry = q->Text(2);
    // A recall is final: no new pack joins the recalled stock.
    if (static_cast<BatchStatus>(q->Int(3)) == BatchStatus::kRecalled) {
      return Fail(Error("event.batch_recalled", "batch " + *lot + " of " + *gtin +
                                                    " is recalled (" + QuoteForMessage(q->Text(4)) +
                                                    ", entry " + std::to_string(q->Int(5)) +
                                                    "); expected a batch that is not recalled")
                      .at_field("lot")
                      .with_detail("batchStatus", "recalled")
                      .with_detail("reason", q->Text(4))
                      .with_detail("reasonEntry", q->Int(5)));
    }
  }
  // No pack is born expired: the batch is usable through its expiry day (as for dispense),
  // judged by the sequencing time.
  if (auto day = ParseDate(expiry);
      day && std::chrono::sys_days(DayOf(time)) > std::chrono::sys_days(*day)) {
    return Fail(Error("event.batch_expired",
                      "batch " + *lot + " of " + *gtin + " expired on " + expiry +
                          ", before the commissioning's sequencing time " + FormatUtcTime(time) +
                          "; expected a batch whose expiry is on or after " +
                          FormatDate(DayOf(time)))
                    .at_field("lot"));
  }
  PEDIGREE_ASSIGN(serials, StrList(p, "serials"));
  if (commissioned + static_cast<int64_t>(serials->size()) > quantity) {
    return Fail(Error("event.over_quantity",
                      "commissioning " + std::to_string(serials->size()) +
                          " packs would exceed batch quantity " + std::to_string(quantity) + " (" +
                          std::to_string(commissioned) + " already commissioned)")
                    .at_field("serials"));
  }
  for (const std::string& serial : *serials) {
    PEDIGREE_TRY(CheckCset82(serial, "serials"));
    PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO packs(gtin, serial, lot, status, holder, "
                                  "status_time, excursion, commissioned_idx) "
                                  "VALUES(?1, ?2, ?3, 0, ?4, ?5, 0, ?6)"));
    q->Bind(1, *gtin).Bind(2, serial).Bind(3, *lot).Bind(4, org).Bind(5, time).Bind(
        6, static_cast<int64_t>(index));
    if (!q->Run()) {
      return Fail(Error("event.duplicate_serial",
                        "serial '" + serial + "' of " + *gtin + " was already commissioned")
                      .at_field("serials"));
    }
    PEDIGREE_TRY(RecordPackEvent({*gtin, serial}));
  }
  PEDIGREE_ASSIGN(
      count,
      db.Prepare(
          "UPDATE batches SET commissioned = commissioned + ?3 WHERE gtin = ?1 AND lot = ?2"));
  count->Bind(1, *gtin).Bind(2, *lot).Bind(3, static_cast<int64_t>(serials->size()));
  return count->Run();
}

// --- aggregation and custody ----------------------------------------------------------

Status ProvenanceState::Impl::Aggregate(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer", "wholesaler", "dispenser"}, "aggregate"));
  PEDIGREE_ASSIGN(parent, Str(p, "parent"));
  PEDIGREE_TRY(CheckGs1Key<Sscc>(*parent, "parent"));
  PEDIGREE_ASSIGN(children, StrList(p, "children"));
  {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT holder, in_transit_to FROM containers WHERE sscc = ?1"));
    q->Bind(1, *parent);
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row) {
      if (q->Text(0) != org || !q->IsNull(1)) {
        return Fail(
            Alert{AlertCode::kNotInCustody, "case " + *parent + " is not in the custody of " + org}
                .ToError()
                .at_field("parent"));
      }
    } else {
      PEDIGREE_ASSIGN(
          ins, db.Prepare("INSERT INTO containers(sscc, holder, created_idx) VALUES(?1, ?2, ?3)"));
      ins->Bind(1, *parent).Bind(2, org).Bind(3, static_cast<int64_t>(index));
      PEDIGREE_TRY(ins->Run());
    }
  }
  for (const std::string& child : *children) {
    if (auto pack = ParsePackId(child)) {
      PEDIGREE_ASSIGN(view, LoadPack(*pack));
      if (!*view)
        return Fail(Alert{AlertCode::kUnknownSerial, "no pack " + child + " was commissioned"}
                        .ToError()
                        .at_field("children"));
      if ((*view)->facts.holder_org != org || !(*view)->in_transit_to.empty()) {
        return Fail(
            Explain(Alert{AlertCode::kNotInCustody, child + " is not in the custody of " + org}
                        .ToError()
                        .at_field("children"),
                    AlertCode::kNotInCustody, **view));
      }
      if ((*view)->facts.status != PackStatus::kActive) {
        return Fail(
            Explain(Alert{AlertCode::kAlreadyDecommissioned,
                          child + " is " + std::string(PackStatusName((*view)->facts.status))}
                        .ToError()
                        .at_field("children"),
                    AlertCode::kAlreadyDecommissioned, **view));
      }
      if (!(*view)->parent.empty()) {
        return Fail(
            Alert{AlertCode::kAggregationConflict, child + " is already in case " + (*view)->parent}
                .ToError()
                .at_field("children"));
      }
      PEDIGREE_ASSIGN(u,
                      db.Prepare("UPDATE packs SET parent = ?3 WHERE gtin = ?1 AND serial = ?2"));
      u->Bind(1, pack->gtin).Bind(2, pack->serial).Bind(3, *parent);
      PEDIGREE_TRY(u->Run());
      PEDIGREE_TRY(RecordPackEvent(*pack));
    } else if (child.size() == 18 && AllDigits(child)) {
      if (child == *parent) {
        return Fail(
            Alert{AlertCode::kAggregationConflict, "case " + child + " cannot contain itself"}
                .ToError()
                .at_field("children"));
      }
      // Walk up from the parent: meeting the child would close a cycle.
      std::string up = *parent;
      for (int depth = 0; !up.empty() && depth < 32; ++depth) {
        if (up == child) {
          return Fail(Alert{AlertCode::kAggregationConflict,
                            "putting " + child + " into " + *parent + " would create a cycle"}
                          .ToError()
                          .at_field("children"));
        }
        PEDIGREE_ASSIGN(q, db.Prepare("SELECT parent FROM containers WHERE sscc = ?1"));
        q->Bind(1, up);
        PEDIGREE_ASSIGN(row, q->Step());
        up = *row ? q->Text(0) : std::string();
      }
      PEDIGREE_ASSIGN(
          q, db.Prepare("SELECT holder, in_transit_to, parent FROM containers WHERE sscc = ?1"));
      q->Bind(1, child);
      PEDIGREE_ASSIGN(row, q->Step());
      if (!*row)
        return Fail(Error("event.unknown_container", "no case or pallet with SSCC " + child)
                        .at_field("children"));
      if (q->Text(0) != org || !q->IsNull(1)) {
        return Fail(
            Alert{AlertCode::kNotInCustody, "case " + child + " is not in the custody of " + org}
                .ToError()
                .at_field("children"));
      }
      if (!q->IsNull(2)) {
        return Fail(
            Alert{AlertCode::kAggregationConflict, "case " + child + " is already in " + q->Text(2)}
                .ToError()
                .at_field("children"));
      }
      PEDIGREE_ASSIGN(u, db.Prepare("UPDATE containers SET parent = ?2 WHERE sscc = ?1"));
      u->Bind(1, child).Bind(2, *parent);
      PEDIGREE_TRY(u->Run());
      // Every pack inside the case sees it go onto the pallet: without this entry in its
      // history a later shipment of the pallet would not be explained by the pack's evidence.
      Expansion contents;
      PEDIGREE_TRY(ExpandContainer(child, contents, 0));
      for (const PackKey& pack : contents.packs) PEDIGREE_TRY(RecordPackEvent(pack));
      for (const std::string& inner : contents.containers) {
        PEDIGREE_TRY(RecordContainerEvent(inner));
      }
    } else {
      return Fail(Malformed("children", "'" + child + "' is neither a pack id nor an SSCC"));
    }
  }
  // The parent and every container it is in see their contents change.
  return RecordContainerChain(*parent);
}

Status ProvenanceState::Impl::Disaggregate(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer", "wholesaler", "dispenser"}, "disaggregate"));
  PEDIGREE_ASSIGN(parent, Str(p, "parent"));
  {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT holder, in_transit_to FROM containers WHERE sscc = ?1"));
    q->Bind(1, *parent);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row)
      return Fail(Error("event.unknown_container", "no case or pallet with SSCC " + *parent)
                      .at_field("parent"));
    if (q->Text(0) != org || !q->IsNull(1)) {
      return Fail(
          Alert{AlertCode::kNotInCustody, "case " + *parent + " is not in the custody of " + org}
              .ToError()
              .at_field("parent"));
    }
  }
  // Every pack below the case sees the unpacking in its history.
  Expansion contents;
  PEDIGREE_TRY(ExpandContainer(*parent, contents, 0));
  for (const PackKey& pack : contents.packs) PEDIGREE_TRY(RecordPackEvent(pack));
  // Every container below the parent, the parent and those it is in, before it changes.
  for (const std::string& inner : contents.containers) PEDIGREE_TRY(RecordContainerEvent(inner));
  PEDIGREE_TRY(RecordContainerChain(*parent));
  if (!p.find("children")) {
    PEDIGREE_ASSIGN(a, db.Prepare("UPDATE packs SET parent = NULL WHERE parent = ?1"));
    a->Bind(1, *parent);
    PEDIGREE_TRY(a->Run());
    PEDIGREE_ASSIGN(b, db.Prepare("UPDATE containers SET parent = NULL WHERE parent = ?1"));
    b->Bind(1, *parent);
    return b->Run();
  }
  PEDIGREE_ASSIGN(children, StrList(p, "children"));
  for (const std::string& child : *children) {
    if (auto pack = ParsePackId(child)) {
      PEDIGREE_ASSIGN(
          u, db.Prepare(
                 "UPDATE packs SET parent = NULL WHERE gtin = ?1 AND serial = ?2 AND parent = ?3"));
      u->Bind(1, pack->gtin).Bind(2, pack->serial).Bind(3, *parent);
      PEDIGREE_TRY(u->Run());
    } else {
      PEDIGREE_ASSIGN(
          u, db.Prepare("UPDATE containers SET parent = NULL WHERE sscc = ?1 AND parent = ?2"));
      u->Bind(1, child).Bind(2, *parent);
      PEDIGREE_TRY(u->Run());
    }
    if (db.Changes() == 0) {
      return Fail(Alert{AlertCode::kAggregationConflict, child + " is not in case " + *parent}
                      .ToError()
                      .at_field("children"));
    }
  }
  return Ok();
}

Status ProvenanceState::Impl::Ship(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer", "wholesaler", "dispenser"}, "ship"));
  PEDIGREE_ASSIGN(epcs, StrList(p, "epcs"));
  PEDIGREE_ASSIGN(to, Str(p, "to"));
  PEDIGREE_ASSIGN(to_location, Str(p, "toLocation"));
  PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice"));
  {
    static const std::string sql =
        "SELECT " + SealedTextSql(kSealedTables[3]) + " FROM org_glns WHERE gln = ?1 AND org = ?2";
    PEDIGREE_ASSIGN(q, db.Prepare(sql.c_str()));
    q->Bind(1, *to_location).Bind(2, *to);
    PEDIGREE_ASSIGN(row, q->Step());
    if (*row && sealed()) PEDIGREE_TRY(CheckMac("org_glns", *to_location, q->Text(0)));
    if (!*row) {
      return Fail(Error("event.unknown_destination",
                        "GLN " + *to_location + " is not a location of '" + *to + "'")
                      .at_field("toLocation"));
    }
  }
  PEDIGREE_ASSIGN(expansion, Expand(*epcs, true));
  for (const PackKey& pack : expansion->packs) {
    PEDIGREE_ASSIGN(view, LoadPack(pack));
    const PackView& v = **view;
    if (v.facts.holder_org != org || !v.in_transit_to.empty()) {
      return Fail(Explain(
          Alert{AlertCode::kNotInCustody, PackIdOf(pack) + " is not in the custody of " + org}
              .ToError()
              .at_field("epcs"),
          AlertCode::kNotInCustody, v));
    }
    if (v.facts.status != PackStatus::kActive) {
      return Fail(
          Explain(Alert{AlertCode::kAlreadyDecommissioned,
                        PackIdOf(pack) + " is " + std::string(PackStatusName(v.facts.status))}
                      .ToError()
                      .at_field("epcs"),
                  AlertCode::kAlreadyDecommissioned, v));
    }
    PEDIGREE_ASSIGN(
        u, db.Prepare("UPDATE packs SET in_transit_to = ?3 WHERE gtin = ?1 AND serial = ?2"));
    u->Bind(1, pack.gtin).Bind(2, pack.serial).Bind(3, *to);
    PEDIGREE_TRY(u->Run());
    PEDIGREE_TRY(RecordPackEvent(pack));
  }
  for (const std::string& sscc : expansion->containers) {
    PEDIGREE_TRY(RecordContainerEvent(sscc));
    PEDIGREE_ASSIGN(q, db.Prepare("UPDATE containers SET in_transit_to = ?2 WHERE sscc = ?1 AND "
                                  "holder = ?3 AND in_transit_to IS NULL"));
    q->Bind(1, sscc).Bind(2, *to).Bind(3, org);
    PEDIGREE_TRY(q->Run());
    if (db.Changes() == 0) {
      return Fail(
          Alert{AlertCode::kNotInCustody, "case " + sscc + " is not in the custody of " + org}
              .ToError()
              .at_field("epcs"));
    }
  }
  {
    PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO shipments(from_org, despatch_advice, to_org, "
                                  "to_location, status, excursion, shipped_idx) "
                                  "VALUES(?1, ?2, ?3, ?4, 'shipped', 0, ?5)"));
    q->Bind(1, org)
        .Bind(2, *advice)
        .Bind(3, *to)
        .Bind(4, *to_location)
        .Bind(5, static_cast<int64_t>(index));
    if (!q->Run()) {
      return Fail(Error("event.conflict",
                        "despatch advice '" + *advice + "' of '" + org + "' was already used")
                      .at_field("despatchAdvice"));
    }
  }
  for (const std::string& epc : *epcs) {
    PEDIGREE_ASSIGN(
        q, db.Prepare(
               "INSERT INTO shipment_items(from_org, despatch_advice, epc) VALUES(?1, ?2, ?3)"));
    q->Bind(1, org).Bind(2, *advice).Bind(3, epc);
    PEDIGREE_TRY(q->Run());
  }
  return Ok();
}

Status ProvenanceState::Impl::Receive(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer", "wholesaler", "dispenser"}, "receive"));
  PEDIGREE_ASSIGN(from, Str(p, "from"));
  PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice"));
  PEDIGREE_ASSIGN(location, OwnLocation(p));
  {
    PEDIGREE_ASSIGN(
        q,
        db.Prepare(
            "SELECT to_org, status FROM shipments WHERE from_org = ?1 AND despatch_advice = ?2"));
    q->Bind(1, *from).Bind(2, *advice);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row || q->Text(0) != org) {
      return Fail(Alert{AlertCode::kReceiveBeforeShip,
                        "'" + *from + "' recorded no shipment '" + *advice + "' to " + org}
                      .ToError()
                      .at_field("despatchAdvice"));
    }
    if (q->Text(1) != "shipped") {
      return Fail(Error("event.conflict", "shipment '" + *advice + "' was already received")
                      .at_field("despatchAdvice"));
    }
  }
  PEDIGREE_ASSIGN(expansion, ExpandShipment(*from, *advice));
  for (const PackKey& pack : expansion->packs) {
    PEDIGREE_ASSIGN(
        u,
        db.Prepare(
            "UPDATE packs SET holder = ?3, in_transit_to = NULL WHERE gtin = ?1 AND serial = ?2"));
    u->Bind(1, pack.gtin).Bind(2, pack.serial).Bind(3, org);
    PEDIGREE_TRY(u->Run());
    PEDIGREE_TRY(RecordPackEvent(pack));
  }
  for (const std::string& sscc : expansion->containers) {
    PEDIGREE_TRY(RecordContainerEvent(sscc));
    PEDIGREE_ASSIGN(
        u, db.Prepare("UPDATE containers SET holder = ?2, in_transit_to = NULL WHERE sscc = ?1"));
    u->Bind(1, sscc).Bind(2, org);
    PEDIGREE_TRY(u->Run());
  }
  PEDIGREE_ASSIGN(done, db.Prepare("UPDATE shipments SET status = 'received', received_idx = ?3 "
                                   "WHERE from_org = ?1 AND despatch_advice = ?2"));
  done->Bind(1, *from).Bind(2, *advice).Bind(3, static_cast<int64_t>(index));
  return done->Run();
}

// --- statuses -----------------------------------------------------------------------

Status ProvenanceState::Impl::Decommission(const JsonValue& p) {
  PEDIGREE_ASSIGN(epcs, StrList(p, "epcs"));
  PEDIGREE_ASSIGN(status_text, Str(p, "status"));
  auto target = ParsePackStatus(*status_text);
  if (!target) return std::unexpected(target.error());
  if (*target == PackStatus::kSupplied)
    PEDIGREE_TRY(RequireRole({"dispenser", "wholesaler"}, "supply"));
  PEDIGREE_ASSIGN(location, OwnLocation(p));
  PEDIGREE_ASSIGN(expansion, Expand(*epcs, false));
  Actor actor{org, *location, time};
  for (const PackKey& pack : expansion->packs) {
    PEDIGREE_ASSIGN(view, LoadPack(pack));
    const PackView& v = **view;
    auto ok = CheckDecommission(v.facts, *target, actor, DayOf(time));
    if (!ok) {
      Alert alert = ok.error();
      // Active here, but a pharmacy elsewhere holds it: the pack exists twice.
      if (alert.code == AlertCode::kNotInCustody && v.facts.status == PackStatus::kActive) {
        PEDIGREE_ASSIGN(other, db.Prepare("SELECT roles FROM orgs WHERE id = ?1"));
        other->Bind(1, v.facts.holder_org);
        PEDIGREE_ASSIGN(row, other->Step());
        auto holder_roles = *row ? SplitRoles(other->Text(0)) : std::vector<std::string>{};
        if (std::find(holder_roles.begin(), holder_roles.end(), "dispenser") !=
            holder_roles.end()) {
          alert = Alert{AlertCode::kCloneSuspected,
                        "the pack is active in the custody of another dispenser"};
        }
      }
      alert.message = PackIdOf(pack) + ": " + alert.message;
      return Fail(Explain(alert.ToError().at_field("epcs"), alert.code, v));
    }
    if (!v.in_transit_to.empty()) {
      return Fail(Explain(
          Alert{AlertCode::kNotInCustody, PackIdOf(pack) + " is in transit to " + v.in_transit_to}
              .ToError()
              .at_field("epcs"),
          AlertCode::kNotInCustody, v));
    }
    PEDIGREE_ASSIGN(
        u,
        db.Prepare(
            "UPDATE packs SET status = ?3, status_org = ?4, status_location = ?5, status_time = ?6 "
            "WHERE gtin = ?1 AND serial = ?2"));
    u->Bind(1, pack.gtin)
        .Bind(2, pack.serial)
        .Bind(3, static_cast<int64_t>(*target))
        .Bind(4, org)
        .Bind(5, *location)
        .Bind(6, time);
    PEDIGREE_TRY(u->Run());
    PEDIGREE_TRY(RecordPackEvent(pack));
  }
  return Ok();
}

Status ProvenanceState::Impl::Undo(const JsonValue& p) {
  PEDIGREE_ASSIGN(epcs, StrList(p, "epcs"));
  PEDIGREE_ASSIGN(location, Str(p, "location"));
  PEDIGREE_ASSIGN(expansion, Expand(*epcs, false));
  Actor actor{org, *location, time};
  for (const PackKey& pack : expansion->packs) {
    PEDIGREE_ASSIGN(view, LoadPack(pack));
    auto ok = CheckUndo((*view)->facts, actor, DayOf(time));
    if (!ok) {
      Alert alert = ok.error();
      alert.message = PackIdOf(pack) + ": " + alert.message;
      return Fail(Explain(alert.ToError().at_field("epcs"), alert.code, **view));
    }
    PEDIGREE_ASSIGN(u, db.Prepare("UPDATE packs SET status = 0, status_org = NULL, status_location "
                                  "= NULL, status_time = ?3 "
                                  "WHERE gtin = ?1 AND serial = ?2"));
    u->Bind(1, pack.gtin).Bind(2, pack.serial).Bind(3, time);
    PEDIGREE_TRY(u->Run());
    PEDIGREE_TRY(RecordPackEvent(pack));
  }
  return Ok();
}

Status ProvenanceState::Impl::BatchStatusChange(const JsonValue& p) {
  PEDIGREE_TRY(RequireRole({"manufacturer"}, "batch.status"));
  PEDIGREE_ASSIGN(gtin, OwnGtin(p));
  PEDIGREE_ASSIGN(lot, Str(p, "lot"));
  PEDIGREE_ASSIGN(status_text, Str(p, "status"));
  PEDIGREE_ASSIGN(reason, Str(p, "reason"));
  PEDIGREE_TRY(CheckNoControl(p, "reason"));
  BatchStatus status;
  if (*status_text == "recalled")
    status = BatchStatus::kRecalled;
  else if (*status_text == "withdrawn")
    status = BatchStatus::kWithdrawn;
  else if (*status_text == "active")
    status = BatchStatus::kActive;
  else
    return Fail(
        Malformed("status", "'" + *status_text + "' must be recalled, withdrawn or active"));
  PEDIGREE_ASSIGN(
      q, db.Prepare("SELECT status, COALESCE(status_reason, ''), (SELECT MAX(idx) FROM "
                    "batch_events be WHERE be.gtin = ?1 AND be.lot = ?2) FROM batches WHERE gtin "
                    "= ?1 AND lot = ?2"));
  q->Bind(1, *gtin).Bind(2, *lot);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row)
    return Fail(
        Alert{AlertCode::kUnknownBatch, "batch " + *lot + " of " + *gtin + " is not registered"}
            .ToError()
            .at_field("lot"));
  if (static_cast<BatchStatus>(q->Int(0)) == BatchStatus::kRecalled) {
    return Fail(Error("event.batch_recalled",
                      "batch " + *lot + " is recalled (" + QuoteForMessage(q->Text(1)) +
                          ", entry " + std::to_string(q->Int(2)) + "); a recall is final")
                    .at_field("status")
                    .with_detail("batchStatus", "recalled")
                    .with_detail("reason", q->Text(1))
                    .with_detail("reasonEntry", q->Int(2)));
  }
  PEDIGREE_ASSIGN(
      u, db.Prepare(
             "UPDATE batches SET status = ?3, status_reason = ?4 WHERE gtin = ?1 AND lot = ?2"));
  u->Bind(1, *gtin).Bind(2, *lot).Bind(3, static_cast<int64_t>(status)).Bind(4, *reason);
  PEDIGREE_TRY(u->Run());
  return RecordBatchEvent(*gtin, *lot);
}

Status ProvenanceState::Impl::Sensor(const JsonValue& p) {
  PEDIGREE_ASSIGN(from, Str(p, "from"));
  PEDIGREE_ASSIGN(advice, Str(p, "despatchAdvice"));
  {
    PEDIGREE_ASSIGN(
        q, db.Prepare("SELECT to_org FROM shipments WHERE from_org = ?1 AND despatch_advice = ?2"));
    q->Bind(1, *from).Bind(2, *advice);
    PEDIGREE_ASSIGN(row, q->Step());
    if (!*row)
      return Fail(
          Error("event.unknown_shipment", "no shipment '" + *advice + "' from '" + *from + "'")
              .at_field("despatchAdvice"));
    if (org != *from && org != q->Text(0)) {
      return Fail(
          Error("event.not_party",
                "'" + org + "' is neither sender nor receiver of shipment '" + *advice + "'")
              .at_field("org"));
    }
  }
  PEDIGREE_ASSIGN(range, TemperatureRange(p));
  PEDIGREE_TRY(CheckSensorBounds(p));
  PEDIGREE_TRY(CheckDeviceSignatures(p));
  int64_t lowest = range->first, highest = range->second;
  PEDIGREE_ASSIGN(expansion, ExpandShipment(*from, *advice));
  bool any = false;
  for (const PackKey& pack : expansion->packs) {
    PEDIGREE_ASSIGN(q, db.Prepare("SELECT temp_min, temp_max FROM products WHERE gtin = ?1"));
    q->Bind(1, pack.gtin);
    PEDIGREE_ASSIGN(row, q->Step());
    bool out =
        *row && ((!q->IsNull(0) && lowest < q->Int(0)) || (!q->IsNull(1) && highest > q->Int(1)));
    PEDIGREE_TRY(RecordPackEvent(pack));
    if (!out) continue;
    any = true;
    PEDIGREE_ASSIGN(u,
                    db.Prepare("UPDATE packs SET excursion = 1 WHERE gtin = ?1 AND serial = ?2"));
    u->Bind(1, pack.gtin).Bind(2, pack.serial);
    PEDIGREE_TRY(u->Run());
  }
  if (any) {
    PEDIGREE_ASSIGN(
        u, db.Prepare(
               "UPDATE shipments SET excursion = 1 WHERE from_org = ?1 AND despatch_advice = ?2"));
    u->Bind(1, *from).Bind(2, *advice);
    PEDIGREE_TRY(u->Run());
  }
  return Ok();
}

// A verification the caller asked to record: the fact that `org` scanned the pack at
// `location` and what it was told. It changes no state; it joins the pack's history.
Status ProvenanceState::Impl::VerifyRecord(const JsonValue& p) {
  PEDIGREE_ASSIGN(epcs, StrList(p, "epcs"));
  PEDIGREE_ASSIGN(location, OwnLocation(p));
  const JsonValue* verified = p.find("verified");
  if (!verified || !verified->is_bool())
    return Fail(Malformed("verified", "must be true or false"));
  for (const std::string& epc : *epcs) {
    auto pack = ParsePackId(epc);
    if (!pack) return Fail(Malformed("epcs", "'" + epc + "' is not a pack id"));
    PEDIGREE_TRY(RecordPackEvent(*pack));
  }
  return Ok();
}

Status ProvenanceState::Impl::AlertEvent(const JsonValue& p) {
  PEDIGREE_ASSIGN(code, Str(p, "code"));
  PEDIGREE_ASSIGN(message, Str(p, "message"));
  PEDIGREE_ASSIGN(subject, Str(p, "subjectOrg"));
  std::string epc = OptStr(p, "epc");
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO alerts(idx, code, epc, subject_org, message, time) "
                                "VALUES(?1, ?2, ?3, ?4, ?5, ?6)"));
  q->Bind(1, static_cast<int64_t>(index))
      .Bind(2, *code)
      .BindTextOrNull(3, epc)
      .Bind(4, *subject)
      .Bind(5, *message)
      .Bind(6, time);
  PEDIGREE_TRY(q->Run());
  auto pack = ParsePackId(epc);
  // The class is fixed when the alert is raised, from the pack as it is then.
  bool by_status_setter = false;
  if (pack) {
    PEDIGREE_ASSIGN(setter, db.Prepare("SELECT 1 FROM packs WHERE gtin = ?1 AND serial = ?2 AND "
                                       "status_org = ?3"));
    setter->Bind(1, pack->gtin).Bind(2, pack->serial).Bind(3, *subject);
    PEDIGREE_ASSIGN(found, setter->Step());
    by_status_setter = *found;
  }
  const auto alert_code = AlertCodeNamed(*code);
  const std::string_view cls = alert_code
                                   ? AlertClassName(ClassifyAlert(*alert_code, by_status_setter))
                                   : AlertClassName(AlertClass::kFalsificationSignal);
  const JsonValue* suppressed = p.find("suppressed");
  if (suppressed && (!suppressed->is_int() || suppressed->as_int() < 0)) {
    return Fail(Malformed("suppressed", "must be a non-negative integer"));
  }
  PEDIGREE_ASSIGN(status, db.Prepare("INSERT INTO alert_status(idx, class, state, suppressed) "
                                     "VALUES(?1, ?2, ?3, ?4)"));
  status->Bind(1, static_cast<int64_t>(index))
      .Bind(2, cls)
      .Bind(3, kAlertOpen)
      .Bind(4, suppressed ? suppressed->as_int() : int64_t{0});
  PEDIGREE_TRY(status->Run());
  if (!pack) return Ok();
  PEDIGREE_TRY(RecordPackEvent(*pack));
  // Who else must hear of it: the pack's holder now and its manufacturer (not the
  // subject, who sees its own alerts anyway).
  PEDIGREE_ASSIGN(parties, db.Prepare("SELECT holder, 'holder' FROM packs WHERE gtin = ?1 AND "
                                      "serial = ?2 UNION ALL SELECT org, 'manufacturer' FROM "
                                      "products WHERE gtin = ?1"));
  parties->Bind(1, pack->gtin).Bind(2, pack->serial);
  std::vector<std::pair<std::string, std::string>> concerned;
  while (true) {
    PEDIGREE_ASSIGN(row, parties->Step());
    if (!*row) break;
    concerned.emplace_back(parties->Text(0), parties->Text(1));
  }
  for (const auto& [party, role] : concerned) {
    if (party == *subject) continue;
    PEDIGREE_ASSIGN(add, db.Prepare("INSERT INTO alert_parties(org, idx, role) "
                                    "VALUES(?1, ?2, ?3) ON CONFLICT DO NOTHING"));
    add->Bind(1, party).Bind(2, static_cast<int64_t>(index)).Bind(3, role);
    PEDIGREE_TRY(add->Run());
  }
  return Ok();
}

// alert.investigate and alert.close: the EU hub's alert management on the ledger. The
// marketing-authorisation holder (manufacturer of the pack's GTIN) or a regulator moves an
// alert from open to investigating and closes it with a classification and a reason.
Status ProvenanceState::Impl::AlertLifecycle(const std::string& kind, const JsonValue& p) {
  PEDIGREE_ASSIGN(alert, Int(p, "alert"));
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT a.epc, COALESCE(s.state, 'open'), s.class FROM alerts a "
                                "LEFT JOIN alert_status s ON s.idx = a.idx WHERE a.idx = ?1"));
  q->Bind(1, *alert);
  PEDIGREE_ASSIGN(found, q->Step());
  if (!*found) {
    return Fail(Error("alert_lifecycle.unknown_alert",
                      "entry " + std::to_string(*alert) + " is not an alert")
                    .at_field("alert"));
  }
  const std::string epc = q->IsNull(0) ? std::string() : q->Text(0);
  const std::string state = q->Text(1);
  const bool has_status_row = !q->IsNull(2);
  const auto pack = ParsePackId(epc);
  bool allowed = std::find(roles.begin(), roles.end(), "regulator") != roles.end();
  if (!allowed && pack) {
    PEDIGREE_ASSIGN(owner, db.Prepare("SELECT 1 FROM products WHERE gtin = ?1 AND org = ?2"));
    owner->Bind(1, pack->gtin).Bind(2, org);
    PEDIGREE_ASSIGN(owns, owner->Step());
    allowed = *owns;
  }
  if (!allowed) {
    return Fail(Error("alert_lifecycle.forbidden",
                      kind + " of alert " + std::to_string(*alert) + " needs the manufacturer of " +
                          (pack ? "GTIN " + pack->gtin : std::string("its pack")) +
                          " or a regulator; '" + org + "' is neither")
                    .at_field("org"));
  }
  if (state == kAlertClosed) {
    return Fail(
        Error("alert_lifecycle.closed",
              "alert " + std::to_string(*alert) + " is already closed; a closed alert stays closed")
            .at_field("alert"));
  }
  std::string next_state(kAlertInvestigating);
  std::string classification, reason;
  if (kind == "alert.close") {
    next_state = kAlertClosed;
    classification = OptStr(p, "classification");
    if (std::find(std::begin(kAlertClassifications), std::end(kAlertClassifications),
                  classification) == std::end(kAlertClassifications)) {
      return Fail(Error("alert_lifecycle.bad_classification",
                        "classification '" + classification +
                            "' is none of technical_error, process_error, confirmed_falsification")
                      .at_field("classification"));
    }
    reason = OptStr(p, "reason");
    const auto control = std::find_if(reason.begin(), reason.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (reason.empty() || reason.size() > kMaxAlertReason || control != reason.end()) {
      return Fail(Error("alert_lifecycle.bad_reason",
                        reason.empty() ? std::string("a close needs a reason")
                        : control != reason.end()
                            ? "the reason holds control character " +
                                  std::to_string(static_cast<unsigned char>(*control)) +
                                  " at offset " + std::to_string(control - reason.begin())
                            : "the reason has " + std::to_string(reason.size()) +
                                  " bytes, at most " + std::to_string(kMaxAlertReason))
                      .at_field("reason"));
    }
  }
  if (!has_status_row) {
    // An alert recorded before alert_status existed: it was open, of its code's class.
    PEDIGREE_ASSIGN(code, db.Prepare("SELECT code FROM alerts WHERE idx = ?1"));
    code->Bind(1, *alert);
    PEDIGREE_ASSIGN(row, code->Step());
    const auto c = *row ? AlertCodeNamed(code->Text(0)) : std::nullopt;
    PEDIGREE_ASSIGN(add, db.Prepare("INSERT INTO alert_status(idx, class, state) VALUES(?1, ?2, "
                                    "'open')"));
    add->Bind(1, *alert).Bind(2, c ? AlertClassName(ClassifyAlert(*c, false))
                                   : AlertClassName(AlertClass::kFalsificationSignal));
    PEDIGREE_TRY(add->Run());
  }
  PEDIGREE_ASSIGN(u, db.Prepare("UPDATE alert_status SET state = ?2, classification = ?3, "
                                "reason = ?4, actor = ?5, changed_idx = ?6 WHERE idx = ?1"));
  u->Bind(1, *alert)
      .Bind(2, next_state)
      .BindTextOrNull(3, classification)
      .BindTextOrNull(4, reason)
      .Bind(5, org)
      .Bind(6, static_cast<int64_t>(index));
  PEDIGREE_TRY(u->Run());
  // The pack's history (and so its report and bundle) holds the alert's life.
  if (pack) PEDIGREE_TRY(RecordPackEvent(*pack));
  return Ok();
}

}  // namespace pedigree::provenance
