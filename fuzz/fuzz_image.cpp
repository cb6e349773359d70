// libFuzzer target: arbitrary bytes through LoadImageMemory and DecodeImage. Inputs that
// start like a PNG, JPEG, BMP, GIF or PNM go through the file decoders; anything else is
// taken as raw 8-bit pixels (first byte picks the width) so the barcode decoders see
// arbitrary images too. Dimensions are capped to keep each run in milliseconds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "pedigree/scanner/image.h"

using namespace pedigree::scanner;

namespace {

bool LooksLikeImageFile(std::span<const uint8_t> d) {
  if (d.size() < 2) return false;
  return (d[0] == 0x89 && d[1] == 'P') || (d[0] == 0xFF && d[1] == 0xD8) ||
         (d[0] == 'B' && d[1] == 'M') || (d[0] == 'G' && d[1] == 'I') || d[0] == 'P';
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> bytes(data, size);
  Image image;
  if (LooksLikeImageFile(bytes)) {
    auto loaded = LoadImageMemory(bytes, {.max_pixels = 512 * 512});
    if (!loaded) return 0;
    image = std::move(*loaded);
  } else {
    if (size < 2) return 0;
    image.width = 8 + bytes[0] % 248;
    image.height = static_cast<int>((size - 1) / static_cast<size_t>(image.width));
    if (image.height < 8) return 0;
    image.gray.assign(bytes.begin() + 1,
                      bytes.begin() + 1 + static_cast<size_t>(image.width) * image.height);
  }
  auto symbols = DecodeImage(image);
  if (symbols) {
    for (const auto& s : *symbols) {
      // Invariants the GS1 parser relies on.
      if (!s.error &&
          s.raw.compare(0, s.symbology_identifier.size(), s.symbology_identifier) != 0) {
        __builtin_trap();
      }
      if (s.error && !s.raw.empty()) __builtin_trap();
    }
  }
  return 0;
}
