// The provenance model through the real ledger: each command is a signed entry and the
// rules decide, inside the sequencer's transaction, whether it is appended. Every case
// runs on SQLite and again on PostgreSQL (`<case>_on_postgresql`: a fresh database of the
// test process's throwaway cluster, tests/common/pg_cluster.h), the derived tables then
// written on the PostgreSQL storage's connection inside its append transaction.
#include "pedigree/provenance/provenance.h"

#include <boost/test/unit_test.hpp>

#include "common/pg_cluster.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/base/time.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/provenance/provenance_ledger.h"

using namespace pedigree;
using namespace pedigree::provenance;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

enum class Backend { kSqlite, kPostgres };
// The backend of the running case (set by BOTH_BACKENDS_CASE before its body runs).
Backend g_backend = Backend::kSqlite;

// A test case run twice: `name` on SQLite, `name_on_postgresql` on PostgreSQL.
#define BOTH_BACKENDS_CASE(name)               \
  void name##_body();                          \
  BOOST_AUTO_TEST_CASE(name) {                 \
    g_backend = Backend::kSqlite;              \
    name##_body();                             \
  }                                            \
  BOOST_AUTO_TEST_CASE(name##_on_postgresql) { \
    g_backend = Backend::kPostgres;            \
    name##_body();                             \
  }                                            \
  void name##_body()

constexpr const char* kGtin = "09506000134352";  // GS1's example GTIN, check digit 2
constexpr const char* kMfgGln = "9506000000008";
constexpr const char* kWsGln = "4012345000009";
constexpr const char* kPh1Gln = "4000001000005";
constexpr const char* kPh2Gln = "4000002000004";

std::string PackId(const std::string& serial) {
  return std::string("https://id.gs1.org/01/") + kGtin + "/21/" + serial;
}

JsonValue Strings(std::initializer_list<std::string> items) {
  auto a = JsonValue::Array();
  for (const auto& i : items) a.push_back(JsonValue(i));
  return a;
}

struct Org {
  std::string id;
  log::PrivateKey key = log::PrivateKey::Generate();
};

class Chain {
 public:
  explicit Chain(TimeBounds bounds = {}) {
    const std::string storage =
        g_backend == Backend::kPostgres ? PgCluster::Shared().NewDatabase() : std::string();
    const log::LedgerOptions options = ProvenanceLedgerOptions(
        state_, [this] { return now_; }, authority_.public_key(), bounds, storage, tmp_ / "ledger");
    ledger_ = log::Ledger::Create(tmp_ / "ledger", "example.org/provenance-test", options).value();
    view_ = ProvenanceView::Open(ledger_->db_path()).value();

    Register(manufacturer_, "manufacturer", "9506000", kMfgGln);
    Register(wholesaler_, "wholesaler", "4012345", kWsGln);
    Register(pharmacy1_, "dispenser", "4000001", kPh1Gln);
    Register(pharmacy2_, "dispenser", "4000002", kPh2Gln);
    Expect(Do(manufacturer_, "product.register",
              {{"gtin", kGtin}, {"name", "Examplamab 10 mg"}, {"tempMin", 20}, {"tempMax", 80}}));
    Expect(Do(manufacturer_, "batch.register",
              {{"gtin", kGtin}, {"lot", "LOT1"}, {"expiry", "2028-03-31"}, {"quantity", 100}}));
    Expect(Do(manufacturer_, "commission",
              {{"gtin", kGtin},
               {"lot", "LOT1"},
               {"location", kMfgGln},
               {"serials", Strings({"S1", "S2", "S3", "S4", "S5"})}}));
  }

  ~Chain() { ledger_.reset(); }

  Status Do(const Org& org, const std::string& kind,
            std::initializer_list<std::pair<std::string, JsonValue>> fields,
            const log::PrivateKey* signer = nullptr,
            const std::string& time = "2026-11-21T10:00:00Z") {
    auto p = JsonValue::Object();
    p.set("v", JsonValue(int64_t{1}));
    p.set("kind", JsonValue(kind));
    p.set("org", JsonValue(org.id));
    p.set("clientId", JsonValue("c" + std::to_string(++client_)));
    p.set("time", JsonValue(time));
    for (const auto& [k, v] : fields) p.set(k, v);
    auto index =
        ledger_->Append(log::SignEntry(p, signer ? *signer : org.key, ledger_->origin()).value());
    if (!index) return std::unexpected(index.error());
    return Ok();
  }

  void Register(const Org& org, const std::string& role, const std::string& prefix,
                const std::string& gln) {
    auto key = JsonValue::Object();
    key.set("key", JsonValue(ToBase64(org.key.public_key().raw())));
    key.set("validFrom", JsonValue("2026-01-01T00:00:00Z"));
    auto keys = JsonValue::Array();
    keys.push_back(key);
    Org authority{"authority"};
    Expect(Do(authority, "org.register",
              {{"id", JsonValue(org.id)},
               {"name", JsonValue(org.id)},
               {"roles", Strings({role})},
               {"companyPrefixes", Strings({prefix})},
               {"glns", Strings({gln})},
               {"keys", keys}},
              &authority_));
  }

