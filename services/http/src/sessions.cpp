#include "sessions.h"

#include <algorithm>
#include <array>

#include "pedigree/base/bytes.h"

namespace pedigree::services {
namespace {

std::string IdKey(std::string_view id) {
  const Hash h = Sha256(id);
  return ToHex(h);
}

}  // namespace

std::string RandomToken() {
  std::array<uint8_t, 32> bytes;
  RandomBytes(bytes);
  std::string out = ToBase64(bytes);
  // base64url: the id travels in a cookie and the CSRF token in a header, where '+', '/'
  // and '=' would need quoting.
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t end = header.find_first_of(";,");
    std::string_view pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      return std::string(value);
    }
  }
  return {};
}

SessionStore::SessionStore(SessionPolicy policy) : policy_(std::move(policy)) {}

SessionStore::Clock::time_point SessionStore::Now() const {
  return policy_.clock ? policy_.clock() : Clock::now();
}

bool SessionStore::Expired(const Entry& e, Clock::time_point now) const {
  return now - e.used >= policy_.idle_timeout || now - e.opened >= policy_.lifetime;
}

SessionStore::Opened SessionStore::Open(std::string bearer) {
  Opened out{RandomToken(), RandomToken()};
  const auto now = Now();
  std::lock_guard lock(mutex_);
  std::erase_if(sessions_, [&](const auto& kv) { return Expired(kv.second, now); });
  if (policy_.max_sessions > 0 && sessions_.size() >= policy_.max_sessions) {
    auto oldest = std::min_element(
        sessions_.begin(), sessions_.end(),
        [](const auto& a, const auto& b) { return a.second.used < b.second.used; });
    sessions_.erase(oldest);
  }
  sessions_[IdKey(out.id)] = Entry{std::move(bearer), out.csrf, now, now};
  return out;
}

std::optional<SessionStore::Session> SessionStore::Use(std::string_view id) {
  if (id.empty()) return std::nullopt;
  const std::string key = IdKey(id);
  const auto now = Now();
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return std::nullopt;
  if (Expired(it->second, now)) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.used = now;
  return Session{it->second.bearer, it->second.csrf};
}

void SessionStore::Close(std::string_view id) {
  const std::string key = IdKey(id);
  std::lock_guard lock(mutex_);
  sessions_.erase(key);
}

}  // namespace pedigree::services
