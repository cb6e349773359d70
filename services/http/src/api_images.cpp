// The image endpoints: POST /v1/scan (every symbol in a PNG or JPEG with its GS1 reading,
// the JSON `pedigree scan` prints) and POST /v1/verify with an image body (a verdict per
// pack symbol, as GET /v1/verify gives). Decoding runs on a DecodePool so that large images
// cannot starve other requests. And the other way round, GET /v1/labels/pack/{gtin}/{serial}:
// a commissioned pack's printable label as PNG, for its manufacturer. See docs/api.md, "Images".
#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <thread>

#include "api_common.h"
#include "pedigree/base/time.h"
#include "pedigree/http/api.h"
#include "pedigree/http/decode_pool.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/scanner/label.h"
#include "pedigree/usecases/image_scan.h"

namespace pedigree::services {
namespace {

using Symbols = std::vector<scanner::DecodedSymbol>;

std::string ContentType(const HttpRequest& req) {
  auto it = req.headers.find("content-type");
  return it == req.headers.end() ? std::string() : it->second;
}

// The body's symbols, decoded on the pool within the time limit. The cheap checks (media
// type, magic bytes, byte limit) run first, on the request's thread.
Result<Symbols> DecodeBody(DecodePool& pool, const HttpRequest& req,
                           std::chrono::milliseconds time_limit,
                           const scanner::DecodeOptions& options) {
  PEDIGREE_TRY(CheckImageBody(ContentType(req), req.body));
  // The task may outlive the request (a decode past the time limit runs to its end on
  // its worker), so it holds a copy of the bytes, not the request.
  auto body = std::make_shared<const std::string>(req.body);
  return pool.Run<Symbols>(
      [body, options]() -> Result<Symbols> {
        PEDIGREE_ASSIGN(image, scanner::LoadImageMemory(AsBytes(*body)));
        return scanner::DecodeImage(*image, options);
      },
      time_limit);
}

HttpResponse Refusal(const Error& e) {
  HttpResponse r = ErrorResponse(e);
  if (e.code() == "image.busy") r.headers["Retry-After"] = "1";
  return r;
}

// The code a symbol carries for verification: its raw data for a GS1 symbology, its
// content otherwise (a QR code may hold a GS1 Digital Link URI). Empty when unread.
std::string CodeOf(const scanner::DecodedSymbol& s) {
  if (s.error) return {};
  return s.gs1 ? s.raw : s.content;
}

// `module` of the label route: the module size in pixels, 1 to 16 (default 4).
Result<int> ModulePx(const HttpRequest& req) {
  auto it = req.query.find("module");
  if (it == req.query.end()) return 4;
  const std::string& v = it->second;
  int n = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 || n > 16) {
    return Fail(Error("request.bad_parameter",
                      "module is '" + v + "'; expected a module size in pixels from 1 to 16")
                    .at_field("module"));
  }
  return n;
}

// The printable label of a commissioned pack: its EU FMD DataMatrix ((01) GTIN, (17) the
// batch's expiry, (10) lot, (21) serial) with the human-readable lines beside it. Only the
// manufacturer of the pack's batch gets it; for anyone else, as for an unknown pack,
// 404 pack.not_found, so the route tells nobody which packs exist.
HttpResponse PackLabel(SupplyNode& node, const HttpRequest& req) {
  const std::string& gtin = req.path_params.at("gtin");
  const std::string& serial = req.path_params.at("serial");
  auto module_px = ModulePx(req);
  if (!module_px) return ErrorResponse(module_px.error());
  const Error not_found =
      Error("pack.not_found", "no pack " + gtin + " / " + serial + " of yours").at_field("serial");
  auto pack = node.Read([&](provenance::ProvenanceView& v) { return v.Pack(gtin, serial); });
  if (!pack) return ErrorResponse(pack.error());
  if (!*pack) return ErrorResponse(not_found);
  auto batch =
      node.Read([&](provenance::ProvenanceView& v) { return v.Batch(gtin, (*pack)->lot); });
  if (!batch) return ErrorResponse(batch.error());
  if (!*batch || (*batch)->manufacturer != req.principal->org_id) return ErrorResponse(not_found);
  // YYYY-MM-DD as the label's YYMMDD.
  const std::string date = FormatDate((*batch)->expiry);
  const std::string yymmdd = date.substr(2, 2) + date.substr(5, 2) + date.substr(8, 2);
  auto image = scanner::RenderFmdPackLabel(gtin, yymmdd, (*pack)->lot, serial,
                                           {.module_px = *module_px, .quiet_zone_modules = 2});
  if (!image) return ErrorResponse(image.error());
  auto png = scanner::EncodePng(*image);
  if (!png) return ErrorResponse(png.error());
  HttpResponse r;
  r.content_type = "image/png";
  r.body.assign(png->begin(), png->end());
  // The label of one organisation's pack: no shared cache keeps it.
  r.headers["Cache-Control"] = "private, max-age=3600";
  return r;
}

}  // namespace

