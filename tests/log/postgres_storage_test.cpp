// PostgresStorage against a real PostgreSQL 15 server (a throwaway cluster per test
// process, tests/common/pg_cluster.sh): schema and session, tampering with raw SQL through
// libpq, the node role's privileges, two writers racing for one index, refused input and
// an unreachable or lost server. The LogStorage contract itself runs in storage_test.cpp.
#include "pedigree/log/postgres_storage.h"

#include <boost/test/unit_test.hpp>
#include <chrono>
#include <thread>

#include "common/pg_cluster.h"
#include "common/temp_dir.h"
#include "pedigree/log/sequencer.h"
#include "storage_testing.h"

using namespace pedigree;
using namespace pedigree::log;
using namespace pedigree::log::testing;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

std::unique_ptr<PostgresStorage> OpenPg(const std::string& conninfo) {
  auto s = PostgresStorage::Open(conninfo);
  BOOST_REQUIRE_MESSAGE(s.has_value(), (s ? "" : s.error().ToString()));
  return std::move(*s);
}

// `count` entries "<prefix>-<i>" appended after `size` stored ones, with their hashes.
struct Batch {
  std::vector<std::string> entries;
  std::vector<StoredHash> hashes;
};
Batch MakeBatch(LogStorage& storage, const std::string& prefix, uint64_t count) {
  const uint64_t size = storage.Size().value();
  CompactRange range = CompactRange::FromStorage(size, storage).value();
  Batch b;
  for (uint64_t i = 0; i < count; ++i) {
    b.entries.push_back(prefix + "-" + std::to_string(size + i));
    range.Append(LeafHash(AsBytes(b.entries.back())), &b.hashes);
  }
  return b;
}

// The grants docs/merkle-log.md gives the node's role ("PostgreSQL schema").
std::string NodeGrants(const std::string& role) {
  return "GRANT SELECT, INSERT ON entries, hashes, idempotency, checkpoints TO " + role +
         "; GRANT SELECT, INSERT, UPDATE ON meta TO " + role +
         "; GRANT SELECT, UPDATE ON log_head, leader TO " + role +
         "; GRANT SELECT ON schema_version TO " + role;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(postgres_storage)

BOOST_AUTO_TEST_CASE(postgres_schema_is_versioned_and_commits_are_synchronous) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto storage = OpenPg(uri);
  BOOST_TEST(PgCluster::Value(uri, "SELECT version FROM schema_version") ==
             std::to_string(PostgresStorage::SchemaVersion()));
  {
    auto lock = storage->LockConnection();
    auto rows = storage->connection().Exec("SELECT current_setting('synchronous_commit')");
    BOOST_REQUIRE(rows.has_value());
    BOOST_TEST(rows->Text(0, 0) == "on");
  }
  // Opening again migrates nothing; a schema from a newer program is refused.
  storage.reset();
  storage = OpenPg(uri);
  storage.reset();
  PgCluster::Run(uri, "UPDATE schema_version SET version = 99");
  auto newer = PostgresStorage::Open(uri);
  BOOST_REQUIRE(!newer.has_value());
  BOOST_TEST(newer.error().code() == "storage.schema_version");
  BOOST_TEST(newer.error().message().find("99") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(postgres_update_delete_and_truncate_of_log_rows_are_refused_by_triggers) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto storage = OpenPg(uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 300).has_value());
  BOOST_REQUIRE(storage->StoreCheckpoint({300, range.Root(), "n"}).has_value());
  // As the superuser that owns the tables: only the triggers stand in the way.
  const std::pair<const char*, const char*> refused[] = {
      {"UPDATE entries SET data = '\\x00' WHERE idx = 1", "entries are append-only"},
      {"DELETE FROM entries WHERE idx = 299", "entries are append-only"},
      {"UPDATE hashes SET hash = hash WHERE level = 0 AND idx = 0", "tree hashes are append-only"},
      {"DELETE FROM hashes WHERE level = 8", "tree hashes are append-only"},
      {"TRUNCATE hashes", "tree hashes are append-only"},
      {"UPDATE idempotency SET idx = 2 WHERE key = 'key-1'", "idempotency keys are append-only"},
      {"DELETE FROM idempotency", "idempotency keys are append-only"},
      {"UPDATE checkpoints SET note = 'x'", "checkpoints are append-only"},
      {"DELETE FROM checkpoints", "checkpoints are append-only"},
      {"TRUNCATE checkpoints", "checkpoints are append-only"},
      {"UPDATE log_head SET size = 2", "the log head may only grow"},
      {"DELETE FROM log_head", "the log head is never deleted"},
      {"TRUNCATE log_head", "the log head is never deleted"},
  };
  for (const auto& [sql, message] : refused) {
    BOOST_TEST_CONTEXT(sql) { BOOST_TEST(PgCluster::Exec(uri, sql) == message); }
  }
  BOOST_TEST(storage->Size().value() == 300u);
  CheckAgainstReference(*storage, 300);
}

