// A thin layer over an sqlite3 connection for the provenance tables: statements are
// prepared once and cached, binding is by position, and failures become Errors naming
// the SQL that failed. Not thread-safe; one per connection.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "pedigree/base/error.h"
#include "pedigree/log/sqlite_storage.h"

namespace pedigree::log::sql {

// One execution of a cached statement: bind, then step. Resets the statement when done.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, const char* text) : db_(db), stmt_(stmt), text_(text) {}
  ~Query() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& Bind(int i, std::string_view v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Query& Bind(int i, std::span<const uint8_t> v) {
    sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Query& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Query& BindOptional(int i, const std::optional<int64_t>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }
  Query& BindTextOrNull(int i, std::string_view v) { return v.empty() ? BindNull(i) : Bind(i, v); }

  // A row is available (true), no more rows (false), or an error.
  [[nodiscard]] Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Fail(Error(rc == SQLITE_CONSTRAINT ? "storage.constraint" : "storage.io",
                      std::string(sqlite3_errmsg(db_)) + " in: " + text_));
  }
  [[nodiscard]] Status Run() {
    auto r = Step();
    if (!r) return std::unexpected(r.error());
    return Ok();
  }

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const char* text_;
};

class Connection {
 public:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* get() const { return db_; }

  // `text` must be a string literal (statements are cached by its address).
  [[nodiscard]] Result<Query> Prepare(const char* text) {
    auto it = cache_.find(text);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, text, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
          SQLITE_OK) {
        return Fail("storage.io", std::string(sqlite3_errmsg(db_)) + " preparing: " + text);
      }
      it = cache_.emplace(text, SqliteStatement(stmt)).first;
    }
    return Result<Query>(std::in_place, db_, it->second.get(), text);
  }

  [[nodiscard]] Status Exec(const char* text) {
    char* message = nullptr;
    if (sqlite3_exec(db_, text, nullptr, nullptr, &message) != SQLITE_OK) {
      std::string m = message ? message : "unknown";
      sqlite3_free(message);
      return Fail("storage.io", m + " in: " + text);
    }
    return Ok();
  }

 private:
  sqlite3* db_;
  std::unordered_map<const char*, SqliteStatement> cache_;
};

}  // namespace pedigree::log::sql
