#include "pedigree/log/sql.h"

#include <cerrno>

namespace pedigree::log {
namespace sql {

namespace {

// The database file of `db`, for messages; empty for a temporary or in-memory database.
std::string DatabasePath(sqlite3* db) {
  const char* path = db ? sqlite3_db_filename(db, "main") : nullptr;
  return path ? std::string(path) : std::string();
}

// Whether the failed system call behind the connection's latest error ran out of space.
bool OutOfSpace(sqlite3* db) {
  if (!db) return false;
  const int err = sqlite3_system_errno(db);
  return err == ENOSPC || err == EDQUOT;
}

Error Failure(sqlite3* db, int rc, std::string_view step, std::string_view why) {
  const int primary = rc & 0xff;
  std::string shown(step.substr(0, 60));
  if (step.size() > 60) shown += "...";
  if (primary == SQLITE_FULL || (primary == SQLITE_IOERR && OutOfSpace(db))) {
    // A full disk (or SQLite's page limit): the operator frees space and the same write
    // succeeds; nothing of the failed transaction is kept. The message names the file.
    // SQLite reports ENOSPC as SQLITE_FULL from its writes, but as an I/O error from
    // others, e.g. SQLITE_IOERR_SHMSIZE when a new connection cannot size the WAL index.
    const std::string path = DatabasePath(db);
    return Error("storage.full", "no space left for " +
                                     (path.empty() ? std::string("the database") : path) +
                                     ": SQL step '" + shown + "' failed: " + std::string(why) +
                                     " (" + std::to_string(rc) + ")");
  }
  return Error(
      (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) ? "storage.corrupt" : "storage.io",
      "SQL step '" + shown + "' failed: " + std::string(why) + " (" + std::to_string(rc) + ")");
}

}  // namespace

Error SqlError(sqlite3* db, int rc, std::string_view step) {
  // errmsg describes the connection's latest failure, which is this one for the callers here.
  return Failure(db, rc, step, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

Result<Connection> Connection::Open(const std::string& path, OpenOptions options) {
  const int flags = options.read_only ? SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX
                                      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX |
                                            (options.create ? SQLITE_OPEN_CREATE : 0);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  SqliteDb db(raw);  // sqlite3_open_v2 may return a handle even when it fails
  if (rc != SQLITE_OK) {
    return Fail("storage.io", "cannot open " + path + (options.read_only ? " for reading" : "") +
                                  ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  return Connection(std::move(db));
}

Result<SqliteStatement> Connection::PrepareUncached(const char* text) {
  sqlite3_stmt* raw = nullptr;
  const int rc = sqlite3_prepare_v3(db_, text, -1, SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
  SqliteStatement stmt(raw);
  if (rc != SQLITE_OK) return std::unexpected(SqlError(db_, rc, std::string("prepare ") + text));
  return stmt;
}

Status Connection::Exec(const char* text) {
  if (pg_) return PgExec(text);
  char* message = nullptr;
  const int rc = sqlite3_exec(db_, text, nullptr, nullptr, &message);
  if (rc == SQLITE_OK) return Ok();
  const std::string why = message ? message : sqlite3_errstr(rc);
  sqlite3_free(message);
  return std::unexpected(Failure(db_, rc, text, why));
}

Result<Transaction> Transaction::Begin(Connection& db) {
  // IMMEDIATE takes SQLite's write lock now rather than at the first write; PostgreSQL
  // locks rows as they are written.
  PEDIGREE_ASSIGN(q, db.Prepare(db.dialect() == Dialect::kPostgres ? "BEGIN" : "BEGIN IMMEDIATE"));
  PEDIGREE_TRY(q->Run());
  return Transaction(db);
}

Status Transaction::Commit() {
  {
    PEDIGREE_ASSIGN(q, db_->Prepare("COMMIT"));
    PEDIGREE_TRY(q->Run());
  }
  db_ = nullptr;
  return Ok();
}

Status Transaction::Rollback() {
  Connection* db = std::exchange(db_, nullptr);
  // SQLite rolls some failures back by itself; a second ROLLBACK would fail.
  if (!db || !db->InTransaction()) return Ok();
  PEDIGREE_ASSIGN(q, db->Prepare("ROLLBACK"));
  return q->Run();
}

// One name for every savepoint: ROLLBACK TO and RELEASE act on the innermost of that name,
// which is this one as long as savepoints end in reverse order of their start.
Result<Savepoint> Savepoint::Begin(Connection& db) {
  PEDIGREE_ASSIGN(q, db.Prepare("SAVEPOINT pedigree"));
  PEDIGREE_TRY(q->Run());
  return Savepoint(db);
}

Status Savepoint::Release() {
  {
    PEDIGREE_ASSIGN(q, db_->Prepare("RELEASE pedigree"));
    PEDIGREE_TRY(q->Run());
  }
  db_ = nullptr;
  return Ok();
}

Status Savepoint::Rollback() {
  Connection* db = std::exchange(db_, nullptr);
  if (!db) return Ok();
  {
    PEDIGREE_ASSIGN(q, db->Prepare("ROLLBACK TO pedigree"));
    PEDIGREE_TRY(q->Run());
  }
  PEDIGREE_ASSIGN(q, db->Prepare("RELEASE pedigree"));
  return q->Run();
}

}  // namespace sql

Result<sql::Connection> OpenSqliteReadOnly(const std::string& path) {
  return sql::Connection::Open(path, {.read_only = true, .busy_timeout_ms = 5000});
}

}  // namespace pedigree::log
