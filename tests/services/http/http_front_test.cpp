// The event-driven front over real sockets (issue 18): connections cost no thread, slow
// clients meet deadlines, a full worker queue answers 503 with Retry-After, pipelined
// requests are answered in order, and the heads POCO's parser let through are refused.
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/StreamSocket.h>

#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include "http_client.h"
#include "pedigree/http/http_server.h"

namespace pedigree::services {
namespace {

using testing::Exchange;
using testing::Reply;

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.content_type = "text/plain";
  r.body = std::move(body);
  return r;
}

Router PackRouter() {
  Router router;
  BOOST_REQUIRE(router.Add("GET", "/v1/packs/{id}", Access::Public(), [](const HttpRequest& r) {
    return Text("pack " + r.path_params.at("id"));
  }));
  BOOST_REQUIRE(router.Add("GET", "/v1/verify", Access::Public(), [](const HttpRequest& r) {
    auto code = r.query.find("code");
    return Text(code == r.query.end() ? "" : "verified " + code->second);
  }));
  BOOST_REQUIRE(router.Add("POST", "/v1/echo", Access::Public(),
                           [](const HttpRequest& r) { return Text(r.body); }));
  return router;
}

struct Front {
  std::ostringstream log;
  std::unique_ptr<HttpServer> server;

