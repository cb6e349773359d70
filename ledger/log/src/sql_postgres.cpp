// The PostgreSQL side of sql::Connection and sql::Query (sql.h): statements written once
// in the SQL both backends accept, translated (?N -> $N) once when first prepared and
// cached per connection; parameters sent in binary with explicit types; rows read as text
// and converted by the column readers the way SQLite converts. Dialect rules:
// docs/storage.md ("One SQL for two backends").
#include <libpq-fe.h>

#include <atomic>
#include <charconv>
#include <cstring>
#include <deque>
#include <vector>

#include "pedigree/log/pg.h"
#include "pedigree/log/sql.h"

namespace pedigree::log::sql {
namespace {

// Type OIDs of the parameters we send (pg_type.h).
constexpr Oid kInt8 = 20;
constexpr Oid kText = 25;
constexpr Oid kBytea = 17;
constexpr Oid kBool = 16;

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// Statement names unique in the process, so that several Connections borrowing one PGconn
// (and its owner, pg::Connection, whose names are "pedigree_N") never collide.
std::string NextStatementName() {
  static std::atomic<uint64_t> next{0};
  return "sql_" + std::to_string(next.fetch_add(1, std::memory_order_relaxed));
}

bool IsWordChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// SQLite's hex() and quote() as PostgreSQL functions giving the very same text (upper-case
// hex; 'text' with '' for a quote, integers bare, X'…' blobs, NULL), so that statements
// that render values with them (the registry seal's row texts) are written once.
// CREATE OR REPLACE: idempotent, run under the schema's first ExecSchema of a session.
constexpr const char* kSqliteFunctions = R"sql(
CREATE OR REPLACE FUNCTION hex(b bytea) RETURNS text LANGUAGE sql IMMUTABLE STRICT
  AS $$ SELECT upper(encode(b, 'hex')) $$;
CREATE OR REPLACE FUNCTION quote(t text) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN t IS NULL THEN 'NULL' ELSE '''' || replace(t, '''', '''''') || '''' END $$;
CREATE OR REPLACE FUNCTION quote(i bigint) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN i IS NULL THEN 'NULL' ELSE i::text END $$;
CREATE OR REPLACE FUNCTION quote(b bytea) RETURNS text LANGUAGE sql IMMUTABLE
  AS $$ SELECT CASE WHEN b IS NULL THEN 'NULL' ELSE 'X''' || upper(encode(b, 'hex')) || '''' END $$;
)sql";

}  // namespace

class PgSession {
 public:
  // Owned: the connection is kept here. Borrowed: `conn` outlives the session.
  explicit PgSession(pg::Connection owned)
      : owned_(std::make_unique<pg::Connection>(std::move(owned))), conn_(owned_->get()) {}
  explicit PgSession(PGconn* conn) : conn_(conn) {}

  PGconn* conn() const { return conn_; }
  int64_t changes = 0;
  bool have_functions = false;  // kSqliteFunctions defined in this session's database

  Result<PgStatement*> Get(const char* text);

 private:
  std::unique_ptr<pg::Connection> owned_;
  PGconn* conn_;
  // The server session the cached statements were prepared in: a reset connection has
  // lost them (pg::Connection reconnects between transactions).
  int backend_pid_ = 0;
  std::unordered_map<const char*, std::unique_ptr<PgStatement>> cache_;
};

struct PgStatement {
  PgSession* session = nullptr;
  const char* text = nullptr;  // as written, for messages
  std::string sql;             // with $N placeholders
  int params = 0;
  // Server-side names by parameter type signature (one char per parameter: i t b n).
  std::vector<std::pair<std::string, std::string>> prepared;

  // The current execution: bound parameters, then its rows.
  std::vector<Oid> types;
  std::vector<std::string> values;
  std::vector<char> bound;
  ResultPtr rows;
  int row = -1;
  int row_count = 0;
  bool ran = false;
  // Blobs decoded from the current row's text (bytea hex), valid until the next Step.
  mutable std::deque<std::vector<uint8_t>> blobs;

  void Clear() {
    std::fill(bound.begin(), bound.end(), 0);
    rows.reset();
    row = -1;
    row_count = 0;
    ran = false;
    blobs.clear();
  }
  void Set(int i, Oid type, std::string value) {
    // Out-of-range positions are ignored here; the server refuses the statement.
    if (i < 1 || i > params) return;
    types[i - 1] = type;
    values[i - 1] = std::move(value);
    bound[i - 1] = 1;
  }
};

Result<PgStatement*> PgSession::Get(const char* text) {
  const int pid = PQbackendPID(conn_);
  if (pid != backend_pid_) {
    cache_.clear();
    backend_pid_ = pid;
  }
  auto it = cache_.find(text);
  if (it == cache_.end()) {
    auto stmt = std::make_unique<PgStatement>();
    stmt->session = this;
    stmt->text = text;
    stmt->sql = PostgresPlaceholders(text, &stmt->params);
    stmt->types.assign(stmt->params, 0);
    stmt->values.assign(stmt->params, {});
    stmt->bound.assign(stmt->params, 0);
    it = cache_.emplace(text, std::move(stmt)).first;
  }
  return it->second.get();
}

std::string SchemaFor(Dialect dialect, std::string_view ddl) {
  if (dialect == Dialect::kSqlite) return std::string(ddl);
  std::string out;
  out.reserve(ddl.size() + ddl.size() / 8);
  size_t i = 0;
  while (i < ddl.size()) {
    if (!IsWordChar(ddl[i])) {
      // Comments pass through untouched.
      if (ddl.compare(i, 2, "--") == 0) {
        const size_t end = ddl.find('\n', i);
        const size_t stop = end == std::string_view::npos ? ddl.size() : end;
        out.append(ddl.substr(i, stop - i));
        i = stop;
        continue;
      }
      out.push_back(ddl[i++]);
      continue;
    }
    size_t j = i;
    while (j < ddl.size() && IsWordChar(ddl[j])) ++j;
    const std::string_view word = ddl.substr(i, j - i);
    if (word == "INTEGER") {
      out += "BIGINT";  // SQLite integers are 64-bit
    } else if (word == "BLOB") {
      out += "BYTEA";
    } else if (word == "WITHOUT" && ddl.substr(j).starts_with(" ROWID")) {
      j += 6;  // PostgreSQL tables are heaps either way
      while (!out.empty() && out.back() == ' ') out.pop_back();
    } else {
      out.append(word);
    }
    i = j;
  }
  return out;
}

std::string PostgresPlaceholders(std::string_view text, int* params) {
  std::string out;
  out.reserve(text.size() + 8);
  int highest = 0;
  int sequential = 0;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\'' || c == '"') {
      // A quoted string or identifier ('' or "" inside is the quote itself).
      size_t j = i + 1;
      while (j < text.size()) {
        if (text[j] == c) {
          if (j + 1 < text.size() && text[j + 1] == c) {
            j += 2;
            continue;
          }
          break;
        }
        ++j;
      }
      const size_t stop = std::min(j + 1, text.size());
      out.append(text.substr(i, stop - i));
      i = stop;
    } else if (c == '-' && text.compare(i, 2, "--") == 0) {
      const size_t end = text.find('\n', i);
      const size_t stop = end == std::string_view::npos ? text.size() : end;
      out.append(text.substr(i, stop - i));
      i = stop;
    } else if (c == '?') {
      size_t j = i + 1;
      int n = 0;
      while (j < text.size() && text[j] >= '0' && text[j] <= '9') n = n * 10 + (text[j++] - '0');
      if (j == i + 1) n = ++sequential;  // bare ?: the next number, as SQLite counts
      highest = std::max(highest, n);
      out += '$';
      out += std::to_string(n);
      i = j;
    } else {
      out.push_back(c);
      ++i;
    }
  }
  if (params) *params = highest;
  return out;
}

Result<Connection> Connection::OpenPostgres(const std::string& conninfo) {
  PEDIGREE_ASSIGN(conn, pg::Connection::Open(conninfo));
  return Connection(std::make_shared<PgSession>(std::move(*conn)));
}

Connection::Connection(PGconn* conn) : pg_(std::make_shared<PgSession>(conn)) {}

PGconn* Connection::pg() const { return pg_ ? pg_->conn() : nullptr; }

Result<Query> Connection::PgPrepare(const char* text) {
  PEDIGREE_ASSIGN(stmt, pg_->Get(text));
  (*stmt)->Clear();
  return Result<Query>(std::in_place, *stmt, text);
}

Status Connection::ExecSchema(const char* ddl) {
  if (!pg_) return Exec(ddl);
  if (!pg_->have_functions) {
    PEDIGREE_TRY(PgExec(kSqliteFunctions));
    pg_->have_functions = true;
  }
  return PgExec(SchemaFor(Dialect::kPostgres, ddl).c_str());
}

Status Connection::PgExec(const char* text) {
  ResultPtr r(PQexec(pg_->conn(), text));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
    return std::unexpected(pg::PgError(pg_->conn(), r.get(), text));
  }
  return Ok();
}

int64_t Connection::PgChanges() const { return pg_->changes; }

bool Connection::PgInTransaction() const {
  const PGTransactionStatusType st = PQtransactionStatus(pg_->conn());
  return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

void Query::PgReset() { pg_->Clear(); }

Query& Query::PgBindInt(int i, int64_t v) {
  std::string be(8, '\0');
  for (int k = 7; k >= 0; --k) {
    be[k] = static_cast<char>(v & 0xff);
    v = static_cast<int64_t>(static_cast<uint64_t>(v) >> 8);
  }
  pg_->Set(i, kInt8, std::move(be));
  return *this;
}

Query& Query::PgBindNull(int i) {
  pg_->Set(i, 0, {});
  if (i >= 1 && i <= pg_->params) pg_->bound[i - 1] = 2;
  return *this;
}

Query& Query::PgBindText(int i, std::string_view v, bool blob) {
  pg_->Set(i, blob ? kBytea : kText, std::string(v.data() ? v.data() : "", v.size()));
  return *this;
}

Result<bool> Query::PgStep() {
  PgStatement& s = *pg_;
  s.blobs.clear();
  if (s.ran) {
    if (s.row < s.row_count) ++s.row;
    return s.row < s.row_count;
  }
  PGconn* conn = s.session->conn();
  // Unbound parameters are NULL, as in SQLite; NULLs go untyped for the server to infer.
  std::string signature(s.params, 'n');
  std::vector<Oid> types(s.params, 0);
  std::vector<const char*> values(s.params, nullptr);
  std::vector<int> lengths(s.params, 0);
  std::vector<int> formats(s.params, 1);
  for (int k = 0; k < s.params; ++k) {
    if (s.bound[k] != 1) continue;
    types[k] = s.types[k];
    signature[k] = s.types[k] == kInt8 ? 'i' : s.types[k] == kBytea ? 'b' : 't';
    values[k] = s.values[k].data();
    lengths[k] = static_cast<int>(s.values[k].size());
  }
  const std::string* name = nullptr;
  for (const auto& [sig, n] : s.prepared) {
    if (sig == signature) name = &n;
  }
  if (!name) {
    std::string fresh = NextStatementName();
    ResultPtr r(PQprepare(conn, fresh.c_str(), s.sql.c_str(), s.params, types.data()));
    if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
      return std::unexpected(pg::PgError(conn, r.get(), std::string("prepare ") + s.text));
    }
    s.prepared.emplace_back(signature, std::move(fresh));
    name = &s.prepared.back().second;
  }
  ResultPtr r(PQexecPrepared(conn, name->c_str(), s.params, values.data(), lengths.data(),
                             formats.data(), /*resultFormat=*/0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    return std::unexpected(pg::PgError(conn, r.get(), s.text));
  }
  const std::string_view tag = PQcmdStatus(r.get());
  if (tag.starts_with("INSERT") || tag.starts_with("UPDATE") || tag.starts_with("DELETE")) {
    const char* n = PQcmdTuples(r.get());
    s.session->changes = n && *n ? std::strtoll(n, nullptr, 10) : 0;
  }
  s.ran = true;
  s.row_count = st == PGRES_TUPLES_OK ? PQntuples(r.get()) : 0;
  s.row = 0;
  s.rows = std::move(r);
  return s.row < s.row_count;
}

bool Query::PgIsNull(int col) const {
  const PgStatement& s = *pg_;
  if (!s.rows || s.row >= s.row_count || col >= PQnfields(s.rows.get())) return true;
  return PQgetisnull(s.rows.get(), s.row, col) != 0;
}

int64_t Query::PgInt(int col) const {
  if (PgIsNull(col)) return 0;
  const PgStatement& s = *pg_;
  const char* v = PQgetvalue(s.rows.get(), s.row, col);
  if (PQftype(s.rows.get(), col) == kBool) return v[0] == 't' ? 1 : 0;
  int64_t out = 0;
  // Like SQLite: the leading integer of the text, 0 when there is none.
  std::from_chars(v, v + std::strlen(v), out);
  return out;
}

std::string Query::PgText(int col) const {
  if (PgIsNull(col)) return {};
  const PgStatement& s = *pg_;
  if (PQftype(s.rows.get(), col) == kBytea) {
    auto b = PgBlob(col);
    return std::string(reinterpret_cast<const char*>(b.data()), b.size());
  }
  return std::string(PQgetvalue(s.rows.get(), s.row, col),
                     static_cast<size_t>(PQgetlength(s.rows.get(), s.row, col)));
}

std::span<const uint8_t> Query::PgBlob(int col) const {
  if (PgIsNull(col)) return {};
  const PgStatement& s = *pg_;
  const char* v = PQgetvalue(s.rows.get(), s.row, col);
  const size_t n = static_cast<size_t>(PQgetlength(s.rows.get(), s.row, col));
  if (PQftype(s.rows.get(), col) != kBytea) {
    return {reinterpret_cast<const uint8_t*>(v), n};
  }
  // bytea in text form: "\x" then two hex digits a byte (bytea_output = hex, the default).
  std::vector<uint8_t> bytes;
  if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
    bytes.reserve((n - 2) / 2);
    for (size_t k = 2; k + 1 < n; k += 2) {
      const int hi = HexValue(v[k]);
      const int lo = HexValue(v[k + 1]);
      if (hi < 0 || lo < 0) break;
      bytes.push_back(static_cast<uint8_t>(hi * 16 + lo));
    }
  }
  s.blobs.push_back(std::move(bytes));
  return s.blobs.back();
}

}  // namespace pedigree::log::sql

namespace pedigree::log {

bool IsPostgresUrl(std::string_view storage) {
  return storage.starts_with("postgresql://") || storage.starts_with("postgres://");
}

Result<sql::Connection> OpenReadOnly(const std::string& storage) {
  if (!IsPostgresUrl(storage)) return OpenSqliteReadOnly(storage);
  PEDIGREE_ASSIGN(db, sql::Connection::OpenPostgres(storage));
  // A view's statements only read; the server refuses a write that slips in.
  PEDIGREE_TRY(db->Exec("SET default_transaction_read_only = on"));
  return std::move(*db);
}

}  // namespace pedigree::log