  static void Expect(const Status& s) {
    BOOST_REQUIRE_MESSAGE(s.has_value(), pedigree::testing::Why(s));
  }
  static std::string Code(const Status& s) { return s ? "ok" : s.error().code(); }

  PackView Pack(const std::string& serial) { return view_->Pack(kGtin, serial).value().value(); }

  void ShipToPharmacy1(const std::string& serial, const std::string& advice) {
    Expect(Do(manufacturer_, "ship",
              {{"epcs", Strings({PackId(serial)})},
               {"to", "ws"},
               {"toLocation", kWsGln},
               {"despatchAdvice", advice + "-a"}}));
    Expect(Do(wholesaler_, "receive",
              {{"from", "mfg"}, {"despatchAdvice", advice + "-a"}, {"location", kWsGln}}));
    Expect(Do(wholesaler_, "ship",
              {{"epcs", Strings({PackId(serial)})},
               {"to", "ph1"},
               {"toLocation", kPh1Gln},
               {"despatchAdvice", advice + "-b"}}));
    Expect(Do(pharmacy1_, "receive",
              {{"from", "ws"}, {"despatchAdvice", advice + "-b"}, {"location", kPh1Gln}}));
  }

  TempDir tmp_;
  log::PrivateKey authority_ = log::PrivateKey::Generate();
  Org manufacturer_{"mfg"}, wholesaler_{"ws"}, pharmacy1_{"ph1"}, pharmacy2_{"ph2"};
  int64_t now_ = 1'795'300'000;  // 2026-11-21T22:26:40Z; events are timed 2026-11-21T10:00
  int client_ = 0;
  std::unique_ptr<ProvenanceState> state_;
  std::unique_ptr<log::Ledger> ledger_;
  std::unique_ptr<ProvenanceView> view_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(provenance)

BOTH_BACKENDS_CASE(pack_travels_from_manufacturer_to_patient) {
  Chain c;
  c.ShipToPharmacy1("S1", "DA1");
  PackView at_pharmacy = c.Pack("S1");
  BOOST_TEST(at_pharmacy.facts.holder_org == "ph1");
  BOOST_TEST(at_pharmacy.in_transit_to.empty());
  Chain::Expect(
      c.Do(c.pharmacy1_, "decommission",
           {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh1Gln}}));
  BOOST_TEST((c.Pack("S1").facts.status == PackStatus::kSupplied));
  // commission, ship, receive, ship, receive, supply + batch.register
  BOOST_TEST(c.view_->PackHistory(kGtin, "S1").value().size() == 7u);
}

BOTH_BACKENDS_CASE(only_the_holder_may_ship_and_refusal_appends_nothing) {
  Chain c;
  uint64_t before = c.ledger_->size();
  auto s = c.Do(c.wholesaler_, "ship",
                {{"epcs", Strings({PackId("S2")})},
                 {"to", "ph1"},
                 {"toLocation", kPh1Gln},
                 {"despatchAdvice", "X"}});
  BOOST_TEST(Chain::Code(s) == "alert.not_in_custody");
  BOOST_TEST(c.ledger_->size() == before);
}

BOTH_BACKENDS_CASE(receive_before_ship_is_refused_with_alert) {
  Chain c;
  auto s = c.Do(c.wholesaler_, "receive",
                {{"from", "mfg"}, {"despatchAdvice", "NOPE"}, {"location", kWsGln}});
  BOOST_TEST(Chain::Code(s) == "alert.receive_before_ship");
}

BOTH_BACKENDS_CASE(dispense_after_recall_is_refused_with_alert) {
  Chain c;
  c.ShipToPharmacy1("S1", "DA1");
  Chain::Expect(
      c.Do(c.manufacturer_, "batch.status",
           {{"gtin", kGtin}, {"lot", "LOT1"}, {"status", "recalled"}, {"reason", "sterility"}}));
  auto s = c.Do(c.pharmacy1_, "decommission",
                {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh1Gln}});
  BOOST_TEST(Chain::Code(s) == "alert.recalled");
  auto reach = c.view_->RecallReach(kGtin, "LOT1").value();
  int64_t at_ph1 = 0, total = 0;
  for (const auto& h : reach) {
    total += h.packs;
    if (h.holder == "ph1") at_ph1 += h.packs;
  }
  BOOST_TEST(total == 5);
  BOOST_TEST(at_ph1 == 1);
  BOOST_TEST(Chain::Code(c.Do(
                 c.manufacturer_, "batch.status",
                 {{"gtin", kGtin}, {"lot", "LOT1"}, {"status", "active"}, {"reason", "oops"}})) ==
             "event.batch_recalled");
}

