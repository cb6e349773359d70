#include "api_common.h"

#include "pedigree/provenance/pack_rules.h"

namespace pedigree::services::api {

HttpResponse Json(int status, const JsonValue& value) {
  HttpResponse r;
  r.status = status;
  r.body = Canonicalize(value);
  return r;
}

JsonValue Int(uint64_t v) { return JsonValue(static_cast<int64_t>(v)); }

Result<JsonValue> BodyObject(const HttpRequest& req) {
  auto body = ParseJson(req.body, {.integers_only = true});
  if (!body) return std::unexpected(body.error());
  if (!body->is_object())
    return Fail(Error("request.invalid_body", "the body must be a JSON object"));
  return body;
}

Result<JsonValue> CommandBody(const HttpRequest& req) {
  PEDIGREE_ASSIGN(body, BodyObject(req));
  for (const char* reserved : {"v", "org", "time", "kind"}) {
    if (body->find(reserved)) {
      return Fail(Error("request.reserved_field",
                        std::string("'") + reserved + "' is set by the node; leave it out")
                      .at_field(reserved));
    }
  }
  if (auto key = req.headers.find("idempotency-key"); key != req.headers.end()) {
    body->set("clientId", JsonValue(key->second));
  }
  return body;
}

HttpResponse Created(uint64_t index, const std::string& kind) {
  return Json(201, JsonValue::Object().set("index", Int(index)).set("kind", JsonValue(kind)));
}

Result<std::string> RequiredQuery(const HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end() || it->second.empty()) {
    return Fail(
        Error("request.missing_parameter", "parameter '" + name + "' is required").at_field(name));
  }
  return it->second;
}

Result<uint64_t> RecordVerify(SupplyNode& node, const HttpRequest& req, const VerifyAnswer& answer,
                              const std::string& location, const std::string& client_id) {
  auto event = JsonValue::Object();
  event.set("kind", JsonValue("verify"));
  auto epcs = JsonValue::Array();
  epcs.push_back(JsonValue(answer.pack_id));
  event.set("epcs", epcs);
  event.set("location", JsonValue(location));
  event.set("verified", JsonValue(answer.verified));
  auto reasons = JsonValue::Array();
  for (const auto& r : answer.reasons)
    reasons.push_back(JsonValue(std::string(provenance::DescribeAlert(r.code).id)));
  event.set("reasons", reasons);
  if (!client_id.empty()) event.set("clientId", JsonValue(client_id));
  return node.SubmitAs(req.principal->org_id, std::move(event));
}

}  // namespace pedigree::services::api
