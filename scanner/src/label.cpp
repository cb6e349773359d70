// Symbol renderers. GS1 DataMatrix uses our own encoder (datamatrix_encoder.h) because
// ZXing-cpp 1.4's writer cannot put FNC1 in a Data Matrix; GS1-128, QR and EAN-13 use
// ZXing's MultiFormatWriter (its Code 128 writer takes U+00F1 as FNC1).
#define ZX_USE_UTF8 1
#include "pedigree/scanner/label.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "datamatrix_encoder.h"
#include "pedigree/provenance/identifiers.h"

// Sean Barrett's public-domain vector font (Debian libstb-dev): each glyph is a few
// axis-aligned segments on a unit grid, which we fill at an integer scale.
#include <stb/stb_easy_font.h>

namespace pedigree::scanner {
namespace {

constexpr wchar_t kCode128Fnc1 = L'\u00f1';

Status CheckGeometry(const SymbolGeometry& g) {
  if (g.module_px < 1 || g.module_px > 64 || g.quiet_zone_modules < 0 ||
      g.quiet_zone_modules > 64) {
    return Fail("label.geometry",
                "module_px " + std::to_string(g.module_px) + " (1..64) or quiet_zone_modules " +
                    std::to_string(g.quiet_zone_modules) + " (0..64) out of range");
  }
  return Ok();
}

Status CheckElementString(std::string_view s) {
  if (s.empty()) return Fail("label.empty", "element string is empty");
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c != 0x1D && (c < 0x21 || c > 0x7E)) {
      return Fail(Error("label.invalid_character",
                        "byte " + std::to_string(c) + " is neither printable ASCII nor GS (29)")
                      .at_offset(i));
    }
  }
  return Ok();
}

// Draws a cols x rows module grid; a single-row grid (linear symbol) is stretched to
// bar_height_px. The quiet zone is added on all four sides.
Image Draw(int cols, int rows, const std::function<bool(int, int)>& dark, const SymbolGeometry& g,
           int bar_height_px = 0) {
  const int q = g.quiet_zone_modules * g.module_px;
  const int body_h = rows == 1 && bar_height_px > 0 ? bar_height_px : rows * g.module_px;
  Image img;
  img.width = cols * g.module_px + 2 * q;
  img.height = body_h + 2 * q;
  img.gray.assign(static_cast<size_t>(img.width) * img.height, 255);
  for (int y = 0; y < body_h; ++y) {
    const int my = rows == 1 ? 0 : y / g.module_px;
    for (int x = 0; x < cols * g.module_px; ++x) {
      if (dark(x / g.module_px, my)) img.at(q + x, q + y) = 0;
    }
  }
  return img;
}

Result<Image> RenderWithZXing(ZXing::BarcodeFormat format, const std::wstring& contents,
                              const SymbolGeometry& g, int bar_height_px) {
  try {
    const ZXing::BitMatrix m = ZXing::MultiFormatWriter(format).setMargin(0).encode(contents, 0, 0);
    // A linear symbol comes back as a single row; a matrix symbol as its modules.
    return Draw(
        m.width(), m.height(), [&](int x, int y) { return m.get(x, y); }, g, bar_height_px);
  } catch (const std::exception& e) {
    return Fail("label.encode", std::string(ZXing::ToString(format)) + " writer: " + e.what());
  }
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
}

// GS1 mod-10 check digit over all digits of `body` (the check digit excluded).
char Gs1CheckDigit(std::string_view body) {
  int sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    const int d = body[body.size() - 1 - i] - '0';
    sum += (i % 2 == 0) ? 3 * d : d;
  }
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

// stb_easy_font's line pitch in font units: glyphs (descenders included) fit in 0..10.
constexpr int kFontLineUnits = 12;

// Copies `src` into `dst` with its top-left corner at (x, y).
void Blit(Image& dst, const Image& src, int x, int y) {
  for (int sy = 0; sy < src.height; ++sy) {
    for (int sx = 0; sx < src.width; ++sx) dst.at(x + sx, y + sy) = src.at(sx, sy);
  }
}

