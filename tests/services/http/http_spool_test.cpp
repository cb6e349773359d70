// Large uploads over real sockets (issue 18, "expensive work is bounded"): a spooled
// route's body past the threshold goes to an unlinked file under the spool directory, under
// the route's limit, the body deadline and the chunked rules, and the file goes when the
// request does; a route checked before its body refuses without reading it.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <filesystem>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "pedigree/http/http_server.h"

namespace pedigree::services {
namespace {

using testing::Exchange;
using testing::Reply;
using testing::TempDir;

constexpr size_t kThreshold = 4096;
constexpr size_t kLimit = 8 << 20;

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

// What a handler of a spooled route saw: where the body was, and the body.
HttpResponse Describe(const HttpRequest& r) {
  if (!r.spooled_body) return Text("memory " + r.body);
  const SpooledBody& body = *r.spooled_body;
  struct stat st {};
  ::fstat(body.fd(), &st);
  std::string bytes(body.size(), '\0');
  auto read = body.ReadAt(0, bytes.data(), bytes.size());
  if (!read || *read != bytes.size()) return ErrorResponse(Error("storage.io", "short read"));
  // Mode and link count say the file is private and has no name.
  return Text("spooled mode=" + std::to_string(st.st_mode & 0777) +
              " links=" + std::to_string(st.st_nlink) + " " + bytes);
}

struct SpoolFront {
  TempDir spool;
  std::ostringstream log;
  std::unique_ptr<HttpServer> server;
  std::atomic<int> handled{0};
  std::atomic<int> checked{0};

  explicit SpoolFront(std::chrono::seconds body_timeout = std::chrono::seconds(60)) {
    Router router;
    BOOST_REQUIRE(router.Add(
        "POST", "/v1/upload", Access::Public(),
        [this](const HttpRequest& r) {
          ++handled;
          return Describe(r);
        },
        BodyKind::kAny, kLimit));
    BOOST_REQUIRE(router.MarkSpooled("POST", "/v1/upload"));
    BOOST_REQUIRE(router.Add(
        "POST", "/v1/echo", Access::Public(), [](const HttpRequest& r) { return Describe(r); },
        BodyKind::kAny, kLimit));
    // Refuses before the body whoever says "x-caller: intruder".
    BOOST_REQUIRE(router.Add(
        "POST", "/v1/guarded", Access::Public(),
        [this](const HttpRequest& r) {
          ++handled;
          return Text("read " +
                      std::to_string(r.spooled_body ? r.spooled_body->size() : r.body.size()));
        },
        BodyKind::kAny, 512u << 20));
    BOOST_REQUIRE(router.MarkSpooled("POST", "/v1/guarded"));
    BOOST_REQUIRE(
        router.MarkCheckedBeforeBody("POST", "/v1/guarded", [this](const HttpRequest& r) -> Status {
          ++checked;
          auto caller = r.headers.find("x-caller");
          if (caller != r.headers.end() && caller->second == "intruder") {
            return Fail(Error("trial.no_grant", "'intruder' holds no grant"));
          }
          return Ok();
        }));
    BOOST_REQUIRE(router.Add("GET", "/v1/ping", Access::Public(),
                             [](const HttpRequest&) { return Text("pong"); }));
    ServerConfig config;
    config.access_log = &log;
    config.spool_dir = spool.path().string();
    config.spool_threshold_bytes = kThreshold;
    config.body_timeout = body_timeout;
    auto started = HttpServer::Start(config, std::move(router), nullptr);
    BOOST_REQUIRE_MESSAGE(started, (started ? std::string() : started.error().ToString()));
    server = std::move(*started);
  }
  std::unique_ptr<Poco::Net::HTTPClientSession> Session() const {
    auto session = std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server->port());
    session->setKeepAlive(true);
    return session;
  }

  // Files of this process open under the spool directory (unlinked ones included): the
  // server's spooled bodies, as the test runs the server in-process.
  size_t OpenSpoolFiles() const {
    size_t n = 0;
    const std::string prefix = spool.path().string() + "/";
    for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
      std::error_code ec;
      auto target = std::filesystem::read_symlink(fd.path(), ec);
      if (!ec && target.string().starts_with(prefix)) ++n;
    }
    return n;
  }
  // Waits (bounded by `tries` × 50 ms, generous; not a timing assertion) for the count of
  // open spool files to become `want`.
  bool SpoolFilesBecome(size_t want, int tries = 400) const {
    for (int i = 0; i < tries; ++i) {
      if (OpenSpoolFiles() == want) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  bool DirectoryEmpty() const { return std::filesystem::is_empty(spool.path()); }
};

Poco::Net::StreamSocket Connect(uint16_t port) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(30, 0));
  return socket;
}

void SendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

// Reads until the server closes or the receive timeout.
std::string ReadAnswer(Poco::Net::StreamSocket& socket) {
  std::string answer;
  std::array<char, 4096> buf;
  try {
    for (int n; (n = socket.receiveBytes(buf.data(), static_cast<int>(buf.size()))) > 0;) {
      answer.append(buf.data(), static_cast<size_t>(n));
    }
  } catch (const Poco::Exception&) {
  }
  return answer;
}

