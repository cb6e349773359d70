// ProvenanceLedgerOptions: the provenance model attached to a real ledger on Create and on
// Open, and the ledgers it refuses to run on.
#include "pedigree/provenance/provenance_ledger.h"

#include <boost/test/unit_test.hpp>

#include "common/result.h"
#include "common/tamper_sql.h"
#include "common/temp_dir.h"
#include "pedigree/base/bytes.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"

using namespace pedigree;
using namespace pedigree::provenance;
using pedigree::testing::TamperSql;
using pedigree::testing::TempDir;

namespace {

constexpr int64_t kNow = 1'795'300'000;  // 2026-11-21T22:26:40Z

// An org.register of `id` with a fresh key, signed by `signer`.
std::string OrgRegister(const log::PrivateKey& signer, const std::string& id,
                        const std::string& time = "2026-11-21T10:00:00Z") {
  auto k = JsonValue::Object();
  k.set("key", JsonValue(ToBase64(log::PrivateKey::Generate().public_key().raw())));
  k.set("validFrom", JsonValue("2026-01-01T00:00:00Z"));
  auto keys = JsonValue::Array();
  keys.push_back(k);
  auto roles = JsonValue::Array();
  roles.push_back(JsonValue("manufacturer"));
  auto p = JsonValue::Object();
  p.set("v", JsonValue(int64_t{1}));
  p.set("kind", JsonValue("org.register"));
  p.set("org", JsonValue("authority"));
  p.set("clientId", JsonValue("register-" + id));
  p.set("time", JsonValue(time));
  p.set("id", JsonValue(id));
  p.set("name", JsonValue(id));
  p.set("roles", roles);
  p.set("keys", keys);
  return log::SignEntry(p, signer, "example.org/attach-test").value();
}

std::string Code(const Result<uint64_t>& r) { return r ? "ok" : r.error().code(); }

}  // namespace

BOOST_AUTO_TEST_SUITE(provenance_ledger)

BOOST_AUTO_TEST_CASE(created_and_reopened_ledgers_run_the_rules_with_the_recorded_authority) {
  TempDir tmp;
  const log::PrivateKey authority = log::PrivateKey::Generate();
  const log::PrivateKey other = log::PrivateKey::Generate();
  std::unique_ptr<ProvenanceState> state;
  int64_t now = kNow;
  {
    auto ledger = log::Ledger::Create(tmp / "l", "example.org/attach-test",
                                      ProvenanceLedgerOptions(
                                          state, [&now] { return now; }, authority.public_key()));
    BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
    BOOST_REQUIRE(state != nullptr);
    BOOST_TEST((*ledger)->storage().GetMeta("model").value() == kModelName);
    BOOST_TEST((*ledger)->storage().GetMeta(kAuthorityKeyMeta).value() ==
               ToBase64(authority.public_key().raw()));
    // The rules run: the authority may register, anyone else is refused and takes no index.
    BOOST_TEST(Code((*ledger)->Append(OrgRegister(authority, "mfg"))) == "ok");
    BOOST_TEST(Code((*ledger)->Append(OrgRegister(other, "rogue"))) == "event.not_authority");
    // The clock is `now`, the log's sequencing time: an event more than five minutes ahead
    // of it is refused.
    const std::string tomorrow = "2026-11-22T22:00:00Z";
    BOOST_TEST(Code((*ledger)->Append(OrgRegister(authority, "early", tomorrow))) ==
               "event.time_skew");
    now = kNow + 86400;
    BOOST_TEST(Code((*ledger)->Append(OrgRegister(authority, "early", tomorrow))) == "ok");
    BOOST_TEST((*ledger)->size() == 2u);
    BOOST_TEST(state->AppliedSize().value() == 2u);
  }
  // Reopened without naming the authority: the ledger's metadata gives it.
  state.reset();
  auto ledger =
      log::Ledger::Open(tmp / "l", ProvenanceLedgerOptions(state, [&now] { return now; }));
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
  BOOST_REQUIRE(state != nullptr);
  BOOST_TEST(state->AppliedSize().value() == 2u);
  BOOST_TEST(Code((*ledger)->Append(OrgRegister(authority, "mfg"))) == "event.conflict");
  BOOST_TEST(Code((*ledger)->Append(OrgRegister(other, "ws"))) == "event.not_authority");
  BOOST_TEST(Code((*ledger)->Append(OrgRegister(authority, "ws"))) == "ok");
  BOOST_TEST(state->AppliedSize().value() == 3u);
  auto view = ProvenanceView::Open((*ledger)->db_path()).value();
  BOOST_TEST(view->OrgRoles("ws").value() == std::vector<std::string>{"manufacturer"},
             boost::test_tools::per_element());
  BOOST_TEST(view->OrgRegistry("ws").value().entries == std::vector<uint64_t>{2},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_plain_log_is_not_opened_as_a_provenance_ledger) {
  TempDir tmp;
  BOOST_REQUIRE(log::Ledger::Create(tmp / "l", "example.org/plain").has_value());
  std::unique_ptr<ProvenanceState> state;
  auto ledger = log::Ledger::Open(tmp / "l", ProvenanceLedgerOptions(state, [] { return kNow; }));
  BOOST_REQUIRE(!ledger.has_value());
  BOOST_TEST(ledger.error().code() == "node.not_supply_chain");
  BOOST_TEST(state == nullptr);
}

BOOST_AUTO_TEST_CASE(derived_tables_out_of_step_with_the_log_are_refused) {
  TempDir tmp;
  const log::PrivateKey authority = log::PrivateKey::Generate();
  std::unique_ptr<ProvenanceState> state;
  {
    auto ledger = log::Ledger::Create(tmp / "l", "example.org/attach-test",
                                      ProvenanceLedgerOptions(
                                          state, [] { return kNow; }, authority.public_key()));
    BOOST_REQUIRE(ledger.has_value());
    for (const char* id : {"a", "b"}) {
      BOOST_REQUIRE((*ledger)->Append(OrgRegister(authority, id)).has_value());
    }
  }
  TamperSql(tmp / "l", "UPDATE provenance_meta SET value = 1 WHERE key = 'applied'");
  auto ledger = log::Ledger::Open(tmp / "l", ProvenanceLedgerOptions(state, [] { return kNow; }));
  BOOST_REQUIRE(!ledger.has_value());
  BOOST_TEST(ledger.error().code() == "node.state_mismatch");
  BOOST_TEST(ledger.error().message() == "derived tables reflect 1 entries but the log holds 2");
}

BOOST_AUTO_TEST_SUITE_END()
