#include "pedigree/log/pg.h"

#include <cstring>

namespace pedigree::log::pg {
namespace {

// Type OIDs of the server's built-in types (pg_type.dat); stable across versions.
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kTextArrayOid = 1009;

using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

template <typename T>
void PutBigEndian(std::string& out, T v) {
  using U = std::make_unsigned_t<T>;
  const U u = static_cast<U>(v);
  for (int shift = (sizeof(T) - 1) * 8; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((u >> shift) & 0xff));
  }
}

std::string Trimmed(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\t') c = ' ';
  }
  return out;
}

// The first 60 characters of `sql` on one line, for messages.
std::string Shown(std::string_view sql) {
  while (!sql.empty() && (sql.front() == '\n' || sql.front() == ' ')) sql.remove_prefix(1);
  std::string shown = Trimmed(sql.substr(0, 60));
  if (sql.size() > 60) shown += "...";
  return shown;
}

std::string ServerOf(PGconn* conn) {
  if (!conn) return "(no connection)";
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* db = PQdb(conn);
  std::string h = host && *host ? host : "localhost";
  std::string p = port && *port ? port : "5432";
  std::string where = h.front() == '/' ? "socket " + h + "/.s.PGSQL." + p : h + ":" + p;
  if (db && *db) where += " database " + std::string(db);
  return where;
}

bool ConnectionLost(PGconn* conn, std::string_view sqlstate) {
  return !conn || PQstatus(conn) == CONNECTION_BAD || sqlstate.starts_with("08") ||
         sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03";
}

}  // namespace

Params& Params::Add(Oid type, const char* data, size_t length) {
  types_.push_back(type);
  // A null value pointer would bind SQL NULL; an empty value is "" instead.
  values_.push_back(data ? data : "");
  lengths_.push_back(static_cast<int>(length));
  formats_.push_back(1);
  return *this;
}

Params& Params::Int(int64_t v) {
  std::string be;
  PutBigEndian(be, v);
  auto& slot = numbers_.emplace_back();
  std::memcpy(slot.data(), be.data(), 8);
  return Add(kInt8Oid, slot.data(), 8);
}

Params& Params::Int16(int16_t v) {
  std::string be;
  PutBigEndian(be, v);
  auto& slot = numbers_.emplace_back();
  std::memcpy(slot.data(), be.data(), 2);
  return Add(kInt2Oid, slot.data(), 2);
}

Params& Params::Bytes(std::span<const uint8_t> v) {
  return Add(kByteaOid, reinterpret_cast<const char*>(v.data()), v.size());
}

Params& Params::Text(std::string_view v) { return Add(kTextOid, v.data(), v.size()); }

// The binary array format (array_send): dimensions, null flag, element type, then per
// dimension its length and lower bound, then each element as a length and its bytes.
Params& Params::TextArray(std::span<const std::string_view> v) {
  std::string& b = buffers_.emplace_back();
  PutBigEndian<int32_t>(b, v.empty() ? 0 : 1);
  PutBigEndian<int32_t>(b, 0);
  PutBigEndian<int32_t>(b, static_cast<int32_t>(kTextOid));
  if (!v.empty()) {
    PutBigEndian<int32_t>(b, static_cast<int32_t>(v.size()));
    PutBigEndian<int32_t>(b, 1);
  }
  for (std::string_view s : v) {
    PutBigEndian<int32_t>(b, static_cast<int32_t>(s.size()));
    b.append(s);
  }
  return Add(kTextArrayOid, b.data(), b.size());
}

Result<int64_t> Rows::Int(int row, int col) const {
  PGresult* r = r_.get();
  if (PQgetisnull(r, row, col)) {
    return Fail("storage.corrupt", "column " + std::string(PQfname(r, col)) + " is NULL");
  }
  const Oid type = PQftype(r, col);
  const int len = PQgetlength(r, row, col);
  const auto* p = reinterpret_cast<const uint8_t*>(PQgetvalue(r, row, col));
  const int want = type == kInt8Oid ? 8 : type == kInt4Oid ? 4 : type == kInt2Oid ? 2 : -1;
  if (want < 0 || len != want) {
    return Fail("storage.corrupt", "column " + std::string(PQfname(r, col)) + " of type " +
                                       std::to_string(type) + " with " + std::to_string(len) +
                                       " bytes is not an integer");
  }
  uint64_t u = 0;
  for (int i = 0; i < len; ++i) u = (u << 8) | p[i];
  // Sign-extend the narrower types.
  if (len < 8 && (p[0] & 0x80)) u |= ~uint64_t{0} << (len * 8);
  return static_cast<int64_t>(u);
}

