#include "pedigree/usecases/auth.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "pedigree/base/bytes.h"
#include "pedigree/log/sql.h"
#include "pedigree/usecases/supply_node.h"

namespace pedigree::services {
namespace {

constexpr std::string_view kTokenPrefix = "pdg_";
constexpr size_t kTokenIdBytes = 8;
constexpr size_t kSecretBytes = 32;
constexpr size_t kMaxCachedTokens = 100000;

using log::sql::Connection;
using log::sql::Query;

Status CreateTable(Connection& db) {
  return db.ExecSchema(
      "CREATE TABLE IF NOT EXISTS api_tokens ("
      " token_id TEXT PRIMARY KEY,"
      " org_id TEXT NOT NULL,"
      " roles TEXT NOT NULL,"
      " label TEXT NOT NULL,"
      " secret_sha256 BLOB NOT NULL,"
      " created_at INTEGER NOT NULL,"
      " revoked_at INTEGER)");
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
  explicit State(Connection connection) : db(std::move(connection)) {}

  // Owned (Open) or the caller's (Attach). It caches prepared statements: Authenticate runs
  // on every request, and preparing its query each time cost half the throughput of a
  // token-checked GET (bench/http_verify_chassis.cpp).
  Connection db;
  std::mutex mutex;

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
  // A node whose data live in PostgreSQL keeps its tokens there too (`db_path` is then the
  // connection string: docs/storage.md).
  // Another process (the CLI revoking a token) may hold the write lock briefly: wait 5 s.
  PEDIGREE_ASSIGN(db, log::IsPostgresUrl(db_path)
                          ? Connection::OpenPostgres(db_path)
                          : Connection::Open(db_path, {.create = true, .busy_timeout_ms = 5000}));
  PEDIGREE_TRY(CreateTable(*db));
  return std::unique_ptr<TokenStore>(new TokenStore(std::make_unique<State>(std::move(*db))));
}

Result<std::unique_ptr<TokenStore>> TokenStore::Attach(sqlite3* db) {
  Connection borrowed(db);
  PEDIGREE_TRY(CreateTable(borrowed));
  return std::unique_ptr<TokenStore>(new TokenStore(std::make_unique<State>(std::move(borrowed))));
}

Result<std::string> TokenStore::Issue(const std::string& org_id, const std::set<std::string>& roles,
                                      const std::string& label) {
  if (org_id.empty()) return Fail(Error("token.invalid_org", "org_id is empty").at_field("org_id"));
  if (!IsRegistryOrgId(org_id)) {
    return Fail(Error("token.invalid_org", "org_id '" + org_id + "' is not a registry id")
                    .at_field("org_id"));
  }
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
  PEDIGREE_ASSIGN(q, state_->db.Prepare("INSERT INTO api_tokens (token_id, org_id, roles, label, "
                                        "secret_sha256, created_at) VALUES (?1, ?2, ?3, ?4, ?5, "
                                        "?6)"));
  q->Bind(1, token_id)
      .Bind(2, org_id)
      .Bind(3, JoinRoles(roles))
      .Bind(4, label)
      .Bind(5, Sha256(secret))
      .Bind(6, NowSeconds());
  PEDIGREE_TRY(q->Run());
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
  PEDIGREE_ASSIGN(q, db.Prepare("SELECT org_id, roles, secret_sha256, revoked_at FROM api_tokens "
                                "WHERE token_id = ?1"));
  q->Bind(1, token_id);
  PEDIGREE_ASSIGN(row, q->Step());
  if (!*row) return std::optional<CachedToken>();
  const std::span<const uint8_t> stored = q->Blob(2);
  CachedToken token;
  if (stored.size() != token.secret_sha256.size()) {
    return Fail("storage.corrupt", "api_tokens row " + std::string(token_id) + " has a " +
                                       std::to_string(stored.size()) +
                                       "-byte secret hash, expected 32");
  }
  std::copy(stored.begin(), stored.end(), token.secret_sha256.begin());
  token.principal = Principal{q->Text(0), SplitRoles(q->Text(1)), std::string(token_id)};
  token.revoked = !q->IsNull(3);
  return std::optional<CachedToken>(std::move(token));
}

Status TokenStore::Revoke(const std::string& token_id) {
  std::lock_guard lock(state_->mutex);
  {
    PEDIGREE_ASSIGN(q, state_->db.Prepare("UPDATE api_tokens SET revoked_at = "
                                          "COALESCE(revoked_at, ?2) WHERE token_id = ?1"));
    q->Bind(1, token_id).Bind(2, NowSeconds());
    PEDIGREE_TRY(q->Run());
  }
  state_->cache.erase(token_id);
  if (state_->db.Changes() == 0) {
    return Fail(
        Error("token.not_found", "no token with id '" + token_id + "'").at_field("token_id"));
  }
  return Ok();
}

Result<std::vector<TokenInfo>> TokenStore::List(const std::optional<std::string>& org_id) {
  std::lock_guard lock(state_->mutex);
  // Issue order within a second: SQLite's rowid; PostgreSQL has none (its tokens within
  // one second are listed by id).
  PEDIGREE_ASSIGN(
      q, state_->db.Prepare(state_->db.dialect() == log::sql::Dialect::kPostgres
                                ? "SELECT token_id, org_id, roles, label, created_at, revoked_at "
                                  "FROM api_tokens WHERE ?1::text IS NULL OR org_id = ?1 "
                                  "ORDER BY created_at, token_id"
                                : "SELECT token_id, org_id, roles, label, created_at, "
                                  "revoked_at FROM api_tokens WHERE ?1 IS NULL OR "
                                  "org_id = ?1 ORDER BY created_at, rowid"));
  if (org_id) {
    q->Bind(1, *org_id);
  } else {
    q->BindNull(1);
  }
  std::vector<TokenInfo> out;
  PEDIGREE_TRY(q->ForEachRow([&](const Query& row) {
    out.push_back(TokenInfo{row.Text(0), row.Text(1), SplitRoles(row.Text(2)), row.Text(3),
                            row.Int(4), row.OptionalInt(5)});
  }));
  return out;
}

}  // namespace pedigree::services
