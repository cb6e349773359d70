// Read rate on camera-like degradations of rendered symbols. The images are generated
// here from a fixed seed (nothing committed), so the rate is stable run to run; the
// figure is printed with --log_level=message and recorded in docs/scanning.md.
#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <map>
#include <string>

#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "scanner/synthetic_image.h"

using namespace pedigree;
using namespace pedigree::scanner;
using namespace pedigree::scanner::synthetic;

namespace {

Image Must(Result<Image> r) {
  if (!r) BOOST_FAIL(r.error().ToString());
  return std::move(*r);
}

// Places `symbol` at a random spot of `scene` (fully inside).
void PlaceRandomly(Image& scene, const Image& symbol, Rng& rng) {
  Paste(scene, symbol, rng.Int(0, std::max(0, scene.width - symbol.width)),
        rng.Int(0, std::max(0, scene.height - symbol.height)));
}

struct Variant {
  std::string kind;
  Image image;
  std::string expected_raw;
};

// Ten kinds of degradation, `per_kind` pack codes each, all with distinct serials.
std::vector<Variant> DataMatrixVariants(int per_kind) {
  Rng rng(20261121);
  std::vector<Variant> out;
  for (int i = 0; i < per_kind; ++i) {
    for (int kind = 0; kind < 10; ++kind) {
      const std::string serial = "S" + std::to_string(100000 + i * 10 + kind);
      const std::string expected =
          "]d2010950600013435217261231"
          "10LOT" +
          std::to_string(i) +
          "\x1D"
          "21" +
          serial;
      const int module = kind == 7 ? 2 : 4;
      const Image code = Must(RenderPackLabel("09506000134352", "261231", "LOT" + std::to_string(i),
                                              serial, {module, 2}));
      const bool hd = kind >= 8;
      Image scene = ClutteredBackground(hd ? 1280 : 640, hd ? 720 : 480, rng);
      std::string name;
      switch (kind) {
        case 0:
          name = "rotate 7";
          PlaceRandomly(scene, Rotate(code, 7), rng);
          break;
        case 1:
          name = "rotate 30";
          PlaceRandomly(scene, Rotate(code, 30), rng);
          break;
        case 2:
          name = "rotate 90";
          PlaceRandomly(scene, Rotate(code, 90), rng);
          break;
        case 3:
          name = "rotate 180";
          PlaceRandomly(scene, Rotate(code, 180), rng);
          break;
        case 4:
          name = "blur";
          PlaceRandomly(scene, code, rng);
          scene = Blur(scene, 1, 3);
          break;
        case 5:
          name = "noise";
          PlaceRandomly(scene, code, rng);
          scene = AddNoise(scene, 25, rng);
          break;
        case 6:
          name = "low contrast";
          PlaceRandomly(scene, Contrast(code, 100, 160), rng);
          scene = AddNoise(scene, 4, rng);
          break;
        case 7:
          name = "2 px modules";
          PlaceRandomly(scene, Rotate(code, rng.Int(-10, 10)), rng);
          break;
        case 8:
          name = "1280x720 any angle";
          PlaceRandomly(scene, Rotate(code, rng.Int(0, 359)), rng);
          break;
        case 9:
          name = "1280x720 all at once";
          PlaceRandomly(scene, Contrast(Rotate(code, rng.Int(0, 359)), 50, 200), rng);
          scene = AddNoise(Blur(scene, 1, 2), 8, rng);
          break;
      }
      out.push_back({name, std::move(scene), expected});
    }
  }
  return out;
}

// GS1-128 SSCC labels: a linear symbol tolerates small skew only, so the angles stay
// within what a hand-held photo of a pallet label shows.
std::vector<Variant> Gs1128Variants(int per_kind, int module_px) {
  Rng rng(128);
  std::vector<Variant> out;
  for (int i = 0; i < per_kind; ++i) {
    for (int kind = 0; kind < 5; ++kind) {
      std::string sscc = "00" + std::to_string(106141410000000000ull + i * 10 + kind);
      // SSCC check digit (GS1 mod 10 over the 17 preceding digits).
      int sum = 0;
      for (int k = 0; k < 17; ++k) sum += (sscc[2 + k] - '0') * (k % 2 == 0 ? 3 : 1);
      sscc[19] = static_cast<char>('0' + (10 - sum % 10) % 10);
      const Image code = Must(RenderCode128(sscc, 90, {module_px, 10}));
      Image scene = ClutteredBackground(800, 600, rng);
      std::string name;
      switch (kind) {
        case 0:
          name = "rotate 5";
          PlaceRandomly(scene, Rotate(code, 5), rng);
          break;
        case 1:
          name = "rotate 180";
          PlaceRandomly(scene, Rotate(code, 180), rng);
          break;
        case 2:
          name = "rotate 90";
          PlaceRandomly(scene, Rotate(code, 90), rng);
          break;
        case 3:
          name = "blur+noise";
          PlaceRandomly(scene, code, rng);
          scene = AddNoise(Blur(scene, 1, 2), 12, rng);
          break;
        case 4:
          name = "low contrast";
          PlaceRandomly(scene, Contrast(code, 90, 170), rng);
          break;
      }
      out.push_back({name, std::move(scene), "]C1" + sscc});
    }
  }
  return out;
}

double ReadRate(const std::vector<Variant>& variants, const DecodeOptions& options) {
  std::map<std::string, int> misses;
  int read = 0;
  for (const auto& v : variants) {
    auto symbols = DecodeImage(v.image, options);
    bool found = false;
    if (symbols) {
      for (const auto& s : *symbols) found = found || (!s.error && s.raw == v.expected_raw);
    }
    if (found) {
      ++read;
    } else {
      if (std::getenv("PEDIGREE_DUMP_MISSES")) {
        (void)WritePng(v.image, "/tmp/miss_" + std::to_string(misses.size()) + "_" +
                                    std::to_string(misses[v.kind]) + ".png");
      }
      ++misses[v.kind];
    }
  }
  for (const auto& [kind, n] : misses) BOOST_TEST_MESSAGE("  missed " << n << " x " << kind);
  return static_cast<double>(read) / static_cast<double>(variants.size());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_degraded)

BOOST_AUTO_TEST_CASE(datamatrix_read_rate_on_degraded_photos_is_at_least_95_percent) {
  const auto variants = DataMatrixVariants(10);
  BOOST_REQUIRE_EQUAL(variants.size(), 100u);
  const double rate = ReadRate(variants, {});
  BOOST_TEST_MESSAGE("DataMatrix degraded read rate (all formats enabled): " << rate * 100 << "%");
  BOOST_TEST(rate >= 0.95);
}

BOOST_AUTO_TEST_CASE(gs1_128_read_rate_on_degraded_photos_is_at_least_95_percent) {
  // 3 px modules: an SSCC label photographed so that it fills half of an 800 px frame.
  // A pallet scan asks for GS1-128 only (with all formats, every frame without a Data
  // Matrix would also pay for the Data Matrix sweeps).
  const DecodeOptions sscc_only{.formats = {Symbology::kCode128}};
  const auto variants = Gs1128Variants(8, 3);
  const double rate = ReadRate(variants, sscc_only);
  BOOST_TEST_MESSAGE("GS1-128 degraded read rate, 3 px modules: " << rate * 100 << "% of "
                                                                  << variants.size());
  BOOST_TEST(rate >= 0.95);
  // 2 px modules are below what the linear reader copes with once blurred or skewed;
  // measured and reported (docs/scanning.md), not asserted.
  const auto small = Gs1128Variants(8, 2);
  BOOST_TEST_MESSAGE("GS1-128 degraded read rate, 2 px modules: "
                     << ReadRate(small, sscc_only) * 100 << "% of " << small.size());
}

// A phone photo of a counter with three packs: all_symbols keeps sweeping after the first
// Data Matrix, so each pack is found once.
BOOST_AUTO_TEST_CASE(all_symbols_finds_every_pack_in_a_photo) {
  Rng rng(13);
  Image scene = ClutteredBackground(1280, 720, rng);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i) {
    const std::string serial = "P" + std::to_string(i);
    Paste(scene, Must(RenderPackLabel("09506000134352", "280331", "LOT1", serial, {4, 2})),
          150 + 420 * i, 120 + 180 * i);
    expected.push_back(
        "]d201095060001343521728033110LOT1\x1d"
        "21" +
        serial);
  }
  const Image photo = AddNoise(Blur(scene, 1, 1), 3, rng);
  auto symbols = DecodeImage(photo, {.all_symbols = true});
  BOOST_REQUIRE(symbols.has_value());
  std::vector<std::string> raws;
  for (const auto& s : *symbols) raws.push_back(s.raw);
  std::sort(raws.begin(), raws.end());
  BOOST_TEST(raws == expected, boost::test_tools::per_element());
}

