// EPCIS 2.0 JSON events as unsigned pedigree payloads (docs/epcis.md, "Capture"). The event
// hash ID becomes the command's clientId: the ledger's idempotency by (org, clientId) then
// makes a captured event appear once, whatever its serialisation.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::scanner::epcis {
namespace {

Error Invalid(const std::string& message, const std::string& pointer) {
  return Error("epcis.invalid_event", message).at_field(pointer);
}

// "shipping", "urn:epcglobal:cbv:bizstep:shipping", "cbv:BizStep-shipping" or
// "https://ref.gs1.org/cbv/BizStep-shipping" -> "shipping".
std::string CbvWord(const JsonValue* v, std::string_view kind, std::string_view urn_kind) {
  if (v == nullptr || !v->is_string()) return "";
  std::string s = v->as_string();
  for (std::string prefix :
       {"https://ref.gs1.org/cbv/" + std::string(kind) + "-", "cbv:" + std::string(kind) + "-",
        "urn:epcglobal:cbv:" + std::string(urn_kind) + ":"}) {
    if (s.starts_with(prefix)) return s.substr(prefix.size());
  }
  return s;
}

// A pack (Digital Link URI) or a case or pallet (18-digit SSCC) from any EPC form.
Result<std::string> PedigreeEpc(const JsonValue& v, const std::string& pointer) {
  if (!v.is_string()) return Fail(Invalid("an EPC must be a string", pointer));
  ParseOptions options;
  options.check_associations = false;
  auto data = ParseGs1(v.as_string(), options);
  if (!data) {
    return Fail(
        Invalid("'" + v.as_string() + "' is no GS1 EPC: " + data.error().message(), pointer));
  }
  if (auto pack = data->pack_id()) return pack->DigitalLinkUri();
  if (auto sscc = data->sscc()) return sscc->value();
  return Fail(Error("epcis.unsupported", "'" + v.as_string() +
                                             "' is neither a pack (SGTIN) nor a case or pallet "
                                             "(SSCC)")
                  .at_field(pointer));
}

Result<JsonValue> EpcList(const JsonValue* list, const std::string& pointer) {
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return Fail(Invalid("a non-empty list of EPCs is needed", pointer));
  }
  JsonValue out = JsonValue::Array();
  size_t i = 0;
  for (const JsonValue& e : list->as_array()) {
    PEDIGREE_ASSIGN(epc, PedigreeEpc(e, pointer + "/" + std::to_string(i++)));
    out.push_back(*epc);
  }
  return out;
}

// The GLN of bizLocation (else readPoint): an SGLN URN or a Digital Link with AI 414.
Result<std::string> Location(const JsonValue& event, const std::string& pointer) {
  for (const char* member : {"bizLocation", "readPoint"}) {
    const JsonValue* loc = event.find(member);
    if (loc == nullptr) continue;
    const JsonValue* id = loc->find("id");
    std::string p = pointer + "/" + member + "/id";
    if (id == nullptr || !id->is_string()) return Fail(Invalid("the location needs an id", p));
    ParseOptions options;
    options.check_associations = false;
    auto data = ParseGs1(id->as_string(), options);
    if (!data || !data->gln()) {
      return Fail(Invalid("'" + id->as_string() + "' is no GLN location (sgln or .../414/...)", p));
    }
    return data->gln()->value();
  }
  return Fail(
      Invalid("the event needs a bizLocation or readPoint (a GLN)", pointer + "/readPoint"));
}

// The GLN of a party or location id: a Digital Link (414, 417), an sgln or pgln URN.
std::optional<std::string> GlnOf(const std::string& id) {
  ParseOptions options;
  options.check_associations = false;
  auto data = ParseGs1(NormaliseEpc(id), options);
  if (!data || !data->gln()) return std::nullopt;
  return data->gln()->value();
}

