// CBV 2.0 EPCIS Event Hash ID: published vectors (tests/scanner/epcis_vectors/README.md says
// where each comes from), the normalisations the standard asks for, and refusals.
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/scanner/epcis.h"

using namespace pedigree;
using namespace pedigree::scanner::epcis;

namespace {

const std::filesystem::path kVectors =
    std::filesystem::path(PEDIGREE_SOURCE_DIR) / "tests" / "scanner" / "epcis_vectors";

std::string Slurp(const std::string& name) {
  std::ifstream in(kVectors / name, std::ios::binary);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

JsonValue Parse(const std::string& text) {
  auto v = ParseJson(text);
  BOOST_REQUIRE_MESSAGE(v.has_value(), (v ? std::string() : v.error().ToString()));
  return *v;
}

// Every event of a vector document against its expected pre-hashes (optional) and hashes.
void CheckDocument(const std::string& name, HashProfile profile, const std::string& prehashes,
                   const std::string& hashes) {
  JsonValue doc = Parse(Slurp(name + ".jsonld"));
  HashOptions options;
  options.profile = profile;
  options.context = ContextPrefixes(doc);
  const JsonArray& events = doc.find("epcisBody")->find("eventList")->as_array();
  std::vector<std::string> want_pre =
      prehashes.empty() ? std::vector<std::string>{} : Lines(Slurp(prehashes));
  std::vector<std::string> want_hash = Lines(Slurp(hashes));
  BOOST_REQUIRE_EQUAL(events.size(), want_hash.size());
  for (size_t i = 0; i < events.size(); ++i) {
    BOOST_TEST_CONTEXT(name << " event " << i) {
      auto pre = EventPreHash(events[i], options);
      BOOST_REQUIRE_MESSAGE(pre.has_value(), (pre ? std::string() : pre.error().ToString()));
      if (!want_pre.empty()) BOOST_TEST(*pre == want_pre[i]);
      BOOST_TEST(HashIdOfPreHash(*pre) == want_hash[i]);
    }
  }
}

JsonValue SingleEvent() {
  return Parse(R"({"type":"ObjectEvent","action":"OBSERVE","bizStep":"shipping",
    "disposition":"in_transit","epcList":["urn:epc:id:sgtin:0614141.107346.2017",
    "urn:epc:id:sgtin:0614141.107346.2018"],"eventTime":"2022-02-16T20:33:31.116000-06:00",
    "eventTimeZoneOffset":"-06:00","readPoint":{"id":"urn:epc:id:sgln:0614141.07346.1234"},
    "bizTransactionList":[{"type":"po","bizTransaction":"http://transaction.acme.com/po/12345678"}]})");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(epcis_hash)

BOOST_AUTO_TEST_CASE(reference_generator_vector_matches_prehash_and_hash) {
  CheckDocument("epcisDocWithSingleEvent", HashProfile::kCbv20, "epcisDocWithSingleEvent.prehashes",
                "epcisDocWithSingleEvent.hashes");
}

BOOST_AUTO_TEST_CASE(epcis2js_profile_matches_the_hashes_epcis2js_computes) {
  CheckDocument("epcisDocWithSingleEvent", HashProfile::kEpcis2Js, "",
                "epcisDocWithSingleEvent.epcis2js.hashes");
}

// A GIAI (a data logger's deviceID, an asset in epcList) hashes as its Digital Link
// https://id.gs1.org/8004/{prefix}{reference}, URN escapes undone and re-encoded: the hash
// epcis2.js computes (sensorWithGiaiDevice.epcis2js.hashes, README.md).
BOOST_AUTO_TEST_CASE(giai_hashes_as_its_digital_link_as_epcis2js_computes) {
  CheckDocument("sensorWithGiaiDevice", HashProfile::kEpcis2Js, "",
                "sensorWithGiaiDevice.epcis2js.hashes");
  JsonValue doc = Parse(Slurp("sensorWithGiaiDevice.jsonld"));
  const JsonValue& event = doc.find("epcisBody")->find("eventList")->as_array()[0];
  auto pre = EventPreHash(event, {});
  BOOST_REQUIRE(pre.has_value());
  BOOST_TEST(pre->find("deviceID=https://id.gs1.org/8004/9506000LOGGER1") != std::string::npos);
  BOOST_TEST(pre->find("epc=https://id.gs1.org/8004/4012345A%2FB-7%21x") != std::string::npos);
  BOOST_TEST(pre->find("urn:epc:id:giai") == std::string::npos);
  BOOST_TEST(NormaliseEpc("urn:epc:id:giai:9506000.LOGGER1") ==
             "https://id.gs1.org/8004/9506000LOGGER1");
  // Not a GIAI (a company prefix of five digits, a '#'): kept as it is.
  BOOST_TEST(NormaliseEpc("urn:epc:id:giai:95060.L1") == "urn:epc:id:giai:95060.L1");
  BOOST_TEST(NormaliseEpc("urn:epc:id:giai:9506000.L#1") == "urn:epc:id:giai:9506000.L#1");
}

BOOST_AUTO_TEST_CASE(member_order_epc_form_and_offset_do_not_change_the_hash) {
  auto a = EventHashId(SingleEvent());
  BOOST_REQUIRE(a.has_value());
  // Same event: members reversed, Digital Links instead of URNs, the instant in UTC, the EPCs
  // in another order, CBV values as URNs and web URIs.
  JsonValue b =
      Parse(R"({"bizTransactionList":[{"bizTransaction":"http://transaction.acme.com/po/12345678",
    "type":"https://ref.gs1.org/cbv/BTT-po"}],"readPoint":{"id":"https://id.gs1.org/414/0614141073467/254/1234"},
    "eventTimeZoneOffset":"-06:00","eventTime":"2022-02-17T02:33:31.116Z",
    "epcList":["https://id.gs1.org/01/10614141073464/21/2018","urn:epc:id:sgtin:0614141.107346.2017"],
    "disposition":"urn:epcglobal:cbv:disp:in_transit","bizStep":"https://ref.gs1.org/cbv/BizStep-shipping",
    "action":"OBSERVE","type":"ObjectEvent","eventID":"ignored","recordTime":"2030-01-01T00:00:00Z"})");
  auto hb = EventHashId(b);
  BOOST_REQUIRE(hb.has_value());
  BOOST_TEST(*hb == *a);
}

