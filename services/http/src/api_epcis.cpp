// The EPCIS 2.0 binding (docs/epcis.md): `GET /v1/epcis/events?epc=CODE`, the history of a
// pack, case or pallet as an EPCIS 2.0 JSON-LD EPCISDocument, for those who may read its
// report. The mapping itself is scanner::epcis::ExportDocument.
#include <string>
#include <vector>

#include "api_scope.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/http/api.h"
#include "pedigree/log/envelope.h"
#include "pedigree/reports/container_report.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/epcis.h"

namespace pedigree::services {

Result<JsonValue> ExportEpcisHistory(log::Ledger& ledger, std::string_view code,
                                     int64_t creation_time) {
  Result<reports::PackEvidence> evidence = reports::ParsePackCode(code).has_value()
                                               ? reports::GatherPackEvidence(ledger, code)
                                               : reports::GatherContainerEvidence(ledger, code);
  if (!evidence) return std::unexpected(evidence.error());
  std::vector<scanner::epcis::LedgerEvent> entries;
  for (const reports::EvidenceEntry& e : evidence->entries) {
    if (e.envelope.empty()) continue;
    PEDIGREE_ASSIGN(opened, log::OpenEntry(e.envelope));
    entries.push_back({e.index, opened->payload, opened->sequenced_at.value_or(0)});
  }
  return scanner::epcis::ExportDocument(entries, creation_time);
}

namespace {

// The `epc` parameter read as the `code` the pack and container scopes take: a pack code is
// judged by the pack rule, anything else by the container rule (docs/api.md, "Access rules").
ScopeCheck EpcScope(SupplyNode& node) {
  ScopeCheck pack = api::PackScope(node, api::NamedBy::kQueryCode);
  ScopeCheck container = api::ContainerScope(node, api::NamedBy::kQueryCode);
  return [pack, container](const HttpRequest& req) -> Status {
    auto it = req.query.find("epc");
    if (it == req.query.end() || it->second.empty()) {
      return Fail(
          Error("request.missing_parameter", "parameter 'epc' is required").at_field("epc"));
    }
    HttpRequest named = req;
    named.query["code"] = it->second;
    Status s = reports::ParsePackCode(it->second).has_value() ? pack(named) : container(named);
    if (!s) return Fail(s.error().at_field("epc"));
    return s;
  };
}

// An error as RFC 7807 application/problem+json with the EPCIS exception type (EPCIS 2.0 REST
// bindings), our registered code and the JSON pointer of the offending member.
HttpResponse Problem(const Error& e, std::vector<std::pair<std::string, JsonValue>> extra = {}) {
  const ErrorCodeInfo* info = FindErrorCode(e.code());
  int status = info != nullptr ? info->http_status : 500;
  std::string type = "epcisException:ImplementationException";
  if (status == 400 || status == 422 || status == 409) {
    type = "epcisException:ValidationException";
  } else if (status == 401 || status == 403) {
    type = "epcisException:SecurityException";
  } else if (status == 404) {
    type = "epcisException:NoSuchResourceException";
  } else if (status == 413) {
    type = "epcisException:CaptureLimitExceededException";
  }
  JsonValue body =
      JsonValue::Object()
          .set("type", type)
          .set("title", std::string(info != nullptr ? info->meaning : "internal error"))
          .set("status", status)
          .set("detail", status >= 500 ? std::string("internal error") : e.message())
          .set("code", e.code());
  if (!e.field().empty()) body.set("pointer", e.field());
  for (auto& [k, v] : extra) body.set(k, std::move(v));
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = Canonicalize(body);
  if (status >= 500) r.internal_cause = e.ToString();
  return r;
}

scanner::epcis::HashOptions OptionsFor(const JsonValue& carrier) {
  scanner::epcis::HashOptions o = scanner::epcis::PedigreeHashOptions();
  for (auto& p : scanner::epcis::ContextPrefixes(carrier)) o.context.push_back(p);
  return o;
}

// Party GLNs of captured shipping and receiving events, resolved through the registry.
scanner::epcis::GlnOwner GlnOwnerOf(SupplyNode& node) {
  return [&node](std::string_view gln) -> Result<std::optional<std::string>> {
    return node.Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
  };
}

// The most events one document may carry (GS1-EPCIS-Capture-Limit).
constexpr size_t kCaptureLimit = 10000;
// The capture route's body limit (a 10,000-event document is several MiB; the server's default
// limit is for commands).
constexpr size_t kCaptureBodyLimit = 64u << 20;

}  // namespace

Status AddEpcisRoutes(Router& router, SupplyNode& node) {
  const Access readers = Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator"})
                             .Scoped("epc", EpcScope(node));
  const Access holders = Access::AnyOf({"manufacturer", "wholesaler", "dispenser"});
  // One event, synchronous: 201 with its eventID and ledger index; the same event again
  // (any serialisation) answers the first index and appends nothing.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/epcis/events", holders,
      [&node](const HttpRequest& req) {
        auto event = ParseJson(req.body);
        if (!event)
          return Problem(Error("epcis.invalid_event", event.error().message()).at_field(""));
        auto imported =
            scanner::epcis::ImportEvent(*event, OptionsFor(*event), "", GlnOwnerOf(node));
        if (!imported) return Problem(imported.error());
        auto index = node.SubmitAs(req.principal->org_id, imported->payload);
        if (!index) return Problem(index.error());
        HttpResponse r;
        r.status = 201;
        r.body = Canonicalize(JsonValue::Object()
                                  .set("eventID", imported->event_id)
                                  .set("index", static_cast<int64_t>(*index))
                                  .set("kind", *imported->payload.find("kind")));
        r.headers["Location"] = "/v1/log/entries/" + std::to_string(*index);
        r.headers["GS1-EPCIS-Version"] = "2.0.0";
        return r;
      },
      BodyKind::kJson));
  // A document, answered synchronously (no capture job yet): every event is mapped first and
  // one malformed or unsupported event writes nothing; then they are appended in order, and a
  // rule's refusal of event k stops there (events before k stay written: no transaction spans
  // several entries yet) and names them.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/epcis/capture", holders,
      [&node](const HttpRequest& req) {
        auto doc = ParseJson(req.body);
        if (!doc) return Problem(Error("epcis.invalid_event", doc.error().message()).at_field(""));
        const JsonValue* body = doc->find("epcisBody");
        const JsonValue* list = body != nullptr ? body->find("eventList") : nullptr;
        if (!doc->is_object() || list == nullptr || !list->is_array()) {
          return Problem(Error("epcis.invalid_event", "an EPCISDocument with epcisBody.eventList")
                             .at_field("/epcisBody/eventList"));
        }
        if (list->as_array().size() > kCaptureLimit) {
          return Problem(Error("epcis.invalid_event", "the document holds " +
                                                          std::to_string(list->as_array().size()) +
                                                          " events, more than 10000")
                             .at_field("/epcisBody/eventList"));
        }
        scanner::epcis::HashOptions options = OptionsFor(*doc);
        const scanner::epcis::GlnOwner owner = GlnOwnerOf(node);
        std::vector<scanner::epcis::ImportedEvent> imported;
        for (size_t i = 0; i < list->as_array().size(); ++i) {
          auto one = scanner::epcis::ImportEvent(
              list->as_array()[i], options, "/epcisBody/eventList/" + std::to_string(i), owner);
          if (!one) return Problem(one.error());
          imported.push_back(std::move(*one));
        }
        JsonValue results = JsonValue::Array();
        for (size_t i = 0; i < imported.size(); ++i) {
          auto index = node.SubmitAs(req.principal->org_id, imported[i].payload);
          if (!index) {
            Error e = index.error();
            return Problem(e.at_field("/epcisBody/eventList/" + std::to_string(i) +
                                      (e.field().empty() ? "" : "/" + e.field())),
                           {{"written", std::move(results)}});
          }
          results.push_back(JsonValue::Object()
                                .set("eventID", imported[i].event_id)
                                .set("index", static_cast<int64_t>(*index))
                                .set("kind", *imported[i].payload.find("kind")));
        }
        HttpResponse r;
        r.status = 201;
        r.body = Canonicalize(JsonValue::Object().set("events", std::move(results)));
        r.headers["GS1-EPCIS-Version"] = "2.0.0";
        r.headers["GS1-EPCIS-Capture-Limit"] = std::to_string(kCaptureLimit);
        return r;
      },
      BodyKind::kJson, kCaptureBodyLimit));

  return router.Add("GET", "/v1/epcis/events", readers, [&node](const HttpRequest& req) {
    auto doc = ExportEpcisHistory(node.ledger(), req.query.at("epc"), node.Now());
    if (!doc) return ErrorResponse(doc.error());
    HttpResponse r;
    r.content_type = "application/ld+json";
    r.body = Canonicalize(*doc);
    r.headers["GS1-EPCIS-Version"] = "2.0.0";
    r.headers["GS1-CBV-Version"] = "2.0.0";
    r.headers["GS1-EPC-Format"] = "Always_GS1_Digital_Link";
    r.headers["Cache-Control"] = "no-store";
    return r;
  });
}

}  // namespace pedigree::services
