// Request and response plumbing shared by the HTTP handler files (api.cpp, api_trials.cpp,
// api_reports.cpp). Private to services/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/http/http_server.h"
#include "pedigree/log/storage.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services::api {

// A JSON answer (canonical bytes) with `status`.
HttpResponse Json(int status, const JsonValue& value);

JsonValue Int(uint64_t v);

// The body as a JSON object (integers only): request.invalid_body or json.* otherwise.
[[nodiscard]] Result<JsonValue> BodyObject(const HttpRequest& req);

// The body parsed once (integers only) for a route that takes JSON: a body that is not
// JSON at all is refused as BodyKind::kJson refuses it (400 request.invalid_json with line
// and column), a well-formed one with a number that is no safe integer keeps the parser's
// json.* code. A route registered BodyKind::kAny that reads its body through this answers
// exactly as a kJson one, without the chassis's separate syntax parse; only a refused body
// is parsed twice (to tell the two refusals apart).
[[nodiscard]] Result<JsonValue> ParseJsonBody(const HttpRequest& req);

// The body of a command the node signs: a JSON object without the members the node sets
// (v, org, time, kind: request.reserved_field), with the Idempotency-Key header, when
// given, as its clientId. Parsed by ParseJsonBody, so its route may be BodyKind::kAny.
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

// A tile's index and width from the path segments after "tile/<L>/" or "tile/entries/"
// (C2SP tlog-tiles): "x001","x234","067" -> 1234067; a last pair "067.p","5" marks a partial
// tile of width 5. request.bad_tile_path otherwise.
struct TileIndex {
  uint64_t n = 0;
  uint32_t width = 256;
};
[[nodiscard]] Result<TileIndex> ParseTileIndex(std::vector<std::string> parts);

// A hash tile (level-`level` tile `index`) read from `storage`, as
// application/octet-stream; full tiles are immutable and cacheable.
HttpResponse TileResponse(uint32_t level, const TileIndex& index, log::LogStorage& storage);

// A C2SP entry bundle of a log of `size` entries: 404 entry.not_found past the end; every
// entry checked against its leaf hash (storage.corrupt, never served otherwise); never cached
// by shared caches (it holds entries in full).
HttpResponse EntryBundleResponse(const TileIndex& index, uint64_t size, log::LogStorage& storage);

}  // namespace pedigree::services::api
