// The audit report over a ledger whose SQLite file was edited behind its back: each edit
// gives FAILED with the specific code and the first divergent index.
#include "pedigree/reports/audit_report.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "common/result.h"
#include "common/tamper_sql.h"
#include "common/temp_dir.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/note.h"
#include "pedigree/reports/html.h"

using namespace pedigree;
using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::TamperSql;
using pedigree::testing::TempDir;

namespace {

constexpr const char* kOrigin = "example.org/audit-log";

std::string SignedEntry(const PrivateKey& key, int64_t n) {
  return SignEntry(JsonValue::Object().set("kind", "test").set("n", n), key, kOrigin).value();
}

// 40 signed entries with checkpoints at 20 and 40.
void BuildLedger(const std::string& dir) {
  PrivateKey author = PrivateKey::Generate();
  auto ledger = Ledger::Create(dir, kOrigin).value();
  for (int i = 0; i < 40; ++i) {
    BOOST_REQUIRE(ledger->Append(SignedEntry(author, i)));
    if (i == 19) BOOST_REQUIRE(ledger->SignCheckpoint());
  }
  BOOST_REQUIRE(ledger->SignCheckpoint());
}

JsonValue Audit(const std::string& dir, reports::AuditOptions options = {}) {
  auto report = reports::AuditReport(dir, options);
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  return *report;
}

std::string Verdict(const JsonValue& r) { return r.find("verdict")->as_string(); }

const JsonValue& FirstFailure(const JsonValue& r) {
  const JsonValue* failures = r.find("failures");
  BOOST_REQUIRE(failures && failures->size() >= 1);
  return failures->as_array()[0];
}

std::string Code(const JsonValue& r) { return FirstFailure(r).find("code")->as_string(); }
int64_t Index(const JsonValue& r) {
  const JsonValue* i = FirstFailure(r).find("index");
  BOOST_REQUIRE(i);
  return i->as_int();
}

// The result of the check named `id`.
std::string CheckResult(const JsonValue& r, const std::string& id) {
  for (const JsonValue& c : r.find("checks")->as_array()) {
    if (c.find("id")->as_string() == id) return c.find("result")->as_string();
  }
  return "absent";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(audit_report)

BOOST_AUTO_TEST_CASE(clean_ledger_is_verified_with_every_entry_and_checkpoint_counted) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "VERIFIED");
  const JsonValue* audit = r.find("audit");
  BOOST_TEST(audit->find("entriesChecked")->as_int() == 40);
  BOOST_TEST(audit->find("signaturesChecked")->as_int() == 40);
  // Create signs the empty tree (size 0), then sizes 20 and 40.
  BOOST_TEST(audit->find("checkpointsChecked")->as_int() == 3);
  BOOST_TEST(r.find("failures")->size() == 0u);
  for (const char* id : {"entries.leaf_hashes", "tree.hashes", "entries.signatures",
                         "checkpoints.roots", "checkpoints.signatures", "checkpoints.consistency"})
    BOOST_TEST(CheckResult(r, id) == "pass");
  BOOST_TEST(CheckResult(r, "log.key") == "warn");  // key read from the audited directory
  BOOST_TEST(r.find("log")->find("treeSize")->as_int() == 40);
}

BOOST_AUTO_TEST_CASE(audit_runs_next_to_a_node_holding_the_ledger_open) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  auto open = Ledger::Open(tmp / "l");
  BOOST_REQUIRE(open.has_value());
  reports::AuditOptions options;
  options.log_verifier_key = (*open)->VerifierKey();
  const JsonValue r = Audit(tmp / "l", options);
  BOOST_TEST(Verdict(r) == "VERIFIED");
  BOOST_TEST(CheckResult(r, "log.key") == "pass");
}

