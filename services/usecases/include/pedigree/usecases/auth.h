// API tokens: who is calling the HTTP API, for which organisation, with which roles.
// Tokens look like `pdg_<token_id>_<secret>`; only SHA-256(secret) is ever stored.
// See docs/api.md ("Conventions").
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"

struct sqlite3;

namespace pedigree::services {

// The roles a token can carry. A route names the roles it admits; `admin` is an
// ordinary role and does not imply the others. Which of them an organisation may hold
// is the registry's answer, see token_grants.h.
// `mirror`: a member that keeps a verified copy of the log (docs/mirror.md); it reads every
// entry, nothing else.
inline constexpr std::string_view kRoles[] = {"manufacturer", "wholesaler", "dispenser",
                                              "sponsor",      "site",       "regulator",
                                              "witness",      "mirror",     "admin"};
bool IsKnownRole(std::string_view role);

// The authenticated caller of a request.
struct Principal {
  std::string org_id;
  // After HttpServer's check (ServerConfig::granted_roles): the token's roles that the
  // registry still grants org_id, not the roles it was issued with.
  std::set<std::string> roles;
  std::string token_id;
};

// What List() shows about a token: everything but the secret.
struct TokenInfo {
  std::string token_id;
  std::string org_id;
  std::set<std::string> roles;
  std::string label;
  int64_t created_at = 0;  // Unix seconds.
  std::optional<int64_t> revoked_at;
};

// Issues, authenticates and revokes API tokens in table `api_tokens` of a SQLite
// database. Thread-safe: all calls are serialised on one connection.
class TokenStore {
 public:
  // Opens (creating if needed) the database file and the table.
  [[nodiscard]] static Result<std::unique_ptr<TokenStore>> Open(const std::string& db_path);
  // Uses an existing connection, which must outlive the store and must not be used
  // from another thread while a store call runs.
  [[nodiscard]] static Result<std::unique_ptr<TokenStore>> Attach(sqlite3* db);

  ~TokenStore();
  TokenStore(const TokenStore&) = delete;
  TokenStore& operator=(const TokenStore&) = delete;

  // Creates a token for `org_id` with `roles` (each one of kRoles, at least one) and
  // returns the full token text. This is the only time the secret is visible.
  // The store checks only the form (org_id a registry id, see IsRegistryOrgId); whether
  // the registry grants the roles is CheckTokenGrant's question, asked by the caller.
  // Errors: token.invalid_org, token.unknown_role, token.no_roles, storage.io.
  [[nodiscard]] Result<std::string> Issue(const std::string& org_id,
                                          const std::set<std::string>& roles,
                                          const std::string& label);

  // Checks a bearer token. Errors: auth.bad_token (malformed, unknown, wrong secret,
  // revoked), storage.io. Known tokens are cached for the cache TTL, so a
  // revocation made through another TokenStore (another process) takes effect within
  // that time; one made through this store takes effect at once.
  [[nodiscard]] Result<Principal> Authenticate(std::string_view bearer);

  // How long Authenticate trusts a token row it has read; 0 = read the table every
  // time. Default 2 s. A lookup costs ~40 µs of file locking in SQLite, which capped a
  // token-checked GET far below the 10k requests/s verify target.
  void SetCacheTtl(std::chrono::milliseconds ttl);

  // Refuses the token from now on. Errors: token.not_found, storage.io. Revoking
  // a revoked token succeeds and keeps the first revocation time.
  [[nodiscard]] Status Revoke(const std::string& token_id);

  // All tokens (of one organisation if given), ordered by creation, without secrets.
  [[nodiscard]] Result<std::vector<TokenInfo>> List(
      const std::optional<std::string>& org_id = std::nullopt);

 private:
  struct State;
  explicit TokenStore(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace pedigree::services