BOTH_BACKENDS_CASE(second_pharmacy_dispensing_an_active_held_pack_is_a_clone) {
  Chain c;
  c.ShipToPharmacy1("S1", "DA1");
  auto s = c.Do(c.pharmacy2_, "decommission",
                {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh2Gln}});
  BOOST_TEST(Chain::Code(s) == "alert.clone_suspected");
}

BOTH_BACKENDS_CASE(undo_by_other_pharmacy_or_after_ten_days_is_refused) {
  Chain c;
  c.ShipToPharmacy1("S1", "DA1");
  Chain::Expect(
      c.Do(c.pharmacy1_, "decommission",
           {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh1Gln}}));
  BOOST_TEST(Chain::Code(c.Do(c.pharmacy2_, "undo",
                              {{"epcs", Strings({PackId("S1")})}, {"location", kPh2Gln}})) ==
             "alert.undo_other_party");
  c.now_ = ParseUtcTime("2026-12-02T10:00:01Z").value();
  BOOST_TEST(Chain::Code(c.Do(c.pharmacy1_, "undo",
                              {{"epcs", Strings({PackId("S1")})}, {"location", kPh1Gln}}, nullptr,
                              "2026-12-02T10:00:01Z")) == "alert.undo_too_late");
}

BOTH_BACKENDS_CASE(undo_within_ten_days_is_accepted) {
  Chain c;
  c.ShipToPharmacy1("S1", "DA1");
  Chain::Expect(
      c.Do(c.pharmacy1_, "decommission",
           {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh1Gln}}));
  c.now_ = ParseUtcTime("2026-11-30T10:00:00Z").value();
  Chain::Expect(c.Do(c.pharmacy1_, "undo",
                     {{"epcs", Strings({PackId("S1")})}, {"location", kPh1Gln}}, nullptr,
                     "2026-11-30T10:00:00Z"));
  BOOST_TEST((c.Pack("S1").facts.status == PackStatus::kActive));
}

// --- time that cannot be rewound ---------------------------------------------------------
// The rules judge each entry by the log's sequencing time; the time the client writes is
// only accepted within a bounded skew of it, and never before the pack's previous event.

// Attack: a dispense 30 days old is undone by dating the undo 29 days ago (the window is
// 10 days).
BOTH_BACKENDS_CASE(backdated_undo_of_an_old_dispense_is_refused) {
  for (const bool wide_buffer : {false, true}) {
    BOOST_TEST_CONTEXT("offline buffer of " << (wide_buffer ? "40 days" : "72 hours")) {
      Chain c(wide_buffer ? TimeBounds{.offline_buffer = 40 * 86400} : TimeBounds{});
      c.ShipToPharmacy1("S1", "DA1");
      const int64_t dispensed = c.now_;
      Chain::Expect(
          c.Do(c.pharmacy1_, "decommission",
               {{"epcs", Strings({PackId("S1")})}, {"status", "supplied"}, {"location", kPh1Gln}},
               nullptr, FormatUtcTime(dispensed)));
      c.now_ = dispensed + 30 * 86400;
      auto undo =
          c.Do(c.pharmacy1_, "undo", {{"epcs", Strings({PackId("S1")})}, {"location", kPh1Gln}},
               nullptr, FormatUtcTime(dispensed + 86400));
      // With the default bound the claimed time is out of bounds; with a bound wide
      // enough to accept it the rules still judge the undo by the log's time.
      BOOST_TEST(Chain::Code(undo) == (wide_buffer ? "alert.undo_too_late" : "event.time_skew"));
      if (!wide_buffer) {
        BOOST_TEST(undo.error().field() == "time");
        BOOST_TEST(undo.error().message().find("259200 s") != std::string::npos);
      }
      BOOST_TEST((c.Pack("S1").facts.status == PackStatus::kSupplied));
    }
  }
}

// Attack: an event signed with a revoked key and dated an hour before the revocation.
BOTH_BACKENDS_CASE(event_signed_after_revocation_but_dated_before_it_is_refused) {
  Chain c;
  const int64_t revoked = c.now_;
  Org authority{"authority"};
  Chain::Expect(c.Do(authority, "org.key_revoke",
                     {{"id", "mfg"},
                      {"key", ToBase64(c.manufacturer_.key.public_key().raw())},
                      {"revokedAt", FormatUtcTime(revoked)}},
                     &c.authority_, FormatUtcTime(revoked)));
  c.now_ = revoked + 60;
  auto late = c.Do(c.manufacturer_, "batch.register",
                   {{"gtin", kGtin}, {"lot", "LATE"}, {"expiry", "2028-01-31"}, {"quantity", 1}},
                   nullptr, FormatUtcTime(revoked - 3600));
  BOOST_TEST(Chain::Code(late) == "event.key_revoked");
  BOOST_TEST(late.error().message().find(FormatUtcTime(revoked + 60)) != std::string::npos);
}

