// The HTTP chassis of the pedigree API: a router of (method, path pattern, access,
// handler) routes, structured JSON errors, bearer-token authentication, per-token rate
// limiting, /healthz, /metrics and request logging, served by an event-driven HTTP/1.1
// front (Boost.Asio, our strict parser http_parser.h; TLS when a certificate is configured).
// Endpoints plug in as Router routes. The conventions clients see are in docs/api.md.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pedigree/base/error.h"
#include "pedigree/http/metrics.h"
#include "pedigree/usecases/auth.h"

namespace pedigree::services {

// A request body the front wrote to an unlinked temporary file instead of memory (routes
// marked by Router::MarkSpooled, bodies over ServerConfig::spool_threshold_bytes). The file
// has no name (O_TMPFILE, or mkstemp and unlink), mode 0600, and disappears with the last
// reference: nothing is left behind when a client goes away mid-body or the server dies.
// Reads are positional, so several threads may read one body.
class SpooledBody {
 public:
  // A new, empty body in `dir` (the system's temporary directory when empty).
  // Errors: storage.io when no file can be made there.
  [[nodiscard]] static Result<std::shared_ptr<SpooledBody>> Create(const std::string& dir);
  ~SpooledBody();
  SpooledBody(const SpooledBody&) = delete;
  SpooledBody& operator=(const SpooledBody&) = delete;

  // Errors: storage.full when the disk is full, storage.io otherwise.
  [[nodiscard]] Status Append(std::string_view bytes);
  uint64_t size() const { return size_; }
  // Up to `n` bytes from `offset` into `out`; fewer only at the end. Errors: storage.io.
  [[nodiscard]] Result<size_t> ReadAt(uint64_t offset, char* out, size_t n) const;
  int fd() const { return fd_; }

 private:
  explicit SpooledBody(int fd) : fd_(fd) {}
  int fd_;
  uint64_t size_ = 0;
};

// One request as a handler sees it. Path segments, path parameters and query values
// are percent-decoded; header names are lower case.
struct HttpRequest {
  std::string method, path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;
  // The body; empty when it was spooled to a file (then `spooled_body` holds it).
  std::string body;
  std::shared_ptr<SpooledBody> spooled_body;
  std::string remote;                  // "host:port" of the client.
  std::optional<Principal> principal;  // Set when a valid bearer token came with it.
  // The session cookie's value when the principal came from a web session (docs/web.md).
  std::string session_id;
  std::map<std::string, std::string> path_params;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::map<std::string, std::string> headers;
  // For a 5xx: the error behind it ("code: message"), written to the access log and never
  // sent to the client.
  std::string internal_cause;
};

// Handlers may run concurrently on several threads. An exception escaping a handler
// becomes a 500 `internal` response (logged, never shown to the client).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

// Which object a caller may reach through a route: Ok when the object the request names is
// visible to the caller's organisation, otherwise the error to answer. A check answers an
// object the caller may not see exactly as an unknown one (404 with the object's not_found
// code, naming what the request named), so that nobody can probe what exists. Must be
// thread-safe.
using ScopeCheck = std::function<Status(const HttpRequest&)>;

// Who may call a route: anyone, or a caller holding at least one of the roles, and then
// (for a route with a scope) only on the objects the scope check lets it see. The chassis
// evaluates both, in that order, after reading the body and before the handler runs; the
// rules themselves are the table "Access rules" in docs/api.md.
struct Access {
  bool is_public = false;
  std::set<std::string> any_of;
  std::string scope;  // The rule's name in docs/api.md, e.g. "pack"; empty = roles only.
  ScopeCheck check;

