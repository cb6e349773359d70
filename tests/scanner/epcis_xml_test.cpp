// EPCIS XML import (2.0 and 1.2): the document becomes the JSON-LD document the JSON importer
// takes, so the Event Hash ID and the pedigree mapping are those of the JSON binding; errors
// name the XML line, column and element path; DTDs and entities are refused.
#include "pedigree/scanner/epcis_xml.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/scanner/epcis.h"

using namespace pedigree;
using namespace pedigree::scanner::epcis;

namespace {

const std::filesystem::path kScannerTests =
    std::filesystem::path(PEDIGREE_SOURCE_DIR) / "tests" / "scanner";

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const JsonValue& Event(const XmlDocument& doc, size_t i) {
  return doc.document.find("epcisBody")->find("eventList")->as_array().at(i);
}

HashOptions OptionsOf(const JsonValue& document) {
  HashOptions options = PedigreeHashOptions();
  for (auto& p : ContextPrefixes(document)) options.context.push_back(p);
  return options;
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

// Party GLNs of the 1.2 shipment: the wholesaler's company prefix 0012345, the maker's 0614141.
const GlnOwner kOwners = [](std::string_view gln) -> Result<std::optional<std::string>> {
  if (gln.starts_with("0012345")) return std::optional<std::string>("wholesaler-b");
  if (gln.starts_with("0614141")) return std::optional<std::string>("maker-a");
  return std::optional<std::string>();
};

}  // namespace

BOOST_AUTO_TEST_SUITE(epcis_xml)

BOOST_AUTO_TEST_CASE(xml_event_has_the_hash_of_the_same_json_event) {
  auto xml = ParseEpcisXml(Slurp(kScannerTests / "epcis_xml" / "epcisDocWithSingleEvent.xml"));
  BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
  BOOST_TEST(xml->schema_version == "2.0");
  auto json = ParseJson(Slurp(kScannerTests / "epcis_vectors" / "epcisDocWithSingleEvent.jsonld"));
  BOOST_REQUIRE(json);
  const JsonValue& json_event = json->find("epcisBody")->find("eventList")->as_array().at(0);
  auto from_json = EventHashId(json_event, OptionsOf(*json));
  auto from_xml = EventHashId(Event(*xml, 0), OptionsOf(xml->document));
  BOOST_REQUIRE(from_json);
  BOOST_REQUIRE_MESSAGE(from_xml.has_value(),
                        (from_xml ? std::string() : from_xml.error().ToString()));
  BOOST_TEST(*from_xml == *from_json);
  // The published vector (tests/scanner/epcis_vectors/epcisDocWithSingleEvent.hashes).
  BOOST_TEST(*from_xml ==
             "ni:///sha-256;3e0f2437f4cb5e8a1b832b769c0eed1bf3e1421f14061132e9800ded03f10182"
             "?ver=CBV2.0");
}

BOOST_AUTO_TEST_CASE(xml_and_json_capture_give_the_same_command) {
  // Same commissioning in both bindings: the same payload, hence the same clientId, so the
  // ledger's idempotency appends it once whichever binding came first.
  const std::string xml_text = R"(<?xml version="1.0"?>
<epcis:EPCISDocument xmlns:epcis="urn:epcglobal:epcis:xsd:2" xmlns:cbvmda="urn:epcglobal:cbv:mda"
    schemaVersion="2.0" creationDate="2026-01-01T00:00:00Z">
  <EPCISBody><EventList>
    <ObjectEvent>
      <eventTime>2026-01-01T10:00:00.000+01:00</eventTime>
      <eventTimeZoneOffset>+01:00</eventTimeZoneOffset>
      <epcList><epc>https://id.gs1.org/01/10614141073464/21/2017</epc></epcList>
      <action>ADD</action>
      <bizStep>urn:epcglobal:cbv:bizstep:commissioning</bizStep>
      <readPoint><id>urn:epc:id:sgln:0614141.07346.0</id></readPoint>
      <ilmd><cbvmda:lotNumber>L1</cbvmda:lotNumber></ilmd>
    </ObjectEvent>
  </EventList></EPCISBody>
</epcis:EPCISDocument>)";
  const std::string json_text =
      R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
    "type":"ObjectEvent","action":"ADD","bizStep":"commissioning",
    "eventTime":"2026-01-01T10:00:00+01:00","eventTimeZoneOffset":"+01:00",
    "epcList":["urn:epc:id:sgtin:0614141.107346.2017"],
    "readPoint":{"id":"urn:epc:id:sgln:0614141.07346.0"},
    "ilmd":{"cbvmda:lotNumber":"L1"}})";
  auto xml = ParseEpcisXml(xml_text);
  BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
  auto json = ParseJson(json_text);
  BOOST_REQUIRE(json);
  auto a = ImportEvent(Event(*xml, 0), OptionsOf(xml->document), "/epcisBody/eventList/0");
  auto b = ImportEvent(*json, OptionsOf(*json));
  BOOST_REQUIRE_MESSAGE(a.has_value(), (a ? std::string() : a.error().ToString()));
  BOOST_REQUIRE_MESSAGE(b.has_value(), (b ? std::string() : b.error().ToString()));
  BOOST_TEST(a->event_id == b->event_id);
  BOOST_TEST(CommandOf(a->payload) == CommandOf(b->payload));
  BOOST_TEST(a->payload.find("kind")->as_string() == "commission");
  BOOST_TEST(a->payload.find("lot")->as_string() == "L1");
}