// Attack: an expired pack is dispensed by dating the dispense before its expiry (and
// before its own receipt).
BOTH_BACKENDS_CASE(backdated_dispense_of_an_expired_pack_is_refused) {
  Chain c(TimeBounds{.offline_buffer = 30 * 86400});
  Chain::Expect(
      c.Do(c.manufacturer_, "batch.register",
           {{"gtin", kGtin}, {"lot", "SHORT"}, {"expiry", "2026-11-30"}, {"quantity", 5}}));
  Chain::Expect(c.Do(
      c.manufacturer_, "commission",
      {{"gtin", kGtin}, {"lot", "SHORT"}, {"location", kMfgGln}, {"serials", Strings({"X1"})}}));
  c.ShipToPharmacy1("X1", "DAX");  // received 2026-11-21T10:00:00Z
  c.now_ = ParseUtcTime("2026-12-05T09:00:00Z").value();
  auto dispense = [&](const std::string& time) {
    return c.Do(c.pharmacy1_, "decommission",
                {{"epcs", Strings({PackId("X1")})}, {"status", "supplied"}, {"location", kPh1Gln}},
                nullptr, time);
  };
  // Dated before the expiry, after the receipt: the log's time says it is expired.
  BOOST_TEST(Chain::Code(dispense("2026-11-25T09:00:00Z")) == "alert.expired");
  // Dated before its own receipt.
  auto before_receipt = dispense("2026-11-20T09:00:00Z");
  BOOST_TEST(Chain::Code(before_receipt) == "event.time_before_previous");
  BOOST_TEST(before_receipt.error().field() == "time");
  BOOST_TEST(before_receipt.error().message().find("2026-11-21T10:00:00Z") != std::string::npos);
  BOOST_TEST((c.Pack("X1").facts.status == PackStatus::kActive));
}

BOTH_BACKENDS_CASE(claimed_time_is_bounded_by_the_sequencing_time) {
  // 13 hours: the chain's own set-up events are dated 12.5 hours before its clock.
  Chain c(TimeBounds{.future_skew = 60, .offline_buffer = 13 * 3600});
  const int64_t seq = c.now_;
  auto batch = [&](const std::string& lot, int64_t time) {
    return Chain::Code(
        c.Do(c.manufacturer_, "batch.register",
             {{"gtin", kGtin}, {"lot", lot}, {"expiry", "2028-01-31"}, {"quantity", 1}}, nullptr,
             FormatUtcTime(time)));
  };
  BOOST_TEST(batch("F1", seq + 61) == "event.time_skew");
  BOOST_TEST(batch("F2", seq + 60) == "ok");
  BOOST_TEST(batch("P1", seq - 13 * 3600 - 1) == "event.time_skew");
  BOOST_TEST(batch("P2", seq - 13 * 3600) == "ok");
}

// An offline buffer replays events later than they happened: accepted within the bound, in
// the order they happened on each pack, never before the pack's previous event.
BOTH_BACKENDS_CASE(offline_replay_is_accepted_but_never_before_the_previous_event) {
  Chain c;
  c.ShipToPharmacy1("S2", "DA2");  // received 2026-11-21T10:00:00Z
  c.now_ += 48 * 3600;
  BOOST_TEST(Chain::Code(c.Do(
                 c.pharmacy1_, "decommission",
                 {{"epcs", Strings({PackId("S2")})}, {"status", "supplied"}, {"location", kPh1Gln}},
                 nullptr, "2026-11-21T09:59:59Z")) == "event.time_before_previous");
  Chain::Expect(
      c.Do(c.pharmacy1_, "decommission",
           {{"epcs", Strings({PackId("S2")})}, {"status", "supplied"}, {"location", kPh1Gln}},
           nullptr, "2026-11-21T10:00:00Z"));
}