  static Access Public() { return Access{true, {}, {}, {}}; }
  static Access AnyOf(std::set<std::string> roles) {
    return Access{false, std::move(roles), {}, {}};
  }
  // These roles, narrowed to the objects `check` lets the caller see.
  Access Scoped(std::string rule, ScopeCheck scope_check) const {
    Access a = *this;
    a.scope = std::move(rule);
    a.check = std::move(scope_check);
    return a;
  }
};

// What the chassis checks about a body before the handler runs.
enum class BodyKind {
  kAny,   // Passed through as bytes.
  kJson,  // Must be well-formed JSON: otherwise 400 request.invalid_json with line/column.
};

struct Route {
  std::string method;   // "GET", "POST", ...
  std::string pattern;  // "/v1/packs/{id}/history": literal segments and {name} segments.
  Access access;
  HttpHandler handler;
  BodyKind body = BodyKind::kAny;
  std::vector<std::string> segments;  // The pattern split on '/'.
  // This route's body limit in bytes, replacing ServerConfig::max_body_bytes; 0 = the
  // server's (dataset uploads need more than commands do).
  size_t max_body_bytes = 0;
  // Set by Router::MarkExpensive: the handler runs on the server's small pool for
  // expensive work (ServerConfig::expensive_threads), after the checks that need no body.
  bool expensive = false;
  // Set by Router::MarkCheckedBeforeBody: the scope check and `before_body` run before the
  // body is read (on a worker), so that a refused upload is answered without reading it.
  bool checks_before_body = false;
  ScopeCheck before_body;
  // Set by Router::MarkSpooled: a body over ServerConfig::spool_threshold_bytes goes to a
  // SpooledBody instead of HttpRequest::body.
  bool spooled = false;
  // Set by Router::MarkInline: the handler runs on the event loop that read the request,
  // without the two thread hand-offs of the worker pool, for requests this says yes to.
  std::function<bool(const HttpRequest&)> runs_inline;
};

// The outcome of matching a method and a decoded path against the routes.
struct RouteMatch {
  const Route* route = nullptr;                    // Null: not found or wrong method.
  std::map<std::string, std::string> path_params;  // Set when route != nullptr.
  std::vector<std::string> allowed_methods;        // Set when the path matched, the method not.
};

// A set of routes. Not thread-safe while being built; read-only once given to a server.
class Router {
 public:
  // Adds a route. Errors (router.*): a pattern not starting with '/', an empty or
  // malformed {} segment, a repeated parameter name, a duplicate (method, pattern), a
  // protected route with no roles or an unknown role, a scope without a check or on a
  // public route.
  // `max_body_bytes` > 0 sets the route's own body limit (see Route).
  [[nodiscard]] Status Add(std::string method, std::string pattern, Access access,
                           HttpHandler handler, BodyKind body = BodyKind::kAny,
                           size_t max_body_bytes = 0);

  // Where several patterns match, the one with more literal segments earlier wins
  // ("/v1/packs/search" beats "/v1/packs/{id}").
  RouteMatch Match(std::string_view method, const std::vector<std::string>& segments) const;

  // Marks a route added before as expensive (audits, report builds, dataset uploads), so
  // that many of them cannot take the workers every other request needs.
  // Errors: router.unknown_route when no route has this method and pattern.
  [[nodiscard]] Status MarkExpensive(std::string_view method, std::string_view pattern);

  // Marks a route added before as one whose refusals that need no body must come before
  // the body is read (dataset uploads): its scope check, then `check` (which sees the path,
  // query, headers and principal, never the body), run on a worker once the checks of
  // Prepare passed and before `100 Continue` is sent or a body byte is read. A refusal is
  // answered at once and the connection closed. Requests without a body run both in the
  // usual place. Errors: router.unknown_route.
  [[nodiscard]] Status MarkCheckedBeforeBody(std::string_view method, std::string_view pattern,
                                             ScopeCheck check = {});

  // Marks a route added before as taking large files: bodies over the server's spool
  // threshold are written to an unlinked file (HttpRequest::spooled_body) instead of memory,
  // under the same size limit, body deadline and chunked rules.
  // Errors: router.unknown_route.
  [[nodiscard]] Status MarkSpooled(std::string_view method, std::string_view pattern);

  // Marks a route added before as short (a read of tens of µs, nothing that waits on a
  // lock held across I/O or on signing): its handler runs on the event loop, for the
  // requests `when` says yes to (empty = all), while the loop's other connections wait.
  // Errors: router.unknown_route when no route has this method and pattern.
  [[nodiscard]] Status MarkInline(std::string_view method, std::string_view pattern,
                                  std::function<bool(const HttpRequest&)> when = {});

  const std::vector<Route>& routes() const { return routes_; }
  bool HasProtectedRoutes() const;

