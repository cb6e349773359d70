// The EPCIS 2.0 binding (docs/epcis.md): capture, `GET /v1/epcis/events?epc=CODE` (the history
// of a pack, case or pallet as an EPCIS 2.0 JSON-LD EPCISDocument, for those who may read its
// report) and the query interface (GET /v1/epcis/events with the standard parameters, the
// REST paths that fix one of them, named queries). The mapping itself is
// scanner::epcis::ExportDocument; the query engine epcis_query.h.
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "api_scope.h"
#include "epcis_query.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/http/api.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/identifiers.h"
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
    // Without `epc` the route is the query interface, which applies the rule event by event.
    if (it == req.query.end()) return Ok();
    if (it->second.empty()) {
      return Fail(Error("request.missing_parameter", "parameter 'epc' is empty").at_field("epc"));
    }
    HttpRequest named = req;
    named.query["code"] = it->second;
    Status s = reports::ParsePackCode(it->second).has_value() ? pack(named) : container(named);
    if (!s) return Fail(s.error().at_field("epc"));
    return s;
  };
}

// The `{epc}` of /v1/epcis/epcs/{epc}/events under the same rules. An EPC that is no pack or
// SSCC passes, for the handler to refuse as a QueryParameterException.
ScopeCheck EpcPathScope(SupplyNode& node) {
  ScopeCheck pack = api::PackScope(node, api::NamedBy::kQueryCode);
  ScopeCheck container = api::ContainerScope(node, api::NamedBy::kQueryCode);
  return [pack, container](const HttpRequest& req) -> Status {
    auto epc = epcis_query::CanonicalEpc(req.path_params.at("epc"));
    if (!epc) return Ok();
    HttpRequest named = req;
    named.query["code"] = *epc;
    Status s = reports::ParsePackCode(*epc).has_value() ? pack(named) : container(named);
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
  }
  if (e.code() == "epcis.query_parameter") {
    type = "epcisException:QueryParameterException";
  } else if (e.code() == "epcis.query_not_found") {
    type = "epcisException:NoSuchNameException";
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

// What the query routes share: the page-token key and the named queries (name -> parameters).
struct QueryState {
  epcis_query::PageTokens tokens;
  std::mutex mutex;
  std::map<std::string, std::map<std::string, std::string>> named;
};

bool ValidQueryName(const std::string& name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

// The target of the next page: this request's path and parameters with the new token.
std::string NextPageTarget(const HttpRequest& req, const std::string& token) {
  std::string target;
  size_t start = 1;
  while (start <= req.path.size()) {
    size_t end = req.path.find('/', start);
    if (end == std::string::npos) end = req.path.size();
    target += "/" + provenance::PercentEncode(req.path.substr(start, end - start));
    start = end + 1;
  }
  char sep = '?';
  for (const auto& [k, v] : req.query) {
    if (k == "nextPageToken") continue;
    target += sep + provenance::PercentEncode(k) + "=" + provenance::PercentEncode(v);
    sep = '&';
  }
  return target + sep + "nextPageToken=" + token;
}

// One page of the query `params` (the request's, or a named query's with the request's
// perPage and nextPageToken) as an EPCISQueryDocument; the next page in a Link header.
HttpResponse RunQuery(SupplyNode& node, const QueryState& state, const HttpRequest& req,
                      const std::map<std::string, std::string>& params,
                      const std::string& query_name) {
  auto query = epcis_query::ParseEventQuery(params);
  if (!query) return Problem(query.error());
  const std::string binding = epcis_query::Binding(req);
  std::optional<uint64_t> after;
  if (!query->page_token.empty()) {
    auto checked = state.tokens.Check(query->page_token, binding);
    if (!checked) return Problem(checked.error());
    after = *checked;
  }
  auto page = epcis_query::RunEventQuery(node, *req.principal, *query, after);
  if (!page) return Problem(page.error());
  JsonValue doc = epcis_query::QueryDocument(std::move(page->events), node.Now());
  if (!query_name.empty()) {
    doc.find("epcisBody")->find("queryResults")->set("queryName", query_name);
  }
  HttpResponse r;
  r.content_type = "application/ld+json";
  r.body = Canonicalize(doc);
  r.headers["GS1-EPCIS-Version"] = "2.0.0";
  r.headers["GS1-CBV-Version"] = "2.0.0";
  r.headers["GS1-EPC-Format"] = "Always_GS1_Digital_Link";
  r.headers["Cache-Control"] = "no-store";
  if (page->next_after) {
    const std::string token = state.tokens.Issue(*page->next_after, binding);
    r.headers["Link"] = "<" + NextPageTarget(req, token) + ">; rel=\"next\"";
  }
  return r;
}

// A REST path that fixes `param` to `value` (the path segment `field`); the same parameter in
// the query string as well is refused.
HttpResponse RunFixed(SupplyNode& node, const QueryState& state, const HttpRequest& req,
                      const std::string& param, const std::string& value,
                      const std::string& field) {
  if (req.query.contains(param)) {
    return Problem(Error("epcis.query_parameter",
                         "parameter '" + param + "' is fixed by the path to '" + value + "'")
                       .at_field(param));
  }
  std::map<std::string, std::string> params = req.query;
  params[param] = value;
  auto parsed = epcis_query::ParseEventQuery(params);
  if (!parsed && parsed.error().field() == param) {
    std::string message = parsed.error().message();
    const std::string named = "parameter '" + param + "'";
    if (message.starts_with(named))
      message = "path segment {" + field + "}" + message.substr(named.size());
    return Problem(Error(parsed.error().code(), message).at_field(field));
  }
  return RunQuery(node, state, req, params, "");
}
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

  // Shared by the query routes: the page-token key and the named queries (in memory: a
  // restart forgets both; docs/epcis.md, "Query").
  auto state = std::make_shared<QueryState>();
  PEDIGREE_TRY(
      router.Add("GET", "/v1/epcis/events", readers, [&node, state](const HttpRequest& req) {
        if (!req.query.contains("epc")) return RunQuery(node, *state, req, req.query, "");
        if (req.query.size() > 1) {
          const std::string other = req.query.begin()->first != "epc"
                                        ? req.query.begin()->first
                                        : std::next(req.query.begin())->first;
          return Problem(Error("epcis.query_parameter",
                               "parameter '" + other +
                                   "' cannot be combined with 'epc' (the whole history of one "
                                   "code); use MATCH_anyEPC to filter")
                             .at_field(other));
        }
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
      }));

  // The REST paths that fix one query parameter: /v1/epcis/{collection}/{value}/events.
  const Access members = Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator"});
  struct FixedPath {
    const char* collection;
    const char* param;
  };
  for (FixedPath f :
       {FixedPath{"eventTypes", "eventType"}, FixedPath{"bizSteps", "EQ_bizStep"},
        FixedPath{"bizLocations", "EQ_bizLocation"}, FixedPath{"readPoints", "EQ_readPoint"},
        FixedPath{"dispositions", "EQ_disposition"}}) {
    const std::string param = f.param;
    PEDIGREE_TRY(router.Add("GET", std::string("/v1/epcis/") + f.collection + "/{value}/events",
                            members, [&node, state, param](const HttpRequest& req) {
                              return RunFixed(node, *state, req, param, req.path_params.at("value"),
                                              param);
                            }));
  }
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/epcis/epcs/{epc}/events", members.Scoped("epc", EpcPathScope(node)),
      [&node, state](const HttpRequest& req) {
        return RunFixed(node, *state, req, "MATCH_anyEPC", req.path_params.at("epc"), "epc");
      }));

  // Named queries: POST a definition, then run it by name.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/epcis/queries", members,
      [state](const HttpRequest& req) {
        auto body = ParseJson(req.body);
        const JsonValue* name = body && body->is_object() ? body->find("name") : nullptr;
        const JsonValue* query = body && body->is_object() ? body->find("query") : nullptr;
        if (name == nullptr || !name->is_string() || !ValidQueryName(name->as_string())) {
          return Problem(Error("epcis.query_parameter",
                               "member 'name' must be 1 to 64 letters, digits, '-' or '_'")
                             .at_field("/name"));
        }
        if (query == nullptr || !query->is_object()) {
          return Problem(
              Error("epcis.query_parameter", "member 'query' must be an object of parameters")
                  .at_field("/query"));
        }
        std::map<std::string, std::string> params;
        for (const auto& [k, v] : query->as_object()) {
          std::string joined;
          bool ok = v.is_string();
          if (ok) joined = v.as_string();
          if (v.is_array()) {
            ok = !v.as_array().empty();
            for (const JsonValue& item : v.as_array()) {
              ok = ok && item.is_string();
              if (ok) joined += (joined.empty() ? "" : ",") + item.as_string();
            }
          }
          if (!ok || k == "nextPageToken" || k == "perPage") {
            return Problem(Error("epcis.query_parameter",
                                 "query member '" + k +
                                     "' must be a filter with a string or a list of strings")
                               .at_field("/query/" + k));
          }
          params[k] = joined;
        }
        auto parsed = epcis_query::ParseEventQuery(params);
        if (!parsed) {
          Error e = parsed.error();
          return Problem(e.at_field("/query/" + e.field()));
        }
        {
          std::lock_guard lock(state->mutex);
          auto [it, inserted] = state->named.emplace(name->as_string(), params);
          if (!inserted && it->second != params) {
            return Problem(Error("epcis.query_name", "a query named '" + name->as_string() +
                                                         "' exists with another definition")
                               .at_field("/name"));
          }
        }
        HttpResponse r;
        r.status = 201;
        r.body =
            Canonicalize(JsonValue::Object().set("name", name->as_string()).set("query", *query));
        r.headers["Location"] = "/v1/epcis/queries/" + provenance::PercentEncode(name->as_string());
        r.headers["GS1-EPCIS-Version"] = "2.0.0";
        return r;
      },
      BodyKind::kJson));
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/epcis/queries/{name}/events", members, [&node, state](const HttpRequest& req) {
        const std::string& name = req.path_params.at("name");
        std::map<std::string, std::string> params;
        {
          std::lock_guard lock(state->mutex);
          auto it = state->named.find(name);
          if (it == state->named.end()) {
            return Problem(
                Error("epcis.query_not_found", "no query named '" + name + "'").at_field("name"));
          }
          params = it->second;
        }
        for (const auto& [k, v] : req.query) {
          if (k != "perPage" && k != "nextPageToken") {
            return Problem(Error("epcis.query_parameter",
                                 "parameter '" + k +
                                     "' cannot be added to a named query (only perPage and "
                                     "nextPageToken)")
                               .at_field(k));
          }
          params[k] = v;
        }
        return RunQuery(node, *state, req, params, name);
      }));
  return Ok();
}

}  // namespace pedigree::services
