#include "pedigree/provenance/pack_rules.h"

#include <boost/test/unit_test.hpp>
#include <set>

using namespace pedigree::provenance;
using namespace std::chrono;

namespace {

constexpr year_month_day kToday{year{2026}, month{11}, day{21}};
constexpr int64_t kNow = 1'795'000'000;  // 2026-11-19 some time; only differences matter

PackFacts ActivePackHeldBy(const std::string& org) {
  PackFacts p;
  p.holder_org = org;
  p.expiry = year_month_day{year{2028}, month{3}, day{31}};
  return p;
}

PackFacts SuppliedBy(const std::string& org, const std::string& gln, int64_t when) {
  PackFacts p = ActivePackHeldBy(org);
  p.status = PackStatus::kSupplied;
  p.status_org = org;
  p.status_location = gln;
  p.status_time = when;
  return p;
}

AlertCode Refusal(const RuleResult& r) {
  BOOST_REQUIRE(!r.has_value());
  return r.error().code;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pack_rules)

BOOST_AUTO_TEST_CASE(holder_may_dispense_an_active_pack) {
  BOOST_TEST(CheckDecommission(ActivePackHeldBy("pharmacy-1"), PackStatus::kSupplied,
                               {"pharmacy-1", "4012345000009", kNow}, kToday)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(dispense_after_recall_is_refused_with_alert) {
  PackFacts p = ActivePackHeldBy("pharmacy-1");
  p.batch_status = BatchStatus::kRecalled;
  auto r = CheckDecommission(p, PackStatus::kSupplied, {"pharmacy-1", "g", kNow}, kToday);
  BOOST_TEST((Refusal(r) == AlertCode::kRecalled));
  BOOST_TEST(r.error().ToError().code() == "alert.recalled");
}

BOOST_AUTO_TEST_CASE(recalled_or_expired_stock_may_still_be_destroyed) {
  PackFacts p = ActivePackHeldBy("wholesaler-1");
  p.batch_status = BatchStatus::kRecalled;
  BOOST_TEST(CheckDecommission(p, PackStatus::kDestroyed, {"wholesaler-1", "g", kNow}, kToday)
                 .has_value());
}

BOOST_AUTO_TEST_CASE(dispense_of_expired_pack_is_refused_naming_both_dates) {
  PackFacts p = ActivePackHeldBy("pharmacy-1");
  p.expiry = year_month_day{year{2026}, month{10}, day{31}};
  auto r = CheckDecommission(p, PackStatus::kSupplied, {"pharmacy-1", "g", kNow}, kToday);
  BOOST_TEST((Refusal(r) == AlertCode::kExpired));
  BOOST_TEST(r.error().message == "the batch expired on 2026-10-31 (today 2026-11-21)");
  // The expiry day itself is still valid.
  BOOST_TEST(!IsExpired(p, year_month_day{year{2026}, month{10}, day{31}}));
}

BOOST_AUTO_TEST_CASE(second_dispense_reports_status_not_other_party) {
  PackFacts p = SuppliedBy("pharmacy-1", "gln-1", kNow);
  auto r = CheckDecommission(p, PackStatus::kSupplied, {"pharmacy-2", "gln-2", kNow}, kToday);
  BOOST_TEST((Refusal(r) == AlertCode::kAlreadyDecommissioned));
  BOOST_TEST(r.error().message == "the pack is already supplied");
}

BOOST_AUTO_TEST_CASE(pack_held_by_another_organisation_cannot_be_dispensed) {
  auto r = CheckDecommission(ActivePackHeldBy("wholesaler-1"), PackStatus::kSupplied,
                             {"pharmacy-1", "g", kNow}, kToday);
  BOOST_TEST((Refusal(r) == AlertCode::kNotInCustody));
}

BOOST_AUTO_TEST_CASE(temperature_excursion_blocks_dispense_only) {
  PackFacts p = ActivePackHeldBy("pharmacy-1");
  p.temperature_excursion = true;
  BOOST_TEST((Refusal(CheckDecommission(p, PackStatus::kSupplied, {"pharmacy-1", "g", kNow},
                                        kToday)) == AlertCode::kTemperatureExcursion));
  BOOST_TEST(
      CheckDecommission(p, PackStatus::kDestroyed, {"pharmacy-1", "g", kNow}, kToday).has_value());
}

BOOST_AUTO_TEST_CASE(undo_within_ten_days_by_same_party_and_place_is_allowed) {
  PackFacts p = SuppliedBy("pharmacy-1", "gln-1", kNow);
  BOOST_TEST(CheckUndo(p, {"pharmacy-1", "gln-1", kNow + 10 * 86400}, kToday).has_value());
}

BOOST_AUTO_TEST_CASE(undo_rules_table) {
  struct Case {
    const char* name;
    PackFacts pack;
    Actor actor;
    AlertCode expected;
  };
  PackFacts destroyed = SuppliedBy("p1", "g1", kNow);
  destroyed.status = PackStatus::kDestroyed;
  PackFacts stolen = SuppliedBy("p1", "g1", kNow);
  stolen.status = PackStatus::kStolen;
  PackFacts recalled = SuppliedBy("p1", "g1", kNow);
  recalled.batch_status = BatchStatus::kRecalled;
  PackFacts withdrawn = SuppliedBy("p1", "g1", kNow);
  withdrawn.batch_status = BatchStatus::kWithdrawn;
  PackFacts expired = SuppliedBy("p1", "g1", kNow);
  expired.expiry = year_month_day{year{2026}, month{1}, day{31}};
  const Case cases[] = {
      {"late",
       SuppliedBy("p1", "g1", kNow),
       {"p1", "g1", kNow + 10 * 86400 + 1},
       AlertCode::kUndoTooLate},
      {"other org",
       SuppliedBy("p1", "g1", kNow),
       {"p2", "g1", kNow + 60},
       AlertCode::kUndoOtherParty},
      {"other place",
       SuppliedBy("p1", "g1", kNow),
       {"p1", "g2", kNow + 60},
       AlertCode::kUndoOtherParty},
      {"destroyed", destroyed, {"p1", "g1", kNow + 60}, AlertCode::kUndoForbidden},
      {"stolen", stolen, {"p1", "g1", kNow + 60}, AlertCode::kUndoForbidden},
      {"recalled", recalled, {"p1", "g1", kNow + 60}, AlertCode::kUndoForbidden},
      {"withdrawn", withdrawn, {"p1", "g1", kNow + 60}, AlertCode::kUndoForbidden},
      {"expired", expired, {"p1", "g1", kNow + 60}, AlertCode::kUndoForbidden},
      {"active", ActivePackHeldBy("p1"), {"p1", "g1", kNow}, AlertCode::kUndoNotApplicable},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      BOOST_TEST((Refusal(CheckUndo(c.pack, c.actor, kToday)) == c.expected));
    }
  }
}

BOOST_AUTO_TEST_CASE(scan_reports_every_reason_against_supply) {
  PackFacts p = ActivePackHeldBy("pharmacy-1");
  p.batch_status = BatchStatus::kRecalled;
  auto found =
      CheckScan(p, "LOT42", "LOT4Z", year_month_day{year{2028}, month{3}, day{30}}, kToday);
  BOOST_REQUIRE(found.size() == 3u);
  BOOST_TEST((found[0].code == AlertCode::kBatchMismatch));
  BOOST_TEST(found[0].message == "the pack shows batch 'LOT4Z', registered batch is 'LOT42'");
  BOOST_TEST((found[1].code == AlertCode::kExpiryMismatch));
  BOOST_TEST((found[2].code == AlertCode::kRecalled));
  BOOST_TEST(CheckScan(ActivePackHeldBy("x"), "L", "L", std::nullopt, kToday).empty());
}

BOOST_AUTO_TEST_CASE(every_alert_is_documented_once) {
  std::set<std::string_view> ids;
  for (size_t i = 0; i < AllAlerts().size(); ++i) {
    const AlertDefinition& d = AllAlerts()[i];
    BOOST_TEST(static_cast<size_t>(d.code) == i);
    BOOST_TEST(!d.cause.empty());
    BOOST_TEST(!d.next_step.empty());
    BOOST_TEST(ids.insert(d.id).second);
  }
}

BOOST_AUTO_TEST_CASE(status_names_round_trip) {
  for (int i = 0; i <= static_cast<int>(PackStatus::kCheckedOut); ++i) {
    auto s = static_cast<PackStatus>(i);
    BOOST_TEST((ParsePackStatus(PackStatusName(s)).value() == s));
  }
  auto bad = ParsePackStatus("sold");
  BOOST_TEST(bad.error().code() == "pack.unknown_status");
  BOOST_TEST(bad.error().field() == "status");
}

BOOST_AUTO_TEST_SUITE_END()

#include <fstream>
#include <map>
#include <sstream>

BOOST_AUTO_TEST_CASE(docs_alerts_md_lists_every_alert_id) {
  std::ifstream doc(std::string(PEDIGREE_SOURCE_DIR) + "/docs/alerts.md");
  BOOST_REQUIRE(doc);
  std::stringstream text;
  text << doc.rdbuf();
  for (const AlertDefinition& d : AllAlerts()) {
    BOOST_TEST_CONTEXT(d.id) {
      BOOST_TEST(text.str().find("`" + std::string(d.id) + "`") != std::string::npos);
    }
  }
}

// Each row of the alert table names the class ClassifyAlert gives (already_decommissioned
// by another organisation; by the one that set the status it is a slip, said in the text).
BOOST_AUTO_TEST_CASE(docs_alerts_md_gives_every_alert_its_class) {
  std::ifstream doc(std::string(PEDIGREE_SOURCE_DIR) + "/docs/alerts.md");
  BOOST_REQUIRE(doc);
  std::string line;
  std::map<std::string, std::string> rows;
  while (std::getline(doc, line)) {
    if (line.rfind("| `", 0) == 0) rows[line.substr(3, line.find('`', 3) - 3)] = line;
  }
  for (const AlertDefinition& d : AllAlerts()) {
    BOOST_TEST_CONTEXT(d.id) {
      const std::string cls(AlertClassName(ClassifyAlert(d.code, false)));
      BOOST_TEST(rows[std::string(d.id)].find("| " + cls + " |") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_CASE(alerts_weigh_by_class_state_and_classification) {
  BOOST_TEST(AlertClassName(ClassifyAlert(AlertCode::kAlreadyDecommissioned, true)) == "slip");
  BOOST_TEST(AlertClassName(ClassifyAlert(AlertCode::kAlreadyDecommissioned, false)) ==
             "falsification_signal");
  BOOST_TEST(AlertClassName(ClassifyAlert(AlertCode::kUndoOtherParty, false)) == "slip");
  BOOST_TEST(AlertClassName(ClassifyAlert(AlertCode::kRecalled, false)) == "technical");
  struct Row {
    const char* cls;
    const char* state;
    const char* classification;
    bool weighs;
  };
  const Row rows[] = {
      {"falsification_signal", "open", "", true},
      {"falsification_signal", "investigating", "", true},
      {"falsification_signal", "closed", "technical_error", false},
      {"falsification_signal", "closed", "process_error", false},
      {"falsification_signal", "closed", "confirmed_falsification", true},
      {"slip", "open", "", false},
      {"slip", "investigating", "", false},
      {"slip", "closed", "confirmed_falsification", true},
      {"technical", "open", "", false},
      {"technical", "closed", "confirmed_falsification", true},
      {"", "open", "", true},  // an unknown class fails safe
  };
  for (const Row& r : rows) {
    BOOST_TEST_CONTEXT(r.cls << " " << r.state << " " << r.classification) {
      BOOST_TEST(AlertWeighs(r.cls, r.state, r.classification) == r.weighs);
    }
  }
  BOOST_TEST((AlertCodeNamed("undo_too_late") == AlertCode::kUndoTooLate));
  BOOST_TEST(!AlertCodeNamed("no_such_alert").has_value());
}

#include "pedigree/provenance/provenance.h"

BOOST_AUTO_TEST_CASE(random_serials_are_distinct_and_avoid_ambiguous_letters) {
  auto serials = RandomSerials(2000, 12);
  std::set<std::string> distinct(serials.begin(), serials.end());
  BOOST_TEST(distinct.size() == 2000u);
  std::set<char> used;
  for (const auto& s : serials) {
    BOOST_TEST(s.size() == 12u);
    used.insert(s.begin(), s.end());
  }
  for (char banned : {'I', 'O', 'Y', 'Z'}) BOOST_TEST(!used.count(banned));
  // 24,000 draws from 32 symbols: every symbol appears.
  BOOST_TEST(used.size() == 32u);
}
