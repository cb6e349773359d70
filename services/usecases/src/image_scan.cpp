#include "pedigree/usecases/image_scan.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "pedigree/base/bytes.h"
#include "pedigree/scanner/gs1.h"

namespace pedigree::services {
namespace {

// "Image/PNG; charset=x" -> "image/png".
std::string MediaType(std::string_view content_type) {
  std::string_view type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  std::string out(type);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

JsonValue ScanErrorJson(const Error& e) {
  auto o = JsonValue::Object();
  o.set("code", JsonValue(e.code()));
  o.set("message", JsonValue(e.message()));
  if (!e.field().empty()) o.set("field", JsonValue(e.field()));
  if (e.location().offset) o.set("offset", JsonValue(static_cast<int64_t>(*e.location().offset)));
  return o;
}

JsonValue Gs1ReadingJson(std::string_view raw) {
  auto data = scanner::ParseGs1(raw);
  if (!data) {
    auto o = JsonValue::Object();
    o.set("error", ScanErrorJson(data.error()));
    auto hints = JsonValue::Array();
    for (const auto& f : scanner::DiagnoseGs1(raw).findings) hints.push_back(JsonValue(f.message));
    if (hints.size() > 0) o.set("hints", hints);
    return o;
  }
  auto o = JsonValue::Object();
  o.set("form", JsonValue(data->source_form));
  if (!data->symbology.empty()) o.set("symbology", JsonValue(data->symbology));
  auto elements = JsonValue::Array();
  for (const auto& e : data->elements) {
    auto el = JsonValue::Object();
    el.set("ai", JsonValue(e.ai));
    el.set("value", JsonValue(e.value));
    elements.push_back(el);
  }
  o.set("elements", elements);
  if (auto pack = data->pack_id()) o.set("packId", JsonValue(pack->DigitalLinkUri()));
  if (auto expiry = data->expiry()) o.set("expiry", JsonValue(expiry->IsoDate()));
  o.set("bracketed", JsonValue(data->BracketedString()));
  if (auto dl = data->DigitalLinkUri(); dl) o.set("digitalLink", JsonValue(*dl));
  auto warnings = JsonValue::Array();
  for (const auto& w : data->warnings) warnings.push_back(JsonValue(w.message));
  if (warnings.size() > 0) o.set("warnings", warnings);
  return o;
}

JsonValue DecodedSymbolJson(const scanner::DecodedSymbol& s) {
  auto item = JsonValue::Object();
  item.set("format", JsonValue(std::string(scanner::SymbologyName(s.format))));
  item.set("symbologyIdentifier", JsonValue(s.symbology_identifier));
  item.set("raw", JsonValue(s.raw));
  auto corners = JsonValue::Array();
  for (const auto& p : s.corners) {
    auto c = JsonValue::Array();
    c.push_back(JsonValue(int64_t{p.x}));
    c.push_back(JsonValue(int64_t{p.y}));
    corners.push_back(c);
  }
  item.set("corners", corners);
  item.set("orientation", JsonValue(int64_t{s.orientation_degrees}));
  if (s.error) {
    item.set("error", ScanErrorJson(*s.error));
  } else if (s.gs1) {
    item.set("gs1", Gs1ReadingJson(s.raw));
  } else {
    item.set("content", JsonValue(s.content));
  }
  return item;
}

scanner::DecodeOptions ScanDecodeOptions() {
  scanner::DecodeOptions options;
  options.all_symbols = true;
  return options;
}

scanner::DecodeOptions VerifyDecodeOptions() {
  scanner::DecodeOptions options = ScanDecodeOptions();
  options.formats = {scanner::Symbology::kDataMatrix, scanner::Symbology::kQrCode,
                     scanner::Symbology::kCode128, scanner::Symbology::kDataBarExpanded};
  return options;
}

bool IsImageContentType(std::string_view content_type) {
  return MediaType(content_type).starts_with("image/");
}

Status CheckImageBody(std::string_view content_type, std::string_view body,
                      const scanner::LoadLimits& limits) {
  const std::string type = MediaType(content_type);
  if (type != "image/png" && type != "image/jpeg") {
    return Fail(Error("request.unsupported_media_type",
                      "an image is sent as " + std::string(kImageMediaTypes) + ", not '" +
                          std::string(content_type.substr(0, 100)) + "'")
                    .at_field("Content-Type"));
  }
  if (body.empty()) {
    return Fail(Error("image.empty", "the body is empty; send the " + type + " image's bytes"));
  }
  const std::string_view sniffed = scanner::SniffImageType(AsBytes(body));
  if (sniffed != type) {
    return Fail(
        Error("image.type_mismatch", "Content-Type says " + type + " but the body " +
                                         (sniffed.empty() ? std::string("starts like no image")
                                                          : "starts like " + std::string(sniffed)))
            .at_field("Content-Type"));
  }
  if (static_cast<uint64_t>(body.size()) > static_cast<uint64_t>(limits.max_bytes)) {
    return Fail(Error("image.too_large", "the image is " + std::to_string(body.size()) +
                                             " bytes, limit " + std::to_string(limits.max_bytes))
                    .with_detail("limit", limits.max_bytes)
                    .with_detail("value", static_cast<int64_t>(body.size())));
  }
  return Ok();
}

Result<scanner::Image> LoadImageBody(std::string_view content_type, std::string_view body,
                                     const scanner::LoadLimits& limits) {
  PEDIGREE_TRY(CheckImageBody(content_type, body, limits));
  return scanner::LoadImageMemory(AsBytes(body), limits);
}

}  // namespace pedigree::services
