// `pedigree label`: labels a printer can use, one per pack of a commission, in the format
// the file name says.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_run.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

// A supply-chain node where "mfg" (key held) makes 09506000134352, batch L1 expiring
// 2028-03-31.
std::string NodeWithBatch(TempDir& tmp) {
  std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-label", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  for (std::vector<std::string> args :
       {std::vector<std::string>{"org", "register", "--authority-key", authority, "--id", "mfg",
                                 "--name", "Maker", "--roles", "manufacturer", "--prefixes",
                                 "9506000", "--glns", "9506000000008", "--key", tmp / "mfg.pem",
                                 "--hold", "--valid-from", "2026-01-01T00:00:00Z"},
        {"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"},
        {"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
         "2028-03-31", "--quantity", "10"}}) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  }
  return dir;
}

int64_t Commission(const std::string& dir, const std::string& serials) {
  Run r = Cli({"commission", "--dir", dir, "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1",
               "--serials", serials, "--location", "9506000000008", "--json"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  return ParseJson(r.out).value().find("index")->as_int();
}

std::string ScannedRaw(const std::string& file) {
  Run scan = Cli({"scan", file});
  BOOST_REQUIRE_MESSAGE(scan.rc == 0, scan.err);
  const JsonValue symbols = ParseJson(scan.out).value();
  BOOST_REQUIRE_EQUAL(symbols.size(), 1u);
  return symbols.as_array()[0].find("raw")->as_string();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_label)

BOOST_AUTO_TEST_CASE(from_commission_renders_one_label_per_pack_named_by_serial) {
  TempDir tmp;
  const std::string dir = NodeWithBatch(tmp);
  const int64_t index = Commission(dir, "A1,B/2");
  Run r = Cli(
      {"label", "--dir", dir, "--from-commission", std::to_string(index), "-o", tmp / "labels"});
  BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  BOOST_TEST(ParseJson(r.out).value().find("labels")->size() == 2u);
  // The batch's expiry comes from the ledger; "/" in a serial is escaped in the name.
  BOOST_TEST(ScannedRaw(tmp / "labels/A1.png") ==
             "]d2010950600013435217280331"
             "10L1\x1D"
             "21A1");
  BOOST_TEST(ScannedRaw(tmp / "labels/B%2F2.png") ==
             "]d2010950600013435217280331"
             "10L1\x1D"
             "21B/2");
}

BOOST_AUTO_TEST_CASE(from_commission_refuses_to_overwrite_and_writes_nothing) {
  TempDir tmp;
  const std::string dir = NodeWithBatch(tmp);
  const int64_t index = Commission(dir, "A1,A2");
  std::filesystem::create_directories(tmp / "labels");
  BOOST_REQUIRE(Cli({"label", "--gtin", "09506000134352", "--serial", "X", "--lot", "L1",
                     "--expiry", "280331", "-o", tmp / "labels/A2.png"})
                    .rc == 0);
  const auto before = std::filesystem::file_size(tmp / "labels/A2.png");
  Run r = Cli(
      {"label", "--dir", dir, "--from-commission", std::to_string(index), "-o", tmp / "labels"});
  BOOST_TEST(r.rc == 2);
  BOOST_TEST(r.err.find("A2.png already exists") != std::string::npos, r.err);
  BOOST_TEST(!std::filesystem::exists(tmp / "labels/A1.png"));
  BOOST_TEST(std::filesystem::file_size(tmp / "labels/A2.png") == before);
}

BOOST_AUTO_TEST_CASE(from_commission_refuses_an_entry_that_is_not_a_commission) {
  TempDir tmp;
  const std::string dir = NodeWithBatch(tmp);
  const int64_t index = Commission(dir, "A1");
  Run r = Cli({"label", "--dir", dir, "--from-commission", std::to_string(index - 1), "-o",
               tmp / "labels"});
  BOOST_TEST(r.rc == 1);
  BOOST_TEST(r.err.find("label.not_commission") != std::string::npos, r.err);
  BOOST_TEST(r.err.find("batch.register") != std::string::npos, r.err);
  BOOST_TEST(!std::filesystem::exists(tmp / "labels"));
}

BOOST_AUTO_TEST_CASE(jpg_output_is_jpeg_that_scans_and_other_extensions_are_refused) {
  TempDir tmp;
  Run jpg = Cli({"label", "--sscc", "106141411234567897", "-o", tmp / "case.JPG"});
  BOOST_REQUIRE_MESSAGE(jpg.rc == 0, jpg.err);
  BOOST_TEST(ScannedRaw(tmp / "case.JPG") == "]C100106141411234567897");
  Run png = Cli({"label", "--gtin", "09506000134352", "--serial", "S1", "--lot", "L1", "--expiry",
                 "280331", "-o", tmp / "pack.jpeg"});
  BOOST_REQUIRE_MESSAGE(png.rc == 0, png.err);
  Run gif = Cli({"label", "--sscc", "106141411234567897", "-o", tmp / "case.gif"});
  BOOST_TEST(gif.rc == 2);
  BOOST_TEST(gif.err.find("cli.usage") != std::string::npos);
  BOOST_TEST(gif.err.find(".png, .jpg or .jpeg") != std::string::npos, gif.err);
  BOOST_TEST(!std::filesystem::exists(tmp / "case.gif"));
}

BOOST_AUTO_TEST_SUITE_END()
