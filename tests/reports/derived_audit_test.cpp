// Derived state is checked, not trusted: an insider who edits the derived tables or the
// registry of a real supply-chain ledger with SQL is named by the replay audit (table, row,
// stored and replayed values, first disagreeing entry), an injected key signs nothing, an
// edited entry is never served, and the node refuses to start on any of it.
#include "pedigree/provenance/derived_audit.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

#include "pedigree/base/time.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/sqlite_storage.h"
#include "pedigree/provenance/provenance_ledger.h"
#include "pedigree/reports/audit_report.h"
#include "pedigree/reports/pack_report.h"
#include "supply_scenario.h"

using namespace pedigree;
using pedigree::reports::testing::SupplyScenario;
using pedigree::reports::testing::TamperSql;

namespace {

JsonValue AuditOf(const std::string& dir) {
  auto report = reports::AuditReport(dir);
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  return *report;
}

std::string Verdict(const JsonValue& r) { return r.find("verdict")->as_string(); }

const JsonValue& FirstFailure(const JsonValue& r) {
  const JsonValue* failures = r.find("failures");
  BOOST_REQUIRE_MESSAGE(failures && failures->size() >= 1, pedigree::Canonicalize(r));
  return failures->as_array()[0];
}

std::string CheckResult(const JsonValue& r, const std::string& id) {
  for (const JsonValue& c : r.find("checks")->as_array()) {
    if (c.find("id")->as_string() == id) return c.find("result")->as_string();
  }
  return "(none)";
}

// The payload kind of entry `index`.
std::string KindAt(const std::string& dir, uint64_t index) {
  auto storage = log::OpenLedgerStorage(dir).value();
  auto entry = storage->ReadEntry(index).value();
  return ParseJson(entry).value().find("payload")->find("kind")->as_string();
}

// The replay audit of the closed ledger in `dir`.
provenance::DerivedAuditReport Replay(const std::string& dir) {
  auto storage = log::OpenLedgerStorage(dir).value();
  auto vkey = log::NoteVerifier::Parse([&] {
                std::ifstream in(std::filesystem::path(dir) / log::kLogVerifierKeyFile);
                std::string line;
                std::getline(in, line);
                return line;
              }())
                  .value();
  auto report = provenance::AuditDerivedState(
      *storage, (std::filesystem::path(dir) / log::kLedgerDbFile).string(), vkey.public_key());
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  return *report;
}

// A scenario with a pallet chain, a recall and an alert, closed for editing.
struct ClosedLedger {
  SupplyScenario s;
  uint64_t dispense = 0;
  ClosedLedger() {
    dispense = s.RunPalletChain();
    // A refused command: the node records an alert (alerts, alert_parties).
    s.Refused("ph2", s.DecommissionPayload("S1", "supplied", s.ph2_gln));
    s.Recall();
    s.Close();
  }
};

// The first entry commissioning packs: what produced every pack row.
uint64_t CommissionIndex(const std::string& dir) {
  for (uint64_t i = 0;; ++i) {
    if (KindAt(dir, i) == "commission") return i;
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(derived_audit)

BOOST_AUTO_TEST_CASE(untouched_supply_ledger_replays_to_every_derived_table) {
  ClosedLedger l;
  provenance::DerivedAuditReport replay = Replay(l.s.dir());
  BOOST_TEST_INFO((replay.problem ? replay.problem->ToString() : ""));
  BOOST_TEST(replay.ok());
  BOOST_TEST(replay.tables_compared.size() >= 28u);
  JsonValue r = AuditOf(l.s.dir());
  BOOST_TEST_INFO(pedigree::Canonicalize(r));
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(CheckResult(r, "derived.replay") == "pass");
}

BOOST_AUTO_TEST_CASE(each_update_of_a_derived_table_fails_the_audit_naming_table_row_and_index) {
  struct Tamper {
    const char* what;
    std::string sql;
    const char* table;
    const char* row;       // a part of the named row key
    bool from_commission;  // the named index is the commissioning entry
  };
  const Tamper tampers[] = {
      {"pack status", "UPDATE packs SET status = status + 1 WHERE serial = 'S2'", "packs", "'S2'",
       true},
      {"holder", "UPDATE packs SET holder = 'ph2' WHERE serial = 'S2'", "packs", "'S2'", true},
      {"excursion flag", "UPDATE packs SET excursion = 1 WHERE serial = 'S2'", "packs", "'S2'",
       true},
      {"custody history",
       "DELETE FROM pack_events WHERE serial = 'S2' AND idx = (SELECT "
       "max(idx) FROM pack_events WHERE serial = 'S2')",
       "pack_events", "'S2'", false},
      {"batch status", "UPDATE batches SET status = 0, status_reason = NULL", "batches", "'LOT1'",
       false},
      {"roles", "UPDATE orgs SET roles = 'dispenser,manufacturer' WHERE id = 'ph1'", "orgs",
       "'ph1'", false},
      {"alert", "DELETE FROM alerts", "alerts", "idx=", false},
  };
  for (const Tamper& t : tampers) {
    BOOST_TEST_CONTEXT(t.what) {
      ClosedLedger l;
      TamperSql(l.s.dir(), t.sql);
      provenance::DerivedAuditReport replay = Replay(l.s.dir());
      BOOST_REQUIRE(!replay.ok());
      BOOST_TEST(replay.problem->code() == "audit.derived_mismatch");
      BOOST_REQUIRE(!replay.mismatches.empty());
      const provenance::DerivedMismatch& m = replay.mismatches.front();
      BOOST_TEST(m.table == t.table);
      BOOST_TEST(m.key.find(t.row) != std::string::npos, m.key);
      BOOST_TEST(m.stored != m.replayed);
      BOOST_REQUIRE(m.index.has_value());
      BOOST_REQUIRE(replay.bad_index.has_value());
      BOOST_TEST(*replay.bad_index == *m.index);
      if (t.from_commission) BOOST_TEST(*m.index == CommissionIndex(l.s.dir()));
      BOOST_TEST(replay.problem->message().find(std::string("table ") + t.table) !=
                 std::string::npos);

      JsonValue r = AuditOf(l.s.dir());
      BOOST_TEST_INFO(pedigree::Canonicalize(r));
      BOOST_TEST(Verdict(r) == "FAILED");
      BOOST_TEST(CheckResult(r, "derived.replay") == "fail");
      const JsonValue& f = FirstFailure(r);
      BOOST_TEST(f.find("code")->as_string() == "audit.derived_mismatch");
      BOOST_TEST(f.find("table")->as_string() == t.table);
      BOOST_TEST(f.find("index")->as_int() == static_cast<int64_t>(*m.index));
      BOOST_TEST(f.find("expected")->as_string() != f.find("actual")->as_string());
    }
  }
}

// The rules judge by the log's sequencing time, so an operator who writes a leaf stamped
// earlier than the one before it (to slip an event under a revocation or an undo window)
// is named by the replay audit, though every hash and signature checks out.
BOOST_AUTO_TEST_CASE(leaf_sequenced_before_its_predecessor_fails_the_audit) {
  SupplyScenario s;
  s.RunChain();
  const std::string origin = s.node().ledger().origin();
  const int64_t now = s.now();
  s.Close();
  uint64_t appended = 0;
  {
    auto storage =
        log::SqliteStorage::Open((std::filesystem::path(s.dir()) / log::kLedgerDbFile).string(), {})
            .value();
    appended = storage->Size().value();
    auto range = log::CompactRange::FromStorage(appended, *storage).value();
    std::string leaf = log::SignEntry(JsonValue::Object().set("kind", "filler"),
                                      log::PrivateKey::Generate(), origin)
                           .value();
    BOOST_REQUIRE(log::StampEntry(leaf, now - 3600));
    std::vector<log::StoredHash> hashes;
    range.Append(log::LeafHash(AsBytes(leaf)), &hashes);
    const std::vector<std::string> entries = {leaf};
    BOOST_REQUIRE(storage->Append(appended, entries, {}, hashes).has_value());
  }
  provenance::DerivedAuditReport replay = Replay(s.dir());
  BOOST_REQUIRE(!replay.ok());
  BOOST_TEST(replay.problem->code() == "audit.time_order");
  BOOST_TEST(replay.bad_index.value_or(0) == appended);
}

BOOST_AUTO_TEST_CASE(idempotency_key_pointed_at_another_entry_fails_the_audit) {
  ClosedLedger l;
  TamperSql(l.s.dir(),
            "UPDATE idempotency SET idx = idx + 1 WHERE key = (SELECT key FROM idempotency "
            "WHERE instr(key, char(10)) > 0 ORDER BY idx LIMIT 1)");
  provenance::DerivedAuditReport replay = Replay(l.s.dir());
  BOOST_REQUIRE(!replay.ok());
  BOOST_TEST(replay.problem->code() == "audit.idempotency_mismatch");
  BOOST_REQUIRE(replay.bad_index.has_value());
  BOOST_TEST(replay.problem->message().find("entry " + std::to_string(*replay.bad_index)) !=
             std::string::npos);
  JsonValue r = AuditOf(l.s.dir());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(FirstFailure(r).find("code")->as_string() == "audit.idempotency_mismatch");
  BOOST_TEST(FirstFailure(r).find("table")->as_string() == "idempotency");
}

BOOST_AUTO_TEST_CASE(injected_org_key_signs_nothing_and_the_audit_names_it) {
  SupplyScenario s;
  s.CommissionIntoCase();
  // The insider adds a key of their own to the manufacturer while the node runs, and signs
  // a commissioning with it: on an unsealed registry it would be accepted.
  const log::PrivateKey attacker = log::PrivateKey::Generate();
  TamperSql(s.dir(), "INSERT INTO org_keys(key, org, valid_from, added_idx) VALUES(x'" +
                         ToHex(attacker.public_key().raw()) + "', 'mfg', 0, 2)");
  auto payload = JsonValue::Object()
                     .set("v", int64_t{1})
                     .set("kind", "commission")
                     .set("org", "mfg")
                     .set("clientId", "forged-1")
                     .set("time", FormatUtcTime(s.now()))
                     .set("gtin", SupplyScenario::kGtin)
                     .set("lot", "LOT1")
                     .set("location", s.mfg_gln)
                     .set("serials", reports::testing::Strings({"S9"}));
  auto forged =
      s.node().Submit(log::SignEntry(payload, attacker, s.node().ledger().origin()).value());
  BOOST_REQUIRE(!forged.has_value());
  BOOST_TEST(forged.error().code() == "state.tampered");
  BOOST_TEST(forged.error().message().find("org_keys") != std::string::npos);
  const uint64_t size = s.node().ledger().size();
  s.Close();

  provenance::DerivedAuditReport replay = Replay(s.dir());
  BOOST_REQUIRE(!replay.ok());
  BOOST_REQUIRE(!replay.mismatches.empty());
  BOOST_TEST(replay.mismatches.front().table == "org_keys");
  BOOST_TEST(replay.mismatches.front().replayed.empty());
  BOOST_TEST(*replay.bad_index == 2u);  // the index the injected row claims
  JsonValue r = AuditOf(s.dir());
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(FirstFailure(r).find("table")->as_string() == "org_keys");
  BOOST_TEST(log::OpenLedgerStorage(s.dir()).value()->Size().value() == size);

  // And a node does not start on it.
  auto reopened = services::SupplyNode::Open(s.dir());
  BOOST_REQUIRE(!reopened.has_value());
  BOOST_TEST(reopened.error().code() == "state.tampered");
  BOOST_TEST(reopened.error().message().find("org_keys") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(injected_gln_is_no_destination_while_the_node_runs) {
  SupplyScenario s;
  s.CommissionIntoCase();
  const std::string gln = reports::testing::WithCheckDigit("400000200001");
  TamperSql(s.dir(), "INSERT INTO org_glns(gln, org) VALUES('" + gln + "', 'ph2')");
  auto list = JsonValue::Array();
  list.push_back(s.sscc);
  auto shipped = s.node().SubmitAs("mfg", JsonValue::Object()
                                              .set("kind", "ship")
                                              .set("epcs", list)
                                              .set("to", "ph2")
                                              .set("toLocation", gln)
                                              .set("despatchAdvice", "DA-X"));
  BOOST_REQUIRE(!shipped.has_value());
  BOOST_TEST(shipped.error().code() == "state.tampered");
  BOOST_TEST(shipped.error().message().find("org_glns") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(node_refuses_to_start_on_an_edited_registry_or_authority_key) {
  const std::pair<const char*, std::string> tampers[] = {
      {"orgs", "UPDATE orgs SET roles = 'dispenser,manufacturer' WHERE id = 'ph1'"},
      {"org_glns", "UPDATE org_glns SET org = 'ph2' WHERE org = 'ph1'"},
      {"authority", "UPDATE meta SET value = '" +
                        ToBase64(log::PrivateKey::Generate().public_key().raw()) +
                        "' WHERE key = 'authority_key'"},
      {"org_keys", "DELETE FROM org_keys WHERE org = 'wh'"},
  };
  for (const auto& [table, sql] : tampers) {
    BOOST_TEST_CONTEXT(table) {
      SupplyScenario s;
      s.Close();
      BOOST_REQUIRE(services::SupplyNode::Open(s.dir()).has_value());  // untouched: starts
      TamperSql(s.dir(), sql);
      auto reopened = services::SupplyNode::Open(s.dir());
      BOOST_REQUIRE(!reopened.has_value());
      BOOST_TEST(reopened.error().code() == "state.tampered");
      BOOST_TEST(reopened.error().message().find(table) != std::string::npos,
                 reopened.error().message());
    }
  }
}

BOOST_AUTO_TEST_CASE(ledger_without_a_seal_is_sealed_on_open_only_if_the_log_reproduces_it) {
  // A ledger from before the seal: no key file, no MACs.
  SupplyScenario s;
  s.CommissionIntoCase();
  s.Close();
  const auto key_file = std::filesystem::path(s.dir()) / provenance::kRegistryMacKeyFile;
  std::filesystem::remove(key_file);
  TamperSql(s.dir(), "DROP TABLE registry_macs");
  {
    auto migrated = services::SupplyNode::Open(s.dir());
    BOOST_REQUIRE_MESSAGE(migrated.has_value(), pedigree::testing::Why(migrated));
  }
  BOOST_TEST(std::filesystem::exists(key_file));
  BOOST_TEST(((std::filesystem::status(key_file).permissions() & std::filesystem::perms::all) ==
              (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)));
  // An old ledger with an edited registry is not sealed as it stands.
  std::filesystem::remove(key_file);
  TamperSql(s.dir(),
            "DROP TABLE registry_macs; UPDATE orgs SET roles = 'manufacturer' WHERE id = 'ph1'");
  auto refused = services::SupplyNode::Open(s.dir());
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "state.tampered");
  BOOST_TEST(refused.error().message().find("orgs") != std::string::npos);
  BOOST_TEST(!std::filesystem::exists(key_file));
}

BOOST_AUTO_TEST_CASE(ledger_created_again_in_its_directory_replaces_the_stale_seal_key) {
  SupplyScenario s;
  s.Close();
  const auto key_file = std::filesystem::path(s.dir()) / provenance::kRegistryMacKeyFile;
  BOOST_REQUIRE(std::filesystem::exists(key_file));
  // The ledger wiped (database and log key) but the seal key left behind.
  std::filesystem::remove(std::filesystem::path(s.dir()) / log::kLogKeyFile);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::filesystem::remove(std::filesystem::path(s.dir()) /
                            (std::string(log::kLedgerDbFile) + suffix));
  }
  const log::PrivateKey authority = log::PrivateKey::Generate();
  {
    auto created =
        services::SupplyNode::Create(s.dir(), "example.org/again", authority.public_key());
    BOOST_REQUIRE_MESSAGE(created.has_value(), pedigree::testing::Why(created));
  }
  auto reopened = services::SupplyNode::Open(s.dir());
  BOOST_REQUIRE_MESSAGE(reopened.has_value(), pedigree::testing::Why(reopened));
}

BOOST_AUTO_TEST_CASE(edited_entry_is_never_served_and_stops_the_node_from_starting) {
  SupplyScenario s;
  const uint64_t dispense = s.RunChain();
  // Edited while the node runs: reading it back is storage.corrupt, not an answer.
  TamperSql(s.dir(), "UPDATE entries SET data = CAST('{\"payload\":' AS BLOB) WHERE idx = " +
                         std::to_string(dispense));
  auto entry = s.node().ledger().Entry(dispense);
  BOOST_REQUIRE(!entry.has_value());
  BOOST_TEST(entry.error().code() == "storage.corrupt");
  BOOST_TEST(entry.error().message().find("entry " + std::to_string(dispense)) !=
             std::string::npos);
  auto proof = s.node().ledger().ProveInclusion(dispense);
  BOOST_REQUIRE(!proof.has_value());
  BOOST_TEST(proof.error().code() == "storage.corrupt");
  s.Close();
  auto reopened = services::SupplyNode::Open(s.dir());
  BOOST_REQUIRE(!reopened.has_value());
  BOOST_TEST(reopened.error().code() == "storage.corrupt");
  BOOST_TEST(reopened.error().message().find("entry " + std::to_string(dispense)) !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
