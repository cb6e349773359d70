// The SQL layer (sql.h) on both backends: the same statements, written once, against an
// SQLite file and a throwaway PostgreSQL database (tests/common/pg_cluster.h). Typing,
// placeholders, ON CONFLICT and RETURNING, savepoints and transactions, schema
// translation, and the errors each backend gives.
#include "pedigree/log/sql.h"

#include <boost/test/unit_test.hpp>
#include <memory>
#include <vector>

#include "common/pg_cluster.h"
#include "common/temp_dir.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS items(
  name TEXT NOT NULL, n INTEGER NOT NULL, data BLOB, note TEXT,
  PRIMARY KEY(name)) WITHOUT ROWID;
-- an INTEGER in a comment stays as written
CREATE INDEX IF NOT EXISTS items_by_n ON items(n);
)sql";

// One connection per backend, each with kSchema applied.
struct Backends {
  TempDir dir;
  std::vector<std::pair<std::string, sql::Connection>> all;
  Backends() {
    auto lite = sql::Connection::Open((dir.path() / "t.db").string(), {.create = true});
    BOOST_REQUIRE(lite.has_value());
    all.emplace_back("sqlite", std::move(*lite));
    auto pg = sql::Connection::OpenPostgres(PgCluster::Shared().NewDatabase());
    BOOST_REQUIRE_MESSAGE(pg.has_value(), (pg ? "" : pg.error().ToString()));
    all.emplace_back("postgresql", std::move(*pg));
    for (auto& [name, db] : all) {
      auto st = db.ExecSchema(kSchema);
      BOOST_REQUIRE_MESSAGE(st.has_value(), name + ": " + (st ? "" : st.error().ToString()));
    }
  }
};

Status Insert(sql::Connection& db, std::string_view name, int64_t n) {
  PEDIGREE_ASSIGN(q, db.Prepare("INSERT INTO items(name, n) VALUES(?1, ?2) "
                                "ON CONFLICT(name) DO NOTHING"));
  q->Bind(1, name).Bind(2, n);
  return q->Run();
}

