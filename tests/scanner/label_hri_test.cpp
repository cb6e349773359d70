// Printable labels: the symbol still reads back, and the human-readable text the EU FMD
// (Delegated Regulation 2016/161 Art. 7) and GS1 ask for is drawn where it belongs, glyph
// for glyph.
#include <boost/test/unit_test.hpp>
#include <optional>
#include <string>

#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

// The position of `patch` in `img` (exact pixel match), searched from the top left.
std::optional<std::pair<int, int>> Find(const Image& img, const Image& patch) {
  for (int y = 0; y + patch.height <= img.height; ++y) {
    for (int x = 0; x + patch.width <= img.width; ++x) {
      bool match = true;
      for (int py = 0; match && py < patch.height; ++py) {
        for (int px = 0; px < patch.width; ++px) {
          if (img.at(x + px, y + py) != patch.at(px, py)) {
            match = false;
            break;
          }
        }
      }
      if (match) return std::pair{x, y};
    }
  }
  return std::nullopt;
}

int DarkPixels(const Image& img, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) n += img.at(x, y) < 128;
  }
  return n;
}

DecodedSymbol OnlySymbol(const Image& img) {
  auto symbols = DecodeImage(img);
  if (!symbols) BOOST_FAIL(symbols.error().ToString());
  if (symbols->size() != 1u || (*symbols)[0].error) BOOST_FAIL("expected one valid symbol");
  return (*symbols)[0];
}

int MaxX(const DecodedSymbol& s) {
  int m = 0;
  for (const auto& p : s.corners) m = std::max(m, p.x);
  return m;
}

int MaxY(const DecodedSymbol& s) {
  int m = 0;
  for (const auto& p : s.corners) m = std::max(m, p.y);
  return m;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(label_hri)

BOOST_AUTO_TEST_CASE(text_is_drawn_in_the_vector_font_at_the_given_scale) {
  auto one = RenderText("PC: 0", 1);
  auto three = RenderText("PC: 0", 3);
  BOOST_REQUIRE(one.has_value());
  BOOST_REQUIRE(three.has_value());
  BOOST_TEST(one->height == 12);
  BOOST_TEST(three->width == 3 * one->width);
  BOOST_TEST(three->height == 36);
  // Every font unit becomes a 3x3 block.
  for (int y = 0; y < one->height; ++y) {
    for (int x = 0; x < one->width; ++x) {
      BOOST_TEST_REQUIRE(three->at(3 * x + 1, 3 * y + 1) == one->at(x, y));
    }
  }
  BOOST_TEST(DarkPixels(*one, 0, 0, one->width, one->height) > 10);
  // Distinct text, distinct pixels: "0" and "8" differ in the middle bar.
  BOOST_TEST(RenderText("0", 2)->gray != RenderText("8", 2)->gray);
  BOOST_TEST(RenderText("a\nb", 2).error().code() == "label.invalid_character");
  BOOST_TEST(RenderText("a", 0).error().code() == "label.geometry");
}

BOOST_AUTO_TEST_CASE(fmd_lines_name_product_code_serial_batch_and_expiry) {
  BOOST_TEST(FmdHumanReadableLines("09506000134352", "281231", "LOT42", "SN123") ==
                 (std::vector<std::string>{"PC: 09506000134352", "SN: SN123", "Batch: LOT42",
                                           "Exp: 2028-12-31"}),
             boost::test_tools::per_element());
  // Day 00: the end of the month, printed as year and month only.
  BOOST_TEST(FmdHumanReadableLines("09506000134352", "280300", "L", "S")[3] == "Exp: 2028-03");
}

BOOST_AUTO_TEST_CASE(fmd_pack_label_reads_back_and_prints_each_line_right_of_the_code) {
  const SymbolGeometry g{4, 2};
  auto label = RenderFmdPackLabel("09506000134352", "281231", "LOT42", "SN123", g);
  if (!label) BOOST_FAIL(label.error().ToString());
  const DecodedSymbol symbol = OnlySymbol(*label);
  BOOST_TEST(symbol.raw ==
             "]d2010950600013435217281231"
             "10LOT42\x1D"
             "21SN123");
  const int right_of_code = MaxX(symbol) + 1;
  BOOST_TEST(DarkPixels(*label, right_of_code, 0, label->width, label->height) > 200);
  int previous_y = -1;
  for (const std::string& line :
       FmdHumanReadableLines("09506000134352", "281231", "LOT42", "SN123")) {
    auto glyphs = RenderText(line, HriTextScale(g));
    BOOST_REQUIRE(glyphs.has_value());
    auto at = Find(*label, *glyphs);
    BOOST_TEST_REQUIRE(at.has_value(), "\"" << line << "\" is not drawn on the label");
    BOOST_TEST(at->first > right_of_code, line << " is beside the code, not over it");
    BOOST_TEST(at->second > previous_y, line << " comes under the previous line");
    previous_y = at->second;
  }
}

BOOST_AUTO_TEST_CASE(fmd_pack_label_text_follows_the_pack_data) {
  auto a = RenderFmdPackLabel("09506000134352", "281231", "LOT42", "SN123");
  auto b = RenderFmdPackLabel("09506000134352", "281231", "LOT42", "SN124");
  BOOST_REQUIRE(a.has_value());
  BOOST_REQUIRE(b.has_value());
  BOOST_TEST(!Find(*a, *RenderText("SN: SN124", HriTextScale({}))).has_value());
  BOOST_TEST(Find(*b, *RenderText("SN: SN124", HriTextScale({}))).has_value());
  BOOST_TEST(RenderFmdPackLabel("09506000134353", "281231", "L", "S").error().code() ==
             "label.gtin");
}

BOOST_AUTO_TEST_CASE(sscc_label_reads_back_with_its_hri_under_the_bars) {
  const SymbolGeometry g{3, 10};
  auto label = RenderSsccLabel("106141411234567897", g);
  if (!label) BOOST_FAIL(label.error().ToString());
  const DecodedSymbol symbol = OnlySymbol(*label);
  BOOST_TEST(symbol.raw == "]C100106141411234567897");
  auto hri = RenderText("(00) 106141411234567897", HriTextScale(g) + 1);
  BOOST_REQUIRE(hri.has_value());
  auto at = Find(*label, *hri);
  BOOST_TEST_REQUIRE(at.has_value());
  BOOST_TEST(at->second > MaxY(symbol), "the HRI is under the bars");
  BOOST_TEST(DarkPixels(*label, 0, MaxY(symbol) + 1, label->width, label->height) > 200);
  BOOST_TEST(RenderSsccLabel("106141411234567898", g).error().field() == "sscc");
}

BOOST_AUTO_TEST_CASE(jpeg_label_still_decodes_and_unknown_extensions_are_refused) {
  auto label = RenderFmdPackLabel("09506000134352", "281231", "LOT42", "SN123");
  BOOST_REQUIRE(label.has_value());
  auto jpeg = EncodeJpeg(*label, 95);
  BOOST_REQUIRE(jpeg.has_value());
  auto back = LoadImageMemory(*jpeg);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(OnlySymbol(*back).raw ==
             "]d2010950600013435217281231"
             "10LOT42\x1D"
             "21SN123");
  auto refused = WriteImageFile(*label, "label.gif");
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "image.format");
  BOOST_TEST(refused.error().message().find(".png, .jpg or .jpeg") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