std::span<const uint8_t> Rows::Bytes(int row, int col) const {
  PGresult* r = r_.get();
  if (PQgetisnull(r, row, col)) return {};
  return {reinterpret_cast<const uint8_t*>(PQgetvalue(r, row, col)),
          static_cast<size_t>(PQgetlength(r, row, col))};
}

std::string Rows::Text(int row, int col) const {
  const auto b = Bytes(row, col);
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

int64_t Rows::Affected() const {
  const char* n = PQcmdTuples(r_.get());
  return n && *n ? std::stoll(n) : 0;
}

CopyBuffer::CopyBuffer() {
  static constexpr char kSignature[] = "PGCOPY\n\377\r\n";  // + the implicit NUL: 11 bytes
  buf_.append(kSignature, sizeof(kSignature));
  PutBigEndian<int32_t>(buf_, 0);  // flags: no OIDs
  PutBigEndian<int32_t>(buf_, 0);  // header extension length
}

CopyBuffer& CopyBuffer::Row(int16_t fields) {
  PutBigEndian(buf_, fields);
  ++rows_;
  return *this;
}

CopyBuffer& CopyBuffer::Int(int64_t v) {
  PutBigEndian<int32_t>(buf_, 8);
  PutBigEndian(buf_, v);
  return *this;
}

CopyBuffer& CopyBuffer::Int16(int16_t v) {
  PutBigEndian<int32_t>(buf_, 2);
  PutBigEndian(buf_, v);
  return *this;
}

CopyBuffer& CopyBuffer::Bytes(std::span<const uint8_t> v) {
  PutBigEndian(buf_, static_cast<int32_t>(v.size()));
  buf_.append(reinterpret_cast<const char*>(v.data()), v.size());
  return *this;
}

std::string CopyBuffer::Finish() && {
  PutBigEndian<int16_t>(buf_, -1);
  return std::move(buf_);
}

Error PgError(PGconn* conn, const PGresult* r, std::string_view sql) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state ? state : "";
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string why = Trimmed(primary ? primary : conn ? PQerrorMessage(conn) : "no connection");
  if (const char* detail = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : nullptr) {
    why += " (" + Trimmed(detail) + ")";
  }
  if (!sqlstate.empty()) why += " [SQLSTATE " + sqlstate + "]";
  const std::string step = "SQL '" + Shown(sql) + "' failed: " + why;
  if (ConnectionLost(conn, sqlstate)) {
    return Error("storage.unavailable",
                 "PostgreSQL server at " + ServerOf(conn) + " is unavailable: " + step);
  }
  if (sqlstate == "53100") {
    // disk_full: nothing of the failed transaction is kept; the same write succeeds once
    // the server has room again.
    return Error("storage.full",
                 "no space left on the PostgreSQL server at " + ServerOf(conn) + ": " + step);
  }
  // Raised by the fencing trigger (postgres_storage.cpp): another session holds the
  // sequencer lease, so this session's node is no longer the leader.
  if (sqlstate == "PD001") return Error("cluster.fenced", step);
  if (sqlstate.starts_with("23")) return Error("storage.constraint", step);
  if (sqlstate == "XX001" || sqlstate == "XX002") return Error("storage.corrupt", step);
  return Error("storage.io", step);
}

Result<Connection> Connection::Open(const std::string& conninfo, const char* session_script) {
  char* parse_error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &parse_error);
  if (!options) {
    const std::string why = parse_error ? Trimmed(parse_error) : "out of memory";
    PQfreemem(parse_error);
    return Fail("storage.invalid_argument",
                "the PostgreSQL connection string is not valid: " + why);
  }
  PQconninfoFree(options);
  Connection db(PQconnectdb(conninfo.c_str()));
  if (!db.conn_) return Fail("storage.unavailable", "cannot allocate a PostgreSQL connection");
  if (PQstatus(db.get()) != CONNECTION_OK) {
    return Fail("storage.unavailable", "cannot connect to the PostgreSQL server at " +
                                           ServerOf(db.get()) + ": " +
                                           Trimmed(PQerrorMessage(db.get())));
  }
  // Notices (e.g. "relation already exists, skipping") would go to stderr.
  PQsetNoticeProcessor(
      db.get(), [](void*, const char*) {}, nullptr);
  db.session_script_ = session_script;
  PEDIGREE_TRY(db.ApplySession());
  return db;
}

std::string Connection::Where() const { return ServerOf(conn_.get()); }

