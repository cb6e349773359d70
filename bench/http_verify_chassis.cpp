// Overhead of the HTTP chassis on the pharmacy-verify path: N keep-alive clients
// (POCO HTTPClientSession, loopback) hammer a trivial public GET handler. The in-run
// reference is a bare POCO HTTPServer with the same thread pool and a handler that
// writes the same bytes, so the ratio is what routing, decoding, metrics, logging
// and error plumbing cost. With a token, each request also authenticates against
// SQLite. Clients and server share the machine, so absolute figures are pessimistic.
//
// usage: bench_http_verify_chassis [clients=16] [seconds=4] [server_threads=32]
//        bench_http_verify_chassis --serve <seconds>   (chassis only, for wrk)
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/ThreadPool.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "pedigree/http/http_server.h"
#include "pedigree/usecases/auth.h"

namespace {

using Clock = std::chrono::steady_clock;
using pedigree::services::Access;
using pedigree::services::HttpRequest;
using pedigree::services::HttpResponse;
using pedigree::services::HttpServer;
using pedigree::services::Router;
using pedigree::services::ServerConfig;
using pedigree::services::TokenStore;

constexpr const char* kTarget =
    "/v1/verify?code=https%3A%2F%2Fid.gs1.org%2F01%2F09506000134352%2F21%2FABC123";
constexpr const char* kBody = "{\"verdict\":\"active\",\"alerts\":[]}";

struct Figures {
  double requests_per_second = 0;
  double p50_ms = 0, p99_ms = 0;
  uint64_t errors = 0;
};

Figures Drive(uint16_t port, int clients, double seconds, const std::string& authorization) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<uint32_t>> latencies(clients);
  std::vector<uint64_t> errors(clients, 0);
  std::vector<std::thread> threads;
  const auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Poco::Net::HTTPClientSession session("127.0.0.1", port);
      session.setKeepAlive(true);
      std::string body;
      latencies[c].reserve(1 << 18);
      while (!stop.load(std::memory_order_relaxed)) {
        const auto t0 = Clock::now();
        try {
          Poco::Net::HTTPRequest request("GET", kTarget, Poco::Net::HTTPMessage::HTTP_1_1);
          request.setKeepAlive(true);
          if (!authorization.empty()) request.set("Authorization", authorization);
          session.sendRequest(request);
          Poco::Net::HTTPResponse response;
          std::istream& in = session.receiveResponse(response);
          body.clear();
          Poco::StreamCopier::copyToString(in, body);
          if (response.getStatus() != 200) ++errors[c];
        } catch (const std::exception&) {
          ++errors[c];
        }
        latencies[c].push_back(static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<uint32_t> all;
  Figures f;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    f.errors += errors[c];
  }
  if (all.empty()) return f;
  std::sort(all.begin(), all.end());
  f.requests_per_second = static_cast<double>(all.size()) / elapsed;
  f.p50_ms = all[all.size() / 2] / 1000.0;
  f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)] / 1000.0;
  return f;
}

// The reference: POCO alone, same parameters, no chassis.
class BareHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  void handleRequest(Poco::Net::HTTPServerRequest&, Poco::Net::HTTPServerResponse& resp) override {
    resp.setContentType("application/json");
    resp.sendBuffer(kBody, std::char_traits<char>::length(kBody));
  }
};
class BareFactory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new BareHandler;
  }
};

Figures DriveBarePoco(int clients, double seconds, int threads) {
  Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(threads);
  params->setMaxQueued(256);
  params->setKeepAlive(true);
  params->setMaxKeepAliveRequests(0);
  Poco::ThreadPool pool(2, threads);
  Poco::Net::HTTPServer server(new BareFactory, pool, socket, params);
  server.start();
  Figures f = Drive(socket.address().port(), clients, seconds, "");
  server.stopAll(false);
  pool.joinAll();
  return f;
}

Router VerifyRouter() {
  Router router;
  auto verify = [](const HttpRequest& r) {
    HttpResponse out;
    out.body = r.query.contains("code") ? kBody : "{}";
    return out;
  };
  if (!router.Add("GET", "/v1/verify", Access::Public(), verify)) std::abort();
  // As the API marks the real verify (api.cpp): answered on the event loop.
  if (!router.MarkInline("GET", "/v1/verify")) std::abort();
  return router;
}

void Print(const char* name, const Figures& f, const Figures& reference) {
  std::printf(
      "%s throughput: %.0f requests/s (target >= 10000 on 2 cores for the full verify; "
      "reference bare POCO %.0f requests/s = %.2fx)\n",
      name, f.requests_per_second, reference.requests_per_second,
      reference.requests_per_second > 0 ? f.requests_per_second / reference.requests_per_second
                                        : 0.0);
  std::printf(
      "%s p99 latency: %.3f ms (target <= 10 ms; reference bare POCO %.3f ms; p50 %.3f ms)\n", name,
      f.p99_ms, reference.p99_ms, f.p50_ms);
  if (f.errors != 0)
    std::printf("%s errors: %llu\n", name, static_cast<unsigned long long>(f.errors));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "--serve") {
    ServerConfig config;
    config.threads = 64;
    // Every load generator is on loopback: one address, so no per-address cap.
    config.max_connections_per_address = 0;
    auto server = HttpServer::Start(config, VerifyRouter(), nullptr);
    if (!server) {
      std::cerr << server.error().ToString() << "\n";
      return 1;
    }
    std::printf("listening on http://127.0.0.1:%u%s\n", (*server)->port(), kTarget);
    std::fflush(stdout);
    std::this_thread::sleep_for(std::chrono::seconds(std::atoi(argv[2])));
    return 0;
  }
  const int clients = argc > 1 ? std::atoi(argv[1]) : 16;
  const double seconds = argc > 2 ? std::atof(argv[2]) : 4.0;
  const int threads = argc > 3 ? std::atoi(argv[3]) : 32;
  std::printf("clients: %d keep-alive, server threads: %d, %.1f s per run, hardware threads: %u\n",
              clients, threads, seconds, std::thread::hardware_concurrency());

  const Figures bare = DriveBarePoco(clients, seconds, threads);

  ServerConfig config;
  config.threads = static_cast<size_t>(threads);
  std::ostringstream log;  // Logging on, as in production; the stream is in memory.
  config.access_log = &log;
  {
    auto server = HttpServer::Start(config, VerifyRouter(), nullptr);
    if (!server) {
      std::cerr << server.error().ToString() << "\n";
      return 1;
    }
    Print("chassis public GET", Drive((*server)->port(), clients, seconds, ""), bare);
  }

  const auto db = std::filesystem::temp_directory_path() /
                  ("pedigree-bench-tokens-" + std::to_string(::getpid()) + ".db");
  {
    auto store = TokenStore::Open(db.string());
    if (!store) {
      std::cerr << store.error().ToString() << "\n";
      return 1;
    }
    auto token = (*store)->Issue("org-pharmacy", {"dispenser"}, "bench");
    if (!token) return 1;
    Router router;
    if (!router.Add("GET", "/v1/verify", Access::AnyOf({"dispenser"}), [](const HttpRequest&) {
          HttpResponse out;
          out.body = kBody;
          return out;
        })) {
      return 1;
    }
    log.str("");
    auto server = HttpServer::Start(config, std::move(router), store->get());
    if (!server) return 1;
    Print("chassis GET with bearer token",
          Drive((*server)->port(), clients, seconds, "Bearer " + *token), bare);
  }
  std::filesystem::remove(db);
  return 0;
}
