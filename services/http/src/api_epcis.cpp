// The EPCIS 2.0 binding (docs/epcis.md): capture, `GET /v1/epcis/events?epc=CODE` (the history
// of a pack, case or pallet as an EPCIS 2.0 JSON-LD EPCISDocument, for those who may read its
// report) and the query interface (GET /v1/epcis/events with the standard parameters, the
// REST paths that fix one of them, named queries). The mapping itself is
// scanner::epcis::ExportDocument; the query engine epcis_query.h.
#include <algorithm>
#include <cctype>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api_scope.h"
#include "epcis_query.h"
#include "job_registry.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/base/time.h"
#include "pedigree/http/api.h"
#include "pedigree/log/envelope.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/reports/container_report.h"
#include "pedigree/reports/pack_report.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"

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

// An error as the body of an RFC 7807 application/problem+json answer with the EPCIS
// exception type (EPCIS 2.0 REST bindings), our registered code and the JSON pointer of the
// offending member; `status` is set to its HTTP status.
JsonValue ProblemBody(const Error& e, int* status_out = nullptr) {
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
  // XML captures: the line and column of the element, and the JSON pointer it became.
  if (e.location().line) body.set("line", static_cast<int64_t>(*e.location().line));
  if (e.location().column) body.set("column", static_cast<int64_t>(*e.location().column));
  for (const ErrorDetail& d : e.details()) {
    if (d.name == "jsonPointer") body.set("jsonPointer", d.text);
  }
  if (status_out != nullptr) *status_out = status;
  return body;
}

