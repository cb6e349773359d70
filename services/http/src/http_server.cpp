// The HTTP chassis' dispatch (target, route, authentication, roles, rate, body checks,
// handler) and its event-driven network front on Boost.Asio. Handlers see
// HttpRequest/HttpResponse only, and anything thrown is turned into a 500 here.
#include "pedigree/http/http_server.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <future>
#include <mutex>
#include <ostream>
#include <thread>
#include <type_traits>
#include <unordered_map>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/rate_limiter.h"
#include "pedigree/http/http_parser.h"
#include "sessions.h"

namespace pedigree::services {
namespace {

using Clock = std::chrono::steady_clock;

// Latency bucket upper bounds in seconds: fine-grained below 10 ms, where the verify
// target sits, then coarse up to 10 s.
constexpr std::array<double, 16> kLatencyBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10};

// Request counts by status and a latency histogram for one route. Lock-free.
struct RouteStats {
  std::string method, route;
  std::array<std::atomic<uint64_t>, 600> by_status{};
  std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> buckets{};  // Last: +Inf.
  std::atomic<uint64_t> sum_micros{0};
  std::atomic<uint64_t> count{0};

  void Record(int status, uint64_t micros) {
    by_status[static_cast<size_t>(std::clamp(status, 0, 599))].fetch_add(1,
                                                                         std::memory_order_relaxed);
    const double seconds = static_cast<double>(micros) / 1e6;
    size_t b = 0;
    while (b < kLatencyBuckets.size() && seconds > kLatencyBuckets[b]) ++b;
    buckets[b].fetch_add(1, std::memory_order_relaxed);
    sum_micros.fetch_add(micros, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
  }
};

std::string LabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string FormatBound(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string ToLower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string JoinSet(const std::set<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) {
    if (out.size() > 1) out += ", ";
    out += i;
  }
  return out + "]";
}

}  // namespace

class AsioFront;

struct HttpServer::Impl {
  ServerConfig config;
  Router router;
  TokenStore* tokens = nullptr;
  std::shared_ptr<MetricsRegistry> metrics;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<SessionStore> sessions;          // Set when config.sessions is.
  std::vector<std::unique_ptr<RouteStats>> stats;  // Index = route index; last = unmatched.
  std::set<const Route*> rate_exempt;
  std::atomic<int64_t> in_flight{0};
  std::mutex log_mutex;
  uint16_t port = 0;
  bool tls = false;
  std::mutex stop_mutex;
  bool stopped = false;
  // Declared last so they are destroyed first: the server's threads use the above.
  std::unique_ptr<AsioFront> front;

  struct Outcome {
    HttpResponse response;
    const Route* route = nullptr;
    bool body_read = false;
    // Set by Prepare: every check that needs no body passed; read at most max_body bytes
    // of body, then Finish.
    bool proceed = false;
    size_t max_body = 0;
    // Set by CheckBeforeBody: the scope and the route's own pre-body check ran.
    bool checked_before_body = false;
  };

  void Log(const std::string& line) {
    if (config.access_log == nullptr) return;
    std::lock_guard lock(log_mutex);
    // One flushed line per request: a crash loses no line already answered.
    *config.access_log << line << std::endl;
  }

  HttpResponse Reject(int status, Error error) { return ErrorResponse(status, error); }

  // Sets request.principal from a bearer token (with the registry's current roles), or
  // returns the refusal to answer.
  std::optional<HttpResponse> Authenticate(std::string_view bearer, HttpRequest& request);
  // The same from the session cookie, with the CSRF check for a state-changing request.
  std::optional<HttpResponse> AuthenticateSession(HttpRequest& request);
  [[nodiscard]] Status AddSessionRoutes(Router& router);
  std::string SessionCookie(std::string_view value, std::chrono::seconds max_age) const;

