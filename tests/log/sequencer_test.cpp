#include "pedigree/log/sequencer.h"

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <random>
#include <set>
#include <thread>

#include "common/temp_dir.h"
#include "merkle_testing.h"
#include "pedigree/log/integrity.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/sqlite_storage.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::log::testing::ReferenceTree;

using pedigree::testing::TempDir;

namespace {

std::unique_ptr<SqliteStorage> OpenSqlite(const std::string& path) {
  auto s = SqliteStorage::Open(path, SqliteOptions{.create = true});
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().ToString()));
  return std::move(*s);
}

std::unique_ptr<Sequencer> StartOrDie(LogStorage& storage, SequencerOptions options) {
  auto s = Sequencer::Start(storage, std::move(options));
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().ToString()));
  return std::move(*s);
}

// A verifier that refuses entries starting with "bad".
Status RefuseBad(std::string_view entry) {
  if (entry.starts_with("bad")) return Fail("test.bad_entry", "entry starts with bad");
  return Ok();
}

// Many threads submit concurrently; every accepted entry gets a distinct index, the
// indices are contiguous, and the stored tree is the RFC tree of the stored entries.
void ConcurrentSubmitters(LogStorage& storage) {
  SequencerOptions options;
  options.verify_threads = 2;
  options.max_batch = 64;
  options.verifier = RefuseBad;
  auto sequencer = StartOrDie(storage, options);
  constexpr int kThreads = 6, kPerThread = 150;
  std::vector<std::vector<std::pair<std::string, Result<uint64_t>>>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::pair<std::string, std::future<Result<uint64_t>>>> futures;
      for (int i = 0; i < kPerThread; ++i) {
        std::string entry =
            (i % 10 == 7 ? "bad-" : "ok-") + std::to_string(t) + "-" + std::to_string(i);
        futures.emplace_back(entry, sequencer->Submit(entry));
      }
      for (auto& [entry, f] : futures) results[t].emplace_back(entry, f.get());
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> indices;
  size_t refused = 0;
  for (const auto& per_thread : results) {
    for (const auto& [entry, r] : per_thread) {
      if (entry.starts_with("bad")) {
        BOOST_REQUIRE(!r.has_value());
        BOOST_TEST(r.error().code() == "test.bad_entry");
        ++refused;
        continue;
      }
      BOOST_REQUIRE(r.has_value());
      BOOST_REQUIRE(indices.insert(*r).second);
      BOOST_REQUIRE(storage.ReadEntry(*r).value() == entry);
    }
  }
  const uint64_t accepted = kThreads * kPerThread - refused;
  BOOST_TEST(refused == size_t{kThreads} * 15);
  BOOST_REQUIRE_EQUAL(indices.size(), accepted);
  BOOST_TEST(*indices.begin() == 0u);
  BOOST_TEST(*indices.rbegin() == accepted - 1);
  BOOST_TEST(sequencer->size() == accepted);
  std::vector<Hash> leaves;
  const auto stored = storage.ReadEntries(0, accepted).value();
  for (const auto& e : stored) leaves.push_back(LeafHash(AsBytes(e)));
  ReferenceTree reference(leaves);
  BOOST_TEST(sequencer->root() == reference.Mth(0, accepted));
  BOOST_TEST(TreeRoot(accepted, storage).value() == reference.Mth(0, accepted));
  // Per submitting thread, submission order is index order.
  for (const auto& per_thread : results) {
    uint64_t last = 0;
    bool first = true;
    for (const auto& [entry, r] : per_thread) {
      if (!r) continue;
      BOOST_REQUIRE(first || *r > last);
      last = *r;
      first = false;
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sequencer)

BOOST_AUTO_TEST_CASE(concurrent_submitters_get_distinct_contiguous_indices_in_memory) {
  MemoryStorage storage;
  ConcurrentSubmitters(storage);
}

BOOST_AUTO_TEST_CASE(concurrent_submitters_get_distinct_contiguous_indices_in_sqlite) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  ConcurrentSubmitters(*storage);
}

BOOST_AUTO_TEST_CASE(a_repeated_idempotency_key_returns_the_original_index) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  BOOST_TEST(sequencer->Append("a", "k1").value() == 0u);
  BOOST_TEST(sequencer->Append("b").value() == 1u);
  BOOST_TEST(sequencer->Append("a-again", "k1").value() == 0u);
  BOOST_TEST(sequencer->size() == 2u);
  // Within one batch: both futures resolve to the first submission's index.
  SequencerOptions options;
  options.verifier = [](std::string_view) { return Ok(); };
  options.verify_threads = 1;
  auto batched = StartOrDie(storage, options);
  sequencer->Stop();
  std::vector<std::future<Result<uint64_t>>> futures;
  for (int i = 0; i < 20; ++i) futures.push_back(batched->Submit("x" + std::to_string(i), "k2"));
  for (auto& f : futures) BOOST_TEST(f.get().value() == 2u);
  BOOST_TEST(batched->size() == 3u);
  BOOST_TEST(storage.Size().value() == 3u);
}