Image WhiteImage(int width, int height) {
  Image img;
  img.width = width;
  img.height = height;
  img.gray.assign(static_cast<size_t>(width) * height, 255);
  return img;
}

// "261231" -> "2026-12-31"; a day of 00 (end of the month, GS1 General Specifications
// 3.4.2) prints as "2026-12". Years are 20YY: medicines expire within the century.
std::string ExpiryText(std::string_view yymmdd) {
  std::string out =
      "20" + std::string(yymmdd.substr(0, 2)) + "-" + std::string(yymmdd.substr(2, 2));
  if (yymmdd.substr(4, 2) != "00") out += "-" + std::string(yymmdd.substr(4, 2));
  return out;
}

// Text lines drawn one under another, left-aligned, black on white.
Result<Image> RenderTextBlock(const std::vector<std::string>& lines, int scale) {
  std::vector<Image> rendered;
  int width = 0;
  int height = 0;
  for (const std::string& line : lines) {
    PEDIGREE_ASSIGN(img, RenderText(line, scale));
    width = std::max(width, img->width);
    height += img->height;
    rendered.push_back(std::move(*img));
  }
  Image block = WhiteImage(width, height);
  int y = 0;
  for (const Image& img : rendered) {
    Blit(block, img, 0, y);
    y += img.height;
  }
  return block;
}

Status CheckPackFields(std::string_view gtin14, std::string_view expiry_yymmdd,
                       std::string_view lot, std::string_view serial);

}  // namespace

Result<Image> RenderText(std::string_view text, int scale) {
  if (scale < 1 || scale > 64) {
    return Fail("label.geometry", "text scale " + std::to_string(scale) + " not in 1..64");
  }
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7E) {
      return Fail(
          Error("label.invalid_character", "byte " + std::to_string(c) + " is not printable ASCII")
              .at_offset(i));
    }
  }
  std::string copy(text);
  const int units_wide = stb_easy_font_width(copy.data());
  Image img = WhiteImage(std::max(1, units_wide) * scale, kFontLineUnits * scale);
  // Each quad is 4 vertices of 16 bytes (x, y, z floats and an RGBA colour).
  std::vector<char> quads(64 * 32 * (copy.size() + 1));
  const int count =
      stb_easy_font_print(0, 0, copy.data(), nullptr, quads.data(), static_cast<int>(quads.size()));
  for (int q = 0; q < count; ++q) {
    float v[4][4];
    std::copy_n(quads.data() + 64 * q, 64, reinterpret_cast<char*>(v));
    const float x0 = std::min({v[0][0], v[1][0], v[2][0], v[3][0]});
    const float x1 = std::max({v[0][0], v[1][0], v[2][0], v[3][0]});
    const float y0 = std::min({v[0][1], v[1][1], v[2][1], v[3][1]});
    const float y1 = std::max({v[0][1], v[1][1], v[2][1], v[3][1]});
    const int px0 = std::clamp(static_cast<int>(x0 * scale + 0.5f), 0, img.width);
    const int px1 = std::clamp(static_cast<int>(x1 * scale + 0.5f), 0, img.width);
    const int py0 = std::clamp(static_cast<int>(y0 * scale + 0.5f), 0, img.height);
    const int py1 = std::clamp(static_cast<int>(y1 * scale + 0.5f), 0, img.height);
    for (int y = py0; y < py1; ++y) {
      for (int x = px0; x < px1; ++x) img.at(x, y) = 0;
    }
  }
  return img;
}

std::vector<std::string> FmdHumanReadableLines(std::string_view gtin14,
                                               std::string_view expiry_yymmdd, std::string_view lot,
                                               std::string_view serial) {
  return {"PC: " + std::string(gtin14), "SN: " + std::string(serial), "Batch: " + std::string(lot),
          "Exp: " + ExpiryText(expiry_yymmdd)};
}