Status AddImageRoutes(Router& router, SupplyNode& node, const ApiOptions& options) {
  const Access members =
      Access::AnyOf({"manufacturer", "wholesaler", "dispenser", "regulator", "admin"});
  const size_t decoders = options.image_decoders
                              ? options.image_decoders
                              : std::max<size_t>(1, std::thread::hardware_concurrency());
  auto pool = std::make_shared<DecodePool>(
      decoders, options.image_queue ? options.image_queue : 4 * decoders);
  const auto time_limit = options.image_time_limit;
  const auto max_bytes = static_cast<size_t>(scanner::LoadLimits{}.max_bytes);

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/scan", members,
      [pool, time_limit](const HttpRequest& req) {
        auto symbols = DecodeBody(*pool, req, time_limit, ScanDecodeOptions());
        if (!symbols) return Refusal(symbols.error());
        auto out = JsonValue::Array();
        for (const auto& s : *symbols) out.push_back(DecodedSymbolJson(s));
        return api::Json(200, out);
      },
      BodyKind::kAny, max_bytes));

  PEDIGREE_TRY(router.Add(
      "POST", "/v1/verify", members,
      [&node, pool, time_limit](const HttpRequest& req) {
        if (!IsImageContentType(ContentType(req))) {
          return ErrorResponse(Error("request.unsupported_media_type",
                                     "POST /v1/verify takes an image (" +
                                         std::string(kImageMediaTypes) +
                                         "); verify a code as text with GET /v1/verify?code=")
                                   .at_field("Content-Type"));
        }
        // As GET /v1/verify: read-only unless record=true (with location=GLN).
        std::string location;
        const bool record = req.query.count("record") && req.query.at("record") == "true";
        if (record) {
          auto it = req.query.find("location");
          if (it == req.query.end() || it->second.empty()) {
            return ErrorResponse(
                Error("request.missing_parameter", "record=true needs location=GLN")
                    .at_field("location"));
          }
          location = it->second;
        }
        auto symbols = DecodeBody(*pool, req, time_limit, VerifyDecodeOptions());
        if (!symbols) return Refusal(symbols.error());
        if (symbols->empty()) {
          return ErrorResponse(Error(
              "image.no_symbol",
              "no barcode was found in the " + std::to_string(req.body.size()) + "-byte image"));
        }
        auto key = req.headers.find("idempotency-key");
        std::map<std::string, int64_t> recorded;  // pack id -> its verify entry
        auto list = JsonValue::Array();
        int64_t packs = 0;
        for (const auto& s : *symbols) {
          JsonValue item = DecodedSymbolJson(s);
          const std::string code = CodeOf(s);
          if (code.empty()) {
            list.push_back(std::move(item));  // Located, not read: its error says why.
            continue;
          }
          // Not a pack: the GS1 parse error, or a reading without AI 01 + 21.
          auto data = scanner::ParseGs1(code);
          if (!data || !data->pack_id()) {
            item.set("notAPack",
                     ScanErrorJson(data ? Error("verify.not_a_pack",
                                                "the code carries no GTIN and serial (AI 01 + "
                                                "21) to verify")
                                        : data.error()));
            list.push_back(std::move(item));
            continue;
          }
          auto answer = node.Verify(code, req.principal->org_id);
          if (!answer) return ErrorResponse(answer.error());
          JsonValue verdict = VerifyAnswerJson(*answer, node.Now());
          if (record) {
            auto done = recorded.find(answer->pack_id);
            if (done == recorded.end()) {
              // One Idempotency-Key covers the photo: the n-th pack's event gets "<key>#n".
              std::string client_id;
              if (key != req.headers.end()) {
                client_id = recorded.empty()
                                ? key->second
                                : key->second + "#" + std::to_string(recorded.size() + 1);
              }
              auto index = api::RecordVerify(node, req, *answer, location, client_id);
              if (!index) return ErrorResponse(index.error());
              done = recorded.emplace(answer->pack_id, static_cast<int64_t>(*index)).first;
            }
            verdict.set("recordedIndex", JsonValue(done->second));
          }
          item.set("verdict", std::move(verdict));
          ++packs;
          list.push_back(std::move(item));
        }
        auto out = JsonValue::Object();
        out.set("packs", JsonValue(packs));
        out.set("symbols", std::move(list));
        return api::Json(200, out);
      },
      BodyKind::kAny, max_bytes));

  return router.Add("GET", "/v1/labels/pack/{gtin}/{serial}", Access::AnyOf({"manufacturer"}),
                    [&node](const HttpRequest& req) { return PackLabel(node, req); });
}

}  // namespace pedigree::services