  explicit Front(ServerConfig config = {}, Router router = PackRouter()) {
    config.access_log = &log;
    auto started = HttpServer::Start(config, std::move(router), nullptr);
    BOOST_REQUIRE_MESSAGE(started, (started ? std::string() : started.error().ToString()));
    server = std::move(*started);
  }
  uint16_t port() const { return server->port(); }
};

Poco::Net::StreamSocket Connect(uint16_t port) {
  Poco::Net::StreamSocket socket(Poco::Net::SocketAddress("127.0.0.1", port));
  socket.setReceiveTimeout(Poco::Timespan(20, 0));
  return socket;
}

void SendAll(Poco::Net::StreamSocket& socket, const std::string& bytes) {
  socket.sendBytes(bytes.data(), static_cast<int>(bytes.size()));
}

// Everything the server sends until it closes (or a generous receive timeout).
struct Answer {
  std::string text;
  bool closed = false;
  int status() const { return text.size() >= 12 ? std::atoi(text.substr(9, 3).c_str()) : 0; }
  std::string code() const {
    const size_t body = text.find("\r\n\r\n");
    if (body == std::string::npos) return "";
    Poco::JSON::Parser parser;
    return parser.parse(text.substr(body + 4))
        .extract<Poco::JSON::Object::Ptr>()
        ->getObject("error")
        ->getValue<std::string>("code");
  }
};

Answer ReadToClose(Poco::Net::StreamSocket& socket) {
  Answer answer;
  std::array<char, 4096> buf;
  try {
    for (int n; (n = socket.receiveBytes(buf.data(), static_cast<int>(buf.size()))) > 0;) {
      answer.text.append(buf.data(), static_cast<size_t>(n));
    }
    answer.closed = true;
  } catch (const Poco::TimeoutException&) {
  } catch (const Poco::Net::ConnectionResetException&) {
    answer.closed = true;
  }
  return answer;
}

Answer SendRaw(uint16_t port, const std::string& raw) {
  auto socket = Connect(port);
  SendAll(socket, raw);
  return ReadToClose(socket);
}

BOOST_AUTO_TEST_SUITE(http_front)

BOOST_AUTO_TEST_CASE(idle_connections_that_never_send_a_byte_do_not_block_another_client) {
  ServerConfig config;
  config.threads = 2;  // Far fewer workers than idle connections: they hold none.
  Front f(config);
  std::vector<Poco::Net::StreamSocket> idle;
  for (int i = 0; i < 32; ++i) idle.push_back(Connect(f.port()));
  Poco::Net::HTTPClientSession session("127.0.0.1", f.port());
  session.setKeepAlive(true);
  for (int i = 0; i < 3; ++i) {
    const Reply reply = Exchange(session, {.target = "/v1/verify?code=" + std::to_string(i)});
    BOOST_TEST(reply.status == 200);
    BOOST_TEST(reply.body == "verified " + std::to_string(i));
  }
}

BOOST_AUTO_TEST_CASE(a_trickled_head_gets_408_when_the_header_deadline_passes) {
  ServerConfig config;
  config.header_timeout = std::chrono::seconds(1);
  Front f(config);
  auto socket = Connect(f.port());
  // A line at a time, never the empty line: the deadline counts from the first byte, not
  // from the last line, so trickling cannot hold the connection.
  SendAll(socket, "GET /v1/packs/1 HTTP/1.1\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  SendAll(socket, "Host: x\r\n");
  const Answer answer = ReadToClose(socket);
  BOOST_TEST(answer.status() == 408, answer.text);
  BOOST_TEST(answer.code() == "request.header_timeout", answer.text);
  BOOST_TEST(answer.closed);
  BOOST_TEST(
      f.log.str().find("- - 408 0us refused: the request head did not arrive") != std::string::npos,
      f.log.str());
}

BOOST_AUTO_TEST_CASE(a_full_worker_queue_answers_503_with_retry_after_not_a_close) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, release = false;
  Router router = PackRouter();
  BOOST_REQUIRE(router.Add("GET", "/block", Access::Public(), [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return Text("released");
  }));
  ServerConfig config;
  config.threads = 1;
  config.max_queued = 1;
  Front f(config, std::move(router));

  Answer blocked;
  std::thread holder([&] {
    blocked = SendRaw(f.port(), "GET /block HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  // The one worker is held: of two more requests one waits in the queue, the other finds
  // it full.
  std::vector<Answer> answers(2);
  int answered = 0;
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      Answer a = SendRaw(f.port(), "GET /v1/packs/" + std::to_string(i) +
                                       " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      std::lock_guard lock(mutex);
      answers[static_cast<size_t>(i)] = std::move(a);
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return answered >= 1; });
  }
  // /healthz (no health check, no token) is answered on the event loop: a full worker
  // queue does not make the server look dead to its load balancer.
  Poco::Net::HTTPClientSession probe("127.0.0.1", f.port());
  BOOST_TEST(Exchange(probe, {.target = "/healthz"}).status == 200);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (auto& c : clients) c.join();
  holder.join();
  BOOST_TEST(blocked.status() == 200, blocked.text);
  int busy = 0, served = 0;
  for (const auto& a : answers) {
    if (a.status() == 503) {
      ++busy;
      BOOST_TEST(a.code() == "unavailable", a.text);
      BOOST_TEST(a.text.find("\r\nRetry-After: 1\r\n") != std::string::npos, a.text);
      BOOST_TEST(a.closed);
    } else {
      BOOST_TEST(a.status() == 200, a.text);
      ++served;
    }
  }
  BOOST_TEST(busy == 1);
  BOOST_TEST(served == 1);
  BOOST_TEST(f.log.str().find("503") != std::string::npos);
  BOOST_TEST(f.log.str().find("internal: server.busy") != std::string::npos, f.log.str());
}

BOOST_AUTO_TEST_CASE(inline_routes_answer_on_the_loop_while_every_worker_is_held) {
  std::mutex mutex;
  std::condition_variable cv;
  bool entered = false, release = false;
  Router router = PackRouter();
  BOOST_REQUIRE(router.Add("GET", "/block", Access::Public(), [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    entered = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return Text("released");
  }));
  BOOST_TEST(testing::CodeOf(router.MarkInline("GET", "/v1/nothing")) == "router.unknown_route");
  // Inline unless the request asks to record, as the API marks GET /v1/verify.
  BOOST_REQUIRE(router.MarkInline(
      "GET", "/v1/verify", [](const HttpRequest& r) { return !r.query.contains("record"); }));
  BOOST_REQUIRE(router.MarkInline("POST", "/v1/echo"));
  ServerConfig config;
  config.threads = 1;
  config.max_queued = 1;
  Front f(config, std::move(router));

  Answer blocked;
  std::thread holder([&] {
    blocked = SendRaw(f.port(), "GET /block HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered; });
  }
  // The one worker is held: of two pooled requests one waits in the queue, the other is
  // answered 503 at once.
  std::vector<Answer> pooled(2);
  int answered = 0;
  std::vector<std::thread> clients;
  for (int i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      Answer a = SendRaw(f.port(), "GET /v1/packs/" + std::to_string(i) +
                                       " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
      std::lock_guard lock(mutex);
      pooled[static_cast<size_t>(i)] = std::move(a);
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return answered >= 1; });
  }
  // Pool saturated: inline routes still answer, with and without a body, keep-alive.
  Poco::Net::HTTPClientSession session("127.0.0.1", f.port());
  session.setKeepAlive(true);
  const Reply verified = Exchange(session, {.target = "/v1/verify?code=x"});
  BOOST_TEST(verified.status == 200);
  BOOST_TEST(verified.body == "verified x");
  const Reply echoed =
      Exchange(session, {.method = "POST", .target = "/v1/echo", .body = "inline body"});
  BOOST_TEST(echoed.status == 200);
  BOOST_TEST(echoed.body == "inline body");
  BOOST_TEST(Exchange(session, {.target = "/healthz"}).status == 200);
  // A request the route's predicate declines goes to the (full) pool like any other.
  const Answer declined =
      SendRaw(f.port(),
              "GET /v1/verify?code=y&record=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(declined.status() == 503, declined.text);
  BOOST_TEST(declined.code() == "unavailable", declined.text);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (auto& c : clients) c.join();
  holder.join();
  BOOST_TEST(blocked.status() == 200, blocked.text);
  // The queued pooled request is answered once the worker is free.
  int busy = 0, served = 0;
  for (const auto& a : pooled) {
    if (a.status() == 503) {
      ++busy;
      BOOST_TEST(a.text.find("\r\nRetry-After: 1\r\n") != std::string::npos, a.text);
    } else {
      BOOST_TEST(a.status() == 200, a.text);
      ++served;
    }
  }
  BOOST_TEST(busy == 1);
  BOOST_TEST(served == 1);
}

BOOST_AUTO_TEST_CASE(expensive_routes_wait_for_their_own_pool_and_healthz_still_answers) {
  std::mutex mutex;
  std::condition_variable cv;
  int entered = 0;
  bool release = false;
  Router router = PackRouter();
  BOOST_REQUIRE(router.Add("GET", "/v1/audit", Access::Public(), [&](const HttpRequest&) {
    std::unique_lock lock(mutex);
    ++entered;
    cv.notify_all();
    cv.wait(lock, [&] { return release; });
    return Text("audited");
  }));
  BOOST_TEST(testing::CodeOf(router.MarkExpensive("GET", "/v1/nothing")) == "router.unknown_route");
  BOOST_REQUIRE(router.MarkExpensive("GET", "/v1/audit"));
  ServerConfig config;
  config.threads = 2;
  config.expensive_threads = 1;
  config.expensive_queued = 1;
  Front f(config, std::move(router));

  const std::string audit = "GET /v1/audit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  Answer first;
  std::thread holder([&] { first = SendRaw(f.port(), audit); });
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return entered == 1; });
  }
  // One audit runs, so of two more one waits and the other finds the queue full.
  std::vector<Answer> answers(2);
  int answered = 0;
  std::vector<std::thread> clients;
  for (size_t i = 0; i < 2; ++i) {
    clients.emplace_back([&, i] {
      Answer a = SendRaw(f.port(), audit);
      std::lock_guard lock(mutex);
      answers[i] = std::move(a);
      ++answered;
      cv.notify_all();
    });
  }
  {
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return answered >= 1; });
  }
  // The workers every other request needs are free while the audits hold their pool.
  Poco::Net::HTTPClientSession session("127.0.0.1", f.port());
  BOOST_TEST(Exchange(session, {.target = "/healthz"}).status == 200);
  BOOST_TEST(Exchange(session, {.target = "/v1/verify?code=x"}).body == "verified x");
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  cv.notify_all();
  for (auto& c : clients) c.join();
  holder.join();
  BOOST_TEST(first.status() == 200, first.text);
  int busy = 0;
  for (const auto& a : answers) {
    if (a.status() == 503) {
      ++busy;
      BOOST_TEST(a.text.find("\r\nRetry-After: 1\r\n") != std::string::npos, a.text);
    } else {
      BOOST_TEST(a.status() == 200, a.text);
    }
  }
  BOOST_TEST(busy == 1);
  BOOST_TEST(
      f.log.str().find("server.busy: every expensive-work thread is busy") != std::string::npos,
      f.log.str());
}