BOOST_AUTO_TEST_CASE(epcis_12_dscsa_shipment_imports) {
  auto xml = ParseEpcisXml(Slurp(kScannerTests / "epcis_xml" / "dscsa-shipment-1.2.xml"));
  BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
  BOOST_TEST(xml->schema_version == "1.2");
  const HashOptions options = OptionsOf(xml->document);
  std::vector<std::string> kinds;
  std::vector<JsonValue> payloads;
  for (size_t i = 0; i < 3; ++i) {
    auto one =
        ImportEvent(Event(*xml, i), options, "/epcisBody/eventList/" + std::to_string(i), kOwners);
    BOOST_REQUIRE_MESSAGE(one.has_value(), (one ? std::string() : one.error().ToString()));
    kinds.push_back(one->payload.find("kind")->as_string());
    payloads.push_back(one->payload);
  }
  BOOST_TEST(kinds == (std::vector<std::string>{"commission", "aggregate", "ship"}));
  BOOST_TEST(payloads[0].find("lot")->as_string() == "LOT42");  // ilmd inside <extension>
  BOOST_TEST(payloads[0].find("serials")->as_array().size() == 2u);
  BOOST_TEST(payloads[1].find("children")->as_array().size() == 2u);
  BOOST_TEST(payloads[2].find("to")->as_string() == "wholesaler-b");
  BOOST_TEST(payloads[2].find("despatchAdvice")->as_string() == "ASN-7");
  BOOST_TEST(payloads[2].find("epcs")->as_array().at(0).as_string().size() == 18u);
}

struct BadXml {
  const char* name;
  std::string xml;
  uint64_t line;
  std::string field;  // element path, empty when the XML itself is broken
  std::string message_has;
};

BOOST_AUTO_TEST_CASE(bad_xml_is_refused_with_line_column_and_element_path) {
  const std::string head =
      "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\">\n<EPCISBody>\n<EventList>\n";
  const std::string tail = "</EventList>\n</EPCISBody>\n</epcis:EPCISDocument>\n";
  std::vector<BadXml> cases = {
      {"unclosed element", head + "<ObjectEvent>\n<action>ADD</actio>\n</ObjectEvent>\n" + tail, 5,
       "", "not well-formed"},
      {"external entity (XXE)",
       "<?xml version=\"1.0\"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n" +
           head + tail,
       2, "", "no DTDs"},
      {"entity expansion", "<!DOCTYPE d [\n<!ENTITY a \"aaaa\">]>\n" + head + tail, 1, "",
       "no DTDs"},
      {"wrong namespace", "<EPCISDocument xmlns=\"urn:example\"/>", 1, "/EPCISDocument",
       "urn:epcglobal:epcis:xsd:2"},
      {"unknown member", head + "<ObjectEvent>\n<colour>red</colour>\n</ObjectEvent>\n" + tail, 5,
       "/epcis:EPCISDocument/EPCISBody[1]/EventList[1]/ObjectEvent[1]/colour[1]", "colour"},
      {"unknown event", head + "<PartyEvent/>\n" + tail, 4,
       "/epcis:EPCISDocument/EPCISBody[1]/EventList[1]/PartyEvent[1]", "no EPCIS event"},
      {"bad quantity",
       head +
           "<ObjectEvent>\n<quantityList><quantityElement><epcClass>x</epcClass>\n"
           "<quantity>many</quantity></quantityElement></quantityList>\n</ObjectEvent>\n" +
           tail,
       6, "", "'many' is no number"},
  };
  std::string deep = head + "<ObjectEvent><a:x xmlns:a=\"urn:x\">";
  for (int i = 0; i < 70; ++i) deep += "<a:y>";
  cases.push_back({"nesting too deep", deep, 4, "", "nests deeper than 64"});
  for (const BadXml& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      auto r = ParseEpcisXml(c.xml);
      BOOST_REQUIRE(!r);
      BOOST_TEST(r.error().code() == "epcis.invalid_event");
      BOOST_TEST(r.error().location().line.value_or(0) == c.line);
      BOOST_TEST(r.error().location().column.value_or(0) > 0u);
      if (!c.field.empty()) BOOST_TEST(r.error().field() == c.field);
      BOOST_TEST(r.error().message().find(c.message_has) != std::string::npos, r.error().message());
    }
  }
}