// The node runs as a role with INSERT but no UPDATE or DELETE on the log tables (and
// not their owner, so it cannot disable the triggers either).
BOOST_AUTO_TEST_CASE(postgres_node_role_appends_but_cannot_update_or_delete) {
  PgCluster& cluster = PgCluster::Shared();
  const std::string db = cluster.CreateDatabase();
  const std::string owner_uri = cluster.Uri(db);
  const std::string role = "node_" + db;
  OpenPg(owner_uri);  // the owner creates the schema
  PgCluster::Run(owner_uri, "CREATE ROLE " + role + " LOGIN");
  PgCluster::Run(owner_uri, NodeGrants(role));
  const std::string node_uri = cluster.Uri(db, role);

  auto storage = OpenPg(node_uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 40).has_value());
  BOOST_REQUIRE(storage->StoreCheckpoint({40, range.Root(), "n"}).has_value());
  BOOST_REQUIRE(storage->SetMeta("origin", "a").has_value());
  BOOST_REQUIRE(storage->SetMeta("origin", "b").has_value());
  CheckAgainstReference(*storage, 40);
  const std::pair<const char*, const char*> refused[] = {
      {"UPDATE entries SET data = '\\x00' WHERE idx = 1", "permission denied for table entries"},
      {"DELETE FROM hashes", "permission denied for table hashes"},
      {"DELETE FROM idempotency", "permission denied for table idempotency"},
      {"UPDATE checkpoints SET note = 'x'", "permission denied for table checkpoints"},
      {"DELETE FROM log_head", "permission denied for table log_head"},
      {"ALTER TABLE entries DISABLE TRIGGER entries_append_only", "must be owner of table entries"},
      {"UPDATE schema_version SET version = 0", "permission denied for table schema_version"},
  };
  for (const auto& [sql, message] : refused) {
    BOOST_TEST_CONTEXT(sql) { BOOST_TEST(PgCluster::Exec(node_uri, sql) == message); }
  }
  BOOST_TEST(storage->Size().value() == 40u);
}

