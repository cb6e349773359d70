// Rendering GS1 symbols into images and writing them as PNG: labels for test fixtures,
// the demo scenario and printing. Every renderer's output is read back by DecodeImage
// (image.h) in the tests. See docs/scanning.md ("Images").
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

// Human-readable text (HRI) in a vector font (stb_easy_font) drawn at `scale` pixels per
// font unit: each line is 12 units high, black on white; printable ASCII only
// (label.invalid_character, label.geometry for a scale outside 1..64).
[[nodiscard]] Result<Image> RenderText(std::string_view text, int scale);

// The lines printed beside an EU FMD pack code (Delegated Regulation (EU) 2016/161
// Art. 7 for product code and serial, Directive 2001/83/EC Art. 54 for batch and
// expiry): "PC: <GTIN>", "SN: <serial>", "Batch: <lot>", "Exp: YYYY-MM-DD" (YYYY-MM when
// the day is 00).
[[nodiscard]] std::vector<std::string> FmdHumanReadableLines(std::string_view gtin14,
                                                             std::string_view expiry_yymmdd,
                                                             std::string_view lot,
                                                             std::string_view serial);

// The text scale the labels below use for a geometry: max(2, (module_px + 1) / 2).
[[nodiscard]] int HriTextScale(const SymbolGeometry& geometry);

// A printable pack label: RenderPackLabel's DataMatrix with FmdHumanReadableLines to its
// right, each line RenderText(line, HriTextScale(geometry)), vertically centred. Same
// errors as RenderPackLabel.
[[nodiscard]] Result<Image> RenderFmdPackLabel(std::string_view gtin14,
                                               std::string_view expiry_yymmdd, std::string_view lot,
                                               std::string_view serial,
                                               const SymbolGeometry& geometry = {});

// A case or pallet label: the SSCC as GS1-128 (AI 00) with "(00) <18 digits>" centred
// under the bars (RenderText at HriTextScale(geometry) + 1). Errors: those of
// provenance::Sscc::Parse (field "sscc"), and those of RenderCode128.
[[nodiscard]] Result<Image> RenderSsccLabel(std::string_view sscc18,
                                            const SymbolGeometry& geometry = {3, 10});

// 8-bit grayscale PNG (colour type 0). Errors: image.invalid, image.encode,
// image.write (path cannot be written; OS reason attached).
[[nodiscard]] Result<Bytes> EncodePng(const Image& image);
[[nodiscard]] Status WritePng(const Image& image, const std::string& path);

// Baseline JPEG, quality 1..100 (lossy: for fixtures that mimic camera output).
[[nodiscard]] Result<Bytes> EncodeJpeg(const Image& image, int quality);

// An image file in the format of its name: ".png", or ".jpg"/".jpeg" (baseline JPEG,
// quality 95; case-insensitive). With exclusive, an existing file is not replaced
// (image.write). Errors: image.format (any other extension, naming the accepted ones),
// and those of WritePng.
[[nodiscard]] Status WriteImageFile(const Image& image, const std::string& path,
                                    bool exclusive = false);

}  // namespace pedigree::scanner
