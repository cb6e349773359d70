// `pedigree epcis capture` and `epcis export --format xml` from the shell: an EPCIS XML file is
// detected by its content and captured as the JSON importer would, its JSON twin appends
// nothing, errors name the XML line, and the history exports as XML that reads back.
#include <boost/test/unit_test.hpp>
#include <ctime>
#include <string>

#include "cli_run.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/scanner/epcis_xml.h"

using namespace pedigree;
using pedigree::services::testing::Cli;
using pedigree::services::testing::RecentUtc;
using pedigree::services::testing::Run;
using pedigree::testing::TempDir;

namespace {

std::string XmlCommission(const std::string& time, const std::string& lot_element) {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:1" xmlns:cbvmda="urn:epcglobal:cbv:mda"
    schemaVersion="1.2" creationDate=")" +
         time + R"(">
  <EPCISBody>
    <EventList>
      <ObjectEvent>
        <eventTime>)" +
         time + R"(</eventTime>
        <eventTimeZoneOffset>+00:00</eventTimeZoneOffset>
        <epcList><epc>urn:epc:id:sgtin:9506000.013435.C1</epc></epcList>
        <action>ADD</action>
        <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
        <bizLocation><id>urn:epc:id:sgln:9506000.00000.0</id></bizLocation>
        <extension><ilmd>)" +
         lot_element + R"(</ilmd></extension>
      </ObjectEvent>
    </EventList>
  </EPCISBody>
</epcis:EPCISDocument>
)";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cli_epcis_xml)

BOOST_AUTO_TEST_CASE(xml_file_is_captured_and_its_json_twin_appends_nothing) {
  TempDir tmp;
  const std::string dir = tmp / "node";
  Run init = Cli({"init", "--dir", dir, "--origin", "example.org/cli-epcis-xml", "--supply-chain"});
  BOOST_REQUIRE_MESSAGE(init.rc == 0, init.err);
  const std::string authority = ParseJson(init.out).value().find("authority_key_file")->as_string();
  BOOST_REQUIRE(Cli({"keygen", "--out", tmp / "mfg.pem"}).rc == 0);
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--dir", dir});
    Run r = Cli(args);
    BOOST_REQUIRE_MESSAGE(r.rc == 0, r.err);
  };
  run({"org", "register", "--authority-key", authority, "--id", "mfg", "--name", "Maker", "--roles",
       "manufacturer", "--prefixes", "9506000", "--glns", "9506000000008", "--key", tmp / "mfg.pem",
       "--hold", "--valid-from", "2026-01-01T00:00:00Z"});
  run({"product", "register", "--as", "mfg", "--gtin", "09506000134352", "--name", "Examplamab"});
  run({"batch", "register", "--as", "mfg", "--gtin", "09506000134352", "--lot", "L1", "--expiry",
       "2030-03-31", "--quantity", "10"});

  const std::string time = RecentUtc();
  // A missing lot: refused at the XML, nothing written.
  Run bad = Cli({"epcis", "capture", "-", "--as", "mfg", "--dir", dir},
                XmlCommission(time, "<cbvmda:bestBefore>x</cbvmda:bestBefore>"));
  BOOST_TEST(bad.rc == 1);
  auto err = ParseJson(bad.err);
  BOOST_REQUIRE_MESSAGE(err.has_value(), bad.err);
  BOOST_TEST(err->find("error")->find("code")->as_string() == "epcis.invalid_event");
  BOOST_TEST(err->find("error")->find("line")->as_int() == 13);  // the <ilmd> element

  Run xml = Cli({"epcis", "capture", "-", "--as", "mfg", "--dir", dir},
                XmlCommission(time, "<cbvmda:lotNumber>L1</cbvmda:lotNumber>"));
  BOOST_REQUIRE_MESSAGE(xml.rc == 0, xml.err);
  const JsonValue first = ParseJson(xml.out).value().find("events")->as_array().at(0);
  BOOST_TEST(first.find("kind")->as_string() == "commission");

  const std::string json =
      R"({"type":"ObjectEvent","action":"ADD","bizStep":"commissioning","eventTime":")" + time +
      R"(","eventTimeZoneOffset":"+00:00","epcList":["https://id.gs1.org/01/09506000134352/21/C1"],
      "bizLocation":{"id":"https://id.gs1.org/414/9506000000008"},"ilmd":{"cbvmda:lotNumber":"L1"}})";
  Run twin = Cli({"epcis", "capture", "-", "--as", "mfg", "--dir", dir}, json);
  BOOST_REQUIRE_MESSAGE(twin.rc == 0, twin.err);
  const JsonValue again = ParseJson(twin.out).value().find("events")->as_array().at(0);
  BOOST_TEST(again.find("eventID")->as_string() == first.find("eventID")->as_string());
  BOOST_TEST(again.find("index")->as_int() == first.find("index")->as_int());

  Run exported =
      Cli({"epcis", "export", "(01)09506000134352(21)C1", "--format", "xml", "--dir", dir});
  BOOST_REQUIRE_MESSAGE(exported.rc == 0, exported.err);
  auto back = scanner::epcis::ParseEpcisXml(exported.out);
  BOOST_REQUIRE_MESSAGE(back.has_value(), exported.out);
  BOOST_TEST(!back->document.find("epcisBody")->find("eventList")->as_array().empty());
}

BOOST_AUTO_TEST_SUITE_END()
