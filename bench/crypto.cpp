// Ed25519 and signed-entry throughput, per core and on all cores. The raw Ed25519 verify
// rate measured here is the in-run ceiling that VerifyEntry (parse + canonical check +
// verify) and the sequencer are compared against.
#include <openssl/evp.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "pedigree/base/canonical_json.h"
#include "pedigree/log/envelope.h"
#include "pedigree/log/keys.h"

using namespace pedigree;
using namespace pedigree;
using namespace pedigree::log;

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kSecondsPerRun = 1.0;

// Runs `op(thread, i)` on `threads` threads for about kSecondsPerRun; returns ops/s.
template <typename Op>
double Rate(unsigned threads, Op op) {
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> total{0};
  std::vector<std::thread> pool;
  auto start = Clock::now();
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      uint64_t n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 32; ++k) op(t, n++);
      }
      total += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(kSecondsPerRun));
  stop = true;
  for (auto& th : pool) th.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return static_cast<double>(total.load()) / seconds;
}

// A payload of the size and shape of a pharmacy event, ≈300 canonical bytes.
JsonValue EventPayload(uint64_t i) {
  return JsonValue::Object()
      .set("type", "ObjectEvent")
      .set("action", "OBSERVE")
      .set("bizStep", "urn:epcglobal:cbv:bizstep:dispensing")
      .set("disposition", "urn:epcglobal:cbv:disp:dispensed")
      .set("epcList", JsonValue::Array().push_back("https://id.gs1.org/01/09506000134352/21/" +
                                                   std::to_string(100000000 + i)))
      .set("eventTime", "2026-11-21T05:07:21.000Z")
      .set("readPoint", "urn:epc:id:sgln:4012345.00001.0")
      .set("commandId", "c" + std::to_string(i))
      .set("seq", static_cast<int64_t>(i));
}

bool g_failed = false;

void Print(const char* name, double value, const char* unit, const std::string& target,
           const std::string& reference) {
  std::printf("%s: %.0f %s (target %s; reference %s)\n", name, value, unit, target.c_str(),
              reference.c_str());
}

std::string Format(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  return buf;
}

}  // namespace

int main() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("# bench_crypto: %u hardware threads, %.1f s per figure\n", cores, kSecondsPerRun);

  // 16 organisations, 1024 distinct envelopes, as a sequencer would see them.
  std::vector<PrivateKey> keys;
  for (int i = 0; i < 16; ++i) keys.push_back(PrivateKey::Generate());
  std::vector<std::string> envelopes;
  std::vector<std::string> messages;
  std::vector<Bytes> signatures;
  std::vector<PublicKey> publics;
  size_t payload_bytes = 0, envelope_bytes = 0;
  for (uint64_t i = 0; i < 1024; ++i) {
    const PrivateKey& key = keys[i % keys.size()];
    JsonValue payload = EventPayload(i);
    auto envelope = SignEntry(payload, key, "bench.example/crypto");
    if (!envelope) return 1;
    payload_bytes += Canonicalize(payload).size();
    envelope_bytes += envelope->size();
    envelopes.push_back(std::move(*envelope));
    messages.push_back(std::string(kEntrySignaturePrefixV2) + "bench.example/crypto\n" +
                       Canonicalize(payload));
    signatures.push_back(key.Sign(messages.back()));
    publics.push_back(key.public_key());
  }
  std::printf("# payload %zu bytes, envelope %zu bytes on average\n", payload_bytes / 1024,
              envelope_bytes / 1024);

  const PrivateKey& signer = keys[0];
  double sign1 = Rate(1, [&](unsigned, uint64_t i) { (void)signer.Sign(messages[i & 1023]); });
  double signN = Rate(cores, [&](unsigned, uint64_t i) { (void)signer.Sign(messages[i & 1023]); });
  const auto verify = [&](unsigned, uint64_t i) {
    size_t k = i & 1023;
    if (!publics[k].Verify(messages[k], signatures[k])) g_failed = true;
  };
  // What `openssl speed ed25519` measures: one context initialised once, reused.
  double speed1;
  {
    EVP_PKEY* pkey =
        EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, publics[0].raw().data(), 32);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey);
    speed1 = Rate(1, [&](unsigned, uint64_t i) {
      size_t k = (i & 63) * 16;  // envelopes signed by keys[0]
      if (EVP_DigestVerify(ctx, signatures[k].data(), 64,
                           reinterpret_cast<const unsigned char*>(messages[k].data()),
                           messages[k].size()) != 1)
        g_failed = true;
    });
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
  }
  double verify1 = Rate(1, verify);
  double verifyN = Rate(cores, verify);
  const auto verify_entry = [&](unsigned, uint64_t i) {
    if (!VerifyEntry(envelopes[i & 1023])) g_failed = true;
  };
  double entry1 = Rate(1, verify_entry);
  double entryN = Rate(cores, verify_entry);
  double open1 = Rate(1, [&](unsigned, uint64_t i) {
    if (!OpenEntry(envelopes[i & 1023])) g_failed = true;
  });
  double check1 = Rate(1, [&](unsigned, uint64_t i) {
    if (!CheckCanonical(envelopes[i & 1023])) g_failed = true;
  });

  const std::string ref_note = "shared/reference/ledger-formats.md §5: OpenSSL 3.0 on this machine";
  Print("ed25519 sign (libsodium), 1 thread", sign1, "signatures/s", "none (checkpoints only)",
        ref_note + " ≈27k/s per core");
  Print(("ed25519 sign, " + std::to_string(cores) + " threads").c_str(), signN, "signatures/s",
        "none", ref_note + " ≈27k/s per core");
  Print("ed25519 verify, OpenSSL 3.0 reused EVP context (openssl speed method), 1 thread", speed1,
        "verifications/s", "none (the backend before libsodium)", ref_note + " ≈10k/s per core");
  // PublicKey::Verify is libsodium since 2026-11-21: about twice OpenSSL's best case.
  Print("ed25519 verify (libsodium), 1 thread", verify1, "verifications/s",
        "≥ 1.8 × OpenSSL reused-context rate = " + Format(1.8 * speed1),
        ref_note + " ≈10k/s per core; libsodium ≈21k/s");
  Print(("ed25519 verify, " + std::to_string(cores) + " threads (verification ceiling)").c_str(),
        verifyN, "verifications/s", "≈ 18k/s on 2 cores", ref_note + " ≈10k/s per core");
  Print("VerifyEntry ~300-byte payload, 1 thread", entry1, "entries/s",
        "≥ 0.9 × raw verify = " + Format(0.9 * verify1),
        "raw ed25519 verify in this run " + Format(verify1) + "/s (ratio " +
            std::to_string(entry1 / verify1).substr(0, 4) + ")");
  Print(("VerifyEntry ~300-byte payload, " + std::to_string(cores) + " threads").c_str(), entryN,
        "entries/s", "≥ 0.9 × ceiling = " + Format(0.9 * verifyN),
        "verification ceiling in this run " + Format(verifyN) + "/s (ratio " +
            std::to_string(entryN / verifyN).substr(0, 4) + ")");
  Print("OpenEntry ~300-byte payload, 1 thread", open1, "entries/s", "≈ VerifyEntry",
        "VerifyEntry in this run " + Format(entry1) + "/s");
  Print("CheckCanonical of a ~490-byte envelope, 1 thread", check1, "documents/s",
        "≥ 10 × raw verify = " + Format(10 * verify1),
        "raw ed25519 verify in this run " + Format(verify1) + "/s");
  if (g_failed) {
    std::printf("ERROR: a verification failed during the benchmark\n");
    return 1;
  }
  return 0;
}