  // The checks that need no body, in order: target, route, declared length, token or
  // session, roles, rate. `request` has method, remote and headers; `client_host` keys
  // the anonymous rate bucket.
  Outcome Prepare(HttpRequest& request, std::string_view target,
                  std::optional<uint64_t> content_length, const std::string& client_host);
  // For a route marked by Router::MarkCheckedBeforeBody, before its body is read: the
  // route's scope, then its own check. False: refused, out.response says why and proceed
  // is cleared.
  bool CheckBeforeBody(HttpRequest& request, Outcome& out);
  // With the body read: JSON syntax, the route's scope and pre-body check (unless they ran
  // before the body), then the handler.
  void Finish(HttpRequest& request, Outcome& out);
  // Prepare and Finish with exceptions turned into a 500; `failure` gets the reason.
  void Guarded(const std::function<void()>& step, Outcome& out, std::string& failure);
  // Counts the answer in /metrics and writes the access-log line.
  void Record(const Outcome& outcome, const HttpRequest& request, const std::string& method,
              const std::string& target, Clock::time_point start, std::string failure);
  // A head refused for its framing: counted as unmatched and logged as "refused".
  void RecordRefusal(int status, const Error& error, const std::string& what);
  HttpResponse Healthz() const;
  HttpResponse Metrics() const;
};

namespace {

std::string Printable(std::string_view v) {
  std::string out;
  for (unsigned char c : v.substr(0, 64)) {
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// The path as logged: query values are dropped because they may carry secrets.
std::string LoggedTarget(const std::string& uri) {
  const size_t q = uri.find('?');
  if (q == std::string::npos) return uri;
  std::string out = uri.substr(0, q) + "?";
  std::string_view query(uri);
  query.remove_prefix(q + 1);
  bool first = true;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    std::string_view name = pair.substr(0, pair.find('='));
    if (!name.empty()) {
      if (!first) out += '&';
      out += name;
      first = false;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

}  // namespace

namespace {

constexpr std::string_view kSessionCookie = "pedigree_session";

bool SafeMethod(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS";
}

// Compares without an early exit, so the time taken does not tell how much of a guessed
// CSRF token was right.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string HeaderOf(const HttpRequest& request, const std::string& name) {
  auto it = request.headers.find(name);
  return it == request.headers.end() ? std::string() : it->second;
}

}  // namespace

std::optional<HttpResponse> HttpServer::Impl::Authenticate(std::string_view bearer,
                                                           HttpRequest& request) {
  if (tokens == nullptr) {
    HttpResponse r = Reject(401, Error("auth.bad_token", "this server accepts no tokens"));
    r.headers["WWW-Authenticate"] = "Bearer";
    return r;
  }
  auto principal = tokens->Authenticate(bearer);
  if (!principal) {
    if (HttpStatusFor(principal.error()) >= 500) {
      Log("internal: " + principal.error().ToString() + " during authentication");
    }
    HttpResponse r = ErrorResponse(principal.error());
    if (r.status == 401) r.headers["WWW-Authenticate"] = "Bearer error=\"invalid_token\"";
    return r;
  }
  if (config.granted_roles) {
    auto granted = config.granted_roles(principal->org_id);
    if (!granted) {
      if (HttpStatusFor(granted.error()) >= 500) {
        Log("internal: " + granted.error().ToString() + " reading the registry");
      }
      return ErrorResponse(granted.error());
    }
    // The registry is the authority on roles; the token only narrows them. A role the
    // registry no longer lists drops out here, whatever the token row says.
    std::set<std::string> effective;
    for (const auto& r : principal->roles) {
      if (granted->contains(r)) effective.insert(r);
    }
    if (effective.empty()) {
      return Reject(403, Error("auth.forbidden_role",
                               "token " + principal->token_id + " of organisation " +
                                   principal->org_id + " holds " + JoinSet(principal->roles) +
                                   ", none of which the registry grants it now (it grants " +
                                   JoinSet(*granted) + ")"));
    }
    principal->roles = std::move(effective);
  }
  request.principal = std::move(*principal);
  return std::nullopt;
}

std::string HttpServer::Impl::SessionCookie(std::string_view value,
                                            std::chrono::seconds max_age) const {
  // SameSite=Strict: no other site can make the browser send it (the first CSRF guard);
  // HttpOnly: no script, ours included, can read it.
  return std::string(kSessionCookie) + "=" + std::string(value) +
         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" + std::to_string(max_age.count()) +
         (tls ? "; Secure" : "");
}

std::optional<HttpResponse> HttpServer::Impl::AuthenticateSession(HttpRequest& request) {
  const std::string id = CookieValue(HeaderOf(request, "cookie"), kSessionCookie);
  if (id.empty()) return std::nullopt;  // The route's own check answers auth.missing_token.
  auto ended = [&](const std::string& why) {
    HttpResponse r = Reject(401, Error("auth.session_expired", why + "; sign in again"));
    r.headers["Set-Cookie"] = SessionCookie("", std::chrono::seconds(0));
    return r;
  };
  auto session = sessions->Use(id);
  if (!session) return ended("the session has expired or was signed out");
  if (auto refusal = Authenticate(session->bearer, request)) {
    // A revoked token ends its sessions; a storage failure is no reason to sign out.
    if (refusal->status != 401) return refusal;
    sessions->Close(id);
    return ended("the token this session was opened with is no longer valid");
  }
  request.session_id = id;
  // The second CSRF guard: a page of another origin cannot read the token to send it.
  if (!SafeMethod(request.method) &&
      !SameSecret(HeaderOf(request, "x-csrf-token"), session->csrf)) {
    request.principal.reset();
    return Reject(403, Error("auth.csrf", request.method + " " + request.path +
                                              " with a session cookie needs the session's "
                                              "X-CSRF-Token header")
                           .at_field("X-CSRF-Token"));
  }
  return std::nullopt;
}

Status HttpServer::Impl::AddSessionRoutes(Router& router) {
  std::set<std::string> all_roles;
  for (std::string_view r : kRoles) all_roles.emplace(r);
  const Access signed_in = Access::AnyOf(all_roles);
  auto describe = [this](const HttpRequest& request, const std::string& csrf) {
    auto roles = JsonValue::Array();
    for (const auto& r : request.principal->roles) roles.push_back(JsonValue(r));
    auto o = JsonValue::Object()
                 .set("org", JsonValue(request.principal->org_id))
                 .set("tokenId", JsonValue(request.principal->token_id))
                 .set("roles", std::move(roles));
    if (!csrf.empty()) o.set("csrfToken", JsonValue(csrf));
    o.set("idleTimeoutSeconds",
          JsonValue(static_cast<int64_t>(sessions->policy().idle_timeout.count())));
    HttpResponse r;
    r.body = Canonicalize(o);
    r.headers["Cache-Control"] = "no-store";
    return r;
  };

  // Sign-in: the token in a JSON body {"token": ...} or a form field token=...
  PEDIGREE_TRY(router.Add(
      "POST", "/v1/session", Access::Public(),
      [this, describe](const HttpRequest& request) {
        // Login CSRF: a form on another site could sign the browser in as the attacker's
        // organisation. Browsers name the page's origin on every cross-origin POST.
        if (std::string origin = HeaderOf(request, "origin"); !origin.empty()) {
          const size_t scheme = origin.find("://");
          const std::string host = scheme == std::string::npos ? "" : origin.substr(scheme + 3);
          if (host != HeaderOf(request, "host")) {
            return Reject(403, Error("auth.csrf", "sign-in from the page of another origin ('" +
                                                      origin + "') is refused")
                                   .at_field("Origin"));
          }
        }
        std::string type = ToLower(HeaderOf(request, "content-type"));
        type = type.substr(0, type.find(';'));
        while (!type.empty() && type.back() == ' ') type.pop_back();
        std::string token;
        if (type == "application/json") {
          auto body = ParseJson(request.body);
          if (!body) return ErrorResponse(body.error());
          const JsonValue* t = body->is_object() ? body->find("token") : nullptr;
          if (t == nullptr || !t->is_string() || t->as_string().empty()) {
            return ErrorResponse(Error("request.invalid_body",
                                       "the body needs a member 'token' holding an API token")
                                     .at_field("token"));
          }
          token = t->as_string();
        } else if (type == "application/x-www-form-urlencoded") {
          std::string_view form = request.body;
          while (!form.empty()) {
            const size_t amp = form.find('&');
            std::string_view pair = form.substr(0, amp);
            form = amp == std::string_view::npos ? std::string_view() : form.substr(amp + 1);
            if (pair.substr(0, pair.find('=')) != "token" || pair.find('=') == pair.npos) continue;
            auto value = PercentDecode(pair.substr(pair.find('=') + 1), true);
            if (!value) return ErrorResponse(value.error().at_field("token"));
            token = std::move(*value);
          }
          if (token.empty()) {
            return ErrorResponse(
                Error("request.invalid_body", "the form needs a field 'token' holding an API token")
                    .at_field("token"));
          }
        } else {
          return ErrorResponse(Error("request.unsupported_media_type",
                                     "POST /v1/session takes application/json or "
                                     "application/x-www-form-urlencoded, got '" +
                                         type + "'")
                                   .at_field("Content-Type"));
        }
        HttpRequest signed_in_request = request;
        if (auto refusal = Authenticate(token, signed_in_request)) return *refusal;
        // A sign-in always starts a fresh session, so an id planted before it is worthless.
        if (std::string old = CookieValue(HeaderOf(request, "cookie"), kSessionCookie);
            !old.empty()) {
          sessions->Close(old);
        }
        SessionStore::Opened opened = sessions->Open(std::move(token));
        HttpResponse r = describe(signed_in_request, opened.csrf);
        r.status = 201;
        r.headers["Set-Cookie"] = SessionCookie(opened.id, sessions->policy().lifetime);
        return r;
      },
      BodyKind::kAny, 16384));
  PEDIGREE_TRY(
      router.Add("GET", "/v1/session", signed_in, [this, describe](const HttpRequest& request) {
        std::string csrf;
        if (!request.session_id.empty()) {
          if (auto s = sessions->Use(request.session_id)) csrf = s->csrf;
        }
        return describe(request, csrf);
      }));
  PEDIGREE_TRY(router.Add("DELETE", "/v1/session", signed_in, [this](const HttpRequest& request) {
    if (!request.session_id.empty()) sessions->Close(request.session_id);
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    r.headers["Set-Cookie"] = SessionCookie("", std::chrono::seconds(0));
    r.headers["Cache-Control"] = "no-store";
    return r;
  }));
  return Ok();
}

HttpServer::Impl::Outcome HttpServer::Impl::Prepare(HttpRequest& request, std::string_view target,
                                                    std::optional<uint64_t> content_length,
                                                    const std::string& client_host) {
  Outcome out;
  // Request target: origin-form only ("/path?query"); fragments are never sent.
  if (target.empty() || target.front() != '/') {
    out.response =
        Reject(400, Error("request.bad_target",
                          "request target '" + std::string(target) + "' does not start with '/'"));
    return out;
  }
  const size_t qmark = target.find('?');
  const std::string_view raw_path = target.substr(0, qmark);
  std::vector<std::string> segments;
  for (size_t start = 1; start <= raw_path.size();) {
    size_t end = raw_path.find('/', start);
    if (end == std::string_view::npos) end = raw_path.size();
    auto decoded = PercentDecode(raw_path.substr(start, end - start), false);
    if (!decoded) {
      out.response = ErrorResponse(400, decoded.error().at_field("path"));
      return out;
    }
    request.path += "/" + *decoded;
    segments.push_back(std::move(*decoded));
    start = end + 1;
  }
  if (qmark != std::string_view::npos) {
    std::string_view query = target.substr(qmark + 1);
    while (!query.empty()) {
      const size_t amp = query.find('&');
      const std::string_view pair = query.substr(0, amp);
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
      if (pair.empty()) continue;
      const size_t eq = pair.find('=');
      auto name = PercentDecode(pair.substr(0, eq), true);
      auto value = PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1), true);
      if (!name || !value) {
        out.response = ErrorResponse(
            400, (!name ? name.error() : value.error()).at_field(std::string(pair.substr(0, eq))));
        return out;
      }
      if (!request.query.emplace(*name, std::move(*value)).second) {
        out.response = Reject(400, Error("request.duplicate_parameter",
                                         "query parameter '" + *name + "' appears twice")
                                       .at_field(*name));
        return out;
      }
    }
  }

  RouteMatch match = router.Match(request.method, segments);
  if (match.route == nullptr) {
    if (match.allowed_methods.empty()) {
      out.response = Reject(
          404, Error("request.not_found", "no route for " + request.method + " " + request.path));
    } else {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      out.response = Reject(
          405, Error("request.method_not_allowed", request.method + " is not allowed on " +
                                                       request.path + "; allowed: " + allow));
      out.response.headers["Allow"] = allow;
    }
    return out;
  }
  const Route& route = *match.route;
  out.route = &route;
  request.path_params = std::move(match.path_params);

  const size_t max_body = route.max_body_bytes ? route.max_body_bytes : config.max_body_bytes;
  if (content_length && *content_length > max_body) {
    out.response =
        Reject(413, Error("request.too_large", "body of " + std::to_string(*content_length) +
                                                   " bytes exceeds the limit of " +
                                                   std::to_string(max_body) + " bytes"));
    return out;
  }

  // Authentication: a token is checked whenever one is presented, even on public
  // routes, so a client learns at once that its token is bad. A session cookie is read
  // only where a route needs a caller, and only when no Authorization header came.
  auto auth_header = request.headers.find("authorization");
  if (auth_header != request.headers.end()) {
    const std::string& value = auth_header->second;
    if (value.size() < 7 || ToLower(value.substr(0, 7)) != "bearer ") {
      out.response =
          Reject(401, Error("auth.bad_token", "Authorization header must be 'Bearer <token>'"));
      out.response.headers["WWW-Authenticate"] = "Bearer";
      return out;
    }
    std::string_view bearer(value);
    bearer.remove_prefix(7);
    while (!bearer.empty() && bearer.front() == ' ') bearer.remove_prefix(1);
    if (auto refusal = Authenticate(bearer, request)) {
      out.response = std::move(*refusal);
      return out;
    }
  } else if (sessions && !route.access.is_public) {
    if (auto refusal = AuthenticateSession(request)) {
      out.response = std::move(*refusal);
      return out;
    }
  }
  if (!route.access.is_public) {
    if (!request.principal) {
      out.response =
          Reject(401, Error("auth.missing_token", route.method + " " + route.pattern +
                                                      " needs 'Authorization: Bearer <token>'"));
      out.response.headers["WWW-Authenticate"] = "Bearer";
      return out;
    }
    const auto& held = request.principal->roles;
    const bool allowed = std::any_of(route.access.any_of.begin(), route.access.any_of.end(),
                                     [&](const std::string& r) { return held.contains(r); });
    if (!allowed) {
      out.response =
          Reject(403, Error("auth.forbidden_role",
                            route.method + " " + route.pattern + " needs one of the roles " +
                                JoinSet(route.access.any_of) + "; token " +
                                request.principal->token_id + " of organisation " +
                                request.principal->org_id + " has " + JoinSet(held)));
      return out;
    }
  }

  if (limiter && !rate_exempt.contains(&route)) {
    const std::string key =
        request.principal ? "token:" + request.principal->token_id : "addr:" + client_host;
    if (auto wait = limiter->Take(key)) {
      const long retry_after = std::max(1L, static_cast<long>(std::ceil(*wait)));
      out.response =
          Reject(429, Error("request.rate_limited",
                            "more than " + FormatBound(config.rate_limit_per_second_per_token) +
                                " requests per second; retry after " + std::to_string(retry_after) +
                                " s"));
      out.response.headers["Retry-After"] = std::to_string(retry_after);
      return out;
    }
  }

  out.proceed = true;
  out.max_body = max_body;
  return out;
}

bool HttpServer::Impl::CheckBeforeBody(HttpRequest& request, Outcome& out) {
  const Route& route = *out.route;
  out.checked_before_body = true;
  // The route's organisation scope, in this one place for every route that has one.
  for (const ScopeCheck* check : {&route.access.check, &route.before_body}) {
    if (!*check) continue;
    if (auto allowed = (*check)(request); !allowed) {
      if (HttpStatusFor(allowed.error()) >= 500) {
        Log("internal: " + allowed.error().ToString() + " checking " + route.pattern);
      }
      out.response = ErrorResponse(allowed.error());
      out.proceed = false;
      return false;
    }
  }
  return true;
}

void HttpServer::Impl::Finish(HttpRequest& request, Outcome& out) {
  const Route& route = *out.route;

  if (route.body == BodyKind::kJson) {
    if (auto ok = CheckJsonSyntax(request.body); !ok) {
      out.response = ErrorResponse(400, ok.error());
      return;
    }
  }

  if (!out.checked_before_body && !CheckBeforeBody(request, out)) return;
  out.response = route.handler(request);
}

void HttpServer::Impl::Guarded(const std::function<void()>& step, Outcome& out,
                               std::string& failure) {
  try {
    step();
  } catch (const std::exception& e) {
    failure = e.what();
  } catch (...) {
    failure = "unknown exception";
  }
  if (!failure.empty()) {
    out.response = ErrorResponse(500, Error("internal", failure));
    out.proceed = false;
  } else if (out.response.status >= 500) {
    // A handler returned a 5xx: keep its details for the log, not the client.
    if (out.response.status != 503) failure = "handler answered " + out.response.body;
  }
}

void HttpServer::Impl::Record(const Outcome& outcome, const HttpRequest& request,
                              const std::string& method, const std::string& target,
                              Clock::time_point start, std::string failure) {
  const HttpResponse& response = outcome.response;
  const auto micros = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count());
  const size_t index = outcome.route != nullptr
                           ? static_cast<size_t>(outcome.route - router.routes().data())
                           : stats.size() - 1;
  stats[index]->Record(response.status, micros);
  in_flight.fetch_sub(1, std::memory_order_relaxed);
  if (config.access_log != nullptr) {
    std::string line = method + " " + LoggedTarget(target) + " " + std::to_string(response.status) +
                       " " + std::to_string(micros) + "us";
    if (request.principal) {
      line += " token=" + request.principal->token_id + " org=" + request.principal->org_id;
    }
    if (!response.internal_cause.empty()) {
      failure = response.internal_cause + (failure.empty() ? "" : "; " + failure);
    }
    if (!failure.empty()) line += " internal: " + failure;
    Log(line);
  }
}

void HttpServer::Impl::RecordRefusal(int status, const Error& error, const std::string& what) {
  stats.back()->Record(status, 0);
  Log(what + " " + std::to_string(status) + " 0us refused: " + error.message());
}

HttpResponse HttpServer::Impl::Healthz() const {
  HttpResponse response;
  if (config.health_check) {
    Status health = config.health_check();
    if (!health) {
      response.status = 503;
      response.body =
          "{\"status\":\"unavailable\",\"error\":{\"code\":" + JsonQuote(health.error().code()) +
          ",\"message\":" + JsonQuote(health.error().message()) + "}}";
      return response;
    }
  }
  response.body = "{\"status\":\"ok\"}";
  return response;
}

HttpResponse HttpServer::Impl::Metrics() const {
  std::string out;
  out.reserve(8192);
  out +=
      "# HELP pedigree_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE pedigree_http_requests_total counter\n";
  for (const auto& s : stats) {
    for (size_t status = 0; status < s->by_status.size(); ++status) {
      const uint64_t n = s->by_status[status].load(std::memory_order_relaxed);
      if (n == 0) continue;
      out += "pedigree_http_requests_total{method=\"" + LabelValue(s->method) + "\",route=\"" +
             LabelValue(s->route) + "\",status=\"" + std::to_string(status) + "\"} " +
             std::to_string(n) + "\n";
    }
  }
  out +=
      "# HELP pedigree_http_request_duration_seconds Time from request head to response "
      "sent, by route.\n"
      "# TYPE pedigree_http_request_duration_seconds histogram\n";
  for (const auto& s : stats) {
    const uint64_t count = s->count.load(std::memory_order_relaxed);
    if (count == 0) continue;
    const std::string labels =
        "method=\"" + LabelValue(s->method) + "\",route=\"" + LabelValue(s->route) + "\"";
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kLatencyBuckets.size(); ++b) {
      cumulative += s->buckets[b].load(std::memory_order_relaxed);
      const std::string le = b < kLatencyBuckets.size() ? FormatBound(kLatencyBuckets[b]) : "+Inf";
      out += "pedigree_http_request_duration_seconds_bucket{" + labels + ",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    char sum[64];
    std::snprintf(sum, sizeof sum, "%.6f",
                  static_cast<double>(s->sum_micros.load(std::memory_order_relaxed)) / 1e6);
    out += "pedigree_http_request_duration_seconds_sum{" + labels + "} " + sum + "\n";
    out += "pedigree_http_request_duration_seconds_count{" + labels + "} " +
           std::to_string(cumulative) + "\n";
  }
  out +=
      "# HELP pedigree_http_requests_in_flight Requests being handled now.\n"
      "# TYPE pedigree_http_requests_in_flight gauge\n"
      "pedigree_http_requests_in_flight " +
      std::to_string(in_flight.load(std::memory_order_relaxed)) + "\n";
  metrics->WriteText(out);

  HttpResponse response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = std::move(out);
  return response;
}

// ---------------------------------------------------------------------------------------
// The event-driven front (issue 18). `io_threads` event loops, each an io_context run by
// one thread (one epoll instance; a socket is registered once for its whole life);
// accepted connections are dealt round-robin. A connection costs its buffers, never a
// thread: heads are parsed by http_parser.h on the loop, and everything that may block
// (authentication, handlers) runs on a bounded worker pool, whose full queue is answered
// 503 with Retry-After. One request per connection is handled at a time, so pipelined
// requests are answered in order.
// ---------------------------------------------------------------------------------------

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Handlers run here: a fixed set of threads and a bounded queue. TryPost refuses a job when
// the queue is full, so that the caller answers 503 instead of queueing without bound.
class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
    for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~WorkerPool() { Stop(); }
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  [[nodiscard]] bool TryPost(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || queue_.size() >= max_queued_) return false;
      queue_.push_back(std::move(job));
    }
    cv_.notify_one();
    return true;
  }
  size_t max_queued() const { return max_queued_; }

  // Runs the jobs already queued, then joins. Idempotent.
  void Stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        job = std::move(queue_.front());
        queue_.pop_front();
      }
      job();
    }
  }

  const size_t max_queued_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  // From any thread: closes the connection if it is between requests; a request in
  // flight is answered first (with Connection: close).
  virtual void StopWhenIdle() = 0;
};

}  // namespace

