// pedigree's signed supply events as an EPCIS 2.0 JSON-LD EPCISDocument (docs/epcis.md,
// "Export"): one EPCIS event per ledger entry, EPCs as canonical GS1 Digital Link URIs.
#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pedigree/base/time.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/epcis.h"

namespace pedigree::scanner::epcis {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

const std::string* Str(const JsonValue& p, std::string_view key) {
  const JsonValue* v = p.find(key);
  return v != nullptr && v->is_string() ? &v->as_string() : nullptr;
}

std::string StrOr(const JsonValue& p, std::string_view key) {
  const std::string* s = Str(p, key);
  return s != nullptr ? *s : std::string();
}

// A pack id (already a Digital Link) or an 18-digit SSCC, as a Digital Link URI.
std::string EpcUri(const std::string& id) {
  if (id.size() == 18 && AllDigits(id)) return "https://id.gs1.org/00/" + id;
  return id;
}

JsonValue EpcArray(const JsonValue* list) {
  JsonValue out = JsonValue::Array();
  if (list == nullptr || !list->is_array()) return out;
  for (const JsonValue& e : list->as_array()) {
    if (e.is_string()) out.push_back(EpcUri(e.as_string()));
  }
  return out;
}

JsonValue Location(const std::string& gln) {
  return JsonValue::Object().set("id", "https://id.gs1.org/414/" + gln);
}

struct Shipment {
  JsonValue epcs;
  std::string to;
};

class Exporter {
 public:
  explicit Exporter(const std::vector<LedgerEvent>& entries) : entries_(entries) {
    for (const LedgerEvent& e : entries) {
      const std::string kind = StrOr(e.payload, "kind");
      if (kind == "org.register") {
        const JsonValue* glns = e.payload.find("glns");
        if (glns != nullptr && glns->is_array() && !glns->as_array().empty() &&
            glns->as_array()[0].is_string()) {
          party_gln_[StrOr(e.payload, "id")] = glns->as_array()[0].as_string();
        }
      } else if (kind == "batch.register") {
        expiry_[StrOr(e.payload, "gtin") + "|" + StrOr(e.payload, "lot")] =
            StrOr(e.payload, "expiry");
      } else if (kind == "ship") {
        shipments_[StrOr(e.payload, "org") + "|" + StrOr(e.payload, "despatchAdvice")] = {
            EpcArray(e.payload.find("epcs")), StrOr(e.payload, "to")};
      }
    }
  }

  Result<JsonValue> Document(int64_t creation_time, const ExportOptions& options) {
    JsonValue events = JsonValue::Array();
    HashOptions hash = PedigreeHashOptions();
    JsonValue prefixes =
        JsonValue::Object().set(std::string(kPedigreePrefix), std::string(kPedigreeNamespace));
    for (const LedgerEvent& e : entries_) {
      if (options.kept) {
        PEDIGREE_ASSIGN(kept, KeptEvent(e));
        if (*kept) {
          // A prefix two partners bound to different IRIs keeps the first binding: the
          // document has one @context (docs/epcis.md, "What is kept").
          for (auto& [prefix, iri] : KeptPrefixes(e.payload)) {
            if (prefixes.find(prefix) == nullptr) prefixes.set(prefix, iri);
          }
          events.push_back(std::move(**kept));
          continue;
        }
      }
      std::optional<JsonValue> ev = Event(e);
      if (!ev) continue;
      PEDIGREE_ASSIGN(id, EventHashId(*ev, hash));
      // eventID first for readers; member order does not change the hash.
      JsonValue out = JsonValue::Object().set("eventID", *id);
      for (auto& [k, v] : ev->as_object()) out.set(k, std::move(v));
      events.push_back(std::move(out));
    }
    JsonValue context = JsonValue::Array();
    context.push_back(std::string(kEpcisContextUrl));
    context.push_back(std::move(prefixes));
    return JsonValue::Object()
        .set("@context", std::move(context))
        .set("type", "EPCISDocument")
        .set("schemaVersion", "2.0")
        .set("creationDate", FormatUtcTime(creation_time))
        .set("epcisBody", JsonValue::Object().set("eventList", std::move(events)));
  }

 private:
  std::string Party(const std::string& org) const {
    auto it = party_gln_.find(org);
    if (it != party_gln_.end()) return "https://id.gs1.org/417/" + it->second;
    return std::string(kPedigreeNamespace) + "org:" + provenance::PercentEncode(org);
  }

  JsonValue Despatch(const std::string& sender, const std::string& advice) const {
    auto it = party_gln_.find(sender);
    std::string id =
        it != party_gln_.end()
            ? "urn:epcglobal:cbv:bt:" + it->second + ":" + provenance::PercentEncode(advice)
            : std::string(kPedigreeNamespace) + "desadv:" + provenance::PercentEncode(sender) +
                  ":" + provenance::PercentEncode(advice);
    JsonValue list = JsonValue::Array();
    list.push_back(JsonValue::Object().set("type", "desadv").set("bizTransaction", id));
    return list;
  }