Result<int64_t> Count(sql::Connection& db) {
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT COUNT(*) FROM items"));
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return Fail("storage.not_found", "COUNT(*) returned no row");
  return q->Int(0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sql_layer)

BOOST_AUTO_TEST_CASE(values_round_trip_with_their_types_on_both_backends) {
  Backends b;
  const std::vector<uint8_t> blob = {0, 1, 0xfe, 0xff, 'x'};
  for (auto& [name, db] : b.all) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST((db.dialect() == sql::Dialect::kPostgres) == (name == "postgresql"));
      {
        auto q = db.Prepare("INSERT INTO items(name, n, data, note) VALUES(?1, ?2, ?3, ?4)");
        BOOST_REQUIRE(q.has_value());
        q->Bind(1, "a'b").Bind(2, int64_t{-9007199254740993}).Bind(3, blob).BindNull(4);
        BOOST_REQUIRE(q->Run().has_value());
        BOOST_TEST(db.Changes() == 1);
      }
      auto q = db.Prepare("SELECT name, n, data, note, n + ?1 FROM items WHERE name = ?2");
      BOOST_REQUIRE(q.has_value());
      q->Bind(1, int64_t{1}).Bind(2, "a'b");
      auto row = q->Step();
      BOOST_REQUIRE(row.has_value());
      BOOST_REQUIRE(*row);
      BOOST_TEST(q->Text(0) == "a'b");
      BOOST_TEST(q->Int(1) == -9007199254740993);
      const auto got = q->Blob(2);
      BOOST_TEST(std::vector<uint8_t>(got.begin(), got.end()) == blob);
      BOOST_TEST(q->IsNull(3));
      BOOST_TEST(q->Text(3) == "");
      BOOST_TEST(q->Int(4) == -9007199254740992);
      auto end = q->Step();
      BOOST_REQUIRE(end.has_value());
      BOOST_TEST(!*end);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_cached_statement_runs_again_with_new_bindings_and_a_null) {
  Backends b;
  for (auto& [name, db] : b.all) {
    BOOST_TEST_CONTEXT(name) {
      for (int64_t i = 0; i < 3; ++i) {
        BOOST_REQUIRE(Insert(db, "p" + std::to_string(i), i).has_value());
      }
      // The same text, bound once with a value and once with NULL (a NULL goes untyped).
      auto q = db.Prepare("UPDATE items SET note = ?1 WHERE n >= ?2");
      BOOST_REQUIRE(q.has_value());
      q->Bind(1, "x").Bind(2, int64_t{1});
      BOOST_REQUIRE(q->Run().has_value());
      BOOST_TEST(db.Changes() == 2);
      q->Reset();
      q->BindNull(1).Bind(2, int64_t{2});
      BOOST_REQUIRE(q->Run().has_value());
      BOOST_TEST(db.Changes() == 1);
      auto s = db.Prepare("SELECT name FROM items WHERE note IS NOT NULL ORDER BY n");
      BOOST_REQUIRE(s.has_value());
      std::vector<std::string> names;
      BOOST_REQUIRE(
          s->ForEachRow([&](const sql::Query& r) { names.push_back(r.Text(0)); }).has_value());
      BOOST_TEST(names == std::vector<std::string>{"p1"});
    }
  }
}

BOOST_AUTO_TEST_CASE(on_conflict_do_nothing_reports_no_change_and_returning_gives_the_row) {
  Backends b;
  for (auto& [name, db] : b.all) {
    BOOST_TEST_CONTEXT(name) {
      BOOST_REQUIRE(Insert(db, "k", 1).has_value());
      BOOST_TEST(db.Changes() == 1);
      BOOST_REQUIRE(Insert(db, "k", 2).has_value());
      BOOST_TEST(db.Changes() == 0);
      auto q = db.Prepare(
          "INSERT INTO items(name, n) VALUES(?, ?) ON CONFLICT(name) DO UPDATE SET n = "
          "excluded.n + items.n RETURNING n");
      BOOST_REQUIRE(q.has_value());
      q->Bind(1, "k").Bind(2, int64_t{10});
      auto row = q->Step();
      BOOST_REQUIRE(row.has_value());
      BOOST_REQUIRE(*row);
      BOOST_TEST(q->Int(0) == 11);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_savepoint_rolled_back_inside_a_transaction_leaves_nothing_behind) {
  Backends b;
  for (auto& [name, db] : b.all) {
    BOOST_TEST_CONTEXT(name) {
      auto tx = sql::Transaction::Begin(db);
      BOOST_REQUIRE(tx.has_value());
      BOOST_TEST(db.InTransaction());
      BOOST_REQUIRE(Insert(db, "kept", 1).has_value());
      {
        auto sp = sql::Savepoint::Begin(db);
        BOOST_REQUIRE(sp.has_value());
        BOOST_REQUIRE(Insert(db, "undone", 2).has_value());
        // A failing statement inside the savepoint (PostgreSQL then refuses every
        // statement until the rollback to the savepoint).
        auto bad = db.Prepare("INSERT INTO items(name, n) VALUES(?1, NULL)");
        BOOST_REQUIRE(bad.has_value());
        bad->Bind(1, "null-n");
        BOOST_TEST(!bad->Run().has_value());
      }  // rolled back
      BOOST_REQUIRE(Insert(db, "after", 3).has_value());
      BOOST_REQUIRE(tx->Commit().has_value());
      BOOST_TEST(!db.InTransaction());
      BOOST_TEST(Count(db).value() == 2);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_failed_statement_names_its_sql_and_a_bad_server_is_unavailable) {
  Backends b;
  for (auto& [name, db] : b.all) {
    BOOST_TEST_CONTEXT(name) {
      auto q = db.Prepare("SELECT nope FROM items");
      auto row = q ? q->Step() : Result<bool>(std::unexpected(q.error()));
      BOOST_REQUIRE(!row.has_value());
      BOOST_TEST(row.error().code() == "storage.io");
      BOOST_TEST(row.error().message().find("SELECT nope FROM items") != std::string::npos);
    }
  }
  auto lost = sql::Connection::OpenPostgres(
      "postgresql://node:secret-password@/ledger?host=/nonexistent-dir");
  BOOST_REQUIRE(!lost.has_value());
  BOOST_TEST(lost.error().code() == "storage.unavailable");
  BOOST_TEST(lost.error().message().find("/nonexistent-dir") != std::string::npos);
  BOOST_TEST(lost.error().message().find("secret-password") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(placeholders_and_schema_translate_outside_quotes_and_comments) {
  int params = 0;
  BOOST_TEST(sql::PostgresPlaceholders("SELECT '?1', \"a?\" FROM t WHERE a = ?2 AND b = ? -- ?9\n",
                                       &params) ==
             "SELECT '?1', \"a?\" FROM t WHERE a = $2 AND b = $1 -- ?9\n");
  BOOST_TEST(params == 2);
  BOOST_TEST(sql::SchemaFor(sql::Dialect::kPostgres,
                            "CREATE TABLE t(a INTEGER, b BLOB, PRIMARY KEY(a)) WITHOUT ROWID;"
                            " -- INTEGER\n") ==
             "CREATE TABLE t(a BIGINT, b BYTEA, PRIMARY KEY(a)); -- INTEGER\n");
  BOOST_TEST(sql::SchemaFor(sql::Dialect::kSqlite, "CREATE TABLE t(a INTEGER)") ==
             "CREATE TABLE t(a INTEGER)");
}

BOOST_AUTO_TEST_SUITE_END()
