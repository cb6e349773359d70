// libFuzzer target: the body handling of the HTTP image endpoints (POST /v1/scan, POST
// /v1/verify with an image). The first byte picks the Content-Type header, the rest is the
// body. CheckImageBody/LoadImageBody must never crash and must refuse with a registered 4xx
// code (a client's image is never a 500); an image that loads is decoded and every symbol
// rendered with DecodedSymbolJson, whose canonical JSON must parse back to the same bytes;
// each symbol's code goes through the GS1 parser as the verify endpoint sends it. Seeds: a
// tiny pack label as PNG and as JPEG (fuzz/seeds/fuzz_image_body, selector byte first).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/scanner/gs1.h"
#include "pedigree/scanner/image.h"
#include "pedigree/usecases/image_scan.h"

using namespace pedigree;

namespace {

constexpr std::string_view kContentTypes[] = {
    "image/png",
    "image/jpeg",
    "IMAGE/PNG; charset=binary",
    " image/jpeg ;q=1",
    "image/gif",
    "text/plain",
    "",
    "image/",
};

void RequireClientError(const Error& e) {
  const ErrorCodeInfo* info = FindErrorCode(e.code());
  if (info == nullptr || info->http_status < 400 || info->http_status >= 500) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view type = kContentTypes[data[0] % std::size(kContentTypes)];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  // Small limits keep each run in milliseconds; the checks are the same at any size.
  const scanner::LoadLimits limits{.max_pixels = 512 * 512, .max_bytes = 1 << 16};
  (void)services::IsImageContentType(type);
  auto image = services::LoadImageBody(type, body, limits);
  if (!image) {
    RequireClientError(image.error());
    return 0;
  }
  auto symbols = scanner::DecodeImage(*image, services::ScanDecodeOptions());
  if (!symbols) std::abort();  // A loaded image is always valid for the decoder.
  for (const auto& s : *symbols) {
    const std::string json = Canonicalize(services::DecodedSymbolJson(s));
    auto parsed = ParseJson(json);
    if (!parsed || Canonicalize(*parsed) != json) std::abort();
    if (s.error) continue;
    auto reading = scanner::ParseGs1(s.gs1 ? s.raw : s.content);
    if (!reading) RequireClientError(reading.error());
  }
  return 0;
}