// Fencing: two writers on one database, both appending at index 0. The second one's
// transaction waits on the log head row that the first holds; when the first commits, the
// second sees the new size and gets storage.append_conflict, writing nothing.
BOOST_AUTO_TEST_CASE(postgres_two_writers_racing_for_one_index_exactly_one_wins) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto a = OpenPg(uri);
  auto b = OpenPg(uri);
  const Batch batch_a = MakeBatch(*a, "a", 5);
  const Batch batch_b = MakeBatch(*b, "b", 3);
  Status b_result;
  std::thread b_thread;
  auto a_result = a->Append(0, batch_a.entries, {}, batch_a.hashes, [&]() -> Status {
    b_thread = std::thread([&] { b_result = b->Append(0, batch_b.entries, {}, batch_b.hashes); });
    // Go on only once b waits for the head row (a bounded wait for a state, not a timing).
    bool waiting = false;
    for (int i = 0; i < 3000 && !waiting; ++i) {
      waiting = PgCluster::Value(uri,
                                 "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                                 "current_database() AND wait_event_type = 'Lock'") == "1";
      if (!waiting) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    BOOST_TEST(waiting);
    return Ok();
  });
  b_thread.join();
  BOOST_REQUIRE(a_result.has_value());
  BOOST_REQUIRE(!b_result.has_value());
  BOOST_TEST(b_result.error().code() == "storage.append_conflict");
  BOOST_TEST(b_result.error().message().find("up to size 5") != std::string::npos,
             b_result.error().message());
  BOOST_TEST(b->Size().value() == 5u);
  BOOST_TEST(b->ReadEntries(0, 5).value() == batch_a.entries);

  // A writer that lost the race appends again only from the stored size.
  const Batch stale = MakeBatch(*a, "stale", 1);
  const Batch again = MakeBatch(*b, "b", 2);
  BOOST_REQUIRE(b->Append(5, again.entries, {}, again.hashes).has_value());
  BOOST_TEST(a->Append(5, stale.entries, {}, stale.hashes).error().code() ==
             "storage.append_conflict");
  BOOST_TEST(a->Size().value() == 7u);
  BOOST_TEST(a->ReadEntry(5).value() == "b-5");
}

BOOST_AUTO_TEST_CASE(postgres_append_refuses_a_gap_and_a_duplicate_idempotency_key) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto storage = OpenPg(uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 3).has_value());
  const Batch batch = MakeBatch(*storage, "x", 2);

  auto gap = storage->Append(8, batch.entries, {}, {});
  BOOST_REQUIRE(!gap.has_value());
  BOOST_TEST(gap.error().code() == "storage.append_gap");
  BOOST_TEST(gap.error().message() == "append at index 8, stored size is 3");

  const std::vector<std::string> keys = {"fresh", "key-1"};  // key-1 names entry 1
  auto duplicate = storage->Append(3, batch.entries, keys, batch.hashes);
  BOOST_REQUIRE(!duplicate.has_value());
  BOOST_TEST(duplicate.error().code() == "storage.constraint");
  BOOST_TEST(duplicate.error().message().find("(key)=(key-1) already exists") != std::string::npos,
             duplicate.error().message());
  const std::vector<std::string> twice = {"same", "same"};
  BOOST_TEST(storage->Append(3, batch.entries, twice, batch.hashes).error().code() ==
             "storage.constraint");
  // Nothing of the refused appends was kept.
  BOOST_TEST(storage->Size().value() == 3u);
  BOOST_TEST(!storage->FindIdempotencyKey("fresh").value().has_value());
  BOOST_TEST(storage->ReadEntry(3).error().code() == "storage.not_found");
  BOOST_TEST(storage->ReadHash(0, 3).error().code() == "storage.not_found");
  BOOST_REQUIRE(AppendRange(*storage, range, 2).has_value());
  CheckAgainstReference(*storage, 5);
}

BOOST_AUTO_TEST_CASE(postgres_checkpoint_of_one_size_with_another_root_is_refused) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto a = OpenPg(uri);
  auto b = OpenPg(uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*a, range, 10).has_value());
  BOOST_REQUIRE(a->StoreCheckpoint({10, range.Root(), "signed by a"}).has_value());
  Hash other = range.Root();
  other[31] ^= 0x80;
  auto conflict = b->StoreCheckpoint({10, other, "signed by b"});
  BOOST_REQUIRE(!conflict.has_value());
  BOOST_TEST(conflict.error().code() == "storage.checkpoint_conflict");
  BOOST_TEST(conflict.error().message().find(ToHex(other)) != std::string::npos);
  BOOST_REQUIRE(b->StoreCheckpoint({10, range.Root(), "signed by b"}).has_value());
  BOOST_TEST(b->CheckpointAt(10).value()->note == "signed by a");
}

