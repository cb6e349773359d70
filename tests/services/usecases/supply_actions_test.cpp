// Supply actions are defined once: the payload each builds, and how a scanned code in any
// scanner form becomes the ledger's epc.
#include "pedigree/usecases/supply_actions.h"

#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "pedigree/log/envelope.h"

namespace pedigree::services {
namespace {

using testing::Why;

constexpr const char* kPackUri = "https://id.gs1.org/01/09506000134352/21/ABC123";

JsonValue Object(std::initializer_list<std::pair<std::string, JsonValue>> members) {
  auto o = JsonValue::Object();
  for (const auto& [k, v] : members) o.set(k, v);
  return o;
}

BOOST_AUTO_TEST_SUITE(supply_actions)

struct CodeCase {
  const char* code;
  const char* epc;  // expected epc, or nullptr when refused
  const char* error;
};

BOOST_AUTO_TEST_CASE(every_scanner_form_of_a_code_names_the_same_epc) {
  const CodeCase cases[] = {
      // DataMatrix as a scanner sends it: symbology id, FNC1 as GS.
      {"]d20109506000134352172803311012345\x1d"
       "21ABC123",
       kPackUri, nullptr},
      {"(01)09506000134352(17)280331(10)12345(21)ABC123", kPackUri, nullptr},
      {kPackUri, kPackUri, nullptr},
      {"https://example.com/01/09506000134352/21/ABC123?17=280331", kPackUri, nullptr},
      // An SSCC bare, bracketed and as an element string.
      {"095060001343520017", "095060001343520017", nullptr},
      {"(00)095060001343520017", "095060001343520017", nullptr},
      {"]C100095060001343520017", "095060001343520017", nullptr},
      // A bare SSCC with a wrong check digit is not taken on trust.
      {"095060001343520018", nullptr, "gs1.check_digit"},
      // A GTIN without a serial names no pack.
      {"(01)09506000134352(10)12345", nullptr, "scan.not_a_pack"},
      {"not a code", nullptr, nullptr},
  };
  for (const auto& c : cases) {
    auto epc = EpcOfCode(c.code);
    if (c.epc) {
      BOOST_TEST_INFO(c.code);
      BOOST_REQUIRE_MESSAGE(epc.has_value(), Why(epc));
      BOOST_TEST(*epc == c.epc);
    } else {
      BOOST_TEST_INFO(c.code);
      BOOST_TEST(!epc.has_value());
      if (!epc && c.error) BOOST_TEST(epc.error().code() == c.error);
    }
  }
}

BOOST_AUTO_TEST_CASE(dispense_is_a_decommission_as_supplied_with_the_scanned_pack) {
  auto payload = ActionPayload(ActionNamed("dispense"),
                               Object({{"code", JsonValue("(01)09506000134352(21)ABC123")},
                                       {"location", JsonValue("9506000134376")}}));
  BOOST_REQUIRE_MESSAGE(payload.has_value(), Why(payload));
  BOOST_TEST(Canonicalize(*payload) ==
             std::string("{\"epcs\":[\"") + kPackUri +
                 "\"],\"kind\":\"decommission\",\"location\":\"9506000134376\","
                 "\"status\":\"supplied\"}");
  // The typed builder the demo and the benchmarks use gives the same payload.
  BOOST_TEST(Canonicalize(DispensePayload({kPackUri}, "9506000134376")) == Canonicalize(*payload));
}

BOOST_AUTO_TEST_CASE(a_member_that_contradicts_the_action_is_refused) {
  struct Case {
    const char* action;
    JsonValue fields;
    const char* field;
  };
  const Case cases[] = {
      {"dispense",
       Object({{"epcs", JsonValue::Strings({kPackUri})}, {"status", JsonValue("destroyed")}}),
       "status"},
      {"recall",
       Object({{"gtin", JsonValue("09506000134352")}, {"status", JsonValue("withdrawn")}}),
       "status"},
      {"dispense", Object({{"kind", JsonValue("undo")}}), "kind"},
      {"dispense",
       Object({{"code", JsonValue(kPackUri)}, {"epcs", JsonValue::Strings({kPackUri})}}), "code"},
      {"ship", Object({{"code", JsonValue(int64_t{5})}}), "code"},
      {"ship", Object({{"code", JsonValue::Array()}}), "code"},
      {"commission", Object({{"generate", JsonValue("3")}}), "generate"},
      {"commission",
       Object({{"generate", JsonValue(int64_t{2})}, {"serials", JsonValue::Strings({"A"})}}),
       "generate"},
  };
  for (const auto& c : cases) {
    auto payload = ActionPayload(ActionNamed(c.action), c.fields);
    BOOST_TEST_INFO(c.action << " " << Canonicalize(c.fields));
    BOOST_REQUIRE(!payload.has_value());
    BOOST_TEST(payload.error().code() == "request.invalid_body");
    BOOST_TEST(payload.error().field() == c.field);
  }
  BOOST_TEST(!ActionPayload(ActionNamed("ship"), JsonValue("x")).has_value());
}

BOOST_AUTO_TEST_CASE(generate_outside_one_to_the_limit_is_refused_with_the_code_naming_the_limit) {
  for (int64_t n : {int64_t{0}, int64_t{-1}, kMaxGeneratedSerials + 1}) {
    auto payload = ActionPayload(ActionNamed("commission"), Object({{"generate", JsonValue(n)}}));
    BOOST_TEST_INFO("generate " << n);
    BOOST_REQUIRE(!payload.has_value());
    BOOST_TEST(payload.error().code() == "request.generate_over_limit");
    BOOST_TEST(payload.error().field() == "generate");
    BOOST_TEST(payload.error().message().find("10000") != std::string::npos);
  }
  BOOST_TEST(ActionPayload(ActionNamed("commission"),
                           Object({{"generate", JsonValue(kMaxGeneratedSerials)}}))
                 .has_value());
}

BOOST_AUTO_TEST_CASE(commission_generates_distinct_serials_when_asked) {
  auto payload =
      ActionPayload(ActionNamed("commission"), Object({{"generate", JsonValue(int64_t{5})}}));
  BOOST_REQUIRE_MESSAGE(payload.has_value(), Why(payload));
  BOOST_TEST(payload->find("generate") == nullptr);
  const JsonValue* serials = payload->find("serials");
  BOOST_REQUIRE(serials != nullptr);
  BOOST_TEST(serials->size() == 5u);
  // "generate" means nothing to other actions and is passed on for the rules to refuse.
  auto ship = ActionPayload(ActionNamed("ship"), Object({{"generate", JsonValue(int64_t{5})}}));
  BOOST_REQUIRE(ship.has_value());
  BOOST_TEST(ship->find("generate") != nullptr);
}

BOOST_AUTO_TEST_CASE(sign_command_fills_what_the_envelope_needs_and_keeps_what_is_given) {
  const auto key = log::PrivateKey::Generate();
  auto payload = DispensePayload({kPackUri}, "9506000134376");
  auto envelope =
      SignCommand(payload, "apotheke-1", key, 1'800'000'000, "t-", "example.org/pharmacy-log");
  BOOST_REQUIRE_MESSAGE(envelope.has_value(), Why(envelope));
  BOOST_TEST(payload.find("org")->as_string() == "apotheke-1");
  BOOST_TEST(payload.find("time")->as_string() == "2027-01-15T08:00:00Z");
  BOOST_TEST(payload.find("v")->as_int() == 1);
  BOOST_TEST(payload.find("clientId")->as_string().starts_with("t-"));
  auto opened = log::OpenEntry(*envelope);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), Why(opened));
  BOOST_TEST(opened->version == 2);
  BOOST_TEST(opened->log == "example.org/pharmacy-log");

  auto given = DispensePayload({kPackUri}, "9506000134376");
  given.set("clientId", JsonValue("mine-1"));
  given.set("time", JsonValue("2026-01-01T00:00:00Z"));
  BOOST_REQUIRE(
      SignCommand(given, "apotheke-1", key, 1'800'000'000, "t-", "example.org/pharmacy-log")
          .has_value());
  BOOST_TEST(given.find("clientId")->as_string() == "mine-1");
  BOOST_TEST(given.find("time")->as_string() == "2026-01-01T00:00:00Z");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
