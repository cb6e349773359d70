// Pixels in, barcode symbols out: loading PNG/JPEG/BMP files into 8-bit luminance
// images and finding every GS1-relevant symbol in them. Each symbol is returned as GS1
// "raw scanner data" (symbology identifier + content, FNC1 separators as ASCII GS 0x1D),
// the exact string a handheld scanner would send, so the GS1 parser (gs1.h) consumes
// photos and scanner strings alike. See docs/scanning.md ("Images").
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::scanner {

// An 8-bit luminance image, row-major, no padding: gray.size() == width * height,
// 0 is black and 255 white.
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> gray;

  uint8_t at(int x, int y) const { return gray[static_cast<size_t>(y) * width + x]; }
  uint8_t& at(int x, int y) { return gray[static_cast<size_t>(y) * width + x]; }
};

// Upper bounds applied before any pixel is decoded, so a hostile header cannot make us
// allocate gigabytes. The one definition of the image limits: `pedigree scan` and the
// HTTP image endpoints (POST /v1/scan, POST /v1/verify) use the defaults.
struct LoadLimits {
  int64_t max_pixels = 40'000'000;  // 40 MP: a large phone photo fits, a bomb does not.
  int64_t max_bytes = 32 << 20;     // 32 MiB: a 40 MP JPEG is 10-20 MB.
};

// The media type the leading bytes say the data is: "image/png", "image/jpeg",
// "image/bmp", "image/gif", "image/x-portable-graymap" (P5) or
// "image/x-portable-pixmap" (P6); "" for anything else.
[[nodiscard]] std::string_view SniffImageType(std::span<const uint8_t> bytes);

// Reads a PNG, JPEG or BMP (also GIF, TGA, PNM: whatever stb_image 2.27 reads) and
// converts it to luminance. Errors: image.not_found (cannot open), image.too_large
// (more bytes than limits.max_bytes, or width*height over limits.max_pixels, checked from
// the header; details "limit" and "value" name the limit and the image's figure),
// image.unreadable (decoder message from stb_image attached).
[[nodiscard]] Result<Image> LoadImageFile(const std::string& path, const LoadLimits& limits = {});
[[nodiscard]] Result<Image> LoadImageMemory(std::span<const uint8_t> bytes,
                                            const LoadLimits& limits = {});

// Symbologies that carry GS1 data on medicine packs, cases and pallets.
enum class Symbology : uint8_t {
  kDataMatrix,
  kCode128,  // GS1-128 when FNC1 follows the start character (identifier ]C1)
  kQrCode,
  kDataBar,
  kDataBarExpanded,
  kEan13,
  kEan8,
  kUpcA,
  kUpcE,
};

// "DataMatrix", "Code128", "QRCode", "DataBar", "DataBarExpanded", "EAN13", "EAN8",
// "UPCA", "UPCE".
std::string_view SymbologyName(Symbology symbology);

struct PixelPoint {
  int x = 0;
  int y = 0;
  bool operator==(const PixelPoint&) const = default;
};

// How hard DecodeImage looks. kFastThenThorough runs the fast pass and, only when it
// finds nothing, a second pass with the decoder's exhaustive search; that keeps the
// common case (a clear photo) fast without giving up on poor ones.
enum class DecodeEffort : uint8_t { kFast, kFastThenThorough, kThorough };

struct DecodeOptions {
  // Symbologies to look for; empty means all of the enum. Restricting them is the single
  // biggest speed-up when the caller knows what is printed (a pack: DataMatrix only).
  std::vector<Symbology> formats;
  DecodeEffort effort = DecodeEffort::kFastThenThorough;
  // Also scan the image turned by 90/180/270 degrees (matters for linear symbols; matrix
  // symbols are found at any angle regardless).
  bool try_rotate = true;
  // Stop after this many symbols (1..255).
  int max_symbols = 255;
  // Report symbols that were located but failed to decode (error set, raw empty).
  bool include_failures = true;
  // Sweep the image for further Data Matrix symbols after one was found (a photo of
  // several packs). Off, the sweep runs only while none is found, which keeps the common
  // one-pack photo fast; on, every image pays one band sweep (not with kFast).
  bool all_symbols = false;
};

// One symbol found in an image.
struct DecodedSymbol {
  Symbology format = Symbology::kDataMatrix;
  // True when the symbology identifier says the content is GS1 element strings:
  // ]d2 (GS1 DataMatrix), ]C1 (GS1-128), ]Q3 (GS1 QR), ]e0 (DataBar), ]E0/]E4 (EAN/UPC,
  // whose content is a GTIN).
  bool gs1 = false;
  // "]d2", "]C1", "]Q1", "]E0", ... (ISO/IEC 15424); empty if the decoder gave none.
  std::string symbology_identifier;
  // What a scanner would send: symbology_identifier + content, FNC1 separators as GS
  // (0x1D). This is the seam to ParseGs1. Empty when error is set.
  std::string raw;
  // Content without the identifier (raw.substr(symbology_identifier.size())).
  std::string content;
  // Corners in image pixels: top-left, top-right, bottom-right, bottom-left of the
  // symbol as printed (so they rotate with it). Linear symbols give a line: the two
  // ends of the scan line, each repeated.
  std::array<PixelPoint, 4> corners{};
  // Clockwise rotation of the symbol in the image, degrees in [-180, 180].
  int orientation_degrees = 0;
  // Set when the symbol was located but could not be read: image.symbol_checksum
  // (error correction failed), image.symbol_format (invalid structure),
  // image.symbol_unsupported.
  std::optional<Error> error;
};

// Finds all symbols in the image, in the decoder's scan order. No symbol is not an
// error: the result is an empty vector. Errors: image.invalid (dimensions do not match
// the pixel buffer, or are not positive). Thread-safe: no shared state.
[[nodiscard]] Result<std::vector<DecodedSymbol>> DecodeImage(const Image& image,
                                                             const DecodeOptions& options = {});

}  // namespace pedigree::scanner