// Rows written behind the storage's back, which the head does not cover, fail the open.
BOOST_AUTO_TEST_CASE(postgres_open_detects_rows_the_log_head_does_not_cover) {
  const std::pair<const char*, const char*> tampered[] = {
      {"INSERT INTO entries(idx, data) VALUES (10, '\\x00')",
       "entries end at index 11, the log head says the size is 10"},
      {"UPDATE log_head SET size = 12",
       "entries end at index 10, the log head says the size is 12"},
      {"INSERT INTO hashes(level, idx, hash) VALUES (1, 5, sha256('x'))",
       "hashes at level 1 end at 6, 10 entries need 5"},
      {"INSERT INTO hashes(level, idx, hash) VALUES (9, 0, sha256('x'))",
       "1 hashes at level 4 or above, which 10 entries do not complete"},
  };
  for (const auto& [sql, message] : tampered) {
    BOOST_TEST_CONTEXT(sql) {
      const std::string uri = PgCluster::Shared().NewDatabase();
      {
        auto storage = OpenPg(uri);
        CompactRange range;
        BOOST_REQUIRE(AppendRange(*storage, range, 10).has_value());
      }
      PgCluster::Run(uri, sql);
      auto reopened = PostgresStorage::Open(uri);
      BOOST_REQUIRE(!reopened.has_value());
      BOOST_TEST(reopened.error().code() == "storage.corrupt");
      BOOST_TEST(reopened.error().message() == message);
    }
  }
}

BOOST_AUTO_TEST_CASE(postgres_socket_without_a_server_is_storage_unavailable_naming_it) {
  TempDir empty;
  const std::string socket = empty.path().string() + "/.s.PGSQL.5432";
  for (const std::string& conninfo :
       {"postgresql:///postgres?host=" + empty.path().string() + "&user=pedigree",
        "host=" + empty.path().string() + " dbname=postgres user=pedigree"}) {
    BOOST_TEST_CONTEXT(conninfo) {
      auto s = PostgresStorage::Open(conninfo);
      BOOST_REQUIRE(!s.has_value());
      BOOST_TEST(s.error().code() == "storage.unavailable");
      BOOST_TEST(s.error().message().find(socket) != std::string::npos, s.error().message());
    }
  }
  // A malformed string is refused before connecting, without repeating its password.
  auto bad = PostgresStorage::Open("host=/nowhere password=hunter2 no_such_option=1");
  BOOST_REQUIRE(!bad.has_value());
  BOOST_TEST(bad.error().code() == "storage.invalid_argument");
  BOOST_TEST(bad.error().message().find("no_such_option") != std::string::npos);
  BOOST_TEST(bad.error().message().find("hunter2") == std::string::npos);
}

// The server ends the storage's session (as on a restart or failover): the call that
// finds it gone fails with storage.unavailable naming the server, the next reconnects.
// An append whose session ends before COMMIT keeps nothing.
BOOST_AUTO_TEST_CASE(postgres_lost_connection_is_storage_unavailable_then_reconnects) {
  PgCluster& cluster = PgCluster::Shared();
  const std::string uri = cluster.NewDatabase();
  auto storage = OpenPg(uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 20).has_value());
  auto terminate_own_session = [&] {
    int64_t pid = 0;
    {
      auto lock = storage->LockConnection();
      pid = storage->connection().Exec("SELECT pg_backend_pid()").value().Int(0, 0).value();
    }
    // The two-argument form waits (up to 10 s) until the session is gone.
    BOOST_REQUIRE(PgCluster::Value(uri, "SELECT pg_terminate_backend(" + std::to_string(pid) +
                                            ", 10000)") == "t");
  };

  terminate_own_session();
  auto lost = storage->Size();
  BOOST_REQUIRE(!lost.has_value());
  BOOST_TEST(lost.error().code() == "storage.unavailable");
  BOOST_TEST(lost.error().message().find("socket " + cluster.dir() + "/.s.PGSQL.5432") !=
                 std::string::npos,
             lost.error().message());
  BOOST_TEST(storage->Size().value() == 20u);

  CompactRange attempt = range;
  auto cut = AppendRange(*storage, attempt, 5, [&]() -> Status {
    terminate_own_session();
    return Ok();
  });
  BOOST_REQUIRE(!cut.has_value());
  BOOST_TEST(cut.error().code() == "storage.unavailable");
  BOOST_TEST(storage->Size().value() == 20u);
  BOOST_TEST(!storage->FindIdempotencyKey("key-20").value().has_value());
  BOOST_REQUIRE(AppendRange(*storage, range, 5).has_value());
  CheckAgainstReference(*storage, 25);
}