BOOST_AUTO_TEST_CASE(already_verified_entries_skip_the_verifier_but_keep_order_and_rules) {
  MemoryStorage storage;
  std::atomic<int> verified{0};
  SequencerOptions options;
  options.verifier = [&](std::string_view entry) -> Status {
    ++verified;
    if (entry.starts_with("bad")) return Fail("test.bad", "refused");
    return Ok();
  };
  options.validator = [](uint64_t, std::string_view entry, const JsonValue*) -> Status {
    if (entry == "forbidden") return Fail("test.rule", "the rules still run");
    return Ok();
  };
  options.verify_threads = 2;
  auto sequencer = StartOrDie(storage, options);
  std::vector<std::future<Result<uint64_t>>> futures;
  for (int i = 0; i < 50; ++i)
    futures.push_back(sequencer->Submit("e" + std::to_string(i), "", i % 2 == 0));
  for (int i = 0; i < 50; ++i) BOOST_TEST(futures[i].get().value() == static_cast<uint64_t>(i));
  BOOST_TEST(verified.load() == 25);
  // Vouched-for entries are hashed by their submitter, the others by a verifying thread:
  // the tree is the same RFC 6962 tree either way.
  std::vector<Hash> leaves;
  for (int i = 0; i < 50; ++i) leaves.push_back(LeafHash(AsBytes("e" + std::to_string(i))));
  BOOST_TEST(sequencer->root() == ReferenceTree(leaves).Mth(0, 50));
  BOOST_TEST(sequencer->Append("bad-1").error().code() == "test.bad");
  BOOST_TEST(sequencer->Append("forbidden", "", true).error().code() == "test.rule");
  BOOST_TEST(sequencer->size() == 50u);
}

BOOST_AUTO_TEST_CASE(validator_gets_the_payload_its_submitter_parsed) {
  MemoryStorage storage;
  std::vector<std::pair<std::string, const JsonValue*>> seen;
  SequencerOptions options;
  options.validator = [&](uint64_t, std::string_view entry, const JsonValue* payload) -> Status {
    seen.emplace_back(std::string(entry), payload);
    if (entry == "refused") return Fail("test.rule", "refused");
    return Ok();
  };
  auto sequencer = StartOrDie(storage, options);
  const JsonValue parsed = JsonValue::Object().set("n", 1);
  BOOST_TEST(sequencer->Append("with", "", true, &parsed).value() == 0u);
  BOOST_TEST(sequencer->Append("without", "", true).value() == 1u);
  BOOST_TEST(sequencer->Append("refused", "", true, &parsed).error().code() == "test.rule");
  BOOST_REQUIRE(seen.size() == 3u);
  BOOST_TEST(seen[0].first == "with");
  BOOST_TEST(seen[0].second == &parsed);
  BOOST_TEST(seen[1].first == "without");
  BOOST_TEST(seen[1].second == nullptr);
  BOOST_TEST(seen[2].second == &parsed);
}

