// Editing a ledger's SQLite file behind its back, for the tamper-detection tests.
#pragma once

#include <sqlite3.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "pedigree/log/ledger.h"

namespace pedigree::testing {

// Runs `sql` on the database of the ledger in `dir` directly, with every trigger dropped
// first: what an attacker with write access to the file could do. Requires that it succeeds.
inline void TamperSql(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open((std::filesystem::path(dir) / log::kLedgerDbFile).c_str(), &db) ==
                SQLITE_OK);
  std::vector<std::string> triggers;
  sqlite3_exec(
      db, "SELECT name FROM sqlite_master WHERE type='trigger'",
      [](void* out, int, char** values, char**) {
        static_cast<std::vector<std::string>*>(out)->push_back(values[0]);
        return 0;
      },
      &triggers, nullptr);
  for (const auto& t : triggers)
    sqlite3_exec(db, ("DROP TRIGGER " + t).c_str(), nullptr, nullptr, nullptr);
  char* message = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  std::string text = message ? message : "";
  sqlite3_free(message);
  sqlite3_close(db);
  BOOST_REQUIRE_MESSAGE(rc == SQLITE_OK, sql + ": " + text);
}

}  // namespace pedigree::testing
