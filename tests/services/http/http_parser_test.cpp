// The strict HTTP/1.1 parser on bytes: the request-smuggling heads of issue 18 each
// refused with their status and code, well-formed heads parsed, pipelined heads split at
// the right byte, chunked bodies decoded across arbitrary splits.
#include "pedigree/http/http_parser.h"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

namespace pedigree::services {
namespace {

using State = HeadParse::State;

BOOST_AUTO_TEST_SUITE(http_parser)

BOOST_AUTO_TEST_CASE(a_well_formed_head_parses_with_its_framing) {
  const std::string raw =
      "POST /v1/echo?a=1 HTTP/1.1\r\nHost: x\r\nContent-Length:  5 \r\n"
      "Expect: 100-continue\r\n\r\nhello";
  const HeadParse p = ParseRequestHead(raw);
  BOOST_REQUIRE(p.state == State::kComplete);
  BOOST_TEST(p.consumed == raw.size() - 5);
  BOOST_TEST(p.head.method == "POST");
  BOOST_TEST(p.head.target == "/v1/echo?a=1");
  BOOST_TEST(p.head.version == "HTTP/1.1");
  BOOST_TEST(p.head.fields.size() == 3u);
  BOOST_TEST(p.head.fields[1].second == "5");
  BOOST_TEST(*p.head.content_length == 5u);
  BOOST_TEST(!p.head.chunked);
  BOOST_TEST(p.head.keep_alive);
  BOOST_TEST(p.head.expect_continue);
}

BOOST_AUTO_TEST_CASE(keep_alive_follows_the_version_and_the_connection_field) {
  BOOST_TEST(!ParseRequestHead("GET / HTTP/1.0\r\n\r\n").head.keep_alive);
  BOOST_TEST(ParseRequestHead("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").head.keep_alive);
  BOOST_TEST(!ParseRequestHead("GET / HTTP/1.1\r\nConnection: te, close\r\n\r\n").head.keep_alive);
  BOOST_TEST(ParseRequestHead("GET / HTTP/1.1\r\n\r\n").head.keep_alive);
}

BOOST_AUTO_TEST_CASE(every_prefix_of_a_head_is_incomplete_and_leading_empty_lines_are_skipped) {
  const std::string raw = "\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  for (size_t n = 0; n < raw.size(); ++n) {
    BOOST_TEST_CONTEXT("prefix " << n) {
      BOOST_TEST((ParseRequestHead(raw.substr(0, n)).state == State::kIncomplete));
    }
  }
  const HeadParse p = ParseRequestHead(raw);
  BOOST_REQUIRE(p.state == State::kComplete);
  BOOST_TEST(p.consumed == raw.size());
  BOOST_TEST(p.head.target == "/healthz");
}

BOOST_AUTO_TEST_CASE(pipelined_heads_are_split_at_the_end_of_each) {
  const std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string second = "GET /b HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string both = first + second;
  const HeadParse a = ParseRequestHead(both);
  BOOST_REQUIRE(a.state == State::kComplete);
  BOOST_TEST(a.consumed == first.size());
  const HeadParse b = ParseRequestHead(std::string_view(both).substr(a.consumed));
  BOOST_REQUIRE(b.state == State::kComplete);
  BOOST_TEST(b.head.target == "/b");
}

BOOST_AUTO_TEST_CASE(smuggling_heads_are_refused_with_their_status_and_code) {
  struct Case {
    std::string name, head;
    int status;
    std::string code, field;
  };
  const std::string get = "GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\n";
  const std::string post = "POST /v1/echo HTTP/1.1\r\nHost: x\r\n";
  const std::vector<Case> cases = {
      {"two Content-Length values", post + "Content-Length: 5\r\nContent-Length: 6\r\n", 400,
       "request.bad_framing", "Content-Length"},
      {"Content-Length list", post + "Content-Length: 5, 6\r\n", 400, "request.bad_framing",
       "Content-Length"},
      {"Content-Length not digits", post + "Content-Length: 5x\r\n", 400, "request.bad_framing",
       "Content-Length"},
      {"Content-Length with a sign", post + "Content-Length: +5\r\n", 400, "request.bad_framing",
       "Content-Length"},
      {"Content-Length empty", post + "Content-Length:\r\n", 400, "request.bad_framing",
       "Content-Length"},
      {"Content-Length past 64 bits", post + "Content-Length: 99999999999999999999\r\n", 400,
       "request.bad_framing", "Content-Length"},
      {"Transfer-Encoding identity, chunked", post + "Transfer-Encoding: identity, chunked\r\n",
       400, "request.bad_framing", "Transfer-Encoding"},
      {"Transfer-Encoding chunked, identity", post + "Transfer-Encoding: chunked, identity\r\n",
       400, "request.bad_framing", "Transfer-Encoding"},
      {"Transfer-Encoding xchunked", post + "Transfer-Encoding: xchunked\r\n", 400,
       "request.bad_framing", "Transfer-Encoding"},
      {"two Transfer-Encoding fields",
       post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", 400,
       "request.bad_framing", "Transfer-Encoding"},
      {"Transfer-Encoding with Content-Length",
       post + "Transfer-Encoding: chunked\r\nContent-Length: 15\r\n", 400, "request.bad_framing",
       "Transfer-Encoding"},
      {"space before the colon", post + "Transfer-Encoding : chunked\r\n", 400,
       "request.bad_framing", "Transfer-Encoding "},
      {"obs-fold continuation line", get + "X-A: a\r\n b\r\n", 400, "request.bad_framing", ""},
      {"obs-fold with a tab", get + "X-A: a\r\n\tb\r\n", 400, "request.bad_framing", ""},
      {"bare LF ends a field line", get + "X-A: a\n", 400, "request.bad_framing", ""},
      {"bare LF ends the request line", "GET / HTTP/1.1\nHost: x\r\n", 400, "request.bad_framing",
       ""},
      {"bare CR inside a line", get + "X-A: a\rb\r\n", 400, "request.bad_framing", ""},
      {"header line without a colon", get + "no colon here\r\n", 400, "request.bad_framing", ""},
      {"NUL in a value", get + "X-A: a" + std::string(1, '\0') + "b\r\n", 400,
       "request.bad_framing", "X-A"},
      {"control character in a value", get + "X-A: a\x01b\r\n", 400, "request.bad_framing", "X-A"},
      {"DEL in a value", get + "X-A: a\x7f\r\n", 400, "request.bad_framing", "X-A"},
      {"a name over the limit", get + std::string(300, 'n') + ": v\r\n", 400, "request.bad_framing",
       ""},
      {"a request line with two spaces", "GET  / HTTP/1.1\r\n", 400, "request.bad_framing", ""},
      {"a request line without a version", "GET /\r\n", 400, "request.bad_framing", ""},
      {"a control byte in the target", "GET /a\x01 HTTP/1.1\r\n", 400, "request.bad_framing", ""},
      {"a version that is not HTTP", "GET / FTP/1.1\r\n", 400, "request.bad_framing", ""},
      {"HTTP/2.0 on the HTTP/1 port", "GET / HTTP/2.0\r\n", 505, "request.http_version", ""},
      {"HTTP/1.2", "GET / HTTP/1.2\r\n", 505, "request.http_version", ""},
      {"HTTP/3", "GET / HTTP/3\r\n", 505, "request.http_version", ""},
  };
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT(c.name) {
      const HeadParse p = ParseRequestHead(c.head + "\r\n");
      BOOST_REQUIRE(p.state == State::kRefused);
      BOOST_TEST(p.refusal->status == c.status);
      BOOST_TEST(p.refusal->error.code() == c.code);
      BOOST_TEST(p.refusal->error.field() == c.field);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_refusal_is_decided_by_the_first_bad_byte_not_the_end_of_the_head) {
  // No empty line yet: the bare LF alone refuses it, so a client cannot hold the
  // connection by never ending a broken head.
  const HeadParse p = ParseRequestHead("GET / HTTP/1.1\r\nX-A: a\nX-B");
  BOOST_REQUIRE(p.state == State::kRefused);
  BOOST_TEST(p.refusal->method == "GET");
  BOOST_TEST(p.refusal->target == "/");
}

BOOST_AUTO_TEST_CASE(heads_over_the_limits_are_431_or_400) {
  HeadLimits limits;
  limits.max_head_bytes = 64;
  limits.max_fields = 2;
  const HeadParse big = ParseRequestHead("GET / HTTP/1.1\r\nX-A: " + std::string(80, 'a'), limits);
  BOOST_REQUIRE(big.state == State::kRefused);
  BOOST_TEST(big.refusal->status == 431);
  BOOST_TEST(big.refusal->error.code() == "request.header_too_large");
  const HeadParse many = ParseRequestHead("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits);
  BOOST_REQUIRE(many.state == State::kRefused);
  BOOST_TEST(many.refusal->status == 400);
  BOOST_TEST(many.refusal->error.code() == "request.bad_framing");
}

BOOST_AUTO_TEST_CASE(chunked_bodies_decode_across_every_split_and_stop_at_their_end) {
  const std::string wire = "5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: t\r\n\r\nNEXT";
  for (size_t split = 0; split <= wire.size(); ++split) {
    BOOST_TEST_CONTEXT("split at " << split) {
      ChunkedDecoder decoder;
      std::string body;
      auto first = decoder.Feed(std::string_view(wire).substr(0, split), body);
      BOOST_REQUIRE(first.has_value());
      size_t used = first->consumed;
      bool done = first->done;
      if (!done) {
        auto second = decoder.Feed(std::string_view(wire).substr(used), body);
        BOOST_REQUIRE(second.has_value());
        used += second->consumed;
        done = second->done;
      }
      BOOST_TEST(done);
      BOOST_TEST(body == "hello0123456789");
      BOOST_TEST(wire.substr(used) == "NEXT");
    }
  }
}

BOOST_AUTO_TEST_CASE(broken_chunked_framing_is_bad_body) {
  for (const std::string wire : {"zz\r\n", "5\r\nhelloX\r\n", "5\nhello\r\n", "\r\n",
                                 "1234567890abcdef0\r\n", "0\r\nX-T: t\n\r\n", "5\rxhello"}) {
    BOOST_TEST_CONTEXT(wire) {
      ChunkedDecoder decoder;
      std::string body;
      auto step = decoder.Feed(wire, body);
      BOOST_REQUIRE(!step.has_value());
      BOOST_TEST(step.error().code() == "request.bad_body");
    }
  }
}

BOOST_AUTO_TEST_CASE(response_heads_carry_length_and_connection) {
  const std::string head = ResponseHead(503, "application/json", {{"Retry-After", "1"}}, 12, false);
  BOOST_TEST(head.starts_with("HTTP/1.1 503 Service Unavailable\r\nDate: "));
  BOOST_TEST(head.find("\r\nRetry-After: 1\r\n") != std::string::npos);
  BOOST_TEST(head.find("\r\nContent-Length: 12\r\n") != std::string::npos);
  BOOST_TEST(head.ends_with("\r\nConnection: Close\r\n\r\n"));
  const std::string empty = ResponseHead(204, "application/json", {}, 0, true);
  BOOST_TEST(empty.find("Content-Length") == std::string::npos);
  BOOST_TEST(empty.find("Content-Type") == std::string::npos);
  BOOST_TEST(empty.ends_with("Connection: Keep-Alive\r\n\r\n"));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