// With 4 px modules the sweep for further packs runs at half resolution; the packs it
// finds are still reported in image pixels: each symbol's centre lies on its pasted label.
// With 3 px modules (1.5 px at half resolution) it stays at full resolution and still finds
// every pack.
BOOST_AUTO_TEST_CASE(all_symbols_reports_every_pack_in_image_pixels_at_any_module_size) {
  for (const int module_px : {4, 3}) {
    BOOST_TEST_CONTEXT("module " << module_px << " px") {
      Rng rng(29);
      Image scene = ClutteredBackground(1280, 720, rng);
      struct Placed {
        std::string raw;
        int x0, y0, x1, y1;
      };
      std::vector<Placed> placed;
      for (int i = 0; i < 3; ++i) {
        const std::string serial = "Q" + std::to_string(i);
        const Image label =
            Must(RenderPackLabel("09506000134352", "280331", "LOT1", serial, {module_px, 2}));
        const int x = 100 + 400 * i, y = 80 + 220 * i;
        Paste(scene, label, x, y);
        placed.push_back(
            {"]d201095060001343521728033110LOT1\x1d"
             "21" +
                 serial,
             x, y, x + label.width, y + label.height});
      }
      const Image photo = AddNoise(Blur(scene, 1, 1), 3, rng);
      auto symbols = DecodeImage(photo, {.all_symbols = true});
      BOOST_REQUIRE(symbols.has_value());
      BOOST_TEST(symbols->size() == placed.size());
      for (const auto& want : placed) {
        auto it = std::find_if(symbols->begin(), symbols->end(),
                               [&](const DecodedSymbol& s) { return s.raw == want.raw; });
        BOOST_TEST_REQUIRE((it != symbols->end()), "not found: " << want.raw);
        int cx = 0, cy = 0;
        for (const auto& p : it->corners) cx += p.x, cy += p.y;
        cx /= 4, cy /= 4;
        BOOST_TEST((cx > want.x0 && cx < want.x1 && cy > want.y0 && cy < want.y1),
                   want.raw << " centre " << cx << "," << cy);
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
