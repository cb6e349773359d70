// Rendering GS1 symbols into images and writing them as PNG: labels for test fixtures,
// the demo scenario and printing. Every renderer's output is read back by DecodeImage
// (image.h) in the tests. See docs/scanning.md ("Images").
#pragma once

#include <string>
#include <string_view>

#include "pedigree/base/bytes.h"
#include "pedigree/base/error.h"
#include "pedigree/scanner/image.h"

namespace pedigree::scanner {

// Module size and quiet zone shared by the renderers. A module is drawn as a
// module_px x module_px black or white square; quiet_zone_modules of white surround it.
struct SymbolGeometry {
  int module_px = 4;           // 1..64
  int quiet_zone_modules = 2;  // 0..64; GS1 asks for 1 (DataMatrix) and 10 (GS1-128).
};

// GS1 DataMatrix (ECC 200, square, ASCII encodation) for a GS1 element string such as
// "0109506000134352" "17251231" "10ABC" "\x1D" "21XYZ": FNC1 is put in first position by
// the renderer (so the symbol reads back as ]d2), and each GS in the input becomes an
// FNC1 separator. Up to 174 data codewords (48x48 modules). Errors:
// label.empty, label.invalid_character (not printable ASCII or GS; offset given),
// label.too_long, label.geometry.
[[nodiscard]] Result<Image> RenderDataMatrix(std::string_view gs1_element_string,
                                             const SymbolGeometry& geometry = {});

// GS1-128 (Code 128 with FNC1 after the start character; GS in the input becomes FNC1),
// e.g. an SSCC "00" "106141411234567897". height_px is the bar height. Same errors as
// RenderDataMatrix, label.too_long above 80 characters.
[[nodiscard]] Result<Image> RenderCode128(std::string_view gs1_element_string, int height_px,
                                          const SymbolGeometry& geometry = {4, 10});

// QR Code with plain text content (reads back as ]Q1), e.g. a GS1 Digital Link URI.
[[nodiscard]] Result<Image> RenderQrCode(std::string_view text,
                                         const SymbolGeometry& geometry = {4, 4});

// EAN-13 from 12 digits (check digit appended) or 13 digits (check digit verified:
// label.check_digit names both values).
[[nodiscard]] Result<Image> RenderEan13(std::string_view digits, int height_px,
                                        const SymbolGeometry& geometry = {3, 9});

// The pack code of the EU Falsified Medicines Directive: a GS1 DataMatrix holding
// (01) GTIN-14, (17) expiry YYMMDD, (10) lot, (21) serial, in that order, with GS after
// the lot. Errors: label.gtin (not 14 digits or wrong check digit), label.expiry
// (not 6 digits), label.lot / label.serial (empty or over 20 characters), and those of
// RenderDataMatrix.
[[nodiscard]] Result<Image> RenderPackLabel(std::string_view gtin14, std::string_view expiry_yymmdd,
                                            std::string_view lot, std::string_view serial,
                                            const SymbolGeometry& geometry = {});

// 8-bit grayscale PNG (colour type 0). Errors: image.invalid, image.encode,
// image.write (path cannot be written; OS reason attached).
[[nodiscard]] Result<Bytes> EncodePng(const Image& image);
[[nodiscard]] Status WritePng(const Image& image, const std::string& path);

// Baseline JPEG, quality 1..100 (lossy: for fixtures that mimic camera output).
[[nodiscard]] Result<Bytes> EncodeJpeg(const Image& image, int quality);

}  // namespace pedigree::scanner
