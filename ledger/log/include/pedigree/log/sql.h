// The one SQL layer of pedigree, written once for two backends: SQLite (inline, the hot path
// unchanged: one predictable branch per call) and PostgreSQL (libpq, extended protocol,
// out of line in sql_postgres.cpp). Move-only owners of an SQLite connection and of a
// prepared statement, a Connection that prepares each statement once and caches it, a Query
// (one execution of a cached statement: bind by position, step, read columns), and
// transactions and savepoints that roll back unless committed. The SQL dialect both accept
// (placeholders ?N, ON CONFLICT, RETURNING, DDL through ExecSchema):
// ../../../../docs/storage.md ("One SQL for two backends"). Every SQLite failure becomes
// an Error naming the SQL that failed: storage.corrupt for SQLITE_CORRUPT / SQLITE_NOTADB,
// storage.full for SQLITE_FULL (naming the database file), storage.io otherwise; PostgreSQL
// failures as pg::PgError classifies them (pg.h). Not thread-safe: a
// Connection is used by one thread at a time (its owner's lock or one per thread).
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "pedigree/base/error.h"

// libpq's connection type, without its header (every includer would need libpq's).
typedef struct pg_conn PGconn;

namespace pedigree::log {

// Move-only owner of an sqlite3 connection; closes it on destruction.
class SqliteDb {
 public:
  SqliteDb() = default;
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  SqliteDb(SqliteDb&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  SqliteDb& operator=(SqliteDb&& other) noexcept {
    if (this != &other) {
      if (db_) sqlite3_close_v2(db_);
      db_ = std::exchange(other.db_, nullptr);
    }
    return *this;
  }
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb() {
    if (db_) sqlite3_close_v2(db_);
  }
  sqlite3* get() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

// Move-only owner of a prepared statement; finalizes it on destruction.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& other) noexcept : stmt_(std::exchange(other.stmt_, nullptr)) {}
  SqliteStatement& operator=(SqliteStatement&& other) noexcept {
    if (this != &other) {
      if (stmt_) sqlite3_finalize(stmt_);
      stmt_ = std::exchange(other.stmt_, nullptr);
    }
    return *this;
  }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement() {
    if (stmt_) sqlite3_finalize(stmt_);
  }
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

namespace sql {

enum class Dialect { kSqlite, kPostgres };

// One cached PostgreSQL statement and its current execution (sql_postgres.cpp).
struct PgStatement;
// The PostgreSQL side of a Connection: its connection and statement cache.
class PgSession;

// The Error for SQLite result code `rc` of the SQL `step` on `db` (may be null):
// storage.corrupt for SQLITE_CORRUPT and SQLITE_NOTADB, storage.full for SQLITE_FULL (the
// message names the database file), storage.io otherwise; the message names the step (its first 60
// characters), SQLite's reason and the code.
[[nodiscard]] Error SqlError(sqlite3* db, int rc, std::string_view step);

// One execution of a cached statement: bind, then step. Resets the statement and clears
// its bindings when destroyed, so the next Prepare of the same text starts afresh.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt, const char* text) : db_(db), stmt_(stmt), text_(text) {}
  // A PostgreSQL statement: every call below dispatches to its out-of-line twin.
  Query(PgStatement* pg, const char* text) : db_(nullptr), stmt_(nullptr), text_(text), pg_(pg) {}
  Query(Query&& other) noexcept
      : db_(other.db_),
        stmt_(std::exchange(other.stmt_, nullptr)),
        text_(other.text_),
        pg_(std::exchange(other.pg_, nullptr)) {}
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() {
    if (stmt_ || pg_) Reset();
  }

  // Rewinds the statement and clears its bindings, to run it again with new ones (a loop
  // of inserts prepares once).
  void Reset() {
    if (pg_) [[unlikely]] {
      PgReset();
      return;
    }
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  // Binding copies text and blobs, so temporaries are safe. Empty text binds '' and an
  // empty blob x'', never NULL; NULL is only ever bound on purpose.
  Query& Bind(int i, std::string_view v) { return BindText(i, v, SQLITE_TRANSIENT); }
  Query& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Query& Bind(int i, int64_t v) {
    if (pg_) [[unlikely]]
      return PgBindInt(i, v);
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Query& Bind(int i, std::span<const uint8_t> v) { return BindBlob(i, v, SQLITE_TRANSIENT); }
  Query& BindNull(int i) {
    if (pg_) [[unlikely]]
      return PgBindNull(i);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Query& BindOptional(int i, const std::optional<int64_t>& v) {
    return v ? Bind(i, *v) : BindNull(i);
  }
  Query& BindTextOrNull(int i, std::string_view v) { return v.empty() ? BindNull(i) : Bind(i, v); }
  // Without a copy, for hot paths: `v` must stay alive and unchanged until this Query is
  // reset or destroyed.
  Query& BindUncopied(int i, std::string_view v) { return BindText(i, v, SQLITE_STATIC); }
  Query& BindUncopied(int i, std::span<const uint8_t> v) { return BindBlob(i, v, SQLITE_STATIC); }

  // A row is available (true), no more rows (false), or an error.
  [[nodiscard]] Result<bool> Step() {
    if (pg_) [[unlikely]]
      return PgStep();
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return std::unexpected(SqlError(db_, rc, text_));
  }
  // Steps once, for statements that return no rows (or whose rows are not wanted).
  [[nodiscard]] Status Run() {
    auto r = Step();
    if (!r) return std::unexpected(std::move(r).error());
    return Ok();
  }
  // Steps to the end, calling `row(*this)` for every row; `row` returns void or a Status,
  // and a failed Status stops the loop and is returned.
  template <typename Row>
  [[nodiscard]] Status ForEachRow(Row&& row) {
    while (true) {
      auto more = Step();
      if (!more) return std::unexpected(std::move(more).error());
      if (!*more) return Ok();
      if constexpr (std::is_void_v<std::invoke_result_t<Row&, const Query&>>) {
        row(static_cast<const Query&>(*this));
      } else {
        if (auto st = row(static_cast<const Query&>(*this)); !st) return st;
      }
    }
  }

  // Columns of the current row, 0-based.
  int64_t Int(int col) const {
    if (pg_) [[unlikely]]
      return PgInt(col);
    return sqlite3_column_int64(stmt_, col);
  }
  bool IsNull(int col) const {
    if (pg_) [[unlikely]]
      return PgIsNull(col);
    return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
  }
  std::optional<int64_t> OptionalInt(int col) const {
    return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col));
  }
  // "" for NULL.
  std::string Text(int col) const {
    if (pg_) [[unlikely]]
      return PgText(col);
    const unsigned char* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  // The bytes as stored (empty for NULL), valid until the next Step or the Query's end.
  std::span<const uint8_t> Blob(int col) const {
    if (pg_) [[unlikely]]
      return PgBlob(col);
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, col));
    return p ? std::span<const uint8_t>(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::span<const uint8_t>();
  }

 private:
  Query& BindText(int i, std::string_view v, sqlite3_destructor_type copy) {
    if (pg_) [[unlikely]]
      return PgBindText(i, v, /*blob=*/false);
    // A default string_view has a null data(), which SQLite would bind as NULL.
    sqlite3_bind_text(stmt_, i, v.data() ? v.data() : "", static_cast<int>(v.size()), copy);
    return *this;
  }
  Query& BindBlob(int i, std::span<const uint8_t> v, sqlite3_destructor_type copy) {
    if (pg_) [[unlikely]] {
      return PgBindText(i, {reinterpret_cast<const char*>(v.data()), v.size()}, /*blob=*/true);
    }
    sqlite3_bind_blob(stmt_, i, v.data() ? static_cast<const void*>(v.data()) : "",
                      static_cast<int>(v.size()), copy);
    return *this;
  }

  // The PostgreSQL twins (sql_postgres.cpp). Parameters are sent in binary with their
  // type (int8, text, bytea; NULL untyped, for the server to infer); rows come back as
  // text and are converted by the column readers as SQLite would.
  void PgReset();
  Query& PgBindInt(int i, int64_t v);
  Query& PgBindNull(int i);
  Query& PgBindText(int i, std::string_view v, bool blob);
  [[nodiscard]] Result<bool> PgStep();
  int64_t PgInt(int col) const;
  bool PgIsNull(int col) const;
  std::string PgText(int col) const;
  std::span<const uint8_t> PgBlob(int col) const;

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const char* text_;
  PgStatement* pg_ = nullptr;
};

struct OpenOptions {
  // Read-only connections serve one thread each (SQLITE_OPEN_NOMUTEX); read-write ones are
  // serialised by SQLite (SQLITE_OPEN_FULLMUTEX).
  bool read_only = false;
  // Create the file if missing (read-write only).
  bool create = false;
  // How long a statement waits for another connection's lock before failing.
  int busy_timeout_ms = 5000;
};

// A connection, owned (Open) or borrowed, with its statements prepared once and cached.
// Move-only; the cached statements are finalized before an owned connection closes.
class Connection {
 public:
  // Opens `path` with extended result codes. storage.io when it cannot be opened.
  [[nodiscard]] static Result<Connection> Open(const std::string& path, OpenOptions options);
  // Connects to PostgreSQL (`postgresql://…` or `key=value …`): storage.invalid_argument
  // for a malformed string, storage.unavailable naming the server it cannot reach (never
  // the password).
  [[nodiscard]] static Result<Connection> OpenPostgres(const std::string& conninfo);
  // Borrows `db`, which must outlive this Connection.
  explicit Connection(sqlite3* db) : db_(db) {}
  // No connection yet (SQLite), to be assigned one.
  explicit Connection(std::nullptr_t) {}
  // Borrows a PostgreSQL connection (e.g. PostgresStorage::connection().get() inside an
  // Append), which must outlive this Connection. Its statements are prepared under names
  // of their own, so they never collide with the owner's.
  explicit Connection(PGconn* conn);
  Connection(Connection&&) = default;
  Connection& operator=(Connection&& other) noexcept {
    if (this != &other) {
      cache_.clear();  // finalize our statements before our connection closes
      owned_ = std::move(other.owned_);
      db_ = std::exchange(other.db_, nullptr);
      cache_ = std::move(other.cache_);
      pg_ = std::move(other.pg_);
    }
    return *this;
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() = default;

  // The SQLite connection; null on PostgreSQL.
  sqlite3* get() const { return db_; }
  // The PostgreSQL connection; null on SQLite.
  PGconn* pg() const;
  Dialect dialect() const { return pg_ ? Dialect::kPostgres : Dialect::kSqlite; }

  // The cached statement for `text`, prepared on first use. `text` must stay alive and
  // unchanged as long as the Connection (statements are cached by its address): a string
  // literal or a static. One Query per statement at a time.
  [[nodiscard]] Result<Query> Prepare(const char* text) {
    if (pg_) [[unlikely]]
      return PgPrepare(text);
    auto it = cache_.find(text);
    if (it == cache_.end()) {
      PEDIGREE_ASSIGN(stmt, PrepareUncached(text));
      it = cache_.emplace(text, std::move(*stmt)).first;
    }
    return Result<Query>(std::in_place, db_, it->second.get(), text);
  }

  // Runs `text`, which may hold several statements (a schema, a pragma), without caching.
  [[nodiscard]] Status Exec(const char* text);
  [[nodiscard]] Status Exec(const std::string& text) { return Exec(text.c_str()); }
  // Runs a schema written in SQLite's DDL (CREATE TABLE/INDEX IF NOT EXISTS); on
  // PostgreSQL with INTEGER read as BIGINT, BLOB as BYTEA and WITHOUT ROWID dropped, and
  // SQLite's hex(blob) and quote(value) defined as functions giving the same text.
  [[nodiscard]] Status ExecSchema(const char* ddl);

  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const {
    if (pg_) [[unlikely]]
      return PgChanges();
    return sqlite3_changes64(db_);
  }
  // SQLite only (0 on PostgreSQL): portable SQL uses RETURNING.
  int64_t LastInsertRowid() const { return db_ ? sqlite3_last_insert_rowid(db_) : 0; }
  // Whether a transaction is open (SQLite may end one itself after some failures).
  bool InTransaction() const {
    if (pg_) [[unlikely]]
      return PgInTransaction();
    return sqlite3_get_autocommit(db_) == 0;
  }

 private:
  explicit Connection(SqliteDb owned) : owned_(std::move(owned)), db_(owned_.get()) {}
  explicit Connection(std::shared_ptr<PgSession> pg) : pg_(std::move(pg)) {}
  [[nodiscard]] Result<SqliteStatement> PrepareUncached(const char* text);
  [[nodiscard]] Result<Query> PgPrepare(const char* text);
  [[nodiscard]] Status PgExec(const char* text);
  int64_t PgChanges() const;
  bool PgInTransaction() const;

  SqliteDb owned_;  // empty when borrowed
  sqlite3* db_ = nullptr;
  // Declared after owned_ so that it is destroyed first.
  std::unordered_map<const char*, SqliteStatement> cache_;
  // Set on PostgreSQL (then db_ is null): the connection, owned or borrowed, and its
  // statements. Shared only so that its type may stay incomplete here.
  std::shared_ptr<PgSession> pg_;
};

// SQLite DDL (see ExecSchema) in `dialect`.
[[nodiscard]] std::string SchemaFor(Dialect dialect, std::string_view ddl);
// `text` with SQLite's ?N (and bare ?) placeholders as PostgreSQL's $N, outside quoted
// strings, identifiers and comments; `params` gets the highest parameter number.
[[nodiscard]] std::string PostgresPlaceholders(std::string_view text, int* params);

// BEGIN IMMEDIATE ... COMMIT on one Connection (through cached statements); rolls back when
// destroyed uncommitted. Move-only; the Connection must outlive it.
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() { (void)Rollback(); }

  // After a failed COMMIT the transaction is still open and the destructor rolls it back.
  [[nodiscard]] Status Commit();
  // Ends the transaction without its changes; a no-op once committed or rolled back.
  [[nodiscard]] Status Rollback();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}
  Connection* db_;
};

// A savepoint inside whatever transaction is open (or its own): Release keeps the changes,
// Rollback (or destruction before Release) undoes them and ends the savepoint. Nests.
// Move-only; the Connection must outlive it.
class Savepoint {
 public:
  [[nodiscard]] static Result<Savepoint> Begin(Connection& db);
  Savepoint(Savepoint&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Savepoint& operator=(Savepoint&&) = delete;
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  ~Savepoint() { (void)Rollback(); }

  [[nodiscard]] Status Release();
  // A no-op once released or rolled back.
  [[nodiscard]] Status Rollback();

 private:
  explicit Savepoint(Connection& db) : db_(&db) {}
  Connection* db_;
};

}  // namespace sql

// A read-only connection to an existing SQLite file, waiting up to 5 s on a lock, for
// readers that must never block the writer. storage.io when the file cannot be opened.
[[nodiscard]] Result<sql::Connection> OpenSqliteReadOnly(const std::string& path);

// Whether `storage` names a PostgreSQL database (`postgresql://…` or `postgres://…`) rather
// than an SQLite file.
[[nodiscard]] bool IsPostgresUrl(std::string_view storage);
// A reader's connection: OpenSqliteReadOnly for a file, a PostgreSQL connection in
// read-only transactions for a connection string (IsPostgresUrl). For views that must
// never write.
[[nodiscard]] Result<sql::Connection> OpenReadOnly(const std::string& storage);

}  // namespace pedigree::log