class AsioFront {
 public:
  explicit AsioFront(HttpServer::Impl& impl)
      : impl_(impl),
        workers_(impl.config.threads, impl.config.max_queued),
        expensive_(impl.config.expensive_threads, impl.config.expensive_queued) {}
  ~AsioFront() { Stop(); }

  // Binds and listens; the event loops start in Run. Errors: server.tls, server.bind.
  [[nodiscard]] Result<uint16_t> Listen();
  void Run();
  void Stop();

  HttpServer::Impl& impl() { return impl_; }
  WorkerPool& workers() { return workers_; }
  WorkerPool& expensive() { return expensive_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  HeadLimits limits;

  // Called by a connection's destructor.
  void Forget(ConnectionBase* connection, const std::string& host) {
    std::lock_guard lock(mutex_);
    open_.erase(connection);
    if (auto it = per_address_.find(host); it != per_address_.end() && --it->second == 0) {
      per_address_.erase(it);
    }
    if (open_.empty()) closed_.notify_all();
  }

 private:
  void Accept();
  void Open(tcp::socket socket);

  HttpServer::Impl& impl_;
  // Declared before the loops: connections destroyed with them call Forget.
  std::mutex mutex_;
  std::condition_variable closed_;
  std::unordered_map<ConnectionBase*, std::weak_ptr<ConnectionBase>> open_;
  std::unordered_map<std::string, size_t> per_address_;
  std::atomic<bool> stopping_{false};
  bool stopped_ = false;
  WorkerPool workers_;
  WorkerPool expensive_;                   // Routes marked expensive (Router::MarkExpensive).
  std::optional<asio::ssl::context> tls_;  // Outlives the connections' TLS streams.
  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::unique_ptr<tcp::acceptor> acceptor_;
  std::unique_ptr<asio::steady_timer> accept_retry_;
  size_t next_context_ = 0;  // Touched only by the accept loop (context 0).
  std::vector<std::thread> threads_;
};

namespace {

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// One client connection over `Stream` (a TCP socket, or a TLS stream over one). Every
// member is touched only on the connection's event loop, except while a worker runs its
// request: then the loop holds no operation on it and the worker posts back when done.
template <class Stream>
class Connection final : public ConnectionBase,
                         public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  template <class... TlsArgs>
  Connection(AsioFront& front, tcp::socket socket, std::string host, std::string remote,
             bool over_cap, TlsArgs&... tls)
      : front_(front),
        impl_(front.impl()),
        stream_(std::move(socket), tls...),
        timer_(stream_.get_executor()),
        host_(std::move(host)),
        remote_(std::move(remote)),
        over_cap_(over_cap) {}
  ~Connection() override { front_.Forget(this, host_); }