  JsonValue PartyList(const char* member, const std::string& org) const {
    JsonValue list = JsonValue::Array();
    list.push_back(JsonValue::Object().set("type", "owning_party").set(member, Party(org)));
    return list;
  }

  JsonValue Base(const LedgerEvent& e, const char* type) const {
    JsonValue ev = JsonValue::Object()
                       .set("type", type)
                       .set("eventTime", StrOr(e.payload, "time"))
                       .set("eventTimeZoneOffset", "+00:00");
    if (e.sequenced_at > 0) ev.set("recordTime", FormatUtcTime(e.sequenced_at));
    return ev;
  }

  // The mapping table of docs/epcis.md; nothing for kinds that are not EPCIS events.
  std::optional<JsonValue> Event(const LedgerEvent& e) const {
    const JsonValue& p = e.payload;
    const std::string kind = StrOr(p, "kind");
    const std::string org = StrOr(p, "org");
    JsonValue ev;
    if (kind == "commission") {
      ev = Base(e, "ObjectEvent");
      JsonValue epcs = JsonValue::Array();
      const std::string gtin = StrOr(p, "gtin");
      if (const JsonValue* serials = p.find("serials"); serials != nullptr && serials->is_array()) {
        for (const JsonValue& s : serials->as_array()) {
          if (s.is_string()) {
            epcs.push_back("https://id.gs1.org/01/" + gtin + "/21/" +
                           provenance::PercentEncode(s.as_string()));
          }
        }
      }
      ev.set("epcList", std::move(epcs))
          .set("action", "ADD")
          .set("bizStep", "commissioning")
          .set("disposition", "active");
      if (const std::string* loc = Str(p, "location")) {
        ev.set("readPoint", Location(*loc)).set("bizLocation", Location(*loc));
      }
      JsonValue ilmd = JsonValue::Object().set("cbvmda:lotNumber", StrOr(p, "lot"));
      auto exp = expiry_.find(gtin + "|" + StrOr(p, "lot"));
      if (exp != expiry_.end()) ilmd.set("cbvmda:itemExpirationDate", exp->second);
      ev.set("ilmd", std::move(ilmd));
    } else if (kind == "aggregate" || kind == "disaggregate") {
      bool add = kind == "aggregate";
      ev = Base(e, "AggregationEvent");
      ev.set("parentID", EpcUri(StrOr(p, "parent")));
      const JsonValue* children = p.find("children");
      if (children != nullptr) ev.set("childEPCs", EpcArray(children));
      ev.set("action", add ? "ADD" : "DELETE").set("bizStep", add ? "packing" : "unpacking");
    } else if (kind == "ship") {
      ev = Base(e, "ObjectEvent");
      ev.set("epcList", EpcArray(p.find("epcs")))
          .set("action", "OBSERVE")
          .set("bizStep", "shipping")
          .set("disposition", "in_transit")
          .set("bizTransactionList", Despatch(org, StrOr(p, "despatchAdvice")))
          .set("sourceList", PartyList("source", org));
      JsonValue dest = PartyList("destination", StrOr(p, "to"));
      if (const std::string* loc = Str(p, "toLocation")) {
        dest.push_back(JsonValue::Object()
                           .set("type", "location")
                           .set("destination", "https://id.gs1.org/414/" + *loc));
      }
      ev.set("destinationList", std::move(dest));
    } else if (kind == "receive" || kind == "sensor") {
      const std::string from = StrOr(p, "from");
      const std::string advice = StrOr(p, "despatchAdvice");
      auto ship = shipments_.find(from + "|" + advice);
      ev = Base(e, "ObjectEvent");
      ev.set("epcList", ship != shipments_.end() ? ship->second.epcs : JsonValue::Array())
          .set("action", "OBSERVE");
      if (kind == "receive") {
        ev.set("bizStep", "receiving").set("disposition", "in_progress");
        if (const std::string* loc = Str(p, "location")) {
          ev.set("readPoint", Location(*loc)).set("bizLocation", Location(*loc));
        }
      } else {
        ev.set("bizStep", "sensor_reporting");
      }
      ev.set("bizTransactionList", Despatch(from, advice));
      if (kind == "receive") {
        ev.set("sourceList", PartyList("source", from))
            .set("destinationList", PartyList("destination", org));
      } else {
        ev.set("sensorElementList", Sensors(p));
      }
    } else if (kind == "decommission" || kind == "undo") {
      ev = Base(e, "ObjectEvent");
      ev.set("epcList", EpcArray(p.find("epcs"))).set("action", "OBSERVE");
      const std::string status = kind == "undo" ? "active" : StrOr(p, "status");
      auto [step, disposition] = StatusVocabulary(status);
      if (!step.empty()) ev.set("bizStep", step);
      ev.set("disposition", disposition);
      if (const std::string* loc = Str(p, "location")) ev.set("readPoint", Location(*loc));
      ev.set("pedigree:status", kind == "undo" ? "undo" : status);
    } else if (kind == "verify") {
      ev = Base(e, "ObjectEvent");
      ev.set("epcList", EpcArray(p.find("epcs")))
          .set("action", "OBSERVE")
          .set("bizStep", "inspecting");
      if (const std::string* loc = Str(p, "location")) ev.set("readPoint", Location(*loc));
      if (const JsonValue* v = p.find("verified"); v != nullptr && v->is_bool()) {
        ev.set("pedigree:verified", *v);
      }
    } else {
      return std::nullopt;
    }
    ev.set("pedigree:org", org);
    ev.set(std::string(kLedgerIndexMember), static_cast<int64_t>(e.index));
    return ev;
  }

