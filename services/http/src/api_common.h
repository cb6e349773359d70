// Request and response plumbing shared by the HTTP handler files (api.cpp, api_trials.cpp,
// api_reports.cpp). Private to services/.
#pragma once

#include <cstdint>
#include <string>

#include "pedigree/base/canonical_json.h"
#include "pedigree/http/http_server.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services::api {

// A JSON answer (canonical bytes) with `status`.
HttpResponse Json(int status, const JsonValue& value);

JsonValue Int(uint64_t v);

// The body as a JSON object (integers only): request.invalid_body or json.* otherwise.
[[nodiscard]] Result<JsonValue> BodyObject(const HttpRequest& req);

// The body of a command the node signs: a JSON object without the members the node sets
// (v, org, time, kind: request.reserved_field), with the Idempotency-Key header, when
// given, as its clientId.
[[nodiscard]] Result<JsonValue> CommandBody(const HttpRequest& req);

// 201 {"index","kind"}: the command's entry is durable at `index`.
HttpResponse Created(uint64_t index, const std::string& kind);

// A non-empty query parameter: request.missing_parameter otherwise.
[[nodiscard]] Result<std::string> RequiredQuery(const HttpRequest& req, const std::string& name);

// Records a verify scan of `answer`'s pack as a `verify` event signed for the caller's
// organisation at `location` (a GLN), with `client_id` when not empty; its ledger index.
[[nodiscard]] Result<uint64_t> RecordVerify(SupplyNode& node, const HttpRequest& req,
                                            const VerifyAnswer& answer, const std::string& location,
                                            const std::string& client_id);

}  // namespace pedigree::services::api
