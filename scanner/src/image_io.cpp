// Image file codecs. JPEG (what a phone sends) is read with libjpeg-turbo's TurboJPEG API
// straight to 8-bit grey, which never decodes a colour photo's chroma: 1.5-1.6x stb_image
// on a 1280x720 photo. stb_image reads PNG (libpng through zlib measured no faster: a
// photo's PNG is mostly literals, whose inflate costs the same in both), BMP, GIF, PNM and
// CMYK JPEGs; stb_image_write encodes. The stb implementations are compiled here, with
// static linkage, so no other copy in the process collides.
#include <turbojpeg.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>

#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"

#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
// Only formats a label photo or scan plausibly comes in; fewer decoders, less attack surface.
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#define STBI_ONLY_PNM
#define STBI_MAX_DIMENSIONS (1 << 16)
#define STBI_NO_STDIO
#include <stb/stb_image.h>

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO
#include <stb/stb_image_write.h>

namespace pedigree::scanner {
namespace {

struct StbiPixelsDeleter {
  void operator()(stbi_uc* p) const { stbi_image_free(p); }
};
using StbiPixels = std::unique_ptr<stbi_uc, StbiPixelsDeleter>;

Status CheckImage(const Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.gray.size() != static_cast<size_t>(image.width) * static_cast<size_t>(image.height)) {
    return Fail("image.invalid", "image is " + std::to_string(image.width) + "x" +
                                     std::to_string(image.height) + " but holds " +
                                     std::to_string(image.gray.size()) + " pixels");
  }
  return Ok();
}

void AppendToBytes(void* context, void* data, int size) {
  auto* out = static_cast<Bytes*>(context);
  const auto* p = static_cast<const uint8_t*>(data);
  out->insert(out->end(), p, p + size);
}

// stb_image grows its PNG buffer to a chunk's declared length before reading the chunk,
// so a 50-byte file declaring a 2 GB IDAT makes it allocate 2 GB (found by fuzzing).
// Reject chunk lengths that run past the end of the input before stb sees them.
Status CheckPngChunks(std::span<const uint8_t> bytes) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (bytes.size() < 8 || !std::equal(kSignature, kSignature + 8, bytes.begin())) return Ok();
  size_t offset = 8;
  while (offset + 12 <= bytes.size()) {
    const uint64_t length = (uint64_t{bytes[offset]} << 24) | (uint64_t{bytes[offset + 1]} << 16) |
                            (uint64_t{bytes[offset + 2]} << 8) | bytes[offset + 3];
    const size_t remaining = bytes.size() - offset - 12;  // after length, type and CRC
    if (length > remaining) {
      return Fail(Error("image.unreadable", "PNG chunk declares " + std::to_string(length) +
                                                " bytes, only " + std::to_string(remaining) +
                                                " remain")
                      .at_offset(offset));
    }
    if (std::equal(bytes.begin() + offset + 4, bytes.begin() + offset + 8, "IEND")) break;
    offset += 12 + static_cast<size_t>(length);
  }
  return Ok();
}

// stb_image 2.27 reads the width, height and maxval of a binary PNM ("P5"/"P6") into an
// int with no overflow check: ten digits are signed-overflow UB (found by fuzzing). Walk
// the header as stb does (whitespace and '#' comments, then digits) and refuse numbers
// longer than 9 digits before stb sees them; no real image needs them.
Status CheckPnmHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2 || bytes[0] != 'P' || (bytes[1] != '5' && bytes[1] != '6')) return Ok();
  auto is_space = [](uint8_t c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  size_t pos = 2;
  for (int field = 0; field < 3; ++field) {
    for (;;) {
      while (pos < bytes.size() && is_space(bytes[pos])) ++pos;
      if (pos >= bytes.size() || bytes[pos] != '#') break;
      while (pos < bytes.size() && bytes[pos] != '\n' && bytes[pos] != '\r') ++pos;
    }
    const size_t start = pos;
    while (pos < bytes.size() && bytes[pos] >= '0' && bytes[pos] <= '9') ++pos;
    if (pos - start > 9) {
      return Fail(Error("image.unreadable", "PNM header number has " + std::to_string(pos - start) +
                                                " digits, at most 9 are accepted")
                      .at_offset(start));
    }
  }
  return Ok();
}

