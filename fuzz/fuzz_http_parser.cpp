// libFuzzer target: the strict HTTP/1.1 request parser (http_parser.h) on arbitrary bytes.
// Properties: a head parses the same whether it arrives whole or in two pieces (the front
// reparses as bytes arrive); a complete head consumed no more than it was given, and every
// prefix that stops before its end is incomplete or refused, never complete; refusals carry
// 400, 431 or 505 with a request.* code; a chunked body decodes to the same bytes however
// it is split.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "pedigree/http/http_parser.h"

using namespace pedigree::services;

namespace {

// The body as one Feed and as two (split at `split`); aborts when they differ.
void CheckChunked(std::string_view wire, size_t split) {
  ChunkedDecoder whole;
  std::string a;
  auto one = whole.Feed(wire, a);
  ChunkedDecoder parts;
  std::string b;
  split = split % (wire.size() + 1);
  auto first = parts.Feed(wire.substr(0, split), b);
  if (!first) {
    if (one) std::abort();  // Byte by byte the same decoder: the same error.
    return;
  }
  size_t used = first->consumed;
  bool done = first->done;
  if (!done) {
    if (used != split) std::abort();  // Not done: every byte given was used.
    auto second = parts.Feed(wire.substr(used), b);
    if (!second) {
      if (one) std::abort();
      return;
    }
    used += second->consumed;
    done = second->done;
  }
  if (!one) std::abort();
  if (one->done != done || one->consumed != used || a != b) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  HeadLimits limits;
  limits.max_head_bytes = 16384;
  const HeadParse p = ParseRequestHead(bytes, limits);
  switch (p.state) {
    case HeadParse::State::kComplete: {
      if (p.consumed == 0 || p.consumed > size) std::abort();
      if (p.head.chunked && p.head.content_length) std::abort();
      if (p.head.version != "HTTP/1.1" && p.head.version != "HTTP/1.0") std::abort();
      // One byte short of the head is never complete.
      if (ParseRequestHead(bytes.substr(0, p.consumed - 1), limits).state ==
          HeadParse::State::kComplete) {
        std::abort();
      }
      if (p.head.chunked) CheckChunked(bytes.substr(p.consumed), size / 2);
      break;
    }
    case HeadParse::State::kRefused: {
      const int s = p.refusal->status;
      if (s != 400 && s != 431 && s != 505) std::abort();
      if (p.refusal->error.code().rfind("request.", 0) != 0) std::abort();
      break;
    }
    case HeadParse::State::kIncomplete:
      if (size > limits.max_head_bytes) std::abort();
      break;
  }
  // A chunked decoder on the raw bytes, too: most inputs are not heads.
  CheckChunked(bytes, size / 3);
  return 0;
}
