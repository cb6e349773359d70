// EPCIS query by EPC over HTTP: p99 of GET /v1/epcis/epcs/{epc}/events on a log of --events
// entries (default 10^6): target <= 10 ms. The log is built in-process through a SupplyNode
// (commissions of one serial each from 16 threads, so the group commit batches them), then the
// measured pack is commissioned, shipped, received and dispensed. One keep-alive client asks
// for the pack's events (regulator token) --requests times. In-run references, same session
// and server: p99 of GET /healthz, and the in-process ExportEpcisHistory of the same pack.
//
// usage: bench_epcis_query [--events N] [--requests R]
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "pedigree/http/api.h"
#include "pedigree/provenance/identifiers.h"
#include "pedigree/usecases/supply_node.h"
#include "pedigree/usecases/token_grants.h"

namespace {

namespace fs = std::filesystem;
using namespace pedigree;
using namespace pedigree::services;
using pedigree::JsonValue;
using pedigree::bench::Must;
using pedigree::bench::Stopwatch;

std::string WithCheckDigit(const std::string& body) {
  return body + std::to_string(provenance::Gs1CheckDigit(body));
}
std::string Gln(const std::string& prefix) {
  return WithCheckDigit(prefix + std::string(12 - prefix.size(), '0'));
}

struct Latency {
  double p50_ms = 0, p99_ms = 0;
  size_t bytes = 0;
};

// `requests` sequential GETs of `target` on one keep-alive session; every answer must be 200.
Latency Measure(Poco::Net::HTTPClientSession& session, const std::string& target,
                const std::string& authorization, int requests) {
  std::vector<double> ms;
  ms.reserve(requests);
  std::string body;
  for (int i = 0; i < requests; ++i) {
    Stopwatch sw;
    Poco::Net::HTTPRequest request("GET", target, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (!authorization.empty()) request.set("Authorization", authorization);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    body.clear();
    Poco::StreamCopier::copyToString(in, body);
    ms.push_back(sw.seconds() * 1e3);
    if (response.getStatus() != 200) {
      std::fprintf(stderr, "bench_epcis_query: %s answered %d: %s\n", target.c_str(),
                   static_cast<int>(response.getStatus()), body.substr(0, 300).c_str());
      std::exit(1);
    }
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], body.size()};
}

}  // namespace