BOOST_AUTO_TEST_CASE(entries_after_a_refused_one_are_stored_whole) {
  // The writer moves a segment's entries and keys into the storage call and hands them back
  // when the segment is retried without a refused entry: the retried ones keep their bytes.
  MemoryStorage storage;
  SequencerOptions options;
  options.max_batch = 100;
  options.max_batch_delay = std::chrono::milliseconds(200);
  options.validator = [](uint64_t, std::string_view entry, const JsonValue*) -> Status {
    if (entry.starts_with("refused")) return Fail("test.rule", "refused");
    return Ok();
  };
  auto sequencer = StartOrDie(storage, options);
  std::vector<std::future<Result<uint64_t>>> futures;
  std::vector<std::string> sent;
  for (int i = 0; i < 20; ++i) {
    sent.push_back((i % 7 == 3 ? "refused-" : "entry-with-a-long-enough-text-") +
                   std::to_string(i));
    futures.push_back(sequencer->Submit(sent.back(), "key-" + std::to_string(i), true));
  }
  std::vector<std::string> stored;
  for (int i = 0; i < 20; ++i) {
    auto index = futures[i].get();
    if (sent[i].starts_with("refused")) {
      BOOST_TEST(index.error().code() == "test.rule");
      continue;
    }
    BOOST_REQUIRE(index.has_value());
    BOOST_TEST(*index == stored.size());
    stored.push_back(sent[i]);
  }
  for (size_t i = 0; i < stored.size(); ++i) BOOST_TEST(storage.ReadEntry(i).value() == stored[i]);
  // The keys went back with their entries: a replay finds the committed index.
  BOOST_TEST(sequencer->Append("entry-again", "key-4", true).value() == 3u);
}

BOOST_AUTO_TEST_CASE(validator_rejection_takes_no_index_and_keeps_order) {
  MemoryStorage storage;
  std::vector<std::pair<uint64_t, std::string>> seen;
  SequencerOptions options;
  options.max_batch = 100;
  options.validator = [&](uint64_t index, std::string_view entry, const JsonValue*) -> Status {
    seen.emplace_back(index, std::string(entry));
    if (entry.starts_with("reject")) return Fail("test.rejected", "validator says no");
    return Ok();
  };
  // Hold the writer so that all entries land in one batch.
  std::mutex gate;
  std::unique_lock hold(gate);
  options.verifier = [&](std::string_view) {
    std::lock_guard wait(gate);
    return Ok();
  };
  options.verify_threads = 1;
  auto sequencer = StartOrDie(storage, options);
  const std::vector<std::string> entries = {"a", "reject-1", "b", "c", "reject-2", "d"};
  std::vector<std::future<Result<uint64_t>>> futures;
  for (const auto& e : entries) futures.push_back(sequencer->Submit(e));
  hold.unlock();
  const std::vector<std::string> want = {"0", "test.rejected", "1", "2", "test.rejected", "3"};
  for (size_t i = 0; i < entries.size(); ++i) {
    auto r = futures[i].get();
    BOOST_TEST((r ? std::to_string(*r) : r.error().code()) == want[i]);
  }
  BOOST_TEST(storage.ReadEntries(0, 4).value() == (std::vector<std::string>{"a", "b", "c", "d"}));
  // Each accepted entry was last validated with the index it got.
  std::map<std::string, uint64_t> last;
  for (const auto& [index, entry] : seen) last[entry] = index;
  BOOST_TEST(last["a"] == 0u);
  BOOST_TEST(last["d"] == 3u);
}