// stb_image 2.27 builds a JPEG Huffman table into fixed arrays of 256 symbols (257 code
// lengths) without checking that the 16 counts of a DHT table sum to at most 256: a larger
// sum writes past them (found by fuzzing; UBSan: index 257 out of bounds). Walk the marker
// stream as stb does (junk and entropy-coded bytes one at a time, segments by their
// length) and refuse such a table before stb sees it.
Status CheckJpegHuffmanTables(std::span<const uint8_t> bytes) {
  if (bytes.size() < 2 || bytes[0] != 0xFF || bytes[1] != 0xD8) return Ok();
  auto byte_at = [&](size_t i) -> int { return i < bytes.size() ? bytes[i] : 0; };
  size_t pos = 2;
  while (pos < bytes.size()) {
    if (bytes[pos] != 0xFF) {
      ++pos;
      continue;
    }
    while (pos < bytes.size() && bytes[pos] == 0xFF) ++pos;
    if (pos >= bytes.size()) break;
    const int marker = bytes[pos++];
    if (marker == 0xD9) break;  // EOI: stb stops here.
    // Stuffed zero, TEM, RSTn and SOI have no length.
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;
    const int length = (byte_at(pos) << 8) | byte_at(pos + 1);
    if (marker != 0xC4) {
      pos += static_cast<size_t>(length);
      continue;
    }
    int remaining = length - 2;
    size_t at = pos + 2;
    while (remaining > 0 && at < bytes.size()) {
      const int q = byte_at(at);
      if ((q >> 4) > 1 || (q & 15) > 3) return Ok();  // stb refuses this table itself
      int symbols = 0;
      for (size_t i = 1; i <= 16; ++i) symbols += byte_at(at + i);
      if (symbols > 256) {
        return Fail(Error("image.unreadable", "JPEG Huffman table declares " +
                                                  std::to_string(symbols) +
                                                  " symbols, at most 256 are possible")
                        .at_offset(at));
      }
      at += 17 + static_cast<size_t>(symbols);
      remaining -= 17 + symbols;
    }
    if (remaining != 0) return Ok();  // stb refuses the segment and reads no further
    pos = at;
  }
  return Ok();
}

Error TooManyPixels(int64_t width, int64_t height, const LoadLimits& limits) {
  const int64_t pixels = width * height;
  return Error("image.too_large", "image is " + std::to_string(width) + "x" +
                                      std::to_string(height) + " = " + std::to_string(pixels) +
                                      " pixels, limit " + std::to_string(limits.max_pixels))
      .with_detail("limit", limits.max_pixels)
      .with_detail("value", pixels);
}

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};

// A decompressor per thread: creating one allocates, and the decode pool's threads
// decode one image after another. nullptr when TurboJPEG cannot allocate it.
tjhandle ThreadDecompressor() {
  thread_local std::unique_ptr<void, TjDeleter> handle(tjInitDecompress());
  return handle.get();
}

// libjpeg-turbo asked for grey output decodes only the luma component of a YCbCr JPEG:
// no chroma IDCT, upsampling or colour conversion. Warnings (a truncated file, corrupt
// entropy data) are failures, as they are a damaged image; progressive JPEGs are held to
// TurboJPEG's scan limit so that thousands of tiny scans cannot stall a decoder.
// nullopt: a CMYK/YCCK JPEG, which TurboJPEG cannot turn into grey; stb_image reads it.
std::optional<Result<Image>> LoadJpeg(std::span<const uint8_t> bytes, const LoadLimits& limits) {
  tjhandle tj = ThreadDecompressor();
  if (!tj) return Fail("image.unreadable", "cannot start the JPEG decoder");
  int width = 0, height = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj, bytes.data(), static_cast<unsigned long>(bytes.size()), &width,
                          &height, &subsampling, &colorspace) != 0) {
    return Fail("image.unreadable", std::string("cannot decode JPEG: ") + tjGetErrorStr2(tj));
  }
  if (colorspace == TJCS_CMYK || colorspace == TJCS_YCCK) return std::nullopt;
  if (int64_t{width} * int64_t{height} > limits.max_pixels) {
    return std::unexpected(TooManyPixels(width, height, limits));
  }
  Image image;
  image.width = width;
  image.height = height;
  image.gray.resize(static_cast<size_t>(width) * static_cast<size_t>(height));
  if (tjDecompress2(tj, bytes.data(), static_cast<unsigned long>(bytes.size()), image.gray.data(),
                    width, 0, height, TJPF_GRAY, TJFLAG_STOPONWARNING | TJFLAG_LIMITSCANS) != 0) {
    return Fail("image.unreadable", std::string("cannot decode JPEG: ") + tjGetErrorStr2(tj));
  }
  return image;
}

}  // namespace

std::string_view SniffImageType(std::span<const uint8_t> bytes) {
  struct Magic {
    std::string_view bytes, type;
  };
  static constexpr Magic kMagics[] = {
      {"\x89PNG", "image/png"},
      {"\xff\xd8\xff", "image/jpeg"},
      {"BM", "image/bmp"},
      {"GIF8", "image/gif"},
      {"P5", "image/x-portable-graymap"},
      {"P6", "image/x-portable-pixmap"},
  };
  for (const Magic& m : kMagics) {
    if (bytes.size() >= m.bytes.size() &&
        std::equal(m.bytes.begin(), m.bytes.end(), bytes.begin(),
                   [](char a, uint8_t b) { return static_cast<uint8_t>(a) == b; })) {
      return m.type;
    }
  }
  return {};
}

