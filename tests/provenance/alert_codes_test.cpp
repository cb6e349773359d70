// Alert codes are assembled at run time ("alert." + the alert's id), so the source walk of
// tests/base cannot see them: every alert the rules define must be declared as a 422.
#include <boost/test/unit_test.hpp>
#include <string>

#include "pedigree/base/error_codes.h"
#include "pedigree/provenance/pack_rules.h"

using namespace pedigree;
using namespace pedigree::provenance;

BOOST_AUTO_TEST_SUITE(alert_codes)

BOOST_AUTO_TEST_CASE(every_alert_is_a_declared_422) {
  size_t alerts = 0;
  for (const AlertDefinition& d : AllAlerts()) {
    ++alerts;
    const std::string code = Alert{d.code, "m"}.ToError().code();
    BOOST_TEST(code == "alert." + std::string(d.id));
    const ErrorCodeInfo* e = FindErrorCode(code);
    BOOST_TEST_REQUIRE(e != nullptr, code << " is not declared in ledger/base/src/error_codes.cpp");
    BOOST_TEST(e->http_status == 422, code);
  }
  BOOST_TEST(alerts == 21u);
}

BOOST_AUTO_TEST_CASE(every_declared_alert_code_is_an_alert_the_rules_define) {
  for (const ErrorCodeInfo& e : AllErrorCodes()) {
    if (!e.code.starts_with("alert.")) continue;
    bool defined = false;
    for (const AlertDefinition& d : AllAlerts()) defined |= e.code.substr(6) == d.id;
    BOOST_TEST(defined, e.code << " is declared but no alert has this id");
  }
}

BOOST_AUTO_TEST_SUITE_END()