BOTH_BACKENDS_CASE(case_cannot_contain_itself_nor_a_child_in_two_parents) {
  Chain c;
  const std::string case1 = "095060000000000015", case2 = "095060000000000022";
  Chain::Expect(c.Do(c.manufacturer_, "aggregate",
                     {{"parent", case1}, {"children", Strings({PackId("S1"), PackId("S2")})}}));
  BOOST_TEST(Chain::Code(c.Do(c.manufacturer_, "aggregate",
                              {{"parent", case2}, {"children", Strings({PackId("S1")})}})) ==
             "alert.aggregation_conflict");
  BOOST_TEST(Chain::Code(c.Do(c.manufacturer_, "aggregate",
                              {{"parent", case1}, {"children", Strings({case1})}})) ==
             "alert.aggregation_conflict");
  Chain::Expect(
      c.Do(c.manufacturer_, "aggregate", {{"parent", case2}, {"children", Strings({case1})}}));
  BOOST_TEST(Chain::Code(c.Do(c.manufacturer_, "aggregate",
                              {{"parent", case1}, {"children", Strings({case2})}})) ==
             "alert.aggregation_conflict");
  // Shipping the pallet moves every pack inside it.
  Chain::Expect(c.Do(c.manufacturer_, "ship",
                     {{"epcs", Strings({case2})},
                      {"to", "ws"},
                      {"toLocation", kWsGln},
                      {"despatchAdvice", "P1"}}));
  Chain::Expect(c.Do(c.wholesaler_, "receive",
                     {{"from", "mfg"}, {"despatchAdvice", "P1"}, {"location", kWsGln}}));
  BOOST_TEST(c.Pack("S2").facts.holder_org == "ws");
  BOOST_TEST(c.Pack("S3").facts.holder_org == "mfg");
}

BOTH_BACKENDS_CASE(temperature_excursion_blocks_dispense_of_that_shipment) {
  Chain c;
  Chain::Expect(c.Do(c.manufacturer_, "ship",
                     {{"epcs", Strings({PackId("S4")})},
                      {"to", "ph1"},
                      {"toLocation", kPh1Gln},
                      {"despatchAdvice", "COLD"}}));
  auto reading = JsonValue::Object();
  reading.set("time", JsonValue("2026-11-21T09:00:00Z"));
  reading.set("value", JsonValue(int64_t{123}));  // 12.3 °C, above 8.0 °C
  auto readings = JsonValue::Array();
  readings.push_back(reading);
  Chain::Expect(c.Do(c.manufacturer_, "sensor",
                     {{"from", "mfg"}, {"despatchAdvice", "COLD"}, {"readings", readings}}));
  Chain::Expect(c.Do(c.pharmacy1_, "receive",
                     {{"from", "mfg"}, {"despatchAdvice", "COLD"}, {"location", kPh1Gln}}));
  BOOST_TEST(c.Pack("S4").facts.temperature_excursion);
  BOOST_TEST(Chain::Code(c.Do(c.pharmacy1_, "decommission",
                              {{"epcs", Strings({PackId("S4")})},
                               {"status", "supplied"},
                               {"location", kPh1Gln}})) == "alert.temperature_excursion");
}

BOTH_BACKENDS_CASE(key_revoked_at_t_invalidates_later_events_only) {
  Chain c;
  auto revoke = [&](const std::string& at) {
    Org authority{"authority"};
    return c.Do(authority, "org.key_revoke",
                {{"id", "mfg"},
                 {"key", ToBase64(c.manufacturer_.key.public_key().raw())},
                 {"revokedAt", at}},
                &c.authority_);
  };
  // Events are judged by the log's time: before the revocation time, the key still signs.
  c.now_ = ParseUtcTime("2026-11-22T11:59:59Z").value();
  Chain::Expect(revoke("2026-11-22T12:00:00Z"));
  Chain::Expect(c.Do(c.manufacturer_, "batch.register",
                     {{"gtin", kGtin}, {"lot", "EARLY"}, {"expiry", "2028-01-31"}, {"quantity", 1}},
                     nullptr, "2026-11-22T11:59:59Z"));
  c.now_ = ParseUtcTime("2026-11-22T12:00:00Z").value();
  BOOST_TEST(Chain::Code(
                 c.Do(c.manufacturer_, "batch.register",
                      {{"gtin", kGtin}, {"lot", "LATE"}, {"expiry", "2028-01-31"}, {"quantity", 1}},
                      nullptr, "2026-11-22T12:00:00Z")) == "event.key_revoked");
}

BOTH_BACKENDS_CASE(registry_entries_need_the_authority_and_events_a_registered_key) {
  Chain c;
  Org rogue{"rogue"};
  BOOST_TEST(
      Chain::Code(c.Do(rogue, "org.register",
                       {{"id", "rogue"}, {"name", "x"}, {"roles", Strings({"manufacturer"})}})) ==
      "event.not_authority");
  Org impostor{"mfg"};  // claims to be the manufacturer with another key
  BOOST_TEST(Chain::Code(c.Do(
                 impostor, "batch.register",
                 {{"gtin", kGtin}, {"lot", "FAKE"}, {"expiry", "2028-01-31"}, {"quantity", 1}})) ==
             "event.unknown_key");
  BOOST_TEST(Chain::Code(c.Do(
                 c.pharmacy1_, "batch.register",
                 {{"gtin", kGtin}, {"lot", "P"}, {"expiry", "2028-01-31"}, {"quantity", 1}})) ==
             "event.forbidden_role");
}

