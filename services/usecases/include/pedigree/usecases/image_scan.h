// Images in, symbols out, as JSON: the one renderer `pedigree scan` prints and the HTTP
// image endpoints (POST /v1/scan, POST /v1/verify with an image body) answer, and the
// checks of an image sent over HTTP (its media type against its magic bytes, the limits
// of scanner::LoadLimits). Formats: docs/api.md ("Images") and docs/cli.md (scan).
#pragma once

#include <string_view>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error.h"
#include "pedigree/scanner/image.h"

namespace pedigree::services {

// {"code","message","field"?,"offset"?} of an error that is part of an answer (a GS1
// parse error, a symbol that was located but not read).
JsonValue ScanErrorJson(const Error& e);

// The GS1 reading of one scanner string ({"form","symbology"?,"elements","packId"?,
// "expiry"?,"bracketed","digitalLink"?,"warnings"?}), or {"error","hints"?} saying why it
// has none.
JsonValue Gs1ReadingJson(std::string_view raw);

// One decoded symbol: {"format","symbologyIdentifier","raw","corners":[[x,y]×4],
// "orientation"} and then its "error" (located, not read), its "gs1" reading (a GS1
// symbology identifier) or its "content" (any other data).
JsonValue DecodedSymbolJson(const scanner::DecodedSymbol& symbol);

// How `pedigree scan` and POST /v1/scan decode: every symbology, every symbol
// (all_symbols: a photo may hold several packs).
[[nodiscard]] scanner::DecodeOptions ScanDecodeOptions();

// How POST /v1/verify with an image decodes: every symbol of the symbologies that can
// carry a pack's GTIN and serial (AI 01 + 21): GS1 DataMatrix, QR (GS1 or a Digital Link
// URI), GS1-128 and GS1 DataBar Expanded. EAN/UPC and DataBar Omnidirectional hold a GTIN
// alone and are never a pack; leaving their readers out makes a photo's decode ~1.4x
// faster (docs/performance.md).
[[nodiscard]] scanner::DecodeOptions VerifyDecodeOptions();

// The media types an image body may have over HTTP.
inline constexpr std::string_view kImageMediaTypes = "image/png or image/jpeg";

// The cheap checks of an HTTP image body, before any pixel is decoded: the errors of
// LoadImageBody but those of LoadImageMemory (image.too_large for the byte count is
// checked here too).
[[nodiscard]] Status CheckImageBody(std::string_view content_type, std::string_view body,
                                    const scanner::LoadLimits& limits = {});

// The image an HTTP body holds. `content_type` is the Content-Type header (parameters
// and case ignored). Errors: image.empty (no bytes), request.unsupported_media_type (415:
// not image/png or image/jpeg, field Content-Type), image.type_mismatch (415: the magic
// bytes are not the declared type's), and LoadImageMemory's (image.too_large 413 with
// details limit and value, image.unreadable 400 for a truncated or corrupt image).
[[nodiscard]] Result<scanner::Image> LoadImageBody(std::string_view content_type,
                                                   std::string_view body,
                                                   const scanner::LoadLimits& limits = {});

// True when the Content-Type header names an image (image/*): the body is for the
// image decoders, not JSON.
[[nodiscard]] bool IsImageContentType(std::string_view content_type);

}  // namespace pedigree::services