  void Start() {
    if (over_cap_) {
      // Answered before anything is read: the cap protects the loop from one address.
      phase_ = Phase::kWriting;
      outcome_.response = ErrorResponse(
          503,
          Error("server.busy", "more than " + std::to_string(Config().max_connections_per_address) +
                                   " open connections from " + host_));
      outcome_.response.headers["Retry-After"] = "1";
      impl_.RecordRefusal(503, Error("server.busy", "connection cap for " + host_), "- -");
      WriteRefusal();
      return;
    }
    if (front_.stopping()) {
      Close();  // Accepted while the server stopped: StopWhenIdle ran before this.
      return;
    }
    Arm(Config().header_timeout, Wait::kHead);
    if constexpr (kTls) {
      phase_ = Phase::kHandshake;
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = this->shared_from_this()](const boost::system::error_code& ec) {
            if (ec) {
              self->Close();
              return;
            }
            self->ReadHead();
          });
    } else {
      ReadHead();
    }
  }

  void StopWhenIdle() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ == Phase::kHead || self->phase_ == Phase::kHandshake) {
        self->wait_ = Wait::kStop;
        self->Cancel();
      }
    });
  }

 private:
  enum class Phase { kHandshake, kHead, kHandling, kBody, kWriting, kClosing, kClosed };
  // What the timer, when it fires, ends.
  enum class Wait { kNone, kHead, kBody, kWrite, kLinger, kStop };

  const ServerConfig& Config() const { return impl_.config; }
  tcp::socket& Tcp() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void Arm(std::chrono::steady_clock::duration after, Wait what) {
    wait_ = Wait::kNone;
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(after);
    timer_.async_wait(
        [self = this->shared_from_this(), generation, what](const boost::system::error_code& ec) {
          if (ec || generation != self->timer_generation_) return;
          self->wait_ = what;
          self->Cancel();
        });
  }
  void Disarm() {
    wait_ = Wait::kNone;
    ++timer_generation_;
    timer_.cancel();
  }
  void Cancel() {
    boost::system::error_code ignored;
    Tcp().cancel(ignored);
  }

  // Reads what is available (at most `max` bytes) onto the end of in_, then `next`.
  void ReadSome(size_t max, void (Connection::*next)()) {
    const size_t old = in_.size();
    in_.resize(old + max);
    stream_.async_read_some(asio::buffer(in_.data() + old, max),
                            [self = this->shared_from_this(), old, next](
                                const boost::system::error_code& ec, size_t n) {
                              self->in_.resize(old + n);
                              if (ec) {
                                self->OnReadError();
                                return;
                              }
                              ((*self).*next)();
                            });
  }

  void OnReadError() {
    const Wait why = std::exchange(wait_, Wait::kNone);
    if (phase_ == Phase::kHead && why == Wait::kHead && !in_.empty()) {
      Refuse(408,
             Error("request.header_timeout", "the request head did not arrive within " +
                                                 std::to_string(Config().header_timeout.count()) +
                                                 " s"),
             "- -");
      return;
    }
    if (phase_ == Phase::kBody) {
      // A request in flight: answered 408 when its time ran out, otherwise only counted
      // (the client went away mid-body).
      if (why == Wait::kBody) {
        outcome_.response =
            ErrorResponse(408, Error("request.body_timeout",
                                     "the request body did not arrive within " +
                                         std::to_string(Config().body_timeout.count()) + " s"));
        Respond(false);
        return;
      }
      outcome_.response = ErrorResponse(
          400, Error("request.bad_body", "the client closed the connection mid-body"));
      impl_.Record(outcome_, request_, head_.method, head_.target, start_,
                   "the client closed the connection mid-body");
      request_.spooled_body.reset();  // Its file goes now, not with the connection.
    }
    Close();
  }

  // Parses what is buffered; reads more while the head is incomplete.
  void ReadHead() {
    phase_ = Phase::kHead;
    if (!in_.empty()) {
      if (!head_timed_) {
        // The first byte of a head after a response: the head deadline starts now.
        head_timed_ = true;
        Arm(Config().header_timeout, Wait::kHead);
      }
      HeadParse parsed = ParseRequestHead(in_, front_.limits);
      if (parsed.state == HeadParse::State::kRefused) {
        const HeadRefusal& r = *parsed.refusal;
        Refuse(r.status, r.error,
               r.method.empty() ? "- -"
                                : Printable(r.method) + " " + Printable(LoggedTarget(r.target)));
        return;
      }
      if (parsed.state == HeadParse::State::kComplete) {
        in_.erase(0, parsed.consumed);
        head_ = std::move(parsed.head);
        OnHead();
        return;
      }
    } else if (front_.stopping()) {
      Close();
      return;
    } else if (answered_ && !head_timed_) {
      // Idle keep-alive: costs its buffers only, and ends quietly after the timeout.
      if (in_.capacity() > 65536) std::string().swap(in_);
      Arm(Config().keep_alive_timeout, Wait::kHead);
    }
    // Small reads while waiting for a head: an idle connection's buffer is its main cost.
    ReadSome(in_.empty() ? 4096 : 16384, &Connection::ReadHead);
  }

  void OnHead() {
    Disarm();
    head_timed_ = false;
    start_ = Clock::now();
    impl_.in_flight.fetch_add(1, std::memory_order_relaxed);
    request_ = HttpRequest{};
    outcome_ = HttpServer::Impl::Outcome{};
    failure_.clear();
    chunked_ = ChunkedDecoder{};
    request_.method = head_.method;
    request_.remote = remote_;
    for (const auto& [name, value] : head_.fields) {
      auto [it, fresh] = request_.headers.try_emplace(ToLower(name), value);
      if (!fresh) it->second += ", " + value;
    }
    body_expected_ = head_.chunked || (head_.content_length && *head_.content_length > 0);
    body_left_ = head_.content_length.value_or(0);
    phase_ = Phase::kHandling;
    // The checks that need no body run here on the loop: they are pure CPU but for a
    // token or a registry grant missing from its cache (one SQLite read, tens of µs, at
    // most once per token per cache TTL and per org per ledger append). Handing them to a
    // worker cost two thread hand-offs per request, the front's largest cost.
    impl_.Guarded(
        [&] { outcome_ = impl_.Prepare(request_, head_.target, head_.content_length, host_); },
        outcome_, failure_);
    if (outcome_.proceed && !body_expected_) {
      outcome_.proceed = false;
      outcome_.body_read = true;
      Handle();
      return;
    }
    if (outcome_.proceed && outcome_.route->checks_before_body) {
      CheckBeforeBodyOn(front_.workers());
      return;
    }
    AfterPrepare();
  }

  // The route's checks before its body (Router::MarkCheckedBeforeBody) on `pool`, as they
  // may read the ledger; then AfterPrepare on the loop. Nothing of the body is read, and no
  // 100 Continue sent, before they pass.
  void CheckBeforeBodyOn(WorkerPool& pool) {
    auto self = this->shared_from_this();
    const bool queued = pool.TryPost([self] {
      HttpServer::Impl& impl = self->impl_;
      impl.Guarded([&] { impl.CheckBeforeBody(self->request_, self->outcome_); }, self->outcome_,
                   self->failure_);
      asio::post(self->stream_.get_executor(), [self] { self->AfterPrepare(); });
    });
    if (!queued) {
      asio::post(stream_.get_executor(), [self, &pool] { self->Busy(pool); });
    }
  }

  // With every check passed and the body read: the handler runs here on the loop when its
  // route is marked inline for this request (Router::MarkInline), otherwise on its pool.
  void Handle() {
    const Route& route = *outcome_.route;
    bool inline_here = false;
    if (route.runs_inline) {
      impl_.Guarded([&] { inline_here = route.runs_inline(request_); }, outcome_, failure_);
      if (!failure_.empty()) {
        Respond(true);  // The 500 Guarded made of the throw.
        return;
      }
    }
    if (!inline_here) {
      FinishOn(route.expensive ? front_.expensive() : front_.workers());
      return;
    }
    impl_.Guarded([&] { impl_.Finish(request_, outcome_); }, outcome_, failure_);
    Respond(true);
  }

  // Runs Finish on `pool`, then answers on the loop; a full pool is answered 503. Called
  // on the loop or on the worker that ran Prepare (it touches no member then but posts).
  void FinishOn(WorkerPool& pool) {
    auto self = this->shared_from_this();
    const bool queued = pool.TryPost([self] {
      HttpServer::Impl& impl = self->impl_;
      impl.Guarded([&] { impl.Finish(self->request_, self->outcome_); }, self->outcome_,
                   self->failure_);
      asio::post(self->stream_.get_executor(), [self] { self->Respond(true); });
    });
    if (!queued) {
      asio::post(stream_.get_executor(), [self, &pool] { self->Busy(pool); });
    }
  }

  void AfterPrepare() {
    if (!outcome_.proceed) {
      // Answered without the body: the unread bytes would be read as the next request.
      Respond(!body_expected_ || outcome_.body_read);
      return;
    }
    phase_ = Phase::kBody;
    Arm(Config().body_timeout, Wait::kBody);
    if (head_.expect_continue) {
      // Only now, once every check that can refuse without the body passed: a client
      // announcing an over-limit body got its 413 and never sends it.
      asio::async_write(
          stream_, asio::buffer(kContinue.data(), kContinue.size()),
          [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
            if (ec) {
              self->OnReadError();
              return;
            }
            self->ReadBody();
          });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    if (head_.chunked) {
      auto step = chunked_.Feed(in_, request_.body);
      if (!step) {
        outcome_.response = ErrorResponse(400, step.error());
        Respond(false);
        return;
      }
      in_.erase(0, step->consumed);
      if (BodySize() > outcome_.max_body) {
        TooLarge();
        return;
      }
      if (!Spool(step->done)) return;
      if (step->done) {
        BodyDone();
        return;
      }
    } else {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(body_left_, in_.size()));
      request_.body.append(in_, 0, take);
      in_.erase(0, take);
      body_left_ -= take;
      if (!Spool(body_left_ == 0)) return;
      if (body_left_ == 0) {
        BodyDone();
        return;
      }
    }
    ReadSome(65536, &Connection::ReadBody);
  }

  uint64_t BodySize() const {
    return request_.body.size() + (request_.spooled_body ? request_.spooled_body->size() : 0);
  }

  // For a spooled route (Router::MarkSpooled): moves what request_.body holds to the
  // body's file once the body is past the spool threshold, and at its end when a file was
  // begun. False: the file could not be made or written, and the refusal is under way.
  bool Spool(bool last) {
    if (!outcome_.route->spooled) return true;
    if (!request_.spooled_body && BodySize() <= Config().spool_threshold_bytes) return true;
    // Written in pieces of at least 64 KiB: one write per read would be a syscall per packet.
    if (!last && request_.body.size() < 65536 && request_.spooled_body) return true;
    Status written = Ok();
    if (!request_.spooled_body) {
      auto created = SpooledBody::Create(Config().spool_dir);
      if (created) {
        request_.spooled_body = std::move(*created);
      } else {
        written = std::unexpected(created.error());
      }
    }
    if (written) written = request_.spooled_body->Append(request_.body);
    if (!written) {
      failure_ = written.error().ToString();
      request_.spooled_body.reset();
      outcome_.response = ErrorResponse(written.error());
      Respond(false);
      return false;
    }
    request_.body.clear();
    if (request_.body.capacity() > (1 << 20)) std::string().swap(request_.body);
    return true;
  }

  void TooLarge() {
    outcome_.response = ErrorResponse(
        413, Error("request.too_large",
                   "body exceeds the limit of " + std::to_string(outcome_.max_body) + " bytes"));
    Respond(false);
  }

  void BodyDone() {
    Disarm();
    outcome_.body_read = true;
    outcome_.proceed = false;
    phase_ = Phase::kHandling;
    Handle();
  }

  // Every thread of `pool` busy and its queue full: 503 with Retry-After, never a silent
  // close.
  void Busy(WorkerPool& pool) {
    const std::string who =
        &pool == &front_.expensive() ? "every expensive-work thread" : "every worker";
    outcome_.response = ErrorResponse(
        503, Error("server.busy",
                   who + " is busy and " + std::to_string(pool.max_queued()) + " requests wait"));
    outcome_.response.headers["Retry-After"] = "1";
    Respond(!body_expected_ || outcome_.body_read);
  }

  // Sends outcome_.response; then reads the next request or closes.
  void Respond(bool may_keep_alive) {
    const bool keep = may_keep_alive && head_.keep_alive && !front_.stopping();
    const HttpResponse& r = outcome_.response;
    out_head_ = ResponseHead(r.status, r.content_type, r.headers, r.body.size(), keep);
    phase_ = Phase::kWriting;
    Arm(Config().body_timeout, Wait::kWrite);
    const bool head_only = head_.method == "HEAD";
    const std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(out_head_), head_only ? asio::const_buffer() : asio::buffer(r.body)};
    asio::async_write(
        stream_, buffers,
        [self = this->shared_from_this(), keep](const boost::system::error_code& ec, size_t) {
          self->Disarm();
          std::string failure = std::move(self->failure_);
          if (ec) {
            failure += (failure.empty() ? "" : "; ") + std::string("sending the response: ") +
                       ec.message();
          }
          self->impl_.Record(self->outcome_, self->request_, self->head_.method, self->head_.target,
                             self->start_, std::move(failure));
          self->request_ = HttpRequest{};
          self->outcome_.response = HttpResponse{};
          if (ec) {
            self->Close();
          } else if (!keep) {
            self->Linger();
          } else {
            self->answered_ = true;
            self->ReadHead();
          }
        });
  }

  // A head refused for its framing or its deadline: our JSON error, Connection: close,
  // and nothing more read from the connection.
  void Refuse(int status, const Error& error, const std::string& what) {
    Disarm();
    impl_.RecordRefusal(status, error, what);
    outcome_.response = ErrorResponse(status, error);
    WriteRefusal();
  }

  void WriteRefusal() {
    const HttpResponse& r = outcome_.response;
    out_head_ = ResponseHead(r.status, r.content_type, r.headers, r.body.size(), false);
    phase_ = Phase::kWriting;
    Arm(Config().body_timeout, Wait::kWrite);
    const std::array<asio::const_buffer, 2> buffers = {asio::buffer(out_head_),
                                                       asio::buffer(r.body)};
    asio::async_write(
        stream_, buffers,
        [self = this->shared_from_this()](const boost::system::error_code& ec, size_t) {
          self->Disarm();
          if (ec) {
            self->Close();
          } else {
            self->Linger();
          }
        });
  }

  // Half-closes and drains a little, so that unread request bytes do not turn the close
  // into a reset that destroys the answer before the client reads it.
  void Linger() {
    phase_ = Phase::kClosing;
    boost::system::error_code ignored;
    Tcp().shutdown(tcp::socket::shutdown_send, ignored);
    drained_ = 0;
    in_.clear();
    Arm(std::chrono::seconds(1), Wait::kLinger);
    Drain();
  }
  void Drain() {
    in_.resize(4096);
    Tcp().async_read_some(
        asio::buffer(in_.data(), in_.size()),
        [self = this->shared_from_this()](const boost::system::error_code& ec, size_t n) {
          self->drained_ += n;
          if (ec || self->drained_ > 65536) {
            self->Close();
            return;
          }
          self->Drain();
        });
  }

  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    Disarm();
    boost::system::error_code ignored;
    Tcp().close(ignored);
  }

  AsioFront& front_;
  HttpServer::Impl& impl_;
  Stream stream_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  Wait wait_ = Wait::kNone;
  const std::string host_, remote_;
  const bool over_cap_;
  Phase phase_ = Phase::kHandshake;
  std::string in_;
  bool answered_ = false;   // A response was sent: the next wait is keep-alive idle.
  bool head_timed_ = true;  // The head deadline runs (from the opening for the first).
  RequestHead head_;
  HttpRequest request_;
  HttpServer::Impl::Outcome outcome_;
  std::string failure_;
  ChunkedDecoder chunked_;
  bool body_expected_ = false;
  uint64_t body_left_ = 0;
  Clock::time_point start_;
  std::string out_head_;
  size_t drained_ = 0;
};

}  // namespace

