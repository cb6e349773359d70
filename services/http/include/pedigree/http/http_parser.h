// A strict HTTP/1.1 request parser (RFC 9112) for the event-driven front: pure functions
// over bytes, no I/O, no allocation beyond the parsed head, so that it can be fuzzed
// (fuzz/fuzz_http_parser.cpp) and tested on a table of request-smuggling heads.
//
// Strict means: anything two parsers could read differently behind a proxy is refused
// rather than repaired. Refusals carry the status and error to answer with; the caller
// answers and closes the connection, because after a framing error the rest of the
// stream cannot be trusted to start a request. The rules are in docs/api.md, "Framing".
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pedigree/base/error.h"

namespace pedigree::services {

struct HeadLimits {
  // The whole head: request line, fields and the empty line. Over it: 431
  // request.header_too_large.
  size_t max_head_bytes = 16384;
  // One field name (POCO's limit was 256) and the number of fields: 400
  // request.bad_framing over either.
  size_t max_name_bytes = 256;
  size_t max_fields = 100;
};

// A request head as sent. Names keep their case; values are trimmed of the optional
// whitespace around them.
struct RequestHead {
  std::string method, target, version;  // version is "HTTP/1.1" or "HTTP/1.0".
  std::vector<std::pair<std::string, std::string>> fields;
  std::optional<uint64_t> content_length;  // Set when a Content-Length came.
  bool chunked = false;                    // Transfer-Encoding: chunked.
  bool keep_alive = true;                  // From the version and the Connection field.
  bool expect_continue = false;            // Expect: 100-continue.
};

// A refusal: the status to answer (400, 431 or 505) and the error for the JSON body.
// `method` and `target` are set when the request line parsed, for the access log.
struct HeadRefusal {
  int status = 400;
  Error error;
  std::string method, target;
};

struct HeadParse {
  enum class State { kIncomplete, kComplete, kRefused };
  State state = State::kIncomplete;
  size_t consumed = 0;                 // kComplete: the bytes of the head (the body starts there).
  RequestHead head;                    // kComplete.
  std::optional<HeadRefusal> refusal;  // kRefused.
};

// Parses the head at the start of `bytes`. kIncomplete when more bytes are needed (never
// once `bytes` holds more than max_head_bytes); a refusal as soon as a byte decides it, so
// a bare LF or an obs-fold line is refused without waiting for the end of the head.
// Empty lines before the request line are skipped (RFC 9112 §2.2).
HeadParse ParseRequestHead(std::string_view bytes, const HeadLimits& limits = {});

// Decodes a chunked body incrementally. Chunk extensions are skipped; trailer fields are
// read and dropped. Errors: request.bad_body for anything that is not chunked framing
// (a size that is not hex or overflows, a missing CRLF after the data, a bare LF, an
// over-long size or trailer line).
class ChunkedDecoder {
 public:
  struct Step {
    size_t consumed = 0;  // Bytes of the input used; the rest belongs to the next request.
    bool done = false;    // The last chunk and the trailer were read.
  };
  // Appends the data of `bytes` to `body`. Call again with more bytes while !done.
  [[nodiscard]] Result<Step> Feed(std::string_view bytes, std::string& body);

 private:
  enum class State { kSize, kSizeLf, kData, kDataCr, kDataLf, kTrailer, kTrailerLf, kDone };
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  size_t line_bytes_ = 0;  // Of the size or trailer line read so far.
  int digits_ = 0;
  bool in_extension_ = false;
};

// The status line and fields of a response, ending with the empty line. Adds Date,
// Content-Length (except for 1xx, 204 and 304) and Connection (Keep-Alive or Close).
std::string ResponseHead(int status, const std::string& content_type,
                         const std::map<std::string, std::string>& headers, size_t body_bytes,
                         bool keep_alive);

}  // namespace pedigree::services
