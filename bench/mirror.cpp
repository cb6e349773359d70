// Mirror catch-up benchmark: the rate at which a fresh log::Replica copies a log of N signed
// entries (16 entry bundles of 256 per batch, read from the node's storage, each leaf's signature
// verified, each bundle's root proved against the log's checkpoint, committed durably), against the
// rate of Ledger::Audit over the same log (which also recomputes every hash and verifies every
// signature), measured in the same run, interleaved round by round so that the machine's load
// weighs on both alike. Reported as a ratio (issue 14 target: >= 0.9). The replica is driven
// through Replica::AppendBatches, the pipelined path `mirror sync` takes. Each round also
// prints both sides' CPU per entry (all threads): on a shared machine it shows whether one
// side does more work when the wall-clock ratio swings with other processes' load.
// Not measured here: HTTP transfer (`mirror sync` fetches the same bundles over the node's
// API) and the provenance rules (a plain log: the audit does not replay them either).
// Usage: bench_mirror [--entries N (default 1000000)] [--rounds R (default 3)]
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <future>
#include <string>
#include <vector>

#include "bench_common.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/ledger.h"
#include "pedigree/log/proof.h"
#include "pedigree/log/replica.h"
#include "pedigree/log/tiles.h"

using namespace pedigree;
using namespace pedigree::log;
using bench::Must;
using bench::Stopwatch;

namespace {

constexpr const char* kOrigin = "bench.example/mirrored";

// Appends `count` signed entries (signed on all cores, 16 k in flight).
void Fill(Ledger& node, uint64_t count) {
  PrivateKey author = PrivateKey::Generate();
  std::deque<std::future<Result<uint64_t>>> inflight;
  for (uint64_t i = 0; i < count; ++i) {
    auto payload = JsonValue::Object();
    payload.set("kind", JsonValue(std::string("bench")));
    payload.set("n", JsonValue(static_cast<int64_t>(i)));
    payload.set("pad", JsonValue(std::string(160, 'p')));
    inflight.push_back(node.Submit(Must(SignEntry(payload, author, kOrigin), "sign")));
    if (inflight.size() >= 16384) {
      Must(inflight.front().get(), "append");
      inflight.pop_front();
    }
  }
  while (!inflight.empty()) {
    Must(inflight.front().get(), "append");
    inflight.pop_front();
  }
}

// A rate, and the CPU it cost (all threads, µs per entry): on a loaded machine the CPU cost
// says whether one side does more work, which wall-clock rates cannot.
struct Rate {
  double per_second = 0;
  double cpu_us = 0;
};

// A fresh replica catches up with `node` up to `checkpoint`.
Rate CatchUp(Ledger& node, const StoredCheckpoint& checkpoint, const std::string& dir) {
  std::filesystem::remove_all(dir);
  auto replica = Must(Replica::Create(dir, "bench.example/mirror", node.VerifierKey()), "replica");
  const double cpu = bench::ProcessCpuSeconds();
  Stopwatch watch;
  // As `mirror sync` fetches and commits: 16 bundles of 256 per batch, through the same
  // pipelined Replica::AppendBatches.
  auto fetch = [&](uint64_t at) -> Result<ReplicaBatch> {
    const uint64_t end = std::min<uint64_t>(at + 16 * kTileWidth, checkpoint.size);
    ReplicaBatch batch;
    batch.leaves = Must(node.storage().ReadEntries(at, end), "read bundle");
    if (end < checkpoint.size) {
      batch.proof = Must(node.ProveConsistency(end, checkpoint.size), "proof");
    }
    return batch;
  };
  auto appended = Must(replica->AppendBatches(checkpoint.note, fetch), "append batches");
  const double seconds = watch.seconds();
  const double cpu_seconds = bench::ProcessCpuSeconds() - cpu;
  if (appended.size != checkpoint.size || !appended.cosigned_note) {
    std::fprintf(stderr, "the replica stopped at %llu of %llu entries\n",
                 static_cast<unsigned long long>(appended.size),
                 static_cast<unsigned long long>(checkpoint.size));
    std::exit(1);
  }
  if (replica->root() != checkpoint.root) {
    std::fprintf(stderr, "replica root differs from the checkpoint's\n");
    std::exit(1);
  }
  const auto n = static_cast<double>(checkpoint.size);
  return Rate{n / seconds, cpu_seconds * 1e6 / n};
}

Rate AuditRate(Ledger& node) {
  const double cpu = bench::ProcessCpuSeconds();
  Stopwatch watch;
  auto report = Must(node.Audit(), "audit");
  const double seconds = watch.seconds();
  const double cpu_seconds = bench::ProcessCpuSeconds() - cpu;
  if (!report.ok()) bench::Die("audit", *report.problem);
  const auto n = static_cast<double>(report.size);
  return Rate{n / seconds, cpu_seconds * 1e6 / n};
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t entries = 1'000'000;
  int rounds = 3;
  // Anything but the two options (e.g. --help) prints the usage instead of starting the
  // default 10^6-entry run, which takes minutes.
  for (int i = 1; i < argc; i += 2) {
    const bool known =
        std::strcmp(argv[i], "--entries") == 0 || std::strcmp(argv[i], "--rounds") == 0;
    if (!known || i + 1 >= argc || !std::isdigit(static_cast<unsigned char>(argv[i + 1][0]))) {
      std::fprintf(stderr, "usage: bench_mirror [--entries N (default 1000000)] [--rounds R]\n");
      return 2;
    }
    if (std::strcmp(argv[i], "--entries") == 0) entries = std::stoull(argv[i + 1]);
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::max(1, std::stoi(argv[i + 1]));
  }
  const std::string tmp =
      (std::filesystem::temp_directory_path() / ("bench_mirror." + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(tmp);
  {
    auto node = Must(Ledger::Create(tmp + "/node", kOrigin), "create node");
    Stopwatch fill;
    Fill(*node, entries);
    std::printf("# %llu entries appended in %.1f s\n", static_cast<unsigned long long>(entries),
                fill.seconds());
    std::fflush(stdout);
    const StoredCheckpoint checkpoint = Must(node->SignCheckpoint(), "checkpoint");
    // The ratio is taken per round (audit and catch-up back to back), then the median of the
    // rounds' ratios: load that comes and goes weighs on both sides of each pair alike.
    std::vector<double> audit, mirror, ratio;
    for (int r = 0; r < rounds; ++r) {
      const Rate a = AuditRate(*node);
      const Rate m = CatchUp(*node, checkpoint, tmp + "/mirror");
      audit.push_back(a.per_second);
      mirror.push_back(m.per_second);
      ratio.push_back(m.per_second / a.per_second);
      std::printf(
          "# round %d: audit %.0f entries/s (%.1f us CPU/entry), mirror catch-up %.0f entries/s "
          "(%.1f us CPU/entry), ratio %.2f\n",
          r + 1, a.per_second, a.cpu_us, m.per_second, m.cpu_us, ratio.back());
      std::fflush(stdout);
    }
    const std::string n = std::to_string(entries);
    bench::Report("audit rate (" + n + " entries, median of " + std::to_string(rounds) + ")",
                  Median(audit), "entries/s", "-", "the mirror's reference", 0);
    bench::Report("mirror catch-up rate (" + n + " entries, batches of 16 bundles, no HTTP)",
                  Median(mirror), "entries/s", "-", "audit rate above", 0);
    bench::Report("mirror catch-up / audit (median of the rounds' ratios)", Median(ratio), "x",
                  ">= 0.9", "audit rate of the same log in the same round", 2);
  }
  std::filesystem::remove_all(tmp);
  return 0;
}