BOTH_BACKENDS_CASE(bad_input_is_refused_with_field_and_nothing_written) {
  Chain c;
  uint64_t before = c.ledger_->size();
  struct Case {
    std::string code;
    Status status;
  };
  const Case cases[] = {
      {"event.duplicate_serial", c.Do(c.manufacturer_, "commission",
                                      {{"gtin", kGtin},
                                       {"lot", "LOT1"},
                                       {"location", kMfgGln},
                                       {"serials", Strings({"S9", "S1"})}})},
      {"gs1.check_digit",
       c.Do(c.manufacturer_, "product.register", {{"gtin", "09506000134353"}, {"name", "x"}})},
      {"event.malformed", c.Do(c.manufacturer_, "batch.register",
                               {{"gtin", kGtin}, {"lot", "L2"}, {"expiry", "2028-03-31"}})},
      {"ledger.bad_date",
       c.Do(c.manufacturer_, "batch.register",
            {{"gtin", kGtin}, {"lot", "L2"}, {"expiry", "2028-02-30"}, {"quantity", 1}})},
      {"event.time_skew",
       c.Do(c.manufacturer_, "batch.register",
            {{"gtin", kGtin}, {"lot", "L3"}, {"expiry", "2028-02-28"}, {"quantity", 1}}, nullptr,
            "2027-01-01T00:00:00Z")},
      {"event.unknown_kind", c.Do(c.manufacturer_, "teleport", {})},
      {"alert.unknown_serial", c.Do(c.manufacturer_, "ship",
                                    {{"epcs", Strings({PackId("NOPE")})},
                                     {"to", "ws"},
                                     {"toLocation", kWsGln},
                                     {"despatchAdvice", "Z"}})},
      {"event.over_quantity",
       c.Do(c.manufacturer_, "batch.register",
            {{"gtin", kGtin}, {"lot", "TINY"}, {"expiry", "2028-01-31"}, {"quantity", 1}})},
  };
  // The TINY batch registration above succeeds; commissioning two packs into it does not.
  auto over = c.Do(c.manufacturer_, "commission",
                   {{"gtin", kGtin},
                    {"lot", "TINY"},
                    {"location", kMfgGln},
                    {"serials", Strings({"T1", "T2"})}});
  BOOST_TEST(Chain::Code(over) == "event.over_quantity");
  for (const Case& k : cases) {
    if (k.code == "event.over_quantity") continue;
    BOOST_TEST_CONTEXT(k.code) { BOOST_TEST(Chain::Code(k.status) == k.code); }
  }
  BOOST_TEST(c.ledger_->size() == before + 1);  // only the TINY batch
  BOOST_TEST(!c.view_->Pack(kGtin, "S9").value().has_value());
}

