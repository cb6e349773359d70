// A logger-signed sensor report travels between nodes as EPCIS: exported from the node that
// recorded it, captured (JSON and XML) into fresh nodes with the same registry, it is the same
// `sensor` command there — same Event Hash ID, same verdict "signed by logger … of …"
// (docs/epcis.md, "Capture" and "Device-signed sensor data").
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <tuple>

#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/time.h"
#include "pedigree/http/api.h"
#include "pedigree/log/keys.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/provenance/provenance.h"
#include "pedigree/reports/batch_report.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"
#include "pedigree/usecases/supply_node.h"

using namespace pedigree;
using pedigree::services::SupplyNode;
using pedigree::testing::TempDir;

namespace {

const std::string kGtin = "09506000134369";
const std::string kMfgGln = "9506000000008", kPh1Gln = "4000001000005";
const std::string kPack = "https://id.gs1.org/01/09506000134369/21/K1";
const std::string kDevice = "urn:epc:id:giai:9506000.LOGGER1";
constexpr int64_t kNow = 1'795'300'000;  // 2026-11-22

struct Keys {
  log::PrivateKey authority = log::PrivateKey::Generate();
  log::PrivateKey mfg = log::PrivateKey::Generate();
  log::PrivateKey ph1 = log::PrivateKey::Generate();
  log::PrivateKey logger = log::PrivateKey::Generate();
};

JsonValue Obj(const std::string& text) {
  auto v = ParseJson(text);
  BOOST_REQUIRE_MESSAGE(v.has_value(), text);
  return *v;
}

// A node with the registry every node of the test shares (the same organisations, keys and
// logger), a cold product (2.0–8.0 °C) and one pack shipped from mfg to ph1 as DA-1.
std::unique_ptr<SupplyNode> Node(const std::string& dir, Keys& keys) {
  auto node = SupplyNode::Create(dir, "example.org/epcis-sensor", keys.authority.public_key());
  BOOST_REQUIRE(node.has_value());
  std::unique_ptr<SupplyNode> n = std::move(*node);
  n->SetClock([] { return kNow; });
  for (auto [id, role, prefix, gln, key] :
       {std::tuple{"mfg", "manufacturer", "9506000", kMfgGln, &keys.mfg},
        std::tuple{"ph1", "dispenser", "4000001", kPh1Gln, &keys.ph1}}) {
    BOOST_REQUIRE(n->HoldKey(id, log::PrivateKey::FromPem(key->ToPem()).value()).has_value());
    BOOST_REQUIRE(
        n->RegisterOrg(keys.authority,
                       {id, id, {role}, {prefix}, {gln}, ToBase64(key->public_key().raw())})
            .has_value());
  }
  BOOST_REQUIRE(n->SubmitAsAuthority(keys.authority, "org.device_add", "device-1",
                                     JsonValue::Object()
                                         .set("id", "mfg")
                                         .set("device", kDevice)
                                         .set("key", ToBase64(keys.logger.public_key().raw()))
                                         .set("label", "reefer 7"))
                    .has_value());
  const std::string t = FormatUtcTime(kNow - 600);
  for (const std::string& p :
       {R"({"kind":"product.register","gtin":")" + kGtin +
            R"(","name":"Cold","tempMin":20,"tempMax":80})",
        R"({"kind":"batch.register","gtin":")" + kGtin +
            R"(","lot":"C1","expiry":"2028-03-31","quantity":5})",
        R"({"kind":"commission","gtin":")" + kGtin +
            R"(","lot":"C1","serials":["K1"],"location":")" + kMfgGln + R"(","time":")" + t +
            R"("})",
        R"({"kind":"ship","epcs":[")" + kPack + R"("],"to":"ph1","toLocation":")" + kPh1Gln +
            R"(","despatchAdvice":"DA-1","time":")" + t + R"("})"}) {
    auto index = n->SubmitAs("mfg", Obj(p));
    BOOST_REQUIRE_MESSAGE(index.has_value(), (index ? std::string() : index.error().ToString()));
  }
  return n;
}

// The batch report's excursion: who vouches for the readings (signedBy, reportedBy), read
// from the node's directory beside the live node as `pedigree report batch` does.
JsonValue Excursion(const std::string& dir) {
  auto report = reports::BatchReport(dir, kGtin, "C1");
  BOOST_REQUIRE_MESSAGE(report.has_value(), (report ? std::string() : report.error().ToString()));
  const JsonValue* excursions = report->find("excursions");
  BOOST_REQUIRE(excursions != nullptr && excursions->as_array().size() == 1);
  const JsonValue& e = excursions->as_array()[0];
  BOOST_REQUIRE(e.find("signedBy") != nullptr && e.find("reportedBy") != nullptr);
  return e;
}