BOOST_AUTO_TEST_CASE(a_group_with_a_rejected_entry_writes_none_of_it_and_others_commit) {
  MemoryStorage storage;
  SequencerOptions options;
  options.max_batch = 100;
  options.validator = [&](uint64_t, std::string_view entry, const JsonValue*) -> Status {
    if (entry.starts_with("reject")) return Fail("test.rejected", "validator says no");
    return Ok();
  };
  // Hold the writer so that the singles and the group land in one batch.
  std::mutex gate;
  std::unique_lock hold(gate);
  options.verifier = [&](std::string_view) {
    std::lock_guard wait(gate);
    return Ok();
  };
  options.verify_threads = 1;
  auto sequencer = StartOrDie(storage, options);
  auto a = sequencer->Submit("a");
  auto group = sequencer->SubmitGroup({"g1", "g2", "reject-g3", "g4"});
  auto b = sequencer->Submit("b");
  hold.unlock();
  BOOST_TEST(a.get().value() == 0u);
  BOOST_TEST(b.get().value() == 1u);
  const std::vector<std::string> want = {"sequencer.group_aborted", "sequencer.group_aborted",
                                         "test.rejected", "sequencer.group_aborted"};
  for (size_t i = 0; i < group.size(); ++i) {
    auto r = group[i].get();
    BOOST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code() == want[i]);
  }
  BOOST_TEST(storage.Size().value() == 2u);
  BOOST_TEST(storage.ReadEntries(0, 2).value() == (std::vector<std::string>{"a", "b"}));
}

BOOST_AUTO_TEST_CASE(a_group_larger_than_a_batch_commits_whole_with_its_replays) {
  MemoryStorage storage;
  SequencerOptions options;
  options.max_batch = 4;
  auto sequencer = StartOrDie(storage, options);
  BOOST_TEST(sequencer->Append("first", "k-first").value() == 0u);
  std::vector<std::string> entries, keys;
  for (int i = 0; i < 10; ++i) {
    entries.push_back("e" + std::to_string(i));
    keys.push_back("k" + std::to_string(i));
  }
  // A replay of a committed key inside the group answers its index and aborts nothing.
  entries[5] = "first-again";
  keys[5] = "k-first";
  auto futures = sequencer->SubmitGroup(entries, keys);
  std::vector<uint64_t> got;
  for (auto& f : futures) got.push_back(f.get().value());
  BOOST_TEST(got == (std::vector<uint64_t>{1, 2, 3, 4, 5, 0, 6, 7, 8, 9}));
  BOOST_TEST(storage.Size().value() == 10u);
}

BOOST_AUTO_TEST_CASE(a_failed_commit_fails_the_batch_and_keeps_the_state) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  BOOST_REQUIRE(sequencer->Append("a").has_value());
  const Hash root = sequencer->root();
  storage.FailNextAppend();
  auto failed = sequencer->Append("b");
  BOOST_REQUIRE(!failed.has_value());
  BOOST_TEST(failed.error().code() == "storage.io");
  BOOST_TEST(sequencer->size() == 1u);
  BOOST_TEST(sequencer->root() == root);
  BOOST_TEST(sequencer->Append("c").value() == 1u);
}

BOOST_AUTO_TEST_CASE(submit_blocks_while_the_queue_is_full) {
  MemoryStorage storage;
  std::mutex gate;
  std::unique_lock hold(gate);
  SequencerOptions options;
  options.queue_capacity = 4;
  options.verify_threads = 1;
  options.verifier = [&](std::string_view) {
    std::lock_guard wait(gate);
    return Ok();
  };
  auto sequencer = StartOrDie(storage, options);
  std::vector<std::future<Result<uint64_t>>> futures;
  for (int i = 0; i < 4; ++i) futures.push_back(sequencer->Submit("e" + std::to_string(i)));
  std::atomic<bool> submitted{false};
  std::thread late([&] {
    futures.push_back(sequencer->Submit("late"));
    submitted = true;
  });
  // The fifth Submit cannot return while four entries wait for verification.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  BOOST_TEST(!submitted.load());
  BOOST_TEST(sequencer->queued() == 4u);
  hold.unlock();
  late.join();
  BOOST_TEST(submitted.load());
  std::set<uint64_t> indices;
  for (auto& f : futures) indices.insert(f.get().value());
  BOOST_TEST(indices.size() == 5u);
}

