// The ledger facade end to end on SQLite: create, append signed entries, checkpoint,
// prove, reopen, and detect edits made to the database file behind its back.
#include "pedigree/log/ledger.h"

#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "common/result.h"
#include "common/tamper_sql.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sqlite_storage.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::TamperSql;
using pedigree::testing::TempDir;

namespace {

std::string SignedEntry(const PrivateKey& key, int64_t n) {
  auto payload = JsonValue::Object();
  payload.set("kind", JsonValue(std::string("test")));
  payload.set("n", JsonValue(n));
  return SignEntry(payload, key, "example.org/test-log").value();
}

// The envelope that was submitted for a stored leaf: the leaf less its "seq" member.
std::string Unsequenced(std::string leaf) {
  const size_t at = leaf.rfind(",\"seq\":{");
  BOOST_REQUIRE(at != std::string::npos);
  return leaf.erase(at, leaf.find('}', at) + 1 - at);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_facade)

BOOST_AUTO_TEST_CASE(appended_entries_are_provable_against_a_signed_checkpoint) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log");
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
  PrivateKey author = PrivateKey::Generate();
  std::vector<std::string> entries;
  for (int i = 0; i < 13; ++i) {
    entries.push_back(SignedEntry(author, i));
    auto index = (*ledger)->Append(entries.back());
    BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    BOOST_TEST(*index == static_cast<uint64_t>(i));
  }
  auto checkpoint = (*ledger)->SignCheckpoint();
  BOOST_REQUIRE(checkpoint);
  BOOST_TEST(checkpoint->size == 13u);

  auto verifier = NoteVerifier::Parse((*ledger)->VerifierKey()).value();
  std::vector<NoteVerifier> verifiers{verifier};
  auto opened = OpenNote(checkpoint->note, verifiers);
  BOOST_REQUIRE_MESSAGE(opened.has_value(), pedigree::testing::Why(opened));
  auto body = ParseCheckpoint(opened->text).value();
  BOOST_TEST(body.origin == "example.org/test-log");
  BOOST_TEST(body.size == 13u);

  for (uint64_t i = 0; i < 13; ++i) {
    auto proof = (*ledger)->ProveInclusion(i);
    BOOST_REQUIRE(proof);
    const std::string leaf = (*ledger)->Entry(i).value();
    BOOST_TEST(Unsequenced(leaf) == entries[i]);
    BOOST_TEST(proof->leaf_hash == LeafHash(AsBytes(leaf)));
    BOOST_TEST(VerifyInclusion(i, 13, proof->leaf_hash, proof->path, body.root).has_value());
  }
  auto root5 = (*ledger)->RootAt(5).value();
  auto consistency = (*ledger)->ProveConsistency(5, 13).value();
  BOOST_TEST(VerifyConsistency(5, 13, consistency, root5, body.root).has_value());
}

// A reader beside the writer answers on the tree it opened on until it refreshes; then on
// the writer's newer tree, hashes and proofs included (a mirror's view after each pull).
BOOST_AUTO_TEST_CASE(a_read_only_open_follows_the_writer_after_refresh) {
  TempDir tmp;
  auto writer = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  for (int i = 0; i < 3; ++i) BOOST_REQUIRE(writer->Append(SignedEntry(author, i)).has_value());
  auto reader = Ledger::Open(tmp / "l", {.read_only = true});
  BOOST_REQUIRE_MESSAGE(reader.has_value(), pedigree::testing::Why(reader));
  for (int i = 3; i < 300; ++i) BOOST_REQUIRE(writer->Append(SignedEntry(author, i)).has_value());
  BOOST_TEST((*reader)->size() == 3u);
  BOOST_TEST((*reader)->ProveInclusion(200).error().code() == "merkle.index_out_of_range");
  BOOST_REQUIRE((*reader)->Refresh().has_value());
  BOOST_TEST((*reader)->size() == 300u);
  BOOST_TEST(((*reader)->root() == writer->root()));
  auto proof = (*reader)->ProveInclusion(299);
  BOOST_REQUIRE_MESSAGE(proof.has_value(), pedigree::testing::Why(proof));
  BOOST_TEST((proof->root == writer->root()));
}

BOOST_AUTO_TEST_CASE(signing_twice_at_one_size_returns_the_same_checkpoint) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  BOOST_REQUIRE(ledger->Append(SignedEntry(author, 1)));
  auto first = ledger->SignCheckpoint().value();
  auto second = ledger->SignCheckpoint().value();
  BOOST_TEST(first.note == second.note);
}