// SQLSTATE 53100 (disk_full) from the server, here raised by a derived-state write inside
// the append's transaction: storage.full naming the server, and the entries go too.
BOOST_AUTO_TEST_CASE(postgres_disk_full_is_storage_full_and_keeps_nothing) {
  PgCluster& cluster = PgCluster::Shared();
  const std::string uri = cluster.NewDatabase();
  auto storage = OpenPg(uri);
  CompactRange range;
  BOOST_REQUIRE(AppendRange(*storage, range, 3).has_value());
  CompactRange attempt = range;
  auto full = AppendRange(*storage, attempt, 2, [&]() -> Status {
    return storage->connection().Script(
        "DO $$ BEGIN RAISE EXCEPTION 'could not extend file' USING ERRCODE = 'disk_full'; END $$");
  });
  BOOST_REQUIRE(!full.has_value());
  BOOST_TEST(full.error().code() == "storage.full");
  BOOST_TEST(full.error().message().find("no space left on the PostgreSQL server at socket " +
                                         cluster.dir()) != std::string::npos,
             full.error().message());
  BOOST_TEST(storage->Size().value() == 3u);
  BOOST_TEST(storage->ReadEntry(3).error().code() == "storage.not_found");
  BOOST_REQUIRE(AppendRange(*storage, range, 2).has_value());
  CheckAgainstReference(*storage, 5);
}

// The Sequencer on PostgreSQL: batches commit, a validator's refusal inside the
// transaction takes no index, idempotency keys survive a restart, and the tree resumes.
BOOST_AUTO_TEST_CASE(postgres_sequencer_sequences_refuses_and_resumes) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  Hash root;
  {
    auto storage = OpenPg(uri);
    SequencerOptions options;
    options.validator = [](uint64_t, std::string_view entry, const JsonValue*) -> Status {
      if (entry == "refused") return Fail("test.refused", "refused by the rules");
      return Ok();
    };
    auto sequencer = Sequencer::Start(*storage, options).value();
    std::vector<std::future<Result<uint64_t>>> futures;
    for (int i = 0; i < 300; ++i) {
      futures.push_back(sequencer->Submit(i == 150 ? "refused" : EntryText(i < 150 ? i : i - 1),
                                          "k" + std::to_string(i)));
    }
    for (int i = 0; i < 300; ++i) {
      auto r = futures[i].get();
      if (i == 150) {
        BOOST_TEST(r.error().code() == "test.refused");
      } else {
        BOOST_TEST(r.value() == static_cast<uint64_t>(i < 150 ? i : i - 1));
      }
    }
    sequencer->Stop();
    BOOST_TEST(storage->Size().value() == 299u);
    root = sequencer->root();
  }
  auto storage = OpenPg(uri);
  auto sequencer = Sequencer::Start(*storage, SequencerOptions{}).value();
  BOOST_TEST(sequencer->root() == root);
  BOOST_TEST(sequencer->Append("again", "k7").value() == 7u);  // the key's original index
  BOOST_TEST(sequencer->Append(EntryText(299), "k300").value() == 299u);
  sequencer->Stop();
  CheckAgainstReference(*storage, 300);
}