BOOST_AUTO_TEST_CASE(any_value_change_changes_the_hash) {
  auto a = EventHashId(SingleEvent());
  JsonValue changed = SingleEvent();
  changed.set("disposition", "in_progress");
  auto b = EventHashId(changed);
  JsonValue extra = SingleEvent();
  extra.set("bizLocation", JsonValue::Object().set("id", "urn:epc:id:sgln:0614141.07346.0"));
  auto c = EventHashId(extra);
  BOOST_TEST(*a != *b);
  BOOST_TEST(*a != *c);
  BOOST_TEST(*b != *c);
}

BOOST_AUTO_TEST_CASE(timestamps_are_utc_milliseconds_rounded_at_the_fourth_decimal) {
  JsonValue e = Parse(R"({"type":"ObjectEvent","eventTime":"2020-12-31T23:59:59.9996-01:30",
    "eventTimeZoneOffset":"-01:30","action":"OBSERVE"})");
  auto pre = EventPreHash(e);
  BOOST_REQUIRE(pre.has_value());
  BOOST_TEST(*pre ==
             "eventType=ObjectEventeventTime=2021-01-01T01:30:00.000ZeventTimeZoneOffset=-01:"
             "30action=OBSERVE");
  HashOptions js;
  js.profile = HashProfile::kEpcis2Js;
  auto truncated = EventPreHash(e, js);
  BOOST_TEST(*truncated ==
             "eventType=ObjectEventeventTime=2021-01-01T01:29:59.999ZeventTimeZoneOffset=-01:"
             "30action=OBSERVE");
}