BOOST_AUTO_TEST_CASE(pipelined_requests_are_answered_in_order) {
  Front f;
  // Sent in one write, the body of the POST in the middle included, before any answer.
  const Answer answer =
      SendRaw(f.port(),
              "GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /v1/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\ntwo!"
              "GET /v1/packs/3 HTTP/1.1\r\nHost: x\r\n\r\n"
              "POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              "4\r\nfour\r\n0\r\n\r\n"
              "GET /v1/packs/5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(answer.closed);
  size_t at = 0;
  for (const std::string body : {"pack 1", "two!", "pack 3", "four", "pack 5"}) {
    BOOST_TEST_CONTEXT(body) {
      const size_t status = answer.text.find("HTTP/1.1 200 OK\r\n", at);
      BOOST_REQUIRE(status != std::string::npos);
      const size_t found = answer.text.find("\r\n\r\n" + std::string(body), status);
      BOOST_REQUIRE_MESSAGE(found != std::string::npos, answer.text);
      // Nothing of another response between this status line and its body.
      BOOST_TEST(answer.text.find("HTTP/1.1", status + 1) > found);
      at = found;
    }
  }
}

BOOST_AUTO_TEST_CASE(heads_the_old_parser_repaired_are_refused_with_400_and_close) {
  Front f;
  const std::string next = "GET /v1/packs/smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& head : {
           std::string("GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n"),
           std::string("GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"),
           std::string("GET /v1/packs/1 HTTP/1.1\nHost: x\n\n"),
           std::string("GET /v1/packs/1 HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n"),
           std::string("GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n"),
           std::string("POST /v1/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                       "zz\r\n"),
       }) {
    BOOST_TEST_CONTEXT(head) {
      const Answer answer = SendRaw(f.port(), head + next);
      BOOST_TEST(answer.status() == 400, answer.text);
      BOOST_TEST((answer.code() == "request.bad_framing" || answer.code() == "request.bad_body"),
                 answer.text);
      BOOST_TEST(answer.text.find("\r\nConnection: Close\r\n") != std::string::npos);
      BOOST_TEST(answer.closed);
      BOOST_TEST(answer.text.find("smuggled") == std::string::npos, answer.text);
      BOOST_TEST(answer.text.find("HTTP/1.1 ", 1) == std::string::npos, answer.text);
    }
  }
  // A head over the size limit is 431.
  const Answer big =
      SendRaw(f.port(), "GET /v1/packs/1 HTTP/1.1\r\nX-A: " + std::string(20000, 'a') + "\r\n\r\n");
  BOOST_TEST(big.status() == 431, big.text);
  BOOST_TEST(big.code() == "request.header_too_large", big.text);
}