Result<uint16_t> AsioFront::Listen() {
  const ServerConfig& config = impl_.config;
  if (config.tls_cert_file) {
    boost::system::error_code ec;
    tls_.emplace(asio::ssl::context::tls_server);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1,
                      ec);
    if (!ec) tls_->use_certificate_chain_file(*config.tls_cert_file, ec);
    if (!ec) tls_->use_private_key_file(*config.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) {
      return Fail("server.tls", "cannot load certificate '" + *config.tls_cert_file + "' / key '" +
                                    *config.tls_key_file + "': " + ec.message());
    }
  }
  const size_t loops = config.io_threads != 0
                           ? config.io_threads
                           : std::max<size_t>(1, std::thread::hardware_concurrency());
  for (size_t i = 0; i < loops; ++i) {
    // Concurrency hint 1: each loop is run by exactly one thread, so Asio skips locking.
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(asio::make_work_guard(*contexts_.back()));
  }
  const std::string where = config.bind + ":" + std::to_string(config.port);
  boost::system::error_code ec;
  tcp::resolver resolver(*contexts_[0]);
  auto endpoints = resolver.resolve(config.bind, std::to_string(config.port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Fail("server.bind", "cannot resolve " + where + ": " + ec.message());
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  // SO_REUSEADDR (restart while old connections linger) but never SO_REUSEPORT: a second
  // server on a port in use must fail, not silently share its traffic.
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(4096, ec);
  if (ec) return Fail("server.bind", "cannot listen on " + where + ": " + ec.message());
  accept_retry_ = std::make_unique<asio::steady_timer>(*contexts_[0]);
  return acceptor_->local_endpoint().port();
}

void AsioFront::Run() {
  Accept();
  for (auto& context : contexts_) {
    threads_.emplace_back([c = context.get()] { c->run(); });
  }
}

void AsioFront::Accept() {
  asio::io_context& target = *contexts_[next_context_++ % contexts_.size()];
  acceptor_->async_accept(target, [this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopping()) return;
    if (ec) {
      if (ec == asio::error::operation_aborted) return;
      // Out of descriptors or memory: try again shortly rather than spin.
      accept_retry_->expires_after(std::chrono::milliseconds(50));
      accept_retry_->async_wait([this](const boost::system::error_code& wait_ec) {
        if (!wait_ec && !stopping()) Accept();
      });
      return;
    }
    Open(std::move(socket));
    Accept();
  });
}