BOOST_AUTO_TEST_CASE(one_changed_byte_of_an_entry_fails_at_that_index_with_both_hashes) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  // Same length, one byte changed: "n":17 becomes "n":18 inside entry 17.
  TamperSql(tmp / "l",
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"n\":17', '\"n\":18') AS "
            "BLOB) WHERE idx = 17");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.leaf_mismatch");
  BOOST_TEST(Index(r) == 17);
  const JsonValue& f = FirstFailure(r);
  BOOST_TEST(f.find("expected")->as_string().size() == 64u);
  BOOST_TEST(f.find("actual")->as_string().size() == 64u);
  BOOST_TEST(f.find("expected")->as_string() != f.find("actual")->as_string());
  BOOST_TEST(CheckResult(r, "entries.leaf_hashes") == "fail");
  // The HTML names the index too.
  BOOST_TEST(reports::RenderHtml(r).find("First divergent index: 17") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(swapped_entries_fail_at_the_first_of_them) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  TamperSql(tmp / "l",
            "UPDATE entries SET idx = -1 WHERE idx = 5; UPDATE entries SET idx = 5 WHERE idx = 6; "
            "UPDATE entries SET idx = 6 WHERE idx = -1");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.leaf_mismatch");
  BOOST_TEST(Index(r) == 5);
}

BOOST_AUTO_TEST_CASE(deleted_row_fails_as_missing_at_its_index) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  TamperSql(tmp / "l", "DELETE FROM entries WHERE idx = 12");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.missing_entry");
  BOOST_TEST(Index(r) == 12);
}

BOOST_AUTO_TEST_CASE(deleted_last_row_fails_because_the_tiles_no_longer_match) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  TamperSql(tmp / "l", "DELETE FROM entries WHERE idx = 39");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "storage.corrupt");
  BOOST_TEST(CheckResult(r, "storage.open") == "fail");
}

BOOST_AUTO_TEST_CASE(replaced_checkpoint_root_fails_at_that_checkpoint) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  TamperSql(tmp / "l", "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 20");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.checkpoint_mismatch");
  BOOST_TEST(Index(r) == 20);
  BOOST_TEST(FirstFailure(r).find("expected")->as_string() == std::string(64, '0'));
}

BOOST_AUTO_TEST_CASE(checkpoint_note_signed_by_another_key_fails_its_signature_check) {
  TempDir tmp;
  BuildLedger(tmp / "l");
  Hash root{};
  {
    auto ledger = Ledger::Open(tmp / "l").value();
    root = ledger->RootAt(40).value();
  }
  // Same body, so the stored root still matches; only the signer differs.
  NoteSigner impostor(kOrigin, PrivateKey::Generate());
  const std::string note = SignNote(FormatCheckpoint({kOrigin, 40, root}), impostor);
  TamperSql(tmp / "l", "UPDATE checkpoints SET note = '" + note + "' WHERE size = 40");
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.checkpoint_signature");
  BOOST_TEST(Index(r) == 40);
  BOOST_TEST(CheckResult(r, "checkpoints.signatures") == "fail");
}

BOOST_AUTO_TEST_CASE(entry_with_a_bad_signature_fails_at_its_index) {
  TempDir tmp;
  PrivateKey author = PrivateKey::Generate();
  {
    auto ledger = Ledger::Create(tmp / "l", kOrigin).value();
    for (int i = 0; i < 10; ++i) {
      std::string entry = SignedEntry(author, i);
      if (i == 7) {
        // Flip one bit of the signature's first byte (base64 'A'..'Z' stays valid base64).
        const size_t at = entry.find("\"sig\":\"") + 7;
        entry[at] = entry[at] == 'A' ? 'B' : 'A';
      }
      // The caller vouches for the entry, so the sequencer skips the check: the audit is
      // what must find it.
      BOOST_REQUIRE(ledger->Append(entry, {}, /*already_verified=*/true));
    }
    BOOST_REQUIRE(ledger->SignCheckpoint());
  }
  const JsonValue r = Audit(tmp / "l");
  BOOST_TEST(Verdict(r) == "FAILED");
  BOOST_TEST(Code(r) == "audit.bad_entry");
  BOOST_TEST(Index(r) == 7);
  BOOST_TEST(CheckResult(r, "entries.signatures") == "fail");
}

BOOST_AUTO_TEST_CASE(no_ledger_is_an_error_not_a_report) {
  TempDir tmp;
  auto r = reports::AuditReport(tmp / "nothing-here");
  BOOST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().code() == "report.no_ledger");
}

BOOST_AUTO_TEST_SUITE_END()
