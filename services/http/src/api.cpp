// HTTP handlers: parse the request, call the SupplyNode use case, render JSON. Rules
// and formats live below them; nothing here decides what a pack may do.
#include "pedigree/http/api.h"

#include <algorithm>
#include <charconv>
#include <set>

#include "api_common.h"
#include "api_receipts.h"
#include "api_scope.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/tiles.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/supply_actions.h"

namespace pedigree::services {
namespace {

using api::BodyObject;
using api::Int;
using api::Json;

// POST /v1/events/batch: as many envelopes as an EPCIS capture document may hold events, and
// a body of that many signed envelopes (a captured event's envelope is ~1.5 KB).
constexpr size_t kEventBatchLimit = 10'000;
constexpr size_t kEventBatchBodyLimit = 64u << 20;

HttpResponse Text(const std::string& body, const std::string& type = "text/plain; charset=utf-8") {
  HttpResponse r;
  r.content_type = type;
  r.body = body;
  return r;
}

bool HasRole(const Principal& p, const char* role) { return p.roles.count(role) > 0; }

Result<uint64_t> NumberParam(const std::map<std::string, std::string>& m, const std::string& name,
                             std::optional<uint64_t> fallback = {}) {
  auto it = m.find(name);
  if (it == m.end() || it->second.empty()) {
    if (fallback) return *fallback;
    return Fail(
        Error("request.missing_parameter", "parameter '" + name + "' is required").at_field(name));
  }
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), v);
  if (ec != std::errc() || end != it->second.data() + it->second.size()) {
    return Fail(
        Error("request.bad_parameter",
              "parameter '" + name + "' must be a non-negative integer, got '" + it->second + "'")
            .at_field(name));
  }
  return v;
}

// A handler that submits `action` signed with the caller's organisation key held by this
// node; the request body holds the action's members (see ActionPayload).
HttpHandler NodeSigned(SupplyNode& node, std::string_view action_name) {
  const SupplyAction& action = ActionNamed(action_name);
  return [&node, &action](const HttpRequest& req) -> HttpResponse {
    auto body = api::CommandBody(req);
    if (!body) return ErrorResponse(body.error());
    // The serials a commission's `generate: N` drew: the caller needs them for its labels.
    const bool generated = action.kind == "commission" && body->find("generate");
    auto payload = ActionPayload(action, std::move(*body));
    if (!payload) return ErrorResponse(payload.error());
    JsonValue serials = generated ? *payload->find("serials") : JsonValue();
    auto index = node.SubmitAs(req.principal->org_id, std::move(*payload));
    if (!index) return ErrorResponse(index.error());
    if (generated) {
      return Json(201, JsonValue::Object()
                           .set("index", Int(*index))
                           .set("kind", JsonValue(std::string(action.kind)))
                           .set("serials", std::move(serials)));
    }
    return api::Created(*index, std::string(action.kind));
  };
}

// alert.investigate / alert.close of the alert at ledger index {index}: the body holds the
// other members (classification, reason); the index comes from the path only.
HttpHandler AlertAction(SupplyNode& node, std::string_view action_name) {
  const SupplyAction& action = ActionNamed(action_name);
  return [&node, &action](const HttpRequest& req) -> HttpResponse {
    auto index = NumberParam(req.path_params, "index");
    if (!index) return ErrorResponse(index.error());
    auto body = api::CommandBody(req);
    if (!body) return ErrorResponse(body.error());
    if (body->find("alert")) {
      return ErrorResponse(
          Error("request.invalid_body", "the path names the alert; leave 'alert' out")
              .at_field("alert"));
    }
    body->set("alert", Int(*index));
    auto payload = ActionPayload(action, std::move(*body));
    if (!payload) return ErrorResponse(payload.error());
    auto submitted = node.SubmitAs(req.principal->org_id, std::move(*payload));
    // An alert the caller may not manage answers as an entry that is no alert: nothing
    // about whose alert it is, or that it exists (docs/api.md, "Access rules").
    if (!submitted && submitted.error().code() == "alert_lifecycle.forbidden") {
      return ErrorResponse(Error("alert_lifecycle.unknown_alert",
                                 "entry " + std::to_string(*index) + " is not an alert")
                               .at_field("alert"));
    }
    if (!submitted) return ErrorResponse(submitted.error());
    return api::Created(*submitted, std::string(action.kind));
  };
}

}  // namespace

