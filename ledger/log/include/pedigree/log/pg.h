// The one libpq wrapper of pedigree: a move-only owner of a PGconn that prepares each
// statement once (binary parameters and binary results only; values never enter SQL
// text), a result owner with typed column readers, binary COPY for bulk inserts, and
// transactions that roll back unless committed. Every libpq failure becomes an Error
// naming the SQL that failed: storage.unavailable for a lost or refused connection
// (naming the server), storage.full for SQLSTATE 53100, storage.constraint for class 23,
// storage.corrupt for XX001/XX002, storage.io otherwise. Not thread-safe: a Connection is
// used by one thread at a time (its owner's lock). See ../../../../docs/merkle-log.md.
#pragma once

#include <libpq-fe.h>

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::log::pg {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct ConnDeleter {
  void operator()(PGconn* c) const { PQfinish(c); }
};

// Parameters of one statement, all sent in binary format with their type. Bytes and
// Text do not copy: the viewed data must stay alive until the statement has run.
class Params {
 public:
  Params() = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;

  Params& Int(int64_t v);                                  // int8
  Params& Int16(int16_t v);                                // int2
  Params& Bytes(std::span<const uint8_t> v);               // bytea
  Params& Text(std::string_view v);                        // text (UTF-8, no NUL)
  Params& TextArray(std::span<const std::string_view> v);  // text[] (copied)

  int size() const { return static_cast<int>(types_.size()); }
  const Oid* types() const { return types_.data(); }
  const char* const* values() const { return values_.data(); }
  const int* lengths() const { return lengths_.data(); }
  const int* formats() const { return formats_.data(); }

 private:
  Params& Add(Oid type, const char* data, size_t length);

  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::deque<std::array<char, 8>> numbers_;  // integers in network order; stable addresses
  std::deque<std::string> buffers_;          // encoded arrays; stable addresses
};

// The rows of a successful statement, binary format. Columns are 0-based.
class Rows {
 public:
  explicit Rows(PGresult* r) : r_(r) {}
  int size() const { return PQntuples(r_.get()); }
  bool IsNull(int row, int col) const { return PQgetisnull(r_.get(), row, col) != 0; }
  // int2, int4 or int8; storage.corrupt for anything else or NULL.
  [[nodiscard]] Result<int64_t> Int(int row, int col) const;
  // bytea or text as stored; empty for NULL. Valid while this object lives.
  std::span<const uint8_t> Bytes(int row, int col) const;
  std::string Text(int row, int col) const;
  // The command tag ("INSERT 0 1", "COMMIT", ...) and the rows it touched.
  std::string_view Command() const { return PQcmdStatus(r_.get()); }
  int64_t Affected() const;

 private:
  std::unique_ptr<PGresult, ResultDeleter> r_;
};

// Builds the payload of `COPY t(cols) FROM STDIN (FORMAT binary)`: header, rows, trailer.
class CopyBuffer {
 public:
  CopyBuffer();
  CopyBuffer& Row(int16_t fields);
  CopyBuffer& Int(int64_t v);
  CopyBuffer& Int16(int16_t v);
  CopyBuffer& Bytes(std::span<const uint8_t> v);
  CopyBuffer& Text(std::string_view v) {
    return Bytes({reinterpret_cast<const uint8_t*>(v.data()), v.size()});
  }
  size_t rows() const { return rows_; }
  // The whole payload, trailer included.
  std::string Finish() &&;

 private:
  std::string buf_;
  size_t rows_ = 0;
};

// The Error for a failed statement `sql` (r may be null when libpq returned none).
[[nodiscard]] Error PgError(PGconn* conn, const PGresult* r, std::string_view sql);

// A connection with its statements prepared once (cached by the address of their text).
// Reconnects (PQreset) before a statement when the connection was lost and no
// transaction was open; a transaction cut by a lost connection fails with
// storage.unavailable and is never resumed.
class Connection {
 public:
  // Connects with a libpq connection string (`postgresql://…` or `key=value …`).
  // storage.invalid_argument for a malformed string (the message never repeats it: it may
  // hold a password), storage.unavailable when the server cannot be reached.
  // `session_script` (a static, no values) runs after every connect, e.g. SET commands.
  [[nodiscard]] static Result<Connection> Open(const std::string& conninfo,
                                               const char* session_script = nullptr);
  Connection(Connection&&) = default;
  Connection& operator=(Connection&&) = default;

  PGconn* get() const { return conn_.get(); }
  // The server for messages: "socket /dir/.s.PGSQL.5432" or "host:port", and the database.
  std::string Where() const;

  // Runs the cached statement `text` (a literal or a static: it must outlive the
  // Connection) with binary parameters and binary results.
  [[nodiscard]] Result<Rows> Exec(const char* text, const Params& params = {});
  // Runs `text` without parameters (may hold several statements: a schema migration,
  // BEGIN, SET). Never put a value into `text`.
  [[nodiscard]] Status Script(const char* text);
  // `copy` is a `COPY … FROM STDIN (FORMAT binary)` statement; `data` its payload.
  [[nodiscard]] Status CopyIn(const char* copy, const std::string& data);

  // Whether a Transaction is open on this connection.
  bool InTransaction() const { return in_transaction_; }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}
  [[nodiscard]] Status EnsureConnected();
  [[nodiscard]] Status ApplySession();

  std::unique_ptr<PGconn, ConnDeleter> conn_;
  // Statement text address -> prepared statement name; cleared when the session is reset.
  std::unordered_map<const char*, std::string> prepared_;
  const char* session_script_ = nullptr;
  bool in_transaction_ = false;
  friend class Transaction;
};

// BEGIN … COMMIT on one Connection; rolls back when destroyed uncommitted. Commit checks
// that the server committed (a transaction left aborted answers COMMIT with ROLLBACK).
class Transaction {
 public:
  [[nodiscard]] static Result<Transaction> Begin(Connection& db);
  Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() { Rollback(); }

  [[nodiscard]] Status Commit();
  void Rollback();

 private:
  explicit Transaction(Connection& db) : db_(&db) {}
  Connection* db_;
};

}  // namespace pedigree::log::pg