BOOST_AUTO_TEST_CASE(mapping_errors_point_at_the_xml_element) {
  // A commissioning without a lot: ImportEvent reports the JSON pointer of ilmd's lotNumber;
  // Locate turns it into the line of the <ObjectEvent>'s nearest recorded element.
  const std::string xml_text =
      "<epcis:EPCISDocument xmlns:epcis=\"urn:epcglobal:epcis:xsd:2\">\n<EPCISBody>\n"
      "<EventList>\n<ObjectEvent>\n<eventTime>2026-01-01T00:00:00Z</eventTime>\n"
      "<eventTimeZoneOffset>+00:00</eventTimeZoneOffset>\n<action>ADD</action>\n"
      "<bizStep>commissioning</bizStep>\n"
      "<epcList>\n<epc>urn:epc:id:sgtin:0614141.107346.1</epc>\n<epc>not-an-epc</epc>\n"
      "</epcList>\n</ObjectEvent>\n</EventList>\n</EPCISBody>\n</epcis:EPCISDocument>\n";
  auto xml = ParseEpcisXml(xml_text);
  BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
  auto r = ImportEvent(Event(*xml, 0), OptionsOf(xml->document), "/epcisBody/eventList/0");
  BOOST_REQUIRE(!r);
  BOOST_TEST(r.error().field() == "/epcisBody/eventList/0/epcList/1");
  Error located = xml->Locate(r.error());
  BOOST_TEST(located.code() == r.error().code());
  BOOST_TEST(located.location().line.value_or(0) == 11u);
  BOOST_TEST(located.field() ==
             "/epcis:EPCISDocument/EPCISBody[1]/EventList[1]/ObjectEvent[1]/epcList[1]/epc[2]");
}

BOOST_AUTO_TEST_CASE(json_is_not_taken_for_xml) {
  BOOST_TEST(LooksLikeXml("  <?xml version=\"1.0\"?><a/>"));
  BOOST_TEST(LooksLikeXml("\xEF\xBB\xBF<a/>"));
  BOOST_TEST(!LooksLikeXml("{\"type\":\"ObjectEvent\"}"));
  BOOST_TEST(!LooksLikeXml(""));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(epcis_xml_export)

// JSON -> XML -> JSON keeps every event's Event Hash ID: the export and the import are one
// binding, and CBV words written as URNs hash as the words.
BOOST_AUTO_TEST_CASE(exported_xml_reads_back_to_the_same_event_hashes) {
  std::vector<JsonValue> documents;
  auto vector_doc =
      ParseJson(Slurp(kScannerTests / "epcis_vectors" / "epcisDocWithSingleEvent.jsonld"));
  BOOST_REQUIRE(vector_doc);
  documents.push_back(*vector_doc);
  auto shipment = ParseEpcisXml(Slurp(kScannerTests / "epcis_xml" / "dscsa-shipment-1.2.xml"));
  BOOST_REQUIRE(shipment);
  documents.push_back(shipment->document);
  for (const JsonValue& doc : documents) {
    auto xml = DocumentToXml(doc);
    BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
    auto back = ParseEpcisXml(*xml);
    BOOST_REQUIRE_MESSAGE(back.has_value(), (back ? std::string() : back.error().ToString())
                                                << *xml);
    BOOST_TEST(back->schema_version == "2.0");
    const JsonArray& before = doc.find("epcisBody")->find("eventList")->as_array();
    const JsonArray& after = back->document.find("epcisBody")->find("eventList")->as_array();
    BOOST_REQUIRE_EQUAL(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) {
      auto a = EventHashId(before[i], OptionsOf(doc));
      auto b = EventHashId(after[i], OptionsOf(back->document));
      BOOST_REQUIRE(a);
      BOOST_REQUIRE(b);
      BOOST_TEST(*a == *b, "event " << i << " of\n" << *xml);
    }
  }
}

BOOST_AUTO_TEST_CASE(export_escapes_markup_in_values) {
  auto doc = ParseJson(R"({"epcisBody":{"eventList":[{"type":"ObjectEvent","action":"OBSERVE",
    "eventTime":"2026-01-01T00:00:00Z","eventTimeZoneOffset":"+00:00","epcList":[],
    "bizTransactionList":[{"type":"po","bizTransaction":"urn:x:<a>&\"b\""}]}]}})");
  BOOST_REQUIRE(doc);
  auto xml = DocumentToXml(*doc);
  BOOST_REQUIRE(xml);
  auto back = ParseEpcisXml(*xml);
  BOOST_REQUIRE(back);
  BOOST_TEST(Event(*back, 0)
                 .find("bizTransactionList")
                 ->as_array()[0]
                 .find("bizTransaction")
                 ->as_string() == "urn:x:<a>&\"b\"");
}