BOOST_AUTO_TEST_CASE(stop_finishes_queued_work_then_refuses_new_entries) {
  MemoryStorage storage;
  SequencerOptions options;
  options.verify_threads = 2;
  options.verifier = [](std::string_view) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    return Ok();
  };
  auto sequencer = StartOrDie(storage, options);
  std::vector<std::future<Result<uint64_t>>> futures;
  for (int i = 0; i < 200; ++i) futures.push_back(sequencer->Submit("e" + std::to_string(i)));
  sequencer->Stop();
  for (int i = 0; i < 200; ++i) BOOST_REQUIRE(futures[i].get().has_value());
  BOOST_TEST(storage.Size().value() == 200u);
  BOOST_TEST(sequencer->Submit("late").get().error().code() == "sequencer.stopped");
}

BOOST_AUTO_TEST_CASE(a_sequencer_resumes_after_reopen) {
  TempDir dir;
  Hash root;
  {
    auto storage = OpenSqlite(dir.file("log.db"));
    auto sequencer = StartOrDie(*storage, {});
    std::vector<std::future<Result<uint64_t>>> futures;  // submitted together: few commits
    for (int i = 0; i < 300; ++i) {
      futures.push_back(sequencer->Submit("e" + std::to_string(i), "k" + std::to_string(i)));
    }
    for (auto& f : futures) BOOST_REQUIRE(f.get().has_value());
    root = sequencer->root();
    BOOST_REQUIRE(storage->StoreCheckpoint({300, root, "n"}).has_value());
  }
  auto storage = OpenSqlite(dir.file("log.db"));
  BOOST_TEST(CheckLatestCheckpoint(*storage).has_value());
  auto sequencer = StartOrDie(*storage, {});
  BOOST_TEST(sequencer->size() == 300u);
  BOOST_TEST(sequencer->root() == root);
  BOOST_TEST(sequencer->Append("e5-again", "k5").value() == 5u);
  BOOST_TEST(sequencer->Append("e300").value() == 300u);
  std::vector<Hash> leaves;
  const auto stored = storage->ReadEntries(0, 301).value();
  for (const auto& e : stored) leaves.push_back(LeafHash(AsBytes(e)));
  BOOST_TEST(sequencer->root() == ReferenceTree(leaves).Mth(0, 301));
}

BOOST_AUTO_TEST_CASE(a_process_killed_mid_append_leaves_a_consistent_log) {
  TempDir dir;
  const std::string path = dir.file("log.db");
  { OpenSqlite(path); }  // create the schema before forking
  const pid_t child = fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    // The child appends until it is killed; it never returns into the test runner.
    auto storage = SqliteStorage::Open(path, SqliteOptions{});
    if (!storage) _exit(2);
    auto sequencer = Sequencer::Start(**storage, {});
    if (!sequencer) _exit(3);
    for (uint64_t i = 0;; ++i) {
      std::vector<std::future<Result<uint64_t>>> futures;
      for (int j = 0; j < 50; ++j)
        futures.push_back((*sequencer)->Submit("e" + std::to_string(i * 50 + j)));
      for (auto& f : futures) {
        if (!f.get()) _exit(4);
      }
      (void)(*storage)->StoreCheckpoint({(*sequencer)->size(), (*sequencer)->root(), ""});
    }
  }
  // Let it commit a few batches, then kill it without warning.
  for (int waited = 0; waited < 200; ++waited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    auto probe = SqliteStorage::Open(path, SqliteOptions{});
    if (probe && (*probe)->Size().value() >= 500) break;
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  BOOST_TEST(WIFSIGNALED(status));
  auto storage = SqliteStorage::Open(path, SqliteOptions{});
  BOOST_REQUIRE_MESSAGE(storage.has_value(), (storage ? "" : storage.error().ToString()));
  BOOST_TEST((*storage)->Size().value() >= 500u);
  BOOST_TEST(CheckLatestCheckpoint(**storage).has_value());
  auto report = AuditLog(**storage, {}, 1).value();
  BOOST_TEST(report.ok());
  auto sequencer = StartOrDie(**storage, {});
  BOOST_TEST(sequencer->Append("after").value() == report.size);
}