// "%2F" -> "/": our exports percent-encode org ids and despatch advices inside URIs.
std::string PercentDecoded(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// The organisation of the first party of `member` (sourceList, destinationList) whose type is
// owning_party, else possessing_party: a party GLN the registry resolves, or pedigree's own
// "urn:pedigree:epcis:org:{id}" for an organisation without GLNs. `gln` receives the GLN.
Result<std::string> PartyOrg(const JsonValue& event, const char* member, const char* key,
                             const std::string& pointer, const GlnOwner& owner,
                             std::string* gln = nullptr) {
  const JsonValue* list = event.find(member);
  std::string p = pointer + "/" + member;
  if (list == nullptr || !list->is_array()) {
    return Fail(Invalid(std::string(member) + " with an owning_party is required", p));
  }
  for (const char* wanted : {"owning_party", "possessing_party"}) {
    size_t i = 0;
    for (const JsonValue& e : list->as_array()) {
      std::string at = p + "/" + std::to_string(i++) + "/" + key;
      const JsonValue* type = e.find("type");
      if (type == nullptr || !type->is_string()) continue;
      if (CbvWord(type, "SDT", "sdt") != wanted) continue;
      const JsonValue* id = e.find(key);
      if (id == nullptr || !id->is_string()) return Fail(Invalid("the party needs an id", at));
      const std::string& uri = id->as_string();
      const std::string own = std::string(kPedigreeNamespace) + "org:";
      if (uri.starts_with(own) && uri.size() > own.size()) {
        return PercentDecoded(std::string_view(uri).substr(own.size()));
      }
      std::optional<std::string> g = GlnOf(uri);
      if (!g) return Fail(Invalid("'" + uri + "' is no party GLN (pgln or .../417/...)", at));
      PEDIGREE_ASSIGN(org, owner(*g));
      if (!*org) {
        return Fail(Error("event.unknown_org",
                          "GLN " + *g + " (" + uri + ") is registered by no organisation")
                        .at_field(at));
      }
      if (gln != nullptr) *gln = *g;
      return **org;
    }
  }
  return Fail(Invalid(std::string(member) + " names no owning_party or possessing_party", p));
}

// The location GLN of destinationList (type location), empty when it names none.
Result<std::string> DestinationLocation(const JsonValue& event, const std::string& pointer) {
  const JsonValue* list = event.find("destinationList");
  size_t i = 0;
  for (const JsonValue& e : list->as_array()) {
    std::string at = pointer + "/destinationList/" + std::to_string(i++) + "/destination";
    const JsonValue* type = e.find("type");
    if (type == nullptr || CbvWord(type, "SDT", "sdt") != "location") continue;
    const JsonValue* id = e.find("destination");
    std::optional<std::string> g =
        id != nullptr && id->is_string() ? GlnOf(id->as_string()) : std::nullopt;
    if (!g)
      return Fail(Invalid("the destination location must be a GLN (sgln or .../414/...)", at));
    return *g;
  }
  return std::string();
}

// The despatch advice of the desadv bizTransaction: "urn:epcglobal:cbv:bt:{GLN}:{advice}",
// pedigree's "urn:pedigree:epcis:desadv:{org}:{advice}", else the whole identifier. With
// `sender`, the organisation that issued it (the shipment's sender, as the export names it):
// the GLN through `owner`, pedigree's org id as it is; a bare identifier names no sender and
// is refused then.
Result<std::string> DespatchAdvice(const JsonValue& event, const std::string& pointer,
                                   std::string* sender = nullptr, const GlnOwner* owner = nullptr) {
  const JsonValue* list = event.find("bizTransactionList");
  std::string p = pointer + "/bizTransactionList";
  if (list != nullptr && list->is_array()) {
    size_t i = 0;
    for (const JsonValue& e : list->as_array()) {
      std::string at = p + "/" + std::to_string(i++) + "/bizTransaction";
      const JsonValue* type = e.find("type");
      if (type == nullptr || CbvWord(type, "BTT", "btt") != "desadv") continue;
      const JsonValue* id = e.find("bizTransaction");
      if (id == nullptr || !id->is_string() || id->as_string().empty()) {
        return Fail(Invalid("the desadv needs an identifier", at));
      }
      std::string_view s = id->as_string();
      for (std::string_view prefix : {std::string_view("urn:epcglobal:cbv:bt:"),
                                      std::string_view("urn:pedigree:epcis:desadv:")}) {
        if (!s.starts_with(prefix)) continue;
        size_t colon = s.find(':', prefix.size());
        if (colon == std::string_view::npos || colon + 1 == s.size()) {
          return Fail(Invalid("'" + std::string(s) + "' names no document after the party", at));
        }
        if (sender != nullptr) {
          const std::string party = PercentDecoded(s.substr(prefix.size(), colon - prefix.size()));
          if (prefix.starts_with("urn:pedigree:")) {
            *sender = party;
          } else {
            std::optional<std::string> gln = GlnOf("https://id.gs1.org/417/" + party);
            if (!gln) {
              return Fail(Invalid("the sender '" + party + "' of '" + std::string(s) +
                                      "' is no GLN (13 digits with their check digit)",
                                  at));
            }
            if (owner == nullptr || !*owner) {
              return Fail(Error("epcis.unsupported", "the sender GLN " + *gln + " of '" +
                                                         std::string(s) +
                                                         "' cannot be resolved here: capture "
                                                         "needs the node's registry")
                              .at_field(at));
            }
            PEDIGREE_ASSIGN(org, (*owner)(*gln));
            if (!*org) {
              return Fail(Error("event.unknown_org", "GLN " + *gln + " (the sender of '" +
                                                         std::string(s) +
                                                         "') is registered by no organisation")
                              .at_field(at));
            }
            *sender = **org;
          }
        }
        return PercentDecoded(s.substr(colon + 1));
      }
      if (sender != nullptr) {
        return Fail(Invalid("'" + std::string(s) +
                                "' names no sender: a sensor report names its shipment as "
                                "urn:epcglobal:cbv:bt:{sender GLN}:{advice} (or pedigree's "
                                "urn:pedigree:epcis:desadv:{org}:{advice})",
                            at));
      }
      return std::string(s);
    }
  }
  return Fail(Invalid("a bizTransaction of type desadv (the despatch advice) is required", p));
}

// The prefixes of `options.context` (the document's @context, pedigree's own left out: every
// export declares it) that a member name anywhere in `v` uses ("example:temperature").
void UsedPrefixes(const JsonValue& v, const HashOptions& options, JsonValue& out) {
  if (v.is_array()) {
    for (const JsonValue& e : v.as_array()) UsedPrefixes(e, options, out);
    return;
  }
  if (!v.is_object()) return;
  for (const auto& [name, member] : v.as_object()) {
    const size_t colon = name.find(':');
    if (colon != std::string::npos && !name.starts_with("@")) {
      const std::string prefix = name.substr(0, colon);
      for (const auto& [p, iri] : options.context) {
        if (p != prefix || out.find(p) != nullptr) continue;
        if (p == kPedigreePrefix && iri == kPedigreeNamespace) continue;
        out.set(p, iri);
      }
    }
    UsedPrefixes(member, options, out);
  }
}

// The sensorElementList of a `sensor` command from its EPCIS form: each element kept member
// for member (a logger's pedigree:deviceSignature and extensions included), the JSON numbers
// of its sensorReports (provenance::IsSensorNumberMember) written as the decimal text of
// their JCS form, which is what a signed payload must hold (docs/epcis.md, "What the logger
// signs"): the element then gives the logger's signed bytes back, and the rules judge it as
// they judge an HTTP `sensor` entry.
Result<JsonValue> SensorElements(const JsonValue* list, const std::string& pointer) {
  if (list == nullptr || !list->is_array() || list->as_array().empty()) {
    return Fail(Invalid("a sensor report needs a non-empty sensorElementList", pointer));
  }
  JsonValue out = JsonValue::Array();
  size_t i = 0;
  for (const JsonValue& element : list->as_array()) {
    const std::string at = pointer + "/" + std::to_string(i++);
    if (!element.is_object()) return Fail(Invalid("a sensorElement is an object", at));
    JsonValue kept = JsonValue::Object();
    for (const auto& [name, member] : element.as_object()) {
      if (name != "sensorReport" || !member.is_array()) {
        kept.set(name, member);
        continue;
      }
      JsonValue reports = JsonValue::Array();
      size_t j = 0;
      for (const JsonValue& report : member.as_array()) {
        const std::string rat = at + "/sensorReport/" + std::to_string(j++);
        if (!report.is_object()) return Fail(Invalid("a sensorReport is an object", rat));
        JsonValue r = JsonValue::Object();
        for (const auto& [k, v] : report.as_object()) {
          if (!provenance::IsSensorNumberMember(k) || !v.is_number()) {
            r.set(k, v);
            continue;
          }
          std::string text = Canonicalize(v);
          if (text.find_first_of("eE") != std::string::npos) {
            return Fail(Error("epcis.unsupported", k + " " + text +
                                                       " has no plain decimal form a signed "
                                                       "pedigree payload can hold")
                            .at_field(rat + "/" + k));
          }
          r.set(k, std::move(text));
        }
        reports.push_back(std::move(r));
      }
      kept.set(name, std::move(reports));
    }
    out.push_back(std::move(kept));
  }
  return out;
}

std::string StatusOf(const std::string& disposition) {
  if (disposition == "dispensed") return "supplied";
  if (disposition == "destroyed") return "destroyed";
  if (disposition == "stolen") return "stolen";
  return "";
}

}  // namespace

