// Symbol renderers. GS1 DataMatrix uses our own encoder (datamatrix_encoder.h) because
// ZXing-cpp 1.4's writer cannot put FNC1 in a Data Matrix; GS1-128, QR and EAN-13 use
// ZXing's MultiFormatWriter (its Code 128 writer takes U+00F1 as FNC1).
#define ZX_USE_UTF8 1
#include "pedigree/scanner/label.h"

#include <ZXing/BitMatrix.h>
#include <ZXing/MultiFormatWriter.h>

#include <functional>
#include <string>

#include "datamatrix_encoder.h"

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

}  // namespace

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
  std::string element_string = "01" + std::string(gtin14) + "17" + std::string(expiry_yymmdd) +
                               "10" + std::string(lot) + "\x1D" + "21" + std::string(serial);
  return RenderDataMatrix(element_string, geometry);
}

}  // namespace pedigree::scanner