BOOST_AUTO_TEST_CASE(validator_writes_derived_rows_in_the_same_transaction) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  BOOST_REQUIRE(
      sqlite3_exec(storage->handle(),
                   "CREATE TABLE derived(idx INTEGER PRIMARY KEY REFERENCES entries(idx))", nullptr,
                   nullptr, nullptr) == SQLITE_OK);
  SequencerOptions options;
  options.validator = [&](uint64_t index, std::string_view entry, const JsonValue*) -> Status {
    if (entry == "no") return Fail("test.rejected", "no");
    const std::string sql = "INSERT INTO derived(idx) VALUES(" + std::to_string(index) + ")";
    if (sqlite3_exec(storage->handle(), sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      return Fail("test.sql", sqlite3_errmsg(storage->handle()));
    }
    return Ok();
  };
  auto sequencer = StartOrDie(*storage, options);
  BOOST_TEST(sequencer->Append("yes").value() == 0u);
  BOOST_TEST(sequencer->Append("no").error().code() == "test.rejected");
  BOOST_TEST(sequencer->Append("yes").value() == 1u);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(storage->handle(), "SELECT count(*) FROM derived", -1, &stmt, nullptr);
  sqlite3_step(stmt);
  BOOST_TEST(sqlite3_column_int(stmt, 0) == 2);
  sqlite3_finalize(stmt);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(integrity)

BOOST_AUTO_TEST_CASE(audit_of_an_intact_log_reports_no_problem) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  for (int i = 0; i < 1000; ++i) {
    BOOST_REQUIRE(sequencer->Append("ok-" + std::to_string(i)).has_value());
    if (i == 9 || i == 500 || i == 999) {
      BOOST_REQUIRE(storage.StoreCheckpoint({uint64_t(i) + 1, sequencer->root(), ""}).has_value());
    }
  }
  auto report = AuditLog(storage, RefuseBad, 2).value();
  BOOST_TEST(report.ok());
  BOOST_TEST(report.size == 1000u);
  BOOST_TEST(report.root == sequencer->root());
  BOOST_TEST(report.checkpoints_checked == 3u);
  BOOST_TEST(CheckLatestCheckpoint(storage).has_value());
}