Result<Image> LoadImageMemory(std::span<const uint8_t> bytes, const LoadLimits& limits) {
  if (bytes.empty()) return Fail("image.unreadable", "image data is empty");
  const int64_t max_bytes = std::min<int64_t>(limits.max_bytes, INT32_MAX);
  if (bytes.size() > static_cast<uint64_t>(max_bytes)) {
    return Fail(Error("image.too_large", "image data is " + std::to_string(bytes.size()) +
                                             " bytes, limit " + std::to_string(max_bytes))
                    .with_detail("limit", max_bytes)
                    .with_detail("value", static_cast<int64_t>(bytes.size())));
  }
  if (auto ok = CheckPngChunks(bytes); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckPnmHeader(bytes); !ok) return std::unexpected(ok.error());
  if (auto ok = CheckJpegHuffmanTables(bytes); !ok) return std::unexpected(ok.error());
  const std::string_view type = SniffImageType(bytes);
  if (type == "image/jpeg") {
    if (auto jpeg = LoadJpeg(bytes, limits)) return std::move(*jpeg);
  }
  const int len = static_cast<int>(bytes.size());
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), len, &width, &height, &channels)) {
    return Fail("image.unreadable",
                std::string("not a PNG, JPEG, BMP, GIF or PNM image: ") + stbi_failure_reason());
  }
  const int64_t pixels = int64_t{width} * int64_t{height};
  if (pixels > limits.max_pixels) return std::unexpected(TooManyPixels(width, height, limits));
  StbiPixels data(stbi_load_from_memory(bytes.data(), len, &width, &height, &channels, 1));
  if (!data) {
    return Fail("image.unreadable", std::string("cannot decode image: ") + stbi_failure_reason());
  }
  Image image;
  image.width = width;
  image.height = height;
  image.gray.assign(data.get(), data.get() + static_cast<size_t>(pixels));
  return image;
}

Result<Image> LoadImageFile(const std::string& path, const LoadLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Fail(Error("image.not_found", "cannot open " + path + ": " + std::strerror(errno))
                    .at_field("path"));
  }
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto image = LoadImageMemory(bytes, limits);
  if (!image) return std::unexpected(image.error().with_context(path));
  return image;
}

Result<Bytes> EncodePng(const Image& image) {
  if (auto ok = CheckImage(image); !ok) return std::unexpected(ok.error());
  Bytes out;
  if (!stbi_write_png_to_func(AppendToBytes, &out, image.width, image.height, 1, image.gray.data(),
                              image.width)) {
    return Fail("image.encode", "PNG encoder failed for " + std::to_string(image.width) + "x" +
                                    std::to_string(image.height) + " image");
  }
  return out;
}

Result<Bytes> EncodeJpeg(const Image& image, int quality) {
  if (auto ok = CheckImage(image); !ok) return std::unexpected(ok.error());
  if (quality < 1 || quality > 100) {
    return Fail("image.encode", "JPEG quality " + std::to_string(quality) + " not in 1..100");
  }
  Bytes out;
  if (!stbi_write_jpg_to_func(AppendToBytes, &out, image.width, image.height, 1, image.gray.data(),
                              quality)) {
    return Fail("image.encode", "JPEG encoder failed");
  }
  return out;
}

namespace {

Status WriteBytes(const Bytes& bytes, const std::string& path, bool exclusive) {
  // "x": the file is created, never replaced (C11 fopen exclusive mode).
  std::FILE* f = std::fopen(path.c_str(), exclusive ? "wbx" : "wb");
  if (!f) {
    const std::string reason =
        exclusive && errno == EEXIST ? "it exists and is not overwritten" : std::strerror(errno);
    return Fail(Error("image.write", "cannot write " + path + ": " + reason).at_field("path"));
  }
  const bool written = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  if (std::fclose(f) != 0 || !written) {
    return Fail(Error("image.write", "cannot write " + path + ": " + std::strerror(errno))
                    .at_field("path"));
  }
  return Ok();
}

}  // namespace

Status WritePng(const Image& image, const std::string& path) {
  auto png = EncodePng(image);
  if (!png) return std::unexpected(png.error());
  return WriteBytes(*png, path, false);
}

Status WriteImageFile(const Image& image, const std::string& path, bool exclusive) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  Result<Bytes> bytes = Fail("image.format", "");
  if (ext == ".png") {
    bytes = EncodePng(image);
  } else if (ext == ".jpg" || ext == ".jpeg") {
    bytes = EncodeJpeg(image, 95);
  } else {
    return Fail(Error("image.format", "cannot tell the format of " + path +
                                          " from its extension: use .png, .jpg or .jpeg")
                    .at_field("path"));
  }
  if (!bytes) return std::unexpected(bytes.error());
  return WriteBytes(*bytes, path, exclusive);
}

}  // namespace pedigree::scanner