int HriTextScale(const SymbolGeometry& geometry) {
  return std::max(2, (geometry.module_px + 1) / 2);
}

Result<Image> RenderDataMatrix(std::string_view gs1_element_string,
                               const SymbolGeometry& geometry) {
  if (auto ok = CheckGeometry(geometry); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckElementString(gs1_element_string); !ok) return std::unexpected(ok.error());
  auto grid = EncodeGs1DataMatrix(gs1_element_string);
  if (!grid) return std::unexpected(grid.error());
  return Draw(
      grid->size, grid->size, [&](int x, int y) { return grid->dark[y * grid->size + x] != 0; },
      geometry);
}

Result<Image> RenderCode128(std::string_view gs1_element_string, int height_px,
                            const SymbolGeometry& geometry) {
  if (auto ok = CheckGeometry(geometry); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckElementString(gs1_element_string); !ok) return std::unexpected(ok.error());
  if (height_px < 1 || height_px > 4096) {
    return Fail("label.geometry", "bar height " + std::to_string(height_px) + " not in 1..4096");
  }
  if (gs1_element_string.size() > 80) {
    return Fail("label.too_long", "GS1-128 content is " +
                                      std::to_string(gs1_element_string.size()) +
                                      " characters, at most 80");
  }
  std::wstring contents(1, kCode128Fnc1);
  for (char c : gs1_element_string) contents += c == '\x1D' ? kCode128Fnc1 : wchar_t(c);
  return RenderWithZXing(ZXing::BarcodeFormat::Code128, contents, geometry, height_px);
}

Result<Image> RenderQrCode(std::string_view text, const SymbolGeometry& geometry) {
  if (auto ok = CheckGeometry(geometry); !ok) return std::unexpected(ok.error());
  if (text.empty()) return Fail("label.empty", "QR Code text is empty");
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c > 0x7E) {
      return Fail(
          Error("label.invalid_character", "byte " + std::to_string(c) + " is not printable ASCII")
              .at_offset(i));
    }
  }
  return RenderWithZXing(ZXing::BarcodeFormat::QRCode, std::wstring(text.begin(), text.end()),
                         geometry, 0);
}

Result<Image> RenderEan13(std::string_view digits, int height_px, const SymbolGeometry& geometry) {
  if (auto ok = CheckGeometry(geometry); !ok) return std::unexpected(ok.error());
  if (!AllDigits(digits) || (digits.size() != 12 && digits.size() != 13)) {
    return Fail("label.invalid_character",
                "EAN-13 needs 12 or 13 digits, got \"" + std::string(digits) + "\"");
  }
  if (height_px < 1 || height_px > 4096) {
    return Fail("label.geometry", "bar height " + std::to_string(height_px) + " not in 1..4096");
  }
  std::string full(digits);
  const char expected = Gs1CheckDigit(digits.substr(0, 12));
  if (full.size() == 12) full += expected;
  if (full[12] != expected) {
    return Fail(Error("label.check_digit", "EAN-13 check digit is " + std::string(1, full[12]) +
                                               ", expected " + std::string(1, expected))
                    .at_offset(12));
  }
  return RenderWithZXing(ZXing::BarcodeFormat::EAN13, std::wstring(full.begin(), full.end()),
                         geometry, height_px);
}

Result<Image> RenderPackLabel(std::string_view gtin14, std::string_view expiry_yymmdd,
                              std::string_view lot, std::string_view serial,
                              const SymbolGeometry& geometry) {
  if (auto ok = CheckPackFields(gtin14, expiry_yymmdd, lot, serial); !ok) {
    return std::unexpected(ok.error());
  }
  std::string element_string = "01" + std::string(gtin14) + "17" + std::string(expiry_yymmdd) +
                               "10" + std::string(lot) + "\x1D" + "21" + std::string(serial);
  return RenderDataMatrix(element_string, geometry);
}

