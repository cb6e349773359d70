#include "api_common.h"

#include <algorithm>
#include <charconv>

#include "pedigree/log/integrity.h"
#include "pedigree/log/tiles.h"
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

Result<JsonValue> ParseJsonBody(const HttpRequest& req) {
  auto body = ParseJson(req.body, {.integers_only = true});
  if (!body) {
    // Either not JSON (the chassis's answer, as for BodyKind::kJson) or JSON the
    // integers-only rule refuses (the parser's own code, as BodyObject answers).
    PEDIGREE_TRY(CheckJsonSyntax(req.body));
    return std::unexpected(body.error());
  }
  return body;
}

Result<JsonValue> CommandBody(const HttpRequest& req) {
  PEDIGREE_ASSIGN(body, ParseJsonBody(req));
  if (!body->is_object())
    return Fail(Error("request.invalid_body", "the body must be a JSON object"));
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

Result<TileIndex> ParseTileIndex(std::vector<std::string> parts) {
  auto bad = [](const std::string& why) {
    return Fail(Error("request.bad_tile_path", "tile path: " + why).at_field("path"));
  };
  TileIndex index;
  if (parts.size() >= 2 && parts[parts.size() - 2].ends_with(".p")) {
    const std::string& w = parts.back();
    uint32_t width = 0;
    auto [end, ec] = std::from_chars(w.data(), w.data() + w.size(), width);
    if (ec != std::errc() || end != w.data() + w.size() || width < 1 || width > 255) {
      return bad("partial width '" + w + "' must be 1 to 255");
    }
    index.width = width;
    parts.pop_back();
    parts.back().resize(parts.back().size() - 2);
  }
  if (parts.empty()) return bad("missing index");
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string_view group = parts[i];
    bool last = i + 1 == parts.size();
    if (!last) {
      if (!group.starts_with("x")) return bad("'" + parts[i] + "' must be x followed by 3 digits");
      group.remove_prefix(1);
    }
    if (group.size() != 3 ||
        !std::all_of(group.begin(), group.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return bad("'" + parts[i] + "' must hold 3 digits");
    }
    index.n = index.n * 1000 + static_cast<uint64_t>(std::stoi(std::string(group)));
  }
  return index;
}

HttpResponse TileResponse(uint32_t level, const TileIndex& index, log::LogStorage& storage) {
  auto bytes = log::ReadTile(level, index.n, index.width, storage);
  if (!bytes) return ErrorResponse(bytes.error());
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.body.assign(bytes->begin(), bytes->end());
  r.headers["Cache-Control"] =
      index.width == log::kTileWidth ? "public, max-age=31536000, immutable" : "no-cache";
  return r;
}

HttpResponse EntryBundleResponse(const TileIndex& index, uint64_t size, log::LogStorage& storage) {
  const uint64_t begin = index.n * log::kTileWidth;
  const uint64_t end = begin + index.width;
  if (end > size) {
    return ErrorResponse(Error("entry.not_found", "entry bundle " + std::to_string(index.n) +
                                                      " of width " + std::to_string(index.width) +
                                                      " reaches past the log's size " +
                                                      std::to_string(size)));
  }
  auto entries = storage.ReadEntries(begin, end);
  if (!entries) return ErrorResponse(entries.error());
  for (uint64_t i = begin; i < end; ++i) {
    if (auto ok = log::CheckStoredEntry(storage, i, (*entries)[i - begin]); !ok)
      return ErrorResponse(ok.error());
  }
  auto bytes = log::EncodeEntryBundle(*entries);
  if (!bytes) return ErrorResponse(bytes.error());
  HttpResponse r;
  r.content_type = "application/octet-stream";
  r.body.assign(bytes->begin(), bytes->end());
  r.headers["Cache-Control"] = "private, no-store";
  return r;
}

}  // namespace pedigree::services::api
