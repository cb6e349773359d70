// The web app's server-side sessions (docs/web.md, "Sessions"): a random id in an HttpOnly
// cookie names a session that holds the API token it was opened with, so a cookie request
// is authenticated exactly as that token's Bearer request would be (same roles, and a
// revoked token ends its sessions at once). Private to services/http.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "pedigree/http/http_server.h"

namespace pedigree::services {

// In memory: a restart signs everybody out. Thread-safe.
class SessionStore {
 public:
  using Clock = SessionPolicy::Clock;

  explicit SessionStore(SessionPolicy policy);

  struct Opened {
    std::string id;    // The cookie value: 256 random bits, base64url. Never stored.
    std::string csrf;  // The X-CSRF-Token value: 256 random bits, base64url.
  };
  // A new session for `bearer` (already authenticated by the caller). When the store holds
  // policy.max_sessions, the least recently used session is dropped to make room.
  Opened Open(std::string bearer);

  struct Session {
    std::string bearer;
    std::string csrf;
  };
  // The live session named by cookie value `id`, which counts as a use (its idle time
  // restarts). Nullopt for an unknown id and for one past its idle or absolute expiry
  // (which is then dropped).
  std::optional<Session> Use(std::string_view id);

  // Ends the session named by `id`; an unknown id is ignored.
  void Close(std::string_view id);

  const SessionPolicy& policy() const { return policy_; }

 private:
  struct Entry {
    std::string bearer, csrf;
    Clock::time_point opened, used;
  };
  Clock::time_point Now() const;
  bool Expired(const Entry& e, Clock::time_point now) const;

  SessionPolicy policy_;
  std::mutex mutex_;
  // Keyed by hex SHA-256 of the id: a dump of this memory does not yield a cookie.
  std::map<std::string, Entry, std::less<>> sessions_;
};

// The value of cookie `name` in a Cookie header ("a=1; b=2", or several headers joined
// by ", "); empty when absent.
std::string CookieValue(std::string_view header, std::string_view name);

// 256 random bits in base64url without padding.
std::string RandomToken();

}  // namespace pedigree::services
