#include "pedigree/usecases/auth.h"

#include <openssl/crypto.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "pedigree/base/bytes.h"

namespace pedigree::services {
namespace {

constexpr std::string_view kTokenPrefix = "pdg_";
constexpr size_t kTokenIdBytes = 8;
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxCachedTokens = 100000;

struct ConnectionCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using OwnedConnection = std::unique_ptr<sqlite3, ConnectionCloser>;

std::unexpected<Error> SqliteFailure(sqlite3* db, const std::string& what) {
  return Fail("storage.sqlite", what + ": " + sqlite3_errmsg(db));
}

// A prepared statement, finalised on destruction.
class Statement {
 public:
  static Result<Statement> Prepare(sqlite3* db, std::string_view sql) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr) !=
        SQLITE_OK) {
      return SqliteFailure(db, "prepare");
    }
    return Statement(db, stmt);
  }
  Statement(Statement&& other) noexcept
      : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)) {}
  Statement& operator=(Statement&&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  void Bind(int index, std::string_view text) {
    sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void Bind(int index, const Hash& blob) {
    sqlite3_bind_blob(stmt_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  void Bind(int index, int64_t value) { sqlite3_bind_int64(stmt_, index, value); }

  // True when a row is available, false when done.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return SqliteFailure(db_, "step");
  }
  std::string Text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::span<const uint8_t> Blob(int column) const {
    const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, column));
    return {p, static_cast<size_t>(sqlite3_column_bytes(stmt_, column))};
  }
  // Makes the statement reusable: unbinds and rewinds it.
  void Reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  int64_t Int(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

Status Execute(sqlite3* db, std::string_view sql) {
  auto stmt = Statement::Prepare(db, sql);
  if (!stmt) return std::unexpected(stmt.error());
  auto row = stmt->Step();
  if (!row) return std::unexpected(row.error());
  return Ok();
}

std::string JoinRoles(const std::set<std::string>& roles) {
  std::string out;
  for (const auto& r : roles) {
    if (!out.empty()) out += ' ';
    out += r;
  }
  return out;
}

std::set<std::string> SplitRoles(const std::string& text) {
  std::set<std::string> roles;
  std::istringstream in(text);
  for (std::string r; in >> r;) roles.insert(r);
  return roles;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool IsLowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace

bool IsKnownRole(std::string_view role) {
  return std::find(std::begin(kRoles), std::end(kRoles), role) != std::end(kRoles);
}

struct TokenStore::State {
  OwnedConnection owned;  // Empty when attached to a caller's connection.
  sqlite3* db = nullptr;
  std::mutex mutex;
  // Authenticate runs on every request: preparing its query each time cost half the
  // throughput of a token-checked GET (bench/http_verify_chassis.cpp). Declared after
  // `owned` so it is finalised before the connection closes.
  std::optional<Statement> lookup;

  struct CachedToken {
    Hash secret_sha256;
    Principal principal;
    bool revoked = false;
    std::chrono::steady_clock::time_point read_at;
  };
  std::chrono::milliseconds cache_ttl{2000};
  std::unordered_map<std::string, CachedToken> cache;

  // Reads one row of api_tokens; nullopt when there is none. Caller holds `mutex`.
  Result<std::optional<CachedToken>> ReadToken(std::string_view token_id);
};

TokenStore::TokenStore(std::unique_ptr<State> state) : state_(std::move(state)) {}
TokenStore::~TokenStore() = default;

Result<std::unique_ptr<TokenStore>> TokenStore::Open(const std::string& db_path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(db_path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  OwnedConnection owned(raw);
  if (rc != SQLITE_OK) {
    return Fail("storage.sqlite", "cannot open '" + db_path +
                                      "': " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  }
  // Another process (the CLI revoking a token) may hold the write lock briefly.
  sqlite3_busy_timeout(raw, 5000);
  auto store = Attach(raw);
  if (!store) return store;
  (*store)->state_->owned = std::move(owned);
  return store;
}

Result<std::unique_ptr<TokenStore>> TokenStore::Attach(sqlite3* db) {
  auto created = Execute(db,
                         "CREATE TABLE IF NOT EXISTS api_tokens ("
                         " token_id TEXT PRIMARY KEY,"
                         " org_id TEXT NOT NULL,"
                         " roles TEXT NOT NULL,"
                         " label TEXT NOT NULL,"
                         " secret_sha256 BLOB NOT NULL,"
                         " created_at INTEGER NOT NULL,"
                         " revoked_at INTEGER)");
  if (!created) return std::unexpected(created.error());
  auto state = std::make_unique<State>();
  state->db = db;
  return std::unique_ptr<TokenStore>(new TokenStore(std::move(state)));
}

Result<std::string> TokenStore::Issue(const std::string& org_id, const std::set<std::string>& roles,
                                      const std::string& label) {
  if (org_id.empty()) return Fail(Error("token.invalid_org", "org_id is empty").at_field("org_id"));
  if (roles.empty()) {
    return Fail(Error("token.no_roles", "a token needs at least one role").at_field("roles"));
  }
  for (const auto& role : roles) {
    if (!IsKnownRole(role)) {
      return Fail(Error("token.unknown_role", "unknown role '" + role +
                                                  "'; known roles: manufacturer, wholesaler, "
                                                  "dispenser, sponsor, site, regulator, witness, "
                                                  "admin")
                      .at_field("roles"));
    }
  }
  std::array<uint8_t, kTokenIdBytes> id_bytes;
  std::array<uint8_t, kSecretBytes> secret_bytes;
  RandomBytes(id_bytes);
  RandomBytes(secret_bytes);
  const std::string token_id = ToHex(id_bytes);
  const std::string secret = ToHex(secret_bytes);

  std::lock_guard lock(state_->mutex);
  auto stmt = Statement::Prepare(state_->db,
                                 "INSERT INTO api_tokens (token_id, org_id, roles, label, "
                                 "secret_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  if (!stmt) return std::unexpected(stmt.error());
  stmt->Bind(1, token_id);
  stmt->Bind(2, org_id);
  stmt->Bind(3, JoinRoles(roles));
  stmt->Bind(4, label);
  stmt->Bind(5, Sha256(secret));
  stmt->Bind(6, NowSeconds());
  auto done = stmt->Step();
  if (!done) return std::unexpected(done.error());
  return std::string(kTokenPrefix) + token_id + "_" + secret;
}

Result<Principal> TokenStore::Authenticate(std::string_view bearer) {
  // Messages never echo the presented secret: they end up in logs.
  if (!bearer.starts_with(kTokenPrefix)) {
    return Fail("auth.bad_token", "token does not start with 'pdg_'");
  }
  std::string_view rest = bearer.substr(kTokenPrefix.size());
  const size_t sep = rest.find('_');
  if (sep != kTokenIdBytes * 2 || rest.size() != sep + 1 + kSecretBytes * 2) {
    return Fail("auth.bad_token", "token is not of the form pdg_<16 hex>_<64 hex>");
  }
  const std::string_view token_id = rest.substr(0, sep);
  const std::string_view secret = rest.substr(sep + 1);
  if (!IsLowerHex(token_id) || !IsLowerHex(secret)) {
    return Fail("auth.bad_token", "token is not of the form pdg_<16 hex>_<64 hex>");
  }
  const Hash presented = Sha256(secret);

  std::lock_guard lock(state_->mutex);
  const auto now = std::chrono::steady_clock::now();
  auto cached = state_->cache.find(std::string(token_id));
  if (cached == state_->cache.end() || now - cached->second.read_at >= state_->cache_ttl) {
    auto row = state_->ReadToken(token_id);
    if (!row) return std::unexpected(row.error());
    if (!*row) {
      if (cached != state_->cache.end()) state_->cache.erase(cached);
      return Fail("auth.bad_token", "unknown token id " + std::string(token_id));
    }
    // Bounded: entries are only made for tokens that exist, but keep memory flat.
    if (state_->cache.size() >= kMaxCachedTokens) state_->cache.clear();
    (*row)->read_at = now;
    cached = state_->cache.insert_or_assign(std::string(token_id), std::move(**row)).first;
  }
  const State::CachedToken& token = cached->second;
  if (CRYPTO_memcmp(token.secret_sha256.data(), presented.data(), presented.size()) != 0) {
    return Fail("auth.bad_token", "wrong secret for token id " + std::string(token_id));
  }
  if (token.revoked) {
    return Fail("auth.bad_token", "token " + std::string(token_id) + " was revoked");
  }
  return token.principal;
}

void TokenStore::SetCacheTtl(std::chrono::milliseconds ttl) {
  std::lock_guard lock(state_->mutex);
  state_->cache_ttl = ttl;
  state_->cache.clear();
}

Result<std::optional<TokenStore::State::CachedToken>> TokenStore::State::ReadToken(
    std::string_view token_id) {
  if (!lookup) {
    auto prepared = Statement::Prepare(
        db, "SELECT org_id, roles, secret_sha256, revoked_at FROM api_tokens WHERE token_id = ?1");
    if (!prepared) return std::unexpected(prepared.error());
    lookup.emplace(std::move(*prepared));
  }
  Statement* stmt = &*lookup;
  struct Rewind {
    Statement* stmt;
    ~Rewind() { stmt->Reset(); }
  } rewind{stmt};
  stmt->Bind(1, token_id);
  auto row = stmt->Step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return std::optional<CachedToken>();
  auto stored = stmt->Blob(2);
  CachedToken token;
  if (stored.size() != token.secret_sha256.size()) {
    return Fail("storage.corrupt", "api_tokens row " + std::string(token_id) + " has a " +
                                       std::to_string(stored.size()) +
                                       "-byte secret hash, expected 32");
  }
  std::copy(stored.begin(), stored.end(), token.secret_sha256.begin());
  token.principal = Principal{stmt->Text(0), SplitRoles(stmt->Text(1)), std::string(token_id)};
  token.revoked = !stmt->IsNull(3);
  return std::optional<CachedToken>(std::move(token));
}

Status TokenStore::Revoke(const std::string& token_id) {
  std::lock_guard lock(state_->mutex);
  auto stmt = Statement::Prepare(state_->db,
                                 "UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?2) "
                                 "WHERE token_id = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  stmt->Bind(1, token_id);
  stmt->Bind(2, NowSeconds());
  auto done = stmt->Step();
  if (!done) return std::unexpected(done.error());
  state_->cache.erase(token_id);
  if (sqlite3_changes(state_->db) == 0) {
    return Fail(
        Error("token.not_found", "no token with id '" + token_id + "'").at_field("token_id"));
  }
  return Ok();
}

Result<std::vector<TokenInfo>> TokenStore::List(const std::optional<std::string>& org_id) {
  std::lock_guard lock(state_->mutex);
  auto stmt = Statement::Prepare(state_->db,
                                 "SELECT token_id, org_id, roles, label, created_at, revoked_at "
                                 "FROM api_tokens WHERE ?1 IS NULL OR org_id = ?1 "
                                 "ORDER BY created_at, rowid");
  if (!stmt) return std::unexpected(stmt.error());
  if (org_id) stmt->Bind(1, *org_id);
  std::vector<TokenInfo> out;
  for (;;) {
    auto row = stmt->Step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    TokenInfo info{stmt->Text(0), stmt->Text(1), SplitRoles(stmt->Text(2)),
                   stmt->Text(3), stmt->Int(4),  std::nullopt};
    if (!stmt->IsNull(5)) info.revoked_at = stmt->Int(5);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace pedigree::services