// docs/events.md's payload rules, one row per bad input: a 4xx code from the registry,
// the field as the payload names it, the offending value in the message, nothing written.
BOTH_BACKENDS_CASE(payloads_are_refused_where_events_md_says_they_are_invalid) {
  Chain c;
  // A shipment for the sensor rows, and a batch that expired the day before the log's
  // time (2026-11-21T22:26:40Z) for the commissioning row.
  Chain::Expect(c.Do(c.manufacturer_, "ship",
                     {{"epcs", Strings({PackId("S5")})},
                      {"to", "ph1"},
                      {"toLocation", kPh1Gln},
                      {"despatchAdvice", "SENS"}}));
  Chain::Expect(c.Do(c.manufacturer_, "batch.register",
                     {{"gtin", kGtin}, {"lot", "OLD"}, {"expiry", "2026-11-20"}, {"quantity", 5}}));
  const uint64_t before = c.ledger_->size();

  auto reading = [](int64_t tenths) {
    auto r = JsonValue::Object();
    r.set("time", JsonValue("2026-11-21T09:00:00Z"));
    r.set("value", JsonValue(tenths));
    auto list = JsonValue::Array();
    list.push_back(JsonValue::Object().set("time", "2026-11-21T09:00:00Z").set("value", 40));
    list.push_back(r);
    return list;
  };
  auto report = [](const std::string& type, const std::string& value) {
    auto r = JsonValue::Object();
    r.set("type", JsonValue(type));
    r.set("value", JsonValue(value));
    auto reports = JsonValue::Array();
    reports.push_back(JsonValue::Object().set("type", "Temperature").set("value", "5.0"));
    reports.push_back(r);
    auto list = JsonValue::Array();
    list.push_back(JsonValue::Object().set("sensorReport", reports));
    return list;
  };
  auto sensor = [&](const std::string& member, JsonValue v) {
    return c.Do(c.manufacturer_, "sensor",
                {{"from", "mfg"}, {"despatchAdvice", "SENS"}, {member, std::move(v)}});
  };
  // A second product of the manufacturer (the chain registered kGtin already).
  constexpr const char* kOtherGtin = "09506000134369";
  auto product = [&](const std::string& member, const std::string& text) {
    if (member == "name")
      return c.Do(c.manufacturer_, "product.register", {{"gtin", kOtherGtin}, {"name", text}});
    return c.Do(c.manufacturer_, "product.register",
                {{"gtin", kOtherGtin}, {"name", "Examplamab"}, {member, text}});
  };
  auto recall = [&](const std::string& reason) {
    return c.Do(c.manufacturer_, "batch.status",
                {{"gtin", kGtin}, {"lot", "LOT1"}, {"status", "recalled"}, {"reason", reason}});
  };
  auto with_client_id = [&](const std::string& id) {
    return c.Do(c.manufacturer_, "verify",
                {{"epcs", Strings({PackId("S1")})},
                 {"location", kMfgGln},
                 {"verified", true},
                 {"reasons", JsonValue::Array()},
                 {"clientId", id}});
  };
  Org authority{"authority"};
  const std::string nul("Exampla\0mab", 11);

  struct Case {
    std::string what, code, field, value;  // value: text the message must name
    Status status;
  };
  const Case cases[] = {
      // 1. clientId: 1–128 printable ASCII.
      {"empty clientId", "event.bad_client_id", "clientId", "is empty", with_client_id("")},
      {"129-byte clientId", "event.bad_client_id", "clientId", "129 bytes",
       with_client_id(std::string(129, 'a'))},
      {"clientId with a space", "event.bad_client_id", "clientId", "0x20", with_client_id("a b")},
      {"clientId with a tab", "event.bad_client_id", "clientId", "0x09", with_client_id("a\tb")},
      {"clientId with DEL", "event.bad_client_id", "clientId", "0x7F", with_client_id("a\x7f")},
      {"non-ASCII clientId", "event.bad_client_id", "clientId", "0xC3",
       with_client_id("caf\xc3\xa9")},
      // 2. Unknown members.
      {"unknown commission member", "event.unknown_member", "colour", "'colour'",
       c.Do(c.manufacturer_, "commission",
            {{"gtin", kGtin},
             {"lot", "LOT1"},
             {"location", kMfgGln},
             {"serials", Strings({"U1"})},
             {"colour", "red"}})},
      {"unknown ship member", "event.unknown_member", "note", "toLocation",
       c.Do(c.manufacturer_, "ship",
            {{"epcs", Strings({PackId("S2")})},
             {"to", "ws"},
             {"toLocation", kWsGln},
             {"despatchAdvice", "UM"},
             {"note", "fragile"}})},
      {"misspelt receive member", "event.unknown_member", "despatchadvice", "'despatchadvice'",
       c.Do(c.wholesaler_, "receive",
            {{"from", "mfg"},
             {"despatchAdvice", "SENS"},
             {"despatchadvice", "SENS"},
             {"location", kWsGln}})},
      {"unknown registry member", "event.unknown_member", "admin", "'admin'",
       c.Do(authority, "org.key_revoke",
            {{"id", "mfg"},
             {"key", ToBase64(c.manufacturer_.key.public_key().raw())},
             {"revokedAt", "2026-11-21T10:00:00Z"},
             {"admin", true}},
            &c.authority_)},
      // 3. No NUL or control character in names and reasons.
      {"NUL in a product name", "event.control_character", "name", "U+0000", product("name", nul)},
      {"LF in a product name", "event.control_character", "name", "U+000A",
       product("name", "Examplamab\nRecalled")},
      {"DEL in a product form", "event.control_character", "form", "U+007F",
       product("form", "tablet\x7f")},
      {"C1 NEL in a product strength", "event.control_character", "strength", "U+0085",
       product("strength", "10\xc2\x85mg")},
      {"ESC in a recall reason", "event.control_character", "reason", "U+001B",
       recall("\x1b[31mcontaminated")},
      {"control character in an organisation name", "event.control_character", "name", "U+0007",
       c.Do(authority, "org.register",
            {{"id", "bell"},
             {"name", "Bell\aCo"},
             {"roles", Strings({"witness"})},
             {"keys", JsonValue::Array()}},
            &c.authority_)},
      // 4. Sensor values within physical bounds.
      {"reading below absolute zero", "event.sensor_out_of_bounds", "readings[1].value", "-2800",
       sensor("readings", reading(-2800))},
      {"reading above 1000 degrees", "event.sensor_out_of_bounds", "readings[1].value", "10001",
       sensor("readings", reading(10001))},
      {"EPCIS temperature below absolute zero", "event.sensor_out_of_bounds",
       "sensorElementList[0].sensorReport[1].value", "-273.2",
       sensor("sensorElementList", report("Temperature", "-273.2"))},
      {"EPCIS humidity above 100 percent", "event.sensor_out_of_bounds",
       "sensorElementList[0].sensorReport[1].value", "100.1",
       sensor("sensorElementList", report("RelativeHumidity", "100.1"))},
      {"EPCIS negative humidity", "event.sensor_out_of_bounds",
       "sensorElementList[0].sensorReport[1].value", "-1",
       sensor("sensorElementList", report("gs1:RelativeHumidity", "-1"))},
      // 5. No commissioning into an expired batch.
      {"commissioning into an expired batch", "event.batch_expired", "lot", "2026-11-20",
       c.Do(
           c.manufacturer_, "commission",
           {{"gtin", kGtin}, {"lot", "OLD"}, {"location", kMfgGln}, {"serials", Strings({"E1"})}})},
  };
  for (const Case& k : cases) {
    BOOST_TEST_CONTEXT(k.what) {
      BOOST_TEST(Chain::Code(k.status) == k.code);
      if (k.status) continue;
      BOOST_TEST(k.status.error().field() == k.field);
      BOOST_TEST(k.status.error().message().find(k.value) != std::string::npos,
                 k.status.error().message());
      const ErrorCodeInfo* info = FindErrorCode(k.status.error().code());
      BOOST_TEST_REQUIRE(info != nullptr);
      BOOST_TEST(info->http_status / 100 == 4);
    }
  }
  BOOST_TEST(c.ledger_->size() == before);
  BOOST_TEST(!c.view_->Pack(kGtin, "U1").value().has_value());
  BOOST_TEST(!c.view_->Pack(kGtin, "E1").value().has_value());

  // The bounds themselves, and ordinary text, are accepted.
  Chain::Expect(sensor("readings", reading(-2731)));
  Chain::Expect(sensor("readings", reading(10000)));
  Chain::Expect(sensor("sensorElementList", report("RelativeHumidity", "100")));
  Chain::Expect(product("strength", "10 mg/ml, Lösung"));
  Chain::Expect(with_client_id(std::string(128, '~')));
}