BOOST_AUTO_TEST_CASE(ilmd_and_extensions_are_namespaced_and_sorted) {
  JsonValue e = Parse(R"({"type":"ObjectEvent","eventTime":"2024-01-01T00:00:00Z",
    "eventTimeZoneOffset":"+00:00","action":"ADD","bizStep":"commissioning",
    "ilmd":{"cbvmda:lotNumber":"LOT7","cbvmda:itemExpirationDate":"2027-05-31"},
    "ex:b":{"ex:y":"2","ex:x":[3,1]},"ex:a":"12.50","rdfs:comment":"not hashed"})");
  HashOptions o;
  o.context = {{"ex", "https://ns.example.com/"}};
  auto pre = EventPreHash(e, o);
  BOOST_REQUIRE_MESSAGE(pre.has_value(), (pre ? std::string() : pre.error().ToString()));
  BOOST_TEST(*pre ==
             "eventType=ObjectEventeventTime=2024-01-01T00:00:00.000ZeventTimeZoneOffset=+00:"
             "00action=ADDbizStep=https://ref.gs1.org/cbv/BizStep-commissioning"
             "ilmd{urn:epcglobal:cbv:mda:}itemExpirationDate=2027-05-31"
             "{urn:epcglobal:cbv:mda:}lotNumber=LOT7"
             "{https://ns.example.com/}a=12.5"
             "{https://ns.example.com/}b{https://ns.example.com/}x=1{https://ns.example.com/}x=3"
             "{https://ns.example.com/}y=2");
}

BOOST_AUTO_TEST_CASE(ignored_members_stay_out_of_the_prehash) {
  JsonValue e = SingleEvent();
  auto plain = EventHashId(e);
  e.set("pedigree:ledgerIndex", 42);
  HashOptions o;
  o.context = {{"pedigree", "https://pedigree.example/epcis/"}};
  auto with = EventHashId(e, o);
  o.ignore = {"pedigree:ledgerIndex"};
  auto ignored = EventHashId(e, o);
  BOOST_TEST(*with != *plain);
  BOOST_TEST(*ignored == *plain);
}

BOOST_AUTO_TEST_CASE(unknown_extension_prefix_is_refused_with_its_pointer) {
  JsonValue e = SingleEvent();
  e.set("ilmd", JsonValue::Object().set("nope:lot", "L1"));
  auto r = EventHashId(e);
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "epcis.invalid_event");
  BOOST_TEST(r.error().field() == "/ilmd/nope:lot");
  auto not_object = EventHashId(JsonValue("x"));
  BOOST_TEST(!not_object.has_value());
  auto no_type = EventHashId(Parse(R"({"action":"ADD"})"));
  BOOST_REQUIRE(!no_type.has_value());
  BOOST_TEST(no_type.error().field() == "/type");
}

BOOST_AUTO_TEST_CASE(epc_urns_become_canonical_digital_links) {
  BOOST_TEST(NormaliseEpc("urn:epc:id:sgtin:0614141.107346.2017") ==
             "https://id.gs1.org/01/10614141073464/21/2017");
  BOOST_TEST(NormaliseEpc("urn:epc:id:sscc:4012345.1112223334") ==
             "https://id.gs1.org/00/140123451122233341");
  BOOST_TEST(NormaliseEpc("urn:epc:id:sgln:4012345.00022.0") ==
             "https://id.gs1.org/414/4012345000221");
  BOOST_TEST(NormaliseEpc("urn:epc:id:pgln:4012345.00000") ==
             "https://id.gs1.org/417/4012345000009");
  BOOST_TEST(NormaliseEpc("urn:epc:class:lgtin:4012345.012345.998877") ==
             "https://id.gs1.org/01/04012345123456/10/998877");
  BOOST_TEST(NormaliseEpc("geo:47.506694,11.104301") == "geo:47.506694,11.104301");
}

BOOST_AUTO_TEST_SUITE_END()
