// POST /v1/verify with a 1280x720 photo holding one GS1 DataMatrix pack code: images/s
// across the machine through the whole API (keep-alive clients on loopback, bearer token,
// decode pool, verify), beside the in-run reference: the in-process decode of the same
// photo (LoadImageMemory + DecodeImage with the endpoint's options) on one thread per
// core, so the ratio is what HTTP, the pool and the verdict cost. Target (issue 13):
// >= 100 images/s across the machine. Clients and server share the machine.
//
// usage: bench_http_verify_image [seconds=4] [clients=2 per core]
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "../tests/scanner/synthetic_image.h"
#include "bench_common.h"
#include "pedigree/http/api.h"
#include "pedigree/scanner/image.h"
#include "pedigree/scanner/label.h"
#include "pedigree/usecases/auth.h"
#include "pedigree/usecases/image_scan.h"

using namespace pedigree;
using pedigree::bench::Must;

namespace {

const std::string kGtin = "09506000134352";

// One aimed pack photo, as bench/image_decode.cpp makes them, as JPEG (what a phone sends).
std::string Photo() {
  scanner::synthetic::Rng rng(1);
  auto code = Must(scanner::RenderPackLabel(kGtin, "301231", "L1", "P1", {4, 2}), "label");
  const scanner::Image symbol = scanner::synthetic::Rotate(code, 17);
  scanner::Image scene = scanner::synthetic::ClutteredBackground(1280, 720, rng);
  scanner::synthetic::Paste(scene, symbol, 640 - symbol.width / 2, 360 - symbol.height / 2);
  auto jpeg =
      Must(scanner::EncodeJpeg(
               scanner::synthetic::AddNoise(scanner::synthetic::Blur(scene, 1, 1), 3, rng), 90),
           "encode");
  return std::string(jpeg.begin(), jpeg.end());
}

// Runs `work` on `threads` threads for `seconds`; successes per second of wall time.
// `cpu_ms` gets the process CPU (every thread: clients, HTTP, decoders) per success,
// which the machine's other load does not inflate as it does wall time.
template <typename F>
double Rate(int threads, double seconds, F work, uint64_t& failures, double& cpu_ms) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> ok{0}, failed{0};
  std::vector<std::thread> pool;
  const double cpu_start = bench::ProcessCpuSeconds();
  const bench::Stopwatch watch;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      auto one = work(t);
      while (!stop.load(std::memory_order_relaxed)) (one() ? ok : failed)++;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double wall = watch.seconds();
  failures = failed;
  cpu_ms = ok ? (bench::ProcessCpuSeconds() - cpu_start) * 1e3 / static_cast<double>(ok) : 0;
  return static_cast<double>(ok) / wall;
}

// The 1-minute load average at the end of the run: how shared the machine was.
double LoadAverage() {
  double load[1] = {0};
  return ::getloadavg(load, 1) == 1 ? load[0] : -1;
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 4.0;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int clients = argc > 2 ? std::atoi(argv[2]) : 2 * cores;
  const std::string photo = Photo();

  // Reference: the same bytes decoded in process, one thread per core.
  uint64_t unread = 0;
  double in_process_cpu_ms = 0, over_http_cpu_ms = 0;
  const double in_process = Rate(
      cores, seconds,
      [&](int) {
        return [&] {
          auto image = scanner::LoadImageMemory(AsBytes(photo));
          if (!image) return false;
          auto symbols = scanner::DecodeImage(*image, services::VerifyDecodeOptions());
          return symbols && symbols->size() == 1 && !(*symbols)[0].error;
        };
      },
      unread, in_process_cpu_ms);

  std::string dir = (std::filesystem::temp_directory_path() / "pedigree-bench-image-XXXXXX");
  dir = ::mkdtemp(dir.data());
  double over_http = 0;
  uint64_t refused = 0;
  {
    log::PrivateKey authority = log::PrivateKey::Generate();
    auto node = Must(
        services::SupplyNode::Create(dir + "/l", "example.org/bench-image", authority.public_key()),
        "create");
    log::PrivateKey key = log::PrivateKey::Generate();
    Must(node->HoldKey("mfg", key), "hold key");
    Must(node->RegisterOrg(authority, {"mfg",
                                       "mfg",
                                       {"manufacturer"},
                                       {"9506000"},
                                       {"9506000000008"},
                                       ToBase64(key.public_key().raw())}),
         "register");
    auto as = [&](JsonValue p) { Must(node->SubmitAs("mfg", std::move(p)), "submit"); };
    as(JsonValue::Object().set("kind", "product.register").set("gtin", kGtin).set("name", "X"));
    as(JsonValue::Object()
           .set("kind", "batch.register")
           .set("gtin", kGtin)
           .set("lot", "L1")
           .set("expiry", "2030-12-31")
           .set("quantity", 10));
    auto serials = JsonValue::Array();
    serials.push_back("P1");
    as(JsonValue::Object()
           .set("kind", "commission")
           .set("gtin", kGtin)
           .set("lot", "L1")
           .set("location", "9506000000008")
           .set("serials", serials));
    auto tokens = Must(services::TokenStore::Open(dir + "/tokens.db"), "tokens");
    const std::string token = Must(tokens->Issue("mfg", {"manufacturer"}, "bench"), "token");
    services::Router router;
    Must(services::AddApiRoutes(router, *node), "routes");
    services::ServerConfig config;
    auto server =
        Must(services::HttpServer::Start(config, std::move(router), tokens.get()), "server");
    const uint16_t port = server->port();
    over_http = Rate(
        clients, seconds,
        [&](int) {
          auto session = std::make_shared<Poco::Net::HTTPClientSession>("127.0.0.1", port);
          session->setKeepAlive(true);
          return [session, &photo, &token] {
            Poco::Net::HTTPRequest request("POST", "/v1/verify", Poco::Net::HTTPMessage::HTTP_1_1);
            request.setKeepAlive(true);
            request.set("Authorization", "Bearer " + token);
            request.setContentType("image/jpeg");
            request.setContentLength(static_cast<std::streamsize>(photo.size()));
            try {
              session->sendRequest(request) << photo;
              Poco::Net::HTTPResponse response;
              std::string body;
              Poco::StreamCopier::copyToString(session->receiveResponse(response), body);
              return response.getStatus() == 200 &&
                     body.find("\"verified\":true") != std::string::npos;
            } catch (const std::exception&) {
              return false;
            }
          };
        },
        refused, over_http_cpu_ms);
  }
  std::filesystem::remove_all(dir);

  char reference[300];
  std::snprintf(reference, sizeof reference,
                "in-process decode of the same photo on %d threads %.0f images/s = %.2fx%s; "
                "CPU per image %.1f ms over HTTP (clients included) vs %.1f ms in process; "
                "load %.1f",
                cores, in_process, in_process > 0 ? over_http / in_process : 0.0,
                unread ? " (some decodes missed the code)" : "", over_http_cpu_ms,
                in_process_cpu_ms, LoadAverage());
  bench::Report("POST /v1/verify 1280x720 photo, " + std::to_string(clients) + " clients",
                over_http, "images/s", ">= 100 across the machine", reference, 0);
  if (refused)
    std::printf("refused or not verified: %llu\n", static_cast<unsigned long long>(refused));
  return 0;
}