BOOST_AUTO_TEST_CASE(connections_past_the_per_address_cap_get_503_and_close) {
  ServerConfig config;
  config.max_connections_per_address = 2;
  Front f(config);
  auto first = Connect(f.port());
  auto second = Connect(f.port());
  const Answer third = SendRaw(f.port(), "GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  BOOST_TEST(third.status() == 503, third.text);
  BOOST_TEST(third.text.find("\r\nRetry-After: 1\r\n") != std::string::npos, third.text);
  BOOST_TEST(third.closed);
  // The two below the cap are served.
  SendAll(first, "GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  BOOST_TEST(ReadToClose(first).status() == 200);
}

BOOST_AUTO_TEST_CASE(stop_closes_idle_keep_alive_connections_and_answers_the_one_in_flight) {
  Front f;
  auto idle = Connect(f.port());
  SendAll(idle, "GET /v1/packs/1 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::array<char, 4096> buf;
  BOOST_TEST(idle.receiveBytes(buf.data(), static_cast<int>(buf.size())) > 0);
  f.server->Stop();
  // The keep-alive connection ends (EOF) rather than waiting for its idle timeout.
  const Answer after = ReadToClose(idle);
  BOOST_TEST(after.closed);
  BOOST_TEST(after.text.empty());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace pedigree::services