Result<Image> RenderFmdPackLabel(std::string_view gtin14, std::string_view expiry_yymmdd,
                                 std::string_view lot, std::string_view serial,
                                 const SymbolGeometry& geometry) {
  PEDIGREE_ASSIGN(symbol_or, RenderPackLabel(gtin14, expiry_yymmdd, lot, serial, geometry));
  PEDIGREE_ASSIGN(text_or,
                  RenderTextBlock(FmdHumanReadableLines(gtin14, expiry_yymmdd, lot, serial),
                                  HriTextScale(geometry)));
  const Image& symbol = *symbol_or;
  const Image& text = *text_or;
  // Art. 7(2): the human-readable elements adjacent to the code: to its right, with a
  // margin of the symbol's quiet zone (at least two modules) around the text.
  const int margin =
      std::max(2 * geometry.module_px, geometry.quiet_zone_modules * geometry.module_px);
  const int height = std::max(symbol.height, text.height + 2 * margin);
  Image label = WhiteImage(symbol.width + text.width + margin, height);
  Blit(label, symbol, 0, (height - symbol.height) / 2);
  Blit(label, text, symbol.width, (height - text.height) / 2);
  return label;
}

Result<Image> RenderSsccLabel(std::string_view sscc18, const SymbolGeometry& geometry) {
  auto sscc = provenance::Sscc::Parse(sscc18);
  if (!sscc) return std::unexpected(sscc.error().at_field("sscc"));
  const int bar_height = 40 * geometry.module_px;
  PEDIGREE_ASSIGN(bars_or, RenderCode128("00" + sscc->value(), bar_height, geometry));
  // GS1 General Specifications 4.15: the HRI under the symbol, AIs in parentheses.
  PEDIGREE_ASSIGN(text_or, RenderText("(00) " + sscc->value(), HriTextScale(geometry) + 1));
  const Image& bars = *bars_or;
  const Image& text = *text_or;
  const int q = geometry.quiet_zone_modules * geometry.module_px;
  // The bars end q pixels above the symbol image's bottom; the text goes into that
  // quiet zone's lower part, one module under the bars at the least.
  const int text_top = bars.height - q + std::max(geometry.module_px, q / 4);
  const int width = std::max(bars.width, text.width + 2 * q);
  Image label = WhiteImage(width, text_top + text.height + q);
  Blit(label, bars, (width - bars.width) / 2, 0);
  Blit(label, text, (width - text.width) / 2, text_top);
  return label;
}

namespace {

Status CheckPackFields(std::string_view gtin14, std::string_view expiry_yymmdd,
                       std::string_view lot, std::string_view serial) {
  if (gtin14.size() != 14 || !AllDigits(gtin14)) {
    return Fail(Error("label.gtin", "GTIN \"" + std::string(gtin14) + "\" is not 14 digits")
                    .at_field("gtin"));
  }
  if (const char expected = Gs1CheckDigit(gtin14.substr(0, 13)); gtin14[13] != expected) {
    return Fail(Error("label.gtin", "GTIN check digit is " + std::string(1, gtin14[13]) +
                                        ", expected " + std::string(1, expected))
                    .at_field("gtin")
                    .at_offset(13));
  }
  if (expiry_yymmdd.size() != 6 || !AllDigits(expiry_yymmdd)) {
    return Fail(Error("label.expiry", "expiry \"" + std::string(expiry_yymmdd) + "\" is not YYMMDD")
                    .at_field("expiry"));
  }
  if (lot.empty() || lot.size() > 20) {
    return Fail(
        Error("label.lot", "lot has " + std::to_string(lot.size()) + " characters, expected 1..20")
            .at_field("lot"));
  }
  if (serial.empty() || serial.size() > 20) {
    return Fail(Error("label.serial",
                      "serial has " + std::to_string(serial.size()) + " characters, expected 1..20")
                    .at_field("serial"));
  }
  return Ok();
}

}  // namespace

}  // namespace pedigree::scanner