int main(int argc, char** argv) {
  int64_t events = 1'000'000;
  int requests = 2000;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc ||
        (std::strcmp(argv[i], "--events") != 0 && std::strcmp(argv[i], "--requests") != 0)) {
      std::fprintf(stderr,
                   "usage: bench_epcis_query [--events N (default 1000000)] "
                   "[--requests R (default 2000)]\n");
      return 2;
    }
    if (std::strcmp(argv[i], "--events") == 0) events = std::atoll(argv[i + 1]);
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::atoi(argv[i + 1]);
  }
  const fs::path dir =
      fs::temp_directory_path() / ("pedigree-bench-epcis-query-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto authority = log::PrivateKey::Generate();
  auto node = Must(SupplyNode::Create((dir / "ledger").string(), "bench.example/epcis-query",
                                      authority.public_key()),
                   "create");
  struct Org {
    const char *id, *role, *prefix;
  };
  const Org orgs[] = {{"maker", "manufacturer", "9506001"},
                      {"ph", "dispenser", "4012345"},
                      {"reg", "regulator", "4012399"}};
  for (const Org& o : orgs) {
    auto key = log::PrivateKey::Generate();
    Must(node->HoldKey(o.id, key), "hold key");
    Must(node->RegisterOrg(
             authority,
             {o.id, o.id, {o.role}, {o.prefix}, {Gln(o.prefix)}, ToBase64(key.public_key().raw())}),
         "register org");
  }
  const std::string gtin = WithCheckDigit("0950600100001"), lot = "Q1";
  Must(node->SubmitAs("maker", JsonValue::Object()
                                   .set("kind", "product.register")
                                   .set("gtin", gtin)
                                   .set("name", "Querymab")),
       "product");
  Must(node->SubmitAs("maker", JsonValue::Object()
                                   .set("kind", "batch.register")
                                   .set("gtin", gtin)
                                   .set("lot", lot)
                                   .set("expiry", "2029-12-31")
                                   .set("quantity", events + 10)),
       "batch");

  // The crowd: one commission entry per pack, from 16 threads.
  Stopwatch build;
  std::atomic<int64_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int64_t i = next++; i < events; i = next++) {
        Must(node->SubmitAs("maker", JsonValue::Object()
                                         .set("kind", "commission")
                                         .set("gtin", gtin)
                                         .set("lot", lot)
                                         .set("location", Gln("9506001"))
                                         .set("serials", JsonValue::Array().push_back(
                                                             "C" + std::to_string(i)))),
             "commission");
        if (i > 0 && i % 100'000 == 0) {
          std::printf("# %lld entries, %.0f s\n", static_cast<long long>(i), build.seconds());
          std::fflush(stdout);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  // The measured pack: four events.
  const std::string pack = "https://id.gs1.org/01/" + gtin + "/21/P1";
  Must(node->SubmitAs("maker", JsonValue::Object()
                                   .set("kind", "commission")
                                   .set("gtin", gtin)
                                   .set("lot", lot)
                                   .set("location", Gln("9506001"))
                                   .set("serials", JsonValue::Array().push_back("P1"))),
       "commission P1");
  Must(node->SubmitAs("maker", JsonValue::Object()
                                   .set("kind", "ship")
                                   .set("epcs", JsonValue::Array().push_back(pack))
                                   .set("to", "ph")
                                   .set("toLocation", Gln("4012345"))
                                   .set("despatchAdvice", "DA-P1")),
       "ship");
  Must(node->SubmitAs("ph", JsonValue::Object()
                                .set("kind", "receive")
                                .set("from", "maker")
                                .set("despatchAdvice", "DA-P1")
                                .set("location", Gln("4012345"))),
       "receive");
  Must(node->SubmitAs("ph", JsonValue::Object()
                                .set("kind", "decommission")
                                .set("epcs", JsonValue::Array().push_back(pack))
                                .set("status", "supplied")
                                .set("location", Gln("4012345"))),
       "dispense");
  std::printf("# log of %llu entries built in %.0f s\n",
              static_cast<unsigned long long>(node->ledger().size()), build.seconds());
  std::fflush(stdout);

  auto tokens = Must(TokenStore::Open((dir / "tokens.db").string()), "tokens");
  const std::string token = Must(tokens->Issue("reg", {"regulator"}, "bench"), "token");
  Router router;
  Must(AddApiRoutes(router, *node, ApiOptions{Gln("4012399")}), "routes");
  ServerConfig config;
  config.threads = 2;
  config.granted_roles = RegistryGrants(*node, "");
  auto server = Must(HttpServer::Start(config, std::move(router), tokens.get()), "server");
  Poco::Net::HTTPClientSession session("127.0.0.1", server->port());
  session.setKeepAlive(true);

  const std::string target = "/v1/epcis/epcs/" + provenance::PercentEncode(pack) + "/events";
  (void)Measure(session, target, "Bearer " + token, 50);  // warm the page cache
  // Interleaved rounds, so load from other processes weighs on both figures alike.
  std::vector<double> query_ms, health_ms;
  Latency query, health;
  double query_cpu_s = 0;
  for (int round = 0; round < 4; ++round) {
    const double cpu0 = bench::ProcessCpuSeconds();
    query = Measure(session, target, "Bearer " + token, requests / 4);
    query_cpu_s += bench::ProcessCpuSeconds() - cpu0;
    health = Measure(session, "/healthz", "", requests / 4);
    query_ms.push_back(query.p99_ms);
    health_ms.push_back(health.p99_ms);
  }
  std::sort(query_ms.begin(), query_ms.end());
  std::sort(health_ms.begin(), health_ms.end());
  const double q99 = query_ms[query_ms.size() / 2], h99 = health_ms[health_ms.size() / 2];

  Stopwatch export_time;
  const int kExports = 200;
  for (int i = 0; i < kExports; ++i) {
    Must(ExportEpcisHistory(node->ledger(), pack, node->Now()), "export");
  }
  const double export_ms = export_time.seconds() * 1e3 / kExports;

  // CPU per query (server and client threads of this process): what the machine's load
  // does not inflate, unlike the wall-clock tail on a shared machine.
  std::printf("# answer %zu bytes; query p50 %.3f ms; %.0f us CPU per query (client included)\n",
              query.bytes, query.p50_ms, query_cpu_s * 1e6 / (requests / 4 * 4));
  char ref[200];
  std::snprintf(ref, sizeof ref,
                "GET /healthz p99 %.3f ms (ratio %.1f); in-process export of the pack %.3f ms", h99,
                q99 / std::max(h99, 1e-6), export_ms);
  bench::Report("GET /v1/epcis/epcs/{epc}/events p99 at " + std::to_string(node->ledger().size()) +
                    " entries (median of 4 rounds)",
                q99, "ms", "<= 10 ms", ref, 3);
  server.reset();
  node.reset();
  fs::remove_all(dir);
  return 0;
}
