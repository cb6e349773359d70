// DecodeImage on top of ZXing-cpp 1.4. ZXing types stay in this file: the library links
// ZXing privately.
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

#include <string>

#include "pedigree/scanner/image.h"

namespace pedigree::scanner {
namespace {

struct FormatMapping {
  Symbology symbology;
  ZXing::BarcodeFormat zxing;
  std::string_view name;
};
constexpr FormatMapping kFormats[] = {
    {Symbology::kDataMatrix, ZXing::BarcodeFormat::DataMatrix, "DataMatrix"},
    {Symbology::kCode128, ZXing::BarcodeFormat::Code128, "Code128"},
    {Symbology::kQrCode, ZXing::BarcodeFormat::QRCode, "QRCode"},
    {Symbology::kDataBar, ZXing::BarcodeFormat::DataBar, "DataBar"},
    {Symbology::kDataBarExpanded, ZXing::BarcodeFormat::DataBarExpanded, "DataBarExpanded"},
    {Symbology::kEan13, ZXing::BarcodeFormat::EAN13, "EAN13"},
    {Symbology::kEan8, ZXing::BarcodeFormat::EAN8, "EAN8"},
    {Symbology::kUpcA, ZXing::BarcodeFormat::UPCA, "UPCA"},
    {Symbology::kUpcE, ZXing::BarcodeFormat::UPCE, "UPCE"},
};

ZXing::BarcodeFormats ToZXing(const std::vector<Symbology>& formats) {
  ZXing::BarcodeFormats out;
  for (const auto& m : kFormats) {
    bool wanted = formats.empty();
    for (Symbology s : formats) wanted = wanted || s == m.symbology;
    if (wanted) out |= m.zxing;
  }
  return out;
}

// UPC-E 8 digits (number system, six digits, check) to its GTIN-12 (UPC-A) form.
std::string ExpandUpcE(const std::string& e) {
  if (e.size() != 8) return e;
  const std::string d = e.substr(1, 6);
  std::string body;
  switch (d[5]) {
    case '0':
    case '1':
    case '2':
      body = d.substr(0, 2) + d[5] + "0000" + d.substr(2, 3);
      break;
    case '3':
      body = d.substr(0, 3) + "00000" + d.substr(3, 2);
      break;
    case '4':
      body = d.substr(0, 4) + "00000" + d[4];
      break;
    default:
      body = d.substr(0, 5) + "0000" + d[5];
      break;
  }
  return e.substr(0, 1) + body + e.substr(7, 1);
}

bool IsGs1Identifier(const std::string& si) {
  return si == "]d2" || si == "]C1" || si == "]Q3" || si == "]e0" || si == "]E0" || si == "]E4" ||
         si == "]J1";
}

Error SymbolError(const ZXing::Error& e, std::string_view format) {
  std::string code = "image.symbol_format";
  if (e.type() == ZXing::Error::Checksum) code = "image.symbol_checksum";
  if (e.type() == ZXing::Error::Unsupported) code = "image.symbol_unsupported";
  return Error(code, std::string(format) + " symbol located but not decoded: " + ToString(e));
}

DecodedSymbol Convert(const ZXing::Result& r) {
  DecodedSymbol s;
  std::string_view name = "unknown";
  for (const auto& m : kFormats) {
    if (m.zxing == r.format()) {
      s.format = m.symbology;
      name = m.name;
    }
  }
  const auto& pos = r.position();
  for (int i = 0; i < 4; ++i) s.corners[i] = {pos[i].x, pos[i].y};
  s.orientation_degrees = r.orientation();
  if (r.error()) {
    s.error = SymbolError(r.error(), name);
    return s;
  }
  s.symbology_identifier = r.symbologyIdentifier();
  // bytes(), not text(): a scanner transmits the symbol's bytes, not a transcoding.
  const auto& bytes = r.bytes();
  s.content.assign(bytes.begin(), bytes.end());
  // Scanners transmit UPC-A and UPC-E as the 13-digit EAN form under ]E0; do the same so
  // that ]E0 always means 13 digits.
  if (r.format() == ZXing::BarcodeFormat::UPCE) s.content = "0" + ExpandUpcE(s.content);
  if (r.format() == ZXing::BarcodeFormat::UPCA && s.content.size() == 12) {
    s.content = "0" + s.content;
  }
  s.gs1 = IsGs1Identifier(s.symbology_identifier) || r.contentType() == ZXing::ContentType::GS1;
  s.raw = s.symbology_identifier + s.content;
  return s;
}

size_t CountValid(const ZXing::Results& results) {
  size_t n = 0;
  for (const auto& r : results) n += r.isValid() ? 1 : 0;
  return n;
}

}  // namespace

std::string_view SymbologyName(Symbology symbology) {
  for (const auto& m : kFormats) {
    if (m.symbology == symbology) return m.name;
  }
  return "unknown";
}

Result<std::vector<DecodedSymbol>> DecodeImage(const Image& image, const DecodeOptions& options) {
  if (image.width <= 0 || image.height <= 0 ||
      image.gray.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height)) {
    return Fail("image.invalid", "image is " + std::to_string(image.width) + "x" +
                                     std::to_string(image.height) + " but holds " +
                                     std::to_string(image.gray.size()) + " pixels");
  }
  if (options.max_symbols < 1 || options.max_symbols > 255) {
    return Fail(Error("image.invalid",
                      "max_symbols " + std::to_string(options.max_symbols) + " not in 1..255")
                    .at_field("max_symbols"));
  }
  const ZXing::ImageView view(image.gray.data(), image.width, image.height,
                              ZXing::ImageFormat::Lum);
  ZXing::DecodeHints hints;
  hints.setFormats(ToZXing(options.formats))
      .setTryRotate(options.try_rotate)
      .setMaxNumberOfSymbols(static_cast<uint8_t>(options.max_symbols))
      .setReturnErrors(options.include_failures)
      .setEanAddOnSymbol(ZXing::EanAddOnSymbol::Ignore);

  ZXing::Results results;
  try {
    hints.setTryHarder(options.effort == DecodeEffort::kThorough);
    results = ZXing::ReadBarcodes(view, hints);
    if (options.effort == DecodeEffort::kFastThenThorough && CountValid(results) == 0) {
      hints.setTryHarder(true);
      results = ZXing::ReadBarcodes(view, hints);
    }
  } catch (const std::exception& e) {
    // ZXing 1.4 documents no throwing reader, but a library exception must not cross us.
    return Fail("image.decoder", std::string("barcode decoder failed: ") + e.what());
  }
  std::vector<DecodedSymbol> symbols;
  symbols.reserve(results.size());
  for (const auto& r : results) symbols.push_back(Convert(r));
  return symbols;
}

}  // namespace pedigree::scanner