BOOST_AUTO_TEST_CASE(audit_names_an_entry_edited_behind_the_ledgers_back) {
  TempDir dir;
  auto storage = OpenSqlite(dir.file("log.db"));
  {
    auto sequencer = StartOrDie(*storage, {});
    std::vector<std::future<Result<uint64_t>>> futures;
    for (int i = 0; i < 600; ++i) futures.push_back(sequencer->Submit("ok-" + std::to_string(i)));
    for (auto& f : futures) BOOST_REQUIRE(f.get().has_value());
  }
  BOOST_REQUIRE(AuditLog(*storage, RefuseBad, 2).value().ok());
  // Drop the guard and change one byte of entry 417.
  sqlite3* db = storage->handle();
  BOOST_REQUIRE(sqlite3_exec(db, "DROP TRIGGER entries_no_update", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
  BOOST_REQUIRE(sqlite3_exec(db, "UPDATE entries SET data = CAST('ok-41X' AS BLOB) WHERE idx = 417",
                             nullptr, nullptr, nullptr) == SQLITE_OK);
  auto report = AuditLog(*storage, RefuseBad, 2).value();
  BOOST_REQUIRE(!report.ok());
  BOOST_TEST(report.problem->code() == "audit.leaf_mismatch");
  BOOST_TEST(report.bad_index.value() == 417u);
  BOOST_TEST(report.problem->message().find("entry 417") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(audit_reports_an_entry_the_verifier_refuses) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  for (int i = 0; i < 50; ++i) {
    BOOST_REQUIRE(
        sequencer->Append((i == 33 || i == 40 ? "bad-" : "ok-") + std::to_string(i)).has_value());
  }
  auto report = AuditLog(storage, RefuseBad, 3).value();
  BOOST_REQUIRE(!report.ok());
  BOOST_TEST(report.problem->code() == "audit.bad_entry");
  BOOST_TEST(report.bad_index.value() == 33u);
  BOOST_TEST(report.problem->message().find("test.bad_entry") != std::string::npos);
}

// Signatures are verified on other threads while the tree is checked: whichever problem
// has the lower index is still the one reported, and an entry's refusal comes before a
// wrong checkpoint that ends at it.
BOOST_AUTO_TEST_CASE(audit_reports_the_lowest_problem_whichever_thread_finds_it) {
  struct Case {
    int bad_entry;              // entry the verifier refuses
    int edited_entry;           // entry changed behind the ledger's back (-1: none)
    uint64_t wrong_checkpoint;  // size of a checkpoint with a wrong root (0: none)
    std::string code;
    uint64_t index;
  };
  const Case cases[] = {
      {300, 417, 0, "audit.bad_entry", 300},
      {500, 417, 0, "audit.leaf_mismatch", 417},
      {300, -1, 301, "audit.bad_entry", 300},
      {300, -1, 300, "audit.checkpoint_mismatch", 300},
  };
  for (const Case& c : cases) {
    TempDir dir;
    auto storage = OpenSqlite(dir.file("log.db"));
    {
      auto sequencer = StartOrDie(*storage, {});
      for (int i = 0; i < 600; ++i) {
        BOOST_REQUIRE(
            sequencer->Append((i == c.bad_entry ? "bad-" : "ok-") + std::to_string(i)).has_value());
        if (uint64_t(i) + 1 == c.wrong_checkpoint) {
          Hash wrong = sequencer->root();
          wrong[0] ^= 1;
          BOOST_REQUIRE(storage->StoreCheckpoint({c.wrong_checkpoint, wrong, ""}).has_value());
        }
      }
    }
    if (c.edited_entry >= 0) {
      sqlite3* db = storage->handle();
      BOOST_REQUIRE(sqlite3_exec(db, "DROP TRIGGER entries_no_update", nullptr, nullptr, nullptr) ==
                    SQLITE_OK);
      const std::string sql = "UPDATE entries SET data = CAST('ok-X' AS BLOB) WHERE idx = " +
                              std::to_string(c.edited_entry);
      BOOST_REQUIRE(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    }
    auto report = AuditLog(*storage, RefuseBad, 2).value();
    BOOST_REQUIRE(!report.ok());
    BOOST_TEST(report.problem->code() == c.code);
    BOOST_TEST(report.bad_index.value() == c.index);
  }
}

BOOST_AUTO_TEST_CASE(audit_and_open_check_detect_a_wrong_checkpoint_root) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  for (int i = 0; i < 20; ++i)
    BOOST_REQUIRE(sequencer->Append("ok-" + std::to_string(i)).has_value());
  Hash wrong = sequencer->root();
  wrong[5] ^= 0x20;
  BOOST_REQUIRE(storage.StoreCheckpoint({20, wrong, ""}).has_value());
  auto st = CheckLatestCheckpoint(storage);
  BOOST_REQUIRE(!st.has_value());
  BOOST_TEST(st.error().code() == "storage.checkpoint_mismatch");
  BOOST_TEST(st.error().message().find(ToHex(wrong)) != std::string::npos);
  BOOST_TEST(st.error().message().find(ToHex(sequencer->root())) != std::string::npos);
  auto report = AuditLog(storage, {}, 1).value();
  BOOST_TEST(report.problem->code() == "audit.checkpoint_mismatch");
  BOOST_TEST(report.bad_index.value() == 20u);
}

BOOST_AUTO_TEST_CASE(audit_detects_a_tampered_entry_in_memory_storage) {
  MemoryStorage storage;
  auto sequencer = StartOrDie(storage, {});
  for (int i = 0; i < 40; ++i)
    BOOST_REQUIRE(sequencer->Append("ok-" + std::to_string(i)).has_value());
  storage.TamperEntry(12, "ok-13");
  auto report = AuditLog(storage, {}, 2).value();
  BOOST_TEST(report.problem->code() == "audit.leaf_mismatch");
  BOOST_TEST(report.bad_index.value() == 12u);
}

BOOST_AUTO_TEST_SUITE_END()