Status AddApiRoutes(Router& router, SupplyNode& node, ApiOptions options) {
  const Access members =
      Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator", "admin"});
  const Access manufacturers = Access::AnyOf({"manufacturer"});
  const Access holders = Access::AnyOf({"manufacturer", "wholesaler", "dispenser"});

  // Client-signed events: the envelope is appended as signed; the token's organisation
  // must be the payload's (a relay of someone else's events needs the admin role). Trial
  // parties sign their trial.* and kit.* events here too (`pedigree trial … --server`);
  // as for supply events, the ledger's rules decide what the signer may do.
  const Access event_signers = Access::AnyOf(
      {"manufacturer", "wholesaler", "dispenser", "regulator", "admin", "sponsor", "site"});
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/events", event_signers,
      [&node](const HttpRequest& req) {
        // The route is kAny: ParseJsonBody's one parse serves the syntax check (answered
        // as the chassis's kJson check would) and the org check.
        auto parsed = api::ParseJsonBody(req);
        if (!parsed) return ErrorResponse(parsed.error());
        const JsonValue* payload = parsed->find("payload");
        const JsonValue* org = payload ? payload->find("org") : nullptr;
        if (!org || !org->is_string()) {
          return ErrorResponse(
              Error("entry.malformed", "envelope payload has no org").at_field("payload.org"));
        }
        if (org->as_string() != req.principal->org_id && !req.principal->roles.count("admin")) {
          return ErrorResponse(
              Error("auth.forbidden_org", "your token is for '" + req.principal->org_id +
                                              "', the event is by '" + org->as_string() + "'"));
        }
        auto index = node.Submit(req.body);
        if (!index) return ErrorResponse(index.error());
        // The stored leaf carries the log's sequencing time, so its hash is not the
        // submitted envelope's.
        auto leaf = node.ledger().Entry(*index);
        if (!leaf) return ErrorResponse(leaf.error());
        auto out = JsonValue::Object();
        out.set("index", Int(*index));
        out.set("leafHash", JsonValue(ToBase64(log::LeafHash(AsBytes(*leaf)))));
        if (auto at = log::LeafSequencingTime(*leaf)) {
          out.set("sequencedTime", JsonValue(FormatUtcTime(*at)));
        }
        return Json(201, out);
      },
      BodyKind::kAny));

  // Client-signed events all or nothing: {"envelopes": [envelope, …]} (at most
  // kEventBatchLimit), each checked as POST /v1/events checks one and appended in one ledger
  // transaction (SupplyNode::SubmitGroup), so that a client's EPCIS capture with rollback
  // (`pedigree epcis capture --server`) writes nothing of a document one event of which is
  // refused. 201 {"results": [{"index", "duplicate"?}…]}: `duplicate` when the envelope's
  // command was on the ledger already (or earlier in the batch) and appended nothing. A
  // refusal answers the refused envelope's error, its field under /envelopes/{i}.
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/events/batch", event_signers,
      [&node](const HttpRequest& req) {
        auto parsed = api::ParseJsonBody(req);
        if (!parsed) return ErrorResponse(parsed.error());
        const JsonValue* list = parsed->is_object() ? parsed->find("envelopes") : nullptr;
        if (list == nullptr || !list->is_array() || list->size() == 0) {
          return ErrorResponse(Error("request.invalid_body",
                                     "member 'envelopes' must be a non-empty array of "
                                     "signed envelopes")
                                   .at_field("envelopes"));
        }
        if (list->size() > kEventBatchLimit) {
          return ErrorResponse(Error("request.invalid_body", "member 'envelopes' holds " +
                                                                 std::to_string(list->size()) +
                                                                 " envelopes, more than " +
                                                                 std::to_string(kEventBatchLimit))
                                   .at_field("envelopes"));
        }
        std::vector<std::string> envelopes;
        envelopes.reserve(list->size());
        for (size_t i = 0; i < list->size(); ++i) {
          const JsonValue& envelope = list->as_array()[i];
          const JsonValue* payload = envelope.is_object() ? envelope.find("payload") : nullptr;
          const JsonValue* org = payload ? payload->find("org") : nullptr;
          const std::string at = "envelopes/" + std::to_string(i);
          if (!org || !org->is_string()) {
            return ErrorResponse(Error("entry.malformed",
                                       "envelope " + std::to_string(i) + ": its payload has no org")
                                     .at_field(at + "/payload/org"));
          }
          if (org->as_string() != req.principal->org_id && !req.principal->roles.count("admin")) {
            return ErrorResponse(
                Error("auth.forbidden_org", "your token is for '" + req.principal->org_id +
                                                "', envelope " + std::to_string(i) + " is by '" +
                                                org->as_string() + "'")
                    .at_field(at + "/payload/org"));
          }
          // The envelope bytes are RFC 8785 canonical JSON: re-serialising gives them back.
          envelopes.push_back(Canonicalize(envelope));
        }
        const uint64_t size_before = node.ledger().size();
        std::vector<Result<uint64_t>> results = node.SubmitGroup(std::move(envelopes));
        for (size_t i = 0; i < results.size(); ++i) {
          if (results[i] || results[i].error().code() == "sequencer.group_aborted") continue;
          const Error& e = results[i].error();
          return ErrorResponse(Error(e.code(), "envelope " + std::to_string(i) +
                                                   " of the batch: " + e.message() +
                                                   " (nothing of the batch was written)")
                                   .at_field("envelopes/" + std::to_string(i) +
                                             (e.field().empty() ? "" : "/payload/" + e.field())));
        }
        JsonValue out = JsonValue::Array();
        std::set<uint64_t> seen;
        for (const Result<uint64_t>& r : results) {
          if (!r) {
            return ErrorResponse(Error("sequencer.group_aborted", r.error().message()));
          }
          JsonValue one = JsonValue::Object().set("index", Int(*r));
          if (*r < size_before || !seen.insert(*r).second) one.set("duplicate", true);
          out.push_back(std::move(one));
        }
        return Json(201, JsonValue::Object().set("results", std::move(out)));
      },
      BodyKind::kAny, kEventBatchBodyLimit));

  // The registry's GLN → organisation lookup, so that a client mapping EPCIS parties named by
  // GLN (`epcis capture --server`) resolves them as the node does. Registry data is on the
  // ledger for every member to read.
  PEDIGREE_TRY(router.Add("GET", "/v1/glns/{gln}", members, [&node](const HttpRequest& req) {
    const std::string& gln = req.path_params.at("gln");
    auto org = node.Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
    if (!org) return ErrorResponse(org.error());
    if (!*org) {
      return ErrorResponse(
          Error("registry.gln_not_found", "no organisation registered the GLN '" + gln + "'")
              .at_field("gln"));
    }
    return Json(200, JsonValue::Object().set("gln", gln).set("org", **org));
  }));

  // Node-signed commands for organisations whose key this node holds. kAny: CommandBody
  // parses the body once and answers a body that is not JSON as the chassis's kJson check
  // would (these routes have no scope check that the syntax check would run before).
  PEDIGREE_TRY(router.Add("POST", "/v1/products", manufacturers,
                          NodeSigned(node, "product register"), BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/batches", manufacturers, NodeSigned(node, "batch register"),
                          BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/commission", manufacturers, NodeSigned(node, "commission"),
                          BodyKind::kAny));
  PEDIGREE_TRY(
      router.Add("POST", "/v1/aggregate", holders, NodeSigned(node, "aggregate"), BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/disaggregate", holders, NodeSigned(node, "disaggregate"),
                          BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/ship", holders, NodeSigned(node, "ship"), BodyKind::kAny));
  PEDIGREE_TRY(
      router.Add("POST", "/v1/receive", holders, NodeSigned(node, "receive"), BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/dispense", Access::AnyOf({"dispenser", "wholesaler"}),
                          NodeSigned(node, "dispense"), BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/decommission", holders, NodeSigned(node, "decommission"),
                          BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/undo", holders, NodeSigned(node, "undo"), BodyKind::kAny));
  PEDIGREE_TRY(router.Add("POST", "/v1/batch-status", manufacturers,
                          NodeSigned(node, "batch status"), BodyKind::kAny));
  PEDIGREE_TRY(
      router.Add("POST", "/v1/sensor", holders, NodeSigned(node, "sensor"), BodyKind::kAny));

  // Verification: read-only.
  PEDIGREE_TRY(router.Add("GET", "/v1/verify", members, [&node](const HttpRequest& req) {
    auto code = req.query.find("code");
    if (code == req.query.end() || code->second.empty()) {
      return ErrorResponse(
          Error("request.missing_parameter", "parameter 'code' is required").at_field("code"));
    }
    // The custody hint is relative to the token's organisation.
    auto answer = node.Verify(code->second, req.principal->org_id);
    if (!answer) return ErrorResponse(answer.error());
    JsonValue body = VerifyAnswerJson(*answer, node.Now());
    // Read-only unless the caller asks for the scan to be recorded on the ledger.
    if (auto record = req.query.find("record");
        record != req.query.end() && record->second == "true") {
      auto location = req.query.find("location");
      if (location == req.query.end() || location->second.empty()) {
        return ErrorResponse(Error("request.missing_parameter", "record=true needs location=GLN")
                                 .at_field("location"));
      }
      auto key = req.headers.find("idempotency-key");
      auto index = api::RecordVerify(node, req, *answer, location->second,
                                     key != req.headers.end() ? key->second : std::string());
      if (!index) return ErrorResponse(index.error());
      body.set("recordedIndex", JsonValue(static_cast<int64_t>(*index)));
    }
    return Json(200, body);
  }));
  // A verify is a few SQLite reads on a pooled read connection (tens of µs): answered on
  // the event loop, unless it records the scan, which appends and waits for the commit.
  PEDIGREE_TRY(router.MarkInline("GET", "/v1/verify", [](const HttpRequest& req) {
    auto record = req.query.find("record");
    return record == req.query.end() || record->second != "true";
  }));
  // GS1 Lightweight Verification Messaging: a GET on the Digital Link path.
  auto lightweight = [&node, options](const HttpRequest& req) {
    // The router decoded the segments; the scanner reads the canonical encoded form.
    std::string path = "/01/" + provenance::PercentEncode(req.path_params.at("gtin"));
    if (auto lot = req.path_params.find("lot"); lot != req.path_params.end()) {
      path += "/10/" + provenance::PercentEncode(lot->second);
    }
    path += "/21/" + provenance::PercentEncode(req.path_params.at("serial"));
    auto link_type = req.query.find("linkType");
    if (link_type == req.query.end() || (link_type->second != "verificationService" &&
                                         link_type->second != "gs1:verificationService")) {
      return ErrorResponse(
          Error("request.unsupported_link_type", "only linkType=verificationService is served")
              .at_field("linkType"));
    }
    std::string uri = "https://id.gs1.org" + path;
    if (auto expiry = req.query.find("17"); expiry != req.query.end()) {
      uri += "?17=" + provenance::PercentEncode(expiry->second);
    }
    auto answer = node.Verify(uri);
    if (!answer) return ErrorResponse(answer.error());
    auto o = JsonValue::Object();
    o.set("verified", JsonValue(answer->verified));
    o.set("responderGLN", JsonValue(options.responder_gln));
    o.set("verificationTimestamp", JsonValue(FormatUtcTime(node.Now())));
    if (!answer->verified) {
      bool unknown = answer->status == "unknown";
      bool lot_given = req.path_params.count("lot") > 0;
      o.set("verificationFailureReason",
            JsonValue(unknown ? (lot_given ? "No_match_GTIN_Serial_Lot" : "No_match_GTIN_Serial")
                              : "No_reason_provided"));
      auto info = JsonValue::Array();
      for (const auto& r : answer->reasons) {
        if (r.code == provenance::AlertCode::kRecalled) info.push_back(JsonValue("Recalled"));
        if (r.code == provenance::AlertCode::kExpired) info.push_back(JsonValue("Expired"));
        if (r.code == provenance::AlertCode::kBatchMismatch) {
          o.set("verificationFailureReason", JsonValue("No_match_GTIN_Serial_Lot"));
        }
        if (r.code == provenance::AlertCode::kExpiryMismatch) {
          o.set("verificationFailureReason", JsonValue("No_match_GTIN_Serial_Expiry"));
        }
        if (r.code == provenance::AlertCode::kAlreadyDecommissioned ||
            r.code == provenance::AlertCode::kCloneSuspected ||
            r.code == provenance::AlertCode::kTemperatureExcursion) {
          info.push_back(JsonValue("Suspect"));
        }
      }
      if (info.size() > 0) o.set("additionalInfo", info);
    }
    return Json(200, o);
  };
  PEDIGREE_TRY(router.Add("GET", "/01/{gtin}/21/{serial}", members, lightweight));
  PEDIGREE_TRY(router.Add("GET", "/01/{gtin}/10/{lot}/21/{serial}", members, lightweight));

  // Reads.
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/packs/{gtin}/{serial}",
      members.Scoped("pack", api::PackScope(node, api::NamedBy::kPath)),
      [&node](const HttpRequest& req) {
        const std::string& gtin = req.path_params.at("gtin");
        const std::string& serial = req.path_params.at("serial");
        auto pack = node.Read([&](provenance::ProvenanceView& v) { return v.Pack(gtin, serial); });
        if (!pack) return ErrorResponse(pack.error());
        if (!*pack)
          return ErrorResponse(
              Error("pack.not_found", "no pack " + gtin + " / " + serial).at_field("serial"));
        auto history =
            node.Read([&](provenance::ProvenanceView& v) { return v.PackHistory(gtin, serial); });
        if (!history) return ErrorResponse(history.error());
        // Who may see it is the route's scope (api_scope.h).
        auto events = JsonValue::Array();
        for (uint64_t index : *history) {
          auto entry = node.ledger().Entry(index);
          if (!entry) return ErrorResponse(entry.error());
          auto env = ParseJson(*entry);
          if (!env) return ErrorResponse(env.error());
          const JsonValue* p = env->find("payload");
          auto e = JsonValue::Object();
          e.set("index", Int(index));
          for (const char* k : {"kind", "org", "time", "status", "to", "despatchAdvice", "location",
                                "toLocation", "code"}) {
            if (const JsonValue* v = p->find(k)) e.set(k, *v);
          }
          events.push_back(std::move(e));
        }
        const provenance::PackView& p = **pack;
        auto o = JsonValue::Object();
        o.set("packId", JsonValue(provenance::PackId(*provenance::Gtin::Parse(gtin),
                                                     *provenance::Serial::Parse(serial))
                                      .DigitalLinkUri()));
        o.set("gtin", JsonValue(gtin));
        o.set("serial", JsonValue(serial));
        o.set("lot", JsonValue(p.lot));
        o.set("expiry", JsonValue(FormatDate(p.facts.expiry)));
        o.set("product", JsonValue(p.product_name));
        o.set("status", JsonValue(std::string(provenance::PackStatusName(p.facts.status))));
        o.set("batchStatus",
              JsonValue(std::string(provenance::BatchStatusName(p.facts.batch_status))));
        o.set("holder", JsonValue(p.facts.holder_org));
        if (!p.in_transit_to.empty()) o.set("inTransitTo", JsonValue(p.in_transit_to));
        if (!p.parent.empty()) o.set("parent", JsonValue(p.parent));
        o.set("temperatureExcursion", JsonValue(p.facts.temperature_excursion));
        o.set("events", events);
        return Json(200, o);
      }));
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/batches/{gtin}/{lot}", members.Scoped("batch", api::BatchScope(node)),
      [&node](const HttpRequest& req) {
        const std::string& gtin = req.path_params.at("gtin");
        const std::string& lot = req.path_params.at("lot");
        auto batch = node.Read([&](provenance::ProvenanceView& v) { return v.Batch(gtin, lot); });
        if (!batch) return ErrorResponse(batch.error());
        if (!*batch)
          return ErrorResponse(
              Error("batch.not_found", "no batch " + lot + " of " + gtin).at_field("lot"));
        auto o = JsonValue::Object();
        o.set("gtin", JsonValue(gtin));
        o.set("lot", JsonValue(lot));
        o.set("expiry", JsonValue(FormatDate((*batch)->expiry)));
        o.set("quantity", JsonValue((*batch)->quantity));
        o.set("status", JsonValue(std::string(provenance::BatchStatusName((*batch)->status))));
        if (!(*batch)->status_reason.empty())
          o.set("statusReason", JsonValue((*batch)->status_reason));
        o.set("manufacturer", JsonValue((*batch)->manufacturer));
        {
          // Recall reach: who holds the batch's packs now (the scope admits only its
          // manufacturer and regulators).
          auto reach =
              node.Read([&](provenance::ProvenanceView& v) { return v.RecallReach(gtin, lot); });
          if (!reach) return ErrorResponse(reach.error());
          auto holders = JsonValue::Array();
          for (const auto& h : *reach) {
            auto e = JsonValue::Object();
            e.set("holder", JsonValue(h.holder));
            e.set("status", JsonValue(h.status));
            e.set("packs", JsonValue(h.packs));
            if (!h.in_transit_to.empty()) e.set("inTransitTo", JsonValue(h.in_transit_to));
            holders.push_back(std::move(e));
          }
          o.set("reach", holders);
        }
        return Json(200, o);
      }));
  PEDIGREE_TRY(router.Add("GET", "/v1/alerts", members, [&node](const HttpRequest& req) {
    // Regulators see every alert; others the ones about themselves, and (without the
    // subject's identity or its message, which may name parties) those about a pack they
    // held when it was raised or whose GTIN they make.
    std::string org = HasRole(*req.principal, "regulator") ? "" : req.principal->org_id;
    auto limit = NumberParam(req.query, "limit", 100);
    if (!limit) return ErrorResponse(limit.error());
    auto alerts = node.Read([&](provenance::ProvenanceView& v) {
      return v.Alerts(org, std::min<uint64_t>(*limit, 1000));
    });
    if (!alerts) return ErrorResponse(alerts.error());
    auto list = JsonValue::Array();
    for (const auto& a : *alerts) {
      auto e = JsonValue::Object();
      e.set("index", Int(a.index));
      e.set("code", JsonValue(a.code));
      if (!a.epc.empty()) e.set("epc", JsonValue(a.epc));
      if (a.concern.empty()) {
        e.set("org", JsonValue(a.subject_org));
        e.set("message", JsonValue(a.message));
      } else {
        e.set("concern", JsonValue(a.concern));
        std::string cause = "An alert about a pack that concerns you.";
        for (const auto& d : provenance::AllAlerts()) {
          if (d.id == a.code) cause = d.cause;
        }
        e.set("message", JsonValue(cause));
      }
      e.set("time", JsonValue(FormatUtcTime(a.time)));
      // Its life (docs/alerts.md): a close's reason is the actor's words, shown in full only.
      e.set("class", JsonValue(a.alert_class));
      e.set("state", JsonValue(a.state));
      if (!a.classification.empty()) e.set("classification", JsonValue(a.classification));
      if (a.concern.empty() && !a.reason.empty()) e.set("reason", JsonValue(a.reason));
      if (a.suppressed > 0) e.set("suppressed", Int(static_cast<uint64_t>(a.suppressed)));
      e.set("weighs", JsonValue(a.Weighs()));
      list.push_back(std::move(e));
    }
    auto o = JsonValue::Object();
    o.set("alerts", list);
    return Json(200, o);
  }));

  // Alert management: the manufacturer of the alert's pack or a regulator (the rules check
  // which manufacturer).
  const Access alert_managers = Access::AnyOf({"manufacturer", "regulator"});
  PEDIGREE_TRY(router.Add("POST", "/v1/alerts/{index}/investigate", alert_managers,
                          AlertAction(node, "alert investigate"), BodyKind::kJson));
  PEDIGREE_TRY(router.Add("POST", "/v1/alerts/{index}/close", alert_managers,
                          AlertAction(node, "alert close"), BodyKind::kJson));

  // The log: checkpoint, proofs and tiles are public (they reveal hashes only);
  // entries carry business data and need a member token.
  PEDIGREE_TRY(router.Add("GET", "/v1/log/checkpoint", Access::Public(),
                          [&node, witnesses = options.witness_client](const HttpRequest&) {
                            if (witnesses) witnesses->Notify();
                            if (witnesses && !witnesses->fail_open()) {
                              auto witnessed = witnesses->Witnessed();
                              if (!witnessed) return ErrorResponse(witnessed.error());
                              if (!*witnessed) {
                                return ErrorResponse(
                                    Error("checkpoint.not_witnessed",
                                          "no checkpoint has met the witness policy's "
                                          "quorum yet"));
                              }
                              HttpResponse r = Text((*witnessed)->note);
                              r.headers["Pedigree-Witnessed"] = "true";
                              return r;
                            }
                            auto cp = node.ledger().SignCheckpoint();
                            if (!cp) return ErrorResponse(cp.error());
                            HttpResponse r = Text(cp->note);
                            if (witnesses) {
                              auto witnessed = witnesses->Witnessed();
                              bool ok = witnessed && *witnessed && (*witnessed)->size == cp->size;
                              r.headers["Pedigree-Witnessed"] = ok ? "true" : "false";
                            }
                            return r;
                          }));
  PEDIGREE_TRY(router.Add("GET", "/v1/log/proof/inclusion", Access::Public(),
                          [&node](const HttpRequest& req) {
                            auto index = NumberParam(req.query, "index");
                            if (!index) return ErrorResponse(index.error());
                            std::optional<uint64_t> size;
                            if (req.query.count("size")) {
                              auto s = NumberParam(req.query, "size");
                              if (!s) return ErrorResponse(s.error());
                              size = *s;
                            }
                            auto proof = node.ledger().ProveInclusion(*index, size);
                            if (!proof) return ErrorResponse(proof.error());
                            auto o = JsonValue::Object();
                            o.set("index", Int(proof->index));
                            o.set("size", Int(proof->size));
                            o.set("leafHash", JsonValue(ToBase64(proof->leaf_hash)));
                            auto path = JsonValue::Array();
                            for (const Hash& h : proof->path)
                              path.push_back(JsonValue(ToBase64(h)));
                            o.set("proof", path);
                            o.set("root", JsonValue(ToBase64(proof->root)));
                            return Json(200, o);
                          }));
  PEDIGREE_TRY(router.Add("GET", "/v1/log/proof/consistency", Access::Public(),
                          [&node](const HttpRequest& req) {
                            auto from = NumberParam(req.query, "from");
                            auto to = NumberParam(req.query, "to");
                            if (!from) return ErrorResponse(from.error());
                            if (!to) return ErrorResponse(to.error());
                            auto proof = node.ledger().ProveConsistency(*from, *to);
                            if (!proof) return ErrorResponse(proof.error());
                            auto o = JsonValue::Object();
                            o.set("from", Int(*from));
                            o.set("to", Int(*to));
                            auto path = JsonValue::Array();
                            for (const Hash& h : *proof) path.push_back(JsonValue(ToBase64(h)));
                            o.set("proof", path);
                            return Json(200, o);
                          }));
  // A mirror (docs/mirror.md) reads every entry, like a regulator.
  const Access entry_readers =
      Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator", "admin", "mirror"});
  PEDIGREE_TRY(router.Add(
      "GET", "/v1/log/entries/{index}", entry_readers.Scoped("entry", api::EntryScope(node)),
      [&node](const HttpRequest& req) {
        auto index = NumberParam(req.path_params, "index");
        if (!index) return ErrorResponse(index.error());
        if (*index >= node.ledger().size()) {
          return ErrorResponse(
              Error("entry.not_found", "no entry " + std::to_string(*index) + " in this log")
                  .at_field("index"));
        }
        // Checked against its leaf hash: an entry edited in the database is a 500
        // (storage.corrupt, logged), never served.
        auto entry = node.ledger().Entry(*index);
        if (!entry) return ErrorResponse(entry.error());
        auto parsed = ParseJson(*entry);
        if (!parsed) {
          return ErrorResponse(
              Error("storage.corrupt", "stored entry " + std::to_string(*index) +
                                           " does not parse: " + parsed.error().ToString()));
        }
        return Json(200, *parsed);
      }));
  // C2SP tlog-tiles hash tiles: /v1/log/tile/<L>/<N>[.p/<W>], N written as x001/x234/067.
  auto tile = [&node](const HttpRequest& req) {
    auto level = NumberParam(req.path_params, "level");
    if (!level || *level > 7) {
      return ErrorResponse(
          Error("request.bad_parameter", "tile level must be 0 to 7").at_field("level"));
    }
    std::vector<std::string> parts;
    for (const char* name : {"a", "b", "c", "d", "e"}) {
      if (auto it = req.path_params.find(name); it != req.path_params.end())
        parts.push_back(it->second);
    }
    auto index = api::ParseTileIndex(parts);
    if (!index) return ErrorResponse(index.error());
    return api::TileResponse(static_cast<uint32_t>(*level), *index, node.ledger().storage());
  };
  for (const char* pattern :
       {"/v1/log/tile/{level}/{a}", "/v1/log/tile/{level}/{a}/{b}",
        "/v1/log/tile/{level}/{a}/{b}/{c}", "/v1/log/tile/{level}/{a}/{b}/{c}/{d}",
        "/v1/log/tile/{level}/{a}/{b}/{c}/{d}/{e}"}) {
    PEDIGREE_TRY(router.Add("GET", pattern, Access::Public(), tile));
  }
  // C2SP tlog-tiles entry bundles: /v1/log/tile/entries/<N>[.p/<W>]. A bundle holds every
  // entry in full, whoever it names, so only the roles that may read every entry get it:
  // mirrors and regulators (docs/mirror.md, docs/threat-model.md).
  auto entry_bundle = [&node](const HttpRequest& req) {
    std::vector<std::string> parts;
    for (const char* name : {"a", "b", "c", "d", "e"}) {
      if (auto it = req.path_params.find(name); it != req.path_params.end())
        parts.push_back(it->second);
    }
    auto index = api::ParseTileIndex(parts);
    if (!index) return ErrorResponse(index.error());
    return api::EntryBundleResponse(*index, node.ledger().size(), node.ledger().storage());
  };
  for (const char* pattern :
       {"/v1/log/tile/entries/{a}", "/v1/log/tile/entries/{a}/{b}",
        "/v1/log/tile/entries/{a}/{b}/{c}", "/v1/log/tile/entries/{a}/{b}/{c}/{d}",
        "/v1/log/tile/entries/{a}/{b}/{c}/{d}/{e}"}) {
    PEDIGREE_TRY(router.Add("GET", pattern, Access::AnyOf({"mirror", "regulator"}), entry_bundle));
  }
  PEDIGREE_TRY(AddTrialRoutes(router, node, options.sponsor_store, options.max_dataset_bytes));
  PEDIGREE_TRY(AddReceiptRoutes(router, node, options.witness_client));
  PEDIGREE_TRY(AddImageRoutes(router, node, options));
  PEDIGREE_TRY(AddEpcisRoutes(router, node));
  return AddReportRoutes(router, node);
}

}  // namespace pedigree::services
