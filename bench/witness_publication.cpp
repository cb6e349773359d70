// Checkpoint publication with three loopback witnesses (issue 14: p99 <= 50 ms from "log
// grew" to "quorum cosignatures merged"). A real ledger (SQLite, fsync) appends one entry;
// the clock starts; WitnessClient::RunRound signs the checkpoint, posts add-checkpoint to
// three witnesses served by the HTTP chassis on loopback (each verifies, signs and commits
// with fsync), verifies and merges their cosignatures into the stored note and evaluates
// the 2-of-3 quorum; the clock stops. In-run reference, interleaved with the rounds:
// Ledger::SignCheckpoint alone after the same one-entry growth (the log's own cost of
// publishing without witnesses), so the ratio shows what witnessing adds.
//
// usage: bench_witness_publication [rounds=300]
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "bench_common.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/http/http_server.h"
#include "pedigree/http/witness_client.h"
#include "pedigree/http/witness_server.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/policy.h"
#include "pedigree/log/witness.h"

namespace {

using namespace pedigree;
using bench::Must;
using bench::Stopwatch;

struct Percentiles {
  double p50_ms = 0, p99_ms = 0;
};

Percentiles Of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

}  // namespace

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? std::atoi(argv[1]) : 300;
  if (rounds <= 0) {
    std::fprintf(stderr, "usage: bench_witness_publication [rounds]\n");
    return 2;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("pedigree-bench-publication-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto ledger =
      Must(log::Ledger::Create((dir / "node").string(), "example.org/bench-node"), "ledger");
  const log::PrivateKey author = log::PrivateKey::Generate();
  int appended = 0;
  auto grow = [&] {
    auto payload = JsonValue::Object();
    payload.set("kind", JsonValue(std::string("bench")));
    payload.set("n", JsonValue(static_cast<int64_t>(appended++)));
    Must(ledger->Append(Must(log::SignEntry(payload, author, ledger->origin()), "sign entry")),
         "append");
  };

  struct Served {
    std::unique_ptr<log::Witness> witness;
    std::unique_ptr<services::HttpServer> server;
  };
  std::vector<Served> witnesses;
  std::string policy_text = "log " + ledger->VerifierKey() + "\n";
  for (int i = 1; i <= 3; ++i) {
    const std::string wdir = (dir / ("w" + std::to_string(i))).string();
    const std::string vkey =
        Must(log::Witness::Init(wdir, "witness.example/w" + std::to_string(i)), "witness init");
    Served s;
    s.witness = Must(
        log::Witness::Open(wdir, {Must(log::ParseWitnessedLog(ledger->VerifierKey()), "log key")}),
        "witness open");
    services::Router router;
    Must(services::AddWitnessRoutes(router, *s.witness), "routes");
    s.server = Must(services::HttpServer::Start({}, std::move(router), nullptr), "server");
    policy_text += "witness w" + std::to_string(i) + " " + vkey +
                   " http://127.0.0.1:" + std::to_string(s.server->port()) + "\n";
    witnesses.push_back(std::move(s));
  }
  policy_text += "group two-of-three 2 w1 w2 w3\nquorum two-of-three\n";
  services::WitnessClientOptions options;
  options.policy = Must(log::ParsePolicy(policy_text), "policy");
  options.background = false;
  auto client = Must(services::WitnessClient::Start(*ledger, std::move(options)), "client");

  // Warm-up: the witnesses' first cosignature (old 0) and the connections' first use.
  for (int i = 0; i < 5; ++i) {
    grow();
    if (!Must(client->RunRound(), "round")) {
      std::fprintf(stderr, "bench_witness_publication: warm-up round missed the quorum\n");
      return 1;
    }
  }
  std::vector<double> publish_ms, sign_ms;
  for (int r = 0; r < rounds; ++r) {
    grow();
    {
      Stopwatch clock;
      const bool met = Must(client->RunRound(), "round");
      publish_ms.push_back(clock.seconds() * 1e3);
      if (!met) {
        std::fprintf(stderr, "bench_witness_publication: round %d missed the quorum\n", r);
        return 1;
      }
    }
    grow();
    {
      Stopwatch clock;
      Must(ledger->SignCheckpoint(), "sign checkpoint");
      sign_ms.push_back(clock.seconds() * 1e3);
    }
  }
  // Every witness cosigned every round (none fell behind and was skipped).
  for (const auto& w : client->Witnesses()) {
    if (!w.last_error.empty()) {
      std::fprintf(stderr, "bench_witness_publication: %s: %s\n", w.name.c_str(),
                   w.last_error.c_str());
      return 1;
    }
  }
  const Percentiles publish = Of(publish_ms), sign = Of(sign_ms);
  std::printf(
      "# %d rounds, one entry appended before each; 3 witnesses on loopback, quorum 2 of 3\n",
      rounds);
  char reference[256];
  std::snprintf(reference, sizeof reference,
                "Ledger::SignCheckpoint alone p99 %.2f ms (p50 %.2f ms) = %.1fx", sign.p99_ms,
                sign.p50_ms, publish.p99_ms / sign.p99_ms);
  bench::Report("checkpoint publication with 3 witnesses, p99", publish.p99_ms, "ms", "<= 50 ms",
                reference, 2);
  char p50_reference[128];
  std::snprintf(p50_reference, sizeof p50_reference, "SignCheckpoint alone p50 %.2f ms = %.1fx",
                sign.p50_ms, publish.p50_ms / sign.p50_ms);
  bench::Report("checkpoint publication with 3 witnesses, p50", publish.p50_ms, "ms", "none",
                p50_reference, 2);
  client.reset();
  witnesses.clear();
  ledger.reset();
  std::filesystem::remove_all(dir);
  return 0;
}
