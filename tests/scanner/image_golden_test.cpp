// Golden images in sample_data/barcodes/: N.png or N.jpg with sidecar N.txt holding the
// raw content of every symbol in the image, one per line, GS written as <GS>. The
// images are produced by GoldenImages() below from our renderers; to regenerate them
// after a deliberate renderer change run
//   PEDIGREE_WRITE_GOLDENS=1 build/tests/test_scanner --run_test=image_golden
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "scanner/synthetic_image.h"

using namespace pedigree;
using namespace pedigree::scanner;
namespace fs = std::filesystem;

namespace {

const fs::path kGoldenDir = fs::path(PEDIGREE_SOURCE_DIR) / "sample_data" / "barcodes";

struct Golden {
  std::string file;  // N.png or N.jpg
  Image image;
  std::vector<std::string> expected;  // raw contents, GS as <GS>
};

Image Must(Result<Image> r) {
  if (!r) BOOST_FAIL(r.error().ToString());
  return std::move(*r);
}

std::vector<Golden> GoldenImages() {
  using namespace synthetic;
  std::vector<Golden> out;
  // 1: the EU FMD pack code: GS1 DataMatrix (01)(17)(10)(21).
  out.push_back({"1.png",
                 Must(RenderPackLabel("09506000134352", "261231", "LOT2026A", "SN0000001", {6, 2})),
                 {"]d2010950600013435217261231"
                  "10LOT2026A<GS>21SN0000001"}});
  // 2: GS1-128 SSCC of a pallet (GS1 General Specifications example SSCC).
  out.push_back({"2.png",
                 Must(RenderCode128("00106141411234567897", 80, {2, 10})),
                 {"]C100106141411234567897"}});
  // 3: QR Code with a GS1 Digital Link URI.
  out.push_back({"3.png",
                 Must(RenderQrCode("https://id.gs1.org/01/09506000134352/21/SN0000001")),
                 {"]Q1https://id.gs1.org/01/09506000134352/21/SN0000001"}});
  // 4: EAN-13 of the trade item.
  out.push_back({"4.png", Must(RenderEan13("9506000134352", 80, {3, 9})), {"]E09506000134352"}});
  // 5: a case label carrying four symbols.
  {
    Image label = Blank(760, 420);
    Paste(label, Must(RenderCode128("00106141411234567897", 90, {2, 10})), 10, 10);
    Paste(label,
          Must(RenderDataMatrix("0119506000134359"
                                "17261231"
                                "10LOT2026A\x1D"
                                "3724",
                                {5, 2})),
          20, 180);
    Paste(label, Must(RenderEan13("9506000134352", 70, {2, 9})), 240, 220);
    Paste(label, Must(RenderQrCode("https://id.gs1.org/01/19506000134359/10/LOT2026A", {3, 4})),
          560, 180);
    out.push_back({"5.png",
                   std::move(label),
                   {"]C100106141411234567897",
                    "]d20119506000134359"
                    "17261231"
                    "10LOT2026A<GS>3724",
                    "]E09506000134352", "]Q1https://id.gs1.org/01/19506000134359/10/LOT2026A"}});
  }
  // 6: a pack code turned by 33 degrees, off-centre on a busy background.
  {
    Rng rng(6);
    Image scene = ClutteredBackground(400, 300, rng, 0);  // noise-free: PNG stays small
    Paste(scene,
          Rotate(Must(RenderPackLabel("09506000134352", "270630", "B77", "00042", {4, 2})), 33), 30,
          40);
    out.push_back({"6.png",
                   std::move(scene),
                   {"]d2010950600013435217270630"
                    "10B77<GS>2100042"}});
  }
  // 7: a camera-like JPEG: blurred, noisy, on a busy background.
  {
    Rng rng(7);
    Image scene = ClutteredBackground(480, 320, rng);
    Image code = Rotate(
        Must(RenderPackLabel("09506000134352", "261231", "LOT2026A", "SN0000777", {5, 2})), -12);
    Paste(scene, code, 150, 70);
    scene = AddNoise(Blur(scene, 1, 2), 4.0, rng);
    out.push_back({"7.jpg",
                   std::move(scene),
                   {"]d2010950600013435217261231"
                    "10LOT2026A<GS>21SN0000777"}});
  }
  return out;
}

std::string Readable(std::string raw) {
  std::string out;
  for (char c : raw) out += c == '\x1D' ? std::string("<GS>") : std::string(1, c);
  return out;
}

Bytes Encode(const Golden& g) {
  auto bytes = g.file.ends_with(".jpg") ? EncodeJpeg(g.image, 80) : EncodePng(g.image);
  if (!bytes) BOOST_FAIL(bytes.error().ToString());
  return *bytes;
}

std::vector<std::string> ReadSidecar(const fs::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_golden)

BOOST_AUTO_TEST_CASE(committed_golden_images_match_the_renderers) {
  const bool write = std::getenv("PEDIGREE_WRITE_GOLDENS") != nullptr;
  for (const auto& g : GoldenImages()) {
    BOOST_TEST_CONTEXT(g.file) {
      const Bytes encoded = Encode(g);
      const fs::path image_path = kGoldenDir / g.file;
      const fs::path sidecar = fs::path(image_path).replace_extension(".txt");
      if (write) {
        std::ofstream(image_path, std::ios::binary)
            .write(reinterpret_cast<const char*>(encoded.data()),
                   static_cast<std::streamsize>(encoded.size()));
        std::ofstream side(sidecar);
        for (const auto& line : g.expected) side << line << "\n";
      }
      std::ifstream in(image_path, std::ios::binary);
      const Bytes committed((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      BOOST_TEST(committed.size() < 50'000u);
      BOOST_TEST((committed == encoded), "renderer output differs from " << image_path);
      BOOST_TEST(ReadSidecar(sidecar) == g.expected, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(every_golden_image_decodes_to_its_sidecar) {
  int images = 0, read = 0;
  for (const auto& entry : fs::directory_iterator(kGoldenDir)) {
    const auto ext = entry.path().extension();
    if (ext != ".png" && ext != ".jpg") continue;
    ++images;
    BOOST_TEST_CONTEXT(entry.path().filename()) {
      auto image = LoadImageFile(entry.path().string());
      if (!image) BOOST_FAIL(image.error().ToString());
      auto symbols = DecodeImage(*image);
      if (!symbols) BOOST_FAIL(symbols.error().ToString());
      std::vector<std::string> got;
      for (const auto& s : *symbols) got.push_back(s.error ? s.error->code() : Readable(s.raw));
      auto expected = ReadSidecar(fs::path(entry.path()).replace_extension(".txt"));
      std::ranges::sort(got);
      std::ranges::sort(expected);
      BOOST_TEST(got == expected, boost::test_tools::per_element());
      read += got == expected ? 1 : 0;
    }
  }
  BOOST_TEST(images >= 7);
  BOOST_TEST_MESSAGE("golden read rate " << read << "/" << images);
}

BOOST_AUTO_TEST_SUITE_END()