BOTH_BACKENDS_CASE(registry_product_and_batch_entries_are_found_by_ledger_index) {
  Chain c;
  // The chain appends mfg, ws, ph1, ph2 (0-3), the product (4), the batch (5), a commission (6).
  using Indices = std::vector<uint64_t>;
  BOOST_TEST(c.view_->OrgRegistry("mfg").value().entries == Indices{0},
             boost::test_tools::per_element());
  BOOST_TEST(c.view_->OrgRegistry("ph2").value().entries == Indices{3},
             boost::test_tools::per_element());
  BOOST_TEST(c.view_->OrgRegistry("mfg").value().revoked_key_entries.empty());
  BOOST_TEST(c.view_->ProductEntries(kGtin).value() == Indices{4},
             boost::test_tools::per_element());
  BOOST_TEST(c.view_->BatchEntries(kGtin, "LOT1").value() == Indices{5},
             boost::test_tools::per_element());

  // A second key for mfg, then its revocation: the entry that added the key joins mfg's
  // registry entries and is named as revoked; the revocation is found by reading on from it.
  log::PrivateKey second = log::PrivateKey::Generate();
  Org authority{"authority"};
  Chain::Expect(c.Do(authority, "org.key_add",
                     {{"id", "mfg"},
                      {"key", ToBase64(second.public_key().raw())},
                      {"validFrom", "2026-01-01T00:00:00Z"}},
                     &c.authority_));
  const uint64_t added = c.ledger_->size() - 1;
  Chain::Expect(c.Do(authority, "org.key_revoke",
                     {{"id", "mfg"},
                      {"key", ToBase64(second.public_key().raw())},
                      {"revokedAt", "2026-11-21T12:00:00Z"}},
                     &c.authority_));
  const OrgRegistryEntries mfg = c.view_->OrgRegistry("mfg").value();
  BOOST_TEST(mfg.entries == (Indices{0, added}), boost::test_tools::per_element());
  BOOST_TEST(mfg.revoked_key_entries == Indices{added}, boost::test_tools::per_element());
  BOOST_TEST(c.view_->OrgRegistry("ws").value().entries == Indices{1},
             boost::test_tools::per_element());

  // A status change is an entry of the batch too.
  Chain::Expect(
      c.Do(c.manufacturer_, "batch.status",
           {{"gtin", kGtin}, {"lot", "LOT1"}, {"status", "recalled"}, {"reason", "sterility"}}));
  BOOST_TEST(c.view_->BatchEntries(kGtin, "LOT1").value() == (Indices{5, c.ledger_->size() - 1}),
             boost::test_tools::per_element());

  // Unknown organisations, products and batches have no entries.
  const OrgRegistryEntries nobody = c.view_->OrgRegistry("nobody").value();
  BOOST_TEST(nobody.entries.empty());
  BOOST_TEST(nobody.revoked_key_entries.empty());
  BOOST_TEST(c.view_->ProductEntries("09506000134369").value().empty());
  BOOST_TEST(c.view_->BatchEntries(kGtin, "LOT2").value().empty());
}

BOOST_AUTO_TEST_SUITE_END()
