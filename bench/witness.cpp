// Throughput of the C2SP tlog-witness (issue 14: >= 2,000 add-checkpoint requests/s on this
// machine). Each client thread is one log (its own origin and key) that grows by one leaf per
// request, so every request is a real cosignature: "old N", a consistency proof N -> N+1, the
// signed checkpoint; the witness verifies the log's signature and the proof, signs, and
// commits state and evidence with fsync (synchronous=FULL) before answering. The bodies are
// built before the clock starts, so the figure is the witness's cost alone.
//
// Figures, measured in interleaved rounds (best of 3 each) so that other load on the
// machine hits them alike:
//   - add-checkpoint over loopback HTTP, keep-alive, N client threads;
//   - in-run reference: GET /healthz on the same server at the same concurrency (the
//     chassis's own cost: the ratio is what the witness adds);
//   - in-run reference: Witness::AddCheckpoint in process on N threads (no HTTP: the ratio
//     is what HTTP adds).
//
// usage: bench_witness [clients=8] [requests per client per round=250]
#include "pedigree/log/witness.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/witness_server.h"
#include "pedigree/log/compact_range.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/merkle.h"
#include "pedigree/log/note.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/storage.h"

namespace {

using namespace pedigree;
using bench::Must;
using bench::Stopwatch;

// A log that grows one leaf at a time and writes the add-checkpoint body of each step.
class GrowingLog {
 public:
  explicit GrowingLog(std::string origin)
      : signer_(std::move(origin), log::PrivateKey::Generate()) {}

  std::string vkey() const { return signer_.VerifierKey(); }

  // The body taking a witness from the current size to size + 1.
  std::string NextBody() {
    const uint64_t old = range_.size();
    const std::string leaf = signer_.name() + " entry " + std::to_string(old);
    std::vector<log::StoredHash> hashes;
    range_.Append(log::LeafHash(leaf), &hashes);
    Must(storage_.Append(old, {&leaf, 1}, {}, hashes), "append");
    std::vector<Hash> proof;
    if (old > 0) proof = Must(log::ConsistencyProof(old, old + 1, storage_), "proof");
    const std::string note =
        log::SignNote(log::FormatCheckpoint({signer_.name(), old + 1, range_.Root()}), signer_);
    return log::FormatAddCheckpoint(old, proof, note);
  }