void AsioFront::Open(tcp::socket socket) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return;  // Gone already.
  socket.set_option(tcp::no_delay(true), ec);
  const auto executor = socket.get_executor();  // The loop the socket was accepted onto.
  const std::string host = peer.address().to_string();
  const std::string remote =
      (peer.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(peer.port());
  const size_t cap = impl_.config.max_connections_per_address;
  std::shared_ptr<ConnectionBase> connection;
  std::function<void()> start;
  std::lock_guard lock(mutex_);
  const bool over_cap = cap != 0 && per_address_[host] >= cap;
  ++per_address_[host];
  if (tls_) {
    auto c = std::make_shared<Connection<asio::ssl::stream<tcp::socket>>>(
        *this, std::move(socket), host, remote, over_cap, *tls_);
    start = [c] { c->Start(); };
    connection = c;
  } else {
    auto c =
        std::make_shared<Connection<tcp::socket>>(*this, std::move(socket), host, remote, over_cap);
    start = [c] { c->Start(); };
    connection = c;
  }
  open_.emplace(connection.get(), connection);
  // Started on its own loop, which may be another thread than this accept loop.
  asio::post(executor, std::move(start));
}

void AsioFront::Stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
  }
  stopping_.store(true, std::memory_order_release);
  if (!contexts_.empty() && !threads_.empty()) {
    // Stop accepting, on the accept loop's own thread; then new clients are refused.
    std::promise<void> closed;
    asio::post(*contexts_[0], [&] {
      boost::system::error_code ignored;
      if (acceptor_) acceptor_->close(ignored);
      if (accept_retry_) accept_retry_->cancel();
      closed.set_value();
    });
    closed.get_future().wait();
    // Idle connections close now; one with a request in flight answers it first.
    std::vector<std::shared_ptr<ConnectionBase>> live;
    {
      std::lock_guard lock(mutex_);
      for (auto& [raw, weak] : open_) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (auto& c : live) c->StopWhenIdle();
    live.clear();  // Outside the lock: the last reference may be dropped here.
    std::unique_lock lock(mutex_);
    // Bounded, so that a handler that never returns cannot hang shutdown forever.
    closed_.wait_for(lock, std::chrono::seconds(60), [&] { return open_.empty(); });
  }
  workers_.Stop();
  expensive_.Stop();
  for (auto& guard : guards_) guard.reset();
  for (auto& context : contexts_) context->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() { Stop(); }

uint16_t HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return impl_->tls; }
MetricsRegistry& HttpServer::metrics() { return *impl_->metrics; }

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerConfig& config, Router router,
                                                      TokenStore* tokens) {
  if (config.tls_cert_file.has_value() != config.tls_key_file.has_value()) {
    return Fail("server.config", "TLS needs both tls_cert_file and tls_key_file, or neither");
  }
  if (config.threads == 0 || config.max_queued == 0 || config.expensive_threads == 0 ||
      config.expensive_queued == 0) {
    return Fail("server.config",
                "threads, max_queued, expensive_threads and expensive_queued must be at least 1");
  }
  if (config.rate_limit_per_second_per_token < 0) {
    return Fail("server.config", "rate_limit_per_second_per_token is negative");
  }
  if (tokens == nullptr && router.HasProtectedRoutes()) {
    return Fail("server.config", "routes need roles but no TokenStore was given");
  }

  auto impl = std::make_unique<Impl>();
  impl->config = config;
  impl->tokens = tokens;
  impl->metrics = config.metrics ? config.metrics : std::make_shared<MetricsRegistry>();
  if (config.rate_limit_per_second_per_token > 0) {
    impl->limiter = std::make_unique<RateLimiter>(config.rate_limit_per_second_per_token);
  }
  Impl* self = impl.get();
  if (config.sessions) {
    if (tokens == nullptr) return Fail("server.config", "sessions need a TokenStore");
    impl->sessions = std::make_unique<SessionStore>(*config.sessions);
    auto added = impl->AddSessionRoutes(router);
    if (!added) return Fail("server.config", added.error().message());
  }
  for (auto [pattern, handler] :
       {std::pair<const char*, HttpHandler>{"/healthz",
                                            [self](const HttpRequest&) { return self->Healthz(); }},
        std::pair<const char*, HttpHandler>{
            "/metrics", [self](const HttpRequest&) { return self->Metrics(); }}}) {
    auto added = router.Add("GET", pattern, Access::Public(), std::move(handler));
    if (!added) return Fail("server.config", added.error().message());
  }
  if (!config.health_check) {
    // Nothing in /healthz can block then, so it stays cheap however busy the workers are.
    auto marked = router.MarkInline("GET", "/healthz");
    if (!marked) return Fail("server.config", marked.error().message());
  }
  impl->router = std::move(router);
  const auto& routes = impl->router.routes();
  for (const auto& r : routes) {
    if (r.pattern == "/healthz" || r.pattern == "/metrics") impl->rate_exempt.insert(&r);
    auto s = std::make_unique<RouteStats>();
    s->method = r.method;
    s->route = r.pattern;
    impl->stats.push_back(std::move(s));
  }
  auto unmatched = std::make_unique<RouteStats>();
  unmatched->method = "*";
  unmatched->route = "unmatched";
  impl->stats.push_back(std::move(unmatched));

  impl->front = std::make_unique<AsioFront>(*impl);
  PEDIGREE_ASSIGN(port, impl->front->Listen());
  impl->port = *port;
  impl->tls = config.tls_cert_file.has_value();
  impl->front->Run();
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

void HttpServer::Stop() {
  if (!impl_) return;
  std::lock_guard lock(impl_->stop_mutex);
  if (impl_->stopped || !impl_->front) return;
  impl_->stopped = true;
  impl_->front->Stop();
}

}  // namespace pedigree::services