// Captures `event` (EPCIS JSON) into `node` as `org`, as the CLI and HTTP capture do.
std::string Capture(SupplyNode& node, const JsonValue& event, const std::string& org) {
  scanner::epcis::GlnOwner owner = [&node](std::string_view gln) {
    return node.Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
  };
  auto imported =
      scanner::epcis::ImportEvent(event, scanner::epcis::PedigreeHashOptions(), "", owner);
  BOOST_REQUIRE_MESSAGE(imported.has_value(),
                        (imported ? std::string() : imported.error().ToString()));
  BOOST_TEST(imported->payload.find("kind")->as_string() == "sensor");
  auto index = node.SubmitAs(org, imported->payload);
  BOOST_REQUIRE_MESSAGE(index.has_value(), (index ? std::string() : index.error().ToString()));
  return imported->event_id;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(epcis_sensor_capture)

BOOST_AUTO_TEST_CASE(logger_signed_sensor_report_keeps_id_and_verdict_across_nodes_json_and_xml) {
  TempDir tmp;
  Keys keys;
  auto origin = Node(tmp / "origin", keys);
  // The logger signs its readings (a peak of 12.3 °C: an excursion); mfg reports them natively.
  const std::string at = FormatUtcTime(kNow - 300);
  JsonValue element = Obj(R"({"sensorMetadata":{"time":")" + at + R"(","deviceID":")" + kDevice +
                          R"("},"sensorReport":[{"type":"Temperature","time":")" + at +
                          R"(","value":"4.5","uom":"CEL"},{"type":"Temperature","time":")" + at +
                          R"(","value":"12.3","uom":"CEL"}]})");
  const std::string bytes = provenance::DeviceSignedBytes(element, "e").value();
  element.set(
      std::string(provenance::kDeviceSignatureMember),
      JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(keys.logger.Sign(bytes))));
  JsonValue sensor = Obj(R"({"kind":"sensor","from":"mfg","despatchAdvice":"DA-1"})");
  JsonValue list = JsonValue::Array();
  list.push_back(element);
  sensor.set("sensorElementList", std::move(list)).set("time", FormatUtcTime(kNow - 120));
  BOOST_REQUIRE(origin->SubmitAs("mfg", sensor).has_value());
  const JsonValue verdict = Excursion(tmp / "origin");
  BOOST_TEST(verdict.find("reportedBy")->as_string().find("signed by logger " + kDevice) == 0);

  auto doc = services::ExportEpcisHistory(origin->ledger(), kPack, kNow);
  BOOST_REQUIRE_MESSAGE(doc.has_value(), (doc ? std::string() : doc.error().ToString()));
  JsonValue exported;
  for (const JsonValue& e : doc->find("epcisBody")->find("eventList")->as_array()) {
    if (e.find("sensorElementList") != nullptr) exported = e;
  }
  BOOST_REQUIRE(exported.is_object());
  const std::string id = exported.find("eventID")->as_string();

  // JSON, as a partner receives the text.
  auto json_node = Node(tmp / "json", keys);
  const JsonValue json_doc = ParseJson(Canonicalize(*doc)).value();
  for (const JsonValue& e : json_doc.find("epcisBody")->find("eventList")->as_array()) {
    if (e.find("sensorElementList") != nullptr) BOOST_TEST(Capture(*json_node, e, "mfg") == id);
  }
  const JsonValue json_verdict = Excursion(tmp / "json");
  BOOST_TEST(Canonicalize(*json_verdict.find("signedBy")) ==
             Canonicalize(*verdict.find("signedBy")));
  BOOST_TEST(json_verdict.find("reportedBy")->as_string() ==
             verdict.find("reportedBy")->as_string());
  // Exported again from there: the event as it was captured, under the same ID.
  auto again = services::ExportEpcisHistory(json_node->ledger(), kPack, kNow);
  BOOST_REQUIRE(again.has_value());
  bool found = false;
  for (const JsonValue& e : again->find("epcisBody")->find("eventList")->as_array()) {
    if (e.find("sensorElementList") != nullptr) {
      found = true;
      BOOST_TEST(e.find("eventID")->as_string() == id);
    }
  }
  BOOST_TEST(found);

  // XML: the same document in the EPCIS 2.0 XML binding, read back.
  auto xml = scanner::epcis::DocumentToXml(*doc);
  BOOST_REQUIRE(xml.has_value());
  auto read = scanner::epcis::ParseEpcisXml(*xml);
  BOOST_REQUIRE_MESSAGE(read.has_value(), (read ? std::string() : read.error().ToString()));
  auto xml_node = Node(tmp / "xml", keys);
  for (const JsonValue& e : read->document.find("epcisBody")->find("eventList")->as_array()) {
    if (e.find("sensorElementList") != nullptr) BOOST_TEST(Capture(*xml_node, e, "mfg") == id);
  }
  BOOST_TEST(Excursion(tmp / "xml").find("reportedBy")->as_string() ==
             verdict.find("reportedBy")->as_string());

  // The same signed readings captured into the node that recorded them: a reuse, refused.
  scanner::epcis::GlnOwner owner = [&](std::string_view gln) {
    return origin->Read([&](provenance::ProvenanceView& v) { return v.OrgOfGln(gln); });
  };
  auto imported =
      scanner::epcis::ImportEvent(exported, scanner::epcis::PedigreeHashOptions(), "", owner);
  BOOST_REQUIRE(imported.has_value());
  auto reused = origin->SubmitAs("mfg", imported->payload);
  BOOST_REQUIRE(!reused.has_value());
  BOOST_TEST(reused.error().code() == "sensor.signature_reused");
}

BOOST_AUTO_TEST_SUITE_END()