 private:
  log::NoteSigner signer_;
  log::CompactRange range_;
  log::MemoryStorage storage_;
};

// Runs `clients` threads, thread c calling work(c, i) for i in [0, n); returns calls/s.
template <typename F>
double Rate(int clients, int n, F&& work) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  Stopwatch clock;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (int i = 0; i < n; ++i) {
        if (!work(c, i)) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  const double seconds = clock.seconds();
  if (failures.load() != 0) {
    std::fprintf(stderr, "bench_witness: %d requests failed\n", failures.load());
    std::exit(1);
  }
  return clients * n / seconds;
}

// One keep-alive request; true when the status is 200.
bool Exchange(Poco::Net::HTTPClientSession& session, const std::string& method,
              const std::string& path, const std::string& body, std::string& answer) {
  try {
    Poco::Net::HTTPRequest request(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    request.setKeepAlive(true);
    if (method == "POST") {
      request.setContentType("text/plain");
      request.setContentLength(static_cast<std::streamsize>(body.size()));
      session.sendRequest(request) << body;
    } else {
      session.sendRequest(request);
    }
    Poco::Net::HTTPResponse response;
    std::istream& in = session.receiveResponse(response);
    answer.clear();
    Poco::StreamCopier::copyToString(in, answer);
    if (response.getStatus() != 200) {
      std::fprintf(stderr, "%s %s: %d %s\n", method.c_str(), path.c_str(),
                   static_cast<int>(response.getStatus()), answer.c_str());
      return false;
    }
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s %s: %s\n", method.c_str(), path.c_str(), e.what());
    return false;
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int clients = argc > 1 ? std::atoi(argv[1]) : 8;
  const int per_round = argc > 2 ? std::atoi(argv[2]) : 250;
  constexpr int kRounds = 3;
  if (clients <= 0 || per_round <= 0) {
    std::fprintf(stderr, "usage: bench_witness [clients] [requests per client per round]\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pedigree-bench-witness-" + std::to_string(::getpid()));
  Must(log::Witness::Init((dir / "w").string(), "witness.example/bench"), "witness init");

  // One log per client; every body of every round built up front (each round consumes the
  // next per_round bodies of each log, in process and over HTTP alike).
  std::vector<std::unique_ptr<GrowingLog>> logs;  // MemoryStorage does not move
  std::vector<log::WitnessedLog> witnessed;
  for (int c = 0; c < clients; ++c) {
    logs.push_back(std::make_unique<GrowingLog>("example.org/bench-log-" + std::to_string(c)));
    witnessed.push_back(Must(log::ParseWitnessedLog(logs.back()->vkey()), "log key"));
  }
  std::vector<std::vector<std::string>> bodies(clients);
  Stopwatch setup;
  for (int c = 0; c < clients; ++c) {
    for (int i = 0; i < 2 * kRounds * per_round; ++i) bodies[c].push_back(logs[c]->NextBody());
  }
  auto witness = Must(log::Witness::Open((dir / "w").string(), witnessed), "witness open");
  services::Router router;
  Must(services::AddWitnessRoutes(router, *witness), "routes");
  services::ServerConfig config;
  config.threads = static_cast<size_t>(clients) + 8;
  auto server = Must(services::HttpServer::Start(config, std::move(router), nullptr), "server");
  std::printf(
      "# %d client threads (one log each), %d requests per client per round, best of %d "
      "interleaved rounds; %u hardware threads; setup %.1f s\n",
      clients, per_round, kRounds, std::thread::hardware_concurrency(), setup.seconds());

  std::vector<size_t> next(clients, 0);  // each log's next body
  double best_http = 0, best_health = 0, best_inproc = 0;
  for (int round = 0; round < kRounds; ++round) {
    const double inproc = Rate(clients, per_round, [&](int c, int) {
      auto out = witness->AddCheckpoint(bodies[c][next[c]++]);
      if (!out.cosignature)
        std::fprintf(stderr, "%s\n", out.cosignature.error().ToString().c_str());
      return out.cosignature.has_value();
    });
    std::vector<std::unique_ptr<Poco::Net::HTTPClientSession>> sessions;
    for (int c = 0; c < clients; ++c) {
      sessions.push_back(
          std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", server->port()));
      sessions.back()->setKeepAlive(true);
    }
    std::vector<std::string> answers(clients);
    const double http = Rate(clients, per_round, [&](int c, int) {
      return Exchange(*sessions[c], "POST", "/add-checkpoint", bodies[c][next[c]++], answers[c]);
    });
    const double health = Rate(clients, per_round, [&](int c, int) {
      return Exchange(*sessions[c], "GET", "/healthz", "", answers[c]);
    });
    std::printf("# round %d: HTTP add-checkpoint %.0f/s, GET /healthz %.0f/s, in-process %.0f/s\n",
                round + 1, http, health, inproc);
    best_http = std::max(best_http, http);
    best_health = std::max(best_health, health);
    best_inproc = std::max(best_inproc, inproc);
  }
  const auto evidence = Must(witness->Evidence(), "evidence");
  const size_t expected = static_cast<size_t>(clients) * 2 * kRounds * per_round;
  if (evidence.size() != expected) {
    std::fprintf(stderr, "bench_witness: %zu evidence rows, expected %zu\n", evidence.size(),
                 expected);
    return 1;
  }
  char reference[256];
  std::snprintf(reference, sizeof reference,
                "GET /healthz on the same chassis %.0f/s = %.2fx; in-process "
                "Witness::AddCheckpoint %.0f/s = %.2fx",
                best_health, best_http / best_health, best_inproc, best_http / best_inproc);
  bench::Report("witness add-checkpoint over HTTP (" + std::to_string(clients) + " clients)",
                best_http, "requests/s", ">= 2000", reference, 0);
  server.reset();
  witness.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
