// DecodeImage on top of ZXing-cpp 1.4. ZXing types stay in this file: the library links
// ZXing privately.
#define ZX_USE_UTF8 1
#include <ZXing/ReadBarcode.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <tuple>

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

// `assumed` names the format when ZXing does not (its failed results carry None).
DecodedSymbol Convert(const ZXing::Result& r, PixelPoint offset,
                      std::optional<Symbology> assumed = std::nullopt) {
  DecodedSymbol s;
  std::string_view name = "unknown";
  for (const auto& m : kFormats) {
    if (m.zxing == r.format() || (assumed && *assumed == m.symbology)) {
      s.format = m.symbology;
      name = m.name;
    }
  }
  const auto& pos = r.position();
  for (int i = 0; i < 4; ++i) s.corners[i] = {pos[i].x + offset.x, pos[i].y + offset.y};
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

size_t CountValid(const std::vector<DecodedSymbol>& symbols) {
  return static_cast<size_t>(
      std::ranges::count_if(symbols, [](const auto& s) { return !s.error; }));
}

bool SameSymbol(const DecodedSymbol& a, const DecodedSymbol& b) {
  if (a.format != b.format || a.raw != b.raw || a.error.has_value() != b.error.has_value()) {
    return false;
  }
  // Same content at (nearly) the same place: the same print found twice. Two packs with
  // identical codes side by side stay two symbols.
  const auto centre = [](const DecodedSymbol& s) {
    PixelPoint c;
    for (const auto& p : s.corners) c = {c.x + p.x, c.y + p.y};
    return PixelPoint{c.x / 4, c.y / 4};
  };
  const PixelPoint ca = centre(a), cb = centre(b);
  const int span = std::max(std::abs(a.corners[0].x - a.corners[2].x),
                            std::abs(a.corners[0].y - a.corners[2].y));
  return std::abs(ca.x - cb.x) <= span / 2 + 2 && std::abs(ca.y - cb.y) <= span / 2 + 2;
}

void Add(std::vector<DecodedSymbol>& symbols, DecodedSymbol s) {
  for (auto& existing : symbols) {
    if (SameSymbol(existing, s)) return;
  }
  symbols.push_back(std::move(s));
}

// ZXing 1.4 built without C++20 coroutines (as Debian ships it) looks for a Data Matrix
// only along the image's two centre lines, finds an L finder only from the side its
// solid edges face, and returns at most one symbol per call. To find off-centre and
// multiple symbols at any rotation we hand it bands whose centre lines sweep the image,
// horizontally and vertically. A symbol up to band_px/2 - step_px pixels across lies wholly
// inside the band whose centre line passes nearest its middle.
// `scale` > 1: `view` is the image shrunk by that factor; bands and step shrink with it
// (the same sweep in image pixels) and the symbols found are reported in image pixels.
void SweepDataMatrix(const ZXing::ImageView& view, ZXing::DecodeHints hints,
                     ZXing::Binarizer binarizer, int max_symbols,
                     std::vector<DecodedSymbol>& symbols, int scale = 1) {
  const int step_px = 48 / scale;
  const int band_px = 2 * 200 / scale;
  hints.setFormats(ZXing::BarcodeFormat::DataMatrix)
      .setTryDownscale(binarizer != ZXing::Binarizer::FixedThreshold)
      .setTryHarder(false)
      .setTryRotate(true)
      .setBinarizer(binarizer);
  // Band centre lines ordered by distance from the image centre, horizontal and
  // vertical interleaved: a photo is usually aimed at the symbol, so with max_symbols = 1
  // the search ends after a few bands.
  struct Line {
    bool horizontal;
    int centre;
    int distance;
  };
  std::vector<Line> lines;
  for (const bool horizontal : {true, false}) {
    const int extent = horizontal ? view.height() : view.width();
    for (int centre = extent / 2 % step_px; centre < extent; centre += step_px) {
      lines.push_back({horizontal, centre, std::abs(centre - extent / 2)});
    }
  }
  std::ranges::sort(lines, [](const Line& a, const Line& b) {
    return std::tie(a.distance, b.horizontal, a.centre) <
           std::tie(b.distance, a.horizontal, b.centre);
  });
  for (const auto& line : lines) {
    const int extent = line.horizontal ? view.height() : view.width();
    // Keep the band's centre line on `centre` near the image edges too.
    const int half = std::min({line.centre, extent - line.centre, band_px / 2});
    if (half < 8) continue;
    const int start = line.centre - half;
    const ZXing::ImageView band = line.horizontal ? view.cropped(0, start, view.width(), 2 * half)
                                                  : view.cropped(start, 0, 2 * half, view.height());
    for (const auto& r : ZXing::ReadBarcodes(band, hints)) {
      DecodedSymbol s = Convert(r, line.horizontal ? PixelPoint{0, start} : PixelPoint{start, 0});
      for (auto& corner : s.corners) corner = {corner.x * scale, corner.y * scale};
      Add(symbols, std::move(s));
      if (static_cast<int>(symbols.size()) >= max_symbols) return;
    }
  }
}

// Mean-of-window thresholding over a (2 radius + 1)^2 window (integral image), output
// 0 = dark, 255 = light. ZXing's LocalAverage binarizer thresholds 8x8 blocks against
// a 40x40 neighbourhood and loses low-contrast labels whose narrow quiet zone is darker
// than what surrounds them; a small window centred on each pixel follows the quiet zone.
// A small window also hollows out dark areas wider than itself, so callers try a
// larger one as well.
std::vector<uint8_t> AdaptiveThreshold(const Image& image, int radius) {
  constexpr int kBias = 3;  // keeps sensor noise in flat areas light
  const int w = image.width, h = image.height;
  const size_t stride = static_cast<size_t>(w) + 1;
  // The integral wraps around 2^32 on large images; window sums stay exact because
  // unsigned arithmetic is modular and a window's sum is far below 2^32.
  std::vector<uint32_t> integral(stride * (static_cast<size_t>(h) + 1), 0);
  for (int y = 0; y < h; ++y) {
    const uint8_t* src = image.gray.data() + static_cast<size_t>(y) * w;
    const uint32_t* above = integral.data() + static_cast<size_t>(y) * stride;
    uint32_t* row = integral.data() + (static_cast<size_t>(y) + 1) * stride;
    uint32_t run = 0;
    for (int x = 0; x < w; ++x) {
      run += src[x];
      row[x + 1] = above[x + 1] + run;
    }
  }
  std::vector<uint8_t> out(static_cast<size_t>(w) * h);
  for (int y = 0; y < h; ++y) {
    const int y0 = std::max(0, y - radius), y1 = std::min(h, y + radius + 1);
    const uint32_t* top = integral.data() + static_cast<size_t>(y0) * stride;
    const uint32_t* bottom = integral.data() + static_cast<size_t>(y1) * stride;
    const uint8_t* src = image.gray.data() + static_cast<size_t>(y) * w;
    uint8_t* dst = out.data() + static_cast<size_t>(y) * w;
    for (int x = 0; x < w; ++x) {
      const int x0 = std::max(0, x - radius), x1 = std::min(w, x + radius + 1);
      const uint32_t sum = bottom[x1] - bottom[x0] - top[x1] + top[x0];
      const uint32_t count = static_cast<uint32_t>((x1 - x0) * (y1 - y0));
      dst[x] = (src[x] + kBias) * count < sum ? 0 : 255;
    }
  }
  return out;
}

// The image at half resolution: each pixel the mean of a 2 x 2 block (an odd last row or
// column is dropped).
Image Halve(const Image& image) {
  Image half;
  half.width = image.width / 2;
  half.height = image.height / 2;
  half.gray.resize(static_cast<size_t>(half.width) * half.height);
  for (int y = 0; y < half.height; ++y) {
    const uint8_t* top = image.gray.data() + static_cast<size_t>(2 * y) * image.width;
    const uint8_t* bottom = top + image.width;
    uint8_t* out = half.gray.data() + static_cast<size_t>(y) * half.width;
    for (int x = 0; x < half.width; ++x) {
      out[x] = static_cast<uint8_t>(
          (top[2 * x] + top[2 * x + 1] + bottom[2 * x] + bottom[2 * x + 1] + 2) / 4);
    }
  }
  return half;
}

// The size of a Data Matrix's modules in image pixels, estimated from below: its shortest
// side over the side of the smallest square ECC 200 symbol that holds its content in ASCII
// encodation (digit pairs one codeword, FNC1 one) — what an encoder picks. A rectangular
// symbol's short side makes the estimate smaller still; only a bigger symbol than needed
// makes it too large. 0 for anything else.
double ModulePxAtLeast(const DecodedSymbol& s) {
  if (s.error || s.format != Symbology::kDataMatrix) return 0;
  int codewords = s.gs1 ? 1 : 0;
  const std::string& c = s.content;
  for (size_t i = 0; i < c.size(); ++i) {
    const auto digit = [&](size_t j) { return j < c.size() && c[j] >= '0' && c[j] <= '9'; };
    if (digit(i) && digit(i + 1)) {
      ++i;
    } else if (static_cast<unsigned char>(c[i]) > 127) {
      ++codewords;  // Upper Shift
    }
    ++codewords;
  }
  // Square ECC 200 symbols: {modules per side, data codewords}.
  static constexpr std::array<std::pair<int, int>, 24> kSquare{
      {{10, 3},   {12, 5},   {14, 8},    {16, 12},    {18, 18},    {20, 22},
       {22, 30},  {24, 36},  {26, 44},   {32, 62},    {36, 86},    {40, 114},
       {44, 144}, {48, 174}, {52, 204},  {64, 280},   {72, 368},   {80, 456},
       {88, 576}, {96, 696}, {104, 816}, {120, 1050}, {132, 1304}, {144, 1558}}};
  int modules = 144;
  for (const auto& [side, capacity] : kSquare) {
    if (capacity >= codewords) {
      modules = side;
      break;
    }
  }
  double shortest = 0;
  for (int i = 0; i < 4; ++i) {
    const PixelPoint a = s.corners[i], b = s.corners[(i + 1) % 4];
    const double side = std::hypot(a.x - b.x, a.y - b.y);
    shortest = i == 0 ? side : std::min(shortest, side);
  }
  return shortest / modules;
}

double LargestModulePx(const std::vector<DecodedSymbol>& symbols) {
  double largest = 0;
  for (const auto& s : symbols) largest = std::max(largest, ModulePxAtLeast(s));
  return largest;
}

// Modules of 3.5 px are 1.75 px at half resolution: about the smallest ZXing 1.4 reads
// reliably once blurred and noisy.
constexpr double kHalfSweepMinModulePx = 3.5;

constexpr int kHybridBlock = 8;

// ZXing's HybridBinarizer works on images of at least 5 x 5 blocks.
bool HybridBinarizes(const Image& image) {
  return image.width >= 5 * kHybridBlock && image.height >= 5 * kHybridBlock;
}

// ZXing 1.4's HybridBinarizer ("LocalAverage") over the whole image once, output 0 = dark,
// 255 = light: a black point per 8x8 block (its mean, or half its minimum when the block is
// flat, unless darker than its neighbours' black points), each block thresholded at the
// mean black point of the 5x5 blocks around it. The Data Matrix sweep hands ZXing
// overlapping bands of the image, and ZXing binarised every band afresh: 80% of a sweep's
// time went to binarising each pixel some 16 times. Bands of this image, read with
// ZXing's fixed threshold, see the same black and white as ZXing would (block edges aside).
// Precondition: HybridBinarizes(image).
std::vector<uint8_t> HybridBinarize(const Image& image) {
  constexpr int kBlock = kHybridBlock;
  constexpr int kMinDynamicRange = 24;
  const int w = image.width, h = image.height;
  const int sub_w = (w + kBlock - 1) / kBlock, sub_h = (h + kBlock - 1) / kBlock;
  const uint8_t* lum = image.gray.data();
  std::vector<int> black(static_cast<size_t>(sub_w) * sub_h);
  const auto at = [&](int x, int y) -> int& { return black[static_cast<size_t>(y) * sub_w + x]; };
  for (int y = 0; y < sub_h; ++y) {
    const int y0 = std::min(y * kBlock, h - kBlock);
    for (int x = 0; x < sub_w; ++x) {
      const int x0 = std::min(x * kBlock, w - kBlock);
      int sum = 0, lo = 255, hi = 0;
      for (int yy = 0; yy < kBlock; ++yy) {
        const uint8_t* row = lum + static_cast<size_t>(y0 + yy) * w + x0;
        for (int xx = 0; xx < kBlock; ++xx) {
          sum += row[xx];
          lo = std::min<int>(lo, row[xx]);
          hi = std::max<int>(hi, row[xx]);
        }
      }
      int average = sum / (kBlock * kBlock);
      if (hi - lo <= kMinDynamicRange) {
        average = lo / 2;
        if (y > 0 && x > 0) {
          const int neighbours = (at(x, y - 1) + 2 * at(x - 1, y) + at(x - 1, y - 1)) / 4;
          if (lo < neighbours) average = neighbours;
        }
      }
      at(x, y) = average;
    }
  }
  std::vector<uint8_t> out(static_cast<size_t>(w) * h);
  // Through a local pointer: a store through uint8_t* may alias the vector's own pointer,
  // and GCC then reloads it for every pixel.
  uint8_t* const dst = out.data();
  for (int y = 0; y < sub_h; ++y) {
    const int y0 = std::min(y * kBlock, h - kBlock);
    const int top = std::clamp(y, 2, sub_h - 3);
    for (int x = 0; x < sub_w; ++x) {
      const int x0 = std::min(x * kBlock, w - kBlock);
      const int left = std::clamp(x, 2, sub_w - 3);
      int sum = 0;
      for (int dy = -2; dy <= 2; ++dy) {
        for (int dx = -2; dx <= 2; ++dx) sum += at(left + dx, top + dy);
      }
      const int threshold = sum / 25;
      for (int yy = 0; yy < kBlock; ++yy) {
        const size_t offset = static_cast<size_t>(y0 + yy) * w + x0;
        for (int xx = 0; xx < kBlock; ++xx) {
          dst[offset + xx] = lum[offset + xx] <= threshold ? 0 : 255;
        }
      }
    }
  }
  return out;
}

bool HasValid(const std::vector<DecodedSymbol>& symbols, Symbology format) {
  return std::ranges::any_of(symbols,
                             [&](const auto& s) { return s.format == format && !s.error; });
}

// ZXing 1.4's ReadBarcodes drops symbols that were located but failed error correction
// (it returns them with format None and then filters them out); its single-symbol
// ReadBarcode keeps the error. So, for matrix formats that produced nothing, ask once
// more for one symbol of that format and report its error.
void AddFailures(const ZXing::ImageView& view, ZXing::DecodeHints hints,
                 const DecodeOptions& options, std::vector<DecodedSymbol>& symbols) {
  for (const Symbology format : {Symbology::kDataMatrix, Symbology::kQrCode}) {
    const bool wanted = options.formats.empty() ||
                        std::ranges::find(options.formats, format) != options.formats.end();
    if (!wanted || HasValid(symbols, format) ||
        static_cast<int>(symbols.size()) >= options.max_symbols) {
      continue;
    }
    hints.setFormats(ToZXing({format})).setTryHarder(false).setReturnErrors(true);
    const ZXing::Result r = ZXing::ReadBarcode(view, hints);
    if (r.error()) symbols.push_back(Convert(r, {0, 0}, format));
  }
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
      .setEanAddOnSymbol(ZXing::EanAddOnSymbol::Ignore)
      // Debian's ZXing 1.4 is built with assertions on, and ReadBarcodes aborts the
      // process (Result::operator==, "lineCount() == 1") when a linear symbol found at
      // full resolution is found again, with fewer scan lines, in a downscaled layer.
      // No downscaled layers while linear formats are enabled; the Data Matrix sweep,
      // which asks for nothing else, keeps them.
      .setTryDownscale(!ToZXing(options.formats).testFlags(ZXing::BarcodeFormat::LinearCodes));

  const bool want_datamatrix =
      options.formats.empty() ||
      std::ranges::find(options.formats, Symbology::kDataMatrix) != options.formats.end();
  const bool only_datamatrix =
      options.formats.size() == 1 && options.formats[0] == Symbology::kDataMatrix;
  const bool thorough = options.effort == DecodeEffort::kThorough;
  const bool fallbacks = options.effort != DecodeEffort::kFast;
  std::vector<DecodedSymbol> symbols;
  const auto enough = [&] { return static_cast<int>(symbols.size()) >= options.max_symbols; };
  const auto datamatrix_missing = [&] {
    return want_datamatrix && !enough() && (thorough || !HasValid(symbols, Symbology::kDataMatrix));
  };
  try {
    // Cheapest first: one pass over the whole image, then the Data Matrix band sweep
    // (the pack case), then ZXing's exhaustive mode for the other formats, then the
    // sweep again on our own binarisations for low-contrast labels.
    // The matrix readers binarise the whole image with ZXing's LocalAverage, the band
    // sweep and the failure pass need the same binarisation: compute it once, read it with
    // ZXing's fixed threshold. (Linear readers threshold each scan row themselves and
    // never asked for the matrix.)
    // An image under 40 px on a side is left to ZXing, which binarises it with a global
    // histogram instead (as its HybridBinarizer does for such images).
    const bool prebinarise = HybridBinarizes(image);
    const ZXing::Binarizer binarised =
        prebinarise ? ZXing::Binarizer::FixedThreshold : ZXing::Binarizer::LocalAverage;
    std::vector<uint8_t> hybrid;
    const auto hybrid_view = [&] {
      if (!prebinarise) return view;
      if (hybrid.empty()) hybrid = HybridBinarize(image);
      return ZXing::ImageView(hybrid.data(), image.width, image.height, ZXing::ImageFormat::Lum);
    };
    hints.setTryHarder(thorough);
    const ZXing::BarcodeFormats wanted = ToZXing(options.formats);
    const ZXing::BarcodeFormats linear = wanted & ZXing::BarcodeFormat::LinearCodes;
    const ZXing::BarcodeFormats matrix = wanted & ZXing::BarcodeFormat::MatrixCodes;
    if (!thorough && !linear.empty() && !matrix.empty()) {
      // Both reader sets, their results ordered as one ZXing call orders them: by the
      // top-left corner, top to bottom, then left to right.
      ZXing::DecodeHints split = hints;
      ZXing::Results results = ZXing::ReadBarcodes(view, split.setFormats(linear));
      split.setFormats(matrix).setBinarizer(binarised);
      for (auto& r : ZXing::ReadBarcodes(hybrid_view(), split)) results.push_back(std::move(r));
      // A stable order without std::stable_sort (its temporary buffer is a deprecation
      // error under clang 19 -Werror, the fuzz build): sort indices, ties by index.
      std::vector<size_t> order(results.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::ranges::sort(order, [&](size_t a, size_t b) {
        const auto pa = results[a].position().topLeft(), pb = results[b].position().topLeft();
        return std::tie(pa.y, pa.x, a) < std::tie(pb.y, pb.x, b);
      });
      for (const size_t i : order) Add(symbols, Convert(results[i], {0, 0}));
    } else {
      for (const auto& r : ZXing::ReadBarcodes(view, hints)) Add(symbols, Convert(r, {0, 0}));
    }
    if (fallbacks && datamatrix_missing()) {
      SweepDataMatrix(hybrid_view(), hints, binarised, options.max_symbols, symbols);
    } else if (fallbacks && options.all_symbols && want_datamatrix && !enough()) {
      // A Data Matrix was read; the sweep looks for further packs. At half resolution it
      // binarises and searches a quarter of the pixels: the full-resolution sweep was most
      // of a one-pack photo's decode (POST /v1/verify). Packs photographed together share
      // the distance, so their modules are about as large as the first one's; below
      // kHalfSweepMinModulePx the sweep stays at full resolution.
      const Image half = LargestModulePx(symbols) >= kHalfSweepMinModulePx ? Halve(image) : Image{};
      if (HybridBinarizes(half)) {
        std::vector<uint8_t> binary = HybridBinarize(half);
        const ZXing::ImageView half_view(binary.data(), half.width, half.height,
                                         ZXing::ImageFormat::Lum);
        SweepDataMatrix(half_view, hints, ZXing::Binarizer::FixedThreshold, options.max_symbols,
                        symbols, 2);
      } else {
        SweepDataMatrix(hybrid_view(), hints, binarised, options.max_symbols, symbols);
      }
    }
    // tryHarder changes nothing for Data Matrix in ZXing 1.4, so skip it for DM alone.
    if (options.effort == DecodeEffort::kFastThenThorough && !only_datamatrix &&
        CountValid(symbols) == 0) {
      hints.setTryHarder(true);
      for (const auto& r : ZXing::ReadBarcodes(view, hints)) Add(symbols, Convert(r, {0, 0}));
    }
    for (const int radius : {6, 16}) {
      if (!fallbacks || !datamatrix_missing()) break;
      const std::vector<uint8_t> binary = AdaptiveThreshold(image, radius);
      const ZXing::ImageView binary_view(binary.data(), image.width, image.height,
                                         ZXing::ImageFormat::Lum);
      SweepDataMatrix(binary_view, hints, ZXing::Binarizer::BoolCast, options.max_symbols, symbols);
    }
    if (options.include_failures && fallbacks) {
      AddFailures(hybrid_view(), hints.setBinarizer(binarised), options, symbols);
    }
  } catch (const std::exception& e) {
    // ZXing 1.4 documents no throwing reader, but a library exception must not cross us.
    return Fail("image.decoder", std::string("barcode decoder failed: ") + e.what());
  }
  // Each ZXing pass honours the limit on its own; together they may exceed it.
  if (static_cast<int>(symbols.size()) > options.max_symbols) symbols.resize(options.max_symbols);
  return symbols;
}

}  // namespace pedigree::scanner