namespace {

// A JSON document a partner might send: sub-millisecond time in another zone, EPC URNs, an
// extension of its own namespace with a decimal, a sensorElementList-free commissioning.
const char* kPartnerJson =
    R"({"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
  {"example":"https://ns.example.com/epcis/"}],
  "type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-03-01T10:00:00Z",
  "epcisBody":{"eventList":[
   {"type":"ObjectEvent","eventID":"urn:uuid:9b0c8f34-2a31-4d5e-9d6b-0e7f1c2d3a4b",
    "eventTime":"2026-03-01T09:00:00.123456+02:00","eventTimeZoneOffset":"+02:00",
    "epcList":["urn:epc:id:sgtin:0614141.107346.2001"],"action":"ADD",
    "bizStep":"urn:epcglobal:cbv:bizstep:commissioning","disposition":"active",
    "readPoint":{"id":"urn:epc:id:sgln:0614141.00001.0"},
    "bizLocation":{"id":"https://id.gs1.org/414/0614141000012"},
    "ilmd":{"cbvmda:lotNumber":"LOT7","example:fillWeight":12.50},
    "example:line":{"example:station":"B-3","example:speed":1.5}},
   {"type":"AggregationEvent","eventTime":"2026-03-01T09:05:00Z","eventTimeZoneOffset":"+00:00",
    "parentID":"urn:epc:id:sscc:0614141.1234567890",
    "childEPCs":["https://id.gs1.org/01/00614141073467/21/2001"],"action":"ADD","bizStep":"packing",
    "recordTime":"2026-03-01T09:05:01Z"}]}})";

// Captures every event of `doc` as the node would (ImportEvent, then the signed payload read
// back as the ledger reads it: integers only), then exports them.
JsonValue CaptureAndExport(const JsonValue& doc, std::vector<std::string>& ids) {
  HashOptions options = OptionsOf(doc);
  std::vector<LedgerEvent> entries;
  const JsonArray& events = doc.find("epcisBody")->find("eventList")->as_array();
  for (size_t i = 0; i < events.size(); ++i) {
    auto imported = ImportEvent(events[i], options, "", kOwners);
    BOOST_REQUIRE_MESSAGE(imported.has_value(),
                          (imported ? std::string() : imported.error().ToString()));
    ids.push_back(imported->event_id);
    JsonValue payload = imported->payload;
    payload.set("org", "maker-a");
    auto stored = ParseJson(Canonicalize(payload), {.integers_only = true});
    BOOST_REQUIRE_MESSAGE(stored.has_value(), "a kept event must survive the ledger's parser");
    entries.push_back({10 + i, *stored, 1772355600 + static_cast<int64_t>(i)});
  }
  auto exported = ExportDocument(entries, 1772355700);
  BOOST_REQUIRE_MESSAGE(exported.has_value(),
                        (exported ? std::string() : exported.error().ToString()));
  return *exported;
}

}  // namespace

