// The EPCIS 2.0 binding (docs/epcis.md): `GET /v1/epcis/events?epc=CODE`, the history of a
// pack, case or pallet as an EPCIS 2.0 JSON-LD EPCISDocument, for those who may read its
// report. The mapping itself is scanner::epcis::ExportDocument.
#include <string>
#include <vector>

#include "api_scope.h"
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

}  // namespace

Status AddEpcisRoutes(Router& router, SupplyNode& node) {
  const Access readers = Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator"})
                             .Scoped("epc", EpcScope(node));
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