 private:
  std::vector<Route> routes_;
};

// The HTTP status for an error code: the status its entry in the error-code registry
// declares (pedigree/base/error_codes.h; the table is in docs/api.md, "Errors"). An
// undeclared code is a programming error: it is reported once per code on stderr and
// answers 500.
int HttpStatusFor(const Error& error);

// A JSON error response {"error":{"code","message","field"?,"line"?,"column"?,
// "offset"?}} with status HttpStatusFor(error). For 5xx statuses the body says only
// {"code":"internal","message":"internal error"}: the details belong in the log.
HttpResponse ErrorResponse(const Error& error);
// The same with an explicit status (for the chassis' own 405/413/429).
HttpResponse ErrorResponse(int status, const Error& error);

// `s` as a JSON string literal with quotes (RFC 8259 escaping; other bytes as is).
std::string JsonQuote(std::string_view s);

// Decodes %XX escapes (and '+' as space when `plus_is_space`, as in query strings).
// Errors: request.bad_encoding for a truncated or non-hex escape or an encoded NUL.
[[nodiscard]] Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

// Checks JSON well-formedness (RFC 8259) without building a document.
// Errors: request.invalid_json with line and column (1-based) of the first bad byte.
[[nodiscard]] Status CheckJsonSyntax(std::string_view text);

// The web app's sessions (docs/web.md, "Sessions"). A session ends when it has not been
// used for `idle_timeout`, `lifetime` after it was opened, on sign-out, when its token is
// revoked, and when the server restarts.
struct SessionPolicy {
  using Clock = std::chrono::steady_clock;
  std::chrono::seconds idle_timeout{30 * 60};
  std::chrono::seconds lifetime{12 * 60 * 60};
  // Open sessions at most; opening one more drops the least recently used. 0 = no limit.
  size_t max_sessions = 10000;
  // The time sessions expire by; empty = Clock::now (tests pass a clock they advance).
  std::function<Clock::time_point()> clock;
};

struct ServerConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 0;  // 0 = an ephemeral port; see HttpServer::port().
  // Worker threads running handlers (which may block on SQLite or signing). Connections
  // cost no thread: `io_threads` event loops read and write them.
  size_t threads = 32;
  size_t max_body_bytes = 1 << 20;
  // Requests waiting for a worker; one more is answered 503 with Retry-After.
  size_t max_queued = 256;
  std::chrono::seconds keep_alive_timeout{10};
  // Event loops (one epoll instance each); 0 = one per core.
  size_t io_threads = 0;
  // The whole request head must arrive within header_timeout of its first byte (of the
  // connection's opening for the first request), the body within body_timeout of the
  // head: 408 and close past either, so that slow clients cannot hold connections.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{60};
  // Where bodies of spooled routes (Router::MarkSpooled) larger than spool_threshold_bytes
  // are written (unlinked files, mode 0600); empty = the system's temporary directory.
  // `pedigree serve` uses the node's data directory.
  std::string spool_dir;
  size_t spool_threshold_bytes = 1 << 20;
  // Open connections per client address; one more is answered 503 and closed. 0 = none.
  size_t max_connections_per_address = 256;
  // The pool for routes marked expensive, and the requests that may wait for it; one more
  // is answered 503 with Retry-After.
  size_t expensive_threads = 2;
  size_t expensive_queued = 8;
  std::optional<std::string> tls_cert_file, tls_key_file;  // PEM; both or neither.
  // Token bucket per token (per client address for anonymous calls); bursts up to one
  // second's worth. 0 = off. /healthz and /metrics are exempt.
  double rate_limit_per_second_per_token = 0;
  // One line per request: "<method> <path>[?<query names>] <status> <µs>us", plus
  // the reasons for 500s. Must outlive the server. Null = no log.
  std::ostream* access_log = nullptr;
  // Called by /healthz; an error makes it answer 503 with that error. Must be
  // thread-safe. Empty = always healthy.
  std::function<Status()> health_check;
  // The roles an organisation's tokens may carry now (token_grants.h: RegistryGrants).
  // Called on every authenticated request and must be thread-safe and cheap. The
  // principal's roles become the token's roles it returns; a token left with none is
  // refused with 403 auth.forbidden_role, an error answers 500. Empty = the roles the
  // token was issued with (for a chassis without a registry; `pedigree serve` sets it).
  std::function<Result<std::set<std::string>>(const std::string& org)> granted_roles;
  // Set: the server adds POST, GET and DELETE /v1/session, and a `pedigree_session`
  // cookie authenticates requests as the token its session was opened with; a cookie
  // request that changes state (not GET/HEAD/OPTIONS) on a protected route must carry the
  // session's X-CSRF-Token header (403 auth.csrf otherwise). Unset: no cookies are read.
  std::optional<SessionPolicy> sessions;
  // Registry for /metrics; the server creates one when empty.
  std::shared_ptr<MetricsRegistry> metrics;
};

// A running HTTP(S) server. Thread-safe.
class HttpServer {
 public:
  // Binds, adds GET /healthz and GET /metrics (and the session routes when
  // config.sessions is set) to `router`, and starts serving.
  // `tokens` (may be null when every route is public) must outlive the server.
  // Errors: server.config, server.bind, server.tls.
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> Start(const ServerConfig& config,
                                                                 Router router, TokenStore* tokens);
  ~HttpServer();  // Stops.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  uint16_t port() const;
  bool tls() const;
  MetricsRegistry& metrics();

  // Graceful: stops accepting, lets in-flight requests finish and be answered, closes
  // idle keep-alive connections, then returns. Idempotent.
  void Stop();

  struct Impl;  // Opaque; defined next to the network front.

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace pedigree::services