Result<ImportedEvent> ImportEvent(const JsonValue& event, const HashOptions& options,
                                  std::string_view pointer_prefix, const GlnOwner& gln_owner) {
  const std::string ptr(pointer_prefix);
  auto hash = EventHashId(event, options);
  if (!hash) return Fail(hash.error().at_field(ptr + hash.error().field()));
  const std::string type = event.find("type")->as_string();
  const JsonValue* action_v = event.find("action");
  const std::string action =
      action_v != nullptr && action_v->is_string() ? action_v->as_string() : "";
  const std::string step = CbvWord(event.find("bizStep"), "BizStep", "bizstep");
  const std::string disposition = CbvWord(event.find("disposition"), "Disp", "disp");

  const JsonValue* time = event.find("eventTime");
  std::string utc;
  if (time == nullptr || !time->is_string()) {
    return Fail(Invalid("eventTime is required", ptr + "/eventTime"));
  }
  {
    // The hash normalisation gives UTC milliseconds; pedigree's times are whole seconds.
    JsonValue probe = JsonValue::Object().set("type", "x").set("eventTime", *time);
    auto pre = EventPreHash(probe, options);
    const std::string marker = "eventTime=";
    size_t at = pre ? pre->find(marker) : std::string::npos;
    if (at == std::string::npos || pre->size() < at + marker.size() + 24) {
      return Fail(
          Invalid("eventTime '" + time->as_string() + "' is no date-time", ptr + "/eventTime"));
    }
    std::string ms = pre->substr(at + marker.size(), 24);
    if (ms.size() != 24 || ms[23] != 'Z') {
      return Fail(
          Invalid("eventTime '" + time->as_string() + "' is no date-time", ptr + "/eventTime"));
    }
    utc = ms.substr(0, 19) + "Z";
  }

  // An error declaration retracts an event: pedigree's ledger has no counterpart for that
  // (undo restores a pack's status, it does not withdraw an event), and dropping it would
  // record as true what the partner declared false.
  if (const JsonValue* declared = event.find("errorDeclaration"); declared != nullptr) {
    const JsonValue* reason = declared->is_object() ? declared->find("reason") : nullptr;
    return Fail(
        Error("epcis.unsupported",
              "pedigree records no errorDeclaration (reason '" +
                  (reason != nullptr && reason->is_string() ? reason->as_string() : std::string()) +
                  "'): its ledger withdraws no event; undo restores a pack's status "
                  "(docs/epcis.md lists what it captures)")
            .at_field(ptr + "/errorDeclaration"));
  }

  JsonValue payload = JsonValue::Object();
  if (type == "ObjectEvent" && action == "ADD" && step == "commissioning") {
    PEDIGREE_ASSIGN(epcs, EpcList(event.find("epcList"), ptr + "/epcList"));
    std::string gtin;
    JsonValue serials = JsonValue::Array();
    size_t i = 0;
    for (const JsonValue& e : epcs->as_array()) {
      std::string p = ptr + "/epcList/" + std::to_string(i++);
      auto data = ParseGs1(e.as_string());
      auto pack = data ? data->pack_id() : std::nullopt;
      if (!pack) return Fail(Invalid("commissioning takes packs (SGTIN) only", p));
      if (!gtin.empty() && pack->gtin().value() != gtin) {
        return Fail(Invalid("all EPCs of one commissioning must share the GTIN " + gtin, p));
      }
      gtin = pack->gtin().value();
      serials.push_back(pack->serial().value());
    }
    const JsonValue* ilmd = event.find("ilmd");
    const JsonValue* lot = ilmd != nullptr ? ilmd->find("cbvmda:lotNumber") : nullptr;
    if (lot == nullptr || !lot->is_string() || lot->as_string().empty()) {
      return Fail(Invalid("commissioning needs ilmd cbvmda:lotNumber (the batch)",
                          ptr + "/ilmd/cbvmda:lotNumber"));
    }
    PEDIGREE_ASSIGN(location, Location(event, ptr));
    payload.set("kind", "commission")
        .set("gtin", gtin)
        .set("lot", lot->as_string())
        .set("serials", std::move(serials))
        .set("location", *location);
  } else if (type == "AggregationEvent" && (action == "ADD" || action == "DELETE")) {
    const JsonValue* parent = event.find("parentID");
    if (parent == nullptr)
      return Fail(Invalid("parentID (an SSCC) is required", ptr + "/parentID"));
    PEDIGREE_ASSIGN(p, PedigreeEpc(*parent, ptr + "/parentID"));
    if (p->size() != 18) return Fail(Invalid("parentID must be an SSCC", ptr + "/parentID"));
    payload.set("kind", action == "ADD" ? "aggregate" : "disaggregate").set("parent", *p);
    const JsonValue* children = event.find("childEPCs");
    if (action == "ADD" || (children != nullptr && !children->as_array().empty())) {
      PEDIGREE_ASSIGN(c, EpcList(children, ptr + "/childEPCs"));
      payload.set("children", *c);
    }
  } else if (type == "ObjectEvent" && action == "OBSERVE" &&
             (step == "shipping" || step == "receiving") && gln_owner) {
    PEDIGREE_ASSIGN(advice, DespatchAdvice(event, ptr));
    if (step == "shipping") {
      PEDIGREE_ASSIGN(epcs, EpcList(event.find("epcList"), ptr + "/epcList"));
      std::string party_gln;
      PEDIGREE_ASSIGN(
          to, PartyOrg(event, "destinationList", "destination", ptr, gln_owner, &party_gln));
      PEDIGREE_ASSIGN(location, DestinationLocation(event, ptr));
      // No location: the receiving party's own GLN (registry GLNs name parties and places).
      std::string to_location = location->empty() ? party_gln : *location;
      if (to_location.empty()) {
        return Fail(Invalid("destinationList needs a location GLN", ptr + "/destinationList"));
      }
      payload.set("kind", "ship")
          .set("epcs", *epcs)
          .set("to", *to)
          .set("toLocation", to_location)
          .set("despatchAdvice", *advice);
    } else {
      PEDIGREE_ASSIGN(from, PartyOrg(event, "sourceList", "source", ptr, gln_owner));
      PEDIGREE_ASSIGN(location, Location(event, ptr));
      payload.set("kind", "receive")
          .set("from", *from)
          .set("despatchAdvice", *advice)
          .set("location", *location);
    }
  } else if (type == "ObjectEvent" && action == "OBSERVE" && step == "sensor_reporting" &&
             event.find("sensorElementList") != nullptr) {
    // The shipment is the one of the despatch advice (as for receiving, the epcList the
    // export writes is not read: the readings belong to the whole shipment).
    std::string from;
    PEDIGREE_ASSIGN(advice, DespatchAdvice(event, ptr, &from, &gln_owner));
    PEDIGREE_ASSIGN(elements,
                    SensorElements(event.find("sensorElementList"), ptr + "/sensorElementList"));
    payload.set("kind", "sensor")
        .set("from", from)
        .set("despatchAdvice", *advice)
        .set("sensorElementList", std::move(*elements));
  } else if (type == "ObjectEvent" && action == "OBSERVE" &&
             (event.find("pedigree:status") != nullptr || !StatusOf(disposition).empty())) {
    const JsonValue* own = event.find("pedigree:status");
    std::string status =
        own != nullptr && own->is_string() ? own->as_string() : StatusOf(disposition);
    if (status == "undo") {
      payload.set("kind", "undo");
    } else {
      payload.set("kind", "decommission").set("status", status);
    }
    PEDIGREE_ASSIGN(epcs, EpcList(event.find("epcList"), ptr + "/epcList"));
    PEDIGREE_ASSIGN(location, Location(event, ptr));
    payload.set("epcs", *epcs).set("location", *location);
  } else {
    return Fail(Error("epcis.unsupported",
                      "pedigree records no " + type + " " + action +
                          (step.empty() ? "" : " with bizStep " + step) +
                          (disposition.empty() ? "" : " and disposition " + disposition) +
                          " yet (docs/epcis.md lists what it captures)")
                    .at_field(ptr.empty() ? "/type" : ptr + "/type"));
  }
  payload.set("time", utc);
  payload.set("clientId", "epcis-" + hash->substr(std::string_view("ni:///sha-256;").size(), 64));
  // What the partner sent, in the form that was hashed, signed with the command: the export
  // writes it back, so the event keeps its ID wherever it travels.
  payload.set(std::string(kKeptEventMember), Canonicalize(event));
  JsonValue prefixes = JsonValue::Object();
  UsedPrefixes(event, options, prefixes);
  if (prefixes.size() > 0) payload.set(std::string(kKeptContextMember), std::move(prefixes));
  return ImportedEvent{*hash, std::move(payload)};
}

}  // namespace pedigree::scanner::epcis
