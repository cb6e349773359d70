// Transport-independent parts of the HTTP chassis: routing, error mapping, decoding.
#include <algorithm>
#include <cstdio>
#include <mutex>

#include "pedigree/base/canonical_json.h"
#include "pedigree/base/error_codes.h"
#include "pedigree/http/http_server.h"

namespace pedigree::services {
namespace {

std::vector<std::string> SplitPattern(std::string_view pattern) {
  std::vector<std::string> out;
  size_t start = 1;
  while (start <= pattern.size()) {
    size_t end = pattern.find('/', start);
    if (end == std::string_view::npos) end = pattern.size();
    out.emplace_back(pattern.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsParam(const std::string& segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Status Router::MarkExpensive(std::string_view method, std::string_view pattern) {
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.expensive = true;
      return Ok();
    }
  }
  return Fail("router.unknown_route", "no route " + std::string(method) + " " +
                                          std::string(pattern) + " to mark expensive");
}

Status Router::MarkCheckedBeforeBody(std::string_view method, std::string_view pattern,
                                     ScopeCheck check) {
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.checks_before_body = true;
      r.before_body = std::move(check);
      return Ok();
    }
  }
  return Fail("router.unknown_route", "no route " + std::string(method) + " " +
                                          std::string(pattern) + " to check before the body");
}

Status Router::MarkSpooled(std::string_view method, std::string_view pattern) {
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.spooled = true;
      return Ok();
    }
  }
  return Fail("router.unknown_route",
              "no route " + std::string(method) + " " + std::string(pattern) + " to spool");
}

Status Router::MarkInline(std::string_view method, std::string_view pattern,
                          std::function<bool(const HttpRequest&)> when) {
  if (!when) when = [](const HttpRequest&) { return true; };
  for (auto& r : routes_) {
    if (r.method == method && r.pattern == pattern) {
      r.runs_inline = std::move(when);
      return Ok();
    }
  }
  return Fail("router.unknown_route",
              "no route " + std::string(method) + " " + std::string(pattern) + " to mark inline");
}

Status Router::Add(std::string method, std::string pattern, Access access, HttpHandler handler,
                   BodyKind body, size_t max_body_bytes) {
  if (pattern.empty() || pattern.front() != '/') {
    return Fail("router.bad_pattern", "pattern '" + pattern + "' does not start with '/'");
  }
  if (!handler) return Fail("router.no_handler", method + " " + pattern + " has no handler");
  std::vector<std::string> segments = SplitPattern(pattern);
  std::set<std::string> names;
  for (const auto& s : segments) {
    const bool braces = s.find_first_of("{}") != std::string::npos;
    if (braces && (!IsParam(s) || s.size() == 2 ||
                   s.substr(1, s.size() - 2).find_first_of("{}") != std::string::npos)) {
      return Fail("router.bad_pattern", "pattern '" + pattern + "' has a malformed segment '" + s +
                                            "'; parameters are whole segments like {id}");
    }
    if (IsParam(s) && !names.insert(s.substr(1, s.size() - 2)).second) {
      return Fail("router.bad_pattern", "pattern '" + pattern + "' repeats parameter " + s);
    }
  }
  if (!access.is_public) {
    if (access.any_of.empty()) {
      return Fail("router.no_roles",
                  method + " " + pattern + " is neither public nor names a role that may call it");
    }
    for (const auto& role : access.any_of) {
      if (!IsKnownRole(role)) {
        return Fail("router.unknown_role",
                    method + " " + pattern + " names unknown role '" + role + "'");
      }
    }
  }
  if (access.scope.empty() != !access.check || (access.is_public && access.check)) {
    return Fail("router.bad_scope", method + " " + pattern +
                                        " needs both a scope name and its check, on a route "
                                        "that is not public");
  }
  // Parameter names do not distinguish routes: /a/{id} and /a/{other} collide.
  auto shape = [](const std::vector<std::string>& segs) {
    std::vector<std::string> out;
    for (const auto& s : segs) out.push_back(IsParam(s) ? "{}" : s);
    return out;
  };
  const auto new_shape = shape(segments);
  for (const auto& r : routes_) {
    if (r.method == method && shape(r.segments) == new_shape) {
      return Fail("router.duplicate",
                  method + " " + pattern + " is already routed as " + r.method + " " + r.pattern);
    }
  }
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(access),
                          std::move(handler), body, std::move(segments), max_body_bytes});
  return Ok();
}

