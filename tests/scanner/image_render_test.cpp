// Renderers and decoder checked against each other and against known answers.
#include <turbojpeg.h>

#include <boost/test/unit_test.hpp>
#include <string>

// Private header: the Reed-Solomon step is checked against the standard's worked example.
#include "../../scanner/src/datamatrix_encoder.h"
#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "scanner/synthetic_image.h"

using namespace pedigree;
using namespace pedigree::scanner;

namespace {

// Decodes and returns the raw strings of the valid symbols found.
std::vector<std::string> RawOf(const Image& img, const DecodeOptions& options = {}) {
  auto symbols = DecodeImage(img, options);
  if (!symbols) BOOST_FAIL(symbols.error().ToString());
  std::vector<std::string> out;
  for (const auto& s : *symbols) {
    if (!s.error) out.push_back(s.raw);
  }
  return out;
}

const std::string kGs = "\x1D";

}  // namespace

BOOST_AUTO_TEST_SUITE(image_render)

BOOST_AUTO_TEST_CASE(datamatrix_reed_solomon_matches_iso16022_worked_example) {
  // ISO/IEC 16022:2006 Annex O: "123456" in a 10x10 symbol is data codewords
  // 142 164 186 followed by error correction 114 25 5 88 102.
  const std::vector<uint8_t> ecc = DataMatrixReedSolomon({142, 164, 186}, 5);
  BOOST_TEST(ecc == (std::vector<uint8_t>{114, 25, 5, 88, 102}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(gs1_datamatrix_of_every_size_reads_back_as_d2_with_gs) {
  // Lengths chosen to land in each square size from 10x10 to 48x48, odd digit runs and
  // letters included, and a GS separator once there is room.
  for (int len : {1, 4, 9, 14, 22, 34, 44, 58, 70, 86, 120, 170, 220, 260, 290}) {
    std::string s = "01";
    for (int i = 0; static_cast<int>(s.size()) < len; ++i) {
      s += static_cast<char>(i % 7 == 3 ? 'A' + i % 26 : '0' + i % 10);
      if (i == 20) s += kGs + "21";
    }
    auto img = RenderDataMatrix(s, {3, 2});
    if (!img) BOOST_FAIL(img.error().ToString());
    BOOST_TEST(RawOf(*img) == std::vector<std::string>{"]d2" + s},
               boost::test_tools::per_element());
  }
}

BOOST_AUTO_TEST_CASE(pack_label_holds_gtin_expiry_lot_serial_in_order) {
  auto img = RenderPackLabel("09506000134352", "261231", "LOT2026A", "SN0000001");
  BOOST_REQUIRE(img.has_value());
  const auto raw = RawOf(*img);
  BOOST_REQUIRE_EQUAL(raw.size(), 1u);
  BOOST_TEST(raw[0] ==
             "]d2010950600013435217261231"
             "10LOT2026A" +
                 kGs + "21SN0000001");
}

BOOST_AUTO_TEST_CASE(gs1_128_sscc_reads_back_as_c1) {
  auto img = RenderCode128("00106141411234567897", 80);
  BOOST_REQUIRE(img.has_value());
  BOOST_TEST(RawOf(*img) == std::vector<std::string>{"]C100106141411234567897"},
             boost::test_tools::per_element());
  auto two = RenderCode128(
      "0109506000134352"
      "10AB1" +
          kGs + "21X9",
      80);
  BOOST_REQUIRE(two.has_value());
  BOOST_TEST(RawOf(*two) == std::vector<std::string>{"]C10109506000134352"
                                                     "10AB1" +
                                                     kGs + "21X9"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(qr_code_and_ean13_read_back_with_identifiers) {
  auto qr = RenderQrCode("https://id.gs1.org/01/09506000134352/21/SN1");
  BOOST_REQUIRE(qr.has_value());
  BOOST_TEST(
      RawOf(*qr) == std::vector<std::string>{"]Q1https://id.gs1.org/01/09506000134352/21/SN1"},
      boost::test_tools::per_element());
  auto ean = RenderEan13("950600013435", 60);  // check digit 2 appended
  BOOST_REQUIRE(ean.has_value());
  BOOST_TEST(RawOf(*ean) == std::vector<std::string>{"]E09506000134352"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(renderers_reject_bad_input_with_specific_codes) {
  struct Case {
    Result<Image> result;
    std::string code;
  };
  const Case cases[] = {
      {RenderDataMatrix(""), "label.empty"},
      {RenderDataMatrix("01\n23"), "label.invalid_character"},
      {RenderDataMatrix(std::string(400, 'A')), "label.too_long"},
      {RenderDataMatrix("0109506000134352", {0, 1}), "label.geometry"},
      {RenderCode128(std::string(81, '1'), 50), "label.too_long"},
      {RenderCode128("00106141411234567897", 0), "label.geometry"},
      {RenderEan13("9506000134353", 50), "label.check_digit"},
      {RenderEan13("95060001343", 50), "label.invalid_character"},
      {RenderPackLabel("09506000134353", "261231", "L", "S"), "label.gtin"},
      {RenderPackLabel("09506000134352", "2612", "L", "S"), "label.expiry"},
      {RenderPackLabel("09506000134352", "261231", "", "S"), "label.lot"},
      {RenderPackLabel("09506000134352", "261231", "L", std::string(21, 'S')), "label.serial"},
  };
  for (const auto& c : cases) {
    BOOST_REQUIRE(!c.result.has_value());
    BOOST_TEST(c.result.error().code() == c.code);
  }
  // The offending position is reported.
  BOOST_TEST(RenderDataMatrix("01\n23").error().location().offset.value() == 2u);
  BOOST_TEST(RenderEan13("9506000134353", 50).error().message() ==
             "EAN-13 check digit is 3, expected 2");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_decode)

BOOST_AUTO_TEST_CASE(image_without_symbol_gives_empty_list) {
  synthetic::Rng rng(7);
  auto symbols = DecodeImage(synthetic::ClutteredBackground(320, 240, rng));
  BOOST_REQUIRE(symbols.has_value());
  BOOST_TEST(symbols->empty());
}

BOOST_AUTO_TEST_CASE(inconsistent_image_is_rejected) {
  Image bad{10, 10, std::vector<uint8_t>(99, 255)};
  BOOST_TEST(DecodeImage(bad).error().code() == "image.invalid");
  Image empty;
  BOOST_TEST(DecodeImage(empty).error().code() == "image.invalid");
  Image ok = synthetic::Blank(10, 10);
  BOOST_TEST(DecodeImage(ok, {.max_symbols = 0}).error().code() == "image.invalid");
}

BOOST_AUTO_TEST_CASE(symbol_position_and_orientation_follow_the_symbol) {
  auto dm = RenderDataMatrix("0109506000134352", {6, 2});
  BOOST_REQUIRE(dm.has_value());
  Image canvas = synthetic::Blank(400, 300);
  synthetic::Paste(canvas, synthetic::Rotate(*dm, 90), 200, 100);
  auto symbols = DecodeImage(canvas);
  BOOST_REQUIRE(symbols.has_value());
  BOOST_REQUIRE_EQUAL(symbols->size(), 1u);
  const auto& s = symbols->front();
  BOOST_TEST(SymbologyName(s.format) == "DataMatrix");
  BOOST_TEST(s.gs1);
  BOOST_TEST(s.symbology_identifier == "]d2");
  BOOST_TEST(s.content == "0109506000134352");
  BOOST_TEST(std::abs(s.orientation_degrees) == 90);
  for (const auto& p : s.corners) {
    BOOST_TEST(p.x >= 200);
    BOOST_TEST(p.x <= 200 + dm->height);
    BOOST_TEST(p.y >= 100);
    BOOST_TEST(p.y <= 100 + dm->width);
  }
  BOOST_TEST(SymbologyName(s.format) == "DataMatrix");
}

BOOST_AUTO_TEST_CASE(format_restriction_hides_other_symbologies) {
  auto dm = RenderDataMatrix("0109506000134352");
  auto code = RenderCode128("00106141411234567897", 60, {2, 10});
  BOOST_REQUIRE(dm.has_value() && code.has_value());
  Image canvas = synthetic::Blank(500, 300);
  synthetic::Paste(canvas, *dm, 20, 20);
  synthetic::Paste(canvas, *code, 20, 150);
  BOOST_TEST(RawOf(canvas).size() == 2u);
  BOOST_TEST(RawOf(canvas, {.formats = {Symbology::kDataMatrix}}) ==
                 std::vector<std::string>{"]d20109506000134352"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(damaged_symbol_is_reported_with_an_error_not_dropped) {
  auto dm =
      RenderDataMatrix("0109506000134352172612311012345678901234" + kGs + "21ABCDEFGHIJ", {6, 2});
  BOOST_REQUIRE(dm.has_value());
  // Scribble over a 10x10-module square in the middle: more codewords than the 26x26
  // symbol's 28 error correction codewords can repair, finder pattern intact.
  Image img = *dm;
  const int c = img.width / 2 / 6 * 6;
  for (int y = c - 30; y < c + 30; ++y) {
    for (int x = c - 30; x < c + 30; ++x) img.at(x, y) = ((x / 6 * 7 + y / 6 * 13) % 3) ? 0 : 255;
  }
  auto symbols = DecodeImage(img, {.formats = {Symbology::kDataMatrix}});
  BOOST_REQUIRE(symbols.has_value());
  BOOST_REQUIRE_EQUAL(symbols->size(), 1u);
  const auto& s = symbols->front();
  BOOST_REQUIRE(s.error.has_value());
  BOOST_TEST(s.error->code() == "image.symbol_checksum");
  BOOST_TEST(SymbologyName(s.format) == "DataMatrix");
  BOOST_TEST(s.raw.empty());
  // Without include_failures the damaged symbol is left out.
  auto quiet = DecodeImage(img, {.formats = {Symbology::kDataMatrix}, .include_failures = false});
  BOOST_REQUIRE(quiet.has_value());
  BOOST_TEST(quiet->empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_io)

BOOST_AUTO_TEST_CASE(png_and_jpeg_round_trip_through_the_loader) {
  auto dm = RenderDataMatrix("0109506000134352");
  BOOST_REQUIRE(dm.has_value());
  auto png = EncodePng(*dm);
  BOOST_REQUIRE(png.has_value());
  BOOST_TEST(png->size() > 8u);
  BOOST_TEST((*png)[1] == 'P');
  auto back = LoadImageMemory(*png);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->width == dm->width);
  BOOST_TEST(back->height == dm->height);
  BOOST_TEST(back->gray == dm->gray);
  auto jpg = EncodeJpeg(*dm, 90);
  BOOST_REQUIRE(jpg.has_value());
  auto from_jpg = LoadImageMemory(*jpg);
  BOOST_REQUIRE(from_jpg.has_value());
  BOOST_TEST(RawOf(*from_jpg) == std::vector<std::string>{"]d20109506000134352"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(colour_jpeg_loads_as_its_luma_and_a_damaged_one_is_unreadable) {
  // What a phone sends: a YCbCr 4:2:0 JPEG. The loader asks libjpeg-turbo for grey, i.e. the
  // luma plane alone: the label on a tinted ground keeps its dimensions and still reads.
  const Image label = RenderPackLabel("09506000134352", "280331", "L1", "C1", {4, 4}).value();
  std::vector<unsigned char> rgb(label.gray.size() * 3);
  for (size_t i = 0; i < label.gray.size(); ++i) {
    rgb[3 * i] = label.gray[i];
    rgb[3 * i + 1] = static_cast<unsigned char>(label.gray[i] * 9 / 10);
    rgb[3 * i + 2] = static_cast<unsigned char>(label.gray[i] * 8 / 10 + 20);
  }
  tjhandle compressor = tjInitCompress();
  BOOST_REQUIRE(compressor);
  unsigned char* out = nullptr;
  unsigned long out_size = 0;
  const int rc = tjCompress2(compressor, rgb.data(), label.width, 0, label.height, TJPF_RGB, &out,
                             &out_size, TJSAMP_420, 92, 0);
  const Bytes jpeg(out, out + out_size);
  tjFree(out);
  tjDestroy(compressor);
  BOOST_REQUIRE(rc == 0);
  auto loaded = LoadImageMemory(jpeg);
  BOOST_REQUIRE_MESSAGE(loaded.has_value(), loaded.error().message());
  BOOST_TEST(loaded->width == label.width);
  BOOST_TEST(loaded->height == label.height);
  BOOST_TEST(RawOf(*loaded) == std::vector<std::string>{"]d2010950600013435217280331"
                                                        "10L1\x1d"
                                                        "21C1"},
             boost::test_tools::per_element());
  // A JPEG cut short decodes with a libjpeg warning: that is a damaged image, refused.
  const Bytes truncated(jpeg.begin(), jpeg.begin() + static_cast<std::ptrdiff_t>(jpeg.size() / 2));
  auto cut = LoadImageMemory(truncated);
  BOOST_REQUIRE(!cut.has_value());
  BOOST_TEST(cut.error().code() == "image.unreadable");
  // The pixel limit holds before any pixel is decoded, as for the other formats.
  auto big = LoadImageMemory(jpeg, {.max_pixels = 100});
  BOOST_REQUIRE(!big.has_value());
  BOOST_TEST(big.error().code() == "image.too_large");
  BOOST_TEST(big.error().message().starts_with("image is " + std::to_string(label.width) + "x"));
}

BOOST_AUTO_TEST_CASE(loader_errors_have_specific_codes) {
  BOOST_TEST(LoadImageFile("/nonexistent/x.png").error().code() == "image.not_found");
  const std::string junk = "this is not an image";
  auto unreadable = LoadImageMemory(AsBytes(junk));
  BOOST_TEST(unreadable.error().code() == "image.unreadable");
  BOOST_TEST(LoadImageMemory({}).error().code() == "image.unreadable");
  auto png = EncodePng(synthetic::Blank(100, 100));
  BOOST_REQUIRE(png.has_value());
  auto big = LoadImageMemory(*png, {.max_pixels = 9999});
  BOOST_REQUIRE(!big.has_value());
  BOOST_TEST(big.error().code() == "image.too_large");
  BOOST_TEST(big.error().message() == "image is 100x100 = 10000 pixels, limit 9999");
  // A chunk claiming more bytes than the file holds is refused before decoding (stb_image
  // would first allocate the claimed size). Fuzzer find: IDAT length 0x7FFFFFFF.
  Bytes lying = *png;
  const size_t idat = 8 + 25;  // signature, then the 25-byte IHDR chunk
  BOOST_REQUIRE(std::string(lying.begin() + idat + 4, lying.begin() + idat + 8) == "IDAT");
  lying[idat] = 0x7F;
  auto refused = LoadImageMemory(lying);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "image.unreadable");
  BOOST_TEST(refused.error().location().offset.value() == idat);
  // A truncated PNG passes the header check and fails in the decoder.
  Bytes truncated(png->begin(), png->begin() + png->size() / 2);
  BOOST_TEST(LoadImageMemory(truncated).error().code() == "image.unreadable");
}

BOOST_AUTO_TEST_CASE(jpeg_huffman_table_with_more_than_256_symbols_is_refused) {
  // stb_image 2.27 would write past its 256-symbol table (UBSan: index 257 out of bounds;
  // fuzz_image find). Take a valid JPEG and make its first DHT table declare 16 x 255.
  auto jpeg = EncodeJpeg(synthetic::Blank(16, 16), 90);
  BOOST_REQUIRE(jpeg.has_value());
  BOOST_REQUIRE(LoadImageMemory(*jpeg).has_value());
  size_t dht = 0;
  while (dht + 1 < jpeg->size() && !((*jpeg)[dht] == 0xFF && (*jpeg)[dht + 1] == 0xC4)) ++dht;
  BOOST_REQUIRE(dht + 21 < jpeg->size());
  Bytes lying = *jpeg;
  const size_t table = dht + 4;  // marker, then the 2-byte length
  for (size_t i = 1; i <= 16; ++i) lying[table + i] = 0xFF;
  auto refused = LoadImageMemory(lying);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "image.unreadable");
  BOOST_TEST(refused.error().location().offset.value() == table);
}

BOOST_AUTO_TEST_CASE(pnm_header_numbers_longer_than_nine_digits_are_refused) {
  // stb_image 2.27 would overflow an int parsing them (UBSan; fuzz_image find: "P5" then
  // 7s). Comments and whitespace are skipped as stb does, so the offset is the digits'.
  const std::string overflow = "P5" + std::string(120, '7');
  auto refused = LoadImageMemory(AsBytes(overflow));
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "image.unreadable");
  BOOST_TEST(refused.error().location().offset.value() == 2u);
  const std::string in_maxval = "P6 4 4\n# comment\n2147483648\n";
  auto maxval = LoadImageMemory(AsBytes(in_maxval));
  BOOST_REQUIRE(!maxval.has_value());
  BOOST_TEST(maxval.error().location().offset.value() == in_maxval.find('2'));
  // Nine digits still reach stb, which reports the size; the pixel limit then refuses it.
  BOOST_TEST(LoadImageMemory(AsBytes(std::string("P5 999999999 1 255\n"))).error().code() ==
             "image.too_large");
  // A well-formed 2x1 PGM still loads.
  const std::string pgm = std::string("P5\n# two pixels\n2 1\n255\n") + "\x10\xF0";
  auto loaded = LoadImageMemory(AsBytes(pgm));
  BOOST_REQUIRE(loaded.has_value());
  BOOST_TEST(loaded->width == 2);
  BOOST_TEST(loaded->gray[1] == 0xF0);
}

BOOST_AUTO_TEST_CASE(encoders_reject_inconsistent_images) {
  Image bad{4, 4, std::vector<uint8_t>(3, 0)};
  BOOST_TEST(EncodePng(bad).error().code() == "image.invalid");
  BOOST_TEST(EncodeJpeg(synthetic::Blank(4, 4), 0).error().code() == "image.encode");
  BOOST_TEST(WritePng(synthetic::Blank(4, 4), "/nonexistent/dir/x.png").error().code() ==
             "image.write");
}

BOOST_AUTO_TEST_SUITE_END()