  JsonValue Sensors(const JsonValue& p) const {
    JsonValue list = JsonValue::Array();
    if (const JsonValue* sel = p.find("sensorElementList"); sel != nullptr && sel->is_array()) {
      // The element as the logger wrote it, its pedigree:deviceSignature included, so that
      // the signature verifies from the export (docs/epcis.md, "Device-signed sensor data").
      for (const JsonValue& element : sel->as_array()) {
        if (element.is_object()) list.push_back(provenance::SensorElementAsEpcis(element));
      }
    } else if (const JsonValue* readings = p.find("readings");
               readings != nullptr && readings->is_array()) {
      JsonValue reports = JsonValue::Array();
      for (const JsonValue& r : readings->as_array()) {
        const JsonValue* value = r.find("value");
        if (value == nullptr || !value->is_int()) continue;
        reports.push_back(JsonValue::Object()
                              .set("type", "Temperature")
                              .set("time", StrOr(r, "time"))
                              .set("value", static_cast<double>(value->as_int()) / 10.0)
                              .set("uom", "CEL"));
      }
      list.push_back(JsonValue::Object().set("sensorReport", std::move(reports)));
    }
    return list;
  }

  static std::pair<std::string, std::string> StatusVocabulary(const std::string& status) {
    if (status == "supplied") return {"decommissioning", "dispensed"};
    if (status == "destroyed") return {"destroying", "destroyed"};
    if (status == "stolen") return {"decommissioning", "stolen"};
    if (status == "sample" || status == "free_sample") {
      return {"decommissioning", "non_sellable_other"};
    }
    if (status == "locked") return {"holding", "non_sellable_other"};
    if (status == "exported" || status == "checked_out") return {"decommissioning", "inactive"};
    if (status == "active") return {"", "active"};
    return {"decommissioning", "inactive"};
  }

  const std::vector<LedgerEvent>& entries_;
  std::map<std::string, std::string> party_gln_;
  std::map<std::string, std::string> expiry_;
  std::map<std::string, Shipment> shipments_;
};

}  // namespace

HashOptions PedigreeHashOptions(HashProfile profile) {
  HashOptions o;
  o.profile = profile;
  o.context = {{std::string(kPedigreePrefix), std::string(kPedigreeNamespace)}};
  o.ignore = {std::string(kLedgerIndexMember), std::string(kProofMember)};
  return o;
}

Result<JsonValue> ExportDocument(const std::vector<LedgerEvent>& entries, int64_t creation_time,
                                 ExportOptions options) {
  Exporter exporter(entries);
  return exporter.Document(creation_time, options);
}

std::vector<std::pair<std::string, std::string>> KeptPrefixes(const JsonValue& payload) {
  std::vector<std::pair<std::string, std::string>> out;
  const JsonValue* context = payload.find(kKeptContextMember);
  if (context == nullptr || !context->is_object()) return out;
  for (const auto& [prefix, iri] : context->as_object()) {
    if (iri.is_string()) out.emplace_back(prefix, iri.as_string());
  }
  return out;
}

Result<std::optional<JsonValue>> KeptEvent(const LedgerEvent& entry) {
  const JsonValue* kept = entry.payload.find(kKeptEventMember);
  if (kept == nullptr) return std::optional<JsonValue>();
  const std::string at =
      "entry " + std::to_string(entry.index) + " " + std::string(kKeptEventMember);
  if (!kept->is_string()) return Fail(Error("epcis.invalid_event", at + " is not a string"));
  auto event = ParseJson(kept->as_string());
  if (!event || !event->is_object()) {
    return Fail(Error("epcis.invalid_event", at + " is no JSON object"));
  }
  HashOptions hash = PedigreeHashOptions();
  for (auto& p : KeptPrefixes(entry.payload)) hash.context.push_back(std::move(p));
  auto id = EventHashId(*event, hash);
  if (!id) return Fail(Error("epcis.invalid_event", at + ": " + id.error().message()));
  // eventID first for readers; the hash leaves out eventID, recordTime and the ledger index,
  // so what is replaced or added here cannot change it.
  JsonValue out = JsonValue::Object().set("eventID", *id);
  for (auto& [k, v] : event->as_object()) {
    if (k == "eventID" || k == "recordTime" || k == kLedgerIndexMember || k == kProofMember) {
      continue;
    }
    out.set(k, std::move(v));
  }
  if (entry.sequenced_at > 0) out.set("recordTime", FormatUtcTime(entry.sequenced_at));
  out.set(std::string(kLedgerIndexMember), static_cast<int64_t>(entry.index));
  return std::optional<JsonValue>(std::move(out));
}

}  // namespace pedigree::scanner::epcis
