// The strict HTTP/1.1 parser (see http_parser.h). Every refusal names the header and shows
// the offending bytes escaped, so that a log line says what a client sent.
#include "pedigree/http/http_parser.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace pedigree::services {
namespace {

bool IsTokenChar(unsigned char c) {
  return std::isalnum(c) ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return IsTokenChar(static_cast<unsigned char>(c));
  });
}

// At most 64 bytes, control characters as \xNN.
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
  if (v.size() > 64) out += "...";
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Whether a comma-separated field value lists `item` (case-insensitive).
bool ListHas(std::string_view value, std::string_view item) {
  while (!value.empty()) {
    const size_t comma = value.find(',');
    if (EqualsIgnoreCase(TrimOws(value.substr(0, comma)), item)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

HeadParse Refuse(int status, Error error, const RequestHead& head = {}) {
  HeadParse out;
  out.state = HeadParse::State::kRefused;
  out.refusal = HeadRefusal{status, std::move(error), head.method, head.target};
  return out;
}

HeadParse Framing(std::string message, const std::string& field, const RequestHead& head) {
  Error e("request.bad_framing", std::move(message));
  if (!field.empty()) e = std::move(e).at_field(field);
  return Refuse(400, std::move(e), head);
}

// The semantic rules on a complete head: one Content-Length value, Transfer-Encoding
// exactly "chunked" and never with Content-Length.
std::optional<HeadParse> CheckFraming(RequestHead& head) {
  std::vector<std::string_view> lengths, encodings;
  for (const auto& [name, value] : head.fields) {
    if (EqualsIgnoreCase(name, "content-length")) lengths.push_back(value);
    if (EqualsIgnoreCase(name, "transfer-encoding")) encodings.push_back(value);
    if (EqualsIgnoreCase(name, "connection")) {
      if (ListHas(value, "close")) head.keep_alive = false;
      if (head.version == "HTTP/1.0" && ListHas(value, "keep-alive")) head.keep_alive = true;
    }
    if (EqualsIgnoreCase(name, "expect") && EqualsIgnoreCase(value, "100-continue")) {
      head.expect_continue = true;
    }
  }
  for (std::string_view v : lengths) {
    if (v.empty() || v.size() > 18 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Framing("Content-Length '" + Printable(v) + "' is not a decimal number",
                     "Content-Length", head);
    }
    if (v != lengths.front()) {
      return Framing("two different Content-Length values, '" + Printable(lengths.front()) +
                         "' and '" + Printable(v) + "'",
                     "Content-Length", head);
    }
  }
  if (!encodings.empty()) {
    if (encodings.size() > 1 || !EqualsIgnoreCase(encodings.front(), "chunked")) {
      std::string all;
      for (auto e : encodings) all += (all.empty() ? "" : ", ") + Printable(e);
      return Framing(
          "Transfer-Encoding '" + all + "' is not exactly 'chunked', the only coding served",
          "Transfer-Encoding", head);
    }
    if (!lengths.empty()) {
      return Framing("Transfer-Encoding and Content-Length together", "Transfer-Encoding", head);
    }
    head.chunked = true;
  }
  if (!lengths.empty()) head.content_length = std::stoull(std::string(lengths.front()));
  return std::nullopt;
}

}  // namespace

HeadParse ParseRequestHead(std::string_view bytes, const HeadLimits& limits) {
  RequestHead head;
  size_t pos = 0;
  // Skipped empty lines before the request line count towards the head's size too.
  while (pos + 1 < bytes.size() && bytes[pos] == '\r' && bytes[pos + 1] == '\n') pos += 2;
  bool request_line = true;
  for (;;) {
    const size_t nl = bytes.find('\n', pos);
    const size_t end = nl == std::string_view::npos ? bytes.size() : nl;
    // A CR anywhere but right before the LF is refused (bare CR ends lines for some parsers).
    const size_t cr = bytes.find('\r', pos);
    if (cr != std::string_view::npos && cr < end && cr + 1 != nl && cr + 1 < bytes.size()) {
      return Framing("a bare CR inside a line of the head", "", head);
    }
    if (nl == std::string_view::npos) {
      if (bytes.size() > limits.max_head_bytes) {
        return Refuse(
            431,
            Error("request.header_too_large",
                  "the request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes"),
            head);
      }
      return HeadParse{};
    }
    if (nl + 1 > limits.max_head_bytes) {
      return Refuse(
          431,
          Error("request.header_too_large",
                "the request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes"),
          head);
    }
    if (nl == pos || bytes[nl - 1] != '\r') {
      return Framing("a line of the head ends in a bare LF, not CRLF", "", head);
    }
    const std::string_view line = bytes.substr(pos, nl - 1 - pos);
    pos = nl + 1;

    if (request_line) {
      request_line = false;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
        return Framing("malformed request line '" + Printable(line) + "'", "", head);
      }
      const std::string_view method = line.substr(0, sp1);
      const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      const std::string_view version = line.substr(sp2 + 1);
      if (!IsToken(method)) {
        return Framing("method '" + Printable(method) + "' is not a token", "", head);
      }
      if (target.empty() || !std::all_of(target.begin(), target.end(), [](char c) {
            return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7f;
          })) {
        return Framing("request target '" + Printable(target) + "' holds a space or control byte",
                       "", head);
      }
      head.method = method;
      head.target = target;
      if (version != "HTTP/1.1" && version != "HTTP/1.0") {
        if (version.substr(0, 5) == "HTTP/") {
          return Refuse(505,
                        Error("request.http_version", "HTTP version '" + Printable(version) +
                                                          "' is not served here; use HTTP/1.1"),
                        head);
        }
        return Framing("malformed request line '" + Printable(line) + "'", "", head);
      }
      head.version = version;
      head.keep_alive = version == "HTTP/1.1";
      continue;
    }

    if (line.empty()) {
      if (auto refused = CheckFraming(head)) return std::move(*refused);
      HeadParse out;
      out.state = HeadParse::State::kComplete;
      out.consumed = pos;
      out.head = std::move(head);
      return out;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return Framing("obs-fold: a header line starts with whitespace ('" + Printable(line) + "')",
                     "", head);
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      return Framing("header line '" + Printable(line) + "' has no colon", "", head);
    }
    const std::string_view name = line.substr(0, colon);
    if (name.size() > limits.max_name_bytes) {
      return Framing("header name '" + Printable(name) + "' is longer than " +
                         std::to_string(limits.max_name_bytes) + " bytes",
                     "", head);
    }
    if (!IsToken(name)) {
      return Framing("header name '" + Printable(name) +
                         "' is not a token (a space before the colon, or a character a header "
                         "name cannot hold)",
                     Printable(name), head);
    }
    const std::string_view value = TrimOws(line.substr(colon + 1));
    for (unsigned char c : value) {
      if ((c < 0x20 && c != '\t') || c == 0x7f) {
        return Framing("header " + std::string(name) + " holds the control character " +
                           Printable(std::string(1, static_cast<char>(c))),
                       std::string(name), head);
      }
    }
    if (head.fields.size() == limits.max_fields) {
      return Framing("more than " + std::to_string(limits.max_fields) + " header fields", "", head);
    }
    head.fields.emplace_back(name, value);
  }
}

Result<ChunkedDecoder::Step> ChunkedDecoder::Feed(std::string_view bytes, std::string& body) {
  constexpr size_t kMaxLine = 4096;
  auto fail = [](std::string message) {
    return Fail(Error("request.bad_body", "broken chunked framing: " + std::move(message)));
  };
  Step step;
  size_t i = 0;
  while (i < bytes.size() && state_ != State::kDone) {
    const char c = bytes[i];
    switch (state_) {
      case State::kSize:
        if (++line_bytes_ > kMaxLine) return fail("a chunk-size line is too long");
        if (c == '\r') {
          if (digits_ == 0) return fail("a chunk-size line holds no size");
          state_ = State::kSizeLf;
        } else if (c == '\n') {
          return fail("a chunk-size line ends in a bare LF");
        } else if (in_extension_) {
          if (static_cast<unsigned char>(c) < 0x20 && c != '\t') {
            return fail("a control byte in a chunk extension");
          }
        } else if (c == ';' && digits_ > 0) {
          in_extension_ = true;
        } else if (std::isxdigit(static_cast<unsigned char>(c))) {
          if (++digits_ > 15) return fail("a chunk size of more than 15 hex digits");
          const int v = std::isdigit(static_cast<unsigned char>(c))
                            ? c - '0'
                            : std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
          remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
        } else {
          return fail("chunk size '" + Printable(std::string_view(&c, 1)) + "...' is not hex");
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail("a CR without LF after a chunk size");
        ++i;
        line_bytes_ = 0;
        digits_ = 0;
        in_extension_ = false;
        state_ = remaining_ == 0 ? State::kTrailer : State::kData;
        break;
      case State::kData: {
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(remaining_, static_cast<uint64_t>(bytes.size() - i)));
        body.append(bytes.data() + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail("chunk data is not followed by CRLF");
        ++i;
        state_ = State::kDataLf;
        break;
      case State::kDataLf:
        if (c != '\n') return fail("chunk data is not followed by CRLF");
        ++i;
        state_ = State::kSize;
        break;
      case State::kTrailer:
        // A trailer line; an empty one ends the body.
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          return fail("a trailer line ends in a bare LF");
        } else if (++line_bytes_ > kMaxLine) {
          return fail("a trailer line is too long");
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail("a CR without LF in the trailer");
        ++i;
        if (line_bytes_ == 0) {
          state_ = State::kDone;
        } else {
          line_bytes_ = 0;
          state_ = State::kTrailer;
        }
        break;
      case State::kDone:
        break;
    }
  }
  step.consumed = i;
  step.done = state_ == State::kDone;
  return step;
}

namespace {

const char* Reason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 422:
      return "Unprocessable Content";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

// The Date value, formatted once per second per thread.
const std::string& DateNow() {
  thread_local std::time_t cached_at = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_at) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
    cached_at = now;
  }
  return cached;
}

}  // namespace

std::string ResponseHead(int status, const std::string& content_type,
                         const std::map<std::string, std::string>& headers, size_t body_bytes,
                         bool keep_alive) {
  std::string out;
  out.reserve(256);
  out += "HTTP/1.1 ";
  out += std::to_string(status);
  out += ' ';
  out += Reason(status);
  out += "\r\nDate: ";
  out += DateNow();
  out += "\r\n";
  const bool bodyless = status < 200 || status == 204 || status == 304;
  if (!content_type.empty() && !bodyless) {
    out += "Content-Type: ";
    out += content_type;
    out += "\r\n";
  }
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!bodyless) {
    out += "Content-Length: ";
    out += std::to_string(body_bytes);
    out += "\r\n";
  }
  out += keep_alive ? "Connection: Keep-Alive\r\n\r\n" : "Connection: Close\r\n\r\n";
  return out;
}

}  // namespace pedigree::services
