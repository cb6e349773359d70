// Signed entries verified + sequenced + durably committed, against the Ed25519
// verification ceiling measured in the same run on all cores.
// Usage: bench_sequencing [entries=60000]
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"
#include "pedigree/log/ledger.h"

using namespace pedigree;
using namespace pedigree;
using namespace pedigree::log;

namespace {

// ≈300-byte payload shaped like a dispense event.
JsonValue Payload(size_t i) {
  auto p = JsonValue::Object();
  p.set("type", JsonValue(std::string("ObjectEvent")));
  p.set("action", JsonValue(std::string("OBSERVE")));
  p.set("bizStep", JsonValue(std::string("urn:epcglobal:cbv:bizstep:dispensing")));
  p.set("disposition", JsonValue(std::string("urn:epcglobal:cbv:disp:dispensed")));
  p.set("epc",
        JsonValue("https://id.gs1.org/01/09506000134352/21/SN" + std::to_string(100000000 + i)));
  p.set("eventTime", JsonValue(std::string("2026-11-21T10:15:30Z")));
  p.set("bizLocation", JsonValue(std::string("urn:epc:id:sgln:4012345.00001.0")));
  p.set("clientId", JsonValue("bench-" + std::to_string(i)));
  p.set("seq", JsonValue(static_cast<int64_t>(i)));
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  size_t n = argc > 1 ? std::stoul(argv[1]) : 60000;
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());

  // Clients sign before they submit; that cost is theirs, not the ledger's.
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 64; ++i) keys.push_back(PrivateKey::Generate());
  std::vector<std::string> envelopes;
  envelopes.reserve(n);
  size_t payload_bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    JsonValue payload = Payload(i);
    payload_bytes += Canonicalize(payload).size();
    envelopes.push_back(
        SignEntry(payload, keys[i % keys.size()], "bench.example/sequencing").value());
  }

  // Ceiling: VerifyEntry alone, every core busy.
  const double cpu0 = bench::ProcessCpuSeconds();
  bench::Stopwatch verify_clock;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < cores; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < n; i += cores) {
        if (!VerifyEntry(envelopes[i])) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  double ceiling = n / verify_clock.seconds();
  const double ceiling_cpu = (bench::ProcessCpuSeconds() - cpu0) * 1e6 / static_cast<double>(n);

  auto dir =
      std::filesystem::temp_directory_path() / ("pedigree-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto ledger = Ledger::Create(dir.string(), "bench.example/sequencing").value();
  const double cpu1 = bench::ProcessCpuSeconds();
  bench::Stopwatch seq_clock;
  std::vector<std::future<Result<uint64_t>>> pending;
  pending.reserve(n);
  for (size_t i = 0; i < n; ++i) pending.push_back(ledger->Submit(envelopes[i]));
  for (auto& f : pending) {
    if (!f.get()) std::abort();
  }
  double rate = n / seq_clock.seconds();
  const double seq_cpu = (bench::ProcessCpuSeconds() - cpu1) * 1e6 / static_cast<double>(n);
  uint64_t db_bytes = 0;
  for (auto& f : std::filesystem::directory_iterator(dir)) db_bytes += f.file_size();
  ledger.reset();
  std::filesystem::remove_all(dir);

  std::printf("# %zu signed entries, mean payload %zu bytes, %u cores\n", n, payload_bytes / n,
              cores);
  std::printf("# CPU per entry (all threads): ceiling %.1f µs, sequencing %.1f µs; ratio %.2f\n",
              ceiling_cpu, seq_cpu, ceiling_cpu / seq_cpu);
  bench::Report("ed25519 verify ceiling (all cores)", ceiling, "entries/s", "-",
                "OpenSSL ≈10k/s per core on this machine class");
  bench::Report("signed entries sequenced + durably committed", rate, "entries/s",
                ">= 0.9 x ceiling = " + std::to_string(static_cast<int>(0.9 * ceiling)),
                "ceiling " + std::to_string(static_cast<int>(ceiling)) +
                    "/s; Fabric 3.5k tps, Tessera 10k/s");
  bench::Report("ratio sequenced / ceiling", rate / ceiling, "x", ">= 0.9", "1.0 = signature bound",
                /*decimals=*/2);
  bench::Report("storage per entry (db + wal)", static_cast<double>(db_bytes) / n, "bytes",
                "<= 1024", "payload alone " + std::to_string(payload_bytes / n) + " bytes");
  return 0;
}
