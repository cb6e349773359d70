// pedigree events as an EPCIS 2.0 document: the mapping table of docs/epcis.md, the event
// hash IDs and the ledger index. Independent validators run in tests/epcis (CTest
// epcis_interop).
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/keys.h"
#include "pedigree/provenance/device_signature.h"
#include "pedigree/scanner/epcis.h"
#include "pedigree/scanner/epcis_xml.h"

using namespace pedigree;
using namespace pedigree::scanner::epcis;

namespace {

JsonValue P(const std::string& text) {
  auto v = ParseJson(text);
  BOOST_REQUIRE(v.has_value());
  return *v;
}

std::vector<LedgerEvent> Chain() {
  return {
      {1, P(R"({"kind":"org.register","id":"alpha","glns":["9506001000007"]})"), 100},
      {2, P(R"({"kind":"org.register","id":"north","glns":["4012345000009"]})"), 100},
      {3,
       P(R"({"kind":"batch.register","org":"alpha","gtin":"09506001000113","lot":"L1","expiry":"2028-03-31","time":"2026-01-01T00:00:00Z"})"),
       101},
      {4,
       P(R"({"kind":"commission","org":"alpha","gtin":"09506001000113","lot":"L1","serials":["A1","A2"],"location":"9506001000007","time":"2026-01-01T00:00:01Z"})"),
       102},
      {5,
       P(R"({"kind":"aggregate","org":"alpha","parent":"095060010000000014","children":["https://id.gs1.org/01/09506001000113/21/A1"],"time":"2026-01-01T00:00:02Z"})"),
       103},
      {6,
       P(R"({"kind":"ship","org":"alpha","epcs":["095060010000000014"],"to":"north","toLocation":"4012345000009","despatchAdvice":"DA-1","time":"2026-01-01T00:00:03Z"})"),
       104},
      {7,
       P(R"({"kind":"receive","org":"north","from":"alpha","despatchAdvice":"DA-1","location":"4012345000009","time":"2026-01-01T00:00:04Z"})"),
       105},
      {8,
       P(R"({"kind":"sensor","org":"north","from":"alpha","despatchAdvice":"DA-1","readings":[{"time":"2026-01-01T00:00:03Z","value":45}],"time":"2026-01-01T00:00:05Z"})"),
       106},
      {9,
       P(R"({"kind":"decommission","org":"north","epcs":["https://id.gs1.org/01/09506001000113/21/A1"],"status":"destroyed","location":"4012345000009","time":"2026-01-01T00:00:06Z"})"),
       107},
      {10, P(R"({"kind":"alert","org":"node","code":"x","time":"2026-01-01T00:00:07Z"})"), 108},
  };
}

// The command a payload states, without the EPCIS event it keeps (epcisEvent, epcisContext):
// the ledger's idempotency comparison leaves those out too, so that the same event in two
// serialisations is one command.
std::string CommandOf(const JsonValue& payload) {
  JsonValue out = JsonValue::Object();
  for (const auto& [k, v] : payload.as_object()) {
    if (k != kKeptEventMember && k != kKeptContextMember) out.set(k, v);
  }
  return Canonicalize(out);
}

const JsonValue& Events(const JsonValue& doc) { return *doc.find("epcisBody")->find("eventList"); }

}  // namespace

BOOST_AUTO_TEST_SUITE(epcis_export)

BOOST_AUTO_TEST_CASE(document_has_the_standard_header_and_one_event_per_supply_entry) {
  auto doc = ExportDocument(Chain(), 1767225600);
  BOOST_REQUIRE(doc.has_value());
  BOOST_TEST(doc->find("type")->as_string() == "EPCISDocument");
  BOOST_TEST(doc->find("schemaVersion")->as_string() == "2.0");
  BOOST_TEST(doc->find("creationDate")->as_string() == "2026-01-01T00:00:00Z");
  BOOST_TEST(doc->find("@context")->as_array()[0].as_string() == kEpcisContextUrl);
  // Registry, batch and alert entries are read, not exported.
  BOOST_TEST(Events(*doc).size() == 6u);
}

BOOST_AUTO_TEST_CASE(commission_ship_receive_sensor_decommission_map_to_cbv) {
  auto doc = ExportDocument(Chain(), 0);
  BOOST_REQUIRE(doc.has_value());
  const JsonArray& ev = Events(*doc).as_array();
  const JsonValue& commission = ev[0];
  BOOST_TEST(commission.find("action")->as_string() == "ADD");
  BOOST_TEST(commission.find("bizStep")->as_string() == "commissioning");
  BOOST_TEST(commission.find("disposition")->as_string() == "active");
  BOOST_TEST(commission.find("epcList")->as_array()[1].as_string() ==
             "https://id.gs1.org/01/09506001000113/21/A2");
  BOOST_TEST(commission.find("ilmd")->find("cbvmda:itemExpirationDate")->as_string() ==
             "2028-03-31");
  BOOST_TEST(commission.find("ilmd")->find("cbvmda:lotNumber")->as_string() == "L1");

  const JsonValue& pack = ev[1];
  BOOST_TEST(pack.find("type")->as_string() == "AggregationEvent");
  BOOST_TEST(pack.find("parentID")->as_string() == "https://id.gs1.org/00/095060010000000014");

  const JsonValue& ship = ev[2];
  BOOST_TEST(ship.find("bizStep")->as_string() == "shipping");
  BOOST_TEST(ship.find("disposition")->as_string() == "in_transit");
  BOOST_TEST(ship.find("bizTransactionList")->as_array()[0].find("bizTransaction")->as_string() ==
             "urn:epcglobal:cbv:bt:9506001000007:DA-1");
  BOOST_TEST(ship.find("sourceList")->as_array()[0].find("source")->as_string() ==
             "https://id.gs1.org/417/9506001000007");
  BOOST_TEST(ship.find("destinationList")->as_array().size() == 2u);

  const JsonValue& receive = ev[3];
  BOOST_TEST(receive.find("bizStep")->as_string() == "receiving");
  BOOST_TEST(receive.find("disposition")->as_string() == "in_progress");
  // The receipt names no EPCs; the shipment it closes does.
  BOOST_TEST(Canonicalize(*receive.find("epcList")) == Canonicalize(*ship.find("epcList")));

  const JsonValue& sensor = ev[4];
  const JsonValue& report =
      sensor.find("sensorElementList")->as_array()[0].find("sensorReport")->as_array()[0];
  BOOST_TEST(report.find("value")->as_double() == 4.5);
  BOOST_TEST(report.find("uom")->as_string() == "CEL");

  const JsonValue& destroyed = ev[5];
  BOOST_TEST(destroyed.find("bizStep")->as_string() == "destroying");
  BOOST_TEST(destroyed.find("disposition")->as_string() == "destroyed");
  BOOST_TEST(destroyed.find("pedigree:status")->as_string() == "destroyed");
}

BOOST_AUTO_TEST_CASE(event_id_is_the_hash_without_the_ledger_index) {
  auto doc = ExportDocument(Chain(), 0);
  BOOST_REQUIRE(doc.has_value());
  for (const JsonValue& e : Events(*doc).as_array()) {
    JsonValue copy = JsonValue::Object();
    for (const auto& [k, v] : e.as_object()) {
      if (k != kLedgerIndexMember) copy.set(k, v);
    }
    auto plain = EventHashId(copy, PedigreeHashOptions());
    BOOST_REQUIRE(plain.has_value());
    BOOST_TEST(e.find("eventID")->as_string() == *plain);
    BOOST_TEST(e.find(kLedgerIndexMember)->is_int());
  }
  BOOST_TEST(Events(*doc).as_array()[0].find(kLedgerIndexMember)->as_int() == 4);
}

// A logger's signature travels with its readings: the exported sensorElement (numbers, not the
// payload's decimal strings), read back from the JSON text and from the XML binding, still
// verifies under the logger's key, and the event keeps its hash ID (docs/epcis.md,
// "Device-signed sensor data").
BOOST_AUTO_TEST_CASE(exported_sensor_element_keeps_a_device_signature_that_verifies) {
  // RFC 8032 test key 1, the logger of docs/epcis.md's worked example.
  auto logger =
      log::PrivateKey::FromSeed(
          FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value())
          .value();
  JsonValue element = P(
      R"({"sensorMetadata":{"deviceID":"urn:epc:id:giai:9506001.L1","time":"2026-01-01T00:00:03Z"},)"
      R"("sensorReport":[{"type":"Temperature","time":"2026-01-01T00:00:03Z","value":"4.5","uom":"CEL"},)"
      R"({"type":"Temperature","time":"2026-01-01T00:00:04Z","value":"-0.5","uom":"CEL"}]})");
  const std::string bytes = provenance::DeviceSignedBytes(element, "e").value();
  element.set(std::string(provenance::kDeviceSignatureMember),
              JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(logger.Sign(bytes))));
  std::vector<LedgerEvent> entries = Chain();
  JsonValue payload = entries[7].payload;
  JsonValue list = JsonValue::Array();
  list.push_back(element);
  JsonValue sensor = JsonValue::Object();
  for (const auto& [k, v] : payload.as_object()) {
    if (k != "readings") sensor.set(k, v);
  }
  sensor.set("sensorElementList", std::move(list));
  entries[7].payload = sensor;
  auto doc = ExportDocument(entries, 0);
  BOOST_REQUIRE(doc.has_value());

  auto verify = [&](const JsonValue& event) {
    const JsonValue& exported = event.find("sensorElementList")->as_array()[0];
    BOOST_TEST(exported.find("sensorReport")->as_array()[1].find("value")->as_double() == -0.5);
    auto signature = provenance::ReadDeviceSignature(exported, "e");
    BOOST_REQUIRE(signature.has_value());
    BOOST_REQUIRE(signature->has_value());
    auto signed_bytes = provenance::DeviceSignedBytes(exported, "e");
    BOOST_REQUIRE(signed_bytes.has_value());
    BOOST_TEST(*signed_bytes == bytes);
    BOOST_TEST(logger.public_key().Verify(*signed_bytes, (*signature)->sig).has_value());
    JsonValue copy = JsonValue::Object();
    for (const auto& [k, v] : event.as_object()) {
      if (k != kLedgerIndexMember) copy.set(k, v);
    }
    BOOST_TEST(EventHashId(copy, PedigreeHashOptions()).value() ==
               event.find("eventID")->as_string());
  };
  // JSON: the text a partner receives, parsed back with numbers as numbers.
  const JsonValue json_event = Events(ParseJson(Canonicalize(*doc)).value()).as_array()[4];
  verify(json_event);
  // XML: written in the EPCIS 2.0 binding and read back.
  auto xml = DocumentToXml(*doc);
  BOOST_REQUIRE(xml.has_value());
  auto read = ParseEpcisXml(*xml);
  BOOST_REQUIRE(read.has_value());
  verify(Events(read->document).as_array()[4]);
}

BOOST_AUTO_TEST_CASE(exported_aggregation_and_decommission_events_import_as_the_same_commands) {
  auto doc = ExportDocument(Chain(), 0);
  BOOST_REQUIRE(doc.has_value());
  const JsonArray& ev = Events(*doc).as_array();
  auto pack = ImportEvent(ev[1], PedigreeHashOptions(), "/epcisBody/eventList/1");
  BOOST_REQUIRE_MESSAGE(pack.has_value(), (pack ? std::string() : pack.error().ToString()));
  BOOST_TEST(pack->payload.find("kind")->as_string() == "aggregate");
  BOOST_TEST(pack->payload.find("parent")->as_string() == "095060010000000014");
  BOOST_TEST(pack->payload.find("children")->as_array()[0].as_string() ==
             "https://id.gs1.org/01/09506001000113/21/A1");
  BOOST_TEST(pack->payload.find("clientId")->as_string() ==
             "epcis-" + pack->event_id.substr(14, 64));
  auto destroyed = ImportEvent(ev[5], PedigreeHashOptions());
  BOOST_REQUIRE(destroyed.has_value());
  BOOST_TEST(destroyed->payload.find("kind")->as_string() == "decommission");
  BOOST_TEST(destroyed->payload.find("status")->as_string() == "destroyed");
  BOOST_TEST(destroyed->payload.find("location")->as_string() == "4012345000009");
  BOOST_TEST(destroyed->payload.find("time")->as_string() == "2026-01-01T00:00:06Z");
  // Shipping names its parties by GLN: without an organisation lookup it is refused, said so.
  auto ship = ImportEvent(ev[2], PedigreeHashOptions(), "/epcisBody/eventList/2");
  BOOST_REQUIRE(!ship.has_value());
  BOOST_TEST(ship.error().code() == "epcis.unsupported");
  BOOST_TEST(ship.error().field() == "/epcisBody/eventList/2/type");
}

// The registry of Chain(): alpha 9506001000007, north 4012345000009.
GlnOwner ChainRegistry() {
  return [](std::string_view gln) -> Result<std::optional<std::string>> {
    if (gln == "9506001000007") return std::optional<std::string>("alpha");
    if (gln == "4012345000009") return std::optional<std::string>("north");
    return std::optional<std::string>();
  };
}

// The ledger payload without what the signer adds (org), as ImportEvent gives it back.
std::string Command(JsonValue payload, const ImportedEvent& imported) {
  JsonValue out = JsonValue::Object();
  for (auto& [k, v] : payload.as_object()) {
    if (k != "org") out.set(k, v);
  }
  out.set("clientId", "epcis-" + imported.event_id.substr(14, 64));
  return Canonicalize(out);
}

BOOST_AUTO_TEST_CASE(exported_shipping_and_receiving_import_as_the_same_commands) {
  std::vector<LedgerEvent> chain = Chain();
  // A despatch advice with characters the export percent-encodes inside its URN.
  chain[5].payload.set("despatchAdvice", "DA/1 x");
  chain[6].payload.set("despatchAdvice", "DA/1 x");
  auto doc = ExportDocument(chain, 0);
  BOOST_REQUIRE(doc.has_value());
  const JsonArray& ev = Events(*doc).as_array();
  auto ship = ImportEvent(ev[2], PedigreeHashOptions(), "/epcisBody/eventList/2", ChainRegistry());
  BOOST_REQUIRE_MESSAGE(ship.has_value(), (ship ? std::string() : ship.error().ToString()));
  BOOST_TEST(CommandOf(ship->payload) == Command(chain[5].payload, *ship));
  auto receive =
      ImportEvent(ev[3], PedigreeHashOptions(), "/epcisBody/eventList/3", ChainRegistry());
  BOOST_REQUIRE_MESSAGE(receive.has_value(),
                        (receive ? std::string() : receive.error().ToString()));
  BOOST_TEST(CommandOf(receive->payload) == Command(chain[6].payload, *receive));

  // A party GLN no organisation registered: named by the pointer of the party.
  JsonValue stranger = ev[2];
  JsonValue dest = JsonValue::Array();
  dest.push_back(JsonValue::Object()
                     .set("type", "owning_party")
                     .set("destination", "urn:epc:id:pgln:0614141.00001"));
  stranger.set("destinationList", dest);
  auto unknown = ImportEvent(stranger, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().code() == "event.unknown_org");
  BOOST_TEST(unknown.error().field() == "/e/destinationList/0/destination");
  BOOST_TEST(unknown.error().message().find("0614141000012") != std::string::npos);
  // Receiving without a despatch advice cannot name the shipment it closes.
  JsonValue no_advice = ev[3];
  no_advice.set("bizTransactionList", JsonValue::Array());
  auto refused = ImportEvent(no_advice, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "epcis.invalid_event");
  BOOST_TEST(refused.error().field() == "/e/bizTransactionList");
}

BOOST_AUTO_TEST_CASE(exported_signed_sensor_report_imports_as_the_same_command_in_json_and_xml) {
  // The logger of docs/epcis.md's worked example (RFC 8032 test key 1), a GIAI deviceID.
  auto logger =
      log::PrivateKey::FromSeed(
          FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60").value())
          .value();
  JsonValue element = P(
      R"({"sensorMetadata":{"deviceID":"urn:epc:id:giai:9506001.L1","time":"2026-01-01T00:00:03Z"},)"
      R"("sensorReport":[{"type":"Temperature","time":"2026-01-01T00:00:03Z","value":"4.5","uom":"CEL"},)"
      R"({"type":"Temperature","time":"2026-01-01T00:00:04Z","value":"-0.25","minValue":"-1","uom":"CEL"}]})");
  const std::string bytes = provenance::DeviceSignedBytes(element, "e").value();
  element.set(std::string(provenance::kDeviceSignatureMember),
              JsonValue::Object().set("alg", "Ed25519").set("sig", ToBase64(logger.Sign(bytes))));
  std::vector<LedgerEvent> entries = Chain();
  JsonValue sensor = JsonValue::Object();
  for (const auto& [k, v] : entries[7].payload.as_object()) {
    if (k != "readings") sensor.set(k, v);
  }
  JsonValue list = JsonValue::Array();
  list.push_back(element);
  sensor.set("sensorElementList", std::move(list));
  entries[7].payload = sensor;
  auto doc = ExportDocument(entries, 0);
  BOOST_REQUIRE(doc.has_value());

  auto check = [&](const JsonValue& exported) {
    JsonValue event = JsonValue::Object();
    for (const auto& [k, v] : exported.as_object()) {
      if (k != kLedgerIndexMember) event.set(k, v);
    }
    auto imported = ImportEvent(event, PedigreeHashOptions(), "/e", ChainRegistry());
    BOOST_REQUIRE_MESSAGE(imported.has_value(),
                          (imported ? std::string() : imported.error().ToString()));
    // The command the node signed, org aside; numbers back as the decimal strings signed.
    BOOST_TEST(CommandOf(imported->payload) == Command(sensor, *imported));
    BOOST_TEST(imported->event_id == exported.find("eventID")->as_string());
    const JsonValue& kept = imported->payload.find("sensorElementList")->as_array()[0];
    BOOST_TEST(provenance::DeviceSignedBytes(kept, "e").value() == bytes);
    // Captured, then exported again: the event it was captured as, under the same ID.
    LedgerEvent captured{11, imported->payload, 109};
    captured.payload.set("org", "north");
    auto again = ExportDocument({captured}, 0);
    BOOST_REQUIRE(again.has_value());
    BOOST_TEST(Events(*again).as_array()[0].find("eventID")->as_string() == imported->event_id);
  };
  check(Events(ParseJson(Canonicalize(*doc)).value()).as_array()[4]);
  auto xml = DocumentToXml(*doc);
  BOOST_REQUIRE(xml.has_value());
  auto read = ParseEpcisXml(*xml);
  BOOST_REQUIRE(read.has_value());
  check(Events(read->document).as_array()[4]);

  // A despatch advice that names no sender cannot name the shipment.
  JsonValue bare = Events(*doc).as_array()[4];
  bare.set("bizTransactionList", P(R"([{"type":"desadv","bizTransaction":"DA-1"}])"));
  auto refused = ImportEvent(bare, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "epcis.invalid_event");
  BOOST_TEST(refused.error().field() == "/e/bizTransactionList/0/bizTransaction");
  // A sender GLN no organisation registered.
  bare.set("bizTransactionList",
           P(R"([{"type":"desadv","bizTransaction":"urn:epcglobal:cbv:bt:0614141000012:DA-1"}])"));
  auto unknown = ImportEvent(bare, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!unknown.has_value());
  BOOST_TEST(unknown.error().code() == "event.unknown_org");
  // A reading no plain decimal can hold is refused, not rounded.
  JsonValue huge = Events(*doc).as_array()[4];
  JsonValue elements = P(
      R"([{"sensorReport":[{"type":"Temperature","time":"2026-01-01T00:00:03Z","value":1e300,"uom":"CEL"}]}])");
  huge.set("sensorElementList", elements);
  auto exponent = ImportEvent(huge, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!exponent.has_value());
  BOOST_TEST(exponent.error().code() == "epcis.unsupported");
  BOOST_TEST(exponent.error().field() == "/e/sensorElementList/0/sensorReport/0/value");
}

BOOST_AUTO_TEST_CASE(error_declaration_is_refused_naming_it_and_its_reason) {
  auto doc = ExportDocument(Chain(), 0);
  BOOST_REQUIRE(doc.has_value());
  // The destroyed pack, declared erroneous: its hash ID is the original's (errorDeclaration is
  // no part of it), so dropping the declaration would append the event it retracts.
  JsonValue event = Events(*doc).as_array()[5];
  event.set("errorDeclaration",
            P(R"({"declarationTime":"2026-01-02T00:00:00Z","reason":"incorrect_data",)"
              R"("correctiveEventIDs":["ni:///sha-256;00?ver=CBV2.0"]})"));
  auto refused = ImportEvent(event, PedigreeHashOptions(), "/e", ChainRegistry());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "epcis.unsupported");
  BOOST_TEST(refused.error().field() == "/e/errorDeclaration");
  BOOST_TEST(refused.error().message().find("errorDeclaration") != std::string::npos);
  BOOST_TEST(refused.error().message().find("incorrect_data") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(commissioning_with_urns_and_digital_links_is_one_command) {
  JsonValue dl = P(R"({"type":"ObjectEvent","eventTime":"2026-01-01T01:00:00.4+01:00",
    "eventTimeZoneOffset":"+01:00","action":"ADD","bizStep":"commissioning",
    "epcList":["https://id.gs1.org/01/10614141073464/21/2017"],
    "bizLocation":{"id":"https://id.gs1.org/414/0614141073467"},"ilmd":{"cbvmda:lotNumber":"L9"}})");
  JsonValue urn =
      P(R"({"ilmd":{"cbvmda:lotNumber":"L9"},"bizLocation":{"id":"urn:epc:id:sgln:0614141.07346.0"},
    "epcList":["urn:epc:id:sgtin:0614141.107346.2017"],"bizStep":"urn:epcglobal:cbv:bizstep:commissioning",
    "action":"ADD","eventTimeZoneOffset":"+01:00","eventTime":"2026-01-01T00:00:00.400Z","type":"ObjectEvent"})");
  auto a = ImportEvent(dl, {});
  auto b = ImportEvent(urn, {});
  BOOST_REQUIRE_MESSAGE(a.has_value(), (a ? std::string() : a.error().ToString()));
  BOOST_REQUIRE_MESSAGE(b.has_value(), (b ? std::string() : b.error().ToString()));
  BOOST_TEST(a->event_id == b->event_id);
  BOOST_TEST(CommandOf(a->payload) == CommandOf(b->payload));
  BOOST_TEST(a->payload.find("gtin")->as_string() == "10614141073464");
  BOOST_TEST(a->payload.find("location")->as_string() == "0614141073467");
  BOOST_TEST(a->payload.find("time")->as_string() == "2026-01-01T00:00:00Z");
  JsonValue no_lot = dl;
  no_lot.set("ilmd", JsonValue::Object());
  auto refused = ImportEvent(no_lot, {}, "/e");
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "epcis.invalid_event");
  BOOST_TEST(refused.error().field() == "/e/ilmd/cbvmda:lotNumber");
}

BOOST_AUTO_TEST_SUITE_END()