RouteMatch Router::Match(std::string_view method, const std::vector<std::string>& segments) const {
  RouteMatch out;
  // Specificity as a literal/parameter string ('1' literal, '0' parameter) compared
  // lexicographically: earlier literals win.
  std::string best_rank;
  for (const auto& r : routes_) {
    if (r.segments.size() != segments.size()) continue;
    std::string rank;
    bool matches = true;
    for (size_t i = 0; i < segments.size() && matches; ++i) {
      if (IsParam(r.segments[i])) {
        matches = !segments[i].empty();
        rank += '0';
      } else {
        matches = r.segments[i] == segments[i];
        rank += '1';
      }
    }
    if (!matches) continue;
    if (r.method != method) {
      if (std::find(out.allowed_methods.begin(), out.allowed_methods.end(), r.method) ==
          out.allowed_methods.end()) {
        out.allowed_methods.push_back(r.method);
      }
      continue;
    }
    if (out.route == nullptr || rank > best_rank) {
      out.route = &r;
      best_rank = rank;
    }
  }
  if (out.route != nullptr) {
    out.allowed_methods.clear();
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string& s = out.route->segments[i];
      if (IsParam(s)) out.path_params[s.substr(1, s.size() - 2)] = segments[i];
    }
  } else {
    std::sort(out.allowed_methods.begin(), out.allowed_methods.end());
  }
  return out;
}

bool Router::HasProtectedRoutes() const {
  return std::any_of(routes_.begin(), routes_.end(),
                     [](const Route& r) { return !r.access.is_public; });
}

int HttpStatusFor(const Error& error) {
  if (const ErrorCodeInfo* info = FindErrorCode(error.code())) return info->http_status;
  // An undeclared code is a bug in pedigree, not the client's: say so once per code, so
  // a busy server does not flood its log, and answer 500 internal.
  static std::mutex mutex;
  static std::set<std::string, std::less<>> reported;
  std::lock_guard lock(mutex);
  if (reported.insert(error.code()).second) {
    std::fprintf(stderr,
                 "pedigree: error code '%s' is not declared in ledger/base/src/error_codes.cpp; "
                 "answering 500 internal (%s)\n",
                 error.code().c_str(), error.message().c_str());
  }
  return 500;
}

std::string JsonQuote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

HttpResponse ErrorResponse(int status, const Error& error) {
  HttpResponse response;
  response.status = status;
  if (status == 507) {
    // storage.full: the client may retry later; the path stays in the server's log.
    response.body = "{\"error\":{\"code\":" + JsonQuote(error.code()) +
                    ",\"message\":\"the ledger's disk is full; nothing was recorded; retry "
                    "later\"}}";
    response.internal_cause = error.ToString();
    return response;
  }
  // 505 is the client's mistake (an HTTP version we do not speak): its details are safe.
  if (status >= 500 && status != 505) {
    const bool unavailable = status == 503;
    response.body =
        std::string("{\"error\":{\"code\":") + (unavailable ? "\"unavailable\"" : "\"internal\"") +
        ",\"message\":" + (unavailable ? "\"service unavailable\"" : "\"internal error\"") + "}}";
    response.internal_cause = error.ToString();
    return response;
  }
  std::string body = "{\"error\":{\"code\":" + JsonQuote(error.code()) +
                     ",\"message\":" + JsonQuote(error.message());
  if (!error.field().empty()) body += ",\"field\":" + JsonQuote(error.field());
  const Location& at = error.location();
  if (at.line) body += ",\"line\":" + std::to_string(*at.line);
  if (at.column) body += ",\"column\":" + std::to_string(*at.column);
  if (at.offset) body += ",\"offset\":" + std::to_string(*at.offset);
  if (std::string_view next = NextStepFor(error.code()); !next.empty())
    body += ",\"nextStep\":" + JsonQuote(next);
  for (const ErrorDetail& d : error.details()) {
    body +=
        "," + JsonQuote(d.name) + ":" + (d.number ? std::to_string(*d.number) : JsonQuote(d.text));
  }
  body += "}}";
  response.body = std::move(body);
  return response;
}

HttpResponse ErrorResponse(const Error& error) {
  return ErrorResponse(HttpStatusFor(error), error);
}

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      const bool complete = i + 2 < text.size();
      const int hi = complete ? HexValue(text[i + 1]) : -1;
      const int lo = complete ? HexValue(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Fail(Error("request.bad_encoding", "bad percent-escape '" +
                                                      std::string(text.substr(i, 3)) + "' in '" +
                                                      std::string(text) + "'")
                        .at_offset(i));
      }
      const char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0') {
        return Fail(
            Error("request.bad_encoding", "encoded NUL (%00) in '" + std::string(text) + "'")
                .at_offset(i));
      }
      out += decoded;
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

Status CheckJsonSyntax(std::string_view text) {
  // The ledger's strict RFC 8259 parser; the body is parsed again by the handler that
  // needs its values.
  auto parsed = ParseJson(text);
  if (parsed) return Ok();
  const Error& e = parsed.error();
  Error invalid("request.invalid_json", "request body is not valid JSON: " + e.message());
  if (e.location().line && e.location().column) {
    invalid = invalid.at_line_column(*e.location().line, *e.location().column);
  }
  if (e.location().offset) invalid = invalid.at_offset(*e.location().offset);
  return Fail(invalid);
}

}  // namespace pedigree::services