std::string Pattern(size_t size) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

std::string ErrorCodeIn(const std::string& raw_or_body) {
  const size_t at = raw_or_body.find("{\"error\"");
  if (at == std::string::npos) return "";
  Poco::JSON::Parser parser;
  auto root = parser.parse(raw_or_body.substr(at)).extract<Poco::JSON::Object::Ptr>();
  return root->getObject("error")->getValue<std::string>("code");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_spool)

BOOST_AUTO_TEST_CASE(a_body_past_the_threshold_reaches_the_handler_from_a_private_unnamed_file) {
  SpoolFront f;
  auto session = f.Session();
  const std::string big = Pattern(300 * 1024);
  for (bool chunked : {false, true}) {
    BOOST_TEST_CONTEXT("chunked " << chunked) {
      Reply r = Exchange(
          session, {.method = "POST", .target = "/v1/upload", .body = big, .chunked = chunked});
      BOOST_REQUIRE_EQUAL(r.status, 200);
      BOOST_TEST(r.body.starts_with("spooled mode=384 links=0 "), r.body.substr(0, 40));
      BOOST_TEST((r.body.substr(25) == big));
    }
  }
  // At or under the threshold, and on routes not marked: in memory, as before.
  Reply small = Exchange(
      session, {.method = "POST", .target = "/v1/upload", .body = std::string(kThreshold, 's')});
  BOOST_TEST(small.body == "memory " + std::string(kThreshold, 's'));
  Reply other = Exchange(session, {.method = "POST", .target = "/v1/echo", .body = big});
  BOOST_TEST((other.body == "memory " + big));
  // Nothing named was ever made in the spool directory, and nothing stays open.
  BOOST_TEST(f.DirectoryEmpty());
  BOOST_TEST(f.SpoolFilesBecome(0));
}