// The sequencer lease (docs/deployment.md, "Several nodes on one database"): one holder at
// a time, each acquisition a new epoch, released when the holder's session ends.
BOOST_AUTO_TEST_CASE(postgres_sequencer_lease_has_one_holder_and_each_acquisition_a_new_epoch) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto first = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.error().ToString()));
  const uint64_t epoch = (*first)->lease_epoch();
  BOOST_TEST(epoch >= 1u);
  BOOST_TEST((*first)->HoldsLease().value());
  BOOST_REQUIRE((*first)->AdvertiseLeader("http://127.0.0.1:8081").has_value());

  auto second = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "ledger.locked");
  BOOST_TEST(second.error().message().find("http://127.0.0.1:8081") != std::string::npos,
             second.error().message());
  auto watcher = OpenPg(uri);  // no lease: a reader
  auto seen = ReadLeader(watcher->connection()).value();
  BOOST_TEST(seen.held);
  BOOST_TEST(seen.epoch == epoch);
  BOOST_TEST(seen.node_url == "http://127.0.0.1:8081");

  first->reset();  // the holder's session ends: the lease is free at once
  BOOST_TEST(!ReadLeader(watcher->connection()).value().held);
  auto next = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE(next.has_value());
  BOOST_TEST((*next)->lease_epoch() == epoch + 1);
  BOOST_TEST(ReadLeader(watcher->connection()).value().node_url == "");
}

// Fencing: while one session holds the lease, the database refuses another session's log
// head update and checkpoint (cluster.fenced), and nothing of that append is kept.
BOOST_AUTO_TEST_CASE(postgres_writer_without_the_lease_is_fenced_while_another_holds_it) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto stale = OpenPg(uri);
  auto leader = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE(leader.has_value());
  const Batch batch = MakeBatch(*stale, "stale", 3);
  const std::vector<std::string> keys = {"k0", "k1", "k2"};
  auto refused = stale->Append(0, batch.entries, keys, batch.hashes);
  BOOST_REQUIRE(!refused.has_value());
  BOOST_TEST(refused.error().code() == "cluster.fenced");
  BOOST_TEST(PgCluster::Value(uri, "SELECT count(*) FROM entries") == "0");
  BOOST_TEST(PgCluster::Value(uri, "SELECT count(*) FROM idempotency") == "0");
  StoredCheckpoint cp{.size = 0, .root = {}, .note = "forged\n"};
  BOOST_TEST(stale->StoreCheckpoint(cp).error().code() == "cluster.fenced");
  BOOST_TEST(PgCluster::Value(uri, "SELECT count(*) FROM checkpoints") == "0");

  const Batch led = MakeBatch(**leader, "led", 2);
  BOOST_REQUIRE((*leader)->Append(0, led.entries, {}, led.hashes).has_value());
  BOOST_TEST(stale->Size().value() == 2u);
}

// A leader whose session the server ended (a network cut, pg_terminate_backend) reconnects
// without the lease: it knows it (HoldsLease), and once another node holds the lease its
// appends are refused.
BOOST_AUTO_TEST_CASE(postgres_leader_whose_session_ended_is_fenced_after_a_takeover) {
  const std::string uri = PgCluster::Shared().NewDatabase();
  auto old_leader = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE(old_leader.has_value());
  PgCluster::Run(uri,
                 "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                 "AND objid = 1885693034 AND granted");
  // The backend exits a moment later (a bounded wait for a state, not a timing).
  bool free = false;
  for (int i = 0; i < 3000 && !free; ++i) {
    free = PgCluster::Value(uri,
                            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                            "AND objid = 1885693034 AND granted") == "0";
    if (!free) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  BOOST_REQUIRE(free);
  auto held = (*old_leader)->HoldsLease();  // reconnects: a new session, no lock
  BOOST_TEST((!held.has_value() || !*held));
  auto new_leader = PostgresStorage::Open(uri, {.sequencer_lease = true});
  BOOST_REQUIRE_MESSAGE(new_leader.has_value(), (new_leader ? "" : new_leader.error().ToString()));
  BOOST_TEST((*new_leader)->lease_epoch() == (*old_leader)->lease_epoch() + 1);
  const Batch batch = MakeBatch(**old_leader, "old", 1);
  BOOST_TEST((*old_leader)->Append(0, batch.entries, {}, batch.hashes).error().code() ==
             "cluster.fenced");
  BOOST_TEST(!(*old_leader)->HoldsLease().value());
  BOOST_TEST((*new_leader)->HoldsLease().value());
}

BOOST_AUTO_TEST_SUITE_END()