// The log's own time is in every leaf (the leaf hash commits it), never decreases along the
// log even when the clock steps back, and resumes from the last leaf after a restart.
BOOST_AUTO_TEST_CASE(sequencing_time_is_in_every_leaf_and_never_decreases) {
  TempDir tmp;
  int64_t now = 1'795'300'000;
  LedgerOptions options;
  options.clock = [&now] { return now; };
  PrivateKey author = PrivateKey::Generate();
  auto time_of = [](Ledger& l, uint64_t i) {
    auto opened = OpenEntry(l.Entry(i).value());
    BOOST_REQUIRE(opened.has_value());
    BOOST_REQUIRE(opened->sequenced_at.has_value());
    return *opened->sequenced_at;
  };
  {
    auto ledger = Ledger::Create(tmp / "l", "example.org/test-log", options).value();
    BOOST_REQUIRE(ledger->Append(SignedEntry(author, 0)));
    BOOST_TEST(time_of(*ledger, 0) == 1'795'300'000);
    now -= 3600;  // the clock steps back an hour
    BOOST_REQUIRE(ledger->Append(SignedEntry(author, 1)));
    BOOST_TEST(time_of(*ledger, 1) == 1'795'300'000);
    now += 7200;
    BOOST_REQUIRE(ledger->Append(SignedEntry(author, 2)));
    BOOST_TEST(time_of(*ledger, 2) == 1'795'303'600);
    auto proof = ledger->ProveInclusion(2).value();
    BOOST_TEST(proof.leaf_hash == LeafHash(AsBytes(ledger->Entry(2).value())));
    BOOST_TEST(ledger->Audit().value().ok());
  }
  now = 1'000'000'000;  // reopened with a clock far behind
  auto ledger = Ledger::Open(tmp / "l", options).value();
  BOOST_REQUIRE(ledger->Append(SignedEntry(author, 3)));
  BOOST_TEST(time_of(*ledger, 3) == 1'795'303'600);
}

// An organisation's entry signed for one log (or shard) cannot be replayed into another,
// neither as submitted nor as the other log's stored leaf.
BOOST_AUTO_TEST_CASE(entry_for_another_log_is_refused_with_entry_wrong_log) {
  TempDir tmp;
  auto shard1 = Ledger::Create(tmp / "a", "example.org/shard-2026").value();
  auto shard2 = Ledger::Create(tmp / "b", "example.org/shard-2027").value();
  PrivateKey author = PrivateKey::Generate();
  auto payload = JsonValue::Object().set("kind", "test").set("n", 1);
  const std::string entry = SignEntry(payload, author, "example.org/shard-2026").value();
  BOOST_REQUIRE(shard1->Append(entry).has_value());
  auto replayed = shard2->Append(entry);
  BOOST_REQUIRE(!replayed.has_value());
  BOOST_TEST(replayed.error().code() == "entry.wrong_log");
  BOOST_TEST(replayed.error().field() == "log");
  auto leaf = shard2->Append(shard1->Entry(0).value());
  BOOST_REQUIRE(!leaf.has_value());
  BOOST_TEST(leaf.error().code() == "entry.wrong_log");
  BOOST_TEST(shard2->size() == 0u);
}

BOOST_AUTO_TEST_CASE(v1_and_presequenced_submissions_are_refused) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  auto payload = JsonValue::Object().set("kind", "test").set("n", 1);
  auto v1 = ledger->Append(SignEntryV1(payload, author).value());
  BOOST_REQUIRE(!v1.has_value());
  BOOST_TEST(v1.error().code() == "entry.version_unsupported");
  std::string stamped = SignEntry(payload, author, "example.org/test-log").value();
  BOOST_REQUIRE(StampEntry(stamped, 0));  // a client claiming the log's time
  auto pre = ledger->Append(stamped);
  BOOST_REQUIRE(!pre.has_value());
  BOOST_TEST(pre.error().code() == "entry.sequenced");
  BOOST_TEST(ledger->size() == 0u);
}

// A ledger written before envelopes named their log holds version 1 leaves: it opens,
// audits and grows as before.
BOOST_AUTO_TEST_CASE(ledger_holding_v1_leaves_opens_audits_and_appends) {
  TempDir tmp;
  PrivateKey author = PrivateKey::Generate();
  { BOOST_REQUIRE(Ledger::Create(tmp / "l", "example.org/test-log")); }
  {
    auto storage = SqliteStorage::Open(tmp / "l/ledger.db", {}).value();
    CompactRange range;
    std::vector<StoredHash> hashes;
    std::vector<std::string> old;
    for (int i = 0; i < 3; ++i) {
      old.push_back(
          SignEntryV1(JsonValue::Object().set("kind", "old").set("n", i), author).value());
      range.Append(LeafHash(AsBytes(old.back())), &hashes);
    }
    BOOST_REQUIRE(storage->Append(0, old, {}, hashes).has_value());
  }
  auto ledger = Ledger::Open(tmp / "l");
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
  BOOST_REQUIRE((*ledger)->Append(SignedEntry(author, 3)).has_value());
  BOOST_REQUIRE((*ledger)->SignCheckpoint());
  auto audit = (*ledger)->Audit();
  BOOST_REQUIRE(audit.has_value());
  BOOST_TEST(audit->ok());
  BOOST_TEST(audit->size == 4u);
  BOOST_TEST(OpenEntry((*ledger)->Entry(0).value()).value().version == 1);
  BOOST_TEST(OpenEntry((*ledger)->Entry(3).value()).value().sequenced_at.has_value());
}

BOOST_AUTO_TEST_CASE(entry_with_bad_signature_is_refused_and_takes_no_index) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  std::string entry = SignedEntry(author, 7);
  // Flip one character inside the base64 signature.
  auto pos = entry.find("\"sig\":\"") + 8;
  entry[pos] = entry[pos] == 'A' ? 'B' : 'A';
  auto refused = ledger->Append(entry);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(refused.error().code().rfind("entry.", 0) == 0u);
  BOOST_TEST(ledger->size() == 0u);
  BOOST_TEST(*ledger->Append(SignedEntry(author, 8)) == 0u);
}

BOOST_AUTO_TEST_CASE(idempotency_key_returns_the_first_index) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  BOOST_TEST(*ledger->Append(SignedEntry(author, 1), "client-1") == 0u);
  BOOST_TEST(*ledger->Append(SignedEntry(author, 2)) == 1u);
  BOOST_TEST(*ledger->Append(SignedEntry(author, 1), "client-1") == 0u);
  BOOST_TEST(ledger->size() == 2u);
}

BOOST_AUTO_TEST_CASE(reopened_ledger_resumes_with_the_same_root) {
  TempDir tmp;
  Hash root;
  PrivateKey author = PrivateKey::Generate();
  {
    auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
    for (int i = 0; i < 300; ++i) BOOST_REQUIRE(ledger->Append(SignedEntry(author, i)));
    BOOST_REQUIRE(ledger->SignCheckpoint());
    root = ledger->root();
  }
  auto ledger = Ledger::Open(tmp / "l");
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
  BOOST_TEST((*ledger)->size() == 300u);
  BOOST_TEST((*ledger)->root() == root);
  BOOST_TEST(*(*ledger)->Append(SignedEntry(author, 300)) == 300u);
}

BOOST_AUTO_TEST_CASE(proof_for_a_size_beyond_the_tree_is_refused) {
  TempDir tmp;
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  BOOST_REQUIRE(ledger->Append(SignedEntry(author, 1)));
  BOOST_TEST(ledger->ProveInclusion(0, 2).error().code() == "ledger.size_beyond_tree");
  BOOST_TEST(ledger->ProveInclusion(1).error().code() == "merkle.index_out_of_range");
  BOOST_TEST(ledger->ProveInclusion(1).error().message() ==
             "index 1 out of bounds for tree size 1");
}

BOOST_AUTO_TEST_CASE(creating_over_an_existing_ledger_is_refused) {
  TempDir tmp;
  BOOST_REQUIRE(Ledger::Create(tmp / "l", "example.org/test-log"));
  BOOST_TEST(Ledger::Create(tmp / "l", "example.org/test-log").error().code() == "ledger.exists");
  BOOST_TEST(Ledger::Create(tmp / "m", "bad origin").error().code() == "ledger.bad_origin");
  BOOST_TEST(Ledger::Open(tmp / "nothing").error().code() == "ledger.not_found");
}

BOOST_AUTO_TEST_CASE(log_key_is_private_and_a_world_readable_one_is_refused) {
  TempDir tmp;
  { BOOST_REQUIRE(Ledger::Create(tmp / "l", "example.org/test-log")); }
  std::string key = std::filesystem::path(tmp / "l") / kLogKeyFile;
  struct stat st {};
  BOOST_REQUIRE(::stat(key.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  ::chmod(key.c_str(), 0644);
  BOOST_TEST(Ledger::Open(tmp / "l").error().code() == "key.insecure_permissions");
}

BOOST_AUTO_TEST_CASE(audit_names_the_entry_edited_behind_the_ledgers_back) {
  TempDir tmp;
  PrivateKey author = PrivateKey::Generate();
  {
    auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
    for (int i = 0; i < 40; ++i) BOOST_REQUIRE(ledger->Append(SignedEntry(author, i)));
    BOOST_REQUIRE(ledger->SignCheckpoint());
    auto clean = ledger->Audit();
    BOOST_REQUIRE_MESSAGE(clean.has_value(), pedigree::testing::Why(clean));
    BOOST_TEST(clean->ok());
  }
  // Same length, one byte changed: "n":17 becomes "n":18 inside entry 17.
  TamperSql(tmp / "l",
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"n\":17', '\"n\":18') AS "
            "BLOB) WHERE idx = 17");
  auto ledger = Ledger::Open(tmp / "l");
  BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
  auto report = (*ledger)->Audit();
  BOOST_REQUIRE_MESSAGE(report.has_value(), pedigree::testing::Why(report));
  BOOST_TEST(!report->ok());
  BOOST_TEST(*report->bad_index == 17u);
}

BOOST_AUTO_TEST_CASE(entry_edited_behind_the_ledgers_back_is_never_read_back) {
  TempDir tmp;
  PrivateKey author = PrivateKey::Generate();
  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  for (int i = 0; i < 100; ++i) BOOST_REQUIRE(ledger->Append(SignedEntry(author, i)));
  BOOST_REQUIRE(CheckTailEntries(ledger->storage()));
  // Unparsable bytes in entry 90 and a one-byte change in entry 17, while the ledger is open.
  TamperSql(tmp / "l", "UPDATE entries SET data = CAST('{\"payload\":' AS BLOB) WHERE idx = 90");
  TamperSql(tmp / "l",
            "UPDATE entries SET data = CAST(replace(CAST(data AS TEXT), '\"n\":17', '\"n\":18') AS "
            "BLOB) WHERE idx = 17");
  for (uint64_t index : {17u, 90u}) {
    auto entry = ledger->Entry(index);
    BOOST_REQUIRE(!entry.has_value());
    BOOST_TEST(entry.error().code() == "storage.corrupt");
    BOOST_TEST(entry.error().message().find("entry " + std::to_string(index) + " ") !=
               std::string::npos);
    auto proof = ledger->ProveInclusion(index);
    BOOST_REQUIRE(!proof.has_value());
    BOOST_TEST(proof.error().code() == "storage.corrupt");
  }
  BOOST_TEST(ledger->Entry(18).has_value());
  // The start-up check reads the newest 64: it names 90, not 17 (the full audit's job).
  auto tail = CheckTailEntries(ledger->storage());
  BOOST_REQUIRE(!tail.has_value());
  BOOST_TEST(tail.error().code() == "storage.corrupt");
  BOOST_TEST(tail.error().message().find("entry 90 ") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(replaced_checkpoint_root_is_detected_on_open) {
  TempDir tmp;
  PrivateKey author = PrivateKey::Generate();
  {
    auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
    for (int i = 0; i < 10; ++i) BOOST_REQUIRE(ledger->Append(SignedEntry(author, i)));
    BOOST_REQUIRE(ledger->SignCheckpoint());
  }
  TamperSql(tmp / "l", "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 10");
  auto reopened = Ledger::Open(tmp / "l");
  BOOST_REQUIRE(!reopened);
  BOOST_TEST(reopened.error().code() == "storage.checkpoint_mismatch");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(ledger_lock)

BOOST_AUTO_TEST_CASE(second_opener_is_refused_while_the_ledger_is_open) {
  TempDir tmp;
  auto first = Ledger::Create(tmp / "l", "example.org/test-log");
  BOOST_REQUIRE(first.has_value());
  auto second = Ledger::Open(tmp / "l");
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "ledger.locked");
  first->reset();
  BOOST_TEST(Ledger::Open(tmp / "l").has_value());
}

BOOST_AUTO_TEST_CASE(storage_is_read_next_to_the_open_ledger_without_its_lock) {
  TempDir tmp;
  auto missing = OpenLedgerStorage(tmp / "nothing");
  BOOST_REQUIRE(!missing.has_value());
  BOOST_TEST(missing.error().code() == "storage.not_found");

  auto ledger = Ledger::Create(tmp / "l", "example.org/test-log").value();
  PrivateKey author = PrivateKey::Generate();
  const std::string entry = SignedEntry(author, 1);
  BOOST_REQUIRE(ledger->Append(entry).has_value());
  auto checkpoint = ledger->SignCheckpoint().value();
  for (size_t tiles : {size_t{4096}, size_t{0}}) {
    auto storage = OpenLedgerStorage(tmp / "l", tiles);
    BOOST_REQUIRE_MESSAGE(storage.has_value(), pedigree::testing::Why(storage));
    BOOST_TEST((*storage)->Size().value() == 1u);
    BOOST_TEST(Unsequenced((*storage)->ReadEntry(0).value()) == entry);
    BOOST_TEST((*storage)->LatestCheckpoint().value().value().note == checkpoint.note);
    BOOST_TEST(ToHex(TreeRoot(1, **storage).value()) == ToHex(ledger->root()));
  }
}

BOOST_AUTO_TEST_SUITE_END()