HttpResponse Problem(const Error& e, std::vector<std::pair<std::string, JsonValue>> extra = {}) {
  int status = 500;
  JsonValue body = ProblemBody(e, &status);
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

// A capture body (POST /v1/epcis/capture and /v1/epcis/events) as the EPCIS 2.0 JSON-LD
// document: JSON as it is, XML (Content-Type application/xml or text/xml, or a body starting
// with '<') read by ParseEpcisXml. Errors found later on the JSON (ImportEvent's pointers) are
// turned back into the XML's line and element by Locate.
struct CaptureBody {
  JsonValue doc;
  std::optional<scanner::epcis::XmlDocument> xml;

  Error Locate(const Error& e) const { return xml ? xml->Locate(e) : e; }
};

bool IsXmlContentType(const HttpRequest& req) {
  auto h = req.headers.find("content-type");
  if (h == req.headers.end()) return false;
  std::string type = h->second.substr(0, h->second.find(';'));
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  return type == "application/xml" || type == "text/xml";
}

// An Accept header naming application/xml or text/xml before any JSON type.
bool WantsXml(const HttpRequest& req) {
  auto h = req.headers.find("accept");
  if (h == req.headers.end()) return false;
  std::string accept = h->second;
  for (char& c : accept) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  size_t xml = std::min(accept.find("application/xml"), accept.find("text/xml"));
  size_t json = accept.find("json");
  return xml != std::string::npos && (json == std::string::npos || xml < json);
}

Result<CaptureBody> ReadCaptureBody(const HttpRequest& req) {
  CaptureBody out;
  if (IsXmlContentType(req) || scanner::epcis::LooksLikeXml(req.body)) {
    PEDIGREE_ASSIGN(xml, scanner::epcis::ParseEpcisXml(req.body));
    out.doc = xml->document;
    out.xml = std::move(*xml);
    return out;
  }
  // What BodyKind::kJson checked before these routes took XML too: request.invalid_json with
  // the line and column of the first bad byte.
  PEDIGREE_TRY(CheckJsonSyntax(req.body));
  auto doc = ParseJson(req.body);
  if (!doc) return Fail(Error("epcis.invalid_event", doc.error().message()).at_field(""));
  out.doc = std::move(*doc);
  return out;
}

// The asynchronous capture jobs of POST /v1/epcis/capture (docs/epcis.md, "Capture"), on a
// JobRegistry: its one worker appends the documents' events in the order the documents came,
// and each job's status (GET /v1/epcis/capture/{captureID}) follows event by event. Jobs live
// in memory: a restart forgets their status, never the events they wrote. Thread-safe; the
// destructor finishes the queued jobs first.
class CaptureJobs {
 public:
  enum class OnError { kRollback, kProceed };
  // One event of a document: mapped (event), or refused by the mapping (error).
  struct Item {
    std::optional<scanner::epcis::ImportedEvent> event;
    std::optional<Error> error;
  };

  explicit CaptureJobs(SupplyNode& node) : node_(node) {}

  // Queues a job for `org`'s document and returns its captureID. `xml`: the document's XML
  // binding, when it came as XML, so that the rules' refusals name its line too.
  std::string Start(const std::string& org, OnError on_error, std::vector<Item> items,
                    std::shared_ptr<const scanner::epcis::XmlDocument> xml = nullptr) {
    auto job = std::make_shared<Job>(Job{std::move(items), std::move(xml)});
    return jobs_.Start(
        org,
        [&](const std::string& id) {
          return JsonValue::Object()
              .set("captureID", id)
              .set("createdAt", FormatUtcTime(node_.Now()))
              .set("running", true)
              .set("success", false)
              .set("status", "running")
              .set("captureErrorBehaviour", on_error == OnError::kRollback ? "rollback" : "proceed")
              .set("events", JsonValue::Array())
              .set("errors", JsonValue::Array());
        },
        [this, org, on_error, job](const JobRegistry::Update& update) {
          if (on_error == OnError::kRollback) {
            RunAllOrNothing(org, *job, update);
          } else {
            RunEachEvent(org, *job, update);
          }
          job->items.clear();
          job->xml.reset();
        });
  }

  // The job's status for `org`, or nothing when it has no such job (another organisation's
  // job is none of its business).
  std::optional<JsonValue> Status(const std::string& id, const std::string& org) const {
    return jobs_.Status(id, org);
  }

 private:
  // A document's mapped events and, when it came as XML, its XML binding.
  struct Job {
    std::vector<Item> items;
    std::shared_ptr<const scanner::epcis::XmlDocument> xml;
  };

  // A rule's refusal of event `i`, its pointer below the event's (and the XML line).
  static Error RefusalOf(const Job& job, size_t i, const Error& e) {
    const std::string pointer = "/epcisBody/eventList/" + std::to_string(i);
    Error at = Error(e).at_field(pointer + (e.field().empty() ? "" : "/" + e.field()));
    return job.xml ? job.xml->Locate(at) : at;
  }

  static void Finish(const JobRegistry::Update& update, bool failed, const std::string& now) {
    update([&](JsonValue& status) {
      status.set("running", false)
          .set("success", !failed)
          .set("status", failed ? "failure" : "success")
          .set("finishedAt", now);
    });
  }

  // Rollback: the whole document in one ledger transaction (SupplyNode::SubmitGroupAs). The
  // mapping refused nothing (it answers at once under rollback), so every item has its event.
  void RunAllOrNothing(const std::string& org, const Job& job, const JobRegistry::Update& update) {
    std::vector<JsonValue> payloads;
    payloads.reserve(job.items.size());
    for (const Item& item : job.items) payloads.push_back(item.event->payload);
    // Below this index, or repeating an index of the document, an answer is a replay.
    const uint64_t size_before = node_.ledger().size();
    std::vector<Result<uint64_t>> results = node_.SubmitGroupAs(org, std::move(payloads));
    std::set<uint64_t> answered;
    // The refused event: the first error that is not the others' group_aborted.
    std::optional<size_t> refused;
    for (size_t i = 0; i < results.size() && !refused; ++i) {
      if (!results[i] && results[i].error().code() != "sequencer.group_aborted") refused = i;
    }
    JsonValue events = JsonValue::Array();
    JsonValue errors = JsonValue::Array();
    for (size_t i = 0; i < results.size(); ++i) {
      JsonValue result = JsonValue::Object().set("eventID", job.items[i].event->event_id);
      if (results[i]) {
        // Captured, or (in a refused document) on the ledger already from an earlier capture.
        result.set("captured", true)
            .set("index", static_cast<int64_t>(*results[i]))
            .set("kind", *job.items[i].event->payload.find("kind"));
        // The same event captured before, or earlier in this document: nothing appended, the
        // first index answered (the Event Hash ID is the idempotency key).
        if (*results[i] < size_before || !answered.insert(*results[i]).second) {
          result.set("duplicate", true);
        }
      } else if (refused && i != *refused &&
                 results[i].error().code() == "sequencer.group_aborted") {
        result.set("captured", false).set("rolledBack", true);
      } else {
        JsonValue problem = ProblemBody(RefusalOf(job, i, results[i].error()));
        problem.set("eventIndex", static_cast<int64_t>(i));
        result.set("captured", false).set("error", problem);
        errors.push_back(std::move(problem));
      }
      events.push_back(std::move(result));
    }
    const bool failed = errors.size() > 0;
    update([&](JsonValue& status) {
      status.set("events", std::move(events)).set("errors", std::move(errors));
      if (refused) {
        status.set("rolledBack", true)
            .set("failedEvent", static_cast<int64_t>(*refused))
            .set("written", int64_t{0});
      }
    });
    Finish(update, failed, FormatUtcTime(node_.Now()));
  }

  // Proceed: event by event, each refusal listed and passed over.
  void RunEachEvent(const std::string& org, const Job& job, const JobRegistry::Update& update) {
    // The mapped events submitted together (SupplyNode::SubmitEachAs), so that the log commits
    // them in batches rather than one durable commit each; each is still judged on its own, in
    // document order.
    std::vector<JsonValue> payloads;
    std::vector<size_t> position;
    for (size_t i = 0; i < job.items.size(); ++i) {
      if (!job.items[i].event) continue;
      payloads.push_back(job.items[i].event->payload);
      position.push_back(i);
    }
    const uint64_t size_before = node_.ledger().size();
    std::vector<Result<uint64_t>> submitted = node_.SubmitEachAs(org, std::move(payloads));
    std::vector<std::optional<Result<uint64_t>>> outcome(job.items.size());
    for (size_t k = 0; k < submitted.size(); ++k) outcome[position[k]] = std::move(submitted[k]);
    bool failed = false;
    std::set<uint64_t> answered;
    JsonValue events = JsonValue::Array();
    JsonValue errors = JsonValue::Array();
    for (size_t i = 0; i < job.items.size(); ++i) {
      const Item& item = job.items[i];
      JsonValue result = JsonValue::Object();
      if (item.event) result.set("eventID", item.event->event_id);
      std::optional<Error> error = item.error;
      if (!error) {
        const Result<uint64_t>& index = *outcome[i];
        if (index) {
          result.set("captured", true)
              .set("index", static_cast<int64_t>(*index))
              .set("kind", *item.event->payload.find("kind"));
          if (*index < size_before || !answered.insert(*index).second) {
            result.set("duplicate", true);
          }
        } else {
          error = RefusalOf(job, i, index.error());
        }
      }
      if (error) {
        failed = true;
        JsonValue problem = ProblemBody(*error);
        result.set("captured", false).set("error", problem);
        errors.push_back(std::move(problem));
      }
      events.push_back(std::move(result));
    }
    update([&](JsonValue& status) {
      status.set("events", std::move(events)).set("errors", std::move(errors));
    });
    Finish(update, failed, FormatUtcTime(node_.Now()));
  }

  SupplyNode& node_;
  JobRegistry jobs_;  // last: its worker runs the jobs, which read node_
};

// The most events one document may carry (GS1-EPCIS-Capture-Limit).
constexpr size_t kCaptureLimit = 10000;
// The capture route's body limit (a 10,000-event document is several MiB; the server's default
// limit is for commands).
constexpr size_t kCaptureBodyLimit = 64u << 20;

// What the query routes share: the page-token key and the named queries (name -> parameters).
struct QueryState {
  explicit QueryState(SupplyNode& node) : ships(node.ledger().db_path()) {}
  epcis_query::PageTokens tokens;
  epcis_query::ShipmentViews ships;
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
HttpResponse RunQuery(SupplyNode& node, QueryState& state, const HttpRequest& req,
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
  auto page = epcis_query::RunEventQuery(node, state.ships, *req.principal, *query, after);
  if (!page) return Problem(page.error());
  JsonValue doc = epcis_query::QueryDocument(std::move(page->events), node.Now(), page->prefixes);
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
HttpResponse RunFixed(SupplyNode& node, QueryState& state, const HttpRequest& req,
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
        auto body = ReadCaptureBody(req);
        if (!body) return Problem(body.error());
        // XML has no bare-event document: one event comes as an EPCISDocument holding one.
        const JsonValue* event = &body->doc;
        std::string pointer;
        if (body->xml) {
          const JsonValue& list = *body->doc.find("epcisBody")->find("eventList");
          if (list.as_array().size() != 1) {
            return Problem(Error("epcis.invalid_event",
                                 "an XML EPCISDocument sent to /v1/epcis/events holds exactly one "
                                 "event, this one " +
                                     std::to_string(list.as_array().size()) +
                                     " (POST /v1/epcis/capture takes several)")
                               .at_field("/epcisBody/eventList"));
          }
          event = &list.as_array()[0];
          pointer = "/epcisBody/eventList/0";
        }
        auto imported =
            scanner::epcis::ImportEvent(*event, OptionsFor(body->doc), pointer, GlnOwnerOf(node));
        if (!imported) return Problem(body->Locate(imported.error()));
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
      BodyKind::kAny));
  // A document, as an asynchronous capture job (202 + Location). Every event is mapped first:
  // with rollback (the default) one malformed or unsupported event is answered at once and
  // writes nothing; with proceed it is listed in the job and the others are captured. The job
  // then appends the events in order: a rollback job all of them in one ledger transaction, so
  // a rule's refusal of any event writes nothing of the document; a proceed job one by one,
  // listing and passing over what the rules refuse.
  auto jobs = std::make_shared<CaptureJobs>(node);
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/epcis/capture", holders,
      [&node, jobs](const HttpRequest& req) {
        CaptureJobs::OnError on_error = CaptureJobs::OnError::kRollback;
        if (auto h = req.headers.find("gs1-capture-error-behaviour"); h != req.headers.end()) {
          if (h->second == "proceed") {
            on_error = CaptureJobs::OnError::kProceed;
          } else if (h->second != "rollback") {
            return Problem(Error("epcis.bad_header",
                                 "GS1-Capture-Error-Behaviour must be "
                                 "rollback or proceed, got '" +
                                     h->second + "'")
                               .at_field("GS1-Capture-Error-Behaviour"));
          }
        }
        auto capture = ReadCaptureBody(req);
        if (!capture) return Problem(capture.error());
        const JsonValue* doc = &capture->doc;
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
        std::vector<CaptureJobs::Item> items;
        for (size_t i = 0; i < list->as_array().size(); ++i) {
          auto one = scanner::epcis::ImportEvent(
              list->as_array()[i], options, "/epcisBody/eventList/" + std::to_string(i), owner);
          if (!one && on_error == CaptureJobs::OnError::kRollback) {
            return Problem(capture->Locate(one.error()));
          }
          CaptureJobs::Item item;
          if (one) {
            item.event = std::move(*one);
          } else {
            item.error = capture->Locate(one.error());
          }
          items.push_back(std::move(item));
        }
        std::shared_ptr<const scanner::epcis::XmlDocument> xml;
        if (capture->xml) {
          xml = std::make_shared<const scanner::epcis::XmlDocument>(std::move(*capture->xml));
        }
        const std::string id =
            jobs->Start(req.principal->org_id, on_error, std::move(items), std::move(xml));
        HttpResponse r;
        r.status = 202;
        r.body = Canonicalize(JsonValue::Object().set("captureID", id));
        r.headers["Location"] = "/v1/epcis/capture/" + id;
        r.headers["GS1-EPCIS-Version"] = "2.0.0";
        r.headers["GS1-EPCIS-Capture-Limit"] = std::to_string(kCaptureLimit);
        return r;
      },
      BodyKind::kAny, kCaptureBodyLimit));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/epcis/capture/{captureID}", holders, [jobs](const HttpRequest& req) {
        const std::string& id = req.path_params.at("captureID");
        auto status = jobs->Status(id, req.principal->org_id);
        if (!status) {
          return Problem(Error("epcis.capture_not_found", "no capture job '" + id + "'")
                             .at_field("captureID"));
        }
        HttpResponse r;
        r.body = Canonicalize(*status);
        r.headers["GS1-EPCIS-Version"] = "2.0.0";
        r.headers["Cache-Control"] = "no-store";
        return r;
      }));

  // Shared by the query routes: the page-token key and the named queries (in memory: a
  // restart forgets both; docs/epcis.md, "Query").
  auto state = std::make_shared<QueryState>(node);
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
        // Partners whose systems read only the XML binding ask for it with Accept.
        if (WantsXml(req)) {
          auto xml = scanner::epcis::DocumentToXml(*doc);
          if (!xml) return Problem(xml.error());
          r.content_type = "application/xml";
          r.body = std::move(*xml);
        } else {
          r.content_type = "application/ld+json";
          r.body = Canonicalize(*doc);
        }
        r.headers["Vary"] = "Accept";
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