Status Connection::ApplySession() {
  if (!session_script_) return Ok();
  ResultPtr r(PQexec(conn_.get(), session_script_));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return std::unexpected(PgError(conn_.get(), r.get(), session_script_));
  }
  return Ok();
}

Status Connection::EnsureConnected() {
  if (PQstatus(conn_.get()) == CONNECTION_OK) return Ok();
  if (in_transaction_) {
    // The transaction is gone with the session; a new session must not carry on its work.
    return Fail("storage.unavailable",
                "lost the connection to the PostgreSQL server at " + Where() +
                    " inside a transaction: " + Trimmed(PQerrorMessage(conn_.get())));
  }
  PQreset(conn_.get());
  prepared_.clear();
  if (PQstatus(conn_.get()) != CONNECTION_OK) {
    return Fail("storage.unavailable",
                "lost the connection to the PostgreSQL server at " + Where() +
                    " and cannot reconnect: " + Trimmed(PQerrorMessage(conn_.get())));
  }
  return ApplySession();
}

Result<Rows> Connection::Exec(const char* text, const Params& params) {
  PEDIGREE_TRY(EnsureConnected());
  auto it = prepared_.find(text);
  if (it == prepared_.end()) {
    std::string name = "pedigree_" + std::to_string(prepared_.size());
    ResultPtr r(PQprepare(conn_.get(), name.c_str(), text, params.size(), params.types()));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return std::unexpected(PgError(conn_.get(), r.get(), std::string("prepare ") + text));
    }
    it = prepared_.emplace(text, std::move(name)).first;
  }
  PGresult* r = PQexecPrepared(conn_.get(), it->second.c_str(), params.size(), params.values(),
                               params.lengths(), params.formats(), /*resultFormat=*/1);
  Rows rows(r);
  const ExecStatusType status = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return std::unexpected(PgError(conn_.get(), r, text));
  }
  return rows;
}

Status Connection::Script(const char* text) {
  PEDIGREE_TRY(EnsureConnected());
  ResultPtr r(PQexec(conn_.get(), text));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
    return std::unexpected(PgError(conn_.get(), r.get(), text));
  }
  return Ok();
}

Status Connection::CopyIn(const char* copy, const std::string& data) {
  PEDIGREE_TRY(EnsureConnected());
  PGconn* conn = conn_.get();
  {
    ResultPtr r(PQexec(conn, copy));
    if (!r || PQresultStatus(r.get()) != PGRES_COPY_IN) {
      return std::unexpected(PgError(conn, r.get(), copy));
    }
  }
  Status sent = Ok();
  constexpr size_t kChunk = 1 << 20;
  for (size_t at = 0; at < data.size() && sent; at += kChunk) {
    const size_t n = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn, data.data() + at, static_cast<int>(n)) != 1) {
      sent = std::unexpected(PgError(conn, nullptr, copy));
    }
  }
  if (PQputCopyEnd(conn, sent ? nullptr : "the client could not send the rows") != 1 && sent) {
    sent = std::unexpected(PgError(conn, nullptr, copy));
  }
  // Drain every result, keeping the first failure (a unique violation arrives here).
  while (PGresult* raw = PQgetResult(conn)) {
    ResultPtr r(raw);
    if (PQresultStatus(raw) != PGRES_COMMAND_OK && sent) {
      sent = std::unexpected(PgError(conn, raw, copy));
    }
  }
  return sent;
}

Result<Transaction> Transaction::Begin(Connection& db) {
  PEDIGREE_TRY(db.Script("BEGIN"));
  db.in_transaction_ = true;
  return Transaction(db);
}

Status Transaction::Commit() {
  PGconn* conn = db_->get();
  ResultPtr r(PQexec(conn, "COMMIT"));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    return std::unexpected(PgError(conn, r.get(), "COMMIT"));
  }
  const std::string_view tag = PQcmdStatus(r.get());
  db_->in_transaction_ = false;
  db_ = nullptr;
  if (tag != "COMMIT") {
    // A statement failed inside the transaction and the caller went on regardless.
    return Fail("storage.io", "SQL 'COMMIT' failed: the server rolled the transaction back (" +
                                  std::string(tag) + ")");
  }
  return Ok();
}

void Transaction::Rollback() {
  if (!db_) return;
  if (PQstatus(db_->get()) == CONNECTION_OK) {
    ResultPtr r(PQexec(db_->get(), "ROLLBACK"));
  }
  db_->in_transaction_ = false;
  db_ = nullptr;
}

}  // namespace pedigree::log::pg
