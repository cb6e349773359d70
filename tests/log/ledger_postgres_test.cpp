// The ledger facade with its data in PostgreSQL (LedgerOptions::storage, a throwaway
// cluster: tests/common/pg_cluster.h): the directory keeps the keys and records the
// storage, every later open by directory finds it, and a wrong or unreachable storage is
// refused with a code naming the server, never the password.
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "common/pg_cluster.h"
#include "common/result.h"
#include "common/temp_dir.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"

using namespace pedigree;
using namespace pedigree::log;
using pedigree::testing::PgCluster;
using pedigree::testing::TempDir;

namespace {

std::string Entry(const PrivateKey& key, int64_t n) {
  auto payload = JsonValue::Object();
  payload.set("kind", JsonValue(std::string("test")));
  payload.set("n", JsonValue(n));
  return SignEntry(payload, key, "example.org/pg-log").value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ledger_postgres)

BOOST_AUTO_TEST_CASE(a_ledger_on_postgresql_keeps_keys_in_its_directory_and_reopens_by_it) {
  TempDir tmp;
  const std::string dir = tmp / "l";
  const std::string url = PgCluster::Shared().NewDatabase();
  PrivateKey author = PrivateKey::Generate();
  {
    auto ledger = Ledger::Create(dir, "example.org/pg-log", {.storage = url});
    BOOST_REQUIRE_MESSAGE(ledger.has_value(), pedigree::testing::Why(ledger));
    for (int i = 0; i < 3; ++i) {
      auto index = (*ledger)->Append(Entry(author, i));
      BOOST_REQUIRE_MESSAGE(index.has_value(), pedigree::testing::Why(index));
    }
    BOOST_TEST((*ledger)->db_path() == url);
  }
  namespace fs = std::filesystem;
  BOOST_TEST(!fs::exists(fs::path(dir) / kLedgerDbFile));
  BOOST_TEST(fs::exists(fs::path(dir) / kLogKeyFile));
  struct stat st {};
  BOOST_REQUIRE(::stat((fs::path(dir) / "storage").c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600u);
  BOOST_TEST(PgCluster::Value(url, "SELECT count(*) FROM entries") == "3");

  // Opened by directory alone: the recorded storage.
  auto reopened = Ledger::Open(dir);
  BOOST_REQUIRE_MESSAGE(reopened.has_value(), pedigree::testing::Why(reopened));
  BOOST_TEST((*reopened)->SignCheckpoint().value().size == 3u);
  BOOST_REQUIRE((*reopened)->Append(Entry(author, 3)).has_value());
  reopened->reset();

  // A second ledger cannot be created in a database that holds one.
  auto twice = Ledger::Create(tmp / "other", "example.org/pg-log", {.storage = url});
  BOOST_REQUIRE(!twice.has_value());
  BOOST_TEST(twice.error().code() == "ledger.exists");
}

BOOST_AUTO_TEST_CASE(a_directory_initialised_for_sqlite_refuses_a_postgresql_storage) {
  TempDir tmp;
  const std::string dir = tmp / "l";
  BOOST_REQUIRE(Ledger::Create(dir, "example.org/pg-log").has_value());
  auto wrong = Ledger::Open(
      dir, {.storage = "postgresql://node:hunter2-secret@db.example:5433/ledger?sslmode=disable"});
  BOOST_REQUIRE(!wrong.has_value());
  BOOST_TEST(wrong.error().code() == "ledger.storage_mismatch");
  BOOST_TEST(wrong.error().message().find("db.example:5433") != std::string::npos);
  BOOST_TEST(wrong.error().message().find("hunter2") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unreachable_server_is_refused_naming_it_and_leaves_no_key_behind) {
  TempDir tmp;
  const std::string dir = tmp / "l";
  const std::string url = "postgresql://node:hunter2-secret@/ledger?host=/nonexistent-pg-dir";
  auto created = Ledger::Create(dir, "example.org/pg-log", {.storage = url});
  BOOST_REQUIRE(!created.has_value());
  BOOST_TEST(created.error().code() == "storage.unavailable");
  BOOST_TEST(created.error().message().find("/nonexistent-pg-dir") != std::string::npos);
  BOOST_TEST(created.error().message().find("hunter2") == std::string::npos);
  // Nothing blocks a retry against a reachable server.
  auto retried =
      Ledger::Create(dir, "example.org/pg-log", {.storage = PgCluster::Shared().NewDatabase()});
  BOOST_REQUIRE_MESSAGE(retried.has_value(), pedigree::testing::Why(retried));
}

// Several nodes on one database (docs/deployment.md): each has its own copy of the
// directory; only one may open the ledger for writing (the sequencer lease), any number
// read beside it, and the next writer after it sees every entry it committed.
BOOST_AUTO_TEST_CASE(one_writer_per_database_the_next_takes_over_with_every_entry) {
  TempDir tmp;
  namespace fs = std::filesystem;
  const std::string a = tmp / "a";
  const std::string b = tmp / "b";
  const std::string url = PgCluster::Shared().NewDatabase();
  PrivateKey author = PrivateKey::Generate();
  auto leader = Ledger::Create(a, "example.org/pg-log", {.storage = url});
  BOOST_REQUIRE_MESSAGE(leader.has_value(), pedigree::testing::Why(leader));
  fs::copy(a, b, fs::copy_options::recursive);
  BOOST_REQUIRE((*leader)->Append(Entry(author, 0)).has_value());

  auto second = Ledger::Open(b);
  BOOST_REQUIRE(!second.has_value());
  BOOST_TEST(second.error().code() == "ledger.locked");
  auto reader = Ledger::Open(b, {.read_only = true});
  BOOST_REQUIRE_MESSAGE(reader.has_value(), pedigree::testing::Why(reader));
  BOOST_REQUIRE((*leader)->Append(Entry(author, 1)).has_value());
  BOOST_REQUIRE((*reader)->Refresh().has_value());
  BOOST_TEST((*reader)->size() == 2u);
  BOOST_TEST((*reader)->root() == (*leader)->root());

  leader->reset();  // its session ends: the lease is free
  auto next = Ledger::Open(b);
  BOOST_REQUIRE_MESSAGE(next.has_value(), pedigree::testing::Why(next));
  BOOST_TEST((*next)->size() == 2u);
  BOOST_REQUIRE((*next)->Append(Entry(author, 2)).value() == 2u);
  BOOST_TEST((*next)->SignCheckpoint().value().size == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