BOOST_AUTO_TEST_CASE(exported_captured_events_hash_to_the_ids_they_were_captured_with) {
  std::vector<JsonValue> documents;
  auto shipment = ParseEpcisXml(Slurp(kScannerTests / "epcis_xml" / "dscsa-shipment-1.2.xml"));
  BOOST_REQUIRE(shipment);
  documents.push_back(shipment->document);
  auto partner = ParseJson(kPartnerJson);
  BOOST_REQUIRE(partner);
  documents.push_back(*partner);
  for (const JsonValue& doc : documents) {
    std::vector<std::string> ids;
    JsonValue exported = CaptureAndExport(doc, ids);
    const JsonArray& out = exported.find("epcisBody")->find("eventList")->as_array();
    BOOST_REQUIRE_EQUAL(out.size(), ids.size());
    for (size_t i = 0; i < out.size(); ++i) {
      // Recomputed from the exported JSON-LD document alone (its own @context).
      auto json_id = EventHashId(out[i], OptionsOf(exported));
      BOOST_REQUIRE_MESSAGE(json_id.has_value(),
                            (json_id ? std::string() : json_id.error().ToString()));
      BOOST_TEST(*json_id == ids[i], "event " << i << ": " << Canonicalize(out[i]));
      BOOST_TEST(out[i].find("eventID")->as_string() == ids[i]);
      BOOST_TEST(out[i].find(kLedgerIndexMember)->as_int() == static_cast<int64_t>(10 + i));
    }
    // The same document in the XML binding, read back.
    auto xml = DocumentToXml(exported);
    BOOST_REQUIRE_MESSAGE(xml.has_value(), (xml ? std::string() : xml.error().ToString()));
    auto back = ParseEpcisXml(*xml);
    BOOST_REQUIRE_MESSAGE(back.has_value(), (back ? std::string() : back.error().ToString()));
    const JsonArray& read = back->document.find("epcisBody")->find("eventList")->as_array();
    BOOST_REQUIRE_EQUAL(read.size(), ids.size());
    for (size_t i = 0; i < read.size(); ++i) {
      auto xml_id = EventHashId(read[i], OptionsOf(back->document));
      BOOST_REQUIRE_MESSAGE(xml_id.has_value(),
                            (xml_id ? std::string() : xml_id.error().ToString()));
      BOOST_TEST(*xml_id == ids[i], "event " << i << " of\n" << *xml);
    }
  }
  // What the partner sent stays: its decimals, its extension, its sub-millisecond time.
  auto partner_doc = ParseJson(kPartnerJson);
  std::vector<std::string> ids;
  JsonValue exported = CaptureAndExport(*partner_doc, ids);
  const JsonValue& first = exported.find("epcisBody")->find("eventList")->as_array()[0];
  BOOST_TEST(first.find("eventTime")->as_string() == "2026-03-01T09:00:00.123456+02:00");
  BOOST_TEST(first.find("example:line")->find("example:speed")->as_double() == 1.5);
  BOOST_TEST(first.find("epcList")->as_array()[0].as_string() ==
             "urn:epc:id:sgtin:0614141.107346.2001");
  BOOST_TEST(Canonicalize(*exported.find("@context")).find("https://ns.example.com/epcis/") !=
             std::string::npos);
  // recordTime is the log's, not the sender's.
  const JsonValue& second = exported.find("epcisBody")->find("eventList")->as_array()[1];
  BOOST_TEST(second.find("recordTime")->as_string() == "2026-03-01T09:00:01Z");
}

BOOST_AUTO_TEST_CASE(entries_without_a_kept_event_render_from_the_payload) {
  auto partner = ParseJson(kPartnerJson);
  BOOST_REQUIRE(partner);
  std::vector<std::string> ids;
  JsonValue kept = CaptureAndExport(*partner, ids);
  // The same entries rendered (what the query engine matches on, and what an entry signed
  // before events were kept exports as): bare CBV words, Digital Links, whole seconds.
  HashOptions options = OptionsOf(*partner);
  auto imported = ImportEvent(partner->find("epcisBody")->find("eventList")->as_array()[1], options,
                              "", kOwners);
  BOOST_REQUIRE(imported);
  JsonValue payload = imported->payload;
  payload.set("org", "maker-a");
  auto rendered = ExportDocument({{11, payload, 1772355601}}, 0, {.kept = false});
  BOOST_REQUIRE(rendered);
  const JsonValue& ev = rendered->find("epcisBody")->find("eventList")->as_array()[0];
  BOOST_TEST(ev.find("parentID")->as_string().starts_with("https://id.gs1.org/00/"));
  BOOST_TEST(ev.find("pedigree:org")->as_string() == "maker-a");
  BOOST_TEST(ev.find("eventID")->as_string() != ids[1]);
}

BOOST_AUTO_TEST_SUITE_END()