BOOST_AUTO_TEST_CASE(a_spooled_route_keeps_its_limit_by_length_and_while_chunked) {
  ::signal(SIGPIPE, SIG_IGN);  // The server closes on the 413: writes after it fail.
  SpoolFront f;
  {
    // Declared: refused from the head, nothing of the body read.
    auto socket = Connect(f.server->port());
    SendAll(socket, "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                        std::to_string(kLimit + 1) + "\r\n\r\n");
    const std::string answer = ReadAnswer(socket);
    BOOST_TEST(answer.starts_with("HTTP/1.1 413"), answer);
    BOOST_TEST(ErrorCodeIn(answer) == "request.too_large");
  }
  {
    // Chunked: no length up front, so the file grows until the limit is passed; chunks
    // are sent until the answer is readable.
    auto socket = Connect(f.server->port());
    SendAll(socket, "POST /v1/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
    std::ostringstream chunk;
    chunk << std::hex << 64 * 1024 << "\r\n" << Pattern(64 * 1024) << "\r\n";
    size_t sent = 0;
    try {
      while (sent < 2 * kLimit &&
             !socket.poll(Poco::Timespan(0, 1000), Poco::Net::Socket::SELECT_READ)) {
        SendAll(socket, chunk.str());
        sent += 64 * 1024;
      }
    } catch (const Poco::Exception&) {
    }
    const std::string answer = ReadAnswer(socket);
    BOOST_TEST(answer.starts_with("HTTP/1.1 413"), answer);
    BOOST_TEST(ErrorCodeIn(answer) == "request.too_large");
  }
  BOOST_TEST(f.handled.load() == 0);
  BOOST_TEST(f.SpoolFilesBecome(0));
  // Exactly the limit passes.
  auto session = f.Session();
  Reply fits = Exchange(
      session,
      {.method = "POST", .target = "/v1/upload", .body = Pattern(kLimit), .chunked = true});
  BOOST_TEST(fits.status == 200);
  BOOST_TEST(fits.body.size() == 25 + kLimit);
}

BOOST_AUTO_TEST_CASE(a_bad_chunk_in_a_spooled_body_is_400_and_its_file_goes) {
  SpoolFront f;
  auto socket = Connect(f.server->port());
  std::ostringstream raw;
  raw << "POST /v1/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  raw << std::hex << 64 * 1024 << "\r\n" << Pattern(64 * 1024) << "\r\nzz\r\n";
  SendAll(socket, raw.str());
  const std::string answer = ReadAnswer(socket);
  BOOST_TEST(answer.starts_with("HTTP/1.1 400"), answer);
  BOOST_TEST(f.handled.load() == 0);
  BOOST_TEST(f.SpoolFilesBecome(0));
}

BOOST_AUTO_TEST_CASE(a_stalled_spooled_body_gets_408_and_its_file_goes) {
  SpoolFront f(std::chrono::seconds(1));
  auto socket = Connect(f.server->port());
  SendAll(socket, "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n" +
                      Pattern(200 * 1024));
  BOOST_TEST(f.SpoolFilesBecome(1));  // Past the threshold: spooled.
  const std::string answer = ReadAnswer(socket);
  BOOST_TEST(answer.starts_with("HTTP/1.1 408"), answer);
  BOOST_TEST(ErrorCodeIn(answer) == "request.body_timeout");
  BOOST_TEST(f.SpoolFilesBecome(0));
  BOOST_TEST(f.DirectoryEmpty());
}

BOOST_AUTO_TEST_CASE(a_client_gone_mid_body_leaves_no_file) {
  SpoolFront f;
  {
    auto socket = Connect(f.server->port());
    SendAll(socket, "POST /v1/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\n\r\n" +
                        Pattern(512 * 1024));
    BOOST_REQUIRE(f.SpoolFilesBecome(1));
    socket.close();
  }
  BOOST_TEST(f.SpoolFilesBecome(0));
  BOOST_TEST(f.DirectoryEmpty());
  BOOST_TEST(f.handled.load() == 0);
  // The server goes on serving.
  auto session = f.Session();
  BOOST_TEST(Exchange(session, {.target = "/v1/ping"}).body == "pong");
}

BOOST_AUTO_TEST_CASE(a_refused_upload_with_expect_continue_gets_no_100_and_its_refusal_at_once) {
  SpoolFront f;
  auto socket = Connect(f.server->port());
  // 200 MiB announced, none sent.
  SendAll(socket,
          "POST /v1/guarded HTTP/1.1\r\nHost: x\r\nx-caller: intruder\r\n"
          "Content-Length: 209715200\r\nExpect: 100-continue\r\n\r\n");
  const std::string answer = ReadAnswer(socket);
  BOOST_TEST(answer.starts_with("HTTP/1.1 403"), answer);
  BOOST_TEST(answer.find("100 Continue") == std::string::npos, answer);
  BOOST_TEST(ErrorCodeIn(answer) == "trial.no_grant");
  BOOST_TEST(f.checked.load() == 1);
  BOOST_TEST(f.handled.load() == 0);
  BOOST_TEST(f.DirectoryEmpty());
}

BOOST_AUTO_TEST_CASE(a_refused_upload_is_answered_before_the_client_has_sent_its_body) {
  // Sending into the connection the server closes after its answer is reset: an error to
  // the sender, not a signal that ends the test run.
  ::signal(SIGPIPE, SIG_IGN);
  SpoolFront f;
  auto socket = Connect(f.server->port());
  constexpr size_t kAnnounced = 200u << 20;
  SendAll(socket,
          "POST /v1/guarded HTTP/1.1\r\nHost: x\r\nx-caller: intruder\r\n"
          "Content-Length: " +
              std::to_string(kAnnounced) + "\r\n\r\n");
  // Sends 64 KiB at a time until the answer is readable: it comes with almost all of the
  // 200 MiB unsent, and the connection closes instead of reading the rest.
  const std::string piece(64 * 1024, 'x');
  size_t sent = 0;
  std::string answer;
  try {
    while (sent < kAnnounced) {
      if (socket.poll(Poco::Timespan(0, 1000), Poco::Net::Socket::SELECT_READ)) break;
      sent += static_cast<size_t>(socket.sendBytes(piece.data(), static_cast<int>(piece.size())));
    }
  } catch (const Poco::Exception&) {
    // Reset by the server's close while sending: the answer is already on its way.
  }
  answer = ReadAnswer(socket);
  BOOST_TEST(answer.starts_with("HTTP/1.1 403"), answer);
  BOOST_TEST(ErrorCodeIn(answer) == "trial.no_grant");
  BOOST_TEST(sent < kAnnounced / 4, sent << " of " << kAnnounced << " bytes sent");
  BOOST_TEST(f.handled.load() == 0);
}

BOOST_AUTO_TEST_CASE(an_allowed_upload_is_checked_once_then_read_and_handled) {
  SpoolFront f;
  auto session = f.Session();
  Reply r = Exchange(session, {.method = "POST",
                               .target = "/v1/guarded",
                               .body = Pattern(100 * 1024),
                               .headers = {{"Expect", "100-continue"}}});
  BOOST_TEST(r.status == 200);
  BOOST_TEST(r.body == "read " + std::to_string(100 * 1024));
  // Without a body the check runs where it always did, before the handler.
  Reply empty = Exchange(session, {.method = "POST", .target = "/v1/guarded"});
  BOOST_TEST(empty.body == "read 0");
  Reply refused = Exchange(
      session, {.method = "POST", .target = "/v1/guarded", .headers = {{"x-caller", "intruder"}}});
  BOOST_TEST(refused.status == 403);
  BOOST_TEST(f.checked.load() == 3);
  BOOST_TEST(f.handled.load() == 2);
}

BOOST_AUTO_TEST_CASE(marking_an_unknown_route_is_an_error) {
  Router router;
  BOOST_TEST(router.MarkSpooled("POST", "/v1/none").error().code() == "router.unknown_route");
  BOOST_TEST(router.MarkCheckedBeforeBody("POST", "/v1/none").error().code() ==
             "router.unknown_route");
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace pedigree::services
